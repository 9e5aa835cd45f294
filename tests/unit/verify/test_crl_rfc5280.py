"""CRL processing per RFC 5280 §5.2, §5.3 and §6.3, cross-checked with OpenSSL.

Every scope case is run through ``verify_revocation`` (``revocation: require``) and
through ``openssl verify -crl_check_all -extended_crl`` on the same certificate and CRL
files; both must agree on whether the leaf's revocation status is established.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from tests import pki
from vendorproof.errors import CertificateChainError
from vendorproof.models.policy import RevocationMode
from vendorproof.verify.revocation import CrlAlgorithms, verify_revocation
from vendorproof.verify.x509 import verify_chain

ORG = "Acme Radio Systems GmbH"
AT = datetime(2026, 6, 1, tzinfo=pki.T0.tzinfo)
LAST = AT - timedelta(days=1)
NEXT = AT + timedelta(days=7)
SERIAL = 0x1EAF
URI = "http://crl.acme.example/signing.crl"
R = x509.ReasonFlags


@dataclass(frozen=True)
class Pki:
    root: pki.Issued
    inter: pki.Issued
    leaf: pki.Issued
    root_crl: x509.CertificateRevocationList


def _pki(*, crl_sign: bool = True, dp: str | None = None) -> Pki:
    root = pki.make_root("CRL Test Root", org=ORG)
    inter = pki.make_intermediate("CRL Test CA", root, org=ORG, crl_sign=crl_sign)
    extra: list[tuple[x509.ExtensionType, bool]] = []
    if dp is not None:
        point = x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(dp)],
            relative_name=None,
            reasons=None,
            crl_issuer=None,
        )
        extra.append((x509.CRLDistributionPoints([point]), False))
    leaf = pki.make_leaf(
        "CRL Test Signing", inter, org=ORG, serial=SERIAL, extra_extensions=extra
    )
    root_crl = pki.make_crl(root, [], last_update=LAST, next_update=NEXT)
    return Pki(root=root, inter=inter, leaf=leaf, root_crl=root_crl)


@pytest.fixture(scope="module")
def plain() -> Pki:
    return _pki()


def crl(
    issuer: pki.Issued, revoked: Sequence[pki.CrlEntry] = (), **kw: object
) -> x509.CertificateRevocationList:
    kw.setdefault("last_update", LAST)
    kw.setdefault("next_update", NEXT)
    return pki.make_crl(issuer, revoked, **kw)  # type: ignore[arg-type]


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


def ours(
    p: Pki,
    crls: Sequence[x509.CertificateRevocationList],
    *,
    mode: RevocationMode = RevocationMode.REQUIRE,
    signed_at: datetime | None = None,
    algorithms: CrlAlgorithms | None = None,
) -> str:
    chain = verify_chain(p.leaf.cert, [p.inter.cert], [p.root.cert], at=AT)
    return verify_revocation(
        chain,
        [*crls, p.root_crl],
        at=AT,
        signed_at=signed_at,
        mode=mode,
        algorithms=algorithms,
    )


def ours_ok(p: Pki, crls: Sequence[x509.CertificateRevocationList]) -> bool:
    try:
        ours(p, crls)
    except CertificateChainError:
        return False
    return True


def openssl_ok(
    p: Pki, crls: Sequence[x509.CertificateRevocationList], tmp: Path
) -> tuple[bool, str]:
    openssl = shutil.which("openssl")
    assert openssl, "the OpenSSL command-line tool is needed for the cross-check"
    files = {
        "root.pem": p.root.cert.public_bytes(Encoding.PEM),
        "inter.pem": p.inter.cert.public_bytes(Encoding.PEM),
        "leaf.pem": p.leaf.cert.public_bytes(Encoding.PEM),
        "crls.pem": b"".join(pki.crl_pem(c) for c in [*crls, p.root_crl]),
    }
    for name, data in files.items():
        (tmp / name).write_bytes(data)
    proc = subprocess.run(
        [
            openssl,
            "verify",
            "-crl_check_all",
            "-extended_crl",
            "-attime",
            str(int(AT.timestamp())),
            "-CAfile",
            str(tmp / "root.pem"),
            "-untrusted",
            str(tmp / "inter.pem"),
            "-CRLfile",
            str(tmp / "crls.pem"),
            str(tmp / "leaf.pem"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return proc.returncode == 0, proc.stdout + proc.stderr


def _unknown(critical: bool) -> tuple[x509.ExtensionType, bool]:
    oid = x509.ObjectIdentifier("1.3.6.1.4.1.55555.7")
    return x509.UnrecognizedExtension(oid, b"\x05\x00"), critical


def _dp(uri: str) -> x509.IssuingDistributionPoint:
    return idp(full_name=[x509.UniformResourceIdentifier(uri)])


# name -> (pki variant, CRLs for the leaf's issuer, expected outcome for both)
Case = tuple[
    Callable[[], Pki] | None,
    Callable[[Pki], list[x509.CertificateRevocationList]],
    bool,
]
CASES: dict[str, Case] = {
    "complete-crl": (None, lambda p: [crl(p.inter)], True),
    "complete-crl-revokes": (None, lambda p: [crl(p.inter, [(SERIAL, LAST)])], False),
    "delta-crl-alone": (
        None,
        lambda p: [crl(p.inter, crl_number=2, delta_of=1)],
        False,
    ),
    "delta-crl-alone-revokes": (
        None,
        lambda p: [crl(p.inter, [(SERIAL, LAST)], crl_number=2, delta_of=1)],
        False,
    ),
    "only-ca-certs": (
        None,
        lambda p: [crl(p.inter, idp=idp(only_contains_ca_certs=True))],
        False,
    ),
    "only-user-certs": (
        None,
        lambda p: [crl(p.inter, idp=idp(only_contains_user_certs=True))],
        True,
    ),
    "only-some-reasons": (
        None,
        lambda p: [
            crl(p.inter, idp=idp(only_some_reasons=frozenset({R.key_compromise})))
        ],
        False,
    ),
    "unrecognised-critical-crl-extension": (
        None,
        lambda p: [crl(p.inter, extra_extensions=[_unknown(critical=True)])],
        False,
    ),
    "unrecognised-non-critical-crl-extension": (
        None,
        lambda p: [crl(p.inter, extra_extensions=[_unknown(critical=False)])],
        True,
    ),
    "unrecognised-critical-entry-extension": (
        None,
        lambda p: [
            crl(
                p.inter,
                [
                    pki.revoked_entry(
                        7, LAST, extra_extensions=[_unknown(critical=True)]
                    )
                ],
            )
        ],
        False,
    ),
    "issuer-without-crl-sign": (
        lambda: _pki(crl_sign=False),
        lambda p: [crl(p.inter)],
        False,
    ),
    "stale-crl": (
        None,
        lambda p: [
            crl(
                p.inter,
                last_update=AT - timedelta(days=9),
                next_update=AT - timedelta(days=2),
            )
        ],
        False,
    ),
    "indirect-crl-entry-for-other-issuer": (
        None,
        lambda p: [
            crl(
                p.inter,
                [
                    pki.revoked_entry(
                        SERIAL, LAST, certificate_issuer=p.root.cert.subject
                    )
                ],
                idp=idp(indirect_crl=True),
            )
        ],
        True,
    ),
    "indirect-crl-entry-for-issuer": (
        None,
        lambda p: [
            crl(
                p.inter,
                [
                    pki.revoked_entry(
                        SERIAL, LAST, certificate_issuer=p.inter.cert.subject
                    )
                ],
                idp=idp(indirect_crl=True),
            )
        ],
        False,
    ),
    "distribution-point-matches": (
        lambda: _pki(dp=URI),
        lambda p: [crl(p.inter, idp=_dp(URI))],
        True,
    ),
    "distribution-point-differs": (
        lambda: _pki(dp=URI),
        lambda p: [crl(p.inter, idp=_dp(URI + ".other"))],
        False,
    ),
    "distribution-point-not-in-certificate": (
        None,
        lambda p: [crl(p.inter, idp=_dp(URI))],
        False,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_scope_agrees_with_openssl(plain: Pki, case: str, tmp_path: Path) -> None:
    variant, make, expected = CASES[case]
    p = variant() if variant is not None else plain
    crls = make(p)
    assert ours_ok(p, crls) is expected
    ok, output = openssl_ok(p, crls, tmp_path)
    assert ok is expected, output


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("delta-crl-alone", "delta CRL"),
        ("only-ca-certs", "CA certificates only"),
        ("only-some-reasons", "cover only the reasons keyCompromise"),
        ("unrecognised-critical-crl-extension", "unrecognised critical CRL extension"),
        ("unrecognised-critical-entry-extension", "critical CRL entry extension"),
        ("issuer-without-crl-sign", "lacks cRLSign"),
        ("stale-crl", "not current"),
        ("distribution-point-differs", "distribution point names do not match"),
        ("distribution-point-not-in-certificate", "does not list"),
    ],
)
def test_require_names_why_no_crl_counts(plain: Pki, case: str, needle: str) -> None:
    variant, make, _ = CASES[case]
    p = variant() if variant is not None else plain
    with pytest.raises(CertificateChainError, match="no current CRL") as info:
        ours(p, make(p))
    assert needle in str(info.value)


def test_reason_partitioned_crls_together_are_complete(plain: Pki) -> None:
    compromise = frozenset({R.key_compromise, R.ca_compromise, R.aa_compromise})
    rest = (
        frozenset(r for r in R if r not in {R.unspecified, R.remove_from_crl})
        - compromise
    )
    crls = [
        crl(plain.inter, idp=idp(only_some_reasons=compromise), crl_number=3),
        crl(plain.inter, idp=idp(only_some_reasons=rest), crl_number=4),
    ]
    assert "not revoked" in ours(plain, crls)
    with pytest.raises(CertificateChainError, match="cover only the reasons"):
        ours(plain, crls[:1])


def test_crl_without_next_update_is_never_current(plain: Pki) -> None:
    with pytest.raises(CertificateChainError, match="no nextUpdate"):
        ours(plain, [crl(plain.inter, next_update=None)])


def test_crl_signed_with_refused_digest_does_not_count(plain: Pki) -> None:
    sha1 = crl(plain.inter, hash_alg=hashes.SHA1())  # noqa: S303 - negative test
    with pytest.raises(CertificateChainError, match="SHA1"):
        ours(plain, [sha1])
    narrow = CrlAlgorithms(digests=frozenset({"sha384"}))
    with pytest.raises(CertificateChainError, match="SHA256"):
        ours(plain, [crl(plain.inter)], algorithms=narrow)


def test_delta_applies_only_to_its_base(plain: Pki) -> None:
    base = crl(plain.inter, crl_number=4)
    matching = crl(plain.inter, crl_number=5, delta_of=4)
    newer_base = crl(plain.inter, crl_number=6, delta_of=5)  # base 5 is not supplied
    scoped = crl(
        plain.inter, crl_number=7, delta_of=4, idp=idp(only_contains_user_certs=True)
    )
    note = ours(plain, [base, matching, newer_base, scoped])
    assert "with delta CRL #1 (cRLNumber 5)" in note
    assert "cRLNumber 6" not in note
    assert "cRLNumber 7" not in note


def test_revoked_in_delta_fails_with_base(plain: Pki) -> None:
    base = crl(plain.inter, crl_number=4)
    delta = crl(plain.inter, [(SERIAL, LAST)], crl_number=5, delta_of=4)
    with pytest.raises(CertificateChainError, match="is revoked since"):
        ours(plain, [base, delta])


def test_remove_from_crl_entry_is_not_a_revocation(plain: Pki) -> None:
    base = crl(plain.inter, crl_number=4)
    delta = crl(
        plain.inter,
        [pki.revoked_entry(SERIAL, LAST, reason=R.remove_from_crl)],
        crl_number=5,
        delta_of=4,
    )
    assert "not revoked" in ours(plain, [base, delta])


# -- if-available: revocation data that says "revoked" is never ignored --------------

SAYS_REVOKED: dict[str, Callable[[Pki], x509.CertificateRevocationList]] = {
    "stale": lambda p: crl(
        p.inter,
        [(SERIAL, LAST - timedelta(days=30))],
        last_update=AT - timedelta(days=30),
        next_update=AT - timedelta(days=23),
    ),
    "not-yet-valid": lambda p: crl(
        p.inter,
        [(SERIAL, LAST)],
        last_update=AT + timedelta(days=1),
        next_update=AT + timedelta(days=8),
    ),
    "only-ca-certs": lambda p: crl(
        p.inter, [(SERIAL, LAST)], idp=idp(only_contains_ca_certs=True)
    ),
    "only-some-reasons": lambda p: crl(
        p.inter, [(SERIAL, LAST)], idp=idp(only_some_reasons=frozenset({R.superseded}))
    ),
    "delta-without-base": lambda p: crl(
        p.inter, [(SERIAL, LAST)], crl_number=9, delta_of=8
    ),
    "unrecognised-critical-extension": lambda p: crl(
        p.inter, [(SERIAL, LAST)], extra_extensions=[_unknown(critical=True)]
    ),
    "no-next-update": lambda p: crl(p.inter, [(SERIAL, LAST)], next_update=None),
}


@pytest.mark.parametrize("case", sorted(SAYS_REVOKED))
def test_if_available_never_ignores_revoked(plain: Pki, case: str) -> None:
    with pytest.raises(CertificateChainError, match="is revoked since"):
        ours(plain, [SAYS_REVOKED[case](plain)], mode=RevocationMode.IF_AVAILABLE)


def test_if_available_notes_unusable_crl(plain: Pki) -> None:
    unusable = crl(plain.inter, extra_extensions=[_unknown(critical=True)])
    note = ours(plain, [unusable], mode=RevocationMode.IF_AVAILABLE)
    assert "no CRL for CN=CRL Test Signing" in note
    assert "unrecognised critical CRL extension" in note


def test_revocation_needs_the_issuers_signature(plain: Pki) -> None:
    forged = pki.Issued(cert=plain.inter.cert, key=pki.new_key("ecdsa-p384"))
    note = ours(
        plain,
        [crl(forged, [(SERIAL, LAST)]), crl(plain.inter)],
        mode=RevocationMode.REQUIRE,
    )
    assert "not revoked" in note


# -- signing time, revocation date and invalidity date --------------------------------

REVOKED_AT = AT - timedelta(days=10)
INVALID_SINCE = AT - timedelta(days=20)


@pytest.mark.parametrize(
    ("entry", "signed_at", "ok"),
    [
        pytest.param({}, REVOKED_AT - timedelta(days=1), True, id="before-revocation"),
        pytest.param({}, REVOKED_AT, False, id="at-revocation"),
        pytest.param(
            {"reason": R.superseded},
            REVOKED_AT - timedelta(days=1),
            True,
            id="superseded",
        ),
        pytest.param(
            {"reason": R.key_compromise},
            REVOKED_AT - timedelta(days=1),
            False,
            id="key-compromise-without-invalidity-date",
        ),
        pytest.param(
            {"reason": R.key_compromise, "invalidity": INVALID_SINCE},
            REVOKED_AT - timedelta(days=1),
            False,
            id="key-compromise-signed-after-invalidity",
        ),
        pytest.param(
            {"reason": R.key_compromise, "invalidity": INVALID_SINCE},
            INVALID_SINCE - timedelta(days=1),
            True,
            id="key-compromise-signed-before-invalidity",
        ),
        pytest.param(
            {"invalidity": INVALID_SINCE},
            REVOKED_AT - timedelta(days=1),
            False,
            id="earlier-invalidity-date-without-reason",
        ),
        pytest.param(
            {"reason": R.ca_compromise},
            REVOKED_AT - timedelta(days=1),
            False,
            id="ca-compromise",
        ),
    ],
)
def test_timestamp_and_invalidity_date(
    plain: Pki, entry: dict[str, object], signed_at: datetime, ok: bool
) -> None:
    listed = crl(plain.inter, [pki.revoked_entry(SERIAL, REVOKED_AT, **entry)])  # type: ignore[arg-type]
    if ok:
        note = ours(plain, [listed], signed_at=signed_at)
        assert "after the timestamped signing time" in note
    else:
        with pytest.raises(CertificateChainError, match="is revoked since"):
            ours(plain, [listed], signed_at=signed_at)
