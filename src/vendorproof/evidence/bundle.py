"""Audit bundles: a self-contained directory an auditor replays on an offline laptop.

Layout::

    MANIFEST.json                  format, export time, record range, key ids, and the
                                   sha256 of every other file in the bundle
    operator-keys/<keyid>.pub      the operator public key(s) signing the records
    records/<seq:08d>.dsse.json    every record envelope, byte for byte as stored
    blobs/sha256/<hex>             every input document the records name

Integrity does not rest on the manifest: each record is signed and links to its
predecessor, and each blob is addressed by its digest. The manifest lets an auditor
check the bundle is complete before trusting it, and names the operator key ids to
compare with the operator's published fingerprint.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from vendorproof._internal import crypto
from vendorproof._internal.jsonio import (
    dump_json,
    parse_json,
    read_document,
    write_atomic,
)
from vendorproof.errors import InvalidInputError, OutputError
from vendorproof.evidence.record import EvidenceRecord, record_digest
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

    return StoreSource(open_store(location))


BUNDLE_FORMAT = "vendorproof-audit-bundle/v1"
_RECORD = re.compile(r"^(\d{8})\.dsse\.json$")
_HEX = re.compile(r"^[0-9a-f]{64}$")
_BLOB_LIMITS = Limits(max_document_bytes=1 << 30)


class StoreSource:
    """A store seen as a record source for replay."""

    def __init__(self, store: EvidenceStore, flt: RecordFilter | None = None) -> None:
        self.store = store
        self.flt = flt or RecordFilter()

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
        return ("store", self.store.url)

    def blob(self, digest: str) -> bytes:
        """A blob by sha256."""
        return self.store.blob(digest)


def export_bundle(
    store: EvidenceStore,
    out: Path,
    *,
    keys: Sequence[crypto.PublicKey],
    exported_at: str,
    flt: RecordFilter | None = None,
) -> int:
    """Write an audit bundle of ``store`` into the new directory ``out``.

    Returns:
        The number of records exported.

    Raises:
        OutputError: ``out`` exists or cannot be written.
    """
    try:
        out.mkdir(parents=False, exist_ok=False)
    except FileExistsError:
        raise OutputError(f"{out}: exists (choose a new directory)") from None
    except OSError as e:
        raise OutputError(f"{out}: {e.strerror}") from e
    files: dict[str, str] = {}

    def put(rel: str, data: bytes) -> None:
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
    count = 0
    seqs: list[int] = []
    blobs: set[str] = set()
    for stored in store.records(flt or RecordFilter()):
        put(f"records/{stored.seq:08d}.dsse.json", stored.envelope)
        seqs.append(stored.seq)
        count += 1
        try:
            names = EvidenceRecord.from_bytes(stored.envelope).inputs
        except InvalidInputError:
            names = store.inputs(stored.seq)  # replay will report the broken record
        for digest in names.values():
            if digest not in blobs:
                blobs.add(digest)
                put(f"blobs/sha256/{digest}", store.blob(digest))
    manifest: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "exportedAt": exported_at,
        "source": store.url,
        "records": {
            "count": count,
            "first": min(seqs, default=0),
            "last": max(seqs, default=0),
        },
        "operatorKeys": [crypto.key_id(k) for k in keys],
        "files": dict(sorted(files.items())),
    }
    write_atomic(out / "MANIFEST.json", dump_json(manifest))
    return count


class BundleSource:
    """An exported audit bundle seen as a record source (read-only)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        raw = read_document(root / "MANIFEST.json")
        data = f.check_type(
            parse_json(raw, file=str(root / "MANIFEST.json")), dict, "manifest"
        )
        if data.get("format") != BUNDLE_FORMAT:
            raise InvalidInputError(
                f"not a {BUNDLE_FORMAT} bundle",
                file=str(root / "MANIFEST.json"),
                path="format",
            )
        self.manifest = data

    def verify_manifest(self) -> list[str]:
        """Files missing, altered or unlisted relative to MANIFEST.json."""
        problems = []
        listed = f.check_type(self.manifest.get("files"), dict, "files")
        for rel, digest in sorted(listed.items()):
            p = self.root / rel
            if not p.is_file() or p.is_symlink():
                problems.append(f"{rel}: missing from the bundle")
            elif hashlib.sha256(p.read_bytes()).hexdigest() != digest:
                problems.append(f"{rel}: altered (sha256 differs from MANIFEST.json)")
        for dirpath, _dirs, names in os.walk(self.root):
            for name in names:
                rel = str(Path(dirpath, name).relative_to(self.root))
                if rel != "MANIFEST.json" and rel not in listed:
                    problems.append(f"{rel}: not listed in MANIFEST.json")
        return problems

    def spec(self) -> tuple[str, str]:
        """How another process reopens this source."""
        return ("bundle", str(self.root))

    def keys(self) -> list[crypto.PublicKey]:
        """The operator public keys shipped in the bundle."""
        kdir = self.root / "operator-keys"
        paths = sorted(kdir.glob("*.pub")) if kdir.is_dir() else []
        return [crypto.load_public_key(read_document(p), file=str(p)) for p in paths]

    #: The index fields are read from the signed records themselves (replay parses
    #: them anyway; there are no separate columns to compare).
    derived_index = True

    def _files(self) -> list[tuple[int, Path]]:
        rdir = self.root / "records"
        found = []
        for p in sorted(rdir.iterdir()) if rdir.is_dir() else []:
            m = _RECORD.fullmatch(p.name)
            if m:
                found.append((int(m.group(1)), p))
        return found

    def iter_range(self, first: int, last: int) -> Iterator[StoredRecord]:
        """Records ``first``..``last`` in file-name order."""
        for seq, path in self._files():
            if first <= seq <= last:
                raw = path.read_bytes()
                yield StoredRecord(
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
        if not _HEX.fullmatch(digest):
            raise InvalidInputError(f"bad blob digest {digest!r}")
        p = self.root / "blobs" / "sha256" / digest
        try:
            return read_document(p, limits=_BLOB_LIMITS)
        except InvalidInputError as e:
            raise e.in_file(str(p)) from e
