"""Revocation from operator-supplied CRLs (intake desks are often air-gapped).

Path validation stays with ``cryptography.x509.verification``; this module checks the
validated chain against CRLs the policy names. A CRL counts for a certificate only when
its issuer name is the certificate's issuer, its signature verifies with the issuing
certificate's key (the next one in the validated chain), and it is current at the
validation time (``lastUpdate <= at <= nextUpdate``). A certificate listed in such a CRL
is revoked, except when a trusted RFC 3161 timestamp proves the signature was made
before the revocation date (the signature stays valid; the report says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from vendorproof.errors import CertificateChainError
from vendorproof.models._fields import format_time
from vendorproof.models.policy import RevocationMode
from vendorproof.verify.x509 import VerifiedChain, describe

__all__ = ["CrlIndex", "RevocationMode", "check_revocation"]


# CRL signature checks are pure functions of the two DER encodings; replaying many
# records checks the same few CRLs again and again.
_SIGNED_BY: dict[tuple[bytes, bytes], bool] = {}
_CACHE_LIMIT = 4096


def _signed_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    sha = hashes.SHA256()
    key_id = (crl.fingerprint(sha), issuer.fingerprint(sha))
    cached = _SIGNED_BY.get(key_id)
    if cached is not None:
        return cached
    key = issuer.public_key()
    valid = isinstance(
        key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey
    ) and crl.is_signature_valid(key)
    if len(_SIGNED_BY) >= _CACHE_LIMIT:
        _SIGNED_BY.clear()
    _SIGNED_BY[key_id] = valid
    return valid


class CrlIndex:
    """CRLs grouped by issuer name (built once per policy; lookups are per check)."""

    def __init__(self, crls: Sequence[x509.CertificateRevocationList]) -> None:
        self._by_issuer: dict[bytes, list[x509.CertificateRevocationList]] = {}
        for crl in crls:
            self._by_issuer.setdefault(crl.issuer.public_bytes(), []).append(crl)

    def issued_by(self, name: x509.Name) -> Sequence[x509.CertificateRevocationList]:
        """The CRLs whose issuer is ``name``."""
        return self._by_issuer.get(name.public_bytes(), ())


def check_revocation(
    chain: VerifiedChain,
    crls: Sequence[x509.CertificateRevocationList] | CrlIndex,
    *,
    at: datetime,
    signed_at: datetime | None,
    mode: RevocationMode,
) -> str:
    """Check every certificate of ``chain`` but the anchor against ``crls``.

    Args:
        chain: the validated chain, leaf first, anchor last.
        crls: the CRLs the policy supplies.
        at: the validation time CRLs must be current at.
        signed_at: the signing time proven by a trusted timestamp, if any.
        mode: how missing revocation data is treated.

    Returns:
        A one-line account of what was checked.

    Raises:
        CertificateChainError: a certificate is revoked, or (``require``) has no
            current CRL.
    """
    if mode is RevocationMode.OFF:
        return "revocation checking is off in the policy"
    index = crls if isinstance(crls, CrlIndex) else CrlIndex(crls)
    notes: list[str] = []
    for cert, issuer in zip(chain.chain, chain.chain[1:], strict=False):
        current = [
            crl
            for crl in index.issued_by(cert.issuer)
            if _signed_by(crl, issuer)
            and crl.last_update_utc <= at
            and (crl.next_update_utc is None or at <= crl.next_update_utc)
        ]
        if not current:
            if mode is RevocationMode.REQUIRE:
                raise CertificateChainError(
                    f"no current CRL from {describe(issuer)} for {describe(cert)} at "
                    f"{format_time(at)} (policy requires revocation data)"
                )
            notes.append(f"no CRL for {describe(cert)}")
            continue
        entries = [
            e
            for crl in current
            if (e := crl.get_revoked_certificate_by_serial_number(cert.serial_number))
        ]
        if not entries:
            notes.append(f"{describe(cert)} not revoked")
            continue
        revoked_at = min(e.revocation_date_utc for e in entries)
        if signed_at is None or revoked_at <= signed_at:
            raise CertificateChainError(
                f"{describe(cert)} (serial {cert.serial_number:x}) is revoked since "
                f"{format_time(revoked_at)}"
            )
        notes.append(
            f"{describe(cert)} revoked {format_time(revoked_at)}, after the "
            f"timestamped signing time {format_time(signed_at)}: the signature stays "
            "valid (revocation after a trusted timestamp)"
        )
    return "; ".join(notes)
