"""Building blocks of the export PDF: DejaVu fonts (shipped with matplotlib), styles, escaped text, tables."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, Table, TableStyle

FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
# A table row cannot split across pages, so a cell must fit on one whatever it holds: about 20 lines of
# 7 pt text at the column's width, with room to spare for wrapped long words and wide letters.
CELL_CHARS_PER_CM = 140
MORE_IN_EXPORTS = "{more:,} more characters in the CSV and JSON exports"


def register_fonts() -> None:
    """Register DejaVu Sans (regular and bold) with reportlab, once per process."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    # Found without importing matplotlib, which would cost an export ~30 MB for a path.
    package = importlib.util.find_spec("matplotlib").submodule_search_locations[0]
    fonts = Path(package) / "mpl-data" / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(FONT, str(fonts / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(fonts / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


def styles() -> dict[str, ParagraphStyle]:
    """The paragraph styles of the report, all in DejaVu."""
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName=FONT, fontSize=9, leading=12, alignment=TA_LEFT)
    return {
        "title": ParagraphStyle("title", parent=base["Title"], fontName=BOLD, fontSize=20, leading=24),
        "h1": ParagraphStyle("h1", parent=base["Heading1"], fontName=BOLD, fontSize=14, leading=18, spaceBefore=10),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontName=BOLD, fontSize=11, leading=14, spaceBefore=8),
        "body": body,
        "cell": ParagraphStyle("cell", parent=body, fontSize=7, leading=9),
        "small": ParagraphStyle("small", parent=body, fontSize=7, leading=9, textColor=colors.HexColor("#555555")),
    }


STYLES: dict[str, ParagraphStyle] = {}


def p(text: Any, style: str = "body") -> Paragraph:
    """A paragraph of escaped text (stored text is never read as markup)."""
    return Paragraph(escape("" if text is None else str(text)), STYLES[style])


def num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def clip(text: str, limit: int, pointer: str = MORE_IN_EXPORTS) -> str:
    """`text` cut to `limit` characters, ending with a pointer to the rest ({more} is how many are cut)."""
    if len(text) <= limit:
        return text
    return f"{text[:limit].rstrip()} … [{pointer.format(more=len(text) - limit)}]"


def table(rows: list[list[Any]], widths: list[float], header: bool = True) -> Table:
    """A grid of escaped cells; the first row is the header. Over-long text is clipped so every row fits a page."""
    limits = [int(w * CELL_CHARS_PER_CM) for w in widths]
    cells = [
        [
            c if isinstance(c, Paragraph) else p(clip("" if c is None else str(c), limit), "cell")
            for c, limit in zip(row, limits, strict=True)
        ]
        for row in rows
    ]
    grid = Table(cells, colWidths=[w * cm for w in widths], repeatRows=1 if header else 0)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#bbbbbb")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef4")))
    grid.setStyle(TableStyle(style))
    return grid


def verified(record: dict[str, Any]) -> dict[str, Any] | None:
    done = [e for e in record["evaluations"] if e["origin"] == "verified" and e["state"] == "succeeded"]
    return done[-1] if done else None
