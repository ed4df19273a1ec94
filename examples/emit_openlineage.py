"""Register a synthetic dataset version by emitting OpenLineage events with openlineage-python.

    REGISTRY_URL=http://127.0.0.1:8000 REGISTRY_TOKEN=sdr_... python examples/emit_openlineage.py

The pipeline needs nothing but the OpenLineage client: the registry is its lineage backend. The output
carries the registry's custom facets (generator, and the content's fingerprint, schema and row count);
its inputs become the version's source datasets.
"""

import datetime as dt
import hashlib
import os
import uuid

import attr
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import DatasetFacet, schema_dataset

REGISTRY_URL = os.environ.get("REGISTRY_URL", "http://127.0.0.1:8000")
FACETS = f"{REGISTRY_URL}/openlineage/facets/1-0-0"


@attr.define
class SyntheticRegistryGeneratorDatasetFacet(DatasetFacet):
    """How the output was generated (key: syntheticRegistry_generator)."""

    name: str
    version: str = ""
    parameters: dict = attr.field(factory=dict)
    seed: int | None = None
    codeVersion: str = ""
    dataset: str = ""

    @staticmethod
    def _get_schema() -> str:
        return f"{FACETS}/SyntheticRegistryGeneratorDatasetFacet.json"


@attr.define
class SyntheticRegistryContentDatasetFacet(DatasetFacet):
    """What the output holds (key: syntheticRegistry_content)."""

    fingerprint: str
    schema: list = attr.field(factory=list)
    rowCount: int = 0
    format: str = "parquet"

    @staticmethod
    def _get_schema() -> str:
        return f"{FACETS}/SyntheticRegistryContentDatasetFacet.json"


def main() -> str:
    client = OpenLineageClient(
        config={
            "transport": {
                "type": "http",
                "url": REGISTRY_URL,
                "endpoint": "api/v1/lineage",
                "auth": {"type": "api_key", "apiKey": os.environ["REGISTRY_TOKEN"]},
                "compression": "gzip",
            }
        }
    )
    run = Run(runId=str(uuid.uuid4()))
    job = Job(namespace="airflow", name="synthetic.adult_ctgan")
    inputs = [InputDataset(namespace="uci-ml-repository", name="adult")]
    started = dt.datetime.now(dt.UTC)
    client.emit(RunEvent(eventType=RunState.START, eventTime=started.isoformat(), run=run, job=job, inputs=inputs))
    # In a real pipeline: the SHA-256 of the file you wrote, and its real schema and row count.
    fingerprint = hashlib.sha256(f"example output of run {run.runId}".encode()).hexdigest()
    columns = [("age", "int64"), ("sex", "object"), ("income", "object")]
    output = OutputDataset(
        namespace="s3://synthetic-data",
        name="adult/ctgan-2026-11-21.parquet",
        facets={
            "schema": schema_dataset.SchemaDatasetFacet(
                fields=[schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in columns]
            ),
            "syntheticRegistry_generator": SyntheticRegistryGeneratorDatasetFacet(
                name="ctgan.CTGAN",
                version="0.10.1",
                parameters={"epochs": 300, "batch_size": 500},
                seed=7,
                codeVersion="git:4f2a9c1",
                dataset="adult-income-ctgan",
            ),
            "syntheticRegistry_content": SyntheticRegistryContentDatasetFacet(
                fingerprint=fingerprint,
                schema=[{"name": n, "dtype": t} for n, t in columns],
                rowCount=32561,
            ),
        },
    )
    client.emit(
        RunEvent(
            eventType=RunState.COMPLETE,
            eventTime=(started + dt.timedelta(minutes=3)).isoformat(),
            run=run,
            job=job,
            inputs=inputs,
            outputs=[output],
        )
    )
    print(f"emitted run {run.runId}: see {REGISTRY_URL}/api/v1/versions/?dataset=adult-income-ctgan")
    return run.runId


if __name__ == "__main__":
    main()
