"""Notation (Notary Project) signatures: the real notation-go envelopes and test-PKI ones.

Every check of ``verify_notation`` passes in one test and fails in another.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests import pki
from tests.builders import KEYS, issued, policy_data, write_policy
from tests.oci import (
    ASSETS,
    REAL_MANIFEST,
    b64url,
    cbor_map,
    cose_envelope,
    dumps,
    jws_envelope,
    rfc3339,
)
from tests.tsa import LoopbackTSA, make_tsa_pki
from vendorproof.errors import InvalidInputError
from vendorproof.intake import load_policy
from vendorproof.models.policy import Policy, Principal
from vendorproof.verify.notation import (
    MEDIA_COSE,
    MEDIA_JWS,
    Target,
    parse_envelope,
    verify_notation,
)
from vendorproof.verify.result import Outcome
from vendorproof.verify.signer import SignerCheck
from vendorproof.verify.x509 import fingerprint

NOW = datetime.now(UTC).replace(microsecond=0)
REAL_AT = datetime(2026, 1, 1, tzinfo=UTC)  # inside the alpine certificate (2000-2123)
TARGET = {
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": "sha256:" + "ab" * 32,
    "size": 1234,
}


def target(d: dict[str, Any]) -> Target:
    return Target(media_type=d["mediaType"], digest=d["digest"], size=d["size"])


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    work = tmp_path_factory.mktemp("tsa")
    root, cert, key = make_tsa_pki(work)
    with LoopbackTSA(cert, key, None, work) as server:
        yield server.url, root


@pytest.fixture(scope="module")
def wide_tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A TSA whose tokens state an accuracy of two hours."""
    work = tmp_path_factory.mktemp("wide-tsa")
    root, cert, key = make_tsa_pki(work)
    with LoopbackTSA(cert, key, None, work, accuracy="secs:7200") as server:
        yield server.url, root


def make_policy(
    tmp_path: Path,
    tsa_root: Path | None = None,
    *,
    crls: Sequence[str] | None = None,
    **vendor_changes: Any,
) -> Policy:
    """The sample policy, RSA-2048 allowed, plus the Notary test signer pinned.

    ``crls`` replaces the policy's CRLs (revocation mode ``require``).
    """
    jws = json.loads((ASSETS / "jws_signature.sig").read_text())
    alpine = x509.load_der_x509_certificate(base64.b64decode(jws["header"]["x5c"][0]))
    pem = tmp_path / "alpine.pem"
    pem.write_bytes(alpine.public_bytes(serialization.Encoding.PEM))
    data = policy_data()
    data["algorithms"]["minRsaBits"] = 2048
    data["vendors"].append(
        {
            "id": "notary",
            "name": "Notary Project test signer",
            "anchors": [str(pem)],
            "identities": [{"subject": "CN=alpine,O=Notary,L=Seattle,ST=WA,C=US"}],
        }
    )
    data["vendors"][0].update(vendor_changes)
    if crls is not None:
        data["revocation"] = {"mode": "require", "crls": list(crls)}
    if tsa_root is None:
        data.pop("timestampAuthorities", None)
    else:
        data["timestampAuthorities"] = [
            {"id": "test-tsa", "name": "Test TSA", "anchors": [str(tsa_root)]}
        ]
    return load_policy(write_policy(tmp_path / "policy.yaml", data))


def run(
    raw: bytes,
    media_type: str,
    policy: Policy,
    *,
    at: datetime = NOW,
    tgt: dict[str, Any] = TARGET,
    principals: Sequence[Principal] | None = None,
) -> SignerCheck:
    return verify_notation(
        raw,
        media_type,
        file="sig",
        target=target(tgt),
        principals=policy.vendors if principals is None else principals,
        role="vendor",
        policy=policy,
        at=at,
        time_source="test",
        requirements=("R",),
    )


def outcomes(result: SignerCheck) -> dict[str, Outcome]:
    return {c.check: c.outcome for c in result.checks}


def failed(result: SignerCheck) -> tuple[str, str]:
    assert not result.ok
    bad = [c for c in result.checks if c.outcome is Outcome.FAIL]
    assert bad, result.checks
    return bad[-1].check, bad[-1].reason


def acme() -> tuple[Any, list[Any]]:
    leaf = issued("vendor-a", "signing")
    chain = [leaf.cert, issued("vendor-a", "intermediate").cert]
    chain.append(issued("vendor-a", "root").cert)
    return leaf.key, chain


# ------------------------------------------------------------ the real envelopes


@pytest.mark.parametrize(
    ("name", "media_type"),
    [("jws_signature.sig", MEDIA_JWS), ("cose_signature.sig", MEDIA_COSE)],
)
def test_real_notation_envelopes_verify_with_their_certificate_pinned(
    tmp_path: Path, name: str, media_type: str
) -> None:
    raw = (ASSETS / name).read_bytes()
    result = run(raw, media_type, make_policy(tmp_path), at=REAL_AT, tgt=REAL_MANIFEST)
    assert result.ok, result.checks
    assert result.principal is not None
    assert result.principal.id == "notary"
    got = outcomes(result)
    assert got["signature"] is Outcome.PASS
    assert got["target-artifact"] is Outcome.PASS
    assert got["certificate-chain"] is Outcome.PASS
    assert got["timestamp"] is Outcome.NOT_APPLICABLE
    assert got["revocation"] is Outcome.NOT_APPLICABLE


@pytest.mark.parametrize("media_type", [MEDIA_JWS, MEDIA_COSE])
def test_real_envelope_for_another_manifest_fails_target_artifact(
    tmp_path: Path, media_type: str
) -> None:
    name = "jws_signature.sig" if media_type == MEDIA_JWS else "cose_signature.sig"
    raw = (ASSETS / name).read_bytes()
    other = {**REAL_MANIFEST, "size": 482}
    check, reason = failed(
        run(raw, media_type, make_policy(tmp_path), at=REAL_AT, tgt=other)
    )
    assert check == "target-artifact"
    assert "size 481" in reason


