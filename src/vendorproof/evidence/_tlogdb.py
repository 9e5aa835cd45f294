"""The Merkle tree and the checkpoints inside a store (schema version 5).

``tlog_nodes (level, idx, hash)`` holds every perfect subtree hash (see
:mod:`vendorproof.evidence.tlog`); ``append_leaf`` adds the nodes of one record in
the append transaction, under the chain lock. ``tlog_log`` holds the log's origin
(generated once by the migration), ``tlog_checkpoints`` the signed checkpoints.
Nothing here is trusted by a verifier: proofs are checked against a signed
checkpoint, and replay recomputes the root from the records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from vendorproof.errors import InvalidInputError, OutputError
from vendorproof.evidence import tlog
from vendorproof.evidence._dberror import one_line

if TYPE_CHECKING:
    # Type-only: the migrations run backfill() (import-linter ignores such imports).
    from vendorproof.evidence._migrations import Database

__all__ = [
    "append_leaf",
    "backfill",
    "check_head",
    "checkpoints",
    "node_source",
    "origin",
    "store_checkpoint",
    "tree_size",
]

_BATCH = 200


def _fetch(db: Database, keys: Iterable[tlog.NodeKey]) -> dict[tlog.NodeKey, bytes]:
    wanted = sorted(set(keys))
    found: dict[tlog.NodeKey, bytes] = {}
    for i in range(0, len(wanted), _BATCH):
        part = wanted[i : i + _BATCH]
        # One primary-key lookup per node in one statement (SQLite does not use the
        # index for a row-value IN list: that would scan the table).
        sql = " UNION ALL ".join(
            "SELECT level, idx, hash FROM tlog_nodes WHERE level = ? AND idx = ?"
            for _ in part
        )
        rows = db.rows(sql, [v for key in part for v in key])
        found.update({(int(lv), int(ix)): bytes(h) for lv, ix, h in rows})
    missing = [key for key in wanted if key not in found]
    if missing:
        level, idx = missing[0]
        raise InvalidInputError(
            f"the Merkle tree of the evidence store lacks node (level {level}, index "
            f"{idx}); the store is damaged or was written without its tree",
            file=db.where,
        )
    return found


def node_source(db: Database) -> tlog.NodeSource:
    """A :data:`~vendorproof.evidence.tlog.NodeSource` reading ``tlog_nodes``."""

    def nodes(keys: Iterable[tlog.NodeKey]) -> Mapping[tlog.NodeKey, bytes]:
        try:
            return _fetch(db, keys)
        except db.error as exc:
            raise InvalidInputError(
                f"cannot read the Merkle tree: {one_line(exc)}", file=db.where
            ) from exc

    return nodes


def tree_size(db: Database) -> int:
    """The number of leaves the stored tree holds."""
    ((size,),) = db.rows(
        "SELECT coalesce(max(idx) + 1, 0) FROM tlog_nodes WHERE level = 0"
    )
    return int(size)


def check_head(db: Database, size: int, digest: str | None) -> None:
    """The tree holds exactly ``size`` leaves, the last one that of ``digest``.

    Raises:
        InvalidInputError: it does not (or a node is missing).
    """
    problem = None
    stored = tree_size(db)
    if stored != size:
        problem = f"it holds {stored} leaves, the chain {size} records"
    elif digest is not None:
        (leaf,) = _fetch(db, [(0, size - 1)]).values()
        if leaf != tlog.record_leaf(digest):
            problem = f"its leaf {size} is not the leaf of record #{size}"
    if problem is not None:
        raise InvalidInputError(
            f"the Merkle tree is not the tree of the records: {problem} (the tree or "
            "the records were changed outside vendorproof; nothing was recorded; "
            "find where with `vendorproof audit replay --store ...`)",
            file=db.where,
        )


def append_leaf(db: Database, seq: int, digest: str, previous: str | None) -> None:
    """Add the nodes of record ``seq`` (inside the append transaction).

    The tree must hold exactly the records before it, its last leaf being the one
    of ``previous`` (the head record's digest): new nodes are hashed from stored
    ones, so a tree rewritten or cut beside the records would otherwise grow on.

    Raises:
        OutputError: a node the new ones are hashed from is missing.
        InvalidInputError: the stored tree is not the tree of the records before
            ``seq``.
    """
    index = seq - 1
    check_head(db, index, previous)
    keys = tlog.left_sibling_keys(index)
    if index > 0:
        keys.append((0, index - 1))  # the tree reaches the previous record
    try:
        siblings = _fetch(db, keys)
    except InvalidInputError as exc:
        msg = (
            f"{db.where}: cannot extend the Merkle tree to record {seq}: {exc.message}"
        )
        raise OutputError(msg) from exc
    rows = tlog.new_nodes(index, tlog.record_leaf(digest), siblings)
    values = ", ".join("(?, ?, ?)" for _ in rows)
    db.rows(
        f"INSERT INTO tlog_nodes (level, idx, hash) VALUES {values}",  # noqa: S608 (placeholders only)
        [v for row in rows for v in row],
    )


def backfill(db: Database) -> None:
    """Build the tree of the records already stored (the migration to version 5)."""
    edge: list[bytes] = []  # the right edge's perfect subtrees, largest first
    after = 0
    pending: list[tuple[int, int, bytes]] = []
    while True:
        rows = db.rows(
            "SELECT seq, digest FROM records WHERE seq > ? ORDER BY seq LIMIT 1000",
            (after,),
        )
        for seq, digest in rows:
            index = int(seq) - 1
            siblings = {}
            level, at = 0, index
            while at & 1:
                siblings[(level, at - 1)] = edge.pop()
                level += 1
                at >>= 1
            made = tlog.new_nodes(index, tlog.record_leaf(str(digest)), siblings)
            edge.append(made[-1][2])
            pending.extend(made)
            after = int(seq)
        for i in range(0, len(pending), _BATCH):
            part = pending[i : i + _BATCH]
            values = ", ".join("(?, ?, ?)" for _ in part)
            db.rows(
                f"INSERT INTO tlog_nodes (level, idx, hash) VALUES {values}",  # noqa: S608 (placeholders only)
                [v for row in part for v in row],
            )
        pending = []
        if len(rows) < 1000:
            return


def origin(db: Database) -> str:
    """The log's origin line (generated when the store got its tree)."""
    rows = db.rows("SELECT origin FROM tlog_log")
    if len(rows) != 1:
        raise InvalidInputError(
            f"the evidence store names {len(rows)} log origins, not one", file=db.where
        )
    return str(rows[0][0])


def store_checkpoint(db: Database, size: int, note: bytes) -> None:
    """Keep a signed checkpoint (append-only, like everything else)."""
    db.rows(
        "INSERT INTO tlog_checkpoints (size, n, note) "
        "SELECT ?, count(*), ? FROM tlog_checkpoints WHERE size = ?",
        (size, note, size),
    )


def checkpoints(db: Database, *, size: int | None = None) -> list[bytes]:
    """Stored checkpoint notes, newest first (all sizes, largest first, or ``size``)."""
    if size is None:
        rows = db.rows(
            "SELECT note FROM tlog_checkpoints ORDER BY size DESC, n DESC LIMIT 16"
        )
    else:
        rows = db.rows(
            "SELECT note FROM tlog_checkpoints WHERE size = ? ORDER BY n DESC LIMIT 16",
            (size,),
        )
    return [bytes(r[0]) for r in rows]
