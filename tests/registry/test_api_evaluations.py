"""Evaluations through the API: queued verified runs, reported scores, bad inputs, crash recovery."""

import hashlib
import io
import socket
import subprocess
import sys
import time
from datetime import timedelta

import pandas as pd
import pytest
from django.utils import timezone

from config.celery import app as celery_app
from core.audit import verify_chain
from core.jobs import reap, run
from core.jobs.task import run_job
from core.models import AuditEvent
from registry.models import DatasetVersion, Evaluation
from tests.support import make_member, registration_form, upload

EXPECTED_METRICS = {
    "quality.overall",
    "quality.column_shapes",
    "quality.column_pair_trends",
    "quality.detection",
    "diagnostic.overall",
    "diagnostic.data_validity",
    "diagnostic.data_structure",
    "privacy.exact_copies",
    "privacy.exact_copy_rate",
    "privacy.new_row_synthesis",
    "privacy.dcr_median",
    "privacy.dcr_baseline_protection",
    "privacy.near_copy_rate",
    "privacy.singling_out",
    "diagnostic.type_conformance",
    "pii.columns",
    "pii.replayed_values",
    "pii.free_text_columns",
    "fairness.max_tvd",
    "fairness.max_slice_gap",
    "fairness.flagged_slices",
}


def _csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


@pytest.fixture
def tables(adult):
    """A 'synthetic' table holding 30 rows copied from the reference, the reference, and a holdout."""
    reference = adult.iloc[:400].reset_index(drop=True)
    synthetic = pd.concat([adult.iloc[400:670], reference.iloc[:30]], ignore_index=True)
    holdout = adult.iloc[700:900].reset_index(drop=True)
    return {"reference": _csv(reference), "synthetic": _csv(synthetic), "holdout": _csv(holdout)}


@pytest.fixture
def version(pipeline, tables):
    response = pipeline.client.post(
        "/api/v1/versions/", {**registration_form(), "file": upload(tables["synthetic"])}, format="multipart"
    )
    assert response.status_code == 201
    return DatasetVersion.objects.get(pk=response.json()["id"])


def _evaluate(member, version, tables, **fields):
    body = {"reference": upload(tables["reference"], "real.csv"), **fields}
    return member.client.post(f"/api/v1/versions/{version.pk}/evaluations/", body, format="multipart")


