"""Jobs survive a lost worker and a lost broker, with real processes: `make worker`, SIGKILL, a broker that goes
away. No celery beat and no other process: the workers' own maintenance thread recovers everything.

PostgreSQL and a broker are needed (the CI's second run has both); each test has a queue of its own.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request

import psycopg
import pytest

from core.audit import verify_chain
from core.models import AuditEvent
from core.signing import active_key
from governance.models import PolicyCheck
from registry.models import DatasetVersion, Evaluation, RegistrationJob
from reports.models import Export
from tests.factories import ProjectFactory
from tests.support import ADULT, make_member, registration_form, registration_json, upload
from tests.workers import free_port, test_database_url, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

RECOVERY_SECONDS = 120  # the bound the issue sets: once a worker runs again, the job completes within it


def _register(member, content: bytes) -> DatasetVersion:
    response = member.client.post(
        "/api/v1/versions/", {**registration_form(), "file": upload(content)}, format="multipart"
    )
    assert response.status_code == 201, response.content
    return DatasetVersion.objects.get(pk=response.json()["id"])


def _wait_until_finished(model, pk, process, what: str) -> None:
    wait_until(
        lambda: model.objects.get(pk=pk).state in ("succeeded", "failed"),
        timeout=RECOVERY_SECONDS,
        what=what,
        details=process.tail,
    )


def _events(action: str, object_id) -> int:
    return AuditEvent.objects.filter(action=action, object_id=str(object_id)).count()


def test_an_evaluation_whose_worker_is_killed_mid_run_completes_exactly_once_on_the_next_worker(worker_space):
    member = make_member(ProjectFactory(slug="acme"), "pipeline", "pipe")
    adult = gzip.decompress(ADULT.read_bytes())  # all 32,561 rows: a run of several seconds
    version = _register(member, adult)
    first = worker_space.start_worker("worker-1")
    response = member.client.post(
        f"/api/v1/versions/{version.pk}/evaluations/",
        {"reference": upload(adult, "real.csv"), "seed": "3"},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    evaluation_id = response.json()["id"]

    def evaluating() -> bool:
        evaluation = Evaluation.objects.get(pk=evaluation_id)
        assert evaluation.state in ("queued", "running"), first.tail()
        return evaluation.state == "running" and evaluation.progress > 0  # the engine is at work

    wait_until(evaluating, timeout=90, what="the evaluation to be under way", interval=0.05, details=first.tail)
    first.kill()  # the whole worker: make, Celery's main process and its pool, with SIGKILL
    killed_at = time.monotonic()
    assert Evaluation.objects.get(pk=evaluation_id).state == "running"  # left behind with a dead owner

    second = worker_space.start_worker("worker-2")
    _wait_until_finished(Evaluation, evaluation_id, second, "the evaluation to finish on the new worker")
    assert time.monotonic() - killed_at < RECOVERY_SECONDS
    evaluation = Evaluation.objects.get(pk=evaluation_id)
    assert (evaluation.state, evaluation.attempts, evaluation.progress) == ("succeeded", 2, 100), second.tail()
    assert (_events("evaluation.requeued", evaluation_id), _events("evaluation.succeeded", evaluation_id)) == (1, 1)
    assert _events("evaluation.failed", evaluation_id) == 0
    assert PolicyCheck.objects.filter(evaluation_id=evaluation_id, trigger="evaluation").count() == 1
    version.refresh_from_db()
    assert version.status == "pending_review"
    assert verify_chain().ok


def test_an_evaluation_whose_pool_process_is_killed_completes_exactly_once_on_the_same_worker(worker_space):
    member = make_member(ProjectFactory(slug="acme"), "pipeline", "pipe")
    adult = gzip.decompress(ADULT.read_bytes())
    version = _register(member, adult)
    worker = worker_space.start_worker()
    response = member.client.post(
        f"/api/v1/versions/{version.pk}/evaluations/",
        {"reference": upload(adult, "real.csv"), "kinds": '["quality", "privacy"]'},
        format="multipart",
    )
    evaluation_id = response.json()["id"]

    def evaluating() -> Evaluation | None:
        evaluation = Evaluation.objects.get(pk=evaluation_id)
        return evaluation if evaluation.state == "running" and evaluation.progress > 0 else None

    running = wait_until(
        evaluating, timeout=90, what="the evaluation to be under way", interval=0.05, details=worker.tail
    )
    pool_process = int(running.owner.rsplit(":", 1)[1])
    os.kill(pool_process, signal.SIGKILL)  # Celery's main process lives on and replaces it
    killed_at = time.monotonic()
    _wait_until_finished(
        Evaluation, evaluation_id, worker, "the evaluation to finish after its pool process was killed"
    )
    assert time.monotonic() - killed_at < RECOVERY_SECONDS
    evaluation = Evaluation.objects.get(pk=evaluation_id)
    assert (evaluation.state, evaluation.attempts) == ("succeeded", 2), worker.tail()
    assert evaluation.owner.rsplit(":", 1)[1] != str(pool_process)
    assert (_events("evaluation.succeeded", evaluation_id), _events("evaluation.failed", evaluation_id)) == (1, 0)
    assert worker.alive()
    assert verify_chain().ok


def test_an_export_whose_worker_is_killed_before_it_finished_completes_exactly_once(worker_space):
    project = ProjectFactory(slug="acme")
    auditor = make_member(project, "auditor", "aud")
    # Publish the signing key first: its first signature records that under the audit head's lock, which
    # this test holds below to stop the worker between building the zip and recording its success.
    active_key()
    response = auditor.client.post("/api/v1/exports/", {"project": "acme", "format": "json"}, format="json")
    assert response.status_code == 202, response.content
    export_id = response.json()["id"]
    # Another session holds the audit chain's head: the worker builds the zip, then waits to record the success.
    with psycopg.connect(test_database_url().replace("postgres://", "postgresql://", 1)) as holder:
        holder.execute("SELECT sequence FROM governance_audithead WHERE id = 1 FOR UPDATE")
        first = worker_space.start_worker("worker-1")
        built = worker_space.storage / "exports" / f"{export_id}-1.zip"
        wait_until(built.exists, timeout=90, what="the first attempt to build its zip", details=first.tail)
        first.kill()
        killed_at = time.monotonic()
        holder.rollback()
    assert Export.objects.get(pk=export_id).state == "running"

    second = worker_space.start_worker("worker-2")
    _wait_until_finished(Export, export_id, second, "the export to finish on the new worker")
    assert time.monotonic() - killed_at < RECOVERY_SECONDS
    export = Export.objects.get(pk=export_id)
    assert (export.state, export.attempts, export.file_path) == ("succeeded", 2, f"exports/{export_id}-2.zip")
    assert (_events("export.requeued", export_id), _events("export.succeeded", export_id)) == (1, 1)
    # The lost attempt's zip is gone; the one recorded is the one whose hash the trail holds.
    assert sorted(p.name for p in (worker_space.storage / "exports").iterdir()) == [f"{export_id}-2.zip"]
    assert AuditEvent.objects.get(action="export.succeeded", object_id=export_id).after["sha256"] == export.sha256
    assert verify_chain().ok


def _post(port: int, path: str, token: str, body: dict) -> tuple[int, dict, float]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, json.loads(response.read()), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}"), time.monotonic() - started


def test_with_the_broker_down_requests_are_accepted_and_the_jobs_run_once_it_is_back(worker_space, tmp_path):
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        pytest.fail("needs redis-server on the PATH (the machine's Redis package) to stop and restart a broker")
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"

    def start_broker() -> subprocess.Popen:
        server = subprocess.Popen(
            [redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(
            lambda: subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode == 0,
            timeout=20,
            what="the test's own Redis to start",
        )
        return server

    server = start_broker()
    try:
        worker = worker_space.start_worker("worker", CELERY_BROKER_URL=broker)
        web_port = free_port()
        # Files above 1,000 bytes are registered by a worker, so a registration is a job too.
        worker_space.start_web(web_port, CELERY_BROKER_URL=broker, REGISTRY_INLINE_INSPECT_MAX_BYTES="1000")
        project = ProjectFactory(slug="acme")
        pipeline, auditor = make_member(project, "pipeline", "pipe"), make_member(project, "auditor", "aud")
        adult = gzip.decompress(ADULT.read_bytes())
        head = b"\n".join(adult.split(b"\n")[:401]) + b"\n"
        version = _register(pipeline, head)
        reference = worker_space.data / "acme" / "real.csv"
        reference.parent.mkdir()
        reference.write_bytes(head)

        server.terminate()  # the broker goes away
        server.wait(timeout=20)
        evaluation = _post(
            web_port,
            f"/api/v1/versions/{version.pk}/evaluations/",
            pipeline.token,
            {"reference_uri": f"file://{reference}", "kinds": ["quality"]},
        )
        export = _post(web_port, "/api/v1/exports/", auditor.token, {"project": "acme", "format": "csv"})
        registration = _post(
            web_port,
            "/api/v1/versions/",
            pipeline.token,
            {**registration_json(dataset="adult-2"), "storage_uri": f"file://{reference}"},
        )
        for status, body, seconds in (evaluation, export, registration):
            assert (status, body["state"]) == (202, "queued"), body
            assert seconds < 10  # a hand-off that cannot reach the broker gives up quickly
        assert Evaluation.objects.get(pk=evaluation[1]["id"]).published_at is None

        server = start_broker()  # back (empty: Redis kept nothing)
        jobs = ((Evaluation, evaluation[1]["id"]), (Export, export[1]["id"]), (RegistrationJob, registration[1]["id"]))
        for model, job_id in jobs:
            _wait_until_finished(model, job_id, worker, f"{model.__name__} {job_id} to run once the broker was back")
            job = model.objects.get(pk=job_id)
            assert (job.state, job.attempts) == ("succeeded", 1), worker.tail()
        assert _events("evaluation.succeeded", evaluation[1]["id"]) == 1
        assert _events("export.succeeded", export[1]["id"]) == 1
        assert RegistrationJob.objects.get(pk=registration[1]["id"]).version.dataset.name == "adult-2"
        assert verify_chain().ok
    finally:
        server.terminate()
        server.wait(timeout=20)
