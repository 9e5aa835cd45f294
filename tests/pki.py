"""Builders for throw-away X.509 test PKIs (roots, intermediates, leaves, CRLs).

Everything here is for tests and the demo only. The committed material under
``keys/`` is produced by ``scripts/make-test-pki`` with these helpers; tests that
need an unusual certificate (expired, SHA-1 signed, non-CA intermediate, wrong
EKU, ...) build it on the fly with the same functions.

Only ``cryptography`` is used. Times are always timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, assert_never

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

__all__ = [
    "CRL_LAST_UPDATE",
    "CRL_NEXT_UPDATE",
    "INTERMEDIATE_NOT_AFTER",
    "KEYS_DIR",
    "LEAF_NOT_AFTER",
    "ROOT_NOT_AFTER",
    "T0",
    "CrlEntry",
    "Issued",
    "KeyKind",
    "PrivateKey",
    "crl_pem",
    "load_issued",
    "make_crl",
    "make_intermediate",
    "make_leaf",
    "make_root",
    "make_tsa_leaf",
    "new_key",
    "private_key_pem",
    "public_key_pem",
    "revoked_entry",
    "write_pem",
]

KeyKind = Literal[
    "ecdsa-p256", "ecdsa-p384", "rsa-1024", "rsa-2048", "rsa-3072", "ed25519"
]
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey

# Fixed validity windows of the committed test PKI (``keys/``). Chosen so that
# the committed material stays valid for many years; tests assert this.
T0 = datetime(2025, 1, 1, tzinfo=UTC)
ROOT_NOT_AFTER = datetime(2045, 1, 1, tzinfo=UTC)
INTERMEDIATE_NOT_AFTER = datetime(2042, 1, 1, tzinfo=UTC)
LEAF_NOT_AFTER = datetime(2040, 1, 1, tzinfo=UTC)
CRL_LAST_UPDATE = T0
CRL_NEXT_UPDATE = datetime(2040, 1, 1, tzinfo=UTC)

KEYS_DIR = Path(__file__).resolve().parent.parent / "keys"
"""The committed test PKI at the repository root."""

ExtraExtensions = Sequence[tuple[x509.ExtensionType, bool]]


def new_key(kind: KeyKind = "ecdsa-p256") -> PrivateKey:
    """Generate a fresh private key of the given kind."""
    match kind:
        case "ecdsa-p256":
            return ec.generate_private_key(ec.SECP256R1())
        case "ecdsa-p384":
            return ec.generate_private_key(ec.SECP384R1())
        case "rsa-1024":
            # Deliberately weak: for "key too small" negative tests.
            return rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
        case "rsa-2048":
            return rsa.generate_private_key(public_exponent=65537, key_size=2048)
        case "rsa-3072":
            return rsa.generate_private_key(public_exponent=65537, key_size=3072)
        case "ed25519":
            return ed25519.Ed25519PrivateKey.generate()
        case _:  # pragma: no cover - exhaustiveness check for mypy
            assert_never(kind)


def private_key_pem(key: PrivateKey) -> bytes:
    """Serialize a private key as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def public_key_pem(key: PrivateKey) -> bytes:
    """Serialize the public half of ``key`` as SubjectPublicKeyInfo PEM."""
    return key.public_key().public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )


def crl_pem(crl: x509.CertificateRevocationList) -> bytes:
    """Serialize a CRL as PEM."""
    return crl.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class Issued:
    """A certificate together with its private key."""

    cert: x509.Certificate
    key: PrivateKey

    def cert_pem(self) -> bytes:
        """The certificate as PEM."""
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM."""
        return private_key_pem(self.key)


def write_pem(path: Path, data: bytes) -> None:
    """Write PEM ``data`` to ``path``, creating parent directories."""
    if not data.startswith(b"-----BEGIN "):
        raise ValueError(f"refusing to write non-PEM data to {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def load_issued(cert_path: Path, key_path: Path) -> Issued:
    """Load a certificate and its PKCS#8 PEM private key (e.g. from ``keys/``)."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(
        key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
    ):
        raise TypeError(f"unsupported key type in {key_path}: {type(key).__name__}")
    return Issued(cert=cert, key=key)


