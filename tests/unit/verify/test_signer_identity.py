"""Signer identities (subject DN patterns per RDN) and bundles that ship the root."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

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
from vendorproof._internal.dn_pattern import parse_dn_pattern
from vendorproof.errors import InvalidInputError
from vendorproof.intake import check_delivery, load_policy
from vendorproof.verify.result import Outcome, VerificationReport

AT = datetime(2027, 1, 15, tzinfo=UTC)
PATTERN = "CN=Acme Release Signing *,O=Acme,C=DE"

CN, ORG, OU, C = (
    NameOID.COMMON_NAME,
    NameOID.ORGANIZATION_NAME,
    NameOID.ORGANIZATIONAL_UNIT_NAME,
    NameOID.COUNTRY_NAME,
)


def name(*rdns: tuple[tuple[x509.ObjectIdentifier, str], ...]) -> x509.Name:
    """A name from RDNs in DER order (the RFC 4514 text is the reverse)."""
    return x509.Name(
        [
            x509.RelativeDistinguishedName([x509.NameAttribute(o, v) for o, v in rdn])
            for rdn in rdns
        ]
    )


def matches(pattern: str, subject: x509.Name) -> bool:
    return parse_dn_pattern(pattern).matches(subject)


GOOD = name(((C, "DE"),), ((ORG, "Acme"),), ((CN, "Acme Release Signing 2025"),))


def test_pattern_matches_the_intended_subject() -> None:
    assert matches(PATTERN, GOOD)
    assert matches("cn=Acme Release Signing *,o=Acme,c=DE", GOOD)  # types: any case
    assert matches("2.5.4.3=Acme Release Signing 2025,2.5.4.10=Acme,2.5.4.6=DE", GOOD)


TRICKS = {
    # Each of these matched the old glob over the RFC 4514 string.
    "extra-rdn": name(
        ((C, "DE"),), ((ORG, "Acme"),), ((OU, "x"),), ((CN, "Acme Release Signing x"),)
    ),
    "second-cn": name(
        ((C, "DE"),),
        ((ORG, "Acme"),),
        ((CN, "Other"),),
        ((CN, "Acme Release Signing x"),),
    ),
    "multi-valued-rdn": name(
        ((C, "DE"),),
        ((ORG, "Acme"),),
        ((CN, "Acme Release Signing x"), (OU, "Evil")),
    ),
    "wildcard-spans-rdns": name(
        ((C, "DE"),),
        ((ORG, "Acme"),),
        ((ORG, "Evil"),),
        ((CN, "Acme Release Signing x"),),
    ),
    "value-case": name(
        ((C, "de"),), ((ORG, "Acme"),), ((CN, "Acme Release Signing x"),)
    ),
    "reversed-order": name(
        ((CN, "Acme Release Signing x"),), ((ORG, "Acme"),), ((C, "DE"),)
    ),
    "missing-rdn": name(((ORG, "Acme"),), ((CN, "Acme Release Signing x"),)),
}


@pytest.mark.parametrize("trick", sorted(TRICKS))
def test_pattern_does_not_match_across_rdns(trick: str) -> None:
    subject = TRICKS[trick]
    assert not matches(PATTERN, subject), subject.rfc4514_string()


def test_multi_valued_rdn_matches_by_type_in_any_order() -> None:
    subject = name(
        ((C, "DE"),), ((ORG, "Acme"),), ((CN, "Acme Release Signing 1"), (OU, "Build"))
    )
    assert matches("CN=Acme Release Signing *+OU=Build,O=Acme,C=DE", subject)
    assert matches("OU=Build+CN=Acme Release Signing *,O=Acme,C=DE", subject)
    assert not matches("OU=Build,CN=Acme Release Signing *,O=Acme,C=DE", subject)
    repeated = name(((C, "DE"),), ((CN, "a"), (CN, "b")))
    assert not matches("CN=*+OU=*,C=DE", repeated)


def test_repeated_attributes_match_by_position() -> None:
    subject = name(((C, "DE"),), ((OU, "a"),), ((OU, "b"),))
    assert matches("OU=b,OU=a,C=DE", subject)
    assert not matches("OU=a,OU=b,C=DE", subject)


def test_escapes_and_literal_characters() -> None:
    comma = name(((C, "DE"),), ((CN, "Acme, Inc. Signing 7"),))
    assert matches(r"CN=Acme\, Inc. Signing *,C=DE", comma)
    star = name(((C, "DE"),), ((CN, "Build *"),))
    assert matches(r"CN=Build \2A,C=DE", star)
    assert not matches(r"CN=Build \2A,C=DE", name(((C, "DE"),), ((CN, "Build 1"),)))
    question = name(((C, "DE"),), ((CN, "Build 1"),))
    assert not matches("CN=Build ?,C=DE", question)  # only '*' is a wildcard
    assert matches("CN=*Build*1*,C=DE", question)  # '*' may match nothing


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("*", "expected type=value"),
        ("CN=a,,C=DE", "expected type=value"),
        ("FOO=x", "unknown attribute type"),
        ("CN=#0403", "#hex"),
        ("CN=a+CN=b", "repeated inside one RDN"),
        (r"CN=a\q", "invalid escape"),
        ("CN=a;b", "unescaped"),
        (r"CN=\ff", "not UTF-8"),
        ("1.x=a", "invalid attribute type"),
    ],
)
def test_invalid_patterns_are_refused(pattern: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_dn_pattern(pattern)


def test_policy_refuses_invalid_subject_pattern(tmp_path: Path) -> None:
    data = policy_data()
    data["vendors"][0]["identities"] = [{"subject": "Acme Release Signing *"}]
    path = write_policy(tmp_path / "p.yaml", data)
    with pytest.raises(InvalidInputError, match="invalid subject pattern") as info:
        load_policy(path)
    assert info.value.path == "vendors[0].identities[0].subject"


# -- through a delivery -----------------------------------------------------------


def _run(
    delivery: DeliveryBuilder,
    tmp_path: Path,
    leaf: pki.Issued,
    *chain: pki.Issued,
    appended: x509.Certificate | None = None,
) -> VerificationReport:
    """Sign a manifest; ``appended`` joins the bundle's chain afterwards.

    vendorproof's own signing tool refuses to ship a root, so it is added by hand.
    """
    delivery.write_payload()
    signer = signer_from(leaf, *chain)
    bundle = json.loads(signer.sign(manifest_statement(FILES, kinds=KINDS)))
    if appended is not None:
        der = appended.public_bytes(serialization.Encoding.DER)
        bundle["verificationMaterial"]["x509CertificateChain"]["certificates"].append(
            {"rawBytes": base64.b64encode(der).decode("ascii")}
        )
    delivery.attest("manifest.sigstore.json", json.dumps(bundle).encode())
    data = policy_data()
    data["trustDeclaration"] = "optional"
    data["certification"] = {"requirements": []}
    policy = load_policy(write_policy(tmp_path / "policy.yaml", data))
    return check_delivery(delivery.root, policy, at=AT, time_source="--at")


def _check(report: VerificationReport, check: str) -> tuple[Outcome, str]:
    found = [c for c in report.checks if c.check == check]
    assert found, [c.to_dict() for c in report.checks]
    return found[0].outcome, found[0].reason


ACME = "Acme Radio Systems GmbH"


def test_leaf_with_extra_rdn_is_not_an_allowed_identity(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    inter = issued("vendor-a", "intermediate")
    subject = name(
        ((C, "DE"),),
        ((ORG, ACME),),
        ((OU, "Anyone"),),
        ((CN, "Acme Radio Systems Release Signing 2099"),),
    )
    leaf = pki.make_leaf("unused", inter, org=ACME, subject=subject)
    report = _run(delivery, tmp_path, leaf, inter)
    outcome, reason = _check(report, "signer-identity")
    assert outcome is Outcome.FAIL
    assert "matches none of its allowed signer identities" in reason
    assert not report.ok


def test_leaf_with_exact_rdns_is_allowed(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    inter = issued("vendor-a", "intermediate")
    leaf = pki.make_leaf("Acme Radio Systems Release Signing 2099", inter, org=ACME)
    report = _run(delivery, tmp_path, leaf, inter)
    assert _check(report, "signer-identity")[0] is Outcome.PASS
    assert report.ok, [c.to_dict() for c in report.failures()]


def test_bundle_chain_with_root_fails(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    inter = issued("vendor-a", "intermediate")
    root = issued("vendor-a", "root")
    leaf = issued("vendor-a", "signing")
    report = _run(delivery, tmp_path, leaf, inter, appended=root.cert)
    outcome, reason = _check(report, "certificate-chain")
    assert outcome is Outcome.FAIL
    assert "certificates[2]" in reason
    assert "never the root" in reason
    assert not report.ok


def test_bundle_chain_with_self_signed_certificate_fails(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    inter = issued("vendor-a", "intermediate")
    stranger = pki.make_root("Some Other Root", org="Elsewhere")
    leaf = issued("vendor-a", "signing")
    report = _run(delivery, tmp_path, leaf, inter, appended=stranger.cert)
    outcome, reason = _check(report, "certificate-chain")
    assert outcome is Outcome.FAIL
    assert "self-signed" in reason
