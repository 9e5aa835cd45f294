"""Names that moved between layers stay importable from where library users found them."""

from __future__ import annotations

from vendorproof import _cli
from vendorproof._cli import _errors
from vendorproof.models import crl, documents
from vendorproof.verify import documents as verify_documents
from vendorproof.verify import revocation


def test_signed_documents_are_reexported_by_verify() -> None:
    assert verify_documents.SignedDocument is documents.SignedDocument
    assert verify_documents.load_signed_document is documents.load_signed_document
    assert verify_documents.load_statement_bytes is documents.load_statement_bytes


def test_crl_index_is_reexported_by_revocation() -> None:
    assert revocation.CrlIndex is crl.CrlIndex


def test_cli_exit_codes_are_reexported_by_the_cli_package() -> None:
    assert _cli.ExitCode is _errors.ExitCode
    assert _cli.handle_errors is _errors.handle_errors
