"""Diagnostic kind: sdmetrics' DiagnosticReport (Data Validity, Data Structure, and Constraint Validity for the
constraints the version declares) on the non-id columns, and type conformance: the reference's types are the truth.

The report is computed by the engine's own code by default (``native/validity.py`` and ``native/constraints.py``,
equal to sdmetrics 0.32 to 1e-9, detail rows and error texts included), or by sdmetrics' DiagnosticReport itself
with ``report_engine="sdmetrics"`` (given the same constraints).

Constraints (``EvaluationConfig.constraints``, ``registry.evaluation.constraints``): without any, the report is
sdmetrics' two single-table properties and ``diagnostic.overall`` their mean, exactly as before constraints
existed. With some, the report has the Constraint Validity property (``diagnostic.constraint_validity``: the mean
over the constraints of the share of synthetic rows that follow each, NaN scores skipped), its detail rows
(``constraint_validity``: constraint, metric, parameters as declared, score, error), and ``diagnostic.overall`` is
sdmetrics' mean of the three properties, a NaN property skipped. A constraint on a column the report does not see
(an identifier) does not apply: score NaN, as sdmetrics scores a constraint whose columns are missing. sdmetrics
needs each constraint's ``table_name``: it is given the report's table, whatever the declaration says.

Type conformance of a column = 1 - max(0, share of the synthetic table's present values that cannot be read
as the reference's type - the same share in the reference). ``diagnostic.type_conformance`` is the lowest
over the columns: a synthetic ``Age`` written as "37 yrs" (or a price as "1,574") scores 0 and is named,
where sdmetrics' scores would only see the values that happened to parse. ``diagnostic.overall`` stays
sdmetrics' score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from registry.evaluation.config import EvaluationConfig, KindResult
from registry.evaluation.constraints import check_constraints, column_names
from registry.evaluation.native.constraints import CONSTRAINT_VALIDITY, constraint_validity
from registry.evaluation.native.validity import diagnostic_report
from registry.evaluation.prepare import PreparedData, as_values, subset
from registry.evaluation.sdmetrics_support import TABLE, library_versions, records, report_metadata, seeded_numpy

_VALIDITY_COLUMNS = {"Column": "column", "Metric": "metric", "Score": "score", "Error": "error"}
_CONSTRAINT_COLUMNS = {"Constraint": "constraint", "Metric": "metric", "Score": "score", "Error": "error"}
_PROPERTIES = ("Data Validity", "Data Structure", CONSTRAINT_VALIDITY)


@dataclass(frozen=True)
class Report:
    """The diagnostic report: overall score, property scores, Data Validity and Constraint Validity rows."""

    score: float
    properties: dict[str, float]
    data_validity: list[dict]
    constraint_validity: list[dict] = field(default_factory=list)


def _nanmean(scores: list[float]) -> float:
    """sdmetrics' overall score: ``np.nanmean`` of the computed properties (without its all-NaN warning)."""
    present = [score for score in scores if not math.isnan(score)]
    return float(np.sum(present) / len(present)) if present else math.nan


def type_conformance(data: PreparedData) -> list[dict]:
    """Per evaluated column: how much more of the synthetic table than of the reference fails to parse."""
    rows = []
    for name, sdtype in data.evaluated.items():
        share = {}
        for label in ("reference", "synthetic"):
            present = data.present.get(label, {}).get(name, 0)
            bad = data.unparseable.get(label, {}).get(name, 0)
            share[label] = bad / present if present else 0.0
        rows.append(
            {
                "column": name,
                "sdtype": sdtype,
                "synthetic_unparseable": data.unparseable.get("synthetic", {}).get(name, 0),
                "synthetic_unparseable_share": share["synthetic"],
                "reference_unparseable_share": share["reference"],
                "score": 1.0 - max(0.0, share["synthetic"] - share["reference"]),
            }
        )
    return rows


