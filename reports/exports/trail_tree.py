"""Subtree hashes of the audit trail's Merkle tree, read from the events on demand, for an export's proofs.

A ``common.evidence.merkle.SubtreeHash`` over the stored chain hashes. Proofs ask only for nodes of the tree
(perfect subtrees, or ranges ending at the tree size), so perfect subtrees of ``BLOCK`` leaves and more are
computed once and remembered (a few hundred hashes for a million events): the consistency proofs from several
earlier sizes then share them, and each event is read and hashed at most once. Ranges a proof does not ask for
are never read, so a batch proof of a project holding every event of the trail reads nothing at all.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from hashlib import sha256

from common.evidence.merkle import node_hash, root
from core.models import AuditEvent

BLOCK = 1 << 12


class TrailGapError(Exception):
    """Events of the tree are missing from the table (the tree cannot be computed)."""


def _is_perfect(start: int, size: int) -> bool:
    return size & (size - 1) == 0 and start % size == 0


class TrailTree:
    """MTH(D[start:end]) of the trail's first ``tree_size`` events; call it as a ``SubtreeHash``."""

    def __init__(self, tree_size: int, perfect: MutableMapping[tuple[int, int], bytes] | None = None):
        self.tree_size = tree_size
        # (start, size) -> root of a perfect subtree; such a root never changes once its last event exists, so
        # a store kept across exports (and checkpoints) could be passed here instead of a fresh dict.
        self.perfect = {} if perfect is None else perfect
        self.events_read = 0
        self._block: tuple[int, list[bytes]] | None = None

    def __call__(self, start: int, end: int) -> bytes:
        if not 0 <= start < end <= self.tree_size:
            raise ValueError(f"[{start}, {end}) is not a non-empty range of a tree of size {self.tree_size}")
        size = end - start
        if size >= BLOCK and _is_perfect(start, size):
            return self._perfect(start, size)
        first = start - start % BLOCK
        if end <= first + BLOCK:  # inside one block: from its leaves
            leaves = self._leaves(first)
            return root(leaves[start - first : end - first])
        middle = start + (1 << ((size - 1).bit_length() - 1))  # RFC 6962's split
        return node_hash(self(start, middle), self(middle, end))

    def _perfect(self, start: int, size: int) -> bytes:
        known = self.perfect.get((start, size))
        if known is None:
            if size == BLOCK:
                level = self._leaves(start)
                while len(level) > 1:  # a perfect tree, level by level: cheaper than the recursive MTH
                    level = [sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
                known = level[0]
            else:
                half = size // 2
                known = node_hash(self._perfect(start, half), self._perfect(start + half, half))
            self.perfect[(start, size)] = known
        return known

    def _leaves(self, first: int) -> list[bytes]:
        """The leaf hashes of the block starting at leaf ``first`` (the last block may be short)."""
        if self._block is not None and self._block[0] == first:
            return self._block[1]
        end = min(first + BLOCK, self.tree_size)
        rows = AuditEvent.objects.filter(sequence__gt=first, sequence__lte=end).order_by("sequence")
        # Sequences are unique, so as many rows as the range is long means none is missing.
        hashes = list(rows.values_list("hash", flat=True))
        if len(hashes) != end - first:
            raise TrailGapError(f"events {first + 1}..{end}: {end - first - len(hashes)} missing from the trail")
        leaves = [sha256(b"\x00" + bytes.fromhex(chain_hash)).digest() for chain_hash in hashes]  # auditlog.event_leaf
        self.events_read += len(leaves)
        self._block = (first, leaves)
        return leaves
