"""The export as a readable PDF (reportlab): cover, summary table, checklist, version sections, extract.

Fonts are DejaVu, shipped inside matplotlib, so any Unicode text renders on a bare machine. A PDF is for
people, and its memory must not grow with the export: the summary table lists every version, but only
the first SECTION_LIMIT versions get a section of their own and only EVENT_LIMIT events are listed (the
rest are counted per action); the cover says so and points to the CSV or JSON export for everything.
The story is pulled from generators while reportlab lays it out, so versions stream through it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.platypus import PageBreak, SimpleDocTemplate, Spacer

from .pdf_layout import FONT, STYLES, num, p, register_fonts, styles, table, verified
from .pdf_version import plots, version_section
from .scope import ExportScope, describe_period

EVENT_LIMIT = 2000
SECTION_LIMIT = 200
PLOT_LIMIT = 50
# Long tables are laid out as many short ones: at each page break reportlab measures every remaining row
# of a table again, so one table of 10,000 rows costs quadratic time.
ROWS_PER_TABLE = 40
SUMMARY_HEADER = ["dataset", "version id", "status", "verdict", "quality", "copies", "last decision"]
SUMMARY_WIDTHS = [3.6, 5.6, 2.0, 1.3, 1.3, 1.3, 2.6]
EVENT_HEADER = ["#", "time (UTC)", "actor", "action", "object"]
EVENT_WIDTHS = [1.4, 3.6, 2.8, 3.2, 6]


class LazyStory(list):
    """A story that reportlab's build loop pulls from an iterator, holding only a few flowables at once.

    `SimpleDocTemplate.build` takes a list but only works at its head (`len`, `[0]`, `del [0]`, inserting
    split parts at 0) and calls `len` before every flowable, so topping the list up there is enough.
    """

    def __init__(self, flowables: Iterable, keep: int = 16):
        super().__init__()
        self._source: Iterator | None = iter(flowables)
        self._keep = keep

    def __len__(self) -> int:
        while self._source is not None and super().__len__() < self._keep:
            try:
                self.append(next(self._source))
            except StopIteration:
                self._source = None
        return super().__len__()


def _tables(header: list[str], rows: Iterable[list[Any]], widths: list[float]) -> Iterator:
    chunk: list[list[Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == ROWS_PER_TABLE:
            yield table([header, *chunk], widths)
            chunk = []
    if chunk:
        yield table([header, *chunk], widths)


def _sections_note(version_count: int) -> str:
    if version_count <= SECTION_LIMIT:
        return "one per version"
    return (
        f"the first {SECTION_LIMIT:,} of {version_count:,} versions (in summary order); the summary table lists "
        "every version, and the CSV or JSON export holds every version's complete record"
    )


def _cover(export, scope: ExportScope, version_count: int, event_count: int, verification) -> list:
    period = describe_period(scope.start, scope.end)
    chain = (
        f"verified: {verification.checked:,} events, head #{verification.head_sequence} {verification.head_hash}"
        if verification.ok
        else f"BROKEN at event {verification.first_bad_sequence}: {verification.reason}"
    )
    listed = f"the first {EVENT_LIMIT:,} are listed, all are counted" if event_count > EVENT_LIMIT else "all listed"
    rows = [
        ["Project", f"{export.project.slug} ({export.project.name})"],
        ["Scope", f"{len(scope.version_ids)} listed versions" if scope.version_ids else period],
        ["Generated", export.started_at.isoformat() if export.started_at else ""],
        ["Requested by", export.requested_by.username],
        ["Export id", str(export.pk)],
        ["Versions", f"{version_count:,}"],
        ["Version sections", _sections_note(version_count)],
        ["Audit events in scope", f"{event_count:,} ({listed})"],
        ["Audit chain", chain],
        [
            "How to verify",
            "manifest.json in the same zip lists the SHA-256 of this PDF; the manifest's own SHA-256 "
            "is recorded in the registry's audit trail (event export.succeeded).",
        ],
    ]
    return [p("Audit evidence report", "title"), Spacer(1, 0.4 * cm), table(rows, [4, 13], header=False), PageBreak()]


def _summary_row(r: dict[str, Any]) -> list[Any]:
    evaluation = verified(r) or {"metrics": {}}
    decision = r["decisions"][-1] if r["decisions"] else None
    return [
        f"{r['dataset']} v{r['number']}",
        r["version_id"],
        r["status"],
        r["policy_checks"][-1]["verdict"] if r["policy_checks"] else "—",
        num(evaluation["metrics"].get("quality.overall")),
        num(evaluation["metrics"].get("privacy.exact_copies")),
        f"{decision['action']} by {decision['decided_by']}" if decision else "—",
    ]


def _summary(records: Iterable[dict[str, Any]], kept: list[dict[str, Any]], version_count: int) -> Iterator:
    """The summary table, streamed; keeps the first SECTION_LIMIT records in `kept` for their sections."""
    yield p("Summary", "h1")
    if version_count > SECTION_LIMIT:
        yield p(f"Sections: {_sections_note(version_count)}.")

    def rows() -> Iterator[list[Any]]:
        for record in records:
            if len(kept) < SECTION_LIMIT:
                kept.append(record)
            yield _summary_row(record)

    empty = True
    for flowable in _tables(SUMMARY_HEADER, rows(), SUMMARY_WIDTHS):
        empty = False
        yield flowable
    if empty:
        yield p("No version in this scope.")


def _checklist(summary) -> list:
    rows = [["framework", "item", "title", "documented", "missing", "n/a"]]
    rows += [
        [i["framework"], i["item"], i["title"], i["documented"], i["missing"], i["not_applicable"]] for i in summary
    ]
    return [p("Compliance checklist (versions per status)", "h1"), table(rows, [2.3, 2.6, 7.2, 1.8, 1.6, 1.2])]


def _sections(kept: list[dict[str, Any]], on_section: Callable[[], None]) -> Iterator:
    index = 0
    while kept:
        record = kept.pop(0)  # each record is dropped once its section is laid out
        index += 1
        yield from version_section(record, index)
        if index <= PLOT_LIMIT:
            yield from plots(record)
        on_section()


def _events(events, event_count: int, by_action: Counter, verification) -> Iterator:
    yield PageBreak()
    yield p("Audit-event extract", "h1")
    yield table([["action", "events"]] + [[a, f"{n:,}"] for a, n in sorted(by_action.items())], [8, 3])
    if event_count > len(events):
        yield p(f"The first {len(events):,} of {event_count:,} events are listed; the CSV or JSON export holds all.")
    rows = ([e[0], e[1][:19], e[3] or e[4], e[5], f"{e[6]}:{e[7]} {e[8]}"] for e in events)
    yield from _tables(EVENT_HEADER, rows, EVENT_WIDTHS)
    yield p("Audit chain verification", "h1")
    for key, value in verification.as_dict().items():
        yield p(f"{key}: {value}")


def write_pdf(
    sink,
    *,
    export,
    scope: ExportScope,
    records: Iterable[dict[str, Any]],
    version_count: int,
    events: list[tuple],
    event_count: int,
    by_action: Counter,
    verification,
    checklist: Callable[[], list[dict[str, Any]]],
    on_section: Callable[[], None] = lambda: None,
) -> None:
    """Render the report into `sink` (anything with write(bytes)), reading `records` once as it goes.

    `checklist` is called once every record has been read (the summary table comes first);
    `on_section` after each version section (progress).
    """
    register_fonts()
    STYLES.update(styles())
    kept: list[dict[str, Any]] = []

    def story() -> Iterator:
        yield from _cover(export, scope, version_count, event_count, verification)
        yield from _summary(records, kept, version_count)
        yield from _checklist(checklist())
        yield from _sections(kept, on_section)
        yield from _events(events, event_count, by_action, verification)

    footer = f"Audit evidence report · {export.project.slug} · export {export.pk}"

    def decorate(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.drawString(1.5 * cm, 1 * cm, footer)
        canvas.drawRightString(A4[0] - 1.5 * cm, 1 * cm, f"page {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        _SinkFile(sink),
        pagesize=A4,
        leftMargin=1.5 * cm,
        rightMargin=1.5 * cm,
        topMargin=1.5 * cm,
        bottomMargin=1.8 * cm,
        title=f"Audit evidence report: {export.project.slug}",
        author="synthetic-registry",
    )
    doc.build(LazyStory(story()), onFirstPage=decorate, onLaterPages=decorate)


class _SinkFile:
    """reportlab writes bytes to a file-like object; pass them on to the hashing sink."""

    def __init__(self, sink):
        self.sink = sink

    def write(self, data: bytes) -> int:
        self.sink.write_bytes(data)
        return len(data)

    def flush(self) -> None:
        self.sink.flush()