def test_real_jws_with_a_changed_payload_fails_the_signature(tmp_path: Path) -> None:
    data = json.loads((ASSETS / "jws_signature.sig").read_text())
    data["payload"] = b64url(dumps({"targetArtifact": {**REAL_MANIFEST, "size": 482}}))
    policy = make_policy(tmp_path)
    check, _ = failed(
        run(dumps(data), MEDIA_JWS, policy, at=REAL_AT, tgt=REAL_MANIFEST)
    )
    assert check == "signature"


def test_real_cose_with_a_changed_signature_fails(tmp_path: Path) -> None:
    item = cbor2.loads((ASSETS / "cose_signature.sig").read_bytes())
    parts = list(item.value)
    parts[3] = bytes([parts[3][0] ^ 1]) + parts[3][1:]
    raw = cbor2.dumps(cbor2.CBORTag(18, parts))
    check, reason = failed(
        run(raw, MEDIA_COSE, make_policy(tmp_path), at=REAL_AT, tgt=REAL_MANIFEST)
    )
    assert check == "signature"
    assert "does not verify" in reason


def test_real_envelope_with_an_unpinned_root_fails_the_chain(tmp_path: Path) -> None:
    data = policy_data()
    data["algorithms"]["minRsaBits"] = 2048
    policy = load_policy(write_policy(tmp_path / "p.yaml", data))
    raw = (ASSETS / "jws_signature.sig").read_bytes()
    check, reason = failed(run(raw, MEDIA_JWS, policy, at=REAL_AT, tgt=REAL_MANIFEST))
    assert check == "certificate-chain"
    assert "not an anchor the policy pins" in reason


def test_real_envelope_fails_the_policy_minimum_rsa_size(tmp_path: Path) -> None:
    policy = make_policy(tmp_path)
    data = policy_data()  # minRsaBits 3072
    data["vendors"] = [v for v in data["vendors"] if v["id"] == "acme"]
    strict = load_policy(write_policy(tmp_path / "strict.yaml", data))
    assert policy.min_rsa_bits == 2048
    raw = (ASSETS / "cose_signature.sig").read_bytes()
    check, reason = failed(run(raw, MEDIA_COSE, strict, at=REAL_AT, tgt=REAL_MANIFEST))
    assert check == "algorithms"
    assert "3072" in reason


# ----------------------------------------------------------- test-PKI envelopes


@pytest.mark.parametrize("media_type", [MEDIA_JWS, MEDIA_COSE])
def test_code_signing_chain_verifies_with_revocation_and_identity(
    tmp_path: Path, media_type: str
) -> None:
    key, chain = acme()
    build = jws_envelope if media_type == MEDIA_JWS else cose_envelope
    raw = build(key, chain, TARGET, signed_at=NOW)
    result = run(raw, media_type, make_policy(tmp_path))
    assert result.ok, result.checks
    assert result.principal is not None
    assert result.principal.id == "acme"
    got = outcomes(result)
    assert got["revocation"] is Outcome.PASS
    assert got["signer-identity"] is Outcome.PASS
    assert result.anchors == (f"sha256:{pki_fingerprint(chain[-1])}",)


def pki_fingerprint(cert: x509.Certificate) -> str:
    return fingerprint(cert)


def test_revoked_signer_fails_revocation(tmp_path: Path) -> None:
    leaf = issued("vendor-a", "signing-revoked")
    _, chain = acme()
    assert not isinstance(leaf.key, Ed25519PrivateKey)
    raw = jws_envelope(leaf.key, [leaf.cert, *chain[1:]], TARGET, signed_at=NOW)
    check, reason = failed(run(raw, MEDIA_JWS, make_policy(tmp_path)))
    assert check == "revocation"
    assert "revoked" in reason


def test_identity_not_allowed_fails_signer_identity(tmp_path: Path) -> None:
    key, chain = acme()
    raw = jws_envelope(key, chain, TARGET, signed_at=NOW)
    policy = make_policy(tmp_path, identities=[{"subject": "CN=Someone else,C=DE"}])
    check, _ = failed(run(raw, MEDIA_JWS, policy))
    assert check == "signer-identity"


@pytest.mark.parametrize(
    ("order", "reason"),
    [((0, 2, 1), "not an ordered chain"), ((0, 1), "does not end with a root")],
)
def test_x5c_order_and_root_are_required(
    tmp_path: Path, order: tuple[int, ...], reason: str
) -> None:
    key, chain = acme()
    raw = jws_envelope(key, [chain[i] for i in order], TARGET, signed_at=NOW)
    check, why = failed(run(raw, MEDIA_JWS, make_policy(tmp_path)))
    assert check == "certificate-chain"
    assert reason in why


def test_signature_for_another_manifest_fails(tmp_path: Path) -> None:
    key, chain = acme()
    raw = cose_envelope(
        key, chain, {**TARGET, "digest": "sha256:" + "cd" * 32}, signed_at=NOW
    )
    check, _ = failed(run(raw, MEDIA_COSE, make_policy(tmp_path)))
    assert check == "target-artifact"


def test_wrong_target_media_type_fails(tmp_path: Path) -> None:
    key, chain = acme()
    other = {**TARGET, "mediaType": "application/vnd.oci.image.index.v1+json"}
    raw = jws_envelope(key, chain, other, signed_at=NOW)
    check, _ = failed(run(raw, MEDIA_JWS, make_policy(tmp_path)))
    assert check == "target-artifact"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"alg": "none"}, "'none' and HMAC are refused"),
        ({"alg": "HS256"}, "not a Notary Project algorithm"),
        ({"crit": ["io.cncf.notary.signingScheme", "com.example.x"]}, "not understood"),
        ({"crit": []}, "non-empty array"),
        (
            {"crit": ["io.cncf.notary.signingScheme", "io.cncf.notary.expiry"]},
            "listed in crit but absent",
        ),
        ({"io.cncf.notary.expiry": "2099-01-01T00:00:00Z"}, "not listed in crit"),
        ({"cty": "application/json"}, "content type must be"),
        ({"io.cncf.notary.signingScheme": "notary.other"}, "unknown signing scheme"),
        (
            {
                "io.cncf.notary.authenticSigningTime": "2025-01-01T00:00:00Z",
                "crit": [
                    "io.cncf.notary.signingScheme",
                    "io.cncf.notary.authenticSigningTime",
                ],
            },
            "forbids authenticSigningTime",
        ),
        ({"io.cncf.notary.signingTime": "yesterday"}, "RFC 3339"),
    ],
)
def test_bad_protected_headers_fail_the_envelope_check(
    tmp_path: Path, changes: dict[str, Any], reason: str
) -> None:
    key, chain = acme()
    raw = jws_envelope(key, chain, TARGET, signed_at=NOW, protected=changes)
    check, why = failed(run(raw, MEDIA_JWS, make_policy(tmp_path)))
    assert check == "notation-envelope"
    assert reason in why


