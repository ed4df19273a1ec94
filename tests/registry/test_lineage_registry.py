"""OpenLineage and the registry: the real client registers versions; the registry emits its own events."""

import datetime as dt
import json
import uuid
from xml.etree import ElementTree

import attr
import pandas as pd
import pytest
from django.utils import timezone
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import DatasetFacet, schema_dataset

from core.audit import verify_chain
from registry.lineage import emit
from registry.lineage.diagram import version_diagram
from registry.models import DatasetVersion, LineageEvent, LineageOutbox
from tests.factories import ProjectFactory
from tests.governance.test_workflow import decide
from tests.registry.test_api_evaluations import _csv, _evaluate
from tests.registry.test_lineage import post, run_event
from tests.support import make_member, registration_form, staff_client, upload


@attr.define
class SyntheticRegistryGeneratorDatasetFacet(DatasetFacet):
    name: str
    version: str = ""
    parameters: dict = attr.field(factory=dict)
    seed: int | None = None
    codeVersion: str = ""

    @staticmethod
    def _get_schema() -> str:
        return "http://127.0.0.1:8000/openlineage/facets/1-0-0/SyntheticRegistryGeneratorDatasetFacet.json"


@attr.define
class SyntheticRegistryContentDatasetFacet(DatasetFacet):
    fingerprint: str = ""
    schema: list = attr.field(factory=list)
    rowCount: int | None = None
    storageUri: str = ""

    @staticmethod
    def _get_schema() -> str:
        return "http://127.0.0.1:8000/openlineage/facets/1-0-0/SyntheticRegistryContentDatasetFacet.json"


def _client(url, token):
    return OpenLineageClient(
        config={
            "transport": {
                "type": "http",
                "url": url,
                "endpoint": "api/v1/lineage",
                "auth": {"type": "api_key", "apiKey": token},
                "compression": "gzip",
            }
        }
    )


@pytest.mark.django_db(transaction=True)
def test_the_real_client_registers_a_synthetic_version(live_server, settings, tmp_path, adult_head_csv):
    member = make_member(ProjectFactory(slug="acme"), "pipeline", "pipe")
    settings.REGISTRY_DATA_ROOTS = [(tmp_path / "lake").resolve()]
    data = (tmp_path / "lake" / "acme").resolve()  # the project's own directory under the data root
    data.mkdir(parents=True)
    (data / "adult_ctgan.csv").write_bytes(adult_head_csv)
    client = _client(live_server.url, member.token)
    run, job = Run(runId=str(uuid.uuid4())), Job(namespace="airflow", name="synth.adult_ctgan")
    inputs = [InputDataset(namespace="postgres://warehouse:5432", name="public.adult")]
    now = dt.datetime.now(dt.UTC)
    client.emit(
        RunEvent(
            eventType=RunState.START,
            eventTime=now.isoformat(),
            run=run,
            job=job,
            inputs=inputs,
            producer="https://example.com/pipeline",
        )
    )
    output = OutputDataset(
        namespace="file",
        name=str(data / "adult_ctgan.csv"),
        facets={
            "schema": schema_dataset.SchemaDatasetFacet(
                fields=[schema_dataset.SchemaDatasetFacetFields(name="age", type="int64")]
            ),
            "syntheticRegistry_generator": SyntheticRegistryGeneratorDatasetFacet(
                name="ctgan.CTGAN", version="0.10.1", parameters={"epochs": 300}, seed=7, codeVersion="git:abc1234"
            ),
        },
    )
    client.emit(
        RunEvent(
            eventType=RunState.COMPLETE,
            eventTime=(now + dt.timedelta(seconds=5)).isoformat(),
            run=run,
            job=job,
            inputs=inputs,
            outputs=[output],
            producer="https://example.com/pipeline",
        )
    )
    assert LineageEvent.objects.count() == 2
    version = DatasetVersion.objects.get()
    assert (version.dataset.name, version.fingerprint_source, version.row_count) == ("adult_ctgan.csv", "computed", 200)
    assert (version.generator.name, version.seed, version.code_version) == ("ctgan.CTGAN", 7, "git:abc1234")
    assert str(version.lineage_run_id) == run.runId
    assert [(s.namespace, s.name) for s in version.sources.all()] == [("postgres://warehouse:5432", "public.adult")]
    assert (version.dataset.lineage_namespace, version.dataset.lineage_name) == ("file", str(data / "adult_ctgan.csv"))
    graph = member.client.get(f"/api/v1/lineage?nodeId=dataset:file:{data / 'adult_ctgan.csv'}").json()["graph"]
    assert [n["id"] for n in graph] == [
        "dataset:file:" + str(data / "adult_ctgan.csv"),
        "dataset:postgres://warehouse:5432:public.adult",
        "job:airflow:synth.adult_ctgan",
    ]
    assert verify_chain().ok


