"""The hashing engine: one read of each file feeds every requested digest.

Every command that hashes delivered files goes through :func:`hash_file`,
:func:`hash_files` or :func:`hash_fileobj`. A file is opened with ``O_NOFOLLOW``
(a symbolic link is refused, never followed), must be a regular file, and is read
once, in chunks of at most :data:`CHUNK_SIZE` bytes (``readinto`` into a
preallocated buffer; ``os.read`` for small files in worker processes); each chunk goes
to every requested digest. Memory does not grow with the file size.

There is one mechanism per size class, because ``hashlib`` releases the GIL only
while it hashes a buffer larger than about 2 KiB:

Small files (at most one chunk), many of them: worker processes
    The per-file work (open, ``fstat``, a short read, two digests of a few KiB, close)
    holds the GIL, so threads cannot run it on several cores. :func:`hash_files`
    sends batches of paths to a pool of worker processes (sized to the CPUs, started
    once per process, reused) and gets back sizes and digests; each worker opens
    and checks every file with the same code (:func:`_open_fd`) as
    :func:`hash_file`. A worker reports a file it cannot hash by its error message,
    and the caller raises the same :class:`InvalidInputError` naming that file. A
    worker that finds a file larger than one chunk leaves it to the thread phase (it
    has only looked at its ``fstat``, not read it).

Large files (more than one chunk): threads
    ``hashlib`` runs without the GIL on 1 MiB chunks, so one thread per file scales
    with the cores and keeps ``on_progress`` called per chunk. Files go largest
    first.

Several digests of one large file, with cores to spare: lanes
    Digests are split into *lanes*. The calling thread reads each chunk and hashes
    the lightest lane; each other lane is a helper thread that hashes the same
    read-only buffer. While the lanes hash chunk *n*, the caller reads chunk *n + 1*
    into a second buffer (double buffering); a lane gets chunk *n + 1* only after it
    has finished chunk *n*. With SHA-NI, sha256 + sha512 then takes about as long as
    sha512 alone. Lanes are used only for cores that no other file of the same call
    uses: one large image gets them, eight images on two cores do not.

The chunk size was measured (``docs/performance.md``): single-digest throughput is
flat within 4 % from 64 KiB to 8 MiB, and the lanes hand over one chunk at a time,
which costs nothing measurable at 1 MiB. Fewer than :data:`_MIN_BATCHED` files are
hashed on threads in this process: for them, starting the pool is a large share of
the work (1,000 files of at most 4 KiB are already faster in processes).

Worker processes are started with ``fork`` when the calling process has a single
thread (cheap, and nothing can hold a lock across the fork), otherwise with
``forkserver`` (a clean process forks the workers). Where neither is possible (a
daemonic process, which may not have children, or a platform without them) the
files are hashed on threads. ``on_progress`` is called from the calling thread for
batches and from worker threads for large files, never concurrently with itself.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import functools
import hashlib
import io
import math
import os
import stat
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import (
    FIRST_EXCEPTION,
    BrokenExecutor,
    Future,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, BinaryIO, Protocol, cast

from vendorproof.errors import InvalidInputError

if TYPE_CHECKING:
    # At run time, imported when the first pool starts (multiprocessing takes
    # longer to import than the rest of this module).
    from concurrent.futures import ProcessPoolExecutor

__all__ = [
    "CHUNK_SIZE",
    "SUPPORTED_ALGORITHMS",
    "FileDigests",
    "hash_buffer",
    "hash_file",
    "hash_fileobj",
    "hash_files",
]

SUPPORTED_ALGORITHMS: frozenset[str] = frozenset({"sha256", "sha384", "sha512"})
"""Digest algorithms the engine computes (SHA-1 and MD5 are deliberately absent)."""

CHUNK_SIZE = 1024 * 1024
"""Bytes read per ``readinto`` call; a file of at most this size is a small file."""

_MIN_BATCHED = 256
"""Fewest files for which :func:`hash_files` uses the worker processes."""

_BATCH_LIMITS = (16, 2048)
"""Fewest and most paths per batch sent to a worker process."""

_BATCHES_PER_WORKER = 8
"""Batches per worker, so that workers finishing early take more."""

_AHEAD_PER_WORKER = 2
"""Batches submitted per worker ahead of the answers read: a worker never waits for
the calling process to be scheduled (on a busy machine that wait dominated)."""

# Relative cost per byte, used to balance lanes: SHA-NI (x86) and the ARMv8 SHA-2
# extensions accelerate SHA-256 only; SHA-384 is SHA-512 with another start value.
_WEIGHTS: Mapping[str, int] = MappingProxyType({"sha256": 1, "sha384": 2, "sha512": 2})


class _Hasher(Protocol):
    def update(self, data: memoryview, /) -> None: ...
    def hexdigest(self) -> str: ...


_ReadInto = Callable[[memoryview], "int | None"]

_CONSTRUCTORS: Mapping[str, Callable[[], _Hasher]] = MappingProxyType(
    {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FileDigests:
    """The size and digests of one file (or stream).

    Attributes:
        size: number of bytes read and hashed.
        digests: algorithm name -> lowercase hex digest, in the order the algorithms
            were requested; a read-only mapping.

    """

    size: int
    digests: Mapping[str, str]

    def __post_init__(self) -> None:
        # A private copy behind a read-only proxy: neither the caller's dict nor the
        # result can be changed afterwards.
        object.__setattr__(self, "digests", MappingProxyType(dict(self.digests)))

    def __hash__(self) -> int:
        return hash((self.size, frozenset(self.digests.items())))

    @classmethod
    def _of(cls, size: int, digests: dict[str, str]) -> FileDigests:
        """Wrap a fresh dict without copying it (one result per small file adds up)."""
        result = object.__new__(cls)
        object.__setattr__(result, "size", size)
        object.__setattr__(result, "digests", MappingProxyType(digests))
        return result


def _cpu_count() -> int:
    """Return the number of CPUs this process may run on (at least 1)."""
    affinity = getattr(os, "sched_getaffinity", None)  # Linux; honours taskset/cgroups
    if affinity is not None:
        return len(affinity(0)) or 1
    return os.cpu_count() or 1


def _validate(algorithms: Sequence[str]) -> tuple[str, ...]:
    """Check the requested algorithms; return them once each, in request order."""
    if isinstance(algorithms, str):
        msg = f"algorithms must be a sequence of names, not the string {algorithms!r}"
        raise TypeError(msg)
    for index, name in enumerate(algorithms):
        if name not in SUPPORTED_ALGORITHMS:
            raise InvalidInputError(
                f"unsupported digest algorithm {name!r}", path=f"algorithms[{index}]"
            )
    if not algorithms:
        raise InvalidInputError("no digest algorithm requested", path="algorithms")
    return tuple(dict.fromkeys(algorithms))


@functools.lru_cache(maxsize=64)
def _validated(algorithms: tuple[str, ...]) -> tuple[str, ...]:
    """:func:`_validate`, remembered (many small buffers hashed one by one)."""
    return _validate(algorithms)


# --------------------------------------------------------------------------- streams


class _CancelledError(Exception):
    """Internal: another file of the same :func:`hash_files` call failed."""


@dataclass(frozen=True, slots=True)
class _Reader:
    """Where a stream's chunks come from, and whom to tell about each one."""

    readinto: _ReadInto
    on_progress: Callable[[int], None] | None = None
    cancel: threading.Event | None = None

    def fill(self, view: memoryview) -> tuple[int, bool]:
        """Read into ``view`` until it is full or the stream ends.

        Returns:
            The number of bytes read, and whether the end of the stream was seen.

        """
        size = len(view)
        got = self.readinto(view)
        if got == size:
            return size, False
        filled = 0
        while got:
            filled += got
            if filled == size:
                return filled, False
            got = self.readinto(view[filled:])
        if got is None:
            raise BlockingIOError(errno.EAGAIN, "non-blocking stream has no data")
        return filled, True

    def consumed(self, count: int) -> None:
        """Report ``count`` more bytes hashed; stop if the call was cancelled."""
        if self.on_progress is not None:
            self.on_progress(count)
        if self.cancel is not None and self.cancel.is_set():
            raise _CancelledError


