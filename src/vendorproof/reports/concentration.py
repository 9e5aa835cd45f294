"""Vendor concentration per domain and network function (multi-vendor evidence).

Joins the operator's deployment inventory with the deliveries accepted at intake
(verified records only, :class:`~vendorproof.reports._records.StoreView`) and the
policy's vendors and deny-list. Per domain (RAN, Core, Transport, OAM) and per
network function: each vendor's share of the deployed weight (instance count, or the
declared capacity when every row declares one), the Herfindahl-Hirschman index
``HHI = sum(share^2)``, the effective number of vendors ``1/HHI``, a single-vendor
flag, and the share held by vendors the policy marks high-risk
(``concentration.highRisk``) and by rows a deny-list entry in force matches. The HHI
band follows GSMA Intelligence (< 0.10 unconcentrated, 0.10-0.18 moderate, > 0.18
high). Thresholds are warnings, never a verdict: no rule sets a number (the 5G
toolbox's SM05 asks for a multi-vendor strategy, not a market-share cap); the
policy's ``concentration`` section sets them, globally or per domain
(``docs/concentration.md``). Shares are computed exactly (fractions) and rounded only
for output.

Rows are joined by vendor: an inventory vendor maps to a policy vendor by policy id,
else by name (case-insensitive); a row whose vendor maps to none is flagged and kept
under the name the inventory gives. A deployed version that no verified record
accepted for that vendor and product is flagged ``never-accepted``; a product no
record accepted at all ``unknown-product``. Nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from vendorproof.models import _fields
from vendorproof.models.inventory import DOMAINS, Inventory, InventoryRow
from vendorproof.models.policy import (
    ConcentrationPolicy,
    ConcentrationThresholds,
    Policy,
    Principal,
)
from vendorproof.reports._html import esc, page, table
from vendorproof.reports._records import StoreView

__all__ = ["ConcentrationReport", "Partition", "concentration_report"]

UNCONCENTRATED = Fraction(10, 100)
HIGH = Fraction(18, 100)


@dataclass(frozen=True, slots=True, kw_only=True)
class VendorShare:
    """One vendor in one partition."""

    key: str  # the policy id, or the inventory's name when it maps to none
    name: str
    mapped: bool
    weight: Fraction
    share: Fraction
    high_risk: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Partition:
    """A domain, or a network function within a domain."""

    domain: str
    network_function: str | None
    total: Fraction
    vendors: tuple[VendorShare, ...]
    high_risk_share: Fraction
    deny_listed_share: Fraction
    warnings: tuple[str, ...]

    @property
    def hhi(self) -> Fraction | None:
        """The Herfindahl-Hirschman index (``None`` with nothing deployed)."""
        if not self.total:
            return None
        return sum((v.share * v.share for v in self.vendors), Fraction(0))

    @property
    def effective_vendors(self) -> Fraction | None:
        """``1 / HHI``: the number of equal vendors with the same concentration."""
        hhi = self.hhi
        return 1 / hhi if hhi else None

    @property
    def band(self) -> str:
        """The GSMA Intelligence concentration band of the HHI."""
        hhi = self.hhi
        if hhi is None:
            return "none deployed"
        if hhi < UNCONCENTRATED:
            return "unconcentrated"
        return "moderate" if hhi <= HIGH else "high"

    @property
    def largest_share(self) -> Fraction:
        """The largest vendor's share (0 with nothing deployed)."""
        return max((v.share for v in self.vendors), default=Fraction(0))

    @property
    def single_vendor(self) -> bool:
        """Whether one vendor holds all of the deployed weight."""
        return sum(1 for v in self.vendors if v.weight) == 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Flag:
    """An inventory row that needs a look, and why."""

    where: str
    kind: str  # unknown-vendor | unknown-product | never-accepted
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ConcentrationReport:
    """The concentration report of one inventory against one store and policy."""

    inventory_file: str
    inventory: Inventory
    view: StoreView
    at: datetime
    settings: ConcentrationPolicy
    domains: tuple[Partition, ...]
    functions: tuple[Partition, ...]
    flags: tuple[Flag, ...]

    @property
    def weight(self) -> str:
        """What a share weighs: ``capacity`` or ``instances``."""
        return "capacity" if self.inventory.capacity_declared else "instances"

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON data (numbers rounded to 6 decimals)."""
        return {
            "report": "concentration",
            "store": self.view.url,
            "at": _fields.format_time(self.at),
            "inventory": {
                "file": self.inventory_file,
                "format": self.inventory.format,
                "rows": len(self.inventory.rows),
                "weight": self.weight,
            },
            "integrity": {
                "records": self.view.total,
                "verified": self.view.verified,
                "intact": self.view.intact,
            },
            "highRisk": list(self.settings.high_risk),
            "thresholds": {
                **_bounds(self.settings.thresholds),
                "domains": {
                    d: _bounds(t) for d, t in sorted(self.settings.domains.items())
                },
            },
            "domains": [_partition(p) for p in self.domains],
            "networkFunctions": [_partition(p) for p in self.functions],
            "flags": [
                {"where": f.where, "kind": f.kind, "message": f.message}
                for f in self.flags
            ],
        }

    def text(self) -> str:
        """The report as plain text lines."""
        lines = [
            (
                f"vendor concentration: {self.inventory_file} "
                f"({self.inventory.format}, {len(self.inventory.rows)} rows, shares by "
                f"{self.weight}) against {self.view.url}"
            ),
        ]
        for p in (*self.domains, *self.functions):
            where = p.domain + (
                f" / {p.network_function}" if p.network_function else ""
            )
            lines.append(
                f"{where}: {len(p.vendors)} vendor(s), HHI {_fmt(p.hhi)} ({p.band}), "
                f"effective vendors {_fmt(p.effective_vendors)}, largest share "
                f"{_pct(p.largest_share)}"
                + (", SINGLE VENDOR" if p.single_vendor else "")
                + f", high-risk {_pct(p.high_risk_share)}, deny-listed "
                f"{_pct(p.deny_listed_share)}"
            )
            lines += [
                f"  {v.name} ({v.key if v.mapped else 'no policy vendor'}): "
                f"{_pct(v.share)}" + (" high-risk" if v.high_risk else "")
                for v in p.vendors
            ]
            lines += [f"  warning: {w}" for w in p.warnings]
        lines += [f"flag {f.kind} ({f.where}): {f.message}" for f in self.flags]
        return "\n".join(lines) + "\n"

    def html(self) -> str:
        """One self-contained page with an inline SVG bar chart per partition."""
        body = [
            "<h1>Vendor concentration</h1>",
            (
                f"<p>Inventory {esc(self.inventory_file)} "
                f"({esc(self.inventory.format)}, {len(self.inventory.rows)} rows, "
                f"shares by {esc(self.weight)}); store "
                f"<code>{esc(self.view.url)}</code>.</p>"
            ),
            html_partitions(self.domains, "Domains"),
            html_partitions(self.functions, "Network functions"),
        ]
        if self.flags:
            body.append("<h2>Flagged inventory rows</h2>")
            body.append(
                table(
                    ("row", "flag", "why"),
                    ((esc(f.where), esc(f.kind), esc(f.message)) for f in self.flags),
                    cls="flags",
                )
            )
        return page("vendorproof vendor concentration", "".join(body))


def _bounds(t: ConcentrationThresholds) -> dict[str, float | None]:
    return {"maxShare": _num(t.max_share), "maxHhi": _num(t.max_hhi)}


def _num(value: Fraction | None) -> float | None:
    return None if value is None else round(float(value), 6)


def _fmt(value: Fraction | None) -> str:
    return "-" if value is None else f"{float(value):.4f}"


def _pct(value: Fraction) -> str:
    return f"{float(value) * 100:.1f}%"


def _partition(p: Partition) -> dict[str, Any]:
    return {
        "domain": p.domain,
        "networkFunction": p.network_function,
        "total": _num(p.total),
        "vendorCount": len(p.vendors),
        "vendors": [
            {
                "vendor": v.key,
                "name": v.name,
                "policyVendor": v.mapped,
                "weight": _num(v.weight),
                "share": _num(v.share),
                "highRisk": v.high_risk,
            }
            for v in p.vendors
        ],
        "largestShare": _num(p.largest_share),
        "hhi": _num(p.hhi),
        "effectiveVendors": _num(p.effective_vendors),
        "band": p.band,
        "singleVendor": p.single_vendor,
        "highRiskShare": _num(p.high_risk_share),
        "denyListedShare": _num(p.deny_listed_share),
        "warnings": list(p.warnings),
    }


def _bars(p: Partition) -> str:
    """Inline SVG: one bar per vendor, width proportional to its share."""
    height = 22 * len(p.vendors) + 4
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="520" height="{height}" '
            f'role="img" aria-label="vendor shares">'
        )
    ]
    for i, v in enumerate(p.vendors):
        y = 22 * i + 2
        width = round(float(v.share) * 300, 1)
        colour = "#a30d0d" if v.high_risk else "#2b6cb0"
        parts.append(
            f'<text x="0" y="{y + 14}" font-size="12">{esc(v.name[:28])}</text>'
            f'<rect x="180" y="{y}" width="{width}" height="16" fill="{colour}"/>'
            f'<text x="{185 + width}" y="{y + 13}" font-size="12">'
            f"{esc(_pct(v.share))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def html_partitions(partitions: Sequence[Partition], title: str) -> str:
    """A section: per partition its numbers, chart and vendors (all escaped)."""
    out = [f"<h2>{esc(title)}</h2>"]
    for p in partitions:
        name = p.domain + (f" / {p.network_function}" if p.network_function else "")
        key = "nf" if p.network_function else "domain"
        out.append(
            f'<section class="partition" data-kind="{key}" '
            f'data-domain="{esc(p.domain)}" data-nf="{esc(p.network_function or "")}">'
            f"<h3>{esc(name)}</h3>"
            f'<p>HHI <span class="hhi">{esc(_num(p.hhi))}</span> ({esc(p.band)}), '
            f'effective vendors <span class="eff">{esc(_num(p.effective_vendors))}'
            f"</span>, largest share {esc(_pct(p.largest_share))}"
            + (
                ' <strong class="fail">single vendor</strong>'
                if p.single_vendor
                else ""
            )
            + f", high-risk {esc(_pct(p.high_risk_share))}, deny-listed "
            f"{esc(_pct(p.deny_listed_share))}</p>"
            + _bars(p)
            + table(
                ("vendor", "policy id", "weight", "share"),
                (
                    (
                        esc(v.name) + (" (high-risk)" if v.high_risk else ""),
                        esc(v.key if v.mapped else "no policy vendor"),
                        esc(_num(v.weight)),
                        f'<span class="share">{esc(_num(v.share))}</span>',
                    )
                    for v in p.vendors
                ),
            )
            + "".join(f'<p class="fail">{esc(w)}</p>' for w in p.warnings)
            + "</section>"
        )
    return "".join(out)


@dataclass(frozen=True, slots=True)
class _Mapped:
    row: InventoryRow
    key: str
    name: str
    mapped: bool


def _map_vendor(row: InventoryRow, vendors: Sequence[Principal]) -> _Mapped:
    for v in vendors:
        if row.vendor == v.id:
            return _Mapped(row, v.id, v.name, mapped=True)
    folded = row.vendor.casefold()
    for v in vendors:
        if folded == v.name.casefold():
            return _Mapped(row, v.id, v.name, mapped=True)
    return _Mapped(row, row.vendor, row.vendor, mapped=False)


def _weight(row: InventoryRow, by_capacity: bool) -> Fraction:
    if by_capacity and row.capacity is not None:
        return Fraction(row.capacity)
    return Fraction(row.instances)


def _partition_of(
    domain: str,
    function: str | None,
    rows: Iterable[_Mapped],
    *,
    by_capacity: bool,
    high_risk: frozenset[str],
    denied: set[int],
    thresholds: ConcentrationThresholds,
) -> Partition:
    weights: dict[str, Fraction] = {}
    names: dict[str, tuple[str, bool]] = {}
    deny_weight = Fraction(0)
    for m in rows:
        w = _weight(m.row, by_capacity)
        weights[m.key] = weights.get(m.key, Fraction(0)) + w
        names[m.key] = (m.name, m.mapped)
        if id(m.row) in denied:
            deny_weight += w
    total = sum(weights.values(), Fraction(0))
    vendors = tuple(
        VendorShare(
            key=k,
            name=names[k][0],
            mapped=names[k][1],
            weight=w,
            share=w / total if total else Fraction(0),
            high_risk=k in high_risk,
        )
        for k, w in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    p = Partition(
        domain=domain,
        network_function=function,
        total=total,
        vendors=vendors,
        high_risk_share=sum((v.share for v in vendors if v.high_risk), Fraction(0)),
        deny_listed_share=deny_weight / total if total else Fraction(0),
        warnings=(),
    )
    warnings = []
    if p.single_vendor:
        warnings.append("a single vendor holds all deployed weight")
    if thresholds.max_share is not None and p.largest_share > thresholds.max_share:
        warnings.append(
            f"largest vendor share {_pct(p.largest_share)} is above the threshold "
            f"{_pct(thresholds.max_share)}"
        )
    hhi = p.hhi
    if thresholds.max_hhi is not None and hhi is not None and hhi > thresholds.max_hhi:
        warnings.append(
            f"HHI {_fmt(hhi)} is above the threshold {_fmt(thresholds.max_hhi)}"
        )
    if p.high_risk_share:
        warnings.append(f"high-risk vendors hold {_pct(p.high_risk_share)}")
    if p.deny_listed_share:
        warnings.append(f"deny-listed products hold {_pct(p.deny_listed_share)}")
    return Partition(
        domain=p.domain,
        network_function=p.network_function,
        total=p.total,
        vendors=p.vendors,
        high_risk_share=p.high_risk_share,
        deny_listed_share=p.deny_listed_share,
        warnings=tuple(warnings),
    )


def _flags(mapped: Sequence[_Mapped], view: StoreView) -> list[Flag]:
    accepted = {(r.vendor, r.product, r.version) for r in view.records if r.accepted}
    products = {(v, p) for v, p, _ in accepted}
    flags = []
    for m in mapped:
        r = m.row
        if not m.mapped:
            flags.append(
                Flag(
                    where=r.where,
                    kind="unknown-vendor",
                    message=f"vendor {r.vendor!r} maps to no policy vendor",
                )
            )
        elif (m.key, r.product) not in products:
            flags.append(
                Flag(
                    where=r.where,
                    kind="unknown-product",
                    message=f"no accepted delivery of {r.product!r} by {m.key}",
                )
            )
        elif (m.key, r.product, r.version) not in accepted:
            flags.append(
                Flag(
                    where=r.where,
                    kind="never-accepted",
                    message=f"{r.product} {r.version} by {m.key} was never accepted "
                    "at intake",
                )
            )
    return flags


def concentration_report(
    inventory: Inventory,
    view: StoreView,
    *,
    inventory_file: str,
    policy: Policy,
    at: datetime,
) -> ConcentrationReport:
    """The concentration report under ``policy``.

    The policy gives the vendors rows map to, the deny-list (evaluated at ``at``),
    the high-risk vendors and the warning thresholds (its ``concentration`` section).
    """
    settings = policy.concentration
    deny_list = policy.deny_list
    marked = frozenset(settings.high_risk)
    mapped = [_map_vendor(r, policy.vendors) for r in inventory.rows]
    denied = {
        id(m.row)
        for m in mapped
        if any(
            e.matches(vendor_id=m.key, vendor_name=m.name, product=m.row.product, at=at)
            for e in deny_list
        )
    }
    by_capacity = inventory.capacity_declared
    common = {"by_capacity": by_capacity, "high_risk": marked, "denied": denied}
    domains = tuple(
        _partition_of(
            d,
            None,
            [m for m in mapped if m.row.domain == d],
            thresholds=settings.thresholds_for(d),
            **common,  # type: ignore[arg-type]
        )
        for d in DOMAINS
        if any(m.row.domain == d for m in mapped)
    )
    keys = sorted(
        {(m.row.domain, m.row.network_function) for m in mapped},
        key=lambda k: (DOMAINS.index(k[0]), k[1]),
    )
    functions = tuple(
        _partition_of(
            d,
            nf,
            [m for m in mapped if (m.row.domain, m.row.network_function) == (d, nf)],
            thresholds=settings.thresholds_for(d),
            **common,  # type: ignore[arg-type]
        )
        for d, nf in keys
    )
    return ConcentrationReport(
        inventory_file=inventory_file,
        inventory=inventory,
        view=view,
        at=at,
        settings=settings,
        domains=domains,
        functions=functions,
        flags=tuple(_flags(mapped, view)),
    )
