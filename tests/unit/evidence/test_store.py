"""The evidence store on SQLite and PostgreSQL: chain, append-only, atomicity,
crash safety, concurrent writers, migrations and URLs."""

from __future__ import annotations

import itertools
import json
import random
import re
import socket
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.pg import PostgresCluster
from tests.unit.evidence.support import (
    Backend,
    Worker,
    builder,
    check_chain,
    sha256,
)
from vendorproof.errors import InvalidInputError, OutputError
from vendorproof.evidence import _migrations, _postgres, _sqlite
from vendorproof.evidence.store import (
    DEFAULT_STORE,
    ChainHead,
    EvidenceStore,
    PreparedRecord,
    RecordFilter,
    _connect,
    open_store,
)

POLICY = b"policy: v1\n"
MANIFEST = b'{"manifest": 1}'


def blobs(*contents: bytes) -> dict[str, bytes]:
    return {sha256(c): c for c in contents}


# --- round trip, chain, blobs, inputs -------------------------------------------------


def test_append_and_read_back(store: EvidenceStore, backend: Backend) -> None:
    inputs = {
        "policy": sha256(POLICY),
        "attestations/manifest.sigstore.json": sha256(MANIFEST),
    }
    appended = [
        store.append(
            builder(f"r{i}", inputs=inputs, security_version=i), blobs(POLICY, MANIFEST)
        )
        for i in range(1, 4)
    ]
    assert [r.seq for r in appended] == [1, 2, 3]
    assert appended[0].prev_digest is None
    for prev, cur in itertools.pairwise(appended):
        assert cur.prev_digest == prev.digest
    assert list(store.records()) == appended
    for r in appended:
        got = store.record(r.seq)
        assert got == r
        assert got.envelope == r.envelope  # exactly the stored bytes
        assert got.digest == sha256(got.envelope)
        assert dict(store.inputs(r.seq)) == inputs
    assert check_chain(store, backend) == appended
    assert store.schema_version() == _migrations.LATEST


def test_blobs_are_content_addressed_and_deduplicated(
    store: EvidenceStore, backend: Backend
) -> None:
    store.append(builder("a"), blobs(POLICY, MANIFEST))
    store.append(builder("b"), blobs(POLICY))
    store.append(builder("c"), {})
    with backend.raw() as raw:
        assert raw.scalar("SELECT count(*) FROM blobs") == 2
    assert store.blob(sha256(POLICY)) == POLICY
    assert store.blob(sha256(MANIFEST)) == MANIFEST
    with pytest.raises(InvalidInputError, match="no blob sha256:"):
        store.blob(sha256(b"never stored"))


def test_inputs(store: EvidenceStore) -> None:
    store.append(
        builder("with", inputs={"policy": sha256(POLICY), "b": sha256(b"x")}), {}
    )
    store.append(builder("without"), {})
    assert store.inputs(1) == {"b": sha256(b"x"), "policy": sha256(POLICY)}
    assert store.inputs(2) == {}
    with pytest.raises(InvalidInputError, match="no record 3"):
        store.inputs(3)
    with pytest.raises(InvalidInputError, match="no record 3"):
        store.record(3)


