"""Rows of public certificate registers, as the source of a transcription.

Two formats are read:

- ``cc-portal``: the product list of the Common Criteria portal
  (commoncriteriaportal.org, ``cc_products_active.csv`` / ``cc_products_archived.csv``):
  columns ``Category, Name, Manufacturer, Scheme, Assurance Level, Protection
  Profile(s), Certification Date, Archived Date, Certification Report URL, ...``; dates
  are ``MM/DD/YYYY``, names may hold HTML character references (``&#x2f;``), and
  ``Scheme`` is the issuing country's scheme (``DE``, ``FR``, ...), so every row is of
  the scheme ``CC``. The portal lists no certificate id: it must be given.
- ``vendorproof``: our own CSV (header row) or JSON (a list of objects) for registers
  that publish no machine-readable list (NESAS, BSI): ``scheme, certificateId,
  certificationBody, holder, product, versions`` (``;``-separated in CSV),
  ``assuranceLevel, issued, validFrom, validUntil, statusUrl``; times RFC 3339.

A row only fills in a transcription (``vendorproof certification record --from-row``);
it is never evidence by itself. Every error names the file, the line (CSV) or index
(JSON) and the column.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from vendorproof._internal.jsonio import parse_json
from vendorproof.errors import InvalidInputError
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models import _fields as f
from vendorproof.models.certification import KNOWN_SCHEMES, check_certificate_id

__all__ = ["FORMATS", "MAX_ROWS", "RegisterRow", "read_register"]

FORMATS = ("cc-portal", "vendorproof")
#: A register file holds at most this many rows (the CC portal lists ~6000).
MAX_ROWS = 100_000
_MAX_FIELD = 4096

_CC_COLUMNS = (
    "Name",
    "Manufacturer",
    "Scheme",
    "Assurance Level",
    "Certification Date",
    "Archived Date",
    "Certification Report URL",
)
_OWN = (
    "scheme",
    "certificateId",
    "certificationBody",
    "holder",
    "product",
    "versions",
    "assuranceLevel",
    "issued",
    "validFrom",
    "validUntil",
    "statusUrl",
)
_OWN_REQUIRED = frozenset(
    {"scheme", "certificateId", "holder", "product", "validFrom", "validUntil"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterRow:
    """What one register row says (``None``: the register does not say)."""

    where: str  # "file:line N" or "file[i]"
    scheme: str
    certificate_id: str | None
    body_name: str | None
    holder_name: str
    product: str
    versions: tuple[str, ...]
    assurance_level: str | None
    issued: datetime | None
    valid_from: datetime
    valid_until: datetime | None
    status_url: str | None
    #: The register's own scheme column (the CC portal's issuing country).
    national_scheme: str | None = None


def read_register(
    raw: bytes, *, fmt: str, file: str, limits: Limits = DEFAULT_LIMITS
) -> tuple[RegisterRow, ...]:
    """Every row of a register file.

    Raises:
        InvalidInputError: an unknown format, a malformed file or row (naming the
            file, the line or index and the column).
    """
    if fmt == "cc-portal":
        return tuple(_cc_portal(_text(raw, file), file))
    if fmt == "vendorproof":
        if raw.lstrip()[:1] in (b"[", b"{"):
            return tuple(_own_json(raw, file, limits))
        return tuple(_own_csv(_text(raw, file), file))
    raise InvalidInputError(
        f"unknown register format {fmt!r} (known: {', '.join(FORMATS)})",
        path="--row-format",
    )


def _text(raw: bytes, file: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InvalidInputError(f"not UTF-8 text (byte {e.start})", file=file) from None


def _rows(
    text: str, file: str, required: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) of a CSV file with a header naming at least ``required``."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise InvalidInputError("empty register file", file=file)
        missing = [c for c in required if c not in header]
        if missing:
            raise InvalidInputError(
                f"the header lacks column(s) {', '.join(missing)}",
                file=file,
                path="line 1",
            )
        for count, values in enumerate(reader, start=1):
            line = reader.line_num
            if count > MAX_ROWS:
                raise InvalidInputError(f"more than {MAX_ROWS} rows", file=file)
            if not values:
                continue
            if len(values) != len(header):
                raise InvalidInputError(
                    f"{len(values)} fields, the header has {len(header)}",
                    file=file,
                    path=f"line {line}",
                )
            if any(len(v) > _MAX_FIELD for v in values):
                raise InvalidInputError(
                    f"a field longer than {_MAX_FIELD} characters",
                    file=file,
                    path=f"line {line}",
                )
            yield line, dict(zip(header, values, strict=True))
    except csv.Error as e:
        raise InvalidInputError(
            f"malformed CSV: {e}", file=file, path=f"line {reader.line_num}"
        ) from None


def _cc_date(value: str, file: str, where: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        return datetime.strptime(value.strip(), "%m/%d/%Y").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInputError(
            f"expected a date MM/DD/YYYY, got {value!r}", file=file, path=where
        ) from None


def _cc_portal(text: str, file: str) -> Iterator[RegisterRow]:
    for line, row in _rows(text, file, _CC_COLUMNS):
        at = f"line {line}"
        name = html.unescape(row["Name"]).strip()
        maker = html.unescape(row["Manufacturer"]).strip()
        if not name or not maker:
            raise InvalidInputError(
                "Name and Manufacturer must not be empty", file=file, path=at
            )
        issued = _cc_date(row["Certification Date"], file, f"{at}, Certification Date")
        if issued is None:
            raise InvalidInputError(
                "Certification Date is empty",
                file=file,
                path=f"{at}, Certification Date",
            )
        until = _cc_date(row["Archived Date"], file, f"{at}, Archived Date")
        if until is not None and until <= issued:
            raise InvalidInputError(
                "the Archived Date is not after the Certification Date (a validity "
                "window that ends before it starts)",
                file=file,
                path=f"{at}, Archived Date",
            )
        level = row["Assurance Level"].strip()
        yield RegisterRow(
            where=f"{file}:line {line}",
            scheme="CC",
            certificate_id=None,
            body_name=None,
            holder_name=maker,
            product=name,
            versions=(),
            assurance_level=None if level in ("", "None") else level,
            issued=issued,
            valid_from=issued,
            valid_until=until,
            status_url=row["Certification Report URL"].strip() or None,
            national_scheme=row["Scheme"].strip() or None,
        )


def _own(d: Mapping[str, Any], at: str, file: str) -> RegisterRow:
    try:
        f.reject_unknown(d, frozenset(_OWN))
        for key in sorted(_OWN_REQUIRED):
            if d.get(key) in (None, ""):
                raise InvalidInputError("required field is missing", path=key)
        scheme = f.require_str(d, "scheme")
        if scheme not in KNOWN_SCHEMES:
            known = ", ".join(sorted(KNOWN_SCHEMES))
            raise InvalidInputError(
                f"unknown scheme {scheme!r} (known: {known})", path="scheme"
            )
        versions = d.get("versions") or []
        if isinstance(versions, str):
            versions = [v.strip() for v in versions.split(";") if v.strip()]
        listed = tuple(f.text_item(v) for v in f.check_type(versions, list, "versions"))
        valid_from = f.require_time(d, "validFrom")
        valid_until = f.require_time(d, "validUntil")
        if valid_until <= valid_from:
            raise InvalidInputError(
                "the validity window ends before it starts", path="validUntil"
            )
        issued = f.require_time(d, "issued") if d.get("issued") else None
        certificate_id = f.require_str(d, "certificateId")
        check_certificate_id(scheme, certificate_id, issued)
        return RegisterRow(
            where=f"{file}:{at}",
            scheme=scheme,
            certificate_id=certificate_id,
            body_name=f.optional_str(d, "certificationBody") or None,
            holder_name=f.require_str(d, "holder"),
            product=f.require_str(d, "product"),
            versions=listed,
            assurance_level=f.optional_str(d, "assuranceLevel") or None,
            issued=issued,
            valid_from=valid_from,
            valid_until=valid_until,
            status_url=f.optional_str(d, "statusUrl") or None,
        )
    except InvalidInputError as e:
        raise InvalidInputError(e.message, file=file, path=f"{at}, {e.path}") from None


def _own_csv(text: str, file: str) -> Iterator[RegisterRow]:
    for line, row in _rows(text, file, tuple(sorted(_OWN_REQUIRED))):
        # An empty CSV cell is a field the register does not give.
        present = {k: v for k, v in row.items() if v.strip()}
        yield _own(present, f"line {line}", file)


def _own_json(raw: bytes, file: str, limits: Limits) -> Iterator[RegisterRow]:
    data = parse_json(raw, file=file, limits=limits)
    items = f.check_type(data, list, "")
    if len(items) > MAX_ROWS:
        raise InvalidInputError(f"more than {MAX_ROWS} rows", file=file)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidInputError("expected an object", file=file, path=f"[{i}]")
        yield _own(item, f"[{i}]", file)
