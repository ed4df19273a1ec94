"""Exact copies and sdmetrics' NewRowSynthesis, vectorised.

NewRowSynthesis (sdmetrics 0.32, ``single_table/new_row_synthesis.py``) runs one ``DataFrame.query`` per
synthetic row: a row matches a real row when every categorical/boolean/ordinal value is equal, every
numerical/datetime value v satisfies ``abs(real - v) <= abs(tolerance * v)``, and a missing value only
matches a missing value. Datetimes are compared as integer nanoseconds. Here the rows are first blocked
on the exact discrete values plus the pattern of missing numerical values, then the tolerance test runs
only on candidates found by a sorted-range search on one numerical column.

Known deviation: sdmetrics turns NaT into the int64 minimum and its overflowing arithmetic makes a NaT
match a real timestamp of exactly 1970-01-01 00:00:00; here NaT matches only NaT.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from registry.evaluation.keys import combine_keys, joint_codes

MAX_EXAMPLES = 20
_PAIR_BUDGET = 4_000_000
_NUMERIC = ("numerical", "datetime")
_DISCRETE = ("categorical", "boolean", "ordinal")


Codes = Mapping[str, Sequence[np.ndarray]]


def column_codes(real: pd.DataFrame, synthetic: pd.DataFrame, columns: Sequence[str]) -> dict:
    """Joint value codes of each column (computed once, shared by exact copies and NewRowSynthesis)."""
    return {name: joint_codes([real[name], synthetic[name]])[0] for name in columns}


def exact_copies(
    real: pd.DataFrame, synthetic: pd.DataFrame, columns: Sequence[str], codes: Codes | None = None
) -> dict:
    """Synthetic rows equal to some real row in every listed column (NaN equals NaN)."""
    codes = codes if codes is not None else column_codes(real, synthetic, columns)
    real_key, synthetic_key = combine_keys([codes[name] for name in columns], [len(real), len(synthetic)])
    copied = np.isin(synthetic_key, real_key)
    count = int(copied.sum())
    return {
        "count": count,
        "rate": count / len(synthetic),
        "distinct_rows_copied": int(np.unique(synthetic_key[copied]).size),
        "examples": np.flatnonzero(copied)[:MAX_EXAMPLES].tolist(),
        "columns_compared": list(columns),
        "copied_mask": copied,
        "row_keys": (real_key, synthetic_key),  # for near_copies: the same key over every column
    }


def _numeric_values(series: pd.Series, sdtype: str) -> np.ndarray:
    if sdtype == "datetime":
        # sdmetrics compares pd.to_numeric(datetimes): exact int64 nanoseconds.
        return series.to_numpy(dtype="datetime64[ns]").view(np.int64)
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def _within(real: np.ndarray, value: np.ndarray, tolerance: float) -> np.ndarray:
    # Same operations as the query string: abs(col - v) <= abs(tolerance * v).
    return np.abs(real - value) <= np.abs(tolerance * value.astype(np.float64))


def _candidate_ranges(
    real_block: np.ndarray,
    real_sort: np.ndarray,
    synthetic_block: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions (in a sorted order of the real rows) whose block is equal and sort value in [low, high]."""
    # NumPy orders complex numbers by real then imaginary part: (block, value) pairs sort as wanted.
    real_key = real_block.astype(np.float64) + 1j * real_sort
    order = np.argsort(real_key, kind="stable")
    sorted_key = real_key[order]
    block = synthetic_block.astype(np.float64)
    left = np.searchsorted(sorted_key, block + 1j * low, "left")
    right = np.searchsorted(sorted_key, block + 1j * high, "right")
    return order, left, right


