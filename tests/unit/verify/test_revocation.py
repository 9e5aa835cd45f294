"""``verify/revocation.py`` called directly: the refusals the scope table does not reach.

``test_crl_rfc5280.py`` cross-checks the scope rules with OpenSSL; these tests cover
the CRL signature-algorithm rules, distribution points named relative to the issuer
or by their CRL issuer only, a CA certificate under a CRL for end entities, a CRL
that adds no reason, and the signature cache. Each failure names its reason and has
a passing twin.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from tests import pki
from vendorproof.errors import CertificateChainError
from vendorproof.models.policy import RevocationMode
from vendorproof.verify import revocation
from vendorproof.verify.context import VerificationCache
from vendorproof.verify.revocation import CrlAlgorithms, verify_revocation
from vendorproof.verify.x509 import VerifiedChain, verify_chain

ORG = "Acme Radio Systems GmbH"
AT = pki.T0.replace(year=2026, month=6)
LAST = AT - timedelta(days=1)
NEXT = AT + timedelta(days=7)
LEAF = "CN=Revocation Unit Signing,O=Acme Radio Systems GmbH,C=DE"


@dataclass(frozen=True)
class Path3:
    root: pki.Issued
    inter: pki.Issued
    chain: VerifiedChain

    def root_crl(self, **kw: object) -> x509.CertificateRevocationList:
        return crl(self.root, **kw)


def path(
    *, inter_key: pki.KeyKind = "ecdsa-p384", dp: x509.DistributionPoint | None = None
) -> Path3:
    """A validated root -> CA -> leaf path (the leaf with ``dp`` as its CRL DP)."""
    root = pki.make_root("Revocation Unit Root", org=ORG)
    inter = pki.make_intermediate(
        "Revocation Unit CA", root, org=ORG, key_kind=inter_key
    )
    extra = [] if dp is None else [(x509.CRLDistributionPoints([dp]), False)]
    leaf = pki.make_leaf(
        "Revocation Unit Signing", inter, org=ORG, extra_extensions=extra
    )
    chain = verify_chain(leaf.cert, [inter.cert], [root.cert], at=AT)
    return Path3(root=root, inter=inter, chain=chain)


def crl(issuer: pki.Issued, **kw: object) -> x509.CertificateRevocationList:
    kw.setdefault("last_update", LAST)
    kw.setdefault("next_update", NEXT)
    return pki.make_crl(issuer, [], **kw)  # type: ignore[arg-type]


def idp(**kw: object) -> x509.IssuingDistributionPoint:
    fields: dict[str, object] = {
        "full_name": None,
        "relative_name": None,
        "only_contains_user_certs": False,
        "only_contains_ca_certs": False,
        "only_some_reasons": None,
        "indirect_crl": False,
        "only_contains_attribute_certs": False,
    }
    fields.update(kw)
    return x509.IssuingDistributionPoint(**fields)  # type: ignore[arg-type]


def check(
    p: Path3,
    crls: Sequence[x509.CertificateRevocationList],
    *,
    algorithms: CrlAlgorithms | None = None,
) -> str:
    return verify_revocation(
        p.chain,
        crls,
        at=AT,
        signed_at=None,
        mode=RevocationMode.REQUIRE,
        algorithms=algorithms,
    )


def refused(
    p: Path3,
    crls: Sequence[x509.CertificateRevocationList],
    *,
    algorithms: CrlAlgorithms | None = None,
) -> str:
    with pytest.raises(CertificateChainError) as e:
        check(p, crls, algorithms=algorithms)
    return str(e.value)


@pytest.fixture(scope="module")
def plain() -> Path3:
    return path()


def test_complete_crls_prove_the_path_unrevoked(plain: Path3) -> None:
    account = check(plain, [crl(plain.inter), plain.root_crl()])
    assert account == (
        f"{LEAF} not revoked per CRL #0 (cRLNumber 1); "
        "CN=Revocation Unit CA,O=Acme Radio Systems GmbH,C=DE not revoked per "
        "CRL #1 (cRLNumber 1)"
    )


# -- the CRL's signature algorithm ---------------------------------------------------


def _with_algorithm(
    crl_: x509.CertificateRevocationList, oid_der: bytes
) -> x509.CertificateRevocationList:
    """``crl_`` re-encoded with another signature AlgorithmIdentifier (not re-signed)."""
    algid = pki.der_tlv(0x30, oid_der)
    tbs, _, signature = pki._der_children(crl_.public_bytes(Encoding.DER))
    children = pki._der_children(tbs)
    children[1] = algid  # TBSCertList: version, signature, issuer, ...
    new_tbs = pki.der_tlv(0x30, b"".join(children))
    return x509.load_der_x509_crl(pki.der_tlv(0x30, new_tbs + algid + signature))


@pytest.mark.parametrize(
    ("oid_der", "reason"),
    [
        pytest.param(
            bytes.fromhex("060a2b0601040183b2030101"),  # 1.3.6.1.4.1.55555.1.1
            "unsupported signature algorithm 1.3.6.1.4.1.55555.1.1 (",
            id="unknown-oid",
        ),
        pytest.param(
            bytes.fromhex("06062a8503020203"),  # GOST R 34.11-94 / 34.10-2001
            "signature algorithm without a digest",
            id="no-digest",
        ),
    ],
)
def test_crl_with_an_unusable_signature_algorithm_is_no_evidence(
    plain: Path3, oid_der: bytes, reason: str
) -> None:
    bad = _with_algorithm(crl(plain.inter), oid_der)
    message = refused(plain, [bad, plain.root_crl()])
    assert message.startswith(
        "no current CRL from CN=Revocation Unit CA,O=Acme Radio Systems GmbH,C=DE "
        f"that is complete and in scope covers {LEAF}"
    )
    assert f": no usable CRL (CRL #0 (cRLNumber 1): {reason}" in message


def test_ed25519_crl_needs_no_digest() -> None:
    # cryptography's webpki profile refuses Ed25519 CA keys, so no validated path
    # has an Ed25519 issuer today; the chain is assembled by hand to show that such a
    # CRL (signed without a separate digest) is judged by its signature alone.
    root = pki.make_root("Revocation Unit Root", org=ORG)
    inter = pki.make_intermediate(
        "Revocation Unit CA", root, org=ORG, key_kind="ed25519"
    )
    leaf = pki.make_leaf("Revocation Unit Signing", inter, org=ORG)
    chain = VerifiedChain(chain=(leaf.cert, inter.cert, root.cert), at=AT)
    p = Path3(root=root, inter=inter, chain=chain)
    assert check(p, [crl(inter), p.root_crl()]).startswith(
        f"{LEAF} not revoked per CRL #0"
    )
    forged = crl(
        pki.make_intermediate("Revocation Unit CA", root, org=ORG, key_kind="ed25519")
    )
    message = refused(p, [forged, p.root_crl()])
    assert "signature does not verify with the key of CN=Revocation Unit CA" in message


def test_crl_signed_with_a_small_rsa_key_is_refused() -> None:
    p = path(inter_key="rsa-2048")
    crls = [crl(p.inter), p.root_crl()]
    message = refused(p, crls, algorithms=CrlAlgorithms(min_rsa_bits=3072))
    assert (
        "no usable CRL (CRL #0 (cRLNumber 1): signed with an RSA key of 2048 bits "
        "(minimum 3072))" in message
    )
    assert check(p, crls, algorithms=CrlAlgorithms(min_rsa_bits=2048))


# -- distribution points (RFC 5280 §4.2.1.13, §6.3.3 (b)) ----------------------------

SHARD = x509.RelativeDistinguishedName(
    [x509.NameAttribute(NameOID.COMMON_NAME, "CRL shard 1")]
)
OTHER_SHARD = x509.RelativeDistinguishedName(
    [x509.NameAttribute(NameOID.COMMON_NAME, "CRL shard 2")]
)


def test_relative_distribution_point_names_match_under_the_issuer() -> None:
    dp = x509.DistributionPoint(
        full_name=None, relative_name=SHARD, reasons=None, crl_issuer=None
    )
    p = path(dp=dp)
    same = crl(p.inter, idp=idp(relative_name=SHARD))
    assert check(p, [same, p.root_crl()]).startswith(f"{LEAF} not revoked per CRL #0")
    other = crl(p.inter, idp=idp(relative_name=OTHER_SHARD))
    message = refused(p, [other, p.root_crl()])
    assert (
        "CRL #0 (cRLNumber 1): out of scope, distribution point names do not match"
        in message
    )


def _issuer_only_dp(issuer: x509.Name) -> x509.DistributionPoint:
    return x509.DistributionPoint(
        full_name=None,
        relative_name=None,
        reasons=None,
        crl_issuer=[x509.DirectoryName(issuer)],
    )


def test_distribution_point_naming_its_crl_issuer_only() -> None:
    # The CA names itself as the cRLIssuer of the certificate's distribution point,
    # without a distribution point name: an indirect CRL whose issuingDistributionPoint
    # names that issuer serves it (§6.3.3 (b)(2)(i) compares the names).
    root = pki.make_root("Revocation Unit Root", org=ORG)
    inter = pki.make_intermediate("Revocation Unit CA", root, org=ORG)
    p = _path_under(root, inter, _issuer_only_dp(inter.cert.subject))
    served = crl(
        inter,
        idp=idp(full_name=[x509.DirectoryName(inter.cert.subject)], indirect_crl=True),
    )
    assert check(p, [served, p.root_crl()]).startswith(f"{LEAF} not revoked per CRL #0")
    elsewhere = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Elsewhere")])
    unrelated = crl(
        inter, idp=idp(full_name=[x509.DirectoryName(elsewhere)], indirect_crl=True)
    )
    message = refused(p, [unrelated, p.root_crl()])
    assert (
        "CRL #0 (cRLNumber 1): out of scope, distribution point names do not match"
        in message
    )


def _path_under(
    root: pki.Issued, inter: pki.Issued, dp: x509.DistributionPoint
) -> Path3:
    leaf = pki.make_leaf(
        "Revocation Unit Signing",
        inter,
        org=ORG,
        extra_extensions=[(x509.CRLDistributionPoints([dp]), False)],
    )
    chain = verify_chain(leaf.cert, [inter.cert], [root.cert], at=AT)
    return Path3(root=root, inter=inter, chain=chain)


def test_distribution_point_with_a_crl_issuer_needs_an_indirect_crl() -> None:
    # §6.3.3 (b)(1): a distribution point with a cRLIssuer is served only by a CRL of
    # that issuer that says it is indirect.
    root = pki.make_root("Revocation Unit Root", org=ORG)
    inter = pki.make_intermediate("Revocation Unit CA", root, org=ORG)
    uri = x509.UniformResourceIdentifier("http://crl.acme.example/ca.crl")
    dp = x509.DistributionPoint(
        full_name=[uri],
        relative_name=None,
        reasons=None,
        crl_issuer=[x509.DirectoryName(inter.cert.subject)],
    )
    p = _path_under(root, inter, dp)
    direct = crl(inter, idp=idp(full_name=[uri]))
    message = refused(p, [direct, p.root_crl()])
    assert (
        "CRL #0 (cRLNumber 1): out of scope, the distribution point names another "
        "CRL issuer" in message
    )
    indirect = crl(inter, idp=idp(full_name=[uri], indirect_crl=True))
    assert check(p, [indirect, p.root_crl()]).startswith(
        f"{LEAF} not revoked per CRL #0"
    )


# -- the kind of certificate a CRL covers (§6.3.3 (b)(2)(ii)) ------------------------


def test_crl_for_end_entities_does_not_cover_a_ca(plain: Path3) -> None:
    users_only = plain.root_crl(idp=idp(only_contains_user_certs=True))
    message = refused(plain, [crl(plain.inter), users_only])
    assert message.startswith(
        "no current CRL from CN=Revocation Unit Root,O=Acme Radio Systems GmbH,C=DE "
        "that is complete and in scope covers CN=Revocation Unit CA,"
    )
    assert (
        "CRL #1 (cRLNumber 1): out of scope, it covers end-entity certificates only"
        in message
    )
    cas_only = plain.root_crl(idp=idp(only_contains_ca_certs=True))
    assert check(plain, [crl(plain.inter), cas_only])


# -- reasons (§6.3.3 (d), (e)) -------------------------------------------------------


def test_crl_that_adds_no_reason_is_not_counted(plain: Path3) -> None:
    first, second = crl(plain.inter, crl_number=1), crl(plain.inter, crl_number=2)
    account = check(plain, [first, second, plain.root_crl()])
    leaf_part = account.split("; ")[0]
    assert leaf_part == f"{LEAF} not revoked per CRL #0 (cRLNumber 1)"


def test_crls_of_some_reasons_add_up() -> None:
    # Two partitioned CRLs, each for some reasons, together cover all of them.
    p = path()
    some = frozenset({x509.ReasonFlags.key_compromise})
    rest = revocation.ALL_REASONS - some
    a = crl(p.inter, crl_number=1, idp=idp(only_some_reasons=some))
    b = crl(p.inter, crl_number=2, idp=idp(only_some_reasons=rest))
    account = check(p, [a, b, p.root_crl()])
    assert account.startswith(
        f"{LEAF} not revoked per CRL #0 (cRLNumber 1); CRL #1 (cRLNumber 2)"
    )
    message = refused(p, [a, p.root_crl()])
    assert "usable CRLs cover only the reasons keyCompromise" in message


# -- the signature cache -------------------------------------------------------------


def test_full_signature_cache_is_emptied(plain: Path3) -> None:
    cache = VerificationCache(limit=1)
    verify_revocation(
        plain.chain,
        [crl(plain.inter), plain.root_crl()],
        at=AT,
        signed_at=None,
        mode=RevocationMode.REQUIRE,
        cache=cache,
    )
    signatures = cache.crl_signatures
    assert len(signatures) == 1
    assert re.fullmatch(r"[0-9a-f]{64}", next(iter(signatures._table))[0].hex())


# -- a revoked certificate and a trusted signing time --------------------------------

SIGNED = AT - timedelta(days=10)
EFFECTIVE = revocation.RevocationTimeRule.EFFECTIVE
INVALIDITY = revocation.RevocationTimeRule.INVALIDITY_DATE


@pytest.mark.parametrize(
    ("reason", "invalidity", "rule", "verdict"),
    [
        # RFC 5280 (every format but Notation): the revocation date, or an earlier
        # invalidityDate, after the signing time keeps the signature valid...
        (None, None, EFFECTIVE, "stays valid"),
        (x509.ReasonFlags.superseded, None, EFFECTIVE, "stays valid"),
        (None, SIGNED + timedelta(days=1), EFFECTIVE, "stays valid"),
        # ...a compromise without an invalidityDate, or one before it, never does
        (x509.ReasonFlags.key_compromise, None, EFFECTIVE, "leaves no time"),
        (None, SIGNED - timedelta(days=1), EFFECTIVE, "is not before"),
        # Notary Project: only an invalidityDate after the signing time does
        (None, None, INVALIDITY, "without an invalidityDate"),
        (x509.ReasonFlags.superseded, None, INVALIDITY, "without an invalidityDate"),
        (None, SIGNED + timedelta(days=1), INVALIDITY, "stays valid"),
        (None, SIGNED - timedelta(days=1), INVALIDITY, "is not before"),
        (
            x509.ReasonFlags.key_compromise,
            SIGNED + timedelta(days=1),
            INVALIDITY,
            "stays valid",
        ),
    ],
)
def test_time_rules_for_a_revocation_after_the_signing_time(
    plain: Path3,
    reason: x509.ReasonFlags | None,
    invalidity: datetime | None,
    rule: revocation.RevocationTimeRule,
    verdict: str,
) -> None:
    leaf = plain.chain.leaf
    entry = pki.revoked_entry(
        leaf.serial_number,
        SIGNED + timedelta(days=2),
        reason=reason,
        invalidity=invalidity,
    )
    inter_crl = pki.make_crl(plain.inter, [entry], last_update=LAST, next_update=NEXT)

    def judge(signed_at: datetime | None) -> str:
        return verify_revocation(
            plain.chain,
            [inter_crl, plain.root_crl()],
            at=AT,
            signed_at=signed_at,
            mode=RevocationMode.REQUIRE,
            time_rule=rule,
        )

    if verdict == "stays valid":
        assert "the signature stays valid" in judge(SIGNED)
    else:
        with pytest.raises(CertificateChainError, match=verdict):
            judge(SIGNED)
    # without a trusted signing time, a listed certificate is revoked under any rule
    with pytest.raises(CertificateChainError, match="is revoked since"):
        judge(None)
