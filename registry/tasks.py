"""Celery tasks of the registry; each is a thin shell around a service that is safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError, transaction

from governance.context import Actor

from .models import RegistrationJob
from .models.jobs import JobState
from .services.jobs import registration_job_fail, registration_job_run

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def run_registration_job(self, job_id: str) -> str | None:
    """Fingerprint, inspect and register a queued upload."""
    try:
        job = registration_job_run(job_id=job_id)
    except OperationalError:
        raise  # the database went away: Celery retries with backoff
    except Exception as exc:
        # A bug or an unreadable file must end the job, not leave it "running" forever.
        logger.exception("registration job %s failed", job_id)
        with transaction.atomic():
            job = RegistrationJob.objects.select_for_update().filter(pk=job_id).first()
        if job is not None and job.state != JobState.SUCCEEDED:
            registration_job_fail(
                job, {"detail": f"internal error: {type(exc).__name__}: {exc}"}, Actor.system("worker")
            )
        return None
    return job.state if job else None
