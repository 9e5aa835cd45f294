"""Tests for strict YAML reading (policy files)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator

import pytest
import yaml

from vendorproof._internal import yamlio
from vendorproof._internal.yamlio import (
    YamlDoc,
    check_keys,
    parse_yaml_mapping,
    render_path,
)
from vendorproof.errors import InvalidInputError
from vendorproof.limits import DEFAULT_LIMITS, Limits

SMALL = Limits(max_document_bytes=64, max_depth=3)

BILLION_LAUGHS = b"""\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""

POLICY = b"""\
# vendorproof policy
version: 1
vendors:
  - id: acme
    anchors:
      - acme-root.pem
    colour: red
  - name: "Other"
"""


@pytest.mark.parametrize(
    ("raw", "limits", "message", "path"),
    [
        pytest.param(
            b"a: " + b"x" * 100 + b"\n",
            SMALL,
            r"^document too large \(more than 64 bytes\)$",
            None,
            id="oversized",
        ),
        pytest.param(
            b"a: \xff\n", None, r"^not valid UTF-8 \(byte 3\)$", None, id="invalid-utf8"
        ),
        pytest.param(
            b"\xff\xfea\x00:\x00 \x001\x00",
            None,
            r"^not valid UTF-8 \(byte 0\)$",
            None,
            id="utf16",
        ),
        pytest.param(
            BILLION_LAUGHS,
            None,
            r"^YAML aliases are not allowed \(line 2\)$",
            None,
            id="alias-bomb",
        ),
        pytest.param(
            b"a: &x 1\nb: *x\n",
            None,
            r"^YAML aliases are not allowed \(line 2\)$",
            None,
            id="scalar-alias",
        ),
        pytest.param(
            b"base: &b {x: 1}\nother:\n  <<: *b\n",
            None,
            r"^non-string key '<<' \(line 3\): YAML reads it as merge",
            "other",
            id="merge-alias",
        ),
        pytest.param(
            b"a:\n  <<: {x: 1}\n",
            None,
            r"^non-string key '<<' \(line 2\): YAML reads it as merge",
            "a",
            id="inline-merge-key",
        ),
        pytest.param(
            b"vendors:\n  - id: a\n    anchors: [x]\n    id: b\n",
            None,
            r"^duplicate key 'id' \(line 4\)$",
            "vendors[0]",
            id="duplicate-key-nested",
        ),
        pytest.param(
            b"a: 1\nb: 2\na: 3\n",
            None,
            r"^duplicate key 'a' \(line 3\)$",
            None,
            id="duplicate-key-top",
        ),
        pytest.param(
            b"a: 1\n'a': 2\n",
            None,
            r"^duplicate key 'a' \(line 2\)$",
            None,
            id="duplicate-key-quoted",
        ),
        pytest.param(
            b"a:\n  1: x\n",
            None,
            r"^non-string key '1' \(line 2\): YAML reads it as int; quote it",
            "a",
            id="int-key",
        ),
        pytest.param(
            b"on: push\n",
            None,
            r"^non-string key 'on' \(line 1\): YAML reads it as bool",
            None,
            id="bool-key",
        ),
        pytest.param(b"~: x\n", None, r"^non-string key '~'", None, id="null-key"),
        pytest.param(
            b"? [a, b]\n: x\n",
            None,
            r"^non-string key \(line 1\): a collection cannot be a key$",
            None,
            id="collection-key",
        ),
        pytest.param(
            b"a: 1\n---\nb: 2\n",
            None,
            r"^multiple YAML documents are not allowed \(line 2\)$",
            None,
            id="multiple-documents",
        ),
        pytest.param(
            b"a: " + b"[" * 10**6,
            None,
            r"^nesting deeper than 32 levels \(line 1\)$",
            None,
            id="deep-flow-10**6",
        ),
        pytest.param(
            b"".join(b"  " * i + b"k:\n" for i in range(40)),
            None,
            r"^nesting deeper than 32 levels \(line 33\)$",
            None,
            id="deep-block",
        ),
        pytest.param(
            b"a: {b: [[c]]}\n",
            SMALL,
            r"^nesting deeper than 3 levels",
            None,
            id="depth-limit",
        ),
        pytest.param(
            b"- a\n- b\n", None, r"^top level must be a mapping$", None, id="list"
        ),
        pytest.param(
            b"just text\n", None, r"^top level must be a mapping$", None, id="scalar"
        ),
        pytest.param(b"", None, r"^top level must be a mapping$", None, id="empty"),
        pytest.param(
            b"# only\n", None, r"^top level must be a mapping$", None, id="comment"
        ),
        pytest.param(
            b"a: !!python/object:os.system x\n",
            None,
            r"^unsupported YAML tag '!!python/object:os.system' \(line 1\)$",
            "a",
            id="python-object-tag",
        ),
        pytest.param(
            b"a: !!python/object/apply:os.system [echo hi]\n",
            None,
            r"^unsupported YAML tag '!!python/object/apply:os.system' \(line 1\)$",
            "a",
            id="python-apply-tag",
        ),
        pytest.param(
            b"a: !!python/name:os.system ''\n",
            None,
            r"^unsupported YAML tag '!!python/name:os.system' \(line 1\)$",
            "a",
            id="python-name-tag",
        ),
        pytest.param(
            b"a: [1, 2\n",
            None,
            r"^invalid YAML: did not find expected ',' or '\]' \(line 2, column 1\)$",
            None,
            id="syntax-error",
        ),
        pytest.param(
            b"a: 1\n b: 2\n",
            None,
            r"^invalid YAML: mapping values are not allowed in this context "
            r"\(line 2, column 3\)$",
            None,
            id="bad-indentation",
        ),
        pytest.param(
            b"a: b\n\tc: d\n",
            None,
            r"^invalid YAML: .*\(line 2, column 1\)$",
            None,
            id="tab-indentation",
        ),
        pytest.param(
            b"a: \x01\n",
            None,
            r"^invalid YAML: unacceptable character #x0001: control characters are "
            r"not allowed \(line 1, column 4\)$",
            None,
            id="control-character",
        ),
        pytest.param(
            b"a: 2024-02-30\n",
            None,
            r"^invalid '!!timestamp' value '2024-02-30' \(line 1\): day is out of range "
            r"for month$",
            "a",
            id="invalid-date",
        ),
        pytest.param(
            b"a: " + b"9" * 5000 + b"\n",
            None,
            r"^integer with more than 4300 digits \(line 1\)$",
            "a",
            id="huge-int",
        ),
        pytest.param(
            b"a: !!binary 'not base64!'\n",
            None,
            r"^unsupported YAML tag '!!binary' \(line 1\)$",
            "a",
            id="bad-binary",
        ),
    ],
)
def test_parse_yaml_rejects(
    raw: bytes, limits: Limits | None, message: str, path: str | None
) -> None:
    limits = limits or DEFAULT_LIMITS
    with pytest.raises(InvalidInputError) as info:
        parse_yaml_mapping(raw, file="policy.yaml", limits=limits)
    assert info.value.file == "policy.yaml"
    assert re.search(message, info.value.message), info.value.message
    assert info.value.path == path
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("raw", "message", "path"),
    [
        pytest.param(
            b"a: !!bool maybe\n",
            r"^invalid '!!bool' value 'maybe' \(line 1\)$",
            "a",
            id="bool-garbage",
        ),
        pytest.param(
            b"a: !!timestamp yesterday\n",
            r"^invalid '!!timestamp' value 'yesterday' \(line 1\)$",
            "a",
            id="timestamp-garbage",
        ),
        pytest.param(
            b"a:\n  - !!timestamp 2024-13-45\n",
            r"^invalid '!!timestamp' value '2024-13-45' \(line 2\): month must be in "
            r"1..12$",
            "a[0]",
            id="timestamp-out-of-range",
        ),
        pytest.param(
            b"a: !!float abc\n",
            r"^invalid '!!float' value 'abc' \(line 1\): could not convert",
            "a",
            id="float-garbage",
        ),
        pytest.param(
            b"a: !!int ''\n",
            r"^invalid '!!int' value '' \(line 1\)$",
            "a",
            id="int-empty",
        ),
        pytest.param(
            b"a: !!int 0xZZ\n",
            r"^invalid '!!int' value '0xZZ' \(line 1\): invalid literal",
            "a",
            id="int-garbage",
        ),
        pytest.param(
            b"a: !!int " + b"1:" * 3000 + b"1\n",
            r"^integer with more than 4300 digits \(line 1\)$",
            "a",
            id="base-60-int",
        ),
        pytest.param(
            b"a: {b: .nan}\n",
            r"^number is not finite: '.nan' \(line 1\)$",
            "a.b",
            id="nan",
        ),
        pytest.param(
            b"a: [-.inf]\n",
            r"^number is not finite: '-.inf' \(line 1\)$",
            "a[0]",
            id="negative-infinity",
        ),
        pytest.param(
            b"a: 1.0e+999\n",
            r"^number is not finite: '1.0e\+999' \(line 1\)$",
            "a",
            id="float-overflow",
        ),
        pytest.param(
            b"a: !!set {x, y}\n",
            r"^unsupported YAML tag '!!set' \(line 1\)$",
            "a",
            id="set-tag",
        ),
        pytest.param(
            b"a: !!omap [x: 1]\n",
            r"^unsupported YAML tag '!!omap' \(line 1\)$",
            "a",
            id="omap-tag",
        ),
        pytest.param(
            b"a: !!str [x]\n",
            r"^unsupported YAML tag '!!str' \(line 1\)$",
            "a",
            id="str-tag-on-sequence",
        ),
        pytest.param(
            b"a: !custom x\n",
            r"^unsupported YAML tag '!custom' \(line 1\)$",
            "a",
            id="local-tag",
        ),
        pytest.param(
            b"a:\n  - b: 1\n    c: {d: 1, d: 2}\n",
            r"^duplicate key 'd' \(line 3\)$",
            "a[0].c",
            id="duplicate-key-in-flow-mapping",
        ),
        pytest.param(
            b"a: 1\n!!str a: 2\n",
            r"^duplicate key 'a' \(line 2\)$",
            None,
            id="duplicate-key-tagged",
        ),
        pytest.param(
            b"a: caf\xc3\xa9 \x01\n",
            r"^invalid YAML: unacceptable character #x0001: .* \(line 1, column 9\)$",
            None,
            id="control-character-after-non-ascii",
        ),
    ],
)
def test_parse_yaml_rejects_scalars_that_do_not_construct(
    raw: bytes, message: str, path: str | None
) -> None:
    # Regression (issue 9, items 4 and 11): tagged scalars crashed with KeyError,
    # AttributeError or IndexError from PyYAML's constructors; .nan was accepted.
    with pytest.raises(InvalidInputError) as info:
        parse_yaml_mapping(raw, file="policy.yaml")
    assert info.value.file == "policy.yaml"
    assert re.search(message, info.value.message), info.value.message
    assert info.value.path == path
    assert "\n" not in str(info.value)


