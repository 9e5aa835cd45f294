"""The walk of an OCI image layout: ``index.json`` to indexes, manifests and blobs.

:func:`open_layout` reads an image layout (from a directory or a tar, ``sources.py``)
and walks it:

- ``oci-layout`` must say ``imageLayoutVersion`` ``1.0.0``; ``index.json`` must be an
  image index (``schemaVersion`` 2, ``manifests``);
- from the index, every descriptor is followed: image indexes (nested, for every
  platform) to manifests, manifests to their config and layers (image-spec
  ``descriptor.md``, ``image-index.md``, ``manifest.md``; ``documents.py`` checks
  each descriptor's digest and size, so no descriptor can name a file outside
  ``blobs/<alg>/<hex>``);
- indexes and manifests are read whole (at most ``Limits.max_document_bytes``), their
  size and digest checked through the hashing engine *before* they are parsed, and
  parsed strictly (duplicate keys refused). An index that (directly or not) contains
  itself, or nesting deeper than ``Limits.max_index_depth``, is refused;
- media types: indexes and manifests must have one of the OCI (or Docker schema 2)
  index/manifest types; config and layer types outside the known set are reported
  (:attr:`OciLayout.unknown_media_types`), since their content cannot be interpreted;
- a document refused (``oci-layout``, ``index.json``, an index or manifest blob) is
  one of :attr:`OciLayout.problems`, named by its blob and field, and the walk goes
  on without what it names (``docs/design.md``, "Malformed vendor documents"); only
  a layout that cannot be read as one (no ``oci-layout`` or ``index.json``, an unsafe
  tar, a link where a blob belongs) raises ``InvalidInputError``;
- files under ``blobs/`` that nothing reachable names are reported
  (:attr:`OciLayout.unreferenced`); files outside ``blobs/`` other than ``oci-layout``
  and ``index.json`` (a ``manifest.json`` that ``docker save`` adds, for example) are
  listed as ignored and never read.

Config and layer blobs are not read by :func:`open_layout`; :func:`check_blobs` streams
each reachable blob once through the hashing engine (all cores for a directory) and
reports every blob that is missing, of another size or another digest.

OCI 1.1 referrers (image-spec ``manifest.md`` ``subject``): manifests reachable from
``index.json`` whose ``subject`` names a manifest; :meth:`OciLayout.referrers` lists
them for a digest, optionally by ``artifactType`` (Notation signatures,
``application/vnd.cncf.notary.signature``; Sigstore bundles,
``application/vnd.dev.sigstore.bundle.v0.3+json``).
"""

from __future__ import annotations

import io
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Final

from vendorproof._internal import confine
from vendorproof._internal.hashing import FileDigests, hash_fileobj
from vendorproof.errors import InvalidInputError
from vendorproof.formats.oci.documents import (
    INDEX_FILE,
    INDEX_TYPES,
    KNOWN_BLOB_TYPES,
    LAYOUT_FILE,
    MANIFEST_TYPES,
    Descriptor,
    ImageIndex,
    Manifest,
    _object,
    _parse_index,
    _parse_manifest,
)
from vendorproof.formats.oci.sources import _DirSource, _Source, _TarSource
from vendorproof.formats.ziparchive import DEFAULT_ARCHIVE_LIMITS, ArchiveLimits
from vendorproof.limits import DEFAULT_LIMITS, Limits

