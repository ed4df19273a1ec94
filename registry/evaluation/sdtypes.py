"""sdmetrics' sdtypes: the vocabulary of column kinds, and the kind a column most likely has."""

from __future__ import annotations

import re

import pandas as pd

SDTYPES = ("numerical", "datetime", "categorical", "boolean", "ordinal", "id")
_ID_NAME = re.compile(r"(^|_)(id|uuid|guid)$", re.IGNORECASE)
# Below this many distinct non-null values a unique column is still treated as categorical:
# in a tiny table "every value is different" says nothing about being an identifier.
_MIN_ROWS_FOR_ID = 20
_DATETIME_SAMPLE = 1000


def infer_sdtype(series: pd.Series) -> str:
    """The sdmetrics sdtype a column most likely has; callers may override it."""
    name = str(series.name or "")
    non_null = series.dropna()
    if pd.api.types.is_bool_dtype(series.dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "datetime"
    unique_and_long = len(non_null) >= _MIN_ROWS_FOR_ID and non_null.is_unique
    if pd.api.types.is_numeric_dtype(series.dtype):
        if _ID_NAME.search(name) and unique_and_long and pd.api.types.is_integer_dtype(series.dtype):
            return "id"
        return "numerical"
    if len(non_null) and _is_datetime_text(non_null):
        return "datetime"
    if unique_and_long:
        return "id"
    return "categorical"


def _is_datetime_text(values: pd.Series) -> bool:
    sample = values.head(_DATETIME_SAMPLE).astype(str)
    if not sample.str.contains(r"\d{1,4}[-/:]\d{1,2}", regex=True).all():
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="ISO8601", utc=True)
    return bool(parsed.notna().all())
