"""Bad registrations: a 4xx naming the field and the reason, and nothing written anywhere."""

import gzip
import json
import os

import pytest

from tests.support import registration_form, registration_json, upload

URL = "/api/v1/versions/"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


def _multipart(member, content: bytes, name: str = "synthetic.csv", **form):
    return member.client.post(URL, {**registration_form(**form), "file": upload(content, name)}, format="multipart")


def test_malformed_json(pipeline, nothing_written):
    response = pipeline.client.post(URL, data='{"project": "acme",', content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "JSON parse error - Expecting property name enclosed in double quotes: line 1 column 20 (char 19)"
    }


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"colour": "blue"}, {"colour": ["Unknown field."]}),
        (
            {"generator": {"name": "ctgan", "temperature": 0.7}},
            {"generator": {"temperature": ["Unknown field."]}},
        ),
        (
            {"generator": {"name": "ctgan", "seed": "abc"}},
            {"generator": {"seed": ["A valid integer is required."]}},
        ),
        (
            {"generator": {"name": "ctgan", "seed": 2**64}},
            {"generator": {"seed": ["Ensure this value is less than or equal to 9223372036854775807."]}},
        ),
        (
            {"generator": {"name": "ctgan", "parameters": [1, 2]}},
            {"generator": {"parameters": ['Expected a dictionary of items but got type "list".']}},
        ),
        (
            {"sources": "public.adult"},
            {"sources": {"non_field_errors": ['Expected a list of items but got type "str".']}},
        ),
        ({"sources": []}, {"sources": {"non_field_errors": ["This list may not be empty."]}}),
        ({"sources": [{"namespace": "pg"}]}, {"sources": {"0": {"name": ["This field is required."]}}}),
        ({"code_version": None}, {"code_version": ["This field is required."]}),
        (
            {"project": "Not A Slug"},
            {"project": ['Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.']},
        ),
        (
            {"dataset": "../etc"},
            {
                "dataset": [
                    "Use letters, digits, '.', '_' and '-' (at most 200 characters), starting with a letter or digit."
                ]
            },
        ),
        (
            {"row_count": -1, "fingerprint": "a" * 64, "schema": [{"name": "a", "dtype": "int64"}]},
            {"row_count": ["Ensure this value is greater than or equal to 0."]},
        ),
        (
            {"fingerprint": "XYZ", "schema": [], "row_count": 1},
            {"fingerprint": ["Must be a SHA-256: 64 lowercase hexadecimal characters."]},
        ),
    ],
)
def test_wrong_fields_and_types(pipeline, nothing_written, overrides, expected):
    body = registration_json(**overrides)
    if "code_version" in overrides and overrides["code_version"] is None:
        body.pop("code_version", None)
    response = pipeline.client.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json() == expected


def test_nothing_to_register(pipeline, nothing_written):
    response = pipeline.client.post(URL, registration_json(), format="json")
    assert response.status_code == 400
    assert response.json() == {
        "file": ["Upload a file, give a file:// storage_uri, or declare fingerprint, schema and row_count."]
    }


def test_remote_uri_without_declared_facts(pipeline, nothing_written):
    response = pipeline.client.post(URL, registration_json(storage_uri="s3://bucket/x.csv"), format="json")
    assert response.status_code == 400
    assert response.json() == {
        "fingerprint": ["Required: the registry cannot read this storage_uri itself."],
        "schema": ["Required: the registry cannot read this storage_uri itself."],
        "row_count": ["Required: the registry cannot read this storage_uri itself."],
    }


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        ([], "must be a non-empty list of columns"),
        ({"age": "int64"}, "must be a non-empty list of columns"),
        ([{"name": "a", "dtype": "int64"}, {"name": "a", "dtype": "int64"}], "column names must be unique"),
        ([{"name": "a"}], "column 'a' needs a string dtype"),
        (
            [{"name": "a", "dtype": "int64", "sdtype": "money"}],
            "column 'a' has unknown sdtype 'money'; expected one of numerical, datetime, categorical, boolean, ordinal, id",
        ),
        ([{"name": "a", "dtype": "int64", "width": 3}], "column 0 has unknown keys: width"),
    ],
)
def test_declared_schema_is_validated(pipeline, nothing_written, schema, reason):
    body = registration_json(storage_uri="s3://b/x.csv", fingerprint="c" * 64, schema=schema, row_count=5)
    response = pipeline.client.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json() == {"schema": [reason]}


def test_same_source_twice(pipeline, nothing_written, adult_head_csv):
    sources = '[{"namespace": "pg", "name": "t"}, {"namespace": "pg", "name": "t"}]'
    response = _multipart(pipeline, adult_head_csv, sources=sources)
    assert response.status_code == 400
    assert response.json() == {"sources": ["the same source dataset is listed twice"]}


