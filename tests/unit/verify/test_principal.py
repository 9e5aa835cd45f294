"""Decisions that name a vendor use the verified signer, never the manifest's words.

The delivering vendor is the policy principal whose anchor or key verified the
manifest's signature. A manifest's ``vendor.name`` and ``vendor.id`` are claims: the
deny-list, rollback, certification holder, trust declaration, keyless and in-toto
rules and vendor co-signature counts must not follow them.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.builders import (
    AT,
    FILES,
    KINDS,
    DeliveryBuilder,
    Signer,
    certbody,
    certification_statement,
    declaration_statement,
    manifest_statement,
    policy_data,
    vendor_a,
    vendor_b,
    write_policy,
)
from tests.unit.verify.test_threshold import raw_key
from vendorproof._internal import crypto
from vendorproof.intake import check_delivery, load_policy
from vendorproof.models.policy import Policy
from vendorproof.models.summary import DeliverySummary
from vendorproof.verify.delivery import check_rollback
from vendorproof.verify.result import CheckResult, Outcome, VerificationReport

ACME = {"id": "acme", "name": "Acme Radio Systems GmbH"}
BOREALIS = {"id": "borealis", "name": "Borealis Networks Oy"}


def run(root: Path, data: dict[str, Any], tmp_path: Path) -> VerificationReport:
    policy = load_policy(write_policy(tmp_path / "policy.yaml", data))
    return check_delivery(root, policy, at=AT, time_source="--at")


def only(report: VerificationReport, check: str) -> CheckResult:
    found = [c for c in report.checks if c.check == check]
    assert len(found) == 1, [c.to_dict() for c in report.checks]
    return found[0]


def deny(vendor: str, product: str = "*") -> dict[str, Any]:
    data = policy_data()
    data["denyList"] = [
        {
            "vendor": vendor,
            "product": product,
            "effective": "2026-01-01T00:00:00Z",
            "reason": "prohibition order (test)",
        }
    ]
    return data


def renamed_manifest(delivery: DeliveryBuilder, **kw: Any) -> None:
    """The standard delivery, with a manifest that says other things about itself."""
    signer: Signer = kw.pop("signer", vendor_a())
    delivery.standard(
        manifest_signer=signer,
        manifest=manifest_statement(delivery.files, kinds=KINDS, **kw),
    )


# -- deny-list -------------------------------------------------------------------


def test_deny_list_matches_the_policy_name_not_the_declared_name(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    # The vendor writes another name into its manifest: the entry on its policy
    # name still applies.
    renamed_manifest(delivery, vendor_name="Friendly Neighbourhood Radio Ltd")
    report = run(delivery.root, deny("Acme Radio*"), tmp_path)
    c = only(report, "deny-list")
    assert c.outcome is Outcome.FAIL
    assert c.subject == "acme/AcmeRAN gNB"
    assert "prohibition order (test)" in c.reason
    assert "'acme' (Acme Radio Systems GmbH)" in c.reason
    assert not report.ok


def test_deny_list_ignores_a_declared_name(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    # Only the verified vendor is matched: a name the manifest writes neither
    # denies nor clears.
    renamed_manifest(delivery, vendor_name="Prohibited Vendor Corp")
    report = run(delivery.root, deny("Prohibited*"), tmp_path)
    c = only(report, "deny-list")
    assert c.outcome is Outcome.PASS, c.reason
    assert report.ok, [f.to_dict() for f in report.failures()]


def test_deny_list_matches_the_policy_id(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    # The manifest claims to be from borealis but acme signed it: the entry on acme
    # applies (and vendor-binding fails).
    renamed_manifest(delivery, vendor_id="borealis", vendor_name=BOREALIS["name"])
    report = run(delivery.root, deny("acme"), tmp_path)
    c = only(report, "deny-list")
    assert c.outcome is Outcome.FAIL
    assert c.subject == "acme/AcmeRAN gNB"
    assert only(report, "vendor-binding").outcome is Outcome.FAIL
    assert report.delivery.to_dict()["principal"] == ACME
    assert report.delivery.to_dict()["vendor"] == BOREALIS


def test_no_trusted_signer_cannot_clear_the_deny_list(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    key = crypto.generate_key("ed25519")
    renamed_manifest(delivery, signer=Signer(key=key))
    report = run(delivery.root, policy_data(), tmp_path)
    c = only(report, "deny-list")
    assert c.outcome is Outcome.FAIL
    assert "no trusted vendor signed the manifest" in c.reason
    assert "principal" not in report.delivery.to_dict()
    assert report.delivery.to_dict()["vendor"] == ACME


def test_report_names_the_verified_principal(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    renamed_manifest(delivery, vendor_name="Some Other Name")
    report = run(delivery.root, policy_data(), tmp_path)
    assert report.ok, [f.to_dict() for f in report.failures()]
    assert report.delivery.to_dict()["principal"] == ACME
    assert report.delivery.to_dict()["vendor"] == {
        "id": "acme",
        "name": "Some Other Name",
    }
    binding = only(report, "vendor-binding")
    assert "'acme' (Acme Radio Systems GmbH, per the policy)" in binding.reason


# -- certification and declaration ---------------------------------------------------


def test_certification_holder_must_be_the_verified_vendor(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    # borealis signs a manifest that claims to be acme's, with acme's certification:
    # the holder is compared with borealis, the vendor that signed.
    renamed_manifest(delivery, signer=vendor_b())
    report = run(delivery.root, policy_data(), tmp_path)
    c = only(report, "certification")
    assert c.outcome is Outcome.FAIL
    assert "holder 'acme' is not the delivering vendor 'borealis'" in c.reason
    assert report.delivery.to_dict()["principal"] == BOREALIS


def test_certification_pass_names_the_verified_body(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    delivery.standard()
    report = run(delivery.root, policy_data(), tmp_path)
    c = only(report, "certification")
    assert c.outcome is Outcome.PASS
    assert "by certification body 'example-cb' (Example Certification Body" in (
        c.reason
    )


def test_declaration_must_come_from_the_verified_vendor(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    # acme's genuine declaration does not vouch for a manifest borealis signed, even
    # though that manifest claims to be acme's.
    renamed_manifest(delivery, signer=vendor_b())
    report = run(delivery.root, policy_data(), tmp_path)
    c = only(report, "trust-declaration")
    assert c.outcome is Outcome.FAIL
    assert "signed by vendor 'acme', not the delivering vendor 'borealis'" in c.reason


def test_declaration_vendor_claim_must_name_its_signer(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    delivery.standard(declaration=declaration_statement(vendor_id="borealis"))
    report = run(delivery.root, policy_data(), tmp_path)
    c = only(report, "trust-declaration")
    assert c.outcome is Outcome.FAIL
    assert "declares for vendor 'borealis' but is signed by 'acme'" in c.reason


def test_declaration_pass_labels_the_declared_legal_entity(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    delivery.standard()
    c = only(run(delivery.root, policy_data(), tmp_path), "trust-declaration")
    assert c.outcome is Outcome.PASS
    assert c.reason.startswith("vendor 'acme' (Acme Radio Systems GmbH) declares")
    assert "declared legal entity: Acme Radio Systems GmbH" in c.reason


# -- keyless and in-toto rules -----------------------------------------------------


def test_keyless_rules_are_the_verified_vendors(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    # borealis requires keyless bundles for its images; a manifest it signs that
    # claims to be acme's does not escape that rule.
    data = policy_data()
    data["vendors"][1]["keyless"] = [
        {
            "identity": "release@borealis.example",
            "issuer": "https://issuer.example",
            "components": ["images/*"],
        }
    ]
    renamed_manifest(delivery, signer=vendor_b())
    report = run(delivery.root, data, tmp_path)
    found = {c.subject: c for c in report.checks if c.check == "keyless-signature"}
    assert set(found) == {"images/du.img", "images/cu.img"}
    assert all(c.outcome is Outcome.FAIL for c in found.values())
    assert "release@borealis.example" in found["images/du.img"].reason


def test_keyless_bundle_without_trusted_signer_fails(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    renamed_manifest(delivery, signer=Signer(key=crypto.generate_key("ed25519")))
    delivery.attest("keyless/images/du.img.sigstore.json", b"{}")
    report = run(delivery.root, policy_data(), tmp_path)
    c = only(report, "keyless-signature")
    assert c.outcome is Outcome.FAIL
    assert "no trusted vendor signed the manifest" in c.reason


def _layout_key(tmp_path: Path) -> str:
    pub = tmp_path / "layout.pub"
    pub.write_bytes(
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return str(pub)


def test_in_toto_rules_are_the_verified_vendors(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    data = policy_data()
    data["vendors"][1]["inToto"] = {"layoutKeys": [_layout_key(tmp_path)]}
    renamed_manifest(delivery, signer=vendor_b())
    report = run(delivery.root, data, tmp_path)
    c = only(report, "in-toto")
    assert c.outcome is Outcome.FAIL
    assert "requires in-toto/root.layout" in c.reason


def test_in_toto_without_trusted_signer_fails(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    renamed_manifest(delivery, signer=Signer(key=crypto.generate_key("ed25519")))
    (delivery.root / "in-toto").mkdir()
    (delivery.root / "in-toto" / "root.layout").write_bytes(b"{}")
    report = run(delivery.root, policy_data(), tmp_path)
    c = only(report, "in-toto")
    assert c.outcome is Outcome.FAIL
    assert "no trusted vendor signed the manifest" in c.reason


# -- vendor co-signatures --------------------------------------------------------------


def test_vendor_cosignature_counts_only_for_the_delivering_vendor(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    # A certification co-signed by a key the policy pins for borealis does not meet
    # a vendor co-signature requirement on a delivery from acme.
    key, pub = raw_key(tmp_path, "borealis-release")
    data = policy_data()
    data["vendors"][1]["publicKeys"] = [pub]
    data["signatureRequirements"] = {
        "certification": [
            {"role": "certification-body", "threshold": 1},
            {"role": "vendor", "threshold": 1},
        ]
    }
    body = certbody()
    cosigned = Signer(key=body.key, cert=body.cert, chain=body.chain, co_signers=(key,))
    certified = {k: v for k, v in FILES.items() if k.startswith("images/")}
    delivery.standard(
        cert_signer=cosigned, certification=certification_statement(certified)
    )
    report = run(delivery.root, data, tmp_path)
    found = [c for c in report.checks if c.check == "signature-threshold"]
    assert len(found) == 1
    assert found[0].outcome is Outcome.FAIL
    assert "vendor: 0 of required 1 (keys of vendor 'acme')" in found[0].reason


# -- rollback --------------------------------------------------------------------------


def _report(delivery: dict[str, Any]) -> VerificationReport:
    return VerificationReport(
        delivery=DeliverySummary.from_dict(delivery),
        policy={},
        verified_at=datetime(2026, 6, 1).astimezone(),
        time_source="--at",
        checks=(),
    )


def _policy(tmp_path: Path) -> Policy:
    return load_policy(write_policy(tmp_path / "policy.yaml"))


def test_rollback_compares_only_a_manifest_signed_by_the_vendor_it_names(
    tmp_path: Path,
) -> None:
    policy = _policy(tmp_path)
    base = {"vendor": ACME, "product": "AcmeRAN gNB", "securityVersion": 3}
    verified = check_rollback(_report({**base, "principal": ACME}), policy, 7)
    assert verified.outcome is Outcome.FAIL
    assert verified.subject == "acme/AcmeRAN gNB"
    # Signed by borealis while claiming acme: acme's release line is not compared.
    other = check_rollback(_report({**base, "principal": BOREALIS}), policy, 7)
    assert other.outcome is Outcome.NOT_APPLICABLE
    assert other.subject == "borealis/AcmeRAN gNB"
    unsigned = check_rollback(_report(base), policy, 7)
    assert unsigned.outcome is Outcome.NOT_APPLICABLE


def test_cosignature_with_a_key_the_policy_disallows_does_not_count(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    # The policy allows ECDSA P-256 only: a pinned Ed25519 co-signing key of the
    # same vendor is not a trusted key for k-of-n.
    key, pub = raw_key(tmp_path, "ed25519-release")
    data = policy_data()
    data["algorithms"] = {"signatures": ["ecdsa-p256-sha256"]}
    data["vendors"][0]["publicKeys"].append(pub)
    data["signatureRequirements"] = {"manifest": [{"role": "vendor", "threshold": 2}]}
    a = vendor_a()
    delivery.standard(
        manifest_signer=Signer(key=a.key, cert=a.cert, chain=a.chain, co_signers=(key,))
    )
    report = run(delivery.root, data, tmp_path)
    found = [c for c in report.checks if c.check == "signature-threshold"]
    manifest = [c for c in found if c.subject == "attestations/manifest.sigstore.json"]
    assert len(manifest) == 1
    assert manifest[0].outcome is Outcome.FAIL
    assert "vendor: 1 of required 2" in manifest[0].reason
