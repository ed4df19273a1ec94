"""Registering a synthetic dataset version: one transaction, idempotent on the content fingerprint."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Max

from core.audit import audited_atomic, record_event
from core.context import Actor
from core.errors import Conflict, InvalidInput, NotPermitted
from core.models import Project
from core.permissions import require_capability
from core.roles import Capability

from ..content import ContentFacts
from ..evaluation.constraints import check_constraints
from ..evaluation.errors import EvaluationInputError
from ..hooks import evidence_changed
from ..lineage import emit
from ..models import Dataset, DatasetVersion, Generator, SourceDataset, VersionSource


@dataclass(frozen=True)
class GeneratorSpec:
    """The generator a pipeline names: implementation, version, parameters and seed."""

    name: str
    version: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None


@dataclass(frozen=True)
class SourceSpec:
    """A real source dataset by its OpenLineage identity, with the version used if known."""

    namespace: str
    name: str
    version: str = ""


@dataclass(frozen=True)
class RegistrationResult:
    version: DatasetVersion
    created: bool


def _provenance(
    *, generator: GeneratorSpec, code_version: str, sources: Sequence[SourceSpec], constraints: Sequence[dict]
) -> dict[str, Any]:
    return {
        "generator.name": generator.name,
        "generator.version": generator.version,
        "generator.parameters": generator.parameters,
        "generator.seed": generator.seed,
        "code_version": code_version,
        "sources": sorted((s.namespace, s.name, s.version) for s in sources),
        "constraints": list(constraints),
    }


def _version_provenance(version: DatasetVersion) -> dict[str, Any]:
    return _provenance(
        generator=GeneratorSpec(
            name=version.generator.name,
            version=version.generator.version,
            parameters=version.generator_parameters,
            seed=version.seed,
        ),
        code_version=version.code_version,
        sources=[
            SourceSpec(link.source.namespace, link.source.name, link.source_version)
            for link in version.source_links.select_related("source")
        ],
        constraints=version.constraints,
    )


def _same_or_conflict(
    existing: DatasetVersion,
    *,
    generator: GeneratorSpec,
    code_version: str,
    sources: Sequence[SourceSpec],
    constraints: Sequence[dict],
) -> RegistrationResult:
    claimed = _provenance(generator=generator, code_version=code_version, sources=sources, constraints=constraints)
    recorded = _version_provenance(existing)
    differing = sorted(key for key in claimed if claimed[key] != recorded[key])
    if differing:
        raise Conflict(
            f"these bytes are already registered as {existing} (id {existing.id}) with different "
            f"provenance: {', '.join(differing)}",
            extra={"version": str(existing.id), "differing_fields": differing},
        )
    return RegistrationResult(version=existing, created=False)


def find_registered_duplicate(
    *,
    project: Project,
    dataset_name: str,
    fingerprint: str,
    generator: GeneratorSpec,
    code_version: str,
    sources: Sequence[SourceSpec],
    constraints: Sequence[dict] = (),
) -> RegistrationResult | None:
    """The existing version for these bytes, if any (Conflict when its provenance differs)."""
    existing = (
        DatasetVersion.objects.select_related("dataset__project", "generator")
        .filter(dataset__project=project, dataset__name=dataset_name, fingerprint=fingerprint)
        .first()
    )
    if existing is None:
        return None
    return _same_or_conflict(
        existing, generator=generator, code_version=code_version, sources=sources, constraints=constraints
    )


def checked_constraints(constraints: Any, columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Declared generator constraints (``registry.evaluation.constraints``), checked against the version's
    columns when known; InvalidInput names the failing part (``constraints[2].parameters.low_column_name``)."""
    try:
        return check_constraints(constraints, columns)
    except EvaluationInputError as exc:
        raise InvalidInput(exc.reason, field=exc.field) from exc


def _dataset_for(*, actor: Actor, project: Project, name: str, defaults: dict[str, Any]) -> Dataset:
    dataset = Dataset.objects.filter(project=project, name=name).first()
    if dataset is not None:
        return dataset
    dataset = Dataset(project=project, name=name, **defaults)
    try:
        dataset.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise InvalidInput(messages[0], field="dataset" if field == "name" else field) from exc
    dataset.save()
    record_event(
        actor=actor,
        action="dataset.created",
        obj=dataset,
        project=project,
        after={"name": name, **defaults},
    )
    return dataset


def _generator_for(*, actor: Actor, project: Project, spec: GeneratorSpec) -> Generator:
    generator = Generator.objects.filter(project=project, name=spec.name, version=spec.version).first()
    if generator is not None:
        return generator
    generator = Generator.objects.create(project=project, name=spec.name, version=spec.version)
    record_event(
        actor=actor,
        action="generator.created",
        obj=generator,
        project=project,
        after={"name": spec.name, "version": spec.version},
    )
    return generator


