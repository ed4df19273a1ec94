"""Plain JSON data from Python values: the one conversion the audit trail, cards and the evaluation engine use.

Standard-library only. NumPy and pandas values are recognised without importing either (their scalars have
``item()``, their arrays ``tolist()``, and pandas' missing markers are looked up only when pandas is already
loaded), so the audit trail stays free of the data stack and the engine free of Django.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def _missing_marker(value: Any) -> bool:
    """pandas' NaT and NA: JSON has only null for "missing"."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and (value is pandas.NaT or value is pandas.NA)


def _sort_key(value: Any) -> tuple[str, Any]:
    # Sets are sorted by value, and by type name first so that mixed types still sort.
    return (type(value).__name__, value)


def to_jsonable(value: Any) -> Any:
    """JSON data for a value: dicts, lists, str, int, float, bool and None only.

    NaN, infinities and missing markers become null; datetimes and dates ISO 8601 text; UUIDs and decimals
    text; timedeltas seconds; sets sorted lists; model instances their primary key as text; anything else
    its ``str``.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):  # NumPy's float64 is a float subclass: make it a plain float
        return float(value) if math.isfinite(value) else None
    if _missing_marker(value):
        return None
    if isinstance(value, Mapping):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((to_jsonable(item) for item in value), key=_sort_key)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if hasattr(value, "_meta") and hasattr(value, "pk"):  # a Django model instance
        return str(value.pk)
    if hasattr(value, "tolist"):  # NumPy arrays, pandas Series and Index
        return to_jsonable(value.tolist())
    if hasattr(value, "item"):  # NumPy scalars (np.bool_, np.int64, np.float32 …)
        return to_jsonable(value.item())
    if hasattr(value, "total_seconds"):  # pandas Timedelta is a timedelta; NumPy's timedelta64 is not
        return value.total_seconds()
    return str(value)
