"""RFC 3161 timestamps: request one from a TSA, parse it, verify it.

The unit handled everywhere here is the DER ``TimeStampResp`` (status + token), which is
what a Sigstore bundle stores in
``verificationMaterial.timestampVerificationData.rfc3161Timestamps[].signedTimestamp``.

ASN.1 parsing and the CMS/chain verification are delegated to ``rfc3161_client``
(the library sigstore-python uses); this module adds transport, request/response
binding (nonce, imprint), a hash-algorithm policy and the RFC 3161 §2.3 profile of
the signing certificate.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.client import HTTPException
from typing import TYPE_CHECKING, cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    VerifierBuilder,
    decode_timestamp_response,
)

from vendorproof import __version__
from vendorproof._internal.memo import Memo
from vendorproof._internal.panic import is_panic
from vendorproof._internal.pem import load_der_certificate
from vendorproof._internal.text import shorten
from vendorproof.errors import InvalidInputError, NetworkError, TimestampError
from vendorproof.limits import DEFAULT_LIMITS

if TYPE_CHECKING:
    from rfc3161_client import Accuracy, TimeStampResponse, TimeStampTokenInfo

__all__ = [
    "BASELINE_POLICY_OID",
    "TimestampInfo",
    "parse_timestamp",
    "request_timestamp",
    "verify_timestamp",
]

QUERY_CONTENT_TYPE = "application/timestamp-query"
REPLY_CONTENT_TYPE = "application/timestamp-reply"

# A TimeStampResp is a few KiB even with a long embedded chain; anything far larger
# is not a TSA answering us.
_MAX_RESPONSE_BYTES = 1024 * 1024

# Message-imprint hash algorithms by OID.
_HASH_NAMES: dict[str, str] = {
    "1.2.840.113549.2.5": "md5",
    "1.3.14.3.2.26": "sha1",
    "2.16.840.1.101.3.4.2.4": "sha224",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}
# Imprint algorithms a token may use to be verified (name -> digest size).
_ACCEPTED_HASHES: dict[str, int] = {"sha256": 32, "sha384": 48, "sha512": 64}
_WEAK_HASHES = frozenset({"md5", "sha1"})

_OPENSSL_DETAIL = re.compile(r'(?:reason|data): "([^"]+)"')

#: The baseline time-stamp policy of RFC 3628 §5.2 (ETSI TS 102 023), which
#: requires an accuracy of 1 second or better.
BASELINE_POLICY_OID = "0.4.0.2023.1.1"
_BASELINE_ACCURACY = timedelta(seconds=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class TimestampInfo:
    """The contents of an RFC 3161 timestamp token (``TSTInfo`` + embedded certs).

    Attributes:
        gen_time: the time the TSA asserts, timezone-aware UTC.
        accuracy: the token's ``accuracy`` field (RFC 3161 §2.4.2), or ``None`` when
            it states none.
        earliest: ``genTime - accuracy``, the lower limit of the time the TSA
            vouches for (RFC 3161 §2.4.2). Without an ``accuracy`` field, the
            baseline policy of RFC 3628 (``BASELINE_POLICY_OID``) guarantees one
            second; any other policy nothing, so the limits are genTime (the Notary
            Project's rule, ``trust-store-trust-policy.md``, "Validate Trusted
            Timestamp").
        latest: ``genTime + accuracy``, the upper limit.
        serial_number: the TSA's serial number for this token.
        policy_oid: the TSA policy under which the token was issued (dotted OID).
        hash_algorithm: the message-imprint hash (``"sha256"``; the dotted OID when
            the algorithm is not one we know by name).
        message_imprint: the hash of the timestamped data, as recorded in the token.
        nonce: the nonce echoed from the request, if any.
        tsa_name: the token's ``tsa`` field as an RFC 4514 string (for a directory
            name) or ``None`` when absent or not representable.
        certificates: the certificates embedded in the token's ``SignedData``; the
            signer's certificate first when present, the rest in a stable order.

    """

    gen_time: datetime
    accuracy: timedelta | None
    earliest: datetime
    latest: datetime
    serial_number: int
    policy_oid: str
    hash_algorithm: str
    message_imprint: bytes
    nonce: int | None
    tsa_name: str | None
    certificates: tuple[x509.Certificate, ...]


def _reason(exc: BaseException) -> str:
    """Render an exception as one readable line (OpenSSL error stacks condensed)."""
    text = shorten(str(exc)) or type(exc).__name__
    if "ErrorStack(" not in text:
        return text
    head = text.split("ErrorStack(", 1)[0].rstrip(": ")
    details = "; ".join(dict.fromkeys(_OPENSSL_DETAIL.findall(text)))
    return f"{head}: {details}" if details else head


def _hash_name(oid: x509.ObjectIdentifier) -> str:
    return _HASH_NAMES.get(oid.dotted_string, oid.dotted_string)


def _tsa_name(response: TimeStampResponse) -> str | None:
    try:
        name = response.tst_info.name
    except ValueError:  # no tsa field, or a GeneralName form the library cannot read
        return None
    if isinstance(name, x509.DirectoryName):
        return name.value.rfc4514_string()
    if isinstance(name, x509.OtherName):
        return f"otherName:{name.type_id.dotted_string}"
    return str(getattr(name, "value", name))


def _signer_key(response: TimeStampResponse) -> tuple[x509.Name, int]:
    signer_infos = list(response.signed_data.signer_infos)
    if len(signer_infos) != 1:
        msg = f"expected exactly one SignerInfo, found {len(signer_infos)}"
        raise ValueError(msg)
    return signer_infos[0].issuer, signer_infos[0].serial_number


def _embedded_certificates(
    response: TimeStampResponse,
) -> tuple[x509.Certificate, ...]:
    raw = sorted(response.signed_data.certificates)
    if len(raw) > DEFAULT_LIMITS.max_certificates:
        msg = f"too many embedded certificates ({len(raw)})"
        raise ValueError(msg)
    # cryptography parses certificates lazily: every field is read here, not later.
    certs = [
        load_der_certificate(der, file=None, path=f"SignedData.certificates[{i}]")
        for i, der in enumerate(raw)
    ]
    issuer, serial = _signer_key(response)
    # The signer first, then the others in DER order (the SET has no order).
    certs.sort(key=lambda c: not (c.issuer == issuer and c.serial_number == serial))
    return tuple(certs)


@contextlib.contextmanager
def _decoding() -> Iterator[None]:
    """Turn a failure of any kind while decoding a token into ``ValueError``.

    Covers the libraries' other exception types (``KeyError``, ``TypeError``,
    ``x509.InvalidVersion``, ...) and a Rust panic, but nothing else that derives
    from ``BaseException`` (``KeyboardInterrupt`` still interrupts).
    """
    try:
        yield
    except ValueError:
        raise
    except Exception as exc:  # untrusted bytes: the library's own exception types
        raise ValueError(_reason(exc)) from exc
    except BaseException as exc:
        if not is_panic(exc):
            raise
        msg = f"the decoder failed: {_reason(exc)}"
        raise ValueError(msg) from exc


def _decode(der: bytes) -> tuple[TimeStampResponse, TimestampInfo]:
    """Decode a ``TimeStampResp`` carrying a token; ``ValueError`` if it is not one.

    The one edge where untrusted tokens meet ``rfc3161_client`` and ``cryptography``:
    every field the verifier reads later is read here (their accessors parse lazily),
    and a failure of any kind, including a Rust panic in the decoder, becomes a
    ``ValueError``.
    """
    with _decoding(), warnings.catch_warnings():
        # e.g. a certificate with a negative serial number: refused, not warned about
        warnings.simplefilter("error", CryptographyDeprecationWarning)
        return _decode_fields(der)


def _decode_status(der: bytes) -> tuple[int, list[str]]:
    """The status and status strings of a ``TimeStampResp`` (``ValueError`` if bad)."""
    with _decoding():
        response = decode_timestamp_response(bytes(der))
        return int(response.status), list(response.status_string)


def _decode_fields(der: bytes) -> tuple[TimeStampResponse, TimestampInfo]:
    response = decode_timestamp_response(bytes(der))
    status = response.status
    if status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        text = "; ".join(response.status_string)
        msg = f"status {_status_name(status)}" + (f" ({text})" if text else "")
        raise ValueError(msg)
    tst = response.tst_info
    # The stubs promise values, but the Rust accessors return None when absent.
    policy = cast("x509.ObjectIdentifier | None", tst.policy)
    nonce = cast("int | None", tst.nonce)
    if policy is None:
        msg = "TSTInfo has no policy"
        raise ValueError(msg)
    imprint = tst.message_imprint
    gen_time = tst.gen_time
    if gen_time.tzinfo is None or gen_time.utcoffset() is None:
        msg = "genTime is not in UTC"
        raise ValueError(msg)
    accuracy = _accuracy(tst)
    margin = (
        accuracy
        if accuracy is not None
        else _BASELINE_ACCURACY
        if policy.dotted_string == BASELINE_POLICY_OID
        else timedelta(0)
    )
    try:
        earliest, latest = gen_time - margin, gen_time + margin
    except OverflowError:
        msg = "genTime plus or minus its accuracy is not a representable time"
        raise ValueError(msg) from None
    info = TimestampInfo(
        gen_time=gen_time,
        accuracy=accuracy,
        earliest=earliest,
        latest=latest,
        serial_number=int(tst.serial_number),
        policy_oid=policy.dotted_string,
        hash_algorithm=_hash_name(imprint.hash_algorithm),
        message_imprint=bytes(imprint.message),
        nonce=None if nonce is None else int(nonce),
        tsa_name=_tsa_name(response),
        certificates=_embedded_certificates(response),
    )
    return response, info


def _accuracy(tst: TimeStampTokenInfo) -> timedelta | None:
    """``TSTInfo.accuracy`` as a duration (RFC 3161 §2.4.2); None when absent.

    ``Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] INTEGER
    (1..999) OPTIONAL, micros [1] INTEGER (1..999) OPTIONAL }``; an absent field is
    zero. ``rfc3161_client`` refuses millis and micros out of range and negative
    seconds when it decodes the token.
    """
    # The stubs promise a value, but the Rust accessor returns None when absent.
    acc = cast("Accuracy | None", tst.accuracy)
    if acc is None:
        return None
    # Each field is None when absent (openssl omits zero ones), whatever the stubs say.
    seconds = cast("int | None", acc.seconds)
    millis, micros = acc.millis, acc.micros
    try:
        return timedelta(
            seconds=seconds or 0, milliseconds=millis or 0, microseconds=micros or 0
        )
    except OverflowError:
        msg = f"TSTInfo accuracy of {seconds} seconds is not a representable duration"
        raise ValueError(msg) from None


def _status_name(status: int) -> str:
    try:
        return PKIStatus(status).name.lower()
    except ValueError:
        return str(status)


def parse_timestamp(der: bytes) -> TimestampInfo:
    """Parse a DER RFC 3161 ``TimeStampResp`` without verifying it.

    Args:
        der: the DER ``TimeStampResp`` (as stored in a Sigstore bundle).

    Returns:
        The token's contents. Nothing in it is trustworthy until
        :func:`verify_timestamp` has accepted the same bytes.

    Raises:
        InvalidInputError: ``der`` is not a granted timestamp response carrying a
            well-formed token.

    """
    try:
        return _decode(der)[1]
    except (ValueError, TypeError) as exc:
        msg = f"not a valid RFC 3161 timestamp response: {_reason(exc)}"
        raise InvalidInputError(msg) from exc


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A TSA endpoint answers the POST itself; a redirect would drop the query."""

    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        """Refuse every redirect, so that it surfaces as an ``HTTPError``."""
        return


