"""audit replay of tampered and filtered bundles through the command line.

Exit codes: 0 only with a pinned key and everything intact; 1 for any finding; 3 for
a bundle that cannot be read (one line naming the file); 5 for a bundle that passed
only against the keys shipped inside it. Never a traceback, never 4.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.builders import KEYS, SAMPLE_AT_TEXT, SAMPLE_DELIVERY, SAMPLE_POLICY
from tests.cli.support import assert_error, assert_ok, invoke
from tests.unit.evidence.support import extension, manifest, relist, resign
from tests.unit.evidence.support import write_manifest as save_manifest
from vendorproof._cli import ExitCode
from vendorproof._internal import crypto

OP_KEY = KEYS / "operator" / "intake.key"
OP_PUB = KEYS / "operator" / "intake.pub"
KEY = crypto.load_private_key(OP_KEY.read_bytes(), None, file="intake.key")
RECORD = "records/{:08d}.dsse.json"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three PASSED records, appended one after the other."""
    db = tmp_path_factory.mktemp("audit") / "evidence.db"
    for _ in range(3):
        result = invoke(
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
            "--dedupe-window",
            "0",  # the same delivery three times, on purpose
        )
        assert_ok(result)
    return db


def export(store: Path, out: Path, *filters: str) -> Path:
    result = invoke(
        "evidence",
        "export",
        "--store",
        store,
        "--bundle",
        out,
        "--operator-pub",
        OP_PUB,
        *filters,
    )
    assert_ok(result)
    return out


def replay_json(*args: str | Path) -> tuple[int, dict[str, Any]]:
    result = invoke("audit", "replay", "--operator-pub", OP_PUB, "--json", *args)
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def problems(report: dict[str, Any]) -> str:
    found = [*report["problems"]]
    for r in report["records"]:
        found += r["problems"]
    return "\n".join(found)


def test_help_documents_the_exit_codes() -> None:
    result = invoke("audit", "replay", "--help")
    assert_ok(result)
    text = " ".join(result.stdout.split())
    assert "Exit 5" in text
    assert "--operator-pub" in text


def test_unpinned_bundle_never_exits_0(store: Path, tmp_path: Path) -> None:
    bundle = export(store, tmp_path / "b")
    result = invoke("audit", "replay", "--bundle", bundle)
    assert result.exit_code == ExitCode.NOT_PINNED
    assert "Traceback" not in result.output
    (bundle / RECORD.format(3)).unlink()
    result = invoke("audit", "replay", "--bundle", bundle)
    assert result.exit_code == ExitCode.VERIFICATION_FAILED  # a finding is a finding


def test_record_field_of_the_wrong_type_is_reported(
    store: Path, tmp_path: Path
) -> None:
    bundle = export(store, tmp_path / "b")
    path = bundle / RECORD.format(2)

    def mutate(statement: dict[str, Any]) -> None:
        extension(statement)["delivery"]["measured"] = ["not", "an", "object"]

    path.write_bytes(resign(path.read_bytes(), mutate, KEY))
    relist(bundle)
    code, report = replay_json("--bundle", bundle)
    assert code == ExitCode.VERIFICATION_FAILED
    assert report["firstAffected"] == 2
    assert "00000002.dsse.json" in problems(report)
    assert "delivery.measured: expected object" in problems(report)


def test_signed_verdict_over_other_checks_fails(store: Path, tmp_path: Path) -> None:
    bundle = export(store, tmp_path / "b")
    path = bundle / RECORD.format(3)

    def mutate(statement: dict[str, Any]) -> None:
        statement["predicate"]["verificationResult"] = "FAILED"

    path.write_bytes(resign(path.read_bytes(), mutate, KEY))
    relist(bundle)
    code, report = replay_json("--bundle", bundle)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "verdict: recorded FAILED, replayed PASSED" in problems(report)


@pytest.mark.parametrize("kind", ["directory", "long-name"])
def test_unreadable_record_path_is_one_line_not_a_crash(
    store: Path, tmp_path: Path, kind: str
) -> None:
    bundle = export(store, tmp_path / "b")
    if kind == "directory":
        path = bundle / RECORD.format(2)
        path.unlink()
        path.mkdir()
        result = invoke("audit", "replay", "--bundle", bundle, "--operator-pub", OP_PUB)
        assert_error(result, ExitCode.INVALID_INPUT, "00000002.dsse.json")
    else:
        data = manifest(bundle)
        data["files"]["records/" + "9" * 4000] = "0" * 64
        save_manifest(bundle, data)
        code, report = replay_json("--bundle", bundle)
        assert code == ExitCode.VERIFICATION_FAILED
        assert "longer than" in problems(report)


