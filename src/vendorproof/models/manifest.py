"""The component-manifest predicate (our schema: unknown fields are rejected)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vendorproof.errors import InvalidInputError
from vendorproof.models import _fields as f
from vendorproof.models.statement import Statement, Subject, parse_digest_set

MANIFEST_PREDICATE = "https://vendorproof.dev/component-manifest/v1"


class Domain(enum.StrEnum):
    """Network domains (domain brief §6)."""

    RAN = "RAN"
    CORE = "Core"
    TRANSPORT = "Transport"
    OAM = "OAM"


class ComponentKind(enum.StrEnum):
    """What a delivered file is."""

    FIRMWARE = "firmware"
    CONTAINER_IMAGE = "container-image"
    CONFIG = "config"
    SBOM = "sbom"
    OTHER = "other"


def check_relative_path(value: str, path: str = "path") -> str:
    """Return ``value`` if it is a safe relative POSIX path inside a delivery root."""
    problem = None
    if not value:
        problem = "empty path"
    elif "\x00" in value or "\\" in value:
        problem = "contains NUL or backslash"
    elif value.startswith("/"):
        problem = "absolute path"
    elif any(part in ("", ".", "..") for part in value.split("/")):
        problem = "contains '', '.' or '..' components"
    if problem:
        raise InvalidInputError(f"unsafe path {value!r}: {problem}", path=path)
    return value


def _enum(value: str, cls: type[enum.StrEnum], path: str) -> Any:
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
        raise InvalidInputError(
            f"{value!r} is not one of: {allowed}", path=path
        ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class Component:
    """One delivered file as the vendor lists it."""

    path: str
    kind: ComponentKind
    #: None when the delivery format does not declare sizes (SOL 004 manifests).
    size: int | None
    digests: Mapping[str, str]

    @classmethod
    def from_dict(cls, value: Any) -> Component:
        """Parse a component entry."""
        d = f.check_type(value, dict, "")
        f.reject_unknown(d, frozenset({"path", "kind", "size", "digests"}))
        size = f.require(d, "size", int)
        if size < 0:
            raise InvalidInputError("must be >= 0", path="size")
        return cls(
            path=check_relative_path(f.require(d, "path", str)),
            kind=_enum(f.require(d, "kind", str), ComponentKind, "kind"),
            size=size,
            digests=parse_digest_set(d.get("digests"), "digests"),
        )

    def to_dict(self) -> dict[str, Any]:
        """Serialize."""
        return {
            "path": self.path,
            "kind": self.kind.value,
            "size": self.size,
            "digests": dict(self.digests),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Party:
    """A named organisation with a stable identifier (vendor, body, lab)."""

    name: str
    id: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Party:
        """Parse ``{name, id}``."""
        f.reject_unknown(d, frozenset({"name", "id"}))
        return cls(name=f.require_str(d, "name"), id=f.require_str(d, "id"))

    def to_dict(self) -> dict[str, Any]:
        """Serialize."""
        return {"name": self.name, "id": self.id}


@dataclass(frozen=True, slots=True, kw_only=True)
class ComponentManifest:
    """A vendor's signed list of every file of one release."""

    vendor: Party
    product: str
    version: str
    #: The next three are None when the delivery format does not declare them (a
    #: SOL 004 package): no rollback comparison then, and every certification rule
    #: that names a domain or network function applies.
    security_version: int | None
    network_function: str | None
    domain: Domain | None
    release_date: datetime
    components: tuple[Component, ...]

    @classmethod
    def from_predicate(cls, d: Mapping[str, Any]) -> ComponentManifest:
        """Parse the predicate object."""
        f.reject_unknown(
            d,
            frozenset(
                {
                    "vendor",
                    "product",
                    "version",
                    "securityVersion",
                    "networkFunction",
                    "domain",
                    "releaseDate",
                    "components",
                }
            ),
        )
        sv = f.require(d, "securityVersion", int)
        if sv < 0:
            raise InvalidInputError("must be >= 0", path="securityVersion")
        components = f.parse_list(d, "components", Component.from_dict, non_empty=True)
        f.unique(components, lambda c: c.path, "components")
        return cls(
            vendor=f.parse_object(d, "vendor", Party.from_dict),
            product=f.require_str(d, "product"),
            version=f.require_str(d, "version"),
            security_version=sv,
            network_function=f.require_str(d, "networkFunction"),
            domain=_enum(f.require(d, "domain", str), Domain, "domain"),
            release_date=f.require_time(d, "releaseDate"),
            components=components,
        )

    @classmethod
    def from_statement(cls, statement: Statement) -> ComponentManifest:
        """Parse and cross-check a manifest statement (subjects == components)."""
        if statement.predicate_type != MANIFEST_PREDICATE:
            raise InvalidInputError(
                f"expected predicate type {MANIFEST_PREDICATE}", path="predicateType"
            )
        try:
            manifest = cls.from_predicate(statement.predicate)
        except InvalidInputError as e:
            raise e.under("predicate") from e
        subjects = {s.name: s for s in statement.subjects}
        if len(subjects) != len(statement.subjects):
            raise InvalidInputError("duplicate subject names", path="subject")
        for i, c in enumerate(manifest.components):
            s = subjects.get(c.path)
            if s is None or dict(s.digest) != dict(c.digests):
                raise InvalidInputError(
                    f"component {c.path!r} does not match a subject with equal digests",
                    path=f"predicate.components[{i}]",
                )
        if len(subjects) != len(manifest.components):
            raise InvalidInputError(
                "subjects list files that are not components", path="subject"
            )
        return manifest

    def subjects(self) -> tuple[Subject, ...]:
        """The statement subjects for this manifest (one per component)."""
        return tuple(Subject(name=c.path, digest=c.digests) for c in self.components)

    def to_predicate(self) -> dict[str, Any]:
        """Serialize the predicate object."""
        return {
            "vendor": self.vendor.to_dict(),
            "product": self.product,
            "version": self.version,
            "securityVersion": self.security_version,
            "networkFunction": self.network_function,
            "domain": None if self.domain is None else self.domain.value,
            "releaseDate": f.format_time(self.release_date),
            "components": [c.to_dict() for c in self.components],
        }
