"""The log as static files in the C2SP ``tlog-tiles`` layout (c2sp.org/tlog-tiles).

A directory (or bucket) holds::

    checkpoint                      the signed checkpoint (c2sp.org/tlog-checkpoint)
    tile/<L>/<N>[.p/<W>]            hash tiles
    tile/entries/<N>[.p/<W>]        entry bundles

**Hash tiles.** A tile of level ``L`` and index ``N`` holds up to 256 consecutive
hashes of tree level ``8 * L`` (RFC 9162 §2.1.1 node hashes; level 0 holds the leaf
hashes): those of nodes ``256 * N`` to ``256 * N + W - 1``, concatenated, 32 bytes
each. A full tile (``W = 256``) has no suffix and never changes again; a partial tile
(``1 <= W < 256``) is named ``.p/<W>``.

**Entry bundles.** ``tile/entries/<N>`` holds the entries of leaves ``256 * N`` on,
each as a big-endian uint16 length and the entry's bytes. An entry here is the 32-byte
record digest (``SHA-256`` of the DSSE envelope) the tree's leaves are made of
(docs/evidence-store.md): leaf hash ``= SHA-256(0x00 || digest)``.

**Index encoding.** ``N`` is written in groups of three decimal digits, zero-padded,
every group but the last prefixed with ``x``: 1234067 is ``x001/x234/067``.

Every path is computed from integers here; nothing read from the directory names a
file, so a reader can never be led outside the directory it was given.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from vendorproof._internal.jsonio import read_document, write_atomic
from vendorproof.errors import InvalidInputError, VerificationError
from vendorproof.evidence import tlog

__all__ = [
    "CHECKPOINT",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "TileReader",
    "encode_index",
    "entries_path",
    "entry_bundle",
    "export_tiles",
    "hash_tiles",
    "parse_entry_bundle",
    "tile_path",
]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
CHECKPOINT = "checkpoint"
_HASH = 32
#: Largest entry bundle of 32-byte entries (256 * (2 + 32) bytes).
_MAX_BUNDLE = TILE_WIDTH * (2 + _HASH)


def encode_index(index: int) -> str:
    """The ``<N>`` path element: 3-digit groups, all but the last ``x``-prefixed."""
    if type(index) is not int or index < 0:
        msg = f"a tile index is a non-negative integer, not {index!r}"
        raise ValueError(msg)
    groups: list[str] = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    groups.reverse()
    return "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])


def _suffix(width: int) -> str:
    if not 1 <= width <= TILE_WIDTH:
        msg = f"a tile holds 1 to {TILE_WIDTH} hashes, not {width}"
        raise ValueError(msg)
    return "" if width == TILE_WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int) -> str:
    """``tile/<L>/<N>[.p/<W>]``."""
    if type(level) is not int or not 0 <= level < 64:
        msg = f"a tile level is 0 to 63, not {level!r}"
        raise ValueError(msg)
    return f"tile/{level}/{encode_index(index)}{_suffix(width)}"


def entries_path(index: int, width: int) -> str:
    """``tile/entries/<N>[.p/<W>]``."""
    return f"tile/entries/{encode_index(index)}{_suffix(width)}"


def _width(level: int, index: int, size: int) -> int:
    """How many hashes tile (level, index) of tree ``size`` holds (0: none)."""
    count = size >> (TILE_HEIGHT * level)
    return max(0, min(TILE_WIDTH, count - index * TILE_WIDTH))


def hash_tiles(size: int) -> Iterator[tuple[int, int, int]]:
    """Every hash tile of tree ``size``: ``(level, index, width)``, level 0 first."""
    level = 0
    while (count := size >> (TILE_HEIGHT * level)) > 0:
        for index in range(-(-count // TILE_WIDTH)):
            yield level, index, _width(level, index, size)
        level += 1


def entry_bundle(entries: Iterable[bytes]) -> bytes:
    """Entries as ``uint16 big-endian length || data``, concatenated."""
    out = bytearray()
    for entry in entries:
        if len(entry) >= 1 << 16:
            msg = f"an entry is at most 65535 bytes, not {len(entry)}"
            raise ValueError(msg)
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def parse_entry_bundle(data: bytes, width: int, *, file: str) -> list[bytes]:
    """The ``width`` entries of a bundle (each a 32-byte record digest).

    Raises:
        InvalidInputError: truncated, trailing bytes, or an entry not 32 bytes.
    """
    entries: list[bytes] = []
    at = 0
    for i in range(width):
        if at + 2 > len(data):
            msg = f"the bundle ends before entry {i} of {width}"
            raise InvalidInputError(msg, file=file)
        length = int.from_bytes(data[at : at + 2], "big")
        if length != _HASH or at + 2 + length > len(data):
            msg = f"entry {i} is not a 32-byte record digest"
            raise InvalidInputError(msg, file=file)
        entries.append(data[at + 2 : at + 2 + length])
        at += 2 + length
    if at != len(data):
        msg = f"{len(data) - at} bytes after the {width} entries"
        raise InvalidInputError(msg, file=file)
    return entries


def _put(dest: Path, name: str, data: bytes) -> bool:
    """Write ``dest/name`` unless it holds ``data`` already; True if written.

    A tile's name fixes the leaves it covers, so for one log its content never
    changes (partial tiles of other sizes have other names): one that differs is
    another history's, and is never overwritten.
    """
    path = dest / name
    if path.is_file():
        if read_document(path) == data:
            return False
        msg = (
            f"{path}: the tile differs from this log's (the directory holds another "
            "log's or another history's tiles)"
        )
        raise VerificationError(msg)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)
    return True


def _put_bundle(
    dest: Path, index: int, digests: list[bytes], nodes: tlog.NodeSource
) -> bool:
    """Write entry bundle ``index`` once its digests are the tree's leaves."""
    first = index * TILE_WIDTH
    keys = [(0, first + j) for j in range(len(digests))]
    leaves = nodes(keys)
    for key, digest in zip(keys, digests, strict=True):
        if tlog.leaf_hash(digest) != leaves[key]:
            msg = (
                f"record {key[1] + 1}: its digest is not the tree's leaf {key[1]} "
                "(the records differ from the tree)"
            )
            raise VerificationError(msg)
    width = len(digests)
    name = entries_path(index, width)
    return _put(dest, name, entry_bundle(digests))