__all__ = ["BlobCheck", "OciLayout", "check_blobs", "close_layout", "open_layout"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobCheck:
    """One reachable blob after :func:`check_blobs` (``problem`` None: it is sound).

    A sound blob exists with the size and digest its descriptor gives.
    """

    descriptor: Descriptor
    problem: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OciLayout:
    """A walked image layout; nothing in it was trusted beyond its digests."""

    file: str
    source: _Source
    index: ImageIndex
    indexes: Mapping[str, ImageIndex]
    manifests: Mapping[str, Manifest]
    blobs: Mapping[str, Descriptor]  # every reachable blob, by digest
    unreferenced: tuple[str, ...]
    ignored: tuple[str, ...]
    unknown_media_types: tuple[tuple[str, str], ...]  # (where, media type)
    #: Every document read (``oci-layout``, ``index.json``, index and manifest
    #: blobs), by name, whether or not it could be used: the evidence inputs.
    documents: Mapping[str, bytes] = field(default_factory=dict)
    #: (blob or file, why it cannot be used): malformed, missing, too large, of
    #: another digest, of an unknown media type, in a cycle, nested too deep.
    problems: tuple[tuple[str, str], ...] = ()

    def images(self) -> tuple[Manifest, ...]:
        """The manifests that are neither referrers (``subject``) nor signatures."""
        return tuple(
            m
            for _, m in sorted(self.manifests.items())
            if m.subject is None and not m.simple_signing
        )

    def simple_signatures(self) -> tuple[Manifest, ...]:
        """The cosign simple-signing manifests.

        Which image each one signs is only known from its payload, once its
        signature verified.
        """
        return tuple(m for _, m in sorted(self.manifests.items()) if m.simple_signing)

    def referrers(
        self, digest: str, *, artifact_types: frozenset[str] | None = None
    ) -> tuple[Manifest, ...]:
        """Manifests whose ``subject`` is ``digest`` (of the given artifact types)."""
        return tuple(
            m
            for _, m in sorted(self.manifests.items())
            if m.subject is not None
            and m.subject.digest == digest
            and (artifact_types is None or m.kind in artifact_types)
        )

    def read_blob(
        self, descriptor: Descriptor, *, limits: Limits = DEFAULT_LIMITS
    ) -> bytes:
        """Read a small blob whole and check its size and digest.

        Raises:
            InvalidInputError: missing, larger than ``limits.max_document_bytes``,
                or of another size or digest than ``descriptor`` says.
        """
        return _read_verified(self.source, descriptor, limits)


def _read_raw(source: _Source, d: Descriptor, limits: Limits) -> bytes:
    """Read blob ``d`` whole (bounded); its size and digest are not checked yet.

    The descriptor's size is compared with the limit before the blob is looked up,
    so a replay, which holds only the documents that were read, refuses the same
    blob for the same reason.
    """
    name = d.blob
    if d.size > limits.max_document_bytes:
        raise InvalidInputError(
            f"size {d.size} is above the limit of {limits.max_document_bytes} "
            f"bytes for a document (named by {d.where})",
            file=name,
        )
    if name not in source.files():
        raise InvalidInputError(
            f"blob named by {d.where} is missing from the layout", file=name
        )
    return source.read(name, limits.max_document_bytes)


def _check_raw(raw: bytes, d: Descriptor) -> None:
    """Check that ``raw`` has the size and digest ``d`` gives (before any parsing)."""
    if len(raw) != d.size:
        raise InvalidInputError(
            f"is {len(raw)} bytes, {d.where} says {d.size}", file=d.blob
        )
    got = hash_fileobj(io.BytesIO(raw), [d.algorithm]).digests[d.algorithm]
    if f"{d.algorithm}:{got}" != d.digest:
        raise InvalidInputError(
            f"content does not match its digest (named by {d.where}): "
            f"{d.algorithm}:{got}",
            file=d.blob,
        )


def _read_verified(source: _Source, d: Descriptor, limits: Limits) -> bytes:
    """Read blob ``d`` whole; its size and digest are checked before it is used."""
    try:
        raw = _read_raw(source, d, limits)
        _check_raw(raw, d)
    except InvalidInputError as e:
        raise e.in_file(source.file) from None
    return raw


class _Walk:
    """The walk from ``index.json``: every document read, parsed or refused.

    A document that cannot be used (missing, too large, of another size or digest,
    not JSON, not of its schema, of an unknown media type, nested too deep, in a
    cycle) is a problem of its blob, and the walk goes on with the rest
    (``docs/design.md``, "Malformed vendor documents"); what it names is not
    followed.
    """

    def __init__(self, source: _Source, limits: Limits) -> None:
        self.source = source
        self.limits = limits
        self.indexes: dict[str, ImageIndex] = {}
        self.manifests: dict[str, Manifest] = {}
        self.blobs: dict[str, Descriptor] = {}
        self.unknown: list[tuple[str, str]] = []
        self.documents: dict[str, bytes] = {}
        self.problems: dict[str, str] = {}

    def blob(self, d: Descriptor) -> None:
        if d.digest in self.blobs:
            return
        self.blobs[d.digest] = d
        if d.media_type not in KNOWN_BLOB_TYPES:
            self.unknown.append((d.where, d.media_type))

    def refuse(self, subject: str, reason: str) -> None:
        self.problems.setdefault(subject, reason)

    def document(self, d: Descriptor) -> bytes | None:
        """The bytes of document ``d`` once they match its descriptor, else None."""
        try:
            raw = _read_raw(self.source, d, self.limits)
        except InvalidInputError as e:
            self.refuse(d.blob, str(e))
            return None
        # Kept whatever they hold: the record must show what was refused.
        self.documents[d.blob] = raw
        try:
            _check_raw(raw, d)
        except InvalidInputError as e:
            self.refuse(d.blob, str(e))
            return None
        return raw

    def follow(self, d: Descriptor, path: tuple[str, ...]) -> None:
        if d.blob in self.problems:
            return
        if d.digest in path:
            self.refuse(d.blob, f"index cycle: {d.where} names an index containing it")
            return
        if len(path) > self.limits.max_index_depth:
            self.refuse(
                d.blob,
                f"image indexes nested deeper than {self.limits.max_index_depth} "
                f"(named by {d.where})",
            )
            return
        if d.media_type in INDEX_TYPES:
            self._index(d, path)
        elif d.media_type in MANIFEST_TYPES:
            self._manifest(d)
        else:
            self.refuse(
                d.blob,
                f"unknown manifest media type {d.media_type!r} (not an OCI or "
                f"Docker image index or manifest; named by {d.where}); not read",
            )

    def _index(self, d: Descriptor, path: tuple[str, ...]) -> None:
        if d.digest in self.indexes:
            return
        raw = self.document(d)
        if raw is None:
            return
        try:
            index = _parse_index(raw, d, d.blob, self.limits)
        except InvalidInputError as e:
            self.refuse(d.blob, f"malformed: {e}")
            return
        self.indexes[d.digest] = index
        self.blobs.setdefault(d.digest, d)
        for child in index.manifests:
            self.follow(child, (*path, d.digest))

    def _manifest(self, d: Descriptor) -> None:
        if d.digest in self.manifests:
            return
        raw = self.document(d)
        if raw is None:
            return
        try:
            manifest = _parse_manifest(raw, d, d.blob, self.limits)
        except InvalidInputError as e:
            self.refuse(d.blob, f"malformed: {e}")
            return
        self.manifests[d.digest] = manifest
        self.blobs.setdefault(d.digest, d)
        self.blob(manifest.config)
        for layer in manifest.layers:
            self.blob(layer)

    def top(self, name: str) -> bytes | None:
        """``oci-layout`` or ``index.json`` (None, refused, when too large).

        Raises:
            InvalidInputError: the layout has no such file, so it is no layout; in
                a replay's stored inputs a missing one is a refusal (it was not
                stored because it could not be read).
        """
        if name not in self.source.files():
            if not self.source.complete:
                self.refuse(name, "not among the stored inputs (it was not readable)")
                return None
            what = "no oci-layout file" if name == LAYOUT_FILE else "no index.json"
            raise InvalidInputError(
                f"not an OCI image layout: {what}", file=self.source.file
            )
        try:
            raw = self.source.read(name, self.limits.max_document_bytes)
        except InvalidInputError as e:
            self.refuse(name, e.message)
            return None
        self.documents[name] = raw
        return raw


def _layout_version(walk: _Walk) -> None:
    raw = walk.top(LAYOUT_FILE)
    if raw is None:
        return
    try:
        data = _object(raw, LAYOUT_FILE, walk.limits)
        if data.get("imageLayoutVersion") != "1.0.0":
            raise InvalidInputError(
                "imageLayoutVersion must be 1.0.0",
                file=LAYOUT_FILE,
                path="imageLayoutVersion",
            )
    except InvalidInputError as e:
        walk.refuse(LAYOUT_FILE, f"malformed: {e}")


_NO_INDEX: Final = ImageIndex(
    descriptor=None, raw=b"", manifests=(), annotations=MappingProxyType({})
)


def _walk(source: _Source, limits: Limits) -> OciLayout:
    walk = _Walk(source, limits)
    _layout_version(walk)
    raw = walk.top(INDEX_FILE)
    index = _NO_INDEX
    if raw is not None:
        try:
            index = _parse_index(raw, None, INDEX_FILE, limits)
        except InvalidInputError as e:
            walk.refuse(INDEX_FILE, f"malformed: {e}")
    for d in index.manifests:
        walk.follow(d, ())
    referenced = {d.blob for d in walk.blobs.values()} | set(walk.problems)
    files = source.files()
    unreferenced = tuple(
        sorted(n for n in files if n.startswith("blobs/") and n not in referenced)
    )
    ignored = tuple(
        sorted(
            n
            for n in files
            if not n.startswith("blobs/") and n not in {LAYOUT_FILE, INDEX_FILE}
        )
    )
    return OciLayout(
        file=source.file,
        source=source,
        index=index,
        indexes=MappingProxyType(walk.indexes),
        manifests=MappingProxyType(walk.manifests),
        blobs=MappingProxyType(walk.blobs),
        unreferenced=unreferenced,
        ignored=ignored,
        unknown_media_types=tuple(walk.unknown),
        documents=MappingProxyType(walk.documents),
        problems=tuple(sorted(walk.problems.items())),
    )


def open_layout(
    path: Path,
    *,
    limits: Limits = DEFAULT_LIMITS,
    archive_limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
) -> OciLayout:
    """Read and walk the image layout at ``path`` (a directory or a tar archive).

    The returned layout keeps a tar open for :func:`check_blobs` and
    :meth:`OciLayout.read_blob`; call :func:`close_layout` when done. A document
    that cannot be used (``oci-layout``, ``index.json``, an index or manifest blob:
    malformed, missing, too large, of another digest, of an unknown media type, in
    a cycle or nested too deep) is one of :attr:`OciLayout.problems`, named by its
    blob and the field, and the walk goes on without what it names.

    Raises:
        InvalidInputError: not a layout at all: no ``oci-layout`` or
            ``index.json``, or a layout that cannot be read safely (an unsafe or
            corrupt tar, a link or special file where a blob should be, more
            blobs or members than the limits allow).
    """
    try:
        st = path.lstat()
    except OSError as e:
        raise InvalidInputError(f"cannot read: {e.strerror}", file=str(path)) from e
    if stat.S_ISDIR(st.st_mode):
        return _walk(_DirSource(path, limits=limits), limits)
    if not stat.S_ISREG(st.st_mode):
        raise InvalidInputError(
            f"is a {confine.file_kind(st.st_mode)}, not a layout directory or tar",
            file=str(path),
        )
    source = _TarSource(path, limits=archive_limits)
    try:
        return _walk(source, limits)
    except BaseException:
        source.close()
        raise


def close_layout(layout: OciLayout) -> None:
    """Release what :func:`open_layout` holds open (a tar archive)."""
    if isinstance(layout.source, _TarSource):
        layout.source.close()


def _hash_each(
    source: _Source,
    descs: Sequence[Descriptor],
    alg: str,
    on_progress: Callable[[int], None] | None,
) -> list[FileDigests | str]:
    """Hash the blobs in one parallel pass; after a failure, one by one.

    One by one, every blob gets its own answer.
    """
    try:
        return source.hash([d.blob for d in descs], [alg], on_progress)
    except InvalidInputError:
        pass
    out: list[FileDigests | str] = []
    for d in descs:
        try:
            out.extend(source.hash([d.blob], [alg], None))
        except InvalidInputError as e:
            out.append(e.message)
    return out


def check_blobs(
    layout: OciLayout, *, on_progress: Callable[[int], None] | None = None
) -> tuple[BlobCheck, ...]:
    """Stream every reachable blob once and compare it with its descriptor.

    Sizes are compared first (from the directory or tar header), then each blob that
    is present with the right size is hashed with its descriptor's algorithm. Every
    problem is reported, none raised.
    """
    files = layout.source.files()
    results: dict[str, BlobCheck] = {}
    todo: dict[str, list[Descriptor]] = {}
    for digest, d in sorted(layout.blobs.items()):
        size = files.get(d.blob)
        if size is None:
            results[digest] = BlobCheck(
                descriptor=d, problem=f"{d.blob} (named by {d.where}) is missing"
            )
        elif size != d.size:
            results[digest] = BlobCheck(
                descriptor=d,
                problem=f"{d.blob} is {size} bytes, {d.where} says {d.size}",
            )
        else:
            todo.setdefault(d.algorithm, []).append(d)
    for alg, descs in sorted(todo.items()):
        hashed = _hash_each(layout.source, descs, alg, on_progress)
        for d, got in zip(descs, hashed, strict=True):
            if isinstance(got, str):
                problem: str | None = f"{d.blob}: {got}"
            elif f"{alg}:{got.digests[alg]}" != d.digest:
                problem = (
                    f"{d.blob} does not match its digest (named by {d.where}): "
                    f"content is {alg}:{got.digests[alg]}"
                )
            else:
                problem = None
            results[d.digest] = BlobCheck(descriptor=d, problem=problem)
    return tuple(results[k] for k in sorted(results))
