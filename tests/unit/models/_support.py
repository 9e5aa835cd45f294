"""Shared helpers for the model parser tests (mutating JSON documents, errors)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import pytest

from vendorproof.errors import InvalidInputError

#: Marks a key for removal in :func:`mutated`.
DELETE: Final = object()

#: A mutation of a JSON document: the key path and the new value (or DELETE).
Edit = tuple[Sequence[str | int], object]


def mutated(doc: Mapping[str, Any], *edits: Edit) -> dict[str, Any]:
    """Return a deep copy of ``doc`` with ``edits`` applied.

    The copy goes through JSON, so objects shared inside ``doc`` (as the builders
    share a component's digests with its subject) are independent afterwards.
    """
    out: dict[str, Any] = json.loads(json.dumps(doc))
    for path, value in edits:
        target: Any = out
        for key in path[:-1]:
            target = target[key]
        last = path[-1]
        if value is DELETE:
            del target[last]
        elif isinstance(target, list) and last == len(target):
            target.append(value)
        else:
            target[last] = value
    return out


def check_error(
    error: InvalidInputError,
    *,
    path: str | None,
    message: str,
    file: str | None = None,
) -> None:
    """Assert an error's field path, message (a regex) and, if given, its file."""
    assert error.path == path, f"path {error.path!r} != {path!r} ({error})"
    assert re.search(message, error.message), f"{message!r} not in {error.message!r}"
    if file is not None:
        assert error.file == file
        assert str(error).startswith(f"{file}: ")
    if path:
        assert path in str(error)


def known_bug(reason: str) -> pytest.MarkDecorator:
    """Mark a case that asserts the correct behaviour of a known, reported src bug."""
    return pytest.mark.xfail(strict=True, reason=f"BUG (reported): {reason}")
