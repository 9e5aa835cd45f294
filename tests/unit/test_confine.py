"""The one confinement helper for paths that evidence names."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from vendorproof._internal import confine
from vendorproof.errors import InvalidInputError
from vendorproof.limits import Limits


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("a", id="one"),
        pytest.param("in-toto/root.layout", id="two"),
        pytest.param("blobs/sha256/" + "0" * 64, id="blob"),
        pytest.param("ü/" + "x" * 255, id="longest-component"),
        pytest.param("..a/b..", id="dots-inside-names"),
    ],
)
def test_plain_relative_names_are_accepted(name: str) -> None:
    assert confine.check_name(name) == tuple(name.split("/"))


@pytest.mark.parametrize(
    ("name", "why"),
    [
        pytest.param("", "empty", id="empty"),
        pytest.param(5, "not a string", id="not-a-string"),
        pytest.param("/etc/passwd", "absolute", id="absolute"),
        pytest.param("..", "'..'", id="dot-dot"),
        pytest.param("a/../../b", "'..'", id="dot-dot-inside"),
        pytest.param("a/./b", "'.'", id="dot"),
        pytest.param("a//b", "empty", id="empty-component"),
        pytest.param("a/", "empty", id="trailing-slash"),
        pytest.param("a\\..\\b", "backslash", id="backslash"),
        pytest.param("a\x00b", "control", id="nul"),
        pytest.param("a\nb", "control", id="newline"),
        pytest.param("a\udc80", "surrogate", id="lone-surrogate"),
        pytest.param("x" * 256, "longer than 255", id="long-component"),
        pytest.param("é" * 128, "longer than 255", id="long-in-bytes"),
        pytest.param("/".join(["d" * 100] * 11), "longer than 1024", id="long-path"),
    ],
)
def test_names_that_could_leave_the_directory_are_refused(
    name: object, why: str
) -> None:
    with pytest.raises(InvalidInputError, match=why) as info:
        confine.check_name(name, file="MANIFEST.json")
    assert info.value.file == "MANIFEST.json"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "root" / "dir").mkdir(parents=True)
    (tmp_path / "root" / "dir" / "file").write_bytes(b"inside")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "file").write_bytes(b"outside")
    return tmp_path / "root"


def test_read_file_reads_a_regular_file_inside(root: Path) -> None:
    assert confine.read_file(root, "dir/file") == b"inside"


def test_read_file_refuses_a_link_as_the_last_component(root: Path) -> None:
    (root / "link").symlink_to(root / "dir" / "file")  # even one pointing inside
    with pytest.raises(InvalidInputError, match="symbolic link"):
        confine.read_file(root, "link")


def test_read_file_refuses_a_link_on_the_way(root: Path) -> None:
    (root / "away").symlink_to(root.parent / "outside")
    with pytest.raises(InvalidInputError, match="symbolic link"):
        confine.read_file(root, "away/file")


# A device node needs root to create; it takes the same not-a-regular-file branch
# (fstat after a non-blocking open) as the FIFO and the socket.
@pytest.mark.parametrize("kind", ["directory", "fifo", "socket"])
def test_read_file_refuses_what_is_not_a_regular_file(root: Path, kind: str) -> None:
    path = root / "entry"
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)  # opened non-blocking: never hangs
    else:
        import socket

        with socket.socket(socket.AF_UNIX) as s:
            s.bind(str(path))
    with pytest.raises(InvalidInputError, match=r"is a |cannot read"):
        confine.read_file(root, "entry")


def test_read_file_bounds_the_size(root: Path) -> None:
    with pytest.raises(InvalidInputError, match="larger than 3 bytes"):
        confine.read_file(root, "dir/file", limits=Limits(max_document_bytes=3))


def test_read_file_missing_is_an_input_error(root: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot read"):
        confine.read_file(root, "dir/none")


def test_list_dir(root: Path) -> None:
    assert confine.list_dir(root, "dir") == ["file"]
    assert confine.list_dir(root, "none") == []
    (root / "away").symlink_to(root.parent / "outside")
    with pytest.raises(InvalidInputError, match="symbolic link"):
        confine.list_dir(root, "away")


def test_write_file_creates_inside_only(root: Path) -> None:
    confine.write_file(root, "in-toto/sub/layout", b"data")
    assert (root / "in-toto" / "sub" / "layout").read_bytes() == b"data"
    with pytest.raises(InvalidInputError, match="cannot write"):
        confine.write_file(root, "in-toto/sub/layout", b"again")  # never overwrites
    with pytest.raises(InvalidInputError, match=re.escape("'..'")):
        confine.write_file(root, "in-toto/../../outside/new", b"x")
    (root / "away").symlink_to(root.parent / "outside")
    with pytest.raises(InvalidInputError, match="cannot write"):
        confine.write_file(root, "away/new", b"x")
    (root / "dangling").symlink_to(root.parent / "outside" / "created")
    with pytest.raises(InvalidInputError, match="cannot write"):
        confine.write_file(root, "dangling", b"x")
    assert sorted(p.name for p in (root.parent / "outside").iterdir()) == ["file"]
