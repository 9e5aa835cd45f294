"""Property tests: SOL 004 packages (CSAR), their manifests, TOSCA.meta and CMS.

Mutants of a real ONAP package (``tests/assets/onap-sol004/``) reach every parser a
CSAR meets: ``TOSCA.meta`` and the ``.mf`` manifest (edited as lines and as bytes),
the CMS ``SignedData`` at the end of the manifest (edited as a DER tree), and the ZIP
archive itself (a member's content or name replaced, a member added, dropped or
repeated under the same name, or the archive's bytes edited)
through the adapter and the whole verification. The result is a check list or a
project error, never another exception.
"""

from __future__ import annotations

import base64
import functools
import io
import tempfile
import warnings
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.property import _seeds as seeds
from tests.property._harness import parses
from tests.property._mutate import byte_mutations, der_documents, mixed
from vendorproof.formats import sol004
from vendorproof.formats.csar import CsarFormat
from vendorproof.intake import check_delivery
from vendorproof.verify.cms import (
    declared_digest_algorithm,
    embedded_certificates,
    verify_detached,
)

_PACKAGE = (
    Path(__file__).resolve().parents[1]
    / "assets"
    / "onap-sol004"
    / "csar-cert-in-cms-valid.csar"
)
_MANIFEST = "pnf_main_descriptor.mf"
_META = "TOSCA-Metadata/TOSCA.meta"
_AT = datetime(2026, 1, 1, tzinfo=UTC)


@functools.cache
def _members() -> dict[str, bytes]:
    with zipfile.ZipFile(_PACKAGE) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


@functools.cache
def _cms() -> tuple[bytes, bytes]:
    """The manifest's signed content and its CMS block as DER."""
    data = _members()[_MANIFEST]
    start = data.index(b"-----BEGIN CMS-----")
    end = data.index(b"-----END CMS-----")
    body = data[start + len(b"-----BEGIN CMS-----") : end]
    return data[:start], base64.b64decode(b"".join(body.split()))


# -- text documents: lines edited ----------------------------------------------------

_ODD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\t",
        ":",
        "Source:",
        "Source: ../../etc/passwd",
        "Source: /abs/path",
        "Source: Files/ChangeLog.txt",
        "Source: FILES/changelog.TXT",
        "Source: Files/Cafe\u0301.txt",
        "Source: http://example.com/x",
        "Algorithm: SHA-1",
        "Algorithm: sha-256",
        "Algorithm: SHA3-256",
        "Hash: zz",
        "Hash: " + "0" * 200,
        "Signature: Files/ChangeLog.txt.sig.cms",
        "Certificate: ../x.cert",
        "metadata:",
        "non_mano_artifact_sets:",
        "    onap_ves_events:",
        "        Source: Files/Events/MyPnf_Pnf_v1.yaml",
        "pnfd_release_date_time: 2019-13-45T99:00:00+25:00",
        "TOSCA-Meta-File-Version: 9.9",
        "CSAR-Version: 1.1",
        "Entry-Definitions: ../outside.yaml",
        "ETSI-Entry-Manifest: pnf_main_descriptor.mf",
        "ETSI-Entry-Certificate: Files/none.cert",
        "-----BEGIN CMS-----",
        "-----END CMS-----",
        "# comment",
        "\u202eevil: value",
        "key\x00: value",
        "k" * 300 + ": v",
    ]
)


@st.composite
def _line_edits(draw: st.DrawFn, seed: bytes, max_edits: int = 4) -> bytes:
    crlf = b"\r\n" in seed
    lines = seed.decode("utf-8").splitlines()
    for _ in range(draw(st.integers(1, max_edits))):
        pos = draw(st.integers(0, max(len(lines) - 1, 0)))
        edit = draw(
            st.sampled_from(["replace", "insert", "delete", "repeat", "indent"])
        )
        if edit == "replace" and lines:
            lines[pos] = draw(_ODD_TEXT)
        elif edit == "insert":
            lines.insert(pos, draw(_ODD_TEXT))
        elif edit == "delete" and lines:
            del lines[pos]
        elif edit == "repeat" and lines:
            lines.insert(pos, lines[pos])
        elif lines:
            lines[pos] = draw(st.sampled_from(["  ", "\t", ""])) + lines[pos].strip()
    newline = draw(st.sampled_from(["\r\n", "\n"])) if draw(st.booleans()) else None
    sep = newline or ("\r\n" if crlf else "\n")
    return (sep.join(lines) + sep).encode("utf-8", "surrogatepass")


