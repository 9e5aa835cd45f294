"""Signed documents now live in :mod:`vendorproof.models.documents` (re-exported)."""

from __future__ import annotations

from vendorproof.models.documents import (
    SignedDocument,
    load_signed_document,
    load_statement_bytes,
)

__all__ = ["SignedDocument", "load_signed_document", "load_statement_bytes"]
