"""``verify/x509.py`` called directly: every refusal, each with its passing twin.

The profile's extension rules are tabled in ``test_x509_profile.py``; these tests cover
the rest of the module: trust anchors, the algorithm rules applied before and after
path validation, a CA certificate used as a leaf, the subjectAltName rules for an
empty subject, the time-stamping profile and the validated-path cache.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests import pki
from vendorproof.errors import AlgorithmError, CertificateChainError
from vendorproof.verify.context import VerificationCache
from vendorproof.verify.x509 import (
    Eku,
    VerifiedChain,
    fingerprint,
    verify_certificate_algorithms,
    verify_chain,
)

ORG = "Acme Radio Systems GmbH"
AT = pki.T0.replace(year=2026)
SHA1 = hashes.SHA1()  # noqa: S303 - deliberately building legacy SHA-1 material


def dn(cn: str) -> str:
    """The subject as the refusals name it, escaped for a regular expression."""
    return re.escape(f"CN={cn},O={ORG},C=DE")


@pytest.fixture(scope="module")
def root() -> pki.Issued:
    return pki.make_root("X509 Unit Root", org=ORG)


@pytest.fixture(scope="module")
def inter(root: pki.Issued) -> pki.Issued:
    return pki.make_intermediate("X509 Unit CA", root, org=ORG)


def leaf(issuer: pki.Issued, **kw: object) -> x509.Certificate:
    return pki.make_leaf("X509 Unit Signing", issuer, org=ORG, **kw).cert  # type: ignore[arg-type]


def chain(
    cert: x509.Certificate,
    inter: pki.Issued,
    root: pki.Issued,
    *,
    eku: Eku = Eku.CODE_SIGNING,
) -> VerifiedChain:
    return verify_chain(cert, [inter.cert], [root.cert], at=AT, eku=eku)


# -- the chain and its anchors -------------------------------------------------------


def test_valid_chain_names_leaf_and_anchor(root: pki.Issued, inter: pki.Issued) -> None:
    cert = leaf(inter)
    verified = chain(cert, inter, root)
    assert verified.leaf == cert
    assert verified.anchor == root.cert
    assert verified.chain == (cert, inter.cert, root.cert)
    assert verified.at == AT


def test_no_trust_anchors_fails(inter: pki.Issued) -> None:
    with pytest.raises(
        CertificateChainError, match=r"^no trust anchors configured for this signer$"
    ):
        verify_chain(leaf(inter), [inter.cert], [], at=AT)


def test_other_anchor_fails(inter: pki.Issued) -> None:
    other = pki.make_root("X509 Unit Other Root", org=ORG)
    with pytest.raises(
        CertificateChainError,
        match=r"^no valid chain to a trusted root at 2026-01-01T00:00:00Z: ",
    ):
        verify_chain(leaf(inter), [inter.cert], [other.cert], at=AT)


def test_ca_certificate_as_leaf_fails(root: pki.Issued, inter: pki.Issued) -> None:
    # An intermediate CA (basicConstraints CA=true, keyCertSign) presented as the
    # signing certificate: the end-entity profile refuses it.
    ca_leaf = pki.make_intermediate(
        "X509 Unit CA Posing As Signer",
        inter,
        org=ORG,
        extra_extensions=[
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False)
        ],
    )
    with pytest.raises(
        CertificateChainError,
        match=r"no valid chain .*: basicConstraints\.cA must not be asserted in an EE "
        "certificate$",
    ):
        chain(ca_leaf.cert, inter, root)


def test_leaf_before_its_validity_fails(root: pki.Issued, inter: pki.Issued) -> None:
    cert = leaf(inter, not_before=AT + timedelta(days=1))
    with pytest.raises(CertificateChainError, match="not valid at validation time"):
        chain(cert, inter, root)
    chain(leaf(inter, not_before=AT - timedelta(days=1)), inter, root)


# -- algorithms ----------------------------------------------------------------------


def test_rsa_leaf_below_2048_bits_is_refused(
    root: pki.Issued, inter: pki.Issued
) -> None:
    weak = leaf(inter, key_kind="rsa-1024")
    with pytest.raises(
        AlgorithmError,
        match=rf"^certificate {dn('X509 Unit Signing')} has an RSA key of 1024 bits "
        r"\(minimum 2048\)$",
    ):
        chain(weak, inter, root)


def test_rsa_leaf_of_2048_bits_passes(root: pki.Issued, inter: pki.Issued) -> None:
    verify_certificate_algorithms(leaf(inter, key_kind="rsa-2048"))
    assert chain(leaf(inter, key_kind="rsa-2048"), inter, root).leaf is not None


@pytest.mark.parametrize(
    ("weak", "name"), [("leaf", "X509 Unit Signing"), ("intermediate", "X509 Unit CA")]
)
def test_sha1_signed_certificate_is_refused(
    root: pki.Issued, weak: str, name: str
) -> None:
    ca = pki.make_intermediate(
        "X509 Unit CA",
        root,
        org=ORG,
        hash_alg=SHA1 if weak == "intermediate" else hashes.SHA384(),
    )
    cert = leaf(ca, hash_alg=SHA1 if weak == "leaf" else hashes.SHA256())
    with pytest.raises(
        AlgorithmError,
        match=rf"^certificate {dn(name)} is signed with SHA1, which is refused$",
    ):
        chain(cert, ca, root)


def test_sha1_signed_anchor_is_refused_after_validation() -> None:
    # cryptography does not check a trust anchor's own signature; the profile
    # refuses a SHA-1 certificate anywhere in the validated path, the anchor included.
    sha1_root = pki.make_root("X509 Unit SHA-1 Root", org=ORG, hash_alg=SHA1)
    ca = pki.make_intermediate("X509 Unit CA", sha1_root, org=ORG)
    with pytest.raises(
        AlgorithmError,
        match=rf"^certificate {dn('X509 Unit SHA-1 Root')} is signed with SHA1, ",
    ):
        chain(leaf(ca), ca, sha1_root)


def test_sha256_signed_path_passes(root: pki.Issued, inter: pki.Issued) -> None:
    for cert in chain(leaf(inter), inter, root).chain:
        verify_certificate_algorithms(cert)


def _with_signature_algorithm(cert: x509.Certificate, algid: bytes) -> x509.Certificate:
    """``cert`` re-encoded with another signature AlgorithmIdentifier (not re-signed)."""
    tbs, _, signature = pki._der_children(cert.public_bytes(Encoding.DER))
    children = pki._der_children(tbs)
    children[2] = algid  # TBSCertificate.signature
    new_tbs = pki.der_tlv(0x30, b"".join(children))
    return x509.load_der_x509_certificate(
        pki.der_tlv(0x30, new_tbs + algid + signature)
    )


def test_unsupported_signature_algorithm_is_refused(inter: pki.Issued) -> None:
    # An algorithm identifier cryptography does not know (1.3.6.1.4.1.55555.1.1): the
    # certificate's signature hash cannot even be named.
    unknown = pki.der_tlv(
        0x30, pki.der_tlv(0x06, bytes.fromhex("2b0601040183b2030101"))
    )
    cert = _with_signature_algorithm(leaf(inter), unknown)
    with pytest.raises(
        AlgorithmError,
        match=rf"^certificate {dn('X509 Unit Signing')}: unsupported signature "
        "algorithm",
    ):
        verify_certificate_algorithms(cert)
    # The same certificate re-encoded with its own algorithm is accepted.
    ecdsa_sha256 = pki.der_tlv(0x30, bytes.fromhex("06082a8648ce3d040302"))
    verify_certificate_algorithms(_with_signature_algorithm(leaf(inter), ecdsa_sha256))


# -- subjectAltName rules for an empty subject (RFC 5280 §4.2.1.6) -------------------

EMAIL = x509.RFC822Name("release@acme.example")


@pytest.mark.parametrize(
    ("extensions", "reason"),
    [
        pytest.param([], "empty subject and no subjectAltName", id="no-san"),
        pytest.param(
            [(x509.SubjectAlternativeName([EMAIL]), False)],
            "subjectAltName must be critical when the subject is empty",
            id="non-critical-san",
        ),
    ],
)
def test_empty_subject_needs_a_critical_san(
    root: pki.Issued,
    inter: pki.Issued,
    extensions: list[tuple[x509.ExtensionType, bool]],
    reason: str,
) -> None:
    cert = leaf(inter, subject=x509.Name([]), extra_extensions=extensions)
    with pytest.raises(CertificateChainError, match=f"no valid chain.*: {reason}$"):
        chain(cert, inter, root)


def test_empty_subject_with_critical_san_passes(
    root: pki.Issued, inter: pki.Issued
) -> None:
    san = x509.SubjectAlternativeName([EMAIL])
    cert = leaf(inter, subject=x509.Name([]), extra_extensions=[(san, True)])
    assert chain(cert, inter, root).leaf == cert


def test_empty_san_fails(root: pki.Issued, inter: pki.Issued) -> None:
    cert = leaf(inter, extra_extensions=[(x509.SubjectAlternativeName([]), False)])
    with pytest.raises(CertificateChainError, match=r": empty subjectAltName$"):
        chain(cert, inter, root)


# -- the time-stamping profile (RFC 3161 §2.3) ---------------------------------------


def test_time_stamping_leaf_needs_a_critical_eku(
    root: pki.Issued, inter: pki.Issued
) -> None:
    lax = pki.make_tsa_leaf("X509 Unit TSA", inter, org=ORG, eku_critical=False)
    with pytest.raises(CertificateChainError, match="incorrect criticality"):
        chain(lax.cert, inter, root, eku=Eku.TIME_STAMPING)
    strict = pki.make_tsa_leaf("X509 Unit TSA", inter, org=ORG)
    assert chain(strict.cert, inter, root, eku=Eku.TIME_STAMPING).leaf == strict.cert


def test_time_stamping_leaf_is_not_a_code_signer(
    root: pki.Issued, inter: pki.Issued
) -> None:
    tsa = pki.make_tsa_leaf("X509 Unit TSA", inter, org=ORG)
    with pytest.raises(
        CertificateChainError, match="extendedKeyUsage lacks code-signing"
    ):
        chain(tsa.cert, inter, root, eku=Eku.CODE_SIGNING)


# -- the validated-path cache --------------------------------------------------------


def test_cached_path_is_revalidated_outside_its_validity(
    root: pki.Issued, inter: pki.Issued
) -> None:
    cert = leaf(inter)
    first = chain(cert, inter, root)
    later = AT + timedelta(days=365)
    again = verify_chain(cert, [inter.cert], [root.cert], at=later)
    assert again.chain == first.chain
    assert again.at == later
    expired = pki.LEAF_NOT_AFTER + timedelta(days=1)
    with pytest.raises(CertificateChainError, match="not valid at validation time"):
        verify_chain(cert, [inter.cert], [root.cert], at=expired)


def test_full_cache_is_emptied(root: pki.Issued, inter: pki.Issued) -> None:
    cache = VerificationCache(limit=1)
    first, second = leaf(inter), leaf(inter)
    for cert in (first, second):
        verify_chain(cert, [inter.cert], [root.cert], at=AT, cache=cache)
    paths = cache.validated_paths
    assert len(paths) == 1
    # Only the second path is remembered: the first was dropped with the full table.
    assert not any(key[0] == fingerprint(first) for key in paths._table)
    assert any(key[0] == fingerprint(second) for key in paths._table)
