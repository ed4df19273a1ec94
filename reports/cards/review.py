"""Card sections from the review workflow: governance status, limitations and risks, changes since before."""

from __future__ import annotations

from typing import Any

from governance.attestations import latest_attestation
from governance.policy_engine import describe
from governance.review import ReviewState
from registry.models import DatasetVersion
from registry.selectors import HEADLINE_METRICS, Evidence

_LABELS = {key: label for key, label, _ in HEADLINE_METRICS}


def _outcome(o: dict[str, Any]) -> dict[str, Any]:
    return {
        "text": o["text"],
        "metric": o["metric"],
        "severity": o["severity"],
        "verdict": o["verdict"],
        "explanation": o.get("explanation", ""),
        "policy": f"{o.get('policy', '')} v{o.get('policy_version', '')}",
    }


def _attestation(version: DatasetVersion) -> dict[str, Any] | None:
    """The version's newest signed statement (README, "Signing keys and attestations"), or None."""
    attestation = latest_attestation(version)
    if attestation is None:
        return None
    return {
        "sequence": attestation.sequence,
        "status": attestation.status,
        "created_at": attestation.created_at,
        "key_id": attestation.key_id,
        "payload_sha256": attestation.payload_sha256,
        "url": f"/api/v1/versions/{version.pk}/attestation/",
    }


def governance_section(review: ReviewState) -> dict[str, Any]:
    """Status, the latest policy verdict with its failing rules, every decision with its waiver, open flags."""
    version = review.version
    check = review.check
    current_round = [d for d in review.decisions if d.action == "approve" and d.review_round == version.review_round]
    return {
        "status": version.status,
        "status_label": version.get_status_display(),
        "required_approvals": version.dataset.project.required_approvals,
        "approvals_this_round": len({d.decided_by_id for d in current_round}),
        "policy_check": None
        if check is None
        else {
            "id": str(check.pk),
            "verdict": check.verdict,
            "created_at": check.created_at,
            "trigger": check.trigger,
            "evaluation_id": str(check.evaluation_id) if check.evaluation_id else None,
            "policies": [f"{p['name']} v{p['version']}" for p in check.policies],
            "rules": len(check.outcomes),
            "passing": sum(1 for o in check.outcomes if o["verdict"] == "pass"),
        },
        "attestation": _attestation(version),
        "blocking": [_outcome(o) for o in review.blocking],
        "warnings": [_outcome(o) for o in review.warnings],
        "decisions": [
            {
                "action": d.action,
                "action_label": d.get_action_display(),
                "by": d.decided_by.username,
                "at": d.created_at,
                "comment": d.comment,
                "waiver": d.waiver,
                "waived_rules": [describe(o) for o in d.waived_rules or []],
                "from_status": d.from_status,
                "to_status": d.to_status,
                "review_round": d.review_round,
            }
            for d in review.decisions
        ],
        "flags": [
            {
                "reason": f.reason,
                "created_at": f.created_at,
                "previous_status": f.previous_status,
                "resolved": f.resolved_by_id is not None,
            }
            for f in review.flags
        ],
    }


