"""Certificates as legacy vendor PKIs make them, made by the openssl CLI.

``cryptography``'s builder always writes X.509 v3; ``openssl x509 -req`` without
extensions writes v1 certificates, as real SOL 004 signers have them. With
``extensions`` (an openssl extension section body) it writes v3 with exactly those.
Validity runs from now for ``days``.
"""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509

_TIMEOUT = 60
_SERIALS = itertools.count(0x1000)


@dataclass(frozen=True)
class Made:
    """A certificate made by openssl, with its files."""

    cert_path: Path
    key_path: Path

    @property
    def cert(self) -> x509.Certificate:
        """The parsed certificate."""
        return x509.load_pem_x509_certificate(self.cert_path.read_bytes())


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, timeout=_TIMEOUT)


def make_cert(
    workdir: Path,
    name: str,
    *,
    issuer: Made | None = None,
    key: Path | None = None,
    extensions: str | None = None,
    days: int = 30,
    key_kind: str = "ec",
    digest: str = "sha256",
) -> Made:
    """A certificate ``C=DE, O=Legacy Vendor, CN=<name>``, v1 unless ``extensions``.

    ``issuer`` None: self-signed. ``key``: reuse a key file (else a new P-256 or
    RSA-2048 key). ``digest``: the signature hash (``sha1`` for refusal tests).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    key_path = key or workdir / f"{name}.key"
    if key is None:
        if key_kind == "rsa":
            _run(
                "openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                "rsa_keygen_bits:2048", "-out", str(key_path),
            )  # fmt: skip
        else:
            _run(
                "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-out", str(key_path),
            )  # fmt: skip
    csr = workdir / f"{name}.csr"
    _run(
        "openssl", "req", "-new", "-key", str(key_path),
        "-subj", f"/C=DE/O=Legacy Vendor/CN={name}", "-out", str(csr),
    )  # fmt: skip
    cert_path = workdir / f"{name}.pem"
    cmd = [
        "openssl", "x509", "-req", "-in", str(csr), f"-{digest}",
        "-days", str(days), "-set_serial", str(next(_SERIALS)), "-out", str(cert_path),
    ]  # fmt: skip
    if issuer is None:
        cmd += ["-key", str(key_path)]
    else:
        cmd += ["-CA", str(issuer.cert_path), "-CAkey", str(issuer.key_path)]
    if extensions is not None:
        ext = workdir / f"{name}.ext"
        ext.write_text(f"[v3]\n{extensions}\n", encoding="utf-8")
        cmd += ["-extfile", str(ext), "-extensions", "v3"]
    _run(*cmd)
    return Made(cert_path=cert_path, key_path=key_path)


def openssl_verify(
    workdir: Path,
    leaf: Made,
    anchors: Sequence[Made],
    *,
    untrusted: Sequence[Made] = (),
    at: datetime,
    strict: bool = False,
) -> bool:
    """``openssl verify`` (the independent oracle): does ``leaf`` chain to an anchor.

    ``-partial_chain`` lets a pinned certificate that is not self-signed be an anchor,
    as the policy's anchors are; ``strict`` adds ``-x509_strict``.
    """
    ca = workdir / "oracle-anchors.pem"
    ca.write_bytes(b"".join(a.cert_path.read_bytes() for a in anchors))
    cmd = [
        "openssl", "verify", "-partial_chain", "-attime", str(int(at.timestamp())),
        "-CAfile", str(ca),
    ]  # fmt: skip
    if untrusted:
        chain = workdir / "oracle-untrusted.pem"
        chain.write_bytes(b"".join(u.cert_path.read_bytes() for u in untrusted))
        cmd += ["-untrusted", str(chain)]
    if strict:
        cmd.append("-x509_strict")
    result = subprocess.run(
        [*cmd, str(leaf.cert_path)], check=False, capture_output=True, timeout=_TIMEOUT
    )
    return result.returncode == 0
