"""Attribute inference beyond CAP: does a model learned from the synthetic data know more about the training
people than about anyone else?

For each sensitive column, a model trained on the synthetic table predicts it from the quasi-identifiers
(scikit-learn's HistGradientBoostingClassifier, seeded; numerical and datetime targets cut into the training
records' deciles). Its accuracy on training records (members) minus its accuracy on holdout records
(non-members) is the **inference advantage** (Yeom et al., "Privacy Risk in Machine Learning", CSF 2018;
attribute inference on synthetic data: Stadler et al., USENIX Security 2022): 0 = the synthetic data carries
nothing specific to the people it was learned from; a generator that memorised them lets the model "know"
their sensitive values. Reported per sensitive column with a bootstrap interval, and per group of each
sensitive attribute (EU AI Act Art. 10(2)(f): risks may differ between groups).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier

from registry.evaluation.keys import joint_codes
from registry.evaluation.prepare import NUMERIC_SDTYPES
from registry.evaluation.privacy.intervals import bootstrap
from registry.evaluation.utility import feature_matrices

SOURCE = "inference advantage: Yeom et al., CSF 2018; attribute inference on synthetic data: Stadler et al. 2022"
MIN_PER_GROUP = 30
_BINS = 10


def _labels(frames: list[pd.Series], sdtype: str, reference: pd.Series) -> list[np.ndarray]:
    """Class labels shared by the tables: categories as codes, numbers as the reference's deciles."""
    if sdtype in NUMERIC_SDTYPES:

        def numbers(series: pd.Series) -> np.ndarray:
            if sdtype == "datetime":
                return np.where(series.isna(), np.nan, series.to_numpy("datetime64[ns]").view(np.int64))
            return series.to_numpy(dtype=np.float64, na_value=np.nan)

        edges = np.unique(np.nanquantile(numbers(reference), np.linspace(0, 1, _BINS + 1)[1:-1]))
        # Missing values are a class of their own (-1): NaN compares false with every edge.
        return [
            np.where(np.isnan(v := numbers(frame)), -1, np.searchsorted(edges, v, side="right")) for frame in frames
        ]
    return joint_codes(frames)[0]


def _accuracy(correct: np.ndarray) -> float:
    return float(correct.mean())


def _advantage(members: np.ndarray, non_members: np.ndarray) -> float:
    return float(members.mean() - non_members.mean())


def inference_advantage(
    synthetic: pd.DataFrame,
    members: pd.DataFrame,
    non_members: pd.DataFrame,
    *,
    quasi_identifiers: Sequence[str],
    sensitive: Sequence[str],
    sdtypes: Mapping[str, str],
    groups: Sequence[str] = (),
    resamples: int,
    seed: int,
) -> dict:
    """Per sensitive column: accuracy on members and non-members, the advantage with its interval, per group."""
    features = {name: sdtypes[name] for name in quasi_identifiers}
    (x_synthetic, x_members, x_non_members), categorical = feature_matrices([synthetic, members, non_members], features)
    columns = {}
    for name in sensitive:
        y_synthetic, y_members, y_non_members = _labels(
            [synthetic[name], members[name], non_members[name]], sdtypes[name], members[name]
        )
        if np.unique(y_synthetic).size < 2:
            columns[name] = {"skipped": "the synthetic table has a single value: nothing to learn"}
            continue
        model = HistGradientBoostingClassifier(random_state=seed, categorical_features=np.array(categorical))
        model.fit(x_synthetic, y_synthetic)
        correct_members = model.predict(x_members) == y_members
        correct_non_members = model.predict(x_non_members) == y_non_members
        entry = {
            "accuracy_members": _accuracy(correct_members),
            "accuracy_non_members": _accuracy(correct_non_members),
            "advantage": _advantage(correct_members, correct_non_members),
            "advantage_interval_95": bootstrap(
                _advantage, (correct_members, correct_non_members), resamples=resamples, seed=seed
            ),
            "majority_share_non_members": float(np.bincount(y_non_members - y_non_members.min()).max())
            / len(y_non_members),
        }
        per_group = {}
        for attribute in groups:
            rows = []
            member_values = members[attribute].astype(str).to_numpy()
            non_member_values = non_members[attribute].astype(str).to_numpy()
            for value in sorted(set(member_values) | set(non_member_values)):
                in_m, in_n = member_values == value, non_member_values == value
                row = {"value": value, "members": int(in_m.sum()), "non_members": int(in_n.sum())}
                if min(row["members"], row["non_members"]) < MIN_PER_GROUP:
                    row["advantage"] = None
                    row["insufficient"] = f"needs at least {MIN_PER_GROUP} members and non-members in the group"
                else:
                    row["advantage"] = _advantage(correct_members[in_m], correct_non_members[in_n])
                    row["advantage_interval_95"] = bootstrap(
                        _advantage,
                        (correct_members[in_m], correct_non_members[in_n]),
                        resamples=resamples,
                        seed=seed + 2,
                    )
                rows.append(row)
            per_group[attribute] = rows
        entry["per_group"] = per_group
        columns[name] = entry
    advantages = [entry["advantage"] for entry in columns.values() if "advantage" in entry]
    group_rows = [
        row
        for entry in columns.values()
        for rows in entry.get("per_group", {}).values()
        for row in rows
        if row.get("advantage") is not None
    ]
    worst_group = max(group_rows, key=lambda row: row["advantage"]) if group_rows else {}
    return {
        "quasi_identifiers": list(quasi_identifiers),
        "columns": columns,
        "max_advantage": max(advantages) if advantages else None,
        "max_group_advantage": worst_group.get("advantage"),
        "max_group_advantage_interval_95": worst_group.get("advantage_interval_95"),
        "model": "HistGradientBoostingClassifier (seeded), quasi-identifiers -> sensitive column",
        "interval_method": f"percentile bootstrap over records ({resamples} resamples, seed {seed})",
        "source": SOURCE,
    }
