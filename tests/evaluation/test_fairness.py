"""Fairness slices: TVD, significance-tested flags (missing, under-represented, distorted), unscored small slices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar
from scipy.stats import norm
from sdmetrics.single_column import KSComplement, TVComplement

from registry.evaluation.engine import EvaluationConfig, run_evaluation
from registry.evaluation.fairness import holm, ks_complement, under_representation_p

ADULT_ATTRIBUTES = ("race", "sex", "age")


def _run(real, synthetic, sdtypes, schema_for, **options):
    config = EvaluationConfig(kinds=("fairness",), **options)
    return run_evaluation(real, synthetic, columns=schema_for(sdtypes, real), config=config)


def _slices(result) -> dict[tuple[str, object], dict]:
    return {(a["attribute"], s["slice"]): s for a in result.results["fairness"]["attributes"] for s in a["slices"]}


@pytest.fixture(scope="module")
def halves(adult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Adult cut at random into two halves (seeded): the first plays the real table, the second the synthetic."""
    order = np.random.default_rng(2).permutation(len(adult))
    half = len(adult) // 2
    return adult.iloc[order[:half]].reset_index(drop=True), adult.iloc[order[half:]].reset_index(drop=True)


def _adult_fairness(real, synthetic, adult_schema):
    config = EvaluationConfig(kinds=("fairness",), sensitive_attributes=ADULT_ATTRIBUTES)
    return run_evaluation(real, synthetic, columns=adult_schema, config=config)


def test_tvd_and_flags_on_a_hand_made_table(schema_for):
    # Real shares: a 50%, b 30%, c 20%. Synthetic: a 60%, b 40%, c absent, so TVD = (0.1 + 0.1 + 0.2) / 2.
    real = pd.DataFrame({"group": ["a"] * 50 + ["b"] * 30 + ["c"] * 20, "x": np.arange(100) % 7})
    synthetic = pd.DataFrame({"group": ["a"] * 60 + ["b"] * 40, "x": np.arange(100) % 7})
    result = _run(
        real,
        synthetic,
        {"group": "categorical", "x": "numerical"},
        schema_for,
        sensitive_attributes=("group",),
        # c has 20 real rows: below the default minimum of 30 it would be untested (and unflagged).
        fairness_min_slice_rows=10,
    )
    attribute = result.results["fairness"]["attributes"][0]
    assert abs(attribute["tvd"] - 0.2) <= 1e-12
    slices = {entry["slice"]: entry for entry in attribute["slices"]}
    assert [entry["slice"] for entry in attribute["slices"]] == ["a", "b", "c"]
    assert slices["c"]["flags"] == ["missing"] and slices["c"]["score"] is None
    assert slices["a"]["flags"] == [] and slices["b"]["flags"] == []
    assert slices["c"]["real_rows"] == 20 and slices["c"]["synthetic_rows"] == 0
    # 20 of 100 real rows and none of 100 synthetic ones: z = -4.18, far below the Holm threshold alpha / 3.
    representation = slices["c"]["tests"]["representation"]
    assert representation["p_value"] < 1e-4 and representation["significant"] is True
    assert representation["adjusted_p_value"] == 3 * representation["p_value"]
    assert slices["c"]["tests"]["distortion"] is None
    assert result.metrics["fairness.flagged_slices"] == 1
    assert abs(result.metrics["fairness.max_tvd"] - 0.2) <= 1e-12


def test_dropped_adult_slice_is_flagged_missing(adult, adult_schema):
    real = adult.sample(4000, random_state=61).reset_index(drop=True)
    synthetic = adult.sample(4000, random_state=62).reset_index(drop=True)
    synthetic = synthetic[synthetic["race"] != "Black"].reset_index(drop=True)
    config = EvaluationConfig(kinds=("fairness",), sensitive_attributes=("race", "sex"))
    result = run_evaluation(real, synthetic, columns=adult_schema, config=config)
    race = result.results["fairness"]["attributes"][0]
    slices = {entry["slice"]: entry for entry in race["slices"]}
    assert slices["Black"]["flags"] == ["missing"]
    assert slices["Black"]["real_rows"] == int((real["race"] == "Black").sum())
    # The overall score is the mean of KSComplement/TVComplement over the other columns.
    others = [column for column in adult.columns if column != "race"]
    expected = np.mean(
        [
            (KSComplement if adult[column].dtype.kind in "if" else TVComplement).compute(
                real[column], synthetic[column]
            )
            for column in others
        ]
    )
    assert abs(race["overall_score"] - expected) <= 1e-12
    white = slices["White"]
    in_real, in_synthetic = real["race"] == "White", synthetic["race"] == "White"
    expected_white = np.mean(
        [
            (KSComplement if adult[column].dtype.kind in "if" else TVComplement).compute(
                real.loc[in_real, column], synthetic.loc[in_synthetic, column]
            )
            for column in others
        ]
    )
    assert abs(white["score"] - expected_white) <= 1e-12
    assert abs(white["gap"] - (race["overall_score"] - expected_white)) <= 1e-12
    assert result.metrics["fairness.flagged_slices"] >= 1


