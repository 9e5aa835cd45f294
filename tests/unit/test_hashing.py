"""Tests for the hashing engine (digests, parallel paths, refusals, progress)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO, cast

import pytest

from vendorproof._internal import hashing
from vendorproof._internal.hashing import (
    CHUNK_SIZE,
    SUPPORTED_ALGORITHMS,
    FileDigests,
    hash_file,
    hash_fileobj,
    hash_files,
)
from vendorproof.errors import InvalidInputError

ALL = ("sha256", "sha384", "sha512")
SIZES = [
    pytest.param(0, id="empty"),
    pytest.param(1, id="1-byte"),
    pytest.param(CHUNK_SIZE - 1, id="chunk-1"),
    pytest.param(CHUNK_SIZE, id="chunk"),
    pytest.param(CHUNK_SIZE + 1, id="chunk+1"),
    pytest.param(2 * CHUNK_SIZE, id="2-chunks"),
    pytest.param(5 * CHUNK_SIZE + 12345, id="multi-chunk"),
]


def expected(data: bytes, algorithms: tuple[str, ...] = ALL) -> dict[str, str]:
    return {name: hashlib.new(name, data).hexdigest() for name in algorithms}


def openssl(path: Path, algorithm: str) -> str:
    assert shutil.which("openssl"), "openssl is required (.ci/run installs it)"
    out = subprocess.run(
        ["openssl", "dgst", f"-{algorithm}", "-r", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.split()[0]


def write(path: Path, size: int) -> bytes:
    data = os.urandom(size)
    path.write_bytes(data)
    return data


def cores(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    """Make the engine see ``count`` CPUs."""
    monkeypatch.setattr(hashing, "_cpu_count", lambda: count)


@pytest.fixture(params=["serial", "pipelined"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Force one engine path: no spare core, or cores for every digest."""
    cores(monkeypatch, 1 if request.param == "serial" else 8)
    return str(request.param)


@pytest.fixture
def pipelined_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count how often the multi-threaded path runs."""
    calls: list[int] = []
    original = hashing._hash_pipelined

    def spy(*args: Any) -> int:
        calls.append(len(args[1]))  # number of lanes, the caller's included
        return original(*args)

    monkeypatch.setattr(hashing, "_hash_pipelined", spy)
    return calls


def hashing_threads() -> list[str]:
    return [
        thread.name
        for thread in threading.enumerate()
        if thread.name.startswith("vendorproof-hash")
    ]


@pytest.fixture(autouse=True)
def threads_joined() -> Iterator[None]:
    """Every hashing thread a test started has ended, even when the test failed."""
    yield
    assert hashing_threads() == []


# --------------------------------------------------------------------------- digests


@pytest.mark.parametrize("size", SIZES)
def test_digests_match_hashlib_and_openssl(
    tmp_path: Path, size: int, mode: str, pipelined_calls: list[int]
) -> None:
    path = tmp_path / "image.bin"
    data = write(path, size)

    result = hash_file(path, ALL)

    assert result.size == size
    assert dict(result.digests) == expected(data)
    for name in ALL:
        assert result.digests[name] == openssl(path, name)
    # Threads start only once a first full chunk was read (the end is not known yet).
    used_lanes = mode == "pipelined" and size >= CHUNK_SIZE
    assert pipelined_calls == ([3] if used_lanes else [])


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("algorithm", ALL)
def test_single_digest_matches_openssl(
    tmp_path: Path, size: int, algorithm: str
) -> None:
    path = tmp_path / "image.bin"
    data = write(path, size)

    result = hash_file(path, [algorithm])

    assert result == FileDigests(size=size, digests=expected(data, (algorithm,)))
    assert result.digests[algorithm] == openssl(path, algorithm)


@pytest.mark.parametrize(
    "algorithms",
    [
        ("sha256", "sha512"),
        ("sha512", "sha256"),
        ("sha384", "sha256"),
        ("sha512", "sha384", "sha256"),
    ],
)
def test_digest_order_follows_the_request(
    tmp_path: Path, algorithms: tuple[str, ...], mode: str
) -> None:
    path = tmp_path / "image.bin"
    data = write(path, 3 * CHUNK_SIZE + 7)

    result = hash_file(path, algorithms)

    assert list(result.digests) == list(algorithms)
    assert dict(result.digests) == expected(data, algorithms)


def test_pipeline_with_fewer_lanes_than_digests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pipelined_calls: list[int]
) -> None:
    # Two cores for three digests: the caller's lane and one thread share them.
    cores(monkeypatch, 2)
    path = tmp_path / "image.bin"
    data = write(path, 4 * CHUNK_SIZE + 1)

    assert dict(hash_file(path, ALL).digests) == expected(data)
    assert pipelined_calls == [2]


def test_duplicate_algorithms_count_once(tmp_path: Path) -> None:
    path = tmp_path / "image.bin"
    data = write(path, 100)

    result = hash_file(path, ["sha512", "sha256", "sha512"])

    assert list(result.digests) == ["sha512", "sha256"]
    assert dict(result.digests) == expected(data, ("sha512", "sha256"))


def test_supported_algorithms() -> None:
    assert frozenset({"sha256", "sha384", "sha512"}) == SUPPORTED_ALGORITHMS


# --------------------------------------------------------------------------- streams


def binary(stream: object) -> BinaryIO:
    return cast("BinaryIO", stream)


class Trickle(io.RawIOBase):
    """A raw stream that returns at most ``step`` bytes per read."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = memoryview(data)
        self._pos = 0
        self._step = step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        count = min(len(view), self._step, len(self._data) - self._pos)
        view[:count] = self._data[self._pos : self._pos + count]
        self._pos += count
        return count


