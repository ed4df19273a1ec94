"""Key-like columns, found by their content: row numbers, record keys and UUIDs are not data.

A column that only identifies rows must never take part in comparing rows: a synthetic table whose first
column numbers its rows afresh (``rownames``, ``index``, ``Unnamed: 0``: 1..n) has no row equal to a real one
and looks far from every real row, whatever else it copies. So such a column is treated as an identifier
(sdtype ``id``): it is left out of every row-matching and distance metric and of quality, and the result
says which columns and why. Detection looks at the values, not the name:

- integers (or integer-valued numbers) unique per row and either monotone or a permutation of consecutive
  integers, in the reference or in the synthetic table: row numbers;
- strings unique per row shaped like UUIDs (or other 32-hex-digit keys), in either table;
- strings unique per row in every table given, with at least ``MIN_ROWS`` rows: record keys, names, free
  text. Requiring every table keeps a pipeline from hiding a real column by making only its own synthetic
  values unique.

Numbers are keys only as numberings: an integer measurement sampled sparsely (Adult's ``fnlwgt`` in a few
hundred rows) is unique per row without being a key, and floats never are. An arbitrary key column of any
type is still caught by the privacy kind's near-copy count, which matches rows on all columns but one.
A column the caller declared ``id`` stays one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

# Below this many rows "every value is different" says nothing about a column being a key.
MIN_ROWS = 20
# A permutation of consecutive integers is a numbering however short the table is.
MIN_ROWS_NUMBERING = 10
_UUID = re.compile(r"^(\{)?[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}(\})?$")


def _integers(series: pd.Series) -> np.ndarray | None:
    """The values as int64 when every one is a whole number (as numbers or as digit strings), else None."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return None
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        text = series.astype(str).str.strip()
        if not text.str.fullmatch(r"[+-]?\d{1,18}").all():
            return None
        values = text.astype(np.int64).to_numpy(dtype=np.float64)
    if not np.isfinite(values).all() or not np.array_equal(values, np.floor(values)) or np.abs(values).max() > 2**53:
        return None
    return values.astype(np.int64)


def _numbering(series: pd.Series) -> str | None:
    """Why the column numbers the rows, or None."""
    if len(series) < MIN_ROWS_NUMBERING or series.isna().any() or not series.is_unique:
        return None
    values = _integers(series)
    if values is None:
        return None
    low, high = int(values.min()), int(values.max())
    if high - low + 1 == values.size:
        return f"a numbering of the rows (every integer from {low} to {high} once)"
    steps = np.diff(values)
    if (steps > 0).all() or (steps < 0).all():
        return "row numbers (unique integers in monotone order)"
    return None


def _uuid_like(series: pd.Series) -> str | None:
    if len(series) < MIN_ROWS_NUMBERING or series.isna().any() or pd.api.types.is_numeric_dtype(series.dtype):
        return None
    if not series.is_unique:
        return None
    text = series.astype(str)
    if text.str.fullmatch(_UUID).all():
        return "UUIDs, unique per row"
    return None


def _unique_strings(series: pd.Series) -> bool:
    """Strings, a different one in every row."""
    if len(series) < MIN_ROWS or series.isna().any() or not series.is_unique:
        return False
    dtype = series.dtype
    return not (
        pd.api.types.is_numeric_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_datetime64_any_dtype(dtype)
    )


# A column whose first rows already repeat a value or miss one cannot be a key: this cheap look at a prefix
# spares the whole-column scans for the (usual) columns that are data.
_PREFIX_ROWS = 4096


def _may_be_key(series: pd.Series) -> bool:
    if len(series) < MIN_ROWS_NUMBERING:
        return False
    head = series.iloc[:_PREFIX_ROWS]
    return not head.isna().any() and head.is_unique


def key_columns(tables: Mapping[str, pd.DataFrame], sdtypes: Mapping[str, str]) -> dict[str, str]:
    """Column -> why it is a key, for the columns not already declared ``id``.

    ``tables`` maps a label ("reference", "synthetic", "holdout") to the raw table, before any parsing.
    """
    found: dict[str, str] = {}
    for name, sdtype in sdtypes.items():
        if sdtype == "id":
            continue
        candidates = {label: _may_be_key(frame[name]) for label, frame in tables.items()}
        for label, frame in tables.items():
            reason = candidates[label] and (_numbering(frame[name]) or _uuid_like(frame[name]))
            if reason:
                found[name] = f"{reason} in the {label} table"
                break
        else:
            if all(candidates.values()) and all(_unique_strings(frame[name]) for frame in tables.values()):
                found[name] = "a different value in every row of every table (a record key)"
    return found
