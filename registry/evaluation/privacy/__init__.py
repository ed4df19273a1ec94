"""Privacy kind: the questions a data protection officer must answer (Art. 29 WP Opinion 05/2014: singling
out, linkability, inference; NIST AI 600-1 MS-2.10-001: membership inference).

sdmetrics 0.32's metrics, by its definitions (only the algorithms differ): exact copies, NewRowSynthesis,
DCRBaselineProtection, DCROverfittingProtection and DisclosureProtection (CAP). Beyond sdmetrics, each with
its published source in its module and a 95% interval: near copies (``copies``), singling out
(``singling_out``), DCR share and NNDR (``proximity``), a membership inference attack (``membership``) and
attribute inference advantage (``inference``), per group of each sensitive attribute where it applies.

Minimum evidence: row-level metrics need ``privacy_min_rows`` rows in the synthetic and the reference table,
the holdout-based ones ``privacy_min_holdout_rows`` holdout rows; below that they are insufficient (None,
with the reason), never a number that passes a rule by accident of a tiny sample.

Real (reference) rows are never subsampled for the sdmetrics metrics; ``dcr_synthetic_sample`` may
subsample synthetic rows for the DCR scores, which then carry bootstrap intervals. The holdout-based
evidence compares the holdout with a seeded sample of the training table of the same size.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future, ThreadPoolExecutor

import numpy as np
import pandas as pd

from registry.evaluation.config import EvaluationConfig, KindResult
from registry.evaluation.prepare import PreparedData
from registry.evaluation.privacy.copies import exact_copies, near_copies, new_row_synthesis
from registry.evaluation.privacy.dcr_scores import (
    baseline_score,
    bootstrap_intervals,
    distribution,
    overfitting_protection,
)
from registry.evaluation.privacy.disclosure import disclosure_protection
from registry.evaluation.privacy.distance import DCR_SDTYPES, column_scales, distance_to_closest_record, nearest_two
from registry.evaluation.privacy.inference import inference_advantage
from registry.evaluation.privacy.intervals import clopper_pearson, newcombe_difference
from registry.evaluation.privacy.membership import membership_attack
from registry.evaluation.privacy.parts import distance_table, split_distances, synthetic_sample
from registry.evaluation.privacy.proximity import dcr_share, nndr
from registry.evaluation.privacy.singling_out import quasi_identifier_uniqueness, unique_exact_matches

__all__ = ["evaluate_privacy"]


def _holdout_usable(data: PreparedData, config: EvaluationConfig) -> bool:
    return data.holdout is not None and len(data.holdout) >= config.privacy_min_holdout_rows


def _dcr(data: PreparedData, config: EvaluationConfig, metrics: dict, shared: dict, pool: Executor) -> dict:
    """sdmetrics' DCR scores; the distances go into ``shared`` for the holdout evidence.

    The random baseline's distances (as many rows as the synthetic table, all of them far from the real
    ones, so the costliest search) are computed on ``pool`` while the rest of the privacy kind runs; the
    baseline is completed by ``shared["finish_baseline"]()``.
    """
    sdtypes = data.evaluated
    columns = [name for name, sdtype in sdtypes.items() if sdtype in DCR_SDTYPES]
    if not columns:
        return {"skipped": "no numerical, datetime, categorical or boolean column to measure distances on"}
    sampled = synthetic_sample(data, config)[1]
    synthetic = distance_table(data, config, "synthetic")
    references = [len(data.real)] + ([len(data.holdout)] if data.holdout is not None else [])
    pairs = len(synthetic) * max(references)
    if pairs > config.dcr_max_pairs:
        return {
            "skipped": f"{len(synthetic)} synthetic x {max(references)} reference rows exceed dcr_max_pairs "
            f"({config.dcr_max_pairs}); set dcr_synthetic_sample to score a sample of synthetic rows"
        }
    # The second-nearest training row too when the holdout evidence runs (NNDR): the nearest is sdmetrics' DCR.
    nearest = 2 if _holdout_usable(data, config) else 1
    runner = data.part_runner
    split = None
    if runner is not None and pairs > runner.pairs_per_part:
        # Beyond one worker's budget: every search cut into parts that the runner spreads (module parts).
        searches = [("synthetic", "real", nearest), ("random", "real", 1)]
        if data.holdout is not None:
            searches.append(("synthetic", "holdout", 1))
        found = split_distances(data, config, runner, searches)
        split = {"pairs_per_part": runner.pairs_per_part, "parts": found.pop("parts")}
        to_real = found[("synthetic", "real")]
        random_distances: Future = Future()
        random_distances.set_result(found[("random", "real")])

        def to_holdout() -> np.ndarray:
            return found[("synthetic", "holdout")]
    else:
        search = nearest_two if nearest == 2 else distance_to_closest_record
        to_real = search(synthetic, data.real, sdtypes)
        random_table = distance_table(data, config, "random")
        random_distances = pool.submit(distance_to_closest_record, random_table, data.real, sdtypes)

        def to_holdout() -> np.ndarray:
            return distance_to_closest_record(synthetic, data.holdout, sdtypes)

    if nearest == 2:
        shared["synthetic_nearest"] = to_real
        dcr_synthetic = to_real[:, 0]
    else:
        dcr_synthetic = to_real
    shared["synthetic"] = synthetic
    synthetic_median = float(np.median(dcr_synthetic))
    metrics["privacy.dcr_median"] = synthetic_median
    result = {
        "columns": columns,
        "synthetic_rows_evaluated": len(synthetic),
        "synthetic_sample": config.dcr_synthetic_sample if sampled else None,
        "reference_rows": len(data.real),
        "median": synthetic_median,
        "distribution": distribution(dcr_synthetic),
    }
    if split is not None:
        result["split"] = split

    def finish_baseline() -> None:
        dcr_random = random_distances.result()
        random_median = float(np.median(dcr_random))
        score = baseline_score(synthetic_median, random_median)
        metrics["privacy.dcr_baseline_protection"] = score
        result["baseline"] = {
            "score": score,
            "random_median": random_median,
            "random_distribution": distribution(dcr_random),
            "random_table": (
                f"uniform per column over the real ranges and categories, drawn as sdmetrics draws it with "
                f"DCRBaselineProtection._seed = {config.seed} and np.random.seed({config.seed})"
            ),
        }
        if sampled:
            result["confidence_interval_95"] = bootstrap_intervals(
                dcr_synthetic, dcr_random, config.dcr_bootstrap_resamples, config.seed
            )

    shared["finish_baseline"] = finish_baseline
    if data.holdout is None:
        result["overfitting"] = {"skipped": "no holdout table was given"}
    else:
        dcr_holdout = to_holdout()
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
    # sdmetrics bins pd.to_numeric(datetimes), which turns NaT into the int64 minimum; "category" keeps
    # missing datetimes a category of their own instead.
    as_numbers = continuous if config.cap_missing_datetimes == "category" else []
    result = disclosure_protection(
        _as_numbers(data.real[columns], as_numbers),
        _as_numbers(data.synthetic[columns], as_numbers),
        known,
        sensitive,
        continuous,
        config.cap_num_discrete_bins,
    )
    metrics["privacy.disclosure_protection"] = result["score"]
    result["missing_datetimes"] = config.cap_missing_datetimes
    return result


def _singling_out(data: PreparedData, config: EvaluationConfig, columns: list[str], metrics: dict) -> dict:
    result = {"all_columns": unique_exact_matches(data.real, data.synthetic, columns, data.joint_codes)}
    metrics["privacy.singling_out"] = result["all_columns"]["share"]
    known = list(config.quasi_identifiers)
    if known:
        result["quasi_identifiers"] = unique_exact_matches(data.real, data.synthetic, known, data.joint_codes)
        result["quasi_identifier_uniqueness"] = quasi_identifier_uniqueness(
            data.real, data.synthetic, known, data.joint_codes
        )
        metrics["privacy.singling_out_quasi_identifiers"] = result["quasi_identifiers"]["share"]
        metrics["privacy.qi_unique_share"] = result["quasi_identifier_uniqueness"]["k1_share"]
        metrics["privacy.qi_k_lt5_share"] = result["quasi_identifier_uniqueness"]["k_lt5_share"]
    else:
        result["quasi_identifiers"] = {"skipped": "needs quasi_identifiers in the config"}
    return result


def _histogram(synthetic: np.ndarray, holdout: np.ndarray, bins: int = 40) -> dict:
    """Both distance distributions on shared bins, as shares of each table's rows (for the card's plot)."""
    top = float(max(np.quantile(synthetic, 0.99), np.quantile(holdout, 0.99), 1e-9))
    edges = np.linspace(0.0, top, bins + 1)
    clipped = [np.minimum(values, top) for values in (synthetic, holdout)]
    counts = [np.histogram(values, edges)[0] / values.size for values in clipped]
    return {
        "edges": edges.tolist(),
        "synthetic_to_training": counts[0].tolist(),
        "holdout_to_training": counts[1].tolist(),
    }


def _balanced(share: float, training_rows: int, holdout_rows: int) -> float:
    """A share of "closer to training" corrected for unequal table sizes: the share it would be against a
    training table as large as the holdout, if each row's nearest record were equally likely to be any."""
    if share >= 1.0:
        return 1.0
    odds = share / (1.0 - share) * holdout_rows / training_rows
    return odds / (1.0 + odds)


