"""Helpers for the evidence store tests: backends, raw SQL, records, worker processes."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from vendorproof._internal.crypto import SigningKey
from vendorproof.evidence.record import sign_record
from vendorproof.evidence.store import (
    ChainHead,
    EvidenceStore,
    PreparedRecord,
    StoredRecord,
)

BACKENDS = ("sqlite", "postgresql")
TABLES = ("records", "blobs", "record_inputs", "schema_version")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Raw:
    """A plain driver connection (autocommit), for SQL the store never issues."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._sqlite: sqlite3.Connection | None = None
        self._pg: psycopg.Connection[tuple[Any, ...]] | None = None
        if backend.name == "sqlite":
            self._sqlite = sqlite3.connect(backend.path, isolation_level=None)
        else:
            self._pg = psycopg.connect(backend.url, autocommit=True)

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        if self._sqlite is not None:
            return self._sqlite.execute(sql, params).fetchall()
        assert self._pg is not None
        cur = self._pg.execute(sql.replace("?", "%s"), params)
        return cur.fetchall() if cur.description is not None else []

    def scalar(self, sql: str, params: Sequence[object] = ()) -> Any:
        return self.execute(sql, params)[0][0]

    def counts(self) -> dict[str, int]:
        """Rows per table (record_inputs absent before schema version 2)."""
        have = [t for t in TABLES if self.has_table(t)]
        return {t: int(self.scalar(f"SELECT count(*) FROM {t}")) for t in have}  # noqa: S608

    def has_table(self, table: str) -> bool:
        if self.backend.name == "sqlite":
            sql = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
        else:
            sql = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = ?"
        return bool(self.scalar(sql, (table,)))

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._pg is not None:
            self._pg.close()


@dataclass(frozen=True)
class Backend:
    """One store location under test."""

    name: str  # "sqlite" | "postgresql"
    url: str

    @property
    def path(self) -> str:
        return self.url.removeprefix("sqlite://")

    @property
    def error(self) -> type[Exception]:
        """The driver's base exception (what a refused raw statement raises)."""
        return sqlite3.Error if self.name == "sqlite" else psycopg.Error

    @contextmanager
    def raw(self) -> Iterator[Raw]:
        conn = Raw(self)
        try:
            yield conn
        finally:
            conn.close()


def builder(
    record_id: str,
    *,
    vendor: str = "acme",
    product: str = "ran-du",
    version: str = "1.0",
    security_version: int = 1,
    verdict: str = "PASSED",
    created_at: str = "2026-01-01T00:00:00Z",
    inputs: Mapping[str, str] | None = None,
    seen: list[ChainHead] | None = None,
) -> Callable[[ChainHead], PreparedRecord]:
    """An append callback whose envelope names the head it was built on."""

    def build(head: ChainHead) -> PreparedRecord:
        if seen is not None:
            seen.append(head)
        envelope = json.dumps(
            {"seq": head.seq + 1, "prev": head.digest, "id": record_id},
            sort_keys=True,
        ).encode()
        return PreparedRecord(
            record_id=record_id,
            created_at=created_at,
            vendor=vendor,
            product=product,
            version=version,
            security_version=security_version,
            verdict=verdict,
            envelope=envelope,
            inputs=dict(inputs or {}),
        )

    return build


def check_chain(store: EvidenceStore, backend: Backend) -> list[StoredRecord]:
    """Assert the stored chain is intact; return its records.

    Contiguous 1..n, each prev_digest is the previous digest, each digest is the
    sha256 of the envelope, each envelope was built on the head it is stored after,
    no duplicate ids, no input row without its record, every blob matches its digest.
    """
    records = list(store.records())
    assert [r.seq for r in records] == list(range(1, len(records) + 1))
    prev = None
    for r in records:
        assert r.prev_digest == prev
        assert r.digest == sha256(r.envelope)
        body = json.loads(r.envelope)
        assert (body["seq"], body["prev"]) == (r.seq, r.prev_digest)
        prev = r.digest
    assert len({r.record_id for r in records}) == len(records)
    with backend.raw() as raw:
        orphans = raw.scalar(
            "SELECT count(*) FROM record_inputs WHERE seq NOT IN (SELECT seq FROM records)"
        )
        assert orphans == 0
        for digest, content in raw.execute("SELECT digest, content FROM blobs"):
            assert sha256(bytes(content)) == digest
    return records


