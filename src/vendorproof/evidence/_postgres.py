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

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg

from vendorproof.errors import InvalidInputError
from vendorproof.evidence._migrations import one_line

__all__ = [
    "CHAIN_LOCK",
    "CONNECT_TIMEOUT",
    "LOCK_TIMEOUT",
    "PostgresDatabase",
    "connect",
    "redact",
]

#: The advisory lock key that serialises the writers of one database (a constant:
#: the first eight bytes of sha256("vendorproof evidence chain") as a signed int64).
CHAIN_LOCK = -6_325_151_083_799_997_727

#: Seconds to wait for a connection (libpq's ``connect_timeout``) when neither the URL
#: nor ``$PGCONNECT_TIMEOUT`` sets one; ``connect_timeout=0`` in the URL waits forever.
CONNECT_TIMEOUT = 10

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

    @property
    def broken(self) -> bool:
        """Whether the server closed the connection or the network failed."""
        return bool(self._conn.broken or self._conn.closed)

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


def _has_connect_timeout(url: str) -> bool:
    """Whether ``url`` (or ``$PGCONNECT_TIMEOUT``) already sets a connect timeout."""
    if os.environ.get("PGCONNECT_TIMEOUT"):
        return True
    try:
        query = urlsplit(url).query
    except ValueError:
        return False
    return any(k == "connect_timeout" for k, _ in parse_qsl(query))


def connect(url: str, *, read_only: bool = False) -> PostgresDatabase:
    """Connect to the PostgreSQL database at ``url``.

    Unless the URL (``?connect_timeout=N``) or ``$PGCONNECT_TIMEOUT`` says otherwise,
    giving up takes :data:`CONNECT_TIMEOUT` seconds: a server (or a firewall, or any
    listener) that accepts the connection and never answers must not hang intake.
    ``read_only`` makes every transaction of the session read-only.

    Raises:
        InvalidInputError: the server cannot be reached, does not answer in time or
            refuses the connection (the message never contains the password).
    """
    where = redact(url)
    extra: dict[str, Any] = {}
    if not _has_connect_timeout(url):
        extra["connect_timeout"] = CONNECT_TIMEOUT
    try:
        conn = psycopg.connect(url, autocommit=True, **extra)
    except psycopg.Error as exc:
        raise InvalidInputError(
            f"cannot connect to the evidence store: {one_line(exc)}", file=where
        ) from exc
    # Under REPEATABLE READ or SERIALIZABLE (a server or role default) the snapshot
    # would be taken by the statement that waits for the lock, before the previous
    # writer committed; READ COMMITTED reads the head after the lock is ours.
    conn.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
    if read_only:
        try:
            conn.execute("SET default_transaction_read_only = on")
        except psycopg.Error as exc:
            conn.close()
            raise InvalidInputError(
                f"cannot read the evidence store: {one_line(exc)}", file=where
            ) from exc
    return PostgresDatabase(conn, where)