# --------------------------------------------------------------------------
# Signing (including the SHA-1 escape hatch)
# --------------------------------------------------------------------------

# DER AlgorithmIdentifiers for the SHA-1 signature algorithms.
_SHA1_WITH_RSA_ALGID = bytes.fromhex("300d06092a864886f70d0101050500")
_ECDSA_WITH_SHA1_ALGID = bytes.fromhex("300906072a8648ce3d0401")


def _der_header(tag: int, length: int) -> bytes:
    if length < 0x80:
        return bytes([tag, length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(body)]) + body


def _der_tlv(tag: int, content: bytes) -> bytes:
    return _der_header(tag, len(content)) + content


def _der_children(der: bytes) -> list[bytes]:
    """Split the content of the single DER TLV ``der`` into its child TLVs."""
    start, end = _der_content_span(der, 0)
    if end != len(der):
        raise ValueError("trailing data after DER element")
    children: list[bytes] = []
    pos = start
    while pos < end:
        _, child_end = _der_content_span(der, pos)
        children.append(der[pos:child_end])
        pos = child_end
    return children


def _der_content_span(der: bytes, pos: int) -> tuple[int, int]:
    """Return (content start, element end) of the DER element at ``pos``."""
    if der[pos] & 0x1F == 0x1F:
        raise ValueError("multi-byte DER tags are not supported")
    first = der[pos + 1]
    if first < 0x80:
        start = pos + 2
        return start, start + first
    n = first & 0x7F
    length = int.from_bytes(der[pos + 2 : pos + 2 + n], "big")
    start = pos + 2 + n
    return start, start + length


def _resign_with_sha1(signed_der: bytes, key: PrivateKey) -> bytes:
    """Re-sign a certificate or CRL with SHA-1.

    ``signed_der`` is a ``SEQUENCE { tbs, signatureAlgorithm, signatureValue }``
    (Certificate or CertificateList) already signed with some other hash. The
    signature AlgorithmIdentifier inside the TBS (the first SEQUENCE child of the
    TBS in both structures) and the outer one are replaced by the SHA-1 variant,
    and the TBS is signed again with SHA-1.
    """
    if isinstance(key, rsa.RSAPrivateKey):
        algid = _SHA1_WITH_RSA_ALGID
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        algid = _ECDSA_WITH_SHA1_ALGID
    else:
        raise TypeError("SHA-1 signatures need an RSA or ECDSA issuer key")

    tbs, _, _ = _der_children(signed_der)
    tbs_children = _der_children(tbs)
    for i, child in enumerate(tbs_children):
        if child[0] == 0x30:  # the inner signature AlgorithmIdentifier
            tbs_children[i] = algid
            break
    else:  # pragma: no cover - malformed input
        raise ValueError("no signature AlgorithmIdentifier in TBS")
    new_tbs = _der_tlv(0x30, b"".join(tbs_children))

    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(new_tbs, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    else:
        signature = key.sign(new_tbs, ec.ECDSA(hashes.SHA1()))  # noqa: S303
    bit_string = _der_tlv(0x03, b"\x00" + signature)
    return _der_tlv(0x30, new_tbs + algid + bit_string)


_BuilderHash = (
    hashes.SHA224
    | hashes.SHA256
    | hashes.SHA384
    | hashes.SHA512
    | hashes.SHA3_224
    | hashes.SHA3_256
    | hashes.SHA3_384
    | hashes.SHA3_512
)
"""The hashes cryptography's builders accept (SHA-1 is handled separately)."""


def _signing_hash(
    key: PrivateKey, hash_alg: hashes.HashAlgorithm
) -> _BuilderHash | hashes.SHA1 | None:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None  # Ed25519 signs the message itself; no separate hash.
    if isinstance(hash_alg, _BuilderHash | hashes.SHA1):
        return hash_alg
    raise ValueError(f"unsupported signature hash for test PKI: {hash_alg.name}")


def _sign_certificate(
    builder: x509.CertificateBuilder,
    key: PrivateKey,
    hash_alg: hashes.HashAlgorithm,
) -> x509.Certificate:
    """Sign ``builder`` with ``key``.

    cryptography >= 48 refuses ``CertificateBuilder.sign(..., hashes.SHA1())``
    ("Hash algorithm "sha1" not supported for signatures") for every key type,
    but raw ``key.sign(data, ..., SHA1())`` still works. For SHA-1 the
    certificate is therefore signed with SHA-256 first, then the TBS is patched
    to carry ``sha1WithRSAEncryption`` / ``ecdsa-with-SHA1`` and re-signed with
    raw SHA-1 (RSA PKCS#1 v1.5 or ECDSA). Ed25519 issuers cannot do SHA-1.
    """
    algorithm = _signing_hash(key, hash_alg)
    if isinstance(algorithm, hashes.SHA1):
        signed = builder.sign(key, hashes.SHA256())
        der = _resign_with_sha1(signed.public_bytes(serialization.Encoding.DER), key)
        return x509.load_der_x509_certificate(der)
    return builder.sign(key, algorithm)


def _sign_crl(
    builder: x509.CertificateRevocationListBuilder,
    key: PrivateKey,
    hash_alg: hashes.HashAlgorithm,
) -> x509.CertificateRevocationList:
    """Sign a CRL; SHA-1 is handled as in :func:`_sign_certificate`."""
    algorithm = _signing_hash(key, hash_alg)
    if isinstance(algorithm, hashes.SHA1):
        signed = builder.sign(key, hashes.SHA256())
        der = _resign_with_sha1(signed.public_bytes(serialization.Encoding.DER), key)
        return x509.load_der_x509_crl(der)
    return builder.sign(key, algorithm)


# --------------------------------------------------------------------------
# Certificates
# --------------------------------------------------------------------------


def _name(cn: str, org: str, country: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _aki_from(issuer: Issued) -> x509.AuthorityKeyIdentifier:
    try:
        ski = issuer.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer.key.public_key()
        )
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski.value)


