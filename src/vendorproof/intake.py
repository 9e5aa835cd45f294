"""Filesystem entry points: load a policy and verify a delivery (any format).

The CLI is a thin layer over these; library users call them directly.
"""

from __future__ import annotations

import dataclasses
import stat
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from vendorproof import formats
from vendorproof._internal import crypto
from vendorproof._internal.jsonio import read_document, write_atomic
from vendorproof.errors import Error, InvalidInputError
from vendorproof.formats.base import ProgressFactory, SignatureFile
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models.certification_record import (
    RECORD_INPUT_PREFIX,
    SOURCE_INPUT_PREFIX,
    STATUS_INPUT_PREFIX,
    CertificationRecord,
    StatusRecord,
    open_record,
    seal_record,
    seal_status,
    source_digest,
)
from vendorproof.models.delivery import FileState
from vendorproof.models.policy import Policy
from vendorproof.models.policy.notation import NotationImport, import_notation
from vendorproof.verify.delivery import Hasher, evaluate_delivery
from vendorproof.verify.result import VerificationReport

__all__ = [
    "RECORDS_DIR",
    "SOURCES_DIR",
    "STATUSES_DIR",
    "ProgressFactory",
    "add_record",
    "add_status",
    "check_delivery",
    "import_notation_policy",
    "load_policy",
    "load_records",
    "load_signatures",
    "measure",
]

#: The layout of a certification register: signed records, and the documents they
#: were transcribed from (named by their sha256).
RECORDS_DIR = "records"
SOURCES_DIR = "sources"
STATUSES_DIR = "statuses"


def load_policy(path: Path, *, limits: Limits = DEFAULT_LIMITS) -> Policy:
    """Read and validate a policy; files it references are relative to it."""
    base = path.resolve().parent
    policy = Policy.from_yaml(
        read_document(path, limits=limits),
        file=str(path),
        resolve=lambda ref: read_document(base / ref, limits=limits),
        limits=limits,
    )
    attestation = policy.operator_attestation
    if attestation is None:
        return policy
    return dataclasses.replace(
        policy,
        operator_attestation=dataclasses.replace(
            attestation, directory=base / attestation.register
        ),
    )


def load_records(
    policy: Policy, *, limits: Limits = DEFAULT_LIMITS
) -> dict[str, bytes]:
    """The certification register the policy names, as evidence inputs.

    Every record (``records/*.json``) under ``certification-record:<file stem>`` and
    every source document (``sources/<sha256>``) under
    ``certification-source:<sha256>``, every status record (``statuses/*.json``)
    under ``certification-status:<file stem>``; the evaluation decides which matter
    for a delivery (``verify/delivery/certification.py``). Nothing is verified here.

    Raises:
        InvalidInputError: the register directory is missing or a file cannot be read.
    """
    attestation = policy.operator_attestation
    if attestation is None:
        return {}
    if attestation.directory is None:
        raise InvalidInputError(
            "the certification register is relative to the policy file; load the "
            "policy with vendorproof.intake.load_policy",
            path="certification.records.register",
        )
    root = attestation.directory
    if not (root / RECORDS_DIR).is_dir():
        raise InvalidInputError(
            f"certification register {root} has no {RECORDS_DIR}/ directory (create "
            "it with `vendorproof certification record`)",
            path="certification.records.register",
        )
    out: dict[str, bytes] = {}
    for path in sorted((root / RECORDS_DIR).glob("*.json")):
        out[RECORD_INPUT_PREFIX + path.stem] = read_document(path, limits=limits)
    statuses = root / STATUSES_DIR
    if statuses.is_dir():
        for path in sorted(statuses.glob("*.json")):
            out[STATUS_INPUT_PREFIX + path.stem] = read_document(path, limits=limits)
    sources = root / SOURCES_DIR
    if sources.is_dir():
        for path in sorted(sources.iterdir()):
            out[SOURCE_INPUT_PREFIX + path.name] = read_document(path, limits=limits)
    return out


def load_signatures(
    paths: Sequence[Path], *, limits: Limits = DEFAULT_LIMITS
) -> tuple[SignatureFile, ...]:
    """Read signature files given beside a delivery (``--signature``).

    Each is named by its file name (``signature:<name>`` as an evidence input), so
    two files of the same name are refused. Nothing is parsed or verified here.

    Raises:
        InvalidInputError: a file cannot be read, is larger than
            ``limits.max_document_bytes``, or has the name of another one.
    """
    out: dict[str, SignatureFile] = {}
    for path in paths:
        data = read_document(path, limits=limits)
        if path.name in out:
            raise InvalidInputError(
                f"two signature files are named {path.name!r}; each is stored by "
                "its file name",
                file=str(path),
                path="--signature",
            )
        out[path.name] = SignatureFile(name=path.name, data=data)
    return tuple(out.values())


