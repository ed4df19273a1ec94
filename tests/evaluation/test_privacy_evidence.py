"""The privacy evidence beyond sdmetrics, each against its published definition computed the slow, obvious way."""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from sklearn.metrics import roc_auc_score, roc_curve

from registry.evaluation.privacy import distance as distance_module
from registry.evaluation.privacy.copies import near_copies
from registry.evaluation.privacy.distance import distance_to_closest_record, nearest_two
from registry.evaluation.privacy.intervals import bootstrap, clopper_pearson, newcombe_difference
from registry.evaluation.privacy.membership import _Resampler, auc, tpr_at_fpr
from registry.evaluation.privacy.proximity import dcr_share, nndr, ratios
from registry.evaluation.privacy.singling_out import quasi_identifier_uniqueness, unique_exact_matches

scores = st.lists(st.integers(0, 12).map(float), min_size=1, max_size=60).map(np.array)


@pytest.mark.parametrize(("successes", "trials"), [(0, 10), (3, 10), (10, 10), (1, 6440), (71, 344)])
def test_clopper_pearson_is_the_exact_binomial_interval(successes, trials):
    expected = binomtest(successes, trials).proportion_ci(confidence_level=0.95, method="exact")
    low, high = clopper_pearson(successes, trials)
    assert abs(low - expected.low) <= 1e-12 and abs(high - expected.high) <= 1e-12
    assert clopper_pearson(0, 0) is None


def test_bootstrap_is_seeded_and_brackets_the_statistic():
    values = np.random.default_rng(1).normal(size=500)
    interval = bootstrap(np.mean, (values,), resamples=300, seed=4)
    assert interval == bootstrap(np.mean, (values,), resamples=300, seed=4)
    assert interval[0] < values.mean() < interval[1] and interval[1] - interval[0] < 0.25
    assert bootstrap(np.mean, (values[:0],), resamples=300, seed=4) is None


@settings(max_examples=60, deadline=None)
@given(scores, scores)
def test_membership_auc_is_the_mann_whitney_statistic(members, non_members):
    pairs = members[:, None] - non_members[None, :]
    expected = ((pairs > 0).sum() + 0.5 * (pairs == 0).sum()) / pairs.size
    assert abs(auc(members, non_members) - expected) <= 1e-12
    labels = np.r_[np.ones(members.size), np.zeros(non_members.size)]
    assert abs(auc(members, non_members) - roc_auc_score(labels, np.r_[members, non_members])) <= 1e-12


@settings(max_examples=60, deadline=None)
@given(scores, scores, st.sampled_from([0.0, 0.01, 0.1, 0.25, 0.5]))
def test_tpr_at_fpr_is_the_best_roc_point_within_the_rate(members, non_members, rate):
    labels = np.r_[np.ones(members.size), np.zeros(non_members.size)]
    fpr, tpr, _ = roc_curve(labels, np.r_[members, non_members], drop_intermediate=False)
    # The ROC's operating points flag every record scoring at least a threshold; ours flags strictly above a
    # non-member score, which reaches the same points where the rate allows them.
    expected = tpr[fpr <= rate + 1e-12].max()
    assert tpr_at_fpr(members, non_members, rate) == pytest.approx(expected, abs=1e-12)


def test_dcr_share_counts_ties_half_and_nndr_reads_nearest_over_second():
    training = np.array([0.0, 0.1, 0.2, 0.3])
    holdout = np.array([0.1, 0.1, 0.1, 0.5])
    share = dcr_share(training, holdout, resamples=50, seed=0)
    assert share["share"] == (1 + 0.5 + 0 + 1) / 4 and share["ties"] == 1
    nearest = np.array([[0.0, 0.0], [0.0, 0.4], [0.1, 0.4], [0.3, 0.3]])
    assert ratios(nearest).tolist() == [1.0, 0.0, 0.25, 1.0]
    result = nndr(nearest, np.array([[0.2, 0.4]] * 4), resamples=50, seed=0)
    assert result["holdout_p10"] == 0.5
    assert result["synthetic_p10"] == pytest.approx(np.percentile([1.0, 0.0, 0.25, 1.0], 10))
    assert result["p10_ratio"] == pytest.approx(result["synthetic_p10"] / 0.5)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from([0.0, 1.0]))
def test_nearest_two_and_dcr_equal_brute_force_with_and_without_the_group_pass(seed, group_share):
    generator = np.random.default_rng(seed)

    def table(rows):
        frame = pd.DataFrame(
            {
                "x": generator.integers(0, 4, rows).astype(float),
                "c": generator.choice(np.array(["a", "b", None], dtype=object), rows),
                "t": pd.to_datetime("2020-01-01") + pd.to_timedelta(generator.integers(0, 5, rows), unit="D"),
            }
        )
        frame.loc[generator.random(rows) < 0.2, "x"] = np.nan
        return frame

    data, reference = table(int(generator.integers(1, 25))), table(int(generator.integers(2, 25)))
    sdtypes = {"x": "numerical", "c": "categorical", "t": "datetime"}
    # The group pass (rows compared first with the reference rows sharing their categories) is forced on
    # or off: the distances must not depend on it.
    with patch.object(distance_module, "_GROUP_PAIR_SHARE", group_share):
        ours = nearest_two(data, reference, sdtypes)
        dcr = distance_to_closest_record(data, reference, sdtypes)
    assert np.array_equal(dcr, ours[:, 0])
    span = {
        "x": reference["x"].max() - reference["x"].min(),  # NaN when the reference has no value
        "t": (reference["t"].max() - reference["t"].min()).total_seconds(),
    }

    def distance(a, b):
        total = 0.0
        for name in ("x", "t"):
            va, vb = a[name], b[name]
            if pd.isna(va) and pd.isna(vb):
                continue
            if pd.isna(va) or pd.isna(vb):
                total += 1
                continue
            diff = abs((va - vb).total_seconds()) if name == "t" else abs(va - vb)
            total += float(diff > 0) if span[name] == 0 else min(diff / span[name], 1)
        total += 0 if a["c"] == b["c"] or (pd.isna(a["c"]) and pd.isna(b["c"])) else 1
        return total / 3

    references = reference.to_dict("records")  # per-column values (iterrows would turn None into NaT)
    for i, row in enumerate(data.to_dict("records")):
        row_distances = sorted(distance(row, ref) for ref in references)
        assert ours[i, 0] == pytest.approx(row_distances[0], abs=1e-12)
        assert ours[i, 1] == pytest.approx(row_distances[1], abs=1e-12)