def _holdout_evidence(
    data: PreparedData, config: EvaluationConfig, result: KindResult, near: dict, shared: dict
) -> dict:
    """Linkability, membership and inference: each compares the training records with unseen (holdout) ones."""
    keys = (
        "privacy.near_copy_excess",
        "privacy.dcr_share",
        "privacy.nndr_p10",
        "privacy.nndr_p10_holdout",
        "privacy.nndr_p10_ratio",
        "privacy.membership_auc",
        "privacy.membership_tpr_at_fpr_1pct",
        "privacy.membership_tpr_at_fpr_0_1pct",
        "privacy.membership_max_group_auc",
        "privacy.inference_advantage",
        "privacy.inference_max_group_advantage",
    )
    if data.holdout is None:
        return {"skipped": "no holdout table was given: linkability, membership and inference need one"}
    if not _holdout_usable(data, config):
        reason = f"needs at least {config.privacy_min_holdout_rows} holdout rows; got {len(data.holdout)}"
        result.mark_insufficient(reason, *keys)
        return {"insufficient": reason}
    metrics, seed, resamples = result.metrics, config.seed, config.privacy_bootstrap_resamples
    sdtypes = {name: sdtype for name, sdtype in data.evaluated.items() if sdtype in DCR_SDTYPES}
    if not sdtypes or "synthetic_nearest" not in shared:
        return {"skipped": "no numerical, datetime, categorical or boolean column to measure distances on"}
    real, holdout, synthetic = data.real, data.holdout, shared["synthetic"]
    scales = column_scales(real, sdtypes)  # the training table's ranges: sdmetrics' DCR to it uses the same
    evidence: dict = {
        "training_rows": len(real),
        "holdout_rows": len(holdout),
        "synthetic_rows": len(synthetic),
        "distance": "sdmetrics' DCR row distance, every table against the training table's column ranges",
    }

    if "count" in near:
        holdout_near = near_copies(real, holdout, near["columns_compared"])
        holdout_near.pop("near_mask", None)
        excess = near["rate"] - holdout_near["rate"]
        evidence["near_copies"] = {
            "synthetic_rate": near["rate"],
            "holdout_rate": holdout_near["rate"],
            "excess": excess,
            "excess_interval_95": newcombe_difference(
                near["count"], len(data.synthetic), holdout_near["count"], len(holdout)
            ),
            "interval_method": "Newcombe (1998) hybrid score interval of a difference of two shares",
            "meaning": "near copies of training rows beyond what fresh records of the same population show",
        }
        metrics["privacy.near_copy_excess"] = excess

    synthetic_nearest = shared["synthetic_nearest"]
    holdout_nearest = nearest_two(holdout, real, sdtypes, scales)
    to_holdout = distance_to_closest_record(synthetic, holdout, sdtypes, scales)
    share = dcr_share(synthetic_nearest[:, 0], to_holdout, resamples=resamples, seed=seed)
    share["raw_share"] = share.pop("share")
    share["expected_raw_share"] = len(real) / (len(real) + len(holdout))
    share["share"] = _balanced(share["raw_share"], len(real), len(holdout))
    if share["interval_95"] is not None:
        share["interval_95"] = [_balanced(bound, len(real), len(holdout)) for bound in share["interval_95"]]
    share["balancing"] = (
        "the raw share against the whole training table, corrected for its size: the share against a training "
        "table as large as the holdout (odds x holdout rows / training rows)"
    )
    metrics["privacy.dcr_share"] = share["share"]
    evidence["dcr_share"] = share
    ratios = nndr(synthetic_nearest, holdout_nearest, resamples=resamples, seed=seed)
    metrics["privacy.nndr_p10"] = ratios["synthetic_p10"]
    metrics["privacy.nndr_p10_holdout"] = ratios["holdout_p10"]
    metrics["privacy.nndr_p10_ratio"] = ratios["p10_ratio"]
    evidence["nndr"] = ratios
    evidence["dcr_histogram"] = _histogram(synthetic_nearest[:, 0], holdout_nearest[:, 0])

    # Members: a sample of the training records as large as the holdout (non-members), seeded.
    size = min(len(real), len(holdout))
    generator = np.random.default_rng(seed)
    members = real.iloc[np.sort(generator.choice(len(real), size, replace=False))].reset_index(drop=True)
    non_members = holdout.iloc[np.sort(generator.choice(len(holdout), size, replace=False))].reset_index(drop=True)
    groups = {
        name: (members[name].astype(str).to_numpy(), non_members[name].astype(str).to_numpy())
        for name in config.sensitive_attributes
    }
    attack = membership_attack(
        distance_to_closest_record(members, synthetic, sdtypes, scales),
        distance_to_closest_record(non_members, synthetic, sdtypes, scales),
        groups=groups,
        resamples=resamples,
        seed=seed,
    )
    metrics["privacy.membership_auc"] = attack["auc"]
    metrics["privacy.membership_max_group_auc"] = attack["max_group_auc"]
    for level in ("1pct", "0_1pct"):
        key = f"privacy.membership_tpr_at_fpr_{level}"
        if attack[f"tpr_at_fpr_{level}"] is None:
            result.mark_insufficient(attack[f"tpr_at_fpr_{level}_insufficient"], key)
        else:
            metrics[key] = attack[f"tpr_at_fpr_{level}"]
    evidence["membership"] = attack

    known, sensitive = list(config.quasi_identifiers), list(config.disclosure_sensitive)
    if known and sensitive:
        inference = inference_advantage(
            synthetic,
            members,
            non_members,
            quasi_identifiers=known,
            sensitive=sensitive,
            sdtypes=data.sdtypes,
            groups=config.sensitive_attributes,
            resamples=resamples,
            seed=seed,
        )
        metrics["privacy.inference_advantage"] = inference["max_advantage"]
        metrics["privacy.inference_max_group_advantage"] = inference["max_group_advantage"]
        evidence["inference"] = inference
    else:
        evidence["inference"] = {"skipped": "needs quasi_identifiers and disclosure_sensitive in the config"}
    return evidence


