"""The hash-chained audit trail: appending, verifying, and catching every kind of tampering."""

import hashlib
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from core.audit import GENESIS_HASH, audited_atomic, canonical_json, event_hash, record_event, verify_chain
from core.context import Actor
from core.models import AuditEvent, AuditHead
from core.services import project_ensure
from tests.support import requires_postgres

pytestmark = pytest.mark.django_db


def _append(n: int, actor: Actor | None = None) -> list[AuditEvent]:
    actor = actor or Actor.system("test", request_id="req-1")
    events = []
    for i in range(n):
        with audited_atomic():
            events.append(
                record_event(
                    actor=actor,
                    action="test.thing",
                    object_type="test",
                    object_id=str(i),
                    before={"n": i},
                    after={"n": i + 1, "note": "ünïcode ✓"},
                )
            )
    return events


def _raw_sql(sql: str, params=()) -> None:
    """Tamper below the ORM, as an attacker with database access would (PostgreSQL triggers off)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


def test_events_chain_from_genesis_with_exact_hashes():
    first, second = _append(2)
    assert (first.sequence, second.sequence) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    payload = {
        "sequence": 1,
        "occurred_at": first.occurred_at.isoformat(timespec="microseconds"),
        "actor_user_id": None,
        "actor_username": "",
        "actor_via": "test",
        "action": "test.thing",
        "object_type": "test",
        "object_id": "0",
        "object_repr": "",
        "project_id": None,
        "project_slug": "",
        "before": '{"n":0}',
        "after": '{"n":1,"note":"ünïcode ✓"}',
        "request_id": "req-1",
        "client_ip": "",
        "prev_hash": GENESIS_HASH,
    }
    expected = hashlib.sha256((GENESIS_HASH + canonical_json(payload)).encode()).hexdigest()
    assert first.hash == expected
    head = AuditHead.objects.get()
    assert (head.sequence, head.hash) == (2, second.hash)


def test_verify_passes_on_an_intact_chain():
    _append(3)
    result = verify_chain()
    assert result.as_dict() == {
        "ok": True,
        "checked": 3,
        "head_sequence": 3,
        "head_hash": AuditEvent.objects.get(sequence=3).hash,
        "first_bad_sequence": None,
        "reason": "",
    }


@pytest.mark.django_db(transaction=True)
def test_record_event_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        record_event(actor=Actor.system("test"), action="x", object_type="t", object_id="1")
    assert AuditEvent.objects.count() == 0


def test_a_rolled_back_write_leaves_no_event():
    _append(1)
    with pytest.raises(ZeroDivisionError), audited_atomic():
        record_event(actor=Actor.system("test"), action="doomed", object_type="t", object_id="1")
        1 / 0  # noqa: B018 - the write fails after recording
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["test.thing"]
    assert verify_chain().ok


def test_changed_event_is_named():
    _append(4)
    _raw_sql("UPDATE governance_auditevent SET after_json = %s WHERE sequence = 2", ['{"n":999}'])
    result = verify_chain()
    assert (result.ok, result.first_bad_sequence) == (False, 2)
    assert result.reason == "event 2 was changed after it was written"


def test_deleted_event_in_the_middle_is_named():
    _append(4)
    _raw_sql("DELETE FROM governance_auditevent WHERE sequence = 3")
    result = verify_chain()
    assert (result.ok, result.first_bad_sequence) == (False, 3)
    assert result.reason == "event 3 is missing (next stored event is 4)"


def test_deleted_tail_is_caught_by_the_head():
    _append(4)
    _raw_sql("DELETE FROM governance_auditevent WHERE sequence = 4")
    result = verify_chain()
    assert (result.ok, result.first_bad_sequence) == (False, 4)
    assert result.reason == "events 4..4 were deleted"


def test_event_inserted_outside_the_service_is_named():
    events = _append(2)
    forged = AuditEvent(
        sequence=3,
        occurred_at=events[-1].occurred_at,
        action="forged",
        object_type="t",
        object_id="x",
        prev_hash=events[-1].hash,
    )
    forged.hash = event_hash(forged)
    forged.save(force_insert=True)
    result = verify_chain()
    assert (result.ok, result.first_bad_sequence) == (False, 3)
    assert result.reason == "event 3 was inserted outside the audit service"


def test_relinked_event_with_a_recomputed_hash_breaks_the_link():
    _append(3)
    event = AuditEvent.objects.get(sequence=3)
    event.prev_hash = "f" * 64  # an attacker who recomputes the hash still cannot fake the link
    _raw_sql(
        "UPDATE governance_auditevent SET prev_hash = %s, hash = %s WHERE sequence = 3",
        [event.prev_hash, event_hash(event)],
    )
    result = verify_chain()
    assert (result.ok, result.first_bad_sequence) == (False, 3)
    assert result.reason == "event 3 does not link to event 2"


def test_verify_audit_command_exit_codes_and_messages():
    _append(2)
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert out.getvalue().startswith("audit chain intact: 2 events, head #2 ")
    out = StringIO()
    call_command("verify_audit", "--json", stdout=out)
    assert json.loads(out.getvalue())["ok"] is True

    _raw_sql("UPDATE governance_auditevent SET action = 'rewritten' WHERE sequence = 1")
    err = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit", stderr=err)
    assert exit_info.value.code == 1
    assert "audit chain BROKEN at event 1: event 1 was changed after it was written" in err.getvalue()


def test_services_record_actor_request_and_project():
    actor = Actor(user=None, via="token:abcd1234", request_id="r-42", client_ip="10.0.0.7")
    project = project_ensure(actor=actor, slug="audited", name="Audited")
    event = AuditEvent.objects.get(action="project.created")
    assert (event.object_type, event.object_id, event.project_id, event.project_slug) == (
        "governance.project",
        str(project.pk),
        project.pk,
        "audited",
    )
    assert (event.actor_via, event.request_id, event.client_ip) == ("token:abcd1234", "r-42", "10.0.0.7")
    assert event.after == {"slug": "audited", "name": "Audited", "description": ""}
    assert event.before is None


@requires_postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE governance_auditevent SET action = 'x'",
        "DELETE FROM governance_auditevent",
        "TRUNCATE governance_auditevent",
    ],
)
def test_postgres_triggers_refuse_changes_to_the_audit_table(statement):
    _append(2)
    with (
        pytest.raises(DatabaseError, match="the audit trail is append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert AuditEvent.objects.count() == 2
    assert verify_chain().ok