def test_filters(store: EvidenceStore) -> None:
    rows = [
        ("acme", "du", "PASSED", "2026-01-01T00:00:00Z"),
        ("acme", "du", "FAILED", "2026-01-01T00:00:00.500000Z"),
        ("acme", "cu", "PASSED", "2026-01-01T00:00:01Z"),
        ("other", "du", "PASSED", "2026-01-02T12:00:00Z"),
        ("other", "cu", "FAILED", "2026-01-03T00:00:00.000001Z"),
    ]
    for i, (vendor, product, verdict, at) in enumerate(rows, 1):
        store.append(
            builder(
                f"r{i}", vendor=vendor, product=product, verdict=verdict, created_at=at
            ),
            {},
        )

    def seqs(**kw: object) -> list[int]:
        return [r.seq for r in store.records(RecordFilter(**kw))]  # type: ignore[arg-type]

    assert seqs() == [1, 2, 3, 4, 5]
    assert seqs(vendor="acme") == [1, 2, 3]
    assert seqs(vendor="acme", product="du") == [1, 2]
    assert seqs(product="cu") == [3, 5]
    assert seqs(verdict="FAILED") == [2, 5]
    assert seqs(vendor="nobody") == []
    assert seqs(first=2, last=4) == [2, 3, 4]
    assert seqs(first=4) == [4, 5]
    assert seqs(last=1) == [1]
    # Time bounds are inclusive and compare instants, whatever the precision.
    assert seqs(since="2026-01-01T00:00:00.5Z") == [2, 3, 4, 5]
    assert seqs(since="2026-01-01T00:00:00.500001Z") == [3, 4, 5]
    assert seqs(until="2026-01-01T00:00:00Z") == [1]
    assert seqs(until="2026-01-01T00:00:00.499Z") == [1]
    assert seqs(until="2026-01-01T00:00:01Z") == [1, 2, 3]
    assert seqs(since="2026-01-01T00:00:01Z", until="2026-01-03T00:00:00Z") == [3, 4]
    assert seqs(since="2026-01-03T00:00:00Z") == [5]
    assert seqs(
        since="2026-01-02T13:00:00+01:00", until="2026-01-02T13:00:00+01:00"
    ) == [4]
    assert seqs(vendor="other", verdict="PASSED", since="2026-01-02T00:00:00Z") == [4]
    with pytest.raises(InvalidInputError, match="RFC 3339"):
        store.records(RecordFilter(since="yesterday"))


def test_records_are_read_in_pages(store: EvidenceStore) -> None:
    for i in range(600):
        store.append(builder(f"r{i}", vendor="acme" if i % 3 else "other"), {})
    assert [r.seq for r in store.records()] == list(range(1, 601))
    assert [r.seq for r in store.records(RecordFilter(vendor="other"))] == list(
        range(1, 601, 3)
    )
    assert [r.seq for r in store.records(RecordFilter(first=300, last=559))] == list(
        range(300, 560)
    )


def test_chain_head_and_rollback_floor(store: EvidenceStore) -> None:
    seen: list[ChainHead] = []
    floors: list[int | None] = []

    def build(head: ChainHead) -> PreparedRecord:
        floors.append(head.max_accepted_security_version("acme", "du"))
        return builder(f"r{head.seq}", product="du", security_version=7)(head)

    store.append(build, {})
    store.append(builder("x", product="du", security_version=9, verdict="FAILED"), {})
    store.append(builder("y", product="cu", security_version=8), {})
    store.append(builder("z", vendor="other", product="du", security_version=8), {})
    store.append(build, {})
    assert floors == [None, 7]
    store.append(builder("last", seen=seen), {})
    assert (seen[-1].seq, seen[-1].digest) == (5, store.record(5).digest)
    # The head is valid only under the lock, inside the callback.
    with pytest.raises(RuntimeError, match="only inside the append callback"):
        seen[-1].max_accepted_security_version("acme", "du")


# --- append-only ----------------------------------------------------------------------

WRITES = {
    "records": (
        "UPDATE records SET vendor = 'evil' WHERE seq = 1",
        "DELETE FROM records WHERE seq = 2",
    ),
    "blobs": (
        "UPDATE blobs SET content = ? WHERE digest = ?",
        "DELETE FROM blobs",
    ),
    "record_inputs": (
        "UPDATE record_inputs SET digest = ? WHERE seq = 1",
        "DELETE FROM record_inputs WHERE seq = 1",
    ),
    "schema_version": (
        "UPDATE schema_version SET version = 1",
        "DELETE FROM schema_version WHERE version = 2",
    ),
}


def _fill(store: EvidenceStore) -> None:
    store.append(builder("r1", inputs={"policy": sha256(POLICY)}), blobs(POLICY))
    store.append(builder("r2", inputs={"policy": sha256(POLICY)}), blobs(MANIFEST))


