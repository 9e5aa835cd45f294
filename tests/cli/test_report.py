"""``vendorproof report``: the requirement catalogue on the command line."""

from __future__ import annotations

import json
from pathlib import Path

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
