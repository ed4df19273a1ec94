"""The card's summaries: counts and associations equal the definitions written plainly with pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency

from registry.evaluation.keys import joint_codes
from registry.evaluation.summaries import OTHER, distribution_summaries


def _plain_cramers_v(left: pd.Series, right: pd.Series, keep_left: list, keep_right: list) -> float | None:
    def folded(series, keep):
        text = series.dropna().astype(str)
        return text.where(text.isin(keep), OTHER)

    pair = pd.concat([folded(left, keep_left), folded(right, keep_right)], axis=1, join="inner")
    table = pd.crosstab(pair.iloc[:, 0], pair.iloc[:, 1]).to_numpy()
    if min(table.shape) < 2:
        return None
    chi2 = chi2_contingency(table, correction=False)[0]
    return float(np.sqrt(chi2 / (table.sum() * (min(table.shape) - 1))))


@pytest.fixture(scope="module")
def frames():
    generator = np.random.default_rng(4)

    def frame(rows):
        colour = generator.choice(np.array(["red", "green", "blue", "rare1", "rare2"], dtype=object), rows,
                                  p=[0.4, 0.3, 0.26, 0.02, 0.02])  # fmt: skip
        colour[generator.random(rows) < 0.1] = None
        size = generator.integers(0, 30, rows)  # integers as categories: 30 values, 20 kept
        flag = pd.Series(generator.random(rows) < 0.4, dtype=object)
        flag[generator.random(rows) < 0.05] = np.nan
        mixed = pd.Series([1 if draw < 0.5 else "1" for draw in generator.random(rows)], dtype=object)  # one text
        return pd.DataFrame({"colour": colour, "size": size, "flag": flag, "mixed": mixed})

    return frame(3000), frame(2500)


def test_frequencies_fold_rare_categories_and_count_missing(frames):
    real, synthetic = frames
    sdtypes = dict.fromkeys(real.columns, "categorical")
    summary = distribution_summaries(real, synthetic, sdtypes, max_categories=20, min_count=100)
    colour = summary["columns"]["colour"]
    counts = real["colour"].value_counts()
    assert colour["categories"] == ["red", "green", "blue"]
    assert colour["real"] == [int(counts[name]) for name in ("red", "green", "blue")]
    assert colour["other"]["real"] == int(counts["rare1"] + counts["rare2"])
    assert colour["missing"] == {
        "real": int(real["colour"].isna().sum()),
        "synthetic": int(synthetic["colour"].isna().sum()),
    }
    assert summary["columns"]["mixed"]["categories"] == ["1"]
    assert summary["columns"]["mixed"]["real"] == [3000]


def test_associations_equal_cramers_v_of_the_folded_crosstab(frames):
    real, synthetic = frames
    sdtypes = dict.fromkeys(real.columns, "categorical")
    summary = distribution_summaries(real, synthetic, sdtypes, max_categories=20, min_count=100)
    associations = summary["associations"]
    names = associations["columns"]
    for side, frame in (("real", real), ("synthetic", synthetic)):
        for i, left in enumerate(names):
            for j, right in enumerate(names):
                if i == j:
                    continue
                keep = summary["columns"][left]["categories"], summary["columns"][right]["categories"]
                expected = _plain_cramers_v(frame[left], frame[right], *keep)
                got = associations[side][i][j]
                assert (got is None) == (expected is None), (side, left, right)
                if expected is not None:
                    assert got == pytest.approx(expected, abs=1e-12), (side, left, right)


def test_summaries_from_shared_value_codes_equal_those_computed_alone(frames):
    real, synthetic = frames
    sdtypes = dict.fromkeys(real.columns, "categorical")

    def codes(name):
        return joint_codes([real[name], synthetic[name]])

    alone = distribution_summaries(real, synthetic, sdtypes, min_count=100)
    shared = distribution_summaries(real, synthetic, sdtypes, min_count=100, codes=codes)
    assert shared == alone