class ReadOnly:
    """A stream with ``read`` but no ``readinto``."""

    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)


class Failing(io.RawIOBase):
    """A stream that fails with EIO once ``limit`` bytes have been read."""

    def __init__(self, limit: int) -> None:
        self._left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            raise OSError(5, "Input/output error")
        count = min(len(buffer), self._left)
        self._left -= count
        return count


@pytest.mark.parametrize("size", SIZES)
def test_fileobj_short_reads(size: int, mode: str) -> None:
    data = os.urandom(size)

    result = hash_fileobj(binary(Trickle(data, step=65536 + 3)), ALL)

    assert result == FileDigests(size=size, digests=expected(data))


def test_fileobj_bytesio_from_current_position(mode: str) -> None:
    data = os.urandom(3 * CHUNK_SIZE)
    stream = io.BytesIO(data)
    stream.seek(10)

    result = hash_fileobj(stream, ["sha256", "sha512"])

    assert result == FileDigests(
        size=len(data) - 10, digests=expected(data[10:], ("sha256", "sha512"))
    )
    assert not stream.closed


def test_fileobj_without_readinto(mode: str) -> None:
    data = os.urandom(2 * CHUNK_SIZE + 5)

    result = hash_fileobj(binary(ReadOnly(data)), ALL)

    assert result == FileDigests(size=len(data), digests=expected(data))


def test_fileobj_read_error(mode: str) -> None:
    with pytest.raises(InvalidInputError, match=r"^cannot read: Input/output error$"):
        hash_fileobj(binary(Failing(3 * CHUNK_SIZE + 1)), ALL)

    # The engine (its lanes and buffers) is still sound afterwards.
    data = os.urandom(3 * CHUNK_SIZE)
    assert dict(hash_fileobj(io.BytesIO(data), ALL).digests) == expected(data)


def test_lane_failure_is_raised(
    monkeypatch: pytest.MonkeyPatch, mode: str, pipelined_calls: list[int]
) -> None:
    class BoomError(RuntimeError):
        pass

    class Broken:
        def __init__(self) -> None:
            self._calls = 0

        def update(self, data: memoryview, /) -> None:
            assert data
            self._calls += 1
            if self._calls == 3:
                raise BoomError

        def hexdigest(self) -> str:
            return ""

    constructors = dict(hashing._CONSTRUCTORS, sha512=Broken)
    monkeypatch.setattr(hashing, "_CONSTRUCTORS", MappingProxyType(constructors))
    data = os.urandom(6 * CHUNK_SIZE)

    with pytest.raises(BoomError):
        hash_fileobj(io.BytesIO(data), ["sha256", "sha512"])

    monkeypatch.undo()
    assert dict(hash_fileobj(io.BytesIO(data), ALL).digests) == expected(data)


