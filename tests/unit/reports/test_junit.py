"""JUnit XML output: read by a real consumer; every character XML 1.0 forbids replaced."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped, TestSuite

from tests.unit.reports.support import EVERY_OUTCOME, check, report
from vendorproof.reports import ReportFormat, render, to_junit, xml_text
from vendorproof.verify.result import Outcome


def _suite(path: Path) -> TestSuite:
    suites = list(JUnitXml.fromfile(str(path)))
    assert len(suites) == 1
    suite = suites[0]
    assert isinstance(suite, TestSuite)
    return suite


def test_junitparser_reads_one_case_per_check(tmp_path: Path) -> None:
    path = tmp_path / "report.xml"
    path.write_bytes(render(EVERY_OUTCOME, ReportFormat.JUNIT, command="gate"))
    suite = _suite(path)
    assert suite.name == "vendorproof gate"
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (6, 1, 1, 1)
    cases = list(suite)
    assert [c.name for c in cases] == [
        "signature [attestations/manifest.sigstore.json]",
        "integrity [images/a.img]",
        "unlisted-files [odd name:1.bin]",
        "in-toto [in-toto/root.layout]",
        "error [delivery]",
        "deny-list [acme/P]",
    ]
    results = [c.result for c in cases]
    assert results[0] == []
    (failure,) = results[1]
    assert isinstance(failure, Failure)
    assert failure.message == "sha256 differs"
    assert "images/a.img: sha256 differs" in (failure.text or "")
    assert results[2] == []
    assert "warning: odd name:1.bin: not listed" in (cases[2].system_out or "")
    (skipped,) = results[3]
    assert isinstance(skipped, Skipped)
    (error,) = results[4]
    assert isinstance(error, Error)
    assert error.message == "could not read"
    props = {p.name: p.value for p in suite.properties()}  # type: ignore[no-untyped-call]
    assert props["verdict"] == "FAILED"
    assert props["policy.sha256"] == "ab" * 32


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param("a\x00b", "a\\x00b", id="nul"),
        pytest.param("\x1b[31m", "\\x1b[31m", id="escape"),
        pytest.param("\x0b\x0c\x7f\x85", "\\x0b\\x0c\\x7f\\x85", id="c0-del-c1"),
        pytest.param("\ud800x", "\\ud800x", id="lone-surrogate"),
        pytest.param("\ufffe\uffff", "\\ufffe\\uffff", id="non-characters"),
        pytest.param("\u202egpj.exe", "\\u202egpj.exe", id="bidi-override"),
        pytest.param("tab\there", "tab\there", id="tab-kept"),
        pytest.param("over\rwrite", "over\\rwrite", id="carriage-return"),
        pytest.param("<a href='x'>&amp;\"", "<a href='x'>&amp;\"", id="markup"),
        pytest.param("Prüfung ✓ 𝄞", "Prüfung ✓ 𝄞", id="non-ascii-kept"),
    ],
)
def test_untrusted_text_is_well_formed_xml(
    tmp_path: Path, text: str, shown: str
) -> None:
    rep = report(check("integrity", text, Outcome.FAIL, text))
    raw = to_junit(rep)
    root = ET.fromstring(raw)  # noqa: S314 - our own output
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.get("message") == shown
    path = tmp_path / "r.xml"
    path.write_bytes(raw)
    (case,) = list(_suite(path))
    assert case.name == f"integrity [{shown}]"


def test_xml_text_leaves_allowed_characters() -> None:
    allowed = "\t\n \ud7ff\ue000\ufffd\U00010000\U0010ffff"
    assert xml_text(allowed) == allowed
