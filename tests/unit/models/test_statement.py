"""Tests for in-toto Statement v1 parsing (third-party schema, strict JSON)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests import builders
from tests.unit.models._support import (
    DELETE,
    Edit,
    check_error,
    mutated,
)
from vendorproof._internal.jsonio import dump_json
from vendorproof.errors import InvalidInputError
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models.manifest import MANIFEST_PREDICATE
from vendorproof.models.statement import (
    STATEMENT_TYPE,
    Statement,
    Subject,
    build_statement,
)

SHA256 = "a" * 64
SHA512 = "b" * 128

BASE: dict[str, Any] = {
    "_type": STATEMENT_TYPE,
    "subject": [
        {"name": "images/du.img", "digest": {"sha256": SHA256, "sha512": SHA512}},
        {"name": "images/cu.img", "digest": {"sha256": "c" * 64}},
    ],
    "predicateType": "https://example.com/predicate/v1",
    "predicate": {"answer": 42, "nested": {"list": [1, 2, 3]}},
}


def _raw(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode("utf-8")


def _parse_error(raw: bytes, limits: Limits = DEFAULT_LIMITS) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as excinfo:
        Statement.from_bytes(raw, limits=limits)
    return excinfo.value


# --------------------------------------------------------------------------- valid


def test_parses_a_valid_statement() -> None:
    raw = _raw(BASE)
    statement = Statement.from_bytes(raw)
    assert statement.subjects == (
        Subject(name="images/du.img", digest={"sha256": SHA256, "sha512": SHA512}),
        Subject(name="images/cu.img", digest={"sha256": "c" * 64}),
    )
    assert statement.predicate_type == "https://example.com/predicate/v1"
    assert statement.predicate == {"answer": 42, "nested": {"list": [1, 2, 3]}}
    assert statement.raw == raw


def test_parses_a_builder_manifest_statement() -> None:
    doc = builders.manifest_statement(builders.FILES, kinds=builders.KINDS)
    statement = Statement.from_bytes(dump_json(doc))
    assert statement.predicate_type == MANIFEST_PREDICATE
    assert [s.name for s in statement.subjects] == list(builders.FILES)
    for subject, data in zip(statement.subjects, builders.FILES.values(), strict=True):
        assert dict(subject.digest) == builders.digests(data)


def test_parsed_statement_is_read_only() -> None:
    statement = Statement.from_bytes(_raw(BASE))
    predicate: Any = statement.predicate
    digest: Any = statement.subjects[0].digest
    with pytest.raises(TypeError):
        predicate["answer"] = 0
    with pytest.raises(TypeError):
        digest["sha256"] = "0" * 64
    assert isinstance(statement.subjects, tuple)


def test_build_statement_round_trips() -> None:
    statement = Statement.from_bytes(_raw(BASE))
    rebuilt = build_statement(
        statement.subjects, statement.predicate_type, statement.predicate
    )
    assert rebuilt == BASE
    assert Statement.from_bytes(dump_json(rebuilt)).subjects == statement.subjects


def test_unknown_fields_are_ignored_and_raw_is_kept_exactly() -> None:
    # in-toto spec v1: consumers MUST ignore unrecognized fields.
    doc = mutated(
        BASE,
        (("futureField",), {"anything": [1, 2]}),
        (("subject", 0, "uri"), "https://example.com/du.img"),
        (("subject", 0, "annotations"), {"k": "v"}),
        (("subject", 0, "digest", "gitCommit"), "not-hex-but-unknown-algorithm"),
    )
    # Odd but valid formatting: the bytes must be kept verbatim, not re-serialized.
    raw = b"  \n" + json.dumps(doc, indent=3, sort_keys=False).encode() + b"\n\t "
    statement = Statement.from_bytes(raw)
    assert statement.raw == raw
    assert statement.raw is raw
    assert dict(statement.subjects[0].digest) == {
        "sha256": SHA256,
        "sha512": SHA512,
        "gitCommit": "not-hex-but-unknown-algorithm",
    }
    assert "futureField" not in statement.predicate


def test_unicode_is_kept_in_raw() -> None:
    doc = mutated(BASE, (("predicate", "text"), "Straße ✓"))
    raw = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    statement = Statement.from_bytes(raw)
    assert statement.raw == raw
    assert statement.predicate["text"] == "Straße ✓"


@pytest.mark.parametrize(
    ("algorithm", "length"),
    [
        pytest.param("sha256", 64, id="sha256"),
        pytest.param("sha384", 96, id="sha384"),
        pytest.param("sha512", 128, id="sha512"),
    ],
)
def test_accepts_known_digest_lengths(algorithm: str, length: int) -> None:
    doc = mutated(BASE, (("subject", 0, "digest"), {algorithm: "0f" * (length // 2)}))
    statement = Statement.from_bytes(_raw(doc))
    assert statement.subjects[0].digest == {algorithm: "0f" * (length // 2)}


# --------------------------------------------------------------- field rejections


@pytest.mark.parametrize(
    ("edits", "path", "message"),
    [
        pytest.param(
            [(("_type",), "https://in-toto.io/Statement/v0.1")],
            "_type",
            r"^unsupported statement type 'https://in-toto.io/Statement/v0.1' "
            r"\(expected https://in-toto.io/Statement/v1\)$",
            id="wrong-type",
        ),
        pytest.param(
            [(("_type",), DELETE)],
            "_type",
            r"^required field is missing$",
            id="type-missing",
        ),
        pytest.param(
            [(("_type",), True)],
            "_type",
            r"^expected string, got boolean$",
            id="type-bool",
        ),
        pytest.param(
            [(("subject",), DELETE)],
            "subject",
            r"^required field is missing$",
            id="subject-missing",
        ),
        pytest.param(
            [(("subject",), None)],
            "subject",
            r"^required field is missing$",
            id="subject-null",
        ),
        pytest.param(
            [(("subject",), [])],
            "subject",
            r"^must not be empty$",
            id="subject-empty",
        ),
        pytest.param(
            [(("subject",), {"name": "x", "digest": {"sha256": SHA256}})],
            "subject",
            r"^expected array, got object$",
            id="subject-not-a-list",
        ),
        pytest.param(
            [(("subject", 1), "images/cu.img")],
            "subject[1]",
            r"^expected object, got string$",
            id="subject-entry-not-an-object",
        ),
        pytest.param(
            [(("subject", 0, "digest"), DELETE)],
            "subject[0].digest",
            r"^expected object, got null$",
            id="subject-without-digest",
        ),
        pytest.param(
            [(("subject", 0, "digest"), {})],
            "subject[0].digest",
            r"^must contain at least one digest$",
            id="subject-empty-digest",
        ),
        pytest.param(
            [(("subject", 0, "digest"), [SHA256])],
            "subject[0].digest",
            r"^expected object, got array$",
            id="digest-not-an-object",
        ),
        pytest.param(
            [(("subject", 0, "digest", "sha256"), 12)],
            "subject[0].digest.sha256",
            r"^expected string, got integer$",
            id="digest-value-integer",
        ),
        pytest.param(
            [(("subject", 0, "digest", "sha256"), None)],
            "subject[0].digest.sha256",
            r"^expected string, got null$",
            id="digest-value-null",
        ),
        pytest.param(
            [(("subject", 0, "digest", "sha256"), True)],
            "subject[0].digest.sha256",
            r"^expected string, got boolean$",
            id="digest-value-bool",
        ),
        pytest.param(
            [(("subject", 0, "digest", "sha256"), SHA256.upper())],
            "subject[0].digest.sha256",
            r"^not lowercase hexadecimal$",
            id="uppercase-hex",
        ),
        pytest.param(
            [(("subject", 0, "digest", "sha256"), "g" * 64)],
            "subject[0].digest.sha256",
            r"^not lowercase hexadecimal$",
            id="non-hex",
        ),
        pytest.param(
            [(("subject", 0, "digest", "sha256"), "")],
            "subject[0].digest.sha256",
            r"^not lowercase hexadecimal$",
            id="empty-hex",
        ),
        pytest.param(
            [(("subject", 0, "digest", "sha256"), SHA256[:-1])],
            "subject[0].digest.sha256",
            r"^sha256 digest must have 64 hex digits, got 63$",
            id="sha256-too-short",
        ),
        pytest.param(
            [(("subject", 0, "digest", "sha256"), SHA256 + "a")],
            "subject[0].digest.sha256",
            r"^sha256 digest must have 64 hex digits, got 65$",
            id="sha256-too-long",
        ),
        pytest.param(
            [(("subject", 0, "digest", "sha512"), SHA256)],
            "subject[0].digest.sha512",
            r"^sha512 digest must have 128 hex digits, got 64$",
            id="sha512-wrong-length",
        ),
        pytest.param(
            [(("subject", 0, "digest", "sha1"), SHA256)],
            "subject[0].digest.sha1",
            r"^sha1 digest must have 40 hex digits, got 64$",
            id="sha1-wrong-length",
        ),
        pytest.param(
            [(("subject", 0, "digest", "sha256"), SHA256[:-1] + "\n")],
            "subject[0].digest.sha256",
            r"^not lowercase hexadecimal$",
            id="sha256-trailing-newline",
        ),
        pytest.param(
            [(("subject", 1, "digest", "sha256"), "C" * 64)],
            "subject[1].digest.sha256",
            r"^not lowercase hexadecimal$",
            id="second-subject-located",
        ),
        pytest.param(
            [(("subject", 0, "name"), DELETE)],
            "subject[0].name",
            r"^required field is missing$",
            id="subject-name-missing",
        ),
        pytest.param(
            [(("subject", 0, "name"), True)],
            "subject[0].name",
            r"^expected string, got boolean$",
            id="subject-name-bool",
        ),
        pytest.param(
            [(("subject", 0, "name"), "  ")],
            "subject[0].name",
            r"^must not be empty$",
            id="subject-name-blank",
        ),
        pytest.param(
            [(("predicateType",), DELETE)],
            "predicateType",
            r"^required field is missing$",
            id="predicate-type-missing",
        ),
        pytest.param(
            [(("predicateType",), False)],
            "predicateType",
            r"^expected string, got boolean$",
            id="predicate-type-bool",
        ),
        pytest.param(
            [(("predicateType",), "")],
            "predicateType",
            r"^must not be empty$",
            id="predicate-type-empty",
        ),
        pytest.param(
            [(("predicate",), DELETE)],
            "predicate",
            r"^required field is missing$",
            id="predicate-missing",
        ),
        pytest.param(
            [(("predicate",), None)],
            "predicate",
            r"^required field is missing$",
            id="predicate-null",
        ),
        pytest.param(
            [(("predicate",), [1, 2])],
            "predicate",
            r"^expected object, got array$",
            id="predicate-array",
        ),
        pytest.param(
            [(("predicate",), "text")],
            "predicate",
            r"^expected object, got string$",
            id="predicate-string",
        ),
        pytest.param(
            [(("predicate",), True)],
            "predicate",
            r"^expected object, got boolean$",
            id="predicate-bool",
        ),
    ],
)
def test_rejects_invalid_fields(edits: list[Edit], path: str, message: str) -> None:
    error = _parse_error(_raw(mutated(BASE, *edits)))
    check_error(error, path=path, message=message)
    assert not error.file  # a bare statement has no file name of its own


# ---------------------------------------------------------------- JSON rejections

_VALID = _raw(BASE)


@pytest.mark.parametrize(
    ("raw", "path", "message"),
    [
        pytest.param(
            _VALID[: len(_VALID) // 2],
            None,
            r"^invalid JSON: .* \(line 1, column \d+\)$",
            id="truncated",
        ),
        pytest.param(b"", None, r"^invalid JSON: Expecting value", id="empty"),
        pytest.param(
            b"hello, world", None, r"^invalid JSON: Expecting value", id="not-json"
        ),
        pytest.param(
            b"_type: https://in-toto.io/Statement/v1\n",
            None,
            r"^invalid JSON",
            id="yaml-not-json",
        ),
        pytest.param(
            _VALID + b" {}", None, r"^invalid JSON: Extra data", id="trailing-data"
        ),
        pytest.param(
            b"[]", "statement", r"^expected object, got array$", id="top-level-array"
        ),
        pytest.param(
            b'"statement"',
            "statement",
            r"^expected object, got string$",
            id="top-level-string",
        ),
        pytest.param(
            b"null", "statement", r"^expected object, got null$", id="top-level-null"
        ),
        pytest.param(
            b'{"_type": "x", "_type": "https://in-toto.io/Statement/v1"}',
            None,
            r"^duplicate key '_type'$",
            id="duplicate-top-level-key",
        ),
        pytest.param(
            _VALID.replace(
                f'"sha256": "{SHA256}"'.encode(),
                f'"sha256": "{SHA256}", "sha256": "{"0" * 64}"'.encode(),
            ),
            "subject[0].digest",
            r"^duplicate key 'sha256'$",
            id="duplicate-digest-key",
        ),
        pytest.param(b"[" * 10**5, None, r"^nesting deeper than 32 levels$", id="deep"),
        pytest.param(
            _VALID.replace(b'"answer": 42', b'"answer": ' + b"[" * 40 + b"]" * 40),
            None,
            r"^nesting deeper than 32 levels$",
            id="deep-inside-predicate",
        ),
        pytest.param(
            _VALID.replace(b'"answer": 42', b'"answer": NaN'),
            None,
            r"^NaN is not allowed$",
            id="nan",
        ),
        pytest.param(
            _VALID.replace(b'"answer": 42', b'"answer": 1e999'),
            None,
            r"^number out of range: '1e999'$",
            id="infinite-number",
        ),
        pytest.param(
            b"\xef\xbb\xbf" + _VALID,
            None,
            r"^UTF-8 byte order mark is not allowed$",
            id="bom",
        ),
        pytest.param(
            _VALID.replace(b"images/du.img", b"images/\xff.img"),
            None,
            r"^not valid UTF-8 \(byte \d+\)$",
            id="invalid-utf8",
        ),
        pytest.param(
            _VALID.replace(b"images/du.img", b"images/\\ud800.img"),
            None,
            r"^unpaired surrogate escape in a string$",
            id="lone-surrogate",
        ),
    ],
)
def test_rejects_malformed_json(raw: bytes, path: str | None, message: str) -> None:
    error = _parse_error(raw)
    check_error(error, path=path, message=message)
    assert not error.file


# ------------------------------------------------------------------------- limits


def test_rejects_oversized_document() -> None:
    limit = len(_VALID) - 1
    error = _parse_error(_VALID, Limits(max_document_bytes=limit))
    check_error(
        error, path=None, message=rf"^document too large \(more than {limit} bytes\)$"
    )


def test_accepts_document_of_exactly_the_size_limit() -> None:
    statement = Statement.from_bytes(
        _VALID, limits=Limits(max_document_bytes=len(_VALID))
    )
    assert statement.raw == _VALID


def test_oversized_check_runs_before_parsing() -> None:
    # Not even JSON: the size is refused before the decoder sees the bytes.
    error = _parse_error(b"[" * 100, Limits(max_document_bytes=10))
    check_error(error, path=None, message=r"^document too large")


def test_rejects_too_many_subjects() -> None:
    subjects = [{"name": f"f{i}", "digest": {"sha256": SHA256}} for i in range(3)]
    raw = _raw(mutated(BASE, (("subject",), subjects)))
    error = _parse_error(raw, Limits(max_subjects=2))
    check_error(error, path="subject", message=r"^more than 2 entries$")


def test_accepts_exactly_max_subjects() -> None:
    statement = Statement.from_bytes(_VALID, limits=Limits(max_subjects=2))
    assert len(statement.subjects) == 2


def test_custom_depth_limit_applies() -> None:
    # BASE nests four levels deep: {"subject": [{"digest": {...}}]}.
    error = _parse_error(_VALID, Limits(max_depth=3))
    check_error(error, path=None, message=r"^nesting deeper than 3 levels$")
    assert Statement.from_bytes(_VALID, limits=Limits(max_depth=4)).raw == _VALID
