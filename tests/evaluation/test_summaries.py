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


@pytest.fixture(scope="module")
def numeric_frames():
    generator = np.random.default_rng(9)

    def frame(rows, shift):
        amount = generator.lognormal(3, 1, rows) + shift
        amount[generator.random(rows) < 0.05] = np.nan
        when = pd.Series(pd.Timestamp("2020-01-01") + pd.to_timedelta(generator.integers(0, 10**6, rows), unit="s"))
        when[generator.random(rows) < 0.1] = pd.NaT
        return pd.DataFrame(
            {
                "amount": amount,
                "count": generator.integers(0, 50, rows),  # integers: ties on the bin edges
                "score": generator.normal(0, 1, rows).round(1),
                "flat": np.full(rows, 7.0),
                "when": when,
            }
        )

    return frame(4000, 0.0), frame(3500, 5.0)


NUMERIC = {"amount": "numerical", "count": "numerical", "score": "numerical", "flat": "numerical", "when": "datetime"}


def _plain_histogram(values: pd.Series, edges: list[float]) -> tuple[list[int], int, int, int]:
    present = values.dropna().to_numpy(dtype=np.float64)
    low, high = edges[0], edges[-1]
    inside = present[(present >= low) & (present <= high)]
    counts = np.histogram(inside, bins=np.asarray(edges))[0].tolist()
    return counts, int((present < low).sum()), int((present > high).sum()), int(values.isna().sum())


def test_histograms_count_as_numpy_histogram_with_the_real_percentile_edges(numeric_frames):
    real, synthetic = numeric_frames
    summary = distribution_summaries(real, synthetic, NUMERIC, min_count=1)
    for name, sdtype in NUMERIC.items():
        column = summary["columns"][name]
        real_values, synthetic_values = real[name], synthetic[name]
        if sdtype == "datetime":
            real_values = real_values.astype("int64").where(real_values.notna()) / 1e9
            synthetic_values = synthetic_values.astype("int64").where(synthetic_values.notna()) / 1e9
        low, high = np.quantile(real_values.dropna().to_numpy(dtype=np.float64), [0.01, 0.99])
        if low == high:
            low, high = low - 0.5, high + 0.5
        assert column["edges"] == np.linspace(low, high, 21).tolist(), name
        for side, values in (("real", real_values), ("synthetic", synthetic_values)):
            counts, below, above, missing = _plain_histogram(values, column["edges"])
            assert column[side] == counts, (name, side)
            assert (column["below"][side], column["above"][side], column["missing"][side]) == (below, above, missing)


def test_histograms_from_shared_sorted_values_equal_those_computed_alone(numeric_frames):
    from registry.evaluation.native.shapes import sorted_present

    real, synthetic = numeric_frames

    def ordered(name):
        return sorted_present(real[name]), sorted_present(synthetic[name])

    alone = distribution_summaries(real, synthetic, NUMERIC)
    assert distribution_summaries(real, synthetic, NUMERIC, ordered=ordered) == alone


def test_correlations_equal_pandas_with_and_without_missing_values(numeric_frames):
    real, _ = numeric_frames
    names = ["amount", "count", "score", "flat"]
    complete = real.assign(amount=real["amount"].fillna(1.0))
    for frame in (real, complete):
        summary = distribution_summaries(frame, frame, dict.fromkeys(names, "numerical"))
        got = np.array(summary["correlations"]["real"], dtype=np.float64)
        expected = frame[names].corr().to_numpy()
        assert np.array_equal(np.isnan(got), np.isnan(expected))
        assert np.allclose(got[~np.isnan(got)], expected[~np.isnan(expected)], rtol=0, atol=1e-12)
