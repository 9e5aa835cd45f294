"""The per-record steps of audit replay, shared by the sequential and parallel paths.

``vendorproof.evidence.replay`` runs them in order in one process;
``vendorproof.evidence._parallel`` runs the expensive ones (signature, parse, re-run)
in worker processes and the chain steps in the parent. The steps and what they check
are described in ``vendorproof.evidence.replay``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final, Protocol

from vendorproof import formats
from vendorproof._internal import confine, crypto
from vendorproof._internal.jsonio import show_key
from vendorproof._internal.text import SHORT_ID, shorten
from vendorproof.errors import Error, InvalidInputError, VerificationError
from vendorproof.evidence.concentration import recompute
from vendorproof.evidence.intake import (
    ERROR_CHECK,
    POLICY_INPUT,
    POLICY_REF_PREFIX,
    internal_error_reason,
    record_index,
)
from vendorproof.evidence.record import EvidenceRecord, record_digest
from vendorproof.evidence.report_record import (
    INVENTORY_INPUT,
    AnyRecord,
    ConcentrationRecord,
    parse_record,
)
from vendorproof.evidence.store import StoredRecord
from vendorproof.formats.base import (
    CHANGED_AFTER_LOAD,
    DeliveryFormat,
    DocumentCache,
)
from vendorproof.models.certification_record import is_record_input
from vendorproof.models.policy import Policy
from vendorproof.verify.context import VerificationCache, VerificationContext
from vendorproof.verify.delivery import (
    ComponentDigest,
    Hasher,
    check_rollback,
    evaluate_delivery,
)
from vendorproof.verify.result import CheckResult, VerificationReport


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
    digest: str = ""  # sha256 of the record's bytes (what the next record links to)
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

    def __init__(self, source: RecordSource, rec: AnyRecord) -> None:
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
                f"input {name!r} (sha256:{shorten(digest, SHORT_ID)}) is missing: "
                f"{e.message}"
            ) from e
        if _sha(data) != digest:
            raise VerificationError(
                f"input {name!r} was altered: its bytes no longer hash to "
                f"sha256:{shorten(digest, SHORT_ID)}"
            )
        return data


class _UnmeasuredError(VerificationError):
    """A component the record holds no measurement of."""


def _recorded_hasher(rec: EvidenceRecord) -> Hasher:
    measured = rec.delivery.measured

    def hasher(
        paths: Sequence[str], algorithms: Sequence[str]
    ) -> list[ComponentDigest]:
        out = []
        for p in paths:
            m = measured.get(p)
            if m is None or any(a not in m.digests for a in algorithms):
                raise _UnmeasuredError(f"the record has no measurement of {p!r}")
            out.append(ComponentDigest(size=m.size, digests=dict(m.digests)))
        return out

    return hasher


def _images_hasher(fmt: DeliveryFormat, images: Path) -> Hasher:
    """Re-hash the delivered files in ``images``; a path must stay inside it."""
    inner = fmt.measure(images)

    def hasher(
        paths: Sequence[str], algorithms: Sequence[str]
    ) -> Sequence[ComponentDigest]:
        for p in paths:
            confine.check_name(p, file=str(images))
        return inner(paths, algorithms)

    return hasher


class PolicyCache:
    """Policies parsed once per distinct set of input digests (records share them)."""

    def __init__(self, verification: VerificationCache | None = None) -> None:
        self._cache: dict[tuple[tuple[str, str], ...], Policy] = {}
        #: Signed documents parsed once per (name, digest) in this process (the
        #: stored bytes are still read and checked against the record every time).
        self.documents = DocumentCache()
        #: The replay's memo tables (``verify/context.py``): validated paths, CRL
        #: signatures and timestamp tokens shared by every record of this run.
        self.verification = (
            VerificationCache() if verification is None else verification
        )

    def get(self, inputs: _Inputs, rec: AnyRecord) -> Policy:
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


def _recorded_rollback(rec: EvidenceRecord) -> CheckResult | None:
    checks = rec.checks
    return checks[-1] if checks and checks[-1].check == "rollback" else None


def _rerun(
    source: RecordSource,
    rec: EvidenceRecord,
    *,
    policy: Policy | None,
    images: Path | None,
    floor: Floor,
    policies: PolicyCache,
    extra_records: Mapping[str, bytes] | None = None,
    statuses_at: datetime | None = None,
    asked: list[bool] | None = None,
) -> VerificationReport:
    """Re-run one record's decision on its stored inputs.

    ``extra_records`` (certificate status records of today's register) join the
    stored certification inputs, counted up to ``statuses_at`` (``audit affected``).
    ``asked`` is set when the re-run asks for a measurement (of the record or of
    ``images``).
    """
    inputs = _Inputs(source, rec)
    if policy is None:
        policy = policies.get(inputs, rec)
    fmt = formats.by_name(rec.delivery.format)
    # The original artefacts the adapter read, each checked against its digest.
    stored = {
        name: inputs.get(name)
        for name in sorted(rec.inputs)
        if not _policy_input(name) and not is_record_input(name)
    }
    # The operator's certification records the decision used (not the delivery's).
    records = {
        name: inputs.get(name) for name in sorted(rec.inputs) if is_record_input(name)
    }
    records.update(extra_records or {})
    with tempfile.TemporaryDirectory(prefix="vp-") as work:
        delivery = fmt.reload(
            stored,
            rec.delivery,
            workdir=Path(work),
            images=images,
            cache=policies.documents,
        )
        # A package that changed while it was verified is judged from its record:
        # what it held then is not what the delivery at hand holds now.
        if images is not None and not _changed_while_verified(rec):
            measure = _images_hasher(fmt, images)
        else:
            measure = _recorded_hasher(rec)

        def hasher(
            paths: Sequence[str], algorithms: Sequence[str]
        ) -> Sequence[ComponentDigest]:
            if asked is not None:
                asked.append(True)
            return measure(paths, algorithms)

        report = evaluate_delivery(
            delivery,
            policy,
            at=rec.as_of,
            time_source=rec.as_of_source,
            hasher=hasher,
            context=VerificationContext(at=rec.as_of, cache=policies.verification),
            records=records,
            statuses_at=statuses_at,
        )
    rollback = None if floor.known else _recorded_rollback(rec)
    if rollback is None:
        rollback = check_rollback(report, policy, floor.value)
    return dataclasses.replace(report, checks=(*report.checks, rollback))


def _policy_input(name: str) -> bool:
    return name == POLICY_INPUT or name.startswith(POLICY_REF_PREFIX)


def _outcomes(checks: Iterable[CheckResult]) -> list[tuple[str, str, str]]:
    return [(c.check, c.subject, c.outcome.value) for c in checks]


def _compare(rec: EvidenceRecord, report: VerificationReport) -> list[str]:
    recorded, replayed = _outcomes(rec.checks), _outcomes(report.checks)
    diffs = []
    if recorded != replayed:
        for i in range(max(len(recorded), len(replayed))):
            a = recorded[i] if i < len(recorded) else None
            b = replayed[i] if i < len(replayed) else None
            if a != b:
                diffs.append(f"check {i}: recorded {a}, replayed {b}")
    if report.verdict != rec.verdict:
        diffs.append(f"verdict: recorded {rec.verdict}, replayed {report.verdict}")
    return diffs


@dataclass(frozen=True, slots=True)
class Floor:
    """The rollback floor before a record: its value, and whether it is known.

    It is unknown when the source does not hold the whole history before the record
    (a bundle exported with a filter): the rollback check is then taken as recorded.
    """

    value: int | None = None
    known: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """What a record source declares it holds (an audit bundle's manifest).

    ``first``: the first sequence number; ``previous``: the digest of record
    ``first - 1`` (None when ``first`` is 1); ``selection``: records between
    ``first`` and the last may be left out (a filter on vendor, product, verdict
    or time), so a gap is not a deletion and the chain is checked where it is
    contiguous.
    """

    first: int = 1
    previous: str | None = None
    selection: bool = False


def _errors(rec: EvidenceRecord) -> list[CheckResult]:
    """Return ``rec``'s ``error`` checks, if it is of a delivery not verified at all.

    Such a record is FAILED, with ``error`` checks and no measurement.
    """
    try:
        checks = rec.checks
    except InvalidInputError:
        return []
    if rec.verdict != "FAILED" or rec.delivery.measured:
        return []
    return [c for c in checks if c.check == ERROR_CHECK]


def _error_checks(rec: EvidenceRecord) -> list[str]:
    """The reasons of :func:`_errors`."""
    return [c.reason for c in _errors(rec)]


#: How intake's reason for a failure of the verifier itself begins.
_INTERNAL_ERROR: Final = "internal error:"


def _of_the_delivery(rec: EvidenceRecord) -> bool:
    """Whether ``rec`` records a delivery not verified because of the delivery itself.

    Not because the verifier failed (an ``internal error``).
    """
    reasons = _error_checks(rec)
    return bool(reasons) and not any(r.startswith(_INTERNAL_ERROR) for r in reasons)


def _recorded_error(rec: EvidenceRecord, error: Error, images: Path | None) -> bool:
    """Whether ``rec`` recorded a failed intake with this very error.

    Intake records a delivery it could not verify as FAILED with an ``error`` check
    (file and reason). Re-running it raises the same error: from its stored inputs (a
    document that does not parse), or from the delivery at hand (``images``: an
    archive refused, a member whose data fails its CRC-32), whose errors name the
    file given, read here as the file the record names.
    """
    reason = shorten(str(error))
    if images is not None:
        recorded = Path(rec.delivery.root)
        # The file itself ("x.csar: ..."), by path or name, or a file inside a
        # directory delivery ("layout/blobs/sha256/...: ...").
        for given, then in (
            (f"{images}: ", f"{recorded}: "),
            (f"{images.name}: ", f"{recorded.name}: "),
            (f"{images}/", f"{recorded}/"),
        ):
            if reason.startswith(given):
                reason = then + reason[len(given) :]
                break
    return reason in _error_checks(rec)


def _unrepeatable(rec: EvidenceRecord, error: Error) -> bool:
    """Whether ``rec`` recorded a failed intake that stopped where its re-run stops.

    Intake records a delivery that loaded but could not be measured (a member whose
    data fails its CRC-32, a package that changed while it was verified) as FAILED
    with an ``error`` check and no measurement. Its re-run from the stored inputs
    reaches the measurement, which the record does not hold: the verdict stands,
    under the recorded policy or another (a delivery nothing was measured of passes
    under none); only the delivery (``--images``) can show the error again. A
    record of a failure of the verifier stands only on the same failure again.
    """
    return isinstance(error, _UnmeasuredError) and _of_the_delivery(rec)


def _still_unverifiable(
    rec: EvidenceRecord, report: VerificationReport, *, measured: bool
) -> bool:
    """Whether ``rec`` recorded an unloadable delivery whose re-run fails unmeasured.

    When the error came from the delivery itself before any of its documents could
    be used (an archive refused for its layout), the stored inputs are what could be
    salvaged, and their re-run fails for its own reasons (no manifest) without asking
    for a single measurement: the checks differ, the verdict stands. A re-run that
    passes, or that got as far as measuring, is compared as any other; so is one with
    the delivery at hand (``--images``), which must show the recorded error itself.
    """
    return report.verdict == "FAILED" and not measured and _of_the_delivery(rec)


def _changed_while_verified(rec: EvidenceRecord) -> bool:
    """Whether ``rec`` recorded a package that changed while it was verified.

    The ``error`` check must be exactly the one intake records for
    ``formats.base.check_unchanged`` (the package file and its message), not any
    reason that contains its words (member names are the vendor's to choose).
    """
    return any(
        c.reason == shorten(str(InvalidInputError(CHANGED_AFTER_LOAD, file=c.subject)))
        for c in _errors(rec)
    )


def _load_images(rec: EvidenceRecord, images: Path) -> None:
    """Load the delivery at hand for a record of a delivery not verified at all.

    An error the delivery raises when it is loaded (an archive refused for its
    layout) is raised here, to be compared with the recorded one.
    """
    formats.by_name(rec.delivery.format).load(images)


def _error_now_finding(rec: EvidenceRecord, report: VerificationReport) -> bool:
    """Whether ``rec`` recorded as an ``error`` what is now a failed check.

    Records made before malformed vendor documents became failed checks of the
    delivery (``docs/design.md``) hold one ``error`` check per such document; the
    re-run fails the same document with the same reason.
    """
    try:
        checks = rec.checks
    except InvalidInputError:
        return False
    if rec.verdict != "FAILED" or report.verdict != "FAILED" or not checks:
        return False
    failed = [c.reason for c in report.failures()]
    recorded = [c for c in checks if c.check != "rollback"]
    return bool(recorded) and all(
        c.check == ERROR_CHECK and any(r.endswith(c.reason) for r in failed)
        for c in recorded
    )


@dataclass
class ChainState:
    prev_seq: int = 0
    prev_digest: str | None = None
    complete: bool = True  # every record before this one was seen
    selection: bool = False
    accepted: dict[tuple[str, str], int] = field(default_factory=dict)

    @classmethod
    def of(cls, scope: Scope) -> ChainState:
        return cls(
            prev_seq=scope.first - 1,
            prev_digest=scope.previous,
            complete=scope.first == 1,
            selection=scope.selection,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalResult:
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


#: Reads the record_inputs rows of a record (stores; None for bundles).
IndexInputs = Callable[[int], Mapping[str, str]]


def _index_problems(stored: StoredRecord, rec: AnyRecord) -> list[str]:
    """The store's index columns that differ from the signed record."""
    columns = record_index(rec)
    names = ("record_id", "verdict", "vendor", "product", "security_version")
    signed: dict[str, object] = {
        **dict(zip(names, columns[:5], strict=True)),
        "version": columns[5],
        "created_at": rec.time_verified,
    }
    return [
        f"index column {column} is {show_key(getattr(stored, column))} but the "
        f"signed record says {show_key(value)}"
        for column, value in signed.items()
        if getattr(stored, column) != value
    ]


def _inputs_problems(rows: Mapping[str, str], rec: AnyRecord) -> list[str]:
    """The record_inputs rows that differ from the signed record's inputs."""
    if dict(rows) == dict(rec.inputs):
        return []
    names = sorted(set(rows) | set(rec.inputs))
    differ = [n for n in names if rows.get(n) != rec.inputs.get(n)]
    shown = ", ".join(show_key(n) for n in differ[:3])
    more = f" and {len(differ) - 3} more" if len(differ) > 3 else ""
    return [f"record_inputs rows differ from the signed record's inputs: {shown}{more}"]


def _blob_problems(source: RecordSource, rec: AnyRecord, seen: set[str]) -> list[str]:
    """Every input blob present and matching its digest (``seen``: already checked)."""
    inputs = _Inputs(source, rec)
    problems = []
    for name, digest in sorted(rec.inputs.items()):
        if digest in seen:
            continue
        try:
            inputs.get(name)
        except VerificationError as e:
            problems.append(str(e))
        else:
            seen.add(digest)
    return problems


def _verdict_problems(rec: AnyRecord) -> list[str]:
    """The signed verdict must be the one the signed checks give."""
    if isinstance(rec, ConcentrationRecord):
        integrity = rec.report.get("integrity")
        intact = isinstance(integrity, Mapping) and integrity.get("intact") is True
        if rec.verdict == ("PASSED" if intact else "FAILED"):
            return []
        covered = "intact" if intact else "not intact"
        return [f"verdict: recorded {rec.verdict}, but its report says {covered}"]
    try:
        derived = rec.checks_verdict()
    except InvalidInputError as e:
        return [f"record does not parse: {e}"]
    if derived == rec.verdict:
        return []
    return [f"verdict: recorded {rec.verdict}, but its recorded checks give {derived}"]


def local_integrity(
    stored: StoredRecord,
    keys: Sequence[crypto.PublicKey],
    *,
    derived: bool = False,
    index_inputs: IndexInputs | None = None,
    source: RecordSource | None = None,
    seen: set[str] | None = None,
) -> tuple[AnyRecord | None, LocalResult]:
    """Digest, signature (verify, then parse), index columns and blobs of one record.

    ``derived``: the source has no separate index columns (an audit bundle); the
    record's own fields stand in for them. A record whose signature does not verify
    is reported and not parsed any further. With ``source``, every input blob is
    read and checked against its digest (once per digest in ``seen``), and the
    signed verdict must be the one the signed checks give.
    """
    problems: list[str] = []
    digest = record_digest(stored.envelope)
    if digest != stored.digest:
        problems.append(
            "stored record bytes do not hash to the stored digest (altered)"
        )
    label = getattr(stored, "file", "") or f"record {stored.seq}"
    try:
        rec = parse_record(stored.envelope, keys=keys, file=label)
    except (VerificationError, InvalidInputError) as e:
        # Not signed by the operator, or not a record: nothing more is read from it.
        why = (
            str(e)
            if isinstance(e, VerificationError)
            else f"record does not parse: {e}"
        )
        problems.append(why)
        local = LocalResult(
            seq=stored.seq,
            record_id=stored.record_id or f"#{stored.seq}",
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
    if not derived:
        problems += _index_problems(stored, rec)
    if index_inputs is not None:
        problems += _inputs_problems(index_inputs(stored.seq), rec)
    if source is not None:
        problems += _verdict_problems(rec)
        problems += _blob_problems(source, rec, set() if seen is None else seen)
    _, _, vendor, product, _, _ = record_index(rec)
    local = LocalResult(
        seq=stored.seq,
        record_id=rec.record_id,
        verdict=rec.verdict,
        digest=digest,
        problems=tuple(problems),
        parsed=True,
        sequence=rec.sequence,
        previous=rec.previous,
        stored_previous=rec.previous if derived else stored.prev_digest,
        vendor=vendor,
        product=product,
        security_version=None
        if isinstance(rec, ConcentrationRecord)
        else rec.delivery.security_version,
    )
    return rec, local


def link(local: LocalResult, state: ChainState) -> list[str]:
    """The chain checks: no gap, and both links point at the record before."""
    problems: list[str] = []
    if local.seq != state.prev_seq + 1:
        if state.selection and local.seq > state.prev_seq:
            # A filtered bundle leaves records out: nothing to link to here.
            state.complete = False
            return problems
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


def advance(local: LocalResult, state: ChainState) -> Floor:
    """Move the chain state past ``local``; return the rollback floor it had."""
    state.prev_seq, state.prev_digest = local.seq, local.digest
    if not local.parsed:
        return Floor()
    key = (local.vendor, local.product)
    floor = Floor(state.accepted.get(key), known=state.complete)
    sv = local.security_version
    if local.verdict == "PASSED" and sv is not None:
        state.accepted[key] = sv if floor.value is None else max(sv, floor.value)
    return floor


@dataclass(frozen=True, slots=True)
class Rerun:
    problems: tuple[str, ...]
    replayed_verdict: str | None
    changes: tuple[str, ...]


def _source_rows(source: RecordSource, through: int) -> Iterator[StoredRecord]:
    """The source's records 1 to ``through`` (by range when it reads by range)."""
    by_range = getattr(source, "iter_range", None)
    if callable(by_range):
        return iter(by_range(1, through))
    return source.iter_records()


def rerun_report(
    source: RecordSource,
    rec: ConcentrationRecord,
    new_policy: Policy | None,
    policies: PolicyCache,
    keys: Sequence[crypto.PublicKey],
) -> Rerun:
    """Step 6 for a concentration report record: recompute it and compare.

    With ``new_policy`` the differences are changes, not failures.
    """
    inputs = _Inputs(source, rec)
    try:
        policy = policies.get(inputs, rec) if new_policy is None else new_policy
        diffs = recompute(
            rec,
            policy=policy,
            inventory=inputs.get(INVENTORY_INPUT),
            rows=_source_rows(source, rec.through),
            keys=keys,
            url=str(getattr(source, "url", "replay")),
            derived=bool(getattr(source, "derived_index", False)),
        )
    except (VerificationError, InvalidInputError) as e:
        return Rerun((f"cannot re-run: {e}",), None, ())
    verdict = next(
        (d.rsplit(" ", 1)[-1] for d in diffs if d.startswith("verdict:")),
        rec.verdict,
    )
    if new_policy is not None:
        return Rerun((), verdict, tuple(diffs))
    return Rerun(tuple(diffs), verdict, ())


def rerun_record(  # noqa: PLR0917 - shared by the sequential and parallel paths
    source: RecordSource,
    rec: AnyRecord,
    new_policy: Policy | None,
    images: Path | None,
    floor: Floor,
    policies: PolicyCache,
    keys: Sequence[crypto.PublicKey] = (),
) -> Rerun:
    if isinstance(rec, ConcentrationRecord):
        return rerun_report(source, rec, new_policy, policies, keys)
    problems: list[str] = []
    changes: list[str] = []
    replayed_verdict = None
    asked: list[bool] = []
    try:
        if (
            images is not None
            and _error_checks(rec)
            and not _changed_while_verified(rec)
        ):
            _load_images(rec, images)
        report = _rerun(
            source,
            rec,
            policy=new_policy,
            images=images,
            floor=floor,
            policies=policies,
            asked=asked,
        )
        replayed_verdict = report.verdict
        if new_policy is None:
            if not (
                _error_now_finding(rec, report)
                or (
                    images is None
                    and _still_unverifiable(rec, report, measured=bool(asked))
                )
            ):
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
        if _recorded_error(rec, e, images) or _unrepeatable(rec, e):
            # Recorded as not verifiable, and still not (under any policy: nothing
            # measured passes under none).
            replayed_verdict = "FAILED"
        elif isinstance(e, _UnmeasuredError) and _error_checks(rec):
            problems.append(
                "cannot re-run: recorded as a failure of the verifier "
                f"({_error_checks(rec)[0]}), which the re-run does not repeat: {e}"
            )
        else:
            problems.append(f"cannot re-run: {e}")
    except Error as e:  # pragma: no cover - every Error is one of the above
        problems.append(f"cannot re-run: {e}")
    except Exception as e:  # noqa: BLE001 - one record's failure must not end the replay
        # Intake records a delivery that made the verifier fail as FAILED with the
        # failure as its error; the same failure again confirms that record.
        if internal_error_reason(e) in _error_checks(rec):
            replayed_verdict = "FAILED"
        else:
            problems.append(
                f"cannot re-run: {type(e).__name__}: {shorten(str(e))} (a failure of "
                "vendorproof or its environment while re-running this record)"
            )
    return Rerun(tuple(problems), replayed_verdict, tuple(changes))


def source_scope(source: object) -> Scope:
    """What ``source`` declares it holds (the whole chain unless it says otherwise)."""
    scope = getattr(source, "scope", None)
    return scope() if callable(scope) else Scope()


def source_index_inputs(source: object) -> IndexInputs | None:
    """How to read a record's record_inputs rows (None: the source has none)."""
    index = getattr(source, "index_inputs", None)
    return index if callable(index) else None


def in_range(seq: int, first: int | None, last: int | None) -> bool:
    """Whether ``seq`` is to be re-run."""
    return (first is None or seq >= first) and (last is None or seq <= last)


def result_of(
    local: LocalResult, problems: list[str], rerun: Rerun | None
) -> RecordReplay:
    """Combine the integrity and re-run findings of one record."""
    return RecordReplay(
        seq=local.seq,
        record_id=local.record_id,
        verdict=local.verdict,
        digest=local.digest,
        problems=(*problems, *(rerun.problems if rerun else ())),
        replayed_verdict=rerun.replayed_verdict if rerun else None,
        changes=rerun.changes if rerun else (),
    )
