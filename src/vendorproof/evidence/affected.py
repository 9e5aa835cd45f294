"""Which accepted deliveries relied on a certificate that is now withdrawn.

``vendorproof audit affected --certificate CERT_ID``: every record in the store (each
verified with the pinned operator keys) whose verdict was PASSED and whose
``certification-coverage`` checks were passed or warned on the strength of an
operator-attested record of CERT_ID relied on it. Each is re-run with the replay
machinery on its stored inputs, with today's status records of the certificate added
and counted up to ``now``: the new verdict says what the status change means for it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from vendorproof._internal import crypto
from vendorproof._internal.text import shorten
from vendorproof.errors import InvalidInputError, VerificationError
from vendorproof.evidence._replay_steps import (
    Floor,
    PolicyCache,
    RecordSource,
    _rerun,
)
from vendorproof.evidence.intake import verified_record
from vendorproof.evidence.record import EvidenceRecord
from vendorproof.evidence.report_record import ConcentrationRecord
from vendorproof.models.certification_record import STATUS_INPUT_PREFIX
from vendorproof.models.checks import Check, Outcome

__all__ = ["Affected", "affected"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Affected:
    """One accepted delivery whose coverage relied on the certificate."""

    seq: int
    record_id: str
    vendor: str
    product: str
    version: str
    recorded: str
    #: The verdict of the re-run under today's status (None: it could not re-run).
    now: str | None
    reasons: tuple[str, ...]


def _relied(rec: EvidenceRecord, certificate_id: str) -> bool:
    """Whether a coverage check of the signed record stood on the certificate."""
    marks = (
        f" {certificate_id} (attested by operator ",
        f": {certificate_id} (attested by operator ",
    )
    return any(
        c.check == Check.CERTIFICATION_COVERAGE.value
        and c.outcome in (Outcome.PASS, Outcome.WARN)
        and any(m in c.reason for m in marks)
        for c in rec.checks
    )


def affected(
    source: RecordSource,
    keys: Sequence[crypto.PublicKey],
    certificate_id: str,
    register: Mapping[str, bytes],
    *,
    now: datetime,
) -> Iterator[Affected | str]:
    """The accepted deliveries that relied on ``certificate_id``, re-run.

    Each is re-run under today's status records (from ``register``); a record that
    does not verify is yielded as a problem (text) and not acted on.
    """
    statuses = {n: d for n, d in register.items() if n.startswith(STATUS_INPUT_PREFIX)}
    policies = PolicyCache()
    for stored in source.iter_records():
        rec, why = verified_record(stored, keys)
        if rec is None:
            yield f"record #{stored.seq}: {why}"
            continue
        if isinstance(rec, ConcentrationRecord):
            continue  # a report record relies on no certificate
        if rec.verdict != "PASSED" or not _relied(rec, certificate_id):
            continue
        d = rec.delivery
        try:
            report = _rerun(
                source,
                rec,
                policy=None,
                images=None,
                floor=Floor(known=False),
                policies=policies,
                extra_records=statuses,
                statuses_at=now,
            )
        except (VerificationError, InvalidInputError) as e:
            now_verdict: str | None = None
            reasons: tuple[str, ...] = (f"cannot re-run: {e}",)
        except Exception as e:  # noqa: BLE001 - one record's failure must not end the list
            now_verdict = None
            reasons = (
                (
                    f"cannot re-run: {type(e).__name__}: {shorten(str(e))} (a failure "
                    "of vendorproof or its environment while re-running this record)"
                ),
            )
        else:
            now_verdict = report.verdict
            reasons = tuple(
                f"{c.check} [{c.subject}]: {c.reason}" for c in report.failures()
            )
        yield Affected(
            seq=rec.sequence,
            record_id=rec.record_id,
            vendor="" if d.principal is None else d.principal.id,
            product=d.product or "",
            version=d.version or "",
            recorded=rec.verdict,
            now=now_verdict,
            reasons=reasons,
        )
