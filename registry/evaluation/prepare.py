"""Input validation and normalisation: every kind sees the same aligned, consistently typed tables."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from registry.evaluation.config import CAP_MISSING_DATETIMES, KINDS, REPORT_ENGINES, EvaluationConfig
from registry.evaluation.errors import EvaluationInputError
from registry.evaluation.identifiers import key_columns
from registry.evaluation.keys import as_objects, categorical_codes, joint_codes
from registry.evaluation.native.shapes import sorted_present
from registry.evaluation.sdtypes import infer_sdtype

SDTYPES = ("numerical", "datetime", "categorical", "boolean", "ordinal", "id")
NUMERIC_SDTYPES = ("numerical", "datetime")
# Table labels of prepare_inputs' arguments -> PreparedData's attribute names.
_LABELS = {"reference": "real", "synthetic": "synthetic", "holdout": "holdout"}
DISCRETE_SDTYPES = ("categorical", "boolean", "ordinal")


@dataclass
class PreparedData:
    """Validated, normalised tables (columns in schema order) plus the sdtype of every column.

    ``keys``: columns found to be row keys by their content (now sdtype ``id``), with why. ``unparseable``:
    per table, per column, how many present values could not be read as the column's type (they became
    missing), and ``present`` how many values each had before parsing: the reference's types are the
    truth, and a synthetic column written another way is reported, never silently re-typed.

    Tables: ``compact(label)`` is a table as normalised except that a discrete column read as a pandas
    categorical (Parquet strings) stays one: the readers of value codes (the quality and diagnostic reports,
    the card's summaries) use it. ``real``, ``synthetic`` and ``holdout`` are the same tables with every value
    an object, as the other kinds read them, built the first time one of them is asked for: a job that only
    scores quality and diagnostics never builds an object column (8 bytes a row and a column).
    """

    tables: dict[str, pd.DataFrame | None]  # compact tables: "real", "synthetic", "holdout" (None without one)
    sdtypes: dict[str, str]
    notes: list[str] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    unparseable: dict[str, dict[str, int]] = field(default_factory=dict)
    present: dict[str, dict[str, int]] = field(default_factory=dict)
    _codes: dict = field(default_factory=dict, repr=False, compare=False)
    _sorted: dict = field(default_factory=dict, repr=False, compare=False)
    # Per table label ("real", "synthetic", "holdout"): the discrete columns that came as categoricals.
    _categoricals: dict = field(default_factory=dict, repr=False, compare=False)
    _values: dict = field(default_factory=dict, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    # One lock per cached column's codes: kinds running side by side (engine.run_evaluation) compute each once.
    _code_locks: dict = field(default_factory=dict, repr=False, compare=False)
    _derived: dict = field(default_factory=dict, repr=False, compare=False)
    # Computes the DCR's distance parts elsewhere (``privacy.parts.PartRunner``); None: one search, here.
    part_runner: Any = field(default=None, repr=False, compare=False)

    def compact(self, label: str) -> pd.DataFrame | None:
        return self.tables[label]

    def rows(self, label: str) -> int:
        table = self.tables[label]
        return 0 if table is None else len(table)

    def _as_values(self, label: str) -> pd.DataFrame | None:
        with self._lock:  # kinds may ask from helper threads: build each table once
            if label not in self._values:
                self._values[label] = as_values(self.tables[label], list(self._categoricals.get(label, {})))
            return self._values[label]

    @property
    def real(self) -> pd.DataFrame:
        return self._as_values("real")

    @property
    def synthetic(self) -> pd.DataFrame:
        return self._as_values("synthetic")

    @property
    def holdout(self) -> pd.DataFrame | None:
        return self._as_values("holdout")

    def joint_codes(self, name: str, tables: tuple[str, ...] = ("real", "synthetic")) -> tuple[list, pd.Index]:
        """Codes of column ``name`` shared by ``tables`` (``keys.joint_codes``: equal codes iff equal values,
        missing values one code), computed once per evaluation and shared by every kind that compares values."""
        key = (name, tables)
        if key in self._codes:
            return self._codes[key]
        with self._lock:
            lock = self._code_locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._codes:
                originals = [self._categoricals.get(table, {}).get(name) for table in tables]
                if all(original is not None for original in originals):
                    self._codes[key] = categorical_codes(originals)
                else:
                    self._codes[key] = joint_codes([as_objects(self.tables[table][name]) for table in tables])
        return self._codes[key]

    def derived(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """``build()``, computed once per evaluation under ``key`` (thread-safe, like ``joint_codes``)."""
        if key in self._derived:
            return self._derived[key]
        with self._lock:
            lock = self._code_locks.setdefault(("derived", key), threading.Lock())
        with lock:
            if key not in self._derived:
                self._derived[key] = build()
        return self._derived[key]

    def forget(self, which: Callable[[Hashable], bool]) -> None:
        """Drop the ``derived`` values whose key ``which`` accepts."""
        with self._lock:
            for key in [key for key in self._derived if which(key)]:
                del self._derived[key]

    def sorted_values(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """A numerical or datetime column's present values sorted, (real, synthetic) (``shapes.sorted_present``),
        computed once and shared by the quality report and the card's histograms until ``forget_sorted``.
        Read by those two only, both in the engine's calling thread (not thread-safe, unlike ``joint_codes``)."""
        if name not in self._sorted:
            real, synthetic = self.tables["real"], self.tables["synthetic"]
            self._sorted[name] = (sorted_present(real[name]), sorted_present(synthetic[name]))
        return self._sorted[name]

    def take_sorted(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``sorted_values`` for its last reader: returned and dropped from the cache."""
        values = self.sorted_values(name)
        del self._sorted[name]
        return values

    def forget_sorted(self) -> None:
        """Release the sorted copies once their readers are done (they are as large as the columns)."""
        self._sorted.clear()

    @property
    def evaluated(self) -> dict[str, str]:
        """Columns that metrics compare: every sdtype except ``id``."""
        return {name: sdtype for name, sdtype in self.sdtypes.items() if sdtype != "id"}


def _names(items: Sequence[str]) -> str:
    return ", ".join(str(item) for item in items)


def _check_config(config: EvaluationConfig) -> None:
    unknown = [kind for kind in config.kinds if kind not in KINDS]
    if unknown:
        raise EvaluationInputError("kinds", f"unknown kind(s) {_names(unknown)}; expected {_names(KINDS)}")
    sample = config.dcr_synthetic_sample
    if sample is not None and (not isinstance(sample, int) or sample < 1):
        raise EvaluationInputError("dcr_synthetic_sample", "must be a positive integer or null")
    if config.cap_missing_datetimes not in CAP_MISSING_DATETIMES:
        raise EvaluationInputError("cap_missing_datetimes", f"expected one of {_names(CAP_MISSING_DATETIMES)}")
    if config.report_engine not in REPORT_ENGINES:
        raise EvaluationInputError("report_engine", f"expected one of {_names(REPORT_ENGINES)}")
    if config.quality_subsample is not None and config.report_engine != "sdmetrics":
        raise EvaluationInputError(
            "quality_subsample", "only sdmetrics' reports subsample; the native engine reads every row"
        )
    if not 0 < config.utility_test_fraction < 1:
        raise EvaluationInputError("utility_test_fraction", "must be between 0 and 1")


def _check_schema(columns: Sequence[Mapping[str, str]]) -> dict[str, str | None]:
    """Column name to sdtype, None where the schema gives none (it is inferred from the reference)."""
    sdtypes: dict[str, str | None] = {}
    for entry in columns:
        name, sdtype = entry.get("name"), entry.get("sdtype")
        if name is None:
            raise EvaluationInputError("columns", "every column needs a name")
        if sdtype is not None and sdtype not in SDTYPES:
            raise EvaluationInputError("columns", f"column {name!r} has unknown sdtype {sdtype!r}")
        if name in sdtypes:
            raise EvaluationInputError("columns", f"column {name!r} is listed twice")
        sdtypes[str(name)] = None if sdtype is None else str(sdtype)
    if not sdtypes:
        raise EvaluationInputError("columns", "the schema lists no columns")
    return sdtypes


def _infer_missing_sdtypes(sdtypes: dict[str, str | None], real: pd.DataFrame, notes: list[str]) -> dict[str, str]:
    """Fill in the sdtypes the schema left out from the real data (the reference's types are the truth)."""
    complete = {name: sdtype or infer_sdtype(real[name]) for name, sdtype in sdtypes.items()}
    inferred = [f"{name} ({complete[name]})" for name, sdtype in sdtypes.items() if sdtype is None]
    if inferred:
        notes.append(f"sdtypes inferred from the reference table: {', '.join(inferred)}")
    return complete


def _detect_keys(
    tables: Mapping[str, pd.DataFrame], sdtypes: dict[str, str], config: EvaluationConfig, notes: list[str]
) -> dict[str, str]:
    """Make key-like columns identifiers (excluded from every comparison of rows) and say why."""
    keys = key_columns(tables, sdtypes)
    configured = {
        "sensitive_attributes": config.sensitive_attributes,
        "quasi_identifiers": config.quasi_identifiers,
        "disclosure_sensitive": config.disclosure_sensitive,
        "target_column": () if config.target_column is None else (config.target_column,),
    }
    for field_name, names in configured.items():
        clash = [name for name in names if name in keys]
        if clash:
            reasons = "; ".join(f"{name}: {keys[name]}" for name in clash)
            raise EvaluationInputError(field_name, f"key column(s) identify rows and cannot be used: {reasons}")
    for name, reason in keys.items():
        sdtypes[name] = "id"
        notes.append(f"{name!r} is a key ({reason}): left out of every comparison of rows and of quality")
    return keys


def _check_table(frame: pd.DataFrame, field_name: str, expected: list[str]) -> None:
    # The schema describes every table: a caller builds it from the reference or the synthetic table.
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise EvaluationInputError(field_name, "the table is empty")
    present = [str(name) for name in frame.columns]
    missing = [name for name in expected if name not in present]
    extra = [name for name in present if name not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing column(s) {_names(missing)}")
        if extra:
            parts.append(f"extra column(s) {_names(extra)}")
        raise EvaluationInputError(field_name, "columns differ from the schema: " + "; ".join(parts))


def _check_not_all_missing(missing: Mapping[str, int], rows: int, field_name: str) -> None:
    empty = [name for name, count in missing.items() if count == rows]
    if empty:
        raise EvaluationInputError(field_name, f"column(s) with only missing values: {_names(empty)}")


def _check_config_columns(config: EvaluationConfig, sdtypes: Mapping[str, str]) -> None:
    lists = {
        "sensitive_attributes": config.sensitive_attributes,
        "quasi_identifiers": config.quasi_identifiers,
        "disclosure_sensitive": config.disclosure_sensitive,
    }
    if config.target_column is not None:
        lists["target_column"] = (config.target_column,)
    for field_name, names in lists.items():
        unknown = [name for name in names if name not in sdtypes]
        if unknown:
            raise EvaluationInputError(field_name, f"unknown column(s) {_names(unknown)}")
        ids = [name for name in names if sdtypes[name] == "id"]
        if ids:
            raise EvaluationInputError(field_name, f"identifier column(s) cannot be used: {_names(ids)}")
    both = [name for name in config.disclosure_sensitive if name in config.quasi_identifiers]
    if both:
        raise EvaluationInputError(
            "disclosure_sensitive", f"column(s) also listed as quasi-identifiers: {_names(both)}"
        )


def _to_datetime(series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        parsed = series
    else:
        parsed = pd.to_datetime(series, errors="coerce", format="ISO8601", utc=True)
        if parsed.isna().sum() > series.isna().sum():
            parsed = pd.to_datetime(series, errors="coerce", format="mixed", utc=True)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    # One unit everywhere: sdmetrics converts timedeltas with the unit's periods per second.
    return parsed.astype("datetime64[ns]")


def _normalise_column(series: pd.Series, sdtype: str) -> pd.Series:
    dtype = series.dtype
    if sdtype == "numerical":
        if pd.api.types.is_bool_dtype(dtype) or (
            isinstance(dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_numeric_dtype(dtype)
        ):
            # Nullable Int64/Float64/boolean carry pd.NA, which numpy arithmetic and sdmetrics cannot take.
            if pd.api.types.is_integer_dtype(dtype) and not series.isna().any():
                return pd.Series(series.to_numpy(dtype="int64"), name=series.name, index=series.index)
            values = series.to_numpy(dtype="float64", na_value=np.nan)
            return pd.Series(values, name=series.name, index=series.index)
        if not pd.api.types.is_numeric_dtype(dtype):
            return pd.to_numeric(series, errors="coerce")
        return series
    if sdtype == "datetime":
        return _to_datetime(series)
    if isinstance(dtype, pd.CategoricalDtype):
        return series.astype(object)  # missing values come out as np.nan
    if isinstance(dtype, pd.StringDtype) or (
        isinstance(dtype, pd.api.extensions.ExtensionDtype) and series.isna().any()
    ):
        # One spelling of "missing" (np.nan in an object column) keeps equality and hashing consistent.
        values = series.astype(object)
        return values.where(values.notna(), np.nan)
    if pd.api.types.is_object_dtype(dtype) and series.isna().any():
        return series.where(series.notna(), np.nan)
    return series


def with_string_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with ``str`` column names (no copy of the data)."""
    if all(isinstance(name, str) for name in frame.columns):
        return frame
    return frame.rename(columns=str, copy=False)


def subset(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``frame[columns]`` without copying when that is the whole frame in order (tables can be large)."""
    return frame if list(frame.columns) == list(columns) else frame[list(columns)]


def as_values(frame: pd.DataFrame | None, categoricals: Sequence[str] | None = None) -> pd.DataFrame | None:
    """A compact table (``PreparedData.compact``) with its categorical columns (``categoricals``, or every one)
    turned into object columns."""
    if categoricals is None and frame is not None:
        categoricals = [name for name in frame.columns if isinstance(frame[name].dtype, pd.CategoricalDtype)]
    if frame is None or not categoricals:
        return frame
    frame = frame.copy(deep=False)
    for name in categoricals:
        frame[name] = as_objects(frame[name]).to_numpy()  # missing values come out as np.nan
    return frame


def _normalise(
    frame: pd.DataFrame, sdtypes: Mapping[str, str], kept: Sequence[str] = ()
) -> tuple[pd.DataFrame, list[str]]:
    """The frame normalised column by column; the columns in ``kept`` (categoricals) are left as they are."""
    frame = subset(frame, list(sdtypes))
    changed = {}
    for name, sdtype in sdtypes.items():
        if name in kept:
            continue
        original = frame[name]
        column = _normalise_column(original, sdtype)
        if column is not original:
            changed[name] = column
    if changed:
        frame = frame.copy(deep=False)  # replaced columns only; the others keep sharing memory
        for name, column in changed.items():
            frame[name] = column.to_numpy()
    if not (isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 and frame.index.step == 1):
        # Positional row numbers: examples and samples refer to rows by position in the uploaded file.
        frame = frame.reset_index(drop=True)
    return frame, list(changed)


def _missing_counts(frame: pd.DataFrame, names: Sequence[str]) -> dict[str, int]:
    return {name: int(frame[name].isna().sum()) for name in names}


def prepare_inputs(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    columns: Sequence[Mapping[str, str]],
    config: EvaluationConfig,
    holdout: pd.DataFrame | None = None,
) -> PreparedData:
    """Validate the inputs (raising EvaluationInputError) and return normalised copies."""
    _check_config(config)
    given = _check_schema(columns)
    real = with_string_columns(real)
    synthetic = with_string_columns(synthetic)
    expected = list(given)
    tables = {"reference": real, "synthetic": synthetic}
    if holdout is not None:
        tables["holdout"] = with_string_columns(holdout)
    for label, frame in tables.items():
        _check_table(frame, label, expected)
    notes: list[str] = []
    sdtypes = _infer_missing_sdtypes(given, real, notes)
    _check_config_columns(config, sdtypes)
    keys = _detect_keys(tables, sdtypes, config, notes)
    for name, sdtype in sdtypes.items():
        # Inferred identifiers are keys found by content too: the card names them with the others.
        if sdtype == "id" and given[name] is None and name not in keys:
            keys[name] = "a different value in every row of the reference table (inferred an identifier)"
    keys = {name: keys[name] for name in sdtypes if name in keys}

    categoricals = {
        _LABELS[label]: {
            name: frame[name]
            for name, sdtype in sdtypes.items()
            if sdtype in DISCRETE_SDTYPES and isinstance(frame[name].dtype, pd.CategoricalDtype)
        }
        for label, frame in tables.items()
    }
    prepared: dict[str, pd.DataFrame] = {}
    unparseable: dict[str, dict[str, int]] = {}
    present: dict[str, dict[str, int]] = {}
    for label, frame in tables.items():
        missing = _missing_counts(frame, expected)
        _check_not_all_missing(missing, len(frame), label)
        present[label] = {name: len(frame) - count for name, count in missing.items()}
        prepared[label], changed = _normalise(frame, sdtypes, kept=list(categoricals[_LABELS[label]]))
        unparseable[label] = {}
        # Only parsing (numbers, datetimes) can turn a present value into a missing one.
        parsed = [name for name in changed if sdtypes[name] in NUMERIC_SDTYPES]
        for name, count in _missing_counts(prepared[label], parsed).items():
            if count > missing[name]:
                unparseable[label][name] = count - missing[name]
                share = unparseable[label][name] / present[label][name]
                notes.append(
                    f"{label}: {unparseable[label][name]} value(s) of {name!r} ({share:.1%}) could not be read as "
                    f"{sdtypes[name]}, the reference's type"
                )
            missing[name] = count
        if label == "reference":
            # The reference defines the types: if its own values do not parse, the declared type is wrong.
            _check_not_all_missing(missing, len(frame), label)
    return PreparedData(
        tables={"real": prepared["reference"], "synthetic": prepared["synthetic"], "holdout": prepared.get("holdout")},
        sdtypes=sdtypes,
        notes=notes,
        keys=keys,
        unparseable=unparseable,
        present=present,
        _categoricals=categoricals,
    )
