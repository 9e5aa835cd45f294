"""``vendorproof gate --store``: the installed release from signed evidence records."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.builders import (
    KEYS,
    KINDS,
    SAMPLE_AT_TEXT,
    SAMPLE_DELIVERY,
    DeliveryBuilder,
    certification_statement,
    manifest_statement,
    policy_data,
    write_policy,
)
from tests.cli.support import assert_error, invoke
from tests.unit.reports.support import sarif_validator
from vendorproof._cli import ExitCode

OP_KEY = KEYS / "operator" / "intake.key"
OP_PUB = KEYS / "operator" / "intake.pub"


def _intake(store: Path, delivery: Path, policy: Path) -> int:
    r = invoke(
        "intake",
        delivery,
        "--policy",
        policy,
        "--operator-key",
        OP_KEY,
        "--store",
        store,
        "--actor",
        "ci",
        "--at",
        SAMPLE_AT_TEXT,
        "--dedupe-window",
        "0",
    )
    assert "Traceback" not in r.output
    return r.exit_code


def _release(delivery: DeliveryBuilder, sv: int) -> Path:
    """A delivery of the sample product signed by its vendor with ``sv``."""
    version = f"24.{sv}"
    manifest = manifest_statement(delivery.files, kinds=KINDS, version=version)
    manifest["predicate"]["securityVersion"] = sv
    certified = {k: v for k, v in delivery.files.items() if k.startswith("images/")}
    delivery.standard(
        manifest=manifest,
        certification=certification_statement(certified, versions=(version,)),
    )
    return delivery.root


def _gate(store: Path, policy: Path, *extra: str | Path) -> tuple[int, dict[str, Any]]:
    r = invoke(
        "gate",
        SAMPLE_DELIVERY,
        "--policy",
        policy,
        "--store",
        store,
        "--at",
        SAMPLE_AT_TEXT,
        "--format",
        "json",
        *extra,
    )
    assert "Traceback" not in r.output
    return r.exit_code, json.loads(r.stdout) if r.stdout.strip() else {}


def _update_path(report: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {
        c["check"]: (c["outcome"], c["reason"])
        for c in report["checks"]
        if c["check"] in ("installed-product", "downgrade")
    }


def test_downgrade_below_the_last_accepted_release_is_refused(
    tmp_path: Path, delivery: DeliveryBuilder, policy_file: Path
) -> None:
    store = tmp_path / "evidence.db"
    assert _intake(store, _release(delivery, 8), policy_file) == ExitCode.OK
    code, report = _gate(store, policy_file, "--operator-pub", OP_PUB)
    assert code == ExitCode.VERIFICATION_FAILED
    checks = _update_path(report)
    assert checks["installed-product"][0] == "pass"
    assert checks["downgrade"][0] == "fail"
    assert "lower than 8 of the installed release 24.8" in checks["downgrade"][1]
    assert report["installed"]["securityVersion"] == 8
    assert report["installed"]["source"].startswith("evidence record #1 (")


def test_downgrade_with_a_policy_exception_is_a_warning(
    tmp_path: Path, delivery: DeliveryBuilder, policy_file: Path
) -> None:
    store = tmp_path / "evidence.db"
    assert _intake(store, _release(delivery, 8), policy_file) == ExitCode.OK
    data = policy_data()
    data["rollbackExceptions"] = [
        {
            "vendor": "acme",
            "product": "AcmeRAN gNB",
            "securityVersion": 7,
            "reason": "hotfix rollback HF-3",
        }
    ]
    policy = write_policy(tmp_path / "exception.yaml", data)
    sarif = tmp_path / "r.sarif"
    code, report = _gate(
        store, policy, "--operator-pub", OP_PUB, "--output-sarif", sarif
    )
    assert code == ExitCode.OK
    assert _update_path(report)["downgrade"][0] == "warn"
    sarif_validator().validate(json.loads(sarif.read_text()))


def test_same_or_newer_release_passes_and_failed_records_do_not_count(
    tmp_path: Path, delivery: DeliveryBuilder, policy_file: Path
) -> None:
    store = tmp_path / "evidence.db"
    assert _intake(store, SAMPLE_DELIVERY, policy_file) == ExitCode.OK  # sv 7
    root = _release(delivery, 9)
    (root / "images/du.img").write_bytes(b"tampered")
    assert _intake(store, root, policy_file) == ExitCode.VERIFICATION_FAILED  # sv 9
    code, report = _gate(store, policy_file, "--operator-pub", OP_PUB)
    assert code == ExitCode.OK, report
    assert report["installed"]["securityVersion"] == 7
    assert report["installed"]["source"].startswith("evidence record #1 (")


def test_no_accepted_release_is_a_first_rollout(
    tmp_path: Path, policy_file: Path
) -> None:
    store = tmp_path / "evidence.db"
    assert invoke("evidence", "migrate", "--store", store).exit_code == ExitCode.OK
    code, report = _gate(store, policy_file, "--operator-pub", OP_PUB)
    assert code == ExitCode.OK
    assert "first rollout" in _update_path(report)["downgrade"][1]
    assert "installed" not in report


def test_records_that_do_not_verify_are_never_used(
    tmp_path: Path, delivery: DeliveryBuilder, policy_file: Path
) -> None:
    store = tmp_path / "evidence.db"
    assert _intake(store, _release(delivery, 8), policy_file) == ExitCode.OK
    # Another key than the operator's: the record cannot be trusted, and the gate
    # does not fall back to "nothing installed".
    code, report = _gate(
        store, policy_file, "--operator-pub", KEYS / "vendor-a" / "release.pub"
    )
    assert code == ExitCode.VERIFICATION_FAILED
    outcome, reason = _update_path(report)["installed-product"]
    assert outcome == "fail"
    assert "#1" in reason
    assert "do not verify" in reason


def test_store_options_are_checked(tmp_path: Path, policy_file: Path) -> None:
    store = tmp_path / "evidence.db"
    r = invoke("gate", SAMPLE_DELIVERY, "--policy", policy_file, "--store", store)
    assert_error(r, ExitCode.INVALID_INPUT, "--operator-pub")
    state = tmp_path / "s.yaml"
    state.write_text("vendor: acme\n")
    r = invoke(
        "gate",
        SAMPLE_DELIVERY,
        "--policy",
        policy_file,
        "--store",
        store,
        "--installed",
        state,
        "--operator-pub",
        OP_PUB,
    )
    assert_error(r, ExitCode.INVALID_INPUT, "exactly one")
    # A store that does not exist is not created by the gate.
    r = invoke(
        "gate",
        SAMPLE_DELIVERY,
        "--policy",
        policy_file,
        "--store",
        store,
        "--operator-pub",
        OP_PUB,
    )
    assert_error(r, ExitCode.INVALID_INPUT)
    assert not store.exists()


def _delete_record(store: Path, seq: int) -> None:
    """What someone with write access to the file can do: drop the append-only
    triggers and delete one record with its input rows (tree and checkpoints stay)."""
    con = sqlite3.connect(store)
    try:
        triggers = con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        for (name,) in triggers.fetchall():
            con.execute(f"DROP TRIGGER {name}")
        for table in ("record_inputs", "records"):
            assert con.execute(f"DELETE FROM {table} WHERE seq = ?", (seq,)).rowcount  # noqa: S608
        con.commit()
    finally:
        con.close()


def test_a_record_deleted_from_the_store_fails_the_gate_and_intake(
    tmp_path: Path, delivery: DeliveryBuilder, policy_file: Path
) -> None:
    store = tmp_path / "evidence.db"
    assert _intake(store, SAMPLE_DELIVERY, policy_file) == ExitCode.OK  # #1, sv 7
    assert _intake(store, _release(delivery, 9), policy_file) == ExitCode.OK  # #2
    assert _intake(store, SAMPLE_DELIVERY, policy_file) == ExitCode.VERIFICATION_FAILED
    code, report = _gate(store, policy_file, "--operator-pub", OP_PUB)
    assert code == ExitCode.VERIFICATION_FAILED
    assert _update_path(report)["downgrade"][0] == "fail"
    # The accepted release with securityVersion 9 is deleted from the middle.
    _delete_record(store, 2)
    code, report = _gate(store, policy_file, "--operator-pub", OP_PUB)
    assert code == ExitCode.VERIFICATION_FAILED
    outcome, reason = _update_path(report)["installed-product"]
    assert outcome == "fail"
    assert "record #2 is missing (the next one is #3)" in reason
    assert "installed" not in report
    # Intake does not take the floor from what is left, and stores nothing.
    r = invoke(
        "intake", SAMPLE_DELIVERY, "--policy", policy_file, "--operator-key", OP_KEY,
        "--store", store, "--at", SAMPLE_AT_TEXT, "--dedupe-window", "0",
    )  # fmt: skip
    assert_error(
        r, ExitCode.INVALID_INPUT, "holds 2 records up to #3", "nothing was recorded"
    )
    con = sqlite3.connect(store)
    assert con.execute("SELECT count(*), max(seq) FROM records").fetchone() == (2, 3)
    con.close()


def test_records_cut_from_the_tail_fail_the_gate(
    tmp_path: Path, delivery: DeliveryBuilder, policy_file: Path
) -> None:
    store = tmp_path / "evidence.db"
    assert _intake(store, SAMPLE_DELIVERY, policy_file) == ExitCode.OK
    assert _intake(store, _release(delivery, 9), policy_file) == ExitCode.OK
    _delete_record(store, 2)  # the newest: no gap, but the tree and checkpoint say 2
    code, report = _gate(store, policy_file, "--operator-pub", OP_PUB)
    assert code == ExitCode.VERIFICATION_FAILED
    _, reason = _update_path(report)["installed-product"]
    assert "the store's tree holds 2 records, the chain 1" in reason
    # With the tree cut too, the checkpoint the operator key signed at size 2 tells.
    con = sqlite3.connect(store)
    con.execute("DELETE FROM tlog_nodes WHERE idx > 0 OR level > 0")
    con.commit()
    con.close()
    code, report = _gate(store, policy_file, "--operator-pub", OP_PUB)
    _, reason = _update_path(report)["installed-product"]
    assert "signed a checkpoint of size 2, the store holds 1 records" in reason