def test_verified_evaluation_runs_and_moves_the_version_to_pending_review(
    pipeline, version, tables, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _evaluate(
            pipeline,
            version,
            tables,
            holdout=upload(tables["holdout"], "holdout.csv"),
            sensitive_attributes='["sex"]',
            kinds='["quality", "diagnostic", "privacy", "pii", "fairness"]',
            seed="3",
        )
    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"] == f"/api/v1/evaluations/{body['id']}/"
    assert (body["origin"], body["state"]) == ("verified", "queued")

    result = pipeline.client.get(f"/api/v1/evaluations/{body['id']}/").json()
    assert (result["state"], result["progress"], result["step"], result["error"]) == ("succeeded", 100, "done", None)
    holdout_metrics = {
        "privacy.dcr_overfitting_protection",
        "privacy.near_copy_excess",
        "privacy.dcr_share",
        "privacy.nndr_p10",
        "privacy.nndr_p10_holdout",
        "privacy.nndr_p10_ratio",
        "privacy.membership_auc",
        "privacy.membership_tpr_at_fpr_1pct",
        "privacy.membership_tpr_at_fpr_0_1pct",
        "privacy.membership_max_group_auc",
    }
    assert set(result["metrics"]) == EXPECTED_METRICS | holdout_metrics
    # 200 holdout rows resolve a 1% false-positive rate, not a 0.1% one.
    assert result["metrics"]["privacy.membership_tpr_at_fpr_0_1pct"] is None
    assert result["results"]["insufficient"] == {
        "privacy.membership_tpr_at_fpr_0_1pct": "needs at least 1000 holdout records to resolve a 0.1% "
        "false-positive rate; got 200"
    }
    assert result["metrics"]["privacy.exact_copies"] == 30
    assert result["metrics"]["privacy.exact_copy_rate"] == 30 / 300
    assert result["config"]["seed"] == 3
    assert result["parameters"]["seed"] == 3
    assert result["engine"]["libraries"]["sdmetrics"].startswith("0.32")
    assert result["reference_fingerprint"] == hashlib.sha256(tables["reference"]).hexdigest()
    assert result["holdout_fingerprint"] == hashlib.sha256(tables["holdout"]).hexdigest()
    assert (result["reference_rows"], result["holdout_rows"]) == (400, 200)
    assert set(result["results"]) == {
        "quality",
        "diagnostic",
        "privacy",
        "pii",
        "fairness",
        "provenance",
        "summaries",
        "insufficient",
    }
    # The source declares no fingerprint, so whether the reference is the source cannot be told.
    assert result["results"]["provenance"] == {
        "reference_fingerprint": hashlib.sha256(tables["reference"]).hexdigest(),
        "declared_source_fingerprints": [],
        "skipped": "no source of this version declares a fingerprint",
    }
    assert "evidence.reference_is_declared_source" not in result["metrics"]

    version.refresh_from_db()
    assert version.status == "pending_review"
    transitions = [
        (e.before["status"], e.after["status"]) for e in AuditEvent.objects.filter(action="version.status_changed")
    ]
    assert transitions == [("registered", "evaluating"), ("evaluating", "pending_review")]
    assert AuditEvent.objects.filter(action="evaluation.succeeded", object_id=body["id"]).count() == 1
    # Real data is not kept: only its fingerprint.
    assert list((settings.REGISTRY_STORAGE_ROOT / "staging").iterdir()) == []
    assert Evaluation.objects.get(pk=body["id"]).reference_path == ""
    assert verify_chain().ok


def test_same_inputs_give_the_same_numbers(pipeline, version, tables, django_capture_on_commit_callbacks):
    ids = []
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            ids.append(_evaluate(pipeline, version, tables, kinds='["quality", "privacy"]').json()["id"])
    first, second = (Evaluation.objects.get(pk=i) for i in ids)
    assert first.metrics == second.metrics
    assert first.results == second.results


def test_the_report_engine_is_chosen_and_recorded_and_both_give_the_same_scores(
    pipeline, version, tables, django_capture_on_commit_callbacks
):
    evaluations = {}
    for engine in ("native", "sdmetrics"):
        with django_capture_on_commit_callbacks(execute=True):
            response = _evaluate(pipeline, version, tables, kinds='["quality", "diagnostic"]', report_engine=engine)
        assert response.status_code == 202, response.content
        evaluations[engine] = Evaluation.objects.get(pk=response.json()["id"])
    native, reference = evaluations["native"], evaluations["sdmetrics"]
    assert (native.parameters["report_engine"], reference.parameters["report_engine"]) == ("native", "sdmetrics")
    assert native.results["quality"]["computed_by"] == "registry native engine, equal to sdmetrics 0.32.0 QualityReport"
    assert reference.results["quality"]["computed_by"] == "sdmetrics 0.32.0 QualityReport"
    assert native.results["diagnostic"]["computed_by"] == (
        "registry native engine, equal to sdmetrics 0.32.0 DiagnosticReport"
    )
    assert reference.results["diagnostic"]["computed_by"] == "sdmetrics 0.32.0 DiagnosticReport"
    assert (native.engine["reports"], reference.engine["reports"]) == ("native", "sdmetrics")
    keys = ("quality.overall", "quality.column_shapes", "quality.column_pair_trends", "diagnostic.overall")
    for key in keys:
        assert native.metrics[key] == pytest.approx(reference.metrics[key], abs=1e-9)


def test_reported_scores_are_stored_apart_and_do_not_move_the_version(pipeline, version):
    response = pipeline.client.post(
        f"/api/v1/versions/{version.pk}/evaluations/",
        {"origin": "reported", "tool": "sdmetrics 0.32.0 in the pipeline", "metrics": {"quality.overall": 0.97}},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["origin"], body["state"], body["metrics"]) == ("reported", "succeeded", {"quality.overall": 0.97})
    version.refresh_from_db()
    assert version.status == "registered"
    listing = pipeline.client.get(f"/api/v1/evaluations/?version={version.pk}&origin=verified").json()
    assert listing["count"] == 0


def test_nan_in_reported_results_sent_as_multipart_is_a_400(pipeline, version):
    events = AuditEvent.objects.count()
    response = pipeline.client.post(
        f"/api/v1/versions/{version.pk}/evaluations/",
        {
            "origin": "reported",
            "tool": "pipeline",
            "metrics": '{"quality.overall": 0.9}',
            "results": '{"quality": {"score": NaN}}',
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json() == {"results": ["Invalid JSON: NaN is not a number JSON allows."]}
    assert Evaluation.objects.count() == 0
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"sensitive_attributes": '["ethnicity"]'},
            {"sensitive_attributes": ["not a column of this version: ethnicity"]},
        ),
        ({"target_column": "salary"}, {"target_column": ["not a column of this version: salary"]}),
        (
            {"quasi_identifiers": '["age"]'},
            {"disclosure_sensitive": ["disclosure protection needs both quasi_identifiers and disclosure_sensitive"]},
        ),
        ({"kinds": '["vibes"]'}, {"kinds": {"0": ['"vibes" is not a valid choice.']}}),
        ({"sdtypes": '{"age": "money"}'}, {"sdtypes": {"age": ['"money" is not a valid choice.']}}),
        ({"metrics": '{"a": 1}'}, {"metrics": ["Only for reported evaluations."]}),
        (
            {"cap_missing_datetimes": "ignore"},
            {"cap_missing_datetimes": ['"ignore" is not a valid choice.']},
        ),
        ({"report_engine": "pandas"}, {"report_engine": ['"pandas" is not a valid choice.']}),
    ],
)
def test_bad_configuration_is_a_400_and_nothing_is_queued(pipeline, version, tables, settings, fields, expected):
    events = AuditEvent.objects.count()
    response = _evaluate(pipeline, version, tables, **fields)
    assert response.status_code == 400
    assert response.json() == expected
    assert Evaluation.objects.count() == 0
    assert AuditEvent.objects.count() == events
    assert list((settings.REGISTRY_STORAGE_ROOT / "staging").iterdir()) == []


