"""Column lineage from `columnLineage` facets, in Marquez's DATASET_FIELD shape."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Q

from ..models import ColumnLineage, LineageNode, NodeKind
from .graph import BadNodeId, NodeNotFound, nodes_by_identity, split_candidates

FieldKey = tuple[str, str, str]  # namespace, dataset, field


def _field_id(key: FieldKey) -> str:
    return f"datasetField:{key[0]}:{key[1]}:{key[2]}"


def resolve_field(node_id: str, projects: list[int]) -> FieldKey:
    kind, _, rest = node_id.partition(":")
    if "\x00" in node_id or kind != "datasetField" or rest.count(":") < 2:
        raise BadNodeId("expected datasetField:<namespace>:<dataset>:<field>")
    dataset_part, _, field = rest.rpartition(":")
    candidates = split_candidates(dataset_part)
    nodes = {(n.namespace, n.name) for n in nodes_by_identity(NodeKind.DATASET, candidates, projects)}
    for namespace, name in candidates:
        if (namespace, name) in nodes:
            return namespace, name, field
    raise NodeNotFound(f"no dataset named {dataset_part}")


def _rows_for_outputs(keys: set[FieldKey], projects: list[int]) -> list[ColumnLineage]:
    condition = Q(pk__in=[])
    for namespace, name, field in keys:
        condition |= Q(dataset__namespace=namespace, dataset__name=name, field=field)
    return list(ColumnLineage.objects.filter(condition, dataset__project_id__in=projects).select_related("dataset"))


def _rows_for_inputs(keys: set[FieldKey], projects: list[int]) -> list[ColumnLineage]:
    condition = Q(pk__in=[])
    for namespace, name, field in keys:
        condition |= Q(input_namespace=namespace, input_name=name, input_field=field)
    return list(ColumnLineage.objects.filter(condition, dataset__project_id__in=projects).select_related("dataset"))


def column_lineage(
    node_id: str, *, projects: list[int], depth: int = 20, with_downstream: bool = False
) -> dict[str, Any]:
    """Fields feeding the given field (and, with_downstream, the fields it feeds), one query per level."""
    start = resolve_field(node_id, projects)
    seen: set[FieldKey] = {start}
    rows: dict[int, ColumnLineage] = {}
    upstream, downstream = {start}, {start} if with_downstream else set()
    for _ in range(max(depth, 0)):
        new: set[FieldKey] = set()
        if upstream:
            for row in _rows_for_outputs(upstream, projects):
                rows[row.pk] = row
                new.add((row.input_namespace, row.input_name, row.input_field))
        next_down: set[FieldKey] = set()
        if downstream:
            for row in _rows_for_inputs(downstream, projects):
                rows[row.pk] = row
                next_down.add((row.dataset.namespace, row.dataset.name, row.field))
        upstream, downstream = new - seen, next_down - seen
        seen |= new | next_down
        if not upstream and not downstream:
            break
    inputs: dict[FieldKey, list[ColumnLineage]] = defaultdict(list)
    for row in rows.values():
        inputs[(row.dataset.namespace, row.dataset.name, row.field)].append(row)
    types = _field_types(seen, projects)
    graph = []
    for key in sorted(seen):
        feeding = sorted(inputs.get(key, []), key=lambda r: (r.input_namespace, r.input_name, r.input_field))
        first = feeding[0] if feeding else None
        sources = [(r.input_namespace, r.input_name, r.input_field) for r in feeding]
        consumers = sorted(
            k for k, rs in inputs.items() if any((r.input_namespace, r.input_name, r.input_field) == key for r in rs)
        )
        graph.append(
            {
                "id": _field_id(key),
                "type": "DATASET_FIELD",
                "data": {
                    "namespace": key[0],
                    "dataset": key[1],
                    "field": key[2],
                    "fieldType": types.get(key),
                    "transformationDescription": first.transformation_description if first else None,
                    "transformationType": first.transformation_type if first else None,
                    "inputFields": [
                        {
                            "namespace": r.input_namespace,
                            "dataset": r.input_name,
                            "field": r.input_field,
                            "transformationDescription": r.transformation_description,
                            "transformationType": r.transformation_type,
                            "transformations": r.transformations,
                        }
                        for r in feeding
                    ],
                },
                "inEdges": [{"origin": _field_id(s), "destination": _field_id(key)} for s in sorted(sources)],
                "outEdges": [{"origin": _field_id(key), "destination": _field_id(c)} for c in consumers],
            }
        )
    return {"graph": graph}


def _field_types(keys: set[FieldKey], projects: list[int]) -> dict[FieldKey, str | None]:
    datasets = {(k[0], k[1]) for k in keys}
    condition = Q(pk__in=[])
    for namespace, name in datasets:
        condition |= Q(namespace=namespace, name=name)
    types: dict[FieldKey, str | None] = {}
    for node in LineageNode.objects.filter(condition, kind=NodeKind.DATASET, project_id__in=projects):
        for field in (node.facets.get("schema") or {}).get("fields") or []:
            if isinstance(field, dict):
                types[(node.namespace, node.name, field.get("name"))] = field.get("type")
    return types
