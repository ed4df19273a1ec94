"""Ingesting OpenLineage events: store each raw event once, then fold it into the lineage graph.

The raw event table is append-only and keyed by the event's canonical hash, so a client retrying a POST
stores nothing twice. Raw events are evidence in their own right and are not copied into the audit
trail; what they change in the registry (a version registered from the registry's facets) is audited
by the registration service like any other registration.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction

from governance.context import Actor
from governance.models import Project

from ..models import (
    ColumnLineage,
    LineageAdjacency,
    LineageDatasetVersion,
    LineageEvent,
    LineageNode,
    LineageNodeProject,
    LineageRun,
    LineageRunIO,
    NodeKind,
)
from .registry_link import register_from_event
from .validation import DatasetRef, ParsedEvent

TERMINAL = {"COMPLETE", "FAIL", "ABORT"}


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    registered: list[str] = field(default_factory=list)


def merge_facets(current: dict, incoming: dict) -> dict:
    """Marquez's semantics: a facet sent again replaces the old one; `_deleted: true` removes it."""
    merged = dict(current)
    for name, facet in (incoming or {}).items():
        if isinstance(facet, dict) and facet.get("_deleted") is True:
            merged.pop(name, None)
        else:
            merged[name] = facet
    return merged


def _node(
    kind: str, namespace: str, name: str, when: dt.datetime, facets: dict | None, touched: set[int]
) -> LineageNode:
    node, _ = LineageNode.objects.get_or_create(
        kind=kind, namespace=namespace, name=name, defaults={"created_at": when, "updated_at": when, "facets": {}}
    )
    merged = merge_facets(node.facets, facets or {})
    if merged != node.facets or when > node.updated_at:
        node.facets = merged
        node.updated_at = max(node.updated_at, when)
        node.save(update_fields=["facets", "updated_at"])
    touched.add(node.pk)
    return node


def _version(dataset: LineageNode, version: str, when: dt.datetime, facets: dict, run=None) -> LineageDatasetVersion:
    row, created = LineageDatasetVersion.objects.get_or_create(
        dataset=dataset, version=version, defaults={"event_time": when, "facets": facets, "run": run}
    )
    if not created and (facets or run):
        row.facets = merge_facets(row.facets, facets)
        row.run = row.run or run
        row.save(update_fields=["facets", "run"])
    current = dataset.current_version
    if current is None or current.event_time <= row.event_time:
        dataset.current_version = row
        dataset.save(update_fields=["current_version"])
    return row


def _version_as_of(dataset: LineageNode, when: dt.datetime) -> LineageDatasetVersion | None:
    return dataset.versions.filter(event_time__lte=when).order_by("-event_time", "-id").first()


