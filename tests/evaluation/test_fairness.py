"""Fairness slices: TVD, missing and under-represented groups, distortion, unscored small slices."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sdmetrics.single_column import KSComplement, TVComplement

from registry.evaluation.engine import EvaluationConfig, run_evaluation


def _run(real, synthetic, sdtypes, schema_for, **options):
    config = EvaluationConfig(kinds=("fairness",), **options)
    return run_evaluation(real, synthetic, columns=schema_for(sdtypes, real), config=config)


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
    )
    attribute = result.results["fairness"]["attributes"][0]
    assert abs(attribute["tvd"] - 0.2) <= 1e-12
    slices = {entry["slice"]: entry for entry in attribute["slices"]}
    assert [entry["slice"] for entry in attribute["slices"]] == ["a", "b", "c"]
    assert slices["c"]["flags"] == ["missing"] and slices["c"]["score"] is None
    assert slices["a"]["flags"] == [] and slices["b"]["flags"] == []
    assert slices["c"]["real_rows"] == 20 and slices["c"]["synthetic_rows"] == 0
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
            "group": ["big"] * 200 + ["tiny"] * 10,
            "value": generator.normal(0, 1, 210),
            "kind": ["u", "v"] * 105,
        }
    )
    synthetic = real.copy()
    # Shift the "big" slice's values: its column-shape score falls well below the overall score.
    synthetic.loc[:99, "value"] = synthetic.loc[:99, "value"] + 5
    synthetic.loc[100:199, "kind"] = "u"
    result = _run(
        real,
        synthetic,
        {"group": "categorical", "value": "numerical", "kind": "categorical"},
        schema_for,
        sensitive_attributes=("group",),
        fairness_distortion_margin=0.0,
    )
    slices = {entry["slice"]: entry for entry in result.results["fairness"]["attributes"][0]["slices"]}
    assert slices["tiny"]["score"] is None and "not_scored" in slices["tiny"]
    assert "distorted" in slices["big"]["flags"]


def test_numerical_attribute_is_binned_and_fairness_skips_without_attributes(schema_for):
    real = pd.DataFrame({"age": np.arange(100), "y": ["a", "b"] * 50})
    synthetic = pd.DataFrame({"age": np.arange(100) + 200, "y": ["a", "b"] * 50})
    sdtypes = {"age": "numerical", "y": "categorical"}
    result = _run(real, synthetic, sdtypes, schema_for, sensitive_attributes=("age",), fairness_numeric_bins=4)
    slices = result.results["fairness"]["attributes"][0]["slices"]
    assert len(slices) == 4
    # Quartile bins of 0..99; synthetic values above the real range all fall in the top bin.
    assert slices[0]["slice"] == "[74.25, 99]" and slices[0]["synthetic_rows"] == 100
    assert [entry["slice"] for entry in slices[1:]] == ["[0, 24.75)", "[24.75, 49.5)", "[49.5, 74.25)"]
    assert all(entry["flags"] == ["missing"] for entry in slices[1:])
    skipped = _run(real, synthetic, sdtypes, schema_for)
    assert skipped.results["fairness"] == {"skipped": "no sensitive_attributes in the config"}
    assert not any(key.startswith("fairness.") for key in skipped.metrics)
