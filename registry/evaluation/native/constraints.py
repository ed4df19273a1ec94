"""sdmetrics 0.32's Constraint Validity (the unified DiagnosticReport's fourth property) on pandas/NumPy, equal to
sdmetrics for every score, detail row and error text.

Reproduces, for one table whose real and synthetic sides have the same columns (as
``registry.evaluation.diagnostics`` calls it: no ``datetime_format`` metadata), these sdmetrics 0.32 files:

- ``reports/multi_table/_properties/constraint_validity.py``: one detail row per constraint (constraint, metric
  ``ConstraintAdherence``, parameters, score, error). A constraint that raises scores NaN with the error
  ``f"{type(e).__name__}: {e}"``; the error field exists only if some constraint raised, then ``None`` on the
  other rows. The property score is ``details["Score"].mean()``: NaN skipped, NaN when none is left.
- ``multi_table/statistical/constraint_adherence.py``: the constraint is fitted on the real table and scored on
  it (a real table not fully valid only warns, but an exception there is the constraint's error), then the
  score is the share of synthetic rows that are valid, NaN without rows. ``ConstraintNotApplicableError``
  (a column missing from the table, e.g. an identifier the evaluation leaves out; an sdtype the constraint
  cannot take) is not an error: the score is NaN.
- ``multi_table/statistical/constraints/``, for the classes ``registry.evaluation.constraints`` supports:

  * Inequality: ``isna(low) | isna(high) | high >= low`` (``>`` when strict) on the columns' NumPy arrays.
  * ChainedInequality (strict by default): each column against the last present value before it, missing
    values valid; when the first column's sdtype is datetime, columns that are not already datetime64 are parsed
    as sdmetrics parses them (``_is_datetime_type``, ``cast_to_datetime64``).
  * Range (strict required): ``low < middle``, ``middle < high`` and ``low < high`` (``<=`` unless strict), each
    true where one of its two values is missing.
  * FixedCombinations: the rows whose combination of values (missing values equal) occurs in the real table.
  * FixedNullCombinations: a row is valid if its set of missing columns occurs in the real table, and, with
    ``fix_category_values`` (default true), its tuple of categorical and boolean values (``None`` for missing)
    occurs in the real table among the rows with the same missing set. sdmetrics joins the real table's missing
    columns into ``", "``-separated text and splits it on ``","`` (stripping spaces) but compares the synthetic
    rows' sets of names as they are: a column whose name holds a comma or surrounding spaces never matches, and
    a lone missing column named ``None`` passes for "nothing missing". Reproduced.
  * FixedIncrements: ``isna(x) | (x % increment == 0)``; not applicable to a column whose sdtype is not numerical.
  * MixedScales: per segment (the combination of the segment columns, missing values a segment value), the
    synthetic values must lie within the real segment's minimum and maximum (missing values valid); a segment
    the real table lacks makes all of its rows invalid. Not applicable unless the column is numerical and the
    segment columns categorical or boolean.
  * OneHotEncoding: the row's values sum to 1, their maximum is 1, their minimum 0 and none is missing.
  * DenormalizedTable: rows that share a primary key value must share each denormalized column's value
    (missing values a value; distinct as ``Series.nunique(dropna=False)`` counts them).

Fast paths replace sdmetrics' row-by-row ``apply`` (FixedNullCombinations) and per-group Python calls
(MixedScales, DenormalizedTable) with one pass per pattern or group code; every comparison itself is the
NumPy/pandas operation sdmetrics runs, on the same arrays, so its results and exceptions are sdmetrics'.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_object_dtype
from pandas.core.tools.datetimes import _guess_datetime_format_for_array

from registry.evaluation.constraints import check_constraints
from registry.evaluation.native.validity import pandas_mean

CONSTRAINT_VALIDITY = "Constraint Validity"
CONSTRAINT_ADHERENCE = "ConstraintAdherence"
_NUMBER_KINDS = "iuf"
_CATEGORY_SDTYPES = ("categorical", "boolean")
# sdmetrics' MAX_DECIMALS (utils/numerical_formatter.py): the rounding MixedScales learns, and can fail on.
_MAX_DECIMALS = sys.float_info.dig


class NotApplicable(Exception):
    """sdmetrics' ConstraintNotApplicableError: the constraint cannot be checked on this table (score NaN)."""


