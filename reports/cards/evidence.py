"""Card sections built from evaluations: privacy, quality, bias and the data behind the plots.

Verified results (computed by the registry) and reported ones (submitted by a pipeline) are kept in
separate keys everywhere, so no template can show a reported score as if it were verified.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from registry.models import DatasetVersion, Evaluation
from registry.selectors import HEADLINE_METRICS, Evidence

_HEADLINE = {key: (label, hint) for key, label, hint in HEADLINE_METRICS}
PRIVACY_PREFIXES = ("privacy.", "pii.")
QUALITY_PREFIXES = ("quality.", "diagnostic.", "utility.")
BIAS_PREFIXES = ("fairness.",)
# How many of the worst columns get a real-vs-synthetic plot, and how many slices a fairness plot shows.
PLOTTED_COLUMNS = 4
PLOTTED_SLICES = 12


def metric_rows(metrics: Mapping[str, Any], prefixes: Iterable[str]) -> list[dict[str, Any]]:
    """Label, value and how to read each metric with one of the prefixes: headline order, then by key."""
    prefixes = tuple(prefixes)
    keys = [key for key, _, _ in HEADLINE_METRICS if key in metrics and key.startswith(prefixes)]
    keys += sorted(key for key in metrics if key.startswith(prefixes) and key not in _HEADLINE)
    return [
        {
            "key": key,
            "label": _HEADLINE.get(key, (key, ""))[0],
            "hint": _HEADLINE.get(key, ("", ""))[1],
            "value": metrics[key],
        }
        for key in keys
    ]


def _skipped(results: Mapping[str, Any], kinds: Iterable[str]) -> list[dict[str, str]]:
    out = []
    for kind in kinds:
        section = results.get(kind)
        if isinstance(section, dict) and (section.get("skipped") or section.get("error")):
            reason = section.get("skipped") or f"failed: {section.get('error')}"
            out.append({"kind": kind, "reason": str(reason)})
    return out


def _evaluation_ref(evaluation: Evaluation) -> dict[str, Any]:
    engine = evaluation.engine or {}
    name = f"{engine.get('name', '')} {engine.get('version', '')}".strip()
    if engine.get("reports"):
        sdmetrics = engine.get("libraries", {}).get("sdmetrics", "")
        how = "computed natively, equal to" if engine["reports"] == "native" else "computed by"
        name += f" (quality and diagnostic reports {how} sdmetrics {sdmetrics})"
    return {
        "id": str(evaluation.pk),
        "finished_at": evaluation.finished_at,
        "engine": name,
        "libraries": engine.get("libraries", {}),
        "seed": (evaluation.parameters or {}).get("seed"),
        "kinds": (evaluation.parameters or {}).get("kinds", sorted(evaluation.results or {})),
        "reference_fingerprint": evaluation.reference_fingerprint,
        "reference_rows": evaluation.reference_rows,
        "holdout_fingerprint": evaluation.holdout_fingerprint,
        "holdout_rows": evaluation.holdout_rows,
        "requested_by": evaluation.requested_by.username,
    }


def evaluations_section(evidence: Evidence) -> dict[str, Any]:
    """Which evaluations the card draws on, and the ones still running or failed."""
    return {
        "verified": _evaluation_ref(evidence.verified) if evidence.verified else None,
        "reported": [
            {
                "id": str(e.pk),
                "created_at": e.created_at,
                "tool": e.tool,
                "requested_by": e.requested_by.username,
            }
            for e in evidence.reported
        ],
        "pending": [
            {"id": str(e.pk), "state": e.state, "progress": e.progress, "step": e.step} for e in evidence.pending
        ],
        "failed": [{"id": str(e.pk), "finished_at": e.finished_at, "error": e.error} for e in evidence.failed],
    }


def _reported(evidence: Evidence, prefixes: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    for evaluation in evidence.reported:
        rows = metric_rows(evaluation.metrics or {}, prefixes)
        if rows:
            out.append(
                {
                    "evaluation_id": str(evaluation.pk),
                    "tool": evaluation.tool,
                    "created_at": evaluation.created_at,
                    "requested_by": evaluation.requested_by.username,
                    "metrics": rows,
                }
            )
    return out


def _verified(evidence: Evidence, prefixes: tuple[str, ...], kinds: tuple[str, ...]) -> Evaluation | None:
    evaluation = evidence.verified
    if evaluation is None:
        return None
    has_metrics = any(key.startswith(prefixes) for key in evaluation.metrics or {})
    has_results = any(kind in (evaluation.results or {}) for kind in kinds)
    return evaluation if has_metrics or has_results else None


def privacy_section(evidence: Evidence) -> dict[str, Any]:
    """Copies, distance to closest records, disclosure and direct identifiers; verified apart from reported."""
    evaluation = _verified(evidence, PRIVACY_PREFIXES, ("privacy", "pii"))
    verified = None
    if evaluation is not None:
        results = evaluation.results or {}
        privacy, pii = results.get("privacy") or {}, results.get("pii") or {}
        dcr = privacy.get("dcr") or {}
        copies = privacy.get("exact_copies") or {}
        disclosure = privacy.get("disclosure_protection") or {}
        verified = {
            "evaluation_id": str(evaluation.pk),
            "metrics": metric_rows(evaluation.metrics or {}, PRIVACY_PREFIXES),
            "exact_copies": {k: copies.get(k) for k in ("count", "rate", "distinct_rows_copied")} if copies else None,
            "dcr": {
                "median": dcr.get("median"),
                "quantiles": (dcr.get("distribution") or {}).get("quantiles", {}),
                "zero_count": (dcr.get("distribution") or {}).get("zero_count"),
                "synthetic_rows_evaluated": dcr.get("synthetic_rows_evaluated"),
                "reference_rows": dcr.get("reference_rows"),
                "baseline_score": (dcr.get("baseline") or {}).get("score"),
                "random_median": (dcr.get("baseline") or {}).get("random_median"),
                "overfitting_score": (dcr.get("overfitting") or {}).get("score"),
                "closer_to_training": (dcr.get("overfitting") or {}).get("closer_to_training"),
            }
            if dcr
            else None,
            "disclosure": {
                "score": disclosure.get("score"),
                "known_columns": disclosure.get("known_columns", []),
                "sensitive_columns": disclosure.get("sensitive_columns", []),
            }
            if disclosure
            else None,
            "pii": {
                "flagged_columns": pii.get("flagged_columns", []),
                "replayed_values": sum(c.get("replayed_values", 0) for c in pii.get("columns", []) if c.get("flagged")),
                "free_text_columns": pii.get("free_text_columns", []),
            }
            if "flagged_columns" in pii
            else None,
            "skipped": _skipped(results, ("privacy", "pii")),
        }
    return {"verified": verified, "reported": _reported(evidence, PRIVACY_PREFIXES)}


def _by_column(rows: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {row.get("column"): row for row in rows or []}


def quality_section(evidence: Evidence, version: DatasetVersion) -> dict[str, Any]:
    """Overall scores, a per-column table (shape and validity), scored column pairs and utility."""
    evaluation = _verified(evidence, QUALITY_PREFIXES, ("quality", "diagnostic", "utility"))
    verified = None
    if evaluation is not None:
        results = evaluation.results or {}
        quality, diagnostic, utility = (results.get(k) or {} for k in ("quality", "diagnostic", "utility"))
        shapes = _by_column(quality.get("column_shapes"))
        validity = _by_column(diagnostic.get("data_validity"))
        columns = [
            {
                "column": c.get("name"),
                "sdtype": c.get("sdtype", ""),
                "shape_metric": shapes.get(c.get("name"), {}).get("metric"),
                "shape_score": shapes.get(c.get("name"), {}).get("score"),
                "validity_metric": validity.get(c.get("name"), {}).get("metric"),
                "validity_score": validity.get(c.get("name"), {}).get("score"),
            }
            for c in version.schema or []
        ]
        pairs = sorted(
            (p for p in quality.get("column_pair_trends") or [] if p.get("score") is not None),
            key=lambda p: (p["score"], p.get("columns", [])),
        )
        verified = {
            "evaluation_id": str(evaluation.pk),
            "metrics": metric_rows(evaluation.metrics or {}, QUALITY_PREFIXES),
            "columns": columns,
            "pairs": [
                {
                    "columns": " / ".join(str(c) for c in p.get("columns", [])),
                    "metric": p.get("metric"),
                    "score": p["score"],
                    "real": p.get("real_correlation")
                    if p.get("real_correlation") is not None
                    else p.get("real_association"),
                }
                for p in pairs
            ],
            "utility": {k: utility.get(k) for k in ("target", "task", "metric", "model", "tstr", "trtr", "gap")}
            if "tstr" in utility
            else None,
            "skipped": _skipped(results, ("quality", "diagnostic", "utility")),
        }
    return {"verified": verified, "reported": _reported(evidence, QUALITY_PREFIXES)}


def bias_section(evidence: Evidence) -> dict[str, Any]:
    """Per sensitive attribute: the distribution gap and every slice's shares, score and flags."""
    evaluation = _verified(evidence, BIAS_PREFIXES, ("fairness",))
    verified = None
    if evaluation is not None:
        fairness = (evaluation.results or {}).get("fairness") or {}
        keys = ("slice", "real_rows", "synthetic_rows", "real_share", "synthetic_share", "score", "gap", "flags")
        verified = {
            "evaluation_id": str(evaluation.pk),
            "metrics": metric_rows(evaluation.metrics or {}, BIAS_PREFIXES),
            "attributes": [
                {
                    "attribute": a.get("attribute"),
                    "tvd": a.get("tvd"),
                    "overall_score": a.get("overall_score"),
                    "slices": [{k: s.get(k) for k in keys} for s in a.get("slices", [])],
                }
                for a in fairness.get("attributes", [])
            ],
            "thresholds": fairness.get("thresholds", {}),
            "skipped": _skipped(evaluation.results or {}, ("fairness",)),
        }
    return {"verified": verified, "reported": _reported(evidence, BIAS_PREFIXES)}


