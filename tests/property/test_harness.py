"""The property-test contract itself: what passes and what fails it."""

from __future__ import annotations

import warnings

import pytest

from tests.property import _harness
from tests.property._harness import UnexpectedError, parses
from tests.property._mutate import Tlv, parse_der
from tests.property._seeds import certificate_chain, crl_der, timestamp_der
from vendorproof.errors import InvalidInputError, SignatureError


class _Panic(BaseException):
    """Stands in for pyo3's PanicException, which is not an Exception."""


def _raise(exc: BaseException) -> None:
    raise exc


def test_a_result_passes() -> None:
    assert parses(lambda: 42) == 42


@pytest.mark.parametrize("error", [InvalidInputError("bad"), SignatureError("no")])
def test_a_project_error_passes(error: Exception) -> None:
    assert parses(_raise, error) is error


@pytest.mark.parametrize(
    "exc", [KeyError("k"), ValueError("v"), RecursionError(), _Panic("rust panicked")]
)
def test_any_other_exception_fails(exc: BaseException) -> None:
    with pytest.raises(UnexpectedError, match=type(exc).__qualname__):
        parses(_raise, exc)


def test_a_warning_is_not_a_failure() -> None:
    def warn() -> int:
        warnings.warn("odd attribute length", UserWarning, stacklevel=1)
        return 1

    assert parses(warn) == 1


def test_memory_beyond_the_bound_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_harness, "MEMORY_BASE", 1024 * 1024)
    monkeypatch.setattr(_harness, "MEMORY_PER_INPUT_BYTE", 0)
    small = parses(lambda: bytearray(512 * 1024))
    assert isinstance(small, bytearray)
    with pytest.raises(UnexpectedError, match="peak Python heap"):
        parses(lambda: bytearray(4 * 1024 * 1024))


@pytest.mark.parametrize(
    "der", [*certificate_chain(), crl_der(), timestamp_der()], ids=range(5)
)
def test_der_trees_re_encode_exactly(der: bytes) -> None:
    """Unedited trees give back the seed, so every edit is the only change."""
    tree = parse_der(der)
    assert tree.children is not None
    assert tree.encode() == der


def test_a_long_der_length_is_re_encoded() -> None:
    assert Tlv(0x04, b"x" * 300).encode()[:4] == b"\x04\x82\x01\x2c"
