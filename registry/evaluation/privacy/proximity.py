"""Linkability through proximity: are synthetic rows closer to the training records than fresh real records are?

Distances are sdmetrics' DCR row distance (``distance.py``), every table measured against the training
table's column ranges, and the training table subsampled (seeded) to the holdout's size so that a generator
that did not memorise scores the ideal values below.

- **DCR share** (MOSTLY AI QA, ``mostlyai-qa`` ``dcr_share``): the share of synthetic rows closer to the
  training records than to the holdout records, ties counted half. 0.5 = no closer to the training data than
  to unseen data from the same population; 1 = every synthetic row sits on a training record.
- **NNDR** (MOSTLY AI QA; SynthEval): distance to the nearest / second-nearest training record, for
  synthetic rows and for holdout rows (1 when both are 0: a record repeated in the training data). A
  synthetic table whose low NNDRs (10th percentile) fall far below the holdout's reproduces individual
  records rather than the population around them.

Both carry seeded percentile-bootstrap 95% intervals (over synthetic rows, and over holdout rows).
"""

from __future__ import annotations

import numpy as np

from registry.evaluation.privacy.intervals import bootstrap

SOURCE_DCR_SHARE = "MOSTLY AI QA (mostlyai-qa, dcr_share)"
SOURCE_NNDR = "MOSTLY AI QA; SynthEval (nearest-neighbour distance ratio)"
NNDR_QUANTILE = 10  # percent


def _share(closer: np.ndarray) -> float:
    return float(closer.mean())


def dcr_share(dcr_training: np.ndarray, dcr_holdout: np.ndarray, *, resamples: int, seed: int) -> dict:
    """Share of synthetic rows closer to training than to holdout records (ties count half)."""
    closer = np.where(dcr_training < dcr_holdout, 1.0, np.where(dcr_training == dcr_holdout, 0.5, 0.0))
    return {
        "share": _share(closer),
        "interval_95": bootstrap(_share, (closer,), resamples=resamples, seed=seed),
        "interval_method": f"percentile bootstrap over synthetic rows ({resamples} resamples, seed {seed})",
        "ties": int((dcr_training == dcr_holdout).sum()),
        "ideal": 0.5,
        "source": SOURCE_DCR_SHARE,
    }


def ratios(nearest: np.ndarray) -> np.ndarray:
    """NNDR per row from (nearest, second-nearest) distances; 1 when both are 0."""
    first, second = nearest[:, 0], nearest[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(second > 0, first / second, 1.0)


def _low(values: np.ndarray) -> float:
    return float(np.percentile(values, NNDR_QUANTILE))


def _ratio_of_lows(synthetic: np.ndarray, holdout: np.ndarray) -> float:
    low = _low(holdout)
    return _low(synthetic) / low if low > 0 else np.nan


def nndr(synthetic_nearest: np.ndarray, holdout_nearest: np.ndarray, *, resamples: int, seed: int) -> dict:
    """NNDR of synthetic rows against holdout rows: their 10th percentiles, medians and the ratio of the lows."""
    synthetic, holdout = ratios(synthetic_nearest), ratios(holdout_nearest)
    low_synthetic, low_holdout = _low(synthetic), _low(holdout)
    method = f"percentile bootstrap over rows ({resamples} resamples, seed {seed})"
    return {
        "synthetic_p10": low_synthetic,
        "synthetic_p10_interval_95": bootstrap(_low, (synthetic,), resamples=resamples, seed=seed),
        "holdout_p10": low_holdout,
        "holdout_p10_interval_95": bootstrap(_low, (holdout,), resamples=resamples, seed=seed + 1),
        "synthetic_median": float(np.median(synthetic)),
        "holdout_median": float(np.median(holdout)),
        "p10_ratio": low_synthetic / low_holdout if low_holdout > 0 else None,
        "p10_ratio_interval_95": bootstrap(_ratio_of_lows, (synthetic, holdout), resamples=resamples, seed=seed + 2),
        "interval_method": method,
        "source": SOURCE_NNDR,
    }
