"""The Marquez-compatible lineage API: ingest, validation, idempotency, graph queries, asOf/runId, columns."""

import gzip
import json
import uuid

import pytest

from registry.models import ColumnLineage, LineageDatasetVersion, LineageEvent, LineageRun, LineageRunIO

pytestmark = pytest.mark.django_db

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"
RUN_EVENT = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


def run_event(job, *, inputs=(), outputs=(), state="COMPLETE", time="2026-11-20T10:00:00Z", run_id=None, **extra):
    """A Marquez-style RunEvent; datasets given as 'ns:name' or (ns, name, facets)."""

    def dataset(item):
        if isinstance(item, tuple):
            namespace, name, facets = item
            return {"namespace": namespace, "name": name, "facets": facets}
        namespace, name = item.split(":", 1)
        return {"namespace": namespace, "name": name}

    namespace, name = job.split(":", 1)
    return {
        "eventType": state,
        "eventTime": time,
        "run": {"runId": str(run_id or uuid.uuid4()), "facets": {}},
        "job": {"namespace": namespace, "name": name, "facets": {}},
        "inputs": [dataset(i) for i in inputs],
        "outputs": [dataset(o) for o in outputs],
        "producer": PRODUCER,
        "schemaURL": RUN_EVENT,
        **extra,
    }


def post(member, event, gz=False):
    body = json.dumps(event).encode()
    headers = {"HTTP_CONTENT_ENCODING": "gzip"} if gz else {}
    return member.client.post(
        "/api/v1/lineage", gzip.compress(body) if gz else body, content_type="application/json", **headers
    )


def graph(member, node_id, **params):
    query = "&".join(f"{k}={v}" for k, v in {"nodeId": node_id, **params}.items())
    response = member.client.get(f"/api/v1/lineage?{query}")
    assert response.status_code == 200, response.content
    return response.json()["graph"]


def ids(nodes):
    return [n["id"] for n in nodes]


def test_run_event_is_stored_raw_and_builds_the_graph(pipeline):
    event = run_event(
        "airflow:etl.join",
        inputs=[("pg", "public.a", {"schema": {"fields": [{"name": "x", "type": "INT"}]}, "custom_vendor": {"k": 1}})],
        outputs=["pg:public.b"],
    )
    response = post(pipeline, event, gz=True)
    assert (response.status_code, response.content) == (201, b"")
    stored = LineageEvent.objects.get()
    assert stored.payload == event  # every facet kept, including ones nobody knows
    nodes = graph(pipeline, "dataset:pg:public.a")
    assert ids(nodes) == ["dataset:pg:public.a", "dataset:pg:public.b", "job:airflow:etl.join"]
    job = nodes[2]
    assert job["type"] == "JOB"
    assert job["inEdges"] == [{"origin": "dataset:pg:public.a", "destination": "job:airflow:etl.join"}]
    assert job["outEdges"] == [{"origin": "job:airflow:etl.join", "destination": "dataset:pg:public.b"}]
    assert job["data"]["inputs"] == [{"namespace": "pg", "name": "public.a"}]
    assert job["data"]["latestRun"]["state"] == "COMPLETE"
    source = nodes[0]["data"]
    assert source["fields"] == [{"name": "x", "type": "INT", "tags": [], "description": None}]
    assert source["facets"]["custom_vendor"] == {"k": 1}


@pytest.mark.parametrize(("inputs", "outputs"), [(["pg:only_in"], []), ([], ["pg:only_out"])])
def test_events_with_only_inputs_or_only_outputs_are_kept(pipeline, inputs, outputs):
    assert post(pipeline, run_event("spark:job", inputs=inputs, outputs=outputs)).status_code == 201
    dataset = (inputs or outputs)[0].replace("pg:", "dataset:pg:")
    assert ids(graph(pipeline, dataset)) == sorted([dataset, "job:spark:job"])


