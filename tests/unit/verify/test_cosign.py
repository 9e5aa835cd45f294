"""cosign signatures over manifests: Sigstore bundles and simple signing."""

from __future__ import annotations

import base64
import hashlib
import json
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
from tests.oci import dumps, new_layout, put_blob
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


def test_keyless_bundle_verifies_offline_against_the_identity(tmp_path: Path) -> None:
    raw = (SIGSTORE / KEYLESS_CASE["bundle"]).read_bytes()
    target = Target(
        media_type="application/vnd.oci.image.manifest.v1+json",
        digest=KEYLESS_CASE["artifact"],
        size=1,
    )
    rule = {"identity": KEYLESS_CASE["identity"], "issuer": KEYLESS_CASE["issuer"]}
    result = bundle_check(raw, policy(tmp_path, keyless=[rule]), target)
    assert result.ok, result.checks
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
