"""One plain record per exported version: provenance, evaluations, policy checks, decisions, waivers, card.

Versions are read in chunks; for each chunk one `values()` query per related table fetches exactly the
columns the export writes (no model objects, no evaluation details), so memory stays flat and 10k
versions take seconds.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from governance.models import Decision, ImpactFlag, PolicyCheck
from governance.policy_engine import describe
from registry.models import Evaluation, VersionSource

from ..models import Card
from .compliance import version_checklist
from .scope import ExportScope, scoped_versions

CHUNK = 1000
VERSION_FIELDS = {
    "version_id": "id",
    "project": "dataset__project__slug",
    "dataset": "dataset__name",
    "number": "number",
    "status": "status",
    "fingerprint": "fingerprint",
    "fingerprint_source": "fingerprint_source",
    "schema_hash": "schema_hash",
    "row_count": "row_count",
    "column_count": "column_count",
    "byte_count": "byte_count",
    "format": "format",
    "storage_uri": "storage_uri",
    "generator": "generator__name",
    "generator_version": "generator__version",
    "generator_parameters": "generator_parameters",
    "seed": "seed",
    "code_version": "code_version",
    "lineage_run_id": "lineage_run_id",
    "registered_by": "registered_by__username",
    "registered_by_id": "registered_by_id",
    "registered_via": "registered_via",
    "registered_at": "created_at",
    "dataset_owner": "dataset__owner",
    "dataset_license": "dataset__license",
    "intended_uses": "dataset__intended_uses",
    "out_of_scope_uses": "dataset__out_of_scope_uses",
    "prohibited_uses": "dataset__prohibited_uses",
}
OUTCOME_KEYS = (
    "policy",
    "policy_version",
    "rule",
    "metric",
    "operator",
    "threshold",
    "severity",
    "observed",
    "verdict",
)


def _plain(value: Any) -> Any:
    """JSON-ready scalars: datetimes as ISO 8601 text, UUIDs as text."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if value is not None and not isinstance(value, str | int | float | bool | dict | list):
        return str(value)
    return value


