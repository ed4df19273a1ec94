"""The review workflow: the only code that changes a version's status.

System transitions follow evaluations; decisions (approve, reject, request changes, deprecate, revoke)
are checked here for role, state, four-eyes, policy and waiver, in one transaction with their audit event,
whether they come from the API or the admin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.audit import audited_atomic, record_event
from core.context import Actor
from core.errors import Conflict, DomainError, InvalidInput, NotPermitted
from core.permissions import require_capability
from core.roles import Capability
from registry.hooks import evidence_changed
from registry.lineage import emit
from registry.lineage.downstream import Impact, downstream
from registry.models import DatasetVersion, VersionStatus

from .attestations import ATTESTED_STATUSES, attestation_issue
from .attestations import summary as attestation_summary
from .impact import REAPPROVABLE, downstream_versions_flag
from .models import Action, Attestation, Decision, ImpactFlag, PolicyCheck
from .policies import policy_check_run
from .policy_engine import describe
from .status import dataset_current_version_update, version_status_set

# Evaluation-driven transitions: event -> {from status: to status}.
SYSTEM_TRANSITIONS: dict[str, dict[str, str]] = {
    # A version flagged for re-review stays flagged while it is re-evaluated: only a decision clears it.
    "evaluation_started": {
        VersionStatus.REGISTERED: VersionStatus.EVALUATING,
        VersionStatus.CHANGES_REQUESTED: VersionStatus.EVALUATING,
    },
    "evaluation_succeeded": {VersionStatus.EVALUATING: VersionStatus.PENDING_REVIEW},
    "evaluation_failed": {VersionStatus.EVALUATING: VersionStatus.REGISTERED},
}

# Decisions: action -> {from status: to status}. Approve may stay in review until enough reviewers agree.
# Approving a version that needs re-review passes every gate an approval from pending review passes; only
# versions that were in use or pending review are ever flagged (governance.impact.FLAGGABLE).
DECISION_TRANSITIONS: dict[str, dict[str, str]] = {
    Action.APPROVE: {
        VersionStatus.PENDING_REVIEW: VersionStatus.APPROVED,
        VersionStatus.NEEDS_REREVIEW: VersionStatus.APPROVED,
    },
    Action.REJECT: {
        VersionStatus.PENDING_REVIEW: VersionStatus.REJECTED,
        VersionStatus.NEEDS_REREVIEW: VersionStatus.REJECTED,
    },
    Action.REQUEST_CHANGES: {
        VersionStatus.PENDING_REVIEW: VersionStatus.CHANGES_REQUESTED,
        VersionStatus.NEEDS_REREVIEW: VersionStatus.CHANGES_REQUESTED,
    },
    Action.DEPRECATE: {VersionStatus.APPROVED: VersionStatus.DEPRECATED},
    Action.REVOKE: {
        VersionStatus.APPROVED: VersionStatus.REVOKED,
        VersionStatus.DEPRECATED: VersionStatus.REVOKED,
        VersionStatus.NEEDS_REREVIEW: VersionStatus.REVOKED,
    },
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


def allowed_actions(status: str) -> list[str]:
    """Actions possible from a status, in a stable order."""
    return [action for action in Action.values if status in DECISION_TRANSITIONS[action]]


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
        version_status_set(version, target)
        record_event(
            actor=actor,
            action="version.status_changed",
            obj=version,
            project=version.dataset.project,
            before={"status": before},
            after={"status": target, "event": event, **(detail or {})},
        )
        evidence_changed.send(version_id=str(version.pk), trigger="evaluation")
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
    attestation: Attestation | None = None  # signed when the decision approved, deprecated or revoked


def _check_permission(actor: Actor, version: DatasetVersion, action: str) -> None:
    require_capability(
        actor=actor, project=version.dataset.project, capability=ACTION_CAPABILITY[action], what=f"'{action}'"
    )


def _check_four_eyes(actor: Actor, version: DatasetVersion) -> None:
    if actor.user_id == version.registered_by_id:
        raise NotPermitted("four-eyes rule: you registered this version, so someone else must approve it")


def _approval_preconditions(actor: Actor, version: DatasetVersion) -> None:
    """Four-eyes, one approval per reviewer and round, no revoked source, and a re-review of an approvable version."""
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
    if version.status == VersionStatus.NEEDS_REREVIEW:
        # Flags made before only in-use versions were flagged may sit on a version that was never approvable.
        first = (
            ImpactFlag.objects.filter(version=version, resolved_by__isnull=True).order_by("created_at", "id").first()
        )
        if first is not None and first.previous_status not in REAPPROVABLE:
            raise Conflict(
                f"this version was '{first.previous_status}' before it was flagged for re-review, so a re-review "
                "cannot approve it: reject it or request changes",
                extra={
                    "status": version.status,
                    "allowed_actions": [a for a in allowed_actions(version.status) if a != Action.APPROVE],
                },
            )


def _policy_gate(result: PolicyCheck, waiver: str, status: str) -> list[dict[str, Any]]:
    """Block rules stop approval; warn rules need a waiver. Returns the waived outcomes."""
    blocking = result.failing("block")
    if blocking:
        raise Conflict(
            "approval is blocked by policy: " + "; ".join(describe(o) for o in blocking),
            extra={"status": status, "blocking_rules": blocking, "policy_check": str(result.pk)},
        )
    warnings = result.failing("warn")
    if warnings and not waiver.strip():
        raise InvalidInput(
            "required to approve over failing warn rules: " + "; ".join(describe(o) for o in warnings),
            field="waiver",
        )
    return warnings


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
    refusal: DomainError | None = None
    with audited_atomic():
        # Generator and registrant ride along (the attestation's provenance reads them), locked rows: the version.
        version = (
            DatasetVersion.objects.select_for_update(of=("self",))
            .select_related("dataset__project", "generator", "registered_by")
            .get(pk=version.pk)
        )
        target = DECISION_TRANSITIONS[action].get(version.status)
        if target is None:
            raise Conflict(
                f"cannot {action.replace('_', ' ')} a version in status '{version.status}'",
                extra={"status": version.status, "allowed_actions": allowed_actions(version.status)},
            )
        outcome = DecisionOutcome(decision=None, version=version)  # type: ignore[arg-type]
        waived: list[dict[str, Any]] = []
        if action == Action.APPROVE:
            _approval_preconditions(actor, version)
            # Checked here, under the version lock and the audit head lock that every evaluation's finish
            # also takes: an evaluation that finished while this request waited is in the check, and one
            # finishing later waits for this commit. A check that runs before the lock could be stale.
            outcome.policy_check = policy_check_run(actor=actor, version=version, trigger="decision")
            try:
                waived = _policy_gate(outcome.policy_check, waiver, version.status)
            except DomainError as exc:
                refusal = exc  # raised after the commit, so the refusal keeps the check it was refused on
        if refusal is None:
            _record_decision(actor, version, action, target, comment, waiver, waived, outcome)
    if refusal is not None:
        raise refusal
    return outcome


def _record_decision(
    actor: Actor,
    version: DatasetVersion,
    action: str,
    target: str,
    comment: str,
    waiver: str,
    waived: list[dict[str, Any]],
    outcome: DecisionOutcome,
) -> None:
    """The decision row, the status change, its audit event and, for a revocation, the downstream flags."""
    before = version.status
    if action == Action.APPROVE:
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
        version_status_set(version, target)
        dataset_current_version_update(version.dataset)
        if before == VersionStatus.NEEDS_REREVIEW:
            ImpactFlag.objects.filter(version=version, resolved_by__isnull=True).update(resolved_by=decision)
    if target != before and target in ATTESTED_STATUSES:
        # Signed in the decision's transaction: an approval never exists without its statement, and the
        # decision's audit event carries the statement's digest.
        outcome.attestation = attestation_issue(
            actor=actor, version=version, decision=decision, check=outcome.policy_check, record=False
        )
    record_event(
        actor=actor,
        action=f"version.{action}",
        obj=version,
        project=version.dataset.project,
        before={"status": before},
        after={
            "attestation": attestation_summary(outcome.attestation) if outcome.attestation else None,
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
    evidence_changed.send(version_id=str(version.pk), trigger="decision")
    if action == Action.REVOKE:
        outcome.impact = downstream(version=version)
        outcome.flagged = downstream_versions_flag(
            actor=actor,
            impact=outcome.impact,
            reason=f"upstream version {version} was revoked: {comment}",
            cause_version=version,
        )
    outcome.decision = decision
    outcome.version = version
