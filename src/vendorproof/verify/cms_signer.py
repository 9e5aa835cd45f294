"""Who signed a detached CMS signature: the CMS check, then the signer's trust path.

``verify/cms.py`` checks the CMS ``SignedData`` itself (RFC 5652); this module makes
the trust decision with the same step as every other certificate signer
(``verify/signer.py``: chain to the anchors the policy pins for a principal of the
role, under the principal's certificate profile, revocation with the operator's CRLs,
allowed identities), at the validation time or at a time proven by a trusted RFC 3161
timestamp token carried as the unsigned attribute ``id-aa-signatureTimeStampToken``
(RFC 3161 Appendix A, whose messageImprint covers the SignerInfo's signature value).
The CMS ``signingTime`` attribute is a claim of the signer: it is reported in the
``signature`` check and never used as a time.

It also holds the per-vendor rule on detached signatures over delivered files
(``detachedSignatures`` in the policy: globs of files that need a ``<file>.cms`` or
``<file>.p7s``) and its check, made from the measured digests so that a replay
re-checks it without the files' bytes.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from vendorproof._internal.pem import load_certificates
from vendorproof.errors import (
    AlgorithmError,
    Error,
    InvalidInputError,
    VerificationError,
)
from vendorproof.models._fields import format_time
from vendorproof.models.delivery import DETACHED_SIGNATURE_SUFFIXES, DetachedSignature
from vendorproof.models.policy import Policy, Principal
from vendorproof.verify.cms import (
    CmsSignature,
    Content,
    verify_detached,
    verify_detached_digest,
)
from vendorproof.verify.result import CheckResult, Outcome
from vendorproof.verify.signer import SignerCheck, check_certificate_trust
from vendorproof.verify.x509 import describe

__all__ = [
    "DETACHED_SIGNATURE_SUFFIXES",
    "check_cms_signer",
    "check_detached_signature",
    "detached_signature_required",
    "timestamp_response",
    "verify_detached_cms",
]

_GRANTED = b"\x30\x03\x02\x01\x00"  # PKIStatusInfo { status granted (0) }


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def timestamp_response(token: bytes) -> bytes:
    """A ``TimeStampResp`` (RFC 3161 §2.4.2) with status granted around ``token``.

    The timestamp code verifies responses (what Sigstore bundles store); a CMS
    unsigned attribute carries the bare ``TimeStampToken``. The status adds nothing
    the token's own signature covers.
    """
    content = _GRANTED + token
    return b"\x30" + _der_length(len(content)) + content


def _failed(
    subject: str, requirements: tuple[str, ...], check: str, e: Error | str
) -> SignerCheck:
    return SignerCheck(
        checks=(
            CheckResult(
                check=check,
                subject=subject,
                requirements=requirements,
                outcome=Outcome.FAIL,
                reason=str(e),
            ),
        ),
        principal=None,
    )


def check_cms_signer(
    signature: bytes,
    content: Content | None = None,
    *,
    digests: Mapping[str, bytes] | None = None,
    file: str,
    subject: str | None = None,
    extra_certificates: Sequence[x509.Certificate] = (),
    principals: Sequence[Principal],
    role: str,
    policy: Policy,
    at: datetime,
    time_source: str,
    requirements: tuple[str, ...],
) -> SignerCheck:
    """Establish which trusted principal of ``role`` made a detached CMS signature.

    Args:
        signature: the CMS (PEM or DER), e.g. a ``.cms``/``.p7s`` file or the block at
            the end of a SOL 004 manifest.
        content: the signed bytes (bytes, a binary file or byte chunks); or
        digests: instead of ``content``, the content's measured digests by
            algorithm name (``sha256`` ...): the signature's own digest algorithm
            must be among them.
        file: the signature's name (in messages).
        subject: what the checks are about (default ``file``).
        extra_certificates: certificates delivered beside the signature (a SOL 004
            ``.cert``); searched for the signer and used as untrusted path
            candidates, never as anchors.
        principals: the principals of ``role`` whose anchors may vouch.
        role: ``vendor`` or ``certification-body`` (in messages).
        policy: CRLs, revocation mode, TSAs, minimum RSA size.
        at: the validation time.
        time_source: where ``at`` came from (``--at``, ``now``).
        requirements: the requirement ids the checks serve.

    Returns:
        The checks (``algorithms``, ``signature``, ``timestamp``,
        ``certificate-chain``, ``revocation``, ``certificate-profile`` warnings,
        ``signer-identity``) and, when all passed, the principal and its anchor.
        Never raises for a verification failure or malformed signature: each is a
        failed check naming the file and the field.
    """
    where = subject or file
    if (content is None) == (digests is None):
        msg = "give the signed content or its digests, not both or neither"
        raise TypeError(msg)
    if not principals:
        return _failed(
            where, requirements, "signature", f"the policy trusts no {role} signer"
        )
    try:
        if digests is not None:
            cms = verify_detached_digest(
                signature, digests, file=file, extra_certificates=extra_certificates
            )
        else:
            assert content is not None  # noqa: S101 - checked above
            cms = verify_detached(
                signature, content, file=file, extra_certificates=extra_certificates
            )
    except AlgorithmError as e:
        return _failed(where, requirements, "algorithms", e)
    except (VerificationError, InvalidInputError) as e:
        return _failed(where, requirements, "signature", e)
    key = cms.signer.public_key()
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < policy.min_rsa_bits:
        return _failed(
            where,
            requirements,
            "algorithms",
            f"{file}: RSA key of {key.key_size} bits is below the policy minimum "
            f"{policy.min_rsa_bits}",
        )
    earlier = (
        CheckResult(
            check="algorithms",
            subject=where,
            requirements=requirements,
            outcome=Outcome.PASS,
            reason=f"{cms.signature_algorithm} (CMS, digest {cms.digest_algorithm})",
        ),
        CheckResult(
            check="signature",
            subject=where,
            requirements=requirements,
            outcome=Outcome.PASS,
            reason=_signature_reason(cms, file),
        ),
    )
    untrusted = [c for c in (*cms.certificates, *extra_certificates) if c != cms.signer]
    return check_certificate_trust(
        cms.signer,
        untrusted,
        principals,
        subject=where,
        earlier=earlier,
        signature=cms.signature_value,
        timestamps=[timestamp_response(t) for t in cms.timestamp_tokens],
        role=role,
        policy=policy,
        at=at,
        time_source=time_source,
        requirements=requirements,
    )


def _signature_reason(cms: CmsSignature, file: str) -> str:
    where = "in the CMS" if cms.signer_in_cms else "supplied beside it"
    reason = (
        f"detached CMS SignedData {file} (RFC 5652) verifies: "
        f"{cms.signature_algorithm} by {describe(cms.signer)} (certificate {where}), "
        "messageDigest "
        f"{cms.digest_algorithm}:{cms.content_digest.hex()}"
    )
    if cms.claimed_signing_time is not None:
        reason += (
            f"; signingTime claims {format_time(cms.claimed_signing_time)} (a claim "
            "of the signer, not used as a time)"
        )
    return reason


def verify_detached_cms(
    signature: DetachedSignature,
    *,
    content: bytes | None,
    measured: Mapping[str, str] | None,
    principals: Sequence[Principal],
    role: str,
    policy: Policy,
    at: datetime,
    time_source: str,
    requirements: tuple[str, ...],
) -> SignerCheck:
    """The ``cms`` verifier of ``verify.delivery.DETACHED_VERIFIERS``.

    A delivered signature (``models.delivery.DetachedSignature``): over ``content``
    when the signed bytes are in hand (a package manifest), else over the
    ``measured`` digests (algorithm -> hex) of the signed component. Certificate files
    delivered with it (PEM or DER) are untrusted chain candidates.
    """
    extra: list[x509.Certificate] = []
    for i, data in enumerate(signature.certificates):
        try:
            extra.extend(load_certificates(data, file=signature.file))
        except InvalidInputError as e:
            return _failed(
                signature.file,
                requirements,
                "signature",
                f"certificate delivered with the signature ({i}) does not parse: {e}",
            )
    if content is not None:
        return check_cms_signer(
            signature.data,
            content,
            file=signature.file,
            extra_certificates=extra,
            principals=principals,
            role=role,
            policy=policy,
            at=at,
            time_source=time_source,
            requirements=requirements,
        )
    try:
        digests = {a: bytes.fromhex(h) for a, h in (measured or {}).items()}
    except ValueError:
        return _failed(
            signature.file, requirements, "signature", "measured digest is not hex"
        )
    return check_cms_signer(
        signature.data,
        digests=digests,
        file=signature.file,
        extra_certificates=extra,
        principals=principals,
        role=role,
        policy=policy,
        at=at,
        time_source=time_source,
        requirements=requirements,
    )


def detached_signature_required(vendor: Principal, path: str) -> bool:
    """Whether ``vendor``'s ``detachedSignatures`` globs name the file ``path``."""
    return any(fnmatch.fnmatchcase(path, p) for p in vendor.detached_signatures)


