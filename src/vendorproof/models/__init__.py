"""Parsed, frozen models of every document vendorproof reads or writes."""

from vendorproof.models.bundle import Bundle, BundleVersion
from vendorproof.models.certification import CERTIFICATION_PREDICATE, Certification
from vendorproof.models.declaration import DECLARATION_PREDICATE, TrustDeclaration
from vendorproof.models.envelope import Envelope, Signature, pae
from vendorproof.models.manifest import (
    MANIFEST_PREDICATE,
    Component,
    ComponentKind,
    ComponentManifest,
    Domain,
    Party,
)
from vendorproof.models.policy import Policy
from vendorproof.models.statement import (
    PAYLOAD_TYPE,
    STATEMENT_TYPE,
    Statement,
    Subject,
)

__all__ = [
    "CERTIFICATION_PREDICATE",
    "DECLARATION_PREDICATE",
    "MANIFEST_PREDICATE",
    "PAYLOAD_TYPE",
    "STATEMENT_TYPE",
    "Bundle",
    "BundleVersion",
    "Certification",
    "Component",
    "ComponentKind",
    "ComponentManifest",
    "Domain",
    "Envelope",
    "Party",
    "Policy",
    "Signature",
    "Statement",
    "Subject",
    "TrustDeclaration",
    "pae",
]
