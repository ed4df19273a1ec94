"""Serving a card revision: its stored bytes, with their SHA-256 as the ETag (API and admin alike)."""

from __future__ import annotations

from django.http import HttpResponse

from core.context import Actor

from ..models import Card
from ..selectors import card_file
from ..services.cards import card_files_store
from .render import CARD_CSP, CONTENT_TYPES, card_filename


def card_response(card: Card, fmt: str, *, actor: Actor, attachment: bool) -> HttpResponse:
    """One format of a revision exactly as stored; `fmt` is one of CARD_FORMATS."""
    file = card_file(card, fmt) or card_files_store(card=card, actor=actor)[fmt]
    response = HttpResponse(bytes(file.content), content_type=CONTENT_TYPES[fmt])
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{card_filename(card, fmt)}"'
    # Strong validators: the hash of exactly these bytes, which never change for this revision and format.
    response["ETag"] = f'"{file.sha256}"'
    response["X-Content-SHA256"] = file.sha256
    response["X-Card-Revision"] = str(card.revision)
    response["X-Card-Content-SHA256"] = card.content_hash
    if fmt == "html":
        response["Content-Security-Policy"] = CARD_CSP
    return response
