"""The ``vendorproof`` command line: a thin typer layer over the library.

Exit codes are part of the documented contract (``docs/cli.md``).
"""

from __future__ import annotations

import os

import typer

from vendorproof import __version__
from vendorproof._cli._errors import ExitCode, debug_state, err, handle_errors

__all__ = ["ExitCode", "app", "err", "handle_errors", "main"]

app = typer.Typer(
    name="vendorproof",
    help="Prove that a vendor delivery is what the vendor signed and a body certified.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


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
    debug_state["debug"] = debug or bool(os.environ.get("VENDORPROOF_DEBUG"))


def _register() -> None:
    from vendorproof._cli import (
        certification_cmd,
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
    certification_cmd.register(app)


_register()


def main() -> None:
    """Console-script entry point."""
    app(prog_name="vendorproof")


if __name__ == "__main__":  # pragma: no cover
    main()