@pytest.mark.parametrize("table", list(WRITES))
@pytest.mark.parametrize("op", ["UPDATE", "DELETE"])
def test_database_refuses_update_and_delete(
    store: EvidenceStore, backend: Backend, table: str, op: str
) -> None:
    _fill(store)
    sql = WRITES[table][op == "DELETE"]
    params = {"blobs": (b"evil", sha256(POLICY)), "record_inputs": (sha256(b"evil"),)}
    with backend.raw() as raw:
        before = raw.counts()
        with pytest.raises(
            backend.error, match=f"append-only: {op} on {table} refused"
        ):
            raw.execute(sql, params.get(table, ()) if op == "UPDATE" else ())
        assert raw.counts() == before
    check_chain(store, backend)
    assert store.blob(sha256(POLICY)) == POLICY
    assert store.record(1).vendor == "acme"


def test_database_refuses_forks_gaps_and_stray_inputs(
    store: EvidenceStore, backend: Backend
) -> None:
    _fill(store)
    head = store.record(2)
    columns = "seq, record_id, digest, prev_digest, created_at, vendor, product, version, security_version, verdict, envelope"
    values = "?, ?, ?, ?, '2026-01-01T00:00:00Z', 'v', 'p', '1', 1, 'PASSED', ?"
    insert = f"INSERT INTO records ({columns}) VALUES ({values})"  # noqa: S608
    bad = {
        "gap": (5, "gap", sha256(b"gap"), head.digest, b"gap"),
        "fork": (3, "fork", sha256(b"fork"), store.record(1).digest, b"fork"),
        "duplicate seq": (2, "dup", sha256(b"dup"), store.record(1).digest, b"dup"),
        "no predecessor": (3, "root", sha256(b"root"), None, b"root"),
    }
    with backend.raw() as raw:
        for case, params in bad.items():
            with pytest.raises(backend.error):  # noqa: PT012
                raw.execute(insert, params)
                pytest.fail(f"{case} accepted")
        # Inputs can only be added to the head record, with it.
        with pytest.raises(backend.error):
            raw.execute(
                "INSERT INTO record_inputs VALUES (1, 'late', ?)", (sha256(b"x"),)
            )
        with pytest.raises(backend.error):
            raw.execute(
                "INSERT INTO record_inputs VALUES (9, 'orphan', ?)", (sha256(b"x"),)
            )
    check_chain(store, backend)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_refuses_insert_or_replace(
    store: EvidenceStore, backend: Backend
) -> None:
    # REPLACE deletes the conflicting row without firing DELETE triggers (unless the
    # writer enabled recursive_triggers): the BEFORE INSERT triggers refuse it.
    _fill(store)
    r1 = store.record(1)
    with backend.raw() as raw:
        before = raw.counts()
        with pytest.raises(backend.error, match="blob already stored"):
            raw.execute(
                "INSERT OR REPLACE INTO blobs VALUES (?, ?)", (sha256(POLICY), b"x")
            )
        with pytest.raises(backend.error, match="must follow the head"):
            raw.execute(
                "INSERT OR REPLACE INTO records VALUES (3, ?, ?, ?, 't', 'v', 'p', '1', 1, 'PASSED', ?, NULL)",
                (r1.record_id, sha256(b"new"), store.record(2).digest, b"new"),
            )
        with pytest.raises(backend.error, match="inputs of a record"):
            raw.execute(
                "REPLACE INTO record_inputs VALUES (2, 'policy', ?)", (sha256(b"x"),)
            )
        assert raw.counts() == before
    assert store.record(1) == r1
    assert store.blob(sha256(POLICY)) == POLICY


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgres_refuses_truncate_and_upsert(
    store: EvidenceStore, backend: Backend
) -> None:
    _fill(store)
    with backend.raw() as raw:
        before = raw.counts()
        for table in ("records", "blobs", "record_inputs", "schema_version"):
            with pytest.raises(backend.error, match=f"TRUNCATE on {table} refused"):
                raw.execute(f"TRUNCATE {table} CASCADE")
        with pytest.raises(backend.error, match="UPDATE on blobs refused"):
            raw.execute(
                "INSERT INTO blobs VALUES (?, ?) ON CONFLICT (digest) DO UPDATE SET content = EXCLUDED.content",
                (sha256(POLICY), b"evil"),
            )
        assert raw.counts() == before
    check_chain(store, backend)


