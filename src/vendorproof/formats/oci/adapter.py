"""The OCI image layout delivery format, :class:`OciFormat` (``formats/base.py``).

``load`` walks the layout (``layout.py``) and builds the delivery from it
(``delivery.py``); ``measure`` hashes blobs by their path, a directory's with the
directory format's hasher and a tar's in one forward pass over its members;
``reload`` builds the delivery again from a record's stored inputs; ``salvage`` keeps
``oci-layout`` and ``index.json`` when they can be read.
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
    check_unchanged,
)
from vendorproof.formats.oci.delivery import FORMAT_NAME, _to_delivery
from vendorproof.formats.oci.documents import INDEX_FILE, LAYOUT_FILE
from vendorproof.formats.oci.layout import _walk, close_layout, open_layout
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
from vendorproof.models.delivery import Delivery, FileState
from vendorproof.models.summary import DeliverySummary
from vendorproof.verify.delivery import ComponentDigest, Hasher

__all__ = ["OciFormat"]


def _tar_hasher(
    path: Path, progress: ProgressFactory | None, expect: FileState | None
) -> Hasher:
    def hasher(
        paths: Sequence[str], algorithms: Sequence[str]
    ) -> list[ComponentDigest]:
        source = _TarSource(path, limits=DEFAULT_ARCHIVE_LIMITS)
        try:
            check_unchanged(expect, source.state, file=str(path))
            total = sum(source.files().get(p, 0) for p in paths)
            if progress is None:
                results = source.hash(paths, algorithms, None)
            else:
                with progress(total) as on_progress:
                    results = source.hash(paths, algorithms, on_progress)
            check_unchanged(expect, source.state_now(), file=str(path))
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
            delivery = _to_delivery(opened, path, limits, signatures)
            source = opened.source
            if not isinstance(source, _TarSource):
                return delivery  # a directory: every blob is checked by its name
            check_unchanged(source.state, source.state_now(), file=str(path))
            return replace(delivery, source_state=source.state)
        finally:
            close_layout(opened)

    def measure(
        self,
        path: Path,
        progress: ProgressFactory | None = None,
        *,
        expect: FileState | None = None,
    ) -> Hasher:
        """Hash blobs by their path (``blobs/<alg>/<hex>``), streaming.

        A tar is refused when it is not in the state ``expect`` (the state it had
        when it was loaded) when opened or after it was read; with ``expect``, the
        layout loaded was a tar, and whatever is at ``path`` now is read as one (a
        directory put in its place is refused, not walked).
        """
        if expect is None and path.is_dir():
            from vendorproof.formats.directory import files_hasher

            return files_hasher(path, progress)
        return _tar_hasher(path, progress, expect)

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
