"""Detection: how well a logistic regression tells real rows from synthetic ones (``quality.detection``).

The number equals sdmetrics 0.32's ``LogisticDetection.compute`` (1 = indistinguishable, 0 = perfectly
separable), computed here without sdmetrics:

1. Columns. sdmetrics keeps only the columns whose sdtype is numerical, datetime or categorical: boolean,
   ordinal and id columns (and any other sdtype) are dropped, in the real table's column order.
2. Encoding. sdmetrics 0.32 uses its own ``sdmetrics.utils.HyperTransformer`` (not rdt's), which picks a
   transformation from the dtype kind of the real column's non-missing values
   (``real[c].dropna().infer_objects().dtype.kind``), whatever the sdtype says:

   - ``i``/``f`` (numbers): missing values filled with the real column's mean (both tables);
   - ``M`` (datetimes): integers since the epoch in the column's unit (nanoseconds once prepared) as
     floats, NaT filled with the real mean;
   - ``b`` (booleans, e.g. a categorical column of True/False): 0/1, missing filled with the real mode;
   - ``O`` (anything else): one-hot, with scikit-learn's OneHotEncoder category order (sorted values,
     then None, then NaN as a category of its own if present in the real column).

   Encoded columns keep their place; one-hot blocks go to the end, in column order.
3. Model. Real rows (label 1) then synthetic rows (label 0); infinities become NaN. Three stratified,
   shuffled folds (``StratifiedKFold(n_splits=3, shuffle=True)``); on each the training part is mean-imputed
   (only inf can still be missing), scaled with RobustScaler's median/IQR and fitted with
   ``LogisticRegression(solver="lbfgs")`` (scikit-learn defaults, 100 iterations at most: on large tables
   the fit usually stops there, as it does in sdmetrics; ``iterations_per_fold`` says so).
4. Score = 1 - mean over folds of (max(ROC AUC, 0.5) * 2 - 1).

Seed. sdmetrics constructs ``StratifiedKFold`` without a ``random_state``, so the split comes from NumPy's
global RNG; here it comes from ``np.random.RandomState(seed)``, which is the same generator in the same state.

Threads. The fits stop at 100 L-BFGS iterations before converging on large tables, so rounding differences
grow into the third or fourth decimal, and multi-threaded OpenBLAS sums the gradient in an order that depends
on its thread count: sdmetrics' own number for the full Adult table moves by about 3e-4 between 1 and 2 BLAS
threads. Here the fits run with one BLAS thread, so the number does not depend on the machine's core count
(and, the fits being memory-bound matrix-vector products, it is also several times faster than letting
OpenBLAS's threads compete). To reproduce it with sdmetrics alone (nothing else may draw from NumPy's global
RNG in between)::

    import numpy as np
    from sdmetrics.single_table import LogisticDetection
    from threadpoolctl import threadpool_limits

    metadata = {"columns": {name: {"sdtype": sdtype} for name, sdtype in sdtypes.items()}}
    with threadpool_limits(limits=1, user_api="blas"):
        np.random.seed(seed)
        score = LogisticDetection.compute(real, synthetic, metadata)

with the same tables (datetime columns as datetime64, missing values as NaN/NaT, ``RangeIndex``, the same
column order in both tables), library versions and CPU family (OpenBLAS picks its kernels per CPU); the
results are then identical, not merely close. ``blas_threads=None`` instead leaves the BLAS setting alone and
equals a plain ``LogisticDetection.compute`` in the same process (without ``threadpool_limits``).

Beyond sdmetrics (each listed in ``deviations``; ``sdmetrics_comparable`` is then False):

- a category present in the synthetic table only (missing values included) makes sdmetrics raise
  (OneHotEncoder ``handle_unknown="error"``); here the one-hot categories then come from both tables, so
  such rows get an indicator of their own, which is what a detector should see;
- categories of mixed, unorderable types (sdmetrics raises) are ordered by type name, then text;
- unsigned integers are treated as numbers (sdmetrics 0.32 has no transformation for them);
- pandas' own missing markers (pd.NA, NaT) in a categorical column count as NaN (scikit-learn raises);
- the tables' indexes are ignored and the synthetic columns are taken in the real table's order
  (sdmetrics misaligns datetime columns with a non-RangeIndex and features with a different order).

Large tables: above ``max_rows`` rows (``EvaluationConfig.detection_max_rows``, 50,000 by default) a table
is replaced by a seeded sample of that many rows (``numpy.random.default_rng(seed)``, without replacement,
kept in table order) and the result says so (``sampled``, a deviation; ``sdmetrics_comparable`` False):
sdmetrics' fits on all of a 1M-row pair take minutes and gigabytes, while with 50,000 rows a class the
score's sampling error is already below 0.005. The number then equals sdmetrics run on those samples.

Sample size: with fewer than ``MIN_ROWS`` rows in either table the caller reports the metric as
insufficient (see ``detection_result``). At 50 rows per table each test fold holds about 17 rows of each
class; under the null a fold's AUC then has a standard error of about 0.1 (Hanley & McNeil), so the score's
noise is already about 0.1: below that the number says more about the sample than about the generator.
"""

