"""The export's one-pass chain scan hashes and judges exactly as core.audit.verify_chain does."""

import csv
import io

import pytest
from django.db import connection

from core.audit import _event_payload, audited_atomic, canonical_json, event_hash, record_event, verify_chain
from core.context import Actor
from core.models import AuditEvent
from reports.exports.chain import EVENT_FIELDS, ChainScan, canonical_event, event_rows, iso, row_hash
from reports.exports.scope import ExportScope

pytestmark = pytest.mark.django_db


def _append(n: int, project=None) -> None:
    actor = Actor.system("test", request_id="req-1")
    for i in range(n):
        with audited_atomic():
            record_event(
                actor=actor,
                action="test.thing",
                object_type="test",
                object_id=str(i),
                project=project,
                before={"n": i},
                after={"n": i + 1, "note": 'ünïcode ✓ "quoted" \\ </script>'},
            )


def _raw_sql(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


def _scan(project_id: int = 0) -> ChainScan:
    scan = ChainScan(ExportScope(project_id=project_id, project_slug="x"), chunk_size=2)
    rows = list(scan.events(scan.head()))
    assert len(rows) == scan.extracted
    return scan


def test_row_hash_is_the_audit_services_hash(project):
    _append(3, project)
    events = list(AuditEvent.objects.order_by("sequence"))
    fetched = list(event_rows(3, chunk_size=2))
    for event, row in zip(events, fetched, strict=True):
        assert row == (event.sequence, iso(event.occurred_at), *(getattr(event, f) for f in EVENT_FIELDS[2:]))
        assert canonical_event(row) == canonical_json(_event_payload(event))
        assert row_hash(row) == event_hash(event) == event.hash


def test_intact_chain_verifies_and_yields_only_the_projects_events(project, other_project):
    _append(2, project)
    _append(3, other_project)
    _append(1, project)
    scan = _scan(project.pk)
    assert scan.verification.as_dict() == verify_chain().as_dict()
    assert scan.verification.ok is True
    assert (scan.scanned, scan.extracted) == (6, 3)


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (
            "UPDATE governance_auditevent SET after_json = '{}' WHERE sequence = 2",
            "event 2 was changed after it was written",
        ),
        ("DELETE FROM governance_auditevent WHERE sequence = 3", "event 3 is missing (next stored event is 4)"),
        ("DELETE FROM governance_auditevent WHERE sequence = 4", "events 4..4 were deleted"),
        ("UPDATE governance_auditevent SET prev_hash = 'f' WHERE sequence = 3", "event 3 does not link to event 2"),
        ("UPDATE governance_audithead SET hash = 'f' WHERE id = 1", "event 4 does not match the recorded chain head"),
    ],
)
def test_tampering_is_named_exactly_as_verify_chain_names_it(project, tamper, reason):
    _append(4, project)
    _raw_sql(tamper)
    expected = verify_chain()
    scan = _scan(project.pk)
    assert scan.verification.as_dict() == expected.as_dict()
    assert (scan.verification.ok, scan.verification.reason) == (False, reason)


def test_an_event_inserted_outside_the_service_is_named(project):
    _append(2, project)
    last = AuditEvent.objects.get(sequence=2)
    forged = AuditEvent(
        sequence=3, occurred_at=last.occurred_at, action="forged", object_type="t", object_id="x", prev_hash=last.hash
    )
    forged.hash = event_hash(forged)
    forged.save(force_insert=True)
    scan = _scan(project.pk)
    expected = verify_chain()
    # The scan stops at the head it started from, so it checked the two events before the forged one.
    assert scan.verification.as_dict() == {**expected.as_dict(), "checked": 2}
    assert (scan.verification.first_bad_sequence, scan.verification.reason) == (
        3,
        "event 3 was inserted outside the audit service",
    )


def test_csv_lines_read_back_as_the_stored_fields():
    from reports.exports.tables import event_line

    row = (
        7,
        "2026-01-01T00:00:00.000001+00:00",
        None,
        'a "quoted", name',
        "via",
        "x.y",
        "t",
        "1",
        "line\nbreak\r\n",
        3,
    )
    row += ("", '{"k":"v, w"}', "null", "", "", "0" * 64, "f" * 64)
    parsed = next(csv.reader(io.StringIO(event_line(row))))
    assert parsed == ["7", row[1], "", *row[3:9], "3", *row[10:]]


def test_sqlite_timestamps_are_rewritten_as_the_chain_hashes_them():
    from reports.exports.chain import _sqlite_iso

    assert _sqlite_iso("2026-01-02 03:04:05.123456") == "2026-01-02T03:04:05.123456+00:00"
    assert _sqlite_iso("2026-01-02 03:04:05") == "2026-01-02T03:04:05.000000+00:00"
    assert _sqlite_iso("2026-01-02T05:04:05+02:00") == "2026-01-02T03:04:05.000000+00:00"


@pytest.mark.parametrize(
    "text", ["=SUM(A1)", "+1", "-1", "@x", "\tx", "\rx", "'quoted", "plain", "", 'ünï\ncode, "q" \\']
)
def test_the_offline_verifier_reads_exported_events_back_to_their_hashes(text):
    from common.evidence.auditlog import event_hash as shared_event_hash
    from common.evidence.export_events import csv_events, json_events
    from reports.exports.jsondoc import event_object
    from reports.exports.tables import EVENT_COLUMNS, event_line

    row = (7, "2026-01-01T00:00:00.000001+00:00", None, text, "via", text, "t", text, text, None, text)
    row += (canonical_json({"k": text}), canonical_json(text), text, "", "a" * 64)
    row += (row_hash((*row, "")),)
    written = (",".join(EVENT_COLUMNS) + "\n" + event_line(row)).encode()
    [(payload, stored)] = list(csv_events(io.BytesIO(written), "audit_events.csv"))
    assert (shared_event_hash(payload), stored) == (row[16], row[16])
    assert payload["actor_username"] == text and payload["project_id"] is None
    written = b'{"export": {},\n"audit_events": [\n' + event_object(row).encode() + b'\n],\n"x": 1}\n'
    [(payload, stored)] = list(json_events(io.BytesIO(written), "export.json"))
    assert (shared_event_hash(payload), stored) == (row[16], row[16])
