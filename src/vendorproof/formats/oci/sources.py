"""Where an OCI image layout's files are read from: a directory, a tar, stored inputs.

A source lists the layout's regular files with their sizes, reads one whole (within a
limit) and hashes blobs through the hashing engine. It is ``complete`` when that
listing is the whole layout (a directory or a tar), not only the documents a replay
stored.

A directory is listed with ``lstat``; its files are read through
``_internal.confine`` and hashed by the hashing engine, neither of which follows a
link. A link or special file where ``blobs/``, a blob, ``oci-layout`` or
``index.json`` belongs is refused; other directories and special files are listed by
name and never read.

A tar is read member by member, never extracted: member names are checked with the
ZIP reader's rules (:func:`vendorproof.formats.ziparchive.check_member_name`; a leading
``./``, which ``tar -C layout -cf x.tar .`` writes, is dropped first), links, devices
and FIFOs are refused, duplicate names (also after case folding and Unicode
normalisation) and a name used as both file and directory are refused, and the member
count and total size are bounded by :class:`ArchiveLimits`. The members must end with
the end-of-archive zero blocks (or the end of the file): a header ``tarfile`` cannot
read ends its listing silently, so it is refused.

Every call into ``tarfile`` goes through :func:`_tar_errors`: ``tarfile`` documents
``TarError`` but its pure-Python header parsers let other exceptions through for a
malformed archive (a pax ``GNU.sparse.map`` or a GNU sparse 1.0 header that is no
list of numbers raises ``ValueError``), so whatever it raises becomes an
``InvalidInputError`` naming the archive.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO, Protocol, cast

from vendorproof._internal import confine
from vendorproof._internal.hashing import FileDigests, hash_fileobj, hash_files
from vendorproof._internal.text import shorten
from vendorproof.errors import InvalidInputError
from vendorproof.formats.oci.documents import INDEX_FILE, LAYOUT_FILE
from vendorproof.formats.ziparchive import ArchiveLimits, check_member_name, name_key
from vendorproof.limits import Limits
from vendorproof.models.delivery import FileState

__all__ = ["is_layout"]


class _Source(Protocol):  # noqa: PYI046 - used in layout.py, adapter.py
    file: str
    #: Whether ``files()`` is the whole layout (a directory or tar), or only what
    #: was stored from it (replay), where an absent document is one not read.
    complete: bool

    def files(self) -> Mapping[str, int]: ...  # regular files -> size

    def read(self, name: str, limit: int) -> bytes: ...

    def hash(
        self,
        names: Sequence[str],
        algorithms: Sequence[str],
        on_progress: Callable[[int], None] | None,
    ) -> list[FileDigests | str]: ...


class _DirSource:
    """A layout directory; files are opened without following links."""

    complete = True

    def __init__(self, root: Path, *, limits: Limits) -> None:
        self.root = root
        self.file = str(root)
        self._files: dict[str, int] = {}
        self._walk(limits)

    def _walk(self, limits: Limits) -> None:
        def entry(name: str) -> os.stat_result:
            try:
                return (self.root / name).lstat()
            except OSError as e:  # pragma: no cover - removed after it was listed
                raise InvalidInputError(
                    f"cannot read: {e.strerror}", file=f"{self.file}/{name}"
                ) from e

        # open_layout checked with lstat that the root is a directory, not a link
        for top in sorted(os.listdir(self.root)):  # noqa: PTH208
            st = entry(top)
            if stat.S_ISREG(st.st_mode):
                self._files[top] = st.st_size
            elif top == "blobs" and stat.S_ISDIR(st.st_mode):
                self._walk_blobs(entry, limits)
            elif top in {"blobs", LAYOUT_FILE, INDEX_FILE}:
                raise InvalidInputError(
                    f"is a {confine.file_kind(st.st_mode)}",
                    file=f"{self.file}/{top}",
                )
            else:  # other directories and special files are never read
                self._files.setdefault(f"{top}/", 0)

    def _walk_blobs(
        self, entry: Callable[[str], os.stat_result], limits: Limits
    ) -> None:
        for alg in confine.list_dir(self.root, "blobs", file=self.file):
            where = f"blobs/{alg}"
            if not stat.S_ISDIR(entry(where).st_mode):
                raise InvalidInputError(
                    "is not a directory (blobs/ holds one directory per digest "
                    "algorithm)",
                    file=f"{self.file}/{where}",
                )
            for name in confine.list_dir(self.root, where, file=self.file):
                st = entry(f"{where}/{name}")
                if not stat.S_ISREG(st.st_mode):
                    raise InvalidInputError(
                        f"is a {confine.file_kind(st.st_mode)}; a blob must be a "
                        "regular file",
                        file=f"{self.file}/{where}/{name}",
                    )
                self._files[f"{where}/{name}"] = st.st_size
                if len(self._files) > limits.max_files:
                    raise InvalidInputError(
                        f"more than {limits.max_files} blobs", file=self.file
                    )

    def files(self) -> Mapping[str, int]:
        return self._files

    def read(self, name: str, limit: int) -> bytes:
        return confine.read_file(
            self.root,
            name,
            file=self.file,
            limits=Limits(max_document_bytes=limit),
        )

    def hash(
        self,
        names: Sequence[str],
        algorithms: Sequence[str],
        on_progress: Callable[[int], None] | None,
    ) -> list[FileDigests | str]:
        out: list[FileDigests | str] = []
        digests = hash_files(
            [self.root / n for n in names], algorithms, on_progress=on_progress
        )
        out.extend(digests)
        return out


@contextmanager
def _tar_errors(what: str, file: str, path: str | None = None) -> Iterator[None]:
    """Turn anything ``tarfile`` raises for a malformed archive into invalid input.

    Only ``tarfile``'s own calls run inside (the project's errors pass through):
    its parsers raise more than the ``TarError``, ``OSError`` and ``EOFError`` it
    documents (``ValueError`` from a sparse map that is no list of numbers).
    """
    try:
        yield
    except InvalidInputError:
        raise
    except Exception as e:  # noqa: BLE001 - see above
        detail = shorten(str(e), 200) or type(e).__name__
        raise InvalidInputError(f"{what}: {detail}", file=file, path=path) from None


class _CappedReader(io.BufferedReader):
    """A file whose reads never ask for more than is left in it.

    ``tarfile`` reads a pax or GNU long-name header's data with one
    ``read(size)`` of the size its header declares, and a buffered read allocates
    that size before reading: a header claiming 8 GiB allocated 8 GiB for a small
    file. Capped at what the file holds, the read returns the same bytes.
    """

    def __init__(self, raw: io.FileIO) -> None:
        super().__init__(raw)
        self._size = os.fstat(raw.fileno()).st_size

    def read(self, size: int | None = -1, /) -> bytes:
        if size is not None and size > 0:
            size = max(min(size, self._size - self.tell()), 0)
        return super().read(size)


def _tar_name(raw: str) -> str:
    name = raw.removeprefix("./")
    return name.removesuffix("/")


class _TarSource:
    """A layout in a tar archive, read member by member without extracting it."""

    complete = True

    def __init__(self, path: Path, *, limits: ArchiveLimits) -> None:
        self.file = str(path)
        self.limits = limits
        with _tar_errors("not a readable tar archive", self.file):
            self._stream = _CappedReader(io.FileIO(path, "r"))
        try:
            #: The tar file's state when opened (``formats.base.check_unchanged``).
            self.state = self.state_now()
            with _tar_errors("not a readable tar archive", self.file):
                self._tar = tarfile.open(fileobj=self._stream, mode="r:")  # noqa: SIM115 - closed in close()
            self._members = self._index()
        except BaseException:
            self.close()
            raise

    def state_now(self) -> FileState:
        """The tar file's state now (``fstat`` of the open file)."""
        with _tar_errors("not a readable tar archive", self.file):
            return FileState.of(os.fstat(self._stream.fileno()))

    def close(self) -> None:
        if hasattr(self, "_tar"):
            self._tar.close()  # does not close a file it was given
        self._stream.close()

    def _headers(self) -> Iterator[tarfile.TarInfo]:
        """The members' headers in archive order, each parsed by ``tarfile``."""
        while True:
            with _tar_errors("tar archive is corrupt or truncated", self.file):
                info = self._tar.next()
            if info is None:
                return
            yield info

    def _check_end(self) -> None:
        """What follows the last member must be the end-of-archive zero blocks.

        ``tarfile`` stops at a header it cannot read (a wrong checksum, a cut
        header) as if the archive ended there; GNU tar and Go's ``archive/tar``
        report it, and members after it would go unseen here.
        """
        fileobj = self._tar.fileobj
        with _tar_errors("tar archive is corrupt or truncated", self.file):
            fileobj.seek(self._tar.offset)
            block = fileobj.read(tarfile.BLOCKSIZE)
        if block.strip(b"\0"):
            raise InvalidInputError(
                f"unreadable tar header at offset {self._tar.offset} (a wrong "
                "checksum or a cut header): the archive is corrupt or truncated",
                file=self.file,
            )

    def _index(self) -> dict[str, tarfile.TarInfo]:
        members: dict[str, tarfile.TarInfo] = {}
        keys: dict[str, str] = {}
        directories: set[str] = set()
        total = 0
        count = 0
        for info in self._headers():
            count += 1
            if count > self.limits.max_members:
                raise InvalidInputError(
                    f"more than {self.limits.max_members} members", file=self.file
                )
            if info.name in {".", "./"} and info.isdir():
                continue
            name = _tar_name(info.name)
            check_member_name(name, file=self.file, limits=self.limits)
            shown = repr(name[:200])
            if info.issym() or info.islnk():
                raise InvalidInputError("link member", file=self.file, path=shown)
            if not (info.isreg() or info.isdir()):
                raise InvalidInputError(
                    "special file member (device, FIFO)", file=self.file, path=shown
                )
            key = name_key(name)
            if key in keys:
                raise InvalidInputError(
                    "member name duplicate or colliding after case folding or "
                    "Unicode normalisation",
                    file=self.file,
                    path=shown,
                )
            keys[key] = name
            parts = name.split("/")
            directories.update("/".join(parts[:i]) for i in range(1, len(parts)))
            if info.isdir():
                directories.add(name)
                continue
            total += info.size
            if total > self.limits.max_total_bytes:
                raise InvalidInputError(
                    f"members larger than {self.limits.max_total_bytes} bytes",
                    file=self.file,
                    path=shown,
                )
            members[name] = info
        self._check_end()
        dir_keys = {name_key(d) for d in directories}
        for name in members:
            if name_key(name) in dir_keys:
                raise InvalidInputError(
                    "member name is used both as a file and as a directory",
                    file=self.file,
                    path=repr(name[:200]),
                )
        return members

    def files(self) -> Mapping[str, int]:
        return {n: i.size for n, i in self._members.items()}

    def _open(self, name: str) -> IO[bytes]:
        stream = self._tar.extractfile(self._members[name])
        if stream is None:  # pragma: no cover - regular members always have a stream
            raise InvalidInputError("member cannot be read", file=self.file, path=name)
        return stream

    def read(self, name: str, limit: int) -> bytes:
        if name not in self._members:  # pragma: no cover - callers check first
            raise InvalidInputError("no such member", file=self.file, path=name)
        if self._members[name].size > limit:
            raise InvalidInputError(
                f"larger than {limit} bytes", file=self.file, path=name
            )
        with (
            _tar_errors("member data is corrupt or truncated", self.file, name),
            self._open(name) as stream,
        ):
            return stream.read(limit + 1)

    def hash(
        self,
        names: Sequence[str],
        algorithms: Sequence[str],
        on_progress: Callable[[int], None] | None,
    ) -> list[FileDigests | str]:
        out: list[FileDigests | str] = []
        # In archive order: one forward pass over the tar.
        order = sorted(names, key=lambda n: self._members[n].offset_data)
        found: dict[str, FileDigests | str] = {}
        for name in order:
            try:
                with (
                    _tar_errors("member data is corrupt or truncated", self.file),
                    self._open(name) as stream,
                ):
                    found[name] = hash_fileobj(
                        cast("BinaryIO", stream), algorithms, on_progress=on_progress
                    )
            except InvalidInputError as e:  # pragma: no cover - as in read
                found[name] = e.message
        out.extend(found[n] for n in names)
        return out


