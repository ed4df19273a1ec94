"""Utility: TSTR against TRTR for categorical and numerical targets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from registry.evaluation.engine import EvaluationConfig, run_evaluation


def test_classification_with_a_seeded_split(adult, adult_schema, resample):
    real = adult.sample(2000, random_state=81).reset_index(drop=True)
    synthetic = resample(real, 1500, seed=82)
    config = EvaluationConfig(kinds=("utility",), target_column="income")
    result = run_evaluation(real, synthetic, columns=adult_schema, config=config)
    utility = result.results["utility"]
    assert utility["task"] == "classification" and utility["metric"] == "macro_f1"
    assert utility["rows"] == {"train_real": 1400, "train_synthetic": 1500, "test_real": 600}
    assert "1400 train / 600 test" in utility["split"]
    metrics = result.metrics
    assert 0.5 < metrics["utility.trtr"] <= 1 and 0.5 < metrics["utility.tstr"] <= 1
    assert metrics["utility.gap"] == metrics["utility.trtr"] - metrics["utility.tstr"]


def test_regression_target_and_a_useless_synthetic_table(schema_for):
    generator = np.random.default_rng(9)
    x = generator.normal(0, 1, 600)
    real = pd.DataFrame({"x": x, "noise": generator.normal(0, 1, 600), "y": 3 * x + generator.normal(0, 0.1, 600)})
    # The synthetic table breaks the x -> y relation: a model trained on it cannot predict real y.
    synthetic = real.assign(y=generator.permutation(real["y"].to_numpy()))
    sdtypes = {"x": "numerical", "noise": "numerical", "y": "numerical"}
    config = EvaluationConfig(kinds=("utility",), target_column="y")
    result = run_evaluation(real, synthetic, columns=schema_for(sdtypes, real), config=config)
    assert result.results["utility"]["metric"] == "r2"
    assert result.metrics["utility.trtr"] > 0.95
    assert result.metrics["utility.tstr"] < 0.2
    assert result.metrics["utility.gap"] > 0.75
