"""The constraints a pipeline declares for its generator, and the checks they pass before anything evaluates them.

A constraint is written in sdmetrics'/SDV's own dict form, ``{"class_name": "Inequality", "parameters": {...}}``.
The diagnostic report's Constraint Validity property (``native/constraints.py``, or sdmetrics 0.32 itself) scores
every constraint on the synthetic table: the share of rows that follow it.

Supported: the single-table constraint classes of sdmetrics 0.32 (``multi_table/statistical/constraints/``) that
can apply to one registered table, with their own parameters (``SUPPORTED``). Refused, with the reason
(``UNSUPPORTED``): ColumnFormula (it imports a module and calls a function the constraint names: the registry
runs no code a request names), SelfReferentialHierarchy (its base column is a row key, which every evaluation
treats as an identifier and leaves out, so it could never apply), and the multi-table ones (``_is_single_table``
False: CarryOverColumns, ForeignToForeignKey, ForeignToPrimaryKeySubset, PrimaryToPrimaryKeySubset,
PolymorphicRelationship, ReferenceTable).

``table_name``, which sdmetrics requires, may be given (an SDV metadata's table name) and is recorded, but a
version is one table: the evaluation always checks the constraint on it. The checks are stricter than
sdmetrics' constructors, so that a registered constraint never fails for its own sake: every column named
once, lists of columns long enough to mean something, an increment a positive whole number within int64.

Pure Python (no pandas): the API validates registrations with it without loading the data stack.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from common.text import forbidden_character

from .errors import EvaluationInputError

FIELD = "constraints"
# At most this many constraints per version (each one is a pass over the synthetic and the reference table).
MAX_CONSTRAINTS = 100
# At most this many columns in one constraint's list, and characters in one name (REGISTRY_MAX_COLUMNS'
# default; a version's schema check is the tighter bound when the schema is known).
MAX_COLUMNS_PER_CONSTRAINT = 2000
MAX_NAME_CHARS = 1000
INCREMENT_MAX = 2**63 - 1
_KEYS = ("class_name", "parameters")


@dataclass(frozen=True)
class Parameter:
    """One constructor parameter: ``kind`` is column, columns, flag, increment or table."""

    kind: str
    required: bool = True
    min_items: int = 1


_COLUMN = Parameter("column")
_FLAG = Parameter("flag", required=False)
_TABLE = Parameter("table", required=False)

SUPPORTED: dict[str, dict[str, Parameter]] = {
    "Inequality": {
        "low_column_name": _COLUMN,
        "high_column_name": _COLUMN,
        "strict_boundaries": _FLAG,
        "table_name": _TABLE,
    },
    "ChainedInequality": {
        "column_names": Parameter("columns", min_items=2),
        "strict_boundaries": _FLAG,
        "table_name": _TABLE,
    },
    "Range": {
        "low_column_name": _COLUMN,
        "middle_column_name": _COLUMN,
        "high_column_name": _COLUMN,
        "strict_boundaries": Parameter("flag"),
        "table_name": _TABLE,
    },
    "FixedCombinations": {"column_names": Parameter("columns", min_items=2), "table_name": _TABLE},
    "FixedNullCombinations": {
        "column_names": Parameter("columns", min_items=2),
        "table_name": _TABLE,
        "fix_category_values": _FLAG,
    },
    "FixedIncrements": {"column_name": _COLUMN, "increment_value": Parameter("increment"), "table_name": _TABLE},
    "MixedScales": {
        "mixed_scale_column_name": _COLUMN,
        "segment_column_names": Parameter("columns"),
        "table_name": _TABLE,
    },
    "OneHotEncoding": {"column_names": Parameter("columns", min_items=2), "table_name": _TABLE},
    "DenormalizedTable": {
        "table_name": _TABLE,
        "denormalized_primary_key": _COLUMN,
        "denormalized_column_names": Parameter("columns"),
    },
}

_MULTI_TABLE = "a multi-table constraint; a version is one table"
UNSUPPORTED: dict[str, str] = {
    "ColumnFormula": "it imports a module and calls a function the constraint names; the registry runs no code a "
    "request names",
    "SelfReferentialHierarchy": "its base column is a row key, which the evaluation treats as an identifier and "
    "leaves out, so it could never apply",
    "CarryOverColumns": _MULTI_TABLE,
    "ForeignToForeignKey": _MULTI_TABLE,
    "ForeignToPrimaryKeySubset": _MULTI_TABLE,
    "PrimaryToPrimaryKeySubset": _MULTI_TABLE,
    "PolymorphicRelationship": _MULTI_TABLE,
    "ReferenceTable": _MULTI_TABLE,
}


def column_names(constraint: Mapping[str, Any]) -> list[str]:
    """Every column a checked constraint names, in parameter order."""
    spec = SUPPORTED[constraint["class_name"]]
    names: list[str] = []
    for name, value in constraint["parameters"].items():
        kind = spec[name].kind
        if kind == "column":
            names.append(value)
        elif kind == "columns":
            names.extend(value)
    return names


def _name(value: Any, path: str, columns: Collection[str] | None, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise EvaluationInputError(path, f"must be a non-empty string ({what})")
    if len(value) > MAX_NAME_CHARS:
        raise EvaluationInputError(path, f"longer than {MAX_NAME_CHARS} characters")
    problem = forbidden_character(value)
    if problem:
        raise EvaluationInputError(path, problem)
    if columns is not None and what == "a column name" and value not in columns:
        raise EvaluationInputError(path, f"not a column of this version: {value}")
    return value


def _check_value(value: Any, parameter: Parameter, path: str, columns: Collection[str] | None) -> None:
    if parameter.kind == "column":
        _name(value, path, columns, "a column name")
    elif parameter.kind == "table":
        _name(value, path, None, "the table's name")
    elif parameter.kind == "flag":
        if not isinstance(value, bool):
            raise EvaluationInputError(path, "must be true or false")
    elif parameter.kind == "increment":
        whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if isinstance(value, bool) or not whole or not 1 <= value <= INCREMENT_MAX:
            raise EvaluationInputError(path, f"must be a whole number from 1 to {INCREMENT_MAX}")
    else:
        if not isinstance(value, list):
            raise EvaluationInputError(path, "must be a list of column names")
        if not parameter.min_items <= len(value) <= MAX_COLUMNS_PER_CONSTRAINT:
            raise EvaluationInputError(
                path, f"must name from {parameter.min_items} to {MAX_COLUMNS_PER_CONSTRAINT} columns"
            )
        for index, item in enumerate(value):
            _name(item, f"{path}[{index}]", columns, "a column name")


def _column_paths(class_name: str, parameters: Mapping[str, Any], path: str) -> list[tuple[str, str]]:
    spec = SUPPORTED[class_name]
    named: list[tuple[str, str]] = []
    for name, value in parameters.items():
        if spec[name].kind == "column":
            named.append((value, f"{path}.{name}"))
        elif spec[name].kind == "columns":
            named.extend((item, f"{path}.{name}[{index}]") for index, item in enumerate(value))
    return named


def check_constraint(constraint: Any, path: str, columns: Collection[str] | None = None) -> dict[str, Any]:
    """One constraint, checked (EvaluationInputError naming ``path``'s failing part): a copy of it."""
    if not isinstance(constraint, dict):
        raise EvaluationInputError(path, 'must be an object: {"class_name": ..., "parameters": {...}}')
    for key in constraint:
        if key not in _KEYS:
            raise EvaluationInputError(f"{path}.{key}", "Unknown field; a constraint has class_name and parameters.")
    for key in _KEYS:
        if key not in constraint:
            raise EvaluationInputError(f"{path}.{key}", "This field is required.")
    class_name = constraint["class_name"]
    if not isinstance(class_name, str):
        raise EvaluationInputError(f"{path}.class_name", "must be a string")
    if class_name in UNSUPPORTED:
        raise EvaluationInputError(f"{path}.class_name", f"{class_name} is not supported: {UNSUPPORTED[class_name]}")
    if class_name not in SUPPORTED:
        raise EvaluationInputError(
            f"{path}.class_name", f"unknown constraint class; expected one of {', '.join(SUPPORTED)}"
        )
    parameters = constraint["parameters"]
    if not isinstance(parameters, dict):
        raise EvaluationInputError(f"{path}.parameters", "must be an object")
    spec = SUPPORTED[class_name]
    for name in parameters:
        if name not in spec:
            raise EvaluationInputError(
                f"{path}.parameters.{name}", f"not a parameter of {class_name}; expected {', '.join(spec)}"
            )
    for name, parameter in spec.items():
        if name in parameters:
            _check_value(parameters[name], parameter, f"{path}.parameters.{name}", columns)
        elif parameter.required:
            raise EvaluationInputError(f"{path}.parameters.{name}", "This field is required.")
    seen: dict[str, str] = {}
    for column, column_path in _column_paths(class_name, parameters, f"{path}.parameters"):
        if column in seen:
            raise EvaluationInputError(column_path, f"column {column!r} is already named by {seen[column]}")
        seen[column] = column_path
    return {"class_name": class_name, "parameters": dict(parameters)}


def check_constraints(value: Any, columns: Collection[str] | None = None, field: str = FIELD) -> list[dict[str, Any]]:
    """Declared constraints, checked: copies of them, or EvaluationInputError naming the failing part
    (``constraints[2].parameters.low_column_name``). ``columns``: the version's column names, when known."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise EvaluationInputError(field, 'must be a list of {"class_name": ..., "parameters": {...}} objects')
    if len(value) > MAX_CONSTRAINTS:
        raise EvaluationInputError(field, f"at most {MAX_CONSTRAINTS} constraints")
    known = None if columns is None else frozenset(columns)  # looked up once per named column
    return [check_constraint(item, f"{field}[{index}]", known) for index, item in enumerate(value)]
