"""Paths named by evidence, confined to the directory they belong to.

Audit bundles and evidence records name files: ``MANIFEST.json`` lists the bundle's
files, records name their inputs (``in-toto/...`` documents that replay writes to a
temporary directory), blobs and records sit at paths built from their digests and
sequence numbers. Every such name is untrusted. This module is the one place that
turns one into a file operation, in two steps:

1. :func:`check_name` accepts only a relative POSIX path of plain components: no
   empty, ``.`` or ``..`` component, not absolute, no backslash, NUL or other control
   character, no lone surrogate, each component at most :data:`NAME_MAX` bytes and the
   whole at most :data:`PATH_MAX` bytes (UTF-8).
2. :func:`read_file`, :func:`list_dir` and :func:`write_file` then walk the name one
   component at a time from a descriptor of the confining directory (``openat`` with
   ``O_NOFOLLOW``): a symbolic link anywhere on the way, including the last
   component, is refused rather than followed, so a name can never leave the
   directory even if the tree changes while it is read. A file must be a regular
   file (a directory, FIFO, socket or device is refused, and a FIFO is opened
   non-blocking so it cannot hang the reader); a directory must be a directory.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from vendorproof._internal.jsonio import show_key
from vendorproof.errors import InvalidInputError
from vendorproof.limits import DEFAULT_LIMITS, Limits

__all__ = [
    "NAME_MAX",
    "PATH_MAX",
    "check_name",
    "file_kind",
    "list_dir",
    "read_file",
    "write_file",
]

#: Longest path component in bytes (POSIX NAME_MAX on Linux and macOS).
NAME_MAX = 255
#: Longest relative name in bytes.
PATH_MAX = 1024

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC
_READ_FLAGS = (
    os.O_RDONLY
    | _O_NOFOLLOW
    | _O_CLOEXEC
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
)
_CHUNK = 1024 * 1024


def file_kind(mode: int) -> str:
    """What a file of ``mode`` is, when it is not a regular file (for messages)."""
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISBLK(mode) or stat.S_ISCHR(mode):
        return "device"
    return "not a regular file"


def _kind(mode: int) -> str:
    kind = file_kind(mode)
    return kind if kind.startswith("not ") else f"a {kind}"


def check_name(name: object, *, file: str | None = None) -> tuple[str, ...]:
    """Check that ``name`` is a plain relative path; return its components.

    Args:
        name: the name as the evidence gives it.
        file: the document that names it (for the error).

    Raises:
        InvalidInputError: ``name`` is not a string, empty, absolute, too long, or has
            an empty, ``.`` or ``..`` component, a backslash, a control character or
            a lone surrogate.
    """

    def refuse(why: str) -> InvalidInputError:
        return InvalidInputError(f"path {show_key(name)} {why}", file=file)

    if not isinstance(name, str):
        raise refuse("is not a string")
    if not name:
        raise refuse("is empty")
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise refuse("is not valid Unicode (lone surrogate)") from None
    if size > PATH_MAX:
        raise refuse(f"is longer than {PATH_MAX} bytes")
    if name.startswith("/"):
        raise refuse("is absolute")
    if any(ord(c) < 0x20 or c in "\x7f\\" for c in name):
        raise refuse("contains a control character or a backslash")
    parts = tuple(name.split("/"))
    for part in parts:
        if part in ("", ".", ".."):
            raise refuse("has an empty, '.' or '..' component")
        if len(part.encode("utf-8")) > NAME_MAX:
            raise refuse(f"has a component longer than {NAME_MAX} bytes")
    return parts


def _error(root: Path, name: str, e: OSError) -> InvalidInputError:
    why = e.strerror or str(e)
    if e.errno == errno.ELOOP:
        why = "a symbolic link on the way (links are not followed)"
    elif e.errno == errno.ENOTDIR:
        # O_DIRECTORY | O_NOFOLLOW on a link fails with ENOTDIR on Linux.
        why = "a symbolic link or a file where a directory is expected"
    return InvalidInputError(f"cannot read: {why}", file=str(root / name))


def _open_dir(root: Path, parts: tuple[str, ...], *, create: bool = False) -> int:
    """A descriptor of ``root/parts`` reached without following any link."""
    fd = os.open(root, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
    try:
        for part in parts:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o700, dir_fd=fd)
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_file(
    root: Path, name: str, *, file: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> bytes:
    """Read the regular file ``root/name`` without leaving ``root``.

    Raises:
        InvalidInputError: ``name`` is refused by :func:`check_name`; the file is
            missing, a link (anywhere on the path), not a regular file, or larger
            than ``limits.max_document_bytes``.
    """
    parts = check_name(name, file=file)
    where = str(root / name)
    try:
        dfd = _open_dir(root, parts[:-1])
        try:
            fd = os.open(parts[-1], _READ_FLAGS, dir_fd=dfd)
        finally:
            os.close(dfd)
    except OSError as e:
        raise _error(root, name, e) from e
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidInputError(f"is {_kind(info.st_mode)}", file=where)
        too_large = f"larger than {limits.max_document_bytes} bytes"
        if info.st_size > limits.max_document_bytes:
            raise InvalidInputError(too_large, file=where)
        chunks: list[bytes] = []
        remaining = limits.max_document_bytes + 1
        while remaining > 0 and (chunk := os.read(fd, min(remaining, _CHUNK))):
            chunks.append(chunk)
            remaining -= len(chunk)
        if remaining <= 0:
            raise InvalidInputError(too_large, file=where)
        return b"".join(chunks)
    except OSError as e:
        raise InvalidInputError(f"cannot read: {e.strerror}", file=where) from e
    finally:
        os.close(fd)


def list_dir(root: Path, name: str, *, file: str | None = None) -> list[str]:
    """The entry names of the directory ``root/name`` (sorted; [] if it is missing).

    Raises:
        InvalidInputError: ``name`` is refused, or it is a link or not a directory.
    """
    parts = check_name(name, file=file)
    try:
        fd = _open_dir(root, parts)
    except FileNotFoundError:
        return []
    except OSError as e:
        raise _error(root, name, e) from e
    try:
        return sorted(os.listdir(fd))  # noqa: PTH208 - a descriptor, not a path
    except OSError as e:
        raise _error(root, name, e) from e
    finally:
        os.close(fd)


def write_file(root: Path, name: str, data: bytes, *, file: str | None = None) -> None:
    """Create the new file ``root/name`` (and its directories) inside ``root``.

    Raises:
        InvalidInputError: ``name`` is refused, already exists, or a component on the
            way is a link or not a directory.
    """
    parts = check_name(name, file=file)
    try:
        dfd = _open_dir(root, parts[:-1], create=True)
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC
            fd = os.open(parts[-1], flags, 0o600, dir_fd=dfd)
        finally:
            os.close(dfd)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    except OSError as e:
        raise InvalidInputError(
            f"cannot write: {e.strerror or e}", file=str(root / name)
        ) from e
