"""C2SP signed notes against the Go reference implementation's own test vectors.

golang.org/x/mod/sumdb/note, note_test.go (TestSign, TestOpen): the key "PeterNeumann", its private key
string, and the exact signed note Go produces. Ed25519 is deterministic, so matching it byte for byte
shows our key hash, signature line and base64 are the ones Go (and so sumdb and sigstore) read.
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from common.evidence.errors import Reason, VerificationError
from common.evidence.keys import Signer
from common.evidence.note import NoteSignature, key_hash, open_note, parse_note, sign_note

# "PRIVATE+KEY+PeterNeumann+c74f20a3+" followed by base64(0x01 || 32-byte Ed25519 seed).
PETER_PRIVATE = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)


@pytest.fixture
def peter() -> Signer:
    raw = base64.b64decode(PETER_PRIVATE)
    assert raw[0] == 1  # Go's algorithm byte for Ed25519
    return Signer.from_private_key(Ed25519PrivateKey.from_private_bytes(raw[1:]))


def test_key_hash_matches_go(peter):
    assert key_hash("PeterNeumann", peter.public_key).hex() == "c74f20a3"


def test_signed_note_matches_go_byte_for_byte(peter):
    note, signature = sign_note(TEXT, "PeterNeumann", peter)
    assert note == TEXT + "\n" + PETER_SIG
    assert base64.b64decode(PETER_SIG.split(" ")[2])[4:] == signature


def test_open_ignores_unknown_keys_and_returns_the_trusted_one(peter):
    text, key_id, line = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, {peter.key_id: peter.public_key})
    assert (text, key_id) == (TEXT, peter.key_id)
    assert line == NoteSignature("PeterNeumann", bytes.fromhex("c74f20a3"), line.signature)
    _, signatures = parse_note((TEXT + "\n" + PETER_SIG + ENOCH_SIG).encode())
    assert [(s.key_name, s.key_hash.hex()) for s in signatures] == [
        ("PeterNeumann", "c74f20a3"),
        ("EnochRoot", "af0cfe78"),
    ]


def test_a_trusted_signature_that_fails_rejects_the_note(peter):
    broken = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]  # Go's TestOpen "Invalid signature"
    with pytest.raises(VerificationError) as error:
        open_note(TEXT + "\n" + broken, {peter.key_id: peter.public_key})
    assert (error.value.reason, str(error.value)) == (
        Reason.BAD_SIGNATURE,
        f"the signature of PeterNeumann does not verify with key {peter.key_id}",
    )
    for note in (TEXT + "\n" + ENOCH_SIG, TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "CarmenSandiego")):
        with pytest.raises(VerificationError) as error:
            open_note(note, {peter.key_id: peter.public_key})
        assert (error.value.reason, str(error.value)) == (Reason.UNKNOWN_KEY, "no signature line is from a trusted key")


@pytest.mark.parametrize(
    ("note", "message"),
    [
        # Go's TestOpen "Invalid encoded message syntax", each refused as malformed.
        (TEXT, "the note has no blank line before its signatures"),
        (TEXT + "\n", "a signature line does not start with an em dash"),
        (TEXT + "\n" + PETER_SIG[:-1], "the note has no blank line before its signatures"),
        ("\x01" + TEXT + "\n" + PETER_SIG, "the note contains control characters"),
        (b"\xff" + (TEXT + "\n" + PETER_SIG).encode(), "the note is not UTF-8"),
        (
            TEXT
            + "\n\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
            "a signature line has an invalid key name",
        ),
        (TEXT + "\n" + PETER_SIG + "Unexpected line.\n", "a signature line does not start with an em dash"),
        # And ours.
        (TEXT + "\n" + PETER_SIG * 101, "more than 100 signature lines"),
        (TEXT + "\n\u2014 a+b AAAAAAA=\n", "a signature line has an invalid key name"),
        (TEXT + "\n\u2014 PeterNeumann x08g-_\n", "the signature of PeterNeumann is not standard base64"),
        (TEXT + "\n\u2014 PeterNeumann AAAA\n", "the signature of PeterNeumann is too short"),
        (TEXT + "\n\u2014 PeterNeumann A===\n", "the signature of PeterNeumann is not standard base64"),
        ("\ud800\n\n" + PETER_SIG, "the note is not valid Unicode"),
        (42, "the note is not text"),
    ],
)
def test_malformed_notes(note, message, peter):
    with pytest.raises(VerificationError) as error:
        open_note(note, {peter.key_id: peter.public_key})
    assert (error.value.reason, str(error.value)) == (Reason.MALFORMED, message)


def test_sign_note_refuses_what_the_format_cannot_carry(peter):
    for name in ("", "a b", "a+b", "a\u00a0b", "a\tb"):
        with pytest.raises(ValueError, match="is not a signed-note key name"):
            sign_note(TEXT, name, peter)
    for text in ("no final newline", "tab\there\n", ""):
        with pytest.raises(ValueError, match=r"^a note text must end in a newline"):
            sign_note(text, "PeterNeumann", peter)
