"""Exit codes and the error wrapper every command shares.

Kept apart from the package's ``__init__`` so that the command modules can import them
without importing the application that registers those same commands.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from vendorproof.errors import (
    Error,
    InvalidInputError,
    NetworkError,
    OutputError,
    VerificationError,
)

_P = ParamSpec("_P")
_R = TypeVar("_R")


class ExitCode(enum.IntEnum):
    """Process exit codes; part of the CLI's documented contract."""

    OK = 0
    VERIFICATION_FAILED = 1
    USAGE = 2  # Click's own code for bad arguments.
    INVALID_INPUT = 3
    INTERNAL_ERROR = 4
    #: ``audit replay --bundle`` without ``--operator-pub``: every check passed, but
    #: only against the operator key(s) shipped in the bundle, which prove nothing.
    NOT_PINNED = 5
    #: A remote service (an RFC 3161 TSA) could not be reached: nothing was judged,
    #: and a retry may succeed.
    NETWORK = 6
    #: Interrupted (Ctrl-C): 128 + SIGINT, as a shell reports it.
    INTERRUPTED = 130


debug_state = {"debug": False}


def err(message: str) -> None:
    """Print a one-line message on standard error (unsafe characters escaped)."""
    from vendorproof._cli._common import safe_text
    from vendorproof._internal.text import shorten

    typer.echo(safe_text(shorten(message)), err=True)


def handle_errors(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Map library errors to one-line messages and documented exit codes."""

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except InvalidInputError as e:
            err(f"error: {e}")
            raise typer.Exit(ExitCode.INVALID_INPUT) from e
        except OutputError as e:
            err(f"error: {e}")
            raise typer.Exit(ExitCode.INVALID_INPUT) from e
        except NetworkError as e:
            err(f"error: {e}")
            raise typer.Exit(ExitCode.NETWORK) from e
        except VerificationError as e:
            err(f"FAIL: {e}")
            raise typer.Exit(ExitCode.VERIFICATION_FAILED) from e
        except Error as e:  # pragma: no cover - every Error subclass is handled above
            err(f"error: {e}")
            raise typer.Exit(ExitCode.INVALID_INPUT) from e
        except KeyboardInterrupt:
            err("interrupted")
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except Exception as e:
            if debug_state["debug"]:
                raise
            err(
                f"internal error: {type(e).__name__}: {e} (this is a bug in "
                "vendorproof; please report it with the output of --debug)"
            )
            raise typer.Exit(ExitCode.INTERNAL_ERROR) from e

    wrapper.__vendorproof_handles_errors__ = True  # type: ignore[attr-defined]
    return wrapper


def handles_errors(fn: Callable[..., object]) -> bool:
    """Whether ``fn`` is already wrapped by :func:`handle_errors`."""
    return bool(getattr(fn, "__vendorproof_handles_errors__", False))


def wrap_commands(app: typer.Typer) -> None:
    """Wrap every command registered on ``app`` and its sub-apps, once.

    The exit-code mapping is applied here, after registration, rather than by each
    command module: a new command cannot forget it.
    """
    for info in app.registered_commands:
        if info.callback is not None and not handles_errors(info.callback):
            info.callback = handle_errors(info.callback)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            wrap_commands(group.typer_instance)
