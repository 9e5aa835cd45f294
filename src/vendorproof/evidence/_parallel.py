"""Audit replay on several processes.

Records are independent except for the chain links and the rollback floor, which are
cheap and stay sequential in the parent. The expensive parts (record signature and
parse; re-running the verification) run in worker processes, each of which reopens
the source (a store URL or a bundle directory) itself. Results are identical to the
sequential path: both use the same per-record functions.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from vendorproof._internal import crypto
from vendorproof.errors import VerificationError
from vendorproof.evidence.record import EvidenceRecord
from vendorproof.evidence.replay import (
    RecordReplay,
    RecordSource,
    _advance,
    _ChainState,
    _link,
    _Local,
    _local_integrity,
    _PolicyCache,
    _Rerun,
    _rerun_record,
    in_range,
    result_of,
)
from vendorproof.evidence.store import StoredRecord
from vendorproof.models.policy import Policy

#: Records handed to a worker at a time.
BATCH = 64

_worker: dict[str, Any] = {}


def _init(
    spec: tuple[str, str],
    key_ders: list[bytes],
    images: str | None,
    policy: tuple[bytes, dict[str, bytes]] | None,
) -> None:
    """Per-process state: the reopened source, keys, images and a new policy."""
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    from vendorproof.evidence.bundle import open_source

    _worker["source"] = open_source(spec)
    _worker["keys"] = [crypto.as_public_key(load_der_public_key(d)) for d in key_ders]
    _worker["images"] = Path(images) if images is not None else None
    _worker["policies"] = _PolicyCache()
    _worker["policy"] = None
    if policy is not None:
        raw, referenced = policy
        _worker["policy"] = Policy.from_yaml(
            raw, file="--policy", resolve=lambda ref: referenced[ref]
        )


def _integrity_batch(batch: list[StoredRecord]) -> list[_Local]:
    keys = _worker["keys"]
    return [_local_integrity(stored, keys)[1] for stored in batch]


def _parse(stored: StoredRecord, keys: Sequence[crypto.PublicKey]) -> EvidenceRecord:
    try:
        return EvidenceRecord.from_bytes(stored.envelope, keys=keys)
    except VerificationError:  # reported by the integrity pass; parse strictly
        return EvidenceRecord.from_bytes(stored.envelope)


def _rerun_batch(batch: list[tuple[StoredRecord, int | None]]) -> list[_Rerun]:
    source: RecordSource = _worker["source"]
    out = []
    for stored, floor in batch:
        rec = _parse(stored, _worker["keys"])
        out.append(
            _rerun_record(
                source,
                rec,
                _worker["policy"],
                _worker["images"],
                floor,
                _worker["policies"],
            )
        )
    return out


def _batches(
    items: Iterator[StoredRecord], last: int | None
) -> Iterator[list[StoredRecord]]:
    batch: list[StoredRecord] = []
    for stored in items:
        if last is not None and stored.seq > last:
            break
        batch.append(stored)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def parallel_replay(
    spec: tuple[str, str],
    source: RecordSource,
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
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init, initargs=init
    ) as pool:
        # Phase 1: signatures and parsing in the workers, chain links here, in order.
        batches = list(_batches(source.iter_records(), last))
        futures: list[Future[list[_Local]]] = [
            pool.submit(_integrity_batch, b) for b in batches
        ]
        state = _ChainState()
        pending: list[tuple[_Local, list[str], StoredRecord, int | None]] = []
        for batch, future in zip(batches, futures, strict=True):
            for stored, local in zip(batch, future.result(), strict=True):
                problems = [*local.problems, *_link(local, state)]
                floor = _advance(local, state)
                pending.append((local, problems, stored, floor))
        # Phase 2: re-run every signed record in range, in the workers.
        todo = [
            (stored, floor)
            for local, _, stored, floor in pending
            if rerun and local.parsed and in_range(local.seq, first, last)
        ]
        reruns: dict[int, _Rerun] = {}
        chunks = [todo[i : i + BATCH] for i in range(0, len(todo), BATCH)]
        for chunk, future_r in zip(
            chunks, [pool.submit(_rerun_batch, c) for c in chunks], strict=True
        ):
            for (stored, _), outcome in zip(chunk, future_r.result(), strict=True):
                reruns[stored.seq] = outcome
    results = []
    for local, problems, stored, _ in pending:
        found = reruns.get(stored.seq)
        wanted = not rerun and in_range(stored.seq, first, last)
        if found is None and not problems and not wanted:
            continue  # out of range and intact
        results.append(result_of(local, problems, found))
    return results
