"""intake, evidence list/show/export and audit replay, including tamper detection."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from tests.builders import (
    KEYS,
    SAMPLE_AT_TEXT,
    SAMPLE_DELIVERY,
    SAMPLE_POLICY,
    copy_sample,
    policy_data,
    write_policy,
)
from vendorproof._cli import ExitCode, app
from vendorproof.schemas import load_schema

runner = CliRunner()
OP_KEY = KEYS / "operator" / "intake.key"
OP_PUB = KEYS / "operator" / "intake.pub"


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def intake(store: Path, delivery: Path = SAMPLE_DELIVERY, *extra: str | Path) -> int:
    code, _out, err = invoke(
        "intake",
        delivery,
        "--policy",
        SAMPLE_POLICY,
        "--operator-key",
        OP_KEY,
        "--store",
        store,
        "--actor",
        "tester",
        "--at",
        SAMPLE_AT_TEXT,
        *extra,
    )
    assert "Traceback" not in err
    return code


def replay(*args: str | Path) -> tuple[int, str, str]:
    return invoke("audit", "replay", "--operator-pub", OP_PUB, *args)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A SQLite store with three records: PASSED, FAILED (tampered image), PASSED."""
    db = tmp_path / "evidence.db"
    assert intake(db) == ExitCode.OK
    bad = copy_sample(tmp_path / "bad")
    img = bad / "images/gnb-cu-24.1.3.img"
    img.write_bytes(b"\0" + img.read_bytes()[1:])
    assert intake(db, bad) == ExitCode.VERIFICATION_FAILED
    # The same delivery again, on purpose (not a retry): no deduplication window.
    assert intake(db, SAMPLE_DELIVERY, "--dedupe-window", "0") == ExitCode.OK
    return db


def test_intake_records_every_decision(store: Path) -> None:
    code, out, _ = invoke("evidence", "list", "--store", store)
    assert code == ExitCode.OK
    assert out.count("AcmeRAN gNB") == 3
    code, out, _ = invoke("evidence", "list", "--store", store, "--verdict", "failed")
    assert code == ExitCode.OK
    assert out.count("AcmeRAN gNB") == 1


def test_evidence_show_is_a_signed_vsa(store: Path) -> None:
    code, out, _ = invoke("evidence", "show", "2", "--store", store)
    assert code == ExitCode.OK
    data = json.loads(out)
    st = data["statement"]
    assert st["predicateType"] == "https://slsa.dev/verification_summary/v1"
    p = st["predicate"]
    assert p["verificationResult"] == "FAILED"
    ext = p["vendorproof"]
    assert ext["sequence"] == 2
    assert ext["previousRecord"]["sha256"]
    assert ext["actor"] == "tester"
    assert ext["asOf"] == SAMPLE_AT_TEXT
    assert ext["policy"]["legalBasis"].startswith("Katalog")
    assert "policy" in ext["inputs"]
    assert any(k.startswith("policy:") for k in ext["inputs"])
    assert "attestations/manifest.sigstore.json" in ext["inputs"]
    assert ext["checks"][-1]["check"] == "rollback"
    assert any(
        c["outcome"] == "fail" and c["check"] == "integrity" for c in ext["checks"]
    )
    assert p["verifier"]["version"]["cryptography"]


def test_evidence_show_missing_record_exits_3(store: Path) -> None:
    code, _, err = invoke("evidence", "show", "99", "--store", store)
    assert code == ExitCode.INVALID_INPUT
    assert "99" in err


def test_export_formats(store: Path, tmp_path: Path) -> None:
    code, out, _ = invoke("evidence", "export", "--store", store, "--format", "jsonl")
    assert code == ExitCode.OK
    lines = [json.loads(line) for line in out.splitlines()]
    assert [x["seq"] for x in lines] == [1, 2, 3]
    code, out, _ = invoke("evidence", "export", "--store", store, "--format", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][0] == "seq"
    assert [r[6] for r in rows[1:]] == ["PASSED", "FAILED", "PASSED"]
    assert rows[2][8] == rows[1][7]  # prev_sha256 links to the previous sha256
    target = tmp_path / "vsa.jsonl"
    code, _, _ = invoke(
        "evidence", "export", "--store", store, "--format", "vsa", "-o", target
    )
    assert code == ExitCode.OK
    envelopes = [json.loads(line) for line in target.read_text().splitlines()]
    assert all(e["payloadType"] == "application/vnd.in-toto+json" for e in envelopes)


