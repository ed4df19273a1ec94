"""The signing key (published, rotated) and the audit trail's signed checkpoints and proofs."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from common.evidence import generate_private_key, merkle, private_key_pem, verify_checkpoint
from core import checkpoints
from core.audit import audited_atomic, event_hash, record_event
from core.context import Actor
from core.models import AuditCheckpoint, AuditEvent, AuditHead, SigningKey
from core.signing import active_key, public_keys, signer
from tests.support import REPO, make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(project, other_project):
    members = {role: make_member(project, role, f"s-{role}") for role in ("pipeline", "reviewer", "auditor", "admin")}
    members["outsider"] = make_member(other_project, "pipeline", "s-outsider")
    return members


def _events(project, count: int) -> None:
    for index in range(count):
        with audited_atomic():
            record_event(
                actor=Actor.system("test"),
                action="test.happened",
                object_type="test",
                object_id=str(index),
                project=project,
            )


@pytest.mark.parametrize("caller", ["pipeline", "reviewer", "auditor", "admin", "outsider"])
def test_every_authenticated_caller_reads_the_signing_keys(people, caller):
    key = active_key()
    body = people[caller].client.get("/api/v1/signing-keys/").json()
    assert body["count"] == 1
    [published] = body["results"]
    assert published == {
        "key_id": signer().key_id,
        "algorithm": "ed25519",
        "public_key_pem": key.public_key_pem,
        "created_at": published["created_at"],
        "retired_at": None,
    }


def test_anonymous_callers_cannot_read_the_keys(anonymous, db):
    assert anonymous.get("/api/v1/signing-keys/").status_code == 401


def test_rotation_retires_the_old_key_which_stays_published(settings, db):
    configured = settings.REGISTRY_SIGNING_KEY_PEM
    old = active_key()
    settings.REGISTRY_SIGNING_KEY_PEM = private_key_pem(generate_private_key()).decode()
    new = active_key()
    assert new.key_id != old.key_id
    old.refresh_from_db()
    assert old.retired_at is not None and new.retired_at is None
    assert set(public_keys()) == {old.key_id, new.key_id}
    actions = list(AuditEvent.objects.filter(action__startswith="signing_key.").values_list("action", "object_id"))
    assert actions == [("signing_key.activated", old.key_id), ("signing_key.activated", new.key_id)]
    # Rolling the rotation back makes the old key active again, and says so.
    settings.REGISTRY_SIGNING_KEY_PEM = configured
    assert active_key().key_id == old.key_id
    assert SigningKey.objects.get(pk=new.key_id).retired_at is not None
    assert AuditEvent.objects.filter(action="signing_key.reactivated", object_id=old.key_id).count() == 1


def _manage(*args, **env):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DEBUG", "SECRET_KEY", "REGISTRY_SIGNING"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env={**base, **env}, capture_output=True, text=True, check=False
    )


def test_production_refuses_to_start_without_a_signing_key(tmp_path):
    result = _manage("check", DEBUG="false", SECRET_KEY="x" * 50)
    assert result.returncode == 1
    assert "No signing key: set REGISTRY_SIGNING_KEY_FILE" in result.stderr
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    result = _manage("check", DEBUG="false", SECRET_KEY="x" * 50, REGISTRY_SIGNING_KEY_FILE=str(bad))
    assert result.returncode == 1
    assert f"REGISTRY_SIGNING_KEY_FILE='{bad}' is not a usable signing key" in result.stderr


def test_the_key_command_writes_a_private_key_only_its_owner_reads(tmp_path):
    path = tmp_path / "keys" / "registry.pem"
    result = _manage("signing_key", "create", str(path), DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert "key id " in result.stdout
    again = _manage("signing_key", "create", str(path), DEBUG="true")
    assert again.returncode != 0 and "exists" in again.stderr


def test_a_checkpoint_signs_the_trail_and_is_reused_until_events_are_added(project):
    _events(project, 5)
    first = checkpoints.checkpoint_now()
    size = AuditHead.objects.get(pk=1).sequence
    assert first.tree_size == size
    hashes = [bytes.fromhex(h) for h in AuditEvent.objects.order_by("sequence").values_list("hash", flat=True)]
    assert first.root_hash == merkle.root([merkle.leaf_hash(h) for h in hashes]).hex()
    verified = verify_checkpoint(checkpoints.as_json(first), public_keys(), origin="127.0.0.1:8000/audit")
    assert (verified.tree_size, verified.root_hash.hex()) == (size, first.root_hash)
    assert checkpoints.checkpoint_now() == first  # nothing new: the same checkpoint
    _events(project, 1)
    assert checkpoints.checkpoint_now().tree_size == size + 1


def test_a_checkpoint_is_due_only_after_the_interval_and_new_events(project, settings):
    settings.REGISTRY_CHECKPOINT_MINUTES = 15
    _events(project, 2)
    first = checkpoints.checkpoint_if_due()
    assert first is not None
    assert checkpoints.checkpoint_if_due() is None  # no new event
    _events(project, 1)
    assert checkpoints.checkpoint_if_due(now=first.timestamp + timedelta(minutes=14)) is None
    later = checkpoints.checkpoint_if_due(now=timezone.now() + timedelta(minutes=16))
    assert later is not None and later.tree_size == first.tree_size + 1


def test_inclusion_and_consistency_proofs_verify(people, project):
    _events(project, 6)
    old = checkpoints.checkpoint_now()
    _events(project, 5)
    new = checkpoints.checkpoint_now()
    auditor = people["auditor"].client
    event = AuditEvent.objects.filter(project_id=project.pk).order_by("sequence")[3]
    body = auditor.get(f"/api/v1/audit-events/{event.sequence}/proof/").json()
    assert (body["tree_size"], body["checkpoint"]["tree_size"], body["root_hash"]) == (
        new.tree_size,
        new.tree_size,
        new.root_hash,
    )
    leaf = merkle.leaf_hash(bytes.fromhex(event.hash))
    proof = [bytes.fromhex(node) for node in body["proof"]]
    assert merkle.verify_inclusion(event.sequence - 1, new.tree_size, leaf, proof, bytes.fromhex(new.root_hash))
    assert not merkle.verify_inclusion(event.sequence, new.tree_size, leaf, proof, bytes.fromhex(new.root_hash))
    older = auditor.get(f"/api/v1/audit-events/{event.sequence}/proof/?tree_size={old.tree_size}").json()
    assert older["root_hash"] == old.root_hash

    body = auditor.get(f"/api/v1/audit/consistency/?first={old.tree_size}&second={new.tree_size}").json()
    assert (body["first_root"], body["second_root"]) == (old.root_hash, new.root_hash)
    nodes = [bytes.fromhex(node) for node in body["proof"]]
    assert merkle.verify_consistency(
        old.tree_size, new.tree_size, bytes.fromhex(old.root_hash), bytes.fromhex(new.root_hash), nodes
    )
    listed = auditor.get("/api/v1/audit/checkpoints/").json()
    assert [c["tree_size"] for c in listed["results"]] == [new.tree_size, old.tree_size]
    assert listed["results"][0]["note"] == new.note


@pytest.mark.parametrize(
    ("query", "field"),
    [("first=x", "first"), ("", "first"), ("first=5&second=999999", "first"), ("first=9&second=3", "first")],
)
def test_a_bad_consistency_request_names_the_parameter(people, project, query, field):
    _events(project, 6)
    response = people["auditor"].client.get(f"/api/v1/audit/consistency/?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [field]


@pytest.mark.parametrize(
    ("caller", "status"),
    [("pipeline", 403), ("reviewer", 403), ("auditor", 200), ("admin", 200), ("outsider", 403)],
)
def test_who_may_read_checkpoints_and_proofs(people, project, caller, status, anonymous):
    _events(project, 3)
    checkpoints.checkpoint_now()
    client = people[caller].client
    assert client.get("/api/v1/audit/checkpoints/").status_code == status
    assert client.get("/api/v1/audit/consistency/?first=1").status_code == status
    event = AuditEvent.objects.filter(project_id=project.pk).first()
    assert client.get(f"/api/v1/audit-events/{event.sequence}/proof/").status_code == status
    assert anonymous.get("/api/v1/audit/checkpoints/").status_code == 401


def test_an_event_of_another_project_has_no_proof_for_you(people, project, other_project):
    _events(other_project, 1)
    foreign = AuditEvent.objects.filter(project_id=other_project.pk).first()
    assert people["auditor"].client.get(f"/api/v1/audit-events/{foreign.sequence}/proof/").status_code == 404


def test_a_consistently_rewritten_trail_fails_against_its_checkpoints(project):
    _events(project, 8)
    checkpoints.checkpoint_now()
    assert checkpoints.verify_checkpoints()["ok"] is True
    # What someone with write access to the database could do: change one event and recompute every later
    # hash, so that the chain itself verifies again. On PostgreSQL the table's owner can switch the
    # append-only triggers off (this test's transaction rolls that back); SQLite has none.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE governance_auditevent DISABLE TRIGGER USER")
    events = list(AuditEvent.objects.order_by("sequence"))
    events[2].object_repr = "nothing happened here"
    previous = events[1].hash
    for event in events[2:]:
        event.prev_hash = previous
        event.hash = event_hash(event)
        AuditEvent.objects.filter(pk=event.pk).update(
            prev_hash=event.prev_hash, hash=event.hash, object_repr=event.object_repr
        )
        previous = event.hash
    AuditHead.objects.filter(pk=1).update(hash=previous)
    from core.audit import verify_chain

    assert verify_chain().ok  # the chain alone is fooled
    result = checkpoints.verify_checkpoints()
    assert result["ok"] is False
    [failure] = result["failures"]
    assert failure["tree_size"] == AuditCheckpoint.objects.get().tree_size
    assert "the trail was rewritten" in failure["reason"]