@dataclass(frozen=True)
class ConstraintValidity:
    """The property's score and its detail rows (``error`` on every row if some constraint raised)."""

    score: float
    details: list[dict[str, Any]]


Validity = np.ndarray | pd.Series


# sdmetrics' datetime parsing (constraints/_utils.py), without a datetime_format -----------------------------


def _datetime_format(value: Any) -> str | None:
    values = pd.Series([value])
    values = values[~values.isna()]
    return _guess_datetime_format_for_array(values.astype(str).to_numpy())


def _is_datetime_type(series: pd.Series) -> bool:
    """``_is_datetime_type``: the first thousand present values all read as datetimes."""
    values = series[~series.isna()].head(1000)
    for value in values:
        if not (
            bool(_datetime_format(value))
            or isinstance(value, pd.Timestamp | dt.datetime | pd.Period)
            or (isinstance(value, str) and pd.notna(pd.to_datetime(value, errors="coerce")))
        ):
            return False
    return True


def _datetimes_series(series: pd.Series) -> pd.Series:
    """``cast_to_datetime64`` of a Series: parsed (unparseable values NaT), time zones dropped, nanoseconds."""
    parsed = pd.to_datetime(series, format=None, errors="coerce")
    if hasattr(parsed, "dt") and hasattr(parsed.dt, "tz_localize"):
        parsed = parsed.dt.tz_localize(None)
    if not isinstance(parsed, pd.Series):
        parsed = pd.Series(parsed)
    return parsed.astype("datetime64[ns]")


def _datetime_value(value: Any) -> np.datetime64:
    if pd.isna(value):
        return pd.NaT.to_datetime64()
    parsed = pd.to_datetime(value, format=None, errors="coerce")
    if hasattr(parsed, "tz_localize"):
        parsed = parsed.tz_localize(None)
    return parsed.to_datetime64()


def _datetimes_array(values: np.ndarray) -> np.ndarray:
    """``cast_to_datetime64`` of an array: value by value."""
    return np.array([_datetime_value(value) for value in values])


def _naive_datetimes(series: pd.Series) -> bool:
    """A NumPy datetime64 column, which sdmetrics' parsing leaves as it is."""
    return isinstance(series.dtype, np.dtype) and series.dtype.kind == "M"


# The constraints --------------------------------------------------------------------------------------------


class _Constraint:
    """One constraint: the columns it needs (sdmetrics' ``_validate_data``), what it learns from the real table
    (``_fit``) and which rows of a table follow it (``_is_valid``)."""

    def __init__(self, parameters: Mapping[str, Any]) -> None:
        self.parameters = parameters

    @property
    def columns(self) -> list[str]:
        raise NotImplementedError

    def check(self, table: pd.DataFrame, sdtypes: Mapping[str, str]) -> None:
        if any(name not in table.columns for name in self.columns):
            raise NotApplicable

    def fit(self, real: pd.DataFrame, sdtypes: Mapping[str, str]) -> None:
        return None

    def valid(self, table: pd.DataFrame, sdtypes: Mapping[str, str]) -> Validity:
        raise NotImplementedError


class _Inequality(_Constraint):
    @property
    def columns(self) -> list[str]:
        return [self.parameters["low_column_name"], self.parameters["high_column_name"]]

    def valid(self, table, sdtypes):
        low_name, high_name = self.columns
        compare = np.greater if self.parameters.get("strict_boundaries", False) else np.greater_equal
        low, high = table[low_name].to_numpy(), table[high_name].to_numpy()
        if sdtypes[low_name] == "datetime" and is_object_dtype(table[low_name]):
            low, high = _datetimes_array(low), _datetimes_array(high)
        return pd.isna(low) | pd.isna(high) | compare(high, low)


