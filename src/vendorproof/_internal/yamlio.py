"""Strict YAML reading (policy files) through PyYAML's safe machinery only.

:func:`parse_yaml_mapping` reads the document in **one pass** over the parser's event
stream (libyaml's C parser when PyYAML has it, else PyYAML's own) and builds the data
directly from the events: no node tree, no second parse. Every limit is enforced on the
event that would exceed it, before anything after it is read: aliases (which defeats
"billion laughs" expansion), nesting deeper than ``Limits.max_depth``, more than
``Limits.max_yaml_nodes`` nodes, multiple documents, non-string and duplicate mapping
keys (PyYAML would keep the last of two equal keys silently). Scalars are resolved and
constructed by PyYAML's safe resolver and constructors, restricted to the tags of plain
data (``!!str``, ``!!int``, ``!!float``, ``!!bool``, ``!!null``, ``!!timestamp``;
``!!map`` and ``!!seq`` for collections); any other tag (``!!python/object``,
``!!binary``, ``!!set``, ...) is refused, as is a scalar its tag cannot construct
(``!!bool maybe``), an integer of more than ``MAX_INT_DIGITS`` characters (PyYAML's
base-60 integers are quadratic to build) and a float that is not finite (``.nan``,
``.inf``). Each step costs time linear in the size of what it reads.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeAlias, cast

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from vendorproof._internal.jsonio import MAX_INT_DIGITS, render_path, show_key
from vendorproof.errors import InvalidInputError
from vendorproof.limits import DEFAULT_LIMITS, Limits

__all__ = ["YamlDoc", "check_keys", "parse_yaml_mapping", "render_path"]

_PREFIX = "tag:yaml.org,2002:"
_STR_TAG = _PREFIX + "str"
_INT_TAG = _PREFIX + "int"
_FLOAT_TAG = _PREFIX + "float"
_MAP_TAG = _PREFIX + "map"
_SEQ_TAG = _PREFIX + "seq"
_SCALAR_TAGS = frozenset(
    _PREFIX + name for name in ("str", "int", "float", "bool", "null", "timestamp")
)

_Path: TypeAlias = tuple[str | int, ...]
# Source lines, shaped like the data: a scalar's entry is its line, a collection's is
# ``(line, children)`` with children a dict (mapping) or a list (sequence). Linear in
# the document, unlike a table of full key paths (a path per node is O(depth) each).
_LineEntry: TypeAlias = "int | tuple[int, _LineTree]"
_LineTree: TypeAlias = "dict[str, _LineEntry] | list[_LineEntry]"

try:  # libyaml's parser: the same events as PyYAML's, at C speed
    from yaml._yaml import CParser as _EventParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml.loader import SafeLoader as _EventParser  # type: ignore[assignment]

_C_PARSER = _EventParser.__module__ == "yaml._yaml"


@dataclass(frozen=True, slots=True)
class YamlDoc:
    """A parsed YAML document whose top level is a mapping with string keys.

    Attributes:
        data: the constructed document (plain ``dict``/``list``/scalars, as
            :func:`yaml.safe_load` would return them).
        file: the document's name, reported in errors.
        lines: the 1-based source lines, shaped like ``data`` (see :meth:`line_of`).

    """

    data: dict[str, Any]
    file: str
    lines: _LineEntry | None = field(default=None, repr=False, compare=False)

    def line_of(self, path: tuple[str | int, ...]) -> int | None:
        """Return the 1-based source line of a key path, if the path exists.

        The line of a mapping entry is the line of its key, that of a sequence item
        the line the item starts on; ``()`` is the root.

        Args:
            path: keys and sequence indexes from the root, e.g. ``("vendors", 0)``.

        Returns:
            The line number, or ``None`` for a path not in the document.

        """
        entry = self.lines
        for part in path:
            if not isinstance(entry, tuple):
                return None
            children = entry[1]
            if isinstance(children, dict):
                if not isinstance(part, str) or part not in children:
                    return None
                entry = children[part]
            elif isinstance(part, int) and 0 <= part < len(children):
                entry = children[part]
            else:
                return None
        if entry is None:
            return None
        return entry if isinstance(entry, int) else entry[0]

    def locate(
        self, error: InvalidInputError, at: tuple[str | int, ...]
    ) -> InvalidInputError:
        """Return ``error`` (located at the field ``at``) with this file and its line.

        The line is appended to the message (``... (line 12)``) when ``at`` exists.
        """
        line = self.line_of(at)
        suffix = f" (line {line})" if line else ""
        return InvalidInputError(
            error.message + suffix, path=error.path, file=self.file
        )


def _tag_name(tag: str) -> str:
    return tag.removeprefix(_PREFIX)


def _show_tag(tag: str) -> str:
    """A tag as written in YAML (``!!binary``), quoted for an error message."""
    return show_key("!!" + tag[len(_PREFIX) :] if tag.startswith(_PREFIX) else tag)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _line_suffix(line: int | None) -> str:
    return f" (line {line})" if line is not None else ""


def _position(raw: bytes, text: str, position: int) -> tuple[int, int]:
    """Line and column (1-based) of a reader error's position.

    libyaml counts the position in bytes of the UTF-8 text, PyYAML in characters.
    """
    if not _C_PARSER:  # pragma: no cover - PyYAML built without libyaml
        start = text.rfind("\n", 0, position) + 1
        return text.count("\n", 0, position) + 1, position - start + 1
    start = raw.rfind(b"\n", 0, position) + 1
    column = len(raw[start:position].decode("utf-8", "replace")) + 1
    return raw.count(b"\n", 0, position) + 1, column


def _error_message(e: yaml.YAMLError, raw: bytes, text: str, limits: Limits) -> str:
    """Describe a PyYAML error on one line, with its line and column."""
    if isinstance(e, yaml.MarkedYAMLError):
        problem = _one_line(e.problem or e.context or "syntax error")
        mark = e.problem_mark or e.context_mark
        if mark is None:  # pragma: no cover - the parsers always mark their errors
            return f"invalid YAML: {problem}"
        if problem == "exceeded maximum nesting depth":
            # libyaml's own bound (1000 levels), met while scanning ahead of events
            return (
                f"nesting deeper than {limits.max_depth} levels (line {mark.line + 1})"
            )
        return (
            f"invalid YAML: {problem} (line {mark.line + 1}, column {mark.column + 1})"
        )
    if isinstance(e, yaml.reader.ReaderError) and isinstance(e.position, int):
        line, column = _position(raw, text, e.position)
        what = f"character #x{e.character:04x}" if isinstance(e.character, int) else ""
        return (
            f"invalid YAML: unacceptable {what}: {_one_line(str(e.reason))}"
            f" (line {line}, column {column})"
        )
    return f"invalid YAML: {_one_line(str(e))}"  # pragma: no cover - defensive


class _Reject:
    """Raise ``InvalidInputError`` for one file (a typed callable)."""

    def __init__(self, file: str) -> None:
        self.file = file

    def __call__(self, message: str, path: _Path = ()) -> NoReturn:
        raise InvalidInputError(message, path=render_path(path) or None, file=self.file)


class _Frame:
    """A collection being built: its data, lines and path; a mapping's pending key."""

    __slots__ = ("data", "key", "key_line", "line", "lines", "path")

    def __init__(
        self, data: dict[str, Any] | list[Any], path: _Path, line: int
    ) -> None:
        self.data = data
        self.lines: _LineTree = {} if isinstance(data, dict) else []
        self.path = path
        self.line = line  # where the collection starts
        self.key: str | None = None  # a mapping's key waiting for its value
        self.key_line = 0


