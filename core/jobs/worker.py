"""The maintenance thread every Celery worker runs: the reaper at start and then every REGISTRY_JOB_REAP_SECONDS,
followed by the `worker_tick` hook. No celery beat is needed for jobs to survive a lost worker.

Installed as a worker bootstep (config/celery.py), in the worker's main process: killing a pool process does
not stop it, and a new worker started after the whole worker was killed runs it at once.
"""

from __future__ import annotations

import logging
import threading

from celery import bootsteps
from django.conf import settings
from django.db import close_old_connections, connection

from ..hooks import worker_tick
from .reaper import reap

logger = logging.getLogger(__name__)


def maintenance_pass() -> None:
    """One reaper pass and one tick; a failure (the database is away) is logged and the next pass retries."""
    close_old_connections()
    try:
        acted = reap()
        if any(acted.values()):
            logger.info("reaper: %s", ", ".join(f"{kind} {n}" for kind, n in acted.items() if n))
        worker_tick.send()
    except Exception:
        logger.exception("worker maintenance pass failed; retrying in %s s", settings.REGISTRY_JOB_REAP_SECONDS)
    finally:
        connection.close()


class MaintenanceStep(bootsteps.StartStopStep):
    """Starts the maintenance thread with the worker and stops it on shutdown."""

    requires = {"celery.worker.components:Pool"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, worker):
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="registry-maintenance", daemon=True)
        self._thread.start()

    def stop(self, worker):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while True:
            maintenance_pass()
            if self._stop.wait(settings.REGISTRY_JOB_REAP_SECONDS):
                return
