"""SOL 004 parsers and packages built with the test PKI and ``openssl cms -sign``."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import pytest
from cryptography import x509

from tests.pki import make_leaf, make_root, write_pem
from vendorproof.errors import DigestMismatchError, InvalidInputError
from vendorproof.formats import sol004
from vendorproof.formats.ziparchive import ArchiveLimits, SafeZip
from vendorproof.verify.cms import verify_detached

META = b"""TOSCA-Meta-File-Version: 1.0
CSAR-Version: 1.1
Created-By: Vendor
Entry-Definitions: Definitions/main.yaml
ETSI-Entry-Manifest: main.mf
ETSI-Entry-Change-Log: Files/ChangeLog.txt
ETSI-Entry-Certificate: Files/signer.cert
ETSI-Entry-Tests: Files/Tests
ETSI-Entry-Licenses: Files/Licenses
Vendor-Extension: kept

Name: Definitions/main.yaml
Content-Type: application/vnd.oasis.tosca.definitions.yaml
"""

VNF_METADATA = """metadata:
    vnf_provider_id: Vendor
    vnf_product_name: vRouter
    vnf_release_date_time: 2025-03-01T10:00:00+00:00
    vnf_package_version: 2.1.0
"""


def _entry(source: str, data: bytes, algorithm: str = "SHA-256") -> str:
    digest = hashlib.new(algorithm.replace("-", "").lower(), data).hexdigest()
    return f"Source: {source}\nAlgorithm: {algorithm}\nHash: {digest}\n"


# --- TOSCA.meta ---------------------------------------------------------------------


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_tosca_meta_parses(newline: bytes) -> None:
    meta = sol004.parse_tosca_meta(META.replace(b"\n", newline))
    assert meta.meta_file_version == "1.0"
    assert meta.csar_version == "1.1"
    assert meta.created_by == "Vendor"
    assert meta.entry_definitions == "Definitions/main.yaml"
    assert meta.entry_manifest == "main.mf"
    assert meta.entry_change_log == "Files/ChangeLog.txt"
    assert meta.entry_certificate == "Files/signer.cert"
    assert meta.entry_tests == "Files/Tests"
    assert meta.entry_licenses == "Files/Licenses"
    assert meta.other == (("Vendor-Extension", "kept"),)


@pytest.mark.parametrize(
    ("data", "message", "path"),
    [
        (
            META.replace(b"CSAR-Version: 1.1\n", b""),
            "CSAR-Version is missing",
            "CSAR-Version",
        ),
        (
            META.replace(b"ETSI-Entry-Manifest: main.mf\n", b""),
            "ETSI-Entry-Manifest is missing",
            "ETSI-Entry-Manifest",
        ),
        (META + b"\nName: x\nName: y\n", "duplicate key Name", "line 16"),
        (
            META.replace(b"Created-By: Vendor", b"Created-By: A\nCreated-By: B"),
            "duplicate",
            "line 4",
        ),
        (
            META.replace(b"Created-By: Vendor", b" Created-By: Vendor"),
            "indented",
            "line 3",
        ),
        (
            META.replace(b"Created-By: Vendor", b"Created-By Vendor"),
            "Name: value",
            "line 3",
        ),
        (META.replace(b"main.mf", b"../main.mf"), "'..'", "'../main.mf'"),
        (META.replace(b"main.mf", b"/main.mf"), "absolute", "'/main.mf'"),
        (
            META.replace(b"Created-By: Vendor", b"Created-By:"),
            "empty value",
            "Created-By",
        ),
        (b"\xff\xfe", "not UTF-8", None),
    ],
)
def test_tosca_meta_errors(data: bytes, message: str, path: str | None) -> None:
    with pytest.raises(InvalidInputError, match=message) as e:
        sol004.parse_tosca_meta(data, file="TOSCA.meta")
    assert e.value.file == "TOSCA.meta"
    assert e.value.path == path
    assert "\n" not in str(e.value)


# --- manifest ---------------------------------------------------------------------


def _manifest(body: str, newline: str = "\n") -> bytes:
    return (VNF_METADATA + "\n" + body).replace("\n", newline).encode()


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_manifest_parses(newline: str) -> None:
    body = (
        "# comment\n"
        + _entry("Definitions/main.yaml", b"tosca", "SHA-256")
        + "\n"
        + _entry("Files/image.img", b"image", "SHA-512")
        + "Signature: Files/image.sig.cms\nCertificate: Files/image.cert\n\n"
        + "Source: https://vendor.example/external.bin\n"
        + "Hash: " + "ab" * 48 + "\nAlgorithm: SHA-384\n\n"
        + "non_mano_artifact_sets:\n"
        + "    onap_scripts:\n        Source: Files/a.sh\n        Source: Files/b.sh\n"
        + "    prv.vendor.docs:\n        Source: Files/doc.txt\n"
    )  # fmt: skip
    m = sol004.parse_manifest(_manifest(body, newline), file="main.mf")
    assert m.kind == "vnf"
    assert (m.provider, m.product, m.version) == ("Vendor", "vRouter", "2.1.0")
    assert m.release_date_time == "2025-03-01T10:00:00+00:00"
    assert [e.source for e in m.entries] == [
        "Definitions/main.yaml",
        "Files/image.img",
        "https://vendor.example/external.bin",
    ]
    image = m.entries[1]
    assert image.algorithm == "sha512"
    assert image.digest == hashlib.sha512(b"image").hexdigest()
    assert image.signature == "Files/image.sig.cms"
    assert image.certificate == "Files/image.cert"
    assert m.entries[2].uri
    assert m.entries[2].algorithm == "sha384"
    assert m.non_mano_artifact_sets == (
        ("onap_scripts", ("Files/a.sh", "Files/b.sh")),
        ("prv.vendor.docs", ("Files/doc.txt",)),
    )
    assert m.cms is None
    assert m.signed_content is None


def test_manifest_pnf_metadata_and_cms_block() -> None:
    text = (
        b"metadata:\n    pnfd_name: gNB\n    pnfd_provider: Vendor\n"
        b"    pnfd_archive_version: 3\n    pnfd_release_date_time: 2025-01-01T00:00:00Z\n\n"
        b"Source: a\n"
    )
    cms = b"-----BEGIN CMS-----\nAAAA\n-----END CMS-----\n"
    m = sol004.parse_manifest(text + cms, file="pnf.mf")
    assert (m.kind, m.provider, m.product, m.version) == ("pnf", "Vendor", "gNB", "3")
    assert m.signed_content == text
    assert m.cms == cms
    assert m.entries[0].algorithm is None


@pytest.mark.parametrize(
    ("data", "message", "path"),
    [
        (_manifest("Source: a\nSource: a\n"), "duplicate Source", "line 8: Source"),
        (
            _manifest("Source: Files/A\nSource: files/a\n"),
            "duplicate Source",
            "line 8: Source",
        ),
        (
            _manifest("Source: a\nAlgorithm: MD5\nHash: 00\n"),
            "unknown Algorithm 'MD5'",
            "line 8: Algorithm",
        ),
        (
            _manifest("Source: a\nAlgorithm: SHA-1\nHash: 00\n"),
            "unknown Algorithm",
            "line 8: Algorithm",
        ),
        (
            _manifest("Source: a\nAlgorithm: SHA-256\nHash: xyz\n"),
            "not hexadecimal",
            "line 9: Hash",
        ),
        (_manifest("Source: a\nAlgorithm: SHA-256\n"), "together", "line 7: Source"),
        (_manifest("Source: a\nHash: 00\nHash: 00\n"), "given twice", "line 9: Hash"),
        (_manifest("Source: ../a\n"), "'..'", "'../a'"),
        (_manifest("Source: a\nSignature: /etc/x\n"), "absolute", "'/etc/x'"),
        (_manifest("Vendor-Key: x\n"), "unexpected key", "line 7"),
        (_manifest("Algorithm: SHA-256\n"), "unexpected key", "line 7"),
        (_manifest("Source: a\n    Other: x\n"), "unexpected indented key", "line 8"),
        (_manifest("just text\n"), "key: value", "line 7"),
        (_manifest("metadata:\n    x: y\n"), "second metadata", "line 7"),
        (
            _manifest("non_mano_artifact_sets:\n    Source: a\n"),
            "unexpected key",
            "line 8",
        ),
        (
            _manifest("non_mano_artifact_sets:\n    s:\n    s:\n"),
            "duplicate non-MANO",
            "line 9",
        ),
        (b"metadata:\n    vnf_provider_id: V\n", "lacks vnf_product_name", "metadata"),
        (
            _manifest("").replace(b"vnf_product_name", b"pnfd_name"),
            "mixes VNF and PNF",
            "metadata",
        ),
        (
            VNF_METADATA.replace(
                "vnf_provider_id: Vendor", "vnf_provider_id:"
            ).encode(),
            "empty or duplicate metadata key",
            "line 2",
        ),
        (_manifest("x: -----BEGIN CMS-----\n"), "must start a line", "CMS"),
        (_manifest("-----BEGIN CMS-----\nAA\n"), "must end the manifest", "CMS"),
        (
            _manifest("-----BEGIN CMS-----\nAA\n-----END CMS-----\nSource: b\n"),
            "must end",
            "CMS",
        ),
        (
            _manifest("-----BEGIN CMS-----\n-----END CMS-----\n-----BEGIN CMS-----\n"),
            "more than one CMS",
            "CMS",
        ),
    ],
)
def test_manifest_errors(data: bytes, message: str, path: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as e:
        sol004.parse_manifest(data, file="main.mf")
    assert e.value.file == "main.mf"
    assert e.value.path == path
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(
    ("data", "path"),
    [
        # A lone CR ends a line for Java's readLine: another key for ONAP's parser.
        (
            VNF_METADATA.replace(
                "vRouter", "vRouter\rvnf_provider_id: Mallory"
            ).encode(),
            "line 3",
        ),
        (VNF_METADATA.replace("vRouter", "v\x1b[31mRouter").encode(), "line 3"),
        (VNF_METADATA.replace("vRouter", "v\u0085Router").encode(), "line 3"),
        (_manifest("# a comment\rvnf_provider_id: Mallory\n"), "line 7"),
        (_manifest("Source: a\x00b\n"), "line 7"),
        (_manifest("Source: a\nAlgorithm: SHA-256\x7f\n"), "line 8"),
    ],
)
def test_control_characters_are_refused(data: bytes, path: str) -> None:
    with pytest.raises(InvalidInputError, match="control character U\\+") as e:
        sol004.parse_manifest(data, file="main.mf")
    assert e.value.path == path
    meta = META.replace(b"Created-By: Vendor", b"Created-By: V\rCSAR-Version: 9")
    with pytest.raises(InvalidInputError, match="control character U\\+000D") as e:
        sol004.parse_tosca_meta(meta, file="TOSCA.meta")
    assert e.value.path == "line 3"


def test_tab_and_crlf_are_not_control_characters() -> None:
    data = VNF_METADATA.replace("vRouter", "v\tRouter").replace("\n", "\r\n")
    assert sol004.parse_manifest(data.encode(), file="m").product == "v\tRouter"


def _calls_in_sol004(data: bytes) -> int:
    """Python-level calls (and generator resumptions) made inside ``sol004``."""
    calls = 0

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal calls
        del arg
        if event == "call" and frame.f_code.co_filename == sol004.__file__:
            calls += 1

    sys.setprofile(profile)
    try:
        sol004.parse_manifest(data, file="m.mf")
    finally:
        sys.setprofile(None)
    return calls


@pytest.mark.parametrize(
    "block",
    [
        lambda n: "".join(f"    key{i}: v\n" for i in range(n)),
        lambda n: (
            "\nnon_mano_artifact_sets:\n" + "".join(f"    set{i}:\n" for i in range(n))
        ),
        lambda n: "\n" + "".join(f"Source: f{i}\n" for i in range(n)),
    ],
    ids=["metadata-keys", "non-mano-sets", "sources"],
)
def test_duplicate_checks_are_linear(block: Callable[[int], str]) -> None:
    """Work per line does not grow with the lines before it: twice the keys, at most
    about twice the calls (a scan of earlier keys per line made it four times)."""
    small, large = (
        _calls_in_sol004((VNF_METADATA + block(n)).encode()) for n in (300, 600)
    )
    assert large <= 2.2 * small + 50


def test_large_manifest_parses_within_limits() -> None:
    body = "".join(
        f"Source: Files/f{i}\nAlgorithm: SHA-256\nHash: {'0' * 64}\n"
        for i in range(20_000)
    )
    m = sol004.parse_manifest(_manifest(body), file="big.mf")
    assert len(m.entries) == 20_000


def test_manifest_size_limit() -> None:
    with pytest.raises(InvalidInputError, match="larger than 100 bytes"):
        sol004.parse_manifest(
            _manifest("Source: a\n"), file="m", limits=ArchiveLimits(max_text_bytes=100)
        )


# --- packages -----------------------------------------------------------------------


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _sign(tmp: Path, content: bytes, *args: str) -> bytes:
    root = make_root("Vendor Root", org="Vendor")
    leaf = make_leaf("Vendor Packaging", root, org="Vendor", key_kind="rsa-2048")
    write_pem(tmp / "signer.cert", leaf.cert_pem())
    write_pem(tmp / "signer.key", leaf.key_pem())
    (tmp / "content").write_bytes(content)
    return subprocess.run(
        ["openssl", "cms", "-sign", "-binary", "-outform", "PEM", "-in", str(tmp / "content"),
         "-signer", str(tmp / "signer.cert"), "-inkey", str(tmp / "signer.key"), *args],
        check=True, capture_output=True, timeout=60,
    ).stdout  # fmt: skip


def _package(tmp: Path, image: bytes = b"\x7fELF firmware" * 1000) -> dict[str, bytes]:
    files = {
        "Definitions/main.yaml": b"tosca_definitions_version: tosca_simple_yaml_1_3\n",
        "Files/ChangeLog.txt": b"2.1.0: first\n",
        "Files/image.img": image,
    }
    body = "".join(_entry(name, data) + "\n" for name, data in files.items())
    text = _manifest(body, "\r\n")
    return {
        "TOSCA-Metadata/TOSCA.meta": META.replace(
            b"ETSI-Entry-Certificate: Files/signer.cert\n", b""
        ),
        "main.mf": text + _sign(tmp, text),
        **files,
    }


def test_built_option1_package_verifies(tmp_path: Path) -> None:
    with SafeZip(io.BytesIO(_zip(_package(tmp_path))), file="built.csar") as z:
        pkg = sol004.read_package(z)
        results = sol004.check_digests(z, pkg.manifest)
    assert {r.status for r in results} == {"match"}
    assert sol004.unlisted_members(pkg) == ("TOSCA-Metadata/TOSCA.meta", "main.mf")
    m = pkg.manifest
    assert m.cms is not None
    assert m.signed_content is not None
    assert m.signed_content.endswith(b"\r\n")
    signature = verify_detached(m.cms, m.signed_content, file="main.mf")
    assert signature.signer_in_cms
    assert signature.signer.subject.rfc4514_string().startswith("CN=Vendor Packaging")


def test_built_package_tampered_file_and_manifest(tmp_path: Path) -> None:
    members = _package(tmp_path)
    members["Files/image.img"] = members["Files/image.img"][:-1] + b"!"
    with SafeZip(io.BytesIO(_zip(members)), file="built.csar") as z:
        pkg = sol004.read_package(z)
        results = {r.source: r.status for r in sol004.check_digests(z, pkg.manifest)}
    assert results["Files/image.img"] == "mismatch"
    assert results["Files/ChangeLog.txt"] == "match"
    members = _package(tmp_path)
    members["main.mf"] = members["main.mf"].replace(b"vRouter", b"vRoutex")
    with SafeZip(io.BytesIO(_zip(members)), file="built.csar") as z:
        m = sol004.read_package(z).manifest
    assert m.cms is not None
    assert m.signed_content is not None
    with pytest.raises(DigestMismatchError):
        verify_detached(m.cms, m.signed_content, file="main.mf")


def test_missing_listed_file_is_reported(tmp_path: Path) -> None:
    members = _package(tmp_path)
    del members["Files/image.img"]
    with SafeZip(io.BytesIO(_zip(members)), file="built.csar") as z:
        pkg = sol004.read_package(z)
        results = {r.source: r.status for r in sol004.check_digests(z, pkg.manifest)}
    assert results["Files/image.img"] == "missing"


@pytest.mark.parametrize(
    ("drop", "key"),
    [
        ("main.mf", "ETSI-Entry-Manifest"),
        ("Definitions/main.yaml", "Entry-Definitions"),
        ("Files/ChangeLog.txt", "ETSI-Entry-Change-Log"),
    ],
)
def test_entries_named_in_tosca_meta_must_exist(
    tmp_path: Path, drop: str, key: str
) -> None:
    members = _package(tmp_path)
    del members[drop]
    with (
        SafeZip(io.BytesIO(_zip(members)), file="built.csar") as z,
        pytest.raises(InvalidInputError, match="not in the archive") as e,
    ):
        sol004.read_package(z)
    assert e.value.path == key
    assert e.value.file == "built.csar: TOSCA-Metadata/TOSCA.meta"


def test_package_without_tosca_meta(tmp_path: Path) -> None:
    members = _package(tmp_path)
    del members["TOSCA-Metadata/TOSCA.meta"]
    members["main.yaml"] = members.pop("Definitions/main.yaml")
    with SafeZip(io.BytesIO(_zip(members)), file="built.csar") as z:
        pkg = sol004.read_package(z)
    assert pkg.tosca_meta is None
    assert pkg.entry_definitions == "main.yaml"
    assert pkg.manifest_name == "main.mf"
    members["other.yml"] = b"x: 1\n"
    with (
        SafeZip(io.BytesIO(_zip(members)), file="built.csar") as z,
        pytest.raises(InvalidInputError, match="exactly one service template"),
    ):
        sol004.read_package(z)
    del members["other.yml"]
    members["second.mf"] = members["main.mf"]
    with (
        SafeZip(io.BytesIO(_zip(members)), file="built.csar") as z,
        pytest.raises(InvalidInputError, match="exactly one manifest"),
    ):
        sol004.read_package(z)


def test_built_option2_package(tmp_path: Path) -> None:
    csar = _zip(_package(tmp_path))
    cms = _sign(tmp_path, csar, "-nocerts")
    cert = (tmp_path / "signer.cert").read_bytes()
    outer = _zip({"pkg.csar": csar, "pkg.cms": cms, "pkg.cert": cert})
    with SafeZip(io.BytesIO(outer), file="outer.zip") as z:
        layout = sol004.read_option2(z)
        assert layout == sol004.Option2Layout("pkg.csar", "pkg.cms", "pkg.cert", ())
        signer = x509.load_pem_x509_certificate(z.read("pkg.cert"))
        result = verify_detached(
            z.read("pkg.cms"),
            z.chunks("pkg.csar"),
            file="pkg.cms",
            extra_certificates=[signer],
        )
        assert result.signer == signer
        with SafeZip(z.open_seekable("pkg.csar"), file="pkg.csar") as inner:
            assert sol004.read_package(inner).manifest.provider == "Vendor"
    tampered = _zip({"pkg.csar": csar + b"\x00", "pkg.cms": cms, "pkg.cert": cert})
    with (
        SafeZip(io.BytesIO(tampered), file="outer.zip") as z,
        pytest.raises(DigestMismatchError),
    ):
        verify_detached(
            z.read("pkg.cms"),
            z.chunks("pkg.csar"),
            file="pkg.cms",
            extra_certificates=[signer],
        )


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"a.csar": b"", "b.csar": b"", "a.cms": b""}, "one .csar"),
        ({"a.csar": b"", "x/a.cms": b""}, "one .csar"),
        ({"a.csar": b"", "a.cms": b"", "b.cms": b""}, "more than one signature"),
        ({"a.csar": b"", "a.cert": b"", "b.cert": b""}, "more than one certificate"),
    ],
)
def test_option2_layout_errors(members: dict[str, bytes], message: str) -> None:
    with (
        SafeZip(io.BytesIO(_zip(members)), file="outer.zip") as z,
        pytest.raises(InvalidInputError, match=message),
    ):
        sol004.read_option2(z)
