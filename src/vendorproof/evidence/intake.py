"""Intake: verify a delivery and append its evidence record, whatever the verdict.

Every delivery intake was asked to take in leaves a record (``docs/evidence-store.md``,
"Intake"): a delivery whose documents do not parse, or whose verification raised,
is recorded as FAILED with an ``error`` check naming the file and the reason, and
every input that could be read is stored. Only failures before there is a delivery
to speak of (no such directory, an unreadable policy, no operator key, no store)
leave no record.

Under the chain lock the callback first verifies the head record (operator signature
and chain link): a chain whose head does not verify is never extended. The rollback
floor comes from signed records, never from the unsigned index columns alone, and an
intake key makes a retried intake report the record it already wrote.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from vendorproof import formats
from vendorproof._internal import crypto
from vendorproof._internal.jsonio import canonical_json
from vendorproof._internal.text import shorten
from vendorproof.errors import Error, InvalidInputError, VerificationError
from vendorproof.evidence.record import EvidenceRecord, build_record, sign_record
from vendorproof.evidence.report_record import ConcentrationRecord, parse_record
from vendorproof.evidence.store import (
    ChainHead,
    EvidenceStore,
    PreparedRecord,
    StoredRecord,
)
from vendorproof.formats.base import (
    DeliveryFormat,
    Salvage,
    SignatureFile,
    refuse_signature_files,
)
from vendorproof.intake import (
    ProgressFactory,
    load_policy,
    load_records,
    load_signatures,
)
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models import _fields as f
from vendorproof.models.checks import Check, CheckResult, Outcome
from vendorproof.models.delivery import Delivery
from vendorproof.models.policy import Policy
from vendorproof.models.summary import DEFAULT_FORMAT, DeliverySummary
from vendorproof.verify.delivery import (
    check_rollback,
    evaluate_delivery,
    listing_of,
)
from vendorproof.verify.result import VerificationReport

__all__ = [
    "DEFAULT_WINDOW",
    "ERROR_CHECK",
    "POLICY_INPUT",
    "POLICY_REF_PREFIX",
    "ChainHeadError",
    "IntakeResult",
    "index_columns",
    "record_builder",
    "record_index",
    "run_intake",
    "verified_record",
    "verify_head",
]

#: Input name of the policy file, and the prefix of files it references.
POLICY_INPUT = "policy"
POLICY_REF_PREFIX = "policy:"

#: The check that records why a delivery could not be verified at all.
ERROR_CHECK = Check.ERROR.value


def internal_error_reason(failure: BaseException) -> str:
    """The ``error`` check's reason for an exception that is a bug, not bad input."""
    return shorten(
        f"internal error: {type(failure).__name__}: {failure} (a bug in "
        "vendorproof; the delivery is rejected)"
    )


#: Within this time a second intake of the same delivery under the same policy (and
#: the same ``--at``) reports the record of the first instead of writing another.
DEFAULT_WINDOW = timedelta(hours=1)

_MAX_INTAKE_ID = 200


class ChainHeadError(InvalidInputError):
    """The head of the chain does not verify: the chain is not extended."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IntakeResult:
    """The stored record and the report it carries.

    ``duplicate``: the delivery had already been recorded by an intake with the same
    key (a retry); ``record`` is that earlier record and nothing was written.
    """

    record: StoredRecord
    report: VerificationReport
    duplicate: bool = False


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- verifying what the store says under the lock ---------------------------------


def _verified(  # noqa: PLR0911 - one return per way a row can lie
    stored: StoredRecord, keys: Sequence[crypto.PublicKey]
) -> tuple[EvidenceRecord | ConcentrationRecord | None, str]:
    """The record behind a row if it is what it claims to be, else why not.

    Checks the digest column, the operator signature (verify, then parse), the signed
    sequence and link against the row, and the index columns against the signed
    record (a record of either kind: intake or concentration report).
    """
    if _sha256(stored.envelope) != stored.digest:
        return None, "its bytes do not hash to its digest column"
    try:
        rec = parse_record(stored.envelope, keys=keys)
    except VerificationError:
        return None, "its operator signature does not verify with the operator key(s)"
    except InvalidInputError as e:
        return None, f"it does not parse as an evidence record ({e})"
    except Exception as e:  # noqa: BLE001 - a crafted record must not crash intake
        return None, f"it does not parse as an evidence record ({type(e).__name__})"
    if rec.sequence != stored.seq or rec.previous != stored.prev_digest:
        return None, (
            f"its signed chain link (sequence {rec.sequence}) does not match its "
            "position in the store"
        )
    signed = record_index(rec)[:5]
    index = (
        stored.record_id,
        stored.verdict,
        stored.vendor,
        stored.product,
        stored.security_version,
    )
    if signed != index:
        return None, "its index columns differ from what the signed record says"
    return rec, ""


def record_index(
    rec: EvidenceRecord | ConcentrationRecord,
) -> tuple[str, str, str, str, int, str]:
    """The store's index columns of a signed record of either kind."""
    if isinstance(rec, ConcentrationRecord):
        return rec.index()
    return index_columns(rec.record_id, rec.verdict, rec.delivery)


