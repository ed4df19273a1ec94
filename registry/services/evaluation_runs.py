"""Running a verified evaluation in a worker: claim, load, evaluate, store; safe to run again after a crash."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
from django.db import transaction
from django.utils import timezone

from governance.audit import audited_atomic, record_event
from governance.context import Actor
from governance.errors import DomainError, InvalidInput
from governance.policies import policy_check_run
from governance.workflow import version_system_transition
from reports.hooks import evidence_changed

from ..evaluation.engine import EvaluationConfig, EvaluationInputError, run_evaluation
from ..evaluation.io import TableError, read_table, sha256_file, sniff_format
from ..lineage import emit
from ..models.evaluations import Evaluation
from ..models.jobs import JobState
from ..storage import discard, resolve_data_uri, stored_path
from .job_support import MAX_ATTEMPTS, actor_for, claimable, heartbeat

logger = logging.getLogger(__name__)


def _claim(evaluation_id: str) -> Evaluation | None:
    with transaction.atomic():
        evaluation = (
            Evaluation.objects.select_for_update()
            .select_related("version__dataset__project")
            .filter(pk=evaluation_id)
            .first()
        )
        if evaluation is None or not claimable(evaluation):
            return None
        now = timezone.now()
        evaluation.state = JobState.RUNNING
        evaluation.attempts += 1
        evaluation.started_at = now
        evaluation.heartbeat_at = now
        evaluation.progress, evaluation.step = 0, "loading data"
        evaluation.save(update_fields=["state", "attempts", "started_at", "heartbeat_at", "progress", "step"])
        return evaluation


def _progress(evaluation_id):
    def report(percent: int, step: str) -> None:
        Evaluation.objects.filter(pk=evaluation_id, state=JobState.RUNNING).update(
            progress=min(max(int(percent), 0), 99), step=step[:64], heartbeat_at=timezone.now()
        )

    return report


def _synthetic_table(evaluation: Evaluation) -> pd.DataFrame:
    version = evaluation.version
    if version.stored_file:
        path = stored_path(version.stored_file)
    else:
        path = resolve_data_uri(version.storage_uri, project=version.dataset.project, field="version")
    if sha256_file(path).sha256 != version.fingerprint:
        raise InvalidInput("the version's bytes changed since registration (fingerprint mismatch)", field="version")
    return _read(path, "version")


def _read(path: Path, field: str) -> pd.DataFrame:
    try:
        return read_table(path, sniff_format(path))
    except FileNotFoundError as exc:
        raise InvalidInput("the file is gone (deleted after an earlier run?)", field=field) from exc
    except TableError as exc:
        raise InvalidInput(str(exc), field=field) from exc


def _engine_inputs(evaluation: Evaluation) -> tuple[list[dict[str, str]], EvaluationConfig]:
    config = dict(evaluation.config)
    overrides = config.pop("sdtypes", {}) or {}
    columns = [{**c, "sdtype": overrides.get(c["name"], c.get("sdtype"))} for c in evaluation.version.schema]
    return columns, EvaluationConfig(**config)


def _fingerprint(path: str) -> str:
    return sha256_file(path).sha256 if Path(path).exists() else ""


def _finish(
    evaluation: Evaluation,
    actor: Actor,
    *,
    outcome: dict[str, Any] | None,
    error: dict | None,
    unfinished: JobState = JobState.RUNNING,
) -> None:
    """Store the outcome once (a repeated finish is a no-op) and move the version on."""
    fields: dict[str, Any] = {}
    # Hash the real data before taking the audit lock: only its fingerprint outlives the run.
    if evaluation.reference_path and not evaluation.reference_fingerprint:
        fields["reference_fingerprint"] = _fingerprint(evaluation.reference_path)
    if evaluation.holdout_path and not evaluation.holdout_fingerprint:
        fields["holdout_fingerprint"] = _fingerprint(evaluation.holdout_path)
    if outcome is not None:
        _add_reference_provenance(evaluation, outcome, fields.get("reference_fingerprint"))
    with audited_atomic():
        fields.update(finished_at=timezone.now(), progress=100 if outcome else 0)
        if outcome is not None:
            fields.update(
                state=JobState.SUCCEEDED,
                step="done",
                metrics=outcome["metrics"],
                results=outcome["results"],
                parameters=outcome["parameters"],
                engine=outcome["engine"],
                durations=outcome["durations"],
                error=None,
            )
            rows = outcome["parameters"].get("rows", {})
            fields["reference_rows"], fields["holdout_rows"] = rows.get("reference"), rows.get("holdout")
        else:
            fields.update(state=JobState.FAILED, step="failed", error=error)
        updated = Evaluation.objects.filter(pk=evaluation.pk, state=unfinished).update(**fields)
        if not updated:
            return
        evidence_changed(str(evaluation.version_id), trigger="evaluation")
        record_event(
            actor=actor,
            action="evaluation.succeeded" if outcome is not None else "evaluation.failed",
            obj=evaluation,
            project=evaluation.version.dataset.project,
            after={"metrics": outcome["metrics"]} if outcome is not None else {"error": error},
        )
        event = "evaluation_succeeded" if outcome is not None else "evaluation_failed"
        version_system_transition(
            actor=actor, version=evaluation.version, event=event, detail={"evaluation": str(evaluation.pk)}
        )
        if outcome is not None:
            # In the same transaction: a version never waits for review without its policy verdict.
            policy_check_run(actor=actor, version=evaluation.version, trigger="evaluation")
            emit.evaluation_succeeded(Evaluation.objects.select_related("version__registered_by").get(pk=evaluation.pk))
    _forget_real_data(evaluation)


def _add_reference_provenance(evaluation: Evaluation, outcome: dict[str, Any], computed: str | None) -> None:
    """Was the reference the registry evaluated against the real data the version names as its source?

    A pipeline chooses the reference it sends; when sources declare their fingerprint, the verdict says
    whether the evidence describes the data the generator learned from. No declared fingerprint: no metric.
    """
    reference = computed or evaluation.reference_fingerprint
    declared = sorted({s.fingerprint for s in evaluation.version.sources.all() if s.fingerprint})
    section = {"reference_fingerprint": reference, "declared_source_fingerprints": declared}
    if declared:
        matches = reference in declared
        outcome["metrics"]["evidence.reference_is_declared_source"] = int(matches)
        section["matches"] = matches
    else:
        section["skipped"] = "no source of this version declares a fingerprint"
    outcome["results"]["provenance"] = section


def _forget_real_data(evaluation: Evaluation) -> None:
    """Delete the uploaded real data once the run is over; only fingerprints stay (unless configured otherwise).

    Each table by its own flag: a file read in place under a data root belongs to the pipeline.
    """
    from django.conf import settings

    if settings.REGISTRY_KEEP_REFERENCE_DATA:
        return
    cleared = {}
    for table in ("reference", "holdout"):
        if getattr(evaluation, f"{table}_owned"):
            discard(getattr(evaluation, f"{table}_path"))
            cleared[f"{table}_path"] = ""
    if cleared:
        Evaluation.objects.filter(pk=evaluation.pk).update(**cleared)


def evaluation_fail(
    evaluation: Evaluation, error: dict, actor: Actor | None = None, *, unfinished: JobState = JobState.RUNNING
) -> None:
    """End an evaluation still in the `unfinished` state as failed with a readable reason."""
    _finish(evaluation, actor or actor_for(evaluation), outcome=None, error=error, unfinished=unfinished)


def evaluation_run(*, evaluation_id: str) -> Evaluation | None:
    """Evaluate a queued (or redelivered) evaluation; None when it had already finished."""
    evaluation = _claim(evaluation_id)
    if evaluation is None:
        return None
    actor = actor_for(evaluation)
    if evaluation.attempts > MAX_ATTEMPTS:
        evaluation_fail(
            evaluation, {"detail": f"gave up after {MAX_ATTEMPTS} attempts (worker lost or crashed)"}, actor
        )
        return Evaluation.objects.get(pk=evaluation.pk)
    version_system_transition(
        actor=actor,
        version=evaluation.version,
        event="evaluation_started",
        detail={"evaluation": str(evaluation.pk)},
    )
    try:
        with heartbeat(Evaluation, evaluation.pk):
            synthetic = _synthetic_table(evaluation)
            real = _read(Path(evaluation.reference_path), "reference")
            holdout = _read(Path(evaluation.holdout_path), "holdout") if evaluation.holdout_path else None
            columns, config = _engine_inputs(evaluation)
            outcome = run_evaluation(
                real,
                synthetic,
                columns=columns,
                config=config,
                holdout=holdout,
                progress=_progress(evaluation.pk),
            )
    except EvaluationInputError as exc:
        evaluation_fail(evaluation, {exc.field: [exc.reason]}, actor)
    except DomainError as exc:
        evaluation_fail(evaluation, exc.as_data(), actor)
    else:
        kinds = [kind for kind in evaluation.config.get("kinds", []) if kind in outcome["results"]]
        errors = {kind: outcome["results"][kind]["error"] for kind in kinds if "error" in outcome["results"][kind]}
        if errors and len(errors) == len(kinds):
            # Nothing was evaluated: that is a failure, not evidence.
            detail = "every kind failed: " + "; ".join(f"{kind}: {error}" for kind, error in errors.items())
            evaluation_fail(evaluation, {"detail": detail}, actor)
        else:
            _finish(evaluation, actor, outcome=outcome, error=None)
    return Evaluation.objects.get(pk=evaluation.pk)
