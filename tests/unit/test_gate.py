"""The gate's installed-release state file and update-path checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.builders import (
    SAMPLE_AT,
    SAMPLE_DELIVERY,
    SAMPLE_POLICY,
    policy_data,
    write_policy,
)
from vendorproof.errors import InvalidInputError
from vendorproof.gate import InstalledRelease, load_installed, run_gate
from vendorproof.intake import load_policy
from vendorproof.schemas import load_schema
from vendorproof.verify.result import Outcome

GOOD: dict[str, Any] = {
    "vendor": "acme",
    "product": "AcmeRAN gNB",
    "version": "24.1.2",
    "securityVersion": 6,
}


def _schema_ok(doc: Any) -> bool:
    return Draft202012Validator(load_schema("installed-state")).is_valid(doc)


@pytest.mark.parametrize(
    "doc",
    [
        pytest.param(GOOD, id="minimal"),
        pytest.param(
            {**GOOD, "target": "site 1", "installedAt": "2026-05-01T10:00:00+02:00"},
            id="full",
        ),
        pytest.param({**GOOD, "securityVersion": 0}, id="zero"),
    ],
)
def test_valid_state_parses_and_matches_the_schema(
    tmp_path: Path, doc: dict[str, Any]
) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(doc))
    release = load_installed(path)
    assert release.security_version == doc["securityVersion"]
    assert release.source == "state file state.json"
    assert _schema_ok(doc)
    assert {k: v for k, v in release.to_dict().items() if k != "source"} == doc


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        pytest.param({**GOOD, "extra": 1}, "unknown field(s): 'extra'", id="unknown"),
        pytest.param(
            {k: v for k, v in GOOD.items() if k != "vendor"}, "vendor", id="missing"
        ),
        pytest.param({**GOOD, "securityVersion": True}, "expected integer", id="bool"),
        pytest.param(
            {**GOOD, "securityVersion": "7"}, "expected integer", id="string-sv"
        ),
        pytest.param({**GOOD, "securityVersion": -1}, "negative", id="negative"),
        pytest.param({**GOOD, "version": 24.1}, "expected string", id="float-version"),
        pytest.param({**GOOD, "product": " "}, "empty", id="blank"),
        pytest.param({**GOOD, "installedAt": "yesterday"}, "installedAt", id="time"),
    ],
)
def test_invalid_state_is_refused_with_file_and_field(
    tmp_path: Path, doc: dict[str, Any], needle: str
) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InvalidInputError) as e:
        load_installed(path)
    assert str(path) in str(e.value)
    assert needle in str(e.value)
    assert not _schema_ok(doc)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        pytest.param("vendor: a\nvendor: b\n", "duplicate", id="duplicate-key"),
        pytest.param("- a\n", "mapping", id="not-a-mapping"),
        pytest.param("a: &x 1\nb: *x\n", "alias", id="alias"),
        pytest.param("vendor: !!python/object:os.system {}\n", "tag", id="python-tag"),
    ],
)
def test_yaml_state_goes_through_the_strict_reader(
    tmp_path: Path, text: str, needle: str
) -> None:
    path = tmp_path / "state.yaml"
    path.write_text(text)
    with pytest.raises(InvalidInputError) as e:
        load_installed(path)
    assert needle in str(e.value).lower()


def test_json_state_refuses_duplicates_and_non_objects(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"vendor": "a", "vendor": "b"}')
    with pytest.raises(InvalidInputError, match="duplicate"):
        load_installed(path)
    path.write_text("[]")
    with pytest.raises(InvalidInputError, match="object"):
        load_installed(path)


def _gate(
    installed: InstalledRelease | None, policy: Path = SAMPLE_POLICY
) -> dict[str, tuple[Outcome, str]]:
    result = run_gate(
        SAMPLE_DELIVERY,
        load_policy(policy),
        installed_for=lambda _v, _p: installed,
        at=SAMPLE_AT,
        time_source="--at",
    )
    assert result.installed == installed
    return {
        c.check: (c.outcome, c.reason)
        for c in result.report.checks
        if c.check in ("installed-product", "downgrade")
    }


def _installed(**changes: Any) -> InstalledRelease:
    return InstalledRelease.from_dict({**GOOD, **changes}, source="test")


@pytest.mark.parametrize("sv", [6, 7])
def test_upgrade_and_same_security_version_pass(sv: int) -> None:
    checks = _gate(_installed(securityVersion=sv))
    assert checks["installed-product"][0] is Outcome.PASS
    assert "24.1.2" in checks["installed-product"][1]
    assert checks["downgrade"][0] is Outcome.PASS


def test_downgrade_fails() -> None:
    checks = _gate(_installed(securityVersion=8))
    outcome, reason = checks["downgrade"]
    assert outcome is Outcome.FAIL
    assert "securityVersion 7 is lower than 8" in reason


def test_exception_naming_exactly_that_version_is_a_warning(tmp_path: Path) -> None:
    data = policy_data()
    data["rollbackExceptions"] = [
        {
            "vendor": "acme",
            "product": "AcmeRAN *",
            "securityVersion": 7,
            "reason": "field fix FR-12 needs 24.1.3",
        }
    ]
    policy = write_policy(tmp_path / "p.yaml", data)
    checks = _gate(_installed(securityVersion=8), policy)
    assert checks["downgrade"][0] is Outcome.WARN
    assert "FR-12" in checks["downgrade"][1]
    # An exception for another securityVersion does not help.
    data["rollbackExceptions"][0]["securityVersion"] = 6
    policy = write_policy(tmp_path / "p.yaml", data)
    assert _gate(_installed(securityVersion=8), policy)["downgrade"][0] is Outcome.FAIL


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"product": "AcmeCore AMF"}, id="other-product"),
        pytest.param({"vendor": "Acme Radio Systems GmbH"}, id="vendor-display-name"),
        pytest.param({"vendor": "other"}, id="other-vendor"),
    ],
)
def test_product_mismatch_fails(changes: dict[str, Any]) -> None:
    checks = _gate(_installed(securityVersion=1, **changes))
    assert checks["installed-product"][0] is Outcome.FAIL
    assert checks["downgrade"][0] is Outcome.NOT_APPLICABLE


def test_nothing_installed_is_a_first_rollout() -> None:
    checks = _gate(None)
    assert checks["installed-product"][0] is Outcome.PASS
    assert "first rollout" in checks["downgrade"][1]


@pytest.mark.parametrize(
    "delivery",
    [
        pytest.param({"vendor": {"id": "acme", "name": "A"}}, id="no-verified-signer"),
        pytest.param(
            {
                "vendor": {"id": "acme", "name": "A"},
                "principal": {"id": "other", "name": "O"},
            },
            id="signed-by-another-vendor",
        ),
    ],
)
def test_manifest_not_signed_by_the_vendor_it_names_fails(
    delivery: dict[str, Any],
) -> None:
    from tests.unit.reports.support import check, report
    from vendorproof.gate import check_update_path

    def never(_v: str, _p: str) -> InstalledRelease | None:
        pytest.fail("the installed release must not be looked up")

    rep = report(check("signature", "x", Outcome.PASS), **delivery)
    got = check_update_path(rep, load_policy(SAMPLE_POLICY), never)
    assert [(c.check, c.outcome) for c in got] == [
        ("installed-product", Outcome.FAIL),
        ("downgrade", Outcome.NOT_APPLICABLE),
    ]
