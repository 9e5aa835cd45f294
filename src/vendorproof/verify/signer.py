"""Who signed a document: signature, algorithms, certificate chain and identity.

Each step is its own check in the report, so an auditor sees *which* part of the trust
path failed. Only the principals of the document's role are consulted: a certification
body's anchor never vouches for a vendor manifest, and vice versa.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa

from vendorproof._internal import crypto
from vendorproof._internal.dn_pattern import glob, parse_dn_pattern
from vendorproof._internal.text import SHORT_ID, shorten
from vendorproof.errors import (
    AlgorithmError,
    CertificateChainError,
    Error,
    InvalidInputError,
    SignatureError,
    VerificationError,
)
from vendorproof.models._fields import format_time
from vendorproof.models.documents import SignedDocument
from vendorproof.models.policy import (
    CertificateProfile,
    Identity,
    Policy,
    Principal,
    RevocationMode,
)
from vendorproof.verify.context import VerificationContext, context_for
from vendorproof.verify.result import CheckResult, Outcome
from vendorproof.verify.revocation import CrlAlgorithms, verify_revocation
from vendorproof.verify.x509 import (
    VerifiedChain,
    describe,
    fingerprint,
    verify_certificate_algorithms,
    verify_chain,
)
from vendorproof.verify.x509_legacy import verify_legacy_chain

if TYPE_CHECKING:
    from vendorproof.verify.keyless import KeylessTrust

__all__ = [
    "SignerCheck",
    "check_certificate_trust",
    "check_signer",
    "identity_matches",
    "keyless_trust",
    "pinned_signers",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class SignerCheck:
    """The checks on one document's signer and, when all passed, who it is."""

    checks: tuple[CheckResult, ...]
    principal: Principal | None
    anchors: tuple[str, ...] = ()  # fingerprints / key ids of the trust anchors used
    key_id: str | None = None  # the primary signer's key id

    @property
    def ok(self) -> bool:
        """True when a trusted principal was established and no check failed.

        A ``warn`` (e.g. a legacy-profile relaxation) is acceptable, as in reports.
        """
        return self.principal is not None and all(
            c.outcome in (Outcome.PASS, Outcome.WARN, Outcome.NOT_APPLICABLE)
            for c in self.checks
        )


_SAN_TYPES = (x509.RFC822Name, x509.DNSName, x509.UniformResourceIdentifier)