def test_reference_with_other_columns_is_a_400(pipeline, version, adult, settings):
    other = _csv(adult.iloc[:50].drop(columns=["income", "race"]).assign(salary=1))
    response = pipeline.client.post(
        f"/api/v1/versions/{version.pk}/evaluations/", {"reference": upload(other, "real.csv")}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json() == {
        "reference": ["its columns differ from the version's: missing race, income; extra salary"]
    }
    assert list((settings.REGISTRY_STORAGE_ROOT / "staging").iterdir()) == []


@pytest.mark.parametrize("crossing", ["reference", "holdout"])
def test_the_upload_that_crosses_the_limit_is_named(pipeline, version, tables, settings, crossing):
    # The limit is on the request's total: the reference fits alone, the holdout takes it over.
    limit = len(tables["reference"]) + (10 if crossing == "holdout" else -10)
    settings.REGISTRY_MAX_UPLOAD_BYTES = limit
    response = _evaluate(pipeline, version, tables, holdout=upload(tables["holdout"], "holdout.csv"))
    assert response.status_code == 413
    assert response.json() == {crossing: [f"larger than the upload limit of {limit} bytes"]}
    assert Evaluation.objects.count() == 0
    assert list((settings.REGISTRY_STORAGE_ROOT / "staging").iterdir()) == []


def test_missing_reference_is_a_400(pipeline, version):
    response = pipeline.client.post(f"/api/v1/versions/{version.pk}/evaluations/", {"seed": 1}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "reference": ["Upload the real reference table, or give reference_uri (file:// under a data root)."]
    }


def test_empty_reference_fails_the_evaluation_with_the_reason(
    pipeline, version, tables, django_capture_on_commit_callbacks
):
    header_only = tables["reference"].split(b"\n", 1)[0] + b"\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = pipeline.client.post(
            f"/api/v1/versions/{version.pk}/evaluations/",
            {"reference": upload(header_only, "r.csv")},
            format="multipart",
        )
    evaluation = Evaluation.objects.get(pk=response.json()["id"])
    assert (evaluation.state, evaluation.error) == (
        "failed",
        {"reference": ["the table has a header but no data rows"]},
    )
    version.refresh_from_db()
    assert version.status == "registered"


