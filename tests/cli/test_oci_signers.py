"""Every signature over an image counts: k-of-n, the vendor's signature kinds, cosign.

An image carries its signatures as referrers (Notation envelopes, Sigstore bundles)
or as a cosign ``sha256-<digest>.sig`` tag; each one that verifies counts once per
distinct key toward ``signatureRequirements.manifest``, if its kind is one the
vendor's ``imageSignatures`` allows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from typer.testing import CliRunner

from tests.builders import KEYS, statement
from tests.oci import (
    COSE,
    JWS,
    SIGSTORE_BUNDLE,
    acme_image,
    acme_signer,
    add_simple_signature,
    cbor_map,
    cose_envelope,
    cosign_bundle_referrer,
    cosign_key_bundle,
    dumps,
    jws_envelope,
    new_layout,
    oci_policy,
    second_acme_signer,
)
from vendorproof._cli import ExitCode, app
from vendorproof.verify.cosign import COSIGN_PREDICATE

runner = CliRunner()
AT = "2026-01-01T00:00:00Z"
SIGNED_AT = datetime(2025, 12, 1, tzinfo=UTC)
OP_KEY = KEYS / "operator" / "intake.key"
OP_PUB = KEYS / "operator" / "intake.pub"


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def verify(layout: Path, pol: Path) -> tuple[int, dict[str, Any]]:
    code, out, err = invoke(
        "verify", layout, "--policy", pol, "--at", AT, "--format", "json"
    )
    assert out.strip(), err
    report: dict[str, Any] = json.loads(out)
    return code, report


def policy(
    tmp_path: Path, *, threshold: int | None = None, kinds: list[str] | None = None
) -> Path:
    path = oci_policy(tmp_path)
    data = yaml.safe_load(path.read_text())
    if threshold is not None:
        data["signatureRequirements"] = {
            "manifest": [{"role": "vendor", "threshold": threshold}]
        }
    if kinds is not None:
        (acme,) = [v for v in data["vendors"] if v["id"] == "acme"]
        acme["imageSignatures"] = kinds
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def found(report: dict[str, Any], check: str) -> list[dict[str, Any]]:
    return [c for c in report["checks"] if c["check"] == check]


def threshold(report: dict[str, Any]) -> tuple[str, str]:
    (only,) = found(report, "signature-threshold")
    return only["outcome"], only["reason"]


def two_signed(tmp_path: Path, *, same_cert: bool = False) -> Path:
    """An Acme image with two Notation JWS referrers."""
    layout, image = acme_image(tmp_path / "l", signed_at=SIGNED_AT)
    key, chain = acme_signer() if same_cert else second_acme_signer()
    later = SIGNED_AT.replace(day=2)  # another envelope, even from the same key
    layout.add_referrer(image, jws_envelope(key, chain, image, signed_at=later), JWS)
    return layout.root


def test_two_of_two_with_two_signing_certificates_passes(tmp_path: Path) -> None:
    code, report = verify(two_signed(tmp_path), policy(tmp_path, threshold=2))
    assert code == ExitCode.OK, report
    outcome, reason = threshold(report)
    assert outcome == "pass"
    assert "vendor: 2 of required 2 (keys of vendor 'acme')" in reason
    # Both envelopes were verified, each reported under its own blob.
    subjects = {c["subject"] for c in found(report, "target-artifact")}
    assert len(subjects) == 2


def test_two_of_two_with_one_signature_fails(tmp_path: Path) -> None:
    layout, _ = acme_image(tmp_path / "l", signed_at=SIGNED_AT)
    code, report = verify(layout.root, policy(tmp_path, threshold=2))
    assert code == ExitCode.VERIFICATION_FAILED
    outcome, reason = threshold(report)
    assert outcome == "fail"
    assert "vendor: 1 of required 2" in reason
    # One of one is enough.
    code, report = verify(layout.root, policy(tmp_path, threshold=1))
    assert code == ExitCode.OK, report
    assert threshold(report)[0] == "pass"


def test_the_same_certificate_twice_counts_once(tmp_path: Path) -> None:
    code, report = verify(
        two_signed(tmp_path, same_cert=True), policy(tmp_path, threshold=2)
    )
    assert code == ExitCode.VERIFICATION_FAILED
    outcome, reason = threshold(report)
    assert outcome == "fail"
    assert "vendor: 1 of required 2" in reason


def test_no_threshold_without_signature_requirements(tmp_path: Path) -> None:
    code, report = verify(two_signed(tmp_path), policy(tmp_path))
    assert code == ExitCode.OK, report
    assert found(report, "signature-threshold") == []


def notation_and_cosign(tmp_path: Path) -> Path:
    """Notation by Acme's second key, cosign (a bundle) by its release signer."""
    layout = new_layout(tmp_path / "l")
    image = layout.add_image()
    key, chain = second_acme_signer()
    layout.add_referrer(
        image, jws_envelope(key, chain, image, signed_at=SIGNED_AT), JWS
    )
    cosign_bundle_referrer(layout, image)
    return layout.root