def check_detached_signature(
    component: str,
    digests: Mapping[str, str],
    signatures: Mapping[str, bytes],
    *,
    vendor: Principal,
    policy: Policy,
    at: datetime,
    time_source: str,
    requirements: tuple[str, ...],
) -> SignerCheck | None:
    """Check the detached CMS signature over the delivered file ``component``.

    Args:
        component: the file's path in the delivery.
        digests: what the verifier measured for it (algorithm -> lowercase hex).
        signatures: the delivered signature files by name; ``<component>.cms`` or
            else ``<component>.p7s`` is used (both delivered: both must verify).
        vendor: the vendor whose signer verified the delivery (its anchors vouch).
        policy: as for :func:`check_cms_signer`.
        at: the validation time.
        time_source: where ``at`` came from.
        requirements: the requirement ids the checks serve.

    Returns:
        The checks :func:`check_cms_signer` makes; a required signature that is
        missing is a failed ``signature`` check. None when the file has no detached
        signature and no rule requires one.
    """
    names = [
        component + s
        for s in DETACHED_SIGNATURE_SUFFIXES
        if component + s in signatures
    ]
    if not names:
        if detached_signature_required(vendor, component):
            wanted = " or ".join(component + s for s in DETACHED_SIGNATURE_SUFFIXES)
            return _failed(
                component,
                requirements,
                "signature",
                f"the policy requires a detached CMS signature by vendor "
                f"{vendor.id!r} on this file; none delivered ({wanted})",
            )
        return None
    try:
        measured = {alg: bytes.fromhex(value) for alg, value in digests.items()}
    except ValueError:
        return _failed(
            component, requirements, "signature", "measured digest is not hex"
        )
    results: list[SignerCheck] = [
        check_cms_signer(
            signatures[name],
            digests=measured,
            file=name,
            subject=component,
            principals=[vendor],
            role="vendor",
            policy=policy,
            at=at,
            time_source=time_source,
            requirements=requirements,
        )
        for name in names
    ]
    failed = next((r for r in results if not r.ok), None)
    if failed is not None:
        return failed
    if len(results) == 1:
        return results[0]
    return SignerCheck(
        checks=tuple(c for r in results for c in r.checks),
        principal=results[0].principal,
        anchors=tuple(dict.fromkeys(a for r in results for a in r.anchors)),
        key_id=results[0].key_id,
    )
