"""Typed field accessors and error locations for every document parsed at the edge.

One mechanism for the predicates (JSON) and the operator policy (YAML):

- **Accessors** check one value (``check_type``, ``check_text``, ``check_int``,
  ``check_choice``, ``check_time``) or one field of a mapping (``require``, ``get``,
  ``require_str``, ``parse_list``, ...). They never mutate the input and reject
  ``bool`` where an ``int`` is expected (JSON keeps the two apart, Python does not).
- **Locations** are paths of keys and array indexes (``Path``), rendered one way
  (``vendors[0].anchors``, odd keys quoted: ``digest["sha-256 x"]``). An accessor
  raises ``InvalidInputError`` located relative to the value it was given; whoever
  knows where that value sits moves the error there with ``relocate`` (``parse_list``
  and ``parse_object`` do so for their items, the policy parser for every field).
  A document that knows its source lines adds the line at that point
  (``YamlDoc.locate``): a policy error reads ``vendors[0].anchors[1]: ... (line 12)``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeAlias, TypeVar

from vendorproof._internal.jsonio import render_path
from vendorproof._internal.text import shorten
from vendorproof.errors import InvalidInputError

#: Where a field sits: keys and array indexes from the value being parsed.
Path: TypeAlias = tuple[str | int, ...]

_T = TypeVar("_T")
_U = TypeVar("_U")

_TYPE_NAMES = {
    str: "string",
    int: "integer",
    bool: "boolean",
    dict: "object",
    list: "array",
    float: "number",
}


def _name(typ: type) -> str:
    return _TYPE_NAMES.get(typ, typ.__name__)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    return _name(type(value))


def error(message: str, at: Path = ()) -> InvalidInputError:
    """An error at ``at`` (relative to the value being parsed)."""
    return InvalidInputError(message, path=render_path(at) or None)


def relocate(e: InvalidInputError, at: Path) -> InvalidInputError:
    """Return ``e`` (located relative to a value) located where that value sits."""
    return e.under(render_path(at)) if at else e


def join(parent: str, at: Path) -> str:
    """The rendered path of ``at`` below the rendered path ``parent``."""
    child = render_path(at)
    if not parent or not child:
        return parent or child
    return parent + child if child.startswith("[") else f"{parent}.{child}"


def check_type(value: object, typ: type[_T], path: str) -> _T:
    """Return ``value`` if it is of JSON type ``typ``, else raise with ``path``."""
    if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
        raise InvalidInputError(
            f"expected {_name(typ)}, got {_json_type(value)}", path=path
        )
    return value


def get(d: Mapping[str, Any], key: str, typ: type[_T]) -> _T | None:
    """Return ``d[key]`` checked against ``typ``, or ``None`` when absent or null."""
    value = d.get(key)
    if value is None:
        return None
    return check_type(value, typ, key)


def require(d: Mapping[str, Any], key: str, typ: type[_T]) -> _T:
    """Return ``d[key]`` checked against ``typ``; a missing key is an error."""
    value = get(d, key, typ)
    if value is None:
        raise InvalidInputError("required field is missing", path=key)
    return value


def require_int(d: Mapping[str, Any], key: str, *, minimum: int) -> int:
    """Return a required integer of at least ``minimum``."""
    return check_int(require(d, key, int), key, minimum=minimum)


def require_str(d: Mapping[str, Any], key: str, *, max_len: int = 4096) -> str:
    """Return a required non-empty string."""
    value = require(d, key, str)
    if not value.strip():
        raise InvalidInputError("must not be empty", path=key)
    if len(value) > max_len:
        raise InvalidInputError(f"longer than {max_len} characters", path=key)
    return value


def optional_str(d: Mapping[str, Any], key: str, *, max_len: int = 4096) -> str | None:
    """Return an optional string (``None`` when absent)."""
    if d.get(key) is None:
        return None
    return require_str(d, key, max_len=max_len)


def check_text(value: object, path: str = "") -> str:
    """Return ``value`` if it is a string that is not blank."""
    text = check_type(value, str, path)
    if not text.strip():
        raise InvalidInputError("must not be empty", path=path or None)
    return text


def text_item(value: Any) -> str:
    """Parse one non-empty string item of an array (for ``parse_list``)."""
    return check_text(value)


def check_int(value: object, path: str = "", *, minimum: int) -> int:
    """Return ``value`` if it is an integer (not a boolean) of at least ``minimum``."""
    number = check_type(value, int, path)
    if number < minimum:
        raise InvalidInputError(f"must be >= {minimum}", path=path or None)
    return number


def check_choice(value: object, allowed: Sequence[str], path: str = "") -> str:
    """Return ``value`` if it is one of ``allowed`` (listed in the error, in order)."""
    choices = ", ".join(allowed)
    if not isinstance(value, str):
        raise InvalidInputError(
            f"expected one of: {choices}, got {_json_type(value)}", path=path or None
        )
    if value not in allowed:
        raise InvalidInputError(
            f"{value!r} is not one of: {choices}", path=path or None
        )
    return value


def check_time(value: object, path: str = "") -> datetime:
    """Return an RFC 3339 time with offset as an aware UTC datetime.

    YAML reads an unquoted timestamp as a ``datetime``; one with an offset is taken
    as is, one without is refused like its text would be.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidInputError(
                "timestamp needs an explicit offset (e.g. Z)", path=path or None
            )
        return value.astimezone(UTC)
    if not isinstance(value, str):
        raise InvalidInputError(
            f"expected an RFC 3339 time, got {_json_type(value)}", path=path or None
        )
    return parse_time(value, path)


