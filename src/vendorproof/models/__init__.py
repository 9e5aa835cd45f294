"""Parsed, frozen models of every document vendorproof reads or writes.

Names are re-exported lazily so that importing one model (or the CLI) does not import
them all; the ``TYPE_CHECKING`` block gives type checkers the same names with their
real types (``tests/typecheck/test_exports.py`` keeps it in step with ``_EXPORTS``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vendorproof._internal.lazy import lazy_exports

_EXPORTS = {
    "Bundle": "bundle",
    "BundleVersion": "bundle",
    "CERTIFICATION_PREDICATE": "certification",
    "Certification": "certification",
    "DECLARATION_PREDICATE": "declaration",
    "TrustDeclaration": "declaration",
    "Check": "checks",
    "CheckResult": "checks",
    "Outcome": "checks",
    "Delivery": "delivery",
    "DetachedSignature": "delivery",
    "PackageManifest": "delivery",
    "DeliverySummary": "summary",
    "Envelope": "envelope",
    "Signature": "envelope",
    "pae": "envelope",
    "MANIFEST_PREDICATE": "manifest",
    "Component": "manifest",
    "ComponentKind": "manifest",
    "ComponentManifest": "manifest",
    "Domain": "manifest",
    "Party": "manifest",
    "Policy": "policy",
    "PAYLOAD_TYPE": "statement",
    "STATEMENT_TYPE": "statement",
    "Statement": "statement",
    "Subject": "statement",
}

if TYPE_CHECKING:
    from vendorproof.models.bundle import Bundle as Bundle
    from vendorproof.models.bundle import BundleVersion as BundleVersion
    from vendorproof.models.certification import (
        CERTIFICATION_PREDICATE as CERTIFICATION_PREDICATE,
    )
    from vendorproof.models.certification import Certification as Certification
    from vendorproof.models.checks import Check as Check
    from vendorproof.models.checks import CheckResult as CheckResult
    from vendorproof.models.checks import Outcome as Outcome
    from vendorproof.models.declaration import (
        DECLARATION_PREDICATE as DECLARATION_PREDICATE,
    )
    from vendorproof.models.declaration import TrustDeclaration as TrustDeclaration
    from vendorproof.models.delivery import Delivery as Delivery
    from vendorproof.models.delivery import DetachedSignature as DetachedSignature
    from vendorproof.models.delivery import PackageManifest as PackageManifest
    from vendorproof.models.envelope import Envelope as Envelope
    from vendorproof.models.envelope import Signature as Signature
    from vendorproof.models.envelope import pae as pae
    from vendorproof.models.manifest import MANIFEST_PREDICATE as MANIFEST_PREDICATE
    from vendorproof.models.manifest import Component as Component
    from vendorproof.models.manifest import ComponentKind as ComponentKind
    from vendorproof.models.manifest import ComponentManifest as ComponentManifest
    from vendorproof.models.manifest import Domain as Domain
    from vendorproof.models.manifest import Party as Party
    from vendorproof.models.policy import Policy as Policy
    from vendorproof.models.statement import PAYLOAD_TYPE as PAYLOAD_TYPE
    from vendorproof.models.statement import STATEMENT_TYPE as STATEMENT_TYPE
    from vendorproof.models.statement import Statement as Statement
    from vendorproof.models.statement import Subject as Subject
    from vendorproof.models.summary import DeliverySummary as DeliverySummary

__all__, _getattr, _dir = lazy_exports(__name__, _EXPORTS)
if not TYPE_CHECKING:  # pragma: no branch - an unknown name is a type error, not Any
    __getattr__, __dir__ = _getattr, _dir
