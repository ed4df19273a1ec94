"""Every change of a job's state: claim, finish, fail, take back; the only code that writes a job's own fields.

Each claim increments `attempts`, and finish, fail and progress updates name the attempt they belong to: an
attempt whose claim was taken over (its worker looked dead) can neither finish the job nor report progress.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from ..audit import audited_atomic, record_event
from ..context import Actor
from ..models import Job, JobState
from .kinds import JobKind, kind_named
from .owner import not_working_on, this_process

logger = logging.getLogger(__name__)


def max_attempts() -> int:
    return settings.REGISTRY_JOB_MAX_ATTEMPTS


def stale_cutoff(now: datetime | None = None) -> datetime:
    """A running job with no heartbeat since before this is presumed dead (its worker is gone)."""
    return (now or timezone.now()) - timedelta(seconds=settings.REGISTRY_JOB_STALE_SECONDS)


def internal_error(exc: BaseException) -> dict[str, str]:
    """The error stored on a job that crashed."""
    return {"detail": f"internal error: {type(exc).__name__}: {exc}"}


def actor_for(job: Job) -> Actor:
    """The user who asked for the job, acting through the worker, with the original request id."""
    user = get_user_model().objects.get(pk=job.requested_by_id)
    return Actor(user=user, via=f"{job.requested_via} (worker)"[:64], request_id=job.request_id)


def is_dead(kind: JobKind, job: Job, now: datetime | None = None) -> bool:
    """A running job nobody is working on: its process is gone, or its heartbeat stopped."""
    if job.state != JobState.RUNNING:
        return False
    if not_working_on(job.owner, kind.name, str(job.pk)):
        return True
    last_sign_of_life = job.heartbeat_at or job.started_at
    return last_sign_of_life is None or last_sign_of_life < stale_cutoff(now)


def _locked(kind: JobKind, pk: Any, **conditions: Any) -> Job | None:
    # of=("self",): lock the job row only, not the rows select_related joins in.
    return (
        kind.model.objects.select_for_update(of=("self",))
        .select_related(*kind.related)
        .filter(pk=pk, **conditions)
        .first()
    )


def claim(kind: JobKind, pk: Any) -> Job | None:
    """Start an attempt: a queued job, or a running one nobody is working on; None for anything else.

    A delivery that finds the job finished, or running in a live process, is a duplicate and does nothing.
    """
    with transaction.atomic():
        job = _locked(kind, pk)
        if job is None or not (job.state == JobState.QUEUED or is_dead(kind, job)):
            return None
        if job.state == JobState.RUNNING:
            logger.warning("%s %s: taking over attempt %s from %s", kind.name, pk, job.attempts, job.owner)
        now = timezone.now()
        job.state = JobState.RUNNING
        job.attempts += 1
        job.owner = this_process()
        job.started_at = job.heartbeat_at = now
        job.progress, job.step, job.error = 0, kind.first_step, None
        job.save(
            update_fields=["state", "attempts", "owner", "started_at", "heartbeat_at", "progress", "step", "error"]
        )
    return job


def report_progress(kind: JobKind, job: Job, *, percent: int | None = None, step: str | None = None) -> bool:
    """A sign of life (and optionally progress) from the attempt holding the claim; False if it lost it."""
    fields: dict[str, Any] = {"heartbeat_at": timezone.now()}
    if percent is not None:
        fields["progress"] = min(max(int(percent), 0), 99)  # 100 only when it has succeeded
    if step is not None:
        fields["step"] = step[:64]
    updated = kind.model.objects.filter(pk=job.pk, state=JobState.RUNNING, attempts=job.attempts).update(**fields)
    return bool(updated)


def finish(kind: JobKind, job: Job, outcome: Any, actor: Actor) -> Job | None:
    """Record the attempt's success once, with the kind's success step; None if the attempt lost its claim."""
    with audited_atomic():
        locked = _locked(kind, job.pk, state=JobState.RUNNING, attempts=job.attempts)
        if locked is None:
            return None
        locked.state, locked.progress, locked.step, locked.error = JobState.SUCCEEDED, 100, "done", None
        locked.finished_at = timezone.now()
        details = kind.succeed(locked, outcome, actor)
        locked.save()
        if details is not None:
            _record(kind, locked, actor, "succeeded", details)
        kind.after_success(locked, outcome, actor)
    kind.cleanup(locked)
    return locked


def fail(
    kind: JobKind | str,
    job: Job,
    error: dict[str, Any],
    actor: Actor | None = None,
    *,
    states: tuple[str, ...] = (JobState.RUNNING,),
    attempt: int | None = None,
) -> Job | None:
    """End the job as failed with a readable reason, if it is still in one of `states` (and, when given, in the
    same attempt); None when it moved on meanwhile (finished, or taken over)."""
    kind = kind_named(kind)
    with audited_atomic():
        conditions: dict[str, Any] = {"state__in": states}
        if attempt is not None:
            conditions["attempts"] = attempt
        locked = _locked(kind, job.pk, **conditions)
        if locked is None:
            return None
        locked.state, locked.step, locked.error = JobState.FAILED, "failed", error
        locked.finished_at = timezone.now()
        locked.save()
        actor = actor or actor_for(locked)
        _record(kind, locked, actor, "failed", {"error": error})
        kind.after_failure(locked, error, actor)
    kind.cleanup(locked)
    return locked


def requeue(kind: JobKind, job: Job, reason: str) -> Job | None:
    """Take a dead attempt's job back to queued (its next attempt starts from scratch); None if it moved on."""
    with audited_atomic():
        locked = _locked(kind, job.pk, state=JobState.RUNNING, attempts=job.attempts)
        if locked is None:
            return None
        locked.state, locked.progress, locked.step = JobState.QUEUED, 0, "queued again"
        locked.owner, locked.heartbeat_at = this_process(), None
        locked.queued_at, locked.published_at, locked.publications = timezone.now(), None, 0
        locked.save()
        _record(kind, locked, Actor.system("reaper"), "requeued", {"reason": reason, "attempt": locked.attempts})
    return locked


def _record(kind: JobKind, job: Job, actor: Actor, what: str, details: dict[str, Any]) -> None:
    record_event(actor=actor, action=f"{kind.name}.{what}", obj=job, project=kind.project(job), after=details)
