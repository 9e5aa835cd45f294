"""What a report says the delivery is: the typed ``delivery`` summary.

The summary is written into every report and evidence record (``delivery`` in
``schemas/report.schema.json``) and read back by replay, the update gate, the rollback
check and the renderers. ``to_dict`` gives the JSON of the schema; ``from_dict`` reads
it back, type-checking every field (a record is signed data, but a record of the wrong
shape must be an ``InvalidInputError`` naming the field, never another exception).

A summary of a delivery that was rejected before a manifest was read holds only
``format``, ``root`` and ``listing``: the other fields are ``None`` or empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from vendorproof._internal.jsonio import show_key
from vendorproof.errors import InvalidInputError
from vendorproof.models import _fields as f

__all__ = ["ComponentSummary", "DeliverySummary", "Listing", "Measured", "PartyRef"]

#: The format of deliveries recorded before formats were named.
DEFAULT_FORMAT = "directory"


def _str_map(value: object, path: str) -> dict[str, str]:
    d = f.check_type(value, dict, path)
    for k, v in d.items():
        f.check_type(v, str, f"{path}[{show_key(k)}]")
    return dict(d)


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyRef:
    """An organisation by policy or declared id and name."""

    id: str
    name: str

    @classmethod
    def from_dict(cls, value: object, path: str) -> PartyRef:
        """Read ``{id, name}``."""
        d = f.check_type(value, dict, path)
        return cls(
            id=f.check_type(d.get("id"), str, f"{path}.id"),
            name=f.check_type(d.get("name"), str, f"{path}.name"),
        )

    def to_dict(self) -> dict[str, str]:
        """Serialize."""
        return {"name": self.name, "id": self.id}


@dataclass(frozen=True, slots=True, kw_only=True)
class Listing:
    """What the delivery held: payload files and irregular entries (path -> why)."""

    payload: tuple[str, ...] = ()
    irregular: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_dict(cls, value: object, path: str = "listing") -> Listing:
        """Read ``{payload, irregular}``."""
        d = f.check_type(value, dict, path)
        payload = f.check_type(d.get("payload", []), list, f"{path}.payload")
        for i, item in enumerate(payload):
            f.check_type(item, str, f"{path}.payload[{i}]")
        irregular = _str_map(d.get("irregular", {}), f"{path}.irregular")
        return cls(payload=tuple(payload), irregular=MappingProxyType(irregular))

    def to_dict(self) -> dict[str, Any]:
        """Serialize (sorted: the listing is hashed into the intake key)."""
        return {
            "payload": sorted(self.payload),
            "irregular": dict(sorted(self.irregular.items())),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Measured:
    """The size and digests measured for one delivered file."""

    size: int
    digests: Mapping[str, str]

    @classmethod
    def from_dict(cls, value: object, path: str) -> Measured:
        """Read ``{size, digests}``."""
        d = f.check_type(value, dict, path)
        size = f.check_type(d.get("size"), int, f"{path}.size")
        if size < 0:
            raise InvalidInputError("must not be negative", path=f"{path}.size")
        return cls(
            size=size,
            digests=MappingProxyType(_str_map(d.get("digests"), f"{path}.digests")),
        )

    def to_dict(self) -> dict[str, Any]:
        """Serialize."""
        return {"size": self.size, "digests": dict(sorted(self.digests.items()))}


@dataclass(frozen=True, slots=True, kw_only=True)
class ComponentSummary:
    """A component as the vendor's manifest lists it (``size`` None: not declared)."""

    path: str
    kind: str
    size: int | None
    digests: Mapping[str, str]

    @classmethod
    def from_dict(cls, value: object, path: str) -> ComponentSummary:
        """Read ``{path, kind, size, digests}``."""
        d = f.check_type(value, dict, path)
        size = d.get("size")
        if size is not None:
            f.check_type(size, int, f"{path}.size")
        return cls(
            path=f.check_type(d.get("path"), str, f"{path}.path"),
            kind=f.check_type(d.get("kind"), str, f"{path}.kind"),
            size=size,
            digests=MappingProxyType(_str_map(d.get("digests"), f"{path}.digests")),
        )

    def to_dict(self) -> dict[str, Any]:
        """Serialize (``size`` only when declared)."""
        out: dict[str, Any] = {"path": self.path, "kind": self.kind}
        if self.size is not None:
            out["size"] = self.size
        out["digests"] = dict(self.digests)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverySummary:
    """The delivery as its manifest describes it, and who verifiably signed that.

    Attributes:
        format: the delivery format (``directory``, ``sol004``, ...).
        root: the delivery as given (a directory or a package file).
        listing: what the delivery held (for offline replay of the file checks).
        vendor: the vendor as the manifest declares itself (a claim).
        principal: the policy principal whose anchor or key verified the manifest.
        product, version, security_version, network_function, domain: as declared.
        manifest: where the manifest was read from.
        released: the release time a package format's signed manifest states (SOL
            004 ``vnf_release_date_time``, an image's
            ``org.opencontainers.image.created``): a claim, shown and recorded.
        components: the components as listed.
        measured: path -> what the verifier measured.
        trust_anchors: the anchors the signer checks used.
    """

    format: str = DEFAULT_FORMAT
    root: str
    listing: Listing = field(default_factory=Listing)
    vendor: PartyRef | None = None
    principal: PartyRef | None = None
    product: str | None = None
    version: str | None = None
    security_version: int | None = None
    network_function: str | None = None
    domain: str | None = None
    manifest: str | None = None
    released: datetime | None = None
    components: tuple[ComponentSummary, ...] = ()
    measured: Mapping[str, Measured] = field(
        default_factory=lambda: MappingProxyType({})
    )
    trust_anchors: tuple[str, ...] = ()

    @property
    def verified_vendor(self) -> str | None:
        """The vendor id when the verified signer is the vendor the manifest names.

        A delivery whose manifest names another vendor, or that no trusted vendor
        signed, has no verified vendor (rollback and the update gate compare only
        releases of a verified vendor).
        """
        if self.principal is None or self.vendor is None:
            return None
        return self.principal.id if self.principal.id == self.vendor.id else None

    @property
    def vendor_id(self) -> str:
        """The verified vendor's id, else the declared one, else ``-``."""
        if self.principal is not None:
            return self.principal.id
        return self.vendor.id if self.vendor is not None else "-"

    def to_dict(self) -> dict[str, Any]:
        """The ``delivery`` object of the report schema (absent fields left out)."""
        out: dict[str, Any] = {
            "format": self.format,
            "root": self.root,
            "listing": self.listing.to_dict(),
        }
        optional: dict[str, Any] = {
            "vendor": None if self.vendor is None else self.vendor.to_dict(),
            "product": self.product,
            "version": self.version,
            "securityVersion": self.security_version,
            "networkFunction": self.network_function,
            "domain": self.domain,
            "manifest": self.manifest,
            "releaseDate": None
            if self.released is None
            else f.format_time(self.released),
            "principal": None if self.principal is None else self.principal.to_dict(),
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        if self.manifest is not None:
            out["components"] = [c.to_dict() for c in self.components]
            out["measured"] = {
                path: m.to_dict() for path, m in sorted(self.measured.items())
            }
            out["trustAnchors"] = sorted(self.trust_anchors)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DeliverySummary:
        """Read a summary back, type-checking every field it has.

        Raises:
            InvalidInputError: a field has the wrong type (its path is named).
        """
        vendor, principal = d.get("vendor"), d.get("principal")
        anchors = f.get(d, "trustAnchors", list) or []
        for i, a in enumerate(anchors):
            f.check_type(a, str, f"trustAnchors[{i}]")
        measured = f.get(d, "measured", dict) or {}
        return cls(
            format=f.get(d, "format", str) or DEFAULT_FORMAT,
            root=f.get(d, "root", str) or "",
            listing=Listing.from_dict(f.get(d, "listing", dict) or {}),
            vendor=None if vendor is None else PartyRef.from_dict(vendor, "vendor"),
            principal=None
            if principal is None
            else PartyRef.from_dict(principal, "principal"),
            product=f.get(d, "product", str),
            version=f.get(d, "version", str),
            security_version=f.get(d, "securityVersion", int),
            network_function=f.get(d, "networkFunction", str),
            domain=f.get(d, "domain", str),
            manifest=f.get(d, "manifest", str),
            released=None
            if f.get(d, "releaseDate", str) is None
            else f.require_time(d, "releaseDate"),
            components=tuple(
                ComponentSummary.from_dict(c, f"components[{i}]")
                for i, c in enumerate(f.get(d, "components", list) or [])
            ),
            measured=MappingProxyType(
                {
                    str(k): Measured.from_dict(v, f"measured[{show_key(k)}]")
                    for k, v in measured.items()
                }
            ),
            trust_anchors=tuple(anchors),
        )
