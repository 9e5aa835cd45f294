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
  beside a listed file, become detached signatures over their component, checked
  from the measured digests (the vendor's ``detachedSignatures`` rule names files
  that need one);
* findings (``attestations`` check): where the signer's certificate is (SOL 004 §5.1:
  in the CMS, at ``ETSI-Entry-Certificate`` or as the root ``.cert``, exactly one),
  listed files without a digest (``TOSCA.meta`` so listed: a warning that nothing
  protects it), external (URI) artefacts, a malformed manifest or TOSCA.meta, an
  entry TOSCA.meta names that is not in the archive, without TOSCA.meta not exactly
  one root manifest and service template (§4.1.2, §4.1.3: ``sol004``'s rules), a
  metadata member over its bound or unreadable;
* inputs (stored as evidence): the members the structure names (``TOSCA.meta``, the
  manifest, certificates and signature files), each and all together bounded
  (:class:`_Reader`); never the artefacts, whose measurements are in the record;
* payload: every other member, ``TOSCA.meta`` included (the manifest must list it:
  ``unlisted-files``); the manifest, signature and certificate files are exempt.

Security option 2 (SOL 004 §5.1, §5.3: a ZIP holding the CSAR, a ``.cms`` over the
whole CSAR and the signer's ``.cert``): the inner CSAR is read as above, streaming
from the outer archive (never extracted), with its members under their own names;
the outer ZIP's files are named ``2:<name>`` (:data:`OPTION2`: no archive member can
have that name, ``ziparchive`` refuses a second character ``:``). The ``.cms`` becomes
the package manifest's ``package_signature`` over ``2:<csar>``, measured streaming
with the digest algorithm it declares and verified by the ``cms`` verifier like any
signer (``verify/delivery/package.py``); the ``.cert`` is an untrusted chain
candidate. Failed findings: several ``.csar``/``.cms``/``.cert`` or members below
the root, no ``.cms``, no certificate at all (neither a ``.cert`` nor one in the
CMS), an inner CSAR that is not a readable ZIP (also an irregular entry, so replay
finds it again), an unreadable outer member. Other outer files are payload no
manifest lists (``unlisted-files``).

Replay (``reload``) rebuilds the same delivery from the stored inputs and the recorded
member listing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Final

from vendorproof._internal.hashing import FileDigests
from vendorproof.errors import AlgorithmError, InvalidInputError
from vendorproof.formats import sol004
from vendorproof.formats.base import (
    DocumentCache,
    ProgressFactory,
    Salvage,
    SignatureFile,
    check_unchanged,
    refuse_signature_files,
)
from vendorproof.formats.ziparchive import SafeZip
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models.checks import Check, CheckResult, Outcome
from vendorproof.models.delivery import (
    Delivery,
    DetachedSignature,
    FileState,
    PackageManifest,
)
from vendorproof.models.manifest import (
    Component,
    ComponentKind,
    ComponentManifest,
    Party,
)
from vendorproof.models.summary import DeliverySummary, Listing
from vendorproof.verify.cms import (
    MAX_CMS_BYTES,
    declared_digest_algorithm,
    embedded_certificates,
    measurement_algorithms,
)
from vendorproof.verify.delivery import ComponentDigest, Hasher

__all__ = ["OPTION2", "CsarFormat"]

NAME = "sol004"
#: Prefix of the security option 2 ZIP's own files (the CSAR, its ``.cms`` and
#: ``.cert``, anything else) in the listing, the inputs and the checks. No archive
#: member can start with it (``ziparchive.check_member_name`` refuses a name whose
#: second character is ``:``), so it never collides with a member of the CSAR.
OPTION2: Final = "2:"
_SUFFIXES = (".csar", ".zip")
#: A detached signature beside a listed file (vendors' practice, not SOL 004).
_BESIDE: Final = (".cms", ".p7s")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def _finding(subject: str, outcome: Outcome, reason: str) -> CheckResult:
    return CheckResult.of(Check.ATTESTATIONS, subject, outcome, reason)


class _Stored:
    """The metadata members of a CSAR already read (``reload``: the stored inputs).

    ``broken``: metadata members that could not be read, with the reason. They are
    recorded as irregular entries of the listing, so that ``reload`` (replay) finds
    them again and reports the same findings.
    """

    def __init__(
        self,
        inputs: Mapping[str, bytes] | None = None,
        broken: Mapping[str, str] | None = None,
        parsed: dict[tuple[str, bytes], sol004.Manifest] | None = None,
    ) -> None:
        self.inputs = dict(inputs or {})
        self.broken = dict(broken or {})
        #: Manifests already parsed from these bytes (``load`` walks the package
        #: twice: over the archive, then over what it read, as ``reload`` does).
        self.parsed = {} if parsed is None else parsed

    def fetch(self, names: Iterable[str], *, limit: int | None) -> None:
        """Nothing to read: the stored inputs are what ``load`` read."""
        del names, limit

    def manifest(self, data: bytes, *, file: str) -> sol004.Manifest:
        """``sol004.parse_manifest(data)``, once per name and bytes.

        Raises:
            InvalidInputError: as ``sol004.parse_manifest``.
        """
        key = (file, data)
        found = self.parsed.get(key)
        if found is None:
            found = self.parsed[key] = sol004.parse_manifest(data, file=file)
        return found


class _Reader(_Stored):
    """Reads the metadata members the package's structure names, from the archive.

    Only members named by the structure are read (``TOSCA.meta``, the manifest,
    certificates, signature files), each at most ``limit`` bytes and all together at
    most ``Limits.max_input_bytes``; in archive order (by local header offset), so
    that a CSAR streamed from an option 2 ZIP is inflated once per batch, not once
    per member. A member over a bound is not read: it is a broken member, a failed
    finding.
    """

    def __init__(self, archive: SafeZip, limits: Limits) -> None:
        super().__init__()
        self.archive = archive
        self.total = limits.max_input_bytes
        self.budget = self.total

    def fetch(self, names: Iterable[str], *, limit: int | None) -> None:
        """Read ``names`` that are members and not read yet (bounded).

        ``limit``: the most bytes of one member; None: ``ArchiveLimits.max_text_bytes``
        (``SafeZip.read``'s own bound, for ``TOSCA.meta`` and the manifest).
        """
        z = self.archive
        done = self.inputs.keys() | self.broken.keys()
        todo = {n for n in names if z.has(n) and n not in done}
        for name in _in_archive_order(z, todo):
            size = z.member(name).size
            if limit is not None and size > limit:
                self.broken[name] = f"unread: larger than {limit} bytes"
            elif size > self.budget:
                self.broken[name] = (
                    "unread: the package's metadata members (TOSCA.meta, manifest, "
                    f"signatures, certificates) exceed {self.total} bytes in total "
                    "(Limits.max_input_bytes)"
                )
            else:
                try:
                    data = z.read(name)
                except InvalidInputError as e:
                    self.broken[name] = f"unreadable: {e}"
                    continue
                self.inputs[name] = data
                self.budget -= len(data)


def _in_archive_order(archive: SafeZip, names: Iterable[str]) -> list[str]:
    """``names`` sorted by local header offset (the order of the bytes in the file).

    Reading a nested CSAR in central directory order would seek backwards, and each
    backward seek inflates the outer member again from its start.
    """
    infos = archive._index.infos  # noqa: SLF001 - ArchiveMember carries no offset
    return sorted(names, key=lambda n: infos[n].header_offset if n in infos else -1)


class _Package:
    """The inputs of one CSAR and what they say (shared by ``load`` and ``reload``)."""

    def __init__(self, source: _Stored, members: Sequence[str], name: str) -> None:
        """``source``: the metadata members read (its ``broken``: unreadable ones)."""
        self.source = source
        self.inputs = source.inputs
        self.members = tuple(members)
        self.member_set = frozenset(self.members)
        self.name = name
        self.broken = source.broken
        self.findings: list[CheckResult] = []
        for member, why in sorted(self.broken.items()):
            self.fail(member, why)

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
            irregular=self.broken,
        )

    def _read(
        self,
    ) -> tuple[PackageManifest | None, list[DetachedSignature], set[str]]:
        """The package manifest, per-artefact signatures and the metadata members.

        Metadata members are the manifest, signature and certificate files: SOL 004
        lets the manifest list them without a digest. ``TOSCA.meta`` is not one of
        them: it is payload the manifest must list (and should hash).
        """
        metadata: set[str] = set()
        found = self._structure()
        if found is None:
            return None, [], metadata
        meta, manifest_name = found
        metadata.add(manifest_name)
        self.source.fetch([manifest_name], limit=None)
        data = self.inputs.get(manifest_name)
        if data is None:  # not in the archive, or unreadable: already a finding
            return None, [], metadata
        try:
            manifest = self.source.manifest(data, file=manifest_name)
        except InvalidInputError as e:
            self.fail(manifest_name, f"malformed: {e}")
            return None, [], metadata
        self.source.fetch(self._referenced(meta, manifest), limit=MAX_CMS_BYTES)
        certificate = self._certificate(meta, manifest_name, manifest, metadata)
        signatures = self._artefact_signatures(manifest, meta, metadata)
        signatures += self._beside(manifest, metadata, {s.file for s in signatures})
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

    def _structure(self) -> tuple[sol004.ToscaMeta | None, str] | None:
        """``TOSCA.meta`` and the manifest's name (None: a failed finding says why).

        SOL 004 §4.1.2: the entries ``TOSCA.meta`` names must be in the archive;
        §4.1.3: without it, exactly one manifest and one service template at the
        root (the rules of ``sol004.read_package``).
        """
        meta_name = sol004.TOSCA_META
        if meta_name not in self.member_set:
            try:
                manifest_name = sol004.root_file(
                    self.members, "manifest", file=self.name
                )
            except InvalidInputError as e:
                self.fail(NAME, e.message)
                return None
            try:
                sol004.root_file(self.members, "service template", file=self.name)
            except InvalidInputError as e:
                self.fail(NAME, e.message)
            return None, manifest_name
        self.source.fetch([meta_name], limit=None)
        data = self.inputs.get(meta_name)
        if data is None:  # unreadable: already a finding
            return None
        try:
            meta = sol004.parse_tosca_meta(data, file=meta_name)
        except InvalidInputError as e:
            self.fail(meta_name, f"malformed: {e}")
            return None
        for key, name in sol004.missing_entries(meta, self.member_set.__contains__):
            self.fail(
                meta_name,
                f"{key}: {name[:200]!r} is not in the package (SOL 004 §4.1.2)",
            )
        return meta, meta.entry_manifest

    def _referenced(
        self, meta: sol004.ToscaMeta | None, manifest: sol004.Manifest
    ) -> set[str]:
        """The certificate and signature members the structure names (to be read)."""
        names = {m for m in self.members if "/" not in m and m.endswith(".cert")}
        if meta is not None and meta.entry_certificate is not None:
            names.add(meta.entry_certificate)
        for e in manifest.entries:
            names.update(n for n in (e.signature, e.certificate) if n is not None)
            if not e.uri:
                names.update(e.source + suffix for suffix in _BESIDE)
        return names

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
            except (InvalidInputError, AlgorithmError) as e:
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
        metadata.update(n for n in (entry, *roots) if n is not None)
        # A missing ETSI-Entry-Certificate and an unreadable file are findings
        # already (``_structure``, the broken members).
        return (self.inputs[chosen],) if chosen in self.inputs else ()

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
                self._missing(e.signature, f"signature of {e.source}")
                continue
            certs: tuple[bytes, ...] = ()
            if cert_name is not None:
                if cert_name not in self.inputs:
                    self._missing(cert_name, f"certificate of {e.source}")
                    continue
                certs = (self.inputs[cert_name],)
            out.append(
                DetachedSignature(
                    kind="cms",
                    file=e.signature,
                    target=e.source,
                    data=data,
                    certificates=certs,
                    algorithms=measurement_algorithms(data, file=e.signature),
                )
            )
        return out

    def _without_digest(self, source: str, metadata: set[str]) -> None:
        """A file listed without ``Algorithm``/``Hash`` (SOL 004 §4.3.3).

        The manifest, signature and certificate files may be (they are metadata,
        not payload). ``TOSCA.meta`` listed so (ONAP's packages do) is a ``warn``:
        nothing binds its entries to the signature. Any other file fails.
        """
        if source in metadata:
            return
        if source == sol004.TOSCA_META and source in self.member_set:
            metadata.add(source)  # listed: not an unlisted file
            self.findings.append(
                _finding(
                    source,
                    Outcome.WARN,
                    "listed without Algorithm and Hash: no digest protects "
                    "TOSCA.meta, so its entries (Entry-Definitions, "
                    "ETSI-Entry-Manifest, ETSI-Entry-Certificate, ...) are not "
                    "covered by the manifest's signature (SOL 004 §4.3.3)",
                )
            )
            return
        self.fail(
            source,
            "listed without Algorithm and Hash: its integrity cannot be checked "
            "(SOL 004 §4.3.3)",
        )

    def _missing(self, name: str, what: str) -> None:
        """A named member that was not read: absent, or unreadable (a finding)."""
        if name not in self.broken:
            self.fail(name, f"{what} is not in the package")

    def _beside(
        self, manifest: sol004.Manifest, metadata: set[str], declared: set[str]
    ) -> list[DetachedSignature]:
        """``<file>.cms`` or ``<file>.p7s`` beside a listed file (a vendor's rule).

        Beside a file the manifest does not list, such a file is payload (and the
        unlisted-files rule applies to both).
        """
        out: list[DetachedSignature] = []
        for e in manifest.entries:
            for name in (e.source + suffix for suffix in _BESIDE):
                data = self.inputs.get(name)
                if e.uri or data is None or name in declared:
                    continue
                metadata.add(name)
                out.append(
                    DetachedSignature(
                        kind="cms",
                        file=name,
                        target=e.source,
                        data=data,
                        algorithms=measurement_algorithms(data, file=name),
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
                self._without_digest(e.source, metadata)
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


def _read_csar(
    archive: SafeZip, limits: Limits
) -> tuple[
    list[str],
    dict[str, bytes],
    dict[str, str],
    dict[tuple[str, bytes], sol004.Manifest],
]:
    """The members of a CSAR, its metadata bytes, what was unreadable, manifests.

    The manifests are those parsed on the way, for the second walk over what was
    read. The structure decides what is read (:class:`_Reader`): the package is walked
    once over the archive, and the delivery is then built from what was read,
    exactly as ``reload`` builds it from the stored inputs.

    Raises:
        InvalidInputError: more entries than ``limits.max_files``.
    """
    if len(archive.members) > limits.max_files:
        raise InvalidInputError(
            f"more than {limits.max_files} entries", file=archive.file
        )
    members = [m.name for m in archive.members]
    reader = _Reader(archive, limits)
    _Package(reader, members, archive.file).delivery(Path(archive.file))
    return members, reader.inputs, reader.broken, reader.parsed


def _is_option2(names: Sequence[str]) -> bool:
    """Whether a recorded listing is of an option 2 ZIP (it names ``2:`` files)."""
    return any(n.startswith(OPTION2) for n in names)


class _Option2:
    """A security option 2 ZIP (SOL 004 §5.1, §5.3) and the CSAR inside it.

    Shared by ``load`` and ``reload``. ``outer`` holds the outer files' names
    (without :data:`OPTION2`), ``read`` the bytes of its ``.cms`` and ``.cert``,
    ``broken`` the outer files that could not be read (the CSAR: not a readable
    ZIP) with why; ``inner`` the CSAR's own inputs, member names and unreadable
    metadata members.
    """

    def __init__(
        self,
        name: str,
        outer: Sequence[str],
        *,
        read: Mapping[str, bytes],
        broken: Mapping[str, str],
        inner_inputs: Mapping[str, bytes],
        inner_members: Sequence[str],
        inner_broken: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.outer = tuple(sorted(outer))
        self.read = dict(read)
        self.broken = dict(broken)
        self.inner_inputs = dict(inner_inputs)
        self.inner_members = tuple(inner_members)
        self.inner_broken = dict(inner_broken or {})

    def delivery(self, root: Path) -> Delivery:
        findings: list[CheckResult] = []
        try:
            layout = sol004.option2_layout(self.outer, file=self.name)
        except InvalidInputError as e:
            findings.append(
                _finding(self.name, Outcome.FAIL, f"security option 2: {e.message}")
            )
            return Delivery(
                format=NAME,
                root=root,
                payload=frozenset(OPTION2 + n for n in self.outer),
                findings=tuple(findings),
            )
        if layout is None:  # pragma: no cover - a listing with 2: names is option 2
            msg = "not a security option 2 layout"
            raise InvalidInputError(msg, file=self.name)
        irregular = {OPTION2 + n: why for n, why in sorted(self.broken.items())}
        findings += [
            _finding(OPTION2 + n, Outcome.FAIL, why)
            for n, why in sorted(self.broken.items())
        ]
        payload = {OPTION2 + n for n in layout.others}
        inputs = {OPTION2 + n: d for n, d in sorted(self.read.items())}
        signature = self._signature(layout, findings)
        if layout.csar in self.broken:
            return Delivery(
                format=NAME,
                root=root,
                payload=frozenset(payload),
                irregular=irregular,
                findings=tuple(findings),
                inputs=inputs,
            )
        payload.add(OPTION2 + layout.csar)
        # A manifest cannot name an outer file: Source names are checked like
        # member names, and ``2:`` is no member name.
        inner = _Package(
            _Stored(self.inner_inputs, self.inner_broken),
            self.inner_members,
            layout.csar,
        ).delivery(root)
        package = inner.package_manifest
        if package is not None:
            package = replace(package, package_signature=signature)
        return Delivery(
            format=NAME,
            root=root,
            payload=frozenset(payload | inner.payload),
            irregular={**irregular, **inner.irregular},
            package_manifest=package,
            signatures=inner.signatures,
            findings=(*findings, *inner.findings),
            inputs={**inputs, **inner.inputs},
        )

    def _signature(
        self, layout: sol004.Option2Layout, findings: list[CheckResult]
    ) -> DetachedSignature | None:
        """The ``.cms`` over the CSAR as the package signature (None: recorded)."""
        csar = OPTION2 + layout.csar
        if layout.signature is None:
            findings.append(
                _finding(
                    self.name,
                    Outcome.FAIL,
                    f"security option 2: no signature (.cms) over {csar} in the ZIP "
                    "(SOL 004 §5.1)",
                )
            )
            return None
        file = OPTION2 + layout.signature
        data = self.read.get(layout.signature)
        if data is None:  # unreadable: already a finding
            return None
        cert_name = layout.certificate
        cert = self.read.get(cert_name) if cert_name is not None else None
        try:
            algorithms: tuple[str, ...] = (declared_digest_algorithm(data, file=file),)
            in_cms = bool(embedded_certificates(data, file=file))
        except (InvalidInputError, AlgorithmError):
            # The verifier reports the malformed or refused CMS on the signature.
            algorithms, in_cms = (), True
        if cert_name is None and not in_cms:
            findings.append(
                _finding(
                    file,
                    Outcome.FAIL,
                    "no signer certificate: neither a .cert beside "
                    f"{layout.csar} nor a certificate in the CMS (SOL 004 §5.1, "
                    "security option 2)",
                )
            )
        where = f"{OPTION2}{cert_name}" if cert is not None else "the CMS"
        findings.append(
            _finding(
                self.name,
                Outcome.PASS,
                f"SOL 004 security option 2: {csar} with its signature {file} "
                f"(signer certificate from {where}); the CSAR is checked as a "
                "package of its own",
            )
        )
        return DetachedSignature(
            kind="cms",
            file=file,
            target=csar,
            data=data,
            certificates=(cert,) if cert is not None else (),
            algorithms=algorithms,
        )


@contextmanager
def _inner_csar(z: SafeZip, name: str) -> Iterator[SafeZip]:
    """The CSAR member ``name`` of an option 2 ZIP, opened as an archive itself.

    Its length is the member's declared size (measuring the stream would inflate
    the member once more).
    """
    with (
        z.open_seekable(name) as stream,
        SafeZip(stream, file=f"{z.file}: {name}", size=z.member(name).size) as inner,
    ):
        yield inner


def _load_option2(z: SafeZip, layout: sol004.Option2Layout, limits: Limits) -> _Option2:
    """Read the outer ``.cms``/``.cert`` and the inner CSAR's metadata, streaming."""
    read: dict[str, bytes] = {}
    broken: dict[str, str] = {}
    for name in (layout.signature, layout.certificate):
        if name is None:
            continue
        if z.member(name).size > MAX_CMS_BYTES:
            broken[name] = f"unread: larger than {MAX_CMS_BYTES} bytes"
            continue
        try:
            read[name] = z.read(name)
        except InvalidInputError as e:
            broken[name] = f"unreadable: {e}"
    members: list[str] = []
    inputs: dict[str, bytes] = {}
    inner_broken: dict[str, str] = {}
    try:
        with _inner_csar(z, layout.csar) as inner:
            members, inputs, inner_broken, _ = _read_csar(inner, limits)
    except InvalidInputError as e:
        broken[layout.csar] = f"not a readable CSAR (ZIP archive): {e}"
        members, inputs, inner_broken = [], {}, {}
    outer = [m.name for m in z.members]
    return _Option2(
        z.file,
        outer,
        read=read,
        broken=broken,
        inner_inputs=inputs,
        inner_members=members,
        inner_broken=inner_broken,
    )


def _zip_hasher(path: Path, expect: FileState | None) -> Hasher:
    def hasher(
        paths: Sequence[str], algorithms: Sequence[str]
    ) -> list[ComponentDigest]:
        with SafeZip(path, file=path.name) as z:
            check_unchanged(expect, z.state, file=path.name)
            names = [m.name for m in z.members]
            try:
                layout = sol004.option2_layout(names, file=z.file)
            except InvalidInputError:
                layout = None  # a broken option 2 ZIP has nothing to measure
            if layout is None:
                results = z.hash_members(list(paths), algorithms)
            else:
                results = _option2_digests(z, layout, paths, algorithms)
            # Written to while it was read (same file, other times or size).
            check_unchanged(expect, z.state_now(), file=path.name)
        return [ComponentDigest(size=r.size, digests=dict(r.digests)) for r in results]

    return hasher


def _option2_digests(
    z: SafeZip,
    layout: sol004.Option2Layout,
    paths: Sequence[str],
    algorithms: Sequence[str],
) -> list[FileDigests]:
    """Digests of outer files (``2:<name>``) and of members of the inner CSAR."""
    outer = [p for p in paths if p.startswith(OPTION2)]
    names = [p[len(OPTION2) :] for p in outer]
    found = dict(zip(outer, z.hash_members(names, algorithms), strict=True))
    inner = [p for p in paths if not p.startswith(OPTION2)]
    if inner:
        with _inner_csar(z, layout.csar) as csar:
            # In the order of the bytes: the CSAR is a stream inside the ZIP, where
            # seeking back means decompressing again from the start (a central
            # directory in another order would inflate it once per member).
            ordered = _in_archive_order(csar, inner)
            found.update(
                zip(ordered, csar.hash_members(ordered, algorithms), strict=True)
            )
    return [found[p] for p in paths]


class CsarFormat:
    """ETSI GS NFV-SOL 004 packages (security options 1 and 2)."""

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

        A security option 2 ZIP: its ``.cms`` and ``.cert``, and the inner CSAR's
        metadata streamed from the outer archive.

        Raises:
            InvalidInputError: not a readable ZIP, or an unsafe archive (names,
                links, encryption, bombs: ``formats/ziparchive.py``), more entries
                than ``limits.max_files``, or signature files given (a CSAR's
                signatures are inside it).
        """
        refuse_signature_files(self, signatures)
        with SafeZip(path, file=path.name) as z:
            delivery = self._load(z, path, limits)
            # The metadata read, and the listing, are of the file in this state.
            check_unchanged(z.state, z.state_now(), file=path.name)
        return replace(delivery, source_state=z.state)

    def _load(self, z: SafeZip, path: Path, limits: Limits) -> Delivery:
        if len(z.members) > limits.max_files:
            raise InvalidInputError(
                f"more than {limits.max_files} entries", file=str(path)
            )
        names = [m.name for m in z.members]
        try:
            layout = sol004.option2_layout(names, file=path.name)
        except InvalidInputError:
            refused = _Option2(
                path.name,
                names,
                read={},
                broken={},
                inner_inputs={},
                inner_members=(),
            )
            return refused.delivery(path)
        if layout is not None:
            return _load_option2(z, layout, limits).delivery(path)
        members, inputs, broken, parsed = _read_csar(z, limits)
        package = _Package(_Stored(inputs, broken, parsed), members, path.name)
        return package.delivery(path)

    def measure(
        self,
        path: Path,
        progress: ProgressFactory | None = None,
        *,
        expect: FileState | None = None,
    ) -> Hasher:
        """Digest members streaming from the archive (``SafeZip.hash_members``).

        Names starting with :data:`OPTION2` are files of an option 2 ZIP; other
        names of an option 2 package are members of the CSAR inside it. With
        ``expect`` (the state of the package when it was loaded), a package file in
        another state when it is opened or after it was read is refused.
        """
        del progress  # members are hashed in one pass; no per-chunk progress yet
        return _zip_hasher(path, expect)

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
        root = images if images is not None else Path(summary.root)
        name = Path(summary.root).name
        listing = summary.listing
        if _is_option2([*listing.payload, *inputs, *listing.irregular]):
            return self._reload_option2(inputs, summary, root, name)
        broken = dict(listing.irregular)
        members = sorted({*listing.payload, *inputs, *broken})
        return _Package(_Stored(inputs, broken), members, name).delivery(root)

    @staticmethod
    def _reload_option2(
        inputs: Mapping[str, bytes], summary: DeliverySummary, root: Path, name: str
    ) -> Delivery:
        listing = summary.listing
        cut = len(OPTION2)
        outer = {
            n[cut:]
            for n in (*listing.payload, *inputs, *listing.irregular)
            if n.startswith(OPTION2)
        }
        inner_inputs = {n: d for n, d in inputs.items() if not n.startswith(OPTION2)}
        inner_broken = {
            n: why for n, why in listing.irregular.items() if not n.startswith(OPTION2)
        }
        inner_members = sorted(
            {
                *(p for p in listing.payload if not p.startswith(OPTION2)),
                *inner_inputs,
                *inner_broken,
            }
        )
        return _Option2(
            name,
            sorted(outer),
            read={n[cut:]: d for n, d in inputs.items() if n.startswith(OPTION2)},
            broken={
                n[cut:]: why
                for n, why in listing.irregular.items()
                if n.startswith(OPTION2)
            },
            inner_inputs=inner_inputs,
            inner_members=inner_members,
            inner_broken=inner_broken,
        ).delivery(root)

    def salvage(self, path: Path, *, limits: Limits = DEFAULT_LIMITS) -> Salvage:
        """The metadata members and the listing, if the archive can be opened.

        Of a CSAR: the members its structure names, read as ``load`` reads them
        (bounded). Of an option 2 ZIP: its own ``.cms`` and ``.cert`` (named
        ``2:<name>``) and its listing; the inner CSAR is not opened.
        """
        try:
            with SafeZip(path, file=path.name) as z:
                members = [m.name for m in z.members]
                try:
                    option2 = sol004.option2_layout(members, file=path.name)
                except InvalidInputError:
                    option2 = None
                prefix = OPTION2 if option2 is not None else ""
                reader = _Reader(z, limits)
                if option2 is None:
                    _Package(reader, members, z.file).delivery(path)
                else:
                    names = (option2.signature, option2.certificate)
                    reader.fetch([n for n in names if n], limit=MAX_CMS_BYTES)
                inputs = {prefix + n: d for n, d in reader.inputs.items()}
        except InvalidInputError as e:
            return Salvage(
                errors=(
                    CheckResult.of(
                        Check.ERROR, path.name, Outcome.ERROR, " ".join(str(e).split())
                    ),
                )
            )
        payload = tuple(sorted(prefix + m for m in members if prefix + m not in inputs))
        return Salvage(inputs=inputs, listing=Listing(payload=payload))
