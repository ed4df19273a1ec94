"""Signed checkpoints: the exact note for a fixed key, round trips, and every tampering caught."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.evidence.checkpoint import sign_checkpoint, verify_checkpoint, verify_checkpoint_note
from common.evidence.errors import Reason, VerificationError
from common.evidence.note import sign_note
from tests.evidence.conftest import KEY_ID_A, KEY_ID_B, PUBLIC_A

ORIGIN = "registry.example/audit"
# The root of the 3-leaf RFC 6962 test tree (transparency-dev/merkle testonly.RootHashes()[3]).
ROOT_3 = bytes.fromhex("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77")
WHEN = dt.datetime(2026, 8, 1, 14, 30, 5, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
BODY = f"{ORIGIN}\n3\nrra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=\ntimestamp 2026-08-01T12:30:05Z\n"
SIGNATURE = "8CGxCOL8IfG2GFF+61oSwuTpzeDwSeLBB0gKocF4Un93Pfg9Zjp37yJWcHOmkFEKCLwpbjrNYuLZfEbDH2XnBw=="
NOTE = (
    BODY
    + f"\n\u2014 {ORIGIN} D6jwoPAhsQji/CHxthhRfutaEsLk6c3g8EniwQdICqHBeFJ/dz34PWY6d+8iVnBzppBRCgi8KW46zWLi2XxGwx9l5wc=\n"
)


@pytest.fixture
def checkpoint(signer_a):
    return sign_checkpoint(origin=ORIGIN, tree_size=3, root_hash=ROOT_3, timestamp=WHEN, signer=signer_a)


@pytest.fixture
def keys(signer_a, signer_b):
    return {KEY_ID_A: signer_a.public_key, KEY_ID_B: signer_b.public_key}


def _error(function, *arguments, **options) -> tuple[Reason, str]:
    with pytest.raises(VerificationError) as error:
        function(*arguments, **options)
    return error.value.reason, str(error.value)


def test_note_and_json_exactly(checkpoint):
    assert checkpoint.note == NOTE
    assert checkpoint.to_json() == {
        "origin": ORIGIN,
        "tree_size": 3,
        "root_hash": ROOT_3.hex(),
        "timestamp": "2026-08-01T12:30:05Z",
        "key_id": KEY_ID_A,
        "signature": SIGNATURE,
        "note": NOTE,
    }
    assert checkpoint.timestamp == dt.datetime(2026, 8, 1, 12, 30, 5, tzinfo=dt.UTC)
    assert checkpoint.key_name == ORIGIN


def test_signature_line_is_c2sp_ed25519(checkpoint):
    # base64(SHA-256(key name || 0x0A || 0x01 || public key)[:4] || Ed25519 signature of the note text)
    blob = base64.b64decode(NOTE.rsplit(" ", 1)[1])
    expected_hash = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + bytes.fromhex(PUBLIC_A)).digest()[:4]
    assert blob == expected_hash + base64.b64decode(SIGNATURE)
    assert checkpoint.signature == base64.b64decode(SIGNATURE)


def test_round_trips(checkpoint, keys):
    assert verify_checkpoint(checkpoint.to_json(), keys) == checkpoint
    assert verify_checkpoint(checkpoint.to_json(), keys, origin=ORIGIN) == checkpoint
    assert verify_checkpoint_note(NOTE, keys) == checkpoint
    assert verify_checkpoint_note(NOTE.encode(), keys) == checkpoint


def test_other_key_names_empty_trees_and_huge_sizes_round_trip(signer_b, keys):
    for tree_size, root_hash in ((0, hashlib.sha256(b"").digest()), (2**64 - 1, b"\xff" * 32)):
        made = sign_checkpoint(
            origin="log with spaces",
            tree_size=tree_size,
            root_hash=root_hash,
            timestamp=WHEN,
            signer=signer_b,
            key_name="witness.example/b",
        )
        assert made.note.split("\n")[1] == str(tree_size)
        assert made.note.endswith("\n\n") is False and "\u2014 witness.example/b " in made.note
        assert verify_checkpoint(made.to_json(), keys) == made


def test_a_cosignature_by_an_unknown_key_is_ignored(checkpoint, signer_b, keys):
    other = sign_checkpoint(
        origin=ORIGIN, tree_size=3, root_hash=ROOT_3, timestamp=WHEN, signer=signer_b, key_name="witness"
    )
    witnessed = NOTE + other.note.split("\n\n")[1]
    assert verify_checkpoint_note(witnessed, {KEY_ID_A: keys[KEY_ID_A]}).key_id == KEY_ID_A
    assert verify_checkpoint_note(witnessed, {KEY_ID_B: keys[KEY_ID_B]}).key_name == "witness"


def test_tampering_with_the_signed_note_fails(checkpoint, keys):
    for changed in (
        NOTE.replace("\n3\n", "\n4\n"),
        NOTE.replace("rra8", "rrA8"),
        NOTE.replace("12:30:05", "12:30:06"),
        NOTE.replace("PWY6d", "PWY6e"),  # inside the signature, past the 4-byte key hash
        NOTE.replace(ORIGIN + "\n3", "registry.example/other\n3"),
    ):
        assert _error(verify_checkpoint_note, changed, keys) == (
            Reason.BAD_SIGNATURE,
            f"the signature of {ORIGIN} does not verify with key {KEY_ID_A}",
        )
    assert _error(verify_checkpoint_note, NOTE, {KEY_ID_B: keys[KEY_ID_B]}) == (
        Reason.UNKNOWN_KEY,
        "no signature line is from a trusted key",
    )
    assert _error(verify_checkpoint_note, NOTE.replace("D6jw", "D6jW"), keys) == (  # the key hash
        Reason.UNKNOWN_KEY,
        "no signature line is from a trusted key",
    )
    assert _error(verify_checkpoint_note, NOTE.replace(f"\u2014 {ORIGIN} ", "\u2014 renamed "), keys) == (
        Reason.UNKNOWN_KEY,
        "no signature line is from a trusted key",
    )
    assert _error(verify_checkpoint_note, NOTE, keys, origin="registry.example/other") == (
        Reason.WRONG_ORIGIN,
        "the checkpoint is from 'registry.example/audit', not 'registry.example/other'",
    )


def test_json_fields_must_say_what_the_note_says(checkpoint, keys):
    good = checkpoint.to_json()
    for field, value in [
        ("origin", "registry.example/other"),
        ("tree_size", 4),
        ("root_hash", "00" * 32),
        ("timestamp", "2026-08-01T12:30:06Z"),
        ("signature", base64.b64encode(b"\x00" * 64).decode()),
    ]:
        changed = {**good, field: value}
        assert _error(verify_checkpoint, changed, keys) == (Reason.MISMATCH, f"{field} does not match the signed note")
    assert _error(verify_checkpoint, {**good, "key_id": KEY_ID_B}, keys) == (
        Reason.UNKNOWN_KEY,
        "no signature line is from a trusted key",
    )
    assert _error(verify_checkpoint, {**good, "key_id": "f" * 64}, keys) == (
        Reason.UNKNOWN_KEY,
        f"no trusted key has the id {'f' * 64!r}",
    )
    assert _error(verify_checkpoint, {**good, "note": NOTE.replace("\n3\n", "\n4\n"), "tree_size": 4}, keys) == (
        Reason.BAD_SIGNATURE,
        f"the signature of {ORIGIN} does not verify with key {KEY_ID_A}",
    )
    assert verify_checkpoint(copy.deepcopy(good), keys) == checkpoint


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            f"{ORIGIN}\n3\nrra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=\n",
            "a checkpoint has four non-empty lines: origin, size, root hash, timestamp",
        ),
        (
            f"{ORIGIN}\n03\n{BODY.split(chr(10), 2)[2]}",
            "the tree size is not a uint64 in decimal without leading zeros",
        ),
        (
            f"{ORIGIN}\n18446744073709551616\n{BODY.split(chr(10), 2)[2]}",
            "the tree size is not a uint64 in decimal without leading zeros",
        ),
        (
            f"{ORIGIN}\n\u0663\n{BODY.split(chr(10), 2)[2]}",
            "the tree size is not a uint64 in decimal without leading zeros",
        ),
        (
            f"{ORIGIN}\n3\nrra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc\ntimestamp 2026-08-01T12:30:05Z\n",
            "the root hash is not base64",
        ),
        (f"{ORIGIN}\n3\nAAAA\ntimestamp 2026-08-01T12:30:05Z\n", "the root hash is not the base64 of 32 bytes"),
        (
            f"{ORIGIN}\n3\nrra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnd=\ntimestamp 2026-08-01T12:30:05Z\n",
            "the root hash is not the base64 of 32 bytes",
        ),
        (
            f"{ORIGIN}\n3\nrra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=\ntime 2026-08-01T12:30:05Z\n",
            "the fourth line is not the timestamp",
        ),
        (
            f"{ORIGIN}\n3\nrra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=\ntimestamp 2026-08-01T12:30:05+00:00\n",
            "the timestamp is not RFC 3339 UTC to the second",
        ),
        (
            f"{ORIGIN}\n3\nrra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=\ntimestamp 2026-02-30T12:30:05Z\n",
            "the timestamp is not a real date and time",
        ),
        (
            f"{ORIGIN}\n\nrra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=\ntimestamp 2026-08-01T12:30:05Z\n",
            "a checkpoint has four non-empty lines: origin, size, root hash, timestamp",
        ),
    ],
)
def test_signed_but_malformed_bodies_are_refused(body, message, signer_a, keys):
    # Signed with a trusted key, so only the body's own checks can refuse them.
    note, _ = sign_note(body, ORIGIN, signer_a)
    assert _error(verify_checkpoint_note, note, keys) == (Reason.MALFORMED, message)


def test_sign_checkpoint_refuses_what_it_cannot_write(signer_a):
    cases = [
        ({"origin": "a b"}, "is not a signed-note key name"),
        ({"origin": "a\nb", "key_name": "k"}, "^the origin must be non-empty text on one line$"),
        ({"tree_size": -1}, "^the tree size must be an integer in the uint64 range$"),
        ({"tree_size": 2**64}, "^the tree size must be an integer in the uint64 range$"),
        ({"tree_size": True}, "^the tree size must be an integer in the uint64 range$"),
        ({"root_hash": b"\x00" * 31}, "^the root hash must be 32 bytes$"),
        ({"timestamp": dt.datetime(2026, 8, 1)}, "^a checkpoint time must be an aware datetime$"),
    ]
    for change, message in cases:
        arguments = {
            "origin": ORIGIN,
            "tree_size": 3,
            "root_hash": ROOT_3,
            "timestamp": WHEN,
            "signer": signer_a,
            **change,
        }
        with pytest.raises(ValueError, match=message):
            sign_checkpoint(**arguments)


HOSTILE_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    field=st.sampled_from(["origin", "tree_size", "root_hash", "timestamp", "key_id", "signature", "note"]),
    value=HOSTILE_JSON,
)
def test_any_json_in_any_field_gives_a_verification_error(field, value, checkpoint, keys):
    expected = checkpoint.to_json()[field]
    data = {**checkpoint.to_json(), field: value}
    if type(value) is type(expected) and value == expected:
        assert verify_checkpoint(data, keys) == checkpoint
        return
    with pytest.raises(VerificationError):
        verify_checkpoint(data, keys)
    with pytest.raises(VerificationError):
        verify_checkpoint(value, keys)
    if isinstance(value, str):
        with pytest.raises(VerificationError):
            verify_checkpoint_note(value, keys)
