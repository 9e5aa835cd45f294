"""Machine-readable renderings of a verification report: one home for every format.

``json`` is the report's own schema (``schemas/report.schema.json``); ``sarif`` is
SARIF 2.1.0 for code-scanning dashboards (GitHub, GitLab, Azure DevOps); ``junit`` is
JUnit XML for test-report viewers (GitLab, Jenkins). The human table lives in the CLI.
The SARIF and JUnit writers are imported when a report is first rendered in them.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vendorproof import __version__
from vendorproof._internal.jsonio import dump_json
from vendorproof.reports.catalogue import CHECKS, CheckInfo, check_info

if TYPE_CHECKING:
    from vendorproof.reports.junit import to_junit, xml_text
    from vendorproof.reports.sarif import to_sarif
    from vendorproof.verify.result import VerificationReport

__all__ = [
    "CHECKS",
    "CheckInfo",
    "ReportFormat",
    "check_info",
    "render",
    "to_junit",
    "to_sarif",
    "xml_text",
]


#: Names this package exports from modules it imports on first use.
_LAZY = {"to_junit": "junit", "xml_text": "junit", "to_sarif": "sarif"}


def __getattr__(name: str) -> Any:
    """``to_junit``, ``xml_text``, ``to_sarif``: imported on first use."""
    if name in _LAZY:
        return getattr(import_module(f"vendorproof.reports.{_LAZY[name]}"), name)
    raise AttributeError(name)


class ReportFormat(enum.Enum):
    """The machine-readable formats a report can be rendered in."""

    JSON = "json"
    SARIF = "sarif"
    JUNIT = "junit"


def render(
    report: VerificationReport,
    fmt: ReportFormat,
    *,
    command: str = "verify",
    delivery_root: Path | None = None,
    extra: Mapping[str, Any] | None = None,
    tool_version: str = __version__,
) -> bytes:
    """``report`` in ``fmt`` as UTF-8 bytes ending in a newline.

    Args:
        report: the verification report.
        fmt: the format.
        command: the command that produced it (JUnit suite name).
        delivery_root: the delivery directory (SARIF's base URI).
        extra: further top-level data (the gate's installed release): a JSON key
            ``installed``, SARIF run properties, JUnit suite properties.
        tool_version: the vendorproof version recorded in SARIF and JUnit.
    """
    if fmt is ReportFormat.JSON:
        data = report.to_dict()
        data.update(extra or {})
        return dump_json(data)
    if fmt is ReportFormat.SARIF:
        from vendorproof.reports.sarif import to_sarif

        log = to_sarif(
            report,
            delivery_root=delivery_root,
            tool_version=tool_version,
            extra_properties=extra,
        )
        # ASCII with \uXXXX escapes: any string (even a lone surrogate) is valid.
        return json.dumps(log, indent=2).encode("ascii") + b"\n"
    flat: dict[str, Any] = {}
    for key, value in (extra or {}).items():
        if isinstance(value, Mapping):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    from vendorproof.reports.junit import to_junit

    return to_junit(
        report,
        suite=f"vendorproof {command}",
        tool_version=tool_version,
        extra_properties=flat,
    )