def test_replay_of_intact_store_passes(store: Path) -> None:
    code, out, _ = replay("--store", store)
    assert code == ExitCode.OK, out
    assert "3 records replayed, 0 failed" in out


def test_replay_needs_a_pinned_key_for_a_store(store: Path) -> None:
    code, _, err = invoke("audit", "replay", "--store", store)
    assert code == ExitCode.INVALID_INPUT
    assert "--operator-pub" in err


def test_replay_with_other_key_fails(store: Path, tmp_path: Path) -> None:
    code, out, _ = invoke(
        "audit",
        "replay",
        "--store",
        store,
        "--operator-pub",
        KEYS / "vendor-a/release.pub",
    )
    assert code == ExitCode.VERIFICATION_FAILED
    assert "first affected record: #1" in out


def test_empty_store_is_not_a_pass(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    assert invoke("evidence", "migrate", "--store", db)[0] == ExitCode.OK
    code, out, _ = replay("--store", db)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "no records to replay" in out


def _untrigger(db: Path) -> sqlite3.Connection:
    """Open the store with its append-only triggers removed (an attacker with DB access)."""
    conn = sqlite3.connect(db)
    names = [
        r[0]
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
    ]
    for name in names:
        conn.execute(f'DROP TRIGGER "{name}"')
    conn.commit()
    return conn


def test_database_refuses_update_and_delete(store: Path) -> None:
    conn = sqlite3.connect(store)
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("UPDATE records SET verdict='PASSED' WHERE seq=2")
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("DELETE FROM records WHERE seq=3")
    conn.close()
    assert replay("--store", store)[0] == ExitCode.OK


def test_flipped_byte_in_record_is_detected(store: Path) -> None:
    conn = _untrigger(store)
    (env,) = conn.execute("SELECT envelope FROM records WHERE seq=2").fetchone()
    env = bytearray(env)
    i = env.index(b'"payload":"') + 40
    env[i] ^= 0x01
    conn.execute("UPDATE records SET envelope=? WHERE seq=2", (bytes(env),))
    conn.commit()
    code, out, _ = replay("--store", store)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "first affected record: #2" in out


def test_verdict_column_rewrite_is_detected(store: Path) -> None:
    conn = _untrigger(store)
    conn.execute("UPDATE records SET verdict='PASSED' WHERE seq=2")
    conn.commit()
    code, out, _ = replay("--store", store)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "first affected record: #2" in out


def test_deleted_record_is_detected(store: Path) -> None:
    conn = _untrigger(store)
    conn.execute("DELETE FROM record_inputs WHERE seq=2")
    conn.execute("DELETE FROM records WHERE seq=2")
    conn.commit()
    code, out, _ = replay("--store", store)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "first affected record: #3" in out
    assert "sequence gap" in out


def test_reordered_records_are_detected(store: Path) -> None:
    conn = _untrigger(store)
    rows = dict(conn.execute("SELECT seq, envelope FROM records"))
    conn.execute("UPDATE records SET envelope=? WHERE seq=1", (rows[3],))
    conn.execute("UPDATE records SET envelope=? WHERE seq=3", (rows[1],))
    conn.commit()
    code, out, _ = replay("--store", store)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "first affected record: #1" in out


def test_altered_blob_is_detected(store: Path) -> None:
    conn = _untrigger(store)
    (digest,) = conn.execute(
        "SELECT digest FROM record_inputs WHERE seq=3 AND name='policy'"
    ).fetchone()
    conn.execute("UPDATE blobs SET content=? WHERE digest=?", (b"policy: {}\n", digest))
    conn.commit()
    code, out, _ = replay("--store", store)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "first affected record: #1" in out
    assert "altered" in out


def test_bundle_export_and_offline_replay(store: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "audit"
    code, _, _ = invoke(
        "evidence",
        "export",
        "--store",
        store,
        "--bundle",
        bundle,
        "--operator-pub",
        OP_PUB,
    )
    assert code == ExitCode.OK
    assert (bundle / "MANIFEST.json").is_file()
    assert len(list((bundle / "records").iterdir())) == 3
    shutil.copytree(bundle, tmp_path / "copy")
    code, out, _ = replay("--bundle", tmp_path / "copy")
    assert code == ExitCode.OK, out
    assert "last record: #3 sha256:" in out
    # Without a pinned key the shipped keys prove nothing: never exit 0.
    code, out, err = invoke("audit", "replay", "--bundle", tmp_path / "copy")
    assert code == ExitCode.NOT_PINNED, out
    assert "3 records replayed, 0 failed" in out
    assert "NOT PINNED" in err
    assert "--operator-pub" in err


@pytest.mark.parametrize(
    "target", ["records/00000002.dsse.json", "blob", "MANIFEST.json"]
)
def test_any_changed_byte_in_bundle_is_detected(
    store: Path, tmp_path: Path, target: str
) -> None:
    bundle = tmp_path / "audit"
    invoke(
        "evidence",
        "export",
        "--store",
        store,
        "--bundle",
        bundle,
        "--operator-pub",
        OP_PUB,
    )
    if target == "blob":
        path = min((bundle / "blobs" / "sha256").iterdir())
    else:
        path = bundle / target
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x20
    path.write_bytes(bytes(data))
    code, _, err = replay("--bundle", bundle)
    out = _ + err
    assert code in (ExitCode.VERIFICATION_FAILED, ExitCode.INVALID_INPUT), out


def test_deleted_record_in_bundle_is_detected(store: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "audit"
    invoke(
        "evidence",
        "export",
        "--store",
        store,
        "--bundle",
        bundle,
        "--operator-pub",
        OP_PUB,
    )
    (bundle / "records" / "00000002.dsse.json").unlink()
    code, out, _ = replay("--bundle", bundle)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "first affected record: #3" in out


def test_replay_range_and_images(store: Path, tmp_path: Path) -> None:
    code, out, _ = replay("--store", store, "--from", "2", "--to", "3")
    assert code == ExitCode.OK, out
    assert "2 records replayed" in out
    images = copy_sample(tmp_path / "images")
    code, out, _ = replay("--store", store, "--from", "3", "--images", images)
    assert code == ExitCode.OK, out
    img = images / "images/gnb-du-24.1.3.img"
    img.write_bytes(b"\xff" + img.read_bytes()[1:])
    code, out, _ = replay("--store", store, "--from", "3", "--images", images)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "recorded" in out


def test_replay_under_new_policy_lists_changed_decisions(
    store: Path, tmp_path: Path
) -> None:
    data = policy_data()
    data["denyList"] = [
        {
            "vendor": "acme",
            "product": "*",
            "effective": "2026-01-01T00:00:00Z",
            "reason": "prohibition order 2026-1 (test)",
        }
    ]
    new = write_policy(tmp_path / "new.yaml", data)
    code, out, _ = replay("--store", store, "--policy", new)
    assert code == ExitCode.OK, out
    assert "2 decisions would change" in out
    assert "PASSED -> FAILED" in out


def test_rollback_is_refused_and_recorded(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    assert intake(db) == ExitCode.OK  # securityVersion 7 accepted
    older = copy_sample(tmp_path / "older")
    # Re-sign the sample manifest with a lower securityVersion.
    import base64

    from tests.builders import vendor_a

    path = older / "attestations/manifest.sigstore.json"
    bundle = json.loads(path.read_bytes())
    stmt = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    stmt["predicate"]["securityVersion"] = 5
    path.write_bytes(vendor_a().sign(stmt))
    # (the certification references the manifest's digests, unaffected)
    assert intake(db, older) == ExitCode.VERIFICATION_FAILED
    _code, out, _ = invoke("evidence", "show", "2", "--store", db)
    checks = json.loads(out)["statement"]["predicate"]["vendorproof"]["checks"]
    assert checks[-1]["check"] == "rollback"
    assert checks[-1]["outcome"] == "fail"
    assert "lower than 7" in checks[-1]["reason"]
    assert replay("--store", db)[0] == ExitCode.OK


def test_rollback_exception_in_policy_warns(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    assert intake(db) == ExitCode.OK
    older = copy_sample(tmp_path / "older")
    import base64

    from tests.builders import vendor_a

    path = older / "attestations/manifest.sigstore.json"
    bundle = json.loads(path.read_bytes())
    stmt = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    stmt["predicate"]["securityVersion"] = 5
    path.write_bytes(vendor_a().sign(stmt))
    data = policy_data()
    data["rollbackExceptions"] = [
        {
            "vendor": "acme",
            "product": "AcmeRAN gNB",
            "securityVersion": 5,
            "reason": "field rollback approved in change CHG-1 (test)",
        }
    ]
    pol = write_policy(tmp_path / "p.yaml", data)
    code, out, err = invoke(
        "intake",
        older,
        "--policy",
        pol,
        "--operator-key",
        OP_KEY,
        "--store",
        db,
        "--at",
        SAMPLE_AT_TEXT,
        "--format",
        "json",
    )
    assert code == ExitCode.OK, out + err
    report = json.loads(out)
    assert report["checks"][-1]["outcome"] == "warn"
    assert "CHG-1" in report["checks"][-1]["reason"]
    assert report["record"]["seq"] == 2


def test_intake_with_malformed_policy_records_nothing(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    assert intake(db) == ExitCode.OK
    bad = tmp_path / "bad.yaml"
    bad.write_text("policy: [unclosed\n")
    code, _, err = invoke(
        "intake",
        SAMPLE_DELIVERY,
        "--policy",
        bad,
        "--operator-key",
        OP_KEY,
        "--store",
        db,
    )
    assert code == ExitCode.INVALID_INPUT
    assert str(bad) in err
    code, out, _ = invoke("evidence", "list", "--store", db)
    assert out.count("AcmeRAN gNB") == 1


def test_intake_needs_operator_key(tmp_path: Path) -> None:
    code, _, _ = invoke(
        "intake",
        SAMPLE_DELIVERY,
        "--policy",
        SAMPLE_POLICY,
        "--store",
        tmp_path / "e.db",
    )
    assert code == ExitCode.USAGE


def test_integrity_only_replay(store: Path) -> None:
    code, out, _ = replay("--store", store, "--integrity-only")
    assert code == ExitCode.OK
    assert "3 records replayed, 0 failed" in out
    conn = _untrigger(store)
    conn.execute("DELETE FROM record_inputs WHERE seq=2")
    conn.execute("DELETE FROM records WHERE seq=2")
    conn.commit()
    code, out, _ = replay("--store", store, "--integrity-only")
    assert code == ExitCode.VERIFICATION_FAILED
    assert "first affected record: #3" in out


# --- intake records every delivery; the store is refused, never silently replaced -----


def test_malformed_attestation_is_recorded_as_failed(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    bad = copy_sample(tmp_path / "bad")
    (bad / "attestations/manifest.sigstore.json").write_bytes(b"{broken")
    code, out, err = invoke(
        "intake",
        bad,
        "--policy",
        SAMPLE_POLICY,
        "--operator-key",
        OP_KEY,
        "--store",
        db,
        "--at",
        SAMPLE_AT_TEXT,
        "--format",
        "json",
    )
    assert code == ExitCode.VERIFICATION_FAILED, err
    report = json.loads(out)
    assert report["verdict"] == "FAILED"
    # A malformed vendor document is a failed check of the delivery (design.md).
    error = report["checks"][0]
    assert (error["check"], error["outcome"]) == ("attestations", "fail")
    assert error["subject"] == "attestations/manifest.sigstore.json"
    assert error["reason"].startswith("malformed: attestations/manifest.sigstore.json")
    assert report["record"]["seq"] == 1
    # The report of a failed intake is a report like any other.
    del report["record"]
    Draft202012Validator(load_schema("report")).validate(report)
    _code, out, _ = invoke("evidence", "show", "1", "--store", db)
    inputs = json.loads(out)["statement"]["predicate"]["vendorproof"]["inputs"]
    assert "attestations/manifest.sigstore.json" in inputs
    assert "attestations/certification-nesas.sigstore.json" in inputs
    assert replay("--store", db)[0] == ExitCode.OK


def test_no_delivery_is_not_recorded(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    assert intake(db) == ExitCode.OK
    code, _, err = invoke(
        "intake",
        tmp_path / "nowhere",
        "--policy",
        SAMPLE_POLICY,
        "--operator-key",
        OP_KEY,
        "--store",
        db,
    )
    assert code == ExitCode.INVALID_INPUT
    assert err.count("\n") == 1
    assert str(tmp_path / "nowhere") in err
    _code, out, _ = invoke("evidence", "list", "--store", db)
    assert out.count("AcmeRAN gNB") == 1


def test_retried_intake_reports_the_earlier_record(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    assert intake(db) == ExitCode.OK
    code, out, _ = invoke(
        "intake",
        SAMPLE_DELIVERY,
        "--policy",
        SAMPLE_POLICY,
        "--operator-key",
        OP_KEY,
        "--store",
        db,
        "--at",
        SAMPLE_AT_TEXT,
    )
    assert code == ExitCode.OK
    assert "already recorded as evidence #1" in out
    assert intake(db, SAMPLE_DELIVERY, "--intake-id", "T-1") == ExitCode.OK
    code, out, _ = invoke(
        "intake",
        SAMPLE_DELIVERY,
        "--policy",
        SAMPLE_POLICY,
        "--operator-key",
        OP_KEY,
        "--store",
        db,
        "--at",
        SAMPLE_AT_TEXT,
        "--intake-id",
        "T-1",
        "--format",
        "json",
    )
    assert code == ExitCode.OK
    assert json.loads(out)["record"] | {"id": "", "sha256": ""} == {
        "seq": 2,
        "id": "",
        "sha256": "",
        "alreadyRecorded": True,
    }
    _code, out, _ = invoke("evidence", "list", "--store", db)
    assert out.count("AcmeRAN gNB") == 2


def test_forged_head_stops_intake_with_a_clear_message(store: Path) -> None:
    conn = sqlite3.connect(store)
    head = conn.execute("SELECT digest FROM records WHERE seq = 3").fetchone()[0]
    forged = b'{"payload": "", "payloadType": "x", "signatures": []}'
    conn.execute(
        "INSERT INTO records (seq, record_id, digest, prev_digest, created_at, vendor, "
        "product, version, security_version, verdict, envelope) VALUES "
        "(4, 'f', ?, ?, '2027-01-01T00:00:00Z', 'acme', 'AcmeRAN gNB', '9', 99, "
        "'PASSED', ?)",
        (hashlib.sha256(forged).hexdigest(), head, forged),
    )
    conn.commit()
    conn.close()
    code, _, err = invoke(
        "intake",
        SAMPLE_DELIVERY,
        "--policy",
        SAMPLE_POLICY,
        "--operator-key",
        OP_KEY,
        "--store",
        store,
        "--dedupe-window",
        "0",
    )
    assert code == ExitCode.INVALID_INPUT
    assert "evidence record #4 at the head of the chain does not verify" in err
    assert "audit replay --from 4" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    "command",
    [
        ("evidence", "list"),
        ("evidence", "show", "1"),
        ("evidence", "export"),
        ("audit", "replay", "--operator-pub", OP_PUB),
    ],
)
def test_read_only_commands_never_create_a_store(
    tmp_path: Path, command: tuple[str | Path, ...]
) -> None:
    missing = tmp_path / "missing.db"
    code, _, err = invoke(*command, "--store", missing)
    assert code == ExitCode.INVALID_INPUT
    assert "no evidence store here" in err
    assert list(tmp_path.iterdir()) == []
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    code, _, err = invoke(*command, "--store", empty)
    assert code == ExitCode.INVALID_INPUT
    assert "empty (0 bytes)" in err
    assert empty.read_bytes() == b""


def test_intake_refuses_an_empty_store_file(tmp_path: Path) -> None:
    empty = tmp_path / "e.db"
    empty.write_bytes(b"")
    assert intake(empty) == ExitCode.INVALID_INPUT
    assert empty.read_bytes() == b""
