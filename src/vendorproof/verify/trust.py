"""The trust step every X.509 signer goes through, whatever the signature format.

After a format's verifier has checked a signature with the signing certificate's key
(DSSE in ``verify/signer.py``, CMS in ``verify/cms_signer.py``, Notation envelopes in
``verify/notation.py``, cosign simple signing in ``verify/cosign.py``), this module
decides who signed: the signing time (RFC 3161 tokens over the signature value, or an
authentic signing time the format vouches for), the certificate chain to the anchors
of one of the role's principals under that principal's certificate profile,
revocation with the operator's CRLs, ``requireTimestamp`` and the allowed identities.
Each step is its own check in the report.

``TrustActions`` lets a format relax what a failed step does, as the Notary Project
trust policy's verification levels do (docs/trust-rules.md, "Notation verification
levels"): ``log`` records the failure as ``warn`` and goes on, ``skip`` does not run
the step. The chain to an anchor is never relaxed: without it there is no principal to
attribute the signature to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from vendorproof._internal import crypto
from vendorproof._internal.dn_pattern import glob, parse_dn_pattern
from vendorproof.errors import (
    AlgorithmError,
    CertificateChainError,
    Error,
    InvalidInputError,
    VerificationError,
)
from vendorproof.models._fields import format_time
from vendorproof.models.policy import (
    Action,
    CertificateProfile,
    Identity,
    Policy,
    Principal,
    RevocationMode,
)
from vendorproof.verify.context import VerificationContext, context_for
from vendorproof.verify.result import CheckResult, Outcome
from vendorproof.verify.revocation import (
    CrlAlgorithms,
    RevocationTimeRule,
    verify_revocation,
)
from vendorproof.verify.x509 import VerifiedChain, describe, fingerprint, verify_chain
from vendorproof.verify.x509_legacy import verify_legacy_chain

__all__ = [
    "ENFORCE_ALL",
    "CheckRun",
    "SignerCheck",
    "SigningTime",
    "TrustActions",
    "check_certificate_trust",
    "identity_matches",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class SignerCheck:
    """The checks on one document's signer and, when all passed, who it is."""

    checks: tuple[CheckResult, ...]
    principal: Principal | None
    anchors: tuple[str, ...] = ()  # fingerprints / key ids of the trust anchors used
    key_id: str | None = None  # the primary signer's key id
    #: (key id, principal id) of every signature that verified over the same
    #: content, the primary's included: a signed thing that carries several
    #: signatures (an OCI image's referrers) counts each toward k-of-n.
    signers: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        """True when a trusted principal was established and no check failed.

        A ``warn`` (e.g. a legacy-profile relaxation) is acceptable, as in reports.
        """
        return self.principal is not None and all(
            c.outcome in (Outcome.PASS, Outcome.WARN, Outcome.NOT_APPLICABLE)
            for c in self.checks
        )


class CheckRun:
    """Collects the check results of one signed file (its subject)."""

    def __init__(self, subject: str, requirements: tuple[str, ...]) -> None:
        self.subject = subject
        self.requirements = requirements
        self.results: list[CheckResult] = []

    def add(self, check: str, outcome: Outcome, reason: str) -> None:
        """Record one check."""
        self.results.append(
            CheckResult(
                check=check,
                subject=self.subject,
                requirements=self.requirements,
                outcome=outcome,
                reason=reason,
            )
        )

    def fail(self, check: str, e: Error | str) -> SignerCheck:
        """Record a failed check; the signer is not established."""
        self.add(check, Outcome.FAIL, str(e))
        return SignerCheck(checks=tuple(self.results), principal=None)

    def failed(self, check: str, action: Action, reason: str) -> bool:
        """Record a failure as ``action`` says; True when it is fatal (enforced)."""
        if action is Action.ENFORCE:
            self.add(check, Outcome.FAIL, reason)
            return True
        self.add(check, Outcome.WARN, f"{reason} (logged, not enforced, by the policy)")
        return False


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustActions:
    """What a failed step of the trust step does (``Action.ENFORCE``: it fails).

    ``timestamp`` covers the RFC 3161 token and ``requireTimestamp``; ``revocation``
    the CRL check (``skip``: not run); ``identity`` the allowed-identity match (the
    chain to the principal's anchors is required whatever it says).
    """

    timestamp: Action = Action.ENFORCE
    revocation: Action = Action.ENFORCE
    identity: Action = Action.ENFORCE