def _source_for(*, actor: Actor, project: Project, spec: SourceSpec) -> SourceDataset:
    source = SourceDataset.objects.filter(project=project, namespace=spec.namespace, name=spec.name).first()
    if source is not None:
        if source.revoked_at is not None:
            raise Conflict(
                f"source {source} was revoked on {source.revoked_at:%Y-%m-%d}: no new version may be generated "
                f"from it ({source.revocation_reason})",
                extra={"source": source.pk},
            )
        return source
    source = SourceDataset.objects.create(project=project, namespace=spec.namespace, name=spec.name)
    record_event(
        actor=actor,
        action="source.created",
        obj=source,
        project=project,
        after={"namespace": spec.namespace, "name": spec.name},
    )
    return source


def version_snapshot(version: DatasetVersion) -> dict[str, Any]:
    """The registered facts of a version, as recorded in the audit trail."""
    return {
        "dataset": version.dataset.name,
        "number": version.number,
        "status": version.status,
        "fingerprint": version.fingerprint,
        "fingerprint_source": version.fingerprint_source,
        "schema_hash": version.schema_hash,
        "row_count": version.row_count,
        "column_count": version.column_count,
        "byte_count": version.byte_count,
        "storage_uri": version.storage_uri,
        "format": version.format,
        "generator": {"name": version.generator.name, "version": version.generator.version},
        "generator_parameters": version.generator_parameters,
        "seed": version.seed,
        "code_version": version.code_version,
        "constraints": version.constraints,
        "sources": [
            {"namespace": link.source.namespace, "name": link.source.name, "version": link.source_version}
            for link in version.source_links.select_related("source")
        ],
        "lineage_run_id": version.lineage_run_id,
    }


def dataset_version_register(
    *,
    actor: Actor,
    project: Project,
    dataset_name: str,
    generator: GeneratorSpec,
    sources: Sequence[SourceSpec],
    code_version: str,
    content: ContentFacts,
    dataset_defaults: dict[str, Any] | None = None,
    lineage_run_id: UUID | None = None,
    constraints: Sequence[dict] = (),
) -> RegistrationResult:
    """Register a version, creating its dataset, generator and sources if missing.

    ``constraints``: the generator's constraints (sdmetrics' dicts), checked against the file's columns; the
    diagnostic evaluations score them. The same bytes again in the same dataset return the existing version
    (created=False) when the provenance (constraints included) matches, and raise Conflict when it does not.
    """
    require_capability(actor=actor, project=project, capability=Capability.REGISTER, what="registering versions")
    if actor.user is None:
        raise NotPermitted("registration needs an authenticated user")
    if len({(s.namespace, s.name) for s in sources}) != len(sources):
        raise InvalidInput("the same source dataset is listed twice", field="sources")
    constraints = checked_constraints(list(constraints), [column["name"] for column in content.schema])
    with audited_atomic():
        # The audit head lock orders concurrent registrations, so this read sees any committed twin.
        duplicate = find_registered_duplicate(
            project=project,
            dataset_name=dataset_name,
            fingerprint=content.fingerprint,
            generator=generator,
            code_version=code_version,
            sources=sources,
            constraints=constraints,
        )
        if duplicate is not None:
            return duplicate
        dataset = _dataset_for(actor=actor, project=project, name=dataset_name, defaults=dataset_defaults or {})
        generator_row = _generator_for(actor=actor, project=project, spec=generator)
        source_rows = [(_source_for(actor=actor, project=project, spec=s), s.version) for s in sources]
        last = DatasetVersion.objects.filter(dataset=dataset).aggregate(n=Max("number"))["n"] or 0
        version = DatasetVersion.objects.create(
            dataset=dataset,
            number=last + 1,
            fingerprint=content.fingerprint,
            fingerprint_source=content.fingerprint_source,
            schema=content.schema,
            schema_hash=content.schema_hash,
            row_count=content.row_count,
            column_count=content.column_count,
            byte_count=content.byte_count,
            storage_uri=content.storage_uri,
            format=content.format,
            stored_file=content.stored_file,
            generator=generator_row,
            generator_parameters=generator.parameters,
            seed=generator.seed,
            code_version=code_version,
            constraints=constraints,
            lineage_run_id=lineage_run_id,
            registered_by=actor.user,
            registered_via=actor.via[:64],
        )
        VersionSource.objects.bulk_create(
            VersionSource(version=version, source=source, source_version=source_version)
            for source, source_version in source_rows
        )
        record_event(
            actor=actor,
            action="version.registered",
            obj=version,
            project=project,
            after=version_snapshot(version),
        )
        emit.version_registered(version)
        evidence_changed.send(version_id=str(version.pk), trigger="registration")
    return RegistrationResult(version=version, created=True)


def version_link_lineage_run(*, actor: Actor, version: DatasetVersion, run_id: UUID) -> DatasetVersion:
    """Record the OpenLineage run that produced an already registered version (once; never overwritten)."""
    with audited_atomic():
        version = DatasetVersion.objects.select_for_update().select_related("dataset__project").get(pk=version.pk)
        if version.lineage_run_id is not None:
            return version
        version.lineage_run_id = run_id
        version.save(update_fields=["lineage_run_id", "updated_at"])
        record_event(
            actor=actor,
            action="version.lineage_linked",
            obj=version,
            project=version.dataset.project,
            before={"lineage_run_id": None},
            after={"lineage_run_id": run_id},
        )
    return version
