"""The operator policy as a value: what it trusts and requires, and its own bytes.

Parsing lives in ``parser.py`` (``Policy.from_yaml`` calls it); the parts a policy is
made of (principals, rules, modes) in ``parts.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from cryptography import x509

from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models.crl import CrlIndex
from vendorproof.models.policy.parser import read_policy
from vendorproof.models.policy.parts import (
    Catalogue,
    CertificationRule,
    ConcentrationPolicy,
    DenyEntry,
    OperatorAttestation,
    Principal,
    Resolver,
    RevocationMode,
    RollbackAllowance,
    SignatureRequirement,
    UnlistedFiles,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """A parsed, validated operator policy."""

    id: str
    version: str
    legal_basis: str
    description: str
    signature_algorithms: frozenset[str]
    digest_algorithms: frozenset[str]
    min_rsa_bits: int
    vendors: tuple[Principal, ...]
    certification_bodies: tuple[Principal, ...]
    certification_rules: tuple[CertificationRule, ...]
    trust_declaration_required: bool
    unlisted_files: UnlistedFiles
    deny_list: tuple[DenyEntry, ...]
    rollback_exceptions: tuple[RollbackAllowance, ...] = ()
    timestamp_authorities: tuple[Principal, ...] = ()
    revocation_mode: RevocationMode = RevocationMode.IF_AVAILABLE
    crls: tuple[x509.CertificateRevocationList, ...] = ()
    #: ``crls`` grouped by issuer (built with the policy).
    crl_index: CrlIndex | None = field(default=None, repr=False, compare=False)
    #: document kind -> k-of-n requirements across roles (empty: one signer of the
    #: document's own role).
    signature_requirements: Mapping[str, tuple[SignatureRequirement, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    #: Sigstore trust: a trusted_root.json the policy names, or the public-good root
    #: embedded in sigstore-python (only when the policy says so).
    sigstore_trusted_root: bytes | None = None
    sigstore_public_good: bool = False
    #: The operator role that may attest certification records (None: no records).
    operator_attestation: OperatorAttestation | None = None
    #: The operator's product catalogue (None: the vendor's declared domain, network
    #: function and kinds decide which certification rules apply).
    catalogue: Catalogue | None = None
    #: The concentration report's high-risk vendors and warning thresholds.
    concentration: ConcentrationPolicy = field(default_factory=ConcentrationPolicy)
    raw: bytes = field(repr=False)
    referenced: Mapping[str, bytes] = field(repr=False)

    @property
    def digest(self) -> str:
        """sha256 of the policy file bytes."""
        return hashlib.sha256(self.raw).hexdigest()

    def summary(self) -> dict[str, Any]:
        """Id, version, legal basis and digest (for reports and evidence)."""
        return {
            "id": self.id,
            "version": self.version,
            "legalBasis": self.legal_basis,
            "digest": {"sha256": self.digest},
        }

    def vendor(self, vendor_id: str) -> Principal | None:
        """The trusted vendor with ``vendor_id``."""
        return next((v for v in self.vendors if v.id == vendor_id), None)

    @classmethod
    def from_yaml(
        cls,
        raw: bytes,
        *,
        file: str,
        resolve: Resolver,
        limits: Limits = DEFAULT_LIMITS,
    ) -> Policy:
        """Parse and validate a policy.

        Args:
            raw: the policy file bytes.
            file: its name, for errors.
            resolve: reads a referenced certificate or key file.
            limits: parsing limits.

        Raises:
            InvalidInputError: naming file, field path and line.
        """
        return cls(**read_policy(raw, file=file, resolve=resolve, limits=limits))