def _derived_version(ref: DatasetRef, run_id: uuid.UUID) -> str:
    """A stable version for an output written by a run that named none (Marquez derives one per run too)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"openlineage:{ref.namespace}:{ref.name}:{run_id}"))


def _replace_adjacency(job: LineageNode, inputs: Iterable[LineageNode], outputs: Iterable[LineageNode]) -> None:
    LineageAdjacency.objects.filter(job=job).delete()
    rows = []
    for dataset in {d.pk: d for d in inputs}.values():
        rows += [
            LineageAdjacency(node=dataset, neighbor=job, direction="out", job=job),
            LineageAdjacency(node=job, neighbor=dataset, direction="in", job=job),
        ]
    for dataset in {d.pk: d for d in outputs}.values():
        rows += [
            LineageAdjacency(node=job, neighbor=dataset, direction="out", job=job),
            LineageAdjacency(node=dataset, neighbor=job, direction="in", job=job),
        ]
    LineageAdjacency.objects.bulk_create(rows, ignore_conflicts=True)


def _column_lineage(dataset: LineageNode, facets: dict, when: dt.datetime) -> None:
    fields = (facets.get("columnLineage") or {}).get("fields") or {}
    for output_field, spec in fields.items():
        if not isinstance(spec, dict):
            continue
        for source in spec.get("inputFields") or []:
            if not isinstance(source, dict) or not all(source.get(k) for k in ("namespace", "name", "field")):
                continue
            transformations = source.get("transformations") or []
            first = transformations[0] if transformations and isinstance(transformations[0], dict) else {}
            ColumnLineage.objects.update_or_create(
                dataset=dataset,
                field=output_field,
                input_namespace=source["namespace"],
                input_name=source["name"],
                input_field=source["field"],
                defaults={
                    "transformation_description": spec.get("transformationDescription") or first.get("description", ""),
                    "transformation_type": spec.get("transformationType") or first.get("type", ""),
                    "transformations": transformations,
                    "event_time": when,
                },
            )


def _apply_run_event(event: ParsedEvent, touched: set[int]) -> None:
    when = event.event_time
    job = _node(NodeKind.JOB, event.job_namespace, event.job_name, when, event.job_facets, touched)
    run, created = LineageRun.objects.select_for_update().get_or_create(
        run_id=event.run_id, defaults={"job": job, "first_event_time": when, "last_event_time": when}
    )
    if when >= run.last_event_time or created:
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

    inputs, outputs = [], []
    for direction, refs, bucket in (("in", event.inputs, inputs), ("out", event.outputs, outputs)):
        for ref in refs:
            dataset = _node(NodeKind.DATASET, ref.namespace, ref.name, when, ref.facets, touched)
            bucket.append(dataset)
            if direction == "out":
                version = _version(dataset, ref.version or _derived_version(ref, event.run_id), when, ref.facets, run)
                _column_lineage(dataset, ref.facets, when)
            elif ref.version:
                version = _version(dataset, ref.version, when, ref.facets)
            else:
                version = _version_as_of(dataset, when)
            LineageRunIO.objects.update_or_create(
                run=run,
                dataset=dataset,
                direction=direction,
                defaults={"dataset_version": version, "event_time": when},
            )
    if inputs or outputs:
        run.last_io_time = max(filter(None, [run.last_io_time, when]))
    run.save()
    latest = job.latest_run
    if latest is None or latest.pk == run.pk or run.last_event_time >= latest.last_event_time:
        job.latest_run = run
        job.save(update_fields=["latest_run"])
    newest_io = job.runs.exclude(last_io_time=None).order_by("-last_io_time").first()
    if newest_io is not None and newest_io.pk == run.pk:
        io = list(run.io.select_related("dataset"))
        _replace_adjacency(
            job, [r.dataset for r in io if r.direction == "in"], [r.dataset for r in io if r.direction == "out"]
        )


def _maybe_time(value) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _apply_job_event(event: ParsedEvent, touched: set[int]) -> None:
    when = event.event_time
    job = _node(NodeKind.JOB, event.job_namespace, event.job_name, when, event.job_facets, touched)
    nodes = {}
    for direction, refs in (("in", event.inputs), ("out", event.outputs)):
        nodes[direction] = [_node(NodeKind.DATASET, r.namespace, r.name, when, r.facets, touched) for r in refs]
    if nodes["in"] or nodes["out"]:
        _replace_adjacency(job, nodes["in"], nodes["out"])


def _apply_dataset_event(event: ParsedEvent, touched: set[int]) -> None:
    ref = event.dataset
    dataset = _node(NodeKind.DATASET, ref.namespace, ref.name, event.event_time, ref.facets, touched)
    if ref.version:
        _version(dataset, ref.version, event.event_time, ref.facets)


APPLY = {"RunEvent": _apply_run_event, "JobEvent": _apply_job_event, "DatasetEvent": _apply_dataset_event}


def ingest_events(*, actor: Actor, project: Project | None, events: list[ParsedEvent]) -> IngestResult:
    """Store new events (one transaction for the batch) and fold them into the graph in event-time order."""
    result = IngestResult()
    with transaction.atomic():
        known = set(
            LineageEvent.objects.filter(event_hash__in=[e.event_hash for e in events]).values_list(
                "event_hash", flat=True
            )
        )
        fresh: dict[str, ParsedEvent] = {}
        for event in events:
            if event.event_hash in known or event.event_hash in fresh:
                result.duplicates += 1
            else:
                fresh[event.event_hash] = event
        created = LineageEvent.objects.bulk_create(
            [
                LineageEvent(
                    event_hash=e.event_hash,
                    event_type=e.event_type,
                    state=e.state,
                    event_time=e.event_time,
                    run_id=e.run_id,
                    job_namespace=e.job_namespace,
                    job_name=e.job_name,
                    producer=e.producer[:2000],
                    schema_url=e.schema_url[:2000],
                    payload=e.payload,
                    project=project,
                )
                for e in fresh.values()
            ],
            ignore_conflicts=True,
        )
        result.stored = len(created)
        touched: set[int] = set()
        for event in sorted(fresh.values(), key=lambda e: e.event_time):
            APPLY[event.event_type](event, touched)
            # In the same transaction: a refused registration stores nothing, so the client's retry
            # is not mistaken for a duplicate.
            result.registered += register_from_event(actor=actor, project=project, event=event)
        if project is not None and touched:
            LineageNodeProject.objects.bulk_create(
                [LineageNodeProject(node_id=pk, project=project) for pk in touched], ignore_conflicts=True
            )
    return result
