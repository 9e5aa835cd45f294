"""The registry of signed-document types: one parser per in-toto ``predicateType``.

A signed statement's predicate is parsed once, when the document is loaded, into its
typed model. Adding a document type is one model module (with a ``from_statement``
class method) and one line in :data:`PARSERS`. A predicate type not in the registry is
kept as :class:`Unrecognised`; a predicate that does not parse as its type says it is
is kept as :class:`Malformed` with the error: both become failed checks of the
delivery (``docs/design.md``, "Malformed vendor documents"), never an exit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vendorproof.errors import InvalidInputError
from vendorproof.models.certification import CERTIFICATION_PREDICATE, Certification
from vendorproof.models.declaration import DECLARATION_PREDICATE, TrustDeclaration
from vendorproof.models.manifest import MANIFEST_PREDICATE, ComponentManifest
from vendorproof.models.statement import Statement

__all__ = ["PARSERS", "Malformed", "Predicate", "Unrecognised", "parse_predicate"]


@dataclass(frozen=True, slots=True)
class Unrecognised:
    """A statement whose predicate type vendorproof does not know."""

    predicate_type: str


@dataclass(frozen=True, slots=True)
class Malformed:
    """A statement of a known type whose predicate does not parse."""

    predicate_type: str
    error: InvalidInputError


#: What a signed statement's predicate parses into.
Predicate = (
    ComponentManifest | Certification | TrustDeclaration | Unrecognised | Malformed
)

#: predicateType -> parser of the statement (raises InvalidInputError).
PARSERS: dict[str, Callable[[Statement], Predicate]] = {
    MANIFEST_PREDICATE: ComponentManifest.from_statement,
    CERTIFICATION_PREDICATE: Certification.from_statement,
    DECLARATION_PREDICATE: TrustDeclaration.from_statement,
}


def parse_predicate(statement: Statement) -> Predicate:
    """The typed predicate of ``statement`` (never raises for a bad predicate)."""
    parse = PARSERS.get(statement.predicate_type)
    if parse is None:
        return Unrecognised(statement.predicate_type)
    try:
        return parse(statement)
    except InvalidInputError as e:
        return Malformed(statement.predicate_type, e)
