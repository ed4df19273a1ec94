"""Card revisions: rebuild a version's card from its evidence; a new immutable revision only when it changed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from governance.audit import audited_atomic, canonical_json, record_event
from governance.context import Actor
from registry.models import DatasetVersion

from ..cards.context import SCHEMA_VERSION, card_context
from ..models import Card, CardTrigger


@dataclass(frozen=True)
class CardRefresh:
    """The version's latest card after a refresh, and whether the refresh created it."""

    card: Card
    created: bool


def content_hash(context: dict) -> str:
    """SHA-256 of a card context's canonical JSON: what a revision's content_hash is."""
    return hashlib.sha256(canonical_json(context).encode("utf-8")).hexdigest()


def card_refresh(
    *, version: DatasetVersion, trigger: str = CardTrigger.EVIDENCE, actor: Actor | None = None
) -> CardRefresh:
    """Render the version's card from its current evidence; store a revision (and audit it) only if it changed."""
    actor = actor or Actor.system("task:cards")
    # The context is read under the audit head lock, which every evidence write also takes: the revision
    # stored is never older than the latest revision, however refreshes interleave.
    with audited_atomic():
        context = card_context(version)
        digest = content_hash(context)
        latest = Card.objects.filter(version_id=version.pk).order_by("-revision").first()
        if latest is not None and latest.content_hash == digest:
            return CardRefresh(latest, False)
        card = Card.objects.create(
            version_id=version.pk,
            revision=latest.revision + 1 if latest else 1,
            trigger=trigger if trigger in CardTrigger.values else CardTrigger.EVIDENCE,
            context=context,
            content_hash=digest,
            schema_version=SCHEMA_VERSION,
        )
        record_event(
            actor=actor,
            action="card.rendered",
            obj=card,
            project=version.dataset.project,
            after={
                "version": str(version.pk),
                "revision": card.revision,
                "content_hash": digest,
                "previous_hash": latest.content_hash if latest else None,
                "trigger": card.trigger,
            },
        )
    return CardRefresh(card, True)
