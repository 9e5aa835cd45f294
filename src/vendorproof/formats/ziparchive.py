"""Safe, streaming reading of ZIP archives (a CSAR is one) without extracting them.

Nothing is written to disk: members are read as byte chunks through the standard
library's ``zipfile``, with the checks an archive from an untrusted vendor needs.
Refused when the archive is opened (from the central directory):

- member names that are absolute (``/x``, ``C:x``), contain ``..`` or ``.``
  components, empty components or components of only dots and spaces, backslashes,
  control characters (a NUL included: the name checked is the whole name the
  directory holds, not ``zipfile``'s name cut at the NUL) or Unicode format characters
  (category Cf: zero-width characters, bidirectional controls), or exceed
  :attr:`ArchiveLimits.max_name_length`;
- symbolic links and other non-regular members (Unix mode bits in ``external_attr``);
- encrypted members (general-purpose flag bit 0);
- duplicate names, and names equal after Unicode NFC normalisation, case folding and
  removing trailing dots and spaces from each component (they would collide on
  macOS/Windows file systems and fool a human reviewer);
- a name used both as a file and as a directory, a directory entry with data;
- more than :attr:`ArchiveLimits.max_members` members, a declared total above
  :attr:`ArchiveLimits.max_total_bytes` or above :attr:`ArchiveLimits.max_ratio`
  times the archive's size (at least :attr:`ArchiveLimits.ratio_floor_bytes`), or a
  declared compression ratio above :attr:`ArchiveLimits.max_ratio` (for members above
  :attr:`ArchiveLimits.ratio_threshold_bytes`);
- any byte not covered by exactly one record: data before the first member, between
  members or before the central directory, overlapping members, a local header or
  data descriptor that disagrees with the central directory, bytes after the end
  record's comment (``_ziplayout.check_layout``, APPNOTE 4.3.6), so that a reader
  walking the local headers from the start sees the same files;
- a truncated or otherwise unreadable archive (no end of central directory).

The same limits are enforced again **while streaming** (bytes actually produced per
member and in total over every read), so headers that lie cannot get past them;
``zipfile`` itself stops at the declared size and checks the CRC-32 at the end.
"""

from __future__ import annotations

import io
import os
import re
import stat
import threading
import unicodedata
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, BinaryIO, Final, Self

from vendorproof._internal.hashing import FileDigests, hash_buffer, hash_fileobj
from vendorproof.errors import InvalidInputError
from vendorproof.formats._ziplayout import check_layout
from vendorproof.models.delivery import FileState

__all__ = [
    "DEFAULT_ARCHIVE_LIMITS",
    "ArchiveLimits",
    "ArchiveMember",
    "SafeZip",
    "check_member_name",
    "name_key",
]

