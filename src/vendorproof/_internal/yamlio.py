"""Strict YAML reading (policy files) through PyYAML's safe machinery only.

:func:`parse_yaml_mapping` first streams the parser's events (no nodes, no Python
objects) and rejects aliases (which defeats "billion laughs" expansion), nesting
deeper than ``Limits.max_depth`` and multiple documents. It then composes the node
tree once (no Python objects), checks that every mapping key is a string and unique
(PyYAML would keep the last of two equal keys silently) and records each key's line;
the data itself comes from :func:`yaml.safe_load`, so tags such as
``!!python/object`` are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NoReturn, TypeAlias

import yaml

from vendorproof._internal.jsonio import render_path, show_key
from vendorproof.errors import InvalidInputError
from vendorproof.limits import DEFAULT_LIMITS, Limits

__all__ = ["YamlDoc", "check_keys", "parse_yaml_mapping", "render_path"]

_STR_TAG = "tag:yaml.org,2002:str"

_Path: TypeAlias = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class YamlDoc:
    """A parsed YAML document whose top level is a mapping with string keys.

    Attributes:
        data: the constructed document (what :func:`yaml.safe_load` returns).
        file: the document's name, reported in errors.
        lines: 1-based source line of every key path (the line of the key for
            mapping entries, of the item for sequence items; ``()`` is the root).

    """

    data: dict[str, Any]
    file: str
    lines: Mapping[_Path, int] = field(
        default_factory=lambda: MappingProxyType({}), repr=False, compare=False
    )

    def line_of(self, path: tuple[str | int, ...]) -> int | None:
        """Return the 1-based source line of a key path, if the path exists.

        Args:
            path: keys and sequence indexes from the root, e.g. ``("vendors", 0)``.

        Returns:
            The line number, or ``None`` for a path not in the document.

        """
        return self.lines.get(path)


def _tag_name(tag: str) -> str:
    return tag.removeprefix("tag:yaml.org,2002:")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _line_suffix(line: int | None) -> str:
    return f" (line {line})" if line is not None else ""


def _error_message(e: yaml.YAMLError, text: str) -> str:
    """Describe a PyYAML error on one line, with its line and column."""
    if isinstance(e, yaml.MarkedYAMLError):
        problem = _one_line(e.problem or e.context or "syntax error")
        mark = e.problem_mark or e.context_mark
        if mark is None:
            return f"invalid YAML: {problem}"
        return (
            f"invalid YAML: {problem} (line {mark.line + 1}, column {mark.column + 1})"
        )
    if isinstance(e, yaml.reader.ReaderError) and isinstance(e.position, int):
        line = text.count("\n", 0, e.position) + 1
        column = e.position - (text.rfind("\n", 0, e.position) + 1) + 1
        what = f"character #x{e.character:04x}" if isinstance(e.character, int) else ""
        return (
            f"invalid YAML: unacceptable {what}: {_one_line(str(e.reason))}"
            f" (line {line}, column {column})"
        )
    return f"invalid YAML: {_one_line(str(e))}"  # pragma: no cover - defensive


def _scan_events(text: str, limits: Limits, reject: _Reject) -> None:
    """Reject aliases, deep nesting and multiple documents from the event stream."""
    depth = 0
    documents = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, yaml.AliasEvent):
            reject(f"YAML aliases are not allowed{_line_suffix(line)}")
        elif isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > limits.max_depth:
                reject(
                    f"nesting deeper than {limits.max_depth} levels{_line_suffix(line)}"
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                reject("multiple YAML documents are not allowed" + _line_suffix(line))


def _node_line(node: yaml.Node) -> int | None:
    return node.start_mark.line + 1 if node.start_mark is not None else None


def _string_key(node: yaml.Node, path: _Path, reject: _Reject) -> str:
    """Return a mapping key, refusing anything but a plain string scalar."""
    if not (isinstance(node, yaml.ScalarNode) and node.tag == _STR_TAG):
        line = _line_suffix(_node_line(node))
        if isinstance(node, yaml.ScalarNode):
            message = (
                f"non-string key {show_key(node.value)}{line}: YAML reads it as"
                f" {_tag_name(node.tag)}; quote it to use it as a string"
            )
        else:
            message = f"non-string key{line}: a collection cannot be a key"
        reject(message, path)
    key: str = node.value
    return key


def _index_tree(root: yaml.Node, reject: _Reject) -> dict[_Path, int]:
    """Check keys (strings, unique) and map every path to its source line.

    Iterative: the tree is alias-free (checked before) and depth-bounded, but a
    recursive walk would still tie the nesting limit to Python's stack.
    """
    lines: dict[_Path, int] = {}
    if (line := _node_line(root)) is not None:
        lines[()] = line
    stack: list[tuple[yaml.Node, _Path]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = _string_key(key_node, path, reject)
                key_line = _node_line(key_node)
                if key in seen:
                    message = f"duplicate key {show_key(key)}{_line_suffix(key_line)}"
                    reject(message, path)
                seen.add(key)
                child = (*path, key)
                if key_line is not None:
                    lines[child] = key_line
                stack.append((value_node, child))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = (*path, index)
                if (item_line := _node_line(item)) is not None:
                    lines[child] = item_line
                stack.append((item, child))
    return lines


class _Reject:
    """Raise ``InvalidInputError`` for one file (a typed callable)."""

    def __init__(self, file: str) -> None:
        self.file = file

    def __call__(self, message: str, path: _Path = ()) -> NoReturn:
        raise InvalidInputError(message, path=render_path(path) or None, file=self.file)


def parse_yaml_mapping(
    raw: bytes, *, file: str, limits: Limits = DEFAULT_LIMITS
) -> YamlDoc:
    """Parse an untrusted YAML document whose top level must be a mapping.

    A leading UTF-8 byte order mark is accepted (YAML allows one); other encodings
    are not.

    Args:
        raw: the document as read from disk.
        file: the document's name, reported in errors.
        limits: size and nesting bounds.

    Returns:
        The data together with the source line of every key path.

    Raises:
        InvalidInputError: the document is too large, not UTF-8, not valid YAML,
            uses an alias, nests too deeply, holds several documents, is not a
            mapping at the top level, has a non-string or duplicate key, or uses
            a tag the safe loader does not construct (``!!python/object``).

    """
    reject = _Reject(file)
    if len(raw) > limits.max_document_bytes:
        reject(f"document too large (more than {limits.max_document_bytes} bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        reject(f"not valid UTF-8 (byte {e.start})")
    try:
        _scan_events(text, limits, reject)
        # The node tree (composition constructs no Python objects) gives key lines,
        # duplicate and non-string keys; the data itself comes from yaml.safe_load.
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if not isinstance(root, yaml.MappingNode):
            reject("top level must be a mapping")
        lines = _index_tree(root, reject)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        reject(_error_message(e, text))
    except (ValueError, OverflowError) as e:
        # Some safe constructors raise plain ValueError (2024-02-30, huge integers).
        reason = str(e)
        if reason.startswith("Exceeds the limit"):  # sys.get_int_max_str_digits()
            reason = "too many digits"
        reject(f"invalid value: {reason}")
    except RecursionError:  # only with a huge configured max_depth
        reject(f"nesting deeper than {limits.max_depth} levels")
    if not isinstance(data, dict):  # pragma: no cover - guaranteed by the node check
        reject("top level must be a mapping")
    return YamlDoc(data=data, file=file, lines=MappingProxyType(lines))


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
