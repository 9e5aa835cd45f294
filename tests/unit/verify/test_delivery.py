"""Intake verification scenarios: each check passes on a good delivery and fails on
every way of breaking it, with a reason naming the component and the check."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests import pki
from tests.builders import (
    AT,
    FILES,
    KINDS,
    DeliveryBuilder,
    Signer,
    certbody,
    certification_statement,
    declaration_statement,
    issued,
    manifest_statement,
    policy_data,
    signer_from,
    vendor_a,
    vendor_a_raw_key,
    vendor_b,
    write_policy,
)
from vendorproof._internal.jsonio import dump_json
from vendorproof.errors import InvalidInputError
from vendorproof.intake import check_delivery, load_policy
from vendorproof.models.summary import DeliverySummary
from vendorproof.verify.result import Outcome, VerificationReport


def run(root: Path, policy: Path, *, at: datetime = AT) -> VerificationReport:
    return check_delivery(root, load_policy(policy), at=at, time_source="--at")


def outcomes(report: VerificationReport, check: str) -> dict[str, Outcome]:
    return {c.subject: c.outcome for c in report.checks if c.check == check}


def failed(report: VerificationReport, check: str, subject: str | None = None) -> str:
    """Return the reason of the failed ``check`` (on ``subject``); fail if none."""
    for c in report.checks:
        if (
            c.check == check
            and c.outcome is Outcome.FAIL
            and (subject is None or c.subject == subject)
        ):
            assert not report.ok
            return c.reason
    pytest.fail(f"no failed {check} check: {[c.to_dict() for c in report.checks]}")


def leaf_under_vendor_a(**kw: Any) -> Signer:
    inter = issued("vendor-a", "intermediate")
    kw.setdefault("org", "Acme Radio Systems GmbH")
    leaf = pki.make_leaf("Acme Radio Systems Release Signing 2026", inter, **kw)
    return signer_from(leaf, inter)


# -- the good path -------------------------------------------------------------


def test_good_delivery_passes_every_check(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    delivery.standard()
    report = run(delivery.root, policy_file)
    assert report.ok, [c.to_dict() for c in report.failures()]
    assert report.verdict == "PASSED"
    ran = {c.check for c in report.checks}
    assert {
        "attestations",
        "algorithms",
        "signature",
        "certificate-chain",
        "signer-identity",
        "vendor-binding",
        "integrity",
        "unlisted-files",
        "certification",
        "certification-coverage",
        "trust-declaration",
        "deny-list",
    } <= ran
    assert outcomes(report, "integrity") == dict.fromkeys(FILES, Outcome.PASS)
    cov = outcomes(report, "certification-coverage")
    assert cov["images/du.img"] is Outcome.PASS
    assert cov["config/site.yaml"] is Outcome.NOT_APPLICABLE
    assert all(c.requirements for c in report.checks)
    assert report.delivery.to_dict()["vendor"]["id"] == "acme"
    assert report.delivery.to_dict()["trustAnchors"]
    assert set(report.inputs) == {
        "attestations/manifest.sigstore.json",
        "attestations/certification.sigstore.json",
        "attestations/declaration.sigstore.json",
    }


def test_report_without_checks_is_not_ok() -> None:
    report = VerificationReport(
        delivery=DeliverySummary(root=""),
        policy={},
        verified_at=AT,
        time_source="--at",
        checks=(),
    )
    assert not report.ok
    with pytest.raises(Exception, match="no checks were run"):
        report.raise_for_failure()


def test_vendor_b_rsa_pss_delivery_passes(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    data = policy_data()
    data["trustDeclaration"] = "optional"
    data["certification"] = {"requirements": []}
    policy = write_policy(tmp_path / "p.yaml", data)
    delivery.write_payload()
    delivery.attest(
        "manifest.sigstore.json",
        vendor_b().sign(
            manifest_statement(
                delivery.files,
                vendor_id="borealis",
                vendor_name="Borealis Networks Oy",
                product="Borealis Core",
                kinds=KINDS,
            )
        ),
    )
    report = run(delivery.root, policy)
    assert report.ok, [c.to_dict() for c in report.failures()]
    assert any("rsa-pss-sha256" in c.reason for c in report.checks)
    assert outcomes(report, "trust-declaration") == {
        "attestations/": Outcome.NOT_APPLICABLE
    }


def test_pinned_raw_ed25519_key_signs_manifest(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    delivery.standard(manifest_signer=vendor_a_raw_key())
    report = run(delivery.root, policy_file)
    assert report.ok, [c.to_dict() for c in report.failures()]
    chain = [c for c in report.checks if c.check == "certificate-chain"]
    assert chain[0].outcome is Outcome.NOT_APPLICABLE
    assert any(a.startswith("key:") for a in report.delivery.to_dict()["trustAnchors"])


def test_bare_dsse_manifest_is_accepted(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    import json

    delivery.standard(manifest_signer=vendor_a_raw_key())
    bundle = json.loads(
        (delivery.root / "attestations/manifest.sigstore.json").read_bytes()
    )
    (delivery.root / "attestations/manifest.sigstore.json").unlink()
    delivery.attest("manifest.dsse.json", dump_json(bundle["dsseEnvelope"]))
    report = run(delivery.root, policy_file)
    assert report.ok, [c.to_dict() for c in report.failures()]


# -- hash integrity ------------------------------------------------------------


def test_flipped_byte_fails_integrity(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    delivery.standard()
    p = delivery.root / "images/du.img"
    data = bytearray(p.read_bytes())
    data[1000] ^= 0x01
    p.write_bytes(bytes(data))
    report = run(delivery.root, policy_file)
    assert "sha256, sha512 digest differs" in failed(
        report, "integrity", "images/du.img"
    )
    assert "does not certify these digests" in failed(
        report, "certification-coverage", "images/du.img"
    )
    assert outcomes(report, "integrity")["images/cu.img"] is Outcome.PASS


def test_swapped_image_fails(delivery: DeliveryBuilder, policy_file: Path) -> None:
    delivery.standard()
    du = delivery.root / "images/du.img"
    cu = delivery.root / "images/cu.img"
    a, b = du.read_bytes(), cu.read_bytes()
    du.write_bytes(b)
    cu.write_bytes(a)
    report = run(delivery.root, policy_file)
    assert "size" in failed(report, "integrity", "images/du.img")
    assert "size" in failed(report, "integrity", "images/cu.img")


def test_same_size_substitute_fails(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    delivery.standard()
    p = delivery.root / "images/cu.img"
    p.write_bytes(os.urandom(p.stat().st_size))
    report = run(delivery.root, policy_file)
    assert "digest differs" in failed(report, "integrity", "images/cu.img")


def test_missing_file_fails(delivery: DeliveryBuilder, policy_file: Path) -> None:
    delivery.standard()
    (delivery.root / "images/cu.img").unlink()
    report = run(delivery.root, policy_file)
    assert "missing" in failed(report, "integrity", "images/cu.img")


def test_extra_file_fails_or_warns_by_policy(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    delivery.standard()
    (delivery.root / "images/backdoor.img").write_bytes(b"x")
    strict = write_policy(tmp_path / "strict.yaml")
    report = run(delivery.root, strict)
    assert "not listed" in failed(report, "unlisted-files", "images/backdoor.img")
    data = policy_data()
    data["unlistedFiles"] = "warn"
    report = run(delivery.root, write_policy(tmp_path / "warn.yaml", data))
    assert outcomes(report, "unlisted-files") == {"images/backdoor.img": Outcome.WARN}
    assert report.ok


def test_unrecognised_file_in_attestations_is_unlisted(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    delivery.standard()
    delivery.attest("notes.txt", b"hello")
    report = run(delivery.root, policy_file)
    assert "unrecognised" in failed(report, "unlisted-files", "attestations/notes.txt")


def test_symlink_escaping_the_root_fails(
    delivery: DeliveryBuilder, policy_file: Path, tmp_path: Path
) -> None:
    delivery.standard()
    outside = tmp_path / "outside.img"
    outside.write_bytes(FILES["images/du.img"])
    target = delivery.root / "images/du.img"
    target.unlink()
    target.symlink_to(outside)
    report = run(delivery.root, policy_file)
    assert "symbolic link" in failed(report, "integrity", "images/du.img")


def test_symlinked_directory_is_not_followed(
    delivery: DeliveryBuilder, policy_file: Path, tmp_path: Path
) -> None:
    delivery.standard()
    outside = tmp_path / "elsewhere"
    (delivery.root / "images").rename(outside)
    (delivery.root / "images").symlink_to(outside, target_is_directory=True)
    report = run(delivery.root, policy_file)
    assert "missing" in failed(report, "integrity", "images/du.img")
    assert "symbolic link" in failed(report, "unlisted-files", "images")


def test_fifo_component_fails(delivery: DeliveryBuilder, policy_file: Path) -> None:
    delivery.standard()
    (delivery.root / "config/site.yaml").unlink()
    os.mkfifo(delivery.root / "config/site.yaml")
    report = run(delivery.root, policy_file)
    assert "FIFO" in failed(report, "integrity", "config/site.yaml")


@pytest.mark.parametrize(
    "bad_path",
    [
        pytest.param("../outside.img", id="dotdot"),
        pytest.param("/etc/passwd", id="absolute"),
        pytest.param("images/../../x", id="dotdot-inside"),
    ],
)
def test_path_escape_in_manifest_is_a_failed_check(
    delivery: DeliveryBuilder, policy_file: Path, bad_path: str
) -> None:
    # A malformed vendor document is a failed check of the delivery (design.md).
    files = {bad_path: b"data"}
    delivery.write_payload()
    delivery.attest(
        "manifest.sigstore.json", vendor_a().sign(manifest_statement(files))
    )
    report = run(delivery.root, policy_file)
    assert not report.ok
    reason = failed(report, "attestations", "attestations/manifest.sigstore.json")
    assert reason.startswith("malformed: attestations/manifest.sigstore.json: ")
    assert "components[0].path" in reason
    assert "unsafe path" in reason
    # Nothing was measured: no manifest was accepted.
    assert report.delivery.manifest is None
    assert not [c for c in report.checks if c.check == "integrity"]


# -- signatures, chains, identities ------------------------------------------


def test_tampered_payload_fails_signature(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    import base64
    import json

    delivery.standard()
    path = delivery.root / "attestations/manifest.sigstore.json"
    bundle = json.loads(path.read_bytes())
    payload = base64.b64decode(bundle["dsseEnvelope"]["payload"])
    payload = payload.replace(b'"securityVersion": 7', b'"securityVersion": 9')
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(payload).decode()
    path.write_bytes(dump_json(bundle))
    report = run(delivery.root, policy_file)
    assert "does not verify" in failed(
        report, "signature", "attestations/manifest.sigstore.json"
    )
    assert "no trusted vendor signer" in failed(report, "vendor-binding")


def test_untrusted_signer_fails_chain(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    root = pki.make_root("Rogue Root", org="Acme Radio Systems GmbH")
    leaf = pki.make_leaf(
        "Acme Radio Systems Release Signing 2025", root, org="Acme Radio Systems GmbH"
    )
    delivery.standard(manifest_signer=signer_from(leaf))
    report = run(delivery.root, policy_file)
    reason = failed(report, "certificate-chain", "attestations/manifest.sigstore.json")
    assert "does not chain to any trusted vendor anchor" in reason


def test_trusted_signer_of_wrong_vendor_fails_binding(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    delivery.standard(manifest_signer=vendor_b())
    report = run(delivery.root, policy_file)
    reason = failed(report, "vendor-binding", "attestations/manifest.sigstore.json")
    assert "names vendor 'acme' but is signed by vendor 'borealis'" in reason


def test_certification_body_key_cannot_sign_manifest(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    delivery.standard(manifest_signer=certbody())
    report = run(delivery.root, policy_file)
    assert "trusted vendor anchor" in failed(
        report, "certificate-chain", "attestations/manifest.sigstore.json"
    )


def test_vendor_key_cannot_sign_certification(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    delivery.standard(cert_signer=vendor_a())
    report = run(delivery.root, policy_file)
    assert "trusted certification-body anchor" in failed(
        report, "certificate-chain", "attestations/certification.sigstore.json"
    )
    assert "not signed by a trusted certification body" in failed(
        report, "certification"
    )
    assert "needs a valid certification" in failed(
        report, "certification-coverage", "images/du.img"
    )


def test_identity_not_allowed_fails(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    inter = issued("vendor-a", "intermediate")
    leaf = pki.make_leaf(
        "Acme Test Build Signing", inter, org="Acme Radio Systems GmbH"
    )
    delivery.standard(manifest_signer=signer_from(leaf, inter))
    report = run(delivery.root, policy_file)
    assert "matches none of its allowed signer identities" in failed(
        report, "signer-identity"
    )


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        pytest.param(
            {
                "not_before": datetime(2025, 1, 1, tzinfo=UTC),
                "not_after": datetime(2026, 1, 1, tzinfo=UTC),
            },
            "not valid at validation time",
            id="expired-leaf",
        ),
        pytest.param(
            {
                "not_before": datetime(2027, 1, 1, tzinfo=UTC),
                "not_after": datetime(2030, 1, 1, tzinfo=UTC),
            },
            "not valid at validation time",
            id="not-yet-valid-leaf",
        ),
        pytest.param(
            {"eku": (ExtendedKeyUsageOID.SERVER_AUTH,)},
            "extendedKeyUsage lacks code-signing",
            id="leaf-without-code-signing",
        ),
        pytest.param({"eku": None}, "", id="leaf-without-eku"),
        pytest.param(
            {"digital_signature": False}, "digitalSignature", id="leaf-without-ku-ds"
        ),
    ],
)
def test_bad_leaf_fails_chain(
    delivery: DeliveryBuilder, policy_file: Path, kw: dict[str, Any], reason: str
) -> None:
    delivery.standard(manifest_signer=leaf_under_vendor_a(**kw))
    report = run(delivery.root, policy_file)
    got = failed(report, "certificate-chain", "attestations/manifest.sigstore.json")
    assert "does not chain" in got
    assert reason in got


def test_leaf_with_sans_still_verifies(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    signer = leaf_under_vendor_a(san_emails=("release@acme.example",))
    delivery.standard(manifest_signer=signer)
    assert run(delivery.root, policy_file).ok


def test_non_ca_intermediate_fails(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    root = issued("vendor-a", "root")
    fake_ca = pki.make_intermediate(
        "Acme Not A CA", root, org="Acme Radio Systems GmbH", ca=False
    )
    leaf = pki.make_leaf(
        "Acme Radio Systems Release Signing 2025",
        fake_ca,
        org="Acme Radio Systems GmbH",
    )
    delivery.standard(manifest_signer=signer_from(leaf, fake_ca))
    report = run(delivery.root, policy_file)
    assert "does not chain" in failed(report, "certificate-chain")


def test_sha1_certificate_fails_algorithms(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    inter = issued("vendor-a", "intermediate")
    leaf = pki.make_leaf(
        "Acme Radio Systems Release Signing 2025",
        inter,
        org="Acme Radio Systems GmbH",
        hash_alg=hashes.SHA1(),  # noqa: S303 - the point of the test
    )
    delivery.standard(manifest_signer=signer_from(leaf, inter))
    report = run(delivery.root, policy_file)
    assert "SHA1" in failed(report, "algorithms", "attestations/manifest.sigstore.json")


def test_rsa_below_policy_minimum_fails(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    delivery.standard(manifest_signer=leaf_under_vendor_a(key_kind="rsa-2048"))
    report = run(delivery.root, policy_file)
    assert "below the policy minimum 3072" in failed(report, "algorithms")


def test_algorithm_not_allowed_by_policy(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    data = policy_data()
    data["algorithms"]["signatures"] = ["ecdsa-p384-sha384"]
    delivery.standard()
    report = run(delivery.root, write_policy(tmp_path / "p.yaml", data))
    assert "ecdsa-p256-sha256 is not allowed" in failed(report, "algorithms")


def test_refused_digest_algorithm_fails(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    import hashlib

    data = delivery.files["images/du.img"]
    override = {"images/du.img": {"md5": hashlib.md5(data).hexdigest()}}  # noqa: S324
    stmt = manifest_statement(delivery.files, kinds=KINDS, digest_override=override)
    delivery.standard(manifest=stmt)
    report = run(delivery.root, policy_file)
    assert "md5" in failed(report, "digest-algorithms", "images/du.img")


# -- certification coverage ------------------------------------------------------


def _certified() -> dict[str, bytes]:
    return {k: v for k, v in FILES.items() if k.startswith("images/")}


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        pytest.param({"versions": ("24.1.2",)}, "not 24.1.3", id="other-version"),
        pytest.param(
            {"valid_until": "2026-05-01T00:00:00Z"}, "not valid at", id="expired"
        ),
        pytest.param(
            {"valid_from": "2026-07-01T00:00:00Z"}, "not valid at", id="not-yet-valid"
        ),
        pytest.param({"status": "withdrawn"}, "status is withdrawn", id="withdrawn"),
        pytest.param({"product": "Other gNB"}, "certifies product", id="other-product"),
        pytest.param({"holder_id": "borealis"}, "holder 'borealis'", id="other-holder"),
        pytest.param(
            {"scheme": "EUCC"},
            "not allowed to certify scheme EUCC",
            id="scheme-not-allowed",
        ),
        pytest.param(
            {"body_id": "other-cb"}, "names certification body", id="other-body"
        ),
    ],
)
def test_unusable_certification_fails(
    delivery: DeliveryBuilder, policy_file: Path, kw: dict[str, Any], reason: str
) -> None:
    delivery.standard(certification=certification_statement(_certified(), **kw))
    report = run(delivery.root, policy_file)
    assert reason in failed(report, "certification")
    assert "needs a valid certification" in failed(
        report, "certification-coverage", "images/du.img"
    )


@pytest.mark.parametrize(
    "certificate_id",
    ["EUCC-3090-2026-01-0001", "BSI-DSZ-CC-1068-2024", "EUCC-3090-2026-13-0001"],
)
def test_body_signed_eucc_id_must_have_the_prescribed_structure(
    delivery: DeliveryBuilder, policy_file: Path, certificate_id: str
) -> None:
    stmt = certification_statement(_certified(), scheme="EUCC")
    stmt["predicate"]["certificateId"] = certificate_id
    delivery.standard(certification=stmt)
    report = run(delivery.root, policy_file)
    if certificate_id == "EUCC-3090-2026-01-0001":
        # Well formed: refused only because the sample body may not certify EUCC.
        assert "not allowed to certify scheme EUCC" in failed(report, "certification")
        return
    reason = failed(report, "certification")
    assert "certificateId" in reason
    assert "Art. 11(3)(b)" in reason or "names no month of issuance" in reason


def test_certification_of_other_digests_fails_coverage(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    other = {"images/du.img": b"another build", "images/cu.img": FILES["images/cu.img"]}
    delivery.standard(certification=certification_statement(other))
    report = run(delivery.root, policy_file)
    assert "does not certify these digests" in failed(
        report, "certification-coverage", "images/du.img"
    )
    assert outcomes(report, "certification-coverage")["images/cu.img"] is Outcome.PASS


def test_missing_certification_fails_coverage(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    delivery.standard()
    (delivery.root / "attestations/certification.sigstore.json").unlink()
    report = run(delivery.root, policy_file)
    assert "no certification statement delivered" in failed(
        report, "certification-coverage", "images/du.img"
    )


def test_rule_for_other_domain_does_not_apply(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    stmt = manifest_statement(
        FILES, kinds=KINDS, domain="Transport", network_function="router"
    )
    delivery.standard(manifest=stmt)
    (delivery.root / "attestations/certification.sigstore.json").unlink()
    report = run(delivery.root, policy_file)
    assert set(outcomes(report, "certification-coverage").values()) == {
        Outcome.NOT_APPLICABLE
    }
    assert report.ok


# -- trust declaration and deny-list ----------------------------------------------


def test_missing_required_declaration_fails(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    delivery.standard()
    (delivery.root / "attestations/declaration.sigstore.json").unlink()
    report = run(delivery.root, policy_file)
    assert "required by the policy" in failed(report, "trust-declaration")


@pytest.mark.parametrize(
    ("kw", "signer", "reason"),
    [
        pytest.param(
            {"products": ["Other*"]}, None, "does not cover", id="other-product"
        ),
        pytest.param(
            {"valid_until": "2026-03-01T00:00:00Z"}, None, "not valid at", id="expired"
        ),
        pytest.param(
            {"vendor_id": "borealis"}, None, "declares for vendor", id="other-vendor"
        ),
        pytest.param({}, "vendor-b", "not the delivering vendor", id="signed-by-other"),
    ],
)
def test_bad_declaration_fails(
    delivery: DeliveryBuilder,
    policy_file: Path,
    kw: dict[str, Any],
    signer: str | None,
    reason: str,
) -> None:
    delivery.standard(
        declaration=declaration_statement(**kw),
        declaration_signer=vendor_b() if signer else None,
    )
    report = run(delivery.root, policy_file)
    assert reason in failed(report, "trust-declaration")


def test_denied_vendor_fails_from_effective_date(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    delivery.standard()
    data = policy_data()
    data["denyList"] = [
        {
            "vendor": "acme",
            "product": "AcmeRAN*",
            "effective": "2026-05-01T00:00:00Z",
            "reason": "prohibition order (test)",
        }
    ]
    policy = write_policy(tmp_path / "deny.yaml", data)
    report = run(delivery.root, policy)
    assert "prohibition order (test)" in failed(report, "deny-list")
    earlier = run(delivery.root, policy, at=AT - timedelta(days=60))
    assert outcomes(earlier, "deny-list") == {"acme/AcmeRAN gNB": Outcome.PASS}


# -- attestation structure ---------------------------------------------------------


def test_no_manifest_fails(delivery: DeliveryBuilder, policy_file: Path) -> None:
    delivery.standard()
    (delivery.root / "attestations/manifest.sigstore.json").unlink()
    report = run(delivery.root, policy_file)
    assert "found 0" in failed(report, "attestations")


def test_two_manifests_fail(delivery: DeliveryBuilder, policy_file: Path) -> None:
    delivery.standard()
    delivery.attest(
        "manifest2.sigstore.json",
        vendor_a().sign(manifest_statement(FILES, kinds=KINDS)),
    )
    report = run(delivery.root, policy_file)
    assert "found 2" in failed(report, "attestations")


def test_unknown_predicate_type_fails(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    delivery.standard()
    stmt = manifest_statement(FILES)
    stmt["predicateType"] = "https://example.com/unknown/v1"
    delivery.attest("other.sigstore.json", vendor_a().sign(stmt))
    report = run(delivery.root, policy_file)
    assert "unrecognised predicate type" in failed(
        report, "attestations", "attestations/other.sigstore.json"
    )


def test_not_a_directory_is_invalid_input(tmp_path: Path, policy_file: Path) -> None:
    f = tmp_path / "file"
    f.write_bytes(b"x")
    with pytest.raises(InvalidInputError, match="not a delivery in a known format"):
        run(f, policy_file)
