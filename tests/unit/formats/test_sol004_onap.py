"""ONAP's real SOL 004 packages: structure, digests and CMS signatures.

Expected outcomes are those ONAP's package validator reports for each package
(``tests/assets/onap-sol004/README.md``); ``openssl cms -verify`` is the independent
oracle for every signature.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography import x509

from vendorproof.errors import (
    DigestMismatchError,
    InvalidInputError,
    SignatureError,
    VerificationError,
)
from vendorproof.formats import sol004
from vendorproof.formats.ziparchive import SafeZip
from vendorproof.verify.cms import CmsSignature, verify_detached

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "onap-sol004"


def _open(name: str) -> SafeZip:
    return SafeZip(ASSETS / name, file=name)


def _openssl_verifies(
    tmp: Path, sig: bytes, content: bytes, cert: bytes | None = None
) -> bool:
    (tmp / "s.cms").write_bytes(sig)
    (tmp / "c.bin").write_bytes(content)
    cmd = [
        "openssl", "cms", "-verify", "-binary", "-noverify", "-inform", "PEM",
        "-in", str(tmp / "s.cms"), "-content", str(tmp / "c.bin"),
        "-out", str(tmp / "out.bin"),
    ]  # fmt: skip
    if cert is not None:
        (tmp / "signer.cert").write_bytes(cert)
        cmd += ["-certfile", str(tmp / "signer.cert")]
    return (
        subprocess.run(cmd, check=False, capture_output=True, timeout=60).returncode
        == 0
    )


def _verify_manifest(
    tmp: Path, name: str, cert_member: str | None = None
) -> tuple[CmsSignature | VerificationError, bool]:
    """Our outcome and openssl's for the manifest signature of package ``name``."""
    with _open(name) as z:
        pkg = sol004.read_package(z)
        cert = z.read(cert_member) if cert_member else None
    m = pkg.manifest
    assert m.cms is not None
    assert m.signed_content is not None
    extra = [x509.load_pem_x509_certificate(cert)] if cert else []
    oracle = _openssl_verifies(tmp, m.cms, m.signed_content, cert)
    try:
        ours: CmsSignature | VerificationError = verify_detached(
            m.cms, m.signed_content, file=pkg.manifest_name, extra_certificates=extra
        )
    except VerificationError as e:
        ours = e
    return ours, oracle


def test_cert_in_cms_valid(tmp_path: Path) -> None:
    with _open("csar-cert-in-cms-valid.csar") as z:
        pkg = sol004.read_package(z)
        results = sol004.check_digests(z, pkg.manifest)
    assert pkg.tosca_meta is not None
    assert pkg.tosca_meta.created_by == "Acme"
    assert pkg.tosca_meta.entry_certificate is None
    assert pkg.manifest_name == "pnf_main_descriptor.mf"
    assert pkg.entry_definitions == "Definitions/pnf_main_descriptor.yaml"
    m = pkg.manifest
    assert (m.kind, m.provider, m.product, m.version) == ("pnf", "Acme", "myPnf", "1.0")
    assert m.release_date_time == "2019-03-11T11:25:00+00:00"
    assert len(m.entries) == 12
    assert [n for n, _ in m.non_mano_artifact_sets] == [
        "onap_ves_events",
        "onap_pm_dictionary",
        "onap_yang_modules",
        "onap_others",
        "onap_pnf_sw_information",
    ]
    statuses = {r.source: r.status for r in results}
    assert statuses["Files/Scripts/my_script.sh"] == "match"
    assert statuses["pnf_main_descriptor.mf"] == "no-digest"
    assert set(statuses.values()) == {"match", "no-digest"}
    assert sol004.unlisted_members(pkg) == ()
    ours, oracle = _verify_manifest(tmp_path, "csar-cert-in-cms-valid.csar")
    assert oracle
    assert isinstance(ours, CmsSignature)
    assert ours.signer_in_cms
    assert ours.signature_algorithm == "rsa-pkcs1v15-sha256"
    assert ours.signer.version == x509.Version.v1  # as real vendor PKIs have them
    assert ours.claimed_signing_time is not None
    assert ours.claimed_signing_time.isoformat() == "2020-09-22T10:47:43+00:00"


def test_cert_in_tosca_valid(tmp_path: Path) -> None:
    with _open("csar-cert-in-tosca-valid.csar") as z:
        pkg = sol004.read_package(z)
        results = sol004.check_digests(z, pkg.manifest)
    assert pkg.tosca_meta is not None
    assert pkg.tosca_meta.entry_certificate == "pnf_main_descriptor.cert"
    assert pkg.root_certificates == ("pnf_main_descriptor.cert",)
    assert all(r.status in {"match", "no-digest"} for r in results)
    ours, oracle = _verify_manifest(
        tmp_path, "csar-cert-in-tosca-valid.csar", "pnf_main_descriptor.cert"
    )
    assert oracle
    assert isinstance(ours, CmsSignature)
    assert not ours.signer_in_cms
    # Without the certificate beside it the signer cannot be found: a failure.
    ours, oracle = _verify_manifest(tmp_path, "csar-cert-in-tosca-valid.csar")
    assert not oracle
    assert isinstance(ours, SignatureError)


def test_cert_in_cms_incorrect_hash(tmp_path: Path) -> None:
    """ONAP: "Source 'Artifacts/Other/my_script.csh' has wrong hash!", invalid signature."""
    with _open("csar-cert-in-cms-incorrect-hash.csar") as z:
        pkg = sol004.read_package(z)
        results = sol004.check_digests(z, pkg.manifest)
    bad = [(r.source, r.status) for r in results if r.status != "match"]
    assert bad == [("Artifacts/Other/my_script.csh", "mismatch")]
    ours, oracle = _verify_manifest(tmp_path, "csar-cert-in-cms-incorrect-hash.csar")
    assert not oracle
    assert isinstance(ours, DigestMismatchError)


