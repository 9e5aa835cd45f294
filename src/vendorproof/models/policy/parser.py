"""Reading an operator policy (our YAML schema: strict, unknown keys rejected).

A policy names its legal basis and version (rules move: domain brief §1), the trusted
vendors and certification bodies with their anchors, allowed algorithms, which
components need which certification, the trust-declaration rule, what to do with
unlisted files, and a deny-list. Certificate and key files are referenced relative to
the policy file (or given inline as PEM) and their bytes are kept for evidence.

Every field is read with the accessors of ``models/_fields.py`` and every error located
the same way as in the predicates (a field path), plus the YAML line (``YamlDoc``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any, TypedDict, TypeVar

from cryptography import x509

from vendorproof._internal import crypto
from vendorproof._internal.dn_pattern import parse_dn_pattern
from vendorproof._internal.pem import load_certificates, load_crl
from vendorproof._internal.yamlio import YamlDoc, check_keys, parse_yaml_mapping
from vendorproof.errors import InvalidInputError
from vendorproof.limits import Limits
from vendorproof.models import _fields as f
from vendorproof.models._fields import Path
from vendorproof.models.certification import KNOWN_SCHEMES
from vendorproof.models.crl import CrlIndex
from vendorproof.models.inventory import DOMAINS as _INVENTORY_DOMAINS
from vendorproof.models.manifest import ComponentKind, Domain
from vendorproof.models.policy.parts import (
    DIGEST_ALGORITHMS,
    DOCUMENT_KINDS,
    IMAGE_SIGNATURE_KINDS,
    NOTATION_LEVELS,
    NOTATION_SCHEMES,
    ROLES,
    SCHEME_SIGNING_AUTHORITY,
    SCHEME_X509,
    STRICT_NOTATION,
    Action,
    Catalogue,
    CatalogueEntry,
    CertificateProfile,
    CertificationRule,
    ConcentrationPolicy,
    ConcentrationThresholds,
    DenyEntry,
    Identity,
    InTotoRule,
    KeylessRule,
    NotationRules,
    OperatorAttestation,
    Principal,
    Resolver,
    RevocationMode,
    RollbackAllowance,
    SignatureRequirement,
    UnknownProduct,
    UnlistedFiles,
    WithoutDigests,
)

__all__ = ["PolicyFields", "read_policy"]

_T = TypeVar("_T")


class PolicyFields(TypedDict):
    """Every field of a ``Policy``, as read from its file (``Policy(**fields)``)."""

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
    rollback_exceptions: tuple[RollbackAllowance, ...]
    timestamp_authorities: tuple[Principal, ...]
    revocation_mode: RevocationMode
    crls: tuple[x509.CertificateRevocationList, ...]
    crl_index: CrlIndex
    signature_requirements: Mapping[str, tuple[SignatureRequirement, ...]]
    sigstore_trusted_root: bytes | None
    sigstore_public_good: bool
    operator_attestation: OperatorAttestation | None
    catalogue: Catalogue | None
    concentration: ConcentrationPolicy
    raw: bytes
    referenced: Mapping[str, bytes]


def read_policy(
    raw: bytes, *, file: str, resolve: Resolver, limits: Limits
) -> PolicyFields:
    """Parse and validate a policy file into the fields of a ``Policy``.

    Raises:
        InvalidInputError: naming file, field path and line.
    """
    doc = parse_yaml_mapping(raw, file=file, limits=limits)
    return _Parser(doc, resolve, limits).policy(raw)


DOMAINS = frozenset(_INVENTORY_DOMAINS)
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

    # -- typed access: the accessors of models/_fields.py, located in the document --
    def fail(self, message: str, at: Path) -> InvalidInputError:
        return self.doc.locate(f.error(message, at), at)

    def located(self, e: InvalidInputError, at: Path) -> InvalidInputError:
        """``e``, raised by an accessor on the value at ``at``, located there."""
        return self.doc.locate(f.relocate(e, at), at)

    def check(self, at: Path, read: Callable[[], _T]) -> _T:
        """Run a ``_fields`` accessor on the value at ``at``; locate its error there."""
        try:
            return read()
        except InvalidInputError as e:
            raise self.located(e, at) from e

    def mapping(
        self,
        value: Any,
        at: Path,
        *,
        known: frozenset[str],
        required: frozenset[str] = frozenset(),
    ) -> Mapping[str, Any]:
        mapping: dict[str, Any] = self.check(at, lambda: f.check_type(value, dict, ""))
        check_keys(self.doc, mapping, at=at, known=known, required=required)
        return mapping

    def string(self, value: Any, at: Path) -> str:
        return self.check(at, lambda: f.check_text(value))

    def strings(
        self, value: Any, at: Path, *, allowed: frozenset[str] | None = None
    ) -> frozenset[str]:
        out = set()
        for i, item in enumerate(self.items(value, at)):
            s = self.string(item, (*at, i))
            if allowed is not None:
                self.choice(s, (*at, i), tuple(sorted(allowed)))
            out.add(s)
        return frozenset(out)

    def entries(
        self,
        value: Any,
        at: Path,
        *,
        known: frozenset[str],
        required: frozenset[str] = frozenset(),
    ) -> Iterator[tuple[Path, Mapping[str, Any]]]:
        """The mappings of a list section, each checked for its keys, with its path."""
        for i, item in enumerate(self.items(value, at)):
            where = (*at, i)
            yield where, self.mapping(item, where, known=known, required=required)

    def items(self, value: Any, at: Path) -> list[Any]:
        if value is None:
            return []
        return self.check(at, lambda: f.check_type(value, list, ""))

    def time(self, value: Any, at: Path) -> datetime:
        return self.check(at, lambda: f.check_time(value))

    def integer(self, value: Any, at: Path, *, minimum: int) -> int:
        return self.check(at, lambda: f.check_int(value, "", minimum=minimum))

    def choice(self, value: Any, at: Path, allowed: tuple[str, ...]) -> str:
        return self.check(at, lambda: f.check_choice(value, allowed))

    # -- referenced material ----------------------------------------------------
    def material(self, ref: Any, at: Path) -> tuple[str, bytes]:
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

    def certs(self, value: Any, at: Path) -> tuple[x509.Certificate, ...]:
        out: list[x509.Certificate] = []
        for i, ref in enumerate(self.items(value, at)):
            name, data = self.material(ref, (*at, i))
            try:
                out.extend(load_certificates(data, file=name, limits=self.limits))
            except InvalidInputError as e:
                raise self.fail(str(e), (*at, i)) from e
        return tuple(out)

    def keys(self, value: Any, at: Path) -> Mapping[str, crypto.PublicKey]:
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
    def identities(self, value: Any, at: Path) -> tuple[Identity, ...]:
        out = []
        for i, item in enumerate(self.items(value, at)):
            where = (*at, i)
            m = self.mapping(
                item,
                where,
                known=frozenset({"subject", "subjectIncludes", "san", "anySigner"}),
            )
            if "anySigner" in m:
                if self.flag(m["anySigner"], (*where, "anySigner")) is not True:
                    raise self.fail("must be true", (*where, "anySigner"))
                if len(m) != 1:
                    raise self.fail("anySigner cannot be combined with patterns", where)
                out.append(Identity(subject=None, san=None, any_signer=True))
                continue
            subject = self.dn(m, where, "subject")
            includes = self.dn(m, where, "subjectIncludes")
            san = self.string(m["san"], (*where, "san")) if "san" in m else None
            if subject is None and san is None and includes is None:
                raise self.fail(
                    "an identity needs 'subject', 'subjectIncludes' or 'san'", where
                )
            out.append(Identity(subject=subject, san=san, subject_includes=includes))
        return tuple(out)

    def dn(self, m: Mapping[str, Any], where: Path, key: str) -> str | None:
        """An identity's DN pattern (``subject`` or ``subjectIncludes``), checked."""
        if key not in m:
            return None
        text = self.string(m[key], (*where, key))
        try:
            pattern = parse_dn_pattern(text)
            if key == "subjectIncludes":
                pattern.check_attribute_set()
        except ValueError as e:
            raise self.fail(f"invalid subject pattern: {e}", (*where, key)) from e
        return text

    def notation(self, value: Any, at: Path) -> NotationRules:
        """``vendors[].notation``: Notary Project verification level and schemes."""
        if value is None:
            return STRICT_NOTATION
        m = self.mapping(
            value,
            at,
            known=frozenset({"level", "override", "schemes", "signingAuthorities"}),
        )
        if m.get("level") == "skip":
            raise self.fail(
                "level 'skip' is refused: a signature that is not verified cannot "
                "vouch for a delivery",
                (*at, "level"),
            )
        level = self.enum_value(
            m.get("level"), (*at, "level"), tuple(NOTATION_LEVELS), "strict"
        )
        actions = dict(NOTATION_LEVELS[level])
        where = (*at, "override")
        override = self.mapping(
            _or_empty(m.get("override")),
            where,
            known=frozenset({"integrity", *actions}),
        )
        if "integrity" in override:
            raise self.fail(
                "integrity is always enforced and cannot be overridden",
                (*where, "integrity"),
            )
        for name, action in override.items():
            # Notary Project, "Custom Verification Level": only revocation may be
            # skipped; authenticity, authenticTimestamp and expiry enforce or log.
            allowed = (
                ("enforce", "log", "skip")
                if name == "revocation"
                else (
                    "enforce",
                    "log",
                )
            )
            actions[name] = Action(self.choice(action, (*where, name), allowed))
        schemes = self.strings(
            m.get("schemes"), (*at, "schemes"), allowed=frozenset(NOTATION_SCHEMES)
        ) or frozenset({SCHEME_X509})
        authorities = self.certs(
            m.get("signingAuthorities"), (*at, "signingAuthorities")
        )
        if (SCHEME_SIGNING_AUTHORITY in schemes) != bool(authorities):
            raise self.fail(
                f"{SCHEME_SIGNING_AUTHORITY} needs signingAuthorities (their roots), "
                "and signingAuthorities need that scheme in schemes",
                at,
            )
        return NotationRules(
            level=level,
            authenticity=actions["authenticity"],
            authentic_timestamp=actions["authenticTimestamp"],
            expiry=actions["expiry"],
            revocation=actions["revocation"],
            schemes=schemes,
            signing_authority_anchors=authorities,
        )

    def principal(self, item: Any, at: Path, role: str) -> Principal:
        known = {"id", "name", "anchors", "intermediates", "identities", "publicKeys"}
        if role != "timestamp-authority":
            known.update({"requireTimestamp", "keyless", "certificateProfile"})
        if role == "vendor":
            known.update(
                {
                    "inToto",
                    "detachedSignatures",
                    "notation",
                    "imageSignatures",
                    "sol004Option2Alone",
                }
            )
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
        notation = self.notation(m.get("notation"), (*at, "notation"))
        authorities = notation.signing_authority_anchors
        if authorities and not identities:
            raise self.fail(
                "signingAuthorities need at least one allowed signer identity "
                "(identities)",
                at,
            )
        if not anchors and not keys and not keyless and not authorities:
            raise self.fail(
                "needs trust anchors, public keys or keyless identities", at
            )
        image_signatures = IMAGE_SIGNATURE_KINDS
        if m.get("imageSignatures") is not None:
            image_signatures = self.strings(
                m["imageSignatures"],
                (*at, "imageSignatures"),
                allowed=IMAGE_SIGNATURE_KINDS,
            )
            if not image_signatures:
                raise self.fail(
                    "needs at least one signature kind (notation, cosign)",
                    (*at, "imageSignatures"),
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
            notation=notation,
            sol004_option2_alone=self.flag(
                m.get("sol004Option2Alone"), (*at, "sol004Option2Alone")
            ),
            image_signatures=image_signatures,
        )

    def principals(self, value: Any, at: Path, role: str) -> tuple[Principal, ...]:
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

    def keyless_rules(self, value: Any, at: Path) -> tuple[KeylessRule, ...]:
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

    def in_toto(self, value: Any, at: Path) -> InTotoRule | None:
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

    def sigstore(self, value: Any, at: Path) -> tuple[bytes | None, bool]:
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

    def optional_text(self, value: Any, at: Path) -> str:
        if value is None:
            return ""
        return self.check(at, lambda: f.check_type(value, str, ""))

    def flag(self, value: Any, at: Path) -> bool:
        if value is None:
            return False
        return self.check(at, lambda: f.check_type(value, bool, ""))

    def crl_list(
        self, value: Any, at: Path
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
        self, value: Any, at: Path, allowed: tuple[str, ...], default: str
    ) -> str:
        if value is None:
            return default
        return self.choice(value, at, allowed)

    def policy(self, raw: bytes) -> PolicyFields:
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
                    "catalogue",
                    "concentration",
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
        min_rsa = self.integer(
            algs.get("minRsaBits", crypto.MIN_RSA_BITS),
            ("algorithms", "minRsaBits"),
            minimum=crypto.MIN_RSA_BITS,
        )
        cert_section = self.mapping(
            _or_empty(top.get("certification")),
            ("certification",),
            known=frozenset({"requirements", "records"}),
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
        return PolicyFields(
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
            operator_attestation=self.operator_attestation(
                cert_section.get("records"), ("certification", "records")
            ),
            catalogue=self.catalogue(top.get("catalogue"), ("catalogue",)),
            concentration=self.concentration(
                top.get("concentration"), ("concentration",), vendors
            ),
            raw=raw,
            referenced=MappingProxyType(dict(self.referenced)),
        )
