"""``vendorproof certification``: the operator's certification register.

``record`` transcribes a certificate (a NESAS evaluation report, a CC or BSI
certificate, an EUCC certificate) into a record signed by an operator role key and
keeps the source document next to it; ``list`` shows the register. Intake uses the
register the policy names (``certification.records``; ``docs/trust-rules.md``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from vendorproof._cli import handle_errors
from vendorproof._cli._common import echo, load_signing_key, parse_at
from vendorproof._cli.evidence_cmd import audit_app
from vendorproof.errors import InvalidInputError

if TYPE_CHECKING:
    from vendorproof.models.registers import RegisterRow

__all__ = ["register"]

_T = TypeVar("_T")

certification_app = typer.Typer(
    help="The operator's certification register (operator-attested certificates).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

RECORD_HELP = """Transcribe a certificate into REGISTER, signed by an operator role.

The record says what the certificate says (scheme, certificate id, certification
body and its accreditation, holder, product, versions, assurance level, issue date,
validity, status URL, the certified deliverable digests when the certification report
lists them) and the sha256 of the SOURCE document it was transcribed from; SOURCE is
stored as REGISTER/sources/<sha256>, the record as REGISTER/records/<id>.json.

The record is a statement of the operator role ROLE, never of the certification body:
reports say "attested by operator ROLE, transcribed from sha256:...". Its key must be
one the policy gives ROLE (certification.records.publicKeys), not the intake key.

--holder is the policy's id of the vendor that holds the certificate.
--deliverable NAME=sha256:HEX (repeatable) names a certified deliverable.
--from-row FILE:N fills in what row N of a public register says (--row-format
cc-portal: the Common Criteria portal's product CSV, which gives product, scheme CC,
assurance level, certification and archival dates and report URL, but no certificate
id or versions; vendorproof: our CSV or JSON for NESAS and BSI lists); options given
override it, and the record names the row and the register file's sha256.

