"""Asking for an evaluation (verified, run by a worker) or recording one a pipeline computed (reported)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core import jobs
from core.audit import audited_atomic, record_event
from core.context import Actor
from core.errors import Conflict, InvalidInput
from core.models import JobState
from core.permissions import require_capability
from core.roles import Capability

from ..evaluation.config import CAP_MISSING_DATETIMES, KINDS, REPORT_ENGINES
from ..evaluation.sdtypes import SDTYPES
from ..hooks import evidence_changed
from ..models import DatasetVersion, Evaluation, EvaluationOrigin
from ..storage import discard
from ..table_limits import table_input_error, table_limits
from ..tables.formats import TableError, check_declared_format, format_from_name, sniff_format
from ..tables.limits import check_header
from ..tables.reading import read_column_names

COLUMN_LISTS = ("sensitive_attributes", "quasi_identifiers", "disclosure_sensitive")


@dataclass(frozen=True)
class TableInput:
    """A real table handed to an evaluation: a staged upload (deleted after use) or a file under a data root."""

    path: Path
    owned: bool
    fingerprint: str = ""
    declared_format: str | None = None
    name: str = ""

    def discard(self) -> None:
        if self.owned:
            discard(self.path)


def _schema_names(version: DatasetVersion) -> list[str]:
    return [column["name"] for column in version.schema]


def validate_evaluation_config(version: DatasetVersion, raw: dict[str, Any]) -> dict[str, Any]:
    """The engine configuration for this version, with every named column checked against its schema."""
    names = set(_schema_names(version))
    config: dict[str, Any] = {"kinds": list(raw.get("kinds") or KINDS), "seed": int(raw.get("seed", 0))}
    unknown_kinds = sorted(set(config["kinds"]) - set(KINDS))
    if unknown_kinds:
        raise InvalidInput(f"unknown kinds: {', '.join(unknown_kinds)}; expected {', '.join(KINDS)}", field="kinds")
    for key in COLUMN_LISTS:
        columns = list(raw.get(key) or [])
        missing = [c for c in columns if c not in names]
        if missing:
            raise InvalidInput(f"not a column of this version: {', '.join(missing)}", field=key)
        config[key] = columns
    if bool(config["quasi_identifiers"]) != bool(config["disclosure_sensitive"]):
        field = "disclosure_sensitive" if config["quasi_identifiers"] else "quasi_identifiers"
        raise InvalidInput("disclosure protection needs both quasi_identifiers and disclosure_sensitive", field=field)
    target = raw.get("target_column")
    if target is not None and target not in names:
        raise InvalidInput(f"not a column of this version: {target}", field="target_column")
    config["target_column"] = target
    if raw.get("dcr_synthetic_sample") is not None:
        config["dcr_synthetic_sample"] = int(raw["dcr_synthetic_sample"])
    if raw.get("cap_missing_datetimes") is not None:
        if raw["cap_missing_datetimes"] not in CAP_MISSING_DATETIMES:
            raise InvalidInput(f"expected one of {', '.join(CAP_MISSING_DATETIMES)}", field="cap_missing_datetimes")
        config["cap_missing_datetimes"] = raw["cap_missing_datetimes"]
    if raw.get("report_engine") is not None:
        if raw["report_engine"] not in REPORT_ENGINES:
            raise InvalidInput(f"expected one of {', '.join(REPORT_ENGINES)}", field="report_engine")
        config["report_engine"] = raw["report_engine"]
    sdtypes = dict(raw.get("sdtypes") or {})
    for column, sdtype in sdtypes.items():
        if column not in names:
            raise InvalidInput(f"not a column of this version: {column}", field="sdtypes")
        if sdtype not in SDTYPES:
            raise InvalidInput(
                f"unknown sdtype {sdtype!r} for {column}; expected {', '.join(SDTYPES)}", field="sdtypes"
            )
    config["sdtypes"] = sdtypes
    # The version's generator constraints: recorded in the evaluation's config, so a re-run scores the same ones.
    config["constraints"] = list(version.constraints or [])
    return config


def _check_table(version: DatasetVersion, table: TableInput, field: str) -> None:
    """Refuse, before queueing, a table of the wrong format or with other columns than the version."""
    try:
        fmt = sniff_format(table.path)
        check_declared_format(fmt, table.declared_format or format_from_name(table.name or table.path.name))
        limits = table_limits()
        columns = read_column_names(table.path, fmt, limits)
        check_header(columns, limits)
    except TableError as exc:
        raise table_input_error(exc, field) from exc
    expected = _schema_names(version)
    missing = [c for c in expected if c not in columns]
    extra = [c for c in columns if c not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if extra:
            parts.append(f"extra {', '.join(extra)}")
        raise InvalidInput(f"its columns differ from the version's: {'; '.join(parts)}", field=field)


def _can_read_bytes(version: DatasetVersion) -> bool:
    return bool(version.stored_file) or version.storage_uri.startswith("file:")


def evaluation_request(
    *,
    actor: Actor,
    version: DatasetVersion,
    config: dict[str, Any],
    reference: TableInput,
    holdout: TableInput | None = None,
) -> Evaluation:
    """Queue a verified evaluation of a version against a real reference (and optional holdout)."""
    try:
        require_capability(
            actor=actor,
            project=version.dataset.project,
            capability=Capability.EVALUATE,
            what="evaluating versions",
        )
        if not _can_read_bytes(version):
            raise Conflict("the registry cannot read this version's bytes (declared storage): upload it to evaluate")
        engine_config = validate_evaluation_config(version, config)
        _check_table(version, reference, "reference")
        if holdout is not None:
            _check_table(version, holdout, "holdout")
        # An evaluation whose worker is gone must not block this request with a 409.
        jobs.reap(kinds=["evaluation"])
        with audited_atomic():
            running = (
                Evaluation.objects.select_for_update()
                .filter(
                    version=version,
                    origin=EvaluationOrigin.VERIFIED,
                    state__in=[JobState.QUEUED, JobState.RUNNING],
                )
                .first()
            )
            if running is not None:
                raise Conflict(
                    f"an evaluation of this version is already {running.state}: {running.pk}",
                    extra={"evaluation": str(running.pk)},
                )
            evaluation = jobs.enqueue(
                "evaluation",
                Evaluation(
                    version=version,
                    origin=EvaluationOrigin.VERIFIED,
                    config=engine_config,
                    reference_fingerprint=reference.fingerprint,
                    reference_path=str(reference.path),
                    reference_owned=reference.owned,
                    holdout_fingerprint=holdout.fingerprint if holdout else "",
                    holdout_path=str(holdout.path) if holdout else "",
                    holdout_owned=holdout.owned if holdout else False,
                ),
                actor=actor,
                details={"version": str(version.pk), "config": engine_config},
            )
    except Exception:
        # A refused request leaves no staged real data behind.
        reference.discard()
        if holdout is not None:
            holdout.discard()
        raise
    return evaluation


def _clean_metrics(metrics: Any) -> dict[str, float | int | None]:
    if not isinstance(metrics, dict) or not metrics:
        raise InvalidInput("must be a non-empty object of metric name to number", field="metrics")
    clean: dict[str, float | int | None] = {}
    for key, value in metrics.items():
        if not isinstance(key, str) or not key or len(key) > 100:
            raise InvalidInput("metric names must be non-empty strings of at most 100 characters", field="metrics")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InvalidInput(f"{key}: must be a number or null", field="metrics")
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput(f"{key}: must be finite", field="metrics")
        clean[key] = value
    return clean


def evaluation_report(
    *, actor: Actor, version: DatasetVersion, metrics: Any, tool: str, results: dict[str, Any] | None = None
) -> Evaluation:
    """Record scores a pipeline computed itself; always kept apart from the registry's verified ones."""
    require_capability(
        actor=actor,
        project=version.dataset.project,
        capability=Capability.EVALUATE,
        what="evaluating versions",
    )
    clean = _clean_metrics(metrics)
    with audited_atomic():
        evaluation = Evaluation.objects.create(
            version=version,
            origin=EvaluationOrigin.REPORTED,
            state=JobState.SUCCEEDED,
            metrics=clean,
            results=results or {},
            tool=tool,
            progress=100,
            requested_by=actor.user,
            requested_via=actor.via[:64],
            request_id=actor.request_id[:64],
        )
        evaluation.finished_at = evaluation.created_at
        evaluation.save(update_fields=["finished_at"])
        record_event(
            actor=actor,
            action="evaluation.reported",
            obj=evaluation,
            project=version.dataset.project,
            after={"version": str(version.pk), "tool": tool, "metrics": clean},
        )
        evidence_changed.send(version_id=str(version.pk), trigger="evaluation")
    return evaluation
