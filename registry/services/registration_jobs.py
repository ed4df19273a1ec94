"""Registrations of large files as a kind of job: a worker fingerprints and inspects the file, then registers it.

The job framework (core.jobs) claims, beats, finishes, fails and reaps; this module supplies the work and the
success step. Repeating a finished or half-finished run is harmless: registration is idempotent on the bytes.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from core.context import Actor
from core.errors import DomainError
from core.jobs import JobKind, JobRun

from ..content import ContentFacts, inspect_file
from ..models import RegistrationJob
from ..storage import discard
from .intake import (
    RegistrationRequest,
    check_declared_fingerprint,
    dataset_version_register_facts,
    dataset_version_register_stored,
)
from .registration import checked_constraints


class RegistrationJobKind(JobKind):
    """A registration whose file was too large to inspect inside the request."""

    name = "registration"
    model = RegistrationJob
    requested_action = "registration.queued"
    related = ("project",)
    first_step = "inspecting the file"

    def work(self, run: JobRun) -> ContentFacts:
        job: RegistrationJob = run.job  # type: ignore[assignment]
        field_name = "file" if job.owns_file else "storage_uri"
        path = Path(job.file_path)
        if not path.exists():
            raise DomainError("the file to inspect is gone (already registered or cleaned up)", field=field_name)
        facts = inspect_file(path, declared_format=job.declared_format or None, field_name=field_name)
        check_declared_fingerprint(job.declared_fingerprint or None, facts.fingerprint)
        # The columns are known only now: a constraint naming another one fails the job, naming the part.
        checked_constraints(job.payload.get("constraints") or [], [column["name"] for column in facts.schema])
        return facts

    def succeed(self, job: RegistrationJob, facts: ContentFacts, actor: Actor) -> None:
        """Register the version in the finishing transaction; its `version.registered` event records it."""
        request = RegistrationRequest.from_payload(job.project, job.payload)
        if job.owns_file:
            result = dataset_version_register_stored(
                actor=actor, request=request, facts=facts, staged=Path(job.file_path)
            )
        else:
            result = dataset_version_register_facts(
                actor=actor, request=request, facts=replace(facts, storage_uri=job.original_name)
            )
        job.version, job.version_created = result.version, result.created
        return None

    def cleanup(self, job: RegistrationJob) -> None:
        # A staged upload is the registry's: moved into the store when registered, deleted otherwise.
        # A file read in place under a data root belongs to the pipeline.
        if job.owns_file:
            discard(job.file_path)
