"""The policy sections about suppliers and versions (``parser.py``).

The deny-list (``denyList``), supplier concentration (``concentration``: high-risk
vendors and warning thresholds, per network domain) and the allowed rollbacks
(``rollbackExceptions``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from vendorproof.models._fields import Path
from vendorproof.models.inventory import DOMAINS as _INVENTORY_DOMAINS
from vendorproof.models.policy._reader import Reader, _or_empty
from vendorproof.models.policy.parts import (
    ConcentrationPolicy,
    ConcentrationThresholds,
    DenyEntry,
    Principal,
    RollbackAllowance,
)

__all__ = ["SupplyChainSections"]

DOMAINS = frozenset(_INVENTORY_DOMAINS)


class SupplyChainSections(Reader):
    """``denyList``, ``concentration`` and ``rollbackExceptions``."""

    def deny(self, value: Any, at: Path) -> tuple[DenyEntry, ...]:
        out = []
        for where, m in self.entries(
            value,
            at,
            known=frozenset({"vendor", "product", "effective", "reason"}),
            required=frozenset({"vendor", "effective", "reason"}),
        ):
            out.append(
                DenyEntry(
                    vendor=self.string(m["vendor"], (*where, "vendor")),
                    product=self.string(m.get("product", "*"), (*where, "product")),
                    effective=self.time(m["effective"], (*where, "effective")),
                    reason=self.string(m["reason"], (*where, "reason")),
                )
            )
        return tuple(out)

    def concentration(
        self, value: Any, at: Path, vendors: tuple[Principal, ...]
    ) -> ConcentrationPolicy:
        """``concentration``: high-risk vendor ids and warning thresholds."""
        bounds = frozenset({"maxShare", "maxHhi"})
        m = self.mapping(_or_empty(value), at, known=bounds | {"highRisk", "domains"})
        ids = {v.id for v in vendors}
        high_risk = []
        for i, item in enumerate(self.items(m.get("highRisk"), (*at, "highRisk"))):
            vendor = self.string(item, (*at, "highRisk", i))
            if vendor not in ids:
                raise self.fail(
                    f"unknown vendor id {vendor!r} (not one of the policy's vendors; "
                    "mark a vendor outside the policy with a denyList entry)",
                    (*at, "highRisk", i),
                )
            high_risk.append(vendor)
        where = (*at, "domains")
        domains = self.mapping(_or_empty(m.get("domains")), where, known=DOMAINS)
        return ConcentrationPolicy(
            high_risk=tuple(dict.fromkeys(high_risk)),
            thresholds=self.thresholds(m, at),
            domains=MappingProxyType(
                {
                    d: self.thresholds(
                        self.mapping(_or_empty(v), (*where, d), known=bounds),
                        (*where, d),
                    )
                    for d, v in domains.items()
                }
            ),
        )

    def fraction(self, value: Any, at: Path) -> Fraction | None:
        """A threshold between 0 and 1 (a YAML number, kept exact)."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail("expected a number between 0 and 1", at)
        number = Fraction(Decimal(str(value)))
        if not 0 <= number <= 1:
            raise self.fail(f"must be between 0 and 1, got {value}", at)
        return number

    def thresholds(self, m: Mapping[str, Any], at: Path) -> ConcentrationThresholds:
        return ConcentrationThresholds(
            max_share=self.fraction(m.get("maxShare"), (*at, "maxShare")),
            max_hhi=self.fraction(m.get("maxHhi"), (*at, "maxHhi")),
        )

    def rollback(self, value: Any, at: Path) -> tuple[RollbackAllowance, ...]:
        out = []
        for where, m in self.entries(
            value,
            at,
            known=frozenset({"vendor", "product", "securityVersion", "reason"}),
            required=frozenset({"vendor", "product", "securityVersion", "reason"}),
        ):
            sv = self.integer(
                m["securityVersion"], (*where, "securityVersion"), minimum=0
            )
            out.append(
                RollbackAllowance(
                    vendor=self.string(m["vendor"], (*where, "vendor")),
                    product=self.string(m["product"], (*where, "product")),
                    security_version=sv,
                    reason=self.string(m["reason"], (*where, "reason")),
                )
            )
        return tuple(out)
