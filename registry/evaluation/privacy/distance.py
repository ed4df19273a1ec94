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

Before that, a cheaper pass settles most rows of typical tables. Each data row is compared exactly with
the reference rows equal to it in every categorical (and boolean) column, and then with those differing in
exactly one of them. A reference row left out differs in at least two, each costing exactly 1 in the row's
sum, so a best sum (for ``nearest_two`` the second best) of at most 2 is final; with only the first level
the limit is 1. The other rows go through the bound above. An exact pair costs tens of times a bound pair,
so a level runs only while its pairs stay within ``_GROUP_PAIR_SHARE`` of all pairs (measured best at 1%
on the demo and at 30k rows); a table without discriminating categories skips the pass.

``nearest_two`` gives the two smallest distances (for NNDR) the same way, pruning against the second best.
Both take optional per-column ``scales`` (the ranges to divide by): the privacy evidence beyond sdmetrics
measures every table against the training table's ranges, so that "close" means one thing throughout.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from registry.evaluation.keys import combine_keys, joint_codes

DCR_SDTYPES = ("numerical", "datetime", "categorical", "boolean")
_THERMOMETER_BINS = 8
_MAX_ONE_HOT = 128
_ROW_BLOCK = 256
_REFERENCE_TILE = 32_768
_PAIR_CHUNK = 2_000_000
# Above this share of candidate pairs, gathering pairs costs more than computing the whole tile.
_DENSE_SHARE = 0.2
# Bounds are exact multiples of 1/8 in float32; the margin only absorbs the cast of the threshold.
_MARGIN = 1e-3
# The group pass runs when pairs within groups are at most this share of all pairs.
_GROUP_PAIR_SHARE = 0.01


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


