"""DisclosureProtection (CAP), sdmetrics 0.32 ``single_table/privacy/disclosure_protection.py``, with counts.

Preprocessing as sdmetrics: each continuous column is cut into ``num_discrete_bins`` equal-width bins of
the real data (``pd.cut``; the outer edges then opened to +-inf for the synthetic data); missing values
of the known and sensitive columns become their own category. CAP: for each real row whose known values
occur in the synthetic data, the share of those synthetic rows that carry the row's sensitive values;
cap_protection = 1 - mean of that share (NaN when no key matches). The baseline is
1 - 1 / prod(number of real categories of each sensitive column, missing counted);
score = min(cap_protection / baseline, 1). sdmetrics loops over rows with Python dicts; grouped counts
give the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from registry.evaluation.keys import combine_keys, joint_codes

_NULL = "__NULL_VALUE__"


def _discretize(real: pd.Series, synthetic: pd.Series, bins: int) -> tuple[np.ndarray, np.ndarray]:
    labels = [str(x) for x in range(bins)]
    real_binned, edges = pd.cut(pd.to_numeric(real.to_numpy()), bins, labels=labels, retbins=True)
    edges[0], edges[-1] = -np.inf, np.inf
    synthetic_binned = pd.cut(pd.to_numeric(synthetic.to_numpy()), edges, labels=labels)
    return real_binned.to_numpy(), synthetic_binned.to_numpy()


def _prepared(
    real: pd.DataFrame, synthetic: pd.DataFrame, columns: Sequence[str], continuous: Sequence[str], bins: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    real = real[list(columns)].copy()
    synthetic = synthetic[list(columns)].copy()
    for name in continuous:
        real[name], synthetic[name] = _discretize(real[name], synthetic[name], bins)
    fill = {}
    for name in columns:
        label = _NULL
        categories = set(real[name].unique()).union(set(synthetic[name].unique()))
        while label in categories:
            label += "_"
        fill[name] = label
    return real.fillna(fill), synthetic.fillna(fill)


def disclosure_protection(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    known: Sequence[str],
    sensitive: Sequence[str],
    continuous: Sequence[str] = (),
    num_discrete_bins: int = 10,
) -> dict:
    """DisclosureProtection with computation_method='cap': score, cap_protection, baseline_protection."""
    known, sensitive = list(known), list(sensitive)
    columns = list(dict.fromkeys(known + sensitive))
    real, synthetic = _prepared(real, synthetic, columns, list(continuous), num_discrete_bins)
    sizes = [len(real), len(synthetic)]
    codes = {name: joint_codes([real[name], synthetic[name]])[0] for name in columns}
    real_known, synthetic_known = combine_keys([codes[name] for name in known], sizes)
    real_sensitive, synthetic_sensitive = combine_keys([codes[name] for name in sensitive], sizes)

    width = int(max(real_sensitive.max(), synthetic_sensitive.max())) + 1
    key_counts = pd.Series(synthetic_known).value_counts()
    pair_counts = pd.Series(synthetic_known * width + synthetic_sensitive).value_counts()
    per_key = key_counts.reindex(real_known).to_numpy(dtype=np.float64)
    found = ~np.isnan(per_key)
    same = pair_counts.reindex(real_known * width + real_sensitive).fillna(0).to_numpy(dtype=np.float64)
    matched_rows = int(found.sum())
    cap = float(1.0 - (same[found] / per_key[found]).mean()) if matched_rows else float("nan")

    categories = np.prod([real[name].nunique(dropna=False) for name in sensitive])
    baseline = 1 - float(1 / categories)
    score = float("nan") if baseline == 0 else min(cap / baseline, 1)
    return {
        "score": score,
        "cap_protection": cap,
        "baseline_protection": baseline,
        "real_rows_with_known_match": matched_rows,
        "known_columns": known,
        "sensitive_columns": sensitive,
        "continuous_columns": list(continuous),
        "num_discrete_bins": num_discrete_bins,
        "computation_method": "cap",
    }