def check_delivery(
    root: Path,
    policy: Policy,
    *,
    at: datetime,
    time_source: str,
    progress: ProgressFactory | None = None,
    limits: Limits = DEFAULT_LIMITS,
    records: Mapping[str, bytes] | None = None,
    signatures: Sequence[SignatureFile] = (),
) -> VerificationReport:
    """Load the delivery at ``root`` (any format), measure it and run every check.

    ``records`` are the certification register's inputs (default: the register the
    policy names, :func:`load_records`); ``signatures`` are signatures given as
    files beside the delivery (:func:`load_signatures`).

    Raises:
        InvalidInputError: ``root`` is no delivery in a known format, or cannot be
            read as one (malformed vendor documents are failed checks instead), or
            its format takes no signature files and some were given.
    """
    fmt = formats.detect(root)
    delivery = fmt.load(root, limits=limits, signatures=signatures)
    return evaluate_delivery(
        delivery,
        policy,
        at=at,
        time_source=time_source,
        hasher=fmt.measure(root, progress, expect=delivery.source_state),
        records=load_records(policy, limits=limits) if records is None else records,
    )


def _file_stem(certificate_id: str) -> str:
    """A file name for a certificate id (ids hold '/', ':' and spaces)."""
    stem = "".join(
        c if c.isascii() and (c.isalnum() or c in "._-") else "_"
        for c in certificate_id
    )
    return stem.lstrip(".") or "_"


def add_record(
    register: Path,
    record: CertificationRecord,
    source: bytes,
    key: crypto.SigningKey,
    *,
    force: bool = False,
) -> Path:
    """Sign ``record`` with an operator role key and add it and its source document.

    The source document is stored as ``sources/<sha256>`` (it must be the document
    the record names), the signed record as ``records/<certificate id>.json``.

    Raises:
        InvalidInputError: the source is not the document the record names.
        OutputError: the record exists (without ``force``) or cannot be written.
    """
    if source_digest(source) != record.source_sha256:
        raise InvalidInputError(
            "the source document does not hash to the record's source.sha256",
            path="source",
        )
    envelope = seal_record(record, key)
    (register / RECORDS_DIR).mkdir(parents=True, exist_ok=True)
    (register / SOURCES_DIR).mkdir(parents=True, exist_ok=True)
    write_atomic(register / SOURCES_DIR / record.source_sha256, source, force=True)
    path = register / RECORDS_DIR / f"{_file_stem(record.certificate_id)}.json"
    write_atomic(path, envelope, force=force)
    return path


def add_status(
    register: Path,
    certificate_id: str,
    *,
    status: str,
    as_of: datetime,
    source: str,
    role: str,
    key: crypto.SigningKey,
) -> Path:
    """Append a signed status record about the register's record of a certificate.

    The record is found among those that verify with ``key``'s public key; the status
    is bound to it by its input name and the sha256 of its envelope. Status records
    are only ever added (``statuses/<record>@<asOf>.json``), never replaced.

    Raises:
        InvalidInputError: no record of ``certificate_id`` in the register (an
            unknown certificate), or a status for that time exists already.
        OutputError: the status cannot be written.
    """
    public = crypto.as_public_key(key.public_key())
    found: tuple[str, bytes] | None = None
    for path in sorted((register / RECORDS_DIR).glob("*.json")):
        raw = read_document(path)
        try:
            rec, _ = open_record(raw, (public,), file=str(path))
        except Error:
            continue
        if rec.certificate_id == certificate_id:
            found = (RECORD_INPUT_PREFIX + path.stem, raw)
    if found is None:
        raise InvalidInputError(
            f"no record of certificate {certificate_id!r} signed with this key in "
            f"{register / RECORDS_DIR} (record it first with `vendorproof "
            "certification record`)",
            path="CERT_ID",
        )
    name, raw = found
    value = StatusRecord(
        role=role,
        certificate_id=certificate_id,
        status=status,
        as_of=as_of,
        source=source,
        record_name=name,
        record_sha256=source_digest(raw),
    )
    stamp = as_of.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = (
        register
        / STATUSES_DIR
        / f"{name.removeprefix(RECORD_INPUT_PREFIX)}@{stamp}.json"
    )
    (register / STATUSES_DIR).mkdir(parents=True, exist_ok=True)
    if path.exists():
        raise InvalidInputError(
            f"a status of {certificate_id!r} as of {stamp} exists already: {path}",
            path="--as-of",
        )
    write_atomic(path, seal_status(value, key))
    return path


