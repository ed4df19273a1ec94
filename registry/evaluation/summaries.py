"""Small, storable summaries of the real and synthetic distributions: what dataset cards plot.

The real data is deleted after an evaluation, so the card can only draw what is kept here. Everything is
capped in size (bins, categories, columns) and chosen not to disclose single real records: numeric
histogram edges span the real 1st to 99th percentiles (values outside are only counted, never shown),
real bins holding fewer than ``min_count`` rows are stored as 0 (and counted in ``suppressed_bins``), and
categories seen fewer than ``min_count`` times in the real data are folded into "other".
Pure pandas/NumPy/SciPy: no Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency

from common.jsonable import to_jsonable
from registry.evaluation.keys import CodesOf, SortedOf, as_objects, value_dtype
from registry.evaluation.native.pair_trends import correlations, standardise

SUMMARY_VERSION = 1
NUMERIC = ("numerical", "datetime")
DISCRETE = ("categorical", "boolean", "ordinal")
OTHER = "(other)"
_THREADS = 2


def _numbers(series: pd.Series, sdtype: str) -> pd.Series:
    if sdtype == "datetime":
        stamps = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
        seconds = stamps.astype("int64", copy=False) / 1e9
        return seconds.where(stamps.notna())
    return pd.to_numeric(series, errors="coerce").astype("float64")


def _sorted_numbers(series: pd.Series, sdtype: str) -> np.ndarray:
    return np.sort(_numbers(series, sdtype).dropna().to_numpy())


def _from_shared(values: np.ndarray, sdtype: str) -> np.ndarray:
    """``shapes.sorted_present``' values (datetimes in int64 nanoseconds) as the histograms read them."""
    return values / 1e9 if sdtype == "datetime" else values.astype(np.float64, copy=False)


def _histogram(
    real: np.ndarray, synthetic: np.ndarray, rows: tuple[int, int], sdtype: str, bins: int, min_count: int
) -> dict[str, Any]:
    """Histograms of both tables' sorted present values (``rows``: each table's row count, missing included).

    Counted by binary search on the sorted values, as ``np.histogram`` counts with explicit edges: bins are
    half-open ``[a, b)`` except the last, ``[a, b]``.
    """
    if real.size == 0:
        return {"sdtype": sdtype, "skipped": "no real values"}
    low, high = (float(v) for v in np.quantile(real, [0.01, 0.99]))
    if low == high:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, bins + 1)
    summary: dict[str, Any] = {"sdtype": sdtype, "unit": "epoch_seconds" if sdtype == "datetime" else "value"}
    summary["edges"] = edges.tolist()
    for side, values, total in (("real", real, rows[0]), ("synthetic", synthetic, rows[1])):
        bounds = np.concatenate(
            [np.searchsorted(values, edges[:-1], "left"), np.searchsorted(values, edges[-1:], "right")]
        )
        summary[side] = np.diff(bounds).tolist()
        summary.setdefault("below", {})[side] = int(np.searchsorted(values, low, "left"))
        summary.setdefault("above", {})[side] = int(values.size - np.searchsorted(values, high, "right"))
        summary.setdefault("missing", {})[side] = int(total - values.size)
    small = [i for i, count in enumerate(summary["real"]) if 0 < count < min_count]
    for i in small:
        summary["real"][i] = 0
    summary["suppressed_bins"] = len(small)
    return summary


@dataclass(frozen=True)
class _Folded:
    """A discrete column's rows as codes: 0..k-1 the kept categories, k "other", -1 missing."""

    codes: np.ndarray
    size: int  # k + 1
    missing: bool  # some row is missing (code -1)


