"""The hashing engine: one read of each file feeds every requested digest.

Every command that hashes delivered files (images of several GiB) goes through
:func:`hash_file`, :func:`hash_files` or :func:`hash_fileobj`.

Reading
    A file is read once, with ``readinto`` into preallocated buffers of
    :data:`CHUNK_SIZE` bytes, and each chunk goes to every requested digest. No chunk
    is copied or allocated on the way, so memory does not grow with the file size.
    Buffers come from a small process-wide pool, so hashing many small files does
    not allocate (and page-fault) a new MiB for every file.
    The chunk size was chosen by measurement (2 GiB file in the page cache, 2 cores
    with SHA-NI): single-digest throughput is flat within 4 % from 64 KiB to 8 MiB,
    while the two-thread path is about 4 % slower at 256 KiB than at 1 MiB or more.
    At 1 MiB the per-chunk cost (a queue hand-off per lane) is not measurable, and
    the working set (two buffers) stays small.

Several digests of one file
    ``hashlib`` releases the GIL while it hashes, so digests can run on separate
    cores. If a stream is at least one chunk long, several digests are requested and
    cores are spare, the digests are split into *lanes* (longest-processing-time
    first, by a per-algorithm cost measured once at first use). The calling thread
    reads and hashes the lightest lane itself. Each other lane runs on a persistent
    daemon thread (a small pool, reused across calls) that hashes the same read-only
    buffer. Two buffers are used in turn (double buffering): while the lane threads
    hash chunk *n*, the caller reads chunk *n + 1* into the other buffer. A buffer is
    reused only after every lane has finished with it. With SHA-NI, sha256 + sha512
    therefore takes about as long as sha512 alone.

Several files, and oversubscription
    :func:`hash_files` hashes up to ``workers`` files at once (default: the CPUs this
    process may run on), one thread per file, largest file first. Threads take cores
    from a budget:

    * Each file (its reading thread) always counts as one core of the call's
      ``workers`` budget and of a process-wide budget the size of the CPU count. A
      file never waits for a core.
    * Extra lane threads are granted only from cores that are free in *both*
      budgets when the file starts. They are never queued for.

    So one call never runs more than ``max(workers, CPUs)`` hashing threads, and
    lane threads never push the process past its CPU count.
    When there are at least as many files as cores, every file is hashed on one
    thread: files are independent, so this parallelism has no synchronisation cost.
    Lanes only fill cores that would otherwise be idle, such as one large image,
    or the last files of a batch. Independent threads that call :func:`hash_file`
    at the same time share the process-wide budget in the same way.

Threads
    ``on_progress`` may be called from worker threads. :func:`hash_files`
    serialises its calls, so the callback never runs concurrently with itself. The
    lane threads are daemon threads that stay after the first parallel hash, so
    the process remains multi-threaded. A ``fork`` handler resets the pools in the
    child process.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import io
import os
import stat
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from queue import SimpleQueue
from types import MappingProxyType
from typing import BinaryIO, Protocol, cast

from vendorproof.errors import InvalidInputError

__all__ = [
    "CHUNK_SIZE",
    "SUPPORTED_ALGORITHMS",
    "FileDigests",
    "hash_file",
    "hash_fileobj",
    "hash_files",
]

SUPPORTED_ALGORITHMS: frozenset[str] = frozenset({"sha256", "sha384", "sha512"})
"""Digest algorithms the engine computes (SHA-1 and MD5 are deliberately absent)."""

CHUNK_SIZE = 1024 * 1024
"""Bytes read per ``readinto`` call; each buffer has this size."""

_BUFFERS_PER_PIPELINE = 2
_CALIBRATION_BYTES = 256 * 1024
_CALIBRATION_ROUNDS = 3


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


# --------------------------------------------------------------------------- pools


def _cpu_count() -> int:
    """Return the number of CPUs this process may run on (at least 1)."""
    affinity = getattr(os, "sched_getaffinity", None)  # Linux; honours taskset/cgroups
    if affinity is not None:
        return len(affinity(0)) or 1
    return os.cpu_count() or 1


class _CpuBudget:
    """Counts hashing threads against a number of cores; never blocks."""

    __slots__ = ("_capacity", "_in_use", "_lock")

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._in_use = 0
        self._lock = threading.Lock()

    def claim(self) -> None:
        """Count one thread that runs whether or not a core is free."""
        with self._lock:
            self._in_use += 1

    def try_claim(self, want: int) -> int:
        """Claim up to ``want`` free cores and return how many were claimed."""
        with self._lock:
            granted = max(0, min(want, self._capacity - self._in_use))
            self._in_use += granted
            return granted

    def release(self, count: int) -> None:
        """Return ``count`` claimed cores."""
        with self._lock:
            self._in_use -= count


class _Lane:
    """A daemon thread that applies each chunk put in its inbox to its hashers.

    The owner sets :attr:`hashers`, then puts chunk views in :attr:`inbox`. For every
    chunk, the lane puts ``None`` (done) or the exception raised into :attr:`outbox`.
    Chunks are handled in order.
    """

    __slots__ = ("hashers", "inbox", "outbox")

    def __init__(self) -> None:
        self.hashers: tuple[_Hasher, ...] = ()
        self.inbox: SimpleQueue[memoryview] = SimpleQueue()
        self.outbox: SimpleQueue[BaseException | None] = SimpleQueue()
        threading.Thread(
            target=self._run, name="vendorproof-hash-lane", daemon=True
        ).start()

    def _run(self) -> None:
        get, put = self.inbox.get, self.outbox.put
        while True:
            view = get()
            try:
                for hasher in self.hashers:
                    hasher.update(view)
            except BaseException as exc:  # noqa: BLE001 - the owner re-raises it
                put(exc)
            else:
                put(None)
            del view


class _LanePool:
    """Idle :class:`_Lane` threads, kept for reuse."""

    __slots__ = ("_idle", "_lock")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Lane] = []

    def take(self, count: int) -> list[_Lane]:
        with self._lock:
            lanes = [self._idle.pop() for _ in range(min(count, len(self._idle)))]
        lanes.extend(_Lane() for _ in range(count - len(lanes)))
        return lanes

    def give(self, lanes: list[_Lane]) -> None:
        with self._lock:
            self._idle.extend(lanes)


class _BufferPool:
    """Preallocated :data:`CHUNK_SIZE` buffers, kept for reuse (at most ``keep``)."""

    __slots__ = ("_free", "_keep", "_lock")

    def __init__(self, keep: int) -> None:
        self._lock = threading.Lock()
        self._keep = keep
        self._free: list[memoryview] = []

    def take(self) -> memoryview:
        with self._lock:
            if self._free:
                return self._free.pop()
        return memoryview(bytearray(CHUNK_SIZE))

    def give(self, buffer: memoryview) -> None:
        with self._lock:
            if len(self._free) < self._keep:
                self._free.append(buffer)


@dataclass(slots=True)
class _Pools:
    budget: _CpuBudget
    lanes: _LanePool
    buffers: _BufferPool

    @classmethod
    def create(cls) -> _Pools:
        cpus = _cpu_count()
        return cls(
            budget=_CpuBudget(cpus),
            lanes=_LanePool(),
            buffers=_BufferPool(keep=_BUFFERS_PER_PIPELINE * (cpus + 1)),
        )

    def reset(self) -> None:
        """Start again empty (in a forked child, whose pool threads do not exist)."""
        fresh = _Pools.create()
        self.budget, self.lanes, self.buffers = fresh.budget, fresh.lanes, fresh.buffers


_POOLS = _Pools.create()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_POOLS.reset)


@functools.cache
def _costs() -> Mapping[str, float]:
    """Measure each algorithm's time per byte once (used to balance lanes)."""
    data = memoryview(bytes(_CALIBRATION_BYTES))
    costs: dict[str, float] = {}
    for name, constructor in _CONSTRUCTORS.items():
        best = float("inf")
        for _ in range(_CALIBRATION_ROUNDS):
            hasher = constructor()
            start = time.perf_counter()
            hasher.update(data)
            best = min(best, time.perf_counter() - start)
        costs[name] = best
    return MappingProxyType(costs)