def test_duplicate_protected_header_fails(tmp_path: Path) -> None:
    key, chain = acme()
    prot = (
        b'{"alg":"ES256","alg":"ES256","crit":["io.cncf.notary.signingScheme"],'
        b'"cty":"application/vnd.cncf.notary.payload.v1+json",'
        b'"io.cncf.notary.signingScheme":"notary.x509",'
        b'"io.cncf.notary.signingTime":"2025-01-01T00:00:00Z"}'
    )
    raw = jws_envelope(key, chain, TARGET, signed_at=NOW, raw_protected=prot)
    check, why = failed(run(raw, MEDIA_JWS, make_policy(tmp_path)))
    assert check == "notation-envelope"
    assert "duplicate key" in why


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({"alg": "ES256"}, "both protected and unprotected"),
        ({"kid": "x"}, "unknown unprotected header"),
        ({"x5c": "not a list"}, "x5c must be an array"),
        ({"x5c": []}, "certificate chain is empty"),
        ({"x5c": ["!!"]}, "is not base64"),
    ],
)
def test_bad_unprotected_headers_fail_the_envelope_check(
    tmp_path: Path, header: dict[str, Any], reason: str
) -> None:
    key, chain = acme()
    raw = jws_envelope(key, chain, TARGET, signed_at=NOW, header=header)
    check, why = failed(run(raw, MEDIA_JWS, make_policy(tmp_path)))
    assert check == "notation-envelope"
    assert reason in why


def test_alg_must_match_the_signing_key(tmp_path: Path) -> None:
    key, chain = acme()
    raw = jws_envelope(key, chain, TARGET, signed_at=NOW, protected={"alg": "ES384"})
    check, why = failed(run(raw, MEDIA_JWS, make_policy(tmp_path)))
    assert check == "algorithms"
    assert "dictates (ES256)" in why


def test_general_serialization_and_extra_members_are_refused(tmp_path: Path) -> None:
    key, chain = acme()
    data = json.loads(jws_envelope(key, chain, TARGET, signed_at=NOW))
    data["signatures"] = []
    check, why = failed(run(dumps(data), MEDIA_JWS, make_policy(tmp_path)))
    assert check == "notation-envelope"
    assert "flattened" in why


def test_expiry_in_the_future_passes_and_in_the_past_fails(tmp_path: Path) -> None:
    key, chain = acme()
    crit = ["io.cncf.notary.signingScheme", "io.cncf.notary.expiry"]
    later = jws_envelope(
        key,
        chain,
        TARGET,
        signed_at=NOW,
        protected={
            "crit": crit,
            "io.cncf.notary.expiry": rfc3339(NOW + timedelta(days=1)),
        },
    )
    policy = make_policy(tmp_path)
    result = run(later, MEDIA_JWS, policy)
    assert result.ok
    assert outcomes(result)["expiry"] is Outcome.PASS
    check, why = failed(run(later, MEDIA_JWS, policy, at=NOW + timedelta(days=2)))
    assert check == "expiry"
    assert "expired" in why


def test_cose_expiry_is_an_epoch_time(tmp_path: Path) -> None:
    key, chain = acme()
    raw = cose_envelope(
        key,
        chain,
        TARGET,
        signed_at=NOW,
        protected={
            2: ["io.cncf.notary.signingScheme", "io.cncf.notary.expiry"],
            "io.cncf.notary.expiry": cbor2.CBORTag(1, int(NOW.timestamp()) - 60),
        },
    )
    check, _ = failed(run(raw, MEDIA_COSE, make_policy(tmp_path)))
    assert check == "expiry"


# -------------------------------------------------------------------- signing time


def short_lived(days_left: int) -> tuple[Any, list[Any]]:
    inter = issued("vendor-a", "intermediate")
    leaf = pki.make_leaf(
        "Acme Radio Systems Release Signing short-lived",
        inter,
        org="Acme Radio Systems GmbH",
        not_before=NOW - timedelta(days=2),
        not_after=NOW + timedelta(days=days_left),
    )
    return leaf.key, [leaf.cert, inter.cert, issued("vendor-a", "root").cert]


@pytest.mark.parametrize("media_type", [MEDIA_JWS, MEDIA_COSE])
def test_expired_signer_with_a_trusted_timestamp_verifies_at_the_signing_time(
    tmp_path: Path, tsa: tuple[str, Path], media_type: str
) -> None:
    url, root = tsa
    key, chain = short_lived(1)
    build = jws_envelope if media_type == MEDIA_JWS else cose_envelope
    raw = build(key, chain, TARGET, signed_at=NOW, tsa_url=url)
    later = NOW + timedelta(days=3)
    result = run(raw, media_type, make_policy(tmp_path, root), at=later)
    assert result.ok, result.checks
    assert outcomes(result)["timestamp"] is Outcome.PASS
    # without the TSA trusted, the chain is validated at `at`, when the leaf expired
    check, why = failed(run(raw, media_type, make_policy(tmp_path), at=later))
    assert check == "certificate-chain"
    assert (
        outcomes(run(raw, media_type, make_policy(tmp_path), at=later))["timestamp"]
        is Outcome.WARN
    )
    assert "does not chain" in why