from __future__ import annotations

import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from registry.evaluation.prepare import as_values

_BLAS_LIMIT = threading.Lock()
_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)

SOURCE = "sdmetrics 0.32 LogisticDetection"
DEFINITION = (
    "1 - mean over 3 stratified folds of (max(ROC AUC, 0.5) * 2 - 1) of a logistic regression telling real "
    "rows from synthetic ones (numerical, datetime and categorical columns; 1 = indistinguishable)"
)
FOLDS = 3
MIN_ROWS = 50
BLAS_THREADS = 1
MODELLED_SDTYPES = ("numerical", "datetime", "categorical")
_MAX_ITER = 100  # LogisticRegression's default, which sdmetrics uses


def _is_missing(value: Any) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _sorted_categories(values: list[Any], column: str, deviations: list[str]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        deviations.append(f"{column!r}: categories of mixed types, ordered by type name then text")
        return sorted(values, key=lambda value: (type(value).__qualname__, str(value)))


class _OneHot:
    """OneHotEncoder(categories="auto") as sdmetrics fits it on the real column (see the module docstring)."""

    def __init__(self, real: np.ndarray, synthetic: np.ndarray, column: str, deviations: list[str]) -> None:
        real_present, real_missing = self._split(real)
        synthetic_present, synthetic_missing = self._split(synthetic)
        present = real_present | synthetic_present
        missing = real_missing | synthetic_missing
        unseen = len(present) - len(real_present) + len(missing) - len(real_missing)
        if unseen:
            deviations.append(
                f"{column!r}: {unseen} synthetic categor{'y' if unseen == 1 else 'ies'} absent from the real "
                "data (sdmetrics raises); one-hot categories taken from both tables"
            )
        else:
            present = real_present
        if self._odd_missing(real) or self._odd_missing(synthetic):
            deviations.append(f"{column!r}: pd.NA/NaT among the categories, counted as NaN")
        self.present = _sorted_categories(list(present), column, deviations)
        # sklearn's order for missing values: None, then NaN (each its own category).
        self.missing = [kind for kind in ("none", "nan") if kind in missing]

    @staticmethod
    def _split(values: np.ndarray) -> tuple[set[Any], set[str]]:
        present: set[Any] = set()
        missing: set[str] = set()
        for value in pd.unique(values):
            if _is_missing(value):
                missing.add("none" if value is None else "nan")
            else:
                present.add(value)
        return present, missing

    @staticmethod
    def _odd_missing(values: np.ndarray) -> bool:
        return any(
            value is not None and not isinstance(value, float) and _is_missing(value) for value in pd.unique(values)
        )

    @property
    def width(self) -> int:
        return len(self.present) + len(self.missing)

    def codes(self, values: np.ndarray) -> np.ndarray:
        codes = pd.Index(self.present, dtype=object).get_indexer(values).astype(np.int64)
        lost = codes < 0
        if lost.any():
            # Only missing values are left (unseen categories were added above).
            is_none = np.fromiter((value is None for value in values[lost]), dtype=bool, count=int(lost.sum()))
            base = len(self.present)
            none_code = base + self.missing.index("none") if "none" in self.missing else -1
            nan_code = base + self.missing.index("nan") if "nan" in self.missing else -1
            codes[lost] = np.where(is_none, none_code, nan_code)
        return codes


def _numeric_fill(series: pd.Series, value: float) -> np.ndarray:
    return np.asarray(series.fillna(value), dtype=np.float64)


def _encode(real: pd.DataFrame, synthetic: pd.DataFrame, deviations: list[str]) -> tuple[np.ndarray, list[str]]:
    """The stacked feature matrix (real rows, then synthetic rows) as sdmetrics' HyperTransformer builds it."""
    n_real, n_total = len(real), len(real) + len(synthetic)
    plain: list[tuple[str, np.ndarray, np.ndarray]] = []
    blocks: list[tuple[str, _OneHot, np.ndarray, np.ndarray]] = []
    for name in real.columns:
        left, right = real[name], synthetic[name]
        kind = left.dropna().infer_objects().dtype.kind
        if kind in "iuf":
            if kind == "u":
                deviations.append(f"{name!r}: unsigned integers treated as numbers (sdmetrics has no transformation)")
            mean = left.mean()
            plain.append((name, _numeric_fill(left, mean), _numeric_fill(right, mean)))
        elif kind == "b":
            left_numbers = pd.to_numeric(left, errors="coerce").astype(float)
            mode = left_numbers.mode().iloc[0]
            right_numbers = pd.to_numeric(right, errors="coerce").astype(float)
            plain.append((name, _numeric_fill(left_numbers, mode), _numeric_fill(right_numbers, mode)))
        elif kind == "M":
            left_values, right_values = _nanoseconds(left), _nanoseconds(right)
            mean = pd.Series(left_values).mean()
            plain.append(
                (name, _numeric_fill(pd.Series(left_values), mean), _numeric_fill(pd.Series(right_values), mean))
            )
        elif kind == "O":
            left_values = np.asarray(left.to_numpy(), dtype=object)
            right_values = np.asarray(right.to_numpy(), dtype=object)
            encoder = _OneHot(left_values, right_values, name, deviations)
            blocks.append((name, encoder, encoder.codes(left_values), encoder.codes(right_values)))
        else:
            raise ValueError(f"column {name!r} has values of dtype kind {kind!r}, which sdmetrics cannot encode")
    width = len(plain) + sum(encoder.width for _, encoder, _, _ in blocks)
    # Fortran order, as DataFrame.to_numpy() gives it to sdmetrics (the folds are then C-ordered copies).
    matrix = np.zeros((n_total, width), dtype=np.float64, order="F")
    features = []
    for index, (name, left_values, right_values) in enumerate(plain):
        matrix[:n_real, index] = left_values
        matrix[n_real:, index] = right_values
        features.append(name)
    offset = len(plain)
    for name, encoder, left_codes, right_codes in blocks:
        rows = np.arange(n_total)
        matrix[rows, offset + np.concatenate([left_codes, right_codes])] = 1.0
        features.extend(f"{name}_value{i}" for i in range(encoder.width))
        offset += encoder.width
    return matrix, features


def _nanoseconds(series: pd.Series) -> np.ndarray:
    """Datetimes as float integers of the column's unit, NaT as NaN (sdmetrics' conversion)."""
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        series = pd.to_datetime(series, errors="coerce")
    values = pd.to_numeric(series, errors="coerce").to_numpy().astype(np.float64)
    values[series.isna().to_numpy()] = np.nan
    return values


def _robust_scale(train: np.ndarray, test: np.ndarray) -> None:
    """RobustScaler() fitted on ``train``, applied in place to both (median centre, IQR scale)."""
    # No NaN is left after imputation: the plain functions give sklearn's nanmedian/nanpercentile values.
    center = np.median(train, axis=0)
    quartiles = np.percentile(train, (25.0, 75.0), axis=0)
    scale = quartiles[1] - quartiles[0]
    scale[scale < 10 * np.finfo(scale.dtype).eps] = 1.0
    for matrix in (train, test):
        matrix -= center
        matrix /= scale


def _fold(matrix: np.ndarray, labels: np.ndarray, train: np.ndarray, test: np.ndarray) -> tuple[float, int]:
    train_matrix, test_matrix = matrix[train], matrix[test]  # C-ordered copies
    if np.isnan(train_matrix).any() or np.isnan(test_matrix).any():
        imputer = SimpleImputer().fit(train_matrix)
        train_matrix, test_matrix = imputer.transform(train_matrix), imputer.transform(test_matrix)
    _robust_scale(train_matrix, test_matrix)
    model = LogisticRegression(solver="lbfgs").fit(train_matrix, labels[train])
    predicted = model.predict_proba(test_matrix)[:, 1]
    return float(roc_auc_score(labels[test], predicted)), int(model.n_iter_[0])


def _incomputable(reason: str, base: dict[str, Any]) -> dict[str, Any]:
    return {**base, "score": None, "reason": reason, "auc_per_fold": []}


def logistic_detection(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    sdtypes: dict[str, str],
    seed: int,
    *,
    blas_threads: int | None = BLAS_THREADS,
) -> dict[str, Any]:
    """sdmetrics 0.32's LogisticDetection, computed natively (module docstring); score None when it cannot run.

    ``sdtypes`` maps every column to its sdtype; only numerical, datetime and categorical columns are used.
    ``blas_threads``: BLAS threads during the fits (see "Threads" above); None leaves the process's setting
    alone. The limit is process-wide while the fits run (threadpoolctl), as is the silencing of their
    ConvergenceWarnings.
    """
    columns = [str(name) for name in real.columns if sdtypes.get(str(name)) in MODELLED_SDTYPES]
    deviations: list[str] = []
    base: dict[str, Any] = {
        "folds": FOLDS,
        "rows": {"real": len(real), "synthetic": len(synthetic)},
        "seed": seed,
        "columns": columns,
        "dropped_columns": {str(name): sdtype for name, sdtype in sdtypes.items() if sdtype not in MODELLED_SDTYPES},
        "definition": DEFINITION,
        "source": SOURCE,
        "deviations": deviations,
        "sdmetrics_comparable": True,
        "blas_threads": blas_threads,
    }
    if not columns:
        return _incomputable("no numerical, datetime or categorical column to model", base)
    left = as_values(real[columns].reset_index(drop=True))
    right = as_values(synthetic[columns].reset_index(drop=True))
    try:
        matrix, features = _encode(left, right, deviations)
    except ValueError as error:
        return _incomputable(str(error), base)
    base["features"] = len(features)
    base["sdmetrics_comparable"] = not deviations
    labels = np.hstack([np.ones(len(left)), np.zeros(len(right))])
    matrix[np.isinf(matrix)] = np.nan
    splitter = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=np.random.RandomState(seed))
    try:
        # threadpoolctl's limit is process-wide and restored on exit: two overlapping limited sections (two
        # evaluations in one process) would restore each other's thread count mid-fit, so one at a time.
        with _BLAS_LIMIT, warnings.catch_warnings(), threadpool_limits(limits=blas_threads, user_api="blas"):
            # ConvergenceWarning: the 100-iteration cap is part of the definition (iterations are reported).
            warnings.simplefilter("ignore")
            splits = list(splitter.split(matrix, labels))
            if blas_threads == 1 and _CORES > 1:
                # Single-threaded BLAS leaves the other cores idle: the folds are independent, and each
                # fit's arithmetic is the same in any thread, so they run side by side.
                with ThreadPoolExecutor(max_workers=min(_CORES, len(splits))) as pool:
                    outcomes = list(pool.map(lambda split: _fold(matrix, labels, *split), splits))
            else:
                outcomes = [_fold(matrix, labels, train, test) for train, test in splits]
    except ValueError as error:
        return _incomputable(f"the classifier cannot be fitted: {error}", base)
    aucs = [auc for auc, _ in outcomes]
    score = 1 - np.mean([max(0.5, auc) * 2 - 1 for auc in aucs])
    return {
        **base,
        "score": float(score),
        "auc_per_fold": aucs,
        "iterations_per_fold": [iterations for _, iterations in outcomes],
        "max_iterations": _MAX_ITER,
    }