def _key_usage(
    *,
    digital_signature: bool = False,
    key_encipherment: bool = False,
    key_cert_sign: bool = False,
    crl_sign: bool = False,
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _builder(
    *,
    subject: x509.Name,
    issuer: x509.Name,
    key: PrivateKey,
    serial: int | None,
    not_before: datetime,
    not_after: datetime,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number() if serial is None else serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
            critical=False,
        )
    )


def _add_extra(
    builder: x509.CertificateBuilder, extra: ExtraExtensions
) -> x509.CertificateBuilder:
    for ext, critical in extra:
        builder = builder.add_extension(ext, critical=critical)
    return builder


def make_root(
    cn: str,
    *,
    org: str,
    country: str = "DE",
    key_kind: KeyKind = "ecdsa-p384",
    key: PrivateKey | None = None,
    not_before: datetime = T0,
    not_after: datetime = ROOT_NOT_AFTER,
    hash_alg: hashes.HashAlgorithm = hashes.SHA384(),
    path_length: int | None = None,
    serial: int | None = None,
    extra_extensions: ExtraExtensions = (),
) -> Issued:
    """Create a self-signed root CA.

    basicConstraints CA=true (critical), keyUsage keyCertSign+cRLSign (critical),
    subjectKeyIdentifier. ``hash_alg`` defaults to SHA-384 (ignored for Ed25519).
    Pass ``key`` to reuse an existing key pair (e.g. for re-issued roots).
    """
    key = new_key(key_kind) if key is None else key
    name = _name(cn, org, country)
    builder = (
        _builder(
            subject=name,
            issuer=name,
            key=key,
            serial=serial,
            not_before=not_before,
            not_after=not_after,
        )
        .add_extension(
            x509.BasicConstraints(ca=True, path_length=path_length), critical=True
        )
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
    )
    builder = _add_extra(builder, extra_extensions)
    cert = _sign_certificate(builder, key, hash_alg)
    return Issued(cert=cert, key=key)


