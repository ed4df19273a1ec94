"""The audit trail as an RFC 6962 Merkle tree, and its signed checkpoints.

The hash chain (core.audit) shows that no event was changed *unless the whole chain was recomputed*; anyone
with write access to the database can do that. So the trail is also a Merkle tree (leaf i = the chain hash
of event i + 1, 32 bytes; ``common.evidence.merkle``), and the registry signs checkpoints of it (tree size,
root hash, time, key id; a C2SP signed note) with a key that is not in the database: at least every
``REGISTRY_CHECKPOINT_MINUTES`` when events were added (every worker's tick), on every export, and on
``manage.py audit_checkpoint``. A checkpoint kept outside the registry (an auditor's copy, an export) then
proves what the trail was: a rewritten event changes its chain hash, every later one, and the root.

Proofs: an event's inclusion in the tree of a given size, and the consistency of two sizes (the smaller tree
is a prefix of the larger: nothing before it was changed). Both are computed from the events themselves.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from common.evidence import VerificationError, merkle, sign_checkpoint, verify_checkpoint

from .models import AuditCheckpoint, AuditEvent, AuditHead
from .signing import active_key, public_keys, signer

logger = logging.getLogger(__name__)


class TrailGap(Exception):
    """The events are not the numbered sequence 1..n the tree needs (deleted or missing rows)."""


def origin() -> str:
    """The log's name in its checkpoints: REGISTRY_LOG_ORIGIN, else the public URL's host + "/audit"."""
    configured = settings.REGISTRY_LOG_ORIGIN
    if configured:
        return configured
    return f"{urlsplit(settings.REGISTRY_PUBLIC_URL).netloc or 'synthetic-registry'}/audit"


def head_size() -> int:
    """How many events the trail holds (its committed head)."""
    return AuditHead.objects.filter(pk=1).values_list("sequence", flat=True).first() or 0


def leaf_hashes(tree_size: int) -> list[bytes]:
    """The Merkle leaf hashes of events 1..tree_size, in order; TrailGap if one is missing."""
    leaves: list[bytes] = []
    rows = AuditEvent.objects.filter(sequence__lte=tree_size).order_by("sequence").values_list("sequence", "hash")
    for sequence, chain_hash in rows.iterator(chunk_size=20_000):
        if sequence != len(leaves) + 1:
            raise TrailGap(f"event {len(leaves) + 1} is missing from the trail (next found: {sequence})")
        leaves.append(merkle.leaf_hash(bytes.fromhex(chain_hash)))
    if len(leaves) != tree_size:
        raise TrailGap(f"the trail holds {len(leaves)} events, not {tree_size}")
    return leaves


def as_json(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    """The checkpoint as ``common.evidence.verify_checkpoint`` reads it (and as exports carry it)."""
    return {
        "origin": checkpoint.origin,
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash,
        "timestamp": checkpoint.timestamp.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
        "note": checkpoint.note,
    }


def latest() -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.order_by("-tree_size").first()


def checkpoint_now() -> AuditCheckpoint:
    """A signed checkpoint of the trail as it is now: the latest one when no event was added since."""
    key = active_key()
    size = head_size()
    current = latest()
    if current is not None and current.tree_size == size:
        return current
    root_hash = merkle.root(leaf_hashes(size))
    signed = sign_checkpoint(
        origin=origin(), tree_size=size, root_hash=root_hash, timestamp=timezone.now(), signer=signer()
    )
    try:
        with transaction.atomic():
            return AuditCheckpoint.objects.create(
                tree_size=size,
                root_hash=root_hash.hex(),
                origin=signed.origin,
                timestamp=signed.timestamp,
                key_id=key.key_id,
                signature=base64.b64encode(signed.signature).decode("ascii"),
                note=signed.note,
            )
    except IntegrityError:
        return AuditCheckpoint.objects.get(tree_size=size)  # another process signed this size first


def checkpoint_if_due(now: dt.datetime | None = None) -> AuditCheckpoint | None:
    """Sign a checkpoint when events were added and the latest is REGISTRY_CHECKPOINT_MINUTES old (or none)."""
    now = now or timezone.now()
    current = latest()
    if current is not None:
        if current.tree_size == head_size():
            return None
        if now - current.timestamp < timedelta(minutes=settings.REGISTRY_CHECKPOINT_MINUTES):
            return None
    return checkpoint_now()


def checkpoint_on_tick() -> None:
    """worker_tick's receiver: a due checkpoint; a failure is logged (the next tick retries), never raised
    into the other receivers."""
    try:
        checkpoint_if_due()
    except Exception:
        logger.exception("signing an audit checkpoint failed; the next tick retries")


def inclusion(sequence: int, tree_size: int) -> dict[str, Any]:
    """The proof that event ``sequence`` is leaf sequence - 1 of the tree of ``tree_size`` events."""
    leaves = leaf_hashes(tree_size)
    path = merkle.inclusion_proof(sequence - 1, leaves)
    return {
        "sequence": sequence,
        "leaf_index": sequence - 1,
        "tree_size": tree_size,
        "leaf_hash": leaves[sequence - 1].hex(),
        "root_hash": merkle.root(leaves).hex(),
        "proof": [node.hex() for node in path],
    }


def consistency(first: int, second: int) -> dict[str, Any]:
    """The proof that the tree of ``first`` events is a prefix of the tree of ``second`` events."""
    leaves = leaf_hashes(second)
    return {
        "first": first,
        "second": second,
        "first_root": merkle.root(leaves[:first]).hex(),
        "second_root": merkle.root(leaves).hex(),
        "proof": [node.hex() for node in merkle.consistency_proof(first, leaves)],
    }


def verify_checkpoints(checkpoints: Sequence[AuditCheckpoint] | None = None) -> dict[str, Any]:
    """Each stored checkpoint: its signature under a published key, and its root against the events as they
    are now. A rewritten trail fails here even if its chain hashes were all recomputed (unless the
    checkpoints were deleted too: keep copies outside the registry)."""
    checkpoints = list(checkpoints if checkpoints is not None else AuditCheckpoint.objects.order_by("tree_size"))
    result: dict[str, Any] = {"checked": 0, "ok": True, "latest_tree_size": None, "failures": []}
    if not checkpoints:
        return result
    keys = public_keys()
    largest = max(checkpoint.tree_size for checkpoint in checkpoints)
    try:
        leaves = leaf_hashes(min(largest, head_size()))
    except TrailGap as exc:
        return {**result, "ok": False, "failures": [{"tree_size": None, "reason": str(exc)}]}
    hasher = merkle.subtree_hasher(leaves)
    for checkpoint in checkpoints:
        result["checked"] += 1
        result["latest_tree_size"] = checkpoint.tree_size
        try:
            verify_checkpoint(as_json(checkpoint), keys, origin=checkpoint.origin)
        except VerificationError as exc:
            result["failures"].append({"tree_size": checkpoint.tree_size, "reason": f"signature: {exc}"})
            continue
        if checkpoint.tree_size > len(leaves):
            reason = f"the trail holds {len(leaves)} events, fewer than this checkpoint's {checkpoint.tree_size}"
            result["failures"].append({"tree_size": checkpoint.tree_size, "reason": reason})
            continue
        recomputed = hasher(0, checkpoint.tree_size).hex() if checkpoint.tree_size else merkle.EMPTY_ROOT.hex()
        if recomputed != checkpoint.root_hash:
            reason = f"root {checkpoint.root_hash} signed, {recomputed} from the events now: the trail was rewritten"
            result["failures"].append({"tree_size": checkpoint.tree_size, "reason": reason})
    result["ok"] = not result["failures"]
    return result
