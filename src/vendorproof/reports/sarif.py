"""SARIF 2.1.0 rendering of a verification report (OASIS SARIF v2.1.0).

One run; one rule per check (``reportingDescriptor`` §3.49, requirement ids as
``properties.tags`` §3.8.2.1); one result per check outcome (§3.27) with ``kind``
(§3.27.9) and ``level`` (§3.27.10); locations point at the delivered file or
document, relative to the delivery root named by ``originalUriBaseIds`` (§3.14.14).
The verdict, the policy (with its digest) and the tool version are run properties.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from vendorproof import __version__
from vendorproof.reports.catalogue import check_info
from vendorproof.verify.result import CheckResult, Outcome, VerificationReport

__all__ = ["DELIVERY_BASE_ID", "SARIF_SCHEMA", "to_sarif"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

#: The ``uriBaseId`` of every location: the delivery root.
DELIVERY_BASE_ID = "DELIVERYROOT"

#: Outcome -> (kind, level). SARIF §3.27.10: a result whose kind is not ``fail`` has
#: level ``none``. A check that could not run fails (fail closed); a warning (accepted
#: with a remark, e.g. an unlisted file under ``unlistedFiles: warn`` or a rollback
#: exception) asks for a human review.
_KIND_LEVEL: dict[Outcome, tuple[str, str]] = {
    Outcome.PASS: ("pass", "none"),
    Outcome.FAIL: ("fail", "error"),
    Outcome.ERROR: ("fail", "error"),
    Outcome.WARN: ("review", "none"),
    Outcome.NOT_APPLICABLE: ("notApplicable", "none"),
}


def _files(report: VerificationReport) -> set[str]:
    """Every path of the delivery the report knows as a file or document."""
    d = report.delivery
    paths: set[str] = set(report.inputs)
    paths.update(d.listing.payload)
    paths.update(d.listing.irregular)
    paths.update(c.path for c in d.components)
    paths.update(d.measured)
    if d.manifest is not None:
        paths.add(d.manifest)
    return {p for p in paths if p and not p.startswith("/")}


def _uri(path: str) -> str:
    # RFC 3986 relative reference: percent-encode everything but unreserved
    # characters and "/" (a ":" in the first segment would read as a scheme).
    return quote(path, safe="/")


def _location(
    result: CheckResult, files: set[str], manifest: str | None
) -> dict[str, Any]:
    subject = result.subject
    location: dict[str, Any] = {
        "logicalLocations": [{"fullyQualifiedName": subject}],
    }
    target = subject if subject in files else None
    if target is None and subject == "attestations/":
        target = subject
    if target is None and manifest is not None:
        # Vendor/product and delivery-wide subjects come from the signed manifest.
        target = manifest
    if target is not None:
        location["physicalLocation"] = {
            "artifactLocation": {"uri": _uri(target), "uriBaseId": DELIVERY_BASE_ID}
        }
    return location


def _fingerprint(result: CheckResult) -> str:
    return hashlib.sha256(
        f"{result.check}\x00{result.subject}".encode("utf-8", "surrogatepass")
    ).hexdigest()


def _rules(report: VerificationReport) -> tuple[list[dict[str, Any]], dict[str, int]]:
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for c in report.checks:
        if c.check in index:
            continue
        info = check_info(c.check)
        seen = {r for x in report.checks if x.check == c.check for r in x.requirements}
        tags = sorted(set(info.requirements) | seen)
        index[c.check] = len(rules)
        rules.append(
            {
                "id": c.check,
                "name": "".join(part.title() for part in c.check.split("-")),
                "shortDescription": {"text": info.summary},
                "fullDescription": {"text": info.help},
                "help": {
                    "text": f"{info.help} Requirements: {', '.join(tags) or 'none'}.",
                },
                "defaultConfiguration": {"level": "error"},
                "properties": {"tags": tags},
            }
        )
    return rules, index


def to_sarif(
    report: VerificationReport,
    *,
    delivery_root: Path | None = None,
    tool_version: str = __version__,
    extra_properties: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log (JSON data).

    Args:
        report: the verification report.
        delivery_root: where the delivery lies; when given, the absolute ``file:``
            URI of ``DELIVERYROOT`` is recorded in ``originalUriBaseIds``.
        tool_version: the vendorproof version recorded as the driver's version.
        extra_properties: further run properties (the gate's installed release).

    Returns:
        The SARIF log, ready for ``json.dumps``.
    """
    files = _files(report)
    manifest = report.delivery.manifest
    manifest = manifest if manifest in files else None
    rules, index = _rules(report)
    results = []
    for c in report.checks:
        kind, level = _KIND_LEVEL[c.outcome]
        results.append(
            {
                "ruleId": c.check,
                "ruleIndex": index[c.check],
                "kind": kind,
                "level": level,
                "message": {"text": f"{c.subject}: {c.reason}"},
                "locations": [_location(c, files, manifest)],
                "partialFingerprints": {"vendorproofCheckSubject/v1": _fingerprint(c)},
                "properties": {
                    "outcome": c.outcome.value,
                    "subject": c.subject,
                    "requirements": list(c.requirements),
                },
            }
        )
    base: dict[str, Any] = {"description": {"text": "The delivery root."}}
    if delivery_root is not None:
        base["uri"] = delivery_root.resolve().as_uri().rstrip("/") + "/"
    d = report.delivery
    properties: dict[str, Any] = {
        "verdict": report.verdict,
        "policy": dict(report.policy),
        "toolVersion": tool_version,
        "validationTime": report.to_dict()["validationTime"],
        "validationTimeSource": report.time_source,
        "delivery": {
            k: v
            for k, v in d.to_dict().items()
            if k in {"product", "version", "securityVersion", "principal", "vendor"}
        },
    }
    if extra_properties:
        properties.update(extra_properties)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "vendorproof",
                        "version": tool_version,
                        "informationUri": "https://vendorproof.dev/",
                        "rules": rules,
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "exitCode": 0 if report.ok else 1,
                    }
                ],
                "originalUriBaseIds": {DELIVERY_BASE_ID: base},
                "results": results,
                "properties": properties,
            }
        ],
    }
