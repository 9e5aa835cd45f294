"""Reading signed documents: Sigstore bundles and bare DSSE envelopes."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography import x509

from vendorproof._internal.jsonio import parse_json
from vendorproof.errors import InvalidInputError
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models import _fields as f
from vendorproof.models.bundle import Bundle
from vendorproof.models.envelope import Envelope
from vendorproof.models.predicates import Predicate, parse_predicate
from vendorproof.models.statement import PAYLOAD_TYPE, Statement

__all__ = ["SignedDocument", "load_signed_document", "load_statement_bytes"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedDocument:
    """A signed statement as delivered: its envelope, material and parsed payload.

    Attributes:
        file: where it came from (delivery-relative path or command-line path).
        raw: the exact bytes of the file.
        envelope: the DSSE envelope (signatures are checked against its payload).
        certificates: leaf first, then shipped intermediates (empty for bare DSSE).
        public_key_hint: a bundle's public-key hint, if any.
        timestamps: RFC 3161 responses over the signature.
        statement: the statement parsed from ``envelope.payload``.
        predicate: its predicate, parsed once into its typed model
            (``models/predicates.py``).
    """

    file: str
    raw: bytes = field(repr=False)
    envelope: Envelope
    certificates: tuple[x509.Certificate, ...]
    public_key_hint: str | None
    timestamps: tuple[bytes, ...]
    statement: Statement
    predicate: Predicate
    #: A Sigstore keyless bundle (Fulcio certificate + transparency-log entries).
    keyless: bool = False


def load_signed_document(
    raw: bytes, *, file: str, limits: Limits = DEFAULT_LIMITS
) -> SignedDocument:
    """Parse a ``*.sigstore.json`` bundle or a bare ``*.dsse.json`` envelope.

    Raises:
        InvalidInputError: naming ``file`` and the field.
    """
    try:
        data = f.check_type(parse_json(raw, file=file, limits=limits), dict, "document")
        if "mediaType" in data:
            bundle = Bundle.from_bytes(raw, limits=limits)
            if bundle.envelope is None:
                raise InvalidInputError(
                    "bundle holds a message signature, not a DSSE statement",
                    path="messageSignature",
                )
            envelope = bundle.envelope
            certs, hint, stamps = (
                bundle.certificates,
                bundle.public_key_hint,
                bundle.timestamps,
            )
            keyless = bool(bundle.tlog_entries)
            prefix = "dsseEnvelope"
        elif "payloadType" in data:
            envelope = Envelope.from_dict(data, limits=limits)
            certs, hint, stamps = (), None, ()
            keyless = False
            prefix = ""
        else:
            raise InvalidInputError(
                "neither a Sigstore bundle (mediaType) nor a DSSE envelope "
                "(payloadType)"
            )
        if envelope.payload_type != PAYLOAD_TYPE:
            raise InvalidInputError(
                f"unsupported payloadType {envelope.payload_type!r} "
                f"(expected {PAYLOAD_TYPE})",
                path=f"{prefix}.payloadType" if prefix else "payloadType",
            )
        try:
            statement = Statement.from_bytes(envelope.payload, limits=limits)
        except InvalidInputError as e:
            raise e.under(f"{prefix}.payload" if prefix else "payload") from e
    except InvalidInputError as e:
        raise e.in_file(file) from e
    return SignedDocument(
        file=file,
        raw=raw,
        envelope=envelope,
        certificates=certs,
        public_key_hint=hint,
        timestamps=stamps,
        statement=statement,
        predicate=parse_predicate(statement),
        keyless=keyless,
    )


def load_statement_bytes(
    raw: bytes, *, file: str, limits: Limits = DEFAULT_LIMITS
) -> bytes:
    """The statement bytes of a plain statement, a bundle or a DSSE envelope."""
    data = parse_json(raw, file=file, limits=limits)
    if isinstance(data, dict) and ("mediaType" in data or "payloadType" in data):
        return load_signed_document(raw, file=file, limits=limits).envelope.payload
    return raw
