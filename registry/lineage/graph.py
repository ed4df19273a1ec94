"""Lineage graph queries in Marquez's shape, walked by one recursive CTE (never a query per node).

`asOf` and `runId` rebuild the graph from the runs' recorded inputs and outputs as they were at that
time, with every dataset bound to the version the events named.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q

from ..models import (
    LineageAdjacency,
    LineageDatasetVersion,
    LineageNode,
    LineageNodeProject,
    LineageRun,
    LineageRunIO,
    NodeKind,
)

MAX_DEPTH = 100


class NodeNotFound(LookupError):
    """The nodeId names nothing the registry has seen."""


class BadNodeId(ValueError):
    """The nodeId is malformed."""


@dataclass(frozen=True)
class Anchor:
    node: LineageNode
    version: str | None = None
    run: LineageRun | None = None


def _split_candidates(rest: str) -> list[tuple[str, str]]:
    """Every (namespace, name) a 'namespace:name' string could mean; namespaces may contain ':'."""
    parts = rest.split(":")
    return [(":".join(parts[:i]), ":".join(parts[i:])) for i in range(1, len(parts))]


def visible_to(projects: list[int]):
    """Ids of the nodes reported by events of these projects."""
    return LineageNodeProject.objects.filter(project_id__in=projects).values("node_id")


def resolve_node(node_id: str, projects: list[int]) -> Anchor:
    """`dataset:<ns>:<name>[#version]`, `job:<ns>:<name>` or `run:<uuid>` to the node it names, if visible."""
    kind, _, rest = node_id.partition(":")
    if kind == "run":
        try:
            run = LineageRun.objects.select_related("job").get(run_id=uuid.UUID(rest), job__in=visible_to(projects))
        except (ValueError, LineageRun.DoesNotExist) as exc:
            raise NodeNotFound(f"no run {rest}") from exc
        return Anchor(node=run.job, run=run)
    if kind not in ("dataset", "job") or not rest:
        raise BadNodeId("expected dataset:<namespace>:<name>, job:<namespace>:<name> or run:<uuid>")
    rest, _, version = rest.partition("#")
    candidates = _split_candidates(rest)
    if not candidates:
        raise BadNodeId("expected dataset:<namespace>:<name>, job:<namespace>:<name> or run:<uuid>")
    matches = {(n.namespace, n.name): n for n in _nodes_by_identity(kind.upper(), candidates, projects)}
    for candidate in candidates:
        if candidate in matches:
            return Anchor(node=matches[candidate], version=version or None)
    raise NodeNotFound(f"no {kind} named {rest}")


def _nodes_by_identity(kind: str, candidates: list[tuple[str, str]], projects: list[int]) -> list[LineageNode]:
    condition = Q(pk__in=[])
    for namespace, name in candidates:
        condition |= Q(namespace=namespace, name=name)
    return list(LineageNode.objects.filter(condition, kind=kind, pk__in=visible_to(projects)))


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _visible_cte(projects: list[int]) -> tuple[str, list[int]]:
    marks = ", ".join(["%s"] * len(projects)) or "NULL"
    sql = f"visible AS (SELECT DISTINCT node_id FROM {_table(LineageNodeProject)} WHERE project_id IN ({marks}))"  # noqa: S608
    return sql, list(projects)


def _walk_current(start: int, max_hops: int, projects: list[int]) -> dict[int, int]:
    visible, params = _visible_cte(projects)
    sql = f"""
        WITH RECURSIVE {visible},
        walk(node_id, hops) AS (
            SELECT CAST(%s AS BIGINT), 0
            UNION
            SELECT a.neighbor_id, w.hops + 1
            FROM walk w
            JOIN {_table(LineageAdjacency)} a ON a.node_id = w.node_id
            JOIN visible v ON v.node_id = a.neighbor_id
            WHERE w.hops < %s
        )
        SELECT node_id, MIN(hops) FROM walk GROUP BY node_id
    """  # noqa: S608 - table names come from the models, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, start, max_hops])
        return dict(cursor.fetchall())


def _history_ctes(as_of: dt.datetime, run: LineageRun | None) -> tuple[str, list[Any]]:
    """CTEs selecting, per job, the run whose inputs/outputs were newest at `as_of` (or the given run)."""
    io, runs = _table(LineageRunIO), _table(LineageRun)
    params: list[Any] = [as_of]
    chosen = """
        SELECT rt.run_id, rt.job_id FROM run_t rt JOIN latest l ON l.job_id = rt.job_id AND l.t = rt.t
    """
    if run is not None:
        chosen += " WHERE rt.job_id <> %s UNION SELECT %s, %s"
        params += [run.job_id, run.run_id.hex if connection.vendor == "sqlite" else run.run_id, run.job_id]
    sql = f"""
        io_t AS (SELECT run_id, dataset_id, dataset_version_id, direction FROM {io} WHERE event_time <= %s),
        run_t AS (
            SELECT r.run_id, r.job_id, MAX(x.event_time) AS t
            FROM {io} x JOIN {runs} r ON r.run_id = x.run_id
            WHERE x.run_id IN (SELECT run_id FROM io_t) AND x.event_time <= %s
            GROUP BY r.run_id, r.job_id
        ),
        latest AS (SELECT job_id, MAX(t) AS t FROM run_t GROUP BY job_id),
        chosen AS ({chosen}),
        adj AS (
            SELECT x.dataset_id AS node_id, c.job_id AS neighbor_id FROM io_t x JOIN chosen c ON c.run_id = x.run_id
            UNION ALL
            SELECT c.job_id, x.dataset_id FROM io_t x JOIN chosen c ON c.run_id = x.run_id
        )
    """  # noqa: S608
    return sql, [params[0], as_of, *params[1:]]


def _walk_history(
    start: int, max_hops: int, as_of: dt.datetime, run: LineageRun | None, projects: list[int]
) -> tuple[dict, list]:
    ctes, params = _history_ctes(as_of, run)
    visible, visible_params = _visible_cte(projects)
    walk_sql = f"""
        WITH RECURSIVE {ctes}, {visible},
        walk(node_id, hops) AS (
            SELECT CAST(%s AS BIGINT), 0
            UNION
            SELECT a.neighbor_id, w.hops + 1
            FROM walk w JOIN adj a ON a.node_id = w.node_id JOIN visible v ON v.node_id = a.neighbor_id
            WHERE w.hops < %s
        )
        SELECT node_id, MIN(hops) FROM walk GROUP BY node_id
    """  # noqa: S608
    io_sql = f"""
        WITH {ctes}
        SELECT c.run_id, c.job_id, x.dataset_id, x.dataset_version_id, x.direction
        FROM io_t x JOIN chosen c ON c.run_id = x.run_id
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(walk_sql, [*params, *visible_params, start, max_hops])
        reached = dict(cursor.fetchall())
        cursor.execute(io_sql, params)
        io_rows = [row for row in cursor.fetchall() if row[1] in reached and row[2] in reached]
    return reached, io_rows


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _fields(facets: dict) -> list[dict]:
    schema = facets.get("schema") or {}
    return [
        {"name": f.get("name"), "type": f.get("type"), "tags": [], "description": f.get("description")}
        for f in (schema.get("fields") or [])
        if isinstance(f, dict)
    ]


