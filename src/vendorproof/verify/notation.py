"""Notary Project (Notation) signatures over OCI manifests, verified offline.

Implements the verifier side of the Notary Project signature specification
(``specs/signature-specification.md``) for its two envelopes, JWS JSON
(``application/jose+json``) and ``COSE_Sign1_Tagged`` (``application/cose``). The
envelopes are decoded, their header rules applied and their signatures verified in
``verify/notation_envelope.py``; this module decides what a verified envelope is
worth: the target artifact, the certificate chain, the signing scheme and time, and
the trust step.

What is checked, each as its own recorded check (docs/trust-rules.md, "Notation"):

``notation-envelope``
    the envelope is well formed; ``alg`` is one of PS256/384/512, ES256/384/512
    ("Supported alg header values"; ``none`` and HMAC refused); ``crit`` is in the
    protected header, names only known headers that are present, and lists
    ``io.cncf.notary.signingScheme`` and, when present, ``authenticSigningTime`` and
    ``expiry`` ("Signed Attributes"); ``cty`` is the Notary payload type; a JWS
    header name is not both protected and unprotected (RFC 7515 §7.2.1).
``algorithms``
    ``alg`` is the algorithm the signing key dictates ("Algorithm Selection"), and the
    key type is allowed by the policy.
``signature``
    the signature verifies with the first ``x5c`` / ``x5chain`` certificate.
``target-artifact``
    the payload's ``targetArtifact`` has the manifest's ``mediaType``, ``digest`` and
    ``size`` ("Payload").
``signing-scheme`` / ``timestamp``
    ``notary.x509``: the ``signingTime`` claim is recorded but never trusted; the
    chain is validated at ``at`` unless an RFC 3161 ``timestampSignature`` over the
    signature bytes verifies against a TSA of the policy, then at its genTime.
    ``notary.x509.signingAuthority``: accepted only from vendors whose
    ``notation.schemes`` list it, with a chain ending in their
    ``notation.signingAuthorities``; the chain is validated at
    ``authenticSigningTime`` ("Signing time", ``specs/signing-scheme.md``), which
    never excuses a revocation (the signing key's own claim).
``expiry``
    ``io.cncf.notary.expiry`` after the validation time ("Expiry").
``certificate-chain``, ``revocation``, ``signer-identity``
    the chain is ordered leaf first, each certificate issued by the next, ending in
    a self-signed root ("Certificate Requirements", "Other requirements" 1-2); that
    root is pinned by a principal of the role; the leaf meets the Notary leaf
    profile; the path validates under vendorproof's code-signing profile
    (``verify.x509.verify_chain``) and is checked against the operator's CRLs
    (``verify.revocation``): the trust step every signer shares
    (``verify.trust.check_certificate_trust``). A chain of one self-signed
    certificate is accepted when the policy pins exactly that certificate. A
    revoked certificate fails under the Notary Project's rule ("Revocation Checking
    with CRL"): only a CRL entry's invalidityDate after the RFC 3161 timestamp
    leaves the signature valid.

Each vendor's ``notation`` rules (Notary Project verification level and overrides)
decide whether a failed authenticity (identity), authentic timestamp, expiry or
revocation check fails the signature or is recorded as ``warn``; integrity never is
relaxed (docs/trust-rules.md, "Notation verification levels").
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from vendorproof._internal import crypto
from vendorproof._internal.jsonio import parse_json
from vendorproof.errors import (
    AlgorithmError,
    CertificateChainError,
    InvalidInputError,
    SignatureError,
)
from vendorproof.models._fields import format_time
from vendorproof.models.policy import (
    SCHEME_X509,
    Action,
    Policy,
    Principal,
)
from vendorproof.verify.context import VerificationContext
from vendorproof.verify.notation_envelope import (
    H_AUTHENTIC_TIME,
    H_EXPIRY,
    H_SIGNING_TIME,
    MEDIA_COSE,
    MEDIA_JWS,
    SCHEME_AUTHORITY,
    NotationEnvelope,
    _verify_cose,
    _verify_jws,
    parse_envelope,
)
from vendorproof.verify.result import Outcome
from vendorproof.verify.revocation import RevocationTimeRule
from vendorproof.verify.trust import (
    CheckRun,
    SignerCheck,
    SigningTime,
    TrustActions,
    check_certificate_trust,
)
from vendorproof.verify.x509 import (
    describe,
    fingerprint,
    verify_certificate_algorithms,
)

__all__ = [
    "MEDIA_COSE",
    "MEDIA_JWS",
    "NotationEnvelope",
    "Target",
    "parse_envelope",
    "verify_notation",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """The manifest a signature must be for (an OCI descriptor's three fields)."""

    media_type: str
    digest: str
    size: int


# ------------------------------------------------------------------ verification


def _expected_alg(key: crypto.PublicKey) -> str:
    """The ``alg`` the signing key dictates ("Algorithm Selection")."""
    if isinstance(key, rsa.RSAPublicKey):
        return {2048: "PS256", 3072: "PS384", 4096: "PS512"}.get(key.key_size, "")
    if isinstance(key, ec.EllipticCurvePublicKey):
        return {256: "ES256", 384: "ES384", 521: "ES512"}.get(key.curve.key_size, "")
    return ""


def _check_target(env: NotationEnvelope, target: Target) -> str:
    payload = parse_json(env.payload, file=f"{env.file}: payload")
    art = payload.get("targetArtifact") if isinstance(payload, dict) else None
    if not isinstance(art, dict):
        raise SignatureError("payload has no targetArtifact descriptor")
    got = (art.get("mediaType"), art.get("digest"), art.get("size"))
    want = (target.media_type, target.digest, target.size)
    # The descriptor's size is an int64 (OCI descriptor.md): 417.0 or true is no
    # size, though Python compares them equal to 417 and 1.
    if got != want or type(got[2]) is not int:
        raise SignatureError(
            f"targetArtifact (mediaType {got[0]!r}, digest {got[1]!r}, size "
            f"{got[2]!r}) is not the manifest verified (mediaType {want[0]!r}, "
            f"digest {want[1]!r}, size {want[2]!r})"
        )
    return (
        f"targetArtifact is {target.digest} ({target.media_type}, {target.size} bytes)"
    )


_FORBIDDEN_SIGNING_EKUS: Final = {
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "anyExtendedKeyUsage",
    ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection",
    ExtendedKeyUsageOID.TIME_STAMPING: "timeStamping",
}


def _notary_leaf_profile(cert: x509.Certificate) -> None:
    """Signature specification, "Certificate Requirements", "Leaf Certificates".

    Raises:
        CertificateChainError: naming the requirement that is not met.
    """
    who = describe(cert)
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    except x509.ExtensionNotFound:
        msg = f"signing certificate {who} has no keyUsage"
        raise CertificateChainError(msg) from None
    v = ku.value
    if not ku.critical or not v.digital_signature:
        msg = (
            f"signing certificate {who}: keyUsage must be critical with "
            "digitalSignature"
        )
        raise CertificateChainError(msg)
    if (
        v.key_encipherment
        or v.data_encipherment
        or v.key_agreement
        or v.key_cert_sign
        or v.crl_sign
    ):
        msg = f"signing certificate {who}: keyUsage asserts a usage other than signing"
        raise CertificateChainError(msg)
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        bc = None
    if bc is not None and bc.ca:
        msg = f"signing certificate {who} is a CA (basicConstraints cA=true)"
        raise CertificateChainError(msg)
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return
    bad = [name for oid, name in _FORBIDDEN_SIGNING_EKUS.items() if oid in eku]
    if bad:
        msg = f"signing certificate {who}: extendedKeyUsage contains {', '.join(bad)}"
        raise CertificateChainError(msg)


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _check_order(certs: Sequence[x509.Certificate]) -> None:
    """Leaf first, each issued by the next, then the root ("Other requirements")."""
    for i, (cert, issuer) in enumerate(itertools.pairwise(certs)):
        if not _issued_by(cert, issuer):
            msg = (
                f"x5c is not an ordered chain: certificate {i} ({describe(cert)}) is "
                f"not issued by certificate {i + 1} ({describe(issuer)})"
            )
            raise CertificateChainError(msg)
    root = certs[-1]
    if not _issued_by(root, root):
        msg = (
            f"x5c does not end with a root: the last certificate ({describe(root)}) "
            "is not self-signed"
        )
        raise CertificateChainError(msg)


def _timestamp_token_response(token: bytes) -> bytes:
    """Wrap a TimeStampToken in a granted TimeStampResp (RFC 3161 §2.4.2).

    ``TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken }`` with
    ``PKIStatusInfo ::= SEQUENCE { status PKIStatus }`` and ``granted`` = 0; the
    timestamp code verifies responses, Notation stores the bare token.
    """
    status = b"\x30\x03\x02\x01\x00"
    body = status + token
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    else:
        octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(octets)]) + octets
    return b"\x30" + length + body


