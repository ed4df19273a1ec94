"""An evaluation's DCR searches in parts (services.evaluation_parts): claimed, leased, shared, combined exactly."""

from __future__ import annotations

import io
from datetime import timedelta

import pandas as pd
import pytest
from django.utils import timezone

from core.jobs.owner import this_process
from registry.models import Evaluation, EvaluationPart
from registry.services.evaluation_parts import _store_plan, claim_part
from registry.services.evaluation_runs import help_with_parts
from tests.support import registration_form, upload

KINDS = '["privacy"]'


def _csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


@pytest.fixture
def tables(adult):
    reference = adult.iloc[:500].reset_index(drop=True)
    synthetic = pd.concat([adult.iloc[500:880], reference.iloc[:20]], ignore_index=True)
    holdout = adult.iloc[900:1200].reset_index(drop=True)
    return {"reference": _csv(reference), "synthetic": _csv(synthetic), "holdout": _csv(holdout)}


@pytest.fixture
def version(pipeline, tables):
    response = pipeline.client.post(
        "/api/v1/versions/", {**registration_form(), "file": upload(tables["synthetic"])}, format="multipart"
    )
    assert response.status_code == 201
    return response.json()["id"]


def _evaluate(pipeline, version, tables, capture) -> dict:
    with capture(execute=True):
        response = pipeline.client.post(
            f"/api/v1/versions/{version}/evaluations/",
            {
                "reference": upload(tables["reference"], "real.csv"),
                "holdout": upload(tables["holdout"], "holdout.csv"),
                "kinds": KINDS,
                "seed": "4",
            },
            format="multipart",
        )
    assert response.status_code == 202, response.content
    return pipeline.client.get(f"/api/v1/evaluations/{response.json()['id']}/").json()


def test_an_evaluation_in_parts_has_the_numbers_of_one_in_one_piece(
    pipeline, version, tables, settings, django_capture_on_commit_callbacks
):
    settings.REGISTRY_EVALUATION_PART_PAIRS = 0
    whole = _evaluate(pipeline, version, tables, django_capture_on_commit_callbacks)
    settings.REGISTRY_EVALUATION_PART_PAIRS = 100 * 500  # 100 synthetic rows against the 500 training rows
    split = _evaluate(pipeline, version, tables, django_capture_on_commit_callbacks)
    assert (whole["state"], split["state"]) == ("succeeded", "succeeded")
    parts = split["results"]["privacy"]["dcr"].pop("split")
    # 400 synthetic rows (nearest two) and 400 random ones against 500, 400 against the 300 holdout rows (166 a part).
    assert parts == {
        "pairs_per_part": 50_000,
        "parts": 4 + 4 + 3,
        "computed_by": {this_process(): 11},
        "helpers_asked": 0,
    }
    assert "split" not in whole["results"]["privacy"]["dcr"]
    assert split["metrics"] == whole["metrics"]
    assert split["results"] == whole["results"]
    # Scratch rows are gone once the evaluation ended.
    assert EvaluationPart.objects.count() == 0


def _running_evaluation(pipeline, version, tables, settings, capture) -> Evaluation:
    """An evaluation left running after its tables were read (as if its worker were busy elsewhere)."""
    settings.REGISTRY_KEEP_REFERENCE_DATA = True  # its worker would still have them
    settings.REGISTRY_EVALUATION_PART_PAIRS = 0
    finished = _evaluate(pipeline, version, tables, capture)
    evaluation = Evaluation.objects.get(pk=finished["id"])
    Evaluation.objects.filter(pk=evaluation.pk).update(state="running")
    evaluation.refresh_from_db()
    return evaluation


def _plan(count: int) -> list[dict]:
    return [
        {"table": "synthetic", "reference": "real", "nearest": 2, "start": 100 * i, "stop": 100 * (i + 1)}
        for i in range(count)
    ]


def test_a_helper_computes_every_part_nobody_holds_and_stops(
    pipeline, version, tables, settings, django_capture_on_commit_callbacks
):
    evaluation = _running_evaluation(pipeline, version, tables, settings, django_capture_on_commit_callbacks)
    _store_plan(evaluation, _plan(4))
    held = claim_part(evaluation.pk, "other-host:1")  # another worker holds part 0, its lease still valid
    assert held.index == 0
    assert help_with_parts(str(evaluation.pk)) == 3
    states = dict(EvaluationPart.objects.filter(evaluation=evaluation).values_list("index", "state"))
    assert states == {0: "running", 1: "done", 2: "done", 3: "done"}
    assert set(EvaluationPart.objects.filter(state="done").values_list("owner", flat=True)) == {this_process()}
    # A lapsed lease (its worker was killed) is claimed again.
    EvaluationPart.objects.filter(pk=held.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert help_with_parts(str(evaluation.pk)) == 1
    retaken = EvaluationPart.objects.get(pk=held.pk)
    assert (retaken.state, retaken.claims, retaken.owner) == ("done", 2, this_process())
    # A store by the old holder, whose claim is gone, changes nothing.
    assert EvaluationPart.objects.filter(pk=held.pk, claims=1).update(result=b"stale") == 0


def test_a_helper_does_nothing_for_an_evaluation_that_is_not_running(
    pipeline, version, tables, settings, django_capture_on_commit_callbacks
):
    evaluation = _running_evaluation(pipeline, version, tables, settings, django_capture_on_commit_callbacks)
    _store_plan(evaluation, _plan(2))
    Evaluation.objects.filter(pk=evaluation.pk).update(state="succeeded")
    assert help_with_parts(str(evaluation.pk)) == 0
    assert help_with_parts("00000000-0000-0000-0000-000000000000") == 0
    assert set(EvaluationPart.objects.values_list("state", flat=True)) == {"pending"}


def test_a_retried_attempt_keeps_the_parts_its_predecessor_finished(
    pipeline, version, tables, settings, django_capture_on_commit_callbacks
):
    evaluation = _running_evaluation(pipeline, version, tables, settings, django_capture_on_commit_callbacks)
    _store_plan(evaluation, _plan(3))
    assert help_with_parts(str(evaluation.pk)) == 3
    done = list(EvaluationPart.objects.values_list("pk", "claims"))
    _store_plan(evaluation, _plan(3))  # the same plan: kept
    assert list(EvaluationPart.objects.values_list("pk", "claims")) == done
    _store_plan(evaluation, _plan(2))  # another plan (another pair budget): replaced
    assert list(EvaluationPart.objects.values_list("index", "state")) == [(0, "pending"), (1, "pending")]
