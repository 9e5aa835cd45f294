"""Sanity checks for the committed test PKI (``keys/``) and ``tests/pki.py``.

These also guard the committed material from expiring unnoticed.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    Policy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from tests import pki

_TESTS_DIR = Path(__file__).resolve().parents[1]

REPO = _TESTS_DIR.parent
KEYS = pki.KEYS_DIR
SCRIPT = REPO / "scripts" / "make-test-pki"
CODE_SIGNING_PKIS = ("vendor-a", "vendor-b", "certbody")
GUARD_UNTIL = datetime(2035, 1, 1, tzinfo=UTC)
REVOCATION_DATE = datetime(2025, 6, 1, tzinfo=UTC)
SHA1 = hashes.SHA1()  # noqa: S303 - deliberately building legacy SHA-1 material

EXPECTED_FILES = sorted(
    [
        "README.md",
        "operator/intake.key",
        "operator/intake.pub",
        "tsa/root.key",
        "tsa/root.pem",
        "tsa/tsa.key",
        "tsa/tsa.pem",
        "vendor-a/release.key",
        "vendor-a/release.pub",
    ]
    + [
        f"{d}/{f}"
        for d in CODE_SIGNING_PKIS
        for f in (
            "root.pem",
            "root.key",
            "intermediate.pem",
            "intermediate.key",
            "signing.pem",
            "signing.key",
            "signing-revoked.pem",
            "signing-revoked.key",
            "root.crl.pem",
            "intermediate.crl.pem",
        )
    ]
)

# openssl is a test requirement (.ci/run installs it): never skip these checks.
assert shutil.which("openssl"), "openssl is required (.ci/run installs it)"


# --------------------------------------------------------------------------
# The cryptography verifier policy for SAN-less code-signing leaves
# --------------------------------------------------------------------------


def _require_code_signing_eku(
    _policy: Policy, _cert: x509.Certificate, eku: x509.ExtendedKeyUsage
) -> None:
    if ExtendedKeyUsageOID.CODE_SIGNING not in eku:
        raise ValueError("extendedKeyUsage does not include codeSigning")


def code_signing_ee_policy() -> ExtensionPolicy:
    """WebPKI EE defaults, minus the SAN requirement, with EKU codeSigning.

    ``webpki_defaults_ee()`` requires subjectAltName and (for client verifiers)
    EKU clientAuth. Overriding those two entries keeps every other WebPKI EE
    check (basicConstraints, keyUsage, ...).
    """
    return (
        ExtensionPolicy.webpki_defaults_ee()
        .may_be_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None)
        .require_present(
            x509.ExtendedKeyUsage, Criticality.AGNOSTIC, _require_code_signing_eku
        )
    )


def verify_code_signing(
    leaf: x509.Certificate,
    intermediates: list[x509.Certificate],
    root: x509.Certificate,
    when: datetime,
) -> list[x509.Certificate]:
    verified = (
        PolicyBuilder()
        .store(Store([root]))
        .time(when)
        .extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(),
            ee_policy=code_signing_ee_policy(),
        )
        .build_client_verifier()
        .verify(leaf, intermediates)
    )
    assert verified.subjects is None  # no SAN: identified by subject DN
    return verified.chain


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _crl(path: Path) -> x509.CertificateRevocationList:
    return x509.load_pem_x509_crl(path.read_bytes())


def _issuer_key(cert: x509.Certificate) -> ec.EllipticCurvePublicKey | rsa.RSAPublicKey:
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey)
    return key


def _issued(pki_dir: str, name: str) -> pki.Issued:
    d = KEYS / pki_dir
    return pki.load_issued(d / f"{name}.pem", d / f"{name}.key")


# --------------------------------------------------------------------------
# Committed material
# --------------------------------------------------------------------------


def test_committed_layout() -> None:
    files = sorted(
        p.relative_to(KEYS).as_posix() for p in KEYS.rglob("*") if p.is_file()
    )
    assert files == EXPECTED_FILES


def test_readme_warns_test_only() -> None:
    text = (KEYS / "README.md").read_text(encoding="utf-8")
    assert "ONLY" in text
    assert "production" in text
    assert "scripts/make-test-pki --force" in text


@pytest.mark.parametrize("pki_dir", CODE_SIGNING_PKIS)
@pytest.mark.parametrize(
    "when",
    [datetime(2026, 6, 1, tzinfo=UTC), GUARD_UNTIL],
    ids=["2026-06-01", "2035-01-01"],
)
def test_signing_leaf_chains_to_root(pki_dir: str, when: datetime) -> None:
    d = KEYS / pki_dir
    root = _cert(d / "root.pem")
    inter = _cert(d / "intermediate.pem")
    for leaf_name in ("signing.pem", "signing-revoked.pem"):
        leaf = _cert(d / leaf_name)
        chain = verify_code_signing(leaf, [inter], root, when)
        assert chain == [leaf, inter, root]


@pytest.mark.parametrize("pki_dir", CODE_SIGNING_PKIS)
def test_chain_needs_intermediate(pki_dir: str) -> None:
    d = KEYS / pki_dir
    with pytest.raises(VerificationError):
        verify_code_signing(
            _cert(d / "signing.pem"),
            [],
            _cert(d / "root.pem"),
            datetime(2026, 6, 1, tzinfo=UTC),
        )


def test_vendors_do_not_cross_verify() -> None:
    with pytest.raises(VerificationError):
        verify_code_signing(
            _cert(KEYS / "vendor-a" / "signing.pem"),
            [_cert(KEYS / "vendor-a" / "intermediate.pem")],
            _cert(KEYS / "vendor-b" / "root.pem"),
            datetime(2026, 6, 1, tzinfo=UTC),
        )


@pytest.mark.parametrize("pki_dir", [*CODE_SIGNING_PKIS, "tsa"])
def test_committed_material_valid_until_2035(pki_dir: str) -> None:
    d = KEYS / pki_dir
    certs = sorted(d.glob("*.pem"))
    certs = [p for p in certs if not p.name.endswith(".crl.pem")]
    assert certs
    for path in certs:
        cert = _cert(path)
        assert cert.not_valid_before_utc <= datetime(2025, 1, 1, tzinfo=UTC), path
        assert cert.not_valid_after_utc >= GUARD_UNTIL, path
    for path in d.glob("*.crl.pem"):
        crl = _crl(path)
        assert crl.next_update_utc is not None
        assert crl.next_update_utc >= GUARD_UNTIL, path


@pytest.mark.parametrize(
    ("pki_dir", "name"),
    [
        (d, n)
        for d in CODE_SIGNING_PKIS
        for n in ("root", "intermediate", "signing", "signing-revoked")
    ]
    + [("tsa", "root"), ("tsa", "tsa")],
)
def test_keys_match_certificates(pki_dir: str, name: str) -> None:
    issued = _issued(pki_dir, name)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    assert issued.key.public_key().public_bytes(der, spki) == (
        issued.cert.public_key().public_bytes(der, spki)
    )
    assert issued.key_pem().startswith(b"-----BEGIN PRIVATE KEY-----")


@pytest.mark.parametrize(
    ("pki_dir", "org", "country", "is_rsa"),
    [
        ("vendor-a", "Acme Radio Systems GmbH", "DE", False),
        ("vendor-b", "Borealis Networks Oy", "FI", True),
        ("certbody", "Example Certification Body GmbH", "DE", False),
    ],
)
def test_code_signing_profile(
    pki_dir: str, org: str, country: str, is_rsa: bool
) -> None:
    d = KEYS / pki_dir
    root = _cert(d / "root.pem")
    inter = _cert(d / "intermediate.pem")
    leaves = [_cert(d / "signing.pem"), _cert(d / "signing-revoked.pem")]
    for cert in (root, inter, *leaves):
        pub = cert.public_key()
        if is_rsa:
            assert isinstance(pub, rsa.RSAPublicKey)
            assert pub.key_size == 3072
        else:
            assert isinstance(pub, ec.EllipticCurvePublicKey)
            expected = ec.SECP256R1 if cert in leaves else ec.SECP384R1
            assert isinstance(pub.curve, expected)
    for cert in (root, inter):
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
        assert bc.critical
        assert bc.value.ca
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
        assert ku.critical
        assert ku.value.key_cert_sign
        assert ku.value.crl_sign
        cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    inter.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)

    for leaf in leaves:
        attrs = {a.oid: a.value for a in leaf.subject}
        assert attrs[x509.NameOID.ORGANIZATION_NAME] == org
        assert attrs[x509.NameOID.COUNTRY_NAME] == country
        ext_oids = {e.oid for e in leaf.extensions}
        assert ExtensionOID.SUBJECT_ALTERNATIVE_NAME not in ext_oids
        bc_leaf = leaf.extensions.get_extension_for_class(x509.BasicConstraints)
        assert bc_leaf.critical
        assert not bc_leaf.value.ca
        ku_leaf = leaf.extensions.get_extension_for_class(x509.KeyUsage)
        assert ku_leaf.critical
        assert ku_leaf.value.digital_signature
        assert not ku_leaf.value.key_cert_sign
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
        assert not eku.critical
        assert list(eku.value) == [ExtendedKeyUsageOID.CODE_SIGNING]


@pytest.mark.parametrize("pki_dir", CODE_SIGNING_PKIS)
def test_crls(pki_dir: str) -> None:
    d = KEYS / pki_dir
    root = _cert(d / "root.pem")
    inter = _cert(d / "intermediate.pem")
    revoked_leaf = _cert(d / "signing-revoked.pem")
    good_leaf = _cert(d / "signing.pem")

    root_crl = _crl(d / "root.crl.pem")
    assert root_crl.issuer == root.subject
    assert root_crl.is_signature_valid(_issuer_key(root))
    assert len(root_crl) == 0

    crl = _crl(d / "intermediate.crl.pem")
    assert crl.issuer == inter.subject
    assert crl.is_signature_valid(_issuer_key(inter))
    assert [r.serial_number for r in crl] == [revoked_leaf.serial_number]
    entry = crl.get_revoked_certificate_by_serial_number(revoked_leaf.serial_number)
    assert entry is not None
    assert entry.revocation_date_utc == REVOCATION_DATE
    assert crl.get_revoked_certificate_by_serial_number(good_leaf.serial_number) is None

    for c, issuer in ((root_crl, root), (crl, inter)):
        assert c.last_update_utc == pki.CRL_LAST_UPDATE
        assert c.next_update_utc == pki.CRL_NEXT_UPDATE
        assert (
            c.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 1
        )
        aki = c.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
        ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        assert aki.value.key_identifier == ski.value.digest


def test_tsa_certificate_profile() -> None:
    tsa = _cert(KEYS / "tsa" / "tsa.pem")
    root = _cert(KEYS / "tsa" / "root.pem")
    assert tsa.issuer == root.subject
    eku = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical
    assert list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    ku = tsa.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.value.digital_signature
    tsa.verify_directly_issued_by(root)


@pytest.mark.parametrize("stem", ["operator/intake", "vendor-a/release"])
def test_raw_ed25519_keys(stem: str) -> None:
    key = serialization.load_pem_private_key(
        (KEYS / f"{stem}.key").read_bytes(), password=None
    )
    pub = serialization.load_pem_public_key((KEYS / f"{stem}.pub").read_bytes())
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    assert isinstance(pub, ed25519.Ed25519PublicKey)
    assert (KEYS / f"{stem}.pub").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    pub.verify(key.sign(b"evidence"), b"evidence")


# --------------------------------------------------------------------------
# openssl CLI
# --------------------------------------------------------------------------


def _openssl(
    *args: str | Path, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["openssl", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


@pytest.mark.parametrize("pki_dir", CODE_SIGNING_PKIS)
def test_openssl_verify(pki_dir: str) -> None:
    d = KEYS / pki_dir
    chain = ("-CAfile", d / "root.pem", "-untrusted", d / "intermediate.pem")
    for leaf in ("signing.pem", "signing-revoked.pem"):
        res = _openssl("verify", *chain, "-purpose", "any", d / leaf)
        assert res.returncode == 0, res.stdout + res.stderr
        assert res.stdout.strip().endswith(": OK")

    crls = (
        "-crl_check_all",
        *("-CRLfile", d / "root.crl.pem"),
        *("-CRLfile", d / "intermediate.crl.pem"),
    )
    good = _openssl("verify", *chain, *crls, "-purpose", "any", d / "signing.pem")
    assert good.returncode == 0, good.stdout + good.stderr
    bad = _openssl(
        "verify", *chain, *crls, "-purpose", "any", d / "signing-revoked.pem"
    )
    assert bad.returncode != 0
    assert "certificate revoked" in bad.stdout + bad.stderr


TSA_POLICY = "1.3.6.1.4.1.99999.1.1"


def write_tsa_config(directory: Path, tsa_dir: Path = KEYS / "tsa") -> Path:
    """Minimal ``openssl ts -reply`` configuration for ``keys/tsa``.

    ``certs`` points at an empty file on purpose: without the key openssl
    prints a (harmless) NCONF "no value" error, and with the signer or the root
    in it the token's SignedData.certificates SET is either duplicated or not
    DER-sorted, which rfc3161-client rejects (InvalidSetOrdering). The client
    supplies the root itself.
    """
    (directory / "tsaserial").write_text("01\n", encoding="ascii")
    (directory / "empty-certs.pem").write_text("", encoding="ascii")
    config = directory / "tsa.cnf"
    config.write_text(
        f"""\