# --------------------------------------------------------------------------- many files


@pytest.mark.parametrize("workers", [None, 1, 2, 3, 16])
def test_hash_files_matches_serial_in_order(
    tmp_path: Path, workers: int | None, mode: str
) -> None:
    sizes = [1, 0, 3 * CHUNK_SIZE + 1, CHUNK_SIZE, 17, 2 * CHUNK_SIZE - 1, 5, 4096]
    paths = [tmp_path / f"f{i}.bin" for i in range(len(sizes))]
    for path, size in zip(paths, sizes, strict=True):
        write(path, size)
    algorithms = ["sha256", "sha512"]

    parallel = hash_files(paths, algorithms, workers=workers)

    assert parallel == [hash_file(path, algorithms) for path in paths]
    assert [r.size for r in parallel] == sizes


def test_hash_files_same_file_twice(tmp_path: Path) -> None:
    path = tmp_path / "image.bin"
    data = write(path, CHUNK_SIZE + 9)

    results = hash_files([path, path], ALL, workers=2)

    assert results == [FileDigests(size=len(data), digests=expected(data))] * 2


def test_hash_files_empty() -> None:
    assert hash_files([], ["sha256"]) == []


@pytest.mark.parametrize("workers", [1, 4])
def test_hash_files_one_bad_file(tmp_path: Path, workers: int) -> None:
    good = [tmp_path / f"good{i}.bin" for i in range(4)]
    for path in good:
        write(path, 2 * CHUNK_SIZE)
    missing = tmp_path / "missing.bin"

    with pytest.raises(InvalidInputError, match="No such file") as info:
        hash_files([*good[:2], missing, *good[2:]], ["sha256"], workers=workers)
    assert info.value.file == str(missing)


def test_hash_files_workers_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="workers must be at least 1"):
        hash_files([tmp_path / "x"], ["sha256"], workers=0)


# --------------------------------------------------------------------------- refusals

UNSUPPORTED = ["md5", "sha1", "SHA256", "sha3_256", "blake2b", "sha224", ""]


@pytest.mark.parametrize("name", UNSUPPORTED)
def test_unsupported_algorithm_rejected_before_io(tmp_path: Path, name: str) -> None:
    missing = tmp_path / "missing.bin"  # a read would fail differently
    message = f"unsupported digest algorithm {name!r}$"

    with pytest.raises(InvalidInputError, match=message) as info:
        hash_file(missing, ["sha256", name])
    assert info.value.path == "algorithms[1]"

    with pytest.raises(InvalidInputError, match=message):
        hash_files([missing], [name])

    stream = binary(Failing(0))  # raises on the first read
    with pytest.raises(InvalidInputError, match=message):
        hash_fileobj(stream, [name, "sha512"])


def test_md5_message() -> None:
    with pytest.raises(InvalidInputError) as info:
        hash_fileobj(io.BytesIO(b""), ["md5"])
    assert str(info.value) == "algorithms[0]: unsupported digest algorithm 'md5'"


