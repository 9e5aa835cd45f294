"""The legacy certificate profile: signer chains ``cryptography``'s verifier refuses.

Real SOL 004 signers (and many firmware signing PKIs) use X.509 v1 certificates, or v3
certificates without keyUsage / extendedKeyUsage; ``cryptography.x509.verification``
(the strict code-signing profile of ``verify/x509.py``) refuses them. A policy that
sets ``certificateProfile: legacy`` for a vendor or certification body accepts them
through the narrower rule set below, implemented on ``cryptography`` primitives and
following RFC 5280 §6.1 where it applies. Nothing else is relaxed; every relaxation a
chain needed is returned, and becomes a ``warn`` check in the report.

Rules (``docs/trust-rules.md``, "Legacy certificate profile"):

1. **Anchor**: the path ends at a certificate the policy pins (``anchors``),
   compared by SHA-256 fingerprint. A pinned certificate is a trust anchor whether or
   not it is self-signed (RFC 5280 §6.1.1 (d): the anchor is a name and a key); the
   signer certificate may itself be pinned (a path of one certificate, a relaxation).
2. **Signatures**: each certificate's signature verifies with the next one's key and
   its issuer name equals the next one's subject
   (``Certificate.verify_directly_issued_by``, §6.1.3 (a)(1), (a)(4)).
3. **Validity**: every certificate of the path, anchor included, is valid at the
   validation time (§6.1.3 (a)(2)).
4. **Algorithms**: as in the strict profile (``verify_certificate_algorithms``: no
   SHA-1/MD5 signatures, RSA keys of at least 2048 bits); never relaxed.
5. **Issuers** (every certificate above the signer, anchor included):
   basicConstraints, where present, has ``cA`` TRUE (§6.1.4 (k)); keyUsage, where
   present, asserts keyCertSign (§6.1.4 (n)); pathLenConstraint, where present, is
   not exceeded by the non-self-issued intermediates below it (§6.1.4 (l), (m)). A
   v3 intermediate without basicConstraints is refused (§6.1.4 (k)); an X.509 v1 or
   v2 issuer (no extensions) is accepted only when the policy pins it, as an anchor
   or a pinned intermediate (§6.1.4 (k): "verify that certificate i is a CA
   certificate through out-of-band means or reject"), never when it comes with the
   signature; a pinned v1 issuer is a relaxation.
6. **Signer**: no basicConstraints ``cA`` TRUE; keyUsage, where present, asserts
   digitalSignature; extendedKeyUsage, where present, includes codeSigning. Missing
   keyUsage or extendedKeyUsage (or a v1 certificate, which has neither) is a
   relaxation.
7. **Extensions**: a v1 or v2 certificate that carries extensions is refused (§4.1.2.1:
   extensions require v3; read as v1, they would be ignored); a critical extension
   other than basicConstraints, keyUsage,
   extendedKeyUsage and subjectAltName is refused (§4.2: a certificate with an
   unrecognised critical extension must be rejected); nameConstraints and
   policyConstraints are not processed here, so a path carrying them is refused.
8. Paths are at most ``limits.max_chain_depth`` intermediates long; each
   certificate is visited once (breadth first, anchors before other issuers).

Revocation is checked afterwards, on the returned path, with ``verify/revocation.py``
exactly as for strict chains.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from vendorproof.errors import AlgorithmError, CertificateChainError
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models._fields import format_time
from vendorproof.verify.x509 import (
    VerifiedChain,
    describe,
    fingerprint,
    verify_certificate_algorithms,
)

__all__ = ["LegacyChain", "verify_legacy_chain"]

# Critical extensions this profile processes (rule 7).
_PROCESSED_CRITICAL = frozenset(
    {
        ExtensionOID.BASIC_CONSTRAINTS,
        ExtensionOID.KEY_USAGE,
        ExtensionOID.EXTENDED_KEY_USAGE,
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
    }
)
_UNPROCESSED = frozenset(
    {ExtensionOID.NAME_CONSTRAINTS, ExtensionOID.POLICY_CONSTRAINTS}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class LegacyChain:
    """A path accepted under the legacy profile and the relaxations it needed."""

    chain: VerifiedChain
    relaxations: tuple[str, ...]


def _ext(
    cert: x509.Certificate, oid: x509.ObjectIdentifier
) -> x509.ExtensionType | None:
    try:
        return cert.extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None


def _extensions(cert: x509.Certificate) -> x509.Extensions:
    try:
        return cert.extensions
    except ValueError as e:  # duplicate or malformed extensions
        raise CertificateChainError(
            f"{describe(cert)}: extensions do not parse: {e}"
        ) from None


def _check_extensions(cert: x509.Certificate) -> None:
    """Rule 7: no unprocessed critical extension, no name or policy constraints.

    A certificate whose version field is not v3 must carry no extensions (RFC 5280
    §4.1.2.1): read as a v1 certificate, its extensions would be ignored, a present
    basicConstraints or extendedKeyUsage that says otherwise overruled.
    """
    extensions = _extensions(cert)
    if _is_v1(cert) and len(extensions):
        raise CertificateChainError(
            f"{describe(cert)} is an X.509 {cert.version.name} certificate with "
            "extensions (RFC 5280 §4.1.2.1: extensions require v3)"
        )
    for ext in extensions:
        if ext.oid in _UNPROCESSED:
            raise CertificateChainError(
                f"{describe(cert)} carries {ext.oid._name}, which the legacy profile "  # noqa: SLF001
                "does not process"
            )
        if ext.critical and ext.oid not in _PROCESSED_CRITICAL:
            raise CertificateChainError(
                f"{describe(cert)} has an unrecognised critical extension "
                f"{ext.oid.dotted_string}"
            )


def _check_time(cert: x509.Certificate, at: datetime) -> None:
    if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
        raise CertificateChainError(
            f"{describe(cert)} is not valid at {format_time(at)} (valid "
            f"{format_time(cert.not_valid_before_utc)} .. "
            f"{format_time(cert.not_valid_after_utc)})"
        )


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Rule 2: names chain and ``issuer``'s key verifies ``cert``'s signature."""
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _is_v1(cert: x509.Certificate) -> bool:
    return cert.version is not x509.Version.v3


