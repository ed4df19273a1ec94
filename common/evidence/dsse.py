"""DSSE v1 envelopes (secure-systems-lab/dsse): sign a payload with its type, verify hostile envelopes.

The signature covers PAE(payloadType, payload), not the payload alone, so a signed manifest cannot be
passed off as a signed attestation by editing the unauthenticated envelope around it. ``keyid`` is only a
hint that narrows which trusted key to try; what is trusted is the caller's ``public_keys`` mapping.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from common.evidence.errors import Reason, VerificationError
from common.evidence.keys import Signer

# Far more than any envelope of ours carries (one signature, two during a key rotation); the cap keeps a
# hostile envelope from making the verifier try every trusted key against thousands of signatures.
MAX_SIGNATURES = 16

_BASE64_ANY = re.compile(r"[A-Za-z0-9+/_-]*={0,2}", re.ASCII)
_URL_SAFE = str.maketrans("-_", "+/")


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 Pre-Authentication Encoding: ``DSSEv1 SP LEN(type) SP type SP LEN(body) SP body``.

    LEN is the byte length in ASCII decimal, so a non-ASCII type counts its UTF-8 bytes, not characters.
    """
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(payload), payload)


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: Any, what: str) -> bytes:
    # DSSE: "Either standard or URL-safe base64 encodings are allowed ... verifiers MUST accept either."
    # Padding is optional here too; the signature covers the decoded bytes, so leniency costs nothing.
    if not isinstance(text, str) or not _BASE64_ANY.fullmatch(text):
        raise VerificationError(Reason.MALFORMED, f"{what} is not base64 text")
    if ("+" in text or "/" in text) and ("-" in text or "_" in text):
        raise VerificationError(Reason.MALFORMED, f"{what} mixes the standard and URL-safe base64 alphabets")
    if "=" in text and len(text) % 4:
        raise VerificationError(Reason.MALFORMED, f"{what} has misplaced base64 padding")
    bare = text.rstrip("=").translate(_URL_SAFE)
    try:
        return base64.b64decode(bare + "=" * (-len(bare) % 4), validate=True)
    except binascii.Error as exc:
        raise VerificationError(Reason.MALFORMED, f"{what} is not valid base64 ({exc})") from None


def sign_envelope(payload: bytes, payload_type: str, signer: Signer) -> dict:
    """A DSSE JSON envelope over ``payload``: standard base64, one signature carrying the signer's key id."""
    signature = signer.sign(pae(payload_type, payload))
    return {
        "payloadType": payload_type,
        "payload": _b64encode(payload),
        "signatures": [{"keyid": signer.key_id, "sig": _b64encode(signature)}],
    }


def _parse(envelope: Any) -> tuple[str, bytes, list[tuple[str | None, bytes]]]:
    if not isinstance(envelope, Mapping):
        raise VerificationError(Reason.MALFORMED, "the envelope is not a JSON object")
    payload_type = envelope.get("payloadType")
    if not isinstance(payload_type, str):
        raise VerificationError(Reason.MALFORMED, "payloadType is missing or not text")
    try:
        payload_type.encode("utf-8")
    except UnicodeEncodeError:
        raise VerificationError(Reason.MALFORMED, "payloadType is not valid Unicode") from None
    if "payload" not in envelope:
        raise VerificationError(Reason.MALFORMED, "payload is missing")
    payload = _b64decode(envelope["payload"], "payload")
    entries = envelope.get("signatures")
    if not isinstance(entries, list) or not entries:
        raise VerificationError(Reason.MALFORMED, "signatures is missing, empty or not a list")
    if len(entries) > MAX_SIGNATURES:
        raise VerificationError(Reason.MALFORMED, f"more than {MAX_SIGNATURES} signatures")
    signatures = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise VerificationError(Reason.MALFORMED, f"signature {position} is not a JSON object")
        keyid = entry.get("keyid")
        if keyid is not None and not isinstance(keyid, str):
            raise VerificationError(Reason.MALFORMED, f"signature {position}: keyid is not text")
        signatures.append((keyid or None, _b64decode(entry.get("sig"), f"signature {position}")))
    return payload_type, payload, signatures


def verify_envelope(
    envelope: Any,
    public_keys: Mapping[str, Ed25519PublicKey],
    *,
    payload_type: str | None = None,
    threshold: int = 1,
) -> bytes:
    """The payload bytes of ``envelope`` once ``threshold`` distinct trusted keys have signed it.

    ``public_keys`` maps key id to trusted key. A signature whose keyid is a trusted key's id is checked
    with that key only; one with no keyid is tried against every trusted key; one with an unknown keyid
    is ignored, as DSSE's multi-signature verification says. With ``payload_type`` the envelope must
    declare exactly that type. Any input raises ``VerificationError`` or returns; nothing else.
    """
    if not isinstance(threshold, int) or threshold < 1:
        raise ValueError("threshold must be a positive integer")
    declared_type, payload, signatures = _parse(envelope)
    if payload_type is not None and declared_type != payload_type:
        raise VerificationError(
            Reason.WRONG_PAYLOAD_TYPE, f"payloadType is {declared_type!r}, expected {payload_type!r}"
        )
    message = pae(declared_type, payload)
    accepted: set[str] = set()
    tried = False
    for keyid, signature in signatures:
        if keyid is None:
            candidates = list(public_keys)
        elif keyid in public_keys:
            candidates = [keyid]
        else:
            continue
        for candidate in candidates:
            if candidate in accepted:
                continue
            tried = True
            try:
                public_keys[candidate].verify(signature, message)
            except InvalidSignature:
                continue
            accepted.add(candidate)
            break
    if len(accepted) >= threshold:
        return payload
    if accepted:
        raise VerificationError(
            Reason.TOO_FEW_SIGNATURES, f"{len(accepted)} trusted key(s) signed, {threshold} required"
        )
    if not tried:
        named = sorted({keyid[:80] for keyid, _ in signatures if keyid is not None})
        raise VerificationError(Reason.UNKNOWN_KEY, f"no signature is by a trusted key (keyids: {named})")
    raise VerificationError(Reason.BAD_SIGNATURE, "no signature verifies with a trusted key")
