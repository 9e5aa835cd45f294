"""OCI descriptors, image indexes and image manifests (OCI image specification 1.1).

An image layout (image-spec ``image-layout.md``) is an ``oci-layout`` file naming the
layout version, an ``index.json`` image index, and content-addressed blobs at
``blobs/<alg>/<encoded>``. This module holds the documents an index and its blobs
are made of, and their parsing (image-spec ``descriptor.md``, ``image-index.md``,
``manifest.md``):

- a descriptor's digest must be ``sha256:`` or ``sha512:`` with the registered
  encoding (``descriptor.md`` "Digests"), so a blob's name is always
  ``blobs/<alg>/<hex>`` and no descriptor can name a file elsewhere; its size must
  be a non-negative integer;
- indexes and manifests are parsed strictly (duplicate keys refused, ``schemaVersion``
  2, a declared ``mediaType`` the one their descriptor gives);
- media types: indexes and manifests have one of the OCI (or Docker schema 2)
  index/manifest types (:data:`INDEX_TYPES`, :data:`MANIFEST_TYPES`); config and
  layer types outside :data:`KNOWN_BLOB_TYPES` are ones whose content cannot be
  interpreted.

A document that cannot be parsed raises ``InvalidInputError`` naming its field; the
walk (``layout.py``) makes it a problem of its blob.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Final

from vendorproof._internal.jsonio import parse_json
from vendorproof.errors import InvalidInputError
from vendorproof.limits import Limits

__all__ = [
    "ARTIFACT_NOTARY_SIGNATURE",
    "ARTIFACT_SIGSTORE_BUNDLE",
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
    "Descriptor",
    "ImageIndex",
    "Manifest",
    "parse_descriptor",
]

MEDIA_IMAGE_INDEX: Final = "application/vnd.oci.image.index.v1+json"
MEDIA_IMAGE_MANIFEST: Final = "application/vnd.oci.image.manifest.v1+json"
_DOCKER_LIST: Final = "application/vnd.docker.distribution.manifest.list.v2+json"
_DOCKER_MANIFEST: Final = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES: Final = frozenset({MEDIA_IMAGE_INDEX, _DOCKER_LIST})
MANIFEST_TYPES: Final = frozenset({MEDIA_IMAGE_MANIFEST, _DOCKER_MANIFEST})

ARTIFACT_NOTARY_SIGNATURE: Final = "application/vnd.cncf.notary.signature"
ARTIFACT_SIGSTORE_BUNDLE: Final = "application/vnd.dev.sigstore.bundle.v0.3+json"
MEDIA_JWS: Final = "application/jose+json"
MEDIA_COSE: Final = "application/cose"
MEDIA_EMPTY: Final = "application/vnd.oci.empty.v1+json"
MEDIA_COSIGN_SIMPLESIGNING: Final = "application/vnd.dev.cosign.simplesigning.v1+json"

#: Config and layer media types whose meaning is known (image-spec ``media-types.md``,
#: Docker schema 2, and the signature artifacts of Notation and Sigstore/cosign).
KNOWN_BLOB_TYPES: Final = frozenset(
    {
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.docker.container.image.v1+json",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        MEDIA_EMPTY,
        ARTIFACT_NOTARY_SIGNATURE,
        MEDIA_JWS,
        MEDIA_COSE,
        "application/vnd.dev.sigstore.bundle.v0.3+json",
        "application/vnd.dev.sigstore.bundle+json;version=0.3",
        MEDIA_COSIGN_SIMPLESIGNING,
    }
)

LAYOUT_FILE: Final = "oci-layout"
INDEX_FILE: Final = "index.json"
_DIGEST = re.compile(r"\A(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})\Z")
_MAX_SIZE: Final = 2**63 - 1


def _blob_name(digest: str) -> str:
    alg, _, hex_ = digest.partition(":")
    return f"blobs/{alg}/{hex_}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Descriptor:
    """An OCI content descriptor (image-spec ``descriptor.md``), as far as it is used.

    ``where`` names the document and field it came from (for messages).
    """

    media_type: str
    digest: str
    size: int
    where: str
    annotations: Mapping[str, str] = field(default_factory=dict)
    artifact_type: str | None = None
    platform: str | None = None

    @property
    def blob(self) -> str:
        """The blob's path inside the layout: ``blobs/<alg>/<hex>``."""
        return _blob_name(self.digest)

    @property
    def algorithm(self) -> str:
        """The digest algorithm (``sha256`` or ``sha512``)."""
        return self.digest.partition(":")[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageIndex:
    """An image index (``index.json`` or a nested index blob)."""

    descriptor: Descriptor | None  # None for index.json itself
    raw: bytes
    manifests: tuple[Descriptor, ...]
    annotations: Mapping[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    """An image manifest: config, layers and (OCI 1.1) artifactType and subject."""

    descriptor: Descriptor
    raw: bytes
    config: Descriptor
    layers: tuple[Descriptor, ...]
    subject: Descriptor | None
    artifact_type: str | None
    annotations: Mapping[str, str]

    @property
    def kind(self) -> str:
        """The artifact type: ``artifactType``, else the config media type."""
        return self.artifact_type or self.config.media_type

    @property
    def simple_signing(self) -> bool:
        """Whether this is a cosign simple-signing signature manifest."""
        return bool(self.layers) and all(
            x.media_type == MEDIA_COSIGN_SIMPLESIGNING for x in self.layers
        )


def _str(value: object, where: str, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"{what} must be a non-empty string", path=where)
    return value


def _annotations(value: object, where: str) -> Mapping[str, str]:
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidInputError(
            "annotations must be a map of strings to strings", path=where
        )
    return MappingProxyType(dict(value))


def _platform(value: object, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidInputError("platform must be an object", path=where)
    os_ = _str(value.get("os"), f"{where}.os", "os")
    arch = _str(value.get("architecture"), f"{where}.architecture", "architecture")
    variant = value.get("variant")
    return f"{os_}/{arch}" + (f"/{variant}" if isinstance(variant, str) else "")


def parse_descriptor(value: object, where: str) -> Descriptor:
    """Read a descriptor (``mediaType``, ``digest``, ``size`` required).

    Raises:
        InvalidInputError: a field is missing or malformed; ``path`` names it.
    """
    if not isinstance(value, dict):
        raise InvalidInputError("descriptor must be an object", path=where)
    media_type = _str(value.get("mediaType"), f"{where}.mediaType", "mediaType")
    digest = value.get("digest")
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise InvalidInputError(
            "digest must be sha256:<64 hex> or sha512:<128 hex> (lowercase)",
            path=f"{where}.digest",
        )
    size = value.get("size")
    if (
        isinstance(size, bool)
        or not isinstance(size, int)
        or not 0 <= size <= _MAX_SIZE
    ):
        raise InvalidInputError(
            "size must be a non-negative integer", path=f"{where}.size"
        )
    artifact = value.get("artifactType")
    if artifact is not None:
        artifact = _str(artifact, f"{where}.artifactType", "artifactType")
    return Descriptor(
        media_type=media_type,
        digest=digest,
        size=size,
        where=where,
        annotations=_annotations(value.get("annotations"), f"{where}.annotations"),
        artifact_type=artifact,
        platform=_platform(value.get("platform"), f"{where}.platform"),
    )


def _descriptors(value: object, where: str) -> tuple[Descriptor, ...]:
    if not isinstance(value, list):
        raise InvalidInputError("must be an array of descriptors", path=where)
    return tuple(parse_descriptor(v, f"{where}[{i}]") for i, v in enumerate(value))


def _object(raw: bytes, file: str, limits: Limits) -> dict[str, Any]:
    data = parse_json(raw, file=file, limits=limits)
    if not isinstance(data, dict):
        raise InvalidInputError("must be a JSON object", file=file)
    return data


def _schema_version(data: dict[str, Any], file: str) -> None:
    if data.get("schemaVersion") != 2:
        raise InvalidInputError(
            "schemaVersion must be 2", file=file, path="schemaVersion"
        )


def _media_type_matches(
    data: dict[str, Any], descriptor: Descriptor | None, file: str
) -> None:
    declared = data.get("mediaType")
    if declared is None:
        return
    if descriptor is not None and declared != descriptor.media_type:
        raise InvalidInputError(
            f"mediaType {declared!r} differs from the descriptor's "
            f"{descriptor.media_type!r} ({descriptor.where})",
            file=file,
            path="mediaType",
        )


def _parse_index(
    raw: bytes, descriptor: Descriptor | None, file: str, limits: Limits
) -> ImageIndex:
    data = _object(raw, file, limits)
    try:
        _schema_version(data, file)
        _media_type_matches(data, descriptor, file)
        if descriptor is None and data.get("mediaType") not in (
            None,
            MEDIA_IMAGE_INDEX,
        ):
            raise InvalidInputError(
                f"mediaType must be {MEDIA_IMAGE_INDEX}", path="mediaType"
            )
        manifests = _descriptors(data.get("manifests"), "manifests")
        annotations = _annotations(data.get("annotations"), "annotations")
    except InvalidInputError as e:
        raise e.in_file(file) from None
    if len(manifests) > limits.max_files:
        raise InvalidInputError(
            f"more than {limits.max_files} manifests", file=file, path="manifests"
        )
    at = f"{descriptor.blob} " if descriptor is not None else f"{INDEX_FILE} "
    return ImageIndex(
        descriptor=descriptor,
        raw=raw,
        manifests=tuple(replace(m, where=at + m.where) for m in manifests),
        annotations=annotations,
    )


def _parse_manifest(
    raw: bytes, descriptor: Descriptor, file: str, limits: Limits
) -> Manifest:
    data = _object(raw, file, limits)
    try:
        _schema_version(data, file)
        _media_type_matches(data, descriptor, file)
        config = parse_descriptor(data.get("config"), "config")
        layers = _descriptors(data.get("layers", []), "layers")
        subject = (
            parse_descriptor(data["subject"], "subject") if "subject" in data else None
        )
        artifact = data.get("artifactType")
        if artifact is not None:
            artifact = _str(artifact, "artifactType", "artifactType")
        annotations = _annotations(data.get("annotations"), "annotations")
    except InvalidInputError as e:
        raise e.in_file(file) from None
    if len(layers) > limits.max_files:
        raise InvalidInputError(
            f"more than {limits.max_files} layers", file=file, path="layers"
        )
    at = f"{descriptor.blob} "
    return Manifest(
        descriptor=descriptor,
        raw=raw,
        config=replace(config, where=at + config.where),
        layers=tuple(replace(x, where=at + x.where) for x in layers),
        subject=subject,
        artifact_type=artifact,
        annotations=annotations,
    )
