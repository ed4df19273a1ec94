"""Lineage graph queries in Marquez's shape, walked by one recursive CTE (never a query per node).

Every project has its own graph; a caller sees the graphs of their projects, merged by node identity.
`asOf` and `runId` rebuild the graph from the runs' recorded inputs and outputs as they were at that
time, with every dataset bound to the version the events named.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Q

from ..models import LineageAdjacency, LineageDatasetVersion, LineageNode, LineageRun, LineageRunIO, NodeKind

MAX_DEPTH = 100


class NodeNotFound(LookupError):
    """The nodeId names nothing the caller's projects have reported."""


class BadNodeId(ValueError):
    """The nodeId is malformed."""


@dataclass
class Anchor:
    """Where a query starts: the node in each of the caller's projects that has it, and optionally a run."""

    nodes: list[LineageNode]
    version: str | None = None
    runs: list[LineageRun] = field(default_factory=list)


def split_candidates(rest: str) -> list[tuple[str, str]]:
    """Every (namespace, name) a 'namespace:name' string could mean; namespaces may contain ':'."""
    parts = rest.split(":")
    return [(":".join(parts[:i]), ":".join(parts[i:])) for i in range(1, len(parts))]


def nodes_by_identity(kind: str, candidates: list[tuple[str, str]], projects: list[int]) -> list[LineageNode]:
    condition = Q(pk__in=[])
    for namespace, name in candidates:
        condition |= Q(namespace=namespace, name=name)
    return list(LineageNode.objects.filter(condition, kind=kind, project_id__in=projects))


def resolve_node(node_id: str, projects: list[int]) -> Anchor:
    """`dataset:<ns>:<name>[#version]`, `job:<ns>:<name>` or `run:<uuid>` in the caller's projects."""
    if "\x00" in node_id:
        raise BadNodeId("nodeId may not contain NUL characters")
    kind, _, rest = node_id.partition(":")
    if kind == "run":
        try:
            run_id = uuid.UUID(rest)
        except ValueError as exc:
            raise BadNodeId("run:<uuid> needs a UUID") from exc
        runs = list(LineageRun.objects.select_related("job").filter(run_id=run_id, project_id__in=projects))
        if not runs:
            raise NodeNotFound(f"no run {rest}")
        return Anchor(nodes=[r.job for r in runs], runs=runs)
    if kind not in ("dataset", "job") or not rest:
        raise BadNodeId("expected dataset:<namespace>:<name>, job:<namespace>:<name> or run:<uuid>")
    rest, _, version = rest.partition("#")
    candidates = split_candidates(rest)
    if not candidates:
        raise BadNodeId("expected dataset:<namespace>:<name>, job:<namespace>:<name> or run:<uuid>")
    found = nodes_by_identity(kind.upper(), candidates, projects)
    for candidate in candidates:
        matches = [n for n in found if (n.namespace, n.name) == candidate]
        if matches:
            return Anchor(nodes=matches, version=version or None)
    raise NodeNotFound(f"no {kind} named {rest}")


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _anchor_sql(starts: list[int]) -> tuple[str, list[int]]:
    marks = ", ".join(["%s"] * len(starts))
    # CAST: PostgreSQL types a bare parameter as integer, the node ids are bigint.
    return f"SELECT CAST(id AS BIGINT), 0 FROM {_table(LineageNode)} WHERE id IN ({marks})", list(starts)  # noqa: S608


def _walk_current(starts: list[int], max_hops: int) -> dict[int, int]:
    anchor, params = _anchor_sql(starts)
    sql = f"""
        WITH RECURSIVE walk(node_id, hops) AS (
            {anchor}
            UNION
            SELECT a.neighbor_id, w.hops + 1
            FROM walk w JOIN {_table(LineageAdjacency)} a ON a.node_id = w.node_id
            WHERE w.hops < %s
        )
        SELECT node_id, MIN(hops) FROM walk GROUP BY node_id
    """  # noqa: S608 - table names come from the models, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, max_hops])
        return dict(cursor.fetchall())


