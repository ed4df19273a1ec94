"""The three ways bytes reach a registration: an upload, a file URI under a data root, or declared facts.

Small files are inspected inside the request; large ones become a RegistrationJob for a Celery worker.
Either way the same registration service writes the version.
"""

from __future__ import annotations

import re
import shutil
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from django.conf import settings

from common.digest import sha256_file
from core import jobs
from core.audit import audited_atomic
from core.context import Actor
from core.errors import InvalidInput
from core.models import Project
from core.permissions import require_capability
from core.roles import Capability

from ..content import ContentFacts, inspect_file
from ..evaluation.sdtypes import SDTYPES
from ..models import RegistrationJob
from ..storage import discard, new_staging_file, object_relpath, resolve_data_uri, store_object
from ..tables.formats import format_from_name
from ..tables.schema import sdtype_from_dtype
from ..uploads import StagedUpload
from .registration import (
    GeneratorSpec,
    RegistrationResult,
    SourceSpec,
    dataset_version_register,
    find_registered_duplicate,
)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class RegistrationRequest:
    """Everything a registration names besides the bytes."""

    project: Project
    dataset_name: str
    generator: GeneratorSpec
    sources: list[SourceSpec]
    code_version: str
    dataset_defaults: dict[str, Any] = field(default_factory=dict)
    lineage_run_id: uuid.UUID | None = None
    # The generator's constraints (sdmetrics' dicts), checked against the columns once the file is read.
    constraints: list[dict[str, Any]] = field(default_factory=list)

    def to_payload(self) -> dict[str, Any]:
        """JSON form, replayed by the worker for a queued registration."""
        return {
            "dataset": self.dataset_name,
            "dataset_details": self.dataset_defaults,
            "generator": {
                "name": self.generator.name,
                "version": self.generator.version,
                "parameters": self.generator.parameters,
                "seed": self.generator.seed,
            },
            "sources": [{"namespace": s.namespace, "name": s.name, "version": s.version} for s in self.sources],
            "code_version": self.code_version,
            "lineage_run_id": str(self.lineage_run_id) if self.lineage_run_id else None,
            "constraints": self.constraints,
        }

    @classmethod
    def from_payload(cls, project: Project, payload: dict[str, Any]) -> RegistrationRequest:
        return cls(
            project=project,
            dataset_name=payload["dataset"],
            dataset_defaults=payload.get("dataset_details") or {},
            generator=GeneratorSpec(**payload["generator"]),
            sources=[SourceSpec(**s) for s in payload["sources"]],
            code_version=payload["code_version"],
            lineage_run_id=uuid.UUID(payload["lineage_run_id"]) if payload.get("lineage_run_id") else None,
            constraints=payload.get("constraints") or [],
        )


@dataclass(frozen=True)
class IntakeOutcome:
    """Either a registration result (done now) or a job (a worker finishes it)."""

    result: RegistrationResult | None = None
    job: RegistrationJob | None = None


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
    with audited_atomic():
        return jobs.enqueue(
            "registration",
            RegistrationJob(
                project=request.project,
                payload=request.to_payload(),
                file_path=str(file_path),
                owns_file=owns_file,
                original_name=original_name,
                declared_format=declared_format or "",
                declared_fingerprint=declared_fingerprint or "",
                byte_count=byte_count,
            ),
            actor=actor,
            details={"dataset": request.dataset_name, "file": original_name, "byte_count": byte_count},
        )


def dataset_version_register_facts(
    *, actor: Actor, request: RegistrationRequest, facts: ContentFacts
) -> RegistrationResult:
    """Register a version from its content facts and the request's provenance."""
    return dataset_version_register(
        actor=actor,
        project=request.project,
        dataset_name=request.dataset_name,
        generator=request.generator,
        sources=request.sources,
        code_version=request.code_version,
        content=facts,
        dataset_defaults=request.dataset_defaults,
        lineage_run_id=request.lineage_run_id,
        constraints=request.constraints,
    )


def _duplicate(request: RegistrationRequest, fingerprint: str) -> RegistrationResult | None:
    return find_registered_duplicate(
        project=request.project,
        dataset_name=request.dataset_name,
        fingerprint=fingerprint,
        generator=request.generator,
        code_version=request.code_version,
        sources=request.sources,
        constraints=request.constraints,
    )


def _declared_format(fmt: str | None, name: str) -> str | None:
    return fmt or format_from_name(name)


def dataset_version_register_upload(
    *, actor: Actor, request: RegistrationRequest, upload: StagedUpload, declared_format: str | None
) -> IntakeOutcome:
    """Register an uploaded file: the upload handler already hashed it while it arrived.

    Whatever happens, the staged file ends up in the store, with a job, or deleted.
    """
    staged = Path(upload.staged_path)
    try:
        require_capability(
            actor=actor, project=request.project, capability=Capability.REGISTER, what="registering versions"
        )
        duplicate = _duplicate(request, upload.sha256)
        if duplicate is not None:
            return IntakeOutcome(result=duplicate)
        fmt = _declared_format(declared_format, upload.name or "")
        if upload.size > settings.REGISTRY_INLINE_INSPECT_MAX_BYTES:
            job = registration_job_create(
                actor=actor,
                request=request,
                file_path=staged,
                owns_file=True,
                original_name=upload.name or "",
                declared_format=fmt,
                byte_count=upload.size,
            )
            staged = None  # the job owns the staged file now
            return IntakeOutcome(job=job)
        facts = inspect_file(staged, declared_format=fmt, sha256=upload.sha256, field_name="file")
        return IntakeOutcome(
            result=dataset_version_register_stored(actor=actor, request=request, facts=facts, staged=staged)
        )
    finally:
        discard(staged)


