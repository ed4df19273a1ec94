"""Column Pair Trends as sdmetrics 0.32 computes it, pair by pair on encoded columns.

Sources: ``reports/single_table/_properties/column_pair_trends.py``,
``column_pairs/statistical/correlation_similarity.py`` and ``contingency_similarity.py``.

- Two continuous columns: CorrelationSimilarity = 1 - |r_real - r_synthetic| / 2 with Pearson's r of the
  rows where both are present. A column with one distinct value in either table raises ConstantInputError
  (message as sdmetrics writes it); fewer than two rows is scipy's ValueError. The real r is compared with
  the threshold first (``|r| <= threshold`` leaves the pair unscored, so with threshold 0 a real r of
  exactly 0 does too, as in sdmetrics).
- Otherwise ContingencySimilarity = 1 - ½ Σ |p_real - p_synthetic| over the joint frequencies of the two
  columns (missing values a category; a continuous column replaced by its bins, see ``encoding``). With an
  association threshold, the real table's Cramér's V (no continuity correction) must exceed it, and a real
  table with fewer than two rows or columns of categories leaves the pair unscored.
- A pair whose continuous column could not be binned carries the binning error (mixed pairs only).

Pearson's r is computed as ``scipy.stats.pearsonr`` computes it; a column with no missing value in a table
is centred and scaled once and each of its pairs is then one dot product. Cramér's V uses
χ² = Σ_{O>0} (O - E)² / E + Σ_i r_i (n - S_i) / n, where S_i is the total of the columns that row i meets:
the cells with no count contribute exactly their expected counts, so a table of millions of empty cells is
never built.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.stats import pearsonr

from registry.evaluation.native.encoding import BIN_CODES, Continuous, Discrete

CORRELATION = "CorrelationSimilarity"
CONTINGENCY = "ContingencySimilarity"
# Joint codes up to this many cells are counted with bincount; above, with np.unique.
_DENSE_CELLS = 1 << 22


@dataclass(frozen=True)
class Standardised:
    """A continuous column of one table: the mean and the largest deviation from it by which pearsonr centres
    and scales it, when it has no missing value, three rows or more and two distinct values."""

    mean: float | None  # None when pearsonr must run on the pair's rows
    largest: float | None
    constant: bool  # one distinct present value (sdmetrics' ``nunique() == 1`` check)


def standardise(values: np.ndarray) -> Standardised:
    present = values[~np.isnan(values)] if values.dtype.kind == "f" else values
    constant = present.size > 0 and bool((present == present[0]).all())
    if present.size != values.size or values.size < 3 or constant:
        return Standardised(None, None, constant)
    with np.errstate(invalid="ignore", over="ignore"):  # infinities give NaN, as in pearsonr
        mean = float(values.mean(dtype=np.float64))
        largest = float(np.max(np.abs([float(values.max()) - mean, float(values.min()) - mean])))
    return Standardised(mean, largest, constant)


_BLOCK_ROWS = 1 << 16


def correlations(columns: list[np.ndarray], standardised: list[Standardised]) -> np.ndarray:
    """Pearson's r of every pair of ``columns`` of one table (each ``standardised`` with a mean), as pearsonr
    computes it: each column centred and divided by its largest deviation, r the cosine of two such columns.

    The cross-products are summed over blocks of rows, so no centred copy of a column is ever kept.
    """
    width, rows = len(columns), columns[0].size if columns else 0
    means = np.array([item.mean for item in standardised], dtype=np.float64)
    largest = np.array([item.largest for item in standardised], dtype=np.float64)
    products = np.zeros((width, width))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for start in range(0, rows, _BLOCK_ROWS):
            block = np.empty((min(_BLOCK_ROWS, rows - start), width))
            for index, values in enumerate(columns):
                block[:, index] = values[start : start + _BLOCK_ROWS]
            block -= means
            block /= largest
            products += block.T @ block
        norms = np.sqrt(np.diag(products))
        return np.clip(products / np.outer(norms, norms), -1.0, 1.0)


def _constant_error(real: list[str], synthetic: list[str]) -> str | None:
    for names, prefix in ((real, "real data"), (synthetic, "synthetic data")):
        if len(names) > 1:
            return (
                f"ConstantInputError: The {prefix} in columns '{', '.join(names)}' contains a constant value. "
                "Correlation is undefined for constant data."
            )
        if names:
            return (
                f"ConstantInputError: The {prefix} in column '{names[0]}' contains a constant value. "
                "Correlation is undefined for constant data."
            )
    return None


def _pearson(x: np.ndarray, y: np.ndarray, known: float | None) -> float:
    if known is not None:
        return known
    both = np.ones(x.size, dtype=bool)
    for values in (x, y):
        if values.dtype.kind == "f":
            both &= ~np.isnan(values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant input: r is NaN, as in sdmetrics
        return float(pearsonr(x[both], y[both])[0])


def correlation_pair(
    names: tuple[str, str],
    columns: tuple[Continuous, Continuous],
    standardised: tuple[tuple[Standardised, Standardised], tuple[Standardised, Standardised]],
    threshold: float,
    known: tuple[float | None, float | None] = (None, None),
) -> dict:
    """One CorrelationSimilarity row; ``standardised`` is ((real 1, real 2), (synthetic 1, synthetic 2)), ``known``
    the pair's real and synthetic r where ``correlations`` computed them already."""
    real_std, synthetic_std = standardised
    error = _constant_error(
        [name for name, std in zip(names, real_std, strict=True) if std.constant],
        [name for name, std in zip(names, synthetic_std, strict=True) if std.constant],
    )
    row = {"metric": CORRELATION, "real_association": math.nan}
    if error is not None:
        return row | _failed(error)
    try:
        real = _pearson(columns[0].real, columns[1].real, known[0])
        if abs(real) <= threshold:
            return row | {"score": math.nan, "real_correlation": real, "synthetic_correlation": math.nan,
                          "meets_threshold": _meets(real, threshold), "error": None}  # fmt: skip
        synthetic = _pearson(columns[0].synthetic, columns[1].synthetic, known[1])
    except Exception as exc:
        return row | _failed(f"{type(exc).__name__}: {exc}")
    score = math.nan if math.isnan(real) or math.isnan(synthetic) else 1 - abs(real - synthetic) / 2
    return row | {
        "score": score,
        "real_correlation": real,
        "synthetic_correlation": synthetic,
        "meets_threshold": _meets(real, threshold),
        "error": None,
    }


