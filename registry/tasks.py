"""Celery tasks of the registry; each is a thin shell around a service that is safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.db import OperationalError

from governance.context import Actor

from .models import RegistrationJob
from .models.evaluations import Evaluation
from .models.jobs import JobState

logger = logging.getLogger(__name__)

# Late acknowledgement: a message is acked only after the task returned, so a worker killed mid-task
# hands it to another worker; the services make the second run harmless.
TASK_OPTIONS = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "max_retries": 3,
}


def _internal_error(exc: Exception) -> dict:
    return {"detail": f"internal error: {type(exc).__name__}: {exc}"}


@shared_task(**TASK_OPTIONS)
def run_registration_job(self, job_id: str) -> str | None:
    """Fingerprint, inspect and register a queued upload."""
    from .services.jobs import registration_job_fail, registration_job_run

    try:
        job = registration_job_run(job_id=job_id)
    except OperationalError:
        raise  # the database went away: Celery retries with backoff
    except Exception as exc:
        # A bug or an unreadable file must end the job, not leave it "running" forever.
        logger.exception("registration job %s failed", job_id)
        job = RegistrationJob.objects.filter(pk=job_id).first()
        if job is not None and job.state == JobState.RUNNING:
            registration_job_fail(job, _internal_error(exc), Actor.system("worker"))
        return None
    return job.state if job else None


@shared_task(**TASK_OPTIONS)
def run_evaluation_task(self, evaluation_id: str) -> str | None:
    """Run a verified evaluation."""
    from .services.evaluation_runs import evaluation_fail, evaluation_run

    try:
        evaluation = evaluation_run(evaluation_id=evaluation_id)
    except OperationalError:
        raise
    except Exception as exc:
        logger.exception("evaluation %s failed", evaluation_id)
        evaluation = Evaluation.objects.select_related("version__dataset__project").filter(pk=evaluation_id).first()
        if evaluation is not None and evaluation.state == JobState.RUNNING:
            evaluation_fail(evaluation, _internal_error(exc))
        return None
    return evaluation.state if evaluation else None


@shared_task
def reap_stale_jobs_task() -> dict:
    """Periodic (Celery beat) and at worker start: re-queue jobs whose worker died."""
    from .services.reaper import reap_stale_jobs

    return reap_stale_jobs()


@worker_ready.connect
def _reap_on_worker_start(sender=None, **kwargs) -> None:
    # A restarted worker is the most likely moment to find jobs its predecessor left running.
    reap_stale_jobs_task.delay()


@shared_task(acks_late=True)
def send_lineage_outbox(limit: int = 200) -> dict:
    """Send the registry's due OpenLineage events (after each change, and every minute for retries)."""
    from .lineage.emit import send_outbox

    return send_outbox(limit=limit)
