"""Building an export's zip: version records, then the verified audit-event extract, then the signed evidence
(checkpoint, proofs, keys), then the manifest and its signature.

Every file is hashed while it is written; manifest.json (written last but for its DSSE envelope) lists each
file's SHA-256, size and row count, the scope, the chain verification, the checklist summary and the
checkpoint.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from django.utils import timezone

from common.evidence.export_layout import JSON_EVENTS
from governance.models import PolicyCheck
from registry.models import Evaluation

from ..models import Card, Export
from .chain import ChainScan
from .compliance import checklist_summary
from .files import Bundle
from .jsondoc import write_json
from .records import version_records
from .scope import ExportScope, scoped_versions
from .signing import add_signed_evidence, manifest_envelope
from .tables import EVENT_COLUMNS, EVENTS_TABLE, VersionTables, cell, event_line

Progress = Callable[[int, str], None]
MANIFEST_VERSION = 1
# Versions read per chunk for the PDF: laying a chunk out is slow anyway, and smaller chunks keep it lean.
PDF_CHUNK = 200
HOW_TO_VERIFY = (
    "Each file's SHA-256 (sha256sum) must equal its entry in `files`. The SHA-256 of this manifest is recorded "
    "in the registry's audit trail (event export.succeeded), whose chain verification is reported here. Every "
    "exported audit event carries the fields its hash covers, as stored: hash = SHA-256(prev_hash + canonical "
    "JSON of the event: sorted keys, no spaces, UTF-8, before/after as their JSON text). In export.json each "
    "event is that canonical JSON plus `hash`; in audit_events.csv text is quoted and an empty cell is null. "
    "In every CSV file a text cell starting with =, +, -, @, a tab, a carriage return or ' has one more ' in front "
    "(so that spreadsheets do not run it as a formula): remove one leading ' from such a cell to get the stored "
    "text. Numbers are written as they are; export.json is not changed."
)


class Ticker:
    """Report progress between two percentages at most every `seconds` (each report is also a heartbeat).

    The first tick reports at once, so a phase shows up as soon as it starts, not when its ticker is made.
    """

    def __init__(self, progress: Progress, step: str, low: int, high: int, total: int, seconds: float = 2.0):
        self.progress, self.step, self.low, self.high = progress, step, low, high
        self.total, self.seconds, self.done = max(total, 1), seconds, 0
        self.last = 0.0

    def tick(self, count: int = 1) -> None:
        self.update(self.done + count)

    def update(self, done: int) -> None:
        self.done = done
        now = time.monotonic()
        if now - self.last >= self.seconds:
            self.last = now
            share = min(self.done / self.total, 1.0)
            self.progress(self.low + int((self.high - self.low) * share), self.step)


def export_scope(export: Export) -> ExportScope:
    """The scope an export record describes."""
    return ExportScope(
        project_id=export.project_id,
        project_slug=export.project.slug,
        start=export.period_start,
        end=export.period_end,
        version_ids=tuple(str(v) for v in export.version_ids or []),
    )


def _object_ids(scope: ExportScope) -> frozenset[str] | None:
    """In version-list mode, the audit objects that belong to those versions (their evaluations, checks, cards)."""
    if not scope.version_ids:
        return None
    ids = set(scope.version_ids)
    ids |= {str(pk) for pk in Evaluation.objects.filter(version_id__in=scope.version_ids).values_list("pk", flat=True)}
    ids |= {str(pk) for pk in PolicyCheck.objects.filter(version_id__in=scope.version_ids).values_list("pk", flat=True)}
    ids |= {str(pk) for pk in Card.objects.filter(version_id__in=scope.version_ids).values_list("pk", flat=True)}
    return frozenset(ids)


def _global_policy_ids(scope: ExportScope) -> frozenset[str]:
    """The global policies (as audit object ids) whose snapshots the checks of the exported versions used."""
    checks = PolicyCheck.objects.filter(version__in=scoped_versions(scope).values("pk"))
    # Checks share snapshots until a policy changes: the database returns each distinct list once.
    snapshots = checks.order_by().values_list("policies", flat=True).distinct()
    return frozenset(
        str(policy["id"])
        for policies in snapshots.iterator(chunk_size=100)
        for policy in policies or []
        if policy.get("project") is None
    )


class Checklist:
    """Counts of documented / missing / not applicable per checklist item, over every exported version."""

    def __init__(self):
        self.counts: dict[str, Counter] = defaultdict(Counter)
        self.versions = 0

    def add(self, record: dict[str, Any]) -> None:
        self.versions += 1
        for item in record["checklist"]:
            self.counts[item["item"]][item["status"]] += 1

    def summary(self) -> list[dict[str, Any]]:
        return checklist_summary(self.counts)


def _small_csv(bundle: Bundle, name: str, header: list[str], rows: list[list[Any]]) -> None:
    sink, handle = bundle.stream(name)
    writer = csv.writer(sink, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[cell(v) for v in row] for row in rows])
    sink.rows = len(rows)
    bundle.finish(sink, name, handle)


def _write_events(sink, rows: Iterable[tuple], batch: int = 2000) -> None:
    """The audit-event extract as CSV, handed to the sink `batch` lines at a time."""
    sink.write(",".join(EVENT_COLUMNS) + "\n")
    lines: list[str] = []
    for row in rows:
        lines.append(event_line(row))
        sink.rows += 1
        if len(lines) == batch:
            sink.write("".join(lines))
            lines = []
    sink.write("".join(lines))


def _build_csv(bundle: Bundle, scope: ExportScope, scan: ChainScan, head, ticks, checklist: Checklist) -> None:
    with tempfile.TemporaryDirectory(prefix="export-") as tmp:
        tables = VersionTables(Path(tmp))
        for record in version_records(scope):
            tables.add(record)
            checklist.add(record)
            ticks["versions"].tick()
        finished = tables.close()
        sink, handle = bundle.stream(EVENTS_TABLE, background=True)
        _write_events(sink, scan.events(head))
        bundle.finish(sink, EVENTS_TABLE, handle)
        for name, path, entry in finished:
            bundle.add_file(name, path, entry)
    verification = scan.verification.as_dict()
    _small_csv(bundle, "chain_verification.csv", list(verification), [list(verification.values())])
    summary = checklist.summary()
    _small_csv(bundle, "checklist_summary.csv", list(summary[0]), [list(item.values()) for item in summary])


def _counted(records: Iterable[dict[str, Any]], checklist: Checklist, ticker: Ticker) -> Iterator[dict[str, Any]]:
    for record in records:
        checklist.add(record)
        ticker.tick()
        yield record


def _build_pdf(
    bundle: Bundle, export: Export, scope: ExportScope, scan: ChainScan, head, ticks, checklist, count
) -> list[int]:
    """The PDF (and its listed events as CSV); returns the sequences of the listed events."""
    from .pdf import EVENT_LIMIT, write_pdf

    # The cover states the chain verdict and the event counts, so the chain is scanned first (keeping
    # EVENT_LIMIT rows); the versions then stream through the document as reportlab lays it out.
    shown, by_action = [], Counter()
    for row in scan.events(head):
        by_action[row[5]] += 1
        if len(shown) < EVENT_LIMIT:
            shown.append(row)
    sink, handle = bundle.stream("report.pdf")
    write_pdf(
        sink,
        export=export,
        scope=scope,
        records=_counted(version_records(scope, chunk_size=PDF_CHUNK), checklist, ticks["versions"]),
        version_count=count,
        events=shown,
        event_count=scan.extracted,
        by_action=by_action,
        verification=scan.verification,
        checklist=checklist.summary,
        on_section=ticks["versions"].tick,
    )
    bundle.finish(sink, "report.pdf", handle)
    # The listed events also as CSV, so that what the PDF shows verifies offline (their hashes are over them).
    sink, handle = bundle.stream(EVENTS_TABLE)
    _write_events(sink, shown)
    bundle.finish(sink, EVENTS_TABLE, handle)
    return [row[0] for row in shown]


def build_export(export: Export, path: Path, progress: Progress) -> dict[str, Any]:
    """Write the export's zip to `path` and return its manifest."""
    scope = export_scope(export)
    policy_ids = _global_policy_ids(scope)
    scan = ChainScan(scope, object_ids=_object_ids(scope), policy_ids=policy_ids)
    head = scan.head()
    count = scoped_versions(scope).count()
    events = scan.total(head[0])
    ticks = {}
    if export.format == "pdf":
        from .pdf import SECTION_LIMIT

        # Events first (see _build_pdf); a version ticks once read and once more when its section is laid out.
        ticks["events"] = Ticker(progress, "audit events", 1, 40, events)
        ticks["versions"] = Ticker(progress, "versions", 40, 95, count + min(count, SECTION_LIMIT))
    else:
        ticks["versions"] = Ticker(progress, "versions", 1, 20, count)
        ticks["events"] = Ticker(progress, "audit events", 20, 95, events)
    scan.on_progress = ticks["events"].update
    checklist = Checklist()
    bundle = Bundle(path)
    try:
        if export.format == "csv":
            _build_csv(bundle, scope, scan, head, ticks, checklist)
            events_file, exported = EVENTS_TABLE, scan.sequences
        elif export.format == "json":
            write_json(bundle, export, scope, scan, head, ticks, checklist)
            events_file, exported = JSON_EVENTS, scan.sequences
        else:
            events_file = EVENTS_TABLE
            exported = _build_pdf(bundle, export, scope, scan, head, ticks, checklist, count)
        progress(96, "signing")
        signed = add_signed_evidence(bundle, export, events_file, exported)
        progress(97, "manifest")
        manifest = {
            "manifest_version": MANIFEST_VERSION,
            "export_id": str(export.pk),
            "format": export.format,
            "scope": scope.as_dict(),
            "generated_at": timezone.now().astimezone(dt.UTC).isoformat(),
            "requested_by": export.requested_by.username,
            "versions": checklist.versions,
            "audit_events": scan.extracted,
            "audit_events_scanned": scan.scanned,
            # Their events (project_id null) are in the extract: the exported checks used their snapshots.
            "global_policies": sorted(policy_ids, key=int),
            "chain_verification": scan.verification.as_dict(),
            "checklist_summary": checklist.summary(),
            "files": bundle.files,
            "how_to_verify": HOW_TO_VERIFY,
            **signed,
        }
        bundle.close(manifest, manifest_envelope)
    except BaseException:
        bundle.abort()
        raise
    return manifest
