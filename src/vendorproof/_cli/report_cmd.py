"""The ``report`` commands: what the regulator and the auditor ask for.

``report catalogue`` prints the requirement catalogue shipped with vendorproof (text,
JSON, or CycloneDX 1.6 ``definitions.standards``); ``report compliance`` reads the
evidence store and shows, per requirement, the checks that provide evidence and the
deliveries accepted and rejected (docs/requirements.md); ``report concentration``
joins the deployment inventory with the accepted deliveries and can record the report
as a signed evidence record (docs/concentration.md).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vendorproof._cli._common import echo, parse_at, validation_time
from vendorproof._cli._errors import ExitCode, err, handle_errors
from vendorproof._internal.jsonio import write_atomic
from vendorproof.errors import InvalidInputError

if TYPE_CHECKING:
    from vendorproof.models.policy import Policy
    from vendorproof.reports._records import StoreView
    from vendorproof.reports.concentration import ConcentrationReport

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


def _render(report: ConcentrationReport, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
    return report.html() if fmt == "html" else report.text()


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
            "--policy",
            help="Operator policy: vendors, deny-list, and the concentration "
            "section (high-risk vendors, warning thresholds).",
            metavar="PATH",
        ),
    ],
    store: StoreUrl = None,
    operator_pub: OperatorPub = [],  # noqa: B006 - typer list options need a list
    at: Annotated[
        str | None,
        typer.Option(
            "--at", metavar="T", help="Time the deny-list is evaluated at (RFC 3339)."
        ),
    ] = None,
    record: Annotated[
        bool,
        typer.Option(
            "--record",
            help="Sign the report with --operator-key and append it to the store's "
            "evidence chain (the policy and the inventory stored as inputs).",
        ),
    ] = False,
    operator_key: Annotated[
        Path | None,
        typer.Option(
            "--operator-key",
            help="Operator's record-signing key (PEM or pkcs11: URI), with --record.",
            metavar="PATH",
        ),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            "--actor",
            help="Who makes the recorded report (default: user).",
            metavar="TEXT",
        ),
    ] = None,
    output_format: ReportFormat = "text",
    output: Output = None,
    force: Force = False,
) -> None:
    """Vendor shares, HHI and single-vendor flags per domain and network function.

    High-risk vendors and thresholds come from the policy; thresholds only add
    warnings. With --record the report becomes a signed evidence record that
    `audit replay` recomputes. Exit 0 when every record of the store verifies with
    --operator-pub (and the --operator-key), 1 otherwise (after the report), 3 for
    bad input.
    """
    from vendorproof._internal.jsonio import read_document
    from vendorproof.intake import load_policy
    from vendorproof.models.inventory import parse_inventory
    from vendorproof.reports.concentration import concentration_report

    fmt = _choice(output_format, _REPORT_FORMATS, "--format")
    when, source = validation_time(at)
    if record != (operator_key is not None):
        raise InvalidInputError(
            "give --record and --operator-key together", path="--operator-key"
        )
    pol = load_policy(policy)
    raw = read_document(inventory)
    if operator_key is not None:
        report, seq = _record_concentration(
            store,
            pol,
            raw,
            inventory=inventory,
            operator_key=operator_key,
            operator_pub=operator_pub,
            actor=actor,
            at=(when, source),
        )
    else:
        inv = parse_inventory(raw, file=str(inventory))
        view = _store_view(store, operator_pub)
        report = concentration_report(
            inv, view, inventory_file=str(inventory), policy=pol, at=when
        )
        seq = None
    _write(_render(report, fmt), output, force=force)
    if seq is not None:
        err(f"recorded as evidence #{seq} in {report.view.url}")
    _finish(report.view)


def _record_concentration(
    store: str | None,
    policy: Policy,
    raw: bytes,
    *,
    inventory: Path,
    operator_key: Path,
    operator_pub: list[Path],
    actor: str | None,
    at: tuple[datetime, str],
) -> tuple[ConcentrationReport, int]:
    """The report, signed and appended to the store; its sequence number."""
    import getpass
    import os

    from vendorproof._cli._common import load_signing_key
    from vendorproof._internal import crypto
    from vendorproof._internal.jsonio import read_document
    from vendorproof.evidence.concentration import record_concentration
    from vendorproof.evidence.store import DEFAULT_STORE, open_store

    key = load_signing_key(operator_key)
    trusted = [
        crypto.load_public_key(read_document(p), file=str(p)) for p in operator_pub
    ]
    s = open_store(store or os.environ.get(STORE_ENV) or DEFAULT_STORE)
    try:
        stored, report = record_concentration(
            s,
            policy,
            raw,
            inventory_file=str(inventory),
            key=key,
            actor=actor or getpass.getuser(),
            at=at[0],
            time_source=at[1],
            trusted=trusted,
        )
    finally:
        s.close()
    return report, stored.seq


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
    from vendorproof.reports.concentration import concentration_report

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
            policy=pol,
            at=when,
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