def _key_groups(parts: list[_Column], n_data: int, n_ref: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each data row, the reference rows with the same values in ``parts``: (order, starts, counts)."""
    if parts:
        data_key, ref_key = combine_keys([[c.data, c.reference] for c in parts], [n_data, n_ref])
    else:
        data_key, ref_key = np.zeros(n_data, dtype=np.int64), np.zeros(n_ref, dtype=np.int64)
    ref_order = np.argsort(ref_key, kind="stable")
    sorted_keys = ref_key[ref_order]
    starts = np.searchsorted(sorted_keys, data_key, side="left")
    counts = np.searchsorted(sorted_keys, data_key, side="right") - starts
    return ref_order, starts, counts


def _pairs_of(ref_order: np.ndarray, starts: np.ndarray, counts: np.ndarray):
    """Chunks of (data row, reference row) pairs of the groups, at most about ``_PAIR_CHUNK`` pairs each."""
    rows = np.flatnonzero(counts)
    ends = np.cumsum(counts[rows])
    first = 0
    while first < rows.size:
        done = int(ends[first - 1]) if first else 0
        last = max(first + 1, int(np.searchsorted(ends, done + _PAIR_CHUNK, side="right")))
        chunk_rows = rows[first:last]
        sizes = counts[chunk_rows]
        pair_rows = np.repeat(chunk_rows, sizes)
        offsets = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        yield pair_rows, ref_order[np.repeat(starts[chunk_rows], sizes) + offsets]
        first = last


def _group_plan(columns: list[_Column], n_data: int, n_ref: int) -> tuple[float, list] | None:
    """The group pass: key groups of (data row, reference row) pairs that differ in at most ``level``
    categorical columns, and the sum below which a row's distance is final; None when there is no categorical
    column or the pairs would be too many. Each group is (ref_order, starts, counts, column the pairs must
    differ in or None); ``_group_pairs`` enumerates a slice of data rows' pairs.

    Level 0: the pairs equal in every categorical column. Level 1 adds, for each categorical column, the pairs
    equal in all the others and different in it, so each pair comes once. A pair left out differs in at
    least level + 1 categorical columns, each costing exactly 1: a best sum of at most level + 1 is final.
    """
    categorical = [column for column in columns if column.kind == "categorical"]
    if not categorical or n_data == 0 or n_ref == 0:
        return None
    budget = _GROUP_PAIR_SHARE * n_data * n_ref
    exact = _key_groups(categorical, n_data, n_ref)
    if exact[2].sum(dtype=np.float64) > budget:
        return None
    plan = [(*exact, None)]
    spent = float(exact[2].sum(dtype=np.float64))
    level = 0
    groups = [_key_groups([c for c in categorical if c is not left_out], n_data, n_ref) for left_out in categorical]
    wider = sum(float(g[2].sum(dtype=np.float64)) for g in groups)
    if spent + wider <= budget:
        level = 1
        plan += [(*group, left_out) for left_out, group in zip(categorical, groups, strict=True)]
    return float(level + 1), plan


def _group_pairs(plan: list, start: int, stop: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The planned pairs of data rows [start, stop), in chunks: (data rows, reference rows), grouped by row."""
    for ref_order, starts, counts, differing in plan:
        pairs = _pairs_of(ref_order, starts[start:stop], counts[start:stop])
        for rows, refs in pairs if differing is None else _differing_in(differing, pairs, start):
            yield rows + start, refs


def _differing_in(column: _Column, pairs, offset: int):
    for rows, refs in pairs:
        keep = column.data[rows + offset] != column.reference[refs]
        yield rows[keep], refs[keep]


class NearestSearch:
    """Each ``data`` row's distance to its nearest ``reference`` row (``nearest`` 1) or its two nearest (2).

    Prepared once (the columns, the group pass's key groups, the bound features when a row needs them) and
    computed for any slice of data rows: a row's search involves that row and the whole reference only, so
    ``distances(start, stop)`` of consecutive slices, concatenated, equal ``distances()`` bit for bit (the
    same pairs, pruned the same way). The privacy kind's distance parts are such slices.
    """

    def __init__(
        self,
        data: pd.DataFrame,
        reference: pd.DataFrame,
        sdtypes: Mapping[str, str],
        scales: Mapping[str, float] | None = None,
        nearest: int = 1,
    ) -> None:
        self.columns = _build_columns(data, reference, sdtypes, scales)
        if not self.columns:
            raise ValueError("There are no overlapping statistical columns to measure.")
        self.n_data, self.n_ref, self.nearest = len(data), len(reference), nearest
        if nearest == 2 and self.n_ref < 2:
            raise ValueError("the second-nearest row needs a reference of at least two rows")
        self.groups = _group_plan(self.columns, self.n_data, self.n_ref)
        self._features: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def _bound_features(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._features is None:
            self._features = _bound_features(self.columns, self.n_data, self.n_ref)
        return self._features

    def distances(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Rows [start, stop)'s distances: shape (rows,) for the nearest, (rows, 2) for the two nearest."""
        stop = self.n_data if stop is None else min(stop, self.n_data)
        rows = max(0, stop - start)
        two = self.nearest == 2
        settled = np.full((rows, 2) if two else rows, np.inf)
        if self.groups is not None:
            limit, plan = self.groups
            for pair_rows, refs in _group_pairs(plan, start, stop):
                if not pair_rows.size:
                    continue
                sums, local = _exact_sums(self.columns, pair_rows, refs), pair_rows - start
                if two:
                    _merge_two(settled, local, sums)
                else:
                    heads = np.flatnonzero(np.r_[True, local[1:] != local[:-1]])
                    np.minimum.at(settled, local[heads], np.minimum.reduceat(sums, heads))
            # A pair not compared costs at least the group pass's limit: a best (for two, a second best) up
            # to it is final.
            todo = np.flatnonzero(~((settled[:, 1] if two else settled) <= limit))
        else:
            todo = np.arange(rows)
        result = settled.copy()
        if todo.size:
            data_features, ref_features, offset = self._bound_features()
            for first in range(0, todo.size, _ROW_BLOCK):
                local = todo[first : first + _ROW_BLOCK]
                block_rows = local + start
                block, block_offset = data_features[block_rows], offset[block_rows]
                if two:
                    # From scratch over every reference row: the group pass's pairs would otherwise count twice.
                    result[local] = _nearest_two_block(self.columns, block_rows, block, ref_features, block_offset)
                else:
                    best = settled[local].copy()
                    _nearest_block(self.columns, block_rows, block, ref_features, block_offset, best)
                    result[local] = best
        return result / len(self.columns)


def distance_to_closest_record(
    data: pd.DataFrame,
    reference: pd.DataFrame,
    sdtypes: Mapping[str, str],
    scales: Mapping[str, float] | None = None,
) -> np.ndarray:
    """DCR of every row of ``data`` to ``reference``: equal to sdmetrics' ``calculate_dcr`` (without scales)."""
    return NearestSearch(data, reference, sdtypes, scales).distances()


def _nearest_block(
    columns: list[_Column],
    block_rows: np.ndarray,
    block: np.ndarray,
    ref_features: np.ndarray,
    offset: np.ndarray,
    best: np.ndarray,
) -> None:
    """Lower ``best`` (sums) of the data rows ``block_rows`` to their exact nearest distance sums."""
    n_ref = ref_features.shape[1]
    for tile in range(0, n_ref, _REFERENCE_TILE):
        bounds = block @ ref_features[:, tile : tile + _REFERENCE_TILE]
        nearest = bounds.argmin(axis=1) + tile
        np.minimum(best, _exact_sums(columns, block_rows, nearest), out=best)
        threshold = (best - offset + _MARGIN).astype(np.float32)
        candidates = bounds <= threshold[:, None]
        if np.count_nonzero(candidates) > _DENSE_SHARE * candidates.size:
            # A loose bound (e.g. only high-cardinality columns): every pair, by broadcasting.
            refs = np.arange(tile, tile + bounds.shape[1])
            dense = _exact_sums(columns, block_rows[:, None], refs[None, :]).min(axis=1)
            np.minimum(best, dense, out=best)
            continue
        flat = np.flatnonzero(candidates)
        for start in range(0, flat.size, _PAIR_CHUNK):
            local, refs = np.divmod(flat[start : start + _PAIR_CHUNK], bounds.shape[1])
            np.minimum.at(best, local, _exact_sums(columns, block_rows[local], refs + tile))


def _merge_two(best: np.ndarray, rows: np.ndarray, distances: np.ndarray) -> None:
    """Fold (row, distance) pairs into each row's two smallest distances (``best`` has shape (rows, 2)).

    Without sorting the pairs: each row's smallest candidate, then the smallest of the others (one
    occurrence of the smallest removed, so a tie gives the same value twice), then the two smallest of four.
    """
    n = best.shape[0]
    first = np.full(n, np.inf)
    np.minimum.at(first, rows, distances)
    at_min = np.flatnonzero(distances == first[rows])
    position = np.full(n, distances.size)
    np.minimum.at(position, rows[at_min], at_min)
    rest = distances.copy()
    rest[position[position < distances.size]] = np.inf
    second = np.full(n, np.inf)
    np.minimum.at(second, rows, rest)
    four = np.column_stack([best, first, second])
    four.sort(axis=1)
    best[:] = four[:, :2]


def nearest_two(
    data: pd.DataFrame,
    reference: pd.DataFrame,
    sdtypes: Mapping[str, str],
    scales: Mapping[str, float] | None = None,
) -> np.ndarray:
    """The distances of every row of ``data`` to its nearest and second-nearest ``reference`` row, (n, 2).

    Same distance as ``distance_to_closest_record``; the reference needs at least two rows.
    """
    return NearestSearch(data, reference, sdtypes, scales, nearest=2).distances()


def _nearest_two_block(
    columns: list[_Column], block_rows: np.ndarray, block: np.ndarray, ref_features: np.ndarray, offset: np.ndarray
) -> np.ndarray:
    """The two exact smallest distance sums ((rows, 2)) of the data rows ``block_rows``, over every reference row."""
    n_ref = ref_features.shape[1]
    local = np.arange(block_rows.size)
    best = np.full((block_rows.size, 2), np.inf)
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
        _merge_two(best, seed_rows, _exact_sums(columns, block_rows[seed_rows], seeds.ravel()))
        threshold = (best[:, 1] - offset + _MARGIN).astype(np.float32)
        candidates = bounds <= threshold[:, None]
        # The seeds were scored already: do not count a reference row twice.
        candidates[seed_rows, seeds.ravel() - tile] = False
        flat = np.flatnonzero(candidates)
        for start in range(0, flat.size, _PAIR_CHUNK):
            rows, refs = np.divmod(flat[start : start + _PAIR_CHUNK], width)
            _merge_two(best, rows, _exact_sums(columns, block_rows[rows], refs + tile))
    return best
