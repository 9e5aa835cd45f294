"""Sigstore keyless material in deliveries: bundles over files and keyless statements."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.builders import (
    AT,
    DeliveryBuilder,
    manifest_statement,
    policy_data,
    vendor_a,
    write_policy,
)
from vendorproof.intake import check_delivery, load_policy
from vendorproof.models.documents import load_signed_document
from vendorproof.verify.result import Outcome, VerificationReport
from vendorproof.verify.signer import check_signer

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "sigstore"
STAGING_ROOT = ASSETS / "trust-roots" / "staging" / "trusted_root.json"
ARTIFACT = ASSETS / "bundles" / "bundle_v3.txt"
BUNDLE = ASSETS / "bundles" / "bundle_v3.txt.sigstore"
IDENTITY = "william@yossarian.net"
ISSUER = "https://github.com/login/oauth"
COMPONENT = "tools/bundle_v3.txt"


def keyless_policy(
    tmp_path: Path,
    *,
    identity: str = IDENTITY,
    trust: bool = True,
    required: bool = True,
) -> Path:
    data: dict[str, Any] = policy_data()
    data["trustDeclaration"] = "optional"
    data["certification"] = {"requirements": []}
    rule: dict[str, Any] = {"identity": identity, "issuer": ISSUER}
    if required:
        rule["components"] = ["tools/*"]
    data["vendors"][0]["keyless"] = [rule]
    if trust:
        data["sigstore"] = {"trustedRoot": str(STAGING_ROOT)}
    return write_policy(tmp_path / "policy.yaml", data)


def build(
    delivery: DeliveryBuilder, *, artifact: bytes | None = None, bundle: bool = True
) -> None:
    data = artifact if artifact is not None else ARTIFACT.read_bytes()
    delivery.files = {COMPONENT: data}
    delivery.write_payload()
    delivery.attest(
        "manifest.sigstore.json", vendor_a().sign(manifest_statement(delivery.files))
    )
    if bundle:
        target = (
            delivery.root / "attestations" / "keyless" / f"{COMPONENT}.sigstore.json"
        )
        target.parent.mkdir(parents=True)
        shutil.copyfile(BUNDLE, target)


def run(root: Path, policy: Path) -> VerificationReport:
    return check_delivery(root, load_policy(policy), at=AT, time_source="--at")


def keyless(report: VerificationReport) -> tuple[Outcome, str]:
    found = [c for c in report.checks if c.check == "keyless-signature"]
    assert len(found) == 1, [c.to_dict() for c in report.checks]
    return found[0].outcome, found[0].reason


def test_required_keyless_bundle_verifies_offline(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    build(delivery)
    report = run(delivery.root, keyless_policy(tmp_path))
    outcome, reason = keyless(report)
    assert outcome is Outcome.PASS, reason
    assert IDENTITY in reason
    assert report.ok, [c.to_dict() for c in report.failures()]


def test_tampered_artifact_fails_keyless_and_integrity(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    build(delivery)
    (delivery.root / COMPONENT).write_bytes(b"tampered\n")
    # The manifest still lists the original digest: integrity fails, and the keyless
    # check is made on the bytes actually delivered.
    report = run(delivery.root, keyless_policy(tmp_path))
    assert keyless(report)[0] is Outcome.FAIL
    assert not report.ok


def test_wrong_identity_fails(delivery: DeliveryBuilder, tmp_path: Path) -> None:
    build(delivery)
    report = run(
        delivery.root, keyless_policy(tmp_path, identity="someone@else.example")
    )
    outcome, _ = keyless(report)
    assert outcome is Outcome.FAIL


def test_missing_required_bundle_fails(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    build(delivery, bundle=False)
    outcome, reason = keyless(run(delivery.root, keyless_policy(tmp_path)))
    assert outcome is Outcome.FAIL
    assert "none delivered" in reason


def test_no_sigstore_trust_in_policy_fails(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    build(delivery)
    outcome, reason = keyless(run(delivery.root, keyless_policy(tmp_path, trust=False)))
    assert outcome is Outcome.FAIL
    assert "names no Sigstore trusted root" in reason


def test_unrequired_bundle_without_signer_warns(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    build(delivery)
    data = policy_data()
    data["trustDeclaration"] = "optional"
    data["certification"] = {"requirements": []}
    report = run(delivery.root, write_policy(tmp_path / "p.yaml", data))
    assert keyless(report)[0] is Outcome.WARN
    assert report.ok


def test_bundle_for_undelivered_file_is_unlisted(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    build(delivery)
    extra = (
        delivery.root / "attestations" / "keyless" / "tools" / "ghost.bin.sigstore.json"
    )
    shutil.copyfile(BUNDLE, extra)
    report = run(delivery.root, keyless_policy(tmp_path))
    failed = [
        c
        for c in report.checks
        if c.check == "unlisted-files" and c.outcome is Outcome.FAIL
    ]
    assert failed
    assert "not delivered" in failed[0].reason


# -- keyless DSSE statements ---------------------------------------------------------

DSSE = ASSETS / "bundles" / "a.dsse.staging-rekor-v2.txt.sigstore.json"
DSSE_IDENTITY = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
DSSE_ISSUER = "https://token.actions.githubusercontent.com"


@pytest.mark.parametrize(
    ("identity", "expected"),
    [
        pytest.param(DSSE_IDENTITY, Outcome.PASS, id="allowed-identity"),
        pytest.param(
            "https://github.com/other/repo", Outcome.FAIL, id="other-identity"
        ),
    ],
)
def test_keyless_statement_signer(
    tmp_path: Path, identity: str, expected: Outcome
) -> None:
    data = policy_data()
    data["vendors"][0]["keyless"] = [{"identity": identity, "issuer": DSSE_ISSUER}]
    data["sigstore"] = {"trustedRoot": str(STAGING_ROOT)}
    policy = load_policy(write_policy(tmp_path / "p.yaml", data))
    doc = load_signed_document(DSSE.read_bytes(), file="attestations/x.sigstore.json")
    assert doc.keyless
    result = check_signer(
        doc,
        policy.vendors,
        role="vendor",
        policy=policy,
        at=AT,
        time_source="--at",
        requirements=("KAT-A2-4",),
    )
    sig = next(c for c in result.checks if c.check == "signature")
    assert sig.outcome is expected, sig.reason
    assert (result.principal is not None) == (expected is Outcome.PASS)


def test_malformed_keyless_statement_fails_the_signature_check(tmp_path: Path) -> None:
    # A token sigstore cannot decode (our bundle parser stores it undecoded) made
    # the whole verification exit 3 without naming the file; now the check fails.
    import base64
    import json

    data = policy_data()
    data["vendors"][0]["keyless"] = [{"identity": DSSE_IDENTITY, "issuer": DSSE_ISSUER}]
    data["sigstore"] = {"trustedRoot": str(STAGING_ROOT)}
    policy = load_policy(write_policy(tmp_path / "p.yaml", data))
    bundle = json.loads(DSSE.read_bytes())
    bundle["verificationMaterial"]["timestampVerificationData"] = {
        "rfc3161Timestamps": [
            {"signedTimestamp": base64.b64encode(b"not DER").decode("ascii")}
        ]
    }
    doc = load_signed_document(
        json.dumps(bundle).encode(), file="attestations/x.sigstore.json"
    )
    result = check_signer(
        doc,
        policy.vendors,
        role="vendor",
        policy=policy,
        at=AT,
        time_source="--at",
        requirements=("KAT-A2-4",),
    )
    sig = next(c for c in result.checks if c.check == "signature")
    assert sig.outcome is Outcome.FAIL
    assert "malformed Sigstore bundle: Invalid Timestamp Response" in sig.reason
    assert result.principal is None
