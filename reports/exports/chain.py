"""One pass over the audit chain: verify every event and hand the export the ones in its scope.

Verification needs every event anyway, so the extract comes from the same scan instead of a second query.
The scan reads plain tuples through a server-side cursor (PostgreSQL) in chunks, and computes each hash
exactly as `core.audit.event_hash` does (tests hold the two equal), without building model objects.
It covers the chain up to the head as it was when the scan started: events appended meanwhile belong to
the next export.
"""

from __future__ import annotations

import datetime as dt
import json
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from hashlib import sha256

from django.db import connection
from django.db.models import CharField, F, Func, Max, TextField
from django.db.models.functions import Cast
from django.utils.dateparse import parse_datetime

from common.evidence import auditlog
from core.audit import GENESIS_HASH, ChainVerification
from core.models import AuditEvent, AuditHead

from .scope import ExportScope

EVENT_FIELDS = (
    "sequence",
    "occurred_at",
    "actor_user_id",
    "actor_username",
    "actor_via",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "project_id",
    "project_slug",
    "before_json",
    "after_json",
    "request_id",
    "client_ip",
    "prev_hash",
    "hash",
)
# Escapes a string exactly as json.dumps(..., ensure_ascii=False) does (the C implementation when present).
_text = json.encoder.encode_basestring
# occurred_at as core.audit hashes it (UTC, ISO 8601, microseconds), formatted by PostgreSQL itself:
# cheaper than building a datetime per row and formatting it again in Python.
_PG_ISO = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"


def iso(moment: dt.datetime) -> str:
    """A time as the audit chain hashes it."""
    return auditlog.event_time(moment)


def canonical_event(row: tuple) -> str:
    """An event row (EVENT_FIELDS order, occurred_at as `iso` text) as the canonical JSON its hash covers.

    The same text as core.audit's canonical_json of the event (sorted keys, no spaces, UTF-8),
    written out key by key; tests hold the two equal. Text columns are NOT NULL in the table, so only
    the two nullable integers need the null check.
    """
    (seq, at, uid, username, via, action, otype, oid, orepr, pid, slug, before, after, rid, ip, prev, _) = row
    t = _text
    return (
        f'{{"action":{t(action)},"actor_user_id":{"null" if uid is None else uid},'
        f'"actor_username":{t(username)},"actor_via":{t(via)},"after":{t(after)},"before":{t(before)},'
        f'"client_ip":{t(ip)},"object_id":{t(oid)},"object_repr":{t(orepr)},"object_type":{t(otype)},'
        f'"occurred_at":{t(at)},"prev_hash":{t(prev)},"project_id":{"null" if pid is None else pid},'
        f'"project_slug":{t(slug)},"request_id":{t(rid)},"sequence":{seq}}}'
    )


def row_hash(row: tuple, canonical: str | None = None) -> str:
    """The hash an event row must carry: SHA-256(prev_hash + canonical JSON of the event)."""
    body = row[15] + (canonical if canonical is not None else canonical_event(row))
    return sha256(body.encode("utf-8")).hexdigest()


def _postgres_stream(queryset, chunk_size: int) -> Iterator[tuple]:
    """Stream a query's rows in chunks on a connection of its own (libpq's chunked mode).

    Twice as fast as Django's server-side cursor, which outside a transaction is WITH HOLD (the server
    materialises the whole result first); and its own connection leaves Django's free for progress updates.
    """
    import psycopg

    sql, params = queryset.query.sql_with_params()
    options = {k: v for k, v in connection.get_connection_params().items() if k not in ("cursor_factory", "context")}
    with psycopg.connect(**options, autocommit=True) as stream_connection, stream_connection.cursor() as cursor:
        yield from cursor.stream(sql, params, size=chunk_size)


def _chunked_streams() -> bool:
    import psycopg

    return psycopg.pq.version() >= 170000  # stream(size=...) needs libpq 17


def event_rows(head_sequence: int, chunk_size: int) -> Iterator[tuple]:
    """Every event up to the head, in sequence order, as EVENT_FIELDS tuples with occurred_at as `iso` text."""
    events = AuditEvent.objects.filter(sequence__lte=head_sequence).order_by("sequence")
    if connection.vendor == "postgresql":
        events = events.annotate(occurred_at_text=Func(F("occurred_at"), template=_PG_ISO, output_field=CharField()))
        rows = events.values_list(*("occurred_at_text" if f == "occurred_at" else f for f in EVENT_FIELDS))
        # Inside a transaction the rows may not be committed: only this connection sees them, and its
        # server-side cursor is not WITH HOLD there, so Django's iterator streams as well.
        if _chunked_streams() and not connection.in_atomic_block:
            yield from _postgres_stream(rows, chunk_size)
        else:
            yield from rows.iterator(chunk_size=chunk_size)
        return
    if connection.vendor == "sqlite":
        # SQLite holds the text Django wrote (UTC, "YYYY-MM-DD HH:MM:SS[.ffffff]"): rewriting it is cheaper
        # than Django's converter building a datetime per row.
        events = events.annotate(occurred_at_text=Cast("occurred_at", output_field=TextField()))
        rows = events.values_list(*("occurred_at_text" if f == "occurred_at" else f for f in EVENT_FIELDS))
        # One query per chunk, each read to its end: a statement left open keeps a WAL read snapshot, and once
        # the job's heartbeat thread has written, this connection's own progress update cannot upgrade that
        # stale snapshot ("database is locked"; every SQLite export scanning longer than a heartbeat failed).
        last = 0
        while chunk := list(rows.filter(sequence__gt=last)[:chunk_size]):
            for row in chunk:
                yield (row[0], _sqlite_iso(row[1]), *row[2:])
            last = chunk[-1][0]
        return
    for row in events.values_list(*EVENT_FIELDS).iterator(chunk_size=chunk_size):
        yield (row[0], iso(row[1]), *row[2:])


