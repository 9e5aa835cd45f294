"""cosign signatures over manifests: Sigstore bundles and simple signing."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from tests import pki
from tests.builders import (
    REPO,
    issued,
    policy_data,
    statement,
    vendor_a,
    vendor_a_raw_key,
    write_policy,
)
from tests.oci import cosign_key_bundle, dumps, new_layout, put_blob
from vendorproof._internal import crypto
from vendorproof.formats.oci import MEDIA_COSIGN_SIMPLESIGNING, open_layout
from vendorproof.intake import load_policy
from vendorproof.models.policy import Policy
from vendorproof.verify.cosign import (
    ANNOTATION_CERTIFICATE,
    ANNOTATION_CHAIN,
    ANNOTATION_SIGNATURE,
    COSIGN_PREDICATE,
    verify_cosign_bundle,
    verify_simple_signing,
)
from vendorproof.verify.notation import Target
from vendorproof.verify.result import Outcome
from vendorproof.verify.signer import SignerCheck

NOW = datetime.now(UTC).replace(microsecond=0)
DIGEST = "sha256:" + "ab" * 32
TARGET = Target(
    media_type="application/vnd.oci.image.manifest.v1+json", digest=DIGEST, size=99
)
SIGSTORE = REPO / "tests" / "assets" / "sigstore"
KEYLESS_CASE = next(
    c
    for c in json.loads((SIGSTORE / "cases.json").read_text())
    if c["case"] == "a.dsse.staging-rekor-v2.txt"
)


def policy(tmp_path: Path, **vendor: Any) -> Policy:
    data = policy_data()
    data["vendors"][0].update(vendor)
    if "keyless" in vendor:
        data["sigstore"] = {"trustedRoot": str(SIGSTORE / KEYLESS_CASE["trusted_root"])}
    return load_policy(write_policy(tmp_path / "policy.yaml", data))


def cosign_statement(digest: str = DIGEST) -> bytes:
    data = statement(
        [{"name": "registry.example/gnb", "digest": {"sha256": digest[7:]}}],
        COSIGN_PREDICATE,
        {},
    )
    return dumps(data)


def bundle_check(
    raw: bytes, pol: Policy, target: Target = TARGET, at: datetime = NOW
) -> SignerCheck:
    return verify_cosign_bundle(
        raw,
        file="sig.sigstore.json",
        target=target,
        principals=pol.vendors,
        role="vendor",
        policy=pol,
        at=at,
        time_source="test",
        requirements=("R",),
    )


def last(result: SignerCheck) -> tuple[str, Outcome, str]:
    c = result.checks[-1]
    return c.check, c.outcome, c.reason


@pytest.mark.parametrize("signer", [vendor_a, vendor_a_raw_key])
def test_bundle_signed_by_the_vendor_names_the_manifest(
    tmp_path: Path, signer: Any
) -> None:
    raw = signer().sign(cosign_statement())
    result = bundle_check(raw, policy(tmp_path))
    assert result.ok, result.checks
    assert result.principal is not None
    assert result.principal.id == "acme"
    assert last(result)[:2] == ("target-artifact", Outcome.PASS)


def test_bundle_for_another_manifest_fails_target_artifact(tmp_path: Path) -> None:
    raw = vendor_a().sign(cosign_statement("sha256:" + "cd" * 32))
    result = bundle_check(raw, policy(tmp_path))
    assert not result.ok
    check, outcome, reason = last(result)
    assert (check, outcome) == ("target-artifact", Outcome.FAIL)
    assert DIGEST in reason


def test_malformed_bundle_fails(tmp_path: Path) -> None:
    result = bundle_check(b"{}", policy(tmp_path))
    assert not result.ok
    assert last(result)[:2] == ("cosign-bundle", Outcome.FAIL)


def test_bundle_by_an_untrusted_signer_fails(tmp_path: Path) -> None:
    raw = vendor_a().sign(cosign_statement())
    data = policy_data()
    data["vendors"] = [v for v in data["vendors"] if v["id"] != "acme"]
    pol = load_policy(write_policy(tmp_path / "p.yaml", data))
    result = bundle_check(raw, pol)
    assert not result.ok
    assert "target-artifact" not in {c.check for c in result.checks}


@pytest.mark.parametrize(
    "predicate_type",
    [
        "https://slsa.dev/provenance/v1",
        "https://openvex.dev/ns/v0.2.0",
        "https://spdx.dev/Document",
        COSIGN_PREDICATE + "/",
        COSIGN_PREDICATE.upper(),
    ],
)
def test_an_attestation_by_the_vendor_is_not_an_image_signature(
    tmp_path: Path, predicate_type: str
) -> None:
    body = statement(
        [{"name": "registry.example/gnb", "digest": {"sha256": DIGEST[7:]}}],
        predicate_type,
        {"statements": [{"status": "affected"}]},
    )
    result = bundle_check(vendor_a().sign(dumps(body)), policy(tmp_path))
    assert not result.ok
    assert result.principal is None
    # The signer was established; the statement is just not a signature.
    assert ("signature", Outcome.PASS) in {(c.check, c.outcome) for c in result.checks}
    check, outcome, reason = last(result)
    assert (check, outcome) == ("target-artifact", Outcome.FAIL)
    assert f"predicate type {predicate_type!r} is not cosign's signing predicate" in (
        reason
    )


def test_keyless_bundle_signer_verifies_offline_against_the_identity(
    tmp_path: Path,
) -> None:
    """The keyless asset (a real Sigstore bundle) is SLSA provenance: its signer is
    established offline against the keyless identity, and then it is refused as an
    image signature for its predicate; another identity fails at the signer."""
    raw = (SIGSTORE / KEYLESS_CASE["bundle"]).read_bytes()
    target = Target(
        media_type="application/vnd.oci.image.manifest.v1+json",
        digest=KEYLESS_CASE["artifact"],
        size=1,
    )
    rule = {"identity": KEYLESS_CASE["identity"], "issuer": KEYLESS_CASE["issuer"]}
    result = bundle_check(raw, policy(tmp_path, keyless=[rule]), target)
    assert not result.ok
    got = {(c.check, c.outcome) for c in result.checks}
    assert ("signature", Outcome.PASS) in got
    assert ("signer-identity", Outcome.PASS) in got
    check, outcome, reason = last(result)
    assert (check, outcome) == ("target-artifact", Outcome.FAIL)
    assert "'https://slsa.dev/provenance/v1'" in reason
    other = {**rule, "identity": "https://example.com/someone-else"}
    result = bundle_check(raw, policy(tmp_path, keyless=[other]), target)
    assert not result.ok
    assert last(result)[:2] == ("signature", Outcome.FAIL)


# ------------------------------------------------------------------ simple signing


def simple_payload(digest: str = DIGEST) -> bytes:
    return dumps(
        {
            "critical": {
                "identity": {"docker-reference": "registry.example/gnb"},
                "image": {"docker-manifest-digest": digest},
                "type": "cosign container image signature",
            },
            "optional": None,
        }
    )


def simple_check(
    payload: bytes, annotations: dict[str, str], pol: Policy
) -> SignerCheck:
    return verify_simple_signing(
        payload,
        annotations,
        file="sha256-ab.sig",
        target=TARGET,
        principals=pol.vendors,
        role="vendor",
        policy=pol,
        at=NOW,
        time_source="test",
        requirements=("R",),
    )


def signed_by_release_key(payload: bytes) -> dict[str, str]:
    key = vendor_a_raw_key().key
    return {ANNOTATION_SIGNATURE: base64.b64encode(crypto.sign(key, payload)).decode()}


def signed_by_certificate(payload: bytes, leaf_name: str = "signing") -> dict[str, str]:
    leaf = issued("vendor-a", leaf_name)
    key = crypto.as_signing_key(leaf.key, file="test")
    inter = issued("vendor-a", "intermediate")
    pem = serialization.Encoding.PEM
    return {
        ANNOTATION_SIGNATURE: base64.b64encode(crypto.sign(key, payload)).decode(),
        ANNOTATION_CERTIFICATE: leaf.cert.public_bytes(pem).decode(),
        ANNOTATION_CHAIN: inter.cert.public_bytes(pem).decode(),
    }


@pytest.mark.parametrize("sign", [signed_by_release_key, signed_by_certificate])
def test_simple_signing_verifies(tmp_path: Path, sign: Any) -> None:
    payload = simple_payload()
    result = simple_check(payload, sign(payload), policy(tmp_path))
    assert result.ok, result.checks
    assert last(result)[:2] == ("target-artifact", Outcome.PASS)


@pytest.mark.parametrize("sign", [signed_by_release_key, signed_by_certificate])
def test_simple_signing_over_changed_payload_fails(tmp_path: Path, sign: Any) -> None:
    annotations = sign(simple_payload())
    result = simple_check(
        simple_payload("sha256:" + "cd" * 32), annotations, policy(tmp_path)
    )
    assert not result.ok
    assert last(result)[:2] == ("signature", Outcome.FAIL)


def test_simple_signing_for_another_manifest_fails(tmp_path: Path) -> None:
    payload = simple_payload("sha256:" + "cd" * 32)
    result = simple_check(payload, signed_by_release_key(payload), policy(tmp_path))
    check, outcome, reason = last(result)
    assert (check, outcome) == ("target-artifact", Outcome.FAIL)
    assert "is not the manifest verified" in reason


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"critical": {}}', "no critical.image"),
        (
            b'{"critical": {"image": {"docker-manifest-digest": "x"}, "type": "t"}}',
            "critical.type",
        ),
        (b"[", "invalid JSON"),
    ],
)
def test_simple_signing_payload_must_be_cosign_simple_signing(
    tmp_path: Path, payload: bytes, reason: str
) -> None:
    result = simple_check(payload, signed_by_release_key(payload), policy(tmp_path))
    check, outcome, why = last(result)
    assert (check, outcome) == ("target-artifact", Outcome.FAIL)
    assert reason in why


def test_revoked_simple_signing_certificate_fails(tmp_path: Path) -> None:
    payload = simple_payload()
    result = simple_check(
        payload, signed_by_certificate(payload, "signing-revoked"), policy(tmp_path)
    )
    assert last(result)[:2] == ("revocation", Outcome.FAIL)


def test_simple_signing_certificate_with_another_identity_fails(tmp_path: Path) -> None:
    payload = simple_payload()
    pol = policy(tmp_path, identities=[{"subject": "CN=Someone else,C=DE"}])
    result = simple_check(payload, signed_by_certificate(payload), pol)
    check, outcome, reason = last(result)
    assert (check, outcome) == ("signer-identity", Outcome.FAIL)
    assert "matches none of its allowed signer identities" in reason


# The shared trust step (verify/trust.py) covers what the old copy of the chain,
# revocation and identity steps in verify/cosign.py did not.


def test_simple_signing_honours_require_timestamp(tmp_path: Path) -> None:
    payload = simple_payload()
    annotations = signed_by_certificate(payload)
    assert simple_check(payload, annotations, policy(tmp_path)).ok
    pol = policy(tmp_path, requireTimestamp=True)
    check, outcome, reason = last(simple_check(payload, annotations, pol))
    assert (check, outcome) == ("timestamp", Outcome.FAIL)
    assert "requires a trusted RFC 3161 timestamp" in reason


def signed_by_legacy_certificate(payload: bytes) -> dict[str, str]:
    inter = issued("vendor-a", "intermediate")
    leaf = pki.make_leaf(
        "Acme Radio Systems Release Signing legacy",
        inter,
        org="Acme Radio Systems GmbH",
        eku=None,
    )
    key = crypto.as_signing_key(leaf.key, file="test")
    pem = serialization.Encoding.PEM
    return {
        ANNOTATION_SIGNATURE: base64.b64encode(crypto.sign(key, payload)).decode(),
        ANNOTATION_CERTIFICATE: leaf.cert.public_bytes(pem).decode(),
        ANNOTATION_CHAIN: inter.cert.public_bytes(pem).decode(),
    }


def test_simple_signing_follows_the_vendor_certificate_profile(tmp_path: Path) -> None:
    payload = simple_payload()
    annotations = signed_by_legacy_certificate(payload)
    strict = simple_check(payload, annotations, policy(tmp_path))
    assert not strict.ok
    assert last(strict)[:2] == ("certificate-chain", Outcome.FAIL)
    legacy = simple_check(
        payload, annotations, policy(tmp_path, certificateProfile="legacy")
    )
    assert legacy.ok, legacy.checks
    got = {(c.check, c.outcome) for c in legacy.checks}
    assert ("certificate-profile", Outcome.WARN) in got
    assert last(legacy)[:2] == ("target-artifact", Outcome.PASS)


@pytest.mark.parametrize(
    ("annotations", "check", "reason"),
    [
        ({}, "signature", "no dev.cosignproject.cosign/signature"),
        ({ANNOTATION_SIGNATURE: "!!"}, "signature", "not base64"),
        ({ANNOTATION_SIGNATURE: "AAAA"}, "signature", "no key the policy pins"),
        (
            {ANNOTATION_SIGNATURE: "AAAA", ANNOTATION_CERTIFICATE: "junk"},
            "certificate-chain",
            "certificate",
        ),
    ],
)
def test_malformed_simple_signing_fails(
    tmp_path: Path, annotations: dict[str, str], check: str, reason: str
) -> None:
    result = simple_check(simple_payload(), annotations, policy(tmp_path))
    got, outcome, why = last(result)
    assert (got, outcome) == (check, Outcome.FAIL)
    assert reason in why


def test_simple_signing_manifests_are_not_images(tmp_path: Path) -> None:
    layout = new_layout(tmp_path / "l")
    image = layout.add_image()
    payload = simple_payload(image["digest"])
    config = dumps({})
    put_blob(layout.root, config)
    put_blob(layout.root, payload)
    sig_manifest = dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:" + hashlib.sha256(config).hexdigest(),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": MEDIA_COSIGN_SIMPLESIGNING,
                    "digest": "sha256:" + hashlib.sha256(payload).hexdigest(),
                    "size": len(payload),
                    "annotations": signed_by_release_key(payload),
                }
            ],
        }
    )
    digest = put_blob(layout.root, sig_manifest)
    layout.manifests.append(
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest,
            "size": len(sig_manifest),
            "annotations": {
                "org.opencontainers.image.ref.name": f"sha256-{image['digest'][7:]}.sig"
            },
        }
    )
    layout.save()
    walked = open_layout(layout.root)
    assert [m.descriptor.digest for m in walked.images()] == [image["digest"]]
    (sig,) = walked.simple_signatures()
    layer = sig.layers[0]
    target = Target(
        media_type=image["mediaType"], digest=image["digest"], size=image["size"]
    )
    pol = policy(tmp_path)
    result = verify_simple_signing(
        walked.read_blob(layer),
        layer.annotations,
        file=layer.blob,
        target=target,
        principals=pol.vendors,
        role="vendor",
        policy=pol,
        at=NOW,
        time_source="test",
        requirements=(),
    )
    assert result.ok, result.checks


# -------------------------------------------- the policy's algorithms, cosign's schemes


def openssl_sign(tmp_path: Path, key: pki.PrivateKey, data: bytes, digest: str) -> str:
    """A signature made as cosign's documentation shows for a signature made
    outside cosign (``openssl dgst -sha256 -sign``): PKCS #1 v1.5 for RSA, ECDSA
    over the named digest; an implementation independent of vendorproof's."""
    key_file = tmp_path / "signing.key"
    key_file.write_bytes(pki.private_key_pem(key))
    data_file = tmp_path / "payload.json"
    data_file.write_bytes(data)
    out = subprocess.run(
        ["openssl", "dgst", f"-{digest}", "-sign", str(key_file), str(data_file)],
        capture_output=True,
        check=True,
    ).stdout
    return base64.b64encode(out).decode()


