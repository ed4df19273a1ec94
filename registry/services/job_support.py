"""What every background job shares: the retry budget, the actor it acts for, and a heartbeat."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection
from django.utils import timezone

from governance.context import Actor

from ..models.jobs import JobState

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
HEARTBEAT_SECONDS = 30


def actor_for(job) -> Actor:
    """The user who asked for the job, acting through the worker, with the original request id."""
    user = get_user_model().objects.get(pk=job.requested_by_id)
    return Actor(user=user, via=f"{job.requested_via} (worker)"[:64], request_id=job.request_id)


def stale_cutoff(now: datetime | None = None) -> datetime:
    """A running job with no sign of life since before this is presumed dead (its worker is gone)."""
    return (now or timezone.now()) - timedelta(seconds=settings.REGISTRY_JOB_STALE_SECONDS)


def claimable(job, now: datetime | None = None) -> bool:
    """Whether a delivery of the job's task may start it: queued, or running with a silent (dead) worker.

    A job running with recent heartbeats belongs to another worker; this delivery is a duplicate (a
    re-queued message also delivered, a broker redelivery) and must leave it alone.
    """
    if job.state == JobState.QUEUED:
        return True
    if job.state != JobState.RUNNING:
        return False
    last_sign_of_life = job.heartbeat_at or job.started_at
    return last_sign_of_life is None or last_sign_of_life < stale_cutoff(now)


@contextlib.contextmanager
def heartbeat(model, pk) -> Iterator[None]:
    """Refresh heartbeat_at from a side thread while the work runs, so the reaper can tell dead from slow."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(HEARTBEAT_SECONDS):
                try:
                    model.objects.filter(pk=pk, state=JobState.RUNNING).update(heartbeat_at=timezone.now())
                except DatabaseError:
                    # A missed beat only matters if they all fail; the reaper waits several intervals.
                    logger.warning("heartbeat of %s %s failed", model.__name__, pk, exc_info=True)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"heartbeat-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
