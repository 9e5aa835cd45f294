from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import http.server
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from rfc3161_client import HashAlgorithm, TimestampRequestBuilder

from tests.tsa import TSA_POLICY_OID, LoopbackTSA, make_tsa_pki
from vendorproof._internal import tsa as tsa_module
from vendorproof._internal.memo import Memo
from vendorproof._internal.tsa import (
    BASELINE_POLICY_OID,
    TimestampInfo,
    parse_timestamp,
    request_timestamp,
    verify_timestamp,
)
from vendorproof.errors import InvalidInputError, NetworkError, TimestampError

DATA = b"signature bytes to be timestamped"


@dataclass(frozen=True)
class Pki:
    root: x509.Certificate
    tsa: x509.Certificate
    root_pem: Path
    tsa_pem: Path
    key_pem: Path


def _load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _pki(workdir: Path) -> Pki:
    root_pem, tsa_pem, key_pem = make_tsa_pki(workdir)
    return Pki(_load(root_pem), _load(tsa_pem), root_pem, tsa_pem, key_pem)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return _pki(tmp_path_factory.mktemp("tsa-pki"))


@pytest.fixture(scope="module")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return _pki(tmp_path_factory.mktemp("other-pki"))


@pytest.fixture(scope="module")
def tsa(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackTSA]:
    with LoopbackTSA(
        pki.tsa_pem, pki.key_pem, None, tmp_path_factory.mktemp("tsa")
    ) as server:
        yield server


@pytest.fixture(scope="module")
def token(tsa: LoopbackTSA) -> bytes:
    return request_timestamp(tsa.url, DATA)


