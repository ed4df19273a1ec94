"""Fairness kind: how each group (slice) of a sensitive attribute is represented and reproduced.

Per sensitive attribute (numerical or datetime ones cut into ``fairness_numeric_bins`` quantile bins of
the real data; missing values are a slice of their own):

- ``tvd``: total variation distance between the real and synthetic category shares, 1/2 * sum |p - q| over
  every category of either table (plain TVD: no 1e-6 smoothing as in sdmetrics' TVComplement).
- per slice: real/synthetic rows and shares and a column-shape score, the mean of sdmetrics'
  KSComplement (numerical/datetime) or TVComplement (categorical/boolean/ordinal) over the other non-id
  columns, computed only on that slice's rows; ``gap`` is the attribute's overall score (the same mean on
  all rows) minus the slice's score.

Flags fire only for differences that are statistically significant at the slice's size. A slice with fewer
than ``fairness_min_slice_rows`` real rows (default 30) is too small to test: it is reported (rows, shares,
``not_scored``) but never tested nor flagged, and an attribute without any testable slice makes
``fairness.flagged_slices`` and ``fairness.max_slice_gap`` insufficient (None, with the reason). Every testable
slice gets two one-sided tests at level ``fairness_alpha`` (default 0.05), each Holm-corrected (step-down,
valid under any dependence) over the tested slices of the attribute. Each slice's ``tests`` states the test,
its p-value, its Holm-adjusted p-value and whether it is significant; the flag is set iff it is:

- ``representation``, flags ``missing`` (no synthetic row) or ``under_represented``: one-sided
  Miettinen-Nurminen score test (the score test behind their interval for a ratio of two binomial
  proportions) of H0: q >= r p against q < r p, where p = real rows / n and q = synthetic rows / m are the
  slice's shares of the real (n rows) and synthetic (m rows) tables and r = ``fairness_under_representation_ratio``
  (default 0.8): z = (q^ - r p^) / sqrt(N / (N - 1) * (r^2 p~ (1 - p~) / n + r p~ (1 - r p~) / m)), N = n + m,
  p~ the maximum-likelihood p under q = r p (a quadratic's root), p-value Phi(z). Score tests keep about their level
  with zero counts, so an empty synthetic slice is ``missing`` only when zero synthetic rows are themselves
  significant at its real size (before Holm, p < 0.05 from 4 real rows at m = n, from 33 at m = n / 10).
- ``distortion``, flag ``distorted``: H0: the slice's population gap <= ``fairness_distortion_margin`` (default
  0.1). Each column's score is 1 - ||F^ - G^|| for the real and synthetic empirical distributions F^, G^,
  with the norm sup|CDF| (KS) or half the L1 norm (total variation), so ||F^ - G^|| <= ||F - G|| + ||U||
  with U = (F^ - F) - (G^ - G) the sampling error (TVComplement's 1e-6 smoothing aside), and the whole
  table's score errs at most the same way.
  Under H0, gap - margin <= E = the mean of ||U|| over the slice's columns + the same over the whole table's
  columns. E's distribution is bootstrapped: ``fairness_bootstrap_resamples`` resamples (default 200) of the
  rows of both tables with replacement (NumPy generator seeded with ``seed``; a slice's resample is the
  resampled rows in it, so slice and whole table errors come from the same draws), U* = (F* - F^) - (G* - G^)
  per column on the joint grid of both tables' values. p-value = (1 + #{E* >= gap - margin}) /
  (resamples + 1), never below 1 / (resamples + 1): with Holm over k scored slices nothing can be flagged
  when that exceeds alpha / k, which the attribute's ``note`` says. A side of a slice left without a value
  in a resample counts ||U*|| = 2, the largest possible, so a slice with 3 synthetic rows or fewer is never
  distorted at alpha 0.05 (it is empty in about 5% of resamples or more). This bootstrap of the centred
  empirical process is consistent and conservative; a bootstrap of the gap itself is not, because a slice's
  observed distance is biased upwards at small sizes (the cause of the flags on sampling noise before).

Metrics: ``fairness.max_tvd`` (over attributes), ``fairness.max_slice_gap`` (largest overall - slice
score over scored slices, significant or not), ``fairness.flagged_slices`` (slices with at least one flag).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.stats import norm

from registry.evaluation.config import EvaluationConfig, KindResult
from registry.evaluation.keys import joint_codes
from registry.evaluation.native import shapes
from registry.evaluation.prepare import NUMERIC_SDTYPES, PreparedData
from registry.evaluation.sdmetrics_support import seeded_numpy

# Resample weights are built in chunks of at most this many cells (rows x resamples, float32).
CHUNK_CELLS = 1 << 23
# ||U|| can reach 2: the value for a slice with no value left in a resample (conservative).
NO_VALUE_DISTANCE = 2.0


def _tests(config: EvaluationConfig) -> dict[str, str]:
    holm = f"alpha {config.fairness_alpha:g}, Holm-corrected over the tested slices of the attribute"
    return {
        "representation": (
            "Miettinen-Nurminen score test, one-sided, H0: synthetic share >= "
            f"{config.fairness_under_representation_ratio:g} x real share; {holm}"
        ),
        "distortion": (
            f"bootstrap test, one-sided, H0: gap <= {config.fairness_distortion_margin:g}; gap - margin against "
            f"the bootstrapped sampling-error bound of both scores ({config.fairness_bootstrap_resamples} "
            f"resamples of both tables, seed {config.seed}); {holm}"
        ),
    }


def ks_complement(real: pd.Series, synthetic: pd.Series) -> float:
    """sdmetrics' KSComplement.compute of two columns (``native.shapes``); NaN when a side is empty."""
    return shapes.ks_complement(shapes.ks_values(pd.Series(real)), shapes.ks_values(pd.Series(synthetic)))


