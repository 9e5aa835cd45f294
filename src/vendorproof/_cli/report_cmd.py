"""The ``report`` commands: what the regulator and the auditor ask for.

``report catalogue`` prints the requirement catalogue shipped with vendorproof (text,
JSON, or CycloneDX 1.6 ``definitions.standards``); ``report compliance`` reads the
evidence store and shows, per requirement, the checks that provide evidence and the
deliveries accepted and rejected (docs/requirements.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vendorproof._cli._common import echo
from vendorproof._cli._errors import handle_errors
from vendorproof._internal.jsonio import write_atomic
from vendorproof.errors import InvalidInputError

report_app = typer.Typer(
    help="Reports for regulators and auditors: requirement catalogue, compliance.",
    no_args_is_help=True,
)

_CATALOGUE_FORMATS = ("text", "json", "cyclonedx")

CatalogueFormat = Annotated[
    str,
    typer.Option(
        "--format",
        metavar="text|json|cyclonedx",
        help="The table (text), vendorproof's JSON, or CycloneDX 1.6 "
        "definitions.standards.",
    ),
]
Output = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write to FILE instead of standard output."),
]
Force = Annotated[bool, typer.Option("--force", help="Overwrite the output file.")]


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise InvalidInputError(f"expected {', '.join(allowed)}", path=option)
    return value


def _write(text: str, output: Path | None, *, force: bool) -> None:
    if output is not None:
        write_atomic(output, text.encode("utf-8"), force=force)
        return
    for line in text.splitlines():
        echo(line)


@handle_errors
def catalogue_cmd(
    output_format: CatalogueFormat = "text",
    output: Output = None,
    force: Force = False,
) -> None:
    """Show the requirement catalogue: ids, confidence, aliases and checks."""
    from vendorproof.models.requirements import catalogue
    from vendorproof.reports.requirements import catalogue_bom_json, catalogue_dict

    fmt = _choice(output_format, _CATALOGUE_FORMATS, "--format")
    cat = catalogue()
    if fmt == "cyclonedx":
        _write(catalogue_bom_json(cat) + "\n", output, force=force)
        return
    if fmt == "json":
        text = json.dumps(catalogue_dict(cat), indent=2, ensure_ascii=False)
        _write(text + "\n", output, force=force)
        return
    lines = [f"requirement catalogue {cat.name} {cat.version} ({cat.date})"]
    for r in cat.requirements:
        aliases = f" (alias {', '.join(r.aliases)})" if r.aliases else ""
        lines.append(f"{r.id:<34} {r.confidence.value:<11} {r.title}{aliases}")
        checks = cat.checks_for(r.id)
        lines.append(
            f"{'':<34} {'':<11} evidence: "
            + (", ".join(checks) if checks else r.evidence)
        )
    _write("\n".join(lines) + "\n", output, force=force)


def register(app: typer.Typer) -> None:
    """Add the ``report`` command group to ``app``."""
    report_app.command("catalogue")(catalogue_cmd)
    app.add_typer(report_app, name="report")
