"""A walked OCI image layout as a delivery (docs/design.md, "Delivery formats").

The signed manifest (the one image or index ``index.json`` lists besides signatures)
is the package manifest; its config and layers (for an index: every manifest, config
and layer below it) are the components, named by blob path and measured by the
hashing engine; the Notation and cosign signatures found as referrers of it (and
cosign simple-signing manifests), then the Notation envelopes given as files beside
the layout (``--signature``), are one detached signature of kind ``oci``, which
``verify.oci_signatures`` verifies, the first that establishes a trusted vendor
deciding. Every document the walk refused is a failed ``attestations`` finding.

Inputs (stored as evidence): ``oci-layout``, ``index.json``, every index and manifest
blob read (refused ones too), every signature blob and every signature file
(``signature:<name>``); never a config or layer.

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

from vendorproof._internal.jsonio import dump_json
from vendorproof.errors import InvalidInputError
from vendorproof.formats.base import SignatureFile
from vendorproof.formats.oci.documents import (
    ARTIFACT_NOTARY_SIGNATURE,
    ARTIFACT_SIGSTORE_BUNDLE,
    INDEX_FILE,
    LAYOUT_FILE,
    MEDIA_COSE,
    MEDIA_JWS,
    Descriptor,
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


def _signature_blobs(
    layout: OciLayout, digest: str
) -> tuple[list[dict[str, Any]], set[str]]:
    """The signatures over ``digest``: (entries for the verifier, their blob paths)."""
    entries: list[dict[str, Any]] = []
    blobs: set[str] = set()
    for m in layout.referrers(digest, artifact_types=_SIGNATURE_TYPES):
        blobs.update({m.descriptor.blob, m.config.blob})
        for layer in m.layers:
            blobs.add(layer.blob)
            entries.append({"mediaType": layer.media_type, "blob": layer.blob})
    for m in layout.simple_signatures():
        blobs.update({m.descriptor.blob, m.config.blob})
        for layer in m.layers:
            blobs.add(layer.blob)
            entries.append(
                {
                    "mediaType": layer.media_type,
                    "blob": layer.blob,
                    "annotations": dict(layer.annotations),
                }
            )
    return entries, blobs


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
        entries, sig_blobs = _signature_blobs(layout, top.digest)
        for blob in sorted(sig_blobs):
            d = layout.blobs.get(_digest_of(blob))
            if d is None or blob in inputs:
                continue
            try:
                inputs[blob] = layout.read_blob(d, limits=limits)
            except InvalidInputError as e:
                findings.append(_finding(blob, f"malformed: {e}"))
        for entry in entries:
            entry["data"] = base64.b64encode(inputs.get(entry["blob"], b"")).decode()
        entries.extend(given)
        metadata |= sig_blobs
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


def _digest_of(blob: str) -> str:
    _, alg, hex_ = blob.split("/", 2)
    return f"{alg}:{hex_}"


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
