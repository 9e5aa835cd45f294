"""The delivery model: what a format adapter loaded, in one shape for every format.

A delivery format (``vendorproof.formats``: today's directory layout, an ETSI SOL 004
package, an OCI image layout) reads its input and gives a :class:`Delivery`. Every
check after that (``vendorproof.verify.evaluate_delivery``), intake, evidence records
and replay are the same for every format. ``docs/design.md`` ("Delivery formats")
describes the adapter contract.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

from vendorproof.models.checks import CheckResult
from vendorproof.models.documents import SignedDocument
from vendorproof.models.manifest import ComponentManifest

__all__ = [
    "DETACHED_SIGNATURE_SUFFIXES",
    "Delivery",
    "DetachedSignature",
    "FileState",
    "PackageManifest",
    "VendorClaim",
]

#: The names a detached signature over ``<file>`` may have, in order of preference.
DETACHED_SIGNATURE_SUFFIXES = (".cms", ".p7s")


def _empty() -> Mapping[str, bytes]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class FileState:
    """A delivery file's identity and state: what tells one snapshot from another.

    The device and inode name the file; its size and its modification and change
    times (to the nanosecond) change with any write to it. The change time cannot be
    set by a process (``utimensat`` sets the other two, and changes it), so a file
    rewritten in place, or replaced by another, has another state.
    """

    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileState:
        """The state ``os.stat``/``os.fstat`` reported."""
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@dataclass(frozen=True, slots=True, kw_only=True)
class DetachedSignature:
    """A signature delivered beside what it signs (not inside a signed statement).

    Attributes:
        kind: the signature format (``cms``: an RFC 5652 detached ``SignedData``).
        file: where the signature was read from (delivery-relative).
        target: the delivered path it signs (a component, or the package manifest).
        data: the signature bytes as delivered.
        certificates: certificate files delivered with it (PEM or DER), e.g. a SOL 004
            ``.cert``; they are candidates for the chain, never trust anchors.
        algorithms: the digest algorithms the signature declares, which ``target``
            is measured with besides those the manifest lists (a package signature's
            target is listed by no manifest); empty when the signature does not say
            (malformed: the verifier reports it).
    """

    kind: str
    file: str
    target: str
    data: bytes = field(repr=False)
    certificates: tuple[bytes, ...] = field(default=(), repr=False)
    algorithms: tuple[str, ...] = ()


class VendorClaim(enum.Enum):
    """What a package manifest's vendor field is, for the ``vendor-binding`` check.

    The vendor of a delivery is always the policy principal that verified the
    manifest's signature; what the manifest says is a claim checked against it
    (``docs/trust-rules.md``, "Who the delivery is from").
    """

    #: ``manifest.vendor.id`` is a policy vendor id; it must be the signer's.
    POLICY_ID = "policy-id"
    #: The format names its vendor in free text (``manifest.vendor.name``, e.g. an
    #: OCI ``org.opencontainers.image.vendor`` annotation); it must be the signer's
    #: policy id or its display name as the policy writes it.
    NAME = "name"
    #: The manifest names no vendor (an image without the annotation): there is no
    #: claim to contradict the signer, who is the vendor.
    ABSENT = "absent"


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageManifest:
    """A vendor manifest that is not an in-toto statement (e.g. a SOL 004 ``.mf``).

    Attributes:
        file: where it was read from.
        manifest: what it declares, in the neutral model (the vendor it names is a
            claim, bound to the verified signer by the ``vendor-binding`` check).
        content: the signed bytes (for a SOL 004 manifest: the bytes before the CMS
            block).
        signature: the vendor's signature over ``content`` (None: unsigned, which
            fails the manifest's signer checks unless a package signature may stand
            in for it).
        package_signature: a signature over the whole package that holds the
            manifest (SOL 004 security option 2: a CMS over the CSAR inside a ZIP);
            its ``target`` is a delivered file measured by the adapter's hasher
            with ``algorithms``. Its signer must be the manifest's vendor; whether
            it may stand in for a missing ``signature`` is the policy's
            (``sol004Option2Alone``).
        vendor_claim: what ``manifest.vendor`` holds (a policy id, a name, none).
        released: the release time the package states, a claim of the signed
            manifest (SOL 004 ``vnf_release_date_time``, an image's
            ``org.opencontainers.image.created``); None when it states none.
    """

    file: str
    manifest: ComponentManifest
    content: bytes = field(repr=False)
    signature: DetachedSignature | None
    vendor_claim: VendorClaim = VendorClaim.POLICY_ID
    package_signature: DetachedSignature | None = None
    released: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """What a delivery holds, as its format adapter loaded it.

    Attributes:
        format: the adapter's name (``directory``, ``sol004``, ...).
        root: the delivery as given (a directory or a package file).
        documents: the signed in-toto statements (DSSE envelopes, Sigstore bundles),
            each with its typed predicate.
        payload: delivery-relative paths of every regular payload file.
        irregular: path -> why it is not a payload file (links, devices, FIFOs,
            sockets, unrecognised metadata files).
        artifact_bundles: component path -> bytes of a Sigstore bundle over that file.
        in_toto: ``in-toto/...`` path -> bytes of the in-toto layout and links.
        package_manifest: a manifest that is not a signed statement (a package
            format's own manifest), used when ``documents`` hold no manifest.
        signatures: detached signatures over components (e.g. CMS per artefact).
        findings: the checks the adapter ran on the format itself (structure,
            certificate placement, malformed documents); failed ones fail the delivery.
        inputs: the original artefacts the adapter read, by delivery-relative name:
            intake stores them as evidence inputs, and replay loads the delivery again
            from them (with the recorded listing and measurements).
        source_state: the state of the delivery's file when it was loaded (a
            package: a ZIP, a tar), which its format's hasher requires of the file
            it measures (``DeliveryFormat.measure``), so the listing, the metadata
            and the measured bytes come from one snapshot; None for a directory
            (each file is measured against its digest) and a delivery loaded again
            from evidence.
    """

    format: str = "directory"
    root: Path
    documents: tuple[SignedDocument, ...] = ()
    payload: frozenset[str] = frozenset()
    irregular: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    artifact_bundles: Mapping[str, bytes] = field(default_factory=_empty)
    in_toto: Mapping[str, bytes] = field(default_factory=_empty)
    package_manifest: PackageManifest | None = None
    signatures: tuple[DetachedSignature, ...] = ()
    findings: tuple[CheckResult, ...] = ()
    inputs: Mapping[str, bytes] = field(default_factory=_empty)
    source_state: FileState | None = None


# -- the directory layout's names (formats/directory.py; in-toto skips them too) ------

ATTESTATIONS = "attestations"
#: Sigstore bundles over delivered files: attestations/keyless/<path>.sigstore.json
KEYLESS = f"{ATTESTATIONS}/keyless/"
BUNDLE_SUFFIX = ".sigstore.json"
#: Directories holding metadata rather than payload.
IN_TOTO = "in-toto"
RESERVED = frozenset({ATTESTATIONS, IN_TOTO})
DOCUMENT_SUFFIXES = (".sigstore.json", ".dsse.json")
