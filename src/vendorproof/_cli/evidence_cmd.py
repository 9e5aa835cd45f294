"""Evidence commands: intake, evidence list/show/export, audit replay."""

from __future__ import annotations

import dataclasses
import getpass
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vendorproof._cli import _reports
from vendorproof._cli._choices import ExportFormat, OutputFormat, VerdictChoice
from vendorproof._cli._common import (
    SignatureFiles,
    console,
    echo,
    json_text,
    load_signing_key,
    parse_at,
    progress,
    validation_time,
)
from vendorproof._cli._errors import ExitCode, err
from vendorproof._internal.jsonio import read_document
from vendorproof.errors import InvalidInputError

if TYPE_CHECKING:
    from vendorproof._internal.crypto import PublicKey
    from vendorproof.evidence.bundle import BundleSource, StoreSource
    from vendorproof.evidence.logcheck import LogCheck
    from vendorproof.evidence.replay import RecordSource, ReplaySummary
    from vendorproof.evidence.store import EvidenceStore, RecordFilter

evidence_app = typer.Typer(
    help="Browse and export evidence records.", no_args_is_help=True
)
audit_app = typer.Typer(help="Audit evidence offline.", no_args_is_help=True)

STORE_ENV = "VENDORPROOF_STORE"
Store = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Store URL: a SQLite path (default ./vendorproof-evidence.db, or "
        "$VENDORPROOF_STORE) or postgresql://...",
        metavar="URL",
    ),
]


def _location(url: str | None) -> str:
    from vendorproof.evidence.store import DEFAULT_STORE

    return url or os.environ.get(STORE_ENV) or DEFAULT_STORE


def _open(url: str | None, *, read_only: bool = True) -> EvidenceStore:
    """The store (``read_only``: never created, migrated or written)."""
    from vendorproof.evidence.store import open_store

    return open_store(_location(url), read_only=read_only)


def _public_keys(paths: list[Path]) -> list[PublicKey]:
    from vendorproof._internal import crypto

    return [crypto.load_public_key(read_document(p), file=str(p)) for p in paths]