def _match_pattern(
    rows: np.ndarray,
    active: list[int],
    values: tuple[list[np.ndarray], list[np.ndarray]],
    blocks: tuple[np.ndarray, np.ndarray],
    distinct: list[int],
    tolerance: float,
) -> np.ndarray:
    """Which of the synthetic ``rows`` (all with the same missing-value pattern) match some real row."""
    real_values, synthetic_values = values
    real_block, synthetic_block = blocks
    blocks_here = synthetic_block[rows]
    if not active:
        return np.isin(blocks_here, real_block)
    candidates = np.flatnonzero(np.isin(real_block, blocks_here))
    if candidates.size == 0:
        return np.zeros(rows.size, dtype=bool)
    # Search on the most selective column; the others are checked on the candidates only.
    sort_column = max(active, key=lambda index: distinct[index])
    value = synthetic_values[sort_column][rows].astype(np.float64)
    reach = np.abs(tolerance * value)
    slack = 1e-9 * (np.abs(value) + reach) + 1e-300
    order, left, right = _candidate_ranges(
        real_block[candidates],
        real_values[sort_column][candidates].astype(np.float64),
        blocks_here,
        value - reach - slack,
        value + reach + slack,
    )
    found = np.zeros(rows.size, dtype=bool)
    counts = right - left
    cumulative = np.cumsum(counts)
    start = 0
    while start < rows.size:
        base = cumulative[start - 1] if start else 0
        stop = max(int(np.searchsorted(cumulative, base + _PAIR_BUDGET, "right")), start + 1)
        local = np.repeat(np.arange(start, stop), counts[start:stop])
        offsets = np.arange(local.size) - (np.cumsum(counts[start:stop]) - counts[start:stop]).repeat(
            counts[start:stop]
        )
        real_rows = candidates[order[left[local] + offsets]]
        ok = np.ones(local.size, dtype=bool)
        for index in active:
            ok &= _within(real_values[index][real_rows], synthetic_values[index][rows[local]], tolerance)
        found[np.unique(local[ok])] = True
        start = stop
    return found


def _equality_only(real: np.ndarray, synthetic: np.ndarray, synthetic_missing: np.ndarray, tolerance: float) -> bool:
    """Whether the tolerance test reduces to equality: integers only, every tolerance below 1."""
    present = synthetic[~synthetic_missing]
    known = real[~np.isnan(real)]
    if not (np.array_equal(known, np.floor(known)) and np.array_equal(present, np.floor(present))):
        return False
    # |r - v| is then an integer, so |r - v| <= |tolerance * v| < 1 means r == v.
    return present.size == 0 or bool(np.abs(tolerance * present).max() < 1)


def new_row_synthesis(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    sdtypes: Mapping[str, str],
    tolerance: float = 0.01,
    already_matched: np.ndarray | None = None,
    codes: Codes | None = None,
) -> dict:
    """NewRowSynthesis exactly as sdmetrics defines it (share of synthetic rows matching no real row)."""
    numeric = [name for name, sdtype in sdtypes.items() if sdtype in _NUMERIC]
    discrete = [name for name, sdtype in sdtypes.items() if sdtype in _DISCRETE]
    real_values = [_numeric_values(real[name], sdtypes[name]) for name in numeric]
    synthetic_values = [_numeric_values(synthetic[name], sdtypes[name]) for name in numeric]
    real_missing = [real[name].isna().to_numpy() for name in numeric]
    synthetic_missing = [synthetic[name].isna().to_numpy() for name in numeric]
    exact = [
        index
        for index in range(len(numeric))
        if sdtypes[numeric[index]] == "numerical"
        and _equality_only(real_values[index], synthetic_values[index], synthetic_missing[index], tolerance)
    ]
    blocking = discrete + [numeric[index] for index in exact]
    if codes is None or any(name not in codes for name in blocking):
        codes = column_codes(real, synthetic, blocking)
    parts = [codes[name] for name in blocking]
    tolerant = [index for index in range(len(numeric)) if index not in exact]
    parts += [[real_missing[i].astype(np.int64), synthetic_missing[i].astype(np.int64)] for i in tolerant]
    real_block, synthetic_block = combine_keys(parts, [len(real), len(synthetic)])
    distinct = [int(pd.unique(values).size) if i in tolerant else 0 for i, values in enumerate(real_values)]

    matched = np.zeros(len(synthetic), dtype=bool) if already_matched is None else already_matched.copy()
    pending = np.flatnonzero(~matched)
    # Missing-value patterns as integers (bit i = numerical column i missing): few distinct, cheap to group.
    pattern_of_row = np.zeros(pending.size, dtype=np.int64)
    for index in tolerant:
        pattern_of_row |= synthetic_missing[index][pending].astype(np.int64) << index
    for pattern in np.unique(pattern_of_row):
        rows = pending[pattern_of_row == pattern]
        active = [index for index in tolerant if not (int(pattern) >> index) & 1]
        matched[rows] = _match_pattern(
            rows, active, (real_values, synthetic_values), (real_block, synthetic_block), distinct, tolerance
        )
    new_rows = int((~matched).sum())
    return {
        "score": new_rows / len(synthetic),
        "num_new_rows": new_rows,
        "num_matched_rows": len(synthetic) - new_rows,
        "numerical_match_tolerance": tolerance,
        "columns_compared": numeric + discrete,
    }