def test_notation_and_cosign_signatures_both_count(tmp_path: Path) -> None:
    code, report = verify(notation_and_cosign(tmp_path), policy(tmp_path, threshold=2))
    assert code == ExitCode.OK, report
    assert threshold(report)[0] == "pass"


def test_cosign_signature_of_a_notation_only_vendor_does_not_count(
    tmp_path: Path,
) -> None:
    root = notation_and_cosign(tmp_path)
    pol = policy(tmp_path, threshold=2, kinds=["notation"])
    code, report = verify(root, pol)
    assert code == ExitCode.VERIFICATION_FAILED
    outcome, reason = threshold(report)
    assert outcome == "fail"
    assert "vendor: 1 of required 2" in reason
    (warned,) = [c for c in found(report, "signature") if c["outcome"] == "warn"]
    assert "a cosign signature of vendor 'acme'" in warned["reason"]
    assert "only with notation (imageSignatures): not counted" in warned["reason"]
    # Without a threshold the Notation signature alone signs the image, and the
    # refused cosign signature is still reported.
    code, report = verify(root, policy(tmp_path, kinds=["notation"]))
    assert code == ExitCode.OK, report
    assert "warn" in {c["outcome"] for c in found(report, "signature")}


def test_only_signature_of_a_refused_kind_fails(tmp_path: Path) -> None:
    layout = new_layout(tmp_path / "l")
    image = layout.add_image()
    cosign_bundle_referrer(layout, image)
    code, report = verify(layout.root, policy(tmp_path, kinds=["notation"]))
    assert code == ExitCode.VERIFICATION_FAILED
    failed = [c for c in found(report, "signature") if c["outcome"] == "fail"]
    assert any("(imageSignatures): not counted" in c["reason"] for c in failed)
    code, report = verify(layout.root, policy(tmp_path, kinds=["cosign"]))
    assert code == ExitCode.OK, report


@pytest.mark.parametrize(
    ("kinds", "message"),
    [
        (["notation", "gpg"], "imageSignatures[1]: 'gpg' is not one of: cosign"),
        ([], "needs at least one signature kind"),
        ("notation", "imageSignatures"),
    ],
)
def test_image_signature_kinds_are_checked_at_policy_load(
    tmp_path: Path, kinds: Any, message: str
) -> None:
    layout, _ = acme_image(tmp_path / "l", signed_at=SIGNED_AT)
    code, _, err = invoke(
        "verify", layout.root, "--policy", policy(tmp_path, kinds=kinds), "--at", AT
    )
    assert code == ExitCode.INVALID_INPUT
    assert message in err
    assert len(err.strip().splitlines()) == 1, err


# ------------------------------------------------------------------ cosign forms


def cosign_layout(tmp_path: Path, form: str, *, other: bool = False) -> Path:
    """An image signed only with cosign, in the bundle or the simple-signing form;
    ``other``: the signature names another manifest's digest."""
    layout = new_layout(tmp_path / "l")
    image = layout.add_image()
    signed = new_layout(tmp_path / "o").add_image([b"other"]) if other else image
    if form == "bundle":
        cosign_bundle_referrer(layout, image, signed_digest=signed["digest"])
    else:
        add_simple_signature(layout, image, signed_digest=signed["digest"])
    return layout.root


FORMS = ["bundle", "simple-signing"]


