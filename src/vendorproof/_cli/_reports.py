"""Report options shared by verify, intake and gate.

``--format`` chooses what goes to standard output, and one output file per
machine-readable format lets one run print the table and write every artefact.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from vendorproof._cli._choices import OutputFormat
from vendorproof._internal.jsonio import write_atomic
from vendorproof.reports import ReportFormat, render
from vendorproof.verify.result import VerificationReport

Format = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        help="What to print on standard output: the table (text), the JSON report, "
        "a SARIF 2.1.0 log or JUnit XML.",
    ),
]
OutputJson = Annotated[
    Path | None,
    typer.Option(
        "--output-json",
        "--output",
        "-o",
        help="Also write the JSON report.",
        metavar="PATH",
    ),
]
OutputSarif = Annotated[
    Path | None,
    typer.Option(
        "--output-sarif", help="Also write the report as SARIF 2.1.0.", metavar="PATH"
    ),
]
OutputJunit = Annotated[
    Path | None,
    typer.Option(
        "--output-junit", help="Also write the report as JUnit XML.", metavar="PATH"
    ),
]
Force = Annotated[
    bool, typer.Option("--force", help="Overwrite existing output files.")
]


def parse_format(value: OutputFormat) -> ReportFormat | None:
    """The ``--format`` value (``None`` for the text table)."""
    return None if value is OutputFormat.TEXT else ReportFormat(value.value)


def machine_document(data: bytes) -> str:
    """A rendered SARIF or JUnit document as text for standard output.

    Both are terminal-safe as rendered: SARIF is ASCII JSON, and JUnit XML has every
    control, bidirectional and line-separator character replaced (``xml_text``).
    """
    return data.decode("utf-8")


def outputs(
    json: Path | None, sarif: Path | None, junit: Path | None
) -> dict[ReportFormat, Path | None]:
    """The ``--output-*`` files of one command, by format."""
    return {
        ReportFormat.JSON: json,
        ReportFormat.SARIF: sarif,
        ReportFormat.JUNIT: junit,
    }


def emit(
    report: VerificationReport,
    *,
    fmt: ReportFormat | None,
    outputs: Mapping[ReportFormat, Path | None],
    force: bool,
    command: str,
    delivery_root: Path,
    print_text: Callable[[], None],
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Write every requested artefact, then print the chosen format."""

    def rendered(f: ReportFormat) -> bytes:
        return render(
            report, f, command=command, delivery_root=delivery_root, extra=extra
        )

    for f, path in outputs.items():
        if path is not None:
            write_atomic(path, rendered(f), force=force)
    if fmt is None:
        print_text()
    elif fmt is ReportFormat.JSON:
        # ASCII escapes on a terminal (the file keeps the text as it is).
        data = report.to_dict()
        data.update(extra or {})
        typer.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        typer.echo(machine_document(rendered(fmt)), nl=False)
