"""Intake: verify a delivery and append its evidence record, whatever the verdict."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from vendorproof._internal import crypto
from vendorproof._internal.delivery_fs import BUNDLE_SUFFIX, KEYLESS, load_delivery
from vendorproof.evidence.record import build_record, sign_record
from vendorproof.evidence.store import (
    ChainHead,
    EvidenceStore,
    PreparedRecord,
    StoredRecord,
)
from vendorproof.intake import ProgressFactory, load_policy, measure
from vendorproof.models import _fields as f
from vendorproof.models.policy import Policy
from vendorproof.verify.delivery import check_rollback, evaluate_delivery
from vendorproof.verify.result import VerificationReport

__all__ = ["POLICY_INPUT", "POLICY_REF_PREFIX", "IntakeResult", "run_intake"]

#: Input name of the policy file, and the prefix of files it references.
POLICY_INPUT = "policy"
POLICY_REF_PREFIX = "policy:"


@dataclass(frozen=True, slots=True, kw_only=True)
class IntakeResult:
    """The stored record and the report it carries."""

    record: StoredRecord
    report: VerificationReport


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_builder(
    report: VerificationReport,
    policy: Policy,
    inputs: Mapping[str, str],
    *,
    key: crypto.SigningKey,
    actor: str,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    keep: Callable[[VerificationReport], None] | None = None,
) -> Callable[[ChainHead], PreparedRecord]:
    """The append callback for ``report``: rollback check, chain link, signature.

    It runs under the store's chain lock: the rollback floor, the sequence number and
    the previous record's digest are only known there. ``keep`` receives the final
    report (with the rollback check).
    """

    def build(head: ChainHead) -> PreparedRecord:
        d = report.delivery
        vendor = str(d.get("vendor", {}).get("id", ""))
        product = str(d.get("product", ""))
        rollback = check_rollback(
            report, policy, head.max_accepted_security_version(vendor, product)
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
        )
        sv = d.get("securityVersion")
        return PreparedRecord(
            record_id=record_id,
            created_at=f.format_time(created),
            vendor=vendor,
            product=product,
            version=str(d.get("version", "")),
            security_version=sv if isinstance(sv, int) else -1,
            verdict=full.verdict,
            envelope=sign_record(statement, key),
            inputs=dict(inputs),
        )

    return build


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
) -> IntakeResult:
    """Verify ``delivery_root`` and append one signed record to ``store``.

    Hashing happens before the chain is locked; the rollback check, the record's
    sequence number and its link to the previous record are decided under the lock.
    Every input document is stored content-addressed with the record.

    Raises:
        InvalidInputError: the policy or a delivered statement is malformed (nothing
            is recorded: there is no decision to record).
    """
    policy = load_policy(policy_path)
    delivery = load_delivery(delivery_root)
    report = evaluate_delivery(
        delivery,
        policy,
        at=at,
        time_source=time_source,
        hasher=measure(delivery.root, progress),
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
    for doc in delivery.documents:
        keep(doc.file, doc.raw)
    for path, raw in delivery.artifact_bundles.items():
        keep(f"{KEYLESS}{path}{BUNDLE_SUFFIX}", raw)
    for name, raw in delivery.in_toto.items():
        keep(name, raw)

    final: list[VerificationReport] = []
    build = record_builder(
        report, policy, inputs, key=key, actor=actor, clock=clock, keep=final.append
    )
    stored = store.append(build, blobs)
    return IntakeResult(record=stored, report=final[-1])
