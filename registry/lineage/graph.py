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
from django.db.models.expressions import RawSQL

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


def _ids_sql(values) -> tuple[str, list]:
    """`IN (...)` for a list of ids: PostgreSQL gets one array parameter, SQLite one mark per id."""
    values = list(values)
    if connection.vendor == "postgresql":
        return "= ANY(%s)", [values]
    return f"IN ({', '.join(['%s'] * len(values))})", values


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _chunks(values, size: int = 5000):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _in(ids):
    """A value for `field__in` that stays one parameter on PostgreSQL however many ids there are.

    (psycopg's client-side binding parses a query with hundreds of placeholders in Python: for a few
    hundred nodes that cost more than the queries themselves.)
    """
    ids = list(ids)
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [ids])
    return ids


def _walk_current(starts: list[int], max_hops: int) -> tuple[dict[int, int], set[tuple[int, int]]]:
    """Breadth first over the adjacency table, one query per hop: every node is expanded once.

    (A recursive CTE cannot keep a visited set, so on a connected graph it re-expands every node at
    every later hop, walking back and forth between neighbours; that cost grows with depth times size.)
    """
    reached = dict.fromkeys(starts, 0)
    frontier = list(starts)
    table = _table(LineageAdjacency)
    edges: set[tuple[int, int]] = set()
    for hop in range(1, max_hops + 1):
        if not frontier:
            break
        found: set[int] = set()
        for chunk in _chunks(frontier):
            condition, params = _ids_sql(chunk)
            sql = f"SELECT node_id, neighbor_id, direction FROM {table} WHERE node_id {condition}"  # noqa: S608
            for node, neighbor, direction in _fetch(sql, params):
                found.add(neighbor)
                edges.add((node, neighbor) if direction == "out" else (neighbor, node))
        frontier = [n for n in found if n not in reached]
        reached.update(dict.fromkeys(frontier, hop))
    # Adjacent nodes are one hop apart (the graph is bipartite), so every edge between two reached nodes
    # was seen from the nearer one, which was expanded.
    return reached, {(a, b) for a, b in edges if a in reached and b in reached}


class _History:
    """The graph as it was at `as_of`: each job shows the run it showed then, found job by job as reached.

    The same rule as the current graph (`graph_writer.edge_rank`): the newest run completed by then,
    else the newest run that had named inputs or outputs by then; `pinned` runs (runId=) override it.
    Only the jobs the walk reaches are ranked, so the cost follows the result, not the whole history.
    """

    def __init__(self, as_of: dt.datetime, pinned: list[LineageRun], projects: list[int]):
        self.as_of = as_of
        self.projects = projects
        self.chosen: dict[int, int | None] = {run.job_id: run.pk for run in pinned}  # job -> run
        self.io: dict[int, list[tuple]] = defaultdict(list)  # run -> [(dataset, version, direction)]
        self._load_io([run.pk for run in pinned])

    def _load_io(self, runs: list[int]) -> None:
        for chunk in _chunks(runs):
            condition, params = _ids_sql(chunk)
            rows = _fetch(
                f"SELECT run_id, dataset_id, dataset_version_id, direction FROM {_table(LineageRunIO)} "  # noqa: S608
                f"WHERE event_time <= %s AND run_id {condition}",
                [self.as_of, *params],
            )
            for run, dataset, version, direction in rows:
                self.io[run].append((dataset, version, direction))

    def _choose(self, jobs: set[int]) -> None:
        todo = [job for job in jobs if job not in self.chosen]
        if not todo:
            return
        runs_table, io_table = _table(LineageRun), _table(LineageRunIO)
        projects, project_params = _ids_sql(self.projects)
        fresh = []
        for chunk in _chunks(todo):
            condition, params = _ids_sql(chunk)
            rows = _fetch(
                f"""
                SELECT run_id, job_id FROM (
                    SELECT r.id AS run_id, r.job_id, ROW_NUMBER() OVER (
                        PARTITION BY r.job_id
                        ORDER BY CASE WHEN r.state = 'COMPLETE' AND r.ended_at <= %s THEN 1 ELSE 0 END DESC,
                                 MAX(x.event_time) DESC, r.id DESC
                    ) AS n
                    FROM {runs_table} r JOIN {io_table} x ON x.run_id = r.id
                    WHERE r.job_id {condition} AND r.project_id {projects} AND x.event_time <= %s
                    GROUP BY r.id, r.job_id, r.state, r.ended_at
                ) ranked WHERE n = 1
                """,  # noqa: S608 - table names come from the models, values are parameters
                [self.as_of, *params, *project_params, self.as_of],
            )
            for run, job in rows:
                self.chosen[job] = run
                fresh.append(run)
        for job in todo:
            self.chosen.setdefault(job, None)
        self._load_io(fresh)

    def neighbours_of_datasets(self, datasets: list[int]) -> set[int]:
        """Jobs whose run (as of then) read or wrote any of these datasets."""
        candidates: set[int] = set()
        projects, project_params = _ids_sql(self.projects)
        for chunk in _chunks(datasets):
            condition, params = _ids_sql(chunk)
            candidates.update(
                job
                for (job,) in _fetch(
                    f"SELECT DISTINCT r.job_id FROM {_table(LineageRunIO)} x "  # noqa: S608
                    f"JOIN {_table(LineageRun)} r ON r.id = x.run_id "
                    f"WHERE x.dataset_id {condition} AND x.event_time <= %s AND r.project_id {projects}",
                    [*params, self.as_of, *project_params],
                )
            )
        self._choose(candidates)
        wanted = set(datasets)
        return {
            job
            for job in candidates
            if self.chosen.get(job) is not None and any(d in wanted for d, _, _ in self.io[self.chosen[job]])
        }

    def neighbours_of_jobs(self, jobs: list[int]) -> set[int]:
        self._choose(set(jobs))
        return {d for job in jobs if self.chosen.get(job) is not None for d, _, _ in self.io[self.chosen[job]]}


