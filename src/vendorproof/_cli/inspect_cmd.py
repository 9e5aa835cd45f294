"""``vendorproof inspect``: what a signed document claims, without judging trust."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vendorproof._cli._common import console
from vendorproof._cli._reports import print_json
from vendorproof._internal.jsonio import read_document
from vendorproof.errors import InvalidInputError
from vendorproof.models import _fields

if TYPE_CHECKING:
    from cryptography import x509


def _cert_info(cert: x509.Certificate) -> dict[str, Any]:
    from cryptography import x509

    from vendorproof.verify.x509 import fingerprint

    info: dict[str, Any] = {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "notBefore": _fields.format_time(cert.not_valid_before_utc),
        "notAfter": _fields.format_time(cert.not_valid_after_utc),
        "sha256": fingerprint(cert),
    }
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        info["subjectAltName"] = [str(n.value) for n in san.value]
    except x509.ExtensionNotFound:
        pass
    return info


def describe(path: Path) -> dict[str, Any]:
    """Everything ``inspect`` shows about one signed document, as JSON data."""
    from vendorproof._internal.tsa import parse_timestamp
    from vendorproof.models.documents import load_signed_document

    doc = load_signed_document(read_document(path), file=str(path))
    timestamps = []
    for i, der in enumerate(doc.timestamps):
        try:
            t = parse_timestamp(der)
        except InvalidInputError as e:
            field = (
                "verificationMaterial.timestampVerificationData."
                f"rfc3161Timestamps[{i}].signedTimestamp"
            )
            raise InvalidInputError(e.message, path=field, file=str(path)) from e
        timestamps.append(
            {
                "genTime": _fields.format_time(t.gen_time),
                "tsa": t.tsa_name,
                "serial": format(t.serial_number, "x"),
                "hashAlgorithm": t.hash_algorithm,
            }
        )
    return {
        "file": str(path),
        "signatures": [
            {"keyid": s.keyid, "bytes": len(s.sig)} for s in doc.envelope.signatures
        ],
        "publicKeyHint": doc.public_key_hint,
        "certificates": [_cert_info(c) for c in doc.certificates],
        "timestamps": timestamps,
        "payloadType": doc.envelope.payload_type,
        "predicateType": doc.statement.predicate_type,
        "subjects": [s.to_dict() for s in doc.statement.subjects],
    }


def inspect(
    file: Annotated[
        Path, typer.Argument(help="A *.sigstore.json bundle or *.dsse.json.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show signer, chain, timestamps, predicate and subjects (no trust decision)."""
    info = describe(file)
    if as_json:
        print_json(info, sort_keys=True)
        return
    from rich.markup import escape
    from rich.table import Table

    # Everything below comes from the (untrusted) document: never interpret markup,
    # and the console escapes control and bidirectional characters (one line each).
    term = console()
    term.print(
        f"[bold]{escape(str(file))}[/bold]  "
        "(not verified: inspect does not judge trust)"
    )

    def out(line: str) -> None:
        term.out(line, highlight=False)

    out(f"predicate type: {info['predicateType']}")
    for i, c in enumerate(info["certificates"]):
        role = "signer" if i == 0 else "intermediate"
        out(f"{role}: {c['subject']}")
        out(f"  issuer: {c['issuer']}")
        out(f"  valid {c['notBefore']} .. {c['notAfter']}")
        out(f"  sha256 {c['sha256']}")
    if info["publicKeyHint"] is not None:
        out(f"public key hint: {info['publicKeyHint']}")
    for s in info["signatures"]:
        out(f"signature: keyid {s['keyid'] or '-'} ({s['bytes']} bytes)")
    for t in info["timestamps"]:
        out(f"timestamp: {t['genTime']} by {t['tsa']} ({t['hashAlgorithm']})")
    if not info["timestamps"]:
        out("timestamp: none")
    table = Table("subject", "sha256", title=f"{len(info['subjects'])} subjects")
    for s in info["subjects"]:
        table.add_row(escape(s["name"]), escape(s["digest"].get("sha256", "-")))
    term.print(table)


def register(app: typer.Typer) -> None:
    """Attach ``inspect`` to ``app``."""
    app.command("inspect")(inspect)
