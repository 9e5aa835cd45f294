"""Detached CMS signatures beside the files of a directory delivery, through the CLI.

The vendor signs single files as firmware vendors do (``openssl cms -sign -binary``
with the test PKI's release-signing certificate, the intermediate carried in the
CMS), in PEM (``<file>.cms``) and DER (``<file>.p7s``). The policy's
``detachedSignatures`` rule names the files that need one. ``verify``, ``intake`` and
``audit replay`` run on the delivery; a tampered file, another vendor's signature
and a missing signature each fail ``detached-signature`` on the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.builders import AT_TEXT, FILES, KEYS, DeliveryBuilder, policy_data
from tests.builders import write_policy as _write_policy
from tests.cli.support import assert_ok, invoke
from tests.cms_support import openssl_cms_sign
from vendorproof._cli import ExitCode

OP_KEY = KEYS / "operator" / "intake.key"
OP_PUB = KEYS / "operator" / "intake.pub"


def sign(tmp: Path, data: bytes, vendor: str, *, outform: str = "PEM") -> bytes:
    """``openssl cms -sign`` over ``data`` by ``vendor``'s release-signing key."""
    base = KEYS / vendor
    return openssl_cms_sign(
        tmp,
        data,
        base / "signing.pem",
        base / "signing.key",
        "-certfile",
        str(base / "intermediate.pem"),
        outform=outform,
    )


def delivery(tmp: Path, **signatures: bytes) -> Path:
    """The standard delivery with the given files beside its payload."""
    root = tmp / "delivery"
    DeliveryBuilder(root).standard()
    for name, data in signatures.items():
        (root / name).write_bytes(data)
    return root


def signed(tmp: Path, *, vendor: str = "vendor-a") -> dict[str, bytes]:
    return {
        "images/du.img.cms": sign(tmp, FILES["images/du.img"], vendor),
        "images/cu.img.p7s": sign(tmp, FILES["images/cu.img"], vendor, outform="DER"),
    }


def write_policy(tmp: Path, globs: list[str]) -> Path:
    data: dict[str, Any] = policy_data()
    data["vendors"][0]["detachedSignatures"] = globs
    return _write_policy(tmp / "policy.yaml", data)


def verify(root: Path, policy: Path) -> tuple[int, dict[str, Any]]:
    result = invoke(
        "verify", root, "--policy", policy, "--at", AT_TEXT, "--format", "json"
    )
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def detached(report: dict[str, Any]) -> dict[str, str]:
    return {
        c["subject"]: c["outcome"]
        for c in report["checks"]
        if c["check"] == "detached-signature"
    }


def test_signed_files_verify(tmp_path: Path) -> None:
    root = delivery(tmp_path, **signed(tmp_path))
    code, report = verify(root, write_policy(tmp_path, ["images/*.img"]))
    assert code == ExitCode.OK, [c for c in report["checks"] if c["outcome"] == "fail"]
    assert detached(report) == {"images/du.img": "pass", "images/cu.img": "pass"}
    # The signer checks ran on each signature file, CMS parsed from PEM and DER.
    signature = {
        c["subject"]: c["reason"] for c in report["checks"] if c["check"] == "signature"
    }
    assert "CMS SignedData images/du.img.cms" in signature["images/du.img.cms"]
    assert "CMS SignedData images/cu.img.p7s" in signature["images/cu.img.p7s"]
    chain = [
        c
        for c in report["checks"]
        if c["check"] == "certificate-chain" and c["subject"] == "images/du.img.cms"
    ]
    assert [c["outcome"] for c in chain] == ["pass"]
    # Signature files are inputs (stored at intake), not unlisted payload.
    assert {"images/du.img.cms", "images/cu.img.p7s"} <= set(report["inputs"])
    assert not [c for c in report["checks"] if c["check"] == "unlisted-files" and
                c["outcome"] != "pass"]  # fmt: skip


def test_delivered_signature_is_checked_without_a_rule(tmp_path: Path) -> None:
    root = delivery(tmp_path, **signed(tmp_path))
    code, report = verify(root, write_policy(tmp_path, []))
    assert code == ExitCode.OK
    assert detached(report) == {"images/du.img": "pass", "images/cu.img": "pass"}


@pytest.mark.parametrize("case", ["tampered", "other-vendor", "missing", "garbage"])
def test_bad_signatures_fail_the_file(tmp_path: Path, case: str) -> None:
    sigs = signed(tmp_path)
    if case == "tampered":
        # Signed bytes that are not the delivered file.
        sigs["images/du.img.cms"] = sign(tmp_path, b"patched image", "vendor-a")
    elif case == "other-vendor":
        sigs["images/du.img.cms"] = sign(tmp_path, FILES["images/du.img"], "vendor-b")
    elif case == "missing":
        del sigs["images/du.img.cms"]
    else:
        sigs["images/du.img.cms"] = b"-----BEGIN CMS-----\nAAAA\n-----END CMS-----\n"
    root = delivery(tmp_path, **sigs)
    code, report = verify(root, write_policy(tmp_path, ["images/*.img"]))
    assert code == ExitCode.VERIFICATION_FAILED
    assert detached(report)["images/du.img"] == "fail"
    assert detached(report)["images/cu.img"] == "pass"
    failures = {
        (c["check"], c["subject"]): c["reason"]
        for c in report["checks"]
        if c["outcome"] == "fail"
    }
    check, subject, needle = {
        "tampered": (
            "signature",
            "images/du.img.cms",
            "does not match the signed messageDigest",
        ),
        "other-vendor": ("certificate-chain", "images/du.img.cms", ""),
        "missing": ("detached-signature", "images/du.img", "none delivered"),
        "garbage": ("signature", "images/du.img.cms", "images/du.img.cms"),
    }[case]
    assert needle in failures[check, subject], failures


