"""The native quality report equals sdmetrics 0.32's QualityReport: every score and every detail row.

Tables are prepared as the engine prepares them (``prepare_inputs``), then both reports run on the same
frames: the native one (``native.quality.quality_report``) and sdmetrics' through the engine's own wrapper
(``report_engine="sdmetrics"``). Hypothesis draws numbers with missing values and infinities, constant and
single-value columns, small integers, datetimes with NaT, booleans with and without missing values,
categorical and ordinal columns with None, rare categories and categories only one table has, 1 to 300
rows a table, and both the default real-trend thresholds and none.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.demo.data import build_demo_tables
from registry.evaluation.config import EvaluationConfig
from registry.evaluation.engine import run_evaluation
from registry.evaluation.native.quality import quality_report
from registry.evaluation.prepare import prepare_inputs
from registry.evaluation.quality import _sdmetrics_report

TOLERANCE = 1e-9


FLOATS = ("score", "real_correlation", "synthetic_correlation", "real_association")


def _same(ours, theirs) -> bool:
    if isinstance(theirs, float) and math.isnan(theirs):
        return isinstance(ours, float) and math.isnan(ours)
    return abs(ours - theirs) <= TOLERANCE


def assert_reports_equal(real: pd.DataFrame, synthetic: pd.DataFrame, sdtypes: dict, **thresholds) -> None:
    columns = [{"name": name, "sdtype": sdtype} for name, sdtype in sdtypes.items()]
    config = EvaluationConfig(kinds=("quality",), report_engine="sdmetrics", **thresholds)
    data = prepare_inputs(real, synthetic, columns, config, None)
    theirs = _sdmetrics_report(data, config, data.evaluated)
    ours = quality_report(
        data.real,
        data.synthetic,
        data.evaluated,
        real_correlation_threshold=config.real_correlation_threshold,
        real_association_threshold=config.real_association_threshold,
    )
    _assert_equal(ours, theirs)
    # As the engine runs it: compact tables, codes and sorted columns shared through PreparedData; and with
    # the text columns given as categoricals (Parquet strings), which stay categoricals in the compact tables.
    for frames in ((real, synthetic), (_as_categories(real), _as_categories(synthetic))):
        shared = prepare_inputs(*frames, columns, config, None)
        _assert_equal(
            quality_report(
                shared.compact("real"),
                shared.compact("synthetic"),
                shared.evaluated,
                real_correlation_threshold=config.real_correlation_threshold,
                real_association_threshold=config.real_association_threshold,
                codes=shared.joint_codes,
                ordered=shared.sorted_values,
            ),
            theirs,
        )


def _as_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns as pandas categoricals, as ``read_table(..., strings_as_categories=True)`` gives them."""
    return frame.assign(**{name: frame[name].astype("category") for name in frame if frame[name].dtype == object})


def _assert_equal(ours, theirs) -> None:
    assert _same(ours.score, theirs.score), (ours.score, theirs.score)
    assert ours.properties.keys() == theirs.properties.keys()
    for name, value in theirs.properties.items():
        assert _same(ours.properties[name], value), name
    assert [sorted(row) for row in ours.column_shapes] == [sorted(row) for row in theirs.column_shapes]
    for mine, reference in zip(ours.column_shapes, theirs.column_shapes, strict=True):
        assert (mine["column"], mine["metric"], mine.get("error")) == (
            reference["column"],
            reference["metric"],
            reference.get("error"),
        )
        assert _same(mine["score"], float(reference["score"])), (mine, reference)
    assert [sorted(row) for row in ours.column_pair_trends] == [sorted(row) for row in theirs.column_pair_trends]
    for mine, reference in zip(ours.column_pair_trends, theirs.column_pair_trends, strict=True):
        fixed = ("column_1", "column_2", "metric", "meets_threshold")
        assert {key: mine[key] for key in fixed} == {key: reference[key] for key in fixed}, (mine, reference)
        assert mine.get("error") == reference.get("error"), (mine, reference)
        for key in FLOATS:
            assert _same(mine[key], float(reference[key])), (key, mine, reference)


