"""The evidence store schema: one migration history for SQLite and PostgreSQL.

Every migration has a version (1, 2, ...), a description and the statements that apply
it, written once per dialect. ``schema_version`` is a *history*: applying a migration
inserts one row (version, description, applied_at) and never updates one, so the table
is append-only like the evidence itself, and the version of a store is the highest row.

Rules for new migrations: they only add (tables, columns, indexes, triggers). Evidence
rows are never rewritten: the append-only triggers refuse UPDATE and DELETE, and the
records are signed and hash-chained, so a rewritten record would not replay anyway.

:func:`migrate` runs the pending migrations, each in its own transaction that holds the
same lock as ``append`` (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: the advisory lock),
and re-reads the version under that lock, so processes that open a store at the same
time apply each migration exactly once. A store at the current version is opened
without writing anything, so a role with only SELECT and INSERT rights can open it.
"""

# The f-strings below splice module constants into constant SQL; nothing comes from
# input, so the SQL injection rule does not apply to this module.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from vendorproof.errors import InvalidInputError
from vendorproof.evidence._dberror import one_line

__all__ = ["LATEST", "MIGRATIONS", "Database", "Migration", "migrate", "one_line"]


class Database(Protocol):
    """A connection to one store, adapted to the dialect (``_sqlite``, ``_postgres``).

    Statements use ``?`` placeholders; the adapter translates them for its driver.
    """

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        ...

    @property
    def url(self) -> str:
        """The canonical URL of the store, without any password."""
        ...

    @property
    def where(self) -> str:
        """How error messages name the store (the path, or the URL)."""
        ...

    @property
    def error(self) -> type[Exception]:
        """The driver's base exception class."""
        ...

    @property
    def integrity_error(self) -> type[Exception]:
        """The driver's exception for a refused write (constraint, trigger)."""
        ...

    @property
    def broken(self) -> bool:
        """Whether the connection was lost (closed by the server, network failure)."""
        ...

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and return its rows (none for a write)."""
        ...

    def script(self, sql: str) -> None:
        """Run one DDL statement as it is (no parameters, no placeholder rewriting)."""
        ...

    def write_transaction(self) -> AbstractContextManager[None]:
        """A transaction holding the chain lock: commit on exit, rollback on error."""
        ...

    def close(self) -> None:
        """Close the connection (idempotent)."""
        ...


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of the schema history."""

    version: int
    description: str
    sqlite: tuple[str, ...]
    postgresql: tuple[str, ...]
    #: Runs after the statements, in the same transaction (e.g. to fill a new table
    #: from the rows already stored).
    after: Callable[[Database], None] | None = None

    def statements(self, dialect: str) -> tuple[str, ...]:
        """The statements for ``dialect``."""
        return self.sqlite if dialect == "sqlite" else self.postgresql


_HEX64_SQLITE = "length({c}) = 64 AND {c} NOT GLOB '*[^0-9a-f]*'"
_HEX64_PG = "{c} ~ '^[0-9a-f]{{64}}$'"

_APPEND_ONLY = "vendorproof evidence is append-only"
_NOT_HEAD = (
    "vendorproof evidence is a chain: a record must follow the head "
    "(seq = head seq + 1, prev_digest = head digest) with a new id and digest"
)
_INPUTS_WITH_RECORD = (
    f"{_APPEND_ONLY}: the inputs of a record are inserted with it, once"
)


def _sqlite_refuse(table: str) -> tuple[str, ...]:
    """Row triggers refusing UPDATE and DELETE on ``table`` (SQLite)."""
    return tuple(
        f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}: {op} on {table} refused'); END"
        for op in ("UPDATE", "DELETE")
    )


def _pg_refuse(table: str) -> str:
    """A statement trigger refusing UPDATE, DELETE and TRUNCATE on ``table``."""
    return (
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
        f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION vendorproof_refuse_change()"
    )


