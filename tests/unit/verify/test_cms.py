"""Detached CMS SignedData verification, with ``openssl cms`` as signer and oracle."""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import cms as asn1_cms
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from tests.pki import Issued, KeyKind, make_leaf, make_root, write_pem
from vendorproof.errors import (
    AlgorithmError,
    DigestMismatchError,
    InvalidInputError,
    SignatureError,
)
from vendorproof.verify.cms import (
    CMS_SIGNATURE_ALGORITHMS,
    digest_content,
    embedded_certificates,
    verify_detached,
    verify_detached_digest,
)

CONTENT = b"manifest bytes\r\nSource: Files/a.bin\r\n" * 50


@dataclass(frozen=True)
class Signer:
    issued: Issued
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Signer]:
    base = tmp_path_factory.mktemp("cms-pki")
    root = make_root("CMS Test Root", org="Vendor")
    kinds: dict[str, KeyKind] = {
        "rsa": "rsa-2048",
        "rsa-other": "rsa-2048",
        "p256": "ecdsa-p256",
        "p384": "ecdsa-p384",
        "rsa-1024": "rsa-1024",
    }
    out: dict[str, Signer] = {}
    for name, kind in kinds.items():
        leaf = make_leaf(f"signer {name}", root, org="Vendor", key_kind=kind)
        write_pem(base / f"{name}.cert", leaf.cert_pem())
        write_pem(base / f"{name}.key", leaf.key_pem())
        out[name] = Signer(leaf, base / f"{name}.cert", base / f"{name}.key")
    return out


def openssl_sign(
    tmp: Path, content: bytes, signers: list[Signer], *args: str, outform: str = "PEM"
) -> bytes:
    src = tmp / "content.bin"
    src.write_bytes(content)
    cmd = ["openssl", "cms", "-sign", "-binary", "-in", str(src), "-outform", outform]
    for s in signers:
        cmd += ["-signer", str(s.cert), "-inkey", str(s.key)]
    return subprocess.run(
        [*cmd, *args], check=True, capture_output=True, timeout=60
    ).stdout


def openssl_verifies(
    tmp: Path, sig: bytes, content: bytes, *, certfile: Path | None = None
) -> bool:
    (tmp / "sig.cms").write_bytes(sig)
    (tmp / "oracle.bin").write_bytes(content)
    inform = "PEM" if sig.lstrip().startswith(b"-----") else "DER"
    cmd = [
        "openssl", "cms", "-verify", "-binary", "-noverify", "-inform", inform,
        "-in", str(tmp / "sig.cms"), "-content", str(tmp / "oracle.bin"),
        "-out", str(tmp / "out.bin"),
    ]  # fmt: skip
    if certfile is not None:
        cmd += ["-certfile", str(certfile)]
    return (
        subprocess.run(cmd, check=False, capture_output=True, timeout=60).returncode
        == 0
    )


