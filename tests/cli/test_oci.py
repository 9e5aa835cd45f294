"""OCI image layouts through the CLI: verify, intake and audit replay.

The layout is the Notary Project's (tests/assets/notation) with its real JWS
signature attached as an OCI 1.1 referrer; the policy pins the signer's certificate.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

from tests.builders import KEYS, policy_data, write_policy
from tests.oci import ASSETS, INDEX, REAL_LAYOUT, REAL_MANIFEST, Layout, tar_layout
from vendorproof._cli import ExitCode, app

runner = CliRunner()
OP_KEY = KEYS / "operator" / "intake.key"
OP_PUB = KEYS / "operator" / "intake.pub"
AT = "2026-01-01T00:00:00Z"  # inside the signer's validity (2000-2123)


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def signed_layout(tmp_path: Path, *, vendor: str = "notary") -> Path:
    root = tmp_path / "layout"
    shutil.copytree(REAL_LAYOUT, root)
    for p in root.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    index = json.loads((root / "index.json").read_text())
    index["manifests"][0]["annotations"]["org.opencontainers.image.vendor"] = vendor
    index["manifests"][0]["annotations"]["org.opencontainers.image.title"] = "alpine"
    layout = Layout(root, index["manifests"])
    layout.add_referrer(
        REAL_MANIFEST,
        (ASSETS / "jws_signature.sig").read_bytes(),
        "application/jose+json",
    )
    assert INDEX  # the index keeps its media type
    return root


def policy(tmp_path: Path) -> Path:
    jws = json.loads((ASSETS / "jws_signature.sig").read_text())
    cert = x509.load_der_x509_certificate(base64.b64decode(jws["header"]["x5c"][0]))
    pem = tmp_path / "alpine.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    data = policy_data()
    data["algorithms"]["minRsaBits"] = 2048
    data["trustDeclaration"] = "optional"
    data["certification"] = {"requirements": []}
    data["unlistedFiles"] = "warn"
    data["vendors"].append(
        {
            "id": "notary",
            "name": "Notary Project test signer",
            "anchors": [str(pem)],
            "identities": [{"subject": "CN=alpine,O=Notary,L=Seattle,ST=WA,C=US"}],
        }
    )
    return write_policy(tmp_path / "policy.yaml", data)


def verify(layout: Path, pol: Path) -> tuple[int, dict[str, object]]:
    code, out, err = invoke(
        "verify", layout, "--policy", pol, "--at", AT, "--format", "json"
    )
    return code, json.loads(out) if out.strip() else {"stderr": err}


def checks(report: dict[str, object]) -> dict[tuple[str, str], str]:
    found = report["checks"]
    assert isinstance(found, list)
    return {(c["check"], c["subject"]): c["outcome"] for c in found}


@pytest.mark.parametrize("as_tar", [False, True])
def test_signed_layout_verifies(tmp_path: Path, as_tar: bool) -> None:
    root = signed_layout(tmp_path)
    target = tar_layout(root, tmp_path / "image.tar") if as_tar else root
    code, report = verify(target, policy(tmp_path))
    assert code == ExitCode.OK, report
    got = checks(report)
    layer = (
        "blobs/sha256/63b65145d645c1250c391b2d16ebe53b3747c295ca8ba2fcb6b0cf064a4dc21c"
    )
    assert got[("integrity", layer)] == "pass"
    assert "pass" in {v for (c, _), v in got.items() if c == "target-artifact"}
    assert report["delivery"]["format"] == "oci"  # type: ignore[index]


def test_tampered_layer_fails_integrity(tmp_path: Path) -> None:
    root = signed_layout(tmp_path)
    layer = (
        root
        / "blobs/sha256/63b65145d645c1250c391b2d16ebe53b3747c295ca8ba2fcb6b0cf064a4dc21c"
    )
    data = bytearray(layer.read_bytes())
    data[100] ^= 1
    layer.write_bytes(bytes(data))
    code, report = verify(root, policy(tmp_path))
    assert code == ExitCode.VERIFICATION_FAILED
    assert "fail" in {
        v
        for (c, s), v in checks(report).items()
        if c == "integrity" and s.endswith("4dc21c")
    }


def test_layout_signed_by_no_trusted_vendor_fails(tmp_path: Path) -> None:
    root = signed_layout(tmp_path)
    pol = policy(tmp_path)
    data = policy_data()
    other = write_policy(tmp_path / "other.yaml", data)
    assert verify(root, pol)[0] == ExitCode.OK
    code, _ = verify(root, other)
    assert code == ExitCode.VERIFICATION_FAILED


def test_vendor_claim_must_name_the_signer(tmp_path: Path) -> None:
    code, report = verify(signed_layout(tmp_path, vendor="acme"), policy(tmp_path))
    assert code == ExitCode.VERIFICATION_FAILED
    assert "fail" in {
        v for (c, _), v in checks(report).items() if c == "vendor-binding"
    }


def test_intake_and_replay(tmp_path: Path) -> None:
    root = signed_layout(tmp_path)
    pol = policy(tmp_path)
    store = tmp_path / "evidence.db"
    code, _, err = invoke(
        "intake",
        root,
        "--policy",
        pol,
        "--operator-key",
        OP_KEY,
        "--store",
        store,
        "--actor",
        "tester",
        "--at",
        AT,
    )
    assert code == ExitCode.OK, err
    code, out, err = invoke(
        "audit", "replay", "--operator-pub", OP_PUB, "--store", store
    )
    assert code == ExitCode.OK, (out, err)


def test_salvage_keeps_what_can_be_read(tmp_path: Path) -> None:
    from vendorproof.formats.oci import OciFormat

    fmt = OciFormat()
    root = signed_layout(tmp_path)
    saved = fmt.salvage(root)
    assert set(saved.inputs) == {"oci-layout", "index.json"}
    assert saved.errors == ()
    saved = fmt.salvage(tar_layout(root, tmp_path / "x.tar"))
    assert set(saved.inputs) == {"oci-layout", "index.json"}
    (tmp_path / "junk.tar").write_bytes(b"junk")
    assert fmt.salvage(tmp_path / "junk.tar").errors


def test_broken_layout_is_an_input_error(tmp_path: Path) -> None:
    root = signed_layout(tmp_path)
    (root / "index.json").write_text("{")
    code, _, err = invoke("verify", root, "--policy", policy(tmp_path), "--at", AT)
    assert code == ExitCode.INVALID_INPUT
    assert "index.json" in err
