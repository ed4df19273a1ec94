"""Fairness kind: how each group (slice) of a sensitive attribute is represented and reproduced.

Per sensitive attribute (numerical or datetime ones cut into ``fairness_numeric_bins`` quantile bins of
the real data; missing values are a slice of their own):

- ``tvd``: total variation distance between the real and synthetic category shares, 1/2 * sum |p - q| over
  every category of either table (plain TVD: no 1e-6 smoothing as in sdmetrics' TVComplement).
- per slice: real/synthetic rows and shares and a column-shape score, the mean of sdmetrics'
  KSComplement (numerical/datetime) or TVComplement (categorical/boolean/ordinal) over the other non-id
  columns, computed only on that slice's rows. The attribute's overall score is the same mean on all
  rows. Slices with fewer than ``fairness_min_slice_rows`` real rows (or no synthetic row) are reported
  but not scored.
- flags: ``missing`` (real rows but no synthetic row), ``under_represented`` (synthetic share below
  ``fairness_under_representation_ratio`` times the real share, default 0.8), ``distorted`` (slice score below
  the overall score by more than ``fairness_distortion_margin``, default 0.1).

Metrics: ``fairness.max_tvd`` (over attributes), ``fairness.max_slice_gap`` (largest overall - slice
score over scored slices), ``fairness.flagged_slices`` (slices with at least one flag).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sdmetrics.single_column import KSComplement, TVComplement

from registry.evaluation.config import EvaluationConfig, KindResult
from registry.evaluation.keys import joint_codes
from registry.evaluation.prepare import NUMERIC_SDTYPES, PreparedData
from registry.evaluation.sdmetrics_support import seeded_numpy


def _shape_score(real: pd.DataFrame, synthetic: pd.DataFrame, sdtypes: dict[str, str]) -> float | None:
    scores = []
    for name, sdtype in sdtypes.items():
        if real[name].isna().all() or synthetic[name].isna().all():
            continue  # no value to compare in this slice: the column does not count
        metric = KSComplement if sdtype in NUMERIC_SDTYPES else TVComplement
        score = float(metric.compute(real[name], synthetic[name]))
        if not np.isnan(score):
            scores.append(score)
    return float(np.mean(scores)) if scores else None


def _slice_labels(real: pd.Series, synthetic: pd.Series, sdtype: str, bins: int) -> tuple[pd.Series, pd.Series]:
    if sdtype not in NUMERIC_SDTYPES:
        return real.astype(object), synthetic.astype(object)
    if sdtype == "datetime":
        real = real.astype("int64").where(real.notna())
        synthetic = synthetic.astype("int64").where(synthetic.notna())
    edges = np.unique(np.quantile(real.dropna().to_numpy(dtype=np.float64), np.linspace(0, 1, bins + 1)))
    if edges.size < 2:
        return real.astype(object), synthetic.astype(object)
    last = edges.size - 2
    labels = [f"[{edges[i]:g}, {edges[i + 1]:g}{']' if i == last else ')'}" for i in range(last + 1)]
    # Synthetic values outside the real range fall in the outer bins.
    inner = edges[1:-1]
    real_bins = np.searchsorted(inner, real.to_numpy(dtype=np.float64), side="right")
    synthetic_bins = np.searchsorted(inner, synthetic.to_numpy(dtype=np.float64), side="right")
    as_label = np.array(labels, dtype=object)
    return (
        pd.Series(np.where(real.isna(), None, as_label[real_bins]), index=real.index, dtype=object),
        pd.Series(np.where(synthetic.isna(), None, as_label[synthetic_bins]), index=synthetic.index, dtype=object),
    )


def _attribute(data: PreparedData, name: str, config: EvaluationConfig) -> dict:
    others = {column: sdtype for column, sdtype in data.evaluated.items() if column != name}
    real_labels, synthetic_labels = _slice_labels(
        data.real[name], data.synthetic[name], data.sdtypes[name], config.fairness_numeric_bins
    )
    (real_codes, synthetic_codes), categories = joint_codes([real_labels, synthetic_labels])
    real_counts = np.bincount(real_codes, minlength=len(categories))
    synthetic_counts = np.bincount(synthetic_codes, minlength=len(categories))
    real_share = real_counts / len(real_codes)
    synthetic_share = synthetic_counts / len(synthetic_codes)
    tvd = float(0.5 * np.abs(real_share - synthetic_share).sum())
    overall = _shape_score(data.real, data.synthetic, others)
    slices = []
    # Largest real slices first; categories only in the synthetic data come last.
    for code in sorted(range(len(categories)), key=lambda c: (-real_counts[c], -synthetic_counts[c], c)):
        category = categories[code]
        real_rows, synthetic_rows = int(real_counts[code]), int(synthetic_counts[code])
        entry: dict = {
            "slice": None if pd.isna(category) else category,
            "real_rows": real_rows,
            "synthetic_rows": synthetic_rows,
            "real_share": float(real_share[code]),
            "synthetic_share": float(synthetic_share[code]),
            "flags": [],
        }
        if real_rows > 0 and synthetic_rows == 0:
            entry["flags"].append("missing")
        elif synthetic_share[code] < config.fairness_under_representation_ratio * real_share[code]:
            entry["flags"].append("under_represented")
        if real_rows < config.fairness_min_slice_rows or synthetic_rows == 0:
            entry["score"] = None
            entry["not_scored"] = f"fewer than {config.fairness_min_slice_rows} real rows or no synthetic row"
        else:
            real_slice, synthetic_slice = (
                data.real[real_codes == code],
                data.synthetic[synthetic_codes == code],
            )
            score = _shape_score(real_slice, synthetic_slice, others)
            entry["score"] = score
            entry["gap"] = None if score is None or overall is None else overall - score
            if entry["gap"] is not None and entry["gap"] > config.fairness_distortion_margin:
                entry["flags"].append("distorted")
        slices.append(entry)
    return {"attribute": name, "tvd": tvd, "overall_score": overall, "slices": slices}


def evaluate_fairness(data: PreparedData, config: EvaluationConfig) -> KindResult:
    """Evaluate each configured sensitive attribute's slices."""
    if not config.sensitive_attributes:
        return KindResult.skipped("no sensitive_attributes in the config")
    with seeded_numpy(config.seed):
        attributes = [_attribute(data, name, config) for name in config.sensitive_attributes]
    gaps = [s["gap"] for a in attributes for s in a["slices"] if s.get("gap") is not None]
    metrics = {
        "fairness.max_tvd": max(a["tvd"] for a in attributes),
        "fairness.max_slice_gap": max(gaps) if gaps else None,
        "fairness.flagged_slices": sum(1 for a in attributes for s in a["slices"] if s["flags"]),
    }
    results = {
        "attributes": attributes,
        "thresholds": {
            "min_slice_rows": config.fairness_min_slice_rows,
            "under_representation_ratio": config.fairness_under_representation_ratio,
            "distortion_margin": config.fairness_distortion_margin,
            "numeric_bins": config.fairness_numeric_bins,
        },
    }
    return KindResult(metrics=metrics, results=results)