def plots_section(evidence: Evidence) -> dict[str, Any]:
    """The numbers the plots draw: stored distribution summaries of the worst columns, matrices, slice shares."""
    evaluation = evidence.verified
    empty = {
        "evaluation_id": None,
        "distributions": None,
        "correlations": None,
        "associations": None,
        "fairness": [],
        "proximity": None,
        "membership": None,
    }
    if evaluation is None:
        return empty
    results = evaluation.results or {}
    summaries = results.get("summaries") or {}
    stored = summaries.get("columns") or {}
    shapes = [c for c in (results.get("quality") or {}).get("column_shapes") or [] if c.get("score") is not None]
    worst = sorted(shapes, key=lambda c: (c["score"], c["column"]))
    distributions = [
        {"column": c["column"], "score": c["score"], "metric": c.get("metric"), **stored[c["column"]]}
        for c in worst
        if c["column"] in stored and not stored[c["column"]].get("skipped")
    ][:PLOTTED_COLUMNS]
    fairness = [
        {
            "attribute": a.get("attribute"),
            "slices": [
                {k: s.get(k) for k in ("slice", "real_share", "synthetic_share")}
                for s in sorted(a.get("slices", []), key=lambda s: -(s.get("real_share") or 0))[:PLOTTED_SLICES]
            ],
        }
        for a in (results.get("fairness") or {}).get("attributes", [])
    ]
    holdout = (results.get("privacy") or {}).get("holdout_evidence") or {}
    membership = holdout.get("membership") or {}
    return {
        **empty,
        "evaluation_id": str(evaluation.pk),
        "distributions": distributions or None,
        "correlations": summaries.get("correlations"),
        "associations": summaries.get("associations"),
        "fairness": fairness,
        "proximity": holdout.get("dcr_histogram"),
        "membership": {"roc": membership["roc"], "auc": membership.get("auc")} if membership.get("roc") else None,
    }
