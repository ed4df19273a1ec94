"""Audit exports as a kind of job: request (202 + job), build in a worker, download; every step audited.

The job framework (core.jobs) claims, beats, finishes, fails and reaps; this module supplies the work (build
the zip) and the success step (record its hash). Each attempt writes its own file, so an attempt that lost its
claim can never overwrite the zip of the one that finished.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from common.digest import sha256_file
from core import jobs
from core.audit import audited_atomic, record_event
from core.context import Actor
from core.errors import Conflict, InvalidInput, NotFound
from core.models import JobState, Project
from core.permissions import require_capability
from core.roles import Capability
from registry.models import DatasetVersion
from registry.storage import discard

from ..exports.build import build_export
from ..exports.files import manifest_bytes
from ..models import Export, ExportFormat

EXPORTS_DIR = "exports"


def manifest_sha256(manifest: dict[str, Any]) -> str:
    """SHA-256 of manifest.json exactly as the zip holds it."""
    return hashlib.sha256(manifest_bytes(manifest)).hexdigest()


def export_path(relative: str) -> Path:
    """Where an export file lives under REGISTRY_STORAGE_ROOT."""
    return Path(settings.REGISTRY_STORAGE_ROOT) / relative


def _attempt_file(export: Export) -> str:
    return f"{EXPORTS_DIR}/{export.pk}-{export.attempts}.zip"


def export_request(
    *,
    actor: Actor,
    project: Project,
    format: str,
    period_start: dt.datetime | None = None,
    period_end: dt.datetime | None = None,
    version_ids: Sequence[str] = (),
) -> Export:
    """Queue an audit export of one project; only auditors (EXPORT capability) of that project may."""
    require_capability(actor=actor, project=project, capability=Capability.EXPORT, what="exporting audit evidence")
    if format not in ExportFormat.values:
        raise InvalidInput(
            f"unknown format {format!r}; expected one of {', '.join(ExportFormat.values)}", field="format"
        )
    if period_start and period_end and period_start >= period_end:
        raise InvalidInput("the period must end after it starts", field="period")
    ids = sorted({str(v) for v in version_ids})
    if ids:
        found = {
            str(pk)
            for pk in DatasetVersion.objects.filter(pk__in=ids, dataset__project=project).values_list("pk", flat=True)
        }
        unknown = [v for v in ids if v not in found]
        if unknown:
            raise InvalidInput(f"not versions of project '{project.slug}': {', '.join(unknown)}", field="versions")
    with audited_atomic():
        return jobs.enqueue(
            "export",
            Export(
                project=project,
                format=format,
                period_start=period_start,
                period_end=period_end,
                version_ids=ids,
            ),
            actor=actor,
            details={"format": format, "period_start": period_start, "period_end": period_end, "versions": ids},
        )


@dataclass(frozen=True)
class BuiltExport:
    """An attempt's finished zip: where it is, its size and hash, and its manifest."""

    file_path: str
    byte_count: int
    sha256: str
    manifest: dict[str, Any]


class ExportJobKind(jobs.JobKind):
    """An audit evidence export of one project (CSV, JSON or PDF in a zip with its manifest)."""

    name = "export"
    model = Export
    related = ("project", "requested_by")

    def work(self, run: jobs.JobRun) -> BuiltExport:
        export: Export = run.job  # type: ignore[assignment]
        final = export_path(_attempt_file(export))
        partial = final.with_name(final.name + ".part")
        partial.parent.mkdir(parents=True, exist_ok=True)
        manifest = build_export(export, partial, run.progress)
        os.replace(partial, final)
        digest = sha256_file(final)  # hashed before the audit lock is taken
        return BuiltExport(_attempt_file(export), digest.byte_count, digest.sha256, manifest)

    def succeed(self, job: Export, built: BuiltExport, actor: Actor) -> dict[str, Any]:
        job.file_path, job.byte_count, job.sha256, job.manifest = (
            built.file_path,
            built.byte_count,
            built.sha256,
            built.manifest,
        )
        return {
            "sha256": built.sha256,
            "bytes": built.byte_count,
            "manifest_sha256": manifest_sha256(built.manifest),
            "files": {f["name"]: f["sha256"] for f in built.manifest["files"]},
            "chain_ok": built.manifest["chain_verification"]["ok"],
        }

    def cleanup(self, job: Export) -> None:
        """Drop every attempt's file but the one recorded (none when the export failed)."""
        keep = export_path(job.file_path) if job.file_path else None
        for path in export_path(EXPORTS_DIR).glob(f"{job.pk}-*.zip*"):
            if path != keep:
                discard(path)


def export_download(*, actor: Actor, export: Export) -> Path:
    """The finished export's zip; only auditors of its project may fetch it, and each fetch is audited."""
    require_capability(
        actor=actor, project=export.project, capability=Capability.EXPORT, what="downloading audit exports"
    )
    if export.state != JobState.SUCCEEDED:
        raise Conflict(
            f"the export is {export.state}; download it once it has succeeded", extra={"state": export.state}
        )
    path = export_path(export.file_path)
    if not path.exists():
        raise NotFound("the export's file is gone from storage; request a new export")
    with audited_atomic():
        record_event(
            actor=actor,
            action="export.downloaded",
            obj=export,
            project=export.project,
            after={"sha256": export.sha256, "bytes": export.byte_count},
        )
    return path
