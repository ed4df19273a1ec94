"""sdmetrics 0.32's DiagnosticReport (Data Validity, Data Structure) on NumPy arrays, equal to sdmetrics.

Reproduces, for one table without constraints, relationships, keys or ``range_*``/``datetime_format``
metadata (the way ``registry.evaluation.diagnostics`` calls the report), these sdmetrics 0.32 files:

- ``reports/diagnostic_report.py`` and ``reports/base_unified_report.py``: the unified report skips
  Relationship Validity (one table) and Constraint Validity (no constraints); the overall score is
  ``np.nanmean`` of the two computed properties, Data Validity and Data Structure. (With constraints,
  ``registry.evaluation.diagnostics`` adds Constraint Validity from ``native/constraints.py``, and the mean of
  the three.)
- ``reports/base_report.py`` (``generate``, ``convert_datetimes``): a datetime column that is not already
  ``datetime64`` cannot be converted without a ``datetime_format``, the error is swallowed and the column
  stays as it was; the original columns kept in ``_original_datetime_columns`` only feed
  DatetimeFormatAdherence, which runs only when the metadata has a ``datetime_format``, so never here.
- ``reports/multi_table/_properties/base.py`` and ``reports/single_table/_properties/data_validity.py``:
  one row per column in metadata order: BoundaryAdherence for numerical and datetime, CategoryAdherence
  for categorical, ordinal and boolean, no row for any other sdtype (``id`` needs a key for
  KeyUniqueness and a ``regex_format`` for RegexFormatAdherence). A metric that raises scores NaN with
  the error ``f"{type(e).__name__}: {e}"``; the Error column exists only if some metric raised, then
  ``None`` on the other rows. The property score is the pandas mean of the scores (NaN skipped, NaN when
  none is left).
- ``reports/single_table/_properties/structure.py`` and ``single_table/table_structure.py``: the share
  of (column name, ``str(dtype)``) pairs the two tables have in common, over their union; with no column
  it raises ``ZeroDivisionError`` and the property is NaN.
- ``single_column/statistical/boundary_adherence.py``: bounds are the real column's min and max, NaN
  skipped. Missing synthetic values are left out (numerator and denominator) only if the real column has
  a missing value; otherwise they count as out of bounds. Datetimes are compared as int64 in the real
  column's unit, a bound that is NaT becoming int64's minimum: with an empty real datetime column, the
  bounds are (NaT, NaT) and a synthetic NaT counts as *inside* them. No value left: 0/0 = NaN.
- ``single_column/statistical/category_adherence.py``: ``fillna(np.nan)`` (which in pandas 2 also
  downcasts object columns, e.g. ints with NaN to float64), then ``isin`` the real column's distinct
  non-missing values, pandas' equality (``1 == 1.0 == True``, ``-0.0 == 0.0``); missing synthetic values
  are valid only if the real column has a missing value. No synthetic row: NaN.

Fast paths: numbers and datetimes as int64/float64 arrays; numeric categories by sorted search; object
columns of strings or booleans by one factorisation of the synthetic column (their ``fillna`` changes
no label's equality). Other dtypes (object numbers, mixed objects, a datetime column against text, ...)
go through sdmetrics' own pandas calls in its order, so their scores and error messages are sdmetrics'.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from registry.evaluation.keys import CodesOf, as_objects, value_dtype

DATA_VALIDITY = "Data Validity"
DATA_STRUCTURE = "Data Structure"
BOUNDARY_ADHERENCE = "BoundaryAdherence"
CATEGORY_ADHERENCE = "CategoryAdherence"
SDTYPE_METRICS = {
    "numerical": BOUNDARY_ADHERENCE,
    "datetime": BOUNDARY_ADHERENCE,
    "categorical": CATEGORY_ADHERENCE,
    "ordinal": CATEGORY_ADHERENCE,
    "boolean": CATEGORY_ADHERENCE,
}
_NAT = np.iinfo(np.int64).min
_NUMBER_KINDS = "iuf"
_CATEGORY_KINDS = "biuf"
_LABEL_TYPES = ("string", "boolean")

Bound = float | np.number


@dataclass(frozen=True)
class DiagnosticScores:
    """The report's overall score, its two property scores and the Data Validity details rows."""

    score: float
    properties: dict[str, float]
    data_validity: list[dict]


def _ratio(count: int, total: int) -> float:
    return count / total if total else math.nan


def _numpy_dtype(series: pd.Series, kinds: str) -> bool:
    return isinstance(series.dtype, np.dtype) and series.dtype.kind in kinds


def _count_within(values: np.ndarray, low: Bound, high: Bound, present: np.ndarray | None) -> float:
    """BoundaryAdherence's ``between(low, high).sum() / len``, over the present values when given."""
    within = (values >= low) & (values <= high)
    if present is None:
        return _ratio(int(np.count_nonzero(within)), values.size)
    return _ratio(int(np.count_nonzero(within & present)), int(np.count_nonzero(present)))


