"""Audit replay on several processes.

Records are independent except for the chain links and the rollback floor, which are
cheap and stay sequential in the parent. The expensive parts (record signature and
parse; re-running the verification) run in worker processes, each of which reopens
the source (a store URL or a bundle directory) itself. Results are identical to the
sequential path: both use the same per-record functions.
"""

from __future__ import annotations

import functools
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar

from vendorproof._internal import crypto
from vendorproof.errors import Error, InvalidInputError
from vendorproof.evidence._replay_steps import (
    ChainState,
    Floor,
    LocalResult,
    PolicyCache,
    RecordReplay,
    RecordSource,
    Rerun,
    advance,
    in_range,
    link,
    local_integrity,
    rerun_record,
    result_of,
    source_index_inputs,
    source_scope,
)
from vendorproof.evidence.report_record import parse_record
from vendorproof.evidence.store import StoredRecord
from vendorproof.models.policy import Policy

_worker: dict[str, Any] = {}
_P = ParamSpec("_P")
_R = TypeVar("_R")


class _WorkerError(Exception):
    """A project error in a worker, carried to the parent as its message.

    Exceptions cross the process boundary by pickling their ``args``; the file and
    field of an ``InvalidInputError`` would be lost, so the worker sends the whole
    one-line message and the parent raises it again as an ``InvalidInputError``.
    """


def _carried(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    # functools.wraps keeps the name the process pool pickles the task by.
    @functools.wraps(fn)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        error = _worker.get("error")
        if error is not None:
            raise _WorkerError(error)
        try:
            return fn(*args, **kwargs)
        except Error as e:
            raise _WorkerError(str(e)) from None

    return run


def _init(
    spec: tuple[str, str],
    key_ders: list[bytes],
    images: str | None,
    policy: tuple[bytes, dict[str, bytes]] | None,
) -> None:
    """Per-process state: the reopened source, keys, images and a new policy.

    A failure (the store cannot be reopened) is kept and raised by the first task,
    so the parent reports it instead of a broken process pool.
    """
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    from vendorproof.evidence.bundle import open_source

    try:
        _worker["source"] = open_source(spec)
    except Error as e:
        _worker["error"] = str(e)
        return
    _worker["keys"] = [crypto.as_public_key(load_der_public_key(d)) for d in key_ders]
    _worker["images"] = Path(images) if images is not None else None
    _worker["policies"] = PolicyCache()
    _worker["policy"] = None
    _worker["seen"] = set()
    if policy is not None:
        raw, referenced = policy
        _worker["policy"] = Policy.from_yaml(
            raw, file="--policy", resolve=lambda ref: referenced[ref]
        )


@_carried
def _integrity_range(
    first: int, last: int, wanted: tuple[int | None, int | None]
) -> list[LocalResult]:
    """Phase 1 in a worker: read records ``first``..``last`` and check each alone."""
    source = _worker["source"]
    keys = _worker["keys"]
    derived = bool(getattr(source, "derived_index", False))
    index_inputs = source_index_inputs(source)
    return [
        local_integrity(
            stored,
            keys,
            derived=derived,
            index_inputs=index_inputs,
            source=source if in_range(stored.seq, *wanted) else None,
            seen=_worker["seen"],
        )[1]
        for stored in source.iter_range(first, last)
    ]


@_carried
def _rerun_range(first: int, last: int, floors: dict[int, Floor]) -> dict[int, Rerun]:
    """Phase 2 in a worker: re-run the records of ``floors`` in ``first``..``last``.

    Only records whose signature verified in phase 1 are in ``floors``.
    """
    source = _worker["source"]
    out = {}
    for stored in source.iter_range(first, last):
        if stored.seq in floors:
            label = getattr(stored, "file", "") or f"record {stored.seq}"
            try:
                rec = parse_record(stored.envelope, keys=_worker["keys"], file=label)
            except Error as e:  # changed since phase 1
                out[stored.seq] = Rerun((f"cannot re-run: {e}",), None, ())
                continue
            out[stored.seq] = rerun_record(
                source,
                rec,
                _worker["policy"],
                _worker["images"],
                floors[stored.seq],
                _worker["policies"],
                keys=_worker["keys"],
            )
    return out


def _result(future: Any) -> Any:
    try:
        return future.result()
    except _WorkerError as e:
        raise InvalidInputError(str(e)) from None


def _ranges(last_seq: int, parts: int) -> list[tuple[int, int]]:
    step = max(1, -(-last_seq // parts))
    return [(lo, min(lo + step - 1, last_seq)) for lo in range(1, last_seq + 1, step)]


class RangedSource(RecordSource, Protocol):
    """A source whose records can be read by sequence range (stores, bundles)."""

    def iter_range(self, first: int, last: int) -> Iterator[StoredRecord]:
        """Records ``first``..``last`` in sequence order."""
        ...

    def last_seq(self) -> int:
        """The highest sequence number (0 when empty)."""
        ...


def parallel_replay(
    spec: tuple[str, str],
    source: RangedSource,
    *,
    keys: Sequence[crypto.PublicKey],
    first: int | None,
    last: int | None,
    images: Path | None,
    new_policy: Policy | None,
    workers: int,
    rerun: bool = True,
) -> list[RecordReplay]:
    """The same results as the sequential replay, computed on ``workers`` processes."""
    policy = None
    if new_policy is not None:
        policy = (new_policy.raw, dict(new_policy.referenced))
    init = (
        spec,
        [crypto.public_der(k) for k in keys],
        str(images) if images is not None else None,
        policy,
    )
    context = multiprocessing.get_context("spawn")
    top = source.last_seq()
    if last is not None:
        top = min(top, last)
    # Several ranges per worker keep both busy when records differ in cost.
    ranges = _ranges(top, workers * 4)
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init, initargs=init
    ) as pool:
        # Phase 1: each worker reads and checks its ranges; links are checked here,
        # in order, on the small per-record summaries.
        futures = [
            pool.submit(_integrity_range, lo, hi, (first, last)) for lo, hi in ranges
        ]
        state = ChainState.of(source_scope(source))
        pending: list[tuple[LocalResult, list[str], Floor]] = []
        for future in futures:
            for local in _result(future):
                problems = [*local.problems, *link(local, state)]
                floor = advance(local, state)
                pending.append((local, problems, floor))
        # Phase 2: re-run every parsed record in range, in the workers.
        reruns: dict[int, Rerun] = {}
        if rerun:
            floors = {
                local.seq: floor
                for local, _, floor in pending
                if local.parsed and in_range(local.seq, first, last)
            }
            jobs = [
                pool.submit(
                    _rerun_range,
                    lo,
                    hi,
                    {seq: f for seq, f in floors.items() if lo <= seq <= hi},
                )
                for lo, hi in ranges
            ]
            for job in jobs:
                reruns.update(_result(job))
    results = []
    for local, problems, _ in pending:
        found = reruns.get(local.seq)
        wanted = not rerun and in_range(local.seq, first, last)
        if found is None and not problems and not wanted:
            continue  # out of range and intact
        results.append(result_of(local, problems, found))
    return results
