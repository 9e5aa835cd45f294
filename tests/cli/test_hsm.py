"""Operator and vendor keys in a PKCS#11 token: a real SoftHSM2 token made for the tests.

SoftHSM2 reads SOFTHSM2_CONF once per process (at C_Initialize), so one token serves the
whole module; it holds Ed25519, ECDSA P-256 / P-384 and RSA 2048 keys generated inside
the token (and an RSA 1024 key, which vendorproof refuses).
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pkcs11
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import NoDigestInfo, Prehashed
from pkcs11.util.ec import encode_named_curve_parameters

from tests.builders import SAMPLE_AT_TEXT, SAMPLE_DELIVERY, SAMPLE_POLICY
from tests.cli.support import assert_error, assert_ok, invoke, run_script
from tests.cli.test_sign import STATEMENT, load_json, load_pub, verify_bundle
from vendorproof._cli import ExitCode
from vendorproof._internal import crypto, hsm
from vendorproof.errors import InvalidInputError

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
LABEL = "vendorproof-test"
PIN = "4711"


def uri(label: str, *, pin: str = PIN, token: str = LABEL) -> str:
    return f"pkcs11:token={token};object={label}?pin-value={pin}&module-path={MODULE}"


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Init a token, generate the keys in it; return the public key PEM files."""
    util = shutil.which("softhsm2-util")
    assert util is not None, "softhsm2 is not installed (apt-get install softhsm2)"
    assert MODULE.is_file(), f"{MODULE} missing (apt-get install softhsm2)"
    tmp = tmp_path_factory.mktemp("softhsm")
    (tmp / "tokens").mkdir()
    conf = tmp / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tmp / 'tokens'}\nobjectstore.backend = file\n"
    )
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        [util, "--init-token", "--free", "--label", LABEL, "--pin", PIN,
         "--so-pin", "0815"],
        check=True, capture_output=True,
    )  # fmt: skip
    lib = pkcs11.lib(str(MODULE))
    curves = {
        "ed": (pkcs11.KeyType.EC_EDWARDS, "1.3.101.112"),
        "p256": (pkcs11.KeyType.EC, "secp256r1"),
        "p384": (pkcs11.KeyType.EC, "secp384r1"),
    }
    with lib.get_token(token_label=LABEL).open(rw=True, user_pin=PIN) as session:
        for label, (kind, curve) in curves.items():
            params = session.create_domain_parameters(
                kind,
                {pkcs11.Attribute.EC_PARAMS: encode_named_curve_parameters(curve)},
                local=True,
            )
            params.generate_keypair(store=True, label=label, id=label.encode())
        for label, bits in (("rsa", 2048), ("rsa1024", 1024)):
            session.generate_keypair(
                pkcs11.KeyType.RSA, bits, store=True, label=label, id=label.encode()
            )
    pubs = {}
    for label in [*curves, "rsa"]:
        pem = (
            hsm.load_key(uri(label))
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM,
                serialization.PublicFormat.SubjectPublicKeyInfo,
            )
        )
        pubs[label] = tmp / f"{label}.pub"
        pubs[label].write_bytes(pem)
    return pubs


@pytest.mark.parametrize("label", ["ed", "p256", "rsa"])
def test_an_intake_signed_in_the_token_replays(
    token: dict[str, Path], tmp_path: Path, label: str
) -> None:
    db = tmp_path / "evidence.db"
    assert_ok(
        invoke(
            "intake", SAMPLE_DELIVERY, "--policy", SAMPLE_POLICY,
            "--operator-key", uri(label), "--store", db, "--at", SAMPLE_AT_TEXT,
        )
    )  # fmt: skip
    ok = invoke("audit", "replay", "--store", db, "--operator-pub", token[label])
    assert ok.exit_code == ExitCode.OK, ok.stdout
    assert "1 records replayed, 0 failed" in ok.stdout
    other = token["p256" if label == "ed" else "ed"]
    bad = invoke("audit", "replay", "--store", db, "--operator-pub", other)
    assert bad.exit_code != ExitCode.OK, bad.stdout


