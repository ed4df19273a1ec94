"""Reads of the lineage graph used elsewhere in the registry (revocation impact)."""

from __future__ import annotations

from django.db.models import Q

from ..models import LineageAdjacency, LineageNode, NodeKind


def consumers_of(identities: list[tuple[str, str]]) -> list[dict]:
    """Jobs that, according to ingested OpenLineage events of any project, read any of these datasets now.

    Each entry names its project, so callers can show only what the reader may see.
    """
    condition = Q(pk__in=[])
    for namespace, name in set(identities):
        condition |= Q(namespace=namespace, name=name)
    datasets = LineageNode.objects.filter(condition, kind=NodeKind.DATASET)
    edges = LineageAdjacency.objects.filter(node__in=datasets, direction="out").select_related("node", "neighbor")
    jobs: dict[int, dict] = {}
    for edge in edges:
        job = edge.neighbor
        entry = jobs.setdefault(
            job.pk,
            {
                "type": "job",
                "id": job.node_id,
                "namespace": job.namespace,
                "name": job.name,
                "reads": [],
                "project_id": job.project_id,
            },
        )
        entry["reads"].append(edge.node.node_id)
    return sorted(jobs.values(), key=lambda j: (j["id"], j["project_id"]))