def _hash_stream(
    reader: _Reader,
    names: tuple[str, ...],
    lanes: int,
    buffer_size: int = CHUNK_SIZE,
    *,
    overlap_reads: bool = False,
) -> FileDigests:
    """Hash a stream with every algorithm in ``names`` (already validated).

    Up to ``lanes`` threads hash it once a first full chunk was read (a stream that
    fits one buffer is hashed here). With ``overlap_reads`` (a stream whose reading
    is CPU work: decompression, CRC-32) and more than one core, every digest runs on
    lane threads while this thread reads the next chunk.
    """
    hashers = [_CONSTRUCTORS[name]() for name in names]
    buffer = memoryview(bytearray(buffer_size))
    count, eof = reader.fill(buffer)
    if overlap_reads and lanes > 1 and count == CHUNK_SIZE and not eof:
        groups = _partition(names, hashers, min(lanes - 1, len(hashers)))
        size = _hash_pipelined(reader, [(), *groups], buffer)
        return FileDigests(
            size=size,
            digests={n: h.hexdigest() for n, h in zip(names, hashers, strict=True)},
        )
    lanes = min(lanes, len(hashers))
    if lanes > 1 and count == CHUNK_SIZE and not eof:
        size = _hash_pipelined(reader, _partition(names, hashers, lanes), buffer)
    else:
        size = 0
        while count:
            view = buffer[:count]
            _update(hashers, view)
            size += count
            reader.consumed(count)
            if eof:
                break
            count, eof = reader.fill(buffer)
    return FileDigests(
        size=size,
        digests={name: h.hexdigest() for name, h in zip(names, hashers, strict=True)},
    )


