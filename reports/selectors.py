"""Reads of the reports app: cards by version and revision, and the exports a caller may see."""

from __future__ import annotations

from django.db.models import QuerySet

from core.context import Actor
from core.roles import Capability
from core.selectors import project_ids_with
from registry.models import DatasetVersion

from .models import Card, CardFile, Export


def latest_card(version: DatasetVersion) -> Card | None:
    """The newest revision of a version's card, or None before the first one."""
    return Card.objects.filter(version_id=version.pk).order_by("-revision").first()


def card_revision(version: DatasetVersion, revision: int | None = None) -> Card | None:
    """One revision of a version's card (the newest when `revision` is None)."""
    if revision is None:
        return latest_card(version)
    return Card.objects.filter(version_id=version.pk, revision=revision).first()


def card_file(card: Card, fmt: str) -> CardFile | None:
    """The stored bytes of one format of a revision, or None for a revision made before they were stored."""
    return CardFile.objects.filter(card=card, format=fmt).first()


def exports_visible(*, actor: Actor) -> QuerySet[Export]:
    """Exports of the projects where the actor may read (the EXPORT check comes on top, per export)."""
    readable = project_ids_with(actor=actor, capability=Capability.READ)
    return Export.objects.filter(project__in=readable).select_related("project", "requested_by")
