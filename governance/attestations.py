"""Attestations: the registry's signed word on a version's release, checkable by anyone with its public key.

When a version becomes approved, deprecated or revoked, the decision's transaction also signs an in-toto
Statement v1 in a DSSE envelope (payloadType ``application/vnd.in-toto+json``, the signature's ``keyid`` the
registry's key id, ``GET /api/v1/signing-keys/``). Its subject is the dataset file: its name and its SHA-256
(the version's fingerprint). Its predicate (``PREDICATE_TYPE``, documented in the README) says what a
regulator asks: where the data came from (sources with their fingerprints, generator, parameters, seed, code
version, constraints, lineage run), how it was measured (the verified evaluation the policy check read:
engine and library versions, seed, reference fingerprints, every metric), what the policy said (the policy
snapshot, each rule's threshold, value and verdict), and who decided what when (every decision, waivers
included). No vetted in-toto predicate covers a dataset release (in-toto/attestation #565 and #587 ask for
evaluation results with pre-registered thresholds, dataset hash and seed): this one carries those facts.

An attestation is never changed: each later decision issues a new statement, and the newest is the
version's current standing. Issuing one is audited (``attestation.issued``, with the payload's SHA-256).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from common.evidence import PAYLOAD_TYPE, canonical_json, sign_envelope, statement
from core.audit import record_event
from core.context import Actor
from core.signing import active_key, signer
from registry.models import DatasetVersion, Evaluation, VersionStatus

from .models import Attestation, Decision, PolicyCheck

PREDICATE_TYPE = "urn:synthetic-registry:predicate:synthetic-dataset-release:v1"
_RELATED = ("dataset", "generator", "registered_by")
ATTESTED_STATUSES = (VersionStatus.APPROVED, VersionStatus.DEPRECATED, VersionStatus.REVOKED)


def _iso(moment) -> str | None:
    return None if moment is None else moment.isoformat()


def _id(value) -> str | None:
    return None if value is None else str(value)


def _subject_name(version: DatasetVersion) -> str:
    extension = f".{version.format}" if version.format else ""
    return f"{version.dataset.project.slug}/{version.dataset.name}/v{version.number}{extension}"


def _provenance(version: DatasetVersion) -> dict[str, Any]:
    return {
        "sources": [
            {
                "namespace": link.source.namespace,
                "name": link.source.name,
                "version": link.source_version,
                "sha256": link.source.fingerprint or None,
                "revoked_at": _iso(link.source.revoked_at),
            }
            for link in version.source_links.select_related("source").order_by("source__namespace", "source__name")
        ],
        "generator": {
            "name": version.generator.name,
            "version": version.generator.version,
            "parameters": version.generator_parameters,
        },
        "seed": version.seed,
        "code_version": version.code_version,
        "constraints": version.constraints,
        "lineage_run_id": _id(version.lineage_run_id),
        "registered_at": _iso(version.created_at),
        "registered_by": version.registered_by.get_username(),
    }


def _evaluation(evaluation: Evaluation | None) -> dict[str, Any] | None:
    if evaluation is None:
        return None
    return {
        "id": _id(evaluation.pk),
        "origin": evaluation.origin,
        "engine": evaluation.engine,
        "seed": evaluation.parameters.get("seed"),
        "kinds": evaluation.parameters.get("kinds"),
        "rows": evaluation.parameters.get("rows"),
        "reference_sha256": evaluation.reference_fingerprint or None,
        "holdout_sha256": evaluation.holdout_fingerprint or None,
        "finished_at": _iso(evaluation.finished_at),
        "metrics": evaluation.metrics,
    }


def _policy_check(check: PolicyCheck | None) -> dict[str, Any] | None:
    if check is None:
        return None
    return {
        "id": _id(check.pk),
        "verdict": check.verdict,
        "trigger": check.trigger,
        "checked_at": _iso(check.created_at),
        "policies": check.policies,
        "outcomes": check.outcomes,
    }


def _decisions(version: DatasetVersion) -> list[dict[str, Any]]:
    return [
        {
            "id": decision.pk,
            "action": decision.action,
            "by": decision.decided_by.get_username(),
            "via": decision.decided_via,
            "at": _iso(decision.created_at),
            "from": decision.from_status,
            "to": decision.to_status,
            "review_round": decision.review_round,
            "comment": decision.comment,
            "waiver": decision.waiver,
            "waived_rules": decision.waived_rules,
            "policy_check": _id(decision.policy_check_id),
        }
        for decision in Decision.objects.filter(version=version).select_related("decided_by").order_by("created_at")
    ]


def release_predicate(
    version: DatasetVersion, decision: Decision | None, check: PolicyCheck | None = None
) -> dict[str, Any]:
    """What the statement says about the version (module docstring), as plain JSON data, built directly: an
    approval pays for every query and microsecond of it. ``check``: the decision's policy check, when the
    caller holds it (with its evaluation); otherwise the decision's, or the version's latest."""
    if not all(DatasetVersion._meta.get_field(name).is_cached(version) for name in _RELATED):
        version = DatasetVersion.objects.select_related(*_RELATED, "dataset__project").get(pk=version.pk)
    if check is None and decision is not None and decision.policy_check_id:
        check = PolicyCheck.objects.select_related("evaluation").get(pk=decision.policy_check_id)
    elif check is None:
        check = PolicyCheck.objects.filter(version=version).select_related("evaluation").order_by("-created_at").first()
    return {
        "version": {
            "id": str(version.pk),
            "project": version.dataset.project.slug,
            "dataset": version.dataset.name,
            "number": version.number,
            "status": version.status,
            "rows": version.row_count,
            "columns": version.column_count,
            "schema_sha256": version.schema_hash,
            "fingerprint_source": version.fingerprint_source,
        },
        "provenance": _provenance(version),
        "evaluation": _evaluation(check.evaluation if check is not None else None),
        "policy_check": _policy_check(check),
        "decisions": _decisions(version),
        "issued": {
            "at": timezone.now().isoformat(),
            "reason": version.status,
            "decision": decision.pk if decision is not None else None,
            "registry": settings.REGISTRY_PUBLIC_URL,
        },
    }


def summary(attestation: Attestation) -> dict[str, Any]:
    """What the audit trail records of an attestation."""
    return {
        "attestation": attestation.sequence,
        "status": attestation.status,
        "payload_sha256": attestation.payload_sha256,
        "key_id": attestation.key_id,
        "predicate_type": PREDICATE_TYPE,
    }


def attestation_issue(
    *,
    actor: Actor,
    version: DatasetVersion,
    decision: Decision | None,
    check: PolicyCheck | None = None,
    record: bool = True,
) -> Attestation:
    """Sign and store a statement of the version's current standing, inside the caller's audited transaction
    (the caller holds the version's lock). ``record``: audit it as ``attestation.issued``; a decision records
    it in its own event instead (``summary``), one event per decision."""
    key = active_key()
    body = statement(
        [(_subject_name(version), version.fingerprint.lower())],
        PREDICATE_TYPE,
        release_predicate(version, decision, check),
    )
    payload = canonical_json(body)
    envelope = sign_envelope(payload, PAYLOAD_TYPE, signer())
    latest = Attestation.objects.filter(version=version).aggregate(last=Max("sequence"))["last"] or 0
    attestation = Attestation.objects.create(
        version=version,
        sequence=latest + 1,
        status=version.status,
        decision=decision,
        envelope=envelope,
        payload_sha256=hashlib.sha256(payload).hexdigest(),
        key_id=key.key_id,
    )
    if record:
        record_event(
            actor=actor,
            action="attestation.issued",
            obj=version,
            project=version.dataset.project,
            after=summary(attestation),
        )
    return attestation


def latest_attestation(version: DatasetVersion) -> Attestation | None:
    return Attestation.objects.filter(version=version).order_by("-sequence").first()
