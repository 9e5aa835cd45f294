"""The operator policy (our YAML schema: strict, unknown keys rejected with their line).

A policy names its legal basis and version (rules move: domain brief §1), the trusted
vendors and certification bodies with their anchors, allowed algorithms, which
components need which certification, the trust-declaration rule, what to do with
unlisted files, and a deny-list. Certificate and key files are referenced relative to
the policy file (or given inline as PEM) and their bytes are kept for evidence.
"""

from __future__ import annotations

import enum
import fnmatch
import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from cryptography import x509

from vendorproof._internal import crypto
from vendorproof._internal.dn_pattern import parse_dn_pattern
from vendorproof._internal.pem import load_certificates, load_crl
from vendorproof._internal.yamlio import (
    YamlDoc,
    check_keys,
    parse_yaml_mapping,
    render_path,
)
from vendorproof.errors import InvalidInputError
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models._fields import parse_time
from vendorproof.models.certification import KNOWN_SCHEMES
from vendorproof.models.crl import CrlIndex
from vendorproof.models.manifest import ComponentKind, Domain

__all__ = [
    "CertificateProfile",
    "CertificationRule",
    "DenyEntry",
    "Identity",
    "InTotoRule",
    "KeylessRule",
    "Policy",
    "Principal",
    "RevocationMode",
    "RollbackException",
    "SignatureRequirement",
    "UnlistedFiles",
]

_Path = tuple[str | int, ...]
#: Reads a file a policy references (path relative to the policy file).
Resolver = Callable[[str], bytes]

DIGEST_ALGORITHMS = frozenset({"sha256", "sha384", "sha512"})
REFUSED_DIGESTS = frozenset({"sha1", "md5"})


class RevocationMode(enum.Enum):
    """How missing revocation data is treated."""

    REQUIRE = "require"  # every certificate needs current revocation data
    IF_AVAILABLE = "if-available"  # check what is there
    OFF = "off"  # do not check (the report says so)


class CertificateProfile(enum.Enum):
    """Which X.509 rules a principal's signer chains follow (docs/trust-rules.md)."""

    STRICT = "strict"  # the code-signing profile (verify/x509.py)
    LEGACY = "legacy"  # v1 / extension-less certificates, every relaxation a warning


class UnlistedFiles(enum.Enum):
    """What to do with payload files the manifest does not list."""

    FAIL = "fail"
    WARN = "warn"


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """An allowed signer identity: patterns on the subject DN and/or a SAN.

    ``subject`` is an RFC 4514 DN whose values may hold ``*`` wildcards, matched RDN
    by RDN (``_internal/dn_pattern.py``); ``san`` a ``*`` glob on one email, DNS or
    URI subjectAltName.
    """

    subject: str | None
    san: str | None

    def describe(self) -> str:
        """Human form for reports."""
        parts = [
            f"subject={self.subject}" if self.subject else "",
            f"san={self.san}" if self.san else "",
        ]
        return ", ".join(p for p in parts if p)


