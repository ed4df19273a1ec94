"""Quality and diagnostic scores against sdmetrics' reports run directly on the same tables."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sdmetrics.reports import DiagnosticReport, QualityReport

from registry.evaluation.engine import EvaluationConfig, EvaluationInputError, run_evaluation

TOLERANCE = 1e-9


def _reference(report_class, real, synthetic, sdtypes):
    report = report_class()
    metadata = {"tables": {"t": {"columns": {name: {"sdtype": sdtype} for name, sdtype in sdtypes.items()}}}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report.generate({"t": real[list(sdtypes)]}, {"t": synthetic[list(sdtypes)]}, metadata, verbose=False)
    return report


def _close(ours, theirs):
    if theirs is None or np.isnan(theirs):
        return ours is None
    return abs(ours - theirs) <= TOLERANCE


@pytest.fixture(scope="module")
def adult_with_id(adult_small):
    real, synthetic = adult_small
    real, synthetic = real.copy(), synthetic.copy()
    real.insert(0, "person_id", np.arange(len(real)) + 10_000)
    synthetic.insert(0, "person_id", np.arange(len(synthetic)) + 50_000)
    return real, synthetic


def test_quality_and_diagnostic_equal_sdmetrics_and_skip_id_columns(adult_with_id, adult_sdtypes, schema_for):
    real, synthetic = adult_with_id
    sdtypes = {"person_id": "id", **adult_sdtypes}
    config = EvaluationConfig(kinds=("quality", "diagnostic"))
    result = run_evaluation(real, synthetic, columns=schema_for(sdtypes, real), config=config)
    quality = _reference(QualityReport, real, synthetic, adult_sdtypes)
    properties = dict(quality.get_properties().to_numpy())
    metrics = result.metrics
    assert _close(metrics["quality.overall"], quality.get_score())
    assert _close(metrics["quality.column_shapes"], properties["Column Shapes"])
    assert _close(metrics["quality.column_pair_trends"], properties["Column Pair Trends"])
    diagnostic = _reference(DiagnosticReport, real, synthetic, adult_sdtypes)
    properties = dict(diagnostic.get_properties().to_numpy())
    assert _close(metrics["diagnostic.overall"], diagnostic.get_score())
    assert _close(metrics["diagnostic.data_validity"], properties["Data Validity"])
    assert _close(metrics["diagnostic.data_structure"], properties["Data Structure"])
    shapes = result.results["quality"]["column_shapes"]
    assert [row["column"] for row in shapes] == list(adult_sdtypes)
    assert result.results["quality"]["excluded_id_columns"] == ["person_id"]
    pairs = result.results["quality"]["column_pair_trends"]
    assert len(pairs) == 15 * 14 // 2
    assert {"columns", "metric", "score", "real_correlation", "synthetic_correlation"} <= set(pairs[0])
    assert result.parameters["real_correlation_threshold"] == 0.5
    assert result.parameters["real_association_threshold"] == 0.3


def test_reports_on_tricky_tables_equal_sdmetrics(tricky, schema_for):
    real, synthetic, sdtypes = tricky
    config = EvaluationConfig(kinds=("quality", "diagnostic"))
    result = run_evaluation(real, synthetic, columns=schema_for(sdtypes, real), config=config)
    quality = _reference(QualityReport, real, synthetic, sdtypes)
    diagnostic = _reference(DiagnosticReport, real, synthetic, sdtypes)
    assert _close(result.metrics["quality.overall"], quality.get_score())
    assert _close(result.metrics["diagnostic.overall"], diagnostic.get_score())
    validity = {row["column"]: row["score"] for row in result.results["diagnostic"]["data_validity"]}
    # "purple" exists only in the synthetic data, 8.0 lies outside the constant column's range.
    assert validity["colour"] < 1 and validity["constant"] < 1


def test_quality_subsample_reaches_column_pair_trends_and_stays_reproducible(adult, adult_schema):
    real = adult.sample(600, random_state=91).reset_index(drop=True)
    synthetic = adult.sample(600, random_state=92).reset_index(drop=True)

    def pair_scores(**options):
        config = EvaluationConfig(kinds=("quality",), report_engine="sdmetrics", **options)
        result = run_evaluation(real, synthetic, columns=adult_schema, config=config)
        return [pair["score"] for pair in result.results["quality"]["column_pair_trends"]]

    exact = pair_scores()
    sampled = pair_scores(quality_subsample=200)
    assert sampled != exact
    assert pair_scores(quality_subsample=200) == sampled
    assert pair_scores(quality_subsample=200, seed=1) != sampled


def test_only_the_sdmetrics_engine_subsamples(adult_small, adult_schema):
    real, synthetic = adult_small
    with pytest.raises(EvaluationInputError) as raised:
        run_evaluation(real, synthetic, columns=adult_schema, config=EvaluationConfig(quality_subsample=200))
    assert (raised.value.field, raised.value.reason) == (
        "quality_subsample",
        "only sdmetrics' reports subsample; the native engine reads every row",
    )
