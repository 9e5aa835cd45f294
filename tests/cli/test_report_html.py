"""``vendorproof report html`` in a real headless Chromium (tests/browser.py).

The page loads without console errors and without a single network request, the
numbers in its DOM are those of the JSON reports, hostile strings from the
inventory and the records stay text, and a screenshot is taken.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import Chromium
from tests.builders import KEYS, SAMPLE_POLICY, copy_sample
from tests.cli.support import assert_error, assert_ok, invoke
from vendorproof._cli import ExitCode

OPERATOR_PUB = KEYS / "operator" / "intake.pub"
EVIL = '<img src=x onerror="console.error(1)"><script>console.error(2)</script>'


@pytest.fixture
def store(tmp_path: Path) -> Path:
    from tests.unit.evidence.test_intake import take
    from vendorproof.evidence.store import open_store

    tampered = copy_sample(tmp_path / "tampered")
    image = tampered / "images" / "gnb-du-24.1.3.img"
    image.write_bytes(image.read_bytes() + b"\0")
    path = tmp_path / "evidence.db"
    s = open_store(str(path))
    try:
        take(s)
        take(s, tampered)
    finally:
        s.close()
    return path


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    path = tmp_path / "inventory.csv"
    path.write_text(
        "id,vendor,product,version,domain,networkFunction,instances\n"
        "g1,acme,AcmeRAN gNB,24.1.3,RAN,gNB,120\n"
        "g2,borealis,Borealis gNB,7.2,RAN,gNB,80\n"
        f'x1,"{EVIL.replace(chr(34), chr(34) * 2)}",Box,1,Core,AMF,3\n'
        "a1,borealis,Borealis AMF,3.1,Core,AMF,1\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Chromium]:
    chromium = Chromium(tmp_path / "profile")
    try:
        yield chromium
    finally:
        chromium.close()


def _json(*args: str | Path) -> dict[str, object]:
    result = invoke(*args, "--format", "json")
    assert_ok(result)
    data: dict[str, object] = json.loads(result.stdout)
    return data


DOM = """JSON.stringify({
  records: document.getElementById("records").textContent,
  verified: document.getElementById("verified").textContent,
  accepted: document.getElementById("accepted").textContent,
  rejected: document.getElementById("rejected").textContent,
  intact: document.getElementById("intact").textContent,
  coverage: [...document.querySelectorAll("tr[data-requirement]")].map(tr => [
    tr.querySelector("code").textContent,
    Number(tr.querySelector(".passed").textContent),
    Number(tr.querySelector(".failed").textContent)]),
  partitions: [...document.querySelectorAll("section.partition")].map(s => [
    s.dataset.domain, Number(s.querySelector(".hhi").textContent),
    [...s.querySelectorAll(".share")].map(e => Number(e.textContent))]),
  records_drill: [...document.querySelectorAll("details.record")].map(
    d => [Number(d.dataset.seq), d.querySelectorAll("table.checks tbody tr").length]),
  scripts: document.scripts.length,
  images: document.images.length,
  text: document.body.innerText,
})"""


def test_page_in_headless_chromium(
    tmp_path: Path, store: Path, inventory: Path, browser: Chromium
) -> None:
    page = tmp_path / "audit.html"
    common = ("--store", store, "--operator-pub", OPERATOR_PUB)
    assert_ok(
        invoke(
            "report",
            "html",
            *common,
            "--inventory",
            inventory,
            "--policy",
            SAMPLE_POLICY,
            "-o",
            page,
        )
    )
    compliance = _json("report", "compliance", *common)
    concentration = _json(
        "report",
        "concentration",
        *common,
        "--inventory",
        inventory,
        "--policy",
        SAMPLE_POLICY,
    )

    url = page.resolve().as_uri()
    browser.open(url)
    dom = json.loads(browser.evaluate(DOM))
    png = browser.screenshot(tmp_path / "audit.png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")

    # Loaded without console errors and without any request but its own.
    assert browser.console_errors() == []
    assert browser.requests() == [url]
    # Hostile markup from the inventory stayed text.
    assert dom["scripts"] == 0
    assert dom["images"] == 0
    assert EVIL in dom["text"]

    integrity = compliance["integrity"]
    assert isinstance(integrity, dict)
    deliveries = compliance["deliveries"]
    assert isinstance(deliveries, dict)
    assert int(dom["records"]) == integrity["records"] == 2
    assert int(dom["verified"]) == integrity["verified"]
    assert int(dom["accepted"]) == len(deliveries["accepted"]) == 1
    assert int(dom["rejected"]) == len(deliveries["rejected"]) == 1
    assert dom["intact"] == "intact"
    requirements = compliance["requirements"]
    assert isinstance(requirements, list)
    assert dom["coverage"] == [
        [r["id"], len(r["passed"]), len(r["failed"])] for r in requirements
    ]
    domains = concentration["domains"]
    assert isinstance(domains, list)
    assert dom["partitions"] == [
        [d["domain"], d["hhi"], [v["share"] for v in d["vendors"]]] for d in domains
    ]
    assert dom["records_drill"][0][0] == 1
    assert all(rows > 0 for _, rows in dom["records_drill"])


def test_html_needs_inventory_and_policy_together(tmp_path: Path, store: Path) -> None:
    assert_error(
        invoke(
            "report",
            "html",
            "--store",
            store,
            "--operator-pub",
            OPERATOR_PUB,
            "--inventory",
            tmp_path / "inv.csv",
            "-o",
            tmp_path / "a.html",
        ),
        ExitCode.INVALID_INPUT,
        "--policy",
    )
    out = tmp_path / "plain.html"
    assert_ok(
        invoke(
            "report",
            "html",
            "--store",
            store,
            "--operator-pub",
            OPERATOR_PUB,
            "-o",
            out,
        )
    )
    assert "No inventory given" in out.read_text("utf-8")


def test_the_browser_session_sees_errors_and_requests(
    tmp_path: Path, browser: Chromium
) -> None:
    # What the report test relies on: a page that logs an error and loads a
    # resource is seen doing both (port 9 refuses the connection at once).
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><img src="http://127.0.0.1:9/x.png">'
        '<script>console.error("boom")</script>',
        encoding="utf-8",
    )
    url = bad.resolve().as_uri()
    browser.open(url)
    assert any("boom" in e for e in browser.console_errors())
    assert "http://127.0.0.1:9/x.png" in browser.requests()
    assert browser.evaluate("document.images.length") == 1
