"""The byte layout of a ZIP archive: every byte belongs to exactly one record.

APPNOTE.TXT 4.3.6 lays a ZIP out as, for each file, a local file header, the file
data and an optional data descriptor, then the central directory, the Zip64 end of
central directory record and locator when present, and the end of central directory
record with its comment. A reader that starts from the central directory (``zipfile``,
vendorproof) and one that walks the local headers from the start (Java's
``ZipInputStream``, ``bsdtar`` on a pipe, any extractor fed a stream) see the same
files only if nothing else is in the file. ``zipfile`` does not check that: a local
entry hidden between two members, before the first one or before the central
directory, members that overlap, or a local header that says something else than
the central directory are all read without complaint, while a streaming reader
extracts the hidden file.

:func:`check_layout` requires the exact covering, in one linear pass (one small read
per local header, one of each data descriptor, one of the directory and one of the
end records): entries sorted by offset start at 0 and each begins where the one
before ends; each local header (4.3.7) has the signature, the directory's name bytes,
flag bits 0, 3 and 11, method, and CRC-32 and sizes unless bit 3 defers them to the
data descriptor (4.3.9, with or without its signature, 8-byte sizes when the local
header carries a Zip64 field, 4.5.3, or a size needs them); the last entry ends where
the central directory begins; the directory's entries fill it exactly and their
number is the one the end records give; the directory ends where the Zip64 records
(4.3.14, 4.3.15) or the end record (4.3.16) begin, and the end record's comment ends
the file.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Callable, Sequence
from typing import Final

from vendorproof.errors import InvalidInputError

__all__ = ["check_layout"]

# 4.3.7: signature, version, flags, method, time, date, CRC-32, compressed and
# uncompressed size, name and extra field lengths.
_LOCAL: Final = struct.Struct("<4s2xHH4xIIIHH")
_LOCAL_SIGNATURE: Final = b"PK\x03\x04"
# 4.3.12: signature, versions, flags, method, time, date, CRC-32, sizes, then the name,
# extra field and comment lengths, disk, attributes and offset.
_CENTRAL: Final = struct.Struct("<4s24xHHH12x")
_CENTRAL_SIGNATURE: Final = b"PK\x01\x02"
# 4.3.16: signature, disk, directory's disk, entries on this disk and in total,
# directory size and offset, comment length.
_END: Final = struct.Struct("<4sHHHHIIH")
_END_SIGNATURE: Final = b"PK\x05\x06"
# 4.3.15: signature, disk of the Zip64 record, its offset, number of disks.
_LOCATOR: Final = struct.Struct("<4sIQI")
_LOCATOR_SIGNATURE: Final = b"PK\x06\x07"
# 4.3.14 without extensible data (``zipfile`` reads no other): signature, size of the
# rest, versions, disk, directory's disk, entries, directory size and offset.
_ZIP64_END: Final = struct.Struct("<4sQ4xIIQQQQ")
_ZIP64_END_SIGNATURE: Final = b"PK\x06\x06"
_ZIP64_END_REST: Final = _ZIP64_END.size - 12
_DESCRIPTOR_SIGNATURE: Final = b"PK\x07\x08"
_NARROW: Final = struct.Struct("<III")  # 4.3.9: CRC-32, compressed, uncompressed
_WIDE: Final = struct.Struct("<IQQ")  # the same with Zip64 sizes
_ZIP64_FIELD: Final = 0x0001  # 4.5.3, Zip64 extended information
_EXTRA_GUESS: Final = 64  # bytes of the local extra field read with the header
_COMMENT_WINDOW: Final = 1 << 16  # where ``zipfile`` looks for the end record
_TAIL: Final = _END.size + _COMMENT_WINDOW + _LOCATOR.size + _ZIP64_END.size
_FLAGS_COMPARED: Final = 0x0809  # bits 0 (encrypted), 3 (data descriptor), 11 (UTF-8)
_DATA_DESCRIPTOR: Final = 0x0008
_UTF8: Final = 0x0800
_MAX32: Final = 0xFFFFFFFF

#: Reads up to ``length`` bytes at ``offset`` of the archive (fewer at its end).
ReadAt = Callable[[int, int], bytes]


def check_layout(
    infos: Sequence[zipfile.ZipInfo], *, read_at: ReadAt, size: int, file: str
) -> list[int]:
    """Check that the entries, directory and end records cover the archive exactly.

    ``infos`` is ``zipfile``'s central directory in its order, ``size`` the archive's
    length. Returns the offset of each entry's data (after its local header), in the
    order of ``infos``.

    Raises:
        InvalidInputError: any byte outside the records, a record where another is
            expected, or a local header or data descriptor that disagrees with the
            central directory; the error names the member when there is one.
    """
    directory_at, directory_size, count = _end_records(read_at, size, file)
    data_at = [0] * len(infos)
    end = 0
    previous: zipfile.ZipInfo | None = None
    for i in sorted(range(len(infos)), key=lambda i: infos[i].header_offset):
        info = infos[i]
        if info.header_offset != end:
            raise _misplaced(info, previous, end, file)
        data_at[i], end = _local_entry(info, read_at, file)
        previous = info
    if end != directory_at:
        what = (
            f"member {previous.orig_filename[:200]!r} ends at {end}"
            if previous is not None
            else "the archive has no member"
        )
        raise InvalidInputError(
            f"{what} but the central directory starts at {directory_at}: the bytes in "
            "between are no member of the archive (a hidden entry)"
            if end < directory_at
            else f"{what}, past the start of the central directory at {directory_at}",
            file=file,
        )
    _directory_entries(read_at(directory_at, directory_size), len(infos), count, file)
    return data_at


def _misplaced(
    info: zipfile.ZipInfo, previous: zipfile.ZipInfo | None, end: int, file: str
) -> InvalidInputError:
    shown = repr(info.orig_filename[:200])
    gap = info.header_offset - end
    if previous is None:
        why = (
            f"{gap} bytes before the first member that are no member of the archive "
            "(prepended data, a self-extracting stub or a hidden entry)"
        )
    elif gap > 0:
        why = (
            f"{gap} bytes after member {previous.orig_filename[:200]!r} that are no "
            "member of the archive (a hidden entry)"
        )
    else:
        why = f"member overlaps member {previous.orig_filename[:200]!r}"
    return InvalidInputError(why, file=file, path=shown)


def _end_records(read_at: ReadAt, size: int, file: str) -> tuple[int, int, int]:
    """The central directory's offset and size and the entry count (4.3.14-4.3.16).

    The end record is found as ``zipfile`` finds it: at the very end, or else the last
    signature in the last 64 KiB + 22 bytes; its comment must end the file.
    """
    start = max(size - _TAIL, 0)
    tail = read_at(start, size - start)
    at = len(tail) - _END.size
    if not (at >= 0 and tail.startswith(_END_SIGNATURE, at) and tail.endswith(b"\0\0")):
        at = tail.rfind(_END_SIGNATURE, max(len(tail) - _END.size - _COMMENT_WINDOW, 0))
    if at < 0 or at + _END.size > len(tail):  # pragma: no cover - zipfile found it
        raise InvalidInputError("no end of central directory record", file=file)
    _, disk, first_disk, on_disk, count, directory_size, directory_at, comment = (
        _END.unpack_from(tail, at)
    )
    if at + _END.size + comment != len(tail):
        raise InvalidInputError(
            f"{len(tail) - at - _END.size - comment} bytes after the end of central "
            "directory record and its comment",
            file=file,
        )
    directory_end = start + at
    locator = at - _LOCATOR.size
    if locator >= 0 and tail.startswith(_LOCATOR_SIGNATURE, locator):
        _, _, record_at, _ = _LOCATOR.unpack_from(tail, locator)
        record = locator - _ZIP64_END.size
        directory_end = start + record
        if (
            record < 0
            or record_at != directory_end
            or not tail.startswith(_ZIP64_END_SIGNATURE, record)
            or _ZIP64_END.unpack_from(tail, record)[1] != _ZIP64_END_REST
        ):
            raise InvalidInputError(
                "Zip64 end of central directory record not where its locator says, "
                "or with extensible data",
                file=file,
            )
        _, _, disk, first_disk, on_disk, count, directory_size, directory_at = (
            _ZIP64_END.unpack_from(tail, record)
        )
    if disk or first_disk or on_disk != count:
        raise InvalidInputError(
            "archive spanning several disks (end of central directory record)",
            file=file,
        )
    if directory_at + directory_size != directory_end:
        raise InvalidInputError(
            f"central directory declared at {directory_at} with {directory_size} "
            f"bytes, but the end records start at {directory_end} (data before the "
            "archive or between the directory and its end)",
            file=file,
        )
    return directory_at, directory_size, count


def _directory_entries(directory: bytes, entries: int, count: int, file: str) -> None:
    """The directory's headers (4.3.12) fill it exactly and are ``count`` many."""
    at = 0
    seen = 0
    while at + _CENTRAL.size <= len(directory) and directory.startswith(
        _CENTRAL_SIGNATURE, at
    ):
        _, name, extra, comment = _CENTRAL.unpack_from(directory, at)
        at += _CENTRAL.size + name + extra + comment
        seen += 1
    if at != len(directory) or seen != entries or count != entries:
        raise InvalidInputError(
            f"central directory of {len(directory)} bytes holds {seen} entries "
            f"ending at byte {at}; the end record says {count} entries",
            file=file,
        )


