"""Operator-attested certification records: a certificate as the intake desk read it.

No certification body signs a statement about a delivery: a NESAS evaluation is a
PDF report, a Common Criteria or BSI certificate a PDF plus a row on a public portal,
an EUCC certificate a document with a QR code (Reg. (EU) 2024/482 Art. 10(3), 11(4)).
An operator role the policy names (``certification.operatorAttested``) transcribes
such a certificate into a record and signs it with its own key; the source document
(the PDF) is kept next to the record and stored as an evidence input with every
intake that relies on it.

A record is a statement *of the operator*: its predicate says so
(``attestation.by: operator``) and nothing here can make it a certification body's
statement (``docs/trust-rules.md``, "Body-signed and operator-attested
certifications"). It is an in-toto Statement v1 in a DSSE envelope whose subject is
the source document; the certified deliverable digests, when the certification report
lists them (CC reports list the TOE delivery items), are in ``deliverables``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vendorproof._internal import crypto
from vendorproof._internal.jsonio import canonical_json, parse_json
from vendorproof.errors import InvalidInputError, SignatureError
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models import _fields as f
from vendorproof.models.certification import (
    CERTIFICATION_PREDICATE,
    KNOWN_SCHEMES,
    check_certificate_id,
)
from vendorproof.models.envelope import Envelope, Signature, pae
from vendorproof.models.statement import (
    Statement,
    Subject,
    build_statement,
    parse_digest_set,
)

__all__ = [
    "CERTIFICATE_STATUSES",
    "RECORD_INPUT_PREFIX",
    "RECORD_PAYLOAD_TYPE",
    "RECORD_PREDICATE",
    "SOURCE_INPUT_PREFIX",
    "STATUS_INPUT_PREFIX",
    "STATUS_PREDICATE",
    "CertificationRecord",
    "Deliverable",
    "StatusRecord",
    "is_record_input",
    "open_record",
    "open_status",
    "record_input",
    "seal_record",
    "seal_status",
    "source_input",
    "version_covered",
]

RECORD_PREDICATE = "https://vendorproof.dev/certification-record/v1"
RECORD_PAYLOAD_TYPE = "application/vnd.in-toto+json"

#: Evidence input names: a record envelope (by certificate id) and its source document
#: (by digest). Intake stores them with the record of every delivery they were
#: evaluated for; replay hands them back to the evaluation, apart from the delivery.
RECORD_INPUT_PREFIX = "certification-record:"
SOURCE_INPUT_PREFIX = "certification-source:"
STATUS_INPUT_PREFIX = "certification-status:"

STATUS_PREDICATE = "https://vendorproof.dev/certification-status/v1"
#: What a status record can say (EUCC Art. 13 review, Art. 14 withdrawal).
CERTIFICATE_STATUSES = ("valid", "suspended", "withdrawn")

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_KNOWN = frozenset(
    {
        "attestation",
        "scheme",
        "certificateId",
        "certificationBody",
        "holder",
        "product",
        "versions",
        "assuranceLevel",
        "issued",
        "validFrom",
        "validUntil",
        "statusUrl",
        "deliverables",
        "source",
        "registerRow",
    }
)


_BOUND = re.compile(r"^(>=|<=|>|<|==)\s*([0-9]+(?:\.[0-9]+)*)$")


def _numeric(version: str) -> tuple[int, ...] | None:
    """A dotted numeric version as a tuple (None: not dotted numeric)."""
    parts = version.split(".")
    if not all(p.isdigit() and len(p) <= 9 for p in parts):
        return None
    return tuple(int(p) for p in parts)


def _bounds(spec: str) -> list[tuple[str, tuple[int, ...]]] | None:
    """The bounds of a range ``>=24.1,<25`` (None: ``spec`` is an exact version)."""
    if not spec.lstrip().startswith(("<", ">", "=")):
        return None
    out = []
    for part in spec.split(","):
        m = _BOUND.fullmatch(part.strip())
        if m is None:
            raise InvalidInputError(
                f"not a version range: {spec!r} (e.g. '>=24.1,<25': comparisons of "
                "dotted numeric versions joined by ',')",
                path="versions",
            )
        version = _numeric(m.group(2))
        if version is None:  # pragma: no cover - the pattern admits only digits
            raise InvalidInputError(f"not a version: {m.group(2)!r}", path="versions")
        out.append((m.group(1), version))
    return out


def _pad(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    n = max(len(a), len(b))
    return a + (0,) * (n - len(a)), b + (0,) * (n - len(b))


_COMPARE = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    "==": lambda a, b: a == b,
}


def version_covered(versions: Sequence[str], version: str) -> bool:
    """Whether ``version`` is one of ``versions`` (exact, or inside a range).

    A range (``>=24.1,<25``) compares dotted numeric versions component by component
    (missing components are 0); a version that is not dotted numeric is covered only
    by an exact entry (fail closed).
    """
    have = _numeric(version)
    for spec in versions:
        bounds = _bounds(spec)
        if bounds is None:
            if spec == version:
                return True
        elif have is not None and all(
            _COMPARE[op](*_pad(have, bound)) for op, bound in bounds
        ):
            return True
    return False


def record_input(certificate_id: str) -> str:
    """The evidence input name of the record for ``certificate_id``."""
    return RECORD_INPUT_PREFIX + certificate_id


def source_input(sha256: str) -> str:
    """The evidence input name of a source document with digest ``sha256``."""
    return SOURCE_INPUT_PREFIX + sha256


def is_record_input(name: str) -> bool:
    """Whether an evidence input is a certification record or its source document."""
    return name.startswith(
        (RECORD_INPUT_PREFIX, SOURCE_INPUT_PREFIX, STATUS_INPUT_PREFIX)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Deliverable:
    """A certified deliverable as the certification report lists it."""

    name: str
    digest: Mapping[str, str]

    @classmethod
    def from_dict(cls, value: Any) -> Deliverable:
        """Parse ``{name, digest}`` (an in-toto ResourceDescriptor)."""
        d = f.check_type(value, dict, "")
        f.reject_unknown(d, frozenset({"name", "digest"}))
        return cls(
            name=f.require_str(d, "name"), digest=parse_digest_set(d.get("digest"))
        )

    def to_dict(self) -> dict[str, Any]:
        """Serialize."""
        return {"name": self.name, "digest": dict(self.digest)}


def _check_sha256(value: str, path: str) -> str:
    if not _SHA256.fullmatch(value):
        raise InvalidInputError("not a lowercase sha256 hex digest", path=path)
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificationRecord:
    """One certificate, transcribed and signed by an operator role."""

    #: The operator role that attests the transcription (never a certification body).
    role: str
    scheme: str
    certificate_id: str
    body_name: str
    body_accreditation: str
    #: The certificate holder as the policy knows it (a vendor principal id).
    holder: str
    product: str
    versions: tuple[str, ...]
    assurance_level: str | None
    issued: datetime
    valid_from: datetime
    valid_until: datetime
    status_url: str | None
    deliverables: tuple[Deliverable, ...]
    source_name: str
    source_sha256: str
    #: The public register row the transcription started from, if any
    #: (``<file>:line N sha256:<digest of the register file>``).
    register_row: str | None = None

    def __post_init__(self) -> None:
        """Refuse what no certificate can say (whoever builds the record)."""
        if self.scheme not in KNOWN_SCHEMES:
            raise InvalidInputError(
                f"unknown scheme {self.scheme!r} (known: "
                f"{', '.join(sorted(KNOWN_SCHEMES))})",
                path="scheme",
            )
        check_certificate_id(self.scheme, self.certificate_id, self.issued)
        if self.valid_until <= self.valid_from:
            raise InvalidInputError(
                "the validity window ends before it starts (validUntil "
                f"{f.format_time(self.valid_until)} is not after validFrom "
                f"{f.format_time(self.valid_from)})",
                path="validUntil",
            )
        if self.issued > self.valid_until:
            raise InvalidInputError("issued after the end of validity", path="issued")
        if not self.versions:
            raise InvalidInputError("at least one version is required", path="versions")
        for spec in self.versions:
            _bounds(spec)
        _check_sha256(self.source_sha256, "source.sha256")

    @property
    def attested_by(self) -> str:
        """How reports and evidence name who stands behind this record."""
        return (
            f"attested by operator {self.role}, transcribed from "
            f"sha256:{self.source_sha256}"
        )

    @classmethod
    def from_predicate(cls, d: Mapping[str, Any]) -> CertificationRecord:
        """Parse the predicate (our schema: unknown fields are rejected)."""
        f.reject_unknown(d, _KNOWN)
        role = f.parse_object(d, "attestation", _attestation)
        body = f.require_mapping(d, "certificationBody")
        try:
            f.reject_unknown(body, frozenset({"name", "accreditationId"}))
            body_name = f.require_str(body, "name")
            accreditation = f.require_str(body, "accreditationId")
        except InvalidInputError as e:
            raise e.under("certificationBody") from e
        source = f.require_mapping(d, "source")
        try:
            f.reject_unknown(source, frozenset({"name", "sha256"}))
            source_name = f.require_str(source, "name")
            source_sha256 = _check_sha256(f.require_str(source, "sha256"), "sha256")
        except InvalidInputError as e:
            raise e.under("source") from e
        deliverables = f.parse_list(
            d, "deliverables", Deliverable.from_dict, required=False
        )
        return cls(
            role=role,
            scheme=f.require_str(d, "scheme"),
            certificate_id=f.require_str(d, "certificateId", max_len=200),
            body_name=body_name,
            body_accreditation=accreditation,
            holder=f.require_str(d, "holder"),
            product=f.require_str(d, "product"),
            versions=f.parse_list(d, "versions", f.text_item, non_empty=True),
            assurance_level=f.optional_str(d, "assuranceLevel"),
            issued=f.require_time(d, "issued"),
            valid_from=f.require_time(d, "validFrom"),
            valid_until=f.require_time(d, "validUntil"),
            status_url=f.optional_str(d, "statusUrl"),
            deliverables=deliverables,
            source_name=source_name,
            source_sha256=source_sha256,
            register_row=f.optional_str(d, "registerRow"),
        )

    def to_predicate(self) -> dict[str, Any]:
        """Serialize the predicate object."""
        out: dict[str, Any] = {
            "attestation": {"by": "operator", "role": self.role},
            "scheme": self.scheme,
            "certificateId": self.certificate_id,
            "certificationBody": {
                "name": self.body_name,
                "accreditationId": self.body_accreditation,
            },
            "holder": self.holder,
            "product": self.product,
            "versions": list(self.versions),
            "issued": f.format_time(self.issued),
            "validFrom": f.format_time(self.valid_from),
            "validUntil": f.format_time(self.valid_until),
            "deliverables": [d.to_dict() for d in self.deliverables],
            "source": {"name": self.source_name, "sha256": self.source_sha256},
        }
        if self.assurance_level:
            out["assuranceLevel"] = self.assurance_level
        if self.status_url:
            out["statusUrl"] = self.status_url
        if self.register_row:
            out["registerRow"] = self.register_row
        return out

    def statement(self) -> dict[str, Any]:
        """The in-toto statement: its subject is the source document."""
        subject = Subject(name=self.source_name, digest={"sha256": self.source_sha256})
        return build_statement((subject,), RECORD_PREDICATE, self.to_predicate())


def _attestation(m: Mapping[str, Any]) -> str:
    f.reject_unknown(m, frozenset({"by", "role"}))
    by = f.require_str(m, "by")
    if by != "operator":
        raise InvalidInputError(
            f"a certification record is attested by the operator, not by {by!r}: a "
            "certification body's own statement is a certification statement "
            f"({CERTIFICATION_PREDICATE}) delivered with the delivery",
            path="by",
        )
    return f.require_str(m, "role")


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusRecord:
    """A certificate's status from ``as_of`` on, signed by the operator role.

    Appended by ``vendorproof certification status`` when a certificate is suspended,
    withdrawn or valid again (EUCC Art. 13, 14); ``source`` says where the operator
    learned it (a register page, a letter). Its subject is the certification record it
    is about (the record's input name and the sha256 of its envelope).
    """

    role: str
    certificate_id: str
    status: str
    as_of: datetime
    source: str
    record_name: str
    record_sha256: str

    def __post_init__(self) -> None:
        """Refuse a status no certificate can have."""
        if self.status not in CERTIFICATE_STATUSES:
            raise InvalidInputError(
                f"expected one of {', '.join(CERTIFICATE_STATUSES)}, got "
                f"{self.status!r}",
                path="status",
            )
        _check_sha256(self.record_sha256, "subject.digest.sha256")

    @classmethod
    def from_statement(cls, statement: Statement) -> StatusRecord:
        """Parse a status statement (its one subject is the record)."""
        d = statement.predicate
        try:
            f.reject_unknown(
                d,
                frozenset({"attestation", "certificateId", "status", "asOf", "source"}),
            )
            role = f.parse_object(d, "attestation", _attestation)
            certificate_id = f.require_str(d, "certificateId", max_len=200)
            status = f.require_str(d, "status")
            as_of = f.require_time(d, "asOf")
            source = f.require_str(d, "source")
        except InvalidInputError as e:
            raise e.under("predicate") from e
        if len(statement.subjects) != 1:
            raise InvalidInputError(
                "the subject must be the one record the status is about",
                path="subject",
            )
        subject = statement.subjects[0]
        return cls(
            role=role,
            record_name=subject.name,
            record_sha256=subject.digest.get("sha256", ""),
            certificate_id=certificate_id,
            status=status,
            as_of=as_of,
            source=source,
        )

    def statement(self) -> dict[str, Any]:
        """The in-toto statement."""
        subject = Subject(name=self.record_name, digest={"sha256": self.record_sha256})
        return build_statement(
            (subject,),
            STATUS_PREDICATE,
            {
                "attestation": {"by": "operator", "role": self.role},
                "certificateId": self.certificate_id,
                "status": self.status,
                "asOf": f.format_time(self.as_of),
                "source": self.source,
            },
        )


def seal_status(status: StatusRecord, key: crypto.SigningKey) -> bytes:
    """Sign a status record with an operator role key (DSSE, canonical JSON)."""
    return _seal(status.statement(), key)


def open_status(
    raw: bytes,
    keys: Sequence[crypto.PublicKey],
    *,
    file: str,
    limits: Limits = DEFAULT_LIMITS,
) -> StatusRecord:
    """Verify a status envelope with ``keys``, then parse it.

    Raises:
        SignatureError: no signature verifies with any of ``keys``.
        InvalidInputError: the envelope or the status is malformed.
    """
    statement, _ = _open(raw, keys, file=file, limits=limits, ptype=STATUS_PREDICATE)
    try:
        return StatusRecord.from_statement(statement)
    except InvalidInputError as e:
        raise e.in_file(file) from e


def seal_record(record: CertificationRecord, key: crypto.SigningKey) -> bytes:
    """Sign ``record`` with an operator role key: the DSSE envelope, canonical JSON."""
    return _seal(record.statement(), key)


def _seal(statement: Mapping[str, Any], key: crypto.SigningKey) -> bytes:
    payload = canonical_json(dict(statement))
    public = crypto.as_public_key(key.public_key())
    envelope = Envelope(
        payload_type=RECORD_PAYLOAD_TYPE,
        payload=payload,
        signatures=(
            Signature(
                sig=crypto.sign(key, pae(RECORD_PAYLOAD_TYPE, payload)),
                keyid=crypto.key_id(public),
            ),
        ),
    )
    return canonical_json(envelope.to_dict())


def open_record(
    raw: bytes,
    keys: Sequence[crypto.PublicKey],
    *,
    file: str,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[CertificationRecord, str]:
    """Verify a record envelope with ``keys``, then parse it; the record and key id.

    The signature is verified before anything in the payload is read.

    Raises:
        SignatureError: no signature verifies with any of ``keys``.
        InvalidInputError: the envelope or the record is malformed (naming the field).
    """
    statement, key_id = _open(
        raw, keys, file=file, limits=limits, ptype=RECORD_PREDICATE
    )
    try:
        try:
            record = CertificationRecord.from_predicate(statement.predicate)
        except InvalidInputError as e:
            raise e.under("predicate") from e
        source = statement.subjects[0].digest.get("sha256")
        if len(statement.subjects) != 1 or source != record.source_sha256:
            raise InvalidInputError(
                "the subject must be the source document (predicate.source)",
                path="subject",
            )
    except InvalidInputError as e:
        raise e.in_file(file) from e
    return record, key_id


def _open(
    raw: bytes,
    keys: Sequence[crypto.PublicKey],
    *,
    file: str,
    limits: Limits,
    ptype: str,
) -> tuple[Statement, str]:
    """Verify an envelope with ``keys``, then parse its statement of type ``ptype``."""
    try:
        envelope = Envelope.from_dict(
            f.check_type(parse_json(raw, file=file, limits=limits), dict, ""),
            limits=limits,
        )
    except InvalidInputError as e:
        raise InvalidInputError(f"not a DSSE envelope: {e}", file=file) from e
    key_id = _verify(envelope, keys, file)
    try:
        statement = Statement.from_bytes(envelope.payload, limits=limits)
        if statement.predicate_type != ptype:
            raise InvalidInputError(
                f"expected predicate type {ptype}, not {statement.predicate_type}",
                path="predicateType",
            )
    except InvalidInputError as e:
        raise e.in_file(file) from e
    return statement, key_id


def _verify(envelope: Envelope, keys: Sequence[crypto.PublicKey], file: str) -> str:
    if envelope.payload_type != RECORD_PAYLOAD_TYPE:
        raise InvalidInputError(
            f"payload type {envelope.payload_type!r}, expected {RECORD_PAYLOAD_TYPE}",
            file=file,
            path="payloadType",
        )
    message = envelope.pae()
    for sig in envelope.signatures:
        for key in keys:
            try:
                crypto.verify(key, sig.sig, message)
            except SignatureError:
                continue
            return crypto.key_id(key)
    raise SignatureError(
        f"{file}: no signature verifies with a key the policy gives the operator role"
    )


def source_digest(data: bytes) -> str:
    """The sha256 of a source document (what a record's ``source.sha256`` names)."""
    return hashlib.sha256(data).hexdigest()
