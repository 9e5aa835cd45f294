"""The SOL 004 adapter on security option 2 ZIPs: load, reload, measure, salvage.

``reload`` must give what ``load`` gave from the stored inputs and the recorded
listing, also when the ZIP is malformed (the finding is found again from the
listing: a layout error from the outer names, an unreadable CSAR or member from the
irregular entries).
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zipfile
from pathlib import Path
from typing import BinaryIO, Self

import pytest

from vendorproof.errors import InvalidInputError
from vendorproof.formats.csar import OPTION2, CsarFormat
from vendorproof.formats.ziparchive import (
    DEFAULT_ARCHIVE_LIMITS,
    SafeZip,
    check_member_name,
)
from vendorproof.limits import Limits
from vendorproof.models.checks import Outcome
from vendorproof.models.delivery import Delivery
from vendorproof.models.summary import DeliverySummary, Listing
from vendorproof.verify.cms import MAX_CMS_BYTES

META = (
    "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: t\n"
    "Entry-Definitions: main.yaml\nETSI-Entry-Manifest: main.mf\n"
    "ETSI-Entry-Change-Log: log.txt\n"
)
IMAGE = b"image bytes " * 100


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _members(more: str = "") -> dict[str, bytes]:
    digest = hashlib.sha256(IMAGE).hexdigest()
    mf = (
        "metadata:\n  vnf_provider_id: v\n  vnf_product_name: p\n"
        "  vnf_release_date_time: 2026-01-01T00:00:00+00:00\n"
        "  vnf_package_version: 1\n"
        f"\nSource: a.img\nAlgorithm: SHA-256\nHash: {digest}\n{more}"
    )
    return {
        "TOSCA-Metadata/TOSCA.meta": META.encode(),
        "main.mf": mf.encode(),
        "main.yaml": b"x: 1\n",
        "log.txt": b"log\n",
        "a.img": IMAGE,
    }


def _csar(more: str = "") -> bytes:
    return _zip(_members(more))


def _write(tmp: Path, members: dict[str, bytes], name: str = "p.zip") -> Path:
    path = tmp / name
    path.write_bytes(_zip(members))
    return path


def _again(tmp: Path, loaded: Delivery) -> Delivery:
    summary = DeliverySummary(
        format="sol004",
        root=str(loaded.root),
        listing=Listing(
            payload=tuple(sorted(loaded.payload)), irregular=dict(loaded.irregular)
        ),
    )
    return CsarFormat().reload(loaded.inputs, summary, workdir=tmp, images=None)


def _agree(tmp: Path, loaded: Delivery) -> None:
    again = _again(tmp, loaded)
    assert again.findings == loaded.findings
    assert again.payload == loaded.payload
    assert again.package_manifest == loaded.package_manifest
    assert again.signatures == loaded.signatures
    assert dict(again.inputs) == dict(loaded.inputs)
    assert dict(again.irregular) == dict(loaded.irregular)


def test_no_member_can_have_the_prefix() -> None:
    with pytest.raises(InvalidInputError):
        check_member_name(OPTION2 + "x.cms", file="z", limits=DEFAULT_ARCHIVE_LIMITS)


def test_a_good_layout(tmp_path: Path) -> None:
    path = _write(
        tmp_path, {"p.csar": _csar(), "p.cms": b"not a CMS", "p.cert": b"cert"}
    )
    loaded = CsarFormat().load(path)
    assert loaded.package_manifest is not None
    outer = loaded.package_manifest.package_signature
    assert outer is not None
    # A CMS that does not parse: nothing to measure with, the verifier fails it.
    assert outer.algorithms == ()
    assert outer.certificates == (b"cert",)
    assert set(loaded.inputs) == {
        "2:p.cms",
        "2:p.cert",
        "main.mf",
        "TOSCA-Metadata/TOSCA.meta",
    }
    # TOSCA.meta is payload like any file (the manifest here does not list it).
    assert loaded.payload == {
        "2:p.csar",
        "a.img",
        "main.yaml",
        "log.txt",
        "TOSCA-Metadata/TOSCA.meta",
    }
    _agree(tmp_path, loaded)
    hasher = CsarFormat().measure(path)
    outer_d, inner_d = hasher(["2:p.csar", "a.img"], ["sha256"])
    assert outer_d.digests["sha256"] == hashlib.sha256(_csar()).hexdigest()
    assert inner_d.digests["sha256"] == hashlib.sha256(IMAGE).hexdigest()


@pytest.mark.parametrize(
    ("members", "subject", "needle"),
    [
        (
            {"p.csar": b"x", "a.cms": b"", "b.cms": b""},
            "p.zip",
            "more than one signature (.cms) in an option 2 package: 'a.cms', 'b.cms'",
        ),
        (
            {"p.csar": b"x", "a.cert": b"", "b.cert": b""},
            "p.zip",
            "more than one certificate",
        ),
        ({"p.csar": b"x", "q.csar": b""}, "p.zip", "found 'q.csar'"),
        ({"p.csar": b"x", "d/e": b""}, "p.zip", "found 'd/e'"),
        ({"p.csar": b"not a zip", "p.cms": b""}, "2:p.csar", "not a readable CSAR"),
    ],
)
def test_bad_layouts_are_findings_that_replay(
    tmp_path: Path, members: dict[str, bytes], subject: str, needle: str
) -> None:
    loaded = CsarFormat().load(_write(tmp_path, members))
    failed = {f.subject: f.reason for f in loaded.findings if f.outcome is Outcome.FAIL}
    assert needle in failed[subject], failed
    assert loaded.package_manifest is None
    _agree(tmp_path, loaded)


def test_an_unreadable_signature_member(tmp_path: Path) -> None:
    data = bytearray(
        _zip({"p.csar": _csar(), "p.cms": b"A" * 64}, method=zipfile.ZIP_STORED)
    )
    at = bytes(data).index(b"A" * 64)
    data[at] = ord("B")  # the stored bytes no longer match the CRC-32
    path = tmp_path / "p.zip"
    path.write_bytes(bytes(data))
    loaded = CsarFormat().load(path)
    failed = {f.subject: f.reason for f in loaded.findings if f.outcome is Outcome.FAIL}
    assert "unreadable" in failed["2:p.cms"]
    assert "2:p.cms" in loaded.irregular
    assert loaded.package_manifest is not None
    assert loaded.package_manifest.package_signature is None
    _agree(tmp_path, loaded)


def test_a_source_naming_an_outer_file_is_refused(tmp_path: Path) -> None:
    """Source names are checked like member names: ``2:`` is none."""
    more = "\nSource: 2:p.cms\nAlgorithm: SHA-256\nHash: " + "00" * 32 + "\n"
    path = _write(tmp_path, {"p.csar": _csar(more), "p.cms": b"x", "p.cert": b"c"})
    loaded = CsarFormat().load(path)
    failed = {f.subject: f.reason for f in loaded.findings if f.outcome is Outcome.FAIL}
    assert "'2:p.cms'" in failed["main.mf"]
    assert loaded.package_manifest is None
    _agree(tmp_path, loaded)


def test_salvage_and_measure_of_a_broken_layout(tmp_path: Path) -> None:
    fmt = CsarFormat()
    good = _write(tmp_path, {"p.csar": _csar(), "p.cms": b"sig", "README": b"r"})
    salvage = fmt.salvage(good)
    assert dict(salvage.inputs) == {"2:p.cms": b"sig"}
    assert salvage.listing.payload == ("2:README", "2:p.csar")
    bad = _write(tmp_path, {"p.csar": b"", "a.cms": b"", "b.cms": b""}, "bad.zip")
    # Not option 2 and no CSAR structure: nothing it names to keep.
    assert set(fmt.salvage(bad).inputs) == set()
    # A broken layout has no CSAR to look into: names are the ZIP's own.
    (digest,) = fmt.measure(bad)(["a.cms"], ["sha256"])
    assert digest.size == 0


def test_a_csar_with_too_many_entries_is_unreadable(tmp_path: Path) -> None:
    path = _write(tmp_path, {"p.csar": _csar(), "p.cms": b"x", "p.cert": b"c"})
    loaded = CsarFormat().load(path, limits=Limits(max_files=4))
    failed = {f.subject: f.reason for f in loaded.findings if f.outcome is Outcome.FAIL}
    assert "more than 4 entries" in failed["2:p.csar"]
    assert loaded.package_manifest is None
    _agree(tmp_path, loaded)


def _corrupt_manifest(csar: bytes) -> bytes:
    """``csar`` rebuilt with its manifest stored, one byte changed (CRC mismatch)."""
    with zipfile.ZipFile(io.BytesIO(csar)) as z:
        members = {n: z.read(n) for n in z.namelist()}
    data = bytearray(_zip(members, method=zipfile.ZIP_STORED))
    at = bytes(data).index(b"metadata:")
    data[at] = ord("M")
    return bytes(data)


@pytest.mark.parametrize("option2", [False, True], ids=["plain", "option-2"])
def test_an_unreadable_manifest_member_replays_to_the_same_findings(
    tmp_path: Path, option2: bool
) -> None:
    csar = _corrupt_manifest(_csar())
    path = tmp_path / ("p.zip" if option2 else "p.csar")
    if option2:
        path.write_bytes(_zip({"p.csar": csar, "p.cms": b"x"}))
    else:
        path.write_bytes(csar)
    loaded = CsarFormat().load(path)
    reasons = [
        f.reason
        for f in loaded.findings
        if f.subject == "main.mf" and f.outcome is Outcome.FAIL
    ]
    # One finding: unreadable (not also "not in the package").
    assert len(reasons) == 1
    assert "unreadable" in reasons[0]
    assert "CRC" in reasons[0]
    assert loaded.irregular["main.mf"].startswith("unreadable")
    assert loaded.package_manifest is None
    _agree(tmp_path, loaded)


def _reversed_directory(archive: bytes) -> bytes:
    """``archive`` with its central directory entries in reverse order."""
    data = bytearray(archive)
    end = data.rfind(b"PK\x05\x06")
    size, offset = struct.unpack_from("<II", data, end + 12)
    entries, at = [], offset
    while at < offset + size:
        name, extra, comment = struct.unpack_from("<HHH", data, at + 28)
        length = 46 + name + extra + comment
        entries.append(bytes(data[at : at + length]))
        at += length
    data[offset : offset + size] = b"".join(reversed(entries))
    return bytes(data)


class _SeekCounter:
    """A stream that counts backward seeks (each inflates a deflated member again)."""

    def __init__(self, stream: BinaryIO, counts: list[int]) -> None:
        self._stream = stream
        self._counts = counts
        counts.append(0)

    def seek(self, offset: int, whence: int = 0) -> int:
        here = self._stream.tell()
        there = self._stream.seek(offset, whence)
        if there < here:
            self._counts[-1] += 1
        return there

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stream.close()


def test_a_nested_csar_is_read_in_the_order_of_its_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An inner central directory in reverse order does not make every member read
    seek back (and inflate the outer member again from its start)."""
    files = {f"Files/{i:03d}.bin": os.urandom(64) for i in range(40)}
    listing = "".join(
        f"\nSource: {n}\nAlgorithm: SHA-256\nHash: {hashlib.sha256(d).hexdigest()}\n"
        + (f"Signature: {n}.sig.cms\n" if i % 2 == 0 else "")
        for i, (n, d) in enumerate(files.items())
    )
    signatures = {f"{n}.sig.cms": b"s" for i, n in enumerate(files) if i % 2 == 0}
    inner = _reversed_directory(
        _zip({**_members(listing), **files, **signatures}, method=zipfile.ZIP_STORED)
    )
    path = _write(tmp_path, {"p.csar": inner, "p.cms": b"x"})
    counts: list[int] = []
    original = SafeZip.open_seekable

    def counting(self: SafeZip, name: str) -> BinaryIO:
        return _SeekCounter(original(self, name), counts)  # type: ignore[return-value]

    monkeypatch.setattr(SafeZip, "open_seekable", counting)
    loaded = CsarFormat().load(path)
    assert len(loaded.signatures) == 20
    names = sorted(files)
    results = CsarFormat().measure(path)(names, ["sha256"])
    assert [r.digests["sha256"] for r in results] == [
        hashlib.sha256(files[n]).hexdigest() for n in names
    ]
    # A few to open (zipfile and the layout check read the end records, then go
    # back to the first member), then TOSCA.meta, the manifest and the 20
    # signatures in one pass; measuring: open, then one pass over the 40 files. In
    # directory order, every read seeks back.
    load_seeks, measure_seeks = counts
    assert load_seeks <= 6, load_seeks
    assert measure_seeks <= 6, measure_seeks


def test_an_outer_signature_over_the_bound_is_not_read(tmp_path: Path) -> None:
    path = _write(tmp_path, {"p.csar": _csar(), "p.cms": os.urandom(MAX_CMS_BYTES + 1)})
    loaded = CsarFormat().load(path)
    failed = {f.subject: f.reason for f in loaded.findings if f.outcome is Outcome.FAIL}
    assert failed["2:p.cms"] == f"unread: larger than {MAX_CMS_BYTES} bytes"
    assert "2:p.cms" not in loaded.inputs
    _agree(tmp_path, loaded)