def test_invalid_json_in_a_multipart_field(pipeline, nothing_written, adult_head_csv):
    response = _multipart(pipeline, adult_head_csv, generator="{not json")
    assert response.status_code == 400
    assert response.json() == {
        "generator": ["Invalid JSON: Expecting property name enclosed in double quotes at position 1."]
    }


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_a_multipart_field(pipeline, nothing_written, adult_head_csv, constant):
    generator = f'{{"name": "ctgan", "version": "0.10.1", "parameters": {{"epsilon": {constant}}}, "seed": 1}}'
    response = _multipart(pipeline, adult_head_csv, generator=generator)
    assert response.status_code == 400
    assert response.json() == {"generator": [f"Invalid JSON: {constant} is not a number JSON allows."]}


def test_unknown_project(pipeline, nothing_written, adult_head_csv):
    response = _multipart(pipeline, adult_head_csv, project="nope")
    assert response.status_code == 400
    assert response.json() == {"project": ["Unknown project 'nope', or you have no role in it."]}


def test_project_where_the_token_has_no_role(pipeline, other_project, nothing_written, adult_head_csv):
    response = _multipart(pipeline, adult_head_csv, project="other")
    assert response.status_code == 400
    assert response.json() == {"project": ["Unknown project 'other', or you have no role in it."]}


@pytest.mark.parametrize("role_fixture", ["reviewer", "auditor"])
def test_roles_that_cannot_register(request, reviewer, auditor, role_fixture, nothing_written, adult_head_csv):
    member = {"reviewer": reviewer, "auditor": auditor}[role_fixture]
    response = _multipart(member, adult_head_csv)
    assert response.status_code == 403
    assert response.json() == {
        "detail": f"registering versions in project 'acme' is not allowed: your roles there ({role_fixture})"
    }


@pytest.mark.parametrize(
    ("content", "name", "reason"),
    [
        (PNG, "synthetic.csv", "unsupported file type: expected CSV, gzip-compressed CSV or Parquet"),
        (
            gzip.compress(b"a,b\n1,2\n"),
            "synthetic.parquet",
            "the content is csv.gz but the file is declared as parquet",
        ),
        (b"a,b\n1,2\n", "synthetic.parquet", "the content is csv but the file is declared as parquet"),
        (
            b"PAR1 not really parquet",
            "x.parquet",
            "the file starts like Parquet but is truncated (no PAR1 footer)",
        ),
        (gzip.compress(PNG), "x.csv.gz", "the gzip file does not contain CSV text"),
        (
            b"\x1f\x8b\x08\x00garbage",
            "x.csv.gz",
            "the file is not valid gzip: Compressed file ended before the end-of-stream marker was reached",
        ),
        (b"", "synthetic.csv", "the file is empty"),
        (b"a,b\n", "synthetic.csv", "the table has a header but no data rows"),
        (
            b"a,b\n1,2\n4,5,6\n",
            "synthetic.csv",
            "cannot parse the file as csv: CSV parse error: Expected 2 columns, got 3: 4,5,6",
        ),
        (b"a,a\n1,2\n", "synthetic.csv", "duplicate column names: a"),
    ],
)
def test_unsupported_lying_or_unparseable_files(pipeline, nothing_written, content, name, reason):
    response = _multipart(pipeline, content, name)
    assert response.status_code == 400
    assert response.json() == {"file": [reason]}


def test_upload_over_the_limit(pipeline, nothing_written, settings, adult_head_csv):
    settings.REGISTRY_MAX_UPLOAD_BYTES = 1000
    response = _multipart(pipeline, adult_head_csv)
    assert response.status_code == 413
    assert response.json() == {"file": ["larger than the upload limit of 1000 bytes"]}


BODY_TOO_BIG = {
    "detail": "the request body is larger than the limit of 1000 bytes (DATA_UPLOAD_MAX_MEMORY_SIZE; files in "
    "multipart uploads do not count towards it)"
}


def test_multipart_fields_over_the_body_limit_are_a_json_413(pipeline, nothing_written, settings, adult_head_csv):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    # The file comes first and is staged before the fields cross the limit: it is deleted too.
    body = {"file": upload(adult_head_csv), **registration_form(code_version="x" * 2000)}
    response = pipeline.client.post(URL, body, format="multipart")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == BODY_TOO_BIG