def test_the_same_event_twice_is_stored_once(pipeline):
    event = run_event("airflow:dup", inputs=["pg:x"])
    assert post(pipeline, event).status_code == 201
    assert post(pipeline, event, gz=True).status_code == 201
    assert LineageEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda e: e.pop("eventTime"),
            {"eventTime": ["must be an ISO-8601 date-time with a time zone, e.g. 2026-11-21T10:00:00Z"]},
        ),
        (
            lambda e: e.update(eventTime="2026-11-20"),
            {"eventTime": ["must be an ISO-8601 date-time with a time zone, e.g. 2026-11-21T10:00:00Z"]},
        ),
        (
            lambda e: e.update(eventTime="2026-11-20T10:00:00"),
            {"eventTime": ["needs a time zone offset (e.g. Z or +02:00)"]},
        ),
        (lambda e: e["run"].update(runId="run-42"), {"run.runId": ["must be a UUID"]}),
        (lambda e: e["job"].pop("name"), {"job.name": ["is required (a non-empty string)"]}),
        (lambda e: e["job"].update(namespace=""), {"job.namespace": ["is required (a non-empty string)"]}),
        (lambda e: e.pop("producer"), {"producer": ["is required (a non-empty string)"]}),
        (
            lambda e: e.update(eventType="DONE"),
            {"eventType": ["must be one of START, RUNNING, COMPLETE, ABORT, FAIL, OTHER"]},
        ),
        (lambda e: e.update(inputs=[{"namespace": "pg"}]), {"inputs[0].name": ["is required (a non-empty string)"]}),
    ],
)
def test_invalid_events_are_422_naming_the_field(pipeline, mutate, expected):
    event = run_event("airflow:bad", inputs=["pg:x"])
    mutate(event)
    response = post(pipeline, event)
    assert response.status_code == 422
    assert response.json() == expected
    assert LineageEvent.objects.count() == 0