def pinned(tmp_path: Path, key: pki.PrivateKey, **algorithms: Any) -> Policy:
    """The sample policy (minRsaBits 3072) with ``key`` pinned for Acme."""
    pub = tmp_path / "cosign.pub"
    pub.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
    )
    data = policy_data()
    data["vendors"][0]["publicKeys"] = [
        *data["vendors"][0]["publicKeys"],
        str(pub),
    ]
    data["algorithms"].update(algorithms)
    return load_policy(write_policy(tmp_path / "policy.yaml", data))


def by_leaf(tmp_path: Path, key_kind: pki.KeyKind, digest: str = "sha256") -> Any:
    """Annotations of a simple signature by a leaf of ``key_kind`` under Acme's CA."""
    inter = issued("vendor-a", "intermediate")
    leaf = pki.make_leaf(
        f"Acme Radio Systems Release Signing {key_kind}",
        inter,
        org="Acme Radio Systems GmbH",
        key_kind=key_kind,
    )
    pem = serialization.Encoding.PEM
    return {
        ANNOTATION_SIGNATURE: openssl_sign(
            tmp_path, leaf.key, simple_payload(), digest
        ),
        ANNOTATION_CERTIFICATE: leaf.cert.public_bytes(pem).decode(),
        ANNOTATION_CHAIN: inter.cert.public_bytes(pem).decode(),
    }


