"""``vendorproof keys generate``: key types, passphrases, refusal to overwrite."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from tests.cli.support import (
    assert_error,
    assert_ok,
    assert_usage_error,
    invoke,
    names,
    run_script,
)
from vendorproof._cli import ExitCode

PASSPHRASE_ENV = "VENDORPROOF_KEY_PASSPHRASE"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (PASSPHRASE_ENV, "VENDORPROOF_DEBUG"):
        monkeypatch.delenv(var, raising=False)


def spki_der(key: object) -> bytes:
    assert isinstance(
        key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
    )
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


KEY_TYPES = [
    pytest.param("ed25519", ed25519.Ed25519PrivateKey, None, id="ed25519"),
    pytest.param("ecdsa-p256", ec.EllipticCurvePrivateKey, 256, id="p256"),
    pytest.param("ecdsa-p384", ec.EllipticCurvePrivateKey, 384, id="p384"),
    pytest.param("rsa-3072", rsa.RSAPrivateKey, 3072, id="rsa3072"),
]


@pytest.mark.parametrize(("key_type", "cls", "bits"), KEY_TYPES)
def test_generate_unencrypted(
    tmp_path: Path, key_type: str, cls: type, bits: int | None
) -> None:
    result = invoke(
        "keys", "generate", "--type", key_type, "--out", tmp_path / "k",
        "--no-passphrase",
    )  # fmt: skip
    assert_ok(result)
    key_file, pub_file = tmp_path / "k.key", tmp_path / "k.pub"
    assert names(tmp_path) == {"k.key", "k.pub"}

    key_pem = key_file.read_bytes()
    assert key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8, clear
    private = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(private, cls)
    if isinstance(private, ec.EllipticCurvePrivateKey):
        assert private.curve.key_size == bits
    if isinstance(private, rsa.RSAPrivateKey):
        assert private.key_size == bits

    pub_pem = pub_file.read_bytes()
    assert pub_pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    public = serialization.load_pem_public_key(pub_pem)
    assert spki_der(public) == spki_der(private.public_key())

    # The key id printed is the SHA-256 of the SubjectPublicKeyInfo DER.
    assert hashlib.sha256(spki_der(public)).hexdigest() in result.stdout
    # The private key is readable by its owner only.
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_generate_with_passphrase_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse")
    assert_ok(
        invoke("keys", "generate", "--type", "ecdsa-p256", "--out", tmp_path / "k")
    )
    key_pem = (tmp_path / "k.key").read_bytes()
    assert key_pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(key_pem, password=None)
    with pytest.raises(ValueError, match=r"(?i)password|decrypt"):
        serialization.load_pem_private_key(key_pem, password=b"wrong")
    private = serialization.load_pem_private_key(key_pem, password=b"correct horse")
    public = serialization.load_pem_public_key((tmp_path / "k.pub").read_bytes())
    assert spki_der(public) == spki_der(private.public_key())


def test_no_passphrase_available_is_invalid_input(tmp_path: Path) -> None:
    # No environment variable and stdin is not a terminal: nothing to ask.
    result = invoke("keys", "generate", "--type", "ed25519", "--out", tmp_path / "k")
    assert_error(result, ExitCode.INVALID_INPUT, "passphrase", "--no-passphrase")
    assert names(tmp_path) == set()


def test_no_passphrase_available_console_script(tmp_path: Path) -> None:
    proc = run_script(
        "keys", "generate", "--type", "ed25519", "--out", "k", cwd=tmp_path
    )
    assert proc.returncode == ExitCode.INVALID_INPUT, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("error: ")
    assert PASSPHRASE_ENV in proc.stderr
    assert names(tmp_path) == set()


def test_console_script_generates_with_env_passphrase(tmp_path: Path) -> None:
    proc = run_script(
        "keys", "generate", "--type", "ed25519", "--out", "k",
        cwd=tmp_path, env={PASSPHRASE_ENV: "s3cret"},
    )  # fmt: skip
    assert proc.returncode == ExitCode.OK, proc.stderr
    assert proc.stderr == ""
    key = serialization.load_pem_private_key(
        (tmp_path / "k.key").read_bytes(), password=b"s3cret"
    )
    assert isinstance(key, ed25519.Ed25519PrivateKey)


@pytest.mark.parametrize("key_type", ["dsa", "rsa-1024", "ECDSA-P256", ""])
def test_unknown_type_is_a_usage_error(tmp_path: Path, key_type: str) -> None:
    result = invoke(
        "keys", "generate", "--type", key_type, "--out", tmp_path / "k",
        "--no-passphrase",
    )  # fmt: skip
    assert_usage_error(result, "--type", repr(key_type), "ed25519")
    assert names(tmp_path) == set()


@pytest.mark.parametrize("existing", ["k.key", "k.pub"])
def test_existing_output_is_kept_without_force(tmp_path: Path, existing: str) -> None:
    (tmp_path / existing).write_bytes(b"precious\n")
    result = invoke(
        "keys", "generate", "--type", "ed25519", "--out", tmp_path / "k",
        "--no-passphrase",
    )  # fmt: skip
    assert_error(result, ExitCode.INVALID_INPUT, existing, "--force")
    assert (tmp_path / existing).read_bytes() == b"precious\n"
    # Neither half of the pair was written, and no temporary file is left.
    assert names(tmp_path) == {existing}


def test_force_overwrites(tmp_path: Path) -> None:
    args = ["keys", "generate", "--type", "ed25519", "--out", str(tmp_path / "k")]
    assert_ok(invoke(*args, "--no-passphrase"))
    first = (tmp_path / "k.key").read_bytes()
    assert_ok(invoke(*args, "--no-passphrase", "--force"))
    second = (tmp_path / "k.key").read_bytes()
    assert second != first
    private = serialization.load_pem_private_key(second, password=None)
    public = serialization.load_pem_public_key((tmp_path / "k.pub").read_bytes())
    assert spki_der(public) == spki_der(private.public_key())
    assert names(tmp_path) == {"k.key", "k.pub"}


def test_missing_output_directory_is_invalid_input(tmp_path: Path) -> None:
    result = invoke(
        "keys", "generate", "--type", "ed25519", "--out", tmp_path / "nope" / "k",
        "--no-passphrase",
    )  # fmt: skip
    assert_error(result, ExitCode.INVALID_INPUT, str(tmp_path / "nope" / "k.key"))
    assert names(tmp_path) == set()


def test_missing_required_option_is_usage_error(tmp_path: Path) -> None:
    result = invoke("keys", "generate", "--out", tmp_path / "k", "--no-passphrase")
    assert result.exit_code == ExitCode.USAGE
    assert "--type" in result.stderr
    assert "Traceback" not in result.output
