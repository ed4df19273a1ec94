"""Utility kind: train on synthetic, test on real (TSTR) against train on real, test on real (TRTR).

The test set is the holdout table when one is given (TRTR then trains on the whole reference table);
otherwise the reference table is split at random (seeded) into ``1 - utility_test_fraction`` for TRTR
training and ``utility_test_fraction`` for testing, and TSTR trains on the whole synthetic table.
Both use the same model: scikit-learn's HistGradientBoostingClassifier/Regressor (seeded; categorical
columns as native categories, missing values handled natively). Categorical, boolean and ordinal
targets are scored with macro F1 over the classes present in the real test set (every class weighs
the same, so a synthetic table that ignores a rare class is penalised); numerical targets with R².
``utility.gap`` = TRTR - TSTR.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import f1_score, r2_score

from registry.evaluation.config import EvaluationConfig, KindResult
from registry.evaluation.keys import joint_codes
from registry.evaluation.prepare import DISCRETE_SDTYPES, PreparedData

_MAX_NATIVE_CATEGORIES = 255  # HistGradientBoosting's limit for native categorical features


def feature_matrices(frames: list[pd.DataFrame], sdtypes: dict[str, str]) -> tuple[list[np.ndarray], list[bool]]:
    """Numeric feature matrices for several frames with shared category codes (NaN stays missing)."""
    columns: list[list[np.ndarray]] = [[] for _ in frames]
    categorical: list[bool] = []
    for name, sdtype in sdtypes.items():
        if sdtype in DISCRETE_SDTYPES:
            codes, uniques = joint_codes([frame[name] for frame in frames])
            missing = [frame[name].isna().to_numpy() for frame in frames]
            pairs = zip(codes, missing, strict=True)
            values = [np.where(miss, np.nan, code.astype(np.float64)) for code, miss in pairs]
            categorical.append(len(uniques) <= _MAX_NATIVE_CATEGORIES)
        elif sdtype == "datetime":
            values = [
                np.where(frame[name].isna(), np.nan, frame[name].to_numpy("datetime64[ns]").view(np.int64))
                for frame in frames
            ]
            categorical.append(False)
        else:
            values = [frame[name].to_numpy(dtype=np.float64, na_value=np.nan) for frame in frames]
            categorical.append(False)
        for index, column in enumerate(values):
            columns[index].append(column.astype(np.float64))
    return [np.column_stack(parts) for parts in columns], categorical


def _split(data: PreparedData, config: EvaluationConfig) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    if data.holdout is not None:
        return data.real, data.holdout, "holdout table"
    order = np.random.default_rng(config.seed).permutation(len(data.real))
    test_size = max(1, round(len(order) * config.utility_test_fraction))
    test, train = order[:test_size], order[test_size:]
    how = f"reference split at random (seed {config.seed}): {len(train)} train / {len(test)} test rows"
    return data.real.iloc[np.sort(train)], data.real.iloc[np.sort(test)], how


def _cap(frame: pd.DataFrame, limit: int | None, seed: int) -> pd.DataFrame:
    if limit is None or len(frame) <= limit:
        return frame
    return frame.iloc[np.sort(np.random.default_rng(seed).choice(len(frame), size=limit, replace=False))]


Split = tuple[np.ndarray, np.ndarray]


def _fit_score(task: str, train: Split, test: Split, **kw: object) -> float:
    x_train, y_train = train
    x_test, y_test = test
    if task == "classification":
        model = (
            HistGradientBoostingClassifier(**kw)
            if np.unique(y_train).size > 1
            else DummyClassifier(strategy="most_frequent")  # one class only: it is all a model could say
        )
        model.fit(x_train, y_train)
        return float(f1_score(y_test, model.predict(x_test), labels=np.unique(y_test), average="macro"))
    model = HistGradientBoostingRegressor(**kw)
    model.fit(x_train, y_train)
    return float(r2_score(y_test, model.predict(x_test)))


def evaluate_utility(data: PreparedData, config: EvaluationConfig) -> KindResult:
    """TSTR vs TRTR for ``config.target_column``."""
    target = config.target_column
    if target is None:
        return KindResult.skipped("no target_column in the config")
    sdtype = data.sdtypes[target]
    if sdtype not in (*DISCRETE_SDTYPES, "numerical"):
        reason = f"target column {target!r} has sdtype {sdtype}; needs a categorical or numerical one"
        return KindResult.skipped(reason)
    features = {name: kind for name, kind in data.evaluated.items() if name != target}
    if not features:
        return KindResult.skipped("no feature column besides the target")
    train_real, test, split = _split(data, config)
    frames = [
        _cap(train_real, config.utility_max_train_rows, config.seed),
        _cap(data.synthetic, config.utility_max_train_rows, config.seed + 1),
        test,
    ]
    frames = [frame[frame[target].notna()] for frame in frames]
    if any(len(frame) == 0 for frame in frames):
        return KindResult.skipped(f"no row with a value of {target!r} in one of the train/test sets")
    matrices, categorical = feature_matrices(frames, features)
    task = "classification" if sdtype in DISCRETE_SDTYPES else "regression"
    if task == "classification":
        labels = [frame[target].astype(str).to_numpy() for frame in frames]
    else:
        labels = [frame[target].to_numpy(dtype=np.float64) for frame in frames]
    options = {"random_state": config.seed, "categorical_features": np.array(categorical)}
    trtr = _fit_score(task, (matrices[0], labels[0]), (matrices[2], labels[2]), **options)
    tstr = _fit_score(task, (matrices[1], labels[1]), (matrices[2], labels[2]), **options)
    metric = "macro_f1" if task == "classification" else "r2"
    results = {
        "target": target,
        "task": task,
        "metric": metric,
        "model": "HistGradientBoosting" + ("Classifier" if task == "classification" else "Regressor"),
        "split": split,
        "rows": dict(zip(("train_real", "train_synthetic", "test_real"), map(len, frames), strict=True)),
        "features": list(features),
        "tstr": tstr,
        "trtr": trtr,
        "gap": trtr - tstr,
    }
    metrics = {"utility.tstr": tstr, "utility.trtr": trtr, "utility.gap": trtr - tstr}
    return KindResult(metrics=metrics, results=results)
