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

Intervals: percentile bootstrap, members and non-members resampled separately (seeded).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from sklearn.metrics import roc_curve

from registry.evaluation.privacy.intervals import bootstrap

SOURCE = (
    "distance-to-closest-synthetic-record attack: Stadler et al., USENIX Security 2022; TPR at low FPR: "
    "Carlini et al., IEEE S&P 2022"
)
FPR_LEVELS = {"1pct": 0.01, "0_1pct": 0.001}
# Enough non-members to observe a false-positive rate: at least 1/rate of them.
MIN_NON_MEMBERS = {"1pct": 100, "0_1pct": 1000}
MIN_PER_GROUP = 30
ROC_POINTS = 200


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
    result: dict = {
        "members": int(members.size),
        "non_members": int(non_members.size),
        "auc": auc(members, non_members),
        "auc_interval_95": bootstrap(auc, (members, non_members), resamples=resamples, seed=seed),
        "roc": _roc_points(members, non_members),
        "interval_method": method,
        "source": SOURCE,
    }
    for label, rate in FPR_LEVELS.items():
        if non_members.size < MIN_NON_MEMBERS[label]:
            result[f"tpr_at_fpr_{label}"] = None
            result[f"tpr_at_fpr_{label}_insufficient"] = (
                f"needs at least {MIN_NON_MEMBERS[label]} holdout records to resolve a {rate:.1%} false-positive "
                f"rate; got {non_members.size}"
            )
            continue

        def statistic(m: np.ndarray, n: np.ndarray, rate: float = rate) -> float:
            return tpr_at_fpr(m, n, rate)

        result[f"tpr_at_fpr_{label}"] = statistic(members, non_members)
        result[f"tpr_at_fpr_{label}_interval_95"] = bootstrap(
            statistic, (members, non_members), resamples=resamples, seed=seed + 1
        )
    per_group = {}
    for attribute, (member_values, non_member_values) in (groups or {}).items():
        rows = []
        for value in sorted(set(map(str, member_values)) | set(map(str, non_member_values))):
            in_members = np.asarray([str(v) == value for v in member_values])
            in_non_members = np.asarray([str(v) == value for v in non_member_values])
            count_m, count_n = int(in_members.sum()), int(in_non_members.sum())
            row = {"value": value, "members": count_m, "non_members": count_n}
            if min(count_m, count_n) < MIN_PER_GROUP:
                row["auc"] = None
                row["insufficient"] = f"needs at least {MIN_PER_GROUP} members and non-members in the group"
            else:
                row["auc"] = auc(members[in_members], non_members[in_non_members])
                row["auc_interval_95"] = bootstrap(
                    auc, (members[in_members], non_members[in_non_members]), resamples=resamples, seed=seed + 2
                )
            rows.append(row)
        per_group[attribute] = rows
    result["per_group"] = per_group
    scored = [(row["auc"], row) for rows in per_group.values() for row in rows if row["auc"] is not None]
    worst = max(scored, key=lambda item: item[0])[1] if scored else {}
    result["max_group_auc"] = worst.get("auc")
    result["max_group_auc_interval_95"] = worst.get("auc_interval_95")
    return result
