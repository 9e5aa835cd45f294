"""ETSI GS NFV-SOL 004 packages (CSAR): structure, ``TOSCA.meta`` and the manifest.

Clause numbers are those of GS NFV-SOL 004 V4.3.1 (the same text since V2.6.1 unless
noted). This module only *reads*: it parses the package into frozen data and computes
the digests the manifest lists; signatures are verified by ``verify/cms.py`` and the
trust decision is the caller's; ``formats/csar.py`` is the delivery-format adapter
built on it.

Supported:

- CSAR with a ``TOSCA-Metadata/TOSCA.meta`` file (§4.1.2; TOSCA Simple Profile YAML
  v1.3 §3.1): block 0 with ``TOSCA-Meta-File-Version``, ``CSAR-Version``,
  ``Created-By``, ``Entry-Definitions`` and the SOL 004 keys ``ETSI-Entry-Manifest``,
  ``ETSI-Entry-Change-Log`` (required) and ``ETSI-Entry-Certificate``,
  ``ETSI-Entry-Tests``, ``ETSI-Entry-Licenses`` (optional); other keys are kept.
- CSAR without ``TOSCA.meta`` (§4.1.3): exactly one ``.mf`` and one ``.yaml``/``.yml``
  service template at the root.
- The manifest (§4.3): the ``metadata`` block (§4.3.2, VNF or PNF keys), one block per
  file with ``Source``, ``Algorithm``, ``Hash`` and optional per-artefact
  ``Signature``/``Certificate`` (§4.3.3, §4.3.6, §5.2), ``non_mano_artifact_sets``
  (§4.3.7), and the CMS signature block ``-----BEGIN CMS-----`` at the end (§4.3.6,
  §5.1) whose signed content is the manifest bytes before that line. LF and CRLF.
- Security option 2 (§5.1, §5.3): a ZIP holding the CSAR, its ``.cms`` and ``.cert``.

Parsers are linear in their input, read at most ``ArchiveLimits.max_text_bytes``, and
raise one-line :class:`InvalidInputError` naming the member and the field or line.
Keys are matched case-insensitively (real packages write ``source:``).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from vendorproof.errors import InvalidInputError
from vendorproof.formats.ziparchive import (
    DEFAULT_ARCHIVE_LIMITS,
    ArchiveLimits,
    SafeZip,
    check_member_name,
    name_key,
)

__all__ = [
    "MANIFEST_ALGORITHMS",
    "TOSCA_META",
    "CsarPackage",
    "DigestResult",
    "Manifest",
    "ManifestEntry",
    "Option2Layout",
    "ToscaMeta",
    "check_digests",
    "missing_entries",
    "option2_layout",
    "parse_manifest",
    "parse_tosca_meta",
    "read_option2",
    "read_package",
    "root_file",
    "unlisted_members",
]

TOSCA_META: Final = "TOSCA-Metadata/TOSCA.meta"
#: Manifest ``Algorithm`` values accepted (§4.3.3 names SHA-256, SHA-384, SHA-512).
MANIFEST_ALGORITHMS: Final = {
    "sha-256": "sha256",
    "sha-384": "sha384",
    "sha-512": "sha512",
}
#: Most ``Source`` entries in one manifest.
MAX_MANIFEST_ENTRIES: Final = 100_000

_VNF_KEYS: Final = (
    "vnf_provider_id",
    "vnf_product_name",
    "vnf_release_date_time",
    "vnf_package_version",
)
_PNF_KEYS: Final = (
    "pnfd_provider",
    "pnfd_name",
    "pnfd_release_date_time",
    "pnfd_archive_version",
)
_CMS_BEGIN: Final = b"-----BEGIN CMS-----"
_CMS_END: Final = b"-----END CMS-----"
_KEY_VALUE: Final = re.compile(r"([A-Za-z0-9_.\-]+)[ \t]*:[ \t]*(.*)")
#: C0 (except TAB), DEL and C1 control characters: refused anywhere in a line. A lone
#: CR ends a line for other readers (Java's ``BufferedReader.readLine``, which ONAP's
#: manifest parser uses), who would see another key in the same signed bytes.
_CONTROL: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_HEX: Final = re.compile(r"[0-9a-fA-F]+")


# --- TOSCA.meta -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ToscaMeta:
    """The block 0 keys of ``TOSCA-Metadata/TOSCA.meta``."""

    meta_file_version: str
    csar_version: str
    created_by: str
    entry_definitions: str
    entry_manifest: str
    entry_change_log: str
    entry_certificate: str | None
    entry_tests: str | None
    entry_licenses: str | None
    other: tuple[tuple[str, str], ...]


_META_KEYS: Final = {
    "tosca-meta-file-version": "meta_file_version",
    "csar-version": "csar_version",
    "created-by": "created_by",
    "entry-definitions": "entry_definitions",
    "etsi-entry-manifest": "entry_manifest",
    "etsi-entry-change-log": "entry_change_log",
    "etsi-entry-certificate": "entry_certificate",
    "etsi-entry-tests": "entry_tests",
    "etsi-entry-licenses": "entry_licenses",
}
_META_REQUIRED: Final = (
    ("TOSCA-Meta-File-Version", "meta_file_version"),
    ("CSAR-Version", "csar_version"),
    ("Created-By", "created_by"),
    ("Entry-Definitions", "entry_definitions"),
    ("ETSI-Entry-Manifest", "entry_manifest"),
    ("ETSI-Entry-Change-Log", "entry_change_log"),
)
_META_PATHS: Final = (
    "entry_definitions",
    "entry_manifest",
    "entry_change_log",
    "entry_certificate",
    "entry_tests",
    "entry_licenses",
)


def _lines(data: bytes, *, file: str) -> list[str]:
    """Decode UTF-8 (BOM tolerated) and split on LF or CRLF.

    Raises:
        InvalidInputError: not UTF-8, or a control character other than TAB in a
            line (a lone CR, ESC, NUL, C1): the error names the line.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InvalidInputError(f"not UTF-8 text (byte {e.start})", file=file) from None
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    for number, line in enumerate(lines, start=1):
        if (bad := _CONTROL.search(line)) is not None:
            raise InvalidInputError(
                f"control character U+{ord(bad.group()):04X} in the line",
                file=file,
                path=f"line {number}",
            )
    return lines


