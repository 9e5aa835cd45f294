"""The ``report`` commands: what the regulator and the auditor ask for.

``report catalogue`` prints the requirement catalogue shipped with vendorproof (text,
JSON, or CycloneDX 1.6 ``definitions.standards``); ``report compliance`` reads the
evidence store and shows, per requirement, the checks that provide evidence and the
deliveries accepted and rejected (docs/requirements.md).
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vendorproof._cli._common import echo, parse_at
from vendorproof._cli._errors import ExitCode, err, handle_errors
from vendorproof._internal.jsonio import write_atomic
from vendorproof.errors import InvalidInputError

if TYPE_CHECKING:
    from vendorproof.reports._records import StoreView

report_app = typer.Typer(
    help="Reports for regulators and auditors: requirement catalogue, compliance, "
    "vendor concentration, one HTML page.",
    no_args_is_help=True,
)

_CATALOGUE_FORMATS = ("text", "json", "cyclonedx")
STORE_ENV = "VENDORPROOF_STORE"  # the variable evidence commands read

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
    typer.Option(
        "--output",
        "-o",
        help="Write to FILE instead of standard output.",
        metavar="PATH",
    ),
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


_REPORT_FORMATS = ("text", "json", "html")

ReportFormat = Annotated[
    str,
    typer.Option(
        "--format",
        metavar="text|json|html",
        help="The text report, its JSON, or one self-contained HTML page.",
    ),
]
StoreUrl = Annotated[
    str | None,
    typer.Option(
        "--store",
        metavar="URL",
        help="Store URL: a SQLite path (default ./vendorproof-evidence.db, or "
        "$VENDORPROOF_STORE) or postgresql://... (opened read-only).",
    ),
]
OperatorPub = Annotated[
    list[Path],
    typer.Option(
        "--operator-pub",
        metavar="PUB",
        help="The operator's public key(s) (PEM): only records they verify count.",
    ),
]
Since = Annotated[
    str | None,
    typer.Option(
        "--since", metavar="T", help="First verification time (RFC 3339) to include."
    ),
]
Until = Annotated[
    str | None,
    typer.Option(
        "--until", metavar="T", help="Last verification time (RFC 3339) to include."
    ),
]


def _store_view(store: str | None, operator_pub: list[Path]) -> StoreView:
    """Every record of the store, verified with the pinned operator keys."""
    import os

    from vendorproof._internal import crypto
    from vendorproof._internal.jsonio import read_document
    from vendorproof.evidence.readout import store_view
    from vendorproof.evidence.store import DEFAULT_STORE, open_store

    if not operator_pub:
        raise InvalidInputError(
            "give the operator's public key: only records it verifies count",
            path="--operator-pub",
        )
    keys = [crypto.load_public_key(read_document(p), file=str(p)) for p in operator_pub]
    url = store or os.environ.get(STORE_ENV) or DEFAULT_STORE
    s = open_store(url, read_only=True)
    try:
        return store_view(s, keys)
    finally:
        s.close()


def _finish(view: StoreView) -> None:
    """Exit 1 after the report when a record does not verify or the chain breaks."""
    if not view.intact:
        err(
            f"FAIL: {len(view.unverified)} record(s) do not verify and "
            f"{len(view.chain)} chain break(s) in {view.url} (listed in the report)"
        )
        raise typer.Exit(ExitCode.VERIFICATION_FAILED)


@handle_errors
def compliance_cmd(
    store: StoreUrl = None,
    operator_pub: OperatorPub = [],  # noqa: B006 - typer list options need a list
    since: Since = None,
    until: Until = None,
    output_format: ReportFormat = "text",
    output: Output = None,
    force: Force = False,
) -> None:
    """Per requirement: the checks that evidence it, and deliveries accepted/rejected.

    Exit 0 when every record of the store verifies with --operator-pub, 1 when one
    does not or the chain is broken (the report lists them), 3 for bad input.
    """
    from vendorproof.models.requirements import catalogue
    from vendorproof.reports.compliance import compliance_report

    fmt = _choice(output_format, _REPORT_FORMATS, "--format")
    start = parse_at(since, option="--since") if since else None
    end = parse_at(until, option="--until") if until else None
    view = _store_view(store, operator_pub)
    report = compliance_report(view, catalogue(), since=start, until=end)
    if fmt == "json":
        text = json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "html":
        text = report.html()
    else:
        text = report.text()
    _write(text, output, force=force)
    _finish(view)


def _fraction(value: str | None, option: str) -> Fraction | None:
    """A threshold between 0 and 1 given as a decimal (``0.7``)."""
    if value is None:
        return None
    try:
        number = Fraction(Decimal(value))
    except (InvalidOperation, ValueError):
        raise InvalidInputError(
            f"expected a number, got {value!r}", path=option
        ) from None
    if not 0 <= number <= 1:
        raise InvalidInputError(f"expected 0..1, got {value}", path=option)
    return number


@handle_errors
def concentration_cmd(
    inventory: Annotated[
        Path,
        typer.Option(
            "--inventory",
            help="Deployment inventory: CSV, TMF639 resource JSON or CycloneDX JSON.",
            metavar="PATH",
        ),
    ],
    policy: Annotated[
        Path,
        typer.Option(
            "--policy", help="Operator policy (vendors, deny-list).", metavar="PATH"
        ),
    ],
    store: StoreUrl = None,
    operator_pub: OperatorPub = [],  # noqa: B006 - typer list options need a list
    high_risk: Annotated[
        list[str],
        typer.Option(
            "--high-risk",
            metavar="VENDOR",
            help="A policy vendor id or name to mark high-risk.",
        ),
    ] = [],  # noqa: B006 - typer list options need a list
    max_share: Annotated[
        str | None,
        typer.Option(
            "--max-share",
            metavar="X",
            help="Warn above this largest vendor share (0..1).",
        ),
    ] = None,
    max_hhi: Annotated[
        str | None,
        typer.Option("--max-hhi", metavar="X", help="Warn above this HHI (0..1)."),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at", metavar="T", help="Time the deny-list is evaluated at (RFC 3339)."
        ),
    ] = None,
    output_format: ReportFormat = "text",
    output: Output = None,
    force: Force = False,
) -> None:
    """Vendor shares, HHI and single-vendor flags per domain and network function.

    Thresholds only add warnings. Exit 0 when every record of the store verifies
    with --operator-pub, 1 otherwise (after the report), 3 for bad input.
    """
    from vendorproof._internal.jsonio import read_document
    from vendorproof.intake import load_policy
    from vendorproof.models.inventory import parse_inventory
    from vendorproof.reports.concentration import Thresholds, concentration_report

    fmt = _choice(output_format, _REPORT_FORMATS, "--format")
    thresholds = Thresholds(
        max_share=_fraction(max_share, "--max-share"),
        max_hhi=_fraction(max_hhi, "--max-hhi"),
    )
    when = parse_at(at)
    pol = load_policy(policy)
    known = {v.id for v in pol.vendors} | {v.name for v in pol.vendors}
    for name in high_risk:
        if name not in known:
            raise InvalidInputError(
                f"{name!r} is not a vendor id or name of the policy", path="--high-risk"
            )
    inv = parse_inventory(read_document(inventory), file=str(inventory))
    view = _store_view(store, operator_pub)
    report = concentration_report(
        inv,
        view,
        inventory_file=str(inventory),
        vendors=pol.vendors,
        deny_list=pol.deny_list,
        high_risk=high_risk,
        at=when,
        thresholds=thresholds,
    )
    if fmt == "json":
        text = json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "html":
        text = report.html()
    else:
        text = report.text()
    _write(text, output, force=force)
    _finish(view)


@handle_errors
def html_cmd(
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="The HTML file to write.", metavar="PATH"),
    ],
    store: StoreUrl = None,
    operator_pub: OperatorPub = [],  # noqa: B006 - typer list options need a list
    inventory: Annotated[
        Path | None,
        typer.Option(
            "--inventory",
            help="Deployment inventory (adds concentration).",
            metavar="PATH",
        ),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help="Operator policy (needed with --inventory).",
            metavar="PATH",
        ),
    ] = None,
    high_risk: Annotated[
        list[str],
        typer.Option(
            "--high-risk",
            metavar="VENDOR",
            help="A policy vendor id or name to mark high-risk.",
        ),
    ] = [],  # noqa: B006 - typer list options need a list
    since: Since = None,
    until: Until = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at", metavar="T", help="Time the deny-list is evaluated at (RFC 3339)."
        ),
    ] = None,
    force: Force = False,
) -> None:
    """One self-contained HTML page for auditors (no scripts, no network access).

    Exit 0 when every record verifies with --operator-pub, 1 otherwise (the page
    is written and shows why), 3 for bad input.
    """
    from vendorproof._internal.jsonio import read_document
    from vendorproof.intake import load_policy
    from vendorproof.models.inventory import parse_inventory
    from vendorproof.models.requirements import catalogue
    from vendorproof.reports.auditor import auditor_page
    from vendorproof.reports.compliance import compliance_report
    from vendorproof.reports.concentration import Thresholds, concentration_report

    if (inventory is None) != (policy is None):
        raise InvalidInputError(
            "give --inventory and --policy together", path="--inventory"
        )
    start = parse_at(since, option="--since") if since else None
    end = parse_at(until, option="--until") if until else None
    when = parse_at(at)
    concentration = None
    view = None
    if inventory is not None and policy is not None:
        pol = load_policy(policy)
        inv = parse_inventory(read_document(inventory), file=str(inventory))
        view = _store_view(store, operator_pub)
        concentration = concentration_report(
            inv,
            view,
            inventory_file=str(inventory),
            vendors=pol.vendors,
            deny_list=pol.deny_list,
            high_risk=high_risk,
            at=when,
            thresholds=Thresholds(),
        )
    if view is None:
        view = _store_view(store, operator_pub)
    report = compliance_report(view, catalogue(), since=start, until=end)
    write_atomic(
        output, auditor_page(report, concentration).encode("utf-8"), force=force
    )
    _finish(view)


def register(app: typer.Typer) -> None:
    """Add the ``report`` command group to ``app``."""
    report_app.command("catalogue")(catalogue_cmd)
    report_app.command("compliance")(compliance_cmd)
    report_app.command("concentration")(concentration_cmd)
    report_app.command("html")(html_cmd)
    app.add_typer(report_app, name="report")
