"""Public certificate registers: the Common Criteria portal's product CSV (real rows
from the sec-certs project's test data) and our CSV/JSON for NESAS and BSI lists."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vendorproof.errors import InvalidInputError
from vendorproof.models.registers import read_register

CC = Path(__file__).resolve().parents[2] / "assets" / "cc-portal"


def test_cc_portal_rows() -> None:
    raw = (CC / "cc_products_active.csv").read_bytes()
    rows = read_register(raw, fmt="cc-portal", file="cc_products_active.csv")
    assert len(rows) == 4
    first = rows[0]
    assert first.where == "cc_products_active.csv:line 2"
    assert first.scheme == "CC"
    assert first.national_scheme == "SE"
    assert first.product == "NetIQ Identity Manager 4.7"
    assert first.holder_name == "NetIQ Corporation"
    assert first.assurance_level == "EAL3+,ALC_FLR.2"
    assert first.valid_from == datetime(2020, 6, 15, tzinfo=UTC)
    assert first.valid_until == datetime(2025, 6, 15, tzinfo=UTC)
    assert first.status_url is not None
    assert first.status_url.endswith("NetIQ\u00ae Identity Manager 4.7.pdf")
    assert first.certificate_id is None  # the portal lists none
    # HTML character references are decoded; "None" is no assurance level.
    assert rows[2].product == "Fortinet FortiGate w/ FortiOS v5.6.7"
    assert rows[2].assurance_level is None


def _cc(body: str) -> bytes:
    header = (
        "Category,Name,Manufacturer,Scheme,Assurance Level,Certification Date,"
        "Archived Date,Certification Report URL\r\n"
    )
    return (header + body).encode()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("x,N,M,DE,EAL4,2020-01-01,,u\r\n", "line 2, Certification Date"),
        ("x,N,M,DE,EAL4,01/02/2020,01/01/2020,u\r\n", "ends before it starts"),
        ("x,N,M,DE,EAL4,,,u\r\n", "Certification Date is empty"),
        ("x,,M,DE,EAL4,01/02/2020,,u\r\n", "must not be empty"),
        ("x,N,M\r\n", "3 fields, the header has 8"),
        ('x,"N,M,DE\r\n', "malformed CSV"),
    ],
)
def test_malformed_cc_rows_name_file_and_line(body: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as e:
        read_register(_cc(body), fmt="cc-portal", file="cc.csv")
    assert e.value.file == "cc.csv"


def test_cc_header_must_have_the_columns() -> None:
    with pytest.raises(InvalidInputError, match="lacks column"):
        read_register(b"Name,Scheme\r\nx,DE\r\n", fmt="cc-portal", file="cc.csv")
    with pytest.raises(InvalidInputError, match="empty register"):
        read_register(b"", fmt="cc-portal", file="cc.csv")
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        read_register(b"\xff\xfe", fmt="cc-portal", file="cc.csv")


OWN_HEADER = (
    "scheme,certificateId,certificationBody,holder,product,versions,"
    "assuranceLevel,issued,validFrom,validUntil,statusUrl\n"
)


def test_own_csv_and_json() -> None:
    csv_rows = read_register(
        (
            OWN_HEADER + "NESAS,NESAS-2026-0042,Example Audit Lab,Acme,AcmeRAN gNB,"
            "24.1.3;24.1.4,,2026-01-10T00:00:00Z,2026-01-15T00:00:00Z,"
            "2031-01-15T00:00:00Z,\n"
        ).encode(),
        fmt="vendorproof",
        file="nesas.csv",
    )
    assert csv_rows[0].versions == ("24.1.3", "24.1.4")
    assert csv_rows[0].certificate_id == "NESAS-2026-0042"
    assert csv_rows[0].status_url is None
    item = {
        "scheme": "BSI-NESAS-CCS-GI",
        "certificateId": "BSI-CCS-GI-0001-2026",
        "holder": "Acme",
        "product": "AcmeRAN gNB",
        "versions": ["24.1.3"],
        "validFrom": "2026-01-15T00:00:00Z",
        "validUntil": "2031-01-15T00:00:00Z",
    }
    rows = read_register(json.dumps([item]).encode(), fmt="vendorproof", file="b.json")
    assert rows[0].where == "b.json:[0]"
    assert rows[0].issued is None
    eucc = {
        **item,
        "scheme": "EUCC",
        "certificateId": "EUCC-3090-2025-10-0004",
        "issued": "2025-10-06T00:00:00Z",
    }
    rows = read_register(json.dumps([eucc]).encode(), fmt="vendorproof", file="e.json")
    assert rows[0].certificate_id == "EUCC-3090-2025-10-0004"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"scheme": "ISO9001"}, r"\[0\], scheme"),
        ({"validUntil": "2020-01-01T00:00:00Z"}, "ends before it starts"),
        ({"certificateId": ""}, r"\[0\], certificateId"),
        ({"versions": 5}, "versions"),
        ({"extra": 1}, "extra"),
        (
            {"scheme": "EUCC", "certificateId": "EUCC-3090-2025-0000000004-00002"},
            r"\[0\], certificateId: .*names no month of issuance",
        ),
        (
            {
                "scheme": "EUCC",
                "certificateId": "EUCC-3090-2025-10-0004",
                "issued": "2025-12-01T00:00:00Z",
            },
            r"\[0\], certificateId: .*names issuance in 2025-10",
        ),
    ],
)
def test_malformed_own_rows(change: dict[str, object], message: str) -> None:
    item: dict[str, object] = {
        "scheme": "NESAS",
        "certificateId": "N-1",
        "holder": "Acme",
        "product": "P",
        "validFrom": "2026-01-15T00:00:00Z",
        "validUntil": "2031-01-15T00:00:00Z",
        **change,
    }
    with pytest.raises(InvalidInputError, match=message):
        read_register(json.dumps([item]).encode(), fmt="vendorproof", file="b.json")


def test_own_json_shape_and_unknown_format() -> None:
    with pytest.raises(InvalidInputError, match="expected an object"):
        read_register(b"[1]", fmt="vendorproof", file="b.json")
    with pytest.raises(InvalidInputError, match="unknown register format"):
        read_register(b"", fmt="xml", file="b.xml")
