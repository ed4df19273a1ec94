"""Validating OpenLineage events the way Marquez does, naming the failing field."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from common.text import forbidden_character

EVENT_TYPES = ("RunEvent", "DatasetEvent", "JobEvent")
RUN_STATES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")


class LineageEventError(ValueError):
    """An event that cannot be accepted; `field` is its dotted path (e.g. run.runId)."""

    def __init__(self, field: str, reason: str, index: int | None = None):
        self.field = field
        self.reason = reason
        self.index = index
        super().__init__(f"{field}: {reason}")

    def as_data(self) -> dict[str, Any]:
        key = self.field if self.index is None else f"[{self.index}].{self.field}"
        return {key: [self.reason]}


@dataclass(frozen=True)
class DatasetRef:
    namespace: str
    name: str
    facets: dict[str, Any] = field(default_factory=dict)
    input_facets: dict[str, Any] = field(default_factory=dict)
    output_facets: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str | None:
        facet = self.facets.get("version")
        if isinstance(facet, dict) and facet.get("datasetVersion") not in (None, ""):
            return str(facet["datasetVersion"])
        return None


@dataclass(frozen=True)
class ParsedEvent:
    """The parts of an event the graph needs; `payload` stays exactly as received."""

    payload: dict[str, Any]
    event_hash: str
    event_type: str
    event_time: dt.datetime
    producer: str
    schema_url: str
    state: str = ""
    run_id: uuid.UUID | None = None
    run_facets: dict[str, Any] = field(default_factory=dict)
    job_namespace: str = ""
    job_name: str = ""
    job_facets: dict[str, Any] = field(default_factory=dict)
    inputs: list[DatasetRef] = field(default_factory=list)
    outputs: list[DatasetRef] = field(default_factory=list)
    dataset: DatasetRef | None = None


def event_type_of(payload: dict[str, Any]) -> str:
    """From the last segment of schemaURL (…#/definitions/RunEvent, …#/$defs/JobEvent); RunEvent otherwise."""
    url = payload.get("schemaURL")
    if isinstance(url, str):
        tail = url.rsplit("/", 1)[-1]
        if tail in EVENT_TYPES:
            return tail
    return "RunEvent"


def canonical_hash(payload: dict[str, Any]) -> str:
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


# Column sizes of the lineage tables: longer values are refused with a 422, not a database error.
MAX_NAMESPACE, MAX_NAME, MAX_VERSION = 255, 1000, 255


def _text(obj: dict, key: str, path: str, max_length: int | None = None) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise LineageEventError(path, "is required (a non-empty string)")
    if max_length is not None and len(value) > max_length:
        raise LineageEventError(path, f"is longer than {max_length} characters")
    problem = forbidden_character(value)
    if problem:
        raise LineageEventError(path, problem)
    return value


def _object(obj: dict, key: str, path: str, required: bool = True) -> dict:
    value = obj.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise LineageEventError(path, "is required (an object)" if value is None else "must be an object")
    return value


def _time(value: Any, path: str) -> dt.datetime:
    if not isinstance(value, str) or "T" not in value:
        raise LineageEventError(path, "must be an ISO-8601 date-time with a time zone, e.g. 2026-11-21T10:00:00Z")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise LineageEventError(path, f"is not an ISO-8601 date-time: {exc}") from exc
    if parsed.tzinfo is None:
        raise LineageEventError(path, "needs a time zone offset (e.g. Z or +02:00)")
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError as exc:
        raise LineageEventError(path, "is out of range once in UTC") from exc


def _datasets(items: Any, path: str) -> list[DatasetRef]:
    if items is None:
        return []
    if not isinstance(items, list):
        raise LineageEventError(path, "must be a list of datasets")
    refs = []
    for index, item in enumerate(items):
        item_path = f"{path}[{index}]"
        if not isinstance(item, dict):
            raise LineageEventError(item_path, "must be an object")
        ref = DatasetRef(
            namespace=_text(item, "namespace", f"{item_path}.namespace", MAX_NAMESPACE),
            name=_text(item, "name", f"{item_path}.name", MAX_NAME),
            facets=_object(item, "facets", f"{item_path}.facets", required=False),
            input_facets=_object(item, "inputFacets", f"{item_path}.inputFacets", required=False),
            output_facets=_object(item, "outputFacets", f"{item_path}.outputFacets", required=False),
        )
        if ref.version is not None and len(ref.version) > MAX_VERSION:
            raise LineageEventError(
                f"{item_path}.facets.version.datasetVersion", f"is longer than {MAX_VERSION} characters"
            )
        refs.append(ref)
    return refs


def parse_event(payload: Any) -> ParsedEvent:
    """Check an event's required fields (Marquez's rules) and extract what the graph needs."""
    if not isinstance(payload, dict):
        raise LineageEventError("event", "must be a JSON object")
    event_type = event_type_of(payload)
    event_time = _time(payload.get("eventTime"), "eventTime")
    producer = _text(payload, "producer", "producer")
    common = {
        "payload": payload,
        "event_hash": canonical_hash(payload),
        "event_type": event_type,
        "event_time": event_time,
        "producer": producer,
        "schema_url": payload.get("schemaURL") if isinstance(payload.get("schemaURL"), str) else "",
    }
    if event_type == "DatasetEvent":
        dataset = _datasets([_object(payload, "dataset", "dataset")], "dataset")[0]
        return ParsedEvent(**common, dataset=dataset)
    job = _object(payload, "job", "job")
    job_fields = {
        "job_namespace": _text(job, "namespace", "job.namespace", MAX_NAMESPACE),
        "job_name": _text(job, "name", "job.name", MAX_NAME),
        "job_facets": _object(job, "facets", "job.facets", required=False),
        "inputs": _datasets(payload.get("inputs"), "inputs"),
        "outputs": _datasets(payload.get("outputs"), "outputs"),
    }
    if event_type == "JobEvent":
        return ParsedEvent(**common, **job_fields)
    run = _object(payload, "run", "run")
    try:
        run_id = uuid.UUID(str(run.get("runId")))
    except ValueError as exc:
        raise LineageEventError("run.runId", "must be a UUID") from exc
    state = payload.get("eventType") or "OTHER"
    if state not in RUN_STATES:
        raise LineageEventError("eventType", f"must be one of {', '.join(RUN_STATES)}")
    return ParsedEvent(
        **common,
        **job_fields,
        state=state,
        run_id=run_id,
        run_facets=_object(run, "facets", "run.facets", required=False),
    )
