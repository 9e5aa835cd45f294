"""Audit bundles: a self-contained directory an auditor replays on an offline laptop.

Layout::

    MANIFEST.json                  format, export time, the sha256 of every other file,
                                   the operator key ids, and what the bundle holds:
                                   records.count/first/last, records.previous (sha256
                                   of record first - 1) and records.filter
    operator-keys/<keyid>.pub      the operator public key(s) signing the records
    records/<seq:08d>.dsse.json    every record envelope, byte for byte as stored
    blobs/sha256/<hex>             every input document the records name

Integrity does not rest on the manifest: each record is signed and links to its
predecessor, and each blob is addressed by its digest. The manifest lets replay check
that the bundle holds exactly what it declares (no record deleted inside or at the end
of the declared range) and names the operator key ids to compare with the operator's
published fingerprint. It is not signed: the operator publishes the chain head too.
Every file is read through :mod:`vendorproof._internal.confine` (docs/audit.md).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import os
import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vendorproof._internal import confine, crypto
from vendorproof._internal.jsonio import dump_json, parse_json, show_key, write_atomic
from vendorproof.errors import InvalidInputError, OutputError, VerificationError
from vendorproof.evidence import tlog
from vendorproof.evidence._migrations import one_line
from vendorproof.evidence._replay_steps import Scope
from vendorproof.evidence.record import record_digest
from vendorproof.evidence.report_record import parse_record
from vendorproof.evidence.store import EvidenceStore, RecordFilter, StoredRecord
from vendorproof.limits import Limits
from vendorproof.models import _fields as f

__all__ = [
    "BUNDLE_FORMAT",
    "BundleSource",
    "StoreSource",
    "export_bundle",
    "open_source",
]


def open_source(spec: tuple[str, str]) -> StoreSource | BundleSource:
    """Reopen a record source from its ``spec()`` (in a worker process)."""
    kind, location = spec
    if kind == "bundle":
        return BundleSource(Path(location))
    from vendorproof.evidence.store import open_store

    return StoreSource(open_store(location, read_only=True), location=location)


BUNDLE_FORMAT = "vendorproof-audit-bundle/v1"
MANIFEST = "MANIFEST.json"
_RECORD = re.compile(r"^(\d{8})\.dsse\.json$")
_HEX = re.compile(r"^[0-9a-f]{64}$")
_BLOB_LIMITS = Limits(max_document_bytes=1 << 30)
#: Filters that select records rather than a range: the bundle may skip records.
_SELECTIVE = ("vendor", "product", "verdict", "since", "until")


def _record_name(seq: int) -> str:
    return f"records/{seq:08d}.dsse.json"


def _blob_name(digest: str) -> str:
    if not _HEX.fullmatch(digest):
        raise InvalidInputError(f"bad blob digest {show_key(digest)}")
    return f"blobs/sha256/{digest}"


class StoreSource:
    """A store seen as a record source for replay.

    ``location``: the URL the store was opened with, passwords included; worker
    processes of a parallel replay reopen the store with it (it is handed to them
    through the process pool's pipe, never on a command line or in a message).
    ``store.url`` names the store without any password everywhere else.
    """

    def __init__(
        self,
        store: EvidenceStore,
        flt: RecordFilter | None = None,
        *,
        location: str | None = None,
    ) -> None:
        self.store = store
        self.flt = flt or RecordFilter()
        self._location = location or store.url

    #: The index columns are stored separately from the signed record.
    derived_index = False

    def iter_records(self) -> Iterator[StoredRecord]:
        """Every record in sequence order."""
        return iter(self.store.records(self.flt))

    def iter_range(self, first: int, last: int) -> Iterator[StoredRecord]:
        """Records ``first``..``last`` in sequence order."""
        return iter(
            self.store.records(dataclasses.replace(self.flt, first=first, last=last))
        )

    def last_seq(self) -> int:
        """The highest sequence number."""
        return self.store.last_seq()

    def spec(self) -> tuple[str, str]:
        """How another process reopens this source."""
        return ("store", self._location)

    def blob(self, digest: str) -> bytes:
        """A blob by sha256."""
        return self.store.blob(digest)

    def index_inputs(self, seq: int) -> Mapping[str, str]:
        """The record_inputs rows of record ``seq``."""
        return self.store.inputs(seq)

    def scope(self) -> Scope:
        """The records the filter selects (the whole chain without one)."""
        first = self.flt.first or 1
        previous = None
        if first > 1:
            previous = record_digest(self.store.record(first - 1).envelope)
        selection = any(getattr(self.flt, name) is not None for name in _SELECTIVE)
        return Scope(first=first, previous=previous, selection=selection)

    def check(self) -> list[str]:
        """SQLite's ``PRAGMA integrity_check`` of the database file (SQLite only).

        Run on a separate read-only connection: a corrupt page, index or free list
        fails the replay even where no record read touches it.
        """
        prefix = "sqlite://"
        if not self.store.url.startswith(prefix):
            return []
        path = Path(self.store.url[len(prefix) :])
        try:
            conn = sqlite3.connect(path.as_uri() + "?mode=ro", uri=True)
            try:
                rows = conn.execute("PRAGMA integrity_check").fetchall()
            finally:
                conn.close()
        except sqlite3.Error as e:
            return [f"SQLite integrity check of {path} failed: {one_line(e)}"]
        findings = [str(row[0]) for row in rows]
        if findings == ["ok"]:
            return []
        shown = "; ".join(findings[:3])
        return [f"SQLite integrity check of {path} failed: {shown}"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BundleRecord(StoredRecord):
    """A record read from a bundle, with the file it came from."""

    file: str = ""


def export_bundle(
    store: EvidenceStore,
    out: Path,
    *,
    keys: Sequence[crypto.PublicKey],
    exported_at: str,
    flt: RecordFilter | None = None,
) -> int:
    """Write an audit bundle of ``store`` into the new directory ``out``.

    The manifest says what the bundle holds: the filter it was exported with, the
    first and last sequence numbers, the record count, and the digest of the record
    before the first (the chain link replay starts from). Inputs are read from a
    record only after its operator signature verified with one of ``keys``; for a
    record that does not verify, the store's record_inputs rows name them.

    Returns:
        The number of records exported.

    Raises:
        OutputError: ``out`` exists or cannot be written.
    """
    flt = flt or RecordFilter()
    try:
        out.mkdir(parents=False, exist_ok=False)
    except FileExistsError:
        raise OutputError(f"{out}: exists (choose a new directory)") from None
    except OSError as e:
        raise OutputError(f"{out}: {e.strerror}") from e
    files: dict[str, str] = {}

    def put(rel: str, data: bytes) -> None:
        confine.check_name(rel)
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
        files[rel] = hashlib.sha256(data).hexdigest()

    for key in keys:
        from cryptography.hazmat.primitives import serialization

        pem = key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        put(f"operator-keys/{crypto.key_id(key)}.pub", pem)
    seqs: list[int] = []
    blobs: set[str] = set()
    for stored in store.records(flt):
        put(_record_name(stored.seq), stored.envelope)
        seqs.append(stored.seq)
        try:
            names = parse_record(stored.envelope, keys=keys).inputs
        except (InvalidInputError, VerificationError):
            names = store.inputs(stored.seq)  # replay will report the broken record
        for digest in names.values():
            if digest in blobs or not _HEX.fullmatch(digest):
                continue
            blobs.add(digest)
            try:
                data = store.blob(digest)
            except InvalidInputError:
                continue  # missing from the store: replay reports it
            put(_blob_name(digest), data)
    first = min(seqs, default=0)
    previous = None
    if first > 1:
        previous = record_digest(store.record(first - 1).envelope)
    log = _export_log(store, put, flt, first, max(seqs, default=0))
    manifest: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "exportedAt": exported_at,
        "source": store.url,
        "records": {
            "count": len(seqs),
            "first": first,
            "last": max(seqs, default=0),
            "previous": previous,
            "filter": {
                k: v for k, v in dataclasses.asdict(flt).items() if v is not None
            },
        },
        "operatorKeys": [crypto.key_id(k) for k in keys],
        "log": log,
        "files": dict(sorted(files.items())),
    }
    write_atomic(out / MANIFEST, dump_json(manifest))
    return len(seqs)


LOG_CHECKPOINT = "log/checkpoint"


def _export_log(
    store: EvidenceStore,
    put: Callable[[str, bytes], None],
    flt: RecordFilter,
    first: int,
    last: int,
) -> dict[str, Any] | None:
    """The store's checkpoint of the bundle's last record, and the edge before it.

    The tree edge before the first record lets replay recompute the root from the
    records the bundle has.

    None for a selective export (the records do not form a tree) and when the store
    holds no checkpoint of that size.
    """
    if last == 0 or any(getattr(flt, k) is not None for k in _SELECTIVE):
        return None
    notes = store.checkpoints(last)
    if not notes:
        return None
    put(LOG_CHECKPOINT, notes[0])
    size = first - 1
    nodes = store.tree_nodes()(tlog.edge_keys(size))
    return {
        "origin": store.log_origin(),
        "checkpoint": LOG_CHECKPOINT,
        "edge": {
            "size": size,
            "hashes": [f.b64encode(nodes[k]) for k in tlog.edge_keys(size)],
        },
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class _Claims:
    """What MANIFEST.json says the bundle holds (type-checked)."""

    count: int
    first: int
    last: int
    previous: str | None
    selection: bool
    #: The selecting part of the claimed filter (vendor, product, verdict, time).
    selecting: dict[str, object]
    files: dict[str, str]


def _claims(data: dict[str, Any], file: str) -> _Claims:
    try:
        records = f.require_mapping(data, "records")
        try:
            count, first, last = (
                f.require(records, k, int) for k in ("count", "first", "last")
            )
            for name, value in (("count", count), ("first", first), ("last", last)):
                if value < 0:
                    raise InvalidInputError("must not be negative", path=name)
            previous = records.get("previous")
            if previous is not None and (
                not isinstance(previous, str) or not _HEX.fullmatch(previous)
            ):
                raise InvalidInputError(
                    "expected a hex sha256 or null", path="previous"
                )
            flt = f.get(records, "filter", dict) or {}
        except InvalidInputError as e:
            raise e.under("records") from e
        listed = f.require_mapping(data, "files")
        for rel, digest in listed.items():
            if not isinstance(digest, str) or not _HEX.fullmatch(digest):
                raise InvalidInputError(
                    "expected a hex sha256", path=f"files[{show_key(rel)}]"
                )
    except InvalidInputError as e:
        raise e.in_file(file) from e
    return _Claims(
        count=count,
        first=first,
        last=last,
        previous=previous,
        selection=any(flt.get(k) is not None for k in _SELECTIVE),
        selecting={k: flt[k] for k in _SELECTIVE if flt.get(k) is not None},
        files=dict(listed),
    )


class BundleSource:
    """An exported audit bundle seen as a record source (read-only).

    Every file is read through :mod:`vendorproof._internal.confine`: no name from
    the manifest, no record or blob path leaves the bundle directory, and links,
    directories, FIFOs and devices where a file is expected are refused.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        where = str(root / MANIFEST)
        raw = confine.read_file(root, MANIFEST)
        data = f.check_type(parse_json(raw, file=where), dict, "manifest")
        if data.get("format") != BUNDLE_FORMAT:
            raise InvalidInputError(
                f"not a {BUNDLE_FORMAT} bundle", file=where, path="format"
            )
        self.manifest = data
        self.claims = _claims(data, where)

    def check(self) -> list[str]:
        """Files missing, altered or unlisted, and record claims not met."""
        problems = []
        for rel, digest in sorted(self.claims.files.items()):
            try:
                confine.check_name(rel)
                if not os.path.lexists(self.root / rel):
                    problems.append(f"{show_key(rel)}: missing from the bundle")
                    continue
                data = confine.read_file(self.root, rel, limits=_BLOB_LIMITS)
            except InvalidInputError as e:
                problems.append(f"{show_key(rel)} (listed in {MANIFEST}): {e.message}")
                continue
            if hashlib.sha256(data).hexdigest() != digest:
                problems.append(f"{rel}: altered (sha256 differs from {MANIFEST})")
        for dirpath, dirs, names in os.walk(self.root):
            for name in [*names, *(d for d in dirs if Path(dirpath, d).is_symlink())]:
                rel = Path(dirpath, name).relative_to(self.root).as_posix()
                if rel != MANIFEST and rel not in self.claims.files:
                    problems.append(f"{show_key(rel)}: not listed in {MANIFEST}")
        return problems + self._record_claims()

    def _record_claims(self) -> list[str]:
        """The record count and range the manifest declares, against the bundle."""
        claims = self.claims
        present = [seq for seq, _ in self._files()]
        listed = sorted(
            int(m.group(1))
            for rel in claims.files
            if rel.startswith("records/") and (m := _RECORD.fullmatch(rel[8:]))
        )
        problems = []
        for what, seqs in (
            ("the bundle holds", present),
            (f"{MANIFEST} lists", listed),
        ):
            if len(seqs) != claims.count:
                problems.append(
                    f"{what} {len(seqs)} records, {MANIFEST} declares {claims.count} "
                    "(records deleted or added)"
                )
            if seqs and (seqs[0], seqs[-1]) != (claims.first, claims.last):
                problems.append(
                    f"{what} records #{seqs[0]} to #{seqs[-1]}, {MANIFEST} declares "
                    f"#{claims.first} to #{claims.last} (records deleted or added)"
                )
        if claims.first == 1 and claims.previous is not None:
            problems.append(f"{MANIFEST}: record 1 has no previous record")
        if claims.first > 1 and claims.previous is None:
            problems.append(
                f"{MANIFEST}: starts at record {claims.first} but does not name the "
                "record before it (records.previous)"
            )
        return problems

    def left_out(self) -> tuple[dict[str, object], list[tuple[int, int]]] | None:
        """The filter a selection claims and the ranges of records it leaves out.

        None unless the manifest claims a selecting filter *and* records between the
        first and the last are absent. The claim is not signed: what was left out
        cannot be checked, so replay must not present such a bundle as the whole
        chain (docs/audit.md, "What an audit bundle declares").
        """
        claims = self.claims
        if not claims.selection:
            return None
        present = sorted(seq for seq, _ in self._files())
        gaps = [
            (before + 1, after - 1)
            for before, after in itertools.pairwise(present)
            if after > before + 1
        ]
        return (dict(claims.selecting), gaps) if gaps else None

    def scope(self) -> Scope:
        """What the manifest declares the bundle holds."""
        claims = self.claims
        return Scope(
            first=max(claims.first, 1),
            previous=claims.previous,
            selection=claims.selection,
        )

    def spec(self) -> tuple[str, str]:
        """How another process reopens this source."""
        return ("bundle", str(self.root))

    def log(self) -> tuple[bytes | None, int, list[bytes]]:
        """The checkpoint the bundle carries and the tree edge before its first record.

        ``(None, 0, [])`` for a bundle without one. Nothing here is trusted: the
        checkpoint's signature and the records' root are checked by the caller.

        Raises:
            InvalidInputError: the manifest's ``log`` entry is malformed.
            VerificationError: the checkpoint file is not the one the manifest lists.
        """
        where = str(self.root / MANIFEST)
        log = self.manifest.get("log")
        if log is None:
            return None, 0, []
        try:
            log = f.check_type(log, dict, "log")
            edge = f.require_mapping(log, "edge")
            size = f.require(edge, "size", int)
            hashes = f.require(edge, "hashes", list)
            if size != max(self.claims.first, 1) - 1 or len(hashes) > 64:
                raise InvalidInputError(
                    "does not end before the first record", path="log.edge"
                )
            decoded = [
                f.b64decode(h if isinstance(h, str) else "", f"log.edge.hashes[{i}]")
                for i, h in enumerate(hashes)
            ]
            if f.require(log, "checkpoint", str) != LOG_CHECKPOINT:
                raise InvalidInputError(
                    f"expected {LOG_CHECKPOINT}", path="log.checkpoint"
                )
        except InvalidInputError as e:
            raise e.in_file(where) from e
        if LOG_CHECKPOINT not in self.claims.files:
            raise InvalidInputError(f"{LOG_CHECKPOINT} is not listed", file=where)
        note = confine.read_file(self.root, LOG_CHECKPOINT)
        if hashlib.sha256(note).hexdigest() != self.claims.files[LOG_CHECKPOINT]:
            # A finding like every other altered member (exit 1), not unreadable input.
            msg = (
                f"{self.root}: {LOG_CHECKPOINT}: altered (sha256 differs from "
                f"{MANIFEST})"
            )
            raise VerificationError(msg)
        return note, size, decoded

    def keys(self) -> list[crypto.PublicKey]:
        """The operator public keys shipped in the bundle."""
        return [
            crypto.load_public_key(
                confine.read_file(self.root, f"operator-keys/{name}"),
                file=str(self.root / "operator-keys" / name),
            )
            for name in confine.list_dir(self.root, "operator-keys")
            if name.endswith(".pub")
        ]

    #: The index fields are read from the signed records themselves (replay parses
    #: them anyway; there are no separate columns to compare).
    derived_index = True

    def _files(self) -> list[tuple[int, str]]:
        found = []
        for name in confine.list_dir(self.root, "records"):
            m = _RECORD.fullmatch(name)
            if m:
                found.append((int(m.group(1)), f"records/{name}"))
        return found

    def iter_range(self, first: int, last: int) -> Iterator[StoredRecord]:
        """Records ``first``..``last`` in file-name order.

        Raises:
            InvalidInputError: a record file is not a regular file inside the bundle.
        """
        for seq, rel in self._files():
            if first <= seq <= last:
                raw = confine.read_file(self.root, rel)
                yield BundleRecord(
                    seq=seq,
                    record_id="",
                    digest=record_digest(raw),
                    prev_digest=None,
                    created_at="",
                    vendor="",
                    product="",
                    version="",
                    security_version=-1,
                    verdict="",
                    envelope=raw,
                    file=str(self.root / rel),
                )

    def iter_records(self) -> Iterator[StoredRecord]:
        """Every record in file-name order (index fields come from the records)."""
        return self.iter_range(0, self.last_seq())

    def last_seq(self) -> int:
        """The highest sequence number in the bundle."""
        files = self._files()
        return files[-1][0] if files else 0

    def blob(self, digest: str) -> bytes:
        """A blob by sha256 (the caller checks the content hash)."""
        return confine.read_file(self.root, _blob_name(digest), limits=_BLOB_LIMITS)
