"""Property tests: OCI image layouts delivered as a tar archive.

Mutants of a real tar of the Notary Project's layout (``tests/assets/notation``,
with its JWS signature as a referrer, written as ``tar -C layout -cf x.tar .``
writes it) go through everything that reads such a tar: format detection, the
adapter's load (the member index, the layout walk, the signature verification) and
measure (the blob hashes), the whole evaluation (``check_delivery``) and ``salvage``.
Members are renamed (``..``, absolute, ``./`` prefixes, duplicates, case twins),
turned into links, devices, FIFOs or directories, their content edited, dropped or
added; headers are edited as bytes (a size that lies, an odd type flag, a field
with or without a correct checksum) and the archive is truncated or edited as bytes.
The result is a report or a project error, never another exception.
"""

from __future__ import annotations

import copy
import functools
import io
import json
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.oci import oci_policy, real_layout, tar_layout
from tests.property import _seeds as seeds
from tests.property._harness import parses
from tests.property._mutate import byte_mutations, json_documents
from vendorproof.formats.oci import OciFormat
from vendorproof.intake import check_delivery, load_policy
from vendorproof.models.policy import Policy

_AT = datetime(2026, 1, 1, tzinfo=UTC)  # inside the signer's validity (2000-2123)
_JSON_MEMBERS = ("./index.json", "./oci-layout")


@functools.cache
def _seed() -> tuple[bytes, Policy]:
    """The signed layout as a tar, and the policy that trusts its signer."""
    work = seeds.scratch()
    layout = real_layout(work)
    tar = tar_layout(layout.root, work / "layout.tar")
    return tar.read_bytes(), load_policy(oci_policy(work))


@functools.cache
def _members() -> tuple[tuple[tarfile.TarInfo, bytes], ...]:
    out = []
    with tarfile.open(fileobj=io.BytesIO(_seed()[0]), mode="r:") as tar:
        for info in tar:
            stream = tar.extractfile(info) if info.isreg() else None
            out.append((info, stream.read() if stream is not None else b""))
    return tuple(out)


class _Members(list[tuple[tarfile.TarInfo, bytes]]):
    """The member list being edited; a short repr (Hypothesis prints strategy
    arguments when it reports a failure)."""

    def __repr__(self) -> str:
        return f"<{len(self)} members>"


class _Archive(bytearray):
    """The archive being edited, with a short repr (as :class:`_Members`)."""

    def __repr__(self) -> str:
        return f"<{len(self)}-byte archive>"


class _Blob(bytes):
    """Bytes to mutate, with a short repr (as :class:`_Members`)."""

    def __repr__(self) -> str:
        return f"<{len(self)} bytes>"


class _Tar:
    """A mutant archive; its repr lists the edits, not the megabytes (not a
    dataclass: Hypothesis would print every field)."""

    def __init__(self, edits: tuple[str, ...], data: bytes) -> None:
        self.edits = edits
        self.data = data

    def __repr__(self) -> str:
        return f"_Tar(edits={self.edits!r}, {len(self.data)} bytes)"


_ODD_NAMES = st.sampled_from(
    [
        "../index.json",
        "../../escape",
        "/index.json",
        "/etc/passwd",
        "./../oci-layout",
        "././index.json",
        ".//index.json",
        "blobs/../index.json",
        "blobs/sha256/../../index.json",
        "blobs//sha256/x",
        "blobs/sha256/",
        "blobs/sha256",
        "blobs",
        "blobs/sha512/" + "0" * 128,
        "blobs/sha256/" + "0" * 64,
        "blobs/sha256/" + "A" * 64,
        "blobs/SHA256/x",
        "INDEX.JSON",
        "Index.json",
        "OCI-LAYOUT",
        "index.json/",
        "index.json/x",
        "oci-layout/x",
        "blobs\\sha256\\x",
        "C:/index.json",
        "\u0130ndex.json",
        "inde\u0301x.json",
        "index.json\x00.txt",
        "",
        ".",
        "./",
        "..",
        "x" * 300,
        "d/" * 200 + "x",
    ]
)
_LINK_TARGETS = st.sampled_from(
    ["index.json", "./index.json", "../etc/passwd", "/etc/passwd", "", "blobs"]
)
_TYPES = st.sampled_from(
    [
        tarfile.SYMTYPE,
        tarfile.LNKTYPE,
        tarfile.CHRTYPE,
        tarfile.BLKTYPE,
        tarfile.FIFOTYPE,
        tarfile.DIRTYPE,
        tarfile.CONTTYPE,
        tarfile.GNUTYPE_SPARSE,
        b"Z",
    ]
)


