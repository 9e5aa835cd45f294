"""``vendorproof report``: the requirement catalogue on the command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.builders import KEYS
from tests.cli.support import assert_error, assert_ok, invoke
from vendorproof._cli import ExitCode
from vendorproof.models.requirements import catalogue


def test_catalogue_text() -> None:
    result = invoke("report", "catalogue")
    assert_ok(result)
    assert "TKG:165(4)" in result.stdout
    assert "alias TKG-165-4" in result.stdout
    assert "unconfirmed" in result.stdout
    assert "the concentration report" in result.stdout


def test_catalogue_json_and_cyclonedx(tmp_path: Path) -> None:
    result = invoke("report", "catalogue", "--format", "json")
    assert_ok(result)
    data = json.loads(result.stdout)
    assert len(data["requirements"]) == len(catalogue().requirements)
    out = tmp_path / "standards.cdx.json"
    assert_ok(invoke("report", "catalogue", "--format", "cyclonedx", "-o", out))
    doc = json.loads(out.read_text("utf-8"))
    assert doc["specVersion"] == "1.6"
    # An existing file is kept unless --force.
    assert_error(
        invoke("report", "catalogue", "--format", "cyclonedx", "-o", out),
        ExitCode.INVALID_INPUT,
        str(out),
    )
    assert_ok(invoke("report", "catalogue", "--format", "json", "-o", out, "--force"))
    assert "definitions" not in json.loads(out.read_text("utf-8"))


def test_catalogue_bad_format() -> None:
    assert_error(
        invoke("report", "catalogue", "--format", "yaml"),
        ExitCode.INVALID_INPUT,
        "--format",
    )


def _store(tmp_path: Path) -> Path:
    from tests.unit.evidence.test_intake import take
    from vendorproof.evidence.store import open_store

    path = tmp_path / "evidence.db"
    store = open_store(str(path))
    try:
        take(store)
    finally:
        store.close()
    return path


OPERATOR_PUB = KEYS / "operator" / "intake.pub"


def test_compliance_text_json_html(tmp_path: Path) -> None:
    db = _store(tmp_path)
    result = invoke(
        "report", "compliance", "--store", db, "--operator-pub", OPERATOR_PUB
    )
    assert_ok(result)
    assert "chain: intact (1 of 1 records verified" in result.stdout
    assert "deliveries accepted: 1" in result.stdout
    result = invoke(
        "report",
        "compliance",
        "--store",
        db,
        "--operator-pub",
        OPERATOR_PUB,
        "--format",
        "json",
        "--since",
        "2000-01-01T00:00:00Z",
    )
    assert_ok(result)
    data = json.loads(result.stdout)
    assert data["deliveries"]["accepted"][0]["seq"] == 1
    out = tmp_path / "compliance.html"
    assert_ok(
        invoke(
            "report",
            "compliance",
            "--store",
            db,
            "--operator-pub",
            OPERATOR_PUB,
            "--format",
            "html",
            "-o",
            out,
        )
    )
    page = out.read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert '<span id="accepted">1</span>' in page


def test_compliance_fails_closed(tmp_path: Path) -> None:
    db = _store(tmp_path)
    assert_error(
        invoke("report", "compliance", "--store", db),
        ExitCode.INVALID_INPUT,
        "--operator-pub",
    )
    other = KEYS / "vendor-a" / "release.pub"
    result = invoke("report", "compliance", "--store", db, "--operator-pub", other)
    assert result.exit_code == ExitCode.VERIFICATION_FAILED
    assert "record #1 does not verify" in result.stdout
    assert "1 record(s) do not verify" in result.stderr
    assert_error(
        invoke(
            "report",
            "compliance",
            "--store",
            tmp_path / "none.db",
            "--operator-pub",
            OPERATOR_PUB,
        ),
        ExitCode.INVALID_INPUT,
    )
    assert_error(
        invoke(
            "report",
            "compliance",
            "--store",
            db,
            "--operator-pub",
            OPERATOR_PUB,
            "--since",
            "yesterday",
        ),
        ExitCode.INVALID_INPUT,
        "--since",
    )
