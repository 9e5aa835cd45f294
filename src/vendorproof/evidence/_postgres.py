"""The PostgreSQL connection behind a shared evidence store (``psycopg`` 3).

This module is imported only when a ``postgresql://`` URL is opened, so the embedded
SQLite store does not need psycopg.

The connection runs in autocommit mode (reads do not leave a transaction open) and
every write is one explicit READ COMMITTED transaction that first takes the
transaction-scoped advisory lock :data:`CHAIN_LOCK` with ``pg_advisory_xact_lock``.
All writers of a database queue on that lock, and because each statement of a READ
COMMITTED transaction reads the newest committed data, the head read after the lock
is the real head. The lock is released by COMMIT or ROLLBACK, and by the server when
the client dies (the session ends). Waiting gives up after :data:`LOCK_TIMEOUT`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg

from vendorproof.errors import InvalidInputError
from vendorproof.evidence._migrations import one_line

__all__ = ["CHAIN_LOCK", "LOCK_TIMEOUT", "PostgresDatabase", "connect", "redact"]

#: The advisory lock key that serialises the writers of one database (a constant:
#: the first eight bytes of sha256("vendorproof evidence chain") as a signed int64).
CHAIN_LOCK = -6_325_151_083_799_997_727

#: How long a writer waits for another writer's transaction (a PostgreSQL interval).
LOCK_TIMEOUT = "60s"


def redact(url: str) -> str:
    """``url`` without a password (in the user info or a ``password`` parameter)."""
    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        user = parts.username
    except ValueError:
        return "postgresql://(unparsable URL)"
    netloc = f"{user}@{host}" if user else host
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "password"])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


class PostgresDatabase:
    """One ``psycopg`` connection, adapted to :class:`~._migrations.Database`."""

    dialect = "postgresql"
    error: type[Exception] = psycopg.Error
    integrity_error: type[Exception] = psycopg.IntegrityError

    def __init__(self, conn: psycopg.Connection[tuple[Any, ...]], url: str) -> None:
        self._conn = conn
        self.url = url
        self.where = url
        self._sql: dict[str, str] = {}

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run one statement (``?`` placeholders) and return its rows."""
        query = self._sql.get(sql)
        if query is None:
            query = self._sql[sql] = sql.replace("?", "%s")
        cur = self._conn.execute(query, params)
        return cur.fetchall() if cur.description is not None else []

    def script(self, sql: str) -> None:
        """Run one DDL statement as it is."""
        self._conn.execute(sql)

    @contextmanager
    def write_transaction(self) -> Iterator[None]:
        """A transaction holding the advisory chain lock."""
        with self._conn.transaction():
            self._conn.execute(
                f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'; "
                f"SELECT pg_advisory_xact_lock({CHAIN_LOCK})"
            )
            yield

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


def connect(url: str) -> PostgresDatabase:
    """Connect to the PostgreSQL database at ``url``.

    Raises:
        InvalidInputError: the server cannot be reached or refuses the connection
            (the message never contains the password).
    """
    where = redact(url)
    try:
        conn = psycopg.connect(url, autocommit=True)
    except psycopg.Error as exc:
        raise InvalidInputError(
            f"cannot connect to the evidence store: {one_line(exc)}", file=where
        ) from exc
    # Under REPEATABLE READ or SERIALIZABLE (a server or role default) the snapshot
    # would be taken by the statement that waits for the lock, before the previous
    # writer committed; READ COMMITTED reads the head after the lock is ours.
    conn.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
    return PostgresDatabase(conn, where)
