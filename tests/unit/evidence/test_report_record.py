"""Concentration report records: recorded, chained, logged and recomputed by replay.

Every test runs on SQLite and on a real PostgreSQL server (``tests/pg.py``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.builders import REPO, SAMPLE_AT, SAMPLE_DELIVERY, SAMPLE_POLICY
from tests.unit.evidence.support import Backend, sha256
from tests.unit.evidence.test_intake import KEY, OTHER, PUB
from tests.unit.evidence.test_replay_backends import _Placeholders, untrigger
from vendorproof._internal import crypto
from vendorproof.errors import InvalidInputError, SignatureError
from vendorproof.evidence.bundle import BundleSource, StoreSource, export_bundle
from vendorproof.evidence.concentration import record_concentration
from vendorproof.evidence.intake import ChainHeadError, run_intake
from vendorproof.evidence.logcheck import check_source
from vendorproof.evidence.readout import store_view
from vendorproof.evidence.record import EvidenceRecord, sign_record
from vendorproof.evidence.replay import ReplaySummary, replay
from vendorproof.evidence.report_record import (
    CONCENTRATION_PREDICATE,
    ConcentrationRecord,
    parse_record,
)
from vendorproof.evidence.store import EvidenceStore, RecordFilter, open_store
from vendorproof.gate import installed_from_store
from vendorproof.intake import load_policy

INVENTORY = REPO / "fixtures" / "inventories" / "operator-inventory.csv"


@pytest.fixture
def opened(backend: Backend) -> Iterator[EvidenceStore]:
    s = open_store(backend.url)
    try:
        yield s
    finally:
        s.close()


def _intake(store: EvidenceStore) -> None:
    run_intake(
        SAMPLE_DELIVERY,
        SAMPLE_POLICY,
        store=store,
        key=KEY,
        actor="test",
        at=SAMPLE_AT,
        time_source="--at",
        window=timedelta(0),
    )


def _record(store: EvidenceStore, inventory: bytes | None = None) -> int:
    stored, _ = record_concentration(
        store,
        load_policy(SAMPLE_POLICY),
        INVENTORY.read_bytes() if inventory is None else inventory,
        inventory_file="operator-inventory.csv",
        key=KEY,
        actor="auditor",
        at=SAMPLE_AT,
        time_source="--at",
    )
    return stored.seq


def _replayed(backend: Backend, **kw: Any) -> ReplaySummary:
    s = open_store(backend.url)
    try:
        return replay(StoreSource(s), keys=[PUB], **kw)
    finally:
        s.close()


def test_recorded_report_replays_and_chains(opened: EvidenceStore) -> None:
    _intake(opened)
    assert _record(opened) == 2
    _intake(opened)  # the chain is extended past a report record
    rec = parse_record(opened.record(2).envelope, keys=[PUB])
    assert isinstance(rec, ConcentrationRecord)
    assert rec.statement.predicate_type == CONCENTRATION_PREDICATE
    assert (rec.through, rec.verdict, rec.actor) == (1, "PASSED", "auditor")
    inventory = INVENTORY.read_bytes()
    assert rec.inputs["inventory"] == sha256(inventory)
    assert opened.blob(sha256(inventory)) == inventory
    assert set(opened.inputs(2)) >= {"policy", "inventory"}
    # The report's numbers are in the signed record.
    ran = next(d for d in rec.report["domains"] if d["domain"] == "RAN")
    assert (ran["hhi"], ran["largestShare"]) == ("0.52", "0.6")
    assert "store" not in rec.report
    assert rec.report["integrity"] == {"records": 1, "verified": 1, "intact": True}
    # Sequential and parallel replay recompute it; so does replay of a bundle.
    for workers in (1, 2):
        summary = replay(StoreSource(opened), keys=[PUB], workers=workers)
        assert summary.ok, [r.problems for r in summary.records]
        assert [r.replayed_verdict for r in summary.records] == ["PASSED"] * 3
    # The Merkle log covers it, with the checkpoint the operator key signed.
    assert opened.tree_size() == 3
    log = check_source(StoreSource(opened), [PUB])
    assert log.ok, log.problems
    # The reports see one delivery record and one report record.
    view = store_view(opened, [PUB])
    assert view.intact
    assert ([r.seq for r in view.records], view.reports) == ([1, 3], (2,))
    assert view.verified == view.total == 3
    # The gate finds the installed release past the report record.
    found = installed_from_store(opened, [PUB])("acme", "AcmeRAN gNB")
    assert found is not None
    assert "#3" in found.source


def test_bundle_with_a_report_record_replays(
    opened: EvidenceStore, tmp_path: Path
) -> None:
    _intake(opened)
    _record(opened)
    out = tmp_path / "bundle"
    export_bundle(opened, out, keys=[PUB], exported_at="2027-01-16T00:00:00Z")
    summary = replay(BundleSource(out), keys=[PUB])
    assert summary.ok, [r.problems for r in summary.records]


def test_report_over_a_broken_store_is_recorded_failed(
    backend: Backend, opened: EvidenceStore
) -> None:
    _intake(opened)
    _intake(opened)
    with backend.raw() as raw:
        untrigger(raw, backend)
        p = _Placeholders(raw, backend)
        env = bytearray(p.scalar("SELECT envelope FROM records WHERE seq = 1"))
        env[env.index(b'"payload":"') + 40] ^= 0x01
        p.execute("UPDATE records SET envelope = %s WHERE seq = 1", (bytes(env),))
    seq = _record(opened)
    rec = parse_record(opened.record(seq).envelope, keys=[PUB])
    assert rec.verdict == "FAILED"
    summary = _replayed(backend)
    # Record 1 is reported; the report record itself replays to the same numbers.
    assert summary.first_bad == 1
    assert summary.records[-1].seq == seq
    assert summary.records[-1].ok, summary.records[-1].problems


def _alter_inventory(p: _Placeholders) -> None:
    digest = p.scalar(
        "SELECT digest FROM record_inputs WHERE seq = 2 AND name = 'inventory'"
    )
    altered = INVENTORY.read_bytes().replace(b",120\n", b",20\n")
    p.execute("UPDATE blobs SET content = %s WHERE digest = %s", (altered, digest))


def _flip(p: _Placeholders) -> None:
    env = bytearray(p.scalar("SELECT envelope FROM records WHERE seq = 2"))
    env[env.index(b'"payload":"') + 60] ^= 0x01
    p.execute(
        "UPDATE records SET envelope = %s, digest = %s WHERE seq = 2",
        (bytes(env), sha256(bytes(env))),
    )


def _resign(p: _Placeholders, key: crypto.SigningKey, change: Any) -> None:
    """Replace record 2 by a record with ``change`` applied, signed with ``key``."""
    env = json.loads(p.scalar("SELECT envelope FROM records WHERE seq = 2"))
    statement = json.loads(base64.b64decode(env["payload"]))
    change(statement["predicate"]["vendorproof"])
    raw = sign_record(statement, key)
    p.execute(
        "UPDATE records SET envelope = %s, digest = %s WHERE seq = 2",
        (raw, sha256(raw)),
    )


def _fudge_hhi(ext: dict[str, Any]) -> None:
    ext["report"]["domains"][0]["hhi"] = "0.25"


def _fudge_through(ext: dict[str, Any]) -> None:
    ext["through"] = 0


def _fudged_numbers(p: _Placeholders) -> None:
    _resign(p, KEY, _fudge_hhi)


def _fudged_range(p: _Placeholders) -> None:
    _resign(p, KEY, _fudge_through)


def _unchanged(ext: dict[str, Any]) -> None:
    assert ext["through"] == 1


def _other_key(p: _Placeholders) -> None:
    _resign(p, OTHER, _unchanged)


def _unsigned(p: _Placeholders) -> None:
    env = json.loads(p.scalar("SELECT envelope FROM records WHERE seq = 2"))
    env["signatures"] = []
    raw = json.dumps(env).encode()
    p.execute(
        "UPDATE records SET envelope = %s, digest = %s WHERE seq = 2",
        (raw, sha256(raw)),
    )


@pytest.mark.parametrize(
    ("tamper", "needle"),
    [
        pytest.param(_alter_inventory, "input 'inventory' was altered", id="inventory"),
        pytest.param(_flip, "signature does not verify", id="changed-byte"),
        pytest.param(
            _fudged_numbers,
            "report.domains[0].hhi: recorded '0.25', replayed '0.52'",
            id="signed-wrong-numbers",
        ),
        pytest.param(
            _fudged_range,
            "report.integrity.records: recorded 1, replayed 0",
            id="signed-wrong-range",
        ),
        pytest.param(_other_key, "signature does not verify", id="wrong-key"),
        pytest.param(_unsigned, "signature", id="unsigned"),
    ],
)
def test_tampered_report_record_fails_replay(
    backend: Backend, opened: EvidenceStore, tamper: Any, needle: str
) -> None:
    _intake(opened)
    _record(opened)
    with backend.raw() as raw:
        untrigger(raw, backend)
        tamper(_Placeholders(raw, backend))
    summary = _replayed(backend)
    assert not summary.ok
    assert summary.first_bad == 2
    problems = " | ".join(summary.records[1].problems)
    assert needle in problems, problems


def test_head_report_record_that_does_not_verify_stops_the_chain(
    backend: Backend, opened: EvidenceStore
) -> None:
    _intake(opened)
    _record(opened)
    with backend.raw() as raw:
        untrigger(raw, backend)
        _other_key(_Placeholders(raw, backend))
    with pytest.raises(ChainHeadError, match="record #2 at the head"):
        _intake(opened)
    with pytest.raises(ChainHeadError, match="record #2 at the head"):
        _record(opened)
    view = store_view(opened, [PUB])
    assert view.unverified[0][0] == 2


def test_new_policy_reports_changes_not_failures(
    backend: Backend, opened: EvidenceStore, tmp_path: Path
) -> None:
    _intake(opened)
    _record(opened)
    text = SAMPLE_POLICY.read_text("utf-8").replace(
        "highRisk: []", "highRisk: [borealis]"
    )
    new = tmp_path / "policies" / "new.yaml"
    new.parent.mkdir()
    new.write_text(text.replace("../../keys", str(REPO / "keys")), encoding="utf-8")
    summary = _replayed(backend, new_policy=load_policy(new))
    assert summary.ok
    changes = summary.records[1].changes
    assert any("highRiskShare: recorded '0.0', replayed '0.4'" in c for c in changes)


def test_parse_record_reads_both_kinds(opened: EvidenceStore) -> None:
    _intake(opened)
    _record(opened)
    assert isinstance(
        parse_record(opened.record(1).envelope, keys=[PUB]), EvidenceRecord
    )
    report = opened.record(2).envelope
    # Unauthenticated (strict) parsing, as `evidence show` does.
    assert isinstance(parse_record(report), ConcentrationRecord)
    with pytest.raises(InvalidInputError, match="expected predicate type"):
        EvidenceRecord.from_bytes(report, keys=[PUB])
    other = crypto.as_public_key(ed25519.Ed25519PrivateKey.generate().public_key())
    with pytest.raises(SignatureError):
        parse_record(report, keys=[other])


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        pytest.param(
            lambda ext: ext.update(through=5), "predicate.vendorproof.through", id="t"
        ),
        pytest.param(
            lambda ext: ext["inputs"].pop("inventory"),
            "the inventory is not among the inputs",
            id="no-inventory",
        ),
        pytest.param(
            lambda ext: ext.update(schemaVersion=2),
            "unsupported report schema version",
            id="schema",
        ),
        pytest.param(
            lambda ext: ext.pop("report"), "predicate.vendorproof.report", id="report"
        ),
    ],
)
def test_malformed_report_records(
    opened: EvidenceStore, change: Any, needle: str
) -> None:
    _intake(opened)
    _record(opened)
    env = json.loads(opened.record(2).envelope)
    statement = json.loads(base64.b64decode(env["payload"]))
    change(statement["predicate"]["vendorproof"])
    with pytest.raises(InvalidInputError, match=needle) as e:
        parse_record(sign_record(statement, KEY), keys=[PUB], file="r.json")
    assert str(e.value).startswith("r.json")


def test_bad_inventory_records_nothing(opened: EvidenceStore) -> None:
    _intake(opened)
    with pytest.raises(InvalidInputError, match=r"operator-inventory\.csv"):
        _record(opened, b"vendor,product\nacme,x\n")
    assert opened.last_seq() == 1


def test_partial_bundle_cannot_recompute_a_report(
    opened: EvidenceStore, tmp_path: Path
) -> None:
    _intake(opened)
    _record(opened)
    out = tmp_path / "bundle"
    export_bundle(
        opened,
        out,
        keys=[PUB],
        exported_at="2027-01-16T00:00:00Z",
        flt=RecordFilter(first=2),
    )
    summary = replay(BundleSource(out), keys=[PUB])
    assert not summary.ok
    (only,) = summary.records
    assert only.seq == 2
    assert only.problems == (
        "the report covers records 1 to 1; the source holds them only up to 0",
    )


def _flip_verdict(ext: dict[str, Any]) -> None:
    ext["report"]["integrity"]["intact"] = False


def test_signed_verdict_must_follow_the_recorded_integrity(
    backend: Backend, opened: EvidenceStore
) -> None:
    _intake(opened)
    _record(opened)
    with backend.raw() as raw:
        untrigger(raw, backend)
        _resign(_Placeholders(raw, backend), KEY, _flip_verdict)
    for rerun in (True, False):
        summary = _replayed(backend, rerun=rerun)
        assert summary.first_bad == 2
        problems = summary.records[1].problems
        assert "verdict: recorded PASSED, but its report says not intact" in problems
    # The re-run also recomputes the integrity the report claims.
    assert any(
        "report.integrity.intact: recorded False, replayed True" in p
        for p in _replayed(backend).records[1].problems
    )
