"""POST /api/v1/versions/: uploads, file URIs and declared facts; idempotency and provenance conflicts."""

import gzip
import io
import json

import pandas as pd
import pytest

from core.models import AuditEvent
from registry.models import Dataset, DatasetVersion, Generator, SourceDataset
from registry.tables.schema import schema_hash
from tests.support import registration_form, registration_json, upload

URL = "/api/v1/versions/"
ADULT_SCHEMA = [
    {"name": "age", "dtype": "int64", "sdtype": "numerical"},
    {"name": "workclass", "dtype": "object", "sdtype": "categorical"},
    {"name": "fnlwgt", "dtype": "int64", "sdtype": "numerical"},
    {"name": "education", "dtype": "object", "sdtype": "categorical"},
    {"name": "education_num", "dtype": "int64", "sdtype": "numerical"},
    {"name": "marital_status", "dtype": "object", "sdtype": "categorical"},
    {"name": "occupation", "dtype": "object", "sdtype": "categorical"},
    {"name": "relationship", "dtype": "object", "sdtype": "categorical"},
    {"name": "race", "dtype": "object", "sdtype": "categorical"},
    {"name": "sex", "dtype": "object", "sdtype": "categorical"},
    {"name": "capital_gain", "dtype": "int64", "sdtype": "numerical"},
    {"name": "capital_loss", "dtype": "int64", "sdtype": "numerical"},
    {"name": "hours_per_week", "dtype": "int64", "sdtype": "numerical"},
    {"name": "native_country", "dtype": "object", "sdtype": "categorical"},
    {"name": "income", "dtype": "object", "sdtype": "categorical"},
]


def _sha256(content: bytes) -> str:
    import hashlib

    return hashlib.sha256(content).hexdigest()


def test_a_tab_separated_upload_gets_the_same_schema_as_its_csv(pipeline, adult):
    tsv = adult.head(200).to_csv(sep="\t", index=False).encode()
    response = pipeline.client.post(
        URL, {**registration_form(), "file": upload(tsv, "synthetic.tsv")}, format="multipart"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["format"], body["row_count"], body["column_count"]) == ("csv", 200, 15)
    assert body["schema"] == ADULT_SCHEMA


def test_multipart_csv_upload_registers_a_version_with_computed_facts(pipeline, adult_head_csv):
    response = pipeline.client.post(URL, {**registration_form(), "file": upload(adult_head_csv)}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["project"] == "acme"
    assert body["dataset"] == "adult-synth"
    assert body["number"] == 1
    assert body["status"] == "registered"
    assert body["fingerprint"] == _sha256(adult_head_csv)
    assert body["fingerprint_source"] == "computed"
    assert (body["row_count"], body["column_count"], body["byte_count"]) == (200, 15, len(adult_head_csv))
    assert body["format"] == "csv"
    assert body["schema"] == ADULT_SCHEMA
    assert body["schema_hash"] == schema_hash(ADULT_SCHEMA)
    assert body["generator"]["name"] == "sdv.GaussianCopulaSynthesizer"
    assert body["generator"]["version"] == "1.17.0"
    assert body["generator_parameters"] == {"default_distribution": "beta"}
    assert body["seed"] == 42
    assert body["code_version"] == "git:4f2a9c1"
    assert body["sources"] == [{"namespace": "postgres://warehouse:5432", "name": "public.adult", "version": ""}]
    assert body["registered_by"] == "pipe"
    assert body["registered_via"].startswith("token:")
    assert body["stored"] is True
    version = DatasetVersion.objects.get(pk=body["id"])
    assert version.stored_file == f"objects/{body['fingerprint'][:2]}/{body['fingerprint']}.csv"
    actions = list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True))
    assert actions[-4:] == ["dataset.created", "generator.created", "source.created", "version.registered"]
    registered = AuditEvent.objects.get(action="version.registered")
    assert registered.after["fingerprint"] == body["fingerprint"]
    assert registered.actor_username == "pipe"


