"""verify/oci_signatures.py: the dispatch of an image's signatures to their verifiers.

Each entry of an ``oci`` detached signature names a media type: Notation JWS and
COSE envelopes, Sigstore bundles and cosign simple signing each reach their own
verifier; anything else fails naming the entry. Every verified signature counts
once per key (``SignerCheck.signers``).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.builders import policy_data, statement, vendor_a, write_policy
from tests.oci import (
    COSE,
    JWS,
    MANIFEST,
    SIGSTORE_BUNDLE,
    SIMPLE_SIGNING,
    acme_signer,
    cose_envelope,
    descriptor,
    dumps,
    jws_envelope,
    second_acme_signer,
    simple_signing_payload,
)
from vendorproof._internal import crypto
from vendorproof._internal.jsonio import dump_json
from vendorproof.intake import load_policy
from vendorproof.models.checks import Outcome
from vendorproof.models.delivery import DetachedSignature
from vendorproof.models.policy import Policy
from vendorproof.verify.cosign import (
    ANNOTATION_CERTIFICATE,
    ANNOTATION_CHAIN,
    ANNOTATION_SIGNATURE,
    COSIGN_PREDICATE,
)
from vendorproof.verify.oci_signatures import verify_oci_signatures
from vendorproof.verify.signer import SignerCheck

NOW = datetime(2026, 1, 1, tzinfo=UTC)
MANIFEST_BYTES = dumps({"schemaVersion": 2, "mediaType": MANIFEST, "layers": []})
IMAGE = descriptor(MANIFEST, MANIFEST_BYTES)


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    return load_policy(write_policy(tmp_path / "policy.yaml", policy_data()))


def entry(media_type: str | None, raw: bytes, **extra: Any) -> dict[str, Any]:
    return {
        "mediaType": media_type,
        "blob": f"blobs/sha256/{len(extra)}-{media_type}",
        "data": base64.b64encode(raw).decode(),
        **extra,
    }


def run(
    policy: Policy,
    *entries: dict[str, Any],
    content: bytes | None = MANIFEST_BYTES,
    target: dict[str, Any] = IMAGE,
) -> SignerCheck:
    signature = DetachedSignature(
        kind="oci",
        file="blobs/sha256/first",
        target="blobs/sha256/manifest",
        data=dump_json({"target": target, "signatures": list(entries)}),
    )
    return verify_oci_signatures(
        signature,
        content=content,
        measured=None,
        principals=policy.vendors,
        role="vendor",
        policy=policy,
        at=NOW,
        time_source="test",
        requirements=("R",),
    )


def jws(*, second: bool = False) -> dict[str, Any]:
    key, chain = second_acme_signer() if second else acme_signer()
    return entry(JWS, jws_envelope(key, chain, IMAGE, signed_at=NOW))


def cose() -> dict[str, Any]:
    key, chain = acme_signer()
    return entry(COSE, cose_envelope(key, chain, IMAGE, signed_at=NOW))


def bundle() -> dict[str, Any]:
    body = statement(
        [{"name": "registry.example/upf", "digest": {"sha256": IMAGE["digest"][7:]}}],
        COSIGN_PREDICATE,
        {},
    )
    return entry(SIGSTORE_BUNDLE, vendor_a().sign(dumps(body)))


def simple() -> dict[str, Any]:
    from cryptography.hazmat.primitives import serialization

    from tests.builders import issued

    body = simple_signing_payload(IMAGE["digest"])
    leaf = issued("vendor-a", "signing")
    key = crypto.as_signing_key(leaf.key, file="test")
    pem = serialization.Encoding.PEM
    annotations = {
        ANNOTATION_SIGNATURE: base64.b64encode(crypto.sign(key, body)).decode(),
        ANNOTATION_CERTIFICATE: leaf.cert.public_bytes(pem).decode(),
        ANNOTATION_CHAIN: issued("vendor-a", "intermediate")
        .cert.public_bytes(pem)
        .decode(),
    }
    return entry(SIMPLE_SIGNING, body, annotations=annotations)


@pytest.mark.parametrize("build", [jws, cose, bundle, simple])
def test_each_signature_kind_reaches_its_verifier(policy: Policy, build: Any) -> None:
    one = build()
    result = run(policy, one)
    assert result.ok, result.checks
    assert result.principal is not None
    assert result.principal.id == "acme"
    assert result.signers == ((result.key_id, "acme"),)
    target = [c for c in result.checks if c.check == "target-artifact"]
    assert [(c.subject, c.outcome) for c in target] == [(one["blob"], Outcome.PASS)]


def bad(result: SignerCheck) -> list[tuple[str, str]]:
    return [(c.subject, c.reason) for c in result.checks if c.outcome is Outcome.FAIL]


def test_unknown_signature_media_type_fails_naming_the_entry(policy: Policy) -> None:
    result = run(policy, entry("application/pgp-signature", b"sig"))
    assert result.principal is None
    assert bad(result) == [
        (
            "blobs/sha256/0-application/pgp-signature",
            "unknown signature media type 'application/pgp-signature'",
        )
    ]


def test_entry_without_a_media_type_is_no_notation_envelope(policy: Policy) -> None:
    result = run(policy, entry(None, b"junk"))
    assert result.principal is None
    ((_, reason),) = bad(result)
    assert reason.startswith("neither a JWS JSON (application/jose+json) nor a COSE")


def test_entry_that_is_not_base64_fails(policy: Policy) -> None:
    result = run(policy, {**jws(), "data": "!!"})
    assert [r for _, r in bad(result)] == ["not base64"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"[", "invalid JSON"),
        (b'{"signatures": 1}', "no signature list"),
    ],
)
def test_malformed_signature_list_fails(
    policy: Policy, data: bytes, reason: str
) -> None:
    signature = DetachedSignature(kind="oci", file="sig", target="m", data=data)
    result = verify_oci_signatures(
        signature,
        content=MANIFEST_BYTES,
        measured=None,
        principals=policy.vendors,
        role="vendor",
        policy=policy,
        at=NOW,
        time_source="test",
        requirements=("R",),
    )
    ((subject, why),) = bad(result)
    assert subject == "sig"
    assert reason in why


def test_no_signature_or_no_manifest_fails(policy: Policy) -> None:
    assert bad(run(policy)) == [
        ("blobs/sha256/first", "no signature over the manifest")
    ]
    assert bad(run(policy, jws(), content=None)) == [
        ("blobs/sha256/first", "no manifest bytes to verify")
    ]


def test_signature_over_other_bytes_fails(policy: Policy) -> None:
    result = run(policy, jws(), content=MANIFEST_BYTES + b" ")
    assert result.principal is None
    assert ("target-artifact", Outcome.FAIL) in {
        (c.check, c.outcome) for c in result.checks
    }


def test_every_verified_signature_counts_once_per_key(policy: Policy) -> None:
    result = run(
        policy, jws(), entry("application/pgp-signature", b"x"), jws(second=True)
    )
    assert result.ok, result.checks
    # The unknown entry beside verified ones is not held against the image.
    assert bad(result) == []
    assert len(result.signers) == 2
    assert {owner for _, owner in result.signers} == {"acme"}
    # The same key in two envelopes (JWS and COSE, bundle and simple signing).
    result = run(policy, jws(), cose(), bundle(), simple())
    assert result.ok, result.checks
    assert result.signers == ((result.key_id, "acme"),)


INDEX_TYPE = "application/vnd.oci.image.index.v1+json"


def run_over(
    policy: Policy, content: bytes, given: str | None, *entries: dict[str, Any]
) -> SignerCheck:
    """``run`` over ``content`` whose descriptor gives media type ``given``."""
    target = {**descriptor(given or "x", content), "mediaType": given}
    return run(policy, *entries, content=content, target=target)


def test_media_type_signed_is_the_descriptors_when_the_document_has_none(
    policy: Policy,
) -> None:
    """image-index.md: ``mediaType`` SHOULD be used, so it may be absent."""
    content = dumps({"schemaVersion": 2, "manifests": []})
    signed = descriptor(INDEX_TYPE, content)
    key, chain = acme_signer()
    one = entry(JWS, jws_envelope(key, chain, signed, signed_at=NOW))
    result = run_over(policy, content, INDEX_TYPE, one)
    assert result.ok, result.checks
    # Signed as a manifest, it is not the document verified.
    wrong = {**signed, "mediaType": MANIFEST}
    other = entry(JWS, jws_envelope(key, chain, wrong, signed_at=NOW))
    assert run_over(policy, content, INDEX_TYPE, other).principal is None


@pytest.mark.parametrize(
    ("own", "given", "reason"),
    [
        (MANIFEST, INDEX_TYPE, "differs from its descriptor's"),
        (None, None, "neither the document nor its descriptor gives one"),
    ],
)
def test_media_type_in_doubt_fails(
    policy: Policy, own: str | None, given: str | None, reason: str
) -> None:
    body: dict[str, Any] = {"schemaVersion": 2, "manifests": []}
    if own is not None:
        body["mediaType"] = own
    result = run_over(policy, dumps(body), given, jws())
    ((subject, why),) = bad(result)
    assert subject == "blobs/sha256/first"
    assert reason in why


def unlisted_checks(result: SignerCheck) -> dict[str, tuple[Outcome, str]]:
    return {
        c.subject: (c.outcome, c.reason)
        for c in result.checks
        if c.check == "unlisted-files"
    }


@pytest.mark.parametrize("mode", ["warn", "fail"])
def test_blobs_of_signatures_that_failed_beside_a_counted_one_are_unlisted(
    tmp_path: Path, mode: str
) -> None:
    data = policy_data()
    data["unlistedFiles"] = mode
    pol = load_policy(write_policy(tmp_path / "p.yaml", data))
    good = {**jws(), "files": ["m1", "{}", "blobs/sha256/0-application/jose+json"]}
    failed = {**entry(JWS, b"{}", files=["m2", "{}", "env2"]), "blob": "env2"}
    not_b64 = {**jws(), "blob": "env3", "data": "!!", "files": ["m3", "env3"]}
    given = entry(JWS, b"junk")  # a file given beside: no layout blobs
    result = run(pol, good, failed, not_b64, given)
    assert result.principal is not None
    got = unlisted_checks(result)
    # The shared config is the verified signature's too.
    assert set(got) == {"m2", "env2", "m3", "env3"}
    outcome = Outcome.WARN if mode == "warn" else Outcome.FAIL
    assert {o for o, _ in got.values()} == {outcome}
    assert got["m3"][1] == (
        "blob of a signature that did not verify (not base64), not listed in the "
        f"manifest (policy: unlistedFiles={mode})"
    )
    # When none verifies, the failures are the verdict; nothing is called unlisted.
    assert unlisted_checks(run(pol, failed, not_b64)) == {}