class _ChainedInequality(_Constraint):
    @property
    def columns(self) -> list[str]:
        return list(self.parameters["column_names"])

    def valid(self, table, sdtypes):
        names = self.columns
        compare = operator.lt if self.parameters.get("strict_boundaries", True) else operator.le
        data = table[names].copy()
        if sdtypes[names[0]] == "datetime":
            for name in names:
                if _naive_datetimes(data[name]) or not _is_datetime_type(data[name]):
                    continue
                data.loc[:, name] = _datetimes_series(data[name])
        valid = pd.Series(True, index=data.index)
        low = data[names[0]]
        for name in names[1:]:
            high = data[name]
            valid = valid & (pd.isna(low) | pd.isna(high) | compare(low, high))
            low = high.mask(pd.isna(high), low)
        return valid


class _Range(_Constraint):
    @property
    def columns(self) -> list[str]:
        return [self.parameters[f"{part}_column_name"] for part in ("low", "middle", "high")]

    def valid(self, table, sdtypes):
        names = self.columns
        compare = operator.lt if self.parameters["strict_boundaries"] else operator.le
        low, middle, high = (table[name] for name in names)
        if sdtypes[names[0]] == "datetime" and is_object_dtype(table[names[2]].dtypes):
            low, middle, high = (_datetimes_series(column) for column in (low, middle, high))
        low_missing, middle_missing, high_missing = pd.isna(low), pd.isna(middle), pd.isna(high)
        low_middle = low_missing | middle_missing | compare(low, middle)
        middle_high = middle_missing | high_missing | compare(middle, high)
        low_high = low_missing | high_missing | compare(low, high)
        return low_middle & middle_high & low_high


class _FixedCombinations(_Constraint):
    combinations: pd.DataFrame | None = None

    @property
    def columns(self) -> list[str]:
        return list(self.parameters["column_names"])

    def fit(self, real, sdtypes):
        self.combinations = real[self.columns].drop_duplicates()

    def valid(self, table, sdtypes):
        if self.combinations is None:
            raise NotApplicable
        names = self.columns
        indicator = "#".join(names)
        data = table[names]
        merged = data.merge(self.combinations, how="left", on=names, indicator=indicator)
        valid = merged[indicator] == "both"
        valid.index = data.index
        return valid