def _meets(value: float, threshold: float) -> bool:
    return threshold <= 0 or (not math.isnan(value) and abs(value) > threshold)


def _failed(error: str) -> dict:
    return {
        "score": math.nan,
        "real_correlation": math.nan,
        "synthetic_correlation": math.nan,
        "real_association": math.nan,
        "meets_threshold": None,
        "error": error,
    }


def binned(column: Continuous) -> Discrete | None:
    """A continuous column's bins as the codes of a discrete one (None when they could not be drawn)."""
    if column.real_bins is None or column.synthetic_bins is None:
        return None
    return Discrete(column.real_bins, column.synthetic_bins, BIN_CODES, None)


def _joint_counts(first: np.ndarray, second: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(cells, counts) of the joint codes present."""
    joint = np.multiply(first, size, dtype=np.int64)  # codes may be narrow (bins are int8): no overflow
    joint += second
    if joint.size and int(joint.max()) < _DENSE_CELLS:
        counts = np.bincount(joint)
        cells = np.flatnonzero(counts)
        return cells, counts[cells]
    return np.unique(joint, return_counts=True)


def cramers_v(cells: np.ndarray, counts: np.ndarray, second_size: int) -> float:
    """Cramér's V of the real joint counts (as scipy's ``association(..., method="cramer")``); NaN if degenerate."""
    rows, row_index = np.unique(cells // second_size, return_inverse=True)
    columns, column_index = np.unique(cells % second_size, return_inverse=True)
    if counts.sum() == 0 or min(rows.size, columns.size) < 2:
        return math.nan
    n = int(counts.sum())
    row_totals = np.bincount(row_index, weights=counts).astype(np.int64)
    column_totals = np.bincount(column_index, weights=counts).astype(np.int64)
    expected = row_totals[row_index] * column_totals[column_index] / n
    observed_part = float((((counts - expected) ** 2) / expected).sum())
    met = np.bincount(row_index, weights=column_totals[column_index]).astype(np.int64)
    empty_part = float(((row_totals * (n - met)) / n).sum())
    chi2 = observed_part + empty_part
    return float(np.sqrt(chi2 / (n * (min(rows.size, columns.size) - 1))))


def contingency_pair(first: Discrete | None, second: Discrete | None, threshold: float, error: str | None) -> dict:
    """One ContingencySimilarity row (``error``: a binning failure of one of the columns)."""
    row = {"metric": CONTINGENCY, "real_correlation": math.nan, "synthetic_correlation": math.nan}
    if error is not None or first is None or second is None:
        return row | _failed(error or "binning failed")
    real_cells, real_counts = _joint_counts(first.real, second.real, second.size)
    association = math.nan
    if threshold > 0:
        association = cramers_v(real_cells, real_counts, second.size)
        if math.isnan(association) or association <= threshold:
            return row | {"score": math.nan, "real_association": association, "meets_threshold": False, "error": None}
    synthetic_cells, synthetic_counts = _joint_counts(first.synthetic, second.synthetic, second.size)
    cells = np.union1d(real_cells, synthetic_cells)
    real_share = np.zeros(cells.size)
    synthetic_share = np.zeros(cells.size)
    real_share[np.searchsorted(cells, real_cells)] = real_counts / first.real.size
    synthetic_share[np.searchsorted(cells, synthetic_cells)] = synthetic_counts / first.synthetic.size
    score = 1 - (np.abs(real_share - synthetic_share) / 2).sum()
    return row | {"score": float(score), "real_association": association, "meets_threshold": True, "error": None}
