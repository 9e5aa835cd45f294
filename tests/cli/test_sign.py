"""``vendorproof sign``: bundles, key types, certificates, timestamps and bad inputs.

Signatures are checked independently of vendorproof: the DSSE pre-authentication
encoding is rebuilt by hand from the bundle JSON and verified with ``cryptography``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from tests.cli.support import (
    assert_error,
    assert_ok,
    invoke,
    names,
    run_script,
    runner,
)
from tests.tsa import LoopbackTSA, make_tsa_pki
from vendorproof._cli import ExitCode, app
from vendorproof._internal.tsa import verify_timestamp
from vendorproof.errors import TimestampError
from vendorproof.models.statement import Statement

REPO = Path(__file__).resolve().parents[2]
KEYS = REPO / "keys"
VENDOR_A = KEYS / "vendor-a"
PASSPHRASE_ENV = "VENDORPROOF_KEY_PASSPHRASE"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
V02 = "application/vnd.dev.sigstore.bundle+json;version=0.2"
V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"


PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey

#: A statement in a deliberately non-canonical layout: it must be signed as is.
STATEMENT = (
    b'{"_type":"https://in-toto.io/Statement/v1",\n'
    b' "subject":[{"name":"images/du.img","digest":{"sha256":"'
    + hashlib.sha256(b"du").hexdigest().encode()
    + b'"}},{"name":"config/site.yaml","digest":{"sha256":"'
    + hashlib.sha256(b"site").hexdigest().encode()
    + b'"}}],\n "predicateType":"https://example.test/predicate/v1",'
    b' "predicate":{"note":"\xc3\xbcnicode"}}\n'
)
SUBJECT_NAMES = ["images/du.img", "config/site.yaml"]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (PASSPHRASE_ENV, "VENDORPROOF_DEBUG"):
        monkeypatch.delenv(var, raising=False)
    # The loopback TSA must not be reached through a proxy.
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")


def load_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_bytes())
    return data


def spki_der(key: PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_pub(path: Path) -> PublicKey:
    key = serialization.load_pem_public_key(path.read_bytes())
    assert isinstance(key, PublicKey)
    return key


def cert_pub(cert: x509.Certificate) -> PublicKey:
    key = cert.public_key()
    assert isinstance(key, PublicKey)
    return key


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def dsse_parts(bundle: dict[str, Any]) -> tuple[bytes, bytes, bytes]:
    """``(payloadType, payload, sig)`` decoded straight from the bundle JSON."""
    env = bundle["dsseEnvelope"]
    (signature,) = env["signatures"]
    return env["payloadType"].encode(), b64(env["payload"]), b64(signature["sig"])


def pae(payload_type: bytes, payload: bytes) -> bytes:
    return b"DSSEv1 %d %s %d %s" % (
        len(payload_type),
        payload_type,
        len(payload),
        payload,
    )


def verify_raw(key: PublicKey, sig: bytes, data: bytes) -> None:
    """Verify with plain ``cryptography`` (raises ``InvalidSignature``)."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(sig, data)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        digest: hashes.HashAlgorithm = (
            hashes.SHA256() if isinstance(key.curve, ec.SECP256R1) else hashes.SHA384()
        )
        assert isinstance(key.curve, ec.SECP256R1 | ec.SECP384R1)
        key.verify(sig, data, ec.ECDSA(digest))
    else:
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        key.verify(sig, data, pss, hashes.SHA256())


def verify_bundle(bundle: dict[str, Any], key: PublicKey) -> None:
    ptype, payload, sig = dsse_parts(bundle)
    assert ptype == PAYLOAD_TYPE.encode()
    assert payload == STATEMENT  # signed byte for byte, not re-serialized
    verify_raw(key, sig, pae(ptype, payload))
    # The check is meaningful: one changed payload byte breaks it.
    tampered = payload.replace(b"du.img", b"dU.img")
    with pytest.raises(InvalidSignature):
        verify_raw(key, sig, pae(ptype, tampered))


def inspect_json(path: Path) -> dict[str, Any]:
    result = invoke("inspect", "--json", path)
    assert_ok(result)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