def _missing_patterns(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each row's pattern of missing columns: (distinct patterns as boolean rows, each row's pattern index)."""
    missing = frame.isna().to_numpy()
    packed = np.packbits(missing, axis=1)  # one bit a column: up to 64 columns make one uint64 a row
    if packed.shape[1] <= 8:
        padded = np.zeros((len(packed), 8), dtype=np.uint8)
        padded[:, : packed.shape[1]] = packed
        keys = padded.view(np.uint64).reshape(-1)
    else:
        keys = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).reshape(-1)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return missing[first], inverse.reshape(-1)


def _value_tuples(values: np.ndarray) -> list[tuple]:
    """Each row of a 2-D array (``DataFrame.values``, as ``apply(axis=1)`` reads rows) as a tuple, missing values
    ``None``: ``_tuple_from_columns``."""
    columns = []
    for position in range(values.shape[1]):
        # Through pandas: datetime64 values become Timestamps, as in the rows apply builds (NumPy: integers).
        column = pd.Series(values[:, position]).astype(object).to_numpy()
        column[pd.isna(column)] = None
        columns.append(column)
    return list(zip(*columns, strict=True))


class _FixedNullCombinations(_Constraint):
    fitted = False
    combinations: frozenset = frozenset()
    categorical: Sequence[str] = ()
    by_missing: Mapping[frozenset, set] = {}

    @property
    def columns(self) -> list[str]:
        return list(self.parameters["column_names"])

    def _real_key(self, pattern: np.ndarray) -> frozenset:
        """The missing set as ``compute_nans_column`` writes it and ``_fit`` reads it back."""
        names = [name for name, missing in zip(self.columns, pattern, strict=True) if missing]
        label = ", ".join(names) if names else "None"
        return frozenset(part.strip() for part in label.split(","))

    def _key(self, pattern: np.ndarray) -> frozenset:
        """The missing set as ``_is_valid`` compares it: the names themselves."""
        names = [name for name, missing in zip(self.columns, pattern, strict=True) if missing]
        return frozenset(names or ["None"])

    def _fixes_categories(self) -> bool:
        return self.parameters.get("fix_category_values", True) and bool(self.categorical)

    def fit(self, real, sdtypes):
        patterns, inverse = _missing_patterns(real[self.columns])
        keys = [self._real_key(pattern) for pattern in patterns]
        self.combinations = frozenset(keys)
        self.categorical = [name for name in self.columns if sdtypes.get(name) in _CATEGORY_SDTYPES]
        self.by_missing = {}
        if self._fixes_categories():
            values = _value_tuples(real[self.categorical].to_numpy())
            for value, index in zip(values, inverse, strict=True):
                self.by_missing.setdefault(keys[index], set()).add(value)
        self.fitted = True

    def valid(self, table, sdtypes):
        if not self.fitted:
            return np.ones(len(table), dtype=bool)
        data = table[self.columns]
        patterns, inverse = _missing_patterns(data)
        keys = [self._key(pattern) for pattern in patterns]
        allowed = np.array([key in self.combinations for key in keys], dtype=bool)
        valid = allowed[inverse] if len(inverse) else np.zeros(0, dtype=bool)
        if not self._fixes_categories():
            return valid
        positions = [self.columns.index(name) for name in self.categorical]
        values = _value_tuples(data.to_numpy()[:, positions])
        known = [self.by_missing.get(key, set()) for key in keys]
        combined = [value in known[index] for value, index in zip(values, inverse, strict=True)]
        return valid & np.array(combined, dtype=bool)


class _FixedIncrements(_Constraint):
    @property
    def columns(self) -> list[str]:
        return [self.parameters["column_name"]]

    def check(self, table, sdtypes):
        super().check(table, sdtypes)
        if sdtypes[self.columns[0]] != "numerical":
            raise NotApplicable

    def valid(self, table, sdtypes):
        column = table[self.columns[0]]
        return pd.isna(column) | (column % self.parameters["increment_value"] == 0)


class _Missing:
    """sdmetrics' CustomNan: a missing segment value, equal to any other."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Missing)

    def __hash__(self) -> int:
        return hash("CustomNaN")


_MISSING = _Missing()


def _segment_key(segment: Any) -> Any:
    if isinstance(segment, tuple):
        return tuple(_MISSING if pd.isna(value) else value for value in segment)
    return _MISSING if pd.isna(segment) else segment


def _rounding_digits(data: pd.Series) -> int | None:
    """sdmetrics' ``learn_rounding_digits`` (MixedScales learns it, uses it nowhere, but can fail on it)."""
    if str(data.dtype).endswith("[pyarrow]"):
        data = data.to_numpy()
    roundable = data[~(np.isinf(data.astype(float)) | pd.isna(data))]
    if len(roundable) == 0:
        return None
    if roundable.dtype == "object":
        roundable = roundable.astype(float)
    highest = int(np.max(np.abs(roundable)))
    most_digits = len(str(highest)) if highest != 0 else 0
    max_decimals = max(0, _MAX_DECIMALS - most_digits)
    if (roundable == roundable.round(max_decimals)).all():
        for decimal in range(max_decimals + 1):
            if (roundable == roundable.round(decimal)).all():
                return decimal
    return None


def _group_rows(codes: np.ndarray, groups: int) -> list[np.ndarray]:
    """The row positions of each group code, in row order."""
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(groups + 1))
    return [order[bounds[group] : bounds[group + 1]] for group in range(groups)]


