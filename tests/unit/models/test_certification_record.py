"""Certified versions of an operator-attested record: exact versions and ranges."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from tests import certs, pki
from vendorproof._internal import crypto
from vendorproof._internal.jsonio import canonical_json
from vendorproof.errors import InvalidInputError, SignatureError
from vendorproof.models.certification import check_certificate_id
from vendorproof.models.certification_record import (
    RECORD_PAYLOAD_TYPE,
    StatusRecord,
    open_record,
    open_status,
    seal_record,
    seal_status,
    version_covered,
)
from vendorproof.models.envelope import pae


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


def _key() -> crypto.SigningKey:
    new = pki.new_key("ed25519")
    assert not isinstance(new, str)
    return crypto.as_signing_key(new, file="desk")


def _envelope(statement: dict[str, Any], key: crypto.SigningKey, ptype: str) -> bytes:
    payload = canonical_json(statement)
    sig = crypto.sign(key, pae(ptype, payload))
    return canonical_json(
        {
            "payload": base64.b64encode(payload).decode(),
            "payloadType": ptype,
            "signatures": [{"sig": base64.b64encode(sig).decode()}],
        }
    )


def _public(key: crypto.SigningKey) -> tuple[crypto.PublicKey, ...]:
    return (crypto.as_public_key(key.public_key()),)


def test_open_record_refuses_what_is_not_a_record() -> None:
    key = _key()
    keys = _public(key)
    with pytest.raises(InvalidInputError, match="not a DSSE envelope"):
        open_record(b"[]", keys, file="r")
    statement = certs.record().statement()
    with pytest.raises(InvalidInputError, match="payload type 'text/plain'"):
        open_record(_envelope(statement, key, "text/plain"), keys, file="r")
    status = StatusRecord(
        role=certs.ROLE,
        certificate_id="N-1",
        status="withdrawn",
        as_of=datetime(2026, 5, 1, tzinfo=UTC),
        source="x",
        record_name="certification-record:N-1",
        record_sha256="0" * 64,
    )
    with pytest.raises(InvalidInputError, match="expected predicate type"):
        open_record(seal_status(status, key), keys, file="r")
    with pytest.raises(SignatureError):
        open_record(seal_record(certs.record(), key), _public(_key()), file="r")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"certificationBody": {"name": "x"}}, "certificationBody.accreditationId"),
        ({"source": {"name": "x", "sha256": "ABC"}}, "source.sha256"),
        ({"attestation": {"by": "operator"}}, "attestation.role"),
        ({"issued": "2032-01-01T00:00:00Z"}, "issued after the end of validity"),
    ],
)
def test_malformed_record_predicates(change: dict[str, Any], message: str) -> None:
    key = _key()
    statement = certs.record().statement()
    statement["predicate"].update(change)
    raw = _envelope(statement, key, RECORD_PAYLOAD_TYPE)
    with pytest.raises(InvalidInputError, match=message):
        open_record(raw, _public(key), file="r")


def test_record_subject_must_be_the_source() -> None:
    key = _key()
    statement = certs.record().statement()
    statement["subject"][0]["digest"]["sha256"] = "1" * 64
    raw = _envelope(statement, key, RECORD_PAYLOAD_TYPE)
    with pytest.raises(InvalidInputError, match="subject must be the source"):
        open_record(raw, _public(key), file="r")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"predicate": {"status": "revoked"}}, "revoked"),
        ({"predicate": {"extra": 1}}, "extra"),
        ({"subject": "two"}, "the one record"),
    ],
)
def test_malformed_status_records(change: dict[str, Any], message: str) -> None:
    key = _key()
    status = StatusRecord(
        role=certs.ROLE,
        certificate_id="N-1",
        status="withdrawn",
        as_of=datetime(2026, 5, 1, tzinfo=UTC),
        source="x",
        record_name="certification-record:N-1",
        record_sha256="0" * 64,
    )
    statement = status.statement()
    if "predicate" in change:
        statement["predicate"].update(change["predicate"])
    else:
        statement["subject"] = statement["subject"] * 2
    raw = _envelope(statement, key, RECORD_PAYLOAD_TYPE)
    with pytest.raises(InvalidInputError, match=message):
        open_status(raw, _public(key), file="s")
    assert open_status(seal_status(status, key), _public(key), file="s") == status


# EUCC certificate ids: Art. 11(3)(b) of Implementing Regulation (EU) 2024/482.


@pytest.mark.parametrize(
    ("certificate_id", "issued"),
    [
        # Spellings certification bodies and ENISA's pages use.
        ("EUCC-3090-2025-10-0003", datetime(2025, 10, 6, tzinfo=UTC)),
        ("EUCC-ANSSI-2025-3-2", datetime(2025, 3, 20, tzinfo=UTC)),
        ("EUCC-3110-2025-08-2500052-01", datetime(2025, 8, 29, tzinfo=UTC)),
        ("EUCC-3095-2025-07-01", datetime(2025, 7, 1, tzinfo=UTC)),
        # A date written in a zone ahead of UTC: 1 November there, 31 October in UTC.
        ("EUCC-3090-2025-11-7", datetime(2025, 10, 31, 22, tzinfo=UTC)),
        # ... and behind it: 31 December there, 1 January in UTC.
        ("EUCC-3090-2025-12-8", datetime(2026, 1, 1, 3, tzinfo=UTC)),
    ],
)
def test_eucc_ids_of_the_prescribed_structure(
    certificate_id: str, issued: datetime
) -> None:
    rec = certs.record(scheme="EUCC", certificate_id=certificate_id, issued=issued)
    assert rec.certificate_id == certificate_id
    check_certificate_id("EUCC", certificate_id, None)


@pytest.mark.parametrize(
    ("certificate_id", "message"),
    [
        ("NESAS-2026-0042", "not the unique identification of an EUCC certificate"),
        ("eucc-3090-2025-10-0003", "not the unique identification"),
        ("EUCC-3090-2025-10", "not the unique identification"),  # no number
        ("EUCC--2025-10-0003", "not the unique identification"),  # no body
        ("EUCC-3090-25-10-0003", "not the unique identification"),  # 2-digit year
        ("EUCC 3090 2025 10 0003", "not the unique identification"),
        ("EUCC-3090-2025-10-0003-", "not the unique identification"),
        ("EUCC-3090-2025-13-0003", "names no month of issuance"),
        ("EUCC-3090-2025-0-0003", "names no month of issuance"),
        # ENISA's portal number: year, yearly number, modification; no month.
        ("EUCC-3090-2025-0000000004-00002", "ENISA portal's yearly number"),
        # Issued in January 2026, not in October 2025.
        ("EUCC-3090-2025-10-0003", "names issuance in 2025-10, but the certificate"),
    ],
)
def test_eucc_ids_that_do_not_fit_are_refused(
    certificate_id: str, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message) as e:
        certs.record(scheme="EUCC", certificate_id=certificate_id)
    assert e.value.path == "certificateId"
    assert "2024/482" in str(e.value)
    assert "\n" not in str(e.value)


def test_other_schemes_prescribe_no_id_structure() -> None:
    for scheme in ("NESAS", "BSI-NESAS-CCS-GI", "CC", "BSZ"):
        check_certificate_id(scheme, "EUCC-3090-2025-99-x", None)
        check_certificate_id(
            scheme, "anything at all", datetime(2026, 1, 1, tzinfo=UTC)
        )


def test_a_signed_record_with_a_bad_eucc_id_does_not_open() -> None:
    key = _key()
    statement = certs.record(
        scheme="EUCC",
        certificate_id="EUCC-3090-2026-01-0042",
    ).statement()
    statement["predicate"]["certificateId"] = "EUCC-3090-2026-0000000042-00000"
    raw = _envelope(statement, key, RECORD_PAYLOAD_TYPE)
    with pytest.raises(InvalidInputError, match=r"predicate\.certificateId") as e:
        open_record(raw, _public(key), file="r")
    assert str(e.value).startswith("r: predicate.certificateId: ")


@pytest.mark.parametrize(
    ("certificate_id", "issued", "fits"),
    [
        ("EUCC-3090-0001-01-0001", datetime(1, 1, 1, tzinfo=UTC), True),
        ("EUCC-3090-9999-12-0001", datetime(9999, 12, 31, 23, tzinfo=UTC), True),
        ("EUCC-3090-2025-10-0001", datetime(1, 1, 1, 5, tzinfo=UTC), False),
        ("EUCC-3090-2025-10-0001", datetime(9999, 12, 31, 20, tzinfo=UTC), False),
    ],
)
def test_eucc_issuance_at_the_ends_of_the_calendar(
    certificate_id: str, issued: datetime, fits: bool
) -> None:
    """Issuance 12 hours from the first or last representable instant: the zones
    beyond the calendar name no month (no OverflowError)."""
    if fits:
        check_certificate_id("EUCC", certificate_id, issued)
    else:
        with pytest.raises(InvalidInputError, match="names issuance in 2025-10"):
            check_certificate_id("EUCC", certificate_id, issued)
