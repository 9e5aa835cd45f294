"""Notary Project (Notation) signature envelopes: decoded, checked and verified.

The envelope side of the Notary Project signature specification
(``specs/signature-specification.md``), for its two envelopes:

* JWS JSON flattened serialization, ``application/jose+json``
  (``specs/signature-envelope-jws.md``): parsed strictly here, signature verified by
  ``joserfc`` (which also refuses unknown ``crit`` names, RFC 7515 §4.1.11);
* ``COSE_Sign1_Tagged``, ``application/cose`` (``specs/signature-envelope-cose.md``,
  RFC 9052 §4.2/§4.4): decoded by ``cbor2`` (duplicate map keys and indefinite
  lengths refused), signature over the ``Sig_structure`` verified by ``cryptography``.

``parse_envelope`` decodes either one into a ``NotationEnvelope`` and applies the
specification's header rules (``alg``, ``crit``, ``cty``, the signing scheme and its
times); ``_verify_jws`` and ``_verify_cose`` check its signature with the signing
key (of the first certificate). What the envelope is worth (target, chain, trust,
time) is decided by ``verify/notation.py``, which records these steps as its
``notation-envelope`` and ``signature`` checks.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from vendorproof._internal import crypto
from vendorproof._internal.jsonio import parse_json
from vendorproof._internal.pem import load_der_certificate
from vendorproof.errors import InvalidInputError, SignatureError
from vendorproof.limits import DEFAULT_LIMITS
from vendorproof.models._fields import parse_time
from vendorproof.models.policy import SCHEME_SIGNING_AUTHORITY, SCHEME_X509

__all__ = [
    "MEDIA_COSE",
    "MEDIA_JWS",
    "NotationEnvelope",
    "parse_envelope",
]

MEDIA_JWS: Final = "application/jose+json"
MEDIA_COSE: Final = "application/cose"
PAYLOAD_TYPE: Final = "application/vnd.cncf.notary.payload.v1+json"

H_SCHEME: Final = "io.cncf.notary.signingScheme"
H_SIGNING_TIME: Final = "io.cncf.notary.signingTime"
H_AUTHENTIC_TIME: Final = "io.cncf.notary.authenticSigningTime"
H_EXPIRY: Final = "io.cncf.notary.expiry"
H_TIMESTAMP: Final = "io.cncf.notary.timestampSignature"
H_AGENT: Final = "io.cncf.notary.signingAgent"
#: Extended attributes naming a verification plug-in ("Extended attributes").
H_PLUGINS: Final = (
    "io.cncf.notary.verificationPlugin",
    "io.cncf.notary.verificationPluginMinVersion",
)
SCHEME_AUTHORITY: Final = SCHEME_SIGNING_AUTHORITY

#: Critical headers this verifier understands (signature-specification.md).
_KNOWN_CRITICAL: Final = frozenset({H_SCHEME, H_AUTHENTIC_TIME, H_EXPIRY})
#: Protected headers that must be listed in ``crit`` when present.
_MUST_BE_CRITICAL: Final = _KNOWN_CRITICAL
_KNOWN_UNPROTECTED: Final = frozenset({"x5c", H_TIMESTAMP, H_AGENT})

#: JWS ``alg`` -> (key family, hash), "Supported alg header values".
_ALGS: Final = {
    "PS256": ("rsa", hashes.SHA256),
    "PS384": ("rsa", hashes.SHA384),
    "PS512": ("rsa", hashes.SHA512),
    "ES256": ("ec", hashes.SHA256),
    "ES384": ("ec", hashes.SHA384),
    "ES512": ("ec", hashes.SHA512),
}
#: COSE ``alg`` labels (RFC 9053 §2.1, RFC 8230 §2) -> JWS names.
_COSE_ALGS: Final = {
    -37: "PS256",
    -38: "PS384",
    -39: "PS512",
    -7: "ES256",
    -35: "ES384",
    -36: "ES512",
}
_COSE_LABELS: Final = {1: "alg", 2: "crit", 3: "cty"}
_COSE_X5CHAIN: Final = 33
_B64URL = re.compile(r"\A[A-Za-z0-9_-]*\Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class NotationEnvelope:
    """A parsed Notation envelope; nothing in it is trusted until verified."""

    file: str
    media_type: str
    raw: bytes
    alg: str
    protected: Mapping[str, Any]  # header names as strings (COSE labels 1-3 named)
    payload: bytes
    signature: bytes
    certificates: tuple[x509.Certificate, ...]
    timestamp: bytes | None  # an RFC 3161 TimeStampToken (DER ContentInfo)
    signing_agent: str | None

    @property
    def scheme(self) -> str:
        """The ``io.cncf.notary.signingScheme`` value."""
        return str(self.protected[H_SCHEME])


# ----------------------------------------------------------------------- parsing


def _b64url(value: object, what: str, file: str) -> bytes:
    """RFC 7515 §2 base64url without padding."""
    if not isinstance(value, str) or not _B64URL.match(value):
        raise InvalidInputError(f"{what} is not base64url", file=file, path=what)
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise InvalidInputError(
            f"{what} is not base64url", file=file, path=what
        ) from None


def _b64std(value: object, what: str, file: str) -> bytes:
    if not isinstance(value, str):
        raise InvalidInputError("must be a base64 string", file=file, path=what)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInputError("is not base64", file=file, path=what) from None


def _certificates(
    ders: Sequence[bytes], file: str, what: str
) -> tuple[x509.Certificate, ...]:
    if not ders:
        raise InvalidInputError("certificate chain is empty", file=file, path=what)
    if len(ders) > DEFAULT_LIMITS.max_chain_depth + 2:
        raise InvalidInputError(
            f"more than {DEFAULT_LIMITS.max_chain_depth + 2} certificates",
            file=file,
            path=what,
        )
    return tuple(
        load_der_certificate(der, file=file, path=f"{what}[{i}]")
        for i, der in enumerate(ders)
    )


def _check_headers(protected: Mapping[str, Any], file: str) -> str:
    """The Notary rules on ``alg``, ``crit``, ``cty`` and the scheme; returns alg."""
    for name in H_PLUGINS:
        # "Guidelines for implementations": a verifier that cannot run the plug-in's
        # verification MUST fail, whether or not the attribute is listed in crit.
        if name in protected:
            raise InvalidInputError(
                f"{name} requires a verification plug-in; vendorproof runs none, "
                "and the specification requires failing then (critical or not)",
                file=file,
                path=f"protected.{name}",
            )
    alg = protected.get("alg")
    if alg not in _ALGS:
        raise InvalidInputError(
            f"alg {alg!r} is not a Notary Project algorithm (PS256/384/512, "
            "ES256/384/512; 'none' and HMAC are refused)",
            file=file,
            path="protected.alg",
        )
    crit = protected.get("crit")
    if (
        not isinstance(crit, list)
        or not crit
        or not all(isinstance(c, str) for c in crit)
        or len(set(crit)) != len(crit)
    ):
        raise InvalidInputError(
            "crit must be a non-empty array of distinct header names",
            file=file,
            path="protected.crit",
        )
    for name in crit:
        if name not in _KNOWN_CRITICAL:
            raise InvalidInputError(
                f"critical header {name!r} is not understood by this verifier",
                file=file,
                path="protected.crit",
            )
        if name not in protected:
            raise InvalidInputError(
                f"critical header {name!r} is listed in crit but absent",
                file=file,
                path="protected.crit",
            )
    for name in _MUST_BE_CRITICAL:
        if name in protected and name not in crit:
            raise InvalidInputError(
                f"{name} is present but not listed in crit",
                file=file,
                path="protected.crit",
            )
    if protected.get("cty") != PAYLOAD_TYPE:
        raise InvalidInputError(
            f"content type must be {PAYLOAD_TYPE}", file=file, path="protected.cty"
        )
    scheme = protected.get(H_SCHEME)
    if scheme == SCHEME_X509:
        if H_SIGNING_TIME not in protected or H_AUTHENTIC_TIME in protected:
            raise InvalidInputError(
                "notary.x509 requires signingTime and forbids authenticSigningTime",
                file=file,
                path=f"protected.{H_SCHEME}",
            )
    elif scheme == SCHEME_AUTHORITY:
        if H_AUTHENTIC_TIME not in protected or H_SIGNING_TIME in protected:
            raise InvalidInputError(
                "notary.x509.signingAuthority requires authenticSigningTime and "
                "forbids signingTime",
                file=file,
                path=f"protected.{H_SCHEME}",
            )
    else:
        raise InvalidInputError(
            f"unknown signing scheme {scheme!r}",
            file=file,
            path=f"protected.{H_SCHEME}",
        )
    return str(alg)


def _rfc3339(value: object, file: str, what: str) -> datetime:
    """An RFC 3339 ``date-time`` (§5.6; the JWS envelope specification's format).

    The strict grammar of ``models._fields.parse_time``: ``YYYY-MM-DDTHH:MM:SS``,
    an optional fraction, ``Z`` or ``+HH:MM``; no ISO 8601 basic or week forms.
    """
    if not isinstance(value, str):
        raise InvalidInputError("must be an RFC 3339 time string", file=file, path=what)
    try:
        return parse_time(value, what)
    except InvalidInputError as e:
        raise e.in_file(file) from None


def _parse_jws(raw: bytes, file: str) -> NotationEnvelope:
    data = parse_json(raw, file=file)
    if not isinstance(data, dict):
        raise InvalidInputError("must be a JSON object", file=file)
    if set(data) != {"payload", "protected", "header", "signature"}:
        raise InvalidInputError(
            "must be a flattened JWS JSON serialization with exactly payload, "
            "protected, header and signature",
            file=file,
        )
    protected_raw = _b64url(data["protected"], "protected", file)
    protected = parse_json(protected_raw, file=f"{file}: protected")
    header = data["header"]
    if not isinstance(protected, dict) or not isinstance(header, dict):
        raise InvalidInputError("protected and header must be JSON objects", file=file)
    both = sorted(set(protected) & set(header))
    if both:
        raise InvalidInputError(
            f"header {both[0]!r} is both protected and unprotected (RFC 7515 §7.2.1)",
            file=file,
            path="header",
        )
    unknown = sorted(set(header) - _KNOWN_UNPROTECTED)
    if unknown:
        raise InvalidInputError(
            f"unknown unprotected header {unknown[0]!r}", file=file, path="header"
        )
    alg = _check_headers(protected, file)
    for name in (H_SIGNING_TIME, H_AUTHENTIC_TIME, H_EXPIRY):
        if name in protected:
            protected[name] = _rfc3339(protected[name], file, f"protected.{name}")
    x5c = header.get("x5c")
    if not isinstance(x5c, list):
        raise InvalidInputError("x5c must be an array", file=file, path="header.x5c")
    ders = [_b64std(c, f"header.x5c[{i}]", file) for i, c in enumerate(x5c)]
    stamp = header.get(H_TIMESTAMP)
    agent = header.get(H_AGENT)
    return NotationEnvelope(
        file=file,
        media_type=MEDIA_JWS,
        raw=raw,
        alg=alg,
        protected=protected,
        payload=_b64url(data["payload"], "payload", file),
        signature=_b64url(data["signature"], "signature", file),
        certificates=_certificates(ders, file, "header.x5c"),
        timestamp=None
        if stamp is None
        else _b64std(stamp, f"header.{H_TIMESTAMP}", file),
        signing_agent=agent if isinstance(agent, str) else None,
    )


def _cbor(raw: bytes, file: str, what: str) -> Any:
    """Decode exactly one CBOR data item that is all of ``raw`` (RFC 8949 §5.3.1).

    ``cbor2.loads`` stops after the first item: bytes after it are refused here.
    """
    import io

    import cbor2

    stream = io.BytesIO(raw)
    try:
        item = cbor2.CBORDecoder(
            stream,
            allow_duplicate_keys=False,
            allow_indefinite=False,
            max_depth=DEFAULT_LIMITS.max_depth,
        ).decode()
    except Exception as e:  # noqa: BLE001 - untrusted bytes: the decoder's own errors
        raise InvalidInputError(
            f"not valid CBOR: {' '.join(str(e).split())}", file=file, path=what
        ) from None
    if stream.tell() != len(raw):
        raise InvalidInputError(
            f"not valid CBOR: {len(raw) - stream.tell()} bytes after the data item",
            file=file,
            path=what,
        )
    return item


def _cose_time(value: object, file: str, what: str) -> datetime:
    # cbor2 decodes tag 1 (RFC 8949 §3.4.2) to an aware datetime
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInputError(
            "must be an epoch-based date/time (tag 1)", file=file, path=what
        )
    return value.astimezone(UTC)


def _cose_protected(decoded: Mapping[Any, Any]) -> dict[str, Any]:
    """The protected header with labels 1-3 named and ``alg`` as its JWS name."""
    protected: dict[str, Any] = {}
    for label, value in decoded.items():
        if isinstance(label, int) and label in _COSE_LABELS:
            protected[_COSE_LABELS[label]] = value
        elif isinstance(label, str) and label not in _COSE_LABELS.values():
            protected[label] = value
        elif label == _COSE_X5CHAIN:  # allowed in either map (COSE envelope spec)
            protected["x5chain"] = value
        else:
            protected[f"label {label}"] = value
    alg_label = protected.get("alg")
    protected["alg"] = (
        _COSE_ALGS.get(alg_label, alg_label)
        if isinstance(alg_label, int)
        else f"{alg_label!r}"
    )
    crit = protected.get("crit")
    if isinstance(crit, list | tuple):
        # An integer label is named as in the header map ("label 4"), so an
        # unknown one is reported as a critical header not understood.
        protected["crit"] = [
            _COSE_LABELS.get(c, f"label {c}") if isinstance(c, int) else c for c in crit
        ]
    return protected


def _parse_cose(raw: bytes, file: str) -> NotationEnvelope:
    import cbor2

    item = _cbor(raw, file, "COSE_Sign1")
    if not isinstance(item, cbor2.CBORTag) or item.tag != 18:
        raise InvalidInputError("not a COSE_Sign1_Tagged object (tag 18)", file=file)
    parts = item.value
    if not isinstance(parts, list | tuple) or len(parts) != 4:
        raise InvalidInputError("COSE_Sign1 must be an array of four", file=file)
    protected_raw, unprotected, payload, signature = parts
    if not all(isinstance(x, bytes) for x in (protected_raw, payload, signature)):
        raise InvalidInputError(
            "protected, payload and signature must be byte strings (the payload "
            "is attached)",
            file=file,
        )
    decoded = _cbor(protected_raw, file, "protected")
    if not isinstance(decoded, Mapping) or not isinstance(unprotected, Mapping):
        raise InvalidInputError("headers must be maps", file=file)
    protected = _cose_protected(decoded)
    alg = _check_headers(protected, file)
    for name in (H_SIGNING_TIME, H_AUTHENTIC_TIME, H_EXPIRY):
        if name in protected:
            protected[name] = _cose_time(protected[name], file, f"protected.{name}")
    for label in unprotected:
        if label in decoded:
            raise InvalidInputError(
                f"header {label!r} is both protected and unprotected (RFC 9052 §3)",
                file=file,
                path="unprotected",
            )
        if label not in {_COSE_X5CHAIN, H_TIMESTAMP, H_AGENT}:
            raise InvalidInputError(
                f"unknown unprotected header {label!r}", file=file, path="unprotected"
            )
    chain = unprotected.get(_COSE_X5CHAIN, protected.pop("x5chain", None))
    ders = [chain] if isinstance(chain, bytes) else chain  # RFC 9360 §2
    if not isinstance(ders, list | tuple) or not all(
        isinstance(c, bytes) for c in ders
    ):
        raise InvalidInputError(
            "x5chain must be a byte string or an array of them",
            file=file,
            path="unprotected.33",
        )
    stamp = unprotected.get(H_TIMESTAMP)
    if stamp is not None and not isinstance(stamp, bytes):
        raise InvalidInputError(
            "must be a byte string", file=file, path=f"unprotected.{H_TIMESTAMP}"
        )
    agent = unprotected.get(H_AGENT)
    return NotationEnvelope(
        file=file,
        media_type=MEDIA_COSE,
        raw=raw,
        alg=alg,
        protected=protected,
        payload=payload,
        signature=signature,
        certificates=_certificates(ders, file, "unprotected.x5chain"),
        timestamp=stamp,
        signing_agent=agent if isinstance(agent, str) else None,
    )


def parse_envelope(raw: bytes, media_type: str, *, file: str) -> NotationEnvelope:
    """Parse a Notation envelope of ``media_type`` (JWS or COSE).

    Raises:
        InvalidInputError: malformed, or a rule of the specification on its
            headers is broken (unknown ``alg``, unknown critical header, ...).
    """
    if len(raw) > DEFAULT_LIMITS.max_document_bytes:
        raise InvalidInputError(
            f"larger than {DEFAULT_LIMITS.max_document_bytes} bytes", file=file
        )
    if media_type == MEDIA_JWS:
        return _parse_jws(raw, file)
    if media_type == MEDIA_COSE:
        return _parse_cose(raw, file)
    raise InvalidInputError(
        f"unknown signature envelope media type {media_type!r}", file=file
    )


# --------------------------------------------------------------------- signature


def _verify_jws(env: NotationEnvelope, key: crypto.PublicKey) -> None:
    from joserfc import jws
    from joserfc.errors import JoseError
    from joserfc.jwk import ECKey, RSAKey
    from joserfc.jws import JWSRegistry
    from joserfc.registry import HeaderParameter

    names = {
        H_SCHEME: "str",
        H_SIGNING_TIME: "str",
        H_AUTHENTIC_TIME: "str",
        H_EXPIRY: "str",
        H_TIMESTAMP: "str",
        H_AGENT: "str",
    }
    registry = JWSRegistry(
        header_registry={n: HeaderParameter(n, v) for n, v in names.items()},
        algorithms=[env.alg],
        strict_check_header=False,
    )
    registry.max_header_length = 64 * 1024
    registry.max_payload_length = DEFAULT_LIMITS.max_document_bytes
    jwk: RSAKey | ECKey
    if isinstance(key, rsa.RSAPublicKey):
        jwk = RSAKey.import_key(key)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        jwk = ECKey.import_key(key)
    else:  # pragma: no cover - _expected_alg admits RSA and EC keys only
        raise SignatureError(f"{env.alg} does not fit the signing key")
    data = parse_json(env.raw, file=env.file)
    try:
        jws.deserialize_json(data, jwk, algorithms=[env.alg], registry=registry)
    except JoseError as e:
        raise SignatureError(f"JWS signature does not verify: {e}") from None
    except (ValueError, TypeError) as e:
        raise SignatureError(f"JWS signature does not verify: {e}") from None


def _verify_cose(env: NotationEnvelope, key: crypto.PublicKey) -> None:
    import cbor2

    item = cbor2.loads(env.raw)
    protected_raw = item.value[0]
    # RFC 9052 §4.4: Sig_structure = ["Signature1", protected, external_aad, payload]
    to_be_signed = cbor2.dumps(["Signature1", protected_raw, b"", env.payload])
    family, hash_cls = _ALGS[env.alg]
    hash_alg = hash_cls()
    try:
        if family == "rsa" and isinstance(key, rsa.RSAPublicKey):
            # RFC 8230 §2: PSS with MGF1 of the same hash, salt length = hash length
            key.verify(
                env.signature,
                to_be_signed,
                padding.PSS(
                    mgf=padding.MGF1(hash_alg), salt_length=hash_alg.digest_size
                ),
                hash_alg,
            )
        elif family == "ec" and isinstance(key, ec.EllipticCurvePublicKey):
            # RFC 9053 §2.1: the signature is r || s, each the curve's byte length
            size = (key.curve.key_size + 7) // 8
            if len(env.signature) != 2 * size:
                raise SignatureError("COSE ECDSA signature has the wrong length")
            r = int.from_bytes(env.signature[:size], "big")
            s = int.from_bytes(env.signature[size:], "big")
            key.verify(encode_dss_signature(r, s), to_be_signed, ec.ECDSA(hash_alg))
        else:
            raise SignatureError(f"{env.alg} does not fit the signing key")
    except (InvalidSignature, UnsupportedAlgorithm, ValueError) as e:
        raise SignatureError(f"COSE {env.alg} signature does not verify") from e
