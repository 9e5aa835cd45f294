"""The parallel replay gives exactly the sequential replay's results."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.builders import KEYS, SAMPLE_AT, SAMPLE_DELIVERY, SAMPLE_POLICY, copy_sample
from tests.cli.support import invoke
from tests.pg import PostgresCluster
from vendorproof._cli import ExitCode
from vendorproof._internal import crypto
from vendorproof.errors import InvalidInputError
from vendorproof.evidence.bundle import BundleSource, StoreSource, export_bundle
from vendorproof.evidence.intake import run_intake
from vendorproof.evidence.replay import replay
from vendorproof.evidence.store import open_store
from vendorproof.intake import load_policy

KEY = crypto.load_private_key(
    (KEYS / "operator" / "intake.key").read_bytes(), None, file="intake.key"
)
PUB = crypto.as_public_key(KEY.public_key())


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("parallel")
    bad = copy_sample(tmp / "bad")
    img = bad / "images/gnb-cu-24.1.3.img"
    img.write_bytes(b"\0" + img.read_bytes()[1:])
    db = tmp / "e.db"
    store = open_store(str(db))
    try:
        for i in range(12):
            run_intake(
                bad if i % 4 == 1 else SAMPLE_DELIVERY,
                SAMPLE_POLICY,
                store=store,
                key=KEY,
                actor="t",
                at=SAMPLE_AT,
                time_source="--at",
                window=timedelta(0),  # the same delivery again, on purpose
            )
    finally:
        store.close()
    return db


def test_store_intact_and_ranges(store_path: Path) -> None:
    store = open_store(str(store_path))
    try:
        one = replay(StoreSource(store), keys=[PUB], workers=1)
        two = replay(StoreSource(store), keys=[PUB], workers=2)
        assert one == two
        assert two.ok
        assert [r.verdict for r in two.records][:3] == ["PASSED", "FAILED", "PASSED"]
        ranged = replay(StoreSource(store), keys=[PUB], workers=2, first=5, last=8)
        assert [r.seq for r in ranged.records] == [5, 6, 7, 8]
        assert ranged == replay(
            StoreSource(store), keys=[PUB], workers=1, first=5, last=8
        )
    finally:
        store.close()


def test_tampered_store_same_findings(store_path: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    copy.write_bytes(store_path.read_bytes())
    conn = sqlite3.connect(copy)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'"):
        conn.execute(f'DROP TRIGGER "{name}"')
    (env,) = conn.execute("SELECT envelope FROM records WHERE seq = 6").fetchone()
    env = bytearray(env)
    env[env.index(b'"payload":"') + 50] ^= 0x01
    conn.execute("UPDATE records SET envelope = ? WHERE seq = 6", (bytes(env),))
    conn.execute("DELETE FROM record_inputs WHERE seq = 9")
    conn.execute("DELETE FROM records WHERE seq = 9")
    conn.commit()
    conn.close()
    store = open_store(str(copy))
    try:
        one = replay(StoreSource(store), keys=[PUB], workers=1)
        two = replay(StoreSource(store), keys=[PUB], workers=2)
    finally:
        store.close()
    assert one == two
    assert two.first_bad == 6
    assert not two.ok


def test_bundle_and_new_policy(store_path: Path, tmp_path: Path) -> None:
    store = open_store(str(store_path))
    try:
        export_bundle(
            store, tmp_path / "b", keys=[PUB], exported_at="2027-01-15T00:00:00Z"
        )
    finally:
        store.close()
    text = SAMPLE_POLICY.read_text().replace("prohibited-vendor*", "acme")
    text = text.replace("../../keys", str(KEYS))
    (tmp_path / "deny.yaml").write_text(text)
    policy = load_policy(tmp_path / "deny.yaml")
    one = replay(BundleSource(tmp_path / "b"), keys=[PUB], workers=1, new_policy=policy)
    two = replay(BundleSource(tmp_path / "b"), keys=[PUB], workers=2, new_policy=policy)
    assert one == two
    assert len(two.changed) == 9  # every PASSED decision would now fail


def test_integrity_only(store_path: Path) -> None:
    store = open_store(str(store_path))
    try:
        one = replay(StoreSource(store), keys=[PUB], workers=1, rerun=False)
        two = replay(StoreSource(store), keys=[PUB], workers=2, rerun=False)
    finally:
        store.close()
    assert one == two
    assert two.ok
    assert len(two.records) == 12
    assert all(r.replayed_verdict is None for r in two.records)


def test_corrupt_sqlite_file_fails_the_integrity_check(
    store_path: Path, tmp_path: Path
) -> None:
    """A damaged index page no record read touches still fails the replay."""
    copy = tmp_path / "copy.db"
    copy.write_bytes(store_path.read_bytes())
    conn = sqlite3.connect(copy)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    ((page_size,),) = conn.execute("PRAGMA page_size").fetchall()
    ((root,),) = conn.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'records_verdict'"
    ).fetchall()
    conn.close()
    data = bytearray(copy.read_bytes())
    end = root * page_size
    data[end - 20 : end - 10] = b"\xff" * 10
    copy.write_bytes(bytes(data))
    store = open_store(str(copy))
    try:
        assert [r.seq for r in store.records()] == list(range(1, 13))  # still reads
        summary = replay(StoreSource(store), keys=[PUB], rerun=False)
    finally:
        store.close()
    assert not summary.ok
    assert any("SQLite integrity check" in p for p in summary.problems)


PASSWORD_ROLE = "vendorproof_password"
SECRET = "not-in-any-output-7f3a"


def password_store(cluster: PostgresCluster) -> tuple[str, str]:
    """A database owned by a role that must log in with a password; its URLs."""
    url = cluster.create_database()
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(cluster.url(), autocommit=True) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = %s", (PASSWORD_ROLE,)
        ).fetchall()
        if not exists:
            admin.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(PASSWORD_ROLE), sql.Literal(SECRET)
                )
            )
        admin.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(name), sql.Identifier(PASSWORD_ROLE)
            )
        )
        hba = cluster.data / "pg_hba.conf"
        rule = f"host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n"
        text = hba.read_text()
        if rule not in text:
            hba.write_text(rule + text)  # first match wins: before the trust rules
            admin.execute("SELECT pg_reload_conf()")
    host = f"127.0.0.1:{cluster.port}/{name}"
    return (
        f"postgresql://{PASSWORD_ROLE}:{SECRET}@{host}",
        f"postgresql://{PASSWORD_ROLE}@{host}",
    )


@pytest.mark.slow
def test_parallel_replay_of_a_postgresql_store_with_a_password(
    pg_cluster: PostgresCluster, tmp_path: Path
) -> None:
    secret_url, plain_url = password_store(pg_cluster)
    with pytest.raises(psycopg.OperationalError):  # the server wants the password
        psycopg.connect(plain_url).close()
    store = open_store(secret_url)
    try:
        assert SECRET not in store.url
        for _ in range(3):
            run_intake(
                SAMPLE_DELIVERY,
                SAMPLE_POLICY,
                store=store,
                key=KEY,
                actor="t",
                at=SAMPLE_AT,
                time_source="--at",
                window=timedelta(0),  # the same delivery again, on purpose
            )
        one = replay(StoreSource(store, location=secret_url), keys=[PUB], workers=1)
        two = replay(StoreSource(store, location=secret_url), keys=[PUB], workers=2)
        # Workers that cannot reopen the store: a one-line error, not a broken pool.
        with pytest.raises(InvalidInputError, match="no password supplied") as info:
            replay(StoreSource(store, location=plain_url), keys=[PUB], workers=2)
        assert SECRET not in str(info.value)
    finally:
        store.close()
    assert two.ok
    assert one == two
    # Through the command line: workers reopen the store, nothing shows the password.
    result = invoke(
        "audit",
        "replay",
        "--store",
        secret_url,
        "--operator-pub",
        KEYS / "operator" / "intake.pub",
        "--workers",
        "2",
    )
    assert result.exit_code == ExitCode.OK, (result.stdout, result.stderr)
    assert "3 records replayed, 0 failed" in result.stdout
    assert SECRET not in result.stdout + result.stderr