@pytest.mark.parametrize(
    ("not_before", "not_after"),
    [
        # genTime + accuracy is after the leaf expired
        (timedelta(days=-1), timedelta(minutes=2)),
        # genTime - accuracy is before the leaf was valid
        (timedelta(minutes=-2), timedelta(days=1)),
    ],
    ids=["expires-within-accuracy", "valid-within-accuracy"],
)
def test_the_whole_timestamp_accuracy_must_be_inside_the_chain_validity(
    tmp_path: Path,
    tsa: tuple[str, Path],
    wide_tsa: tuple[str, Path],
    not_before: timedelta,
    not_after: timedelta,
) -> None:
    signed = datetime.now(UTC).replace(microsecond=0)
    inter = issued("vendor-a", "intermediate")
    leaf = pki.make_leaf(
        "Acme Radio Systems Release Signing short-lived",
        inter,
        org="Acme Radio Systems GmbH",
        not_before=signed + not_before,
        not_after=signed + not_after,
    )
    assert not isinstance(leaf.key, Ed25519PrivateKey)
    chain = [leaf.cert, inter.cert, issued("vendor-a", "root").cert]
    at = signed + timedelta(hours=3)
    # Accuracy one second: the leaf is valid over [genTime - 1 s, genTime + 1 s].
    url, root = tsa
    raw = jws_envelope(leaf.key, chain, TARGET, signed_at=signed, tsa_url=url)
    result = run(raw, MEDIA_JWS, make_policy(tmp_path, root), at=at)
    assert result.ok, result.checks
    # Accuracy two hours (RFC 3161 §2.4.2): the TSA vouches only for a time within
    # two hours of genTime, and the leaf is not valid over all of it.
    url, root = wide_tsa
    raw = jws_envelope(leaf.key, chain, TARGET, signed_at=signed, tsa_url=url)
    result = run(raw, MEDIA_JWS, make_policy(tmp_path, root), at=at)
    assert outcomes(result)["timestamp"] is Outcome.PASS
    assert "± 7200 s" in next(c.reason for c in result.checks if c.check == "timestamp")
    check, why = failed(result)
    assert check == "certificate-chain"
    assert "is not valid over the whole time of the timestamp" in why
    assert "(genTime ± accuracy, RFC 3161 §2.4.2)" in why


def test_expired_signer_without_a_timestamp_fails(tmp_path: Path) -> None:
    key, chain = short_lived(1)
    raw = jws_envelope(key, chain, TARGET, signed_at=NOW)
    check, _ = failed(
        run(raw, MEDIA_JWS, make_policy(tmp_path), at=NOW + timedelta(days=3))
    )
    assert check == "certificate-chain"


def test_timestamp_over_other_bytes_fails(
    tmp_path: Path, tsa: tuple[str, Path]
) -> None:
    url, root = tsa
    key, chain = acme()
    good = json.loads(jws_envelope(key, chain, TARGET, signed_at=NOW, tsa_url=url))
    other = json.loads(jws_envelope(key, chain, TARGET, signed_at=NOW))
    other["header"]["io.cncf.notary.timestampSignature"] = good["header"][
        "io.cncf.notary.timestampSignature"
    ]
    check, why = failed(run(dumps(other), MEDIA_JWS, make_policy(tmp_path, root)))
    assert check == "timestamp"
    assert "does not cover" in why


def test_policy_requiring_a_timestamp_fails_without_one(tmp_path: Path) -> None:
    key, chain = acme()
    raw = jws_envelope(key, chain, TARGET, signed_at=NOW)
    check, _ = failed(run(raw, MEDIA_JWS, make_policy(tmp_path, requireTimestamp=True)))
    assert check == "timestamp"


def authority_envelope(
    when: datetime, signer: tuple[Any, list[Any]] | None = None
) -> bytes:
    key, chain = signer or acme()
    return jws_envelope(
        key,
        chain,
        TARGET,
        signed_at=NOW,
        drop=["io.cncf.notary.signingTime"],
        protected={
            "io.cncf.notary.signingScheme": "notary.x509.signingAuthority",
            "io.cncf.notary.authenticSigningTime": rfc3339(when),
            "crit": [
                "io.cncf.notary.signingScheme",
                "io.cncf.notary.authenticSigningTime",
            ],
        },
    )


