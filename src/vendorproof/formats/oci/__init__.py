"""OCI image layouts (OCI image specification 1.1), from a directory or a tar.

An image layout (image-spec ``image-layout.md``) is an ``oci-layout`` file naming the
layout version, an ``index.json`` image index, and content-addressed blobs at
``blobs/<alg>/<encoded>``. :func:`open_layout` reads one and walks it:

- ``oci-layout`` must say ``imageLayoutVersion`` ``1.0.0``; ``index.json`` must be an
  image index (``schemaVersion`` 2, ``manifests``);
- from the index, every descriptor is followed: image indexes (nested, for every
  platform) to manifests, manifests to their config and layers (image-spec
  ``descriptor.md``, ``image-index.md``, ``manifest.md``). A descriptor's digest must
  be ``sha256:`` or ``sha512:`` with the registered encoding (``descriptor.md``
  "Digests"), so a blob's name is always ``blobs/<alg>/<hex>`` and no descriptor can
  name a file elsewhere; its size must be a non-negative integer;
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

A tar is read member by member, never extracted: member names are checked with the
ZIP reader's rules (:func:`vendorproof.formats.ziparchive.check_member_name`; a leading
``./``, which ``tar -C layout -cf x.tar .`` writes, is dropped first), links, devices
and FIFOs are refused, duplicate names (also after case folding and Unicode
normalisation) and a name used as both file and directory are refused, and the member
count and total size are bounded by :class:`ArchiveLimits`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from vendorproof.errors import InvalidInputError
from vendorproof.formats.base import (
    SIGNATURE_INPUT_PREFIX,
    DocumentCache,
    ProgressFactory,
    Salvage,
    SignatureFile,
)
from vendorproof.formats.oci.delivery import (
    FORMAT_NAME,
    SIGNATURE_KIND,
    UNREFERENCED_BLOB,
    VENDOR_ANNOTATION,
    _to_delivery,
    given_media_type,
)
from vendorproof.formats.oci.documents import (
    ARTIFACT_NOTARY_SIGNATURE,
    ARTIFACT_SIGSTORE_BUNDLE,
    INDEX_FILE,
    INDEX_TYPES,
    KNOWN_BLOB_TYPES,
    LAYOUT_FILE,
    MANIFEST_TYPES,
    MEDIA_COSE,
    MEDIA_COSIGN_SIMPLESIGNING,
    MEDIA_EMPTY,
    MEDIA_IMAGE_INDEX,
    MEDIA_IMAGE_MANIFEST,
    MEDIA_JWS,
    Descriptor,
    ImageIndex,
    Manifest,
    parse_descriptor,
)
from vendorproof.formats.oci.layout import (
    BlobCheck,
    OciLayout,
    _walk,
    check_blobs,
    close_layout,
    open_layout,
)
from vendorproof.formats.oci.sources import (
    _DirSource,
    _MemorySource,
    _Source,
    _TarSource,
    is_layout,
)
from vendorproof.formats.ziparchive import DEFAULT_ARCHIVE_LIMITS
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models.checks import Check, CheckResult, Outcome
from vendorproof.models.delivery import Delivery
from vendorproof.models.summary import DeliverySummary
from vendorproof.verify.delivery import ComponentDigest, Hasher

__all__ = [
    "ARTIFACT_NOTARY_SIGNATURE",
    "ARTIFACT_SIGSTORE_BUNDLE",
    "FORMAT_NAME",
    "INDEX_FILE",
    "INDEX_TYPES",
    "KNOWN_BLOB_TYPES",
    "LAYOUT_FILE",
    "MANIFEST_TYPES",
    "MEDIA_COSE",
    "MEDIA_COSIGN_SIMPLESIGNING",
    "MEDIA_EMPTY",
    "MEDIA_IMAGE_INDEX",
    "MEDIA_IMAGE_MANIFEST",
    "MEDIA_JWS",
    "SIGNATURE_KIND",
    "UNREFERENCED_BLOB",
    "VENDOR_ANNOTATION",
    "BlobCheck",
    "Descriptor",
    "ImageIndex",
    "Manifest",
    "OciFormat",
    "OciLayout",
    "check_blobs",
    "close_layout",
    "given_media_type",
    "is_layout",
    "open_layout",
    "parse_descriptor",
]


def _tar_hasher(path: Path, progress: ProgressFactory | None) -> Hasher:
    def hasher(
        paths: Sequence[str], algorithms: Sequence[str]
    ) -> list[ComponentDigest]:
        source = _TarSource(path, limits=DEFAULT_ARCHIVE_LIMITS)
        try:
            total = sum(source.files().get(p, 0) for p in paths)
            if progress is None:
                results = source.hash(paths, algorithms, None)
            else:
                with progress(total) as on_progress:
                    results = source.hash(paths, algorithms, on_progress)
        finally:
            source.close()
        out = []
        for name, r in zip(paths, results, strict=True):
            if isinstance(r, str):
                raise InvalidInputError(r, file=str(path), path=name)
            out.append(ComponentDigest(size=r.size, digests=dict(r.digests)))
        return out

    return hasher


class OciFormat:
    """OCI image layouts (a directory or a tar) signed with Notation or cosign."""

    name = FORMAT_NAME
    signature_files = True

    def detect(self, path: Path) -> bool:
        """A directory or tar holding an ``oci-layout`` file."""
        return is_layout(path)

    def load(
        self,
        path: Path,
        *,
        limits: Limits = DEFAULT_LIMITS,
        signatures: Sequence[SignatureFile] = (),
    ) -> Delivery:
        """Walk the layout and collect the signed manifest and its signatures.

        ``signatures`` are Notation envelopes given as files beside the layout;
        they are verified like the referrers found in it, and stored as inputs.
        """
        opened = open_layout(path, limits=limits)
        try:
            return _to_delivery(opened, path, limits, signatures)
        finally:
            close_layout(opened)

    def measure(self, path: Path, progress: ProgressFactory | None = None) -> Hasher:
        """Hash blobs by their path (``blobs/<alg>/<hex>``), streaming."""
        if path.is_dir():
            from vendorproof.formats.directory import files_hasher

            return files_hasher(path, progress)
        return _tar_hasher(path, progress)

    def reload(
        self,
        inputs: Mapping[str, bytes],
        summary: DeliverySummary,
        *,
        workdir: Path,  # noqa: ARG002 - nothing is written
        images: Path | None,
        cache: DocumentCache | None = None,  # noqa: ARG002 - nothing to share
        limits: Limits = DEFAULT_LIMITS,
    ) -> Delivery:
        """The delivery from the stored index, manifests and signatures."""
        given = [
            SignatureFile(name=n.removeprefix(SIGNATURE_INPUT_PREFIX), data=d)
            for n, d in inputs.items()
            if n.startswith(SIGNATURE_INPUT_PREFIX)
        ]
        layout_inputs = {
            n: d for n, d in inputs.items() if not n.startswith(SIGNATURE_INPUT_PREFIX)
        }
        source = _MemorySource(layout_inputs, summary.root)
        root = images if images is not None else Path(summary.root)
        delivery = _to_delivery(_walk(source, limits), root, limits, given)
        return replace(
            delivery,
            payload=frozenset(summary.listing.payload),
            irregular=dict(summary.listing.irregular),
        )

    def salvage(self, path: Path, *, limits: Limits = DEFAULT_LIMITS) -> Salvage:
        """``oci-layout`` and ``index.json`` when they can be read."""
        inputs: dict[str, bytes] = {}
        errors: list[CheckResult] = []
        try:
            source: _Source = (
                _DirSource(path, limits=limits)
                if path.is_dir()
                else _TarSource(path, limits=DEFAULT_ARCHIVE_LIMITS)
            )
            for name in (LAYOUT_FILE, INDEX_FILE):
                if name in source.files():
                    inputs[name] = source.read(name, limits.max_document_bytes)
            if isinstance(source, _TarSource):
                source.close()
        except InvalidInputError as e:
            errors.append(CheckResult.of(Check.ERROR, str(path), Outcome.ERROR, str(e)))
        except OSError as e:
            errors.append(
                CheckResult.of(Check.ERROR, str(path), Outcome.ERROR, str(e.strerror))
            )
        return Salvage(inputs=inputs, errors=tuple(errors))
