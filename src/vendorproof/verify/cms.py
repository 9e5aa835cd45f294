"""Detached CMS ``SignedData`` verification (RFC 5652) as ETSI NFV-SOL 004 uses it.

SOL 004 (§5.1, §5.2, §5.3 of GS NFV-SOL 004 v2.6.1 and later) signs the manifest, single
artefacts and, in security option 2, the whole CSAR with a *detached* CMS
``SignedData`` whose content is the signed bytes; firmware vendors ship the same
structure as ``<file>.cms`` / ``<file>.p7s``. This module checks one such signature:

1. the input is one ``ContentInfo`` (PEM ``CMS``/``PKCS7`` or DER, at most
   :data:`MAX_CMS_BYTES`) whose content type is ``id-signedData`` (RFC 5652 §3, §5.1);
2. the encapsulated content is *absent* (detached) and of type ``id-data`` (§5.2);
   embedded content is refused where detached content is expected;
3. there is exactly one ``SignerInfo`` (§5.3); none or several are refused, so one
   good signature can never carry a bad one past the verifier;
4. signed attributes are present (§5.3) and hold exactly one ``contentType`` equal to
   ``id-data`` and exactly one ``messageDigest`` (§11.1, §11.2); ``signingTime``
   (§11.3), when present, is returned as a *claim* of the signer, never as a time;
5. the digest algorithm is SHA-256, SHA-384 or SHA-512 (SHA-1 and MD5 refused);
   the signature algorithm is RSASSA-PKCS1-v1_5 or RSASSA-PSS (RFC 4056, parameters
   checked) with RSA of at least :data:`~vendorproof._internal.crypto.MIN_RSA_BITS`
   bits, or ECDSA (RFC 5753/5754) on P-256 with SHA-256 or P-384 with SHA-384;
6. the signer certificate is found by ``issuerAndSerialNumber`` or
   ``subjectKeyIdentifier`` (§5.3) among the certificates in the CMS and those the
   caller supplies (e.g. a SOL 004 ``.cert`` file);
7. the signature verifies with ``cryptography`` over the DER of the signed attributes
   with the ``SET OF`` tag in place of ``[0] IMPLICIT`` (§5.4), and ``messageDigest``
   equals the digest of the content, computed streaming over chunks.

The chain and trust decision is **not** made here: the caller validates the returned
signer certificate (and the other certificates) with ``verify/x509.py``.

``asn1crypto`` parses lazily; every field this module uses is read inside one
``try`` at the edge, so a malformed structure becomes an :class:`InvalidInputError`
naming the file and the field, never a traceback later.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO, Final

from asn1crypto import algos as asn1_algos
from asn1crypto import cms as asn1_cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from vendorproof._internal.crypto import MIN_RSA_BITS, SIGNATURE_ALGORITHMS
from vendorproof._internal.pem import load_der_certificate
from vendorproof.errors import (
    AlgorithmError,
    DigestMismatchError,
    InvalidInputError,
    SignatureError,
)

__all__ = [
    "CMS_SIGNATURE_ALGORITHMS",
    "DIGEST_ALGORITHMS",
    "MAX_CMS_BYTES",
    "CmsSignature",
    "Content",
    "declared_digest_algorithm",
    "digest_content",
    "embedded_certificates",
    "verify_detached",
    "verify_detached_digest",
]

#: Largest CMS structure read (a SOL 004 signature with a few certificates is ~2-8 KiB).
MAX_CMS_BYTES: Final = 1024 * 1024
#: Most certificates accepted inside one CMS.
MAX_CMS_CERTIFICATES: Final = 64
_CHUNK: Final = 1024 * 1024

#: Digest algorithms accepted in ``SignerInfo.digestAlgorithm``: OID -> name.
DIGEST_ALGORITHMS: Final = {
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}
_REFUSED_DIGESTS: Final = {
    "1.3.14.3.2.26": "sha1",
    "1.2.840.113549.2.5": "md5",
    "2.16.840.1.101.3.4.2.4": "sha224",
}
_HASHES: Final[dict[str, type[hashes.SHA256 | hashes.SHA384 | hashes.SHA512]]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}

# Signature algorithm OIDs (RFC 3279, RFC 4055, RFC 5754, RFC 5758).
_RSA_ENCRYPTION: Final = "1.2.840.113549.1.1.1"
_RSA_PSS: Final = "1.2.840.113549.1.1.10"
_RSA_PKCS1_WITH: Final = {
    "1.2.840.113549.1.1.11": "sha256",
    "1.2.840.113549.1.1.12": "sha384",
    "1.2.840.113549.1.1.13": "sha512",
}
_EC_PUBLIC_KEY: Final = "1.2.840.10045.2.1"
_ECDSA_WITH: Final = {
    "1.2.840.10045.4.3.2": "sha256",
    "1.2.840.10045.4.3.3": "sha384",
    "1.2.840.10045.4.3.4": "sha512",
}
_MGF1: Final = "1.2.840.113549.1.1.8"
_ID_DATA: Final = "1.2.840.113549.1.7.1"
_ID_SIGNED_DATA: Final = "1.2.840.113549.1.7.2"
_CONTENT_TYPE: Final = "1.2.840.113549.1.9.3"
_MESSAGE_DIGEST: Final = "1.2.840.113549.1.9.4"
_SIGNING_TIME: Final = "1.2.840.113549.1.9.5"
# RFC 3161 Appendix A: id-aa-signatureTimeStampToken, an unsigned attribute whose
# token's messageImprint covers the SignerInfo's signature value.
_SIGNATURE_TIMESTAMP: Final = "1.2.840.113549.1.9.16.2.14"
#: Most timestamp tokens read from one SignerInfo.
MAX_TIMESTAMP_TOKENS: Final = 8

# ECDSA: the project's algorithm vocabulary pairs each curve with one hash
# (``_internal/crypto.py``); CMS signatures follow the same rule.
_ECDSA_NAMES: Final = {
    ("secp256r1", "sha256"): "ecdsa-p256-sha256",
    ("secp384r1", "sha384"): "ecdsa-p384-sha384",
}
assert set(_ECDSA_NAMES.values()) <= SIGNATURE_ALGORITHMS  # noqa: S101

#: Every signature algorithm name :func:`verify_detached` can return.
CMS_SIGNATURE_ALGORITHMS: Final = frozenset(
    {
        *_ECDSA_NAMES.values(),
        *(f"rsa-pkcs1v15-{h}" for h in _HASHES),
        *(f"rsa-pss-{h}" for h in _HASHES),
    }
)

#: The signed content: bytes, a binary file object, or an iterable of byte chunks.
Content = bytes | bytearray | memoryview | BinaryIO | Iterable[bytes]


@dataclass(frozen=True, slots=True)
class CmsSignature:
    """A detached CMS signature that verified over its content.

    Attributes:
        signer: the certificate whose key made the signature (not yet trusted: the
            caller validates its chain).
        signer_in_cms: whether ``signer`` came from the CMS (else from the caller).
        certificates: the other certificates carried in the CMS, in order.
        digest_algorithm: ``sha256``, ``sha384`` or ``sha512``.
        signature_algorithm: one of :data:`CMS_SIGNATURE_ALGORITHMS`.
        content_digest: the verified digest of the content.
        claimed_signing_time: the ``signingTime`` attribute, a claim of the signer,
            never a validation time; ``None`` when absent.
    """

    signer: x509.Certificate
    signer_in_cms: bool
    certificates: tuple[x509.Certificate, ...]
    digest_algorithm: str
    signature_algorithm: str
    content_digest: bytes
    claimed_signing_time: datetime | None
    signature_value: bytes = b""  # SignerInfo.signature (what timestamps cover)
    timestamp_tokens: tuple[bytes, ...] = ()  # DER TimeStampToken (ContentInfo)


@dataclass(frozen=True, slots=True)
class _Parsed:
    """The fields of one SignedData, read eagerly."""

    certificates: tuple[tuple[x509.Certificate, asn1_x509.Certificate], ...]
    sid_kind: str  # "issuer_and_serial_number" | "subject_key_identifier"
    sid_issuer: asn1_x509.Name | None
    sid_serial: int | None
    sid_ski: bytes | None
    digest_algorithm: str
    signature_oid: str
    pss: tuple[str, str, int, int] | None  # hash, mgf1 hash, salt length, trailer
    signed_attrs_der: bytes
    content_type: str
    message_digest: bytes
    signing_time: datetime | None
    signature: bytes
    timestamp_tokens: tuple[bytes, ...] = ()


def digest_content(content: Content, algorithm: str) -> bytes:
    """Digest ``content`` with ``algorithm`` (``sha256``/``sha384``/``sha512``).

    Reads files and iterables chunk by chunk, so large artefacts stay out of memory.
    """
    h = hashlib.new(algorithm)
    for chunk in _chunks(content):
        h.update(chunk)
    return h.digest()


def _chunks(content: Content) -> Iterator[bytes | bytearray | memoryview]:
    if isinstance(content, bytes | bytearray | memoryview):
        yield content
        return
    read = getattr(content, "read", None)
    if read is not None:
        while chunk := read(_CHUNK):
            yield chunk
        return
    yield from content


def verify_detached(
    cms: bytes,
    content: Content,
    *,
    file: str,
    extra_certificates: Sequence[x509.Certificate] = (),
) -> CmsSignature:
    """Verify the detached CMS ``SignedData`` ``cms`` over ``content``.

    Args:
        cms: the signature, PEM (``CMS`` or ``PKCS7`` label) or DER.
        content: the signed bytes (bytes, a binary file, or byte chunks).
        file: the signature's name, used in errors.
        extra_certificates: certificates supplied beside the CMS (e.g. a ``.cert``);
            searched for the signer after those inside the CMS.

    Returns:
        The verified signature: signer, certificates, algorithms and claims.

    Raises:
        InvalidInputError: not a CMS ``SignedData``, embedded content, no or several
            signers, missing signed attributes, or any other malformed field (the
            message names the field).
        AlgorithmError: a digest, signature algorithm or key that is not allowed.
        SignatureError: no certificate matches the signer identifier, or the
            signature does not verify with the signer's key.
        DigestMismatchError: the content does not match the signed ``messageDigest``.
    """
    parsed = _parse(_der(cms, file=file), file=file)
    signer, in_cms, name = _verify_signer(parsed, extra_certificates, file=file)
    actual = digest_content(content, parsed.digest_algorithm)
    return _result(parsed, signer, in_cms, name, actual, file=file)


def embedded_certificates(cms: bytes, *, file: str) -> tuple[x509.Certificate, ...]:
    """The certificates the CMS carries, parsed but not verified.

    For rules on where a signer's certificate is (SOL 004 §5.1: in the CMS, named in
    ``TOSCA.meta`` or at the root, exactly one of these), whether or not the
    signature verifies.

    Raises:
        InvalidInputError: as for :func:`verify_detached`.
        AlgorithmError: a digest algorithm that is not allowed.
    """
    return tuple(c for c, _ in _parse(_der(cms, file=file), file=file).certificates)


def declared_digest_algorithm(cms: bytes, *, file: str) -> str:
    """The digest algorithm the CMS's ``SignerInfo`` declares (not yet verified).

    What a large signed file (a SOL 004 option 2 CSAR) must be measured with before
    :func:`verify_detached_digest` compares the measurement with ``messageDigest``.

    Raises:
        InvalidInputError: as for :func:`verify_detached`.
        AlgorithmError: a digest algorithm that is not allowed.
    """
    return _parse(_der(cms, file=file), file=file).digest_algorithm


def measurement_algorithms(cms: bytes, *, file: str) -> tuple[str, ...]:
    """The digest algorithm to measure a signed file with, for ``cms`` over it.

    ``(declared_digest_algorithm(cms),)``, or ``()`` when the CMS does not parse or
    declares a refused algorithm: the verifier then reports why on the signature.
    """
    try:
        return (declared_digest_algorithm(cms, file=file),)
    except (InvalidInputError, AlgorithmError):
        return ()


def verify_detached_digest(
    cms: bytes,
    digests: Mapping[str, bytes],
    *,
    file: str,
    extra_certificates: Sequence[x509.Certificate] = (),
) -> CmsSignature:
    """Verify ``cms`` against already measured digests of the content.

    The same checks as :func:`verify_detached`, with ``messageDigest`` compared to
    ``digests[<the SignerInfo's digest algorithm>]`` instead of a digest computed
    here: a replay re-checks a per-file signature from recorded measurements without
    the file's bytes.

    Raises:
        SignatureError: the content was not measured with the signature's digest
            algorithm (the check cannot run: it fails).
        InvalidInputError, AlgorithmError, DigestMismatchError: as for
            :func:`verify_detached`.
    """
    parsed = _parse(_der(cms, file=file), file=file)
    signer, in_cms, name = _verify_signer(parsed, extra_certificates, file=file)
    actual = digests.get(parsed.digest_algorithm)
    if actual is None:
        measured = ", ".join(sorted(digests)) or "none"
        raise SignatureError(
            f"{file}: the signature's digest algorithm {parsed.digest_algorithm} was "
            f"not measured (measured: {measured})"
        )
    return _result(parsed, signer, in_cms, name, bytes(actual), file=file)


def _verify_signer(
    parsed: _Parsed, extra: Sequence[x509.Certificate], *, file: str
) -> tuple[x509.Certificate, bool, str]:
    signer, in_cms = _find_signer(parsed, extra, file=file)
    name = _verify_signature(parsed, signer, file=file)
    if parsed.content_type != _ID_DATA:
        raise InvalidInputError(
            f"content type {parsed.content_type} is not id-data",
            file=file,
            path="signerInfos[0].signedAttrs.contentType",
        )
    return signer, in_cms, name


def _result(
    parsed: _Parsed,
    signer: x509.Certificate,
    in_cms: bool,
    name: str,
    actual: bytes,
    *,
    file: str,
) -> CmsSignature:
    hash_name = parsed.digest_algorithm
    if not hmac.compare_digest(actual, parsed.message_digest):
        raise DigestMismatchError(
            f"{file}: the content does not match the signed messageDigest "
            f"({hash_name}:{actual.hex()} != {parsed.message_digest.hex()})"
        )
    others = tuple(c for c, _ in parsed.certificates if c != signer)
    return CmsSignature(
        signer=signer,
        signer_in_cms=in_cms,
        certificates=others,
        digest_algorithm=hash_name,
        signature_algorithm=name,
        content_digest=actual,
        claimed_signing_time=parsed.signing_time,
        signature_value=parsed.signature,
        timestamp_tokens=parsed.timestamp_tokens,
    )


# --- decoding ---------------------------------------------------------------------


_PEM_LABELS: Final = (b"CMS", b"PKCS7")


def _der(data: bytes, *, file: str) -> bytes:
    """The DER of ``data``: PEM ``CMS``/``PKCS7`` decoded, DER passed through."""
    if len(data) > MAX_CMS_BYTES:
        raise InvalidInputError(
            f"CMS signature larger than {MAX_CMS_BYTES} bytes", file=file
        )
    stripped = data.strip()
    if not stripped.startswith(b"-----BEGIN "):
        return data
    first, _, rest = stripped.partition(b"\n")
    label = first.strip()[len(b"-----BEGIN ") :].removesuffix(b"-----")
    if label not in _PEM_LABELS or not first.strip().endswith(b"-----"):
        raise InvalidInputError(
            f"PEM label {label[:40]!r} is not CMS or PKCS7", file=file, path="PEM"
        )
    end = b"-----END " + label + b"-----"
    body, sep, tail = rest.partition(end)
    if not sep or tail.strip():
        raise InvalidInputError(
            f"no single PEM block ending in {end.decode()}", file=file, path="PEM"
        )
    try:
        return base64.b64decode(b"".join(body.split()), validate=True)
    except binascii.Error as e:
        raise InvalidInputError(
            f"PEM body is not base64: {e}", file=file, path="PEM"
        ) from None


def _parse(der: bytes, *, file: str) -> _Parsed:
    """Read every field used later, eagerly, mapping parse errors to the field."""
    field = "ContentInfo"
    try:
        info = asn1_cms.ContentInfo.load(der, strict=True)
        field = "ContentInfo.contentType"
        if info["content_type"].dotted != _ID_SIGNED_DATA:
            raise InvalidInputError(
                f"content type {info['content_type'].dotted} is not id-signedData",
                file=file,
                path=field,
            )
        field = "SignedData"
        signed = info["content"]
        field = "SignedData.encapContentInfo"
        encap = signed["encap_content_info"]
        if encap["content"].native is not None:
            raise InvalidInputError(
                "embedded content where a detached signature is expected",
                file=file,
                path="SignedData.encapContentInfo.eContent",
            )
        if encap["content_type"].dotted != _ID_DATA:
            raise InvalidInputError(
                f"eContentType {encap['content_type'].dotted} is not id-data",
                file=file,
                path="SignedData.encapContentInfo.eContentType",
            )
        field = "SignedData.certificates"
        certificates = _certificates(signed, file=file)
        field = "SignedData.signerInfos"
        infos = signed["signer_infos"]
        if len(infos) != 1:
            raise InvalidInputError(
                f"{len(infos)} signers: exactly one SignerInfo is required",
                file=file,
                path=field,
            )
        parsed = _parse_signer(infos[0], certificates, file=file)
        field = "SignedData.digestAlgorithms"
        # RFC 5652 §5.1: digestAlgorithms lists the digest algorithm of every signer.
        listed = {
            DIGEST_ALGORITHMS.get(a["algorithm"].dotted)
            for a in signed["digest_algorithms"]
        }
    except InvalidInputError:
        raise
    except (ValueError, TypeError, KeyError, OverflowError) as e:
        raise InvalidInputError(
            f"malformed CMS: {_first_line(e)}",
            file=file,
            path=field,
        ) from None
    if parsed.digest_algorithm not in listed:
        raise InvalidInputError(
            f"does not list the signer's digest algorithm {parsed.digest_algorithm}",
            file=file,
            path=field,
        )
    return parsed


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:200] if text else type(e).__name__


def _certificates(
    signed: asn1_cms.SignedData, *, file: str
) -> tuple[tuple[x509.Certificate, asn1_x509.Certificate], ...]:
    choices = signed["certificates"]
    if not choices:  # absent (NoValue) or empty SET
        return ()
    if len(choices) > MAX_CMS_CERTIFICATES:
        raise InvalidInputError(
            f"more than {MAX_CMS_CERTIFICATES} certificates",
            file=file,
            path="SignedData.certificates",
        )
    out: list[tuple[x509.Certificate, asn1_x509.Certificate]] = []
    for i, choice in enumerate(choices):
        path = f"SignedData.certificates[{i}]"
        if choice.name != "certificate":
            raise InvalidInputError(
                f"unsupported certificate choice {choice.name}", file=file, path=path
            )
        parsed = choice.chosen
        # Every field the verifier reads later (the public key, names, extensions)
        # is parsed now: cryptography decodes them lazily (_internal/pem.py).
        cert = load_der_certificate(parsed.dump(), file=file, path=path)
        _ = parsed["tbs_certificate"]["issuer"].native  # eager: used for matching
        out.append((cert, parsed))
    return tuple(out)


def _parse_signer(
    info: asn1_cms.SignerInfo,
    certificates: tuple[tuple[x509.Certificate, asn1_x509.Certificate], ...],
    *,
    file: str,
) -> _Parsed:
    base = "signerInfos[0]"
    sid = info["sid"]
    issuer: asn1_x509.Name | None = None
    serial: int | None = None
    ski: bytes | None = None
    # RFC 5652 §5.3: version 1 with issuerAndSerialNumber, 3 with subjectKeyIdentifier.
    version = info["version"].native
    expected = "v1" if sid.name == "issuer_and_serial_number" else "v3"
    if version != expected:
        raise InvalidInputError(
            f"SignerInfo version {version} with a {sid.name} signer identifier "
            f"(RFC 5652 §5.3 requires {expected})",
            file=file,
            path=f"{base}.version",
        )
    if sid.name == "issuer_and_serial_number":
        issuer = sid.chosen["issuer"]
        _ = issuer.native  # eager
        serial = int(sid.chosen["serial_number"].native)
    else:
        ski = bytes(sid.chosen.native)
    digest = _digest_name(info["digest_algorithm"]["algorithm"].dotted, file=file)
    sig_alg = info["signature_algorithm"]
    sig_oid = sig_alg["algorithm"].dotted
    pss = _pss_params(sig_alg, file=file) if sig_oid == _RSA_PSS else None
    attrs = info["signed_attrs"]
    if not attrs:
        raise InvalidInputError(
            "signed attributes are required (contentType, messageDigest)",
            file=file,
            path=f"{base}.signedAttrs",
        )
    # RFC 5652 §5.4: the signature covers the DER of the SignedAttributes as a SET OF,
    # i.e. the transmitted [0] IMPLICIT encoding with its tag replaced by 0x31.
    raw = attrs.dump()
    signed_attrs_der = b"\x31" + raw[1:]
    values: dict[str, list[asn1_cms.CMSAttribute]] = {}
    for attr in attrs:
        values.setdefault(attr["type"].dotted, []).append(attr)
    content_type = _single(values, _CONTENT_TYPE, "contentType", file=file).dotted
    message_digest = bytes(
        _single(values, _MESSAGE_DIGEST, "messageDigest", file=file).native
    )
    signing_time: datetime | None = None
    if _SIGNING_TIME in values:
        when = _single(values, _SIGNING_TIME, "signingTime", file=file).native
        signing_time = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    return _Parsed(
        certificates=certificates,
        sid_kind=sid.name,
        sid_issuer=issuer,
        sid_serial=serial,
        sid_ski=ski,
        digest_algorithm=digest,
        signature_oid=sig_oid,
        pss=pss,
        signed_attrs_der=signed_attrs_der,
        content_type=content_type,
        message_digest=message_digest,
        signing_time=signing_time,
        signature=bytes(info["signature"].native),
        timestamp_tokens=_timestamp_tokens(info, file=file),
    )


def _timestamp_tokens(info: asn1_cms.SignerInfo, *, file: str) -> tuple[bytes, ...]:
    """The DER of every id-aa-signatureTimeStampToken value (RFC 3161 Appendix A).

    Other unsigned attributes (countersignatures, ...) are not read.
    """
    attrs = info["unsigned_attrs"]
    if not attrs:
        return ()
    tokens: list[bytes] = []
    for i, attr in enumerate(attrs):
        if attr["type"].dotted != _SIGNATURE_TIMESTAMP:
            continue
        for value in attr["values"]:
            if len(tokens) == MAX_TIMESTAMP_TOKENS:
                raise InvalidInputError(
                    f"more than {MAX_TIMESTAMP_TOKENS} timestamp tokens",
                    file=file,
                    path=f"signerInfos[0].unsignedAttrs[{i}]",
                )
            tokens.append(value.dump())
    return tuple(tokens)


def _single(
    values: dict[str, list[asn1_cms.CMSAttribute]], oid: str, name: str, *, file: str
) -> asn1_cms.Asn1Value:
    """The one value of the one attribute ``oid`` (RFC 5652 §11: single-valued)."""
    path = f"signerInfos[0].signedAttrs.{name}"
    found = values.get(oid, [])
    if not found:
        raise InvalidInputError(f"{name} attribute is missing", file=file, path=path)
    if len(found) > 1 or len(found[0]["values"]) != 1:
        raise InvalidInputError(
            f"{name} must occur once with one value", file=file, path=path
        )
    value = found[0]["values"][0]
    _ = value.native  # eager
    return value


def _digest_name(oid: str, *, file: str) -> str:
    if oid in DIGEST_ALGORITHMS:
        return DIGEST_ALGORITHMS[oid]
    name = _REFUSED_DIGESTS.get(oid, oid)
    raise AlgorithmError(
        f"{file}: signerInfos[0].digestAlgorithm: {name} is not allowed "
        "(SHA-256, SHA-384 or SHA-512)"
    )


def _pss_params(
    alg: asn1_algos.SignedDigestAlgorithm, *, file: str
) -> tuple[str, str, int, int]:
    """RSASSA-PSS-params (RFC 4055 §3.1): hash, MGF1 hash, salt length, trailer."""
    params = alg["parameters"]
    path = "signerInfos[0].signatureAlgorithm.parameters"
    if not isinstance(params, asn1_algos.RSASSAPSSParams):
        raise InvalidInputError("RSASSA-PSS parameters missing", file=file, path=path)
    hash_oid = params["hash_algorithm"]["algorithm"].dotted
    mgf = params["mask_gen_algorithm"]
    if mgf["algorithm"].dotted != _MGF1:
        raise AlgorithmError(f"{file}: {path}: mask generation is not MGF1")
    mgf_hash_oid = mgf["parameters"]["algorithm"].dotted
    return (
        _digest_name(hash_oid, file=file),
        _digest_name(mgf_hash_oid, file=file),
        int(params["salt_length"].native),
        # trailerField 1 (0xBC) is the only value RFC 4055 §3.1 defines.
        1 if params["trailer_field"].native in {"trailer_field_bc", 1} else 0,
    )


# --- signer and signature ---------------------------------------------------------


def _find_signer(
    parsed: _Parsed, extra: Sequence[x509.Certificate], *, file: str
) -> tuple[x509.Certificate, bool]:
    """The one certificate matching ``sid`` (RFC 5652 §5.3), and whether in the CMS."""
    candidates: list[tuple[x509.Certificate, asn1_x509.Certificate, bool]] = [
        (c, a, True) for c, a in parsed.certificates
    ]
    for i, cert in enumerate(extra):
        try:
            a = asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))
            _ = a["tbs_certificate"]["issuer"].native
        except ValueError as e:  # pragma: no cover - cryptography parsed it already
            raise InvalidInputError(
                f"certificate does not parse: {e}",
                file=file,
                path=f"extra_certificates[{i}]",
            ) from None
        candidates.append((cert, a, False))
    matches: list[tuple[x509.Certificate, bool]] = []
    for i, (cert, a, in_cms) in enumerate(candidates):
        try:
            found = _matches(parsed, cert, a)
        except (ValueError, TypeError) as e:  # asn1crypto's lazy Name comparison
            raise InvalidInputError(
                f"certificate name does not parse: {_first_line(e)}",
                file=file,
                path=f"certificates[{i}].issuer",
            ) from None
        if found and all(cert != m for m, _ in matches):
            matches.append((cert, in_cms))
    if not matches:
        raise SignatureError(
            f"{file}: signerInfos[0].sid: no certificate in the CMS or supplied "
            "beside it matches the signer identifier"
        )
    if len(matches) > 1:
        raise InvalidInputError(
            f"{len(matches)} different certificates match the signer identifier",
            file=file,
            path="signerInfos[0].sid",
        )
    return matches[0]


def _matches(parsed: _Parsed, cert: x509.Certificate, a: asn1_x509.Certificate) -> bool:
    if parsed.sid_kind == "issuer_and_serial_number":
        tbs = a["tbs_certificate"]
        # asn1crypto compares Names as RFC 5280 §7.1 prescribes.
        return bool(
            cert.serial_number == parsed.sid_serial
            and tbs["issuer"] == parsed.sid_issuer
        )
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    except x509.ExtensionNotFound:
        return False
    return hmac.compare_digest(ext.value.digest, parsed.sid_ski or b"")


def _verify_signature(parsed: _Parsed, signer: x509.Certificate, *, file: str) -> str:
    """Verify the signature over the signed attributes; return the algorithm name."""
    digest = parsed.digest_algorithm
    oid = parsed.signature_oid
    key = signer.public_key()
    where = f"{file}: signerInfos[0].signatureAlgorithm"
    data = parsed.signed_attrs_der
    try:
        if oid in _ECDSA_WITH or oid == _EC_PUBLIC_KEY:
            if oid != _EC_PUBLIC_KEY and _ECDSA_WITH[oid] != digest:
                raise AlgorithmError(
                    f"{where}: ECDSA with {_ECDSA_WITH[oid]} but digest is {digest}"
                )
            if not isinstance(key, ec.EllipticCurvePublicKey):
                raise AlgorithmError(f"{where}: ECDSA signature but not an EC key")
            name = _ECDSA_NAMES.get((key.curve.name, digest))
            if name is None:
                raise AlgorithmError(
                    f"{where}: ECDSA on {key.curve.name} with {digest} is not allowed "
                    "(P-256 with SHA-256, P-384 with SHA-384)"
                )
            key.verify(parsed.signature, data, ec.ECDSA(_HASHES[digest]()))
            return name
        if oid == _RSA_ENCRYPTION or oid in _RSA_PKCS1_WITH:
            rsa_key = _rsa_key(key, where)
            if signer.public_key_algorithm_oid.dotted_string == _RSA_PSS:
                # RFC 4055 §1.2: a key identified as id-RSASSA-PSS is for PSS only.
                raise AlgorithmError(
                    f"{where}: RSASSA-PKCS1-v1_5 signature by a key the signer "
                    "certificate restricts to RSASSA-PSS (RFC 4055 §1.2)"
                )
            if oid != _RSA_ENCRYPTION and _RSA_PKCS1_WITH[oid] != digest:
                raise AlgorithmError(
                    f"{where}: RSA with {_RSA_PKCS1_WITH[oid]} but digest is {digest}"
                )
            rsa_key.verify(
                parsed.signature, data, padding.PKCS1v15(), _HASHES[digest]()
            )
            return f"rsa-pkcs1v15-{digest}"
        if oid == _RSA_PSS and parsed.pss is not None:
            rsa_key = _rsa_key(key, where)
            pss_hash, mgf_hash, salt, trailer = parsed.pss
            if pss_hash != digest or mgf_hash != digest:
                raise AlgorithmError(
                    f"{where}: RSASSA-PSS hash {pss_hash}, MGF1 {mgf_hash} and digest "
                    f"{digest} must be the same"
                )
            if trailer != 1 or salt < _HASHES[digest].digest_size:
                raise AlgorithmError(
                    f"{where}: RSASSA-PSS salt length {salt} below the hash length or "
                    f"trailer field {trailer} != 1"
                )
            # RFC 8017 §9.1.2 step 3: emLen >= hLen + sLen + 2, emLen the byte length
            # of a (modBits - 1)-bit encoded message; a longer salt never verifies.
            most = (rsa_key.key_size - 1 + 7) // 8 - _HASHES[digest].digest_size - 2
            if salt > most:
                raise AlgorithmError(
                    f"{where}: RSASSA-PSS salt length {salt} exceeds the {most} bytes "
                    f"a {rsa_key.key_size}-bit key allows (RFC 8017 §9.1.2)"
                )
            pad = padding.PSS(mgf=padding.MGF1(_HASHES[digest]()), salt_length=salt)
            rsa_key.verify(parsed.signature, data, pad, _HASHES[digest]())
            return f"rsa-pss-{digest}"
    except InvalidSignature:
        raise SignatureError(
            f"{file}: the CMS signature does not verify with the signer's key"
        ) from None
    except (ValueError, OverflowError) as e:  # parameters the key cannot use
        raise InvalidInputError(
            f"signature cannot be checked: {_first_line(e)}",
            file=file,
            path="signerInfos[0].signature",
        ) from None
    raise AlgorithmError(f"{where}: signature algorithm {oid} is not allowed")


def _rsa_key(key: object, where: str) -> rsa.RSAPublicKey:
    if not isinstance(key, rsa.RSAPublicKey):
        raise AlgorithmError(f"{where}: RSA signature but not an RSA key")
    if key.key_size < MIN_RSA_BITS:
        raise AlgorithmError(
            f"{where}: RSA key of {key.key_size} bits is below {MIN_RSA_BITS}"
        )
    return key
