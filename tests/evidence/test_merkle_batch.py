"""Batch inclusion proofs: many leaves of one tree shown with one shared set of subtree hashes.

Checked against the published 8-leaf tree (transparency-dev/merkle vectors, see test_merkle.py), against
``root`` and the single-leaf audit paths on every generated tree, and for tampering of every part.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.evidence.merkle import (
    EMPTY_ROOT,
    batch_inclusion_path,
    batch_inclusion_proof,
    batch_ranges,
    inclusion_proof,
    leaf_hash,
    root,
    subtree_hasher,
    verify_batch_inclusion,
)
from tests.evidence.test_merkle import LEAVES, ROOTS, _node


def _leaves(size: int, salt: int) -> list[bytes]:
    return [leaf_hash(f"{salt}:{i}".encode()) for i in range(size)]


@st.composite
def trees_and_leaves(draw, max_size: int = 300):
    size = draw(st.integers(0, max_size))
    chosen = sorted(draw(st.sets(st.integers(0, size - 1), max_size=size))) if size else []
    return _leaves(size, draw(st.integers(0, 2**32 - 1))), chosen


def test_batch_proofs_match_the_published_tree():
    root8 = bytes.fromhex(ROOTS[8])
    # [0, 5] of 8: leaf 1, node(2, 4), leaf 4, node(6, 8), left to right.
    proof = batch_inclusion_proof([0, 5], LEAVES)
    assert proof == [_node(0, 1), _node(1, 1), _node(0, 4), _node(1, 3)]
    assert verify_batch_inclusion([0, 5], 8, [LEAVES[0], LEAVES[5]], proof, root8)
    # Neighbours share their parent: [2, 3] needs node(0, 2) and node(4, 8) only.
    assert batch_inclusion_proof([2, 3], LEAVES) == [_node(1, 0), _node(2, 1)]
    assert batch_inclusion_proof(list(range(8)), LEAVES) == []
    assert batch_inclusion_proof([], LEAVES) == [root8]
    assert batch_inclusion_proof([4], LEAVES[:5]) == [_node(2, 0)]
    assert verify_batch_inclusion([], 0, [], [], EMPTY_ROOT)
    assert batch_ranges([], 0) == []


@settings(max_examples=60, deadline=None)
@given(trees_and_leaves())
def test_every_batch_proof_verifies_against_root(tree):
    leaves, chosen = tree
    proof = batch_inclusion_proof(chosen, leaves)
    assert verify_batch_inclusion(chosen, len(leaves), [leaves[i] for i in chosen], proof, root(leaves))
    # One hash per range the walk leaves out, each the MTH of exactly that range.
    ranges = batch_ranges(chosen, len(leaves))
    assert proof == [root(leaves[start:end]) for start, end in ranges]
    covered = sorted(i for start, end in ranges for i in range(start, end))
    assert sorted(set(covered) | set(chosen)) == list(range(len(leaves)))
    assert not set(covered) & set(chosen)
    # Never more than separate audit paths; nothing at all for the whole tree.
    separate = sum(len(inclusion_proof(i, leaves)) for i in chosen)
    assert len(proof) <= max(separate, 1)
    if chosen and len(chosen) == len(leaves):
        assert proof == []
    if len(chosen) == 1:
        assert sorted(proof) == sorted(inclusion_proof(chosen[0], leaves))


@settings(max_examples=30, deadline=None)
@given(size=st.integers(2, 4096), data=st.data())
def test_proof_size_grows_with_the_chosen_leaves_not_the_tree(size, data):
    chosen = sorted(data.draw(st.sets(st.integers(0, size - 1), min_size=1, max_size=20)))
    ranges = batch_ranges(chosen, size)
    assert len(ranges) <= len(chosen) * math.ceil(math.log2(size))


@settings(max_examples=60, deadline=None)
@given(tree=trees_and_leaves(max_size=120), data=st.data())
def test_tampering_with_any_part_fails(tree, data):
    leaves, chosen = tree
    size, top = len(leaves), root(leaves)
    values = [leaves[i] for i in chosen]
    proof = batch_inclusion_proof(chosen, leaves)
    flip = bytes([1]) + bytes(31)

    def xor(value: bytes) -> bytes:
        return bytes(a ^ b for a, b in zip(value, flip, strict=True))

    if chosen:
        which = data.draw(st.integers(0, len(chosen) - 1))
        changed = [xor(v) if i == which else v for i, v in enumerate(values)]
        assert not verify_batch_inclusion(chosen, size, changed, proof, top)
        # The same hashes claimed for other positions: a leaf moved to an index that was not chosen.
        free = sorted(set(range(size)) - set(chosen))
        if free:
            moved = sorted([*chosen[:which], *chosen[which + 1 :], data.draw(st.sampled_from(free))])
            moved_values = [leaves[i] for i in moved]
            moved_values[moved.index(next(i for i in moved if i not in chosen))] = values[which]
            assert not verify_batch_inclusion(moved, size, moved_values, batch_inclusion_proof(moved, leaves), top)
    if proof:
        which = data.draw(st.integers(0, len(proof) - 1))
        changed = [*proof[:which], xor(proof[which]), *proof[which + 1 :]]
        assert not verify_batch_inclusion(chosen, size, values, changed, top)
        assert not verify_batch_inclusion(chosen, size, values, proof[:-1], top)
    assert not verify_batch_inclusion(chosen, size, values, [*proof, top], top)
    assert not verify_batch_inclusion(chosen, size, values, proof, xor(top))
    # Not tampering: the tree size. As with RFC 9162's audit paths, a proof may also fit a tree of another
    # size with the same shape where the chosen leaves are (index 0 of 3 and of 4 leaves); the signed
    # checkpoint, not the proof, says the size.


def test_malformed_input_is_false_never_an_exception():
    top = root(LEAVES)
    proof = batch_inclusion_proof([1, 3], LEAVES)
    good = ([1, 3], 8, [LEAVES[1], LEAVES[3]], proof, top)
    assert verify_batch_inclusion(*good)
    for bad in (
        ([3, 1], 8, [LEAVES[3], LEAVES[1]], proof, top),  # unsorted
        ([1, 1], 8, [LEAVES[1], LEAVES[1]], proof, top),  # repeated
        ([1, 8], 8, [LEAVES[1], LEAVES[3]], proof, top),  # outside the tree
        ([-1, 3], 8, [LEAVES[1], LEAVES[3]], proof, top),
        ([1, 3], 8, [LEAVES[1]], proof, top),  # one hash short
        ([1, 3], 8, [LEAVES[1], LEAVES[3][:31]], proof, top),
        ([1, 3], 8, [LEAVES[1], LEAVES[3]], [*proof[:-1], b"short"], top),
        ([1, 3], True, [LEAVES[1], LEAVES[3]], proof, top),
        ([1, 3], -8, [LEAVES[1], LEAVES[3]], proof, top),
        ([1, 3], 8, [LEAVES[1], LEAVES[3]], proof, top.hex()),
        ([1.0, 3], 8, [LEAVES[1], LEAVES[3]], proof, top),
        ({1, 3}, 8, [LEAVES[1], LEAVES[3]], proof, top),
        ([1, 3], 8, [LEAVES[1], LEAVES[3]], "not a proof", top),
        ([], 0, [], [EMPTY_ROOT], EMPTY_ROOT),
        ([], 0, [], [], top),
    ):
        assert verify_batch_inclusion(*bad) is False, bad


def test_the_prover_refuses_bad_indexes_and_asks_one_hash_per_element():
    with pytest.raises(ValueError, match="sorted, distinct"):
        batch_ranges([2, 1], 8)
    with pytest.raises(ValueError, match="sorted, distinct"):
        batch_ranges([8], 8)
    calls = []
    hasher = subtree_hasher(LEAVES)

    def counting(start: int, end: int) -> bytes:
        calls.append((start, end))
        return hasher(start, end)

    assert batch_inclusion_path([0, 5], 8, counting) == batch_inclusion_proof([0, 5], LEAVES)
    assert calls == [(1, 2), (2, 4), (4, 5), (6, 8)]
