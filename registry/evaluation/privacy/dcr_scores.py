"""DCR-based scores: DCRBaselineProtection and DCROverfittingProtection (sdmetrics 0.32 definitions).

- Baseline protection = min(median DCR(synthetic -> real) / median DCR(random -> real), 1), where the
  random table has the synthetic table's size and is uniform per column over the real data's range or
  categories, with the real share of missing values. It is drawn exactly as sdmetrics draws it: the values
  of every column, in column order, from ``numpy.random.default_rng(DCRBaselineProtection._seed)``, and each
  column's missing-value mask from NumPy's global generator (``np.random.rand``). So sdmetrics alone
  reproduces the score of an evaluation with seed s::

      DCRBaselineProtection._seed = s
      np.random.seed(s)
      DCRBaselineProtection.compute(real, synthetic, metadata, None)
- Overfitting protection (with a holdout) = min(2 * (1 - p), 1), p = share of synthetic rows strictly
  closer to the training (reference) table than to the holdout.
When only a sample of synthetic rows is scored, 95% percentile-bootstrap intervals (seeded) are given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

QUANTILES = (0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)


def random_baseline_table(real: pd.DataFrame, num_rows: int, seed: int) -> pd.DataFrame:
    """sdmetrics' ``DCRBaselineProtection._generate_random_data`` with ``_seed = seed`` and ``np.random.seed(seed)``."""
    randomizer = np.random.default_rng(seed)
    legacy = np.random.RandomState(seed)  # what np.random.rand draws from after np.random.seed(seed)
    columns = {}
    for name in real.columns:
        column = real[name]
        nan_ratio = column.isna().mean()
        if pd.api.types.is_integer_dtype(column):
            values = randomizer.integers(low=column.min(), high=column.max() + 1, size=num_rows)
        elif pd.api.types.is_float_dtype(column):
            values = randomizer.uniform(low=column.min(), high=column.max(), size=num_rows)
        elif pd.api.types.is_datetime64_any_dtype(column):
            low, high = column.min(), column.max()
            seconds = randomizer.uniform(low=0, high=(high - low).total_seconds(), size=num_rows)
            values = low + pd.to_timedelta(seconds, unit="s")
        else:
            values = randomizer.choice(column.dropna().unique(), size=num_rows)
        series = pd.Series(values)
        missing = legacy.rand(num_rows) < nan_ratio  # drawn for every column, as sdmetrics does
        if missing.any():
            series[missing] = pd.NaT if pd.api.types.is_datetime64_any_dtype(column) else np.nan
        columns[name] = series
    return pd.DataFrame(columns)


def baseline_score(synthetic_median: float, random_median: float) -> float | None:
    """min(synthetic / random median DCR, 1); undefined (None) when the random median is 0."""
    if random_median == 0:
        return None
    return min(synthetic_median / random_median, 1.0)


def overfitting_protection(dcr_training: np.ndarray, dcr_holdout: np.ndarray) -> dict:
    """DCROverfittingProtection from the two DCR vectors of the same synthetic rows."""
    closer = float(np.where(dcr_training < dcr_holdout, 1.0, 0.0).sum() / dcr_training.size)
    return {
        "score": min((1.0 - closer) * 2, 1.0),
        "closer_to_training": closer,
        "closer_to_holdout": 1 - closer,
    }


def distribution(dcr: np.ndarray) -> dict:
    """Quantiles of the DCR and how many rows sit at distance 0 (copies on the compared columns)."""
    zero = int((dcr == 0).sum())
    return {
        "quantiles": {f"p{round(q * 100):02d}": float(np.quantile(dcr, q)) for q in QUANTILES},
        "mean": float(dcr.mean()),
        "zero_count": zero,
        "zero_rate": zero / dcr.size,
    }


def bootstrap_intervals(dcr_synthetic: np.ndarray, dcr_random: np.ndarray, resamples: int, seed: int) -> dict:
    """95% percentile-bootstrap intervals of the synthetic median DCR and of the baseline score."""
    generator = np.random.default_rng(seed)
    medians = np.empty(resamples)
    scores = np.empty(resamples)
    # Batches bound the memory: resamples x rows indices at once would be large for big samples.
    batch = max(1, 5_000_000 // max(dcr_synthetic.size, 1))
    for start in range(0, resamples, batch):
        stop = min(start + batch, resamples)
        size = (stop - start, dcr_synthetic.size)
        synthetic = np.median(dcr_synthetic[generator.integers(0, dcr_synthetic.size, size)], axis=1)
        randoms = np.median(dcr_random[generator.integers(0, dcr_random.size, size)], axis=1)
        medians[start:stop] = synthetic
        with np.errstate(divide="ignore", invalid="ignore"):
            scores[start:stop] = np.where(randoms == 0, np.nan, np.minimum(synthetic / randoms, 1.0))
    valid = scores[~np.isnan(scores)]
    return {
        "method": "percentile bootstrap over the sampled synthetic rows and the random baseline rows",
        "resamples": resamples,
        "median_dcr": [float(np.quantile(medians, 0.025)), float(np.quantile(medians, 0.975))],
        "baseline_protection": (
            [float(np.quantile(valid, 0.025)), float(np.quantile(valid, 0.975))] if valid.size else None
        ),
    }