def test_small_slices_are_reported_not_scored_and_distortion_is_flagged(schema_for):
    generator = np.random.default_rng(4)
    real = pd.DataFrame(
        {
            "group": ["big"] * 200 + ["rest"] * 400 + ["tiny"] * 10,
            "value": generator.normal(0, 1, 610),
            "kind": ["u", "v"] * 305,
        }
    )
    synthetic = real.copy()
    # The "big" slice is rendered badly (values shifted by 5 sd, one kind only), the others exactly: its score
    # falls about 0.5 below the overall score, far beyond the 0.1 margin and the sampling error of 200 rows.
    synthetic.loc[:199, "value"] = synthetic.loc[:199, "value"] + 5
    synthetic.loc[:199, "kind"] = "u"
    result = _run(
        real,
        synthetic,
        {"group": "categorical", "value": "numerical", "kind": "categorical"},
        schema_for,
        sensitive_attributes=("group",),
    )
    slices = {entry["slice"]: entry for entry in result.results["fairness"]["attributes"][0]["slices"]}
    assert slices["tiny"]["score"] is None and "not_scored" in slices["tiny"]
    assert slices["tiny"]["tests"] == {"representation": None, "distortion": None}
    assert slices["big"]["gap"] > 0.45
    assert slices["big"]["flags"] == ["distorted"]
    # No resample's error bound reaches gap - margin: the smallest p-value, Holm-adjusted over 2 slices.
    distortion = slices["big"]["tests"]["distortion"]
    assert distortion["p_value"] == 1 / 201 and distortion["adjusted_p_value"] == pytest.approx(2 / 201)
    assert slices["rest"]["flags"] == [] and slices["rest"]["tests"]["distortion"]["p_value"] == 1.0


def test_numerical_attribute_is_binned_and_fairness_skips_without_attributes(schema_for):
    # One age twice: 0..99 once each would be a numbering of the rows, which is an identifier, not an attribute.
    ages = np.r_[np.arange(99), 98]
    real = pd.DataFrame({"age": ages, "y": ["a", "b"] * 50})
    synthetic = pd.DataFrame({"age": ages + 200, "y": ["a", "b"] * 50})
    sdtypes = {"age": "numerical", "y": "categorical"}
    # Quartile bins hold 25 real rows: testable with a minimum of 20 (never flagged with the default 30).
    result = _run(
        real,
        synthetic,
        sdtypes,
        schema_for,
        sensitive_attributes=("age",),
        fairness_numeric_bins=4,
        fairness_min_slice_rows=20,
    )
    slices = result.results["fairness"]["attributes"][0]["slices"]
    assert len(slices) == 4
    # Quartile bins of the real ages; synthetic values above the real range all fall in the top bin.
    assert slices[0]["slice"] == "[74.25, 98]" and slices[0]["synthetic_rows"] == 100
    assert [entry["real_rows"] for entry in slices] == [25, 25, 25, 25]
    assert [entry["slice"] for entry in slices[1:]] == ["[0, 24.75)", "[24.75, 49.5)", "[49.5, 74.25)"]
    assert all(entry["flags"] == ["missing"] for entry in slices[1:])
    assert slices[0]["flags"] == []
    skipped = _run(real, synthetic, sdtypes, schema_for)
    assert skipped.results["fairness"] == {"skipped": "no sensitive_attributes in the config"}
    assert not any(key.startswith("fairness.") for key in skipped.metrics)