def evaluate_privacy(data: PreparedData, config: EvaluationConfig) -> KindResult:
    """Run every privacy measure that the inputs allow."""
    result = KindResult()
    metrics = result.metrics
    shared: dict = {}  # distances computed once, read by several measures
    columns = list(data.evaluated)
    codes = {name: data.joint_codes(name)[0] for name in columns}
    copies = exact_copies(data.real, data.synthetic, columns, codes)
    copied = copies.pop("copied_mask")
    row_keys = copies.pop("row_keys")
    metrics["privacy.exact_copies"] = copies["count"]
    metrics["privacy.exact_copy_rate"] = copies["rate"]
    copies["rate_interval_95"] = clopper_pearson(copies["count"], len(data.synthetic))
    rows = new_row_synthesis(
        data.real, data.synthetic, data.evaluated, config.new_row_tolerance, already_matched=copied, codes=codes
    )
    metrics["privacy.new_row_synthesis"] = rows["score"]
    near = near_copies(data.real, data.synthetic, columns, codes, row_keys=row_keys)
    near.pop("near_mask", None)
    if "rate" in near:
        metrics["privacy.near_copy_rate"] = near["rate"]
        near["rate_interval_95"] = clopper_pearson(near["count"], len(data.synthetic))
    # One helper thread: the random baseline's search overlaps everything below (NumPy releases the GIL).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="privacy-baseline") as pool:
        result.results = {
            "keys_excluded": data.keys,
            "exact_copies": copies,
            "near_copies": near,
            "new_row_synthesis": rows,
            "dcr": _dcr(data, config, metrics, shared, pool),
            "disclosure_protection": _disclosure(data, config, metrics),
            "singling_out": _singling_out(data, config, columns, metrics),
        }
        result.results["holdout_evidence"] = _holdout_evidence(data, config, result, near, shared)
        if "finish_baseline" in shared:
            shared.pop("finish_baseline")()
    smallest = min(len(data.real), len(data.synthetic))
    if smallest < config.privacy_min_rows:
        reason = (
            f"needs at least {config.privacy_min_rows} rows in the synthetic and the reference table; "
            f"got {len(data.synthetic)} and {len(data.real)}"
        )
        result.mark_insufficient(reason, *[key for key in metrics if key not in result.insufficient])
    return result
