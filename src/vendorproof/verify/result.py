"""Check results and the verification report (what evidence records are made of)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from vendorproof.errors import VerificationError
from vendorproof.models._fields import format_time
from vendorproof.models.checks import CheckResult, Outcome
from vendorproof.models.summary import DeliverySummary

__all__ = ["CheckResult", "Outcome", "VerificationReport"]


_ACCEPTABLE = frozenset({Outcome.PASS, Outcome.WARN, Outcome.NOT_APPLICABLE})


@dataclass(frozen=True, slots=True, kw_only=True)
class VerificationReport:
    """Every check run on one delivery, and the verdict that follows from them.

    Attributes:
        delivery: what the delivery is (as its manifest says) and who signed it.
        policy: id, version, legal basis and digest of the policy applied.
        verified_at: the validation time.
        time_source: where the validation time came from (``--at``, ``now``).
        checks: the checks, in the order they ran.
    """

    delivery: DeliverySummary
    policy: Mapping[str, Any]
    verified_at: datetime
    time_source: str
    checks: tuple[CheckResult, ...]
    inputs: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def ok(self) -> bool:
        """True only if at least one check passed and none failed or errored."""
        return any(c.outcome is Outcome.PASS for c in self.checks) and all(
            c.outcome in _ACCEPTABLE for c in self.checks
        )

    @property
    def verdict(self) -> str:
        """``PASSED`` or ``FAILED`` (the SLSA VSA vocabulary)."""
        return "PASSED" if self.ok else "FAILED"

    def failures(self) -> tuple[CheckResult, ...]:
        """The checks that failed or could not run."""
        return tuple(c for c in self.checks if c.outcome not in _ACCEPTABLE)

    def raise_for_failure(self) -> None:
        """Raise ``VerificationError`` unless the report is ``ok`` (fail closed)."""
        if self.ok:
            return
        failed = [f"{c.check} [{c.subject}]: {c.reason}" for c in self.failures()]
        raise VerificationError("; ".join(failed) or "no checks were run")

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON data (schema: ``schemas/report.schema.json``)."""
        return {
            "schemaVersion": 1,
            "verdict": self.verdict,
            "validationTime": format_time(self.verified_at),
            "validationTimeSource": self.time_source,
            "policy": dict(self.policy),
            "delivery": self.delivery.to_dict(),
            "inputs": dict(self.inputs),
            "checks": [c.to_dict() for c in self.checks],
        }