def pem_file(tmp_path: Path, cert: x509.Certificate, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


def test_signing_authority_scheme_needs_a_trusted_signing_authority(
    tmp_path: Path,
) -> None:
    when = NOW - timedelta(hours=1)
    raw = authority_envelope(when)
    # the vendor's anchors (Notation's "ca" store) never vouch for this scheme
    check, why = failed(run(raw, MEDIA_JWS, make_policy(tmp_path)))
    assert check == "signing-scheme"
    assert "accepts that signing scheme" in why
    root = pem_file(tmp_path, acme()[1][-1], "sa-root.pem")
    policy = make_policy(
        tmp_path,
        notation={
            "schemes": ["notary.x509", "notary.x509.signingAuthority"],
            "signingAuthorities": [root],
        },
    )
    result = run(raw, MEDIA_JWS, policy)
    assert result.ok, result.checks
    assert result.principal is not None
    assert result.principal.id == "acme"
    assert result.principal is policy.vendors[0]
    assert outcomes(result)["signing-scheme"] is Outcome.PASS
    assert "timestamp" not in outcomes(result)
    check, _ = failed(run(raw, MEDIA_JWS, policy, at=when - timedelta(hours=1)))
    assert check == "signing-scheme"


def test_signing_authority_root_must_be_a_signing_authority_of_the_policy(
    tmp_path: Path,
) -> None:
    raw = authority_envelope(NOW - timedelta(hours=1))
    other = pem_file(tmp_path, issued("vendor-b", "root").cert, "other-root.pem")
    policy = make_policy(
        tmp_path,
        notation={
            "schemes": ["notary.x509.signingAuthority"],
            "signingAuthorities": [other],
        },
    )
    check, why = failed(run(raw, MEDIA_JWS, policy))
    assert check == "certificate-chain"
    assert "signing authority root" in why
    # a notary.x509 signature of the same vendor is refused by its schemes
    key, chain = acme()
    raw = jws_envelope(key, chain, TARGET, signed_at=NOW)
    check, _ = failed(run(raw, MEDIA_JWS, policy, principals=policy.vendors[:1]))
    assert check == "signing-scheme"


def test_revoked_signing_authority_key_cannot_back_date_its_signature(
    tmp_path: Path,
) -> None:
    # The test PKI's revoked leaf: revoked 2025-06-01, no reason, no invalidityDate.
    leaf = issued("vendor-a", "signing-revoked")
    chain = [leaf.cert, *acme()[1][1:]]
    root = pem_file(tmp_path, chain[-1], "sa-root.pem")
    policy = make_policy(
        tmp_path,
        notation={
            "schemes": ["notary.x509.signingAuthority"],
            "signingAuthorities": [root],
        },
    )
    for claimed in (NOW, datetime(2025, 5, 1, tzinfo=UTC)):
        # Signed now by the revoked key; the authenticSigningTime is what the same
        # key writes, so a time before the revocation proves nothing.
        result = run(authority_envelope(claimed, (leaf.key, chain)), MEDIA_JWS, policy)
        check, why = failed(result)
        assert check == "revocation", result.checks
        assert "is revoked since 2025-06-01T00:00:00Z" in why
        assert outcomes(result)["signing-scheme"] is Outcome.PASS
        assert outcomes(result)["certificate-chain"] is Outcome.PASS


def revoked_after_signing(
    tmp_path: Path, url: str, *, invalidity: timedelta | None
) -> tuple[bytes, list[str], datetime]:
    """A timestamped envelope whose leaf the CA revokes 30 minutes after signing.

    Returns the envelope, the CRLs (the entry's invalidityDate ``invalidity`` after
    the signing time, or none) and the signing time.
    """
    inter = issued("vendor-a", "intermediate")
    leaf = pki.make_leaf(
        "Acme Radio Systems Release Signing revoked later",
        inter,
        org="Acme Radio Systems GmbH",
        not_before=NOW - timedelta(days=2),
        not_after=NOW + timedelta(days=30),
    )
    assert not isinstance(leaf.key, Ed25519PrivateKey)
    chain = [leaf.cert, inter.cert, issued("vendor-a", "root").cert]
    # The token's genTime is the TSA's clock now, not the module's NOW.
    signed = datetime.now(UTC).replace(microsecond=0)
    raw = jws_envelope(leaf.key, chain, TARGET, signed_at=signed, tsa_url=url)
    entry = pki.revoked_entry(
        leaf.cert.serial_number,
        signed + timedelta(minutes=30),
        invalidity=None if invalidity is None else signed + invalidity,
    )
    crl = pki.make_crl(
        inter,
        [entry],
        last_update=signed - timedelta(hours=1),
        next_update=signed + timedelta(days=7),
    )
    path = tmp_path / "inter.crl.pem"
    path.write_bytes(pki.crl_pem(crl))
    return raw, [str(path), str(KEYS / "vendor-a/root.crl.pem")], signed


@pytest.mark.parametrize(
    ("invalidity", "verdict"),
    [
        # Notary Project, "Revocation Checking with CRL": without an invalidityDate
        # the certificate is revoked, whatever the timestamp (RFC 5280 would keep a
        # signature timestamped before the revocation date: formats other than
        # Notation still do, test_time_revocation.py)
        (None, "without an invalidityDate"),
        # an invalidityDate before the timestamp: revoked
        (timedelta(days=-1), "is not before"),
        # an invalidityDate after the timestamp: the signature stays valid
        (timedelta(minutes=20), None),
    ],
    ids=["no-invalidity-date", "invalid-before", "invalid-after"],
)
def test_revocation_after_a_timestamped_notation_signature(
    tmp_path: Path,
    tsa: tuple[str, Path],
    invalidity: timedelta | None,
    verdict: str | None,
) -> None:
    url, tsa_root = tsa
    raw, crls, signed = revoked_after_signing(tmp_path, url, invalidity=invalidity)
    policy = make_policy(
        tmp_path, tsa_root, crls=crls, identities=[{"anySigner": True}]
    )
    result = run(raw, MEDIA_JWS, policy, at=signed + timedelta(hours=1))
    assert outcomes(result)["timestamp"] is Outcome.PASS
    if verdict is None:
        assert result.ok, result.checks
        assert "the signature stays valid" in next(
            c.reason for c in result.checks if c.check == "revocation"
        )
    else:
        check, why = failed(result)
        assert check == "revocation"
        assert verdict in why


# ----------------------------------------------------------------- COSE specifics


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (cbor2.dumps([1, 2, 3, 4]), "tag 18"),
        (cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b""])), "array of four"),
        (cbor2.dumps(cbor2.CBORTag(18, [b"\xa0", {}, "text", b""])), "byte strings"),
        (
            cbor2.dumps(cbor2.CBORTag(18, [b"\xa2\x01\x26\x01\x26", {}, b"", b""])),
            "CBOR",
        ),
        (b"\xff\x00", "not valid CBOR"),
        (cbor2.dumps(cbor2.CBORTag(18, [cbor2.dumps([1]), {}, b"", b""])), "maps"),
    ],
)
def test_malformed_cose_fails_the_envelope_check(
    tmp_path: Path, raw: bytes, reason: str
) -> None:
    check, why = failed(run(raw, MEDIA_COSE, make_policy(tmp_path)))
    assert check == "notation-envelope"
    assert reason in why


@pytest.mark.parametrize(
    ("protected", "unprotected", "reason"),
    [
        ({1: -257}, {}, "not a Notary Project algorithm"),
        ({}, {"kid": b"x"}, "unknown unprotected header"),
        ({}, {3: "x"}, "both protected and unprotected"),
        ({}, {33: "text"}, "x5chain must be"),
        ({}, {"io.cncf.notary.timestampSignature": "text"}, "must be a byte string"),
        ({33: [b"x"]}, {}, "both protected and unprotected"),
        ({"io.cncf.notary.signingTime": "2025-01-01T00:00:00Z"}, {}, "tag 1"),
    ],
)
def test_bad_cose_headers_fail_the_envelope_check(
    tmp_path: Path, protected: dict[Any, Any], unprotected: dict[Any, Any], reason: str
) -> None:
    key, chain = acme()
    raw = cose_envelope(
        key, chain, TARGET, signed_at=NOW, protected=protected, unprotected=unprotected
    )
    check, why = failed(run(raw, MEDIA_COSE, make_policy(tmp_path)))
    assert check == "notation-envelope"
    assert reason in why