def _labels(series: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Row codes (-1 missing) and each code's label: the value as text, as ``astype(str)`` writes it."""
    codes, uniques = pd.factorize(as_objects(series))
    return codes, pd.Series(uniques).astype(str)


def _kept_categories(codes: np.ndarray, labels: pd.Series, max_categories: int, min_count: int) -> list[str]:
    per_code = np.bincount(codes[codes >= 0], minlength=len(labels))
    present = labels.notna().to_numpy()
    counts = pd.Series(per_code[present]).groupby(labels.to_numpy()[present]).sum()  # two values can share a text
    counts = counts[(counts >= min_count) & (counts > 0)]
    # Most frequent first; equal counts by name, so the same data always gives the same list.
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [name for name, _ in ordered[:max_categories]]


def _fold(codes: np.ndarray, labels: pd.Series, keep: list[str]) -> _Folded:
    position = {name: index for index, name in enumerate(keep)}
    # The last entry maps code -1 (missing) to -1.
    # Narrow codes (at most max_categories + 1 values): a copy of every discrete column is kept per table.
    narrow = np.int16 if len(keep) < np.iinfo(np.int16).max else np.int64
    mapping = np.array([position.get(label, len(keep)) for label in labels] + [-1], dtype=narrow)
    return _Folded(mapping[codes], len(keep) + 1, bool((codes < 0).any()))


def _shared_labels(codes: CodesOf, name: str) -> tuple[tuple, tuple]:
    """Both sides' (codes, labels) from value codes already shared by the two tables (missing: -1)."""
    (real, synthetic), uniques = codes(name)
    values = np.asarray(uniques, dtype=object)
    missing = pd.isna(values)
    labels = pd.Series(uniques).astype(str).where(~missing, None)
    remap = np.where(missing, -1, np.arange(len(values))).astype(np.int32)
    return (remap[real], labels), (remap[synthetic], labels)


def _frequencies(
    real: pd.Series,
    synthetic: pd.Series,
    sdtype: str,
    max_categories: int,
    min_count: int,
    shared: tuple[tuple, tuple] | None = None,
):
    """The summary of a discrete column, and its folded codes per side for the association matrix."""
    (real_codes, real_labels), synthetic_side = shared or (_labels(real), _labels(synthetic))
    keep = _kept_categories(real_codes, real_labels, max_categories, min_count)
    summary: dict[str, Any] = {"sdtype": sdtype, "categories": keep}
    folded = {}
    for side, (codes, labels) in (("real", (real_codes, real_labels)), ("synthetic", synthetic_side)):
        folded[side] = _fold(codes, labels, keep)
        counts = np.bincount(folded[side].codes[folded[side].codes >= 0], minlength=folded[side].size)
        summary[side] = [int(count) for count in counts[: len(keep)]]
        summary.setdefault("other", {})[side] = int(counts[len(keep)])
        summary.setdefault("missing", {})[side] = int((codes < 0).sum())
    return summary, folded


def _matrix(frame: pd.DataFrame) -> list[list[float | None]]:
    return to_jsonable(frame.to_numpy().tolist())


def _cramers_v(left: _Folded, right: _Folded) -> float | None:
    """Cramér's V of the observed folded categories of the rows where both are present."""
    joint = np.multiply(left.codes, right.size, dtype=np.int64)
    joint += right.codes
    if left.missing or right.missing:
        joint = joint[(left.codes >= 0) & (right.codes >= 0)]
    table = np.bincount(joint, minlength=left.size * right.size).reshape(left.size, right.size)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]  # only categories seen, as a crosstab
    if min(table.shape) < 2:
        return None
    chi2 = chi2_contingency(table, correction=False)[0]
    return float(np.sqrt(chi2 / (table.sum() * (min(table.shape) - 1))))


def _associations(folded: Mapping[str, Mapping[str, _Folded]], columns: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {"method": "cramers_v", "columns": columns}
    cells = [
        (side, i, j) for side in ("real", "synthetic") for i in range(len(columns)) for j in range(i + 1, len(columns))
    ]
    with ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="summaries") as pool:
        values = pool.map(
            lambda cell: _cramers_v(folded[columns[cell[1]]][cell[0]], folded[columns[cell[2]]][cell[0]]), cells
        )
        matrices = {side: np.eye(len(columns)).tolist() for side in ("real", "synthetic")}
        for (side, i, j), value in zip(cells, values, strict=True):
            matrices[side][i][j] = matrices[side][j][i] = value
    for side in ("real", "synthetic"):
        result[side] = to_jsonable(matrices[side])
    return result


