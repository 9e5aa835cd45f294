"""The one home of machine-readable command output.

``--format`` of verify, intake and gate chooses what goes to standard output, and
one output file per machine-readable format lets one run print the table and write
every artefact; the reports themselves are rendered by ``vendorproof.reports`` (JSON,
SARIF, JUnit). ``print_json`` prints every other command's ``--json`` document, and
``export_records`` renders ``evidence export`` (JSON lines, CSV, VSA). Human output
(tables, lines) goes through ``_common`` (``console()``, ``echo()``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vendorproof._cli._choices import ExportFormat, OutputFormat
from vendorproof._cli._common import json_text, safe_text
from vendorproof._internal.jsonio import write_atomic
from vendorproof.reports import ReportFormat, render
from vendorproof.verify.result import VerificationReport

if TYPE_CHECKING:
    from vendorproof.evidence.store import StoredRecord

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


def print_json(data: Any, *, sort_keys: bool = False) -> None:
    """Print a ``--json`` document (ASCII escapes: safe on a terminal)."""
    typer.echo(json.dumps(data, indent=2, sort_keys=sort_keys))


#: A CSV cell starting with one of these is a formula in a spreadsheet.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str) -> str:
    """A vendor-written value as a CSV cell: escaped, never read as a formula."""
    text = safe_text(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


_CSV_HEADER = (
    "seq",
    "created_at",
    "vendor",
    "product",
    "version",
    "security_version",
    "verdict",
    "sha256",
    "prev_sha256",
)


def export_records(records: Iterable[StoredRecord], fmt: ExportFormat) -> str:
    """``evidence export``: the records as JSON lines, CSV or VSA envelopes."""
    from vendorproof.evidence.report_record import parse_record

    buf = io.StringIO()
    writer = csv.writer(buf) if fmt is ExportFormat.CSV else None
    if writer is not None:
        writer.writerow(_CSV_HEADER)
    for r in records:
        if writer is not None:
            writer.writerow(
                [
                    r.seq,
                    r.created_at,
                    csv_text(r.vendor),
                    csv_text(r.product),
                    csv_text(r.version),
                    r.security_version,
                    r.verdict,
                    r.digest,
                    r.prev_digest or "",
                ]
            )
        elif fmt is ExportFormat.VSA:
            buf.write(r.envelope.decode("utf-8") + "\n")
        else:
            rec = parse_record(r.envelope)
            line = {
                "seq": r.seq,
                "sha256": r.digest,
                "statement": json.loads(rec.statement.raw),
            }
            buf.write(json_text(line, sort_keys=True) + "\n")
    return buf.getvalue()


def parse_format(value: OutputFormat) -> ReportFormat | None:
    """The ``--format`` value (``None`` for the text table)."""
    return None if value is OutputFormat.TEXT else ReportFormat(value.value)


def machine_document(data: bytes) -> str:
    """A rendered machine-readable document as text for standard output.

    Every one is terminal-safe as rendered: SARIF is ASCII JSON, JUnit XML has every
    control, bidirectional and line-separator character replaced (``xml_text``),
    and ``export_records`` escapes JSON lines with ``json_text`` and CSV cells with
    ``safe_text`` (VSA envelopes are the signed JSON as stored).
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
        print_json(data, sort_keys=True)
    else:
        typer.echo(machine_document(rendered(fmt)), nl=False)