def _shape_score(
    real: pd.DataFrame, synthetic: pd.DataFrame, sdtypes: dict[str, str]
) -> tuple[float | None, list[str]]:
    """The mean column-shape score and the columns it averages."""
    from sdmetrics.single_column import TVComplement  # imported when used: sdmetrics is large

    scores, used = [], []
    for name, sdtype in sdtypes.items():
        if real[name].isna().all() or synthetic[name].isna().all():
            continue  # no value to compare in this slice: the column does not count
        compute = ks_complement if sdtype in NUMERIC_SDTYPES else TVComplement.compute
        score = float(compute(real[name], synthetic[name]))
        if not np.isnan(score):
            scores.append(score)
            used.append(name)
    return (float(np.mean(scores)) if scores else None), used


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


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error control under any dependence)."""
    p_values = np.asarray(p_values, dtype=np.float64)
    k = p_values.size
    order = np.argsort(p_values, kind="stable")
    adjusted = np.empty(k)
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate((k - np.arange(k)) * p_values[order]))
    return adjusted


def under_representation_p(
    real_rows: np.ndarray, real_total: int, synthetic_rows: np.ndarray, synthetic_total: int, ratio: float
) -> np.ndarray:
    """One-sided Miettinen-Nurminen score test of H0: q >= ratio * p (q synthetic, p real share): p-values."""
    x = np.asarray(real_rows, dtype=np.float64)
    y = np.asarray(synthetic_rows, dtype=np.float64)
    n, m = float(real_total), float(synthetic_total)
    if ratio <= 0:
        return np.ones_like(x)  # a share is never below zero
    # Maximum-likelihood p under q = ratio * p: the smaller root of a p^2 - b p + c = 0, in a stable form.
    a = ratio * (n + m)
    b = n + ratio * m + ratio * x + y
    c = x + y
    denominator = b + np.sqrt(np.maximum(b * b - 4 * a * c, 0.0))
    p_tilde = np.divide(2 * c, denominator, out=np.zeros_like(x), where=denominator > 0)
    q_tilde = ratio * p_tilde
    variance = (ratio**2 * p_tilde * (1 - p_tilde) / n + q_tilde * (1 - q_tilde) / m) * (n + m) / (n + m - 1)
    difference = y / m - ratio * x / n
    with np.errstate(divide="ignore", invalid="ignore"):
        # A zero variance (no row in either table, or a one-category table) leaves the difference's sign.
        z = np.where(variance > 0, difference / np.sqrt(variance), np.where(difference < 0, -np.inf, np.inf))
    return norm.cdf(z)


def _value_codes(real: pd.Series, synthetic: pd.Series, sdtype: str) -> tuple[np.ndarray, np.ndarray]:
    """Codes shared by both tables, equal iff the values are equal as the metric sees them, -1 = missing.

    For KS (numerical, datetime) the codes follow the values' order, after sdmetrics' rounding.
    """
    both = pd.concat([real, synthetic], ignore_index=True)
    if sdtype in NUMERIC_SDTYPES:
        present = both.notna().to_numpy()
        if sdtype == "datetime":
            values = both.to_numpy(dtype="datetime64[ns]").view(np.int64)[present]
        else:
            values = np.round(both.to_numpy(dtype=np.float64)[present], shapes.KS_DECIMALS)
        codes = np.full(len(both), -1, dtype=np.int64)
        codes[present] = np.unique(values, return_inverse=True)[1].ravel()
    else:
        codes = pd.factorize(both, use_na_sentinel=True)[0].astype(np.int64)
    return codes[: len(real)], codes[len(real) :]


@dataclass
class _Runs:
    """One column's values grouped by (group, value) pairs, the same pairs for both tables."""

    members: tuple[sparse.csc_matrix, sparse.csc_matrix]  # per table: pairs x rows, 1 = the row's pair
    shares: tuple[np.ndarray, np.ndarray]  # per table: each pair's share of its group's values
    group_starts: np.ndarray  # where each group's pairs start (pairs are sorted by group, then value)
    groups: np.ndarray  # the group of each of those runs of pairs
    n_groups: int
    ks: bool  # sup-CDF norm (numerical, datetime) or half the L1 norm (discrete)