def intake(
    delivery: Annotated[Path, typer.Argument(help="Delivery directory.")],
    policy: Annotated[
        Path, typer.Option("--policy", help="Operator policy YAML.", metavar="PATH")
    ],
    operator_key: Annotated[
        Path,
        typer.Option(
            "--operator-key",
            help="Operator's record-signing key (PEM).",
            metavar="PATH",
        ),
    ],
    store: Store = None,
    actor: Annotated[
        str | None,
        typer.Option(
            "--actor", help="Who performs the intake (default: user).", metavar="TEXT"
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Validation time (RFC 3339).", metavar="TIME"),
    ] = None,
    output_format: _reports.Format = OutputFormat.TEXT,
    output_json: _reports.OutputJson = None,
    output_sarif: _reports.OutputSarif = None,
    output_junit: _reports.OutputJunit = None,
    force: _reports.Force = False,
    operator_pub: Annotated[
        list[Path] | None,
        typer.Option(
            "--operator-pub",
            help="Earlier operator public key(s) whose records this intake may build "
            "on (key rotation); the --operator-key is always trusted.",
            metavar="PATH",
        ),
    ] = None,
    intake_id: Annotated[
        str | None,
        typer.Option(
            "--intake-id",
            help="Idempotency key: an intake with an id already recorded reports "
            "that record instead of writing another.",
            metavar="TEXT",
        ),
    ] = None,
    window: Annotated[
        int,
        typer.Option(
            "--dedupe-window",
            min=0,
            help="Seconds within which the same delivery under the same policy is "
            "reported as already recorded (default 3600; 0: always record).",
            metavar="N",
        ),
    ] = 3600,
    signature: SignatureFiles = None,
) -> None:
    """Verify DELIVERY and append a signed evidence record, whatever the verdict."""
    from vendorproof._cli.verify_cmd import print_report
    from vendorproof.evidence.intake import run_intake

    fmt = _reports.parse_format(output_format)
    key = load_signing_key(operator_key)
    trusted = _public_keys(operator_pub or [])
    when, source = validation_time(at)
    s = _open(store, read_only=False)
    try:
        result = run_intake(
            delivery,
            policy,
            store=s,
            key=key,
            actor=actor or getpass.getuser(),
            at=when,
            time_source=source,
            progress=progress,
            trusted=trusted,
            intake_id=intake_id,
            window=timedelta(seconds=window),
            signatures=signature or [],
        )
    finally:
        s.close()
    rec = result.record

    def text() -> None:
        print_report(result.report)
        if result.duplicate:
            echo(
                f"already recorded as evidence #{rec.seq} ({rec.record_id}, sha256 "
                f"{rec.digest}, {rec.created_at}) in {s.url} by an intake with the "
                "same key: not recorded again"
            )
        else:
            echo(
                f"recorded as evidence #{rec.seq} ({rec.record_id}, sha256 "
                f"{rec.digest}) in {s.url}"
            )

    record = {
        "seq": rec.seq,
        "id": rec.record_id,
        "sha256": rec.digest,
        "alreadyRecorded": result.duplicate,
    }
    _reports.emit(
        result.report,
        fmt=fmt,
        outputs=_reports.outputs(output_json, output_sarif, output_junit),
        force=force,
        command="intake",
        delivery_root=delivery,
        print_text=text,
        extra={"record": record},
    )
    if not result.report.ok:
        raise typer.Exit(ExitCode.VERIFICATION_FAILED)


def _filter(
    vendor: str | None,
    product: str | None,
    verdict: VerdictChoice | None,
    since: str | None,
    until: str | None,
    first: int | None = None,
    last: int | None = None,
) -> RecordFilter:
    from vendorproof.evidence.store import RecordFilter
    from vendorproof.models._fields import format_time

    return RecordFilter(
        first=first,
        last=last,
        vendor=vendor,
        product=product,
        verdict=verdict.value if verdict else None,
        since=format_time(parse_at(since, option="--since")) if since else None,
        until=format_time(parse_at(until, option="--until")) if until else None,
    )


@evidence_app.command("migrate")
def evidence_migrate(store: Store = None) -> None:
    """Create the store or bring it to the current schema version (as its owner)."""
    s = _open(store, read_only=False)
    try:
        version = s.schema_version()
    finally:
        s.close()
    echo(f"{s.url}: schema version {version}")


Vendor = Annotated[
    str | None, typer.Option("--vendor", help="Vendor id.", metavar="TEXT")
]
Product = Annotated[str | None, typer.Option("--product", metavar="TEXT")]
Verdict = Annotated[
    VerdictChoice | None,
    typer.Option(
        "--verdict", case_sensitive=False, help="Only records with this verdict."
    ),
]
Since = Annotated[str | None, typer.Option("--since", help="RFC 3339.", metavar="TIME")]
Until = Annotated[str | None, typer.Option("--until", help="RFC 3339.", metavar="TIME")]


@evidence_app.command("list")
def evidence_list(
    store: Store = None,
    vendor: Vendor = None,
    product: Product = None,
    verdict: Verdict = None,
    since: Since = None,
    until: Until = None,
) -> None:
    """List records (sequence, time, vendor, product, version, verdict)."""
    from rich.markup import escape
    from rich.table import Table

    s = _open(store)
    try:
        table = Table(
            "#", "created", "vendor", "product", "version", "sv", "verdict", "sha256"
        )
        for r in s.records(_filter(vendor, product, verdict, since, until)):
            cells = (
                str(r.seq),
                r.created_at,
                r.vendor,
                r.product,
                r.version,
                str(r.security_version),
                r.verdict,
                r.digest[:16],
            )
            table.add_row(*map(escape, cells))
    finally:
        s.close()
    console(width=160).print(table)


@evidence_app.command("show")
def evidence_show(
    seq: Annotated[int, typer.Argument(help="Record sequence number.")],
    store: Store = None,
) -> None:
    """Print one record's signed statement as JSON (intake or report record)."""
    from vendorproof.evidence.report_record import parse_record

    s = _open(store)
    try:
        stored = s.record(seq)
    finally:
        s.close()
    rec = parse_record(stored.envelope)
    statement = json.loads(rec.statement.raw)
    out = {"seq": stored.seq, "sha256": stored.digest, "statement": statement}
    typer.echo(json_text(out, indent=2, sort_keys=True))


@evidence_app.command("export")
def evidence_export(
    store: Store = None,
    output_format: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="JSON lines, CSV, or the signed statements (VSA envelopes).",
        ),
    ] = ExportFormat.JSONL,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="PATH")
    ] = None,
    bundle: Annotated[
        Path | None,
        typer.Option(
            "--bundle", help="Write a self-contained audit bundle.", metavar="PATH"
        ),
    ] = None,
    operator_pub: Annotated[
        list[Path] | None,
        typer.Option(
            "--operator-pub",
            help="Operator public key(s) for the bundle.",
            metavar="PATH",
        ),
    ] = None,
    vendor: Vendor = None,
    product: Product = None,
    verdict: Verdict = None,
    since: Since = None,
    until: Until = None,
    first: Annotated[
        int | None,
        typer.Option("--from", min=1, help="First sequence number.", metavar="N"),
    ] = None,
    last: Annotated[
        int | None,
        typer.Option("--to", min=1, help="Last sequence number.", metavar="N"),
    ] = None,
    force: Annotated[bool, typer.Option("--force")] = False,
) -> None:
    """Export records as JSON lines, CSV, signed VSA envelopes, or an audit bundle.

    A bundle's MANIFEST.json records the filter, the first and last sequence numbers
    and the digest of the record before the first, so that replay checks exactly
    the records the bundle declares.
    """
    from vendorproof._internal.jsonio import write_atomic
    from vendorproof.models._fields import format_time

    flt = _filter(vendor, product, verdict, since, until, first, last)
    s = _open(store)
    try:
        if bundle is not None:
            from vendorproof.evidence.bundle import export_bundle

            keys = _public_keys(operator_pub or [])
            if not keys:
                raise InvalidInputError(
                    "an audit bundle needs the operator public key",
                    path="--operator-pub",
                )
            n = export_bundle(
                s,
                bundle,
                keys=keys,
                exported_at=format_time(datetime.now(UTC)),
                flt=flt,
            )
            echo(f"wrote audit bundle {bundle}: {n} records")
            return
        text = _reports.export_records(s.records(flt), output_format)
    finally:
        s.close()
    if output is None:
        typer.echo(_reports.machine_document(text.encode("utf-8")), nl=False)
    else:
        write_atomic(output, text.encode("utf-8"), force=force)