@pytest.mark.parametrize(
    ("signer", "args", "outform", "algorithm", "digest"),
    [
        ("rsa", (), "PEM", "rsa-pkcs1v15-sha256", "sha256"),
        ("rsa", (), "DER", "rsa-pkcs1v15-sha256", "sha256"),
        ("rsa", ("-md", "sha512"), "DER", "rsa-pkcs1v15-sha512", "sha512"),
        (
            "rsa",
            ("-keyopt", "rsa_padding_mode:pss"),
            "PEM",
            "rsa-pss-sha256",
            "sha256",
        ),
        (
            "rsa",
            (
                "-md",
                "sha384",
                "-keyopt",
                "rsa_padding_mode:pss",
                "-keyopt",
                "rsa_pss_saltlen:digest",
            ),
            "DER",
            "rsa-pss-sha384",
            "sha384",
        ),
        ("p256", (), "PEM", "ecdsa-p256-sha256", "sha256"),
        ("p256", ("-keyid",), "DER", "ecdsa-p256-sha256", "sha256"),
        ("p384", ("-md", "sha384"), "PEM", "ecdsa-p384-sha384", "sha384"),
    ],
)
def test_openssl_signatures_verify(  # noqa: PLR0917
    tmp_path: Path,
    pki: dict[str, Signer],
    signer: str,
    args: tuple[str, ...],
    outform: str,
    algorithm: str,
    digest: str,
) -> None:
    sig = openssl_sign(tmp_path, CONTENT, [pki[signer]], *args, outform=outform)
    assert openssl_verifies(tmp_path, sig, CONTENT)
    before = datetime.now(UTC).replace(microsecond=0)
    result = verify_detached(sig, CONTENT, file="sig.cms")
    assert result.signer == pki[signer].issued.cert
    assert result.signer_in_cms
    assert result.certificates == ()
    assert result.signature_algorithm == algorithm
    assert algorithm in CMS_SIGNATURE_ALGORITHMS
    assert result.digest_algorithm == digest
    assert result.content_digest == digest_content(CONTENT, digest)
    assert result.claimed_signing_time is not None
    assert result.claimed_signing_time.tzinfo is not None
    assert abs((result.claimed_signing_time - before).total_seconds()) < 3600


def test_content_is_streamed_from_files_and_chunks(
    tmp_path: Path, pki: dict[str, Signer]
) -> None:
    sig = openssl_sign(tmp_path, CONTENT, [pki["p256"]])
    verify_detached(sig, io.BytesIO(CONTENT), file="sig.cms")
    chunks = (CONTENT[i : i + 7] for i in range(0, len(CONTENT), 7))
    verify_detached(sig, chunks, file="sig.cms")
    with pytest.raises(DigestMismatchError):
        verify_detached(sig, iter([CONTENT, b"x"]), file="sig.cms")


def test_signer_supplied_beside_the_cms(tmp_path: Path, pki: dict[str, Signer]) -> None:
    sig = openssl_sign(tmp_path, CONTENT, [pki["rsa"]], "-nocerts")
    assert openssl_verifies(tmp_path, sig, CONTENT, certfile=pki["rsa"].cert)
    assert not openssl_verifies(tmp_path, sig, CONTENT)
    with pytest.raises(SignatureError, match=r"signerInfos\[0\]\.sid"):
        verify_detached(sig, CONTENT, file="sig.cms")
    result = verify_detached(
        sig, CONTENT, file="sig.cms", extra_certificates=[pki["rsa"].issued.cert]
    )
    assert result.signer == pki["rsa"].issued.cert
    assert not result.signer_in_cms


def test_wrong_certificate_is_refused(tmp_path: Path, pki: dict[str, Signer]) -> None:
    sig = openssl_sign(tmp_path, CONTENT, [pki["rsa"]], "-nocerts")
    other = pki["rsa-other"]
    assert not openssl_verifies(tmp_path, sig, CONTENT, certfile=other.cert)
    with pytest.raises(SignatureError, match="matches the signer identifier"):
        verify_detached(
            sig, CONTENT, file="sig.cms", extra_certificates=[other.issued.cert]
        )


def test_other_certificates_are_returned(
    tmp_path: Path, pki: dict[str, Signer]
) -> None:
    sig = openssl_sign(
        tmp_path, CONTENT, [pki["p256"]], "-certfile", str(pki["rsa"].cert)
    )
    result = verify_detached(sig, CONTENT, file="sig.cms")
    assert result.signer == pki["p256"].issued.cert
    assert result.certificates == (pki["rsa"].issued.cert,)


def test_tampered_content_fails(tmp_path: Path, pki: dict[str, Signer]) -> None:
    sig = openssl_sign(tmp_path, CONTENT, [pki["rsa"]])
    tampered = CONTENT[:-1] + b"!"
    assert not openssl_verifies(tmp_path, sig, tampered)
    with pytest.raises(DigestMismatchError, match="messageDigest"):
        verify_detached(sig, tampered, file="sig.cms")


