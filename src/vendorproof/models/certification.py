"""The certification-statement predicate (our schema: unknown fields are rejected)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
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
    status_url: str | None

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
        status_value, status_url = f.parse_object(d, "status", _status)
        valid_from = f.require_time(d, "validFrom")
        valid_until = f.require_time(d, "validUntil")
        if valid_until <= valid_from:
            raise InvalidInputError("must be after validFrom", path="validUntil")
        facility = None
        if d.get("evaluationFacility") is not None:
            facility = f.parse_object(d, "evaluationFacility", Party.from_dict)
        return cls(
            scheme=name,
            scheme_version=scheme_version,
            certificate_id=f.require_str(d, "certificateId"),
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
            status_url=status_url,
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
        if self.status_url:
            out["status"]["publishedAt"] = self.status_url
        if self.evaluation_facility:
            out["evaluationFacility"] = self.evaluation_facility.to_dict()
        if self.assurance_level:
            out["assuranceLevel"] = self.assurance_level
        return out