def _sqlite_iso(text: str) -> str:
    if len(text) == 26 and text[10] == " ":
        return f"{text[:10]}T{text[11:]}+00:00"
    if len(text) == 19 and text[10] == " ":
        return f"{text[:10]}T{text[11:]}.000000+00:00"
    # Anything else (written by other means): let Django parse it as it would when loading the model.
    moment = parse_datetime(text)
    return iso(moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)) if moment else text


POLICY_TYPE = "governance.policy"


@dataclass
class ChainScan:
    """Iterate `events()` for the in-scope rows; afterwards `verification` holds the chain's verdict.

    In scope: the project's own events (in the period, or about the listed versions' objects), and the
    events about the global policies in `policy_ids` (those whose snapshots the exported checks used),
    whenever they occurred: a global policy has no project, yet its history explains the exported checks'
    rules. Every event up to the head is verified either way.
    """

    scope: ExportScope
    object_ids: frozenset[str] | None = None
    policy_ids: frozenset[str] = frozenset()
    chunk_size: int = 10_000
    verification: ChainVerification | None = None
    scanned: int = 0
    extracted: int = 0
    # The sequences of the in-scope events, in order: the leaves the export's batch proof covers.
    sequences: array = field(default_factory=lambda: array("q"))
    # The canonical JSON of the row just yielded, when verification computed it (None past a break).
    canonical: str | None = None
    # Called with the number of events scanned so far, every `report_every` events (progress + heartbeat).
    on_progress: Callable[[int], None] | None = None
    report_every: int = 10_000

    def head(self) -> tuple[int, str]:
        head = AuditHead.objects.filter(pk=1).values_list("sequence", "hash").first()
        return head if head else (0, GENESIS_HASH)

    def total(self, head_sequence: int) -> int:
        """How many events the scan will read (for progress)."""
        return AuditEvent.objects.filter(sequence__lte=head_sequence).count()

    def __post_init__(self):
        # Fixed-width UTC ISO text compares like the times it stands for.
        self._start = iso(self.scope.start) if self.scope.start else None
        self._end = iso(self.scope.end) if self.scope.end else None

    def _in_scope(self, row: tuple) -> bool:
        if row[9] != self.scope.project_id:
            return row[9] is None and row[6] == POLICY_TYPE and row[7] in self.policy_ids
        if self.object_ids is not None:
            return row[7] in self.object_ids
        if self._start is not None and row[1] < self._start:
            return False
        return self._end is None or row[1] < self._end

    def events(self, head: tuple[int, str]) -> Iterator[tuple]:
        """Yield the in-scope event rows (see `event_rows`) in order, verifying every event up to `head`."""
        head_sequence, head_hash = head
        expected, prev_hash = 1, GENESIS_HASH
        broken = None
        report = self.on_progress
        for row in event_rows(head_sequence, self.chunk_size):
            self.scanned += 1
            if report is not None and not self.scanned % self.report_every:
                report(self.scanned)
            sequence = row[0]
            self.canonical = None
            if broken is None:
                if sequence != expected:
                    broken = (expected, f"event {expected} is missing (next stored event is {sequence})")
                elif row[15] != prev_hash:
                    broken = (sequence, f"event {sequence} does not link to event {sequence - 1}")
                else:
                    self.canonical = canonical_event(row)
                    if row_hash(row, self.canonical) != row[16]:
                        broken = (sequence, f"event {sequence} was changed after it was written")
                    else:
                        prev_hash = row[16]
                        expected += 1
            if self._in_scope(row):
                self.extracted += 1
                self.sequences.append(sequence)
                yield row
        checked = expected - 1
        if broken is None:
            broken = self._tail_problem(checked, head_sequence, prev_hash, head_hash)
        if broken is None:
            self.verification = ChainVerification(True, checked, head_sequence, head_hash)
        else:
            self.verification = ChainVerification(False, checked, head_sequence, head_hash, *broken)

    def _tail_problem(self, last: int, head_sequence: int, prev_hash: str, head_hash: str) -> tuple[int, str] | None:
        if last < head_sequence:
            return last + 1, f"events {last + 1}..{head_sequence} were deleted"
        if prev_hash != head_hash:
            return last, f"event {last} does not match the recorded chain head"
        # Events past the head we started from are fine if the head has moved on to cover them since.
        newest = AuditEvent.objects.filter(sequence__gt=head_sequence).aggregate(m=Max("sequence"))["m"]
        current = self.head()[0]
        if newest is not None and newest > current:
            return current + 1, f"event {current + 1} was inserted outside the audit service"
        return None