def test_all_nan_column_fails_with_the_column_named(pipeline, adult, django_capture_on_commit_callbacks):
    synthetic = adult.iloc[:200].copy()
    synthetic["capital_gain"] = float("nan")
    created = pipeline.client.post(
        "/api/v1/versions/", {**registration_form(), "file": upload(_csv(synthetic))}, format="multipart"
    ).json()
    with django_capture_on_commit_callbacks(execute=True):
        response = pipeline.client.post(
            f"/api/v1/versions/{created['id']}/evaluations/",
            {"reference": upload(_csv(adult.iloc[200:400]), "r.csv")},
            format="multipart",
        )
    evaluation = Evaluation.objects.get(pk=response.json()["id"])
    assert evaluation.state == "failed"
    assert evaluation.error == {"synthetic": ["column(s) with only missing values: capital_gain"]}


def test_reviewers_cannot_start_evaluations(reviewer, version, tables, settings):
    response = _evaluate(reviewer, version, tables)
    assert response.status_code == 403
    assert response.json() == {
        "detail": "evaluating versions in project 'acme' is not allowed: your roles there (reviewer)"
    }
    assert list((settings.REGISTRY_STORAGE_ROOT / "staging").iterdir()) == []


def test_declared_versions_cannot_be_evaluated(pipeline, tables):
    created = pipeline.client.post(
        "/api/v1/versions/",
        {
            **{k: v for k, v in registration_form().items()},
            "storage_uri": "s3://b/x.csv",
            "fingerprint": "e" * 64,
            "schema": '[{"name": "age", "dtype": "int64"}]',
            "row_count": "3",
        },
        format="multipart",
    ).json()
    response = pipeline.client.post(
        f"/api/v1/versions/{created['id']}/evaluations/",
        {"reference": upload(b"age\n1\n", "r.csv")},
        format="multipart",
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "the registry cannot read this version's bytes (declared storage): upload it to evaluate"
    }


def test_a_second_request_while_one_is_queued_is_a_conflict(pipeline, version, tables):
    first = _evaluate(pipeline, version, tables)  # on_commit never fires inside the test transaction
    second = _evaluate(pipeline, version, tables)
    assert (first.status_code, second.status_code) == (202, 409)
    assert second.json() == {
        "detail": f"an evaluation of this version is already queued: {first.json()['id']}",
        "evaluation": first.json()["id"],
    }


def test_changed_bytes_fail_the_evaluation(pipeline, version, tables, settings, django_capture_on_commit_callbacks):
    (settings.REGISTRY_STORAGE_ROOT / version.stored_file).write_bytes(tables["synthetic"] + b"1,x\n")
    with django_capture_on_commit_callbacks(execute=True):
        response = _evaluate(pipeline, version, tables)
    evaluation = Evaluation.objects.get(pk=response.json()["id"])
    assert (evaluation.state, evaluation.error) == (
        "failed",
        {"version": ["the version's bytes changed since registration (fingerprint mismatch)"]},
    )


def _stale_running(pipeline, version, tables, owner="worker-7:4242"):
    """An evaluation a worker on another machine claimed an hour ago and has not beaten since."""
    response = _evaluate(pipeline, version, tables, kinds='["quality"]')
    stale = timezone.now() - timedelta(hours=1)
    Evaluation.objects.filter(pk=response.json()["id"]).update(
        state="running", attempts=1, owner=owner, started_at=stale, heartbeat_at=stale
    )
    return response.json()["id"]


@pytest.fixture
def broker(monkeypatch):
    """As with a real broker: a hand-off to the broker is recorded, and a worker runs it at once."""
    celery_app.conf.task_always_eager = False  # the autouse fixture restores it
    handed = []

    def apply_async(args):
        handed.append(args)
        return run_job.apply(args=args)

    monkeypatch.setattr(run_job, "apply_async", apply_async)
    return handed


