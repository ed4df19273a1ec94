"""Signed exports and their offline verifier: every format verifies with the zip and the public key alone, any
changed byte fails with the reason, and a consistently rewritten trail fails against a checkpoint kept earlier."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.core.management import call_command
from django.db import connection

from common.evidence import merkle, public_key_pem
from common.evidence.export_check import verify_export_files
from core import checkpoints
from core.audit import audited_atomic, event_hash, record_event, verify_chain
from core.context import Actor
from core.models import AuditEvent, AuditHead
from core.signing import signer
from reports.exports import trail_tree
from reports.exports.trail_tree import TrailTree
from reports.models import Export
from reports.services.exports import export_path, export_request
from tests.evidence.conftest import SEED_A, signer_from_seed
from tests.governance.test_workflow import make_version
from tests.support import REPO

pytestmark = pytest.mark.django_db


def _events(project, count: int, action: str = "test.happened") -> None:
    for index in range(count):
        with audited_atomic():
            record_event(
                actor=Actor.system("test"), action=action, object_type="test", object_id=str(index), project=project
            )


@pytest.fixture
def world(project, other_project, team):
    """Events of two projects, interleaved, so the project's events are not one run of the trail."""
    make_version(project, team["pipeline"].user)
    for _ in range(3):
        _events(project, 2)
        _events(other_project, 3)
    # A text starting like a formula: neutralised in the CSV, and the verifier must take the guard off.
    with audited_atomic():
        record_event(actor=Actor.system("test"), action="=HYPERLINK(x)", object_repr="-1", project=project)


@pytest.fixture
def run(team, django_capture_on_commit_callbacks):
    def go(fmt: str) -> Path:
        with django_capture_on_commit_callbacks(execute=True):
            export = export_request(
                actor=Actor(user=team["auditor"].user, via="test"), project=team["auditor"].project, format=fmt
            )
        export = Export.objects.get(pk=export.pk)
        assert export.state == "succeeded", export.error
        return export_path(export.file_path)

    return go


@pytest.fixture
def key_file(tmp_path) -> Path:
    """The registry's public key, as an auditor saves it from GET /api/v1/signing-keys/."""
    path = tmp_path / "registry-key.pem"
    path.write_bytes(public_key_pem(signer().public_key))
    return path


def _verify(zip_path: Path, key_file: Path, *earlier: Path):
    return verify_export_files(zip_path, [key_file], list(earlier))


def _outcomes(result) -> dict[str, tuple[bool | None, str | None]]:
    return {check.name: (check.ok, check.reason) for check in result.checks}


def _rewritten(zip_path: Path, name: str, change) -> Path:
    """A copy of the zip with one member's bytes changed (every other member byte for byte the same)."""
    target = zip_path.with_name(f"changed-{name}.zip")
    with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in source.infolist():
            data = source.read(info)
            copy.writestr(info.filename, change(data) if info.filename == name else data)
    return target


def _flip(data: bytes, at: int) -> bytes:
    """One byte changed to another printable one (so the file still parses where it did)."""
    replacement = b"0" if data[at : at + 1] != b"0" else b"1"
    return data[:at] + replacement + data[at + 1 :]


CHECKS = ["manifest signature", "manifest", "files", "checkpoint", "audit chain", "inclusion"]


