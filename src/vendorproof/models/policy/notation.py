r"""A Notation trust policy as a vendorproof policy (``policy import-notation``).

Reads a Notary Project trust policy document (``trust-store-trust-policy.md``,
"Trust Policy", version ``1.0``) and the certificates of the named trust stores it
references, and writes the vendorproof policy that verifies the same signatures
where the meanings match (docs/trust-rules.md, "Importing a Notation trust
policy"). What cannot be expressed is returned as notes, written as comments at the
top of the policy and on stderr by the command.

Mapping, per trust policy statement (level other than ``skip``):

* the statement becomes a vendor, ``id`` and ``name`` its ``name``;
* ``ca:<name>`` stores give the vendor's ``anchors`` (scheme ``notary.x509``),
  ``signingAuthority:<name>`` stores its ``notation.signingAuthorities`` (scheme
  ``notary.x509.signingAuthority``), ``tsa:<name>`` stores the policy's
  ``timestampAuthorities`` and ``requireTimestamp: true`` (Notation requires a
  timestamp when a TSA store is named, unless ``verifyTimestamp`` is
  ``afterCertExpiry``);
* ``trustedIdentities`` ``x509.subject: <DN>`` give ``subjectIncludes`` identities
  (attribute by attribute, any order, as Notation matches them), ``*`` gives
  ``anySigner: true``;
* ``signatureVerification`` ``level`` and ``override`` give ``notation.level`` and
  ``notation.override`` unchanged.

The document is validated as notation-go validates it (``verifier/trustpolicy``):
any violation is an ``InvalidInputError`` naming the file and the field.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from vendorproof._internal.dn_pattern import parse_dn_pattern
from vendorproof._internal.jsonio import parse_json
from vendorproof._internal.pem import load_certificates
from vendorproof._internal.text import shorten
from vendorproof.errors import InvalidInputError
from vendorproof.models.policy.parts import (
    NOTATION_LEVELS,
    SCHEME_SIGNING_AUTHORITY,
    SCHEME_X509,
)

__all__ = ["STORE_KINDS", "NotationImport", "StoreReader", "import_notation"]

#: Notation's trust store types (``x509/<type>/<name>/``).
STORE_KINDS: Final = ("ca", "signingAuthority", "tsa")


class StoreReader(Protocol):
    """Reads the certificates of one named store, noting what it ignored."""

    notes: list[str]

    def __call__(self, kind: str, name: str) -> Sequence[tuple[str, bytes]]:
        """(file, bytes) of each certificate file of store ``kind:name``.

        Raises:
            InvalidInputError: the store is missing or unusable.
        """
        ...


_VERSION: Final = "1.0"
_STORE_NAME = re.compile(r"\A[a-zA-Z0-9_.-]+\Z")
_KNOWN_STATEMENT: Final = frozenset(
    {
        "name",
        "registryScopes",
        "signatureVerification",
        "trustStores",
        "trustedIdentities",
    }
)
_KNOWN_VERIFICATION: Final = frozenset({"level", "override", "verifyTimestamp"})
_OVERRIDABLE: Final = ("authenticity", "authenticTimestamp", "expiry", "revocation")
#: Notary Project v1.1.0: ``S`` also names the state or province (ST).
_STATE_ALIAS: Final = "s"
_MANDATORY: Final = {
    NameOID.COUNTRY_NAME: "C",
    NameOID.STATE_OR_PROVINCE_NAME: "ST",
    NameOID.ORGANIZATION_NAME: "O",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class NotationImport:
    """The policy written, and what of the trust policy it could not express."""

    policy: bytes
    notes: tuple[str, ...]
    vendors: tuple[str, ...]


def _split(text: str, sep: str) -> list[str]:
    """Split at unescaped ``sep`` (escapes stay in the pieces)."""
    out: list[str] = []
    start = i = 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == sep:
            out.append(text[start:i])
            start = i + 1
        i += 1
    out.append(text[start:])
    return out


def _strip(text: str) -> str:
    """Whitespace around a DN component, keeping an escaped trailing space."""
    stripped = text.strip()
    if stripped.endswith("\\") and text.rstrip() != text:
        stripped += " "
    return stripped


def notation_dn(text: str) -> tuple[str, dict[str, str]]:
    r"""A Notation ``x509.subject`` DN in vendorproof's RFC 4514 pattern form.

    Notation (go-ldap ``ParseDN``) allows spaces around RDNs, types and values;
    they are dropped. A ``*`` in a value is a literal there, so it is written as
    ``\\2A`` (vendorproof's wildcard is ``*``). ``S`` is the state or province
    (Notary Project trust store and trust policy specification v1.1.0, "Trusted
    Identities Constraints": "state or province (ST or S)"), written ``ST``; ``S``
    and ``ST`` together are one attribute repeated. Returns the pattern and its
    attributes (type OID -> value text) for the overlap check.

    Raises:
        ValueError: not a DN Notation accepts (unparsable, multi-valued RDN,
            repeated attribute, or without C, ST (or S) and O).
    """
    parts = []
    for rdn in _split(text, ","):
        if len(_split(rdn, "+")) > 1:
            msg = "multi-valued RDNs are not supported"
            raise ValueError(msg)
        kind, eq, value = rdn.partition("=")
        if not eq:
            msg = f"expected type=value, got {rdn.strip()!r}"
            raise ValueError(msg)
        value = _strip(value).replace("\\*", "*").replace("*", "\\2A")
        kind = kind.strip()
        if kind.lower() == _STATE_ALIAS:
            kind = "ST"
        parts.append(f"{kind}={value}")
    pattern_text = ",".join(parts)
    pattern = parse_dn_pattern(pattern_text)
    pattern.check_attribute_set()
    found = {rdn[0][0]: "".join(rdn[0][1].parts) for rdn in pattern.rdns}
    missing = [name for oid, name in _MANDATORY.items() if oid not in found]
    if missing:
        msg = f"it must contain C, ST (or S) and O (missing {', '.join(missing)})"
        raise ValueError(msg)
    return pattern_text, {oid.dotted_string: v for oid, v in found.items()}


class _Reader:
    """Validates the trust policy document as notation-go does, with field paths."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, message: str, path: str | None = None) -> InvalidInputError:
        return InvalidInputError(message, file=self.file, path=path)

    def text(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail("must be a non-empty string", path)
        return value

    def texts(self, value: Any, path: str) -> list[str]:
        if not isinstance(value, list):
            raise self.fail("must be an array of strings", path)
        return [self.text(v, f"{path}[{i}]") for i, v in enumerate(value)]


@dataclass
class _Statement:
    name: str
    scopes: list[str]
    level: str
    override: dict[str, str]
    verify_timestamp: str
    stores: list[tuple[str, str]]
    identities: list[dict[str, Any]]


def _verification(r: _Reader, value: Any, path: str) -> tuple[str, dict[str, str], str]:
    if not isinstance(value, dict):
        raise r.fail("must be an object", path)
    level = value.get("level")
    if level not in (*NOTATION_LEVELS, "skip"):
        raise r.fail(
            f"level {level!r} is not one of: strict, permissive, audit, skip",
            f"{path}.level",
        )
    override = value.get("override") or {}
    if not isinstance(override, dict):
        raise r.fail("must be an object", f"{path}.override")
    if override and level == "skip":
        raise r.fail("level 'skip' cannot be customised", f"{path}.override")
    for key, action in override.items():
        where = f"{path}.override.{key}"
        if key == "integrity":
            raise r.fail("integrity cannot be overridden", where)
        if key not in _OVERRIDABLE:
            raise r.fail(f"unknown validation type {key!r}", where)
        allowed = (
            ("enforce", "log", "skip") if key == "revocation" else ("enforce", "log")
        )
        if action not in allowed:
            raise r.fail(f"{action!r} is not one of: {', '.join(allowed)}", where)
    stamp = value.get("verifyTimestamp", "always")
    if stamp not in ("always", "afterCertExpiry"):
        raise r.fail(
            f"{stamp!r} is not one of: always, afterCertExpiry",
            f"{path}.verifyTimestamp",
        )
    return str(level), dict(override), str(stamp)


def _identities(r: _Reader, value: Any, path: str) -> list[dict[str, Any]]:
    names = r.texts(value, path)
    if "*" in names:
        if len(names) > 1:
            raise r.fail("'*' cannot be combined with other trusted identities", path)
        return [{"anySigner": True}]
    out: list[dict[str, Any]] = []
    attrs: list[tuple[str, dict[str, str]]] = []
    for i, name in enumerate(names):
        where = f"{path}[{i}]"
        prefix, colon, dn = name.partition(":")
        if not colon:
            raise r.fail(f"trusted identity {name!r} has no type prefix", where)
        if prefix != "x509.subject":
            raise r.fail(
                f"trusted identity type {prefix!r} is not supported (only "
                "x509.subject, as Notation without plug-ins)",
                where,
            )
        try:
            pattern, found = notation_dn(dn)
        except ValueError as e:
            raise r.fail(f"the DN {dn.strip()!r} does not parse: {e}", where) from e
        out.append({"subjectIncludes": pattern})
        attrs.append((name, found))
    for a, (name_a, dn_a) in enumerate(attrs):
        for b, (name_b, dn_b) in enumerate(attrs):
            # trust-store-trust-policy.md: identities that one certificate could
            # both match are "overlapping" and make the policy invalid.
            if a != b and all(dn_b.get(k) == v for k, v in dn_a.items()):
                raise r.fail(f"{name_a!r} overlaps with {name_b!r}", path)
    return out


def _statements(r: _Reader, data: Any, notes: list[str]) -> list[_Statement]:
    if not isinstance(data, dict):
        raise r.fail("must be a JSON object")
    version = data.get("version")
    if version != _VERSION:
        raise r.fail(
            f"unsupported trust policy version {version!r} (supported: 1.0)", "version"
        )
    unknown = sorted(set(data) - {"version", "trustPolicies"})
    if unknown:
        notes.append(f"top-level field(s) not imported: {', '.join(unknown)}")
    items = data.get("trustPolicies")
    if not isinstance(items, list) or not items:
        raise r.fail("must be a non-empty array", "trustPolicies")
    out: list[_Statement] = []
    names: set[str] = set()
    scopes_seen: dict[str, str] = {}
    for i, item in enumerate(items):
        st = _statement(r, item, f"trustPolicies[{i}]", notes)
        if st.name in names:
            raise r.fail(
                f"duplicate trust policy name {st.name!r}", f"trustPolicies[{i}].name"
            )
        names.add(st.name)
        for scope in st.scopes:
            if scope in scopes_seen:
                raise r.fail(
                    f"registry scope {scope!r} is also in {scopes_seen[scope]!r}",
                    f"trustPolicies[{i}].registryScopes",
                )
            scopes_seen[scope] = st.name
        out.append(st)
    return out


def _stores(r: _Reader, value: Any, path: str) -> list[tuple[str, str]]:
    stores = []
    for j, store in enumerate(r.texts(value, path)):
        kind, colon, store_name = store.partition(":")
        where = f"{path}[{j}]"
        if not colon:
            raise r.fail(f"{store!r} is not <type>:<name>", where)
        if kind not in STORE_KINDS:
            raise r.fail(f"unknown trust store type {kind!r}", where)
        if not _STORE_NAME.match(store_name):
            raise r.fail(
                f"trust store name {store_name!r} is not [a-zA-Z0-9_.-]+", where
            )
        if store_name in {".", ".."}:
            # x509/<type>/. or .. is a directory of stores, not a store: its
            # certificates would become anchors of a store nobody named.
            raise r.fail(f"trust store name {store_name!r} names no store", where)
        stores.append((kind, store_name))
    return stores


def _statement(r: _Reader, item: Any, path: str, notes: list[str]) -> _Statement:
    if not isinstance(item, dict):
        raise r.fail("must be an object", path)
    name = r.text(item.get("name"), f"{path}.name")
    extra = sorted(set(item) - _KNOWN_STATEMENT)
    if extra:
        notes.append(f"{name}: field(s) not imported: {', '.join(extra)}")
    scopes = r.texts(item.get("registryScopes"), f"{path}.registryScopes")
    if not scopes:
        raise r.fail("needs at least one scope", f"{path}.registryScopes")
    if "*" in scopes and len(scopes) > 1:
        raise r.fail(
            "the global scope '*' cannot be combined with other scopes",
            f"{path}.registryScopes",
        )
    level, override, stamp = _verification(
        r, item.get("signatureVerification"), f"{path}.signatureVerification"
    )
    stores_raw = item.get("trustStores") or []
    idents_raw = item.get("trustedIdentities") or []
    if level == "skip":
        if stores_raw or idents_raw:
            raise r.fail("level 'skip' with trust stores or trusted identities", path)
        return _Statement(
            name=name,
            scopes=scopes,
            level=level,
            override={},
            verify_timestamp=stamp,
            stores=[],
            identities=[],
        )
    if not stores_raw or not idents_raw:
        raise r.fail("needs trustStores and trustedIdentities", path)
    stores = _stores(r, stores_raw, f"{path}.trustStores")
    if not any(k != "tsa" for k, _ in stores):
        raise r.fail(
            "needs a ca or signingAuthority trust store", f"{path}.trustStores"
        )
    return _Statement(
        name=name,
        scopes=scopes,
        level=level,
        override=override,
        verify_timestamp=stamp,
        stores=stores,
        identities=_identities(r, idents_raw, f"{path}.trustedIdentities"),
    )


def _certificates(store: StoreReader, kind: str, name: str) -> list[x509.Certificate]:
    out: list[x509.Certificate] = []
    for file, data in store(kind, name):
        out.extend(load_certificates(data, file=file))
    if not out:
        raise InvalidInputError(
            f"trust store {kind}:{name} holds no certificate (.pem, .crt, .cer)"
        )
    return out


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


class _Dumper(yaml.SafeDumper):
    """Safe YAML, with multi-line strings (PEM) as literal blocks."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _vendor(
    st: _Statement,
    store: StoreReader,
    tsas: dict[str, dict[str, Any]],
    stamped: list[tuple[str, ...]],
    notes: list[str],
) -> dict[str, Any]:
    """The vendor entry of one statement; its TSA stores go into ``tsas``."""
    anchors: list[str] = []
    authorities: list[str] = []
    tsa_ids: list[str] = []
    for kind, name in st.stores:
        certs = [_pem(c) for c in _certificates(store, kind, name)]
        if kind == "ca":
            anchors.extend(certs)
        elif kind == "signingAuthority":
            authorities.extend(certs)
        else:
            tsa_id = f"tsa-{name}"
            tsas.setdefault(
                tsa_id,
                {
                    "id": tsa_id,
                    "name": f"Notation TSA store {name}",
                    "anchors": certs,
                },
            )
            tsa_ids.append(tsa_id)
    vendor: dict[str, Any] = {"id": st.name, "name": st.name}
    if anchors:
        vendor["anchors"] = anchors
    vendor["identities"] = st.identities
    rules: dict[str, Any] = {"level": st.level}
    if st.override:
        rules["override"] = dict(st.override)
    schemes = [SCHEME_X509] if anchors else []
    if authorities:
        schemes.append(SCHEME_SIGNING_AUTHORITY)
        rules["signingAuthorities"] = authorities
    rules["schemes"] = schemes
    vendor["notation"] = rules
    # A Notation trust policy trusts Notation signatures only: a cosign signature
    # from the same PKI must not count for the imported vendor.
    vendor["imageSignatures"] = ["notation"]
    if tsa_ids:
        stamped.append(tuple(sorted(tsa_ids)))
        if st.verify_timestamp == "always":
            vendor["requireTimestamp"] = True
        else:
            notes.append(
                f"{st.name}: verifyTimestamp afterCertExpiry: a timestamp is "
                "not required (the chain is validated at --at without one), "
                "but one that is present is always verified and fails when it "
                "does not verify"
            )
    return vendor


def import_notation(
    raw: bytes,
    *,
    file: str,
    store: StoreReader,
    policy_id: str,
    legal_basis: str,
) -> NotationImport:
    """Turn a Notation trust policy into a vendorproof policy (see the module doc).

    Args:
        raw: the ``trustpolicy.json`` bytes.
        file: its name, for errors.
        store: reads the certificates of a named trust store.
        policy_id: the ``policy.id`` of the result.
        legal_basis: its ``policy.legalBasis``.

    Raises:
        InvalidInputError: the document, a trust store or a DN is not one Notation
            accepts, or no statement verifies signatures.
    """
    notes: list[str] = []
    r = _Reader(file)
    try:
        data = parse_json(raw, file=file)
    except InvalidInputError as e:
        raise r.fail(f"not a JSON trust policy: {e.message}") from e
    statements = _statements(r, data, notes)
    vendors: list[dict[str, Any]] = []
    tsas: dict[str, dict[str, Any]] = {}
    stamped: list[tuple[str, ...]] = []
    for st in statements:
        scope = ", ".join(st.scopes)
        if st.level == "skip":
            notes.append(
                f"{st.name}: level 'skip' (registry scopes {scope}) is not imported: "
                "vendorproof verifies every delivery it accepts"
            )
            continue
        if st.scopes != ["*"]:
            notes.append(
                f"{st.name}: registryScopes {scope} do not apply to an OCI layout "
                "(it has no repository URI): the vendor's anchors are tried for "
                "every image, and vendor-binding requires the image's "
                "org.opencontainers.image.vendor annotation to be this vendor's id"
            )
        vendors.append(_vendor(st, store, tsas, stamped, notes))
    if not vendors:
        raise r.fail("no trust policy statement verifies signatures (all are 'skip')")
    if stamped and (len(set(stamped)) > 1 or len(stamped) != len(vendors)):
        notes.append(
            "timestamping authorities are policy-wide in vendorproof: a TSA store "
            "named by one statement also vouches for the signing time of the others"
        )
    notes.extend(store.notes)
    notes.append(
        "files of a layout outside the signed image (such as docker save's "
        "manifest.json) are warnings (unlistedFiles: warn), as Notation looks at "
        "signatures only: set fail to refuse them"
    )
    notes.append(
        "revocation: Notation fetches CRLs and OCSP online; vendorproof uses only "
        "the CRLs listed under revocation.crls (add the CAs' CRLs; mode "
        "if-available checks what is listed, require needs a CRL for every "
        "certificate)"
    )
    policy = {
        "policy": {
            "id": policy_id,
            "version": "1",
            "legalBasis": legal_basis,
            "description": f"Imported from the Notation trust policy {file}",
        },
        "vendors": vendors,
        "revocation": {"mode": "if-available", "crls": []},
        "unlistedFiles": "warn",
    }
    if tsas:
        policy["timestampAuthorities"] = list(tsas.values())
    body = yaml.dump(policy, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
    lines = [
        f"vendorproof policy imported from the Notation trust policy {shorten(file)}",
        "(vendorproof policy import-notation). Not expressed, or expressed",
        "differently:",
    ]
    for note in notes:
        lines.extend(
            textwrap.wrap(
                shorten(note),
                width=86,
                initial_indent="- ",
                subsequent_indent="  ",
                break_on_hyphens=False,
            )
        )
    header = "".join(f"# {line}\n" for line in lines)
    return NotationImport(
        policy=(header + body).encode("utf-8"),
        notes=tuple(notes),
        vendors=tuple(v["id"] for v in vendors),
    )
