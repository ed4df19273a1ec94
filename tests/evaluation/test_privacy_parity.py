"""Privacy numbers against sdmetrics 0.32 itself, called directly as the reference."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sdmetrics.single_table import DCRBaselineProtection, DCROverfittingProtection, NewRowSynthesis
from sdmetrics.single_table.privacy.dcr_utils import calculate_dcr
from sdmetrics.single_table.privacy.disclosure_protection import DisclosureProtection

from registry.evaluation.engine import EvaluationConfig, run_evaluation
from registry.evaluation.privacy.copies import exact_copies, new_row_synthesis
from registry.evaluation.privacy.dcr_scores import (
    overfitting_protection,
    random_baseline_table,
)
from registry.evaluation.privacy.disclosure import disclosure_protection
from registry.evaluation.privacy.distance import distance_to_closest_record

TOLERANCE = 1e-9


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _nrs(real, synthetic, sdtypes):
    copied = exact_copies(real, synthetic, list(sdtypes))["copied_mask"]
    return new_row_synthesis(real, synthetic, sdtypes, already_matched=copied)


def test_new_row_synthesis_matches_sdmetrics_on_adult(adult_small, adult_sdtypes, metadata_for):
    real, synthetic = adult_small
    ours = _nrs(real, synthetic, adult_sdtypes)
    reference = NewRowSynthesis.compute_breakdown(real, synthetic, metadata_for(adult_sdtypes))
    assert ours["num_new_rows"] == reference["num_new_rows"]
    assert abs(ours["score"] - reference["score"]) <= TOLERANCE
    assert ours["num_matched_rows"] > 12  # the planted copies and near-copies within 1%


def test_new_row_synthesis_matches_sdmetrics_on_tricky_tables(tricky, metadata_for):
    real, synthetic, sdtypes = tricky
    ours = _nrs(real, synthetic, sdtypes)
    reference = NewRowSynthesis.compute_breakdown(real, synthetic, metadata_for(sdtypes))
    assert ours["num_new_rows"] == reference["num_new_rows"]
    assert 0 < ours["num_matched_rows"] < len(synthetic)


def test_new_row_synthesis_tolerance_boundary_and_zero():
    real = pd.DataFrame({"x": [100.0, 0.0, -50.0], "c": ["a", "a", "b"]})
    synthetic = pd.DataFrame({"x": [101.0, 98.9, 0.0, 1e-12, -50.4, -50.6], "c": ["a", "a", "a", "a", "b", "b"]})
    sdtypes = {"x": "numerical", "c": "categorical"}
    ours = _nrs(real, synthetic, sdtypes)
    reference = NewRowSynthesis.compute_breakdown(
        real, synthetic, {"columns": {k: {"sdtype": v} for k, v in sdtypes.items()}}
    )
    # |100 - 101| <= 1.01 and |-50 + 50.4| <= 0.504 match; 98.9 and -50.6 miss; 0 matches only an exact 0.
    assert ours["num_matched_rows"] == reference["num_matched_rows"] == 3


def test_dcr_equals_sdmetrics_distances(adult_small, adult_sdtypes, metadata_for):
    real, synthetic = adult_small
    ours = distance_to_closest_record(synthetic, real, adult_sdtypes)
    reference = calculate_dcr(synthetic, real, metadata_for(adult_sdtypes)).to_numpy()
    assert np.abs(ours - reference).max() <= TOLERANCE
    assert abs(np.median(ours) - np.median(reference)) <= TOLERANCE
    assert int((ours == 0).sum()) == int((reference == 0).sum()) >= 12


def test_dcr_equals_sdmetrics_on_tricky_tables(tricky, metadata_for):
    real, synthetic, sdtypes = tricky
    ours = distance_to_closest_record(synthetic, real, sdtypes)
    reference = calculate_dcr(synthetic, real, metadata_for(sdtypes)).to_numpy()
    assert np.abs(ours - reference).max() <= TOLERANCE


def test_dcr_with_loose_bound_high_cardinality_and_missing(metadata_for):
    generator = np.random.default_rng(8)

    def table(rows):
        return pd.DataFrame(
            {
                "code": generator.integers(0, 300, rows).astype(str),
                "x": np.where(generator.random(rows) < 0.3, np.nan, generator.normal(0, 1, rows)),
            }
        )

    real, synthetic = table(220), table(90)
    sdtypes = {"code": "categorical", "x": "numerical"}
    ours = distance_to_closest_record(synthetic, real, sdtypes)
    reference = calculate_dcr(synthetic, real, metadata_for(sdtypes)).to_numpy()
    assert np.abs(ours - reference).max() <= TOLERANCE


def test_dcr_baseline_protection_is_reproduced_by_sdmetrics_alone(
    adult_small, adult_sdtypes, adult_schema, metadata_for
):
    real, synthetic = adult_small
    ours = run_evaluation(real, synthetic, columns=adult_schema, config=EvaluationConfig(kinds=("privacy",), seed=11))
    # What the card tells a user to run: sdmetrics' own seed hook and NumPy's global generator.
    DCRBaselineProtection._seed = 11
    np.random.seed(11)
    try:
        reference = DCRBaselineProtection.compute_breakdown(real, synthetic, metadata_for(adult_sdtypes), None)
    finally:
        DCRBaselineProtection._seed = None
    medians = reference["median_DCR_to_real_data"]
    dcr = ours.results["privacy"]["dcr"]
    assert abs(ours.metrics["privacy.dcr_median"] - medians["synthetic_data"]) <= TOLERANCE
    assert abs(dcr["baseline"]["random_median"] - medians["random_data_baseline"]) <= TOLERANCE
    assert abs(ours.metrics["privacy.dcr_baseline_protection"] - reference["score"]) <= TOLERANCE
    assert "DCRBaselineProtection._seed = 11 and np.random.seed(11)" in dcr["baseline"]["random_table"]


def test_random_baseline_table_follows_the_real_columns(tricky):
    real, _, _ = tricky
    table = random_baseline_table(real, 500, seed=4)
    assert list(table.columns) == list(real.columns) and len(table) == 500
    assert table["count"].dropna().between(real["count"].min(), real["count"].max()).all()
    assert set(table["colour"].dropna()) <= set(real["colour"].dropna())
    assert table["when"].dropna().between(real["when"].min(), real["when"].max()).all()
    assert random_baseline_table(real, 500, seed=4).equals(table)


def test_dcr_overfitting_protection_equals_sdmetrics(adult, adult_sdtypes, metadata_for, resample):
    training = adult.sample(200, random_state=21).reset_index(drop=True)
    holdout = adult.sample(200, random_state=22).reset_index(drop=True)
    synthetic = resample(training, 150, seed=23, copies=20)
    reference = DCROverfittingProtection.compute_breakdown(
        training, synthetic, holdout, metadata_for(adult_sdtypes), None
    )
    ours = overfitting_protection(
        distance_to_closest_record(synthetic, training, adult_sdtypes),
        distance_to_closest_record(synthetic, holdout, adult_sdtypes),
    )
    assert abs(ours["score"] - reference["score"]) <= TOLERANCE
    percentages = reference["synthetic_data_percentages"]
    assert abs(ours["closer_to_training"] - percentages["closer_to_training"]) <= TOLERANCE


@pytest.mark.parametrize(
    ("known", "sensitive", "continuous"),
    [
        (["age", "sex", "race"], ["income"], ["age"]),
        (["workclass", "education"], ["occupation", "income"], []),
        (
            ["native_country", "hours_per_week"],
            ["marital_status", "capital_gain"],
            ["hours_per_week", "capital_gain"],
        ),
    ],
)
def test_disclosure_protection_equals_sdmetrics(adult, resample, known, sensitive, continuous):
    real = adult.sample(600, random_state=31).reset_index(drop=True)
    synthetic = resample(real, 500, seed=32, copies=50)
    ours = disclosure_protection(real, synthetic, known, sensitive, continuous)
    reference = DisclosureProtection.compute_breakdown(
        real, synthetic, known, sensitive, continuous_column_names=continuous or None
    )
    for key in ("score", "cap_protection", "baseline_protection"):
        assert abs(ours[key] - reference[key]) <= TOLERANCE


def test_disclosure_protection_with_missing_values_equals_sdmetrics(tricky):
    real, synthetic, _ = tricky
    known, sensitive = ["colour", "amount"], ["tier"]
    ours = disclosure_protection(real, synthetic, known, sensitive, ["amount"], num_discrete_bins=4)
    reference = DisclosureProtection.compute_breakdown(
        real, synthetic, known, sensitive, continuous_column_names=["amount"], num_discrete_bins=4
    )
    for key in ("score", "cap_protection", "baseline_protection"):
        assert abs(ours[key] - reference[key]) <= TOLERANCE


def test_cap_missing_datetimes_follows_sdmetrics_by_default_and_can_keep_them_a_category():
    generator = np.random.default_rng(5)
    rows = 300
    when = pd.Series(pd.to_datetime("2021-01-01") + pd.to_timedelta(generator.integers(0, 365, rows), unit="D"))
    when[generator.random(rows) < 0.2] = pd.NaT
    real = pd.DataFrame({"when": when, "tier": generator.choice(np.array(["a", "b", "c"], dtype=object), rows)})
    real.loc[real["when"].isna(), "tier"] = "a"  # the missing dates say something about the tier
    synthetic = real.sample(250, random_state=6).reset_index(drop=True)
    columns = [{"name": "when", "sdtype": "datetime"}, {"name": "tier", "sdtype": "categorical"}]

    def cap(option):
        config = EvaluationConfig(
            kinds=("privacy",),
            quasi_identifiers=("when",),
            disclosure_sensitive=("tier",),
            cap_missing_datetimes=option,
        )
        result = run_evaluation(real, synthetic, columns=columns, config=config)
        assert result.results["privacy"]["disclosure_protection"]["missing_datetimes"] == option
        return result.metrics["privacy.disclosure_protection"]

    reference = DisclosureProtection.compute(real, synthetic, ["when"], ["tier"], continuous_column_names=["when"])
    assert abs(cap("sdmetrics") - reference) <= TOLERANCE
    # sdmetrics bins the int64 minimum that NaT becomes with the dates, stretching the bins over 290 years:
    # every date lands in one bin. As a category of its own, missing stays apart and the dates are binned.
    assert abs(cap("category") - reference) > 0.05
