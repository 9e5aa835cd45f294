"""Digests of ZIP members through the hashing engine, checked against ``zipfile``.

``SafeZip.hash_member`` streams a member into the engine; ``SafeZip.hash_members``
reads small stored/deflated members straight from the archive file (its own local
header reading, APPNOTE 4.3.7). ``zipfile`` plus ``hashlib`` is the independent
oracle for every digest, and every corruption must be refused by both paths.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import struct
import zipfile
from pathlib import Path

import pytest

from vendorproof._internal.hashing import hash_buffer, hash_fileobj
from vendorproof.errors import InvalidInputError
from vendorproof.formats.ziparchive import ArchiveLimits, SafeZip

ALGS = ["sha256", "sha512"]
MIB = 1024 * 1024


def _compressible(size: int, seed: int) -> bytes:
    r = random.Random(seed)  # noqa: S311 - test data, not secrets
    words = [r.randbytes(r.randint(1, 12)) for _ in range(64)]
    out = bytearray()
    while len(out) < size:
        out += r.choice(words)
    return bytes(out[:size])


MEMBERS: list[tuple[str, bytes, int]] = [
    ("empty", b"", zipfile.ZIP_STORED),
    ("small-stored.bin", os.urandom(3000), zipfile.ZIP_STORED),
    ("small-deflated.txt", _compressible(5000, 1), zipfile.ZIP_DEFLATED),
    ("dir/ünïcode name.yaml", b"x: 1\n" * 100, zipfile.ZIP_DEFLATED),
    ("small.bz2", _compressible(4000, 2), zipfile.ZIP_BZIP2),
    ("small.xz", _compressible(4000, 3), zipfile.ZIP_LZMA),
    ("one-chunk.bin", os.urandom(MIB), zipfile.ZIP_STORED),
    ("big-stored.img", os.urandom(3 * MIB + 17), zipfile.ZIP_STORED),
    ("big-deflated.img", _compressible(3 * MIB + 5, 4), zipfile.ZIP_DEFLATED),
]


def _archive(path: Path, members: list[tuple[str, bytes, int]] = MEMBERS) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data, method in members:
            z.writestr(name, data, compress_type=method)
    return path


def _oracle(path: Path | io.BytesIO, name: str) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        data = z.read(name)
    return {a: hashlib.new(a, data).hexdigest() for a in ALGS}


@pytest.mark.parametrize("as_file", [True, False])
def test_digests_agree_with_zipfile(tmp_path: Path, as_file: bool) -> None:
    path = _archive(tmp_path / "p.zip")
    source: Path | io.BytesIO = path if as_file else io.BytesIO(path.read_bytes())
    names = [n for n, _, _ in MEMBERS]
    with SafeZip(source, file="p.zip") as z:
        batch = z.hash_members(names, ALGS)
        single = [z.hash_member(n, ALGS) for n in names]
    for (name, data, _), b, s in zip(MEMBERS, batch, single, strict=True):
        expected = _oracle(path, name)
        assert dict(b.digests) == expected, name
        assert dict(s.digests) == expected, name
        assert b.size == s.size == len(data)


def test_progress_and_engine_entry_points() -> None:
    data = _compressible(5 * MIB + 3, 9)
    seen: list[int] = []
    result = hash_fileobj(
        io.BytesIO(data), ALGS, on_progress=seen.append, overlap_reads=True
    )
    assert sum(seen) == len(data)
    assert result.digests["sha512"] == hashlib.sha512(data).hexdigest()
    short = hash_fileobj(io.BytesIO(b"abc"), ["sha256"], size_hint=3)
    assert short.digests["sha256"] == hashlib.sha256(b"abc").hexdigest()
    assert hash_buffer(memoryview(b"abc"), ["sha384"]).digests["sha384"] == (
        hashlib.sha384(b"abc").hexdigest()
    )
    with pytest.raises(InvalidInputError, match="unsupported digest algorithm"):
        hash_buffer(b"", ["md5"])


def _local_offset(data: bytes, name: str) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.getinfo(name).header_offset


def _corrupt_archive(
    tmp_path: Path, members: list[tuple[str, bytes, int]], edit: object
) -> Path:
    raw = bytearray(_archive(tmp_path / "src.zip", members).read_bytes())
    edit(raw)  # type: ignore[operator]
    path = tmp_path / "bad.zip"
    path.write_bytes(bytes(raw))
    return path


def _both_refuse(path: Path, name: str, match: str) -> None:
    """The pread path with ``match``; the zipfile path (no file descriptor) too."""
    with SafeZip(path, file="bad.zip") as z:
        with pytest.raises(InvalidInputError, match=match) as e:
            z.hash_members([name], ["sha256"])
        assert e.value.path == name
        assert e.value.file == "bad.zip"
        with pytest.raises(InvalidInputError) as e2:
            z.hash_member(name, ["sha256"])
        assert e2.value.path == name
    with (
        SafeZip(io.BytesIO(path.read_bytes()), file="bad.zip") as z,
        pytest.raises(InvalidInputError),
    ):
        z.hash_members([name], ["sha256"])


@pytest.mark.parametrize(
    "method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED], ids=["stored", "deflated"]
)
def test_corrupted_data(tmp_path: Path, method: int) -> None:
    content = _compressible(4000, 5)
    members = [("a.bin", content, method)]

    def flip(raw: bytearray) -> None:
        raw[_local_offset(bytes(raw), "a.bin") + 30 + len("a.bin") + 20] ^= 0x55

    path = _corrupt_archive(tmp_path, members, flip)
    _both_refuse(path, "a.bin", "corrupt or truncated")


def test_local_header_must_match_the_directory(tmp_path: Path) -> None:
    # Refused when the archive is opened (``_ziplayout``), before any member is read.
    members = [("a.bin", b"A" * 100, zipfile.ZIP_STORED)]

    def rename(raw: bytearray) -> None:
        at = _local_offset(bytes(raw), "a.bin") + 30
        raw[at : at + 5] = b"b.bin"

    def signature(raw: bytearray) -> None:
        at = _local_offset(bytes(raw), "a.bin")
        raw[at : at + 4] = b"PK\x07\x08"

    for edit, match in ((rename, "differ in the name"), (signature, "no local file")):
        path = _corrupt_archive(tmp_path, members, edit)
        for source in (path, io.BytesIO(path.read_bytes())):
            with pytest.raises(InvalidInputError, match=match) as e:
                SafeZip(source, file="bad.zip")
            assert e.value.path == "'a.bin'"


def test_lying_sizes(tmp_path: Path) -> None:
    members = [("a", b"A" * 1000, zipfile.ZIP_STORED)]

    def lie(raw: bytearray) -> None:
        size = (1000).to_bytes(4, "little")
        new = bytes(raw).replace(size * 2, size + (999).to_bytes(4, "little"))
        raw[:] = new

    _both_refuse(
        _corrupt_archive(tmp_path, members, lie),
        "a",
        "999 bytes where|1000 bytes where the directory declares 999",
    )


def test_long_local_extra_field(tmp_path: Path) -> None:
    """An extra field longer than the first read takes a second read, same digest."""
    info = zipfile.ZipInfo("x.bin")
    info.compress_type = zipfile.ZIP_STORED
    info.extra = struct.pack("<HH", 0xCAFE, 300) + bytes(300)
    content = os.urandom(2000)
    path = tmp_path / "extra.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(info, content)
    with SafeZip(path, file="extra.zip") as z:
        (result,) = z.hash_members(["x.bin"], ["sha256"])
    assert result.digests["sha256"] == hashlib.sha256(content).hexdigest()


def test_data_beyond_the_end(tmp_path: Path) -> None:
    members = [("a.bin", os.urandom(500), zipfile.ZIP_STORED)]

    def far(raw: bytearray) -> None:
        at = _local_offset(bytes(raw), "a.bin") + 28
        raw[at : at + 2] = (0xFFFF).to_bytes(2, "little")  # local extra length

    with pytest.raises(InvalidInputError, match="past the start of the central"):
        SafeZip(_corrupt_archive(tmp_path, members, far), file="bad.zip")
    # An archive cut short after it was opened: the read comes up short.
    path = _archive(tmp_path / "cut.zip", members)
    with SafeZip(path, file="cut.zip") as z:
        os.truncate(path, 100)
        with pytest.raises(InvalidInputError, match="beyond the end") as e:
            z.hash_members(["a.bin"], ["sha256"])
        assert e.value.path == "a.bin"


def test_limits_count_while_hashing(tmp_path: Path) -> None:
    path = _archive(tmp_path / "p.zip", [("a", b"x" * 600, zipfile.ZIP_DEFLATED)])
    with SafeZip(path, file="p.zip", limits=ArchiveLimits(max_total_bytes=1000)) as z:
        z.hash_members(["a"], ["sha256"])
        with pytest.raises(InvalidInputError, match="more than 1000 bytes read"):
            z.hash_members(["a"], ["sha256"])
    zeros = _archive(
        tmp_path / "z.zip", [("zeros", bytes(4 * MIB), zipfile.ZIP_DEFLATED)]
    )
    with SafeZip(zeros, file="z.zip", limits=ArchiveLimits(max_ratio=2000)) as z:
        object.__setattr__(z, "limits", ArchiveLimits(max_ratio=100))
        with pytest.raises(InvalidInputError, match="compression ratio above 100"):
            z.hash_members(["zeros"], ["sha256"])
        with pytest.raises(InvalidInputError, match="compression ratio above 100"):
            z.hash_member("zeros", ["sha256"])
    small = _archive(tmp_path / "s.zip", [("s", bytes(500_000), zipfile.ZIP_DEFLATED)])
    with SafeZip(small, file="s.zip") as z:
        object.__setattr__(
            z, "limits", ArchiveLimits(max_ratio=10, ratio_threshold_bytes=1000)
        )
        with pytest.raises(InvalidInputError, match="compression ratio above 10"):
            z.hash_members(["s"], ["sha256"])


def test_unknown_member_and_algorithm(tmp_path: Path) -> None:
    path = _archive(tmp_path / "p.zip", MEMBERS[:2])
    with SafeZip(path, file="p.zip") as z:
        with pytest.raises(InvalidInputError, match="no such member"):
            z.hash_members(["nope"], ["sha256"])
        with pytest.raises(InvalidInputError, match="unsupported digest algorithm"):
            z.hash_members(["small-stored.bin"], ["sha1"])
        with pytest.raises(InvalidInputError, match="unsupported digest algorithm"):
            z.hash_member("small-stored.bin", ["sha1"])


def test_reopening_an_unchanged_archive_reuses_its_checked_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vendorproof.formats import ziparchive

    path = _archive(tmp_path / "again.zip")
    builds: list[int] = []
    real = ziparchive._Index.build

    def counting(*args: object, **kwargs: object) -> object:
        builds.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ziparchive._Index, "build", counting)
    names = [n for n, _, _ in MEMBERS]
    with SafeZip(path, file="again.zip") as z:
        first = z.hash_members(names, ALGS)
    with SafeZip(path, file="again.zip") as z:
        # Small members by pread, large ones streamed through zipfile opened late.
        second = z.hash_members(names, ALGS)
        assert [m.name for m in z.members] == names
    assert len(builds) == 1
    assert [dict(d.digests) for d in first] == [dict(d.digests) for d in second]
    assert dict(second[-1].digests) == _oracle(path, "big-deflated.img")


def test_an_archive_rewritten_between_opens_is_indexed_afresh(tmp_path: Path) -> None:
    path = _archive(tmp_path / "swap.zip")
    with SafeZip(path, file="swap.zip") as z:
        assert z.has("empty")
    # Same name, new content and members: the old index must not be used.
    _archive(path, [("other.bin", b"new content", zipfile.ZIP_DEFLATED)])
    with SafeZip(path, file="swap.zip") as z:
        assert [m.name for m in z.members] == ["other.bin"]
        assert dict(z.hash_members(["other.bin"], ALGS)[0].digests) == _oracle(
            path, "other.bin"
        )
    # A copy is another file (another inode), indexed on its own.
    copy = tmp_path / "copy.zip"
    copy.write_bytes(path.read_bytes())
    with SafeZip(copy, file="copy.zip") as z:
        assert z.has("other.bin")


def test_an_unreadable_path_is_one_error_naming_the_archive(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="not a readable ZIP") as e:
        SafeZip(tmp_path, file="dir.csar")
    assert e.value.file == "dir.csar"
    with pytest.raises(InvalidInputError, match="not a readable ZIP"):
        SafeZip(tmp_path / "missing.csar", file="missing.csar")
