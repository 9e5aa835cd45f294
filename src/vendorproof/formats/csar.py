"""The ETSI GS NFV-SOL 004 package format (a CSAR, ``.csar`` or ``.zip``).

Loads a CSAR (security option 1) into the neutral :class:`Delivery` without extracting
it (``formats/sol004.py`` reads the structure, ``formats/ziparchive.py`` the archive):

* the ``.mf`` manifest becomes the package manifest: its ``metadata`` provider,
  product name, package version and release time are the vendor (a claim, bound to the
  verified signer by ``vendor-binding``), product, version and release date; every
  listed file with ``Algorithm``/``Hash`` a component (SOL 004 declares no sizes);
* the CMS block at the end of the manifest is the manifest's detached signature
  (kind ``cms``, verified by ``verify/cms_signer.py``) over the bytes before it, with
  the certificate named by ``ETSI-Entry-Certificate`` or the one ``.cert`` at the root
  as an untrusted chain candidate;
* per-artefact ``Signature``/``Certificate`` entries, and ``<file>.cms``/``<file>.p7s``
  beside a member, become detached signatures over their component, checked from the
  measured digests (the vendor's ``detachedSignatures`` rule names files that need
  one);
* findings (``attestations`` check): where the signer's certificate is (SOL 004 §5.1:
  in the CMS, at ``ETSI-Entry-Certificate`` or as the root ``.cert``, exactly one),
  listed files without a digest, external (URI) artefacts, a malformed manifest or
  TOSCA.meta, security option 2 (not verified yet: a failed finding);
* inputs (stored as evidence): ``TOSCA.meta``, the manifest, certificates and
  signature files; never the artefacts, whose measurements are in the record;
* payload: every other member (the manifest must list it: ``unlisted-files``).

Replay (``reload``) rebuilds the same delivery from the stored inputs and the recorded
member listing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from vendorproof.errors import InvalidInputError
from vendorproof.formats import sol004
from vendorproof.formats.base import (
    DocumentCache,
    ProgressFactory,
    Salvage,
    SignatureFile,
    refuse_signature_files,
)
from vendorproof.formats.ziparchive import SafeZip
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models.checks import Check, CheckResult, Outcome
from vendorproof.models.delivery import Delivery, DetachedSignature, PackageManifest
from vendorproof.models.manifest import (
    Component,
    ComponentKind,
    ComponentManifest,
    Party,
)
from vendorproof.models.summary import DeliverySummary, Listing
from vendorproof.verify.cms import embedded_certificates
from vendorproof.verify.cms_signer import verify_detached_cms
from vendorproof.verify.delivery import DETACHED_VERIFIERS, ComponentDigest, Hasher

__all__ = ["CsarFormat"]

NAME = "sol004"
_SUFFIXES = (".csar", ".zip")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")

DETACHED_VERIFIERS.setdefault("cms", verify_detached_cms)


def _finding(subject: str, outcome: Outcome, reason: str) -> CheckResult:
    return CheckResult.of(Check.ATTESTATIONS, subject, outcome, reason)


class _Package:
    """The inputs of one CSAR and what they say (shared by ``load`` and ``reload``)."""

    def __init__(
        self, inputs: Mapping[str, bytes], members: Sequence[str], name: str
    ) -> None:
        self.inputs = dict(inputs)
        self.members = tuple(members)
        self.name = name
        self.findings: list[CheckResult] = []

    def fail(self, subject: str, reason: str) -> None:
        self.findings.append(_finding(subject, Outcome.FAIL, reason))

    def delivery(self, root: Path) -> Delivery:
        package, signatures, metadata = self._read()
        # Metadata the manifest lists with a digest is also payload (measured).
        listed = (
            {c.path for c in package.manifest.components}
            if package is not None
            else set()
        )
        payload = frozenset(m for m in self.members if m not in metadata or m in listed)
        return Delivery(
            format=NAME,
            root=root,
            payload=payload,
            package_manifest=package,
            signatures=tuple(signatures),
            findings=tuple(self.findings),
            inputs=self.inputs,
        )

    def _read(  # noqa: PLR0911 - one return per part that cannot be read
        self,
    ) -> tuple[PackageManifest | None, list[DetachedSignature], set[str]]:
        """The package manifest, per-artefact signatures and the metadata members."""
        meta_name = sol004.TOSCA_META
        meta: sol004.ToscaMeta | None = None
        metadata: set[str] = set()
        if meta_name in self.inputs:
            metadata.add(meta_name)
            try:
                meta = sol004.parse_tosca_meta(self.inputs[meta_name], file=meta_name)
            except InvalidInputError as e:
                self.fail(meta_name, f"malformed: {e}")
                return None, [], metadata
            manifest_name = meta.entry_manifest
        else:
            found = [m for m in self.members if "/" not in m and m.endswith(".mf")]
            if not found and any(
                "/" not in m and m.lower().endswith(".csar") for m in self.members
            ):
                self.fail(
                    self.name,
                    "SOL 004 security option 2 (a CSAR inside a ZIP with a CMS over "
                    "it) is not verified yet",
                )
                return None, [], metadata
            if len(found) != 1:
                self.fail(
                    NAME,
                    "without TOSCA-Metadata/TOSCA.meta the root must hold exactly one "
                    f".mf manifest, found {len(found)}",
                )
                return None, [], metadata
            manifest_name = found[0]
        metadata.add(manifest_name)
        data = self.inputs.get(manifest_name)
        if data is None:
            self.fail(manifest_name, "the manifest is not in the package")
            return None, [], metadata
        try:
            manifest = sol004.parse_manifest(data, file=manifest_name)
        except InvalidInputError as e:
            self.fail(manifest_name, f"malformed: {e}")
            return None, [], metadata
        certificate = self._certificate(meta, manifest_name, manifest, metadata)
        signatures = self._artefact_signatures(manifest, meta, metadata)
        signatures += self._beside(metadata, {s.file for s in signatures})
        neutral = self._neutral(manifest_name, manifest, metadata)
        if neutral is None:
            return None, signatures, metadata
        signature = None
        if manifest.cms is not None:
            signature = DetachedSignature(
                kind="cms",
                file=manifest_name,
                target=manifest_name,
                data=manifest.cms,
                certificates=certificate,
            )
        content = (
            manifest.signed_content if manifest.signed_content is not None else data
        )
        package = PackageManifest(
            file=manifest_name,
            manifest=neutral,
            content=content,
            signature=signature,
            released=neutral.release_date,
        )
        return package, signatures, metadata

    def _certificate(
        self,
        meta: sol004.ToscaMeta | None,
        manifest_name: str,
        manifest: sol004.Manifest,
        metadata: set[str],
    ) -> tuple[bytes, ...]:
        """SOL 004 §5.1: the signer's certificate in exactly one place."""
        entry = meta.entry_certificate if meta is not None else None
        roots = [m for m in self.members if "/" not in m and m.endswith(".cert")]
        in_cms = False
        if manifest.cms is not None:
            try:
                in_cms = bool(embedded_certificates(manifest.cms, file=manifest_name))
            except InvalidInputError as e:
                self.fail(manifest_name, f"malformed CMS: {e}")
        places = [
            *(["the CMS"] if in_cms else []),
            *([f"ETSI-Entry-Certificate {entry}"] if entry is not None else []),
            *(f"root certificate {r}" for r in roots if r != entry),
        ]
        if manifest.cms is not None and len(places) > 1:
            self.fail(
                manifest_name,
                "the signer's certificate must be in exactly one place (SOL 004 "
                f"§5.1): found in {', '.join(places)}",
            )
        chosen = entry if entry is not None else (roots[0] if len(roots) == 1 else None)
        out: list[bytes] = []
        for name in {n for n in (entry, *roots) if n is not None}:
            metadata.add(name)
            if name not in self.inputs:
                self.fail(name, "the certificate file is not in the package")
            elif name == chosen:
                out.append(self.inputs[name])
        return tuple(out)

    def _artefact_signatures(
        self,
        manifest: sol004.Manifest,
        meta: sol004.ToscaMeta | None,
        metadata: set[str],
    ) -> list[DetachedSignature]:
        """Per-artefact ``Signature``/``Certificate`` (SOL 004 §5.2)."""
        out: list[DetachedSignature] = []
        for e in manifest.entries:
            if e.signature is None:
                continue
            metadata.add(e.signature)
            cert_name = e.certificate or (
                meta.entry_certificate if meta is not None else None
            )
            if e.certificate is not None:
                metadata.add(e.certificate)
            data = self.inputs.get(e.signature)
            if data is None:
                self.fail(e.signature, f"signature of {e.source} is not in the package")
                continue
            certs: tuple[bytes, ...] = ()
            if cert_name is not None:
                if cert_name not in self.inputs:
                    self.fail(
                        cert_name, f"certificate of {e.source} is not in the package"
                    )
                    continue
                certs = (self.inputs[cert_name],)
            out.append(
                DetachedSignature(
                    kind="cms",
                    file=e.signature,
                    target=e.source,
                    data=data,
                    certificates=certs,
                )
            )
        return out

    def _beside(
        self, metadata: set[str], declared: set[str]
    ) -> list[DetachedSignature]:
        """``<file>.cms`` / ``<file>.p7s`` beside a member (``detachedSignatures``)."""
        members = set(self.members)
        out: list[DetachedSignature] = []
        for name in sorted(self.inputs):
            target = name[: -len(".cms")]
            if (
                not name.lower().endswith((".cms", ".p7s"))
                or name in declared
                or target not in members
            ):
                continue
            metadata.add(name)
            out.append(
                DetachedSignature(
                    kind="cms", file=name, target=target, data=self.inputs[name]
                )
            )
        return out

    def _neutral(
        self, manifest_name: str, manifest: sol004.Manifest, metadata: set[str]
    ) -> ComponentManifest | None:
        """The manifest in the neutral model (None, recorded, when it cannot be)."""
        when = manifest.release_date_time
        try:
            released = datetime.fromisoformat(when)
        except ValueError:
            self.fail(
                manifest_name,
                f"malformed: metadata release date time {when[:40]!r} is not ISO 8601",
            )
            return None
        if released.tzinfo is None:
            self.fail(
                manifest_name,
                f"malformed: metadata release date time {when[:40]!r} has no offset",
            )
            return None
        components: list[Component] = []
        for e in manifest.entries:
            if e.uri:
                self.findings.append(
                    _finding(
                        e.source,
                        Outcome.WARN,
                        "external artefact (URI): listed but not delivered, not "
                        "verified",
                    )
                )
                continue
            if e.algorithm is None or e.digest is None:
                if e.source not in metadata:
                    self.fail(
                        e.source,
                        "listed without Algorithm and Hash: its integrity cannot be "
                        "checked (SOL 004 §4.3.3)",
                    )
                continue
            components.append(
                Component(
                    path=e.source,
                    kind=ComponentKind.OTHER,
                    size=None,
                    digests={e.algorithm: e.digest},
                )
            )
        return ComponentManifest(
            vendor=Party(name=manifest.provider, id=manifest.provider),
            product=manifest.product,
            version=manifest.version,
            security_version=None,
            network_function=None,
            domain=None,
            release_date=released,
            components=tuple(components),
        )


