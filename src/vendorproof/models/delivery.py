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

from vendorproof._internal.confine import file_kind
from vendorproof._internal.jsonio import read_document
from vendorproof.errors import InvalidInputError
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models.documents import SignedDocument, load_signed_document

ATTESTATIONS = "attestations"
#: Sigstore bundles over delivered files: attestations/keyless/<path>.sigstore.json
KEYLESS = f"{ATTESTATIONS}/keyless/"
BUNDLE_SUFFIX = ".sigstore.json"
#: Directories holding metadata rather than payload.
IN_TOTO = "in-toto"
RESERVED = frozenset({ATTESTATIONS, IN_TOTO})
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
        in_toto: ``in-toto/...`` path -> bytes of the in-toto layout and links.
    """

    root: Path
    documents: tuple[SignedDocument, ...]
    payload: frozenset[str]
    irregular: dict[str, str]
    artifact_bundles: dict[str, bytes] = field(default_factory=dict)
    in_toto: dict[str, bytes] = field(default_factory=dict)


class _Walk:
    """Accumulates what the walk finds, sorted into the Delivery's parts."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.payload: set[str] = set()
        self.irregular: dict[str, str] = {}
        self.documents: list[SignedDocument] = []
        self.artifact_bundles: dict[str, bytes] = {}
        self.in_toto: dict[str, bytes] = {}

    def read(self, path: str) -> bytes:
        return read_document(Path(path), limits=self.limits)

    def file(self, rel: str, prefix: str, path: str) -> None:
        top = prefix.split("/", 1)[0]
        if rel.startswith(KEYLESS) and rel.endswith(BUNDLE_SUFFIX):
            self.artifact_bundles[rel[len(KEYLESS) : -len(BUNDLE_SUFFIX)]] = self.read(
                path
            )
        elif top == ATTESTATIONS:
            if rel.endswith(DOCUMENT_SUFFIXES) and prefix == f"{ATTESTATIONS}/":
                doc = load_signed_document(
                    self.read(path), file=rel, limits=self.limits
                )
                self.documents.append(doc)
            else:
                self.irregular[rel] = "unrecognised file under attestations/"
        elif top == IN_TOTO:
            self.in_toto[rel] = self.read(path)
        elif top in RESERVED:  # pragma: no cover - every reserved directory is handled
            pass
        else:
            self.payload.add(rel)

    def delivery(self, root: Path) -> Delivery:
        for target in self.artifact_bundles:
            if target not in self.payload:
                self.irregular[f"{KEYLESS}{target}{BUNDLE_SUFFIX}"] = (
                    "Sigstore bundle for a file that is not delivered"
                )
        return Delivery(
            root=root,
            documents=tuple(sorted(self.documents, key=lambda d: d.file)),
            payload=frozenset(self.payload),
            irregular=self.irregular,
            artifact_bundles=self.artifact_bundles,
            in_toto=self.in_toto,
        )


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
    walk = _Walk(limits)
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
                walk.irregular[rel] = file_kind(mode)
            else:
                walk.file(rel, prefix, entry.path)
    return walk.delivery(root)
