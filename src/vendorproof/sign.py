"""Vendor side: new statements, and signing one into a DSSE envelope and bundle."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cryptography import x509

from vendorproof._internal import crypto
from vendorproof.errors import InvalidInputError
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models.bundle import build_bundle
from vendorproof.models.certification import CERTIFICATION_PREDICATE, Certification
from vendorproof.models.declaration import DECLARATION_PREDICATE, TrustDeclaration
from vendorproof.models.envelope import Envelope, Signature, pae
from vendorproof.models.manifest import MANIFEST_PREDICATE, ComponentManifest
from vendorproof.models.statement import (
    PAYLOAD_TYPE,
    Statement,
    Subject,
    build_statement,
)

__all__ = ["new_statement", "sign_statement"]

#: The documents a vendor or certification body issues as statements.
Document = ComponentManifest | Certification | TrustDeclaration


def new_statement(
    document: Document, *, subjects: Sequence[Subject] = ()
) -> dict[str, Any]:
    """The JSON object of a new, unsigned statement about ``document``.

    The predicate is written by the model's ``to_predicate`` (the one place that
    writes each predicate's wire format) and read back with ``from_predicate``, as a
    verifier will read it: a document a verifier would refuse is refused here, with
    the same error and field path (``predicate`` fields in camelCase).

    Args:
        document: the manifest, certification or trust declaration.
        subjects: a certification's certified deliverables (required for one, and
            refused for the others, whose subjects follow from the document: the
            manifest's components, the declaration's own digest).

    Returns:
        The statement object; serialise it with ``dump_json`` and sign the bytes.

    Raises:
        InvalidInputError: a field is invalid, or the subjects do not fit.
    """
    if isinstance(document, Certification):
        if not subjects:
            raise InvalidInputError(
                "a certification needs the deliverables it certifies", path="subject"
            )
        cert = Certification.from_predicate(document.to_predicate())
        return build_statement(
            tuple(subjects), CERTIFICATION_PREDICATE, cert.to_predicate()
        )
    if subjects:
        raise InvalidInputError(
            "the subjects of this statement follow from the document", path="subject"
        )
    if isinstance(document, ComponentManifest):
        manifest = ComponentManifest.from_predicate(document.to_predicate())
        return build_statement(
            manifest.subjects(), MANIFEST_PREDICATE, manifest.to_predicate()
        )
    decl = TrustDeclaration.from_predicate(document.to_predicate())
    return build_statement(
        (decl.subject(),), DECLARATION_PREDICATE, decl.to_predicate()
    )


def _is_self_signed(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject


def sign_statement(
    statement: bytes,
    key: crypto.SigningKey,
    *,
    certificates: Sequence[x509.Certificate] = (),
    co_signers: Sequence[crypto.SigningKey] = (),
    tsa_url: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> dict[str, Any]:
    """Sign the exact bytes of an in-toto statement and return the bundle JSON object.

    Args:
        statement: the statement JSON bytes (signed as they are, not re-serialized).
        key: the signing key.
        certificates: the signing certificate first, then intermediates; no root.
        co_signers: further keys that sign the same envelope (k-of-n policies);
            verifiers know them by key id (pinned public keys).
        tsa_url: an RFC 3161 TSA to timestamp the (first) signature with.
        limits: parsing limits for the statement.

    Raises:
        InvalidInputError: the statement is malformed, the certificate does not match
            the key, or the chain contains a root.
        NetworkError: the TSA cannot be reached or answers with an HTTP error.
        TimestampError: the TSA refused the request or answered with a malformed
            response or one that does not answer the request.
    """
    Statement.from_bytes(statement, limits=limits)  # refuse to sign a malformed one
    public = key.public_key()
    if certificates:
        leaf_key = certificates[0].public_key()
        if crypto.public_der(crypto.as_public_key(leaf_key)) != crypto.public_der(
            crypto.as_public_key(public)
        ):
            raise InvalidInputError(
                "the certificate's public key does not match the signing key",
                path="certificate",
            )
        for cert in certificates[1:]:
            if _is_self_signed(cert):
                raise InvalidInputError(
                    "the chain must not contain a self-signed root "
                    f"({cert.subject.rfc4514_string()}); roots come from the "
                    "verifier's policy",
                    path="chain",
                )
    message = pae(PAYLOAD_TYPE, statement)
    sig = crypto.sign(key, message)
    signatures = [Signature(sig=sig, keyid=crypto.key_id(crypto.as_public_key(public)))]
    for co in co_signers:
        kid = crypto.key_id(crypto.as_public_key(co.public_key()))
        if any(s.keyid == kid for s in signatures):
            raise InvalidInputError("the same key signs twice", path="co_signers")
        signatures.append(Signature(sig=crypto.sign(co, message), keyid=kid))
    envelope = Envelope(
        payload_type=PAYLOAD_TYPE, payload=statement, signatures=tuple(signatures)
    )
    timestamps: tuple[bytes, ...] = ()
    if tsa_url is not None:
        from vendorproof._internal.tsa import request_timestamp

        try:
            timestamps = (request_timestamp(tsa_url, sig),)
        except InvalidInputError as e:
            raise InvalidInputError(e.message, path="tsa_url") from e
    return build_bundle(
        envelope,
        certificates=tuple(certificates),
        public_key_hint=None
        if certificates
        else crypto.key_id(crypto.as_public_key(public)),
        timestamps=timestamps,
    )
