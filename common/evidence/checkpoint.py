"""Signed checkpoints of a log: C2SP tlog-checkpoint notes, also given as JSON.

The note text is exactly C2SP's body (origin, tree size, base64 root hash) plus one extension line,
``timestamp <RFC 3339 UTC>``, which C2SP allows after the third line. Tools that know checkpoints read the
first three lines and ignore the rest; the timestamp is still covered by the signature. An auditor who
keeps these checkpoints outside the registry can later prove that the log was rewritten.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from common.evidence.errors import Reason, VerificationError
from common.evidence.keys import Signer
from common.evidence.merkle import HASH_SIZE
from common.evidence.note import check_key_name, open_note, sign_note

TIMESTAMP_PREFIX = "timestamp "
# C2SP implementations hold tree sizes in uint64; a bigger number is hostile input, not a log.
MAX_TREE_SIZE = 2**64 - 1

_TREE_SIZE = re.compile(r"0|[1-9][0-9]{0,19}", re.ASCII)
_TIMESTAMP = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f]")
_JSON_FIELDS = {
    "origin": str,
    "tree_size": int,
    "root_hash": str,
    "timestamp": str,
    "key_id": str,
    "signature": str,
    "note": str,
}


def format_timestamp(timestamp: dt.datetime) -> str:
    """RFC 3339 in UTC to the second, e.g. ``2026-08-01T12:00:00Z``: one spelling per instant."""
    if not isinstance(timestamp, dt.datetime) or timestamp.utcoffset() is None:
        raise ValueError("a checkpoint time must be an aware datetime")
    t = timestamp.astimezone(dt.UTC)
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}Z"


def _parse_timestamp(text: str) -> dt.datetime:
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise VerificationError(Reason.MALFORMED, "the timestamp is not RFC 3339 UTC to the second")
    try:
        return dt.datetime(*(int(part) for part in match.groups()), tzinfo=dt.UTC)
    except ValueError:
        raise VerificationError(Reason.MALFORMED, "the timestamp is not a real date and time") from None


def checkpoint_body(origin: str, tree_size: int, root_hash: bytes, timestamp: dt.datetime) -> str:
    """The note text that is signed: the three C2SP lines and the timestamp extension line."""
    if not isinstance(origin, str) or not origin or _CONTROL.search(origin):
        raise ValueError("the origin must be non-empty text on one line")
    if not isinstance(tree_size, int) or isinstance(tree_size, bool) or not 0 <= tree_size <= MAX_TREE_SIZE:
        raise ValueError("the tree size must be an integer in the uint64 range")
    if not isinstance(root_hash, bytes) or len(root_hash) != HASH_SIZE:
        raise ValueError("the root hash must be 32 bytes")
    root_line = base64.b64encode(root_hash).decode("ascii")
    return f"{origin}\n{tree_size}\n{root_line}\n{TIMESTAMP_PREFIX}{format_timestamp(timestamp)}\n"


@dataclass(frozen=True)
class Checkpoint:
    """A verified (or freshly signed) checkpoint: the log's size and root at a time, signed by a key."""

    origin: str
    tree_size: int
    root_hash: bytes
    timestamp: dt.datetime
    key_id: str
    key_name: str
    signature: bytes
    note: str

    def to_json(self) -> dict:
        """The JSON form; ``note`` is the C2SP signed note, the rest repeats what it says for readers."""
        return {
            "origin": self.origin,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "timestamp": format_timestamp(self.timestamp),
            "key_id": self.key_id,
            "signature": base64.b64encode(self.signature).decode("ascii"),
            "note": self.note,
        }


