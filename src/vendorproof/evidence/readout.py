"""Read a store for the reports: verify every record, keep the reason for the rest.

The same read path as the update gate (``intake.verified_record``): the digest
column, the operator signature (verify, then parse), the signed sequence and link
against the row, and the index columns against the signed record. Rows are also
checked to form one unbroken chain (each ``prev_digest`` the digest of the row
before). This is the integrity part of ``audit replay`` without re-running the
decisions; the reports say so.
"""

from __future__ import annotations

from collections.abc import Sequence

from vendorproof._internal import crypto
from vendorproof.errors import InvalidInputError
from vendorproof.evidence.intake import verified_record
from vendorproof.evidence.record import EvidenceRecord
from vendorproof.evidence.store import EvidenceStore
from vendorproof.reports._records import RecordView, StoreView

__all__ = ["store_view"]


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
    records: list[RecordView] = []
    unverified: list[tuple[int, str]] = []
    chain: list[str] = []
    previous: tuple[int, str] | None = None
    total = 0
    for stored in store.records():
        total += 1
        want_seq = 1 if previous is None else previous[0] + 1
        want_prev = None if previous is None else previous[1]
        if stored.seq != want_seq:
            chain.append(f"record #{want_seq} is missing before #{stored.seq}")
        elif stored.prev_digest != want_prev:
            chain.append(
                f"record #{stored.seq} does not link to record #{want_seq - 1}"
            )
        previous = (stored.seq, stored.digest)
        rec, why = verified_record(stored, keys)
        if rec is None:
            unverified.append((stored.seq, why))
            continue
        try:
            records.append(_view(stored.seq, stored.digest, rec))
        except InvalidInputError as e:
            unverified.append((stored.seq, f"its checks do not parse ({e})"))
    return StoreView(
        url=store.url,
        total=total,
        records=tuple(records),
        unverified=tuple(unverified),
        chain=tuple(chain),
    )
