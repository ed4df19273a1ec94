"""What lies downstream of a version or a source in the registry: versions generated from it, at any depth,
and the jobs lineage events show reading it.

A registry dataset has an OpenLineage identity (REGISTRY_LINEAGE_NAMESPACE, "<project>/<dataset>"); a
version that names it (or one of its versions) as a source was generated from it. Sources are matched
by identity across projects: erasing real data concerns every project that used it, so a revocation
flags downstream versions in every project (a safety downgrade, never an upgrade) and each actor is
shown only the part of the impact it may read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q

from ..models import DatasetVersion, SourceDataset
from .selectors import consumers_of


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
    impact.consumers = consumers_of([lineage_identity(v) for v, _ in impact.versions] + _roots(version, source))
    return impact


def _roots(version: DatasetVersion | None, source: SourceDataset | None) -> list[tuple[str, str]]:
    if version is not None:
        return [lineage_identity(version)]
    return [(source.namespace, source.name)]
