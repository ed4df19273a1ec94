"""The DCR distance searches split into parts that other workers compute, combined exactly.

Each synthetic (or random baseline) row's distance to its nearest reference rows depends on that row and the
whole reference table only: cutting the rows into slices [start, stop) and computing each slice against the
whole reference gives, concatenated in order, exactly the distances of one search (the same pairs are summed
the same way; only which pairs the pruning skips differs, and it never skips the nearest). So a table whose
distance search exceeds one worker's budget is cut into parts of about ``PartRunner.pairs_per_part`` row
pairs, and a ``PartRunner`` (supplied by whoever runs the engine: the registry hands them to the workers that
are running) computes them anywhere; ``compute_part`` is all a worker needs, given the same prepared inputs.

Without a runner (or below its budget) the privacy kind searches in one piece, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from registry.evaluation.config import EvaluationConfig
from registry.evaluation.prepare import PreparedData
from registry.evaluation.privacy.dcr_scores import random_baseline_table
from registry.evaluation.privacy.distance import NearestSearch

TABLES = ("synthetic", "random")
_SEARCH = "nearest_search"
REFERENCES = ("real", "holdout")


@dataclass(frozen=True)
class DistancePart:
    """Rows [start, stop) of ``table`` against the whole ``reference``: the nearest distance (``nearest`` 1)
    or the two nearest (2, for NNDR)."""

    table: str  # "synthetic": the DCR's synthetic rows (all, or the dcr_synthetic_sample); "random": the baseline
    reference: str  # "real" or "holdout"
    nearest: int
    start: int
    stop: int

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict) -> DistancePart:
        part = cls(**{name: raw[name] for name in ("table", "reference", "nearest", "start", "stop")})
        if part.table not in TABLES or part.reference not in REFERENCES or part.nearest not in (1, 2):
            raise ValueError(f"not a distance part: {raw!r}")
        if not 0 <= part.start < part.stop:
            raise ValueError(f"empty or negative row range in {raw!r}")
        return part


class PartRunner(Protocol):
    """Computes distance parts and returns their arrays in order: ``compute`` computes one here (on the
    caller's prepared inputs); a part computed elsewhere must equal ``compute_part`` on the same inputs."""

    pairs_per_part: int

    def run(self, parts: Sequence[DistancePart], compute: Callable[[DistancePart], np.ndarray]) -> list[np.ndarray]: ...


def synthetic_sample(data: PreparedData, config: EvaluationConfig) -> tuple[pd.DataFrame, bool]:
    """The synthetic rows the DCR scores measure: all, or a seeded sample of ``dcr_synthetic_sample``."""
    size = config.dcr_synthetic_sample
    if size is None or size >= len(data.synthetic):
        return data.synthetic, False
    rows = np.sort(np.random.default_rng(config.seed).choice(len(data.synthetic), size=size, replace=False))
    return data.synthetic.iloc[rows].reset_index(drop=True), True


def distance_table(data: PreparedData, config: EvaluationConfig, table: str) -> pd.DataFrame:
    """The rows a part measures, built once per prepared inputs (the same on every worker: seeded)."""

    def build() -> pd.DataFrame:
        sample = synthetic_sample(data, config)[0]
        if table == "synthetic":
            return sample
        return random_baseline_table(data.real, len(sample), config.seed)

    return data.derived(("distance_table", table), build)


def compute_part(data: PreparedData, config: EvaluationConfig, part: DistancePart) -> np.ndarray:
    """One part's distances: shape (stop - start,) for ``nearest`` 1, (stop - start, 2) for 2. The search is
    prepared once per (table, reference, nearest) and kept until ``forget_searches``: every part of it reuses
    the columns, the group pass and the bound features (building those per part cost 45% at 100k rows)."""
    reference = data.real if part.reference == "real" else data.holdout
    if reference is None:
        raise ValueError("this evaluation has no holdout table")
    table = distance_table(data, config, part.table)
    if part.stop > len(table):
        raise ValueError(f"rows {part.start}-{part.stop} of a table of {len(table)}")
    search = data.derived(
        (_SEARCH, part.table, part.reference, part.nearest),
        lambda: NearestSearch(table, reference, data.evaluated, nearest=part.nearest),
    )
    return search.distances(part.start, part.stop)


def forget_searches(data: PreparedData) -> None:
    """Release the prepared searches (their bound features are as large as the tables)."""
    data.forget(lambda key: isinstance(key, tuple) and key[:1] == (_SEARCH,))


def plan(table: str, reference: str, nearest: int, rows: int, reference_rows: int, pairs: int) -> list[DistancePart]:
    """Slices of about ``pairs`` row pairs each (at least one row a part)."""
    step = max(1, pairs // max(1, reference_rows))
    return [DistancePart(table, reference, nearest, start, min(start + step, rows)) for start in range(0, rows, step)]


def split_distances(
    data: PreparedData, config: EvaluationConfig, runner: PartRunner, searches: Sequence[tuple[str, str, int]]
) -> dict:
    """Every (table, reference, nearest) search, cut into parts, computed by ``runner`` and put back together:
    {(table, reference): distances, "parts": how many parts}."""
    parts: list[DistancePart] = []
    for table, reference, nearest in searches:
        rows = len(distance_table(data, config, table))
        reference_rows = len(data.real if reference == "real" else data.holdout)
        parts += plan(table, reference, nearest, rows, reference_rows, runner.pairs_per_part)
    try:
        arrays = runner.run(parts, lambda part: compute_part(data, config, part))
    finally:
        forget_searches(data)
    if len(arrays) != len(parts):
        raise RuntimeError(f"the part runner returned {len(arrays)} results for {len(parts)} parts")
    combined: dict = {"parts": len(parts)}
    for table, reference, _ in searches:
        pieces = zip(parts, arrays, strict=True)
        combined[(table, reference)] = np.concatenate(
            [array for part, array in pieces if (part.table, part.reference) == (table, reference)]
        )
    return combined


class LocalParts:
    """A runner that computes every part here, one after the other."""

    def __init__(self, pairs_per_part: int) -> None:
        self.pairs_per_part = pairs_per_part

    def run(self, parts: Sequence[DistancePart], compute: Callable[[DistancePart], np.ndarray]) -> list[np.ndarray]:
        return [compute(part) for part in parts]