@pytest.mark.django_db
def test_declared_content_facet_registers_and_a_resend_is_a_no_op(pipeline):
    facets = {
        "syntheticRegistry_generator": {
            "name": "sdv.GaussianCopula",
            "version": "1.17",
            "seed": 1,
            "dataset": "adult-gc",
        },
        "syntheticRegistry_content": {
            "fingerprint": "c" * 64,
            "schema": [{"name": "age", "dtype": "int64"}],
            "rowCount": 32561,
            "format": "parquet",
        },
    }
    event = run_event("airflow:gen", inputs=["pg:adult"], outputs=[("s3://bucket", "adult.parquet", facets)])
    response = pipeline.client.post("/api/v1/lineage/batch", [event], format="json")
    assert response.status_code == 201
    version = DatasetVersion.objects.get()
    assert response.json()["registered"] == [str(version.pk)]
    assert (version.dataset.name, version.fingerprint_source, version.storage_uri) == (
        "adult-gc",
        "declared",
        "s3://bucket/adult.parquet",
    )
    assert post(pipeline, event).status_code == 201
    assert DatasetVersion.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("facets", "expected"),
    [
        (
            {"syntheticRegistry_generator": {"name": "x", "seed": "seven"}},
            {"outputs[0].facets.syntheticRegistry_generator.seed": ["must be a 64-bit integer or null"]},
        ),
        (
            {"syntheticRegistry_generator": {"name": "x"}},
            {
                "outputs[0].facets.syntheticRegistry_content.fingerprint": [
                    "is required: declare fingerprint, schema and rowCount, or give a file:// storageUri under a data root"
                ]
            },
        ),
        (
            {
                "syntheticRegistry_generator": {"name": "x"},
                "syntheticRegistry_content": {"storageUri": "file:///etc/passwd"},
            },
            {"outputs[0].facets.syntheticRegistry_content.storage_uri": ["the path is outside the allowed data roots"]},
        ),
    ],
)
def test_bad_registry_facets_are_422_and_nothing_is_stored(pipeline, facets, expected):
    event = run_event("airflow:gen", outputs=[("s3", "x", facets)])
    response = post(pipeline, event)
    assert (response.status_code, response.json()) == (422, expected)
    assert LineageEvent.objects.count() == 0
    assert DatasetVersion.objects.count() == 0
    # In a batch, the error names the event too (and the good event beside it is not stored either).
    batch = [run_event("airflow:fine", inputs=["pg:a"]), event]
    response = pipeline.client.post("/api/v1/lineage/batch", batch, format="json")
    assert (response.status_code, response.json()) == (422, {f"[1].{k}": v for k, v in expected.items()})
    assert LineageEvent.objects.count() == 0


@pytest.mark.django_db
def test_only_complete_runs_register(pipeline):
    facets = {"syntheticRegistry_generator": {"name": "x"}}
    assert post(pipeline, run_event("airflow:gen", state="START", outputs=[("s3", "x", facets)])).status_code == 201
    assert DatasetVersion.objects.count() == 0


def registry_facets(dataset: str, fingerprint: str = "d" * 64) -> dict:
    """The registry's facets on an output: generator and declared content (a 5-row, one-column table)."""
    return {
        "syntheticRegistry_generator": {"name": "gen", "dataset": dataset},
        "syntheticRegistry_content": {
            "fingerprint": fingerprint,
            "schema": [{"name": "a", "dtype": "int64"}],
            "rowCount": 5,
        },
    }


@pytest.mark.django_db
def test_revocation_impact_lists_consumers_known_from_lineage(project, pipeline, reviewer):
    facets = registry_facets("claims")
    post(pipeline, run_event("airflow:gen", inputs=["pg:claims_real"], outputs=[("s3", "claims.parquet", facets)]))
    post(pipeline, run_event("mlflow:train_fraud_model", inputs=["s3:claims.parquet"]))
    version = DatasetVersion.objects.get()
    DatasetVersion.objects.filter(pk=version.pk).update(status="approved")
    response = decide(reviewer, version, "revoke", comment="privacy incident")
    consumers = response.json()["impact"]["consumers"]
    assert consumers == [
        {
            "type": "job",
            "id": "job:mlflow:train_fraud_model",
            "namespace": "mlflow",
            "name": "train_fraud_model",
            "reads": ["dataset:s3:claims.parquet"],
        }
    ]