def require_mapping(d: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """Return a required JSON object."""
    return require(d, key, dict)


def parse_list(
    d: Mapping[str, Any],
    key: str,
    item: Callable[[Any], _U],
    *,
    required: bool = True,
    non_empty: bool = False,
    max_items: int | None = None,
) -> tuple[_U, ...]:
    """Parse the array ``d[key]`` with ``item``, locating errors as ``key[i]``."""
    raw = require(d, key, list) if required else (get(d, key, list) or [])
    if non_empty and not raw:
        raise InvalidInputError("must not be empty", path=key)
    if max_items is not None and len(raw) > max_items:
        raise InvalidInputError(f"more than {max_items} entries", path=key)
    out: list[_U] = []
    for i, value in enumerate(raw):
        try:
            out.append(item(value))
        except InvalidInputError as e:
            raise relocate(e, (key, i)) from e
    return tuple(out)


def parse_object(
    d: Mapping[str, Any], key: str, parse: Callable[[Mapping[str, Any]], _U]
) -> _U:
    """Parse the required object ``d[key]`` with ``parse``; errors under ``key``."""
    value = require_mapping(d, key)
    try:
        return parse(value)
    except InvalidInputError as e:
        raise relocate(e, (key,)) from e


def reject_unknown(d: Mapping[str, Any], known: frozenset[str]) -> None:
    """Reject keys outside ``known`` (for our own schemas: a typo must fail closed)."""
    if unknown := sorted(set(d) - known):
        raise InvalidInputError(f"unknown field(s): {', '.join(map(repr, unknown))}")


#: RFC 3339 §5.6 ``date-time`` (ASCII digits only: ``\d`` alone matches any script's).
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$",
    re.ASCII,
)


def parse_time(value: str, path: str) -> datetime:
    """Parse an RFC 3339 time with an explicit offset into an aware UTC datetime."""
    if not _RFC3339.fullmatch(value):
        raise InvalidInputError(
            "not an RFC 3339 time with offset (e.g. 2026-06-01T00:00:00Z): "
            f"{shorten(value, 64, one_line=False)!r}",
            path=path,
        )
    text = value.upper().replace("Z", "+00:00")
    # Python accepts at most 6 fractional digits.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = head + "." + rest[:digits][:6].ljust(6, "0") + rest[digits:]
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except (ValueError, OverflowError) as e:
        raise InvalidInputError(f"invalid time {value!r}: {e}", path=path) from e


def require_time(d: Mapping[str, Any], key: str) -> datetime:
    """Return a required RFC 3339 time field."""
    return parse_time(require(d, key, str), key)


def format_time(t: datetime) -> str:
    """Render an aware datetime as RFC 3339 UTC with a ``Z`` suffix."""
    if t.tzinfo is None:
        msg = "naive datetime"
        raise ValueError(msg)
    t = t.astimezone(UTC)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if t.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return t.strftime(fmt)


_URL_SAFE = str.maketrans("-_", "+/")


def b64decode(value: str, path: str) -> bytes:
    """Strictly decode canonical base64 (RFC 4648 §4, or the URL-safe alphabet of §5).

    Refused: characters outside the alphabet (whitespace included), both alphabets in
    one value, a length that is not a multiple of four (missing or excess padding),
    and any encoding other than the canonical one of the decoded bytes (padding
    inside the value, non-zero trailing bits), so every byte string has exactly one
    accepted spelling per alphabet.
    """
    text = value
    if "-" in text or "_" in text:
        if "+" in text or "/" in text:
            raise InvalidInputError("invalid base64: mixes two alphabets", path=path)
        text = text.translate(_URL_SAFE)
    if len(text) % 4:
        raise InvalidInputError(
            f"invalid base64: length {len(text)} is not a multiple of 4 "
            "(missing or excess padding)",
            path=path,
        )
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise InvalidInputError(f"invalid base64: {e}", path=path) from e
    if base64.b64encode(data).decode("ascii") != text:
        raise InvalidInputError(
            "invalid base64: not the canonical encoding (misplaced padding or "
            "non-zero trailing bits)",
            path=path,
        )
    return data


def b64encode(data: bytes) -> str:
    """Encode standard base64 with padding."""
    return base64.b64encode(data).decode("ascii")


def require_b64(d: Mapping[str, Any], key: str) -> bytes:
    """Return the bytes of a required base64 field."""
    return b64decode(require(d, key, str), key)


def unique(items: Sequence[_T], key: Callable[[_T], object], path: str) -> None:
    """Reject duplicate entries by ``key``."""
    seen: set[object] = set()
    for i, item in enumerate(items):
        k = key(item)
        if k in seen:
            raise InvalidInputError(f"duplicate entry {k!r}", path=f"{path}[{i}]")
        seen.add(k)
