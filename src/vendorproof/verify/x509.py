"""X.509 path validation under a code-signing (or time-stamping) profile.

Path building and validation are ``cryptography.x509.verification``; this module only
chooses the profile. Both policies start from cryptography's webpki defaults
(``webpki_defaults_ee()`` / ``webpki_defaults_ca()``, a TLS profile) and relax only
what code signing needs (docs/trust-rules.md lists each relaxation and why):

* leaf: subjectAltName optional (code-signing leaves are named by their subject DN),
  keyUsage required with digitalSignature, the required extendedKeyUsage
  (codeSigning / timeStamping) instead of serverAuth; everything else is webpki's
  (authorityKeyIdentifier required, not a CA, no keyCertSign, no nameConstraints,
  well-formed non-critical AIA, no unknown critical extension);
* CA: webpki CA defaults (basicConstraints CA=true, keyUsage keyCertSign), an EKU on
  a CA is tolerated;
* every certificate: no SHA-1/MD5 signature, RSA keys of at least 2048 bits.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
)
from cryptography.x509.verification import VerificationError as _X509Error

from vendorproof._internal.crypto import MIN_RSA_BITS
from vendorproof.errors import AlgorithmError, CertificateChainError
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models._fields import format_time
from vendorproof.verify.context import VerificationCache, shared_cache

__all__ = [
    "Eku",
    "VerifiedChain",
    "fingerprint",
    "verify_certificate_algorithms",
    "verify_chain",
]

_WEAK_HASHES = (hashes.SHA1, hashes.MD5)


class Eku(enum.Enum):
    """The extended key usage a leaf must carry."""

    CODE_SIGNING = "code-signing"
    TIME_STAMPING = "time-stamping"
    ANY = "any"


_EKU_OIDS = {
    Eku.CODE_SIGNING: ExtendedKeyUsageOID.CODE_SIGNING,
    Eku.TIME_STAMPING: ExtendedKeyUsageOID.TIME_STAMPING,
}


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint of a certificate, lowercase hex."""
    return cert.fingerprint(hashes.SHA256()).hex()


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedChain:
    """A validated chain: ``chain[0]`` is the leaf, ``chain[-1]`` the trust anchor."""

    chain: tuple[x509.Certificate, ...]
    at: datetime

    @property
    def leaf(self) -> x509.Certificate:
        """The end-entity certificate."""
        return self.chain[0]

    @property
    def anchor(self) -> x509.Certificate:
        """The trust anchor the chain ends in."""
        return self.chain[-1]


_NOISE = re.compile(r" \(encountered processing <Certificate\(.*\)>\)$")


def _reason(e: Exception) -> str:
    """Cryptography's message without the certificate repr and wrapper prefixes."""
    text = _NOISE.sub("", str(e))
    for prefix in ("validation failed: ", "Python extension validator failed: "):
        text = text.replace(prefix, "")
    return text.replace("ValueError: ", "")


@functools.lru_cache(maxsize=1024)
def describe(cert: x509.Certificate) -> str:
    """A short human name for a certificate (its subject DN)."""
    return cert.subject.rfc4514_string() or f"serial {cert.serial_number:x}"


def verify_certificate_algorithms(cert: x509.Certificate) -> None:
    """Refuse SHA-1/MD5 certificate signatures and RSA keys below 2048 bits.

    Raises:
        AlgorithmError: naming the certificate and the weak algorithm.
    """
    try:
        alg = cert.signature_hash_algorithm
    except Exception as e:
        raise AlgorithmError(
            f"certificate {describe(cert)}: unsupported signature algorithm: {e}"
        ) from e
    if isinstance(alg, _WEAK_HASHES):
        raise AlgorithmError(
            f"certificate {describe(cert)} is signed with {alg.name.upper()}, "
            "which is refused"
        )
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise AlgorithmError(
            f"certificate {describe(cert)} has an RSA key of {key.key_size} bits "
            f"(minimum {MIN_RSA_BITS})"
        )


