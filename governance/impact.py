"""Flagging what lies downstream of a revoked version or source for re-review, and showing an actor the part of
that impact it may read.

Sources are matched by identity across projects (registry.lineage.downstream): erasing real data concerns
every project that used it, so a revocation flags downstream versions in every project (a safety downgrade,
never an upgrade) and each actor is shown only the part of the impact it may read.
"""

from __future__ import annotations

from typing import Any

from core.audit import record_event
from core.context import Actor
from core.models import Project
from core.roles import Capability
from core.selectors import project_ids_with
from registry.hooks import evidence_changed
from registry.lineage.downstream import Impact
from registry.models import DatasetVersion, VersionStatus

from .models import ImpactFlag
from .status import dataset_current_version_update, version_status_set

# Versions in use (approved) or about to be (pending review) must be reviewed again; one already flagged
# gets another flag with the new cause. Versions out of use (registered, evaluating, changes requested,
# rejected, deprecated, revoked) are reported but left as they are: moving them to "needs re-review"
# would let a re-review approve what was never, or is no longer, approvable.
FLAGGABLE = frozenset({VersionStatus.PENDING_REVIEW, VersionStatus.APPROVED, VersionStatus.NEEDS_REREVIEW})
# The statuses a re-review may approve from: what a version was before its first open flag.
REAPPROVABLE = frozenset({VersionStatus.PENDING_REVIEW, VersionStatus.APPROVED})


def downstream_versions_flag(
    *, actor: Actor, impact: Impact, reason: str, cause_version=None, cause_source=None
) -> list[dict[str, Any]]:
    """Mark in-use downstream versions of every project 'needs re-review'; report what happened to each.

    Runs inside the revocation's transaction, which holds the audit head lock (so revocations are
    serialised); the versions are still locked in one statement in primary-key order, so any two
    writers locking several of them queue in the same order. The report holds every project's
    versions: callers show an actor only what it may read (`visible_impact`).
    """
    ids = [item.pk for item, _ in impact.versions]
    locked = {
        v.pk: v
        for v in DatasetVersion.objects.select_for_update(of=("self",))
        .select_related("dataset__project")
        .filter(pk__in=ids)
        .order_by("pk")
    }
    report = []
    for original, depth in impact.versions:
        item = locked[original.pk]
        before = item.status
        flag = before in FLAGGABLE
        if flag:
            ImpactFlag.objects.create(
                version=item,
                cause_version=cause_version,
                cause_source=cause_source,
                reason=reason,
                previous_status=before,
            )
            if before != VersionStatus.NEEDS_REREVIEW:
                version_status_set(item, VersionStatus.NEEDS_REREVIEW)
                dataset_current_version_update(item.dataset)
            evidence_changed.send(version_id=str(item.pk), trigger="decision")
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


def visible_impact(*, actor: Actor, entries: list[dict[str, Any]], consumers: list[dict]) -> dict[str, Any]:
    """The impact limited to the projects the actor may read, with counts of the rest (and of those flagged)."""
    readable_ids = project_ids_with(actor=actor, capability=Capability.READ)
    readable = set(Project.objects.filter(pk__in=readable_ids).values_list("slug", flat=True))
    visible = [item for item in entries if item["project"] in readable]
    hidden = [item for item in entries if item["project"] not in readable]
    seen_consumers = [
        {k: v for k, v in c.items() if k != "project_id"} for c in consumers if c["project_id"] in readable_ids
    ]
    return {
        "versions": visible,
        "hidden_versions": len(hidden),
        "hidden_flagged": sum(1 for item in hidden if item["flagged"]),
        "consumers": seen_consumers,
        "hidden_consumers": len(consumers) - len(seen_consumers),
    }
