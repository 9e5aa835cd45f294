"""Rollback protection against the highest securityVersion already accepted."""

from __future__ import annotations

from vendorproof.models.checks import Check, CheckResult, Outcome
from vendorproof.models.policy import Policy
from vendorproof.verify.result import VerificationReport

__all__ = ["check_rollback"]


def check_rollback(
    report: VerificationReport, policy: Policy, max_accepted: int | None
) -> CheckResult:
    """Rollback protection against the highest securityVersion already accepted.

    Args:
        report: the delivery's report (its summary names vendor, product and version).
        policy: the policy (it may grant explicit, recorded exceptions).
        max_accepted: the highest securityVersion of an earlier PASSED record for the
            same vendor and product, or None.

    The vendor is the verified signer of the manifest (``delivery.principal``); a
    delivery whose manifest names another vendor, or that no trusted vendor signed,
    has no verified release line to compare with.
    """
    d = report.delivery
    sv = d.security_version
    vendor = d.verified_vendor
    product = d.product

    def result(outcome: Outcome, reason: str) -> CheckResult:
        return CheckResult.of(
            Check.ROLLBACK, f"{d.vendor_id}/{product}", outcome, reason
        )

    if vendor is None or product is None:
        return result(
            Outcome.NOT_APPLICABLE,
            "no manifest signed by the vendor it names: nothing to compare",
        )
    if sv is None:
        return result(
            Outcome.NOT_APPLICABLE,
            f"the {d.format} delivery declares no securityVersion: nothing to compare",
        )
    if max_accepted is None:
        return result(Outcome.PASS, f"securityVersion {sv}: first accepted release")
    if sv >= max_accepted:
        return result(
            Outcome.PASS,
            f"securityVersion {sv} >= highest accepted {max_accepted}",
        )
    for exc in policy.rollback_exceptions:
        if exc.matches(vendor_id=vendor, product=product, security_version=sv):
            return result(
                Outcome.WARN,
                f"securityVersion {sv} < highest accepted {max_accepted}, allowed by "
                f"policy exception: {exc.reason}",
            )
    return result(
        Outcome.FAIL,
        f"rollback: securityVersion {sv} is lower than {max_accepted}, the highest "
        "already accepted for this vendor and product",
    )