def make_intermediate(
    cn: str,
    issuer: Issued,
    *,
    org: str,
    country: str = "DE",
    ca: bool = True,
    key_cert_sign: bool = True,
    crl_sign: bool = True,
    path_length: int | None = 0,
    key_kind: KeyKind = "ecdsa-p384",
    key: PrivateKey | None = None,
    not_before: datetime = T0,
    not_after: datetime = INTERMEDIATE_NOT_AFTER,
    hash_alg: hashes.HashAlgorithm = hashes.SHA384(),
    serial: int | None = None,
    extra_extensions: ExtraExtensions = (),
) -> Issued:
    """Create an intermediate CA certificate signed by ``issuer``.

    basicConstraints (critical), keyUsage (critical: keyCertSign if
    ``key_cert_sign``, cRLSign unless ``crl_sign=False``), SKI, and AKI taken from
    the issuer.

    ``ca=False`` produces basicConstraints CA=false (``path_length`` ignored) —
    a "non-CA intermediate" for negative tests; together with the default
    ``key_cert_sign=True`` it is deliberately inconsistent. ``hash_alg``
    defaults to SHA-384 (ignored for Ed25519 issuers).
    """
    key = new_key(key_kind) if key is None else key
    builder = (
        _builder(
            subject=_name(cn, org, country),
            issuer=issuer.cert.subject,
            key=key,
            serial=serial,
            not_before=not_before,
            not_after=not_after,
        )
        .add_extension(_aki_from(issuer), critical=False)
        .add_extension(
            x509.BasicConstraints(ca=ca, path_length=path_length if ca else None),
            critical=True,
        )
        .add_extension(
            _key_usage(key_cert_sign=key_cert_sign, crl_sign=crl_sign), critical=True
        )
    )
    builder = _add_extra(builder, extra_extensions)
    cert = _sign_certificate(builder, issuer.key, hash_alg)
    return Issued(cert=cert, key=key)


def make_leaf(
    cn: str,
    issuer: Issued,
    *,
    org: str,
    country: str = "DE",
    key_kind: KeyKind = "ecdsa-p256",
    key: PrivateKey | None = None,
    eku: Sequence[ObjectIdentifier] | None = (ExtendedKeyUsageOID.CODE_SIGNING,),
    eku_critical: bool = False,
    digital_signature: bool = True,
    key_cert_sign: bool = False,
    aki: bool = True,
    san_emails: Sequence[str] = (),
    san_uris: Sequence[str] = (),
    not_before: datetime = T0,
    not_after: datetime = LEAF_NOT_AFTER,
    hash_alg: hashes.HashAlgorithm = hashes.SHA256(),
    serial: int | None = None,
    extra_extensions: ExtraExtensions = (),
    subject: x509.Name | None = None,
) -> Issued:
    """Create an end-entity (by default code-signing) certificate.

    The subject is ``C=country,O=org,CN=cn`` unless ``subject`` gives another name.

    basicConstraints CA=false (critical); keyUsage (critical) digitalSignature,
    or only keyEncipherment when ``digital_signature=False``; extendedKeyUsage
    ``eku`` (non-critical unless ``eku_critical``; omitted when ``None`` or
    empty); SKI; AKI from the issuer. A subjectAltName is added only when
    ``san_emails``/``san_uris`` are given: vendor code-signing leaves carry no
    SAN and are identified by their subject DN.

    ``key_cert_sign=True`` adds keyCertSign to keyUsage and ``aki=False`` omits the
    authorityKeyIdentifier: malformed leaves for negative tests.

    ``hash_alg`` defaults to SHA-256 (ignored for Ed25519 issuers).
    ``hashes.SHA1()`` works for RSA and ECDSA issuers: cryptography refuses to
    sign certificates with SHA-1 itself, so the certificate is re-signed by hand
    (see :func:`_sign_certificate`); the result is a genuine, correctly signed
    ``sha1WithRSAEncryption`` / ``ecdsa-with-SHA1`` certificate.
    """
    key = new_key(key_kind) if key is None else key
    builder = (
        _builder(
            subject=_name(cn, org, country) if subject is None else subject,
            issuer=issuer.cert.subject,
            key=key,
            serial=serial,
            not_before=not_before,
            not_after=not_after,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            _key_usage(
                digital_signature=digital_signature,
                key_encipherment=not digital_signature,
                key_cert_sign=key_cert_sign,
            ),
            critical=True,
        )
    )
    if aki:
        builder = builder.add_extension(_aki_from(issuer), critical=False)
    if eku:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage(list(eku)), critical=eku_critical
        )
    names: list[x509.GeneralName] = [x509.RFC822Name(e) for e in san_emails]
    names += [x509.UniformResourceIdentifier(u) for u in san_uris]
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(names), critical=False
        )
    builder = _add_extra(builder, extra_extensions)
    cert = _sign_certificate(builder, issuer.key, hash_alg)
    return Issued(cert=cert, key=key)


