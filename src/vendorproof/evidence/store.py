"""The evidence store: an append-only, hash-chained sequence of signed records.

Two backends share one schema and one migration history: SQLite (the embedded default,
``./vendorproof-evidence.db``) and PostgreSQL (``postgresql://...``) for operators with
several intake sites. The database itself refuses UPDATE and DELETE (triggers; for
PostgreSQL also a writer role without those rights, see ``docs/evidence.md``).

``append`` is the only write path. It locks the chain head, hands it to a callback that
builds and signs the record (the record contains its sequence number and the digest of
its predecessor, so it must be built under the lock), then inserts the record, its
input rows and its content-addressed blobs in one transaction: a record is either fully
there or not at all, and concurrent writers from several processes produce one linear
chain (no fork, no gap, no duplicate sequence number).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "DEFAULT_STORE",
    "ChainHead",
    "EvidenceStore",
    "PreparedRecord",
    "RecordFilter",
    "StoredRecord",
    "open_store",
]

#: The embedded store used when no ``--store`` is given.
DEFAULT_STORE = "vendorproof-evidence.db"


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredRecord:
    """One stored record and the columns indexed for listing.

    ``digest`` is the lowercase hex sha256 of ``envelope`` (the DSSE envelope JSON bytes
    exactly as stored); ``prev_digest`` is the digest of record ``seq - 1`` (None for 1).
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
        """Highest securityVersion among PASSED records of vendor/product, if any."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordFilter:
    """Filters for listing records (all optional, combined with AND)."""

    first: int | None = None  # seq >= first
    last: int | None = None  # seq <= last
    vendor: str | None = None
    product: str | None = None
    verdict: str | None = None
    since: str | None = None  # created_at >= since (RFC 3339 UTC)
    until: str | None = None  # created_at <= until


class EvidenceStore(Protocol):
    """An append-only evidence store."""

    url: str

    def append(
        self, build: Callable[[ChainHead], PreparedRecord], blobs: Mapping[str, bytes]
    ) -> StoredRecord:
        """Append one record atomically; ``blobs`` maps sha256 hex -> content."""
        ...

    def records(self, flt: RecordFilter = ...) -> Iterator[StoredRecord]:
        """Records in sequence order."""
        ...

    def record(self, seq: int) -> StoredRecord:
        """One record (InvalidInputError if there is none)."""
        ...

    def inputs(self, seq: int) -> Mapping[str, str]:
        """The input name -> sha256 rows of one record."""
        ...

    def blob(self, digest: str) -> bytes:
        """A content-addressed blob (InvalidInputError if missing)."""
        ...

    def schema_version(self) -> int:
        """The migration version the store is at."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


def open_store(url: str) -> EvidenceStore:
    """Open (creating and migrating as needed) the store at ``url``.

    ``url`` is a path or ``sqlite:///PATH`` for SQLite, ``postgresql://...`` for
    PostgreSQL.
    """
    raise NotImplementedError