def checks_of(result: SignerCheck) -> dict[str, tuple[Outcome, str]]:
    return {c.check: (c.outcome, c.reason) for c in result.checks}


def test_certificate_below_the_policy_rsa_minimum_fails_algorithms(
    tmp_path: Path,
) -> None:
    payload = simple_payload()
    pol = policy(tmp_path)
    assert pol.min_rsa_bits == 3072
    result = simple_check(payload, by_leaf(tmp_path, "rsa-2048"), pol)
    check, outcome, reason = last(result)
    assert (check, outcome) == ("algorithms", Outcome.FAIL)
    assert reason == "RSA key of 2048 bits is below the policy minimum 3072"
    result = simple_check(payload, by_leaf(tmp_path, "rsa-3072"), pol)
    assert result.ok, result.checks
    outcome, reason = checks_of(result)["algorithms"]
    assert outcome == Outcome.PASS
    assert reason.startswith("rsa-pkcs1v15-sha256, cosign's scheme")


def test_certificate_of_a_key_type_the_policy_refuses_fails_algorithms(
    tmp_path: Path,
) -> None:
    annotations = by_leaf(tmp_path, "ecdsa-p384", "sha384")
    data = policy_data()
    data["algorithms"]["signatures"] = ["ecdsa-p256-sha256", "ed25519"]
    pol = load_policy(write_policy(tmp_path / "p.yaml", data))
    check, outcome, reason = last(simple_check(simple_payload(), annotations, pol))
    assert (check, outcome) == ("algorithms", Outcome.FAIL)
    assert "ecdsa-p384-sha384 is not allowed by the policy" in reason
    assert simple_check(simple_payload(), annotations, policy(tmp_path)).ok


