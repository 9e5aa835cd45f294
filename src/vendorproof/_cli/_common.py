"""Helpers shared by the command modules (file access, keys, times, progress, output).

Human output goes through ``console()`` and ``echo()``: both escape every control,
bidirectional-formatting and line-separator character of the text they print
(``safe_text``), so text from signed documents, stores and bundles can neither move the
cursor, recolour the terminal, start a new line nor reorder what is shown.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vendorproof._internal.jsonio import dump_json, read_document, write_atomic
from vendorproof.errors import InvalidInputError
from vendorproof.models import _fields

if TYPE_CHECKING:
    from rich.console import Console

    from vendorproof._internal.crypto import SigningKey

PASSPHRASE_ENV = "VENDORPROOF_KEY_PASSPHRASE"  # noqa: S105 - a variable name

#: ``--signature``: signatures given as files beside the delivery (verify, intake).
SignatureFiles = Annotated[
    list[Path] | None,
    typer.Option(
        "--signature",
        help="A Notation signature envelope (JWS or COSE, told apart by content) "
        "over the image of an OCI image layout, given as a file; repeatable. "
        "Verified like the signatures inside the layout and stored as evidence.",
        metavar="PATH",
    ),
]


def parse_at(value: str | None, *, option: str = "--at") -> datetime:
    """Parse an RFC 3339 time option; ``None`` means now."""
    if value is None:
        return datetime.now(UTC)
    return _fields.parse_time(value, option)


def validation_time(value: str | None) -> tuple[datetime, str]:
    """The validation time given by ``--at`` (or now) and where it came from."""
    return parse_at(value), "--at" if value is not None else "now"


def _passphrase(*, confirm: bool) -> bytes | None:
    env = os.environ.get(PASSPHRASE_ENV)
    if env is not None:
        return env.encode("utf-8")
    if not sys.stdin.isatty():
        return None
    text: str = typer.prompt(
        "Key passphrase", hide_input=True, confirmation_prompt=confirm
    )
    return text.encode("utf-8")


def load_signing_key(path: Path) -> SigningKey:
    """Load a PEM private key, asking for its passphrase only when it is encrypted.

    A ``pkcs11:`` URI (RFC 7512) names a key in a PKCS#11 token instead: see
    :mod:`vendorproof._internal.hsm`.
    """
    from vendorproof._internal import crypto, hsm

    if hsm.is_uri(str(path)):
        return hsm.load_key(str(path))
    data = read_document(path)
    if b"ENCRYPTED" not in data:
        return crypto.load_private_key(data, None, file=str(path))
    passphrase = _passphrase(confirm=False)
    if passphrase is None:
        raise InvalidInputError(
            f"key is encrypted: set {PASSPHRASE_ENV} or run on a terminal",
            file=str(path),
        )
    return crypto.load_private_key(data, passphrase, file=str(path))


def new_key_passphrase() -> bytes | None:
    """The passphrase for a new key (environment or prompt with confirmation)."""
    return _passphrase(confirm=True)


def write_json(path: Path, data: Any, *, force: bool) -> None:
    """Write ``data`` as sorted, indented JSON atomically."""
    write_atomic(path, dump_json(data), force=force)


@contextmanager
def progress(
    total: int, description: str = "hashing"
) -> Iterator[Callable[[int], None] | None]:
    """A byte progress bar on standard error when it is a terminal, else nothing.

    Callbacks may come from hashing worker threads; rich's progress is thread-safe.
    """
    if not sys.stderr.isatty() or total == 0:
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


#: Characters never printed as they are: C0 controls (newline and tab included), DEL,
#: C1 controls, the Unicode bidirectional marks, embeddings, overrides and isolates
#: (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), the line and paragraph
#: separators, and lone surrogates (which cannot be encoded for output).
_UNSAFE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2028\u2029"
    r"\u2066-\u2069\ud800-\udfff]"
)
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _SHORT:
        return _SHORT[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def safe_text(text: str) -> str:
    r"""``text`` with every unsafe character shown as a visible escape.

    ``\n``, ``\r``, ``\t`` for those three; ``\x1b`` for other C0, DEL and C1
    controls; ``\u202e`` for bidirectional formatting characters, line separators
    and lone surrogates. Linear in the length of ``text``.
    """
    return _UNSAFE.sub(_visible, text)


#: What JSON for a terminal escapes beyond what ``json.dumps`` does (it escapes
#: U+0000-U+001F): DEL, C1 controls, bidirectional formatting, line separators and
#: lone surrogates. They can only occur inside JSON strings, where ``\uXXXX`` is
#: the same character: the JSON document is unchanged.
_JSON_UNSAFE = re.compile(
    r"[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2028\u2029"
    r"\u2066-\u2069\ud800-\udfff]"
)


def json_text(data: Any, **kwargs: Any) -> str:
    """``data`` as JSON (non-ASCII kept) that is safe to print on a terminal."""
    text = json.dumps(data, ensure_ascii=False, **kwargs)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def echo(text: str, *, err: bool = False) -> None:
    """Print one line of human output, escaped with ``safe_text``."""
    typer.echo(safe_text(text), err=err)


@functools.cache
def _console_class() -> type[Console]:
    from rich.console import Console
    from rich.text import Text

    class SafeConsole(Console):
        """A rich console that escapes unsafe characters of every string it renders.

        Every string a renderable holds (table cells and titles, ``print`` and
        ``out`` arguments) becomes rich ``Text`` through ``render_str``; escaping
        there, before markup is parsed, means no output path can forget it. Rich
        markup in untrusted text is still escaped by the callers
        (``rich.markup.escape``).
        """

        def render_str(self, text: str, **kwargs: Any) -> Text:
            return super().render_str(safe_text(text), **kwargs)

    return SafeConsole


def console(**kwargs: Any) -> Console:
    """The rich console for human output (see ``SafeConsole``)."""
    return _console_class()(**kwargs)
