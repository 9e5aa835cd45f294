"""The evidence store: an append-only, hash-chained sequence of signed records.

Two backends share one schema and one migration history: SQLite (the embedded default,
``./vendorproof-evidence.db``) and PostgreSQL (``postgresql://...``) for operators with
several intake sites. The database itself refuses UPDATE and DELETE (triggers; for
PostgreSQL also a writer role without those rights, see ``docs/evidence-store.md``).

``append`` is the only write path. It locks the chain head, hands it to a callback that
builds and signs the record (the record contains its sequence number and the digest of
its predecessor, so it must be built under the lock), then inserts the record, its
input rows and its content-addressed blobs in one transaction: a record is either fully
there or not at all, and concurrent writers from several processes produce one linear
chain (no fork, no gap, no duplicate sequence number).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from vendorproof.errors import InvalidInputError, OutputError
from vendorproof.evidence import _sqlite, _tlogdb, tlog
from vendorproof.evidence._migrations import (
    LATEST,
    Database,
    current_version,
    migrate,
    one_line,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from vendorproof.evidence.checkpoint import Checkpoint

__all__ = [
    "DEFAULT_STORE",
    "ChainHead",
    "EvidenceStore",
    "PreparedRecord",
    "RecordFilter",
    "StoredRecord",
    "open_read_only",
    "open_store",
]

#: The embedded store used when no ``--store`` is given.
DEFAULT_STORE = "vendorproof-evidence.db"


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredRecord:
    """One stored record and the columns indexed for listing.

    ``digest`` is the lowercase hex sha256 of ``envelope`` (the DSSE envelope JSON
    bytes exactly as stored); ``prev_digest`` is the digest of record ``seq - 1``
    (None for 1).
    """

    seq: int
    record_id: str
    digest: str
    prev_digest: str | None
    created_at: str  # RFC 3339 UTC
    vendor: str
    product: str
    version: str
    security_version: int
    verdict: str  # "PASSED" / "FAILED"
    envelope: bytes = field(repr=False)
    #: The idempotency key of the intake that wrote the record (None: none given).
    intake_key: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedRecord:
    """What the append callback returns: the signed record and its index columns."""

    record_id: str
    created_at: str
    vendor: str
    product: str
    version: str
    security_version: int
    verdict: str
    envelope: bytes = field(repr=False)
    #: input name (e.g. ``attestations/manifest.sigstore.json``, ``policy``) -> sha256
    inputs: Mapping[str, str] = field(default_factory=dict)
    #: The intake's idempotency key (indexed; the signed record must carry it too).
    intake_key: str | None = None


class ChainHead(Protocol):
    """The locked state of the chain, seen by the append callback."""

    @property
    def seq(self) -> int:
        """Sequence number of the last record (0 for an empty store)."""
        ...

    @property
    def digest(self) -> str | None:
        """Digest of the last record (None for an empty store)."""
        ...

    def max_accepted_security_version(self, vendor: str, product: str) -> int | None:
        """Highest securityVersion among PASSED records of vendor/product, if any.

        This is the unsigned index column: whoever may insert a row can raise it.
        Decisions use :meth:`accepted` and verify the records it yields.
        """
        ...

    def record(self) -> StoredRecord | None:
        """The head record itself (None for an empty store), as stored (unverified)."""
        ...

    def accepted(self, vendor: str, product: str) -> Iterator[StoredRecord]:
        """PASSED records of vendor/product by index securityVersion, highest first.

        The index columns are not signed: verify each record before using it.
        """
        ...

    def with_intake_key(self, key: str, since: str | None) -> Iterator[StoredRecord]:
        """Records whose intake key column is ``key``, newest first (at most 16).

        With ``since`` (RFC 3339) only those created at or after it. The column is
        not signed: verify each record before using it.
        """
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordFilter:
    """Filters for listing records (all optional, combined with AND)."""

    first: int | None = None  # seq >= first
    last: int | None = None  # seq <= last
    vendor: str | None = None
    product: str | None = None
    verdict: str | None = None
    since: str | None = None  # created_at >= since (RFC 3339; compared as instants)
    until: str | None = None  # created_at <= until


class EvidenceStore(Protocol):
    """An append-only evidence store (one connection; not thread-safe)."""

    #: Canonical location without any password: ``sqlite:///abs/path`` or
    #: ``postgresql://user@host:port/db``.
    url: str

    def append(
        self,
        build: Callable[[ChainHead], PreparedRecord],
        blobs: Mapping[str, bytes],
        *,
        checkpoint_key: Ed25519PrivateKey | None = None,
    ) -> StoredRecord:
        """Append one record atomically; ``blobs`` maps sha256 hex -> content.

        ``build`` runs inside the transaction, under the chain lock; if anything
        raises, nothing is stored and the exception propagates. With
        ``checkpoint_key`` the checkpoint of the new tree size, signed with it under
        the log's origin, is stored in the same transaction.
        """
        ...

    def records(self, flt: RecordFilter = ...) -> Iterator[StoredRecord]:
        """Records in sequence order (read in pages; signatures are not checked)."""
        ...

    def record(self, seq: int) -> StoredRecord:
        """One record (InvalidInputError if there is none)."""
        ...

    def inputs(self, seq: int) -> Mapping[str, str]:
        """Input name -> sha256 of one record (InvalidInputError: no such record)."""
        ...

    def blob(self, digest: str) -> bytes:
        """A content-addressed blob (InvalidInputError if missing)."""
        ...

    def schema_version(self) -> int:
        """The migration version the store is at."""
        ...

    def last_seq(self) -> int:
        """The highest sequence number stored (0 for an empty store)."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...

    # --- the Merkle tree and checkpoints (docs/evidence-store.md) --------------------

    def tree_size(self) -> int:
        """The number of records the stored Merkle tree covers."""
        ...

    def tree_nodes(self) -> tlog.NodeSource:
        """The stored perfect-subtree hashes (for roots and proofs of any size)."""
        ...

    def log_origin(self) -> str:
        """The origin line of the log's checkpoints."""
        ...

    def checkpoints(self, size: int | None = None) -> list[bytes]:
        """Stored checkpoint notes, newest first (at most 16; all sizes or ``size``)."""
        ...

    def add_checkpoint(self, size: int, note: bytes) -> None:
        """Store one signed checkpoint note (the caller signed it)."""
        ...

    def sign_checkpoint(self, key: Ed25519PrivateKey) -> tuple[int, bytes]:
        """Sign with ``key`` and store the checkpoint of the current tree.

        Refused (nothing stored) unless the records are gapless, the tree holds
        exactly them and it extends the newest checkpoint ``key`` signed.
        """
        ...