def test_tampered_file_fails_integrity_and_signature(tmp_path: Path) -> None:
    root = delivery(tmp_path, **signed(tmp_path))
    (root / "images" / "du.img").write_bytes(b"patched" + FILES["images/du.img"])
    code, report = verify(root, write_policy(tmp_path, ["images/*.img"]))
    assert code == ExitCode.VERIFICATION_FAILED
    assert detached(report)["images/du.img"] == "fail"
    integrity = {
        c["subject"]: c["outcome"]
        for c in report["checks"]
        if c["check"] == "integrity"
    }
    assert integrity["images/du.img"] == "fail"


def test_signature_over_an_unlisted_file_fails(tmp_path: Path) -> None:
    extra = b"not in the manifest"
    root = delivery(tmp_path, **signed(tmp_path))
    (root / "images" / "extra.bin").write_bytes(extra)
    (root / "images" / "extra.bin.cms").write_bytes(sign(tmp_path, extra, "vendor-a"))
    code, report = verify(root, write_policy(tmp_path, []))
    assert code == ExitCode.VERIFICATION_FAILED
    assert detached(report)["images/extra.bin.cms"] == "fail"


def test_intake_and_replay(tmp_path: Path) -> None:
    root = delivery(tmp_path, **signed(tmp_path))
    policy = write_policy(tmp_path, ["images/*.img"])
    store = tmp_path / "evidence.db"
    result = invoke(
        "intake", root, "--policy", policy, "--operator-key", OP_KEY,
        "--store", store, "--at", AT_TEXT,
    )  # fmt: skip
    assert_ok(result)
    bad = tmp_path / "bad"
    bad.mkdir()
    sigs = signed(tmp_path, vendor="vendor-b")
    result = invoke(
        "intake", delivery(bad, **sigs), "--policy", policy, "--operator-key",
        OP_KEY, "--store", store, "--at", AT_TEXT,
    )  # fmt: skip
    assert result.exit_code == ExitCode.VERIFICATION_FAILED
    shown = invoke("evidence", "show", "1", "--store", store)
    assert_ok(shown)
    assert "images/du.img.cms" in shown.stdout
    result = invoke(
        "audit", "replay", "--store", store, "--operator-pub", OP_PUB, "--json"
    )
    assert_ok(result)
    replay = json.loads(result.stdout)
    assert [(r["recorded"], r["replayed"]) for r in replay["records"]] == [
        ("PASSED", "PASSED"),
        ("FAILED", "FAILED"),
    ]
    # With the delivery at hand the files are hashed again: the same verdicts.
    result = invoke(
        "audit", "replay", "--store", store, "--operator-pub", OP_PUB,
        "--images", root, "--json", "--all",
    )  # fmt: skip
    assert "Traceback" not in result.output
    assert json.loads(result.stdout)["records"][0]["problems"] == []


def test_signature_digest_other_than_the_manifests(tmp_path: Path) -> None:
    """A signature may use a digest the manifest does not (RFC 5652 §5.3: the
    signer's choice): the file is measured with both, at intake and in replay."""
    # An RSA release-signing certificate under vendor-a's CA (its P-256 key may
    # only be used with SHA-256).
    from tests import pki
    from tests.builders import issued

    leaf = pki.make_leaf(
        "Acme Radio Systems Release Signing RSA",
        issued("vendor-a", "intermediate"),
        org="Acme Radio Systems GmbH",
        key_kind="rsa-3072",
    )
    cert, key = tmp_path / "rsa.pem", tmp_path / "rsa.key"
    pki.write_pem(cert, leaf.cert_pem())
    pki.write_pem(key, leaf.key_pem())
    chain = ("-certfile", str(KEYS / "vendor-a" / "intermediate.pem"))
    sigs = {
        "images/du.img.cms": openssl_cms_sign(
            tmp_path, FILES["images/du.img"], cert, key, *chain, "-md", "sha384"
        ),
        "images/cu.img.p7s": openssl_cms_sign(
            tmp_path,
            FILES["images/cu.img"],
            cert,
            key,
            *chain,
            "-md",
            "sha512",
            outform="DER",
        ),
    }
    root = delivery(tmp_path, **sigs)
    policy = write_policy(tmp_path, ["images/*.img"])
    code, report = verify(root, policy)
    assert code == ExitCode.OK, [c for c in report["checks"] if c["outcome"] == "fail"]
    assert detached(report) == {"images/du.img": "pass", "images/cu.img": "pass"}
    assert "sha384" in report["delivery"]["measured"]["images/du.img"]["digests"]
    # Tampered after signing: the signature's own digest no longer matches either.
    (root / "images/du.img").write_bytes(b"tampered")
    code, report = verify(root, policy)
    assert code == ExitCode.VERIFICATION_FAILED
    assert detached(report)["images/du.img"] == "fail"
    (root / "images/du.img").write_bytes(FILES["images/du.img"])
    store = tmp_path / "evidence.db"
    result = invoke(
        "intake", root, "--policy", policy, "--operator-key", OP_KEY,
        "--store", store, "--at", AT_TEXT,
    )  # fmt: skip
    assert_ok(result)
    for images in ((), ("--images", root)):
        result = invoke(
            "audit", "replay", "--store", store, "--operator-pub", OP_PUB,
            *images, "--json", "--all",
        )  # fmt: skip
        assert_ok(result)
        (record,) = json.loads(result.stdout)["records"]
        assert (record["recorded"], record["replayed"]) == ("PASSED", "PASSED")
        assert record["problems"] == []
