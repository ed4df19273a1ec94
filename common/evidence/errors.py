"""The two errors of the evidence library: a key we cannot use, and evidence that does not verify."""

from __future__ import annotations

from enum import StrEnum


class SigningKeyError(ValueError):
    """A key that is malformed, encrypted, or not Ed25519: refused when loaded, not when first used."""


class Reason(StrEnum):
    """Why verification failed, so a verifier can report it and a test can pin it."""

    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    WRONG_PAYLOAD_TYPE = "wrong_payload_type"
    TOO_FEW_SIGNATURES = "too_few_signatures"
    MISMATCH = "mismatch"
    WRONG_ORIGIN = "wrong_origin"
    # Exports (common.evidence.export_check):
    MISSING = "missing"  # a file the manifest lists (or the export must hold) is not in the zip
    UNLISTED = "unlisted"  # a file in the zip the signed manifest does not list
    CHAIN_BROKEN = "chain_broken"  # an event's hash does not match its content, or events do not link
    NOT_INCLUDED = "not_included"  # the events are not in the signed checkpoint's tree
    INCONSISTENT = "inconsistent"  # the trail is not an extension of an earlier checkpoint
    NO_PROOF = "no_proof"  # the export carries no proof for what was asked


class VerificationError(ValueError):
    """Evidence that does not verify; ``reason`` says which check failed, the message says what was seen.

    Every verifier in this package raises this and nothing else on hostile input, so a caller needs one
    ``except`` to turn any envelope, note or checkpoint from outside into a verdict.
    """

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