def _resigned_time(der: bytes) -> bytes:
    """The CMS with its signingTime attribute changed, the signature kept."""
    info = asn1_cms.ContentInfo.load(der)
    attrs = info["content"]["signer_infos"][0]["signed_attrs"]
    for attr in attrs:
        if attr["type"].native == "signing_time":
            attr["values"] = [
                asn1_cms.Time({"utc_time": datetime(2001, 1, 1, tzinfo=UTC)})
            ]
    return bytes(info.dump(force=True))


@pytest.mark.parametrize("signer", ["rsa", "p256"])
def test_tampered_signed_attributes_fail(
    tmp_path: Path, pki: dict[str, Signer], signer: str
) -> None:
    sig = _resigned_time(openssl_sign(tmp_path, CONTENT, [pki[signer]], outform="DER"))
    assert not openssl_verifies(tmp_path, sig, CONTENT)
    with pytest.raises(SignatureError, match="does not verify"):
        verify_detached(sig, CONTENT, file="sig.cms")


def test_tampered_signature_value_fails(tmp_path: Path, pki: dict[str, Signer]) -> None:
    der = openssl_sign(tmp_path, CONTENT, [pki["rsa"]], outform="DER")
    info = asn1_cms.ContentInfo.load(der)
    si = info["content"]["signer_infos"][0]
    value = bytearray(si["signature"].native)
    value[-1] ^= 1
    si["signature"] = bytes(value)
    sig = bytes(info.dump(force=True))
    assert not openssl_verifies(tmp_path, sig, CONTENT)
    with pytest.raises(SignatureError):
        verify_detached(sig, CONTENT, file="sig.cms")


def test_two_signers_are_refused(tmp_path: Path, pki: dict[str, Signer]) -> None:
    sig = openssl_sign(tmp_path, CONTENT, [pki["rsa"], pki["p256"]])
    assert openssl_verifies(tmp_path, sig, CONTENT)  # openssl accepts; we do not
    with pytest.raises(InvalidInputError, match="2 signers") as e:
        verify_detached(sig, CONTENT, file="sig.cms")
    assert e.value.file == "sig.cms"
    assert e.value.path == "SignedData.signerInfos"


def test_no_signer_is_refused(tmp_path: Path, pki: dict[str, Signer]) -> None:
    der = openssl_sign(tmp_path, CONTENT, [pki["rsa"]], outform="DER")
    info = asn1_cms.ContentInfo.load(der)
    info["content"]["signer_infos"] = []
    with pytest.raises(InvalidInputError, match="0 signers"):
        verify_detached(bytes(info.dump(force=True)), CONTENT, file="sig.cms")


def test_missing_signed_attributes_are_refused(
    tmp_path: Path, pki: dict[str, Signer]
) -> None:
    sig = openssl_sign(tmp_path, CONTENT, [pki["rsa"]], "-noattr")
    assert openssl_verifies(tmp_path, sig, CONTENT)  # valid CMS, but not allowed here
    with pytest.raises(InvalidInputError, match="signed attributes are required") as e:
        verify_detached(sig, CONTENT, file="sig.cms")
    assert e.value.path == "signerInfos[0].signedAttrs"


@pytest.mark.parametrize("md", ["sha1", "md5", "sha224"])
def test_weak_digest_is_refused(
    tmp_path: Path, pki: dict[str, Signer], md: str
) -> None:
    sig = openssl_sign(tmp_path, CONTENT, [pki["rsa"]], "-md", md)
    assert openssl_verifies(tmp_path, sig, CONTENT)
    with pytest.raises(AlgorithmError, match=f"{md} is not allowed"):
        verify_detached(sig, CONTENT, file="sig.cms")