# SQLite has no statement that rewrites a row without firing UPDATE or DELETE
# triggers, except one: INSERT OR REPLACE (and REPLACE) deletes the conflicting row
# silently unless PRAGMA recursive_triggers is on in the writing connection. The
# BEFORE INSERT triggers below therefore refuse any insert that would conflict with an
# existing row, and inserts that do not extend the chain head.
_SQLITE_V1 = (
    f"""
    CREATE TABLE records (
        seq INTEGER PRIMARY KEY CHECK (seq >= 1),
        record_id TEXT NOT NULL UNIQUE CHECK (record_id <> ''),
        digest TEXT NOT NULL UNIQUE CHECK ({_HEX64_SQLITE.format(c="digest")}),
        prev_digest TEXT UNIQUE REFERENCES records (digest),
        created_at TEXT NOT NULL,
        vendor TEXT NOT NULL,
        product TEXT NOT NULL,
        version TEXT NOT NULL,
        security_version INTEGER NOT NULL,
        verdict TEXT NOT NULL CHECK (verdict IN ('PASSED', 'FAILED')),
        envelope BLOB NOT NULL,
        CHECK ((seq = 1) = (prev_digest IS NULL))
    ) STRICT
    """,
    f"""
    CREATE TABLE blobs (
        digest TEXT PRIMARY KEY CHECK ({_HEX64_SQLITE.format(c="digest")}),
        content BLOB NOT NULL
    ) STRICT
    """,
    f"""
    CREATE TRIGGER records_extend_head BEFORE INSERT ON records
    WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM records)
      OR NEW.prev_digest IS NOT (SELECT digest FROM records ORDER BY seq DESC LIMIT 1)
      OR EXISTS (
        SELECT 1 FROM records WHERE record_id = NEW.record_id OR digest = NEW.digest
      )
    BEGIN SELECT RAISE(ABORT, '{_NOT_HEAD}'); END
    """,
    f"""
    CREATE TRIGGER blobs_no_replace BEFORE INSERT ON blobs
    WHEN EXISTS (SELECT 1 FROM blobs WHERE digest = NEW.digest)
    BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}: blob already stored'); END
    """,
    *_sqlite_refuse("records"),
    *_sqlite_refuse("blobs"),
    *_sqlite_refuse("schema_version"),
)

_PG_V1 = (
    f"""
    CREATE TABLE records (
        seq bigint PRIMARY KEY CHECK (seq >= 1),
        record_id text NOT NULL UNIQUE CHECK (record_id <> ''),
        digest text NOT NULL UNIQUE CHECK ({_HEX64_PG.format(c="digest")}),
        prev_digest text UNIQUE REFERENCES records (digest),
        created_at text COLLATE "C" NOT NULL,
        vendor text NOT NULL,
        product text NOT NULL,
        version text NOT NULL,
        security_version bigint NOT NULL,
        verdict text NOT NULL CHECK (verdict IN ('PASSED', 'FAILED')),
        envelope bytea NOT NULL,
        CHECK ((seq = 1) = (prev_digest IS NULL))
    )
    """,
    f"""
    CREATE TABLE blobs (
        digest text PRIMARY KEY CHECK ({_HEX64_PG.format(c="digest")}),
        content bytea NOT NULL
    )
    """,
    f"""
    CREATE FUNCTION vendorproof_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{_APPEND_ONLY}: % on % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    f"""
    CREATE FUNCTION vendorproof_extend_head() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        head_seq bigint;
        head_digest text;
    BEGIN
        SELECT r.seq, r.digest INTO head_seq, head_digest
            FROM records r ORDER BY r.seq DESC LIMIT 1;
        IF NEW.seq IS DISTINCT FROM coalesce(head_seq, 0) + 1
           OR NEW.prev_digest IS DISTINCT FROM head_digest THEN
            RAISE EXCEPTION '{_NOT_HEAD} (record %, head %)', NEW.seq,
                coalesce(head_seq, 0) USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    (
        "CREATE TRIGGER records_extend_head BEFORE INSERT ON records "
        "FOR EACH ROW EXECUTE FUNCTION vendorproof_extend_head()"
    ),
    _pg_refuse("records"),
    _pg_refuse("blobs"),
    _pg_refuse("schema_version"),
)