@dataclass(frozen=True, slots=True, kw_only=True)
class KeylessRule:
    """A Sigstore keyless signer (certificate identity + OIDC issuer) of a principal.

    ``components`` are path patterns of delivered files that must carry a Sigstore
    bundle from this signer (``attestations/keyless/<path>.sigstore.json``).
    """

    identity: str
    issuer: str
    components: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class InTotoRule:
    """A vendor's pinned in-toto layout keys (PEM) and whether inspections may run."""

    layout_keys: tuple[bytes, ...]
    layout: str = "root.layout"
    allow_inspections: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """A trusted vendor or certification body and the keys that speak for it."""

    role: str  # "vendor" or "certification-body"
    id: str
    name: str
    anchors: tuple[x509.Certificate, ...]
    intermediates: tuple[x509.Certificate, ...]
    identities: tuple[Identity, ...]
    public_keys: Mapping[str, crypto.PublicKey]  # key id -> key
    schemes: frozenset[str] = frozenset()
    require_timestamp: bool = False
    keyless: tuple[KeylessRule, ...] = ()
    in_toto: InTotoRule | None = None
    certificate_profile: CertificateProfile = CertificateProfile.STRICT
    detached_signatures: tuple[str, ...] = ()  # globs of files needing <file>.cms/.p7s


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificationRule:
    """Components matching (domains, network functions, kinds) need these schemes."""

    description: str
    domains: frozenset[str]
    network_functions: frozenset[str]
    kinds: frozenset[str]
    schemes: frozenset[str]

    def matches(self, *, domain: str, network_function: str, kind: str) -> bool:
        """Whether a component falls under this rule (empty sets match everything)."""
        return (
            (not self.domains or domain in self.domains)
            and (
                not self.network_functions or network_function in self.network_functions
            )
            and (not self.kinds or kind in self.kinds)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DenyEntry:
    """A prohibited vendor/product (e.g. under §41 BSIG), from ``effective`` on."""

    vendor: str
    product: str
    effective: datetime
    reason: str

    def matches(
        self, *, vendor_id: str, vendor_name: str, product: str, at: datetime
    ) -> bool:
        """Whether the entry is in force at ``at`` and matches the delivery."""
        return (
            at >= self.effective
            and (
                fnmatch.fnmatchcase(vendor_id, self.vendor)
                or fnmatch.fnmatchcase(vendor_name, self.vendor)
            )
            and fnmatch.fnmatchcase(product, self.product)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RollbackException:
    """An explicit, recorded permission to accept a lower securityVersion."""

    vendor: str
    product: str
    security_version: int
    reason: str

    def matches(self, *, vendor_id: str, product: str, security_version: int) -> bool:
        """Whether this exception covers the delivery."""
        return (
            fnmatch.fnmatchcase(vendor_id, self.vendor)
            and fnmatch.fnmatchcase(product, self.product)
            and security_version == self.security_version
        )


ROLES = ("vendor", "certification-body")
DOCUMENT_KINDS = ("manifest", "certification", "declaration")


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureRequirement:
    """At least ``threshold`` distinct trusted keys of ``role`` must sign a document."""

    role: str
    threshold: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """A parsed, validated operator policy."""

    id: str
    version: str
    legal_basis: str
    description: str
    signature_algorithms: frozenset[str]
    digest_algorithms: frozenset[str]
    min_rsa_bits: int
    vendors: tuple[Principal, ...]
    certification_bodies: tuple[Principal, ...]
    certification_rules: tuple[CertificationRule, ...]
    trust_declaration_required: bool
    unlisted_files: UnlistedFiles
    deny_list: tuple[DenyEntry, ...]
    rollback_exceptions: tuple[RollbackException, ...] = ()
    timestamp_authorities: tuple[Principal, ...] = ()
    revocation_mode: RevocationMode = RevocationMode.IF_AVAILABLE
    crls: tuple[x509.CertificateRevocationList, ...] = ()
    #: ``crls`` grouped by issuer (built with the policy).
    crl_index: CrlIndex | None = field(default=None, repr=False, compare=False)
    #: document kind -> k-of-n requirements across roles (empty: one signer of the
    #: document's own role).
    signature_requirements: Mapping[str, tuple[SignatureRequirement, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    #: Sigstore trust: a trusted_root.json the policy names, or the public-good root
    #: embedded in sigstore-python (only when the policy says so).
    sigstore_trusted_root: bytes | None = None
    sigstore_public_good: bool = False
    raw: bytes = field(repr=False)
    referenced: Mapping[str, bytes] = field(repr=False)

    @property
    def digest(self) -> str:
        """sha256 of the policy file bytes."""
        return hashlib.sha256(self.raw).hexdigest()

    def summary(self) -> dict[str, Any]:
        """Id, version, legal basis and digest (for reports and evidence)."""
        return {
            "id": self.id,
            "version": self.version,
            "legalBasis": self.legal_basis,
            "digest": {"sha256": self.digest},
        }

    def vendor(self, vendor_id: str) -> Principal | None:
        """The trusted vendor with ``vendor_id``."""
        return next((v for v in self.vendors if v.id == vendor_id), None)

    @classmethod
    def from_yaml(
        cls,
        raw: bytes,
        *,
        file: str,
        resolve: Resolver,
        limits: Limits = DEFAULT_LIMITS,
    ) -> Policy:
        """Parse and validate a policy.

        Args:
            raw: the policy file bytes.
            file: its name, for errors.
            resolve: reads a referenced certificate or key file.
            limits: parsing limits.

        Raises:
            InvalidInputError: naming file, field path and line.
        """
        doc = parse_yaml_mapping(raw, file=file, limits=limits)
        return _Parser(doc, resolve, limits).policy(raw)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _encodable(text: str) -> bool:
    """Whether ``text`` is valid Unicode (no lone surrogates), so a path can use it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _or_empty(value: Any) -> Any:
    """An absent or null section means its defaults; anything else is parsed as is."""
    return {} if value is None else value


class _Parser:
    def __init__(self, doc: YamlDoc, resolve: Resolver, limits: Limits) -> None:
        self.doc = doc
        self.resolve = resolve
        self.limits = limits
        self.referenced: dict[str, bytes] = {}

    # -- typed access -----------------------------------------------------------
    def fail(self, message: str, at: _Path) -> InvalidInputError:
        line = self.doc.line_of(at)
        suffix = f" (line {line})" if line else ""
        return InvalidInputError(
            message + suffix, path=render_path(at) or None, file=self.doc.file
        )

    def mapping(
        self,
        value: Any,
        at: _Path,
        *,
        known: frozenset[str],
        required: frozenset[str] = frozenset(),
    ) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(f"expected a mapping, got {type(value).__name__}", at)
        check_keys(self.doc, value, at=at, known=known, required=required)
        return value

    def string(self, value: Any, at: _Path) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail("expected a non-empty string", at)
        return value

    def strings(
        self, value: Any, at: _Path, *, allowed: frozenset[str] | None = None
    ) -> frozenset[str]:
        if value is None:
            return frozenset()
        if not isinstance(value, list):
            raise self.fail("expected a list of strings", at)
        out = set()
        for i, item in enumerate(value):
            s = self.string(item, (*at, i))
            if allowed is not None and s not in allowed:
                raise self.fail(
                    f"{s!r} is not one of {', '.join(sorted(allowed))}", (*at, i)
                )
            out.add(s)
        return frozenset(out)

    def entries(
        self,
        value: Any,
        at: _Path,
        *,
        known: frozenset[str],
        required: frozenset[str] = frozenset(),
    ) -> Iterator[tuple[_Path, Mapping[str, Any]]]:
        """The mappings of a list section, each checked for its keys, with its path."""
        for i, item in enumerate(self.items(value, at)):
            where = (*at, i)
            yield where, self.mapping(item, where, known=known, required=required)

    def items(self, value: Any, at: _Path) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail("expected a list", at)
        return value

    def time(self, value: Any, at: _Path) -> datetime:
        # YAML turns unquoted timestamps into datetime objects; accept only aware ones.
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise self.fail("timestamp needs an explicit offset (e.g. Z)", at)
            return value
        if not isinstance(value, str):
            raise self.fail("expected an RFC 3339 timestamp", at)
        try:
            return parse_time(value, "")
        except InvalidInputError as e:
            raise self.fail(e.message, at) from e

    # -- referenced material ----------------------------------------------------
    def material(self, ref: Any, at: _Path) -> tuple[str, bytes]:
        text = self.string(ref, at)
        if text.lstrip().startswith("-----BEGIN"):
            data = text.encode("ascii", "replace")
            name = "inline:" + hashlib.sha256(data).hexdigest()[:16]
        else:
            if _CONTROL.search(text) or not _encodable(text):
                # NUL cannot be in a path, a lone surrogate cannot be encoded for the
                # OS, and control characters have no place in a file name we print.
                raise self.fail(f"not a usable file reference: {text!r}", at)
            try:
                data = self.resolve(text)
            except InvalidInputError as e:
                raise self.fail(f"cannot load {text!r}: {e}", at) from e
            name = text
        self.referenced[name] = data
        return name, data

    def certs(self, value: Any, at: _Path) -> tuple[x509.Certificate, ...]:
        out: list[x509.Certificate] = []
        for i, ref in enumerate(self.items(value, at)):
            name, data = self.material(ref, (*at, i))
            try:
                out.extend(load_certificates(data, file=name, limits=self.limits))
            except InvalidInputError as e:
                raise self.fail(str(e), (*at, i)) from e
        return tuple(out)

    def keys(self, value: Any, at: _Path) -> Mapping[str, crypto.PublicKey]:
        out: dict[str, crypto.PublicKey] = {}
        for i, ref in enumerate(self.items(value, at)):
            name, data = self.material(ref, (*at, i))
            try:
                key = crypto.load_public_key(data, file=name)
            except InvalidInputError as e:
                raise self.fail(str(e), (*at, i)) from e
            out[crypto.key_id(key)] = key
        return MappingProxyType(out)

    # -- sections ---------------------------------------------------------------
    def identities(self, value: Any, at: _Path) -> tuple[Identity, ...]:
        out = []
        for i, item in enumerate(self.items(value, at)):
            where = (*at, i)
            m = self.mapping(item, where, known=frozenset({"subject", "san"}))
            subject = (
                self.string(m["subject"], (*where, "subject"))
                if "subject" in m
                else None
            )
            if subject is not None:
                try:
                    parse_dn_pattern(subject)
                except ValueError as e:
                    raise self.fail(
                        f"invalid subject pattern: {e}", (*where, "subject")
                    ) from e
            san = self.string(m["san"], (*where, "san")) if "san" in m else None
            if subject is None and san is None:
                raise self.fail("an identity needs 'subject' or 'san'", where)
            out.append(Identity(subject=subject, san=san))
        return tuple(out)

    def principal(self, item: Any, at: _Path, role: str) -> Principal:
        known = {"id", "name", "anchors", "intermediates", "identities", "publicKeys"}
        if role != "timestamp-authority":
            known.update({"requireTimestamp", "keyless", "certificateProfile"})
        if role == "vendor":
            known.update({"inToto", "detachedSignatures"})
        if role == "certification-body":
            known.add("schemes")
        m = self.mapping(
            item, at, known=frozenset(known), required=frozenset({"id", "name"})
        )
        anchors = self.certs(m.get("anchors"), (*at, "anchors"))
        identities = self.identities(m.get("identities"), (*at, "identities"))
        keys = self.keys(m.get("publicKeys"), (*at, "publicKeys"))
        if anchors and not identities and role != "timestamp-authority":
            raise self.fail(
                "anchors need at least one allowed signer identity (identities)", at
            )
        keyless = self.keyless_rules(m.get("keyless"), (*at, "keyless"))
        if not anchors and not keys and not keyless:
            raise self.fail(
                "needs trust anchors, public keys or keyless identities", at
            )
        schemes: frozenset[str] = frozenset()
        if role == "certification-body":
            schemes = self.strings(
                m.get("schemes"), (*at, "schemes"), allowed=KNOWN_SCHEMES
            )
            if not schemes:
                raise self.fail(
                    "a certification body needs the schemes it may certify", at
                )
        return Principal(
            role=role,
            id=self.string(m["id"], (*at, "id")),
            name=self.string(m["name"], (*at, "name")),
            anchors=anchors,
            intermediates=self.certs(m.get("intermediates"), (*at, "intermediates")),
            identities=identities,
            public_keys=keys,
            schemes=schemes,
            require_timestamp=self.flag(
                m.get("requireTimestamp"), (*at, "requireTimestamp")
            ),
            keyless=keyless,
            in_toto=self.in_toto(m.get("inToto"), (*at, "inToto")),
            certificate_profile=CertificateProfile(
                self.enum_value(
                    m.get("certificateProfile"),
                    (*at, "certificateProfile"),
                    ("strict", "legacy"),
                    "strict",
                )
            ),
            detached_signatures=tuple(
                sorted(
                    self.strings(
                        m.get("detachedSignatures"), (*at, "detachedSignatures")
                    )
                )
            ),
        )

    def principals(self, value: Any, at: _Path, role: str) -> tuple[Principal, ...]:
        out = tuple(
            self.principal(item, (*at, i), role)
            for i, item in enumerate(self.items(value, at))
        )
        seen: set[str] = set()
        for i, p in enumerate(out):
            if p.id in seen:
                raise self.fail(f"duplicate id {p.id!r}", (*at, i, "id"))
            seen.add(p.id)
        return out

    def rules(self, value: Any, at: _Path) -> tuple[CertificationRule, ...]:
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

    def deny(self, value: Any, at: _Path) -> tuple[DenyEntry, ...]:
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

    def rollback(self, value: Any, at: _Path) -> tuple[RollbackException, ...]:
        out = []
        for where, m in self.entries(
            value,
            at,
            known=frozenset({"vendor", "product", "securityVersion", "reason"}),
            required=frozenset({"vendor", "product", "securityVersion", "reason"}),
        ):
            sv = m["securityVersion"]
            if not isinstance(sv, int) or isinstance(sv, bool) or sv < 0:
                raise self.fail("expected an integer >= 0", (*where, "securityVersion"))
            out.append(
                RollbackException(
                    vendor=self.string(m["vendor"], (*where, "vendor")),
                    product=self.string(m["product"], (*where, "product")),
                    security_version=sv,
                    reason=self.string(m["reason"], (*where, "reason")),
                )
            )
        return tuple(out)

    def requirements(
        self, value: Any, at: _Path
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
                if r["role"] not in ROLES:
                    raise self.fail(
                        f"expected one of {', '.join(ROLES)}", (*where, "role")
                    )
                role = str(r["role"])
                n = r["threshold"]
                if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                    raise self.fail("expected an integer >= 1", (*where, "threshold"))
                reqs.append(SignatureRequirement(role=role, threshold=n))
            if not reqs:
                raise self.fail("needs at least one requirement", (*at, kind))
            out[kind] = tuple(reqs)
        return MappingProxyType(out)

    def keyless_rules(self, value: Any, at: _Path) -> tuple[KeylessRule, ...]:
        out = []
        for where, m in self.entries(
            value,
            at,
            known=frozenset({"identity", "issuer", "components"}),
            required=frozenset({"identity", "issuer"}),
        ):
            out.append(
                KeylessRule(
                    identity=self.string(m["identity"], (*where, "identity")),
                    issuer=self.string(m["issuer"], (*where, "issuer")),
                    components=tuple(
                        sorted(
                            self.strings(m.get("components"), (*where, "components"))
                        )
                    ),
                )
            )
        return tuple(out)

    def in_toto(self, value: Any, at: _Path) -> InTotoRule | None:
        if value is None:
            return None
        m = self.mapping(
            value,
            at,
            known=frozenset({"layoutKeys", "layout", "allowInspections"}),
            required=frozenset({"layoutKeys"}),
        )
        keys = []
        for i, ref in enumerate(self.items(m["layoutKeys"], (*at, "layoutKeys"))):
            name, data = self.material(ref, (*at, "layoutKeys", i))
            try:
                crypto.load_public_key(data, file=name)
            except InvalidInputError as e:
                raise self.fail(str(e), (*at, "layoutKeys", i)) from e
            keys.append(data)
        if not keys:
            raise self.fail("needs at least one layout key", (*at, "layoutKeys"))
        layout = m.get("layout", "root.layout")
        if not isinstance(layout, str) or "/" in layout or layout in ("", ".", ".."):
            raise self.fail("expected a file name in in-toto/", (*at, "layout"))
        return InTotoRule(
            layout_keys=tuple(keys),
            layout=layout,
            allow_inspections=self.flag(
                m.get("allowInspections"), (*at, "allowInspections")
            ),
        )

    def sigstore(self, value: Any, at: _Path) -> tuple[bytes | None, bool]:
        m = self.mapping(
            _or_empty(value), at, known=frozenset({"trustedRoot", "publicGood"})
        )
        public_good = self.flag(m.get("publicGood"), (*at, "publicGood"))
        root = None
        if m.get("trustedRoot") is not None:
            _, root = self.material(m["trustedRoot"], (*at, "trustedRoot"))
        if root is not None and public_good:
            raise self.fail("give trustedRoot or publicGood, not both", at)
        return root, public_good

    def optional_text(self, value: Any, at: _Path) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail("expected a string", at)
        return value

    def flag(self, value: Any, at: _Path) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.fail("expected true or false", at)
        return value

    def crl_list(
        self, value: Any, at: _Path
    ) -> tuple[x509.CertificateRevocationList, ...]:
        out = []
        for i, ref in enumerate(self.items(value, at)):
            name, data = self.material(ref, (*at, i))
            try:
                out.append(load_crl(data, file=name))
            except InvalidInputError as e:
                raise self.fail(str(e), (*at, i)) from e
        return tuple(out)

    def enum_value(
        self, value: Any, at: _Path, allowed: tuple[str, ...], default: str
    ) -> str:
        if value is None:
            return default
        if value not in allowed:
            raise self.fail(f"expected one of {', '.join(allowed)}", at)
        return str(value)

    def policy(self, raw: bytes) -> Policy:
        top = self.mapping(
            self.doc.data,
            (),
            known=frozenset(
                {
                    "policy",
                    "algorithms",
                    "vendors",
                    "certificationBodies",
                    "certification",
                    "trustDeclaration",
                    "unlistedFiles",
                    "denyList",
                    "rollbackExceptions",
                    "timestampAuthorities",
                    "revocation",
                    "signatureRequirements",
                    "sigstore",
                }
            ),
            required=frozenset({"policy", "vendors"}),
        )
        meta = self.mapping(
            top["policy"],
            ("policy",),
            known=frozenset({"id", "version", "legalBasis", "description"}),
            required=frozenset({"id", "version", "legalBasis"}),
        )
        algs = self.mapping(
            _or_empty(top.get("algorithms")),
            ("algorithms",),
            known=frozenset({"signatures", "digests", "minRsaBits"}),
        )
        sig_algs = self.strings(
            algs.get("signatures"),
            ("algorithms", "signatures"),
            allowed=crypto.SIGNATURE_ALGORITHMS,
        ) or frozenset(crypto.SIGNATURE_ALGORITHMS)
        digests = self.strings(
            algs.get("digests"), ("algorithms", "digests"), allowed=DIGEST_ALGORITHMS
        ) or frozenset({"sha256", "sha512"})
        min_rsa = algs.get("minRsaBits", crypto.MIN_RSA_BITS)
        if (
            not isinstance(min_rsa, int)
            or isinstance(min_rsa, bool)
            or min_rsa < crypto.MIN_RSA_BITS
        ):
            raise self.fail(
                f"must be an integer >= {crypto.MIN_RSA_BITS}",
                ("algorithms", "minRsaBits"),
            )
        cert_section = self.mapping(
            _or_empty(top.get("certification")),
            ("certification",),
            known=frozenset({"requirements"}),
        )
        vendors = self.principals(top["vendors"], ("vendors",), "vendor")
        rev = self.mapping(
            _or_empty(top.get("revocation")),
            ("revocation",),
            known=frozenset({"mode", "crls"}),
        )
        modes = tuple(m.value for m in RevocationMode)
        trusted_root, public_good = self.sigstore(top.get("sigstore"), ("sigstore",))
        crls = self.crl_list(rev.get("crls"), ("revocation", "crls"))
        if not vendors:
            raise self.fail("at least one trusted vendor is required", ("vendors",))
        version = meta["version"]
        if isinstance(version, float):
            # YAML reads 1.10 as the float 1.1: a version must keep its text.
            raise self.fail(
                "expected a non-empty version string or an integer; quote a "
                f"version such as {str(version)!r}",
                ("policy", "version"),
            )
        if (
            not isinstance(version, str | int)
            or isinstance(version, bool)
            or not str(version).strip()
        ):
            raise self.fail(
                "expected a non-empty version string or an integer",
                ("policy", "version"),
            )
        return Policy(
            id=self.string(meta["id"], ("policy", "id")),
            version=str(version),
            legal_basis=self.string(meta["legalBasis"], ("policy", "legalBasis")),
            description=self.optional_text(
                meta.get("description"), ("policy", "description")
            ),
            signature_algorithms=sig_algs,
            digest_algorithms=digests,
            min_rsa_bits=min_rsa,
            vendors=vendors,
            certification_bodies=self.principals(
                top.get("certificationBodies"),
                ("certificationBodies",),
                "certification-body",
            ),
            certification_rules=self.rules(
                cert_section.get("requirements"), ("certification", "requirements")
            ),
            trust_declaration_required=self.enum_value(
                top.get("trustDeclaration"),
                ("trustDeclaration",),
                ("required", "optional"),
                "optional",
            )
            == "required",
            unlisted_files=UnlistedFiles(
                self.enum_value(
                    top.get("unlistedFiles"),
                    ("unlistedFiles",),
                    ("fail", "warn"),
                    "fail",
                )
            ),
            deny_list=self.deny(top.get("denyList"), ("denyList",)),
            rollback_exceptions=self.rollback(
                top.get("rollbackExceptions"), ("rollbackExceptions",)
            ),
            timestamp_authorities=self.principals(
                top.get("timestampAuthorities"),
                ("timestampAuthorities",),
                "timestamp-authority",
            ),
            revocation_mode=RevocationMode(
                self.enum_value(
                    rev.get("mode"), ("revocation", "mode"), modes, "if-available"
                )
            ),
            crls=crls,
            crl_index=CrlIndex(crls),
            signature_requirements=self.requirements(
                top.get("signatureRequirements"), ("signatureRequirements",)
            ),
            sigstore_trusted_root=trusted_root,
            sigstore_public_good=public_good,
            raw=raw,
            referenced=MappingProxyType(dict(self.referenced)),
        )