def limitations_section(context: dict[str, Any], review: ReviewState) -> list[dict[str, str]]:
    """Known limitations and risks: failing and warning rules, reviewers' words, flags and evidence gaps."""
    items: list[dict[str, str]] = []
    governance = context["governance"]
    for o in governance["blocking"]:
        items.append({"kind": "blocking_rule", "text": f"Blocked by policy: {o['text']}. {o['explanation']}".strip()})
    for o in governance["warnings"]:
        items.append({"kind": "warning_rule", "text": f"Policy warning: {o['text']}. {o['explanation']}".strip()})
    for d in governance["decisions"]:
        if d["waiver"]:
            items.append({"kind": "waiver", "text": f"Waiver by {d['by']} ({d['at']:%Y-%m-%d}): {d['waiver']}"})
        if d["comment"] and d["action"] != "approve":
            items.append(
                {
                    "kind": "reviewer_comment",
                    "text": f"{d['action_label']} by {d['by']} ({d['at']:%Y-%m-%d}): {d['comment']}",
                }
            )
    for f in governance["flags"]:
        if not f["resolved"]:
            items.append({"kind": "flag", "text": f"Needs re-review: {f['reason']}"})
    bias = context["bias"]["verified"]
    for attribute in bias["attributes"] if bias else []:
        for s in attribute["slices"]:
            if s["flags"]:
                flags = ", ".join(flag.replace("_", " ") for flag in s["flags"])
                items.append({"kind": "slice", "text": f"{attribute['attribute']} = {s['slice']}: {flags}"})
    for section in ("privacy", "quality", "bias"):
        verified = context[section]["verified"]
        for skipped in verified["skipped"] if verified else []:
            items.append({"kind": "evaluation_gap", "text": f"{skipped['kind']} not evaluated: {skipped['reason']}"})
    if context["evaluations"]["verified"] is None:
        text = "No verified evaluation: the registry has not checked this version's quality or privacy."
        if context["evaluations"]["reported"]:
            text += " Reported scores come from the pipeline and are not verified."
        items.append({"kind": "evaluation_gap", "text": text})
    for source in context["sources"]:
        if source["contains_personal_data"] is None:
            items.append(
                {
                    "kind": "source",
                    "text": f"Source {source['identity']} does not declare whether it holds personal data.",
                }
            )
        if source["revoked_at"]:
            items.append(
                {"kind": "source", "text": f"Source {source['identity']} was revoked: {source['revocation_reason']}"}
            )
    return items


def _source_ids(version: DatasetVersion) -> list[str]:
    return sorted(
        f"{link.source.namespace}:{link.source.name}@{link.source_version}" for link in version.source_links.all()
    )


def _typed(column: dict) -> str:
    return f"{column.get('dtype')}/{column.get('sdtype')}"


def _schema_changes(before: list[dict], after: list[dict]) -> dict[str, list[str]]:
    old = {c.get("name"): c for c in before or []}
    new = {c.get("name"): c for c in after or []}
    changed = [
        f"{name}: {_typed(old[name])} → {_typed(new[name])}"
        for name in new
        if name in old
        and (old[name].get("dtype"), old[name].get("sdtype")) != (new[name].get("dtype"), new[name].get("sdtype"))
    ]
    return {
        "added": [name for name in new if name not in old],
        "removed": [name for name in old if name not in new],
        "changed": changed,
    }


def changes_section(
    version: DatasetVersion,
    previous: DatasetVersion | None,
    evidence: Evidence,
    previous_metrics: dict[str, Any] | None,
) -> dict[str, Any]:
    """What differs from the previous version: provenance, size, schema and verified headline metrics."""
    if previous is None:
        return {"previous": None, "items": [], "schema": None, "metrics": []}
    pairs = [
        ("Rows", previous.row_count, version.row_count),
        ("Columns", previous.column_count, version.column_count),
        (
            "Generator",
            f"{previous.generator.name} {previous.generator.version}".strip(),
            f"{version.generator.name} {version.generator.version}".strip(),
        ),
        ("Seed", previous.seed, version.seed),
        ("Code version", previous.code_version, version.code_version),
        ("Sources", ", ".join(_source_ids(previous)), ", ".join(_source_ids(version))),
    ]
    items = [{"field": name, "before": before, "after": after} for name, before, after in pairs if before != after]
    old_parameters, new_parameters = previous.generator_parameters or {}, version.generator_parameters or {}
    changed_keys = sorted(
        k for k in set(old_parameters) | set(new_parameters) if old_parameters.get(k) != new_parameters.get(k)
    )
    for key in changed_keys:
        items.append({"field": f"Parameter {key}", "before": old_parameters.get(key), "after": new_parameters.get(key)})
    current = evidence.verified.metrics if evidence.verified else {}
    metrics = []
    for key, label, _ in HEADLINE_METRICS:
        before, after = (previous_metrics or {}).get(key), current.get(key)
        if before is None and after is None:
            continue
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (before, after))
        metrics.append(
            {"key": key, "label": label, "before": before, "after": after, "delta": after - before if numeric else None}
        )
    return {
        "previous": {"version": previous.number, "version_id": str(previous.pk), "registered_at": previous.created_at},
        "items": items,
        "schema": _schema_changes(previous.schema, version.schema),
        "metrics": metrics,
    }
