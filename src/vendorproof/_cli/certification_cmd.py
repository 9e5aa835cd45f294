"""``vendorproof certification``: the operator's certification register.

``record`` transcribes a certificate (a NESAS evaluation report, a CC or BSI
certificate, an EUCC certificate) into a record signed by an operator role key and
keeps the source document next to it; ``list`` shows the register. Intake uses the
register the policy names (``certification.records``; ``docs/trust-rules.md``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vendorproof._cli import handle_errors
from vendorproof._cli._common import echo, load_signing_key, parse_at
from vendorproof.errors import InvalidInputError

__all__ = ["register"]

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

Exit codes: 0 recorded; 3 bad input (validity window, scheme, digest, unreadable
file, record exists without --force); 4 bug.
"""


def _deliverable(text: str) -> dict[str, object]:
    name, sep, digest = text.partition("=")
    alg, sep2, value = digest.partition(":")
    if not sep or not sep2 or not name:
        raise InvalidInputError(
            f"expected NAME=sha256:HEX, got {text!r}", path="--deliverable"
        )
    return {"name": name, "digest": {alg: value}}


@certification_app.command("record", help=RECORD_HELP)
@handle_errors
def record(
    register: Annotated[Path, typer.Argument(help="Register directory.")],
    key: Annotated[
        Path, typer.Option("--key", help="Private key of the operator role.")
    ],
    role: Annotated[str, typer.Option("--role", help="The operator role.")],
    source: Annotated[
        Path, typer.Option("--source", help="The document transcribed (PDF).")
    ],
    scheme: Annotated[
        str,
        typer.Option("--scheme", help="NESAS, BSI-NESAS-CCS-GI, CC, BSZ or EUCC."),
    ],
    certificate_id: Annotated[
        str, typer.Option("--certificate-id", help="The certificate's id.")
    ],
    body: Annotated[
        str, typer.Option("--body", help="Name of the certification body.")
    ],
    accreditation: Annotated[
        str,
        typer.Option(
            "--body-accreditation", help="The body's accreditation or notification id."
        ),
    ],
    holder: Annotated[
        str, typer.Option("--holder", help="Policy id of the vendor holding it.")
    ],
    product: Annotated[str, typer.Option("--product", help="Certified product.")],
    versions: Annotated[
        list[str], typer.Option("--version", help="Certified version (repeatable).")
    ],
    issued: Annotated[str, typer.Option("--issued", help="Issue date (RFC 3339).")],
    valid_from: Annotated[
        str, typer.Option("--valid-from", help="Start of validity (RFC 3339).")
    ],
    valid_until: Annotated[
        str, typer.Option("--valid-until", help="End of validity (RFC 3339).")
    ],
    assurance_level: Annotated[
        str | None, typer.Option("--assurance-level", help="E.g. EAL4+, high.")
    ] = None,
    status_url: Annotated[
        str | None,
        typer.Option("--status-url", help="Validity page (the EUCC QR target)."),
    ] = None,
    deliverables: Annotated[
        list[str] | None,
        typer.Option("--deliverable", help="NAME=sha256:HEX (repeatable)."),
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

    data = read_document(source)
    try:
        listed = tuple(
            Deliverable.from_dict(_deliverable(d)) for d in deliverables or ()
        )
    except InvalidInputError as e:
        raise InvalidInputError(str(e), path="--deliverable") from e
    for option, value in (
        ("--role", role),
        ("--certificate-id", certificate_id),
        ("--body", body),
        ("--body-accreditation", accreditation),
        ("--holder", holder),
        ("--product", product),
        *(("--version", v) for v in versions),
    ):
        if not value.strip():
            raise InvalidInputError("must not be empty", path=option)
    rec = CertificationRecord(
        role=role,
        scheme=scheme,
        certificate_id=certificate_id,
        body_name=body,
        body_accreditation=accreditation,
        holder=holder,
        product=product,
        versions=tuple(versions),
        assurance_level=assurance_level,
        issued=parse_at(issued, option="--issued"),
        valid_from=parse_at(valid_from, option="--valid-from"),
        valid_until=parse_at(valid_until, option="--valid-until"),
        status_url=status_url,
        deliverables=listed,
        source_name=source.name,
        source_sha256=source_digest(data),
    )
    path = add_record(register, rec, data, load_signing_key(key), force=force)
    echo(
        f"recorded {rec.scheme} {rec.certificate_id} in {path}: {rec.attested_by} "
        f"({len(rec.deliverables)} deliverable digest(s))"
    )


@certification_app.command("list")
@handle_errors
def list_records(
    policy: Annotated[
        Path, typer.Option("--policy", help="The policy naming the register.")
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


def register(app: typer.Typer) -> None:
    """Attach the certification commands to ``app``."""
    app.add_typer(certification_app, name="certification")