def _update(hashers: Sequence[_Hasher], view: memoryview) -> None:
    for hasher in hashers:
        hasher.update(view)


def _partition(
    names: Sequence[str], hashers: Sequence[_Hasher], lanes: int
) -> list[tuple[_Hasher, ...]]:
    """Split hashers into ``lanes`` groups of similar cost, lightest group first."""
    loads = [0] * lanes
    groups: list[list[_Hasher]] = [[] for _ in range(lanes)]
    heaviest_first = sorted(
        zip(names, hashers, strict=True), key=lambda pair: -_WEIGHTS[pair[0]]
    )
    for name, hasher in heaviest_first:
        lightest = loads.index(min(loads))
        groups[lightest].append(hasher)
        loads[lightest] += _WEIGHTS[name]
    order = sorted(range(lanes), key=loads.__getitem__)
    return [tuple(groups[i]) for i in order]


def _hash_pipelined(
    reader: _Reader, groups: list[tuple[_Hasher, ...]], first: memoryview
) -> int:
    """Hash ``groups[0]`` here and every other group on its own lane thread.

    ``first`` holds the first chunk (a full one). The next chunk is read into a
    second buffer while the lanes still hash the current one; every lane finishes a
    chunk before it is given the next, so each hasher sees the chunks in order.

    Returns:
        The number of bytes hashed.

    """
    buffers = (first, memoryview(bytearray(CHUNK_SIZE)))
    total, index = 0, 0
    view: memoryview | None = first
    eof = False
    with ThreadPoolExecutor(len(groups) - 1, "vendorproof-hash-lane") as lanes:
        while view is not None:
            work = [lanes.submit(_update, group, view) for group in groups[1:]]
            try:
                _update(groups[0], view)
                total += len(view)
                reader.consumed(len(view))
                view = None
                if not eof:
                    index ^= 1
                    count, eof = reader.fill(buffers[index])
                    view = buffers[index][:count] if count else None
            finally:
                # No buffer is refilled, or dropped, while a lane may still read it.
                wait(work)
            for done in work:
                done.result()  # a lane's failure
    return total