_SQLITE_V2 = (
    f"""
    CREATE TABLE record_inputs (
        seq INTEGER NOT NULL REFERENCES records (seq),
        name TEXT NOT NULL,
        digest TEXT NOT NULL CHECK ({_HEX64_SQLITE.format(c="digest")}),
        PRIMARY KEY (seq, name)
    ) STRICT
    """,
    f"""
    CREATE TRIGGER record_inputs_of_head BEFORE INSERT ON record_inputs
    WHEN NEW.seq IS NOT (SELECT max(seq) FROM records)
      OR EXISTS (SELECT 1 FROM record_inputs WHERE seq = NEW.seq AND name = NEW.name)
    BEGIN SELECT RAISE(ABORT, '{_INPUTS_WITH_RECORD}'); END
    """,
    *_sqlite_refuse("record_inputs"),
    "CREATE INDEX records_vendor_product ON records (vendor, product)",
    "CREATE INDEX records_created_at ON records (created_at)",
    "CREATE INDEX records_verdict ON records (verdict)",
)

_PG_V2 = (
    f"""
    CREATE TABLE record_inputs (
        seq bigint NOT NULL REFERENCES records (seq),
        name text NOT NULL,
        digest text NOT NULL CHECK ({_HEX64_PG.format(c="digest")}),
        PRIMARY KEY (seq, name)
    )
    """,
    f"""
    CREATE FUNCTION vendorproof_inputs_of_head() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.seq IS DISTINCT FROM (SELECT max(r.seq) FROM records r) THEN
            RAISE EXCEPTION '{_INPUTS_WITH_RECORD} (record %)', NEW.seq
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    (
        "CREATE TRIGGER record_inputs_of_head BEFORE INSERT ON record_inputs "
        "FOR EACH ROW EXECUTE FUNCTION vendorproof_inputs_of_head()"
    ),
    _pg_refuse("record_inputs"),
    "CREATE INDEX records_vendor_product ON records (vendor, product)",
    "CREATE INDEX records_created_at ON records (created_at)",
    "CREATE INDEX records_verdict ON records (verdict)",
)

# Rollback protection asks, under the chain lock, for the highest securityVersion
# accepted for a vendor and product: one index lookup instead of a scan of the
# product's records.
_V3 = (
    (
        "CREATE INDEX records_rollback ON records "
        "(vendor, product, verdict, security_version)"
    ),
)

# The rollback floor's candidates of one securityVersion, in seq order (many records
# share a securityVersion; without seq in the index they would be sorted each time).
_ROLLBACK_SEQ = (
    "CREATE INDEX records_rollback_seq ON records "
    "(vendor, product, verdict, security_version, seq)"
)

# Idempotent intake: the key a retried intake looks its earlier record up by (the
# signed record carries the same key; the column only finds the candidates).
_SQLITE_V4 = (
    (
        "ALTER TABLE records ADD COLUMN intake_key TEXT "
        "CHECK (intake_key IS NULL OR intake_key <> '')"
    ),
    "CREATE INDEX records_intake_key ON records (intake_key)",
    _ROLLBACK_SEQ,
)
_PG_V4 = (
    (
        "ALTER TABLE records ADD COLUMN intake_key text "
        "CHECK (intake_key IS NULL OR intake_key <> '')"
    ),
    "CREATE INDEX records_intake_key ON records (intake_key)",
    _ROLLBACK_SEQ,
)

# The Merkle tree over the records (docs/evidence-store.md, "Merkle tree and
# checkpoints"): every perfect subtree hash, the log's origin, the signed checkpoints.
# A node may only cover stored records; nothing is ever rewritten.
_TLOG_NODES_ONLY = (
    f"{_APPEND_ONLY}: a Merkle tree node covers stored records only and is "
    "inserted once"
)
_SQLITE_V5 = (
    """
    CREATE TABLE tlog_nodes (
        level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 62),
        idx INTEGER NOT NULL CHECK (idx >= 0),
        hash BLOB NOT NULL CHECK (length(hash) = 32),
        PRIMARY KEY (level, idx)
    ) STRICT, WITHOUT ROWID
    """,
    f"""
    CREATE TRIGGER tlog_nodes_of_records BEFORE INSERT ON tlog_nodes
    WHEN ((NEW.idx + 1) << NEW.level) > (SELECT coalesce(max(seq), 0) FROM records)
      OR EXISTS (SELECT 1 FROM tlog_nodes WHERE level = NEW.level AND idx = NEW.idx)
    BEGIN SELECT RAISE(ABORT, '{_TLOG_NODES_ONLY}'); END
    """,
    """
    CREATE TABLE tlog_log (
        origin TEXT NOT NULL CHECK (origin <> '' AND origin NOT GLOB '*[ +]*')
    ) STRICT
    """,
    (
        "INSERT INTO tlog_log (origin) VALUES "
        "('vendorproof.evidence/' || lower(hex(randomblob(16))))"
    ),
    f"""
    CREATE TRIGGER tlog_log_once BEFORE INSERT ON tlog_log
    WHEN EXISTS (SELECT 1 FROM tlog_log)
    BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}: the log origin is set once'); END
    """,
    # Keyed by (size, n), n counting the checkpoints of one size: one B-tree, so a
    # checkpoint per append adds as few pages to each commit as possible.
    """
    CREATE TABLE tlog_checkpoints (
        size INTEGER NOT NULL CHECK (size >= 0),
        n INTEGER NOT NULL CHECK (n >= 0),
        note BLOB NOT NULL,
        PRIMARY KEY (size, n)
    ) STRICT, WITHOUT ROWID
    """,
    f"""
    CREATE TRIGGER tlog_checkpoints_no_replace BEFORE INSERT ON tlog_checkpoints
    WHEN EXISTS (
        SELECT 1 FROM tlog_checkpoints WHERE size = NEW.size AND n = NEW.n
    )
    BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}: checkpoint already stored'); END
    """,
    *_sqlite_refuse("tlog_nodes"),
    *_sqlite_refuse("tlog_log"),
    *_sqlite_refuse("tlog_checkpoints"),
)
_PG_V5 = (
    """
    CREATE TABLE tlog_nodes (
        level integer NOT NULL CHECK (level BETWEEN 0 AND 62),
        idx bigint NOT NULL CHECK (idx >= 0),
        hash bytea NOT NULL CHECK (length(hash) = 32),
        PRIMARY KEY (level, idx)
    )
    """,
    f"""
    CREATE FUNCTION vendorproof_tlog_nodes_of_records() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF ((NEW.idx + 1) << NEW.level) >
           (SELECT coalesce(max(r.seq), 0) FROM records r) THEN
            RAISE EXCEPTION '{_TLOG_NODES_ONLY} (level %, index %)', NEW.level,
                NEW.idx USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    (
        "CREATE TRIGGER tlog_nodes_of_records BEFORE INSERT ON tlog_nodes "
        "FOR EACH ROW EXECUTE FUNCTION vendorproof_tlog_nodes_of_records()"
    ),
    """
    CREATE TABLE tlog_log (
        one boolean PRIMARY KEY DEFAULT true CHECK (one),
        origin text NOT NULL CHECK (origin <> '' AND origin !~ '[ +]')
    )
    """,
    (
        "INSERT INTO tlog_log (origin) VALUES ('vendorproof.evidence/' || "
        "md5(random()::text || clock_timestamp()::text || pg_backend_pid()::text))"
    ),
    """
    CREATE TABLE tlog_checkpoints (
        size bigint NOT NULL CHECK (size >= 0),
        n integer NOT NULL CHECK (n >= 0),
        note bytea NOT NULL,
        PRIMARY KEY (size, n)
    )
    """,
    _pg_refuse("tlog_nodes"),
    _pg_refuse("tlog_log"),
    _pg_refuse("tlog_checkpoints"),
)