# --------------------------------------------------------------------------- engine


class _CancelledError(Exception):
    """Internal: another file of the same :func:`hash_files` call failed."""


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


@dataclass(frozen=True, slots=True)
class _Reader:
    """Where a stream's chunks come from, and whom to tell about each one."""

    readinto: _ReadInto
    on_progress: Callable[[int], None] | None
    cancel: threading.Event | None

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


def _claim_extra(want: int, budgets: Sequence[_CpuBudget]) -> int:
    """Claim up to ``want`` cores that are free in every budget."""
    granted = want
    taken: list[tuple[_CpuBudget, int]] = []
    for budget in budgets:
        granted = budget.try_claim(granted)
        taken.append((budget, granted))
    for budget, count in taken:
        budget.release(count - granted)
    return granted


def _partition(
    names: Sequence[str], hashers: Sequence[_Hasher], lanes: int
) -> list[tuple[_Hasher, ...]]:
    """Split hashers into ``lanes`` groups of similar cost, lightest group first."""
    costs = _costs()
    loads = [0.0] * lanes
    groups: list[list[_Hasher]] = [[] for _ in range(lanes)]
    for name, hasher in sorted(
        zip(names, hashers, strict=True), key=lambda pair: costs[pair[0]], reverse=True
    ):
        lightest = loads.index(min(loads))
        groups[lightest].append(hasher)
        loads[lightest] += costs[name]
    order = sorted(range(lanes), key=loads.__getitem__)
    return [tuple(groups[i]) for i in order]