def index_columns(
    record_id: str, verdict: str, d: DeliverySummary
) -> tuple[str, str, str, str, int, str]:
    """The store's index columns of a record.

    The vendor is the declared one: the index is a search aid, and every decision
    re-reads the signed record.
    """
    return (
        record_id,
        verdict,
        "" if d.vendor is None else d.vendor.id,
        d.product or "",
        -1 if d.security_version is None else d.security_version,
        d.version or "",
    )


def verified_record(
    stored: StoredRecord, keys: Sequence[crypto.PublicKey]
) -> tuple[EvidenceRecord | ConcentrationRecord | None, str]:
    """The signed record behind a stored row, or ``None`` and why it does not verify.

    The read path for decisions taken from a store (``vendorproof gate --store``): the
    digest column, the operator signature (verify, then parse), the signed sequence
    and link against the row, and the index columns against the signed record. A
    concentration report record is returned as such: it is no delivery.
    """
    return _verified(stored, keys)


def verify_head(head: ChainHead, keys: Sequence[crypto.PublicKey], where: str) -> None:
    """Refuse to extend a chain whose head record does not verify.

    Raises:
        ChainHeadError: the head record cannot be read or does not verify.
    """
    stored = head.record()
    if stored is None:
        if head.seq:
            raise ChainHeadError(
                f"evidence record #{head.seq} at the head of the chain cannot be read",
                file=where,
            )
        return
    _, why = _verified(stored, keys)
    if why:
        raise ChainHeadError(
            f"evidence record #{stored.seq} at the head of the chain does not verify: "
            f"{why}. Nothing was recorded and the chain is not extended. Inspect it "
            f"with `vendorproof audit replay --from {stored.seq}`; if it was signed "
            "by an earlier operator key, give that key with --operator-pub; "
            "otherwise it was not written by intake and the store's owner must "
            "remove it (docs/evidence-store.md, 'A head that does not verify')",
            file=where,
        )


def _floor(
    head: ChainHead,
    keys: Sequence[crypto.PublicKey],
    vendor: str,
    product: str,
) -> tuple[int | None, list[str]]:
    """The rollback floor from signed records, and the candidates ignored on the way.

    The index proposes PASSED records highest securityVersion first; the first one
    whose signed record verifies and says PASSED, this vendor, this product and that
    securityVersion is the floor.
    """
    ignored: list[str] = []
    for stored in head.accepted(vendor, product):
        rec, why = _verified(stored, keys)
        if isinstance(rec, ConcentrationRecord):
            continue  # a report, no delivery (its index names no vendor or product)
        if not why:
            return stored.security_version, ignored
        ignored.append(f"#{stored.seq} ({why})")
    return None, ignored


def _earlier(
    head: ChainHead,
    keys: Sequence[crypto.PublicKey],
    intake: Mapping[str, str],
    since: datetime | None,
) -> StoredRecord | None:
    """The record an earlier intake with the same key wrote, if one verifies."""
    after = None if since is None else f.format_time(since)
    for stored in head.with_intake_key(intake["key"], after):
        rec, why = _verified(stored, keys)
        if rec is None or why or isinstance(rec, ConcentrationRecord):
            continue
        predicate = json.loads(rec.envelope.payload).get("predicate", {})
        signed = predicate.get("vendorproof", {}).get("intake")
        if not isinstance(signed, dict) or signed.get("key") != intake["key"]:
            continue
        if since is not None and _made(predicate) < since:
            continue
        if signed != dict(intake):
            raise InvalidInputError(
                f"intake id {intake['key'].removeprefix('id:')!r} was already used by "
                f"evidence record #{stored.seq} for another delivery or policy",
                path="--intake-id",
            )
        return stored
    return None


def _made(predicate: Mapping[str, Any]) -> datetime:
    """When a verified record was made (its signed ``timeVerified``)."""
    value = predicate.get("timeVerified")
    try:
        return f.parse_time(value if isinstance(value, str) else "", "timeVerified")
    except InvalidInputError:
        return datetime.min.replace(tzinfo=UTC)