def test_curve_hash_pairing_is_enforced(tmp_path: Path, pki: dict[str, Signer]) -> None:
    sig = openssl_sign(tmp_path, CONTENT, [pki["p384"]], "-md", "sha256")
    assert openssl_verifies(tmp_path, sig, CONTENT)
    with pytest.raises(AlgorithmError, match="secp384r1 with sha256"):
        verify_detached(sig, CONTENT, file="sig.cms")


def test_small_rsa_key_is_refused(tmp_path: Path, pki: dict[str, Signer]) -> None:
    sig = openssl_sign(tmp_path, CONTENT, [pki["rsa-1024"]])
    with pytest.raises(AlgorithmError, match="1024 bits"):
        verify_detached(sig, CONTENT, file="sig.cms")


def test_pss_salt_shorter_than_hash_is_refused(
    tmp_path: Path, pki: dict[str, Signer]
) -> None:
    sig = openssl_sign(
        tmp_path, CONTENT, [pki["rsa"]],
        "-keyopt", "rsa_padding_mode:pss", "-keyopt", "rsa_pss_saltlen:16",
    )  # fmt: skip
    assert openssl_verifies(tmp_path, sig, CONTENT)
    with pytest.raises(AlgorithmError, match="salt length 16"):
        verify_detached(sig, CONTENT, file="sig.cms")


def _with_salt(der: bytes, salt: int) -> bytes:
    info = asn1_cms.ContentInfo.load(der)
    alg = info["content"]["signer_infos"][0]["signature_algorithm"]
    alg["parameters"]["salt_length"] = salt
    return bytes(info.dump(force=True))


def test_pss_salt_longer_than_the_key_allows_is_refused(
    tmp_path: Path, pki: dict[str, Signer]
) -> None:
    """RFC 8017 §9.1.2: emLen >= hLen + sLen + 2 (222 bytes for RSA-2048, SHA-256)."""
    der = openssl_sign(
        tmp_path, CONTENT, [pki["rsa"]], "-outform", "DER",
        "-keyopt", "rsa_padding_mode:pss", "-keyopt", "rsa_pss_saltlen:max",
    )  # fmt: skip
    assert openssl_verifies(tmp_path, der, CONTENT)
    params = asn1_cms.ContentInfo.load(der)["content"]["signer_infos"][0][
        "signature_algorithm"
    ]["parameters"]
    assert params["salt_length"].native == 222
    verified = verify_detached(der, CONTENT, file="sig.cms")
    assert verified.signature_algorithm == "rsa-pss-sha256"
    # One byte more, or lengths no C integer holds: a refused algorithm, never a crash.
    for salt in (223, 2**31, 2**64 + 5):
        with pytest.raises(AlgorithmError, match=f"salt length {salt} exceeds"):
            verify_detached(_with_salt(der, salt), CONTENT, file="sig.cms")