@given(mixed(_members()[_MANIFEST], _line_edits))
def test_sol004_manifest(raw: bytes) -> None:
    parses(sol004.parse_manifest, raw, file=_MANIFEST, input_size=len(raw))


@given(mixed(_members()[_META], _line_edits))
def test_tosca_meta(raw: bytes) -> None:
    parses(sol004.parse_tosca_meta, raw, file=_META, input_size=len(raw))


# -- the manifest's CMS signature ----------------------------------------------------


def _verify_cms(der: bytes) -> None:
    content, _ = _cms()
    embedded_certificates(der, file="m.cms")
    declared_digest_algorithm(der, file="m.cms")
    verify_detached(der, content, file="m.cms")


@given(mixed(_cms()[1], der_documents))
def test_cms_signature(der: bytes) -> None:
    parses(_verify_cms, der, input_size=len(der))


# -- the archive, through the adapter and the whole verification --------------------

_ODD_NAMES = st.sampled_from(
    [
        "../escape.txt",
        "/absolute.txt",
        "Files/../../up.txt",
        "files/changelog.txt",
        "Files/ChangeLog.txt",
        "Files/Cafe\u0301.txt",
        "Files/Caf\u00e9.txt",
        "Files/a\\b.txt",
        "Files/\x00nul.txt",
        "TOSCA-Metadata/tosca.meta",
        "pnf_main_descriptor.MF",
        "other.mf",
        "Files/dir/",
        "C:/windows.txt",
        "x" * 300,
    ]
)


@st.composite
def _archives(draw: st.DrawFn) -> bytes:
    """The package rebuilt with one member's content or name edited (or one added)."""
    members = dict(_members())
    names = sorted(n for n in members if not n.endswith("/"))
    name = draw(st.sampled_from(names))
    edit = draw(st.sampled_from(["content", "rename", "add", "drop"]))
    if edit == "content":
        data = members[name]
        members[name] = draw(
            _line_edits(data) if name in (_MANIFEST, _META) else byte_mutations(data)
        )
    elif edit == "rename":
        members[draw(_ODD_NAMES)] = members.pop(name)
    elif edit == "add":
        members[draw(_ODD_NAMES)] = draw(st.binary(max_size=64))
    else:
        del members[name]
    out = io.BytesIO()
    stored = draw(st.booleans())
    duplicate = draw(st.sampled_from(sorted(members))) if draw(st.booleans()) else None
    entries = [*members.items(), *([(duplicate, b"twin")] if duplicate else [])]
    # A duplicate member name is a hostile case of its own (zipfile warns about it).
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w") as z:
        warnings.simplefilter("ignore", UserWarning)
        for n, data in entries:
            info = zipfile.ZipInfo(n, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return out.getvalue()


def _check(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "package.csar"
        path.write_bytes(raw)
        fmt = CsarFormat()
        assert fmt.detect(path) == (raw[:4] in (b"PK\x03\x04", b"PK\x05\x06"))
        report = check_delivery(
            path, seeds.policy(), at=_AT, time_source="test", records={}
        )
        assert report.checks
        assert not report.ok  # the seed policy pins no ONAP anchor


@st.composite
def _archive_bytes(draw: st.DrawFn) -> bytes:
    """Byte edits of the whole archive (its repr stays short, unlike the seed's)."""
    return draw(byte_mutations(_PACKAGE.read_bytes()))


@given(st.one_of(_archives(), _archives(), _archive_bytes()))
def test_csar_archive(raw: bytes) -> None:
    parses(_check, raw, input_size=len(raw))