_CHUNK: Final = 1024 * 1024
_PIECE: Final = 64 * 1024  # bytes per read of a member stream into the engine's buffer
# Unicode category Cc is exactly C0, DEL and C1.
_CONTROL: Final = re.compile("[\x00-\x1f\x7f-\x9f]")
# Trailing dots and spaces of a path component (Windows file systems drop them).
_TRAILING_DOTS: Final = re.compile(r"[. ]+(?=/|\Z)")
# A component that is empty, "." or "..", or empty once Windows dropped its trailing
# dots and spaces ("...", " ", ". .").
_BAD_PART: Final = re.compile(r"(?:\A|/)[. ]*(?:/|\Z)")
_INLINE_METHODS: Final = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
_SUPPORTED_METHODS: Final = frozenset(
    {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchiveLimits:
    """Bounds on one archive (to join ``vendorproof.limits.Limits`` later).

    Attributes:
        max_members: most entries (files and directories) in the archive.
        max_total_bytes: most uncompressed bytes, declared and read in total.
        max_ratio: most uncompressed bytes per compressed byte of one member, and
            of the whole archive (declared total per byte of the archive file).
        ratio_threshold_bytes: members at most this large skip the ratio check
            (a tiny file of zeros compresses 100:1 and is harmless).
        ratio_floor_bytes: an archive may declare this many uncompressed bytes in
            total whatever its ratio (many small members of zeros are harmless).
        max_name_length: longest member name in bytes (UTF-8).
        max_text_bytes: largest member read whole into memory (``TOSCA.meta``,
            the manifest, signatures and certificates).
    """

    max_members: int = 100_000
    max_total_bytes: int = 64 * 1024**3
    max_ratio: int = 200
    ratio_threshold_bytes: int = 1024 * 1024
    ratio_floor_bytes: int = 64 * 1024 * 1024
    max_name_length: int = 1024
    max_text_bytes: int = 16 * 1024 * 1024


DEFAULT_ARCHIVE_LIMITS: Final = ArchiveLimits()


@dataclass(frozen=True, slots=True)
class ArchiveMember:
    """One regular file in the archive (directories are listed separately)."""

    name: str
    size: int
    compressed_size: int
    crc: int


def name_key(name: str) -> str:
    """The collision key of a member name.

    NFC, case folded, NFC again, without trailing dots and spaces in each component
    (Windows file systems drop them: ``app.sh. `` is ``app.sh`` there).
    """
    if name.isascii():  # NFC leaves ASCII alone and casefold is lower() on it
        return _TRAILING_DOTS.sub("", name.lower())
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())
    return _TRAILING_DOTS.sub("", folded)


def check_member_name(name: str, *, file: str, limits: ArchiveLimits) -> None:
    """Refuse a member (or referenced) name that could escape or confuse.

    Raises:
        InvalidInputError: the name is unsafe; the error names it.
    """
    shown = repr(name[:200])
    if len(name.encode("utf-8", "surrogatepass")) > limits.max_name_length:
        raise InvalidInputError(
            f"member name longer than {limits.max_name_length} bytes",
            file=file,
            path=shown,
        )
    if not name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise InvalidInputError("absolute or empty member name", file=file, path=shown)
    if "\\" in name or _CONTROL.search(name):
        raise InvalidInputError(
            "backslash or control character in member name", file=file, path=shown
        )
    if not name.isascii() and any(unicodedata.category(c) == "Cf" for c in name):
        raise InvalidInputError(
            "Unicode format character (category Cf: zero-width, bidirectional "
            "control) in member name",
            file=file,
            path=shown,
        )
    if _BAD_PART.search(name.removesuffix("/")):
        raise InvalidInputError(
            "member name with an empty, '.' or '..' component (or one of only dots "
            "and spaces)",
            file=file,
            path=shown,
        )


class SafeZip:
    """A ZIP archive opened for safe streaming reads.

    Use as a context manager. ``members`` lists regular files in archive order.
    """

    def __init__(
        self,
        source: Path | BinaryIO,
        *,
        file: str,
        limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
        size: int | None = None,
    ) -> None:
        """Open ``source`` and check its central directory.

        ``size`` is the length of a stream ``source`` when the caller knows it (a
        member of another archive: measuring it would decompress it once more);
        otherwise it is measured (a path: its file's size).

        Raises:
            InvalidInputError: not a ZIP, truncated, or any refused member.
        """
        self.file = file
        self.limits = limits
        self._read_total = 0
        self._mappable = True  # until reading the archive with pread failed
        self._zip: zipfile.ZipFile | None = None
        self._own: BinaryIO | None = None  # the file this object opened (and closes)
        #: The archive file's state when it was opened (None for a stream).
        self.state: FileState | None = None
        if isinstance(source, Path):
            try:
                self._own = source.open("rb")
                st = os.fstat(self._own.fileno())
            except OSError as e:
                self.close()
                raise InvalidInputError(
                    f"not a readable ZIP archive: {e.strerror or e}", file=file
                ) from None
            self.state = FileState.of(st)
            self._source: BinaryIO = self._own
            size = st.st_size
        else:
            self._source = source
        if self.state is not None:
            cached = _INDEXES.get(self.state, limits)
            if cached is not None:
                self._index = cached
                return
        try:
            infos = self._archive().infolist()
            self._index = _Index.build(
                infos,
                file=file,
                limits=limits,
                size=self._archive_size() if size is None else size,
                read_at=self._reader(),
            )
        except BaseException:
            self.close()
            raise
        if self.state is not None:
            _INDEXES.put(self.state, limits, self._index)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying archive (and the file, when opened from a path)."""
        if self._zip is not None:
            self._zip.close()
        if self._own is not None:
            self._own.close()

    def state_now(self) -> FileState | None:
        """Return the archive file's state now (None for a stream).

        ``fstat`` of the open file: whether it was written to since it was opened.

        Raises:
            InvalidInputError: the file cannot be examined.
        """
        if self._own is None:
            return None
        try:
            return FileState.of(os.fstat(self._own.fileno()))
        except OSError as e:
            raise InvalidInputError(
                f"not a readable ZIP archive: {e.strerror or e}", file=self.file
            ) from None

    def _archive_size(self) -> int:
        """The archive's length in bytes (the stream's position is kept)."""
        try:
            here = self._source.tell()
            end = self._source.seek(0, os.SEEK_END)
            self._source.seek(here)
        except (OSError, ValueError) as e:
            raise InvalidInputError(
                f"not a readable ZIP archive: {e}", file=self.file
            ) from None
        return end

    def _reader(self) -> Callable[[int, int], bytes]:
        """A ``read_at(offset, length)`` function over the archive.

        It returns up to ``length`` bytes at ``offset`` (fewer at the end), with
        ``pread`` on a file, else seek and read, and raises InvalidInputError when
        the archive cannot be read. On a stream (a CSAR inside a ZIP member), a range
        inside the block read last is served from it: the layout check reads a little
        past each local header, and seeking back in an inflating stream would inflate
        it again from its start.
        """
        fd = self._fd()
        source = self._source
        file = self.file
        last: list[tuple[int, bytes]] = [(0, b"")]

        def read_at(offset: int, length: int) -> bytes:
            start, block = last[0]
            if fd is None and start <= offset and offset + length <= start + len(block):
                return block[offset - start : offset - start + length]
            try:
                if fd is not None:
                    return os.pread(fd, length, offset)
                source.seek(offset)
                data = source.read(length)
            except (OSError, ValueError, EOFError, zlib.error, zipfile.BadZipFile) as e:
                raise InvalidInputError(
                    f"not a readable ZIP archive: {e}", file=file
                ) from None
            last[0] = (offset, data)
            return data

        return read_at

    def _archive(self) -> zipfile.ZipFile:
        """``zipfile``'s view of the archive, opened when first needed.

        An archive whose central directory was indexed before (same file, unchanged:
        ``_INDEXES``) is read with ``pread`` alone until a member must be streamed.

        Raises:
            InvalidInputError: not a ZIP archive, or truncated.
        """
        if self._zip is None:
            try:
                self._zip = zipfile.ZipFile(self._source)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
                raise InvalidInputError(
                    f"not a readable ZIP archive: {e}", file=self.file
                ) from None
        return self._zip

    @property
    def members(self) -> tuple[ArchiveMember, ...]:
        """Regular files, in archive order."""
        return self._index.members

    @property
    def directories(self) -> frozenset[str]:
        """Directory names (explicit entries and parents of files), without '/'."""
        return self._index.directories

    def has(self, name: str) -> bool:
        """Whether ``name`` is a regular file in the archive (exact match)."""
        return name in self._index.by_name

    def member(self, name: str) -> ArchiveMember:
        """The member ``name``.

        Raises:
            InvalidInputError: no such file in the archive.
        """
        try:
            return self._index.by_name[name]
        except KeyError:
            raise InvalidInputError(
                "no such member in the archive", file=self.file, path=name
            ) from None

    def chunks(self, name: str) -> Iterator[bytes]:
        """Stream the bytes of member ``name``, enforcing the limits as they flow.

        Raises:
            InvalidInputError: missing member, corrupt data, CRC mismatch, or a limit
                exceeded while decompressing.
        """
        member = self.member(name)
        limit_ratio = self.limits.max_ratio * max(member.compressed_size, 1)
        produced = 0
        try:
            with self._archive().open(self._index.infos[name]) as stream:
                while chunk := stream.read(_CHUNK):
                    produced += len(chunk)
                    self._read_total += len(chunk)
                    self._check_stream(member, produced, limit_ratio)
                    yield chunk
        except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as e:
            raise InvalidInputError(
                f"member data is corrupt or truncated: {e}", file=self.file, path=name
            ) from None
        except (NotImplementedError, RuntimeError) as e:
            raise InvalidInputError(
                f"member cannot be read: {e}", file=self.file, path=name
            ) from None
        if produced != member.size:  # pragma: no cover - zipfile checks the size
            raise InvalidInputError(
                "member size differs from the directory", file=self.file, path=name
            )

    def _check_stream(self, member: ArchiveMember, produced: int, ratio: int) -> None:
        if produced > member.size:  # pragma: no cover - zipfile stops at file_size
            raise InvalidInputError(
                "member longer than declared", file=self.file, path=member.name
            )
        if self._read_total > self.limits.max_total_bytes:
            raise InvalidInputError(
                f"more than {self.limits.max_total_bytes} bytes read from the archive",
                file=self.file,
                path=member.name,
            )
        if produced > self.limits.ratio_threshold_bytes and produced > ratio:
            raise InvalidInputError(
                f"compression ratio above {self.limits.max_ratio}",
                file=self.file,
                path=member.name,
            )

    def hash_member(
        self,
        name: str,
        algorithms: Sequence[str],
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> FileDigests:
        """Digest member ``name`` with the project's hashing engine, streaming.

        Nothing is extracted: the member is decompressed chunk by chunk into the
        engine's buffers, with the same limits as :meth:`chunks`; with several cores
        the digests run while the next chunk is read and decompressed.

        Raises:
            InvalidInputError: missing member, corrupt data, CRC mismatch, a limit
                exceeded while decompressing, or an unsupported algorithm.
        """
        member = self.member(name)
        try:
            with self._archive().open(self._index.infos[name]) as stream:
                reader = _LimitedReader(self, member, stream)
                result = hash_fileobj(
                    reader,  # type: ignore[arg-type]
                    algorithms,
                    on_progress=on_progress,
                    size_hint=member.size,
                    overlap_reads=member.size > _CHUNK,
                )
        except (zipfile.BadZipFile, EOFError, zlib.error) as e:
            raise InvalidInputError(
                f"member data is corrupt or truncated: {e}", file=self.file, path=name
            ) from None
        except (NotImplementedError, RuntimeError) as e:
            raise InvalidInputError(
                f"member cannot be read: {e}", file=self.file, path=name
            ) from None
        except InvalidInputError as e:
            if e.file is None:  # the engine's: an algorithm, or OSError from the stream
                raise InvalidInputError(e.message, file=self.file, path=name) from None
            raise
        if result.size != member.size:  # pragma: no cover - zipfile checks the size
            raise InvalidInputError(
                "member size differs from the directory", file=self.file, path=name
            )
        return result

    def hash_members(
        self, names: Sequence[str], algorithms: Sequence[str]
    ) -> list[FileDigests]:
        """Digest many members, in order, with the same checks as :meth:`hash_member`.

        Stored and deflated members of at most one chunk are read straight from the
        archive file (``pread``, the file offset ``zipfile`` uses is not moved) at
        the data offset found when the local headers were checked at open: the data
        is inflated in memory to exactly the declared size, its CRC-32 must match,
        and the limits are counted as for streaming. Other members, and archives
        that are not a file (a CSAR inside a ZIP), go through :meth:`hash_member`.
        ``zipfile`` costs tens of microseconds per member to open; this path a few.

        Raises:
            InvalidInputError: as for :meth:`hash_member`.
        """
        fd = self._fd()
        out: list[FileDigests] = []
        for name in names:
            member = self.member(name)
            info = self._index.infos[name]
            if (
                fd is None
                or member.size > _CHUNK
                or info.compress_type not in _INLINE_METHODS
            ):
                out.append(self.hash_member(name, algorithms))
                continue
            data = self._inline(fd, member, info)
            out.append(hash_buffer(data, algorithms))
        return out

    def _fd(self) -> int | None:
        """The archive's file descriptor for ``pread``, or None when not a file."""
        if self._mappable:
            try:
                fd = self._source.fileno()
                os.pread(fd, 1, 0)
            except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
                self._mappable = False
            else:
                return fd
        return None

    def _inline(self, fd: int, member: ArchiveMember, info: zipfile.ZipInfo) -> bytes:
        """The decompressed data of a small member, read with ``pread``."""
        name = member.name

        def corrupt(why: str) -> InvalidInputError:
            return InvalidInputError(
                f"member data is corrupt or truncated: {why}", file=self.file, path=name
            )

        # The local header was checked against the directory when the archive was
        # indexed; the file is the same (``_IndexCache``), and the CRC-32 below
        # checks what is read now.
        raw = os.pread(fd, info.compress_size, self._index.data_at[name])
        if len(raw) != info.compress_size:
            raise corrupt("member data beyond the end of the archive")
        if info.compress_type == zipfile.ZIP_STORED:
            data = raw
        else:
            try:
                inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                data = inflater.decompress(raw, member.size + 1)
            except zlib.error as e:
                raise corrupt(f"Error -3 while decompressing data: {e}") from None
        if len(data) != member.size:
            raise corrupt(
                f"{len(data)} bytes where the directory declares {member.size}"
            )
        if zlib.crc32(data) != info.CRC:
            raise corrupt(f"Bad CRC-32 for file {name[:200]!r}")
        self._read_total += member.size
        self._check_stream(
            member, member.size, self.limits.max_ratio * max(member.compressed_size, 1)
        )
        return data

    def read(self, name: str) -> bytes:
        """Read a small member whole (at most :attr:`ArchiveLimits.max_text_bytes`).

        Raises:
            InvalidInputError: missing, too large or corrupt.
        """
        member = self.member(name)
        if member.size > self.limits.max_text_bytes:
            raise InvalidInputError(
                f"larger than {self.limits.max_text_bytes} bytes",
                file=self.file,
                path=name,
            )
        return b"".join(self.chunks(name))

    def open_seekable(self, name: str) -> BinaryIO:
        """A seekable stream of member ``name`` (for a ZIP nested in a ZIP).

        The member's declared size and ratio were checked at open and ``zipfile``
        bounds the stream to the declared size and checks its CRC.
        """
        self.member(name)
        try:
            return self._archive().open(self._index.infos[name])  # type: ignore[return-value]
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as e:
            raise InvalidInputError(
                f"member cannot be read: {e}", file=self.file, path=name
            ) from None


