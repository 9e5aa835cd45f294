"""DSSE envelopes (third-party schema) and the pre-authentication encoding."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vendorproof.errors import InvalidInputError
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models import _fields as f


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: what a signature actually covers.

    ``"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`` with ASCII decimal lengths.
    """
    ptype = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(ptype), ptype, len(payload), payload)


@dataclass(frozen=True, slots=True, kw_only=True)
class Signature:
    """One DSSE signature. ``keyid`` is an unauthenticated hint."""

    sig: bytes
    keyid: str = ""

    @classmethod
    def from_dict(cls, value: Any) -> Signature:
        """Parse one signature entry."""
        d = f.check_type(value, dict, "")
        sig = f.require_b64(d, "sig")
        if not sig:
            raise InvalidInputError("empty signature", path="sig")
        return cls(sig=sig, keyid=f.get(d, "keyid", str) or "")

    def to_dict(self) -> dict[str, Any]:
        """Serialize (``keyid`` omitted when empty)."""
        out: dict[str, Any] = {"sig": f.b64encode(self.sig)}
        if self.keyid:
            out["keyid"] = self.keyid
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope:
    """A DSSE envelope. ``payload`` holds the exact signed bytes."""

    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]

    @classmethod
    def from_dict(
        cls, d: Mapping[str, Any], *, limits: Limits = DEFAULT_LIMITS
    ) -> Envelope:
        """Parse an envelope object.

        Raises:
            InvalidInputError: missing fields, bad base64, no or too many signatures.
        """
        payload_type = f.require_str(d, "payloadType")
        payload = f.require_b64(d, "payload")
        signatures = f.parse_list(
            d,
            "signatures",
            Signature.from_dict,
            non_empty=True,
            max_items=limits.max_signatures,
        )
        return cls(payload_type=payload_type, payload=payload, signatures=signatures)

    def to_dict(self) -> dict[str, Any]:
        """Serialize as DSSE JSON."""
        return {
            "payload": f.b64encode(self.payload),
            "payloadType": self.payload_type,
            "signatures": [s.to_dict() for s in self.signatures],
        }

    def pae(self) -> bytes:
        """Return the bytes the signatures are over."""
        return pae(self.payload_type, self.payload)