class _Builder:
    """Builds the data of one document from its events, checking every limit."""

    def __init__(self, file: str, limits: Limits) -> None:
        self.reject = _Reject(file)
        self.limits = limits
        self.resolver = Resolver()
        self.constructor = SafeConstructor()
        self.stack: list[_Frame] = []
        self.root: tuple[dict[str, Any], _LineEntry] | None = None
        self.nodes = 0
        self.documents = 0

    def feed(self, event: yaml.Event) -> None:
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, yaml.NodeEvent):
            if isinstance(event, yaml.AliasEvent):
                self.reject(f"YAML aliases are not allowed{_line_suffix(line)}")
            self.nodes += 1
            if self.nodes > self.limits.max_yaml_nodes:
                self.reject(
                    f"more than {self.limits.max_yaml_nodes} YAML nodes"
                    f"{_line_suffix(line)}"
                )
            if isinstance(event, yaml.ScalarEvent):
                self.scalar(event, line or 0)
            elif isinstance(event, yaml.CollectionStartEvent):
                self.start(event, line or 0)
        elif isinstance(event, yaml.CollectionEndEvent):
            frame = self.stack.pop()
            self.attach(frame.data, frame.line, frame.lines)
        elif isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                self.reject(
                    "multiple YAML documents are not allowed" + _line_suffix(line)
                )

    def child_path(self) -> _Path:
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.data, dict):
            return (*top.path, top.key) if top.key is not None else top.path
        return (*top.path, len(top.data))

    def start(self, event: yaml.CollectionStartEvent, line: int) -> None:
        mapping = isinstance(event, yaml.MappingStartEvent)
        path = self.child_path()
        if self.stack and self.expects_key():
            self.reject(
                f"non-string key{_line_suffix(line)}: a collection cannot be a key",
                self.stack[-1].path,
            )
        if not self.stack and not mapping:
            self.reject("top level must be a mapping")
        tag = event.tag
        if tag is not None and tag not in ("!", _MAP_TAG if mapping else _SEQ_TAG):
            where = _line_suffix(line)
            self.reject(f"unsupported YAML tag {_show_tag(tag)}{where}", path)
        if len(self.stack) >= self.limits.max_depth:
            depth = self.limits.max_depth
            self.reject(f"nesting deeper than {depth} levels{_line_suffix(line)}")
        self.stack.append(_Frame({} if mapping else [], path, line))

    def expects_key(self) -> bool:
        top = self.stack[-1]
        return isinstance(top.data, dict) and top.key is None

    def scalar(self, event: yaml.ScalarEvent, line: int) -> None:
        if not self.stack:
            self.reject("top level must be a mapping")
        tag = event.tag
        if tag is None or tag == "!":
            # PyYAML's implicit resolvers (YAML 1.1 plain scalars: int, bool, ...)
            tag = self.resolver.resolve(  # type: ignore[no-untyped-call]
                yaml.ScalarNode, event.value, event.implicit
            )
        top = self.stack[-1]
        if self.expects_key():
            if tag != _STR_TAG:
                self.reject(
                    f"non-string key {show_key(event.value)}{_line_suffix(line)}: YAML"
                    f" reads it as {_tag_name(tag)}; quote it to use it as a string",
                    top.path,
                )
            key: str = event.value
            if key in top.data:
                self.reject(
                    f"duplicate key {show_key(key)}{_line_suffix(line)}", top.path
                )
            top.key, top.key_line = key, line
            return
        self.attach(self.construct(event, tag, line), line, None)

    def construct(self, event: yaml.ScalarEvent, tag: str, line: int) -> Any:
        where = _line_suffix(line)
        if tag not in _SCALAR_TAGS:
            self.reject(
                f"unsupported YAML tag {_show_tag(tag)}{where}", self.child_path()
            )
        text: str = event.value
        if tag == _INT_TAG and len(text) > MAX_INT_DIGITS:
            # Checked before construction: base-60 integers (1:2:3) take quadratic time.
            self.reject(
                f"integer with more than {MAX_INT_DIGITS} digits{where}",
                self.child_path(),
            )
        node = yaml.ScalarNode(tag, text, None, None, event.style)
        try:
            value = self.constructor.yaml_constructors[tag](self.constructor, node)
        except Exception as e:  # noqa: BLE001 - any constructor failure is bad input
            # PyYAML's constructors fail with KeyError (!!bool maybe), AttributeError
            # (!!timestamp garbage), IndexError (!!int ''); only ValueError says why.
            reason = _one_line(str(e)) if type(e) is ValueError else ""
            if reason.startswith("Exceeds the limit"):  # sys.get_int_max_str_digits()
                reason = "too many digits"
            self.reject(
                f"invalid {_show_tag(tag)} value {show_key(text)}{where}"
                + (f": {reason}" if reason else ""),
                self.child_path(),
            )
        if tag == _FLOAT_TAG and not math.isfinite(value):
            self.reject(
                f"number is not finite: {show_key(text)}{where}", self.child_path()
            )
        return value

    def attach(self, value: Any, line: int, children: _LineTree | None) -> None:
        """Add a finished value to its parent (a mapping entry's line is its key's)."""
        if not self.stack:  # the top-level mapping (start() refused anything else)
            self.root = (cast("dict[str, Any]", value), (line, children or {}))
            return
        top = self.stack[-1]
        if isinstance(top.data, dict):  # scalar() has set the entry's key
            key = cast("str", top.key)
            line = top.key_line
            top.data[key] = value
            lines = cast("dict[str, _LineEntry]", top.lines)
            lines[key] = line if children is None else (line, children)
            top.key = None
        else:
            top.data.append(value)
            items = cast("list[_LineEntry]", top.lines)
            items.append(line if children is None else (line, children))


