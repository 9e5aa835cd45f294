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

import os
import secrets
import sqlite3
import time
import urllib.parse
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

    @property
    def broken(self) -> bool:
        """Never: an embedded database has no connection to lose."""
        return False

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


_HAS_TABLES = "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
_HAS_VERSION_TABLE = (
    "SELECT count(*) FROM sqlite_master "
    "WHERE type = 'table' AND name = 'schema_version'"
)


def _check_file(path: Path, where: str, *, read_only: bool) -> None:
    """Refuse a location that is not an evidence store file before opening it.

    A missing file is an error for a read-only open (nothing is created). A file of
    zero bytes is refused in both modes: it is what a truncated store looks like, and
    starting a new chain in it would silently lose the evidence it held.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        if read_only:
            raise InvalidInputError(
                "no evidence store here (read-only commands never create one)",
                file=where,
            ) from None
        return
    except OSError as exc:
        raise InvalidInputError(
            f"cannot open the evidence store: {exc.strerror}", file=where
        ) from exc
    if size == 0 and path.is_file():
        raise InvalidInputError(
            "the evidence store file is empty (0 bytes): a truncated store? refusing "
            "to start a new chain in it (delete the file to create a new store)",
            file=where,
        )


def _check_foreign(conn: sqlite3.Connection, where: str) -> None:
    """Refuse a SQLite database of another application, before anything is written.

    Reading the schema writes nothing: the journal mode is switched to WAL only after
    this check, so a foreign file is left exactly as it was.
    """
    tables = int(conn.execute(_HAS_TABLES).fetchone()[0])
    if tables and not int(conn.execute(_HAS_VERSION_TABLE).fetchone()[0]):
        raise InvalidInputError(
            "not a vendorproof evidence store (it has tables but no schema_version "
            "table); nothing was written to it",
            file=where,
        )


def _create(path: Path, where: str) -> None:
    """Create a new, empty SQLite database at ``path`` atomically.

    The database (its header, in WAL mode) is written to a temporary file beside
    ``path`` and hard-linked into place (``link`` fails if ``path`` exists, so
    processes creating the same store at once never overwrite each other's). A store
    file is therefore never seen with zero bytes while it is being created: an empty
    file at ``path`` can only be a truncated store. The schema is created next, by
    the migrations, as for any store behind the current version.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.new")
    try:
        try:
            conn = sqlite3.connect(tmp, timeout=BUSY_TIMEOUT, isolation_level=None)
        except sqlite3.Error as exc:
            raise InvalidInputError(
                f"cannot open the evidence store (creating it): {one_line(exc)}",
                file=where,
            ) from exc
        try:
            _wal(conn)
        except sqlite3.Error as exc:
            raise InvalidInputError(
                f"cannot open the evidence store (creating it): {one_line(exc)}",
                file=where,
            ) from exc
        finally:
            conn.close()
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process created it first: use that one
        except OSError as exc:
            raise InvalidInputError(
                f"cannot open the evidence store (creating it): {exc.strerror}",
                file=where,
            ) from exc
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            with suppress(FileNotFoundError):
                leftover.unlink()


def connect(path: Path, where: str, *, read_only: bool = False) -> SqliteDatabase:
    """Open the SQLite database at ``path`` (created if missing, unless ``read_only``).

    ``read_only`` opens the file with ``mode=ro``: a missing file is an error, and
    nothing is written (SQLite may create the ``-wal``/``-shm`` companions of a WAL
    database for any reader, never the database itself).

    Raises:
        InvalidInputError: the file cannot be opened, is empty, is not a SQLite
            database or not an evidence store, or its file system cannot hold a WAL
            journal.
    """
    _check_file(path, where, read_only=read_only)
    target = path.absolute()
    if not read_only and not os.path.lexists(target):
        _create(target, where)
    try:
        if read_only:
            uri = "file:" + urllib.parse.quote(str(target)) + "?mode=ro"
            conn = sqlite3.connect(
                uri, timeout=BUSY_TIMEOUT, isolation_level=None, uri=True
            )
        else:
            conn = sqlite3.connect(target, timeout=BUSY_TIMEOUT, isolation_level=None)
    except sqlite3.Error as exc:
        raise InvalidInputError(
            f"cannot open the evidence store: {one_line(exc)}", file=where
        ) from exc
    try:
        _check_foreign(conn, where)
        if read_only:
            conn.execute("PRAGMA query_only = ON")
        else:
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
    return SqliteDatabase(conn, target, where)