@pytest.mark.parametrize("fmt", ["csv", "json", "pdf"])
def test_every_format_verifies_with_the_zip_and_the_public_key(world, run, key_file, project, fmt):
    zip_path = run(fmt)
    result = _verify(zip_path, key_file)
    assert [check.name for check in result.checks] == CHECKS
    assert result.ok, result.lines()
    assert result.lines()[-1] == "VERIFIED"
    with zipfile.ZipFile(zip_path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        proof = json.loads(archive.read("audit_proof.json"))
        checkpoint = json.loads(archive.read("checkpoint.json"))
        keys = json.loads(archive.read("signing_keys.json"))
    exported = list(
        AuditEvent.objects.filter(project_id=project.pk).order_by("sequence").values_list("sequence", flat=True)
    )
    exported = [s for s in exported if s <= manifest["chain_verification"]["head_sequence"]]
    assert merkle.batch_ranges([s - 1 for s in exported], proof["tree_size"])  # not one run: the proof is not empty
    assert [i + 1 for a, b in proof["leaf_index_ranges"] for i in range(a, b)] == exported
    assert proof["tree_size"] == checkpoint["tree_size"] == manifest["audit_checkpoint"]["tree_size"] >= exported[-1]
    assert checkpoint == checkpoints.as_json(checkpoints.latest())
    assert keys == {signer().key_id: public_key_pem(signer().public_key).decode()}
    assert set(manifest["signed_evidence"]) >= {"manifest.dsse.json", "checkpoint.json", "audit_proof.json", "verify"}


def test_the_verifier_needs_no_django_no_database_and_no_environment(world, run, key_file, tmp_path):
    zip_path = Path(tmp_path / "export.zip")
    zip_path.write_bytes(run("csv").read_bytes())
    script = (
        "import sys\n"
        "from common.evidence.cli import main\n"
        "code = main(['verify-export', sys.argv[1], '--key', sys.argv[2]])\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('django', 'core', 'reports')], 'Django loaded'\n"
        "sys.exit(code)\n"
    )
    for command in (
        [sys.executable, "-c", script, str(zip_path), str(key_file)],
        [sys.executable, "-m", "common.evidence", "verify-export", str(zip_path), "--key", str(key_file)],
    ):
        done = subprocess.run(command, cwd=REPO, env={}, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        lines = done.stdout.splitlines()
        assert [line.split(":")[0] for line in lines[:-1]] == [f"ok    {name}" for name in CHECKS]
        assert lines[-1] == "VERIFIED"
    # The management command runs the same code and prints the same lines.
    out = io.StringIO()
    call_command("verify_export", str(zip_path), "--key", str(key_file), stdout=out)
    assert out.getvalue().splitlines() == lines


def test_a_wrong_key_or_an_unreadable_argument_fails(world, run, key_file, tmp_path):
    zip_path = run("json")
    other = tmp_path / "other.pem"
    other.write_bytes(public_key_pem(signer_from_seed(SEED_A).public_key))  # RFC 8032's first test key
    result = _verify(zip_path, other)
    assert _outcomes(result)["manifest signature"] == (False, "unknown_key")
    assert _outcomes(result)["checkpoint"] == (False, "unknown_key")
    assert result.lines()[-1].startswith("FAILED: manifest signature: no signature is by a trusted key")
    done = subprocess.run(
        [sys.executable, "-m", "common.evidence", "verify-export", str(zip_path), "--key", str(zip_path)],
        cwd=REPO,
        env={},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "not a readable Ed25519 public key" in done.stdout
    with pytest.raises(SystemExit) as exited:
        call_command("verify_export", str(zip_path), "--key", str(other), stdout=io.StringIO())
    assert exited.value.code == 1


def _change_sig(data: bytes) -> bytes:
    envelope = json.loads(data)
    sig = envelope["signatures"][0]["sig"]
    at = data.index(sig.encode()) + 10
    return _flip(data, at)


def _change_note_size(data: bytes) -> bytes:
    # The signed note's second line is the tree size: one digit of it changed.
    note = json.loads(data)["note"]
    size_line = note.split("\n")[1]
    at = data.index(("\\n" + size_line + "\\n").encode()) + 2
    return _flip(data, at)


def _change_proof_hash(data: bytes) -> bytes:
    first = json.loads(data)["batch_proof"][0]
    return _flip(data, data.index(first.encode()) + 5)


def _change_action(data: bytes) -> bytes:
    return _flip(data, data.index(b'"test.happened"') + 3)


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        # A data file: its SHA-256 is not the manifest's; if it is the events file, the chain breaks too.
        ("versions.csv", lambda d: _flip(d, len(d) - 5), {"files": "mismatch"}),
        ("audit_events.csv", _change_action, {"files": "mismatch", "audit chain": "chain_broken"}),
        # The manifest: no longer the bytes the envelope signs.
        ("manifest.json", lambda d: _flip(d, d.index(b'"generated_at": "') + 20), {"manifest signature": "mismatch"}),
        # The envelope: its signature no longer verifies.
        ("manifest.dsse.json", _change_sig, {"manifest signature": "bad_signature"}),
        # The checkpoint: listed in the manifest, and its signed note no longer verifies.
        ("checkpoint.json", _change_note_size, {"files": "mismatch", "checkpoint": "bad_signature"}),
        ("audit_proof.json", _change_proof_hash, {"files": "mismatch", "inclusion": "not_included"}),
    ],
)
def test_one_changed_byte_fails_with_its_reason(world, run, key_file, name, change, expected):
    zip_path = run("csv")
    assert _verify(zip_path, key_file).ok
    result = _verify(_rewritten(zip_path, name, change), key_file)
    failed = {check.name: check.reason for check in result.checks if check.ok is False}
    assert failed == expected, result.lines()
    first = next(check for check in result.checks if check.ok is False)
    assert result.lines()[-1] == f"FAILED: {first.name}: {first.detail}"


def test_an_added_or_removed_file_fails(world, run, key_file):
    zip_path = run("json")
    added = zip_path.with_name("added.zip")
    added.write_bytes(zip_path.read_bytes())
    with zipfile.ZipFile(added, "a") as archive:
        archive.writestr("note.txt", "added later")
    assert _outcomes(_verify(added, key_file))["files"] == (False, "unlisted")
    removed = zip_path.with_name("removed.zip")
    with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(removed, "w") as copy:
        for info in source.infolist():
            if info.filename != "signing_keys.json":
                copy.writestr(info.filename, source.read(info))
    assert _outcomes(_verify(removed, key_file))["files"] == (False, "missing")
    assert not _verify(removed, key_file).ok


def test_a_dsse_envelope_of_an_export_verifies_with_an_independent_implementation(world, run, key_file):
    with zipfile.ZipFile(run("pdf")) as archive:
        envelope = json.loads(archive.read("manifest.dsse.json"))
        manifest = archive.read("manifest.json")
    # DSSE v1, written out: PAE = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in ASCII decimal.
    payload_type = envelope["payloadType"]
    body = base64.b64decode(envelope["payload"])
    pae = b"DSSEv1 " + str(len(payload_type.encode())).encode() + b" " + payload_type.encode()
    pae += b" " + str(len(body)).encode() + b" " + body
    public_key = load_pem_public_key(key_file.read_bytes())
    [signature] = envelope["signatures"]
    public_key.verify(base64.b64decode(signature["sig"]), pae)  # raises InvalidSignature if not
    assert body == manifest
    assert payload_type == "application/vnd.synthetic-registry.export-manifest+json"
    assert signature["keyid"] == signer().key_id


def _rewrite_trail(sequence: int, repr_text: str) -> None:
    """What someone with write access to the database can do: change one event and recompute every later hash
    with the registry's own hash function, then move the head, so that the chain verifies again."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The append-only triggers refuse UPDATE; a superuser can switch them off for the transaction.
            cursor.execute("SET LOCAL session_replication_role = replica")
    events = list(AuditEvent.objects.filter(sequence__gte=sequence).order_by("sequence"))
    events[0].object_repr = repr_text
    previous = events[0].prev_hash
    for event in events:
        event.prev_hash = previous
        event.hash = event_hash(event)
        AuditEvent.objects.filter(pk=event.pk).update(
            prev_hash=event.prev_hash, hash=event.hash, object_repr=event.object_repr
        )
        previous = event.hash
    AuditHead.objects.filter(pk=1).update(hash=previous)


def test_a_consistently_rewritten_trail_fails_against_a_checkpoint_exported_earlier(
    world, run, key_file, project, other_project, tmp_path
):
    first = run("csv")
    kept = tmp_path / "kept-checkpoint.json"  # the auditor keeps the first export's checkpoint
    with zipfile.ZipFile(first) as archive:
        kept.write_bytes(archive.read("checkpoint.json"))
    _events(project, 2)
    _events(other_project, 2)
    second = run("json")
    result = _verify(second, key_file, kept)
    assert result.ok, result.lines()
    assert result.checks[-1].name == f"earlier checkpoint {kept}"
    assert "extends it" in result.checks[-1].detail

    victim = AuditEvent.objects.filter(project_id=project.pk).order_by("sequence").first()
    _rewrite_trail(victim.sequence, "nothing happened here")
    assert verify_chain().ok  # the chain alone is fooled
    third = run("csv")
    result = _verify(third, key_file, kept)
    outcomes = _outcomes(result)
    # Everything the registry signed now verifies (it signs what the database holds) ...
    assert all(outcomes[name] == (True, None) for name in CHECKS), result.lines()
    # ... but the trail no longer extends what it signed when the auditor made the first export.
    assert outcomes[f"earlier checkpoint {kept}"] == (False, "inconsistent")
    assert result.lines()[-1].startswith(f"FAILED: earlier checkpoint {kept}: the trail of")
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("verify_export", str(third), "--key", str(key_file), "--checkpoint", str(kept), stdout=out)
    assert (exited.value.code, out.getvalue().splitlines()) == (1, result.lines())
    # The registry's own checks see it too, from the checkpoints it stored.
    assert checkpoints.verify_checkpoints()["ok"] is False
    with pytest.raises(SystemExit):
        call_command("verify_audit", stdout=io.StringIO(), stderr=io.StringIO())


def test_an_earlier_checkpoint_the_export_has_no_proof_for_is_not_verified(world, run, key_file, project, tmp_path):
    signed_apart = tmp_path / "from-the-api.json"  # a checkpoint not carried by any export of the project
    signed_apart.write_text(json.dumps(checkpoints.as_json(checkpoints.checkpoint_now())))
    _events(project, 1)
    zip_path = run("csv")
    newer = tmp_path / "newer.json"
    _events(project, 1)
    newer.write_text(json.dumps(checkpoints.as_json(checkpoints.checkpoint_now())))
    with zipfile.ZipFile(zip_path) as archive:
        same = tmp_path / "same.json"
        same.write_bytes(archive.read("checkpoint.json"))
    result = _verify(zip_path, key_file, signed_apart, newer, same)
    outcomes = _outcomes(result)
    assert outcomes[f"earlier checkpoint {signed_apart}"] == (False, "no_proof")
    assert outcomes[f"earlier checkpoint {newer}"] == (False, "no_proof")
    assert outcomes[f"earlier checkpoint {same}"] == (True, None)
    assert not result.ok


def test_a_trail_with_a_deleted_event_exports_without_a_checkpoint_and_fails(world, run, key_file, project):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM governance_auditevent WHERE sequence = 3")
    zip_path = run("csv")
    with zipfile.ZipFile(zip_path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert "checkpoint.json" not in archive.namelist()
    assert manifest["audit_checkpoint"] is None
    assert "event 3 is missing" in manifest["audit_checkpoint_error"]
    outcomes = _outcomes(_verify(zip_path, key_file))
    assert outcomes["manifest"] == (False, "chain_broken")
    assert outcomes["checkpoint"] == (False, "missing")
    assert outcomes["inclusion"][0] is None  # not checked: there is no checkpoint to check against


def test_the_trail_tree_equals_the_in_memory_tree_on_every_range(project, other_project, monkeypatch):
    monkeypatch.setattr(trail_tree, "BLOCK", 4)
    _events(project, 20)
    _events(other_project, 17)
    size = checkpoints.head_size()
    reference = merkle.subtree_hasher(checkpoints.leaf_hashes(size))
    tree = TrailTree(size)
    for start in range(size):
        for end in range(start + 1, size + 1):
            assert tree(start, end) == reference(start, end), (start, end)
    # Each perfect subtree of 4 leaves or more is computed once and kept: 9 + 4 + 2 + 1 of them in 37 leaves.
    assert len(tree.perfect) == sum(size // width for width in (4, 8, 16, 32)) == 16


def test_a_batch_proof_of_every_event_reads_nothing(project, monkeypatch):
    _events(project, 40)
    size = checkpoints.head_size()
    tree = TrailTree(size)
    assert merkle.batch_inclusion_path(list(range(size)), size, tree) == []
    assert tree.events_read == 0
    # One event: the same hashes as its audit path, read from the table.
    proof = merkle.batch_inclusion_path([3], size, tree)
    assert sorted(proof) == sorted(merkle.inclusion_proof(3, checkpoints.leaf_hashes(size)))
    assert tree.events_read == size


def test_the_trail_tree_refuses_a_trail_with_a_missing_event(project):
    _events(project, 5)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM governance_auditevent WHERE sequence = 2")
    with pytest.raises(trail_tree.TrailGapError, match="1 missing from the trail"):
        TrailTree(5)(0, 5)
