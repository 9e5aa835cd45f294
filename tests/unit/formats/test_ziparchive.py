"""Hostile ZIP archives: every unsafe construct is refused with the member named."""

from __future__ import annotations

import io
import os
import stat
import struct
import tracemalloc
import unicodedata
import warnings
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from vendorproof.errors import InvalidInputError
from vendorproof.formats.ziparchive import (
    ArchiveLimits,
    SafeZip,
    check_member_name,
    name_key,
)


def build(
    members: list[tuple[str | zipfile.ZipInfo, bytes]],
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns on duplicates
        with zipfile.ZipFile(buf, "w", compression) as z:
            for name, data in members:
                z.writestr(name, data)
    return buf.getvalue()


def open_bytes(data: bytes, limits: ArchiveLimits | None = None) -> SafeZip:
    if limits is None:
        return SafeZip(io.BytesIO(data), file="pkg.csar")
    return SafeZip(io.BytesIO(data), file="pkg.csar", limits=limits)


def test_regular_archive_streams_members(tmp_path: Path) -> None:
    payload = os.urandom(3 * 1024 * 1024)
    data = build(
        [("Definitions/", b""), ("Definitions/a.yaml", b"x: 1\n"), ("big.bin", payload)]
    )
    (tmp_path / "p.csar").write_bytes(data)
    with SafeZip(tmp_path / "p.csar", file="p.csar") as z:
        assert [m.name for m in z.members] == ["Definitions/a.yaml", "big.bin"]
        assert z.directories == frozenset({"Definitions"})
        assert z.has("big.bin")
        assert not z.has("Definitions")
        assert b"".join(z.chunks("big.bin")) == payload
        assert z.read("Definitions/a.yaml") == b"x: 1\n"
        assert z.open_seekable("big.bin").read() == payload
        with pytest.raises(InvalidInputError, match="no such member") as e:
            z.read("missing")
        assert e.value.path == "missing"


@pytest.mark.parametrize(
    "name",
    [
        "../evil",
        "a/../../evil",
        "/etc/passwd",
        "C:/evil",
        "a\\..\\evil",
        "a//b",
        "./a",
        "a/./b",
        "a\nb",
    ],
)
def test_unsafe_names_are_refused(name: str) -> None:
    # ZipInfo keeps the name as given (zipfile.write would sanitise it).
    with pytest.raises(InvalidInputError) as e:
        open_bytes(build([(zipfile.ZipInfo(name), b"x")]))
    assert e.value.file == "pkg.csar"
    assert e.value.path == repr(name)


def test_long_names_are_refused() -> None:
    data = build([("a" * 300, b"x")])
    with pytest.raises(InvalidInputError, match="longer than 100 bytes"):
        open_bytes(data, ArchiveLimits(max_name_length=100))


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        (stat.S_IFLNK | 0o777, "symbolic link"),
        (stat.S_IFIFO | 0o644, "special file"),
        (stat.S_IFCHR | 0o644, "special file"),
    ],
)
def test_symlinks_and_special_files_are_refused(mode: int, message: str) -> None:
    info = zipfile.ZipInfo("Files/link")
    info.create_system = 3
    info.external_attr = mode << 16
    with pytest.raises(InvalidInputError, match=message) as e:
        open_bytes(build([(info, b"/etc/passwd")]))
    assert e.value.path == "'Files/link'"


def test_symlink_mode_is_refused_whatever_the_host_system() -> None:
    info = zipfile.ZipInfo("Files/link")
    info.create_system = 0
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with pytest.raises(InvalidInputError, match="symbolic link"):
        open_bytes(build([(info, b"/etc/passwd")]))


def _set_flag_bit0(data: bytes) -> bytes:
    """Mark every entry encrypted (general-purpose flag bit 0, local and central)."""
    out = bytearray(data)
    for magic, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        pos = out.find(magic)
        while pos >= 0:
            out[pos + offset] |= 0x1
            pos = out.find(magic, pos + 4)
    return bytes(out)


def test_encrypted_members_are_refused() -> None:
    data = _set_flag_bit0(build([("secret.bin", b"x")], zipfile.ZIP_STORED))
    with pytest.raises(InvalidInputError, match="encrypted") as e:
        open_bytes(data)
    assert e.value.path == "'secret.bin'"


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ("a.txt", "a.txt", "duplicate"),
        ("Files/A.txt", "Files/a.txt", "case folding"),
        ("Files/x.txt", "files/X.TXT", "case folding"),
        (
            unicodedata.normalize("NFC", "Files/caf\u00e9"),
            unicodedata.normalize("NFD", "Files/caf\u00e9"),
            "Unicode normalisation",
        ),
        ("Stra\u00dfe", "STRASSE", "case folding"),
    ],
)
def test_colliding_names_are_refused(first: str, second: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        open_bytes(build([(first, b"1"), (second, b"2")]))


def test_file_and_directory_with_one_name_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="both as a file and as a directory"):
        open_bytes(build([("a", b"1"), ("a/b", b"2")]))