def _hash_stream(
    reader: _Reader, names: tuple[str, ...], budgets: Sequence[_CpuBudget]
) -> FileDigests:
    """Hash a stream with every algorithm in ``names`` (already validated)."""
    pools = _POOLS
    hashers = [_CONSTRUCTORS[name]() for name in names]
    for budget in budgets:
        budget.claim()
    buffer = pools.buffers.take()
    try:
        count, eof = reader.fill(buffer)
        extra = 0
        if count == CHUNK_SIZE and not eof and len(hashers) > 1:
            extra = _claim_extra(len(hashers) - 1, budgets)
        if extra:
            try:
                groups = _partition(names, hashers, extra + 1)
                size = _hash_pipelined(reader, groups, buffer, pools)
            finally:
                for budget in budgets:
                    budget.release(extra)
        else:
            size = _hash_serial(reader, hashers, buffer, count, eof=eof)
    finally:
        pools.buffers.give(buffer)
        for budget in budgets:
            budget.release(1)
    return FileDigests(
        size=size,
        digests={name: h.hexdigest() for name, h in zip(names, hashers, strict=True)},
    )


def _hash_serial(
    reader: _Reader,
    hashers: Sequence[_Hasher],
    buffer: memoryview,
    count: int,
    *,
    eof: bool,
) -> int:
    """Hash on the calling thread; ``buffer`` already holds the first ``count`` bytes.

    Returns:
        The number of bytes hashed.

    """
    total = 0
    while count:
        view = buffer if count == CHUNK_SIZE else buffer[:count]
        for hasher in hashers:
            hasher.update(view)
        total += count
        reader.consumed(count)
        if eof:
            break
        count, eof = reader.fill(buffer)
    return total


class _Pipeline:
    """Chunks handed to lane threads, retired in order once every lane is done."""

    __slots__ = ("failure", "lanes", "pending")

    def __init__(self, lanes: list[_Lane]) -> None:
        self.lanes = lanes
        self.pending = 0  # chunks handed to the lanes and not yet retired
        self.failure: BaseException | None = None

    def submit(self, view: memoryview) -> None:
        for lane in self.lanes:
            lane.inbox.put(view)
        self.pending += 1

    def retire(self) -> bool:
        """Wait until every lane has hashed the oldest pending chunk.

        Returns:
            ``False`` if a lane failed (the first failure is kept in ``failure``).

        """
        for lane in self.lanes:
            failure = lane.outbox.get()
            if self.failure is None:
                self.failure = failure
        self.pending -= 1
        return self.failure is None

    def drain(self) -> None:
        while self.pending:
            self.retire()


