"""What a signed export holds besides its data, shared by the writer (reports.exports) and the offline verifier.

- ``manifest.json``: every other file's SHA-256 (as before), and now the export's checkpoint.
- ``manifest.dsse.json``: a DSSE envelope (``MANIFEST_PAYLOAD_TYPE``) whose payload is manifest.json's exact
  bytes, signed with the registry's Ed25519 key. It is the only file the manifest cannot list.
- ``checkpoint.json``: a checkpoint of the audit trail signed when the export was made (the JSON form of
  ``common.evidence.checkpoint``), covering every exported event.
- ``audit_proof.json``: which events the export holds (as Merkle leaf indexes, sequence - 1), one batch
  inclusion proof of all of them in the checkpoint's tree, and consistency proofs from the checkpoints of
  the project's earlier exports (see ``PROOF_FORMAT``).
- ``signing_keys.json``: key id → public key PEM of the keys that signed this zip. A convenience only: the
  verifier must be given the trusted key separately, or a forger would ship their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MANIFEST = "manifest.json"
ENVELOPE = "manifest.dsse.json"
CHECKPOINT = "checkpoint.json"
AUDIT_PROOF = "audit_proof.json"
SIGNING_KEYS = "signing_keys.json"
CSV_EVENTS = "audit_events.csv"
JSON_EVENTS = "export.json"

MANIFEST_PAYLOAD_TYPE = "application/vnd.synthetic-registry.export-manifest+json"
PROOF_FORMAT = "synthetic-registry/audit-proof/v1"
VERIFY_COMMAND = "python -m common.evidence verify-export EXPORT.zip --key PUBLIC.pem [--checkpoint EARLIER.json]"

DESCRIPTIONS = {
    ENVELOPE: (
        f"DSSE v1 envelope, payloadType {MANIFEST_PAYLOAD_TYPE}, whose payload is this manifest's exact bytes, "
        "signed (Ed25519 over PAE(payloadType, payload)) with the registry's key; not listed in files"
    ),
    CHECKPOINT: (
        "checkpoint of the audit trail (RFC 6962 Merkle tree, leaf i = SHA-256(0x00 || chain hash of event i+1)) "
        "signed when this export was made; its tree covers every exported event. The JSON form of a C2SP signed "
        "note: keep it to check later exports against"
    ),
    AUDIT_PROOF: (
        f"{PROOF_FORMAT}: the exported events as leaf index ranges [first, end), one batch inclusion proof of all "
        "of them in the checkpoint's tree, and consistency proofs from the checkpoints of the project's earlier "
        "exports to this one"
    ),
    SIGNING_KEYS: "key id -> PEM public key of the keys that signed this zip; trust a key only from elsewhere",
}


def index_ranges(indexes: Iterable[int]) -> list[list[int]]:
    """Sorted, distinct indexes as half-open runs ``[first, end)``: a project's events come in runs."""
    ranges: list[list[int]] = []
    for index in indexes:
        if ranges and ranges[-1][1] == index:
            ranges[-1][1] = index + 1
        else:
            ranges.append([index, index + 1])
    return ranges


def expand_ranges(ranges: Any, tree_size: int) -> list[int]:
    """The indexes ``index_ranges`` wrote, checked: increasing, disjoint runs inside the tree; ValueError if not."""
    if not isinstance(ranges, list):
        raise ValueError("leaf_index_ranges is not a list")
    indexes: list[int] = []
    previous_end = 0
    for run in ranges:
        if not (isinstance(run, list) and len(run) == 2 and all(type(v) is int for v in run)):
            raise ValueError(f"{str(run)[:40]} is not a [first, end) pair of integers")
        first, end = run
        if not previous_end <= first < end <= tree_size:
            raise ValueError(f"[{first}, {end}) is not an increasing, disjoint run inside a tree of {tree_size}")
        indexes.extend(range(first, end))
        previous_end = end
    return indexes
