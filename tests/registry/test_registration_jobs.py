"""Large uploads: hashed on arrival, inspected and registered by a task; failures end the job cleanly."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery import app as celery_app
from core import jobs
from core.audit import verify_chain
from core.context import Actor
from core.jobs.task import run_job
from core.models import AuditEvent
from registry.models import DatasetVersion, RegistrationJob
from tests.support import make_member, registration_form, upload

URL = "/api/v1/versions/"


@pytest.fixture
def small_inline_limit(settings):
    settings.REGISTRY_INLINE_INSPECT_MAX_BYTES = 1000


def _post(member, content, name="synthetic.csv", **form):
    return member.client.post(URL, {**registration_form(**form), "file": upload(content, name)}, format="multipart")


def test_large_upload_is_queued_then_registered_by_the_task(
    pipeline, adult_head_csv, small_inline_limit, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(pipeline, adult_head_csv)
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    assert response["Location"] == f"/api/v1/registrations/{job_id}/"
    assert response.json()["state"] == "queued"
    assert response.json()["byte_count"] == len(adult_head_csv)

    job = pipeline.client.get(f"/api/v1/registrations/{job_id}/").json()
    assert (job["state"], job["version_created"], job["attempts"], job["error"]) == (
        "succeeded",
        True,
        1,
        None,
    )
    version = DatasetVersion.objects.get(pk=job["version"])
    assert (version.row_count, version.column_count, version.registered_by.username) == (200, 15, "pipe")
    assert (settings.REGISTRY_STORAGE_ROOT / version.stored_file).read_bytes() == adult_head_csv
    assert list((settings.REGISTRY_STORAGE_ROOT / "staging").iterdir()) == []
    actions = list(
        AuditEvent.objects.exclude(action="card.rendered").order_by("sequence").values_list("action", flat=True)
    )
    assert actions[-5:] == [
        "registration.queued",
        "dataset.created",
        "generator.created",
        "source.created",
        "version.registered",
    ]
    assert AuditEvent.objects.get(action="version.registered").request_id == job_request_id(job_id)
    assert verify_chain().ok


def job_request_id(job_id):
    return RegistrationJob.objects.get(pk=job_id).request_id


def test_large_upload_of_known_bytes_answers_at_once(
    pipeline, adult_head_csv, settings, django_capture_on_commit_callbacks
):
    first = _post(pipeline, adult_head_csv)
    settings.REGISTRY_INLINE_INSPECT_MAX_BYTES = 1000
    again = _post(pipeline, adult_head_csv)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert RegistrationJob.objects.count() == 0


def test_unparseable_large_upload_fails_the_job_and_writes_nothing_else(
    pipeline, small_inline_limit, settings, django_capture_on_commit_callbacks
):
    content = b"a,b\n" + b"1,2\n" * 300 + b"4,5,6\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(pipeline, content)
    assert response.status_code == 202
    job = RegistrationJob.objects.get(pk=response.json()["id"])
    assert job.state == "failed"
    assert job.error == {"file": ["cannot parse the file as csv: CSV parse error: Expected 2 columns, got 3: 4,5,6"]}
    assert job.version is None
    assert DatasetVersion.objects.count() == 0
    assert list((settings.REGISTRY_STORAGE_ROOT / "staging").iterdir()) == []
    assert AuditEvent.objects.filter(action="registration.failed", object_id=str(job.pk)).count() == 1
    assert verify_chain().ok


def test_running_a_finished_job_again_is_harmless(
    pipeline, adult_head_csv, small_inline_limit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job_id = _post(pipeline, adult_head_csv).json()["id"]
    events = AuditEvent.objects.count()
    assert jobs.run("registration", job_id) is None
    run_job.apply(args=["registration", job_id])
    assert DatasetVersion.objects.count() == 1
    assert AuditEvent.objects.count() == events


def test_a_redelivered_half_done_job_finishes_once(pipeline, adult_head_csv, small_inline_limit):
    # The attempt crashed in this very process after claiming the job, and its task is delivered again here.
    response = _post(pipeline, adult_head_csv)
    RegistrationJob.objects.filter(pk=response.json()["id"]).update(state="running", attempts=1)
    job = jobs.run("registration", response.json()["id"])
    assert (job.state, job.attempts) == ("succeeded", 2)
    assert DatasetVersion.objects.count() == 1


def test_a_job_that_keeps_crashing_gives_up(pipeline, adult_head_csv, small_inline_limit):
    response = _post(pipeline, adult_head_csv)
    RegistrationJob.objects.filter(pk=response.json()["id"]).update(state="running", attempts=3)
    job = jobs.run("registration", response.json()["id"])
    assert (job.state, job.attempts, job.error) == (
        "failed",
        4,
        {"detail": "gave up after 3 attempts (its worker was lost or crashed each time)"},
    )
    assert DatasetVersion.objects.count() == 0


def test_a_delivery_while_another_worker_runs_the_job_does_nothing(pipeline, adult_head_csv, small_inline_limit):
    response = _post(pipeline, adult_head_csv)
    beat = timezone.now() - timedelta(seconds=30)
    RegistrationJob.objects.filter(pk=response.json()["id"]).update(
        state="running", attempts=1, owner="worker-7:4242", started_at=beat, heartbeat_at=beat
    )
    assert jobs.run("registration", response.json()["id"]) is None
    job = RegistrationJob.objects.get(pk=response.json()["id"])
    assert (job.state, job.attempts, job.heartbeat_at) == ("running", 1, beat)
    assert DatasetVersion.objects.count() == 0


def test_with_a_broker_a_job_never_handed_over_is_handed_over_and_registers(
    pipeline, adult_head_csv, small_inline_limit, monkeypatch
):
    response = _post(pipeline, adult_head_csv)  # on_commit never fires: the job stays queued
    job_id = response.json()["id"]
    RegistrationJob.objects.filter(pk=job_id).update(queued_at=timezone.now() - timedelta(minutes=11))
    celery_app.conf.task_always_eager = False  # the autouse fixture restores it
    monkeypatch.setattr(run_job, "apply_async", lambda args: run_job.apply(args=args))
    assert jobs.reap(kinds=["registration"]) == {"registration": 1}
    job = RegistrationJob.objects.get(pk=job_id)
    assert (job.state, job.attempts, job.publications) == ("succeeded", 1, 1)
    assert DatasetVersion.objects.count() == 1


def test_with_a_broker_a_queued_job_no_worker_takes_fails_after_three_publications(
    pipeline, adult_head_csv, small_inline_limit, settings, monkeypatch
):
    response = _post(pipeline, adult_head_csv)
    job_id = response.json()["id"]
    RegistrationJob.objects.filter(pk=job_id).update(
        queued_at=timezone.now() - timedelta(hours=1),
        published_at=timezone.now() - timedelta(minutes=11),
        publications=3,
    )
    celery_app.conf.task_always_eager = False
    published = []
    monkeypatch.setattr(run_job, "apply_async", lambda args: published.append(args))
    assert jobs.reap(kinds=["registration"]) == {"registration": 1}
    job = RegistrationJob.objects.get(pk=job_id)
    assert (job.state, job.error) == (
        "failed",
        {
            "detail": "no worker started it although it was handed to the broker 3 times, 600 s apart; check that a "
            "worker consumes the queue 'registry', then request it again"
        },
    )
    assert published == []
    assert list((settings.REGISTRY_STORAGE_ROOT / "staging").iterdir()) == []  # the staged upload is deleted
    assert AuditEvent.objects.filter(action="registration.failed", object_id=job_id, actor_via="reaper").count() == 1


def test_an_unexpected_error_in_the_task_fails_the_job_with_the_reason(
    pipeline, adult_head_csv, small_inline_limit, monkeypatch
):
    response = _post(pipeline, adult_head_csv)

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("registry.services.registration_jobs.inspect_file", boom)
    run_job.apply(args=["registration", response.json()["id"]])
    job = RegistrationJob.objects.get(pk=response.json()["id"])
    assert (job.state, job.error) == ("failed", {"detail": "internal error: RuntimeError: disk on fire"})


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_large_upload_through_a_real_celery_worker(celery_worker_process, settings, adult_head_csv):
    from tests.factories import ProjectFactory

    settings.REGISTRY_INLINE_INSPECT_MAX_BYTES = 1000
    member = make_member(ProjectFactory(slug="acme"), "pipeline", "pipe")
    response = _post(member, adult_head_csv)
    assert response.status_code == 202
    job_id = response.json()["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = RegistrationJob.objects.get(pk=job_id)
        if job.state in ("succeeded", "failed"):
            break
        time.sleep(0.2)
    log = celery_worker_process["log"].read_text()
    assert job.state == "succeeded", log[-3000:]
    assert "Task core.run_job[" in log
    version = DatasetVersion.objects.get(pk=job.version_id)
    assert (version.row_count, version.column_count) == (200, 15)
    assert verify_chain().ok


def test_failing_an_already_finished_job_keeps_its_outcome(
    pipeline, adult_head_csv, small_inline_limit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job_id = _post(pipeline, adult_head_csv).json()["id"]
    job = RegistrationJob.objects.get(pk=job_id)
    assert jobs.fail("registration", job, {"detail": "late duplicate"}, Actor.system("test")) is None
    job.refresh_from_db()
    assert (job.state, job.error) == ("succeeded", None)
    assert not AuditEvent.objects.filter(action="registration.failed").exists()
