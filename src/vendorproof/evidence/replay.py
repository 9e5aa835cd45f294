"""Audit replay: check the chain and re-run every recorded decision offline.

Before the records, the source as a whole is checked: an audit bundle against what its
manifest declares, a SQLite store with ``PRAGMA integrity_check``. Then, for every
record, in sequence order:

1. the stored bytes hash to the stored digest, and the sequence has no gap (within
   what the source declares it holds, see :class:`Scope`);
2. the operator signature verifies with a pinned operator key. Only the envelope is
   parsed before; a record that does not verify is reported and read no further;
3. the record is parsed and every field replay reads is type-checked; a store's
   index columns and record_inputs rows must equal the signed record;
4. the signed sequence number and ``previousRecord`` link to the record before it (a
   reordered, inserted or deleted record breaks this);
5. every input document is present and hashes to the digest the record names, and
   the signed verdict is the one the signed checks give;
6. the verification is re-run from those inputs at the recorded as-of time (image
   digests from the record, or re-hashed from ``images`` when the auditor has the
   delivered files) and every check outcome and the verdict are compared with the
   recorded ones. Input names written to disk are confined to a temporary directory.

With ``new_policy``, step 6 uses that policy instead and reports the decisions that
would change (e.g. after a component prohibition), without counting them as failures.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vendorproof._internal import crypto
from vendorproof.errors import InvalidInputError
from vendorproof.evidence._replay_steps import (
    ChainState,
    PolicyCache,
    RecordReplay,
    RecordSource,
    ReplaySummary,
    Scope,
    advance,
    in_range,
    link,
    local_integrity,
    rerun_record,
    result_of,
    source_index_inputs,
    source_scope,
    source_spec,
)
from vendorproof.models.policy import Policy

__all__ = ["RecordReplay", "RecordSource", "ReplaySummary", "Scope", "replay"]


def replay(
    source: RecordSource,
    *,
    keys: Sequence[crypto.PublicKey],
    first: int | None = None,
    last: int | None = None,
    images: Path | None = None,
    new_policy: Policy | None = None,
    workers: int = 1,
    rerun: bool = True,
) -> ReplaySummary:
    """Check the chain and re-run the records ``first``..``last`` (all by default).

    Never raises for a verification failure; every problem is in the summary. With
    ``workers > 1`` and a source that can be reopened in another process (a store
    URL or a bundle directory), signature checks and re-runs are spread over that
    many processes; the chain checks stay in order in this one. With ``rerun``
    false only the integrity of the chain is checked (signatures, links, digests).

    Raises:
        InvalidInputError: ``keys`` is empty.
    """
    if not keys:
        raise InvalidInputError("no operator public key to verify records with")
    source_problems = list(source_check(source))
    spec = source_spec(source)
    if workers > 1 and spec is not None:
        from vendorproof.evidence._parallel import parallel_replay

        records = parallel_replay(
            spec,
            source,  # type: ignore[arg-type]  # sources with a spec read by range
            keys=keys,
            first=first,
            last=last,
            images=images,
            new_policy=new_policy,
            workers=workers,
            rerun=rerun,
        )
    else:
        records = _sequential(
            source, keys, first, last, images, new_policy, rerun=rerun
        )
    if not records:
        source_problems.append("no records to replay")
    return ReplaySummary(
        records=tuple(records),
        operator_keys=tuple(crypto.key_id(k) for k in keys),
        problems=tuple(source_problems),
    )


def source_check(source: object) -> list[str]:
    """Problems of the source as a whole (a bundle's manifest, a database file)."""
    check = getattr(source, "check", None)
    return list(check()) if callable(check) else []


def _sequential(  # noqa: PLR0917 - private helper of replay
    source: RecordSource,
    keys: Sequence[crypto.PublicKey],
    first: int | None,
    last: int | None,
    images: Path | None,
    new_policy: Policy | None,
    *,
    rerun: bool = True,
) -> list[RecordReplay]:
    state = ChainState.of(source_scope(source))
    policies = PolicyCache()
    results: list[RecordReplay] = []
    derived = bool(getattr(source, "derived_index", False))
    index_inputs = source_index_inputs(source)
    seen: set[str] = set()
    for stored in source.iter_records():
        if last is not None and stored.seq > last:
            break
        wanted = in_range(stored.seq, first, last)
        rec, local = local_integrity(
            stored,
            keys,
            derived=derived,
            index_inputs=index_inputs,
            source=source if wanted else None,
            seen=seen,
        )
        problems = [*local.problems, *link(local, state)]
        floor = advance(local, state)
        if rec is None or not wanted or not rerun:
            if problems or (rerun is False and wanted):
                results.append(result_of(local, problems, None))
            continue
        found = rerun_record(
            source, rec, new_policy, images, floor, policies, keys=keys
        )
        results.append(result_of(local, problems, found))
    return results
