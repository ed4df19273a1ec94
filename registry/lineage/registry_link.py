"""Outputs carrying the registry's custom facets become dataset versions, through the registration service."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

from core.context import Actor
from core.errors import DomainError
from core.models import Project

from ..services.intake import RegistrationRequest, dataset_version_register_declared, dataset_version_register_uri
from ..services.registration import GeneratorSpec, SourceSpec, version_link_lineage_run
from ..tables.formats import FORMATS
from .facets import CONTENT_FACET, GENERATOR_FACET
from .validation import DatasetRef, LineageEventError, ParsedEvent

_INVALID_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def dataset_name_for(ref: DatasetRef, requested: Any) -> str:
    """The registry dataset an output belongs to: the facet's `dataset`, or the output's name made safe."""
    if isinstance(requested, str) and requested.strip():
        return requested.strip()
    # A local file is named by its path: the file name says more than the directories above it.
    source = ref.name.rsplit("/", 1)[-1] if ref.namespace == "file" else ref.name
    name = _INVALID_NAME.sub("-", source).strip("-.") or "dataset"
    return name[:200]


def _generator(facet: Any, path: str) -> GeneratorSpec:
    if not isinstance(facet, dict):
        raise LineageEventError(path, "must be an object")
    name = facet.get("name")
    if not isinstance(name, str) or not name.strip():
        raise LineageEventError(f"{path}.name", "is required (the generator's implementation)")
    if len(name) > 200:
        raise LineageEventError(f"{path}.name", "is longer than 200 characters")
    for key, limit in (("version", 100), ("codeVersion", 255), ("dataset", 200)):
        value = facet.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            raise LineageEventError(f"{path}.{key}", f"must be a string of at most {limit} characters")
    parameters = facet.get("parameters", {})
    if not isinstance(parameters, dict):
        raise LineageEventError(f"{path}.parameters", "must be an object")
    seed = facet.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not -(2**63) <= seed < 2**63):
        raise LineageEventError(f"{path}.seed", "must be a 64-bit integer or null")
    version = facet.get("version", "")
    return GeneratorSpec(name=name, version=str(version or ""), parameters=parameters, seed=seed)


def _code_version(event: ParsedEvent, facet: dict) -> str:
    if isinstance(facet.get("codeVersion"), str) and facet["codeVersion"].strip():
        return facet["codeVersion"]
    location = event.job_facets.get("sourceCodeLocation") or {}
    if isinstance(location, dict) and location.get("version"):
        return f"{location.get('url', '')}@{location['version']}".lstrip("@")
    return f"openlineage {event.job_namespace}:{event.job_name} run {event.run_id}"


def registrations_in(event: ParsedEvent) -> list[tuple[int, DatasetRef, dict, dict]]:
    """(index, output, generator facet, content facet) for every output the registry should register."""
    if event.event_type != "RunEvent" or event.state != "COMPLETE":
        return []
    found = []
    for index, ref in enumerate(event.outputs):
        # The registry's own emitted events describe versions it already holds: never register them twice.
        if ref.namespace == settings.REGISTRY_LINEAGE_NAMESPACE:
            continue
        if GENERATOR_FACET in ref.facets:
            content = ref.facets.get(CONTENT_FACET) or {}
            if not isinstance(content, dict):
                raise LineageEventError(f"outputs[{index}].facets.{CONTENT_FACET}", "must be an object")
            found.append((index, ref, ref.facets[GENERATOR_FACET], content))
    return found


def register_from_event(*, actor: Actor, project: Project | None, event: ParsedEvent) -> list[str]:
    """Register each output the event marks as synthetic; return the version ids."""
    wanted = registrations_in(event)
    if not wanted:
        return []
    if project is None:
        raise LineageEventError(
            "project", "registering a synthetic output needs a project: use a project-bound token or ?project=<slug>"
        )
    for index, ref in enumerate(event.inputs):
        if len(ref.namespace) > 255 or len(ref.name) > 500:
            raise LineageEventError(f"inputs[{index}].name", "a source dataset's name is longer than 500 characters")
    sources = [SourceSpec(ref.namespace, ref.name, ref.version or "") for ref in event.inputs]
    versions = []
    for index, ref, generator_facet, content in wanted:
        path = f"outputs[{index}].facets"
        request = RegistrationRequest(
            project=project,
            dataset_name=dataset_name_for(ref, generator_facet.get("dataset")),
            generator=_generator(generator_facet, f"{path}.{GENERATOR_FACET}"),
            sources=sources,
            code_version=_code_version(event, generator_facet),
            lineage_run_id=event.run_id,
            dataset_defaults={
                "description": f"Registered from OpenLineage output {ref.namespace}:{ref.name}",
                "lineage_namespace": ref.namespace,
                "lineage_name": ref.name,
            },
        )
        try:
            outcome = _register(actor, request, ref, content, f"{path}.{CONTENT_FACET}")
        except DomainError as exc:
            field = f"{path}.{CONTENT_FACET}.{exc.field}" if exc.field else f"outputs[{index}]"
            raise LineageEventError(field, exc.reason) from exc
        version = outcome.result.version if outcome.result else None
        if version is not None and version.lineage_run_id is None:
            version_link_lineage_run(actor=actor, version=version, run_id=event.run_id)
        if version is not None:
            versions.append(str(version.pk))
    return versions


def _check_content(content: dict, path: str) -> None:
    """The content facet's fields against its published JSON Schema (types and sizes)."""
    rules = {
        "fingerprint": lambda v: isinstance(v, str) and len(v) == 64,
        "schema": lambda v: isinstance(v, list),
        "rowCount": lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**63,
        "byteCount": lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**63),
        "storageUri": lambda v: isinstance(v, str) and len(v) <= 2000,
        "format": lambda v: v in FORMATS,
    }
    reasons = {
        "fingerprint": "must be a SHA-256: 64 hexadecimal characters",
        "schema": "must be a list of {name, dtype, sdtype?}",
        "rowCount": "must be a non-negative integer",
        "byteCount": "must be a non-negative integer",
        "storageUri": "must be a string of at most 2000 characters",
        "format": f"must be one of {', '.join(FORMATS)}",
    }
    for key, valid in rules.items():
        if key in content and content[key] not in (None, "") and not valid(content[key]):
            raise LineageEventError(f"{path}.{key}", reasons[key])


def _register(actor: Actor, request: RegistrationRequest, ref: DatasetRef, content: dict, path: str):
    _check_content(content, path)
    uri = content.get("storageUri") or (f"file://{ref.name}" if ref.namespace == "file" else "")
    if isinstance(uri, str) and uri.startswith("file:"):
        return dataset_version_register_uri(
            actor=actor,
            request=request,
            uri=uri,
            declared_format=content.get("format"),
            declared_fingerprint=content.get("fingerprint"),
        )
    missing = [key for key in ("fingerprint", "schema", "rowCount") if content.get(key) in (None, "", [])]
    if missing:
        raise LineageEventError(
            f"{path}.{missing[0]}",
            "is required: declare fingerprint, schema and rowCount, or give a file:// storageUri under a data root",
        )
    row_count = content["rowCount"]
    return dataset_version_register_declared(
        actor=actor,
        request=request,
        fingerprint=content["fingerprint"],
        schema=content["schema"],
        row_count=row_count,
        byte_count=content.get("byteCount"),
        storage_uri=uri or f"{ref.namespace}/{ref.name}",
        declared_format=content.get("format"),
    )