def _leaf_policy(eku: Eku) -> ExtensionPolicy:
    """Cryptography's webpki end-entity policy, relaxed only where code signing needs.

    Kept from ``webpki_defaults_ee()`` unchanged: authorityKeyIdentifier required
    (non-critical), basicConstraints absent or CA=false, nameConstraints absent,
    authorityInformationAccess non-critical and well formed, no unknown critical
    extension. Replaced (each in docs/trust-rules.md):

    * subjectAltName optional (webpki requires one: TLS names the server by SAN;
      code-signing leaves are named by their subject DN), but required and critical
      when the subject is empty (RFC 5280 §4.2.1.6);
    * keyUsage required with digitalSignature and without keyCertSign (webpki only
      forbids keyCertSign when keyUsage is present);
    * extendedKeyUsage: codeSigning / timeStamping instead of serverAuth/clientAuth,
      critical for time stamping (RFC 3161 §2.3); with ``Eku.ANY`` any non-empty EKU.
    """

    def verify_san(
        _policy: object,
        cert: x509.Certificate,
        san: x509.SubjectAlternativeName | None,
    ) -> None:
        if len(cert.subject) == 0:
            if san is None:
                msg = "empty subject and no subjectAltName"
                raise ValueError(msg)
            ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            if not ext.critical:
                msg = "subjectAltName must be critical when the subject is empty"
                raise ValueError(msg)
        if san is not None and len(san) == 0:
            msg = "empty subjectAltName"
            raise ValueError(msg)

    def verify_key_usage(
        _policy: object, _cert: x509.Certificate, ku: x509.KeyUsage
    ) -> None:
        if not ku.digital_signature:
            msg = "keyUsage lacks digitalSignature"
            raise ValueError(msg)
        if ku.key_cert_sign:
            msg = "end-entity keyUsage asserts keyCertSign"
            raise ValueError(msg)

    def verify_eku(
        _policy: object, _cert: x509.Certificate, ext: x509.ExtendedKeyUsage | None
    ) -> None:
        if ext is None:
            return
        if len(ext) == 0:
            msg = "empty extendedKeyUsage"
            raise ValueError(msg)
        wanted = _EKU_OIDS.get(eku)
        if wanted is not None and wanted not in ext:
            msg = f"extendedKeyUsage lacks {eku.value}"
            raise ValueError(msg)

    policy = (
        ExtensionPolicy.webpki_defaults_ee()
        .may_be_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, verify_san)
        .require_present(x509.KeyUsage, Criticality.AGNOSTIC, verify_key_usage)
    )
    if eku is Eku.ANY:
        return policy.may_be_present(
            x509.ExtendedKeyUsage, Criticality.AGNOSTIC, verify_eku
        )
    criticality = (
        # RFC 3161 §2.3: the TSA certificate's EKU must be critical.
        Criticality.CRITICAL if eku is Eku.TIME_STAMPING else Criticality.AGNOSTIC
    )
    return policy.require_present(x509.ExtendedKeyUsage, criticality, verify_eku)


def _ca_policy() -> ExtensionPolicy:
    return ExtensionPolicy.webpki_defaults_ca().may_be_present(
        x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None
    )


def verify_chain(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    *,
    at: datetime,
    eku: Eku = Eku.CODE_SIGNING,
    limits: Limits = DEFAULT_LIMITS,
    cache: VerificationCache | None = None,
) -> VerifiedChain:
    """Verify ``leaf`` up to one of ``roots`` as of ``at`` (never an implicit "now").

    A path validated before (``cache.validated_paths``; without ``cache``, the
    process's shared cache) is reused when ``at`` lies inside every one of its
    certificates' validity periods (``verify/context.py``).

    Raises:
        AlgorithmError: a certificate uses a refused algorithm.
        CertificateChainError: no valid path to a trusted root under the profile.
    """
    if not roots:
        raise CertificateChainError("no trust anchors configured for this signer")
    for cert in (leaf, *intermediates):
        verify_certificate_algorithms(cert)
    key = (
        fingerprint(leaf),
        tuple(fingerprint(c) for c in intermediates),
        tuple(sorted(fingerprint(c) for c in roots)),
        eku,
        limits.max_chain_depth,
    )
    paths = (shared_cache() if cache is None else cache).validated_paths
    cached = paths.get(key)
    if cached is not None and all(_valid_at(c, at) for c in cached):
        return VerifiedChain(chain=cached, at=at)
    verifier = (
        PolicyBuilder()
        .store(Store(list(roots)))
        .time(at)
        .max_chain_depth(limits.max_chain_depth)
        .extension_policies(ca_policy=_ca_policy(), ee_policy=_leaf_policy(eku))
        .build_client_verifier()
    )
    try:
        verified = verifier.verify(leaf, list(intermediates))
    except _X509Error as e:
        raise CertificateChainError(
            f"no valid chain to a trusted root at {format_time(at)}: {_reason(e)}"
        ) from e
    chain = tuple(verified.chain)
    for cert in chain[1:]:
        verify_certificate_algorithms(cert)
    paths.put(key, chain)
    return VerifiedChain(chain=chain, at=at)


def _valid_at(cert: x509.Certificate, at: datetime) -> bool:
    return cert.not_valid_before_utc <= at <= cert.not_valid_after_utc