def open_store(url: str, *, read_only: bool = False) -> EvidenceStore:
    """Open (creating and migrating as needed) the store at ``url``.

    With ``read_only`` nothing is created, migrated or written: a missing store, an
    empty database or a store at an older schema version is an error (see
    :func:`open_read_only`).

    ``url`` is a path or ``sqlite:///ABSOLUTE/PATH`` for SQLite, ``postgresql://...``
    (or ``postgres://...``, any libpq URL) for PostgreSQL. A store at an older schema
    version is migrated to the current one; a store at the current version is opened
    without writing anything.

    The returned store is not thread-safe: use one per thread. Its ``url`` is the
    canonical URL without any password (``sqlite:///abs/path``, ``postgresql://u@h/db``).

    Raises:
        InvalidInputError: unsupported URL, unreadable or unreachable store, a database
            that is not an evidence store, or one created by a newer vendorproof.
    """
    db = _connect(url, read_only=read_only)
    try:
        if read_only:
            _check_current(db)
        else:
            migrate(db)
    except BaseException:
        db.close()
        raise
    return _Store(db, read_only=read_only)


def open_read_only(url: str) -> EvidenceStore:
    """Open an existing store for reading only (``evidence list``, ``audit replay``).

    Never creates a file or a schema and never migrates: SQLite opens the file with
    ``mode=ro`` and ``query_only``, PostgreSQL sets ``default_transaction_read_only``.
    ``append`` on the returned store raises :class:`OutputError`.

    Raises:
        InvalidInputError: no store at ``url``, a zero-byte file, a database without
            the evidence schema, or a store at another schema version than this code
            (an older one is reported with the way to migrate it).
    """
    return open_store(url, read_only=True)


