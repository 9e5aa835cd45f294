"""The ``vendorproof`` command line: a thin typer layer over the library.

Exit codes are part of the documented contract (``docs/cli.md``).
"""

from __future__ import annotations

import enum
import functools
import os
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from vendorproof import __version__
from vendorproof.errors import Error, InvalidInputError, OutputError, VerificationError

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


app = typer.Typer(
    name="vendorproof",
    help="Prove that a vendor delivery is what the vendor signed and a body certified.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vendorproof {__version__}")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _root(
    debug: bool = typer.Option(
        default=False, help="Show tracebacks for internal errors."
    ),
    version: bool = typer.Option(  # noqa: ARG001 - handled by its eager callback
        default=False, callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """Prove that a vendor delivery is what the vendor signed and a body certified."""
    _state["debug"] = debug or bool(os.environ.get("VENDORPROOF_DEBUG"))


def err(message: str) -> None:
    """Print a one-line message on standard error (unsafe characters escaped)."""
    from vendorproof._cli._common import safe_text

    typer.echo(safe_text(" ".join(message.split())), err=True)


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
        except VerificationError as e:
            err(f"FAIL: {e}")
            raise typer.Exit(ExitCode.VERIFICATION_FAILED) from e
        except Error as e:  # pragma: no cover - every Error subclass is handled above
            err(f"error: {e}")
            raise typer.Exit(ExitCode.INVALID_INPUT) from e
        except KeyboardInterrupt:
            err("interrupted")
            raise typer.Exit(130) from None
        except Exception as e:
            if _state["debug"]:
                raise
            err(
                f"internal error: {type(e).__name__}: {e} (this is a bug in "
                "vendorproof; please report it with the output of --debug)"
            )
            raise typer.Exit(ExitCode.INTERNAL_ERROR) from e

    return wrapper


def _register() -> None:
    from vendorproof._cli import (
        evidence_cmd,
        gate_cmd,
        inspect_cmd,
        log_cmd,
        vendor,
        verify_cmd,
    )

    vendor.register(app)
    inspect_cmd.register(app)
    verify_cmd.register(app)
    evidence_cmd.register(app)
    gate_cmd.register(app)
    log_cmd.register(app)


_register()


def main() -> None:
    """Console-script entry point."""
    app(prog_name="vendorproof")


if __name__ == "__main__":  # pragma: no cover
    main()