class _MixedScales(_Constraint):
    fitted = False
    bounds: Mapping[Any, tuple[Any, Any]] = {}

    @property
    def columns(self) -> list[str]:
        return [*self.parameters["segment_column_names"], self.parameters["mixed_scale_column_name"]]

    def check(self, table, sdtypes):
        # sdmetrics checks the metadata only, not the table.
        if sdtypes.get(self.parameters["mixed_scale_column_name"]) != "numerical":
            raise NotApplicable
        if any(sdtypes.get(name) not in _CATEGORY_SDTYPES for name in self.parameters["segment_column_names"]):
            raise NotApplicable

    def _key(self, segment: Any) -> Any:
        key = _segment_key(segment)
        return key[0] if isinstance(key, tuple) and len(key) == 1 else key

    def fit(self, real, sdtypes):
        segments, name = list(self.parameters["segment_column_names"]), self.parameters["mixed_scale_column_name"]
        grouped = real.groupby(segments, dropna=False)
        column = real[name]
        if isinstance(column.dtype, np.dtype) and column.dtype.kind in _NUMBER_KINDS:
            # min and max per group are the NumericalFormatter's; learning the rounding cannot fail on numbers.
            stats = grouped[name].agg(["min", "max"])
            keys = [segment if len(segments) > 1 else (segment,) for segment in stats.index]
            self.bounds = {
                self._key(key): (low, high)
                for key, low, high in zip(keys, stats["min"].to_numpy(), stats["max"].to_numpy(), strict=True)
            }
        else:
            self.bounds = {}
            for segment, group in grouped:
                values = group[name]
                low, high = values.min(), values.max()
                _rounding_digits(values)
                self.bounds[self._key(segment)] = (low, high)
        self.fitted = True

    def valid(self, table, sdtypes):
        if not self.fitted:
            return np.ones(len(table), dtype=bool)
        segments, name = list(self.parameters["segment_column_names"]), self.parameters["mixed_scale_column_name"]
        grouped = table[[*segments, name]].groupby(segments, dropna=False)
        codes = grouped.ngroup().to_numpy()
        names = grouped.size().index
        rows = _group_rows(codes, len(names))
        column = table[name]
        numbers = isinstance(column.dtype, np.dtype) and column.dtype.kind in _NUMBER_KINDS
        values = column.to_numpy() if numbers else column
        bounds = [self.bounds.get(_segment_key(segment)) for segment in names]
        # As sdmetrics' two transforms: every group's minimum first, then every group's maximum.
        checks = [[], []]
        for side, compare in enumerate((operator.ge, operator.le)):
            for group_rows, bound in zip(rows, bounds, strict=True):
                if bound is None:
                    checks[side].append(np.zeros(len(group_rows), dtype=bool))
                    continue
                part = values[group_rows] if numbers else values.iloc[group_rows]
                with np.errstate(invalid="ignore"):
                    checks[side].append(np.asarray(pd.isna(part) | compare(part, bound[side])))
        valid = np.zeros(len(table), dtype=bool)
        for group_rows, low_ok, high_ok in zip(rows, *checks, strict=True):
            valid[group_rows] = low_ok & high_ok
        return valid


class _OneHotEncoding(_Constraint):
    @property
    def columns(self) -> list[str]:
        return list(self.parameters["column_names"])

    def valid(self, table, sdtypes):
        data = table[self.columns]
        sum_one = data.sum(axis=1) == 1.0
        max_one = data.max(axis=1) == 1.0
        min_zero = data.min(axis=1) == 0.0
        no_missing = ~data.isna().any(axis=1)
        return sum_one & max_one & min_zero & no_missing