def test_pinned_key_below_the_policy_rsa_minimum_is_refused(tmp_path: Path) -> None:
    key = pki.new_key("rsa-2048")
    payload = simple_payload()
    annotations = {ANNOTATION_SIGNATURE: openssl_sign(tmp_path, key, payload, "sha256")}
    result = simple_check(payload, annotations, pinned(tmp_path, key))
    check, outcome, reason = last(result)
    assert (check, outcome) == ("algorithms", Outcome.FAIL)
    assert reason == "RSA key of 2048 bits is below the policy minimum 3072"
    assert result.principal is None
    # The policy's minimum, not a fixed one: at 2048 bits the key is allowed.
    result = simple_check(payload, annotations, pinned(tmp_path, key, minRsaBits=2048))
    assert result.ok, result.checks


def test_a_refused_pinned_key_does_not_hide_the_allowed_key_that_signed(
    tmp_path: Path,
) -> None:
    refused = pki.new_key("rsa-2048")
    payload = simple_payload()
    result = simple_check(
        payload, signed_by_release_key(payload), pinned(tmp_path, refused)
    )
    assert result.ok, result.checks
    outcome, reason = checks_of(result)["signature"]
    assert outcome == Outcome.PASS
    assert reason.startswith("ed25519 signature over the simple-signing payload")
    # A signature no pinned key made is a signature failure, not an algorithm one.
    other = crypto.as_signing_key(pki.new_key("ecdsa-p256"), file="test")
    annotations = {
        ANNOTATION_SIGNATURE: base64.b64encode(crypto.sign(other, payload)).decode()
    }
    check, outcome, _ = last(
        simple_check(payload, annotations, pinned(tmp_path, refused))
    )
    assert (check, outcome) == ("signature", Outcome.FAIL)