SCHEME = "io.cncf.notary.signingScheme"
SIGNING_TIME = "io.cncf.notary.signingTime"


def cose_protected(*extra: tuple[Any, Any]) -> list[tuple[Any, Any]]:
    return [
        (1, -7),  # ES256
        (2, [SCHEME]),
        (3, "application/vnd.cncf.notary.payload.v1+json"),
        (SCHEME, "notary.x509"),
        (SIGNING_TIME, cbor2.CBORTag(1, int(NOW.timestamp()))),
        *extra,
    ]


@pytest.mark.parametrize(
    ("pairs", "key"),
    [
        pytest.param(cose_protected((1, -7)), "1", id="alg-twice"),
        pytest.param(
            cose_protected((SCHEME, "notary.x509.signingAuthority")),
            f"'{SCHEME}'",
            id="scheme-twice",
        ),
    ],
)
def test_duplicate_key_in_the_cose_protected_header_fails(
    tmp_path: Path, pairs: list[tuple[Any, Any]], key: str
) -> None:
    """RFC 9052 §3 / RFC 8949 §5.6: a map with a repeated label is not valid COSE,
    whichever value a decoder would keep; the envelope is signed as it stands."""
    key_, chain = acme()
    raw = cose_envelope(
        key_, chain, TARGET, signed_at=NOW, raw_protected=cbor_map(*pairs)
    )
    check, why = failed(run(raw, MEDIA_COSE, make_policy(tmp_path)))
    assert check == "notation-envelope"
    assert why.endswith(
        f"protected: not valid CBOR: error decoding map: Duplicate map key: {key}"
    )
    # The same header without the repetition verifies.
    good = cose_envelope(
        key_, chain, TARGET, signed_at=NOW, raw_protected=cbor_map(*pairs[:-1])
    )
    assert run(good, MEDIA_COSE, make_policy(tmp_path)).ok


@pytest.mark.parametrize(
    ("crit", "extra", "reason"),
    [
        pytest.param(
            [SCHEME, "com.example.x"],
            ("com.example.x", 1),
            "critical header 'com.example.x' is not understood",
            id="text-label",
        ),
        pytest.param(
            [SCHEME, 4],
            (4, b"kid"),
            "critical header 'label 4' is not understood",
            id="integer-label",
        ),
        pytest.param(
            [SCHEME, -65537],
            (-65537, 0),
            "critical header 'label -65537' is not understood",
            id="private-label",
        ),
    ],
)
def test_unknown_critical_cose_label_fails(
    tmp_path: Path, crit: list[Any], extra: tuple[Any, Any], reason: str
) -> None:
    key, chain = acme()
    pairs = [(2, crit) if k == 2 else (k, v) for k, v in cose_protected(extra)]
    raw = cose_envelope(
        key, chain, TARGET, signed_at=NOW, raw_protected=cbor_map(*pairs)
    )
    check, why = failed(run(raw, MEDIA_COSE, make_policy(tmp_path)))
    assert check == "notation-envelope"
    assert reason in why
    # Not critical, the same label is ignored (RFC 9052 §3.1).
    plain = cose_envelope(
        key,
        chain,
        TARGET,
        signed_at=NOW,
        raw_protected=cbor_map(*cose_protected(extra)),
    )
    assert run(plain, MEDIA_COSE, make_policy(tmp_path)).ok


def test_revoked_cose_signer_fails_revocation(tmp_path: Path) -> None:
    leaf = issued("vendor-a", "signing-revoked")
    _, chain = acme()
    assert not isinstance(leaf.key, Ed25519PrivateKey)
    raw = cose_envelope(leaf.key, [leaf.cert, *chain[1:]], TARGET, signed_at=NOW)
    check, reason = failed(run(raw, MEDIA_COSE, make_policy(tmp_path)))
    assert check == "revocation"
    assert "revoked" in reason
    key, _ = acme()
    assert run(
        cose_envelope(key, chain, TARGET, signed_at=NOW),
        MEDIA_COSE,
        make_policy(tmp_path),
    ).ok


def test_cose_x5chain_may_be_protected(tmp_path: Path) -> None:
    key, chain = acme()
    ders = [c.public_bytes(serialization.Encoding.DER) for c in chain]
    raw = cose_envelope(
        key, chain, TARGET, signed_at=NOW, protected={33: ders}, unprotected={33: None}
    )
    assert run(raw, MEDIA_COSE, make_policy(tmp_path)).ok


def test_cose_single_certificate_x5chain_is_a_byte_string(tmp_path: Path) -> None:
    key, chain = acme()
    raw = cose_envelope(
        key,
        chain,
        TARGET,
        signed_at=NOW,
        unprotected={33: chain[0].public_bytes(serialization.Encoding.DER)},
    )
    check, why = failed(run(raw, MEDIA_COSE, make_policy(tmp_path)))
    assert check == "certificate-chain"
    assert "not self-signed" in why


def test_ecdsa_cose_signature_of_the_wrong_length_fails(tmp_path: Path) -> None:
    key, chain = acme()
    item = cbor2.loads(cose_envelope(key, chain, TARGET, signed_at=NOW))
    parts = list(item.value)
    parts[3] = parts[3][:-1]
    check, why = failed(
        run(cbor2.dumps(cbor2.CBORTag(18, parts)), MEDIA_COSE, make_policy(tmp_path))
    )
    assert check == "signature"
    assert "wrong length" in why


def test_parse_envelope_refuses_unknown_media_types_and_huge_input() -> None:
    with pytest.raises(
        InvalidInputError, match="unknown signature envelope media type"
    ):
        parse_envelope(b"{}", "application/json", file="x")
    with pytest.raises(InvalidInputError, match="larger than"):
        parse_envelope(b" " * (16 * 1024 * 1024 + 1), MEDIA_JWS, file="x")