def test_with_a_broker_an_evaluation_left_running_by_a_dead_worker_is_requeued_and_finishes(
    pipeline, version, tables, broker
):
    evaluation_id = _stale_running(pipeline, version, tables)
    assert reap(kinds=["evaluation"]) == {"evaluation": 1}
    evaluation = Evaluation.objects.get(pk=evaluation_id)
    assert (evaluation.state, evaluation.attempts, broker) == ("succeeded", 2, [["evaluation", evaluation_id]])
    requeued = AuditEvent.objects.get(action="evaluation.requeued", object_id=evaluation_id)
    assert requeued.actor_via == "reaper"
    assert requeued.after["attempt"] == 1
    assert requeued.after["reason"].startswith("worker lost: no heartbeat since ")
    assert AuditEvent.objects.filter(action="evaluation.succeeded", object_id=evaluation_id).count() == 1
    assert run("evaluation", evaluation_id) is None  # a late duplicate delivery does nothing


def test_a_worker_process_of_this_host_that_is_gone_loses_its_job_at_once(pipeline, version, tables, broker):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    evaluation_id = _stale_running(pipeline, version, tables, owner=f"{socket.gethostname()}:{dead.pid}")
    Evaluation.objects.filter(pk=evaluation_id).update(heartbeat_at=timezone.now())  # it beat a moment ago
    assert reap(kinds=["evaluation"]) == {"evaluation": 1}
    evaluation = Evaluation.objects.get(pk=evaluation_id)
    assert (evaluation.state, evaluation.attempts) == ("succeeded", 2)
    reason = AuditEvent.objects.get(action="evaluation.requeued", object_id=evaluation_id).after["reason"]
    assert reason == f"worker lost: its process {socket.gethostname()}:{dead.pid} is gone"


def test_a_job_whose_worker_was_lost_every_time_fails_for_good(pipeline, version, tables, broker):
    evaluation_id = _stale_running(pipeline, version, tables)
    Evaluation.objects.filter(pk=evaluation_id).update(attempts=3)
    assert reap(kinds=["evaluation"]) == {"evaluation": 1}
    evaluation = Evaluation.objects.get(pk=evaluation_id)
    assert (evaluation.state, evaluation.attempts, broker) == ("failed", 3, [])
    assert evaluation.error["detail"].startswith(
        "gave up after 3 attempts (its worker was lost each time; the last time no heartbeat since "
    )
    version.refresh_from_db()
    assert version.status == "registered"


def test_embedded_an_evaluation_left_running_by_a_stopped_process_fails_with_the_reason(pipeline, version, tables):
    evaluation_id = _stale_running(pipeline, version, tables)
    assert reap(kinds=["evaluation"]) == {"evaluation": 1}
    evaluation = Evaluation.objects.get(pk=evaluation_id)
    assert evaluation.state == "failed"
    assert evaluation.error == {
        "detail": "the process running it stopped before it finished (embedded mode: there is no worker to hand "
        "it to); request it again"
    }


def test_a_live_evaluation_is_not_reaped(pipeline, version, tables):
    response = _evaluate(pipeline, version, tables)
    Evaluation.objects.filter(pk=response.json()["id"]).update(
        state="running", attempts=1, owner="worker-7:4242", started_at=timezone.now(), heartbeat_at=timezone.now()
    )
    assert reap(kinds=["evaluation"]) == {"evaluation": 0}


def _queued_since(pipeline, version, tables, minutes):
    response = _evaluate(pipeline, version, tables, kinds='["quality"]')  # on_commit never fires: it stays queued
    then = timezone.now() - timedelta(minutes=minutes)
    Evaluation.objects.filter(pk=response.json()["id"]).update(created_at=then, queued_at=then)
    return response.json()["id"]