def _dataset_data(node: LineageNode, version: LineageDatasetVersion | None) -> dict[str, Any]:
    facets = {**node.facets, **(version.facets if version else {})}
    return {
        "id": {"namespace": node.namespace, "name": node.name},
        "type": "DB_TABLE",
        "name": node.name,
        "physicalName": node.name,
        "namespace": node.namespace,
        "sourceName": node.namespace,
        "fields": _fields(facets),
        "tags": [],
        "facets": facets,
        "currentVersion": version.version if version else None,
        "createdAt": _iso(node.created_at),
        "updatedAt": _iso(node.updated_at),
        "lastModifiedAt": _iso(version.event_time if version else None),
    }


def _run_data(run: LineageRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "id": str(run.run_id),
        "state": run.state,
        "startedAt": _iso(run.started_at),
        "endedAt": _iso(run.ended_at),
        "nominalStartTime": _iso(run.nominal_start_time),
        "nominalEndTime": _iso(run.nominal_end_time),
        "facets": run.facets,
    }


def _job_data(node: LineageNode, inputs: list, outputs: list, run: LineageRun | None) -> dict[str, Any]:
    return {
        "id": {"namespace": node.namespace, "name": node.name},
        "type": "BATCH",
        "name": node.name,
        "simpleName": node.name.rsplit(".", 1)[-1],
        "namespace": node.namespace,
        "inputs": [{"namespace": d.namespace, "name": d.name} for d in inputs],
        "outputs": [{"namespace": d.namespace, "name": d.name} for d in outputs],
        "latestRun": _run_data(run),
        "facets": node.facets,
        "createdAt": _iso(node.created_at),
        "updatedAt": _iso(node.updated_at),
    }


