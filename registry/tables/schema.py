"""Table schemas: column dtypes, sdtypes (inferred by the evaluation engine's rules) and a stable schema hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping

import pandas as pd

from ..evaluation.sdtypes import infer_sdtype


def sdtype_from_dtype(dtype: str) -> str:
    """A best guess from a declared dtype alone, for schemas the registry cannot read."""
    try:
        resolved = pd.api.types.pandas_dtype(dtype)
    except TypeError:
        return "categorical"
    if pd.api.types.is_bool_dtype(resolved):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(resolved):
        return "datetime"
    if pd.api.types.is_numeric_dtype(resolved):
        return "numerical"
    return "categorical"


def table_schema(frame: pd.DataFrame, sdtypes: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """Column name, pandas dtype and sdtype for every column, in file order."""
    overrides = dict(sdtypes or {})
    return [
        {
            "name": str(name),
            "dtype": str(frame[name].dtype),
            "sdtype": overrides.get(str(name)) or infer_sdtype(frame[name]),
        }
        for name in frame.columns
    ]


def schema_hash(columns: Iterable[Mapping[str, str]]) -> str:
    """SHA-256 over the ordered (name, dtype) pairs; sdtypes are judgements, not structure."""
    canonical = json.dumps([[c["name"], c["dtype"]] for c in columns], separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