def test_no_algorithm_rejected(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no digest algorithm requested"):
        hash_file(tmp_path / "missing.bin", [])
    with pytest.raises(InvalidInputError, match="no digest algorithm requested"):
        hash_files([], [])


def test_string_instead_of_sequence_rejected(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="not the string 'sha256'"):
        hash_file(tmp_path / "missing.bin", "sha256")


def make_symlink(tmp_path: Path) -> Path:
    target = tmp_path / "target.bin"
    write(target, 10)
    link = tmp_path / "link.bin"
    link.symlink_to(target)
    return link


def make_dangling_symlink(tmp_path: Path) -> Path:
    link = tmp_path / "dangling.bin"
    link.symlink_to(tmp_path / "nowhere")
    return link


def make_directory(tmp_path: Path) -> Path:
    path = tmp_path / "dir"
    path.mkdir()
    return path


def make_fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


def make_missing(tmp_path: Path) -> Path:
    return tmp_path / "missing.bin"


def make_char_device(tmp_path: Path) -> Path:
    return Path(os.devnull)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (make_symlink, r"^is a symbolic link$"),
        (make_dangling_symlink, r"^is a symbolic link$"),
        (make_directory, r"^not a regular file \(directory\)$"),
        (make_fifo, r"^not a regular file \(FIFO\)$"),
        (make_char_device, r"^not a regular file \(character device\)$"),
        (make_missing, r"^cannot read: No such file or directory$"),
    ],
)
def test_refused(tmp_path: Path, make: Callable[[Path], Path], message: str) -> None:
    path = make(tmp_path)

    for call in (
        lambda: hash_file(path, ["sha256"]),
        lambda: hash_files([path], ["sha256", "sha512"]),
        lambda: hash_files([path, path], ["sha256"], workers=2),
    ):
        with pytest.raises(InvalidInputError) as info:
            call()
        assert info.value.file == str(path)
        assert info.value.path is None
        assert str(path) in str(info.value)
        assert re.match(message, info.value.message)


def test_socket_refused(tmp_path: Path) -> None:
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        with pytest.raises(InvalidInputError, match=r"not a regular file \(socket\)"):
            hash_file(path, ["sha256"])


def test_fifo_with_writer_refused(tmp_path: Path) -> None:
    # Even with data waiting in the FIFO, it is refused without reading it.
    path = make_fifo(tmp_path)
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    writer = os.open(path, os.O_WRONLY)
    try:
        os.write(writer, b"data")
        with pytest.raises(InvalidInputError, match=r"not a regular file \(FIFO\)"):
            hash_file(path, ["sha256"])
    finally:
        os.close(writer)
        os.close(reader)


def test_symlinked_parent_directory_is_followed(tmp_path: Path) -> None:
    # O_NOFOLLOW only concerns the last component.
    real = make_directory(tmp_path)
    data = write(real / "image.bin", 10)
    (tmp_path / "alias").symlink_to(real)

    result = hash_file(tmp_path / "alias" / "image.bin", ["sha256"])

    assert result.digests["sha256"] == hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- progress