def test_node_count_is_limited_while_reading() -> None:
    limits = Limits(max_yaml_nodes=10)
    raw = b"a: [" + b"x, " * 20 + b"]\n"
    with pytest.raises(InvalidInputError) as info:
        parse_yaml_mapping(raw, file="p.yaml", limits=limits)
    assert info.value.message == "more than 10 YAML nodes (line 1)"
    ok = b"a: [" + b"x, " * 7 + b"]\n"  # mapping, key, sequence and 7 items
    assert parse_yaml_mapping(ok, file="p.yaml", limits=limits).data == {"a": ["x"] * 7}


def test_yaml_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Regression (issue 9, item 6): the document was parsed three times (events,
    # node tree, safe_load). Only the one event stream may read it now.
    def forbidden(*_args: object, **_kwargs: object) -> object:
        pytest.fail("the document must be read in one pass over its events")

    expected = len(list(yaml.parse(POLICY.decode(), Loader=yaml.SafeLoader)))
    for name in ("parse", "compose", "compose_all", "load", "safe_load", "load_all"):
        monkeypatch.setattr(yaml, name, forbidden)
    events = 0
    real = yamlio._events

    def counting(text: str) -> Iterator[yaml.Event]:
        nonlocal events
        for event in real(text):
            events += 1
            yield event

    monkeypatch.setattr(yamlio, "_events", counting)
    doc = parse_yaml_mapping(POLICY, file="policy.yaml")
    assert doc.data["vendors"][0]["id"] == "acme"
    assert events == expected - 1  # every event read once, up to the stream end


def test_alias_bomb_is_rejected_at_the_first_alias(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Nothing is expanded: reading stops at the first alias event.
    events: list[yaml.Event] = []
    real = yamlio._events

    def recording(text: str) -> Iterator[yaml.Event]:
        for event in real(text):
            events.append(event)
            yield event

    monkeypatch.setattr(yamlio, "_events", recording)
    with pytest.raises(InvalidInputError, match="aliases"):
        parse_yaml_mapping(BILLION_LAUGHS, file="bomb.yaml")
    assert isinstance(events[-1], yaml.AliasEvent)
    assert len(events) < 20


def test_parse_yaml_mapping_values_and_lines() -> None:
    doc = parse_yaml_mapping(POLICY, file="policy.yaml")
    assert doc.file == "policy.yaml"
    assert doc.data == {
        "version": 1,
        "vendors": [
            {"id": "acme", "anchors": ["acme-root.pem"], "colour": "red"},
            {"name": "Other"},
        ],
    }
    assert doc.line_of(()) == 2
    assert doc.line_of(("version",)) == 2
    assert doc.line_of(("vendors",)) == 3
    assert doc.line_of(("vendors", 0)) == 4
    assert doc.line_of(("vendors", 0, "id")) == 4
    assert doc.line_of(("vendors", 0, "anchors")) == 5
    assert doc.line_of(("vendors", 0, "anchors", 0)) == 6
    assert doc.line_of(("vendors", 0, "colour")) == 7
    assert doc.line_of(("vendors", 1, "name")) == 8
    assert doc.line_of(("vendors", 2)) is None
    assert doc.line_of(("nope",)) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(b"\xef\xbb\xbfa: 1\n", {"a": 1}, id="bom"),
        pytest.param(b"'1': x\n\"yes\": y\n", {"1": "x", "yes": "y"}, id="quoted-keys"),
        pytest.param(b"a: {}\nb: []\n", {"a": {}, "b": []}, id="empty-collections"),
        pytest.param(b"---\na: 1\n...\n", {"a": 1}, id="explicit-document"),
        pytest.param(b"a: &anchor 1\n", {"a": 1}, id="unused-anchor"),
        pytest.param(b"a: [b, [c]]\n", {"a": ["b", ["c"]]}, id="depth-3-at-limit-3"),
        pytest.param(
            b"d: 2024-01-31\n", {"d": dt.date(2024, 1, 31)}, id="safe-load-date"
        ),
        pytest.param(b"k: caf\xc3\xa9\n", {"k": "café"}, id="utf8"),
        pytest.param(b"x: !!str 1\n", {"x": "1"}, id="str-tag"),
    ],
)
def test_parse_yaml_mapping_accepts(raw: bytes, expected: dict[str, object]) -> None:
    limits = SMALL if "[b, [c]]" in raw.decode("utf-8-sig") else Limits()
    assert parse_yaml_mapping(raw, file="p.yaml", limits=limits).data == expected