def test_member_count_limit() -> None:
    data = build([(f"f{i}", b"") for i in range(5)])
    open_bytes(data, ArchiveLimits(max_members=5)).close()
    with pytest.raises(InvalidInputError, match="more than 4 members"):
        open_bytes(data, ArchiveLimits(max_members=4))


def test_declared_total_size_limit() -> None:
    data = build([("a", b"x" * 600), ("b", b"y" * 600)])
    open_bytes(data, ArchiveLimits(max_total_bytes=1200)).close()
    with pytest.raises(InvalidInputError, match="declared uncompressed size") as e:
        open_bytes(data, ArchiveLimits(max_total_bytes=1000))
    assert e.value.path == "'b'"


def test_zip_bomb_ratio_is_refused() -> None:
    bomb = build([("Files/zeros.img", bytes(8 * 1024 * 1024))])
    with pytest.raises(InvalidInputError, match="compression ratio above 200"):
        open_bytes(bomb)
    # Below the threshold a high ratio is harmless and accepted.
    open_bytes(build([("Files/small", bytes(100_000))])).close()


def test_total_is_enforced_while_streaming_over_every_read() -> None:
    # The same member read again and again (as overlapping-entry bombs do) counts.
    data = build([("a", b"x" * 600)])
    with open_bytes(data, ArchiveLimits(max_total_bytes=1000)) as z:
        assert len(z.read("a")) == 600
        with pytest.raises(InvalidInputError, match="more than 1000 bytes read"):
            z.read("a")


def test_ratio_is_enforced_while_streaming() -> None:
    # Declared sizes are checked at open; the streamed ratio is checked again.
    data = build([("zeros", bytes(4 * 1024 * 1024))])
    limits = ArchiveLimits(max_ratio=2000)
    with open_bytes(data, limits) as z:
        z.read("zeros")
    with open_bytes(data, limits) as z:
        object.__setattr__(z, "limits", ArchiveLimits(max_ratio=100))
        with pytest.raises(InvalidInputError, match="compression ratio above 100"):
            z.read("zeros")


def test_lying_size_is_caught_by_zipfile_crc() -> None:
    content = b"A" * 1000
    data = bytearray(build([("a", content)], zipfile.ZIP_STORED))
    # Declare 999 bytes instead of 1000 in the local and central headers.
    size = (1000).to_bytes(4, "little")
    assert data.count(size * 2) == 2  # compressed and uncompressed size, twice
    data = bytearray(bytes(data).replace(size * 2, size + (999).to_bytes(4, "little")))
    with (
        open_bytes(bytes(data)) as z,
        pytest.raises(InvalidInputError, match="corrupt") as e,
    ):
        z.read("a")
    assert e.value.path == "a"


def test_corrupted_member_data_is_refused() -> None:
    content = bytes(range(256)) * 100
    data = bytearray(build([("a.bin", content)]))
    data[60] ^= 0xFF  # inside the deflate stream
    with (
        open_bytes(bytes(data)) as z,
        pytest.raises(InvalidInputError, match="corrupt or truncated"),
    ):
        z.read("a.bin")


@pytest.mark.parametrize("declared", [4_000_000_000, 2**31, 1_000])
@pytest.mark.parametrize("from_path", [True, False])
def test_compressed_size_beyond_the_archive_is_refused_before_reading(
    tmp_path: Path, declared: int, *, from_path: bool
) -> None:
    # The central directory's compressed size sized a buffer for the member's data
    # (4 GB allocated for a 200-byte archive): a member must lie inside the file.
    data = bytearray(build([("Files/a.txt", b"hello " * 5)]))
    directory = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, directory + 20, declared)  # compressed size
    path = tmp_path / "lying.zip"
    path.write_bytes(bytes(data))
    source: Path | io.BytesIO = path if from_path else io.BytesIO(bytes(data))
    tracemalloc.start()
    try:
        with pytest.raises(InvalidInputError, match="beyond the end") as e:
            SafeZip(source, file="lying.zip")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert e.value.path == "'Files/a.txt'"
    assert peak < 16 * 2**20


@pytest.mark.parametrize("cut", [0.5, 0.9, 0.99])
def test_truncated_archives_are_refused(cut: float) -> None:
    data = build([("a.bin", bytes(range(256)) * 100), ("b.bin", b"b" * 100)])
    with pytest.raises(InvalidInputError, match="not a readable ZIP"):
        open_bytes(data[: int(len(data) * cut)])


@pytest.mark.parametrize("data", [b"", b"garbage", b"PK\x05\x06" + b"\x00" * 10])
def test_garbage_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidInputError, match="not a readable ZIP"):
        open_bytes(data)


def test_oversized_text_member_is_refused() -> None:
    data = build([("TOSCA-Metadata/TOSCA.meta", b"x" * 2000)])
    with open_bytes(data, ArchiveLimits(max_text_bytes=1000)) as z:
        with pytest.raises(InvalidInputError, match="larger than 1000 bytes"):
            z.read("TOSCA-Metadata/TOSCA.meta")
        assert len(b"".join(z.chunks("TOSCA-Metadata/TOSCA.meta"))) == 2000