def sign_checkpoint(
    *,
    origin: str,
    tree_size: int,
    root_hash: bytes,
    timestamp: dt.datetime,
    signer: Signer,
    key_name: str | None = None,
) -> Checkpoint:
    """Sign the checkpoint of a log of ``tree_size`` entries whose Merkle root is ``root_hash``.

    The key name defaults to the origin, as C2SP recommends, so the origin must then be a valid key name
    (no spaces, no '+'). The timestamp is kept to the second, the precision of the note.
    """
    key_name = origin if key_name is None else key_name
    check_key_name(key_name)
    body = checkpoint_body(origin, tree_size, root_hash, timestamp)
    note, signature = sign_note(body, key_name, signer)
    return Checkpoint(
        origin=origin,
        tree_size=tree_size,
        root_hash=root_hash,
        timestamp=_parse_timestamp(format_timestamp(timestamp)),
        key_id=signer.key_id,
        key_name=key_name,
        signature=signature,
        note=note,
    )


def _parse_body(text: str) -> tuple[str, int, bytes, dt.datetime]:
    lines = text.split("\n")[:-1]  # the text ends in a newline
    if len(lines) != 4 or not all(lines):
        raise VerificationError(
            Reason.MALFORMED, "a checkpoint has four non-empty lines: origin, size, root hash, timestamp"
        )
    origin, size_line, root_line, time_line = lines
    if not _TREE_SIZE.fullmatch(size_line) or int(size_line) > MAX_TREE_SIZE:
        raise VerificationError(Reason.MALFORMED, "the tree size is not a uint64 in decimal without leading zeros")
    try:
        root_hash = base64.b64decode(root_line, validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError(Reason.MALFORMED, "the root hash is not base64") from None
    if len(root_hash) != HASH_SIZE or base64.b64encode(root_hash).decode("ascii") != root_line:
        raise VerificationError(Reason.MALFORMED, "the root hash is not the base64 of 32 bytes")
    if not time_line.startswith(TIMESTAMP_PREFIX):
        raise VerificationError(Reason.MALFORMED, "the fourth line is not the timestamp")
    return origin, int(size_line), root_hash, _parse_timestamp(time_line[len(TIMESTAMP_PREFIX) :])


def verify_checkpoint_note(
    note: str | bytes, public_keys: Mapping[str, Ed25519PublicKey], *, origin: str | None = None
) -> Checkpoint:
    """The checkpoint a signed note states, once a trusted key's signature on it verifies.

    With ``origin``, the note must be from that log. Raises ``VerificationError`` and nothing else.
    """
    text, key_id, line = open_note(note, public_keys)
    note_origin, tree_size, root_hash, timestamp = _parse_body(text)
    if origin is not None and note_origin != origin:
        raise VerificationError(Reason.WRONG_ORIGIN, f"the checkpoint is from {note_origin!r}, not {origin!r}")
    return Checkpoint(
        origin=note_origin,
        tree_size=tree_size,
        root_hash=root_hash,
        timestamp=timestamp,
        key_id=key_id,
        key_name=line.key_name,
        signature=line.signature,
        note=note.decode("utf-8") if isinstance(note, bytes) else note,
    )


def verify_checkpoint(
    data: Any, public_keys: Mapping[str, Ed25519PublicKey], *, origin: str | None = None
) -> Checkpoint:
    """Verify the JSON form: its note must verify with the key ``key_id`` names, and every other field
    must say what the signed note says (they are unsigned copies; a reader must not be misled by them).
    """
    if not isinstance(data, Mapping):
        raise VerificationError(Reason.MALFORMED, "the checkpoint is not a JSON object")
    for name, kind in _JSON_FIELDS.items():
        value = data.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise VerificationError(Reason.MALFORMED, f"{name} is missing or not {kind.__name__}")
    key_id = data["key_id"]
    if key_id not in public_keys:
        raise VerificationError(Reason.UNKNOWN_KEY, f"no trusted key has the id {key_id[:80]!r}")
    checkpoint = verify_checkpoint_note(data["note"], {key_id: public_keys[key_id]}, origin=origin)
    signed = checkpoint.to_json()
    for name in _JSON_FIELDS:
        if data[name] != signed[name]:
            raise VerificationError(Reason.MISMATCH, f"{name} does not match the signed note")
    return checkpoint