def test_same_bytes_again_return_200_with_the_same_version(pipeline, adult_head_csv):
    first = pipeline.client.post(URL, {**registration_form(), "file": upload(adult_head_csv)}, format="multipart")
    events = AuditEvent.objects.count()
    again = pipeline.client.post(URL, {**registration_form(), "file": upload(adult_head_csv)}, format="multipart")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert DatasetVersion.objects.count() == 1
    assert AuditEvent.objects.count() == events


def test_new_bytes_become_the_next_version_number(pipeline, adult_head_csv):
    pipeline.client.post(URL, {**registration_form(), "file": upload(adult_head_csv)}, format="multipart")
    other = adult_head_csv.replace(b"Private", b"Public", 1)
    response = pipeline.client.post(URL, {**registration_form(), "file": upload(other)}, format="multipart")
    assert response.status_code == 201
    assert response.json()["number"] == 2
    assert Generator.objects.count() == 1
    assert SourceDataset.objects.count() == 1


def test_same_bytes_with_different_provenance_is_a_conflict(pipeline, adult_head_csv):
    first = pipeline.client.post(URL, {**registration_form(), "file": upload(adult_head_csv)}, format="multipart")
    events = AuditEvent.objects.count()
    form = registration_form(
        generator='{"name": "sdv.GaussianCopulaSynthesizer", "version": "1.17.0", "seed": 7}',
        code_version="git:0000000",
    )
    response = pipeline.client.post(URL, {**form, "file": upload(adult_head_csv)}, format="multipart")
    assert response.status_code == 409
    version_id = first.json()["id"]
    assert response.json() == {
        "detail": f"these bytes are already registered as acme/adult-synth v1 (id {version_id}) with different "
        "provenance: code_version, generator.parameters, generator.seed",
        "version": version_id,
        "differing_fields": ["code_version", "generator.parameters", "generator.seed"],
    }
    assert AuditEvent.objects.count() == events


def test_gzip_csv_and_parquet_uploads_are_read(pipeline, adult, adult_head_csv):
    gz = gzip.compress(adult_head_csv, mtime=0)
    response = pipeline.client.post(
        URL, {**registration_form(dataset="gz"), "file": upload(gz, "synthetic.csv.gz")}, format="multipart"
    )
    assert response.status_code == 201, response.content
    assert (response.json()["format"], response.json()["row_count"]) == ("csv.gz", 200)

    buffer = io.BytesIO()
    adult.head(50).to_parquet(buffer, index=False)
    response = pipeline.client.post(
        URL,
        {**registration_form(dataset="pq"), "file": upload(buffer.getvalue(), "synthetic.parquet")},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["format"], body["row_count"], body["column_count"]) == ("parquet", 50, 15)
    assert body["schema"][0] == {"name": "age", "dtype": "int64", "sdtype": "numerical"}


def test_declared_format_wins_over_a_missing_extension(pipeline, adult_head_csv):
    form = {**registration_form(), "format": "csv", "file": upload(adult_head_csv, "export")}
    response = pipeline.client.post(URL, form, format="multipart")
    assert response.status_code == 201
    assert response.json()["format"] == "csv"


def test_json_with_a_file_uri_under_a_data_root(pipeline, data_root, adult_head_csv):
    path = data_root / "nightly" / "synthetic.csv"
    path.parent.mkdir()
    path.write_bytes(adult_head_csv)
    body = registration_json(storage_uri=path.as_uri())
    response = pipeline.client.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    result = response.json()
    assert (result["fingerprint"], result["fingerprint_source"]) == (_sha256(adult_head_csv), "computed")
    assert (result["storage_uri"], result["stored"], result["row_count"]) == (path.as_uri(), False, 200)