# --- atomicity ------------------------------------------------------------------------


class BoomError(Exception):
    pass


def test_build_raising_stores_nothing(store: EvidenceStore, backend: Backend) -> None:
    store.append(builder("r1", inputs={"policy": sha256(POLICY)}), blobs(POLICY))
    with backend.raw() as raw:
        before = raw.counts()

    def build(head: ChainHead) -> PreparedRecord:
        assert head.seq == 1
        raise BoomError

    with pytest.raises(BoomError):
        store.append(build, blobs(MANIFEST))
    with backend.raw() as raw:
        assert raw.counts() == before

    def driver_error(head: ChainHead) -> PreparedRecord:
        raise backend.error("raised by the callback")

    with pytest.raises(backend.error, match="raised by the callback") as err:
        store.append(driver_error, blobs(MANIFEST))
    assert not isinstance(err.value, InvalidInputError | OutputError)  # not wrapped
    with backend.raw() as raw:
        assert raw.counts() == before
    assert store.append(builder("r2"), {}).seq == 2
    with pytest.raises(InvalidInputError, match="no blob"):
        store.blob(sha256(MANIFEST))
    check_chain(store, backend)


def test_blob_digest_mismatch_stores_nothing(
    store: EvidenceStore, backend: Backend
) -> None:
    called: list[ChainHead] = []
    with pytest.raises(InvalidInputError, match="does not match its digest"):
        store.append(
            builder("r1", seen=called), {sha256(POLICY): POLICY, sha256(b"a"): b"b"}
        )
    with pytest.raises(InvalidInputError, match="lowercase hex sha256"):
        store.append(builder("r1", seen=called), {sha256(POLICY).upper(): POLICY})
    assert called == []  # refused before the chain was even locked
    with backend.raw() as raw:
        assert raw.counts()["records"] == raw.counts()["blobs"] == 0
    assert store.append(builder("r1"), blobs(POLICY)).seq == 1


def test_refusal_after_build_rolls_back_its_blobs(
    store: EvidenceStore, backend: Backend
) -> None:
    store.append(builder("r1"), {})
    with pytest.raises(InvalidInputError, match="already in the evidence store"):
        store.append(builder("r1"), blobs(MANIFEST))
    with backend.raw() as raw:
        assert raw.counts() == {
            "records": 1,
            "blobs": 0,
            "record_inputs": 0,
            "schema_version": _migrations.LATEST,
        }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("verdict", "MAYBE", "PASSED or FAILED"),
        ("created_at", "2026-01-01 00:00:00", "RFC 3339 UTC"),
        ("created_at", "2026-01-01T00:00:00+01:00", "RFC 3339 UTC"),
        ("created_at", "2026-01-01T00:00:00.5Z", "RFC 3339 UTC"),
        ("record_id", "", "must not be empty"),
        ("security_version", 2**63, "64-bit integer"),
        ("envelope", b"", "must not be empty"),
        ("inputs", {"policy": "sha256:abc"}, "lowercase hex sha256"),
    ],
)
def test_malformed_prepared_record_stores_nothing(
    store: EvidenceStore, backend: Backend, field: str, value: object, message: str
) -> None:
    def build(head: ChainHead) -> PreparedRecord:
        good = builder("r1")(head)
        fields = {f: getattr(good, f) for f in PreparedRecord.__dataclass_fields__}
        return PreparedRecord(**{**fields, field: value})

    with pytest.raises(InvalidInputError, match=message):
        store.append(build, blobs(POLICY))
    with backend.raw() as raw:
        assert raw.counts()["records"] == raw.counts()["blobs"] == 0