#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV
#: Injection"): such a cell is prefixed with an apostrophe.
#: Above this many records, the replay table lists only records with findings.
SUMMARY_THRESHOLD = 60

#: Below this many records, one process is faster than starting workers.
PARALLEL_FROM = 200


def _workers(source: RecordSource, requested: int | None) -> int:
    if requested is not None:
        return requested
    import itertools

    enough = sum(1 for _ in itertools.islice(source.iter_records(), PARALLEL_FROM))
    return (os.cpu_count() or 1) if enough >= PARALLEL_FROM else 1


def _print_summary(
    summary: ReplaySummary, *, new_policy: bool, show_all: bool = False
) -> None:
    from rich.markup import escape
    from rich.table import Table

    term = console(width=160)
    table = Table("#", "recorded", "replayed", "result", "detail")
    quiet = not show_all and len(summary.records) > SUMMARY_THRESHOLD
    for r in summary.records:
        if quiet and r.ok and not r.changes:
            continue
        if r.problems:
            result, detail = "[bold red]FAIL[/]", "; ".join(r.problems[:3])
        elif r.changes:
            result, detail = "[yellow]CHANGED[/]", "; ".join(r.changes)
        else:
            result, detail = "[green]ok[/]", ""
        table.add_row(
            str(r.seq),
            escape(r.verdict),
            escape(r.replayed_verdict or "-"),
            result,
            escape(detail),
        )
    if table.row_count:
        term.print(table)
    if quiet:
        intact = sum(1 for r in summary.records if r.ok and not r.changes)
        term.print(f"{intact} records intact and matching (--all lists each)")
    for p in summary.problems:
        term.print(f"[bold red]{escape(p)}[/]")
    n = len(summary.records)
    bad = sum(1 for r in summary.records if not r.ok)
    line = f"{n} records replayed, {bad} failed"
    if summary.first_bad is not None:
        line += f"; first affected record: #{summary.first_bad}"
    if new_policy:
        line += f"; {len(summary.changed)} decisions would change under the new policy"
    term.print(line)
    if summary.records:
        last = summary.records[-1]
        # Compare with the chain head the operator publishes (the manifest is unsigned).
        term.print(f"last record: #{last.seq} sha256:{escape(last.digest)}")
    term.print(escape("operator keys: " + ", ".join(summary.operator_keys)))