def test_no_trusted_vendor_fails(tmp_path: Path) -> None:
    policy = make_policy(tmp_path)
    result = verify_notation(
        b"{}",
        MEDIA_JWS,
        file="sig",
        target=target(TARGET),
        principals=[],
        role="vendor",
        policy=policy,
        at=NOW,
        time_source="test",
        requirements=(),
    )
    assert failed(result)[0] == "signature"


# --------------------------------------------------- leaf profile, parsing edges


def leaf_with(**kw: Any) -> tuple[Any, list[x509.Certificate]]:
    inter = issued("vendor-a", "intermediate")
    leaf = pki.make_leaf(
        "Acme Radio Systems Release Signing profile",
        inter,
        org="Acme Radio Systems GmbH",
        **kw,
    )
    return leaf.key, [leaf.cert, inter.cert, issued("vendor-a", "root").cert]


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        (
            {
                "eku": (
                    ExtendedKeyUsageOID.CODE_SIGNING,
                    ExtendedKeyUsageOID.SERVER_AUTH,
                )
            },
            "extendedKeyUsage contains serverAuth",
        ),
        ({"key_cert_sign": True}, "usage other than signing"),
        ({"digital_signature": False}, "must be critical with digitalSignature"),
    ],
)
def test_notary_leaf_requirements_fail_the_chain(
    tmp_path: Path, kw: dict[str, Any], reason: str
) -> None:
    key, chain = leaf_with(**kw)
    raw = jws_envelope(key, chain, TARGET, signed_at=NOW)
    check, why = failed(run(raw, MEDIA_JWS, make_policy(tmp_path)))
    assert check == "certificate-chain"
    assert reason in why


def test_policy_refusing_the_key_type_fails_algorithms(tmp_path: Path) -> None:
    key, chain = acme()
    raw = jws_envelope(key, chain, TARGET, signed_at=NOW)
    data = policy_data()
    data["algorithms"]["signatures"] = ["ed25519"]
    policy = load_policy(write_policy(tmp_path / "p.yaml", data))
    check, why = failed(run(raw, MEDIA_JWS, policy))
    assert check == "algorithms"
    assert "not allowed by the policy" in why


def test_pinned_self_signed_certificate_must_be_valid_then(tmp_path: Path) -> None:
    raw = (ASSETS / "jws_signature.sig").read_bytes()
    late = datetime(2124, 1, 1, tzinfo=UTC)
    check, why = failed(
        run(raw, MEDIA_JWS, make_policy(tmp_path), at=late, tgt=REAL_MANIFEST)
    )
    assert check == "certificate-chain"
    assert "is not valid at" in why


def test_timestamp_after_the_validation_time_fails(
    tmp_path: Path, tsa: tuple[str, Path]
) -> None:
    url, root = tsa
    key, chain = acme()
    raw = jws_envelope(key, chain, TARGET, signed_at=NOW, tsa_url=url)
    early = NOW - timedelta(hours=2)
    check, why = failed(run(raw, MEDIA_JWS, make_policy(tmp_path, root), at=early))
    assert check == "timestamp"
    assert "after the validation time" in why


def test_unknown_non_critical_cose_header_is_ignored(tmp_path: Path) -> None:
    key, chain = acme()
    raw = cose_envelope(key, chain, TARGET, signed_at=NOW, protected={4: b"kid"})
    assert run(raw, MEDIA_COSE, make_policy(tmp_path)).ok


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda d: d.update(payload="!!"), "payload is not base64url"),
        (lambda d: d.update(header=[]), "must be JSON objects"),
        (lambda d: d["header"].update(x5c=["AA=="] * 12), "more than 10 certificates"),
        (
            lambda d: d["header"].update({"io.cncf.notary.timestampSignature": 5}),
            "must be a base64 string",
        ),
    ],
)
def test_malformed_jws_fails_the_envelope_check(
    tmp_path: Path, mutate: Any, reason: str
) -> None:
    key, chain = acme()
    data = json.loads(jws_envelope(key, chain, TARGET, signed_at=NOW))
    mutate(data)
    check, why = failed(run(dumps(data), MEDIA_JWS, make_policy(tmp_path)))
    assert check == "notation-envelope"
    assert reason in why


@pytest.mark.parametrize(
    ("kw", "check", "reason"),
    [
        ({"body": b"{}"}, "target-artifact", "no targetArtifact"),
        ({"body": b"[1]"}, "target-artifact", "no targetArtifact"),
        (
            {"protected": {"io.cncf.notary.signingTime": 5}},
            "notation-envelope",
            "RFC 3339 time string",
        ),
        (
            {"protected": {"io.cncf.notary.signingTime": "2025-01-01"}},
            "notation-envelope",
            "not an RFC 3339 time with offset",
        ),
    ],
)
def test_jws_payload_and_time_formats(
    tmp_path: Path, kw: dict[str, Any], check: str, reason: str
) -> None:
    key, chain = acme()
    raw = jws_envelope(key, chain, TARGET, signed_at=NOW, **kw)
    got, why = failed(run(raw, MEDIA_JWS, make_policy(tmp_path)))
    assert got == check
    assert reason in why


def test_envelope_that_is_not_an_object_fails(tmp_path: Path) -> None:
    check, why = failed(run(b"[]", MEDIA_JWS, make_policy(tmp_path)))
    assert check == "notation-envelope"
    assert "must be a JSON object" in why


# ------------------------------------------------- strict forms (RFC 3339, CBOR, size)

_PLUGIN = "io.cncf.notary.verificationPlugin"
_PLUGIN_MIN = "io.cncf.notary.verificationPluginMinVersion"


