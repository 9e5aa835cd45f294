"""Audit replay: check the chain and re-run every recorded decision offline.

For every record, in sequence order:

1. the stored bytes hash to the stored digest, and the sequence has no gap;
2. the operator signature verifies with a pinned operator key;
3. the signed sequence number and ``previousRecord`` link to the record before it (a
   reordered, inserted or deleted record breaks this);
4. every input document is present and hashes to the digest the record names;
5. the verification is re-run from those inputs at the recorded as-of time (image
   digests from the record, or re-hashed from ``images`` when the auditor has the
   delivered files) and every check outcome is compared with the recorded one.

With ``new_policy``, step 5 uses that policy instead and reports the decisions that
would change (e.g. after a component prohibition), without counting them as failures.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from vendorproof._internal import crypto
from vendorproof._internal.delivery_fs import BUNDLE_SUFFIX, IN_TOTO, KEYLESS, Delivery
from vendorproof.errors import Error, InvalidInputError, VerificationError
from vendorproof.evidence.intake import ERROR_CHECK, POLICY_INPUT, POLICY_REF_PREFIX
from vendorproof.evidence.record import EvidenceRecord, record_digest
from vendorproof.evidence.store import StoredRecord
from vendorproof.intake import measure
from vendorproof.models.policy import Policy
from vendorproof.verify.delivery import (
    ComponentDigest,
    Hasher,
    check_rollback,
    evaluate_delivery,
)
from vendorproof.verify.documents import SignedDocument, load_signed_document
from vendorproof.verify.result import CheckResult, VerificationReport

__all__ = ["RecordReplay", "RecordSource", "ReplaySummary", "replay"]

IN_TOTO_PREFIX = f"{IN_TOTO}/"


def source_spec(source: object) -> tuple[str, str] | None:
    """How another process reopens ``source`` (None: it cannot)."""
    spec = getattr(source, "spec", None)
    return spec() if callable(spec) else None


class RecordSource(Protocol):
    """Where records come from: a store, or an exported audit bundle."""

    def iter_records(self) -> Iterator[StoredRecord]:
        """Every record in sequence order."""
        ...

    def blob(self, digest: str) -> bytes:
        """A content-addressed blob (InvalidInputError if missing)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordReplay:
    """The outcome of replaying one record."""

    seq: int
    record_id: str
    verdict: str
    problems: tuple[str, ...] = ()
    replayed_verdict: str | None = None
    changes: tuple[str, ...] = ()  # with a new policy: what would change

    @property
    def ok(self) -> bool:
        """No integrity problem and (without a new policy) every check matched."""
        return not self.problems


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaySummary:
    """All replayed records and the verdict over the chain."""

    records: tuple[RecordReplay, ...]
    operator_keys: tuple[str, ...]
    problems: tuple[str, ...] = field(
        default=()
    )  # chain-level (e.g. empty, gap at end)

    @property
    def ok(self) -> bool:
        """True only if at least one record was replayed and nothing failed."""
        return (
            bool(self.records) and not self.problems and all(r.ok for r in self.records)
        )

    @property
    def first_bad(self) -> int | None:
        """Sequence number of the first affected record."""
        return next((r.seq for r in self.records if not r.ok), None)

    @property
    def changed(self) -> tuple[RecordReplay, ...]:
        """Records whose decision would change under the new policy."""
        return tuple(r for r in self.records if r.changes)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Inputs:
    """The blobs of one record, each checked against the digest the record names."""

    def __init__(self, source: RecordSource, rec: EvidenceRecord) -> None:
        self.source = source
        self.rec = rec

    def get(self, name: str) -> bytes:
        digest = self.rec.inputs.get(name)
        if digest is None:
            raise VerificationError(f"input {name!r} is not named by the record")
        try:
            data = self.source.blob(digest)
        except InvalidInputError as e:
            raise VerificationError(
                f"input {name!r} (sha256:{digest[:16]}...) is missing"
            ) from e
        if _sha(data) != digest:
            raise VerificationError(
                f"input {name!r} was altered: its bytes no longer hash to "
                f"sha256:{digest[:16]}..."
            )
        return data