def _backfill_tree(db: Database) -> None:
    from vendorproof.evidence._tlogdb import backfill

    backfill(db)


#: The schema history, in order; ``MIGRATIONS[n - 1].version == n``.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "records and blobs, append-only", _SQLITE_V1, _PG_V1),
    Migration(2, "record inputs, listing indexes", _SQLITE_V2, _PG_V2),
    Migration(3, "rollback-protection index", _V3, _V3),
    Migration(
        4, "intake key (idempotent intake), rollback candidates", _SQLITE_V4, _PG_V4
    ),
    Migration(
        5,
        "Merkle tree over the records, log origin, signed checkpoints",
        _SQLITE_V5,
        _PG_V5,
        _backfill_tree,
    ),
)

#: The schema version this code creates and understands.
LATEST = MIGRATIONS[-1].version

_BOOTSTRAP = {
    "sqlite": """
        CREATE TABLE IF NOT EXISTS schema_version (
            version INTEGER PRIMARY KEY,
            description TEXT NOT NULL,
            applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        ) STRICT
    """,
    "postgresql": """
        CREATE TABLE IF NOT EXISTS schema_version (
            version integer PRIMARY KEY,
            description text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
    """,
}

_HAS_VERSION_TABLE = {
    "sqlite": "SELECT count(*) FROM sqlite_master "
    "WHERE type = 'table' AND name = 'schema_version'",
    # Not to_regclass(): it answers from the backend's catalog cache, which can still
    # hold "no such table" after another session created it while this one waited for
    # the advisory lock (an advisory lock does not process catalog invalidations).
    "postgresql": "SELECT count(*) FROM pg_catalog.pg_tables "
    "WHERE schemaname = current_schema() AND tablename = 'schema_version'",
}

