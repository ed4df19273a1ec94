"""Queued registrations: creating the job, and the worker's run, which is safe to repeat."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from governance.audit import audited_atomic, record_event
from governance.context import Actor
from governance.errors import DomainError

from ..content import inspect_file
from ..models import RegistrationJob
from ..models.jobs import JobState
from ..storage import discard
from .job_support import MAX_ATTEMPTS, actor_for, claimable, heartbeat

if TYPE_CHECKING:
    from .intake import RegistrationRequest

logger = logging.getLogger(__name__)


def registration_job_create(
    *,
    actor: Actor,
    request: RegistrationRequest,
    file_path: Path,
    owns_file: bool,
    original_name: str,
    declared_format: str | None,
    byte_count: int,
    declared_fingerprint: str | None = None,
) -> RegistrationJob:
    """Queue a registration whose file is too large to inspect inside the request."""
    from ..tasks import run_registration_job

    with audited_atomic():
        job = RegistrationJob.objects.create(
            project=request.project,
            requested_by=actor.user,
            requested_via=actor.via[:64],
            request_id=actor.request_id[:64],
            payload=request.to_payload(),
            file_path=str(file_path),
            owns_file=owns_file,
            original_name=original_name,
            declared_format=declared_format or "",
            declared_fingerprint=declared_fingerprint or "",
            byte_count=byte_count,
        )
        record_event(
            actor=actor,
            action="registration.queued",
            obj=job,
            project=request.project,
            after={"dataset": request.dataset_name, "file": original_name, "byte_count": byte_count},
        )
        transaction.on_commit(lambda: run_registration_job.delay(str(job.pk)))
    return job


def _claim(job_id: str) -> RegistrationJob | None:
    """Mark a queued (or redelivered) job running; None when it is finished or another worker has it."""
    with transaction.atomic():
        job = RegistrationJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or not claimable(job):
            return None
        job.state = JobState.RUNNING
        job.attempts += 1
        job.started_at = job.heartbeat_at = timezone.now()
        job.save(update_fields=["state", "attempts", "started_at", "heartbeat_at"])
        return job


def registration_job_fail(
    job: RegistrationJob, error: dict, actor: Actor, *, unfinished: JobState = JobState.RUNNING
) -> None:
    """End a job still in the `unfinished` state as failed with the reason; a staged upload is deleted,
    a file read in place is not.

    A job that already ended (a late duplicate delivery), or moved on meanwhile, keeps its outcome.
    """
    with audited_atomic():
        ended = RegistrationJob.objects.filter(pk=job.pk, state=unfinished).update(
            state=JobState.FAILED, error=error, finished_at=timezone.now()
        )
        if not ended:
            return
        record_event(actor=actor, action="registration.failed", obj=job, project=job.project, after=error)
    if job.owns_file:
        discard(job.file_path)


def registration_job_run(*, job_id: str) -> RegistrationJob | None:
    """Inspect the job's file and register it; repeating a finished or half-finished run is harmless."""
    from .intake import RegistrationRequest, check_declared_fingerprint, register_facts, register_stored

    job = _claim(job_id)
    if job is None:
        return None
    actor = actor_for(job)
    if job.attempts > MAX_ATTEMPTS:
        registration_job_fail(job, {"detail": f"gave up after {MAX_ATTEMPTS} attempts (worker lost or crashed)"}, actor)
        job.refresh_from_db()
        return job
    request = RegistrationRequest.from_payload(job.project, job.payload)
    field_name = "file" if job.owns_file else "storage_uri"
    path = Path(job.file_path)
    try:
        if not path.exists():
            raise DomainError("the file to inspect is gone (already registered or cleaned up)", field=field_name)
        with heartbeat(RegistrationJob, job.pk):
            facts = inspect_file(path, declared_format=job.declared_format or None, field_name=field_name)
        check_declared_fingerprint(job.declared_fingerprint or None, facts.fingerprint)
        with audited_atomic():
            if job.owns_file:
                result = register_stored(actor=actor, request=request, facts=facts, staged=path)
            else:
                located = replace(facts, storage_uri=job.original_name)
                result = register_facts(actor=actor, request=request, facts=located)
            RegistrationJob.objects.filter(pk=job.pk, state=JobState.RUNNING).update(
                state=JobState.SUCCEEDED,
                version=result.version,
                version_created=result.created,
                error=None,
                finished_at=timezone.now(),
            )
    except DomainError as exc:
        registration_job_fail(job, exc.as_data(), actor)
    job.refresh_from_db()
    return job