def statement(tmp_path: Path) -> Path:
    path = tmp_path / "statement.json"
    path.write_bytes(STATEMENT)
    Statement.from_bytes(STATEMENT)  # the test input itself is valid
    return path


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    path = tmp_path / "out"
    path.mkdir()
    return path


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One unencrypted key pair per type, generated with ``keys generate``."""
    directory = tmp_path_factory.mktemp("keys")
    for key_type in ("ed25519", "ecdsa-p256", "ecdsa-p384", "rsa-3072"):
        result = runner.invoke(
            app,
            ["keys", "generate", "--type", key_type, "--out", str(directory / key_type),
             "--no-passphrase"],
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
    return directory


@pytest.fixture(scope="module")
def encrypted_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ECDSA P-256 key encrypted with the passphrase ``open sesame``."""
    directory = tmp_path_factory.mktemp("enc")
    result = runner.invoke(
        app,
        ["keys", "generate", "--type", "ecdsa-p256", "--out", str(directory / "k")],
        env={PASSPHRASE_ENV: "open sesame"},
    )
    assert result.exit_code == 0, result.stderr
    return directory / "k.key"


# --------------------------------------------------------------------------- success


@pytest.mark.parametrize(
    ("key_type", "sig_check"),
    [
        ("ed25519", lambda sig: len(sig) == 64),
        ("ecdsa-p256", lambda sig: sig[0] == 0x30),  # DER ECDSA-Sig-Value
        ("ecdsa-p384", lambda sig: sig[0] == 0x30),
        ("rsa-3072", lambda sig: len(sig) == 384),
    ],
)
def test_key_only_each_type(
    statement: Path,
    out_dir: Path,
    keys_dir: Path,
    key_type: str,
    sig_check: Callable[[bytes], bool],
) -> None:
    out = out_dir / "s.sigstore.json"
    result = invoke("sign", statement, "--key", keys_dir / f"{key_type}.key", "-o", out)
    assert_ok(result)
    assert V03 in result.stdout
    assert names(out_dir) == {"s.sigstore.json"}

    public = load_pub(keys_dir / f"{key_type}.pub")
    key_id = hashlib.sha256(spki_der(public)).hexdigest()
    bundle = load_json(out)
    assert bundle["mediaType"] == V03
    assert bundle["verificationMaterial"] == {
        "publicKey": {"hint": key_id},
        "tlogEntries": [],
    }
    assert bundle["dsseEnvelope"]["signatures"][0]["keyid"] == key_id
    verify_bundle(bundle, public)
    _, _, sig = dsse_parts(bundle)
    assert sig_check(sig)

    info = inspect_json(out)
    assert info["publicKeyHint"] == key_id
    assert info["certificates"] == []
    assert info["timestamps"] == []
    assert info["payloadType"] == PAYLOAD_TYPE
    assert info["predicateType"] == "https://example.test/predicate/v1"
    assert [s["name"] for s in info["subjects"]] == SUBJECT_NAMES
    assert info["signatures"] == [{"keyid": key_id, "bytes": len(sig)}]


@pytest.mark.parametrize("vendor", ["vendor-a", "vendor-b"])
def test_with_certificate(statement: Path, out_dir: Path, vendor: str) -> None:
    pki = KEYS / vendor
    out = out_dir / "s.sigstore.json"
    result = invoke(
        "sign", statement, "--key", pki / "signing.key", "--cert",
        pki / "signing.pem", "-o", out,
    )  # fmt: skip
    assert_ok(result)
    leaf = load_cert(pki / "signing.pem")
    bundle = load_json(out)
    assert bundle["mediaType"] == V03
    material = bundle["verificationMaterial"]
    assert set(material) == {"certificate", "tlogEntries"}
    assert b64(material["certificate"]["rawBytes"]) == leaf.public_bytes(
        serialization.Encoding.DER
    )
    verify_bundle(bundle, cert_pub(leaf))

    info = inspect_json(out)
    assert info["publicKeyHint"] is None
    assert [c["subject"] for c in info["certificates"]] == [
        leaf.subject.rfc4514_string()
    ]
    assert (
        info["certificates"][0]["sha256"]
        == hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).hexdigest()
    )