def test_a_checkpoint_signed_in_the_token_verifies(
    token: dict[str, Path], tmp_path: Path
) -> None:
    db = tmp_path / "evidence.db"
    assert_ok(
        invoke(
            "intake", SAMPLE_DELIVERY, "--policy", SAMPLE_POLICY,
            "--operator-key", uri("ed"), "--store", db, "--at", SAMPLE_AT_TEXT,
        )
    )  # fmt: skip
    cp = tmp_path / "now.cp"
    assert_ok(invoke("log", "checkpoint", "--store", db, "--key", uri("ed"), "-o", cp))
    assert_ok(invoke("audit", "verify-checkpoint", cp, "--operator-pub", token["ed"]))
    result = invoke("audit", "verify-checkpoint", cp, "--operator-pub", token["p256"])
    assert result.exit_code != ExitCode.OK


@pytest.mark.parametrize(
    ("key", "needle"),
    [
        (uri("ed", token="no-such-token"), "no token with this label"),
        (uri("missing"), "no private key with this label"),
        ("pkcs11:token=x;objekt=y", "unsupported path attribute 'objekt'"),
        ("pkcs11:token=x", "names no key"),
        ("pkcs11:object=x", "names no token"),
        ("pkcs11:token=x;token=y;object=z", "appears twice"),
        ("pkcs11:token=x;object=y;type=public", "type must be 'private'"),
        ("pkcs11:token=x;object=y?pin-value=1&module-path=/no/such.so", "/no/such.so"),
        ("pkcs11:token=x;object=y?pin-value=1", "VENDORPROOF_PKCS11_MODULE"),
        (f"pkcs11:token=x;object=y?module-path={MODULE}", "VENDORPROOF_PKCS11_PIN"),
    ],
)
def test_bad_token_keys_are_one_line_errors(
    token: dict[str, Path], tmp_path: Path, key: str, needle: str
) -> None:
    del token
    result = invoke(
        "intake", SAMPLE_DELIVERY, "--policy", SAMPLE_POLICY,
        "--operator-key", key, "--store", tmp_path / "e.db", "--at", SAMPLE_AT_TEXT,
        env={"VENDORPROOF_PKCS11_PIN": None, "VENDORPROOF_PKCS11_MODULE": None},
    )  # fmt: skip
    line = assert_error(result, ExitCode.INVALID_INPUT, needle)
    assert "pin-value" not in line or "add pin-value" in line


def test_a_wrong_pin_is_refused_by_the_token(
    token: dict[str, Path], tmp_path: Path
) -> None:
    del token
    env = {"SOFTHSM2_CONF": os.environ["SOFTHSM2_CONF"]}
    args = ("log", "checkpoint", "--store", tmp_path / "e.db", "--key")
    wrong = run_script(*args, uri("ed", pin="0000"), cwd=tmp_path, env=env)
    assert wrong.returncode == ExitCode.INVALID_INPUT, wrong.stderr
    assert wrong.stderr.strip().splitlines() == [
        f"error: pkcs11:token={LABEL};object=ed: wrong PIN for the token"
    ]
    assert "0000" not in wrong.stderr
    # The same PIN and module from the environment instead of the URI.
    env |= {"VENDORPROOF_PKCS11_PIN": "0000", "VENDORPROOF_PKCS11_MODULE": str(MODULE)}
    key = f"pkcs11:token={LABEL};object=ed"
    again = run_script(*args, key, cwd=tmp_path, env=env)
    assert again.returncode == ExitCode.INVALID_INPUT, again.stderr
    assert "wrong PIN" in again.stderr
    # In process, a token already open with another PIN is not reused.
    result = invoke(*args, uri("ed", pin="0000"))
    assert_error(result, ExitCode.INVALID_INPUT, "wrong PIN")


