"""Sigstore bundle JSON (v0.2 and v0.3) as the signed container for statements.

Rules followed from the Sigstore bundle specification:

* v0.3 (``application/vnd.dev.sigstore.bundle.v0.3+json``) carries the signing
  certificate alone (``certificate``) or a public-key hint (``publicKey``); it must not
  carry ``x509CertificateChain``.
* v0.2 (``application/vnd.dev.sigstore.bundle+json;version=0.2``) carries an
  ``x509CertificateChain`` (leaf first, then intermediates, never the root) or a
  public-key hint.
* Both may carry RFC 3161 timestamps in ``timestampVerificationData``.

A bundle signed with a vendor PKI has no transparency-log entry; ``tlogEntries`` is
written as an empty list so that parsers that require the field accept it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from vendorproof._internal.jsonio import parse_json
from vendorproof._internal.pem import load_der_certificate
from vendorproof.errors import InvalidInputError
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models import _fields as f
from vendorproof.models.envelope import Envelope


class BundleVersion(enum.Enum):
    """Supported bundle versions and their canonical media types."""

    V0_2 = "application/vnd.dev.sigstore.bundle+json;version=0.2"
    V0_3 = "application/vnd.dev.sigstore.bundle.v0.3+json"


_MEDIA_TYPES: Mapping[str, BundleVersion] = {
    BundleVersion.V0_2.value: BundleVersion.V0_2,
    BundleVersion.V0_3.value: BundleVersion.V0_3,
    "application/vnd.dev.sigstore.bundle+json;version=0.3": BundleVersion.V0_3,
}

_KNOWN_MATERIAL = ("publicKey", "x509CertificateChain", "certificate")


def _load_cert(value: Any) -> x509.Certificate:
    d = f.check_type(value, dict, "")
    der = f.require_b64(d, "rawBytes")
    # Parsed completely here: cryptography decodes fields lazily (pem.py).
    return load_der_certificate(der, file=None, path="rawBytes")


def _load_timestamp(value: Any) -> bytes:
    d = f.check_type(value, dict, "")
    der = f.require_b64(d, "signedTimestamp")
    if not der:
        raise InvalidInputError("empty timestamp", path="signedTimestamp")
    return der


@dataclass(frozen=True, slots=True, kw_only=True)
class Bundle:
    """A parsed Sigstore bundle.

    Attributes:
        version: the bundle version.
        certificates: leaf first, then intermediates (empty for a public-key hint).
        public_key_hint: the ``publicKey.hint`` when no certificate is carried.
        timestamps: DER RFC 3161 TimeStampResponses over the signature.
        tlog_entries: raw transparency-log entries (only Sigstore keyless bundles).
        envelope: the DSSE envelope (``None`` for a message-signature bundle).
        message_signature: raw ``messageSignature`` object, if that is the content.
        raw: the exact bytes read.
    """

    version: BundleVersion
    certificates: tuple[x509.Certificate, ...]
    public_key_hint: str | None
    timestamps: tuple[bytes, ...]
    tlog_entries: tuple[Mapping[str, Any], ...]
    envelope: Envelope | None
    message_signature: Mapping[str, Any] | None
    raw: bytes = field(repr=False)

    @classmethod
    def from_bytes(cls, raw: bytes, *, limits: Limits = DEFAULT_LIMITS) -> Bundle:
        """Parse bundle JSON bytes.

        Raises:
            InvalidInputError: malformed JSON, unknown media type, missing or
                conflicting verification material, bad base64 or certificates.
        """
        d = f.check_type(parse_json(raw, file="", limits=limits), dict, "bundle")
        media_type = f.require(d, "mediaType", str)
        version = _MEDIA_TYPES.get(media_type)
        if version is None:
            raise InvalidInputError(
                f"unsupported bundle media type {media_type!r}", path="mediaType"
            )
        material = f.require_mapping(d, "verificationMaterial")
        try:
            certs, hint = cls._parse_material(material, version, limits)
            timestamps: tuple[bytes, ...] = ()
            tvd = f.get(material, "timestampVerificationData", dict)
            if tvd is not None:
                try:
                    timestamps = f.parse_list(
                        tvd,
                        "rfc3161Timestamps",
                        _load_timestamp,
                        required=False,
                        max_items=limits.max_signatures,
                    )
                except InvalidInputError as e:
                    raise e.under("timestampVerificationData") from e
            tlog = f.parse_list(
                material,
                "tlogEntries",
                lambda v: f.check_type(v, dict, ""),
                required=False,
                max_items=limits.max_signatures,
            )
        except InvalidInputError as e:
            raise e.under("verificationMaterial") from e
        has_dsse = "dsseEnvelope" in d
        has_msg = "messageSignature" in d
        if has_dsse == has_msg:
            raise InvalidInputError(
                "exactly one of dsseEnvelope or messageSignature is required",
                path="bundle",
            )
        envelope = None
        message = None
        if has_dsse:
            envelope = f.parse_object(
                d, "dsseEnvelope", lambda m: Envelope.from_dict(m, limits=limits)
            )
        else:
            message = f.require_mapping(d, "messageSignature")
        return cls(
            version=version,
            certificates=certs,
            public_key_hint=hint,
            timestamps=timestamps,
            tlog_entries=tlog,
            envelope=envelope,
            message_signature=message,
            raw=raw,
        )

    @staticmethod
    def _parse_material(
        material: Mapping[str, Any], version: BundleVersion, limits: Limits
    ) -> tuple[tuple[x509.Certificate, ...], str | None]:
        present = [k for k in _KNOWN_MATERIAL if material.get(k) is not None]
        if len(present) != 1:
            raise InvalidInputError(
                "exactly one of publicKey, x509CertificateChain or certificate "
                f"is required, found {len(present)}"
            )
        (kind,) = present
        if kind == "publicKey":
            return (), f.parse_object(
                material, "publicKey", lambda pk: f.get(pk, "hint", str) or ""
            )
        if kind == "certificate":
            if version is not BundleVersion.V0_3:
                raise InvalidInputError(
                    "a single 'certificate' requires bundle v0.3", path="certificate"
                )
            return (f.parse_object(material, "certificate", _load_cert),), None
        if version is BundleVersion.V0_3:
            raise InvalidInputError(
                "bundle v0.3 must not carry x509CertificateChain (use v0.2)",
                path="x509CertificateChain",
            )
        chain = f.require_mapping(material, "x509CertificateChain")
        try:
            certs = f.parse_list(
                chain,
                "certificates",
                _load_cert,
                non_empty=True,
                max_items=limits.max_certificates,
            )
        except InvalidInputError as e:
            raise e.under("x509CertificateChain") from e
        return certs, None

    @property
    def leaf(self) -> x509.Certificate | None:
        """The signing certificate, if the bundle carries one."""
        return self.certificates[0] if self.certificates else None

    @property
    def intermediates(self) -> tuple[x509.Certificate, ...]:
        """The intermediates shipped with the leaf (v0.2 only)."""
        return self.certificates[1:]


def build_bundle(
    envelope: Envelope,
    *,
    certificates: tuple[x509.Certificate, ...] = (),
    public_key_hint: str | None = None,
    timestamps: tuple[bytes, ...] = (),
) -> dict[str, Any]:
    """Return the JSON object of a bundle for ``envelope``.

    One certificate gives v0.3 ``certificate``; a leaf with intermediates gives v0.2
    ``x509CertificateChain``; no certificate gives v0.3 with a ``publicKey`` hint.
    """
    from cryptography.hazmat.primitives.serialization import Encoding

    material: dict[str, Any] = {}
    if len(certificates) > 1:
        media_type = BundleVersion.V0_2.value
        material["x509CertificateChain"] = {
            "certificates": [
                {"rawBytes": f.b64encode(c.public_bytes(Encoding.DER))}
                for c in certificates
            ]
        }
    elif certificates:
        media_type = BundleVersion.V0_3.value
        material["certificate"] = {
            "rawBytes": f.b64encode(certificates[0].public_bytes(Encoding.DER))
        }
    else:
        media_type = BundleVersion.V0_3.value
        material["publicKey"] = {"hint": public_key_hint or ""}
    material["tlogEntries"] = []
    if timestamps:
        material["timestampVerificationData"] = {
            "rfc3161Timestamps": [
                {"signedTimestamp": f.b64encode(t)} for t in timestamps
            ]
        }
    return {
        "mediaType": media_type,
        "verificationMaterial": material,
        "dsseEnvelope": envelope.to_dict(),
    }