def test_json_file_uri_with_a_wrong_declared_fingerprint_is_refused(pipeline, data_root, adult_head_csv):
    path = data_root / "synthetic.csv"
    path.write_bytes(adult_head_csv)
    body = registration_json(storage_uri=path.as_uri(), fingerprint="a" * 64)
    response = pipeline.client.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "fingerprint": [f"does not match the file: the registry computed {_sha256(adult_head_csv)}"]
    }
    assert DatasetVersion.objects.count() == 0


def test_json_with_declared_facts_for_remote_storage(pipeline):
    body = registration_json(
        storage_uri="s3://synthetic-bucket/adult/v3.parquet",
        fingerprint="b" * 64,
        schema=[
            {"name": "age", "dtype": "int64"},
            {"name": "sex", "dtype": "object", "sdtype": "categorical"},
        ],
        row_count=32561,
        byte_count=1048576,
    )
    response = pipeline.client.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    result = response.json()
    assert result["fingerprint_source"] == "declared"
    assert result["schema"] == [
        {"name": "age", "dtype": "int64", "sdtype": "numerical"},
        {"name": "sex", "dtype": "object", "sdtype": "categorical"},
    ]
    assert (result["row_count"], result["column_count"], result["byte_count"]) == (32561, 2, 1048576)
    assert (result["format"], result["storage_uri"]) == ("parquet", "s3://synthetic-bucket/adult/v3.parquet")


def test_dataset_details_apply_when_the_dataset_is_created(pipeline, adult_head_csv):
    details = {"description": "Adult, synthetic", "license": "CC-BY-4.0", "tags": ["census"]}
    form = {**registration_form(dataset_details=json.dumps(details)), "file": upload(adult_head_csv)}
    assert pipeline.client.post(URL, form, format="multipart").status_code == 201
    dataset = Dataset.objects.get(name="adult-synth")
    assert (dataset.description, dataset.license, dataset.tags) == (
        "Adult, synthetic",
        "CC-BY-4.0",
        ["census"],
    )


def test_download_returns_the_registered_bytes(pipeline, adult_head_csv):
    created = pipeline.client.post(URL, {**registration_form(), "file": upload(adult_head_csv)}, format="multipart")
    response = pipeline.client.get(f"{URL}{created.json()['id']}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == adult_head_csv
    assert response["Content-Disposition"] == 'attachment; filename="adult-synth-v1.csv"'


def test_uploaded_file_lands_in_the_content_store_and_staging_is_empty(pipeline, adult_head_csv, settings):
    pipeline.client.post(URL, {**registration_form(), "file": upload(adult_head_csv)}, format="multipart")
    stored = list((settings.REGISTRY_STORAGE_ROOT / "objects").rglob("*.csv"))
    assert [p.read_bytes() for p in stored] == [adult_head_csv]
    assert list((settings.REGISTRY_STORAGE_ROOT / "staging").iterdir()) == []


@pytest.mark.parametrize("header", ["Bearer", "Token", "bearer"])
def test_both_token_keywords_authenticate(pipeline, anonymous, adult_head_csv, header):
    anonymous.credentials(HTTP_AUTHORIZATION=f"{header} {pipeline.token}")
    response = anonymous.post(URL, {**registration_form(), "file": upload(adult_head_csv)}, format="multipart")
    assert response.status_code == 201


def test_parsed_csv_round_trips_through_pandas(pipeline, adult):
    # A CSV with quoting, a missing value and unicode survives inspection with the right counts.
    frame = pd.DataFrame({"name": ['Zoë "Z" Smith', "Ann, Jr.", None], "score": [1.5, None, 3.0]})
    content = frame.to_csv(index=False).encode()
    response = pipeline.client.post(URL, {**registration_form(), "file": upload(content)}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["row_count"] == 3
    assert response.json()["schema"] == [
        {"name": "name", "dtype": "object", "sdtype": "categorical"},
        {"name": "score", "dtype": "float64", "sdtype": "numerical"},
    ]