@pytest.mark.parametrize("label", ["ed", "p256", "rsa"])
def test_the_vendor_signs_with_a_token_key(
    token: dict[str, Path], tmp_path: Path, label: str
) -> None:
    statement = tmp_path / "statement.json"
    statement.write_bytes(STATEMENT)
    out = tmp_path / "s.sigstore.json"
    assert_ok(invoke("sign", statement, "--key", uri(label), "-o", out))
    verify_bundle(load_json(out), load_pub(token[label]))  # checked by cryptography


def test_keys_by_id_and_serial_sign_like_file_keys(token: dict[str, Path]) -> None:
    serial = bytes(pkcs11.lib(str(MODULE)).get_token(token_label=LABEL).serial)
    by_id = f"pkcs11:serial={serial.decode()};id=%70%33%38%34;type=private"
    key = hsm.load_key(f"{by_id}?pin-value={PIN}&module-path={MODULE}")
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    pem = token["p384"].read_bytes()
    assert crypto.public_der(key.public_key()) == crypto.public_der(
        crypto.load_public_key(pem, file="p384.pub")
    )
    for data in (b"", b"record" * 1000):
        assert crypto.verify(key.public_key(), crypto.sign(key, data), data) == (
            "ecdsa-p384-sha384"
        )
    ed = hsm.load_key(uri("ed"))
    assert crypto.verify(ed.public_key(), crypto.sign(ed, b"x"), b"x") == "ed25519"


def test_a_token_key_never_exports(token: dict[str, Path]) -> None:
    del token
    ed = hsm.load_key(uri("ed"))
    p256 = hsm.load_key(uri("p256"))
    assert isinstance(ed, ed25519.Ed25519PrivateKey)
    assert isinstance(p256, ec.EllipticCurvePrivateKey)
    pem, pkcs8 = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    none = serialization.NoEncryption()
    refusals: list[Callable[[], object]] = [
        lambda: ed.private_bytes(pem, pkcs8, none),
        ed.private_bytes_raw,
        lambda: p256.private_bytes(pem, pkcs8, none),
        p256.private_numbers,
        lambda: p256.exchange(ec.ECDH(), p256.public_key()),
        lambda: p256.sign(b"x", ec.ECDSA(hashes.SHA512())),
    ]
    for refuse in refusals:
        with pytest.raises(InvalidInputError):
            refuse()
    assert copy.copy(ed) is ed
    assert copy.deepcopy(p256) is p256


def test_an_rsa_token_key_signs_pss_that_openssl_verifies(
    token: dict[str, Path], tmp_path: Path
) -> None:
    key = hsm.load_key(uri("rsa"))
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 2048
    data = b"record" * 1000
    sig = crypto.sign(key, data)
    assert crypto.verify(key.public_key(), sig, data) == "rsa-pss-sha256"
    # An independent verifier: OpenSSL, RSASSA-PSS with SHA-256, MGF1-SHA-256, salt 32.
    (tmp_path / "data").write_bytes(data)
    (tmp_path / "sig").write_bytes(sig)
    openssl = [
        "openssl", "dgst", "-sha256", "-verify", str(token["rsa"]),
        "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32",
        "-sigopt", "rsa_mgf1_md:sha256", "-signature", str(tmp_path / "sig"),
        str(tmp_path / "data"),
    ]  # fmt: skip
    ok = subprocess.run(openssl, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    (tmp_path / "data").write_bytes(data + b"x")
    bad = subprocess.run(openssl, capture_output=True, text=True, check=False)
    assert bad.returncode != 0
    # A digest computed beforehand signs the same way.
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    pre = key.sign(digest.finalize(), pss, Prehashed(hashes.SHA256()))
    assert crypto.verify(key.public_key(), pre, data) == "rsa-pss-sha256"


def test_an_rsa_token_key_refuses_other_schemes(token: dict[str, Path]) -> None:
    del token
    key = hsm.load_key(uri("rsa"))
    assert isinstance(key, rsa.RSAPrivateKey)
    sha256 = hashes.SHA256()
    mgf = padding.MGF1(sha256)
    pem, pkcs8 = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    refusals: list[Callable[[], object]] = [
        lambda: key.sign(b"x", padding.PKCS1v15(), sha256),
        lambda: key.sign(b"x", padding.PSS(mgf=mgf, salt_length=20), sha256),
        lambda: key.sign(
            b"x", padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=32), sha256
        ),
        lambda: key.sign(b"x", padding.PSS(mgf=mgf, salt_length=32), hashes.SHA384()),
        lambda: key.sign(
            b"x" * 48, padding.PSS(mgf=mgf, salt_length=32), Prehashed(hashes.SHA384())
        ),
        lambda: key.sign(b"x", padding.PSS(mgf=mgf, salt_length=32), NoDigestInfo()),
        lambda: key.decrypt(b"x", padding.PKCS1v15()),
        key.private_numbers,
        lambda: key.private_bytes(pem, pkcs8, serialization.NoEncryption()),
    ]
    for refuse in refusals:
        with pytest.raises(InvalidInputError):
            refuse()
    assert copy.copy(key) is key
    assert copy.deepcopy(key) is key


