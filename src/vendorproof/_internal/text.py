"""Shortening untrusted text for one-line messages."""

from __future__ import annotations

__all__ = ["ELLIPSIS", "SHORT_ID", "shorten"]

ELLIPSIS = "..."
#: The limit that shows a key id or digest as its first 16 hex digits and "...".
SHORT_ID = 16 + len(ELLIPSIS)


def shorten(text: str, limit: int | None = None, *, one_line: bool = True) -> str:
    """``text`` made fit for a one-line message: the one helper for doing so.

    Args:
        text: the text, often from an untrusted document or a library's exception.
        limit: the most characters to return; longer text is cut and ends with
            ``...`` (counted in the limit). ``None``: no limit.
        one_line: replace every run of whitespace (line breaks included) with one
            space and strip both ends. ``False`` keeps the text as it is, for a
            caller that escapes it (``repr``) itself.

    Returns:
        The shortened text. Linear in the input; the terminal escaping of what is
        left is the printer's job (``_cli._common.safe_text``).
    """
    if one_line:
        text = " ".join(text.split())
    if limit is not None and len(text) > limit:
        text = text[: max(limit - len(ELLIPSIS), 0)] + ELLIPSIS
    return text