@pytest.mark.parametrize(
    ("key_kind", "digest", "scheme"),
    [
        ("rsa-3072", "sha256", "rsa-pkcs1v15-sha256"),
        ("ecdsa-p256", "sha256", "ecdsa-p256-sha256"),
        ("ecdsa-p384", "sha384", "ecdsa-p384-sha384"),
        ("ecdsa-p384", "sha256", "ecdsa-p384-sha256"),
    ],
)
def test_pinned_key_signatures_in_cosign_schemes_verify(
    tmp_path: Path, key_kind: pki.KeyKind, digest: str, scheme: str
) -> None:
    key = pki.new_key(key_kind)
    payload = simple_payload()
    annotations = {ANNOTATION_SIGNATURE: openssl_sign(tmp_path, key, payload, digest)}
    result = simple_check(payload, annotations, pinned(tmp_path, key))
    assert result.ok, result.checks
    outcome, reason = checks_of(result)["signature"]
    assert outcome == Outcome.PASS
    assert reason.startswith(f"{scheme} signature over the simple-signing payload")


@pytest.mark.parametrize(
    ("key_kind", "digest", "tried"),
    [
        ("ecdsa-p256", "sha384", "ecdsa-p256-sha256"),
        ("ecdsa-p384", "sha512", "ecdsa-p384-sha384 or ecdsa-p384-sha256"),
        ("rsa-3072", "sha384", "rsa-pkcs1v15-sha256"),
    ],
)
def test_other_digests_are_not_cosign_schemes(
    tmp_path: Path, key_kind: pki.KeyKind, digest: str, tried: str
) -> None:
    key = pki.new_key(key_kind)
    payload = simple_payload()
    pem = serialization.Encoding.PEM
    inter = issued("vendor-a", "intermediate")
    leaf = pki.make_leaf(
        "Acme Radio Systems Release Signing X",
        inter,
        org="Acme Radio Systems GmbH",
        key=key,
    )
    annotations = {
        ANNOTATION_SIGNATURE: openssl_sign(tmp_path, key, payload, digest),
        ANNOTATION_CERTIFICATE: leaf.cert.public_bytes(pem).decode(),
        ANNOTATION_CHAIN: inter.cert.public_bytes(pem).decode(),
    }
    check, outcome, reason = last(simple_check(payload, annotations, policy(tmp_path)))
    assert (check, outcome) == ("signature", Outcome.FAIL)
    assert reason == f"{tried} signature (cosign's scheme for the key) does not verify"


