"""quality.detection: the native LogisticDetection against sdmetrics 0.32's own, fold by fold.

hypothesis is not installed in the project's environment, so the generated tables are parametrised over
seeds instead: each seed draws a different mix of sizes, missing values, NaT, infinities, rare and
real-only categories, and a distribution shift of a different strength.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import sdmetrics.single_table.detection.base as sdmetrics_detection
from sdmetrics.single_table import LogisticDetection
from threadpoolctl import threadpool_limits

from registry.evaluation.detection import MIN_ROWS, SOURCE, detection_result, logistic_detection
from registry.evaluation.engine import EvaluationConfig, run_evaluation

TOLERANCE = 1e-9


def sdmetrics_detection_run(monkeypatch, real, synthetic, metadata, seed, *, one_blas_thread=True):
    """sdmetrics' score and its per-fold ROC AUCs (recorded on the way), seeded as the module docs say."""
    aucs: list[float] = []
    original = sdmetrics_detection.roc_auc_score

    def recording(*args, **kwargs):
        aucs.append(float(original(*args, **kwargs)))
        return aucs[-1]

    monkeypatch.setattr(sdmetrics_detection, "roc_auc_score", recording)
    with warnings.catch_warnings(), threadpool_limits(limits=1 if one_blas_thread else None, user_api="blas"):
        warnings.simplefilter("ignore")
        np.random.seed(seed)
        score = LogisticDetection.compute(real, synthetic, metadata)
    monkeypatch.setattr(sdmetrics_detection, "roc_auc_score", original)
    return float(score), aucs


@pytest.fixture(scope="module")
def adult_pair(adult, resample):
    """3,000 real Adult rows and a 2,400-row noisy resample, older and more often 'Private'."""
    real = adult.sample(3000, random_state=21).reset_index(drop=True)
    synthetic = resample(real, 2400, seed=22)
    synthetic["age"] = synthetic["age"] + 3
    synthetic.loc[synthetic.index % 5 == 0, "workclass"] = "Private"
    return real, synthetic


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_adult_sample_equals_sdmetrics_fold_by_fold(monkeypatch, adult_pair, adult_sdtypes, metadata_for, seed):
    real, synthetic = adult_pair
    ours = logistic_detection(real, synthetic, adult_sdtypes, seed)
    score, aucs = sdmetrics_detection_run(monkeypatch, real, synthetic, metadata_for(adult_sdtypes), seed)
    assert abs(ours["score"] - score) <= TOLERANCE
    assert ours["auc_per_fold"] == aucs  # the same folds and the same fits, not merely a close mean
    assert all(0.5 < auc < 1 for auc in aucs)  # not a comparison of clipped values
    assert ours["sdmetrics_comparable"] is True
    assert ours["deviations"] == []
    assert ours["folds"] == 3
    assert ours["rows"] == {"real": 3000, "synthetic": 2400}
    assert ours["source"] == SOURCE == "sdmetrics 0.32 LogisticDetection"
    assert ours["features"] == 6 + sum(real[name].nunique(dropna=False) for name in real if real[name].dtype == object)
    assert ours["iterations_per_fold"] == [100, 100, 100]  # stops at the cap, as sdmetrics' fits do


def test_without_a_thread_limit_it_equals_a_plain_sdmetrics_call(monkeypatch, adult_pair, adult_sdtypes, metadata_for):
    real, synthetic = adult_pair
    ours = logistic_detection(real, synthetic, adult_sdtypes, 4, blas_threads=None)
    score, aucs = sdmetrics_detection_run(
        monkeypatch, real, synthetic, metadata_for(adult_sdtypes), 4, one_blas_thread=False
    )
    assert abs(ours["score"] - score) <= TOLERANCE
    assert ours["auc_per_fold"] == aucs
    assert ours["blas_threads"] is None


