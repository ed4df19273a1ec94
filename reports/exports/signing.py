"""Signing an export: a checkpoint of the audit trail, proofs that the exported events are in it, the keys, and
a DSSE envelope over manifest.json (layout and meaning: ``common.evidence.export_layout``).

The checkpoint is signed after the events were read, so its tree holds every exported event. Proofs are
computed from the stored chain hashes (``TrailTree``): one batch inclusion proof for all exported events, and
a consistency proof from the checkpoint of each earlier export of the project (what an auditor who kept those
zips holds), so ``verify-export --checkpoint`` shows offline that the trail was not rewritten since.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Sequence
from typing import Any

from common.evidence import export_layout as layout
from common.evidence import merkle, sign_envelope
from core.checkpoints import TrailGap, as_json, checkpoint_now
from core.models import AuditCheckpoint, JobState, SigningKey
from core.signing import active_key, signer

from ..models import Export
from .files import Bundle
from .trail_tree import TrailGapError, TrailTree


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8")


def earlier_checkpoint_sizes(export: Export, below: int) -> list[int]:
    """The tree sizes of the checkpoints the project's earlier (succeeded) exports carry, below ``below``."""
    sizes = (
        Export.objects.filter(project_id=export.project_id, state=JobState.SUCCEEDED)
        .exclude(pk=export.pk)
        .values_list("manifest__audit_checkpoint__tree_size", flat=True)
    )
    return sorted({size for size in sizes if type(size) is int and 0 < size < below})


def audit_proof(export: Export, checkpoint: AuditCheckpoint, events_file: str, sequences: Sequence[int]) -> dict:
    """audit_proof.json: the exported events as leaf ranges, their batch proof, consistency proofs to this tree."""
    tree = TrailTree(checkpoint.tree_size)
    indexes = array("q", (sequence - 1 for sequence in sequences))  # 8 bytes per event, not a list of ints
    consistency = [
        {"tree_size": size, "proof": [h.hex() for h in merkle.consistency_path(size, checkpoint.tree_size, tree)]}
        for size in earlier_checkpoint_sizes(export, checkpoint.tree_size)
    ]
    return {
        "format": layout.PROOF_FORMAT,
        "leaf": "SHA-256(0x00 || the 32 bytes of the event's chain hash); leaf index = sequence - 1",
        "events_file": events_file,
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash,
        "leaf_index_ranges": layout.index_ranges(indexes),
        "batch_proof": [h.hex() for h in merkle.batch_inclusion_path(indexes, checkpoint.tree_size, tree)],
        "consistency_proofs": consistency,
    }


def add_signed_evidence(bundle: Bundle, export: Export, events_file: str, sequences: Sequence[int]) -> dict[str, Any]:
    """Sign a checkpoint now and write checkpoint.json, audit_proof.json and signing_keys.json into the bundle;
    return the manifest's entries about them.

    A trail with missing events has no tree: the export then says why it carries no checkpoint (and the
    verifier fails it), instead of failing the export that reports the damage.
    """
    described = dict(layout.DESCRIPTIONS)
    if export.format == "pdf":
        described[layout.CSV_EVENTS] = "the audit events the PDF lists, as in a CSV export, so that they verify"
    entries: dict[str, Any] = {"signed_evidence": {**described, "verify": layout.VERIFY_COMMAND}}
    key = active_key()
    try:
        checkpoint = checkpoint_now()
        proof = audit_proof(export, checkpoint, events_file, sequences)
    except (TrailGap, TrailGapError) as exc:
        return {**entries, "audit_checkpoint": None, "audit_checkpoint_error": f"no checkpoint: {exc}"}
    key_ids = {key.key_id, checkpoint.key_id}
    keys = dict(SigningKey.objects.filter(key_id__in=key_ids).values_list("key_id", "public_key_pem"))
    bundle.add_bytes(layout.CHECKPOINT, _json_bytes(as_json(checkpoint)), rows=1)
    # Compact: a proof of a million events is for programs, and its hashes are incompressible anyway.
    compact = json.dumps(proof, sort_keys=True, separators=(",", ":")).encode("utf-8")
    bundle.add_bytes(layout.AUDIT_PROOF, compact, rows=len(sequences))
    bundle.add_bytes(layout.SIGNING_KEYS, _json_bytes(keys), rows=len(keys))
    entries["audit_checkpoint"] = {
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash,
        "origin": checkpoint.origin,
        "key_id": checkpoint.key_id,
    }
    return entries


def manifest_envelope(manifest: bytes) -> dict[str, Any]:
    """The DSSE envelope over manifest.json's exact bytes, signed with the registry's key (published first)."""
    active_key()
    return sign_envelope(manifest, layout.MANIFEST_PAYLOAD_TYPE, signer())
