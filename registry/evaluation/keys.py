"""Exact value identity across tables: shared integer codes per column and per row (NaN equals NaN)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

# A column's value codes, computed once elsewhere (``PreparedData.joint_codes``): name -> joint_codes' result.
CodesOf = Callable[[str], tuple[list[np.ndarray], pd.Index]]
# A numeric or datetime column's present values sorted, per table (``PreparedData.sorted_values``):
# name -> (real, synthetic), ``native.shapes.sorted_present``'s arrays.
SortedOf = Callable[[str], tuple[np.ndarray, np.ndarray]]


def as_objects(series: pd.Series) -> pd.Series:
    """A categorical column (Parquet strings, kept compact) as the object column every other reader sees:
    the same values, missing as NaN; any other column unchanged."""
    return series.astype(object) if isinstance(series.dtype, pd.CategoricalDtype) else series


def value_dtype(series: pd.Series) -> np.dtype:
    """The column's dtype as ``as_objects`` would give it, without converting it."""
    return np.dtype(object) if isinstance(series.dtype, pd.CategoricalDtype) else series.dtype


def _code_dtype(values: int) -> type[np.signedinteger]:
    """int32 codes (half of int64's memory: they are kept for every column of every table) unless too many values.

    Readers that combine codes (``combine_keys``, joint pair counts) widen to int64 before multiplying.
    """
    return np.int32 if values < np.iinfo(np.int32).max else np.int64


def joint_codes(columns: Sequence[pd.Series | np.ndarray]) -> tuple[list[np.ndarray], pd.Index]:
    """Codes shared by several columns (one per table): equal codes iff equal values, missing = one code."""
    sizes = [len(column) for column in columns]
    stacked = pd.concat([pd.Series(np.asarray(column)) for column in columns], ignore_index=True)
    # use_na_sentinel=False gives NaN/None/NaT a code of its own, so missing matches missing.
    codes, uniques = pd.factorize(stacked, use_na_sentinel=False)
    bounds = np.cumsum([0, *sizes])
    dtype = _code_dtype(len(uniques))
    return [codes[bounds[i] : bounds[i + 1]].astype(dtype) for i in range(len(sizes))], pd.Index(uniques)


def categorical_codes(columns: Sequence[pd.Series]) -> tuple[list[np.ndarray], pd.Index]:
    """``joint_codes`` of categorical columns, from their categories and codes (no value is hashed per row).

    Categories are distinct values, so two rows share a code iff they share a value, as with ``joint_codes``;
    missing values (code -1) get one code of their own, after the values, when any column has one.
    """
    values = pd.Index([], dtype=object)
    for column in columns:
        categories = pd.Index(column.cat.categories).astype(object)
        values = values.append(categories[~categories.isin(values)])
    missing = any(bool((column.cat.codes.to_numpy() < 0).any()) for column in columns)
    codes = []
    for column in columns:
        mapping = values.get_indexer(pd.Index(column.cat.categories).astype(object))
        mapping = np.append(mapping, len(values)).astype(_code_dtype(len(values) + 1))  # -1 (missing) -> its code
        codes.append(mapping[column.cat.codes.to_numpy()])
    if missing:
        values = values.append(pd.Index([np.nan], dtype=object))
    return codes, values


def combine_keys(parts: Sequence[Sequence[np.ndarray]], sizes: Sequence[int]) -> list[np.ndarray]:
    """Compact row keys (0..k-1) from per-column codes: parts[c][t] are column c's codes in table t."""
    total = int(sum(sizes))
    key = np.zeros(total, dtype=np.int64)
    bound = 1  # every key is below this (a Python int: no overflow in the check itself)
    for per_table in parts:
        codes = np.concatenate(per_table) if total else np.zeros(0, dtype=np.int64)
        cardinality = int(codes.max()) + 1 if total else 1
        if bound * cardinality >= 2**62:
            # Mixed-radix keys would overflow int64: renumber them densely (below the row count) first.
            key, uniques = pd.factorize(key)
            key, bound = key.astype(np.int64), len(uniques)
        key = key * cardinality + codes
        bound *= cardinality
    key = pd.factorize(key)[0].astype(np.int64)
    bounds = np.cumsum([0, *sizes])
    return [key[bounds[i] : bounds[i + 1]] for i in range(len(sizes))]
