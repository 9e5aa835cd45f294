"""Vendor-side commands: keys, manifest, certify, declare, sign."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Annotated

import typer

from vendorproof._cli._choices import KeyType
from vendorproof._cli._common import (
    echo,
    load_signing_key,
    new_key_passphrase,
    parse_at,
    progress,
    write_json,
)
from vendorproof._internal.jsonio import read_document, write_atomic
from vendorproof.errors import InvalidInputError, OutputError
from vendorproof.models.manifest import Domain

if TYPE_CHECKING:
    from vendorproof.models.certification import Report
    from vendorproof.models.manifest import ComponentKind, ComponentManifest
    from vendorproof.models.statement import Statement, Subject

keys_app = typer.Typer(help="Manage signing keys.", no_args_is_help=True)
manifest_app = typer.Typer(help="Build component manifests.", no_args_is_help=True)

Out = Annotated[
    Path, typer.Option("--output", "-o", help="File to write.", metavar="PATH")
]
Force = Annotated[bool, typer.Option("--force", help="Overwrite an existing output.")]

_KIND_BY_SUFFIX = {
    ".tar": "container-image",
    ".oci": "container-image",
    ".yaml": "config",
    ".yml": "config",
    ".conf": "config",
    ".cfg": "config",
    ".xml": "config",
}


@keys_app.command("generate")
def keys_generate(
    key_type: Annotated[KeyType, typer.Option("--type", help="The key algorithm.")],
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Prefix: writes PREFIX.key and PREFIX.pub.", metavar="PATH"
        ),
    ],
    no_passphrase: Annotated[
        bool, typer.Option("--no-passphrase", help="Store the private key unencrypted.")
    ] = False,
    force: Force = False,
) -> None:
    """Generate a signing key pair (PKCS#8 private key, SPKI public key, PEM)."""
    from cryptography.hazmat.primitives import serialization

    from vendorproof._internal import crypto

    encryption: serialization.KeySerializationEncryption = serialization.NoEncryption()
    if not no_passphrase:
        passphrase = new_key_passphrase()
        if not passphrase:
            raise InvalidInputError(
                "a passphrase is required: set VENDORPROOF_KEY_PASSPHRASE, run on a "
                "terminal, or pass --no-passphrase",
                path="--out",
            )
        encryption = serialization.BestAvailableEncryption(passphrase)
    key = crypto.generate_key(key_type.value)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key_path = out.with_name(out.name + ".key")
    pub_path = out.with_name(out.name + ".pub")
    if not force:
        for p in (key_path, pub_path):
            if p.exists():
                raise OutputError(f"{p}: exists (use --force to overwrite)")
    write_atomic(key_path, private, force=force, mode=0o600)
    write_atomic(pub_path, public, force=True)
    echo(f"wrote {key_path} and {pub_path} (key id {crypto.key_id(key.public_key())})")


def _relative(file: Path, root: Path) -> str:
    if not file.exists() and not file.is_symlink():
        raise InvalidInputError("no such file", file=str(file))
    if file.is_symlink():
        raise InvalidInputError("is a symbolic link", file=str(file))
    resolved = file.resolve()
    try:
        rel = resolved.relative_to(root)
    except ValueError:
        raise InvalidInputError(f"is outside --root {root}", file=str(file)) from None
    if not resolved.is_file():
        raise InvalidInputError("not a regular file", file=str(file))
    return str(PurePosixPath(*rel.parts))


def _kinds(values: list[str]) -> dict[str, ComponentKind]:
    from vendorproof.models.manifest import ComponentKind

    out: dict[str, ComponentKind] = {}
    for v in values:
        path, sep, kind = v.rpartition("=")
        try:
            if not sep:
                raise ValueError(v)
            out[path] = ComponentKind(kind)
        except ValueError:
            allowed = ", ".join(k.value for k in ComponentKind)
            raise InvalidInputError(
                f"expected PATH=KIND with KIND one of {allowed}, got {v!r}",
                path="--kind",
            ) from None
    return out


def _guess_kind(rel: str) -> ComponentKind:
    from vendorproof.models.manifest import ComponentKind

    name = rel.lower()
    if "sbom" in name or name.endswith((".cdx.json", ".spdx.json", ".spdx")):
        return ComponentKind.SBOM
    return ComponentKind(_KIND_BY_SUFFIX.get(PurePosixPath(name).suffix, "firmware"))


@manifest_app.command("create")
def manifest_create(
    files: Annotated[list[Path], typer.Argument(help="Delivered files to list.")],
    root: Annotated[
        Path, typer.Option("--root", help="Delivery root directory.", metavar="PATH")
    ],
    vendor: Annotated[
        str, typer.Option("--vendor", help="Vendor name.", metavar="TEXT")
    ],
    vendor_id: Annotated[
        str | None,
        typer.Option(
            "--vendor-id", help="Stable vendor id (default: name).", metavar="TEXT"
        ),
    ] = None,
    product: Annotated[str, typer.Option("--product", metavar="TEXT")] = "",
    version: Annotated[str, typer.Option("--version", metavar="TEXT")] = "",
    security_version: Annotated[
        int, typer.Option("--security-version", min=0, metavar="N")
    ] = 0,
    network_function: Annotated[
        str, typer.Option("--network-function", metavar="TEXT")
    ] = "",
    domain: Annotated[
        Domain | None, typer.Option("--domain", help="The network domain.")
    ] = None,
    release_date: Annotated[
        str | None,
        typer.Option("--release-date", help="RFC 3339 (default: now).", metavar="TIME"),
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option("--kind", help="PATH=KIND override (repeatable).", metavar="TEXT"),
    ] = None,
    output: Out = Path("manifest.json"),
    force: Force = False,
) -> None:
    """Hash every FILE once (sha256 + sha512); write an unsigned manifest statement."""
    from vendorproof._internal.hashing import hash_files
    from vendorproof.models.manifest import Component, ComponentManifest, Party
    from vendorproof.sign import new_statement

    if domain is None:
        raise InvalidInputError("a network domain is required", path="--domain")
    root_resolved = root.resolve()
    if not root_resolved.is_dir():
        raise InvalidInputError("not a directory", file=str(root), path="--root")
    rels = [_relative(f, root_resolved) for f in files]
    kinds = _kinds(kind or [])
    if unknown := sorted(set(kinds) - set(rels)):
        raise InvalidInputError(
            f"--kind names unlisted file {unknown[0]!r}", path="--kind"
        )
    paths = [root_resolved / r for r in rels]
    total = sum(p.stat().st_size for p in paths)
    with progress(total, "hashing") as on_progress:
        digests = hash_files(paths, ("sha256", "sha512"), on_progress=on_progress)
    components = tuple(
        Component(
            path=r,
            kind=kinds.get(r) or _guess_kind(r),
            size=d.size,
            digests=d.digests,
        )
        for r, d in zip(rels, digests, strict=True)
    )
    manifest = ComponentManifest(
        vendor=Party(name=vendor, id=vendor_id or vendor),
        product=product,
        version=version,
        security_version=security_version,
        network_function=network_function,
        domain=domain,
        release_date=parse_at(release_date, option="--release-date"),
        components=components,
    )
    write_json(output, new_statement(manifest), force=force)
    echo(f"wrote {output}: {len(components)} components, {total} bytes")


def _statement_of(path: Path) -> Statement:
    """Read a statement from JSON or from the payload of a signed bundle/envelope."""
    from vendorproof.models.documents import load_statement_bytes
    from vendorproof.models.statement import Statement

    raw = load_statement_bytes(read_document(path), file=str(path))
    try:
        return Statement.from_bytes(raw)
    except InvalidInputError as e:
        raise e.in_file(str(path)) from e


def _subjects_from_manifest(
    path: Path, only: list[str]
) -> tuple[ComponentManifest, tuple[Subject, ...]]:
    from vendorproof.models.manifest import ComponentManifest

    try:
        manifest = ComponentManifest.from_statement(_statement_of(path))
    except InvalidInputError as e:
        raise e.in_file(str(path)) from e
    subjects = manifest.subjects()
    if only:
        missing = sorted(set(only) - {s.name for s in subjects})
        if missing:
            raise InvalidInputError(
                f"component {missing[0]!r} is not in the manifest", file=str(path)
            )
        subjects = tuple(s for s in subjects if s.name in only)
    return manifest, subjects


def _parse_subject(value: str) -> Subject:
    from vendorproof.models.policy import DIGEST_ALGORITHMS
    from vendorproof.models.statement import Subject

    name, sep, rest = value.partition("=")
    alg, sep2, hexval = rest.partition(":")
    if not (sep and sep2 and name):
        raise InvalidInputError(
            f"expected NAME=ALG:HEX, got {value!r}", path="--subject"
        )
    if alg not in DIGEST_ALGORITHMS:
        raise InvalidInputError(
            f"digest algorithm {alg!r} is not accepted (use sha256, sha384 or sha512)",
            path="--subject",
        )
    try:
        return Subject.from_dict({"name": name, "digest": {alg: hexval}})
    except InvalidInputError as e:
        raise InvalidInputError(f"{value!r}: {e}", path="--subject") from e


def _parse_report(value: str) -> Report:
    from vendorproof.models.certification import Report

    parts = value.split(":")
    if len(parts) != 3:
        raise InvalidInputError(
            f"expected TYPE:ID:SHA256, got {value!r}", path="--report"
        )
    return Report(type=parts[0], id=parts[1], sha256=parts[2])


def certify(
    scheme: Annotated[
        str,
        typer.Option(help="NESAS, BSI-NESAS-CCS-GI, CC, EUCC, BSZ.", metavar="TEXT"),
    ],
    scheme_version: Annotated[str, typer.Option(metavar="TEXT")],
    certificate_id: Annotated[str, typer.Option(metavar="TEXT")],
    body_name: Annotated[
        str, typer.Option(help="Certification body name.", metavar="TEXT")
    ],
    body_id: Annotated[
        str, typer.Option(help="Certification body id.", metavar="TEXT")
    ],
    valid_from: Annotated[str, typer.Option(help="RFC 3339.", metavar="TEXT")],
    valid_until: Annotated[str, typer.Option(help="RFC 3339.", metavar="TEXT")],
    scope: Annotated[
        str, typer.Option(help="Evaluated configuration.", metavar="TEXT")
    ],
    from_manifest: Annotated[
        Path | None,
        typer.Option(
            help="Take holder, product, version and subjects from a manifest.",
            metavar="PATH",
        ),
    ] = None,
    component: Annotated[
        list[str] | None,
        typer.Option(help="With --from-manifest: certify only PATH.", metavar="TEXT"),
    ] = None,
    subject: Annotated[
        list[str] | None,
        typer.Option(help="NAME=sha256:HEX certified deliverable.", metavar="TEXT"),
    ] = None,
    holder_name: Annotated[str | None, typer.Option(metavar="TEXT")] = None,
    holder_id: Annotated[str | None, typer.Option(metavar="TEXT")] = None,
    product: Annotated[str | None, typer.Option(metavar="TEXT")] = None,
    category: Annotated[
        str | None, typer.Option(help="3GPP class: gNB, AMF, UPF...", metavar="TEXT")
    ] = None,
    product_version: Annotated[list[str] | None, typer.Option(metavar="TEXT")] = None,
    facility_name: Annotated[
        str | None, typer.Option(help="Evaluation facility.", metavar="TEXT")
    ] = None,
    facility_id: Annotated[str | None, typer.Option(metavar="TEXT")] = None,
    assurance_level: Annotated[str | None, typer.Option(metavar="TEXT")] = None,
    conformance: Annotated[
        list[str] | None, typer.Option(help="SCAS spec or PP.", metavar="TEXT")
    ] = None,
    report: Annotated[
        list[str] | None, typer.Option(help="TYPE:ID:SHA256.", metavar="TEXT")
    ] = None,
    status: Annotated[str, typer.Option(metavar="TEXT")] = "valid",
    published_at: Annotated[
        str | None,
        typer.Option(
            "--published-at",
            "--status-url",
            metavar="URL",
            help="Where the certificate's status is published.",
        ),
    ] = None,
    output: Out = Path("certification.json"),
    force: Force = False,
) -> None:
    """Build an unsigned certification statement (sign it with the body's key)."""
    from vendorproof.models.certification import Certification
    from vendorproof.models.manifest import Party
    from vendorproof.sign import new_statement

    subjects: tuple[Subject, ...] = tuple(_parse_subject(s) for s in subject or [])
    manifest = None
    if from_manifest is not None:
        manifest, from_m = _subjects_from_manifest(from_manifest, component or [])
        subjects += from_m
    elif component:
        raise InvalidInputError("--component needs --from-manifest", path="--component")
    if not subjects:
        raise InvalidInputError(
            "no certified deliverables: give --from-manifest or --subject",
            path="--subject",
        )
    facility = (
        Party(name=facility_name or "", id=facility_id or "")
        if facility_name or facility_id
        else None
    )
    cert = Certification(
        scheme=scheme,
        scheme_version=scheme_version,
        certificate_id=certificate_id,
        certification_body=Party(name=body_name, id=body_id),
        evaluation_facility=facility,
        holder=Party(
            name=holder_name or (manifest.vendor.name if manifest else ""),
            id=holder_id or (manifest.vendor.id if manifest else ""),
        ),
        product=product or (manifest.product if manifest else ""),
        category=category or (manifest.network_function or "" if manifest else ""),
        versions=tuple(product_version or ([manifest.version] if manifest else [])),
        scope=scope,
        assurance_level=assurance_level or None,
        conformance=tuple(conformance or []),
        reports=tuple(_parse_report(r) for r in report or []),
        valid_from=parse_at(valid_from, option="--valid-from"),
        valid_until=parse_at(valid_until, option="--valid-until"),
        status=status,
        published_at=published_at or None,
    )
    write_json(output, new_statement(cert, subjects=subjects), force=force)
    echo(
        f"wrote {output}: {cert.scheme} {cert.certificate_id}, "
        f"{len(subjects)} deliverables"
    )


def declare(
    vendor_name: Annotated[str, typer.Option(metavar="TEXT")],
    vendor_id: Annotated[str, typer.Option(metavar="TEXT")],
    legal_entity: Annotated[
        str, typer.Option(help="Registered legal entity.", metavar="TEXT")
    ],
    product: Annotated[
        list[str],
        typer.Option(help="Covered product (glob; repeatable).", metavar="TEXT"),
    ],
    valid_until: Annotated[str, typer.Option(help="RFC 3339.", metavar="TEXT")],
    signatory_name: Annotated[str, typer.Option(metavar="TEXT")],
    signatory_role: Annotated[str, typer.Option(metavar="TEXT")],
    commitment: Annotated[
        list[str], typer.Option(help="A commitment (repeatable).", metavar="TEXT")
    ],
    legal_basis: Annotated[
        str, typer.Option(help="E.g. '§9b BSIG (2021)'.", metavar="TEXT")
    ],
    issued_at: Annotated[
        str | None, typer.Option(help="RFC 3339 (default: now).", metavar="TEXT")
    ] = None,
    output: Out = Path("declaration.json"),
    force: Force = False,
) -> None:
    """Build an unsigned trust declaration statement (sign it with the vendor's key)."""
    from vendorproof.models.declaration import TrustDeclaration
    from vendorproof.models.manifest import Party
    from vendorproof.sign import new_statement

    decl = TrustDeclaration(
        vendor=Party(name=vendor_name, id=vendor_id),
        legal_entity=legal_entity,
        products=tuple(product),
        issued_at=parse_at(issued_at, option="--issued-at"),
        valid_until=parse_at(valid_until, option="--valid-until"),
        signatory_name=signatory_name,
        signatory_role=signatory_role,
        commitments=tuple(commitment),
        legal_basis=legal_basis,
    )
    write_json(output, new_statement(decl), force=force)
    echo(f"wrote {output}: declaration of {decl.vendor.name}")


def sign(
    statement: Annotated[Path, typer.Argument(help="Unsigned in-toto statement JSON.")],
    key: Annotated[
        Path, typer.Option("--key", help="PEM private key.", metavar="PATH")
    ],
    cert: Annotated[
        Path | None,
        typer.Option("--cert", help="Signing certificate (PEM).", metavar="PATH"),
    ] = None,
    chain: Annotated[
        Path | None,
        typer.Option(
            "--chain",
            help="Intermediate certificates (PEM), never the root.",
            metavar="PATH",
        ),
    ] = None,
    tsa_url: Annotated[
        str | None,
        typer.Option(
            "--tsa-url", help="RFC 3161 TSA to timestamp with.", metavar="URL"
        ),
    ] = None,
    co_key: Annotated[
        list[Path] | None,
        typer.Option(
            "--co-key",
            help="A further signing key (k-of-n), repeatable.",
            metavar="PATH",
        ),
    ] = None,
    output: Out = Path("statement.sigstore.json"),
    force: Force = False,
) -> None:
    """Sign STATEMENT into a Sigstore bundle (DSSE, optional certificate chain)."""
    from vendorproof._internal.pem import load_certificates
    from vendorproof.sign import sign_statement

    if chain is not None and cert is None:
        raise InvalidInputError("--chain needs --cert", path="--chain")
    raw = read_document(statement)
    signing_key = load_signing_key(key)
    certs = []
    if cert is not None:
        leaf = load_certificates(read_document(cert), file=str(cert))
        if len(leaf) != 1:
            raise InvalidInputError("expected exactly one certificate", file=str(cert))
        certs.extend(leaf)
    if chain is not None:
        certs.extend(load_certificates(read_document(chain), file=str(chain)))
    try:
        co = [load_signing_key(p) for p in co_key or []]
        bundle = sign_statement(
            raw, signing_key, certificates=certs, co_signers=co, tsa_url=tsa_url
        )
    except InvalidInputError as e:
        if e.path == "tsa_url":
            raise InvalidInputError(e.message, path="--tsa-url") from e
        where = {"certificate": cert, "chain": chain}.get(e.path or "")
        raise e.in_file(str(where or statement)) from e
    write_json(output, bundle, force=force)
    echo(f"wrote {output} ({bundle['mediaType']})")


def register(app: typer.Typer) -> None:
    """Attach the vendor-side commands to ``app``."""
    app.add_typer(keys_app, name="keys")
    app.add_typer(manifest_app, name="manifest")
    app.command("certify")(certify)
    app.command("declare")(declare)
    app.command("sign")(sign)


__all__ = ["register"]
