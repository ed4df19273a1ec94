"""Jobs whose worker died without the broker redelivering them: re-queue them, or end them with the reason."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from governance.context import Actor

from ..models import RegistrationJob
from ..models.evaluations import Evaluation
from ..models.jobs import JobState

logger = logging.getLogger(__name__)
EMBEDDED_REASON = (
    "the process running it stopped before it finished (embedded mode: there is no worker to hand it to); "
    "request it again"
)


def _stale(model, cutoff):
    return model.objects.filter(state=JobState.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )


def reap_stale_jobs(*, now=None) -> dict[str, int]:
    """Re-queue running jobs silent for REGISTRY_JOB_STALE_SECONDS (the task fails them after 3 tries).

    Without a broker, tasks run inside requests: a stale job's process is gone, and re-running it inline
    would stall whatever request found it, so it ends as failed with the reason instead.
    """
    from ..tasks import run_evaluation_task, run_registration_job
    from .evaluation_runs import evaluation_fail
    from .jobs import registration_job_fail

    cutoff = (now or timezone.now()) - timedelta(seconds=settings.REGISTRY_JOB_STALE_SECONDS)
    evaluations = list(_stale(Evaluation, cutoff).select_related("version__dataset__project"))
    registrations = list(_stale(RegistrationJob, cutoff).select_related("project"))
    embedded = current_app.conf.task_always_eager
    for evaluation in evaluations:
        logger.warning("evaluation %s: no heartbeat since before %s", evaluation.pk, cutoff.isoformat())
        if embedded:
            evaluation_fail(evaluation, {"detail": EMBEDDED_REASON}, Actor.system("reaper"))
        else:
            transaction.on_commit(lambda pk=evaluation.pk: run_evaluation_task.delay(str(pk)))
    for job in registrations:
        logger.warning("registration job %s: no heartbeat since before %s", job.pk, cutoff.isoformat())
        if embedded:
            registration_job_fail(job, {"detail": EMBEDDED_REASON}, Actor.system("reaper"))
        else:
            transaction.on_commit(lambda pk=job.pk: run_registration_job.delay(str(pk)))
    return {"evaluations": len(evaluations), "registrations": len(registrations)}