def _log_check(
    source: StoreSource | BundleSource,
    keys: list[PublicKey],
    old: Path | None,
    witnesses: tuple[list[str], int | None],
) -> LogCheck:
    """The records against the presented checkpoint and the auditor's kept one."""
    from vendorproof.errors import VerificationError
    from vendorproof.evidence.logcheck import check_source, require_cosignatures

    note = None if old is None else read_document(old)
    check = check_source(
        source, keys, old=note, old_file=None if old is None else str(old)
    )
    vkeys, quorum = witnesses
    if vkeys or quorum:
        if check.presented is None:
            check.problems.append("no checkpoint for the witnesses to have cosigned")
            return check
        try:
            names = require_cosignatures(
                check.presented, vkeys, quorum, file="the presented checkpoint"
            )
        except VerificationError as exc:
            check.problems.append(str(exc))
        else:
            check.facts.append(f"cosigned by witnesses: {', '.join(names)}")
    return check


@audit_app.command("replay")
def audit_replay(
    store: Store = None,
    bundle: Annotated[
        Path | None,
        typer.Option("--bundle", help="An exported audit bundle.", metavar="PATH"),
    ] = None,
    operator_pub: Annotated[
        list[Path] | None,
        typer.Option(
            "--operator-pub",
            help="Pinned operator public key(s) (PEM). Required for --store; a "
            "bundle replayed without it exits 5 at best (keys shipped in a bundle "
            "prove nothing).",
            metavar="PATH",
        ),
    ] = None,
    first: Annotated[int | None, typer.Option("--from", min=1, metavar="N")] = None,
    last: Annotated[int | None, typer.Option("--to", min=1, metavar="N")] = None,
    images: Annotated[
        Path | None,
        typer.Option(
            "--images", help="Re-hash delivered files from DIR.", metavar="PATH"
        ),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy", help="Re-evaluate under a new policy.", metavar="PATH"
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Processes to use (default: all cores for 200 records or more).",
            metavar="N",
        ),
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="List every record, not only problems.")
    ] = False,
    integrity_only: Annotated[
        bool,
        typer.Option(
            "--integrity-only",
            help="Check signatures, links and digests only; re-run nothing.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    accept_selection: Annotated[
        bool,
        typer.Option(
            "--accept-selection",
            help="Accept a bundle exported with a filter (vendor, product, verdict, "
            "time) that leaves records out: those records are not checked.",
        ),
    ] = False,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            help="A checkpoint of this log kept from an earlier audit: the records "
            "must extend it (no truncated or rewritten history).",
            metavar="PATH",
        ),
    ] = None,
    witness: Annotated[
        list[str] | None,
        typer.Option(
            "--witness",
            help="A trusted witness key (from `log vkey`): the presented checkpoint "
            "must carry its cosignature; repeatable.",
            metavar="TEXT",
        ),
    ] = None,
    quorum: Annotated[
        int | None,
        typer.Option(
            "--witnesses",
            min=0,
            help="Cosignatures required (default: every --witness).",
            metavar="N",
        ),
    ] = None,
) -> None:
    """Check every record's signature and chain link and re-run each decision.

    The records are also checked against the signed checkpoint the store or bundle
    presents and, with --checkpoint, against the one the auditor kept.

    Exit 0: every record verified with a pinned operator key, the chain and every
    input are intact and every re-run matches (a bundle whose claimed filter left
    records out only with --accept-selection). Exit 1: anything failed. Exit 3: the
    store or bundle cannot be read. Exit 5: a bundle replayed without --operator-pub
    passed, but only against the key(s) shipped inside it: pin the operator's
    published key to make that a pass.
    """
    from vendorproof.evidence.replay import replay

    if bundle is not None and store is not None:
        raise InvalidInputError("give --store or --bundle, not both", path="--bundle")
    keys = _public_keys(operator_pub or [])
    pinned = bool(keys)
    new_policy = None
    if policy is not None:
        from vendorproof.intake import load_policy

        new_policy = load_policy(policy)

    def run(source: RecordSource) -> ReplaySummary:
        return replay(
            source,
            keys=keys,
            first=first,
            last=last,
            images=images,
            new_policy=new_policy,
            workers=_workers(source, workers),
            rerun=not integrity_only,
        )

    if bundle is not None:
        from vendorproof.evidence.bundle import BundleSource

        src = BundleSource(bundle)
        if not pinned:
            keys = src.keys()
        summary = run(src)
        log = _log_check(src, keys, checkpoint, (witness or [], quorum))
        selection = _selection(src, accept=accept_selection)
    else:
        from vendorproof.evidence.bundle import StoreSource

        if not pinned:
            raise InvalidInputError(
                "pin the operator public key with --operator-pub", path="--operator-pub"
            )
        selection = _Selection()
        location = _location(store)
        s = _open(location)
        try:
            summary = run(StoreSource(s, location=location))
            log = _log_check(
                StoreSource(s, location=location),
                keys,
                checkpoint,
                (witness or [], quorum),
            )
        finally:
            s.close()
    if as_json:
        _reports.print_json(
            {
                "ok": summary.ok,
                "pinned": pinned,
                "firstAffected": summary.first_bad,
                "problems": list(summary.problems),
                "log": {"facts": log.facts, "problems": log.problems},
                "selection": selection.json,
                "records": [
                    {
                        "seq": r.seq,
                        "sha256": r.digest,
                        "recorded": r.verdict,
                        "replayed": r.replayed_verdict,
                        "problems": list(r.problems),
                        "changes": list(r.changes),
                    }
                    for r in summary.records
                ],
            },
        )
    else:
        _print_summary(summary, new_policy=new_policy is not None, show_all=show_all)
        for fact in log.facts:
            echo(f"log: {fact}")
        for problem in log.problems:
            echo(f"FAIL: {problem}")
        if selection.line:
            echo(f"{'selection' if selection.ok else 'FAIL'}: {selection.line}")
    if not summary.ok or not log.ok or not selection.ok:
        raise typer.Exit(ExitCode.VERIFICATION_FAILED)
    if not pinned:
        err(
            "NOT PINNED: the records verify only with the operator key(s) shipped in "
            f"the bundle ({', '.join(summary.operator_keys)}); a bundle can ship any "
            "key. Replay with --operator-pub and the operator's published key."
        )
        raise typer.Exit(ExitCode.NOT_PINNED)


