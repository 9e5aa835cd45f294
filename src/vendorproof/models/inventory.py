"""The operator's deployment inventory: what runs where, from CSV, TMF639 or CycloneDX.

Every format is read into the same rows: vendor (as the inventory names it), product,
version, domain (RAN, Core, Transport, OAM), network function, instance count and an
optional declared capacity, plus the instance id when the format has one. Bad rows
are errors naming the file and the row (a negative or non-numeric count or capacity,
a count of more than 12 digits, a capacity above 10^15 or with more than 12 decimal
places, a duplicate instance id, an unknown domain, a missing column); nothing is
dropped. Counts are written in ASCII digits.

- CSV (RFC 4180, UTF-8, header row): columns ``vendor``, ``product``, ``version``,
  ``domain``, ``networkFunction``, ``instances``; optional ``id`` and ``capacity``.
- TM Forum TMF639 Resource JSON (a list of resources, or ``{"resources": [...]}``):
  ``id``, ``name`` (product), ``resourceVersion``, the ``relatedParty`` whose role is
  ``manufacturer``, and ``resourceCharacteristic`` entries ``domain``,
  ``networkFunction``, ``instances`` (default 1) and ``capacity``.
- CycloneDX JSON (``components``): ``manufacturer.name`` or else ``supplier.name``,
  ``name``, ``version``, ``bom-ref`` as id, and properties ``vendorproof:domain``,
  ``vendorproof:networkFunction``, ``vendorproof:instances`` (default 1) and
  ``vendorproof:capacity``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from vendorproof._internal.jsonio import parse_json
from vendorproof._internal.text import shorten
from vendorproof.errors import InvalidInputError

__all__ = ["DOMAINS", "Inventory", "InventoryRow", "parse_inventory"]

DOMAINS = ("RAN", "Core", "Transport", "OAM")
_DOMAIN = {d.lower(): d for d in DOMAINS}
CSV_COLUMNS = ("vendor", "product", "version", "domain", "networkFunction", "instances")
MAX_ROWS = 100_000
#: An instance count has at most this many digits.
MAX_COUNT_DIGITS = 12
#: A declared capacity is at most this, with at most this many decimal places.
MAX_CAPACITY = Decimal(10**15)
MAX_CAPACITY_DECIMALS = 12


@dataclass(frozen=True, slots=True, kw_only=True)
class InventoryRow:
    """One deployed product in one network function."""

    where: str  # "row 3", "resources[2]", "components[0]"
    instance_id: str
    vendor: str
    product: str
    version: str
    domain: str
    network_function: str
    instances: int
    capacity: Decimal | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Inventory:
    """The parsed inventory and the format it came in."""

    format: str
    rows: tuple[InventoryRow, ...]

    @property
    def capacity_declared(self) -> bool:
        """Whether every row declares a capacity (then shares weigh capacity)."""
        return bool(self.rows) and all(r.capacity is not None for r in self.rows)


def _text(value: object, field: str, where: str, file: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(
            f"{where}: {field} must be a non-empty string", file=file
        )
    return value.strip()


def _count(value: object, field: str, where: str, file: str) -> int:
    text = str(value).strip() if isinstance(value, (str, int)) else ""
    # ASCII digits only: str.isdigit also accepts superscripts and circled digits,
    # which int() refuses, and other scripts' digits, which no inventory writes.
    digits = text.isascii() and text.isdigit()
    if isinstance(value, bool) or not digits or len(text) > MAX_COUNT_DIGITS:
        raise InvalidInputError(
            f"{where}: {field} must be a whole number of at least 0, got {value!r}",
            file=file,
        )
    return int(text)


def _decimals(number: Decimal) -> int:
    """Decimal places of a finite ``number`` of at most 10^15 (trailing zeros aside)."""
    _, digits, exponent = number.as_tuple()
    places = -exponent if isinstance(exponent, int) else 0  # always int: finite
    text = "".join(map(str, digits)).rstrip("0")
    if not text:
        return 0  # zero, whatever its exponent
    return max(0, places - (len(digits) - len(text)))


def _capacity(value: object, where: str, file: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InvalidInputError(f"{where}: capacity must be a number", file=file)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidInputError(
            f"{where}: capacity must be a number, got {value!r}", file=file
        ) from None
    if not number.is_finite() or number < 0:
        raise InvalidInputError(
            f"{where}: capacity must be a finite number of at least 0, got {value!r}",
            file=file,
        )
    # Shares are exact fractions of the capacities: an exponent such as 1E999999999
    # would make them numbers of a billion digits (and no float can show them).
    if number > MAX_CAPACITY or _decimals(number) > MAX_CAPACITY_DECIMALS:
        raise InvalidInputError(
            f"{where}: capacity must be at most {MAX_CAPACITY:,} with at most "
            f"{MAX_CAPACITY_DECIMALS} decimal places, got {shorten(str(value), 40)!r}",
            file=file,
        )
    return number


def _row(fields: Mapping[str, object], where: str, file: str) -> InventoryRow:
    domain = _text(fields.get("domain"), "domain", where, file)
    if domain.lower() not in _DOMAIN:
        raise InvalidInputError(
            f"{where}: domain must be one of {', '.join(DOMAINS)}, got {domain!r}",
            file=file,
        )
    instance_id = fields.get("id")
    return InventoryRow(
        where=where,
        instance_id=str(instance_id).strip() if instance_id not in (None, "") else "",
        vendor=_text(fields.get("vendor"), "vendor", where, file),
        product=_text(fields.get("product"), "product", where, file),
        version=_text(fields.get("version"), "version", where, file),
        domain=_DOMAIN[domain.lower()],
        network_function=_text(
            fields.get("networkFunction"), "networkFunction", where, file
        ),
        instances=_count(fields.get("instances", 1), "instances", where, file),
        capacity=_capacity(fields.get("capacity"), where, file),
    )


def _csv(raw: bytes, file: str) -> list[InventoryRow]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InvalidInputError(f"not valid UTF-8 (byte {e.start})", file=file) from e
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    rows = []
    # Every read of the reader, the header's included, can meet malformed CSV.
    try:
        header = reader.fieldnames or []
        missing = [c for c in CSV_COLUMNS if c not in header]
        if missing:
            raise InvalidInputError(f"missing CSV column {missing[0]!r}", file=file)
        for n, record in enumerate(reader, start=2):
            if None in record:
                raise InvalidInputError(f"row {n}: more fields than columns", file=file)
            rows.append(_row(record, f"row {n}", file))
    except csv.Error as e:
        raise InvalidInputError(f"not valid CSV ({e})", file=file) from e
    return rows


def _characteristics(
    resource: Mapping[str, Any], where: str, file: str
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    chars = resource.get("resourceCharacteristic", [])
    if not isinstance(chars, list):
        raise InvalidInputError(
            f"{where}.resourceCharacteristic: expected a list", file=file
        )
    for c in chars:
        if isinstance(c, dict) and isinstance(c.get("name"), str):
            values[c["name"]] = c.get("value")
    return values


def _tmf639(items: list[Any], file: str) -> list[InventoryRow]:
    rows = []
    for n, resource in enumerate(items):
        where = f"resources[{n}]"
        if not isinstance(resource, dict):
            raise InvalidInputError(f"{where}: expected an object", file=file)
        parties = resource.get("relatedParty", [])
        if not isinstance(parties, list):
            raise InvalidInputError(f"{where}.relatedParty: expected a list", file=file)
        makers = [
            p.get("name")
            for p in parties
            if isinstance(p, dict) and p.get("role") == "manufacturer"
        ]
        chars = _characteristics(resource, where, file)
        rows.append(
            _row(
                {
                    "id": resource.get("id"),
                    "vendor": makers[0] if makers else None,
                    "product": resource.get("name"),
                    "version": resource.get("resourceVersion"),
                    "domain": chars.get("domain"),
                    "networkFunction": chars.get("networkFunction"),
                    "instances": chars.get("instances", 1),
                    "capacity": chars.get("capacity"),
                },
                where,
                file,
            )
        )
    return rows


def _cyclonedx(components: list[Any], file: str) -> list[InventoryRow]:
    rows = []
    for n, comp in enumerate(components):
        where = f"components[{n}]"
        if not isinstance(comp, dict):
            raise InvalidInputError(f"{where}: expected an object", file=file)
        party = comp.get("manufacturer") or comp.get("supplier") or {}
        # A property is a name (a string, CycloneDX 1.6 "property") and a value;
        # anything else names nothing this reader looks up.
        props = (
            {
                p["name"]: p.get("value")
                for p in comp.get("properties", [])
                if isinstance(p, dict) and isinstance(p.get("name"), str)
            }
            if isinstance(comp.get("properties", []), list)
            else {}
        )
        rows.append(
            _row(
                {
                    "id": comp.get("bom-ref"),
                    "vendor": party.get("name") if isinstance(party, dict) else None,
                    "product": comp.get("name"),
                    "version": comp.get("version"),
                    "domain": props.get("vendorproof:domain"),
                    "networkFunction": props.get("vendorproof:networkFunction"),
                    "instances": props.get("vendorproof:instances", 1),
                    "capacity": props.get("vendorproof:capacity"),
                },
                where,
                file,
            )
        )
    return rows


def _json(raw: bytes, file: str) -> tuple[str, list[InventoryRow]]:
    data = parse_json(raw, file=file)
    if isinstance(data, dict) and data.get("bomFormat") == "CycloneDX":
        components = data.get("components", [])
        if not isinstance(components, list):
            raise InvalidInputError("components: expected a list", file=file)
        return "cyclonedx", _cyclonedx(components, file)
    if isinstance(data, dict) and isinstance(data.get("resources"), list):
        return "tmf639", _tmf639(data["resources"], file)
    if isinstance(data, list):
        return "tmf639", _tmf639(data, file)
    raise InvalidInputError(
        "expected CSV, a TMF639 resource list or a CycloneDX BOM", file=file
    )


def _no_duplicates(rows: Iterable[InventoryRow], file: str) -> None:
    seen: dict[str, str] = {}
    for r in rows:
        if not r.instance_id:
            continue
        if r.instance_id in seen:
            raise InvalidInputError(
                f"{r.where}: duplicate instance id {r.instance_id!r} "
                f"(also {seen[r.instance_id]})",
                file=file,
            )
        seen[r.instance_id] = r.where


def parse_inventory(raw: bytes, *, file: str) -> Inventory:
    """Parse an inventory (CSV, TMF639 JSON or CycloneDX JSON, told apart by content).

    Raises:
        InvalidInputError: the document or a row is malformed (names file and row).

    """
    if raw.lstrip()[:1] in (b"{", b"["):
        fmt, rows = _json(raw, file)
    else:
        fmt, rows = "csv", _csv(raw, file)
    if not rows:
        raise InvalidInputError("the inventory lists no deployed product", file=file)
    if len(rows) > MAX_ROWS:
        raise InvalidInputError(f"more than {MAX_ROWS} rows", file=file)
    _no_duplicates(rows, file)
    return Inventory(format=fmt, rows=tuple(rows))
