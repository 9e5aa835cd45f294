"""Reports built by hand (every outcome, hostile text) and the published schemas."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema

from vendorproof.models.summary import DeliverySummary
from vendorproof.verify.result import CheckResult, Outcome, VerificationReport

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "ci-schemas"


def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads((ASSETS / "sarif-2.1.0-rtm.5.json").read_text("utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def check(
    name: str, subject: str, outcome: Outcome, reason: str = "because"
) -> CheckResult:
    return CheckResult(
        check=name,
        subject=subject,
        requirements=("KAT-A2-4",),
        outcome=outcome,
        reason=reason,
    )


def report(*checks: CheckResult, **delivery: Any) -> VerificationReport:
    return VerificationReport(
        delivery=DeliverySummary.from_dict(
            {
                "root": "/nowhere",
                "listing": {
                    "payload": ["images/a.img", "odd name:1.bin"],
                    "irregular": {},
                },
                "manifest": "attestations/manifest.sigstore.json",
                "product": "P",
                "version": "1",
                "securityVersion": 3,
                **delivery,
            }
        ),
        policy={
            "id": "pol",
            "version": "1",
            "legalBasis": "x",
            "digest": {"sha256": "ab" * 32},
        },
        verified_at=datetime(2026, 6, 1, tzinfo=UTC),
        time_source="--at",
        checks=checks,
        inputs={"attestations/manifest.sigstore.json": "cd" * 32},
    )


EVERY_OUTCOME = report(
    check("signature", "attestations/manifest.sigstore.json", Outcome.PASS),
    check("integrity", "images/a.img", Outcome.FAIL, "sha256 differs"),
    check("unlisted-files", "odd name:1.bin", Outcome.WARN, "not listed"),
    check("in-toto", "in-toto/root.layout", Outcome.NOT_APPLICABLE, "no keys"),
    check("error", "delivery", Outcome.ERROR, "could not read"),
    check("deny-list", "acme/P", Outcome.PASS),
)
