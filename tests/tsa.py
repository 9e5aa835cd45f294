"""A real RFC 3161 timestamp authority on loopback, for tests.

``LoopbackTSA`` serves ``application/timestamp-query`` POSTs on ``127.0.0.1`` and
answers each one with ``openssl ts -reply``, so tests exercise a genuine third-party
TSA implementation rather than responses we forged ourselves.

``make_tsa_pki`` creates a throwaway root CA and a TSA leaf certificate (EKU
``timeStamping`` critical, KU ``digitalSignature``) that both ``openssl ts`` and
``rfc3161_client``'s verifier accept.
"""

from __future__ import annotations

import datetime as dt
import http.server
import subprocess
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: A private-arc policy OID; nothing outside these tests gives it any meaning.
TSA_POLICY_OID = "1.3.6.1.4.1.57264.99.1"

_OPENSSL_TIMEOUT = 20.0
_MAX_QUERY_BYTES = 64 * 1024

_CONFIG = """\
[ tsa ]
default_tsa = tsa_config

[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_digest = sha256
default_policy = {policy}
other_policies = {policy}.1
digests = sha256, sha384, sha512
{accuracy}
clock_precision_digits = 0
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "vendorproof tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_tsa_pki(
    workdir: Path, *, common_name: str = "Loopback Test TSA"
) -> tuple[Path, Path, Path]:
    """Create a fresh root CA and TSA leaf in ``workdir``.

    Returns ``(root_cert_pem, tsa_cert_pem, tsa_key_pem)``. Keys are ECDSA P-256;
    both certificates are valid from one hour ago for one day.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    not_before = now - dt.timedelta(hours=1)
    not_after = now + dt.timedelta(days=1)

    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(f"{common_name} Root CA")
    root_ski = x509.SubjectKeyIdentifier.from_public_key(root_key.public_key())
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(root_ski, critical=False)
        .sign(root_key, hashes.SHA256())
    )

    tsa_key = ec.generate_private_key(ec.SECP256R1())
    tsa = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(root_name)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(tsa_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )

    root_path = workdir / "tsa-root.pem"
    tsa_path = workdir / "tsa.pem"
    key_path = workdir / "tsa.key"
    root_path.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    tsa_path.write_bytes(tsa.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        tsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return root_path, tsa_path, key_path


def _header(buf: bytes, off: int) -> tuple[int, int]:
    """Return ``(content_start, content_end)`` of the DER TLV at ``off``."""
    first = buf[off + 1]
    if first < 0x80:
        return off + 2, off + 2 + first
    n = first & 0x7F
    length = int.from_bytes(buf[off + 2 : off + 2 + n], "big")
    return off + 2 + n, off + 2 + n + length


def _children(buf: bytes) -> list[bytes]:
    out: list[bytes] = []
    off = 0
    while off < len(buf):
        _, end = _header(buf, off)
        out.append(buf[off:end])
        off = end
    return out


def _content(tlv: bytes) -> bytes:
    start, end = _header(tlv, 0)
    return tlv[start:end]


def _wrap(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def der_sort_certificates(response: bytes) -> bytes:
    """Put a ``TimeStampResp``'s ``SignedData.certificates`` into DER SET OF order.

    ``openssl ts -reply`` writes the signer first and the ``-chain`` certificates
    after it, which is usually *not* DER order for a SET OF; ``rfc3161_client``
    rejects such tokens (``InvalidSetOrdering``). The field is not covered by the
    signature, so re-ordering it yields the token a DER-strict TSA would produce.
    """
    status, token = _children(_content(response))
    content_type, explicit = _children(_content(token))
    signed_data = _children(_content(explicit))[0]
    fields = [
        _wrap(0xA0, b"".join(sorted(_children(_content(f))))) if f[0] == 0xA0 else f
        for f in _children(_content(signed_data))
    ]
    signed_data = _wrap(signed_data[0], b"".join(fields))
    token = _wrap(token[0], content_type + _wrap(explicit[0], signed_data))
    return _wrap(response[0], status + token)


class LoopbackTSA:
    """An ``openssl ts -reply`` timestamp authority served over HTTP on 127.0.0.1.

    Use as a context manager; ``url`` is valid inside the ``with`` block::

        with LoopbackTSA(cert, key, None, tmp_path) as tsa:
            der = request_timestamp(tsa.url, b"...")

    ``requests`` counts the queries answered (successfully or not). With a
    ``chain_pem`` the response's certificates are re-ordered into DER order (see
    :func:`der_sort_certificates`) unless ``der_sort`` is false. ``accuracy`` is the
    openssl ``accuracy`` setting (``secs:N, millisecs:N, microsecs:N``; None: the
    tokens state no accuracy), ``policy`` the TSA policy OID of the tokens.
    """

    def __init__(
        self,
        cert_pem: Path,
        key_pem: Path,
        chain_pem: Path | None,
        workdir: Path,
        *,
        der_sort: bool = True,
        accuracy: str | None = "secs:1, millisecs:0, microsecs:0",
        policy: str = TSA_POLICY_OID,
    ) -> None:
        self.cert_pem = cert_pem
        self.key_pem = key_pem
        self.chain_pem = chain_pem
        self.workdir = workdir
        self.der_sort = der_sort
        self.accuracy = accuracy
        self.policy = policy
        self.requests = 0
        self._lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._config: Path | None = None

    @property
    def url(self) -> str:
        """The TSA endpoint, ``http://127.0.0.1:<port>/``."""
        if self._server is None:
            msg = "LoopbackTSA is not running"
            raise RuntimeError(msg)
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def _write_config(self) -> Path:
        tsa_dir = self.workdir / "loopback-tsa"
        tsa_dir.mkdir(parents=True, exist_ok=True)
        (tsa_dir / "serial").write_text("01\n")
        config = tsa_dir / "openssl-tsa.cnf"
        accuracy = "" if self.accuracy is None else f"accuracy = {self.accuracy}"
        config.write_text(
            _CONFIG.format(dir=tsa_dir, policy=self.policy, accuracy=accuracy)
        )
        return config

    def reply(self, query: bytes) -> bytes:
        """Answer one DER ``TimeStampReq`` with a DER ``TimeStampResp`` via openssl."""
        if self._config is None:
            msg = "LoopbackTSA is not running"
            raise RuntimeError(msg)
        with self._lock, tempfile.TemporaryDirectory(dir=self.workdir) as tmp:
            self.requests += 1
            query_file = Path(tmp) / "q.tsq"
            reply_file = Path(tmp) / "r.tsr"
            query_file.write_bytes(query)
            cmd = [
                "openssl", "ts", "-reply",
                "-config", str(self._config),
                "-queryfile", str(query_file),
                "-signer", str(self.cert_pem),
                "-inkey", str(self.key_pem),
                "-out", str(reply_file),
            ]  # fmt: skip
            if self.chain_pem is not None:
                cmd += ["-chain", str(self.chain_pem)]
            subprocess.run(
                cmd, check=True, capture_output=True, timeout=_OPENSSL_TIMEOUT
            )
            reply = reply_file.read_bytes()
        return der_sort_certificates(reply) if self.der_sort else reply

    def __enter__(self) -> Self:
        self._config = self._write_config()
        tsa = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                if (
                    self.headers.get("Content-Type") != "application/timestamp-query"
                    or not 0 < length <= _MAX_QUERY_BYTES
                ):
                    self.send_error(400, "expected an application/timestamp-query")
                    return
                try:
                    body = tsa.reply(self.rfile.read(length))
                except (subprocess.SubprocessError, OSError) as exc:
                    self.send_error(500, f"openssl ts -reply failed: {exc}")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="loopback-tsa",
            daemon=True,
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None
