"""Who signed a document: signature, algorithms, certificate chain and identity.

Each step is its own check in the report, so an auditor sees *which* part of the trust
path failed. The trust step of certificate signers (chain, revocation, identity) is
``verify/trust.py``'s, shared with every other signature format; ``SignerCheck``,
``check_certificate_trust`` and ``identity_matches`` are re-exported from there. Only
the principals of the document's role are consulted: a certification body's anchor
never vouches for a vendor manifest, and vice versa.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa

from vendorproof._internal import crypto
from vendorproof._internal.text import SHORT_ID, shorten
from vendorproof.errors import (
    AlgorithmError,
    InvalidInputError,
    SignatureError,
    VerificationError,
)
from vendorproof.models.documents import SignedDocument
from vendorproof.models.policy import Policy, Principal
from vendorproof.verify.context import VerificationContext, context_for
from vendorproof.verify.result import Outcome
from vendorproof.verify.trust import (
    CheckRun,
    SignerCheck,
    check_certificate_trust,
    identity_matches,
)
from vendorproof.verify.x509 import (
    describe,
    fingerprint,
    verify_certificate_algorithms,
)

if TYPE_CHECKING:
    from vendorproof.verify.keyless import KeylessTrust

__all__ = [
    "SignatureScheme",
    "SignerCheck",
    "check_algorithm",
    "check_certificate_trust",
    "check_signer",
    "identity_matches",
    "keyless_trust",
    "pinned_signers",
]


SignatureScheme: TypeAlias = Callable[[crypto.PublicKey, bytes, bytes], str]
"""How a signature over some bytes is checked with a key: ``(key, signature, data)``.

Returns the scheme's name; raises :class:`SignatureError` when the signature does not
verify and :class:`AlgorithmError` for a key the scheme does not cover. The default
is the project's own scheme per key type (:func:`vendorproof._internal.crypto.verify`);
a format whose signers use other schemes for the same key types (cosign: RSA PKCS #1
v1.5, see ``verify/cosign.py``) passes its own.
"""


def check_algorithm(key: crypto.PublicKey, policy: Policy) -> str:
    """The policy's name for ``key``'s algorithm, when the policy allows the key.

    Raises:
        AlgorithmError: the key type is not in ``algorithms.signatures``, or an RSA
            key is below ``algorithms.minRsaBits``.
    """
    name = crypto.algorithm_name(key)
    if name not in policy.signature_algorithms:
        raise AlgorithmError(f"signature algorithm {name} is not allowed by the policy")
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < policy.min_rsa_bits:
        raise AlgorithmError(
            f"RSA key of {key.key_size} bits is below the policy minimum "
            f"{policy.min_rsa_bits}"
        )
    return name


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
    scheme: SignatureScheme = crypto.verify,
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
        scheme: how the DSSE signatures are checked with a pinned or certified key
            (default: the project's scheme for the key type). Keyless bundles are
            verified by sigstore in Sigstore's schemes whatever this says.

    Raises:
        ValueError: ``context`` is for another validation time than ``at``.
    """
    ctx = context_for(at, context)
    run = CheckRun(doc.file, requirements)
    if not principals:
        return run.fail("signature", f"the policy trusts no {role} signer")
    if doc.keyless:
        return _check_keyless_signer(run, doc, principals, role, policy)
    if doc.certificates:
        return _check_certificate_signer(
            run, doc, principals, role, policy, ctx, time_source, scheme
        )
    return _check_key_signer(run, doc, principals, role, policy, scheme)


