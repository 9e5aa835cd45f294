"""Tests for strict JSON reading and deterministic, atomic writing."""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from vendorproof._internal import jsonio
from vendorproof._internal.jsonio import (
    canonical_json,
    dump_json,
    nesting_depth,
    parse_json,
    read_document,
    render_path,
    write_atomic,
)
from vendorproof.errors import InvalidInputError, OutputError
from vendorproof.limits import DEFAULT_LIMITS, Limits

SMALL = Limits(max_document_bytes=64, max_depth=4)
DEEP = b"[" * 10**6


# --------------------------------------------------------------------------- parse


@pytest.mark.parametrize(
    ("raw", "limits", "message", "path"),
    [
        pytest.param(
            b'{"a": "' + b"x" * 100 + b'"}',
            SMALL,
            r"^document too large \(more than 64 bytes\)$",
            None,
            id="oversized",
        ),
        pytest.param(
            b"\xef\xbb\xbf{}",
            None,
            r"^UTF-8 byte order mark is not allowed$",
            None,
            id="bom",
        ),
        pytest.param(
            b'{"a": "\xff"}',
            None,
            r"^not valid UTF-8 \(byte 7\)$",
            None,
            id="invalid-utf8",
        ),
        pytest.param(
            b'{"a": "\xed\xa0\x80"}',
            None,
            r"^not valid UTF-8 \(byte 7\)$",
            None,
            id="utf8-encoded-surrogate",
        ),
        pytest.param(
            b'{"a": [1, 2',
            None,
            r"^invalid JSON: Expecting ',' delimiter \(line 1, column 12\)$",
            None,
            id="truncated",
        ),
        pytest.param(
            b'{\n  "a": 1,\n}',
            None,
            r"^invalid JSON: .* \(line 3, column 1\)$",
            None,
            id="trailing-comma-line-3",
        ),
        pytest.param(b"", None, r"^invalid JSON: Expecting value", None, id="empty"),
        pytest.param(
            b"{} []", None, r"^invalid JSON: Extra data", None, id="extra-data"
        ),
        pytest.param(
            b'{"a": "\x01"}',
            None,
            r"^invalid JSON: Invalid control",
            None,
            id="control",
        ),
        pytest.param(
            b'{"a": "x\\', None, r"^invalid JSON: Unterminated", None, id="unterminated"
        ),
        pytest.param(b"{'a': 1}", None, r"^invalid JSON: ", None, id="single-quotes"),
        pytest.param(
            b'{"subject": [{"digest": {"sha256": "aa", "sha256": "bb"}}]}',
            None,
            r"^duplicate key 'sha256'$",
            "subject[0].digest",
            id="duplicate-key-nested",
        ),
        pytest.param(
            b'{"a": 1, "b": 2, "a": 3}',
            None,
            r"^duplicate key 'a'$",
            None,
            id="duplicate-key-top",
        ),
        pytest.param(
            b'{"x": {"a b": {"k": 1, "k": 1}}}',
            None,
            r"^duplicate key 'k'$",
            'x["a b"]',
            id="duplicate-key-quoted-path",
        ),
        pytest.param(b'{"a": NaN}', None, r"^NaN is not allowed$", None, id="nan"),
        pytest.param(b"[Infinity]", None, r"^Infinity is not allowed$", None, id="inf"),
        pytest.param(
            b"[-Infinity]", None, r"^-Infinity is not allowed$", None, id="minus-inf"
        ),
        pytest.param(
            b"[1e999]",
            None,
            r"^number out of range: '1e999'$",
            None,
            id="float-overflow",
        ),
        pytest.param(
            b"[-1E+400]", None, r"^number out of range", None, id="float-overflow-neg"
        ),
        pytest.param(
            DEEP,
            None,
            r"^nesting deeper than 32 levels$",
            None,
            id="deep-nesting-10**6",
        ),
        pytest.param(
            b'{"a":' * 10**6,
            None,
            r"^nesting deeper than 32 levels$",
            None,
            id="deep-objects-10**6",
        ),
        pytest.param(
            b"[" * 33 + b"]" * 33,
            None,
            r"^nesting deeper than 32 levels$",
            None,
            id="depth-33",
        ),
        pytest.param(
            b'[[["]]]]]"' + b"[" * 3 + b"]" * 6,
            SMALL,
            r"^nesting deeper than 4 levels$",
            None,
            id="depth-counted-outside-strings",
        ),
        pytest.param(
            b'[{"\\"": [[[]]]}]',
            SMALL,
            r"^nesting deeper than 4 levels$",
            None,
            id="depth-after-escaped-quote",
        ),
        pytest.param(
            b"[" + b"1" * 5000 + b"]",
            None,
            r"^integer with more than 4300 digits$",
            None,
            id="huge-int",
        ),
        pytest.param(
            b"-" + b"9" * 4301,
            None,
            r"^integer with more than 4300 digits$",
            None,
            id="huge-negative-int",
        ),
        pytest.param(
            b'{"a": "\\ud800"}',
            None,
            r"^unpaired surrogate escape in a string$",
            None,
            id="lone-surrogate",
        ),
        pytest.param(
            b'{"\\uDC00": 1}',
            None,
            r"^unpaired surrogate escape in a string$",
            None,
            id="lone-surrogate-key",
        ),
    ],
)
def test_parse_json_rejects(
    raw: bytes, limits: Limits | None, message: str, path: str | None
) -> None:
    limits = limits or DEFAULT_LIMITS
    with pytest.raises(InvalidInputError) as info:
        parse_json(raw, file="statement.json", limits=limits)
    assert info.value.file == "statement.json"
    assert re.search(message, info.value.message), info.value.message
    assert info.value.path == path
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(b'{"a": 1}', {"a": 1}, id="object"),
        pytest.param(
            b" [1, 2.5, true, false, null] ", [1, 2.5, True, False, None], id="array"
        ),
        pytest.param(b'"caf\xc3\xa9"', "café", id="utf8"),
        pytest.param(b'"\\ud83d\\ude00"', "\U0001f600", id="surrogate-pair"),
        pytest.param(b'"\\\\ud800"', "\\ud800", id="escaped-backslash-not-surrogate"),
        pytest.param(b"1" * 4300, int("1" * 4300), id="int-4300-digits"),
        pytest.param(b"-1e308", -1e308, id="large-finite-float"),
        pytest.param(
            b'["' + b"[" * 50 + b'", "\\"[[[["]',
            ["[" * 50, '"[[[['],
            id="brackets-in-strings",
        ),
        pytest.param(
            b"[" * 32 + b"]" * 32, json.loads("[" * 32 + "]" * 32), id="depth-32"
        ),
        pytest.param(b'{"a": {}, "b": {}}', {"a": {}, "b": {}}, id="equal-values"),
    ],
)
def test_parse_json_accepts(raw: bytes, expected: Any) -> None:
    assert parse_json(raw, file="x.json") == expected