def generated_tables(seed: int) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """Real and shifted 'synthetic' tables with every column kind the encoder distinguishes."""
    generator = np.random.default_rng(seed)
    shift = [0.0, 0.15, 0.4, 1.0][seed % 4]
    categories = np.array(["a", "b", "c", "d", "rare"], dtype=object)

    def table(rows: int, shift: float, rare: float) -> pd.DataFrame:
        weights = np.array([0.4 - shift / 10, 0.3, 0.2 + shift / 10, 0.1 - rare, rare])
        frame = pd.DataFrame(
            {
                "row_id": np.arange(rows) + 1000 * seed,
                "x": generator.normal(shift, 1, rows),
                "count": generator.integers(0, 8, rows),
                "gamma": np.where(generator.random(rows) < 0.2, np.nan, generator.gamma(2, 3 + shift, rows)),
                "constant": np.full(rows, 3.5),
                "when": pd.Timestamp("2020-01-01")
                + pd.to_timedelta(generator.integers(0, 10**9, rows) + int(shift * 3e8), unit="s"),
                "colour": generator.choice(categories, rows, p=weights / weights.sum()),
                "maybe": generator.choice(np.array(["u", "v", np.nan], dtype=object), rows),
                "flag": generator.random(rows) < 0.3 + shift / 5,
                "yes_no": generator.choice(np.array([True, False, np.nan], dtype=object), rows),
                "code": generator.choice([1, 2, 3], rows, p=[0.5, 0.3 + shift / 10, 0.2 - shift / 10]),
                "size": generator.choice(np.array(["S", "M", "L"], dtype=object), rows),
            }
        )
        frame.loc[generator.random(rows) < 0.1, "when"] = pd.NaT
        return frame

    real = table(int(generator.integers(150, 900)), 0.0, rare=0.01)
    synthetic = table(int(generator.integers(150, 900)), shift, rare=0.0)
    if seed % 3 == 0:
        # Infinities: sdmetrics turns them into NaN after the encoding (then mean-imputes per fold).
        real.loc[[1, 5], "x"] = np.inf
        synthetic.loc[[2], "gamma"] = -np.inf
    # The rare category must stay out of the synthetic table (it is allowed to be real-only).
    synthetic["colour"] = synthetic["colour"].where(synthetic["colour"] != "rare", "a")
    sdtypes = {
        "row_id": "id",
        "x": "numerical",
        "count": "numerical",
        "gamma": "numerical",
        "constant": "numerical",
        "when": "datetime",
        "colour": "categorical",
        "maybe": "categorical",
        "flag": "boolean",
        "yes_no": "categorical",
        "code": "categorical",
        "size": "ordinal",
    }
    return real, synthetic, sdtypes


@pytest.mark.parametrize("seed", range(8))
def test_generated_tables_equal_sdmetrics(monkeypatch, metadata_for, seed):
    real, synthetic, sdtypes = generated_tables(seed)
    assert (real["colour"] == "rare").any() and not (synthetic["colour"] == "rare").any()
    ours = logistic_detection(real, synthetic, sdtypes, seed)
    score, aucs = sdmetrics_detection_run(monkeypatch, real, synthetic, metadata_for(sdtypes), seed)
    assert abs(ours["score"] - score) <= TOLERANCE
    assert ours["auc_per_fold"] == aucs
    assert ours["deviations"] == []
    # id, boolean and ordinal columns are not modelled (sdmetrics drops them).
    assert ours["columns"] == ["x", "count", "gamma", "constant", "when", "colour", "maybe", "yes_no", "code"]
    assert ours["dropped_columns"] == {"row_id": "id", "flag": "boolean", "size": "ordinal"}
    # 7 numbers (yes_no is True/False, code is integers) + colour 5 + maybe 3 (u, v, NaN).
    assert ours["features"] == 15


def test_boolean_and_ordinal_columns_do_not_change_the_score(metadata_for):
    real, synthetic, sdtypes = generated_tables(2)
    changed = synthetic.copy()
    changed["flag"] = True
    changed["size"] = "XL"
    assert logistic_detection(real, changed, sdtypes, 5) == logistic_detection(real, synthetic, sdtypes, 5)


def test_a_table_against_itself_scores_about_one(adult_pair, adult_sdtypes):
    real, _ = adult_pair
    result = logistic_detection(real, real.copy(), adult_sdtypes, 0)
    assert result["score"] == 1.0
    # Each test row's twin sits in the other class of the training part, so the fit learns the wrong way
    # round (AUC a little below 0.5), which the max(AUC, 0.5) clip turns into exactly 1.
    assert all(0.4 < auc <= 0.5 for auc in result["auc_per_fold"])


def test_an_obviously_different_table_scores_zero(adult_pair, adult_sdtypes):
    real, synthetic = adult_pair
    different = synthetic.copy()
    different["age"] = different["age"] + 200
    different["sex"] = "Female"
    result = logistic_detection(real, different, adult_sdtypes, 0)
    assert result["score"] == 0.0
    assert result["auc_per_fold"] == [1.0, 1.0, 1.0]


def test_the_same_seed_gives_the_same_result_and_another_seed_other_folds(adult_pair, adult_sdtypes):
    real, synthetic = adult_pair
    first = logistic_detection(real, synthetic, adult_sdtypes, 11)
    assert logistic_detection(real, synthetic, adult_sdtypes, 11) == first
    assert logistic_detection(real, synthetic, adult_sdtypes, 12)["auc_per_fold"] != first["auc_per_fold"]
    # The caller's global RNG is neither used nor moved.
    state = np.random.get_state()[1].copy()
    logistic_detection(real, synthetic, adult_sdtypes, 11)
    assert np.array_equal(np.random.get_state()[1], state)


