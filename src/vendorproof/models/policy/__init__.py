"""The operator policy: the model (``model.py``, ``parts.py``) and its parser.

``Policy.from_yaml`` reads a policy file (``parser.py``); every other name here is a
part of the parsed policy.
"""

from __future__ import annotations

from vendorproof.models.policy.model import Policy
from vendorproof.models.policy.parts import (
    DIGEST_ALGORITHMS,
    DOCUMENT_KINDS,
    REFUSED_DIGESTS,
    ROLES,
    Catalogue,
    CatalogueEntry,
    CertificateProfile,
    CertificationRule,
    ConcentrationPolicy,
    ConcentrationThresholds,
    DenyEntry,
    Identity,
    InTotoRule,
    KeylessRule,
    OperatorAttestation,
    Principal,
    Resolver,
    RevocationMode,
    RollbackAllowance,
    SignatureRequirement,
    UnknownProduct,
    UnlistedFiles,
    WithoutDigests,
)

__all__ = [
    "DIGEST_ALGORITHMS",
    "DOCUMENT_KINDS",
    "REFUSED_DIGESTS",
    "ROLES",
    "Catalogue",
    "CatalogueEntry",
    "CertificateProfile",
    "CertificationRule",
    "ConcentrationPolicy",
    "ConcentrationThresholds",
    "DenyEntry",
    "Identity",
    "InTotoRule",
    "KeylessRule",
    "OperatorAttestation",
    "Policy",
    "Principal",
    "Resolver",
    "RevocationMode",
    "RollbackAllowance",
    "SignatureRequirement",
    "UnknownProduct",
    "UnlistedFiles",
    "WithoutDigests",
]