def _check_signer(leaf: x509.Certificate, relaxed: list[str]) -> None:
    """Rule 6."""
    name = describe(leaf)
    if _is_v1(leaf):
        relaxed.append(
            f"X.509 {leaf.version.name} signer certificate {name}: no keyUsage or "
            "extendedKeyUsage, code signing is not asserted"
        )
        return
    bc = _ext(leaf, ExtensionOID.BASIC_CONSTRAINTS)
    if isinstance(bc, x509.BasicConstraints) and bc.ca:
        raise CertificateChainError(f"signer certificate {name} is a CA (cA TRUE)")
    ku = _ext(leaf, ExtensionOID.KEY_USAGE)
    if ku is None:
        relaxed.append(f"signer certificate {name} has no keyUsage")
    elif isinstance(ku, x509.KeyUsage) and not ku.digital_signature:
        raise CertificateChainError(
            f"signer certificate {name}: keyUsage lacks digitalSignature"
        )
    eku = _ext(leaf, ExtensionOID.EXTENDED_KEY_USAGE)
    if eku is None:
        relaxed.append(
            f"signer certificate {name} has no extendedKeyUsage (codeSigning)"
        )
    elif (
        isinstance(eku, x509.ExtendedKeyUsage)
        and ExtendedKeyUsageOID.CODE_SIGNING not in eku
    ):
        raise CertificateChainError(
            f"signer certificate {name}: extendedKeyUsage lacks codeSigning"
        )


def _issuer_refusal(
    cert: x509.Certificate, *, pinned: bool, relaxed: list[str]
) -> str | None:
    """Rule 5 for one issuer, apart from pathLen: why it cannot issue, or None."""
    name = describe(cert)
    if _is_v1(cert):
        if not pinned:
            return (
                f"X.509 {cert.version.name} issuer {name} came with the signature and "
                "is not pinned: a CA without basicConstraints is accepted only when "
                "the policy pins it (RFC 5280 §6.1.4 (k))"
            )
        relaxed.append(
            f"X.509 {cert.version.name} issuer {name} (no basicConstraints) accepted "
            "as a CA because the policy pins it"
        )
        return None
    bc = _ext(cert, ExtensionOID.BASIC_CONSTRAINTS)
    if bc is None:
        if not pinned:
            return f"issuer {name} has no basicConstraints (RFC 5280 §6.1.4 (k))"
        relaxed.append(
            f"issuer {name} has no basicConstraints; accepted as a CA because the "
            "policy pins it"
        )
    elif isinstance(bc, x509.BasicConstraints) and not bc.ca:
        return f"issuer {name} is not a CA (basicConstraints cA FALSE)"
    ku = _ext(cert, ExtensionOID.KEY_USAGE)
    if isinstance(ku, x509.KeyUsage) and not ku.key_cert_sign:
        return f"issuer {name}: keyUsage lacks keyCertSign (RFC 5280 §6.1.4 (n))"
    return None