@dataclasses.dataclass(frozen=True, slots=True)
class _Selection:
    """What replay says about a bundle that claims a selecting filter."""

    line: str = ""
    ok: bool = True
    json: dict[str, object] | None = None


def _selection(src: BundleSource, *, accept: bool) -> _Selection:
    """What to say about records a bundle's claimed filter left out.

    A selection is not the whole chain: it fails unless the auditor accepts one (the
    filter claim is not signed, so a record deleted from the bundle looks like one
    the filter left out).
    """
    from vendorproof._internal.text import shorten
    from vendorproof.evidence.bundle import MANIFEST

    found = src.left_out()
    if found is None:
        return _Selection()
    claimed, gaps = found
    shown = " ".join(f"{k}={v}" for k, v in claimed.items())
    ranges = [f"#{a}" if a == b else f"#{a}-#{b}" for a, b in gaps]
    count = sum(b - a + 1 for a, b in gaps)
    line = shorten(
        f"the bundle is a selection, not the whole chain: {MANIFEST} claims the filter "
        f"{shown} (not signed); {count} record(s) left out were not checked: "
        + ", ".join(ranges)
    )
    if not accept:
        line += "; replay a whole export, or accept a selection with --accept-selection"
    return _Selection(
        line=line,
        ok=accept,
        json={
            "filter": claimed,
            "leftOut": [list(g) for g in gaps],
            "accepted": accept,
        },
    )


def register(app: typer.Typer) -> None:
    """Attach the evidence commands to ``app``."""
    app.command("intake")(intake)
    app.add_typer(evidence_app, name="evidence")
    app.add_typer(audit_app, name="audit")
