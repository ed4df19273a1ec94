"""Jobs no worker is on: re-queue them, or end them with the reason.

Two ways a job gets stuck: its worker died while running it (no heartbeat for REGISTRY_JOB_STALE_SECONDS),
or no worker ever started it (still queued after REGISTRY_JOB_QUEUED_STALE_SECONDS: the message was lost,
or no worker consumes the queue). Either blocks its version, so neither may last forever.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from governance.context import Actor

from ..models import RegistrationJob
from ..models.evaluations import Evaluation
from ..models.jobs import JobState
from .job_support import MAX_ATTEMPTS, stale_cutoff

logger = logging.getLogger(__name__)
EMBEDDED_REASON = (
    "the process running it stopped before it finished (embedded mode: there is no worker to hand it to); "
    "request it again"
)
EMBEDDED_QUEUED_REASON = (
    "the process that queued it stopped before starting it (embedded mode: there is no worker to hand it to); "
    "request it again"
)


def _stale_running(model, cutoff):
    return model.objects.filter(state=JobState.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )


def _stale_queued(model, cutoff):
    # heartbeat_at of a queued job is when the reaper last handed it to the broker again.
    return model.objects.filter(state=JobState.QUEUED).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    )


def _never_started_reason(seconds: int) -> str:
    return (
        f"no worker started it although it was queued again {MAX_ATTEMPTS} times, {seconds} s apart; "
        f"check that a worker consumes the queue '{settings.CELERY_TASK_DEFAULT_QUEUE}', then request it again"
    )


def _requeue(model, job, now) -> bool:
    """Count the hand-off, unless a worker claimed the job meanwhile (then there is nothing to do)."""
    return bool(
        model.objects.filter(pk=job.pk, state=JobState.QUEUED).update(requeues=F("requeues") + 1, heartbeat_at=now)
    )


def reap_stale_jobs(*, now=None) -> dict[str, int]:
    """Re-queue jobs no worker is on; after MAX_ATTEMPTS, or in embedded mode, end them as failed.

    Running jobs silent for REGISTRY_JOB_STALE_SECONDS are published again (the task fails them after
    MAX_ATTEMPTS claims); jobs still queued after REGISTRY_JOB_QUEUED_STALE_SECONDS are published again up
    to MAX_ATTEMPTS times, then failed. A task delivered twice runs once (see job_support.claimable).

    Without a broker, tasks run inside requests: a stale job's process is gone, and re-running it inline
    would stall whatever request found it, so it ends as failed with the reason instead.
    """
    from ..tasks import run_evaluation_task, run_registration_job
    from .evaluation_runs import evaluation_fail
    from .jobs import registration_job_fail

    now = now or timezone.now()
    running_cutoff = stale_cutoff(now)
    queued_seconds = settings.REGISTRY_JOB_QUEUED_STALE_SECONDS
    queued_cutoff = now - timedelta(seconds=queued_seconds)
    embedded = current_app.conf.task_always_eager
    kinds = [
        ("evaluations", Evaluation, "version__dataset__project", run_evaluation_task, evaluation_fail),
        ("registrations", RegistrationJob, "project", run_registration_job, registration_job_fail),
    ]
    counts = {}
    for label, model, related, task, fail in kinds:
        running = list(_stale_running(model, running_cutoff).select_related(related))
        queued = list(_stale_queued(model, queued_cutoff).select_related(related))
        for job in running:
            logger.warning("%s %s: no heartbeat since before %s", model.__name__, job.pk, running_cutoff.isoformat())
            if embedded:
                fail(job, {"detail": EMBEDDED_REASON}, Actor.system("reaper"))
            else:
                _publish(task, job.pk)
        for job in queued:
            logger.warning(
                "%s %s: queued, not started since before %s", model.__name__, job.pk, queued_cutoff.isoformat()
            )
            if embedded:
                fail(job, {"detail": EMBEDDED_QUEUED_REASON}, Actor.system("reaper"), unfinished=JobState.QUEUED)
            elif job.requeues >= MAX_ATTEMPTS:
                reason = {"detail": _never_started_reason(queued_seconds)}
                fail(job, reason, Actor.system("reaper"), unfinished=JobState.QUEUED)
            elif _requeue(model, job, now):
                _publish(task, job.pk)
        counts[label] = len(running) + len(queued)
    return counts


def _publish(task, pk) -> None:
    transaction.on_commit(lambda: task.delay(str(pk)))