_PAX_HEADERS = st.sampled_from(
    [
        {"GNU.sparse.map": "a,b"},
        {"GNU.sparse.map": "0,1,2"},
        {"GNU.sparse.map": "99999999999,1", "GNU.sparse.size": "1"},
        {"GNU.sparse.major": "1", "GNU.sparse.minor": "0"},
        {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.realsize": "9"},
        {"GNU.sparse.size": "10", "GNU.sparse.offset": "0", "GNU.sparse.numbytes": "5"},
        {"GNU.sparse.realsize": "x"},
        {"GNU.sparse.name": "../index.json"},
        {"size": "-1"},
        {"size": "99999999999999999999"},
        {"size": "x"},
        {"size": "0"},
        {"path": "../index.json"},
        {"path": "index.json"},
        {"path": ""},
        {"path": "/etc/passwd"},
        {"linkpath": "/etc/passwd"},
        {"mtime": "x"},
        {"mtime": "1e400"},
        {"uid": "-5"},
        {"hdrcharset": "BINARY"},
        {"comment": "x" * 10_000},
    ]
)


def _with(info: tarfile.TarInfo, **fields: object) -> tarfile.TarInfo:
    new = copy.copy(info)
    for key, value in fields.items():
        setattr(new, key, value)
    return new


def _renamed(info: tarfile.TarInfo, name: str) -> tarfile.TarInfo:
    new = _with(info, name=name)
    if name.endswith("/") and new.isreg():
        new.name = name.rstrip("/") or "."
    return new


@st.composite
def _member_edits(draw: st.DrawFn, members: _Members, edits: list[str]) -> None:
    """One edit of the member list, in place; ``edits`` gets its description."""
    pos = draw(st.integers(0, len(members) - 1))
    info, data = members[pos]
    edit = draw(
        st.sampled_from(
            [
                "rename",
                "prefix",
                "case-twin",
                "duplicate",
                "type",
                "content",
                "drop",
                "add",
                "truncate",
                "pax",
            ]
        )
    )
    if edit == "rename":
        name = draw(_ODD_NAMES)
        members[pos] = (_renamed(info, name), data)
        edits.append(f"rename {info.name!r} -> {name!r}")
    elif edit == "prefix":
        bare = info.name.removeprefix("./")
        prefix = draw(st.sampled_from(["", "./", "././", "/", "../", "x/../"]))
        members[pos] = (_renamed(info, prefix + bare), data)
        edits.append(f"prefix {info.name!r} with {prefix!r}")
    elif edit == "case-twin":
        twin = info.name.swapcase() if draw(st.booleans()) else info.name.upper()
        members.insert(pos + 1, (_renamed(info, twin), data))
        edits.append(f"case twin {twin!r} of {info.name!r}")
    elif edit == "duplicate":
        body = draw(st.sampled_from([data, b"", b"{}"]))
        new = _with(info, size=len(body) if info.isreg() else 0)
        members.insert(draw(st.integers(0, len(members))), (new, body))
        edits.append(f"duplicate {info.name!r} ({len(body)} bytes)")
    elif edit == "type":
        kind = draw(_TYPES)
        new = _with(info, type=kind, linkname=draw(_LINK_TARGETS))
        if kind not in {tarfile.REGTYPE, tarfile.CONTTYPE, tarfile.AREGTYPE}:
            new.size = 0
            data = b""
        members[pos] = (new, data)
        edits.append(f"type {kind!r} for {info.name!r} -> {new.linkname!r}")
    elif edit == "content" and info.isreg():
        seed = {i.name: d for i, d in _members() if i.name in _JSON_MEMBERS}
        if info.name in seed and data == seed[info.name]:
            data = draw(json_documents(json.loads(data), max_edits=3))
        else:  # a blob, or a document an earlier edit already broke
            data = draw(byte_mutations(_Blob(data)))
        members[pos] = (_with(info, size=len(data)), data)
        edits.append(f"content of {info.name!r} edited ({len(data)} bytes)")
    elif edit == "drop":
        del members[pos]
        edits.append(f"drop {info.name!r}")
    elif edit == "add":
        name = draw(_ODD_NAMES)
        blob = draw(st.binary(max_size=64))
        members.insert(pos, (_with(tarfile.TarInfo(name), size=len(blob)), blob))
        edits.append(f"add {name!r} ({len(blob)} bytes)")
    elif edit == "pax":
        headers = draw(_PAX_HEADERS)
        members[pos] = (_with(info, pax_headers={**info.pax_headers, **headers}), data)
        edits.append(f"pax headers {headers!r} on {info.name!r}")
    elif edit == "truncate" and info.isreg():
        cut = draw(st.integers(0, max(len(data) - 1, 0)))
        members[pos] = (_with(info, size=cut), data[:cut])
        edits.append(f"content of {info.name!r} cut to {cut} bytes")


_HEADER_FIELDS = {  # ustar header field -> (offset, length)
    "name": (0, 100),
    "mode": (100, 8),
    "size": (124, 12),
    "mtime": (136, 12),
    "chksum": (148, 8),
    "typeflag": (156, 1),
    "linkname": (157, 100),
    "magic": (257, 6),
    "prefix": (345, 155),
    "gnu sparse": (386, 96),  # GNU format: four (offset, size) pairs
    "gnu isextended": (482, 1),
    "gnu realsize": (483, 12),
}
_SIZES = st.sampled_from(
    [
        b"0",
        b"1",
        b"777",
        b"7777777",
        b"77777777777",
        b"99999999999",
        b"-1",
        b"",
        b" ",
        b"\x00",
        b"\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x10\x00",  # base-256, 1 TiB
        b"\xff" * 12,  # base-256, negative
    ]
)


def _chksum(header: bytearray) -> None:
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\x00 " % sum(header)


@st.composite
def _header_edit(
    draw: st.DrawFn, data: _Archive, offsets: list[int], edits: list[str]
) -> None:
    """One field of a header block edited in place (checksum usually fixed).

    ``offsets`` are where each member's header blocks start (a pax or GNU long
    name header first, when there is one).
    """
    at = draw(st.sampled_from(offsets))
    name = draw(st.sampled_from(sorted(_HEADER_FIELDS)))
    start, length = _HEADER_FIELDS[name]
    if name == "size":
        value = draw(_SIZES)
    elif name == "gnu isextended":
        value = draw(st.sampled_from([b"\x00", b"\x01", b"\xff"]))
    elif name == "typeflag":
        value = draw(st.sampled_from([b"0", b"1", b"2", b"3", b"5", b"6", b"7"]))
        value = draw(st.sampled_from([value, b"K", b"L", b"x", b"g", b"S", b"\x00"]))
    else:
        value = draw(st.binary(max_size=length))
    header = bytearray(data[at : at + 512])
    header[start : start + length] = value[:length].ljust(length, b"\x00")
    fix = draw(st.integers(0, 4)) > 0
    if fix:
        _chksum(header)
    data[at : at + 512] = header
    edits.append(f"header {name} of member at {at} = {value!r} (checksum fixed: {fix})")


@st.composite
def _archives(draw: st.DrawFn) -> _Tar:
    members = _Members(_members())
    edits: list[str] = []
    for _ in range(draw(st.integers(0, 3))):
        if members:
            draw(_member_edits(members, edits))
    pax = any(info.pax_headers for info, _ in members)
    formats = [tarfile.PAX_FORMAT] if pax else [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT]
    fmt = draw(st.sampled_from(formats))
    out = io.BytesIO()
    offsets: list[int] = []
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tar:
        for info, blob in members:
            offsets.append(tar.offset)
            try:
                tar.addfile(info, io.BytesIO(blob) if info.isreg() else None)
            except ValueError:  # a name the chosen format cannot encode
                edits.append(f"{info.name!r} not encodable: left out")
    data = _Archive(out.getvalue())
    offsets = [o for o in offsets if o + 512 <= len(data)]
    if offsets and draw(st.integers(0, 2)) == 0:
        draw(_header_edit(data, offsets, edits))
    if draw(st.integers(0, 4)) == 0:
        cut = draw(st.integers(0, len(data)))
        edits.append(f"archive cut at {cut} of {len(data)} bytes")
        del data[cut:]
    return _Tar(tuple(edits), bytes(data))


@st.composite
def _archive_bytes(draw: st.DrawFn) -> _Tar:
    """Byte edits of the whole archive (the headers are most of what is small)."""
    seed = _seed()[0]
    head = draw(st.booleans())
    if head:  # the first members' headers and documents, before the big layer
        cut = 16384
        data = draw(byte_mutations(_Blob(seed[:cut]))) + seed[cut:]
    else:
        data = draw(byte_mutations(_Blob(seed)))
    return _Tar(("byte edits" + (" of the first 16 KiB" if head else ""),), data)


def _check(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "image.tar"
        path.write_bytes(raw)
        OciFormat().salvage(path)
        report = check_delivery(
            path, _seed()[1], at=_AT, time_source="test", records={}
        )
        assert report.checks


def warm_up() -> None:
    """Build the seed archive before the fuzzer times inputs."""
    _members()


@given(st.one_of(_archives(), _archives(), _archive_bytes()))
def test_oci_archive(tar: _Tar) -> None:
    parses(_check, tar.data, input_size=len(tar.data))


def test_the_unedited_archive_verifies() -> None:
    """The seed passes: the mutants start from an archive every check accepts."""
    raw = _seed()[0]
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "image.tar"
        path.write_bytes(raw)
        report = check_delivery(
            path, _seed()[1], at=_AT, time_source="test", records={}
        )
    assert report.ok, [c for c in report.checks if c.outcome.value != "pass"]
