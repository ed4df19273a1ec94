"""Signed, independently verifiable evidence: Ed25519 keys, DSSE envelopes over in-toto statements, an
RFC 6962 Merkle tree with proofs, and C2SP signed checkpoints.

Standard library and PyCA ``cryptography`` only (no Django), so the offline verifier can use it with
nothing but an export and a public key. Every format is a published one, so an auditor can check our
evidence with other tools (openssl, Go's sumdb/note, in-toto and DSSE libraries) instead of trusting ours.
"""

from common.evidence.checkpoint import Checkpoint, sign_checkpoint, verify_checkpoint, verify_checkpoint_note
from common.evidence.dsse import pae, sign_envelope, verify_envelope
from common.evidence.errors import Reason, SigningKeyError, VerificationError
from common.evidence.intoto import PAYLOAD_TYPE, STATEMENT_TYPE, canonical_json, statement
from common.evidence.keys import (
    ALGORITHM,
    Signer,
    generate_private_key,
    key_id,
    load_private_key,
    load_public_key,
    private_key_pem,
    public_key_pem,
    verify_signature,
)

__all__ = [
    "ALGORITHM",
    "PAYLOAD_TYPE",
    "STATEMENT_TYPE",
    "Checkpoint",
    "Reason",
    "Signer",
    "SigningKeyError",
    "VerificationError",
    "canonical_json",
    "generate_private_key",
    "key_id",
    "load_private_key",
    "load_public_key",
    "pae",
    "private_key_pem",
    "public_key_pem",
    "sign_checkpoint",
    "sign_envelope",
    "statement",
    "verify_checkpoint",
    "verify_checkpoint_note",
    "verify_envelope",
    "verify_signature",
]