def _correlations(frame: pd.DataFrame, columns: list[str]) -> list[list[float | None]]:
    """Pearson's r of every pair of ``columns`` (pairwise complete, as ``DataFrame.corr``)."""
    numeric = all(pd.api.types.is_numeric_dtype(frame[name].dtype) for name in columns)
    values = frame[columns] if numeric else frame[columns].apply(pd.to_numeric, errors="coerce")
    if len(values) < 3 or values.isna().to_numpy().any():
        return _matrix(values.corr())
    # No missing value: the quality report's blockwise cross-product (``pair_trends.correlations``) instead of
    # pandas' loop over pairs; a constant column has no r (NaN), as in pandas.
    arrays = [values[name].to_numpy() for name in columns]
    standardised = [standardise(array) for array in arrays]
    ready = [index for index, item in enumerate(standardised) if item.mean is not None]
    result = np.full((len(columns), len(columns)), np.nan)
    if ready:
        result[np.ix_(ready, ready)] = correlations([arrays[i] for i in ready], [standardised[i] for i in ready])
        result[ready, ready] = 1.0
    return to_jsonable(result.tolist())


def distribution_summaries(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    sdtypes: Mapping[str, str],
    *,
    bins: int = 20,
    max_categories: int = 20,
    min_count: int = 5,
    max_columns: int = 200,
    max_matrix_columns: int = 30,
    codes: CodesOf | None = None,
    ordered: SortedOf | None = None,
) -> dict[str, Any]:
    """Per-column histograms or frequencies of both tables, plus correlation and association matrices.

    Shape (all plain JSON)::

        {"version": 1, "rows": {"real", "synthetic"}, "settings": {...},
         "columns": {name: {"sdtype", "unit", "edges", "real", "synthetic", "below", "above", "missing",
                            "suppressed_bins"}                                                     # numeric
                         | {"sdtype", "categories", "real", "synthetic", "other", "missing"}       # discrete
                         | {"sdtype", "skipped": reason}},
         "correlations": {"method": "pearson", "columns", "real": [[r]], "synthetic": [[r]]},
         "associations": {"method": "cramers_v", "columns", "real": [[v]], "synthetic": [[v]]}}
    """
    columns: dict[str, Any] = {}
    folded: dict[str, dict[str, _Folded]] = {}
    names = [name for name in sdtypes if name in real.columns and name in synthetic.columns][:max_columns]
    for name in names:
        sdtype = sdtypes[name]
        if sdtype in NUMERIC:
            if ordered is not None:
                sides = tuple(_from_shared(values, sdtype) for values in ordered(name))
            else:
                sides = (_sorted_numbers(real[name], sdtype), _sorted_numbers(synthetic[name], sdtype))
            columns[name] = _histogram(*sides, (len(real), len(synthetic)), sdtype, bins, min_count)
        elif sdtype in DISCRETE:
            # Codes shared only between columns of one type: else a value's text could differ per table.
            same_type = value_dtype(real[name]) == value_dtype(synthetic[name])
            shared = _shared_labels(codes, name) if codes is not None and same_type else None
            columns[name], folded[name] = _frequencies(
                real[name], synthetic[name], sdtype, max_categories, min_count, shared
            )
        else:
            columns[name] = {"sdtype": sdtype, "skipped": "identifier columns are not summarised"}
    numeric = [n for n in names if sdtypes[n] == "numerical"][:max_matrix_columns]
    discrete = [n for n in names if sdtypes[n] in DISCRETE][:max_matrix_columns]
    summary: dict[str, Any] = {
        "version": SUMMARY_VERSION,
        "rows": {"real": len(real), "synthetic": len(synthetic)},
        "settings": {"bins": bins, "max_categories": max_categories, "min_count": min_count},
        "columns": columns,
    }
    if len(numeric) >= 2:
        summary["correlations"] = {
            "method": "pearson",
            "columns": numeric,
            "real": _correlations(real, numeric),
            "synthetic": _correlations(synthetic, numeric),
        }
    if len(discrete) >= 2:
        summary["associations"] = _associations(folded, discrete)
    return to_jsonable(summary)
