"""Vendor concentration: shares and HHI on hand-checked inventories, bad rows, HTML."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from fractions import Fraction

import pytest

from tests.builders import SAMPLE_POLICY
from vendorproof.errors import InvalidInputError
from vendorproof.models.checks import CheckResult, Outcome
from vendorproof.models.inventory import parse_inventory
from vendorproof.models.policy import DenyEntry, Policy
from vendorproof.reports._records import RecordView, StoreView
from vendorproof.reports.concentration import (
    ConcentrationReport,
    concentration_report,
)

#: The sample policy without its concentration section.
BASE = SAMPLE_POLICY.read_text("utf-8").split("\n# Vendor concentration report")[0]


def policy(section: str = "", *, file: str = "policy.yaml") -> Policy:
    """The sample policy with ``section`` (YAML) as its concentration section."""
    raw = (BASE + "\n" + section).encode()
    return Policy.from_yaml(
        raw, file=file, resolve=lambda ref: (SAMPLE_POLICY.parent / ref).read_bytes()
    )


POLICY = policy()
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
    csv: str, *, section: str = "", deny: tuple[DenyEntry, ...] = ()
) -> ConcentrationReport:
    inv = parse_inventory((HEADER + csv).encode(), file="inv.csv")
    pol = dataclasses.replace(policy(section), deny_list=deny)
    return concentration_report(inv, VIEW, inventory_file="inv.csv", policy=pol, at=AT)


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
        section="concentration: {maxShare: 0.7, maxHhi: 0.5}\n",
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
        section="concentration:\n  highRisk: [borealis]\n",
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
        policy=POLICY,
        at=AT,
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
        # A digit to str.isdigit, not to int(); another script's digit.
        (HEADER.encode() + "a,acme,P,1,RAN,gNB,\u00b2\n".encode(), "instances must"),
        (HEADER.encode() + "a,acme,P,1,RAN,gNB,\u0663\n".encode(), "instances must"),
        # Capacities whose exact shares would be numbers of a billion digits.
        (
            (
                b"vendor,product,version,domain,networkFunction,instances,capacity\n"
                b"acme,P,1,RAN,gNB,1,1E999\nborealis,Q,1,RAN,gNB,1,4\n"
            ),
            "capacity must be at most 1,000,000,000,000,000 with at most 12",
        ),
        (
            (
                b"vendor,product,version,domain,networkFunction,instances,capacity\n"
                b"acme,P,1,RAN,gNB,1,1e-999999999\n"
            ),
            "capacity must be at most",
        ),
        # A quote left open in the header itself.
        (b'"' + HEADER.encode(), "not valid CSV"),
        # A CycloneDX property named by something other than a string names nothing.
        (
            (
                b'{"bomFormat": "CycloneDX", "components": [{"name": "P", '
                b'"version": "1", "supplier": {"name": "acme"}, "properties": '
                b'[{"name": "vendorproof:domain", "value": "RAN"}, '
                b'{"name": ["vendorproof:networkFunction"], "value": "gNB"}]}]}'
            ),
            "components[0]: networkFunction must be a non-empty string",
        ),
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
        section="concentration: {maxShare: 0.9, maxHhi: 0.9}\n",
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


def test_domain_thresholds_replace_the_global_ones() -> None:
    rows = (
        "a,acme,AcmeRAN gNB,24.1.3,RAN,gNB,8\n"
        "b,borealis,Borealis Core,5.0,RAN,gNB,2\n"
        "c,acme,AcmeCore UPF,2.0,Core,UPF,3\n"
        "d,borealis,Borealis Core,5.0,Core,AMF,1\n"
    )
    report = _report(
        rows,
        section=(
            "concentration:\n"
            "  maxShare: 0.9\n"
            "  maxHhi: 0.9\n"
            "  domains:\n"
            "    RAN: {maxShare: 0.7}\n"
            "    Core: {maxHhi: 0.5}\n"
        ),
    )
    ran, core = report.domains
    # RAN: its own share bound (0.8 > 0.7), the global HHI bound (0.68 < 0.9).
    assert ran.warnings == ("largest vendor share 80.0% is above the threshold 70.0%",)
    # Core: 0.75 / 0.25 -> HHI 0.625 > 0.5; share 0.75 below the global 0.9.
    assert core.hhi == Fraction(5, 8)
    assert core.warnings == ("HHI 0.6250 is above the threshold 0.5000",)
    # A network function is held to its domain's thresholds.
    gnb = next(p for p in report.functions if p.network_function == "gNB")
    assert gnb.warnings == ran.warnings
    data = report.to_dict()
    assert data["thresholds"] == {
        "maxShare": 0.9,
        "maxHhi": 0.9,
        "domains": {
            "Core": {"maxShare": None, "maxHhi": 0.5},
            "RAN": {"maxShare": 0.7, "maxHhi": None},
        },
    }
    assert data["highRisk"] == []


def test_high_risk_vendor_by_policy_id_only() -> None:
    report = _report(
        "a,acme,AcmeRAN gNB,24.1.3,RAN,gNB,1\n"
        "b,Borealis Networks Oy,Borealis Core,5.0,RAN,gNB,3\n",
        section="concentration:\n  highRisk: [borealis, borealis]\n",
    )
    (ran,) = report.domains
    # The row names the vendor by its policy name; it maps to the id marked.
    assert ran.high_risk_share == Fraction(3, 4)
    assert [v.high_risk for v in ran.vendors] == [True, False]
    assert report.to_dict()["highRisk"] == ["borealis"]
    # Thresholds are warnings, never a verdict: the report has none to give.
    assert "verdict" not in report.to_dict()


@pytest.mark.parametrize(
    ("section", "needle"),
    [
        pytest.param(
            "concentration:\n  highRisk: [nobody]\n",
            "concentration.highRisk[0]: unknown vendor id 'nobody'",
            id="unknown-vendor",
        ),
        pytest.param(
            "concentration:\n  highRisk: [Borealis Networks Oy]\n",
            "unknown vendor id 'Borealis Networks Oy'",
            id="name-not-id",
        ),
        pytest.param(
            "concentration: {maxShare: 1.5}\n",
            "concentration.maxShare: must be between 0 and 1, got 1.5",
            id="share-above-1",
        ),
        pytest.param(
            "concentration: {maxHhi: -0.1}\n",
            "concentration.maxHhi: must be between 0 and 1",
            id="hhi-negative",
        ),
        pytest.param(
            "concentration: {maxHhi: '0.5'}\n",
            "concentration.maxHhi: expected a number between 0 and 1",
            id="hhi-string",
        ),
        pytest.param(
            "concentration: {maxShare: true}\n",
            "concentration.maxShare: expected a number",
            id="share-bool",
        ),
        pytest.param(
            "concentration:\n  domains:\n    Radio: {maxShare: 0.5}\n",
            "concentration.domains",
            id="unknown-domain",
        ),
        pytest.param(
            "concentration:\n  domains:\n    RAN: {maxShare: 2}\n",
            "concentration.domains.RAN.maxShare: must be between 0 and 1",
            id="domain-share-above-1",
        ),
        pytest.param(
            "concentration: {maxshare: 0.5}\n",
            "maxshare",
            id="unknown-field",
        ),
        pytest.param(
            "concentration: [0.5]\n",
            "concentration",
            id="not-a-mapping",
        ),
    ],
)
def test_bad_concentration_section(section: str, needle: str) -> None:
    with pytest.raises(InvalidInputError) as e:
        policy(section, file="pol.yaml")
    message = str(e.value)
    assert message.startswith("pol.yaml")
    assert "\n" not in message
    assert needle in message


def test_capacities_at_the_bounds() -> None:
    """The largest capacity and the finest fraction of one are shares like others."""
    inv = parse_inventory(
        (
            b"vendor,product,version,domain,networkFunction,instances,capacity\n"
            b"acme,P,1,RAN,gNB,1,1E+15\nborealis,Q,1,RAN,gNB,1,0.000000000001\n"
            b"acme,P,1,Core,AMF,1,1.000000000000000\n"
            b"borealis,Q,1,Core,AMF,1,0E-99999\n"
        ),
        file="inv.csv",
    )
    report = concentration_report(
        inv, VIEW, inventory_file="inv.csv", policy=POLICY, at=AT
    )
    ran, core = report.domains
    assert ran.total == Fraction(10**27 + 1, 10**12)
    assert core.total == 1  # a zero is a zero, whatever its exponent
    assert json.dumps(report.to_dict())
