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
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency

from common.jsonable import to_jsonable

SUMMARY_VERSION = 1
NUMERIC = ("numerical", "datetime")
DISCRETE = ("categorical", "boolean", "ordinal")
OTHER = "(other)"


def _numbers(series: pd.Series, sdtype: str) -> pd.Series:
    if sdtype == "datetime":
        stamps = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
        seconds = stamps.astype("int64", copy=False) / 1e9
        return seconds.where(stamps.notna())
    return pd.to_numeric(series, errors="coerce").astype("float64")


def _histogram(real: pd.Series, synthetic: pd.Series, sdtype: str, bins: int, min_count: int) -> dict[str, Any]:
    real_values, synthetic_values = _numbers(real, sdtype), _numbers(synthetic, sdtype)
    present = real_values.dropna().to_numpy()
    if present.size == 0:
        return {"sdtype": sdtype, "skipped": "no real values"}
    low, high = (float(v) for v in np.quantile(present, [0.01, 0.99]))
    if low == high:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, bins + 1)
    summary: dict[str, Any] = {"sdtype": sdtype, "unit": "epoch_seconds" if sdtype == "datetime" else "value"}
    summary["edges"] = edges.tolist()
    for side, values in (("real", real_values), ("synthetic", synthetic_values)):
        data = values.dropna().to_numpy()
        inside = data[(data >= low) & (data <= high)]
        summary[side] = np.histogram(inside, bins=edges)[0].tolist()
        summary.setdefault("below", {})[side] = int((data < low).sum())
        summary.setdefault("above", {})[side] = int((data > high).sum())
        summary.setdefault("missing", {})[side] = int(values.isna().sum())
    small = [i for i, count in enumerate(summary["real"]) if 0 < count < min_count]
    for i in small:
        summary["real"][i] = 0
    summary["suppressed_bins"] = len(small)
    return summary


def _folded(series: pd.Series, keep: list[str]) -> pd.Series:
    text = series.dropna().astype(str)
    return text.where(text.isin(keep), OTHER)


def _kept_categories(real: pd.Series, max_categories: int, min_count: int) -> list[str]:
    counts = real.dropna().astype(str).value_counts()
    counts = counts[counts >= min_count]
    # Most frequent first; equal counts by name, so the same data always gives the same list.
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [name for name, _ in ordered[:max_categories]]


def _frequencies(
    real: pd.Series, synthetic: pd.Series, sdtype: str, max_categories: int, min_count: int
) -> dict[str, Any]:
    keep = _kept_categories(real, max_categories, min_count)
    summary: dict[str, Any] = {"sdtype": sdtype, "categories": keep}
    for side, values in (("real", real), ("synthetic", synthetic)):
        counts = _folded(values, keep).value_counts()
        summary[side] = [int(counts.get(name, 0)) for name in keep]
        summary.setdefault("other", {})[side] = int(counts.get(OTHER, 0))
        summary.setdefault("missing", {})[side] = int(values.isna().sum())
    return summary


def _matrix(frame: pd.DataFrame) -> list[list[float | None]]:
    return to_jsonable(frame.to_numpy().tolist())


def _cramers_v(left: pd.Series, right: pd.Series) -> float | None:
    """Cramér's V of the observed categories (rows missing either value left out, as ``pd.crosstab`` does)."""
    present = (left.notna() & right.notna()).to_numpy()
    left_codes, left_values = pd.factorize(left[present])
    right_codes, right_values = pd.factorize(right[present])
    shape = (len(left_values), len(right_values))
    if min(shape) < 2:
        return None
    table = np.bincount(left_codes * shape[1] + right_codes, minlength=shape[0] * shape[1]).reshape(shape)
    chi2 = chi2_contingency(table, correction=False)[0]
    return float(np.sqrt(chi2 / (table.sum() * (min(shape) - 1))))


def _associations(
    real: pd.DataFrame, synthetic: pd.DataFrame, columns: list[str], kept: Mapping[str, list[str]]
) -> dict[str, Any]:
    result: dict[str, Any] = {"method": "cramers_v", "columns": columns}
    for side, frame in (("real", real), ("synthetic", synthetic)):
        folded = {name: _folded(frame[name], kept[name]) for name in columns}
        matrix = np.eye(len(columns)).tolist()
        for i, left in enumerate(columns):
            for j in range(i + 1, len(columns)):
                pair = folded[left].align(folded[columns[j]], join="inner")  # rows kept in both columns
                value = _cramers_v(*pair) if len(pair[0]) else None
                matrix[i][j] = matrix[j][i] = value
        result[side] = to_jsonable(matrix)
    return result


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
    kept: dict[str, list[str]] = {}
    names = [name for name in sdtypes if name in real.columns and name in synthetic.columns][:max_columns]
    for name in names:
        sdtype = sdtypes[name]
        if sdtype in NUMERIC:
            columns[name] = _histogram(real[name], synthetic[name], sdtype, bins, min_count)
        elif sdtype in DISCRETE:
            columns[name] = _frequencies(real[name], synthetic[name], sdtype, max_categories, min_count)
            kept[name] = columns[name]["categories"]
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
            "real": _matrix(real[numeric].apply(pd.to_numeric, errors="coerce").corr()),
            "synthetic": _matrix(synthetic[numeric].apply(pd.to_numeric, errors="coerce").corr()),
        }
    if len(discrete) >= 2:
        summary["associations"] = _associations(real, synthetic, discrete, kept)
    return to_jsonable(summary)
