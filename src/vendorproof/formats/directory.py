"""vendorproof's own delivery layout: a directory, read without following links.

Layout: signed statements under ``attestations/`` (``*.sigstore.json`` bundles, bare
``*.dsse.json`` envelopes); Sigstore bundles over single files under
``attestations/keyless/<path>.sigstore.json``; in-toto layouts and links under
``in-toto/``; every other file is payload, addressed by its POSIX path relative to the
delivery root. The walk never follows a symbolic link, so a link (to a file or a
directory, inside or outside the root) is never taken for payload: it is reported as
an irregular entry and fails the check of the path it sits on.

A file ``<file>.cms`` or ``<file>.p7s`` beside a delivered payload file ``<file>``
(outside ``attestations/`` and ``in-toto/``) is a detached CMS signature over it
(RFC 5652; the vendor's ``detachedSignatures`` rule names the files that need one):
it stays in the listing (a manifest may list it), its bytes are an input, and it is
checked by the ``cms`` verifier of ``verify.delivery.DETACHED_VERIFIERS`` from the
measured digests of ``<file>`` (``detached-signature`` check).

A statement that does not parse is a failed ``attestations`` finding naming the file
and the field (``docs/design.md``, "Malformed vendor documents"); its bytes are still
an input, so the record shows what was delivered.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from vendorproof._internal import confine
from vendorproof._internal.confine import file_kind
from vendorproof._internal.jsonio import read_document
from vendorproof._internal.text import shorten
from vendorproof.errors import InvalidInputError
from vendorproof.formats.base import (
    DocumentCache,
    ProgressFactory,
    Salvage,
    SignatureFile,
    refuse_signature_files,
)
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models.checks import Check, CheckResult, Outcome
from vendorproof.models.delivery import (
    ATTESTATIONS,
    BUNDLE_SUFFIX,
    DETACHED_SIGNATURE_SUFFIXES,
    DOCUMENT_SUFFIXES,
    IN_TOTO,
    KEYLESS,
    RESERVED,
    Delivery,
    DetachedSignature,
    FileState,
)
from vendorproof.models.documents import SignedDocument, load_signed_document
from vendorproof.models.summary import DeliverySummary, Listing
from vendorproof.verify.delivery import ComponentDigest, Hasher

__all__ = ["DirectoryFormat", "is_input", "load_delivery", "signed_file"]

NAME = "directory"


def signed_file(rel: str) -> str | None:
    """The file a detached signature ``<file>.cms`` / ``<file>.p7s`` signs, or None.

    Only outside the reserved directories (``attestations/``, ``in-toto/``); whether
    ``<file>`` was delivered is decided once the whole listing is known.
    """
    if rel.split("/", 1)[0] in RESERVED:
        return None
    for suffix in DETACHED_SIGNATURE_SUFFIXES:
        if rel.endswith(suffix) and len(rel) > len(suffix):
            target = rel[: -len(suffix)]
            return None if target.endswith("/") else target
    return None


def is_input(rel: str) -> bool:
    """Whether ``rel`` is an input (a file the adapter reads) rather than payload."""
    top, _, rest = rel.partition("/")
    if top == IN_TOTO:
        return True
    if rel.startswith(KEYLESS):
        return rel.endswith(BUNDLE_SUFFIX)
    return top == ATTESTATIONS and "/" not in rest and rel.endswith(DOCUMENT_SUFFIXES)


def _malformed(file: str, e: InvalidInputError) -> CheckResult:
    return CheckResult.of(
        Check.ATTESTATIONS, file, Outcome.FAIL, f"malformed: {e.in_file(file)}"
    )


class _Sorter:
    """Sorts what a walk (or a replay's stored inputs) holds into a Delivery."""

    def __init__(self, limits: Limits, cache: DocumentCache | None = None) -> None:
        self.limits = limits
        self.cache = cache
        self.payload: set[str] = set()
        self.irregular: dict[str, str] = {}
        self.documents: list[SignedDocument] = []
        self.artifact_bundles: dict[str, bytes] = {}
        self.in_toto: dict[str, bytes] = {}
        self.inputs: dict[str, bytes] = {}
        self.findings: list[CheckResult] = []
        #: ``<file>.cms``/``<file>.p7s`` payload files: name -> where to read them
        #: (a path on disk, or the stored bytes on replay).
        self.signature_files: dict[str, Path | bytes] = {}

    def metadata(self, rel: str, data: bytes) -> None:
        """An input file (``is_input(rel)``, or a detached signature) and its bytes."""
        if signed_file(rel) is not None:
            self.signature_files[rel] = data
            return
        self.inputs[rel] = data
        if rel.startswith(KEYLESS):
            self.artifact_bundles[rel[len(KEYLESS) : -len(BUNDLE_SUFFIX)]] = data
        elif rel.startswith(f"{IN_TOTO}/"):
            self.in_toto[rel] = data
        else:
            try:
                doc = self._document(rel, data)
            except InvalidInputError as e:
                self.findings.append(_malformed(rel, e))
            else:
                self.documents.append(doc)

    def _document(self, rel: str, data: bytes) -> SignedDocument:
        def parse() -> SignedDocument:
            return load_signed_document(data, file=rel, limits=self.limits)

        return parse() if self.cache is None else self.cache.get(rel, data, parse)

    def file(self, rel: str, path: str) -> None:
        """A regular file found by the walk."""
        top = rel.split("/", 1)[0]
        if is_input(rel):
            try:
                data = read_document(Path(path), limits=self.limits)
            except InvalidInputError as e:
                self.findings.append(_malformed(rel, e))
                return
            self.metadata(rel, data)
        elif top == ATTESTATIONS:
            self.irregular[rel] = "unrecognised file under attestations/"
        elif top in RESERVED:  # pragma: no cover - every reserved directory is handled
            pass
        else:
            self.payload.add(rel)
            if signed_file(rel) is not None:
                self.signature_files[rel] = Path(path)

    def _signatures(self) -> tuple[DetachedSignature, ...]:
        """Detached CMS signatures beside delivered files (read now, kept as inputs)."""
        from vendorproof.verify.cms import measurement_algorithms

        out: list[DetachedSignature] = []
        for rel, source in sorted(self.signature_files.items()):
            target = signed_file(rel)
            if target is None or target not in self.payload:
                continue  # a payload file like any other
            if isinstance(source, Path):
                try:
                    data = read_document(source, limits=self.limits)
                except InvalidInputError as e:
                    self.findings.append(_malformed(rel, e))
                    continue
            else:
                data = source
            self.inputs[rel] = data
            out.append(
                DetachedSignature(
                    kind="cms",
                    file=rel,
                    target=target,
                    data=data,
                    algorithms=measurement_algorithms(data, file=rel),
                )
            )
        return tuple(out)

    def delivery(self, root: Path) -> Delivery:
        signatures = self._signatures()
        for target in self.artifact_bundles:
            if target not in self.payload:
                self.irregular[f"{KEYLESS}{target}{BUNDLE_SUFFIX}"] = (
                    "Sigstore bundle for a file that is not delivered"
                )
        return Delivery(
            format=NAME,
            root=root,
            documents=tuple(sorted(self.documents, key=lambda d: d.file)),
            payload=frozenset(self.payload),
            irregular=self.irregular,
            artifact_bundles=self.artifact_bundles,
            in_toto=self.in_toto,
            signatures=signatures,
            findings=tuple(self.findings),
            inputs=self.inputs,
        )


def _walk(
    root: Path, limits: Limits, *, tolerant: bool = False
) -> Iterator[tuple[str, os.DirEntry[str] | None]]:
    """Every non-directory entry under ``root``, no links followed.

    ``tolerant`` (salvage): a directory that cannot be listed is yielded as
    ``(path, None)`` and the walk stops quietly after ``limits.max_files`` entries.

    Raises:
        InvalidInputError: not ``tolerant``, and a directory cannot be listed or there
            are more than ``limits.max_files`` entries.
    """
    stack: list[tuple[Path, str]] = [(root, "")]
    count = 0
    while stack:
        directory, prefix = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as e:
            if tolerant:
                yield prefix or ".", None
                continue
            raise InvalidInputError(
                f"cannot list: {e.strerror}", file=str(directory)
            ) from e
        for entry in entries:
            count += 1
            if count > limits.max_files:
                if tolerant:
                    return
                raise InvalidInputError(
                    f"more than {limits.max_files} entries", file=str(root)
                )
            rel = f"{prefix}{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                stack.append((Path(entry.path), rel + "/"))
            else:
                yield rel, entry


def _check_directory(root: Path) -> None:
    try:
        st = root.stat()
    except OSError as e:
        raise InvalidInputError(f"cannot read: {e.strerror}", file=str(root)) from e
    if not stat.S_ISDIR(st.st_mode):
        raise InvalidInputError("not a directory", file=str(root))


def load_delivery(root: Path, *, limits: Limits = DEFAULT_LIMITS) -> Delivery:
    """Walk ``root`` (no links followed) and parse its signed statements.

    Raises:
        InvalidInputError: ``root`` is not a directory, cannot be listed, or has more
            than ``limits.max_files`` entries.
    """
    _check_directory(root)
    sorter = _Sorter(limits)
    for rel, entry in _walk(root, limits):
        if entry is None:  # pragma: no cover - only a tolerant walk yields None
            continue
        mode = entry.stat(follow_symlinks=False).st_mode
        if stat.S_ISREG(mode):
            sorter.file(rel, entry.path)
        else:
            sorter.irregular[rel] = file_kind(mode)
    return sorter.delivery(root)


def files_hasher(root: Path, progress: ProgressFactory | None = None) -> Hasher:
    """A hasher for files under ``root`` using the parallel hashing engine."""

    def hasher(
        paths: Sequence[str], algorithms: Sequence[str]
    ) -> list[ComponentDigest]:
        from vendorproof._internal.hashing import hash_files

        files = [root / p for p in paths]
        if progress is None:
            results = hash_files(files, algorithms)
        else:
            with progress(sum(f.stat().st_size for f in files)) as on_progress:
                results = hash_files(files, algorithms, on_progress=on_progress)
        return [ComponentDigest(size=r.size, digests=dict(r.digests)) for r in results]

    return hasher


class DirectoryFormat:
    """The directory layout above (the first delivery format)."""

    name = NAME
    signature_files = False

    def detect(self, path: Path) -> bool:
        """A directory (the path the operator gave may itself be a link)."""
        try:
            return stat.S_ISDIR(path.stat().st_mode)
        except OSError:
            return False

    def load(
        self,
        path: Path,
        *,
        limits: Limits = DEFAULT_LIMITS,
        signatures: Sequence[SignatureFile] = (),
    ) -> Delivery:
        """Walk and parse the directory (``load_delivery``); no signature files."""
        refuse_signature_files(self, signatures)
        return load_delivery(path, limits=limits)

    def measure(
        self,
        path: Path,
        progress: ProgressFactory | None = None,
        *,
        expect: FileState | None = None,
    ) -> Hasher:
        """Hash payload files under ``path``.

        Each file is measured against its own digest; a directory has no state of
        its own (``expect`` is None for it).
        """
        del expect
        return files_hasher(path, progress)

    def reload(
        self,
        inputs: Mapping[str, bytes],
        summary: DeliverySummary,
        *,
        workdir: Path,
        images: Path | None,
        cache: DocumentCache | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> Delivery:
        """The delivery from its stored inputs and the recorded listing.

        Without the delivered files the recorded root is only a name: in-toto runs in
        ``workdir`` holding the stored in-toto metadata (layouts with inspections need
        the images). Each name is confined to it.
        """
        root = images
        if root is None:
            root = workdir
            for name, data in inputs.items():
                if name.startswith(f"{IN_TOTO}/"):
                    confine.write_file(root, name, data, file=summary.root)
        sorter = _Sorter(limits, cache)
        sorter.payload = set(summary.listing.payload)
        for name in sorted(inputs):
            sorter.metadata(name, inputs[name])
        delivery = sorter.delivery(root)
        return Delivery(
            format=NAME,
            root=root,
            documents=delivery.documents,
            payload=frozenset(summary.listing.payload),
            irregular=dict(summary.listing.irregular),
            artifact_bundles=delivery.artifact_bundles,
            in_toto=delivery.in_toto,
            signatures=delivery.signatures,
            findings=delivery.findings,
            inputs=delivery.inputs,
        )

    def salvage(self, path: Path, *, limits: Limits = DEFAULT_LIMITS) -> Salvage:
        """Every input that can be read, the listing, and an error per unreadable."""
        inputs: dict[str, bytes] = {}
        payload: list[str] = []
        irregular: dict[str, str] = {}
        errors: dict[tuple[str, str], CheckResult] = {}

        def error(subject: str, reason: str) -> None:
            text = shorten(reason)
            errors.setdefault(
                (subject, text),
                CheckResult.of(Check.ERROR, subject, Outcome.ERROR, text),
            )

        try:
            for rel, entry in _walk(path, limits, tolerant=True):
                if entry is None:
                    error(rel, "cannot list this directory")
                    continue
                try:
                    mode = entry.stat(follow_symlinks=False).st_mode
                except OSError as e:
                    error(rel, f"cannot read: {e.strerror}")
                    continue
                if not stat.S_ISREG(mode):
                    irregular[rel] = "not a regular file"
                elif not is_input(rel):
                    payload.append(rel)
                else:
                    try:
                        inputs[rel] = read_document(Path(entry.path), limits=limits)
                    except InvalidInputError as e:
                        error(rel, e.message)
        except OSError as e:
            error(str(path), f"cannot read the delivery: {e.strerror or e}")
        return Salvage(
            inputs=inputs,
            listing=Listing(payload=tuple(sorted(payload)), irregular=irregular),
            errors=tuple(errors.values()),
        )
