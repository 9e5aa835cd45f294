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

import dataclasses
import hashlib
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from vendorproof._internal import crypto
from vendorproof._internal.delivery_fs import BUNDLE_SUFFIX, IN_TOTO, KEYLESS, Delivery
from vendorproof.errors import Error, InvalidInputError, VerificationError
from vendorproof.evidence.intake import POLICY_INPUT, POLICY_REF_PREFIX
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
from vendorproof.verify.documents import load_signed_document
from vendorproof.verify.result import CheckResult, VerificationReport

__all__ = ["RecordReplay", "RecordSource", "ReplaySummary", "replay"]

IN_TOTO_PREFIX = f"{IN_TOTO}/"


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


class _PolicyCache:
    """Policies parsed once per distinct set of input digests (records share them)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[tuple[str, str], ...], Policy] = {}

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
        load_signed_document(inputs.get(name), file=name)
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
    with tempfile.TemporaryDirectory(prefix="vendorproof-replay-") as tmp:
        root = images
        if root is None:
            # Without the delivered files, in-toto metadata is replayed from the
            # stored copies (layouts with inspections need --images).
            root = Path(tmp)
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


@dataclass
class _ChainState:
    prev_seq: int = 0
    prev_digest: str | None = None
    accepted: dict[tuple[str, str], int] = field(default_factory=dict)


def _integrity(
    stored: StoredRecord, state: _ChainState, keys: Sequence[crypto.PublicKey]
) -> tuple[EvidenceRecord | None, list[str]]:
    problems: list[str] = []
    if stored.seq != state.prev_seq + 1:
        problems.append(
            f"sequence gap: expected record {state.prev_seq + 1}, found {stored.seq} "
            "(records deleted or reordered)"
        )
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
        return None, [*problems, f"record does not parse: {e}"]
    if rec.sequence != stored.seq:
        problems.append(
            f"signed sequence {rec.sequence} differs from position {stored.seq}"
        )
    if rec.previous != state.prev_digest:
        problems.append(
            "chain broken: previousRecord does not match the record before it "
            "(inserted, deleted or reordered records)"
        )
    if stored.prev_digest != state.prev_digest:
        problems.append(
            "stored previous-digest column does not link to the record before"
        )
    if (stored.verdict, stored.record_id) != (rec.verdict, rec.record_id):
        problems.append("index columns differ from the signed record")
    return rec, problems


def replay(
    source: RecordSource,
    *,
    keys: Sequence[crypto.PublicKey],
    first: int | None = None,
    last: int | None = None,
    images: Path | None = None,
    new_policy: Policy | None = None,
) -> ReplaySummary:
    """Check the chain and re-run the records ``first``..``last`` (all by default).

    Never raises for a verification failure; every problem is in the summary.

    Raises:
        InvalidInputError: ``keys`` is empty.
    """
    if not keys:
        raise InvalidInputError("no operator public key to verify records with")
    state = _ChainState()
    policies = _PolicyCache()
    results: list[RecordReplay] = []
    for stored in source.iter_records():
        if last is not None and stored.seq > last:
            break
        rec, problems = _integrity(stored, state, keys)
        state.prev_seq, state.prev_digest = stored.seq, record_digest(stored.envelope)
        if rec is None:
            results.append(
                RecordReplay(
                    seq=stored.seq,
                    record_id=stored.record_id,
                    verdict="?",
                    problems=tuple(problems),
                )
            )
            continue
        vkey = (
            str(rec.delivery.get("vendor", {}).get("id", "")),
            str(rec.delivery.get("product", "")),
        )
        max_accepted = state.accepted.get(vkey)
        sv = rec.delivery.get("securityVersion")
        if rec.verdict == "PASSED" and isinstance(sv, int):
            state.accepted[vkey] = max(
                sv, max_accepted if max_accepted is not None else sv
            )
        if first is not None and stored.seq < first:
            if problems:
                results.append(
                    RecordReplay(
                        seq=stored.seq,
                        record_id=rec.record_id,
                        verdict=rec.verdict,
                        problems=tuple(problems),
                    )
                )
            continue
        replayed_verdict = None
        changes: list[str] = []
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
            problems.append(f"cannot re-run: {e}")
        except Error as e:  # pragma: no cover - every Error is one of the above
            problems.append(f"cannot re-run: {e}")
        results.append(
            RecordReplay(
                seq=stored.seq,
                record_id=rec.record_id,
                verdict=rec.verdict,
                problems=tuple(problems),
                replayed_verdict=replayed_verdict,
                changes=tuple(changes),
            )
        )
    chain_problems = () if results else ("no records to replay",)
    return ReplaySummary(
        records=tuple(results),
        operator_keys=tuple(crypto.key_id(k) for k in keys),
        problems=chain_problems,
    )


def keys_by_id(keys: Iterable[crypto.PublicKey]) -> Mapping[str, crypto.PublicKey]:
    """Index public keys by key id."""
    return {crypto.key_id(k): k for k in keys}
