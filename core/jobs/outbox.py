"""Enqueueing as a transactional outbox: the job row commits with the request's write; the hand-off to the
broker happens after the commit, and a hand-off that fails leaves the job queued for the reaper to retry.

A request that queued a job therefore answers 202 with it whatever the broker does, and a job is never lost.
In the embedded mode (no broker) the hand-off runs the job in-process.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from ..audit import record_event
from ..context import Actor
from ..models import Job, JobState
from .kinds import JobKind, kind_named
from .owner import this_process
from .task import run_job

logger = logging.getLogger(__name__)


def enqueue(kind: JobKind | str, job: Job, *, actor: Actor, details: dict[str, Any]) -> Job:
    """Save a new job as queued, audit the request, and publish it once the caller's transaction commits.

    Runs inside the caller's audited transaction (`audited_atomic`), which also writes what the job is about.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("enqueue must run inside the transaction that writes the job's request")
    kind = kind_named(kind)
    job.state, job.owner, job.queued_at = JobState.QUEUED, this_process(), timezone.now()
    job.requested_by = actor.user
    job.requested_via, job.request_id = actor.via[:64], actor.request_id[:64]
    job.save(force_insert=True)
    record_event(
        actor=actor,
        action=kind.requested_action or f"{kind.name}.requested",
        obj=job,
        project=kind.project(job),
        after=details,
    )
    pk = job.pk
    transaction.on_commit(lambda: publish(kind, pk), robust=True)
    return job


def publish(
    kind: JobKind | str, pk: Any, *, published_before: datetime | None = None, now: datetime | None = None
) -> bool:
    """Hand a queued job to the broker; True when handed. Only one process hands over a given job at a time:
    the job is marked first, and only if it was never handed over (or, with `published_before`, not since)."""
    kind = kind_named(kind)
    now = now or timezone.now()
    unpublished = Q(published_at__isnull=True)
    if published_before is not None:
        unpublished |= Q(published_at__lt=published_before)
    marked = kind.model.objects.filter(unpublished, pk=pk, state=JobState.QUEUED).update(
        published_at=now, publications=F("publications") + 1
    )
    if not marked:
        return False
    try:
        run_job.apply_async(args=[kind.name, str(pk)])
    except Exception as exc:  # the broker is unreachable: the job stays queued, the reaper hands it over later
        logger.warning("could not hand %s %s to the broker (%s); the reaper will retry", kind.name, pk, exc)
        kind.model.objects.filter(pk=pk, state=JobState.QUEUED, published_at=now).update(
            published_at=None, publications=F("publications") - 1
        )
        return False
    return True