def _events(text: str) -> Iterator[yaml.Event]:
    """The parser's events up to (not including) the end of the stream, read once."""
    parser = _EventParser(text)
    try:
        while (event := parser.get_event()) is not None and not isinstance(
            event, yaml.StreamEndEvent
        ):
            yield event
    finally:
        parser.dispose()


def parse_yaml_mapping(
    raw: bytes, *, file: str, limits: Limits = DEFAULT_LIMITS
) -> YamlDoc:
    """Parse an untrusted YAML document whose top level must be a mapping.

    A leading UTF-8 byte order mark is accepted (YAML allows one); other encodings
    are not.

    Args:
        raw: the document as read from disk.
        file: the document's name, reported in errors.
        limits: size, nesting and node-count bounds.

    Returns:
        The data together with the source line of every key path.

    Raises:
        InvalidInputError: the document is too large, not UTF-8, not valid YAML,
            uses an alias, nests too deeply, has too many nodes, holds several
            documents, is not a mapping at the top level, has a non-string or
            duplicate key, uses a tag other than those of plain data, or has a
            scalar its tag cannot construct (the error names the field and line).

    """
    reject = _Reject(file)
    if len(raw) > limits.max_document_bytes:
        reject(f"document too large (more than {limits.max_document_bytes} bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        reject(f"not valid UTF-8 (byte {e.start})")
    builder = _Builder(file, limits)
    try:
        for event in _events(text):
            builder.feed(event)
    except yaml.YAMLError as e:
        reject(_error_message(e, raw, text, limits))
    if builder.root is None:
        reject("top level must be a mapping")
    data, lines = builder.root
    return YamlDoc(data=data, file=file, lines=lines)


def check_keys(
    doc: YamlDoc,
    mapping: Mapping[str, Any],
    *,
    at: tuple[str | int, ...],
    known: frozenset[str],
    required: frozenset[str] = frozenset(),
) -> None:
    """Fail closed on unknown or missing keys in one mapping of a document.

    Args:
        doc: the document ``mapping`` belongs to (for the file name and lines).
        mapping: the mapping to check.
        at: the mapping's path in ``doc``, e.g. ``("vendors", 0)``.
        known: every key the mapping may have.
        required: keys the mapping must have.

    Raises:
        InvalidInputError: the first unknown key in document order (``unknown key
            'foo' (line 12)``), else the alphabetically first missing key
            (``missing required key 'id' (line 3)``), located at ``at``.

    """
    where = render_path(at) or None
    for key in mapping:
        if key not in known:
            line = doc.line_of((*at, key))
            raise InvalidInputError(
                f"unknown key {show_key(key)}{_line_suffix(line)}",
                path=where,
                file=doc.file,
            )
    missing = sorted(required.difference(mapping))
    if missing:
        raise InvalidInputError(
            f"missing required key {show_key(missing[0])}"
            f"{_line_suffix(doc.line_of(at))}",
            path=where,
            file=doc.file,
        )