def _hash_pipelined(
    reader: _Reader,
    groups: list[tuple[_Hasher, ...]],
    first: memoryview,
    pools: _Pools,
) -> int:
    """Hash ``groups[0]`` here and every other group on its own lane thread.

    ``first`` holds the first chunk (a full one). The next chunk is read into a
    second buffer while the lanes still hash the first one.

    Returns:
        The number of bytes hashed.

    """
    lanes = pools.lanes.take(len(groups) - 1)
    for lane, group in zip(lanes, groups[1:], strict=True):
        lane.hashers = group
    second = pools.buffers.take()
    pipeline = _Pipeline(lanes)
    try:
        total = _feed(reader, groups[0], pipeline, (first, second))
    finally:
        # No buffer may be reused, or go back to the pool, while a lane can still
        # read it: wait for the lanes whatever happened.
        try:
            pipeline.drain()
        finally:
            for lane in lanes:
                lane.hashers = ()
            if not pipeline.pending:
                pools.lanes.give(lanes)
                pools.buffers.give(second)
            # Otherwise (interrupted while waiting) the lanes and the second buffer
            # stay out of the pools for good; the lane threads finish, then idle.
    if pipeline.failure is not None:
        raise pipeline.failure
    return total


def _feed(
    reader: _Reader,
    own: tuple[_Hasher, ...],
    pipeline: _Pipeline,
    buffers: tuple[memoryview, ...],
) -> int:
    """Read chunks into ``buffers`` in turn; ``buffers[0]`` holds a full first chunk.

    Returns:
        The number of bytes hashed.

    """
    total, count, eof, index = 0, CHUNK_SIZE, False, 0
    while count:
        view = buffers[index] if count == CHUNK_SIZE else buffers[index][:count]
        pipeline.submit(view)
        for hasher in own:
            hasher.update(view)
        del view
        total += count
        reader.consumed(count)
        if eof:
            break
        index = (index + 1) % len(buffers)
        # The buffer to read into next is the oldest pending one if all are pending.
        if pipeline.pending == len(buffers) and not pipeline.retire():
            break
        count, eof = reader.fill(buffers[index])
    return total


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


def _open_error(path: Path, exc: OSError) -> InvalidInputError:
    """Explain why ``os.open`` refused ``path``."""
    if exc.errno in {errno.ELOOP, errno.EMLINK, errno.ENXIO, errno.EOPNOTSUPP}:
        # O_NOFOLLOW on a symlink (ELOOP on Linux, EMLINK on FreeBSD) or a socket.
        try:
            mode = path.lstat().st_mode
        except OSError:
            pass
        else:
            if stat.S_ISLNK(mode):
                return InvalidInputError("is a symbolic link", file=str(path))
            if not stat.S_ISREG(mode):
                return InvalidInputError(
                    f"not a regular file ({_describe(mode)})", file=str(path)
                )
    return InvalidInputError(f"cannot read: {_strerror(exc)}", file=str(path))