def _sdmetrics_report(
    data: PreparedData, config: EvaluationConfig, sdtypes: dict[str, str], constraints: list[dict]
) -> Report:
    from sdmetrics.reports import DiagnosticReport  # imported when chosen: sdmetrics costs ~100 MB and 0.7 s to import

    report = DiagnosticReport()
    columns = list(sdtypes)
    given = [{**item, "parameters": {**item["parameters"], "table_name": TABLE}} for item in constraints]
    with seeded_numpy(config.seed):
        report.generate(
            {TABLE: subset(data.real, columns)},
            {TABLE: subset(data.synthetic, columns)},
            report_metadata(sdtypes),
            constraints=given or None,
            verbose=False,
        )
    # Relationship Validity (one table) does not apply, nor Constraint Validity without constraints.
    computed = _PROPERTIES if constraints else _PROPERTIES[:2]
    properties = {row.Property: row.Score for row in report.get_properties().itertuples() if row.Property in computed}
    rows = []
    if constraints:
        details = records(report.get_details(CONSTRAINT_VALIDITY), _CONSTRAINT_COLUMNS)
        # The parameters as declared (sdmetrics was given the report's table_name).
        rows = [
            {
                "constraint": row["constraint"],
                "metric": row["metric"],
                "parameters": item["parameters"],
                **{key: row[key] for key in ("score", "error") if key in row},
            }
            for row, item in zip(details, constraints, strict=True)
        ]
    return Report(
        score=report.get_score(),
        properties=properties,
        data_validity=records(report.get_details("Data Validity", TABLE), _VALIDITY_COLUMNS),
        constraint_validity=rows,
    )


def _native_report(data: PreparedData, sdtypes: dict[str, str], constraints: list[dict]) -> Report:
    report = diagnostic_report(data.compact("real"), data.compact("synthetic"), sdtypes, codes=data.joint_codes)
    if not constraints:
        return Report(score=report.score, properties=report.properties, data_validity=report.data_validity)
    # Only the columns the constraints name, as every other kind reads them (objects, not categoricals).
    named = {name for item in constraints for name in column_names(item)}
    columns = [name for name in sdtypes if name in named]
    real, synthetic = (as_values(subset(data.compact(label), columns)) for label in ("real", "synthetic"))
    validity = constraint_validity(real, synthetic, sdtypes, constraints)
    properties = {**report.properties, CONSTRAINT_VALIDITY: validity.score}
    return Report(
        score=_nanmean(list(properties.values())),
        properties=properties,
        data_validity=report.data_validity,
        constraint_validity=validity.details,
    )


def evaluate_diagnostic(data: PreparedData, config: EvaluationConfig) -> KindResult:
    """The diagnostic report: overall score, the single-table properties (Constraint Validity with constraints),
    per-column validity, per-constraint validity."""
    sdtypes = data.evaluated
    if not sdtypes:
        return KindResult.skipped("no column other than identifiers to evaluate")
    constraints = check_constraints(list(config.constraints))
    if config.report_engine == "sdmetrics":
        report = _sdmetrics_report(data, config, sdtypes, constraints)
        computed_by = f"sdmetrics {library_versions()['sdmetrics']} DiagnosticReport"
    else:
        report = _native_report(data, sdtypes, constraints)
        computed_by = f"registry native engine, equal to sdmetrics {library_versions()['sdmetrics']} DiagnosticReport"
    properties = report.properties
    conformance = type_conformance(data)
    metrics = {
        "diagnostic.overall": report.score,
        "diagnostic.data_validity": properties.get("Data Validity"),
        "diagnostic.data_structure": properties.get("Data Structure"),
        "diagnostic.type_conformance": min((row["score"] for row in conformance), default=1.0),
    }
    if constraints:
        metrics["diagnostic.constraint_validity"] = properties.get(CONSTRAINT_VALIDITY)
    results = {
        "overall": metrics["diagnostic.overall"],
        "computed_by": computed_by,
        "properties": properties,
        "data_validity": report.data_validity,
        "type_conformance": conformance,
        "columns_not_of_the_reference_type": [row["column"] for row in conformance if row["score"] < 1.0],
    }
    if constraints:
        results["constraint_validity"] = report.constraint_validity
    return KindResult(metrics=metrics, results=results)
