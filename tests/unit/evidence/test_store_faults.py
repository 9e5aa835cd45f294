"""The evidence store under faults and misuse, on both backends where it applies.

Read-only opens never create, migrate or write; foreign, empty and truncated files are
refused before anything is written; a silent PostgreSQL port does not hang; a
connection lost in the middle of an append is reported and the retry continues the
chain.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from tests.builders import KEYS, SAMPLE_AT, SAMPLE_DELIVERY, SAMPLE_POLICY
from tests.pg import PostgresCluster, running_cluster
from tests.unit.evidence.support import Backend, builder
from vendorproof._internal import crypto
from vendorproof.errors import InvalidInputError, OutputError
from vendorproof.evidence import _migrations, _postgres
from vendorproof.evidence.bundle import StoreSource
from vendorproof.evidence.intake import record_builder, run_intake
from vendorproof.evidence.replay import replay
from vendorproof.evidence.store import (
    ChainHead,
    PreparedRecord,
    _connect,
    open_read_only,
    open_store,
)
from vendorproof.intake import check_delivery, load_policy

KEY = crypto.load_private_key(
    (KEYS / "operator" / "intake.key").read_bytes(), None, file="intake.key"
)
PUB = crypto.as_public_key(KEY.public_key())


def _versions(backend: Backend) -> list[int]:
    with backend.raw() as raw:
        if not raw.has_table("schema_version"):
            return []
        return [int(v) for (v,) in raw.execute("SELECT version FROM schema_version")]


# --- read-only opens ------------------------------------------------------------------


def test_read_only_open_reads_and_never_writes(backend: Backend) -> None:
    with closing(open_store(backend.url)) as store:
        store.append(builder("r1"), {})
    with closing(open_read_only(backend.url)) as store:
        assert [r.record_id for r in store.records()] == ["r1"]
        assert store.schema_version() == _migrations.LATEST
        with pytest.raises(OutputError, match="read-only"):
            store.append(builder("r2"), {})
    with closing(open_store(backend.url)) as store:
        assert store.last_seq() == 1


def test_read_only_open_does_not_migrate_an_old_store(backend: Backend) -> None:
    db = _connect(backend.url)
    try:
        assert _migrations.migrate(db, target=3) == 3
    finally:
        db.close()
    with pytest.raises(InvalidInputError) as err:
        open_read_only(backend.url)
    assert "schema version 3" in str(err.value)
    assert "evidence migrate" in str(err.value)
    assert _versions(backend) == [1, 2, 3]
    # A writer migrates it.
    open_store(backend.url).close()
    assert _versions(backend) == list(range(1, _migrations.LATEST + 1))


def test_read_only_open_of_a_database_without_schema(backend: Backend) -> None:
    if backend.name == "sqlite":
        sqlite3.connect(backend.path).execute("PRAGMA user_version = 1").close()
    with pytest.raises(InvalidInputError, match="no evidence schema"):
        open_read_only(backend.url)
    assert _versions(backend) == []


def test_read_only_open_never_creates_a_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(InvalidInputError, match="no evidence store here"):
        open_read_only(str(missing))
    assert not missing.exists()
    assert list(tmp_path.iterdir()) == []


def test_zero_byte_store_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "evidence.db"
    empty.write_bytes(b"")
    for opener in (open_store, open_read_only):
        with pytest.raises(InvalidInputError, match="empty \\(0 bytes\\)"):
            opener(str(empty))
    assert empty.read_bytes() == b""


def test_foreign_sqlite_file_is_refused_before_any_write(tmp_path: Path) -> None:
    foreign = tmp_path / "app.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE users (name TEXT)")
    conn.execute("INSERT INTO users VALUES ('alice')")
    conn.commit()
    conn.close()
    before = foreign.read_bytes()
    for opener in (open_store, open_read_only):
        with pytest.raises(InvalidInputError, match="not a vendorproof evidence store"):
            opener(str(foreign))
    # Byte for byte as it was: in particular not switched to WAL (header bytes 18-19
    # are 1 for a rollback journal, 2 for WAL).
    assert foreign.read_bytes() == before
    assert before[18:20] == b"\x01\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]


def test_new_sqlite_store_never_appears_empty(tmp_path: Path) -> None:
    # Created beside its final name and linked into place: never seen at 0 bytes,
    # so opening a store that another process is creating is not refused as empty.
    path = tmp_path / "evidence.db"
    with closing(open_store(str(path))) as store:
        assert store.last_seq() == 0
    assert path.stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


# --- PostgreSQL: timeouts and lost connections ----------------------------------------


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never says anything."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=10)
        for conn in held:
            conn.close()
        server.close()


def _open_in_thread(url: str) -> BaseException | None:
    """Open ``url`` in a thread; return what it raised (fails if it hangs)."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            open_store(url).close()
        except BaseException as e:  # noqa: BLE001 - handed to the test
            outcome.append(e)
        else:
            outcome.append(None)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive(), "opening the store hung on a silent port"
    return outcome[0]


