"""Distance to closest record, exactly as sdmetrics 0.32 defines it (``single_table/privacy/dcr_utils.py``).

Per column: numerical/datetime ``min(|a - b| / range(reference column), 1)`` (a zero range gives 0 when equal,
else 1; datetimes in seconds, the range through ``Timedelta.total_seconds``), one missing value 1, both
missing 0; categorical/boolean 0 when equal (NaN equals NaN) else 1; ordinal and id columns are ignored.
Row distance = mean over columns, summed left to right like sdmetrics; DCR = minimum over all reference
rows. Nothing is subsampled.

sdmetrics cross-joins every pair. Here a lower bound for every pair comes from one float32 matrix
product: one-hot codes of the categorical columns (a mismatch costs exactly 1) and thermometer codes of
the clipped, range-normalised numerical columns (``d`` crossed thresholds of spacing ``1/K`` bound the
column distance below by ``(d - 1) / K``). For each synthetic row the exact distance is then computed only
for the pair with the smallest bound and for the pairs whose bound does not exceed the best exact
distance found, so the minimum is exact.

``nearest_two`` gives the two smallest distances (for NNDR) the same way, pruning against the second best.
Both take optional per-column ``scales`` (the ranges to divide by): the privacy evidence beyond sdmetrics
measures every table against the training table's ranges, so that "close" means one thing throughout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from registry.evaluation.keys import joint_codes

DCR_SDTYPES = ("numerical", "datetime", "categorical", "boolean")
_THERMOMETER_BINS = 16
_MAX_ONE_HOT = 128
_ROW_BLOCK = 256
_REFERENCE_TILE = 32_768
_PAIR_CHUNK = 2_000_000
# Above this share of candidate pairs, gathering pairs costs more than computing the whole tile.
_DENSE_SHARE = 0.2
# Bounds are exact multiples of 1/16 in float32; the margin only absorbs the cast of the threshold.
_MARGIN = 1e-3


@dataclass
class _Column:
    kind: str  # "numerical", "datetime" or "categorical"
    data: np.ndarray
    reference: np.ndarray
    scale: float  # the reference range (seconds for datetimes); the number of codes for categoricals
    data_missing: np.ndarray | None = None
    reference_missing: np.ndarray | None = None
    name: str = ""

    def pair_distance(self, rows: np.ndarray, refs: np.ndarray) -> np.ndarray:
        """Distance of this column for the pairs (data row, reference row)."""
        if self.kind == "categorical":
            return (self.data[rows] != self.reference[refs]).astype(np.float64)
        diff = np.abs(self.data[rows] - self.reference[refs])
        if self.kind == "datetime":
            # pandas' Timedelta Series .dt.total_seconds(): int64 nanoseconds / 1e9.
            diff = diff / 1_000_000_000
        # A zero range only tells equal from unequal (sdmetrics: 0 or 1).
        distance = (diff > 0).astype(np.float64) if self.scale == 0 else np.minimum(diff / self.scale, 1.0)
        if self.data_missing is not None:
            one = self.data_missing[rows]
            other = self.reference_missing[refs]
            distance = np.where(one ^ other, 1.0, np.where(one & other, 0.0, distance))
        return distance


def column_scales(reference: pd.DataFrame, sdtypes: Mapping[str, str]) -> dict[str, float]:
    """The range of each numerical (and datetime, in seconds) column: what its distances are divided by."""
    columns = _build_columns(reference, reference, sdtypes)
    return {column.name: column.scale for column in columns if column.kind != "categorical"}


def _build_columns(
    data: pd.DataFrame,
    reference: pd.DataFrame,
    sdtypes: Mapping[str, str],
    scales: Mapping[str, float] | None = None,
) -> list[_Column]:
    columns = []
    for name, sdtype in sdtypes.items():
        if sdtype not in DCR_SDTYPES:
            continue
        if sdtype in ("categorical", "boolean"):
            (codes_data, codes_ref), uniques = joint_codes([data[name], reference[name]])
            columns.append(_Column("categorical", codes_data, codes_ref, float(len(uniques)), name=name))
            continue
        data_missing = data[name].isna().to_numpy()
        reference_missing = reference[name].isna().to_numpy()
        if sdtype == "datetime":
            values = data[name].to_numpy(dtype="datetime64[ns]").view(np.int64)
            ref_values = reference[name].to_numpy(dtype="datetime64[ns]").view(np.int64)
            present = ref_values[~reference_missing]
            span_ns = int(present.max() - present.min()) if present.size else None
            # Timedelta.total_seconds() truncates to whole microseconds.
            scale = np.nan if span_ns is None else (span_ns // 1000) / 1e6
            kind = "datetime"
        else:
            values = data[name].to_numpy(dtype=np.float64, na_value=np.nan)
            ref_values = reference[name].to_numpy(dtype=np.float64, na_value=np.nan)
            scale = float(reference[name].max() - reference[name].min())
            kind = "numerical"
        if scales is not None and name in scales:
            scale = scales[name]
        any_missing = bool(data_missing.any() or reference_missing.any())
        columns.append(
            _Column(
                kind,
                values,
                ref_values,
                scale,
                data_missing if any_missing else None,
                reference_missing if any_missing else None,
                name=name,
            )
        )
    return columns


def _exact_sums(columns: list[_Column], rows: np.ndarray, refs: np.ndarray) -> np.ndarray:
    total = None
    for column in columns:
        distance = column.pair_distance(rows, refs)
        total = distance if total is None else total + distance
    return total


def _bound_bits(column: _Column) -> tuple[float, np.ndarray, np.ndarray, float] | None:
    """(weight, data bits, reference bits, slack) of one column's share of the bound, or None.

    Bits are (rows, width) 0/1 arrays; the weighted Hamming distance of two rows' bits minus ``slack``
    never exceeds the column distance (a thermometer overshoots by up to 1/K, so its slack is 1/K).
    """
    if column.kind == "categorical":
        count = int(column.scale)
        if count > _MAX_ONE_HOT:
            return None  # no bound from this column: still exact, only less pruning
        one_hot = np.eye(count, dtype=np.float32)
        return 0.5, one_hot[column.data], one_hot[column.reference], 0.0
    if column.data_missing is not None:
        # Only the missing indicator: it never exceeds the column distance (1 for exactly one missing).
        return 1.0, column.data_missing[:, None], column.reference_missing[:, None], 0.0
    if not (column.scale and np.isfinite(column.scale)):
        return None
    low = float(column.reference.min())
    # The column divides by its scale (the reference's range, or one given); values clipped into
    # [low, low + scale] can only come closer, so the thermometer stays a lower bound.
    span = float(column.scale) * (1e9 if column.kind == "datetime" else 1.0)
    steps = np.arange(1, _THERMOMETER_BINS) / _THERMOMETER_BINS
    unit_data = np.clip((column.data.astype(np.float64) - low) / span, 0.0, 1.0)
    unit_ref = np.clip((column.reference.astype(np.float64) - low) / span, 0.0, 1.0)
    weight = 1.0 / _THERMOMETER_BINS
    return weight, unit_data[:, None] >= steps, unit_ref[:, None] >= steps, weight


def _bound_features(columns: list[_Column], n_data: int, n_ref: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(data features, reference features^T, per-data-row offset): bound_sum = data @ ref + offset.

    Weighted Hamming distance = w.x + w.y - 2 (w*x).y: data rows carry -2 w x and a constant 1, the
    reference columns carry y and w.y, the offset w.x minus the slacks.
    """
    parts = [bits for bits in map(_bound_bits, columns) if bits is not None]
    width = sum(data.shape[1] for _, data, _, _ in parts)
    data_features = np.zeros((n_data, width + 1), dtype=np.float32)
    ref_features = np.zeros((width + 1, n_ref), dtype=np.float32)
    offset = np.zeros(n_data, dtype=np.float64)
    position = 0
    for weight, data, reference, slack in parts:
        span = slice(position, position + data.shape[1])
        data_features[:, span] = data
        data_features[:, span] *= -2 * weight
        ref_features[span] = reference.T
        ref_features[width] += weight * reference.sum(axis=1, dtype=np.float32)
        offset += weight * data.sum(axis=1, dtype=np.float64) - slack
        position += data.shape[1]
    data_features[:, width] = 1.0
    return data_features, ref_features, offset


