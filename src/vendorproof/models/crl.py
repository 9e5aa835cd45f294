"""CRLs as parsed once per policy, with what RFC 5280 processing needs.

The decision (is a certificate revoked, proven not revoked) is
``vendorproof.verify.revocation``'s; this module only reads each CRL's extensions
(RFC 5280 §5.2, §5.3) and groups the CRLs by issuer, so that a policy can carry the
index it is loaded with.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.x509.oid import CRLEntryExtensionOID, ExtensionOID

from vendorproof.models._fields import format_time

__all__ = ["REASON_NAMES", "Crl", "CrlEntry", "CrlIndex", "ext_value"]


#: CRL extensions revocation checking processes (RFC 5280 §5.2.1-§5.2.7).
CRL_EXTENSIONS = frozenset(
    {
        ExtensionOID.AUTHORITY_KEY_IDENTIFIER,  # §5.2.1
        ExtensionOID.ISSUER_ALTERNATIVE_NAME,  # §5.2.2
        ExtensionOID.CRL_NUMBER,  # §5.2.3
        ExtensionOID.DELTA_CRL_INDICATOR,  # §5.2.4
        ExtensionOID.ISSUING_DISTRIBUTION_POINT,  # §5.2.5
        ExtensionOID.FRESHEST_CRL,  # §5.2.6
        ExtensionOID.AUTHORITY_INFORMATION_ACCESS,  # §5.2.7
    }
)
#: CRL entry extensions revocation checking processes (RFC 5280 §5.3.1-§5.3.3).
ENTRY_EXTENSIONS = frozenset(
    {
        CRLEntryExtensionOID.CRL_REASON,  # §5.3.1
        CRLEntryExtensionOID.INVALIDITY_DATE,  # §5.3.2
        CRLEntryExtensionOID.CERTIFICATE_ISSUER,  # §5.3.3 (indirect CRLs only)
    }
)
#: ReasonFlags of §5.2.5 / §4.2.1.13 (bit 0 "unused" has no flag).
_COMPROMISE = frozenset(
    {
        x509.ReasonFlags.key_compromise,
        x509.ReasonFlags.ca_compromise,
        x509.ReasonFlags.aa_compromise,
    }
)
REASON_NAMES = {
    x509.ReasonFlags.unspecified: "unspecified",
    x509.ReasonFlags.key_compromise: "keyCompromise",
    x509.ReasonFlags.ca_compromise: "cACompromise",
    x509.ReasonFlags.affiliation_changed: "affiliationChanged",
    x509.ReasonFlags.superseded: "superseded",
    x509.ReasonFlags.cessation_of_operation: "cessationOfOperation",
    x509.ReasonFlags.certificate_hold: "certificateHold",
    x509.ReasonFlags.privilege_withdrawn: "privilegeWithdrawn",
    x509.ReasonFlags.aa_compromise: "aACompromise",
    x509.ReasonFlags.remove_from_crl: "removeFromCRL",
}


def ext_value(
    extensions: x509.Extensions, oid: x509.ObjectIdentifier
) -> x509.ExtensionType | None:
    """The value of extension ``oid``, or None when it is absent."""
    try:
        return extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None


@dataclass(frozen=True, slots=True)
class CrlEntry:
    """One CRL entry for a certificate (RFC 5280 §5.1.2.6, §5.3)."""

    revoked_at: datetime
    reason: x509.ReasonFlags | None
    invalid_since: datetime | None

    @property
    def effective(self) -> datetime | None:
        """When the revocation takes effect; None: at an unknown earlier time.

        The invalidityDate (§5.3.2) is when the key is known or suspected to have
        been compromised; signatures after it are untrusted even if made before the
        revocation date. A compromise without an invalidityDate has no such bound.
        """
        if self.invalid_since is not None:
            return min(self.revoked_at, self.invalid_since)
        if self.reason in _COMPROMISE:
            return None
        return self.revoked_at

    def describe(self) -> str:
        """The entry as one line: date, reason, invalidity date."""
        parts = [f"since {format_time(self.revoked_at)}"]
        if self.reason is not None:
            parts.append(f"reason {REASON_NAMES[self.reason]}")
        if self.invalid_since is not None:
            parts.append(f"invalid since {format_time(self.invalid_since)}")
        return ", ".join(parts)


def _entry(revoked: x509.RevokedCertificate) -> CrlEntry:
    reason = ext_value(revoked.extensions, CRLEntryExtensionOID.CRL_REASON)
    invalidity = ext_value(revoked.extensions, CRLEntryExtensionOID.INVALIDITY_DATE)
    return CrlEntry(
        revoked_at=revoked.revocation_date_utc,
        reason=reason.reason if isinstance(reason, x509.CRLReason) else None,
        invalid_since=(
            invalidity.invalidity_date_utc
            if isinstance(invalidity, x509.InvalidityDate)
            else None
        ),
    )


class Crl:
    """A CRL with what RFC 5280 processing needs, worked out once per policy."""

    def __init__(self, crl: x509.CertificateRevocationList, position: int) -> None:
        self.crl = crl
        self.label = f"CRL #{position}"
        exts = crl.extensions
        number = ext_value(exts, ExtensionOID.CRL_NUMBER)
        self.number = number.crl_number if isinstance(number, x509.CRLNumber) else None
        delta = ext_value(exts, ExtensionOID.DELTA_CRL_INDICATOR)
        self.delta_base = (
            delta.crl_number if isinstance(delta, x509.DeltaCRLIndicator) else None
        )
        idp = ext_value(exts, ExtensionOID.ISSUING_DISTRIBUTION_POINT)
        self.idp = idp if isinstance(idp, x509.IssuingDistributionPoint) else None
        self.indirect = self.idp is not None and self.idp.indirect_crl
        if self.number is not None:
            self.label += f" (cRLNumber {self.number})"
        self.problem = self._problem()

    def _problem(self) -> str | None:
        """Why this CRL can never prove "not revoked", if it cannot."""
        for ext in self.crl.extensions:
            if ext.critical and ext.oid not in CRL_EXTENSIONS:
                # §5.2: a CRL with a critical extension the application cannot
                # process MUST NOT be used to determine the status of certificates.
                return f"unrecognised critical CRL extension {ext.oid.dotted_string}"
        for revoked in self.crl:
            for ext in revoked.extensions:
                known = ext.oid in ENTRY_EXTENSIONS and (
                    ext.oid != CRLEntryExtensionOID.CERTIFICATE_ISSUER or self.indirect
                )
                if ext.critical and not known:
                    # §5.3: the same for a critical CRL entry extension.
                    return (
                        "unrecognised critical CRL entry extension "
                        f"{ext.oid.dotted_string} (serial {revoked.serial_number:x})"
                    )
        if self.idp is not None and self.idp.only_contains_attribute_certs:
            return "covers attribute certificates only (§6.3.3 (b)(2)(iv))"
        return None

    def entries_for(self, cert: x509.Certificate) -> Iterator[CrlEntry]:
        """The entries of this CRL that refer to ``cert`` (§5.3.3 for indirect CRLs)."""
        if not self.indirect:
            # Entries of a direct CRL all belong to the CRL issuer.
            found = self.crl.get_revoked_certificate_by_serial_number(
                cert.serial_number
            )
            if found is not None:
                yield _entry(found)
            return
        # §5.3.3: certificateIssuer names the issuer of this and every following
        # entry up to the next certificateIssuer; before the first, the CRL issuer.
        current = [self.crl.issuer]
        for revoked in self.crl:
            names = ext_value(
                revoked.extensions, CRLEntryExtensionOID.CERTIFICATE_ISSUER
            )
            if isinstance(names, x509.CertificateIssuer):
                current = names.get_values_for_type(x509.DirectoryName)
            if revoked.serial_number == cert.serial_number and cert.issuer in current:
                yield _entry(revoked)

    def current(self, at: datetime) -> bool:
        """ThisUpdate <= at <= nextUpdate (§5.1.2.4, §5.1.2.5, §6.3.3 (a))."""
        nxt = self.crl.next_update_utc
        return nxt is not None and self.crl.last_update_utc <= at <= nxt

    def applies_to(self, base: Crl) -> bool:
        """Whether this delta CRL may be combined with complete CRL ``base`` (§5.2.4).

        Same issuer, same scope (issuingDistributionPoint), the base's cRLNumber at
        least the delta's BaseCRLNumber, and the delta's cRLNumber greater than the
        base's.
        """
        return (
            self.delta_base is not None
            and base.delta_base is None
            and self.crl.issuer == base.crl.issuer
            and self.idp == base.idp
            and self.number is not None
            and base.number is not None
            and base.number >= self.delta_base
            and self.number > base.number
        )


class CrlIndex:
    """CRLs grouped by issuer name (built once per policy; lookups are per check)."""

    def __init__(self, crls: Sequence[x509.CertificateRevocationList]) -> None:
        self._by_issuer: dict[bytes, list[Crl]] = {}
        for i, crl in enumerate(crls):
            info = Crl(crl, i)
            self._by_issuer.setdefault(crl.issuer.public_bytes(), []).append(info)

    def issued_by(self, name: x509.Name) -> Sequence[Crl]:
        """The CRLs whose issuer is ``name``."""
        return self._by_issuer.get(name.public_bytes(), ())
