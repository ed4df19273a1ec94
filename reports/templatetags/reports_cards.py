"""Template helpers for cards: Markdown-safe text, dates, and the card links on a version's admin page."""

from __future__ import annotations

import datetime as dt
import re

from django import template
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from ..cards.render import plots_for
from ..selectors import latest_card

register = template.Library()
# "<" that could open an HTML tag, comment or declaration; "<=" and "< 5" cannot.
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


@register.filter
def md(value) -> str:
    """User text for Markdown: a "<" that could start HTML becomes an entity, so renderers show it as text."""
    if value is None:
        return ""
    return _TAG_START.sub("&lt;", str(value))


@register.filter
def md_code(value) -> str:
    """Text for a Markdown code span, which shows everything literally: no backticks, line breaks or bare pipes."""
    if value is None:
        return ""
    return str(value).replace("`", "'").replace("\r", " ").replace("\n", " ").replace("|", "\\|")


@register.filter
def md_cell(value) -> str:
    """User text for a Markdown table cell: also no pipes and no line breaks."""
    return md(value).replace("|", "\\|").replace("\r", " ").replace("\n", " ").strip()


@register.filter
def when(value) -> str:
    """An ISO timestamp (as stored in a card) as 'YYYY-MM-DD HH:MM UTC'; '—' when missing."""
    if not value:
        return "—"
    moment = value if isinstance(value, dt.datetime) else parse_datetime(str(value))
    if moment is None:
        return str(value)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


@register.filter
def day(value) -> str:
    """An ISO timestamp as 'YYYY-MM-DD'."""
    text = when(value)
    return text[:10] if text != "—" else text


@register.filter
def personal_data(value) -> str:
    """The three answers a source can give about personal data."""
    return {True: "yes", False: "no"}.get(value, "not declared")


@register.filter
def signed(value, digits: int = 3) -> str:
    """A difference with its sign, or '—'."""
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:+,}"
    return f"{float(value):+.{int(digits)}f}"


@register.inclusion_tag("admin/reports/card_links.html")
def card_links(version) -> dict:
    """Links to a version's card in every format, its latest revision, and the card's privacy plots (distances
    to training records and the membership attack), for the version's admin page."""
    card = latest_card(version) if version is not None and version.pk else None
    links = []
    if version is not None and version.pk:
        for fmt, label in (("html", "HTML"), ("md", "Markdown"), ("json", "JSON")):
            url = reverse("admin:reports_card_download", args=[version.pk, fmt])
            links.append({"format": fmt, "label": label, "url": url})
    drawn = plots_for(card) if card is not None else {}
    plots = [drawn[key] for key in ("proximity", "membership") if drawn.get(key) is not None]
    return {"card": card, "links": links, "plots": plots}