ENFORCE_ALL = TrustActions()


def _enforce_all(_: Principal) -> TrustActions:
    return ENFORCE_ALL


@dataclass(frozen=True, slots=True)
class SigningTime:
    """A signing time the signature format itself proves (not an RFC 3161 token).

    Notation's ``notary.x509.signingAuthority`` scheme: the ``authenticSigningTime``
    a trusted signing authority signed. The chain is validated at it, but it is the
    signing key's own statement: it never excuses a revocation of that key (a
    revoked key can write any time), only an RFC 3161 token's time can.
    """

    at: datetime
    source: str


_SAN_TYPES = (x509.RFC822Name, x509.DNSName, x509.UniformResourceIdentifier)


def _sans(cert: x509.Certificate) -> list[str]:
    """The email, DNS and URI subjectAltNames (other types never match a pattern)."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return [n.value for n in ext.value if isinstance(n, _SAN_TYPES)]


def identity_matches(identity: Identity, cert: x509.Certificate) -> bool:
    """Subject RDN by RDN (or attribute by attribute); SAN one name at a time."""
    if identity.any_signer:
        return True
    if identity.subject is not None and not parse_dn_pattern(identity.subject).matches(
        cert.subject
    ):
        return False
    if identity.subject_includes is not None and not parse_dn_pattern(
        identity.subject_includes
    ).found_in(cert.subject):
        return False
    if identity.san is None:
        return True
    pattern = glob(identity.san)
    return any(pattern.matches(s) for s in _sans(cert))


@dataclass(frozen=True, slots=True)
class _Time:
    at: datetime  # when the chain is validated
    source: str
    signed_at: datetime | None  # a trusted signing time (requireTimestamp)
    #: the latest time a trusted RFC 3161 token puts the signature at (genTime +
    #: accuracy): the only time that may excuse a later revocation (never the
    #: signer's own claim)
    stamped: datetime | None = None
    #: genTime - accuracy, genTime + accuracy: every certificate of the chain must
    #: be valid over the whole range (RFC 3161 §2.4.2; Notary Project, "Validate
    #: Trusted Timestamp"); None when the time is exact
    span: tuple[datetime, datetime] | None = None


def _signing_time(  # noqa: PLR0917 - the inputs of one step
    run: CheckRun,
    timestamps: Sequence[bytes],
    signature: bytes,
    policy: Policy,
    ctx: VerificationContext,
    time_source: str,
    action: Action,
) -> _Time | None:
    """Establish the signing time from RFC 3161 tokens; None when a token is bad."""
    at = ctx.at
    fallback = _Time(at=at, source=time_source, signed_at=None)
    if not timestamps:
        run.add(
            "timestamp",
            Outcome.NOT_APPLICABLE,
            f"no RFC 3161 timestamp: chain validated at {format_time(at)} "
            f"({time_source})",
        )
        return fallback
    if not policy.timestamp_authorities:
        run.add(
            "timestamp",
            Outcome.WARN,
            "RFC 3161 timestamp present but the policy trusts no timestamping "
            f"authority: chain validated at {format_time(at)} ({time_source})",
        )
        return fallback
    from vendorproof._internal.tsa import verify_timestamp  # only with tokens

    # Every token must verify (trust-rules.md: a token that does not verify fails
    # the check, never silently dropped); the token with the earliest upper limit
    # (genTime + accuracy) dates the signature.
    verified: list[tuple[datetime, datetime, datetime, str, int]] = []
    errors: list[str] = []
    for i, der in enumerate(timestamps):
        reasons: list[str] = []
        for tsa in policy.timestamp_authorities:
            try:
                info = verify_timestamp(
                    der,
                    signature,
                    roots=tsa.anchors,
                    intermediates=tsa.intermediates,
                    verified=ctx.cache.timestamp_tokens,
                )
            except (VerificationError, InvalidInputError) as e:
                # A malformed or rejected TimeStampResp is a failed token, not a
                # malformed bundle: the bundle stores the DER without decoding it.
                reasons.append(f"{tsa.id}: {e}")
                continue
            if info.gen_time > at:
                reasons.append(
                    f"{tsa.id}: genTime {format_time(info.gen_time)} is after the "
                    f"validation time {format_time(at)}"
                )
                continue
            verified.append(
                (info.latest, info.earliest, info.gen_time, tsa.id, info.serial_number)
            )
            break
        else:
            errors.append(f"token {i}: {'; '.join(reasons)}")
    if errors:
        reason = "; ".join(errors)
        if run.failed("timestamp", action, reason):
            return None
        return fallback
    latest, earliest, gen_time, tsa_id, serial = min(verified)
    others = (
        f"; all {len(verified)} tokens verified, the earliest counts"
        if len(verified) > 1
        else ""
    )
    accuracy = (
        f", genTime {format_time(gen_time)} ± {(latest - gen_time).total_seconds():g} s"
        if latest != gen_time
        else ""
    )
    run.add(
        "timestamp",
        Outcome.PASS,
        f"signed no later than {format_time(latest)} per RFC 3161 "
        f"timestamp by {tsa_id!r} (serial {serial:x}{accuracy}){others}",
    )
    return _Time(
        at=gen_time,
        source=f"RFC 3161 timestamp by {tsa_id}",
        signed_at=latest,
        stamped=latest,
        span=None if earliest == latest else (earliest, latest),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Signed:
    """What a verified signature says about its signer, for the trust step."""

    leaf: x509.Certificate
    untrusted: Sequence[x509.Certificate]  # came with the signature: path candidates
    key_id: str | None
    pinned_signer: bool  # the leaf may itself be an anchor (a chain of one)


_STRICTNESS = {Action.SKIP: 0, Action.LOG: 1, Action.ENFORCE: 2}


def check_certificate_trust(
    leaf: x509.Certificate,
    untrusted: Sequence[x509.Certificate],
    principals: Sequence[Principal],
    *,
    subject: str,
    earlier: Sequence[CheckResult],
    signature: bytes,
    timestamps: Sequence[bytes],
    role: str,
    policy: Policy,
    at: datetime,
    time_source: str,
    requirements: tuple[str, ...],
    context: VerificationContext | None = None,
    signing_time: SigningTime | None = None,
    pinned_signer: bool = False,
    actions: Callable[[Principal], TrustActions] | None = None,
    revocation_rule: RevocationTimeRule = RevocationTimeRule.EFFECTIVE,
) -> SignerCheck:
    """The trust step after a signature verified with ``leaf``'s key.

    The signing time (RFC 3161 tokens over ``signature``, or ``signing_time`` when
    the format proves one), the chain to the anchors of one of ``principals`` under
    its certificate profile, revocation with the policy's CRLs, ``requireTimestamp``
    and the allowed identities; ``earlier`` are the checks already made
    (algorithms, signature), kept at the front. Never raises for a failed step.

    Args:
        leaf: the signing certificate.
        untrusted: certificates that came with the signature (path candidates only).
        principals: the role's principals whose anchors may vouch.
        subject: the signed file (the checks' subject).
        earlier: checks already made, kept first.
        signature: the signature value RFC 3161 tokens cover.
        timestamps: DER ``TimeStampResp`` tokens over ``signature``.
        role: ``vendor``, ``certification-body`` (for messages).
        policy: TSAs, CRLs, revocation mode, algorithms.
        at: the validation time.
        time_source: where ``at`` came from (for the report).
        requirements: the requirement ids every check carries.
        context: limits, timeouts and memo tables at ``at``.
        signing_time: a signing time the format proves; no RFC 3161 step then.
        pinned_signer: the format allows a signing certificate that is itself a
            pinned anchor (a chain of one; Notary Project "Other requirements" 1).
        actions: what a failed step does, per principal (default: it fails).
        revocation_rule: which revocations a trusted timestamp before them
            excuses (``verify.revocation.RevocationTimeRule``).
    """
    run = CheckRun(subject, requirements)
    run.results.extend(earlier)
    if not principals:
        return run.fail("signature", f"the policy trusts no {role} signer")
    try:
        key_id: str | None = crypto.key_id(crypto.as_public_key(leaf.public_key()))
    except AlgorithmError:
        key_id = None
    signed = _Signed(
        leaf=leaf, untrusted=untrusted, key_id=key_id, pinned_signer=pinned_signer
    )
    ctx = context_for(at, context)
    actions_of = actions or _enforce_all
    if signing_time is not None:
        when: _Time | None = _Time(
            at=signing_time.at, source=signing_time.source, signed_at=signing_time.at
        )  # no ``stamped``: the format's own time never excuses a revocation
    else:
        # One token serves every principal: the strictest of their actions applies.
        stamp = max(
            (actions_of(p).timestamp for p in principals), key=_STRICTNESS.__getitem__
        )
        when = _signing_time(
            run, timestamps, signature, policy, ctx, time_source, stamp
        )
    if when is None:
        return SignerCheck(checks=tuple(run.results), principal=None)
    return _trust_certificate(
        run,
        signed,
        principals,
        role,
        policy,
        ctx,
        when,
        actions_of,
        revocation_rule=revocation_rule,
    )


def _chain_for(
    p: Principal, signed: _Signed, at: datetime, ctx: VerificationContext
) -> tuple[VerifiedChain, tuple[str, ...]]:
    """``p``'s chain for the signer under ``p``'s profile, and the relaxations used.

    Under the legacy profile the strict profile is tried first: a chain it accepts
    needs no relaxation.
    """
    leaf = signed.leaf
    if signed.pinned_signer and fingerprint(leaf) in {
        fingerprint(a) for a in p.anchors
    }:
        if not leaf.not_valid_before_utc <= at <= leaf.not_valid_after_utc:
            msg = f"{describe(leaf)} is not valid at {format_time(at)}"
            raise CertificateChainError(msg)
        return VerifiedChain(chain=(leaf,), at=at), ()
    try:
        chain = verify_chain(
            leaf,
            (*signed.untrusted, *p.intermediates),
            p.anchors,
            at=at,
            limits=ctx.limits,
            cache=ctx.cache,
        )
    except (CertificateChainError, AlgorithmError) as e:
        if p.certificate_profile is not CertificateProfile.LEGACY:
            raise
        strict_error = e
    else:
        return chain, ()
    legacy = verify_legacy_chain(
        leaf,
        signed.untrusted,
        p.anchors,
        pinned_intermediates=p.intermediates,
        at=at,
    )
    return legacy.chain, (
        f"refused by the strict code-signing profile ({strict_error})",
        *legacy.relaxations,
    )


def _check_span(chain: VerifiedChain, when: _Time) -> None:
    """Every certificate of ``chain`` is valid over the timestamp's whole range.

    RFC 3161 §2.4.2: the time is genTime within its accuracy; the Notary Project
    ("Validate Trusted Timestamp") requires the range to lie "entirely within the
    signing certificate and certificate chain's validity period".

    Raises:
        CertificateChainError: naming the certificate that is not.
    """
    if when.span is None:
        return
    earliest, latest = when.span
    for cert in chain.chain:
        if (
            not cert.not_valid_before_utc
            <= earliest
            <= latest
            <= cert.not_valid_after_utc
        ):
            msg = (
                f"{describe(cert)} (valid {format_time(cert.not_valid_before_utc)} to "
                f"{format_time(cert.not_valid_after_utc)}) is not valid over the "
                f"whole time of the timestamp, {format_time(earliest)} to "
                f"{format_time(latest)} (genTime ± accuracy, RFC 3161 §2.4.2)"
            )
            raise CertificateChainError(msg)


def _revocation(  # noqa: PLR0917 - the inputs of one step
    run: CheckRun,
    chain: VerifiedChain,
    policy: Policy,
    ctx: VerificationContext,
    when: _Time,
    action: Action,
    *,
    pinned: bool,
    rule: RevocationTimeRule,
) -> bool:
    """Check revocation as ``action`` says; False when the failure is fatal."""
    leaf = chain.leaf
    if pinned:
        run.add(
            "revocation",
            Outcome.NOT_APPLICABLE,
            f"{describe(leaf)} is itself the pinned anchor: no issuer can revoke it "
            "(remove it from the policy to distrust it)",
        )
        return True
    if action is Action.SKIP:
        run.add(
            "revocation",
            Outcome.NOT_APPLICABLE,
            "not checked: the policy skips revocation for this signer",
        )
        return True
    try:
        detail = verify_revocation(
            chain,
            policy.crl_index if policy.crl_index is not None else policy.crls,
            at=ctx.at,
            signed_at=when.stamped,
            mode=policy.revocation_mode,
            algorithms=CrlAlgorithms(min_rsa_bits=policy.min_rsa_bits),
            cache=ctx.cache,
            time_rule=rule,
        )
    except CertificateChainError as e:
        return not run.failed("revocation", action, str(e))
    off = policy.revocation_mode is RevocationMode.OFF
    if not detail:  # a chain of one: the pinned signer has no issuer to revoke it
        detail = f"{describe(leaf)} is a pinned anchor: no issuer, no CRL applies"
    run.add("revocation", Outcome.NOT_APPLICABLE if off else Outcome.PASS, detail)
    return True


def _trust_certificate(  # noqa: PLR0912, PLR0917 - the steps of the trust step
    run: CheckRun,
    signed: _Signed,
    principals: Sequence[Principal],
    role: str,
    policy: Policy,
    ctx: VerificationContext,
    when: _Time,
    actions_of: Callable[[Principal], TrustActions],
    *,
    revocation_rule: RevocationTimeRule,
) -> SignerCheck:
    leaf = signed.leaf
    chains: list[tuple[Principal, VerifiedChain, tuple[str, ...]]] = []
    errors: list[str] = []
    # Principals whose identity patterns match the leaf first: path validation is the
    # expensive step, and the first such chain decides.
    ordered = sorted(
        principals,
        key=lambda p: not any(identity_matches(i, leaf) for i in p.identities),
    )
    for p in ordered:
        if not p.anchors:
            continue
        try:
            chain, relaxed = _chain_for(p, signed, when.at, ctx)
            _check_span(chain, when)
        except (CertificateChainError, AlgorithmError) as e:
            errors.append(f"{p.id}: {e}")
            continue
        chains.append((p, chain, relaxed))
        if any(identity_matches(i, leaf) for i in p.identities):
            break
    if not chains:
        detail = "; ".join(errors) or "no trust anchors configured"
        return run.fail(
            "certificate-chain",
            f"{describe(leaf)} does not chain to any trusted {role} anchor "
            f"({when.source}): {detail}",
        )
    first = chains[0]
    names = " -> ".join(describe(c) for c in first[1].chain)
    if first[2]:
        profile = "legacy profile"
    elif len(first[1].chain) == 1:
        profile = "the signing certificate is pinned by the policy as its own anchor"
    else:
        profile = "code-signing profile"
    valid = (
        f"at {format_time(when.at)}"
        if when.span is None
        else f"from {format_time(when.span[0])} to {format_time(when.span[1])}"
    )
    run.add(
        "certificate-chain",
        Outcome.PASS,
        f"{names} valid {valid} ({when.source}), {profile}",
    )
    matched_chain = next(
        (
            (p, chain, relaxed, i)
            for p, chain, relaxed in chains
            for i in p.identities
            if identity_matches(i, leaf)
        ),
        None,
    )
    if matched_chain is None:
        ids = ", ".join(p.id for p, _, _ in chains)
        reason = (
            f"{describe(leaf)} chains to the anchors of {ids} but matches none of "
            "its allowed signer identities"
        )
        # Notary Project "authenticity: log": the chain to the principal's anchors
        # names the vendor; only the trusted-identity part is logged.
        logged = next(
            (c for c in chains if actions_of(c[0]).identity is not Action.ENFORCE),
            None,
        )
        if logged is None:
            return run.fail("signer-identity", reason)
        p, chain, relaxed = logged
        identity = reason
    else:
        p, chain, relaxed, matched = matched_chain
        identity = (
            f"{describe(leaf)} is an allowed identity of {role} {p.id!r} "
            f"({matched.describe()})"
        )
    acts = actions_of(p)
    pinned = len(chain.chain) == 1 and signed.pinned_signer
    if not _revocation(
        run,
        chain,
        policy,
        ctx,
        when,
        acts.revocation,
        pinned=pinned,
        rule=revocation_rule,
    ):
        return SignerCheck(checks=tuple(run.results), principal=None)
    for relaxation in relaxed:
        run.add("certificate-profile", Outcome.WARN, f"legacy profile: {relaxation}")
    if (
        p.require_timestamp
        and when.signed_at is None
        and run.failed(
            "timestamp",
            acts.timestamp,
            f"the policy requires a trusted RFC 3161 timestamp for {role} {p.id!r}",
        )
    ):
        return SignerCheck(checks=tuple(run.results), principal=None)
    if matched_chain is None:
        run.failed("signer-identity", acts.identity, identity)
    else:
        run.add("signer-identity", Outcome.PASS, identity)
    return SignerCheck(
        checks=tuple(run.results),
        principal=p,
        anchors=(f"sha256:{fingerprint(chain.anchor)}",),
        key_id=signed.key_id,
    )