Exit codes: 0 recorded; 3 bad input (validity window, scheme, digest, a malformed
register row, a missing field, unreadable file, record exists without --force); 4 bug.
"""


def _deliverable(text: str) -> dict[str, object]:
    name, sep, digest = text.partition("=")
    alg, sep2, value = digest.partition(":")
    if not sep or not sep2 or not name:
        raise InvalidInputError(
            f"expected NAME=sha256:HEX, got {text!r}", path="--deliverable"
        )
    return {"name": name, "digest": {alg: value}}


def _row(spec: str, fmt: str) -> tuple[RegisterRow, str]:
    """The register row ``FILE:N`` (N counts data rows from 1) and its reference."""
    import hashlib

    from vendorproof._internal.jsonio import read_document
    from vendorproof.models.registers import read_register

    file, sep, number = spec.rpartition(":")
    if not sep or not file or not number.isdigit() or int(number) < 1:
        raise InvalidInputError(
            f"expected FILE:N (N from 1), got {spec!r}", path="--from-row"
        )
    raw = read_document(Path(file))
    rows = read_register(raw, fmt=fmt, file=file)
    if int(number) > len(rows):
        raise InvalidInputError(
            f"row {number} asked for, the register has {len(rows)}",
            file=file,
            path="--from-row",
        )
    row = rows[int(number) - 1]
    return row, f"{row.where} sha256:{hashlib.sha256(raw).hexdigest()}"


def _given(value: _T | None, fallback: _T | None, option: str) -> _T:
    out = value if value is not None else fallback
    if out is None or (isinstance(out, str) and not out.strip()):
        raise InvalidInputError(
            "missing or empty: give it (a register row does not say it)", path=option
        )
    return out


@certification_app.command("record", help=RECORD_HELP)
@handle_errors
def record(
    register: Annotated[Path, typer.Argument(help="Register directory.")],
    key: Annotated[
        Path,
        typer.Option("--key", help="Private key of the operator role.", metavar="PATH"),
    ],
    role: Annotated[
        str, typer.Option("--role", help="The operator role.", metavar="TEXT")
    ],
    source: Annotated[
        Path,
        typer.Option(
            "--source", help="The document transcribed (PDF).", metavar="PATH"
        ),
    ],
    holder: Annotated[
        str,
        typer.Option(
            "--holder", help="Policy id of the vendor holding it.", metavar="TEXT"
        ),
    ],
    accreditation: Annotated[
        str,
        typer.Option(
            "--body-accreditation",
            help="The body's accreditation or notification id.",
            metavar="TEXT",
        ),
    ],
    from_row: Annotated[
        str | None,
        typer.Option(
            "--from-row",
            metavar="FILE:N",
            help="Fill in from row N of a public register file.",
        ),
    ] = None,
    row_format: Annotated[
        str,
        typer.Option(
            "--row-format",
            help="cc-portal or vendorproof (CSV or JSON).",
            metavar="TEXT",
        ),
    ] = "vendorproof",
    scheme: Annotated[
        str | None,
        typer.Option(
            "--scheme", help="NESAS, BSI-NESAS-CCS-GI, CC, BSZ or EUCC.", metavar="TEXT"
        ),
    ] = None,
    certificate_id: Annotated[
        str | None,
        typer.Option("--certificate-id", help="The certificate's id.", metavar="TEXT"),
    ] = None,
    body: Annotated[
        str | None,
        typer.Option("--body", help="Name of the certification body.", metavar="TEXT"),
    ] = None,
    product: Annotated[
        str | None, typer.Option("--product", help="Certified product.", metavar="TEXT")
    ] = None,
    versions: Annotated[
        list[str] | None,
        typer.Option(
            "--version", help="Certified version (repeatable).", metavar="TEXT"
        ),
    ] = None,
    issued: Annotated[
        str | None,
        typer.Option("--issued", help="Issue date (RFC 3339).", metavar="TEXT"),
    ] = None,
    valid_from: Annotated[
        str | None,
        typer.Option(
            "--valid-from", help="Start of validity (RFC 3339).", metavar="TEXT"
        ),
    ] = None,
    valid_until: Annotated[
        str | None,
        typer.Option(
            "--valid-until", help="End of validity (RFC 3339).", metavar="TEXT"
        ),
    ] = None,
    assurance_level: Annotated[
        str | None,
        typer.Option("--assurance-level", help="E.g. EAL4+, high.", metavar="TEXT"),
    ] = None,
    status_url: Annotated[
        str | None,
        typer.Option(
            "--status-url", help="Validity page (the EUCC QR target).", metavar="TEXT"
        ),
    ] = None,
    deliverables: Annotated[
        list[str] | None,
        typer.Option(
            "--deliverable", help="NAME=sha256:HEX (repeatable).", metavar="TEXT"
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing record.")
    ] = False,
) -> None:
    """Transcribe a certificate into the register."""
    from vendorproof._internal.jsonio import read_document
    from vendorproof.intake import add_record
    from vendorproof.models.certification_record import (
        CertificationRecord,
        Deliverable,
        source_digest,
    )

    row, reference = _row(from_row, row_format) if from_row else (None, None)
    data = read_document(source)
    try:
        listed = tuple(
            Deliverable.from_dict(_deliverable(d)) for d in deliverables or ()
        )
    except InvalidInputError as e:
        raise InvalidInputError(str(e), path="--deliverable") from e
    for option, value in (("--role", role), ("--holder", holder)):
        if not value.strip():
            raise InvalidInputError("must not be empty", path=option)
    if not accreditation.strip():
        raise InvalidInputError("must not be empty", path="--body-accreditation")
    chosen_versions = tuple(versions or ()) or (row.versions if row else ())
    if any(not v.strip() for v in chosen_versions):
        raise InvalidInputError("must not be empty", path="--version")
    start = (
        parse_at(valid_from, option="--valid-from")
        if valid_from is not None
        else (row.valid_from if row else None)
    )
    end = (
        parse_at(valid_until, option="--valid-until")
        if valid_until is not None
        else (row.valid_until if row else None)
    )
    when = (
        parse_at(issued, option="--issued")
        if issued is not None
        else (row.issued if row else None)
    )
    rec = CertificationRecord(
        role=role,
        scheme=_given(scheme, row.scheme if row else None, "--scheme"),
        certificate_id=_given(
            certificate_id, row.certificate_id if row else None, "--certificate-id"
        ),
        body_name=_given(body, row.body_name if row else None, "--body"),
        body_accreditation=accreditation,
        holder=holder,
        product=_given(product, row.product if row else None, "--product"),
        versions=chosen_versions,
        assurance_level=assurance_level or (row.assurance_level if row else None),
        issued=_given(when, None, "--issued"),
        valid_from=_given(start, None, "--valid-from"),
        valid_until=_given(end, None, "--valid-until"),
        status_url=status_url or (row.status_url if row else None),
        deliverables=listed,
        source_name=source.name,
        source_sha256=source_digest(data),
        register_row=reference,
    )
    path = add_record(register, rec, data, load_signing_key(key), force=force)
    echo(
        f"recorded {rec.scheme} {rec.certificate_id} in {path}: {rec.attested_by} "
        f"({len(rec.deliverables)} deliverable digest(s))"
        + (f", from register row {rec.register_row}" if rec.register_row else "")
    )


STATUS_HELP = """Append a signed status: CERT_ID is suspended, withdrawn or valid again.