def test_bodies_that_are_not_json_or_not_gzip_are_400(pipeline):
    response = pipeline.client.post("/api/v1/lineage", b"{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("the body is not valid JSON")
    response = pipeline.client.post(
        "/api/v1/lineage", b"plain", content_type="application/json", HTTP_CONTENT_ENCODING="gzip"
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("the body is not valid gzip")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_400(pipeline, constant):
    body = json.dumps(run_event("airflow:x")).replace('"facets": {}', f'"facets": {{"x": {constant}}}', 1)
    response = pipeline.client.post("/api/v1/lineage", body, content_type="application/json")
    assert (response.status_code, response.json()) == (
        400,
        {"detail": f"the body is not valid JSON: {constant} is not a JSON number"},
    )
    assert LineageEvent.objects.count() == 0


def test_event_type_comes_from_the_schema_url(pipeline):
    dataset_event = {
        "eventTime": "2026-11-20T10:00:00Z",
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": {"namespace": "pg", "name": "static", "facets": {"version": {"datasetVersion": "7"}}},
    }
    job_event = {
        "eventTime": "2026-11-20T10:00:00Z",
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/1-0-5/OpenLineage.json#/definitions/JobEvent",
        "job": {"namespace": "dbt", "name": "model.x"},
        "inputs": [{"namespace": "pg", "name": "static"}],
        "outputs": [],
    }
    assert post(pipeline, dataset_event).status_code == 201
    assert post(pipeline, job_event).status_code == 201
    assert list(LineageEvent.objects.order_by("id").values_list("event_type", flat=True)) == [
        "DatasetEvent",
        "JobEvent",
    ]
    nodes = graph(pipeline, "dataset:pg:static")
    assert ids(nodes) == ["dataset:pg:static", "job:dbt:model.x"]
    assert nodes[0]["data"]["currentVersion"] == "7"


def test_batch_is_all_or_nothing_and_names_the_bad_event(pipeline):
    good = run_event("airflow:b1", inputs=["pg:x"])
    bad = run_event("airflow:b2", inputs=["pg:y"])
    bad["run"]["runId"] = "nope"
    response = pipeline.client.post("/api/v1/lineage/batch", [good, bad], format="json")
    assert (response.status_code, response.json()) == (422, {"[1].run.runId": ["must be a UUID"]})
    assert LineageEvent.objects.count() == 0
    response = pipeline.client.post("/api/v1/lineage/batch", [good, good, run_event("airflow:b3")], format="json")
    assert response.status_code == 201
    assert response.json() == {"stored": 2, "duplicates": 1, "registered": []}


def _chain(member, length):
    """d0 -> j1 -> d1 -> j2 -> d2 ... as COMPLETE runs."""
    for i in range(1, length + 1):
        post(member, run_event(f"etl:j{i}", inputs=[f"pg:d{i - 1}"], outputs=[f"pg:d{i}"]))


def test_depth_counts_jobs_in_both_directions_as_marquez_does(pipeline):
    """Jobs next to the anchor are depth 0; every job returned comes with all its datasets."""
    _chain(pipeline, 6)  # d0 -> j1 -> d1 -> ... -> j6 -> d6
    assert ids(graph(pipeline, "dataset:pg:d0", depth=0)) == ["dataset:pg:d0", "dataset:pg:d1", "job:etl:j1"]
    assert ids(graph(pipeline, "dataset:pg:d3", depth=0)) == [
        "dataset:pg:d2",
        "dataset:pg:d3",
        "dataset:pg:d4",
        "job:etl:j3",
        "job:etl:j4",
    ]
    assert ids(graph(pipeline, "dataset:pg:d3", depth=1)) == [
        *[f"dataset:pg:d{i}" for i in range(1, 6)],
        *[f"job:etl:j{i}" for i in range(2, 6)],
    ]
    assert ids(graph(pipeline, "job:etl:j3", depth=0)) == ["dataset:pg:d2", "dataset:pg:d3", "job:etl:j3"]
    nodes = graph(pipeline, "job:etl:j3", depth=1)
    assert ids(nodes) == [*[f"dataset:pg:d{i}" for i in range(1, 5)], "job:etl:j2", "job:etl:j3", "job:etl:j4"]
    # The jobs at the edge of the graph still list their inputs and outputs in full.
    edge = next(n for n in nodes if n["id"] == "job:etl:j2")["data"]
    assert (edge["inputs"], edge["outputs"]) == (
        [{"namespace": "pg", "name": "d1"}],
        [{"namespace": "pg", "name": "d2"}],
    )
    assert len(graph(pipeline, "dataset:pg:d0", depth=20)) == 13
    response = pipeline.client.get("/api/v1/lineage?nodeId=dataset:pg:d0&depth=1000")
    assert (response.status_code, response.json()) == (400, {"depth": ["must be between 0 and 100"]})


def test_a_cycle_in_the_graph_terminates(pipeline):
    post(pipeline, run_event("etl:forward", inputs=["pg:a"], outputs=["pg:b"]))
    post(pipeline, run_event("etl:back", inputs=["pg:b"], outputs=["pg:a"]))
    assert ids(graph(pipeline, "dataset:pg:a", depth=50)) == [
        "dataset:pg:a",
        "dataset:pg:b",
        "job:etl:back",
        "job:etl:forward",
    ]


def test_namespaces_with_colons_resolve(pipeline):
    post(pipeline, run_event("airflow:j", inputs=["postgres://db:5432:public.t"]))
    assert ids(graph(pipeline, "dataset:postgres://db:5432:public.t")) == [
        "dataset:postgres://db:5432:public.t",
        "job:airflow:j",
    ]


def test_unknown_nodes_and_bad_ids(pipeline):
    assert pipeline.client.get("/api/v1/lineage?nodeId=dataset:pg:nothing").status_code == 404
    response = pipeline.client.get("/api/v1/lineage?nodeId=table:pg:x")
    assert (response.status_code, response.json()) == (
        400,
        {"nodeId": ["expected dataset:<namespace>:<name>, job:<namespace>:<name> or run:<uuid>"]},
    )
    assert pipeline.client.get("/api/v1/lineage").json() == {"nodeId": ["This parameter is required."]}


def test_as_of_after_a_dataset_was_regenerated(pipeline):
    first, second = uuid.uuid4(), uuid.uuid4()
    out = ("s3", "synth/adult", {"version": {"datasetVersion": "v1"}})
    post(
        pipeline,
        run_event("gen:adult", inputs=["pg:real_2025"], outputs=[out], run_id=first, time="2026-11-01T00:00:00Z"),
    )
    out2 = ("s3", "synth/adult", {"version": {"datasetVersion": "v2"}})
    post(
        pipeline,
        run_event("gen:adult", inputs=["pg:real_2026"], outputs=[out2], run_id=second, time="2026-11-10T00:00:00Z"),
    )

    now = graph(pipeline, "dataset:s3:synth/adult")
    assert ids(now) == ["dataset:pg:real_2026", "dataset:s3:synth/adult", "job:gen:adult"]
    assert now[1]["data"]["currentVersion"] == "v2"

    then = graph(pipeline, "dataset:s3:synth/adult", asOf="2026-11-05T00:00:00Z")
    assert ids(then) == ["dataset:pg:real_2025", "dataset:s3:synth/adult", "job:gen:adult"]
    assert then[1]["data"]["currentVersion"] == "v1"
    assert then[2]["data"]["latestRun"]["id"] == str(first)

    by_run = graph(pipeline, f"run:{first}")
    assert ids(by_run) == ids(then)
    assert by_run[1]["data"]["currentVersion"] == "v1"
    before_anything = graph(pipeline, "dataset:s3:synth/adult", asOf="2026-10-01T00:00:00Z")
    assert ids(before_anything) == ["dataset:s3:synth/adult"]


def test_a_started_or_failed_run_does_not_cut_the_job_off_from_its_last_completed_outputs(pipeline):
    post(pipeline, run_event("gen:adult", inputs=["pg:real"], outputs=["s3:synth"], time="2026-11-01T00:00:00Z"))
    second = uuid.uuid4()
    started = run_event("gen:adult", inputs=["pg:real"], state="START", run_id=second, time="2026-11-02T00:00:00Z")
    post(pipeline, started)
    assert ids(graph(pipeline, "dataset:s3:synth")) == ["dataset:pg:real", "dataset:s3:synth", "job:gen:adult"]
    post(pipeline, run_event("gen:adult", state="FAIL", run_id=second, time="2026-11-02T01:00:00Z"))
    assert ids(graph(pipeline, "dataset:s3:synth")) == ["dataset:pg:real", "dataset:s3:synth", "job:gen:adult"]
    # Once a newer run completes, its inputs and outputs are the job's.
    post(pipeline, run_event("gen:adult", inputs=["pg:real_v2"], outputs=["s3:synth"], time="2026-11-03T00:00:00Z"))
    assert ids(graph(pipeline, "dataset:s3:synth")) == ["dataset:pg:real_v2", "dataset:s3:synth", "job:gen:adult"]
    # As of the failed run, the job still showed the first run's edges.
    then = graph(pipeline, "dataset:s3:synth", asOf="2026-11-02T12:00:00Z")
    assert ids(then) == ["dataset:pg:real", "dataset:s3:synth", "job:gen:adult"]


def test_as_of_sees_a_run_from_its_start(pipeline):
    run = uuid.uuid4()
    start = run_event("gen:x", inputs=["pg:real"], outputs=["s3:out"], state="START", run_id=run)
    post(pipeline, {**start, "eventTime": "2026-11-01T00:00:00Z"})
    post(
        pipeline,
        {**run_event("gen:x", inputs=["pg:real"], outputs=["s3:out"], run_id=run), "eventTime": "2026-11-01T02:00:00Z"},
    )
    during = graph(pipeline, "dataset:s3:out", asOf="2026-11-01T01:00:00Z")
    assert ids(during) == ["dataset:pg:real", "dataset:s3:out", "job:gen:x"]
    assert LineageRunIO.objects.filter(event_time="2026-11-01T00:00:00Z").count() == 2


def test_reading_a_dataset_keeps_its_current_versions_facets(pipeline):
    schema = {"schema": {"fields": [{"name": "a", "type": "INT"}]}, "version": {"datasetVersion": "v1"}}
    post(pipeline, run_event("gen:x", outputs=[("s3", "out", schema)], time="2026-11-01T00:00:00Z"))
    # Another request: a job reads the dataset without naming a version, so it binds to v1.
    post(pipeline, run_event("use:y", inputs=["s3:out"], time="2026-11-02T00:00:00Z"))
    version = LineageDatasetVersion.objects.get(version="v1")
    assert version.facets == schema
    node = next(n for n in graph(pipeline, "dataset:s3:out") if n["id"] == "dataset:s3:out")
    assert node["data"]["fields"] == [{"name": "a", "type": "INT", "tags": [], "description": None}]
    assert LineageRunIO.objects.get(direction="in").dataset_version == version


def test_inputs_bind_to_the_version_the_event_named(pipeline):
    post(
        pipeline,
        run_event("gen:a", outputs=[("pg", "src", {"version": {"datasetVersion": "1"}})], time="2026-11-01T00:00:00Z"),
    )
    post(
        pipeline,
        run_event("gen:a", outputs=[("pg", "src", {"version": {"datasetVersion": "2"}})], time="2026-11-03T00:00:00Z"),
    )
    run = uuid.uuid4()
    post(
        pipeline,
        run_event(
            "use:b",
            inputs=[("pg", "src", {"version": {"datasetVersion": "1"}})],
            run_id=run,
            time="2026-11-04T00:00:00Z",
        ),
    )
    nodes = graph(pipeline, f"run:{run}")
    assert {n["id"]: n["data"].get("currentVersion") for n in nodes}["dataset:pg:src"] == "1"
    assert LineageRun.objects.get(run_id=run).io.get().dataset_version.version == "1"


def test_a_version_first_read_then_written_by_a_new_run_records_that_run(pipeline):
    """The version row exists before the run that writes it does: its run is set once the run is saved."""
    version = {"version": {"datasetVersion": "7"}}
    post(pipeline, run_event("use:b", inputs=[("pg", "out", version)], time="2026-11-01T00:00:00Z"))
    writer = uuid.uuid4()
    response = post(
        pipeline, run_event("gen:a", outputs=[("pg", "out", version)], run_id=writer, time="2026-11-02T00:00:00Z")
    )
    assert response.status_code == 201, response.content
    stored = LineageDatasetVersion.objects.get(dataset__name="out", version="7")
    assert stored.run.run_id == writer


def test_one_batch_creates_runs_versions_and_edges_that_refer_to_each_other(pipeline):
    first, second = uuid.uuid4(), uuid.uuid4()
    events = [
        run_event("gen:a", state="START", run_id=first, inputs=["pg:src"], time="2026-11-01T00:00:00Z"),
        run_event("gen:a", run_id=first, inputs=["pg:src"], outputs=["pg:mid"], time="2026-11-01T00:01:00Z"),
        run_event("gen:b", run_id=second, inputs=["pg:mid"], outputs=["pg:out"], time="2026-11-01T00:02:00Z"),
    ]
    response = pipeline.client.post("/api/v1/lineage/batch", json.dumps(events), content_type="application/json")
    assert response.status_code == 201, response.content
    mid = LineageDatasetVersion.objects.get(dataset__name="mid")
    assert (mid.run.run_id, LineageRun.objects.get(run_id=first).state) == (first, "COMPLETE")
    assert [
        (io.dataset.name, io.direction, io.dataset_version_id)
        for io in LineageRun.objects.get(run_id=second).io.order_by("direction")
    ] == [
        ("mid", "in", mid.pk),
        ("out", "out", LineageDatasetVersion.objects.get(dataset__name="out").pk),
    ]
    assert ids(graph(pipeline, "dataset:pg:out", depth=5)) == [
        "dataset:pg:mid",
        "dataset:pg:out",
        "dataset:pg:src",
        "job:gen:a",
        "job:gen:b",
    ]


def test_column_lineage(pipeline):
    facets = {
        "columnLineage": {
            "fields": {
                "age_band": {
                    "inputFields": [
                        {
                            "namespace": "pg",
                            "name": "people",
                            "field": "age",
                            "transformations": [
                                {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "bucketed"}
                            ],
                        }
                    ],
                }
            }
        },
        "schema": {"fields": [{"name": "age_band", "type": "STRING"}]},
    }
    post(pipeline, run_event("etl:bands", inputs=["pg:people"], outputs=[("pg", "bands", facets)]))
    response = pipeline.client.get("/api/v1/column-lineage?nodeId=datasetField:pg:bands:age_band")
    assert response.status_code == 200
    nodes = response.json()["graph"]
    assert [n["id"] for n in nodes] == ["datasetField:pg:bands:age_band", "datasetField:pg:people:age"]
    band = nodes[0]["data"]
    assert (band["fieldType"], band["transformationType"], band["transformationDescription"]) == (
        "STRING",
        "DIRECT",
        "bucketed",
    )
    assert [(f["dataset"], f["field"]) for f in band["inputFields"]] == [("people", "age")]
    assert nodes[1]["outEdges"] == [
        {"origin": "datasetField:pg:people:age", "destination": "datasetField:pg:bands:age_band"}
    ]
    downstream = pipeline.client.get(
        "/api/v1/column-lineage?nodeId=datasetField:pg:people:age&withDownstream=true"
    ).json()
    assert [n["id"] for n in downstream["graph"]] == ["datasetField:pg:bands:age_band", "datasetField:pg:people:age"]


def test_a_new_column_lineage_facet_replaces_the_old_mappings(pipeline):
    def mapping(source_field):
        return {
            "columnLineage": {
                "fields": {"out": {"inputFields": [{"namespace": "pg", "name": "src", "field": source_field}]}}
            }
        }

    post(pipeline, run_event("etl:c", inputs=["pg:src"], outputs=[("pg", "dst", mapping("old"))]))
    post(pipeline, run_event("etl:c", inputs=["pg:src"], outputs=[("pg", "dst", mapping("new"))]))
    nodes = pipeline.client.get("/api/v1/column-lineage?nodeId=datasetField:pg:dst:out").json()["graph"]
    assert [n["id"] for n in nodes] == ["datasetField:pg:dst:out", "datasetField:pg:src:new"]
    # An output event without the facet leaves the mapping alone; a deleted facet clears it.
    post(pipeline, run_event("etl:c", inputs=["pg:src"], outputs=["pg:dst"]))
    assert len(pipeline.client.get("/api/v1/column-lineage?nodeId=datasetField:pg:dst:out").json()["graph"]) == 2
    deleted = {"columnLineage": {"_deleted": True}}
    post(pipeline, run_event("etl:c", inputs=["pg:src"], outputs=[("pg", "dst", deleted)]))
    assert ColumnLineage.objects.count() == 0


def test_job_type_and_source_name_come_from_their_facets(pipeline):
    streaming = {"jobType": {"processingType": "STREAMING", "integration": "FLINK", "jobType": "JOB"}}
    source = {"dataSource": {"name": "warehouse-eu", "uri": "postgres://db:5432"}}
    event = run_event("flink:enrich", inputs=[("pg", "raw", source)])
    event["job"]["facets"] = streaming
    post(pipeline, event)
    nodes = {n["id"]: n["data"] for n in graph(pipeline, "job:flink:enrich")}
    assert nodes["job:flink:enrich"]["type"] == "STREAM"
    assert nodes["dataset:pg:raw"]["sourceName"] == "warehouse-eu"
    post(pipeline, run_event("airflow:plain", inputs=["pg:other"]))
    plain = {n["id"]: n["data"] for n in graph(pipeline, "job:airflow:plain")}
    assert (plain["job:airflow:plain"]["type"], plain["dataset:pg:other"]["sourceName"]) == ("BATCH", "pg")


def test_facet_deletion_and_replacement(pipeline):
    post(
        pipeline,
        run_event("e:j", inputs=[("pg", "t", {"owner": {"v": 1}, "doc": {"text": "a"}})], time="2026-11-01T00:00:00Z"),
    )
    post(
        pipeline,
        run_event(
            "e:j",
            inputs=[("pg", "t", {"owner": {"_deleted": True}, "doc": {"text": "b"}})],
            time="2026-11-02T00:00:00Z",
        ),
    )
    facets = graph(pipeline, "dataset:pg:t")[0]["data"]["facets"]
    assert facets == {"doc": {"text": "b"}}


def test_graph_is_limited_to_the_callers_projects(pipeline, outsider):
    post(pipeline, run_event("airflow:private", inputs=["pg:secret"]))
    assert outsider.client.get("/api/v1/lineage?nodeId=dataset:pg:secret").status_code == 404
    post(outsider, run_event("airflow:theirs", inputs=["pg:shared"], outputs=["pg:theirs_out"]))
    post(pipeline, run_event("airflow:ours", inputs=["pg:shared"], outputs=["pg:ours_out"]))
    # Each side sees the shared dataset, but not the other project's job behind it.
    assert ids(graph(pipeline, "dataset:pg:shared")) == ["dataset:pg:ours_out", "dataset:pg:shared", "job:airflow:ours"]
    assert ids(graph(outsider, "dataset:pg:shared")) == [
        "dataset:pg:shared",
        "dataset:pg:theirs_out",
        "job:airflow:theirs",
    ]
    # The same holds for the graph as it was at a time.
    later = {"asOf": "2030-01-01T00:00:00Z"}
    assert ids(graph(pipeline, "dataset:pg:shared", **later)) == [
        "dataset:pg:ours_out",
        "dataset:pg:shared",
        "job:airflow:ours",
    ]
    assert ids(graph(outsider, "dataset:pg:shared", **later)) == [
        "dataset:pg:shared",
        "dataset:pg:theirs_out",
        "job:airflow:theirs",
    ]


def test_the_same_event_sent_to_two_projects_builds_both_graphs(pipeline, outsider):
    event = run_event("airflow:shared_dag", inputs=["pg:in"], outputs=["pg:out"])
    assert post(pipeline, event).status_code == 201
    response = outsider.client.post("/api/v1/lineage/batch", [event], format="json")
    assert response.json() == {"stored": 1, "duplicates": 0, "registered": []}
    assert sorted(LineageEvent.objects.values_list("project__slug", flat=True)) == ["acme", "other"]
    for member in (pipeline, outsider):
        assert ids(graph(member, "dataset:pg:out")) == ["dataset:pg:in", "dataset:pg:out", "job:airflow:shared_dag"]
    resent = pipeline.client.post("/api/v1/lineage/batch", [event], format="json")
    assert resent.json() == {"stored": 0, "duplicates": 1, "registered": []}


def test_facet_schemas_are_served_publicly(anonymous):
    response = anonymous.get("/openlineage/facets/1-0-0/SyntheticRegistryGeneratorDatasetFacet.json")
    assert response.status_code == 200
    body = response.json()
    assert (body["title"], body["required"]) == ("SyntheticRegistryGeneratorDatasetFacet", ["name"])
    assert body["$id"] == "http://testserver/openlineage/facets/1-0-0/SyntheticRegistryGeneratorDatasetFacet.json"
    assert anonymous.get("/openlineage/facets/9-9-9/SyntheticRegistryGeneratorDatasetFacet.json").status_code == 404


@pytest.mark.parametrize("role", ["reviewer", "auditor"])
def test_only_pipelines_send_events(request, role):
    member = request.getfixturevalue(role)
    response = post(member, run_event("airflow:x"))
    assert response.status_code == 403
    assert response.json() == {"detail": "this token's role in project 'acme' cannot send lineage events"}


def test_anonymous_cannot_send_or_read(anonymous):
    assert anonymous.post("/api/v1/lineage", {}, format="json").status_code == 401
    assert anonymous.get("/api/v1/lineage?nodeId=dataset:a:b").status_code == 401
    assert anonymous.get("/api/v1/column-lineage?nodeId=datasetField:a:b:c").status_code == 401


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda e: e["job"].update(namespace="n" * 256), {"job.namespace": ["is longer than 255 characters"]}),
        (lambda e: e["inputs"][0].update(name="t" * 1001), {"inputs[0].name": ["is longer than 1000 characters"]}),
        (
            lambda e: e["inputs"][0].update(facets={"version": {"datasetVersion": "v" * 256}}),
            {"inputs[0].facets.version.datasetVersion": ["is longer than 255 characters"]},
        ),
    ],
)
def test_values_longer_than_the_store_allows_are_422(pipeline, mutate, expected):
    event = run_event("airflow:long", inputs=["pg:x"])
    mutate(event)
    response = post(pipeline, event)
    assert (response.status_code, response.json()) == (422, expected)


def test_nul_characters_in_events_and_node_ids_are_400(pipeline):
    event = run_event("airflow:nul", inputs=["pg:x"])
    event["job"]["facets"] = {"sql": {"query": "SELECT 1\u0000"}}
    response = post(pipeline, event)
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "JSON strings may not contain NUL characters (\\u0000)"},
    )
    response = pipeline.client.get("/api/v1/lineage?nodeId=dataset:pg:x%00")
    assert (response.status_code, response.json()) == (400, {"nodeId": ["nodeId may not contain NUL characters"]})
