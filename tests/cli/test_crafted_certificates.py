"""Certificates and CRLs whose fields do not parse: exit 3 naming file and field.

cryptography decodes certificate fields lazily and raises on first read, often with
exception types that are not ValueError (InvalidVersion, UnsupportedAlgorithm).
Every entry point (command-line files, policy anchors, bundle chains, CRLs) must turn
them into invalid input, never a crash (exit 4).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtensionOID

from tests import pki
from tests.builders import (
    FILES,
    KINDS,
    DeliveryBuilder,
    issued,
    manifest_statement,
    policy_data,
    signer_from,
    write_policy,
)
from tests.cli.support import invoke
from vendorproof._cli import ExitCode

T = pki.der_tlv
CN_OID = bytes.fromhex("0603550403")
EC_P256 = bytes.fromhex("06072a8648ce3d0201") + bytes.fromhex("06082a8648ce3d030107")
INTER = issued("vendor-a", "intermediate")
ROOT = issued("vendor-a", "root")
AT = "2027-01-15T00:00:00Z"


def _leaf(**kw: object) -> pki.Issued:
    return pki.make_leaf(
        "Acme Radio Systems Release Signing 2099",
        INTER,
        org="Acme Radio Systems GmbH",
        **kw,  # type: ignore[arg-type]
    )


def _crafted(replace: dict[int, bytes]) -> Callable[[], bytes]:
    return lambda: pki.craft_certificate(_leaf().cert, INTER, replace)


def _bad_extension(oid: x509.ObjectIdentifier) -> Callable[[], bytes]:
    # An INTEGER where the extension's syntax wants a SEQUENCE.
    ext = x509.UnrecognizedExtension(oid, b"\x02\x01\x00")
    return lambda: _leaf(extra_extensions=[(ext, False)]).cert.public_bytes(
        Encoding.DER
    )


CRAFTED: dict[str, tuple[Callable[[], bytes], str]] = {
    "bad-version": (_crafted({pki.TBS_VERSION: bytes.fromhex("a003020105")}), "5"),
    "subject-not-a-string": (
        _crafted({pki.TBS_SUBJECT: T(0x30, T(0x31, T(0x30, CN_OID + T(0x02, b"\1"))))}),
        "subject",
    ),
    "issuer-bad-utf8": (
        _crafted(
            {pki.TBS_ISSUER: T(0x30, T(0x31, T(0x30, CN_OID + T(0x0C, b"\xff"))))}
        ),
        "issuer",
    ),
    "spki-bad-point": (
        _crafted(
            {pki.TBS_SPKI: T(0x30, T(0x30, EC_P256) + T(0x03, b"\0\4" + bytes(64)))}
        ),
        "public key",
    ),
    "spki-unknown-algorithm": (
        _crafted(
            {
                pki.TBS_SPKI: T(
                    0x30, T(0x30, bytes.fromhex("06032a0304")) + T(0x03, b"\0\1")
                )
            }
        ),
        "public key",
    ),
    "malformed-san": (
        _bad_extension(ExtensionOID.SUBJECT_ALTERNATIVE_NAME),
        "extension",
    ),
    "malformed-crl-distribution-points": (
        _bad_extension(ExtensionOID.CRL_DISTRIBUTION_POINTS),
        "extension",
    ),
    "malformed-name-constraints": (
        _bad_extension(ExtensionOID.NAME_CONSTRAINTS),
        "extension",
    ),
}


def _assert_invalid(result: object, *needles: str) -> None:
    code = result.exit_code  # type: ignore[attr-defined]
    err = result.stderr  # type: ignore[attr-defined]
    assert code == ExitCode.INVALID_INPUT, (code, result.output)  # type: ignore[attr-defined]
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_x509_verify_refuses_crafted_leaf(case: str, tmp_path: Path) -> None:
    make, field = CRAFTED[case]
    leaf = tmp_path / "leaf.der"
    leaf.write_bytes(make())
    roots = tmp_path / "root.pem"
    roots.write_bytes(ROOT.cert_pem())
    result = invoke("x509", "verify", leaf, "--roots", roots, "--at", AT)
    _assert_invalid(result, str(leaf), field)


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_policy_refuses_crafted_anchor(case: str, tmp_path: Path) -> None:
    make, field = CRAFTED[case]
    anchor = tmp_path / "anchor.pem"
    der = make()
    anchor.write_bytes(
        b"-----BEGIN CERTIFICATE-----\n"
        + base64.encodebytes(der)
        + b"-----END CERTIFICATE-----\n"
    )
    data = policy_data()
    data["vendors"][0]["anchors"] = [str(anchor)]
    policy = write_policy(tmp_path / "policy.yaml", data)
    result = invoke("policy", "check", policy)
    _assert_invalid(result, "anchor.pem", "vendors[0].anchors[0]", field)


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_delivery_refuses_crafted_bundle_certificate(
    case: str, delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    make, field = CRAFTED[case]
    delivery.write_payload()
    signer = signer_from(_leaf(), INTER)
    bundle = json.loads(signer.sign(manifest_statement(FILES, kinds=KINDS)))
    chain = bundle["verificationMaterial"]["x509CertificateChain"]["certificates"]
    chain[0]["rawBytes"] = base64.b64encode(make()).decode("ascii")
    delivery.attest("manifest.sigstore.json", json.dumps(bundle).encode())
    policy = write_policy(tmp_path / "policy.yaml", policy_data())
    result = invoke("verify", delivery.root, "--policy", policy, "--at", AT)
    assert result.exit_code in {ExitCode.INVALID_INPUT, ExitCode.VERIFICATION_FAILED}
    assert "Traceback" not in result.output
    assert "manifest.sigstore.json" in result.output
    if result.exit_code == ExitCode.INVALID_INPUT:
        assert field in result.stderr
        assert "x509CertificateChain.certificates[0].rawBytes" in result.stderr


def test_crafted_crl_is_invalid_input(tmp_path: Path) -> None:
    # An invalidityDate that is an INTEGER, not a GeneralizedTime.
    bad_date = x509.UnrecognizedExtension(
        x509.oid.CRLEntryExtensionOID.INVALIDITY_DATE, b"\x02\x01\x00"
    )
    crl = pki.make_crl(
        INTER,
        [pki.revoked_entry(5, pki.T0, extra_extensions=[(bad_date, False)])],
        last_update=datetime(2027, 1, 1, tzinfo=UTC),
    )
    path = tmp_path / "bad.crl"
    path.write_bytes(pki.crl_pem(crl))
    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(_leaf().cert_pem())
    roots = tmp_path / "root.pem"
    roots.write_bytes(ROOT.cert_pem())
    result = invoke("x509", "verify", leaf, "--roots", roots, "--crl", path, "--at", AT)
    _assert_invalid(result, str(path), "revokedCertificates[0]")