def _refine(columns: list[_Column], rows: np.ndarray, refs: np.ndarray, best: np.ndarray, first: int) -> None:
    for start in range(0, rows.size, _PAIR_CHUNK):
        chunk_rows, chunk_refs = rows[start : start + _PAIR_CHUNK], refs[start : start + _PAIR_CHUNK]
        np.minimum.at(best, chunk_rows, _exact_sums(columns, chunk_rows + first, chunk_refs))


def distance_to_closest_record(
    data: pd.DataFrame,
    reference: pd.DataFrame,
    sdtypes: Mapping[str, str],
    scales: Mapping[str, float] | None = None,
) -> np.ndarray:
    """DCR of every row of ``data`` to ``reference``: equal to sdmetrics' ``calculate_dcr`` (without scales)."""
    columns = _build_columns(data, reference, sdtypes, scales)
    if not columns:
        raise ValueError("There are no overlapping statistical columns to measure.")
    n_data, n_ref = len(data), len(reference)
    data_features, ref_features, offset = _bound_features(columns, n_data, n_ref)
    result = np.empty(n_data, dtype=np.float64)
    for first in range(0, n_data, _ROW_BLOCK):
        last = min(first + _ROW_BLOCK, n_data)
        local = np.arange(last - first)
        best = np.full(last - first, np.inf)
        block = data_features[first:last]
        for tile in range(0, n_ref, _REFERENCE_TILE):
            bounds = block @ ref_features[:, tile : tile + _REFERENCE_TILE]
            nearest = bounds.argmin(axis=1) + tile
            np.minimum(best, _exact_sums(columns, local + first, nearest), out=best)
            threshold = (best - offset[first:last] + _MARGIN).astype(np.float32)
            candidates = bounds <= threshold[:, None]
            if np.count_nonzero(candidates) > _DENSE_SHARE * candidates.size:
                # A loose bound (e.g. only high-cardinality columns): every pair, by broadcasting.
                refs = np.arange(tile, tile + bounds.shape[1])
                dense = _exact_sums(columns, local[:, None] + first, refs[None, :]).min(axis=1)
                np.minimum(best, dense, out=best)
                continue
            flat = np.flatnonzero(candidates)
            if flat.size:
                rows, refs = np.divmod(flat, bounds.shape[1])
                _refine(columns, rows, refs + tile, best, first)
        result[first:last] = best / len(columns)
    return result