def _runs(
    values: tuple[np.ndarray, np.ndarray], groups: tuple[np.ndarray, np.ndarray], n_groups: int, ks: bool
) -> _Runs:
    width = max([1, *(int(v.max()) + 1 for v in values if v.size)])
    rows = [np.flatnonzero((v >= 0) & (g >= 0)) for v, g in zip(values, groups, strict=True)]
    keys = [g[r] * width + v[r] for v, g, r in zip(values, groups, rows, strict=True)]
    everything = np.concatenate(keys)
    if n_groups * width <= 4 * everything.size:
        # Dense keys: number the (group, value) pairs that occur without sorting the rows.
        occurs = np.bincount(everything, minlength=n_groups * width) > 0
        pairs = np.flatnonzero(occurs)
        numbers = np.cumsum(occurs) - 1
        pair_of_row = [numbers[k] for k in keys]
    else:
        pairs, inverse = np.unique(everything, return_inverse=True)
        inverse = inverse.ravel()
        pair_of_row = [inverse[: keys[0].size], inverse[keys[0].size :]]
    # Column-major: the product with the weights reads them row after row, in memory order.
    members = tuple(
        sparse.csc_matrix((np.ones(r.size, dtype=np.float32), (p, r)), shape=(pairs.size, v.size))
        for v, r, p in zip(values, rows, pair_of_row, strict=True)
    )
    pair_groups = pairs // width
    group_starts = np.flatnonzero(np.r_[True, pair_groups[1:] != pair_groups[:-1]]) if pairs.size else pairs
    group_of_pair = np.repeat(np.arange(group_starts.size), np.diff(np.r_[group_starts, pairs.size]))
    shares = []
    for p in pair_of_row:
        counts = np.bincount(p, minlength=pairs.size).astype(np.float64)
        totals = np.add.reduceat(counts, group_starts) if pairs.size else counts
        shares.append(np.divide(counts, totals[group_of_pair], out=np.zeros_like(counts), where=counts > 0))
    return _Runs(members, (shares[0], shares[1]), group_starts, pair_groups[group_starts], n_groups, ks)


def _error_norms(runs: _Runs, weights: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """(groups x resamples) ||U*|| = ||(F* - F^) - (G* - G^)|| per group, F real and G synthetic.

    ``weights`` holds, per table, each row's multiplicity in each resample (rows x resamples). A group left
    without a value on a side in a resample gets NO_VALUE_DISTANCE; a group without values gets NaN.
    """
    out = np.full((runs.n_groups, weights[0].shape[1]), np.nan)
    starts = runs.group_starts
    if starts.size == 0:
        return out
    group_of_pair = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, runs.shares[0].size]))
    error = np.zeros((runs.shares[0].size, weights[0].shape[1]), dtype=np.float32)
    empty = np.zeros((starts.size, weights[0].shape[1]), dtype=bool)
    for side, (members, original, weight) in enumerate(zip(runs.members, runs.shares, weights, strict=True)):
        # Float32 holds the counts exactly (below 2**24); shares are good to about 1e-7.
        counts = np.asarray(members @ weight, dtype=np.float32)
        totals = np.add.reduceat(counts, starts, axis=0)
        empty |= totals == 0
        counts /= np.maximum(totals, 1)[group_of_pair]
        counts -= original.astype(np.float32)[:, None]
        if side == 0:
            error += counts  # F* - F^
        else:
            error -= counts  # - (G* - G^)
    if runs.ks:
        # CDF differences at every value of the group: cumulative sums restarted at each group.
        np.cumsum(error, axis=0, out=error)
        before = np.zeros((starts.size, error.shape[1]), dtype=np.float32)
        before[1:] = error[starts[1:] - 1]
        error -= before[group_of_pair]
    np.abs(error, out=error)
    norms = np.maximum.reduceat(error, starts, axis=0) if runs.ks else 0.5 * np.add.reduceat(error, starts, axis=0)
    norms[empty] = NO_VALUE_DISTANCE
    out[runs.groups] = norms
    return out