def lineage_graph(
    node_id: str,
    *,
    projects: list[int],
    depth: int = 20,
    as_of: dt.datetime | None = None,
    run_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """The graph around a node, `depth` jobs away in both directions, within the given projects' nodes."""
    anchor = resolve_node(node_id, projects)
    if run_id is not None and anchor.run is None:
        anchor = Anchor(node=anchor.node, version=anchor.version, run=resolve_node(f"run:{run_id}", projects).run)
    start = anchor.node.pk
    max_hops = 2 * min(max(depth, 0), MAX_DEPTH)
    historical = as_of is not None or anchor.run is not None
    if historical:
        when = as_of or anchor.run.last_event_time
        reached, io_rows = _walk_history(start, max_hops, when, anchor.run, projects)
        edges = [(d, j) if direction == "in" else (j, d) for _, j, d, _, direction in io_rows]
        bound = {d: v for _, _, d, v, _ in io_rows if v is not None}
        # SQLite hands UUIDs back as hex text from raw SQL; PostgreSQL as UUIDs.
        runs = {j: uuid.UUID(str(r)) for r, j, _, _, _ in io_rows}
    else:
        reached = _walk_current(start, max_hops, projects)
        edges = list(
            LineageAdjacency.objects.filter(node_id__in=reached, neighbor_id__in=reached, direction="out").values_list(
                "node_id", "neighbor_id"
            )
        )
        bound, runs = {}, {}
    nodes = {
        n.pk: n for n in LineageNode.objects.filter(pk__in=reached).select_related("current_version", "latest_run")
    }
    versions = {v.pk: v for v in LineageDatasetVersion.objects.filter(pk__in=set(bound.values()))}
    if anchor.version and anchor.node.kind == NodeKind.DATASET:
        pinned = anchor.node.versions.filter(version=anchor.version).first()
        if pinned is not None:
            versions[pinned.pk] = pinned
            bound[anchor.node.pk] = pinned.pk
    run_rows = {r.pk: r for r in LineageRun.objects.filter(run_id__in=set(runs.values()))} if runs else {}
    out_edges, in_edges = defaultdict(list), defaultdict(list)
    for origin, destination in edges:
        out_edges[origin].append(destination)
        in_edges[destination].append(origin)
    graph = []
    if historical:
        unbound = [pk for pk, n in nodes.items() if n.kind == NodeKind.DATASET and pk not in bound]
        for version in _versions_as_of(unbound, when):
            versions[version.pk] = version
            bound[version.dataset_id] = version.pk
    for pk, node in nodes.items():
        if node.kind == NodeKind.DATASET:
            version = versions.get(bound[pk]) if pk in bound else (None if historical else node.current_version)
            data = _dataset_data(node, version)
        else:
            inputs = [nodes[i] for i in in_edges[pk]]
            outputs = [nodes[o] for o in out_edges[pk]]
            run = run_rows.get(runs.get(pk)) if historical else node.latest_run
            data = _job_data(node, sorted(inputs, key=_key), sorted(outputs, key=_key), run)
        graph.append(
            {
                "id": node.node_id,
                "type": node.kind,
                "data": data,
                "inEdges": [{"origin": nodes[o].node_id, "destination": node.node_id} for o in in_edges[pk]],
                "outEdges": [{"origin": node.node_id, "destination": nodes[d].node_id} for d in out_edges[pk]],
            }
        )
    for item in graph:
        item["inEdges"].sort(key=lambda e: e["origin"])
        item["outEdges"].sort(key=lambda e: e["destination"])
    graph.sort(key=lambda item: item["id"])
    return {"graph": graph}


def _versions_as_of(dataset_ids: list[int], when: dt.datetime) -> list[LineageDatasetVersion]:
    """The newest version of each dataset at `when`, in one query."""
    latest: dict[int, LineageDatasetVersion] = {}
    rows = LineageDatasetVersion.objects.filter(dataset_id__in=dataset_ids, event_time__lte=when).order_by(
        "dataset_id", "-event_time", "-id"
    )
    for version in rows:
        latest.setdefault(version.dataset_id, version)
    return list(latest.values())


def _key(node: LineageNode) -> tuple[str, str]:
    return node.namespace, node.name