def export_tiles(
    dest: Path,
    size: int,
    nodes: tlog.NodeSource,
    digests: Iterable[bytes],
    checkpoint: bytes,
) -> int:
    """Write tree ``size`` as tiles under ``dest``, the checkpoint last.

    ``digests`` yields the record digests (raw, in sequence order, at least
    ``size``), each checked against the tree's leaf; ``checkpoint`` is the signed
    checkpoint of tree ``size``. Files that
    already hold the same bytes are left alone, so exporting again after appends
    writes only the new tiles, the partial ones and the checkpoint. Returns the
    number of files written.
    """
    written = 0
    for level, index, width in hash_tiles(size):
        first = index * TILE_WIDTH
        keys = [(TILE_HEIGHT * level, first + j) for j in range(width)]
        hashes = nodes(keys)
        data = b"".join(hashes[k] for k in keys)
        written += _put(dest, tile_path(level, index, width), data)
    batch: list[bytes] = []
    index = 0
    it = iter(digests)
    for _ in range(size):
        digest = next(it, None)
        if digest is None:
            msg = f"the log has fewer records than its tree size {size}"
            raise VerificationError(msg)
        batch.append(digest)
        if len(batch) == TILE_WIDTH:
            written += _put_bundle(dest, index, batch, nodes)
            batch, index = [], index + 1
    if batch:
        written += _put_bundle(dest, index, batch, nodes)
    # The checkpoint last: a reader never sees one whose tiles are not there yet.
    write_atomic(dest / CHECKPOINT, checkpoint, force=True)
    return written + 1


class TileReader:
    """Read tree ``size`` from a tiles directory: a :data:`tlog.NodeSource`.

    Nothing read is trusted: the hashes serve to compute proofs that are then
    verified against a checkpoint whose signature was verified.
    """

    __slots__ = ("_cache", "_root", "size")

    def __init__(self, root: Path, size: int) -> None:
        self._root = root
        self.size = size
        self._cache: dict[str, bytes] = {}

    def _read(self, name: str, length: int | None) -> bytes:
        if name not in self._cache:
            path = self._root / name
            if not path.is_file():
                msg = "missing from the tiles directory"
                raise InvalidInputError(msg, file=str(path))
            data = read_document(path)
            if length is not None and len(data) != length:
                msg = f"{len(data)} bytes, not {length}"
                raise InvalidInputError(msg, file=str(path))
            self._cache[name] = data
        return self._cache[name]

    def _tile(self, level: int, index: int) -> bytes:
        width = _width(level, index, self.size)
        if width == 0:
            msg = f"no tile {level}/{index} in a tree of size {self.size}"
            raise tlog.ProofError(msg)
        return self._read(tile_path(level, index, width), width * _HASH)

    def _node(self, level: int, index: int) -> bytes:
        """A perfect node: the fold of ``2**r`` hashes of one tile, ``r < 8``."""
        tile_level, r = divmod(level, TILE_HEIGHT)
        first = index << r
        tile, at = divmod(first, TILE_WIDTH)
        data = self._tile(tile_level, tile)
        if (at + (1 << r)) * _HASH > len(data):
            msg = f"node {level}/{index} is not in a tree of size {self.size}"
            raise tlog.ProofError(msg)
        row = [data[(at + j) * _HASH : (at + j + 1) * _HASH] for j in range(1 << r)]
        while len(row) > 1:
            row = [tlog.node_hash(row[j], row[j + 1]) for j in range(0, len(row), 2)]
        return row[0]

    def nodes(self, keys: Iterable[tlog.NodeKey]) -> Mapping[tlog.NodeKey, bytes]:
        """The hashes of stored perfect nodes, from the tiles."""
        return {(level, index): self._node(level, index) for level, index in keys}

    def entry(self, index: int) -> bytes:
        """The record digest of leaf ``index`` (raw 32 bytes), from its bundle."""
        if not 0 <= index < self.size:
            msg = f"leaf index {index} is not in a tree of size {self.size}"
            raise tlog.ProofError(msg)
        bundle, at = divmod(index, TILE_WIDTH)
        width = min(TILE_WIDTH, self.size - bundle * TILE_WIDTH)
        name = entries_path(bundle, width)
        data = self._read(name, None)
        if len(data) > _MAX_BUNDLE:
            msg = f"{len(data)} bytes, more than {width} record digests"
            raise InvalidInputError(msg, file=str(self._root / name))
        return parse_entry_bundle(data, width, file=str(self._root / name))[at]
