"""Rendering a card revision as Markdown (Hugging Face front matter), HTML or JSON, from templates.

A revision is rendered once, when it is made (services.cards), and its bytes are stored and served from
then on; rendering again with changed templates or libraries would give different bytes.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

import yaml
from django.template.loader import render_to_string

from ..models import Card
from ..plots import NO_DISTRIBUTIONS, NO_MATRICES, Plot, card_plots
from .context import SCHEMA_VERSION

CARD_FORMATS = ("md", "html", "json")
CONTENT_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "json": "application/json",
}
GENERATOR = f"synthetic-registry reports (card schema {SCHEMA_VERSION})"
# The HTML card is a page of its own: no script, nothing loaded from elsewhere, plots inline.
CARD_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'none'"


def card_metadata(card: Card) -> dict[str, Any]:
    """What identifies this revision (not part of the hashed context)."""
    return {
        "version_id": str(card.version_id),
        "revision": card.revision,
        "created_at": card.created_at.isoformat(),
        "trigger": card.trigger,
        "content_hash": card.content_hash,
        "schema_version": card.schema_version,
        "generator": GENERATOR,
    }


def _license_id(license_text: str) -> str:
    # Hugging Face licence identifiers are lowercase SPDX-like ids ("cc-by-4.0").
    return license_text.strip().lower().replace(" ", "-") if license_text.strip() else "unknown"


def front_matter(card: Card) -> dict[str, Any]:
    """Hugging Face dataset card metadata; the `synthetic` block carries the registry's provenance."""
    c = card.context
    identity, generation = c["identity"], c["generation"]
    tags = ["synthetic", *[str(t) for t in identity["tags"] if str(t) != "synthetic"]]
    return {
        "pretty_name": identity["pretty_name"],
        "license": _license_id(identity["license"]),
        "tags": list(dict.fromkeys(tags)),
        "source_datasets": [s["identity"] for s in c["sources"]],
        "size_categories": [c["structure"]["size_category"]],
        "annotations_creators": ["machine-generated"],
        "synthetic": {
            "generator": {"name": generation["generator"], "version": generation["generator_version"]},
            "parameters": generation["parameters"],
            "seed": generation["seed"],
            "code_version": generation["code_version"],
            "fingerprint": identity["fingerprint"],
            "status": identity["status"],
            "project": identity["project"],
            "dataset": identity["dataset"],
            "version": identity["version"],
            "version_id": identity["version_id"],
            "card_revision": card.revision,
            "card_sha256": card.content_hash,
        },
    }


def _template_context(card: Card) -> dict[str, Any]:
    return {
        "c": card.context,
        "meta": card_metadata(card),
        "parameters_json": json.dumps(card.context["generation"]["parameters"], indent=2, sort_keys=True),
        "no_distributions": NO_DISTRIBUTIONS,
        "no_matrices": NO_MATRICES,
    }


def render_markdown(card: Card) -> str:
    """The card as Markdown with YAML front matter (Hugging Face's dataset card format)."""
    front = yaml.safe_dump(front_matter(card), sort_keys=False, allow_unicode=True, width=1000)
    return render_to_string("reports/card.md", {**_template_context(card), "front_matter_yaml": front})


@lru_cache(maxsize=32)
def _plots(plots_json: str) -> dict[str, Plot | None]:
    # Keyed by the numbers drawn: the same data draws the same plots, whichever revision shows them.
    return card_plots(json.loads(plots_json))


def context_plots(context: dict[str, Any]) -> dict[str, Plot | None]:
    """The plots of a card context (drawn once per process for the same data)."""
    return _plots(json.dumps(context.get("plots") or {}, sort_keys=True))


def plots_for(card: Card) -> dict[str, Plot | None]:
    """The card's plots (drawn once per process for the same data)."""
    return context_plots(card.context)


def render_html(card: Card) -> str:
    """The card as a standalone HTML page with its plots embedded; every stored text is escaped."""
    return render_to_string("reports/card.html", {**_template_context(card), "plots": plots_for(card)})


def render_json(card: Card) -> str:
    """The card as JSON: metadata, front matter and the hashed context."""
    body = {"card": card_metadata(card), "front_matter": front_matter(card), "context": card.context}
    return json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False)


def card_filename(card: Card, fmt: str) -> str:
    """The download name of one format of a revision, e.g. adult-v3-card-r2.md."""
    identity = card.context["identity"]
    return f"{identity['dataset']}-v{identity['version']}-card-r{card.revision}.{fmt}"


def render_files(card: Card) -> dict[str, bytes]:
    """Every format of a revision as the bytes to store and serve (the card must have its revision and time)."""
    renderers = {"md": render_markdown, "html": render_html, "json": render_json}
    return {fmt: renderers[fmt](card).encode("utf-8") for fmt in CARD_FORMATS}


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
