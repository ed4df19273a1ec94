"""The demo's tables: UCI Adult split into training and holdout, a faithful and a leaky synthetic version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .copula import GaussianCopulaSynthesizer

ADULT = Path(__file__).resolve().parents[2] / "data" / "demo" / "adult.csv.gz"
SPLIT_SEED = 7
GENERATOR_SEED = 42
HOLDOUT_SHARE = 0.2
# The leaky version: 40% of its rows are verbatim training rows, 20% training rows with age moved by one
# year; the rest comes from the generator. Evaluation must catch both kinds of copying.
LEAK_EXACT_SHARE = 0.4
LEAK_NEAR_SHARE = 0.2
# What `manage.py demo` asks the registry to evaluate (the evaluation request's fields).
DEMO_EVALUATION_CONFIG = {
    "sensitive_attributes": ["race", "sex"],
    "quasi_identifiers": ["age", "sex", "race", "education"],
    "disclosure_sensitive": ["income"],
    "target_column": "income",
    "seed": 0,
}


@dataclass(frozen=True)
class DemoTables:
    train: pd.DataFrame
    holdout: pd.DataFrame
    faithful: pd.DataFrame
    leaky: pd.DataFrame
    generator_parameters: dict


def split_adult(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded 80/20 split of the real table into the generator's training data and a holdout."""
    rng = np.random.default_rng(SPLIT_SEED)
    holdout_mask = rng.random(len(frame)) < HOLDOUT_SHARE
    return frame[~holdout_mask].reset_index(drop=True), frame[holdout_mask].reset_index(drop=True)


def make_leaky(train: pd.DataFrame, synthetic: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Replace most synthetic rows by copies and near-copies of training rows, then shuffle."""
    rng = np.random.default_rng(seed)
    n = len(synthetic)
    n_exact, n_near = int(LEAK_EXACT_SHARE * n), int(LEAK_NEAR_SHARE * n)
    picked = rng.choice(len(train), n_exact + n_near, replace=False)
    exact = train.iloc[picked[:n_exact]]
    near = train.iloc[picked[n_exact:]].copy()
    near["age"] = (near["age"] + rng.choice([-1, 1], n_near)).clip(lower=17)
    kept = synthetic.iloc[: n - n_exact - n_near]
    leaky = pd.concat([kept, exact, near], ignore_index=True)
    return leaky.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def build_demo_tables(path: Path = ADULT) -> DemoTables:
    """Everything the demo registers; deterministic, so re-running the demo registers nothing new."""
    real = pd.read_csv(path)
    train, holdout = split_adult(real)
    synthesizer = GaussianCopulaSynthesizer(seed=GENERATOR_SEED).fit(train)
    faithful = synthesizer.sample(len(train))
    leaky = make_leaky(train, synthesizer.sample(len(train)), seed=GENERATOR_SEED)
    return DemoTables(train, holdout, faithful, leaky, synthesizer.parameters)
