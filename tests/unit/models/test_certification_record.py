"""Certified versions of an operator-attested record: exact versions and ranges."""

from __future__ import annotations

import pytest

from tests import certs
from vendorproof.errors import InvalidInputError
from vendorproof.models.certification_record import version_covered


@pytest.mark.parametrize(
    ("versions", "version", "covered"),
    [
        (("24.1.3",), "24.1.3", True),
        (("24.1.3",), "24.1.4", False),
        ((">=24.1,<25",), "24.1.3", True),
        ((">=24.1,<25",), "24.1", True),
        ((">=24.1,<25",), "25.0", False),
        ((">=24.1,<25",), "24.0.9", False),
        ((">24.1.3",), "24.1.3", False),
        (("<=24.1.3",), "24.1.3", True),
        (("==24.1",), "24.1.0", True),
        ((">=24.1",), "24.1.3-rc1", False),  # not dotted numeric: exact only
        (("24.1.3-rc1",), "24.1.3-rc1", True),
        (("23.0", ">=24,<24.2"), "24.1.3", True),
    ],
)
def test_version_covered(
    versions: tuple[str, ...], version: str, covered: bool
) -> None:
    assert version_covered(versions, version) is covered


@pytest.mark.parametrize("spec", [">=24.x", ">=24,~25", "<", ">=24;<25"])
def test_malformed_ranges_are_refused(spec: str) -> None:
    with pytest.raises(InvalidInputError, match="not a version range"):
        certs.record(versions=(spec,))
