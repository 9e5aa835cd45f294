"""Read a store for the reports: verify every record, keep the reason for the rest.

The same read path as the update gate (``intake.verified_record``): the digest
column, the operator signature (verify, then parse), the signed sequence and link
against the row, and the index columns against the signed record. Rows are also
checked to form one unbroken chain (each ``prev_digest`` the digest of the row
before). This is the integrity part of ``audit replay`` without re-running the
decisions; the reports say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from vendorproof._internal import crypto
from vendorproof.errors import InvalidInputError, VerificationError
from vendorproof.evidence.intake import verified_record
from vendorproof.evidence.record import EvidenceRecord, record_digest
from vendorproof.evidence.report_record import ConcentrationRecord, parse_record
from vendorproof.evidence.store import EvidenceStore, StoredRecord
from vendorproof.reports._records import RecordView, StoreView

__all__ = ["records_view", "store_view"]


def _view(seq: int, digest: str, rec: EvidenceRecord) -> RecordView:
    d = rec.delivery
    verified = d.verified_vendor
    return RecordView(
        seq=seq,
        record_id=rec.record_id,
        digest=digest,
        time_verified=rec.time_verified,
        verdict=rec.verdict,
        vendor=verified or "",
        vendor_name=d.principal.name if verified and d.principal else "",
        declared_vendor=d.vendor.id if d.vendor else "",
        product=d.product or "",
        version=d.version or "",
        domain=d.domain or "",
        network_function=d.network_function or "",
        checks=rec.checks,
    )


def store_view(store: EvidenceStore, keys: Sequence[crypto.PublicKey]) -> StoreView:
    """Every record of ``store`` checked with the operator ``keys`` (linear)."""
    return records_view(store.url, store.records(), keys)


def _derived(
    stored: StoredRecord, keys: Sequence[crypto.PublicKey]
) -> tuple[EvidenceRecord | ConcentrationRecord | None, str]:
    """A record of a source without index columns (an audit bundle), or why not."""
    if record_digest(stored.envelope) != stored.digest:
        return None, "its bytes do not hash to its digest"
    try:
        rec = parse_record(stored.envelope, keys=keys)
    except VerificationError:
        return None, "its operator signature does not verify with the operator key(s)"
    except InvalidInputError as e:
        return None, f"it does not parse as an evidence record ({e})"
    if rec.sequence != stored.seq:
        return None, f"its signed sequence {rec.sequence} is not its position"
    return rec, ""


def records_view(
    url: str,
    rows: Iterable[StoredRecord],
    keys: Sequence[crypto.PublicKey],
    *,
    derived: bool = False,
    through: int | None = None,
) -> StoreView:
    """``rows`` (in sequence order, up to ``through``) checked with ``keys``.

    ``derived``: the rows carry no index columns (an audit bundle); the signed
    record's own sequence and link stand in for them.
    """
    records: list[RecordView] = []
    reports: list[int] = []
    unverified: list[tuple[int, str]] = []
    chain: list[str] = []
    previous: tuple[int, str] | None = None
    total = 0
    for stored in rows:
        if through is not None and stored.seq > through:
            break
        total += 1
        want_seq = 1 if previous is None else previous[0] + 1
        want_prev = None if previous is None else previous[1]
        rec, why = _derived(stored, keys) if derived else verified_record(stored, keys)
        link = rec.previous if derived and rec is not None else stored.prev_digest
        if stored.seq != want_seq:
            chain.append(f"record #{want_seq} is missing before #{stored.seq}")
        elif link != want_prev and (rec is not None or not derived):
            chain.append(
                f"record #{stored.seq} does not link to record #{want_seq - 1}"
            )
        previous = (stored.seq, stored.digest)
        if rec is None:
            unverified.append((stored.seq, why))
            continue
        if isinstance(rec, ConcentrationRecord):
            reports.append(stored.seq)
            continue
        try:
            records.append(_view(stored.seq, stored.digest, rec))
        except InvalidInputError as e:
            unverified.append((stored.seq, f"its checks do not parse ({e})"))
    return StoreView(
        url=url,
        total=total,
        records=tuple(records),
        unverified=tuple(unverified),
        chain=tuple(chain),
        reports=tuple(reports),
        last=0 if previous is None else previous[0],
    )