def test_pss_restricted_key_signs_only_pss(tmp_path: Path) -> None:
    """RFC 4055 §1.2: a certificate whose key is id-RSASSA-PSS allows PSS only."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key_file, cert_file = tmp_path / "pss.key", tmp_path / "pss.pem"
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "RSA-PSS", "-pkeyopt",
         "rsa_keygen_bits:2048", "-out", str(key_file)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    subprocess.run(
        ["openssl", "req", "-new", "-x509", "-key", str(key_file), "-subj",
         "/CN=PSS only", "-days", "30", "-out", str(cert_file)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    signer = Signer(None, cert_file, key_file)  # type: ignore[arg-type]
    pss = ("-keyopt", "rsa_padding_mode:pss")
    der = openssl_sign(tmp_path, CONTENT, [signer], *pss, outform="DER")
    assert openssl_verifies(tmp_path, der, CONTENT)
    assert verify_detached(der, CONTENT, file="sig.cms").signature_algorithm == (
        "rsa-pss-sha256"
    )
    # Without the padding option openssl labels the signature rsaEncryption, which
    # the key does not allow: refused by the oracle as well.
    labelled = openssl_sign(tmp_path, CONTENT, [signer], outform="DER")
    assert not openssl_verifies(tmp_path, labelled, CONTENT)
    with pytest.raises(AlgorithmError, match="restricts to RSASSA-PSS"):
        verify_detached(labelled, CONTENT, file="sig.cms")
    # The same key's PKCS#1 v1.5 signature over the same signed attributes.
    key = serialization.load_pem_private_key(key_file.read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    info = asn1_cms.ContentInfo.load(der)
    si = info["content"]["signer_infos"][0]
    attrs = si["signed_attrs"].dump()
    si["signature_algorithm"] = {"algorithm": "sha256_rsa"}
    si["signature"] = key.sign(b"\x31" + attrs[1:], padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(AlgorithmError, match="restricts to RSASSA-PSS"):
        verify_detached(bytes(info.dump(force=True)), CONTENT, file="sig.cms")


def test_digest_algorithms_must_list_the_signers(
    tmp_path: Path, pki: dict[str, Signer]
) -> None:
    """RFC 5652 §5.1: digestAlgorithms lists every signer's digest algorithm."""
    der = openssl_sign(tmp_path, CONTENT, [pki["rsa"]], outform="DER")
    info = asn1_cms.ContentInfo.load(der)
    info["content"]["digest_algorithms"] = [{"algorithm": "sha512"}]
    bad = bytes(info.dump(force=True))
    assert not openssl_verifies(tmp_path, bad, CONTENT)  # the oracle agrees
    with pytest.raises(InvalidInputError, match="digest algorithm sha256") as e:
        verify_detached(bad, CONTENT, file="sig.cms")
    assert e.value.path == "SignedData.digestAlgorithms"


def test_signer_info_version_matches_the_identifier(
    tmp_path: Path, pki: dict[str, Signer]
) -> None:
    """RFC 5652 §5.3: v1 with issuerAndSerialNumber, v3 with subjectKeyIdentifier."""
    for args, wrong in (((), "v3"), (("-keyid",), "v1")):
        der = openssl_sign(tmp_path, CONTENT, [pki["rsa"]], *args, outform="DER")
        verify_detached(der, CONTENT, file="sig.cms")  # as signed: valid
        info = asn1_cms.ContentInfo.load(der)
        info["content"]["signer_infos"][0]["version"] = wrong
        with pytest.raises(InvalidInputError, match=f"SignerInfo version {wrong}") as e:
            verify_detached(bytes(info.dump(force=True)), CONTENT, file="sig.cms")
        assert e.value.path == "signerInfos[0].version"


def test_pss_mgf1_hash_must_match_the_digest(
    tmp_path: Path, pki: dict[str, Signer]
) -> None:
    sig = openssl_sign(
        tmp_path, CONTENT, [pki["rsa"]],
        "-keyopt", "rsa_padding_mode:pss", "-keyopt", "rsa_mgf1_md:sha512",
    )  # fmt: skip
    assert openssl_verifies(tmp_path, sig, CONTENT)
    with pytest.raises(AlgorithmError, match="MGF1 sha512"):
        verify_detached(sig, CONTENT, file="sig.cms")


def test_embedded_content_is_refused(tmp_path: Path, pki: dict[str, Signer]) -> None:
    sig = openssl_sign(tmp_path, CONTENT, [pki["rsa"]], "-nodetach")
    with pytest.raises(InvalidInputError, match="embedded content") as e:
        verify_detached(sig, CONTENT, file="sig.cms")
    assert e.value.path == "SignedData.encapContentInfo.eContent"


def test_not_signed_data_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "data.bin"
    src.write_bytes(CONTENT)
    der = subprocess.run(
        ["openssl", "cms", "-data_create", "-in", str(src), "-outform", "DER"],
        check=True, capture_output=True, timeout=60,
    ).stdout  # fmt: skip
    with pytest.raises(InvalidInputError, match="not id-signedData"):
        verify_detached(der, CONTENT, file="sig.cms")


