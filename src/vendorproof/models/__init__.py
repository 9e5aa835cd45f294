"""Parsed, frozen models of every document vendorproof reads or writes.

Names are re-exported lazily so that importing one model (or the CLI) does not import
them all.
"""

from __future__ import annotations

import importlib
from typing import Any

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

__all__ = sorted(_EXPORTS)  # noqa: PLE0605 - names resolved lazily by __getattr__


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return __all__
