"""in-toto Statement v1 (third-party schema: unknown fields ignored, bytes kept)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from vendorproof._internal.jsonio import parse_authenticated, parse_json
from vendorproof.errors import InvalidInputError
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models import _fields as f

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"

#: Hex lengths of the digest algorithms we compute or refuse by name.
DIGEST_HEX_LENGTHS: Mapping[str, int] = MappingProxyType(
    {"sha256": 64, "sha384": 96, "sha512": 128, "sha1": 40, "md5": 32}
)
_HEX = re.compile(r"^[0-9a-f]+$")


def parse_digest_set(value: Any, path: str = "digest") -> Mapping[str, str]:
    """Parse an in-toto DigestSet: algorithm -> lowercase hex, at least one entry."""
    d = f.check_type(value, dict, path)
    if not d:
        raise InvalidInputError("must contain at least one digest", path=path)
    out: dict[str, str] = {}
    for alg, hexval in d.items():
        sub = f.join(path, (alg,))
        text = f.check_type(hexval, str, sub)
        expected = DIGEST_HEX_LENGTHS.get(alg)
        if expected is not None:
            if not _HEX.fullmatch(text):
                raise InvalidInputError("not lowercase hexadecimal", path=sub)
            if len(text) != expected:
                raise InvalidInputError(
                    f"{alg} digest must have {expected} hex digits, got {len(text)}",
                    path=sub,
                )
        out[alg] = text
    return MappingProxyType(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class Subject:
    """One subject (ResourceDescriptor) of a statement."""

    name: str
    digest: Mapping[str, str]

    @classmethod
    def from_dict(cls, value: Any) -> Subject:
        """Parse a subject entry."""
        d = f.check_type(value, dict, "")
        name = f.require_str(d, "name")
        return cls(name=name, digest=parse_digest_set(d.get("digest")))

    def to_dict(self) -> dict[str, Any]:
        """Serialize as an in-toto ResourceDescriptor."""
        return {"name": self.name, "digest": dict(self.digest)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Statement:
    """A parsed in-toto Statement v1. ``raw`` is the exact payload that was signed."""

    subjects: tuple[Subject, ...]
    predicate_type: str
    predicate: Mapping[str, Any]
    raw: bytes = field(repr=False)

    @classmethod
    def from_bytes(
        cls, raw: bytes, *, limits: Limits = DEFAULT_LIMITS, authenticated: bool = False
    ) -> Statement:
        """Parse a statement from its JSON bytes.

        Args:
            raw: the statement JSON.
            limits: parsing limits.
            authenticated: the bytes were already verified against a pinned key (an
                evidence record checked with the operator key): the standard decoder
                is used instead of the strict one, which guards unauthenticated input.

        Raises:
            InvalidInputError: the bytes are not an in-toto Statement v1.
        """
        data = (
            parse_authenticated(raw)
            if authenticated
            else parse_json(raw, file="", limits=limits)
        )
        d = f.check_type(data, dict, "statement")
        stype = f.require(d, "_type", str)
        if stype != STATEMENT_TYPE:
            raise InvalidInputError(
                f"unsupported statement type {stype!r} (expected {STATEMENT_TYPE})",
                path="_type",
            )
        subjects = f.parse_list(
            d,
            "subject",
            Subject.from_dict,
            non_empty=True,
            max_items=limits.max_subjects,
        )
        predicate_type = f.require_str(d, "predicateType")
        predicate = f.get(d, "predicate", dict)
        if predicate is None:
            raise InvalidInputError("required field is missing", path="predicate")
        return cls(
            subjects=subjects,
            predicate_type=predicate_type,
            predicate=MappingProxyType(predicate),
            raw=raw,
        )


def build_statement(
    subjects: tuple[Subject, ...], predicate_type: str, predicate: Mapping[str, Any]
) -> dict[str, Any]:
    """Return the JSON object of a new statement (serialize with ``dump_json``)."""
    return {
        "_type": STATEMENT_TYPE,
        "subject": [s.to_dict() for s in subjects],
        "predicateType": predicate_type,
        "predicate": dict(predicate),
    }
