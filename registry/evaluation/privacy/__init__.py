"""Privacy kind: exact copies, NewRowSynthesis, DCR scores and disclosure protection (CAP).

Every number follows sdmetrics 0.32's definition (see the submodules); only the algorithms differ.
Real (reference) rows are never subsampled; ``dcr_synthetic_sample`` may subsample synthetic rows for
the DCR scores, which then carry bootstrap intervals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from registry.evaluation.config import EvaluationConfig, KindResult
from registry.evaluation.prepare import PreparedData
from registry.evaluation.privacy.copies import column_codes, exact_copies, new_row_synthesis
from registry.evaluation.privacy.dcr_scores import (
    baseline_score,
    bootstrap_intervals,
    distribution,
    overfitting_protection,
    random_baseline_table,
)
from registry.evaluation.privacy.disclosure import disclosure_protection
from registry.evaluation.privacy.distance import DCR_SDTYPES, distance_to_closest_record

__all__ = ["evaluate_privacy"]


def _synthetic_sample(data: PreparedData, config: EvaluationConfig) -> tuple[pd.DataFrame, bool]:
    size = config.dcr_synthetic_sample
    if size is None or size >= len(data.synthetic):
        return data.synthetic, False
    rows = np.sort(np.random.default_rng(config.seed).choice(len(data.synthetic), size=size, replace=False))
    return data.synthetic.iloc[rows].reset_index(drop=True), True


def _dcr(data: PreparedData, config: EvaluationConfig, metrics: dict) -> dict:
    sdtypes = data.evaluated
    columns = [name for name, sdtype in sdtypes.items() if sdtype in DCR_SDTYPES]
    if not columns:
        return {"skipped": "no numerical, datetime, categorical or boolean column to measure distances on"}
    synthetic, sampled = _synthetic_sample(data, config)
    references = [len(data.real)] + ([len(data.holdout)] if data.holdout is not None else [])
    pairs = len(synthetic) * max(references)
    if pairs > config.dcr_max_pairs:
        return {
            "skipped": f"{len(synthetic)} synthetic x {max(references)} reference rows exceed dcr_max_pairs "
            f"({config.dcr_max_pairs}); set dcr_synthetic_sample to score a sample of synthetic rows"
        }
    dcr_synthetic = distance_to_closest_record(synthetic, data.real, sdtypes)
    random_table = random_baseline_table(data.real, len(synthetic), config.seed)
    dcr_random = distance_to_closest_record(random_table, data.real, sdtypes)
    synthetic_median = float(np.median(dcr_synthetic))
    random_median = float(np.median(dcr_random))
    score = baseline_score(synthetic_median, random_median)
    metrics["privacy.dcr_median"] = synthetic_median
    metrics["privacy.dcr_baseline_protection"] = score
    result = {
        "columns": columns,
        "synthetic_rows_evaluated": len(synthetic),
        "synthetic_sample": config.dcr_synthetic_sample if sampled else None,
        "reference_rows": len(data.real),
        "median": synthetic_median,
        "distribution": distribution(dcr_synthetic),
        "baseline": {
            "score": score,
            "random_median": random_median,
            "random_distribution": distribution(dcr_random),
            "random_table": f"uniform per column over the real ranges and categories, numpy default_rng({config.seed})",
        },
    }
    if sampled:
        result["confidence_interval_95"] = bootstrap_intervals(
            dcr_synthetic, dcr_random, config.dcr_bootstrap_resamples, config.seed
        )
    if data.holdout is None:
        result["overfitting"] = {"skipped": "no holdout table was given"}
    else:
        dcr_holdout = distance_to_closest_record(synthetic, data.holdout, sdtypes)
        overfitting = overfitting_protection(dcr_synthetic, dcr_holdout)
        overfitting["holdout_rows"] = len(data.holdout)
        result["overfitting"] = overfitting
        metrics["privacy.dcr_overfitting_protection"] = overfitting["score"]
    return result


def _as_numbers(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    frame = frame.copy()
    for name in names:
        if pd.api.types.is_datetime64_any_dtype(frame[name]):
            # Float nanoseconds with NaN: pd.to_numeric would turn NaT into the int64 minimum.
            values = frame[name].to_numpy(dtype="datetime64[ns]").view(np.int64).astype(np.float64)
            frame[name] = np.where(frame[name].isna(), np.nan, values)
    return frame


def _disclosure(data: PreparedData, config: EvaluationConfig, metrics: dict) -> dict:
    known, sensitive = list(config.quasi_identifiers), list(config.disclosure_sensitive)
    if not known or not sensitive:
        return {"skipped": "needs quasi_identifiers and disclosure_sensitive in the config"}
    columns = list(dict.fromkeys(known + sensitive))
    continuous = [name for name in columns if data.sdtypes[name] in ("numerical", "datetime")]
    result = disclosure_protection(
        _as_numbers(data.real[columns], continuous),
        _as_numbers(data.synthetic[columns], continuous),
        known,
        sensitive,
        continuous,
        config.cap_num_discrete_bins,
    )
    metrics["privacy.disclosure_protection"] = result["score"]
    return result


def evaluate_privacy(data: PreparedData, config: EvaluationConfig) -> KindResult:
    """Run every privacy measure that the inputs allow."""
    metrics: dict = {}
    columns = list(data.evaluated)
    codes = column_codes(data.real, data.synthetic, columns)
    copies = exact_copies(data.real, data.synthetic, columns, codes)
    copied = copies.pop("copied_mask")
    metrics["privacy.exact_copies"] = copies["count"]
    metrics["privacy.exact_copy_rate"] = copies["rate"]
    rows = new_row_synthesis(
        data.real, data.synthetic, data.evaluated, config.new_row_tolerance, already_matched=copied, codes=codes
    )
    metrics["privacy.new_row_synthesis"] = rows["score"]
    results = {
        "exact_copies": copies,
        "new_row_synthesis": rows,
        "dcr": _dcr(data, config, metrics),
        "disclosure_protection": _disclosure(data, config, metrics),
    }
    return KindResult(metrics=metrics, results=results)
