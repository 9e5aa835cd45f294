"""Vendor concentration: shares and HHI on hand-checked inventories, bad rows, HTML."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from fractions import Fraction

import pytest

from tests.builders import SAMPLE_POLICY
from vendorproof.errors import InvalidInputError
from vendorproof.intake import load_policy
from vendorproof.models.checks import CheckResult, Outcome
from vendorproof.models.inventory import parse_inventory
from vendorproof.models.policy import DenyEntry
from vendorproof.reports._records import RecordView, StoreView
from vendorproof.reports.concentration import (
    ConcentrationReport,
    Thresholds,
    concentration_report,
)

POLICY = load_policy(SAMPLE_POLICY)
AT = datetime(2027, 1, 15, tzinfo=UTC)
HEADER = "id,vendor,product,version,domain,networkFunction,instances\n"


def _accepted(vendor: str, product: str, version: str, seq: int) -> RecordView:
    ok = CheckResult(
        check="integrity",
        subject="x",
        requirements=("KAT-A2-4",),
        outcome=Outcome.PASS,
        reason="ok",
    )
    return RecordView(
        seq=seq,
        record_id=f"r{seq}",
        digest="0" * 64,
        time_verified="2027-01-15T00:00:00Z",
        verdict="PASSED",
        vendor=vendor,
        vendor_name=vendor,
        declared_vendor=vendor,
        product=product,
        version=version,
        domain="RAN",
        network_function="gNB",
        checks=(ok,),
    )


VIEW = StoreView(
    url="sqlite:///evidence.db",
    total=2,
    records=(
        _accepted("acme", "AcmeRAN gNB", "24.1.3", 1),
        _accepted("borealis", "Borealis Core", "5.0", 2),
    ),
    unverified=(),
    chain=(),
)


def _report(
    csv: str,
    *,
    high_risk: tuple[str, ...] = (),
    thresholds: Thresholds | None = None,
    deny: tuple[DenyEntry, ...] = (),
) -> ConcentrationReport:
    inv = parse_inventory((HEADER + csv).encode(), file="inv.csv")
    return concentration_report(
        inv,
        VIEW,
        inventory_file="inv.csv",
        vendors=POLICY.vendors,
        deny_list=deny,
        high_risk=high_risk,
        at=AT,
        thresholds=thresholds or Thresholds(),
    )


def test_single_vendor() -> None:
    (ran,) = _report("a,acme,AcmeRAN gNB,24.1.3,RAN,gNB,10\n").domains
    assert ran.hhi == 1
    assert ran.effective_vendors == 1
    assert ran.single_vendor
    assert ran.band == "high"
    assert ran.warnings == ("a single vendor holds all deployed weight",)


def test_two_equal_vendors() -> None:
    report = _report(
        "a,acme,AcmeRAN gNB,24.1.3,RAN,gNB,5\n"
        "b,Borealis Networks Oy,Borealis Core,5.0,RAN,gNB,5\n"
    )
    (ran,) = report.domains
    assert [v.share for v in ran.vendors] == [Fraction(1, 2), Fraction(1, 2)]
    assert ran.hhi == Fraction(1, 2)
    assert ran.effective_vendors == 2
    assert not ran.single_vendor
    # The vendor given by name maps to its policy id.
    assert {v.key for v in ran.vendors} == {"acme", "borealis"}
    data = report.to_dict()["domains"][0]
    assert data["hhi"] == 0.5
    assert data["effectiveVendors"] == 2.0


def test_dominant_vendor_and_thresholds() -> None:
    report = _report(
        "a,acme,AcmeRAN gNB,24.1.3,RAN,gNB,8\nb,borealis,Borealis Core,5.0,RAN,gNB,2\n",
        thresholds=Thresholds(max_share=Fraction(7, 10), max_hhi=Fraction(1, 2)),
    )
    (ran,) = report.domains
    # 0.8^2 + 0.2^2 = 0.68; 1 / 0.68 = 1.470588...
    assert ran.hhi == Fraction(68, 100)
    assert ran.effective_vendors == Fraction(100, 68)
    assert ran.largest_share == Fraction(4, 5)
    assert ran.warnings == (
        "largest vendor share 80.0% is above the threshold 70.0%",
        "HHI 0.6800 is above the threshold 0.5000",
    )
    assert report.to_dict()["domains"][0]["effectiveVendors"] == 1.470588


def test_high_risk_and_deny_listed_shares() -> None:
    deny = DenyEntry(
        vendor="borealis", product="Borealis Core", effective=AT, reason="test"
    )
    report = _report(
        "a,acme,AcmeRAN gNB,24.1.3,RAN,gNB,3\n"
        "b,borealis,Borealis Core,5.0,RAN,gNB,1\n"
        "c,borealis,Borealis Core,5.0,Core,AMF,4\n",
        high_risk=("borealis",),
        deny=(deny,),
    )
    ran, core = report.domains
    assert ran.high_risk_share == Fraction(1, 4)
    assert ran.deny_listed_share == Fraction(1, 4)
    assert core.high_risk_share == 1
    assert "high-risk vendors hold 25.0%" in ran.warnings
    # Per network function as well.
    assert [(p.domain, p.network_function) for p in report.functions] == [
        ("RAN", "gNB"),
        ("Core", "AMF"),
    ]


def test_capacity_weighs_when_every_row_declares_it() -> None:
    inv = parse_inventory(
        (
            b"vendor,product,version,domain,networkFunction,instances,capacity\n"
            b"acme,AcmeRAN gNB,24.1.3,RAN,gNB,1,30\n"
            b"borealis,Borealis Core,5.0,RAN,gNB,9,10\n"
        ),
        file="inv.csv",
    )
    assert inv.capacity_declared
    report = concentration_report(
        inv,
        VIEW,
        inventory_file="inv.csv",
        vendors=POLICY.vendors,
        deny_list=(),
        high_risk=(),
        at=AT,
        thresholds=Thresholds(),
    )
    assert report.weight == "capacity"
    assert report.domains[0].largest_share == Fraction(3, 4)


def test_rows_are_flagged_not_dropped() -> None:
    report = _report(
        "a,acme,AcmeRAN gNB,23.0,RAN,gNB,1\n"
        "b,Nobody Inc,Thing,1,RAN,gNB,1\n"
        "c,acme,Unknown Box,1,RAN,gNB,1\n"
    )
    kinds = [(f.where, f.kind) for f in report.flags]
    assert kinds == [
        ("row 2", "never-accepted"),
        ("row 3", "unknown-vendor"),
        ("row 4", "unknown-product"),
    ]
    (ran,) = report.domains
    # The unmapped vendor still counts, under the inventory's name.
    assert {v.key for v in ran.vendors} == {"acme", "Nobody Inc"}
    assert ran.total == 3


@pytest.mark.parametrize(
    ("rows", "needle"),
    [
        ("a,acme,P,1,RAN,gNB,1\na,acme,P,1,RAN,gNB,1\n", "duplicate instance id 'a'"),
        ("a,acme,P,1,RAN,gNB,-2\n", "row 2: instances must be a whole number"),
        ("a,acme,P,1,Radio,gNB,1\n", "row 2: domain must be one of"),
        ("a,,P,1,RAN,gNB,1\n", "row 2: vendor must be a non-empty string"),
        ("a,acme,P,1,RAN,gNB,1,extra\n", "row 2: more fields than columns"),
        ("", "lists no deployed product"),
    ],
)
def test_bad_rows_are_errors(rows: str, needle: str) -> None:
    with pytest.raises(InvalidInputError) as e:
        parse_inventory((HEADER + rows).encode(), file="inv.csv")
    assert str(e.value).startswith("inv.csv: ")
    assert needle in str(e.value)


def test_negative_capacity_and_missing_column() -> None:
    with pytest.raises(
        InvalidInputError, match="capacity must be a finite number of at least 0"
    ):
        parse_inventory(
            b"vendor,product,version,domain,networkFunction,instances,capacity\n"
            b"acme,P,1,RAN,gNB,1,-5\n",
            file="inv.csv",
        )
    with pytest.raises(InvalidInputError, match="missing CSV column 'instances'"):
        parse_inventory(b"vendor,product,version,domain,networkFunction\n", file="i")


def test_tmf639_and_cyclonedx_inventories() -> None:
    tmf = [
        {
            "id": "r1",
            "name": "AcmeRAN gNB",
            "resourceVersion": "24.1.3",
            "relatedParty": [
                {"role": "manufacturer", "name": "Acme Radio Systems GmbH"}
            ],
            "resourceCharacteristic": [
                {"name": "domain", "value": "RAN"},
                {"name": "networkFunction", "value": "gNB"},
                {"name": "instances", "value": 3},
            ],
        }
    ]
    inv = parse_inventory(json.dumps(tmf).encode(), file="tmf.json")
    assert inv.format == "tmf639"
    assert (inv.rows[0].vendor, inv.rows[0].instances) == ("Acme Radio Systems GmbH", 3)
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [
            {
                "type": "device",
                "bom-ref": "c1",
                "name": "Borealis Core",
                "version": "5.0",
                "supplier": {"name": "Borealis Networks Oy"},
                "properties": [
                    {"name": "vendorproof:domain", "value": "core"},
                    {"name": "vendorproof:networkFunction", "value": "AMF"},
                ],
            }
        ],
    }
    inv = parse_inventory(json.dumps(bom).encode(), file="bom.json")
    assert inv.format == "cyclonedx"
    row = inv.rows[0]
    assert (row.vendor, row.domain, row.instances) == (
        "Borealis Networks Oy",
        "Core",
        1,
    )
    with pytest.raises(InvalidInputError, match="resources\\[0\\]: domain"):
        parse_inventory(json.dumps([{"name": "x"}]).encode(), file="tmf.json")
    with pytest.raises(InvalidInputError, match="expected CSV, a TMF639"):
        parse_inventory(b'{"x": 1}', file="x.json")


def test_html_escapes_vendor_names_and_draws_svg() -> None:
    evil = "<script>alert(1)</script>"
    report = _report(f'a,"{evil}",P,1,RAN,gNB,1\nb,acme,AcmeRAN gNB,24.1.3,RAN,gNB,1\n')
    page = report.html()
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<svg" in page
    assert page.count('class="partition"') == 2
    text = report.text()
    assert "no policy vendor" in text
    assert "HHI 0.5000 (high)" in text


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b"\xff\xfe", "not valid UTF-8"),
        (HEADER.encode() + b'a,acme,"P,1,RAN,gNB,1\n', "not valid CSV"),
        (
            (
                b"vendor,product,version,domain,networkFunction,instances,capacity\n"
                b"acme,P,1,RAN,gNB,1,lots\n"
            ),
            "capacity must be a number",
        ),
        (
            (
                b"vendor,product,version,domain,networkFunction,instances,capacity\n"
                b"acme,P,1,RAN,gNB,1,NaN\n"
            ),
            "capacity must be a finite number of at least 0",
        ),
        (b'[{"name": "P", "relatedParty": 5}]', "relatedParty: expected a list"),
        (b'[{"name": "P", "resourceCharacteristic": {}}]', "expected a list"),
        (b"[5]", "resources[0]: expected an object"),
        (b'{"bomFormat": "CycloneDX", "components": 5}', "components: expected a list"),
        (b'{"bomFormat": "CycloneDX", "components": [5]}', "components[0]: expected"),
        (b'{"resources": []}', "lists no deployed product"),
        (
            (
                b'[{"id": "r", "name": "P", "resourceVersion": "1", "relatedParty": '
                b'[{"role": "manufacturer", "name": "acme"}], "resourceCharacteristic": '
                b'[{"name": "domain", "value": "RAN"}, {"name": "networkFunction", '
                b'"value": "gNB"}, {"name": "capacity", "value": true}]}]'
            ),
            "capacity must be a number",
        ),
        (
            (
                b'[{"id": "r", "name": "P", "resourceVersion": "1", "relatedParty": '
                b'[{"role": "manufacturer", "name": "acme"}], "resourceCharacteristic": '
                b'[{"name": "domain", "value": "RAN"}, {"name": "networkFunction", '
                b'"value": "gNB"}, {"name": "instances", "value": true}]}]'
            ),
            "instances must be a whole number",
        ),
    ],
)
def test_malformed_inventories(raw: bytes, needle: str) -> None:
    with pytest.raises(InvalidInputError) as e:
        parse_inventory(raw, file="inv")
    assert str(e.value).startswith("inv: ")
    assert needle in str(e.value)


def test_nothing_deployed_and_unmatched_thresholds() -> None:
    report = _report(
        "a,acme,AcmeRAN gNB,24.1.3,RAN,gNB,0\n",
        thresholds=Thresholds(max_share=Fraction(9, 10), max_hhi=Fraction(9, 10)),
    )
    (ran,) = report.domains
    assert ran.total == 0
    assert (ran.hhi, ran.effective_vendors, ran.band) == (None, None, "none deployed")
    assert not ran.single_vendor
    assert ran.warnings == ()
    assert "HHI - (none deployed)" in report.text()
    assert report.to_dict()["domains"][0]["hhi"] is None


def test_bands() -> None:
    rows = "".join(f"r{i},v{i},P,1,RAN,gNB,1\n" for i in range(20))
    (ran,) = _report(rows).domains
    assert ran.hhi == Fraction(1, 20)
    assert ran.band == "unconcentrated"
    rows = "".join(f"r{i},v{i},P,1,RAN,gNB,1\n" for i in range(7))
    (ran,) = _report(rows).domains
    assert ran.band == "moderate"  # 1/7 = 0.143