def test_random_halves_of_adult_flag_nothing(halves, adult_schema):
    real, synthetic = halves
    result = _adult_fairness(real, synthetic, adult_schema)
    assert result.metrics["fairness.flagged_slices"] == 0
    slices = _slices(result)
    # 5 races, 2 sexes, 5 age bins: every slice has 30 or more real rows, so every one is tested, none flagged.
    assert len(slices) == 12
    tests = result.results["fairness"]["tests"]
    for entry in slices.values():
        assert entry["flags"] == []
        for kind in ("representation", "distortion"):
            assert entry["tests"][kind]["test"] == tests[kind]
            assert entry["tests"][kind]["significant"] is False
            assert entry["tests"][kind]["adjusted_p_value"] >= 0.05
    assert "Holm-corrected over the tested slices of the attribute" in tests["representation"]
    assert "200 resamples of both tables, seed 0" in tests["distortion"]
    # The noise the fixed thresholds used to flag: 137 synthetic rows for 174 real ones is a share ratio of
    # 0.787 < 0.8, yet well within sampling error of 0.8.
    eskimo = slices["race", "Amer-Indian-Eskimo"]
    assert (eskimo["real_rows"], eskimo["synthetic_rows"]) == (174, 137)
    assert eskimo["synthetic_share"] < 0.8 * eskimo["real_share"]
    assert eskimo["tests"]["representation"]["p_value"] > 0.3
    assert result.results["fairness"]["thresholds"]["alpha"] == 0.05
    assert result.results["fairness"]["thresholds"]["bootstrap_resamples"] == 200
    assert "fairness.flagged_slices" not in result.insufficient


@pytest.mark.parametrize(("kept", "flag"), [(0.0, "missing"), (0.1, "under_represented")])
def test_a_dropped_or_thinned_group_is_flagged(halves, adult_schema, kept, flag):
    real, synthetic = halves
    female = synthetic["sex"] == "Female"
    keep = ~female | (np.random.default_rng(9).random(len(synthetic)) < kept)
    result = _adult_fairness(real, synthetic[keep].reset_index(drop=True), adult_schema)
    slices = _slices(result)
    assert slices["sex", "Female"]["flags"] == [flag]
    assert slices["sex", "Male"]["flags"] == []
    representation = slices["sex", "Female"]["tests"]["representation"]
    assert representation["significant"] is True and representation["adjusted_p_value"] < 1e-12
    if flag == "missing":
        assert slices["sex", "Female"]["synthetic_rows"] == 0
        assert slices["sex", "Female"]["tests"]["distortion"] is None
    else:
        assert 0 < slices["sex", "Female"]["synthetic_share"] < 0.2 * slices["sex", "Female"]["real_share"]


def test_a_distorted_group_is_flagged_distorted(halves, adult_schema):
    real, synthetic = halves
    black = synthetic["race"] == "Black"
    distorted = synthetic.copy()
    generator = np.random.default_rng(7)
    # The synthetic Black rows get every other column's values at random among that column's values.
    for column in (c for c in synthetic.columns if c != "race"):
        distorted.loc[black, column] = generator.choice(synthetic[column].unique(), int(black.sum()))
    distorted = distorted.astype(synthetic.dtypes.to_dict())
    result = _adult_fairness(real, distorted, adult_schema)
    slices = _slices(result)
    assert slices["race", "Black"]["flags"] == ["distorted"]
    assert slices["race", "Black"]["gap"] > 0.4
    distortion = slices["race", "Black"]["tests"]["distortion"]
    assert distortion["p_value"] == 1 / 201 and distortion["adjusted_p_value"] == pytest.approx(5 / 201)
    assert distortion["error_bound"] < 0.1
    assert result.metrics["fairness.flagged_slices"] == 1


def test_a_one_row_slice_is_never_flagged(schema_for):
    generator = np.random.default_rng(5)
    real = pd.DataFrame({"group": ["a"] * 60 + ["b"] * 60 + ["solo", "duo"], "value": generator.normal(0, 1, 122)})
    # "solo" has no synthetic row (was: missing); "duo" keeps one row in a table twice as large, with a value
    # far from its real one (was: under-represented, share 1/240 < 0.8 x 1/122).
    synthetic = pd.DataFrame(
        {"group": ["a"] * 120 + ["b"] * 119 + ["duo"], "value": np.r_[generator.normal(0, 1, 239), 50.0]}
    )
    result = _run(
        real, synthetic, {"group": "categorical", "value": "numerical"}, schema_for, sensitive_attributes=("group",)
    )
    slices = {entry["slice"]: entry for entry in result.results["fairness"]["attributes"][0]["slices"]}
    for name in ("solo", "duo"):
        assert slices[name]["real_rows"] == 1
        assert slices[name]["flags"] == []
        assert slices[name]["score"] is None
        assert slices[name]["not_scored"] == "fewer than 30 real rows: too small to test, never flagged"
        assert slices[name]["tests"] == {"representation": None, "distortion": None}
    assert slices["duo"]["synthetic_share"] < 0.8 * slices["duo"]["real_share"]
    assert slices["a"]["tests"]["representation"] is not None
    assert result.metrics["fairness.flagged_slices"] == 0