def test_parse_json_size_limit_is_inclusive() -> None:
    raw = b'"' + b"x" * 62 + b'"'
    assert len(raw) == SMALL.max_document_bytes
    assert parse_json(raw, file="x.json", limits=SMALL) == "x" * 62


def test_deep_nesting_never_reaches_json_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_args: object, **_kwargs: object) -> object:
        pytest.fail("json.loads must not see a document that is nested too deeply")

    monkeypatch.setattr(json, "loads", boom)
    with pytest.raises(InvalidInputError, match="nesting deeper"):
        parse_json(DEEP, file="deep.json")


# Inputs that made the old nesting pre-scan quadratic (a string pattern retried at
# every escaped quote of an unterminated string) or that stress the scanner otherwise.
_HOSTILE_TEXTS = [
    pytest.param('["' + '\\"' * 1000 + "[" * 40, id="unterminated-escaped-quotes"),
    pytest.param('["' + '\\"' * 1000 + '"' + "[" * 40, id="escaped-quotes-closed"),
    pytest.param('"' * 1001 + "[[", id="many-quotes"),
    pytest.param("[" + '"\\' * 1000, id="trailing-backslashes"),
    pytest.param('[" \\\\\\' * 500, id="backslash-runs"),
    pytest.param("[]" * 1000 + '"\\', id="brackets-then-open-string"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("text", _HOSTILE_TEXTS)
def test_nesting_scan_reads_each_character_once(text: str) -> None:
    # The scan is one substitution of _SKIP: every position that is not a bracket
    # must start a match that ends further on (so the engine never searches ahead
    # from a failed start), and the matches plus the brackets tile the text. With
    # possessive quantifiers a match reads only up to its end: linear in the input.
    pos = 0
    while pos < len(text):
        if text[pos] in "[]{}":
            pos += 1
            continue
        match = jsonio._SKIP.match(text, pos)
        assert match is not None, f"no match at {pos}"
        assert match.end() > pos
        pos = match.end()
    assert pos == len(text)


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        pytest.param("", 0, id="empty"),
        pytest.param("1", 0, id="scalar"),
        pytest.param("[[],{}]", 2, id="siblings"),
        pytest.param('[{"a": [1, "]]]"]}]', 3, id="brackets-in-string"),
        pytest.param('["\\"[[[", [[]]]', 3, id="escaped-quote"),
        pytest.param('["\\\\", [[]]]', 3, id="escaped-backslash"),
        pytest.param('[["unterminated [[[[[[', 2, id="unterminated-string"),
        pytest.param("]]][[", 0, id="closing-first"),
        pytest.param("[" * 100, 100, id="unclosed"),
    ],
)
def test_nesting_depth(text: str, depth: int) -> None:
    assert nesting_depth(text) == depth


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param(
            b'["' + b'\\"' * (DEFAULT_LIMITS.max_document_bytes // 2 - 2) + b"[" * 2,
            r"^invalid JSON: Unterminated string starting at \(line 1, column 2\)$",
            id="unterminated-escaped-quotes",
        ),
        pytest.param(
            b'["'
            + b'\\"' * (DEFAULT_LIMITS.max_document_bytes // 2 - 40)
            + b'",'
            + b"[" * 40,
            r"^nesting deeper than 32 levels$",
            id="escaped-quotes-then-deep",
        ),
        pytest.param(
            b'"' * DEFAULT_LIMITS.max_document_bytes,
            r"^invalid JSON: Extra data",
            id="only-quotes",
        ),
    ],
)
def test_hostile_document_at_the_size_limit(raw: bytes, message: str) -> None:
    # Regression (issue 9, item 6): these took minutes to hours in the pre-scan.
    assert len(raw) <= DEFAULT_LIMITS.max_document_bytes
    with pytest.raises(InvalidInputError) as info:
        parse_json(raw, file="x.json")
    assert re.search(message, info.value.message), info.value.message


