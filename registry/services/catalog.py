"""Edits to catalogue records (source datasets), each audited with before and after."""

from __future__ import annotations

from typing import Any

from core.audit import audited_atomic, record_update
from core.context import Actor
from core.errors import InvalidInput
from core.permissions import require_capability
from core.roles import Capability

from ..hooks import evidence_changed
from ..models import SourceDataset, VersionSource

SOURCE_EDITABLE = ("description", "contains_personal_data", "legal_basis", "owner", "license", "fingerprint")


def source_dataset_cards_refresh(*, source: SourceDataset) -> int:
    """Refresh, after commit, the card of every version generated from this source; returns how many.

    A card shows its sources' personal-data status, legal basis, licence and revocation, so any change to
    a source record is a change to the evidence of every version linked to it.
    """
    version_ids = list(VersionSource.objects.filter(source=source).values_list("version_id", flat=True))
    for version_id in version_ids:
        evidence_changed.send(version_id=str(version_id), trigger="evidence_changed")
    return len(version_ids)


def source_dataset_update(*, actor: Actor, source: SourceDataset, **changes: Any) -> SourceDataset:
    """Describe a real source dataset: personal data, legal basis, owner, licence, fingerprint."""
    unknown = sorted(set(changes) - set(SOURCE_EDITABLE))
    if unknown:
        raise InvalidInput(f"cannot be edited: {', '.join(unknown)}", field=unknown[0])
    require_capability(
        actor=actor, project=source.project, capability=Capability.REGISTER, what="describing source datasets"
    )
    with audited_atomic():
        source = SourceDataset.objects.select_for_update().get(pk=source.pk)
        if record_update(actor=actor, obj=source, changes=changes, action="source.updated", project=source.project):
            source_dataset_cards_refresh(source=source)
    return source
