"""The native Constraint Validity equals sdmetrics 0.32's, constraint by constraint and as a report property.

sdmetrics is called as ``registry.evaluation.diagnostics`` calls it (one table named ``table``, multi-table
metadata with sdtypes only, every constraint given that table's name): ConstraintAdherence.compute for each
constraint (score, or the error text the report would record), and DiagnosticReport.generate for the property
(score and every detail row) and the overall score. |Δ| ≤ 1e-9, NaN equals NaN, the same error text.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sdmetrics.multi_table.statistical import ConstraintAdherence
from sdmetrics.reports import DiagnosticReport

from registry.evaluation.constraints import SUPPORTED, check_constraints
from registry.evaluation.engine import EvaluationConfig, EvaluationInputError, run_evaluation
from registry.evaluation.native.constraints import constraint_adherence, constraint_validity
from registry.evaluation.native.validity import diagnostic_report
from registry.evaluation.sdmetrics_support import TABLE, records, report_metadata, seeded_numpy

TOLERANCE = 1e-9
EXAMPLES = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DETAIL_COLUMNS = {"Constraint": "constraint", "Metric": "metric", "Score": "score", "Error": "error"}
START = np.datetime64("2020-01-01T00:00:00", "ns")


@pytest.fixture(autouse=True)
def _quiet():
    # sdmetrics warns when the real table breaks a constraint and logs when one does not apply.
    logging.disable(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
    logging.disable(logging.NOTSET)


def _for_sdmetrics(constraint: dict) -> dict:
    return {**constraint, "parameters": {**constraint["parameters"], "table_name": TABLE}}


def _error_text(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def _outcome(compute: Callable[[], float]) -> tuple[float, str | None]:
    try:
        return float(compute()), None
    except Exception as error:
        return math.nan, _error_text(error)


def same(ours: float, theirs: float) -> bool:
    if math.isnan(theirs):
        return math.isnan(ours)
    return abs(ours - theirs) <= TOLERANCE


def sdmetrics_report(real: pd.DataFrame, synthetic: pd.DataFrame, sdtypes: dict, constraints: Sequence[dict]):
    report = DiagnosticReport()
    with seeded_numpy(0):
        report.generate(
            {TABLE: real},
            {TABLE: synthetic},
            report_metadata(sdtypes),
            constraints=[_for_sdmetrics(item) for item in constraints],
            verbose=False,
        )
    return report


def check(real: pd.DataFrame, synthetic: pd.DataFrame, sdtypes: dict, constraints: Sequence[dict]) -> list[dict]:
    """Ours equals sdmetrics for every constraint, the property, its detail rows and the overall score."""
    metadata = report_metadata(sdtypes)
    ours = constraint_validity(real, synthetic, sdtypes, constraints)
    for item, row in zip(constraints, ours.details, strict=True):
        theirs = _outcome(
            lambda item=item: ConstraintAdherence.compute(
                {TABLE: real}, {TABLE: synthetic}, metadata, _for_sdmetrics(item)
            )
        )
        mine = _outcome(lambda item=item: constraint_adherence(real, synthetic, sdtypes, item))
        assert same(mine[0], theirs[0]) and mine[1] == theirs[1], (item, mine, theirs)
        assert same(row["score"], theirs[0]) and row.get("error") == theirs[1], (item, row, theirs)
    report = sdmetrics_report(real, synthetic, sdtypes, constraints)
    properties = dict(report.get_properties().to_numpy())
    assert same(ours.score, properties["Constraint Validity"]), (ours.score, properties)
    details = records(report.get_details("Constraint Validity"), DETAIL_COLUMNS)
    assert len(details) == len(ours.details)
    for mine, reference, item in zip(ours.details, details, constraints, strict=True):
        assert list(mine) == [
            "constraint",
            "metric",
            "parameters",
            "score",
            *(["error"] if "error" in reference else []),
        ]
        assert mine["parameters"] == item["parameters"]
        assert {key: mine[key] for key in reference if key != "score"} == {
            key: reference[key] for key in reference if key != "score"
        }
        assert same(mine["score"], reference["score"])
    scores = [*diagnostic_report(real, synthetic, sdtypes).properties.values(), ours.score]
    present = [score for score in scores if not math.isnan(score)]
    overall = float(np.sum(present) / len(present)) if present else math.nan
    assert same(overall, report.get_score()), (overall, report.get_score())
    return ours.details


# Generated tables ---------------------------------------------------------------------------------------


def _holes(generator: np.random.Generator, values: np.ndarray, share: float, fill) -> np.ndarray:
    values = values.copy()
    values[generator.random(values.size) < share] = fill
    return values


def _numbers(generator, rows, missing):
    """Small overlapping numbers (inequalities hold for some rows), integers or floats with NaN."""
    offset = generator.integers(-2, 3)
    columns = [generator.integers(0, 6, count) + offset for count in rows]
    if generator.random() < 0.5 or any(missing):
        columns = [
            _holes(generator, column.astype(np.float64) * generator.choice([1.0, 0.5]), share, np.nan)
            for column, share in zip(columns, missing, strict=True)
        ]
    return columns


def _datetimes(generator, rows, missing):
    days = generator.integers(0, 4)
    return [
        _holes(
            generator,
            START + (generator.integers(0, 6, count) + days).astype("timedelta64[D]"),
            share,
            np.datetime64("NaT"),
        )
        for count, share in zip(rows, missing, strict=True)
    ]


def _strings(generator, rows, missing):
    pool = np.array(["a", "b", "c", "d"][: generator.integers(1, 5)], dtype=object)
    columns = [pool[generator.integers(0, pool.size, count)] for count in rows]
    columns[1][generator.random(rows[1]) < 0.1] = "unseen"
    return [_holes(generator, column, share, np.nan) for column, share in zip(columns, missing, strict=True)]


def _booleans(generator, rows, missing):
    columns = []
    for count, share in zip(rows, missing, strict=True):
        values = generator.random(count) < 0.4
        columns.append(_holes(generator, values.astype(object), share, np.nan) if share else values)
    return columns


def _one_hot(generator, rows, missing):
    """0/1 flags, now and then a 2 or a missing value."""
    columns = []
    for count, share in zip(rows, missing, strict=True):
        values = (generator.random(count) < 0.5).astype(np.int64)
        values[generator.random(count) < 0.05] = 2
        columns.append(_holes(generator, values.astype(np.float64), share, np.nan) if share else values)
    return columns


def _mixed(generator, rows, missing):
    """Objects of text, booleans and numbers: comparisons and sums that raise, as in sdmetrics."""
    pool = np.array(["a", True, 1, 2.5, 0, False], dtype=object)
    return [
        _holes(generator, pool[generator.integers(0, pool.size, count)], share, np.nan)
        for count, share in zip(rows, missing, strict=True)
    ]


FAMILIES = {
    "number": (_numbers, ("numerical", "numerical", "categorical")),
    "datetime": (_datetimes, ("datetime",)),
    "string": (_strings, ("categorical", "ordinal")),
    "boolean": (_booleans, ("boolean", "categorical")),
    "flag": (_one_hot, ("numerical", "categorical")),
    "mixed": (_mixed, ("categorical", "numerical")),
}


@st.composite
def tables(draw) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str], dict[str, str]]:
    generator = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    rows = draw(st.integers(1, 200)), draw(st.integers(1, 200))
    families = draw(st.lists(st.sampled_from(sorted(FAMILIES)), min_size=2, max_size=7))
    real, synthetic, sdtypes, family_of = {}, {}, {}, {}
    for index, family in enumerate(families):
        make, choices = FAMILIES[family]
        missing = draw(st.sampled_from([0.0, 0.0, 0.2])), draw(st.sampled_from([0.0, 0.0, 0.2, 0.6]))
        name = f"{family}_{index}"
        real[name], synthetic[name] = make(generator, rows, missing)
        sdtypes[name] = draw(st.sampled_from(choices))
        family_of[name] = family
    return pd.DataFrame(real), pd.DataFrame(synthetic), sdtypes, family_of


def _pick(draw, names: list[str], count: int) -> list[str]:
    return draw(st.permutations(names))[:count]


@st.composite
def constraints(draw, family_of: dict[str, str]) -> dict:
    """A valid constraint (``check_constraints``) of a drawn class, mostly on columns it makes sense for."""
    names = list(family_of)
    ordered = [name for name in names if family_of[name] in ("number", "flag")]
    ordered = draw(st.sampled_from([ordered, [name for name in names if family_of[name] == "datetime"], names]))
    if draw(st.booleans()) and len(ordered) < 3:
        ordered = names
    discrete = [name for name in names if family_of[name] in ("string", "boolean")] or names
    class_name = draw(st.sampled_from(sorted(SUPPORTED)))
    parameters: dict = {}
    strict = draw(st.sampled_from([None, True, False]))
    if class_name == "Inequality" and len(ordered) >= 2:
        low, high = _pick(draw, ordered, 2)
        parameters = {"low_column_name": low, "high_column_name": high}
    elif class_name == "ChainedInequality" and len(ordered) >= 2:
        parameters = {"column_names": _pick(draw, ordered, draw(st.integers(2, min(4, len(ordered)))))}
    elif class_name == "Range" and len(ordered) >= 3:
        low, middle, high = _pick(draw, ordered, 3)
        parameters = {"low_column_name": low, "middle_column_name": middle, "high_column_name": high}
        strict = draw(st.booleans())
    elif class_name in ("FixedCombinations", "FixedNullCombinations", "OneHotEncoding"):
        pool = [name for name in names if family_of[name] == "flag"] if class_name == "OneHotEncoding" else names
        pool = pool if len(pool) >= 2 and draw(st.booleans()) else names
        parameters = {"column_names": _pick(draw, pool, draw(st.integers(2, min(4, len(pool)))))}
        if class_name == "FixedNullCombinations" and draw(st.booleans()):
            parameters["fix_category_values"] = draw(st.booleans())
    elif class_name == "FixedIncrements":
        parameters = {"column_name": draw(st.sampled_from(ordered or names))}
        parameters["increment_value"] = draw(st.sampled_from([1, 2, 3, 5.0]))
    elif class_name == "MixedScales":
        column = draw(st.sampled_from(ordered or names))
        segments = [name for name in discrete if name != column] or [name for name in names if name != column]
        parameters = {
            "mixed_scale_column_name": column,
            "segment_column_names": _pick(draw, segments, draw(st.integers(1, min(2, len(segments))))),
        }
    elif class_name == "DenormalizedTable":
        key, *others = _pick(draw, names, draw(st.integers(2, min(3, len(names)))))
        parameters = {"denormalized_primary_key": key, "denormalized_column_names": others}
    else:
        low, high = _pick(draw, names, 2)
        class_name, parameters = "Inequality", {"low_column_name": low, "high_column_name": high}
    if strict is not None and class_name in ("Inequality", "ChainedInequality", "Range"):
        parameters["strict_boundaries"] = strict
    if draw(st.integers(0, 9)) == 0:
        # A column the report does not see (an identifier): the constraint does not apply.
        name, value = next((key, value) for key, value in parameters.items() if isinstance(value, str | list))
        parameters[name] = "not_in_the_table" if isinstance(value, str) else ["not_in_the_table", *value[1:]]
    return check_constraints([{"class_name": class_name, "parameters": parameters}])[0]


@st.composite
def cases(draw):
    real, synthetic, sdtypes, family_of = draw(tables())
    return real, synthetic, sdtypes, draw(st.lists(constraints(family_of), min_size=1, max_size=5))


@EXAMPLES
@given(cases())
def test_generated_tables_and_constraints_equal_sdmetrics(drawn):
    check(*drawn)


# Hand-made cases ------------------------------------------------------------------------------------------


def _frame(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns)


def _constraint(class_name: str, **parameters) -> dict:
    return {"class_name": class_name, "parameters": parameters}


def test_a_constraint_that_raises_has_sdmetrics_error_and_the_others_none():
    real = _frame(low=[1.0, 2.0, np.nan], label=np.array(["a", "b", np.nan], dtype=object))
    synthetic = _frame(low=[1.0, 5.0, 3.0], label=np.array(["a", "c", "b"], dtype=object))
    sdtypes = {"low": "numerical", "label": "categorical"}
    rows = check(
        real,
        synthetic,
        sdtypes,
        [
            _constraint("Inequality", low_column_name="label", high_column_name="low"),
            _constraint("FixedCombinations", column_names=["low", "label"]),
        ],
    )
    assert rows[0]["error"] == "TypeError: '>=' not supported between instances of 'float' and 'str'"
    assert math.isnan(rows[0]["score"])
    assert rows[1] == {
        "constraint": "FixedCombinations",
        "metric": "ConstraintAdherence",
        "parameters": {"column_names": ["low", "label"]},
        "score": 1 / 3,
        "error": None,
    }


def test_an_error_on_the_real_table_alone_is_the_constraint_error():
    real = _frame(a=np.array(["x", 1.0], dtype=object), b=[1.0, 2.0])
    synthetic = _frame(a=np.array([1.0, 2.0], dtype=object), b=[1.0, 2.0])
    rows = check(
        real,
        synthetic,
        {"a": "numerical", "b": "numerical"},
        [_constraint("Inequality", low_column_name="a", high_column_name="b")],
    )
    assert rows[0]["error"].startswith("TypeError: ")


def test_not_applicable_constraints_score_nan_without_an_error_and_the_property_skips_them():
    real = _frame(amount=[1.0, 2.0, 4.0], colour=["a", "b", "a"], when=pd.to_datetime(["2020-01-01"] * 3))
    synthetic = _frame(amount=[1.0, 3.0, 4.0], colour=["a", "b", "b"], when=pd.to_datetime(["2021-01-01"] * 3))
    sdtypes = {"amount": "numerical", "colour": "categorical", "when": "datetime"}
    items = [
        _constraint("FixedIncrements", column_name="colour", increment_value=2),  # not numerical
        _constraint("MixedScales", mixed_scale_column_name="amount", segment_column_names=["when"]),
        _constraint("Inequality", low_column_name="person_id", high_column_name="amount"),  # an identifier
        _constraint("FixedIncrements", column_name="amount", increment_value=2),
    ]
    rows = check(real, synthetic, sdtypes, items)
    assert [row["score"] for row in rows[:3]] == pytest.approx([math.nan] * 3, nan_ok=True)
    assert rows[3]["score"] == 1 / 3 and all("error" not in row for row in rows)
    assert constraint_validity(real, synthetic, sdtypes, items).score == 1 / 3


def test_every_constraint_nan_makes_the_property_nan_and_the_overall_the_mean_of_the_others():
    real = _frame(amount=[1.0, 2.0], colour=["a", "b"])
    synthetic = _frame(amount=[1.0, 3.0], colour=["a", "c"])
    sdtypes = {"amount": "numerical", "colour": "categorical"}
    only = [_constraint("FixedIncrements", column_name="colour", increment_value=1)]
    check(real, synthetic, sdtypes, only)
    assert math.isnan(constraint_validity(real, synthetic, sdtypes, only).score)
    report = sdmetrics_report(real, synthetic, sdtypes, only)
    assert report.get_score() == pytest.approx(np.mean([0.5, 1.0]))


def test_fixed_null_combinations_reads_missing_column_names_as_sdmetrics_does():
    """sdmetrics splits the real table's missing columns on commas and compares the synthetic sets as they are:
    a column named with a comma never matches; a lone missing column named 'None' passes for none."""
    real = _frame(**{"a, b": [1.0, np.nan, 3.0], "c": [1.0, 2.0, np.nan], "None": [1.0, 2.0, 3.0]})
    synthetic = _frame(
        **{"a, b": [np.nan, 1.0, 2.0, 4.0], "c": [1.0, np.nan, 2.0, 1.0], "None": [1.0, 2.0, np.nan, 3.0]}
    )
    sdtypes = dict.fromkeys(real, "numerical")
    rows = check(real, synthetic, sdtypes, [_constraint("FixedNullCombinations", column_names=["a, b", "c", "None"])])
    assert rows[0]["score"] == 3 / 4


def test_fixed_null_combinations_fixes_categories_within_each_missing_pattern():
    real = _frame(
        colour=np.array(["red", "blue", np.nan, "red"], dtype=object),
        flag=np.array([True, False, True, np.nan], dtype=object),
        size=[1.0, np.nan, 3.0, 4.0],
        day=pd.to_datetime(["2020-01-01", None, "2020-01-03", "2020-01-04"]),
    )
    synthetic = _frame(
        colour=np.array(["red", "blue", np.nan, "blue", "red"], dtype=object),
        flag=np.array([True, False, True, True, 1.0], dtype=object),
        size=[9.0, np.nan, 1.0, 2.0, 3.0],
        day=pd.to_datetime(["2021-01-01", None, "2020-01-03", None, "2020-01-01"]),
    )
    sdtypes = {"colour": "categorical", "flag": "boolean", "size": "numerical", "day": "categorical"}
    for fix in (True, False):
        columns = ["colour", "flag", "size", "day"]
        check(
            real,
            synthetic,
            sdtypes,
            [_constraint("FixedNullCombinations", column_names=columns, fix_category_values=fix)],
        )
    check(real, synthetic, sdtypes, [_constraint("FixedNullCombinations", column_names=["day", "colour"])])


@pytest.mark.parametrize("columns", [2, 64, 70])
def test_fixed_null_combinations_over_many_columns(columns):
    generator = np.random.default_rng(columns)
    names = [f"c{index}" for index in range(columns)]

    def table(rows):
        values = generator.integers(0, 2, (rows, columns)).astype(np.float64)
        values[generator.random((rows, columns)) < 0.02] = np.nan
        return pd.DataFrame(values, columns=names)

    real, synthetic = table(300), table(200)
    synthetic.iloc[:50] = real.iloc[:50].to_numpy()
    sdtypes = {name: "categorical" if index % 3 else "numerical" for index, name in enumerate(names)}
    rows = check(real, synthetic, sdtypes, [_constraint("FixedNullCombinations", column_names=names)])
    assert rows[0]["score"] >= 50 / 200  # the copied rows at least


def test_mixed_scales_unseen_and_missing_segments():
    real = _frame(
        segment=np.array(["s", "s", "l", np.nan, "l"], dtype=object),
        other=[True, True, False, True, False],
        value=[1.0, 2.0, 100.0, 7.0, np.nan],
    )
    synthetic = _frame(
        segment=np.array(["s", "l", "x", np.nan, np.nan, "s"], dtype=object),
        other=[True, False, True, True, False, False],
        value=[1.5, 50.0, 1.0, 7.0, np.nan, 3.0],
    )
    sdtypes = {"segment": "categorical", "other": "boolean", "value": "numerical"}
    rows = check(
        real,
        synthetic,
        sdtypes,
        [
            _constraint("MixedScales", mixed_scale_column_name="value", segment_column_names=["segment"]),
            _constraint("MixedScales", mixed_scale_column_name="value", segment_column_names=["segment", "other"]),
        ],
    )
    assert rows[0]["score"] == 3 / 6


def test_mixed_scales_on_numbers_written_as_text_fails_as_in_sdmetrics():
    real = _frame(segment=["a", "a", "b"], value=np.array(["1", "x", "3"], dtype=object))
    synthetic = _frame(segment=["a", "b", "b"], value=np.array(["1", "2", "3"], dtype=object))
    sdtypes = {"segment": "categorical", "value": "numerical"}
    rows = check(
        real,
        synthetic,
        sdtypes,
        [_constraint("MixedScales", mixed_scale_column_name="value", segment_column_names=["segment"])],
    )
    assert rows[0]["error"] == "ValueError: could not convert string to float: 'x'"


def test_denormalized_table_counts_distinct_values_as_nunique_does():
    real = _frame(key=[1, 1, 2, 2, 3], city=np.array(["x", "x", "y", "z", np.nan], dtype=object), n=[1.0] * 5)
    synthetic = _frame(
        key=[1, 1, 2, 2, 3, 3, np.nan, np.nan],
        city=np.array(["x", "x", None, np.nan, np.nan, np.nan, "a", "b"], dtype=object),
        n=[1.0, 2.0, 3.0, 3.0, np.nan, np.nan, 1.0, 1.0],
    )
    sdtypes = {"key": "numerical", "city": "categorical", "n": "numerical"}
    rows = check(
        real,
        synthetic,
        sdtypes,
        [_constraint("DenormalizedTable", denormalized_primary_key="key", denormalized_column_names=["city", "n"])],
    )
    assert rows[0]["score"] == 2 / 8  # None and NaN are two values to Series.nunique


def test_datetimes_written_as_text_are_parsed_as_sdmetrics_parses_them():
    """Not what the registry hands over (it parses datetime columns first), but the same code path."""
    real = _frame(
        start=np.array(["2020-01-01", "2020-02-01", None], dtype=object),
        middle=pd.to_datetime(["2020-01-05", "2020-01-01", "2020-03-01"]),
        end=np.array(["2020-01-10", "not a date", "2020-04-01T00:00:00+02:00"], dtype=object),
        number=[1.0, 2.0, 3.0],
    )
    synthetic = real.iloc[[2, 1, 0, 0]].reset_index(drop=True)
    sdtypes = {"start": "datetime", "middle": "datetime", "end": "datetime", "number": "numerical"}
    check(
        real,
        synthetic,
        sdtypes,
        [
            _constraint("Inequality", low_column_name="start", high_column_name="end"),
            _constraint("ChainedInequality", column_names=["start", "middle", "end"]),
            _constraint("ChainedInequality", column_names=["middle", "number"]),
            _constraint(
                "Range",
                low_column_name="start",
                middle_column_name="middle",
                high_column_name="end",
                strict_boundaries=False,
            ),
        ],
    )


def test_one_hot_encoding_of_text_fails_as_in_sdmetrics():
    real = _frame(a=[1, 0, 0], b=[0, 1, 0], c=[0, 0, 1])
    synthetic = _frame(a=[1, 0, 1], b=[0, 1, 1], c=np.array(["x", 0, 0], dtype=object))
    sdtypes = dict.fromkeys(real, "numerical")
    rows = check(
        real,
        synthetic,
        sdtypes,
        [
            _constraint("OneHotEncoding", column_names=["a", "b", "c"]),
            _constraint("OneHotEncoding", column_names=["a", "b"]),
        ],
    )
    assert rows[0]["error"].startswith("TypeError: ") and rows[1]["score"] == 2 / 3


def test_unsupported_constraints_are_refused_naming_the_part():
    real = _frame(a=[1.0])
    with pytest.raises(EvaluationInputError) as refused:
        constraint_validity(real, real, {"a": "numerical"}, [_constraint("ColumnFormula", input_column_names=["a"])])
    assert refused.value.field == "constraints[0].class_name"
    assert refused.value.reason.startswith("ColumnFormula is not supported: it imports a module")


# Through the engine, both report engines -----------------------------------------------------------------

ADULT_CONSTRAINTS = [
    _constraint("Inequality", low_column_name="education_num", high_column_name="age"),
    _constraint("Inequality", low_column_name="capital_loss", high_column_name="capital_gain", strict_boundaries=True),
    _constraint(
        "ChainedInequality",
        column_names=["capital_loss", "education_num", "hours_per_week", "age"],
        strict_boundaries=False,
    ),
    _constraint(
        "Range",
        low_column_name="education_num",
        middle_column_name="hours_per_week",
        high_column_name="fnlwgt",
        strict_boundaries=True,
    ),
    _constraint("FixedCombinations", column_names=["education", "education_num"]),
    _constraint("FixedNullCombinations", column_names=["workclass", "occupation", "native_country"]),
    _constraint("FixedIncrements", column_name="hours_per_week", increment_value=5),
    _constraint("MixedScales", mixed_scale_column_name="capital_gain", segment_column_names=["income", "sex"]),
    _constraint("OneHotEncoding", column_names=["capital_gain", "capital_loss"]),
    _constraint("DenormalizedTable", denormalized_primary_key="education", denormalized_column_names=["education_num"]),
    _constraint("Inequality", low_column_name="workclass", high_column_name="age"),  # raises: text against numbers
]


@pytest.fixture(scope="module")
def adult_pair(adult, resample):
    synthetic = resample(adult, 5_000, seed=23)
    generator = np.random.default_rng(23)
    synthetic.loc[generator.random(len(synthetic)) < 0.05, "education_num"] = 11
    synthetic.loc[generator.random(len(synthetic)) < 0.03, "occupation"] = np.nan
    return adult.sample(8_000, random_state=3).reset_index(drop=True), synthetic


def test_both_report_engines_give_the_same_diagnostic_with_constraints(adult_pair, adult_schema):
    real, synthetic = adult_pair
    results = {}
    for engine in ("native", "sdmetrics"):
        config = EvaluationConfig(kinds=("diagnostic",), report_engine=engine, constraints=ADULT_CONSTRAINTS)
        results[engine] = run_evaluation(real, synthetic, columns=adult_schema, config=config)
    native, reference = results["native"], results["sdmetrics"]
    assert set(native.metrics) == {
        "diagnostic.overall",
        "diagnostic.data_validity",
        "diagnostic.data_structure",
        "diagnostic.type_conformance",
        "diagnostic.constraint_validity",
    }
    for key, value in reference.metrics.items():
        assert same(native.metrics[key], value), key
    ours, theirs = native.results["diagnostic"], reference.results["diagnostic"]
    assert (
        list(ours["properties"])
        == list(theirs["properties"])
        == ["Data Validity", "Data Structure", "Constraint Validity"]
    )
    assert len(ours["constraint_validity"]) == len(ADULT_CONSTRAINTS)
    for mine, row in zip(ours["constraint_validity"], theirs["constraint_validity"], strict=True):
        assert {key: value for key, value in mine.items() if key != "score"} == {
            key: value for key, value in row.items() if key != "score"
        }
        assert (mine["score"] is None and row["score"] is None) or same(mine["score"], row["score"])
    scores = [row["score"] for row in ours["constraint_validity"]]
    assert scores[-1] is None and ours["constraint_validity"][-1]["error"].startswith("TypeError: ")
    assert scores[0] == 1.0 and all(0 < score < 1 for score in scores[1:8]) and scores[8] == 0.0
    assert native.parameters["constraints"] == ADULT_CONSTRAINTS
    properties = ours["properties"]
    assert native.metrics["diagnostic.overall"] == pytest.approx(np.mean(list(properties.values())), abs=1e-12)


def test_without_constraints_the_diagnostic_is_what_it_was(adult_pair, adult_schema):
    real, synthetic = adult_pair
    plain = run_evaluation(real, synthetic, columns=adult_schema, config=EvaluationConfig(kinds=("diagnostic",)))
    assert "diagnostic.constraint_validity" not in plain.metrics
    assert "constraint_validity" not in plain.results["diagnostic"]
    assert list(plain.results["diagnostic"]["properties"]) == ["Data Validity", "Data Structure"]
    report = DiagnosticReport()
    with seeded_numpy(0):
        report.generate(
            {TABLE: real},
            {TABLE: synthetic},
            report_metadata({c["name"]: c["sdtype"] for c in adult_schema}),
            verbose=False,
        )
    assert same(plain.metrics["diagnostic.overall"], report.get_score())
    assert plain.parameters["constraints"] == []


def test_the_engine_refuses_a_constraint_it_does_not_support(adult_pair, adult_schema):
    real, synthetic = adult_pair
    config = EvaluationConfig(
        kinds=("diagnostic",), constraints=[_constraint("ReferenceTable", reference_table_names=["x"])]
    )
    result = run_evaluation(real, synthetic, columns=adult_schema, config=config)
    assert result.results["diagnostic"] == {
        "error": "EvaluationInputError: constraints[0].class_name: ReferenceTable is not supported: a multi-table "
        "constraint; a version is one table"
    }
