"""sign.new_statement: a new statement is written once and read as a verifier reads it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from tests import builders
from vendorproof._internal.jsonio import dump_json
from vendorproof.errors import InvalidInputError
from vendorproof.models.certification import CERTIFICATION_PREDICATE, Certification
from vendorproof.models.declaration import DECLARATION_PREDICATE, TrustDeclaration
from vendorproof.models.manifest import MANIFEST_PREDICATE, ComponentManifest
from vendorproof.models.statement import Statement
from vendorproof.sign import new_statement

MANIFEST = builders.manifest_statement(builders.FILES, kinds=builders.KINDS)
CERTIFICATION = builders.certification_statement(
    {k: v for k, v in builders.FILES.items() if k.startswith("images/")}
)
DECLARATION = builders.declaration_statement()


def _read(doc: dict[str, Any]) -> Statement:
    return Statement.from_bytes(dump_json(doc))


def test_manifest_statement_round_trips() -> None:
    manifest = ComponentManifest.from_statement(_read(MANIFEST))
    doc = new_statement(manifest)
    statement = _read(doc)
    assert statement.predicate_type == MANIFEST_PREDICATE
    assert ComponentManifest.from_statement(statement) == manifest
    assert doc["predicate"] == MANIFEST["predicate"]


def test_certification_statement_round_trips() -> None:
    source = _read(CERTIFICATION)
    cert = Certification.from_statement(source)
    doc = new_statement(cert, subjects=source.subjects)
    statement = _read(doc)
    assert statement.predicate_type == CERTIFICATION_PREDICATE
    assert statement.subjects == source.subjects
    assert Certification.from_statement(statement) == cert


def test_published_at_is_written_as_status_published_at() -> None:
    source = _read(CERTIFICATION)
    cert = dataclasses.replace(
        Certification.from_statement(source), published_at="https://cb.example/s/1"
    )
    doc = new_statement(cert, subjects=source.subjects)
    assert doc["predicate"]["status"] == {
        "value": "valid",
        "publishedAt": "https://cb.example/s/1",
    }


def test_declaration_statement_round_trips() -> None:
    decl = TrustDeclaration.from_statement(_read(DECLARATION))
    statement = _read(new_statement(decl))
    assert statement.predicate_type == DECLARATION_PREDICATE
    assert statement.subjects == (decl.subject(),)
    assert TrustDeclaration.from_statement(statement) == decl


def test_certification_needs_subjects() -> None:
    cert = Certification.from_statement(_read(CERTIFICATION))
    with pytest.raises(InvalidInputError, match="deliverables") as e:
        new_statement(cert)
    assert e.value.path == "subject"


@pytest.mark.parametrize("source", [MANIFEST, DECLARATION])
def test_subjects_of_other_documents_follow_from_them(source: dict[str, Any]) -> None:
    statement = _read(source)
    document = (
        ComponentManifest.from_statement(statement)
        if statement.predicate_type == MANIFEST_PREDICATE
        else TrustDeclaration.from_statement(statement)
    )
    with pytest.raises(InvalidInputError, match="follow from the document"):
        new_statement(document, subjects=statement.subjects)


def test_a_document_a_verifier_refuses_is_refused_with_its_error() -> None:
    decl = TrustDeclaration.from_statement(_read(DECLARATION))
    late = dataclasses.replace(decl, issued_at=datetime(2040, 1, 1, tzinfo=UTC))
    with pytest.raises(InvalidInputError, match="after issuedAt") as e:
        new_statement(late)
    assert e.value.path == "validUntil"
    empty = dataclasses.replace(decl, legal_entity="")
    with pytest.raises(InvalidInputError) as e:
        new_statement(empty)
    assert e.value.path == "legalEntity"
