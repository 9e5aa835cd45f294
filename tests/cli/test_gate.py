"""``vendorproof gate``: exit codes, the update path, SARIF/JUnit/JSON artefacts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.builders import (
    SAMPLE_AT_TEXT,
    SAMPLE_DELIVERY,
    SAMPLE_POLICY,
    policy_data,
    write_policy,
)
from tests.cli.support import assert_error, assert_usage_error, invoke
from tests.cli.test_report_formats import TAMPERED, tampered
from tests.unit.reports.support import sarif_validator
from vendorproof._cli import ExitCode
from vendorproof.schemas import load_schema


def state(tmp_path: Path, **changes: Any) -> Path:
    path = tmp_path / "installed.yaml"
    doc = {
        "vendor": "acme",
        "product": "AcmeRAN gNB",
        "version": "24.1.2",
        "securityVersion": 6,
        "target": "gnb-berlin-01",
        **changes,
    }
    path.write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in doc.items()))
    return path


def gate(
    delivery: Path, *extra: str | Path, policy: Path = SAMPLE_POLICY
) -> tuple[int, str, str]:
    r = invoke("gate", delivery, "--policy", policy, "--at", SAMPLE_AT_TEXT, *extra)
    assert "Traceback" not in r.output
    return r.exit_code, r.stdout, r.stderr


def _checks(report: dict[str, Any]) -> dict[str, str]:
    return {
        c["check"]: c["outcome"]
        for c in report["checks"]
        if c["check"] in ("installed-product", "downgrade")
    }


def test_update_accepted_exit_0(tmp_path: Path) -> None:
    code, out, _ = gate(SAMPLE_DELIVERY, "--installed", state(tmp_path))
    assert code == ExitCode.OK
    assert (
        "installed: acme AcmeRAN gNB 24.1.2 (securityVersion 6) on gnb-berlin-01" in out
    )
    assert "update ACCEPTED" in out


def test_downgrade_refused_exit_1(tmp_path: Path) -> None:
    code, out, _ = gate(
        SAMPLE_DELIVERY,
        "--installed",
        state(tmp_path, securityVersion=8),
        "--format",
        "json",
    )
    assert code == ExitCode.VERIFICATION_FAILED
    report = json.loads(out)
    Draft202012Validator(load_schema("report")).validate(report)
    assert report["verdict"] == "FAILED"
    assert _checks(report) == {"installed-product": "pass", "downgrade": "fail"}
    assert report["installed"]["version"] == "24.1.2"
    assert report["installed"]["source"] == "state file installed.yaml"


def test_downgrade_with_exception_accepted_as_warning(tmp_path: Path) -> None:
    data = policy_data()
    data["rollbackExceptions"] = [
        {
            "vendor": "acme",
            "product": "AcmeRAN gNB",
            "securityVersion": 7,
            "reason": "vendor advisory VA-7",
        }
    ]
    policy = write_policy(tmp_path / "p.yaml", data)
    sarif = tmp_path / "r.sarif"
    code, out, _ = gate(
        SAMPLE_DELIVERY,
        "--installed",
        state(tmp_path, securityVersion=8),
        "--output-sarif",
        sarif,
        policy=policy,
    )
    assert code == ExitCode.OK, out
    log = json.loads(sarif.read_text())
    sarif_validator().validate(log)
    (warned,) = [r for r in log["runs"][0]["results"] if r["ruleId"] == "downgrade"]
    assert (warned["kind"], warned["level"]) == ("review", "none")
    assert "VA-7" in warned["message"]["text"]
    assert log["runs"][0]["properties"]["installed"]["securityVersion"] == 8


def test_product_mismatch_refused(tmp_path: Path) -> None:
    code, _, _ = gate(
        SAMPLE_DELIVERY,
        "--installed",
        state(tmp_path, product="AcmeCore AMF"),
        "--output-json",
        tmp_path / "r.json",
    )
    assert code == ExitCode.VERIFICATION_FAILED
    report = json.loads((tmp_path / "r.json").read_text())
    assert _checks(report) == {
        "installed-product": "fail",
        "downgrade": "not-applicable",
    }


def test_tampered_delivery_rejected_sarif_points_at_the_file(tmp_path: Path) -> None:
    junit = tmp_path / "r.xml"
    code, out, _ = gate(
        tampered(tmp_path),
        "--installed",
        state(tmp_path),
        "--format",
        "sarif",
        "--output-junit",
        junit,
    )
    assert code == ExitCode.VERIFICATION_FAILED
    log = json.loads(out)
    sarif_validator().validate(log)
    failed = [r for r in log["runs"][0]["results"] if r["kind"] == "fail"]
    assert {r["ruleId"] for r in failed} == {"integrity", "certification-coverage"}
    assert {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in failed
    } == {TAMPERED}
    text = junit.read_text()
    assert 'name="vendorproof gate"' in text
    assert '<property name="installed.version" value="24.1.2" />' in text
    assert '<property name="installed.target" value="gnb-berlin-01" />' in text


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        pytest.param([], ("--installed",), id="no-installed"),
        pytest.param(
            ["--installed", "missing.yaml"], ("missing.yaml",), id="missing-file"
        ),
    ],
)
def test_could_not_decide_exit_3(args: list[str], needles: tuple[str, ...]) -> None:
    r = invoke("gate", SAMPLE_DELIVERY, "--policy", SAMPLE_POLICY, *args)
    assert_error(r, ExitCode.INVALID_INPUT, *needles)


def test_bad_format_is_a_usage_error() -> None:
    r = invoke("gate", SAMPLE_DELIVERY, "--policy", SAMPLE_POLICY, "--format", "html")
    assert_usage_error(r, "--format", "'html'", "sarif")


def test_malformed_state_exit_3_names_file_and_field(tmp_path: Path) -> None:
    path = state(tmp_path, securityVersion="seven")
    r = invoke("gate", SAMPLE_DELIVERY, "--policy", SAMPLE_POLICY, "--installed", path)
    assert_error(r, ExitCode.INVALID_INPUT, str(path), "securityVersion")