def test_singling_out_counts_unique_real_records_reproduced():
    real = pd.DataFrame({"age": [30, 30, 41, 52, 52, 67], "zip": ["a", "a", "b", "c", "d", "e"]})
    synthetic = pd.DataFrame({"age": [30, 41, 52, 99], "zip": ["a", "b", "c", "z"]})
    result = unique_exact_matches(real, synthetic, ["age", "zip"])
    # Unique real records: (41, b), (52, c), (52, d), (67, e); (41, b) and (52, c) are reproduced.
    assert (result["unique_real_records"], result["matched"], result["share"]) == (4, 2, 0.5)
    assert result["interval_95"] == clopper_pearson(2, 4)
    qi = quasi_identifier_uniqueness(real, synthetic, ["age"])
    # k per synthetic row in the real table: 30 -> 2, 41 -> 1, 52 -> 2, 99 -> 0 (not a real combination).
    assert (qi["k1_rows"], qi["k_lt5_rows"], qi["synthetic_rows"]) == (1, 3, 4)


def test_near_copies_match_every_column_but_one():
    real = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"], "c": [10.0, 20.0, 30.0]})
    synthetic = pd.DataFrame({"a": [1, 2, 9, 3], "b": ["x", "y", "q", "q"], "c": [10.0, 21.0, 30.0, 31.0]})
    result = near_copies(real, synthetic, ["a", "b", "c"])
    # Row 0 is an exact copy; row 1 differs in c only; rows 2 and 3 differ in two columns.
    assert (result["count"], result["exact"], result["differing_column"]) == (2, 1, {"c": 1})
    assert result["near_mask"].tolist() == [True, True, False, False]


@pytest.mark.parametrize(
    ("a", "n", "b", "m", "expected"),
    # Newcombe (1998), Table II, method 10: 56/70 - 48/80 = 0.2, interval 0.0524 to 0.3339;
    # 9/10 - 3/10 = 0.6, interval 0.1705 to 0.8090.
    [(56, 70, 48, 80, (0.0524, 0.3339)), (9, 10, 3, 10, (0.1705, 0.8090))],
)
def test_newcombe_difference_reproduces_the_published_table(a, n, b, m, expected):
    low, high = newcombe_difference(a, n, b, m)
    assert (round(low, 4), round(high, 4)) == expected


@settings(max_examples=40, deadline=None)
@given(scores, scores, st.integers(0, 2**31 - 1))
def test_bootstrap_multiplicities_give_the_statistic_of_the_resampled_records(members, non_members, seed):
    resampler = _Resampler(members, non_members)
    weights, counts = resampler.draw(np.random.default_rng(seed))
    # The resample as arrays: each record repeated as often as it was drawn.
    drawn_members = np.repeat(members, weights)
    drawn_non_members = np.repeat(non_members[resampler.non_member_order], counts)
    assert abs(resampler.auc(weights, counts) - auc(drawn_members, drawn_non_members)) <= 1e-12
    for rate in (0.0, 0.01, 0.1, 0.5):
        assert resampler.tpr(weights, counts, rate) == tpr_at_fpr(drawn_members, drawn_non_members, rate)


def _brute_near_copies(real: pd.DataFrame, synthetic: pd.DataFrame, columns: list[str]):
    """Every synthetic row against every real row: equal everywhere, or everywhere but one column."""
    real_rows = [tuple(row) for row in real[columns].itertuples(index=False)]
    mask, exact, differing = [], 0, {}
    for row in synthetic[columns].itertuples(index=False):
        if tuple(row) in set(real_rows):
            mask.append(True)
            exact += 1
            continue
        explained = next(
            (
                name
                for position, name in enumerate(columns)
                if any(all(r[i] == row[i] for i in range(len(columns)) if i != position) for r in real_rows)
            ),
            None,
        )
        mask.append(explained is not None)
        if explained is not None:
            differing[explained] = differing.get(explained, 0) + 1
    return mask, exact, differing


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 6), st.integers(1, 40), st.integers(1, 40), st.integers(0, 2**31 - 1))
def test_near_copies_equal_a_brute_force_search(width, real_rows, synthetic_rows, seed):
    generator = np.random.default_rng(seed)
    columns = [f"c{i}" for i in range(width)]

    def table(rows):
        return pd.DataFrame({name: generator.integers(0, 3, rows) for name in columns})

    real, synthetic = table(real_rows), table(synthetic_rows)
    result = near_copies(real, synthetic, columns)
    mask, exact, differing = _brute_near_copies(real, synthetic, columns)
    assert result["near_mask"].tolist() == mask
    assert (result["count"], result["exact"]) == (sum(mask), exact)
    assert result["differing_column"] == dict(sorted(differing.items(), key=lambda item: -item[1]))
