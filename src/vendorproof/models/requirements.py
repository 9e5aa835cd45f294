"""The requirement catalogue: the rules vendorproof provides evidence for.

The catalogue ships with the package (``vendorproof/requirements/catalogue.yaml``) and
is read with the project's safe YAML loader into frozen models. Each requirement has a
stable id ``<instrument>:<clause>`` (``TKG:165(4)``, ``EUCC:9(2)(e)``), a short title,
an honest ``confidence`` (verified against the text, a secondary source, unconfirmed;
``docs/requirements.md`` cites the source of each) and the short ids evidence records
carry today (``KAT-A2-4``, ``SCAS-PKG``) as aliases, so old records still resolve.
Every check maps to catalogue ids; a signer check takes those of its document.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from vendorproof._internal.yamlio import YamlDoc, check_keys, parse_yaml_mapping
from vendorproof.errors import InvalidInputError
from vendorproof.models.checks import DOCUMENT_REQUIREMENTS, SIGNER_CHECKS, Check

__all__ = [
    "Catalogue",
    "Confidence",
    "Instrument",
    "Requirement",
    "catalogue",
    "parse_catalogue",
]

CATALOGUE_FILE = "catalogue.yaml"
_ID = re.compile(r"\A([A-Za-z0-9][A-Za-z0-9.\-]*):([A-Za-z0-9().\-]+)\Z")
_DATE = re.compile(r"\A(\d{4}(-\d{2}(-\d{2})?)?|unknown)\Z")


class Confidence(enum.StrEnum):
    """How far a catalogue entry was checked against its source."""

    VERIFIED = "verified"
    SECONDARY = "secondary"
    UNCONFIRMED = "unconfirmed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Instrument:
    """A law, regulation, guideline or specification the catalogue cites."""

    id: str
    title: str
    version: str
    date: str
    url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Requirement:
    """One clause of an instrument, as vendorproof reads it."""

    id: str
    instrument: Instrument
    clause: str
    title: str
    confidence: Confidence
    aliases: tuple[str, ...]
    source: str
    evidence: str
    note: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Catalogue:
    """The versioned catalogue: instruments, requirements and the check mapping."""

    name: str
    version: str
    date: str
    instruments: tuple[Instrument, ...]
    requirements: tuple[Requirement, ...]
    checks: Mapping[str, tuple[str, ...]]
    documents: Mapping[str, tuple[str, ...]]

    def get(self, requirement_id: str) -> Requirement | None:
        """The requirement with this id or alias (``None`` when unknown)."""
        for r in self.requirements:
            if requirement_id == r.id or requirement_id in r.aliases:
                return r
        return None

    def resolve(self, ids: Iterable[str]) -> tuple[str, ...]:
        """Catalogue ids of ``ids`` (ids or aliases), in catalogue order.

        Raises:
            InvalidInputError: an id is neither a catalogue id nor an alias.

        """
        wanted: set[str] = set()
        for i in ids:
            r = self.get(i)
            if r is None:
                raise InvalidInputError(f"unknown requirement id {i!r}")
            wanted.add(r.id)
        return tuple(r.id for r in self.requirements if r.id in wanted)

    def for_check(self, check: str) -> tuple[str, ...]:
        """The catalogue ids a check provides evidence for.

        A signer check runs on every kind of signed document and so serves the
        requirements of each; a record's result names its document's (short) ids.
        """
        if check in {c.value for c in SIGNER_CHECKS}:
            return self.resolve(i for ids in self.documents.values() for i in ids)
        return self.checks.get(check, ())

    def checks_for(self, requirement_id: str) -> tuple[str, ...]:
        """The checks (in ``Check`` order) that provide evidence for a requirement."""
        return tuple(c.value for c in Check if requirement_id in self.for_check(c))


def _str(
    doc: YamlDoc, m: Mapping[str, Any], key: str, at: tuple[str | int, ...]
) -> str:
    value = m.get(key, "")
    if not isinstance(value, str) or (key in m and not value.strip()):
        raise InvalidInputError(
            "expected a non-empty string", path=_path((*at, key)), file=doc.file
        )
    return value.strip()


def _path(at: Sequence[str | int]) -> str:
    from vendorproof._internal.yamlio import render_path

    return render_path(tuple(at))


def _instrument(doc: YamlDoc, m: Any, at: tuple[str | int, ...]) -> Instrument:
    if not isinstance(m, dict):
        raise InvalidInputError("expected a mapping", path=_path(at), file=doc.file)
    keys = frozenset({"id", "title", "version", "date", "url"})
    check_keys(doc, m, at=at, known=keys, required=keys)
    date = _str(doc, m, "date", at)
    if not _DATE.match(date):
        raise InvalidInputError(
            "expected YYYY, YYYY-MM, YYYY-MM-DD or unknown",
            path=_path((*at, "date")),
            file=doc.file,
        )
    url = _str(doc, m, "url", at)
    if not url.startswith("https://"):
        raise InvalidInputError(
            "expected an https URL", path=_path((*at, "url")), file=doc.file
        )
    return Instrument(
        id=_str(doc, m, "id", at),
        title=" ".join(_str(doc, m, "title", at).split()),
        version=_str(doc, m, "version", at),
        date=date,
        url=url,
    )


def _requirement(
    doc: YamlDoc,
    m: Any,
    at: tuple[str | int, ...],
    instruments: Mapping[str, Instrument],
) -> Requirement:
    if not isinstance(m, dict):
        raise InvalidInputError("expected a mapping", path=_path(at), file=doc.file)
    check_keys(
        doc,
        m,
        at=at,
        known=frozenset(
            {"id", "title", "confidence", "aliases", "source", "evidence", "note"}
        ),
        required=frozenset({"id", "title", "confidence"}),
    )
    rid = _str(doc, m, "id", at)
    match = _ID.match(rid)
    if match is None or match.group(1) not in instruments:
        raise InvalidInputError(
            f"{rid!r} is not <instrument>:<clause> of a listed instrument",
            path=_path((*at, "id")),
            file=doc.file,
        )
    try:
        confidence = Confidence(_str(doc, m, "confidence", at))
    except ValueError:
        raise InvalidInputError(
            f"expected one of {', '.join(c.value for c in Confidence)}",
            path=_path((*at, "confidence")),
            file=doc.file,
        ) from None
    aliases = m.get("aliases", [])
    if not isinstance(aliases, list) or not all(
        isinstance(a, str) and a for a in aliases
    ):
        raise InvalidInputError(
            "expected a list of strings", path=_path((*at, "aliases")), file=doc.file
        )
    instrument = instruments[match.group(1)]
    source = _str(doc, m, "source", at) or instrument.url
    return Requirement(
        id=rid,
        instrument=instrument,
        clause=match.group(2),
        title=" ".join(_str(doc, m, "title", at).split()),
        confidence=confidence,
        aliases=tuple(aliases),
        source=source,
        evidence=_str(doc, m, "evidence", at) or "checks",
        note=" ".join(_str(doc, m, "note", at).split()),
    )


def _id_map(
    doc: YamlDoc, key: str, known_ids: set[str], names: Iterable[str]
) -> dict[str, tuple[str, ...]]:
    value = doc.data.get(key)
    if not isinstance(value, dict):
        raise InvalidInputError("expected a mapping", path=key, file=doc.file)
    expected = set(names)
    for name, ids in value.items():
        at = (key, name)
        if name not in expected:
            raise InvalidInputError("not a known name", path=_path(at), file=doc.file)
        if not isinstance(ids, list) or not ids:
            raise InvalidInputError(
                "expected a non-empty list of requirement ids",
                path=_path(at),
                file=doc.file,
            )
        for n, i in enumerate(ids):
            if i not in known_ids:
                raise InvalidInputError(
                    f"unknown requirement id {i!r}",
                    path=_path((*at, n)),
                    file=doc.file,
                )
    missing = sorted(expected.difference(value))
    if missing:
        raise InvalidInputError(
            f"missing {missing[0]!r}: every one maps to requirement ids",
            path=key,
            file=doc.file,
        )
    return {name: tuple(ids) for name, ids in value.items()}


def parse_catalogue(raw: bytes, *, file: str) -> Catalogue:
    """Parse a catalogue document (safe YAML) into a :class:`Catalogue`.

    Raises:
        InvalidInputError: the document is malformed; an id is not
            ``<instrument>:<clause>`` of a listed instrument; an id or alias is
            used twice; a check or document kind is missing from the mapping or
            maps to an unknown id (the error names the file and field).

    """
    doc = parse_yaml_mapping(raw, file=file)
    top = frozenset(
        {
            "catalogue",
            "version",
            "date",
            "instruments",
            "requirements",
            "checks",
            "documents",
        }
    )
    check_keys(doc, doc.data, at=(), known=top, required=top)
    raw_instruments = doc.data["instruments"]
    raw_requirements = doc.data["requirements"]
    for key, value in (
        ("instruments", raw_instruments),
        ("requirements", raw_requirements),
    ):
        if not isinstance(value, list) or not value:
            raise InvalidInputError("expected a non-empty list", path=key, file=file)
    instruments: dict[str, Instrument] = {}
    for n, m in enumerate(raw_instruments):
        inst = _instrument(doc, m, ("instruments", n))
        if inst.id in instruments:
            raise InvalidInputError(
                f"duplicate instrument id {inst.id!r}",
                path=_path(("instruments", n, "id")),
                file=file,
            )
        instruments[inst.id] = inst
    requirements: list[Requirement] = []
    seen: set[str] = set()
    for n, m in enumerate(raw_requirements):
        req = _requirement(doc, m, ("requirements", n), instruments)
        for name in (req.id, *req.aliases):
            if name in seen:
                raise InvalidInputError(
                    f"id or alias {name!r} used twice",
                    path=_path(("requirements", n)),
                    file=file,
                )
            seen.add(name)
        requirements.append(req)
    ids = {r.id for r in requirements}
    checks = _id_map(doc, "checks", ids, (c.value for c in Check if not c.signer))
    documents = _id_map(doc, "documents", ids, DOCUMENT_REQUIREMENTS)
    mapped = {i for m in (checks, documents) for v in m.values() for i in v}
    for n, req in enumerate(requirements):
        if req.id not in mapped and "evidence" not in raw_requirements[n]:
            raise InvalidInputError(
                f"{req.id!r} maps to no check: say what evidences it (evidence)",
                path=_path(("requirements", n)),
                file=file,
            )
    return Catalogue(
        name=_str(doc, doc.data, "catalogue", ()),
        version=_str(doc, doc.data, "version", ()),
        date=_str(doc, doc.data, "date", ()),
        instruments=tuple(instruments.values()),
        requirements=tuple(requirements),
        checks=checks,
        documents=documents,
    )


@functools.cache
def catalogue() -> Catalogue:
    """The catalogue shipped with this version of vendorproof."""
    ref = resources.files("vendorproof").joinpath("requirements", CATALOGUE_FILE)
    return parse_catalogue(
        ref.read_bytes(), file=f"vendorproof/requirements/{CATALOGUE_FILE}"
    )
