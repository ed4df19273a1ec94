"""The registry's own OpenLineage events: built with openlineage-python, written to an outbox in the same
transaction as the change they describe, and sent after commit by a task that retries failures.

Off unless openlineage-python is configured (OPENLINEAGE_URL, OPENLINEAGE__TRANSPORT__*, OPENLINEAGE_CONFIG
or an openlineage.yml); OPENLINEAGE_DISABLED=true turns it off. Sending never fails the user's request.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
from functools import lru_cache
from typing import Any

import attr
from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import Dataset, DatasetEvent, InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    DatasetFacet,
    data_quality_metrics_input_dataset,
    dataset_version_dataset,
    ownership_dataset,
    schema_dataset,
)
from openlineage.client.serde import Serde

from ..models import DatasetVersion, Evaluation, LineageOutbox, SourceDataset
from ..models.lineage import OutboxState
from .downstream import lineage_identity
from .facets import schema_url

logger = logging.getLogger(__name__)


def emission_configured() -> bool:
    """Whether openlineage-python has a transport configured (and emission is not disabled)."""
    if os.getenv("OPENLINEAGE_DISABLED", "").strip().lower() == "true":
        return False
    if os.getenv("OPENLINEAGE_URL") or os.getenv("OPENLINEAGE_CONFIG"):
        return True
    if any(key.startswith("OPENLINEAGE__TRANSPORT") for key in os.environ):
        return True
    return OpenLineageClient._find_yaml_config_path() is not None


@lru_cache(maxsize=1)
def _client() -> OpenLineageClient:
    return OpenLineageClient()


def _base_url() -> str:
    return settings.REGISTRY_PUBLIC_URL.rstrip("/")


def _producer() -> str:
    return f"{_base_url()}/"


def _custom(title: str):
    """A custom dataset facet class whose _schemaURL is the schema this registry serves."""

    def _get_schema() -> str:
        return schema_url(_base_url(), title)

    return staticmethod(_get_schema)


@attr.define
class SyntheticRegistryGeneratorDatasetFacet(DatasetFacet):
    name: str
    version: str = ""
    parameters: dict = attr.field(factory=dict)
    seed: int | None = None
    codeVersion: str = ""
    _get_schema = _custom("SyntheticRegistryGeneratorDatasetFacet")


@attr.define
class SyntheticRegistryEvaluationDatasetFacet(DatasetFacet):
    evaluationId: str
    origin: str
    metrics: dict = attr.field(factory=dict)
    _get_schema = _custom("SyntheticRegistryEvaluationDatasetFacet")


@attr.define
class SyntheticRegistryApprovalDatasetFacet(DatasetFacet):
    status: str
    action: str = ""
    decidedBy: str = ""
    comment: str = ""
    waiver: str = ""
    policyVerdict: str | None = None
    registryUrl: str = ""
    _get_schema = _custom("SyntheticRegistryApprovalDatasetFacet")


def _version_facets(version: DatasetVersion) -> dict[str, Any]:
    return {
        "schema": schema_dataset.SchemaDatasetFacet(
            fields=[schema_dataset.SchemaDatasetFacetFields(name=c["name"], type=c["dtype"]) for c in version.schema]
        ),
        "version": dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=str(version.pk)),
        "ownership": ownership_dataset.OwnershipDatasetFacet(
            owners=[ownership_dataset.Owner(name=f"user:{version.registered_by.username}", type="REGISTRANT")]
        ),
    }


def _quality_metrics(version: DatasetVersion) -> data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet:
    return data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet(
        columnMetrics={}, rowCount=version.row_count, bytes=version.byte_count
    )


def _run_id(*parts: Any) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "synthetic-registry:" + ":".join(map(str, parts))))


def _now() -> str:
    return timezone.now().astimezone(dt.UTC).isoformat()


def _job(name: str) -> Job:
    return Job(namespace=settings.REGISTRY_LINEAGE_NAMESPACE, name=f"synthetic_registry.{name}")


def _enqueue(event) -> None:
    """Write the event to the outbox inside the caller's transaction; send it once that commits."""
    if not emission_configured():
        return
    LineageOutbox.objects.create(event=Serde.to_dict(event))
    transaction.on_commit(_send_soon)


def _send_soon() -> None:
    """Ask a worker to send now; if the broker is down, the retry every worker runs sends it later."""
    try:
        send_lineage_outbox.delay(limit=OUTBOX_SEND_SOON_LIMIT)
    except Exception:  # the user's change is committed: never fail their request over emission
        logger.warning("could not queue OpenLineage emission; a worker's retry will send it", exc_info=True)


def send_lineage_outbox_soon() -> None:
    """Every worker's tick (core.hooks.worker_tick): ask a worker to send, when anything is due."""
    if outbox_due():
        _send_soon()


def version_registered(version: DatasetVersion) -> None:
    """A registration as a completed run: sources in, the synthetic version out, with its provenance."""
    namespace, name = lineage_identity(version)
    facets = {
        **_version_facets(version),
        "syntheticRegistry_generator": SyntheticRegistryGeneratorDatasetFacet(
            name=version.generator.name,
            version=version.generator.version,
            parameters=version.generator_parameters,
            seed=version.seed,
            codeVersion=version.code_version,
        ),
    }
    inputs = [
        InputDataset(
            namespace=link.source.namespace,
            name=link.source.name,
            facets={"version": dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=link.source_version)}
            if link.source_version
            else {},
        )
        for link in version.source_links.select_related("source")
    ]
    _enqueue(
        RunEvent(
            eventType=RunState.COMPLETE,
            eventTime=_now(),
            run=Run(runId=_run_id("register", version.pk)),
            job=_job("register"),
            producer=_producer(),
            inputs=inputs,
            outputs=[OutputDataset(namespace=namespace, name=name, facets=facets)],
        )
    )