def _number_bounds(real: np.ndarray) -> tuple[Bound, Bound]:
    if real.size == 0:
        return math.nan, math.nan
    if real.dtype.kind == "f":
        return np.fmin.reduce(real), np.fmax.reduce(real)
    return real.min(), real.max()


def _boundary_numbers(real: np.ndarray, synthetic: np.ndarray) -> float:
    low, high = _number_bounds(real)
    nullable = real.dtype.kind == "f" and bool(np.isnan(real).any())
    present = ~np.isnan(synthetic) if nullable and synthetic.dtype.kind == "f" else None
    return _count_within(synthetic, low, high, present)


def _boundary_datetimes(real: np.ndarray, synthetic: np.ndarray) -> float:
    real, synthetic = real.view(np.int64), synthetic.view(np.int64)
    real_missing = real == _NAT
    nullable = bool(real_missing.any())
    known = real[~real_missing] if nullable else real
    low, high = (known.min(), known.max()) if known.size else (_NAT, _NAT)
    return _count_within(synthetic, low, high, synthetic != _NAT if nullable else None)


def _boundary_pandas(real: pd.Series, synthetic: pd.Series) -> float:
    """BoundaryAdherence.compute's own pandas calls, in its order (so also its exceptions)."""
    range_min, range_max = real.min(), real.max()
    nullable = bool(real.isna().any())
    real = real.dropna()
    if nullable:
        synthetic = synthetic.dropna()
    if pd.api.types.is_datetime64_any_dtype(real):
        bounds = pd.to_datetime([range_min, range_max]).astype(real.dtype)
        real = pd.to_numeric(real)
        synthetic = pd.to_numeric(synthetic)
        range_min, range_max = pd.to_numeric(bounds)
    valid = synthetic.between(range_min, range_max)
    return float(valid.sum() / len(synthetic))


def boundary_adherence(real: pd.Series, synthetic: pd.Series) -> float:
    """sdmetrics' BoundaryAdherence without range metadata."""
    if _numpy_dtype(real, _NUMBER_KINDS) and _numpy_dtype(synthetic, _NUMBER_KINDS):
        return _boundary_numbers(real.to_numpy(), synthetic.to_numpy())
    if _numpy_dtype(real, "M") and real.dtype == synthetic.dtype:
        return _boundary_datetimes(real.to_numpy(), synthetic.to_numpy())
    return _boundary_pandas(real, synthetic)


def _members(values: np.ndarray, categories: np.ndarray) -> np.ndarray:
    """``values`` found in the sorted ``categories`` (exact equality, as pandas' hash tables)."""
    if categories.size == 0:
        return np.zeros(values.shape, dtype=bool)
    positions = np.minimum(np.searchsorted(categories, values), categories.size - 1)
    return categories[positions] == values


def _category_numbers(real: np.ndarray, synthetic: np.ndarray) -> float:
    common = np.result_type(real.dtype, synthetic.dtype)
    real, synthetic = real.astype(common, copy=False), synthetic.astype(common, copy=False)
    categories = pd.unique(real)
    if common.kind == "f":
        nullable = bool(np.isnan(categories).any())
        categories = categories[~np.isnan(categories)]
    else:
        nullable = False
    valid = _members(synthetic, np.sort(categories))
    if nullable:
        valid |= np.isnan(synthetic)
    return _ratio(int(np.count_nonzero(valid)), synthetic.size)


def _category_pandas(real: pd.Series, synthetic: pd.Series) -> float:
    """CategoryAdherence.compute_breakdown's own pandas calls, in its order."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pandas 2 downcasts object columns in fillna
        real = real.fillna(np.nan)
        synthetic = synthetic.fillna(np.nan)
    valid_values = pd.Series(real.unique())
    nullable = bool(real.isna().any()) or bool(valid_values.isna().any())
    valid = synthetic.isin(valid_values.dropna())
    if nullable:
        valid = valid | synthetic.isna()
    return float(valid.mean())


def _labels(values: np.ndarray) -> bool:
    """Booleans or strings (missing values aside), whose equality ``fillna(np.nan)``'s downcast leaves alone."""
    return values.dtype == bool or (
        values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in _LABEL_TYPES
    )


def _category_codes(categories: np.ndarray, codes: np.ndarray, labels: np.ndarray) -> float:
    """CategoryAdherence from the synthetic column's factorisation: a missing value never equals a label."""
    missing = pd.isna(categories)
    counts = np.bincount(codes + 1, minlength=labels.size + 1)
    members = pd.Series(labels, dtype=labels.dtype).isin(categories[~missing]).to_numpy()
    valid = int(counts[1:][members].sum()) + (int(counts[0]) if missing.any() else 0)
    return _ratio(valid, codes.size)


def _label_column(series: pd.Series) -> bool:
    """Booleans or objects, or a categorical (objects once given to sdmetrics)."""
    return isinstance(series.dtype, pd.CategoricalDtype) or _numpy_dtype(series, "bO")


