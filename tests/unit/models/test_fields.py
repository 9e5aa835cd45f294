"""The field accessors and error locations every document parser shares."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.unit.models._support import check_error
from vendorproof.errors import InvalidInputError
from vendorproof.models import _fields as f
from vendorproof.models.statement import parse_digest_set


@pytest.mark.parametrize(
    ("parent", "at", "expected"),
    [
        pytest.param("", ("a", 0, "b"), "a[0].b", id="root"),
        pytest.param("components[1]", ("digests",), "components[1].digests", id="key"),
        pytest.param("subject", (2,), "subject[2]", id="index"),
        pytest.param("digest", ("sha-256 x",), 'digest["sha-256 x"]', id="odd-key"),
        pytest.param("digest", (), "digest", id="empty"),
    ],
)
def test_paths_are_rendered_one_way(
    parent: str, at: tuple[str | int, ...], expected: str
) -> None:
    assert f.join(parent, at) == expected
    error = f.error("bad", at)
    assert (error.under(parent) if parent else error).path == (expected or None)


def test_relocate_keeps_message_and_file() -> None:
    error = InvalidInputError("must not be empty", path="name", file="doc.json")
    moved = f.relocate(error, ("vendors", 3))
    assert (moved.message, moved.path, moved.file) == (
        "must not be empty",
        "vendors[3].name",
        "doc.json",
    )
    assert f.relocate(error, ()) is error


def test_digest_algorithm_with_odd_name_is_located_like_any_key() -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_digest_set({"sha 256": 7}, "subject[0].digest")
    check_error(
        info.value,
        path='subject[0].digest["sha 256"]',
        message=r"^expected string, got integer$",
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param("x", None, id="allowed"),
        pytest.param("z", r"^'z' is not one of: x, y$", id="other-string"),
        pytest.param(["x"], r"^expected one of: x, y, got array$", id="not-a-string"),
        pytest.param(None, r"^expected one of: x, y, got null$", id="null"),
    ],
)
def test_check_choice(value: object, message: str | None) -> None:
    if message is None:
        assert f.check_choice(value, ("x", "y")) == value
        return
    with pytest.raises(InvalidInputError, match=message):
        f.check_choice(value, ("x", "y"))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(5, None, id="at-minimum"),
        pytest.param(4, r"^must be >= 5$", id="below"),
        pytest.param(True, r"^expected integer, got boolean$", id="bool"),
        pytest.param(5.0, r"^expected integer, got number$", id="float"),
    ],
)
def test_check_int(value: object, message: str | None) -> None:
    if message is None:
        assert f.check_int(value, minimum=5) == value
        return
    with pytest.raises(InvalidInputError, match=message):
        f.check_int(value, minimum=5)


def test_check_time_accepts_text_and_aware_datetimes_only() -> None:
    expected = datetime(2026, 1, 1, tzinfo=UTC)
    assert f.check_time("2026-01-01T00:00:00Z") == expected
    assert f.check_time(expected) == expected
    with pytest.raises(InvalidInputError, match=r"explicit offset"):
        f.check_time(datetime(2026, 1, 1))  # noqa: DTZ001 - the case under test
    with pytest.raises(InvalidInputError, match=r"^expected an RFC 3339 time, got"):
        f.check_time(20260101)
    with pytest.raises(InvalidInputError, match=r"^not an RFC 3339 time"):
        f.check_time("2026-01-01")


def test_check_text_refuses_blank_and_non_strings() -> None:
    assert f.check_text(" a ") == " a "
    with pytest.raises(InvalidInputError, match=r"^must not be empty$"):
        f.check_text("  ")
    with pytest.raises(InvalidInputError, match=r"^expected string, got object$"):
        f.check_text({})
