"""OCI image layouts (OCI image specification 1.1), from a directory or a tar.

The package, from the bottom up:

- ``documents``: the media types, descriptors, image indexes and manifests, and
  their strict parsing;
- ``sources``: the readers of a layout directory, a tar archive and a replay's
  stored inputs, and their confinement; :func:`is_layout`;
- ``layout``: the walk from ``index.json`` to indexes, manifests and blobs
  (:func:`open_layout`), its limits and problems, the referrers, and
  :func:`check_blobs`;
- ``delivery``: the walked layout as a ``Delivery``: the signed manifest, its
  signatures, the signature files given beside it, the vendor claim;
- ``adapter``: :class:`OciFormat`, the delivery format (load, measure, reload,
  salvage) and the tar hasher.

Every public name of these modules is re-exported here.
"""

from __future__ import annotations

from vendorproof.formats.oci.adapter import OciFormat
from vendorproof.formats.oci.delivery import (
    FORMAT_NAME,
    SIGNATURE_KIND,
    UNREFERENCED_BLOB,
    VENDOR_ANNOTATION,
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
    check_blobs,
    close_layout,
    open_layout,
)
from vendorproof.formats.oci.sources import is_layout

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
