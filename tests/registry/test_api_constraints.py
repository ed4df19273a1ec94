"""The generator's constraints: declared at registration, checked (a 400 naming the part), stored with the
provenance, and scored by every diagnostic evaluation of the version (Constraint Validity)."""

import io
import json

import pandas as pd
import pytest

from core.models import AuditEvent
from registry.evaluation.constraints import MAX_CONSTRAINTS
from registry.models import DatasetVersion, Evaluation, RegistrationJob
from tests.support import registration_form, registration_json, upload

URL = "/api/v1/versions/"
GOOD = [
    {"class_name": "Inequality", "parameters": {"low_column_name": "education_num", "high_column_name": "age"}},
    {
        "class_name": "Range",
        "parameters": {
            "low_column_name": "capital_loss",
            "middle_column_name": "hours_per_week",
            "high_column_name": "fnlwgt",
            "strict_boundaries": False,
            "table_name": "adult",
        },
    },
    {"class_name": "FixedCombinations", "parameters": {"column_names": ["education", "education_num"]}},
    {"class_name": "FixedIncrements", "parameters": {"column_name": "hours_per_week", "increment_value": 5}},
    {"class_name": "MixedScales", "parameters": {"mixed_scale_column_name": "age", "segment_column_names": ["sex"]}},
]
DECLARED_SCHEMA = [
    {"name": "start", "dtype": "datetime64[ns]", "sdtype": "datetime"},
    {"name": "end", "dtype": "datetime64[ns]", "sdtype": "datetime"},
    {"name": "city", "dtype": "object", "sdtype": "categorical"},
]


def _register(member, content, constraints, **form):
    fields = {**registration_form(**form), "file": upload(content)}
    if constraints is not None:
        fields["constraints"] = constraints if isinstance(constraints, str) else json.dumps(constraints)
    return member.client.post(URL, fields, format="multipart")


def _declared(member, constraints):
    body = registration_json(
        storage_uri="s3://bucket/trips.parquet",
        fingerprint="a" * 64,
        schema=DECLARED_SCHEMA,
        row_count=10,
        constraints=constraints,
    )
    return member.client.post(URL, body, format="json")


def test_declared_constraints_are_stored_with_the_provenance_and_shown(pipeline, adult_head_csv):
    response = _register(pipeline, adult_head_csv, GOOD)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["constraints"] == GOOD
    assert pipeline.client.get(f"{URL}{body['id']}/").json()["constraints"] == GOOD
    assert DatasetVersion.objects.get(pk=body["id"]).constraints == GOOD
    assert AuditEvent.objects.get(action="version.registered").after["constraints"] == GOOD
    assert "constraints" not in pipeline.client.get(URL).json()["results"][0]


def test_without_constraints_a_version_has_none(pipeline, adult_head_csv):
    response = _register(pipeline, adult_head_csv, None)
    assert response.status_code == 201, response.content
    assert response.json()["constraints"] == []


def test_a_json_registration_checks_its_constraints_against_the_declared_schema(pipeline):
    good = [{"class_name": "Inequality", "parameters": {"low_column_name": "start", "high_column_name": "end"}}]
    response = _declared(pipeline, good)
    assert response.status_code == 201, response.content
    assert response.json()["constraints"] == good
    bad = [{"class_name": "Inequality", "parameters": {"low_column_name": "start", "high_column_name": "finish"}}]
    response = _declared(pipeline, bad)
    assert response.status_code == 400
    assert response.json() == {"constraints[0].parameters.high_column_name": ["not a column of this version: finish"]}


def test_the_same_bytes_with_other_constraints_are_a_conflict(pipeline, adult_head_csv):
    first = _register(pipeline, adult_head_csv, GOOD)
    assert _register(pipeline, adult_head_csv, GOOD).status_code == 200
    response = _register(pipeline, adult_head_csv, GOOD[:1])
    assert response.status_code == 409
    assert response.json()["differing_fields"] == ["constraints"]
    assert response.json()["version"] == first.json()["id"]


def _inequality(**parameters):
    return [
        {
            "class_name": "Inequality",
            "parameters": {"low_column_name": "age", "high_column_name": "fnlwgt", **parameters},
        }
    ]