_HAS_TABLES = {
    "sqlite": "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
    "postgresql": "SELECT count(*) FROM pg_catalog.pg_tables "
    "WHERE schemaname = current_schema()",
}


def current_version(db: Database, *, locked: bool = False) -> int:
    """The schema version of the store behind ``db`` (0 if it has no schema yet).

    Whether a database without ``schema_version`` is empty is decided only when
    ``locked`` (inside :meth:`Database.write_transaction`): without the lock, another
    process may create the schema between the two questions.

    Raises:
        InvalidInputError: the database holds other tables but no ``schema_version``
            (it is not an evidence store), or a newer schema than this code knows.
    """
    if not int(db.rows(_HAS_VERSION_TABLE[db.dialect])[0][0]):
        if locked and int(db.rows(_HAS_TABLES[db.dialect])[0][0]):
            raise InvalidInputError(
                "not a vendorproof evidence store (it has tables but no "
                "schema_version table)",
                file=db.where,
            )
        return 0
    version = int(db.rows("SELECT coalesce(max(version), 0) FROM schema_version")[0][0])
    if version > LATEST:
        raise InvalidInputError(
            f"the evidence store has schema version {version}: it was created by a "
            f"newer vendorproof (this one knows up to version {LATEST}); upgrade "
            "vendorproof to use it",
            file=db.where,
        )
    return version


def migrate(db: Database, target: int | None = None) -> int:
    """Bring the store to schema version ``target`` (default: :data:`LATEST`).

    Returns the version the store is at afterwards (a store already past ``target``
    is left as it is).

    Raises:
        InvalidInputError: the store is newer than this code, is not an evidence store,
            or a migration failed (then the store stays at the previous version).
    """
    goal = LATEST if target is None else target
    if not 0 <= goal <= LATEST:
        msg = f"no schema version {goal} (known: 1..{LATEST})"
        raise ValueError(msg)
    try:
        version = current_version(db)
        while version < goal:
            with db.write_transaction():
                # Another process may have migrated while we waited for the lock.
                version = current_version(db, locked=True)
                if version < goal:
                    step = MIGRATIONS[version]
                    if version == 0:
                        db.script(_BOOTSTRAP[db.dialect])
                    for statement in step.statements(db.dialect):
                        db.script(statement)
                    if step.after is not None:
                        step.after(db)
                    db.rows(
                        "INSERT INTO schema_version (version, description) "
                        "VALUES (?, ?)",
                        (step.version, step.description),
                    )
                    version = step.version
    except db.error as exc:
        raise InvalidInputError(
            f"cannot bring the evidence store to schema version {goal}: "
            f"{one_line(exc)}",
            file=db.where,
        ) from exc
    return version
