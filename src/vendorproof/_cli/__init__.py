"""The ``vendorproof`` command line: a thin typer layer over the library.

Exit codes are part of the documented contract (``docs/cli.md``).
"""

from __future__ import annotations

import os

import typer

from vendorproof import __version__
from vendorproof._cli._errors import (
    ExitCode,
    debug_state,
    err,
    handle_errors,
    wrap_commands,
)
from vendorproof._cli._help import use_plain_usage

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
        False,  # noqa: FBT003 - typer's positional default
        "--debug",
        help="Show tracebacks for internal errors.",
    ),
    version: bool = typer.Option(  # noqa: ARG001 - handled by its eager callback
        False,  # noqa: FBT003 - typer's positional default
        "--version",
        callback=_version,
        is_eager=True,
        help="Show the version and exit.",
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
        report_cmd,
        vendor,
        verify_cmd,
    )

    vendor.register(app)
    inspect_cmd.register(app)
    verify_cmd.register(app)
    evidence_cmd.register(app)
    gate_cmd.register(app)
    log_cmd.register(app)
    report_cmd.register(app)
    certification_cmd.register(app)
    wrap_commands(app)  # the exit-code mapping, once for every command
    use_plain_usage(app)


_register()


def main() -> None:
    """Console-script entry point."""
    try:
        app(prog_name="vendorproof")
    except KeyboardInterrupt:  # outside a command (a command maps its own)
        err("interrupted")
        raise SystemExit(ExitCode.INTERRUPTED) from None


if __name__ == "__main__":  # pragma: no cover
    main()