BAD = [
    (
        '{"class_name": "Inequality"}',
        "constraints",
        'must be a list of {"class_name": ..., "parameters": {...}} objects',
    ),
    ("null", "constraints", "This field may not be null."),
    ([GOOD[0]] * (MAX_CONSTRAINTS + 1), "constraints", f"at most {MAX_CONSTRAINTS} constraints"),
    ([GOOD[0], "Inequality"], "constraints[1]", 'must be an object: {"class_name": ..., "parameters": {...}}'),
    (
        [{**GOOD[0], "constraint_class": "x"}],
        "constraints[0].constraint_class",
        "Unknown field; a constraint has class_name and parameters.",
    ),
    ([{"parameters": {}}], "constraints[0].class_name", "This field is required."),
    ([{"class_name": "Inequality"}], "constraints[0].parameters", "This field is required."),
    ([{"class_name": 3, "parameters": {}}], "constraints[0].class_name", "must be a string"),
    (
        [{"class_name": "Bogus", "parameters": {}}],
        "constraints[0].class_name",
        "unknown constraint class; expected one of Inequality, ChainedInequality, Range, FixedCombinations, "
        "FixedNullCombinations, FixedIncrements, MixedScales, OneHotEncoding, DenormalizedTable",
    ),
    (
        [{"class_name": "ColumnFormula", "parameters": {"module_name": "os", "formula_function_name": "system"}}],
        "constraints[0].class_name",
        "ColumnFormula is not supported: it imports a module and calls a function the constraint names; the "
        "registry runs no code a request names",
    ),
    (
        [{"class_name": "ForeignToForeignKey", "parameters": {}}],
        "constraints[0].class_name",
        "ForeignToForeignKey is not supported: a multi-table constraint; a version is one table",
    ),
    ([{"class_name": "Inequality", "parameters": ["age"]}], "constraints[0].parameters", "must be an object"),
    (
        _inequality(strict=True),
        "constraints[0].parameters.strict",
        "not a parameter of Inequality; expected low_column_name, high_column_name, strict_boundaries, table_name",
    ),
    (
        [
            {
                "class_name": "Range",
                "parameters": {
                    "low_column_name": "age",
                    "middle_column_name": "fnlwgt",
                    "high_column_name": "capital_gain",
                },
            }
        ],
        "constraints[0].parameters.strict_boundaries",
        "This field is required.",
    ),
    (_inequality(strict_boundaries="true"), "constraints[0].parameters.strict_boundaries", "must be true or false"),
    (
        _inequality(high_column_name=""),
        "constraints[0].parameters.high_column_name",
        "must be a non-empty string (a column name)",
    ),
    (
        _inequality(high_column_name=["fnlwgt"]),
        "constraints[0].parameters.high_column_name",
        "must be a non-empty string (a column name)",
    ),
    (
        _inequality(high_column_name="age"),
        "constraints[0].parameters.high_column_name",
        "column 'age' is already named by constraints[0].parameters.low_column_name",
    ),
    (
        _inequality(table_name="a\x1b[31m"),
        "constraints[0].parameters.table_name",
        "must not contain control or bidirectional formatting characters (U+001B at position 2)",
    ),
    (
        _inequality(high_column_name="x" * 1001),
        "constraints[0].parameters.high_column_name",
        "longer than 1000 characters",
    ),
    (
        [GOOD[0], {"class_name": "FixedCombinations", "parameters": {"column_names": ["education"]}}],
        "constraints[1].parameters.column_names",
        "must name from 2 to 2000 columns",
    ),
    (
        [{"class_name": "OneHotEncoding", "parameters": {"column_names": "age"}}],
        "constraints[0].parameters.column_names",
        "must be a list of column names",
    ),
    (
        [{"class_name": "ChainedInequality", "parameters": {"column_names": ["age", 7]}}],
        "constraints[0].parameters.column_names[1]",
        "must be a non-empty string (a column name)",
    ),
    *(
        (
            [{"class_name": "FixedIncrements", "parameters": {"column_name": "age", "increment_value": value}}],
            "constraints[0].parameters.increment_value",
            "must be a whole number from 1 to 9223372036854775807",
        )
        for value in (0, 2.5, True, "5", 2**63)
    ),
]


