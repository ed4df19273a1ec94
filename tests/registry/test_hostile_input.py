"""Hostile and careless input (issue 13): a clear 4xx naming the field and the limit, never a 500, nothing left.

Each test here failed before the limits existed: the bomb was inflated whole, deep JSON raised RecursionError,
offsets beyond PostgreSQL's range reached the database, Django's own HTML pages answered under /api/.
"""

from __future__ import annotations

import gzip
import io
import json
from urllib.parse import quote

import pandas as pd
import pytest
from django.db import OperationalError

from tests.registry.test_api_register_errors import URL, _multipart
from tests.support import registration_form, registration_json, upload


def _csv(rows: int = 50, columns: int = 3, name: str = "c") -> bytes:
    header = ",".join(f"{name}{i}" for i in range(columns))
    body = "\n".join(",".join(str(r + i) for i in range(columns)) for r in range(rows))
    return (header + "\n" + body + "\n").encode()


# Decompression ------------------------------------------------------------------------------------------------


def test_a_gzip_bomb_is_a_413_naming_the_ratio_and_leaves_nothing(pipeline, nothing_written):
    inflated = b"a,b\n" + b"1,2\n" * 2_000_000  # 8 MB of text, about 10 KB compressed
    bomb = gzip.compress(inflated, compresslevel=9)
    assert len(inflated) > 200 * len(bomb)
    response = _multipart(pipeline, bomb, "synthetic.csv.gz")
    assert response.status_code == 413
    assert response.json() == {
        "file": [
            f"the gzip file inflates beyond 200 times its compressed size of {len(bomb)} bytes "
            "(REGISTRY_MAX_INFLATION_RATIO)"
        ]
    }


def test_the_absolute_inflation_cap_is_a_413_naming_its_setting(pipeline, nothing_written, settings):
    settings.REGISTRY_MAX_INFLATED_BYTES = 1000
    response = _multipart(pipeline, gzip.compress(_csv(rows=200)), "synthetic.csv.gz")
    assert response.status_code == 413
    assert response.json() == {"file": ["the gzip file inflates beyond 1000 bytes (REGISTRY_MAX_INFLATED_BYTES)"]}


def test_a_gzip_file_within_the_limits_registers(pipeline):
    response = _multipart(pipeline, gzip.compress(_csv(rows=200)), "synthetic.csv.gz")
    assert response.status_code == 201, response.json()
    assert response.json()["row_count"] == 200


# Columns, names, cells, encodings, nested types ---------------------------------------------------------------


def test_too_many_columns(pipeline, nothing_written, settings):
    settings.REGISTRY_MAX_COLUMNS = 5
    response = _multipart(pipeline, _csv(columns=6))
    assert response.status_code == 400
    assert response.json() == {"file": ["the table has 6 columns; at most 5 are accepted (REGISTRY_MAX_COLUMNS)"]}


def test_a_column_name_too_long(pipeline, nothing_written):
    response = _multipart(pipeline, _csv(name="x" * 300))
    assert response.status_code == 400
    assert response.json() == {
        "file": [
            "the name of column 1 is 301 characters long; at most 256 are accepted (REGISTRY_MAX_COLUMN_NAME_CHARS)"
        ]
    }


def test_a_cell_too_large(pipeline, nothing_written, settings):
    settings.REGISTRY_MAX_CELL_BYTES = 100
    content = b"a,b\n1,short\n2," + "é".encode() * 60 + b"\n"  # 60 characters, 120 bytes
    response = _multipart(pipeline, content)
    assert response.status_code == 400
    assert response.json() == {
        "file": [
            "a cell of column 'b' (data row 2) is 120 bytes long; at most 100 are accepted (REGISTRY_MAX_CELL_BYTES)"
        ]
    }


def test_invalid_utf8_after_the_sniffed_head(pipeline, nothing_written):
    rows = b"".join(f"{i},value{i}\n".encode() for i in range(20_000))  # well past the 64 KiB sniffed
    content = b"a,b\n" + rows + b"20000,bad\xff\xfe\n"
    response = _multipart(pipeline, content)
    assert response.status_code == 400
    assert response.json() == {"file": ["column 'b' (column 2) has bytes that are not UTF-8 in data row 20001"]}


