"""SARIF 2.1.0 output: schema-valid, one rule per check, kinds, levels, locations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from tests.unit.reports.support import EVERY_OUTCOME, check, report, sarif_validator
from vendorproof.reports import ReportFormat, render, to_sarif
from vendorproof.verify.result import Outcome


def test_every_outcome_validates_against_the_sarif_schema(tmp_path: Path) -> None:
    log = json.loads(render(EVERY_OUTCOME, ReportFormat.SARIF, delivery_root=tmp_path))
    sarif_validator().validate(log)
    (run,) = log["runs"]
    assert run["originalUriBaseIds"]["DELIVERYROOT"]["uri"] == tmp_path.as_uri() + "/"
    props = run["properties"]
    assert props["verdict"] == "FAILED"
    assert props["policy"]["digest"]["sha256"] == "ab" * 32
    assert props["toolVersion"] == run["tool"]["driver"]["version"]


def test_kind_and_level_per_outcome() -> None:
    run = to_sarif(EVERY_OUTCOME)["runs"][0]
    got = [(r["properties"]["outcome"], r["kind"], r["level"]) for r in run["results"]]
    assert got == [
        ("pass", "pass", "none"),
        ("fail", "fail", "error"),
        ("warn", "review", "none"),
        ("not-applicable", "notApplicable", "none"),
        ("error", "fail", "error"),
        ("pass", "pass", "none"),
    ]


def test_one_rule_per_check_with_requirement_tags_and_help() -> None:
    rep = report(
        check("integrity", "images/a.img", Outcome.PASS),
        check("integrity", "odd name:1.bin", Outcome.FAIL),
        check("signature", "attestations/manifest.sigstore.json", Outcome.PASS),
    )
    run = to_sarif(rep)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["integrity", "signature"]
    assert rules[0]["properties"]["tags"] == ["EUCC-9-2e", "KAT-A2-4"]
    # ... and the requirement catalogue's ids for the rule.
    assert {"KAT:A2-4", "EUCC:9(2)(e)"} <= set(rules[0]["properties"]["requirements"])
    # A signer check: the catalogue ids of the short ids its results carry.
    assert rules[1]["properties"]["requirements"] == ["KAT:A2-4"]
    assert "KAT-A2-2" in rules[1]["properties"]["tags"]
    assert all(r["help"]["text"] and r["shortDescription"]["text"] for r in rules)
    assert [r["ruleIndex"] for r in run["results"]] == [0, 0, 1]


def _uri(result: dict[str, Any]) -> str | None:
    (loc,) = result["locations"]
    phys = loc.get("physicalLocation")
    if phys is None:
        return None
    art = phys["artifactLocation"]
    assert art["uriBaseId"] == "DELIVERYROOT"
    uri: str = art["uri"]
    return uri


def test_locations_point_at_the_delivered_file_relative_to_the_root() -> None:
    run = to_sarif(EVERY_OUTCOME)["runs"][0]
    uris = [_uri(r) for r in run["results"]]
    assert uris == [
        "attestations/manifest.sigstore.json",
        "images/a.img",
        "odd%20name%3A1.bin",
        # Not a file of the delivery: the manifest that declares it.
        "attestations/manifest.sigstore.json",
        "attestations/manifest.sigstore.json",
        "attestations/manifest.sigstore.json",
    ]
    for uri in uris:
        assert uri is not None
        parts = urlsplit(uri)
        assert not parts.scheme
        assert not parts.netloc
        assert not parts.query
        assert not parts.fragment
    assert unquote(uris[2] or "") == "odd name:1.bin"
    names = [r["locations"][0]["logicalLocations"][0] for r in run["results"]]
    assert names[5] == {"fullyQualifiedName": "acme/P"}


def test_without_a_manifest_only_logical_locations() -> None:
    rep = report(check("attestations", "delivery", Outcome.FAIL), manifest=None)
    (result,) = to_sarif(rep)["runs"][0]["results"]
    assert _uri(result) is None
    sarif_validator().validate(to_sarif(rep))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\x1b[31mred\x00\ud800", id="controls-and-lone-surrogate"),
        pytest.param("\u202eevil\u2028line", id="bidi"),
        pytest.param('"},{"injected": 1', id="json-quote"),
    ],
)
def test_untrusted_text_stays_a_string(text: str) -> None:
    rep = report(check("integrity", text, Outcome.FAIL, text))
    raw = render(rep, ReportFormat.SARIF)
    raw.decode("ascii")
    log = json.loads(raw)
    sarif_validator().validate(log)
    (result,) = log["runs"][0]["results"]
    assert result["message"]["text"] == f"{text}: {text}"
    assert result["properties"]["subject"] == text