def test_nul_in_a_directory_name_is_refused_with_the_whole_name() -> None:
    # zipfile cuts ZipInfo.filename at a NUL (orig_filename keeps it): the name
    # checked is the whole one, so neither the NUL nor what follows it slips by.
    data = build([("Files/x.shZ/../../../etc/cron.d/evil", b"data")])
    data = data.replace(b"Files/x.shZ/", b"Files/x.sh\x00/")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.namelist() == ["Files/x.sh"]
    with pytest.raises(InvalidInputError, match="control character") as e:
        open_bytes(data)
    assert e.value.path == repr("Files/x.sh\x00/../../../etc/cron.d/evil")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Files/app.sh", "Files/app.sh. "),
        ("Files/app.sh", "Files/app.sh..."),
        ("Files/app.sh", "Files/APP.SH  "),
        ("Files/dir/a", "Files/dir./a"),
        ("Files/d\u00e9j\u00e0.txt", "Files/D\u00c9J\u00c0.txt."),
    ],
)
def test_names_equal_on_windows_file_systems_are_refused(
    first: str, second: str
) -> None:
    # Windows drops trailing dots and spaces of each component.
    with pytest.raises(InvalidInputError, match=r"case folding|file and as a dir"):
        open_bytes(build([(first, b"1"), (second, b"2")]))
    assert name_key(second) == name_key(first)


@pytest.mark.parametrize(
    "name",
    [
        "Files/evil\u202etxt.sh",  # right-to-left override
        "Files/app\u200b.sh",  # zero width space
        "Files/\ufeffapp.sh",  # byte order mark
        "Files/a\u2066b",  # left-to-right isolate
        "Files/soft\u00adhyphen",
    ],
)
def test_unicode_format_characters_are_refused(name: str) -> None:
    with pytest.raises(InvalidInputError, match="format character") as e:
        open_bytes(build([(name, b"1")]))
    assert e.value.path == repr(name)
    with pytest.raises(InvalidInputError, match="format character"):
        check_member_name(name, file="m.mf", limits=ArchiveLimits())


@pytest.mark.parametrize("name", ["a/.../b", "a/ /b", "a/. ./b", "...", "a/.. "])
def test_components_of_only_dots_and_spaces_are_refused(name: str) -> None:
    with pytest.raises(InvalidInputError, match="only dots and spaces"):
        open_bytes(build([(zipfile.ZipInfo(name), b"x")]))


def test_ordinary_names_keep_their_key() -> None:
    assert name_key("Files/a.b/c.tar.gz") == "files/a.b/c.tar.gz"
    assert name_key("Files/Caf\u00e9 .d/x.") == "files/caf\u00e9 .d/x"
    assert name_key("Files/Caf\u00e9. /x.") == "files/caf\u00e9/x"
    check_member_name(
        "Files/\u05e9\u05dc\u05d5\u05dd.txt", file="m", limits=ArchiveLimits()
    )


def test_archive_wide_ratio_is_checked_before_inflating() -> None:
    # Many members each below ratio_threshold_bytes: no member's ratio is checked,
    # the archive's total is (declared sizes, at open).
    members: list[tuple[str | zipfile.ZipInfo, bytes]] = [
        (f"d/{i}.bin", bytes(1024 * 1024)) for i in range(12)
    ]
    data = build(members)
    limits = ArchiveLimits(ratio_floor_bytes=8 * 1024 * 1024)
    assert 200 * len(data) < 12 * 1024 * 1024
    with pytest.raises(InvalidInputError, match="above 200 times the archive") as e:
        open_bytes(data, limits)
    assert e.value.path is None
    # The floor: an archive may always declare that much.
    open_bytes(data, ArchiveLimits(ratio_floor_bytes=12 * 1024 * 1024)).close()
    open_bytes(data).close()  # the default floor, 64 MiB
    # Or a ratio limit the archive keeps.
    open_bytes(data, replace(limits, max_ratio=2000)).close()


class _FailingBelow(io.BytesIO):
    """Reads fail below an offset (after ``zipfile`` read the end of the archive)."""

    def __init__(self, data: bytes, below: int) -> None:
        super().__init__(data)
        self.below = below

    def read(self, size: int | None = -1) -> bytes:
        if self.tell() < self.below:
            raise OSError("I/O error")
        return super().read(size)


def test_an_unreadable_local_header_is_one_error() -> None:
    data = build([("a", b"1" * 100)])
    with pytest.raises(InvalidInputError, match="not a readable ZIP archive: I/O"):
        SafeZip(_FailingBelow(data, 10), file="pkg.csar")


def test_a_directory_entry_with_data_is_refused() -> None:
    # Bytes under a name ending in '/': no file list shows them.
    with pytest.raises(InvalidInputError, match="directory entry with data") as e:
        open_bytes(build([(zipfile.ZipInfo("Files/"), b"#!/bin/sh\n")]))
    assert e.value.path == "'Files/'"
    open_bytes(build([(zipfile.ZipInfo("Files/"), b"")])).close()