@pytest.mark.parametrize("form", FORMS)
def test_cosign_signed_layout_verifies(tmp_path: Path, form: str) -> None:
    code, report = verify(cosign_layout(tmp_path, form), policy(tmp_path))
    assert code == ExitCode.OK, report
    assert report["delivery"]["principal"]["id"] == "acme"
    assert {c["outcome"] for c in found(report, "target-artifact")} == {"pass"}


@pytest.mark.parametrize("form", FORMS)
def test_cosign_signature_for_another_manifest_fails(tmp_path: Path, form: str) -> None:
    code, report = verify(cosign_layout(tmp_path, form, other=True), policy(tmp_path))
    assert code == ExitCode.VERIFICATION_FAILED
    (bad,) = found(report, "target-artifact")
    assert bad["outcome"] == "fail"
    assert "principal" not in report["delivery"]


ATTESTATIONS: list[tuple[str, dict[str, Any]]] = [
    ("https://slsa.dev/provenance/v1", {"buildDefinition": {"buildType": "x"}}),
    ("https://openvex.dev/ns/v0.2.0", {"statements": [{"status": "affected"}]}),
    ("https://spdx.dev/Document", {"spdxVersion": "SPDX-2.3"}),
]


@pytest.mark.parametrize(("predicate_type", "predicate"), ATTESTATIONS)
def test_a_vendor_attestation_is_not_a_signature_of_the_image(
    tmp_path: Path, predicate_type: str, predicate: dict[str, Any]
) -> None:
    """cosign attaches attestations as bundle referrers too; only the bundle of
    ``cosign sign`` (predicate https://sigstore.dev/cosign/sign/v1) signs the image."""
    layout = new_layout(tmp_path / "l")
    image = layout.add_image()
    cosign_bundle_referrer(
        layout, image, predicate_type=predicate_type, predicate=predicate
    )
    code, report = verify(layout.root, policy(tmp_path))
    assert code == ExitCode.VERIFICATION_FAILED
    (bad,) = found(report, "target-artifact")
    assert bad["outcome"] == "fail"
    assert repr(predicate_type) in bad["reason"]
    assert "not cosign's signing predicate" in bad["reason"]
    assert "principal" not in report["delivery"]


def test_an_attestation_beside_a_signature_does_not_count(tmp_path: Path) -> None:
    layout = new_layout(tmp_path / "l")
    image = layout.add_image()
    key, chain = second_acme_signer()
    layout.add_referrer(
        image, jws_envelope(key, chain, image, signed_at=SIGNED_AT), JWS
    )
    ptype, predicate = ATTESTATIONS[0]
    cosign_bundle_referrer(layout, image, predicate_type=ptype, predicate=predicate)
    # The Notation signature signs the image; the attestation is not held against
    # it, but its key (Acme's release key) is no second signature.
    code, report = verify(layout.root, policy(tmp_path))
    assert code == ExitCode.OK, report
    code, report = verify(layout.root, policy(tmp_path, threshold=2))
    assert code == ExitCode.VERIFICATION_FAILED
    outcome, reason = threshold(report)
    assert outcome == "fail"
    assert "vendor: 1 of required 2" in reason


@pytest.mark.parametrize("form", FORMS)
def test_cosign_signed_layout_is_recorded_and_replayed(
    tmp_path: Path, form: str
) -> None:
    store = tmp_path / "evidence.db"
    code, _, err = invoke(
        "intake",
        cosign_layout(tmp_path, form),
        "--policy",
        policy(tmp_path),
        "--operator-key",
        OP_KEY,
        "--store",
        store,
        "--actor",
        "tester",
        "--at",
        AT,
    )
    assert code == ExitCode.OK, err
    code, out, err = invoke(
        "audit", "replay", "--operator-pub", OP_PUB, "--store", store
    )
    assert code == ExitCode.OK, (out, err)


