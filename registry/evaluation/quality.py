"""Quality kind: sdmetrics' QualityReport (Column Shapes, Column Pair Trends) on the non-id columns.

Computed by the engine's own code by default (``native/quality.py``: the same definitions, detail rows
and error texts as sdmetrics 0.32, every row, held equal to it to 1e-9 by the parity tests), or by
sdmetrics' QualityReport itself with ``report_engine="sdmetrics"``.

Column Pair Trends averages only the pairs whose real data shows a trend (|Pearson r| above
``real_correlation_threshold``, Cramér's V above ``real_association_threshold``).

Sampling (sdmetrics engine only): in sdmetrics 0.32 the unified report does not pass its
``num_rows_subsample`` on to the per-table Column Pair Trends property, which therefore always samples
contingency pairs above 50,000 rows (unseeded, NumPy's global RNG). Here the setting is passed on
(``quality_subsample``; None = every row, the default) and the global RNG is seeded around the call, so
the score is exact and reproducible.

``quality.detection``: sdmetrics' LogisticDetection, computed natively (see ``detection.py``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from registry.evaluation.config import EvaluationConfig, KindResult
from registry.evaluation.detection import detection_result
from registry.evaluation.native.quality import QualityScores, quality_report
from registry.evaluation.prepare import PreparedData, subset
from registry.evaluation.sdmetrics_support import TABLE, library_versions, records, report_metadata, seeded_numpy

_SHAPE_COLUMNS = {"Column": "column", "Metric": "metric", "Score": "score", "Error": "error"}
_PAIR_COLUMNS = {
    "Column 1": "column_1",
    "Column 2": "column_2",
    "Metric": "metric",
    "Score": "score",
    "Real Correlation": "real_correlation",
    "Synthetic Correlation": "synthetic_correlation",
    "Real Association": "real_association",
    "Meets Threshold?": "meets_threshold",
    "Error": "error",
}


def _pass_subsample_on(report: Any, subsample: int | None) -> None:
    trends = report._properties["Column Pair Trends"]
    configure = trends._configure_single_table_property

    def configure_with_subsample(table_name: str) -> None:
        configure(table_name)
        trends._properties[table_name].num_rows_subsample = subsample

    trends._configure_single_table_property = configure_with_subsample


def _sdmetrics_report(data: PreparedData, config: EvaluationConfig, sdtypes: dict[str, str]) -> QualityScores:
    from sdmetrics.reports import QualityReport  # imported when chosen: sdmetrics costs ~100 MB and 0.7 s to import

    report = QualityReport()
    report.real_correlation_threshold = config.real_correlation_threshold
    report.real_association_threshold = config.real_association_threshold
    report.num_rows_subsample = config.quality_subsample
    _pass_subsample_on(report, config.quality_subsample)
    columns = list(sdtypes)
    with seeded_numpy(config.seed):
        report.generate(
            {TABLE: subset(data.real, columns)},
            {TABLE: subset(data.synthetic, columns)},
            report_metadata(sdtypes),
            verbose=False,
        )
    pairs = records(report.get_details("Column Pair Trends", TABLE), _PAIR_COLUMNS)
    for pair in pairs:
        meets = pair.get("meets_threshold")
        pair["meets_threshold"] = None if meets is None or meets is pd.NA else bool(meets)
    return QualityScores(
        score=report.get_score(),
        properties={row.Property: row.Score for row in report.get_properties().itertuples()},
        column_shapes=records(report.get_details("Column Shapes", TABLE), _SHAPE_COLUMNS),
        column_pair_trends=pairs,
    )


def evaluate_quality(data: PreparedData, config: EvaluationConfig) -> KindResult:
    """The quality report: overall, property scores and per-column/per-pair details, then detection."""
    sdtypes = data.evaluated
    if not sdtypes:
        return KindResult.skipped("no column other than identifiers to evaluate")
    if config.report_engine == "sdmetrics":
        report = _sdmetrics_report(data, config, sdtypes)
    else:
        report = quality_report(
            data.compact("real"),
            data.compact("synthetic"),
            sdtypes,
            real_correlation_threshold=config.real_correlation_threshold,
            real_association_threshold=config.real_association_threshold,
            codes=data.joint_codes,
            ordered=data.sorted_values,
        )
    pairs = [dict(pair) for pair in report.column_pair_trends]
    for pair in pairs:
        pair["columns"] = [pair.pop("column_1"), pair.pop("column_2")]
    properties = report.properties
    metrics = {
        "quality.overall": report.score,
        "quality.column_shapes": properties.get("Column Shapes"),
        "quality.column_pair_trends": properties.get("Column Pair Trends"),
    }
    results = {
        "overall": metrics["quality.overall"],
        "computed_by": _computed_by(config),
        "properties": properties,
        "column_shapes": report.column_shapes,
        "column_pair_trends": pairs,
        "pairs_meeting_threshold": sum(1 for pair in pairs if pair.get("meets_threshold") is True),
        "excluded_id_columns": [name for name, sdtype in data.sdtypes.items() if sdtype == "id"],
    }
    outcome = KindResult(metrics=metrics, results=results)
    if not config.quality_detection:
        results["detection"] = {"skipped": "switched off (quality_detection=False)"}
        return outcome
    detection = detection_result(
        data.compact("real"), data.compact("synthetic"), data.sdtypes, config.seed, max_rows=config.detection_max_rows
    )
    results["detection"] = detection
    if detection["insufficient"]:
        outcome.mark_insufficient(detection["reason"], "quality.detection")
    else:
        metrics["quality.detection"] = detection["score"]  # None when it cannot run (reason in results)
    return outcome


def _computed_by(config: EvaluationConfig) -> str:
    if config.report_engine == "sdmetrics":
        return f"sdmetrics {library_versions()['sdmetrics']} QualityReport"
    return f"registry native engine, equal to sdmetrics {library_versions()['sdmetrics']} QualityReport"