def _sans(cert: x509.Certificate) -> list[str]:
    """The email, DNS and URI subjectAltNames (other types never match a pattern)."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return [n.value for n in ext.value if isinstance(n, _SAN_TYPES)]


def identity_matches(identity: Identity, cert: x509.Certificate) -> bool:
    """Subject RDN by RDN, attribute by attribute; SAN one name at a time."""
    if identity.subject is not None and not parse_dn_pattern(identity.subject).matches(
        cert.subject
    ):
        return False
    if identity.san is None:
        return True
    pattern = glob(identity.san)
    return any(pattern.matches(s) for s in _sans(cert))


def _check_algorithm(key: crypto.PublicKey, policy: Policy) -> str:
    name = crypto.algorithm_name(key)
    if name not in policy.signature_algorithms:
        raise AlgorithmError(f"signature algorithm {name} is not allowed by the policy")
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < policy.min_rsa_bits:
        raise AlgorithmError(
            f"RSA key of {key.key_size} bits is below the policy minimum "
            f"{policy.min_rsa_bits}"
        )
    return name


class _Run:
    """Collects the check results of one signed file."""

    def __init__(self, subject: str, requirements: tuple[str, ...]) -> None:
        self.subject = subject
        self.requirements = requirements
        self.results: list[CheckResult] = []

    def add(self, check: str, outcome: Outcome, reason: str) -> None:
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
        self.add(check, Outcome.FAIL, str(e))
        return SignerCheck(checks=tuple(self.results), principal=None)


def check_signer(
    doc: SignedDocument,
    principals: Sequence[Principal],
    *,
    role: str,
    policy: Policy,
    at: datetime,
    time_source: str,
    requirements: tuple[str, ...],
    context: VerificationContext | None = None,
) -> SignerCheck:
    """Establish which trusted principal of ``role`` signed ``doc``, checking each step.

    Never raises for a verification failure: every step is recorded as a check.

    Args:
        doc: the signed document.
        principals: the policy's principals of ``role``.
        role: ``vendor``, ``certification-body``, ...
        policy: the operator policy (algorithms, TSAs, CRLs, Sigstore trust).
        at: the validation time.
        time_source: where ``at`` came from (for the report).
        requirements: the requirement ids every check result carries.
        context: limits, timeouts and memo tables for this verification, at ``at``
            (default: one at ``at`` with the process's shared cache).

    Raises:
        ValueError: ``context`` is for another validation time than ``at``.
    """
    ctx = context_for(at, context)
    run = _Run(doc.file, requirements)
    if not principals:
        return run.fail("signature", f"the policy trusts no {role} signer")
    if doc.keyless:
        return _check_keyless_signer(run, doc, principals, role, policy)
    if doc.certificates:
        return _check_certificate_signer(
            run, doc, principals, role, policy, ctx, time_source
        )
    return _check_key_signer(run, doc, principals, role, policy)


def _verify_any(doc: SignedDocument, key: crypto.PublicKey) -> bytes:
    """Return the signature that verifies with ``key`` (RFC 3161 tokens cover it)."""
    pae = doc.envelope.pae()
    errors: list[str] = []
    for sig in doc.envelope.signatures:
        try:
            crypto.verify(key, sig.sig, pae)
        except SignatureError as e:
            errors.append(str(e))
            continue
        return sig.sig
    raise SignatureError(
        "no DSSE signature verifies with the signing certificate's key"
        + (f" ({errors[0]})" if errors else "")
    )


@dataclass(frozen=True, slots=True)
class _Time:
    at: datetime  # when the chain is validated
    source: str
    signed_at: datetime | None  # proven by a trusted timestamp


def _signing_time(  # noqa: PLR0917 - the inputs of one step
    run: _Run,
    timestamps: Sequence[bytes],
    signature: bytes,
    policy: Policy,
    ctx: VerificationContext,
    time_source: str,
) -> _Time | None:
    """Establish the signing time from RFC 3161 tokens; None when a token is bad."""
    from vendorproof._internal.tsa import verify_timestamp

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
    # Every token must verify (trust-rules.md: a token that does not verify fails
    # the check, never silently dropped); the earliest genTime is the signing time.
    verified: list[tuple[datetime, str, int]] = []
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
            verified.append((info.gen_time, tsa.id, info.serial_number))
            break
        else:
            errors.append(f"token {i}: {'; '.join(reasons)}")
    if errors:
        run.add("timestamp", Outcome.FAIL, "; ".join(errors))
        return None
    gen_time, tsa_id, serial = min(verified)
    others = (
        f"; all {len(verified)} tokens verified, the earliest counts"
        if len(verified) > 1
        else ""
    )
    run.add(
        "timestamp",
        Outcome.PASS,
        f"signed no later than {format_time(gen_time)} per RFC 3161 "
        f"timestamp by {tsa_id!r} (serial {serial:x}){others}",
    )
    return _Time(
        at=gen_time,
        source=f"RFC 3161 timestamp by {tsa_id}",
        signed_at=gen_time,
    )


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _shipped_root(doc: SignedDocument, principals: Sequence[Principal]) -> str | None:
    """Why the bundle's certificates include a root, or None.

    The Sigstore bundle format (and docs/formats.md) allow leaf and intermediates
    only: trust anchors come from the policy, never from the signer. A shipped
    certificate that is self-signed or is one of the role's anchors is refused.
    """
    anchors = {fingerprint(a) for p in principals for a in p.anchors}
    for i, cert in enumerate(doc.certificates):
        if fingerprint(cert) in anchors:
            what = "a trust anchor of the policy"
        elif _self_signed(cert):
            what = "a self-signed (root) certificate"
        else:
            continue
        return (
            f"the bundle's certificates[{i}] ({describe(cert)}) is {what}: a bundle "
            "carries the leaf and intermediates only, never the root (anchors come "
            "from the policy)"
        )
    return None


def _check_certificate_signer(  # noqa: PLR0917 - the inputs of one document
    run: _Run,
    doc: SignedDocument,
    principals: Sequence[Principal],
    role: str,
    policy: Policy,
    ctx: VerificationContext,
    time_source: str,
) -> SignerCheck:
    leaf = doc.certificates[0]
    shipped_root = _shipped_root(doc, principals)
    if shipped_root is not None:
        return run.fail("certificate-chain", shipped_root)
    try:
        key = crypto.as_public_key(leaf.public_key())
        name = _check_algorithm(key, policy)
        for cert in doc.certificates:
            verify_certificate_algorithms(cert)
    except AlgorithmError as e:
        return run.fail("algorithms", e)
    run.add("algorithms", Outcome.PASS, f"{name}; certificates use allowed algorithms")
    try:
        signature = _verify_any(doc, key)
    except SignatureError as e:
        return run.fail("signature", e)
    run.add(
        "signature", Outcome.PASS, f"{name} signature over DSSE PAE by {describe(leaf)}"
    )
    return _trust_certificate(
        run,
        _Signed(
            leaf=leaf,
            untrusted=doc.certificates[1:],
            signature=signature,
            timestamps=doc.timestamps,
            key_id=crypto.key_id(key),
        ),
        principals,
        role,
        policy,
        ctx,
        time_source,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Signed:
    """What a verified signature says about its signer, for the trust step."""

    leaf: x509.Certificate
    untrusted: Sequence[x509.Certificate]  # came with the signature: path candidates
    signature: bytes  # the signature value RFC 3161 tokens cover
    timestamps: Sequence[bytes]  # DER TimeStampResp
    key_id: str | None


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
) -> SignerCheck:
    """The trust step after a signature verified with ``leaf``'s key.

    The signing time (RFC 3161 tokens over ``signature``), the chain to the anchors
    of one of ``principals`` under its certificate profile, revocation with the
    policy's CRLs, ``requireTimestamp`` and the allowed identities; ``earlier`` are
    the checks already made (algorithms, signature), kept at the front.
    """
    run = _Run(subject, requirements)
    run.results.extend(earlier)
    if not principals:
        return run.fail("signature", f"the policy trusts no {role} signer")
    try:
        key_id: str | None = crypto.key_id(crypto.as_public_key(leaf.public_key()))
    except AlgorithmError:
        key_id = None
    signed = _Signed(
        leaf=leaf,
        untrusted=untrusted,
        signature=signature,
        timestamps=timestamps,
        key_id=key_id,
    )
    ctx = context_for(at, context)
    return _trust_certificate(run, signed, principals, role, policy, ctx, time_source)


def _chain_for(
    p: Principal, signed: _Signed, at: datetime, ctx: VerificationContext
) -> tuple[VerifiedChain, tuple[str, ...]]:
    """``p``'s chain for the signer under ``p``'s profile, and the relaxations used.

    Under the legacy profile the strict profile is tried first: a chain it accepts
    needs no relaxation.
    """
    try:
        chain = verify_chain(
            signed.leaf,
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
        signed.leaf,
        signed.untrusted,
        p.anchors,
        pinned_intermediates=p.intermediates,
        at=at,
    )
    return legacy.chain, (
        f"refused by the strict code-signing profile ({strict_error})",
        *legacy.relaxations,
    )


def _trust_certificate(  # noqa: PLR0917 - the inputs of the trust step
    run: _Run,
    signed: _Signed,
    principals: Sequence[Principal],
    role: str,
    policy: Policy,
    ctx: VerificationContext,
    time_source: str,
) -> SignerCheck:
    leaf = signed.leaf
    at = ctx.at
    when = _signing_time(
        run, signed.timestamps, signed.signature, policy, ctx, time_source
    )
    if when is None:
        return SignerCheck(checks=tuple(run.results), principal=None)

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
    names = " -> ".join(describe(c) for c in chains[0][1].chain)
    run.add(
        "certificate-chain",
        Outcome.PASS,
        f"{names} valid at {format_time(when.at)} ({when.source}), "
        + ("legacy profile" if chains[0][2] else "code-signing profile"),
    )
    for p, chain, relaxed in chains:
        matched = next((i for i in p.identities if identity_matches(i, leaf)), None)
        if matched is None:
            continue
        try:
            detail = verify_revocation(
                chain,
                policy.crl_index if policy.crl_index is not None else policy.crls,
                at=at,
                signed_at=when.signed_at,
                mode=policy.revocation_mode,
                algorithms=CrlAlgorithms(min_rsa_bits=policy.min_rsa_bits),
                cache=ctx.cache,
            )
        except CertificateChainError as e:
            return run.fail("revocation", e)
        off = policy.revocation_mode is RevocationMode.OFF
        if not detail:  # a chain of one: the pinned signer has no issuer to revoke it
            detail = f"{describe(leaf)} is a pinned anchor: no issuer, no CRL applies"
        run.add("revocation", Outcome.NOT_APPLICABLE if off else Outcome.PASS, detail)
        for relaxation in relaxed:
            run.add(
                "certificate-profile", Outcome.WARN, f"legacy profile: {relaxation}"
            )
        if p.require_timestamp and when.signed_at is None:
            return run.fail(
                "timestamp",
                f"the policy requires a trusted RFC 3161 timestamp for {role} {p.id!r}",
            )
        run.add(
            "signer-identity",
            Outcome.PASS,
            f"{describe(leaf)} is an allowed identity of {role} {p.id!r} "
            f"({matched.describe()})",
        )
        return SignerCheck(
            checks=tuple(run.results),
            principal=p,
            anchors=(f"sha256:{fingerprint(chain.anchor)}",),
            key_id=signed.key_id,
        )
    ids = ", ".join(p.id for p, _, _ in chains)
    return run.fail(
        "signer-identity",
        f"{describe(leaf)} chains to the anchors of {ids} but matches none of its "
        "allowed signer identities",
    )


def _check_key_signer(
    run: _Run,
    doc: SignedDocument,
    principals: Sequence[Principal],
    role: str,
    policy: Policy,
) -> SignerCheck:
    pae = doc.envelope.pae()
    hint = doc.public_key_hint
    # A key the policy's algorithms refuse never vouches for the document, and only
    # fails it when it is the key that made a signature: a signature that names no key
    # is tried against every pinned key, and a refused key tried first must not hide
    # the allowed key that made it.
    refused: AlgorithmError | None = None
    for sig in doc.envelope.signatures:
        wanted = sig.keyid or hint
        for p in principals:
            for kid, key in p.public_keys.items():
                if wanted and wanted != kid:
                    continue
                try:
                    name = _check_algorithm(key, policy)
                except AlgorithmError as e:
                    if refused is None and _verifies(key, sig.sig, pae):
                        refused = e
                    continue
                try:
                    crypto.verify(key, sig.sig, pae)
                except SignatureError:
                    continue
                run.add("algorithms", Outcome.PASS, name)
                run.add(
                    "signature",
                    Outcome.PASS,
                    f"{name} signature over DSSE PAE by pinned key "
                    f"{shorten(kid, SHORT_ID)} of {role} {p.id!r}",
                )
                run.add(
                    "certificate-chain",
                    Outcome.NOT_APPLICABLE,
                    "raw public key pinned in the policy; no certificate",
                )
                run.add(
                    "signer-identity",
                    Outcome.PASS,
                    f"key {shorten(kid, SHORT_ID)} is pinned for {role} {p.id!r}",
                )
                return SignerCheck(
                    checks=tuple(run.results),
                    principal=p,
                    anchors=(f"key:{kid}",),
                    key_id=kid,
                )
    if refused is not None:
        return run.fail("algorithms", refused)
    return run.fail(
        "signature",
        f"no signature verifies with a public key the policy pins for a {role}",
    )


def _verifies(key: crypto.PublicKey, signature: bytes, pae: bytes) -> bool:
    """Whether ``signature`` verifies with ``key`` (to name a refused signer only)."""
    try:
        crypto.verify(key, signature, pae)
    except (SignatureError, AlgorithmError):
        return False
    return True


def keyless_trust(policy: Policy) -> KeylessTrust:
    """The Sigstore trust the policy configures.

    Raises:
        SignatureError: the policy names no Sigstore trusted root.
    """
    from vendorproof.verify.keyless import KeylessTrust

    if policy.sigstore_trusted_root is None and not policy.sigstore_public_good:
        raise SignatureError(
            "Sigstore keyless bundle, but the policy names no Sigstore trusted root "
            "(sigstore.trustedRoot or sigstore.publicGood)"
        )
    return KeylessTrust(
        trusted_root=policy.sigstore_trusted_root,
        public_good=policy.sigstore_public_good,
    )


def _check_keyless_signer(
    run: _Run,
    doc: SignedDocument,
    principals: Sequence[Principal],
    role: str,
    policy: Policy,
) -> SignerCheck:
    """A statement bundle signed with a Fulcio certificate and logged in Rekor."""
    from vendorproof.verify.keyless import KeylessSigner, verify_statement_bundle

    try:
        trust = keyless_trust(policy)
    except SignatureError as e:
        return run.fail("signature", e)
    errors: list[str] = []
    for p in principals:
        for rule in p.keyless:
            try:
                ptype, payload = verify_statement_bundle(
                    doc.raw,
                    trust=trust,
                    signer=KeylessSigner(identity=rule.identity, issuer=rule.issuer),
                )
            except (VerificationError, InvalidInputError) as e:
                # sigstore reads more of the bundle than our parser (log entries,
                # tokens): what it refuses as malformed fails this signer check.
                errors.append(f"{p.id} ({rule.identity}): {e}")
                continue
            if (ptype, payload) != (doc.envelope.payload_type, doc.envelope.payload):
                errors.append(f"{p.id}: verified payload differs from the envelope")
                continue
            run.add(
                "signature",
                Outcome.PASS,
                f"Sigstore keyless DSSE signature verified offline against "
                f"{trust.description}",
            )
            run.add(
                "certificate-chain",
                Outcome.PASS,
                "Fulcio certificate, SCT and transparency-log inclusion verified by "
                "sigstore-python at the log's integrated time",
            )
            run.add(
                "signer-identity",
                Outcome.PASS,
                f"certificate identity {rule.identity} from issuer {rule.issuer} is a "
                f"keyless signer of {role} {p.id!r}",
            )
            return SignerCheck(
                checks=tuple(run.results),
                principal=p,
                anchors=(f"sigstore:{rule.issuer}:{rule.identity}",),
            )
    detail = "; ".join(errors) or f"the policy names no keyless signer for a {role}"
    return run.fail("signature", f"Sigstore keyless bundle did not verify: {detail}")


def pinned_signers(
    doc: SignedDocument, principals: Sequence[Principal]
) -> dict[str, str]:
    """Key id -> principal id for every pinned key that verifies a signature of ``doc``.

    Each key counts once, however many signatures it made (k-of-n counts keys).
    """
    pae = doc.envelope.pae()
    found: dict[str, str] = {}
    for sig in doc.envelope.signatures:
        for p in principals:
            for kid, key in p.public_keys.items():
                if kid in found or (sig.keyid and sig.keyid != kid):
                    continue
                try:
                    crypto.verify(key, sig.sig, pae)
                except (SignatureError, AlgorithmError):
                    continue
                found[kid] = p.id
    return found
