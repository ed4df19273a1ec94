"""Ingesting OpenLineage events: store each raw event once, then fold the batch into the lineage graph.

The raw event table is append-only and keyed by the event's canonical hash, so a client retrying a POST
stores nothing twice. Raw events are evidence in their own right and are not copied into the audit
trail; what they change in the registry (a version registered from the registry's facets) is audited
by the registration service like any other registration.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from governance.context import Actor
from governance.models import Project

from ..models import LineageEvent
from .graph_writer import GraphWriter
from .registry_link import register_from_event
from .validation import ParsedEvent


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    registered: list[str] = field(default_factory=list)


def ingest_events(*, actor: Actor, project: Project, events: list[ParsedEvent]) -> IngestResult:
    """Store new events and fold them into the graph, all in one transaction."""
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
        if not fresh:
            return result
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
        GraphWriter(project, list(fresh.values())).apply()
        # In the same transaction: a refused registration stores nothing, so the client's retry is not
        # mistaken for a duplicate.
        for event in sorted(fresh.values(), key=lambda e: e.event_time):
            result.registered += register_from_event(actor=actor, project=project, event=event)
    return result