def _strictest(actions: Sequence[Action]) -> Action:
    order = (Action.ENFORCE, Action.LOG, Action.SKIP)
    return next((a for a in order if a in actions), Action.ENFORCE)


def _actions(p: Principal) -> TrustActions:
    """The trust step's actions from ``p``'s Notation level and overrides."""
    rules = p.notation
    return TrustActions(
        timestamp=rules.authentic_timestamp,
        revocation=rules.revocation,
        identity=rules.authenticity,
    )


def _candidates(
    principals: Sequence[Principal], scheme: str
) -> list[tuple[Principal, Principal]]:
    """(principal, principal with the anchors of ``scheme``) for those accepting it.

    ``notary.x509`` chains end at the principal's ``anchors``;
    ``notary.x509.signingAuthority`` ones at its ``notation.signingAuthorities``
    (Notation's ``ca`` and ``signingAuthority`` trust stores), never the other's.
    """
    out = []
    for p in principals:
        if scheme not in p.notation.schemes:
            continue
        if scheme == SCHEME_AUTHORITY:
            out.append((p, replace(p, anchors=p.notation.signing_authority_anchors)))
        else:
            out.append((p, p))
    return out


def verify_notation(  # noqa: C901, PLR0911, PLR0912, PLR0915 - one return per failed step
    raw: bytes,
    media_type: str,
    *,
    file: str,
    target: Target,
    principals: Sequence[Principal],
    role: str,
    policy: Policy,
    at: datetime,
    time_source: str,
    requirements: tuple[str, ...],
    context: VerificationContext | None = None,
) -> SignerCheck:
    """Verify a Notation envelope over ``target`` and establish its signer.

    Never raises for a failed or malformed signature: every step is a check. Each
    principal's ``notation`` rules (level, overrides, schemes, signing authorities)
    decide what its signatures need (docs/trust-rules.md, "Notation verification
    levels").

    Args:
        raw: the envelope bytes.
        media_type: ``application/jose+json`` or ``application/cose``.
        file: the envelope's name in the delivery (the checks' subject).
        target: the manifest the signature must be for.
        principals: the trusted principals of ``role`` (their anchors are the
            trust store: the x5c root must be one of them).
        role: ``vendor`` (for messages).
        policy: algorithms, TSAs, CRLs and the revocation mode.
        at: the validation time.
        time_source: where ``at`` came from (for the report).
        requirements: the requirements the checks serve.
        context: limits, timeouts and memo tables at ``at``.
    """
    run = CheckRun(file, requirements)
    if not principals:
        return run.fail("signature", f"the policy trusts no {role} signer")
    # Integrity (always enforced): envelope, algorithms, signature, target.
    try:
        env = parse_envelope(raw, media_type, file=file)
    except InvalidInputError as e:
        return run.fail("notation-envelope", e)
    run.add(
        "notation-envelope",
        Outcome.PASS,
        f"{'JWS' if media_type == MEDIA_JWS else 'COSE_Sign1'} envelope, alg "
        f"{env.alg}, scheme {env.scheme}, critical headers "
        f"{', '.join(env.protected['crit'])} understood",
    )
    leaf = env.certificates[0]
    try:
        key = crypto.as_public_key(leaf.public_key())
        if _expected_alg(key) != env.alg:
            raise AlgorithmError(
                f"alg {env.alg} is not the algorithm the signing key dictates "
                f"({_expected_alg(key) or 'none for this key'})"
            )
        name = crypto.algorithm_name(key)
        if name not in policy.signature_algorithms:
            raise AlgorithmError(
                f"signature algorithm {name} is not allowed by the policy"
            )
        if isinstance(key, rsa.RSAPublicKey) and key.key_size < policy.min_rsa_bits:
            raise AlgorithmError(
                f"RSA key of {key.key_size} bits is below the policy minimum "
                f"{policy.min_rsa_bits}"
            )
        for cert in env.certificates:
            verify_certificate_algorithms(cert)
    except AlgorithmError as e:
        return run.fail("algorithms", e)
    run.add(
        "algorithms",
        Outcome.PASS,
        f"{env.alg} with {name}; certificates use allowed algorithms",
    )
    try:
        (_verify_jws if media_type == MEDIA_JWS else _verify_cose)(env, key)
    except SignatureError as e:
        return run.fail("signature", e)
    run.add("signature", Outcome.PASS, f"{env.alg} signature by {describe(leaf)}")
    try:
        detail = _check_target(env, target)
    except (SignatureError, InvalidInputError) as e:
        return run.fail("target-artifact", e)
    run.add("target-artifact", Outcome.PASS, detail)

    # Which principals accept the scheme, and whose anchors the x5c root is.
    candidates = _candidates(principals, env.scheme)
    if not candidates:
        return run.fail(
            "signing-scheme",
            f"{env.scheme} signature, but no {role} of the policy accepts that "
            "signing scheme (vendors[].notation.schemes)",
        )
    try:
        _check_order(env.certificates)
        _notary_leaf_profile(leaf)
    except CertificateChainError as e:
        return run.fail("certificate-chain", e)
    root = env.certificates[-1]
    root_fp = fingerprint(root)
    pinning = [
        (p, q) for p, q in candidates if root_fp in {fingerprint(a) for a in q.anchors}
    ]
    if not pinning:
        store = (
            "a signing authority root (notation.signingAuthorities)"
            if env.scheme == SCHEME_AUTHORITY
            else "an anchor"
        )
        return run.fail(
            "certificate-chain",
            f"{describe(leaf)} does not chain to a trusted {role} anchor: its root "
            f"{describe(root)} (sha256:{root_fp}) is not {store} the policy pins",
        )
    stamp_action = _strictest([p.notation.authentic_timestamp for p, _ in pinning])
    expiry_action = _strictest([p.notation.expiry for p, _ in pinning])

    signing_time: SigningTime | None = None
    if env.scheme == SCHEME_AUTHORITY:
        when_at = env.protected[H_AUTHENTIC_TIME]
        if when_at > at:
            reason = (
                f"authenticSigningTime {format_time(when_at)} is after the validation "
                f"time {format_time(at)}"
            )
            if run.failed("signing-scheme", stamp_action, reason):
                return SignerCheck(checks=tuple(run.results), principal=None)
        else:
            run.add(
                "signing-scheme",
                Outcome.PASS,
                f"notary.x509.signingAuthority: authenticSigningTime "
                f"{format_time(when_at)}, trusted because a signing authority of "
                "the policy signed it",
            )
            signing_time = SigningTime(at=when_at, source="authentic signing time")
    else:
        claimed = env.protected[H_SIGNING_TIME]
        run.add(
            "signing-scheme",
            Outcome.PASS,
            f"notary.x509: the signingTime claim {format_time(claimed)} is not "
            "trusted (RFC 3161 timestampSignature or the validation time decides)",
        )

    expiry = env.protected.get(H_EXPIRY)
    if isinstance(expiry, datetime):
        if at >= expiry:
            reason = (
                f"the signature expired at {format_time(expiry)} "
                "(io.cncf.notary.expiry)"
            )
            if run.failed("expiry", expiry_action, reason):
                return SignerCheck(checks=tuple(run.results), principal=None)
        else:
            run.add("expiry", Outcome.PASS, f"expires at {format_time(expiry)}")

    stamps = (
        [_timestamp_token_response(env.timestamp)]
        if env.timestamp is not None and env.scheme == SCHEME_X509
        else []
    )
    trusted = check_certificate_trust(
        leaf,
        env.certificates[1:-1],
        [q for _, q in pinning],
        subject=file,
        earlier=run.results,
        signature=env.signature,
        timestamps=stamps,
        role=role,
        policy=policy,
        at=at,
        time_source=time_source,
        requirements=requirements,
        context=context,
        signing_time=signing_time,
        pinned_signer=True,
        actions=_actions,
        revocation_rule=RevocationTimeRule.INVALIDITY_DATE,
    )
    if trusted.principal is None:
        return trusted
    # The principal as the policy holds it (not the copy with scheme anchors).
    original = next(p for p, _ in pinning if p.id == trusted.principal.id)
    return SignerCheck(
        checks=trusted.checks,
        principal=original,
        anchors=trusted.anchors,
        key_id=crypto.key_id(key),
    )
