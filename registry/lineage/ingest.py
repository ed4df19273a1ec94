"""Ingesting OpenLineage events: store each raw event once, then fold the batch into the lineage graph.

The raw event table is append-only and keyed by the event's canonical hash, so a client retrying a POST
stores nothing twice. Raw events are evidence in their own right and are not copied into the audit
trail; what they change in the registry (a version registered from the registry's facets) is audited
by the registration service like any other registration.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field

from django.db import OperationalError, transaction
from django.utils import timezone

from core.context import Actor
from core.models import Project

from ..models import LineageEvent
from .bulk import insert_rows
from .graph_writer import GraphWriter
from .registry_link import register_from_event
from .validation import LineageEventError, ParsedEvent

logger = logging.getLogger(__name__)


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    registered: list[str] = field(default_factory=list)


DEADLOCK_RETRIES = 3


def ingest_events(*, actor: Actor, project: Project, events: list[ParsedEvent], batch: bool = False) -> IngestResult:
    """Store new events and fold them into the graph, all in one transaction.

    Concurrent batches take their locks in one order, yet PostgreSQL's deferred foreign-key checks at
    commit can still cross two of them; the database then aborts one, which is simply run again.
    """
    retry = not transaction.get_connection().in_atomic_block
    for attempt in range(DEADLOCK_RETRIES + 1):
        try:
            return _ingest(actor=actor, project=project, events=events, batch=batch)
        except OperationalError as exc:
            if not retry or attempt == DEADLOCK_RETRIES or getattr(exc.__cause__, "sqlstate", None) != "40P01":
                raise
            logger.info("lineage batch deadlocked with another; retrying (attempt %s)", attempt + 2)
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))  # noqa: S311 - jitter, not security
    raise AssertionError("unreachable")


def _ingest(*, actor: Actor, project: Project, events: list[ParsedEvent], batch: bool) -> IngestResult:
    result = IngestResult()
    with transaction.atomic():
        known = set(
            LineageEvent.objects.filter(project=project, event_hash__in=[e.event_hash for e in events]).values_list(
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
        # The graph first: it takes the node locks that order concurrent batches; the raw events (in hash
        # order) after, so two batches holding the same event cannot wait on each other.
        GraphWriter(project, list(fresh.values())).apply()
        received_at = timezone.now()
        stored = insert_rows(
            LineageEvent,
            [
                {
                    "event_hash": e.event_hash,
                    "event_type": e.event_type,
                    "state": e.state,
                    "event_time": e.event_time,
                    "run_id": e.run_id,
                    "job_namespace": e.job_namespace,
                    "job_name": e.job_name,
                    "producer": e.producer[:2000],
                    "schema_url": e.schema_url[:2000],
                    "payload": e.payload,
                    "project_id": project.pk,
                    "received_at": received_at,
                }
                for e in sorted(fresh.values(), key=lambda e: e.event_hash)
            ],
            conflict=["project_id", "event_hash"],
            returning=["event_hash"],
        )
        result.stored = len(stored)
        result.duplicates += len(fresh) - len(stored)

        # In the same transaction: a refused registration stores nothing, so the client's retry is not
        # mistaken for a duplicate.
        position = {id(e): index for index, e in enumerate(events)}
        for event in sorted(fresh.values(), key=lambda e: e.event_time):
            try:
                result.registered += register_from_event(actor=actor, project=project, event=event)
            except LineageEventError as exc:
                if batch:
                    exc.index = position[id(event)]
                raise
    return result
