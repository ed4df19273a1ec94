"""Policy services: checking a version against the applicable policies, and editing project policies."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from django.db.models import F, Prefetch, Q

from core.audit import audited_atomic, record_event
from core.context import Actor
from core.errors import InvalidInput, NotPermitted
from core.models import Project
from core.roles import Capability
from core.selectors import has_capability
from registry.hooks import evidence_changed
from registry.selectors import version_evidence

from .models import Operator, Policy, PolicyCheck, PolicyRule, Severity
from .models.policies import METRIC_KEY_PATTERN
from .policy_engine import check

_METRIC_KEY = re.compile(METRIC_KEY_PATTERN)


def applicable_policies(project: Project):
    """Active global policies and the project's own, with their rules."""
    return (
        Policy.objects.filter(Q(project__isnull=True) | Q(project=project), is_active=True)
        .prefetch_related(Prefetch("rules", queryset=PolicyRule.objects.order_by("position", "id")))
        .order_by(F("project_id").asc(nulls_first=True), "name")
    )


def policy_snapshot(policy: Policy) -> dict[str, Any]:
    """A policy frozen as plain data: what a check stores so old decisions stay reproducible."""
    return {
        "id": policy.pk,
        "name": policy.name,
        "version": policy.version,
        "project": policy.project.slug if policy.project_id else None,
        "rules": [
            {
                "id": rule.pk,
                "metric": rule.metric,
                "operator": rule.operator,
                "threshold": rule.threshold,
                "severity": rule.severity,
                "explanation": rule.explanation,
            }
            for rule in policy.rules.all()
        ],
    }


def not_evaluated_reason(metric: str, results: dict[str, Any]) -> str:
    """Why an evaluation has no value for a metric: too small a sample, a kind or section that could not run,
    or a kind that was not asked for."""
    insufficient = results.get("insufficient") or {}
    if metric in insufficient:
        return f"insufficient evidence: {insufficient[metric]}"
    kind = metric.split(".", 1)[0]
    section = results.get(kind)
    if section is None:
        return f"the evaluation did not include {kind}"
    if isinstance(section, dict):
        for reason in (section.get("skipped"), section.get("error")):
            if reason:
                return f"{kind} was not evaluated: {reason}"
        for part in section.values():
            if isinstance(part, dict) and part.get("skipped"):
                return f"not evaluated: {part['skipped']}"
    return "not produced by the evaluation"


def policy_check_run(*, actor: Actor, version, trigger: str) -> PolicyCheck:
    """Check a version's latest verified evidence against every applicable policy; store and audit the outcome."""
    project = version.dataset.project
    with audited_atomic():
        evaluation = version_evidence(version).verified
        metrics = evaluation.metrics if evaluation is not None else {}
        snapshots = [policy_snapshot(p) for p in applicable_policies(project)]
        outcomes, verdict = check(snapshots, metrics)
        results = evaluation.results if evaluation is not None else {}
        for outcome in outcomes:
            if outcome["verdict"] == "not_evaluated":
                outcome["reason"] = (
                    not_evaluated_reason(outcome["metric"], results)
                    if evaluation is not None
                    else "no verified evaluation yet"
                )
        result = PolicyCheck.objects.create(
            version=version,
            evaluation=evaluation,
            trigger=trigger,
            verdict=verdict,
            policies=snapshots,
            outcomes=outcomes,
            requested_by=actor.user,
        )
        record_event(
            actor=actor,
            action="policy.checked",
            obj=result,
            project=project,
            after={
                "version": str(version.pk),
                "evaluation": str(evaluation.pk) if evaluation else None,
                "trigger": trigger,
                "verdict": verdict,
                "failing": [
                    {
                        "metric": o["metric"],
                        "severity": o["severity"],
                        "verdict": o["verdict"],
                        "observed": o["observed"],
                    }
                    for o in outcomes
                    if o["verdict"] != "pass"
                ],
                "policies": [{"id": p["id"], "version": p["version"]} for p in snapshots],
            },
        )
        evidence_changed.send(version_id=str(version.pk), trigger="policy_check")
    return result


