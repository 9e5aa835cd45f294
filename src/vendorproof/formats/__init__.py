"""Delivery formats: one adapter per format, each loading into the same ``Delivery``.

``detect(path)`` picks the adapter for an input; ``by_name(name)`` the adapter a
record names (replay). The adapter contract is :class:`~.base.DeliveryFormat`
(``docs/design.md``, "Delivery formats"). Readers that adapters build on:
``ziparchive`` (ZIP archives read without extracting them) and ``sol004`` (ETSI GS
NFV-SOL 004 packages).
"""

from __future__ import annotations

from pathlib import Path

from vendorproof.errors import InvalidInputError
from vendorproof.formats.base import DeliveryFormat
from vendorproof.formats.csar import CsarFormat
from vendorproof.formats.directory import DirectoryFormat
from vendorproof.formats.oci import OciFormat

__all__ = ["FORMATS", "by_name", "detect"]

#: Every delivery format, in detection order.
FORMATS: tuple[DeliveryFormat, ...] = (OciFormat(), DirectoryFormat(), CsarFormat())


def detect(path: Path) -> DeliveryFormat:
    """The format of the delivery at ``path``.

    Raises:
        InvalidInputError: ``path`` cannot be read or is no known delivery format.
    """
    try:
        path.stat()
    except OSError as e:
        raise InvalidInputError(f"cannot read: {e.strerror}", file=str(path)) from e
    for fmt in FORMATS:
        if fmt.detect(path):
            return fmt
    names = ", ".join(f.name for f in FORMATS)
    raise InvalidInputError(
        f"not a delivery in a known format ({names})", file=str(path)
    )


def by_name(name: str) -> DeliveryFormat:
    """The adapter a report or record names.

    Raises:
        InvalidInputError: no adapter has that name.
    """
    for fmt in FORMATS:
        if fmt.name == name:
            return fmt
    raise InvalidInputError(f"unknown delivery format {name!r}", path="delivery.format")
