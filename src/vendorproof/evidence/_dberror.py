"""Driver errors as one-line messages.

Shared by the migrations, both backends and the Merkle tree tables, below all of them.
"""

from __future__ import annotations

from vendorproof._internal.text import shorten

__all__ = ["one_line"]


def one_line(exc: BaseException) -> str:
    """The message of a driver error on one line (psycopg's span several lines).

    For a server error that is its primary message, without the PL/pgSQL context.
    """
    primary = getattr(getattr(exc, "diag", None), "message_primary", None)
    text = primary if isinstance(primary, str) and primary else str(exc)
    return shorten(text) or type(exc).__name__
