"""The RFC 6962 Merkle tree against Google's published vectors, and proofs on every tree up to 300 leaves.

Vectors: github.com/transparency-dev/merkle at 417fb0c314750d94e53942e9f92e79b6d35915db (Apache-2.0):
``testonly/constants.go`` (LeafInputs, NodeHashes, RootHashes) and the probes of ``testdata/inclusion`` and
``testdata/consistency``, copied unchanged into ``data/transparency_dev_merkle_probes.json``.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.evidence.merkle import (
    EMPTY_ROOT,
    consistency_path,
    consistency_proof,
    inclusion_path,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    subtree_hasher,
    verify_consistency,
    verify_inclusion,
)

LEAF_INPUTS = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
# NodeHashes()[level][index]: every complete subtree of the 8-leaf tree.
NODE_HASHES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]
# RootHashes(), indexed by tree size from the empty tree.
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
LEAVES = [leaf_hash(entry) for entry in LEAF_INPUTS]
PROBES = json.loads((Path(__file__).parent / "data" / "transparency_dev_merkle_probes.json").read_text())


def _node(level: int, index: int) -> bytes:
    return bytes.fromhex(NODE_HASHES[level][index])


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def test_leaf_and_node_hashes_match_the_vectors():
    assert [h.hex() for h in LEAVES] == NODE_HASHES[0]
    for level in (1, 2, 3):
        for index, expected in enumerate(NODE_HASHES[level]):
            assert node_hash(_node(level - 1, 2 * index), _node(level - 1, 2 * index + 1)).hex() == expected


def test_roots_of_every_size_match_the_vectors():
    assert [root(LEAVES[:size]).hex() for size in range(9)] == ROOTS
    assert EMPTY_ROOT.hex() == ROOTS[0]


def test_inclusion_proofs_match_the_vectors():
    # testdata/inclusion/{1,2,3,4}/happy-path.json, written as node hashes of the 8-leaf tree.
    assert inclusion_proof(0, LEAVES) == [_node(0, 1), _node(1, 1), _node(2, 1)]
    assert inclusion_proof(5, LEAVES) == [_node(0, 4), _node(1, 3), _node(2, 0)]
    assert inclusion_proof(2, LEAVES[:3]) == [_node(1, 0)]
    assert inclusion_proof(1, LEAVES[:5]) == [_node(0, 0), _node(1, 1), _node(0, 4)]
    assert inclusion_proof(0, LEAVES[:1]) == []
    for name in ("1/happy-path.json", "2/happy-path.json", "3/happy-path.json", "4/happy-path.json"):
        probe = PROBES["inclusion"][name]
        leaves = LEAVES[: probe["treeSize"]]
        assert [base64.b64encode(h).decode() for h in inclusion_proof(probe["leafIdx"], leaves)] == probe["proof"]


def test_consistency_proofs_match_the_vectors():
    # testdata/consistency/{1,2,3,4}/happy-path.json
    assert consistency_proof(1, LEAVES) == [_node(0, 1), _node(1, 1), _node(2, 1)]
    assert consistency_proof(6, LEAVES) == [_node(1, 2), _node(1, 3), _node(2, 0)]
    assert consistency_proof(2, LEAVES[:5]) == [_node(1, 1), _node(0, 4)]
    assert consistency_proof(6, LEAVES[:7]) == [_node(1, 2), _node(0, 6), _node(2, 0)]
    for name in ("1/happy-path.json", "2/happy-path.json", "3/happy-path.json", "4/happy-path.json"):
        probe = PROBES["consistency"][name]
        leaves = LEAVES[: probe["size2"]]
        assert [base64.b64encode(h).decode() for h in consistency_proof(probe["size1"], leaves)] == probe["proof"]


def test_verifiers_agree_with_every_transparency_dev_probe_but_one():
    disagreements = []
    for name, p in PROBES["inclusion"].items():
        proof = [_b64(h) for h in p["proof"] or []]
        if verify_inclusion(p["leafIdx"], p["treeSize"], _b64(p["leafHash"]), proof, _b64(p["root"])) == p["wantErr"]:
            disagreements.append(f"inclusion/{name}")
    for name, p in PROBES["consistency"].items():
        proof = [_b64(h) for h in p["proof"] or []]
        if verify_consistency(p["size1"], p["size2"], _b64(p["root1"]), _b64(p["root2"]), proof) == p["wantErr"]:
            disagreements.append(f"consistency/{name}")
    assert len(PROBES["inclusion"]) == len(PROBES["consistency"]) == 98
    # Deliberate: that probe's roots are 12 bytes ("don't care 2"); Go accepts equal roots of any length,
    # we refuse anything that is not a SHA-256 hash.
    assert disagreements == ["consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"]


def test_edges_of_consistency_are_defined():
    empty = EMPTY_ROOT
    r3 = bytes.fromhex(ROOTS[3])
    assert consistency_proof(0, LEAVES) == [] and consistency_proof(8, LEAVES) == []
    assert verify_consistency(0, 0, empty, empty, []) is True
    assert verify_consistency(0, 3, empty, r3, []) is True  # every tree extends the empty tree
    assert verify_consistency(0, 0, empty, r3, []) is False
    assert verify_consistency(0, 3, r3, r3, []) is False
    assert verify_consistency(0, 3, empty, r3, [r3]) is False
    assert verify_consistency(3, 3, r3, r3, []) is True
    assert verify_consistency(3, 3, r3, empty, []) is False
    assert verify_consistency(3, 3, r3, r3, [r3]) is False
    assert verify_consistency(4, 3, r3, r3, []) is False
    with pytest.raises(ValueError, match=r"^no consistency proof from size 9 to size 8$"):
        consistency_proof(9, LEAVES)
    with pytest.raises(ValueError, match=r"^leaf 8 is not in a tree of size 8$"):
        inclusion_proof(8, LEAVES)


def test_verifiers_return_false_on_malformed_input():
    r = bytes.fromhex(ROOTS[2])
    good = inclusion_proof(0, LEAVES[:2])
    assert verify_inclusion(0, 2, LEAVES[0], good, r) is True
    assert verify_inclusion(0, 2, LEAVES[0], tuple(good), r) is True
    for arguments in [
        (-1, 2, LEAVES[0], good, r),
        (True, 2, LEAVES[0], good, r),
        (0, 2.0, LEAVES[0], good, r),
        (0, 2, LEAVES[0].hex(), good, r),
        (0, 2, LEAVES[0], [good[0][:31]], r),
        (0, 2, LEAVES[0], good[0], r),
        (0, 2, LEAVES[0], good, r + b"\x00"),
        (0, 2, LEAVES[0], good, None),
        (0, 10**30, LEAVES[0], good * 1000, r),
    ]:
        assert verify_inclusion(*arguments) is False
    assert verify_consistency(1, 2, LEAVES[0], r, "proof") is False
    assert verify_consistency(1, 2**70, LEAVES[0], r, [LEAVES[1]] * 100) is False


def _leaves(size: int, salt: int) -> list[bytes]:
    return [leaf_hash(salt.to_bytes(4, "big") + i.to_bytes(4, "big")) for i in range(size)]


def _recording(subtree_hash, tree_size: int, calls: list[tuple[int, int]]):
    def recorded(start: int, end: int) -> bytes:
        width = end - start
        perfect = width & (width - 1) == 0 and start % width == 0
        right_edge = end == tree_size and start % (1 << (width - 1).bit_length()) == 0
        assert perfect or right_edge, f"[{start}, {end}) of {tree_size} is neither perfect nor on the right edge"
        calls.append((start, end))
        return subtree_hash(start, end)

    return recorded


@settings(max_examples=40, deadline=None)
@given(size=st.integers(1, 300), salt=st.integers(0, 2**32 - 1))
def test_every_inclusion_proof_verifies_and_only_for_its_leaf(size, salt):
    leaves = _leaves(size, salt)
    tree_root = root(leaves)
    other_root = root(_leaves(size, salt ^ 1))
    calls: list[tuple[int, int]] = []
    subtree_hash = _recording(subtree_hasher(leaves), size, calls)
    for index in range(size):
        calls.clear()
        proof = inclusion_path(index, size, subtree_hash)
        assert len(calls) == len(proof) <= (size - 1).bit_length()  # one lookup per element, O(log n)
        assert verify_inclusion(index, size, leaves[index], proof, tree_root)
        assert not verify_inclusion(index, size, leaves[index], proof, other_root)
        assert not verify_inclusion(index, size, leaf_hash(b"not in the log"), proof, tree_root)
        assert not verify_inclusion((index + 1) % size if size > 1 else 1, size, leaves[index], proof, tree_root)


@settings(max_examples=40, deadline=None)
@given(size=st.integers(1, 300), salt=st.integers(0, 2**32 - 1), data=st.data())
def test_every_consistency_proof_verifies_and_fails_for_a_different_old_tree(size, salt, data):
    leaves = _leaves(size, salt)
    roots = [root(leaves[:m]) for m in range(size + 1)]
    calls: list[tuple[int, int]] = []
    subtree_hash = _recording(subtree_hasher(leaves), size, calls)
    for m in range(1, size + 1):
        calls.clear()
        proof = consistency_path(m, size, subtree_hash)
        assert len(calls) == len(proof) <= 2 * size.bit_length()
        assert verify_consistency(m, size, roots[m], roots[size], proof)
        changed = data.draw(st.integers(0, m - 1), label=f"changed leaf of the tree of {m}")
        rewritten = list(leaves[:m])
        rewritten[changed] = leaf_hash(b"rewritten")
        assert not verify_consistency(m, size, root(rewritten), roots[size], proof)
        if m < size:
            assert not verify_consistency(m, size, roots[m], root(rewritten + leaves[m:]), proof)
            assert not verify_consistency(m, size, roots[m], roots[size], proof[:-1])
            assert not verify_consistency(m, size, roots[m], roots[size], [*proof, roots[m]])