def test_not_secure(tmp_path: Path) -> None:
    """ONAP: a warning only: no security option 1 (no digests, no CMS)."""
    with _open("csar-not-secure-warning.csar") as z:
        pkg = sol004.read_package(z)
        results = sol004.check_digests(z, pkg.manifest)
    assert pkg.manifest.cms is None
    assert pkg.manifest.signed_content is None
    assert {r.status for r in results} == {"no-digest"}
    assert pkg.tosca_meta is not None
    assert ("Entry-Tests", "Artifacts/Tests") in pkg.tosca_meta.other


def test_cert_in_cms_and_tosca(tmp_path: Path) -> None:
    """ONAP: invalid manifest signature, certificate both in the CMS and in TOSCA.meta."""
    with _open("csar-cert-in-cms-and-tosca.csar") as z:
        pkg = sol004.read_package(z)
        results = sol004.check_digests(z, pkg.manifest)
    assert pkg.tosca_meta is not None
    assert pkg.tosca_meta.entry_certificate == "Artifacts/sample-pnf.cert"
    assert all(r.status == "match" for r in results)
    assert "Artifacts/sample-pnf.cert" in sol004.unlisted_members(pkg)
    ours, oracle = _verify_manifest(tmp_path, "csar-cert-in-cms-and-tosca.csar")
    assert not oracle
    assert isinstance(ours, DigestMismatchError)


def test_individual_artifact_signature_valid(tmp_path: Path) -> None:
    """ONAP: invalid manifest signature; the per-artifact signature is valid."""
    name = "csar-cert-in-cms-valid-with-signature-of-individual-artifact.csar"
    ours, oracle = _verify_manifest(tmp_path, name)
    assert not oracle
    assert isinstance(ours, DigestMismatchError)
    with _open(name) as z:
        pkg = sol004.read_package(z)
        (entry,) = [e for e in pkg.manifest.entries if e.signature]
        assert entry.source == "Files/pnf-sw-information/pnf-sw-information.yaml"
        assert entry.signature == "Files/pnf-sw-information/pnf-sw-information.sig.cms"
        assert entry.certificate == "Files/pnf-sw-information/pnf-sw-information.cert"
        sig = z.read(entry.signature)
        cert = z.read(entry.certificate)
        content = z.read(entry.source)
        result = verify_detached(
            sig,
            z.chunks(entry.source),
            file=entry.signature,
            extra_certificates=[x509.load_pem_x509_certificate(cert)],
        )
    assert _openssl_verifies(tmp_path, sig, content, cert)
    assert result.signer_in_cms


def test_cert_in_tosca_individual_signature(tmp_path: Path) -> None:
    """ONAP: invalid manifest signature; my_script.csh has an incorrect signature."""
    name = "csar-cert-in-tosca-individual-signature.csar"
    ours, oracle = _verify_manifest(tmp_path, name, "Artifacts/sample-pnf.cert")
    assert not oracle
    assert isinstance(ours, SignatureError)  # its signer is not sample-pnf.cert
    with _open(name) as z:
        pkg = sol004.read_package(z)
        (entry,) = [e for e in pkg.manifest.entries if e.signature]
        assert entry.source == "Artifacts/Other/my_script.csh"
        assert entry.certificate is None
        sig = z.read("Artifacts/Other/my_script.sig.cms")
        content = z.read(entry.source)
        cert = z.read("Artifacts/sample-pnf.cert")
    assert not _openssl_verifies(tmp_path, sig, content, cert)
    with pytest.raises(DigestMismatchError):
        verify_detached(
            sig,
            content,
            file="my_script.sig.cms",
            extra_certificates=[x509.load_pem_x509_certificate(cert)],
        )


def test_option2_signature_and_certificate(tmp_path: Path) -> None:
    """ONAP: option 2, no errors (a CMS over the whole CSAR, the certificate in it)."""
    with _open("signature-and-certificate.zip") as z:
        layout = sol004.read_option2(z)
        assert layout == sol004.Option2Layout(
            csar="valid.csar",
            signature="signature-and-certificate.cms",
            certificate=None,
            others=("README",),
        )
        sig = z.read("signature-and-certificate.cms")
        result = verify_detached(
            sig, z.chunks("valid.csar"), file=layout.signature or ""
        )
        content = z.read("valid.csar")
        with SafeZip(z.open_seekable("valid.csar"), file="valid.csar") as inner:
            assert sol004.read_option2(inner) is None
            pkg = sol004.read_package(inner)
    assert _openssl_verifies(tmp_path, sig, content)
    assert result.signer_in_cms
    assert pkg.manifest.kind in {"vnf", "pnf"}


def test_option2_broken_has_no_signature() -> None:
    """ONAP: "Missing. Unable to find certification files."."""
    with _open("broken.zip") as z:
        layout = sol004.read_option2(z)
    assert layout is not None
    assert layout.signature is None
    assert layout.certificate is None


def test_windows_manifest_crlf_and_truncated_cms() -> None:
    data = (ASSETS / "MainServiceTemplate.windows.mf").read_bytes()
    assert b"\r\n" in data
    m = sol004.parse_manifest(data, file="MainServiceTemplate.windows.mf")
    assert (m.kind, m.provider, m.product) == ("pnf", "Ericsson", "RadioNode")
    assert m.entries == ()
    assert m.signed_content is not None
    assert m.signed_content.endswith(b"\r\n\r\n")
    assert m.cms is not None
    with pytest.raises(InvalidInputError) as e:
        verify_detached(m.cms, m.signed_content, file="MainServiceTemplate.windows.mf")
    assert e.value.file == "MainServiceTemplate.windows.mf"
