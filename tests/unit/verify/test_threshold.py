"""k-of-n signature requirements across roles, counted by distinct trusted keys."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from tests.builders import (
    AT,
    DeliveryBuilder,
    Signer,
    certbody,
    certification_statement,
    policy_data,
    vendor_a,
    vendor_a_raw_key,
    write_policy,
)
from vendorproof._internal import crypto
from vendorproof.intake import check_delivery, load_policy
from vendorproof.verify.result import Outcome, VerificationReport


def raw_key(tmp_path: Path, name: str) -> tuple[crypto.SigningKey, str]:
    key = crypto.generate_key("ed25519")
    pub = tmp_path / f"{name}.pub"
    pub.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key, str(pub)


def threshold_check(report: VerificationReport, subject: str) -> tuple[Outcome, str]:
    found = [
        c
        for c in report.checks
        if c.check == "signature-threshold" and c.subject == subject
    ]
    assert len(found) == 1, [c.to_dict() for c in report.checks]
    return found[0].outcome, found[0].reason


def run(root: Path, data: dict[str, Any], tmp_path: Path) -> VerificationReport:
    policy = load_policy(write_policy(tmp_path / "policy.yaml", data))
    return check_delivery(root, policy, at=AT, time_source="--at")


MANIFEST = "attestations/manifest.sigstore.json"
CERT = "attestations/certification.sigstore.json"


def two_of_three_policy(
    tmp_path: Path,
) -> tuple[dict[str, Any], list[crypto.SigningKey]]:
    data = policy_data()
    keys = []
    for i in range(3):
        key, pub = raw_key(tmp_path, f"release{i}")
        keys.append(key)
        data["vendors"][0]["publicKeys"].append(pub)
    data["signatureRequirements"] = {"manifest": [{"role": "vendor", "threshold": 2}]}
    return data, keys


def test_two_of_three_vendor_keys_pass(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    data, keys = two_of_three_policy(tmp_path)
    signer = Signer(key=keys[0], co_signers=(keys[1],))
    delivery.standard(manifest_signer=signer)
    report = run(delivery.root, data, tmp_path)
    outcome, reason = threshold_check(report, MANIFEST)
    assert outcome is Outcome.PASS, reason
    assert "vendor: 2 of required 2" in reason
    assert report.ok, [c.to_dict() for c in report.failures()]


def test_certificate_signer_counts_with_a_pinned_co_signer(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    data, keys = two_of_three_policy(tmp_path)
    a = vendor_a()
    delivery.standard(
        manifest_signer=Signer(
            key=a.key, cert=a.cert, chain=a.chain, co_signers=(keys[2],)
        )
    )
    outcome, reason = threshold_check(run(delivery.root, data, tmp_path), MANIFEST)
    assert outcome is Outcome.PASS, reason


def test_one_of_required_two_fails(delivery: DeliveryBuilder, tmp_path: Path) -> None:
    data, keys = two_of_three_policy(tmp_path)
    delivery.standard(manifest_signer=Signer(key=keys[0]))
    report = run(delivery.root, data, tmp_path)
    outcome, reason = threshold_check(report, MANIFEST)
    assert outcome is Outcome.FAIL
    assert "vendor: 1 of required 2" in reason
    assert not report.ok


def test_same_key_twice_counts_once(delivery: DeliveryBuilder, tmp_path: Path) -> None:
    import json

    from vendorproof._internal.jsonio import dump_json

    data, keys = two_of_three_policy(tmp_path)
    delivery.standard(manifest_signer=Signer(key=keys[0]))
    path = delivery.root / MANIFEST
    bundle = json.loads(path.read_bytes())
    sigs = bundle["dsseEnvelope"]["signatures"]
    sigs.append(dict(sigs[0]))  # the same signature again
    sigs.append({"sig": sigs[0]["sig"]})  # and once more without a keyid
    path.write_bytes(dump_json(bundle))
    outcome, reason = threshold_check(run(delivery.root, data, tmp_path), MANIFEST)
    assert outcome is Outcome.FAIL
    assert "vendor: 1 of required 2" in reason


def test_untrusted_co_signer_does_not_count(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    data, keys = two_of_three_policy(tmp_path)
    stranger = crypto.generate_key("ed25519")
    delivery.standard(manifest_signer=Signer(key=keys[0], co_signers=(stranger,)))
    outcome, _ = threshold_check(run(delivery.root, data, tmp_path), MANIFEST)
    assert outcome is Outcome.FAIL


def cross_role_policy() -> dict[str, Any]:
    data = policy_data()
    data["signatureRequirements"] = {
        "certification": [
            {"role": "certification-body", "threshold": 1},
            {"role": "vendor", "threshold": 1},
        ]
    }
    return data


def test_certification_needs_body_and_vendor(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    body = certbody()
    cosigned = Signer(
        key=body.key,
        cert=body.cert,
        chain=body.chain,
        co_signers=(vendor_a_raw_key().key,),
    )
    certified = {k: v for k, v in delivery.files.items() if k.startswith("images/")}
    delivery.standard(
        cert_signer=cosigned, certification=certification_statement(certified)
    )
    report = run(delivery.root, cross_role_policy(), tmp_path)
    outcome, reason = threshold_check(report, CERT)
    assert outcome is Outcome.PASS, reason
    assert "certification-body: 1 of required 1; vendor: 1 of required 1" in reason


def test_certification_without_vendor_cosignature_fails(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    delivery.standard()
    report = run(delivery.root, cross_role_policy(), tmp_path)
    outcome, reason = threshold_check(report, CERT)
    assert outcome is Outcome.FAIL
    assert "vendor: 0 of required 1" in reason


def test_bad_requirement_is_rejected(tmp_path: Path) -> None:
    import pytest

    from vendorproof.errors import InvalidInputError

    data = policy_data()
    data["signatureRequirements"] = {"manifest": [{"role": "vendor", "threshold": 0}]}
    with pytest.raises(InvalidInputError, match="threshold"):
        load_policy(write_policy(tmp_path / "p.yaml", data))
    data["signatureRequirements"] = {"manifest": [{"role": "auditor", "threshold": 1}]}
    with pytest.raises(InvalidInputError, match="role"):
        load_policy(write_policy(tmp_path / "p.yaml", data))


def test_a_bundle_hint_does_not_keep_co_signatures_from_counting(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    """Key ids and hints are unauthenticated hints: with the signatures' key ids
    stripped and the bundle's one hint naming the first key (as cosign writes it:
    the base64 of the key's SPKI digest), both pinned keys still count."""
    data, keys = two_of_three_policy(tmp_path)
    delivery.standard(manifest_signer=Signer(key=keys[0], co_signers=(keys[1],)))
    path = delivery.root / MANIFEST
    bundle = json.loads(path.read_text())
    for sig in bundle["dsseEnvelope"]["signatures"]:
        sig.pop("keyid", None)
    first = bytes.fromhex(crypto.key_id(keys[0].public_key()))
    bundle["verificationMaterial"]["publicKey"] = {
        "hint": base64.b64encode(first).decode()
    }
    path.write_text(json.dumps(bundle))
    report = run(delivery.root, data, tmp_path)
    outcome, reason = threshold_check(report, MANIFEST)
    assert outcome is Outcome.PASS, reason
    assert "vendor: 2 of required 2" in reason
