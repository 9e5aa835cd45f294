"""JSON Schemas (draft 2020-12) of the documents vendorproof reads and writes.

Each schema lives next to this module as ``<name>.schema.json`` with the ``$id``
``https://vendorproof.dev/schemas/<name>.schema.json``. They describe the same rules as
the parsers in ``vendorproof.models`` (and the report of ``vendorproof verify``), so
vendors, certification bodies and operators can check documents with any JSON Schema
validator; rules a schema cannot express (cross-field comparisons, unique ids, calendar
validity) are named in its ``$comment`` fields and enforced by the parsers.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

__all__ = ["SCHEMA_BASE_URI", "SCHEMA_NAMES", "load_schema"]

SCHEMA_BASE_URI = "https://vendorproof.dev/schemas/"

#: Every schema shipped with the package.
SCHEMA_NAMES: tuple[str, ...] = (
    "bundle",
    "certification",
    "component-manifest",
    "installed-state",
    "policy",
    "report",
    "trust-declaration",
)


def load_schema(name: str) -> dict[str, Any]:
    """Load one of the packaged JSON Schemas.

    Args:
        name: a schema name from ``SCHEMA_NAMES``, e.g. ``"report"``.

    Returns:
        A new dict holding the schema (callers may modify it).

    Raises:
        ValueError: ``name`` is not one of ``SCHEMA_NAMES``.
    """
    if name not in SCHEMA_NAMES:
        raise ValueError(f"unknown schema {name!r} (known: {', '.join(SCHEMA_NAMES)})")
    text = (
        resources.files(__name__)
        .joinpath(f"{name}.schema.json")
        .read_text(encoding="utf-8")
    )
    schema: dict[str, Any] = json.loads(text)
    return schema
