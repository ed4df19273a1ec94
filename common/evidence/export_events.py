"""Reading an export's audit events back into the payloads their hashes cover, one event at a time.

audit_events.csv (CSV and PDF exports): every hashed field in a column, text quoted, a null integer an empty
cell, and a text cell that starts like a spreadsheet formula prefixed with one "'" (removed here, as the
manifest says). export.json (JSON exports): one event per line inside ``"audit_events": [``, each its
canonical JSON plus ``hash``. Both are streamed, so a million events need no more memory than one.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any

from common.evidence.auditlog import PAYLOAD_FIELDS
from common.evidence.errors import Reason, VerificationError

Event = tuple[dict[str, Any], str]  # (payload, the hash stored with it)

_INTEGERS = ("sequence", "actor_user_id", "project_id")
_NULLABLE = ("actor_user_id", "project_id")
# The CSV names the two JSON-text columns as the database does.
_CSV_COLUMNS = {"before_json": "before", "after_json": "after"}
_JSON_START = b'"audit_events": ['
_KEYS = frozenset((*PAYLOAD_FIELDS, "hash"))
_INTEGER = re.compile(r"-?[0-9]{1,19}", re.ASCII)


def _malformed(where: str, what: str) -> VerificationError:
    return VerificationError(Reason.MALFORMED, f"{where}: {what}")


def _integer(text: str, field: str, where: str) -> int | None:
    if text == "" and field in _NULLABLE:
        return None
    if _INTEGER.fullmatch(text) is None:
        raise _malformed(where, f"{field} is not an integer")
    return int(text)


def csv_events(stream: IO[bytes], name: str) -> Iterator[Event]:
    """The events of an audit_events.csv, in file order."""
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))  # before/after may hold large JSON texts
    reader = csv.reader(io.TextIOWrapper(stream, encoding="utf-8", newline=""))
    header = next(reader, None)
    columns = [_CSV_COLUMNS.get(column, column) for column in header or []]
    if sorted(columns) != sorted(_KEYS) or len(set(columns)) != len(columns):
        raise _malformed(name, f"the header is not the audit event columns ({', '.join(header or [])[:200]})")
    for line, row in enumerate(reader, start=2):
        where = f"{name} line {line}"
        if len(row) != len(columns):
            raise _malformed(where, f"{len(row)} cells, not {len(columns)}")
        event: dict[str, Any] = {}
        for column, cell in zip(columns, row, strict=True):
            if column in _INTEGERS:
                event[column] = _integer(cell, column, where)
            else:
                event[column] = cell[1:] if cell.startswith("'") else cell  # the formula guard, taken off
        stored = event.pop("hash")
        yield event, stored


def _json_event(line: bytes, where: str) -> Event:
    try:
        event = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _malformed(where, f"not a JSON event ({exc})") from None
    if not isinstance(event, dict) or set(event) != _KEYS:
        raise _malformed(where, "not an audit event object with exactly the hashed fields and hash")
    for field in _INTEGERS:
        value = event[field]
        if not (type(value) is int or (value is None and field in _NULLABLE)):
            raise _malformed(where, f"{field} is not an integer")
    stored = event.pop("hash")
    if not isinstance(stored, str):
        raise _malformed(where, "hash is not text")
    return event, stored


def json_events(lines: Iterable[bytes], name: str) -> Iterator[Event]:
    """The events of an export.json, in file order (the layout reports.exports.jsondoc writes)."""
    started = False
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip(b"\n")
        if not started:
            started = line == _JSON_START
            continue
        if line in (b"]", b"],"):
            return
        yield _json_event(line[:-1] if line.endswith(b",") else line, f"{name} line {number}")
    raise _malformed(name, "no complete audit_events list" if started else "no audit_events list")
