"""JUnit XML rendering of a verification report.

The format is the de-facto schema of Ant and Maven Surefire that GitLab, Jenkins and
most JUnit viewers read.
One ``testsuite`` per report, one ``testcase`` per check outcome: ``fail`` becomes a
``failure`` with the reason, ``error`` (the check could not run) an ``error``,
``not-applicable`` a ``skipped`` test case; ``warn`` passes with its remark in
``system-out``. Every string is reduced to characters XML 1.0 allows (§2.2 ``Char``)
before it is written, so an untrusted reason can never make the file unreadable.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from vendorproof import __version__
from vendorproof.verify.result import Outcome, VerificationReport

__all__ = ["to_junit", "xml_text"]

#: Characters that XML 1.0 §2.2 forbids (everything outside #x9 | #xA | #xD |
#: [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]: C0 controls but tab, line
#: feed and carriage return; lone surrogates; U+FFFE, U+FFFF), plus carriage return
#: (parsers turn it into a line feed; on a terminal it overwrites the line), DEL, C1
#: controls and the Unicode bidirectional and line-separator characters, which are
#: allowed but would let a document reorder or break up what a viewer shows.
_REPLACE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
    r"\u2028\u2029\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)


def _visible(match: re.Match[str]) -> str:
    if match.group() == "\r":
        return "\\r"
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def xml_text(text: str) -> str:
    r"""``text`` with every character XML 1.0 forbids (and bidi controls) escaped.

    The replacement is a visible escape (``\x1b``, ``\r``, ``\u202e``); markup
    characters (``<``, ``&``, quotes) are left to the serializer. Linear in
    ``len(text)``.
    """
    return _REPLACE.sub(_visible, text)


def _element(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attrs.items()})


def to_junit(
    report: VerificationReport,
    *,
    suite: str = "vendorproof",
    tool_version: str = __version__,
    extra_properties: Mapping[str, Any] | None = None,
) -> bytes:
    """The report as a JUnit XML document (UTF-8 bytes with an XML declaration).

    Args:
        report: the verification report.
        suite: the test suite's name (the command: ``vendorproof verify``, ...).
        tool_version: the vendorproof version, recorded as a suite property.
        extra_properties: further suite properties (the gate's installed release).
    """
    counts = {o: sum(c.outcome is o for c in report.checks) for o in Outcome}
    stats = {
        "tests": str(len(report.checks)),
        "failures": str(counts[Outcome.FAIL]),
        "errors": str(counts[Outcome.ERROR]),
        "skipped": str(counts[Outcome.NOT_APPLICABLE]),
    }
    root = ET.Element("testsuites", {"name": xml_text(suite), **stats})
    testsuite = _element(
        root,
        "testsuite",
        name=suite,
        timestamp=report.to_dict()["validationTime"],
        **stats,
    )
    props = _element(testsuite, "properties")
    p = report.policy
    d = report.delivery
    digest = p.get("digest")
    values: dict[str, Any] = {
        "verdict": report.verdict,
        "policy.id": p.get("id"),
        "policy.version": p.get("version"),
        "policy.sha256": digest.get("sha256") if isinstance(digest, Mapping) else None,
        "tool.version": tool_version,
        "delivery.product": d.product,
        "delivery.version": d.version,
        "delivery.securityVersion": d.security_version,
        **(extra_properties or {}),
    }
    for name, value in values.items():
        if value is not None:
            _element(props, "property", name=name, value=str(value))
    for c in report.checks:
        case = _element(
            testsuite,
            "testcase",
            classname=f"vendorproof.{c.check}",
            name=f"{c.check} [{c.subject}]",
            time="0",
        )
        requirements = ", ".join(c.requirements) or "none"
        body = f"{c.subject}: {c.reason} (requirements: {requirements})"
        if c.outcome is Outcome.FAIL:
            _element(case, "failure", message=c.reason, type="fail").text = xml_text(
                body
            )
        elif c.outcome is Outcome.ERROR:
            _element(
                case, "error", message=c.reason, type="could-not-run"
            ).text = xml_text(body)
        elif c.outcome is Outcome.NOT_APPLICABLE:
            _element(case, "skipped", message=c.reason)
        elif c.outcome is Outcome.WARN:
            _element(case, "system-out").text = xml_text(f"warning: {body}")
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"