def test_an_rsa_pss_signature_is_not_what_cosign_makes(tmp_path: Path) -> None:
    """``cosign sign --key`` signs with RSA PKCS #1 v1.5 and ``cosign verify`` accepts
    only that; vendorproof's own RSA scheme (PSS) is refused here."""
    key = pki.new_key("rsa-3072")
    payload = simple_payload()
    pss = crypto.sign(crypto.as_signing_key(key, file="test"), payload)
    annotations = {ANNOTATION_SIGNATURE: base64.b64encode(pss).decode()}
    result = simple_check(payload, annotations, pinned(tmp_path, key))
    check, outcome, _ = last(result)
    assert (check, outcome) == ("signature", Outcome.FAIL)


# ------------------------------------------------- cosign 3 bundles signed with --key


@pytest.mark.parametrize(
    ("key_kind", "digest", "scheme"),
    [
        ("rsa-3072", "sha256", "rsa-pkcs1v15-sha256"),
        ("ecdsa-p256", "sha256", "ecdsa-p256-sha256"),
        ("ecdsa-p384", "sha384", "ecdsa-p384-sha384"),
        ("ed25519", "none", "ed25519"),
    ],
)
def test_cosign_key_bundles_verify_in_cosign_schemes(
    tmp_path: Path, key_kind: pki.KeyKind, digest: str, scheme: str
) -> None:
    """``cosign sign --key`` signs the DSSE envelope of its bundle with the key's
    default scheme (sigstore's ``GetDefaultAlgorithmDetails``): PKCS #1 v1.5 for an
    RSA key, which the project's own DSSE scheme (PSS) would refuse."""
    key = pki.new_key(key_kind)
    result = bundle_check(
        cosign_key_bundle(tmp_path, cosign_statement(), key, digest=digest),
        pinned(tmp_path, key),
    )
    assert result.ok, result.checks
    outcome, reason = checks_of(result)["signature"]
    assert outcome == Outcome.PASS
    assert reason.startswith(f"{scheme} signature over DSSE PAE by pinned key ")