def _check_current(db: Database) -> None:
    """Refuse to read a store that is not at the current schema version."""
    try:
        version = current_version(db, locked=True)
    except db.error as exc:
        raise InvalidInputError(
            f"cannot read the evidence store: {one_line(exc)}", file=db.where
        ) from exc
    if version == 0:
        raise InvalidInputError(
            "not a vendorproof evidence store (the database has no evidence schema); "
            "read-only commands never create one",
            file=db.where,
        )
    if version < LATEST:
        raise InvalidInputError(
            f"the evidence store is at schema version {version}, this vendorproof "
            f"reads version {LATEST}; read-only commands do not migrate: run "
            "`vendorproof evidence migrate --store ...` (on PostgreSQL as the owner)",
            file=db.where,
        )


# --- implementation (shared by both backends) ---------------------------------------

_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_HEX64 = re.compile(r"[0-9a-f]{64}")
# What ``format_time`` writes: whole seconds, or exactly six fractional digits.
_CREATED_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z")
_VERDICTS = ("PASSED", "FAILED")
_INT64 = range(-(2**63), 2**63)
_PAGE = 256
_COLUMNS = (
    "seq, record_id, digest, prev_digest, created_at, vendor, product, version, "
    "security_version, verdict, envelope, intake_key"
)
# created_at as a string that sorts in time order: ``...:SSZ`` would sort after
# ``...:SS.ffffffZ`` of the same second ('Z' > '.'), so compare ``...:SS.000000Z``.
_TIME_KEY = (
    "(CASE WHEN length(created_at) = 20 "
    "THEN substr(created_at, 1, 19) || '.000000Z' ELSE created_at END)"
)


def _connect(url: str, *, read_only: bool = False) -> Database:
    """Connect to the database behind ``url`` (no migration)."""
    match = _URL_SCHEME.match(url)
    if match is None:
        if not url.strip():
            raise InvalidInputError("the evidence store location is empty")
        return _sqlite.connect(Path(url), url, read_only=read_only)
    scheme = match.group(1).lower()
    if scheme == "sqlite":
        path = url[match.end() :]
        if not path.startswith("/"):
            raise InvalidInputError(
                "a SQLite store URL is sqlite:///ABSOLUTE/PATH (give a relative "
                "path without the sqlite:// prefix)",
                file=url,
            )
        return _sqlite.connect(Path(path), path, read_only=read_only)
    if scheme in {"postgresql", "postgres"}:
        try:
            from vendorproof.evidence import _postgres
        except ModuleNotFoundError as exc:
            if exc.name != "psycopg":
                raise
            raise InvalidInputError(
                "a PostgreSQL evidence store needs psycopg 3: "
                "pip install 'psycopg[binary]'"
            ) from exc
        return _postgres.connect(url, read_only=read_only)
    raise InvalidInputError(
        f"unsupported evidence store URL scheme {scheme!r}: give a path, "
        "sqlite:///PATH or postgresql://..."
    )


