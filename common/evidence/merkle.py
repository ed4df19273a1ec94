"""The RFC 6962 / RFC 9162 §2.1 Merkle tree: hashes, roots, inclusion and consistency proofs.

A log that publishes signed roots of this tree cannot rewrite an old entry without every later root
changing, and anyone can check one entry (inclusion) or that a later root extends an earlier one
(consistency) with O(log n) hashes. The verifiers follow RFC 9162 §2.1.3.2 and §2.1.4.2 step by step;
the proof builders follow RFC 9162 §2.1.3.1 and §2.1.4.1, so the two sides check each other.

Proofs are built from a ``SubtreeHash``: a function ``(start, end) -> MTH(D[start:end])``. Every range it
is asked for is either a *perfect* subtree (``end - start`` a power of two and ``start`` a multiple of it),
whose hash never changes once its last leaf exists, or a range ending at the tree size whose start is a
multiple of a power of two at least as large as the range. A database-backed store can therefore cache
perfect subtree roots forever and build any right-edge range from O(log n) of them; a proof then costs
exactly one call per proof element (the length of the proof, at most about 2·log2 n).
``subtree_hasher`` is the in-memory version over a list of leaf hashes.
"""

from __future__ import annotations

import hashlib
import hmac
from bisect import bisect_left
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

SubtreeHash = Callable[[int, int], bytes]


def leaf_hash(entry: bytes) -> bytes:
    """SHA-256(0x00 || entry): the prefix keeps a leaf from ever equalling an interior node."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two strictly below ``size`` (size > 1): where RFC 6962 splits a tree."""
    return 1 << ((size - 1).bit_length() - 1)


def _mth(leaf_hashes: Sequence[bytes], start: int, end: int, memo: dict[tuple[int, int], bytes] | None) -> bytes:
    if end - start == 1:
        return leaf_hashes[start]
    if memo is not None and (start, end) in memo:
        return memo[(start, end)]
    middle = start + _split(end - start)
    value = node_hash(_mth(leaf_hashes, start, middle, memo), _mth(leaf_hashes, middle, end, memo))
    if memo is not None:
        memo[(start, end)] = value
    return value


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the tree whose leaves have these hashes; the empty tree's root is SHA-256 of nothing."""
    if not leaf_hashes:
        return EMPTY_ROOT
    return _mth(leaf_hashes, 0, len(leaf_hashes), None)


def subtree_hasher(leaf_hashes: Sequence[bytes]) -> SubtreeHash:
    """A ``SubtreeHash`` over an in-memory list, remembering every interior node it computes.

    The first call costs O(n) hashes; later calls on the same tree are mostly lookups.
    """
    memo: dict[tuple[int, int], bytes] = {}
    size = len(leaf_hashes)

    def subtree_hash(start: int, end: int) -> bytes:
        if not 0 <= start < end <= size:
            raise ValueError(f"[{start}, {end}) is not a non-empty range of a tree of size {size}")
        return _mth(leaf_hashes, start, end, memo)

    return subtree_hash


def inclusion_path(index: int, tree_size: int, subtree_hash: SubtreeHash) -> list[bytes]:
    """PATH(index, D[tree_size]) of RFC 9162 §2.1.3.1, leaf to root, one ``subtree_hash`` call per element."""
    if not 0 <= index < tree_size:
        raise ValueError(f"leaf {index} is not in a tree of size {tree_size}")
    siblings = []
    start, end = 0, tree_size
    while end - start > 1:
        middle = start + _split(end - start)
        if index < middle:
            siblings.append((middle, end))
            end = middle
        else:
            siblings.append((start, middle))
            start = middle
    return [subtree_hash(a, b) for a, b in reversed(siblings)]