def test_nested_parquet_columns_are_refused_with_the_column_named(pipeline, nothing_written):
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table({"id": [1, 2], "tags": [["a"], ["b", "c"]]}), buffer)
    response = _multipart(pipeline, buffer.getvalue(), "synthetic.parquet")
    assert response.status_code == 400
    assert response.json() == {
        "file": [
            "column 'tags' is of the nested Parquet type list<element: string>; only flat columns (numbers, text, "
            "booleans, dates and times) can be registered: flatten it into columns first"
        ]
    }


def test_the_limits_hold_for_evaluation_references_too(pipeline, settings, tmp_path):
    from registry.services.evaluation_runs import _read

    settings.REGISTRY_MAX_INFLATED_BYTES = 1000
    path = tmp_path / "reference.csv.gz"
    path.write_bytes(gzip.compress(_csv(rows=200)))
    from core.errors import PayloadTooLarge

    with pytest.raises(PayloadTooLarge) as raised:
        _read(path, "reference")
    assert raised.value.as_data() == {
        "reference": ["the gzip file inflates beyond 1000 bytes (REGISTRY_MAX_INFLATED_BYTES)"]
    }


# JSON ---------------------------------------------------------------------------------------------------------


DEPTH = {"detail": "JSON may nest at most 32 levels of objects and arrays (REGISTRY_MAX_JSON_DEPTH)"}


@pytest.mark.parametrize("depth", [33, 450, 100_000])
def test_deep_json_bodies_are_a_400_naming_the_limit(pipeline, nothing_written, depth):
    nested = "[" * depth + "]" * depth
    body = json.dumps(registration_json()).replace('"beta"', nested)
    response = pipeline.client.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == DEPTH


def test_deep_json_in_a_multipart_field(pipeline, nothing_written, adult_head_csv):
    nested = "[" * 5000 + "]" * 5000
    form = registration_form(generator=f'{{"name": "x", "parameters": {{"a": {nested}}}}}')
    response = pipeline.client.post(URL, {**form, "file": upload(adult_head_csv)}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"generator": [DEPTH["detail"]]}


def test_deep_json_in_a_lineage_event(pipeline):
    nested = "[" * 5000 + "]" * 5000
    response = pipeline.client.post("/api/v1/lineage", f'{{"a": {nested}}}', content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "the body is not valid JSON: " + DEPTH["detail"]}


def test_more_multipart_fields_than_allowed_is_a_json_400(pipeline, nothing_written, settings, adult_head_csv):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 20
    form = {**registration_form(), **{f"extra{i}": "x" for i in range(30)}, "file": upload(adult_head_csv)}
    response = pipeline.client.post(URL, form, format="multipart")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "the request has more than 20 form fields (DATA_UPLOAD_MAX_NUMBER_FIELDS)"}


# Date-times -----------------------------------------------------------------------------------------------------


OUT_OF_RANGE = "the date-time is out of range once in UTC (years 1 to 9999)"


@pytest.mark.parametrize(
    ("role", "path", "parameter"),
    [
        ("pipeline", "/api/v1/versions/", "created_after"),
        ("pipeline", "/api/v1/versions/", "created_before"),
        ("auditor", "/api/v1/audit-events/", "occurred_after"),
        ("auditor", "/api/v1/audit-events/", "occurred_before"),
    ],
)
def test_offsets_beyond_postgresqls_range_reach_it_in_utc_and_overflow_is_a_400(request, role, path, parameter):
    member = request.getfixturevalue(role)
    # +20:00 is a valid RFC 3339 offset that PostgreSQL refuses (a DataError, a 500 before): sent in UTC.
    assert member.client.get(f"{path}?{parameter}={quote('2026-01-01T00:00:00+20:00')}").status_code == 200
    response = member.client.get(f"{path}?{parameter}={quote('9999-12-31T23:00:00-05:00')}")
    assert response.status_code == 400
    assert response.json() == {parameter: [OUT_OF_RANGE]}


