"""Inputs the engine refuses: each raises EvaluationInputError naming the field."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from registry.evaluation.engine import EvaluationConfig, EvaluationInputError, run_evaluation

SDTYPES = {"x": "numerical", "c": "categorical", "key": "id"}


def _frame(rows: int = 20) -> pd.DataFrame:
    return pd.DataFrame({"x": np.arange(rows, dtype=float), "c": ["a", "b"] * (rows // 2), "key": np.arange(rows)})


def _columns() -> list[dict[str, str]]:
    return [{"name": name, "dtype": "", "sdtype": sdtype} for name, sdtype in SDTYPES.items()]


def _error(real=None, synthetic=None, columns=None, holdout=None, **config) -> EvaluationInputError:
    with pytest.raises(EvaluationInputError) as caught:
        run_evaluation(
            _frame() if real is None else real,
            _frame() if synthetic is None else synthetic,
            columns=_columns() if columns is None else columns,
            config=EvaluationConfig(**config),
            holdout=holdout,
        )
    assert isinstance(caught.value, ValueError)
    return caught.value


def test_synthetic_columns_that_differ_name_the_missing_and_extra_ones():
    error = _error(synthetic=_frame().drop(columns=["c"]).assign(extra=1))
    assert error.field == "synthetic"
    assert "missing column(s) c" in error.reason and "extra column(s) extra" in error.reason
    assert str(error).startswith("synthetic: ")


def test_empty_tables():
    assert _error(real=_frame().iloc[:0]).field == "reference"
    assert _error(synthetic=_frame().iloc[:0]).field == "synthetic"


def test_all_missing_columns_are_named():
    real = _frame().assign(x=np.nan)
    error = _error(real=real)
    assert error.field == "reference" and "x" in error.reason
    synthetic = _frame().assign(c=None)
    error = _error(synthetic=synthetic)
    assert error.field == "synthetic" and "c" in error.reason


@pytest.mark.parametrize(
    ("field", "options"),
    [
        ("sensitive_attributes", {"sensitive_attributes": ("gender",)}),
        ("quasi_identifiers", {"quasi_identifiers": ("x", "zip")}),
        ("disclosure_sensitive", {"quasi_identifiers": ("x",), "disclosure_sensitive": ("salary",)}),
        ("target_column", {"target_column": "label"}),
        ("target_column", {"target_column": "key"}),
        ("kinds", {"kinds": ("quality", "magic")}),
        ("dcr_synthetic_sample", {"dcr_synthetic_sample": 0}),
    ],
)
def test_config_errors_name_the_config_field(field, options):
    error = _error(**options)
    assert error.field == field
    unknown = {"gender", "zip", "salary", "label"} & {
        str(v) for value in options.values() for v in np.atleast_1d(value)
    }
    assert all(name in error.reason for name in unknown)


def test_holdout_with_other_columns():
    error = _error(holdout=_frame().rename(columns={"x": "y"}))
    assert error.field == "holdout" and "x" in error.reason and "y" in error.reason
    assert _error(holdout=_frame().iloc[:0]).field == "holdout"


def test_a_reference_that_does_not_match_the_schema_is_named():
    # As when the schema comes from the synthetic version and the reference has other columns.
    columns = [*_columns()[:2], {"name": "other", "sdtype": "numerical"}]
    synthetic = _frame().drop(columns=["key"]).assign(other=1.0)
    error = _error(columns=columns, synthetic=synthetic)
    assert error.field == "reference"
    assert error.reason == "columns differ from the schema: missing column(s) other; extra column(s) key"
    bad = [{"name": "x", "sdtype": "text"}, *_columns()[1:]]
    assert _error(columns=bad).field == "columns"


def test_a_column_in_both_disclosure_lists_is_refused():
    error = _error(quasi_identifiers=("x", "c"), disclosure_sensitive=("c",))
    assert error.field == "disclosure_sensitive" and "c" in error.reason


def test_unparseable_values_are_noted_and_a_reference_that_parses_to_nothing_is_refused():
    real = pd.DataFrame({"when": ["2020-01-01", "2020-02-01", "later", None], "x": [1.0, 2.0, 3.0, 4.0]})
    columns = [{"name": "when", "sdtype": "datetime"}, {"name": "x", "sdtype": "numerical"}]
    config = EvaluationConfig(kinds=("quality",))
    result = run_evaluation(real, real, columns=columns, config=config)
    assert result.parameters["normalisation_notes"] == [
        "reference: 1 value(s) of 'when' (33.3%) could not be read as datetime, the reference's type",
        "synthetic: 1 value(s) of 'when' (33.3%) could not be read as datetime, the reference's type",
    ]
    nonsense = real.assign(when=["soon", "never", None, "later"])
    with pytest.raises(EvaluationInputError) as caught:
        run_evaluation(nonsense, real, columns=columns, config=config)
    assert caught.value.field == "reference" and "when" in caught.value.reason