@pytest.mark.parametrize(("constraints", "field", "reason"), BAD)
def test_a_bad_declaration_is_a_400_naming_the_part_and_nothing_is_written(
    pipeline, adult_head_csv, nothing_written, constraints, field, reason
):
    response = _register(pipeline, adult_head_csv, constraints)
    assert response.status_code == 400
    assert response.json() == {field: [reason]}


@pytest.mark.parametrize(
    ("constraints", "field"),
    [
        (_inequality(high_column_name="salary"), "constraints[0].parameters.high_column_name"),
        (
            [GOOD[0], {"class_name": "FixedNullCombinations", "parameters": {"column_names": ["sex", "Sex"]}}],
            "constraints[1].parameters.column_names[1]",
        ),
        (
            [
                {
                    "class_name": "MixedScales",
                    "parameters": {"mixed_scale_column_name": "age", "segment_column_names": ["id"]},
                }
            ],
            "constraints[0].parameters.segment_column_names[0]",
        ),
    ],
)
def test_a_column_the_file_lacks_is_a_400_naming_it(pipeline, adult_head_csv, nothing_written, constraints, field):
    response = _register(pipeline, adult_head_csv, constraints)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert response.json()[field][0].startswith("not a column of this version: ")


def test_a_queued_registration_checks_the_columns_when_the_job_reads_the_file(
    pipeline, adult_head_csv, settings, django_capture_on_commit_callbacks
):
    settings.REGISTRY_INLINE_INSPECT_MAX_BYTES = 1000
    with django_capture_on_commit_callbacks(execute=True):
        response = _register(pipeline, adult_head_csv, _inequality(high_column_name="salary"))
    assert response.status_code == 202
    job = RegistrationJob.objects.get(pk=response.json()["id"])
    assert job.payload["constraints"] == _inequality(high_column_name="salary")
    assert (job.state, job.error) == (
        "failed",
        {"constraints[0].parameters.high_column_name": ["not a column of this version: salary"]},
    )
    assert DatasetVersion.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = _register(pipeline, adult_head_csv, GOOD)
    job = RegistrationJob.objects.get(pk=response.json()["id"])
    assert (job.state, job.version.constraints) == ("succeeded", GOOD)


# Evaluations --------------------------------------------------------------------------------------------


def _csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


@pytest.mark.parametrize("report_engine", ["native", "sdmetrics"])
def test_an_evaluation_scores_the_versions_constraints(
    pipeline, adult, django_capture_on_commit_callbacks, report_engine
):
    reference = adult.iloc[:400].reset_index(drop=True)
    synthetic = adult.iloc[400:700].reset_index(drop=True)
    version = _register(pipeline, _csv(synthetic), GOOD).json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        response = pipeline.client.post(
            f"{URL}{version}/evaluations/",
            {
                "reference": upload(_csv(reference), "real.csv"),
                "kinds": '["diagnostic"]',
                "report_engine": report_engine,
            },
            format="multipart",
        )
    assert response.status_code == 202, response.content
    result = pipeline.client.get(f"/api/v1/evaluations/{response.json()['id']}/").json()
    assert result["state"] == "succeeded", result["error"]
    assert result["config"]["constraints"] == GOOD
    assert result["parameters"]["constraints"] == GOOD
    diagnostic = result["results"]["diagnostic"]
    assert list(diagnostic["properties"]) == ["Data Validity", "Data Structure", "Constraint Validity"]
    rows = diagnostic["constraint_validity"]
    assert [row["constraint"] for row in rows] == [item["class_name"] for item in GOOD]
    assert [row["parameters"] for row in rows] == [item["parameters"] for item in GOOD]
    assert rows[0]["score"] == 1.0  # years of education never exceed the age
    scores = [row["score"] for row in rows]
    metric = result["metrics"]["diagnostic.constraint_validity"]
    assert metric == pytest.approx(sum(scores) / len(scores), abs=1e-12)
    assert metric == diagnostic["properties"]["Constraint Validity"]
    properties = diagnostic["properties"].values()
    assert result["metrics"]["diagnostic.overall"] == pytest.approx(sum(properties) / 3, abs=1e-12)
    assert Evaluation.objects.get(pk=result["id"]).config["constraints"] == GOOD
