"""The policy sections about certification and signed documents (``parser.py``).

Which components need which certification (``certification.requirements``), who may
attest certification records (``certification.records``), the operator's catalogue of
vendors' products (``catalogue``), and how many signatures of which role each kind of
signed document needs (``signatureRequirements``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from vendorproof.models._fields import Path
from vendorproof.models.certification import KNOWN_SCHEMES
from vendorproof.models.manifest import ComponentKind, Domain
from vendorproof.models.policy._reader import (
    _CONTROL,
    Reader,
    _encodable,
    _or_empty,
)
from vendorproof.models.policy.parts import (
    DOCUMENT_KINDS,
    ROLES,
    Catalogue,
    CatalogueEntry,
    CertificationRule,
    OperatorAttestation,
    SignatureRequirement,
    UnknownProduct,
    WithoutDigests,
)

__all__ = ["CertificationSections"]


class CertificationSections(Reader):
    """``certification``, ``catalogue`` and ``signatureRequirements``."""

    def rules(self, value: Any, at: Path) -> tuple[CertificationRule, ...]:
        out = []
        for where, m in self.entries(
            value,
            at,
            known=frozenset(
                {"description", "domains", "networkFunctions", "kinds", "schemes"}
            ),
            required=frozenset({"schemes"}),
        ):
            schemes = self.strings(
                m["schemes"], (*where, "schemes"), allowed=KNOWN_SCHEMES
            )
            if not schemes:
                raise self.fail("needs at least one scheme", (*where, "schemes"))
            out.append(
                CertificationRule(
                    description=self.optional_text(
                        m.get("description"), (*where, "description")
                    )
                    or f"rule {where[-1]}",
                    domains=self.strings(
                        m.get("domains"),
                        (*where, "domains"),
                        allowed=frozenset(d.value for d in Domain),
                    ),
                    network_functions=self.strings(
                        m.get("networkFunctions"), (*where, "networkFunctions")
                    ),
                    kinds=self.strings(
                        m.get("kinds"),
                        (*where, "kinds"),
                        allowed=frozenset(k.value for k in ComponentKind),
                    ),
                    schemes=schemes,
                )
            )
        return tuple(out)

    def operator_attestation(self, value: Any, at: Path) -> OperatorAttestation | None:
        """``certification.records``: who may attest certification records."""
        if value is None:
            return None
        m = self.mapping(
            value,
            at,
            known=frozenset(
                {"role", "publicKeys", "schemes", "withoutDigests", "register"}
            ),
            required=frozenset({"role", "publicKeys", "schemes", "register"}),
        )
        keys = self.keys(m["publicKeys"], (*at, "publicKeys"))
        if not keys:
            raise self.fail("needs at least one key", (*at, "publicKeys"))
        schemes = self.strings(m["schemes"], (*at, "schemes"), allowed=KNOWN_SCHEMES)
        if not schemes:
            raise self.fail("needs at least one scheme", (*at, "schemes"))
        register = self.string(m["register"], (*at, "register"))
        if _CONTROL.search(register) or not _encodable(register):
            raise self.fail(f"not a usable directory: {register!r}", (*at, "register"))
        return OperatorAttestation(
            role=self.string(m["role"], (*at, "role")),
            public_keys=keys,
            schemes=schemes,
            without_digests=WithoutDigests(
                self.enum_value(
                    m.get("withoutDigests"),
                    (*at, "withoutDigests"),
                    tuple(w.value for w in WithoutDigests),
                    "fail",
                )
            ),
            register=register,
        )

    def catalogue(self, value: Any, at: Path) -> Catalogue | None:
        """``catalogue``: the operator's classification of vendors' products."""
        if value is None:
            return None
        m = self.mapping(
            value,
            at,
            known=frozenset({"products", "unknownProduct"}),
            required=frozenset({"products"}),
        )
        entries = []
        kinds = tuple(k.value for k in ComponentKind)
        for where, e in self.entries(
            m["products"],
            (*at, "products"),
            known=frozenset(
                {
                    "vendor",
                    "product",
                    "domain",
                    "networkFunctions",
                    "category",
                    "components",
                }
            ),
            required=frozenset({"vendor", "product", "domain", "category"}),
        ):
            components = []
            for cwhere, c in self.entries(
                e.get("components"),
                (*where, "components"),
                known=frozenset({"path", "kind"}),
                required=frozenset({"path", "kind"}),
            ):
                components.append(
                    (
                        self.string(c["path"], (*cwhere, "path")),
                        self.choice(c["kind"], (*cwhere, "kind"), kinds),
                    )
                )
            entries.append(
                CatalogueEntry(
                    vendor=self.string(e["vendor"], (*where, "vendor")),
                    product=self.string(e["product"], (*where, "product")),
                    domain=self.choice(
                        e["domain"],
                        (*where, "domain"),
                        tuple(d.value for d in Domain),
                    ),
                    network_functions=self.strings(
                        e.get("networkFunctions"), (*where, "networkFunctions")
                    ),
                    category=self.string(e["category"], (*where, "category")),
                    components=tuple(components),
                )
            )
        if not entries:
            raise self.fail("needs at least one product", (*at, "products"))
        return Catalogue(
            products=tuple(entries),
            unknown_product=UnknownProduct(
                self.enum_value(
                    m.get("unknownProduct"),
                    (*at, "unknownProduct"),
                    tuple(u.value for u in UnknownProduct),
                    "fail",
                )
            ),
        )

    def requirements(
        self, value: Any, at: Path
    ) -> Mapping[str, tuple[SignatureRequirement, ...]]:
        m = self.mapping(_or_empty(value), at, known=frozenset(DOCUMENT_KINDS))
        out: dict[str, tuple[SignatureRequirement, ...]] = {}
        for kind, items in m.items():
            reqs = []
            for i, item in enumerate(self.items(items, (*at, kind))):
                where = (*at, kind, i)
                r = self.mapping(
                    item,
                    where,
                    known=frozenset({"role", "threshold"}),
                    required=frozenset({"role", "threshold"}),
                )
                role = self.choice(r["role"], (*where, "role"), ROLES)
                n = self.integer(r["threshold"], (*where, "threshold"), minimum=1)
                reqs.append(SignatureRequirement(role=role, threshold=n))
            if not reqs:
                raise self.fail("needs at least one requirement", (*at, kind))
            out[kind] = tuple(reqs)
        return MappingProxyType(out)
