"""Revoking a real source dataset (e.g. GDPR erasure): every version in use generated from it needs re-review."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from core.audit import audited_atomic, record_event
from core.context import Actor
from core.errors import Conflict, InvalidInput
from core.permissions import require_capability
from core.roles import Capability
from registry.lineage import emit
from registry.lineage.downstream import Impact, downstream
from registry.models import SourceDataset
from registry.services.catalog import source_dataset_cards_refresh

from .impact import downstream_versions_flag


@dataclass
class RevocationOutcome:
    """A revoked source, what lies downstream of it, and what happened to each downstream version."""

    source: SourceDataset
    impact: Impact
    flagged: list[dict[str, Any]] = field(default_factory=list)


def source_dataset_revoke(*, actor: Actor, source: SourceDataset, reason: str) -> RevocationOutcome:
    """Mark a source revoked and flag the in-use versions generated from it, in every project, at any depth."""
    require_capability(actor=actor, project=source.project, capability=Capability.REVOKE, what="'revoke'")
    if not reason.strip():
        raise InvalidInput("a reason is required to revoke", field="reason")
    with audited_atomic():
        source = SourceDataset.objects.select_for_update().select_related("project").get(pk=source.pk)
        if source.revoked_at is not None:
            raise Conflict(f"source {source} was already revoked on {source.revoked_at.isoformat()}")
        source.revoked_at = timezone.now()
        source.revocation_reason = reason
        source.save(update_fields=["revoked_at", "revocation_reason"])
        record_event(
            actor=actor,
            action="source.revoked",
            obj=source,
            project=source.project,
            before={"revoked_at": None},
            after={"revoked_at": source.revoked_at, "reason": reason},
        )
        emit.source_revoked(source)
        impact = downstream(source=source)
        flagged = downstream_versions_flag(
            actor=actor, impact=impact, reason=f"source {source} was revoked: {reason}", cause_source=source
        )
        # Every card naming this source shows the revocation, flagged or not (after commit).
        source_dataset_cards_refresh(source=source)
    return RevocationOutcome(source=source, impact=impact, flagged=flagged)
