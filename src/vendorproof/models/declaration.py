"""The trust-declaration predicate (our schema: unknown fields are rejected)."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vendorproof._internal.jsonio import canonical_json
from vendorproof.errors import InvalidInputError
from vendorproof.models import _fields as f
from vendorproof.models.manifest import Party
from vendorproof.models.statement import Statement, Subject

DECLARATION_PREDICATE = "https://vendorproof.dev/trust-declaration/v1"


def _signatory(m: Mapping[str, Any]) -> tuple[str, str]:
    f.reject_unknown(m, frozenset({"name", "role"}))
    return f.require_str(m, "name"), f.require_str(m, "role")


@dataclass(frozen=True, slots=True, kw_only=True)
class TrustDeclaration:
    """A vendor's declaration of trustworthiness (e.g. the §9b BSIG guarantee)."""

    vendor: Party
    legal_entity: str
    products: tuple[str, ...]
    issued_at: datetime
    valid_until: datetime
    signatory_name: str
    signatory_role: str
    commitments: tuple[str, ...]
    legal_basis: str

    @classmethod
    def from_predicate(cls, d: Mapping[str, Any]) -> TrustDeclaration:
        """Parse the predicate object."""
        f.reject_unknown(
            d,
            frozenset(
                {
                    "vendor",
                    "legalEntity",
                    "products",
                    "issuedAt",
                    "validUntil",
                    "signatory",
                    "commitments",
                    "legalBasis",
                }
            ),
        )
        sname, srole = f.parse_object(d, "signatory", _signatory)
        issued = f.require_time(d, "issuedAt")
        until = f.require_time(d, "validUntil")
        if until <= issued:
            raise InvalidInputError("must be after issuedAt", path="validUntil")
        return cls(
            vendor=f.parse_object(d, "vendor", Party.from_dict),
            legal_entity=f.require_str(d, "legalEntity"),
            products=f.parse_list(d, "products", f.text_item, non_empty=True),
            issued_at=issued,
            valid_until=until,
            signatory_name=sname,
            signatory_role=srole,
            commitments=f.parse_list(d, "commitments", f.text_item, non_empty=True),
            legal_basis=f.require_str(d, "legalBasis"),
        )

    @classmethod
    def from_statement(cls, statement: Statement) -> TrustDeclaration:
        """Parse a declaration statement's predicate."""
        if statement.predicate_type != DECLARATION_PREDICATE:
            raise InvalidInputError(
                f"expected predicate type {DECLARATION_PREDICATE}", path="predicateType"
            )
        try:
            return cls.from_predicate(statement.predicate)
        except InvalidInputError as e:
            raise e.under("predicate") from e

    def covers(self, product: str) -> bool:
        """Whether ``product`` matches one of the declared product patterns."""
        return any(fnmatch.fnmatchcase(product, p) for p in self.products)

    def to_predicate(self) -> dict[str, Any]:
        """Serialize the predicate object."""
        return {
            "vendor": self.vendor.to_dict(),
            "legalEntity": self.legal_entity,
            "products": list(self.products),
            "issuedAt": f.format_time(self.issued_at),
            "validUntil": f.format_time(self.valid_until),
            "signatory": {"name": self.signatory_name, "role": self.signatory_role},
            "commitments": list(self.commitments),
            "legalBasis": self.legal_basis,
        }

    def subject(self) -> Subject:
        """The statement subject: the declaration content itself, by digest.

        in-toto requires a subject with a digest; a declaration is about a vendor, not a
        file, so its subject is the canonical JSON of its own predicate.
        """
        import hashlib

        digest = hashlib.sha256(canonical_json(self.to_predicate())).hexdigest()
        return Subject(
            name=f"trust-declaration:{self.vendor.id}", digest={"sha256": digest}
        )