@pytest.mark.parametrize("vendor", ["vendor-a", "vendor-b"])
def test_with_certificate_and_chain(
    statement: Path, out_dir: Path, vendor: str
) -> None:
    pki = KEYS / vendor
    out = out_dir / "s.sigstore.json"
    result = invoke(
        "sign", statement, "--key", pki / "signing.key", "--cert",
        pki / "signing.pem", "--chain", pki / "intermediate.pem", "-o", out,
    )  # fmt: skip
    assert_ok(result)
    assert V02 in result.stdout
    leaf = load_cert(pki / "signing.pem")
    intermediate = load_cert(pki / "intermediate.pem")
    root = load_cert(pki / "root.pem")
    bundle = load_json(out)
    assert bundle["mediaType"] == V02
    material = bundle["verificationMaterial"]
    assert set(material) == {"x509CertificateChain", "tlogEntries"}
    chain = [
        b64(c["rawBytes"]) for c in material["x509CertificateChain"]["certificates"]
    ]
    der = serialization.Encoding.DER
    assert chain == [leaf.public_bytes(der), intermediate.public_bytes(der)]
    assert root.public_bytes(der) not in chain
    verify_bundle(bundle, cert_pub(leaf))

    info = inspect_json(out)
    assert [c["subject"] for c in info["certificates"]] == [
        leaf.subject.rfc4514_string(),
        intermediate.subject.rfc4514_string(),
    ]
    assert info["certificates"][1]["issuer"] == root.subject.rfc4514_string()


def test_encrypted_key_with_passphrase(
    statement: Path,
    out_dir: Path,
    encrypted_key: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, "open sesame")
    out = out_dir / "s.sigstore.json"
    assert_ok(invoke("sign", statement, "--key", encrypted_key, "-o", out))
    verify_bundle(load_json(out), load_pub(encrypted_key.with_suffix(".pub")))


