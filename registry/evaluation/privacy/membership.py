"""Membership inference: can an attacker tell who was in the training data?

A distance-based attack (Stadler, Oprisanu & Troncoso, "Synthetic Data — Anonymisation Groundhog Day",
USENIX Security 2022; the attack NVIDIA Safe Synthesizer reports): each candidate record is scored by minus
its distance to the closest synthetic row (sdmetrics' DCR distance, training ranges). Candidates are the
training records (members, subsampled to the holdout's size, seeded) and the holdout records (non-members,
never seen by the generator). Reported:

- ROC AUC of the scores: 0.5 = the synthetic data says nothing about who was in the training data, 1 = it
  gives every member away;
- the true-positive rate at a false-positive rate of 1% and of 0.1%: what matters is how many members an
  attacker finds with confidence (Carlini et al., "Membership Inference Attacks From First Principles",
  IEEE S&P 2022). Each needs enough non-members to resolve that rate (100 and 1,000);
- per group of each sensitive attribute, the AUC on that group's records: a generator may leak one
  group's members (a small minority is more easily memorised) while the whole looks safe.

Intervals: percentile bootstrap, members and non-members resampled separately (seeded). A resample is
drawn as multiplicities (how often each record was drawn), and each statistic is read from the records
sorted once: O(n) per resample instead of a sort, the same statistic as computing it on the resampled arrays.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from sklearn.metrics import roc_curve

from registry.evaluation.privacy.intervals import LEVEL

SOURCE = (
    "distance-to-closest-synthetic-record attack: Stadler et al., USENIX Security 2022; TPR at low FPR: "
    "Carlini et al., IEEE S&P 2022"
)
FPR_LEVELS = {"1pct": 0.01, "0_1pct": 0.001}
# Enough non-members to observe a false-positive rate: at least 1/rate of them.
MIN_NON_MEMBERS = {"1pct": 100, "0_1pct": 1000}
MIN_PER_GROUP = 30
ROC_POINTS = 200
LEVEL_TAIL = (1 - LEVEL) / 2 * 100


def auc(member_scores: np.ndarray, non_member_scores: np.ndarray) -> float:
    """P(a member scores above a non-member), ties counted half (the Mann-Whitney statistic)."""
    ordered = np.sort(non_member_scores)
    below = np.searchsorted(ordered, member_scores, side="left")
    not_above = np.searchsorted(ordered, member_scores, side="right")
    wins = below.sum(dtype=np.float64) + 0.5 * (not_above - below).sum(dtype=np.float64)
    return float(wins / (member_scores.size * non_member_scores.size))


def tpr_at_fpr(member_scores: np.ndarray, non_member_scores: np.ndarray, rate: float) -> float:
    """The highest true-positive rate among thresholds whose false-positive rate is at most ``rate``
    (scikit-learn's ``roc_curve`` with every threshold kept): flag the members scoring above the (k+1)-th highest
    non-member score, k = floor(rate x non-members)."""
    allowed = int(np.floor(rate * non_member_scores.size + 1e-9))
    if allowed >= non_member_scores.size:
        return 1.0
    boundary = -np.partition(-non_member_scores, allowed)[allowed]
    return float(np.count_nonzero(member_scores > boundary) / member_scores.size)


class _Resampler:
    """AUC and TPR at a fixed FPR of bootstrap resamples, from multiplicities over the records sorted once."""

    def __init__(self, members: np.ndarray, non_members: np.ndarray) -> None:
        self.n, self.m = members.size, non_members.size
        self.non_member_order = np.argsort(non_members, kind="stable")
        self.non_sorted = non_members[self.non_member_order]
        self.below = np.searchsorted(self.non_sorted, members, side="left")
        self.not_above = np.searchsorted(self.non_sorted, members, side="right")
        self.member_order = np.argsort(members, kind="stable")
        self.members_sorted = members[self.member_order]

    def draw(self, generator: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Multiplicities of members and non-members (non-members in sorted order)."""
        weights = np.bincount(generator.integers(0, self.n, self.n), minlength=self.n)
        counts = np.bincount(generator.integers(0, self.m, self.m), minlength=self.m)[self.non_member_order]
        return weights, counts

    def auc(self, weights: np.ndarray, counts: np.ndarray) -> float:
        cumulative = np.concatenate([[0], np.cumsum(counts)])
        below = cumulative[self.below]
        ties = cumulative[self.not_above] - below
        wins = np.dot(weights, below + 0.5 * ties)
        return float(wins / (self.n * self.m))

    def tpr(self, weights: np.ndarray, counts: np.ndarray, rate: float) -> float:
        allowed = int(np.floor(rate * self.m + 1e-9))
        if allowed >= self.m:
            return 1.0
        # The (allowed + 1)-th highest non-member score, counting each record as often as it was drawn.
        from_top = np.cumsum(counts[::-1])
        boundary = self.non_sorted[::-1][int(np.searchsorted(from_top, allowed, side="right"))]
        above = self.n - int(np.searchsorted(self.members_sorted, boundary, side="right"))
        flagged = weights[self.member_order][self.n - above :].sum() if above else 0
        return float(flagged / self.n)


def _bootstraps(
    members: np.ndarray, non_members: np.ndarray, rates: Mapping[str, float], resamples: int, seed: int
) -> dict[str, list[float] | None]:
    """95% percentile-bootstrap intervals of the AUC and of the TPR at each rate (key "auc" and the rate labels)."""
    if resamples <= 0 or members.size == 0 or non_members.size == 0:
        return {"auc": None, **{label: None for label in rates}}
    resampler = _Resampler(members, non_members)
    generator = np.random.default_rng(seed)
    values = {"auc": np.empty(resamples), **{label: np.empty(resamples) for label in rates}}
    for index in range(resamples):
        weights, counts = resampler.draw(generator)
        values["auc"][index] = resampler.auc(weights, counts)
        for label, rate in rates.items():
            values[label][index] = resampler.tpr(weights, counts, rate)
    return {
        label: [float(bound) for bound in np.percentile(drawn, [LEVEL_TAIL, 100 - LEVEL_TAIL])]
        for label, drawn in values.items()
    }


def _roc_points(member_scores: np.ndarray, non_member_scores: np.ndarray) -> dict:
    labels = np.r_[np.ones(member_scores.size), np.zeros(non_member_scores.size)]
    fpr, tpr, _ = roc_curve(labels, np.r_[member_scores, non_member_scores])
    if fpr.size > ROC_POINTS:
        keep = np.unique(np.r_[np.linspace(0, fpr.size - 1, ROC_POINTS).astype(int), fpr.size - 1])
        fpr, tpr = fpr[keep], tpr[keep]
    return {"fpr": fpr.tolist(), "tpr": tpr.tolist()}


def membership_attack(
    member_distances: np.ndarray,
    non_member_distances: np.ndarray,
    *,
    groups: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    resamples: int,
    seed: int,
) -> dict:
    """The attack's AUC and TPR at low FPR with intervals, per-group AUCs, and ROC points for a plot.

    ``groups`` maps an attribute to (members' values, non-members' values) of that attribute.
    """
    members, non_members = -member_distances, -non_member_distances
    method = f"percentile bootstrap, members and non-members resampled separately ({resamples}, seed {seed})"
    resolved = {label: rate for label, rate in FPR_LEVELS.items() if non_members.size >= MIN_NON_MEMBERS[label]}
    intervals = _bootstraps(members, non_members, resolved, resamples, seed)
    result: dict = {
        "members": int(members.size),
        "non_members": int(non_members.size),
        "auc": auc(members, non_members),
        "auc_interval_95": intervals["auc"],
        "roc": _roc_points(members, non_members),
        "interval_method": method,
        "source": SOURCE,
    }
    for label, rate in FPR_LEVELS.items():
        if label not in resolved:
            result[f"tpr_at_fpr_{label}"] = None
            result[f"tpr_at_fpr_{label}_insufficient"] = (
                f"needs at least {MIN_NON_MEMBERS[label]} holdout records to resolve a {rate:.1%} false-positive "
                f"rate; got {non_members.size}"
            )
            continue
        result[f"tpr_at_fpr_{label}"] = tpr_at_fpr(members, non_members, rate)
        result[f"tpr_at_fpr_{label}_interval_95"] = intervals[label]
    per_group = {}
    for attribute, (member_values, non_member_values) in (groups or {}).items():
        member_values, non_member_values = (
            np.asarray(member_values, dtype=str),
            np.asarray(non_member_values, dtype=str),
        )
        rows = []
        for value in sorted(set(member_values.tolist()) | set(non_member_values.tolist())):
            in_members, in_non_members = member_values == value, non_member_values == value
            count_m, count_n = int(in_members.sum()), int(in_non_members.sum())
            row = {"value": value, "members": count_m, "non_members": count_n}
            if min(count_m, count_n) < MIN_PER_GROUP:
                row["auc"] = None
                row["insufficient"] = f"needs at least {MIN_PER_GROUP} members and non-members in the group"
            else:
                row["auc"] = auc(members[in_members], non_members[in_non_members])
                row["auc_interval_95"] = _bootstraps(
                    members[in_members], non_members[in_non_members], {}, resamples, seed + 2
                )["auc"]
            rows.append(row)
        per_group[attribute] = rows
    result["per_group"] = per_group
    scored = [(row["auc"], row) for rows in per_group.values() for row in rows if row["auc"] is not None]
    worst = max(scored, key=lambda item: item[0])[1] if scored else {}
    result["max_group_auc"] = worst.get("auc")
    result["max_group_auc_interval_95"] = worst.get("auc_interval_95")
    return result