def make_tsa_leaf(
    cn: str,
    issuer: Issued,
    *,
    org: str,
    country: str = "DE",
    key_kind: KeyKind = "ecdsa-p256",
    key: PrivateKey | None = None,
    eku_critical: bool = True,
    not_before: datetime = T0,
    not_after: datetime = LEAF_NOT_AFTER,
    hash_alg: hashes.HashAlgorithm = hashes.SHA256(),
    serial: int | None = None,
    extra_extensions: ExtraExtensions = (),
) -> Issued:
    """Create an RFC 3161 time-stamping unit certificate.

    extendedKeyUsage is exactly id-kp-timeStamping and **critical** (RFC 3161
    §2.3; ``openssl ts`` and rfc3161-client enforce it). Pass
    ``eku_critical=False`` only to build a negative test case.
    """
    return make_leaf(
        cn,
        issuer,
        org=org,
        country=country,
        key_kind=key_kind,
        key=key,
        eku=(ExtendedKeyUsageOID.TIME_STAMPING,),
        eku_critical=eku_critical,
        not_before=not_before,
        not_after=not_after,
        hash_alg=hash_alg,
        serial=serial,
        extra_extensions=extra_extensions,
    )


# --------------------------------------------------------------------------
# CRLs
# --------------------------------------------------------------------------


CrlEntry = tuple[int, datetime] | x509.RevokedCertificate
"""A revoked serial with its date, or a complete entry (with entry extensions)."""


def revoked_entry(
    serial: int,
    when: datetime,
    *,
    reason: x509.ReasonFlags | None = None,
    invalidity: datetime | None = None,
    certificate_issuer: x509.Name | None = None,
    extra_extensions: ExtraExtensions = (),
) -> x509.RevokedCertificate:
    """A CRL entry with the RFC 5280 §5.3 entry extensions asked for."""
    builder = x509.RevokedCertificateBuilder().serial_number(serial)
    builder = builder.revocation_date(when)
    if reason is not None:
        builder = builder.add_extension(x509.CRLReason(reason), critical=False)
    if invalidity is not None:
        builder = builder.add_extension(x509.InvalidityDate(invalidity), critical=False)
    if certificate_issuer is not None:
        builder = builder.add_extension(
            x509.CertificateIssuer([x509.DirectoryName(certificate_issuer)]),
            critical=True,
        )
    for ext, critical in extra_extensions:
        builder = builder.add_extension(ext, critical=critical)
    return builder.build()