def test_huge_int_rejected_even_without_interpreter_limit() -> None:
    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        with pytest.raises(InvalidInputError, match="more than 4300 digits"):
            parse_json(b"7" * 10_000, file="x.json")
    finally:
        sys.set_int_max_str_digits(before)


def test_huge_int_with_a_stricter_interpreter_limit() -> None:
    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(1000)
    try:
        with pytest.raises(InvalidInputError) as info:
            parse_json(b"[" + b"7" * 1001 + b"]", file="x.json")
        assert info.value.message == "integer with more than 1000 digits"
        assert parse_json(b"7" * 1000, file="x.json") == int("7" * 1000)
    finally:
        sys.set_int_max_str_digits(before)


@pytest.mark.parametrize(
    ("path", "rendered"),
    [
        pytest.param((), "", id="root"),
        pytest.param(("vendors", 0, "anchors"), "vendors[0].anchors", id="mixed"),
        pytest.param((0, "a"), "[0].a", id="leading-index"),
        pytest.param(("subject", 0, "digest"), "subject[0].digest", id="subject"),
        pytest.param(("a", "b c"), 'a["b c"]', id="quoted"),
        pytest.param(("a", "x\ny"), 'a["x\\ny"]', id="newline-stays-one-line"),
        pytest.param(("sha-256", "_type"), "sha-256._type", id="dash-underscore"),
    ],
)
def test_render_path(path: tuple[str | int, ...], rendered: str) -> None:
    assert render_path(path) == rendered


def test_long_duplicate_key_is_shortened() -> None:
    key = "k" * 500
    raw = json.dumps({"a": 1}).replace('"a"', f'"{key}": 1, "{key}"').encode()
    with pytest.raises(InvalidInputError) as info:
        parse_json(raw, file="x.json")
    assert len(str(info.value)) < 120


# ---------------------------------------------------------------------------- read


def test_read_document_returns_exact_bytes(tmp_path: Path) -> None:
    data = b'{"a": 1}\r\n\x00\xff'
    target = tmp_path / "doc.json"
    target.write_bytes(data)
    assert read_document(target) == data


def test_read_document_follows_symlinks(tmp_path: Path) -> None:
    target = tmp_path / "doc.json"
    target.write_bytes(b"{}")
    link = tmp_path / "link.json"
    try:
        link.symlink_to(target)
    except OSError:  # pragma: no cover - e.g. Windows without privilege
        pytest.skip("symlinks not available")
    assert read_document(link) == b"{}"


def test_read_document_limit(tmp_path: Path) -> None:
    limits = Limits(max_document_bytes=10)
    exact = tmp_path / "exact"
    exact.write_bytes(b"x" * 10)
    assert read_document(exact, limits=limits) == b"x" * 10
    big = tmp_path / "big"
    big.write_bytes(b"x" * 11)
    with pytest.raises(InvalidInputError, match=r"too large") as info:
        read_document(big, limits=limits)
    assert info.value.file == str(big)


def test_read_document_rejects_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as info:
        read_document(tmp_path)
    assert info.value.file == str(tmp_path)
    assert info.value.message in {
        "not a regular file",
        "cannot read: Permission denied",
    }


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_read_document_rejects_fifo_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(InvalidInputError) as info:
        read_document(fifo)
    assert info.value.message == "not a regular file"


def test_read_document_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(InvalidInputError) as info:
        read_document(missing)
    assert info.value.message == "cannot read: No such file or directory"
    assert info.value.file == str(missing)


# ---------------------------------------------------------------------------- dump