def _recorded_hasher(rec: EvidenceRecord) -> Hasher:
    measured = rec.delivery.get("measured", {})

    def hasher(
        paths: Sequence[str], algorithms: Sequence[str]
    ) -> list[ComponentDigest]:
        out = []
        for p in paths:
            m = measured.get(p)
            if m is None or any(a not in m.get("digests", {}) for a in algorithms):
                raise VerificationError(f"the record has no measurement of {p!r}")
            out.append(ComponentDigest(size=int(m["size"]), digests=dict(m["digests"])))
        return out

    return hasher


_DOCUMENT_CACHE = 1024


class _PolicyCache:
    """Policies parsed once per distinct set of input digests (records share them)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[tuple[str, str], ...], Policy] = {}
        self._documents: dict[tuple[str, str], SignedDocument] = {}

    def document(self, inputs: _Inputs, name: str) -> SignedDocument:
        """A signed input document, parsed once per (name, digest) in this process.

        The stored bytes are read and checked against the recorded digest every time.
        """
        data = inputs.get(name)
        key = (name, inputs.rec.inputs[name])
        doc = self._documents.get(key)
        if doc is None:
            doc = load_signed_document(data, file=name)
            if len(self._documents) >= _DOCUMENT_CACHE:
                self._documents.clear()
            self._documents[key] = doc
        return doc

    def get(self, inputs: _Inputs, rec: EvidenceRecord) -> Policy:
        key = tuple(
            sorted(
                (name, digest)
                for name, digest in rec.inputs.items()
                if name == POLICY_INPUT or name.startswith(POLICY_REF_PREFIX)
            )
        )
        policy = self._cache.get(key)
        if policy is None:
            policy = Policy.from_yaml(
                inputs.get(POLICY_INPUT),
                file=f"record {rec.sequence}: policy",
                resolve=lambda ref: inputs.get(POLICY_REF_PREFIX + ref),
            )
            self._cache[key] = policy
        else:
            # The cached parse came from these exact digests; the bytes must still
            # match them (a blob altered since is caught here).
            for name, _ in key:
                inputs.get(name)
        return policy


def _rerun(
    source: RecordSource,
    rec: EvidenceRecord,
    *,
    policy: Policy | None,
    images: Path | None,
    max_accepted: int | None,
    policies: _PolicyCache,
) -> VerificationReport:
    inputs = _Inputs(source, rec)
    if policy is None:
        policy = policies.get(inputs, rec)
    documents = tuple(
        policies.document(inputs, name)
        for name in sorted(rec.inputs)
        if name.startswith("attestations/") and not name.startswith(KEYLESS)
    )
    artifact_bundles = {
        name[len(KEYLESS) : -len(BUNDLE_SUFFIX)]: inputs.get(name)
        for name in sorted(rec.inputs)
        if name.startswith(KEYLESS) and name.endswith(BUNDLE_SUFFIX)
    }
    in_toto = {
        name: inputs.get(name)
        for name in sorted(rec.inputs)
        if name.startswith(IN_TOTO_PREFIX)
    }
    listing = rec.delivery.get("listing", {})
    with contextlib.ExitStack() as stack:
        root = images
        if root is None:
            # Without the delivered files, in-toto metadata is replayed from the
            # stored copies (layouts with inspections need --images); the recorded
            # root is only a name otherwise.
            root = Path(str(rec.delivery.get("root", ".")))
        if images is None and in_toto:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vp-")))
            for name, data in in_toto.items():
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                (root / name).write_bytes(data)
        delivery = Delivery(
            root=root,
            documents=documents,
            payload=frozenset(listing.get("payload", ())),
            irregular=dict(listing.get("irregular", {})),
            artifact_bundles=artifact_bundles,
            in_toto=in_toto,
        )
        hasher = measure(images) if images is not None else _recorded_hasher(rec)
        report = evaluate_delivery(
            delivery, policy, at=rec.as_of, time_source=rec.as_of_source, hasher=hasher
        )
    rollback = check_rollback(report, policy, max_accepted)
    return dataclasses.replace(report, checks=(*report.checks, rollback))


def _outcomes(checks: Iterable[CheckResult]) -> list[tuple[str, str, str]]:
    return [(c.check, c.subject, c.outcome.value) for c in checks]


def _compare(rec: EvidenceRecord, report: VerificationReport) -> list[str]:
    recorded, replayed = _outcomes(rec.checks), _outcomes(report.checks)
    if recorded == replayed:
        return []
    diffs = []
    for i in range(max(len(recorded), len(replayed))):
        a = recorded[i] if i < len(recorded) else None
        b = replayed[i] if i < len(replayed) else None
        if a != b:
            diffs.append(f"check {i}: recorded {a}, replayed {b}")
    return diffs


def _recorded_error(rec: EvidenceRecord, error: Error) -> bool:
    """Whether ``rec`` recorded a failed intake with this very error.

    Intake records a delivery whose documents do not parse as FAILED with an
    ``error`` check (file and reason); re-running it raises the same error.
    """
    try:
        checks = rec.checks
    except InvalidInputError:
        return False
    reason = " ".join(str(error).split())
    return rec.verdict == "FAILED" and any(
        c.check == ERROR_CHECK and c.reason == reason for c in checks
    )


@dataclass
class _ChainState:
    prev_seq: int = 0
    prev_digest: str | None = None
    accepted: dict[tuple[str, str], int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Local:
    """What one record says about itself, checked without the rest of the chain."""

    seq: int
    record_id: str
    verdict: str
    digest: str  # sha256 of the stored bytes
    problems: tuple[str, ...]
    parsed: bool
    sequence: int | None = None
    previous: str | None = None
    stored_previous: str | None = None
    vendor: str = ""
    product: str = ""
    security_version: int | None = None


def _local_integrity(
    stored: StoredRecord, keys: Sequence[crypto.PublicKey], *, derived: bool = False
) -> tuple[EvidenceRecord | None, _Local]:
    """Digest, signature (verify, then parse) and index columns of one record.

    ``derived``: the source has no separate index columns (an audit bundle); the
    record's own fields stand in for them.
    """
    problems: list[str] = []
    digest = record_digest(stored.envelope)
    if digest != stored.digest:
        problems.append(
            "stored record bytes do not hash to the stored digest (altered)"
        )
    try:
        try:
            rec = EvidenceRecord.from_bytes(stored.envelope, keys=keys)
        except VerificationError as e:
            # Not signed by the operator: report it, and parse strictly to go on.
            problems.append(str(e))
            rec = EvidenceRecord.from_bytes(stored.envelope)
    except InvalidInputError as e:
        problems.append(f"record does not parse: {e}")
        local = _Local(
            seq=stored.seq,
            record_id=stored.record_id or f"unparsable-{stored.seq}",
            verdict="?",
            digest=digest,
            problems=tuple(problems),
            parsed=False,
        )
        return None, local
    if rec.sequence != stored.seq:
        problems.append(
            f"signed sequence {rec.sequence} differs from position {stored.seq}"
        )
    if not derived and (stored.verdict, stored.record_id) != (
        rec.verdict,
        rec.record_id,
    ):
        problems.append("index columns differ from the signed record")
    sv = rec.delivery.get("securityVersion")
    local = _Local(
        seq=stored.seq,
        record_id=rec.record_id,
        verdict=rec.verdict,
        digest=digest,
        problems=tuple(problems),
        parsed=True,
        sequence=rec.sequence,
        previous=rec.previous,
        stored_previous=rec.previous if derived else stored.prev_digest,
        vendor=str(rec.delivery.get("vendor", {}).get("id", "")),
        product=str(rec.delivery.get("product", "")),
        security_version=sv if isinstance(sv, int) else None,
    )
    return rec, local


def _link(local: _Local, state: _ChainState) -> list[str]:
    """The chain checks: no gap, and both links point at the record before."""
    problems: list[str] = []
    if local.seq != state.prev_seq + 1:
        problems.append(
            f"sequence gap: expected record {state.prev_seq + 1}, found {local.seq} "
            "(records deleted or reordered)"
        )
    if local.parsed:
        if local.previous != state.prev_digest:
            problems.append(
                "chain broken: previousRecord does not match the record before it "
                "(inserted, deleted or reordered records)"
            )
        if local.stored_previous != state.prev_digest:
            problems.append(
                "stored previous-digest column does not link to the record before"
            )
    return problems


def _advance(local: _Local, state: _ChainState) -> int | None:
    """Move the chain state past ``local``; return the rollback floor it had."""
    state.prev_seq, state.prev_digest = local.seq, local.digest
    if not local.parsed:
        return None
    key = (local.vendor, local.product)
    floor = state.accepted.get(key)
    sv = local.security_version
    if local.verdict == "PASSED" and sv is not None:
        state.accepted[key] = sv if floor is None else max(sv, floor)
    return floor


@dataclass(frozen=True, slots=True)
class _Rerun:
    problems: tuple[str, ...]
    replayed_verdict: str | None
    changes: tuple[str, ...]


def _rerun_record(  # noqa: PLR0917 - shared by the sequential and parallel paths
    source: RecordSource,
    rec: EvidenceRecord,
    new_policy: Policy | None,
    images: Path | None,
    max_accepted: int | None,
    policies: _PolicyCache,
) -> _Rerun:
    problems: list[str] = []
    changes: list[str] = []
    replayed_verdict = None
    try:
        report = _rerun(
            source,
            rec,
            policy=new_policy,
            images=images,
            max_accepted=max_accepted,
            policies=policies,
        )
        replayed_verdict = report.verdict
        if new_policy is None:
            problems += _compare(rec, report)
        elif report.verdict != rec.verdict:
            failing = [
                f"{c.check} [{c.subject}]: {c.reason}" for c in report.failures()
            ]
            changes.append(
                f"{rec.verdict} -> {report.verdict}"
                + (f": {failing[0]}" if failing else "")
            )
    except (VerificationError, InvalidInputError) as e:
        if new_policy is None and _recorded_error(rec, e):
            replayed_verdict = "FAILED"  # recorded as not verifiable, and still not
        else:
            problems.append(f"cannot re-run: {e}")
    except Error as e:  # pragma: no cover - every Error is one of the above
        problems.append(f"cannot re-run: {e}")
    return _Rerun(tuple(problems), replayed_verdict, tuple(changes))


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
    return ReplaySummary(
        records=tuple(records),
        operator_keys=tuple(crypto.key_id(k) for k in keys),
        problems=() if records else ("no records to replay",),
    )


def in_range(seq: int, first: int | None, last: int | None) -> bool:
    """Whether ``seq`` is to be re-run."""
    return (first is None or seq >= first) and (last is None or seq <= last)


def result_of(local: _Local, problems: list[str], rerun: _Rerun | None) -> RecordReplay:
    """Combine the integrity and re-run findings of one record."""
    return RecordReplay(
        seq=local.seq,
        record_id=local.record_id,
        verdict=local.verdict,
        problems=(*problems, *(rerun.problems if rerun else ())),
        replayed_verdict=rerun.replayed_verdict if rerun else None,
        changes=rerun.changes if rerun else (),
    )


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
    state = _ChainState()
    policies = _PolicyCache()
    results: list[RecordReplay] = []
    derived = bool(getattr(source, "derived_index", False))
    for stored in source.iter_records():
        if last is not None and stored.seq > last:
            break
        rec, local = _local_integrity(stored, keys, derived=derived)
        problems = [*local.problems, *_link(local, state)]
        floor = _advance(local, state)
        if rec is None or not in_range(stored.seq, first, last) or not rerun:
            if problems or (rerun is False and in_range(stored.seq, first, last)):
                results.append(result_of(local, problems, None))
            continue
        found = _rerun_record(source, rec, new_policy, images, floor, policies)
        results.append(result_of(local, problems, found))
    return results