def _differs(info: zipfile.ZipInfo, what: str, file: str) -> InvalidInputError:
    return InvalidInputError(
        f"local file header and central directory differ in the {what}",
        file=file,
        path=repr(info.orig_filename[:200]),
    )


def _local_entry(info: zipfile.ZipInfo, read_at: ReadAt, file: str) -> tuple[int, int]:
    """Check one local header (and data descriptor): (data offset, entry end)."""
    name = info.orig_filename
    # The bytes ``zipfile`` decoded (UTF-8 with bit 11, else CP437; both are ASCII on
    # ASCII, and the CP437 codec costs microseconds a call).
    raw_name = (
        name.encode("ascii")
        if name.isascii()
        else name.encode("utf-8" if info.flag_bits & _UTF8 else "cp437")
    )
    start = info.header_offset
    block = read_at(start, _LOCAL.size + len(raw_name) + _EXTRA_GUESS)
    if len(block) < _LOCAL.size or not block.startswith(_LOCAL_SIGNATURE):
        raise InvalidInputError(
            f"no local file header at offset {start}",
            file=file,
            path=repr(info.orig_filename[:200]),
        )
    _, flags, method, crc, compressed, size, name_length, extra_length = (
        _LOCAL.unpack_from(block)
    )
    if block[_LOCAL.size : _LOCAL.size + name_length] != raw_name:
        raise _differs(info, "name", file)
    if (flags ^ info.flag_bits) & _FLAGS_COMPARED:
        raise _differs(info, f"flags (0x{flags:04x} and 0x{info.flag_bits:04x})", file)
    if method != info.compress_type:
        raise _differs(
            info, f"compression method ({method} and {info.compress_type})", file
        )
    extra_at = _LOCAL.size + name_length
    extra = block[extra_at : extra_at + extra_length]
    if len(extra) < extra_length:
        extra = read_at(start + extra_at, extra_length)
    zip64 = _zip64_sizes(extra)
    if zip64 is not None:  # 4.5.3: the field holds a size the header marks 0xFFFFFFFF
        size = zip64[0] if size == _MAX32 else size
        compressed = zip64[1] if compressed == _MAX32 else compressed
    data_at = start + extra_at + extra_length
    data_end = data_at + info.compress_size
    expected = (info.CRC, info.compress_size, info.file_size)
    if not flags & _DATA_DESCRIPTOR:
        if (crc, compressed, size) != expected:
            raise _differs(info, "CRC-32 or sizes", file)
        return data_at, data_end
    # 4.4.4 bit 3: the header's values are zero; some writers put those they know
    # (Info-ZIP writing to a pipe: the uncompressed size).
    if any(
        v not in {0, e} for v, e in zip((crc, compressed, size), expected, strict=True)
    ):
        raise _differs(info, "CRC-32 or sizes", file)
    wide = zip64 is not None or max(info.compress_size, info.file_size) >= _MAX32
    layout = _WIDE if wide else _NARROW
    descriptor = read_at(data_end, 4 + layout.size)
    if (
        descriptor.startswith(_DESCRIPTOR_SIGNATURE)
        and len(descriptor) == 4 + layout.size
        and layout.unpack_from(descriptor, 4) == expected
    ):
        return data_at, data_end + 4 + layout.size
    if len(descriptor) >= layout.size and layout.unpack_from(descriptor) == expected:
        return data_at, data_end + layout.size
    raise InvalidInputError(
        "data descriptor missing, or its CRC-32 or sizes differ from the central "
        "directory",
        file=file,
        path=repr(info.orig_filename[:200]),
    )


def _zip64_sizes(extra: bytes) -> tuple[int, int] | None:
    """The uncompressed and compressed sizes of a local Zip64 field (4.5.3), if any.

    Fields are walked while whole (a truncated tail, such as alignment padding, ends
    the walk); a Zip64 field too short for both sizes counts as absent.
    """
    at = 0
    while at + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, at)
        if tag == _ZIP64_FIELD and length >= 16 and at + 4 + length <= len(extra):
            size, compressed = struct.unpack_from("<QQ", extra, at + 4)
            return size, compressed
        at += 4 + length
    return None
