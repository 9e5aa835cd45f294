"""What the store reports read: records whose operator signature verified.

The evidence layer builds a :class:`StoreView` (``evidence/readout.py``): every
record whose digest, operator signature, chain position and index columns verify
becomes a :class:`RecordView`; every other one is listed with the reason, never
dropped silently. Reports work on this view only, so nothing a record says is shown
before its signature verified.
"""

from __future__ import annotations

from dataclasses import dataclass

from vendorproof.models.checks import CheckResult

__all__ = ["RecordView", "StoreView"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordView:
    """One verified record: the delivery, the verdict and every recorded check.

    ``vendor`` is the policy id of the vendor whose key verified the manifest when
    that is the vendor the manifest names (else empty), ``vendor_name`` its policy
    name; ``declared_vendor`` is what the manifest says (a claim).
    """

    seq: int
    record_id: str
    digest: str
    time_verified: str
    verdict: str
    vendor: str
    vendor_name: str
    declared_vendor: str
    product: str
    version: str
    domain: str
    network_function: str
    checks: tuple[CheckResult, ...]

    @property
    def accepted(self) -> bool:
        """Whether intake accepted the delivery (verdict PASSED)."""
        return self.verdict == "PASSED"


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreView:
    """Every record of a store: the verified ones, and why the others are not.

    ``chain`` lists breaks of the hash chain between consecutive rows (a missing
    sequence number, a link to another digest). ``reports`` holds the sequence
    numbers of verified concentration report records (no deliveries, so not in
    ``records``); ``last`` is the highest sequence number read.
    """

    url: str
    total: int
    records: tuple[RecordView, ...]
    unverified: tuple[tuple[int, str], ...]
    chain: tuple[str, ...]
    reports: tuple[int, ...] = ()
    last: int = 0

    @property
    def verified(self) -> int:
        """How many records verified (deliveries and reports)."""
        return len(self.records) + len(self.reports)

    @property
    def intact(self) -> bool:
        """Whether every record verified and the chain has no break."""
        return not self.unverified and not self.chain