# A worker process: opens the store, says "ready", optionally waits for a line on
# stdin, then appends COUNT records ("in-transaction SEQ" from inside the callback,
# "committed SEQ" after each commit). The callback of append number SLEEP_AT sleeps
# for a minute (a process to kill -9 while it holds the chain lock).
WORKER = r"""
import hashlib, json, sys, time
from vendorproof.evidence.store import PreparedRecord, open_store

url, worker, count, sleep_at, wait = sys.argv[1:6]
count, sleep_at = int(count), int(sleep_at)
store = open_store(url)
print("ready", flush=True)
if wait == "1":
    sys.stdin.readline()
shared = b"shared policy document"

def sha(data):
    return hashlib.sha256(data).hexdigest()

for i in range(count):
    own = f"{worker} input {i}".encode()

    def build(head):
        print("in-transaction", head.seq + 1, flush=True)
        if i == sleep_at:
            time.sleep(60)
        body = {"seq": head.seq + 1, "prev": head.digest, "worker": worker, "i": i}
        return PreparedRecord(
            record_id=f"{worker}-{i}",
            created_at="2026-01-01T00:00:00Z",
            vendor="acme",
            product="ran-du",
            version=str(i),
            security_version=i,
            verdict="PASSED",
            envelope=json.dumps(body, sort_keys=True).encode(),
            inputs={"policy": sha(shared), "own": sha(own)},
        )

    stored = store.append(build, {sha(shared): shared, sha(own): own})
    print("committed", stored.seq, flush=True)
store.close()
"""


class Worker:
    """A WORKER subprocess with a line reader that never blocks past a deadline."""

    def __init__(
        self, url: str, name: str, count: int, *, sleep_at: int = -1, wait: bool = False
    ) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                url,
                name,
                str(count),
                str(sleep_at),
                "1" if wait else "0",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._buffer = b""
        self.lines: list[str] = []

    def read_line(self, timeout: float = 30.0) -> str | None:
        """The next stdout line, or None at end of output."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"worker {self.name}: no output for {timeout} s")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return None
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        text = line.decode()
        self.lines.append(text)
        return text

    def wait_for(self, prefix: str, timeout: float = 30.0) -> str:
        """Read up to the first line starting with ``prefix``."""
        while (line := self.read_line(timeout)) is not None:
            if line.startswith(prefix):
                return line
        raise AssertionError(
            f"worker {self.name} ended before {prefix!r}: {self.stderr()}"
        )

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        """SIGKILL the worker, then read what it printed before it died.

        ``lines`` then holds every line the worker wrote, not only those read before
        the kill: a worker that ran ahead of the reader has committed (and reported)
        more than the reader saw.
        """
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        assert self.proc.returncode == -signal.SIGKILL
        while self.read_line() is not None:
            pass

    def finish(self, timeout: float = 60.0) -> None:
        """Wait for a clean exit (all output read)."""
        while self.read_line(timeout) is not None:
            pass
        assert self.proc.wait(timeout=timeout) == 0, self.stderr()

    def stderr(self) -> str:
        assert self.proc.stderr is not None
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            return "(still running)"
        return self.proc.stderr.read().decode(errors="replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


# --- records and audit bundles as an attacker changes them ---------------------------


def statement_of(envelope: bytes) -> dict[str, Any]:
    """The record statement inside a stored envelope."""
    payload = json.loads(envelope)["payload"]
    data: dict[str, Any] = json.loads(base64.b64decode(payload))
    return data


def resign(
    envelope: bytes, mutate: Callable[[dict[str, Any]], None], key: SigningKey
) -> bytes:
    """The record with its statement changed by ``mutate``, signed again by ``key``."""
    statement = statement_of(envelope)
    mutate(statement)
    return sign_record(statement, key)


def extension(statement: dict[str, Any]) -> dict[str, Any]:
    """``predicate.vendorproof`` of a record statement."""
    ext: dict[str, Any] = statement["predicate"]["vendorproof"]
    return ext


def manifest(bundle: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((bundle / "MANIFEST.json").read_bytes())
    return data


def write_manifest(bundle: Path, data: dict[str, Any]) -> None:
    (bundle / "MANIFEST.json").write_text(json.dumps(data, indent=2, sort_keys=True))


def relist(bundle: Path, **records: object) -> None:
    """Make MANIFEST.json agree with the bundle's files, as a careful attacker would.

    ``records`` overrides fields of the manifest's ``records`` claims.
    """
    data = manifest(bundle)
    files = {}
    for path in sorted(bundle.rglob("*")):
        rel = path.relative_to(bundle).as_posix()
        if path.is_file() and not path.is_symlink() and rel != "MANIFEST.json":
            files[rel] = sha256(path.read_bytes())
    data["files"] = files
    data["records"].update(records)
    write_manifest(bundle, data)
