"""Card revisions: rebuild a version's card from its evidence; a new immutable revision only when it changed.

A revision's Markdown, HTML and JSON are rendered when it is made and stored with their SHA-256
(CardFile); the audit event of the revision records those hashes, so the bytes served are covered by
the audit chain.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from core.audit import audited_atomic, canonical_json, record_event
from core.context import Actor
from registry.models import DatasetVersion

from ..cards.context import SCHEMA_VERSION, card_context
from ..cards.render import CARD_FORMATS, context_plots, render_files, sha256
from ..models import Card, CardFile, CardTrigger


@dataclass(frozen=True)
class CardRefresh:
    """The version's latest card after a refresh, and whether the refresh created it."""

    card: Card
    created: bool


def content_hash(context: dict) -> str:
    """SHA-256 of a card context's canonical JSON: what a revision's content_hash is."""
    return hashlib.sha256(canonical_json(context).encode("utf-8")).hexdigest()


def _latest(version: DatasetVersion) -> Card | None:
    return Card.objects.filter(version_id=version.pk).order_by("-revision").first()


def _store_files(card: Card, formats=CARD_FORMATS) -> dict[str, CardFile]:
    rendered = render_files(card)
    files = {
        fmt: CardFile(card=card, format=fmt, content=rendered[fmt], sha256=sha256(rendered[fmt])) for fmt in formats
    }
    CardFile.objects.bulk_create(files.values())
    return files


def card_refresh(
    *, version: DatasetVersion, trigger: str = CardTrigger.EVIDENCE, actor: Actor | None = None
) -> CardRefresh:
    """Render the version's card from its current evidence; store a revision (and audit it) only if it changed."""
    actor = actor or Actor.system("task:cards")
    # A first look without the lock: most refreshes find nothing changed; and when something did, the plots
    # (most of a second) are drawn now, not while every audited write waits for the lock.
    context = card_context(version)
    latest = _latest(version)
    if latest is not None and latest.content_hash == content_hash(context):
        return CardRefresh(latest, False)
    context_plots(context)
    # The context is read again under the audit head lock, which every evidence write also takes: the
    # revision stored is never older than the latest revision, however refreshes interleave.
    with audited_atomic():
        context = card_context(version)
        digest = content_hash(context)
        latest = _latest(version)
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
        files = _store_files(card)
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
                "files": {fmt: file.sha256 for fmt, file in files.items()},
            },
        )
    return CardRefresh(card, True)


def card_files_store(*, card: Card, actor: Actor | None = None) -> dict[str, CardFile]:
    """The stored files of a revision; a revision made before revisions stored them is rendered now, once.

    From then on its bytes never change; the event card.files_stored records their hashes.
    """
    actor = actor or Actor.system("task:cards")
    stored = {f.format: f for f in CardFile.objects.filter(card=card)}
    if len(stored) == len(CARD_FORMATS):
        return stored
    context_plots(card.context)  # drawn before taking the lock
    with audited_atomic():
        stored = {f.format: f for f in CardFile.objects.filter(card=card)}
        missing = [fmt for fmt in CARD_FORMATS if fmt not in stored]
        if not missing:
            return stored
        stored.update(_store_files(card, missing))
        version = DatasetVersion.objects.select_related("dataset__project").get(pk=card.version_id)
        record_event(
            actor=actor,
            action="card.files_stored",
            obj=card,
            project=version.dataset.project,
            after={
                "version": str(version.pk),
                "revision": card.revision,
                "content_hash": card.content_hash,
                "files": {fmt: stored[fmt].sha256 for fmt in missing},
            },
        )
    return stored