def test_an_attribute_without_a_testable_slice_makes_the_slice_metrics_insufficient(schema_for):
    real = pd.DataFrame({"group": ["a"] * 20 + ["b"] * 20, "value": np.arange(40) % 7 + 0.5})
    synthetic = pd.DataFrame({"group": ["a"] * 40, "value": np.arange(40) % 7 + 0.5})
    result = _run(
        real, synthetic, {"group": "categorical", "value": "numerical"}, schema_for, sensitive_attributes=("group",)
    )
    reason = "no slice of 'group' has 30 or more real rows: nothing to test"
    assert result.insufficient == {"fairness.flagged_slices": reason, "fairness.max_slice_gap": reason}
    assert result.metrics["fairness.flagged_slices"] is None and result.metrics["fairness.max_slice_gap"] is None
    assert abs(result.metrics["fairness.max_tvd"] - 0.5) <= 1e-12
    assert all(entry["flags"] == [] for entry in result.results["fairness"]["attributes"][0]["slices"])


def test_the_representation_test_is_the_miettinen_nurminen_score_test():
    # Ratio 1: the restricted estimate is the pooled share, as in the plain two-proportion score test.
    pooled = 80 / 2000
    z = (30 / 1000 - 50 / 1000) / np.sqrt(pooled * (1 - pooled) * (2 / 1000) * 2000 / 1999)
    assert abs(under_representation_p(np.array([50]), 1000, np.array([30]), 1000, 1.0)[0] - norm.cdf(z)) <= 1e-12
    # Ratio 0.8: the closed-form restricted estimate maximises the likelihood under q = 0.8 p.
    x, n, y, m, r = 50, 1000, 20, 1500, 0.8

    def minus_log_likelihood(p):
        return -(x * np.log(p) + (n - x) * np.log(1 - p) + y * np.log(r * p) + (m - y) * np.log(1 - r * p))

    p_tilde = minimize_scalar(
        minus_log_likelihood, bounds=(1e-9, 1 - 1e-9), method="bounded", options={"xatol": 1e-12}
    ).x
    variance = (r**2 * p_tilde * (1 - p_tilde) / n + r * p_tilde * (1 - r * p_tilde) / m) * (n + m) / (n + m - 1)
    expected = norm.cdf((y / m - r * x / n) / np.sqrt(variance))
    assert abs(under_representation_p(np.array([x]), n, np.array([y]), m, r)[0] - expected) <= 1e-8
    # A share at or above the ratio is not significant; nor are zero real and synthetic rows (p-value 1).
    at_ratio, above, nothing = under_representation_p(np.array([10, 10, 0]), 1000, np.array([8, 10, 0]), 1000, 0.8)
    assert abs(at_ratio - 0.5) <= 1e-12 and 0.5 < above < 1 and nothing == 1.0


def test_holm_adjusts_step_down():
    assert holm(np.array([0.01, 0.04, 0.03])).tolist() == pytest.approx([0.03, 0.06, 0.06])
    assert holm(np.array([0.5, 0.001])).tolist() == pytest.approx([0.5, 0.002])
    assert holm(np.array([])).size == 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(float("nan")), st.integers(-3, 3).map(float)), max_size=40),
    st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(float("nan")), st.integers(-3, 3).map(float)), max_size=40),
)
def test_ks_complement_equals_sdmetrics(real, synthetic):
    ours = ks_complement(pd.Series(real, dtype=float), pd.Series(synthetic, dtype=float))
    reference = KSComplement.compute(pd.Series(real, dtype=float), pd.Series(synthetic, dtype=float))
    assert (np.isnan(ours) and np.isnan(reference)) or ours == reference


def test_ks_complement_equals_sdmetrics_on_datetimes():
    generator = np.random.default_rng(4)
    real = pd.Series(pd.to_datetime("2020-01-01") + pd.to_timedelta(generator.integers(0, 10**15, 300), unit="ns"))
    synthetic = pd.Series(pd.to_datetime("2020-01-01") + pd.to_timedelta(generator.integers(0, 10**15, 200), unit="ns"))
    real[::7] = pd.NaT
    assert ks_complement(real, synthetic) == KSComplement.compute(real, synthetic)


def test_ks_complement_equals_sdmetrics_beyond_scipys_exact_mode():
    generator = np.random.default_rng(5)
    real, synthetic = pd.Series(generator.normal(0, 1, 12_000)), pd.Series(generator.normal(0.05, 1, 7_001))
    assert ks_complement(real, synthetic) == KSComplement.compute(real, synthetic)