def _open_regular(path: Path) -> io.FileIO:
    """Open ``path`` for reading; refuse a symlink or anything but a regular file.

    ``O_NONBLOCK`` keeps a FIFO without a writer from blocking ``open``; it is
    cleared again once ``fstat`` shows a regular file. ``O_NOCTTY`` keeps a
    terminal device from becoming the controlling terminal before it is rejected.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise _open_error(path, exc) from exc
    try:
        return _regular_file(fd, path)
    except BaseException:
        os.close(fd)
        raise


def _regular_file(fd: int, path: Path) -> io.FileIO:
    """Wrap ``fd`` (opened from ``path``) if it is a regular file."""
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISREG(mode):
            os.set_blocking(fd, True)
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read: {_strerror(exc)}", file=str(path)
        ) from exc
    if not stat.S_ISREG(mode):
        raise InvalidInputError(
            f"not a regular file ({_describe(mode)})", file=str(path)
        )
    if hasattr(os, "posix_fadvise"):
        with contextlib.suppress(OSError):  # only a read-ahead hint
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
    return io.FileIO(fd, "rb", closefd=True)


def _hash_path(
    path: Path,
    names: tuple[str, ...],
    on_progress: Callable[[int], None] | None,
    budgets: Sequence[_CpuBudget],
    cancel: threading.Event | None,
) -> FileDigests:
    with _open_regular(path) as f:
        try:
            reader = _Reader(f.readinto, on_progress, cancel)
            return _hash_stream(reader, names, budgets)
        except OSError as exc:
            raise InvalidInputError(
                f"cannot read: {_strerror(exc)}", file=str(path)
            ) from exc


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


# --------------------------------------------------------------------------- API


def hash_fileobj(
    f: BinaryIO,
    algorithms: Sequence[str],
    *,
    on_progress: Callable[[int], None] | None = None,
) -> FileDigests:
    """Hash the rest of an open binary stream with every requested algorithm.

    The stream is read once, from its current position to its end. Each chunk is
    hashed by every algorithm. If more than one algorithm is requested and cores are
    spare, the digests run in parallel (see the module documentation).

    Args:
        f: a binary stream; ``readinto`` is used when present, ``read`` otherwise.
            It is not closed.
        algorithms: names from :data:`SUPPORTED_ALGORITHMS`; duplicates count once.
        on_progress: called with the byte count of every chunk read, from the calling
            thread.

    Returns:
        The number of bytes read and the digests, in the order requested.

    Raises:
        InvalidInputError: an algorithm is unsupported or none is requested (before
            anything is read), or the stream raised ``OSError``.
        TypeError: ``algorithms`` is a single string.

    """
    names = _validate(algorithms)
    try:
        reader = _Reader(_readinto_of(f), on_progress, None)
        return _hash_stream(reader, names, (_POOLS.budget,))
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
    return _hash_path(path, names, on_progress, (_POOLS.budget,), None)


def hash_files(
    paths: Sequence[Path],
    algorithms: Sequence[str],
    *,
    workers: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> list[FileDigests]:
    """Hash many regular files in parallel; each is read once, as in :func:`hash_file`.

    Up to ``workers`` files are hashed at the same time, largest first. Cores that no
    file is using go to parallel digests of the files being hashed (see the module
    documentation). If one file fails, files not yet started are skipped, files being
    hashed stop at their next chunk, and the error is raised.

    Args:
        paths: the files to hash.
        algorithms: names from :data:`SUPPORTED_ALGORITHMS`; duplicates count once.
        workers: the most threads this call hashes with. The default is the number of
            CPUs this process may run on (``os.cpu_count()`` unless restricted).
        on_progress: called with the byte count of every chunk read. It may be
            called from worker threads, but never concurrently with itself.

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
    threads = min(count, len(todo))
    budgets = (_CpuBudget(count), _POOLS.budget)
    if threads <= 1:
        return [_hash_path(path, names, on_progress, budgets, None) for path in todo]

    report = None if on_progress is None else _serialized(on_progress)
    cancel = threading.Event()
    sizes = [_size_hint(path) for path in todo]
    pool = ThreadPoolExecutor(
        max_workers=threads, thread_name_prefix="vendorproof-hash"
    )
    try:
        futures: dict[int, Future[FileDigests]] = {
            index: pool.submit(_hash_path, todo[index], names, report, budgets, cancel)
            for index in sorted(range(len(todo)), key=sizes.__getitem__, reverse=True)
        }
        wait(futures.values(), return_when=FIRST_EXCEPTION)
        for index in range(len(todo)):
            future = futures[index]
            if future.done() and future.exception() is not None:
                cancel.set()
                pool.shutdown(wait=True, cancel_futures=True)
                future.result()  # raises the failure
        return [futures[index].result() for index in range(len(todo))]
    finally:
        cancel.set()
        pool.shutdown(wait=True, cancel_futures=True)