class _Head:
    """The chain head, valid while the append callback runs (under the lock)."""

    __slots__ = ("_db", "_digest", "_live", "_seq")

    def __init__(self, db: Database, seq: int, digest: str | None) -> None:
        self._db = db
        self._seq = seq
        self._digest = digest
        self._live = True

    @property
    def seq(self) -> int:
        return self._seq

    @property
    def digest(self) -> str | None:
        return self._digest

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        if not self._live:
            msg = "the chain head can be used only inside the append callback"
            raise RuntimeError(msg)
        try:
            return self._db.rows(sql, params)
        except self._db.error as exc:
            raise _failure(self._db, exc, "read the evidence store") from exc

    def max_accepted_security_version(self, vendor: str, product: str) -> int | None:
        ((value,),) = self._rows(
            "SELECT max(security_version) FROM records "
            "WHERE vendor = ? AND product = ? AND verdict = 'PASSED'",
            (vendor, product),
        )
        return None if value is None else int(value)

    def record(self) -> StoredRecord | None:
        if self._seq == 0:
            return None
        rows = self._rows(f"SELECT {_COLUMNS} FROM records WHERE seq = ?", (self._seq,))  # noqa: S608 (constant columns)
        return _stored(rows[0]) if rows else None

    def accepted(self, vendor: str, product: str) -> Iterator[StoredRecord]:
        # One securityVersion at a time, highest first (an index lookup), then its
        # records in pages by seq (the records_rollback_seq index): no sort of the
        # many records that share a securityVersion, and no cursor stays open while
        # the caller verifies each record.
        top_sql = (
            "SELECT max(security_version) FROM records WHERE vendor = ? "
            "AND product = ? AND verdict = 'PASSED' AND security_version <= ?"
        )
        page_sql = (
            f"SELECT {_COLUMNS} FROM records WHERE vendor = ? AND product = ? "  # noqa: S608 (constant columns)
            "AND verdict = 'PASSED' AND security_version = ? AND seq > ? "
            f"ORDER BY seq LIMIT {_PAGE}"
        )
        ceiling = _INT64.stop - 1
        while True:
            ((top,),) = self._rows(top_sql, (vendor, product, ceiling))
            if top is None:
                return
            sv, after = int(top), 0
            while True:
                rows = self._rows(page_sql, (vendor, product, sv, after))
                yield from map(_stored, rows)
                if len(rows) < _PAGE:
                    break
                after = int(rows[-1][0])
            if sv == _INT64.start:
                return
            ceiling = sv - 1

    def with_intake_key(self, key: str, since: str | None) -> Iterator[StoredRecord]:
        sql = f"SELECT {_COLUMNS} FROM records WHERE intake_key = ?"  # noqa: S608 (constant columns)
        params: list[object] = [key]
        if since is not None:
            stamp = _time_key(since, "since")
            sql += f" AND {_TIME_KEY} >= ?"
            params.append(stamp)
        rows = self._rows(sql + " ORDER BY seq DESC LIMIT 16", params)
        yield from map(_stored, rows)

    def expire(self) -> None:
        self._live = False


_EVERYTHING = RecordFilter()