A certificate can be suspended or withdrawn (EUCC Art. 13, 14). The status record is
signed by the operator role's key, bound to the register's record of CERT_ID and added
as REGISTER/statuses/<record>@<as-of>.json (never replaced). From --as-of on, intake
treats the certificate accordingly: a suspended or withdrawn certificate fails the
certification check of a delivery it would cover. `vendorproof audit affected
--certificate CERT_ID` lists the accepted deliveries whose coverage relied on it.

--source says where the status comes from (a register page, a letter).

Exit codes: 0 recorded; 3 no record of CERT_ID signed with this key in the register,
a status for that time exists, bad input; 4 bug.
"""


@certification_app.command("status", help=STATUS_HELP)
@handle_errors
def status(
    certificate_id: Annotated[str, typer.Argument(metavar="CERT_ID")],
    register: Annotated[
        Path, typer.Option("--register", help="Register directory.", metavar="PATH")
    ],
    key: Annotated[
        Path,
        typer.Option("--key", help="Private key of the operator role.", metavar="PATH"),
    ],
    role: Annotated[
        str, typer.Option("--role", help="The operator role.", metavar="TEXT")
    ],
    value: Annotated[
        str,
        typer.Option("--status", help="withdrawn, suspended or valid.", metavar="TEXT"),
    ],
    as_of: Annotated[
        str, typer.Option("--as-of", help="From when (RFC 3339).", metavar="TEXT")
    ],
    source: Annotated[
        str,
        typer.Option("--source", help="Where the status comes from.", metavar="TEXT"),
    ],
) -> None:
    """Append a signed status record for a certificate."""
    from vendorproof.intake import add_status
    from vendorproof.models.certification_record import CERTIFICATE_STATUSES

    if value not in CERTIFICATE_STATUSES:
        raise InvalidInputError(
            f"expected one of {', '.join(CERTIFICATE_STATUSES)}, got {value!r}",
            path="--status",
        )
    for option, text in (("--role", role), ("--source", source)):
        if not text.strip():
            raise InvalidInputError("must not be empty", path=option)
    path = add_status(
        register,
        certificate_id,
        status=value,
        as_of=parse_at(as_of, option="--as-of"),
        source=source,
        role=role,
        key=load_signing_key(key),
    )
    echo(f"{certificate_id} is {value} as of {as_of}: {path}")


@certification_app.command("list")
@handle_errors
def list_records(
    policy: Annotated[
        Path,
        typer.Option(
            "--policy", help="The policy naming the register.", metavar="PATH"
        ),
    ],
) -> None:
    """List the register the policy names, each record verified with its role keys."""
    from vendorproof.errors import SignatureError
    from vendorproof.intake import load_policy, load_records
    from vendorproof.models.certification_record import (
        RECORD_INPUT_PREFIX,
        open_record,
    )

    loaded = load_policy(policy)
    attestation = loaded.operator_attestation
    if attestation is None:
        raise InvalidInputError(
            "the policy names no certification register",
            file=str(policy),
            path="certification.records",
        )
    keys = tuple(attestation.public_keys.values())
    for name, raw in load_records(loaded).items():
        if not name.startswith(RECORD_INPUT_PREFIX):
            continue
        try:
            rec, _ = open_record(raw, keys, file=name)
        except SignatureError:
            echo(f"{name}: NOT signed by a key of role {attestation.role!r}")
            continue
        except InvalidInputError as e:
            echo(f"{name}: malformed: {e}")
            continue
        echo(
            f"{name}: {rec.scheme} {rec.certificate_id} holder {rec.holder} "
            f"{rec.product} {', '.join(rec.versions)} valid until "
            f"{rec.valid_until.date().isoformat()}, {rec.attested_by}"
        )


AFFECTED_HELP = """List the accepted deliveries whose coverage relied on CERT_ID.

