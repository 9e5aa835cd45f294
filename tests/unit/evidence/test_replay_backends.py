"""Tamper detection by audit replay on both store backends (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from tests.builders import KEYS, SAMPLE_AT, SAMPLE_DELIVERY, SAMPLE_POLICY, copy_sample
from tests.unit.evidence.support import Backend, Raw
from vendorproof._internal import crypto
from vendorproof.evidence.bundle import StoreSource
from vendorproof.evidence.intake import run_intake
from vendorproof.evidence.replay import ReplaySummary, replay
from vendorproof.evidence.store import open_store

KEY = crypto.load_private_key(
    (KEYS / "operator" / "intake.key").read_bytes(), None, file="intake.key"
)
PUB = crypto.as_public_key(KEY.public_key())


def fill(backend: Backend, tmp_path: Path) -> None:
    """Three records: PASSED, FAILED (tampered image), PASSED."""
    bad = copy_sample(tmp_path / "bad")
    img = bad / "images/gnb-cu-24.1.3.img"
    img.write_bytes(b"\0" + img.read_bytes()[1:])
    store = open_store(backend.url)
    try:
        for delivery in (SAMPLE_DELIVERY, bad, SAMPLE_DELIVERY):
            run_intake(
                delivery,
                SAMPLE_POLICY,
                store=store,
                key=KEY,
                actor="test",
                at=SAMPLE_AT,
                time_source="--at",
                window=timedelta(0),  # the same delivery again, on purpose
            )
    finally:
        store.close()


def replayed(backend: Backend) -> ReplaySummary:
    store = open_store(backend.url)
    try:
        return replay(StoreSource(store), keys=[PUB])
    finally:
        store.close()


def untrigger(raw: Raw, backend: Backend) -> None:
    """What an attacker with database-owner access does first."""
    if backend.name == "sqlite":
        for (name,) in raw.execute(
            "SELECT name FROM sqlite_master WHERE type='trigger'"
        ):
            raw.execute(f'DROP TRIGGER "{name}"')
    else:
        for table in ("records", "blobs", "record_inputs"):
            raw.execute(f"ALTER TABLE {table} DISABLE TRIGGER ALL")


class _Placeholders:
    """Raw SQL with ``%s`` placeholders on both drivers (sqlite3 uses ``?``)."""

    def __init__(self, raw: Raw, backend: Backend) -> None:
        self.raw = raw
        self.qmark = backend.name == "sqlite"

    def _sql(self, sql: str) -> str:
        return sql.replace("%s", "?") if self.qmark else sql

    def execute(self, sql: str, params: tuple[object, ...] = ()) -> object:
        return self.raw.execute(self._sql(sql), params)

    def scalar(self, sql: str, params: tuple[object, ...] = ()) -> bytes:
        value = self.raw.scalar(self._sql(sql), params)
        return bytes(value) if isinstance(value, memoryview) else value


def flip_record(raw: _Placeholders) -> None:
    env = bytearray(raw.scalar("SELECT envelope FROM records WHERE seq = 2"))
    env[env.index(b'"payload":"') + 40] ^= 0x01
    raw.execute("UPDATE records SET envelope = %s WHERE seq = 2", (bytes(env),))


def delete_record(raw: _Placeholders) -> None:
    raw.execute("DELETE FROM record_inputs WHERE seq = 2")
    raw.execute("DELETE FROM records WHERE seq = 2")


def reorder(raw: _Placeholders) -> None:
    one = raw.scalar("SELECT envelope FROM records WHERE seq = 1")
    three = raw.scalar("SELECT envelope FROM records WHERE seq = 3")
    raw.execute("UPDATE records SET envelope = %s WHERE seq = 1", (three,))
    raw.execute("UPDATE records SET envelope = %s WHERE seq = 3", (one,))


def alter_blob(raw: _Placeholders) -> None:
    digest = raw.scalar(
        "SELECT digest FROM record_inputs WHERE seq = 1 AND name = 'policy'"
    )
    raw.execute(
        "UPDATE blobs SET content = %s WHERE digest = %s", (b"policy: {}\n", digest)
    )


def test_intact_chain_replays(backend: Backend, tmp_path: Path) -> None:
    fill(backend, tmp_path)
    summary = replayed(backend)
    assert summary.ok, [r.problems for r in summary.records]
    assert [r.verdict for r in summary.records] == ["PASSED", "FAILED", "PASSED"]


@pytest.mark.parametrize(
    ("tamper", "first_bad"),
    [
        pytest.param(flip_record, 2, id="changed-byte-in-record"),
        pytest.param(delete_record, 3, id="deleted-record"),
        pytest.param(reorder, 1, id="reordered-records"),
        pytest.param(alter_blob, 1, id="changed-blob"),
    ],
)
def test_tampering_is_detected(
    backend: Backend,
    tmp_path: Path,
    tamper: Callable[[_Placeholders], None],
    first_bad: int,
) -> None:
    fill(backend, tmp_path)
    with backend.raw() as raw:
        untrigger(raw, backend)
        tamper(_Placeholders(raw, backend))
    summary = replayed(backend)
    assert not summary.ok
    assert summary.first_bad == first_bad


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [
        pytest.param("vendor", "other", "index column vendor is 'other'", id="vendor"),
        pytest.param("product", "x", "index column product is 'x'", id="product"),
        pytest.param(
            "security_version", 99, "index column security_version is 99", id="sv"
        ),
        pytest.param(
            "verdict", "PASSED", "index column verdict is 'PASSED'", id="verdict"
        ),
        pytest.param(
            "created_at",
            "2020-01-01T00:00:00Z",
            "index column created_at is '2020-01-01T00:00:00Z'",
            id="created-at",
        ),
    ],
)
@pytest.mark.parametrize("rerun", [True, False], ids=["rerun", "integrity-only"])
def test_index_column_differing_from_the_signed_record_is_reported(
    backend: Backend,
    tmp_path: Path,
    column: str,
    value: object,
    shown: str,
    *,
    rerun: bool,
) -> None:
    fill(backend, tmp_path)
    with backend.raw() as raw:
        untrigger(raw, backend)
        _Placeholders(raw, backend).execute(
            f"UPDATE records SET {column} = %s WHERE seq = 2",  # noqa: S608
            (value,),
        )
    store = open_store(backend.url)
    try:
        summary = replay(StoreSource(store), keys=[PUB], rerun=rerun)
    finally:
        store.close()
    assert summary.first_bad == 2
    assert any(shown in p for p in summary.records[1].problems), summary.records[1]


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param(
            "UPDATE record_inputs SET digest = %s WHERE seq = 2 AND name = 'policy'",
            id="changed-digest",
        ),
        pytest.param("DELETE FROM record_inputs WHERE seq = 2", id="deleted-rows"),
        pytest.param(
            "INSERT INTO record_inputs VALUES (2, 'extra', %s)", id="extra-row"
        ),
    ],
)
def test_record_inputs_rows_differing_from_the_signed_record_are_reported(
    backend: Backend, tmp_path: Path, sql: str
) -> None:
    fill(backend, tmp_path)
    with backend.raw() as raw:
        untrigger(raw, backend)
        params = ("0" * 64,) if "%s" in sql else ()
        _Placeholders(raw, backend).execute(sql, params)
    summary = replayed(backend)
    assert summary.first_bad == 2
    assert any(
        "record_inputs rows differ from the signed record" in p
        for p in summary.records[1].problems
    )
