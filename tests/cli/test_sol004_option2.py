"""SOL 004 security option 2 through the command line: verify, intake, audit replay.

An option 2 package is a ZIP holding the CSAR, a CMS signature over the CSAR's exact
bytes and the signer's certificate (ETSI GS NFV-SOL 004 §5.1, §5.3), made here as
ONAP's README shows vendors make them: ``openssl cms -sign -binary -nocerts`` over
the CSAR with the test PKI. The outer signature must verify and chain to the
vendor's anchors, its signer must be the vendor the package names, and the CSAR
inside is then checked as a package of its own (security option 1). Every bad
input fails a check that names the file.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives.serialization import Encoding

from tests import pki
from tests.cli.support import assert_ok, invoke
from tests.cli.test_sol004 import (
    AT,
    ONAP,
    OP_KEY,
    OP_PUB,
    Vendor,
    build,
    failed,
    policy,
    verify_json,
)
from tests.cli.test_sol004 import vendor as vendor  # noqa: PLC0414 - the fixture
from tests.cms_support import openssl_cms_sign
from vendorproof._cli import ExitCode
from vendorproof.verify.cms import embedded_certificates


def zip_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def option2(
    tmp: Path,
    vendor: Vendor,
    *,
    name: str = "acme.zip",
    csar: bytes | None = None,
    signed: bytes | None = None,
    signer: tuple[Path, Path] | None = None,
    nocerts: bool = True,
    cert: bool = True,
    extra: dict[str, bytes] | None = None,
    unsigned_manifest: bool = False,
) -> Path:
    """A ZIP with ``acme.csar``, ``acme.cms`` over ``signed`` (default the CSAR)."""
    if csar is None:
        inner = build(
            tmp,
            vendor,
            name="inner.csar",
            edit_manifest=(
                (lambda b: b.split(b"-----BEGIN CMS-----")[0])
                if unsigned_manifest
                else None
            ),
        )
        csar = inner.read_bytes()
    cert_path, key_path = signer or (vendor.cert, vendor.key)
    cms = openssl_cms_sign(
        tmp,
        csar if signed is None else signed,
        cert_path,
        key_path,
        *(["-nocerts"] if nocerts else []),
    )
    members = {"acme.csar": csar, "acme.cms": cms}
    if cert:
        members["acme.cert"] = cert_path.read_bytes()
    members.update(extra or {})
    path = tmp / name
    path.write_bytes(zip_of(members))
    return path


def by_subject(report: dict[str, Any], subject: str) -> dict[str, str]:
    return {
        c["check"]: c["outcome"] for c in report["checks"] if c["subject"] == subject
    }


def reasons(report: dict[str, Any], subject: str) -> str:
    return " ".join(
        c["reason"]
        for c in report["checks"]
        if c["subject"] == subject and c["outcome"] == "fail"
    )


def allow_option2_alone(pol: Path, value: bool = True) -> Path:
    data = yaml.safe_load(pol.read_text(encoding="utf-8"))
    for v in data["vendors"]:
        v["sol004Option2Alone"] = value
    out = pol.with_name(f"o2-{pol.name}")
    out.write_text(yaml.safe_dump(data), encoding="utf-8")
    return out


def test_option2_over_a_signed_csar_verifies(tmp_path: Path, vendor: Vendor) -> None:
    package = option2(tmp_path, vendor)
    code, report = verify_json(package, policy(tmp_path, vendor.base / "root.pem"))
    assert code == ExitCode.OK, [c for c in report["checks"] if c["outcome"] == "fail"]
    outer = by_subject(report, "2:acme.cms")
    for check in ("algorithms", "signature", "certificate-chain", "signer-identity"):
        assert outer[check] == "pass", outer
    assert outer["vendor-binding"] == "pass"
    # The inner CSAR's own manifest signature was checked too (option 1).
    assert by_subject(report, "main.mf")["signature"] == "pass"
    assert by_subject(report, "main.mf")["vendor-binding"] == "pass"
    delivery = report["delivery"]
    assert delivery["manifest"] == "main.mf"
    assert delivery["principal"]["id"] == "acme-sol"
    # The CSAR was measured (streaming) for the outer signature; the record keeps it.
    measured = delivery["measured"]["2:acme.csar"]
    signature = next(
        c
        for c in report["checks"]
        if c["subject"] == "2:acme.cms" and c["check"] == "signature"
    )
    assert measured["digests"]["sha256"] in signature["reason"]
    assert {"2:acme.cms", "2:acme.cert", "main.mf"} <= set(report["inputs"])
    assert "2:acme.csar" not in report["inputs"]


def test_certificate_in_the_cms_without_a_cert_file(
    tmp_path: Path, vendor: Vendor
) -> None:
    package = option2(tmp_path, vendor, nocerts=False, cert=False)
    code, report = verify_json(package, policy(tmp_path, vendor.base / "root.pem"))
    assert code == ExitCode.OK, [c for c in report["checks"] if c["outcome"] == "fail"]
    assert "2:acme.cert" not in report["inputs"]


def test_option2_alone_needs_the_policy(tmp_path: Path, vendor: Vendor) -> None:
    package = option2(tmp_path, vendor, unsigned_manifest=True)
    pol = policy(tmp_path, vendor.base / "root.pem")
    code, report = verify_json(package, pol)
    assert code == ExitCode.VERIFICATION_FAILED
    assert by_subject(report, "2:acme.cms")["signature"] == "pass"
    assert by_subject(report, "main.mf")["signature"] == "fail"
    assert "sol004Option2Alone is false" in reasons(report, "main.mf")
    code, report = verify_json(package, allow_option2_alone(pol))
    assert code == ExitCode.OK, [c for c in report["checks"] if c["outcome"] == "fail"]
    manifest = next(
        c
        for c in report["checks"]
        if c["subject"] == "main.mf" and c["check"] == "signature"
    )
    assert manifest["outcome"] == "pass"
    assert "2:acme.cms" in manifest["reason"]
    assert by_subject(report, "main.mf")["vendor-binding"] == "pass"
    assert report["delivery"]["principal"]["id"] == "acme-sol"
    # Allowed alone, but a manifest without any signature still fails.
    bare = build(
        tmp_path,
        vendor,
        name="bare.csar",
        edit_manifest=lambda b: b.split(b"-----BEGIN CMS-----")[0],
    )
    code, report = verify_json(bare, allow_option2_alone(pol))
    assert code == ExitCode.VERIFICATION_FAILED
    assert reasons(report, "main.mf").startswith("the manifest is not signed")


def test_option2_alone_with_a_bad_outer_signature_fails(
    tmp_path: Path, vendor: Vendor
) -> None:
    inner = build(
        tmp_path,
        vendor,
        name="inner.csar",
        edit_manifest=lambda b: b.split(b"-----BEGIN CMS-----")[0],
    ).read_bytes()
    package = option2(tmp_path, vendor, csar=inner, signed=inner + b"\0")
    pol = allow_option2_alone(policy(tmp_path, vendor.base / "root.pem"))
    code, report = verify_json(package, pol)
    assert code == ExitCode.VERIFICATION_FAILED
    assert by_subject(report, "2:acme.cms")["signature"] == "fail"
    assert "did not verify" in reasons(report, "main.mf")
    assert by_subject(report, "main.mf")["vendor-binding"] == "fail"


def _second_vendor(tmp: Path, pol: Path, anchor: Path) -> Path:
    data = yaml.safe_load(pol.read_text(encoding="utf-8"))
    data["vendors"].append(
        {
            "id": "other-sol",
            "name": "Other SOL Networks",
            "anchors": [str(anchor)],
            "identities": [{"subject": "CN=*,O=Other SOL,C=DE"}],
        }
    )
    out = tmp / "two-vendors.yaml"
    out.write_text(yaml.safe_dump(data), encoding="utf-8")
    return out


@pytest.mark.parametrize(
    "case",
    [
        "extra-member",
        "two-cms",
        "two-csar",
        "member-below-root",
        "no-cms",
        "no-certificate",
        "inner-not-a-zip",
        "other-bytes",
        "other-vendor",
        "revoked",
        "garbage-cms",
    ],
)
def test_bad_option2_packages_fail(tmp_path: Path, vendor: Vendor, case: str) -> None:
    pol = policy(tmp_path, vendor.base / "root.pem")
    csar = build(tmp_path, vendor, name="inner.csar").read_bytes()
    # (subject, check) that must fail, and a word its reason must hold.
    expected: tuple[str, str, str]
    if case == "extra-member":
        package = option2(tmp_path, vendor, csar=csar, extra={"README": b"hi"})
        expected = ("2:README", "unlisted-files", "not listed")
    elif case == "two-cms":
        package = option2(tmp_path, vendor, csar=csar, extra={"b.cms": b"x"})
        expected = ("acme.zip", "attestations", "'acme.cms', 'b.cms'")
    elif case == "two-csar":
        package = option2(tmp_path, vendor, csar=csar, extra={"b.csar": csar})
        expected = ("acme.zip", "attestations", "'b.csar'")
    elif case == "member-below-root":
        package = option2(tmp_path, vendor, csar=csar, extra={"doc/x.txt": b"x"})
        expected = ("acme.zip", "attestations", "'doc/x.txt'")
    elif case == "no-cms":
        package = tmp_path / "acme.zip"
        package.write_bytes(zip_of({"acme.csar": csar}))
        expected = ("acme.zip", "attestations", "no signature (.cms)")
    elif case == "no-certificate":
        package = option2(tmp_path, vendor, csar=csar, cert=False)
        expected = ("2:acme.cms", "attestations", "neither a .cert")
    elif case == "inner-not-a-zip":
        package = option2(tmp_path, vendor, csar=b"not a zip at all")
        expected = ("2:acme.csar", "attestations", "not a readable CSAR")
    elif case == "other-bytes":
        package = option2(tmp_path, vendor, csar=csar, signed=csar + b"\n")
        expected = ("2:acme.cms", "signature", "messageDigest")
    elif case == "other-vendor":
        other_root = pki.make_root("Other SOL Root", org="Other SOL")
        other = pki.make_leaf("Other SOL Signing", other_root, org="Other SOL")
        pki.write_pem(tmp_path / "other.pem", other.cert_pem())
        pki.write_pem(tmp_path / "other.key", other.key_pem())
        pki.write_pem(tmp_path / "other-root.pem", other_root.cert_pem())
        pol = _second_vendor(tmp_path, pol, tmp_path / "other-root.pem")
        package = option2(
            tmp_path,
            vendor,
            csar=csar,
            signer=(tmp_path / "other.pem", tmp_path / "other.key"),
        )
        expected = ("2:acme.cms", "vendor-binding", "signed by vendor 'other-sol'")
    elif case == "revoked":
        outer = pki.make_leaf("Acme SOL Package Signing", vendor.root, org="Acme SOL")
        pki.write_pem(tmp_path / "outer.pem", outer.cert_pem())
        pki.write_pem(tmp_path / "outer.key", outer.key_pem())
        crl = pki.make_crl(
            vendor.root, [(outer.cert.serial_number, datetime(2026, 1, 1, tzinfo=UTC))]
        )
        crl_path = tmp_path / "root.crl.pem"
        crl_path.write_bytes(pki.crl_pem(crl))
        pol = policy(tmp_path, vendor.base / "root.pem", crls=[crl_path])
        package = option2(
            tmp_path,
            vendor,
            csar=csar,
            signer=(tmp_path / "outer.pem", tmp_path / "outer.key"),
        )
        expected = ("2:acme.cms", "revocation", "revoked")
    else:
        package = tmp_path / "acme.zip"
        package.write_bytes(
            zip_of(
                {
                    "acme.csar": csar,
                    "acme.cms": b"-----BEGIN CMS-----\nAAAA\n-----END CMS-----\n",
                    "acme.cert": vendor.leaf.cert_pem(),
                }
            )
        )
        expected = ("2:acme.cms", "signature", "2:acme.cms")
    code, report = verify_json(package, pol)
    assert code == ExitCode.VERIFICATION_FAILED
    subject, check, needle = expected
    assert by_subject(report, subject).get(check) == "fail", report["checks"]
    assert needle in reasons(report, subject), reasons(report, subject)


def test_intake_and_replay(tmp_path: Path, vendor: Vendor) -> None:
    package = option2(tmp_path, vendor)
    pol = policy(tmp_path, vendor.base / "root.pem")
    store = tmp_path / "evidence.db"
    result = invoke(
        "intake", package, "--policy", pol, "--operator-key", OP_KEY,
        "--store", store, "--at", AT,
    )  # fmt: skip
    assert_ok(result)
    csar = build(tmp_path, vendor, name="inner.csar").read_bytes()
    tampered = option2(tmp_path, vendor, name="t.zip", csar=csar, signed=b"x")
    broken = option2(tmp_path, vendor, name="b.zip", csar=b"not a zip")
    for bad in (tampered, broken):
        result = invoke(
            "intake", bad, "--policy", pol, "--operator-key", OP_KEY,
            "--store", store, "--at", AT,
        )  # fmt: skip
        assert result.exit_code == ExitCode.VERIFICATION_FAILED, result.output
    result = invoke(
        "audit", "replay", "--store", store, "--operator-pub", OP_PUB, "--json"
    )
    assert_ok(result)
    replay = json.loads(result.stdout)
    assert [(r["recorded"], r["replayed"]) for r in replay["records"]] == [
        ("PASSED", "PASSED"),
        ("FAILED", "FAILED"),
        ("FAILED", "FAILED"),
    ]
    assert all(r["problems"] == [] for r in replay["records"])
    # With the package at hand the CSAR and its members are hashed again.
    result = invoke(
        "audit", "replay", "--store", store, "--operator-pub", OP_PUB,
        "--images", package, "--json", "--all",
    )  # fmt: skip
    assert "Traceback" not in result.output
    assert json.loads(result.stdout)["records"][0]["problems"] == []
    # A replay notices a stored outer signature that was swapped.
    shown = invoke("evidence", "show", "1", "--store", store)
    assert "2:acme.cms" in shown.stdout


def test_onap_option2_package(tmp_path: Path) -> None:
    """ONAP's R-787965 sample: a CMS over valid.csar, its certificate in the CMS."""
    package = ONAP / "signature-and-certificate.zip"
    with zipfile.ZipFile(package) as z:
        cms = z.read("signature-and-certificate.cms")
    (cert,) = embedded_certificates(cms, file="o2")
    anchor = tmp_path / "onap-o2.pem"
    anchor.write_bytes(cert.public_bytes(Encoding.PEM))
    at = (cert.not_valid_before_utc + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    pol = policy(
        tmp_path,
        anchor,
        vendor_id="Ericsson",
        subject=cert.subject.rfc4514_string(),
        profile="legacy",
    )
    # valid.csar has no option 1 signature, and lists none of its files.
    code, report = verify_json(package, pol, at)
    assert code == ExitCode.VERIFICATION_FAILED
    assert by_subject(report, "2:signature-and-certificate.cms")["signature"] == "pass"
    assert "sol004Option2Alone is false" in reasons(report, "MainServiceTemplate.mf")
    data = yaml.safe_load(allow_option2_alone(pol).read_text(encoding="utf-8"))
    data["unlistedFiles"] = "warn"
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text(yaml.safe_dump(data), encoding="utf-8")
    code, report = verify_json(package, lenient, at)
    assert code == ExitCode.OK, [c for c in report["checks"] if c["outcome"] == "fail"]
    outer = by_subject(report, "2:signature-and-certificate.cms")
    assert outer["certificate-profile"] == "warn"
    # The package signer stands in for the manifest's: one binding, on the manifest.
    assert "vendor-binding" not in outer
    assert by_subject(report, "MainServiceTemplate.mf")["vendor-binding"] == "pass"
    warned = {c["subject"] for c in report["checks"] if c["check"] == "unlisted-files"}
    assert "2:README" in warned
    # Tampered: a byte of the CSAR changed (its first entry's modification time,
    # which no reader checks), the same signature.
    with zipfile.ZipFile(package) as z:
        members = {n: z.read(n) for n in z.namelist()}
    csar = bytearray(members["valid.csar"])
    csar[10] ^= 1
    members["valid.csar"] = bytes(csar)
    bad = tmp_path / "tampered.zip"
    bad.write_bytes(zip_of(members))
    code, report = verify_json(bad, lenient, at)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "signature" in failed(report)
