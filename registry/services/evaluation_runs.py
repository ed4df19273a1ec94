"""Verified evaluations as a kind of job: a worker loads the tables, runs the engine and stores the evidence.

The job framework (core.jobs) claims, beats, finishes, fails and reaps; this module supplies the work and the
success step. The version's status and policy check follow through the `evaluation_*` hooks (governance).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from common.digest import sha256_file
from core.context import Actor
from core.errors import InvalidInput
from core.jobs import JobKind, JobRun
from core.jobs.owner import this_process
from core.models import JobState, Project

from ..hooks import evaluation_finished, evaluation_started, evidence_changed
from ..lineage import emit
from ..models import Evaluation
from ..storage import discard, resolve_data_uri, stored_path
from ..table_limits import table_input_error, table_limits
from ..tables.formats import TableError, sniff_format
from .evaluation_parts import WorkerParts, claim_part, claimable_parts, compute_claimed, discard_parts, part_pairs

if TYPE_CHECKING:
    import pandas as pd

    from ..evaluation.engine import EvaluationConfig, EvaluationResult


@dataclass(frozen=True)
class Provenance:
    """Was the reference the registry evaluated against the real data the version names as its source?"""

    metrics: dict[str, int]
    section: dict[str, Any]


@dataclass(frozen=True)
class EvaluationOutcome:
    result: EvaluationResult
    provenance: Provenance


def _read(path: Path, field: str) -> pd.DataFrame:
    from ..tables.reading import read_table  # pandas: kept off django.setup()

    try:
        return read_table(path, sniff_format(path), strings_as_categories=True, limits=table_limits())
    except FileNotFoundError as exc:
        raise InvalidInput("the file is gone (deleted after an earlier run?)", field=field) from exc
    except TableError as exc:
        raise table_input_error(exc, field) from exc


def _synthetic_table(evaluation: Evaluation) -> pd.DataFrame:
    version = evaluation.version
    if version.stored_file:
        path = stored_path(version.stored_file)
    else:
        path = resolve_data_uri(version.storage_uri, project=version.dataset.project, field="version")
    if sha256_file(path).sha256 != version.fingerprint:
        raise InvalidInput("the version's bytes changed since registration (fingerprint mismatch)", field="version")
    return _read(path, "version")


def _engine_inputs(evaluation: Evaluation) -> tuple[list[dict[str, str | None]], EvaluationConfig]:
    """The columns and config the engine takes. The reference's types are the truth: a column's sdtype is
    the requester's override or, without one, what the engine infers from the reference, never what the
    synthetic file's own schema says (a synthetic "37 yrs" must not turn Age into a category)."""
    from ..evaluation.engine import EvaluationConfig  # the data stack: kept off django.setup()

    config = dict(evaluation.config)
    overrides = config.pop("sdtypes", {}) or {}
    columns = [{"name": c["name"], "sdtype": overrides.get(c["name"])} for c in evaluation.version.schema]
    return columns, EvaluationConfig(**config)


def engine_tables(
    evaluation: Evaluation,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None, list[dict[str, str | None]], EvaluationConfig]:
    """What the engine takes for this evaluation: reference, synthetic, holdout, columns and config (read the
    same way by the evaluation's worker and by a worker helping with its parts)."""
    synthetic = _synthetic_table(evaluation)
    real = _read(Path(evaluation.reference_path), "reference")
    holdout = _read(Path(evaluation.holdout_path), "holdout") if evaluation.holdout_path else None
    columns, config = _engine_inputs(evaluation)
    return real, synthetic, holdout, columns, config


def _fingerprint_real_data(evaluation: Evaluation) -> None:
    """Hash the real tables first: only their fingerprints outlive the run, however it ends."""
    fields = {}
    for table in ("reference", "holdout"):
        path = getattr(evaluation, f"{table}_path")
        if path and not getattr(evaluation, f"{table}_fingerprint") and Path(path).exists():
            fields[f"{table}_fingerprint"] = sha256_file(path).sha256
    if fields:
        Evaluation.objects.filter(pk=evaluation.pk).update(**fields)
        for name, value in fields.items():
            setattr(evaluation, name, value)


def _reference_provenance(evaluation: Evaluation) -> Provenance:
    """A pipeline chooses the reference it sends; when sources declare their fingerprint, the verdict says
    whether the evidence describes the data the generator learned from. No declared fingerprint: no metric."""
    reference = evaluation.reference_fingerprint
    declared = sorted({s.fingerprint for s in evaluation.version.sources.all() if s.fingerprint})
    section: dict[str, Any] = {"reference_fingerprint": reference, "declared_source_fingerprints": declared}
    if not declared:
        section["skipped"] = "no source of this version declares a fingerprint"
        return Provenance(metrics={}, section=section)
    matches = reference in declared
    section["matches"] = matches
    return Provenance(metrics={"evidence.reference_is_declared_source": int(matches)}, section=section)


