"""The code-signing certificate profile: webpki defaults, relaxed only where needed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from tests import pki
from tests.cli.support import invoke
from vendorproof._cli import ExitCode
from vendorproof.errors import CertificateChainError
from vendorproof.verify.x509 import Eku, verify_chain

ORG = "Acme Radio Systems GmbH"
AT = pki.T0.replace(year=2026)


@pytest.fixture(scope="module")
def ca() -> tuple[pki.Issued, pki.Issued]:
    root = pki.make_root("Profile Test Root", org=ORG)
    inter = pki.make_intermediate("Profile Test CA", root, org=ORG)
    return root, inter


def leaf(ca: tuple[pki.Issued, pki.Issued], **kw: object) -> x509.Certificate:
    return pki.make_leaf("Profile Test Signing", ca[1], org=ORG, **kw).cert  # type: ignore[arg-type]


def check(ca: tuple[pki.Issued, pki.Issued], cert: x509.Certificate, eku: Eku) -> None:
    verify_chain(cert, [ca[1].cert], [ca[0].cert], at=AT, eku=eku)


def _malformed_aia() -> list[tuple[x509.ExtensionType, bool]]:
    # An AuthorityInfoAccess whose value is an INTEGER, not a SEQUENCE, marked critical.
    bad = x509.UnrecognizedExtension(
        ExtensionOID.AUTHORITY_INFORMATION_ACCESS, b"\x02\x01\x00"
    )
    return [(bad, True)]


def _name_constraints() -> list[tuple[x509.ExtensionType, bool]]:
    nc = x509.NameConstraints(
        permitted_subtrees=[x509.DNSName("example.com")], excluded_subtrees=None
    )
    return [(nc, True)]


def _empty_eku() -> list[tuple[x509.ExtensionType, bool]]:
    # ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX): an empty SEQUENCE is malformed.
    return [
        (
            x509.UnrecognizedExtension(ExtensionOID.EXTENDED_KEY_USAGE, b"\x30\x00"),
            False,
        )
    ]


def _unknown_critical() -> list[tuple[x509.ExtensionType, bool]]:
    oid = x509.ObjectIdentifier("1.3.6.1.4.1.55555.1")
    return [(x509.UnrecognizedExtension(oid, b"\x05\x00"), True)]


MALFORMED: dict[str, tuple[dict[str, object], Eku]] = {
    "no-authority-key-identifier": ({"aki": False}, Eku.CODE_SIGNING),
    "key-cert-sign": ({"key_cert_sign": True}, Eku.CODE_SIGNING),
    "name-constraints": ({"extra_extensions": _name_constraints()}, Eku.CODE_SIGNING),
    "empty-eku-with-any": ({"eku": None, "extra_extensions": _empty_eku()}, Eku.ANY),
    "malformed-critical-aia": (
        {"extra_extensions": _malformed_aia()},
        Eku.CODE_SIGNING,
    ),
    "unknown-critical-extension": (
        {"extra_extensions": _unknown_critical()},
        Eku.CODE_SIGNING,
    ),
    "no-digital-signature": ({"digital_signature": False}, Eku.CODE_SIGNING),
    "no-code-signing-eku": (
        {"eku": (ExtendedKeyUsageOID.CLIENT_AUTH,)},
        Eku.CODE_SIGNING,
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_leaf_fails(ca: tuple[pki.Issued, pki.Issued], case: str) -> None:
    kw, eku = MALFORMED[case]
    with pytest.raises(CertificateChainError, match="no valid chain"):
        check(ca, leaf(ca, **kw), eku)


WELL_FORMED: dict[str, tuple[Callable[[], dict[str, object]], Eku]] = {
    "code-signing-without-san": (dict, Eku.CODE_SIGNING),
    "code-signing-with-san": (
        lambda: {"san_emails": ["release@acme.example"]},
        Eku.CODE_SIGNING,
    ),
    "any-eku-absent": (lambda: {"eku": None}, Eku.ANY),
    "any-eku-client-auth": (
        lambda: {"eku": (ExtendedKeyUsageOID.CLIENT_AUTH,)},
        Eku.ANY,
    ),
}


@pytest.mark.parametrize("case", sorted(WELL_FORMED))
def test_well_formed_leaf_passes(ca: tuple[pki.Issued, pki.Issued], case: str) -> None:
    make_kw, eku = WELL_FORMED[case]
    check(ca, leaf(ca, **make_kw()), eku)


def test_cli_refuses_empty_eku_with_eku_any(
    ca: tuple[pki.Issued, pki.Issued], tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    cert = leaf(ca, eku=None, extra_extensions=_empty_eku())
    paths = {}
    for name, c in (("leaf", cert), ("inter", ca[1].cert), ("root", ca[0].cert)):
        paths[name] = tmp_path / f"{name}.pem"
        paths[name].write_bytes(c.public_bytes(Encoding.PEM))
    result = invoke(
        "x509",
        "verify",
        paths["leaf"],
        "--roots",
        paths["root"],
        "--intermediates",
        paths["inter"],
        "--eku",
        "any",
        "--at",
        "2026-01-01T00:00:00Z",
    )
    # An empty EKU is malformed DER (SIZE (1..MAX)): refused when the file is read.
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    assert "leaf.pem" in result.stderr
    assert "extensions does not parse" in result.stderr
