"""Every metric sdmetrics defines, through the whole engine, equals sdmetrics 0.32 on generated tables.

Hypothesis draws the tables: numbers with missing values, small integers, datetimes with NaT (nanoseconds
included), booleans with and without missing values, categories with None, a category only in the
synthetic table, and a holdout. The engine runs as the registry runs it (preparation, key detection,
minimum evidence), and each number is compared with sdmetrics called directly on the same tables.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sdmetrics.reports import DiagnosticReport, QualityReport
from sdmetrics.single_table import (
    DCRBaselineProtection,
    DCROverfittingProtection,
    LogisticDetection,
    NewRowSynthesis,
)
from sdmetrics.single_table.privacy.dcr_utils import calculate_dcr
from sdmetrics.single_table.privacy.disclosure_protection import DisclosureProtection
from threadpoolctl import threadpool_limits

from registry.evaluation.engine import EvaluationConfig, run_evaluation
from registry.evaluation.privacy.distance import nearest_two

TOLERANCE = 1e-9
SDTYPES = {
    "amount": "numerical",
    "count": "numerical",
    "when": "datetime",
    "flag": "boolean",
    "maybe": "boolean",
    "colour": "categorical",
    "tier": "categorical",
}
KNOWN, SENSITIVE = ["count", "when", "colour"], ["tier"]
EXAMPLES = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _table(generator: np.random.Generator, rows: int, missing: float, shift: float) -> pd.DataFrame:
    def holes(values: np.ndarray, fill) -> np.ndarray:
        values = values.astype(object) if fill is None else values
        values[generator.random(rows) < missing] = fill
        return values

    when = pd.Series(pd.to_datetime("2020-01-01") + pd.to_timedelta(generator.integers(0, 4 * 10**16, rows), unit="ns"))
    when[generator.random(rows) < missing] = pd.NaT
    maybe = pd.Series(generator.random(rows) < 0.5, dtype=object)
    maybe[generator.random(rows) < missing] = np.nan
    return pd.DataFrame(
        {
            "amount": holes(generator.normal(100 + shift, 30, rows).round(1), np.nan),
            "count": generator.integers(0, 6, rows),
            "when": when,
            "flag": generator.random(rows) < 0.3 + shift / 100,
            "maybe": maybe,
            "colour": pd.Series(holes(generator.choice(np.array(["red", "green", "blue"]), rows), None)),
            "tier": generator.choice(np.array(["low", "mid", "high"], dtype=object), rows),
        }
    )


@st.composite
def tables(draw):
    """Training, synthetic (part copies, part noise, part a shifted draw) and holdout tables, and a seed."""
    seed = draw(st.integers(0, 2**31 - 1))
    generator = np.random.default_rng(seed)
    missing = draw(st.sampled_from([0.0, 0.1, 0.35]))
    rows = draw(st.integers(30, 90)), draw(st.integers(30, 90)), draw(st.integers(30, 60))
    real = _table(generator, rows[0], missing, 0)
    synthetic = _table(generator, rows[1], missing, draw(st.sampled_from([0.0, 5.0, 25.0])))
    copies = draw(st.integers(0, rows[1] // 3))
    if copies:
        synthetic.iloc[:copies] = real.sample(copies, random_state=seed, replace=True).to_numpy()
    if draw(st.booleans()):
        synthetic.loc[synthetic.index % 7 == 3, "colour"] = "purple"  # a category the real table lacks
    synthetic = synthetic.astype(real.dtypes.to_dict())
    holdout = _table(generator, rows[2], missing, 0)
    return real, synthetic, holdout, seed


def _metadata() -> dict:
    return {"columns": {name: {"sdtype": sdtype} for name, sdtype in SDTYPES.items()}}


def _run(real, synthetic, holdout, seed, kinds, **options):
    config = EvaluationConfig(
        kinds=kinds, seed=seed, quasi_identifiers=KNOWN, disclosure_sensitive=SENSITIVE, **options
    )
    columns = [{"name": name, "dtype": str(real[name].dtype), "sdtype": s} for name, s in SDTYPES.items()]
    return run_evaluation(real, synthetic, columns=columns, config=config, holdout=holdout)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _close(ours, theirs) -> bool:
    if theirs is None or (isinstance(theirs, float) and np.isnan(theirs)):
        return ours is None
    return ours is not None and abs(ours - theirs) <= TOLERANCE


@EXAMPLES
@given(tables())
def test_privacy_metrics_equal_sdmetrics_on_generated_tables(drawn):
    real, synthetic, holdout, seed = drawn
    result = _run(real, synthetic, holdout, seed, ("privacy",))
    metrics = result.metrics
    compared = ("new_row_synthesis", "dcr_median", "dcr_overfitting_protection", "disclosure_protection")
    assert all(metrics[f"privacy.{name}"] is not None for name in compared), metrics

    nrs = NewRowSynthesis.compute(real, synthetic, _metadata())
    assert _close(metrics["privacy.new_row_synthesis"], nrs)

    dcr = calculate_dcr(synthetic, real, _metadata()).to_numpy()
    assert _close(metrics["privacy.dcr_median"], float(np.median(dcr)))

    # The random table is drawn as sdmetrics draws it: its own seed hook and NumPy's global generator.
    DCRBaselineProtection._seed = seed
    np.random.seed(seed)
    try:
        baseline = DCRBaselineProtection.compute(real, synthetic, _metadata(), None)
    finally:
        DCRBaselineProtection._seed = None
    assert _close(metrics["privacy.dcr_baseline_protection"], baseline)

    overfitting = DCROverfittingProtection.compute(real, synthetic, holdout, _metadata(), None)
    assert _close(metrics["privacy.dcr_overfitting_protection"], overfitting)

    cap = DisclosureProtection.compute(real, synthetic, KNOWN, SENSITIVE, continuous_column_names=["count", "when"])
    assert _close(metrics["privacy.disclosure_protection"], cap)


@EXAMPLES
@given(tables())
def test_nearest_two_starts_with_sdmetrics_dcr(drawn):
    real, synthetic, _, _ = drawn
    nearest = nearest_two(synthetic, real, SDTYPES)
    reference = calculate_dcr(synthetic, real, _metadata()).to_numpy()
    assert np.abs(nearest[:, 0] - reference).max() <= TOLERANCE
    assert (nearest[:, 1] >= nearest[:, 0]).all()


@EXAMPLES
@given(tables())
def test_quality_and_diagnostic_equal_sdmetrics_on_generated_tables(drawn):
    real, synthetic, holdout, seed = drawn
    metrics = _run(real, synthetic, holdout, seed, ("quality", "diagnostic")).metrics
    multi = {"tables": {"t": _metadata()}}
    quality, diagnostic = QualityReport(), DiagnosticReport()
    quality.generate({"t": real}, {"t": synthetic}, multi, verbose=False)
    diagnostic.generate({"t": real}, {"t": synthetic}, multi, verbose=False)
    properties = quality.get_properties().set_index("Property")["Score"]
    assert _close(metrics["quality.overall"], quality.get_score())
    assert _close(metrics["quality.column_shapes"], properties["Column Shapes"])
    assert _close(metrics["quality.column_pair_trends"], properties["Column Pair Trends"])
    checks = diagnostic.get_properties().set_index("Property")["Score"]
    assert _close(metrics["diagnostic.overall"], diagnostic.get_score())
    assert _close(metrics["diagnostic.data_validity"], checks["Data Validity"])
    assert _close(metrics["diagnostic.data_structure"], checks["Data Structure"])
    assert metrics["diagnostic.type_conformance"] == 1.0


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_detection_equals_logistic_detection_on_generated_tables(drawn):
    # Fresh tables of at least 50 rows (the metric's minimum evidence) without a synthetic-only category,
    # which sdmetrics cannot score (a documented deviation, tested in test_detection).
    _, _, holdout, seed = drawn
    generator = np.random.default_rng(seed)
    real, synthetic = (_table(generator, 50 + seed % 60, 0.1, shift) for shift in (0, seed % 30))
    metrics = _run(real, synthetic, holdout, seed, ("quality",)).metrics
    assert metrics["quality.detection"] is not None
    with threadpool_limits(limits=1, user_api="blas"):
        np.random.seed(seed)
        reference = LogisticDetection.compute(real, synthetic, _metadata())
    assert _close(metrics["quality.detection"], reference)