def test_writer_waiting_too_long_gives_up(
    store: EvidenceStore, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.append(builder("r1"), {})
    # Another writer holds the chain lock: the append waits, then fails cleanly.
    if backend.name == "sqlite":
        monkeypatch.setattr(_sqlite, "BUSY_TIMEOUT", 0.2)
        hold = "BEGIN IMMEDIATE"
    else:
        monkeypatch.setattr(_postgres, "LOCK_TIMEOUT", "200ms")
        hold = f"BEGIN; SELECT pg_advisory_xact_lock({_postgres.CHAIN_LOCK})"
    with closing(open_store(backend.url)) as waiting, backend.raw() as raw:
        raw.execute(hold)
        with pytest.raises(OutputError, match="cannot append to the evidence store"):
            waiting.append(builder("r2"), blobs(POLICY))
        raw.execute("ROLLBACK")
        assert waiting.append(builder("r2"), {}).seq == 2
    check_chain(store, backend)


# --- crash safety and concurrent writers ----------------------------------------------


def test_sigkill_inside_the_transaction(store: EvidenceStore, backend: Backend) -> None:
    # The worker commits 3 records, then is killed while its 4th callback holds the
    # chain lock.
    worker = Worker(backend.url, "w", 10, sleep_at=3)
    try:
        assert worker.wait_for("in-transaction 4") == "in-transaction 4"
        worker.kill()
    finally:
        worker.close()
    assert [line for line in worker.lines if line.startswith("committed")] == [
        "committed 1",
        "committed 2",
        "committed 3",
    ]
    records = check_chain(store, backend)
    assert [r.record_id for r in records] == ["w-0", "w-1", "w-2"]
    assert store.append(builder("after"), {}).seq == 4  # the lock was released
    check_chain(store, backend)


def test_sigkill_at_random_moments(store: EvidenceStore, backend: Backend) -> None:
    rng = random.Random(1234)  # noqa: S311 (timing, not security)
    committed = 0
    for round_ in range(3):
        worker = Worker(backend.url, f"k{round_}", 100_000)
        try:
            worker.wait_for("committed")
            for _ in range(rng.randrange(5, 30)):
                worker.wait_for("committed")
            worker.kill()  # somewhere in the append loop, usually mid-transaction
        finally:
            worker.close()
        done = [int(x.split()[1]) for x in worker.lines if x.startswith("committed")]
        records = check_chain(store, backend)
        # Every commit it reported is there; at most one more (killed between its
        # commit and its print).
        assert done[-1] <= len(records) <= done[-1] + 1
        assert len(records) > committed
        committed = len(records)
        for r in records:
            assert set(store.inputs(r.seq)) == {"policy", "own"}
    assert store.append(builder("after"), {}).seq == committed + 1


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_concurrent_writers_make_one_chain(
    request: pytest.FixtureRequest, tmp_path: Path, kind: str
) -> None:
    # A brand-new store: the four workers also race to create and migrate it.
    if kind == "sqlite":
        backend = Backend("sqlite", str(tmp_path / "evidence.db"))
    else:
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        backend = Backend("postgresql", cluster.create_database())
        with backend.raw() as raw:
            # A server default the store must override: under REPEATABLE READ the
            # head would be read from a snapshot taken before the lock was granted.
            db = backend.url.rsplit("/", 1)[1]
            raw.execute(
                f"ALTER DATABASE {db} SET default_transaction_isolation = 'repeatable read'"
            )
    workers = [Worker(backend.url, f"w{n}", 50, wait=True) for n in range(4)]
    try:
        for w in workers:
            w.wait_for("ready")
        for w in workers:
            w.go()
        for w in workers:
            w.finish()
    finally:
        for w in workers:
            w.close()
    with closing(open_store(backend.url)) as store:
        records = check_chain(store, backend)
        assert len(records) == 200
        assert sorted(r.record_id for r in records) == sorted(
            f"w{n}-{i}" for n in range(4) for i in range(50)
        )
        for n in range(4):  # each worker's records in its own order
            mine = [
                json.loads(r.envelope)["i"]
                for r in records
                if r.record_id.startswith(f"w{n}-")
            ]
            assert mine == list(range(50))
    with backend.raw() as raw:
        assert raw.execute("SELECT version FROM schema_version ORDER BY version") == [
            (v,) for v in range(1, _migrations.LATEST + 1)
        ]
        assert raw.scalar("SELECT count(*) FROM blobs") == 1 + 200
        assert raw.scalar("SELECT count(*) FROM record_inputs") == 400


# --- migrations -----------------------------------------------------------------------


def test_store_created_at_v1_is_migrated_on_open(backend: Backend) -> None:
    db = _connect(backend.url)
    try:
        assert _migrations.migrate(db, target=1) == 1
    finally:
        db.close()
    old_envelope = json.dumps({"seq": 1, "prev": None, "id": "old"}).encode()
    with backend.raw() as raw:
        assert raw.execute("SELECT version FROM schema_version") == [(1,)]
        assert not raw.has_table("record_inputs")
        # A record the v1 way: no input rows existed then.
        raw.execute(
            "INSERT INTO blobs (digest, content) VALUES (?, ?)",
            (sha256(POLICY), POLICY),
        )
        raw.execute(
            "INSERT INTO records (seq, record_id, digest, prev_digest, created_at, vendor, product, version, security_version, verdict, envelope) "
            "VALUES (1, 'old', ?, NULL, '2025-06-01T00:00:00Z', 'acme', 'du', '0.9', 3, 'PASSED', ?)",
            (sha256(old_envelope), old_envelope),
        )
        # Already append-only at v1.
        with pytest.raises(backend.error, match="append-only"):
            raw.execute("DELETE FROM records")

    with closing(open_store(backend.url)) as store:
        assert store.schema_version() == _migrations.LATEST
        old = store.record(1)
        assert (old.record_id, old.envelope, old.security_version) == (
            "old",
            old_envelope,
            3,
        )
        assert store.inputs(1) == {}
        assert store.blob(sha256(POLICY)) == POLICY
        floors: list[int | None] = []

        def build(head: ChainHead) -> PreparedRecord:
            floors.append(head.max_accepted_security_version("acme", "du"))
            return builder("new", product="du", inputs={"policy": sha256(POLICY)})(head)

        new = store.append(build, blobs(POLICY))
        assert (new.seq, new.prev_digest, floors) == (2, old.digest, [3])
        assert store.inputs(2) == {"policy": sha256(POLICY)}
        check_chain(store, backend)
    with backend.raw() as raw:
        assert raw.execute("SELECT version FROM schema_version ORDER BY version") == [
            (v,) for v in range(1, _migrations.LATEST + 1)
        ]
        with pytest.raises(backend.error, match="append-only"):
            raw.execute("DELETE FROM record_inputs")
    with closing(open_store(backend.url)) as store:  # a current store: nothing to do
        assert store.schema_version() == _migrations.LATEST


def test_store_from_a_newer_vendorproof_is_refused(backend: Backend) -> None:
    open_store(backend.url).close()
    with backend.raw() as raw:
        raw.execute(
            "INSERT INTO schema_version (version, description) VALUES (?, 'future')"
            if backend.name == "sqlite"
            else "INSERT INTO schema_version (version, description) VALUES (%s, 'future')",
            (_migrations.LATEST + 1,),
        )
    with pytest.raises(
        InvalidInputError, match="created by a newer vendorproof"
    ) as err:
        open_store(backend.url)
    assert "\n" not in str(err.value)


def test_database_that_is_not_a_store_is_refused(backend: Backend) -> None:
    with backend.raw() as raw:
        raw.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
    with pytest.raises(InvalidInputError, match="not a vendorproof evidence store"):
        open_store(backend.url)
    with backend.raw() as raw:
        assert not raw.has_table("records")


def test_migration_runner_bounds(tmp_path: Path) -> None:
    assert [m.version for m in _migrations.MIGRATIONS] == list(
        range(1, _migrations.LATEST + 1)
    )
    for m in _migrations.MIGRATIONS:
        assert m.sqlite
        assert m.postgresql
    db = _connect(str(tmp_path / "evidence.db"))
    try:
        with pytest.raises(ValueError, match="no schema version"):
            _migrations.migrate(db, target=_migrations.LATEST + 1)
    finally:
        db.close()


# --- locations ------------------------------------------------------------------------


def _one_line_error(url: str) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as err:
        open_store(url)
    assert "\n" not in str(err.value)
    return err.value


def test_bad_locations(tmp_path: Path) -> None:
    assert "unsupported evidence store URL scheme 'mysql'" in str(
        _one_line_error("mysql://x")
    )
    assert "unsupported" in str(_one_line_error("mysql://root:hunter2@db/x"))
    assert "hunter2" not in str(_one_line_error("mysql://root:hunter2@db/x"))
    err = _one_line_error(str(tmp_path))  # a directory
    assert str(err).startswith(f"{tmp_path}: cannot open the evidence store")
    assert "cannot open" in str(
        _one_line_error(str(tmp_path / "missing" / "evidence.db"))
    )
    not_db = tmp_path / "notes.txt"
    not_db.write_bytes(b"this is not a database, " * 100)
    assert "not a database" in str(_one_line_error(str(not_db)))
    assert "sqlite:///ABSOLUTE/PATH" in str(_one_line_error("sqlite://relative.db"))
    assert "empty" in str(_one_line_error(""))


def test_unreachable_postgres_is_one_line_without_password() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    err = _one_line_error(
        f"postgresql://vp:hunter2@127.0.0.1:{port}/evidence?password=x2"
    )
    assert "cannot connect to the evidence store" in str(err)
    assert "hunter2" not in str(err)
    assert "x2" not in str(err)
    assert err.file == f"postgresql://vp@127.0.0.1:{port}/evidence"


def test_sqlite_location_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with closing(open_store(DEFAULT_STORE)) as store:
        assert store.url == f"sqlite://{tmp_path / DEFAULT_STORE}"
        store.append(builder("r1"), {})
    with closing(open_store(f"sqlite://{tmp_path / DEFAULT_STORE}")) as store:
        assert [r.record_id for r in store.records()] == ["r1"]
    assert DEFAULT_STORE == "vendorproof-evidence.db"
    # The WAL journal mode is persistent: check it on the file itself.
    con = sqlite3.connect(tmp_path / DEFAULT_STORE)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        con.close()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgres_url_has_no_password(backend: Backend) -> None:
    with_password = backend.url.replace("postgres@", "postgres:s3cret@")
    with closing(open_store(with_password)) as store:
        assert store.url == backend.url
        assert "s3cret" not in repr(store)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgres_writer_role_from_the_docs(backend: Backend) -> None:
    # The grants in docs/evidence-store.md: the writer can open the store and
    # append, and cannot UPDATE, DELETE, TRUNCATE or drop the triggers.
    doc = (Path(__file__).parents[3] / "docs" / "evidence-store.md").read_text()
    grants = re.search(r"<!-- writer-role -->\s*```sql\n(.*?)```", doc, re.DOTALL)
    assert grants is not None
    open_store(backend.url).close()  # the owner creates the schema
    with backend.raw() as raw:
        if not raw.scalar(
            "SELECT count(*) FROM pg_roles WHERE rolname = 'vendorproof_writer'"
        ):
            raw.execute("CREATE ROLE vendorproof_writer LOGIN")
        db = backend.url.rsplit("/", 1)[1]
        raw.execute(grants.group(1).replace("DATABASE evidence", f"DATABASE {db}"))
    writer = Backend(
        "postgresql", backend.url.replace("postgres@", "vendorproof_writer@")
    )
    with closing(open_store(writer.url)) as store:
        store.append(builder("r1", inputs={"policy": sha256(POLICY)}), blobs(POLICY))
        store.append(builder("r2"), blobs(POLICY))
        check_chain(store, writer)
    with writer.raw() as raw:
        for sql in (
            "UPDATE records SET vendor = 'x'",
            "DELETE FROM blobs",
            "TRUNCATE record_inputs",
            "ALTER TABLE records DISABLE TRIGGER USER",
            "DROP TABLE records CASCADE",
        ):
            with pytest.raises(writer.error, match=r"permission denied|must be owner"):
                raw.execute(sql)