def test_silent_postgres_port_times_out_by_default(
    silent_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    monkeypatch.setattr(_postgres, "CONNECT_TIMEOUT", 2)
    error = _open_in_thread(f"postgresql://vp@127.0.0.1:{silent_port}/evidence")
    assert isinstance(error, InvalidInputError)
    assert "cannot connect to the evidence store" in str(error)
    assert "\n" not in str(error)


def test_connect_timeout_in_the_url_wins(silent_port: int) -> None:
    url = f"postgresql://vp@127.0.0.1:{silent_port}/evidence?connect_timeout=2"
    assert _postgres._has_connect_timeout(url)
    error = _open_in_thread(url)
    assert isinstance(error, InvalidInputError)
    assert "cannot connect" in str(error)


def _intake(url: str, *, window: timedelta = timedelta(0)) -> int:
    with closing(open_store(url)) as store:
        return run_intake(
            SAMPLE_DELIVERY,
            SAMPLE_POLICY,
            store=store,
            key=KEY,
            actor="t",
            at=SAMPLE_AT,
            time_source="--at",
            window=window,
        ).record.seq


def test_connection_lost_mid_append_is_reported_and_retry_continues(
    pg_cluster: PostgresCluster,
) -> None:
    url = pg_cluster.create_database()
    assert _intake(url) == 1
    policy = load_policy(SAMPLE_POLICY)
    report = check_delivery(SAMPLE_DELIVERY, policy, at=SAMPLE_AT, time_source="--at")
    inner = record_builder(report, policy, {}, key=KEY, actor="t")

    def build(head: ChainHead) -> PreparedRecord:
        # The server ends this session while it holds the chain lock (an admin's
        # pg_terminate_backend, a failover, a network cut).
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"
            )
        return inner(head)

    with closing(open_store(url)) as store, pytest.raises(OutputError) as err:
        store.append(build, {})
    message = str(err.value)
    assert "connection to the evidence store was lost" in message
    assert "run the same intake again" in message
    assert "\n" not in message
    # Nothing half-written; the retried intake continues the chain.
    assert _intake(url) == 2
    with closing(open_read_only(url)) as store:
        summary = replay(StoreSource(store), keys=[PUB])
    assert summary.ok, [r.problems for r in summary.records]


def test_server_stopped_mid_append_then_retry() -> None:
    with running_cluster() as cluster:
        url = cluster.create_database()
        assert _intake(url) == 1
        stopped = False

        def build(head: ChainHead) -> PreparedRecord:
            nonlocal stopped
            cluster.stop("fast")
            stopped = True
            return builder("never")(head)

        with closing(open_store(url)) as store, pytest.raises(OutputError) as err:
            store.append(build, {})
        assert stopped
        assert "connection to the evidence store was lost" in str(err.value)
        cluster.start()
        url = cluster.url(url.rsplit("/", 1)[1])
        assert _intake(url) == 2