class _AlreadyRecorded(Exception):  # noqa: N818 - a control-flow signal, not an error
    def __init__(self, stored: StoredRecord) -> None:
        super().__init__(stored.seq)
        self.stored = stored


def record_builder(
    report: VerificationReport,
    policy: Policy,
    inputs: Mapping[str, str],
    *,
    key: crypto.SigningKey,
    actor: str,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    keep: Callable[[VerificationReport], None] | None = None,
    trusted: Sequence[crypto.PublicKey] = (),
    intake: Mapping[str, str] | None = None,
    window: timedelta = DEFAULT_WINDOW,
    where: str = "evidence store",
) -> Callable[[ChainHead], PreparedRecord]:
    """The append callback for ``report``: head check, rollback, chain link, signature.

    It runs under the store's chain lock: the head, the rollback floor, the sequence
    number and the previous record's digest are only known there. ``keep`` receives
    the final report (with the rollback check). ``trusted`` are earlier operator keys
    whose records may be built on (key rotation); the signing key is always trusted.
    With ``intake`` (``key``, ``delivery``, ``policy``), a verified record with the
    same key (made within ``window`` unless the key is an explicit ``id:``; a zero
    window looks for none) ends the append with :class:`_AlreadyRecorded` instead of
    a second record.

    Raises:
        ChainHeadError: the head record does not verify.
    """
    keys = [crypto.as_public_key(key.public_key()), *trusted]

    def build(head: ChainHead) -> PreparedRecord:
        verify_head(head, keys, where)
        explicit = intake is not None and intake["key"].startswith("id:")
        if intake is not None and (explicit or window > timedelta(0)):
            since = None if explicit else clock() - window
            found = _earlier(head, keys, intake, since)
            if found is not None:
                raise _AlreadyRecorded(found)
        _, _, vendor, product, sv, version = index_columns("", "", report.delivery)
        floor, ignored = _floor(head, keys, vendor, product)
        rollback = check_rollback(report, policy, floor)
        if ignored:
            # The outcome is what the signed records decide; the reason says which
            # index rows claimed more and were not believed.
            rollback = dataclasses.replace(
                rollback,
                reason=f"{rollback.reason}; ignored {len(ignored)} record(s) whose "
                "index claims a higher securityVersion: " + ", ".join(ignored[:5]),
            )
        full = dataclasses.replace(report, checks=(*report.checks, rollback))
        if keep is not None:
            keep(full)
        record_id = str(uuid.uuid4())
        created = clock()
        statement = build_record(
            full,
            sequence=head.seq + 1,
            previous=head.digest,
            record_id=record_id,
            created_at=created,
            actor=actor,
            inputs=inputs,
            intake=intake,
        )
        return PreparedRecord(
            record_id=record_id,
            created_at=f.format_time(created),
            vendor=vendor,
            product=product,
            version=version,
            security_version=sv,
            verdict=full.verdict,
            envelope=sign_record(statement, key),
            inputs=dict(inputs),
            intake_key=None if intake is None else intake["key"],
        )

    return build


# --- a delivery that cannot be verified is still recorded ---------------------------


def _failed_report(
    root: Path,
    fmt: DeliveryFormat | None,
    policy: Policy,
    failure: BaseException,
    *,
    at: datetime,
    time_source: str,
    limits: Limits,
    signatures: Sequence[SignatureFile] = (),
    loaded: Delivery | None = None,
) -> tuple[VerificationReport, Mapping[str, bytes]]:
    """The FAILED report of a delivery that did not verify, and its readable inputs.

    ``loaded``: the delivery, when it was loaded before the failure (its evaluation
    or measurement raised): its inputs and listing are recorded, as read when it was
    loaded, rather than the file read again (which may have changed since: the
    failure may be that it did). Otherwise what the format can salvage. Signature
    files given beside the delivery are kept with either.
    """
    if loaded is not None:
        found = Salvage(inputs=dict(loaded.inputs), listing=listing_of(loaded))
    elif fmt is None:
        found = Salvage()
    else:
        found = fmt.salvage(root, limits=limits)
    given = {s.input_name: s.data for s in signatures}
    found = dataclasses.replace(found, inputs={**found.inputs, **given})
    if isinstance(failure, InvalidInputError):
        subject, reason = failure.file or str(root), str(failure)
    elif isinstance(failure, Error):
        subject, reason = str(root), str(failure)
    else:
        subject, reason = str(root), internal_error_reason(failure)
    error = CheckResult.of(Check.ERROR, subject, Outcome.ERROR, shorten(reason))
    checks = [*found.errors]
    if not any(c.subject == error.subject and c.reason == error.reason for c in checks):
        checks.append(error)
    report = VerificationReport(
        delivery=DeliverySummary(
            format=DEFAULT_FORMAT if fmt is None else fmt.name,
            root=str(root),
            listing=found.listing,
        ),
        policy=policy.summary(),
        verified_at=at,
        time_source=time_source,
        checks=tuple(checks),
        inputs={n: _sha256(d) for n, d in found.inputs.items()},
    )
    return report, found.inputs