def _check_url(url: str) -> None:
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port  # a port out of range is bad input, not a transport failure
    except ValueError as exc:
        msg = f"invalid TSA URL {url!r}: {_reason(exc)}"
        raise InvalidInputError(msg) from exc
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        msg = f"TSA URL must be an http:// or https:// URL with a host, got {url!r}"
        raise InvalidInputError(msg)


def _post(url: str, query: bytes, timeout: float) -> bytes:
    request = urllib.request.Request(  # noqa: S310 - scheme checked by _check_url
        url,
        data=query,
        method="POST",
        headers={
            "Content-Type": QUERY_CONTENT_TYPE,
            "Accept": REPLY_CONTENT_TYPE,
            "User-Agent": f"vendorproof/{__version__}",
        },
    )
    opener = urllib.request.build_opener(_NoRedirects())
    try:
        with opener.open(request, timeout=timeout) as reply:
            body: bytes = reply.read(_MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        exc.close()
        msg = f"TSA {url}: HTTP {exc.code} {shorten(str(exc.reason))}"
        raise NetworkError(msg) from exc
    except urllib.error.URLError as exc:
        reason = exc.reason
        detail = _reason(reason) if isinstance(reason, BaseException) else str(reason)
        msg = f"TSA {url}: {shorten(detail)}"
        raise NetworkError(msg) from exc
    except (OSError, HTTPException, ValueError) as exc:
        msg = f"TSA {url}: {_reason(exc)}"
        raise NetworkError(msg) from exc
    if len(body) > _MAX_RESPONSE_BYTES:
        msg = f"TSA {url}: response larger than {_MAX_RESPONSE_BYTES} bytes"
        raise TimestampError(msg)
    return body


def request_timestamp(url: str, data: bytes, *, timeout: float = 10.0) -> bytes:
    """Obtain an RFC 3161 timestamp over ``data`` from the TSA at ``url``.

    Sends a ``TimeStampReq`` for SHA-256(``data``) with a random 64-bit nonce and
    ``certReq`` set, as an HTTP POST (``application/timestamp-query``, no redirects,
    system proxy settings honoured). The answer must be a granted response whose
    token echoes the nonce and the message imprint and embeds the TSA certificate.

    The token's signature and chain are *not* verified here; use
    :func:`verify_timestamp` with the TSA's trust anchors for that.

    Args:
        url: the TSA endpoint; only ``http`` and ``https`` are accepted.
        data: the bytes to timestamp (for a Sigstore bundle: the signature bytes).
        timeout: seconds allowed for connecting and for each read.

    Returns:
        The DER ``TimeStampResp``, as stored in a Sigstore bundle's
        ``rfc3161Timestamps[].signedTimestamp``.

    Raises:
        InvalidInputError: ``url`` is not an http(s) URL, or ``data`` is empty.
        NetworkError: the TSA cannot be reached, times out or answers with an
            HTTP error status (a transport failure, not a verification failure).
        TimestampError: the TSA answers with a rejection, a malformed or
            oversized response, or a token that does not answer this request.

    """
    _check_url(url)
    if not data:
        msg = "cannot timestamp empty data"
        raise InvalidInputError(msg)
    request = (
        TimestampRequestBuilder()
        .data(data)
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    body = _post(url, request.as_bytes(), timeout)

    try:
        status, strings = _decode_status(body)
    except ValueError as exc:
        msg = f"TSA {url}: malformed response: {_reason(exc)}"
        raise TimestampError(msg) from exc
    if status != PKIStatus.GRANTED:
        text = "; ".join(strings)
        detail = f" ({shorten(text)})" if text else ""
        msg = f"TSA {url}: request not granted: status {_status_name(status)}{detail}"
        raise TimestampError(msg)
    try:
        info = _decode(body)[1]
    except (ValueError, TypeError) as exc:
        msg = f"TSA {url}: malformed response: {_reason(exc)}"
        raise TimestampError(msg) from exc

    if info.nonce != request.nonce:
        msg = f"TSA {url}: response nonce does not match the request"
        raise TimestampError(msg)
    expected = hashlib.sha256(data).digest()
    if info.hash_algorithm != "sha256" or not hmac.compare_digest(
        info.message_imprint, expected
    ):
        msg = f"TSA {url}: response message imprint does not match the request"
        raise TimestampError(msg)
    if not info.certificates:
        msg = f"TSA {url}: response does not embed the TSA certificate (certReq)"
        raise TimestampError(msg)
    return body


def _dedupe(
    certs: Sequence[x509.Certificate], *, drop_self_issued: bool = False
) -> list[x509.Certificate]:
    seen: set[bytes] = set()
    unique: list[x509.Certificate] = []
    for cert in certs:
        if drop_self_issued and cert.issuer == cert.subject:
            continue
        der = cert.public_bytes(Encoding.DER)
        if der not in seen:
            seen.add(der)
            unique.append(cert)
    return unique


def _signing_certificate(
    response: TimeStampResponse,
    info: TimestampInfo,
    roots: Sequence[x509.Certificate],
    intermediates: Sequence[x509.Certificate],
) -> tuple[x509.Certificate, bool]:
    """Find the TSA certificate; the flag tells whether the token embeds it."""
    issuer, serial = _signer_key(response)
    for cert in info.certificates:
        if cert.issuer == issuer and cert.serial_number == serial:
            return cert, True
    if not info.certificates:
        # Only a certificate that cannot act as an anchor, or one that already is.
        candidates = [*_dedupe(intermediates, drop_self_issued=True), *roots]
        for cert in candidates:
            if cert.issuer == issuer and cert.serial_number == serial:
                return cert, False
    msg = "the TSA certificate is neither embedded in the token nor supplied"
    raise TimestampError(msg)


def _verify_tsa_profile(cert: x509.Certificate) -> None:
    """RFC 3161 §2.3: the sole extended key usage is a critical id-kp-timeStamping."""
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        msg = "TSA certificate has no extended key usage extension"
        raise TimestampError(msg) from None
    if not eku.critical or list(eku.value) != [ExtendedKeyUsageOID.TIME_STAMPING]:
        msg = (
            "TSA certificate's extended key usage must be exactly timeStamping, "
            "marked critical"
        )
        raise TimestampError(msg)
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (ku.digital_signature or ku.content_commitment):
        msg = (
            "TSA certificate's key usage allows neither digitalSignature "
            "nor nonRepudiation"
        )
        raise TimestampError(msg)


def _verify_imprint_algorithm(info: TimestampInfo) -> None:
    if info.hash_algorithm in _WEAK_HASHES:
        msg = f"timestamp uses the weak message imprint hash {info.hash_algorithm}"
        raise TimestampError(msg)
    size = _ACCEPTED_HASHES.get(info.hash_algorithm)
    if size is None:
        msg = f"timestamp uses an unsupported imprint hash {info.hash_algorithm}"
        raise TimestampError(msg)
    if len(info.message_imprint) != size:
        msg = f"timestamp message imprint is not a {info.hash_algorithm} digest"
        raise TimestampError(msg)


def verify_timestamp(
    der: bytes,
    data: bytes,
    *,
    roots: Sequence[x509.Certificate],
    intermediates: Sequence[x509.Certificate] = (),
    verified: Memo[tuple[bytes, tuple[bytes, ...]], bool] | None = None,
) -> TimestampInfo:
    """Verify an RFC 3161 timestamp response over ``data``.

    Checks, in this order:

    1. The response is well formed, its status is ``granted`` and it carries a
       ``SignedData`` token with exactly one ``SignerInfo``.
    2. The message-imprint hash is SHA-256, SHA-384 or SHA-512 (MD5 and SHA-1 are
       refused, anything else is unsupported).
    3. The CMS signature over the ``TSTInfo`` is valid (content digest and signed
       attributes), and the signing certificate chains, through the embedded
       certificates and ``intermediates``, to one of ``roots``, with every
       certificate's validity checked *at the token's genTime* rather than now
       (``rfc3161_client``; OpenSSL ``PKCS7_verify``). Only the self-signed
       ``roots`` are anchors: self-issued certificates among ``intermediates`` are
       ignored, so nothing passed there can become a trust anchor.
    4. The signing certificate, identified by the SignerInfo's issuer and serial
       number, has a critical extended key usage that is exactly
       ``id-kp-timeStamping`` and, if it has a key usage extension, it permits
       ``digitalSignature`` or ``nonRepudiation`` (RFC 3161 §2.3). If the token
       embeds no certificates, the signing certificate must be among
       ``intermediates`` (or ``roots``).
    5. The message imprint equals the token's hash algorithm applied to ``data``
       (constant-time comparison).

    Not checked: revocation, the TSA policy OID, the nonce, the ESS
    signingCertificate(V2) attribute, and whether genTime is plausible.

    Args:
        der: the DER ``TimeStampResp``.
        data: the bytes the timestamp must cover (for a Sigstore bundle: the
            signature bytes).
        roots: trusted, self-signed TSA root certificates.
        intermediates: additional untrusted certificates to build the chain with
            (or the TSA certificate itself when the token does not embed it).
        verified: tokens whose own verification (steps 3 and 4) passed, by the
            sha256 of ``der`` and the TSA certificates' fingerprints; a token found
            there is not verified again (``VerificationCache.timestamp_tokens``). The
            message imprint (step 5) is compared on every call.

    Returns:
        The token's contents, now authenticated.

    Raises:
        InvalidInputError: ``der`` is not a well-formed timestamp response
            carrying a token.
        TimestampError: the timestamp does not verify; the message says why.

    """
    try:
        response, info = _decode(der)
    except (ValueError, TypeError) as exc:
        msg = f"not a valid RFC 3161 timestamp response: {_reason(exc)}"
        raise InvalidInputError(msg) from exc

    _verify_imprint_algorithm(info)
    unique_roots = _dedupe(roots)
    if not unique_roots:
        msg = "no trusted TSA root certificates configured"
        raise TimestampError(msg)
    # The token's verification (CMS signature, chain at its own genTime, profile) is a
    # pure function of these bytes; replays check the same tokens again and again.
    key = (
        hashlib.sha256(der).digest(),
        tuple(
            sorted(
                c.fingerprint(hashes.SHA256()) for c in (*unique_roots, *intermediates)
            )
        ),
    )
    if verified is None or key not in verified:
        _verify_token(response, info, unique_roots, intermediates)
        if verified is not None:
            verified.put(key, True)  # noqa: FBT003 - the table's value type

    digest = hashlib.new(info.hash_algorithm, data).digest()
    if not hmac.compare_digest(digest, info.message_imprint):
        msg = (
            f"timestamp does not cover the data: message imprint is not the "
            f"{info.hash_algorithm} of the timestamped bytes"
        )
        raise TimestampError(msg)
    return info


def _verify_token(
    response: TimeStampResponse,
    info: TimestampInfo,
    unique_roots: list[x509.Certificate],
    intermediates: Sequence[x509.Certificate],
) -> None:
    """The token's own verification: CMS signature, TSA chain at genTime, profile."""
    signer, embedded = _signing_certificate(response, info, unique_roots, intermediates)

    builder = VerifierBuilder()
    for root in unique_roots:
        builder = builder.add_root_certificate(root)
    # rfc3161_client puts roots and intermediates into one OpenSSL trust store, where
    # any self-signed certificate is an anchor: keep self-issued ones out of it.
    for cert in _dedupe(intermediates, drop_self_issued=True):
        builder = builder.add_intermediate_certificate(cert)
    if not embedded:
        builder = builder.tsa_certificate(signer)
    try:
        # Status, CMS signature, chain at genTime and the library's EKU check. The
        # imprint is compared to itself here and checked against ``data`` below.
        builder.build().verify(response, info.message_imprint)
    except Exception as exc:  # the token is untrusted: any failure fails closed
        msg = f"timestamp does not verify: {_reason(exc)}"
        raise TimestampError(msg) from exc
    except BaseException as exc:
        if not is_panic(exc):
            raise
        msg = f"timestamp does not verify: the verifier failed: {_reason(exc)}"
        raise TimestampError(msg) from exc
    _verify_tsa_profile(signer)
