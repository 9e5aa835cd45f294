"""``--format sarif|junit`` and one output file per format for verify and intake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from junitparser import Failure, JUnitXml, TestSuite

from tests.builders import (
    KEYS,
    SAMPLE_AT_TEXT,
    SAMPLE_DELIVERY,
    SAMPLE_POLICY,
    copy_sample,
)
from tests.cli.support import assert_error, assert_usage_error, invoke
from tests.unit.reports.support import sarif_validator
from vendorproof._cli import ExitCode
from vendorproof.schemas import load_schema

TAMPERED = "images/gnb-du-24.1.3.img"


def tampered(tmp_path: Path) -> Path:
    root = copy_sample(tmp_path / "d")
    img = root / TAMPERED
    data = bytearray(img.read_bytes())
    data[0] ^= 0xFF
    img.write_bytes(bytes(data))
    return root


def _verify(delivery: Path, *extra: str | Path) -> tuple[int, str, str]:
    r = invoke(
        "verify", delivery, "--policy", SAMPLE_POLICY, "--at", SAMPLE_AT_TEXT, *extra
    )
    assert "Traceback" not in r.output
    return r.exit_code, r.stdout, r.stderr


def _cases(path: Path) -> list[tuple[str, list[object]]]:
    (suite,) = list(JUnitXml.fromfile(str(path)))
    assert isinstance(suite, TestSuite)
    return [(c.name, list(c.result)) for c in suite]


def test_one_run_prints_the_table_and_writes_every_artefact(tmp_path: Path) -> None:
    out = {k: tmp_path / f"r.{k}" for k in ("json", "sarif", "xml")}
    code, stdout, _ = _verify(
        SAMPLE_DELIVERY,
        "--output-json",
        out["json"],
        "--output-sarif",
        out["sarif"],
        "--output-junit",
        out["xml"],
    )
    assert code == ExitCode.OK
    assert "verdict: PASSED" in stdout
    report = json.loads(out["json"].read_text())
    sarif = json.loads(out["sarif"].read_text())
    sarif_validator().validate(sarif)
    (run,) = sarif["runs"]
    assert run["properties"]["verdict"] == "PASSED"
    assert len(run["results"]) == len(report["checks"])
    assert {r["kind"] for r in run["results"]} <= {"pass", "notApplicable"}
    cases = _cases(out["xml"])
    assert len(cases) == len(report["checks"])
    assert not any(isinstance(x, Failure) for _, res in cases for x in res)


def test_tampered_delivery_sarif_points_at_the_tampered_file(tmp_path: Path) -> None:
    root = tampered(tmp_path)
    code, stdout, _ = _verify(
        root, "--format", "sarif", "--output-junit", tmp_path / "r.xml"
    )
    assert code == ExitCode.VERIFICATION_FAILED
    log = json.loads(stdout)
    sarif_validator().validate(log)
    (run,) = log["runs"]
    assert run["properties"]["verdict"] == "FAILED"
    assert (
        run["originalUriBaseIds"]["DELIVERYROOT"]["uri"]
        == root.resolve().as_uri() + "/"
    )
    failed = [r for r in run["results"] if r["kind"] == "fail"]
    # The changed image no longer matches the manifest nor its certification.
    assert [r["ruleId"] for r in failed] == ["integrity", "certification-coverage"]
    for result in failed:
        (loc,) = result["locations"]
        assert loc["physicalLocation"]["artifactLocation"] == {
            "uri": TAMPERED,
            "uriBaseId": "DELIVERYROOT",
        }
        assert result["level"] == "error"
    failures = [
        (name, x)
        for name, res in _cases(tmp_path / "r.xml")
        for x in res
        if isinstance(x, Failure)
    ]
    assert [name for name, _ in failures] == [
        f"integrity [{TAMPERED}]",
        f"certification-coverage [{TAMPERED}]",
    ]


def test_junit_on_stdout(tmp_path: Path) -> None:
    code, stdout, _ = _verify(tampered(tmp_path), "--format", "junit")
    assert code == ExitCode.VERIFICATION_FAILED
    path = tmp_path / "out.xml"
    path.write_text(stdout, encoding="utf-8")
    assert any(res for _, res in _cases(path))


def test_existing_artefact_needs_force(tmp_path: Path) -> None:
    target = tmp_path / "r.sarif"
    target.write_text("keep")
    r = invoke(
        "verify",
        SAMPLE_DELIVERY,
        "--policy",
        SAMPLE_POLICY,
        "--at",
        SAMPLE_AT_TEXT,
        "--output-sarif",
        target,
    )
    assert_error(r, ExitCode.INVALID_INPUT, "exists")
    assert target.read_text() == "keep"
    code, _, _ = _verify(SAMPLE_DELIVERY, "--output-sarif", target, "--force")
    assert code == ExitCode.OK
    sarif_validator().validate(json.loads(target.read_text()))


@pytest.mark.parametrize("command", ["verify", "intake"])
def test_unknown_format_exits_3(tmp_path: Path, command: str) -> None:
    extra: list[str | Path] = (
        []
        if command == "verify"
        else [
            "--operator-key",
            KEYS / "operator" / "intake.key",
            "--store",
            tmp_path / "e.db",
        ]
    )
    r = invoke(
        command, SAMPLE_DELIVERY, "--policy", SAMPLE_POLICY, "--format", "xml", *extra
    )
    assert_usage_error(r, "--format", "'xml'", "sarif", "junit")


def test_intake_writes_sarif_and_junit_with_the_record(tmp_path: Path) -> None:
    r = invoke(
        "intake",
        tampered(tmp_path),
        "--policy",
        SAMPLE_POLICY,
        "--operator-key",
        KEYS / "operator" / "intake.key",
        "--store",
        tmp_path / "e.db",
        "--actor",
        "ci",
        "--at",
        SAMPLE_AT_TEXT,
        "--format",
        "junit",
        "--output-sarif",
        tmp_path / "r.sarif",
        "--output-json",
        tmp_path / "r.json",
    )
    assert r.exit_code == ExitCode.VERIFICATION_FAILED, r.output
    log = json.loads((tmp_path / "r.sarif").read_text())
    sarif_validator().validate(log)
    props = log["runs"][0]["properties"]
    assert props["record"]["seq"] == 1
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["record"] == props["record"]
    Draft202012Validator(load_schema("report")).validate(report)
    (tmp_path / "r.xml").write_text(r.stdout, encoding="utf-8")
    failures = [
        n
        for n, res in _cases(tmp_path / "r.xml")
        for x in res
        if isinstance(x, Failure)
    ]
    assert failures == [
        f"integrity [{TAMPERED}]",
        f"certification-coverage [{TAMPERED}]",
    ]