def test_dump_json_is_deterministic() -> None:
    data = {"b": [1, {"y": None, "x": True}], "a": "é"}
    expected = (
        '{\n  "a": "é",\n  "b": [\n    1,\n    {\n      "x": true,\n      "y": null\n'
        "    }\n  ]\n}\n"
    ).encode()
    assert dump_json(data) == expected
    assert dump_json(json.loads(dump_json(data))) == expected


def test_dump_json_rejects_nan() -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        dump_json({"a": float("nan")})


def test_canonical_json() -> None:
    data = {"b": "é", "a": [1, True, None, {"d": 0, "c": "x"}]}
    assert (
        canonical_json(data) == '{"a":[1,true,null,{"c":"x","d":0}],"b":"é"}'.encode()
    )


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(1.5, id="float"),
        pytest.param({"a": [{"b": 0.0}]}, id="nested-float"),
        pytest.param((1, 2.0), id="float-in-tuple"),
        pytest.param({1: "a"}, id="int-key"),
        pytest.param({"a": "\ud800"}, id="lone-surrogate"),
    ],
)
def test_canonical_json_rejects(data: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - several messages
        canonical_json(data)


# --------------------------------------------------------------------------- write


def _entries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_write_atomic_creates_exact_file(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    data = b'{"a": 1}\n\x00\xff'
    write_atomic(target, data)
    assert target.read_bytes() == data
    assert _entries(tmp_path) == ["out.json"]
    if sys.platform != "win32":
        assert stat.S_IMODE(target.stat().st_mode) == 0o644


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_write_atomic_mode(tmp_path: Path) -> None:
    target = tmp_path / "key.pem"
    write_atomic(target, b"secret", mode=0o600)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_write_atomic_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_bytes(b"old")
    with pytest.raises(OutputError) as info:
        write_atomic(target, b"new")
    assert str(info.value) == f"{target}: exists (use --force to overwrite)"
    assert target.read_bytes() == b"old"
    assert _entries(tmp_path) == ["out.json"]


def test_write_atomic_force_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_bytes(b"old content that is longer")
    write_atomic(target, b"new", force=True)
    assert target.read_bytes() == b"new"
    assert _entries(tmp_path) == ["out.json"]


def test_write_atomic_missing_directory(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "out.json"
    with pytest.raises(OutputError, match=r"cannot write: No such file or directory$"):
        write_atomic(target, b"data")
    assert _entries(tmp_path) == []


@pytest.mark.parametrize(
    "force", [pytest.param(False, id="plain"), pytest.param(True, id="force")]
)
def test_write_atomic_target_is_directory(tmp_path: Path, force: bool) -> None:
    target = tmp_path / "out.json"
    target.mkdir()
    (target / "keep").write_bytes(b"x")
    with pytest.raises(OutputError, match=str(target).replace("\\", "\\\\")):
        write_atomic(target, b"data", force=force)
    assert _entries(tmp_path) == ["out.json"]
    assert _entries(target) == ["keep"]


def test_write_atomic_failure_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(_fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    target = tmp_path / "out.json"
    with pytest.raises(OutputError, match=r"cannot write: No space left on device$"):
        write_atomic(target, b"data")
    assert _entries(tmp_path) == []


@pytest.mark.parametrize(
    "exists", [pytest.param(False, id="new"), pytest.param(True, id="exists")]
)
def test_write_atomic_without_hard_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exists: bool
) -> None:
    def no_links(_src: object, _dst: object) -> None:
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "out.json"
    if exists:
        target.write_bytes(b"old")
        with pytest.raises(OutputError, match="exists"):
            write_atomic(target, b"new")
        assert target.read_bytes() == b"old"
    else:
        write_atomic(target, b"new")
        assert target.read_bytes() == b"new"
    assert _entries(tmp_path) == ["out.json"]


def test_write_atomic_other_link_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def read_only(_src: object, _dst: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(os, "link", read_only)
    target = tmp_path / "out.json"
    with pytest.raises(OutputError, match="Read-only file system"):
        write_atomic(target, b"new")
    assert _entries(tmp_path) == []


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        pytest.param("a\0b.json", "/a\\x00b.json'", id="nul"),
        pytest.param("a\ud800.json", "/a\\ud800.json'", id="lone-surrogate"),
    ],
)
def test_read_document_unrepresentable_name(
    tmp_path: Path, name: str, shown: str
) -> None:
    # Regression (issue 9, item 4): ValueError / UnicodeEncodeError from os.open.
    with pytest.raises(InvalidInputError) as info:
        read_document(tmp_path / name)
    assert info.value.message == "cannot read: not a valid file name"
    assert info.value.file == repr(str(tmp_path / name))
    assert info.value.file.endswith(shown)
    str(info.value).encode("utf-8")  # printable: no lone surrogate reaches the output
