"""The legacy certificate profile, with ``openssl verify`` as the independent oracle.

Certificates are made by ``openssl x509 -req`` (v1 without extensions, as real SOL 004
signers have them). Where the legacy rules and OpenSSL's default (non-strict)
verification agree by design, both must give the same answer; ``-x509_strict`` and
the strict code-signing profile (``verify/x509.py``) refuse what the legacy profile
relaxes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from tests.legacy_pki import Made, make_cert, openssl_verify
from vendorproof.errors import AlgorithmError, CertificateChainError
from vendorproof.limits import Limits
from vendorproof.verify.x509 import verify_chain
from vendorproof.verify.x509_legacy import verify_legacy_chain

CA = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign"
CA_PATHLEN0 = (
    "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign"
)
CA_PATHLEN1 = (
    "basicConstraints=critical,CA:TRUE,pathlen:1\nkeyUsage=critical,keyCertSign,cRLSign"
)
NOW = datetime.now(UTC)
AT = NOW + timedelta(days=1)


def _legacy(
    leaf: Made,
    anchors: list[Made],
    untrusted: list[Made] = [],  # noqa: B006 - read only
    *,
    pinned: list[Made] = [],  # noqa: B006 - read only
    at: datetime = AT,
) -> tuple[str, ...]:
    result = verify_legacy_chain(
        leaf.cert,
        [u.cert for u in untrusted],
        [a.cert for a in anchors],
        pinned_intermediates=[p.cert for p in pinned],
        at=at,
    )
    assert result.chain.leaf == leaf.cert
    assert result.chain.anchor in [a.cert for a in anchors]
    return result.relaxations


def _strict_refuses(leaf: Made, anchors: list[Made], untrusted: list[Made]) -> bool:
    try:
        verify_chain(
            leaf.cert, [u.cert for u in untrusted], [a.cert for a in anchors], at=AT
        )
    except CertificateChainError:
        return True
    return False


def test_v1_leaf_issued_by_v1_root(tmp_path: Path) -> None:
    root = make_cert(tmp_path, "v1 root")
    leaf = make_cert(tmp_path, "v1 signer", issuer=root)
    assert leaf.cert.version is x509.Version.v1
    relaxed = _legacy(leaf, [root])
    assert any("X.509 v1 signer certificate" in r for r in relaxed)
    assert any("X.509 v1 issuer" in r and "pins it" in r for r in relaxed)
    assert openssl_verify(tmp_path, leaf, [root], at=AT)
    assert not openssl_verify(tmp_path, leaf, [root], at=AT, strict=True)
    assert _strict_refuses(leaf, [root], [])


def test_pinned_self_signed_v1_signer(tmp_path: Path) -> None:
    """The ONAP case: the package's own self-signed v1 certificate is the anchor."""
    leaf = make_cert(tmp_path, "self-signed signer", key_kind="rsa")
    relaxed = _legacy(leaf, [leaf])
    assert any("itself pinned as the anchor" in r for r in relaxed)
    assert openssl_verify(tmp_path, leaf, [leaf], at=AT)


def test_v1_intermediate_from_the_signature_is_refused(tmp_path: Path) -> None:
    root = make_cert(tmp_path, "root")
    inter = make_cert(tmp_path, "v1 intermediate", issuer=root)
    leaf = make_cert(tmp_path, "signer", issuer=inter)
    with pytest.raises(CertificateChainError, match="is not pinned"):
        _legacy(leaf, [root], [inter])
    assert not openssl_verify(tmp_path, leaf, [root], untrusted=[inter], at=AT)
    # Pinned by the policy (RFC 5280 §6.1.4 (k): out-of-band): accepted, and said.
    relaxed = _legacy(leaf, [root], pinned=[inter])
    assert any("v1 intermediate" in r and "pins it" in r for r in relaxed)


@pytest.mark.parametrize("when", ["before", "after"])
def test_validity(tmp_path: Path, when: str) -> None:
    root = make_cert(tmp_path, "root", days=400)
    leaf = make_cert(tmp_path, "signer", issuer=root, days=10)
    at = NOW - timedelta(days=1) if when == "before" else NOW + timedelta(days=11)
    with pytest.raises(CertificateChainError, match="is not valid at"):
        _legacy(leaf, [root], at=at)
    assert not openssl_verify(tmp_path, leaf, [root], at=at)


def test_expired_issuer(tmp_path: Path) -> None:
    root = make_cert(tmp_path, "root", days=2)
    leaf = make_cert(tmp_path, "signer", issuer=root, days=10)
    at = NOW + timedelta(days=5)
    with pytest.raises(
        CertificateChainError, match="CN=root,O=Legacy Vendor,C=DE is not valid at"
    ):
        _legacy(leaf, [root], at=at)
    assert not openssl_verify(tmp_path, leaf, [root], at=at)