def parse_tosca_meta(
    data: bytes,
    *,
    file: str = TOSCA_META,
    limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
) -> ToscaMeta:
    """Parse ``TOSCA.meta``: ``Name: value`` lines in blank-line separated blocks.

    Block 0 holds the keys above (TOSCA Simple Profile YAML v1.3 §3.1, SOL 004
    §4.1.2); later blocks (TOSCA 1.0 ``Name:``/``Content-Type:`` entries) are checked
    for syntax and ignored. Continuation lines are not supported (refused).

    Raises:
        InvalidInputError: bad syntax, duplicate or missing key, unsafe path.
    """
    values: dict[str, str] = {}
    other: list[tuple[str, str]] = []
    seen: set[str] = set()
    block = 0
    for number, line in enumerate(_lines(data, file=file), start=1):
        where = f"line {number}"
        if not line.strip():
            if seen:
                block += 1
                seen = set()
            continue
        if line[0] in " \t":
            raise InvalidInputError(
                "indented or continuation line", file=file, path=where
            )
        match = _KEY_VALUE.fullmatch(line.rstrip())
        if match is None:
            raise InvalidInputError("not a 'Name: value' line", file=file, path=where)
        key, value = match.group(1), match.group(2).strip()
        folded = key.casefold()
        if folded in seen:
            raise InvalidInputError(f"duplicate key {key}", file=file, path=where)
        seen.add(folded)
        if block != 0:
            continue
        if not value:
            raise InvalidInputError(f"empty value for {key}", file=file, path=key)
        if folded in _META_KEYS:
            values[_META_KEYS[folded]] = value
        else:
            other.append((key, value))
    for key, attr in _META_REQUIRED:
        if attr not in values:
            raise InvalidInputError(f"{key} is missing", file=file, path=key)
    for attr in _META_PATHS:
        if attr in values:
            check_member_name(values[attr], file=file, limits=limits)
    return ToscaMeta(
        meta_file_version=values["meta_file_version"],
        csar_version=values["csar_version"],
        created_by=values["created_by"],
        entry_definitions=values["entry_definitions"],
        entry_manifest=values["entry_manifest"],
        entry_change_log=values["entry_change_log"],
        entry_certificate=values.get("entry_certificate"),
        entry_tests=values.get("entry_tests"),
        entry_licenses=values.get("entry_licenses"),
        other=tuple(other),
    )