def test_default_output_name(
    statement: Path, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(out_dir)
    assert_ok(invoke("sign", statement, "--key", VENDOR_A / "release.key"))
    assert names(out_dir) == {"statement.sigstore.json"}
    verify_bundle(
        load_json(out_dir / "statement.sigstore.json"),
        load_pub(VENDOR_A / "release.pub"),
    )


def test_console_script(statement: Path, out_dir: Path) -> None:
    proc = run_script(
        "sign", statement, "--key", VENDOR_A / "signing.key", "--cert",
        VENDOR_A / "signing.pem", "--chain", VENDOR_A / "intermediate.pem",
        "-o", "s.sigstore.json", cwd=out_dir,
    )  # fmt: skip
    assert proc.returncode == ExitCode.OK, proc.stderr
    assert proc.stderr == ""
    verify_bundle(
        load_json(out_dir / "s.sigstore.json"),
        cert_pub(load_cert(VENDOR_A / "signing.pem")),
    )


def test_console_script_wrong_passphrase(
    statement: Path, out_dir: Path, encrypted_key: Path
) -> None:
    proc = run_script(
        "sign", statement, "--key", encrypted_key, "-o", "s.sigstore.json",
        cwd=out_dir, env={PASSPHRASE_ENV: "wrong"},
    )  # fmt: skip
    assert proc.returncode == ExitCode.INVALID_INPUT
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(f"error: {encrypted_key}: ")
    assert "passphrase" in proc.stderr
    assert names(out_dir) == set()


# --------------------------------------------------------------------------- timestamps


def test_rfc3161_timestamp_from_loopback_tsa(
    statement: Path, out_dir: Path, tmp_path: Path
) -> None:
    root_pem, tsa_pem, tsa_key = make_tsa_pki(tmp_path / "tsa-pki")
    out = out_dir / "s.sigstore.json"
    with LoopbackTSA(tsa_pem, tsa_key, None, tmp_path) as tsa:
        result = invoke(
            "sign", statement, "--key", VENDOR_A / "signing.key", "--cert",
            VENDOR_A / "signing.pem", "--tsa-url", tsa.url, "-o", out,
        )  # fmt: skip
        requests = tsa.requests
    assert_ok(result)
    assert requests == 1
    assert names(out_dir) == {"s.sigstore.json"}

    bundle = load_json(out)
    verify_bundle(bundle, cert_pub(load_cert(VENDOR_A / "signing.pem")))
    stamps = bundle["verificationMaterial"]["timestampVerificationData"][
        "rfc3161Timestamps"
    ]
    assert len(stamps) == 1
    der = b64(stamps[0]["signedTimestamp"])
    _, _, sig = dsse_parts(bundle)
    info = verify_timestamp(der, sig, roots=[load_cert(root_pem)])
    assert info.hash_algorithm == "sha256"
    assert info.message_imprint == hashlib.sha256(sig).digest()
    # The timestamp covers the signature bytes, nothing else.
    with pytest.raises(TimestampError):
        verify_timestamp(der, sig + b"x", roots=[load_cert(root_pem)])

    shown = inspect_json(out)
    assert len(shown["timestamps"]) == 1
    assert shown["timestamps"][0]["hashAlgorithm"] == "sha256"
    assert "Loopback Test TSA" in (shown["timestamps"][0]["tsa"] or "")


def test_unreachable_tsa_fails_without_output(statement: Path, out_dir: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/"
    out = out_dir / "s.sigstore.json"
    result = invoke(
        "sign",
        statement,
        "--key",
        VENDOR_A / "release.key",
        "--tsa-url",
        url,
        "-o",
        out,
    )
    # An unreachable TSA is a transport failure (NetworkError), not a failed check.
    line = assert_error(result, ExitCode.NETWORK, url)
    assert line.startswith("error: TSA ")
    assert names(out_dir) == set()


def test_unreachable_tsa_console_script(statement: Path, out_dir: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/"
    proc = run_script(
        "sign", statement, "--key", VENDOR_A / "release.key", "--tsa-url", url,
        "-o", "s.sigstore.json", cwd=out_dir, env={"no_proxy": "*"},
    )  # fmt: skip
    assert proc.returncode == ExitCode.NETWORK
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert names(out_dir) == set()


@pytest.mark.parametrize("url", ["ftp://tsa.example/", "file:///etc/passwd", "tsa"])
def test_tsa_url_that_is_not_http(statement: Path, out_dir: Path, url: str) -> None:
    result = invoke(
        "sign", statement, "--key", VENDOR_A / "release.key", "--tsa-url", url,
        "-o", out_dir / "s.sigstore.json",
    )  # fmt: skip
    assert_error(result, ExitCode.INVALID_INPUT, "TSA URL", repr(url))
    assert names(out_dir) == set()


def test_tsa_url_error_names_the_option_not_the_statement(
    statement: Path, out_dir: Path
) -> None:
    result = invoke(
        "sign", statement, "--key", VENDOR_A / "release.key", "--tsa-url",
        "ftp://tsa.example/", "-o", out_dir / "s.sigstore.json",
    )  # fmt: skip
    line = assert_error(result, ExitCode.INVALID_INPUT)
    assert "--tsa-url" in line
    assert str(statement) not in line


# --------------------------------------------------------------------------- errors


def sign_fails(
    out_dir: Path, *args: str | Path, code: int = ExitCode.INVALID_INPUT
) -> str:
    result = invoke("sign", *args, "-o", out_dir / "s.sigstore.json")
    line = assert_error(result, code)
    assert names(out_dir) == set()
    return line


def test_cert_not_matching_key(statement: Path, out_dir: Path) -> None:
    cert = KEYS / "vendor-b" / "signing.pem"
    line = sign_fails(
        out_dir, statement, "--key", VENDOR_A / "signing.key", "--cert", cert
    )
    assert line.startswith(f"error: {cert}: ")
    assert "does not match the signing key" in line


def test_chain_containing_root(statement: Path, out_dir: Path) -> None:
    line = sign_fails(
        out_dir, statement, "--key", VENDOR_A / "signing.key", "--cert",
        VENDOR_A / "signing.pem", "--chain", VENDOR_A / "root.pem",
    )  # fmt: skip
    assert line.startswith(f"error: {VENDOR_A / 'root.pem'}: ")
    assert "root" in line


def test_chain_with_intermediate_and_root(
    statement: Path, out_dir: Path, tmp_path: Path
) -> None:
    chain = tmp_path / "chain.pem"
    chain.write_bytes(
        (VENDOR_A / "intermediate.pem").read_bytes()
        + (VENDOR_A / "root.pem").read_bytes()
    )
    line = sign_fails(
        out_dir, statement, "--key", VENDOR_A / "signing.key", "--cert",
        VENDOR_A / "signing.pem", "--chain", chain,
    )  # fmt: skip
    assert line.startswith(f"error: {chain}: ")
    assert "self-signed root" in line


def test_chain_without_cert(statement: Path, out_dir: Path) -> None:
    line = sign_fails(
        out_dir, statement, "--key", VENDOR_A / "signing.key", "--chain",
        VENDOR_A / "intermediate.pem",
    )  # fmt: skip
    assert "--chain needs --cert" in line


def test_cert_file_with_two_certificates(
    statement: Path, out_dir: Path, tmp_path: Path
) -> None:
    both = tmp_path / "both.pem"
    both.write_bytes(
        (VENDOR_A / "signing.pem").read_bytes()
        + (VENDOR_A / "intermediate.pem").read_bytes()
    )
    line = sign_fails(
        out_dir, statement, "--key", VENDOR_A / "signing.key", "--cert", both
    )
    assert line.startswith(f"error: {both}: ")
    assert "exactly one certificate" in line


def test_cert_that_is_not_a_certificate(statement: Path, out_dir: Path) -> None:
    line = sign_fails(
        out_dir, statement, "--key", VENDOR_A / "signing.key", "--cert",
        VENDOR_A / "signing.key",
    )  # fmt: skip
    assert line.startswith(f"error: {VENDOR_A / 'signing.key'}: ")
    assert "certificate" in line


def test_wrong_passphrase(
    statement: Path,
    out_dir: Path,
    encrypted_key: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, "not it")
    line = sign_fails(out_dir, statement, "--key", encrypted_key)
    assert line.startswith(f"error: {encrypted_key}: ")
    assert "wrong passphrase" in line


def test_encrypted_key_without_passphrase(
    statement: Path, out_dir: Path, encrypted_key: Path
) -> None:
    line = sign_fails(out_dir, statement, "--key", encrypted_key)
    assert line.startswith(f"error: {encrypted_key}: ")
    assert PASSPHRASE_ENV in line


@pytest.mark.parametrize("kind", ["missing", "directory", "not-a-key", "public-key"])
def test_unusable_key_path(
    statement: Path, out_dir: Path, tmp_path: Path, kind: str
) -> None:
    key = {
        "missing": tmp_path / "missing.key",
        "directory": tmp_path,
        "not-a-key": statement,
        "public-key": VENDOR_A / "release.pub",
    }[kind]
    line = sign_fails(out_dir, statement, "--key", key)
    assert line.startswith(f"error: {key}: ")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        pytest.param(b"", "invalid JSON", id="empty"),
        pytest.param(b"not json at all", "invalid JSON", id="garbage"),
        pytest.param(STATEMENT[: len(STATEMENT) // 2], "invalid JSON", id="truncated"),
        pytest.param(
            b'{"_type": "https://in-toto.io/Statement/v1", "_type": "x"}',
            "duplicate key '_type'",
            id="duplicate-key",
        ),
        pytest.param(
            STATEMENT.replace(b'"predicate":{', b'"predicate":{"note":1,'),
            "duplicate key 'note'",
            id="nested-duplicate-key",
        ),
        pytest.param(b"[1, 2]", "expected object", id="array"),
        pytest.param(
            STATEMENT.replace(b"Statement/v1", b"Statement/v0.1"),
            "_type",
            id="wrong-type",
        ),
        pytest.param(
            b'{"_type":"https://in-toto.io/Statement/v1","subject":[],'
            b'"predicateType":"x","predicate":{}}',
            "subject",
            id="no-subjects",
        ),
        pytest.param(b"\xef\xbb\xbf" + STATEMENT, "byte order mark", id="bom"),
    ],
)
def test_malformed_statement(
    out_dir: Path, tmp_path: Path, content: bytes, needle: str
) -> None:
    bad = tmp_path / "bad-statement.json"
    bad.write_bytes(content)
    line = sign_fails(out_dir, bad, "--key", VENDOR_A / "release.key")
    assert line.startswith(f"error: {bad}: ")
    assert needle in line


def test_missing_statement(out_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    line = sign_fails(out_dir, missing, "--key", VENDOR_A / "release.key")
    assert line.startswith(f"error: {missing}: cannot read")


def test_existing_output_needs_force(statement: Path, out_dir: Path) -> None:
    out = out_dir / "s.sigstore.json"
    out.write_bytes(b"precious\n")
    args = [
        "sign",
        str(statement),
        "--key",
        str(VENDOR_A / "release.key"),
        "-o",
        str(out),
    ]
    assert_error(invoke(*args), ExitCode.INVALID_INPUT, str(out), "--force")
    assert out.read_bytes() == b"precious\n"
    assert names(out_dir) == {"s.sigstore.json"}

    assert_ok(invoke(*args, "--force"))
    verify_bundle(load_json(out), load_pub(VENDOR_A / "release.pub"))
    assert names(out_dir) == {"s.sigstore.json"}