def _history_ctes(as_of: dt.datetime, runs: list[LineageRun], projects: list[int]) -> tuple[str, list[Any]]:
    """CTEs selecting, per job, the run whose edges it showed at `as_of` (or the given runs).

    The same rule as the current graph (`graph_writer.edge_rank`): the newest run completed by then,
    else the newest run that had named inputs or outputs by then.
    """
    io, run_table = _table(LineageRunIO), _table(LineageRun)
    chosen = "SELECT run_id, job_id FROM ranked WHERE n = 1"
    extra: list[Any] = []
    if runs:
        jobs = ", ".join(["%s"] * len(runs))
        pinned = " UNION ".join(["SELECT %s, %s"] * len(runs))
        chosen += f" AND job_id NOT IN ({jobs}) UNION {pinned}"
        extra = [r.job_id for r in runs] + [value for r in runs for value in (r.pk, r.job_id)]
    marks = ", ".join(["%s"] * len(projects))
    sql = f"""
        io_t AS (SELECT run_id, dataset_id, dataset_version_id, direction FROM {io} WHERE event_time <= %s),
        run_t AS (
            SELECT r.id AS run_id, r.job_id, MAX(x.event_time) AS t,
                CASE WHEN r.state = 'COMPLETE' AND r.ended_at <= %s THEN 1 ELSE 0 END AS done
            FROM {io} x JOIN {run_table} r ON r.id = x.run_id
            WHERE x.event_time <= %s AND r.project_id IN ({marks})
            GROUP BY r.id, r.job_id, r.state, r.ended_at
        ),
        ranked AS (
            SELECT run_id, job_id, ROW_NUMBER() OVER (PARTITION BY job_id ORDER BY done DESC, t DESC, run_id DESC) AS n
            FROM run_t
        ),
        chosen AS ({chosen}),
        adj AS (
            SELECT x.dataset_id AS node_id, c.job_id AS neighbor_id FROM io_t x JOIN chosen c ON c.run_id = x.run_id
            UNION ALL
            SELECT c.job_id, x.dataset_id FROM io_t x JOIN chosen c ON c.run_id = x.run_id
        )
    """  # noqa: S608
    return sql, [as_of, as_of, as_of, *projects, *extra]


def _walk_history(
    starts: list[int], max_hops: int, as_of: dt.datetime, runs: list[LineageRun], projects: list[int]
) -> tuple[dict[int, int], list[tuple]]:
    ctes, params = _history_ctes(as_of, runs, projects)
    anchor, anchor_params = _anchor_sql(starts)
    walk_sql = f"""
        WITH RECURSIVE {ctes},
        walk(node_id, hops) AS (
            {anchor}
            UNION
            SELECT a.neighbor_id, w.hops + 1 FROM walk w JOIN adj a ON a.node_id = w.node_id WHERE w.hops < %s
        )
        SELECT node_id, MIN(hops) FROM walk GROUP BY node_id
    """  # noqa: S608
    io_sql = f"""
        WITH {ctes}
        SELECT c.run_id, c.job_id, x.dataset_id, x.dataset_version_id, x.direction
        FROM io_t x JOIN chosen c ON c.run_id = x.run_id
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(walk_sql, [*params, *anchor_params, max_hops])
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


def _source_name(node: LineageNode, facets: dict) -> str:
    """Marquez's source: the `dataSource` facet's name when the producer sent one, else the namespace."""
    source = facets.get("dataSource")
    name = source.get("name") if isinstance(source, dict) else None
    return name if isinstance(name, str) and name else node.namespace


def _job_type(facets: dict) -> str:
    """Marquez's job type from the `jobType` facet: BATCH (the default) or STREAM."""
    job_type = facets.get("jobType")
    processing = job_type.get("processingType") if isinstance(job_type, dict) else None
    return "STREAM" if processing == "STREAMING" else "BATCH"


