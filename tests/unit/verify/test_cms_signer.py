"""Who signed a detached CMS signature: chain, profile, revocation and RFC 3161 time.

Signatures are made by ``openssl cms -sign`` (as vendors make them) with the test
PKI; timestamps by an ``openssl ts`` TSA (``tests/tsa.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from tests import pki
from tests.cms_support import (
    openssl_cms_sign,
    policy,
    principal,
    signature_value,
    with_timestamp,
)
from tests.legacy_pki import make_cert
from tests.tsa import LoopbackTSA, make_tsa_pki
from vendorproof._internal.pem import load_certificates
from vendorproof._internal.tsa import request_timestamp
from vendorproof.models.policy import CertificateProfile, Policy, RevocationMode
from vendorproof.verify.cms_signer import (
    check_cms_signer,
    check_detached_signature,
    detached_signature_required,
    timestamp_response,
)
from vendorproof.verify.result import Outcome
from vendorproof.verify.signer import SignerCheck

CONTENT = b"firmware image bytes\n" * 1000
NOW = datetime.now(UTC).replace(microsecond=0)
# Wide margins: a loaded machine may run this module long after it was imported.
AT = NOW + timedelta(hours=12)
SUBJECT = "CN=*,O=Vendor,C=DE"


@dataclass(frozen=True)
class Signer:
    issued: pki.Issued
    cert: Path
    key: Path


@dataclass(frozen=True)
class Pki:
    root: pki.Issued
    other_root: pki.Issued
    rsa: Signer
    pss: Signer
    p256: Signer
    short: Signer  # valid only until six hours from now
    revoked: Signer


def _signer(base: Path, name: str, leaf: pki.Issued) -> Signer:
    pki.write_pem(base / f"{name}.cert", leaf.cert_pem())
    pki.write_pem(base / f"{name}.key", leaf.key_pem())
    return Signer(leaf, base / f"{name}.cert", base / f"{name}.key")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    base = tmp_path_factory.mktemp("cms-signer")
    root = pki.make_root("CMS Signer Root", org="Vendor")

    def leaf(name: str, kind: pki.KeyKind, **kw: object) -> Signer:
        issued = pki.make_leaf(
            f"signer {name}",
            root,
            org="Vendor",
            key_kind=kind,
            **kw,  # type: ignore[arg-type]
        )
        return _signer(base, name, issued)

    return Pki(
        root=root,
        other_root=pki.make_root("Other Root", org="Vendor"),
        rsa=leaf("rsa", "rsa-2048"),
        pss=leaf("pss", "rsa-2048"),
        p256=leaf("p256", "ecdsa-p256"),
        short=leaf(
            "short",
            "ecdsa-p256",
            not_before=NOW - timedelta(days=1),
            not_after=NOW + timedelta(hours=6),
        ),
        revoked=leaf("revoked", "ecdsa-p256"),
    )


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    work = tmp_path_factory.mktemp("cms-tsa")
    root, cert, key = make_tsa_pki(work)
    with LoopbackTSA(cert, key, None, work) as server:
        yield server.url, root


def _check(
    sig: bytes,
    pol: Policy,
    *,
    content: bytes | None = CONTENT,
    at: datetime = AT,
    extra: tuple[x509.Certificate, ...] = (),
) -> SignerCheck:
    return check_cms_signer(
        sig,
        content,
        file="image.bin.cms",
        subject="image.bin",
        extra_certificates=extra,
        principals=pol.vendors,
        role="vendor",
        policy=pol,
        at=at,
        time_source="--at",
        requirements=("REQ-1",),
    )


def _outcomes(result: SignerCheck) -> dict[str, Outcome]:
    return {c.check: c.outcome for c in result.checks}


def _reason(result: SignerCheck, check: str) -> str:
    return next(c.reason for c in result.checks if c.check == check)


def _strict(keys: Pki, **kw: object) -> Policy:
    return policy([principal([keys.root.cert], subject=SUBJECT)], **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "args", "algorithm"),
    [
        ("rsa", (), "rsa-pkcs1v15-sha256"),
        ("pss", ("-keyopt", "rsa_padding_mode:pss"), "rsa-pss-sha256"),
        ("p256", (), "ecdsa-p256-sha256"),
    ],
)
def test_strict_profile_passes(
    keys: Pki, tmp_path: Path, name: str, args: tuple[str, ...], algorithm: str
) -> None:
    signer: Signer = getattr(keys, name)
    sig = openssl_cms_sign(tmp_path, CONTENT, signer.cert, signer.key, *args)
    result = _check(sig, _strict(keys))
    assert result.ok, result.checks
    assert _outcomes(result) == {
        "algorithms": Outcome.PASS,
        "signature": Outcome.PASS,
        "timestamp": Outcome.NOT_APPLICABLE,
        "certificate-chain": Outcome.PASS,
        "revocation": Outcome.PASS,
        "signer-identity": Outcome.PASS,
    }
    assert algorithm in _reason(result, "algorithms")
    assert "code-signing profile" in _reason(result, "certificate-chain")
    # signingTime is reported as a claim, and the chain is validated at --at.
    assert "signingTime claims" in _reason(result, "signature")
    assert "(--at)" in _reason(result, "certificate-chain")
    assert result.principal is not None
    assert result.principal.id == "vendor-1"
    assert result.anchors == (f"sha256:{keys.root.cert.fingerprint(_SHA256).hex()}",)
    assert all(c.subject == "image.bin" for c in result.checks)


_SHA256 = hashes.SHA256()


def test_tampered_content_and_digests(keys: Pki, tmp_path: Path) -> None:
    sig = openssl_cms_sign(tmp_path, CONTENT, keys.p256.cert, keys.p256.key)
    pol = _strict(keys)
    bad = _check(sig, pol, content=CONTENT + b"x")
    assert not bad.ok
    assert _outcomes(bad) == {"signature": Outcome.FAIL}
    assert "messageDigest" in _reason(bad, "signature")

    # From measured digests (replay): the same answers without the bytes.
    def from_digests(digests: dict[str, bytes]) -> SignerCheck:
        return check_cms_signer(
            sig,
            digests=digests,
            file="image.bin.cms",
            principals=pol.vendors,
            role="vendor",
            policy=pol,
            at=AT,
            time_source="--at",
            requirements=(),
        )

    assert from_digests({"sha256": hashlib.sha256(CONTENT).digest()}).ok
    wrong = from_digests({"sha256": b"\0" * 32})
    assert _outcomes(wrong) == {"signature": Outcome.FAIL}
    unmeasured = from_digests({"sha512": hashlib.sha512(CONTENT).digest()})
    assert "was not measured (measured: sha512)" in _reason(unmeasured, "signature")
    with pytest.raises(TypeError):
        check_cms_signer(
            sig,
            CONTENT,
            digests={},
            file="x",
            principals=pol.vendors,
            role="vendor",
            policy=pol,
            at=AT,
            time_source="--at",
            requirements=(),
        )


def test_untrusted_anchor_and_identity(keys: Pki, tmp_path: Path) -> None:
    sig = openssl_cms_sign(tmp_path, CONTENT, keys.rsa.cert, keys.rsa.key)
    other = policy([principal([keys.other_root.cert], subject=SUBJECT)])
    result = _check(sig, other)
    assert _outcomes(result)["certificate-chain"] is Outcome.FAIL
    assert "does not chain to any trusted vendor anchor" in _reason(
        result, "certificate-chain"
    )
    wrong_identity = policy(
        [principal([keys.root.cert], subject="CN=someone else,O=Vendor,C=DE")]
    )
    result = _check(sig, wrong_identity)
    assert _outcomes(result)["signer-identity"] is Outcome.FAIL
    assert _outcomes(_check(sig, policy([]))) == {"signature": Outcome.FAIL}


def test_malformed_and_refused_signatures(keys: Pki, tmp_path: Path) -> None:
    pol = _strict(keys)
    garbage = _check(b"-----BEGIN CMS-----\nAAAA\n-----END CMS-----\n", pol)
    assert _outcomes(garbage) == {"signature": Outcome.FAIL}
    assert "image.bin.cms" in _reason(garbage, "signature")
    sha1 = openssl_cms_sign(
        tmp_path, CONTENT, keys.rsa.cert, keys.rsa.key, "-md", "sha1"
    )
    assert _outcomes(_check(sha1, pol)) == {"algorithms": Outcome.FAIL}
    rsa = openssl_cms_sign(tmp_path, CONTENT, keys.rsa.cert, keys.rsa.key)
    small = _check(rsa, _strict(keys, min_rsa_bits=3072))
    assert _outcomes(small) == {"algorithms": Outcome.FAIL}
    assert "below the policy minimum 3072" in _reason(small, "algorithms")
    # The signer certificate left out of the CMS and not supplied beside it.
    nocerts = openssl_cms_sign(
        tmp_path, CONTENT, keys.rsa.cert, keys.rsa.key, "-nocerts"
    )
    assert _outcomes(_check(nocerts, pol)) == {"signature": Outcome.FAIL}
    beside = _check(nocerts, pol, extra=(keys.rsa.issued.cert,))
    assert beside.ok
    assert "supplied beside it" in _reason(beside, "signature")


def _revoking_crl(keys: Pki, when: datetime) -> x509.CertificateRevocationList:
    entry = pki.revoked_entry(
        keys.revoked.issued.cert.serial_number,
        when,
        reason=x509.ReasonFlags.superseded,
    )
    return pki.make_crl(keys.root, [entry], last_update=when)


def test_revoked_signer(keys: Pki, tmp_path: Path) -> None:
    sig = openssl_cms_sign(tmp_path, CONTENT, keys.revoked.cert, keys.revoked.key)
    crl = _revoking_crl(keys, NOW - timedelta(hours=1))
    result = _check(sig, _strict(keys, crls=[crl]))
    assert _outcomes(result)["revocation"] is Outcome.FAIL
    assert "is revoked" in _reason(result, "revocation")
    # Another signer of the same CA is proven not revoked by that CRL.
    ok = _check(
        openssl_cms_sign(tmp_path, CONTENT, keys.p256.cert, keys.p256.key),
        _strict(keys, crls=[crl], mode=RevocationMode.REQUIRE),
    )
    assert ok.ok
    assert "not revoked per" in _reason(ok, "revocation")


def _timestamped(url: str, sig: bytes) -> bytes:
    return with_timestamp(sig, [request_timestamp(url, signature_value(sig))])


def test_timestamp_proves_the_signing_time(
    keys: Pki, tmp_path: Path, tsa: tuple[str, Path]
) -> None:
    url, tsa_root = tsa
    sig = openssl_cms_sign(
        tmp_path, CONTENT, keys.short.cert, keys.short.key, outform="DER"
    )
    stamped = _timestamped(url, sig)
    tsas = [
        principal(
            load_certificates(tsa_root.read_bytes(), file="tsa-root.pem"),
            subject="CN=*",
        )
    ]
    pol = _strict(keys, tsas=tsas)
    # At --at the short-lived signer has expired: without a timestamp it fails...
    plain = _check(sig, pol)
    assert _outcomes(plain)["certificate-chain"] is Outcome.FAIL
    # ... with a trusted token the chain is validated at the token's genTime.
    result = _check(stamped, pol)
    assert result.ok, result.checks
    assert _outcomes(result)["timestamp"] is Outcome.PASS
    assert "RFC 3161 timestamp by" in _reason(result, "certificate-chain")
    # A policy that trusts no TSA: the token is not used, and the report says so.
    untrusted = _check(stamped, _strict(keys))
    assert _outcomes(untrusted)["timestamp"] is Outcome.WARN
    assert _outcomes(untrusted)["certificate-chain"] is Outcome.FAIL
    # A token over another signature value does not count: fail.
    other = openssl_cms_sign(
        tmp_path, b"other", keys.short.cert, keys.short.key, outform="DER"
    )
    moved = with_timestamp(sig, [request_timestamp(url, signature_value(other))])
    assert _outcomes(_check(moved, pol))["timestamp"] is Outcome.FAIL


def test_timestamp_accuracy_must_lie_inside_the_chain_validity(
    keys: Pki, tmp_path: Path
) -> None:
    # The short-lived signer expires six hours after NOW; a token stating an
    # accuracy of ten hours dates the signature only to within ten hours of genTime
    # (RFC 3161 §2.4.2), past its expiry. With one second it verifies (the test
    # above).
    sig = openssl_cms_sign(
        tmp_path, CONTENT, keys.short.cert, keys.short.key, outform="DER"
    )
    root, cert, key = make_tsa_pki(tmp_path / "wide-tsa")
    with LoopbackTSA(cert, key, None, tmp_path, accuracy="secs:36000") as server:
        stamped = _timestamped(server.url, sig)
    tsas = [
        principal(
            load_certificates(root.read_bytes(), file="tsa-root.pem"),
            subject="CN=*",
        )
    ]
    result = _check(stamped, _strict(keys, tsas=tsas))
    assert _outcomes(result)["timestamp"] is Outcome.PASS
    assert _outcomes(result)["certificate-chain"] is Outcome.FAIL
    assert "is not valid over the whole time of the timestamp" in _reason(
        result, "certificate-chain"
    )


def test_timestamp_before_revocation(
    keys: Pki, tmp_path: Path, tsa: tuple[str, Path]
) -> None:
    url, tsa_root = tsa
    sig = openssl_cms_sign(
        tmp_path, CONTENT, keys.revoked.cert, keys.revoked.key, outform="DER"
    )
    stamped = _timestamped(url, sig)
    tsas = [
        principal(
            load_certificates(tsa_root.read_bytes(), file="tsa-root.pem"),
            subject="CN=*",
        )
    ]
    crl = _revoking_crl(keys, NOW + timedelta(hours=6))
    pol = _strict(keys, tsas=tsas, crls=[crl])
    assert _outcomes(_check(sig, pol))["revocation"] is Outcome.FAIL
    result = _check(stamped, pol)
    assert result.ok, result.checks
    assert "after the timestamped signing time" in _reason(result, "revocation")


def test_require_timestamp(keys: Pki, tmp_path: Path) -> None:
    sig = openssl_cms_sign(tmp_path, CONTENT, keys.p256.cert, keys.p256.key)
    pol = policy([principal([keys.root.cert], subject=SUBJECT, require_timestamp=True)])
    result = _check(sig, pol)
    assert not result.ok
    failed = [c for c in result.checks if c.outcome is Outcome.FAIL]
    assert [c.check for c in failed] == ["timestamp"]
    assert "requires a trusted RFC 3161 timestamp" in failed[0].reason


def test_timestamp_response_wrapping() -> None:
    assert timestamp_response(b"\x30\x00") == b"\x30\x07\x30\x03\x02\x01\x00\x30\x00"
    long = b"\x04\x82\x01\x00" + b"\0" * 256
    wrapped = timestamp_response(long)
    assert wrapped[:4] == b"\x30\x82\x01\x09"
    assert wrapped.endswith(long)


def test_legacy_profile(tmp_path: Path) -> None:
    """A self-signed v1 signer, as in ONAP's packages: only the legacy profile accepts."""
    made = make_cert(tmp_path, "legacy signer", key_kind="rsa")
    sig = openssl_cms_sign(tmp_path, CONTENT, made.cert_path, made.key_path)
    subject = "CN=legacy signer,O=Legacy Vendor,C=DE"
    strict = policy([principal([made.cert], subject=subject)])
    result = _check(sig, strict)
    assert _outcomes(result)["certificate-chain"] is Outcome.FAIL
    legacy = policy(
        [principal([made.cert], subject=subject, profile=CertificateProfile.LEGACY)]
    )
    result = _check(sig, legacy)
    assert result.ok, result.checks
    assert "legacy profile" in _reason(result, "certificate-chain")
    warnings = [c.reason for c in result.checks if c.check == "certificate-profile"]
    assert all(
        c.outcome is Outcome.WARN
        for c in result.checks
        if c.check == "certificate-profile"
    )
    assert any("refused by the strict code-signing profile" in w for w in warnings)
    assert any("X.509 v1 signer certificate" in w for w in warnings)
    assert any("itself pinned as the anchor" in w for w in warnings)
    assert "is a pinned anchor: no issuer" in _reason(result, "revocation")