def test_a_synthetic_only_category_is_scored_and_flagged_where_sdmetrics_raises(metadata_for):
    real, synthetic, sdtypes = generated_tables(1)
    synthetic.loc[::10, "colour"] = "purple"
    with pytest.raises(ValueError, match="unknown categories"):
        LogisticDetection.compute(real, synthetic, metadata_for(sdtypes))
    result = logistic_detection(real, synthetic, sdtypes, 1)
    assert result["sdmetrics_comparable"] is False
    assert result["deviations"] == [
        "'colour': 1 synthetic category absent from the real data (sdmetrics raises); "
        "one-hot categories taken from both tables"
    ]
    assert result["features"] == 16  # purple has an indicator of its own
    assert 0 <= result["score"] < logistic_detection(real, generated_tables(1)[1], sdtypes, 1)["score"]


def test_no_modelled_column_means_no_score_with_the_reason():
    real, synthetic, _ = generated_tables(0)
    result = logistic_detection(real, synthetic, {"flag": "boolean", "size": "ordinal"}, 0)
    assert result["score"] is None
    assert result["reason"] == "no numerical, datetime or categorical column to model"


def test_too_few_rows_for_three_folds_means_no_score_with_the_reason():
    real, synthetic, sdtypes = generated_tables(0)
    result = logistic_detection(real.head(2), synthetic.head(2), sdtypes, 0)
    assert result["score"] is None
    assert result["reason"].startswith("the classifier cannot be fitted: n_splits=3 cannot be greater")


def test_detection_result_below_the_minimum_is_insufficient():
    real, synthetic, sdtypes = generated_tables(0)
    result = detection_result(real.head(MIN_ROWS - 1), synthetic, sdtypes, 0)
    assert result["insufficient"] is True
    assert result["score"] is None
    assert result["reason"].startswith(f"detection needs at least {MIN_ROWS} rows in each table (49 real,")
    assert detection_result(real.head(MIN_ROWS), synthetic.head(MIN_ROWS), sdtypes, 0)["insufficient"] is False


def test_quality_kind_reports_detection(adult_pair, adult_sdtypes, schema_for):
    real, synthetic = adult_pair
    config = EvaluationConfig(kinds=("quality",), seed=3)
    result = run_evaluation(real, synthetic, columns=schema_for(adult_sdtypes, real), config=config)
    expected = logistic_detection(real, synthetic, adult_sdtypes, 3)
    assert result.metrics["quality.detection"] == expected["score"]
    detection = result.results["quality"]["detection"]
    assert detection["auc_per_fold"] == expected["auc_per_fold"]
    assert detection["insufficient"] is False
    assert "quality.detection" not in result.insufficient


def test_quality_kind_marks_detection_insufficient_on_small_tables(adult_pair, adult_sdtypes, schema_for):
    real, synthetic = adult_pair
    real, synthetic = real.head(200), synthetic.head(40)
    config = EvaluationConfig(kinds=("quality",))
    result = run_evaluation(real, synthetic, columns=schema_for(adult_sdtypes, real), config=config)
    assert result.metrics["quality.detection"] is None
    reason = result.insufficient["quality.detection"]
    assert reason.startswith("detection needs at least 50 rows in each table (200 real, 40 synthetic)")
    assert result.results["quality"]["detection"]["reason"] == reason
    assert result.metrics["quality.overall"] is not None


def test_tables_above_the_row_cap_are_sampled_with_the_seed_and_say_so(adult, adult_sdtypes):
    real, synthetic = adult.iloc[:900].reset_index(drop=True), adult.iloc[900:1500].reset_index(drop=True)
    result = detection_result(real, synthetic, adult_sdtypes, seed=3, max_rows=500)
    positions = np.sort(np.random.default_rng(3).choice(900, size=500, replace=False))
    synthetic_positions = np.sort(np.random.default_rng(4).choice(600, size=500, replace=False))
    expected = logistic_detection(
        real.iloc[positions].reset_index(drop=True),
        synthetic.iloc[synthetic_positions].reset_index(drop=True),
        adult_sdtypes,
        3,
    )
    assert result["score"] == expected["score"]
    assert result["sampled"]["rows"] == {"real": 500, "synthetic": 500}
    assert result["sampled"]["of"] == {"real": 900, "synthetic": 600}
    assert result["deviations"][-1] == (
        "sampled to at most 500 rows a table (detection_max_rows): 500 of 900 real, 500 of 600 synthetic"
    )
    assert result["sdmetrics_comparable"] is False
    unsampled = detection_result(real, synthetic, adult_sdtypes, seed=3, max_rows=900)
    assert "sampled" not in unsampled
    assert unsampled["score"] == logistic_detection(real, synthetic, adult_sdtypes, 3)["score"]


def test_detection_can_be_switched_off(adult_small, adult_schema):
    real, synthetic = adult_small
    config = EvaluationConfig(kinds=("quality",), quality_detection=False)
    result = run_evaluation(real, synthetic, columns=adult_schema, config=config)
    assert "quality.detection" not in result.metrics
    assert result.results["quality"]["detection"] == {"skipped": "switched off (quality_detection=False)"}
