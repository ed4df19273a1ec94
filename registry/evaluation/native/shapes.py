"""Column Shapes: KSComplement and TVComplement as sdmetrics 0.32 defines them, on sorted arrays and codes.

- KSComplement (``single_column/statistical/kscomplement.py``): missing values dropped, datetimes as int64
  nanoseconds, values rounded to 14 decimals, 1 - the two-sample KS statistic D of ``scipy.stats.ks_2samp``
  (method "auto"): up to 10,000 values a side scipy computes D exactly and then snaps it to its lattice
  h / lcm(n1, n2), which is reproduced; NaN when a side has no value. The p-value, which the score never
  uses, is not computed.
- TVComplement (``single_column/statistical/tv_complement.py``, ``utils.get_frequencies``): missing values
  dropped; 1 - ½ Σ |p_synthetic - p_real| over the real categories, where a category only the synthetic
  data has is added to the real counts with weight 1e-6 (so the real total grows by 1e-6 per such category);
  IncomputableMetricError when a side has no value.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from registry.evaluation.native.encoding import Discrete

KS_DECIMALS = 14
KS_EXACT_MAX_N = 10_000
TV_EMPTY = "IncomputableMetricError: The TVComplement metric must have 1 or more non-null values."
_UNSEEN_WEIGHT = 1e-6


def sorted_present(series: pd.Series) -> np.ndarray:
    """The column's present values, sorted (datetimes as int64 nanoseconds): computed once per column and
    shared by KSComplement (``ks_values``) and the card's histograms."""
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iub":
        values = series.to_numpy()  # no missing value possible: no mask, no copy before the sort's own
    else:
        present = series.dropna()
        if pd.api.types.is_datetime64_any_dtype(present.dtype):
            values = present.to_numpy().view(np.int64)
        else:
            values = present.to_numpy()
    # Only values are kept, so the sort need not be stable (equal values are interchangeable).
    return np.sort(values)


def ks_values(series: pd.Series | None = None, *, sorted_values: np.ndarray | None = None) -> np.ndarray:
    """The column's present values, sorted, as KSComplement compares them (floats rounded to 14 decimals).

    From the column, or from its ``sorted_present`` values (rounding keeps their order).
    """
    values = sorted_present(series) if sorted_values is None else sorted_values
    return np.round(values, KS_DECIMALS) if values.dtype.kind == "f" else values


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sorted ``values``: each distinct value, and how many values are <= it."""
    if values.size == 0:
        return values, np.zeros(0, dtype=np.int64)
    ends = np.flatnonzero(np.concatenate([values[1:] != values[:-1], [True]])) + 1
    return values[ends - 1], ends


def ks_complement(real: np.ndarray, synthetic: np.ndarray) -> float:
    """1 - D for two sorted arrays (``ks_values``); NaN when one is empty."""
    n1, n2 = real.size, synthetic.size
    if n1 == 0 or n2 == 0:
        return math.nan
    # D is reached at a data point: the ECDFs at every distinct real value and every distinct synthetic value
    # (a column of a few distinct values searches only those).
    real_points, real_ends = _runs(real)
    synthetic_points, synthetic_ends = _runs(synthetic)
    at_real = real_ends / n1 - np.searchsorted(synthetic, real_points, side="right") / n2
    at_synthetic = np.searchsorted(real, synthetic_points, side="right") / n1 - synthetic_ends / n2
    largest = max(float(at_real.max()), float(at_synthetic.max()))
    smallest = min(float(at_real.min()), float(at_synthetic.min()))
    statistic = max(min(max(-smallest, 0.0), 1.0), largest)
    if max(n1, n2) <= KS_EXACT_MAX_N:
        lcm = (n1 // math.gcd(n1, n2)) * n2
        statistic = int(np.round(statistic * lcm)) * 1.0 / lcm
    return 1 - statistic


def tv_complement(codes: Discrete) -> tuple[float, str | None]:
    """TVComplement of a discrete column's shared codes: (score, error)."""
    real_counts = np.bincount(codes.real, minlength=codes.size).astype(np.float64)
    synthetic_counts = np.bincount(codes.synthetic, minlength=codes.size).astype(np.float64)
    if codes.missing is not None:
        real_counts[codes.missing] = synthetic_counts[codes.missing] = 0.0
    real_total, synthetic_total = real_counts.sum(), synthetic_counts.sum()
    if real_total == 0 or synthetic_total == 0:
        return math.nan, TV_EMPTY
    unseen = (real_counts == 0) & (synthetic_counts > 0)
    real_counts[unseen] = _UNSEEN_WEIGHT
    real_total += _UNSEEN_WEIGHT * int(unseen.sum())
    listed = real_counts > 0
    variation = np.abs(synthetic_counts[listed] / synthetic_total - real_counts[listed] / real_total).sum()
    return float(1 - 0.5 * variation), None
