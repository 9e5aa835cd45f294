"""ONAP's real SOL 004 packages through the whole library trust path.

Each package is read with ``formats/sol004.py`` and every CMS signature goes through
``verify/cms_signer.py`` with the package's own certificate pinned as the vendor
anchor under the legacy profile, at a time inside that certificate's validity
(``tests/assets/onap-sol004/README.md``). The problems found must be those ONAP's
validator reports (R-130206: digests, manifest signature, per-artifact signatures,
certificate location; R-787965: security option 2), nothing more and nothing less.
The packages' certificates are X.509 v1, so every accepted signature carries the
legacy profile's warnings.

ONAP's R-130206 tests do not check R-01123 (every file listed): the older packages'
unlisted files are asserted separately.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from tests.cms_support import policy, principal
from vendorproof.formats import sol004
from vendorproof.formats.ziparchive import SafeZip
from vendorproof.models.policy import CertificateProfile
from vendorproof.verify.cms import embedded_certificates
from vendorproof.verify.cms_signer import check_cms_signer
from vendorproof.verify.result import Outcome
from vendorproof.verify.signer import SignerCheck

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "onap-sol004"


@dataclass
class Outcome_:  # noqa: N801 - the evaluation of one package
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    signers: dict[str, SignerCheck] = field(default_factory=dict)
    unlisted: tuple[str, ...] = ()


def _inside(cert: x509.Certificate) -> datetime:
    return cert.not_valid_before_utc + timedelta(days=1)


def _trust(
    sig: bytes,
    content: object,
    anchor: x509.Certificate,
    *,
    file: str,
    extra: tuple[x509.Certificate, ...] = (),
) -> SignerCheck:
    """The signature checked with ``anchor`` pinned (legacy profile, inside its validity)."""
    vendor = principal(
        [anchor],
        subject=anchor.subject.rfc4514_string(),
        profile=CertificateProfile.LEGACY,
    )
    return check_cms_signer(
        sig,
        content,  # type: ignore[arg-type]
        file=file,
        extra_certificates=extra,
        principals=[vendor],
        role="vendor",
        policy=policy([vendor]),
        at=_inside(anchor),
        time_source="--at",
        requirements=("R-130206",),
    )


def _failed(check: SignerCheck) -> list[str]:
    return [c.check for c in check.checks if c.outcome is Outcome.FAIL]


# SOL 004 §5.1 / ONAP R-130206: where the manifest signer's certificate may be.
def _certificate_location(
    z: SafeZip, pkg: sol004.CsarPackage, in_cms: tuple[x509.Certificate, ...]
) -> tuple[list[str], x509.Certificate | None]:
    entry = pkg.tosca_meta.entry_certificate if pkg.tosca_meta else None
    problems = []
    if in_cms and entry is not None:
        problems.append(
            "ETSI-Entry-Certificate entry in TOSCA.meta although the CMS carries "
            "the certificate"
        )
        if z.has(entry):
            problems.append(f"certificate {entry} present although the CMS carries it")
    if in_cms:
        return problems, in_cms[0]
    name = entry or (pkg.root_certificates[0] if pkg.root_certificates else None)
    if name is None:
        return ["no signer certificate in the CMS, TOSCA.meta or the root"], None
    return problems, x509.load_pem_x509_certificate(z.read(name))


def evaluate(name: str) -> Outcome_:
    out = Outcome_()
    with SafeZip(ASSETS / name, file=name) as z:
        pkg = sol004.read_package(z)
        m = pkg.manifest
        out.unlisted = sol004.unlisted_members(pkg)
        for r in sol004.check_digests(z, m):
            if r.status == "mismatch":
                out.problems.append(f"wrong hash: {r.source}")
            elif r.status == "missing":  # pragma: no cover - not in these packages
                out.problems.append(f"missing: {r.source}")
        if m.cms is None or m.signed_content is None:
            out.warnings.append("no security option 1 (manifest not signed)")
            return out
        in_cms = embedded_certificates(m.cms, file=pkg.manifest_name)
        location, cert = _certificate_location(z, pkg, in_cms)
        out.problems += location
        assert cert is not None
        manifest = _trust(
            m.cms, m.signed_content, cert, file=pkg.manifest_name, extra=(cert,)
        )
        out.signers[pkg.manifest_name] = manifest
        if not manifest.ok:
            out.problems.append("invalid manifest signature")
        for e in m.entries:
            if e.signature is None:
                continue
            cert_name = e.certificate or (
                pkg.tosca_meta.entry_certificate if pkg.tosca_meta else None
            )
            assert cert_name is not None
            artifact_cert = x509.load_pem_x509_certificate(z.read(cert_name))
            check = _trust(
                z.read(e.signature),
                z.chunks(e.source),
                artifact_cert,
                file=e.signature,
                extra=(artifact_cert,),
            )
            out.signers[e.signature] = check
            if not check.ok:
                out.problems.append(f"incorrect signature: {e.source}")
    return out


def _legacy_warnings(check: SignerCheck) -> list[str]:
    return [c.reason for c in check.checks if c.check == "certificate-profile"]


def test_cert_in_cms_valid() -> None:
    out = evaluate("csar-cert-in-cms-valid.csar")
    assert out.problems == []
    assert out.warnings == []
    assert out.unlisted == ()
    (check,) = out.signers.values()
    assert check.ok
    assert check.principal is not None
    warnings = _legacy_warnings(check)
    assert any("X.509 v1 signer certificate" in w for w in warnings)
    assert any("itself pinned as the anchor" in w for w in warnings)
    signature = next(c.reason for c in check.checks if c.check == "signature")
    assert "signingTime claims 2020-09-22T10:47:43Z" in signature


def test_cert_in_cms_valid_is_refused_under_the_strict_profile() -> None:
    with SafeZip(ASSETS / "csar-cert-in-cms-valid.csar", file="p") as z:
        m = sol004.read_package(z).manifest
    assert m.cms is not None
    (cert,) = embedded_certificates(m.cms, file="m")
    vendor = principal([cert], subject=cert.subject.rfc4514_string())
    check = check_cms_signer(
        m.cms,
        m.signed_content,
        file="m",
        principals=[vendor],
        role="vendor",
        policy=policy([vendor]),
        at=_inside(cert),
        time_source="--at",
        requirements=(),
    )
    assert _failed(check) == ["certificate-chain"]
    # ... and outside the certificate's validity even under the legacy profile.
    late = check_cms_signer(
        m.cms,
        m.signed_content,
        file="m",
        principals=[principal([cert], subject="O=*,ST=*,C=*", profile=_LEGACY)],
        role="vendor",
        policy=policy([]),
        at=cert.not_valid_after_utc + timedelta(days=1),
        time_source="--at",
        requirements=(),
    )
    assert _failed(late) == ["certificate-chain"]


_LEGACY = CertificateProfile.LEGACY


def test_cert_in_tosca_valid() -> None:
    out = evaluate("csar-cert-in-tosca-valid.csar")
    assert out.problems == []
    assert out.unlisted == ()
    (check,) = out.signers.values()
    assert check.ok
    signature = next(c.reason for c in check.checks if c.check == "signature")
    assert "supplied beside it" in signature


def test_cert_in_cms_incorrect_hash() -> None:
    out = evaluate("csar-cert-in-cms-incorrect-hash.csar")
    assert out.problems == [
        "wrong hash: Artifacts/Other/my_script.csh",
        "invalid manifest signature",
    ]
    (check,) = out.signers.values()
    assert _failed(check) == ["signature"]


def test_not_secure() -> None:
    """ONAP warns; vendorproof has no signer to trust, which the adapter fails."""
    out = evaluate("csar-not-secure-warning.csar")
    assert out.problems == []
    assert out.warnings == ["no security option 1 (manifest not signed)"]
    assert out.signers == {}


def test_cert_in_cms_and_tosca() -> None:
    out = evaluate("csar-cert-in-cms-and-tosca.csar")
    assert out.problems == [
        (
            "ETSI-Entry-Certificate entry in TOSCA.meta although the CMS carries the "
            "certificate"
        ),
        "certificate Artifacts/sample-pnf.cert present although the CMS carries it",
        "invalid manifest signature",
    ]


def test_individual_artifact_signature_valid() -> None:
    name = "csar-cert-in-cms-valid-with-signature-of-individual-artifact.csar"
    out = evaluate(name)
    assert out.problems == ["invalid manifest signature"]
    artifact = out.signers["Files/pnf-sw-information/pnf-sw-information.sig.cms"]
    assert artifact.ok
    assert any("itself pinned" in w for w in _legacy_warnings(artifact))


def test_cert_in_tosca_individual_signature() -> None:
    out = evaluate("csar-cert-in-tosca-individual-signature.csar")
    assert out.problems == [
        "invalid manifest signature",
        "incorrect signature: Artifacts/Other/my_script.csh",
    ]
    manifest = out.signers["MainServiceTemplate.mf"]
    # The manifest's CMS carries no certificate and sample-pnf.cert did not sign it.
    assert _failed(manifest) == ["signature"]
    artifact = out.signers["Artifacts/Other/my_script.sig.cms"]
    assert _failed(artifact) == ["signature"]


@pytest.mark.parametrize(
    ("name", "unlisted"),
    [
        (
            "csar-cert-in-cms-incorrect-hash.csar",
            (
                "Artifacts/ChangeLog.txt",
                "Artifacts/Deployment/Yang_module/yang-module2.yang",
                "Definitions/MainServiceTemplate.yaml",
                "TOSCA-Metadata/TOSCA.meta",
                "MainServiceTemplate.mf",
            ),
        ),
        ("csar-cert-in-cms-valid.csar", ()),
    ],
)
def test_unlisted_files(name: str, unlisted: tuple[str, ...]) -> None:
    """R-01123, which ONAP's R-130206 tests do not run, on the older packages."""
    assert evaluate(name).unlisted == unlisted


def test_option2_signature_and_certificate() -> None:
    with SafeZip(ASSETS / "signature-and-certificate.zip", file="o2") as z:
        layout = sol004.read_option2(z)
        assert layout is not None
        assert layout.signature is not None
        sig = z.read(layout.signature)
        (cert,) = embedded_certificates(sig, file=layout.signature)
        check = _trust(sig, z.chunks(layout.csar), cert, file=layout.signature)
        tampered = _trust(
            sig,
            [*z.chunks(layout.csar), b"\0"],
            cert,
            file=layout.signature,
        )
    assert check.ok, check.checks
    assert cert.not_valid_before_utc.year == 2019
    assert any("itself pinned" in w for w in _legacy_warnings(check))
    assert _failed(tampered) == ["signature"]


def test_option2_broken() -> None:
    """ONAP: "Missing. Unable to find certification files."."""
    with SafeZip(ASSETS / "broken.zip", file="broken.zip") as z:
        layout = sol004.read_option2(z)
    assert layout is not None
    assert (layout.signature, layout.certificate) == (None, None)