def evaluation_succeeded(evaluation: Evaluation) -> None:
    """A verified evaluation as a completed run reading the version, with its scores."""
    version = evaluation.version
    namespace, name = lineage_identity(version)
    facets = {
        **_version_facets(version),
        "syntheticRegistry_evaluation": SyntheticRegistryEvaluationDatasetFacet(
            evaluationId=str(evaluation.pk), origin=evaluation.origin, metrics=evaluation.metrics
        ),
    }
    _enqueue(
        RunEvent(
            eventType=RunState.COMPLETE,
            eventTime=_now(),
            run=Run(runId=_run_id("evaluate", evaluation.pk)),
            job=_job("evaluate"),
            producer=_producer(),
            inputs=[
                InputDataset(
                    namespace=namespace,
                    name=name,
                    facets=facets,
                    inputFacets={"dataQualityMetrics": _quality_metrics(version)},
                )
            ],
        )
    )


def decision_recorded(decision, policy_verdict: str | None) -> None:
    """A review decision (approval, rejection, revocation …) as a dataset event carrying the new status."""
    version = decision.version
    namespace, name = lineage_identity(version)
    facets = {
        **_version_facets(version),
        "syntheticRegistry_approval": SyntheticRegistryApprovalDatasetFacet(
            status=decision.to_status,
            action=decision.action,
            decidedBy=decision.decided_by.username,
            comment=decision.comment,
            waiver=decision.waiver,
            policyVerdict=policy_verdict,
            registryUrl=f"{_base_url()}/api/v1/versions/{version.pk}/",
        ),
    }
    _enqueue(
        DatasetEvent(
            eventTime=_now(), producer=_producer(), dataset=Dataset(namespace=namespace, name=name, facets=facets)
        )
    )


def source_revoked(source: SourceDataset) -> None:
    """A revoked real source as a dataset event, so the organisation's lineage system flags it too."""
    facets = {
        "syntheticRegistry_approval": SyntheticRegistryApprovalDatasetFacet(
            status="revoked", action="revoke", comment=source.revocation_reason
        )
    }
    _enqueue(
        DatasetEvent(
            eventTime=_now(),
            producer=_producer(),
            dataset=Dataset(namespace=source.namespace, name=source.name, facets=facets),
        )
    )


CLAIM_TIMEOUT = dt.timedelta(minutes=5)
OUTBOX_SEND_SOON_LIMIT = 20  # after a change: its own few events; the periodic send drains the rest
OUTBOX_MAX_SENDS = 12  # with backoff doubling from 1 minute (capped at 6 hours): about 1.5 days of retries
MAX_BACKOFF = dt.timedelta(hours=6)


def retry_delay(attempts: int) -> dt.timedelta:
    """How long to wait after the `attempts`-th failed send: 1, 2, 4 … minutes, at most MAX_BACKOFF."""
    return min(dt.timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _claimable(now: dt.datetime) -> Q:
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return (Q(state=OutboxState.PENDING) & due) | Q(state=OutboxState.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT)


def outbox_due() -> bool:
    """Whether any event waits to be sent now (a cheap check before asking a worker to send)."""
    return LineageOutbox.objects.filter(_claimable(timezone.now())).exists()


def send_outbox(*, limit: int = 200) -> dict[str, int]:
    """Send due events oldest first; a failure waits (with backoff) and is retried, up to OUTBOX_MAX_SENDS.

    Rows are claimed in a short transaction and sent outside it: a slow or unreachable lineage backend
    never holds database locks. A claim older than CLAIM_TIMEOUT (its sender died) is taken over. An
    event that keeps failing waits longer each time, so it never holds up newer ones, and is given up
    (state `gave_up`, with its last error) after OUTBOX_MAX_SENDS.
    """
    now = timezone.now()
    with transaction.atomic():
        claimable = _claimable(now)
        rows = list(LineageOutbox.objects.select_for_update(skip_locked=True).filter(claimable).order_by("id")[:limit])
        LineageOutbox.objects.filter(pk__in=[r.pk for r in rows]).update(state=OutboxState.SENDING, claimed_at=now)
    sent = failed = 0
    for row in rows:
        try:
            _client().transport.emit(row.event)
        except Exception as exc:  # any transport failure: keep the event, try again later
            failed += 1
            attempts = row.attempts + 1
            LineageOutbox.objects.filter(pk=row.pk).update(
                state=OutboxState.PENDING if attempts < OUTBOX_MAX_SENDS else OutboxState.GAVE_UP,
                attempts=attempts,
                next_attempt_at=timezone.now() + retry_delay(attempts),
                last_error=f"{type(exc).__name__}: {exc}"[:2000],
            )
            logger.warning("OpenLineage emission %s failed (attempt %s): %s", row.pk, attempts, exc)
            continue
        sent += 1
        LineageOutbox.objects.filter(pk=row.pk).update(
            state=OutboxState.SENT, sent_at=timezone.now(), attempts=F("attempts") + 1, last_error=""
        )
    return {"sent": sent, "failed": failed}


@shared_task(name="registry.tasks.send_lineage_outbox", acks_late=True)
def send_lineage_outbox(limit: int = 200) -> dict[str, int]:
    """Send the registry's due OpenLineage events (after each change, and on every worker tick for retries)."""
    return send_outbox(limit=limit)
