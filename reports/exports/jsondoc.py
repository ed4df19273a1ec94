"""The export as one JSON document, written incrementally: versions and events are never all in memory.

{"export": {...}, "versions": [...], "checklist_summary": [...], "audit_events": [...],
 "chain_verification": {...}}
"""

from __future__ import annotations

import json
from typing import Any

from .chain import canonical_event
from .records import version_records

NAME = "export.json"
_encode = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode


def event_object(row: tuple, canonical: str | None = None) -> str:
    """One audit event as JSON: its canonical JSON (the exact text its hash covers) plus `hash`.

    Anyone can re-verify an event from the export alone: SHA-256(prev_hash + the object without `hash`).
    """
    text = canonical if canonical is not None else canonical_event(row)
    return text[:-1] + ',"hash":' + json.encoder.encode_basestring(row[16]) + "}"


def write_json(bundle, export, scope, scan, head, ticks, checklist) -> None:
    """Stream export.json into the bundle."""
    sink, handle = bundle.stream(NAME, background=True)
    meta: dict[str, Any] = {"id": str(export.pk), "format": export.format, **scope.as_dict()}
    sink.write('{"export": ' + _encode(meta) + ',\n"versions": [')
    for index, record in enumerate(version_records(scope)):
        sink.write((",\n" if index else "\n") + _encode(record))
        checklist.add(record)
        ticks["versions"].tick()
    sink.write('\n],\n"checklist_summary": ' + _encode(checklist.summary()) + ',\n"audit_events": [')
    first = True
    for row in scan.events(head):
        sink.write(("\n" if first else ",\n") + event_object(row, scan.canonical))
        first = False
    sink.write('\n],\n"chain_verification": ' + _encode(scan.verification.as_dict()) + "}\n")
    sink.rows = scan.extracted
    bundle.finish(sink, NAME, handle)