@pytest.mark.parametrize(
    ("mangle", "field"),
    [
        (lambda der: der[: len(der) // 2], "ContentInfo"),
        (lambda der: der[:-1], "ContentInfo"),
        (lambda der: der + b"\x00", "ContentInfo"),
        (lambda _der: b"garbage", "ContentInfo"),
        (lambda _der: b"", "ContentInfo"),
        (lambda _der: b"\x30\x80" * 5000, "ContentInfo"),
    ],
)
def test_malformed_der_is_invalid_input(
    tmp_path: Path, pki: dict[str, Signer], mangle: object, field: str
) -> None:
    der = openssl_sign(tmp_path, CONTENT, [pki["rsa"]], outform="DER")
    assert callable(mangle)
    with pytest.raises(InvalidInputError) as e:
        verify_detached(mangle(der), CONTENT, file="broken.cms")
    assert e.value.file == "broken.cms"
    assert e.value.path is not None
    assert e.value.path.startswith(field)


@pytest.mark.parametrize(
    ("pem", "message"),
    [
        (b"-----BEGIN CMS-----\n!!!!\n-----END CMS-----\n", "not base64"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "label"),
        (b"-----BEGIN CMS-----\nAAAA\n", "no single PEM block"),
        (b"-----BEGIN CMS-----\nAAAA\n-----END CMS-----\ntrailing", "no single PEM"),
    ],
)
def test_malformed_pem_is_invalid_input(pem: bytes, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as e:
        verify_detached(pem, CONTENT, file="broken.cms")
    assert e.value.path == "PEM"


def test_corrupted_inner_fields_name_the_field(
    tmp_path: Path, pki: dict[str, Signer]
) -> None:
    der = bytearray(openssl_sign(tmp_path, CONTENT, [pki["rsa"]], outform="DER"))
    # Flip bytes one at a time across the structure: never a crash, never a pass.
    outcomes: set[str] = set()
    for i in range(0, len(der), 3):
        mangled = bytearray(der)
        mangled[i] ^= 0xFF
        try:
            verify_detached(
                bytes(mangled),
                CONTENT,
                file="x.cms",
                extra_certificates=[pki["rsa"].issued.cert],
            )
        except (InvalidInputError, SignatureError, AlgorithmError) as e:
            outcomes.add(type(e).__name__)
        except DigestMismatchError:
            outcomes.add("DigestMismatchError")
        else:
            # Only bytes outside what the signature covers may change harmlessly
            # (e.g. inside the embedded certificate's own signature value).
            outcomes.add("pass")
    assert "InvalidInputError" in outcomes
    assert "SignatureError" in outcomes


def test_embedded_certificate_with_a_broken_public_key_is_invalid_input(
    tmp_path: Path, pki: dict[str, Signer]
) -> None:
    # cryptography decodes a certificate's key only when it is first read: the
    # CMS reader parses every embedded certificate completely, so a truncated key
    # is refused up front, naming the certificate, never a ValueError later.
    der = openssl_sign(tmp_path, CONTENT, [pki["p256"]], outform="DER")
    info = asn1_cms.ContentInfo.load(der)
    cert = info["content"]["certificates"][0].chosen
    spki = cert["tbs_certificate"]["subject_public_key_info"]
    spki["public_key"] = spki["public_key"].contents[:9]
    broken = info.dump(force=True)
    with pytest.raises(InvalidInputError, match="public key") as e:
        verify_detached(broken, CONTENT, file="x.cms")
    assert e.value.path == "SignedData.certificates[0]"
    with pytest.raises(InvalidInputError, match="public key"):
        embedded_certificates(broken, file="x.cms")


def test_extra_certificate_list_is_checked_for_ambiguity(
    tmp_path: Path, pki: dict[str, Signer]
) -> None:
    sig = openssl_sign(tmp_path, CONTENT, [pki["rsa"]])
    leaf = pki["rsa"].issued.cert
    twin = x509.load_pem_x509_certificate(leaf.public_bytes(Encoding.PEM))
    result = verify_detached(sig, CONTENT, file="sig.cms", extra_certificates=[twin])
    assert result.signer == leaf  # the same certificate twice is one candidate
    assert result.signer_in_cms


def test_pkcs7_pem_label_is_accepted(tmp_path: Path, pki: dict[str, Signer]) -> None:
    sig = openssl_sign(tmp_path, CONTENT, [pki["p256"]])
    pkcs7 = sig.replace(b"-----BEGIN CMS-----", b"-----BEGIN PKCS7-----").replace(
        b"-----END CMS-----", b"-----END PKCS7-----"
    )
    crlf = pkcs7.replace(b"\n", b"\r\n")
    assert (
        verify_detached(crlf, CONTENT, file="sig.p7s").signer == pki["p256"].issued.cert
    )


def test_oversized_cms_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="larger than"):
        verify_detached(b"0" * (1024 * 1024 + 1), CONTENT, file="big.cms")


def _with_unsigned(der: bytes, attrs: list[dict[str, object]]) -> bytes:
    info = asn1_cms.ContentInfo.load(der)
    info["content"]["signer_infos"][0]["unsigned_attrs"] = asn1_cms.CMSAttributes(attrs)
    out: bytes = info.dump(force=False)
    return out


def test_unsigned_attributes(tmp_path: Path, pki: dict[str, Signer]) -> None:
    """RFC 3161 App. A tokens are returned; other unsigned attributes are ignored."""
    der = openssl_sign(tmp_path, CONTENT, [pki["p256"]], outform="DER")
    plain = verify_detached(der, CONTENT, file="s.cms")
    assert plain.timestamp_tokens == ()
    assert plain.signature_value == bytes(
        asn1_cms.ContentInfo.load(der)["content"]["signer_infos"][0]["signature"].native
    )
    # A token is a ContentInfo; any ContentInfo shows how it is carried (its own
    # verification is the timestamp code's, tests/unit/verify/test_cms_signer.py).
    token = asn1_cms.ContentInfo.load(der)
    one = _with_unsigned(
        der,
        [
            {"type": "signature_time_stamp_token", "values": [token]},
            {
                "type": "signing_time",
                "values": [
                    asn1_cms.Time({"utc_time": datetime(2020, 1, 1, tzinfo=UTC)})
                ],
            },
        ],
    )
    result = verify_detached(one, CONTENT, file="s.cms")
    assert result.timestamp_tokens == (der,)
    too_many = _with_unsigned(
        der, [{"type": "signature_time_stamp_token", "values": [token] * 9}]
    )
    with pytest.raises(InvalidInputError, match="more than 8 timestamp tokens"):
        verify_detached(too_many, CONTENT, file="s.cms")


def test_measured_digests_and_embedded_certificates(
    tmp_path: Path, pki: dict[str, Signer]
) -> None:
    pem = openssl_sign(tmp_path, CONTENT, [pki["rsa"]], "-md", "sha512")
    digests = {"sha512": digest_content(CONTENT, "sha512")}
    result = verify_detached_digest(pem, digests, file="s.cms")
    assert result.digest_algorithm == "sha512"
    with pytest.raises(DigestMismatchError):
        verify_detached_digest(pem, {"sha512": bytes(64)}, file="s.cms")
    with pytest.raises(SignatureError, match="sha512 was not measured"):
        verify_detached_digest(
            pem, {"sha256": digest_content(CONTENT, "sha256")}, file="s.cms"
        )
    assert embedded_certificates(pem, file="s.cms") == (pki["rsa"].issued.cert,)
    nocerts = openssl_sign(tmp_path, CONTENT, [pki["rsa"]], "-nocerts")
    assert embedded_certificates(nocerts, file="s.cms") == ()
