"""Lineage benchmark: OpenLineage ingest throughput through the real client, and graph query latency.

Needs PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/registry_bench .venv/bin/python bench/lineage.py
The database is migrated and its lineage tables emptied first: point it at a scratch database.
The registry is served by gunicorn (production settings) on 127.0.0.1; ingestion goes through
openlineage-python 1.54 (HttpTransport, AsyncHttpTransport) and, for batches, events built and serialised
by openlineage-python and posted to /api/v1/lineage/batch. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")


def _setup():
    import django

    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit("set DATABASE_URL to a scratch PostgreSQL database (the targets are for PostgreSQL)")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _token() -> str:
    from core.context import Actor
    from core.services import api_token_issue, membership_grant, project_ensure, user_ensure

    actor = Actor.system("bench")
    user = user_ensure(actor=actor, username="bench-pipeline")
    project = project_ensure(actor=actor, slug="bench")
    membership_grant(actor=actor, project=project, user=user, role="pipeline")
    return api_token_issue(actor=actor, user=user, project=project, name="bench")[1]


def _clear_lineage() -> None:
    from django.db import connection

    from registry.models import (
        ColumnLineage,
        LineageAdjacency,
        LineageDatasetVersion,
        LineageEvent,
        LineageNode,
        LineageRun,
        LineageRunIO,
    )

    tables = [
        m._meta.db_table
        for m in (
            LineageAdjacency,
            LineageRunIO,
            ColumnLineage,
            LineageDatasetVersion,
            LineageRun,
            LineageEvent,
            LineageNode,
        )
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")


STATIC_DIR = REPO / "var" / "bench-static"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(workers: int) -> tuple[subprocess.Popen, str]:
    STATIC_DIR.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DB_CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
        "STATIC_ROOT": str(STATIC_DIR),
    }
    process = subprocess.Popen(
        [
            str(REPO / ".venv/bin/gunicorn"),
            "config.wsgi",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=env,
    )
    import requests

    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/healthz", timeout=5).status_code == 200:
                return process, url
        except requests.RequestException:
            time.sleep(0.5)
    process.terminate()
    sys.exit("gunicorn did not start within 60 s")


def _events(count: int, seed: int):
    """START+COMPLETE pairs of jobs reading two datasets and writing one, built with openlineage-python."""
    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import schema_dataset

    rng = random.Random(seed)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    schema = schema_dataset.SchemaDatasetFacet(
        fields=[schema_dataset.SchemaDatasetFacetFields(name=f"c{i}", type="INT") for i in range(8)]
    )
    events = []
    for i in range(count // 2):
        job = Job(namespace="bench", name=f"job_{rng.randrange(2000)}")
        run = Run(runId=str(uuid.UUID(int=rng.getrandbits(128), version=4)))
        inputs = [InputDataset(namespace="warehouse", name=f"table_{rng.randrange(5000)}") for _ in range(2)]
        output = OutputDataset(namespace="warehouse", name=f"table_{rng.randrange(5000)}", facets={"schema": schema})
        when = start + dt.timedelta(seconds=i)
        events.append(RunEvent(eventType=RunState.START, eventTime=when.isoformat(), run=run, job=job, inputs=inputs))
        events.append(
            RunEvent(
                eventType=RunState.COMPLETE,
                eventTime=(when + dt.timedelta(milliseconds=500)).isoformat(),
                run=run,
                job=job,
                inputs=inputs,
                outputs=[output],
            )
        )
    return events


def _client(url: str, token: str, kind: str):
    from openlineage.client import OpenLineageClient

    transport = {"type": kind, "url": url, "auth": {"type": "api_key", "apiKey": token}, "compression": "gzip"}
    if kind == "async_http":
        transport["max_concurrent_requests"] = 8
    return OpenLineageClient(config={"transport": transport})


def _ingest_sync(url: str, token: str, events) -> float:
    client = _client(url, token, "http")
    started = time.perf_counter()
    for event in events:
        client.emit(event)
    return time.perf_counter() - started


def _ingest_async(url: str, token: str, events) -> float:
    client = _client(url, token, "async_http")
    started = time.perf_counter()
    for event in events:
        client.emit(event)
    client.transport.wait_for_completion()
    elapsed = time.perf_counter() - started
    stats = client.transport.get_stats()
    client.close()
    if stats.get("failed"):
        print(f"    async transport: {stats}")
    return elapsed


def _ingest_batches(url: str, token: str, events, size: int, threads: int) -> float:
    import gzip

    import requests
    from openlineage.client.serde import Serde

    bodies = [
        gzip.compress(("[" + ",".join(Serde.to_json(e) for e in events[i : i + size]) + "]").encode(), 3)
        for i in range(0, len(events), size)
    ]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Content-Encoding": "gzip"}

    def send(body):
        with requests.Session() as session:
            response = session.post(f"{url}/api/v1/lineage/batch", data=body, headers=headers, timeout=120)
            response.raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(send, bodies))
    return time.perf_counter() - started


PIPELINE_LENGTH = 50  # jobs per pipeline in the query graph
GRAPH_START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # the first round of runs; the second is a day later
GRAPH_AS_OF = GRAPH_START + dt.timedelta(hours=12)  # between the two rounds


def _graph_layout(nodes: int) -> tuple[int, list[str]]:
    """How many pipelines the query graph of ~`nodes` nodes has, and its dataset node ids."""
    pipelines = max(1, nodes // (2 * PIPELINE_LENGTH + 1))
    return pipelines, [f"dataset:big:p{p}.d{i}" for p in range(pipelines) for i in range(PIPELINE_LENGTH + 1)]


def _ingested_graph(nodes: int, seed: int, cross: float) -> list[str]:
    """~`nodes` nodes built through the registry's own ingest (runs, inputs/outputs, versions, facets).

    Pipelines of 50 jobs, each job reading its predecessor's output and one a few steps back and
    writing the next dataset; with probability `cross` a job also reads a dataset of another pipeline,
    so the pipelines form one connected graph, as shared tables make them in practice. Every job runs
    twice (the second run a day later, with a new output version). Returns the dataset node ids;
    GRAPH_AS_OF lies between the two rounds, for `asOf` queries.
    """
    from core.context import Actor
    from core.models import Project
    from registry.lineage.ingest import ingest_events
    from registry.lineage.validation import parse_event

    rng = random.Random(seed)
    length = PIPELINE_LENGTH
    pipelines, datasets = _graph_layout(nodes)
    project = Project.objects.get(slug="bench")
    actor = Actor.system("bench")
    schema = {"fields": [{"name": f"c{i}", "type": "INT"} for i in range(8)]}
    reads = {}
    for p in range(pipelines):
        for i in range(length):
            inputs = {f"p{p}.d{i}", f"p{p}.d{max(0, i - rng.randrange(1, 4))}"}
            if rng.random() < cross:
                inputs.add(f"p{rng.randrange(pipelines)}.d{rng.randrange(length)}")
            reads[(p, i)] = sorted(inputs)

    def event(p, i, state, when, round_):
        return {
            "eventType": state,
            "eventTime": when.isoformat(),
            "run": {"runId": str(uuid.UUID(int=rng.getrandbits(128))), "facets": {}},
            "job": {"namespace": "big", "name": f"p{p}.j{i}", "facets": {}},
            "inputs": [{"namespace": "big", "name": name, "facets": {}} for name in reads[(p, i)]],
            "outputs": [
                {
                    "namespace": "big",
                    "name": f"p{p}.d{i + 1}",
                    "facets": {"schema": schema, "version": {"datasetVersion": f"r{round_}"}},
                }
            ],
            "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        }

    batch = []
    for round_ in (1, 2):
        for p in range(pipelines):
            for i in range(length):
                when = GRAPH_START + dt.timedelta(days=round_ - 1, seconds=p * length + i)
                batch.append(parse_event(event(p, i, "COMPLETE", when, round_)))
                if len(batch) == 500:
                    ingest_events(actor=actor, project=project, events=batch)
                    batch = []
    if batch:
        ingest_events(actor=actor, project=project, events=batch)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return datasets


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="events in the batch ingest run")
    parser.add_argument("--single-events", type=int, default=2000, help="events in each one-request-per-event run")
    parser.add_argument("--nodes", type=int, default=100_000, help="nodes in the query benchmark graph")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--cross", type=float, default=0.02, help="share of jobs reading another pipeline's data")
    parser.add_argument(
        "--queries-only",
        action="store_true",
        help="skip the ingest runs; reuse the query graph a previous run left in the database if it is there",
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    args = parser.parse_args()

    from bench._machine import summary

    print(summary())
    _setup()
    import logging

    logging.getLogger("httpx2").setLevel(logging.WARNING)  # one INFO line per request from the async transport
    if not args.queries_only:
        _clear_lineage()
    token = _token()
    server, url = _serve(args.workers)
    rows = []
    try:
        for label, count, run in (
            ()
            if args.queries_only
            else (
                ("HttpTransport (sync, 1 request/event)", args.single_events, lambda ev: _ingest_sync(url, token, ev)),
                ("AsyncHttpTransport (8 concurrent)", args.single_events, lambda ev: _ingest_async(url, token, ev)),
                (
                    "openlineage-python events, /batch x200, 4 threads",
                    args.events,
                    lambda ev: _ingest_batches(url, token, ev, 200, 4),
                ),
            )
        ):
            events = _events(count, seed=len(rows) + 1)
            seconds = run(events)
            rows.append(("ingest", label, len(events), seconds, len(events) / seconds))
            print(f"  {label}: {len(events)} events in {seconds:.2f} s = {len(events) / seconds:,.0f} events/s")

        import requests

        from core.models import Project
        from registry.lineage.graph import lineage_graph
        from registry.models import LineageNode

        started = time.perf_counter()
        if args.queries_only and LineageNode.objects.filter(namespace="big").exists():
            dataset_ids = _graph_layout(args.nodes)[1]
        else:
            _clear_lineage()
            dataset_ids = _ingested_graph(args.nodes, seed=7, cross=args.cross)
        mid = GRAPH_AS_OF
        total = LineageNode.objects.count()
        print(f"  built a {total:,}-node graph through ingest in {time.perf_counter() - started:.1f} s")
        rng = random.Random(11)
        picks = rng.sample(dataset_ids, args.queries)
        project_ids = list(Project.objects.values_list("pk", flat=True))
        session = requests.Session()
        for label, extra in (("current", {}), ("asOf", {"asOf": mid.isoformat().replace("+00:00", "Z")})):
            in_process, over_http, sizes = [], [], []
            for node_id in picks:
                started = time.perf_counter()
                result = lineage_graph(node_id, projects=project_ids, depth=10, as_of=mid if extra else None)
                in_process.append(time.perf_counter() - started)
                sizes.append(len(result["graph"]))
                started = time.perf_counter()
                response = session.get(
                    f"{url}/api/v1/lineage",
                    params={"nodeId": node_id, "depth": 10, **extra},
                    headers={"Authorization": f"Bearer {token}"},
                )
                over_http.append(time.perf_counter() - started)
                response.raise_for_status()
            median, biggest = statistics.median(sizes), max(sizes)
            for how, values in (
                ("lineage_graph() in process", in_process),
                ("GET /api/v1/lineage over HTTP", over_http),
            ):
                p50, p95 = _percentile(values, 0.5) * 1000, _percentile(values, 0.95) * 1000
                rows.append(("query", f"{label}: {how}", total, p50, p95, median, biggest))
                print(f"  {label}, {how}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(values) * 1000:.1f} ms")
            print(f"  {label}: nodes per result: median {median:.0f}, max {biggest}")
    finally:
        server.terminate()
        server.wait(timeout=20)

    print("\n| benchmark | how | size | result |")
    print("|---|---|---:|---|")
    for kind, label, size, a, b, *result in rows:
        if kind == "ingest":
            print(f"| ingest | {label} | {size:,} events | {b:,.0f} events/s ({a:.2f} s) |")
        else:
            median, biggest = result
            print(
                f"| lineage depth 10 | {label} | {size:,} nodes | p50 {a:.1f} ms, p95 {b:.1f} ms "
                f"(result: median {median:.0f}, max {biggest} nodes) |"
            )


if __name__ == "__main__":
    main()