def test_a_pss_bundle_is_not_what_cosign_makes(tmp_path: Path) -> None:
    key = pki.new_key("rsa-3072")
    result = bundle_check(
        cosign_key_bundle(tmp_path, cosign_statement(), key, pss=True),
        pinned(tmp_path, key),
    )
    assert not result.ok
    assert last(result)[:2] == ("signature", Outcome.FAIL)
    # The same key's cosign signature passes: the scheme, not the key, failed.
    assert bundle_check(
        cosign_key_bundle(tmp_path, cosign_statement(), key), pinned(tmp_path, key)
    ).ok


def test_a_cosign_bundle_by_a_key_the_policy_does_not_pin_fails(tmp_path: Path) -> None:
    """The hint names the signer's key; only a pinned key's signature counts."""
    signer, other = pki.new_key("ecdsa-p256"), pki.new_key("ecdsa-p256")
    result = bundle_check(
        cosign_key_bundle(tmp_path, cosign_statement(), signer), pinned(tmp_path, other)
    )
    assert not result.ok
    check, outcome, reason = last(result)
    assert (check, outcome) == ("signature", Outcome.FAIL)
    assert (
        reason == "no signature verifies with a public key the policy pins for a vendor"
    )


def test_a_cosign_bundle_by_an_rsa_key_below_the_policy_minimum_is_refused(
    tmp_path: Path,
) -> None:
    key = pki.new_key("rsa-2048")
    raw = cosign_key_bundle(tmp_path, cosign_statement(), key)
    check, outcome, reason = last(bundle_check(raw, pinned(tmp_path, key)))
    assert (check, outcome) == ("algorithms", Outcome.FAIL)
    assert reason == "RSA key of 2048 bits is below the policy minimum 3072"
    assert bundle_check(raw, pinned(tmp_path, key, minRsaBits=2048)).ok


def test_a_cosign_bundle_with_a_vendor_certificate_verifies_in_cosign_scheme(
    tmp_path: Path,
) -> None:
    """``cosign sign --key K --certificate C --certificate-chain CH``: the bundle
    carries the vendor's RSA leaf; the DSSE signature is PKCS #1 v1.5."""
    inter = issued("vendor-a", "intermediate")
    leaf = pki.make_leaf(
        "Acme Radio Systems Release Signing RSA",
        inter,
        org="Acme Radio Systems GmbH",
        key_kind="rsa-3072",
    )
    raw = json.loads(cosign_key_bundle(tmp_path, cosign_statement(), leaf.key))
    der = serialization.Encoding.DER
    raw["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.2"
    raw["verificationMaterial"] = {
        "x509CertificateChain": {
            "certificates": [
                {"rawBytes": base64.b64encode(c.public_bytes(der)).decode()}
                for c in (leaf.cert, inter.cert)
            ]
        },
        "tlogEntries": [],
    }
    result = bundle_check(json.dumps(raw).encode(), policy(tmp_path))
    assert result.ok, result.checks
    outcome, reason = checks_of(result)["signature"]
    assert outcome == Outcome.PASS
    assert reason.startswith("rsa-pkcs1v15-sha256 signature over DSSE PAE by ")
