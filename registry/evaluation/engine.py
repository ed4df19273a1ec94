"""Public entry point of the evaluation engine: ``run_evaluation`` (pure pandas/NumPy/sdmetrics, no Django).

It returns an `EvaluationResult` whose fields hold strict JSON data: ``metrics`` {dotted key: number | None},
``results`` {kind: {...} | {"skipped": reason} | {"error": message}}, ``parameters``, ``engine`` and
``durations`` {kind: seconds}.

A kind that was not requested has no results section and no metrics; one that cannot run (missing
configuration, unsupported data) or fails says why in its section and contributes no metrics.

Both cores: the privacy kind (exact and near copies, NewRowSynthesis, singling out, DCR: hashing, sorting and
searching in NumPy and pandas, which release the GIL) runs in a helper thread while the other kinds run in the
calling thread, when the machine has more than one core and the tables hold at most ``CONCURRENT_MAX_ROWS``
rows together (above that, two kinds' working memory at once costs more than the time saved). Every kind reads
the same prepared tables, whose shared caches are built once under locks; the numbers are the same either way
(tested), only ``durations`` overlap. ``engine["concurrent_kinds"]`` says which kinds ran beside the others.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
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
from registry.evaluation.privacy.parts import PartRunner
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

# Kinds that run in a helper thread beside the others (module docstring), and the size limit for doing so.
BACKGROUND_KINDS = ("privacy",)
CONCURRENT_MAX_ROWS = 4_000_000
_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)

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

    # {"name", "version", "reports": "native" | "sdmetrics", "libraries": {package: version}, "concurrent_kinds": [...]}
    engine: dict[str, Any]
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


def _run_kind(kind: str, data: PreparedData, config: EvaluationConfig) -> tuple[KindResult, float]:
    started = time.perf_counter()
    try:
        outcome = _EVALUATORS[kind](data, config)
    except Exception as exc:
        # One failing kind must not lose the others' results; its section carries the error.
        outcome = KindResult(results={"error": f"{type(exc).__name__}: {exc}"})
    return outcome, time.perf_counter() - started


def _background_kinds(data: PreparedData, kinds: Sequence[str]) -> list[str]:
    """The requested kinds to run beside the others (module docstring): none on one core, for one kind, or
    above CONCURRENT_MAX_ROWS."""
    if _CORES < 2 or len(kinds) < 2 or data.rows("real") + data.rows("synthetic") > CONCURRENT_MAX_ROWS:
        return []
    return [kind for kind in kinds if kind in BACKGROUND_KINDS]


def run_evaluation(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    columns: Sequence[Mapping[str, str]],
    config: EvaluationConfig,
    holdout: pd.DataFrame | None = None,
    progress: Callable[[int, str], None] | None = None,
    parts: PartRunner | None = None,
) -> EvaluationResult:
    """Evaluate ``synthetic`` against the real reference; raise EvaluationInputError for bad inputs.

    ``parts``: a runner that computes the DCR's distance searches in parts elsewhere when they exceed its
    ``pairs_per_part`` (``privacy.parts``); the numbers are the same as without one."""
    data = prepare_inputs(real, synthetic, columns, config, holdout)
    data.part_runner = parts
    kinds = [kind for kind in KINDS if kind in config.kinds]
    background = _background_kinds(data, kinds)
    # The calling thread's kinds first, in order; then the helper thread's, waited for in order.
    order = [kind for kind in kinds if kind not in background] + background
    outcomes: dict[str, KindResult] = {}
    durations: dict[str, float] = {}
    summaries = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="evaluation") as pool:
        pending: dict[str, Future] = {kind: pool.submit(_run_kind, kind, data, config) for kind in background}
        for index, kind in enumerate(order):
            if progress is not None:
                progress(round(100 * index / len(order)), kind)
            if kind in pending:
                outcomes[kind], durations[kind] = pending[kind].result()
            else:
                outcomes[kind], durations[kind] = _run_kind(kind, data, config)
            if kind == "quality":
                summaries = _summaries(data)
            if progress is not None:
                progress(round(100 * (index + 1) / len(order)), f"{kind} done")
    metrics: dict[str, Any] = {}
    results: dict[str, Any] = {}
    for kind in kinds:
        metrics.update(outcomes[kind].metrics)
        results[kind] = outcomes[kind].results
        if outcomes[kind].insufficient:
            results.setdefault("insufficient", {}).update(outcomes[kind].insufficient)
    if summaries is not None:
        results["summaries"] = summaries
    return EvaluationResult(
        engine=to_jsonable(
            {
                "name": ENGINE_NAME,
                "version": ENGINE_VERSION,
                "reports": config.report_engine,
                "libraries": library_versions(),
                "concurrent_kinds": background,
            }
        ),
        parameters=to_jsonable(_parameters(data, config)),
        metrics=to_jsonable(metrics),
        results=to_jsonable(results),
        durations=to_jsonable({kind: durations[kind] for kind in kinds}),
    )