def _path_length(path: Sequence[x509.Certificate]) -> None:
    """Rule 5, pathLenConstraint (RFC 5280 §6.1.4 (l), (m))."""
    for k in range(1, len(path)):
        bc = _ext(path[k], ExtensionOID.BASIC_CONSTRAINTS)
        if not isinstance(bc, x509.BasicConstraints) or bc.path_length is None:
            continue
        below = sum(1 for c in path[1:k] if c.issuer != c.subject)
        if below > bc.path_length:
            raise CertificateChainError(
                f"{describe(path[k])} allows {bc.path_length} intermediate(s) below "
                f"it (pathLenConstraint), the path has {below}"
            )


def _build(
    leaf: x509.Certificate,
    untrusted: Sequence[x509.Certificate],
    pinned: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    *,
    at: datetime,
    limits: Limits,
) -> tuple[list[x509.Certificate], list[str]]:
    """Breadth-first search from the signer to a pinned anchor (rules 1, 2, 3, 5)."""
    anchor_prints = {fingerprint(r) for r in roots}
    pinned_prints = anchor_prints | {fingerprint(c) for c in pinned}
    candidates: dict[str, x509.Certificate] = {}
    for cert in (*roots, *pinned, *untrusted):
        candidates.setdefault(fingerprint(cert), cert)
    start = fingerprint(leaf)
    parent: dict[str, str | None] = {start: None}
    queue: deque[tuple[str, int]] = deque([(start, 0)])
    refused: list[str] = []
    while queue:
        current, depth = queue.popleft()
        cert = leaf if current == start else candidates[current]
        if current in anchor_prints:
            path = [cert]
            node = parent[current]
            while node is not None:
                path.append(leaf if node == start else candidates[node])
                node = parent[node]
            return path[::-1], refused
        if depth > limits.max_chain_depth:
            continue
        # Anchors first, so the shortest path to a pinned certificate is found.
        ordered = sorted(candidates.items(), key=lambda kv: kv[0] not in anchor_prints)
        for fp, issuer in ordered:
            if fp in parent or issuer.subject != cert.issuer:
                continue
            if not _issued_by(cert, issuer):
                refused.append(f"{describe(issuer)} did not sign {describe(cert)}")
                continue
            try:
                _check_time(issuer, at)
                verify_certificate_algorithms(issuer)
                _check_extensions(issuer)
            except (CertificateChainError, AlgorithmError) as e:
                refused.append(str(e))
                continue
            reason = _issuer_refusal(issuer, pinned=fp in pinned_prints, relaxed=[])
            if reason is not None:
                refused.append(reason)
                continue
            parent[fp] = current
            queue.append((fp, depth + 1))
    detail = "; ".join(dict.fromkeys(refused)) or "no certificate issued it"
    raise CertificateChainError(
        f"no chain of signatures from {describe(leaf)} to a pinned anchor at "
        f"{format_time(at)}: {detail}"
    )


def verify_legacy_chain(
    leaf: x509.Certificate,
    untrusted: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    *,
    pinned_intermediates: Sequence[x509.Certificate] = (),
    at: datetime,
    limits: Limits = DEFAULT_LIMITS,
) -> LegacyChain:
    """Verify ``leaf`` up to one of ``roots`` under the legacy profile, as of ``at``.

    Args:
        leaf: the signer certificate.
        untrusted: certificates that came with the signature (path candidates only).
        roots: the certificates the policy pins as anchors.
        pinned_intermediates: intermediates the policy pins (a v1 one may issue).
        at: the validation time.
        limits: ``max_chain_depth`` bounds the path.

    Returns:
        The path (leaf first, anchor last) and the relaxations it needed.

    Raises:
        AlgorithmError: a certificate of the path uses a refused algorithm.
        CertificateChainError: no path satisfies the rules; the message says why.
    """
    if not roots:
        raise CertificateChainError("no trust anchors configured for this signer")
    verify_certificate_algorithms(leaf)
    _check_time(leaf, at)
    _check_extensions(leaf)
    relaxed: list[str] = []
    _check_signer(leaf, relaxed)
    path, _ = _build(leaf, untrusted, pinned_intermediates, roots, at=at, limits=limits)
    if len(path) == 1:
        relaxed.append(
            f"the signer certificate {describe(leaf)} is itself pinned as the anchor "
            "(no issuing CA)"
        )
    pinned_prints = {fingerprint(c) for c in (*roots, *pinned_intermediates)}
    for issuer in path[1:]:
        # Re-run to collect the relaxations of the path actually taken.
        reason = _issuer_refusal(
            issuer, pinned=fingerprint(issuer) in pinned_prints, relaxed=relaxed
        )
        if reason is not None:  # pragma: no cover - _build refused such issuers
            raise CertificateChainError(reason)
    _path_length(path)
    return LegacyChain(
        chain=VerifiedChain(chain=tuple(path), at=at), relaxations=tuple(relaxed)
    )
