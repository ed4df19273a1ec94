"""Real worker processes for the `worker` tests: started with `make worker`, as the README tells operators to,
each in a process group of its own so that a test can kill it as a whole (SIGKILL, no goodbye)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from tests.support import REPO, REQUIRE_SERVICES


def test_database_url() -> str:
    """The URL of the database this test session writes to (a worker must write to the same one)."""
    db = connection.settings_dict
    return (
        f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}@{db['HOST'] or 'localhost'}:"
        f"{db['PORT'] or 5432}/{quote(db['NAME'])}"
    )


test_database_url.__test__ = False  # a helper, not a test


def require_worker_services() -> str:
    """The broker URL; skips (or, in CI's service run, fails) when there is no broker or no PostgreSQL."""
    skip = pytest.fail if REQUIRE_SERVICES else pytest.skip
    broker = os.environ.get("CELERY_BROKER_URL")
    if not broker:
        skip("needs a broker: set CELERY_BROKER_URL (the CI's second run does)")
    if connection.vendor != "postgresql":
        skip("needs PostgreSQL: a worker process cannot reach SQLite's in-memory test database")
    return broker


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate, *, timeout: float, what: str, interval: float = 0.2, details=lambda: ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"{what} did not happen within {timeout:.0f} s\n{details()}")


@dataclass
class Process:
    """A child process group with its log."""

    name: str
    popen: subprocess.Popen
    log: Path

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole process group: make, the Celery main process and its pool processes."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self) -> None:
        if not self.alive():
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass


@dataclass
class WorkerSpace:
    """What a test shares with the processes it starts: database, broker, a queue of its own, storage."""

    root: Path
    broker: str
    queue: str = field(default_factory=lambda: f"registry-test-{uuid.uuid4().hex[:10]}")
    processes: list[Process] = field(default_factory=list)

    @property
    def storage(self) -> Path:
        return self.root / "storage"

    @property
    def data(self) -> Path:
        return self.root / "data"

    def env(self, **overrides: str) -> dict[str, str]:
        return {
            **os.environ,
            "DEBUG": "true",
            "DATABASE_URL": test_database_url(),
            "CELERY_BROKER_URL": self.broker,
            "CELERY_QUEUE": self.queue,
            "REGISTRY_STORAGE_ROOT": str(self.storage),
            "REGISTRY_DATA_ROOTS": str(self.data),
            **overrides,
        }

    def _start(self, name: str, command: list[str], **env: str) -> Process:
        log = self.root / f"{name}.log"
        popen = subprocess.Popen(
            command,
            cwd=REPO,
            env=self.env(**env),
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killpg reaches every process it starts
        )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def start_worker(self, name: str = "worker", **env: str) -> Process:
        """`make worker`, waited for until Celery says it is ready."""
        worker = self._start(name, ["make", "--no-print-directory", "worker"], **env)
        wait_until(
            lambda: " ready." in worker.tail() or not worker.alive(),
            timeout=90,
            what=f"{name} to start",
            details=worker.tail,
        )
        if not worker.alive():
            pytest.fail(f"{name} exited: {worker.tail()}")
        return worker

    def start_web(self, port: int, **env: str) -> Process:
        """The web process (runserver), waited for until /healthz answers."""
        import urllib.request

        web = self._start(
            "web",
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            **env,
        )

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    return response.status == 200
            except OSError:
                return False

        wait_until(healthy, timeout=60, what="the web process to answer /healthz", details=web.tail)
        return web

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.stop()