def test_manifest_entry_outside_the_bundle_is_not_read(
    store: Path, tmp_path: Path
) -> None:
    bundle = export(store, tmp_path / "b")
    data = manifest(bundle)
    data["files"]["../../../../../../../../etc/hostname"] = "0" * 64
    save_manifest(bundle, data)
    code, report = replay_json("--bundle", bundle)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "'..'" in problems(report)


@pytest.mark.parametrize("how", ["since", "from", "from-to"])
def test_filtered_bundle_replays_and_deletion_is_detected(
    store: Path, tmp_path: Path, how: str
) -> None:
    conn = sqlite3.connect(store)
    ((second,),) = conn.execute("SELECT created_at FROM records WHERE seq = 2")
    conn.close()
    filters = {
        "since": ("--since", second),
        "from": ("--from", "2"),
        "from-to": ("--from", "2", "--to", "3"),
    }[how]
    bundle = export(store, tmp_path / "b", *filters)
    claims = manifest(bundle)["records"]
    assert (claims["first"], claims["last"], claims["count"]) == (2, 3, 2)
    assert claims["previous"]
    code, report = replay_json("--bundle", bundle)
    assert code == ExitCode.OK, problems(report)
    head = (bundle / RECORD.format(3)).read_bytes()
    assert report["records"][-1]["sha256"] == hashlib.sha256(head).hexdigest()
    (bundle / RECORD.format(3)).unlink()
    relist(bundle)
    code, report = replay_json("--bundle", bundle)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "declares 2" in problems(report)


def test_integrity_only_checks_input_blobs(store: Path, tmp_path: Path) -> None:
    bundle = export(store, tmp_path / "b")
    blob = min((bundle / "blobs" / "sha256").iterdir())
    blob.write_bytes(b"changed")
    relist(bundle)
    code, report = replay_json("--bundle", bundle, "--integrity-only")
    assert code == ExitCode.VERIFICATION_FAILED
    assert "was altered" in problems(report)


def test_store_index_column_differing_from_the_record(
    store: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.db"
    copy.write_bytes(store.read_bytes())
    conn = sqlite3.connect(copy)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'"):
        conn.execute(f'DROP TRIGGER "{name}"')
    conn.execute("UPDATE records SET security_version = 1000 WHERE seq = 2")
    conn.commit()
    conn.close()
    code, report = replay_json("--store", copy)
    assert code == ExitCode.VERIFICATION_FAILED
    assert report["firstAffected"] == 2
    assert "index column security_version is 1000" in problems(report)


def test_a_claimed_selection_that_leaves_records_out_is_not_the_whole_chain(
    store: Path, tmp_path: Path
) -> None:
    # Record 2 deleted, its checkpoint dropped, and the (unsigned) manifest claims a
    # filter that would have left it out: a selection, never a whole chain.
    bundle = export(store, tmp_path / "b")
    (bundle / RECORD.format(2)).unlink()
    (bundle / "log" / "checkpoint").unlink()
    (bundle / "log").rmdir()
    data = manifest(bundle)
    del data["log"]
    save_manifest(bundle, data)
    relist(bundle, count=2, filter={"verdict": "PASSED"})
    code, report = replay_json("--bundle", bundle, "--integrity-only")
    assert code == ExitCode.VERIFICATION_FAILED
    assert report["selection"] == {
        "filter": {"verdict": "PASSED"},
        "leftOut": [[2, 2]],
        "accepted": False,
    }
    result = invoke(
        "audit", "replay", "--bundle", bundle, "--operator-pub", OP_PUB,
        "--integrity-only",
    )  # fmt: skip
    assert result.exit_code == ExitCode.VERIFICATION_FAILED
    assert (
        "FAIL: the bundle is a selection, not the whole chain: MANIFEST.json claims "
        "the filter verdict=PASSED (not signed); 1 record(s) left out were not "
        "checked: #2" in " ".join(result.stdout.split())
    )
    # The auditor who asked for a selection accepts it, and is told what it lacks.
    code, report = replay_json(
        "--bundle", bundle, "--integrity-only", "--accept-selection"
    )
    assert code == ExitCode.OK, problems(report)
    assert report["selection"]["accepted"] is True
    # Without the claim, the same cut is a sequence gap.
    relist(bundle, filter={})
    code, report = replay_json("--bundle", bundle, "--integrity-only")
    assert code == ExitCode.VERIFICATION_FAILED
    assert "sequence gap: expected record 2, found 3" in problems(report)


def test_a_selection_without_a_gap_is_checked_as_a_range(
    store: Path, tmp_path: Path
) -> None:
    # Every record is PASSED: the verdict filter leaves nothing out.
    bundle = export(store, tmp_path / "b", "--verdict", "passed")
    assert manifest(bundle)["records"]["filter"]["verdict"] == "PASSED"
    code, report = replay_json("--bundle", bundle, "--integrity-only")
    assert code == ExitCode.OK, problems(report)
    assert report["selection"] is None