def _chunks(items: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _grouped(rows: Iterable[dict[str, Any]], convert) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[str(row["version_id"])].append(convert(row))
    return grouped


def _sources(ids: list) -> dict[str, list[dict[str, Any]]]:
    rows = VersionSource.objects.filter(version_id__in=ids).order_by("source__namespace", "source__name")
    fields = ("namespace", "name", "contains_personal_data", "legal_basis", "owner", "license", "fingerprint")
    values = rows.values(
        "version_id", "source_version", *(f"source__{f}" for f in (*fields, "revoked_at", "revocation_reason"))
    )
    return _grouped(
        values,
        lambda r: {
            **{f: r[f"source__{f}"] for f in fields},
            "source_version": r["source_version"],
            "revoked_at": _plain(r["source__revoked_at"]),
            "revocation_reason": r["source__revocation_reason"],
        },
    )


def _evaluation(r: dict[str, Any]) -> dict[str, Any]:
    engine, parameters = r["engine"] or {}, r["parameters"] or {}
    return {
        "id": str(r["id"]),
        "origin": r["origin"],
        "state": r["state"],
        "tool": r["tool"],
        "engine": f"{engine.get('name', '')} {engine.get('version', '')}".strip(),
        "libraries": engine.get("libraries", {}),
        "seed": parameters.get("seed"),
        "kinds": parameters.get("kinds", []),
        "reference_fingerprint": r["reference_fingerprint"],
        "reference_rows": r["reference_rows"],
        "holdout_fingerprint": r["holdout_fingerprint"],
        "holdout_rows": r["holdout_rows"],
        "requested_by": r["requested_by__username"],
        "created_at": _plain(r["created_at"]),
        "finished_at": _plain(r["finished_at"]),
        "metrics": r["metrics"] or {},
        "error": r["error"],
    }


def _evaluations(ids: list) -> dict[str, list[dict[str, Any]]]:
    fields = ("id", "version_id", "origin", "state", "tool", "engine", "parameters", "reference_fingerprint")
    fields += ("reference_rows", "holdout_fingerprint", "holdout_rows", "requested_by__username", "created_at")
    fields += ("finished_at", "metrics", "error")
    rows = Evaluation.objects.filter(version_id__in=ids).order_by("created_at").values(*fields)
    return _grouped(rows, _evaluation)


def _policy_check(r: dict[str, Any]) -> dict[str, Any]:
    outcomes = [{**{k: o.get(k) for k in OUTCOME_KEYS}, "explanation": o.get("explanation", "")} for o in r["outcomes"]]
    # Policy names and versions are in every outcome: the (large) policy snapshots need not be read.
    policies = list(dict.fromkeys(f"{o['policy']} v{o['policy_version']}" for o in outcomes))
    return {
        "id": str(r["id"]),
        "created_at": _plain(r["created_at"]),
        "trigger": r["trigger"],
        "verdict": r["verdict"],
        "evaluation_id": str(r["evaluation_id"]) if r["evaluation_id"] else None,
        "policies": policies,
        "outcomes": outcomes,
    }


def _policy_checks(ids: list) -> dict[str, list[dict[str, Any]]]:
    rows = PolicyCheck.objects.filter(version_id__in=ids).order_by("created_at")
    return _grouped(
        rows.values("id", "version_id", "created_at", "trigger", "verdict", "evaluation_id", "outcomes"), _policy_check
    )


def _decision(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": r["id"],
        "created_at": _plain(r["created_at"]),
        "action": r["action"],
        "decided_by": r["decided_by__username"],
        "decided_by_id": r["decided_by_id"],
        "decided_via": r["decided_via"],
        "from_status": r["from_status"],
        "to_status": r["to_status"],
        "review_round": r["review_round"],
        "comment": r["comment"],
        "waiver": r["waiver"],
        "waived_rules": [describe(o) for o in r["waived_rules"] or []],
    }


def _decisions(ids: list) -> dict[str, list[dict[str, Any]]]:
    fields = ("id", "version_id", "created_at", "action", "decided_by__username", "decided_by_id", "decided_via")
    fields += ("from_status", "to_status", "review_round", "comment", "waiver", "waived_rules")
    return _grouped(Decision.objects.filter(version_id__in=ids).order_by("created_at", "id").values(*fields), _decision)


def _flags(ids: list) -> dict[str, list[dict[str, Any]]]:
    rows = ImpactFlag.objects.filter(version_id__in=ids).order_by("created_at")
    return _grouped(
        rows.values("version_id", "created_at", "reason", "previous_status", "resolved_by_id"),
        lambda r: {
            "created_at": _plain(r["created_at"]),
            "reason": r["reason"],
            "previous_status": r["previous_status"],
            "resolved": r["resolved_by_id"] is not None,
        },
    )


def _latest_cards(ids: list) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    rows = Card.objects.filter(version_id__in=ids).order_by("version_id", "-revision")
    for r in rows.values("version_id", "revision", "content_hash", "created_at"):
        latest.setdefault(
            str(r["version_id"]),
            {"revision": r["revision"], "content_hash": r["content_hash"], "created_at": _plain(r["created_at"])},
        )
    return latest


def version_records(scope: ExportScope, *, chunk_size: int = CHUNK) -> Iterator[dict[str, Any]]:
    """Every version in scope as plain JSON-ready data, read chunk by chunk."""
    versions = scoped_versions(scope).values(*VERSION_FIELDS.values()).iterator(chunk_size=chunk_size)
    for chunk in _chunks(versions, chunk_size):
        ids = [row["id"] for row in chunk]
        related = {
            "sources": _sources(ids),
            "evaluations": _evaluations(ids),
            "policy_checks": _policy_checks(ids),
            "decisions": _decisions(ids),
            "flags": _flags(ids),
        }
        cards = _latest_cards(ids)
        for row in chunk:
            record = {key: _plain(row[field]) for key, field in VERSION_FIELDS.items()}
            vid = record["version_id"]
            for name, by_version in related.items():
                record[name] = by_version.get(vid, [])
            record["card"] = cards.get(vid)
            record["checklist"] = version_checklist(record)
            yield record
