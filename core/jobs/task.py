"""The one Celery task every job runs through."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .runner import run


@shared_task(
    name="core.run_job",
    # Acknowledged only after it returned: a worker killed mid-task hands the message back to the broker
    # (at once on RabbitMQ, after the visibility timeout on Redis); the claim makes a second delivery harmless.
    acks_late=True,
    reject_on_worker_lost=True,
    # The database went away: try again with backoff; the claim lets this process take its own job back.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def run_job(kind: str, job_id: str) -> str | None:
    """Run one attempt of a job of this kind; returns its state, or None when there was nothing to do."""
    job = run(kind, job_id)
    return job.state if job is not None else None
