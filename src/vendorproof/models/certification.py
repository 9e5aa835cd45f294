"""The certification-statement predicate (our schema: unknown fields are rejected)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from vendorproof.errors import InvalidInputError
from vendorproof.models import _fields as f
from vendorproof.models.manifest import Party
from vendorproof.models.statement import Statement

CERTIFICATION_PREDICATE = "https://vendorproof.dev/certification/v1"

#: Certification schemes named in BSI TR-03163 and the EU cybersecurity act.
KNOWN_SCHEMES = frozenset({"NESAS", "BSI-NESAS-CCS-GI", "CC", "EUCC", "BSZ"})
STATUSES = frozenset({"valid", "suspended", "withdrawn", "expired"})
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

#: The unique identification of an EUCC certificate, Commission Implementing Regulation
#: (EU) 2024/482, Art. 11(3)(b): "(1) the name of the scheme; (2) the name and the
#: reference number of the accreditation of the certification body that has issued the
#: certificate; (3) year and month of issuance; (4) identification number assigned by
#: the certification body that has issued the certificate". The regulation names the
#: parts, not a spelling; certification bodies join them with hyphens (ids in the public
#: EUCC data the sec-certs project collects: ``EUCC-3090-2025-10-0003``,
#: ``EUCC-ANSSI-2025-3-2``, ``EUCC-3110-2025-08-2500052-01``), which is the spelling
#: read here: the scheme name ``EUCC``, the body's reference (letters and digits), a
#: four-digit year, a month 1-12, and the body's identification number (letters and
#: digits, hyphens between).
EUCC_ID_PATTERN = (
    "EUCC-<certification body>-<year>-<month>-<number>, e.g. EUCC-3090-2025-10-0003"
)
_EUCC_ID = re.compile(
    r"EUCC-(?P<body>[A-Za-z0-9]+)-(?P<year>[0-9]{4})-(?P<month>[0-9]+)"
    r"-(?P<number>[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)"
)
_EUCC_ARTICLE = "Art. 11(3)(b) of Implementing Regulation (EU) 2024/482"


def _shifted(at: datetime, hours: int) -> datetime:
    """``at`` moved by ``hours``, or ``at`` itself where that leaves the calendar.

    An issuance time is untrusted input and may be the first or last representable
    instant (0001-01-01, 9999-12-31); no month lies beyond those.
    """
    try:
        return at + timedelta(hours=hours)
    except OverflowError:
        return at


def check_certificate_id(
    scheme: str,
    certificate_id: str,
    issued: datetime | None,
    *,
    path: str = "certificateId",
) -> None:
    """Refuse a certificate id that does not have the structure its scheme prescribes.

    Only EUCC prescribes one (:data:`EUCC_ID_PATTERN`); NESAS, BSI and Common
    Criteria ids are whatever the issuing body writes. The year and month an EUCC id
    names must be those of ``issued`` (when given) in some time zone: a certificate
    states a date, not an instant, so any UTC offset from -12:00 to +14:00 counts.

    Raises:
        InvalidInputError: the id does not fit (naming ``path``).

    """
    if scheme != "EUCC":
        return
    m = _EUCC_ID.fullmatch(certificate_id)
    if m is None:
        raise InvalidInputError(
            f"{certificate_id!r} is not the unique identification of an EUCC "
            f"certificate ({_EUCC_ARTICLE}: {EUCC_ID_PATTERN})",
            path=path,
        )
    month = m.group("month")
    if len(month) > 2 or not 1 <= int(month) <= 12:
        hint = (
            " (a long number after the year is the ENISA portal's yearly number, "
            "which leaves out the month: transcribe the identification printed on "
            "the certificate or its label)"
            if len(month) > 2
            else ""
        )
        raise InvalidInputError(
            f"{certificate_id!r} names no month of issuance after the year "
            f"({_EUCC_ARTICLE}: {EUCC_ID_PATTERN}){hint}",
            path=path,
        )
    if issued is None:
        return
    named = (int(m.group("year")), int(month))
    at = issued.astimezone(UTC)
    possible = {(t.year, t.month) for t in (_shifted(at, -12), _shifted(at, 14))}
    if named not in possible:
        raise InvalidInputError(
            f"{certificate_id!r} names issuance in {named[0]}-{named[1]:02d}, but the "
            f"certificate was issued {f.format_time(issued)} ({_EUCC_ARTICLE}: year "
            "and month of issuance)",
            path=path,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """An evaluation or certification report referenced by digest."""

    type: str
    id: str
    sha256: str

    @classmethod
    def from_dict(cls, value: Any) -> Report:
        """Parse ``{type, id, sha256}``."""
        d = f.check_type(value, dict, "")
        f.reject_unknown(d, frozenset({"type", "id", "sha256"}))
        digest = f.require(d, "sha256", str)
        if not _SHA256.fullmatch(digest):
            raise InvalidInputError("not a lowercase sha256 hex digest", path="sha256")
        return cls(
            type=f.require_str(d, "type"), id=f.require_str(d, "id"), sha256=digest
        )

    def to_dict(self) -> dict[str, Any]:
        """Serialize."""
        return {"type": self.type, "id": self.id, "sha256": self.sha256}


def _scheme(m: Mapping[str, Any]) -> tuple[str, str]:
    f.reject_unknown(m, frozenset({"name", "version"}))
    name = f.require_str(m, "name")
    if name not in KNOWN_SCHEMES:
        raise InvalidInputError(
            f"unknown scheme {name!r} (known: {', '.join(sorted(KNOWN_SCHEMES))})",
            path="name",
        )
    return name, f.require_str(m, "version")


def _product(m: Mapping[str, Any]) -> tuple[str, str, tuple[str, ...]]:
    f.reject_unknown(m, frozenset({"name", "category", "versions"}))
    versions = f.parse_list(m, "versions", f.text_item, non_empty=True)
    return f.require_str(m, "name"), f.require_str(m, "category"), versions


def _status(m: Mapping[str, Any]) -> tuple[str, str | None]:
    f.reject_unknown(m, frozenset({"value", "publishedAt"}))
    value = f.check_choice(f.require_str(m, "value"), sorted(STATUSES), "value")
    return value, f.optional_str(m, "publishedAt")


@dataclass(frozen=True, slots=True, kw_only=True)
class Certification:
    """A certification body's statement about one product (domain brief §3)."""

    scheme: str
    scheme_version: str
    certificate_id: str
    certification_body: Party
    evaluation_facility: Party | None
    holder: Party
    product: str
    category: str
    versions: tuple[str, ...]
    scope: str
    assurance_level: str | None
    conformance: tuple[str, ...]
    reports: tuple[Report, ...]
    valid_from: datetime
    valid_until: datetime
    status: str
    #: Where the status is published (a URL; ``status.publishedAt`` on the wire).
    published_at: str | None

    @classmethod
    def from_predicate(cls, d: Mapping[str, Any]) -> Certification:
        """Parse the predicate object."""
        f.reject_unknown(
            d,
            frozenset(
                {
                    "scheme",
                    "certificateId",
                    "certificationBody",
                    "evaluationFacility",
                    "holder",
                    "product",
                    "scope",
                    "assuranceLevel",
                    "conformance",
                    "reports",
                    "validFrom",
                    "validUntil",
                    "status",
                }
            ),
        )
        name, scheme_version = f.parse_object(d, "scheme", _scheme)
        product_name, category, versions = f.parse_object(d, "product", _product)
        status_value, published_at = f.parse_object(d, "status", _status)
        valid_from = f.require_time(d, "validFrom")
        valid_until = f.require_time(d, "validUntil")
        if valid_until <= valid_from:
            raise InvalidInputError("must be after validFrom", path="validUntil")
        facility = None
        if d.get("evaluationFacility") is not None:
            facility = f.parse_object(d, "evaluationFacility", Party.from_dict)
        certificate_id = f.require_str(d, "certificateId")
        # The structure only: a body's validFrom need not be the day of issuance.
        check_certificate_id(name, certificate_id, None)
        return cls(
            scheme=name,
            scheme_version=scheme_version,
            certificate_id=certificate_id,
            certification_body=f.parse_object(d, "certificationBody", Party.from_dict),
            evaluation_facility=facility,
            holder=f.parse_object(d, "holder", Party.from_dict),
            product=product_name,
            category=category,
            versions=versions,
            scope=f.require_str(d, "scope"),
            assurance_level=f.optional_str(d, "assuranceLevel"),
            conformance=f.parse_list(d, "conformance", f.text_item, required=False),
            reports=f.parse_list(d, "reports", Report.from_dict, required=False),
            valid_from=valid_from,
            valid_until=valid_until,
            status=status_value,
            published_at=published_at,
        )

    @classmethod
    def from_statement(cls, statement: Statement) -> Certification:
        """Parse a certification statement's predicate."""
        if statement.predicate_type != CERTIFICATION_PREDICATE:
            raise InvalidInputError(
                f"expected predicate type {CERTIFICATION_PREDICATE}",
                path="predicateType",
            )
        try:
            return cls.from_predicate(statement.predicate)
        except InvalidInputError as e:
            raise e.under("predicate") from e

    def to_predicate(self) -> dict[str, Any]:
        """Serialize the predicate object."""
        out: dict[str, Any] = {
            "scheme": {"name": self.scheme, "version": self.scheme_version},
            "certificateId": self.certificate_id,
            "certificationBody": self.certification_body.to_dict(),
            "holder": self.holder.to_dict(),
            "product": {
                "name": self.product,
                "category": self.category,
                "versions": list(self.versions),
            },
            "scope": self.scope,
            "conformance": list(self.conformance),
            "reports": [r.to_dict() for r in self.reports],
            "validFrom": f.format_time(self.valid_from),
            "validUntil": f.format_time(self.valid_until),
            "status": {"value": self.status},
        }
        if self.published_at:
            out["status"]["publishedAt"] = self.published_at
        if self.evaluation_facility:
            out["evaluationFacility"] = self.evaluation_facility.to_dict()
        if self.assurance_level:
            out["assuranceLevel"] = self.assurance_level
        return out
