"""Diagnostic kind: sdmetrics' DiagnosticReport (Data Validity, Data Structure) on the non-id columns, and
type conformance: the reference's types are the truth.

The report is computed by the engine's own code by default (``native/validity.py``, equal to sdmetrics
0.32 to 1e-9, detail rows and error texts included), or by sdmetrics' DiagnosticReport itself with
``report_engine="sdmetrics"``.

Type conformance of a column = 1 - max(0, share of the synthetic table's present values that cannot be read
as the reference's type - the same share in the reference). ``diagnostic.type_conformance`` is the lowest
over the columns: a synthetic ``Age`` written as "37 yrs" (or a price as "1,574") scores 0 and is named,
where sdmetrics' scores would only see the values that happened to parse. ``diagnostic.overall`` stays
sdmetrics' score.
"""

from __future__ import annotations

from registry.evaluation.config import EvaluationConfig, KindResult
from registry.evaluation.native.validity import DiagnosticScores, diagnostic_report
from registry.evaluation.prepare import PreparedData, subset
from registry.evaluation.sdmetrics_support import TABLE, library_versions, records, report_metadata, seeded_numpy

_VALIDITY_COLUMNS = {"Column": "column", "Metric": "metric", "Score": "score", "Error": "error"}


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


def _sdmetrics_report(data: PreparedData, config: EvaluationConfig, sdtypes: dict[str, str]) -> DiagnosticScores:
    from sdmetrics.reports import DiagnosticReport  # imported when chosen: sdmetrics costs ~100 MB and 0.7 s to import

    report = DiagnosticReport()
    columns = list(sdtypes)
    with seeded_numpy(config.seed):
        report.generate(
            {TABLE: subset(data.real, columns)},
            {TABLE: subset(data.synthetic, columns)},
            report_metadata(sdtypes),
            verbose=False,
        )
    # Constraint Validity (no constraints) and Relationship Validity (one table) do not apply.
    properties = {
        row.Property: row.Score
        for row in report.get_properties().itertuples()
        if row.Property in ("Data Validity", "Data Structure")
    }
    return DiagnosticScores(
        score=report.get_score(),
        properties=properties,
        data_validity=records(report.get_details("Data Validity", TABLE), _VALIDITY_COLUMNS),
    )


def evaluate_diagnostic(data: PreparedData, config: EvaluationConfig) -> KindResult:
    """The diagnostic report: overall score, the two single-table properties, per-column validity."""
    sdtypes = data.evaluated
    if not sdtypes:
        return KindResult.skipped("no column other than identifiers to evaluate")
    if config.report_engine == "sdmetrics":
        report = _sdmetrics_report(data, config, sdtypes)
        computed_by = f"sdmetrics {library_versions()['sdmetrics']} DiagnosticReport"
    else:
        report = diagnostic_report(data.compact("real"), data.compact("synthetic"), sdtypes, codes=data.joint_codes)
        computed_by = f"registry native engine, equal to sdmetrics {library_versions()['sdmetrics']} DiagnosticReport"
    properties = report.properties
    conformance = type_conformance(data)
    metrics = {
        "diagnostic.overall": report.score,
        "diagnostic.data_validity": properties.get("Data Validity"),
        "diagnostic.data_structure": properties.get("Data Structure"),
        "diagnostic.type_conformance": min((row["score"] for row in conformance), default=1.0),
    }
    results = {
        "overall": metrics["diagnostic.overall"],
        "computed_by": computed_by,
        "properties": properties,
        "data_validity": report.data_validity,
        "type_conformance": conformance,
        "columns_not_of_the_reference_type": [row["column"] for row in conformance if row["score"] < 1.0],
    }
    return KindResult(metrics=metrics, results=results)