def _column(draw, generator: np.random.Generator, kind: str, rows: int, shift: int) -> pd.Series:
    missing = draw(st.sampled_from([0.0, 0.0, 0.1, 0.5]))
    holes = generator.random(rows) < missing
    if rows:
        holes[0] = False  # a column with no value at all is refused before any metric runs
    if kind == "float":
        spread = draw(st.sampled_from([0.0, 1.0, 30.0]))
        values = generator.normal(shift, 1, rows) * spread
        if draw(st.booleans()):
            values = values.round(0)
        if draw(st.integers(0, 9)) == 0:
            values[generator.random(rows) < 0.05] = np.inf
        values[holes] = np.nan
        return pd.Series(values)
    if kind == "int":
        return pd.Series(generator.integers(0, draw(st.sampled_from([1, 2, 6, 1000])), rows) + shift)
    if kind == "when":
        span = draw(st.sampled_from([1, 10**9, 4 * 10**16]))
        when = pd.Series(pd.Timestamp("2020-01-01") + pd.to_timedelta(generator.integers(0, span, rows), unit="ns"))
        when[holes] = pd.NaT
        return when
    if kind == "flag":
        values = pd.Series(generator.random(rows) < draw(st.sampled_from([0.0, 0.3, 1.0])))
        if missing:
            values = values.astype(object)
            values[holes] = np.nan
        return values
    categories = np.array(
        draw(st.sampled_from([["a"], ["a", "b"], ["a", "b", "c", "rare"], [f"c{i}" for i in range(40)]]))
    )
    weights = generator.random(len(categories)) ** 3
    values = generator.choice(categories, rows, p=weights / weights.sum()).astype(object)
    if shift:
        values[generator.random(rows) < 0.1] = "only-here"
    values[holes] = None
    return pd.Series(values)


KINDS = {
    "float": "numerical",
    "int": "numerical",
    "when": "datetime",
    "flag": "boolean",
    "colour": "categorical",
    "rank": "ordinal",
}


@st.composite
def tables(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    generator = np.random.default_rng(seed)
    kinds = draw(st.lists(st.sampled_from(list(KINDS)), min_size=2, max_size=6))
    sdtypes = {f"{kind}_{index}": KINDS[kind] for index, kind in enumerate(kinds)}
    sizes = draw(st.integers(1, 300)), draw(st.integers(1, 300))
    frames = []
    for rows, shift in zip(sizes, (0, draw(st.sampled_from([0, 1, 3]))), strict=True):
        frames.append(
            pd.DataFrame({name: _column(draw, generator, name.split("_")[0], rows, shift) for name in sdtypes})
        )
    thresholds = draw(st.sampled_from([{}, {"real_correlation_threshold": 0.0, "real_association_threshold": 0.0}]))
    return frames[0], frames[1], sdtypes, thresholds


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tables())
def test_native_quality_equals_sdmetrics_on_generated_tables(drawn):
    real, synthetic, sdtypes, thresholds = drawn
    assert_reports_equal(real, synthetic, sdtypes, **thresholds)


@pytest.mark.parametrize("thresholds", [{}, {"real_correlation_threshold": 0.0, "real_association_threshold": 0.0}])
def test_native_quality_equals_sdmetrics_on_adult(adult, adult_sdtypes, thresholds):
    from tests.evaluation.conftest import noisy_resample

    real = adult
    synthetic = noisy_resample(adult, 20_000, seed=5)
    assert_reports_equal(real, synthetic, adult_sdtypes, **thresholds)