def _clean_rules(rules: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    if not rules:
        raise InvalidInput("a policy needs at least one rule", field="rules")
    clean = []
    for index, rule in enumerate(rules):
        metric = rule.get("metric", "")
        if not isinstance(metric, str) or not _METRIC_KEY.match(metric):
            raise InvalidInput(f"rule {index}: metric must be a dotted key such as quality.overall", field="rules")
        if rule.get("operator") not in Operator.values:
            raise InvalidInput(f"rule {index}: operator must be one of {', '.join(Operator.values)}", field="rules")
        threshold = rule.get("threshold")
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not math.isfinite(threshold):
            raise InvalidInput(f"rule {index}: threshold must be a finite number", field="rules")
        if rule.get("severity") not in Severity.values:
            raise InvalidInput(f"rule {index}: severity must be block or warn", field="rules")
        explanation = (rule.get("explanation") or "").strip()
        if not explanation:
            raise InvalidInput(f"rule {index}: explain the rule for the people it stops", field="rules")
        clean.append(
            {
                "metric": metric,
                "operator": rule["operator"],
                "threshold": float(threshold),
                "severity": rule["severity"],
                "explanation": explanation,
            }
        )
    return clean


def _require_manager(actor: Actor, project: Project | None) -> None:
    if project is None:
        if actor.user is None or not actor.user.is_superuser:
            raise NotPermitted("only superusers manage global policies")
        return
    if not has_capability(actor=actor, project=project, capability=Capability.MANAGE_POLICIES):
        raise NotPermitted(f"managing policies in project '{project.slug}' needs the admin role")


def policy_save(
    *,
    actor: Actor,
    project: Project | None,
    name: str,
    description: str,
    rules: Sequence[dict[str, Any]],
    policy: Policy | None = None,
) -> Policy:
    """Create a policy, or replace an existing one's rules as its next version."""
    _require_manager(actor, project if policy is None else policy.project)
    clean = _clean_rules(rules)
    if not name.strip():
        raise InvalidInput("may not be blank", field="name")
    with audited_atomic():
        before = None
        if policy is None:
            if Policy.objects.filter(project=project, name=name).exists():
                raise InvalidInput(f"a policy named {name!r} already exists here", field="name")
            policy = Policy.objects.create(project=project, name=name, description=description)
            action = "policy.created"
        else:
            policy = Policy.objects.select_for_update().get(pk=policy.pk)
            before = policy_snapshot(policy)
            if name != policy.name and Policy.objects.filter(project=policy.project, name=name).exists():
                raise InvalidInput(f"a policy named {name!r} already exists here", field="name")
            policy.name, policy.description, policy.version = name, description, policy.version + 1
            policy.save()
            policy.rules.all().delete()
            action = "policy.updated"
        PolicyRule.objects.bulk_create(PolicyRule(policy=policy, position=i, **rule) for i, rule in enumerate(clean))
        after = policy_snapshot(Policy.objects.prefetch_related("rules").get(pk=policy.pk))
        record_event(actor=actor, action=action, obj=policy, project=policy.project, before=before, after=after)
    return policy


def policy_deactivate(*, actor: Actor, policy: Policy) -> Policy:
    """Stop applying a policy; checks that used it keep their snapshot."""
    _require_manager(actor, policy.project)
    with audited_atomic():
        policy = Policy.objects.select_for_update().get(pk=policy.pk)
        if not policy.is_active:
            return policy
        policy.is_active = False
        policy.version += 1
        policy.save(update_fields=["is_active", "version", "updated_at"])
        record_event(
            actor=actor,
            action="policy.deactivated",
            obj=policy,
            project=policy.project,
            before={"is_active": True},
            after={"is_active": False, "version": policy.version},
        )
    return policy
