"""The embedded default (SQLite, no broker) after a crash: the process running a job is killed with SIGKILL,
and the next start (`manage.py reap_stale_jobs`, which `make run` runs before serving) leaves nothing stuck."""

from __future__ import annotations

import gzip
import os
import signal
import sqlite3
import subprocess
import sys
import time

from tests.support import ADULT, REPO
from tests.workers import wait_until

# Runs in a child process of its own: set up a project, register Adult and evaluate it in-process (embedded).
SCRIPT = """
import django, gzip, pathlib, sys
django.setup()
from core.context import Actor
from core.services import membership_grant, project_ensure, user_ensure
from registry.services.evaluations import TableInput, evaluation_request
from registry.services.intake import RegistrationRequest, dataset_version_register_local_file
from registry.services.registration import GeneratorSpec, SourceSpec

actor = Actor.system("test")
user = user_ensure(actor=actor, username="pipe")
project = project_ensure(actor=actor, slug="acme")
membership_grant(actor=actor, project=project, user=user, role="pipeline")
pipeline = Actor(user=user, via="test")
table = pathlib.Path(sys.argv[1])
request = RegistrationRequest(
    project=project, dataset_name="adult", generator=GeneratorSpec(name="copy"),
    sources=[SourceSpec("uci", "adult")], code_version="test",
)
version = dataset_version_register_local_file(actor=pipeline, request=request, path=table).result.version
print("registered", flush=True)
evaluation_request(
    actor=pipeline, version=version, config={"kinds": ["quality", "privacy"]},
    reference=TableInput(path=table, owned=False),
)
"""


def _manage_env(database: str, root) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "DATABASE_URL")}
    return {
        **environment,
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{database}",
        "REGISTRY_STORAGE_ROOT": str(root / "storage"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }


def test_a_job_left_running_by_a_killed_embedded_process_fails_at_the_next_start(tmp_path):
    database = tmp_path / "registry.sqlite3"
    env = _manage_env(str(database), tmp_path)
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    table = tmp_path / "adult.csv"
    table.write_bytes(gzip.decompress(ADULT.read_bytes()))
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(table)], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )

    def state() -> tuple[str, int] | None:
        with sqlite3.connect(database, timeout=30) as db:
            return db.execute("SELECT state, progress FROM registry_evaluation").fetchone()

    wait_until(
        lambda: (state() or ("", 0))[0] == "running" and state()[1] > 0,
        timeout=120,
        interval=0.05,
        what="the embedded evaluation to be under way",
    )
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert state()[0] == "running"  # left behind by the dead process

    started = time.monotonic()
    reap = subprocess.run(
        [sys.executable, "manage.py", "reap_stale_jobs"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert reap.returncode == 0, reap.stderr[-2000:]
    assert "evaluation: 1 reaped" in reap.stdout
    assert time.monotonic() - started < 60
    with sqlite3.connect(database) as db:
        ((evaluation_state, error),) = db.execute("SELECT state, error FROM registry_evaluation").fetchall()
        (version_status,) = db.execute("SELECT status FROM registry_datasetversion").fetchone()
    assert evaluation_state == "failed"
    assert "the process running it stopped before it finished" in error
    assert version_status == "registered"  # back where it was: a new evaluation may be requested
