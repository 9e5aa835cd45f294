"""The SQLite connection behind an embedded evidence store (stdlib ``sqlite3``).

The connection runs in autocommit mode and opens its write transactions itself with
``BEGIN IMMEDIATE``: the write lock is taken *before* the chain head is read, so two
processes can never build on the same head, and a waiting writer never holds a stale
snapshot (which SQLite would refuse with ``SQLITE_BUSY_SNAPSHOT`` without waiting).
Waiting for the lock uses SQLite's busy handler for up to :data:`BUSY_TIMEOUT` seconds.

The journal is in WAL mode, so readers never block the writer nor the writer readers,
and ``synchronous=FULL`` makes every commit durable (fsync of the WAL) before
``append`` returns. A process killed during a transaction leaves uncommitted frames in
the WAL that the next connection ignores: the record is not there at all.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from vendorproof.errors import InvalidInputError
from vendorproof.evidence._migrations import one_line

__all__ = ["BUSY_TIMEOUT", "SqliteDatabase", "connect"]

#: Seconds a writer waits for another writer's transaction before it gives up.
BUSY_TIMEOUT = 60.0


class SqliteDatabase:
    """One ``sqlite3`` connection, adapted to :class:`~._migrations.Database`."""

    dialect = "sqlite"
    error: type[Exception] = sqlite3.Error
    integrity_error: type[Exception] = sqlite3.IntegrityError

    def __init__(self, conn: sqlite3.Connection, path: Path, where: str) -> None:
        self._conn = conn
        self.url = f"sqlite://{path}"
        self.where = where

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and return its rows."""
        return self._conn.execute(sql, params).fetchall()

    def script(self, sql: str) -> None:
        """Run one DDL statement."""
        self._conn.execute(sql)

    @contextmanager
    def write_transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; ``ROLLBACK`` on any exception."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                # A failed rollback must not hide the error that caused it; SQLite
                # rolls the transaction back when the connection closes anyway.
                with suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


def _wal(conn: sqlite3.Connection) -> str:
    """Switch to (or confirm) the WAL journal; return the journal mode in force.

    The mode is persistent in the file, so this switches only the first time. The
    switch needs exclusive access, and SQLite answers "database is locked" at once,
    without the busy handler, when processes open a new store together: retry.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            return str(mode).lower()
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def connect(path: Path, where: str) -> SqliteDatabase:
    """Open (creating if needed) the SQLite database at ``path``.

    Raises:
        InvalidInputError: the file cannot be opened, is not a SQLite database, or
            its file system cannot hold a WAL journal.
    """
    try:
        conn = sqlite3.connect(
            path.absolute(), timeout=BUSY_TIMEOUT, isolation_level=None
        )
    except sqlite3.Error as exc:
        raise InvalidInputError(
            f"cannot open the evidence store: {one_line(exc)}", file=where
        ) from exc
    try:
        mode = _wal(conn)
        if mode != "wal":
            raise InvalidInputError(
                f"cannot use a WAL journal (journal mode stays {mode!r}); put the "
                "store on a local file system",
                file=where,
            )
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as exc:
        conn.close()
        raise InvalidInputError(
            f"cannot open the evidence store: {one_line(exc)}", file=where
        ) from exc
    except BaseException:
        conn.close()
        raise
    return SqliteDatabase(conn, path.absolute(), where)
