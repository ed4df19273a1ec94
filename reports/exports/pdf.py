"""The export as a readable PDF (reportlab): cover, summary table, checklist, one section per version, extract.

Fonts are DejaVu, shipped inside matplotlib, so any Unicode text renders on a bare machine. A PDF is for
people: past EVENT_LIMIT events it lists counts per action and points to the CSV or JSON export.
"""

from __future__ import annotations

from collections import Counter

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.platypus import PageBreak, SimpleDocTemplate, Spacer

from .pdf_version import plots, version_section
from .pdfkit import FONT, S, num, p, register_fonts, styles, table, verified
from .scope import ExportScope, describe_period

EVENT_LIMIT = 2000
PLOT_LIMIT = 50


def _cover(export, scope: ExportScope, records, event_count, verification) -> list:
    period = describe_period(scope.start, scope.end)
    chain = (
        f"verified: {verification.checked:,} events, head #{verification.head_sequence} {verification.head_hash}"
        if verification.ok
        else f"BROKEN at event {verification.first_bad_sequence}: {verification.reason}"
    )
    rows = [
        ["Project", f"{export.project.slug} ({export.project.name})"],
        ["Scope", f"{len(scope.version_ids)} listed versions" if scope.version_ids else period],
        ["Generated", export.started_at.isoformat() if export.started_at else ""],
        ["Requested by", export.requested_by.username],
        ["Export id", str(export.pk)],
        ["Versions", f"{len(records):,}"],
        ["Audit events in scope", f"{event_count:,}"],
        ["Audit chain", chain],
        [
            "How to verify",
            "manifest.json in the same zip lists the SHA-256 of this PDF; the manifest's own SHA-256 "
            "is recorded in the registry's audit trail (event export.succeeded).",
        ],
    ]
    return [p("Audit evidence report", "title"), Spacer(1, 0.4 * cm), table(rows, [4, 13], header=False), PageBreak()]


def _summary(records) -> list:
    rows = [["dataset", "version id", "status", "verdict", "quality", "copies", "last decision"]]
    for r in records:
        evaluation = verified(r) or {"metrics": {}}
        check = r["policy_checks"][-1]["verdict"] if r["policy_checks"] else "—"
        decision = r["decisions"][-1] if r["decisions"] else None
        rows.append(
            [
                f"{r['dataset']} v{r['number']}",
                r["version_id"],
                r["status"],
                check,
                num(evaluation["metrics"].get("quality.overall")),
                num(evaluation["metrics"].get("privacy.exact_copies")),
                f"{decision['action']} by {decision['decided_by']}" if decision else "—",
            ]
        )
    return [p("Summary", "h1"), table(rows, [3.6, 5.6, 2.0, 1.3, 1.3, 1.3, 2.6])]


def _checklist(summary) -> list:
    rows = [["framework", "item", "title", "documented", "missing", "n/a"]]
    rows += [
        [i["framework"], i["item"], i["title"], i["documented"], i["missing"], i["not_applicable"]] for i in summary
    ]
    return [p("Compliance checklist (versions per status)", "h1"), table(rows, [2.3, 2.6, 7.2, 1.8, 1.6, 1.2])]


def _events(events, event_count: int, by_action: Counter, verification) -> list:
    out = [PageBreak(), p("Audit-event extract", "h1")]
    rows = [["action", "events"]] + [[a, f"{n:,}"] for a, n in sorted(by_action.items())]
    out.append(table(rows, [8, 3]))
    if event_count > len(events):
        out.append(
            p(f"The first {len(events):,} of {event_count:,} events are listed; the CSV or JSON export holds all.")
        )
    rows = [["#", "time (UTC)", "actor", "action", "object"]]
    for e in events:
        rows.append([e[0], e[1][:19], e[3] or e[4], e[5], f"{e[6]}:{e[7]} {e[8]}"])
    if events:
        out.append(table(rows, [1.4, 3.6, 2.8, 3.2, 6]))
    out.append(p("Audit chain verification", "h1"))
    for key, value in verification.as_dict().items():
        out.append(p(f"{key}: {value}"))
    return out


def write_pdf(sink, *, export, scope, records, events, event_count, by_action, verification, checklist) -> None:
    """Render the report into `sink` (anything with write(bytes))."""
    register_fonts()
    S.update(styles())
    story = _cover(export, scope, records, event_count, verification)
    story += _summary(records) + _checklist(checklist)
    for index, record in enumerate(records, start=1):
        story += version_section(record, index)
        if index <= PLOT_LIMIT:
            story += plots(record)
    story += _events(events, event_count, by_action, verification)
    footer = f"Audit evidence report · {export.project.slug} · export {export.pk}"

    def decorate(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.drawString(1.5 * cm, 1 * cm, footer)
        canvas.drawRightString(A4[0] - 1.5 * cm, 1 * cm, f"page {doc.page}")
        canvas.restoreState()

    buffer = _SinkFile(sink)
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=1.5 * cm,
        rightMargin=1.5 * cm,
        topMargin=1.5 * cm,
        bottomMargin=1.8 * cm,
        title=f"Audit evidence report: {export.project.slug}",
        author="synthetic-registry",
    )
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)


class _SinkFile:
    """reportlab writes bytes to a file-like object; pass them on to the hashing sink."""

    def __init__(self, sink):
        self.sink = sink

    def write(self, data: bytes) -> int:
        self.sink.write_bytes(data)
        return len(data)

    def flush(self) -> None:
        self.sink.flush()
