"""A walked OCI image layout as a delivery (docs/design.md, "Delivery formats").

The signed manifest (the one image or index ``index.json`` lists besides signatures)
is the package manifest; its config and layers (for an index: every manifest, config
and layer below it) are the components, named by blob path and measured by the
hashing engine; the Notation and cosign signatures found as referrers of it (and
cosign simple-signing manifests), then the Notation envelopes given as files beside
the layout (``--signature``), are one detached signature of kind ``oci``, which
``verify.oci_signatures`` verifies, the first that establishes a trusted vendor
deciding. Every document the walk refused is a failed ``attestations`` finding.

Only a manifest of the shape its specification gives is a signature manifest
(:class:`_Signatures`): its blobs are signature material, not payload. One that
only labels itself a signature is a document of another artifact, and its blobs
are payload files the image's manifest does not list (``unlisted-files``).

Inputs (stored as evidence): ``oci-layout``, ``index.json``, every index and manifest
blob read (refused ones too), the config and layers of every signature manifest,
the config of every manifest with simple-signing layers (its shape depends on it),
and every signature file (``signature:<name>``); never the image's config or layers.

The vendor, product, version and release date are the signed document's own image
annotations (image-spec ``annotations.md``), never its descriptor's in
``index.json``.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from vendorproof._internal.jsonio import dump_json, parse_json
from vendorproof.errors import InvalidInputError
from vendorproof.formats.base import SignatureFile
from vendorproof.formats.oci.documents import (
    ARTIFACT_NOTARY_SIGNATURE,
    ARTIFACT_SIGSTORE_BUNDLE,
    INDEX_FILE,
    LAYOUT_FILE,
    MEDIA_COSE,
    MEDIA_EMPTY,
    MEDIA_IMAGE_MANIFEST,
    MEDIA_JWS,
    Descriptor,
    Manifest,
)
from vendorproof.formats.oci.layout import OciLayout
from vendorproof.limits import Limits
from vendorproof.models.checks import Check, CheckResult, Outcome
from vendorproof.models.delivery import (
    Delivery,
    DetachedSignature,
    PackageManifest,
    VendorClaim,
)
from vendorproof.models.manifest import ComponentManifest

__all__ = [
    "FORMAT_NAME",
    "SIGNATURE_KIND",
    "UNREFERENCED_BLOB",
    "VENDOR_ANNOTATION",
    "given_media_type",
]

FORMAT_NAME: Final = "oci"
SIGNATURE_KIND: Final = "oci"
_SIGNATURE_TYPES: Final = frozenset(
    {ARTIFACT_NOTARY_SIGNATURE, ARTIFACT_SIGSTORE_BUNDLE}
)


def _signed(layout: OciLayout) -> list[Descriptor]:
    """The images ``index.json`` lists besides signatures (candidates to be signed).

    Only documents that could be read count: one that could not is a problem of
    the layout already, and nothing it says (a ``subject``) is known. An image
    listed more than once (one digest under several ``ref.name`` tags, as
    ``skopeo copy`` or ``oras`` write them) is one candidate: the entries'
    annotations are not signed, and only the digest is verified.
    """
    out: dict[str, Descriptor] = {}
    for d in layout.index.manifests:
        m = layout.manifests.get(d.digest)
        if m is None and d.digest not in layout.indexes:
            continue
        if m is not None and (m.subject is not None or m.simple_signing):
            continue
        out.setdefault(d.digest, d)
    return list(out.values())


def _components(layout: OciLayout, top: Descriptor) -> list[tuple[Descriptor, str]]:
    """Every blob below ``top`` (not ``top`` itself) with its component kind."""
    # Each digest is visited once: an index may name one child many times, and
    # indexes may share children, so following every path of the DAG would take
    # time exponential in the nesting depth.
    found: dict[str, tuple[Descriptor, str]] = {}
    visited = {top.digest}
    todo = [top]
    while todo:
        d = todo.pop()
        if d.digest in layout.indexes:
            for child in layout.indexes[d.digest].manifests:
                found.setdefault(child.digest, (child, "other"))
                if child.digest not in visited:
                    visited.add(child.digest)
                    todo.append(child)
        elif d.digest in layout.manifests:
            m = layout.manifests[d.digest]
            found.setdefault(m.config.digest, (m.config, "config"))
            for layer in m.layers:
                found.setdefault(layer.digest, (layer, "container-image"))
    found.pop(top.digest, None)
    return [found[k] for k in sorted(found)]


#: The OCI empty descriptor's content, ``{}`` (image-spec ``manifest.md``,
#: "Guidance for an Empty Descriptor"): the config of a Notation signature
#: manifest (notation writes ``{}`` under either config media type) and of a
#: Sigstore bundle referrer.
_EMPTY_JSON_DIGEST: Final = (
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
)
_NOTARY_CONFIG_TYPES: Final = frozenset({ARTIFACT_NOTARY_SIGNATURE, MEDIA_EMPTY})
_NOTARY_ENVELOPE_TYPES: Final = frozenset({MEDIA_JWS, MEDIA_COSE})
_BUNDLE_LAYER_TYPES: Final = frozenset(
    {ARTIFACT_SIGSTORE_BUNDLE, "application/vnd.dev.sigstore.bundle+json;version=0.3"}
)
_IMAGE_CONFIG_TYPES: Final = frozenset(
    {
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.docker.container.image.v1+json",
    }
)
#: The fields of the image config cosign writes for a simple-signing manifest
#: (an empty image whose layers are the payloads).
_COSIGN_CONFIG_FIELDS: Final = frozenset(
    {"architecture", "os", "created", "history", "rootfs", "config"}
)


def _is_empty_json(d: Descriptor) -> bool:
    return d.digest == _EMPTY_JSON_DIGEST and d.size == len(b"{}")


def _notary_shape(m: Manifest) -> str | None:
    """Why ``m`` is no Notation signature manifest (None: it is one).

    Notary Project signature specification, "Storage": an OCI image manifest whose
    config media type is ``application/vnd.cncf.notary.signature`` (or, with that
    ``artifactType``, the OCI empty descriptor) and whose ``layers`` hold exactly
    one descriptor, the envelope (``application/jose+json`` or
    ``application/cose``). The config content is not used, so it must be ``{}``.
    """
    if m.descriptor.media_type != MEDIA_IMAGE_MANIFEST:
        return f"media type {m.descriptor.media_type!r} is not {MEDIA_IMAGE_MANIFEST}"
    if m.config.media_type not in _NOTARY_CONFIG_TYPES or not _is_empty_json(m.config):
        return (
            f"config ({m.config.media_type}, {m.config.size} bytes) is not the "
            f"empty JSON object of a Notation signature"
        )
    if len(m.layers) != 1 or m.layers[0].media_type not in _NOTARY_ENVELOPE_TYPES:
        return (
            f"layers ({_types(m.layers)}) are not exactly one envelope "
            f"(application/jose+json or application/cose)"
        )
    return None


def _bundle_shape(m: Manifest) -> str | None:
    """Why ``m`` is no Sigstore bundle referrer (None: it is one).

    cosign 3 attaches a bundle as an OCI image manifest with that ``artifactType``,
    the empty descriptor as config and the bundle as its one layer.
    """
    if m.descriptor.media_type != MEDIA_IMAGE_MANIFEST:
        return f"media type {m.descriptor.media_type!r} is not {MEDIA_IMAGE_MANIFEST}"
    if m.config.media_type != MEDIA_EMPTY or not _is_empty_json(m.config):
        return (
            f"config ({m.config.media_type}, {m.config.size} bytes) is not the "
            f"empty descriptor"
        )
    if len(m.layers) != 1 or m.layers[0].media_type not in _BUNDLE_LAYER_TYPES:
        return f"layers ({_types(m.layers)}) are not exactly one Sigstore bundle"
    return None


def _simple_signing_shape(config: object, m: Manifest) -> str | None:
    """Why ``m`` (every layer a simple-signing payload) is no cosign signature.

    cosign stores simple signatures as an image (tag ``sha256-<hex>.sig``) whose
    layers are the payloads and whose config describes nothing else: ``{}``, or
    the config of an empty image whose ``rootfs.diff_ids`` are exactly those
    layers, without execution parameters (``config`` empty).
    """
    reason = "config is not the image config cosign writes for its signatures"
    if m.config.media_type not in _IMAGE_CONFIG_TYPES:
        return f"config media type {m.config.media_type!r} is not an image config"
    if not isinstance(config, dict):
        return reason
    if not config:
        return None
    rootfs = {"type": "layers", "diff_ids": [x.digest for x in m.layers]}
    history = config.get("history", [])
    if (
        set(config) - _COSIGN_CONFIG_FIELDS
        or config.get("config", {}) != {}
        or config.get("rootfs") != rootfs
        or not all(
            isinstance(config.get(k, ""), str)
            for k in ("architecture", "os", "created")
        )
        or not isinstance(history, list)
        or len(history) > len(m.layers) + 1
        or not all(
            isinstance(h, dict)
            and set(h) <= {"created"}
            and isinstance(h.get("created", ""), str)
            for h in history
        )
    ):
        return reason
    return None


def _types(layers: Sequence[Descriptor]) -> str:
    return ", ".join(x.media_type for x in layers) or "none"


class _Signatures:
    """The signatures over one image, and which blobs are signature material.

    A manifest is a signature manifest of the image only when it has the shape
    its specification gives (see the ``_*_shape`` functions); then its envelope
    layers go to the verifier, and the manifest, config and layers are no
    payload. A manifest that only *labels itself* a signature (``artifactType``,
    or simple-signing layers) but has another shape is a document of another
    artifact: its blobs stay payload (``unlisted-files``), and a ``warn``
    ``attestations`` finding says why it is no signature.
    """

    def __init__(self, layout: OciLayout, limits: Limits) -> None:
        self.layout = layout
        self.limits = limits
        self.entries: list[dict[str, Any]] = []
        self.blobs: set[str] = set()
        self.inputs: dict[str, bytes] = {}
        self.findings: list[CheckResult] = []

    def read(self, d: Descriptor) -> bytes | None:
        """Blob ``d`` (size and digest checked), or None (a finding says why)."""
        if d.blob in self.inputs:
            return self.inputs[d.blob]
        if d.blob in self.layout.documents:
            return self.layout.documents[d.blob]
        try:
            raw = self.layout.read_blob(d, limits=self.limits)
        except InvalidInputError as e:
            self.findings.append(_finding(d.blob, f"malformed: {e}"))
            return None
        self.inputs[d.blob] = raw
        return raw

    def not_signature(self, m: Manifest, what: str, why: str) -> None:
        self.findings.append(
            CheckResult.of(
                Check.ATTESTATIONS,
                m.descriptor.blob,
                Outcome.WARN,
                f"not a {what}: {why}; its blobs are payload",
            )
        )

    def add(self, m: Manifest, *, annotated: bool = False) -> None:
        files = [m.descriptor.blob, m.config.blob]
        self.blobs.update(files)
        for layer in m.layers:
            self.blobs.add(layer.blob)
            raw = self.read(layer)
            entry: dict[str, Any] = {
                "mediaType": layer.media_type,
                "blob": layer.blob,
                "files": [*files, layer.blob],
                "data": base64.b64encode(raw or b"").decode(),
            }
            if annotated:
                entry["annotations"] = dict(layer.annotations)
            self.entries.append(entry)
        self.read(m.config)

    def collect(self, digest: str) -> None:
        for m in self.layout.referrers(digest, artifact_types=_SIGNATURE_TYPES):
            if m.kind == ARTIFACT_NOTARY_SIGNATURE:
                what, why = "Notation signature manifest", _notary_shape(m)
            else:
                what, why = "Sigstore bundle referrer", _bundle_shape(m)
            if why is None:
                self.add(m)
            else:
                self.not_signature(m, what, why)
        for m in self.layout.simple_signatures():
            raw = self.read(m.config)
            if raw is None:
                continue
            try:
                config = parse_json(raw, file=m.config.blob, limits=self.limits)
            except InvalidInputError:
                config = None
            why = _simple_signing_shape(config, m)
            if why is None:
                self.add(m, annotated=True)
            else:
                self.not_signature(m, "cosign simple-signing manifest", why)


def _finding(subject: str, reason: str) -> CheckResult:
    return CheckResult.of(Check.ATTESTATIONS, subject, Outcome.FAIL, reason)


def given_media_type(data: bytes) -> str | None:
    """The envelope media type of a signature given as a file, from its content.

    A JWS JSON serialization is a JSON object (``{`` after optional whitespace,
    RFC 7515 §7.2); a Notation COSE envelope is a ``COSE_Sign1_Tagged`` item, CBOR
    tag 18 (first byte ``0xd2``, RFC 9052 §4.2). Anything else is no Notation
    envelope (None), which fails its signature check. The guess decides only which
    verifier reads the bytes: a wrong one cannot verify.
    """
    head = data.lstrip(b" \t\r\n")[:1]
    if head == b"{":
        return MEDIA_JWS
    if head == b"\xd2":
        return MEDIA_COSE
    return None


def _given_entries(
    signatures: Sequence[SignatureFile],
) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """Verifier entries and evidence inputs for signature files given beside."""
    entries: list[dict[str, Any]] = []
    inputs: dict[str, bytes] = {}
    # In name order, as a replay finds them among the stored inputs.
    for sig in sorted(signatures, key=lambda x: x.name):
        inputs[sig.input_name] = sig.data
        entries.append(
            {
                "mediaType": given_media_type(sig.data),
                "blob": sig.input_name,
                "data": base64.b64encode(sig.data).decode(),
            }
        )
    return entries, inputs


def _to_delivery(
    layout: OciLayout,
    root: Path,
    limits: Limits,
    signatures: Sequence[SignatureFile] = (),
) -> Delivery:
    inputs: dict[str, bytes] = dict(layout.documents)
    findings = [_finding(subject, reason) for subject, reason in layout.problems]
    findings.extend(
        _finding(where, f"unknown media type {media_type!r}")
        for where, media_type in layout.unknown_media_types
    )
    given, given_inputs = _given_entries(signatures)
    inputs.update(given_inputs)
    signed = _signed(layout)
    metadata: set[str] = {LAYOUT_FILE, INDEX_FILE}
    package: PackageManifest | None = None
    refused = {subject for subject, _ in layout.problems}
    if INDEX_FILE in refused:
        pass  # nothing it lists is known; its own finding says why
    elif len(signed) != 1:
        findings.append(
            _finding(
                INDEX_FILE,
                f"exactly one readable image (manifest or index) besides its "
                f"signatures is required in index.json, found {len(signed)}",
            )
        )
    else:
        top = signed[0]
        raw = inputs[top.blob]
        found = _Signatures(layout, limits)
        found.collect(top.digest)
        inputs.update(found.inputs)
        findings.extend(found.findings)
        entries = [*found.entries, *given]
        metadata |= found.blobs
        manifest, claim = _component_manifest(layout, top)
        released = None if manifest.release_date == _EPOCH else manifest.release_date
        signature = None
        if entries:
            signature = DetachedSignature(
                kind=SIGNATURE_KIND,
                file=entries[0]["blob"],
                target=top.blob,
                data=dump_json({"target": _target_dict(top), "signatures": entries}),
            )
        package = PackageManifest(
            file=top.blob,
            manifest=manifest,
            content=raw,
            signature=signature,
            vendor_claim=claim,
            released=released,
        )
        metadata.add(top.blob)
    for index in layout.indexes.values():
        if index.descriptor is not None:
            metadata.add(index.descriptor.blob)
    # A blob nothing in the layout references is named as such (``unlisted-files``
    # reports it with this reason), not as an ordinary file.
    unreferenced = dict.fromkeys(layout.unreferenced, UNREFERENCED_BLOB)
    payload = frozenset(
        n for n in layout.source.files() if n not in metadata and n not in unreferenced
    )
    return Delivery(
        format=FORMAT_NAME,
        root=root,
        payload=payload,
        irregular=unreferenced,
        package_manifest=package,
        findings=tuple(findings),
        inputs=inputs,
    )


#: Why an unreferenced blob is no payload file (``Delivery.irregular``).
UNREFERENCED_BLOB: Final = "unreferenced blob"


def _target_dict(d: Descriptor) -> dict[str, Any]:
    return {"mediaType": d.media_type, "digest": d.digest, "size": d.size}


#: The image annotations (image-spec ``annotations.md``) read into the manifest.
VENDOR_ANNOTATION: Final = "org.opencontainers.image.vendor"
_TITLE: Final = "org.opencontainers.image.title"
_VERSION: Final = "org.opencontainers.image.version"
_CREATED: Final = "org.opencontainers.image.created"


def _component_manifest(
    layout: OciLayout, top: Descriptor
) -> tuple[ComponentManifest, VendorClaim]:
    """The image as a component manifest, and what kind of vendor claim it makes.

    The annotations are the signed document's own (the manifest's, or the image
    index's): the descriptor in ``index.json`` is not covered by the signature, so
    what it says (a ``ref.name`` tag, annotations copied there) is never read into
    the vendor, product, version or release date.
    """
    from vendorproof.models._fields import parse_time
    from vendorproof.models.manifest import Component, ComponentKind, Party

    m = layout.manifests.get(top.digest)
    if m is not None:
        annotations = m.annotations
    else:
        annotations = layout.indexes[top.digest].annotations
    vendor = annotations.get(VENDOR_ANNOTATION, "")
    claim = VendorClaim.NAME if vendor else VendorClaim.ABSENT
    created = annotations.get(_CREATED)
    try:
        released = parse_time(created, "created") if created else _EPOCH
    except InvalidInputError:
        released = _EPOCH
    components = tuple(
        Component(
            path=d.blob,
            kind=ComponentKind(kind),
            size=d.size,
            digests=MappingProxyType({d.algorithm: d.digest.partition(":")[2]}),
        )
        for d, kind in _components(layout, top)
    )
    manifest = ComponentManifest(
        vendor=Party(name=vendor, id=vendor),
        product=annotations.get(_TITLE, ""),
        version=annotations.get(_VERSION, ""),
        security_version=None,
        network_function=None,
        domain=None,
        release_date=released,
        components=components,
    )
    return manifest, claim


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