def test_offsets_filter_in_utc(pipeline, adult_head_csv):
    assert _multipart(pipeline, adult_head_csv).status_code == 201
    for value, count in (("2000-01-01T00:00:00+23:30", 1), ("2999-01-01T00:00:00-15:59", 0)):
        response = pipeline.client.get(f"/api/v1/versions/?created_after={quote(value)}")
        assert response.status_code == 200
        assert response.json()["count"] == count


def test_lineage_as_of_out_of_range(pipeline):
    response = pipeline.client.get(f"/api/v1/lineage?nodeId=dataset:pg:d0&asOf={quote('0001-01-01T00:00:00+05:00')}")
    assert response.status_code == 400
    assert response.json() == {"asOf": [OUT_OF_RANGE]}


# Errors outside views -------------------------------------------------------------------------------------------


def test_a_lost_database_outside_a_view_is_a_json_503(pipeline, monkeypatch):
    import core.middleware

    def unavailable(request):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(core.middleware, "client_ip", unavailable)
    pipeline.client.raise_request_exception = False  # answer as a server would, not re-raise into the test
    response = pipeline.client.get("/api/v1/versions/")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "5"
    assert response.json() == {"detail": "the database is unavailable; retry later"}


def test_an_unexpected_error_outside_a_view_is_json_with_the_request_id(pipeline, monkeypatch, settings):
    import core.middleware

    settings.DEBUG = True  # a traceback page in DEBUG: still JSON under /api/

    def broken(request):
        raise RuntimeError("boom")

    monkeypatch.setattr(core.middleware, "client_ip", broken)
    pipeline.client.raise_request_exception = False
    response = pipeline.client.get("/api/v1/versions/", HTTP_X_REQUEST_ID="probe-1")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error; quote request id probe-1 when reporting it"}


def test_an_unknown_api_path_is_a_json_404(pipeline):
    response = pipeline.client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


# Exports --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "written"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'quoted", "''quoted"),
        ("plain", "plain"),
    ],
)
def test_csv_cells_that_would_run_as_formulas_are_neutralised(stored, written):
    from reports.exports.tables import cell, event_line

    assert cell(stored) == written
    assert cell(-2.5) == -2.5 and cell(7) == 7  # numbers untouched
    row = (1, "2026-01-01T00:00:00+00:00", None, stored, "", "", "", "", "", None, "", "", "", "", "", "0", "f")
    parsed = pd.read_csv(io.StringIO(event_line(row)), header=None, dtype=str, keep_default_na=False)
    assert parsed.iloc[0, 3] == written
    assert written[1:] == stored if written != stored else True  # reversible: drop one leading '


# Control and bidirectional characters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "character"),
    [
        ({"code_version": "git:abc\u202etxt.exe"}, "code_version", "U+202E at position 8"),
        ({"dataset": "adult\x1b[31mred"}, "dataset", "U+001B at position 6"),
        ({"code_version": "v1\r\nforged: line"}, "code_version", "U+000D at position 3"),
    ],
)
def test_control_and_bidi_characters_in_names_are_a_400_naming_the_field(
    pipeline, nothing_written, overrides, field, character
):
    response = pipeline.client.post(URL, registration_json(**overrides), format="json")
    assert response.status_code == 400
    assert response.json() == {
        field: [f"must not contain control or bidirectional formatting characters ({character})"]
    }


def test_nested_names_are_checked_too(pipeline, nothing_written):
    body = registration_json(
        generator={"name": "ctgan\u2066x", "version": "1"},
        sources=[{"namespace": "postgres://db", "name": "public.adult\x07"}],
    )
    response = pipeline.client.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "generator": {
            "name": ["must not contain control or bidirectional formatting characters (U+2066 at position 6)"]
        },
        "sources": {
            "0": {"name": ["must not contain control or bidirectional formatting characters (U+0007 at position 13)"]}
        },
    }


