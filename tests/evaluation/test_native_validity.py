"""The native Data Validity / Data Structure equal sdmetrics 0.32's DiagnosticReport, score by score.

sdmetrics is called as ``registry.evaluation.diagnostics`` calls it (one table, multi-table metadata, the
seeded global RNG); every property, the overall score and every Data Validity row (column, metric, score,
error) are compared: |Δ| ≤ 1e-9, NaN equals NaN, the same error text.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sdmetrics.reports import DiagnosticReport

from registry.evaluation.config import EvaluationConfig
from registry.evaluation.keys import joint_codes
from registry.evaluation.native.validity import DiagnosticScores, diagnostic_report
from registry.evaluation.prepare import prepare_inputs, subset
from registry.evaluation.sdmetrics_support import TABLE, records, report_metadata, seeded_numpy

TOLERANCE = 1e-9
PROPERTIES = ("Data Validity", "Data Structure")
VALIDITY_COLUMNS = {"Column": "column", "Metric": "metric", "Score": "score", "Error": "error"}
EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
START = np.datetime64("2020-01-01T00:00:00", "ns")


def sdmetrics_report(real: pd.DataFrame, synthetic: pd.DataFrame, sdtypes: dict[str, str]) -> DiagnosticScores:
    report = DiagnosticReport()
    columns = list(sdtypes)
    with seeded_numpy(0):
        report.generate(
            {TABLE: subset(real, columns)}, {TABLE: subset(synthetic, columns)}, report_metadata(sdtypes), verbose=False
        )
    scores = dict(report.get_properties().to_numpy())
    return DiagnosticScores(
        score=float(report.get_score()),
        properties={name: float(scores[name]) for name in PROPERTIES},
        data_validity=records(report.get_details("Data Validity", TABLE), VALIDITY_COLUMNS),
    )


def same(ours: float, theirs: float) -> bool:
    if math.isnan(theirs):
        return math.isnan(ours)
    return abs(ours - theirs) <= TOLERANCE


def assert_equal_reports(ours: DiagnosticScores, theirs: DiagnosticScores) -> None:
    assert same(ours.score, theirs.score), (ours.score, theirs.score)
    assert list(ours.properties) == list(PROPERTIES)
    for name in PROPERTIES:
        assert same(ours.properties[name], theirs.properties[name]), (name, ours.properties, theirs.properties)
    assert len(ours.data_validity) == len(theirs.data_validity)
    for mine, reference in zip(ours.data_validity, theirs.data_validity, strict=True):
        assert list(mine) == list(reference), (mine, reference)
        assert {key: mine[key] for key in mine if key != "score"} == {
            key: reference[key] for key in reference if key != "score"
        }
        assert same(mine["score"], reference["score"]), (mine, reference)


def check(real: pd.DataFrame, synthetic: pd.DataFrame, sdtypes: dict[str, str]) -> DiagnosticScores:
    """Ours equals sdmetrics, hashing the columns itself and reading joint codes computed elsewhere."""
    reference = sdmetrics_report(real, synthetic, sdtypes)
    ours = diagnostic_report(real, synthetic, sdtypes)
    assert_equal_reports(ours, reference)
    shared = diagnostic_report(real, synthetic, sdtypes, codes=lambda name: joint_codes([real[name], synthetic[name]]))
    assert_equal_reports(shared, reference)
    # Text columns as categoricals (Parquet strings), as PreparedData.compact keeps them.
    categorical = {
        label: frame.assign(
            **{
                name: frame[name].astype("category")
                for name in frame
                if frame[name].dtype == object and sdtypes.get(name) in ("categorical", "boolean", "ordinal")
            }
        )
        for label, frame in (("real", real), ("synthetic", synthetic))
    }
    for codes in (None, lambda name: joint_codes([real[name], synthetic[name]])):
        assert_equal_reports(
            diagnostic_report(categorical["real"], categorical["synthetic"], sdtypes, codes=codes), reference
        )
    return ours


# Generated columns ----------------------------------------------------------------------------------------


class Spec:
    """How one generated column looks: distinct values, missing shares, a shift out of the real range."""

    def __init__(self, draw: Callable) -> None:
        self.distinct = draw(st.sampled_from([1, 2, 3, 8, 60]))
        self.real_missing = draw(st.sampled_from([0.0, 0.0, 0.1, 0.5, 1.0]))
        self.synthetic_missing = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
        self.outside = draw(st.sampled_from([0.0, 0.1, 0.6]))


def _holes(generator: np.random.Generator, values: np.ndarray, share: float, fill) -> np.ndarray:
    values = values.copy()
    values[generator.random(values.size) < share] = fill
    return values


def _skewed(generator: np.random.Generator, pool: np.ndarray, rows: int) -> np.ndarray:
    """Draws from ``pool`` with geometric weights: the last categories are rare."""
    weights = 0.5 ** np.arange(pool.size)
    return pool[generator.choice(pool.size, rows, p=weights / weights.sum())]


def _floats(generator, rows, spec):
    pool = generator.normal(0, 50, spec.distinct).round(2)
    real = _holes(generator, _skewed(generator, pool, rows[0]), spec.real_missing, np.nan)
    synthetic = _skewed(generator, pool, rows[1])
    moved = generator.random(rows[1]) < spec.outside
    synthetic[moved] = synthetic[moved] * 3 + generator.choice([-200.0, 200.0], int(moved.sum()))
    return real, _holes(generator, synthetic, spec.synthetic_missing, np.nan)


def _integers(generator, rows, spec):
    pool = generator.integers(-1000, 1000, spec.distinct)
    real = _skewed(generator, pool, rows[0])
    synthetic = _skewed(generator, pool, rows[1]) + np.where(generator.random(rows[1]) < spec.outside, 5000, 0)
    if spec.synthetic_missing:
        synthetic = _holes(generator, synthetic.astype(np.float64), spec.synthetic_missing, np.nan)
    return real, synthetic


def _datetimes(generator, rows, spec):
    pool = START + generator.integers(0, 4 * 10**16, spec.distinct).astype("timedelta64[ns]")
    real = _holes(generator, _skewed(generator, pool, rows[0]), spec.real_missing, np.datetime64("NaT"))
    synthetic = _skewed(generator, pool, rows[1])
    moved = generator.random(rows[1]) < spec.outside
    synthetic[moved] += np.timedelta64(10**17, "ns")
    return real, _holes(generator, synthetic, spec.synthetic_missing, np.datetime64("NaT"))


def _strings(generator, rows, spec):
    pool = np.array([f"c{index}" for index in range(spec.distinct)], dtype=object)
    real = _holes(generator, _skewed(generator, pool, rows[0]), spec.real_missing, np.nan)
    synthetic = _skewed(generator, pool, rows[1])
    unseen = generator.random(rows[1]) < spec.outside
    synthetic[unseen] = np.array(["unseen", "c999"], dtype=object)[generator.integers(0, 2, int(unseen.sum()))]
    return real, _holes(generator, synthetic, spec.synthetic_missing, np.nan)


def _booleans(generator, rows, spec):
    """NumPy booleans, or object booleans with NaN, on either side (constant when one value)."""
    columns = []
    for count, missing in zip(rows, (spec.real_missing, spec.synthetic_missing), strict=True):
        values = generator.random(count) < (0.3 if spec.distinct > 1 else 0.0)
        if missing and missing < 1:
            values = _holes(generator, values.astype(object), missing, np.nan)
        columns.append(values)
    return tuple(columns)


def _codes(generator, rows, spec):
    """Ordinal integer codes; the synthetic side float with NaN or shifted to unseen codes."""
    real = _skewed(generator, np.arange(spec.distinct), rows[0])
    synthetic = _skewed(generator, np.arange(spec.distinct), rows[1])
    synthetic = synthetic + np.where(generator.random(rows[1]) < spec.outside, spec.distinct, 0)
    if spec.real_missing and spec.real_missing < 1:
        real = _holes(generator, real.astype(np.float64), spec.real_missing, np.nan)
    if spec.synthetic_missing:
        synthetic = _holes(generator, synthetic.astype(np.float64), spec.synthetic_missing, np.nan)
    return real, synthetic


def _mixed(generator, rows, spec):
    """Object columns sdmetrics reads its own way: strings, bools and numbers mixed, ints with NaN."""
    pools = [
        np.array(["a", "b", True, False, 1, 0, 2.5], dtype=object),
        np.array([1, 2, 3, 10**6], dtype=object),
    ]
    pool = pools[spec.distinct % 2]
    real = _holes(generator, _skewed(generator, pool, rows[0]), min(spec.real_missing, 0.5), np.nan)
    synthetic = _holes(generator, _skewed(generator, pool[::-1], rows[1]), spec.synthetic_missing, None)
    return real, synthetic


KINDS = {
    "floats": (_floats, ("numerical",)),
    "integers": (_integers, ("numerical",)),
    "datetimes": (_datetimes, ("datetime",)),
    "strings": (_strings, ("categorical", "ordinal")),
    "booleans": (_booleans, ("boolean", "categorical")),
    "codes": (_codes, ("ordinal", "categorical")),
    "mixed": (_mixed, ("categorical", "numerical")),
}


@st.composite
def tables(draw) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    generator = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    rows = draw(st.integers(1, 300)), draw(st.integers(1, 300))
    kinds = draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=6))
    real, synthetic, sdtypes = {}, {}, {}
    for index, kind in enumerate(kinds):
        make, choices = KINDS[kind]
        name = f"{kind}_{index}"
        real[name], synthetic[name] = make(generator, rows, Spec(draw))
        sdtypes[name] = draw(st.sampled_from(choices))
    return pd.DataFrame(real), pd.DataFrame(synthetic), sdtypes


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@EXAMPLES
@given(tables())
def test_generated_tables_equal_sdmetrics(drawn):
    check(*drawn)


# Hand-made cases ------------------------------------------------------------------------------------------


def _frame(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns)


def test_error_text_and_column_when_a_metric_raises():
    real = _frame(number=pd.Series(["1", 2.0, "x"], dtype=object), colour=["a", "b", np.nan])
    synthetic = _frame(number=[1.0, 5.0, np.nan], colour=["a", "z", np.nan])
    ours = check(real, synthetic, {"number": "numerical", "colour": "categorical"})
    assert ours.data_validity[0]["error"] == "TypeError: '<=' not supported between instances of 'str' and 'float'"
    assert ours.data_validity[1]["error"] is None
    assert math.isnan(ours.data_validity[0]["score"])


def test_a_datetime_column_synthetic_as_text_raises_as_in_sdmetrics():
    real = _frame(when=pd.to_datetime(["2020-01-01", None, "2021-01-01"]))
    synthetic = _frame(when=np.array(["2020-01-01", "x", None], dtype=object))
    ours = check(real, synthetic, {"when": "datetime"})
    assert ours.data_validity[0]["error"].startswith("ValueError: Unable to parse string")
    assert ours.properties["Data Structure"] == 0.0


def test_no_error_key_without_errors_and_other_sdtypes_only_in_structure():
    real = _frame(key=[1, 2, 3], note=["x", "y", "z"], amount=[1.0, 2.0, 3.0])
    synthetic = _frame(key=[7, 8, 9], note=["x", "q", "z"], amount=[0.0, 2.0, 3.0])
    ours = check(real, synthetic, {"key": "id", "note": "text", "amount": "numerical"})
    assert ours.data_validity == [{"column": "amount", "metric": "BoundaryAdherence", "score": 2 / 3}]


def test_no_column_at_all():
    ours = check(_frame(a=[1]), _frame(a=[2]), {})
    assert ours.data_validity == [] and math.isnan(ours.score)


@pytest.mark.parametrize("side", ["real", "synthetic", "both"])
def test_empty_tables(side):
    real = _frame(
        amount=[1.0, np.nan],
        count=[1, 2],
        when=pd.to_datetime(["2020-01-01", None]),
        colour=["a", np.nan],
        flag=[True, False],
        maybe=np.array([True, np.nan], dtype=object),
    )
    synthetic = real.iloc[[1, 0, 1]].reset_index(drop=True)
    sdtypes = {"amount": "numerical", "count": "numerical", "when": "datetime", "colour": "categorical"}
    sdtypes |= {"flag": "boolean", "maybe": "boolean"}
    real = real.iloc[:0] if side in ("real", "both") else real
    synthetic = synthetic.iloc[:0] if side in ("synthetic", "both") else synthetic
    check(real, synthetic, sdtypes)


def test_an_empty_real_datetime_column_takes_synthetic_nat_as_inside_its_bounds():
    real = _frame(when=pd.Series([], dtype="datetime64[ns]"))
    synthetic = _frame(when=pd.to_datetime([None, "2020-01-01"]))
    assert check(real, synthetic, {"when": "datetime"}).data_validity[0]["score"] == 0.5


def test_missing_values_count_against_a_column_whose_real_values_are_all_present():
    real = _frame(amount=[1.0, 2.0], colour=["a", "b"], when=pd.to_datetime(["2020-01-01", "2020-02-01"]))
    synthetic = _frame(amount=[1.0, np.nan], colour=["a", np.nan], when=pd.to_datetime(["2020-01-01", None]))
    ours = check(real, synthetic, {"amount": "numerical", "colour": "categorical", "when": "datetime"})
    assert [row["score"] for row in ours.data_validity] == [0.5, 0.5, 0.5]


def test_object_booleans_and_numbers_compare_as_pandas_does():
    real = _frame(
        flag=np.array([True, False, True]),
        mixed=np.array([1, "a", np.nan], dtype=object),
        code=[1, 2, 3],
        zero=[0.0, 1.0, 2.0],
    )
    synthetic = _frame(
        flag=np.array([True, np.nan, 1], dtype=object),
        mixed=np.array([True, 1.0, "b"], dtype=object),
        code=[1.0, np.nan, 4.0],
        zero=[-0.0, 1.0, 3.0],
    )
    sdtypes = {"flag": "boolean", "mixed": "categorical", "code": "ordinal", "zero": "categorical"}
    check(real, synthetic, sdtypes)


# Adult ------------------------------------------------------------------------------------------------------


def test_adult_against_a_perturbed_copy(adult, adult_schema, resample):
    synthetic = resample(adult, 30_000, seed=17)
    generator = np.random.default_rng(17)
    synthetic.loc[generator.random(len(synthetic)) < 0.02, "workclass"] = "Self-emp-unseen"
    synthetic.loc[generator.random(len(synthetic)) < 0.03, "occupation"] = np.nan
    synthetic.loc[generator.random(len(synthetic)) < 0.01, "capital_gain"] = 10**6
    synthetic["age"] = synthetic["age"].astype(np.float64)
    synthetic.loc[generator.random(len(synthetic)) < 0.01, "age"] = np.nan
    data = prepare_inputs(adult, synthetic, adult_schema, EvaluationConfig(kinds=("diagnostic",)))
    ours = check(data.real, data.synthetic, data.evaluated)
    validity = {row["column"]: row["score"] for row in ours.data_validity}
    assert validity["workclass"] < 1 and validity["capital_gain"] < 1 and validity["age"] < 1
    assert validity["education"] == 1.0