def _walk_history(
    starts: list[LineageNode], max_hops: int, as_of: dt.datetime, runs: list[LineageRun], projects: list[int]
) -> tuple[dict[int, int], list[tuple]]:
    """Breadth first over the runs' recorded inputs and outputs as of `as_of`; returns the reached nodes
    and the (run, job, dataset, version, direction) rows of the edges between them."""
    history = _History(as_of, runs, projects)
    kinds = {node.pk: node.kind for node in starts}
    reached = dict.fromkeys(kinds, 0)
    frontier = list(kinds)
    for hop in range(1, max_hops + 1):
        if not frontier:
            break
        datasets = [n for n in frontier if kinds[n] == NodeKind.DATASET]
        jobs = [n for n in frontier if kinds[n] == NodeKind.JOB]
        found_jobs = history.neighbours_of_datasets(datasets) if datasets else set()
        found_datasets = history.neighbours_of_jobs(jobs) if jobs else set()
        kinds.update(dict.fromkeys(found_jobs, NodeKind.JOB))
        kinds.update(dict.fromkeys(found_datasets, NodeKind.DATASET))
        frontier = [n for n in found_jobs | found_datasets if n not in reached]
        reached.update(dict.fromkeys(frontier, hop))
    rows = []
    pinned = {run.pk for run in runs}
    # The pinned runs' rows last: where two runs name different versions of a dataset, the caller's run
    # decides which version the node shows.
    jobs = sorted(
        (n for n, kind in kinds.items() if kind == NodeKind.JOB and n in reached),
        key=lambda n: history.chosen.get(n) in pinned,
    )
    for job in jobs:
        run = history.chosen.get(job)
        if run is not None:
            rows += [(run, job, d, v, direction) for d, v, direction in history.io[run] if d in reached]
    return reached, rows


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
    rows = LineageDatasetVersion.objects.filter(dataset_id__in=_in(dataset_ids), event_time__lte=when).order_by(
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
        reached, io_rows = _walk_history(anchor.nodes, max_hops, when, anchor.runs, projects)
        edges = [(d, j) if direction == "in" else (j, d) for _, j, d, _, direction in io_rows]
        bound = {d: v for _, _, d, v, _ in io_rows if v is not None}
        runs = {j: r for r, j, _, _, _ in io_rows}
    else:
        reached, current_edges = _walk_current(starts, max_hops)
        edges = sorted(current_edges)
    nodes = {
        n.pk: n for n in LineageNode.objects.filter(pk__in=_in(reached)).select_related("current_version", "latest_run")
    }
    versions = {v.pk: v for v in LineageDatasetVersion.objects.filter(pk__in=_in(set(bound.values())))}
    if anchor.version:
        for pinned in LineageDatasetVersion.objects.filter(dataset__in=anchor.nodes, version=anchor.version):
            versions[pinned.pk] = pinned
            bound[pinned.dataset_id] = pinned.pk
    if historical:
        unbound = [pk for pk, n in nodes.items() if n.kind == NodeKind.DATASET and pk not in bound]
        for version in _versions_as_of(unbound, when):
            versions[version.pk] = version
            bound[version.dataset_id] = version.pk
    run_rows = {r.pk: r for r in LineageRun.objects.filter(pk__in=_in(set(runs.values())))} if runs else {}
    return {"graph": _merged(nodes, edges, bound, versions, runs, run_rows, historical)}


def _merged(nodes, edges, bound, versions, runs, run_rows, historical) -> list[dict[str, Any]]:
    """One entry per node identity: the same dataset reported by two of the caller's projects is one node."""
    groups: dict[str, list[LineageNode]] = defaultdict(list)
    identity: dict[str, dict[str, str]] = {}
    node_ids = {pk: node.node_id for pk, node in nodes.items()}
    for pk, node in nodes.items():
        groups[node_ids[pk]].append(node)
        identity[node_ids[pk]] = {"namespace": node.namespace, "name": node.name}
    out_edges: dict[str, set[str]] = defaultdict(set)
    in_edges: dict[str, set[str]] = defaultdict(set)
    for origin, destination in edges:
        out_edges[node_ids[origin]].add(node_ids[destination])
        in_edges[node_ids[destination]].add(node_ids[origin])
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
