"""Diagnostic kind: sdmetrics' DiagnosticReport (Data Validity, Data Structure) on the non-id columns."""

from __future__ import annotations

from sdmetrics.reports import DiagnosticReport

from registry.evaluation.config import EvaluationConfig, KindResult
from registry.evaluation.prepare import PreparedData, subset
from registry.evaluation.sdmetrics_support import TABLE, records, report_metadata, seeded_numpy

_VALIDITY_COLUMNS = {"Column": "column", "Metric": "metric", "Score": "score", "Error": "error"}


def evaluate_diagnostic(data: PreparedData, config: EvaluationConfig) -> KindResult:
    """Run the DiagnosticReport: overall score, the two single-table properties, per-column validity."""
    sdtypes = data.evaluated
    if not sdtypes:
        return KindResult.skipped("no column other than identifiers to evaluate")
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
    metrics = {
        "diagnostic.overall": report.get_score(),
        "diagnostic.data_validity": properties.get("Data Validity"),
        "diagnostic.data_structure": properties.get("Data Structure"),
    }
    results = {
        "overall": metrics["diagnostic.overall"],
        "properties": properties,
        "data_validity": records(report.get_details("Data Validity", TABLE), _VALIDITY_COLUMNS),
    }
    return KindResult(metrics=metrics, results=results)
