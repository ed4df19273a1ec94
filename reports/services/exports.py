"""Audit exports: request (202 + job), run in a worker (claim, build, finish), download; every step audited.

A job never stays "running": an exception ends it as failed with the reason, a dead worker's job is
re-queued by `reap_stale_exports`, and the third claim of the same job fails it for good.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from governance.audit import audited_atomic, record_event
from governance.context import Actor
from governance.errors import Conflict, InvalidInput, NotFound
from governance.models import Project
from governance.permissions import require_capability
from governance.roles import Capability
from registry.models import DatasetVersion
from registry.models.jobs import JobState
from registry.services.job_support import MAX_ATTEMPTS, actor_for
from registry.storage import discard

from ..exports.build import build_export
from ..exports.files import manifest_bytes, sha256_file
from ..models import Export, ExportFormat

logger = logging.getLogger(__name__)
EXPORTS_DIR = "exports"


def internal_error(exc: Exception) -> dict[str, str]:
    """The error stored on a job that crashed."""
    return {"detail": f"internal error: {type(exc).__name__}: {exc}"}


def manifest_sha256(manifest: dict[str, Any]) -> str:
    """SHA-256 of manifest.json exactly as the zip holds it."""
    return hashlib.sha256(manifest_bytes(manifest)).hexdigest()


def export_path(relative: str) -> Path:
    """Where an export file lives under REGISTRY_STORAGE_ROOT."""
    return Path(settings.REGISTRY_STORAGE_ROOT) / relative


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
    from ..tasks import run_export_task

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
    reap_stale_exports()
    with audited_atomic():
        export = Export.objects.create(
            project=project,
            format=format,
            period_start=period_start,
            period_end=period_end,
            version_ids=ids,
            requested_by=actor.user,
            requested_via=actor.via[:64],
            request_id=actor.request_id[:64],
        )
        record_event(
            actor=actor,
            action="export.requested",
            obj=export,
            project=project,
            after={"format": format, "period_start": period_start, "period_end": period_end, "versions": ids},
        )
        transaction.on_commit(lambda: run_export_task.delay(str(export.pk)))
    return export


def _claim(export_id: str) -> Export | None:
    with transaction.atomic():
        export = Export.objects.select_for_update().filter(pk=export_id).first()
        if export is None or export.state in (JobState.SUCCEEDED, JobState.FAILED):
            return None
        now = timezone.now()
        export.state, export.attempts = JobState.RUNNING, export.attempts + 1
        export.started_at = export.heartbeat_at = now
        export.progress, export.step = 0, "starting"
        export.save(update_fields=["state", "attempts", "started_at", "heartbeat_at", "progress", "step"])
    return Export.objects.select_related("project", "requested_by").get(pk=export.pk)


def _progress(export_id):
    def report(percent: int, step: str) -> None:
        Export.objects.filter(pk=export_id, state=JobState.RUNNING).update(
            progress=min(max(int(percent), 0), 99), step=step[:64], heartbeat_at=timezone.now()
        )

    return report


def _finish(export: Export, actor: Actor, *, manifest: dict[str, Any] | None, error: dict | None) -> None:
    """Record the outcome once (a second finish is a no-op), with its audit event."""
    fields: dict[str, Any] = {"finished_at": timezone.now()}
    relative = f"{EXPORTS_DIR}/{export.pk}.zip"
    if manifest is not None:
        path = export_path(relative)
        fields.update(
            state=JobState.SUCCEEDED,
            step="done",
            progress=100,
            file_path=relative,
            byte_count=path.stat().st_size,
            sha256=sha256_file(path),
            manifest=manifest,
            error=None,
        )
    else:
        fields.update(state=JobState.FAILED, step="failed", error=error)
    with audited_atomic():
        if not Export.objects.filter(pk=export.pk, state=JobState.RUNNING).update(**fields):
            return
        after = {"error": error}
        if manifest is not None:
            after = {
                "sha256": fields["sha256"],
                "bytes": fields["byte_count"],
                "manifest_sha256": manifest_sha256(manifest),
                "files": {f["name"]: f["sha256"] for f in manifest["files"]},
                "chain_ok": manifest["chain_verification"]["ok"],
            }
        record_event(
            actor=actor,
            action="export.succeeded" if manifest is not None else "export.failed",
            obj=export,
            project=export.project,
            after=after,
        )


def export_fail(export: Export, error: dict, actor: Actor | None = None) -> None:
    """End a running export as failed with a readable reason, and drop its partial file."""
    discard(export_path(f"{EXPORTS_DIR}/{export.pk}.zip.part"))
    _finish(export, actor or actor_for(export), manifest=None, error=error)


def export_run(*, export_id: str) -> Export | None:
    """Build a queued (or redelivered) export; None when it had already finished."""
    export = _claim(export_id)
    if export is None:
        return None
    actor = actor_for(export)
    if export.attempts > MAX_ATTEMPTS:
        export_fail(export, {"detail": f"gave up after {MAX_ATTEMPTS} attempts (worker lost or crashed)"}, actor)
        return Export.objects.get(pk=export.pk)
    final = export_path(f"{EXPORTS_DIR}/{export.pk}.zip")
    partial = final.with_name(final.name + ".part")
    partial.parent.mkdir(parents=True, exist_ok=True)
    try:
        manifest = build_export(export, partial, _progress(export.pk))
        os.replace(partial, final)
    except Exception as exc:
        logger.exception("export %s failed", export.pk)
        export_fail(export, internal_error(exc), actor)
    else:
        _finish(export, actor, manifest=manifest, error=None)
    return Export.objects.select_related("project", "requested_by").get(pk=export.pk)


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


def reap_stale_exports(*, now=None) -> int:
    """Re-queue running exports whose worker has not reported for REGISTRY_JOB_STALE_SECONDS."""
    from ..tasks import run_export_task

    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.REGISTRY_JOB_STALE_SECONDS)
    stale = list(
        Export.objects.filter(state=JobState.RUNNING)
        .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff))
        .values_list("pk", flat=True)
    )
    for pk in stale:
        logger.warning("export %s: no heartbeat since before %s, re-queued", pk, cutoff.isoformat())
        transaction.on_commit(lambda pk=pk: run_export_task.delay(str(pk)))
    return len(stale)