def _verify_any(
    doc: SignedDocument, key: crypto.PublicKey, scheme: SignatureScheme
) -> tuple[bytes, str]:
    """Return the signature that verifies with ``key``, and its scheme's name.

    RFC 3161 tokens cover the returned signature.
    """
    pae = doc.envelope.pae()
    errors: list[str] = []
    for sig in doc.envelope.signatures:
        try:
            name = scheme(key, sig.sig, pae)
        except SignatureError as e:
            errors.append(str(e))
            continue
        return sig.sig, name
    raise SignatureError(
        "no DSSE signature verifies with the signing certificate's key"
        + (f" ({errors[0]})" if errors else "")
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
    run: CheckRun,
    doc: SignedDocument,
    principals: Sequence[Principal],
    role: str,
    policy: Policy,
    ctx: VerificationContext,
    time_source: str,
    scheme: SignatureScheme,
) -> SignerCheck:
    leaf = doc.certificates[0]
    shipped_root = _shipped_root(doc, principals)
    if shipped_root is not None:
        return run.fail("certificate-chain", shipped_root)
    try:
        key = crypto.as_public_key(leaf.public_key())
        name = check_algorithm(key, policy)
        for cert in doc.certificates:
            verify_certificate_algorithms(cert)
    except AlgorithmError as e:
        return run.fail("algorithms", e)
    run.add("algorithms", Outcome.PASS, f"{name}; certificates use allowed algorithms")
    try:
        signature, used = _verify_any(doc, key, scheme)
    except (SignatureError, AlgorithmError) as e:
        return run.fail("signature", e)
    run.add(
        "signature", Outcome.PASS, f"{used} signature over DSSE PAE by {describe(leaf)}"
    )
    return check_certificate_trust(
        leaf,
        doc.certificates[1:],
        principals,
        subject=doc.file,
        earlier=run.results,
        signature=signature,
        timestamps=doc.timestamps,
        role=role,
        policy=policy,
        at=ctx.at,
        time_source=time_source,
        requirements=run.requirements,
        context=ctx,
    )


def _check_key_signer(  # noqa: PLR0917 - the inputs of one document
    run: CheckRun,
    doc: SignedDocument,
    principals: Sequence[Principal],
    role: str,
    policy: Policy,
    scheme: SignatureScheme,
) -> SignerCheck:
    pae = doc.envelope.pae()
    hint = doc.public_key_hint
    # A key the policy's algorithms refuse never vouches for the document, and only
    # fails it when it is the key that made a signature: a signature that names no key
    # is tried against every pinned key, and a refused key tried first must not hide
    # the allowed key that made it.
    refused: AlgorithmError | None = None
    for sig in doc.envelope.signatures:
        for p, kid, key in _named_first(principals, sig.keyid or hint):
            try:
                name = check_algorithm(key, policy)
            except AlgorithmError as e:
                if refused is None and _verifies(scheme, key, sig.sig, pae):
                    refused = e
                continue
            try:
                used = scheme(key, sig.sig, pae)
            except (SignatureError, AlgorithmError):
                continue
            run.add("algorithms", Outcome.PASS, name)
            run.add(
                "signature",
                Outcome.PASS,
                f"{used} signature over DSSE PAE by pinned key "
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


def _hint_forms(kid: str) -> tuple[str, str]:
    """Return the names a signature or bundle may give the key ``kid``.

    ``kid`` is the hex SHA-256 of the key's SubjectPublicKeyInfo; cosign and
    sigstore-go write the standard base64 of the same digest as a bundle's
    ``publicKey.hint``.
    """
    return kid, base64.b64encode(bytes.fromhex(kid)).decode("ascii")


def _named_first(
    principals: Sequence[Principal], wanted: str | None
) -> list[tuple[Principal, str, crypto.PublicKey]]:
    """Return the pinned keys to try for a signature that names ``wanted``, in order.

    A DSSE ``keyid`` and a bundle's ``publicKey.hint`` are unauthenticated hints
    (DSSE protocol; Sigstore bundle specification): they order the pinned keys, never
    decide whether the signature is trusted. The key a hint names (in either form of
    :func:`_hint_forms`) is tried first, then every other pinned key: a hint in a
    form this project does not know, naming no pinned key, or one bundle hint for
    several signatures without key ids, never keeps the key that made a signature
    from being tried.
    """
    pinned = [(p, kid, key) for p in principals for kid, key in p.public_keys.items()]
    if not wanted:
        return pinned
    first = [entry for entry in pinned if wanted in _hint_forms(entry[1])]
    named = {kid for _, kid, _ in first}
    return [*first, *(entry for entry in pinned if entry[1] not in named)]


def _verifies(
    scheme: SignatureScheme, key: crypto.PublicKey, signature: bytes, pae: bytes
) -> bool:
    """Whether ``signature`` verifies with ``key`` (to name a refused signer only)."""
    try:
        scheme(key, signature, pae)
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
    run: CheckRun,
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
        for p, kid, key in _named_first(principals, sig.keyid or doc.public_key_hint):
            if kid in found:
                continue
            try:
                crypto.verify(key, sig.sig, pae)
            except (SignatureError, AlgorithmError):
                continue
            found[kid] = p.id
    return found
