"""The one helper that shortens untrusted text for messages (_internal/text.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vendorproof._internal.text import ELLIPSIS, SHORT_ID, shorten

SRC = Path(__file__).resolve().parents[2] / "src" / "vendorproof"
#: Modules allowed to cut text by hand (none).
PENDING: set[str] = set()


def test_collapses_whitespace_to_one_line() -> None:
    assert shorten("  a\n\tb\r\n  c \u2028 d ") == "a b c d"


def test_keeps_text_within_the_limit() -> None:
    assert shorten("abcdef", 6) == "abcdef"
    assert shorten("abcdefg", 6) == "abc..."
    assert len(shorten("x" * 10_000, 400)) == 400


def test_limit_shorter_than_the_ellipsis() -> None:
    assert shorten("abcdef", 2) == ELLIPSIS


def test_one_line_false_keeps_the_characters() -> None:
    assert shorten("a\nb  c", one_line=False) == "a\nb  c"
    assert shorten("a\nbcdefgh", 6, one_line=False) == "a\nb..."


def test_short_id() -> None:
    key_id = "0123456789abcdef" * 4
    assert shorten(key_id, SHORT_ID) == "0123456789abcdef..."


@pytest.mark.parametrize(
    "module",
    sorted(
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if str(p.relative_to(SRC)) not in {"_internal/text.py", *PENDING}
    ),
)
def test_no_module_cuts_text_by_hand(module: str) -> None:
    source = (SRC / module).read_text(encoding="utf-8")
    by_hand = re.compile(
        r'\+ "\.\.\."|\[:\s*[\w -]+\]\}?\.\.\.|" "\.join\(\w+\.split\(\)\)'
    )
    assert not by_hand.findall(source), module
