"""Columns encoded once for every metric that reads them: shared category codes, continuous values, bins.

What sdmetrics 0.32 does to a column before its metrics see it, reproduced here once per column instead of
once per metric and per pair:

- discrete columns (categorical, ordinal, boolean): values compared by equality, missing values one value
  of their own in pairs (``groupby(dropna=False)``) and left out of shapes (``dropna``). Real and synthetic
  values are factorised together, so a code means the same value in both tables;
- continuous columns (numerical, datetime): Column Pair Trends turns datetimes into nanoseconds (float64
  with NaN where a value is missing, int64 when none is: ``_convert_datetime_columns_to_numeric``) and
  bins each table's values with that table's own ``np.histogram_bin_edges`` (10 bins) and ``np.digitize``
  (``ColumnPairTrends._discretize_column``): NaN and the largest value both land in bin 11, a quirk kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from registry.evaluation.keys import joint_codes

CONTINUOUS_SDTYPES = ("numerical", "datetime")
DISCRETE_SDTYPES = ("categorical", "ordinal", "boolean")
# np.digitize with 10 bins (11 edges) returns 0..11.
BIN_CODES = 12


@dataclass(frozen=True)
class Discrete:
    """Shared codes of a discrete column: ``size`` codes, ``missing`` the code of a missing value (or None)."""

    real: np.ndarray
    synthetic: np.ndarray
    size: int
    missing: int | None


@dataclass(frozen=True)
class Continuous:
    """A continuous column as Column Pair Trends reads it, with its bins (or why they could not be drawn)."""

    real: np.ndarray
    synthetic: np.ndarray
    real_bins: np.ndarray | None
    synthetic_bins: np.ndarray | None
    binning_error: str | None


def discrete_from_codes(codes: Sequence[np.ndarray], uniques: pd.Index) -> Discrete:
    """A ``Discrete`` from ``keys.joint_codes``' (real, synthetic) codes and their values."""
    missing = np.flatnonzero(pd.isna(np.asarray(uniques, dtype=object)))
    return Discrete(
        real=codes[0], synthetic=codes[1], size=len(uniques), missing=int(missing[0]) if missing.size else None
    )


def encode_discrete(real: pd.Series, synthetic: pd.Series) -> Discrete:
    return discrete_from_codes(*joint_codes([real, synthetic]))


def pair_values(series: pd.Series) -> np.ndarray:
    """The column as ``ColumnPairTrends._get_processed_data`` leaves it (datetimes in nanoseconds)."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        nanoseconds = series.to_numpy().view(np.int64)
        missing = series.isna().to_numpy()
        if missing.any():
            nanoseconds = nanoseconds.astype(np.float64)
            nanoseconds[missing] = np.nan
        return nanoseconds
    return series.to_numpy()


def _bins(values: np.ndarray) -> np.ndarray:
    present = values[~np.isnan(values)] if values.dtype.kind == "f" else values
    # 0..11 fits int8: the bins of every continuous column are kept for its pairs, an eighth of int64's memory.
    return np.digitize(values, bins=np.histogram_bin_edges(present)).astype(np.int8)


def _try_bins(values: np.ndarray) -> tuple[np.ndarray | None, str | None]:
    try:
        return _bins(values), None
    except Exception as exc:  # sdmetrics records any binning failure as the pair's error
        return None, f"{type(exc).__name__}: {exc}"


def encode_continuous(real: pd.Series, synthetic: pd.Series) -> Continuous:
    real_values, synthetic_values = pair_values(real), pair_values(synthetic)
    real_bins, real_error = _try_bins(real_values)
    synthetic_bins, synthetic_error = _try_bins(synthetic_values)
    # sdmetrics keeps one message per column: the synthetic table's overwrites the real one's.
    return Continuous(real_values, synthetic_values, real_bins, synthetic_bins, synthetic_error or real_error)