def _sample(frame: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    positions = np.sort(np.random.default_rng(seed).choice(len(frame), size=rows, replace=False))
    return frame.iloc[positions].reset_index(drop=True)


def detection_result(
    real: pd.DataFrame, synthetic: pd.DataFrame, sdtypes: dict[str, str], seed: int, max_rows: int | None = None
) -> dict:
    """``logistic_detection`` unless a table has fewer than MIN_ROWS rows (then ``insufficient`` is True);
    tables above ``max_rows`` are sampled first (module docstring, "Large tables")."""
    smallest = min(len(real), len(synthetic))
    if smallest < MIN_ROWS:
        reason = (
            f"detection needs at least {MIN_ROWS} rows in each table ({len(real)} real, {len(synthetic)} "
            "synthetic): with fewer, a fold's ROC AUC has a standard error above 0.1"
        )
        return {
            "score": None,
            "insufficient": True,
            "reason": reason,
            "rows": {"real": len(real), "synthetic": len(synthetic)},
            "definition": DEFINITION,
            "source": SOURCE,
        }
    if max_rows is None or max(len(real), len(synthetic)) <= max_rows:
        return {**logistic_detection(real, synthetic, sdtypes, seed), "insufficient": False}
    rows = {"real": len(real), "synthetic": len(synthetic)}
    if len(real) > max_rows:
        real = _sample(real, max_rows, seed)
    if len(synthetic) > max_rows:
        synthetic = _sample(synthetic, max_rows, seed + 1)
    result = logistic_detection(real, synthetic, sdtypes, seed)
    result["sampled"] = {
        "rows": {"real": len(real), "synthetic": len(synthetic)},
        "of": rows,
        "how": f"rows drawn without replacement by numpy.random.default_rng({seed}) (real), ({seed + 1}) (synthetic)",
    }
    result["deviations"].append(
        f"sampled to at most {max_rows:,} rows a table (detection_max_rows): {len(real):,} of {rows['real']:,} "
        f"real, {len(synthetic):,} of {rows['synthetic']:,} synthetic"
    )
    result["sdmetrics_comparable"] = False
    return {**result, "insufficient": False}