def _verify(
    root: Path,
    fmt: DeliveryFormat,
    policy: Policy,
    *,
    at: datetime,
    time_source: str,
    progress: ProgressFactory | None,
    limits: Limits,
    signatures: Sequence[SignatureFile] = (),
) -> tuple[VerificationReport, Mapping[str, bytes]]:
    """The report and input documents of a delivery; a failure is a FAILED report."""
    # The operator's register, like the policy, must be readable before anything is
    # recorded (a missing register is the operator's error, not the delivery's).
    records = load_records(policy, limits=limits)
    delivery: Delivery | None = None
    try:
        delivery = fmt.load(root, limits=limits, signatures=signatures)
        report = evaluate_delivery(
            delivery,
            policy,
            at=at,
            time_source=time_source,
            hasher=fmt.measure(root, progress, expect=delivery.source_state),
            records=records,
        )
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as failure:  # noqa: BLE001 - recorded: every intake leaves a trace
        return _failed_report(
            root,
            fmt,
            policy,
            failure,
            at=at,
            time_source=time_source,
            limits=limits,
            signatures=signatures,
            loaded=delivery,
        )
    # The certification records and source documents the decision used are stored
    # with the delivery's own inputs (replay hands them back to the evaluation).
    used = {n: records[n] for n in report.inputs if n in records}
    return report, {**delivery.inputs, **used}


def _is_policy_input(name: str) -> bool:
    return name == POLICY_INPUT or name.startswith(POLICY_REF_PREFIX)


def intake_key(
    report: VerificationReport,
    inputs: Mapping[str, str],
    *,
    intake_id: str | None,
    at: datetime | None,
) -> dict[str, str]:
    """The idempotency key of an intake and the digests it is derived from.

    ``delivery`` is the sha256 of the delivery's input digests, listing and measured
    digests, ``policy`` that of the policy and the files it references (canonical
    JSON). Without ``intake_id`` the key is derived from both (and from ``at``, an
    explicit validation time): ``auto:<sha256>``; with it, ``id:<intake_id>``.
    """
    is_policy = [_is_policy_input(n) for n in inputs]
    policy_inputs = {
        n: d for (n, d), p in zip(inputs.items(), is_policy, strict=True) if p
    }
    delivery_inputs = {
        n: d for (n, d), p in zip(inputs.items(), is_policy, strict=True) if not p
    }
    delivery = _sha256(
        canonical_json(
            {
                "inputs": delivery_inputs,
                "listing": report.delivery.listing.to_dict(),
                "measured": {
                    path: m.to_dict()
                    for path, m in sorted(report.delivery.measured.items())
                },
            }
        )
    )
    policy = _sha256(canonical_json(policy_inputs))
    if intake_id is not None:
        key = f"id:{intake_id}"
    else:
        basis = {"delivery": delivery, "policy": policy}
        if at is not None:
            basis["at"] = f.format_time(at)
        key = f"auto:{_sha256(canonical_json(basis))}"
    return {"key": key, "delivery": delivery, "policy": policy}


def _check_intake_id(intake_id: str) -> None:
    if not 0 < len(intake_id) <= _MAX_INTAKE_ID or not intake_id.isprintable():
        raise InvalidInputError(
            f"an intake id is 1 to {_MAX_INTAKE_ID} printable characters",
            path="--intake-id",
        )


def _report_of(rec: EvidenceRecord) -> VerificationReport:
    """The report an earlier, verified record carries."""
    return VerificationReport(
        delivery=rec.delivery,
        policy=rec.policy,
        verified_at=rec.as_of,
        time_source=rec.as_of_source,
        checks=rec.checks,
        inputs={n: d for n, d in rec.inputs.items() if not _is_policy_input(n)},
    )


