"""Transparency-log entries are never ignored (docs/formats.md §1, trust-rules.md).

A statement bundle with ``tlogEntries`` is a Sigstore keyless bundle: it is verified
by sigstore-python against the policy's Sigstore root and keyless identities, never by
the PKI path, so entries added to a PKI-signed bundle make its signature check fail.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.builders import AT, DeliveryBuilder, policy_data, write_policy
from vendorproof.intake import check_delivery, load_policy
from vendorproof.verify.result import Outcome, VerificationReport

MANIFEST = "attestations/manifest.sigstore.json"


def run(root: Path, tmp_path: Path) -> VerificationReport:
    policy = load_policy(write_policy(tmp_path / "policy.yaml", policy_data()))
    return check_delivery(root, policy, at=AT, time_source="--at")


def signature(report: VerificationReport) -> tuple[Outcome, str]:
    found = [
        c for c in report.checks if c.check == "signature" and c.subject == MANIFEST
    ]
    assert len(found) == 1, [c.to_dict() for c in report.checks]
    return found[0].outcome, found[0].reason


def test_pki_bundle_without_entries_verifies(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    delivery.standard()
    report = run(delivery.root, tmp_path)
    assert signature(report)[0] is Outcome.PASS
    assert report.ok


def test_entries_in_a_pki_bundle_are_not_ignored(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    delivery.standard()
    path = delivery.root / MANIFEST
    bundle = json.loads(path.read_bytes())
    bundle["verificationMaterial"]["tlogEntries"] = [{"logIndex": "1"}]
    path.write_text(json.dumps(bundle), encoding="utf-8")
    outcome, reason = signature(run(delivery.root, tmp_path))
    assert outcome is Outcome.FAIL
    assert "Sigstore keyless bundle" in reason