# --- manifest ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One ``Source`` block of the manifest (§4.3.3).

    ``algorithm`` is ``sha256``/``sha384``/``sha512`` and ``digest`` lowercase hex
    (a digest of the wrong length is kept: it is a mismatch, reported by
    :func:`check_digests`, as ONAP's validator reports it);
    both are ``None`` for an entry listed without a digest (real packages list the
    manifest and signature files so). ``uri`` is true for an external artefact
    (``Source`` is a URI, §4.3.3).
    """

    source: str
    algorithm: str | None
    digest: str | None
    signature: str | None
    certificate: str | None
    line: int
    uri: bool


@dataclass(frozen=True, slots=True)
class Manifest:
    """A parsed SOL 004 manifest.

    Attributes:
        kind: ``vnf`` or ``pnf`` by the metadata keys (§4.3.2).
        metadata: every ``metadata`` key and value, in order.
        entries: the ``Source`` blocks, in order.
        non_mano_artifact_sets: set name -> sources (§4.3.7).
        signed_content: the bytes the manifest CMS signature covers (everything
            before the ``-----BEGIN CMS-----`` line), or ``None`` when unsigned.
        cms: the PEM CMS block (``-----BEGIN CMS-----`` .. ``-----END CMS-----``).
    """

    kind: Literal["vnf", "pnf"]
    metadata: tuple[tuple[str, str], ...]
    entries: tuple[ManifestEntry, ...]
    non_mano_artifact_sets: tuple[tuple[str, tuple[str, ...]], ...]
    signed_content: bytes | None
    cms: bytes | None

    def meta(self, key: str) -> str | None:
        """The metadata value of ``key`` (case-insensitive), if present."""
        folded = key.casefold()
        return next((v for k, v in self.metadata if k.casefold() == folded), None)

    @property
    def provider(self) -> str:
        """``vnf_provider_id`` or ``pnfd_provider``: a claim until verified."""
        return (
            self.meta("vnf_provider_id" if self.kind == "vnf" else "pnfd_provider")
            or ""
        )

    @property
    def product(self) -> str:
        """``vnf_product_name`` or ``pnfd_name``."""
        return (
            self.meta("vnf_product_name" if self.kind == "vnf" else "pnfd_name") or ""
        )

    @property
    def version(self) -> str:
        """``vnf_package_version`` or ``pnfd_archive_version``."""
        key = "vnf_package_version" if self.kind == "vnf" else "pnfd_archive_version"
        return self.meta(key) or ""

    @property
    def release_date_time(self) -> str:
        """``vnf_release_date_time`` or ``pnfd_release_date_time`` (a claim)."""
        key = (
            "vnf_release_date_time" if self.kind == "vnf" else "pnfd_release_date_time"
        )
        return self.meta(key) or ""


def _split_cms(data: bytes, *, file: str) -> tuple[bytes, bytes | None, bytes | None]:
    """Split the manifest into (text, signed content, CMS block) (§4.3.6)."""
    start = data.find(_CMS_BEGIN)
    if start < 0:
        return data, None, None
    if start > 0 and data[start - 1 : start] != b"\n":
        raise InvalidInputError(
            "-----BEGIN CMS----- must start a line", file=file, path="CMS"
        )
    if data.find(_CMS_BEGIN, start + 1) >= 0:
        raise InvalidInputError("more than one CMS block", file=file, path="CMS")
    end = data.find(_CMS_END, start)
    if end < 0 or data[end + len(_CMS_END) :].strip():
        raise InvalidInputError(
            "the CMS block must end the manifest with -----END CMS-----",
            file=file,
            path="CMS",
        )
    return data[:start], data[:start], data[start : end + len(_CMS_END)] + b"\n"


_ENTRY_KEYS: Final = ("algorithm", "hash", "signature", "certificate")


def parse_manifest(
    data: bytes, *, file: str, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS
) -> Manifest:
    """Parse a SOL 004 manifest (``.mf``), LF or CRLF.

    Raises:
        InvalidInputError: bad syntax, missing or mixed metadata, duplicate
            ``Source``, unknown ``Algorithm``, malformed ``Hash``, unsafe path, a
            key outside its block, or a malformed CMS block; the message names the
            line and the field.
    """
    if len(data) > limits.max_text_bytes:
        raise InvalidInputError(
            f"manifest larger than {limits.max_text_bytes} bytes", file=file
        )
    text, signed, cms = _split_cms(data, file=file)
    metadata: list[tuple[str, str]] = []
    entries: list[dict[str, object]] = []
    sets: list[tuple[str, list[str]]] = []
    # Folded names seen, so that each duplicate check is one set lookup.
    sources: set[str] = set()
    metadata_keys: set[str] = set()
    set_names: set[str] = set()
    section = "top"
    for number, raw in enumerate(_lines(text, file=file), start=1):
        line = raw.rstrip()
        where = f"line {number}"
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indented = line[0] in " \t"
        match = _KEY_VALUE.fullmatch(line.strip())
        if match is None:
            raise InvalidInputError("not a 'key: value' line", file=file, path=where)
        key, value = match.group(1), match.group(2).strip()
        folded = key.casefold()
        if not indented:
            section = _top_level(
                key, value, entries, sources, number=number, file=file, limits=limits
            )
            if section == "metadata" and metadata:
                raise InvalidInputError("second metadata block", file=file, path=where)
            if section == "non_mano" and sets:
                raise InvalidInputError(
                    "second non_mano_artifact_sets block", file=file, path=where
                )
            continue
        if section == "metadata":
            if not value or folded in metadata_keys:
                raise InvalidInputError(
                    f"empty or duplicate metadata key {key}", file=file, path=where
                )
            metadata_keys.add(folded)
            metadata.append((key, value))
        elif section == "non_mano":
            _non_mano_line(
                folded,
                key,
                value,
                (sets, set_names),
                where=where,
                file=file,
                limits=limits,
            )
        elif section == "entry" and folded in _ENTRY_KEYS:
            _entry_attribute(
                entries[-1], folded, key, value, where=where, file=file, limits=limits
            )
        else:
            raise InvalidInputError(
                f"unexpected indented key {key}", file=file, path=where
            )
    return Manifest(
        kind=_kind(metadata, file=file),
        metadata=tuple(metadata),
        entries=tuple(_entry(e, file=file) for e in entries),
        non_mano_artifact_sets=tuple((n, tuple(s)) for n, s in sets),
        signed_content=signed,
        cms=cms,
    )


def _top_level(
    key: str,
    value: str,
    entries: list[dict[str, object]],
    sources: set[str],
    *,
    number: int,
    file: str,
    limits: ArchiveLimits,
) -> str:
    """Handle an unindented line; return the section it opens."""
    where = f"line {number}"
    folded = key.casefold()
    if folded == "metadata" and not value:
        return "metadata"
    if folded == "non_mano_artifact_sets" and not value:
        return "non_mano"
    if folded == "source":
        if len(entries) >= MAX_MANIFEST_ENTRIES:
            raise InvalidInputError(
                f"more than {MAX_MANIFEST_ENTRIES} Source entries",
                file=file,
                path=where,
            )
        uri = "://" in value
        if not uri:
            check_member_name(value, file=file, limits=limits)
        key = value if uri else name_key(value)
        if key in sources:
            raise InvalidInputError(
                f"duplicate Source {value[:200]!r}", file=file, path=f"{where}: Source"
            )
        sources.add(key)
        entries.append({"source": value, "line": number, "uri": uri})
        return "entry"
    if folded in _ENTRY_KEYS and entries:
        # Real packages write the attributes of a Source unindented.
        _entry_attribute(
            entries[-1], folded, key, value, where=where, file=file, limits=limits
        )
        return "entry"
    raise InvalidInputError(f"unexpected key {key[:40]!r}", file=file, path=where)


def _entry_attribute(
    entry: dict[str, object],
    folded: str,
    key: str,
    value: str,
    *,
    where: str,
    file: str,
    limits: ArchiveLimits,
) -> None:
    if folded in entry:
        raise InvalidInputError(
            f"{key} given twice for Source {entry['source']!s:.200}",
            file=file,
            path=f"{where}: {key}",
        )
    if not value:
        raise InvalidInputError(f"empty {key}", file=file, path=f"{where}: {key}")
    if folded == "algorithm":
        algorithm = MANIFEST_ALGORITHMS.get(value.casefold())
        if algorithm is None:
            raise InvalidInputError(
                f"unknown Algorithm {value[:40]!r} (SHA-256, SHA-384 or SHA-512)",
                file=file,
                path=f"{where}: {key}",
            )
        value = algorithm
    elif folded == "hash":
        if not _HEX.fullmatch(value):
            raise InvalidInputError(
                "Hash is not hexadecimal", file=file, path=f"{where}: {key}"
            )
        value = value.lower()
    else:
        check_member_name(value, file=file, limits=limits)
    entry[folded] = value


def _entry(entry: dict[str, object], *, file: str) -> ManifestEntry:
    algorithm = entry.get("algorithm")
    digest = entry.get("hash")
    where = f"line {entry['line']}"
    if (algorithm is None) != (digest is None):
        raise InvalidInputError(
            "Algorithm and Hash must be given together",
            file=file,
            path=f"{where}: Source",
        )
    return ManifestEntry(
        source=str(entry["source"]),
        algorithm=algorithm if isinstance(algorithm, str) else None,
        digest=digest if isinstance(digest, str) else None,
        signature=_opt(entry.get("signature")),
        certificate=_opt(entry.get("certificate")),
        line=int(str(entry["line"])),
        uri=bool(entry["uri"]),
    )


def _opt(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _non_mano_line(
    folded: str,
    key: str,
    value: str,
    found: tuple[list[tuple[str, list[str]]], set[str]],
    *,
    where: str,
    file: str,
    limits: ArchiveLimits,
) -> None:
    """One line of ``non_mano_artifact_sets``: a set name or a ``Source`` of it.

    ``found`` is the sets so far and their folded names.
    """
    sets, names = found
    if not value:
        if folded in names:
            raise InvalidInputError(
                f"duplicate non-MANO artifact set {key}", file=file, path=where
            )
        names.add(folded)
        sets.append((key, []))
        return
    if folded != "source" or not sets:
        raise InvalidInputError(
            f"unexpected key {key} in non_mano_artifact_sets", file=file, path=where
        )
    check_member_name(value, file=file, limits=limits)
    sets[-1][1].append(value)


def _kind(metadata: list[tuple[str, str]], *, file: str) -> Literal["vnf", "pnf"]:
    keys = {k.casefold() for k, _ in metadata}
    vnf = [k for k in _VNF_KEYS if k in keys]
    pnf = [k for k in _PNF_KEYS if k in keys]
    if vnf and pnf:
        raise InvalidInputError(
            "metadata mixes VNF and PNF keys", file=file, path="metadata"
        )
    if pnf:
        missing = [k for k in _PNF_KEYS if k not in keys]
        kind: Literal["vnf", "pnf"] = "pnf"
    else:
        missing = [k for k in _VNF_KEYS if k not in keys]
        kind = "vnf"
    if missing:
        raise InvalidInputError(
            f"metadata lacks {', '.join(missing)}", file=file, path="metadata"
        )
    return kind


# --- the package ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CsarPackage:
    """The structure of one CSAR.

    Attributes:
        tosca_meta: ``None`` for a CSAR without ``TOSCA.meta`` (§4.1.3).
        entry_definitions: the main service template.
        manifest_name: the manifest member.
        manifest: the parsed manifest.
        root_certificates: ``.cert`` members at the archive root (§5.1: the signing
            certificate may be there when neither in the CMS nor named in
            ``TOSCA.meta``).
        members: every regular file, in archive order.
    """

    tosca_meta: ToscaMeta | None
    entry_definitions: str
    manifest_name: str
    manifest: Manifest
    root_certificates: tuple[str, ...]
    members: tuple[str, ...]


def read_package(archive: SafeZip) -> CsarPackage:
    """Read the structure of a CSAR opened with :class:`SafeZip`.

    Raises:
        InvalidInputError: missing or malformed ``TOSCA.meta`` or manifest, an entry
            named there that is not in the archive, or (without ``TOSCA.meta``) not
            exactly one manifest and one service template at the root.
    """
    names = tuple(m.name for m in archive.members)
    root = [n for n in names if "/" not in n]
    meta: ToscaMeta | None = None
    if archive.has(TOSCA_META):
        where = f"{archive.file}: {TOSCA_META}"
        meta = parse_tosca_meta(
            archive.read(TOSCA_META), file=where, limits=archive.limits
        )
        for key, name in missing_entries(meta, archive.has):
            raise InvalidInputError(
                f"{name[:200]!r} is not in the archive", file=where, path=key
            )
        definitions, manifest_name = meta.entry_definitions, meta.entry_manifest
    else:
        definitions = root_file(root, "service template", file=archive.file)
        manifest_name = root_file(root, "manifest", file=archive.file)
    manifest = parse_manifest(
        archive.read(manifest_name),
        file=f"{archive.file}: {manifest_name}",
        limits=archive.limits,
    )
    return CsarPackage(
        tosca_meta=meta,
        entry_definitions=definitions,
        manifest_name=manifest_name,
        manifest=manifest,
        root_certificates=tuple(n for n in root if n.lower().endswith(".cert")),
        members=names,
    )


def missing_entries(
    meta: ToscaMeta, has: Callable[[str], bool]
) -> tuple[tuple[str, str], ...]:
    """The ``TOSCA.meta`` entries naming no file of the archive: (key, name) pairs.

    SOL 004 §4.1.2: ``Entry-Definitions``, ``ETSI-Entry-Manifest``,
    ``ETSI-Entry-Change-Log`` and, when given, ``ETSI-Entry-Certificate`` name files
    of the package. ``has`` says whether a regular file is in the archive.
    """
    named = (
        ("Entry-Definitions", meta.entry_definitions),
        ("ETSI-Entry-Manifest", meta.entry_manifest),
        ("ETSI-Entry-Change-Log", meta.entry_change_log),
        ("ETSI-Entry-Certificate", meta.entry_certificate),
    )
    return tuple((k, n) for k, n in named if n is not None and not has(n))


_ROOT_SUFFIXES: Final = {
    "manifest": (".mf",),
    "service template": (".yaml", ".yml"),
}


def root_file(
    names: Sequence[str], what: Literal["manifest", "service template"], *, file: str
) -> str:
    """The one manifest or service template at the root of a CSAR without TOSCA.meta.

    SOL 004 §4.1.3: such a CSAR holds exactly one ``.mf`` and one ``.yaml``/``.yml``
    at its root.

    Raises:
        InvalidInputError: none or several (the message says how many).
    """
    suffixes = _ROOT_SUFFIXES[what]
    found = [n for n in names if "/" not in n and n.lower().endswith(suffixes)]
    if len(found) != 1:
        raise InvalidInputError(
            f"without {TOSCA_META} the root must hold exactly one {what} "
            f"({'/'.join(suffixes)}), found {len(found)}",
            file=file,
        )
    return found[0]


@dataclass(frozen=True, slots=True)
class DigestResult:
    """The outcome of one manifest digest (§4.3.3, security option 1)."""

    source: str
    algorithm: str | None
    expected: str | None
    actual: str | None
    status: Literal["match", "mismatch", "missing", "no-digest", "external"]


def check_digests(archive: SafeZip, manifest: Manifest) -> tuple[DigestResult, ...]:
    """Digest every listed member (streaming from the archive) against the manifest.

    A listed file absent from the archive is ``missing``; an entry without
    ``Algorithm``/``Hash`` is ``no-digest``; a URI is ``external`` (not fetched).
    Which of these fail is the caller's rule.

    Raises:
        InvalidInputError: a member cannot be read (corrupt, limits).
    """
    status: Literal["match", "mismatch", "missing", "no-digest", "external"]
    # Measured through the hashing engine, many small members in one pass per
    # algorithm (SafeZip.hash_members); the results keep the manifest's order.
    measured: dict[tuple[str, str], str] = {}
    wanted: dict[str, list[str]] = {}
    for entry in manifest.entries:
        if (
            not entry.uri
            and entry.algorithm is not None
            and entry.digest is not None
            and archive.has(entry.source)
        ):
            wanted.setdefault(entry.algorithm, []).append(entry.source)
    for algorithm, sources in wanted.items():
        for source, result in zip(
            sources, archive.hash_members(sources, [algorithm]), strict=True
        ):
            measured[algorithm, source] = result.digests[algorithm]
    out: list[DigestResult] = []
    for entry in manifest.entries:
        if entry.uri:
            out.append(DigestResult(entry.source, None, entry.digest, None, "external"))
            continue
        if not archive.has(entry.source):
            out.append(
                DigestResult(
                    entry.source, entry.algorithm, entry.digest, None, "missing"
                )
            )
            continue
        if entry.algorithm is None or entry.digest is None:
            out.append(DigestResult(entry.source, None, None, None, "no-digest"))
            continue
        actual = measured[entry.algorithm, entry.source]
        same = hmac.compare_digest(actual, entry.digest)
        status = "match" if same else "mismatch"
        out.append(
            DigestResult(entry.source, entry.algorithm, entry.digest, actual, status)
        )
    return tuple(out)


def unlisted_members(package: CsarPackage) -> tuple[str, ...]:
    """Archive members the manifest does not list as a ``Source`` (R-01123).

    SOL 004 §4.3.3 asks the manifest to list every file of the package; the caller
    decides which exceptions apply (the manifest itself, signatures, certificates).
    """
    listed = {name_key(e.source) for e in package.manifest.entries if not e.uri}
    return tuple(n for n in package.members if name_key(n) not in listed)


# --- security option 2 ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Option2Layout:
    """A security option 2 ZIP (§5.1, §5.3): the CSAR, its signature, its certificate.

    ``signature``/``certificate`` are ``None`` when absent (the certificate may be in
    the CMS); ``others`` lists any further files (real packages carry a README).
    """

    csar: str
    signature: str | None
    certificate: str | None
    others: tuple[str, ...]


def read_option2(archive: SafeZip) -> Option2Layout | None:
    """The option 2 layout of ``archive``, or ``None`` if it is a plain CSAR.

    See :func:`option2_layout` (applied to the archive's member names).

    Raises:
        InvalidInputError: as for :func:`option2_layout`.
    """
    return option2_layout([m.name for m in archive.members], file=archive.file)


def option2_layout(names: Sequence[str], *, file: str) -> Option2Layout | None:
    """The option 2 layout of an archive holding ``names``, or ``None`` if plain.

    An archive is option 2 when it has no ``TOSCA.meta`` and no root manifest but
    at least one ``.csar`` file at its root (§5.1, §5.3: "a ZIP file including the
    CSAR file, a signature file and the certificate file").

    Raises:
        InvalidInputError: several ``.csar``, ``.cms`` or ``.cert`` files at the root,
            or members below the root (the message names them).
    """
    root = [n for n in names if "/" not in n]
    if TOSCA_META in names or any(n.lower().endswith(".mf") for n in root):
        return None
    csars = [n for n in root if n.lower().endswith(".csar")]
    if not csars:
        return None
    below = [n for n in names if "/" in n]
    if len(csars) > 1 or below:
        found = ", ".join(repr(n[:200]) for n in [*csars[1:], *below][:3])
        raise InvalidInputError(
            "an option 2 package holds one .csar and its signature files at the "
            f"root, found {found}",
            file=file,
        )
    sigs = [n for n in root if n.lower().endswith(".cms")]
    certs = [n for n in root if n.lower().endswith(".cert")]
    for what, found_names in (
        ("signature (.cms)", sigs),
        ("certificate (.cert)", certs),
    ):
        if len(found_names) > 1:
            shown = ", ".join(repr(n[:200]) for n in found_names[:3])
            raise InvalidInputError(
                f"more than one {what} in an option 2 package: {shown}", file=file
            )
    others = tuple(n for n in root if n not in {csars[0], *sigs, *certs})
    return Option2Layout(
        csar=csars[0],
        signature=sigs[0] if sigs else None,
        certificate=certs[0] if certs else None,
        others=others,
    )