def test_a_cosign_3_bundle_signed_with_an_rsa_key_is_recorded_and_replayed(
    tmp_path: Path,
) -> None:
    """``cosign sign --key`` with an RSA key (an HSM or KMS key, typically): the
    bundle's DSSE signature is PKCS #1 v1.5 and the key is named by cosign's base64
    hint. The image verifies against the pinned key, is recorded at intake, and the
    record replays; the same bundle fails once the policy pins another key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    layout = new_layout(tmp_path / "l")
    image = layout.add_image()
    body = dumps(
        statement(
            [
                {
                    "name": "registry.example/upf",
                    "digest": {"sha256": image["digest"][7:]},
                }
            ],
            COSIGN_PREDICATE,
            {},
        )
    )
    layout.add_referrer(
        image,
        cosign_key_bundle(tmp_path, body, key),
        SIGSTORE_BUNDLE,
        artifact_type=SIGSTORE_BUNDLE,
    )

    def pinning(pub_key: rsa.RSAPublicKey) -> Path:
        pub = tmp_path / "cosign.pub"
        pub.write_bytes(
            pub_key.public_bytes(
                serialization.Encoding.PEM,
                serialization.PublicFormat.SubjectPublicKeyInfo,
            )
        )
        path = policy(tmp_path, kinds=["cosign"])
        data = yaml.safe_load(path.read_text())
        (acme,) = [v for v in data["vendors"] if v["id"] == "acme"]
        acme["publicKeys"] = [str(pub)]
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    code, report = verify(layout.root, pinning(key.public_key()))
    assert code == ExitCode.OK, report
    assert report["delivery"]["principal"]["id"] == "acme"
    (sig,) = [c for c in found(report, "signature") if c["outcome"] == "pass"]
    assert sig["reason"].startswith("rsa-pkcs1v15-sha256 signature over DSSE PAE")
    store = tmp_path / "evidence.db"
    code, _, err = invoke(
        "intake", layout.root, "--policy", pinning(key.public_key()),
        "--operator-key", OP_KEY, "--store", store, "--actor", "tester", "--at", AT,
    )  # fmt: skip
    assert code == ExitCode.OK, err
    code, out, err = invoke(
        "audit", "replay", "--operator-pub", OP_PUB, "--store", store
    )
    assert code == ExitCode.OK, (out, err)
    other = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    code, report = verify(layout.root, pinning(other.public_key()))
    assert code == ExitCode.VERIFICATION_FAILED
    assert "principal" not in report["delivery"]


# ------------------------------------------------------- COSE envelopes as referrers


def cose_layout(tmp_path: Path, case: str) -> tuple[Path, str]:
    """An image whose only signature is a COSE_Sign1 referrer (application/cose)."""
    import cbor2

    from tests.builders import issued

    layout = new_layout(tmp_path / "l")
    image = layout.add_image()
    key, chain = acme_signer()
    raw_protected = None
    if case == "revoked":
        leaf = issued("vendor-a", "signing-revoked")
        assert isinstance(leaf.key, type(key))
        key, chain = leaf.key, [leaf.cert, *chain[1:]]
    if case == "duplicate":
        scheme = "io.cncf.notary.signingScheme"
        raw_protected = cbor_map(
            (1, -7),
            (1, -7),
            (2, [scheme]),
            (3, "application/vnd.cncf.notary.payload.v1+json"),
            (scheme, "notary.x509"),
            ("io.cncf.notary.signingTime", cbor2.CBORTag(1, 1764547200)),
        )
    envelope = cose_envelope(
        key, chain, image, signed_at=SIGNED_AT, raw_protected=raw_protected
    )
    referrer = layout.add_referrer(image, envelope, COSE)
    manifest = json.loads(
        (layout.root / "blobs/sha256" / referrer["digest"][7:]).read_bytes()
    )
    return layout.root, "blobs/sha256/" + manifest["layers"][0]["digest"][7:]


@pytest.mark.parametrize(
    ("case", "check", "reason"),
    [
        ("good", None, None),
        ("duplicate", "notation-envelope", "Duplicate map key: 1"),
        ("revoked", "revocation", "revoked"),
    ],
)
def test_cose_envelope_as_a_referrer(
    tmp_path: Path, case: str, check: str | None, reason: str | None
) -> None:
    root, blob = cose_layout(tmp_path, case)
    code, report = verify(root, policy(tmp_path))
    if check is None:
        assert code == ExitCode.OK, report
        assert report["delivery"]["principal"]["id"] == "acme"
        return
    assert code == ExitCode.VERIFICATION_FAILED
    failed = [c for c in report["checks"] if c["outcome"] == "fail"]
    (bad,) = [c for c in failed if c["check"] == check]
    assert bad["subject"] == blob
    assert reason is not None
    assert reason in bad["reason"]
