"""What lies downstream of a revoked version or source, and flagging it for re-review.

A registry dataset has an OpenLineage identity (REGISTRY_LINEAGE_NAMESPACE, "<project>/<dataset>"); a
version that names it (or one of its versions) as a source was generated from it. Sources are matched
by identity across projects: erasing real data concerns every project that used it, so a revocation
flags downstream versions in every project (a safety downgrade, never an upgrade) and each actor is
shown only the part of the impact it may read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Q

from registry.models import DatasetVersion, SourceDataset, VersionStatus
from reports.hooks import evidence_changed

from .audit import record_event
from .context import Actor
from .models import ImpactFlag, Project
from .roles import Capability
from .selectors import project_ids_with
from .status import set_status, update_current_version

S = VersionStatus
# Versions in use (approved) or about to be (pending review) must be reviewed again; one already flagged
# gets another flag with the new cause. Versions out of use (registered, evaluating, changes requested,
# rejected, deprecated, revoked) are reported but left as they are: moving them to "needs re-review"
# would let a re-review approve what was never, or is no longer, approvable.
FLAGGABLE = frozenset({S.PENDING_REVIEW, S.APPROVED, S.NEEDS_REREVIEW})
# The statuses a re-review may approve from: what a version was before its first open flag.
REAPPROVABLE = frozenset({S.PENDING_REVIEW, S.APPROVED})


def lineage_identity(version: DatasetVersion) -> tuple[str, str]:
    """The (namespace, name) under which lineage and other registrations refer to a version's dataset."""
    dataset = version.dataset
    if dataset.lineage_namespace and dataset.lineage_name:
        return dataset.lineage_namespace, dataset.lineage_name
    return settings.REGISTRY_LINEAGE_NAMESPACE, f"{dataset.project.slug}/{dataset.name}"


def _version_labels(version: DatasetVersion) -> set[str]:
    return {"", str(version.pk), str(version.number), f"v{version.number}", version.fingerprint}


def _registry_identity(version: DatasetVersion) -> tuple[str, str]:
    return settings.REGISTRY_LINEAGE_NAMESPACE, f"{version.dataset.project.slug}/{version.dataset.name}"


@dataclass
class Impact:
    """Downstream versions in breadth-first order, with their depth from the revoked thing."""

    versions: list[tuple[DatasetVersion, int]] = field(default_factory=list)
    consumers: list[dict] = field(default_factory=list)


def _versions_using_sources(sources: Iterable[SourceDataset]) -> list[DatasetVersion]:
    identity = Q(pk__in=[])
    for source in sources:
        identity |= Q(source_links__source__namespace=source.namespace, source_links__source__name=source.name)
    return list(DatasetVersion.objects.filter(identity).select_related("dataset__project").distinct())


def _versions_derived_from(versions: Iterable[DatasetVersion]) -> list[DatasetVersion]:
    condition = Q(pk__in=[])
    for version in versions:
        for namespace, name in {lineage_identity(version), _registry_identity(version)}:
            condition |= Q(
                source_links__source__namespace=namespace,
                source_links__source__name=name,
                source_links__source_version__in=_version_labels(version),
            )
    return list(DatasetVersion.objects.filter(condition).select_related("dataset__project").distinct())


def downstream(*, version: DatasetVersion | None = None, source: SourceDataset | None = None) -> Impact:
    """Everything generated from a version or a source, at any depth; cycles are visited once."""
    impact = Impact()
    seen: set = set()
    if version is not None:
        seen.add(version.pk)
        frontier = _versions_derived_from([version])
    else:
        frontier = _versions_using_sources([source])
    depth = 1
    while frontier:
        fresh = sorted(
            (v for v in frontier if v.pk not in seen), key=lambda v: (v.dataset.project.slug, v.dataset.name, v.number)
        )
        for item in fresh:
            seen.add(item.pk)
            impact.versions.append((item, depth))
        frontier = _versions_derived_from(fresh) if fresh else []
        depth += 1
    impact.consumers = lineage_consumers([lineage_identity(v) for v, _ in impact.versions] + _roots(version, source))
    return impact


def _roots(version: DatasetVersion | None, source: SourceDataset | None) -> list[tuple[str, str]]:
    if version is not None:
        return [lineage_identity(version)]
    return [(source.namespace, source.name)]


def lineage_consumers(identities: list[tuple[str, str]]) -> list[dict]:
    """Jobs known from OpenLineage events to read any of these datasets."""
    from registry.lineage.selectors import consumers_of

    return consumers_of(identities)


def flag_downstream(
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
            if before != S.NEEDS_REREVIEW:
                set_status(item, S.NEEDS_REREVIEW)
                update_current_version(item.dataset)
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
