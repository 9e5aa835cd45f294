"""Helpers shared by the command modules (file access, keys, times, progress)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from vendorproof._internal.jsonio import dump_json, read_document, write_atomic
from vendorproof.errors import InvalidInputError
from vendorproof.models import _fields

if TYPE_CHECKING:
    from vendorproof._internal.crypto import SigningKey

PASSPHRASE_ENV = "VENDORPROOF_KEY_PASSPHRASE"  # noqa: S105 - a variable name


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
    """Load a PEM private key, asking for its passphrase only when it is encrypted."""
    from vendorproof._internal import crypto

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
