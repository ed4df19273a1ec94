"""The job framework itself (core.jobs), through a kind whose work each test scripts."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from config.celery import app as celery_app
from core import jobs
from core.audit import audited_atomic, verify_chain
from core.context import Actor
from core.errors import InvalidInput
from core.hooks import Hook, worker_tick
from core.jobs import kinds
from core.jobs.owner import not_working_on, process_gone, this_process, working_on
from core.jobs.task import run_job
from core.jobs.worker import maintenance_pass
from core.models import AuditEvent
from reports.models import Export
from tests.core.probe import ProbeKind


@pytest.fixture
def probe(monkeypatch):
    monkeypatch.setitem(kinds._PATHS, "probe", "tests.core.probe:ProbeKind")
    monkeypatch.setitem(kinds._RESOLVED, "probe", ProbeKind())
    monkeypatch.setattr(ProbeKind, "cleaned", [])

    def script(behaviour):
        monkeypatch.setattr(ProbeKind, "script", staticmethod(behaviour))

    return script


@pytest.fixture
def actor(pipeline):
    return Actor(user=pipeline.user, via="test", request_id="req-1")


def _enqueue(actor, project) -> Export:
    with audited_atomic():
        return jobs.enqueue("probe", Export(project=project, format="json"), actor=actor, details={"asked": 1})


def test_a_job_is_queued_in_the_callers_transaction_and_run_after_the_commit(
    probe, actor, project, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = _enqueue(actor, project)
    job.refresh_from_db()
    assert (job.state, job.owner, job.attempts, job.published_at, len(callbacks)) == (
        "queued",
        this_process(),
        0,
        None,
        1,
    )
    requested = AuditEvent.objects.get(action="probe.requested")
    assert (requested.object_id, requested.after, requested.request_id) == (str(job.pk), {"asked": 1}, "req-1")

    callbacks[0]()  # the commit: embedded, the hand-off runs the job in-process
    job.refresh_from_db()
    assert (job.state, job.progress, job.step, job.attempts, job.publications) == ("succeeded", 100, "done", 1, 1)
    assert job.manifest == {"done": True}
    succeeded = AuditEvent.objects.get(action="probe.succeeded")
    assert (succeeded.after, succeeded.actor_via, succeeded.request_id) == (
        {"outcome": {"done": True}},
        "test (worker)",
        "req-1",
    )
    assert ProbeKind.cleaned == [str(job.pk)]
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_is_refused(probe, actor, project):
    with pytest.raises(RuntimeError, match="must run inside the transaction"):
        jobs.enqueue("probe", Export(project=project, format="json"), actor=actor, details={})
    assert Export.objects.count() == 0


def test_a_refusal_fails_the_job_with_the_reason_and_a_crash_with_the_error(probe, actor, project):
    def refuse(run):
        run.progress(40, "checking")
        raise InvalidInput("not like this", field="format")

    probe(refuse)
    job = jobs.run("probe", _enqueue(actor, project).pk)
    assert (job.state, job.step, job.progress, job.error) == ("failed", "failed", 40, {"format": ["not like this"]})
    assert AuditEvent.objects.get(action="probe.failed").after == {"error": {"format": ["not like this"]}}

    def crash(run):
        raise ZeroDivisionError("division by zero")

    probe(crash)
    job = jobs.run("probe", _enqueue(actor, project).pk)
    assert (job.state, job.error) == ("failed", {"detail": "internal error: ZeroDivisionError: division by zero"})
    assert len(ProbeKind.cleaned) == 2


def test_progress_is_clamped_below_100_until_the_job_succeeded(probe, actor, project):
    seen = []

    def work(run):
        for percent in (-5, 50, 100, 250):
            run.progress(percent, "x" * 80)
            seen.append(Export.objects.values_list("progress", "step").get(pk=run.job.pk))
        return {}

    probe(work)
    jobs.run("probe", _enqueue(actor, project).pk)
    assert seen == [(0, "x" * 64), (50, "x" * 64), (99, "x" * 64), (99, "x" * 64)]


def test_an_attempt_that_was_taken_over_stops_at_its_next_progress_report(probe, actor, project):
    def taken_over(run):
        # Meanwhile another worker decided this one was dead and claimed the job: attempt 2.
        Export.objects.filter(pk=run.job.pk).update(attempts=2, owner="worker-7:4242")
        run.progress(50, "half way")
        raise AssertionError("progress must stop a superseded attempt")

    probe(taken_over)
    job = jobs.run("probe", _enqueue(actor, project).pk)
    assert (job.state, job.attempts, job.owner, job.progress) == ("running", 2, "worker-7:4242", 0)
    assert not AuditEvent.objects.filter(action__in=["probe.succeeded", "probe.failed"]).exists()
    assert ProbeKind.cleaned == []


def test_an_attempt_that_was_taken_over_cannot_finish_the_job(probe, actor, project):
    def finishes_late(run):
        Export.objects.filter(pk=run.job.pk).update(attempts=2, owner="worker-7:4242")
        return {"stale": True}

    probe(finishes_late)
    job = jobs.run("probe", _enqueue(actor, project).pk)
    assert (job.state, job.manifest) == ("running", {})
    assert not AuditEvent.objects.filter(action="probe.succeeded").exists()


@pytest.mark.django_db(transaction=True)  # the heartbeat writes from its own thread and connection
def test_the_heartbeat_beats_while_the_work_runs(probe, actor, project, settings):
    settings.REGISTRY_JOB_HEARTBEAT_SECONDS = 0.05
    beats = []

    def slow(run):
        start = Export.objects.get(pk=run.job.pk).heartbeat_at
        time.sleep(0.5)
        beats.append(Export.objects.get(pk=run.job.pk).heartbeat_at > start)
        return {}

    probe(slow)
    job = _enqueue(actor, project)  # committed at once here: the hand-off runs it in-process
    job.refresh_from_db()
    assert (job.state, beats) == ("succeeded", [True])


def test_a_duplicate_delivery_of_a_finished_job_does_nothing(probe, actor, project):
    job = jobs.run("probe", _enqueue(actor, project).pk)
    events = AuditEvent.objects.count()
    assert jobs.run("probe", job.pk) is None
    assert run_job.apply(args=["probe", str(job.pk)]).get() is None
    assert AuditEvent.objects.count() == events


def test_a_broker_that_is_down_leaves_the_job_queued_for_the_reaper(
    probe, actor, project, monkeypatch, django_capture_on_commit_callbacks
):
    celery_app.conf.task_always_eager = False  # the autouse fixture restores it

    def down(args):
        raise ConnectionRefusedError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(run_job, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        job = _enqueue(actor, project)  # no exception reaches the caller
    job.refresh_from_db()
    assert (job.state, job.published_at, job.publications) == ("queued", None, 0)

    handed = []
    monkeypatch.setattr(run_job, "apply_async", lambda args: handed.append(args))
    assert jobs.reap(kinds=["probe"]) == {"probe": 0}  # the process that queued it gets a few seconds first
    later = timezone.now() + timedelta(seconds=11)
    assert jobs.reap(now=later, kinds=["probe"]) == {"probe": 1}
    assert handed == [["probe", str(job.pk)]]
    job.refresh_from_db()
    assert (job.published_at, job.publications) == (later, 1)


def test_only_one_process_hands_over_a_job(probe, actor, project, monkeypatch):
    celery_app.conf.task_always_eager = False
    handed = []
    monkeypatch.setattr(run_job, "apply_async", lambda args: handed.append(args))
    job = _enqueue(actor, project)
    assert (jobs.publish("probe", job.pk), jobs.publish("probe", job.pk)) == (True, False)
    assert len(handed) == 1


def test_an_unknown_kind_is_named(probe):
    with pytest.raises(LookupError, match="no job kind 'nope' is registered \\(known: evaluation, export, probe"):
        jobs.kind_named("nope")


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_owners_of_this_host_are_checked_for_life():
    host = socket.gethostname()
    dead = f"{host}:{_dead_pid()}"
    assert (process_gone(dead), process_gone(f"{host}:1"), process_gone("other-host:1")) == (True, False, False)
    assert (process_gone(this_process()), process_gone(""), process_gone("legacy")) == (False, False, False)
    assert not_working_on(dead, "probe", "j1")
    # This very process owns the job but is not running it: an attempt that crashed and is retried here.
    assert not_working_on(this_process(), "probe", "j1")
    with working_on("probe", "j1"):
        assert not not_working_on(this_process(), "probe", "j1")
        assert not_working_on(this_process(), "probe", "j2")
    assert not not_working_on("other-host:1", "probe", "j1")


def test_a_running_job_of_a_gone_process_is_taken_over_by_the_next_delivery(probe, actor, project):
    job = _enqueue(actor, project)
    Export.objects.filter(pk=job.pk).update(
        state="running", attempts=1, owner=f"{socket.gethostname()}:{_dead_pid()}", heartbeat_at=timezone.now()
    )
    job = jobs.run("probe", job.pk)
    assert (job.state, job.attempts, job.owner) == ("succeeded", 2, this_process())


def test_hooks_take_exactly_their_declared_arguments_and_subscribe_once():
    hook = Hook("probe_hook", arguments=("version_id",), doc="for the test")
    calls = []

    def receiver(**payload):
        calls.append(payload)

    hook.connect(receiver)
    hook.connect(receiver)
    hook.send(version_id="v1")
    assert calls == [{"version_id": "v1"}]
    with pytest.raises(TypeError, match=r"hook probe_hook takes \['version_id'\], got \['trigger', 'version_id'\]"):
        hook.send(version_id="v1", trigger="x")
    hook.disconnect(receiver)
    hook.send(version_id="v2")
    assert calls == [{"version_id": "v1"}]


def test_the_upper_layers_subscribe_to_the_registry_hooks():
    from registry import hooks

    subscribed = {
        hook.name: sorted(f"{r.__module__}.{r.__name__}" for r in hook.receivers)
        for hook in (hooks.evidence_changed, hooks.evaluation_started, hooks.evaluation_finished, worker_tick)
    }
    assert subscribed == {
        "evidence_changed": ["reports.receivers.card_refresh_schedule"],
        "evaluation_started": ["governance.receivers.evaluation_started"],
        "evaluation_finished": ["governance.receivers.evaluation_finished"],
        "worker_tick": ["core.checkpoints.checkpoint_on_tick", "registry.lineage.emit.send_lineage_outbox_soon"],
    }


def test_a_hook_receiver_runs_inside_the_senders_transaction(db):
    hook = Hook("probe_tx", arguments=(), doc="for the test")
    inside = []
    hook.connect(lambda: inside.append(transaction.get_connection().in_atomic_block))
    with transaction.atomic():
        hook.send()
    assert inside == [True]


@pytest.mark.django_db
def test_the_maintenance_pass_reaps_then_ticks_and_survives_a_database_outage(monkeypatch, caplog):
    calls = []
    monkeypatch.setattr("core.jobs.worker.reap", lambda: calls.append("reap") or {"evaluation": 0})
    monkeypatch.setattr(worker_tick, "_receivers", [lambda: calls.append("tick")])
    maintenance_pass()
    assert calls == ["reap", "tick"]

    def outage():
        from django.db import OperationalError

        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("core.jobs.worker.reap", outage)
    maintenance_pass()  # logged, not raised: the next pass retries
    assert "worker maintenance pass failed" in caplog.text
