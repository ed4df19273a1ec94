"""Jobs whose worker died without the broker redelivering them: re-queue them, or fail them for good."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..models import RegistrationJob
from ..models.evaluations import Evaluation
from ..models.jobs import JobState

logger = logging.getLogger(__name__)


def reap_stale_jobs(*, now=None) -> dict[str, int]:
    """Re-queue running jobs silent for REGISTRY_JOB_STALE_SECONDS; the task itself fails them after 3 tries."""
    from ..tasks import run_evaluation_task, run_registration_job

    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.REGISTRY_JOB_STALE_SECONDS)
    stale_evaluations = list(
        Evaluation.objects.filter(state=JobState.RUNNING)
        .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff))
        .values_list("pk", flat=True)
    )
    stale_jobs = list(
        RegistrationJob.objects.filter(state=JobState.RUNNING, started_at__lt=cutoff).values_list("pk", flat=True)
    )
    for pk in stale_evaluations:
        logger.warning("evaluation %s: no heartbeat since before %s, re-queued", pk, cutoff.isoformat())
        transaction.on_commit(lambda pk=pk: run_evaluation_task.delay(str(pk)))
    for pk in stale_jobs:
        logger.warning("registration job %s: running since before %s, re-queued", pk, cutoff.isoformat())
        transaction.on_commit(lambda pk=pk: run_registration_job.delay(str(pk)))
    return {"evaluations": len(stale_evaluations), "registrations": len(stale_jobs)}