def _dataset_data(node: LineageNode, facets: dict, version: LineageDatasetVersion | None) -> dict[str, Any]:
    facets = {**facets, **(version.facets if version else {})}
    return {
        "id": {"namespace": node.namespace, "name": node.name},
        "type": "DB_TABLE",
        "name": node.name,
        "physicalName": node.name,
        "namespace": node.namespace,
        "sourceName": _source_name(node, facets),
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


def _job_data(node: LineageNode, facets: dict, inputs: list[dict], outputs: list[dict], run) -> dict[str, Any]:
    return {
        "id": {"namespace": node.namespace, "name": node.name},
        "type": _job_type(facets),
        "name": node.name,
        "simpleName": node.name.rsplit(".", 1)[-1],
        "namespace": node.namespace,
        "inputs": inputs,
        "outputs": outputs,
        "latestRun": _run_data(run),
        "facets": facets,
        "createdAt": _iso(node.created_at),
        "updatedAt": _iso(node.updated_at),
    }


def _versions_as_of(dataset_ids: list[int], when: dt.datetime) -> list[LineageDatasetVersion]:
    """The newest version of each dataset at `when`, in one query."""
    latest: dict[int, LineageDatasetVersion] = {}
    rows = LineageDatasetVersion.objects.filter(dataset_id__in=dataset_ids, event_time__lte=when).order_by(
        "dataset_id", "-event_time", "-id"
    )
    for version in rows:
        latest.setdefault(version.dataset_id, version)
    return list(latest.values())


def lineage_graph(
    node_id: str,
    *,
    projects: list[int],
    depth: int = 20,
    as_of: dt.datetime | None = None,
    run_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """The graph around a node, `depth` jobs away in both directions, in the given projects, sorted by id."""
    anchor = resolve_node(node_id, projects)
    if run_id is not None and not anchor.runs:
        anchor.runs = resolve_node(f"run:{run_id}", projects).runs
    starts = [n.pk for n in anchor.nodes]
    # Marquez's depth counts jobs: the jobs next to the anchor are depth 0, their neighbours' jobs depth 1,
    # and every returned job comes with all its datasets. In node hops from a job: 2*depth + 1; from a
    # dataset (one hop from its jobs): 2*depth + 2. (Marquez starts a dataset's walk from one of its
    # jobs; this starts from all of them.)
    from_dataset = anchor.nodes[0].kind == NodeKind.DATASET
    max_hops = 2 * min(max(depth, 0), MAX_DEPTH) + (2 if from_dataset else 1)
    historical = as_of is not None or bool(anchor.runs)
    bound: dict[int, int] = {}
    runs: dict[int, int] = {}
    when = as_of or (max(r.last_event_time for r in anchor.runs) if anchor.runs else None)
    if historical:
        reached, io_rows = _walk_history(starts, max_hops, when, anchor.runs, projects)
        edges = [(d, j) if direction == "in" else (j, d) for _, j, d, _, direction in io_rows]
        bound = {d: v for _, _, d, v, _ in io_rows if v is not None}
        runs = {j: r for r, j, _, _, _ in io_rows}
    else:
        reached = _walk_current(starts, max_hops)
        edges = list(
            LineageAdjacency.objects.filter(node_id__in=reached, neighbor_id__in=reached, direction="out").values_list(
                "node_id", "neighbor_id"
            )
        )
    nodes = {
        n.pk: n for n in LineageNode.objects.filter(pk__in=reached).select_related("current_version", "latest_run")
    }
    versions = {v.pk: v for v in LineageDatasetVersion.objects.filter(pk__in=set(bound.values()))}
    if anchor.version:
        for pinned in LineageDatasetVersion.objects.filter(dataset__in=anchor.nodes, version=anchor.version):
            versions[pinned.pk] = pinned
            bound[pinned.dataset_id] = pinned.pk
    if historical:
        unbound = [pk for pk, n in nodes.items() if n.kind == NodeKind.DATASET and pk not in bound]
        for version in _versions_as_of(unbound, when):
            versions[version.pk] = version
            bound[version.dataset_id] = version.pk
    run_rows = {r.pk: r for r in LineageRun.objects.filter(pk__in=set(runs.values()))} if runs else {}
    return {"graph": _merged(nodes, edges, bound, versions, runs, run_rows, historical)}


def _merged(nodes, edges, bound, versions, runs, run_rows, historical) -> list[dict[str, Any]]:
    """One entry per node identity: the same dataset reported by two of the caller's projects is one node."""
    groups: dict[str, list[LineageNode]] = defaultdict(list)
    identity: dict[str, dict[str, str]] = {}
    for node in nodes.values():
        groups[node.node_id].append(node)
        identity[node.node_id] = {"namespace": node.namespace, "name": node.name}
    out_edges: dict[str, set[str]] = defaultdict(set)
    in_edges: dict[str, set[str]] = defaultdict(set)
    for origin, destination in edges:
        out_edges[nodes[origin].node_id].add(nodes[destination].node_id)
        in_edges[nodes[destination].node_id].add(nodes[origin].node_id)
    graph = []
    for ident, members in groups.items():
        members.sort(key=lambda n: n.updated_at)
        primary = members[-1]
        facets: dict = {}
        for member in members:
            facets.update(member.facets)
        if primary.kind == NodeKind.DATASET:
            candidates = [versions.get(bound[m.pk]) if m.pk in bound else None for m in members]
            if not historical:
                candidates = [c or m.current_version for c, m in zip(candidates, members, strict=True)]
            found = [c for c in candidates if c is not None]
            version = max(found, key=lambda v: v.event_time) if found else None
            data = _dataset_data(primary, facets, version)
        else:
            if historical:
                member_runs = [run_rows.get(runs.get(m.pk)) for m in members]
            else:
                member_runs = [m.latest_run for m in members]
            member_runs = [r for r in member_runs if r is not None]
            run = max(member_runs, key=lambda r: r.last_event_time) if member_runs else None
            inputs = [identity[i] for i in sorted(in_edges[ident])]
            outputs = [identity[o] for o in sorted(out_edges[ident])]
            data = _job_data(primary, facets, inputs, outputs, run)
        graph.append(
            {
                "id": ident,
                "type": primary.kind,
                "data": data,
                "inEdges": [{"origin": o, "destination": ident} for o in sorted(in_edges[ident])],
                "outEdges": [{"origin": ident, "destination": d} for d in sorted(out_edges[ident])],
            }
        )
    graph.sort(key=lambda item: item["id"])
    return graph