def _metadata_names(archive: SafeZip) -> list[str]:
    """The members ``load`` reads: TOSCA.meta, manifests, certificates, signatures."""
    out = []
    for m in archive.members:
        name = m.name
        lower = name.lower()
        if name == sol004.TOSCA_META or lower.endswith(
            (".mf", ".cms", ".p7s", ".cert")
        ):
            out.append(name)
    return out


def _zip_hasher(path: Path) -> Hasher:
    def hasher(
        paths: Sequence[str], algorithms: Sequence[str]
    ) -> list[ComponentDigest]:
        with SafeZip(path, file=path.name) as z:
            results = z.hash_members(list(paths), algorithms)
        return [ComponentDigest(size=r.size, digests=dict(r.digests)) for r in results]

    return hasher


class CsarFormat:
    """ETSI GS NFV-SOL 004 packages (security option 1)."""

    name = NAME
    signature_files = False

    def detect(self, path: Path) -> bool:
        """A regular ``.csar``/``.zip`` file that starts like a ZIP archive."""
        if not path.name.lower().endswith(_SUFFIXES):
            return False
        try:
            with path.open("rb") as f:
                return f.read(4) in _ZIP_MAGIC
        except OSError:
            return False

    def load(
        self,
        path: Path,
        *,
        limits: Limits = DEFAULT_LIMITS,
        signatures: Sequence[SignatureFile] = (),
    ) -> Delivery:
        """Read the CSAR's metadata members and listing (artefacts stay unread).

        Raises:
            InvalidInputError: not a readable ZIP, or an unsafe archive (names,
                links, encryption, bombs: ``formats/ziparchive.py``), or signature
                files given (a CSAR's signatures are inside it).
        """
        refuse_signature_files(self, signatures)
        with SafeZip(path, file=path.name) as z:
            if len(z.members) > limits.max_files:
                raise InvalidInputError(
                    f"more than {limits.max_files} entries", file=str(path)
                )
            members = [m.name for m in z.members]
            inputs: dict[str, bytes] = {}
            findings: list[CheckResult] = []
            for name in _metadata_names(z):
                try:
                    inputs[name] = z.read(name)
                except InvalidInputError as e:
                    findings.append(_finding(name, Outcome.FAIL, f"unreadable: {e}"))
        package = _Package(inputs, members, path.name)
        package.findings.extend(findings)
        return package.delivery(path)

    def measure(self, path: Path, progress: ProgressFactory | None = None) -> Hasher:
        """Digest members streaming from the archive (``SafeZip.hash_members``)."""
        del progress  # members are hashed in one pass; no per-chunk progress yet
        return _zip_hasher(path)

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
        """The delivery from its stored inputs and the recorded member listing."""
        del workdir, cache, limits
        members = sorted({*summary.listing.payload, *inputs})
        root = images if images is not None else Path(summary.root)
        return _Package(inputs, members, Path(summary.root).name).delivery(root)

    def salvage(self, path: Path, *, limits: Limits = DEFAULT_LIMITS) -> Salvage:
        """The metadata members and the listing, if the archive can be opened."""
        del limits
        try:
            with SafeZip(path, file=path.name) as z:
                members = [m.name for m in z.members]
                inputs = {}
                for name in _metadata_names(z):
                    try:
                        inputs[name] = z.read(name)
                    except InvalidInputError:
                        continue
        except InvalidInputError as e:
            return Salvage(
                errors=(
                    CheckResult.of(
                        Check.ERROR, path.name, Outcome.ERROR, " ".join(str(e).split())
                    ),
                )
            )
        payload = tuple(sorted(m for m in members if m not in inputs))
        return Salvage(inputs=inputs, listing=Listing(payload=payload))