def _merge_two(best: np.ndarray, rows: np.ndarray, distances: np.ndarray) -> None:
    """Fold (row, distance) pairs into each row's two smallest distances (``best`` has shape (rows, 2))."""
    candidates = np.concatenate([best.ravel(), distances])
    owners = np.concatenate([np.repeat(np.arange(best.shape[0]), 2), rows])
    order = np.lexsort((candidates, owners))
    owners, candidates = owners[order], candidates[order]
    first = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
    best[owners[first], 0] = candidates[first]
    best[owners[first], 1] = candidates[first + 1]


def nearest_two(
    data: pd.DataFrame,
    reference: pd.DataFrame,
    sdtypes: Mapping[str, str],
    scales: Mapping[str, float] | None = None,
) -> np.ndarray:
    """The distances of every row of ``data`` to its nearest and second-nearest ``reference`` row, (n, 2).

    Same distance as ``distance_to_closest_record``; the reference needs at least two rows.
    """
    columns = _build_columns(data, reference, sdtypes, scales)
    if not columns:
        raise ValueError("There are no overlapping statistical columns to measure.")
    n_data, n_ref = len(data), len(reference)
    if n_ref < 2:
        raise ValueError("the second-nearest row needs a reference of at least two rows")
    data_features, ref_features, offset = _bound_features(columns, n_data, n_ref)
    result = np.empty((n_data, 2), dtype=np.float64)
    for first in range(0, n_data, _ROW_BLOCK):
        last = min(first + _ROW_BLOCK, n_data)
        local = np.arange(last - first)
        best = np.full((last - first, 2), np.inf)
        block = data_features[first:last]
        for tile in range(0, n_ref, _REFERENCE_TILE):
            bounds = block @ ref_features[:, tile : tile + _REFERENCE_TILE]
            width = bounds.shape[1]
            # The two smallest bounds of each row seed its two best distances (two argmins cost less than
            # one argpartition).
            nearest = bounds.argmin(axis=1)
            if width >= 2:
                kept = bounds[local, nearest]
                bounds[local, nearest] = np.inf
                seeds = np.column_stack([nearest, bounds.argmin(axis=1)]) + tile
                bounds[local, nearest] = kept
            else:
                seeds = (nearest + tile)[:, None]
            seed_rows = np.repeat(local, seeds.shape[1])
            _merge_two(best, seed_rows, _exact_sums(columns, seed_rows + first, seeds.ravel()))
            threshold = (best[:, 1] - offset[first:last] + _MARGIN).astype(np.float32)
            candidates = bounds <= threshold[:, None]
            # The seeds were scored already: do not count a reference row twice.
            candidates[np.repeat(local, seeds.shape[1]), seeds.ravel() - tile] = False
            flat = np.flatnonzero(candidates)
            for start in range(0, flat.size, _PAIR_CHUNK):
                rows, refs = np.divmod(flat[start : start + _PAIR_CHUNK], width)
                _merge_two(best, rows, _exact_sums(columns, rows + first, refs + tile))
        result[first:last] = best / len(columns)
    return result
