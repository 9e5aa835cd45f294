"""``vendorproof inspect``: what a signed document claims, and malformed inputs."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner, Result

from vendorproof._cli import ExitCode, app

REPO = Path(__file__).resolve().parents[2]
KEYS = REPO / "keys"
ATTESTATIONS = REPO / "fixtures" / "deliveries" / "acme-gnb-24.1.3" / "attestations"
MANIFEST = ATTESTATIONS / "manifest.sigstore.json"
CERTIFICATION = ATTESTATIONS / "certification-nesas.sigstore.json"
DECLARATION = ATTESTATIONS / "declaration.sigstore.json"
VENDORPROOF = Path(sys.executable).with_name("vendorproof")
PAYLOAD_TYPE = "application/vnd.in-toto+json"
MANIFEST_PREDICATE = "https://vendorproof.dev/component-manifest/v1"
SAMPLE_FILES = [
    "images/gnb-du-24.1.3.img",
    "images/gnb-cu-24.1.3.img",
    "containers/oam-agent-24.1.3.tar",
    "config/default-site.yaml",
    "sbom/gnb-24.1.3.cdx.json",
]
#: Wide enough that rich never wraps or truncates a line of the text output.
WIDE = {"COLUMNS": "400"}

runner = CliRunner()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("VENDORPROOF_KEY_PASSPHRASE", "VENDORPROOF_DEBUG"):
        monkeypatch.delenv(var, raising=False)


def invoke(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args], env=WIDE)


def assert_ok(result: Result) -> None:
    assert result.exit_code == ExitCode.OK, (result.stdout, result.stderr)
    assert result.exception is None, result.exception
    assert "Traceback" not in result.output
    assert result.stderr == ""


def assert_error(result: Result, code: int, *needles: str) -> str:
    """Exit ``code`` with one error line on stderr that contains every needle."""
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def run_script(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VENDORPROOF_")}
    return subprocess.run(
        [str(VENDORPROOF), *map(str, args)],
        cwd=cwd,
        env={**env, **WIDE},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def inspect_json(path: Path) -> dict[str, Any]:
    result = invoke("inspect", "--json", path)
    assert_ok(result)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def load_bundle(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_bytes())
    return data


def cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def der_sha256(c: x509.Certificate) -> str:
    return hashlib.sha256(c.public_bytes(serialization.Encoding.DER)).hexdigest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def with_statement(statement: dict[str, Any]) -> dict[str, Any]:
    """The sample manifest bundle carrying another (unsigned) payload."""
    bundle = copy.deepcopy(load_bundle(MANIFEST))
    bundle["dsseEnvelope"]["payload"] = b64(json.dumps(statement).encode())
    return bundle


def statement(name: str = "a.img", ptype: str = "https://x.test/p") -> dict[str, Any]:
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": name, "digest": {"sha256": "ab" * 32}}],
        "predicateType": ptype,
        "predicate": {},
    }


# --------------------------------------------------------------------------- JSON


def test_json_manifest_bundle_with_chain() -> None:
    info = inspect_json(MANIFEST)
    leaf = cert(KEYS / "vendor-a" / "signing.pem")
    intermediate = cert(KEYS / "vendor-a" / "intermediate.pem")
    assert info["file"] == str(MANIFEST)
    assert info["payloadType"] == PAYLOAD_TYPE
    assert info["predicateType"] == MANIFEST_PREDICATE
    assert info["publicKeyHint"] is None
    # The sample manifest carries an RFC 3161 timestamp from the test TSA.
    (stamp,) = info["timestamps"]
    assert stamp["tsa"] == cert(KEYS / "tsa" / "tsa.pem").subject.rfc4514_string()
    assert stamp["hashAlgorithm"] == "sha256"
    certs = info["certificates"]
    assert [c["subject"] for c in certs] == [
        leaf.subject.rfc4514_string(),
        intermediate.subject.rfc4514_string(),
    ]
    assert "CN=Acme Radio Systems Release Signing 2025" in certs[0]["subject"]
    assert certs[0]["issuer"] == intermediate.subject.rfc4514_string()
    assert [c["sha256"] for c in certs] == [der_sha256(leaf), der_sha256(intermediate)]
    assert certs[0]["serial"] == format(leaf.serial_number, "x")
    assert certs[0]["notBefore"] == "2025-01-01T00:00:00Z"
    assert certs[0]["notAfter"] == "2040-01-01T00:00:00Z"
    assert "subjectAltName" not in certs[0]  # code-signing leaves carry no SAN
    assert [s["name"] for s in info["subjects"]] == SAMPLE_FILES
    for s in info["subjects"]:
        assert set(s["digest"]) == {"sha256", "sha512"}
    (sig,) = info["signatures"]
    raw_sig = base64.b64decode(
        load_bundle(MANIFEST)["dsseEnvelope"]["signatures"][0]["sig"]
    )
    assert sig["bytes"] == len(raw_sig)
    leaf_key = leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert sig["keyid"] == hashlib.sha256(leaf_key).hexdigest()


def test_json_certification_bundle_single_certificate() -> None:
    info = inspect_json(CERTIFICATION)
    leaf = cert(KEYS / "certbody" / "signing.pem")
    assert [c["subject"] for c in info["certificates"]] == [
        leaf.subject.rfc4514_string()
    ]
    assert info["predicateType"] == "https://vendorproof.dev/certification/v1"
    assert [s["name"] for s in info["subjects"]] == SAMPLE_FILES[:3]


def test_json_declaration_bundle() -> None:
    info = inspect_json(DECLARATION)
    assert info["predicateType"] == "https://vendorproof.dev/trust-declaration/v1"
    assert [s["name"] for s in info["subjects"]] == ["trust-declaration:acme"]
    assert len(info["certificates"]) == 2


def test_json_bare_dsse(tmp_path: Path) -> None:
    bare = write_json(tmp_path / "m.dsse.json", load_bundle(MANIFEST)["dsseEnvelope"])
    info = inspect_json(bare)
    assert info["certificates"] == []
    assert info["publicKeyHint"] is None
    assert info["timestamps"] == []
    assert info["payloadType"] == PAYLOAD_TYPE
    assert info["predicateType"] == MANIFEST_PREDICATE
    assert [s["name"] for s in info["subjects"]] == SAMPLE_FILES
    assert info["subjects"] == inspect_json(MANIFEST)["subjects"]


def test_json_key_only_bundle(tmp_path: Path) -> None:
    stmt = write_json(tmp_path / "s.json", statement("fw/x.bin"))
    out = tmp_path / "s.sigstore.json"
    key = KEYS / "vendor-a" / "release.key"
    signed = runner.invoke(app, ["sign", str(stmt), "--key", str(key), "-o", str(out)])
    assert signed.exit_code == 0, signed.stderr
    pub = serialization.load_pem_public_key(
        (KEYS / "vendor-a" / "release.pub").read_bytes()
    )
    spki = pub.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    info = inspect_json(out)
    assert info["publicKeyHint"] == hashlib.sha256(spki).hexdigest()
    assert info["certificates"] == []
    assert info["signatures"][0]["bytes"] == 64

    text = invoke("inspect", out)
    assert_ok(text)
    assert f"public key hint: {info['publicKeyHint']}" in text.stdout
    assert "signer:" not in text.stdout


# --------------------------------------------------------------------------- text


def test_text_manifest_bundle() -> None:
    result = invoke("inspect", MANIFEST)
    assert_ok(result)
    out = result.stdout
    leaf = cert(KEYS / "vendor-a" / "signing.pem")
    intermediate = cert(KEYS / "vendor-a" / "intermediate.pem")
    assert str(MANIFEST) in out
    assert "not verified" in out
    assert f"predicate type: {MANIFEST_PREDICATE}" in out
    assert f"signer: {leaf.subject.rfc4514_string()}" in out
    assert f"intermediate: {intermediate.subject.rfc4514_string()}" in out
    assert f"sha256 {der_sha256(leaf)}" in out
    assert "timestamp: 20" in out
    assert "Example Time Stamping Authority TSU 2025" in out
    assert "5 subjects" in out
    manifest_info = inspect_json(MANIFEST)
    for s in manifest_info["subjects"]:
        assert s["name"] in out
        assert s["digest"]["sha256"] in out  # wide enough not to be truncated
    assert out.index("signer:") < out.index("intermediate:")


def test_text_bare_dsse(tmp_path: Path) -> None:
    bare = write_json(tmp_path / "m.dsse.json", load_bundle(MANIFEST)["dsseEnvelope"])
    result = invoke("inspect", bare)
    assert_ok(result)
    assert "signer:" not in result.stdout
    assert "public key hint" not in result.stdout
    assert f"predicate type: {MANIFEST_PREDICATE}" in result.stdout
    assert "images/gnb-du-24.1.3.img" in result.stdout


def test_console_script(tmp_path: Path) -> None:
    ok = run_script("inspect", MANIFEST, cwd=tmp_path)
    assert ok.returncode == ExitCode.OK, ok.stderr
    assert ok.stderr == ""
    assert "Acme Radio Systems Release Signing 2025" in ok.stdout

    as_json = run_script("inspect", "--json", CERTIFICATION, cwd=tmp_path)
    assert as_json.returncode == ExitCode.OK, as_json.stderr
    assert json.loads(as_json.stdout)["predicateType"].endswith("/certification/v1")

    garbage = tmp_path / "garbage.sigstore.json"
    garbage.write_bytes(b"\x00\x01 not json")
    bad = run_script("inspect", garbage, cwd=tmp_path)
    assert bad.returncode == ExitCode.INVALID_INPUT
    assert "Traceback" not in bad.stderr
    assert bad.stderr.count("\n") == 1
    assert bad.stderr.startswith(f"error: {garbage}: ")
    assert bad.stdout == ""


# --------------------------------------------------------------------------- errors


Mutation = Callable[[dict[str, Any]], None]


def _set(path: tuple[str | int, ...], value: Any) -> Mutation:
    def mutate(d: dict[str, Any]) -> None:
        target: Any = d
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _delete(*path: str) -> Mutation:
    def mutate(d: dict[str, Any]) -> None:
        target: Any = d
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


CHAIN = ("verificationMaterial", "x509CertificateChain", "certificates")


@pytest.mark.parametrize(
    ("mutate", "needles"),
    [
        pytest.param(
            _set(("dsseEnvelope", "payloadType"), "text/plain"),
            ["dsseEnvelope.payloadType", "'text/plain'"],
            id="wrong-payloadType",
        ),
        pytest.param(
            _set(("dsseEnvelope", "payload"), "!!not*base64$$"),
            ["dsseEnvelope.payload", "invalid base64"],
            id="payload-base64-garbage",
        ),
        pytest.param(
            _set(("dsseEnvelope", "signatures", 0, "sig"), "%%%"),
            ["dsseEnvelope.signatures[0].sig", "invalid base64"],
            id="sig-base64-garbage",
        ),
        pytest.param(
            _set((*CHAIN, 0, "rawBytes"), "@@@"),
            ["x509CertificateChain.certificates[0].rawBytes", "invalid base64"],
            id="cert-base64-garbage",
        ),
        pytest.param(
            _set((*CHAIN, 1, "rawBytes"), b64(b"not a certificate")),
            ["x509CertificateChain.certificates[1].rawBytes", "X.509"],
            id="cert-not-der",
        ),
        pytest.param(
            _set(("dsseEnvelope", "payload"), b64(b"not json")),
            ["dsseEnvelope.payload", "invalid JSON"],
            id="payload-not-json",
        ),
        pytest.param(
            _set(("dsseEnvelope", "payload"), b64(b'{"_type": "x"}')),
            ["dsseEnvelope.payload._type", "unsupported statement type"],
            id="payload-not-a-statement",
        ),
        pytest.param(
            _set(("dsseEnvelope", "signatures"), []),
            ["dsseEnvelope.signatures", "must not be empty"],
            id="no-signatures",
        ),
        pytest.param(
            _set(("mediaType",), "application/vnd.dev.sigstore.bundle+json;version=9"),
            ["mediaType", "unsupported bundle media type"],
            id="unknown-media-type",
        ),
        pytest.param(
            _set(("mediaType",), "application/vnd.dev.sigstore.bundle.v0.3+json"),
            ["x509CertificateChain", "v0.3"],
            id="chain-in-v0.3",
        ),
        pytest.param(
            _delete("verificationMaterial", "x509CertificateChain"),
            ["verificationMaterial", "exactly one of"],
            id="no-verification-material",
        ),
        pytest.param(
            _set(
                ("verificationMaterial", "timestampVerificationData"),
                {"rfc3161Timestamps": [{"signedTimestamp": "***"}]},
            ),
            ["rfc3161Timestamps[0].signedTimestamp", "invalid base64"],
            id="timestamp-base64-garbage",
        ),
        pytest.param(
            _set(("messageSignature",), {"signature": "AA=="}),
            ["exactly one of dsseEnvelope or messageSignature"],
            id="dsse-and-message-signature",
        ),
    ],
)
def test_malformed_bundle(tmp_path: Path, mutate: Mutation, needles: list[str]) -> None:
    bundle = copy.deepcopy(load_bundle(MANIFEST))
    mutate(bundle)
    bad = write_json(tmp_path / "bad.sigstore.json", bundle)
    result = invoke("inspect", bad)
    line = assert_error(result, ExitCode.INVALID_INPUT, *needles)
    assert line.startswith(f"error: {bad}: ")
    # --json fails the same way.
    assert (
        assert_error(invoke("inspect", "--json", bad), ExitCode.INVALID_INPUT) == line
    )


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        pytest.param(b"", "invalid JSON", id="empty"),
        pytest.param(b"hello", "invalid JSON", id="non-json"),
        pytest.param(MANIFEST.read_bytes()[:700], "invalid JSON", id="truncated"),
        pytest.param(b"\xff\xfe{}", "UTF-8", id="not-utf8"),
        pytest.param(b"[1, 2]", "expected object", id="array"),
        pytest.param(b'{"foo": 1}', "neither a Sigstore bundle", id="unknown-object"),
        pytest.param(
            b'{"mediaType": "a", "mediaType": "b"}', "duplicate key", id="dup-key"
        ),
        pytest.param(
            b'{"payloadType": "text/plain", "payload": "", "signatures": '
            b'[{"sig": "AA=="}]}',
            "unsupported payloadType 'text/plain'",
            id="bare-dsse-wrong-payloadType",
        ),
        pytest.param(
            b'{"payloadType": "application/vnd.in-toto+json", "payload": "###", '
            b'"signatures": [{"sig": "AA=="}]}',
            "payload: invalid base64",
            id="bare-dsse-base64-garbage",
        ),
    ],
)
def test_malformed_file(tmp_path: Path, content: bytes, needle: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    line = assert_error(invoke("inspect", bad), ExitCode.INVALID_INPUT, needle)
    assert line.startswith(f"error: {bad}: ")


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sigstore.json"
    line = assert_error(invoke("inspect", missing), ExitCode.INVALID_INPUT)
    assert line == f"error: {missing}: cannot read: No such file or directory"


def test_directory(tmp_path: Path) -> None:
    line = assert_error(invoke("inspect", tmp_path), ExitCode.INVALID_INPUT)
    assert line == f"error: {tmp_path}: not a regular file"


def test_timestamp_that_is_not_der_names_the_file(tmp_path: Path) -> None:
    bundle = copy.deepcopy(load_bundle(MANIFEST))
    bundle["verificationMaterial"]["timestampVerificationData"] = {
        "rfc3161Timestamps": [{"signedTimestamp": b64(b"not a timestamp")}]
    }
    bad = write_json(tmp_path / "bad.sigstore.json", bundle)
    line = assert_error(invoke("inspect", bad), ExitCode.INVALID_INPUT)
    assert line.startswith(f"error: {bad}: ")
    assert "rfc3161Timestamps[0]" in line


def test_timestamp_that_is_not_der_is_invalid_input(tmp_path: Path) -> None:
    bundle = copy.deepcopy(load_bundle(MANIFEST))
    bundle["verificationMaterial"]["timestampVerificationData"] = {
        "rfc3161Timestamps": [{"signedTimestamp": b64(b"not a timestamp")}]
    }
    bad = write_json(tmp_path / "bad.sigstore.json", bundle)
    assert_error(invoke("inspect", bad), ExitCode.INVALID_INPUT, "RFC 3161")


# ----------------------------------------------------- untrusted text is shown verbatim


def test_subject_names_are_shown_in_json_verbatim(tmp_path: Path) -> None:
    names = ["[/evil]", "images/[bold]du.img"]
    stmt = statement(names[0])
    stmt["subject"].append({"name": names[1], "digest": {"sha256": "cd" * 32}})
    doc = write_json(tmp_path / "x.sigstore.json", with_statement(stmt))
    assert [s["name"] for s in inspect_json(doc)["subjects"]] == names


@pytest.mark.parametrize(
    ("stmt", "shown"),
    [
        pytest.param(statement(name="[/evil]"), "[/evil]", id="subject-closing-tag"),
        pytest.param(
            statement(name="images/[bold]du.img"),
            "images/[bold]du.img",
            id="subject-markup-hidden",
        ),
        pytest.param(
            statement(ptype="https://x.test/[/p]"), "[/p]", id="predicateType"
        ),
    ],
)
def test_text_shows_untrusted_strings_verbatim(
    tmp_path: Path, stmt: dict[str, Any], shown: str
) -> None:
    doc = write_json(tmp_path / "x.sigstore.json", with_statement(stmt))
    result = invoke("inspect", doc)
    assert_ok(result)
    assert shown in result.stdout


def test_text_shows_untrusted_keyid_verbatim(tmp_path: Path) -> None:
    bundle = copy.deepcopy(load_bundle(MANIFEST))
    bundle["dsseEnvelope"]["signatures"][0]["keyid"] = "[/k]"
    doc = write_json(tmp_path / "x.sigstore.json", bundle)
    result = invoke("inspect", doc)
    assert_ok(result)
    assert "keyid [/k]" in result.stdout