def measure(
    root: Path,
    progress: ProgressFactory | None = None,
    *,
    expect: FileState | None = None,
) -> Hasher:
    """A hasher for the components of the delivery at ``root`` (its format's).

    ``expect``: the ``source_state`` of the delivery loaded from ``root``; a package
    file in another state is then refused (``DeliveryFormat.measure``).
    """
    return formats.detect(root).measure(root, progress, expect=expect)


#: Certificate files of a Notation trust store (trust-store-trust-policy.md).
NOTATION_CERT_SUFFIXES = (".pem", ".crt", ".cer")


class _NotationTrustStore:
    """Reads named stores laid out as Notation keeps them: ``x509/<kind>/<name>/``.

    Symbolic links are refused for the store directories and certificate files (the
    specification requires it); sub-directories of a named store are ignored, and
    noted (its "SHOULD warn").
    """

    def __init__(self, root: Path, limits: Limits) -> None:
        self.root = root
        self.limits = limits
        self.notes: list[str] = []

    def _directory(self, path: Path) -> None:
        try:
            mode = path.lstat().st_mode
        except OSError as e:
            msg = f"trust store {path} cannot be read: {e.strerror}"
            raise InvalidInputError(msg) from e
        if stat.S_ISLNK(mode):
            msg = f"trust store {path} is a symbolic link (not allowed)"
            raise InvalidInputError(msg)
        if not stat.S_ISDIR(mode):
            msg = f"trust store {path} is not a directory"
            raise InvalidInputError(msg)

    def __call__(self, kind: str, name: str) -> Sequence[tuple[str, bytes]]:
        x509_dir = self.root / "x509"
        store = x509_dir / kind / name
        for path in (self.root, x509_dir, x509_dir / kind, store):
            self._directory(path)
        out: list[tuple[str, bytes]] = []
        try:
            entries = sorted(store.iterdir(), key=lambda p: p.name)
        except OSError as e:
            msg = f"trust store {store} cannot be listed: {e.strerror}"
            raise InvalidInputError(msg) from e
        for entry in entries:
            try:
                mode = entry.lstat().st_mode
            except OSError as e:
                msg = f"trust store entry {entry} cannot be read: {e.strerror}"
                raise InvalidInputError(msg) from e
            if stat.S_ISDIR(mode):
                self.notes.append(
                    f"trust store {kind}:{name}: sub-directory {entry.name!r} ignored"
                )
                continue
            if not entry.name.lower().endswith(NOTATION_CERT_SUFFIXES):
                continue
            if stat.S_ISLNK(mode):
                msg = f"certificate file {entry} is a symbolic link (not allowed)"
                raise InvalidInputError(msg)
            if len(out) >= self.limits.max_certificates:
                msg = f"trust store {store} has more than {len(out)} files"
                raise InvalidInputError(msg)
            out.append((str(entry), read_document(entry, limits=self.limits)))
        return out


def import_notation_policy(
    trust_policy: Path,
    trust_store: Path,
    *,
    policy_id: str,
    legal_basis: str,
    limits: Limits = DEFAULT_LIMITS,
) -> NotationImport:
    """A Notation ``trustpolicy.json`` and its trust store as a vendorproof policy.

    The result is checked by parsing it as a policy before it is returned; its
    notes say what the trust policy holds that vendorproof does not express
    (``models/policy/notation.py``).

    Raises:
        InvalidInputError: the trust policy, a trust store, a certificate or a DN
            is not one Notation accepts.
    """
    store = _NotationTrustStore(trust_store, limits)
    result = import_notation(
        read_document(trust_policy, limits=limits),
        file=str(trust_policy),
        store=store,
        policy_id=policy_id,
        legal_basis=legal_basis,
    )

    def no_files(ref: str) -> bytes:  # every certificate is inline
        msg = f"unexpected file reference {ref!r}"
        raise InvalidInputError(msg)

    Policy.from_yaml(result.policy, file="imported policy", resolve=no_files)
    return result