def _unique_codes(values: np.ndarray) -> np.ndarray:
    """Codes equal iff ``pd.unique`` keeps the values as one: missing values of different kinds (None, NaN,
    NaT) apart, as ``Series.nunique(dropna=False)`` counts them."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    missing = codes < 0
    if missing.any():
        if values.dtype == object:
            kinds = ["float" if isinstance(value, float) else type(value).__name__ for value in values[missing]]
            codes[missing] = len(uniques) + pd.factorize(np.array(kinds, dtype=object))[0]
        else:
            codes[missing] = len(uniques)
    return codes


class _DenormalizedTable(_Constraint):
    @property
    def columns(self) -> list[str]:
        return [self.parameters["denormalized_primary_key"], *self.parameters["denormalized_column_names"]]

    def valid(self, table, sdtypes):
        key, *names = self.columns
        if not names or table.empty:
            return np.ones(len(table), dtype=bool)
        groups = table.groupby(key, dropna=False).ngroup().to_numpy().astype(np.int64)
        invalid = np.zeros(len(table), dtype=bool)
        for name in names:
            codes = _unique_codes(table[name].to_numpy())
            width = int(codes.max()) + 1
            pairs = np.unique(groups * width + codes)
            distinct = np.bincount(pairs // width, minlength=int(groups.max()) + 1)
            invalid |= distinct[groups] > 1
        return ~invalid


_CLASSES: dict[str, Callable[[Mapping[str, Any]], _Constraint]] = {
    "Inequality": _Inequality,
    "ChainedInequality": _ChainedInequality,
    "Range": _Range,
    "FixedCombinations": _FixedCombinations,
    "FixedNullCombinations": _FixedNullCombinations,
    "FixedIncrements": _FixedIncrements,
    "MixedScales": _MixedScales,
    "OneHotEncoding": _OneHotEncoding,
    "DenormalizedTable": _DenormalizedTable,
}


def _share(valid: Validity) -> float:
    """``get_score``: valid rows over rows, NaN without rows."""
    rows = len(valid)
    return int(valid.sum()) / rows if rows else math.nan


def constraint_adherence(
    real: pd.DataFrame, synthetic: pd.DataFrame, sdtypes: Mapping[str, str], constraint: Mapping[str, Any]
) -> float:
    """sdmetrics' ConstraintAdherence of one checked constraint (``registry.evaluation.constraints``): the share
    of synthetic rows that follow it, NaN where it does not apply; other exceptions propagate, as in sdmetrics."""
    checker = _CLASSES[constraint["class_name"]](constraint["parameters"])
    try:
        checker.check(real, sdtypes)
        checker.fit(real, sdtypes)
        # Scored on the real table too: sdmetrics only warns about the share, but its exceptions count.
        checker.valid(real, sdtypes)
    except NotApplicable:
        pass
    try:
        checker.check(synthetic, sdtypes)
        return _share(checker.valid(synthetic, sdtypes))
    except NotApplicable:
        return math.nan


def _error_text(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def constraint_validity(
    real: pd.DataFrame, synthetic: pd.DataFrame, sdtypes: Mapping[str, str], constraints: Sequence[Mapping[str, Any]]
) -> ConstraintValidity:
    """The Constraint Validity property of ``constraints`` (checked first: EvaluationInputError naming the one
    that is not supported) on the two tables, ``sdtypes`` being the report's metadata.

    The tables need only the columns the constraints name (those of ``sdtypes`` that they have); a named column
    that is not in them is one the report does not see, and its constraint does not apply.
    """
    rows = []
    for constraint in check_constraints(list(constraints)):
        row = {
            "constraint": constraint["class_name"],
            "metric": CONSTRAINT_ADHERENCE,
            "parameters": constraint["parameters"],
        }
        try:
            with np.errstate(all="ignore"):
                row |= {"score": float(constraint_adherence(real, synthetic, sdtypes, constraint)), "error": None}
        except Exception as error:
            row |= {"score": math.nan, "error": _error_text(error)}
        rows.append(row)
    if all(row["error"] is None for row in rows):
        rows = [{key: value for key, value in row.items() if key != "error"} for row in rows]
    return ConstraintValidity(score=pandas_mean([row["score"] for row in rows]), details=rows)