def _readinto_of(f: BinaryIO) -> _ReadInto:
    """Return ``f.readinto``, or an equivalent using ``f.read`` if it is missing."""
    method = getattr(f, "readinto", None)
    if callable(method):
        return cast("_ReadInto", method)

    def readinto(view: memoryview) -> int:
        data = f.read(len(view))
        view[: len(data)] = data
        return len(data)

    return readinto


# --------------------------------------------------------------------------- files


def _describe(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "directory"),
        (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISLNK, "symbolic link"),
    )
    return next((kind for test, kind in kinds if test(mode)), "special file")


def _strerror(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _open_error(path: str, exc: OSError) -> InvalidInputError:
    """Explain why ``os.open`` refused ``path``."""
    if exc.errno in {errno.ELOOP, errno.EMLINK, errno.ENXIO, errno.EOPNOTSUPP}:
        # O_NOFOLLOW on a symlink (ELOOP on Linux, EMLINK on FreeBSD) or a socket.
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            pass
        else:
            if stat.S_ISLNK(mode):
                return InvalidInputError("is a symbolic link", file=path)
            if not stat.S_ISREG(mode):
                return InvalidInputError(
                    f"not a regular file ({_describe(mode)})", file=path
                )
    return InvalidInputError(f"cannot read: {_strerror(exc)}", file=path)


_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY


def _open_fd(path: str) -> tuple[int, int]:
    """Open ``path`` for reading; refuse a symlink or anything but a regular file.

    Returns the descriptor and the file's size at opening. ``O_NONBLOCK`` keeps a
    FIFO without a writer from blocking ``open``; on a regular file it has no effect
    (POSIX leaves it undefined for regular files; Linux and the BSDs ignore it).
    ``O_NOCTTY`` keeps a terminal device from becoming the controlling terminal
    before it is rejected.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise _open_error(path, exc) from exc
    try:
        info = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        raise InvalidInputError(f"cannot read: {_strerror(exc)}", file=path) from exc
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise InvalidInputError(
            f"not a regular file ({_describe(info.st_mode)})", file=path
        )
    return fd, info.st_size


@contextlib.contextmanager
def _open_regular(path: str) -> Iterator[tuple[io.FileIO, int]]:
    """Open a regular file as :func:`_open_fd` does; yield it and its size.

    ``OSError`` while reading becomes :class:`InvalidInputError` naming ``path``.
    """
    fd, size = _open_fd(path)
    if size > CHUNK_SIZE and hasattr(os, "posix_fadvise"):
        with contextlib.suppress(OSError):  # only a read-ahead hint
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
    with io.FileIO(fd, "rb", closefd=True) as f:
        try:
            yield f, size
        except OSError as exc:
            raise InvalidInputError(
                f"cannot read: {_strerror(exc)}", file=path
            ) from exc


def _buffer_size(size: int) -> int:
    """A buffer for a file of ``size`` bytes: one chunk, or the file and one byte."""
    return min(CHUNK_SIZE, size + 1)


def _hash_path(
    path: Path,
    names: tuple[str, ...],
    lanes: int,
    on_progress: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
) -> FileDigests:
    with _open_regular(str(path)) as (f, size):
        reader = _Reader(f.readinto, on_progress, cancel)
        return _hash_stream(reader, names, lanes, _buffer_size(size))


# --------------------------------------------------------------------------- processes

_LARGE = None
"""A worker's answer for a file larger than one chunk: left to the threads."""

_Answer = tuple[int, tuple[str, ...]] | str | None
"""A worker's answer per file: size and digests, an error message, or :data:`_LARGE`."""


def _hash_batch(paths: Sequence[str], names: tuple[str, ...]) -> list[_Answer]:
    """Hash small files in a worker process; stop at the first that fails.

    Runs in a worker process: the answer is plain data (errors are their messages;
    the caller rebuilds the :class:`InvalidInputError` naming the file).
    """
    answers: list[_Answer] = []
    for path in paths:
        try:
            answers.append(_hash_small(path, names))
        except InvalidInputError as exc:
            answers.append(exc.message)
            break
    return answers


def _hash_small(path: str, names: tuple[str, ...]) -> _Answer:
    """Hash ``path`` if it is at most one chunk long; :data:`_LARGE` otherwise.

    The same checks as :func:`hash_file`, with the fewest calls per file: this is
    where small files spend their time.
    """
    fd, size = _open_fd(path)
    try:
        if size > CHUNK_SIZE:
            return _LARGE
        hashers = [_CONSTRUCTORS[name]() for name in names]
        total = 0
        while chunk := os.read(fd, min(size + 1, CHUNK_SIZE)):
            for hasher in hashers:
                hasher.update(chunk)  # type: ignore[arg-type]
            total += len(chunk)
    except OSError as exc:
        raise InvalidInputError(f"cannot read: {_strerror(exc)}", file=path) from exc
    finally:
        os.close(fd)
    return total, tuple(hasher.hexdigest() for hasher in hashers)


_POOL: ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _forget_pool() -> None:
    """Drop the pool (in a forked child, whose pool processes are not its own)."""
    global _POOL  # noqa: PLW0603 - one pool per process, started at first use
    _POOL = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _process_pool() -> ProcessPoolExecutor | None:
    """The worker processes, started at first use; ``None`` where there can be none."""
    global _POOL  # noqa: PLW0603 - one pool per process, started at first use
    import multiprocessing  # only where processes are used
    from concurrent.futures import ProcessPoolExecutor

    with _POOL_LOCK:
        if _POOL is None:
            if multiprocessing.current_process().daemon:
                return None  # daemonic processes may not have children
            method = "fork" if threading.active_count() == 1 else "forkserver"
            if method not in multiprocessing.get_all_start_methods():
                return None
            context = multiprocessing.get_context(method)
            _POOL = ProcessPoolExecutor(_cpu_count(), mp_context=context)
            atexit.register(_stop_pool, _POOL, os.getpid())
        return _POOL


def _stop_pool(pool: ProcessPoolExecutor, owner: int) -> None:
    """Stop the workers at exit, while the modules the pool needs still exist.

    A forked child inherits this exit handler but not the pool: it does nothing.
    """
    if os.getpid() == owner:
        pool.shutdown(wait=True, cancel_futures=True)
        _forget_pool()


def _batches(count: int, workers: int) -> Iterator[range]:
    low, high = _BATCH_LIMITS
    size = max(low, min(high, math.ceil(count / (workers * _BATCHES_PER_WORKER))))
    return (range(i, min(i + size, count)) for i in range(0, count, size))


def _hash_in_processes(
    pool: ProcessPoolExecutor,
    paths: Sequence[Path],
    names: tuple[str, ...],
    workers: int,
    on_progress: Callable[[int], None] | None,
) -> list[FileDigests | None]:
    """Hash the small files among ``paths`` in batches on ``pool``.

    At most ``_AHEAD_PER_WORKER * workers`` batches are out at a time; answers are
    taken in ``paths`` order, so the outcome does not depend on which worker
    finishes first.

    Returns:
        One result per path; ``None`` for a file larger than one chunk.

    """
    results: list[FileDigests | None] = []
    out: list[tuple[range, Future[list[_Answer]]]] = []
    batches = _batches(len(paths), workers)

    def submit() -> None:
        span = next(batches, None)
        if span is not None:
            work = pool.submit(_hash_batch, [str(paths[i]) for i in span], names)
            out.append((span, work))

    try:
        for _ in range(_AHEAD_PER_WORKER * workers):
            submit()
        while out:
            span, work = out.pop(0)
            try:
                answers = work.result()
            except BrokenExecutor:
                _forget_pool()  # a worker died: the next call starts a new pool
                raise
            submit()
            done = 0
            for index, answer in zip(span, answers, strict=False):
                if isinstance(answer, str):
                    raise InvalidInputError(answer, file=str(paths[index]))
                if answer is None:
                    results.append(None)
                    continue
                size, digests = answer
                done += size
                results.append(
                    FileDigests._of(size, dict(zip(names, digests, strict=True)))  # noqa: SLF001
                )
            if done and on_progress is not None:
                on_progress(done)
    finally:
        for _, work in out:
            work.cancel()  # batches not started; those running finish on their own
    return results


# --------------------------------------------------------------------------- threads


def _serialized(callback: Callable[[int], None]) -> Callable[[int], None]:
    """Wrap ``callback`` so that concurrent calls run one after another."""
    lock = threading.Lock()

    def serialized(nbytes: int) -> None:
        with lock:
            callback(nbytes)

    return serialized


def _size_hint(path: Path) -> int:
    try:
        return path.lstat().st_size
    except OSError:
        return 0


def _hash_on_threads(
    paths: Sequence[Path],
    names: tuple[str, ...],
    workers: int,
    on_progress: Callable[[int], None] | None,
) -> list[FileDigests]:
    """Hash ``paths`` on up to ``workers`` threads, largest first; results in order.

    Cores no file uses go to lanes: ``workers // threads`` per file.
    """
    threads = min(workers, len(paths))
    lanes = max(1, min(workers, _cpu_count()) // max(threads, 1))
    if threads <= 1:
        return [_hash_path(path, names, lanes, on_progress) for path in paths]
    cancel = threading.Event()
    report = None if on_progress is None else _serialized(on_progress)
    sizes = [_size_hint(path) for path in paths]
    pool = ThreadPoolExecutor(threads, "vendorproof-hash")
    try:
        futures: dict[int, Future[FileDigests]] = {
            index: pool.submit(_hash_path, paths[index], names, lanes, report, cancel)
            for index in sorted(range(len(paths)), key=sizes.__getitem__, reverse=True)
        }
        wait(futures.values(), return_when=FIRST_EXCEPTION)
        for index in range(len(paths)):
            future = futures[index]
            if future.done() and future.exception() is not None:
                cancel.set()
                pool.shutdown(wait=True, cancel_futures=True)
                future.result()  # raises the failure
        return [futures[index].result() for index in range(len(paths))]
    finally:
        cancel.set()
        pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------- API


def hash_buffer(data: bytes | memoryview, algorithms: Sequence[str]) -> FileDigests:
    """Hash bytes already in memory (a small ZIP member, decompressed).

    Raises:
        InvalidInputError: an algorithm is unsupported or none is requested.
        TypeError: ``algorithms`` is a single string.
    """
    names = _validated(tuple(algorithms))
    digests = {}
    for name in names:
        hasher = _CONSTRUCTORS[name]()
        hasher.update(memoryview(data))
        digests[name] = hasher.hexdigest()
    return FileDigests._of(len(data), digests)  # noqa: SLF001 - a fresh dict


def hash_fileobj(
    f: BinaryIO,
    algorithms: Sequence[str],
    *,
    on_progress: Callable[[int], None] | None = None,
    size_hint: int | None = None,
    overlap_reads: bool = False,
) -> FileDigests:
    """Hash the rest of an open binary stream with every requested algorithm.

    The stream is read once, from its current position to its end. Each chunk is
    hashed by every algorithm. If more than one algorithm is requested and the
    machine has several cores, the digests run in parallel (see the module
    documentation).

    Args:
        f: a binary stream; ``readinto`` is used when present, ``read`` otherwise.
            It is not closed.
        algorithms: names from :data:`SUPPORTED_ALGORITHMS`; duplicates count once.
        on_progress: called with the byte count of every chunk read, from the calling
            thread.
        size_hint: the stream's expected length, if known: a short stream gets a
            buffer of its size, not a whole chunk (many small ZIP members).
        overlap_reads: for a stream whose reading is CPU work (a ZIP member:
            decompression and CRC-32): with several cores, the digests run on lane
            threads while the calling thread reads the next chunk.

    Returns:
        The number of bytes read and the digests, in the order requested.

    Raises:
        InvalidInputError: an algorithm is unsupported or none is requested (before
            anything is read), or the stream raised ``OSError``.
        TypeError: ``algorithms`` is a single string.

    """
    names = _validate(algorithms)
    buffer_size = CHUNK_SIZE if size_hint is None else _buffer_size(max(size_hint, 0))
    try:
        reader = _Reader(_readinto_of(f), on_progress)
        return _hash_stream(
            reader, names, _cpu_count(), buffer_size, overlap_reads=overlap_reads
        )
    except OSError as exc:
        name = getattr(f, "name", None)
        raise InvalidInputError(
            f"cannot read: {_strerror(exc)}",
            file=name if isinstance(name, str) else None,
        ) from exc


def hash_file(
    path: Path,
    algorithms: Sequence[str],
    *,
    on_progress: Callable[[int], None] | None = None,
) -> FileDigests:
    """Hash one regular file with every requested algorithm, reading it once.

    The file is opened with ``O_NOFOLLOW``, so a symbolic link as the last path
    component is refused. Anything that is not a regular file is refused too
    (checked with ``fstat`` on the open descriptor).

    Args:
        path: the file to hash.
        algorithms: names from :data:`SUPPORTED_ALGORITHMS`; duplicates count once.
        on_progress: called with the byte count of every chunk read, from the calling
            thread.

    Returns:
        The number of bytes read and the digests, in the order requested.

    Raises:
        InvalidInputError: an algorithm is unsupported or none is requested (before
            any I/O), or ``path`` is a symbolic link, not a regular file, or cannot
            be opened or read. ``file`` names ``path``.
        TypeError: ``algorithms`` is a single string.

    """
    names = _validate(algorithms)
    return _hash_path(path, names, _cpu_count(), on_progress)


def hash_files(
    paths: Sequence[Path],
    algorithms: Sequence[str],
    *,
    workers: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> list[FileDigests]:
    """Hash many regular files in parallel; each is read once, as in :func:`hash_file`.

    With at least :data:`_MIN_BATCHED` files and more than one worker, the small
    files (at most :data:`CHUNK_SIZE` bytes) are hashed in batches on worker
    processes, then the large files on threads; with fewer files, every file is
    hashed on threads (see the module documentation). If one file fails, no further
    batch or file is started, files being hashed stop at their next chunk, and the
    error is raised.

    Args:
        paths: the files to hash.
        algorithms: names from :data:`SUPPORTED_ALGORITHMS`; duplicates count once.
        workers: the most threads, and batches in worker processes, this call hashes
            with at a time. The default is the number of CPUs this process may run
            on (``os.cpu_count()`` unless restricted).
        on_progress: called with the byte count of every chunk read (of every
            batch, for small files in worker processes). It may be called from
            worker threads, but never concurrently with itself.

    Returns:
        One result per path, in the order of ``paths``.

    Raises:
        InvalidInputError: an algorithm is unsupported or none is requested (before
            any I/O), or a file is a symbolic link, not a regular file, or cannot be
            opened or read. ``file`` names that file. If several files fail, the
            error reported is the first in ``paths`` order among those that had
            failed when the first failure was noticed.
        TypeError: ``algorithms`` is a single string.
        ValueError: ``workers`` is less than 1.

    """
    names = _validate(algorithms)
    count = _cpu_count() if workers is None else workers
    if count < 1:
        msg = f"workers must be at least 1, not {count}"
        raise ValueError(msg)
    todo = list(paths)
    pool = _process_pool() if count > 1 and len(todo) >= _MIN_BATCHED else None
    if pool is None:
        return _hash_on_threads(todo, names, count, on_progress)
    results = _hash_in_processes(pool, todo, names, count, on_progress)
    large = [index for index, result in enumerate(results) if result is None]
    if large:
        hashed = _hash_on_threads([todo[i] for i in large], names, count, on_progress)
        for index, result in zip(large, hashed, strict=True):
            results[index] = result
    return cast("list[FileDigests]", results)
