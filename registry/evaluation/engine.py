"""Public entry point of the evaluation engine: ``run_evaluation`` (pure pandas/NumPy/sdmetrics, no Django).

It returns an `EvaluationResult` whose fields hold strict JSON data: ``metrics`` {dotted key: number | None},
``results`` {kind: {...} | {"skipped": reason} | {"error": message}}, ``parameters``, ``engine`` and
``durations`` {kind: seconds}.

A kind that was not requested has no results section and no metrics; one that cannot run (missing
configuration, unsupported data) or fails says why in its section and contributes no metrics.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from common.jsonable import to_jsonable
from registry.evaluation.config import KINDS, EvaluationConfig, KindResult
from registry.evaluation.diagnostics import evaluate_diagnostic
from registry.evaluation.errors import EvaluationInputError
from registry.evaluation.fairness import evaluate_fairness
from registry.evaluation.pii import evaluate_pii
from registry.evaluation.prepare import PreparedData, prepare_inputs
from registry.evaluation.privacy import evaluate_privacy
from registry.evaluation.quality import evaluate_quality
from registry.evaluation.sdmetrics_support import library_versions
from registry.evaluation.summaries import distribution_summaries
from registry.evaluation.utility import evaluate_utility

__all__ = [
    "ENGINE_NAME",
    "ENGINE_VERSION",
    "EvaluationConfig",
    "EvaluationInputError",
    "EvaluationResult",
    "run_evaluation",
]

ENGINE_NAME = "registry-evaluation"
# 2: quality and diagnostic reports computed natively (equal to sdmetrics 0.32); "reports" says by what.
ENGINE_VERSION = "2"

_EVALUATORS: dict[str, Callable[[PreparedData, EvaluationConfig], KindResult]] = {
    "quality": evaluate_quality,
    "diagnostic": evaluate_diagnostic,
    "privacy": evaluate_privacy,
    "pii": evaluate_pii,
    "fairness": evaluate_fairness,
    "utility": evaluate_utility,
}


@dataclass(frozen=True)
class EvaluationResult:
    """What one evaluation produced; every field is plain JSON data, ready to store."""

    engine: dict[str, Any]  # {"name", "version", "reports": "native" | "sdmetrics", "libraries": {package: version}}
    parameters: dict[str, Any]  # every setting that influenced the numbers, the row counts and the columns
    metrics: dict[str, float | int | None]  # flat dotted keys, what policies read
    results: dict[str, dict[str, Any]]  # per kind: details, or {"skipped": reason} or {"error": message}
    durations: dict[str, float]  # seconds per kind

    @property
    def insufficient(self) -> dict[str, str]:
        """Metric key -> why its sample was too small to mean anything (its value is None)."""
        return self.results.get("insufficient", {})

    def errors(self, kinds: Sequence[str]) -> dict[str, str]:
        """The kinds among `kinds` that crashed, with their error."""
        return {kind: self.results[kind]["error"] for kind in kinds if "error" in self.results.get(kind, {})}

    @property
    def rows(self) -> dict[str, int | None]:
        """Rows per table: reference, synthetic and holdout (None without one)."""
        return self.parameters["rows"]


def _parameters(data: PreparedData, config: EvaluationConfig) -> dict[str, Any]:
    parameters = config.as_parameters()
    parameters["kinds"] = [kind for kind in KINDS if kind in config.kinds]
    parameters["rows"] = {
        "reference": data.rows("real"),
        "synthetic": data.rows("synthetic"),
        "holdout": None if data.compact("holdout") is None else data.rows("holdout"),
    }
    parameters["columns"] = [{"name": name, "sdtype": sdtype} for name, sdtype in data.sdtypes.items()]
    parameters["normalisation_notes"] = data.notes
    return parameters


def _summaries(data: PreparedData) -> dict[str, Any]:
    """What dataset cards plot, since the real data itself is not kept after the evaluation; computed right after
    the quality report, whose value codes and sorted columns it reads, which are then released."""
    try:
        return distribution_summaries(
            data.compact("real"),
            data.compact("synthetic"),
            data.sdtypes,
            codes=data.joint_codes,
            ordered=data.take_sorted,
        )
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        data.forget_sorted()


def run_evaluation(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    columns: Sequence[Mapping[str, str]],
    config: EvaluationConfig,
    holdout: pd.DataFrame | None = None,
    progress: Callable[[int, str], None] | None = None,
) -> EvaluationResult:
    """Evaluate ``synthetic`` against the real reference; raise EvaluationInputError for bad inputs."""
    data = prepare_inputs(real, synthetic, columns, config, holdout)
    kinds = [kind for kind in KINDS if kind in config.kinds]
    metrics: dict[str, Any] = {}
    results: dict[str, Any] = {}
    durations: dict[str, float] = {}
    summaries = None
    for index, kind in enumerate(kinds):
        if progress is not None:
            progress(round(100 * index / len(kinds)), kind)
        started = time.perf_counter()
        try:
            outcome = _EVALUATORS[kind](data, config)
        except Exception as exc:
            # One failing kind must not lose the others' results; its section carries the error.
            outcome = KindResult(results={"error": f"{type(exc).__name__}: {exc}"})
        durations[kind] = time.perf_counter() - started
        metrics.update(outcome.metrics)
        results[kind] = outcome.results
        if outcome.insufficient:
            results.setdefault("insufficient", {}).update(outcome.insufficient)
        if kind == "quality":
            summaries = _summaries(data)
        if progress is not None:
            progress(round(100 * (index + 1) / len(kinds)), f"{kind} done")
    if summaries is not None:
        results["summaries"] = summaries
    return EvaluationResult(
        engine=to_jsonable(
            {
                "name": ENGINE_NAME,
                "version": ENGINE_VERSION,
                "reports": config.report_engine,
                "libraries": library_versions(),
            }
        ),
        parameters=to_jsonable(_parameters(data, config)),
        metrics=to_jsonable(metrics),
        results=to_jsonable(results),
        durations=to_jsonable(durations),
    )