class _MemorySource:
    """Stored inputs as a layout source (replay: no config or layer is there)."""

    complete = False

    def __init__(self, files: Mapping[str, bytes], file: str) -> None:
        self.file = file
        self._files = dict(files)

    def files(self) -> Mapping[str, int]:
        return {n: len(d) for n, d in self._files.items()}

    def read(self, name: str, limit: int) -> bytes:
        data = self._files[name]
        if len(data) > limit:
            raise InvalidInputError(
                f"larger than {limit} bytes", file=self.file, path=name
            )
        return data

    def hash(
        self,
        names: Sequence[str],  # noqa: ARG002
        algorithms: Sequence[str],  # noqa: ARG002
        on_progress: Callable[[int], None] | None,  # noqa: ARG002
    ) -> list[FileDigests | str]:  # pragma: no cover - replay measures nothing here
        msg = "stored inputs hold no configs or layers"
        raise InvalidInputError(msg, file=self.file)


def is_layout(path: Path) -> bool:
    """Whether ``path`` looks like an image layout; does not validate it.

    A directory with an ``oci-layout`` file, or a tar with an ``oci-layout`` member.
    """
    try:
        if path.is_dir() and not path.is_symlink():
            return (path / LAYOUT_FILE).is_file() and not (
                path / LAYOUT_FILE
            ).is_symlink()
        if path.is_file():
            with (
                _CappedReader(io.FileIO(path, "r")) as stream,
                tarfile.open(fileobj=stream, mode="r:") as tar,
            ):
                for i, info in enumerate(tar):
                    if _tar_name(info.name) == LAYOUT_FILE:
                        return True
                    if i > 10_000:  # pragma: no cover - a bound on the probe
                        return False
    except Exception:  # noqa: BLE001 - a malformed tar is no layout (_tar_errors)
        return False
    return False