@contextlib.contextmanager
def serve(
    respond: Callable[[http.server.BaseHTTPRequestHandler], None],
) -> Iterator[str]:
    """A throwaway HTTP server on loopback whose POST handler is ``respond``."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            respond(self)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _reply(
    status: int, body: bytes, content_type: str = "application/timestamp-reply"
) -> Callable[[http.server.BaseHTTPRequestHandler], None]:
    def respond(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return respond


def _post_query(url: str, query: bytes) -> bytes:
    request = urllib.request.Request(
        url, data=query, headers={"Content-Type": "application/timestamp-query"}
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        body: bytes = reply.read()
    return body


def _flip(der: bytes, index: int) -> bytes:
    tampered = bytearray(der)
    tampered[index] ^= 0x01
    return bytes(tampered)


# --- request + parse --------------------------------------------------------------


def test_request_and_parse(tsa: LoopbackTSA, pki: Pki, token: bytes) -> None:
    info = parse_timestamp(token)
    assert isinstance(info, TimestampInfo)
    now = dt.datetime.now(dt.UTC)
    assert info.gen_time.utcoffset() == dt.timedelta(0)
    assert abs(info.gen_time - now) < dt.timedelta(minutes=2)
    assert info.hash_algorithm == "sha256"
    assert info.message_imprint == hashlib.sha256(DATA).digest()
    assert info.policy_oid == TSA_POLICY_OID
    assert isinstance(info.nonce, int)
    assert info.serial_number > 0
    assert info.tsa_name is not None
    assert "CN=Loopback Test TSA" in info.tsa_name
    assert info.certificates == (pki.tsa,)
    assert tsa.requests >= 1


def _stamp(
    pki: Pki, workdir: Path, accuracy: str | None, policy: str = TSA_POLICY_OID
) -> bytes:
    with LoopbackTSA(
        pki.tsa_pem, pki.key_pem, None, workdir, accuracy=accuracy, policy=policy
    ) as server:
        return request_timestamp(server.url, DATA)


@pytest.mark.parametrize(
    ("accuracy", "policy", "stated", "margin"),
    [
        ("secs:1, millisecs:0, microsecs:0", TSA_POLICY_OID, 1.0, 1.0),
        ("secs:7200", TSA_POLICY_OID, 7200.0, 7200.0),
        ("secs:0, millisecs:500, microsecs:7", TSA_POLICY_OID, 0.500007, 0.500007),
        # RFC 3628 §5.2: the baseline policy guarantees one second without the field
        (None, BASELINE_POLICY_OID, None, 1.0),
        # any other policy guarantees nothing: the limits are genTime itself
        (None, TSA_POLICY_OID, None, 0.0),
    ],
    ids=["1s", "2h", "sub-second", "baseline-policy", "none"],
)
def test_accuracy_gives_the_limits_of_the_time(  # noqa: PLR0917 - the table
    pki: Pki,
    tmp_path: Path,
    accuracy: str | None,
    policy: str,
    stated: float | None,
    margin: float,
) -> None:
    info = verify_timestamp(
        _stamp(pki, tmp_path, accuracy, policy), DATA, roots=[pki.root]
    )
    assert info.policy_oid == policy
    if stated is None:
        assert info.accuracy is None
    else:
        assert info.accuracy == dt.timedelta(seconds=stated)
    assert info.earliest == info.gen_time - dt.timedelta(seconds=margin)
    assert info.latest == info.gen_time + dt.timedelta(seconds=margin)


@pytest.mark.parametrize(
    ("accuracy", "old", "new"),
    [
        # millis [0] IMPLICIT INTEGER 500 -> 1000 (RFC 3161: 1..999)
        ("secs:7, millisecs:500", "800201f4", "800203e8"),
        # micros [1] IMPLICIT INTEGER 500 -> 0
        ("secs:7, microsecs:500", "810201f4", "81020000"),
        # seconds INTEGER 7 -> -7: a negative accuracy would narrow the range
        ("secs:7, millisecs:500", "020107", "0201f9"),
    ],
    ids=["millis-1000", "micros-0", "negative-seconds"],
)
def test_accuracy_out_of_range_is_malformed(
    pki: Pki, tmp_path: Path, accuracy: str, old: str, new: str
) -> None:
    # rfc3161_client refuses these when it decodes the token (before any signature)
    token = _stamp(pki, tmp_path, accuracy)
    assert token.hex().count(old) == 1
    tampered = bytes.fromhex(token.hex().replace(old, new))
    with pytest.raises(InvalidInputError, match=r"ASN\.1 parsing error"):
        parse_timestamp(tampered)


def test_time_range_beyond_the_representable_is_malformed(
    pki: Pki, tmp_path: Path
) -> None:
    token = _stamp(pki, tmp_path, "secs:1")
    gen_time = parse_timestamp(token).gen_time.strftime("%Y%m%d%H%M%SZ").encode()
    assert token.count(gen_time) == 1
    tampered = token.replace(gen_time, b"99991231235959Z")
    with pytest.raises(InvalidInputError, match="not a representable time"):
        parse_timestamp(tampered)


def test_accuracy_beyond_a_duration_is_malformed() -> None:
    # More seconds than a timedelta holds (no TSA issues this; the field is unbounded).
    accuracy = SimpleNamespace(seconds=2**64, millis=None, micros=None)
    with pytest.raises(ValueError, match="not a representable duration"):
        tsa_module._accuracy(cast("Any", SimpleNamespace(accuracy=accuracy)))


def test_each_request_has_a_fresh_nonce(tsa: LoopbackTSA, token: bytes) -> None:
    again = parse_timestamp(request_timestamp(tsa.url, DATA))
    first = parse_timestamp(token)
    assert again.nonce != first.nonce
    assert again.serial_number != first.serial_number


# --- verify -----------------------------------------------------------------------


def test_verify_with_the_right_root(pki: Pki, token: bytes) -> None:
    info = verify_timestamp(token, DATA, roots=[pki.root])
    assert info == parse_timestamp(token)


def test_verify_with_one_of_several_roots(
    pki: Pki, other_pki: Pki, token: bytes
) -> None:
    verify_timestamp(token, DATA, roots=[other_pki.root, pki.root, pki.root])


def test_verify_rejects_another_root(other_pki: Pki, token: bytes) -> None:
    with pytest.raises(TimestampError, match="does not verify"):
        verify_timestamp(token, DATA, roots=[other_pki.root])


def test_a_remembered_token_is_not_verified_again_but_its_imprint_is(
    pki: Pki, token: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    verified: Memo[tuple[bytes, tuple[bytes, ...]], bool] = Memo()
    verify_timestamp(token, DATA, roots=[pki.root], verified=verified)
    assert len(verified) == 1

    def again(*_args: object) -> None:
        msg = "the token was verified again"
        raise TimestampError(msg)

    monkeypatch.setattr(tsa_module, "_verify_token", again)
    verify_timestamp(token, DATA, roots=[pki.root], verified=verified)
    with pytest.raises(TimestampError, match="does not cover the data"):
        verify_timestamp(token, b"other bytes", roots=[pki.root], verified=verified)
    # Without the caller's table, or under other TSA certificates, it is verified.
    with pytest.raises(TimestampError, match="verified again"):
        verify_timestamp(token, DATA, roots=[pki.root])
    with pytest.raises(TimestampError, match="verified again"):
        verify_timestamp(
            token, DATA, roots=[pki.root], intermediates=[pki.tsa], verified=verified
        )


def test_a_token_that_does_not_verify_is_not_remembered(
    other_pki: Pki, token: bytes
) -> None:
    verified: Memo[tuple[bytes, tuple[bytes, ...]], bool] = Memo()
    for _ in range(2):
        with pytest.raises(TimestampError, match="does not verify"):
            verify_timestamp(token, DATA, roots=[other_pki.root], verified=verified)
    assert len(verified) == 0


def test_verify_rejects_no_roots(token: bytes) -> None:
    with pytest.raises(TimestampError, match="no trusted"):
        verify_timestamp(token, DATA, roots=[])


def test_verify_rejects_other_data(pki: Pki, token: bytes) -> None:
    with pytest.raises(TimestampError, match="does not cover the data"):
        verify_timestamp(token, DATA + b"!", roots=[pki.root])


def test_verify_rejects_tampered_signature(pki: Pki, token: bytes) -> None:
    # The last byte of the response is inside the SignerInfo's signature value.
    with pytest.raises(TimestampError, match="does not verify"):
        verify_timestamp(_flip(token, len(token) - 1), DATA, roots=[pki.root])


def test_verify_rejects_tampered_imprint(pki: Pki, token: bytes) -> None:
    index = token.index(hashlib.sha256(DATA).digest())
    tampered = _flip(token, index)
    with pytest.raises(TimestampError, match="does not verify"):
        verify_timestamp(tampered, DATA, roots=[pki.root])


def test_verify_rejects_tampered_gen_time(pki: Pki, token: bytes) -> None:
    info = parse_timestamp(token)
    stamp = info.gen_time.strftime("%Y%m%d%H%M%S").encode()
    index = token.index(stamp) + len(stamp) - 1  # last digit of the seconds
    tampered = _flip(token, index)
    assert parse_timestamp(tampered).gen_time != info.gen_time
    with pytest.raises(TimestampError, match="does not verify"):
        verify_timestamp(tampered, DATA, roots=[pki.root])


def test_verify_malformed_is_invalid_input(pki: Pki, token: bytes) -> None:
    with pytest.raises(InvalidInputError):
        verify_timestamp(token[:-10], DATA, roots=[pki.root])


def test_verify_sha512_token(tsa: LoopbackTSA, pki: Pki) -> None:
    query = (
        TimestampRequestBuilder()
        .data(DATA)
        .hash_algorithm(HashAlgorithm.SHA512)
        .build()
        .as_bytes()
    )
    der = _post_query(tsa.url, query)
    info = verify_timestamp(der, DATA, roots=[pki.root])
    assert info.hash_algorithm == "sha512"
    assert info.message_imprint == hashlib.sha512(DATA).digest()


def test_verify_token_without_embedded_certificate(tsa: LoopbackTSA, pki: Pki) -> None:
    query = (
        TimestampRequestBuilder()
        .data(DATA)
        .hash_algorithm(HashAlgorithm.SHA256)
        .cert_request(cert_request=False)
        .build()
        .as_bytes()
    )
    der = _post_query(tsa.url, query)
    assert parse_timestamp(der).certificates == ()
    with pytest.raises(TimestampError, match="neither embedded"):
        verify_timestamp(der, DATA, roots=[pki.root])
    info = verify_timestamp(der, DATA, roots=[pki.root], intermediates=[pki.tsa])
    assert info.certificates == ()


def test_chain_embedded_in_token(pki: Pki, other_pki: Pki, tmp_path: Path) -> None:
    with LoopbackTSA(pki.tsa_pem, pki.key_pem, pki.root_pem, tmp_path) as tsa:
        der = request_timestamp(tsa.url, DATA)
    info = verify_timestamp(der, DATA, roots=[pki.root])
    assert info.certificates[0] == pki.tsa
    assert set(info.certificates) == {pki.tsa, pki.root}
    # An embedded root is not a trust anchor ...
    with pytest.raises(TimestampError, match="does not verify"):
        verify_timestamp(der, DATA, roots=[other_pki.root])
    # ... and neither is a self-signed certificate passed as an intermediate.
    with pytest.raises(TimestampError, match="does not verify"):
        verify_timestamp(der, DATA, roots=[other_pki.root], intermediates=[pki.root])


def test_openssl_certificate_order_is_not_der(pki: Pki, tmp_path: Path) -> None:
    # openssl ts -reply -chain writes signer-first, not in DER SET OF order;
    # rfc3161_client refuses such a SignedData.
    with LoopbackTSA(
        pki.tsa_pem, pki.key_pem, pki.root_pem, tmp_path, der_sort=False
    ) as tsa:
        with pytest.raises(TimestampError, match="malformed response"):
            request_timestamp(tsa.url, DATA)
        query = TimestampRequestBuilder().data(DATA).build().as_bytes()
        raw = _post_query(tsa.url, query)
    with pytest.raises(InvalidInputError, match="InvalidSetOrdering"):
        parse_timestamp(raw)


# --- request failures -------------------------------------------------------------


def test_http_500() -> None:
    with (
        serve(_reply(500, b"boom", "text/plain")) as url,
        pytest.raises(NetworkError, match=r"HTTP 500") as excinfo,
    ):
        request_timestamp(url, DATA)
    assert str(excinfo.value).startswith(f"TSA {url}: ")
    assert "\n" not in str(excinfo.value)


def test_garbage_response() -> None:
    with (
        serve(_reply(200, b"<html>not a timestamp</html>", "text/html")) as url,
        pytest.raises(TimestampError, match="malformed response"),
    ):
        request_timestamp(url, DATA)


def test_rejection_response() -> None:
    rejection = bytes.fromhex("30053003020102")  # PKIStatus rejection
    with (
        serve(_reply(200, rejection)) as url,
        pytest.raises(TimestampError, match="not granted: status rejection"),
    ):
        request_timestamp(url, DATA)


def test_replayed_response_is_rejected(token: bytes) -> None:
    # A valid token for the same data, but not an answer to this request.
    with (
        serve(_reply(200, token)) as url,
        pytest.raises(TimestampError, match="nonce"),
    ):
        request_timestamp(url, DATA)


def test_response_for_other_data_is_rejected(tsa: LoopbackTSA) -> None:
    query = (
        TimestampRequestBuilder()
        .data(b"other")
        .hash_algorithm(HashAlgorithm.SHA256)
        .build()
        .as_bytes()
    )
    other = _post_query(tsa.url, query)
    with (
        serve(_reply(200, other)) as url,
        pytest.raises(TimestampError, match=r"nonce|imprint"),
    ):
        request_timestamp(url, DATA)


def test_redirect_is_not_followed(tsa: LoopbackTSA) -> None:
    def redirect(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", tsa.url)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    with serve(redirect) as url, pytest.raises(NetworkError, match="HTTP 302"):
        request_timestamp(url, DATA)


def test_connection_refused() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connections refused
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
        with pytest.raises(NetworkError, match=r"^TSA http://127\.0\.0\.1:\d+/: "):
            request_timestamp(url, DATA)


def test_timeout() -> None:
    def slow(handler: http.server.BaseHTTPRequestHandler) -> None:
        time.sleep(1.0)
        _reply(500, b"late")(handler)

    with serve(slow) as url:
        started = time.monotonic()
        with pytest.raises(NetworkError, match="timed out"):
            request_timestamp(url, DATA, timeout=0.2)
        assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/tsa",
        "127.0.0.1:8080",
        "http://",
        "",
        "data:application/timestamp-reply;base64,AAAA",
        "http://127.0.0.1:99999/",
    ],
)
def test_non_http_url(url: str) -> None:
    with pytest.raises(InvalidInputError, match="TSA URL"):
        request_timestamp(url, DATA)


def test_empty_data(tsa: LoopbackTSA) -> None:
    with pytest.raises(InvalidInputError, match="empty"):
        request_timestamp(tsa.url, b"")


# --- parse failures ---------------------------------------------------------------


@pytest.mark.parametrize(
    "der",
    [b"garbage", b"", bytes.fromhex("30053003020102"), b"\x30\x03\x02\x01\x00"],
)
def test_parse_garbage(der: bytes) -> None:
    with pytest.raises(
        InvalidInputError, match="not a valid RFC 3161 timestamp response: "
    ):
        parse_timestamp(der)


# A real token (sigstore staging TSA) and single-byte mutations that made the
# libraries raise other exception types than ValueError (found by mutation fuzzing).
_STAGING_BUNDLE = (
    Path(__file__).resolve().parents[1]
    / "assets/sigstore/bundles/staging-rekor-v2.txt.sigstore.json"
)


def _staging_token() -> bytes:
    import base64
    import json

    bundle = json.loads(_STAGING_BUNDLE.read_bytes())
    material = bundle["verificationMaterial"]["timestampVerificationData"]
    return base64.b64decode(material["rfc3161Timestamps"][0]["signedTimestamp"])


def _mutated(*changes: tuple[int, int]) -> bytes:
    der = bytearray(_staging_token())
    for offset, value in changes:
        der[offset] = value
    return bytes(der)


@pytest.mark.parametrize(
    "der",
    [
        # a name's string tag (PrintableString) replaced: KeyError in cryptography
        pytest.param(_mutated((211, 0xEC)), id="name-string-tag-keyerror"),
        # a certificate's version: cryptography.x509.InvalidVersion
        pytest.param(_mutated((264, 0x38)), id="certificate-version"),
        # a string tag turned into a BIT STRING: TypeError in cryptography
        pytest.param(
            _mutated((234, 0x03), (753, 0x13), (971, 0xAD)), id="bit-string-typeerror"
        ),
    ],
)
def test_library_errors_become_invalid_input(der: bytes, pki: Pki) -> None:
    # Regression (issue 9, item 4): these escaped as KeyError, InvalidVersion and
    # TypeError (exit 4). Both entry points decode through the same edge.
    with pytest.raises(InvalidInputError, match="not a valid RFC 3161 timestamp"):
        parse_timestamp(der)
    with pytest.raises(InvalidInputError, match="not a valid RFC 3161 timestamp"):
        verify_timestamp(der, DATA, roots=[pki.root])


def _panic_type() -> type[BaseException]:
    """A stand-in for pyo3's PanicException (created at run time, not importable)."""
    return type("PanicException", (BaseException,), {"__module__": "pyo3_runtime"})


