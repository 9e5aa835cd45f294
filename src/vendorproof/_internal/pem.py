"""PEM certificate and CRL loading with limits and file-named errors."""

from __future__ import annotations

from cryptography import x509

from vendorproof.errors import InvalidInputError
from vendorproof.limits import DEFAULT_LIMITS, Limits

_BEGIN_CERT = b"-----BEGIN CERTIFICATE-----"


def load_certificates(
    data: bytes, *, file: str, limits: Limits = DEFAULT_LIMITS
) -> list[x509.Certificate]:
    """Load one or more PEM certificates (DER accepted for a single certificate).

    Raises:
        InvalidInputError: nothing parsable, or more than ``limits.max_certificates``.
    """
    if _BEGIN_CERT not in data:
        try:
            return [x509.load_der_x509_certificate(data)]
        except ValueError:
            raise InvalidInputError(
                "no PEM or DER certificate found", file=file
            ) from None
    if data.count(_BEGIN_CERT) > limits.max_certificates:
        raise InvalidInputError(
            f"more than {limits.max_certificates} certificates", file=file
        )
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as e:
        raise InvalidInputError(f"certificate does not parse: {e}", file=file) from e


def load_crl(data: bytes, *, file: str) -> x509.CertificateRevocationList:
    """Load a PEM or DER certificate revocation list."""
    try:
        if b"-----BEGIN X509 CRL-----" in data:
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError as e:
        raise InvalidInputError(f"CRL does not parse: {e}", file=file) from e