def test_embedded_an_evaluation_stuck_in_queued_fails_and_no_longer_blocks_the_version(
    pipeline, version, tables, settings, django_capture_on_commit_callbacks
):
    stuck = _queued_since(pipeline, version, tables, minutes=11)
    with django_capture_on_commit_callbacks(execute=True):
        response = _evaluate(pipeline, version, tables, kinds='["quality"]')  # reaps first
    assert response.status_code == 202, response.content
    evaluation = Evaluation.objects.get(pk=stuck)
    assert (evaluation.state, evaluation.step, evaluation.publications) == ("failed", "failed", 0)
    assert evaluation.error == {
        "detail": "the process that queued it stopped before starting it (embedded mode: there is no worker to "
        "hand it to); request it again"
    }
    failed = AuditEvent.objects.get(action="evaluation.failed", object_id=stuck)
    assert (failed.actor_via, failed.after) == ("reaper", {"error": evaluation.error})
    assert Evaluation.objects.get(pk=response.json()["id"]).state == "succeeded"
    assert list((settings.REGISTRY_STORAGE_ROOT / "staging").iterdir()) == []  # the stuck one's upload too


def test_embedded_a_queued_evaluation_whose_process_is_gone_fails_at_once(pipeline, version, tables):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    evaluation_id = _queued_since(pipeline, version, tables, minutes=0)
    Evaluation.objects.filter(pk=evaluation_id).update(owner=f"{socket.gethostname()}:{dead.pid}")
    assert reap(kinds=["evaluation"]) == {"evaluation": 1}
    assert Evaluation.objects.get(pk=evaluation_id).state == "failed"


def test_a_queued_evaluation_is_reaped_only_after_the_configured_age(pipeline, version, tables, settings):
    evaluation_id = _queued_since(pipeline, version, tables, minutes=9)
    assert reap(kinds=["evaluation"]) == {"evaluation": 0}
    settings.REGISTRY_JOB_QUEUED_STALE_SECONDS = 8 * 60
    assert reap(kinds=["evaluation"]) == {"evaluation": 1}
    assert Evaluation.objects.get(pk=evaluation_id).state == "failed"


def test_with_a_broker_an_evaluation_never_handed_over_is_handed_over_and_finishes(pipeline, version, tables, broker):
    evaluation_id = _queued_since(pipeline, version, tables, minutes=1)
    assert reap(kinds=["evaluation"]) == {"evaluation": 1}
    evaluation = Evaluation.objects.get(pk=evaluation_id)
    assert (evaluation.state, evaluation.attempts, evaluation.publications) == ("succeeded", 1, 1)
    # The original message, delivered late, finds the work done.
    assert run("evaluation", evaluation_id) is None


def test_with_a_broker_a_new_job_is_left_to_the_process_that_queued_it_for_a_few_seconds(
    pipeline, version, tables, broker
):
    _queued_since(pipeline, version, tables, minutes=0)
    assert reap(kinds=["evaluation"]) == {"evaluation": 0}
    assert broker == []


def test_with_a_broker_a_queued_evaluation_no_worker_takes_is_handed_over_three_times_then_failed(
    pipeline, version, tables, settings, monkeypatch
):
    evaluation_id = _queued_since(pipeline, version, tables, minutes=11)
    celery_app.conf.task_always_eager = False
    handed = []
    monkeypatch.setattr(run_job, "apply_async", lambda args: handed.append(args))
    start = timezone.now()
    for round_ in range(3):
        now = start + timedelta(minutes=11 * round_)
        assert reap(now=now, kinds=["evaluation"]) == {"evaluation": 1}
        # Just handed to the broker again: not stale until another full wait.
        assert reap(now=now + timedelta(minutes=9), kinds=["evaluation"]) == {"evaluation": 0}
    assert handed == [["evaluation", evaluation_id]] * 3
    assert Evaluation.objects.get(pk=evaluation_id).publications == 3

    assert reap(now=start + timedelta(minutes=33), kinds=["evaluation"]) == {"evaluation": 1}
    assert len(handed) == 3
    evaluation = Evaluation.objects.get(pk=evaluation_id)
    assert (evaluation.state, evaluation.attempts) == ("failed", 0)
    assert evaluation.error == {
        "detail": "no worker started it although it was handed to the broker 3 times, 600 s apart; check that a "
        "worker consumes the queue 'registry', then request it again"
    }
    assert evaluation.reference_path == ""
    assert list((settings.REGISTRY_STORAGE_ROOT / "staging").iterdir()) == []
    version.refresh_from_db()
    assert version.status == "registered"
    assert verify_chain().ok


