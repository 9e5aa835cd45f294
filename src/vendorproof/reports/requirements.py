"""The requirement catalogue as JSON and as CycloneDX 1.6 ``definitions.standards``.

:func:`catalogue_dict` is vendorproof's own JSON view (``report catalogue --format
json``); :func:`catalogue_bom_json` the CycloneDX export.

Built with ``cyclonedx-python-lib`` (the CycloneDX project's own Python library), so
the document is serialised by the same code that tracks the specification. Each
instrument is one standard (name, version, owner, its URL as a documentation
reference); each catalogue entry is one of its requirements, with the catalogue id
as ``identifier``, the title, the source as an external reference and vendorproof's
reading as properties (``vendorproof:confidence``, ``vendorproof:aliases``,
``vendorproof:checks``). The output is reproducible: the serial number is derived
from the catalogue's name and version, the timestamp is the catalogue's date.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from vendorproof.models.requirements import Catalogue, Instrument

__all__ = ["catalogue_bom_json", "catalogue_dict"]

#: The namespace of the serial numbers of catalogue exports (uuid5 of the name).
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://vendorproof.dev/requirements")


def _timestamp(date: str) -> datetime:
    parts = [int(p) for p in date.split("-")] if date != "unknown" else [1970]
    year, month, day = (*parts, 1, 1)[:3]
    return datetime(year, month, day, tzinfo=UTC)


def _owner(instrument: Instrument) -> str:
    return instrument.title.split(",", 1)[0]


def catalogue_dict(cat: Catalogue) -> dict[str, Any]:
    """The catalogue as plain JSON data, each requirement with the checks serving it."""
    return {
        "catalogue": cat.name,
        "version": cat.version,
        "date": cat.date,
        "instruments": [
            {
                "id": i.id,
                "title": i.title,
                "version": i.version,
                "date": i.date,
                "url": i.url,
            }
            for i in cat.instruments
        ],
        "requirements": [
            {
                "id": r.id,
                "instrument": r.instrument.id,
                "clause": r.clause,
                "title": r.title,
                "confidence": r.confidence.value,
                "aliases": list(r.aliases),
                "source": r.source,
                "evidence": r.evidence,
                "note": r.note,
                "checks": list(cat.checks_for(r.id)),
            }
            for r in cat.requirements
        ],
    }


def catalogue_bom_json(cat: Catalogue) -> str:
    """The catalogue as a CycloneDX 1.6 JSON document (``definitions.standards``)."""
    from cyclonedx.model import (
        ExternalReference,
        ExternalReferenceType,
        Property,
        XsUri,
    )
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.definition import Definitions, Requirement, Standard
    from cyclonedx.output.json import JsonV1Dot6

    standards = []
    for inst in cat.instruments:
        reqs = []
        for r in cat.requirements:
            if r.instrument.id != inst.id:
                continue
            props = [
                Property(name="vendorproof:confidence", value=r.confidence.value),
                Property(name="vendorproof:evidence", value=r.evidence),
            ]
            if r.aliases:
                props.append(
                    Property(name="vendorproof:aliases", value=" ".join(r.aliases))
                )
            checks = cat.checks_for(r.id)
            if checks:
                props.append(
                    Property(name="vendorproof:checks", value=" ".join(checks))
                )
            if r.note:
                props.append(Property(name="vendorproof:note", value=r.note))
            reqs.append(
                Requirement(
                    bom_ref=f"requirement:{r.id}",
                    identifier=r.id,
                    title=r.title,
                    text=r.title,
                    properties=props,
                    external_references=[
                        ExternalReference(
                            type=ExternalReferenceType.DOCUMENTATION,
                            url=XsUri(r.source),
                        )
                    ],
                )
            )
        standards.append(
            Standard(
                bom_ref=f"standard:{inst.id}",
                name=inst.title,
                version=inst.version,
                description=f"{inst.title} (version {inst.version}, {inst.date})",
                owner=_owner(inst),
                requirements=reqs,
                external_references=[
                    ExternalReference(
                        type=ExternalReferenceType.DOCUMENTATION, url=XsUri(inst.url)
                    )
                ],
            )
        )
    bom = Bom(
        serial_number=uuid.uuid5(_NAMESPACE, f"{cat.name}:{cat.version}"),
        metadata=BomMetaData(
            timestamp=_timestamp(cat.date),
            properties=[
                Property(name="vendorproof:catalogue", value=cat.name),
                Property(name="vendorproof:catalogue-version", value=cat.version),
            ],
        ),
        definitions=Definitions(standards=standards),
    )
    text: str = JsonV1Dot6(bom).output_as_string(indent=2)
    return text
