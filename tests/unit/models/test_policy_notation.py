"""Notation ``x509.subject`` DNs as vendorproof subject patterns (``notation_dn``)."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from vendorproof._internal.dn_pattern import parse_dn_pattern
from vendorproof.models.policy.notation import notation_dn

STATE = NameOID.STATE_OR_PROVINCE_NAME.dotted_string


def subject(state: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, state),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme"),
            x509.NameAttribute(NameOID.COMMON_NAME, "release"),
        ]
    )


@pytest.mark.parametrize(
    "dn", ["C=US, S=WA, O=Acme", "C=US,s=WA,O=Acme", "C=US, ST=WA, O=Acme"]
)
def test_state_is_st_or_s(dn: str) -> None:
    """Notary Project specification v1.1.0, "Trusted Identities Constraints": the
    identity contains C, "state or province (ST or S)" and O."""
    pattern, found = notation_dn(dn)
    assert pattern == "C=US,ST=WA,O=Acme"
    assert found[STATE] == "WA"
    parsed = parse_dn_pattern(pattern)
    assert parsed.found_in(subject("WA"))
    assert not parsed.found_in(subject("OR"))


def test_s_and_st_together_are_one_attribute_repeated() -> None:
    with pytest.raises(ValueError, match=f"attribute type {STATE} is repeated"):
        notation_dn("C=US, S=WA, ST=WA, O=Acme")


def test_only_the_bare_s_is_the_state() -> None:
    # SN is the surname, not a state: the identity still lacks ST.
    with pytest.raises(ValueError, match=r"C, ST \(or S\) and O \(missing ST\)"):
        notation_dn("C=US, SN=WA, O=Acme")
    pattern, _ = notation_dn("C=US, S=WA, O=S=x")
    assert pattern == "C=US,ST=WA,O=S=x"