class _LimitedReader:
    """``readinto`` over an open member, counting bytes against the limits."""

    __slots__ = ("_archive", "_limit_ratio", "_member", "_produced", "_stream")

    def __init__(
        self, archive: SafeZip, member: ArchiveMember, stream: IO[bytes]
    ) -> None:
        self._archive = archive
        self._member = member
        self._stream = stream
        self._produced = 0
        self._limit_ratio = archive.limits.max_ratio * max(member.compressed_size, 1)

    def readinto(self, view: memoryview) -> int:
        # Pieces of _PIECE bytes: each read allocates its result (and zlib its
        # output); small allocations are reused from the heap, where 1 MiB ones
        # cost fresh pages every time (measured: a third of the time in the kernel).
        n = 0
        size = len(view)
        while n < size:
            data = self._stream.read(min(_PIECE, size - n))
            if not data:
                break
            view[n : n + len(data)] = data
            n += len(data)
        self._produced += n
        self._archive._read_total += n  # noqa: SLF001 - the archive's own counter
        self._archive._check_stream(  # noqa: SLF001
            self._member, self._produced, self._limit_ratio
        )
        return n


class _IndexCache:
    """The last few central directories checked, by file identity.

    A format reads an archive's metadata when it loads a delivery and opens it again
    to measure the members; the second open reuses the index (tens of microseconds
    per member to build) when the file is the same and unchanged since: same device
    and inode, size, and modification and change times to the nanosecond. A file
    rewritten in between is indexed afresh. The index holds the layout check (local
    headers against the central directory); every member read is checked against its
    CRC-32, and its digest against the manifest.
    """

    _SIZE: Final = 2

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[FileState, ArchiveLimits], _Index] = (
            OrderedDict()
        )

    def get(self, key: FileState, limits: ArchiveLimits) -> _Index | None:
        with self._lock:
            index = self._entries.get((key, limits))
            if index is not None:
                self._entries.move_to_end((key, limits))
            return index

    def put(self, key: FileState, limits: ArchiveLimits, index: _Index) -> None:
        with self._lock:
            self._entries[key, limits] = index
            while len(self._entries) > self._SIZE:
                self._entries.popitem(last=False)


