"""Running one attempt of a job: claim it, keep its heartbeat going while the kind works, finish or fail it."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection

from ..context import Actor
from ..errors import DomainError
from ..models import Job
from . import state
from .kinds import JobKind, kind_named
from .owner import working_on

logger = logging.getLogger(__name__)


class JobSuperseded(Exception):
    """This attempt lost its claim (its worker looked dead and another attempt took over): stop working."""


class JobRun:
    """One attempt, as the kind's `work` sees it: the job, who it acts for, and a progress reporter."""

    def __init__(self, kind: JobKind, job: Job, actor: Actor) -> None:
        self.kind = kind
        self.job = job
        self.actor = actor
        self._lost = threading.Event()

    @property
    def attempt(self) -> int:
        return self.job.attempts

    def progress(self, percent: int | None, step: str) -> None:
        """Report progress (0-99; 100 is set on success; None keeps it) and a step label; raise JobSuperseded
        if taken over."""
        if self._lost.is_set() or not state.report_progress(self.kind, self.job, percent=percent, step=step):
            self._lost.set()
            raise JobSuperseded(f"{self.kind.name} {self.job.pk}: attempt {self.attempt} was taken over")

    @contextlib.contextmanager
    def heartbeat(self) -> Iterator[None]:
        """Beat from a side thread while the work runs, so the reaper can tell a dead worker from a slow one."""
        stop = threading.Event()

        def beat() -> None:
            try:
                while not stop.wait(settings.REGISTRY_JOB_HEARTBEAT_SECONDS):
                    try:
                        if not state.report_progress(self.kind, self.job):
                            self._lost.set()
                            return
                    except DatabaseError:
                        # A missed beat matters only if they all fail; the reaper waits several intervals.
                        logger.warning("heartbeat of %s %s failed", self.kind.name, self.job.pk, exc_info=True)
            finally:
                connection.close()

        thread = threading.Thread(target=beat, name=f"heartbeat-{self.job.pk}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)


def run(kind_name: str, job_id: str) -> Job | None:
    """Run one attempt of a job; None when the delivery was a duplicate (finished, or running elsewhere)."""
    kind = kind_named(kind_name)
    job = state.claim(kind, job_id)
    if job is None:
        return None
    with working_on(kind.name, str(job.pk)):
        _attempt(kind, job)
    return kind.model.objects.select_related(*kind.related).get(pk=job.pk)


def _attempt(kind: JobKind, job: Job) -> None:
    actor = state.actor_for(job)
    if job.attempts > state.max_attempts():
        reason = f"gave up after {state.max_attempts()} attempts (its worker was lost or crashed each time)"
        state.fail(kind, job, {"detail": reason}, actor, attempt=job.attempts)
        return
    attempt = JobRun(kind, job, actor)
    try:
        with attempt.heartbeat():
            outcome: Any = kind.work(attempt)
            if attempt._lost.is_set():
                raise JobSuperseded(f"{kind.name} {job.pk}: attempt {job.attempts} was taken over")
    except JobSuperseded as exc:
        logger.warning("%s; leaving it to the new attempt", exc)
        return
    except DomainError as exc:
        state.fail(kind, job, exc.as_data(), actor, attempt=job.attempts)
        return
    except (OperationalError, InterfaceError):
        raise  # the database went away: the task retries, and this process takes its own job back
    except Exception as exc:
        # A bug or an unreadable file ends the job with the reason; it never stays "running".
        logger.exception("%s %s failed", kind.name, job.pk)
        state.fail(kind, job, state.internal_error(exc), actor, attempt=job.attempts)
        return
    if state.finish(kind, job, outcome, actor) is None:
        logger.warning(
            "%s %s: attempt %s finished after it was taken over; its result is dropped", kind.name, job.pk, job.attempts
        )