def test_a_job_stuck_in_queued_is_not_failed_while_workers_are_busy_with_others(pipeline, version, tables, monkeypatch):
    evaluation_id = _queued_since(pipeline, version, tables, minutes=11)
    Evaluation.objects.filter(pk=evaluation_id).update(published_at=timezone.now() - timedelta(minutes=11))
    Evaluation.objects.filter(pk=evaluation_id).update(publications=3)
    busy = Evaluation.objects.create(
        version=version, origin="verified", state="running", requested_by=pipeline.user, heartbeat_at=timezone.now()
    )
    celery_app.conf.task_always_eager = False
    handed = []
    monkeypatch.setattr(run_job, "apply_async", lambda args: handed.append(args))
    assert reap(kinds=["evaluation"]) == {"evaluation": 1}
    assert (Evaluation.objects.get(pk=evaluation_id).state, handed) == ("queued", [["evaluation", evaluation_id]])
    assert Evaluation.objects.get(pk=busy.pk).state == "running"


def test_a_delivery_while_another_worker_runs_the_evaluation_does_nothing(pipeline, version, tables):
    response = _evaluate(pipeline, version, tables)
    beat = timezone.now() - timedelta(seconds=30)
    Evaluation.objects.filter(pk=response.json()["id"]).update(
        state="running", attempts=1, owner="worker-7:4242", started_at=beat, heartbeat_at=beat
    )
    events = AuditEvent.objects.count()
    assert run("evaluation", response.json()["id"]) is None
    evaluation = Evaluation.objects.get(pk=response.json()["id"])
    assert (evaluation.state, evaluation.attempts, evaluation.heartbeat_at) == ("running", 1, beat)
    assert AuditEvent.objects.count() == events


def test_reference_by_uri_under_a_data_root(pipeline, version, tables, data_root, django_capture_on_commit_callbacks):
    path = data_root / "real.csv"
    path.write_bytes(tables["reference"])
    with django_capture_on_commit_callbacks(execute=True):
        response = pipeline.client.post(
            f"/api/v1/versions/{version.pk}/evaluations/",
            {"reference_uri": path.as_uri(), "kinds": ["quality"]},
            format="json",
        )
    evaluation = Evaluation.objects.get(pk=response.json()["id"])
    assert evaluation.state == "succeeded"
    assert path.exists()  # data the registry reads in place is never deleted


def test_an_uploaded_reference_is_deleted_but_a_holdout_read_in_place_is_kept(
    pipeline, version, tables, data_root, settings, django_capture_on_commit_callbacks
):
    holdout = data_root / "holdout.csv"
    holdout.write_bytes(tables["holdout"])
    with django_capture_on_commit_callbacks(execute=True):
        response = _evaluate(pipeline, version, tables, holdout_uri=holdout.as_uri(), kinds='["quality"]')
    evaluation = Evaluation.objects.get(pk=response.json()["id"])
    assert (evaluation.state, evaluation.reference_owned, evaluation.holdout_owned) == ("succeeded", True, False)
    assert holdout.read_bytes() == tables["holdout"]  # the pipeline's own file
    assert list((settings.REGISTRY_STORAGE_ROOT / "staging").iterdir()) == []
    assert (evaluation.reference_path, evaluation.holdout_path) == ("", str(holdout))


