"""``verify/signer.py`` called directly: each failed step with its passing twin.

``check_signer`` never raises for a verification failure; it records one check per
step (algorithms, signature, timestamp, certificate-chain, revocation,
signer-identity). Each test names the check that fails and its reason, next to a
document or policy that passes the same step.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests import pki
from tests.builders import (
    FILES,
    KINDS,
    SAMPLE_AT,
    Signer,
    issued,
    manifest_statement,
    policy_data,
    signer_from,
    vendor_a,
    vendor_a_raw_key,
    write_policy,
)
from tests.tsa import LoopbackTSA, make_tsa_pki
from vendorproof.intake import load_policy
from vendorproof.models.documents import SignedDocument, load_signed_document
from vendorproof.models.envelope import Envelope
from vendorproof.models.policy import Policy
from vendorproof.verify.result import Outcome
from vendorproof.verify.signer import SignerCheck, check_signer

ORG = "Acme Radio Systems GmbH"
FILE = "attestations/manifest.sigstore.json"


def policy(tmp_path: Path, edit: Any = None) -> Policy:
    data = policy_data()
    if edit is not None:
        edit(data)
    return load_policy(write_policy(tmp_path / "policy.yaml", data))


def document(signer: Signer, **sign_kw: Any) -> SignedDocument:
    raw = signer.sign(manifest_statement(FILES, kinds=KINDS), **sign_kw)
    return load_signed_document(raw, file=FILE)


def run(
    doc: SignedDocument,
    pol: Policy,
    *,
    at: datetime = SAMPLE_AT,
    principals: Any = None,
) -> SignerCheck:
    return check_signer(
        doc,
        pol.vendors if principals is None else principals,
        role="vendor",
        policy=pol,
        at=at,
        time_source="--at",
        requirements=("KAT-A2-4",),
    )


def outcome(result: SignerCheck, check: str) -> tuple[Outcome, str]:
    found = [c for c in result.checks if c.check == check]
    assert len(found) == 1, [c.to_dict() for c in result.checks]
    assert found[0].subject == FILE
    assert found[0].requirements == ("KAT-A2-4",)
    return found[0].outcome, found[0].reason


def failed(result: SignerCheck, check: str) -> str:
    """The reason of the one failed check, which must be ``check`` and the last."""
    assert not result.ok
    assert result.principal is None
    assert result.checks[-1].check == check, [c.to_dict() for c in result.checks]
    assert [c.check for c in result.checks if c.outcome is Outcome.FAIL] == [check]
    return result.checks[-1].reason


def test_certificate_signer_passes_every_step(tmp_path: Path) -> None:
    result = run(document(vendor_a()), policy(tmp_path))
    assert result.ok, [c.to_dict() for c in result.checks]
    assert result.principal is not None
    assert result.principal.id == "acme"
    assert [c.check for c in result.checks] == [
        "algorithms",
        "signature",
        "timestamp",
        "certificate-chain",
        "revocation",
        "signer-identity",
    ]
    assert result.anchors[0].startswith("sha256:")


def test_no_principal_of_the_role_fails(tmp_path: Path) -> None:
    result = run(document(vendor_a()), policy(tmp_path), principals=())
    assert failed(result, "signature") == "the policy trusts no vendor signer"


# -- RFC 3161 signing time -----------------------------------------------------------


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    work = tmp_path_factory.mktemp("signer-tsa")
    root, cert, key = make_tsa_pki(work)
    with LoopbackTSA(cert, key, None, work) as server:
        yield server.url, root


def _trust_tsa(root: Path) -> Any:
    def edit(data: dict[str, Any]) -> None:
        data["timestampAuthorities"] = [
            {"id": "test-tsa", "name": "Test TSA", "anchors": [str(root)]}
        ]

    return edit


def test_token_dated_after_the_validation_time_fails(
    tmp_path: Path, tsa: tuple[str, Path]
) -> None:
    url, root = tsa
    doc = document(vendor_a(), tsa_url=url)
    pol = policy(tmp_path, _trust_tsa(root))
    # A token is evidence the signature existed at genTime; validating "as of" an
    # earlier time cannot use it (nor ignore it: it does not verify for that time).
    before = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    reason = failed(run(doc, pol, at=before), "timestamp")
    assert reason.startswith("token 0: test-tsa: genTime ")
    assert reason.endswith(f"is after the validation time {before:%Y-%m-%dT%H:%M:%SZ}")

    after = datetime.now(UTC) + timedelta(hours=1)
    result = run(doc, pol, at=after)
    assert result.ok, [c.to_dict() for c in result.checks]
    passed, why = outcome(result, "timestamp")
    assert passed is Outcome.PASS
    assert "per RFC 3161 timestamp by 'test-tsa'" in why


# -- the certificate path ------------------------------------------------------------


def test_principal_without_anchors_is_skipped(tmp_path: Path) -> None:
    def keys_only(data: dict[str, Any]) -> None:
        acme = data["vendors"][0]
        del acme["anchors"], acme["identities"]
        data["vendors"] = [acme]

    reason = failed(
        run(document(vendor_a()), policy(tmp_path, keys_only)), "certificate-chain"
    )
    assert reason.endswith(": no trust anchors configured")
    assert "does not chain to any trusted vendor anchor" in reason


def test_anchor_of_another_principal_fails(tmp_path: Path) -> None:
    def borealis_only(data: dict[str, Any]) -> None:
        data["vendors"] = [data["vendors"][1]]

    reason = failed(
        run(document(vendor_a()), policy(tmp_path, borealis_only)), "certificate-chain"
    )
    assert "does not chain to any trusted vendor anchor" in reason
    assert "borealis: no valid chain to a trusted root" in reason


def test_certificate_named_like_its_issuer_is_not_taken_for_a_root(
    tmp_path: Path,
) -> None:
    # issuer == subject, but not self-signed: the signature check of the "self-signed"
    # test fails, so the bundle is not refused for shipping a root; the leaf is then
    # judged on its identity (its subject is the intermediate's name).
    inter = issued("vendor-a", "intermediate")
    twin = pki.make_leaf("x", inter, org=ORG, subject=inter.cert.subject)
    result = run(document(signer_from(twin, inter)), policy(tmp_path))
    passed, _ = outcome(result, "certificate-chain")
    assert passed is Outcome.PASS
    assert "matches none of its allowed signer identities" in failed(
        result, "signer-identity"
    )


def test_shipped_self_signed_certificate_is_refused(tmp_path: Path) -> None:
    inter = issued("vendor-a", "intermediate")
    stray = pki.make_root("Stray Root", org=ORG)
    doc = document(signer_from(issued("vendor-a", "signing"), inter))
    # vendorproof's signing tool refuses to ship a root: the document is built by hand.
    shipped = dataclasses.replace(doc, certificates=(*doc.certificates, stray.cert))
    reason = failed(run(shipped, policy(tmp_path)), "certificate-chain")
    assert (
        "certificates[2] (CN=Stray Root,O=Acme Radio Systems GmbH,C=DE) is a " in reason
    )
    assert "a self-signed (root) certificate" in reason


# -- signer identities by subjectAltName ---------------------------------------------


def _san_identity(data: dict[str, Any]) -> None:
    data["vendors"][0]["identities"] = [{"san": "release@acme.example"}]


@pytest.mark.parametrize(
    ("emails", "ok"),
    [
        pytest.param(["release@acme.example"], True, id="matching-san"),
        pytest.param(["other@acme.example"], False, id="other-san"),
        pytest.param([], False, id="no-san"),
    ],
)
def test_san_identity(tmp_path: Path, emails: list[str], ok: bool) -> None:
    inter = issued("vendor-a", "intermediate")
    leaf = pki.make_leaf(
        "Acme Radio Systems Release Signing SAN", inter, org=ORG, san_emails=emails
    )
    result = run(document(signer_from(leaf, inter)), policy(tmp_path, _san_identity))
    if ok:
        assert result.ok, [c.to_dict() for c in result.checks]
        assert "(san=release@acme.example)" in outcome(result, "signer-identity")[1]
    else:
        assert failed(result, "signer-identity").endswith(
            "chains to the anchors of acme but matches none of its allowed signer "
            "identities"
        )


# -- pinned public keys --------------------------------------------------------------


def test_pinned_key_passes(tmp_path: Path) -> None:
    result = run(document(vendor_a_raw_key()), policy(tmp_path))
    assert result.ok, [c.to_dict() for c in result.checks]
    assert outcome(result, "algorithms") == (Outcome.PASS, "ed25519")
    assert outcome(result, "certificate-chain")[0] is Outcome.NOT_APPLICABLE
    assert result.anchors[0].startswith("key:")


def test_pinned_key_of_a_refused_algorithm_fails(tmp_path: Path) -> None:
    def no_ed25519(data: dict[str, Any]) -> None:
        data["algorithms"]["signatures"] = ["ecdsa-p256-sha256"]

    reason = failed(
        run(document(vendor_a_raw_key()), policy(tmp_path, no_ed25519)), "algorithms"
    )
    assert reason == "signature algorithm ed25519 is not allowed by the policy"


def test_pinned_key_with_a_signature_that_does_not_verify_fails(
    tmp_path: Path,
) -> None:
    doc = document(vendor_a_raw_key())
    bundle = json.loads(doc.raw)
    sig = bytearray(base64.b64decode(bundle["dsseEnvelope"]["signatures"][0]["sig"]))
    sig[-1] ^= 1
    bundle["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(sig).decode()
    tampered = load_signed_document(json.dumps(bundle).encode(), file=FILE)
    reason = failed(run(tampered, policy(tmp_path)), "signature")
    assert (
        reason == "no signature verifies with a public key the policy pins for a vendor"
    )


# -- Sigstore keyless ----------------------------------------------------------------

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "sigstore"
STAGING_ROOT = ASSETS / "trust-roots" / "staging" / "trusted_root.json"
DSSE = ASSETS / "bundles" / "a.dsse.staging-rekor-v2.txt.sigstore.json"
DSSE_IDENTITY = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
DSSE_ISSUER = "https://token.actions.githubusercontent.com"


def _keyless(data: dict[str, Any]) -> None:
    data["vendors"][0]["keyless"] = [{"identity": DSSE_IDENTITY, "issuer": DSSE_ISSUER}]
    data["sigstore"] = {"trustedRoot": str(STAGING_ROOT)}


def test_keyless_payload_that_differs_from_its_envelope_fails(tmp_path: Path) -> None:
    pol = policy(tmp_path, _keyless)
    doc = load_signed_document(DSSE.read_bytes(), file=FILE)
    result = run(doc, pol)
    assert result.ok, [c.to_dict() for c in result.checks]

    # The document's envelope is what every later check reads; sigstore verified the
    # bundle's bytes. A document whose envelope is not the verified one must fail.
    other = Envelope(
        payload_type=doc.envelope.payload_type,
        payload=doc.envelope.payload + b" ",
        signatures=doc.envelope.signatures,
    )
    forged = dataclasses.replace(doc, envelope=other)
    reason = failed(run(forged, pol), "signature")
    assert reason == (
        "Sigstore keyless bundle did not verify: acme: verified payload differs from "
        "the envelope"
    )


def _bare_envelope(signer: Signer) -> SignedDocument:
    """A bare DSSE envelope whose signature names no key id (nor a key hint)."""
    envelope = json.loads(signer.sign(manifest_statement(FILES, kinds=KINDS)))[
        "dsseEnvelope"
    ]
    for sig in envelope["signatures"]:
        sig.pop("keyid", None)
    return load_signed_document(json.dumps(envelope).encode(), file=FILE)


def _pin_rsa_first(tmp_path: Path, rsa_key: pki.PrivateKey) -> Any:
    pub = tmp_path / "rsa-2048.pub"
    pub.write_bytes(pki.public_key_pem(rsa_key))

    def edit(data: dict[str, Any]) -> None:
        acme = data["vendors"][0]
        acme["publicKeys"] = [str(pub), *acme["publicKeys"]]

    return edit


def test_pinned_key_of_a_refused_algorithm_does_not_hide_the_signing_key(
    tmp_path: Path,
) -> None:
    # Regression: the sample policy requires RSA keys of 3072 bits. A signature that
    # names no key id is tried against every pinned key; an RSA-2048 key pinned
    # before the Ed25519 key that made the signature failed the whole document with
    # "RSA key of 2048 bits is below the policy minimum" instead of being skipped.
    rsa_key = pki.new_key("rsa-2048")
    pol = policy(tmp_path, _pin_rsa_first(tmp_path, rsa_key))
    doc = _bare_envelope(vendor_a_raw_key())
    assert not doc.envelope.signatures[0].keyid
    assert doc.public_key_hint is None
    result = run(doc, pol)
    assert result.ok, [c.to_dict() for c in result.checks]
    assert outcome(result, "algorithms") == (Outcome.PASS, "ed25519")


def test_signature_by_a_pinned_key_of_a_refused_algorithm_fails(
    tmp_path: Path,
) -> None:
    rsa_key = pki.new_key("rsa-2048")
    pol = policy(tmp_path, _pin_rsa_first(tmp_path, rsa_key))
    from vendorproof._internal import crypto

    signer = Signer(key=crypto.as_signing_key(rsa_key, file="rsa-2048.key"))
    reason = failed(run(_bare_envelope(signer), pol), "algorithms")
    assert reason == "RSA key of 2048 bits is below the policy minimum 3072"
