"""The format-independent card of a version: every fact a card shows, as plain JSON data.

Markdown, HTML and JSON are all rendered from this one dictionary, and its canonical JSON is what a
card revision's content hash covers; so it holds evidence only (nothing that changes by itself, such as
"now" or a revision number: those are card metadata, added when rendering).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from common.jsonable import to_jsonable
from governance.review import ReviewState, review_state
from registry.models import DatasetVersion, VersionSource
from registry.selectors import version_evidence

from .anonymity import anonymity_section
from .evidence import bias_section, evaluations_section, plots_section, privacy_section, quality_section
from .review import changes_section, governance_section, limitations_section

SCHEMA_VERSION = 2  # 2: the anonymity section and the privacy plots
# Hugging Face size_categories buckets (upper bounds, exclusive), in order.
_SIZE_BUCKETS = [
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
    (10_000_000_000, "1B<n<10B"),
    (100_000_000_000, "10B<n<100B"),
    (1_000_000_000_000, "100B<n<1T"),
]


def size_category(rows: int) -> str:
    """The Hugging Face size bucket of a row count."""
    for bound, label in _SIZE_BUCKETS:
        if rows < bound:
            return label
    return "n>1T"


def load_version(version_id) -> DatasetVersion:
    """A version with everything its card reads joined or prefetched."""
    return (
        DatasetVersion.objects.select_related("dataset__project", "generator", "registered_by")
        .prefetch_related(Prefetch("source_links", queryset=VersionSource.objects.select_related("source")))
        .get(pk=version_id)
    )


def previous_version(version: DatasetVersion) -> DatasetVersion | None:
    """The dataset's version with the next lower number, if any."""
    return (
        DatasetVersion.objects.filter(dataset_id=version.dataset_id, number__lt=version.number)
        .select_related("generator")
        .prefetch_related(Prefetch("source_links", queryset=VersionSource.objects.select_related("source")))
        .order_by("-number")
        .first()
    )


def _identity(version: DatasetVersion, previous: DatasetVersion | None) -> dict[str, Any]:
    dataset = version.dataset
    return {
        "project": dataset.project.slug,
        "project_name": dataset.project.name,
        "dataset": dataset.name,
        "pretty_name": f"{dataset.name} v{version.number}",
        "description": dataset.description,
        "version": version.number,
        "version_id": str(version.pk),
        "owner": dataset.owner,
        "contact": dataset.contact,
        "license": dataset.license,
        "tags": list(dataset.tags or []),
        "fingerprint": version.fingerprint,
        "fingerprint_source": version.get_fingerprint_source_display(),
        "schema_hash": version.schema_hash,
        "status": version.status,
        "status_label": version.get_status_display(),
        "registered_at": version.created_at,
        "registered_by": version.registered_by.username,
        "registered_via": version.registered_via,
        "storage_uri": version.storage_uri,
        "format": version.format,
        "previous": None
        if previous is None
        else {"version": previous.number, "version_id": str(previous.pk), "fingerprint": previous.fingerprint},
    }


def _structure(version: DatasetVersion) -> dict[str, Any]:
    return {
        "row_count": version.row_count,
        "column_count": version.column_count,
        "byte_count": version.byte_count,
        "format": version.format,
        "size_category": size_category(version.row_count),
        "columns": [
            {"name": c.get("name"), "dtype": c.get("dtype", ""), "sdtype": c.get("sdtype", "")}
            for c in version.schema or []
        ],
    }


def _generation(version: DatasetVersion) -> dict[str, Any]:
    return {
        "generator": version.generator.name,
        "generator_version": version.generator.version,
        "parameters": version.generator_parameters or {},
        "seed": version.seed,
        "code_version": version.code_version,
        "lineage_run_id": version.lineage_run_id,
    }


def _sources(version: DatasetVersion) -> list[dict[str, Any]]:
    return [
        {
            "namespace": link.source.namespace,
            "name": link.source.name,
            "identity": f"{link.source.namespace}:{link.source.name}",
            "source_version": link.source_version,
            "description": link.source.description,
            "contains_personal_data": link.source.contains_personal_data,
            "legal_basis": link.source.legal_basis,
            "owner": link.source.owner,
            "license": link.source.license,
            "fingerprint": link.source.fingerprint,
            "revoked_at": link.source.revoked_at,
            "revocation_reason": link.source.revocation_reason,
        }
        for link in version.source_links.all()
    ]


def card_context(version: DatasetVersion) -> dict[str, Any]:
    """Everything the card of this version shows, from its current evidence (plain JSON data)."""
    version = load_version(version.pk)
    previous = previous_version(version)
    evidence = version_evidence(version)
    review: ReviewState = review_state(version=version)
    previous_verified = version_evidence(previous).verified if previous is not None else None
    context = {
        "schema_version": SCHEMA_VERSION,
        "identity": _identity(version, previous),
        "uses": {
            "intended": version.dataset.intended_uses,
            "out_of_scope": version.dataset.out_of_scope_uses,
            "prohibited": version.dataset.prohibited_uses,
        },
        "structure": _structure(version),
        "generation": _generation(version),
        "sources": _sources(version),
        "evaluations": evaluations_section(evidence),
        "privacy": privacy_section(evidence),
        "anonymity": anonymity_section(evidence, review),
        "quality": quality_section(evidence, version),
        "bias": bias_section(evidence),
        "plots": plots_section(evidence),
        "governance": governance_section(review),
    }
    context["limitations"] = limitations_section(context, review)
    context["changes"] = changes_section(
        version, previous, evidence, previous_verified.metrics if previous_verified else None
    )
    return to_jsonable(context)