class _Store:
    """:class:`EvidenceStore` over a :class:`~._migrations.Database`."""

    url: str

    def __init__(self, db: Database, *, read_only: bool = False) -> None:
        self._db = db
        self.url = db.url
        self._read_only = read_only
        self._origin: str | None = None  # set once by the migration, never changed
        # The last checkpoint this store object signed, and with which key.
        self._mine_key: Ed25519PrivateKey | None = None
        self._mine: dict[bytes, Checkpoint] = {}

    def __repr__(self) -> str:
        return f"<evidence store {self.url}>"

    def append(
        self,
        build: Callable[[ChainHead], PreparedRecord],
        blobs: Mapping[str, bytes],
        *,
        checkpoint_key: Ed25519PrivateKey | None = None,
    ) -> StoredRecord:
        """Append one record atomically (see the module docstring).

        Raises:
            InvalidInputError: a blob does not match its digest, the prepared record is
                malformed or its id is already stored, or the database refused it.
            OutputError: the database failed (lock wait timed out, disk, connection).
            Exception: whatever ``build`` raises.
            In every case nothing was stored.
        """
        db = self._db
        self._check_writable()
        content = _checked_blobs(blobs, db.where)
        in_build = False  # what build raises propagates as it is
        try:
            checked = _gapless_before_lock(db)
            with db.write_transaction():
                ((seq, digest),) = db.rows(
                    "SELECT coalesce(max(seq), 0), "
                    "(SELECT digest FROM records ORDER BY seq DESC LIMIT 1) "
                    "FROM records"
                )
                _check_gapless(db, int(seq), after=checked)
                head = _Head(db, int(seq), None if digest is None else str(digest))
                in_build = True
                try:
                    prepared = build(head)
                finally:
                    head.expire()
                in_build = False
                stored = self._insert(head, prepared, content)
                if checkpoint_key is not None:
                    _tlogdb.store_checkpoint(
                        db, stored.seq, self._signed(stored.seq, checkpoint_key)
                    )
                return stored
        except db.integrity_error as exc:
            if in_build:
                raise
            raise InvalidInputError(
                f"the evidence store refused the record: {one_line(exc)}",
                file=db.where,
            ) from exc
        except db.error as exc:
            if in_build:
                raise
            raise _failure(db, exc, "append to the evidence store") from exc

    def _insert(
        self, head: _Head, rec: PreparedRecord, blobs: Mapping[str, bytes]
    ) -> StoredRecord:
        db = self._db
        _check_prepared(rec, db.where)
        if db.rows("SELECT 1 FROM records WHERE record_id = ?", (rec.record_id,)):
            raise InvalidInputError(
                f"record id {rec.record_id!r} is already in the evidence store",
                path="record_id",
                file=db.where,
            )
        stored = StoredRecord(
            seq=head.seq + 1,
            record_id=rec.record_id,
            digest=hashlib.sha256(rec.envelope).hexdigest(),
            prev_digest=head.digest,
            created_at=rec.created_at,
            vendor=rec.vendor,
            product=rec.product,
            version=rec.version,
            security_version=rec.security_version,
            verdict=rec.verdict,
            envelope=bytes(rec.envelope),
            intake_key=rec.intake_key,
        )
        # One round trip to find the blobs already stored, one to add the others:
        # a record and all its inputs cost a handful of statements, not dozens.
        wanted = sorted(blobs)
        if db.dialect == "postgresql":
            # Content-addressed: a digest already stored holds the same bytes, so
            # PostgreSQL skips it in the same statement (SQLite refuses any second
            # INSERT of a digest by trigger, so it looks first).
            _insert_rows(
                db,
                "blobs (digest, content)",
                [(d, blobs[d]) for d in wanted],
                suffix=" ON CONFLICT (digest) DO NOTHING",
            )
            wanted = []
        present: set[str] = set()
        for i in range(0, len(wanted), _BATCH):
            part = wanted[i : i + _BATCH]
            marks = ", ".join("?" * len(part))
            present.update(
                str(row[0])
                for row in db.rows(
                    f"SELECT digest FROM blobs WHERE digest IN ({marks})",  # noqa: S608 (placeholders only)
                    part,
                )
            )
        _insert_rows(
            db,
            "blobs (digest, content)",
            [(d, blobs[d]) for d in wanted if d not in present],
        )
        db.rows(
            f"INSERT INTO records ({_COLUMNS}) VALUES ({', '.join('?' * 12)})",  # noqa: S608 (constant columns)
            (
                stored.seq,
                stored.record_id,
                stored.digest,
                stored.prev_digest,
                stored.created_at,
                stored.vendor,
                stored.product,
                stored.version,
                stored.security_version,
                stored.verdict,
                stored.envelope,
                stored.intake_key,
            ),
        )
        _insert_rows(
            db,
            "record_inputs (seq, name, digest)",
            [(stored.seq, name, digest) for name, digest in sorted(rec.inputs.items())],
        )
        _tlogdb.append_leaf(db, stored.seq, stored.digest, head.digest)
        return stored

    def records(self, flt: RecordFilter = _EVERYTHING) -> Iterator[StoredRecord]:
        """Records in sequence order, read in pages (no cursor stays open between).

        Records appended while the iteration runs may or may not be included.
        """
        conditions, params = _conditions(flt)  # invalid filters fail here, not later
        start = 0 if flt.first is None else max(flt.first - 1, 0)
        return self._pages(conditions, params, start)

    def _pages(
        self, conditions: str, params: list[object], after: int
    ) -> Iterator[StoredRecord]:
        sql = (
            f"SELECT {_COLUMNS} FROM records WHERE seq > ?{conditions} "  # noqa: S608 (constant fragments only)
            f"ORDER BY seq LIMIT {_PAGE}"
        )
        while True:
            rows = self._read(sql, (after, *params))
            yield from map(_stored, rows)
            if len(rows) < _PAGE:
                return
            after = int(rows[-1][0])

    def record(self, seq: int) -> StoredRecord:
        rows = self._read(f"SELECT {_COLUMNS} FROM records WHERE seq = ?", (seq,))  # noqa: S608 (constant columns)
        if not rows:
            raise InvalidInputError(
                f"no record {seq} in the evidence store", file=self._db.where
            )
        return _stored(rows[0])

    def inputs(self, seq: int) -> Mapping[str, str]:
        rows = self._read(
            "SELECT name, digest FROM record_inputs WHERE seq = ? ORDER BY name",
            (seq,),
        )
        if not rows and not self._read("SELECT 1 FROM records WHERE seq = ?", (seq,)):
            raise InvalidInputError(
                f"no record {seq} in the evidence store", file=self._db.where
            )
        return {str(name): str(digest) for name, digest in rows}

    def blob(self, digest: str) -> bytes:
        rows = self._read("SELECT content FROM blobs WHERE digest = ?", (digest,))
        if not rows:
            raise InvalidInputError(
                f"no blob sha256:{digest} in the evidence store", file=self._db.where
            )
        return bytes(rows[0][0])

    def last_seq(self) -> int:
        ((seq,),) = self._read("SELECT coalesce(max(seq), 0) FROM records", ())
        return int(seq)

    def schema_version(self) -> int:
        try:
            return current_version(self._db)
        except self._db.error as exc:
            raise self._unreadable(exc) from exc

    def close(self) -> None:
        self._db.close()

    def tree_size(self) -> int:
        try:
            return _tlogdb.tree_size(self._db)
        except self._db.error as exc:
            raise self._unreadable(exc) from exc

    def tree_nodes(self) -> tlog.NodeSource:
        return _tlogdb.node_source(self._db)

    def log_origin(self) -> str:
        try:
            return _tlogdb.origin(self._db)
        except self._db.error as exc:
            raise self._unreadable(exc) from exc

    def checkpoints(self, size: int | None = None) -> list[bytes]:
        try:
            return _tlogdb.checkpoints(self._db, size=size)
        except self._db.error as exc:
            raise self._unreadable(exc) from exc

    def _signed(self, size: int, key: Ed25519PrivateKey) -> bytes:
        """The checkpoint of the stored tree at ``size``, signed with ``key``.

        c2sp.org/tlog-checkpoint: "A log MUST not sign any checkpoint which is
        inconsistent with any checkpoint it previously signed". The newest stored
        checkpoint that ``key`` signed (size M) must therefore be proven a prefix of
        the tree signed now, with an RFC 9162 §2.1.4 consistency proof from the
        stored nodes; a stored tree rewritten beside the records is refused here.

        Raises:
            InvalidInputError: the stored tree is not consistent with the newest
                checkpoint ``key`` signed (or that one is larger).
        """
        from vendorproof.evidence.checkpoint import Checkpoint, NoteSigner

        if self._origin is None:
            self._origin = _tlogdb.origin(self._db)
        origin = self._origin
        nodes = _tlogdb.node_source(self._db)
        cp = Checkpoint(origin, size, tlog.root(size, nodes))
        mine = self._mine if self._mine_key is key else {}
        _extends_signed(self._db, cp, key, nodes, mine)
        note = cp.sign([NoteSigner(origin, key)])
        # Only the newest is looked up again (by the next append of this process).
        self._mine_key, self._mine = key, {note: cp}
        return note

    def sign_checkpoint(self, key: Ed25519PrivateKey) -> tuple[int, bytes]:
        """Sign and store the checkpoint of the current tree (``log checkpoint``).

        Under the chain lock, like an append: the records must be gapless, the tree
        must hold exactly them, its last leaf the head record's, and it must extend
        the newest checkpoint ``key`` signed. Returns the size and the note.

        Raises:
            InvalidInputError: the store is damaged (see above); nothing is stored.
            OutputError: the database failed, or the store is read-only.
        """
        db = self._db
        self._check_writable()
        try:
            with db.write_transaction():
                ((seq, digest),) = db.rows(
                    "SELECT coalesce(max(seq), 0), "
                    "(SELECT digest FROM records ORDER BY seq DESC LIMIT 1) "
                    "FROM records"
                )
                size = int(seq)
                _check_gapless(db, size)
                _tlogdb.check_head(db, size, None if digest is None else str(digest))
                note = self._signed(size, key)
                _tlogdb.store_checkpoint(db, size, note)
        except db.error as exc:
            raise _failure(db, exc, "store the checkpoint") from exc
        return size, note

    def add_checkpoint(self, size: int, note: bytes) -> None:
        db = self._db
        self._check_writable()
        try:
            with db.write_transaction():
                _tlogdb.store_checkpoint(db, size, note)
        except db.error as exc:
            raise _failure(db, exc, "store the checkpoint") from exc

    def _check_writable(self) -> None:
        """Raise OutputError when the store was opened read-only."""
        if self._read_only:
            msg = f"{self._db.where}: the evidence store was opened read-only"
            raise OutputError(msg)

    def _read(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        try:
            return self._db.rows(sql, params)
        except self._db.error as exc:
            raise self._unreadable(exc) from exc

    def _unreadable(self, exc: Exception) -> InvalidInputError:
        return InvalidInputError(
            f"cannot read the evidence store: {one_line(exc)}", file=self._db.where
        )


def _gapless_before_lock(db: Database) -> int:
    """PostgreSQL: the records up to the newest committed one are gapless.

    ``count(*)`` is a scan there (about linear in the records): it runs before the
    chain lock, in one statement (one snapshot), so writers do not wait for it; under
    the lock only the records committed since are counted. Returns the sequence
    number checked up to (0 for SQLite, which counts under the lock).

    Raises:
        InvalidInputError: a gap.
    """
    if db.dialect != "postgresql":
        return 0
    ((count, last),) = db.rows("SELECT count(*), coalesce(max(seq), 0) FROM records")
    _refuse_gap(db, int(count), int(last))
    return int(last)


def _check_gapless(db: Database, last: int, *, after: int = 0) -> None:
    """Under the chain lock: the records are exactly 1..``last`` (no row deleted).

    Sequence numbers are unique, so equal counts mean no gap. Records up to
    ``after`` were counted before the lock (:func:`_gapless_before_lock`). SQLite's
    ``count(*)`` without a condition walks the smallest index without decoding a
    row (docs/performance.md).

    Raises:
        InvalidInputError: fewer rows than the head's sequence number.
    """
    if after:
        ((count,),) = db.rows("SELECT count(*) FROM records WHERE seq > ?", (after,))
        _refuse_gap(db, after + int(count), last)
    else:
        ((count,),) = db.rows("SELECT count(*) FROM records")
        _refuse_gap(db, int(count), last)


def _refuse_gap(db: Database, count: int, last: int) -> None:
    if count != last:
        raise InvalidInputError(
            f"the evidence store holds {count} records up to #{last}: records were "
            "deleted from the chain outside vendorproof; nothing was recorded and "
            "the chain is not extended (find them with `vendorproof audit replay "
            "--store ...`)",
            file=db.where,
        )


def _extends_signed(
    db: Database,
    cp: Checkpoint,
    key: Ed25519PrivateKey,
    nodes: tlog.NodeSource,
    mine: Mapping[bytes, Checkpoint],
) -> None:
    """``cp`` (not yet signed) extends the newest stored checkpoint ``key`` signed.

    ``mine``: notes this process signed with ``key`` (no need to verify those again;
    any other stored note is verified before it counts).

    Raises:
        InvalidInputError: it does not, or the signed one is larger.
    """
    from vendorproof.errors import Error
    from vendorproof.evidence.checkpoint import Checkpoint, NoteVerifier

    verifier = NoteVerifier(cp.origin, key.public_key())
    for note in _tlogdb.checkpoints(db):
        signed = mine.get(note)
        if signed is None:
            try:
                signed, _, _ = Checkpoint.open(
                    note, [verifier], origin=cp.origin, file=db.where
                )
            except Error:
                continue  # signed by another key (or not a checkpoint)
        try:
            if signed.size > cp.size:
                problem = f"it signed size {signed.size} before, larger than {cp.size}"
            else:
                proof = tlog.consistency_proof(signed.size, cp.size, nodes)
                tlog.verify_consistency(
                    signed.size, cp.size, signed.root, cp.root, proof
                )
                return
        except tlog.ProofError as exc:
            problem = (
                f"the stored tree of size {cp.size} does not extend the checkpoint of "
                f"size {signed.size} it signed before ({exc})"
            )
        raise InvalidInputError(
            f"refusing to sign a checkpoint inconsistent with one the key signed "
            f"(c2sp.org/tlog-checkpoint): {problem}; the tree or the records were "
            "changed outside vendorproof, nothing was recorded",
            file=db.where,
        )


def _failure(db: Database, exc: Exception, doing: str) -> OutputError:
    """A database failure as one line; a lost connection says what to do next."""
    if db.broken:
        return OutputError(
            f"{db.where}: the connection to the evidence store was lost (cannot "
            f"{doing}: {one_line(exc)}); the record was not stored unless its commit "
            "had reached the server: run the same intake again, it continues the "
            "chain and reports a record already committed instead of storing it twice"
        )
    return OutputError(f"{db.where}: cannot {doing}: {one_line(exc)}")


#: Rows per multi-row statement (bounded for SQLite's parameter limit).
_BATCH = 200


def _insert_rows(
    db: Database, target: str, rows: Sequence[tuple[object, ...]], *, suffix: str = ""
) -> None:
    """Insert ``rows`` with as few multi-row INSERT statements as possible."""
    for i in range(0, len(rows), _BATCH):
        part = rows[i : i + _BATCH]
        width = len(part[0])
        values = ", ".join("(" + ", ".join("?" * width) + ")" for _ in part)
        db.rows(
            f"INSERT INTO {target} VALUES {values}{suffix}",  # noqa: S608 (constant table, placeholders)
            [value for row in part for value in row],
        )


def _stored(row: tuple[Any, ...]) -> StoredRecord:
    return StoredRecord(
        seq=int(row[0]),
        record_id=str(row[1]),
        digest=str(row[2]),
        prev_digest=None if row[3] is None else str(row[3]),
        created_at=str(row[4]),
        vendor=str(row[5]),
        product=str(row[6]),
        version=str(row[7]),
        security_version=int(row[8]),
        verdict=str(row[9]),
        envelope=bytes(row[10]),
        intake_key=None if row[11] is None else str(row[11]),
    )


def _checked_blobs(blobs: Mapping[str, bytes], where: str) -> dict[str, bytes]:
    """The blobs as bytes, each checked against its sha256 (before any lock)."""
    checked: dict[str, bytes] = {}
    for digest, content in blobs.items():
        data = bytes(content)
        if not _HEX64.fullmatch(digest):
            raise InvalidInputError(
                f"a blob key must be a lowercase hex sha256, not {digest!r}",
                path="blobs",
                file=where,
            )
        if hashlib.sha256(data).hexdigest() != digest:
            raise InvalidInputError(
                f"blob content does not match its digest sha256:{digest}",
                path="blobs",
                file=where,
            )
        checked[digest] = data
    return checked


def _check_prepared(rec: PreparedRecord, where: str) -> None:
    """Refuse a prepared record the schema or the listing filters could not hold."""
    problems = {
        "record_id": "must not be empty" if not rec.record_id else None,
        "created_at": None
        if _CREATED_AT.fullmatch(rec.created_at)
        else f"must be RFC 3339 UTC (YYYY-MM-DDTHH:MM:SS[.ffffff]Z), not "
        f"{rec.created_at!r}",
        "verdict": None
        if rec.verdict in _VERDICTS
        else f"must be PASSED or FAILED, not {rec.verdict!r}",
        "security_version": None
        if type(rec.security_version) is int and rec.security_version in _INT64
        else f"must be a 64-bit integer, not {rec.security_version!r}",
        "envelope": "must not be empty" if not rec.envelope else None,
        "intake_key": "must not be empty" if rec.intake_key == "" else None,
    }
    for name, digest in rec.inputs.items():
        if not name or not _HEX64.fullmatch(digest):
            problems[f"inputs[{name!r}]"] = (
                f"needs a name and a lowercase hex sha256, not {digest!r}"
            )
    for path, problem in problems.items():
        if problem is not None:
            raise InvalidInputError(
                f"prepared record: {problem}", path=path, file=where
            )


def _time_key(value: str, path: str) -> str:
    """An RFC 3339 time as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC (see _TIME_KEY)."""
    from vendorproof.models._fields import parse_time

    text = parse_time(value, path).isoformat(timespec="microseconds")
    return text.removesuffix("+00:00") + "Z"


def _conditions(flt: RecordFilter) -> tuple[str, list[object]]:
    """The WHERE conditions (each starting with `` AND ``) and their parameters."""
    sql: list[str] = []
    params: list[object] = []
    if flt.last is not None:
        sql.append("seq <= ?")
        params.append(flt.last)
    for column, value in (
        ("vendor", flt.vendor),
        ("product", flt.product),
        ("verdict", flt.verdict),
    ):
        if value is not None:
            sql.append(f"{column} = ?")
            params.append(value)
    # The plain created_at bounds (whole seconds) let the index narrow the scan; the
    # _TIME_KEY comparison decides within the boundary second.
    if flt.since is not None:
        key = _time_key(flt.since, "since")
        sql += ["created_at >= ?", f"{_TIME_KEY} >= ?"]
        params += [key[:19], key]
    if flt.until is not None:
        key = _time_key(flt.until, "until")
        sql += ["created_at < ?", f"{_TIME_KEY} <= ?"]
        params += [key[:19] + "~", key]
    return "".join(f" AND {c}" for c in sql), params
