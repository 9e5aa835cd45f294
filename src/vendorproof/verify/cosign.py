"""cosign signatures over OCI manifests, verified offline.

Two forms (docs/trust-rules.md, "cosign"):

* **Sigstore bundle** (cosign 3's default; an OCI 1.1 referrer with ``artifactType``
  ``application/vnd.dev.sigstore.bundle.v0.3+json``): a DSSE envelope over an in-toto
  statement whose subject is the image manifest (predicate
  ``https://sigstore.dev/cosign/sign/v1``). The bundle is read by
  ``models.documents.load_signed_document`` and its signer established by
  ``verify.signer.check_signer``, the same code as every other signed statement:
  keyless (Fulcio certificate, transparency log, verified offline by sigstore-python
  against the policy's trusted root and keyless identities), a pinned key, or a
  certificate chaining to the vendor's anchors with the operator's CRLs. A pinned
  or certified key's signature over the DSSE PAE is checked in the scheme cosign
  signs with (below), as for simple signing: ``cosign sign --key`` with an RSA key
  writes PKCS #1 v1.5, not the project's PSS. The statement's predicate type must
  be cosign's signing predicate (what ``cosign sign`` writes): an attestation (SLSA
  provenance, an SBOM, a VEX statement) over the same image, signed by the same
  vendor, is not a signature of the image. The statement must name the manifest's
  digest among its subjects.
* **Simple signing** (cosign's older form: a ``sha256-<hex>.sig`` manifest whose
  ``application/vnd.dev.cosign.simplesigning.v1+json`` layer is the signed payload,
  with the signature in the ``dev.cosignproject.cosign/signature`` annotation and an
  optional ``dev.sigstore.cosign/certificate`` and ``.../chain``): the signature
  over the payload bytes verifies, in the scheme cosign signs with (below), with a
  key the policy pins for the vendor, or with a certificate that chains to the
  vendor's anchors (``verify.trust``'s trust step,
  as for every certificate signer: certificate profile, CRLs, ``requireTimestamp``
  and identity); the payload's
  ``critical.image.docker-manifest-digest`` must be the manifest's digest. Keyless
  simple signing (a Fulcio certificate with a Rekor bundle annotation) is not
  accepted: its certificate chains to no vendor anchor.

  The key must be one the policy's ``algorithms`` allow (``signatures`` by key type,
  ``minRsaBits``), as for every other signer; a pinned key the policy refuses never
  vouches for the image. cosign signs the payload with the key's default scheme
  from sigstore/sigstore (``signature.LoadSignerVerifier``, and
  ``LoadDefaultSignerVerifier`` in current cosign 2 and 3) and ``cosign verify --key``
  checks it the same way, so that is what is accepted here, and nothing else: RSA
  PKCS #1 v1.5 with SHA-256 (never PSS), ECDSA P-256 with SHA-256, ECDSA P-384 with
  SHA-384 (current cosign) or SHA-256 (older versions; sigstore-go accepts
  both), pure Ed25519.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding

from vendorproof._internal import crypto
from vendorproof._internal.jsonio import parse_json
from vendorproof._internal.pem import load_certificates
from vendorproof._internal.text import SHORT_ID, shorten
from vendorproof.errors import (
    AlgorithmError,
    InvalidInputError,
    SignatureError,
)
from vendorproof.models.documents import load_signed_document
from vendorproof.models.policy import Policy, Principal
from vendorproof.verify.context import VerificationContext
from vendorproof.verify.notation import Target
from vendorproof.verify.result import CheckResult, Outcome
from vendorproof.verify.signer import check_algorithm, check_signer
from vendorproof.verify.trust import CheckRun, SignerCheck, check_certificate_trust
from vendorproof.verify.x509 import describe

__all__ = [
    "ANNOTATION_CERTIFICATE",
    "ANNOTATION_CHAIN",
    "ANNOTATION_SIGNATURE",
    "COSIGN_PREDICATE",
    "verify_cosign_bundle",
    "verify_simple_signing",
]

COSIGN_PREDICATE: Final = "https://sigstore.dev/cosign/sign/v1"
ANNOTATION_SIGNATURE: Final = "dev.cosignproject.cosign/signature"
ANNOTATION_CERTIFICATE: Final = "dev.sigstore.cosign/certificate"
ANNOTATION_CHAIN: Final = "dev.sigstore.cosign/chain"
_SIMPLE_SIGNING_TYPE: Final = "cosign container image signature"


def _result(
    check: str, subject: str, requirements: tuple[str, ...], ok: bool, reason: str
) -> CheckResult:
    return CheckResult(
        check=check,
        subject=subject,
        requirements=requirements,
        outcome=Outcome.PASS if ok else Outcome.FAIL,
        reason=reason,
    )


def verify_cosign_bundle(
    raw: bytes,
    *,
    file: str,
    target: Target,
    principals: Sequence[Principal],
    role: str,
    policy: Policy,
    at: datetime,
    time_source: str,
    requirements: tuple[str, ...],
) -> SignerCheck:
    """Verify a cosign Sigstore bundle over the manifest ``target``.

    Never raises for a failed or malformed bundle: every step is a check.
    """
    try:
        doc = load_signed_document(raw, file=file)
    except InvalidInputError as e:
        bad = _result("cosign-bundle", file, requirements, ok=False, reason=str(e))
        return SignerCheck(checks=(bad,), principal=None)
    signer = check_signer(
        doc,
        principals,
        role=role,
        policy=policy,
        at=at,
        time_source=time_source,
        requirements=requirements,
        scheme=_verify_as_cosign,
    )
    if not signer.ok:
        return signer
    predicate = doc.statement.predicate_type
    if predicate != COSIGN_PREDICATE:
        reason = (
            f"the signed statement's predicate type {predicate!r} is not cosign's "
            f"signing predicate {COSIGN_PREDICATE}: an attestation about the image, "
            "not a signature of it"
        )
        bad = _result("target-artifact", file, requirements, ok=False, reason=reason)
        return SignerCheck(checks=(*signer.checks, bad), principal=None)
    alg, _, want = target.digest.partition(":")
    named = [s.name for s in doc.statement.subjects if s.digest.get(alg) == want]
    if not named:
        reason = (
            f"the signed statement ({predicate}) names no subject with digest "
            f"{target.digest}"
        )
        bad = _result("target-artifact", file, requirements, ok=False, reason=reason)
        return SignerCheck(checks=(*signer.checks, bad), principal=None)
    good = _result(
        "target-artifact",
        file,
        requirements,
        ok=True,
        reason=f"statement ({predicate}) subject {named[0]!r} is {target.digest}",
    )
    return SignerCheck(
        checks=(*signer.checks, good),
        principal=signer.principal,
        anchors=signer.anchors,
        key_id=signer.key_id,
    )


def _check_payload(payload: bytes, target: Target, file: str) -> str:
    data = parse_json(payload, file=file)
    critical = data.get("critical") if isinstance(data, dict) else None
    image = critical.get("image") if isinstance(critical, dict) else None
    if not isinstance(critical, dict) or not isinstance(image, dict):
        msg = "payload has no critical.image"
        raise SignatureError(msg)
    if critical.get("type") != _SIMPLE_SIGNING_TYPE:
        msg = f"payload critical.type is not {_SIMPLE_SIGNING_TYPE!r}"
        raise SignatureError(msg)
    got = image.get("docker-manifest-digest")
    if got != target.digest:
        msg = (
            f"payload critical.image.docker-manifest-digest {got!r} is not the "
            f"manifest verified ({target.digest})"
        )
        raise SignatureError(msg)
    return f"critical.image.docker-manifest-digest is {target.digest}"


#: cosign's ECDSA schemes by curve, the current one first (sigstore/sigstore
#: ``GetDefaultPublicKeyDetails``; SHA-256 on every curve in older cosign).
_COSIGN_ECDSA: Final = {
    "secp256r1": (("ecdsa-p256-sha256", hashes.SHA256),),
    "secp384r1": (
        ("ecdsa-p384-sha384", hashes.SHA384),
        ("ecdsa-p384-sha256", hashes.SHA256),
    ),
}
_COSIGN_RSA: Final = "rsa-pkcs1v15-sha256"


def _verify_as_cosign(key: crypto.PublicKey, signature: bytes, payload: bytes) -> str:
    """Verify ``signature`` over ``payload`` as cosign signs it; the scheme's name.

    Raises:
        SignatureError: the signature does not verify in cosign's scheme for the key.
        AlgorithmError: a curve cosign's schemes here do not cover.
    """
    tried: list[str] = []
    if isinstance(key, ed25519.Ed25519PublicKey):
        tried.append("ed25519")
        try:
            key.verify(signature, payload)
        except InvalidSignature:
            pass
        else:
            return "ed25519"
    elif isinstance(key, ec.EllipticCurvePublicKey):
        schemes = _COSIGN_ECDSA.get(key.curve.name)
        if schemes is None:  # pragma: no cover - check_algorithm refuses it first
            raise AlgorithmError(f"unsupported elliptic curve {key.curve.name}")
        for name, digest in schemes:
            tried.append(name)
            try:
                key.verify(signature, payload, ec.ECDSA(digest()))
            except InvalidSignature:
                continue
            return name
    else:
        tried.append(_COSIGN_RSA)
        try:
            key.verify(signature, payload, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            pass
        else:
            return _COSIGN_RSA
    msg = (
        f"{' or '.join(tried)} signature (cosign's scheme for the key) does not verify"
    )
    raise SignatureError(msg)


def _verifies_as_cosign(
    key: crypto.PublicKey, signature: bytes, payload: bytes
) -> bool:
    """Whether the signature verifies with ``key`` (to name a refused key only)."""
    try:
        _verify_as_cosign(key, signature, payload)
    except (SignatureError, AlgorithmError):
        return False
    return True


def _algorithm_reason(name: str, scheme: str) -> str:
    if name == scheme:
        return name
    return f"{scheme}, cosign's scheme for a key of policy algorithm {name}"


def _pinned_key_signer(  # noqa: PLR0917 - the pieces of one signature
    run: CheckRun,
    signature: bytes,
    payload: bytes,
    target: Target,
    principals: Sequence[Principal],
    role: str,
    policy: Policy,
) -> SignerCheck:
    """The pinned key that made the signature, among the keys the policy allows.

    As for DSSE (``verify.signer``): a key the policy's algorithms refuse never
    vouches, and fails the signature only when it is the key that made it, so a
    refused key tried first cannot hide the allowed key that signed.
    """
    refused: AlgorithmError | None = None
    for p in principals:
        for kid, key in p.public_keys.items():
            try:
                name = check_algorithm(key, policy)
            except AlgorithmError as e:
                if refused is None and _verifies_as_cosign(key, signature, payload):
                    refused = e
                continue
            try:
                scheme = _verify_as_cosign(key, signature, payload)
            except (SignatureError, AlgorithmError):
                continue
            run.add("algorithms", Outcome.PASS, _algorithm_reason(name, scheme))
            run.add(
                "signature",
                Outcome.PASS,
                f"{scheme} signature over the simple-signing payload by pinned key "
                f"{shorten(kid, SHORT_ID)} of {role} {p.id!r}",
            )
            return _finish(run, payload, target, run.subject, p, f"key:{kid}", kid)
    if refused is not None:
        return run.fail("algorithms", refused)
    return run.fail(
        "signature",
        f"no key the policy pins for a {role} verifies the simple-signing signature",
    )


def verify_simple_signing(  # noqa: PLR0911 - one per step
    payload: bytes,
    annotations: Mapping[str, str],
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
    """Verify a cosign simple-signing signature (payload + layer annotations).

    Never raises for a failed or malformed signature: every step is a check.
    """
    run = CheckRun(file, requirements)
    if not principals:
        return run.fail("signature", f"the policy trusts no {role} signer")
    try:
        signature = base64.b64decode(annotations[ANNOTATION_SIGNATURE], validate=True)
    except KeyError:
        return run.fail("signature", f"no {ANNOTATION_SIGNATURE} annotation")
    except (binascii.Error, ValueError):
        return run.fail("signature", f"{ANNOTATION_SIGNATURE} is not base64")
    pem = annotations.get(ANNOTATION_CERTIFICATE)
    if pem is None:
        return _pinned_key_signer(
            run, signature, payload, target, principals, role, policy
        )
    try:
        certs = load_certificates(
            pem.encode(), file=f"{file}: {ANNOTATION_CERTIFICATE}"
        )
        chain_pem = annotations.get(ANNOTATION_CHAIN)
        chain = (
            load_certificates(chain_pem.encode(), file=f"{file}: {ANNOTATION_CHAIN}")
            if chain_pem
            else []
        )
    except InvalidInputError as e:
        return run.fail("certificate-chain", e)
    leaf = certs[0]
    try:
        key = crypto.as_public_key(leaf.public_key())
        name = check_algorithm(key, policy)
    except AlgorithmError as e:
        return run.fail("algorithms", e)
    try:
        scheme = _verify_as_cosign(key, signature, payload)
    except SignatureError as e:
        return run.fail("signature", e)
    run.add("algorithms", Outcome.PASS, _algorithm_reason(name, scheme))
    run.add(
        "signature",
        Outcome.PASS,
        f"{scheme} signature over the simple-signing payload by {describe(leaf)}",
    )
    # The chain annotation's certificates are path candidates; a root in it is
    # never an anchor (anchors come from the policy).
    trusted = check_certificate_trust(
        leaf,
        [c for c in (*certs[1:], *chain) if c.issuer != c.subject],
        principals,
        subject=file,
        earlier=run.results,
        signature=signature,
        timestamps=(),
        role=role,
        policy=policy,
        at=at,
        time_source=time_source,
        requirements=requirements,
        context=context,
    )
    if trusted.principal is None:
        return trusted
    run = CheckRun(file, requirements)
    run.results.extend(trusted.checks)
    return _finish(
        run,
        payload,
        target,
        file,
        trusted.principal,
        trusted.anchors[0],
        crypto.key_id(key),
    )


def _finish(  # noqa: PLR0917 - the pieces of one verified signature
    run: CheckRun,
    payload: bytes,
    target: Target,
    file: str,
    principal: Principal,
    anchor: str,
    key_id: str,
) -> SignerCheck:
    try:
        detail = _check_payload(payload, target, f"{file}: payload")
    except (SignatureError, InvalidInputError) as e:
        return run.fail("target-artifact", e)
    run.add("target-artifact", Outcome.PASS, detail)
    return SignerCheck(
        checks=tuple(run.results),
        principal=principal,
        anchors=(anchor,),
        key_id=key_id,
    )