def consistency_path(old_size: int, tree_size: int, subtree_hash: SubtreeHash) -> list[bytes]:
    """PROOF(old_size, D[tree_size]) of RFC 9162 §2.1.4.1, one ``subtree_hash`` call per element.

    RFC 9162 defines proofs for 0 < old_size < tree_size; here old_size == tree_size and old_size == 0
    both give the empty proof (nothing to show: the trees are equal, or the old one is empty).
    """
    if not 0 <= old_size <= tree_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {tree_size}")
    if old_size in (0, tree_size):
        return []
    ranges = []
    start, end, m, whole = 0, tree_size, old_size, True
    # SUBPROOF(m, D[start:end], whole), unrolled: each step records the sibling range it appends.
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        ranges.append((start, end))
    return [subtree_hash(a, b) for a, b in reversed(ranges)]


def batch_ranges(indexes: Sequence[int], tree_size: int) -> list[tuple[int, int]]:
    """The subtrees a batch proof of leaves ``indexes`` (sorted, distinct) carries, left to right.

    The walk follows RFC 6962's split from the root: a range holding none of the leaves is one proof element
    (its MTH); a range whose every leaf is chosen (a single chosen leaf too) needs nothing, since the verifier
    computes it; any other range is split. Every range is therefore a node of the tree of ``tree_size``.
    """
    if not _is_size(tree_size):
        raise ValueError(f"{tree_size!r} is not a tree size")
    # Checked with C-speed loops: an export proves a million leaves at once.
    increasing = all(type(index) is int for index in indexes) and all(a < b for a, b in pairwise(indexes))
    if not increasing or (indexes and not 0 <= indexes[0] <= indexes[-1] < tree_size):
        raise ValueError(f"leaf indexes must be sorted, distinct integers from 0 to {tree_size - 1}")
    ranges: list[tuple[int, int]] = []
    if tree_size == 0:
        return ranges
    # An explicit stack (right half pushed first) instead of recursion: the same left-to-right order.
    stack = [(0, tree_size, 0, len(indexes))]
    while stack:
        start, end, low, high = stack.pop()
        if low == high:
            ranges.append((start, end))
        elif high - low != end - start:
            middle = start + _split(end - start)
            cut = bisect_left(indexes, middle, low, high)
            stack.append((middle, end, cut, high))
            stack.append((start, middle, low, cut))
    return ranges


def batch_inclusion_path(indexes: Sequence[int], tree_size: int, subtree_hash: SubtreeHash) -> list[bytes]:
    """The batch inclusion proof of leaves ``indexes`` (sorted, distinct) in the tree of ``tree_size``.

    The fewest subtree hashes from which the root follows given those leaves alone: at most one per range
    of ``batch_ranges``, so k leaves among n cost O(k log(n / k)) hashes, never more than k separate audit
    paths, and nothing when the leaves are the whole tree. One ``subtree_hash`` call per element.
    """
    return [subtree_hash(start, end) for start, end in batch_ranges(indexes, tree_size)]