# Above this many columns the all-but-one matching (one row key per left-out column) is skipped.
MAX_NEAR_COPY_COLUMNS = 100
# Near copies are searched group of columns by group (see near_copies).
_NEAR_COPY_GROUPS = 4


def near_copies(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    columns: Sequence[str],
    codes: Codes | None = None,
    row_keys: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict:
    """Synthetic rows equal to some real row in every listed column but at most one (exact copies included).

    A copied real row with one value changed (an age moved by a year, a renumbered key, a rounded amount)
    has no exact match and can sit just outside NewRowSynthesis' tolerance; it still equals the real row
    everywhere else. ``differing_column`` counts, for the rows that are not exact copies, the column left out.
    ``row_keys``: ``exact_copies``' row keys over the same columns, if computed already.
    """
    columns = list(columns)
    if len(columns) < 2:
        return {"skipped": "needs at least two compared columns"}
    if len(columns) > MAX_NEAR_COPY_COLUMNS:
        return {"skipped": f"more than {MAX_NEAR_COPY_COLUMNS} columns"}
    codes = codes if codes is not None else column_codes(real, synthetic, columns)
    sizes = [len(real), len(synthetic)]
    if row_keys is None:
        row_keys = combine_keys([codes[name] for name in columns], sizes)
    real_key, synthetic_key = row_keys
    exact = np.isin(synthetic_key, real_key)
    near = exact.copy()
    differing: dict[str, int] = {}
    # A row equal to a real row in every column but one lies, for the group of columns holding that one,
    # equal to it on every other group: only the rows that match some real row on all the other groups (and
    # those real rows) are searched, column by column, in column order (the first column that explains a
    # row is the one counted). More groups make that filter sharper; each costs one key over the tables.
    groups = np.array_split(np.arange(len(columns)), min(_NEAR_COPY_GROUPS, len(columns)))
    for group in groups:
        varying = [columns[i] for i in group]
        fixed = [name for name in columns if name not in varying]
        real_fixed, synthetic_fixed = combine_keys([codes[name] for name in fixed], sizes)
        synthetic_rows = np.flatnonzero(np.isin(synthetic_fixed, real_fixed) & ~near)
        if synthetic_rows.size == 0:
            continue
        real_rows = np.flatnonzero(np.isin(real_fixed, synthetic_fixed[synthetic_rows]))
        for left_out in varying:
            # Equal on every column but left_out = equal fixed key and equal on the group's other columns.
            parts = [[real_fixed[real_rows], synthetic_fixed[synthetic_rows]]] + [
                [codes[name][0][real_rows], codes[name][1][synthetic_rows]] for name in varying if name != left_out
            ]
            real_key, synthetic_key = combine_keys(parts, [real_rows.size, synthetic_rows.size])
            found = np.isin(synthetic_key, real_key) & ~near[synthetic_rows]
            if found.any():
                differing[left_out] = int(found.sum())
                near[synthetic_rows[found]] = True
    count = int(near.sum())
    return {
        "count": count,
        "rate": count / len(synthetic),
        "exact": int(exact.sum()),
        "differing_column": dict(sorted(differing.items(), key=lambda item: -item[1])),
        "examples": np.flatnonzero(near & ~exact)[:MAX_EXAMPLES].tolist(),
        "columns_compared": columns,
        "near_mask": near,
    }
