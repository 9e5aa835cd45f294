"""Delivery formats: one adapter per format, each loading into the same ``Delivery``.

``detect(path)`` picks the adapter for an input; ``by_name(name)`` the adapter a
record names (replay). The adapter contract is :class:`~.base.DeliveryFormat`
(``docs/design.md``, "Delivery formats"). Readers that adapters build on:
``ziparchive`` (ZIP archives read without extracting them) and ``sol004`` (ETSI GS
NFV-SOL 004 packages).

An adapter's module is imported when detection reaches it or a record names it:
verifying an image layout does not load the ZIP and CMS stack, nor a CSAR the OCI
one.
"""

from __future__ import annotations

import functools
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, cast

from vendorproof.errors import InvalidInputError

if TYPE_CHECKING:
    from vendorproof.formats.base import DeliveryFormat

__all__ = ["ADAPTERS", "adapter", "all_formats", "by_name", "detect"]

#: Every delivery format, in detection order: name -> module and class of its
#: adapter.
ADAPTERS: dict[str, tuple[str, str]] = {
    "oci": ("vendorproof.formats.oci", "OciFormat"),
    "directory": ("vendorproof.formats.directory", "DirectoryFormat"),
    "sol004": ("vendorproof.formats.csar", "CsarFormat"),
}


@functools.cache
def adapter(name: str) -> DeliveryFormat:
    """The adapter of the format ``name`` (one of :data:`ADAPTERS`).

    Raises:
        KeyError: no format has that name.
    """
    module, cls = ADAPTERS[name]
    return cast("DeliveryFormat", getattr(import_module(module), cls)())


def all_formats() -> tuple[DeliveryFormat, ...]:
    """Every adapter, in detection order (imports all of them)."""
    return tuple(adapter(n) for n in ADAPTERS)


def detect(path: Path) -> DeliveryFormat:
    """The format of the delivery at ``path``.

    Raises:
        InvalidInputError: ``path`` cannot be read or is no known delivery format.
    """
    try:
        path.stat()
    except OSError as e:
        raise InvalidInputError(f"cannot read: {e.strerror}", file=str(path)) from e
    for name in ADAPTERS:
        fmt = adapter(name)
        if fmt.detect(path):
            return fmt
    raise InvalidInputError(
        f"not a delivery in a known format ({', '.join(ADAPTERS)})", file=str(path)
    )


def by_name(name: str) -> DeliveryFormat:
    """The adapter a report or record names.

    Raises:
        InvalidInputError: no adapter has that name.
    """
    if name not in ADAPTERS:
        raise InvalidInputError(
            f"unknown delivery format {name!r}", path="delivery.format"
        )
    return adapter(name)
