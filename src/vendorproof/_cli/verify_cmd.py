"""Operator-side commands: verify, policy check, x509 verify."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vendorproof._cli import _reports
from vendorproof._cli._choices import EkuChoice, OutputFormat, RevocationChoice
from vendorproof._cli._common import (
    SignatureFiles,
    console,
    echo,
    parse_at,
    validation_time,
)
from vendorproof._cli._errors import ExitCode
from vendorproof._internal.jsonio import read_document

if TYPE_CHECKING:
    from vendorproof.verify.result import CheckResult, VerificationReport

policy_app = typer.Typer(help="Operator policies.", no_args_is_help=True)
x509_app = typer.Typer(help="X.509 chain checks.", no_args_is_help=True)

At = Annotated[
    str | None,
    typer.Option(
        "--at", help="Validation time, RFC 3339 (default: now).", metavar="TIME"
    ),
]


#: Above this many checks, passing checks are summarised per check (``--all`` shows
#: every row; the JSON report always has every check).
SUMMARY_THRESHOLD = 60


def _rows(
    report: VerificationReport, *, show_all: bool
) -> list[tuple[str, str, str, str, tuple[str, ...]]]:
    """Table rows: every check, or problems in full and the rest grouped per check."""
    checks = report.checks
    if show_all or len(checks) <= SUMMARY_THRESHOLD:
        return [
            (c.check, c.subject, c.outcome.value, c.reason, c.requirements)
            for c in checks
        ]
    grouped = ("pass", "not-applicable")
    groups: dict[tuple[str, str, tuple[str, ...]], list[CheckResult]] = {}
    order: list[tuple[str, str, tuple[str, ...]] | CheckResult] = []
    for c in checks:
        if c.outcome.value in grouped:
            key = (c.check, c.outcome.value, c.requirements)
            if key not in groups:
                order.append(key)
            groups.setdefault(key, []).append(c)
        else:
            order.append(c)
    rows = []
    for item in order:
        if isinstance(item, tuple):
            members = groups[item]
            first = members[0]
            if len(members) == 1:
                rows.append(
                    (
                        first.check,
                        first.subject,
                        first.outcome.value,
                        first.reason,
                        first.requirements,
                    )
                )
            else:
                rows.append(
                    (
                        first.check,
                        f"{len(members)} subjects",
                        first.outcome.value,
                        "(--all lists each)",
                        first.requirements,
                    )
                )
        else:
            rows.append(
                (
                    item.check,
                    item.subject,
                    item.outcome.value,
                    item.reason,
                    item.requirements,
                )
            )
    return rows


def header(report: VerificationReport) -> list[str]:
    """Who the delivery is from (the verified signer) and what its manifest declares.

    The vendor is the policy's principal whose anchor or key verified the manifest;
    the manifest's own vendor, product and version are shown as declared claims.
    """
    from vendorproof.models.checks import Check

    d = report.delivery
    principal, declared = d.principal, d.vendor
    if principal is not None:
        vendor = (
            f"vendor: {principal.id} ({principal.name}), verified signer of the "
            "manifest"
        )
    elif declared is not None or d.manifest is not None:
        vendor = "vendor: none verified (no trusted vendor signed the manifest)"
    elif any(c.check == Check.ERROR for c in report.checks):
        vendor = "vendor: none verified (the delivery could not be verified: see error)"
    else:
        vendor = "vendor: none verified (no manifest)"
    lines = [vendor]
    if declared is not None:
        lines.append(
            f"declared by the manifest: vendor {declared.name!r} "
            f"(id {declared.id!r}), product {d.product!r}, "
            f"version {d.version!r}"
        )
    return lines


def print_report(report: VerificationReport, *, show_all: bool = False) -> None:
    """Render a report as a rich table on standard output.

    Every string passes ``console()``'s escaping of control and bidirectional
    characters; subjects and reasons are also escaped for rich markup.
    """
    from rich.markup import escape
    from rich.table import Table

    styles = {
        "pass": "green",
        "fail": "bold red",
        "warn": "yellow",
        "error": "bold red",
    }
    out = console(width=max(console().width, 160))
    for line in header(report):
        out.out(line, highlight=False)
    table = Table(
        "check",
        "subject",
        "outcome",
        "reason",
        "requirements",
        expand=True,
    )
    for check, subject, outcome, reason, req in _rows(report, show_all=show_all):
        style = styles.get(outcome, "dim")
        # Subjects and reasons quote delivered documents: never interpret markup.
        table.add_row(
            check,
            escape(subject),
            f"[{style}]{outcome}[/{style}]",
            escape(reason),
            ", ".join(req),
        )
    out.print(table)
    p = report.policy
    out.out(
        f"policy {p['id']} {p['version']} ({p['legalBasis']}), validation time "
        f"{report.verified_at.isoformat()} ({report.time_source})",
        highlight=False,
    )
    color = "green" if report.ok else "red"
    out.print(f"verdict: [bold {color}]{report.verdict}[/bold {color}]")


def verify(
    delivery: Annotated[Path, typer.Argument(help="Delivery directory.")],
    policy: Annotated[
        Path, typer.Option("--policy", help="Operator policy YAML.", metavar="PATH")
    ],
    at: At = None,
    output_format: _reports.Format = OutputFormat.TEXT,
    output: _reports.OutputJson = None,
    output_sarif: _reports.OutputSarif = None,
    output_junit: _reports.OutputJunit = None,
    force: _reports.Force = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="List every passing check in the table.")
    ] = False,
    signature: SignatureFiles = None,
) -> None:
    """Verify DELIVERY against POLICY; exit 0 verified, 1 failed, 3 invalid input."""
    from vendorproof._cli._common import progress
    from vendorproof.intake import check_delivery, load_policy, load_signatures

    fmt = _reports.parse_format(output_format)
    when, source = validation_time(at)
    report = check_delivery(
        delivery,
        load_policy(policy),
        at=when,
        time_source=source,
        progress=progress,
        signatures=load_signatures(signature or []),
    )
    _reports.emit(
        report,
        fmt=fmt,
        outputs=_reports.outputs(output, output_sarif, output_junit),
        force=force,
        command="verify",
        delivery_root=delivery,
        print_text=lambda: print_report(report, show_all=show_all),
    )
    if not report.ok:
        raise typer.Exit(ExitCode.VERIFICATION_FAILED)


@policy_app.command("check")
def policy_check(
    policy: Annotated[Path, typer.Argument(help="Policy YAML to validate.")],
) -> None:
    """Validate a policy file (schema, referenced anchors and keys)."""
    from vendorproof.intake import load_policy

    p = load_policy(policy)
    echo(
        f"OK: {policy}: policy {p.id} {p.version} ({p.legal_basis}); "
        f"{len(p.vendors)} vendors, {len(p.certification_bodies)} certification "
        f"bodies, {len(p.certification_rules)} certification rules, "
        f"{len(p.deny_list)} deny-list "
        f"entries; sha256 {p.digest}"
    )


@policy_app.command("import-notation")
def policy_import_notation(
    trust_policy: Annotated[
        Path,
        typer.Argument(
            help="Notation trust policy (trustpolicy.json, version 1.0).",
            metavar="TRUSTPOLICY",
        ),
    ],
    trust_store: Annotated[
        Path,
        typer.Option(
            "--trust-store",
            help="Notation trust store directory (x509/ca|signingAuthority|tsa/NAME/).",
            metavar="DIR",
        ),
    ],
    output: Annotated[
        Path,
        typer.Option("-o", "--output", help="Policy YAML to write.", metavar="PATH"),
    ],
    policy_id: Annotated[
        str,
        typer.Option("--policy-id", help="policy.id of the result.", metavar="ID"),
    ] = "notation-import",
    legal_basis: Annotated[
        str,
        typer.Option(
            "--legal-basis", help="policy.legalBasis of the result.", metavar="TEXT"
        ),
    ] = "Notation trust policy (state the rule it implements)",
    force: _reports.Force = False,
) -> None:
    """Turn a Notation trust policy and its trust store into a policy file.

    What the trust policy holds that the policy cannot express is printed on
    standard error and written as comments at the top of the policy.
    """
    from vendorproof._internal.jsonio import write_atomic
    from vendorproof.intake import import_notation_policy

    result = import_notation_policy(
        trust_policy, trust_store, policy_id=policy_id, legal_basis=legal_basis
    )
    write_atomic(output, result.policy, force=force)
    for note in result.notes:
        echo(f"note: {note}", err=True)
    echo(
        f"OK: {output}: {len(result.vendors)} vendors "
        f"({', '.join(result.vendors)}) from {trust_policy}"
    )


@x509_app.command("verify")
def x509_verify(
    leaf: Annotated[Path, typer.Argument(help="Leaf certificate (PEM).")],
    roots: Annotated[
        Path, typer.Option("--roots", help="Trust anchors (PEM).", metavar="PATH")
    ],
    intermediates: Annotated[
        Path | None,
        typer.Option("--intermediates", help="Intermediates (PEM).", metavar="PATH"),
    ] = None,
    at: At = None,
    eku: Annotated[
        EkuChoice, typer.Option("--eku", help="The extended key usage the leaf needs.")
    ] = EkuChoice.CODE_SIGNING,
    crl: Annotated[
        list[Path] | None,
        typer.Option("--crl", help="CRL file (PEM/DER), repeatable.", metavar="PATH"),
    ] = None,
    revocation: Annotated[
        RevocationChoice,
        typer.Option("--revocation", help="How missing revocation data is treated."),
    ] = RevocationChoice.IF_AVAILABLE,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Check one certificate chain (code-signing profile by default)."""
    from vendorproof._internal.pem import load_certificates, load_crl
    from vendorproof.errors import VerificationError
    from vendorproof.models.policy import RevocationMode
    from vendorproof.verify.revocation import verify_revocation
    from vendorproof.verify.x509 import Eku, describe, fingerprint, verify_chain

    mode = RevocationMode(revocation.value)
    crls = [load_crl(read_document(p), file=str(p)) for p in crl or []]

    usage = Eku(eku.value)
    leaf_certs = load_certificates(read_document(leaf), file=str(leaf))
    anchors = load_certificates(read_document(roots), file=str(roots))
    inter = (
        load_certificates(read_document(intermediates), file=str(intermediates))
        if intermediates
        else []
    )
    when = parse_at(at)
    try:
        chain = verify_chain(
            leaf_certs[0], [*leaf_certs[1:], *inter], anchors, at=when, eku=usage
        )
        revocation_detail = verify_revocation(
            chain, crls, at=when, signed_at=None, mode=mode
        )
    except VerificationError as e:
        if as_json:
            _reports.print_json({"valid": False, "reason": str(e)})
        else:
            echo(f"INVALID: {e}", err=True)
        raise typer.Exit(ExitCode.VERIFICATION_FAILED) from e
    info = {
        "valid": True,
        "at": when.isoformat(),
        "chain": [
            {"subject": describe(c), "sha256": fingerprint(c)} for c in chain.chain
        ],
        "revocation": revocation_detail,
    }
    if as_json:
        _reports.print_json(info)
    else:
        echo("VALID: " + " -> ".join(describe(c) for c in chain.chain))
        echo(f"revocation: {revocation_detail}")


def register(app: typer.Typer) -> None:
    """Attach the operator-side commands to ``app``."""
    app.command("verify")(verify)
    app.add_typer(policy_app, name="policy")
    app.add_typer(x509_app, name="x509")
