"""The operator policy: the model (``model.py``, ``parts.py``) and its parser.

``Policy.from_yaml`` reads a policy file (``parser.py``); every other name here is a
part of the parsed policy.
"""

from __future__ import annotations

from vendorproof.models.policy.model import Policy
from vendorproof.models.policy.parts import (
    DIGEST_ALGORITHMS,
    DOCUMENT_KINDS,
    NOTATION_LEVELS,
    NOTATION_SCHEMES,
    REFUSED_DIGESTS,
    ROLES,
    SCHEME_SIGNING_AUTHORITY,
    SCHEME_X509,
    STRICT_NOTATION,
    Action,
    Catalogue,
    CatalogueEntry,
    CertificateProfile,
    CertificationRule,
    DenyEntry,
    Identity,
    InTotoRule,
    KeylessRule,
    NotationRules,
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
    "NOTATION_LEVELS",
    "NOTATION_SCHEMES",
    "REFUSED_DIGESTS",
    "ROLES",
    "SCHEME_SIGNING_AUTHORITY",
    "SCHEME_X509",
    "STRICT_NOTATION",
    "Action",
    "Catalogue",
    "CatalogueEntry",
    "CertificateProfile",
    "CertificationRule",
    "DenyEntry",
    "Identity",
    "InTotoRule",
    "KeylessRule",
    "NotationRules",
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
