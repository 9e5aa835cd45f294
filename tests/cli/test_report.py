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


INVENTORY = (
    Path(__file__).resolve().parents[2] / "fixtures/inventories/operator-inventory.csv"
)


def _policy(tmp_path: Path, high_risk: str) -> Path:
    """The sample policy with ``highRisk: [high_risk]`` (key paths made absolute)."""
    from tests.builders import SAMPLE_POLICY

    text = SAMPLE_POLICY.read_text("utf-8").replace("../../keys", str(KEYS))
    out = tmp_path / f"policy-{high_risk}.yaml"
    out.write_text(
        text.replace("highRisk: []", f"highRisk: [{high_risk}]"), encoding="utf-8"
    )
    return out


def test_concentration(tmp_path: Path) -> None:
    db = _store(tmp_path)
    args = (
        "report",
        "concentration",
        "--store",
        db,
        "--operator-pub",
        OPERATOR_PUB,
        "--inventory",
        INVENTORY,
    )
    policy = _policy(tmp_path, "borealis")
    result = invoke(*args, "--policy", policy, "--format", "json")
    assert_ok(result)
    data = json.loads(result.stdout)
    ran = next(d for d in data["domains"] if d["domain"] == "RAN")
    assert ran["vendors"][0] == {
        "vendor": "acme",
        "name": "Acme Radio Systems GmbH",
        "policyVendor": True,
        "weight": 120.0,
        "share": 0.6,
        "highRisk": False,
    }
    assert ran["hhi"] == 0.52  # 0.6^2 + 0.4^2
    assert ran["highRiskShare"] == 0.4
    # The policy's thresholds: the global HHI bound for RAN, Core's own bounds.
    assert "HHI 0.5200 is above the threshold 0.5000" in ran["warnings"]
    core = next(d for d in data["domains"] if d["domain"] == "Core")
    assert core["hhi"] == 0.52
    assert not any("threshold" in w for w in core["warnings"])
    assert data["highRisk"] == ["borealis"]
    kinds = {(f["where"], f["kind"]) for f in data["flags"]}
    assert ("row 6", "never-accepted") in kinds  # 24.1.2 was never taken in
    assert ("row 3", "unknown-product") in kinds  # no accepted Borealis gNB
    result = invoke(*args, "--policy", policy)
    assert_ok(result)
    assert "RAN: 2 vendor(s), HHI 0.5200 (high)" in result.stdout
    out = tmp_path / "c.html"
    assert_ok(invoke(*args, "--policy", policy, "--format", "html", "-o", out))
    assert "<svg" in out.read_text("utf-8")
    # A high-risk vendor the policy does not know is a one-line policy error.
    bad = _policy(tmp_path, "nobody")
    assert_error(
        invoke(*args, "--policy", bad),
        ExitCode.INVALID_INPUT,
        str(bad),
        "concentration.highRisk[0]: unknown vendor id 'nobody'",
    )
    # The thresholds are policy fields: the command has no options for them.
    for option in ("--high-risk", "--max-share", "--max-hhi"):
        result = invoke(*args, "--policy", policy, option, "0.5")
        assert result.exit_code == ExitCode.USAGE
    broken = tmp_path / "inv.csv"
    broken.write_text("vendor,product\nacme,x\n", encoding="utf-8")
    assert_error(
        invoke(
            "report",
            "concentration",
            "--store",
            db,
            "--operator-pub",
            OPERATOR_PUB,
            "--inventory",
            broken,
            "--policy",
            policy,
        ),
        ExitCode.INVALID_INPUT,
        str(broken),
    )


def test_concentration_recorded_and_replayed(tmp_path: Path) -> None:
    from tests.builders import SAMPLE_POLICY

    db = _store(tmp_path)
    args = (
        *("report", "concentration", "--store", db),
        *("--inventory", INVENTORY, "--policy", SAMPLE_POLICY),
    )
    key = KEYS / "operator" / "intake.key"
    assert_error(invoke(*args, "--record"), ExitCode.INVALID_INPUT, "--operator-key")
    assert_error(
        invoke(*args, "--operator-key", key), ExitCode.INVALID_INPUT, "--operator-key"
    )
    result = invoke(
        *args,
        "--record",
        "--operator-key",
        key,
        "--actor",
        "auditor",
        "--at",
        "2027-01-15T00:00:00Z",
        "--format",
        "json",
    )
    assert_ok(result)
    assert "recorded as evidence #2" in result.stderr
    assert json.loads(result.stdout)["integrity"]["intact"]
    shown = invoke("evidence", "show", "2", "--store", db)
    assert_ok(shown)
    statement = json.loads(shown.stdout)["statement"]
    assert statement["predicateType"].endswith("/concentration-report/v1")
    assert statement["predicate"]["vendorproof"]["actor"] == "auditor"
    replayed = invoke("audit", "replay", "--store", db, "--operator-pub", OPERATOR_PUB)
    assert_ok(replayed)
    # The compliance report counts it as a verified record, not a delivery.
    result = invoke(
        "report", "compliance", "--store", db, "--operator-pub", OPERATOR_PUB
    )
    assert_ok(result)
    assert "2 of 2 records verified" in result.stdout
    assert "deliveries accepted: 1" in result.stdout
