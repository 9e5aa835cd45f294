r"""Distinguished-name patterns: an RFC 4514 DN with ``*`` wildcards inside values.

A policy names the signers it trusts by subject DN patterns such as
``CN=Acme Release Signing *,O=Acme,C=DE``. Matching the pattern as a glob over the
certificate's RFC 4514 string would let ``*`` run across RDN boundaries (a subject
``CN=Acme Release Signing x,OU=Evil,O=Acme,C=DE`` or one with a second CN would
match). Instead the pattern is parsed as an RFC 4514 distinguished name and compared
with the certificate's subject structurally:

* the same number of RDNs, in the same order (RFC 4514 §2.1 writes the last RDN of
  the DER SEQUENCE first; the pattern is read the same way);
* each RDN has the same number of attribute-value pairs; in a multi-valued RDN
  (``OU=a+CN=b``, RFC 4514 §2.2) the pairs are matched by attribute type, whatever
  their order, and each type may occur only once in a pattern RDN; a subject RDN that
  repeats a type inside one multi-valued RDN never matches;
* repeated attributes in separate RDNs (``OU=a,OU=b``) are matched by position;
* each value matches exactly (case-sensitive, no whitespace folding: stricter than
  the X.520 caseIgnoreMatch rules), except that an unescaped ``*`` matches any run
  of characters, possibly empty, within that one value. ``\2A`` is a literal
  asterisk. There are no other wildcards (``?`` and ``[`` are literal).

``DnPattern.found_in`` is the other comparison, Notation's ``x509.subject`` trusted
identity (Notary Project ``trust-store-trust-policy.md``, "Trusted Identities
Constraints"): every attribute of the pattern occurs exactly once in the subject,
in any RDN and order, with a matching value; the subject may have more attributes.
Such a pattern has single-valued RDNs and names each attribute type once.

Attribute types are the RFC 4514 §3 short names, a few other common ones (table
below, case-insensitive as RFC 4512 descr) or dotted OIDs. Values use RFC 4514
escaping (``\,`` ``\+`` ``\"`` ``\\`` ``\<`` ``\>`` ``\;`` ``\=`` ``\#``
``\ `` and ``\XX`` hex pairs of UTF-8); the ``#hex`` BER form is refused.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID

__all__ = ["DnPattern", "glob", "parse_dn_pattern"]

_TYPES: dict[str, x509.ObjectIdentifier] = {
    # RFC 4514 §3
    "cn": NameOID.COMMON_NAME,
    "l": NameOID.LOCALITY_NAME,
    "st": NameOID.STATE_OR_PROVINCE_NAME,
    "o": NameOID.ORGANIZATION_NAME,
    "ou": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "c": NameOID.COUNTRY_NAME,
    "street": NameOID.STREET_ADDRESS,
    "dc": NameOID.DOMAIN_COMPONENT,
    "uid": NameOID.USER_ID,
    # X.520 / PKCS #9 names in common use in code-signing subjects
    "serialnumber": NameOID.SERIAL_NUMBER,
    "organizationidentifier": NameOID.ORGANIZATION_IDENTIFIER,
    "emailaddress": NameOID.EMAIL_ADDRESS,
    "givenname": NameOID.GIVEN_NAME,
    "sn": NameOID.SURNAME,
    "title": NameOID.TITLE,
    "postalcode": NameOID.POSTAL_CODE,
    "businesscategory": NameOID.BUSINESS_CATEGORY,
    "pseudonym": NameOID.PSEUDONYM,
}
_ESCAPABLE = frozenset('"+,;<>\\ #=')
_HEX = frozenset("0123456789abcdefABCDEF")
MAX_PATTERN = 4096


@dataclass(frozen=True, slots=True)
class _Value:
    """A value pattern: literal segments between wildcards (one segment: none)."""

    parts: tuple[str, ...]

    def matches(self, value: str) -> bool:
        first, last = self.parts[0], self.parts[-1]
        if len(self.parts) == 1:
            return value == first
        if len(value) < len(first) + len(last):
            return False
        if not (value.startswith(first) and value.endswith(last)):
            return False
        pos, end = len(first), len(value) - len(last)
        # Leftmost match of each middle segment is optimal for '*'-only globs.
        for part in self.parts[1:-1]:
            found = value.find(part, pos, end)
            if found < 0:
                return False
            pos = found + len(part)
        return True


@dataclass(frozen=True, slots=True)
class DnPattern:
    """A parsed subject pattern; ``rdns`` in DER order (reverse of the text)."""

    text: str
    rdns: tuple[tuple[tuple[x509.ObjectIdentifier, _Value], ...], ...]

    def matches(self, name: x509.Name) -> bool:
        """Whether ``name`` matches RDN by RDN and attribute by attribute."""
        subject = list(name.rdns)
        if len(subject) != len(self.rdns):
            return False
        return all(
            _rdn_matches(pattern, rdn)
            for pattern, rdn in zip(self.rdns, subject, strict=True)
        )

    def found_in(self, name: x509.Name) -> bool:
        """Whether every attribute of the pattern occurs once in ``name``, matching."""
        attrs = [a for rdn in name.rdns for a in rdn]
        for rdn in self.rdns:
            for oid, value in rdn:
                found = [a for a in attrs if a.oid == oid]
                if len(found) != 1 or not isinstance(found[0].value, str):
                    return False
                if not value.matches(found[0].value):
                    return False
        return True

    def check_attribute_set(self) -> None:
        """Refuse a pattern ``found_in`` cannot use (multi-valued RDN, repeated type).

        Raises:
            ValueError: naming the problem.
        """
        seen: set[x509.ObjectIdentifier] = set()
        for rdn in self.rdns:
            if len(rdn) != 1:
                msg = "multi-valued RDNs are not supported here"
                raise ValueError(msg)
            oid = rdn[0][0]
            if oid in seen:
                msg = f"attribute type {oid.dotted_string} is repeated"
                raise ValueError(msg)
            seen.add(oid)


def _rdn_matches(
    pattern: tuple[tuple[x509.ObjectIdentifier, _Value], ...],
    rdn: x509.RelativeDistinguishedName,
) -> bool:
    attrs = list(rdn)
    if len(attrs) != len(pattern):
        return False
    for oid, value in pattern:
        found = [a for a in attrs if a.oid == oid]
        if len(found) != 1 or not isinstance(found[0].value, str):
            return False
        if not value.matches(found[0].value):
            return False
    return True


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


def _attribute_type(text: str) -> x509.ObjectIdentifier:
    if text and text[0].isdigit():
        arcs = text.split(".")
        if len(arcs) < 2 or not all(a.isdigit() and a.isascii() for a in arcs):
            msg = f"invalid attribute type {text!r}"
            raise ValueError(msg)
        return x509.ObjectIdentifier(text)
    oid = _TYPES.get(text.lower())
    if oid is None:
        msg = f"unknown attribute type {text!r} (use a dotted OID)"
        raise ValueError(msg)
    return oid


def _value(text: str) -> _Value:
    if text.startswith("#"):
        msg = "the #hex (BER) value form is not supported in patterns"
        raise ValueError(msg)
    parts: list[str] = []
    current = bytearray()
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            pair = text[i + 1 : i + 3]
            if len(pair) == 2 and set(pair) <= _HEX:
                current.append(int(pair, 16))
                i += 3
                continue
            if pair[:1] and pair[0] in _ESCAPABLE:
                current += pair[0].encode()
                i += 2
                continue
            msg = f"invalid escape {text[i : i + 2]!r} in value {text!r}"
            raise ValueError(msg)
        if ch in '"+,;<>' or ch == "\0":
            msg = f"unescaped {ch!r} in value {text!r}"
            raise ValueError(msg)
        if ch == "*":
            parts.append(_utf8(current, text))
            current = bytearray()
        else:
            current += ch.encode("utf-8", "surrogatepass")
        i += 1
    parts.append(_utf8(current, text))
    return _Value(tuple(parts))


def _utf8(data: bytearray, text: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        msg = f"hex escapes in value {text!r} are not UTF-8"
        raise ValueError(msg) from None


@functools.lru_cache(maxsize=1024)
def parse_dn_pattern(text: str) -> DnPattern:
    """Parse a subject pattern (RFC 4514 DN with ``*`` wildcards in values).

    Raises:
        ValueError: the text is not such a pattern (the message says why).
    """
    if not text or len(text) > MAX_PATTERN:
        msg = f"a subject pattern has 1 to {MAX_PATTERN} characters"
        raise ValueError(msg)
    rdns = []
    for rdn_text in _split(text, ","):
        avas = []
        seen: set[x509.ObjectIdentifier] = set()
        for ava in _split(rdn_text, "+"):
            kind, eq, value = ava.partition("=")
            if not eq:
                msg = f"expected type=value, got {ava!r}"
                raise ValueError(msg)
            oid = _attribute_type(kind)
            if oid in seen:
                msg = f"attribute type {kind!r} repeated inside one RDN"
                raise ValueError(msg)
            seen.add(oid)
            avas.append((oid, _value(value)))
        rdns.append(tuple(avas))
    # RFC 4514 §2.1: the text starts with the last RDN of the sequence.
    return DnPattern(text=text, rdns=tuple(reversed(rdns)))


def glob(pattern: str) -> _Value:
    """A plain ``*``-only glob (for subjectAltName values; no escapes)."""
    return _Value(tuple(pattern.split("*")))