def test_legacy_profile_takes_strict_chains_without_relaxation(
    keys: Pki, tmp_path: Path
) -> None:
    sig = openssl_cms_sign(tmp_path, CONTENT, keys.p256.cert, keys.p256.key)
    pol = policy(
        [
            principal(
                [keys.root.cert], subject=SUBJECT, profile=CertificateProfile.LEGACY
            )
        ]
    )
    result = _check(sig, pol)
    assert result.ok
    assert "certificate-profile" not in _outcomes(result)
    assert "code-signing profile" in _reason(result, "certificate-chain")


def test_detached_signature_rule(keys: Pki, tmp_path: Path) -> None:
    vendor = principal([keys.root.cert], subject=SUBJECT, detached=["*.img"])
    pol = policy([vendor])
    assert detached_signature_required(vendor, "images/radio.img")
    assert not detached_signature_required(vendor, "config/site.yaml")
    digests = {"sha256": hashlib.sha256(CONTENT).hexdigest()}
    sig = openssl_cms_sign(tmp_path, CONTENT, keys.p256.cert, keys.p256.key)

    def detached(
        component: str, measured: dict[str, str], sigs: dict[str, bytes]
    ) -> SignerCheck | None:
        return check_detached_signature(
            component,
            measured,
            sigs,
            vendor=vendor,
            policy=pol,
            at=AT,
            time_source="--at",
            requirements=("REQ-2",),
        )

    missing = detached("radio.img", digests, {})
    assert missing is not None
    assert not missing.ok
    assert "radio.img.cms or radio.img.p7s" in _reason(missing, "signature")
    assert detached("site.yaml", digests, {}) is None
    p7s = detached("radio.img", digests, {"radio.img.p7s": sig})
    assert p7s is not None
    assert p7s.ok
    assert p7s.checks[0].subject == "radio.img"
    # Not required, but delivered: checked all the same.
    extra = detached("site.yaml", digests, {"site.yaml.cms": sig})
    assert extra is not None
    assert extra.ok
    other = openssl_cms_sign(tmp_path, b"other", keys.p256.cert, keys.p256.key)
    both = {"radio.img.cms": sig, "radio.img.p7s": other}
    result = detached("radio.img", digests, both)
    assert result is not None
    assert not result.ok
    both_good = {"radio.img.cms": sig, "radio.img.p7s": sig}
    result = detached("radio.img", digests, both_good)
    assert result is not None
    assert result.ok
    assert len(result.checks) == 12
    tampered = {"sha256": hashlib.sha256(b"tampered").hexdigest()}
    result = detached("radio.img", tampered, {"radio.img.cms": sig})
    assert result is not None
    assert _outcomes(result) == {"signature": Outcome.FAIL}
    result = detached("radio.img", {"sha256": "zz"}, {"radio.img.cms": sig})
    assert result is not None
    assert "not hex" in _reason(result, "signature")
