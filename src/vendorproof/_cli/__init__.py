"""The ``vendorproof`` command line: a thin typer layer over the library.

Exit codes are part of the documented contract (``docs/cli.md``).
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from collections.abc import Iterable, Sequence

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

#: The modules that register each top-level command or group (``audit`` is shared:
#: the log adds ``audit verify-checkpoint``, certification ``audit affected``).
#: ``main`` builds only the commands the invocation names, so a command does not pay
#: for importing every other one. A test builds each command in a fresh interpreter
#: and compares it with the full registration.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "keys": ("vendor",),
    "manifest": ("vendor",),
    "certify": ("vendor",),
    "declare": ("vendor",),
    "sign": ("vendor",),
    "inspect": ("inspect_cmd",),
    "verify": ("verify_cmd",),
    "policy": ("verify_cmd",),
    "x509": ("verify_cmd",),
    "intake": ("evidence_cmd",),
    "evidence": ("evidence_cmd",),
    "audit": ("evidence_cmd", "log_cmd", "certification_cmd"),
    "gate": ("gate_cmd",),
    "log": ("log_cmd",),
    "report": ("report_cmd",),
    "certification": ("certification_cmd",),
}

#: Registration order of the full command line (the order ``--help`` lists).
ALL_MODULES = (
    "vendor",
    "inspect_cmd",
    "verify_cmd",
    "evidence_cmd",
    "gate_cmd",
    "log_cmd",
    "report_cmd",
    "certification_cmd",
)

#: What the root ``--help`` lists, in its order (commands, then groups): name,
#: whether it is a group, and the summary. Without a command (``--help``,
#: ``--version``, no or an unknown command) ``main`` builds the root from this table
#: alone and imports no command module; a test checks that its help and errors are
#: those of the full command line.
OVERVIEW: tuple[tuple[str, bool, str], ...] = (
    (
        "certify",
        False,
        "Build an unsigned certification statement (sign it with the body's key).",
    ),
    (
        "declare",
        False,
        (
            "Build an unsigned trust declaration statement (sign it "
            "with the vendor's key)."
        ),
    ),
    (
        "sign",
        False,
        "Sign STATEMENT into a Sigstore bundle (DSSE, optional certificate chain).",
    ),
    (
        "inspect",
        False,
        "Show signer, chain, timestamps, predicate and subjects (no trust decision).",
    ),
    (
        "verify",
        False,
        "Verify DELIVERY against POLICY; exit 0 verified, 1 failed, 3 invalid input.",
    ),
    (
        "intake",
        False,
        "Verify DELIVERY and append a signed evidence record, whatever the verdict.",
    ),
    (
        "gate",
        False,
        "Decide whether DELIVERY may be rolled out over the installed release.",
    ),
    ("keys", True, "Manage signing keys."),
    ("manifest", True, "Build component manifests."),
    ("policy", True, "Operator policies."),
    ("x509", True, "X.509 chain checks."),
    ("evidence", True, "Browse and export evidence records."),
    ("audit", True, "Audit evidence offline."),
    ("log", True, "The Merkle log over the evidence: checkpoints and proofs."),
    (
        "report",
        True,
        (
            "Reports for regulators and auditors: requirement catalogue, "
            "compliance, vendor concentration, one HTML page."
        ),
    ),
    (
        "certification",
        True,
        "The operator's certification register (operator-attested certificates).",
    ),
)

_HELP = "Prove that a vendor delivery is what the vendor signed and a body certified."

#: Options of the root callback that come before a command name.
_ROOT_FLAGS = frozenset({"--debug"})


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vendorproof {__version__}")
        raise typer.Exit(ExitCode.OK)


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


def _new_root() -> typer.Typer:
    new = typer.Typer(
        name="vendorproof",
        help=_HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    new.callback()(_root)
    return new


def build_app(modules: Iterable[str] = ALL_MODULES) -> typer.Typer:
    """The command line with the commands of ``modules`` (every one by default)."""
    new = _new_root()
    for name in modules:
        importlib.import_module(f"vendorproof._cli.{name}").register(new)
    wrap_commands(new)  # the exit-code mapping, once for every command
    use_plain_usage(new)
    return new


def _never_run() -> None:  # pragma: no cover - see overview_app
    raise AssertionError("an overview entry was run as a command")


def overview_app() -> typer.Typer:
    """The root with every command listed from :data:`OVERVIEW`, none built.

    For invocations that name no command: the root's help, version, "missing
    command" and "no such command" need each command's name and summary only. The
    entries cannot run (``main`` uses this root only when no known command is
    named).
    """
    new = _new_root()
    for name, group, summary in OVERVIEW:
        if group:
            new.add_typer(typer.Typer(help=summary), name=name)
        else:
            new.command(name, help=summary)(_never_run)
    use_plain_usage(new)
    return new


def modules_for(args: Sequence[str]) -> tuple[str, ...] | None:
    """The command modules an invocation with ``args`` needs; None: no command.

    The first argument that is not a root flag names the command; without one (no
    arguments, ``--help``, ``--version``, an unknown name) no command module is
    needed (:func:`overview_app`).
    """
    for arg in args:
        if arg in _ROOT_FLAGS:
            continue
        return COMMAND_MODULES.get(arg)
    return None


def __getattr__(name: str) -> typer.Typer:
    """``app``: the full command line, built on first use (tests, documentation)."""
    if name == "app":
        full = build_app()
        globals()["app"] = full
        return full
    raise AttributeError(name)


def main() -> None:
    """Console-script entry point.

    When the command has ended, every object left is moved to the collector's
    permanent generation (``gc.freeze``): the interpreter's shutdown then frees what
    reference counting frees without tracing the whole heap again (about 0.1 s of
    a ``verify`` process, ``docs/performance.md``, "Start-up"). Files, databases and
    temporary directories are closed by the commands themselves or by ``atexit``
    finalizers, which still run.
    """
    try:
        modules = modules_for(sys.argv[1:])
        cli = overview_app() if modules is None else build_app(modules)
        cli(prog_name="vendorproof")
    except KeyboardInterrupt:  # outside a command (a command maps its own)
        err("interrupted")
        raise SystemExit(ExitCode.INTERRUPTED) from None
    finally:
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    main()
