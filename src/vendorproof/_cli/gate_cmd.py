"""``vendorproof gate``: the update decision for pipelines (``docs/ci.md``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vendorproof._cli import _reports
from vendorproof._cli._choices import OutputFormat
from vendorproof._cli._common import echo, validation_time
from vendorproof._cli._errors import ExitCode
from vendorproof.errors import InvalidInputError

if TYPE_CHECKING:
    from vendorproof.gate import InstalledRelease, InstalledSource

GATE_HELP = """Decide whether DELIVERY may be rolled out over the installed release.

Runs every check of `verify`, then the update path: the vendor that verifiably signed
the manifest and its product are those of the installed release (installed-product),
and its securityVersion is not lower than the installed one (downgrade) unless a policy
rollbackExceptions entry names exactly that securityVersion (then a warning).

The installed release comes from --installed STATE (a JSON or YAML file, see
docs/formats.md) or from --store URL: the last delivery of the same vendor and product
that the store's signed records say was accepted. Every record must verify with
--operator-pub (a record that does not fails installed-product); the store is opened
read-only.

Exit codes for pipelines: 0 accepted; 1 rejected (a check failed); 3 could not decide
(malformed or unreadable delivery, policy, state file or store, bad option, output
exists); 4 bug in vendorproof. 2 is a usage error (unknown option).
"""


def _fixed(release: InstalledRelease) -> InstalledSource:
    """A state file names one release, whatever the delivery (the check compares)."""

    def installed_for(_vendor: str, _product: str) -> InstalledRelease | None:
        return release

    return installed_for


def gate(
    delivery: Annotated[Path, typer.Argument(help="Delivery directory.")],
    policy: Annotated[
        Path, typer.Option("--policy", help="Operator policy YAML.", metavar="PATH")
    ],
    installed: Annotated[
        Path | None,
        typer.Option(
            "--installed",
            metavar="STATE",
            help="What is installed: a JSON or YAML state file.",
        ),
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            metavar="URL",
            help="What is installed: the last accepted delivery of the same vendor "
            "and product in this evidence store (SQLite path or postgresql://...).",
        ),
    ] = None,
    operator_pub: Annotated[
        list[Path] | None,
        typer.Option(
            "--operator-pub",
            help="Operator public key(s) the store's records must verify with "
            "(repeat for earlier keys); required with --store.",
            metavar="PATH",
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at", help="Validation time, RFC 3339 (default: now).", metavar="TIME"
        ),
    ] = None,
    output_format: _reports.Format = OutputFormat.TEXT,
    output_json: _reports.OutputJson = None,
    output_sarif: _reports.OutputSarif = None,
    output_junit: _reports.OutputJunit = None,
    force: _reports.Force = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="List every passing check in the table.")
    ] = False,
) -> None:
    from vendorproof._cli._common import progress
    from vendorproof._cli.verify_cmd import print_report
    from vendorproof._internal import crypto
    from vendorproof._internal.jsonio import read_document
    from vendorproof.evidence.store import EvidenceStore, open_store
    from vendorproof.gate import (
        installed_from_store,
        load_installed,
        run_gate,
    )
    from vendorproof.intake import load_policy

    fmt = _reports.parse_format(output_format)
    if (installed is None) == (store is None):
        raise InvalidInputError(
            "give exactly one of --installed STATE and --store URL", path="--installed"
        )
    if store is not None and not operator_pub:
        raise InvalidInputError(
            "--store needs the operator public key(s) its records must verify with",
            path="--operator-pub",
        )
    when, source = validation_time(at)
    loaded_policy = load_policy(policy)
    opened: EvidenceStore | None = None
    if installed is not None:
        installed_for = _fixed(load_installed(installed))
    else:
        keys = [
            crypto.load_public_key(read_document(p), file=str(p))
            for p in operator_pub or []
        ]
        opened = open_store(str(store), read_only=True)
        installed_for = installed_from_store(opened, keys)
    try:
        result = run_gate(
            delivery,
            loaded_policy,
            installed_for=installed_for,
            at=when,
            time_source=source,
            progress=progress,
        )
    finally:
        if opened is not None:
            opened.close()

    def text() -> None:
        if result.installed is not None:
            echo(f"installed: {result.installed.describe()}")
        elif store is not None:
            echo(f"installed: no accepted release in {opened.url if opened else store}")
        print_report(result.report, show_all=show_all)
        echo("update " + ("ACCEPTED" if result.accepted else "REJECTED"))

    extra = {"installed": result.installed.to_dict()} if result.installed else None
    _reports.emit(
        result.report,
        fmt=fmt,
        outputs=_reports.outputs(output_json, output_sarif, output_junit),
        force=force,
        command="gate",
        delivery_root=delivery,
        print_text=text,
        extra=extra,
    )
    if not result.accepted:
        raise typer.Exit(ExitCode.VERIFICATION_FAILED)


def register(app: typer.Typer) -> None:
    """Attach ``gate`` to ``app``."""
    app.command("gate", help=GATE_HELP)(gate)