def _category_shared(codes: Sequence[np.ndarray], uniques: pd.Index) -> float:
    """CategoryAdherence from codes the two columns share (missing values one code, as ``keys.joint_codes``):
    a synthetic row is valid iff its code occurs in the real column, which for the missing code means the real
    column has a missing value too."""
    real, synthetic = codes
    seen = np.bincount(real, minlength=len(uniques)) > 0
    counts = np.bincount(synthetic, minlength=len(uniques))
    return _ratio(int(counts[seen].sum()), synthetic.size)


def category_adherence(
    real: pd.Series, synthetic: pd.Series, shared: tuple[Sequence[np.ndarray], pd.Index] | None = None
) -> float:
    """sdmetrics' CategoryAdherence without range metadata.

    ``shared``: the two columns' joint value codes, if already computed (``PreparedData.joint_codes``); they
    are read instead of hashing the columns again when every value is a string or a boolean.
    """
    if shared is not None and _label_column(real) and _label_column(synthetic):
        values = np.asarray(shared[1], dtype=object)
        if _labels(values[~pd.isna(values)]):
            return _category_shared(*shared)
    real, synthetic = as_objects(real), as_objects(synthetic)
    if _numpy_dtype(real, _CATEGORY_KINDS) and _numpy_dtype(synthetic, _CATEGORY_KINDS):
        return _category_numbers(real.to_numpy(), synthetic.to_numpy())
    if _numpy_dtype(real, "bO") and _numpy_dtype(synthetic, "bO"):
        categories = pd.unique(real.to_numpy())
        codes, labels = pd.factorize(synthetic.to_numpy())
        if _labels(categories) and _labels(labels):
            return _category_codes(categories, codes, labels)
    return _category_pandas(real, synthetic)


def _error_text(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def _validity_row(column: str, sdtype: str, real: pd.Series, synthetic: pd.Series, codes: CodesOf | None) -> dict:
    metric = SDTYPE_METRICS[sdtype]
    try:
        with np.errstate(all="ignore"):
            if metric == BOUNDARY_ADHERENCE:
                score = boundary_adherence(real, synthetic)
            else:
                shared = codes(column) if codes is not None and _label_column(real) else None
                score = category_adherence(real, synthetic, shared)
            return {"column": column, "metric": metric, "score": float(score)}
    except Exception as error:
        return {"column": column, "metric": metric, "score": math.nan, "error": _error_text(error)}


def data_validity(
    real: pd.DataFrame, synthetic: pd.DataFrame, sdtypes: Mapping[str, str], codes: CodesOf | None = None
) -> list[dict]:
    """The Data Validity details: one row per column with a metric, ``error`` on every row if one raised.

    ``codes``: the columns' joint value codes computed elsewhere (``PreparedData.joint_codes``), if any.
    """
    rows = [
        _validity_row(name, sdtype, real[name], synthetic[name], codes)
        for name, sdtype in sdtypes.items()
        if sdtype in SDTYPE_METRICS
    ]
    if any("error" in row for row in rows):
        rows = [{**row, "error": row.get("error")} for row in rows]
    return rows


def table_structure(real: pd.DataFrame, synthetic: pd.DataFrame, columns: Sequence[str]) -> tuple[float, str | None]:
    """TableStructure on ``real[columns]`` and ``synthetic[columns]``: score, and the error text if it raises."""
    real_pairs = {(name, str(value_dtype(real[name]))) for name in columns}
    synthetic_pairs = {(name, str(value_dtype(synthetic[name]))) for name in columns}
    try:
        return len(real_pairs & synthetic_pairs) / len(real_pairs | synthetic_pairs), None
    except ZeroDivisionError as error:
        return math.nan, _error_text(error)


def pandas_mean(scores: Sequence[float]) -> float:
    """``Series.mean()`` of float scores: NaN skipped, the masked values summed as NumPy sums them."""
    values = np.asarray(scores, dtype=np.float64)
    missing = np.isnan(values)
    count = values.size - int(np.count_nonzero(missing))
    if count == 0:
        return math.nan
    return float(np.where(missing, 0.0, values).sum() / count)


def _nanmean(scores: Sequence[float]) -> float:
    present = [score for score in scores if not math.isnan(score)]
    return float(np.sum(present) / len(present)) if present else math.nan


def diagnostic_report(
    real: pd.DataFrame, synthetic: pd.DataFrame, sdtypes: Mapping[str, str], *, codes: CodesOf | None = None
) -> DiagnosticScores:
    """sdmetrics 0.32's DiagnosticReport on ``real[list(sdtypes)]`` and ``synthetic[list(sdtypes)]``.

    ``codes``: joint value codes of the columns computed elsewhere (``PreparedData.joint_codes``), if any.
    """
    rows = data_validity(real, synthetic, sdtypes, codes)
    properties = {
        DATA_VALIDITY: pandas_mean([row["score"] for row in rows]),
        DATA_STRUCTURE: table_structure(real, synthetic, list(sdtypes))[0],
    }
    return DiagnosticScores(score=_nanmean(list(properties.values())), properties=properties, data_validity=rows)