def test_rsa_token_keys_below_2048_bits_and_rsa_checkpoints_are_refused(
    token: dict[str, Path], tmp_path: Path
) -> None:
    del token
    with pytest.raises(InvalidInputError, match="below the minimum of 2048"):
        hsm.load_key(uri("rsa1024"))
    db = tmp_path / "evidence.db"
    assert_ok(
        invoke(
            "intake", SAMPLE_DELIVERY, "--policy", SAMPLE_POLICY,
            "--operator-key", uri("rsa"), "--store", db, "--at", SAMPLE_AT_TEXT,
        )
    )  # fmt: skip
    # Records signed with RSA, but checkpoints are Ed25519 signed notes (C2SP).
    result = invoke("log", "checkpoint", "--store", db, "--key", uri("rsa"))
    assert_error(result, ExitCode.INVALID_INPUT, "signed with Ed25519 keys")
    result = invoke("log", "checkpoint", "--store", db)
    assert_error(result, ExitCode.INVALID_INPUT, "no checkpoint of the current size 1")
    assert_ok(invoke("log", "checkpoint", "--store", db, "--key", uri("ed")))


def test_a_witness_cosigns_with_a_token_key(
    token: dict[str, Path], tmp_path: Path
) -> None:
    db = tmp_path / "evidence.db"
    assert_ok(
        invoke(
            "intake", SAMPLE_DELIVERY, "--policy", SAMPLE_POLICY,
            "--operator-key", uri("ed"), "--store", db, "--at", SAMPLE_AT_TEXT,
        )
    )  # fmt: skip
    cp = tmp_path / "now.cp"
    assert_ok(invoke("log", "checkpoint", "--store", db, "-o", cp))
    name = "regulator.example/w1"
    vkey = invoke("log", "vkey", "--key", uri("ed"), "--name", name)
    assert_ok(vkey)
    cosigned = tmp_path / "cosigned.cp"
    assert_ok(
        invoke(
            "log", "witness", cp, "--key", uri("ed"), "--name", name,
            "--operator-pub", token["ed"], "--state", tmp_path / "w.state",
            "-o", cosigned,
        )
    )  # fmt: skip
    result = invoke(
        "audit", "verify-checkpoint", cosigned, "--operator-pub", token["ed"],
        "--witness", vkey.stdout.strip(),
    )  # fmt: skip
    assert_ok(result)
    assert f"cosigned by: {name}" in result.stdout
    # An ECDSA token key is no witness key (cosignatures are Ed25519).
    result = invoke("log", "vkey", "--key", uri("p256"), "--name", name)
    assert_error(result, ExitCode.INVALID_INPUT, "a witness key is an Ed25519 key")