@pytest.mark.parametrize("size", SIZES)
def test_progress_totals_file_size(tmp_path: Path, size: int, mode: str) -> None:
    path = tmp_path / "image.bin"
    write(path, size)
    chunks: list[int] = []

    result = hash_file(path, ALL, on_progress=chunks.append)

    assert sum(chunks) == result.size == size
    assert all(0 < chunk <= CHUNK_SIZE for chunk in chunks)
    assert len(chunks) == -(-size // CHUNK_SIZE)


def test_progress_fileobj(mode: str) -> None:
    data = os.urandom(2 * CHUNK_SIZE + 100)
    chunks: list[int] = []

    hash_fileobj(io.BytesIO(data), ["sha256", "sha384"], on_progress=chunks.append)

    assert chunks == [CHUNK_SIZE, CHUNK_SIZE, 100]


def test_progress_hash_files_serialised(tmp_path: Path, mode: str) -> None:
    sizes = [3 * CHUNK_SIZE, 2 * CHUNK_SIZE + 1, 0, 1, CHUNK_SIZE, 5 * CHUNK_SIZE]
    paths = [tmp_path / f"f{i}.bin" for i in range(len(sizes))]
    for path, size in zip(paths, sizes, strict=True):
        write(path, size)
    busy = threading.Lock()
    chunks: list[int] = []
    threads: set[str] = set()

    def progress(nbytes: int) -> None:
        assert busy.acquire(blocking=False), "on_progress called concurrently"
        try:
            chunks.append(nbytes)
            threads.add(threading.current_thread().name)
        finally:
            busy.release()

    hash_files(paths, ["sha256", "sha512"], workers=3, on_progress=progress)

    assert sum(chunks) == sum(sizes)
    assert threads  # called from worker threads


# --------------------------------------------------------------------------- result


def test_file_digests_is_immutable() -> None:
    source = {"sha256": "ab"}
    result = FileDigests(size=1, digests=source)
    source["sha256"] = "cd"

    assert result.digests == {"sha256": "ab"}
    assert isinstance(result.digests, MappingProxyType)
    with pytest.raises(TypeError):
        result.digests["sha256"] = "ef"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.size = 2  # type: ignore[misc]
    assert hash(result) == hash(FileDigests(size=1, digests={"sha256": "ab"}))
    assert result == FileDigests(size=1, digests={"sha256": "ab"})
    assert result != FileDigests(size=1, digests={"sha256": "cd"})


# --------------------------------------------------------------------------- batches

REFUSALS = [
    (make_symlink, r"^is a symbolic link$"),
    (make_dangling_symlink, r"^is a symbolic link$"),
    (make_directory, r"^not a regular file \(directory\)$"),
    (make_fifo, r"^not a regular file \(FIFO\)$"),
    (make_char_device, r"^not a regular file \(character device\)$"),
    (make_missing, r"^cannot read: No such file or directory$"),
]


@pytest.fixture
def batched(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Send every call of two or more files to the worker processes, in batches of
    one or two paths; record how many files each call sent."""
    monkeypatch.setattr(hashing, "_MIN_BATCHED", 2)
    monkeypatch.setattr(hashing, "_BATCH_LIMITS", (1, 2))
    calls: list[int] = []
    original = hashing._hash_in_processes

    def spy(*args: Any) -> list[FileDigests | None]:
        calls.append(len(args[1]))
        return original(*args)

    monkeypatch.setattr(hashing, "_hash_in_processes", spy)
    return calls


def small_files(tmp_path: Path, sizes: list[int]) -> list[Path]:
    paths = [tmp_path / f"small{i}.bin" for i in range(len(sizes))]
    for path, size in zip(paths, sizes, strict=True):
        write(path, size)
    return paths


@pytest.mark.parametrize("workers", [None, 2, 3, 16])
def test_batches_match_hash_file_in_order(
    tmp_path: Path, workers: int | None, batched: list[int]
) -> None:
    # Small files (up to one chunk) in worker processes, larger ones on threads.
    sizes = [0, 1, 4096, 17, CHUNK_SIZE, CHUNK_SIZE + 1, 2, 3 * CHUNK_SIZE, 4095]
    paths = small_files(tmp_path, sizes)

    results = hash_files(paths, ["sha512", "sha256"], workers=workers)

    assert batched == [len(paths)]
    assert results == [hash_file(path, ["sha512", "sha256"]) for path in paths]
    assert [r.size for r in results] == sizes
    assert all(list(r.digests) == ["sha512", "sha256"] for r in results)


def test_batches_of_many_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The default thresholds: enough files for the worker processes.
    calls: list[int] = []
    original = hashing._hash_in_processes

    def spy(*args: Any) -> list[FileDigests | None]:
        calls.append(len(args[1]))
        return original(*args)

    monkeypatch.setattr(hashing, "_hash_in_processes", spy)
    count = hashing._MIN_BATCHED + 5
    paths = small_files(tmp_path, [i % 300 for i in range(count)])

    results = hash_files(paths, ALL, workers=2)

    assert calls == [count]
    assert results == [
        FileDigests(size=p.stat().st_size, digests=expected(p.read_bytes()))
        for p in paths
    ]


@pytest.mark.parametrize("position", [0, 3, 6])
@pytest.mark.parametrize(("make", "message"), REFUSALS)
def test_batch_refusal_names_the_file(
    tmp_path: Path,
    make: Callable[[Path], Path],
    message: str,
    position: int,
    batched: list[int],
) -> None:
    # The error comes from a worker process: the same error, naming the file.
    paths = small_files(tmp_path, [10, 20, 30, 40, 50, 60])
    bad = make(tmp_path)
    paths.insert(position, bad)

    with pytest.raises(InvalidInputError) as info:
        hash_files(paths, ["sha256", "sha512"], workers=2)

    assert batched == [len(paths)]
    assert info.value.file == str(bad)
    assert info.value.path is None
    assert re.match(message, info.value.message)
    with pytest.raises(InvalidInputError) as direct:
        hash_file(bad, ["sha256"])
    assert str(info.value) == str(direct.value)


def test_batch_symlink_to_large_file_refused(
    tmp_path: Path, batched: list[int]
) -> None:
    target = tmp_path / "big.bin"
    write(target, 2 * CHUNK_SIZE)
    link = tmp_path / "link.bin"
    link.symlink_to(target)
    paths = [*small_files(tmp_path, [1, 2, 3]), link]

    with pytest.raises(InvalidInputError, match=r"is a symbolic link$") as info:
        hash_files(paths, ["sha256"], workers=2)
    assert info.value.file == str(link)


def test_batch_first_failure_in_path_order(tmp_path: Path, batched: list[int]) -> None:
    # However the workers are scheduled, answers are taken in path order.
    paths = small_files(tmp_path, [5] * 12)
    first, second = tmp_path / "missing-a", tmp_path / "missing-b"
    paths[9:9] = [second]
    paths[4:4] = [first]

    for _ in range(3):
        with pytest.raises(InvalidInputError) as info:
            hash_files(paths, ["sha256"], workers=3)
        assert info.value.file == str(first)


def test_batch_progress_from_the_calling_thread(
    tmp_path: Path, batched: list[int]
) -> None:
    sizes = [100, 0, 2000, CHUNK_SIZE, 7, 2 * CHUNK_SIZE + 3]
    paths = small_files(tmp_path, sizes)
    chunks: list[int] = []

    hash_files(paths, ["sha256"], workers=2, on_progress=chunks.append)

    assert sum(chunks) == sum(sizes)
    assert all(chunk > 0 for chunk in chunks)


def test_batch_pool_started_with_forkserver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batched: list[int]
) -> None:
    # A process with other threads does not fork: a forkserver starts the workers.
    monkeypatch.setattr(hashing, "_POOL", None)
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    paths = small_files(tmp_path, [1, 2, 3, 4])
    try:
        results = hash_files(paths, ["sha384"], workers=2)
        pool = hashing._POOL
        assert pool is not None
        context = pool._mp_context
        assert context is not None
        assert context.get_start_method() == "forkserver"
        pool.shutdown()
    finally:
        monkeypatch.undo()

    assert results == [hash_file(path, ["sha384"]) for path in paths]


@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_batch_pool_not_inherited_by_a_forked_child(
    tmp_path: Path, batched: list[int]
) -> None:
    paths = small_files(tmp_path, [1, 2, 3])
    hash_files(paths, ["sha256"], workers=2)
    assert hashing._POOL is not None

    read, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        os.write(write_end, b"none" if pool_now() is None else b"kept")
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read, "rb") as pipe:
        assert pipe.read() == b"none"


def pool_now() -> object:
    return hashing._POOL


def test_single_worker_never_uses_processes(tmp_path: Path, batched: list[int]) -> None:
    paths = small_files(tmp_path, [1, 2, 3, 4])

    hash_files(paths, ["sha256"], workers=1)

    assert batched == []


def test_daemonic_process_hashes_on_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batched: list[int]
) -> None:
    # A daemonic process may not have children: no pool, the same results.
    class Daemonic:
        daemon = True

    monkeypatch.setattr(hashing, "_POOL", None)
    monkeypatch.setattr(multiprocessing, "current_process", Daemonic)
    paths = small_files(tmp_path, [1, 2, 3, 4])

    results = hash_files(paths, ["sha256"], workers=2)

    assert batched == []
    assert hashing._POOL is None
    assert results == [hash_file(path, ["sha256"]) for path in paths]