@pytest.mark.parametrize("critical", [True, False], ids=["critical", "not-critical"])
@pytest.mark.parametrize("name", [_PLUGIN, _PLUGIN_MIN])
def test_verification_plugin_headers_fail_critical_or_not(
    tmp_path: Path, name: str, *, critical: bool
) -> None:
    # "Guidelines for implementations": a verifier that cannot run the plug-in MUST
    # fail; notation-go looks the plug-in up whether or not crit lists it.
    key, chain = acme()
    crit = ["io.cncf.notary.signingScheme", *([name] if critical else [])]
    value = "com.example.mustrun" if name == _PLUGIN else "1.0.0"
    policy = make_policy(tmp_path)
    for raw, media_type in (
        (
            jws_envelope(
                key, chain, TARGET, signed_at=NOW, protected={name: value, "crit": crit}
            ),
            MEDIA_JWS,
        ),
        (
            cose_envelope(
                key, chain, TARGET, signed_at=NOW, protected={name: value, 2: crit}
            ),
            MEDIA_COSE,
        ),
    ):
        check, why = failed(run(raw, media_type, policy))
        assert check == "notation-envelope"
        assert f"{name} requires a verification plug-in" in why


@pytest.mark.parametrize(
    "value",
    [
        "20251201T000000Z",  # ISO 8601 basic format
        "2025-W49-1T00:00:00Z",  # ISO week date
        "2025-12-01T00:00Z",  # no seconds
        "2025-12-01 00:00:00Z",  # a space for T
        "2025-12-01T00:00:00+0100",  # offset without a colon
        "2025-12-01T00:00:00",  # no offset
        "2025-12-01T00:00:00Z\n",  # a trailing newline
        "\u0662\u0660\u0662\u0665-12-01T00:00:00Z",  # Arabic-Indic digits
    ],
)
@pytest.mark.parametrize(
    "header",
    [
        "io.cncf.notary.signingTime",
        "io.cncf.notary.expiry",
        "io.cncf.notary.authenticSigningTime",
    ],
)
def test_jws_times_must_be_rfc3339_date_times(
    tmp_path: Path, header: str, value: str
) -> None:
    key, chain = acme()
    protected: dict[str, Any] = {header: value}
    if header != "io.cncf.notary.signingTime":
        protected["crit"] = ["io.cncf.notary.signingScheme", header]
    drop: list[str] = []
    if header == "io.cncf.notary.authenticSigningTime":
        protected["io.cncf.notary.signingScheme"] = "notary.x509.signingAuthority"
        drop = ["io.cncf.notary.signingTime"]
    raw = jws_envelope(
        key, chain, TARGET, signed_at=NOW, protected=protected, drop=drop
    )
    check, why = failed(run(raw, MEDIA_JWS, make_policy(tmp_path)))
    assert check == "notation-envelope"
    assert f"protected.{header}: not an RFC 3339 time with offset" in why


@pytest.mark.parametrize(
    "value",
    [
        "2025-12-01T00:00:00Z",
        "2025-12-01t00:00:00z",  # RFC 3339 §5.6 NOTE: T and Z may be lower case
        "2025-12-01T01:00:00.123456789+01:00",  # any number of fraction digits
    ],
)
def test_jws_rfc3339_forms_are_accepted(tmp_path: Path, value: str) -> None:
    key, chain = acme()
    later = rfc3339(NOW + timedelta(days=1))
    raw = jws_envelope(
        key,
        chain,
        TARGET,
        signed_at=NOW,
        protected={
            "io.cncf.notary.signingTime": value,
            "io.cncf.notary.expiry": later.replace("T", "t"),
            "crit": ["io.cncf.notary.signingScheme", "io.cncf.notary.expiry"],
        },
    )
    result = run(raw, MEDIA_JWS, make_policy(tmp_path))
    assert result.ok, result.checks
    assert "2025-12-01T00:00:00" in next(
        c.reason for c in result.checks if c.check == "signing-scheme"
    )


@pytest.mark.parametrize(
    "extra",
    [b"\x00", b"\x00GARBAGE", b"cose"],
    ids=["one-byte", "garbage", "second-envelope"],
)
def test_cose_with_bytes_after_the_envelope_fails(tmp_path: Path, extra: bytes) -> None:
    key, chain = acme()
    cose = cose_envelope(key, chain, TARGET, signed_at=NOW)
    policy = make_policy(tmp_path)
    assert run(cose, MEDIA_COSE, policy).ok
    tail = cose if extra == b"cose" else extra
    check, why = failed(run(cose + tail, MEDIA_COSE, policy))
    assert check == "notation-envelope"
    assert f"not valid CBOR: {len(tail)} bytes after the data item" in why


def test_cose_protected_header_with_bytes_after_the_map_fails(tmp_path: Path) -> None:
    # The signature covers the protected bytes as given: only the decoder can tell.
    key, chain = acme()
    prot = cbor2.dumps(
        {
            1: -7,
            2: ["io.cncf.notary.signingScheme"],
            3: "application/vnd.cncf.notary.payload.v1+json",
            "io.cncf.notary.signingScheme": "notary.x509",
            "io.cncf.notary.signingTime": cbor2.CBORTag(1, int(NOW.timestamp())),
        }
    )
    policy = make_policy(tmp_path)
    good = cose_envelope(key, chain, TARGET, signed_at=NOW, raw_protected=prot)
    assert run(good, MEDIA_COSE, policy).ok
    bad = cose_envelope(key, chain, TARGET, signed_at=NOW, raw_protected=prot + b"\xa0")
    check, why = failed(run(bad, MEDIA_COSE, policy))
    assert check == "notation-envelope"
    assert "protected: not valid CBOR: 1 bytes after the data item" in why


@pytest.mark.parametrize(
    "size",
    ["1234.0", "1.234e3", '"1234"', "null", "true"],
    ids=["float", "exponent", "string", "null", "bool"],
)
def test_target_size_must_be_an_integer(tmp_path: Path, size: str) -> None:
    key, chain = acme()
    policy = make_policy(tmp_path)
    assert run(jws_envelope(key, chain, TARGET, signed_at=NOW), MEDIA_JWS, policy).ok
    artifact = json.dumps({k: v for k, v in TARGET.items() if k != "size"})
    body = f'{{"targetArtifact": {artifact[:-1]}, "size": {size}}}}}'.encode()
    bad = jws_envelope(key, chain, TARGET, signed_at=NOW, body=body)
    check, why = failed(run(bad, MEDIA_JWS, policy))
    assert check == "target-artifact"
    assert f"size {json.loads(size)!r}) is not the manifest verified" in why
