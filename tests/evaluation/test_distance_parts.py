"""DCR distance searches cut into parts (``privacy.parts``): put back together, they are the one search exactly."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from registry.evaluation.engine import EvaluationConfig, run_evaluation
from registry.evaluation.prepare import prepare_inputs
from registry.evaluation.privacy.distance import distance_to_closest_record, nearest_two
from registry.evaluation.privacy.parts import DistancePart, LocalParts, compute_part, distance_table, plan

CONFIG = EvaluationConfig(kinds=("privacy",), seed=5)


@pytest.fixture(scope="module")
def tables(adult, resample):
    shuffled = adult.sample(2600, random_state=11).reset_index(drop=True)
    real, holdout = shuffled.iloc[:1500].reset_index(drop=True), shuffled.iloc[1500:].reset_index(drop=True)
    return real, resample(real, 1200, seed=12, copies=20), holdout


class CountingParts(LocalParts):
    def __init__(self, pairs_per_part):
        super().__init__(pairs_per_part)
        self.seen = []

    def run(self, parts, compute):
        self.seen.extend(parts)
        return super().run(parts, compute)


def test_plan_cuts_rows_into_slices_of_about_the_pair_budget():
    assert plan("synthetic", "real", 1, rows=10, reference_rows=4, pairs=12) == [
        DistancePart("synthetic", "real", 1, 0, 3),
        DistancePart("synthetic", "real", 1, 3, 6),
        DistancePart("synthetic", "real", 1, 6, 9),
        DistancePart("synthetic", "real", 1, 9, 10),
    ]
    # A budget below one row's pairs still makes progress: one row a part.
    assert [part.stop - part.start for part in plan("random", "real", 1, 3, 100, 5)] == [1, 1, 1]


@pytest.mark.parametrize(
    "raw",
    [
        {"table": "real", "reference": "real", "nearest": 1, "start": 0, "stop": 5},
        {"table": "synthetic", "reference": "synthetic", "nearest": 1, "start": 0, "stop": 5},
        {"table": "synthetic", "reference": "real", "nearest": 3, "start": 0, "stop": 5},
        {"table": "synthetic", "reference": "real", "nearest": 1, "start": 5, "stop": 5},
        {"table": "synthetic", "reference": "real", "nearest": 1, "start": -1, "stop": 5},
    ],
)
def test_a_part_that_is_not_one_is_refused(raw):
    with pytest.raises(ValueError):
        DistancePart.from_dict(raw)


def test_parts_concatenated_equal_the_whole_search_bit_for_bit(tables, adult_schema):
    real, synthetic, holdout = tables
    data = prepare_inputs(real, synthetic, adult_schema, CONFIG, holdout)
    rows = distance_table(data, CONFIG, "synthetic")
    for nearest, search in ((1, distance_to_closest_record), (2, nearest_two)):
        for reference, table in (("real", data.real), ("holdout", data.holdout)):
            whole = search(rows, table, data.evaluated)
            parts = plan("synthetic", reference, nearest, len(rows), len(table), 97 * len(table))
            pieces = np.concatenate([compute_part(data, CONFIG, part) for part in parts])
            assert len(parts) == 13
            assert np.array_equal(pieces, whole)
    random_rows = distance_table(data, CONFIG, "random")
    assert len(random_rows) == len(rows)
    whole = distance_to_closest_record(random_rows, data.real, data.evaluated)
    parts = plan("random", "real", 1, len(random_rows), len(data.real), 500 * len(data.real))
    assert np.array_equal(np.concatenate([compute_part(data, CONFIG, part) for part in parts]), whole)


@pytest.mark.parametrize("with_holdout", [False, True])
def test_an_evaluation_split_into_parts_gives_the_same_numbers(tables, adult_schema, with_holdout):
    real, synthetic, holdout = tables
    holdout = holdout if with_holdout else None
    whole = run_evaluation(real, synthetic, columns=adult_schema, config=CONFIG, holdout=holdout)
    runner = CountingParts(pairs_per_part=300 * len(real))
    split = run_evaluation(real, synthetic, columns=adult_schema, config=CONFIG, holdout=holdout, parts=runner)
    # 1,200 synthetic rows in parts of 300 against the training table, 1,100 holdout rows -> 300 * 1500 / 1100.
    searches = {(part.table, part.reference, part.nearest) for part in runner.seen}
    expected = {("synthetic", "real", 2 if with_holdout else 1), ("random", "real", 1)}
    assert searches == (expected | {("synthetic", "holdout", 1)} if with_holdout else expected)
    dcr = split.results["privacy"]["dcr"]
    assert dcr.pop("split") == {"pairs_per_part": 300 * len(real), "parts": len(runner.seen)}
    assert len(runner.seen) == (4 + 4 + 3 if with_holdout else 8)
    assert split.metrics == whole.metrics
    assert dataclasses.replace(split, durations={}) == dataclasses.replace(whole, durations={})


def test_below_the_runner_budget_the_search_is_one_piece(tables, adult_schema):
    real, synthetic, _ = tables
    runner = CountingParts(pairs_per_part=len(real) * len(synthetic))
    result = run_evaluation(real, synthetic, columns=adult_schema, config=CONFIG, parts=runner)
    assert runner.seen == []
    assert "split" not in result.results["privacy"]["dcr"]