def test_yaml_doc_is_frozen() -> None:
    doc = parse_yaml_mapping(b"a: 1\n", file="p.yaml")
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.file = "other"  # type: ignore[misc]


def test_yaml_doc_without_lines() -> None:
    assert YamlDoc(data={}, file="x").line_of(()) is None


# ---------------------------------------------------------------------- check_keys

KNOWN = frozenset({"id", "anchors", "name"})


def test_check_keys_accepts_known_and_present() -> None:
    doc = parse_yaml_mapping(POLICY, file="policy.yaml")
    check_keys(
        doc,
        doc.data["vendors"][1],
        at=("vendors", 1),
        known=KNOWN,
        required=frozenset({"name"}),
    )


@pytest.mark.parametrize(
    ("at", "known", "required", "message", "path"),
    [
        pytest.param(
            ("vendors", 0),
            KNOWN,
            frozenset(),
            "unknown key 'colour' (line 7)",
            "vendors[0]",
            id="unknown-key",
        ),
        pytest.param(
            ("vendors", 1),
            KNOWN,
            frozenset({"name", "id"}),
            "missing required key 'id' (line 8)",
            "vendors[1]",
            id="missing-key",
        ),
        pytest.param(
            (),
            frozenset({"vendors"}),
            frozenset(),
            "unknown key 'version' (line 2)",
            None,
            id="unknown-top-level",
        ),
        pytest.param(
            (),
            frozenset({"version", "vendors", "trust"}),
            frozenset({"trust", "vendors", "zeta"}),
            "missing required key 'trust' (line 2)",
            None,
            id="first-missing-sorted",
        ),
    ],
)
def test_check_keys_rejects(
    at: tuple[str | int, ...],
    known: frozenset[str],
    required: frozenset[str],
    message: str,
    path: str | None,
) -> None:
    doc = parse_yaml_mapping(POLICY, file="policy.yaml")
    mapping: object = doc.data
    for part in at:
        mapping = mapping[part]  # type: ignore[index]
    assert isinstance(mapping, dict)
    with pytest.raises(InvalidInputError) as info:
        check_keys(doc, mapping, at=at, known=known, required=required)
    assert info.value.message == message
    assert info.value.path == path
    assert info.value.file == "policy.yaml"
    expected = f"policy.yaml: {path}: {message}" if path else f"policy.yaml: {message}"
    assert str(info.value) == expected


def test_check_keys_without_line() -> None:
    doc = parse_yaml_mapping(b"a: 1\n", file="p.yaml")
    with pytest.raises(InvalidInputError) as info:
        check_keys(doc, {"zz": 1}, at=("elsewhere",), known=frozenset())
    assert info.value.message == "unknown key 'zz'"
    assert info.value.path == "elsewhere"


def test_render_path_is_reexported() -> None:
    assert render_path(("vendors", 0, "anchors")) == "vendors[0].anchors"