[ tsa ]
default_tsa = tsa_config

[ tsa_config ]
dir = {directory}
serial = $dir/tsaserial
crypto_device = builtin
signer_cert = {tsa_dir / "tsa.pem"}
signer_key = {tsa_dir / "tsa.key"}
certs = $dir/empty-certs.pem
signer_digest = sha256
default_policy = {TSA_POLICY}
other_policies = 1.3.6.1.4.1.99999.1.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
""",
        encoding="ascii",
    )
    return config


def test_openssl_ts_reply_with_committed_tsa(tmp_path: Path) -> None:
    from rfc3161_client import VerifierBuilder, decode_timestamp_response

    data = tmp_path / "artifact.bin"
    data.write_bytes(b"vendor firmware image\n")
    config = write_tsa_config(tmp_path)
    query = tmp_path / "req.tsq"
    reply = tmp_path / "resp.tsr"

    res = _openssl("ts", "-query", "-data", data, "-sha256", "-cert", "-out", query)
    assert res.returncode == 0, res.stderr
    res = _openssl(
        "ts", "-reply", "-config", config, "-queryfile", query, "-out", reply
    )
    assert res.returncode == 0, res.stderr
    assert "error" not in res.stderr.lower(), res.stderr

    res = _openssl(
        "ts", "-verify", "-data", data, "-in", reply,
        "-CAfile", KEYS / "tsa" / "root.pem",
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Verification: OK" in res.stdout

    resp = decode_timestamp_response(reply.read_bytes())
    assert resp.tst_info.policy == x509.ObjectIdentifier(TSA_POLICY)
    assert (
        resp.tst_info.message_imprint.message
        == hashlib.sha256(data.read_bytes()).digest()
    )
    verifier = VerifierBuilder(
        roots=[_cert(KEYS / "tsa" / "root.pem")],
        tsa_certificate=_cert(KEYS / "tsa" / "tsa.pem"),
    ).build()
    assert verifier.verify_message(resp, data.read_bytes())


# --------------------------------------------------------------------------
# pki.py builders (negative-test material)
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ec_chain() -> tuple[pki.Issued, pki.Issued]:
    root = pki.make_root("Test Root", org="Test Org")
    inter = pki.make_intermediate("Test CA", root, org="Test Org")
    return root, inter


def test_policy_rejects_wrong_or_missing_eku(
    ec_chain: tuple[pki.Issued, pki.Issued],
) -> None:
    root, inter = ec_chain
    when = datetime(2026, 6, 1, tzinfo=UTC)
    ok = pki.make_leaf("ok", inter, org="Test Org")
    verify_code_signing(ok.cert, [inter.cert], root.cert, when)
    for eku in ([ExtendedKeyUsageOID.SERVER_AUTH], None):
        leaf = pki.make_leaf("bad", inter, org="Test Org", eku=eku)
        with pytest.raises(VerificationError):
            verify_code_signing(leaf.cert, [inter.cert], root.cert, when)


def test_policy_rejects_non_ca_intermediate(
    ec_chain: tuple[pki.Issued, pki.Issued],
) -> None:
    root, _ = ec_chain
    non_ca = pki.make_intermediate("not a CA", root, org="Test Org", ca=False)
    bc = non_ca.cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical
    assert not bc.value.ca
    leaf = pki.make_leaf("leaf", non_ca, org="Test Org")
    with pytest.raises(VerificationError):
        verify_code_signing(
            leaf.cert, [non_ca.cert], root.cert, datetime(2026, 6, 1, tzinfo=UTC)
        )


def test_policy_rejects_expired_leaf(ec_chain: tuple[pki.Issued, pki.Issued]) -> None:
    root, inter = ec_chain
    leaf = pki.make_leaf(
        "expired",
        inter,
        org="Test Org",
        not_after=datetime(2025, 6, 1, tzinfo=UTC),
    )
    with pytest.raises(VerificationError):
        verify_code_signing(
            leaf.cert, [inter.cert], root.cert, datetime(2026, 6, 1, tzinfo=UTC)
        )


def test_leaf_san_only_when_requested(ec_chain: tuple[pki.Issued, pki.Issued]) -> None:
    _, inter = ec_chain
    plain = pki.make_leaf("plain", inter, org="Test Org")
    assert ExtensionOID.SUBJECT_ALTERNATIVE_NAME not in {
        e.oid for e in plain.cert.extensions
    }
    with_san = pki.make_leaf(
        "san",
        inter,
        org="Test Org",
        san_emails=["release@example.com"],
        san_uris=["https://example.com/release"],
    )
    san = with_san.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.value.get_values_for_type(x509.RFC822Name) == ["release@example.com"]


def test_leaf_without_digital_signature(
    ec_chain: tuple[pki.Issued, pki.Issued],
) -> None:
    _, inter = ec_chain
    leaf = pki.make_leaf("kE", inter, org="Test Org", digital_signature=False)
    ku = leaf.cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert not ku.digital_signature
    assert ku.key_encipherment


@pytest.mark.parametrize("key_kind", ["rsa-2048", "ecdsa-p384"])
def test_sha1_signed_leaf(key_kind: pki.KeyKind) -> None:
    root = pki.make_root("SHA-1 Root", org="Test Org", key_kind=key_kind)
    leaf = pki.make_leaf("SHA-1 leaf", root, org="Test Org", hash_alg=SHA1)
    cert = leaf.cert
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA1)
    pub = root.cert.public_key()
    if isinstance(pub, rsa.RSAPublicKey):
        assert cert.signature_algorithm_oid == x509.SignatureAlgorithmOID.RSA_WITH_SHA1
        pub.verify(
            cert.signature,
            cert.tbs_certificate_bytes,
            padding.PKCS1v15(),
            SHA1,
        )
    else:
        assert isinstance(pub, ec.EllipticCurvePublicKey)
        assert (
            cert.signature_algorithm_oid == x509.SignatureAlgorithmOID.ECDSA_WITH_SHA1
        )
        pub.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(SHA1))
    # Everything except the signature survived the re-signing.
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert list(eku.value) == [ExtendedKeyUsageOID.CODE_SIGNING]
    assert cert.issuer == root.cert.subject
    with pytest.raises(VerificationError, match="Forbidden signature algorithm"):
        verify_code_signing(cert, [], root.cert, datetime(2026, 6, 1, tzinfo=UTC))


def test_sha1_signed_crl() -> None:
    root = pki.make_root("SHA-1 Root", org="Test Org", key_kind="rsa-2048")
    crl = pki.make_crl(root, [(42, REVOCATION_DATE)], hash_alg=SHA1)
    assert isinstance(crl.signature_hash_algorithm, hashes.SHA1)
    pub = root.cert.public_key()
    assert isinstance(pub, rsa.RSAPublicKey)
    pub.verify(crl.signature, crl.tbs_certlist_bytes, padding.PKCS1v15(), SHA1)
    assert [r.serial_number for r in crl] == [42]


def test_ed25519_issuer_and_tsa_leaf() -> None:
    root = pki.make_root("Ed Root", org="Test Org", key_kind="ed25519")
    tsa = pki.make_tsa_leaf("Ed TSA", root, org="Test Org", key_kind="ed25519")
    assert tsa.cert.signature_hash_algorithm is None
    tsa.cert.verify_directly_issued_by(root.cert)
    eku = tsa.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical
    assert list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]


def test_new_key_kinds() -> None:
    sizes = {"rsa-1024": 1024, "rsa-2048": 2048}
    for kind, size in sizes.items():
        key = pki.new_key(kind)  # type: ignore[arg-type]
        assert isinstance(key, rsa.RSAPrivateKey)
        assert key.key_size == size
    assert isinstance(pki.new_key(), ec.EllipticCurvePrivateKey)
    assert isinstance(pki.new_key("ed25519"), ed25519.Ed25519PrivateKey)


def test_write_pem_refuses_non_pem(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="non-PEM"):
        pki.write_pem(tmp_path / "x.pem", b"\x30\x00")
    pki.write_pem(tmp_path / "sub" / "x.pem", b"-----BEGIN X-----\n")
    assert (tmp_path / "sub" / "x.pem").exists()


# --------------------------------------------------------------------------
# scripts/make-test-pki
# --------------------------------------------------------------------------


def test_make_test_pki_script(tmp_path: Path) -> None:
    out = tmp_path / "keys"
    run = [sys.executable, str(SCRIPT), "--out", str(out)]
    first = subprocess.run(run, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == EXPECTED_FILES
    before = (out / "vendor-a" / "signing.pem").read_bytes()

    again = subprocess.run(run, capture_output=True, text=True, check=False)
    assert again.returncode == 1
    assert "--force" in again.stderr
    assert (out / "vendor-a" / "signing.pem").read_bytes() == before

    forced = subprocess.run(
        [*run, "--force"], capture_output=True, text=True, check=False
    )
    assert forced.returncode == 0, forced.stderr
    assert (out / "vendor-a" / "signing.pem").read_bytes() != before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys"]  # no leftovers
