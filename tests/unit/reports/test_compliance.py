"""The compliance report over a real store: verified records only, per requirement."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest

from tests.builders import copy_sample
from tests.unit.evidence.support import Backend
from tests.unit.evidence.test_intake import OTHER, PUB, _insert_head, _signed, take
from vendorproof.evidence.readout import store_view
from vendorproof.evidence.store import EvidenceStore, StoredRecord, open_store
from vendorproof.models.checks import CheckResult, Outcome
from vendorproof.models.requirements import catalogue
from vendorproof.reports._records import RecordView, StoreView
from vendorproof.reports.compliance import compliance_report


@pytest.fixture
def backend(tmp_path: Path) -> Backend:
    return Backend("sqlite", str(tmp_path / "evidence.db"))


@pytest.fixture
def store(backend: Backend) -> Iterator[EvidenceStore]:
    s = open_store(backend.url)
    try:
        yield s
    finally:
        s.close()


def _tampered(tmp_path: Path) -> Path:
    delivery = copy_sample(tmp_path / "tampered")
    image = delivery / "images" / "gnb-du-24.1.3.img"
    image.write_bytes(image.read_bytes() + b"\0")
    return delivery


def test_accepted_and_rejected_per_requirement(
    store: EvidenceStore, tmp_path: Path
) -> None:
    take(store)
    take(store, _tampered(tmp_path))
    view = store_view(store, [PUB])
    assert view.intact
    assert (view.total, len(view.records)) == (2, 2)
    report = compliance_report(view, catalogue())
    data = report.to_dict()
    assert [d["seq"] for d in data["deliveries"]["accepted"]] == [1]
    (rejected,) = data["deliveries"]["rejected"]
    assert rejected["seq"] == 2
    assert "integrity" in rejected["failedChecks"]
    # The verified signer, not the manifest's claim, names the vendor.
    assert data["deliveries"]["accepted"][0]["vendor"] == "acme"
    rows = {r["id"]: r for r in data["requirements"]}
    eucc = rows["EUCC:9(2)(e)"]
    assert eucc["passed"] == [1]
    assert eucc["failed"][0]["seq"] == 2
    assert "integrity" in eucc["failed"][0]["checks"]
    # Short ids in the records resolve to catalogue ids.
    assert 1 in rows["KAT:A2-4"]["passed"]
    # The changed image is not the certified one either.
    assert rows["TKG:165(4)"]["passed"] == [1]
    assert rows["TKG:165(4)"]["failed"] == [
        {"seq": 2, "checks": ["certification-coverage"]}
    ]
    # A deny-list check passed in both records.
    assert rows["BSIG:41"]["passed"] == [1, 2]
    # A requirement answered by another report has no checks and no records.
    assert rows["KAT:A2-8"]["checks"] == []
    assert rows["KAT:A2-8"]["passed"] == []
    assert data["integrity"]["intact"] is True
    assert json.loads(json.dumps(data)) == data
    text = report.text()
    assert "deliveries accepted: 1" in text
    assert "#2 " in text
    assert "failed: " in text


def test_time_range_uses_the_signed_time(store: EvidenceStore) -> None:
    take(store)
    view = store_view(store, [PUB])
    t = datetime.fromisoformat(view.records[0].time_verified)
    inside = compliance_report(view, catalogue(), since=t, until=t)
    assert [r.seq for r in inside.accepted] == [1]
    after = compliance_report(view, catalogue(), since=datetime(2999, 1, 1, tzinfo=UTC))
    assert after.accepted == after.rejected == ()
    assert "no verified delivery in this range" in after.text()
    assert after.to_dict()["range"]["since"] == "2999-01-01T00:00:00Z"


@pytest.mark.parametrize("kind", ["foreign key", "index lies"])
def test_records_that_do_not_verify_are_listed_not_counted(
    store: EvidenceStore, backend: Backend, kind: str
) -> None:
    take(store)
    envelope = (
        _signed(store, sv=99, key=OTHER)
        if kind == "foreign key"
        else _signed(store, sv=7)
    )
    _insert_head(backend, store, envelope)
    view = store_view(store, [PUB])
    assert not view.intact
    assert [seq for seq, _ in view.unverified] == [2]
    report = compliance_report(view, catalogue()).to_dict()
    assert [d["seq"] for d in report["deliveries"]["accepted"]] == [1]
    assert report["integrity"]["unverified"][0]["seq"] == 2
    assert report["integrity"]["intact"] is False


class _Rows:
    """A store as the readout sees it: rows in order (a store refuses such rows)."""

    url = "sqlite:///rows.db"

    def __init__(self, rows: list[StoredRecord]) -> None:
        self.rows = rows

    def records(self) -> Iterator[StoredRecord]:
        return iter(self.rows)


def test_chain_breaks_are_reported(store: EvidenceStore, tmp_path: Path) -> None:
    take(store)
    take(store, _tampered(tmp_path))
    first, second = store.records()
    relinked = dataclasses.replace(second, prev_digest="0" * 64)
    view = store_view(cast("EvidenceStore", _Rows([first, relinked])), [PUB])
    assert view.chain == ("record #2 does not link to record #1",)
    # Its own signed link no longer matches its row either.
    assert [seq for seq, _ in view.unverified] == [2]
    view = store_view(cast("EvidenceStore", _Rows([second])), [PUB])
    assert view.chain == ("record #1 is missing before #2",)
    assert not view.intact


def _hostile_view() -> StoreView:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    check = CheckResult(
        check="integrity",
        subject="images/</td><script>alert(2)</script>",
        requirements=("KAT-A2-4", "NOT-IN-CATALOGUE"),
        outcome=Outcome.FAIL,
        reason=evil,
    )
    rec = RecordView(
        seq=1,
        record_id="r1",
        digest="0" * 64,
        time_verified="2027-01-15T00:00:00Z",
        verdict="FAILED",
        vendor="acme",
        vendor_name=evil,
        declared_vendor="acme",
        product="gNB' onmouseover='alert(3)",
        version="1&2",
        domain="RAN",
        network_function="gNB",
        checks=(check,),
    )
    return StoreView(
        url="sqlite:///x.db", total=1, records=(rec,), unverified=(), chain=()
    )


def test_html_escapes_every_record_string() -> None:
    report = compliance_report(_hostile_view(), catalogue())
    page = report.html()
    assert "<script" not in page
    assert "<img" not in page
    assert "onmouseover='" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "gNB&#x27; onmouseover=&#x27;alert(3)" in page
    assert "1&amp;2" in page
    # Self-contained, and scripts could not run even if markup got through.
    assert "default-src &#x27;none&#x27;" in page
    assert "http://" not in page
    assert "https://" not in page
    # An id a record carries that the catalogue does not know is reported.
    assert report.unknown_ids == ((1, "NOT-IN-CATALOGUE"),)


def test_unverified_vendor_and_not_applicable() -> None:
    na = CheckResult(
        check="trust-declaration",
        subject="attestations/",
        requirements=("KAT-A2-3",),
        outcome=Outcome.NOT_APPLICABLE,
        reason="optional",
    )
    rec = RecordView(
        seq=4,
        record_id="r4",
        digest="1" * 64,
        time_verified="2027-01-15T00:00:00Z",
        verdict="FAILED",
        vendor="",
        vendor_name="",
        declared_vendor="mallory",
        product="P",
        version="1",
        domain="",
        network_function="",
        checks=(na,),
    )
    view = StoreView(
        url="sqlite:///x.db", total=1, records=(rec,), unverified=(), chain=()
    )
    report = compliance_report(view, catalogue())
    rows = {r.requirement.id: r for r in report.requirements}
    assert rows["KAT:A2-3"].not_applicable == (4,)
    assert rows["KAT:A2-3"].passed == ()
    assert "no verified vendor (declares mallory)" in report.text()
    assert report.to_dict()["deliveries"]["rejected"][0]["vendor"] is None
