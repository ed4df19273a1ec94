"""Folding a batch of OpenLineage events into the graph with a handful of bulk queries, not a few per event.

Nodes, runs and versions the batch mentions are read once, changed in memory in event-time order, and
written back in bulk at the end: the cost per event is Python work, not database round trips.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict

from django.db.models import Q

from ..models import (
    ColumnLineage,
    LineageAdjacency,
    LineageDatasetVersion,
    LineageNode,
    LineageRun,
    LineageRunIO,
    NodeKind,
)
from .bulk import bulk_update_values, insert_rows, instance_row
from .validation import DatasetRef, ParsedEvent

TERMINAL = {"COMPLETE", "FAIL", "ABORT"}
NodeKey = tuple[str, str, str]


def merge_facets(current: dict, incoming: dict) -> dict:
    """Marquez's semantics: a facet sent again replaces the old one; `_deleted: true` removes it."""
    merged = dict(current)
    for name, facet in (incoming or {}).items():
        if isinstance(facet, dict) and facet.get("_deleted") is True:
            merged.pop(name, None)
        else:
            merged[name] = facet
    return merged


def derived_version(ref: DatasetRef, run_id: uuid.UUID) -> str:
    """A stable version for an output written by a run that named none (Marquez derives one per run too)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"openlineage:{ref.namespace}:{ref.name}:{run_id}"))


def edge_rank(run: LineageRun) -> tuple[bool, dt.datetime]:
    """Which run's inputs and outputs a job shows: its newest completed run, else its newest run.

    A new run that has only started (or failed) does not cut the job off from what its last successful
    run wrote; once it completes, its inputs and outputs replace the old ones.
    """
    return (run.state == "COMPLETE", run.last_io_time)


def _maybe_time(value) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class GraphWriter:
    """Applies events to in-memory copies of the rows they touch; `flush()` writes everything."""

    def __init__(self, project, events: list[ParsedEvent]):
        self.project = project
        self.events = sorted(events, key=lambda e: e.event_time)
        self.nodes: dict[NodeKey, LineageNode] = {}
        self.dirty_nodes: set[NodeKey] = set()
        self.runs: dict[uuid.UUID, LineageRun] = {}
        self.new_runs: set[uuid.UUID] = set()
        self.versions: dict[tuple[NodeKey, str], LineageDatasetVersion] = {}
        self.new_versions: list[tuple[NodeKey, str]] = []
        self.dirty_versions: set[tuple[NodeKey, str]] = set()
        self.io: dict[tuple[uuid.UUID, NodeKey, str], tuple[tuple[NodeKey, str] | None, dt.datetime]] = {}
        # When each run input/output row was first named (stored rows of older runs, then this batch's).
        self.io_seen: dict[tuple[uuid.UUID, NodeKey, str], dt.datetime] = {}
        self.columns: dict[tuple, dict] = {}
        self.columns_replaced: set[NodeKey] = set()  # datasets whose columnLineage facet was (re)sent
        self.static_edges: dict[NodeKey, tuple[list[NodeKey], list[NodeKey]]] = {}
        self.current: dict[NodeKey, tuple[str, dt.datetime]] = {}  # dataset -> (version, time)
        self.latest_run: dict[NodeKey, uuid.UUID] = {}
        self.edges_run: dict[NodeKey, LineageRun] = {}

    # --- loading ------------------------------------------------------------------------------
    def _keys(self) -> set[NodeKey]:
        keys: set[NodeKey] = set()
        for event in self.events:
            if event.event_type == "DatasetEvent":
                keys.add((NodeKind.DATASET, event.dataset.namespace, event.dataset.name))
                continue
            keys.add((NodeKind.JOB, event.job_namespace, event.job_name))
            keys.update((NodeKind.DATASET, r.namespace, r.name) for r in [*event.inputs, *event.outputs])
        return keys

    def _load(self) -> None:
        keys = self._keys()
        first_seen = {}
        for event in self.events:
            for key in self._event_keys(event):
                first_seen.setdefault(key, event.event_time)
        # Concurrent batches must take row locks in one global order or they deadlock: insert every key
        # (existing ones are skipped without a lock) and then lock them all, both in key order.
        insert_rows(
            LineageNode,
            [
                {
                    "project_id": self.project.pk,
                    "kind": k[0],
                    "namespace": k[1],
                    "name": k[2],
                    "facets": {},
                    "created_at": first_seen[k],
                    "updated_at": first_seen[k],
                }
                for k in sorted(keys)
            ],
            conflict=["project_id", "kind", "namespace", "name"],
        )
        self._fetch_nodes(keys)
        run_ids = {e.run_id for e in self.events if e.run_id is not None}
        self.runs = {
            r.run_id: r
            for r in LineageRun.objects.filter(project=self.project, run_id__in=run_ids).select_related("job")
        }
        self._fetch_versions()
        for node in self.nodes.values():
            if node.current_version is not None:
                key = (node.kind, node.namespace, node.name)
                self.current[key] = (node.current_version.version, node.current_version.event_time)
                # An input that names no version binds to this one: it must be the stored row, facets and all.
                self.versions.setdefault((key, node.current_version.version), node.current_version)
        self._fetch_io()

    def _fetch_io(self) -> None:
        """When runs that existed before this batch first named each of their inputs and outputs."""
        known = {run.pk: run.run_id for run in self.runs.values()}
        if not known:
            return
        keys = {node.pk: key for key, node in self.nodes.items()}
        rows = LineageRunIO.objects.filter(run_id__in=known, dataset_id__in=keys).values_list(
            "run_id", "dataset_id", "direction", "event_time"
        )
        for run_pk, dataset_pk, direction, when in rows:
            self.io_seen[(known[run_pk], keys[dataset_pk], direction)] = when

    def _fetch_versions(self) -> None:
        """Every dataset version the batch names (or derives for outputs), in one query."""
        wanted: set[tuple[NodeKey, str]] = set()
        for event in self.events:
            if event.event_type == "DatasetEvent":
                if event.dataset.version:
                    wanted.add(((NodeKind.DATASET, event.dataset.namespace, event.dataset.name), event.dataset.version))
                continue
            for ref in event.inputs:
                if ref.version:
                    wanted.add(((NodeKind.DATASET, ref.namespace, ref.name), ref.version))
            for ref in event.outputs:
                if event.run_id is not None:
                    version = ref.version or derived_version(ref, event.run_id)
                    wanted.add(((NodeKind.DATASET, ref.namespace, ref.name), version))
        if not wanted:
            return
        by_pk = {self.nodes[k].pk: k for k, _ in wanted}
        rows = LineageDatasetVersion.objects.filter(
            dataset_id__in=by_pk, version__in={version for _, version in wanted}
        )
        for row in rows:
            key = by_pk[row.dataset_id]
            if (key, row.version) in wanted:
                self.versions[(key, row.version)] = row

    def _event_keys(self, event: ParsedEvent) -> list[NodeKey]:
        if event.event_type == "DatasetEvent":
            return [(NodeKind.DATASET, event.dataset.namespace, event.dataset.name)]
        return [(NodeKind.JOB, event.job_namespace, event.job_name)] + [
            (NodeKind.DATASET, r.namespace, r.name) for r in [*event.inputs, *event.outputs]
        ]

    def _fetch_nodes(self, keys: set[NodeKey]) -> None:
        by_kind: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for kind, namespace, name in keys:
            by_kind[kind].add((namespace, name))
        condition = Q(pk__in=[])
        for kind, identities in by_kind.items():
            namespaces = {ns for ns, _ in identities}
            names = {n for _, n in identities}
            condition |= Q(kind=kind, namespace__in=namespaces, name__in=names)
        # Locked in key order (the order they were inserted in): concurrent batches touching the same nodes
        # queue instead of losing each other's facets.
        locked = (
            LineageNode.objects.filter(condition, project=self.project)
            .select_for_update(of=("self",))
            .order_by("kind", "namespace", "name")
        )
        for node in locked.select_related("current_version", "latest_run", "edges_run"):
            key = (node.kind, node.namespace, node.name)
            if key in keys:
                self.nodes[key] = node

    # --- applying -----------------------------------------------------------------------------
    def _touch(self, key: NodeKey, when: dt.datetime, facets: dict | None) -> LineageNode:
        node = self.nodes[key]
        merged = merge_facets(node.facets, facets or {})
        if merged != node.facets or when > node.updated_at:
            node.facets = merged
            node.updated_at = max(node.updated_at, when)
            self.dirty_nodes.add(key)
        return node

    def _version(self, key: NodeKey, version: str, when: dt.datetime, facets: dict, run=None) -> tuple:
        vkey = (key, version)
        row = self.versions.get(vkey)
        if row is None:
            row = LineageDatasetVersion(dataset=self.nodes[key], version=version, event_time=when, facets={})
            self.new_versions.append(vkey)
            self.versions[vkey] = row
        merged = merge_facets(row.facets, facets)
        if merged != row.facets:
            row.facets = merged
            self.dirty_versions.add(vkey)
        if run is not None and row.run_id is None:
            row.run = run
            self.dirty_versions.add(vkey)
        current = self.current.get(key)
        if current is None or current[1] <= row.event_time:
            self.current[key] = (version, row.event_time)
            self.dirty_nodes.add(key)
        return vkey

    def _version_as_of(self, key: NodeKey, when: dt.datetime) -> tuple | None:
        current = self.current.get(key)
        if current is None:
            return None  # the dataset has no version at all (current_version follows the newest one)
        if current[1] <= when:
            return self._version(key, current[0], when, {})
        # The newest version is newer than this event (events arrived out of order): look back.
        row = (
            LineageDatasetVersion.objects.filter(dataset=self.nodes[key], event_time__lte=when)
            .order_by("-event_time", "-id")
            .first()
        )
        if row is None:
            return None
        self.versions.setdefault((key, row.version), row)
        return (key, row.version)

    def _run(self, event: ParsedEvent, job_key: NodeKey) -> LineageRun:
        run = self.runs.get(event.run_id)
        when = event.event_time
        if run is None:
            run = LineageRun(
                project=self.project,
                run_id=event.run_id,
                job=self.nodes[job_key],
                first_event_time=when,
                last_event_time=when,
                facets={},
            )
            self.runs[event.run_id] = run
            self.new_runs.add(event.run_id)
            run.state = event.state
        elif when >= run.last_event_time:
            run.state = event.state
        if event.state == "START":
            run.started_at = min(filter(None, [run.started_at, when]))
        if event.state in TERMINAL:
            run.ended_at = max(filter(None, [run.ended_at, when]))
        nominal = event.run_facets.get("nominalTime") or {}
        if isinstance(nominal, dict):
            run.nominal_start_time = _maybe_time(nominal.get("nominalStartTime")) or run.nominal_start_time
            run.nominal_end_time = _maybe_time(nominal.get("nominalEndTime")) or run.nominal_end_time
        run.first_event_time = min(run.first_event_time, when)
        run.last_event_time = max(run.last_event_time, when)
        run.facets = merge_facets(run.facets, event.run_facets)
        return run

    def _columns(self, key: NodeKey, facets: dict, when: dt.datetime) -> None:
        """The output's column lineage is what its newest `columnLineage` facet says, nothing older."""
        if "columnLineage" not in (facets or {}):
            return
        self.columns_replaced.add(key)
        for stale in [k for k in self.columns if k[0] == key]:
            del self.columns[stale]
        facet = facets.get("columnLineage")
        fields = (facet.get("fields") or {}) if isinstance(facet, dict) and facet.get("_deleted") is not True else {}
        for output_field, spec in fields.items():
            if not isinstance(spec, dict):
                continue
            for source in spec.get("inputFields") or []:
                if not isinstance(source, dict) or not all(source.get(k) for k in ("namespace", "name", "field")):
                    continue
                transformations = source.get("transformations") or []
                first = transformations[0] if transformations and isinstance(transformations[0], dict) else {}
                self.columns[(key, output_field, source["namespace"], source["name"], source["field"])] = {
                    "transformation_description": spec.get("transformationDescription") or first.get("description", ""),
                    "transformation_type": spec.get("transformationType") or first.get("type", ""),
                    "transformations": transformations,
                    "event_time": when,
                }

    def _apply_run(self, event: ParsedEvent) -> None:
        when = event.event_time
        job_key = (NodeKind.JOB, event.job_namespace, event.job_name)
        self._touch(job_key, when, event.job_facets)
        run = self._run(event, job_key)
        for direction, refs in (("in", event.inputs), ("out", event.outputs)):
            for ref in refs:
                key = (NodeKind.DATASET, ref.namespace, ref.name)
                self._touch(key, when, ref.facets)
                if direction == "out":
                    vkey = self._version(key, ref.version or derived_version(ref, event.run_id), when, ref.facets, run)
                    self._columns(key, ref.facets, when)
                elif ref.version:
                    vkey = self._version(key, ref.version, when, ref.facets)
                else:
                    vkey = self._version_as_of(key, when)
                # The row keeps when an event first named it, so `asOf` sees a run from its START on.
                io_key = (run.run_id, key, direction)
                first = min(filter(None, [self.io_seen.get(io_key), when]))
                self.io_seen[io_key] = first
                self.io[io_key] = (vkey, first)
        if event.inputs or event.outputs:
            run.last_io_time = max(filter(None, [run.last_io_time, when]))
        current = self.edges_run.get(job_key) or self.nodes[job_key].edges_run
        current = self.runs.get(current.run_id, current) if current is not None else None
        if run.last_io_time is not None and (
            current is None or current.run_id == run.run_id or edge_rank(run) >= edge_rank(current)
        ):
            self.edges_run[job_key] = run
        job = self.nodes[job_key]
        latest_run = self.runs[self.latest_run[job_key]] if job_key in self.latest_run else job.latest_run
        if latest_run is None or latest_run.run_id == run.run_id or run.last_event_time >= latest_run.last_event_time:
            self.latest_run[job_key] = run.run_id
            self.dirty_nodes.add(job_key)

    def _apply_job(self, event: ParsedEvent) -> None:
        job_key = (NodeKind.JOB, event.job_namespace, event.job_name)
        self._touch(job_key, event.event_time, event.job_facets)
        inputs = [(NodeKind.DATASET, r.namespace, r.name) for r in event.inputs]
        outputs = [(NodeKind.DATASET, r.namespace, r.name) for r in event.outputs]
        for ref in [*event.inputs, *event.outputs]:
            self._touch((NodeKind.DATASET, ref.namespace, ref.name), event.event_time, ref.facets)
        if inputs or outputs:
            self.static_edges[job_key] = (inputs, outputs)

    def _apply_dataset(self, event: ParsedEvent) -> None:
        ref = event.dataset
        key = (NodeKind.DATASET, ref.namespace, ref.name)
        self._touch(key, event.event_time, ref.facets)
        if ref.version:
            self._version(key, ref.version, event.event_time, ref.facets)

    # --- writing ------------------------------------------------------------------------------
    def apply(self) -> set[int]:
        """Apply every event and write the result; returns the ids of the nodes the batch mentioned."""
        self._load()
        handlers = {"RunEvent": self._apply_run, "JobEvent": self._apply_job, "DatasetEvent": self._apply_dataset}
        for event in self.events:
            handlers[event.event_type](event)
        self._flush()
        return {self.nodes[k].pk for k in self._keys()}

    def _flush(self) -> None:
        new_runs = [self.runs[r] for r in sorted(self.new_runs)]
        old_runs = [self.runs[r] for r in sorted(self.runs) if r not in self.new_runs]
        run_fields = [
            "state",
            "started_at",
            "ended_at",
            "nominal_start_time",
            "nominal_end_time",
            "first_event_time",
            "last_event_time",
            "last_io_time",
            "facets",
        ]
        if new_runs:
            # A run's START and COMPLETE may arrive in parallel requests: the later write wins.
            written = insert_rows(
                LineageRun,
                [instance_row(run) for run in new_runs],
                conflict=["project_id", "run_id"],
                update=run_fields,
                returning=["id", "run_id"],
            )
            for pk, run_id in written:
                self.runs[run_id].pk = pk
        if old_runs:
            bulk_update_values(LineageRun, old_runs, run_fields)
        if self.new_versions:
            rows = [instance_row(self.versions[vkey]) for vkey in sorted(self.new_versions)]
            keys = {self.nodes[key].pk: key for key, _ in self.new_versions}
            written = insert_rows(
                LineageDatasetVersion,
                rows,
                conflict=["dataset_id", "version"],
                update=["facets"],
                returning=["id", "dataset_id", "version"],
            )
            for pk, dataset_id, version in written:
                self.versions[(keys[dataset_id], version)].pk = pk
        new_versions = set(self.new_versions)
        changed_versions = [self.versions[k] for k in sorted(self.dirty_versions - new_versions)]
        if changed_versions:
            bulk_update_values(LineageDatasetVersion, changed_versions, ["facets", "run"])
        if self.io:
            insert_rows(
                LineageRunIO,
                [
                    {
                        "run_id": self.runs[run_id].pk,
                        "dataset_id": self.nodes[key].pk,
                        "direction": direction,
                        "dataset_version_id": self.versions[vkey].pk if vkey else None,
                        "event_time": when,
                    }
                    for (run_id, key, direction), (vkey, when) in sorted(self.io.items())
                ],
                conflict=["run_id", "dataset_id", "direction"],
                update=["dataset_version_id", "event_time"],
            )
        self._flush_columns()
        self._flush_nodes()
        self._flush_adjacency()

    def _key(self, node: LineageNode) -> NodeKey:
        return (node.kind, node.namespace, node.name)

    def _flush_columns(self) -> None:
        if self.columns_replaced:
            ColumnLineage.objects.filter(dataset__in=[self.nodes[k] for k in sorted(self.columns_replaced)]).delete()
        if not self.columns:
            return
        insert_rows(
            ColumnLineage,
            [
                {
                    "dataset_id": self.nodes[key].pk,
                    "field": field,
                    "input_namespace": namespace,
                    "input_name": name,
                    "input_field": input_field,
                    **values,
                }
                for (key, field, namespace, name, input_field), values in sorted(self.columns.items())
            ],
            conflict=["dataset_id", "field", "input_namespace", "input_name", "input_field"],
            update=["transformation_description", "transformation_type", "transformations", "event_time"],
        )

    def _flush_nodes(self) -> None:
        for key in self.dirty_nodes:
            node = self.nodes[key]
            if key in self.current:
                version, _ = self.current[key]
                node.current_version = self.versions.get((key, version)) or node.current_version
            if key in self.latest_run:
                node.latest_run = self.runs[self.latest_run[key]]
        for key, run in self.edges_run.items():
            self.nodes[key].edges_run = run
            self.dirty_nodes.add(key)
        if self.dirty_nodes:
            bulk_update_values(
                LineageNode,
                [self.nodes[k] for k in sorted(self.dirty_nodes)],
                ["facets", "updated_at", "current_version", "latest_run", "edges_run"],
            )

    def _flush_adjacency(self) -> None:
        """A job's current edges are the inputs and outputs of its newest run that named any."""
        edges: dict[NodeKey, tuple[list[int], list[int]]] = {}
        io_by_run: dict[uuid.UUID, tuple[set[int], set[int]]] = defaultdict(lambda: (set(), set()))
        older = [run for run in self.edges_run.values() if run.run_id not in self.new_runs]
        # Runs that existed before this batch may have inputs or outputs from earlier batches.
        stored = LineageRunIO.objects.filter(run__in=[run.pk for run in older]).values_list(
            "run__run_id", "dataset_id", "direction"
        )
        for run_id, dataset_id, direction in stored if older else []:
            io_by_run[run_id][0 if direction == "in" else 1].add(dataset_id)
        for (run_id, key, direction), _ in self.io.items():
            io_by_run[run_id][0 if direction == "in" else 1].add(self.nodes[key].pk)
        for job_key, run in self.edges_run.items():
            inputs, outputs = io_by_run[run.run_id]
            edges[job_key] = (sorted(inputs), sorted(outputs))
        for job_key, (inputs, outputs) in self.static_edges.items():
            edges.setdefault(job_key, ([self.nodes[k].pk for k in inputs], [self.nodes[k].pk for k in outputs]))
        if not edges:
            return
        jobs = [self.nodes[k] for k in sorted(edges)]
        LineageAdjacency.objects.filter(job__in=jobs).delete()
        rows = set()
        for job_key, (inputs, outputs) in edges.items():
            job = self.nodes[job_key].pk
            for dataset in inputs:
                rows |= {(dataset, job, "out", job), (job, dataset, "in", job)}
            for dataset in outputs:
                rows |= {(job, dataset, "out", job), (dataset, job, "in", job)}
        insert_rows(
            LineageAdjacency,
            [
                {"node_id": node, "neighbor_id": neighbor, "direction": direction, "job_id": job}
                for node, neighbor, direction, job in sorted(rows)
            ],
            conflict=["node_id", "neighbor_id", "direction"],
        )
