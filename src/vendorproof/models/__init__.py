"""Parsed, frozen models of every document vendorproof reads or writes.

Names are re-exported lazily so that importing one model (or the CLI) does not import
them all.
"""

from __future__ import annotations

from vendorproof._internal.lazy import lazy_exports

_EXPORTS = {
    "Bundle": "bundle",
    "BundleVersion": "bundle",
    "CERTIFICATION_PREDICATE": "certification",
    "Certification": "certification",
    "DECLARATION_PREDICATE": "declaration",
    "TrustDeclaration": "declaration",
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

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
