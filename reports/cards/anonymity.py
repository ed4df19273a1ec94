"""The card's answer to "Is this synthetic data anonymous?": one verdict per criterion of the EU's
anonymisation test (Art. 29 WP Opinion 05/2014: singling out, linkability, inference) and NIST AI 600-1's
membership inference, each from the policy check's rules on its metrics, with the evidence and its interval,
and what was not evaluated and why.

A criterion is "at risk" when a rule on one of its metrics fails (blocking or needing a waiver), "not shown
to be at risk" when every rule on its metrics passes, and "not evaluated" (with the reasons) otherwise. No
verdict claims more than the policy's thresholds do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from governance.review import ReviewState
from registry.evaluation.definitions import CRITERIA, PRIVACY_METRICS
from registry.selectors import Evidence


def _intervals(privacy: Mapping[str, Any]) -> dict[str, Any]:
    """Metric key -> its 95% interval as the engine stored it."""
    holdout = privacy.get("holdout_evidence") or {}
    singling = privacy.get("singling_out") or {}
    uniqueness = singling.get("quasi_identifier_uniqueness") or {}
    membership = holdout.get("membership") or {}
    inference = holdout.get("inference") or {}
    worst = max(
        (c for c in (inference.get("columns") or {}).values() if isinstance(c, dict) and "advantage" in c),
        key=lambda c: c["advantage"],
        default={},
    )
    return {
        "privacy.exact_copy_rate": (privacy.get("exact_copies") or {}).get("rate_interval_95"),
        "privacy.singling_out": (singling.get("all_columns") or {}).get("interval_95"),
        "privacy.singling_out_quasi_identifiers": (singling.get("quasi_identifiers") or {}).get("interval_95"),
        "privacy.qi_unique_share": uniqueness.get("k1_interval_95"),
        "privacy.qi_k_lt5_share": uniqueness.get("k_lt5_interval_95"),
        "privacy.near_copy_rate": (privacy.get("near_copies") or {}).get("rate_interval_95"),
        "privacy.dcr_share": (holdout.get("dcr_share") or {}).get("interval_95"),
        "privacy.membership_auc": membership.get("auc_interval_95"),
        "privacy.membership_tpr_at_fpr_1pct": membership.get("tpr_at_fpr_1pct_interval_95"),
        "privacy.membership_tpr_at_fpr_0_1pct": membership.get("tpr_at_fpr_0_1pct_interval_95"),
        "privacy.inference_advantage": worst.get("advantage_interval_95"),
        "privacy.inference_max_group_advantage": inference.get("max_group_advantage_interval_95"),
        "privacy.membership_max_group_auc": membership.get("max_group_auc_interval_95"),
        "privacy.near_copy_excess": (holdout.get("near_copies") or {}).get("excess_interval_95"),
        "privacy.nndr_p10_ratio": (holdout.get("nndr") or {}).get("p10_ratio_interval_95"),
        # Only when the DCR scores were computed on a sample of the synthetic rows (otherwise exact).
        "privacy.dcr_baseline_protection": ((privacy.get("dcr") or {}).get("confidence_interval_95") or {}).get(
            "baseline_protection"
        ),
    }


def _outcomes(review: ReviewState) -> dict[str, list[dict[str, Any]]]:
    outcomes: dict[str, list[dict[str, Any]]] = {}
    for outcome in review.check.outcomes if review.check else []:
        outcomes.setdefault(outcome["metric"], []).append(outcome)
    return outcomes


def _verdict(rules: list[dict[str, Any]], checked: bool) -> tuple[str, str]:
    if not checked:
        return "not_checked", "no policy check yet"
    failing = [r for r in rules if r["verdict"] == "fail"]
    if any(r["severity"] == "block" for r in failing):
        return "at_risk", "at risk: a blocking rule fails"
    if failing:
        return "at_risk", "at risk: a rule fails (approval needs a waiver)"
    if rules and all(r["verdict"] == "pass" for r in rules):
        return "not_shown_at_risk", "not shown to be at risk at the policy's thresholds"
    return "not_evaluated", "not evaluated"


def anonymity_section(evidence: Evidence, review: ReviewState) -> dict[str, Any] | None:
    """One entry per criterion: verdict, its metrics with values, intervals, rules and sources, and gaps."""
    evaluation = evidence.verified
    if evaluation is None:
        return None
    metrics = evaluation.metrics or {}
    results = evaluation.results or {}
    insufficient = results.get("insufficient") or {}
    intervals = _intervals(results.get("privacy") or {})
    outcomes = _outcomes(review)
    criteria = []
    for criterion, (title, question) in CRITERIA.items():
        rows, rules, missing = [], [], []
        for key, (owner, label, reading, definition, source) in PRIVACY_METRICS.items():
            if owner != criterion:
                continue
            ruled = outcomes.get(key, [])
            rules += ruled
            value = metrics.get(key)
            if key not in metrics or value is None:
                reason = insufficient.get(key) or next((r.get("reason") for r in ruled if r.get("reason")), None)
                if ruled or key in insufficient:
                    missing.append({"key": key, "label": label, "reason": reason or "not computed"})
                continue
            rows.append(
                {
                    "key": key,
                    "label": label,
                    "value": value,
                    "interval_95": intervals.get(key),
                    "reading": reading,
                    "definition": definition,
                    "source": source,
                    "rules": [
                        {
                            "text": f"{r['operator']} {r['threshold']:g}",
                            "severity": r["severity"],
                            "verdict": r["verdict"],
                        }
                        for r in ruled
                    ],
                }
            )
        verdict, verdict_text = _verdict(rules, review.check is not None)
        criteria.append(
            {
                "criterion": criterion,
                "title": title,
                "question": question,
                "verdict": verdict,
                "verdict_text": verdict_text,
                "evidence": rows,
                "not_evaluated": missing,
            }
        )
    return {
        "evaluation_id": str(evaluation.pk),
        "criteria": criteria,
        "keys_excluded": (results.get("privacy") or {}).get("keys_excluded") or {},
        "basis": "Art. 29 WP Opinion 05/2014 (singling out, linkability, inference); NIST AI 600-1 MS-2.10-001 "
        "(membership inference); GDPR Recital 26",
    }