def test_signature_chain(tmp_path: Path) -> None:
    """A root with the right name but another key did not sign the signer."""
    root = make_cert(tmp_path, "root")
    leaf = make_cert(tmp_path, "signer", issuer=root)
    impostor = make_cert(tmp_path / "other", "root")
    assert impostor.cert.subject == root.cert.subject
    with pytest.raises(CertificateChainError, match="did not sign"):
        _legacy(leaf, [impostor])
    assert not openssl_verify(tmp_path, leaf, [impostor], at=AT)


def test_v3_without_key_usage_or_eku(tmp_path: Path) -> None:
    root = make_cert(tmp_path, "v3 root", extensions=CA)
    leaf = make_cert(
        tmp_path, "v3 signer", issuer=root, extensions="basicConstraints=CA:FALSE"
    )
    assert leaf.cert.version is x509.Version.v3
    relaxed = _legacy(leaf, [root])
    assert any("has no keyUsage" in r for r in relaxed)
    assert any("has no extendedKeyUsage" in r for r in relaxed)
    assert not any("issuer" in r for r in relaxed)
    assert openssl_verify(tmp_path, leaf, [root], at=AT)
    assert _strict_refuses(leaf, [root], [])


def test_issuer_that_is_not_a_ca(tmp_path: Path) -> None:
    root = make_cert(tmp_path, "root", extensions=CA)
    inter = make_cert(
        tmp_path, "not a CA", issuer=root, extensions="basicConstraints=CA:FALSE"
    )
    leaf = make_cert(tmp_path, "signer", issuer=inter)
    with pytest.raises(CertificateChainError, match="cA FALSE"):
        _legacy(leaf, [root], [inter])
    assert not openssl_verify(tmp_path, leaf, [root], untrusted=[inter], at=AT)


def test_issuer_key_usage_without_key_cert_sign(tmp_path: Path) -> None:
    root = make_cert(
        tmp_path,
        "root",
        extensions="basicConstraints=critical,CA:TRUE\nkeyUsage=critical,cRLSign",
    )
    leaf = make_cert(tmp_path, "signer", issuer=root)
    with pytest.raises(CertificateChainError, match="keyCertSign"):
        _legacy(leaf, [root])
    assert not openssl_verify(tmp_path, leaf, [root], at=AT)


@pytest.mark.parametrize(
    ("root_ext", "ok"), [(CA_PATHLEN0, False), (CA_PATHLEN1, True)]
)
def test_path_length(tmp_path: Path, root_ext: str, ok: bool) -> None:
    root = make_cert(tmp_path, "root", extensions=root_ext)
    inter = make_cert(tmp_path, "intermediate", issuer=root, extensions=CA)
    leaf = make_cert(tmp_path, "signer", issuer=inter)
    assert openssl_verify(tmp_path, leaf, [root], untrusted=[inter], at=AT) is ok
    if ok:
        assert _legacy(leaf, [root], [inter])
    else:
        with pytest.raises(CertificateChainError, match="pathLenConstraint"):
            _legacy(leaf, [root], [inter])


def test_unknown_critical_extension(tmp_path: Path) -> None:
    root = make_cert(tmp_path, "root", extensions=CA)
    leaf = make_cert(
        tmp_path,
        "signer",
        issuer=root,
        extensions="basicConstraints=CA:FALSE\n1.3.6.1.4.1.55555.1=critical,ASN1:NULL",
    )
    with pytest.raises(CertificateChainError, match="unrecognised critical"):
        _legacy(leaf, [root])
    assert not openssl_verify(tmp_path, leaf, [root], at=AT)


@pytest.mark.parametrize(
    ("extensions", "message"),
    [
        ("keyUsage=critical,keyEncipherment", "lacks digitalSignature"),
        ("extendedKeyUsage=serverAuth", "lacks codeSigning"),
        ("basicConstraints=critical,CA:TRUE", "is a CA"),
        ("nameConstraints=permitted;DNS:example.com", "does not process"),
    ],
)
def test_signer_extensions_present_are_enforced(
    tmp_path: Path, extensions: str, message: str
) -> None:
    """Only absent extensions are relaxed: present ones must allow code signing."""
    root = make_cert(tmp_path, "root", extensions=CA)
    leaf = make_cert(tmp_path, "signer", issuer=root, extensions=extensions)
    with pytest.raises(CertificateChainError, match=message):
        _legacy(leaf, [root])