def test_rust_panic_in_the_decoder_is_invalid_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    panic = _panic_type()

    def decode(_der: bytes) -> object:
        msg = "called `Option::unwrap()` on a `None` value"
        raise panic(msg)

    monkeypatch.setattr(tsa_module, "decode_timestamp_response", decode)
    with pytest.raises(InvalidInputError) as info:
        parse_timestamp(_staging_token())
    assert "the decoder failed: called `Option::unwrap()`" in info.value.message


def test_rust_panic_in_the_verifier_fails_the_timestamp(
    monkeypatch: pytest.MonkeyPatch, pki: Pki, token: bytes
) -> None:
    panic = _panic_type()

    class Verifier:
        def verify(self, *_args: object) -> None:
            msg = "index out of bounds"
            raise panic(msg)

    class Builder:
        def __getattr__(self, _name: str) -> Callable[..., object]:
            return lambda *_args, **_kwargs: self

        def build(self) -> Verifier:
            return Verifier()

    monkeypatch.setattr(tsa_module, "VerifierBuilder", Builder)
    with pytest.raises(TimestampError, match="the verifier failed: index out of"):
        verify_timestamp(token, DATA, roots=[pki.root])


@pytest.mark.parametrize("kind", [KeyboardInterrupt, SystemExit, GeneratorExit])
def test_only_panics_are_caught(monkeypatch: pytest.MonkeyPatch, kind: type) -> None:
    def decode(_der: bytes) -> object:
        raise kind

    monkeypatch.setattr(tsa_module, "decode_timestamp_response", decode)
    with pytest.raises(kind):
        parse_timestamp(b"0")