Every record of the store is verified with --operator-pub; those PASSED whose
certification-coverage stood on an operator-attested record of the certificate are
re-run on their stored inputs (the replay machinery) with today's status records of
the register the policy names, counted up to --at (default now). Each is listed with
its recorded verdict and the verdict now.

Exit codes: 0 no accepted delivery relies on the certificate now failing (none
listed, or every one still passes); 1 at least one would now fail, or a record does
not verify; 3 unreadable store, policy or register; 4 bug.
"""


def affected_command(
    certificate: Annotated[
        str, typer.Option("--certificate", metavar="CERT_ID", help="Certificate id.")
    ],
    policy: Annotated[
        Path,
        typer.Option(
            "--policy", help="The policy naming the register.", metavar="PATH"
        ),
    ],
    operator_pub: Annotated[
        list[Path],
        typer.Option(
            "--operator-pub",
            help="Pinned operator public key(s) (PEM).",
            metavar="PATH",
        ),
    ],
    store: Annotated[
        str | None,
        typer.Option(
            "--store", help="Store URL (default as for `audit replay`).", metavar="TEXT"
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Statuses known at (RFC 3339).", metavar="TEXT"),
    ] = None,
) -> None:
    """List the accepted deliveries whose coverage relied on a certificate."""
    import os

    from vendorproof._internal import crypto
    from vendorproof._internal.jsonio import read_document
    from vendorproof.evidence.affected import Affected, affected
    from vendorproof.evidence.bundle import StoreSource
    from vendorproof.evidence.store import DEFAULT_STORE, open_store
    from vendorproof.intake import load_policy, load_records

    keys = [crypto.load_public_key(read_document(p), file=str(p)) for p in operator_pub]
    register = load_records(load_policy(policy))
    location = store or os.environ.get("VENDORPROOF_STORE") or DEFAULT_STORE
    opened = open_store(location, read_only=True)
    failing = 0
    listed = 0
    try:
        for item in affected(
            StoreSource(opened, location=location),
            keys,
            certificate,
            register,
            now=parse_at(at),
        ):
            if not isinstance(item, Affected):
                failing += 1
                echo(f"problem: {item}")
                continue
            listed += 1
            failing += item.now != "PASSED"
            echo(
                f"#{item.seq} {item.record_id} {item.vendor} {item.product} "
                f"{item.version}: {item.recorded} -> {item.now or 'cannot re-run'}"
                + (f" ({item.reasons[0]})" if item.reasons else "")
            )
    finally:
        opened.close()
    echo(
        f"{listed} accepted deliveries relied on {certificate}; {failing} would not "
        "be accepted now"
    )
    if failing:
        raise typer.Exit(1)


# Added to the evidence module's `audit` group once, on import (as the log module
# adds `audit verify-checkpoint`); wrap_commands maps its errors like any command's.
audit_app.command("affected", help=AFFECTED_HELP)(affected_command)


def register(app: typer.Typer) -> None:
    """Attach the certification commands to ``app`` (``audit affected``: on import)."""
    app.add_typer(certification_app, name="certification")