def test_free_text_may_hold_line_breaks_but_not_escapes(pipeline, adult_head_csv):
    ok = _multipart(pipeline, adult_head_csv, dataset_details='{"description": "line one\\nline two\\ttabbed"}')
    assert ok.status_code == 201, ok.json()
    bad = pipeline.client.post(
        URL, registration_json(dataset="other", dataset_details={"description": "x\x1b[2J"}), format="json"
    )
    assert bad.status_code == 400
    assert bad.json() == {
        "dataset_details": {
            "description": ["must not contain control or bidirectional formatting characters (U+001B at position 2)"]
        }
    }


def test_control_characters_in_a_column_name(pipeline, nothing_written):
    response = _multipart(pipeline, b"a,b\x1b[0m\n1,2\n")
    assert response.status_code == 400
    assert response.json() == {
        "file": [
            "the name of column 2 must not contain control or bidirectional formatting characters (U+001B at position 2)"
        ]
    }


def test_control_characters_in_a_lineage_job_name(pipeline):
    event = {
        "eventType": "COMPLETE",
        "eventTime": "2026-11-21T10:00:00Z",
        "producer": "https://example.com/p",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "3f5e8f3e-9a4e-4c1b-8d6b-2f0d3c1e9a11"},
        "job": {"namespace": "etl", "name": "nightly\u202ebuild"},
        "inputs": [],
        "outputs": [],
    }
    response = pipeline.client.post("/api/v1/lineage", event, format="json")
    assert response.status_code == 422  # the lineage endpoint's status for an invalid event, as Marquez's
    assert "job.name" in json.dumps(response.json())
    assert "U+202E at position 8" in json.dumps(response.json())


# Pagination -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("page_size=false", {"page_size": ["must be a whole number of 1 or more (larger sizes are capped)"]}),
        ("page_size=0", {"page_size": ["must be a whole number of 1 or more (larger sizes are capped)"]}),
        ("page_size=5&page_size=6", {"page_size": ["given more than once"]}),
        ("page=1&page=2", {"page": ["given more than once"]}),
    ],
)
def test_malformed_pagination_is_a_400(pipeline, query, expected):
    response = pipeline.client.get(f"/api/v1/versions/?{query}")
    assert response.status_code == 400
    assert response.json() == expected


def test_every_operation_documents_its_errors(pipeline):
    schema = pipeline.client.get("/api/schema/?format=json").json()
    assert schema["components"]["schemas"]["Error"]["properties"] == {"detail": {"type": "string"}}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert {"400", "503", "414"} <= set(operation["responses"]), (method, path)
    dataset = schema["components"]["schemas"]["Dataset"]["properties"]
    assert dataset["current_version"]["nullable"] is True
    policy = schema["components"]["schemas"]["Policy"]["properties"]
    assert policy["project"]["nullable"] is True


def test_the_browsable_apis_own_error_pages_are_kept(pipeline):
    response = pipeline.client.get("/api/v1/versions/?page_size=false", HTTP_ACCEPT="text/html")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"must be a whole number of 1 or more" in response.content


def test_neutralised_audit_csv_rows_still_verify_once_the_prefix_is_removed():
    import csv

    from reports.exports.chain import row_hash
    from reports.exports.tables import event_line

    stored = (7, "2026-01-01T00:00:00+00:00", 3, "-alice", "token:sdr_x", "=cmd", "t", "+1", "@x", 2, "acme",
              "", '{"a":1}', "'quoted", "", "0" * 64, "")  # fmt: skip
    stored = (*stored[:-1], row_hash(stored))
    cells = next(csv.reader(io.StringIO(event_line(stored))))
    assert cells[3] == "'-alice" and cells[5] == "'=cmd" and cells[13] == "''quoted"
    restored = []
    for index, cell in enumerate(cells):
        if index in (0, 2, 9):
            restored.append(int(cell) if cell else None)
        else:
            restored.append(cell[1:] if cell.startswith("'") else cell)
    assert tuple(restored) == stored
    assert row_hash(tuple(restored)) == stored[-1]
