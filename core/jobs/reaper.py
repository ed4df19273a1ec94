"""Jobs nobody is on: hand queued ones to the broker, take back running ones whose worker is gone, and end with
the reason those that can never run. Safe to run in many processes at once: every step is a conditional update.

Workers run it at start and every REGISTRY_JOB_REAP_SECONDS (core.jobs.worker), so no other process is
needed; `manage.py reap_stale_jobs` runs it once (`make run` does before serving).

Without a broker (the embedded mode) jobs run inside the process that queued them, so there is no worker to
hand a job to: a job whose process is gone ends as failed, with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from ..context import Actor
from ..models import JobState
from . import state
from .kinds import JobKind, kind_named, registered_kinds
from .outbox import publish
from .owner import not_working_on, process_gone

logger = logging.getLogger(__name__)

EMBEDDED_REASON = (
    "the process running it stopped before it finished (embedded mode: there is no worker to hand it to); "
    "request it again"
)
EMBEDDED_QUEUED_REASON = (
    "the process that queued it stopped before starting it (embedded mode: there is no worker to hand it to); "
    "request it again"
)
# A new job is handed over by the process that queued it, right after its commit; the reaper steps in when
# that did not happen within this time (the broker was down, or the process died).
PUBLISH_GRACE = timedelta(seconds=10)


def _never_started_reason(seconds: int) -> str:
    return (
        f"no worker started it although it was handed to the broker {state.max_attempts()} times, {seconds} s apart; "
        f"check that a worker consumes the queue '{settings.CELERY_TASK_DEFAULT_QUEUE}', then request it again"
    )


def _workers_busy(now: datetime) -> bool:
    """Whether some worker is alive and busy: a job of any kind beat its heart recently."""
    cutoff = state.stale_cutoff(now)
    return any(
        kind.model.objects.filter(state=JobState.RUNNING, heartbeat_at__gte=cutoff).exists()
        for kind in registered_kinds()
    )


def _reap_running(kind: JobKind, now: datetime, embedded: bool) -> int:
    acted = 0
    for job in kind.model.objects.filter(state=JobState.RUNNING).select_related(*kind.related):
        if not state.is_dead(kind, job, now):
            continue
        if process_gone(job.owner):
            why = f"its process {job.owner} is gone"
        elif not_working_on(job.owner, kind.name, str(job.pk)):
            why = f"its process {job.owner} no longer runs it"
        else:
            why = f"no heartbeat since {job.heartbeat_at or job.started_at}"
        logger.warning("%s %s (attempt %s): %s", kind.name, job.pk, job.attempts, why)
        if embedded:
            done = state.fail(kind, job, {"detail": EMBEDDED_REASON}, Actor.system("reaper"), attempt=job.attempts)
        elif job.attempts >= state.max_attempts():
            reason = f"gave up after {job.attempts} attempts (its worker was lost each time; the last time {why})"
            done = state.fail(kind, job, {"detail": reason}, Actor.system("reaper"), attempt=job.attempts)
        else:
            done = state.requeue(kind, job, reason=f"worker lost: {why}")
            if done is not None:
                publish(kind, job.pk, now=now)
        acted += done is not None
    return acted


def _reap_queued(kind: JobKind, now: datetime, embedded: bool) -> int:
    stale_seconds = settings.REGISTRY_JOB_QUEUED_STALE_SECONDS
    stale = now - timedelta(seconds=stale_seconds)
    waiting = Q(published_at__isnull=True) | Q(published_at__lt=stale)
    acted = 0
    for job in kind.model.objects.filter(waiting, state=JobState.QUEUED).select_related(*kind.related):
        orphaned = process_gone(job.owner)
        if embedded:
            if orphaned or job.queued_at < stale:
                failed = state.fail(
                    kind, job, {"detail": EMBEDDED_QUEUED_REASON}, Actor.system("reaper"), states=(JobState.QUEUED,)
                )
                acted += failed is not None
            continue
        if job.published_at is None:
            if orphaned or job.queued_at < now - PUBLISH_GRACE:
                acted += publish(kind, job.pk, now=now)
            continue
        # Handed over long ago and never started: the message was lost, or no worker consumes the queue.
        if job.publications >= state.max_attempts() and not _workers_busy(now):
            reason = {"detail": _never_started_reason(stale_seconds)}
            acted += state.fail(kind, job, reason, Actor.system("reaper"), states=(JobState.QUEUED,)) is not None
        else:
            logger.warning(
                "%s %s: queued, not started since %s; handing it over again",
                kind.name,
                job.pk,
                job.published_at.isoformat(),
            )
            acted += publish(kind, job.pk, published_before=stale, now=now)
    return acted


def reap(*, now: datetime | None = None, kinds: Iterable[JobKind | str] | None = None) -> dict[str, int]:
    """One pass over every job kind (or those named); returns how many jobs of each kind it acted on."""
    now = now or timezone.now()
    embedded = bool(current_app.conf.task_always_eager)
    counts = {}
    for kind in [kind_named(k) for k in kinds] if kinds is not None else registered_kinds():
        counts[kind.name] = _reap_running(kind, now, embedded) + _reap_queued(kind, now, embedded)
    return counts
