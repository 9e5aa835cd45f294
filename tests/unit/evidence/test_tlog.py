"""The Merkle tree (RFC 9162 §2.1): published vectors, an independent reference
written from the RFC's recursive definitions, and sigstore's inclusion verifier."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sigstore._internal import merkle as sigstore_merkle
from sigstore.errors import VerificationError as SigstoreVerificationError

from vendorproof.evidence import tlog
from vendorproof.evidence.tlog import (
    EMPTY_ROOT,
    MemoryTree,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)

# The RFC 6962 reference leaves and roots (certificate-transparency / trillian test
# data, transparency-dev/merkle testonly): leaf inputs, then MTH of sizes 0..8.
LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    bytes.fromhex(h)
    for h in (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


# --- an independent reference: RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1 as written ----------


def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = 1
    while k * 2 < len(d):
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = 1
    while k * 2 < len(d):
        k *= 2
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]  # noqa: FBT003


def tree_of(inputs: list[bytes]) -> MemoryTree:
    return MemoryTree(leaf_hash(x) for x in inputs)


def sigstore_verify(
    data: bytes, index: int, size: int, proof: list[bytes], root: bytes
) -> None:
    """sigstore-python's Rekor inclusion verifier, fed our proof."""
    entry = SimpleNamespace(
        _inner=SimpleNamespace(
            canonicalized_body=data,
            inclusion_proof=SimpleNamespace(
                log_index=index, tree_size=size, hashes=proof, root_hash=root
            ),
        )
    )
    sigstore_merkle.verify_merkle_inclusion(cast("Any", entry))


# --- published vectors ---------------------------------------------------------------


def test_roots_match_the_rfc6962_vectors() -> None:
    tree = tree_of(LEAF_INPUTS)
    for size, want in enumerate(ROOTS):
        assert tree.root(size) == want
        assert root_from_leaves(leaf_hash(x) for x in LEAF_INPUTS[:size]) == (
            size,
            want,
        )
    assert ROOTS[0] == EMPTY_ROOT


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs_match_the_vectors(
    index: int, size: int, proof: list[str]
) -> None:
    tree = tree_of(LEAF_INPUTS)
    got = inclusion_proof(index, size, tree.nodes)
    assert [h.hex() for h in got] == proof
    verify_inclusion(leaf_hash(LEAF_INPUTS[index]), index, size, got, ROOTS[size])


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_proofs_match_the_vectors(
    old: int, new: int, proof: list[str]
) -> None:
    tree = tree_of(LEAF_INPUTS)
    got = consistency_proof(old, new, tree.nodes)
    assert [h.hex() for h in got] == proof
    verify_consistency(old, new, ROOTS[old], ROOTS[new], got)


# --- every size against the reference and sigstore -------------------------------------

DATA = [hashlib.sha256(str(i).encode()).digest() for i in range(40)]


def test_every_proof_agrees_with_the_reference_and_verifies() -> None:
    tree = MemoryTree(leaf_hash(x) for x in DATA)
    for n in range(1, len(DATA) + 1):
        want_root = ref_mth(DATA[:n])
        assert tree.root(n) == want_root
        for m in range(n):
            proof = inclusion_proof(m, n, tree.nodes)
            assert proof == ref_path(m, DATA[:n])
            verify_inclusion(leaf_hash(DATA[m]), m, n, proof, want_root)
            sigstore_verify(DATA[m], m, n, proof, want_root)
        for m in range(1, n + 1):
            proof = consistency_proof(m, n, tree.nodes)
            assert proof == (ref_subproof(m, DATA[:n], True) if m < n else [])  # noqa: FBT003
            verify_consistency(m, n, ref_mth(DATA[:m]), want_root, proof)


def test_sigstore_rejects_what_we_reject() -> None:
    tree = MemoryTree(leaf_hash(x) for x in DATA[:13])
    proof = inclusion_proof(6, 13, tree.nodes)
    bad = [proof[0], bytes(32), *proof[2:]]
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(DATA[6]), 6, 13, bad, tree.root())
    with pytest.raises(SigstoreVerificationError):
        sigstore_verify(DATA[6], 6, 13, bad, tree.root())


# --- bad proofs never pass ------------------------------------------------------------


def test_mangled_inclusion_proofs_fail() -> None:
    tree = MemoryTree(leaf_hash(x) for x in DATA[:21])
    r = tree.root()
    for m in range(21):
        proof = inclusion_proof(m, 21, tree.nodes)
        leaf = leaf_hash(DATA[m])
        for bad_index, bad_size, bad_proof in (
            (m, 21, proof[:-1]),  # too short
            (m, 21, [*proof, proof[-1]]),  # too long
            (m, 21, [bytes(32), *proof[1:]]),  # wrong hash
            ((m + 1) % 21, 21, proof),  # wrong index
            (m, 64, proof),  # a size whose paths are longer
            (m, 21, list(reversed(proof))),  # wrong order
        ):
            if (bad_index, bad_size, bad_proof) == (m, 21, proof):
                continue
            with pytest.raises(ProofError):
                verify_inclusion(leaf, bad_index, bad_size, bad_proof, r)
    with pytest.raises(ProofError, match="not in a tree of size 21"):
        verify_inclusion(leaf_hash(DATA[0]), 21, 21, [], r)
    with pytest.raises(ProofError, match="33 bytes"):
        verify_inclusion(leaf_hash(DATA[0]), 0, 21, [bytes(33)], r)


def test_mangled_consistency_proofs_fail() -> None:
    tree = MemoryTree(leaf_hash(x) for x in DATA[:21])
    for old in range(1, 21):
        proof = consistency_proof(old, 21, tree.nodes)
        old_root, new_root = tree.root(old), tree.root()
        for bad in (proof[:-1], [*proof, proof[0]], [bytes(32), *proof[1:]]):
            with pytest.raises(ProofError):
                verify_consistency(old, 21, old_root, new_root, bad)
        with pytest.raises(ProofError):  # another history of the same sizes
            verify_consistency(old, 21, tree.root(old - 1), new_root, proof)
    with pytest.raises(ProofError, match="shrank from size 8 to 5"):
        verify_consistency(8, 5, ROOTS[8], ROOTS[5], [])
    with pytest.raises(ProofError, match="same tree size 5"):
        verify_consistency(5, 5, ROOTS[5], ROOTS[4], [])
    with pytest.raises(ProofError, match="must be empty"):
        verify_consistency(5, 5, ROOTS[5], ROOTS[5], [ROOTS[1]])
    with pytest.raises(ProofError, match="is empty"):
        verify_consistency(4, 8, ROOTS[4], ROOTS[8], [])
    with pytest.raises(ProofError, match="larger than the new"):
        consistency_proof(8, 5, tree.nodes)
    with pytest.raises(ProofError, match="not in a tree"):
        inclusion_proof(5, 5, tree.nodes)


def test_new_nodes_are_amortized_two_per_leaf() -> None:
    tree = MemoryTree()
    added = 0
    for i in range(1024):
        added += len(
            tlog.new_nodes(i, leaf_hash(b"x"), tree.nodes(tlog.left_sibling_keys(i)))
        )
        tree.append(leaf_hash(b"x"))
    assert added == 2047  # a perfect tree of 1024 leaves has 2047 nodes