def dataset_version_register_stored(*, actor: Actor, request: RegistrationRequest, facts: ContentFacts, staged: Path):
    """Register facts whose bytes sit in staging; the bytes move into the store inside the same transaction.

    A refused registration therefore leaves nothing in the store, and a failed move leaves no version.
    """
    relpath = object_relpath(facts.fingerprint, facts.format)
    with audited_atomic():
        result = dataset_version_register_facts(actor=actor, request=request, facts=replace(facts, stored_file=relpath))
        if result.created:
            store_object(staged, fingerprint=facts.fingerprint, fmt=facts.format)
    return result


def dataset_version_register_uri(
    *,
    actor: Actor,
    request: RegistrationRequest,
    uri: str,
    declared_format: str | None,
    declared_fingerprint: str | None = None,
) -> IntakeOutcome:
    """Register a file the registry may read in place (file:// under REGISTRY_DATA_ROOTS)."""
    require_capability(
        actor=actor, project=request.project, capability=Capability.REGISTER, what="registering versions"
    )
    path = resolve_data_uri(uri, project=request.project, field="storage_uri")
    fmt = _declared_format(declared_format, path.name)
    size = path.stat().st_size
    if size > settings.REGISTRY_INLINE_INSPECT_MAX_BYTES:
        job = registration_job_create(
            actor=actor,
            request=request,
            file_path=path,
            owns_file=False,
            original_name=uri,
            declared_format=fmt,
            byte_count=size,
            declared_fingerprint=declared_fingerprint,
        )
        return IntakeOutcome(job=job)
    facts = inspect_file(path, declared_format=fmt, field_name="storage_uri")
    check_declared_fingerprint(declared_fingerprint, facts.fingerprint)
    return IntakeOutcome(
        result=dataset_version_register_facts(actor=actor, request=request, facts=replace(facts, storage_uri=uri))
    )


def check_declared_fingerprint(declared: str | None, computed: str) -> None:
    if declared and declared != computed:
        raise InvalidInput(f"does not match the file: the registry computed {computed}", field="fingerprint")


def validate_declared_schema(schema: Any) -> list[dict[str, str]]:
    """A declared schema: a non-empty list of {name, dtype, sdtype?} with unique names."""
    if not isinstance(schema, list) or not schema:
        raise InvalidInput("must be a non-empty list of columns", field="schema")
    columns: list[dict[str, str]] = []
    for index, column in enumerate(schema):
        if not isinstance(column, dict):
            raise InvalidInput(f"column {index} must be an object with name and dtype", field="schema")
        unknown = set(column) - {"name", "dtype", "sdtype"}
        if unknown:
            raise InvalidInput(f"column {index} has unknown keys: {', '.join(sorted(unknown))}", field="schema")
        name, dtype, sdtype = column.get("name"), column.get("dtype"), column.get("sdtype", "")
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(f"column {index} needs a non-empty string name", field="schema")
        if not isinstance(dtype, str) or not dtype.strip():
            raise InvalidInput(f"column {name!r} needs a string dtype", field="schema")
        if sdtype and sdtype not in SDTYPES:
            raise InvalidInput(
                f"column {name!r} has unknown sdtype {sdtype!r}; expected one of {', '.join(SDTYPES)}",
                field="schema",
            )
        columns.append({"name": name, "dtype": dtype, "sdtype": sdtype or sdtype_from_dtype(dtype)})
    names = [c["name"] for c in columns]
    if len(set(names)) != len(names):
        raise InvalidInput("column names must be unique", field="schema")
    return columns


def dataset_version_register_declared(
    *,
    actor: Actor,
    request: RegistrationRequest,
    fingerprint: str,
    schema: Any,
    row_count: int,
    byte_count: int | None,
    storage_uri: str,
    declared_format: str | None,
) -> IntakeOutcome:
    """Register facts the registry cannot check itself (e.g. an s3:// object); marked as declared."""
    if not _SHA256.match(fingerprint or ""):
        raise InvalidInput("must be 64 lowercase hexadecimal characters (SHA-256)", field="fingerprint")
    facts = ContentFacts(
        fingerprint=fingerprint,
        fingerprint_source="declared",
        schema=validate_declared_schema(schema),
        row_count=row_count,
        byte_count=byte_count,
        format=declared_format or format_from_name(storage_uri) or "",
        storage_uri=storage_uri,
    )
    return IntakeOutcome(result=dataset_version_register_facts(actor=actor, request=request, facts=facts))


def dataset_version_register_local_file(
    *, actor: Actor, request: RegistrationRequest, path: Path, declared_format: str | None = None
) -> IntakeOutcome:
    """Register a file from this machine exactly as if it had been uploaded (used by the demo)."""
    staged = new_staging_file(suffix=".upload")
    shutil.copyfile(path, staged)
    digest = sha256_file(staged)
    upload = StagedUpload(
        path=staged,
        name=path.name,
        content_type="application/octet-stream",
        size=digest.byte_count,
        sha256=digest.sha256,
    )
    return dataset_version_register_upload(actor=actor, request=request, upload=upload, declared_format=declared_format)
