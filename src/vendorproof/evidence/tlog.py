"""The Merkle tree over the evidence records (RFC 9162 §2.1, RFC 6962 hashing).

**Leaves.** The log's leaf ``i`` (0-based) is record ``seq = i + 1``; its leaf data is
the 32 raw bytes of the record digest, i.e. ``SHA-256(envelope)`` of the DSSE envelope
bytes exactly as stored (``StoredRecord.digest`` decoded from hex). So::

    leaf hash  = SHA-256(0x00 || SHA-256(envelope))          RFC 9162 §2.1.1
    node hash  = SHA-256(0x01 || left || right)
    MTH({})    = SHA-256("")

**Stored nodes.** The stores keep every *perfect* subtree hash: node ``(level, index)``
is ``MTH`` of leaves ``[index * 2**level, (index + 1) * 2**level)``. Appending leaf
``n`` adds node ``(0, n)`` and one node per level that the leaf completes (amortized
two rows per append), each computed from its two children. Any subtree that occurs in
the RFC's recursive definitions, for any tree size, starts at a multiple of the
smallest power of two not below its width, so it is the fold of at most ``log2(n)``
stored perfect nodes: roots, inclusion proofs (§2.1.3) and consistency proofs (§2.1.4)
for any size are computed from ``O(log² n)`` stored nodes, never by rehashing the log.

The functions here are pure: they take a :data:`NodeSource` (``nodes(keys) ->
{key: hash}``) so the same code serves the SQLite and PostgreSQL stores (one query
per proof) and the in-memory tree the tests and the benchmark build.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

__all__ = [
    "EMPTY_ROOT",
    "Edge",
    "MemoryTree",
    "NodeKey",
    "NodeSource",
    "ProofError",
    "consistency_proof",
    "edge_keys",
    "inclusion_proof",
    "leaf_hash",
    "left_sibling_keys",
    "new_nodes",
    "node_hash",
    "record_leaf",
    "root",
    "root_from_leaves",
    "verify_consistency",
    "verify_inclusion",
]

#: A stored perfect subtree: (level, index).
NodeKey = tuple[int, int]
#: Returns the stored hashes of the given nodes (every one asked for must be there).
NodeSource = Callable[[Iterable[NodeKey]], Mapping[NodeKey, bytes]]

EMPTY_ROOT = hashlib.sha256(b"").digest()
_HASH = 32


class ProofError(ValueError):
    """A proof that does not verify, or arguments no proof can exist for."""


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 §2.1.1: ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def record_leaf(digest_hex: str) -> bytes:
    """The leaf hash of a record from its digest (hex sha256 of the envelope)."""
    raw = bytes.fromhex(digest_hex)
    if len(raw) != _HASH:
        msg = f"a record digest is 32 bytes, not {len(raw)}"
        raise ValueError(msg)
    return leaf_hash(raw)


def _split(width: int) -> int:
    """The largest power of two below ``width`` (``width >= 2``), RFC 9162 §2.1.1."""
    return 1 << ((width - 1).bit_length() - 1)


def _perfect(start: int, end: int) -> list[NodeKey]:
    """The stored perfect nodes whose fold is ``MTH(D[start:end])``, left to right.

    ``start`` is a multiple of the smallest power of two ``>= end - start`` (true of
    every subtree in the RFC's recursions): the width's binary digits, highest first.
    """
    keys: list[NodeKey] = []
    width = end - start
    at = start
    for level in range(width.bit_length() - 1, -1, -1):
        if width >> level & 1:
            keys.append((level, at >> level))
            at += 1 << level
    return keys


def _fold(keys: Sequence[NodeKey], hashes: Mapping[NodeKey, bytes]) -> bytes:
    """``MTH`` of a range from its perfect nodes: the right-most pair hashes first."""
    acc = hashes[keys[-1]]
    for key in reversed(keys[:-1]):
        acc = node_hash(hashes[key], acc)
    return acc


def _resolve(ranges: Sequence[tuple[int, int]], source: NodeSource) -> list[bytes]:
    plans = [_perfect(a, b) for a, b in ranges]
    hashes = source({key for plan in plans for key in plan})
    return [_fold(plan, hashes) for plan in plans]


def _check_size(size: int, what: str) -> None:
    if type(size) is not int or size < 0:
        msg = f"{what} must be a non-negative integer, not {size!r}"
        raise ProofError(msg)


def root(size: int, source: NodeSource) -> bytes:
    """``MTH(D[0:size])`` from stored nodes."""
    _check_size(size, "tree size")
    if size == 0:
        return EMPTY_ROOT
    return _resolve([(0, size)], source)[0]


def _path(m: int, start: int, end: int, out: list[tuple[int, int]]) -> None:
    """RFC 6962 §2.1.1 PATH(m, D[start:end]) as subtree ranges, leaf side first."""
    while end - start > 1:
        k = _split(end - start)
        if m < k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
            m -= k
    out.reverse()


def inclusion_proof(index: int, size: int, source: NodeSource) -> list[bytes]:
    """The inclusion proof of leaf ``index`` in tree ``size`` (RFC 9162 §2.1.3.1)."""
    _check_size(size, "tree size")
    if type(index) is not int or not 0 <= index < size:
        msg = f"leaf index {index!r} is not in a tree of size {size}"
        raise ProofError(msg)
    ranges: list[tuple[int, int]] = []
    _path(index, 0, size, ranges)
    return _resolve(ranges, source)


def _subproof(m: int, start: int, end: int, out: list[tuple[int, int]]) -> None:
    """RFC 6962 §2.1.2 SUBPROOF(m, D[start:end], true) as ranges, smallest first."""
    known = True  # b: the subtree MTH(D[0:m]) is known to the verifier
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
            m -= k
            known = False
    if not known:
        out.append((start, end))
    out.reverse()


def consistency_proof(old: int, new: int, source: NodeSource) -> list[bytes]:
    """The consistency proof from tree size ``old`` to ``new`` (RFC 9162 §2.1.4.1).

    Empty for ``old == new`` and for ``old == 0`` (every tree extends the empty one).
    """
    _check_size(old, "old tree size")
    _check_size(new, "new tree size")
    if old > new:
        msg = f"the old tree size {old} is larger than the new tree size {new}"
        raise ProofError(msg)
    if old in {0, new}:
        return []
    ranges: list[tuple[int, int]] = []
    _subproof(old, 0, new, ranges)
    return _resolve(ranges, source)


def _check_hashes(proof: Sequence[bytes], *named: tuple[str, bytes]) -> None:
    for name, value in named:
        if len(value) != _HASH:
            msg = f"the {name} is {len(value)} bytes, not 32"
            raise ProofError(msg)
    for i, value in enumerate(proof):
        if len(value) != _HASH:
            msg = f"proof hash {i + 1} is {len(value)} bytes, not 32"
            raise ProofError(msg)


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: verify an inclusion proof (``leaf`` is the leaf hash).

    Raises:
        ProofError: the proof does not lead to ``expected_root`` (or is malformed).
    """
    _check_size(size, "tree size")
    _check_hashes(proof, ("leaf hash", leaf), ("root hash", expected_root))
    if type(index) is not int or not 0 <= index < size:
        msg = f"leaf index {index} is not in a tree of size {size}"
        raise ProofError(msg)
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            msg = (
                f"the inclusion proof has {len(proof)} hashes, more than the tree needs"
            )
            raise ProofError(msg)
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        msg = f"the inclusion proof has {len(proof)} hashes, fewer than the tree needs"
        raise ProofError(msg)
    if r != expected_root:
        msg = "the inclusion proof does not lead to the root hash"
        raise ProofError(msg)


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: verify that tree ``old`` is a prefix of tree ``new``.

    Raises:
        ProofError: the proof does not verify (or is malformed).
    """
    _check_size(old, "old tree size")
    _check_size(new, "new tree size")
    _check_hashes(proof, ("old root hash", old_root), ("new root hash", new_root))
    if old > new:
        msg = f"the tree shrank from size {old} to {new}"
        raise ProofError(msg)
    if old in {0, new}:
        _verify_trivial(old, new, old_root, new_root, proof)
        return
    # Step 1: an empty proof fails (0 < old < new always needs at least one hash).
    if not proof:
        msg = f"the consistency proof from size {old} to {new} is empty"
        raise ProofError(msg)
    path = list(proof)
    # Step 2: if first is an exact power of 2, prepend first_hash to the path.
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    # Step 4: right-shift both while LSB(fn) is set.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            msg = f"the consistency proof has {len(proof)} hashes, more than needed"
            raise ProofError(msg)
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        msg = f"the consistency proof has {len(proof)} hashes, fewer than needed"
        raise ProofError(msg)
    if fr != old_root:
        msg = f"the consistency proof does not lead to the root hash of size {old}"
        raise ProofError(msg)
    if sr != new_root:
        msg = f"the consistency proof does not lead to the root hash of size {new}"
        raise ProofError(msg)


def _verify_trivial(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """The consistency cases with nothing to prove: equal sizes, or from size 0."""
    # Nothing to prove beyond equal roots (a size-0 tree is MTH({}) and every
    # tree extends it).
    if proof:
        msg = (
            f"the consistency proof from size {old} to {new} must be empty, "
            f"it has {len(proof)} hashes"
        )
        raise ProofError(msg)
    if old == new and old_root != new_root:
        msg = f"two different root hashes for the same tree size {old}"
        raise ProofError(msg)
    if old == 0 and old_root != EMPTY_ROOT:
        msg = "the root hash of the empty tree is not SHA-256 of the empty string"
        raise ProofError(msg)


def new_nodes(
    index: int, leaf: bytes, left_siblings: Mapping[NodeKey, bytes]
) -> list[tuple[int, int, bytes]]:
    """The nodes appending leaf ``index`` adds: ``(level, index, hash)``, level 0 first.

    ``left_siblings`` must hold :func:`left_sibling_keys` ``(index)``.
    """
    out = [(0, index, leaf)]
    acc, level, at = leaf, 0, index
    while at & 1:
        acc = node_hash(left_siblings[(level, at - 1)], acc)
        level += 1
        at >>= 1
        out.append((level, at, acc))
    return out


def left_sibling_keys(index: int) -> list[NodeKey]:
    """The stored nodes :func:`new_nodes` needs to append leaf ``index``."""
    keys: list[NodeKey] = []
    level, at = 0, index
    while at & 1:
        keys.append((level, at - 1))
        level += 1
        at >>= 1
    return keys


class MemoryTree:
    """The same stored-node tree in memory (bundles, tests, the benchmark)."""

    __slots__ = ("_levels",)

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for leaf in leaves:
            self.append(leaf)

    @property
    def size(self) -> int:
        """The number of leaves."""
        return len(self._levels[0])

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash."""
        index = self.size
        for level, at, value in new_nodes(
            index, leaf, self._get(left_sibling_keys(index))
        ):
            if level == len(self._levels):
                self._levels.append([])
            if len(self._levels[level]) != at:  # pragma: no cover - an invariant
                msg = "the tree lost its shape"
                raise AssertionError(msg)
            self._levels[level].append(value)

    def _get(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
        return {(lv, i): self._levels[lv][i] for lv, i in keys}

    def nodes(self, keys: Iterable[NodeKey]) -> Mapping[NodeKey, bytes]:
        """A :data:`NodeSource` over this tree."""
        return self._get(keys)

    def root(self, size: int | None = None) -> bytes:
        """``MTH`` of the first ``size`` leaves (default: all)."""
        return root(self.size if size is None else size, self.nodes)


def edge_keys(size: int) -> list[NodeKey]:
    """The perfect subtrees of the right edge of tree ``size``, largest first.

    Their hashes (the "compact range" of ``[0, size)``) are all :class:`Edge` needs
    to continue the tree from ``size`` without the earlier leaves.
    """
    return _perfect(0, size)


class Edge:
    """The right edge of a tree: append leaves, read the root (O(log n) space)."""

    __slots__ = ("_edge", "size")

    def __init__(self, size: int = 0, edge: Sequence[bytes] = ()) -> None:
        if len(edge) != size.bit_count():
            msg = (
                f"a tree of size {size} has {size.bit_count()} edge nodes, "
                f"not {len(edge)}"
            )
            raise ProofError(msg)
        self.size = size
        self._edge = list(edge)

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash."""
        acc, at = leaf, self.size
        while at & 1:
            acc = node_hash(self._edge.pop(), acc)
            at >>= 1
        self._edge.append(acc)
        self.size += 1

    def root(self) -> bytes:
        """``MTH`` of the leaves so far."""
        if not self._edge:
            return EMPTY_ROOT
        acc = self._edge[-1]
        for value in reversed(self._edge[:-1]):
            acc = node_hash(value, acc)
        return acc


def root_from_leaves(leaves: Iterable[bytes]) -> tuple[int, bytes]:
    """The size and root hash of the tree over ``leaves`` (streamed, O(log n) space)."""
    edge = Edge()
    for leaf in leaves:
        edge.append(leaf)
    return edge.size, edge.root()