def test_code_signing_leaf_needs_no_relaxation(tmp_path: Path) -> None:
    root = make_cert(tmp_path, "root", extensions=CA)
    leaf = make_cert(
        tmp_path,
        "signer",
        issuer=root,
        extensions=(
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
            "extendedKeyUsage=codeSigning"
        ),
    )
    assert _legacy(leaf, [root]) == ()


def test_algorithms_are_never_relaxed(tmp_path: Path) -> None:
    root = make_cert(tmp_path, "root")
    leaf = make_cert(tmp_path, "signer", issuer=root, digest="sha1")
    with pytest.raises(AlgorithmError, match="SHA1"):
        _legacy(leaf, [root])
    inter = make_cert(tmp_path, "sha1 intermediate", issuer=root, digest="sha1")
    leaf2 = make_cert(tmp_path, "signer 2", issuer=inter)
    with pytest.raises(CertificateChainError, match="SHA1"):
        _legacy(leaf2, [root], pinned=[inter])


def test_no_anchor_and_depth_limit(tmp_path: Path) -> None:
    root = make_cert(tmp_path, "root", extensions=CA)
    inter = make_cert(tmp_path, "intermediate", issuer=root, extensions=CA)
    leaf = make_cert(tmp_path, "signer", issuer=inter)
    with pytest.raises(CertificateChainError, match="no trust anchors"):
        verify_legacy_chain(leaf.cert, [], [], at=AT)
    with pytest.raises(CertificateChainError, match="no certificate issued it"):
        verify_legacy_chain(leaf.cert, [], [root.cert], at=AT)
    with pytest.raises(CertificateChainError, match="to a pinned anchor"):
        verify_legacy_chain(
            leaf.cert,
            [inter.cert],
            [root.cert],
            at=AT,
            limits=Limits(max_chain_depth=0),
        )
    chain = verify_legacy_chain(leaf.cert, [inter.cert], [root.cert], at=AT)
    assert chain.chain.chain == (leaf.cert, inter.cert, root.cert)


def _as_v1(made: Made, issuer: Made, tmp_path: Path) -> Made:
    """``made`` with its version field set to v1, extensions kept, re-signed."""
    from asn1crypto import core
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    cert = asn1_x509.Certificate.load(
        made.cert.public_bytes(serialization.Encoding.DER)
    )
    tbs = cert["tbs_certificate"]
    tbs["version"] = "v1"
    key = serialization.load_pem_private_key(issuer.key_path.read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    cert["signature_value"] = core.OctetBitString(
        key.sign(tbs.dump(force=True), ec.ECDSA(hashes.SHA256()))
    )
    out = tmp_path / f"{made.cert_path.stem}-v1.pem"
    parsed = x509.load_der_x509_certificate(cert.dump(force=True))
    out.write_bytes(parsed.public_bytes(serialization.Encoding.PEM))
    return Made(cert_path=out, key_path=made.key_path)


def test_v1_certificate_with_extensions_is_refused(tmp_path: Path) -> None:
    """RFC 5280 §4.1.2.1: read as v1, present extensions would be ignored."""
    root = make_cert(tmp_path, "root", extensions=CA)
    # A signer whose extensions say CA, keyCertSign only, serverAuth, labelled v1.
    tls_ca = make_cert(
        tmp_path,
        "tls ca",
        issuer=root,
        extensions="basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n"
        "extendedKeyUsage=serverAuth",
    )
    signer = _as_v1(tls_ca, root, tmp_path)
    assert signer.cert.version is x509.Version.v1
    assert len(signer.cert.extensions) >= 3  # with openssl's key identifiers
    with pytest.raises(CertificateChainError, match=r"v1 certificate with extensions"):
        _legacy(signer, [root])
    assert not openssl_verify(tmp_path, signer, [root], at=AT, strict=True)
    # A pinned intermediate whose basicConstraints say cA FALSE, labelled v1.
    not_ca = make_cert(
        tmp_path,
        "not a ca",
        issuer=root,
        extensions="basicConstraints=critical,CA:FALSE\nkeyUsage=digitalSignature",
    )
    inter = _as_v1(not_ca, root, tmp_path)
    leaf = make_cert(tmp_path, "signer", issuer=inter)
    with pytest.raises(CertificateChainError, match=r"v1 certificate with extensions"):
        _legacy(leaf, [root], pinned=[inter])
    # Without the relabelling the same certificates are refused for what they say.
    with pytest.raises(CertificateChainError, match="is a CA"):
        _legacy(tls_ca, [root])
    with pytest.raises(CertificateChainError, match="is not a CA"):
        _legacy(make_cert(tmp_path, "signer 2", issuer=not_ca), [root], pinned=[not_ca])