class EvaluationJobKind(JobKind):
    """A verified evaluation of a version against real reference data (and an optional holdout)."""

    name = "evaluation"
    model = Evaluation
    related = ("version__dataset__project",)
    first_step = "loading data"

    def project(self, job: Evaluation) -> Project:
        return job.version.dataset.project

    def work(self, run: JobRun) -> EvaluationOutcome:
        from ..evaluation.engine import EvaluationInputError, run_evaluation  # the data stack

        evaluation: Evaluation = run.job  # type: ignore[assignment]
        evaluation_started.send(evaluation=evaluation, actor=run.actor)
        _fingerprint_real_data(evaluation)
        real, synthetic, holdout, columns, config = engine_tables(evaluation)
        parts = WorkerParts(run) if part_pairs() else None
        try:
            result = run_evaluation(
                real, synthetic, columns=columns, config=config, holdout=holdout, progress=run.progress, parts=parts
            )
        except EvaluationInputError as exc:
            raise InvalidInput(exc.reason, field=exc.field) from exc
        split = result.results.get("privacy", {}).get("dcr", {}).get("split")
        if parts is not None and split is not None:
            # Which process computed how many parts (the evaluation's own worker and its helpers).
            split["computed_by"] = dict(sorted(parts.computed_by.items()))
            split["helpers_asked"] = parts.helpers
        kinds = [kind for kind in evaluation.config.get("kinds", []) if kind in result.results]
        errors = result.errors(kinds)
        if errors and len(errors) == len(kinds):
            # Nothing was evaluated: that is a failure, not evidence.
            raise InvalidInput("every kind failed: " + "; ".join(f"{kind}: {error}" for kind, error in errors.items()))
        return EvaluationOutcome(result=result, provenance=_reference_provenance(evaluation))

    def succeed(self, job: Evaluation, outcome: EvaluationOutcome, actor: Actor) -> dict[str, Any]:
        result, provenance = outcome.result, outcome.provenance
        job.metrics = {**result.metrics, **provenance.metrics}
        job.results = {**result.results, "provenance": provenance.section}
        job.parameters, job.engine, job.durations = result.parameters, result.engine, result.durations
        job.reference_rows, job.holdout_rows = result.rows["reference"], result.rows["holdout"]
        return {"metrics": job.metrics}

    def after_success(self, job: Evaluation, outcome: EvaluationOutcome, actor: Actor) -> None:
        evidence_changed.send(version_id=str(job.version_id), trigger="evaluation")
        # In the same transaction: a version never waits for review without its policy verdict.
        evaluation_finished.send(evaluation=job, actor=actor, succeeded=True)
        emit.evaluation_succeeded(Evaluation.objects.select_related("version__registered_by").get(pk=job.pk))

    def after_failure(self, job: Evaluation, error: dict[str, Any], actor: Actor) -> None:
        evidence_changed.send(version_id=str(job.version_id), trigger="evaluation")
        evaluation_finished.send(evaluation=job, actor=actor, succeeded=False)

    def cleanup(self, job: Evaluation) -> None:
        """Delete the distance parts and the uploaded real data once the run is over; only fingerprints stay
        (unless configured otherwise). Each table by its own flag: a file read in place under a data root is
        the pipeline's."""
        discard_parts(job)
        if settings.REGISTRY_KEEP_REFERENCE_DATA:
            return
        cleared = {}
        for table in ("reference", "holdout"):
            if getattr(job, f"{table}_owned"):
                discard(getattr(job, f"{table}_path"))
                cleared[f"{table}_path"] = ""
        if cleared:
            Evaluation.objects.filter(pk=job.pk).update(**cleared)


def help_with_parts(evaluation_id: str) -> int:
    """A helper's work: compute parts of a running evaluation until none is left; how many it computed."""
    evaluation = Evaluation.objects.select_related("version__dataset__project").filter(pk=evaluation_id).first()
    if evaluation is None or evaluation.state != JobState.RUNNING:
        return 0
    if not claimable_parts(evaluation.pk).exists():
        return 0  # the evaluation's worker (or other helpers) got there first: no need to read the tables
    from ..evaluation.prepare import prepare_inputs  # the data stack
    from ..evaluation.privacy.parts import compute_part

    real, synthetic, holdout, columns, config = engine_tables(evaluation)
    data = prepare_inputs(real, synthetic, columns, config, holdout)
    owner, computed = this_process(), 0
    while Evaluation.objects.filter(pk=evaluation.pk, state=JobState.RUNNING).exists():
        part = claim_part(evaluation.pk, owner)
        if part is None:
            break
        computed += compute_claimed(part, lambda spec: compute_part(data, config, spec))
    return computed