def _refuse_attestation_key(policy: Policy, key: crypto.SigningKey) -> None:
    """The intake key must not be a key of the certification records role.

    Intake records what was verified; the certification desk's records are inputs
    of that verification. One key for both would let the intake desk attest the
    certifications its own decisions rest on (``docs/trust-rules.md``, "Body-signed
    and operator-attested certifications").

    Raises:
        InvalidInputError: the key is one of ``certification.records.publicKeys``.
    """
    role = policy.operator_attestation
    if role is None:
        return
    kid = crypto.key_id(crypto.as_public_key(key.public_key()))
    if kid in role.public_keys:
        raise InvalidInputError(
            f"the operator key {shorten(kid, 19)} is a key of the certification "
            f"records role {role.role!r}; intake needs a key of its own",
            path="--operator-key",
        )


def run_intake(
    delivery_root: Path,
    policy_path: Path,
    *,
    store: EvidenceStore,
    key: crypto.SigningKey,
    actor: str,
    at: datetime,
    time_source: str,
    progress: ProgressFactory | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    trusted: Sequence[crypto.PublicKey] = (),
    intake_id: str | None = None,
    window: timedelta = DEFAULT_WINDOW,
    limits: Limits = DEFAULT_LIMITS,
    signatures: Sequence[Path] = (),
) -> IntakeResult:
    """Verify ``delivery_root`` and append one signed record to ``store``.

    Hashing happens before the chain is locked; the head check, the rollback check,
    the record's sequence number and its link to the previous record are decided
    under the lock. Every input document is stored content-addressed with the record.
    A delivery that cannot be verified (a document that does not parse, a
    verification that raised) is recorded as FAILED with an ``error`` check.

    ``intake_id`` (or, by default, the digests of the delivery and the policy, and an
    explicit validation time) is the intake's idempotency key: an earlier record with
    that key (for the default key: made within ``window``, zero to look for none) is
    reported as a duplicate instead of a second record.

    ``signatures`` are signature files given beside the delivery (an OCI image
    layout's Notation envelopes); they are stored as inputs of the record.

    Raises:
        InvalidInputError: the policy or its certification register is unreadable or
            malformed, the delivery is no delivery in a known format, a signature
            file is unreadable or given for a format that takes none (or two of one
            name), the intake id is malformed
            or already used for another delivery, or the head of the chain does not
            verify
            (:class:`ChainHeadError`); nothing is recorded.
        OutputError: the store failed (nothing recorded; a retry continues the chain).
    """
    if intake_id is not None:
        _check_intake_id(intake_id)
    policy = load_policy(policy_path, limits=limits)
    _refuse_attestation_key(policy, key)
    fmt = formats.detect(delivery_root)  # no delivery at all: nothing to record
    # Files the operator names must be readable before anything is recorded.
    given = load_signatures(signatures, limits=limits)
    refuse_signature_files(fmt, given)
    report, documents = _verify(
        delivery_root,
        fmt,
        policy,
        at=at,
        time_source=time_source,
        progress=progress,
        limits=limits,
        signatures=given,
    )
    blobs: dict[str, bytes] = {}
    inputs: dict[str, str] = {}

    def keep(name: str, data: bytes) -> None:
        digest = _sha256(data)
        blobs[digest] = data
        inputs[name] = digest

    keep(POLICY_INPUT, policy.raw)
    for ref, data in policy.referenced.items():
        if not ref.startswith("inline:"):
            keep(POLICY_REF_PREFIX + ref, data)
    for name, data in sorted(documents.items()):
        keep(name, data)

    final: list[VerificationReport] = []
    build = record_builder(
        report,
        policy,
        inputs,
        key=key,
        actor=actor,
        clock=clock,
        keep=final.append,
        trusted=trusted,
        intake=intake_key(
            report,
            inputs,
            intake_id=intake_id,
            at=at if time_source == "--at" else None,
        ),
        window=window,
        where=store.url,
    )
    try:
        # An Ed25519 operator key also signs the checkpoint of the new tree size
        # (c2sp.org/tlog-checkpoint); other key types leave `vendorproof log
        # checkpoint --key` to an Ed25519 log key.
        stored = store.append(
            build,
            blobs,
            checkpoint_key=key if isinstance(key, ed25519.Ed25519PrivateKey) else None,
        )
    except _AlreadyRecorded as done:
        keys = [crypto.as_public_key(key.public_key()), *trusted]
        rec = EvidenceRecord.from_bytes(done.stored.envelope, keys=keys)
        return IntakeResult(record=done.stored, report=_report_of(rec), duplicate=True)
    return IntakeResult(record=stored, report=final[-1])