def _resample_weights(rows: int, resamples: int, generator: np.random.Generator) -> np.ndarray:
    """Row multiplicities (rows x resamples) of ``resamples`` draws of ``rows`` rows with replacement."""
    weights = np.empty((rows, resamples), dtype=np.float32)
    for column in range(resamples):
        weights[:, column] = np.bincount(generator.integers(0, rows, rows), minlength=rows)
    return weights


@dataclass
class _Attribute:
    """What the distortion test needs of one attribute: its scored slices and the columns they average."""

    name: str
    codes: tuple[np.ndarray, np.ndarray]  # each row's slice, real and synthetic
    overall_columns: list[str]
    scored: list[int] = field(default_factory=list)  # slice codes with a gap, in the order of the results
    columns: dict[int, list[str]] = field(default_factory=dict)  # the columns of each scored slice's score


def _sampling_errors(data: PreparedData, attributes: list[_Attribute], config: EvaluationConfig) -> list[np.ndarray]:
    """Per attribute, (scored slices x resamples) bootstrap draws of the sampling-error bound E."""
    resamples = config.fairness_bootstrap_resamples
    draws = [np.zeros((len(a.scored), resamples)) for a in attributes]
    work = [(a, draw) for a, draw in zip(attributes, draws, strict=True) if a.scored]
    if not work:
        return draws
    tables = (data.real, data.synthetic)
    slice_columns = {a.name: sorted({c for code in a.scored for c in a.columns[code]}) for a in attributes}
    needed = sorted(
        {c for a, _ in work for c in a.overall_columns} | {c for a, _ in work for c in slice_columns[a.name]}
    )
    groups = {}
    for attribute, _ in work:
        # Each row's group: its slice's index among the scored slices, -1 for the other slices.
        lookup = np.full(max(int(c.max()) for c in attribute.codes) + 1, -1, dtype=np.int64)
        lookup[attribute.scored] = np.arange(len(attribute.scored))
        groups[attribute.name] = (lookup[attribute.codes[0]], lookup[attribute.codes[1]])
    whole: dict[str, _Runs] = {}
    per_slice: dict[tuple[str, str], _Runs] = {}
    for column in needed:
        ks = data.sdtypes[column] in NUMERIC_SDTYPES
        values = _value_codes(data.real[column], data.synthetic[column], data.sdtypes[column])
        whole[column] = _runs(values, tuple(np.zeros(len(t), dtype=np.int64) for t in tables), 1, ks)
        for attribute, _ in work:
            if column in slice_columns[attribute.name]:
                per_slice[attribute.name, column] = _runs(values, groups[attribute.name], len(attribute.scored), ks)
    generator = np.random.default_rng(config.seed)
    chunk = max(1, min(resamples, CHUNK_CELLS // max(len(data.real), len(data.synthetic))))
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        weights = (
            _resample_weights(len(data.real), size, generator),
            _resample_weights(len(data.synthetic), size, generator),
        )
        whole_errors = {column: _error_norms(whole[column], weights)[0] for column in needed}
        for attribute, draw in work:
            overall = np.mean([whole_errors[c] for c in attribute.overall_columns], axis=0)
            errors = {c: _error_norms(per_slice[attribute.name, c], weights) for c in slice_columns[attribute.name]}
            for index, code in enumerate(attribute.scored):
                own = np.mean([errors[c][index] for c in attribute.columns[code]], axis=0)
                draw[index, start : start + size] = overall + own
    return draws


def _attribute(data: PreparedData, name: str, config: EvaluationConfig) -> tuple[dict, _Attribute]:
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
    overall, overall_columns = _shape_score(data.real, data.synthetic, others)
    representation_p = under_representation_p(
        real_counts, len(real_codes), synthetic_counts, len(synthetic_codes), config.fairness_under_representation_ratio
    )
    state = _Attribute(name, (real_codes, synthetic_codes), overall_columns)
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
            "tests": {"representation": None, "distortion": None},
        }
        if real_rows < config.fairness_min_slice_rows:
            entry["score"] = None
            entry["not_scored"] = (
                f"fewer than {config.fairness_min_slice_rows} real rows: too small to test, never flagged"
            )
        else:
            entry["tests"]["representation"] = {"p_value": float(representation_p[code])}
            if synthetic_rows == 0:
                entry["score"] = None
                entry["not_scored"] = "no synthetic row"
            else:
                real_slice, synthetic_slice = data.real[real_codes == code], data.synthetic[synthetic_codes == code]
                score, columns = _shape_score(real_slice, synthetic_slice, others)
                entry["score"] = score
                entry["gap"] = None if score is None or overall is None else overall - score
                if entry["gap"] is not None:
                    state.scored.append(code)
                    state.columns[code] = columns
        slices.append(entry)
    return {"attribute": name, "tvd": tvd, "overall_score": overall, "slices": slices}, state


def _decide(attribute: dict, draws: np.ndarray, config: EvaluationConfig, tests: dict[str, str]) -> None:
    """Holm-correct each test over the attribute's tested slices and set the flags of the significant ones."""
    alpha, margin = config.fairness_alpha, config.fairness_distortion_margin
    tested = [s for s in attribute["slices"] if s["tests"]["representation"] is not None]
    adjusted = holm(np.array([s["tests"]["representation"]["p_value"] for s in tested]))
    for entry, p_adjusted in zip(tested, adjusted, strict=True):
        significant = bool(p_adjusted < alpha)
        entry["tests"]["representation"] = {
            "test": tests["representation"],
            "p_value": entry["tests"]["representation"]["p_value"],
            "adjusted_p_value": float(p_adjusted),
            "significant": significant,
        }
        if significant:
            entry["flags"].append("missing" if entry["synthetic_rows"] == 0 else "under_represented")
    # The scored slices come in the order of the draws' rows.
    scored = [s for s in attribute["slices"] if s.get("gap") is not None]
    resamples = draws.shape[1]
    p_values = np.array(
        [
            (1 + np.count_nonzero(draw >= entry["gap"] - margin)) / (resamples + 1)
            for entry, draw in zip(scored, draws, strict=True)
        ]
    )
    adjusted = holm(p_values)
    for entry, draw, p_value, p_adjusted in zip(scored, draws, p_values, adjusted, strict=True):
        significant = bool(p_adjusted < alpha)
        entry["tests"]["distortion"] = {
            "test": tests["distortion"],
            "p_value": float(p_value),
            "adjusted_p_value": float(p_adjusted),
            "significant": significant,
            # gap - this is a one-sided (1 - alpha) lower confidence bound for the slice's population gap.
            "error_bound": float(np.quantile(draw, 1 - alpha)) if draw.size else None,
        }
        if significant:
            entry["flags"].append("distorted")
    if scored and 1 / (resamples + 1) >= alpha / len(scored):
        attribute["note"] = (
            f"the distortion test cannot flag any of these {len(scored)} scored slices: its p-values are at "
            f"least 1/{resamples + 1}, not below alpha / {len(scored)}; raise fairness_bootstrap_resamples"
        )


def evaluate_fairness(data: PreparedData, config: EvaluationConfig) -> KindResult:
    """Evaluate each configured sensitive attribute's slices."""
    if not config.sensitive_attributes:
        return KindResult.skipped("no sensitive_attributes in the config")
    with seeded_numpy(config.seed):
        built = [_attribute(data, name, config) for name in config.sensitive_attributes]
    attributes = [attribute for attribute, _ in built]
    draws = _sampling_errors(data, [state for _, state in built], config)
    tests = _tests(config)
    for attribute, draw in zip(attributes, draws, strict=True):
        _decide(attribute, draw, config, tests)
    gaps = [s["gap"] for a in attributes for s in a["slices"] if s.get("gap") is not None]
    result = KindResult(
        metrics={
            "fairness.max_tvd": max(a["tvd"] for a in attributes),
            "fairness.max_slice_gap": max(gaps) if gaps else None,
            "fairness.flagged_slices": sum(1 for a in attributes for s in a["slices"] if s["flags"]),
        },
        results={
            "attributes": attributes,
            "tests": tests,
            "thresholds": {
                "min_slice_rows": config.fairness_min_slice_rows,
                "under_representation_ratio": config.fairness_under_representation_ratio,
                "distortion_margin": config.fairness_distortion_margin,
                "numeric_bins": config.fairness_numeric_bins,
                "alpha": config.fairness_alpha,
                "bootstrap_resamples": config.fairness_bootstrap_resamples,
            },
        },
    )
    untested = [a["attribute"] for a in attributes if not any(s["tests"]["representation"] for s in a["slices"])]
    if untested:
        result.mark_insufficient(
            f"no slice of {', '.join(map(repr, untested))} has {config.fairness_min_slice_rows} or more real "
            "rows: nothing to test",
            "fairness.flagged_slices",
            "fairness.max_slice_gap",
        )
    return result