def make_crl(
    issuer: Issued,
    revoked: Sequence[CrlEntry],
    *,
    last_update: datetime = CRL_LAST_UPDATE,
    next_update: datetime | None = CRL_NEXT_UPDATE,
    hash_alg: hashes.HashAlgorithm = hashes.SHA256(),
    crl_number: int | None = 1,
    delta_of: int | None = None,
    idp: x509.IssuingDistributionPoint | None = None,
    extra_extensions: ExtraExtensions = (),
) -> x509.CertificateRevocationList:
    """Create a CRL signed by ``issuer`` revoking ``(serial, revocation_date)``.

    Carries authorityKeyIdentifier and cRLNumber (unless ``crl_number`` is None).
    ``delta_of`` makes it a delta CRL (critical deltaCRLIndicator naming that base
    CRL number); ``idp`` adds a critical issuingDistributionPoint; entries may be
    full :func:`revoked_entry` objects. ``next_update=None`` omits nextUpdate.
    ``hash_alg`` defaults to SHA-256 (ignored for Ed25519); ``hashes.SHA1()`` works
    as for certificates.
    """
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(last_update)
        .add_extension(_aki_from(issuer), critical=False)
    )
    if next_update is not None:
        builder = builder.next_update(next_update)
    else:  # cryptography's builder insists on nextUpdate: build, then strip it
        builder = builder.next_update(last_update)
    if crl_number is not None:
        builder = builder.add_extension(x509.CRLNumber(crl_number), critical=False)
    if delta_of is not None:
        builder = builder.add_extension(x509.DeltaCRLIndicator(delta_of), critical=True)
    if idp is not None:
        builder = builder.add_extension(idp, critical=True)
    for ext, critical in extra_extensions:
        builder = builder.add_extension(ext, critical=critical)
    for entry in revoked:
        if isinstance(entry, x509.RevokedCertificate):
            builder = builder.add_revoked_certificate(entry)
            continue
        serial, when = entry
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(when)
            .build()
        )
    crl = _sign_crl(builder, issuer.key, hash_alg)
    if next_update is None:
        crl = _without_next_update(crl, issuer.key, hash_alg)
    return crl


def _without_next_update(
    crl: x509.CertificateRevocationList,
    key: PrivateKey,
    hash_alg: hashes.HashAlgorithm,
) -> x509.CertificateRevocationList:
    """Drop the optional nextUpdate from ``crl`` and sign it again."""
    tbs, algid, _ = _der_children(crl.public_bytes(serialization.Encoding.DER))
    children = _der_children(tbs)
    # TBSCertList: version, signature, issuer, thisUpdate, nextUpdate, ...
    del children[4]
    new_tbs = _der_tlv(0x30, b"".join(children))
    algorithm = _signing_hash(key, hash_alg)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        signature = key.sign(new_tbs)
    elif isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(new_tbs, padding.PKCS1v15(), algorithm)  # type: ignore[arg-type]
    else:
        signature = key.sign(new_tbs, ec.ECDSA(algorithm))  # type: ignore[arg-type]
    bit_string = _der_tlv(0x03, b"\x00" + signature)
    return x509.load_der_x509_crl(_der_tlv(0x30, new_tbs + algid + bit_string))


# --------------------------------------------------------------------------
# Crafted (malformed) certificates
# --------------------------------------------------------------------------

# TBSCertificate children: version [0], serial, signature, issuer, validity, subject,
# subjectPublicKeyInfo, then optional [1], [2] unique ids and [3] extensions.
TBS_VERSION, TBS_ISSUER, TBS_SUBJECT, TBS_SPKI = 0, 3, 5, 6


def craft_certificate(
    cert: x509.Certificate,
    issuer: Issued,
    replace: dict[int, bytes],
) -> bytes:
    """DER of ``cert`` with TBS children replaced, signed again by ``issuer``.

    For tests of inputs whose fields do not parse (bad version, names, public key):
    cryptography's builders cannot produce them. ``issuer`` must hold an ECDSA key.
    """
    if not isinstance(issuer.key, ec.EllipticCurvePrivateKey):
        raise TypeError("craft_certificate signs with an ECDSA issuer key")
    tbs, algid, _ = _der_children(cert.public_bytes(serialization.Encoding.DER))
    children = _der_children(tbs)
    for index, der in replace.items():
        children[index] = der
    new_tbs = _der_tlv(0x30, b"".join(children))
    hash_alg = hashes.SHA384() if issuer.key.curve.key_size > 256 else hashes.SHA256()
    signature = issuer.key.sign(new_tbs, ec.ECDSA(hash_alg))
    return _der_tlv(0x30, new_tbs + algid + _der_tlv(0x03, b"\x00" + signature))


def der_tlv(tag: int, content: bytes) -> bytes:
    """One DER element (tag below 0x1f)."""
    return _der_tlv(tag, content)
