"""OCI image layouts: the walk, blob integrity, referrers and refused input."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tarfile
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from tests.oci import (
    INDEX,
    MANIFEST,
    NOTARY,
    REAL_LAYOUT,
    REAL_MANIFEST,
    descriptor,
    dumps,
    new_layout,
    put_blob,
    tar_layout,
)
from vendorproof.errors import InvalidInputError
from vendorproof.formats.oci import (
    ARTIFACT_NOTARY_SIGNATURE,
    ARTIFACT_SIGSTORE_BUNDLE,
    OciFormat,
    check_blobs,
    close_layout,
    given_media_type,
    is_layout,
    open_layout,
    parse_descriptor,
)
from vendorproof.formats.ziparchive import ArchiveLimits
from vendorproof.limits import Limits
from vendorproof.models.delivery import Delivery
from vendorproof.models.summary import DeliverySummary

LAYER = (
    REAL_LAYOUT
    / "blobs"
    / "sha256"
    / ("63b65145d645c1250c391b2d16ebe53b3747c295ca8ba2fcb6b0cf064a4dc21c")
)


def refused(root: Path, **kwargs: Any) -> dict[str, str]:
    """The problems of the walk: refused document (blob or file) -> why."""
    layout = open_layout(root, **kwargs)
    close_layout(layout)
    return dict(layout.problems)


def copy_real(tmp_path: Path) -> Path:
    dest = tmp_path / "layout"
    shutil.copytree(REAL_LAYOUT, dest)
    for path in dest.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest


@pytest.mark.parametrize("as_tar", [False, True])
def test_real_layout_walks_and_every_blob_matches(tmp_path: Path, as_tar: bool) -> None:
    path = tar_layout(REAL_LAYOUT, tmp_path / "x.tar") if as_tar else REAL_LAYOUT
    assert is_layout(path)
    layout = open_layout(path)
    try:
        assert [m.descriptor.digest for m in layout.images()] == [
            REAL_MANIFEST["digest"]
        ]
        image = layout.images()[0]
        assert image.descriptor.platform == "linux/amd64"
        assert image.descriptor.annotations["org.opencontainers.image.ref.name"] == "v2"
        assert layout.ignored == ("manifest.json",)  # docker save's file, never read
        assert layout.unreferenced == ()
        assert layout.unknown_media_types == ()
        checks = check_blobs(layout)
        assert len(checks) == 3
        assert all(c.problem is None for c in checks)
        assert layout.referrers(REAL_MANIFEST["digest"]) == ()
    finally:
        close_layout(layout)


def test_changed_layer_is_reported_with_its_digest(tmp_path: Path) -> None:
    root = copy_real(tmp_path)
    blob = root / LAYER.relative_to(REAL_LAYOUT)
    data = bytearray(blob.read_bytes())
    data[1000] ^= 1
    blob.write_bytes(bytes(data))
    problems = [c.problem for c in check_blobs(open_layout(root)) if c.problem]
    assert len(problems) == 1
    assert "does not match its digest" in problems[0]
    assert LAYER.name in problems[0]


def test_changed_layer_in_a_tar_is_reported(tmp_path: Path) -> None:
    root = copy_real(tmp_path)
    blob = root / LAYER.relative_to(REAL_LAYOUT)
    data = bytearray(blob.read_bytes())
    data[-1] ^= 1
    blob.write_bytes(bytes(data))
    layout = open_layout(tar_layout(root, tmp_path / "t.tar", prefix=""))
    try:
        problems = [c.problem for c in check_blobs(layout) if c.problem]
    finally:
        close_layout(layout)
    assert len(problems) == 1
    assert "does not match its digest" in problems[0]


def test_missing_and_resized_blobs_are_reported(tmp_path: Path) -> None:
    layout = new_layout(tmp_path / "l")
    layout.add_image([b"first layer", b"second layer"])
    blobs = tmp_path / "l" / "blobs" / "sha256"
    (blobs / descriptor("x", b"first layer")["digest"][7:]).unlink()
    (blobs / descriptor("x", b"second layer")["digest"][7:]).write_bytes(b"short")
    problems = sorted(c.problem or "" for c in check_blobs(open_layout(layout.root)))
    assert any("is missing" in p for p in problems)
    assert any("is 5 bytes" in p for p in problems)


MANIFEST_BLOB = "blobs/sha256/" + REAL_MANIFEST["digest"][7:]


def test_changed_manifest_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    root = copy_real(tmp_path)
    manifest = root / MANIFEST_BLOB
    changed = manifest.read_bytes().replace(b"tar+gzip", b"tar+zstd")
    manifest.write_bytes(changed)
    layout = open_layout(root)
    assert "does not match its digest" in dict(layout.problems)[MANIFEST_BLOB]
    assert layout.manifests == {}
    # The refused bytes are kept: they are what the record must show.
    assert layout.documents[MANIFEST_BLOB] == changed


def test_missing_manifest_blob_is_refused(tmp_path: Path) -> None:
    root = copy_real(tmp_path)
    (root / MANIFEST_BLOB).unlink()
    reason = refused(root)[MANIFEST_BLOB]
    assert "missing from the layout" in reason
    assert "manifests[0]" in reason


def test_referrers_are_found_by_subject_and_artifact_type(tmp_path: Path) -> None:
    layout = new_layout(tmp_path / "l")
    image = layout.add_image(annotations={"org.opencontainers.image.title": "gNB"})
    layout.add_referrer(image, b'{"payload":"x"}', "application/jose+json")
    layout.add_referrer(
        image,
        b'{"mediaType":"x"}',
        "application/vnd.dev.sigstore.bundle.v0.3+json",
        artifact_type=ARTIFACT_SIGSTORE_BUNDLE,
    )
    walked = open_layout(layout.root)
    assert [m.descriptor.digest for m in walked.images()] == [image["digest"]]
    notary = walked.referrers(
        image["digest"], artifact_types=frozenset({ARTIFACT_NOTARY_SIGNATURE})
    )
    assert len(notary) == 1
    assert notary[0].kind == NOTARY
    envelope = walked.read_blob(notary[0].layers[0])
    assert envelope == b'{"payload":"x"}'
    assert len(walked.referrers(image["digest"])) == 2
    assert all(c.problem is None for c in check_blobs(walked))


def test_nested_index_for_every_platform_is_walked(tmp_path: Path) -> None:
    layout = new_layout(tmp_path / "l")
    amd = layout.add_image([b"amd64 layer"])
    arm = layout.add_image([b"arm64 layer"])
    nested = dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": [amd, arm]})
    put_blob(layout.root, nested)
    layout.manifests[:] = [descriptor(INDEX, nested), amd]  # amd listed twice
    layout.save()
    (layout.root / "extra-dir").mkdir()
    walked = open_layout(layout.root)
    assert walked.ignored == ("extra-dir/",)
    assert len(walked.images()) == 2
    assert len(walked.indexes) == 1
    assert len(check_blobs(walked)) == 6  # index, 2 manifests, 1 config, 2 layers


def test_deep_index_nesting_is_refused(tmp_path: Path) -> None:
    layout = new_layout(tmp_path / "l")
    child = layout.add_image()
    for _ in range(Limits().max_index_depth + 2):
        raw = dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": [child]})
        put_blob(layout.root, raw)
        child = descriptor(INDEX, raw)
    layout.manifests[:] = [child]
    layout.save()
    problems = refused(layout.root)
    assert len(problems) == 1
    assert "nested deeper than" in next(iter(problems.values()))


def test_unreferenced_blobs_and_unknown_media_types_are_reported(
    tmp_path: Path,
) -> None:
    layout = new_layout(tmp_path / "l")
    config = dumps({})
    put_blob(layout.root, config)
    put_blob(layout.root, b"strange")
    manifest = dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": descriptor("application/vnd.oci.image.config.v1+json", config),
            "layers": [descriptor("application/x-strange", b"strange")],
        }
    )
    put_blob(layout.root, manifest)
    layout.manifests.append(descriptor(MANIFEST, manifest))
    layout.save()
    orphan = put_blob(layout.root, b"left behind")
    walked = open_layout(layout.root)
    assert walked.unreferenced == (f"blobs/sha256/{orphan[7:]}",)
    assert [t for _, t in walked.unknown_media_types] == ["application/x-strange"]


def write_index(root: Path, index: object) -> None:
    (root / "index.json").write_bytes(json.dumps(index).encode())


@pytest.mark.parametrize(
    ("index", "message"),
    [
        ({"schemaVersion": 1, "manifests": []}, "schemaVersion must be 2"),
        ({"schemaVersion": 2}, "must be an array of descriptors"),
        ([], "must be a JSON object"),
        (
            {
                "schemaVersion": 2,
                "manifests": [
                    {"mediaType": MANIFEST, "digest": "sha256:../../etc", "size": 1}
                ],
            },
            "digest must be",
        ),
        (
            {
                "schemaVersion": 2,
                "manifests": [
                    {"mediaType": MANIFEST, "digest": "md5:" + "a" * 32, "size": 1}
                ],
            },
            "digest must be",
        ),
        (
            {
                "schemaVersion": 2,
                "manifests": [{"mediaType": MANIFEST, "digest": "sha256:" + "a" * 64}],
            },
            "size must be",
        ),
        (
            {
                "schemaVersion": 2,
                "manifests": [
                    {
                        "mediaType": "application/x-thing",
                        "digest": "sha256:" + "a" * 64,
                        "size": 1,
                    }
                ],
            },
            "unknown manifest media type",
        ),
        (
            {"schemaVersion": 2, "mediaType": MANIFEST, "manifests": []},
            "mediaType must be",
        ),
        (
            {"schemaVersion": 2, "manifests": [], "annotations": {"a": 1}},
            "annotations must be a map",
        ),
        (
            {
                "schemaVersion": 2,
                "manifests": [
                    {
                        "mediaType": MANIFEST,
                        "digest": "sha256:" + "a" * 64,
                        "size": 1,
                        "platform": "linux",
                    }
                ],
            },
            "platform must be an object",
        ),
        (
            {
                "schemaVersion": 2,
                "manifests": [
                    {"mediaType": "", "digest": "sha256:" + "a" * 64, "size": 1}
                ],
            },
            "mediaType must be a non-empty string",
        ),
    ],
)
def test_bad_index_is_refused_naming_the_field(
    tmp_path: Path, index: object, message: str
) -> None:
    root = new_layout(tmp_path / "l").root
    write_index(root, index)
    problems = refused(root)
    assert len(problems) == 1, problems
    (subject, reason), *_ = problems.items()
    assert re.search(message, reason)
    # index.json itself, or a blob it names (the reason says where it is named).
    assert "index.json" in f"{subject} {reason}"


def test_manifest_fields_are_checked(tmp_path: Path) -> None:
    layout = new_layout(tmp_path / "l")
    bad = dumps({"schemaVersion": 2, "mediaType": MANIFEST, "layers": []})
    put_blob(layout.root, bad)
    layout.manifests.append(descriptor(MANIFEST, bad))
    layout.save()
    blob = "blobs/sha256/" + descriptor(MANIFEST, bad)["digest"][7:]
    assert refused(layout.root) == {
        blob: f"malformed: {blob}: config: descriptor must be an object"
    }


def test_manifest_media_type_must_agree_with_its_descriptor(tmp_path: Path) -> None:
    layout = new_layout(tmp_path / "l")
    raw = dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": []})
    put_blob(layout.root, raw)
    layout.manifests.append(descriptor(MANIFEST, raw))
    layout.save()
    (reason,) = refused(layout.root).values()
    assert "mediaType: mediaType" in reason
    assert "differs from the descriptor" in reason


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no oci-layout file"),
        (b'{"imageLayoutVersion":"2.0.0"}', "imageLayoutVersion must be 1.0.0"),
        (b"not json", "invalid JSON"),
    ],
)
def test_oci_layout_file_is_required(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    root = new_layout(tmp_path / "l").root
    if content is None:
        (root / "oci-layout").unlink()
        with pytest.raises(InvalidInputError, match=message):
            open_layout(root)
        assert not is_layout(root)
    else:
        (root / "oci-layout").write_bytes(content)
        assert message in refused(root)["oci-layout"]


def test_missing_index_is_refused(tmp_path: Path) -> None:
    root = new_layout(tmp_path / "l").root
    (root / "index.json").unlink()
    with pytest.raises(InvalidInputError, match=r"no index\.json"):
        open_layout(root)


def test_huge_json_is_refused(tmp_path: Path) -> None:
    root = new_layout(tmp_path / "l").root
    (root / "index.json").write_bytes(b" " * 2048 + b"{}")
    problems = refused(root, limits=Limits(max_document_bytes=1024))
    assert "larger than 1024 bytes" in problems["index.json"]


def test_manifest_above_the_document_limit_is_refused(tmp_path: Path) -> None:
    layout = new_layout(tmp_path / "l")
    layout.add_image()
    limit = (layout.root / "index.json").stat().st_size
    (reason,) = refused(layout.root, limits=Limits(max_document_bytes=limit)).values()
    assert "above the limit" in reason


def test_symlinked_blob_is_refused(tmp_path: Path) -> None:
    layout = new_layout(tmp_path / "l")
    layout.add_image()
    (tmp_path / "outside").write_bytes(b"secret")
    (layout.root / "blobs" / "sha256" / ("f" * 64)).symlink_to(tmp_path / "outside")
    with pytest.raises(InvalidInputError, match="symbolic link"):
        open_layout(layout.root)


def test_symlinked_blobs_directory_is_refused(tmp_path: Path) -> None:
    layout = new_layout(tmp_path / "l")
    layout.add_image()
    real = tmp_path / "elsewhere"
    (layout.root / "blobs").rename(real)
    (layout.root / "blobs").symlink_to(real)
    with pytest.raises(InvalidInputError, match="symbolic link"):
        open_layout(layout.root)


def test_file_in_blobs_is_refused(tmp_path: Path) -> None:
    layout = new_layout(tmp_path / "l")
    layout.add_image()
    (layout.root / "blobs" / "stray").write_bytes(b"x")
    with pytest.raises(InvalidInputError, match="is not a directory"):
        open_layout(layout.root)


def test_special_paths_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot read"):
        open_layout(tmp_path / "absent")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(InvalidInputError, match="FIFO"):
        open_layout(fifo)
    assert not is_layout(fifo)
    (tmp_path / "plain").write_bytes(b"no tar")
    with pytest.raises(InvalidInputError, match="not a readable tar"):
        open_layout(tmp_path / "plain")


def test_too_many_blobs_are_refused(tmp_path: Path) -> None:
    layout = new_layout(tmp_path / "l")
    layout.add_image()
    with pytest.raises(InvalidInputError, match="more than 2 blobs"):
        open_layout(layout.root, limits=Limits(max_files=2))


# -------------------------------------------------------------------- tar input


def tar_with(tmp_path: Path, *members: tarfile.TarInfo, data: bytes = b"") -> Path:
    path = tmp_path / "bad.tar"
    with tarfile.open(path, "w") as tar:
        tar.addfile(
            _file("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
            io.BytesIO(b'{"imageLayoutVersion":"1.0.0"}'),
        )
        for info in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path


def _file(name: str, data: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info


def _kind(name: str, kind: bytes, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (_file("../escape", b""), "'.' or '..' component"),
        (_file("/etc/passwd", b""), "absolute"),
        (
            _kind("blobs/sha256/" + "a" * 64, tarfile.SYMTYPE, "/etc/passwd"),
            "link member",
        ),
        (_kind("index.json", tarfile.LNKTYPE, "oci-layout"), "link member"),
        (_kind("dev", tarfile.CHRTYPE), "special file"),
        (_kind("fifo", tarfile.FIFOTYPE), "special file"),
        (_file("OCI-LAYOUT", b""), "duplicate or colliding"),
        (_file("./oci-layout", b""), "duplicate or colliding"),
    ],
)
def test_unsafe_tar_members_are_refused(
    tmp_path: Path, member: tarfile.TarInfo, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        open_layout(tar_with(tmp_path, member))


def test_tar_name_used_as_file_and_directory_is_refused(tmp_path: Path) -> None:
    path = tar_with(tmp_path, _file("blobs", b""), _file("blobs/sha256/x", b""))
    with pytest.raises(InvalidInputError, match="both as a file and as a directory"):
        open_layout(path)


def test_tar_limits_are_enforced(tmp_path: Path) -> None:
    path = tar_layout(REAL_LAYOUT, tmp_path / "x.tar")
    with pytest.raises(InvalidInputError, match="more than 3 members"):
        open_layout(path, archive_limits=ArchiveLimits(max_members=3))
    with pytest.raises(InvalidInputError, match="larger than 1000 bytes"):
        open_layout(path, archive_limits=ArchiveLimits(max_total_bytes=1000))


def test_truncated_tar_is_refused(tmp_path: Path) -> None:
    path = tar_layout(REAL_LAYOUT, tmp_path / "x.tar")
    cut = tmp_path / "cut.tar"
    cut.write_bytes(path.read_bytes()[:200_000])
    with pytest.raises(InvalidInputError, match="corrupt or truncated"):
        open_layout(cut)


def _sparse_pax(headers: dict[str, str]) -> tarfile.TarInfo:
    """A pax member whose GNU sparse headers ``tarfile`` parses while indexing."""
    info = _file("index.json", b"{}")
    info.pax_headers = headers
    return info


@pytest.mark.parametrize(
    "headers",
    [
        {"GNU.sparse.map": "a,b"},  # format 0.1: the map is no list of numbers
        {"GNU.sparse.major": "1", "GNU.sparse.minor": "0"},  # 1.0: no map in data
    ],
)
def test_tar_header_tarfile_cannot_parse_is_refused(
    tmp_path: Path, headers: dict[str, str]
) -> None:
    # tarfile raises ValueError (not a TarError) for these sparse headers.
    path = tmp_path / "sparse.tar"
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(_file("oci-layout", b"{}"), io.BytesIO(b"{}"))
        tar.addfile(_sparse_pax(headers), io.BytesIO(b"{}"))
    with pytest.raises(InvalidInputError, match="corrupt or truncated") as caught:
        open_layout(path)
    assert caught.value.file == str(path)
    salvaged = OciFormat().salvage(path)
    assert [e.outcome.value for e in salvaged.errors] == ["error"]
    # Detection reads the members up to oci-layout only.
    assert is_layout(path)
    first = tmp_path / "first.tar"
    with tarfile.open(first, "w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(_sparse_pax(headers), io.BytesIO(b"{}"))
        tar.addfile(_file("oci-layout", b"{}"), io.BytesIO(b"{}"))
    assert not is_layout(first)


def _appended(path: Path, member: bytes) -> bytes:
    """The archive at ``path`` with ``member`` where its end-of-archive blocks were."""
    with tarfile.open(path) as tar:
        tar.getmembers()
        end = tar.offset
    return path.read_bytes()[:end] + member


def test_tar_member_after_an_unreadable_header_is_not_ignored(tmp_path: Path) -> None:
    # tarfile ends the listing at a header with a wrong checksum; GNU tar and Go
    # report it. The member behind it must not go unseen.
    extra = io.BytesIO()
    with tarfile.open(fileobj=extra, mode="w") as tar:
        tar.addfile(_file("unlisted", b"hello"), io.BytesIO(b"hello"))
    header = bytearray(extra.getvalue())
    header[148:156] = b"0000000\0"  # the checksum field, now wrong
    path = tar_layout(REAL_LAYOUT, tmp_path / "x.tar")
    bad = tmp_path / "bad.tar"
    bad.write_bytes(_appended(path, bytes(header)))
    with pytest.raises(InvalidInputError, match="unreadable tar header at offset"):
        open_layout(bad)
    cut = tmp_path / "cut.tar"  # a last header cut short
    cut.write_bytes(_appended(path, bytes(header[:300])))
    with pytest.raises(InvalidInputError, match="unreadable tar header at offset"):
        open_layout(cut)
    # The end-of-archive blocks, or none at all, are a proper end.
    for name, tail in (("end.tar", bytes(1024)), ("none.tar", b"")):
        fine = tmp_path / name
        fine.write_bytes(_appended(path, tail))
        close_layout(open_layout(fine))


@pytest.mark.parametrize(
    "size",
    [
        b"77777777777\0",  # octal: 8 GiB
        b"\x80" + (1 << 40).to_bytes(11, "big"),  # base-256: 1 TiB
    ],
)
def test_tar_header_declaring_gigabytes_allocates_no_gigabytes(
    tmp_path: Path, size: bytes
) -> None:
    # tarfile reads a pax header's records with one read of the declared size; a
    # buffered read allocates that size first, however small the file.
    path = tar_layout(REAL_LAYOUT, tmp_path / "x.tar")
    header = bytearray(tarfile.TarInfo("pax").tobuf(tarfile.USTAR_FORMAT))
    header[156:157] = tarfile.XHDTYPE
    header[124:136] = size
    header[148:156] = b" " * 8
    header[148:155] = b"%06o\0" % sum(header)
    big = tmp_path / "big.tar"
    big.write_bytes(bytes(header) + path.read_bytes())
    tracemalloc.start()
    try:
        with pytest.raises(InvalidInputError, match="not a readable tar archive"):
            open_layout(big)
        assert not is_layout(big)
        assert OciFormat().salvage(big).errors
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024


def test_bad_index_in_a_tar_is_refused(tmp_path: Path) -> None:
    root = new_layout(tmp_path / "l").root
    write_index(root, {"schemaVersion": 3, "manifests": []})
    problems = refused(tar_layout(root, tmp_path / "x.tar"))
    assert "schemaVersion must be 2" in problems["index.json"]


def test_blob_replaced_by_a_link_after_the_walk_is_reported(tmp_path: Path) -> None:
    root = copy_real(tmp_path)
    walked = open_layout(root)
    blob = root / LAYER.relative_to(REAL_LAYOUT)
    blob.unlink()
    blob.symlink_to(LAYER)
    problems = [c.problem for c in check_blobs(walked) if c.problem]
    assert len(problems) == 1
    assert "symbolic link" in problems[0]
    assert LAYER.name in problems[0]


def test_layout_named_by_a_relative_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REAL_LAYOUT)
    assert len(open_layout(Path()).images()) == 1


def findings_of(delivery: Delivery) -> list[tuple[str, str]]:
    return [(c.subject, c.outcome.value) for c in delivery.findings]


def test_reload_refuses_what_load_refused(tmp_path: Path) -> None:
    """A document too large to store is refused again in a replay, by name."""
    root = copy_real(tmp_path)
    small = Limits(max_document_bytes=(root / "index.json").stat().st_size - 1)
    fmt = OciFormat()
    loaded = fmt.load(root, limits=small)
    assert "index.json" not in loaded.inputs
    assert ("index.json", "fail") in findings_of(loaded)
    summary = DeliverySummary(format="oci", root=str(root))
    again = fmt.reload(
        loaded.inputs, summary, workdir=tmp_path, images=None, limits=small
    )
    assert findings_of(again) == findings_of(loaded)
    assert "not among the stored inputs" in again.findings[0].reason


def test_media_type_of_a_given_envelope_is_told_by_content() -> None:
    assert given_media_type(b' \n{"payload": "x"}') == "application/jose+json"
    assert given_media_type(
        (REAL_LAYOUT.parent / "cose_signature.sig").read_bytes()
    ) == ("application/cose")
    assert given_media_type(b"\x84\x40") is None  # untagged COSE_Sign1
    assert given_media_type(b"") is None


def test_index_cycle_is_refused(tmp_path: Path) -> None:
    """A cycle needs a SHA-256 fixpoint; the walk refuses one all the same."""
    from vendorproof.formats.oci.layout import _Walk

    layout = new_layout(tmp_path / "l")
    image = layout.add_image()
    walked = open_layout(layout.root)
    walk = _Walk(walked.source, Limits())
    d = parse_descriptor(image, "index.json manifests[0]")
    walk.follow(d, (d.digest,))
    assert "index cycle" in walk.problems[d.blob]


def test_image_index_is_the_signed_image_and_a_bad_platform_is_refused(
    tmp_path: Path,
) -> None:
    layout = new_layout(tmp_path / "l")
    amd = layout.add_image([b"amd64 layer"])
    broken = b'{"schemaVersion": 2, "config": '
    put_blob(layout.root, broken)
    nested = dumps(
        {
            "schemaVersion": 2,
            "mediaType": INDEX,
            "manifests": [amd, descriptor(INDEX, broken)],
            "annotations": {
                "org.opencontainers.image.vendor": "acme",
                "org.opencontainers.image.created": "yesterday",
            },
        }
    )
    put_blob(layout.root, nested)
    layout.manifests[:] = [descriptor(INDEX, nested)]
    layout.save()
    delivery = OciFormat().load(layout.root)
    assert delivery.package_manifest is not None
    manifest = delivery.package_manifest.manifest
    assert manifest.vendor.name == "acme"
    assert manifest.release_date.year == 1970  # not a time: no release date
    kinds = sorted(c.kind.value for c in manifest.components)
    assert kinds == ["config", "container-image", "other", "other"]
    (finding,) = [f for f in delivery.findings if f.subject == blob_path(broken)]
    assert "invalid JSON" in finding.reason
    assert blob_path(broken) in delivery.inputs


def blob_path(data: bytes) -> str:
    digest: str = descriptor("x", data)["digest"]
    return "blobs/sha256/" + digest[7:]


def test_blob_of_another_size_than_its_descriptor_is_refused(tmp_path: Path) -> None:
    layout = new_layout(tmp_path / "l")
    raw = dumps({"schemaVersion": 2, "config": {}, "layers": []})
    put_blob(layout.root, raw)
    d = descriptor(MANIFEST, raw)
    d["size"] += 1
    layout.manifests.append(d)
    layout.save()
    reason = refused(layout.root)[blob_path(raw)]
    assert f"is {len(raw)} bytes" in reason
    # Read whole through the raising API, the same blob names the layout root.
    walked = open_layout(layout.root)
    with pytest.raises(InvalidInputError, match=r"bytes, index\.json"):
        walked.read_blob(parse_descriptor(d, "index.json manifests[0]"))


# -------------------------------------------------- the index DAG, signature shapes


class _Counting(dict[str, Any]):
    """A mapping that counts its lookups (the walk's visits of indexes).

    Past ``limit`` lookups it fails at once, so a walk of every path fails the
    test instead of running for W^D steps.
    """

    limit = 0
    lookups = 0

    def __getitem__(self, key: str) -> Any:
        self.lookups += 1
        assert self.lookups <= self.limit, "an index is walked more than once"
        return super().__getitem__(key)


@pytest.mark.parametrize("width", [10, 100])
def test_index_dag_is_walked_once_per_index(tmp_path: Path, width: int) -> None:
    """Each index names the next ``width`` times: W^D paths, D index visits."""
    from dataclasses import replace

    from vendorproof.formats.oci.delivery import _components

    layout = new_layout(tmp_path / "l")
    child = layout.add_image([b"x"])
    depth = Limits().max_index_depth
    for _ in range(depth):
        raw = dumps(
            {"schemaVersion": 2, "mediaType": INDEX, "manifests": [child] * width}
        )
        put_blob(layout.root, raw)
        child = descriptor(INDEX, raw)
    layout.manifests[:] = [child]
    layout.save()
    walked = open_layout(layout.root)
    assert walked.problems == ()
    counting = _Counting(walked.indexes)
    counting.limit = 10 * depth
    top = walked.index.manifests[0]
    found = _components(replace(walked, indexes=counting), top)
    assert counting.lookups == depth
    # depth - 1 indexes below the top, the manifest, its config and layer.
    assert len(found) == depth - 1 + 3
    delivery = OciFormat().load(layout.root)
    assert delivery.package_manifest is not None
    assert len(delivery.package_manifest.manifest.components) == depth + 2


DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
SIMPLE = "application/vnd.dev.cosign.simplesigning.v1+json"
BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json"


def _manifest(layout: Any, body: dict[str, Any], media_type: str = MANIFEST) -> str:
    raw = dumps({"schemaVersion": 2, "mediaType": media_type, **body})
    put_blob(layout.root, raw)
    layout.manifests.append(descriptor(media_type, raw))
    layout.save()
    return blob_path(raw)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("notary docker", "media type 'application/vnd.docker.distribution"),
        ("bundle docker", "media type 'application/vnd.docker.distribution"),
        ("bundle two layers", "are not exactly one Sigstore bundle"),
        ("simple config type", "config media type 'application/vnd.oci.empty"),
        ("simple config array", "config is not the image config cosign writes"),
        ("simple config not json", "config is not the image config cosign writes"),
    ],
)
def test_manifest_of_another_shape_is_no_signature(
    tmp_path: Path, case: str, reason: str
) -> None:
    layout = new_layout(tmp_path / "l")
    image = layout.add_image()
    empty = descriptor("application/vnd.oci.empty.v1+json", b"{}")
    put_blob(layout.root, b"{}")
    put_blob(layout.root, b"sig")
    kind, _, variant = case.partition(" ")
    if kind == "simple":
        config = {"type": b"{}", "array": b"[]", "not json": b"{"}.get(
            variant.removeprefix("config "), b"{}"
        )
        put_blob(layout.root, config)
        media = (
            "application/vnd.oci.empty.v1+json"
            if variant == "config type"
            else ("application/vnd.oci.image.config.v1+json")
        )
        body: dict[str, Any] = {
            "config": descriptor(media, config),
            "layers": [descriptor(SIMPLE, b"sig")],
        }
        media_type = MANIFEST
    else:
        artifact = NOTARY if kind == "notary" else BUNDLE
        layer = "application/jose+json" if kind == "notary" else BUNDLE
        body = {
            "artifactType": artifact,
            "config": empty,
            "layers": [descriptor(layer, b"sig")] * (2 if "two" in variant else 1),
            "subject": image,
        }
        media_type = DOCKER_MANIFEST if variant == "docker" else MANIFEST
    name = _manifest(layout, body, media_type)
    delivery = OciFormat().load(layout.root)
    (finding,) = [f for f in delivery.findings if f.subject == name]
    assert finding.outcome.value == "warn"
    assert reason in finding.reason
    assert name in delivery.payload
    assert blob_path(b"sig") in delivery.payload
    assert delivery.package_manifest is not None
    assert delivery.package_manifest.signature is None


def test_simple_signature_whose_config_is_missing_is_refused(tmp_path: Path) -> None:
    layout = new_layout(tmp_path / "l")
    layout.add_image()
    put_blob(layout.root, b"sig")
    config = descriptor("application/vnd.oci.image.config.v1+json", b"{}")
    _manifest(layout, {"config": config, "layers": [descriptor(SIMPLE, b"sig")]})
    delivery = OciFormat().load(layout.root)
    (finding,) = [f for f in delivery.findings if f.subject == blob_path(b"{}")]
    assert finding.outcome.value == "fail"
    assert "missing" in finding.reason
    assert delivery.package_manifest is not None
    assert delivery.package_manifest.signature is None


def test_a_tar_is_measured_in_the_state_it_was_loaded_in(tmp_path: Path) -> None:
    """A tar layout is one snapshot: replaced by another tar (here: the same
    content, written again) or written to after it was loaded, it is not measured."""
    fmt = OciFormat()
    tar = tar_layout(REAL_LAYOUT, tmp_path / "x.tar")
    loaded = fmt.load(tar)
    assert loaded.source_state is not None
    assert loaded.source_state.inode == tar.stat().st_ino
    blobs = sorted(p for p in loaded.payload if p.startswith("blobs/"))
    expect = loaded.source_state
    assert len(fmt.measure(tar, expect=expect)(blobs, ["sha256"])) == len(blobs)
    again = tmp_path / "again.tar"
    again.write_bytes(tar.read_bytes())
    again.replace(tar)
    with pytest.raises(InvalidInputError, match="changed after it was loaded") as e:
        fmt.measure(tar, expect=expect)(blobs, ["sha256"])
    assert e.value.file == str(tar)
    reloaded = fmt.load(tar)
    assert reloaded.source_state != expect
    st = tar.stat()
    os.utime(tar, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    with pytest.raises(InvalidInputError, match="changed after it was loaded"):
        fmt.measure(tar, expect=reloaded.source_state)(blobs, ["sha256"])
    # A directory put where the tar was is not walked in its place.
    tar.unlink()
    shutil.copytree(REAL_LAYOUT, tar)
    with pytest.raises(InvalidInputError, match="not a readable tar"):
        fmt.measure(tar, expect=reloaded.source_state)(blobs, ["sha256"])
    # A directory layout has no state of its own: each blob is checked by its name.
    assert fmt.load(REAL_LAYOUT).source_state is None
