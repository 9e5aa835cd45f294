"""Strict JSON reading and deterministic, atomic JSON writing.

Every document vendorproof reads is untrusted. :func:`parse_json` therefore accepts
only a strict subset of what :func:`json.loads` takes: UTF-8 without a byte order
mark, no duplicate object keys, no ``NaN``/``Infinity``, no numbers that overflow to
infinity, no integers longer than :data:`MAX_INT_DIGITS` digits, no unpaired
surrogate escapes, and no nesting deeper than ``Limits.max_depth``. The nesting depth
is measured by a linear pre-scan (:func:`nesting_depth`) *before* :func:`json.loads`
runs, so a hostile ``[[[[...`` never reaches the recursive decoder. Every step is
linear in the size of the document, which ``Limits.max_document_bytes`` bounds before
anything is decoded.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import json
import math
import operator
import os
import re
import stat
import sys
import tempfile
from itertools import accumulate, repeat
from pathlib import Path
from typing import Any, NoReturn

from vendorproof._internal.text import ELLIPSIS, shorten
from vendorproof.errors import InvalidInputError, OutputError
from vendorproof.limits import DEFAULT_LIMITS, Limits

__all__ = [
    "MAX_INT_DIGITS",
    "canonical_json",
    "dump_json",
    "nesting_depth",
    "parse_json",
    "read_document",
    "render_path",
    "show_key",
    "write_atomic",
]

MAX_INT_DIGITS = 4300
"""Longest integer literal accepted (CPython's default ``int_max_str_digits``)."""

_MAX_SHOWN = 80
_READ_CHUNK = 1024 * 1024
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")
# A complete JSON string (escapes consume one character), a bracket, or a lone quote
# that opens a string which is never closed.
# Any \uD800-\uDFFF escape; a cheap trigger for the exact surrogate check.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# Errors of os.link() that mean "this file system has no hard links".
_NO_HARDLINKS = frozenset(
    getattr(errno, name)
    for name in ("EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EMLINK")
    if hasattr(errno, name)
)


def show_key(key: object) -> str:
    """Quote a key (or other short value) for a one-line error message.

    Args:
        key: the value to show; long strings are truncated.

    Returns:
        A ``repr``-style rendering without line breaks, e.g. ``'sha256'``.

    """
    if isinstance(key, str):
        key = shorten(key, _MAX_SHOWN + len(ELLIPSIS), one_line=False)
    return repr(key)


def render_path(path: tuple[str | int, ...]) -> str:
    """Render a field path the way error messages show it.

    Args:
        path: keys (``str``) and sequence indexes (``int``) from the document root.

    Returns:
        The rendered path: ``("vendors", 0, "anchors")`` becomes
        ``vendors[0].anchors``; keys that are not plain words are quoted
        (``digest["sha-256 x"]``); the empty path renders as ``""``.

    """
    parts: list[str] = []
    for element in path:
        if isinstance(element, int):
            parts.append(f"[{element}]")
        elif _PLAIN_KEY.fullmatch(element):
            parts.append(f".{element}" if parts else element)
        else:
            parts.append(f"[{json.dumps(element)}]")
    return "".join(parts)


class _DuplicateKeys(dict[str, Any]):
    """An object that had a duplicate key; marks it until its path is known."""

    duplicate: str = ""


def _first_duplicate(root: object) -> tuple[str, tuple[str | int, ...]]:
    """Find the first object (in document order) marked by ``_DuplicateKeys``."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(root, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, _DuplicateKeys):
            return value.duplicate, path
        if isinstance(value, dict):
            children = [(v, (*path, k)) for k, v in value.items()]
        elif isinstance(value, list):
            children = [(v, (*path, i)) for i, v in enumerate(value)]
        else:
            continue
        stack.extend(reversed(children))
    msg = "no duplicate key marker found"  # pragma: no cover - internal invariant
    raise AssertionError(msg)  # pragma: no cover


# Everything that is not a bracket outside a string: a whole string (an unterminated
# one runs to the end of the text) or a run of other characters. Each alternative is
# chosen by the first character and uses possessive quantifiers, so a match attempt
# never backtracks and ends where it stops reading; at a bracket both alternatives fail
# on the first character. One substitution thus reads every character a bounded number
# of times, whatever the input (a lazy ``"...(?:\\.)*"`` retried at each escaped quote
# of an unterminated string was quadratic).
_SKIP = re.compile(r'"(?:[^"\\]++|\\.)*+"?|[^"\[\]{}]++', re.DOTALL)
# Brackets as steps of +1 / -1 (after subtracting 1 from every byte).
_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


def nesting_depth(text: str) -> int:
    """Return the deepest nesting of brackets outside JSON strings in ``text``.

    Linear in ``len(text)``: one regular-expression substitution (see ``_SKIP``) and
    one pass over the remaining brackets, both at C speed. On valid JSON the result
    is the nesting depth :func:`json.loads` recurses to; on invalid JSON it never
    under-estimates the depth reached before the decoder stops (brackets after an
    unterminated string are not counted: the decoder reads them as that string).
    """
    if text.count("[") + text.count("{") == 0:
        return 0
    brackets = _SKIP.sub("", text).encode("ascii").translate(_STEPS)
    return max(0, max(accumulate(map(operator.sub, brackets, repeat(1))), default=0))


class _StrictHooks:
    """``json.loads`` hooks for one document; they raise ``InvalidInputError``."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.found_duplicate = False

    def reject(self, message: str, path: tuple[str | int, ...] = ()) -> NoReturn:
        raise InvalidInputError(message, path=render_path(path) or None, file=self.file)

    def object_pairs(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        seen: set[str] = set()
        for key, _ in pairs:  # pragma: no branch - a duplicate exists
            if key in seen:
                marked = _DuplicateKeys(obj)
                marked.duplicate = key
                self.found_duplicate = True
                return marked
            seen.add(key)
        return obj  # pragma: no cover

    def constant(self, literal: str) -> NoReturn:
        self.reject(f"{literal} is not allowed")

    def parse_float(self, literal: str) -> float:
        value = float(literal)
        if not math.isfinite(value):
            self.reject(f"number out of range: {show_key(literal)}")
        return value

    def parse_int(self, literal: str) -> int:
        if len(literal) - literal.startswith("-") > MAX_INT_DIGITS:
            self.reject(f"integer with more than {MAX_INT_DIGITS} digits")
        return int(literal)


def _decode(raw: bytes, hooks: _StrictHooks, limits: Limits) -> str:
    """Check size, encoding and nesting; return the text for ``json.loads``."""
    if len(raw) > limits.max_document_bytes:
        hooks.reject(
            f"document too large (more than {limits.max_document_bytes} bytes)"
        )
    if raw.startswith(codecs.BOM_UTF8):
        hooks.reject("UTF-8 byte order mark is not allowed")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        hooks.reject(f"not valid UTF-8 (byte {e.start})")
    if nesting_depth(text) > limits.max_depth:
        hooks.reject(f"nesting deeper than {limits.max_depth} levels")
    return text


def parse_json(raw: bytes, *, file: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Parse an untrusted JSON document strictly.

    Args:
        raw: the document as read from disk.
        file: the document's name, reported in errors.
        limits: size and nesting bounds.

    Returns:
        The decoded value (objects are ``dict``, arrays ``list``, numbers ``int``
        or finite ``float``).

    Raises:
        InvalidInputError: the document is too large, not UTF-8 (or starts with a
            byte order mark), not valid JSON, nested too deeply, has a duplicate
            object key, a ``NaN``/``Infinity`` literal, a number out of range, an
            over-long integer or an unpaired surrogate escape.

    """
    hooks = _StrictHooks(file)
    text = _decode(raw, hooks, limits)
    # The interpreter's bound on decimal int() (CVE-2020-10735) is as strict as ours
    # unless it was configured off or higher: only then does each integer literal go
    # through the (per-literal, Python-level) hook.
    interpreter = sys.get_int_max_str_digits()
    native_ints = 0 < interpreter <= MAX_INT_DIGITS
    try:
        value = json.loads(
            text,
            object_pairs_hook=hooks.object_pairs,
            parse_constant=hooks.constant,
            parse_float=hooks.parse_float,
            parse_int=None if native_ints else hooks.parse_int,
        )
    except json.JSONDecodeError as e:
        hooks.reject(f"invalid JSON: {e.msg} (line {e.lineno}, column {e.colno})")
    except (ValueError, RecursionError) as e:  # int conversion limits, etc.
        if native_ints and str(e).startswith("Exceeds the limit"):
            hooks.reject(f"integer with more than {interpreter} digits")
        hooks.reject(f"invalid JSON: {' '.join(str(e).split())}")
    if hooks.found_duplicate:
        key, path = _first_duplicate(value)
        hooks.reject(f"duplicate key {show_key(key)}", path)
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            hooks.reject("unpaired surrogate escape in a string")
    return value


def parse_authenticated(raw: bytes) -> Any:
    """Parse JSON whose bytes were verified against a pinned key before parsing.

    Only for content signed by a party the caller already trusts (records signed
    with the operator key): the duplicate-key and nesting pre-checks that guard
    untrusted input are skipped; malformed JSON still raises ``InvalidInputError``.
    """
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as e:
        raise InvalidInputError(f"invalid JSON: {' '.join(str(e).split())}") from e


def read_document(path: Path, *, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """Read a document for parsing, refusing anything but a bounded regular file.

    Symbolic links are followed (documents named on the command line may be links).
    The file is opened non-blocking so a FIFO cannot hang the verifier, then
    checked with ``fstat``.

    Args:
        path: the file to read.
        limits: ``max_document_bytes`` bounds the read.

    Returns:
        The file's contents.

    Raises:
        InvalidInputError: the file cannot be opened or read, is not a regular
            file, or is larger than ``limits.max_document_bytes``.

    """
    file = str(path)
    if not file.isprintable():  # NUL, control characters, lone surrogates
        file = repr(file)
    flags = (
        os.O_RDONLY
        | getattr(os, "O_NONBLOCK", 0)
        | getattr(os, "O_NOCTTY", 0)
        | getattr(os, "O_CLOEXEC", 0)
        | getattr(os, "O_BINARY", 0)
    )
    too_large = f"document too large (more than {limits.max_document_bytes} bytes)"
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise InvalidInputError(f"cannot read: {e.strerror}", file=file) from e
    except ValueError as e:  # a NUL byte, or a lone surrogate the OS cannot encode
        raise InvalidInputError("cannot read: not a valid file name", file=file) from e
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidInputError("not a regular file", file=file)
        if info.st_size > limits.max_document_bytes:
            raise InvalidInputError(too_large, file=file)
        chunks: list[bytes] = []
        remaining = limits.max_document_bytes + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, _READ_CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        if remaining <= 0:  # the file grew after fstat
            raise InvalidInputError(too_large, file=file)
        return b"".join(chunks)
    except OSError as e:
        raise InvalidInputError(f"cannot read: {e.strerror}", file=file) from e
    finally:
        os.close(fd)


def dump_json(data: Any) -> bytes:
    """Serialize data deterministically for files vendorproof writes.

    Args:
        data: JSON-compatible data.

    Returns:
        UTF-8 JSON with sorted keys, two-space indentation and a final newline.

    Raises:
        ValueError: ``data`` contains ``NaN`` or an infinity.
        TypeError: ``data`` is not JSON-serializable.

    """
    text = json.dumps(
        data, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False
    )
    return (text + "\n").encode("utf-8")


def _check_canonical(data: object) -> None:
    """Reject floats and non-string keys anywhere in ``data`` (iteratively)."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, float):
            msg = f"floats have no canonical form: {value!r}"
            raise ValueError(msg)  # noqa: TRY004 - a value, not a type, problem
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    msg = f"object keys must be strings: {key!r}"
                    raise ValueError(msg)  # noqa: TRY004 - a value, not a type, problem
                stack.append(item)
        elif isinstance(value, list | tuple):
            stack.extend(value)


def canonical_json(data: Any) -> bytes:
    """Serialize data canonically, for hashing records.

    Args:
        data: JSON-compatible data without floats; object keys must be strings.

    Returns:
        Compact UTF-8 JSON with sorted keys and no insignificant whitespace.

    Raises:
        ValueError: ``data`` contains a float or a non-string object key, or a
            string that is not encodable as UTF-8 (a lone surrogate).
        TypeError: ``data`` is not JSON-serializable.

    """
    _check_canonical(data)
    text = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def _output_error(path: Path, e: OSError) -> OutputError:
    return OutputError(f"{path}: cannot write: {e.strerror or e}")


def _exists_error(path: Path) -> OutputError:
    return OutputError(f"{path}: exists (use --force to overwrite)")


def _create_exclusive(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``data``, failing if it exists (no hard links needed)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, mode)
    try:
        if sys.platform != "win32":
            os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    os.close(fd)


def _sync_directory(directory: Path) -> None:
    """Best effort: make a rename or link in ``directory`` durable."""
    if sys.platform == "win32":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomic(
    path: Path, data: bytes, *, force: bool = False, mode: int = 0o644
) -> None:
    """Write a file atomically: readers see the old file, or all of ``data``.

    The data goes to a temporary file in the same directory, which is synced and
    then renamed over ``path`` (``force``) or hard-linked to ``path`` (which fails
    if ``path`` exists, so no existing file is ever overwritten, even by a race).
    On file systems without hard links an exclusive create is used instead. Nothing
    partial is left behind on failure.

    Args:
        path: the file to write.
        data: the complete contents.
        force: replace ``path`` if it exists.
        mode: permission bits of the new file (not reduced by the umask).

    Raises:
        OutputError: ``path`` exists and ``force`` is false, or the file cannot be
            written (missing directory, permissions, disk full, ...).

    """
    directory = path.parent
    try:
        fd, tmp_name = tempfile.mkstemp(
            dir=directory, prefix=f".{path.name}.", suffix=".tmp"
        )
    except OSError as e:
        raise _output_error(path, e) from e
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if sys.platform == "win32":
                tmp.chmod(mode)
            else:
                os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        if force:
            tmp.replace(path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise _exists_error(path) from None
            except OSError as e:
                if e.errno not in _NO_HARDLINKS:
                    raise
                _create_exclusive(path, data, mode)
        _sync_directory(directory)
    except FileExistsError as e:  # from the exclusive-create fallback
        raise _exists_error(path) from e
    except OSError as e:
        raise _output_error(path, e) from e
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
