"""Certificate and CRL loading with limits, complete parsing and file-named errors.

``cryptography`` parses certificates lazily: names, extensions and the public key are
decoded when first read, and a malformed field then raises (``ValueError``, but also
``UnsupportedAlgorithm``, ``TypeError`` or a Rust panic that derives from
``BaseException``). Every certificate and CRL that enters vendorproof (policy anchors
and intermediates, bundle chains, CRLs, command-line files) goes through
:func:`parse_certificate` / :func:`parse_crl` here, which read every field the code
will later read and turn any failure into :class:`InvalidInputError` naming the file
and the field. After that, reading a field can no longer fail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes

from vendorproof.errors import InvalidInputError
from vendorproof.limits import DEFAULT_LIMITS, Limits

__all__ = [
    "load_certificates",
    "load_crl",
    "load_der_certificate",
    "parse_certificate",
    "parse_crl",
]

_BEGIN_CERT = b"-----BEGIN CERTIFICATE-----"
_NOT_OURS = (KeyboardInterrupt, SystemExit, GeneratorExit)
_T = TypeVar("_T")


class _Field:
    """The field being read, for the error message."""

    def __init__(self) -> None:
        self.name = "encoding"


@contextmanager
def _fields(what: str, *, file: str | None, path: str | None) -> Iterator[_Field]:
    current = _Field()
    try:
        yield current
    except InvalidInputError:
        raise
    except BaseException as e:  # Rust panics derive from BaseException
        if isinstance(e, _NOT_OURS):
            raise
        detail = str(e) or type(e).__name__
        raise InvalidInputError(
            f"{what} {current.name} does not parse: {detail}", file=file, path=path
        ) from None


def _name(name: x509.Name) -> None:
    name.rfc4514_string()
    for rdn in name.rdns:
        for attr in rdn:
            _ = (attr.oid.dotted_string, attr.value)


def _general_names(value: object) -> None:
    """Read every general name inside an extension value that holds some."""
    items: list[object] = []
    if isinstance(value, x509.SubjectAlternativeName | x509.IssuerAlternativeName):
        items = list(value)
    elif isinstance(value, x509.CRLDistributionPoints | x509.FreshestCRL):
        for dp in value:
            items += list(dp.full_name or ()) + list(dp.crl_issuer or ())
            _ = (dp.relative_name, dp.reasons)
    elif isinstance(value, x509.CertificateIssuer):
        items = list(value)
    for item in items:
        if isinstance(item, x509.DirectoryName):
            _name(item.value)
        else:
            _ = getattr(item, "value", None)


def _extensions(extensions: x509.Extensions, field: _Field) -> None:
    for ext in extensions:
        field.name = f"extension {ext.oid.dotted_string}"
        _ = (ext.critical, repr(ext.value))
        _general_names(ext.value)


def _signature_hash(read: Callable[[], object]) -> None:
    """Touch the signature hash.

    An unknown algorithm is the algorithm check's business (it fails there), not a
    parse error.
    """
    try:
        read()
    except UnsupportedAlgorithm:
        return


def parse_certificate(
    cert: x509.Certificate, *, file: str | None, path: str | None = None
) -> x509.Certificate:
    """Read every field of ``cert`` that vendorproof uses; return ``cert``.

    Raises:
        InvalidInputError: a field does not parse (the message names it).
    """
    with _fields("certificate", file=file, path=path) as field:
        field.name = "version"
        _ = cert.version
        field.name = "serial number"
        _ = cert.serial_number
        field.name = "issuer"
        _name(cert.issuer)
        field.name = "subject"
        _name(cert.subject)
        field.name = "validity"
        _ = (cert.not_valid_before_utc, cert.not_valid_after_utc)
        field.name = "extensions"
        _extensions(cert.extensions, field)
        field.name = "public key"
        cert.public_key()
        field.name = "signature algorithm"
        _ = (cert.signature_algorithm_oid.dotted_string, cert.signature)
        _signature_hash(lambda: cert.signature_hash_algorithm)
        _ = cert.signature_algorithm_parameters
        field.name = "encoding"
        _ = (cert.tbs_certificate_bytes, cert.fingerprint(hashes.SHA256()))
    return cert


def parse_crl(
    crl: x509.CertificateRevocationList, *, file: str | None, path: str | None = None
) -> x509.CertificateRevocationList:
    """Read every field of ``crl`` that revocation checking uses; return ``crl``.

    Raises:
        InvalidInputError: a field does not parse (the message names it).
    """
    with _fields("CRL", file=file, path=path) as field:
        field.name = "issuer"
        _name(crl.issuer)
        field.name = "thisUpdate/nextUpdate"
        _ = (crl.last_update_utc, crl.next_update_utc)
        field.name = "extensions"
        _extensions(crl.extensions, field)
        for i, revoked in enumerate(crl):
            field.name = f"revokedCertificates[{i}]"
            _ = (revoked.serial_number, revoked.revocation_date_utc)
            _extensions(revoked.extensions, field)
        field.name = "signature algorithm"
        _ = (crl.signature_algorithm_oid.dotted_string, crl.signature)
        _signature_hash(lambda: crl.signature_hash_algorithm)
        field.name = "encoding"
        _ = (crl.tbs_certlist_bytes, crl.fingerprint(hashes.SHA256()))
    return crl


def _load(
    load: Callable[[], _T], message: str, *, file: str | None, path: str | None = None
) -> _T:
    """Run a cryptography loader; any failure becomes InvalidInputError.

    ``InvalidVersion`` is no ``ValueError``; Rust panics are no ``Exception``.
    """
    try:
        return load()
    except BaseException as e:  # Rust panics derive from BaseException
        if isinstance(e, _NOT_OURS):
            raise
        detail = str(e) or type(e).__name__
        raise InvalidInputError(f"{message}: {detail}", file=file, path=path) from None


def load_der_certificate(
    der: bytes, *, file: str | None, path: str | None = None
) -> x509.Certificate:
    """Load one DER certificate and parse it completely."""
    cert = _load(
        lambda: x509.load_der_x509_certificate(der),
        "not a DER X.509 certificate",
        file=file,
        path=path,
    )
    return parse_certificate(cert, file=file, path=path)


def load_certificates(
    data: bytes, *, file: str, limits: Limits = DEFAULT_LIMITS
) -> list[x509.Certificate]:
    """Load one or more PEM certificates (DER accepted for a single certificate).

    Raises:
        InvalidInputError: nothing parsable, more than ``limits.max_certificates``,
            or a certificate with a field that does not parse.
    """
    if _BEGIN_CERT not in data:
        cert = _load(
            lambda: x509.load_der_x509_certificate(data),
            "no PEM or DER certificate found",
            file=file,
        )
        return [parse_certificate(cert, file=file)]
    if data.count(_BEGIN_CERT) > limits.max_certificates:
        raise InvalidInputError(
            f"more than {limits.max_certificates} certificates", file=file
        )
    certs = _load(
        lambda: x509.load_pem_x509_certificates(data),
        "certificate does not parse",
        file=file,
    )
    many = len(certs) > 1
    return [
        parse_certificate(c, file=file, path=f"[{i}]" if many else None)
        for i, c in enumerate(certs)
    ]


def load_crl(data: bytes, *, file: str) -> x509.CertificateRevocationList:
    """Load a PEM or DER certificate revocation list and parse it completely."""
    pem = b"-----BEGIN X509 CRL-----" in data
    crl = _load(
        lambda: x509.load_pem_x509_crl(data) if pem else x509.load_der_x509_crl(data),
        "CRL does not parse",
        file=file,
    )
    return parse_crl(crl, file=file)