def test_a_json_body_over_the_limit_is_a_json_413(pipeline, nothing_written, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = pipeline.client.post(URL, registration_json(code_version="x" * 2000), format="json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == BODY_TOO_BIG


def test_file_and_uri_together(pipeline, nothing_written, adult_head_csv, data_root):
    response = _multipart(pipeline, adult_head_csv, storage_uri=(data_root / "x.csv").as_uri())
    assert response.status_code == 400
    assert response.json() == {"storage_uri": ["Give either a file or a storage_uri, not both."]}


def test_uploaded_file_with_declared_facts(pipeline, nothing_written, adult_head_csv):
    response = _multipart(pipeline, adult_head_csv, row_count="5")
    assert response.status_code == 400
    assert response.json() == {"row_count": ["Computed by the registry from the uploaded file."]}


@pytest.fixture
def outside_file(tmp_path, adult_head_csv):
    secret = tmp_path / "outside" / "secret.csv"
    secret.parent.mkdir()
    secret.write_bytes(adult_head_csv)
    return secret


def _uri_response(pipeline, uri):
    return pipeline.client.post(URL, registration_json(storage_uri=uri), format="json")


def test_uri_outside_the_data_roots(pipeline, nothing_written, outside_file):
    response = _uri_response(pipeline, outside_file.as_uri())
    assert response.status_code == 400
    assert response.json() == {"storage_uri": ["the path is outside the allowed data roots"]}


def test_dotdot_escape_from_a_data_root(pipeline, nothing_written, outside_file, data_root):
    uri = f"file://{data_root}/../outside/secret.csv"
    response = _uri_response(pipeline, uri)
    assert response.status_code == 400
    assert response.json() == {"storage_uri": ["the path is outside the allowed data roots"]}


def test_symlink_escape_from_a_data_root(pipeline, nothing_written, outside_file, data_root):
    link = data_root / "innocent.csv"
    os.symlink(outside_file, link)
    response = _uri_response(pipeline, link.as_uri())
    assert response.status_code == 400
    assert response.json() == {"storage_uri": ["the path is outside the allowed data roots"]}


def test_missing_file_outside_roots_does_not_reveal_existence(pipeline, nothing_written):
    response = _uri_response(pipeline, "file:///nonexistent/dir/x.csv")
    assert response.json() == {"storage_uri": ["the path is outside the allowed data roots"]}


def test_file_uri_naming_a_remote_host(pipeline, nothing_written):
    response = _uri_response(pipeline, "file://evil.example.com/data/x.csv")
    assert response.status_code == 400
    assert response.json() == {"storage_uri": ["file URIs must name a local path, not host 'evil.example.com'"]}


def test_plain_path_is_not_read_as_a_file(pipeline, nothing_written):
    # Only file:// URIs are ever opened; anything else is remote storage that needs declared facts.
    response = _uri_response(pipeline, "/etc/passwd")
    assert response.status_code == 400
    assert response.json() == {
        "fingerprint": ["Required: the registry cannot read this storage_uri itself."],
        "schema": ["Required: the registry cannot read this storage_uri itself."],
        "row_count": ["Required: the registry cannot read this storage_uri itself."],
    }


def test_another_projects_directory_under_the_data_root_is_off_limits(
    pipeline, nothing_written, data_root, adult_head_csv
):
    theirs = data_root.parent / "other" / "real_patients.csv"
    theirs.parent.mkdir()
    theirs.write_bytes(adult_head_csv)
    response = _uri_response(pipeline, theirs.as_uri())
    assert response.status_code == 400
    assert response.json() == {"storage_uri": ["the path is outside the allowed data roots"]}


def test_no_data_roots_configured(pipeline, nothing_written, settings, data_root, adult_head_csv):
    (data_root / "x.csv").write_bytes(adult_head_csv)
    settings.REGISTRY_DATA_ROOTS = []
    response = _uri_response(pipeline, (data_root / "x.csv").as_uri())
    assert response.json() == {
        "storage_uri": ["no data roots are configured (REGISTRY_DATA_ROOTS): file URIs are disabled"]
    }


def test_invalid_tokens_are_rejected(anonymous, nothing_written, adult_head_csv):
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer sdr_not-a-real-token")
    response = anonymous.post(URL, json.dumps(registration_json()), content_type="application/json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid, expired or revoked token."}


def test_more_files_than_a_registration_takes(pipeline, nothing_written, adult_head_csv):
    form = {
        **registration_form(),
        "file": upload(adult_head_csv),
        "extra1": upload(b"a\n1\n"),
        "extra2": upload(b"b\n2\n"),
    }
    response = pipeline.client.post(URL, form, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"file": ["at most 2 files per request"]}


def test_nul_characters_are_refused_before_the_database_sees_them(pipeline, nothing_written):
    body = json.dumps(registration_json(generator={"name": "x", "parameters": {"note": "a\u0000b"}}))
    response = pipeline.client.post(URL, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON strings may not contain NUL characters (\\u0000)"}


def test_counts_beyond_64_bits_are_a_400(pipeline, nothing_written):
    body = registration_json(
        storage_uri="s3://b/x.csv", fingerprint="a" * 64, schema=[{"name": "a", "dtype": "int64"}], row_count=10**20
    )
    response = pipeline.client.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json() == {"row_count": ["Ensure this value is less than or equal to 9223372036854775807."]}