# --- policy checks that a conforming TSA never lets us reach ----------------------


@pytest.mark.parametrize(
    ("algorithm", "size", "match"),
    [
        ("sha1", 20, "weak"),
        ("md5", 16, "weak"),
        ("sha224", 28, "unsupported"),
        ("1.2.3.4", 32, "unsupported"),
        ("sha256", 20, "not a sha256 digest"),
    ],
)
def test_imprint_algorithm_policy(
    token: bytes, algorithm: str, size: int, match: str
) -> None:
    info = dataclasses.replace(
        parse_timestamp(token), hash_algorithm=algorithm, message_imprint=b"\0" * size
    )
    with pytest.raises(TimestampError, match=match):
        tsa_module._verify_imprint_algorithm(info)


def _leaf(
    eku: list[x509.ObjectIdentifier] | None, *, critical: bool = True
) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leaf")])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(hours=1))
    )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=critical)
    return builder.sign(key, hashes.SHA256())


def test_tsa_certificate_profile() -> None:
    ts, cs = ExtendedKeyUsageOID.TIME_STAMPING, ExtendedKeyUsageOID.CODE_SIGNING
    tsa_module._verify_tsa_profile(_leaf([ts]))
    for bad in (_leaf(None), _leaf([ts], critical=False), _leaf([ts, cs])):
        with pytest.raises(TimestampError, match="extended key usage"):
            tsa_module._verify_tsa_profile(bad)