_INDEXES: Final = _IndexCache()


@dataclass(frozen=True, slots=True)
class _Index:
    """A checked central directory: members, directories, data offsets.

    Built once per archive (and kept in ``_INDEXES``): every check that needs only
    the directory and the local headers, the layout check of ``_ziplayout`` included.
    """

    members: tuple[ArchiveMember, ...]
    by_name: dict[str, ArchiveMember]
    infos: dict[str, zipfile.ZipInfo]
    data_at: dict[str, int]  # offset of each member's data, after its local header
    directories: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def build(
        cls,
        infos: list[zipfile.ZipInfo],
        *,
        file: str,
        limits: ArchiveLimits,
        size: int,
        read_at: Callable[[int, int], bytes],
    ) -> _Index:
        if len(infos) > limits.max_members:
            raise InvalidInputError(
                f"more than {limits.max_members} members", file=file
            )
        members: list[ArchiveMember] = []
        by_name: dict[str, ArchiveMember] = {}
        by_info: dict[str, zipfile.ZipInfo] = {}
        keys: dict[str, str] = {}
        member_keys: list[str] = []
        directories: set[str] = set()
        total = 0
        for info in infos:
            # The whole name the directory holds: ``filename`` is cut at a NUL.
            name = info.orig_filename
            _check_info(info, file=file, limits=limits)
            key = name_key(name.removesuffix("/"))
            if key in keys:
                what = (
                    "duplicate"
                    if keys[key] == name.removesuffix("/")
                    else (
                        f"collides with {keys[key][:200]!r} after case folding or "
                        "Unicode normalisation"
                    )
                )
                raise InvalidInputError(
                    f"member name {what}", file=file, path=repr(name[:200])
                )
            keys[key] = name.removesuffix("/")
            parent = name.removesuffix("/")
            # Every directory above the name; once one is known, so are its parents.
            while (cut := parent.rfind("/")) > 0:
                parent = parent[:cut]
                if parent in directories:
                    break
                directories.add(parent)
            if info.is_dir():
                # Data under a directory entry would be bytes no file list shows.
                if info.file_size:
                    raise InvalidInputError(
                        "directory entry with data", file=file, path=repr(name[:200])
                    )
                directories.add(name.removesuffix("/"))
                continue
            # A member's data lies inside the archive (APPNOTE 4.3.6: local header,
            # then the compressed data): a larger declared size is a lie that would
            # size buffers by the header's word, not by the file.
            if info.header_offset + info.compress_size > size:
                raise InvalidInputError(
                    "declared compressed size or offset beyond the end of the archive",
                    file=file,
                    path=repr(name[:200]),
                )
            total += info.file_size
            if total > limits.max_total_bytes:
                raise InvalidInputError(
                    f"declared uncompressed size above {limits.max_total_bytes} bytes",
                    file=file,
                    path=repr(name[:200]),
                )
            member = ArchiveMember(name, info.file_size, info.compress_size, info.CRC)
            members.append(member)
            member_keys.append(key)
            by_name[name] = member
            by_info[name] = info
        dir_keys = {name_key(d) for d in directories}
        for m, key in zip(members, member_keys, strict=True):
            if key in dir_keys:
                raise InvalidInputError(
                    "member name is used both as a file and as a directory",
                    file=file,
                    path=repr(m.name[:200]),
                )
        # Archive-wide ratio: many members each below ratio_threshold_bytes.
        allowed = max(limits.max_ratio * size, limits.ratio_floor_bytes)
        if total > allowed:
            raise InvalidInputError(
                f"declared uncompressed size {total} bytes above {limits.max_ratio} "
                f"times the archive's {size} bytes (and above "
                f"{limits.ratio_floor_bytes} bytes)",
                file=file,
            )
        offsets = check_layout(infos, read_at=read_at, size=size, file=file)
        data_at = {
            info.orig_filename: at
            for info, at in zip(infos, offsets, strict=True)
            if info.orig_filename in by_info
        }
        return cls(tuple(members), by_name, by_info, data_at, frozenset(directories))


def _check_info(info: zipfile.ZipInfo, *, file: str, limits: ArchiveLimits) -> None:
    name = info.orig_filename
    shown = repr(name[:200])
    check_member_name(name, file=file, limits=limits)
    if info.flag_bits & 0x1:
        raise InvalidInputError("encrypted member", file=file, path=shown)
    mode = (info.external_attr >> 16) & 0xFFFF
    kind = stat.S_IFMT(mode)
    # Mode bits are checked whatever host system the entry claims.
    if kind not in {0, stat.S_IFREG, stat.S_IFDIR}:
        what = "symbolic link" if kind == stat.S_IFLNK else f"special file {kind:o}"
        raise InvalidInputError(f"{what} member", file=file, path=shown)
    if info.compress_type not in _SUPPORTED_METHODS:
        raise InvalidInputError(
            f"unsupported compression method {info.compress_type}",
            file=file,
            path=shown,
        )
    if (
        info.file_size > limits.ratio_threshold_bytes
        and info.file_size > limits.max_ratio * max(info.compress_size, 1)
    ):
        raise InvalidInputError(
            f"declared compression ratio above {limits.max_ratio}",
            file=file,
            path=shown,
        )
