"""Reads of the registry shaped for people: a version's evidence, verified and reported kept apart."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.models import JobState

from .models import DatasetVersion, Evaluation, EvaluationOrigin

# Metric keys a reviewer reads first, with how to read them; the order is the display order.
HEADLINE_METRICS: list[tuple[str, str, str]] = [
    ("quality.overall", "Quality (overall)", "higher is better, 0 to 1"),
    ("quality.column_shapes", "Column shapes", "higher is better, 0 to 1"),
    ("quality.column_pair_trends", "Column pair trends", "higher is better, 0 to 1"),
    ("quality.detection", "Detection (real vs synthetic, logistic)", "1 = indistinguishable, 0 = separable"),
    ("diagnostic.overall", "Diagnostics", "1 = valid structure and values"),
    ("diagnostic.type_conformance", "Synthetic values of the reference's type", "1 = every value parses"),
    ("privacy.exact_copies", "Exact copies of real rows", "0 is the only safe value"),
    ("privacy.exact_copy_rate", "Exact copy rate", "share of synthetic rows"),
    ("privacy.singling_out", "Unique real records reproduced", "0 expected"),
    ("privacy.new_row_synthesis", "New row synthesis", "share of rows matching no real row"),
    ("privacy.near_copy_excess", "Near copies beyond chance (vs holdout)", "0 or below expected"),
    ("privacy.dcr_share", "DCR share (closer to training than holdout)", "0.5 ideal"),
    ("privacy.membership_auc", "Membership inference AUC", "0.5 ideal (no signal)"),
    ("privacy.inference_advantage", "Attribute inference advantage", "0 ideal"),
    ("privacy.dcr_median", "Median distance to closest real record", "0 = copies"),
    ("privacy.dcr_baseline_protection", "DCR baseline protection", "1 = as far as random data"),
    ("privacy.dcr_overfitting_protection", "DCR overfitting protection", "1 = no closer to training than holdout"),
    ("privacy.disclosure_protection", "Disclosure protection (CAP)", "higher is better, 0 to 1"),
    ("pii.columns", "Columns with direct identifiers", "0 expected"),
    ("pii.replayed_values", "Identifier values replayed from real data", "0 expected"),
    ("pii.free_text_columns", "Text columns with identifiers inside their values", "0 expected"),
    ("fairness.max_tvd", "Largest distribution gap of a sensitive attribute (TVD)", "lower is better"),
    ("fairness.max_slice_gap", "Largest quality gap of a slice", "lower is better"),
    ("fairness.flagged_slices", "Flagged slices", "missing, under-represented or distorted"),
    ("utility.tstr", "Train synthetic, test real", "compare with TRTR"),
    ("utility.trtr", "Train real, test real", "the reference score"),
    ("utility.gap", "Utility gap (TRTR - TSTR)", "lower is better"),
    ("evidence.reference_is_declared_source", "Evaluated against the declared source", "1 = same fingerprint"),
]


@dataclass
class Evidence:
    """A version's evaluations grouped the way reviewers must read them."""

    verified: Evaluation | None = None
    reported: list[Evaluation] = field(default_factory=list)
    pending: list[Evaluation] = field(default_factory=list)
    failed: list[Evaluation] = field(default_factory=list)

    def headline(self, evaluation: Evaluation | None = None) -> list[dict[str, Any]]:
        """Label, value and how to read it, for the metrics an evaluation has (never invented)."""
        evaluation = evaluation or self.verified
        if evaluation is None:
            return []
        metrics = evaluation.metrics
        return [
            {"key": key, "label": label, "hint": hint, "value": metrics[key]}
            for key, label, hint in HEADLINE_METRICS
            if key in metrics
        ]


def version_evidence(version: DatasetVersion) -> Evidence:
    """The latest succeeded verified evaluation, every reported one, and the ones queued, running or failed."""
    evidence = Evidence()
    for evaluation in Evaluation.objects.filter(version=version).select_related("requested_by").order_by("-created_at"):
        if evaluation.origin == EvaluationOrigin.REPORTED:
            evidence.reported.append(evaluation)
        elif evaluation.state == JobState.SUCCEEDED and evidence.verified is None:
            evidence.verified = evaluation
        elif evaluation.state in (JobState.QUEUED, JobState.RUNNING):
            evidence.pending.append(evaluation)
        elif evaluation.state == JobState.FAILED:
            evidence.failed.append(evaluation)
    return evidence