def test_native_quality_equals_sdmetrics_with_ten_thousand_rows_a_side_and_more():
    generator = np.random.default_rng(8)
    # 10,000 a side is scipy's last exact-mode size for the KS statistic; 10,001 its first asymptotic one.
    for rows in ((10_000, 10_000), (10_000, 7_000), (10_001, 9_999)):
        frames = [
            pd.DataFrame(
                {
                    "x": generator.normal(0, 1, n).round(2),
                    "y": generator.integers(0, 50, n),
                    "when": pd.Timestamp("2021-01-01") + pd.to_timedelta(generator.integers(0, 10**15, n), unit="ns"),
                    "c": generator.choice(np.array(["a", "b", "c"], dtype=object), n),
                }
            )
            for n in rows
        ]
        sdtypes = {"x": "numerical", "y": "numerical", "when": "datetime", "c": "categorical"}
        assert_reports_equal(*frames, sdtypes, real_correlation_threshold=0.0, real_association_threshold=0.0)


def test_edge_cases_equal_sdmetrics_constant_columns_zero_correlation_unbinnable_and_one_row():
    real = pd.DataFrame(
        {
            "x": [1.0, 2.0, 3.0, 4.0],
            "y": [1.0, -1.0, -1.0, 1.0],  # r(x, y) is exactly 0: sdmetrics leaves the pair unscored
            "flat": [5, 5, 5, 5],
            "flat_too": [2.0, 2.0, 2.0, 2.0],
            "big": [1.0, np.inf, 3.0, 2.0],  # no finite range: its bins cannot be drawn
            "c": ["a", "b", "a", "b"],
        }
    )
    synthetic = pd.DataFrame(
        {
            "x": [1.0, 2.0, 2.5],
            "y": [0.0, 1.0, 3.0],
            "flat": [5, 6, 5],
            "flat_too": [2.0, 2.0, 2.0],
            "big": [1.0, 2.0, 3.0],
            "c": ["a", "a", "z"],
        }
    )
    sdtypes = dict.fromkeys(["x", "y", "flat", "flat_too", "big"], "numerical") | {"c": "categorical"}
    no_thresholds = {"real_correlation_threshold": 0.0, "real_association_threshold": 0.0}
    assert_reports_equal(real, synthetic, sdtypes, **no_thresholds)
    assert_reports_equal(real, synthetic, sdtypes)
    assert_reports_equal(real.head(1), synthetic.head(1), sdtypes, **no_thresholds)
    ours = quality_report(real, synthetic, sdtypes, real_correlation_threshold=0.0, real_association_threshold=0.0)
    rows = {tuple(row[key] for key in ("column_1", "column_2")): row for row in ours.column_pair_trends}
    assert math.isnan(rows["x", "y"]["score"]) and rows["x", "y"]["real_correlation"] == 0.0
    assert rows["flat", "flat_too"]["error"] == (
        "ConstantInputError: The real data in columns 'flat, flat_too' contains a constant value. "
        "Correlation is undefined for constant data."
    )
    assert rows["big", "c"]["error"].startswith("ValueError: autodetected range of [1.0, inf] is not finite")


@pytest.fixture(scope="module")
def demo_tables():
    """The demo's training split and versions (fitting the copula takes a few seconds, so once)."""
    return build_demo_tables()


@pytest.mark.parametrize("version", ["faithful", "leaky"])
def test_the_demo_versions_numbers_are_unchanged_by_the_native_engine(version, adult_schema, demo_tables):
    tables = demo_tables
    synthetic = getattr(tables, version)
    results = {}
    for engine in ("native", "sdmetrics"):
        config = EvaluationConfig(kinds=("quality", "diagnostic"), report_engine=engine)
        results[engine] = run_evaluation(tables.train, synthetic, columns=adult_schema, config=config)
    native, reference = results["native"], results["sdmetrics"]
    assert native.metrics.keys() == reference.metrics.keys()
    for key, value in reference.metrics.items():
        assert _same(native.metrics[key], value), key
    for kind, section in (
        ("quality", "column_pair_trends"),
        ("quality", "column_shapes"),
        ("diagnostic", "data_validity"),
    ):
        for mine, theirs in zip(native.results[kind][section], reference.results[kind][section], strict=True):
            assert mine.keys() == theirs.keys()
            for key, value in theirs.items():
                if isinstance(value, float):
                    assert _same(mine[key], value), (kind, key, mine, theirs)
                else:
                    assert mine[key] == value, (kind, key, mine, theirs)