@pytest.fixture
def emission_to_file(monkeypatch, tmp_path):
    path = tmp_path / "emitted.jsonl"
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "file")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH", str(path))
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__APPEND", "true")
    emit._client.cache_clear()
    yield path
    emit._client.cache_clear()


@pytest.mark.django_db
def test_registration_is_emitted_with_standard_and_registry_facets(
    pipeline, adult_head_csv, emission_to_file, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = pipeline.client.post(
            "/api/v1/versions/", {**registration_form(), "file": upload(adult_head_csv)}, format="multipart"
        )
    assert response.status_code == 201
    events = [json.loads(line) for line in emission_to_file.read_text().splitlines()]
    assert len(events) == 1
    event = events[0]
    assert (event["eventType"], event["job"]["name"]) == ("COMPLETE", "synthetic_registry.register")
    output = event["outputs"][0]
    assert (output["namespace"], output["name"]) == ("synthetic-registry", "acme/adult-synth")
    assert set(output["facets"]) == {"schema", "version", "ownership", "syntheticRegistry_generator"}
    assert output["facets"]["version"]["datasetVersion"] == response.json()["id"]
    assert output["facets"]["syntheticRegistry_generator"]["_schemaURL"] == (
        "http://127.0.0.1:8000/openlineage/facets/1-0-0/SyntheticRegistryGeneratorDatasetFacet.json"
    )
    assert event["inputs"] == [
        {"facets": {}, "inputFacets": {}, "name": "public.adult", "namespace": "postgres://warehouse:5432"}
    ]
    assert LineageOutbox.objects.get().state == "sent"


@pytest.mark.django_db
def test_emission_failure_never_fails_the_request_and_is_retried(
    pipeline, adult_head_csv, emission_to_file, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(event):
        raise ConnectionError("lineage backend down")

    monkeypatch.setattr(emit._client().transport, "emit", broken)
    with django_capture_on_commit_callbacks(execute=True):
        response = pipeline.client.post(
            "/api/v1/versions/", {**registration_form(), "file": upload(adult_head_csv)}, format="multipart"
        )
    assert response.status_code == 201
    row = LineageOutbox.objects.get()
    assert (row.state, row.attempts, row.last_error) == ("pending", 1, "ConnectionError: lineage backend down")
    monkeypatch.undo()
    emit._client.cache_clear()
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "file")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH", str(emission_to_file))
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__APPEND", "true")
    # Not due yet: the failed event waits a minute before its next attempt.
    assert emit.send_outbox() == {"sent": 0, "failed": 0}
    LineageOutbox.objects.update(next_attempt_at=timezone.now())
    assert emit.send_outbox() == {"sent": 1, "failed": 0}
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("sent", 2)


@pytest.mark.django_db
def test_an_event_that_keeps_failing_backs_off_gives_up_and_never_blocks_newer_ones(emission_to_file, monkeypatch):
    poison = LineageOutbox.objects.create(event={"poison": True})
    good = LineageOutbox.objects.create(event={"eventType": "COMPLETE"})
    sent = []

    def transport(event):
        if event.get("poison"):
            raise ValueError("422 from the backend")
        sent.append(event)

    monkeypatch.setattr(emit._client().transport, "emit", transport)
    assert emit.send_outbox(limit=1) == {"sent": 0, "failed": 1}
    # The poison event waits; the next pass sends the newer event instead of retrying the old one first.
    assert emit.send_outbox(limit=1) == {"sent": 1, "failed": 0}
    assert sent == [good.event]
    assert [emit.retry_delay(n).total_seconds() for n in (1, 2, 3, 10, 11)] == [60, 120, 240, 21600, 21600]
    for _ in range(2, emit.OUTBOX_MAX_SENDS + 1):
        LineageOutbox.objects.filter(pk=poison.pk).update(next_attempt_at=timezone.now())
        assert emit.send_outbox() == {"sent": 0, "failed": 1}
    poison.refresh_from_db()
    assert (poison.state, poison.attempts, poison.last_error) == ("gave_up", 12, "ValueError: 422 from the backend")
    LineageOutbox.objects.filter(pk=poison.pk).update(next_attempt_at=timezone.now())
    assert emit.send_outbox() == {"sent": 0, "failed": 0}


@pytest.mark.django_db
def test_a_broker_outage_after_commit_does_not_fail_the_request(
    pipeline, adult_head_csv, emission_to_file, monkeypatch, django_capture_on_commit_callbacks
):
    from registry import tasks

    def down(**kwargs):
        raise ConnectionRefusedError("redis down")

    monkeypatch.setattr(tasks.send_lineage_outbox, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        response = pipeline.client.post(
            "/api/v1/versions/", {**registration_form(), "file": upload(adult_head_csv)}, format="multipart"
        )
    assert response.status_code == 201
    assert LineageOutbox.objects.get().state == "pending"


@pytest.fixture
def tables(adult):
    """A 'synthetic' table with 30 rows copied from the real reference."""
    reference = adult.iloc[:400].reset_index(drop=True)
    synthetic = pd.concat([adult.iloc[400:670], reference.iloc[:30]], ignore_index=True)
    return {"reference": _csv(reference), "synthetic": _csv(synthetic)}


@pytest.mark.django_db
def test_evaluations_decisions_and_source_revocations_are_emitted(
    emission_to_file, pipeline, reviewer, tables, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        registered = pipeline.client.post(
            "/api/v1/versions/", {**registration_form(), "file": upload(tables["synthetic"])}, format="multipart"
        )
    version = DatasetVersion.objects.get(pk=registered.json()["id"])
    with django_capture_on_commit_callbacks(execute=True):
        assert _evaluate(pipeline, version, tables, kinds='["quality", "privacy"]').status_code == 202
    evaluation = version.evaluations.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert decide(reviewer, version, "reject", comment="too many copies").status_code == 201
    admin = make_member(version.dataset.project, "admin", "adm")
    source = version.source_links.get().source
    with django_capture_on_commit_callbacks(execute=True):
        revoked = admin.client.post(f"/api/v1/sources/{source.pk}/revoke/", {"reason": "erasure"}, format="json")
    assert revoked.status_code == 200, revoked.content

    events = [json.loads(line) for line in emission_to_file.read_text().splitlines()]
    assert [(e.get("eventType"), e.get("job", {}).get("name")) for e in events] == [
        ("COMPLETE", "synthetic_registry.register"),
        ("COMPLETE", "synthetic_registry.evaluate"),
        (None, None),
        (None, None),
    ]
    evaluated = events[1]["inputs"][0]
    assert evaluated["inputFacets"]["dataQualityMetrics"]["rowCount"] == version.row_count
    scores = evaluated["facets"]["syntheticRegistry_evaluation"]
    assert (scores["evaluationId"], scores["origin"]) == (str(evaluation.pk), "verified")
    assert scores["metrics"]["quality.overall"] == evaluation.metrics["quality.overall"]
    assert scores["metrics"]["privacy.exact_copies"] == 30
    approval = events[2]["dataset"]["facets"]["syntheticRegistry_approval"]
    assert (approval["status"], approval["action"], approval["decidedBy"], approval["comment"]) == (
        "rejected",
        "reject",
        "rev",
        "too many copies",
    )
    assert (events[3]["dataset"]["namespace"], events[3]["dataset"]["name"]) == (source.namespace, source.name)
    assert events[3]["dataset"]["facets"]["syntheticRegistry_approval"]["status"] == "revoked"
    assert LineageOutbox.objects.filter(state="sent").count() == 4


@pytest.mark.django_db
def test_nothing_is_emitted_unless_configured(pipeline, adult_head_csv, monkeypatch):
    for key in [k for k in __import__("os").environ if k.startswith("OPENLINEAGE")]:
        monkeypatch.delenv(key)
    pipeline.client.post(
        "/api/v1/versions/", {**registration_form(), "file": upload(adult_head_csv)}, format="multipart"
    )
    assert LineageOutbox.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_readme_emission_example_registers_a_version(live_server, monkeypatch):
    import importlib.util

    from tests.support import REPO

    member = make_member(ProjectFactory(slug="census-demo"), "pipeline", "demo-pipeline")
    monkeypatch.setenv("REGISTRY_URL", live_server.url)
    monkeypatch.setenv("REGISTRY_TOKEN", member.token)
    spec = importlib.util.spec_from_file_location("emit_example", REPO / "examples" / "emit_openlineage.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    run_id = example.main()
    version = DatasetVersion.objects.get(dataset__name="adult-income-ctgan")
    assert str(version.lineage_run_id) == run_id
    assert [(s.namespace, s.name) for s in version.sources.all()] == [("uci-ml-repository", "adult")]
    graph = member.client.get(
        "/api/v1/lineage?nodeId=dataset:s3://synthetic-data:adult/ctgan-2026-11-21.parquet&depth=5"
    ).json()["graph"]
    assert [node["id"] for node in graph] == [
        "dataset:s3://synthetic-data:adult/ctgan-2026-11-21.parquet",
        "dataset:uci-ml-repository:adult",
        "job:airflow:synthetic.adult_ctgan",
    ]
    assert {"id", "type", "data", "inEdges", "outEdges"} == set(graph[0])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            {"fingerprint": 42, "schema": [], "rowCount": 1},
            {
                "outputs[0].facets.syntheticRegistry_content.fingerprint": [
                    "must be a SHA-256: 64 hexadecimal characters"
                ]
            },
        ),
        (
            {"fingerprint": "a" * 64, "schema": [{"name": "a", "dtype": "int64"}], "rowCount": 1, "byteCount": "big"},
            {"outputs[0].facets.syntheticRegistry_content.byteCount": ["must be a non-negative integer"]},
        ),
        (
            {"fingerprint": "a" * 64, "schema": [{"name": "a", "dtype": "int64"}], "rowCount": 1, "format": "xlsx"},
            {"outputs[0].facets.syntheticRegistry_content.format": ["must be one of csv, csv.gz, parquet"]},
        ),
    ],
)
def test_content_facet_types_are_checked(pipeline, content, expected):
    facets = {"syntheticRegistry_generator": {"name": "g" * 10}, "syntheticRegistry_content": content}
    response = post(pipeline, run_event("airflow:gen", outputs=[("s3", "x", facets)]))
    assert (response.status_code, response.json()) == (422, expected)
    assert DatasetVersion.objects.count() == 0


@pytest.mark.django_db
def test_generator_names_longer_than_the_store_allows_are_422(pipeline):
    facets = {"syntheticRegistry_generator": {"name": "g" * 201}}
    response = post(pipeline, run_event("airflow:gen", outputs=[("s3", "x", facets)]))
    assert (response.status_code, response.json()) == (
        422,
        {"outputs[0].facets.syntheticRegistry_generator.name": ["is longer than 200 characters"]},
    )


@pytest.mark.django_db
def test_the_admin_diagram_draws_sources_run_version_and_what_is_downstream(pipeline):
    generated, derived = registry_facets("claims"), registry_facets("claims-small", "e" * 64)
    post(pipeline, run_event("airflow:gen", inputs=["pg:claims_<real>"], outputs=[("s3", "claims.parquet", generated)]))
    post(
        pipeline,
        run_event("airflow:shrink", inputs=["s3:claims.parquet"], outputs=[("s3", "claims-small.parquet", derived)]),
    )
    post(pipeline, run_event("mlflow:train_fraud_model", inputs=["s3:claims.parquet"]))
    version = DatasetVersion.objects.get(dataset__name="claims")
    small = DatasetVersion.objects.get(dataset__name="claims-small")

    svg = ElementTree.fromstring(version_diagram(version, readable={version.dataset.project_id}))  # noqa: S314
    ns = {"svg": "http://www.w3.org/2000/svg"}
    boxes = [
        (group.get("class"), [text.text for text in group.findall("svg:text", ns)])
        for group in svg.iter("{http://www.w3.org/2000/svg}g")
    ]
    assert boxes == [
        ("node source", ["pg:claims_<real>", "real source"]),
        ("node job", ["airflow:gen", f"run {str(version.lineage_run_id)[:8]} · COMPLETE"]),
        ("node version", ["claims v1", "Registered"]),
        ("node downstream", ["claims-small v1", "Registered · depth 1"]),
        ("node consumer", ["airflow:shrink", "reads it (lineage)"]),
        ("node consumer", ["mlflow:train_fraud_model", "reads it (lineage)"]),
    ]
    # One arrow between every box of adjacent columns: 1 + 1 + 3.
    assert len(svg.findall("svg:line", ns)) == 5
    links = [a.get("href") for a in svg.findall("svg:a", ns)]
    assert links == [f"/admin/registry/datasetversion/{small.pk}/change/"]
    # It scales down to the page instead of overflowing it.
    assert svg.get("style") == f"width:100%;max-width:{svg.get('width')}px;height:auto"


@pytest.mark.django_db
def test_the_admin_diagram_leaves_out_other_projects_consumers_and_versions(pipeline, outsider, reviewer):
    facets = registry_facets("claims")
    post(pipeline, run_event("airflow:gen", inputs=["pg:real"], outputs=[("s3", "claims.parquet", facets)]))
    post(outsider, run_event("secret:train_model", inputs=["s3:claims.parquet"]))
    version = DatasetVersion.objects.get()
    assert "secret:train_model" in version_diagram(version, readable={version.dataset.project_id, outsider.project.pk})
    assert "secret:train_model" not in version_diagram(version, readable={version.dataset.project_id})
    page = staff_client(reviewer).get(f"/admin/registry/datasetversion/{version.pk}/change/").content.decode()
    assert "airflow:gen" in page
    assert "secret:train_model" not in page
