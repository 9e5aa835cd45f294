"""Check names, outcomes and results: the vocabulary of reports and evidence records.

Every check a report can hold is a member of :class:`Check`, with the requirement ids
(domain brief §2) it provides evidence for. The report schema's list of check names is
derived from this enum (``tests/unit/test_schemas.py``). Signer checks (``signature``,
``certificate-chain``, ...) carry the requirement ids of the document they ran on, so
their own tuple is empty. These short ids are aliases of the requirement catalogue
(``vendorproof.models.requirements``, docs/requirements.md), which maps every check to
``<instrument>:<clause>`` ids; records keep carrying the short ids.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vendorproof.errors import VerificationError

__all__ = ["Check", "CheckResult", "Outcome"]


class Check(enum.StrEnum):
    """Every check vendorproof runs, in the order ``evaluate_delivery`` runs them."""

    # What the delivery carries (format adapters add their findings under these).
    ATTESTATIONS = "attestations"
    # Who signed a document (run once per signed document; requirement ids are the
    # document's).
    ALGORITHMS = "algorithms"
    SIGNATURE = "signature"
    TIMESTAMP = "timestamp"
    CERTIFICATE_CHAIN = "certificate-chain"
    REVOCATION = "revocation"
    CERTIFICATE_PROFILE = "certificate-profile"
    SIGNER_IDENTITY = "signer-identity"
    SIGNATURE_THRESHOLD = "signature-threshold"
    # Signatures over OCI manifests (Notation, cosign): signer checks as well.
    NOTATION_ENVELOPE = "notation-envelope"
    COSIGN_BUNDLE = "cosign-bundle"
    TARGET_ARTIFACT = "target-artifact"
    SIGNING_SCHEME = "signing-scheme"
    EXPIRY = "expiry"
    # The manifest and the delivered bytes.
    VENDOR_BINDING = "vendor-binding"
    DIGEST_ALGORITHMS = "digest-algorithms"
    INTEGRITY = "integrity"
    KEYLESS_SIGNATURE = "keyless-signature"
    DETACHED_SIGNATURE = "detached-signature"
    IN_TOTO = "in-toto"
    UNLISTED_FILES = "unlisted-files"
    # Certification (§165(4) TKG, EUCC Art. 9(2)(e)): the operator's classification
    # first (what must be certified), then the certifications and their coverage.
    CLASSIFICATION = "classification"
    CERTIFICATION = "certification"
    CERTIFICATION_COVERAGE = "certification-coverage"
    # Supplier trustworthiness.
    TRUST_DECLARATION = "trust-declaration"
    DENY_LIST = "deny-list"
    # Against the evidence store (intake, replay).
    ROLLBACK = "rollback"
    # Intake only: the delivery could not be verified at all.
    ERROR = "error"
    # Added by the update gate (vendorproof.gate).
    INSTALLED_PRODUCT = "installed-product"
    DOWNGRADE = "downgrade"

    @property
    def requirements(self) -> tuple[str, ...]:
        """The requirement ids this check serves (empty for a signer check)."""
        return _REQUIREMENTS.get(self, ())

    @property
    def signer(self) -> bool:
        """Whether this is a signer check (its requirement ids are the document's)."""
        return self in SIGNER_CHECKS


#: The signer checks: run on every signed document (and the k-of-n threshold over
#: its keys), with that document's requirement ids.
SIGNER_CHECKS = frozenset(
    {
        Check.ALGORITHMS,
        Check.SIGNATURE,
        Check.TIMESTAMP,
        Check.CERTIFICATE_CHAIN,
        Check.REVOCATION,
        Check.CERTIFICATE_PROFILE,
        Check.SIGNER_IDENTITY,
        Check.SIGNATURE_THRESHOLD,
        Check.NOTATION_ENVELOPE,
        Check.COSIGN_BUNDLE,
        Check.TARGET_ARTIFACT,
        Check.SIGNING_SCHEME,
        Check.EXPIRY,
    }
)

_REQUIREMENTS: dict[Check, tuple[str, ...]] = {
    Check.ATTESTATIONS: ("KAT-A2-4",),
    Check.VENDOR_BINDING: ("KAT-A2-4", "SCAS-PKG"),
    Check.DIGEST_ALGORITHMS: ("KAT-A2-4", "SCAS-PKG"),
    Check.INTEGRITY: ("KAT-A2-4", "EUCC-9-2e"),
    Check.KEYLESS_SIGNATURE: ("KAT-A2-4", "SCAS-PKG"),
    Check.DETACHED_SIGNATURE: ("KAT-A2-4", "SCAS-PKG"),
    Check.IN_TOTO: ("KAT-A2-4", "SCAS-PKG"),
    Check.UNLISTED_FILES: ("KAT-A2-4",),
    Check.CLASSIFICATION: ("KAT-A2-2", "TKG-165-4"),
    Check.CERTIFICATION: ("KAT-A2-2", "TKG-165-4"),
    Check.CERTIFICATION_COVERAGE: ("KAT-A2-2", "TKG-165-4", "EUCC-9-2e"),
    Check.TRUST_DECLARATION: ("KAT-A2-3",),
    Check.DENY_LIST: ("BSIG-41",),
    Check.ROLLBACK: ("KAT-A2-4",),
    Check.ERROR: ("KAT-A2-4",),
    Check.INSTALLED_PRODUCT: ("KAT-A2-4",),
    Check.DOWNGRADE: ("KAT-A2-4",),
}

#: The requirement ids of each kind of signed document (its signer checks carry them).
DOCUMENT_REQUIREMENTS: dict[str, tuple[str, ...]] = {
    "manifest": ("KAT-A2-4", "SCAS-PKG"),
    "certification": Check.CERTIFICATION.requirements,
    "trust-declaration": Check.TRUST_DECLARATION.requirements,
    "component-signature": ("KAT-A2-4", "SCAS-PKG"),
    # A signature over a whole package (SOL 004 security option 2).
    "package": ("KAT-A2-4", "SCAS-PKG"),
}


class Outcome(enum.Enum):
    """The outcome of one check."""

    PASS = "pass"  # noqa: S105 - an outcome, not a password
    FAIL = "fail"
    WARN = "warn"
    ERROR = "error"
    NOT_APPLICABLE = "not-applicable"


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """One check: what, on which subject, for which requirements, and why."""

    check: str
    subject: str
    requirements: tuple[str, ...]
    outcome: Outcome
    reason: str

    @classmethod
    def of(
        cls,
        check: Check,
        subject: str,
        outcome: Outcome,
        reason: str,
        requirements: tuple[str, ...] | None = None,
    ) -> CheckResult:
        """A result of ``check`` with its own requirement ids unless given."""
        return cls(
            check=check.value,
            subject=subject,
            requirements=check.requirements if requirements is None else requirements,
            outcome=outcome,
            reason=reason,
        )

    @classmethod
    def run(
        cls,
        check: str,
        subject: str,
        requirements: tuple[str, ...],
        fn: Callable[[], str],
    ) -> CheckResult:
        """Run ``fn``; a ``VerificationError`` becomes FAIL, bugs propagate."""
        try:
            reason = fn()
        except VerificationError as e:
            return cls(
                check=check,
                subject=subject,
                requirements=requirements,
                outcome=Outcome.FAIL,
                reason=str(e),
            )
        return cls(
            check=check,
            subject=subject,
            requirements=requirements,
            outcome=Outcome.PASS,
            reason=reason,
        )

    def to_dict(self) -> dict[str, Any]:
        """Serialize for reports and evidence."""
        return {
            "check": self.check,
            "subject": self.subject,
            "requirements": list(self.requirements),
            "outcome": self.outcome.value,
            "reason": self.reason,
        }
