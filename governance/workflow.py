"""The review workflow: the only code that changes a version's status.

System transitions follow evaluations; decisions (approve, reject, request changes, deprecate, revoke)
are checked here for role, state, four-eyes, policy and waiver, in one transaction with their audit event,
whether they come from the API or the admin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from registry.lineage import emit
from registry.models import Dataset, DatasetVersion, VersionStatus
from reports.hooks import evidence_changed

from .audit import audited_atomic, record_event
from .context import Actor
from .errors import Conflict, InvalidInput, NotPermitted
from .impact import FLAGGABLE, Impact, downstream
from .models import Action, Decision, ImpactFlag, PolicyCheck
from .permissions import require_capability
from .policy_engine import describe
from .roles import Capability
from .selectors import project_ids_with

S = VersionStatus

# Evaluation-driven transitions: event -> {from status: to status}.
SYSTEM_TRANSITIONS: dict[str, dict[str, str]] = {
    # A version flagged for re-review stays flagged while it is re-evaluated: only a decision clears it.
    "evaluation_started": {S.REGISTERED: S.EVALUATING, S.CHANGES_REQUESTED: S.EVALUATING},
    "evaluation_succeeded": {S.EVALUATING: S.PENDING_REVIEW},
    "evaluation_failed": {S.EVALUATING: S.REGISTERED},
}

# Decisions: action -> {from status: to status}. Approve may stay in review until enough reviewers agree.
DECISION_TRANSITIONS: dict[str, dict[str, str]] = {
    Action.APPROVE: {S.PENDING_REVIEW: S.APPROVED, S.NEEDS_REREVIEW: S.APPROVED},
    Action.REJECT: {S.PENDING_REVIEW: S.REJECTED, S.NEEDS_REREVIEW: S.REJECTED},
    Action.REQUEST_CHANGES: {S.PENDING_REVIEW: S.CHANGES_REQUESTED, S.NEEDS_REREVIEW: S.CHANGES_REQUESTED},
    Action.DEPRECATE: {S.APPROVED: S.DEPRECATED},
    Action.REVOKE: {S.APPROVED: S.REVOKED, S.DEPRECATED: S.REVOKED, S.NEEDS_REREVIEW: S.REVOKED},
}
ACTION_CAPABILITY = {
    Action.APPROVE: Capability.DECIDE,
    Action.REJECT: Capability.DECIDE,
    Action.REQUEST_CHANGES: Capability.DECIDE,
    Action.DEPRECATE: Capability.REVOKE,
    Action.REVOKE: Capability.REVOKE,
}
COMMENT_REQUIRED = {
    Action.REJECT: "a comment is required to reject",
    Action.REQUEST_CHANGES: "a comment is required to request changes",
    Action.REVOKE: "a reason is required to revoke",
}
# Statuses entering a (new) review round: approvals are counted per round.
_REVIEW_ENTRY = {S.PENDING_REVIEW, S.NEEDS_REREVIEW}


def allowed_actions(status: str) -> list[str]:
    """Actions possible from a status, in a stable order."""
    return [action for action in Action.values if status in DECISION_TRANSITIONS[action]]


def _set_status(version: DatasetVersion, status: str) -> None:
    if status in _REVIEW_ENTRY and version.status != status:
        version.review_round += 1
    version.status = status
    version.save(update_fields=["status", "review_round", "updated_at"])


def version_system_transition(
    *, actor: Actor, version: DatasetVersion, event: str, detail: dict[str, Any] | None = None
) -> DatasetVersion:
    """Apply an evaluation-driven transition if the version's status has one; otherwise leave it.

    An approved version that is re-evaluated keeps its status: new evidence never silently
    un-approves anything (its policy check shows the new verdict instead).
    """
    with audited_atomic():
        version = DatasetVersion.objects.select_for_update().select_related("dataset__project").get(pk=version.pk)
        target = SYSTEM_TRANSITIONS[event].get(version.status)
        if target is None:
            return version
        before = version.status
        _set_status(version, target)
        record_event(
            actor=actor,
            action="version.status_changed",
            obj=version,
            project=version.dataset.project,
            before={"status": before},
            after={"status": target, "event": event, **(detail or {})},
        )
        evidence_changed(str(version.pk), trigger="evaluation")
    return version


@dataclass
class DecisionOutcome:
    """A recorded decision, the version after it, and what a revocation flagged downstream."""

    decision: Decision
    version: DatasetVersion
    policy_check: PolicyCheck | None = None
    approvals: int = 0
    required_approvals: int = 1
    impact: Impact | None = None
    flagged: list[dict[str, Any]] = field(default_factory=list)


def _check_permission(actor: Actor, version: DatasetVersion, action: str) -> None:
    require_capability(
        actor=actor, project=version.dataset.project, capability=ACTION_CAPABILITY[action], what=f"'{action}'"
    )


def _check_four_eyes(actor: Actor, version: DatasetVersion) -> None:
    if actor.user_id == version.registered_by_id:
        raise NotPermitted("four-eyes rule: you registered this version, so someone else must approve it")


def _approval_gate(
    actor: Actor, version: DatasetVersion, waiver: str, result: PolicyCheck
) -> tuple[PolicyCheck, list[dict[str, Any]]]:
    """Four-eyes, revoked sources, then the policy check: block rules stop approval, warn rules need a waiver."""
    _check_four_eyes(actor, version)
    already = Decision.objects.filter(
        version=version, action=Action.APPROVE, review_round=version.review_round, decided_by_id=actor.user_id
    )
    if already.exists():
        raise Conflict("you already approved this version in this review round; another reviewer must approve too")
    revoked = [str(s) for s in version.sources.filter(revoked_at__isnull=False)]
    if revoked:
        raise Conflict(
            f"a source of this version was revoked ({', '.join(revoked)}): it can only be rejected or revoked",
            extra={"status": version.status},
        )
    blocking = result.failing("block")
    if blocking:
        raise Conflict(
            "approval is blocked by policy: " + "; ".join(describe(o) for o in blocking),
            extra={"status": version.status, "blocking_rules": blocking, "policy_check": str(result.pk)},
        )
    warnings = result.failing("warn")
    if warnings and not waiver.strip():
        raise InvalidInput(
            "required to approve over failing warn rules: " + "; ".join(describe(o) for o in warnings),
            field="waiver",
        )
    return result, warnings


def _update_current_version(dataset: Dataset) -> None:
    """Consumers use the newest approved version; after a rollback that is the previous approved one."""
    newest = dataset.versions.filter(status=S.APPROVED).order_by("-number").first()
    if dataset.current_version_id != (newest.pk if newest else None):
        dataset.current_version = newest
        dataset.save(update_fields=["current_version"])


def flag_downstream(
    *, actor: Actor, impact: Impact, reason: str, cause_version=None, cause_source=None
) -> list[dict[str, Any]]:
    """Mark usable downstream versions 'needs re-review' with the reason; return what happened to each.

    Only versions in projects where the actor may revoke are flagged: another team's versions are
    reported (`flagged: false`) for its own reviewers to act on, never changed from outside.
    """
    allowed = project_ids_with(actor=actor, capability=Capability.REVOKE)
    report = []
    for item, depth in impact.versions:
        item = DatasetVersion.objects.select_for_update().select_related("dataset__project").get(pk=item.pk)
        before = item.status
        flag = before in FLAGGABLE and item.dataset.project_id in allowed
        if flag:
            ImpactFlag.objects.create(
                version=item,
                cause_version=cause_version,
                cause_source=cause_source,
                reason=reason,
                previous_status=before,
            )
            if before != S.NEEDS_REREVIEW:
                _set_status(item, S.NEEDS_REREVIEW)
                _update_current_version(item.dataset)
            evidence_changed(str(item.pk), trigger="decision")
            record_event(
                actor=actor,
                action="version.flagged",
                obj=item,
                project=item.dataset.project,
                before={"status": before},
                after={"status": item.status, "reason": reason, "cause": str(cause_version or cause_source)},
            )
        report.append(
            {
                "type": "version",
                "id": str(item.pk),
                "project": item.dataset.project.slug,
                "dataset": item.dataset.name,
                "number": item.number,
                "depth": depth,
                "previous_status": before,
                "status": item.status,
                "flagged": flag,
            }
        )
    return report


def version_decide(
    *, actor: Actor, version: DatasetVersion, action: str, comment: str = "", waiver: str = ""
) -> DecisionOutcome:
    """Apply a reviewer's decision; every refusal is a DomainError naming the reason."""
    if action not in Action.values:
        raise InvalidInput(f"unknown action {action!r}; expected one of {', '.join(Action.values)}", field="action")
    _check_permission(actor, version, action)
    if action in COMMENT_REQUIRED and not comment.strip():
        raise InvalidInput(COMMENT_REQUIRED[action], field="comment")
    if waiver.strip() and action != Action.APPROVE:
        raise InvalidInput("a waiver only applies to an approval", field="waiver")
    check = None
    if action == Action.APPROVE and version.status in DECISION_TRANSITIONS[action]:
        from .policies import policy_check_run

        _check_four_eyes(actor, version)
        # Committed on its own, so a refused approval still leaves the check it was refused on.
        check = policy_check_run(actor=actor, version=version, trigger="decision")
    with audited_atomic():
        version = DatasetVersion.objects.select_for_update().select_related("dataset__project").get(pk=version.pk)
        target = DECISION_TRANSITIONS[action].get(version.status)
        if target is None:
            raise Conflict(
                f"cannot {action.replace('_', ' ')} a version in status '{version.status}'",
                extra={"status": version.status, "allowed_actions": allowed_actions(version.status)},
            )
        before = version.status
        outcome = DecisionOutcome(decision=None, version=version)  # type: ignore[arg-type]
        waived: list[dict[str, Any]] = []
        if action == Action.APPROVE:
            if check is None:  # the version became approvable after the pre-check: check it now
                from .policies import policy_check_run

                check = policy_check_run(actor=actor, version=version, trigger="decision")
            outcome.policy_check, waived = _approval_gate(actor, version, waiver, check)
            prior = (
                Decision.objects.filter(version=version, action=Action.APPROVE, review_round=version.review_round)
                .values("decided_by_id")
                .distinct()
                .count()
            )
            outcome.approvals = prior + 1
            outcome.required_approvals = version.dataset.project.required_approvals
            if outcome.approvals < outcome.required_approvals:
                target = before
        decision = Decision.objects.create(
            version=version,
            action=action,
            decided_by=actor.user,
            decided_via=actor.via[:64],
            comment=comment,
            waiver=waiver if waived else "",
            waived_rules=waived,
            policy_check=outcome.policy_check,
            review_round=version.review_round,
            from_status=before,
            to_status=target,
        )
        if target != before:
            _set_status(version, target)
            _update_current_version(version.dataset)
            if before == S.NEEDS_REREVIEW:
                ImpactFlag.objects.filter(version=version, resolved_by__isnull=True).update(resolved_by=decision)
        record_event(
            actor=actor,
            action=f"version.{action}",
            obj=version,
            project=version.dataset.project,
            before={"status": before},
            after={
                "status": target,
                "decision": decision.pk,
                "comment": comment,
                "waiver": decision.waiver,
                "waived_rules": [describe(o) for o in waived],
                "approvals": outcome.approvals or None,
                "required_approvals": outcome.required_approvals if action == Action.APPROVE else None,
                "policy_check": str(outcome.policy_check.pk) if outcome.policy_check else None,
            },
        )
        emit.decision_recorded(decision, outcome.policy_check.verdict if outcome.policy_check else None)
        evidence_changed(str(version.pk), trigger="decision")
        if action == Action.REVOKE:
            outcome.impact = downstream(version=version)
            outcome.flagged = flag_downstream(
                actor=actor,
                impact=outcome.impact,
                reason=f"upstream version {version} was revoked: {comment}",
                cause_version=version,
            )
        outcome.decision = decision
        outcome.version = version
    return outcome
