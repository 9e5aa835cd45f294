"""The policy sections about whom to trust (``parser.py``).

The trusted principals (vendors, certification bodies, timestamp authorities) with
their anchors, keys and allowed signer identities (DN patterns, SANs), each vendor's
Notary Project verification rules (``notation``), keyless (Sigstore) identities and
in-toto layout keys, and the Sigstore trust root.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vendorproof._internal import crypto
from vendorproof._internal.dn_pattern import parse_dn_pattern
from vendorproof.errors import InvalidInputError
from vendorproof.models._fields import Path
from vendorproof.models.certification import KNOWN_SCHEMES
from vendorproof.models.policy._reader import Reader, _or_empty
from vendorproof.models.policy.parts import (
    IMAGE_SIGNATURE_KINDS,
    NOTATION_LEVELS,
    NOTATION_SCHEMES,
    SCHEME_SIGNING_AUTHORITY,
    SCHEME_X509,
    STRICT_NOTATION,
    Action,
    CertificateProfile,
    Identity,
    InTotoRule,
    KeylessRule,
    NotationRules,
    Principal,
)

__all__ = ["TrustSections"]


class TrustSections(Reader):
    """``vendors``, ``certificationBodies``, ``timestampAuthorities``, ``sigstore``."""

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
