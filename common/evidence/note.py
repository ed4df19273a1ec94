"""C2SP signed notes (c2sp.org/signed-note) with Ed25519: the envelope of a transparency-log checkpoint.

The same text format Go's sumdb, sigstore and the witness network read, so an auditor can check our
checkpoints with golang.org/x/mod/sumdb/note instead of our code. A note is a text ending in a newline,
a blank line, then lines ``— <key name> <base64(4-byte key hash || signature)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from common.evidence.errors import Reason, VerificationError
from common.evidence.keys import Signer, raw_public_key

SIGNATURE_PREFIX = "\u2014 "  # em dash, space
ED25519_TYPE = b"\x01"
# golang.org/x/mod/sumdb/note refuses more than 100 signatures; the spec asks verifiers to take at least 16.
MAX_SIGNATURES = 100

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_STANDARD_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}", re.ASCII)


def check_key_name(name: str) -> None:
    """Raise ``ValueError`` unless ``name`` is a valid key name: non-empty, no Unicode space, no '+'."""
    if not isinstance(name, str) or not name or "+" in name or any(ch.isspace() for ch in name):
        raise ValueError(f"{name!r} is not a signed-note key name (non-empty, no spaces, no '+')")
    if _CONTROL.search(name):
        raise ValueError(f"{name!r} contains control characters")


def key_hash(key_name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte key hash: SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]."""
    material = key_name.encode("utf-8") + b"\n" + ED25519_TYPE + raw_public_key(public_key)
    return hashlib.sha256(material).digest()[:4]


def sign_note(text: str, key_name: str, signer: Signer) -> tuple[str, bytes]:
    """The signed note (``text``, a blank line, one signature line) and the raw Ed25519 signature in it.

    ``text`` must end in a newline and hold no control characters but newlines.
    """
    check_key_name(key_name)
    if not isinstance(text, str) or not text.endswith("\n") or _CONTROL.search(text):
        raise ValueError("a note text must end in a newline and contain no control characters but newlines")
    signature = signer.sign(text.encode("utf-8"))
    blob = base64.b64encode(key_hash(key_name, signer.public_key) + signature).decode("ascii")
    return f"{text}\n{SIGNATURE_PREFIX}{key_name} {blob}\n", signature


@dataclass(frozen=True)
class NoteSignature:
    """One parsed signature line."""

    key_name: str
    key_hash: bytes
    signature: bytes


def parse_note(note: str | bytes) -> tuple[str, list[NoteSignature]]:
    """The text and signature lines of a signed note, unverified; ``VerificationError`` if malformed."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise VerificationError(Reason.MALFORMED, "the note is not UTF-8") from None
    if not isinstance(note, str):
        raise VerificationError(Reason.MALFORMED, "the note is not text")
    try:
        note.encode("utf-8")
    except UnicodeEncodeError:
        raise VerificationError(Reason.MALFORMED, "the note is not valid Unicode") from None
    if _CONTROL.search(note):
        raise VerificationError(Reason.MALFORMED, "the note contains control characters")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise VerificationError(Reason.MALFORMED, "the note has no blank line before its signatures")
    text, lines = note[: split + 1], note[split + 2 : -1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise VerificationError(Reason.MALFORMED, f"more than {MAX_SIGNATURES} signature lines")
    signatures = []
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise VerificationError(Reason.MALFORMED, "a signature line does not start with an em dash")
        name, _, blob = line[len(SIGNATURE_PREFIX) :].rpartition(" ")
        try:
            check_key_name(name)
        except ValueError:
            raise VerificationError(Reason.MALFORMED, "a signature line has an invalid key name") from None
        if not _STANDARD_BASE64.fullmatch(blob) or len(blob) % 4:
            raise VerificationError(Reason.MALFORMED, f"the signature of {name} is not standard base64")
        try:
            raw = base64.b64decode(blob, validate=True)
        except binascii.Error:
            raise VerificationError(Reason.MALFORMED, f"the signature of {name} is not valid base64") from None
        if len(raw) < 5:
            raise VerificationError(Reason.MALFORMED, f"the signature of {name} is too short")
        signatures.append(NoteSignature(key_name=name, key_hash=raw[:4], signature=raw[4:]))
    return text, signatures


def open_note(note: str | bytes, public_keys: Mapping[str, Ed25519PublicKey]) -> tuple[str, str, NoteSignature]:
    """The text of a note, with the key id and signature line of the trusted key that signed it.

    As the spec says: lines from unknown keys (name and key hash not both matching a trusted key) are
    ignored; a line from a trusted key that does not verify rejects the whole note; at least one trusted
    signature must verify. ``public_keys`` maps our key ids to keys; the key name comes from the line.
    """
    text, signatures = parse_note(note)
    message = text.encode("utf-8")
    verified: tuple[str, NoteSignature] | None = None
    for line in signatures:
        for key_id, public_key in public_keys.items():
            if key_hash(line.key_name, public_key) != line.key_hash:
                continue
            try:
                public_key.verify(line.signature, message)
            except InvalidSignature:
                raise VerificationError(
                    Reason.BAD_SIGNATURE, f"the signature of {line.key_name} does not verify with key {key_id}"
                ) from None
            verified = verified or (key_id, line)
    if verified is None:
        raise VerificationError(Reason.UNKNOWN_KEY, "no signature line is from a trusted key")
    return text, verified[0], verified[1]
