"""Revocation from operator-supplied CRLs (intake desks are often air-gapped).

Path validation stays with ``cryptography.x509.verification``; this module checks every
certificate of the validated chain but the anchor against the CRLs the policy names,
following RFC 5280 §6.3.3 (CRL processing) with the CRL and CRL-entry extensions of
§5.2 and §5.3. Each certificate gets two independent answers:

*Is it revoked?* Any CRL whose issuer name is the certificate's issuer and whose
signature verifies with the issuing certificate's key (the next one in the validated
chain) and that lists the certificate's serial number says "revoked", whatever its
currency, scope, kind (complete or delta) or extensions: revocation data that says
"revoked" is never ignored (fail closed). An entry with reason removeFromCRL is not a
revocation (§5.3.1). In an indirect CRL the certificateIssuer entry extension decides
which issuer an entry belongs to (§5.3.3).

*Is it proven not revoked?* Only by complete CRLs (§5.2.4: a delta CRL never stands
alone) that are usable (§6.3.3 (b), (f), (g)):

* issued by the certificate's issuer and signed with the issuing certificate's key,
  whose keyUsage asserts cRLSign (§4.2.1.3, §6.3.3 (f));
* signed with an algorithm the policy allows (digest and RSA key size);
* current: ``thisUpdate <= at <= nextUpdate``; a CRL without nextUpdate is never
  current (§5.1.2.5 requires it);
* no critical CRL extension and no critical CRL-entry extension this module does not
  process (§5.2, §5.3);
* in scope for the certificate per its issuingDistributionPoint (§5.2.5, §6.3.3 (b)):
  distribution point names match the certificate's cRLDistributionPoints, user / CA
  certificates only, never attribute certificates only;
* the reasons they cover (onlySomeReasons ∩ the distribution point's reasons,
  §6.3.3 (d)) add up, over all usable CRLs, to all reasons.

A revoked certificate fails, except when a trusted RFC 3161 timestamp proves the
signature was made before the revocation took effect (``RevocationTimeRule``). Under
the default rule (``EFFECTIVE``) the revocation takes effect at the revocation date,
or at the invalidityDate (§5.3.2) when that is earlier; a keyCompromise (or
cACompromise / aACompromise) revocation without an invalidityDate takes effect at an
unknown time, so no timestamp can save a signature. Under the Notary Project's rule
(``INVALIDITY_DATE``, ``trust-store-trust-policy.md``, "Revocation Checking with
CRL") only an invalidityDate can: an entry without one revokes the certificate
whatever the timestamp says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtensionOID

from vendorproof._internal.crypto import MIN_RSA_BITS
from vendorproof.errors import CertificateChainError
from vendorproof.models._fields import format_time
from vendorproof.models.crl import REASON_NAMES, Crl, CrlEntry, CrlIndex, ext_value
from vendorproof.models.policy import RevocationMode
from vendorproof.verify.context import VerificationCache, shared_cache
from vendorproof.verify.x509 import VerifiedChain, describe

__all__ = ["CrlIndex", "RevocationMode", "RevocationTimeRule", "verify_revocation"]

ALL_REASONS = frozenset(
    r
    for r in x509.ReasonFlags
    if r not in {x509.ReasonFlags.unspecified, x509.ReasonFlags.remove_from_crl}
)
#: The CRL signature digests allowed when no policy narrows them.
DEFAULT_CRL_DIGESTS = frozenset({"sha256", "sha384", "sha512"})


def _signed_by(
    crl: x509.CertificateRevocationList,
    issuer: x509.Certificate,
    cache: VerificationCache,
) -> bool:
    """Whether ``issuer`` signed ``crl``, remembered in ``cache.crl_signatures``.

    The answer is a pure function of the two DER encodings.
    """
    sha = hashes.SHA256()
    key_id = (crl.fingerprint(sha), issuer.fingerprint(sha))
    cached = cache.crl_signatures.get(key_id)
    if cached is not None:
        return cached
    key = issuer.public_key()
    valid = isinstance(
        key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
    ) and crl.is_signature_valid(key)
    cache.crl_signatures.put(key_id, valid)
    return valid


class RevocationTimeRule(Enum):
    """When a trusted timestamp before a revocation keeps a signature valid."""

    #: RFC 5280: before the revocation date, or before the invalidityDate when that
    #: is earlier; never for a compromise without an invalidityDate.
    EFFECTIVE = "effective"
    #: Notary Project (``trust-store-trust-policy.md``, "Revocation Checking with
    #: CRL"): only before an invalidityDate the entry states (and its revocation
    #: date); an entry without an invalidityDate revokes, timestamp or not.
    INVALIDITY_DATE = "invalidity-date"


@dataclass(frozen=True, slots=True, kw_only=True)
class CrlAlgorithms:
    """What a CRL signature may use (the policy's digest and RSA rules)."""

    digests: frozenset[str] = DEFAULT_CRL_DIGESTS
    min_rsa_bits: int = MIN_RSA_BITS

    def refusal(
        self, crl: x509.CertificateRevocationList, issuer: x509.Certificate
    ) -> str | None:
        """Why the CRL's signature algorithm is refused, or None."""
        try:
            alg = crl.signature_hash_algorithm
        except Exception as e:  # noqa: BLE001 - UnsupportedAlgorithm and kin
            oid = crl.signature_algorithm_oid.dotted_string
            return f"unsupported signature algorithm {oid} ({e})"
        key = issuer.public_key()
        if alg is None:
            if isinstance(key, ed25519.Ed25519PublicKey):
                return None
            return "signature algorithm without a digest"
        if alg.name not in self.digests:
            return f"signed with {alg.name.upper()}, which the policy does not allow"
        if isinstance(key, rsa.RSAPublicKey) and key.key_size < self.min_rsa_bits:
            return (
                f"signed with an RSA key of {key.key_size} bits "
                f"(minimum {self.min_rsa_bits})"
            )
        return None


def _crl_sign(issuer: x509.Certificate) -> bool:
    """The issuing certificate's keyUsage asserts cRLSign (§4.2.1.3, §6.3.3 (f))."""
    ku = ext_value(issuer.extensions, ExtensionOID.KEY_USAGE)
    return isinstance(ku, x509.KeyUsage) and ku.crl_sign


def _distribution_points(cert: x509.Certificate) -> list[x509.DistributionPoint]:
    dps = ext_value(cert.extensions, ExtensionOID.CRL_DISTRIBUTION_POINTS)
    return list(dps) if isinstance(dps, x509.CRLDistributionPoints) else []


def _dp_names(
    full_name: Sequence[x509.GeneralName] | None,
    relative_name: x509.RelativeDistinguishedName | None,
    base: x509.Name,
) -> set[x509.GeneralName]:
    """A DistributionPointName as general names.

    §4.2.1.13: a relative name is appended to the CRL issuer's name.
    """
    if full_name is not None:
        return set(full_name)
    if relative_name is not None:
        return {x509.DirectoryName(x509.Name([*base.rdns, relative_name]))}
    return set()


def _is_ca(cert: x509.Certificate) -> bool:
    bc = ext_value(cert.extensions, ExtensionOID.BASIC_CONSTRAINTS)
    return isinstance(bc, x509.BasicConstraints) and bc.ca


def _scope(
    crl: Crl, cert: x509.Certificate, dp: x509.DistributionPoint | None
) -> tuple[frozenset[x509.ReasonFlags], str]:
    """The reasons ``crl`` covers for ``cert`` via distribution point ``dp``.

    ``dp`` None stands for "CRLs not specified in a distribution point but issued by
    the certificate issuer", the last pass of §6.3.3. The second value says why the
    CRL covers no reason, when it covers none.
    """
    idp = crl.idp
    crl_issuer = crl.crl.issuer
    # §6.3.3 (b)(1): a distribution point with a cRLIssuer is served by that
    # (indirect) CRL issuer only; otherwise the CRL issuer is the certificate issuer,
    # which the lookup by issuer name and the signature check guarantee.
    if (
        dp is not None
        and dp.crl_issuer
        and not (crl.indirect and x509.DirectoryName(crl_issuer) in dp.crl_issuer)
    ):
        return frozenset(), "the distribution point names another CRL issuer"
    if idp is not None:
        # §6.3.3 (b)(2)(i): distribution point names must match.
        idp_names = _dp_names(idp.full_name, idp.relative_name, crl_issuer)
        if idp_names:
            if dp is None:
                return frozenset(), (
                    "its issuingDistributionPoint names a distribution point the "
                    "certificate does not list"
                )
            if dp.full_name is not None or dp.relative_name is not None:
                base = (
                    dp.crl_issuer[0].value
                    if dp.crl_issuer
                    and isinstance(dp.crl_issuer[0], x509.DirectoryName)
                    else cert.issuer
                )
                names = _dp_names(dp.full_name, dp.relative_name, base)
            else:
                names = set(dp.crl_issuer or ())
            if not idp_names & names:
                return frozenset(), "distribution point names do not match"
        # §6.3.3 (b)(2)(ii), (iii)
        if idp.only_contains_user_certs and _is_ca(cert):
            return frozenset(), "it covers end-entity certificates only"
        if idp.only_contains_ca_certs and not _is_ca(cert):
            return frozenset(), "it covers CA certificates only"
    # §6.3.3 (d): interim reasons mask.
    dp_reasons = frozenset(dp.reasons) if dp is not None and dp.reasons else ALL_REASONS
    idp_reasons = (
        frozenset(idp.only_some_reasons)
        if idp is not None and idp.only_some_reasons
        else ALL_REASONS
    )
    return dp_reasons & idp_reasons, ""


@dataclass(slots=True)
class _Status:
    revocations: list[tuple[Crl, CrlEntry]]
    reasons: frozenset[x509.ReasonFlags]
    used: list[str]  # labels of the CRLs that established the reasons
    rejected: list[str]  # why the other CRLs of the issuer did not count
    seen: int  # CRLs under the issuer's name


def _status(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    index: CrlIndex,
    at: datetime,
    algorithms: CrlAlgorithms,
    *,
    cache: VerificationCache,
) -> _Status:
    candidates = index.issued_by(cert.issuer)
    authentic = [c for c in candidates if _signed_by(c.crl, issuer, cache)]
    # A refused algorithm is named even when cryptography cannot verify it at all
    # (SHA-1 signatures no longer verify): an unverified CRL is no evidence either way.
    rejected = [
        f"{c.label}: "
        + (
            algorithms.refusal(c.crl, issuer)
            or f"signature does not verify with the key of {describe(issuer)}"
        )
        for c in candidates
        if c not in authentic
    ]
    revocations = [
        (c, e)
        for c in authentic
        for e in c.entries_for(cert)
        if e.reason is not x509.ReasonFlags.remove_from_crl
    ]
    usable: list[Crl] = []
    can_sign = _crl_sign(issuer)
    for c in authentic:
        refusal = algorithms.refusal(c.crl, issuer)
        why = (
            "it is a delta CRL (§5.2.4: usable only with its complete base CRL)"
            if c.delta_base is not None
            else c.problem
            or refusal
            or (
                None
                if can_sign
                else f"the keyUsage of {describe(issuer)} lacks cRLSign (§6.3.3 (f))"
            )
            or (
                None
                if c.current(at)
                else "not current at the validation time"
                + ("" if c.crl.next_update_utc is not None else " (no nextUpdate)")
            )
        )
        if why is None:
            usable.append(c)
        else:
            rejected.append(f"{c.label}: {why}")
    reasons: frozenset[x509.ReasonFlags] = frozenset()
    used: list[str] = []
    out_of_scope: dict[str, str] = {}
    for dp in (*_distribution_points(cert), None):
        for c in usable:
            interim, why = _scope(c, cert, dp)
            if not interim:
                out_of_scope.setdefault(c.label, why or "it covers no reason")
                continue
            # §6.3.3 (e): a CRL counts only when it adds a reason.
            if interim <= reasons:
                continue
            reasons |= interim
            out_of_scope.pop(c.label, None)
            deltas = [
                d.label
                for d in authentic
                if d.delta_base is not None and d.current(at) and d.applies_to(c)
            ]
            used.append(
                c.label + (f" with delta {', '.join(deltas)}" if deltas else "")
            )
    rejected += [f"{label}: out of scope, {why}" for label, why in out_of_scope.items()]
    return _Status(
        revocations=revocations,
        reasons=reasons,
        used=used,
        rejected=rejected,
        seen=len(candidates),
    )


def _reason_list(reasons: frozenset[x509.ReasonFlags]) -> str:
    return ", ".join(sorted(REASON_NAMES[r] for r in reasons)) or "none"


def verify_revocation(
    chain: VerifiedChain,
    crls: Sequence[x509.CertificateRevocationList] | CrlIndex,
    *,
    at: datetime,
    signed_at: datetime | None,
    mode: RevocationMode,
    algorithms: CrlAlgorithms | None = None,
    cache: VerificationCache | None = None,
    time_rule: RevocationTimeRule = RevocationTimeRule.EFFECTIVE,
) -> str:
    """Check every certificate of ``chain`` but the anchor against ``crls``.

    Args:
        chain: the validated chain, leaf first, anchor last.
        crls: the CRLs the policy supplies.
        at: the validation time CRLs must be current at.
        signed_at: the latest time a trusted RFC 3161 timestamp proves the
            signature existed at, if any; never a time the signer asserts itself.
        mode: how missing revocation data is treated.
        algorithms: the signature algorithms a CRL may use (default: SHA-256/384/512,
            RSA keys of at least 2048 bits).
        cache: where CRL signature checks are remembered (default: the process's
            shared cache, ``verify/context.py``).
        time_rule: which revocations a timestamp before them leaves the signature
            valid after.

    Returns:
        A one-line account of what was checked.

    Raises:
        CertificateChainError: a certificate is revoked, or (``require``) no
            complete, current, in-scope CRL covers it for every reason.
    """
    if mode is RevocationMode.OFF:
        return "revocation checking is off in the policy"
    index = crls if isinstance(crls, CrlIndex) else CrlIndex(crls)
    algs = algorithms or CrlAlgorithms()
    memo = shared_cache() if cache is None else cache
    notes: list[str] = []
    for cert, issuer in zip(chain.chain, chain.chain[1:], strict=False):
        status = _status(cert, issuer, index, at, algs, cache=memo)
        if status.revocations:
            notes.append(
                _judge_revocations(cert, status.revocations, signed_at, time_rule)
            )
            continue
        if status.reasons == ALL_REASONS:
            notes.append(f"{describe(cert)} not revoked per {'; '.join(status.used)}")
            continue
        if status.seen == 0:
            gap = f"no CRL from {describe(issuer)}"
        elif status.reasons:
            gap = (
                f"usable CRLs cover only the reasons {_reason_list(status.reasons)}"
                f" ({'; '.join(status.rejected) or 'no other CRL'})"
            )
        else:
            gap = f"no usable CRL ({'; '.join(status.rejected)})"
        if mode is RevocationMode.REQUIRE:
            raise CertificateChainError(
                f"no current CRL from {describe(issuer)} that is complete and in scope "
                f"covers {describe(cert)} at {format_time(at)} (policy requires "
                f"revocation data): {gap}"
            )
        notes.append(f"no CRL for {describe(cert)} proves it not revoked: {gap}")
    return "; ".join(notes)


def _judge_revocations(
    cert: x509.Certificate,
    revocations: Sequence[tuple[Crl, CrlEntry]],
    signed_at: datetime | None,
    rule: RevocationTimeRule,
) -> str:
    """Fail unless a trusted signing time precedes every revocation's effect."""
    name = f"{describe(cert)} (serial {cert.serial_number:x})"
    for crl, entry in revocations:
        effective = entry.effective
        if signed_at is None:
            raise CertificateChainError(
                f"{name} is revoked {entry.describe()} per {crl.label}"
            )
        if rule is RevocationTimeRule.INVALIDITY_DATE and entry.invalid_since is None:
            raise CertificateChainError(
                f"{name} is revoked {entry.describe()} per {crl.label}: an entry "
                "without an invalidityDate revokes the certificate whatever the "
                'timestamp (Notary Project trust policy, "Revocation Checking with '
                'CRL")'
            )
        if effective is None:
            raise CertificateChainError(
                f"{name} is revoked {entry.describe()} per {crl.label}: a key "
                "compromise without an invalidity date leaves no time before which "
                "signatures are trusted, timestamp or not"
            )
        if signed_at >= effective:
            raise CertificateChainError(
                f"{name} is revoked {entry.describe()} per {crl.label}: the "
                f"timestamped signing time {format_time(signed_at)} is not before "
                f"{format_time(effective)}"
            )
    first = min((e for _, e in revocations), key=lambda e: e.effective or e.revoked_at)
    return (
        f"{name} revoked {first.describe()}, after the timestamped signing time "
        f"{format_time(signed_at or first.revoked_at)}: the signature stays valid "
        "(revocation after a trusted timestamp)"
    )