def batch_inclusion_proof(indexes: Sequence[int], leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """The batch inclusion proof of leaves ``indexes`` in the tree of ``len(leaf_hashes)`` leaves."""
    return batch_inclusion_path(indexes, len(leaf_hashes), subtree_hasher(leaf_hashes))


def _stack_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a whole list, iteratively (a stack of perfect subtrees): no recursion limit, fewer calls."""
    stack: list[tuple[int, bytes]] = []
    for value in leaf_hashes:
        size = 1
        while stack and stack[-1][0] == size:
            value = node_hash(stack.pop()[1], value)
            size *= 2
        stack.append((size, value))
    value = stack.pop()[1]
    while stack:
        value = node_hash(stack.pop()[1], value)
    return value


def verify_batch_inclusion(
    indexes: Sequence[int], tree_size: int, leaf_hashes: Sequence[bytes], proof: Sequence[bytes], root: bytes
) -> bool:
    """Do ``proof`` (from ``batch_inclusion_path``) and the leaves ``indexes`` with these hashes give ``root``?

    The verifier walks the same split as the prover and takes proof elements in the same order; every
    element must be used. False, never an exception, for malformed input (unsorted or repeated indexes,
    indexes outside the tree, hashes that are not 32 bytes, a count of hashes that is not one per index).
    """
    if not (_is_size(tree_size) and _is_proof(proof) and _is_hash(root)):
        return False
    if not isinstance(indexes, Sequence) or not isinstance(leaf_hashes, Sequence):
        return False
    if len(indexes) != len(leaf_hashes) or not all(_is_hash(value) for value in leaf_hashes):
        return False
    try:
        ranges = batch_ranges(indexes, tree_size)
    except (TypeError, ValueError):
        return False
    if len(ranges) != len(proof):
        return False
    if tree_size == 0:
        return hmac.compare_digest(root, EMPTY_ROOT)
    supplied = dict(zip(ranges, proof, strict=True))

    def mth(start: int, end: int, low: int, high: int) -> bytes:
        if low == high:
            return supplied[(start, end)]
        if high - low == end - start:
            return _stack_root(leaf_hashes[low:high])
        middle = start + _split(end - start)
        cut = bisect_left(indexes, middle, low, high)
        return node_hash(mth(start, middle, low, cut), mth(middle, end, cut, high))

    return hmac.compare_digest(mth(0, tree_size, 0, len(indexes)), root)


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``len(leaf_hashes)`` leaves."""
    return inclusion_path(index, len(leaf_hashes), subtree_hasher(leaf_hashes))


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """The proof that the tree of ``old_size`` leaves is a prefix of the tree of ``len(leaf_hashes)``."""
    return consistency_path(old_size, len(leaf_hashes), subtree_hasher(leaf_hashes))


def _is_size(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hash(value: Any) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_proof(value: Any) -> bool:
    return isinstance(value, list | tuple) and all(_is_hash(item) for item in value)


def verify_inclusion(index: int, tree_size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show leaf ``index`` with hash ``leaf_hash`` under ``root``?

    False, never an exception, for malformed input (negative sizes, hashes that are not 32 bytes).
    """
    if not (_is_size(index) and _is_size(tree_size) and _is_hash(leaf_hash) and _is_proof(proof)):
        return False
    if not _is_hash(root):
        return False
    # 1. leaf_index must be below tree_size.
    if index >= tree_size:
        return False
    # 2.-3.
    fn, sn, r = index, tree_size - 1, leaf_hash
    # 4.
    for p in proof:
        if sn == 0:  # a.
            return False
        if fn & 1 or fn == sn:  # b.
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1  # c.
        sn >>= 1
    # 5.
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(old_size: int, tree_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: does ``proof`` show the tree (old_size, old_root) is a prefix of (tree_size, new_root)?

    Outside the RFC's 0 < old_size < tree_size: equal sizes need an empty proof and equal roots; an old
    size of 0 needs an empty proof and the empty tree's root (every tree extends the empty one, and
    ``tree_size`` 0 also needs ``new_root`` to be that root). False, never an exception, for malformed input.
    """
    if not (_is_size(old_size) and _is_size(tree_size) and _is_hash(old_root) and _is_hash(new_root)):
        return False
    if not _is_proof(proof) or old_size > tree_size:
        return False
    if old_size == 0:
        empty_new = tree_size > 0 or hmac.compare_digest(new_root, EMPTY_ROOT)
        return not proof and hmac.compare_digest(old_root, EMPTY_ROOT) and empty_new
    if old_size == tree_size:
        return not proof and hmac.compare_digest(old_root, new_root)
    # 1.
    if not proof:
        return False
    path = list(proof)
    # 2. A power-of-two old tree is a subtree of the new one; its root starts the path.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    # 3.
    fn, sn = old_size - 1, tree_size - 1
    # 4.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5.
    fr = sr = path[0]
    # 6.
    for c in path[1:]:
        if sn == 0:  # a.
            return False
        if fn & 1 or fn == sn:  # b.
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1  # c.
        sn >>= 1
    # 7.
    return hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root) and sn == 0