def test_an_uploaded_holdout_is_deleted_but_a_reference_read_in_place_is_kept(
    pipeline, version, tables, data_root, settings, django_capture_on_commit_callbacks
):
    reference = data_root / "real.csv"
    reference.write_bytes(tables["reference"])
    with django_capture_on_commit_callbacks(execute=True):
        response = pipeline.client.post(
            f"/api/v1/versions/{version.pk}/evaluations/",
            {
                "reference_uri": reference.as_uri(),
                "holdout": upload(tables["holdout"], "holdout.csv"),
                "kinds": '["quality"]',
            },
            format="multipart",
        )
    evaluation = Evaluation.objects.get(pk=response.json()["id"])
    assert (evaluation.state, evaluation.reference_owned, evaluation.holdout_owned) == ("succeeded", False, True)
    assert reference.read_bytes() == tables["reference"]
    assert list((settings.REGISTRY_STORAGE_ROOT / "staging").iterdir()) == []  # the real holdout is gone
    assert (evaluation.reference_path, evaluation.holdout_path) == (str(reference), "")
    assert evaluation.holdout_fingerprint == hashlib.sha256(tables["holdout"]).hexdigest()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_evaluation_through_a_real_celery_worker(celery_worker_process, tables):
    from tests.factories import ProjectFactory

    member = make_member(ProjectFactory(slug="acme"), "pipeline", "pipe")
    created = member.client.post(
        "/api/v1/versions/", {**registration_form(), "file": upload(tables["synthetic"])}, format="multipart"
    ).json()
    response = member.client.post(
        f"/api/v1/versions/{created['id']}/evaluations/",
        {"reference": upload(tables["reference"], "real.csv"), "kinds": '["quality", "privacy"]'},
        format="multipart",
    )
    assert response.status_code == 202
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        evaluation = Evaluation.objects.get(pk=response.json()["id"])
        if evaluation.state in ("succeeded", "failed"):
            break
        time.sleep(0.3)
    assert evaluation.state == "succeeded", celery_worker_process["log"].read_text()[-3000:]
    assert evaluation.metrics["privacy.exact_copies"] == 30
    assert DatasetVersion.objects.get(pk=created["id"]).status == "pending_review"
    assert verify_chain().ok


def test_an_evaluation_where_every_kind_failed_is_failed(
    pipeline, version, tables, monkeypatch, django_capture_on_commit_callbacks
):
    from registry.evaluation import engine

    def broken(data, config):
        raise ArithmeticError("numerical trouble")

    monkeypatch.setattr(engine, "_EVALUATORS", {kind: broken for kind in engine._EVALUATORS})
    with django_capture_on_commit_callbacks(execute=True):
        response = _evaluate(pipeline, version, tables, kinds='["quality", "privacy"]')
    evaluation = Evaluation.objects.get(pk=response.json()["id"])
    assert evaluation.state == "failed"
    assert evaluation.error == {
        "detail": "every kind failed: quality: ArithmeticError: numerical trouble; privacy: ArithmeticError: numerical trouble"
    }
    version.refresh_from_db()
    assert version.status == "registered"


@pytest.mark.parametrize(("declared", "expected"), [("reference", 1), ("other", 0)])
def test_the_reference_is_checked_against_the_declared_source(
    pipeline, version, tables, declared, expected, django_capture_on_commit_callbacks
):
    fingerprint = hashlib.sha256(tables["reference"]).hexdigest() if declared == "reference" else "f" * 64
    version.sources.update(fingerprint=fingerprint)
    with django_capture_on_commit_callbacks(execute=True):
        response = _evaluate(pipeline, version, tables, kinds='["quality"]')
    evaluation = Evaluation.objects.get(pk=response.json()["id"])
    assert evaluation.metrics["evidence.reference_is_declared_source"] == expected
    assert evaluation.results["provenance"]["matches"] is bool(expected)


def test_a_gzip_reference_over_the_inflation_limit_is_a_413_and_leaves_nothing(pipeline, version, tables, settings):
    import gzip

    # The header check before queueing reads through the same bounded stream: here it already crosses the
    # cap (a reference that crosses it later fails its job with the same reason: test_hostile_input).
    settings.REGISTRY_MAX_INFLATED_BYTES = 1000
    response = pipeline.client.post(
        f"/api/v1/versions/{version.pk}/evaluations/",
        {"reference": upload(gzip.compress(tables["reference"]), "real.csv.gz")},
        format="multipart",
    )
    assert response.status_code == 413
    assert response.json() == {"reference": ["the gzip file inflates beyond 1000 bytes (REGISTRY_MAX_INFLATED_BYTES)"]}
    assert not Evaluation.objects.exists()
    staging = settings.REGISTRY_STORAGE_ROOT / "staging"
    assert not staging.exists() or list(staging.iterdir()) == []
