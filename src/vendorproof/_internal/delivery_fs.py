"""Reading a delivery directory without following symbolic links.

Layout: signed statements under ``attestations/`` (``*.sigstore.json`` bundles, bare
``*.dsse.json`` envelopes); every other file is payload, addressed by its POSIX path
relative to the delivery root. The walk never follows a symbolic link, so a link (to a
file or a directory, inside or outside the root) is never taken for payload: it is
reported as an irregular entry and fails the check of the path it sits on.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from vendorproof._internal.jsonio import read_document
from vendorproof.errors import InvalidInputError
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.verify.documents import SignedDocument, load_signed_document

ATTESTATIONS = "attestations"
#: Sigstore bundles over delivered files: attestations/keyless/<path>.sigstore.json
KEYLESS = f"{ATTESTATIONS}/keyless/"
BUNDLE_SUFFIX = ".sigstore.json"
#: Directories holding metadata rather than payload.
RESERVED = frozenset({ATTESTATIONS, "in-toto"})
DOCUMENT_SUFFIXES = (".sigstore.json", ".dsse.json")


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """What a delivery directory holds.

    Attributes:
        root: the delivery root.
        documents: the signed statements found under ``attestations/``.
        payload: relative paths of every regular payload file.
        irregular: relative path -> kind for links, devices, FIFOs, sockets and
            unrecognised files under ``attestations/``.
        artifact_bundles: component path -> bytes of the Sigstore bundle over that
            file (``attestations/keyless/<path>.sigstore.json``).
    """

    root: Path
    documents: tuple[SignedDocument, ...]
    payload: frozenset[str]
    irregular: dict[str, str]
    artifact_bundles: dict[str, bytes] = field(default_factory=dict)


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISBLK(mode) or stat.S_ISCHR(mode):
        return "device"
    return "not a regular file"


def load_delivery(root: Path, *, limits: Limits = DEFAULT_LIMITS) -> Delivery:
    """Walk ``root`` (no links followed) and parse its signed statements.

    Raises:
        InvalidInputError: ``root`` is not a directory, a statement is malformed, or
            the delivery has more than ``limits.max_files`` entries.
    """
    try:
        st = root.stat()
    except OSError as e:
        raise InvalidInputError(f"cannot read: {e.strerror}", file=str(root)) from e
    if not stat.S_ISDIR(st.st_mode):
        raise InvalidInputError("not a directory", file=str(root))
    payload: set[str] = set()
    irregular: dict[str, str] = {}
    documents: list[SignedDocument] = []
    artifact_bundles: dict[str, bytes] = {}
    stack: list[tuple[Path, str]] = [(root, "")]
    count = 0
    while stack:
        directory, prefix = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as e:
            raise InvalidInputError(
                f"cannot list: {e.strerror}", file=str(directory)
            ) from e
        for entry in entries:
            count += 1
            if count > limits.max_files:
                raise InvalidInputError(
                    f"more than {limits.max_files} entries", file=str(root)
                )
            rel = f"{prefix}{entry.name}"
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISDIR(mode):
                stack.append((Path(entry.path), rel + "/"))
            elif not stat.S_ISREG(mode):
                irregular[rel] = _kind(mode)
            elif rel.startswith(KEYLESS) and rel.endswith(BUNDLE_SUFFIX):
                target = rel[len(KEYLESS) : -len(BUNDLE_SUFFIX)]
                artifact_bundles[target] = read_document(
                    Path(entry.path), limits=limits
                )
            elif prefix.split("/", 1)[0] == ATTESTATIONS:
                if rel.endswith(DOCUMENT_SUFFIXES) and prefix == f"{ATTESTATIONS}/":
                    raw = read_document(Path(entry.path), limits=limits)
                    documents.append(load_signed_document(raw, file=rel, limits=limits))
                else:
                    irregular[rel] = "unrecognised file under attestations/"
            elif prefix.split("/", 1)[0] in RESERVED:
                continue
            else:
                payload.add(rel)
    documents.sort(key=lambda d: d.file)
    for target in artifact_bundles:
        if target not in payload:
            irregular[f"{KEYLESS}{target}{BUNDLE_SUFFIX}"] = (
                "Sigstore bundle for a file that is not delivered"
            )
    return Delivery(
        root=root,
        documents=tuple(documents),
        payload=frozenset(payload),
        irregular=irregular,
        artifact_bundles=artifact_bundles,
    )
