"""The compliance report: per requirement, the checks and deliveries that evidence it.

Built from a :class:`~vendorproof.reports._records.StoreView` (only records whose
operator signature verified) and the requirement catalogue. For a time range (on the
signed ``timeVerified`` of each record) it lists the deliveries accepted and
rejected with the sequence numbers an auditor replays (``vendorproof audit replay
--from N --to N``), and per catalogue requirement the checks that provide evidence
and the records where they passed or failed. A record's check serves the catalogue
ids its check maps to and the ids (or short aliases) it names itself; a signer
check serves those of its document. Records that did not verify are listed, never
counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vendorproof.models import _fields
from vendorproof.models.checks import SIGNER_CHECKS, CheckResult, Outcome
from vendorproof.models.requirements import Catalogue, Requirement
from vendorproof.reports._html import esc, page, table
from vendorproof.reports._records import RecordView, StoreView

__all__ = ["ComplianceReport", "RequirementRow", "compliance_report"]

_SIGNER = frozenset(c.value for c in SIGNER_CHECKS)
_FAILING = frozenset({Outcome.FAIL, Outcome.ERROR})
_EVIDENCING = frozenset({Outcome.PASS, Outcome.WARN})
INTEGRITY_SCOPE = (
    "operator signatures, digests, chain links and index columns; "
    "`vendorproof audit replay` also re-runs every decision"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RequirementRow:
    """One catalogue requirement over the records of the range."""

    requirement: Requirement
    checks: tuple[str, ...]
    passed: tuple[int, ...]
    failed: tuple[tuple[int, tuple[str, ...]], ...]
    not_applicable: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ComplianceReport:
    """The compliance report over one store and time range."""

    catalogue: Catalogue
    view: StoreView
    since: datetime | None
    until: datetime | None
    accepted: tuple[RecordView, ...]
    rejected: tuple[RecordView, ...]
    requirements: tuple[RequirementRow, ...]
    unknown_ids: tuple[tuple[int, str], ...]

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON data (``report compliance --format json``)."""
        return {
            "report": "compliance",
            "catalogue": {
                "name": self.catalogue.name,
                "version": self.catalogue.version,
            },
            "store": self.view.url,
            "range": {
                "since": _fields.format_time(self.since) if self.since else None,
                "until": _fields.format_time(self.until) if self.until else None,
            },
            "integrity": _integrity(self.view),
            "deliveries": {
                "accepted": [_delivery(r) for r in self.accepted],
                "rejected": [_delivery(r) for r in self.rejected],
            },
            "requirements": [
                {
                    "id": row.requirement.id,
                    "title": row.requirement.title,
                    "confidence": row.requirement.confidence.value,
                    "evidence": row.requirement.evidence,
                    "checks": list(row.checks),
                    "passed": list(row.passed),
                    "failed": [
                        {"seq": seq, "checks": list(checks)}
                        for seq, checks in row.failed
                    ],
                    "notApplicable": list(row.not_applicable),
                }
                for row in self.requirements
            ],
            "unknownRequirementIds": [
                {"seq": seq, "id": rid} for seq, rid in self.unknown_ids
            ],
        }

    def text(self) -> str:
        """The report as plain text lines (the CLI escapes control characters)."""
        d = self.to_dict()
        integ = d["integrity"]
        lines = [
            f"compliance report: {self.view.url}",
            (
                f"catalogue {self.catalogue.name} {self.catalogue.version}; range "
                f"{d['range']['since'] or '-'} .. {d['range']['until'] or '-'}"
            ),
            (
                f"chain: {'intact' if integ['intact'] else 'NOT INTACT'} "
                f"({integ['verified']} of {integ['records']} records verified; "
                f"checked: {INTEGRITY_SCOPE})"
            ),
        ]
        lines += [
            f"  record #{u['seq']} does not verify: {u['reason']}"
            for u in integ["unverified"]
        ]
        lines += [f"  {c}" for c in integ["chain"]]
        for title, rows in (("accepted", self.accepted), ("rejected", self.rejected)):
            lines.append(f"deliveries {title}: {len(rows)}")
            lines += [f"  {_line(r)}" for r in rows]
        if not self.accepted and not self.rejected:
            lines.append("no verified delivery in this range: nothing is evidenced")
        lines.append("requirements:")
        for row in self.requirements:
            r = row.requirement
            lines.append(f"  {r.id} [{r.confidence.value}] {r.title}")
            if row.checks:
                lines.append(f"    checks: {', '.join(row.checks)}")
                lines.append(
                    f"    passed in {len(row.passed)} record(s){_seqs(row.passed)}; "
                    f"failed in {len(row.failed)}{_seqs(s for s, _ in row.failed)}; "
                    f"not applicable in {len(row.not_applicable)}"
                )
            else:
                lines.append(f"    evidence: {r.evidence}")
        return "\n".join(lines) + "\n"

    def html(self) -> str:
        """One self-contained HTML page; every string from a record is escaped."""
        d = self.to_dict()
        integ = d["integrity"]
        since, until = d["range"]["since"] or "-", d["range"]["until"] or "-"
        status = (
            '<span class="pass">intact</span>'
            if integ["intact"]
            else '<span class="fail">NOT INTACT</span>'
        )
        body = [
            "<h1>Compliance report</h1>",
            (
                f"<p>Store <code>{esc(self.view.url)}</code>; catalogue "
                f"{esc(self.catalogue.name)} {esc(self.catalogue.version)}; range "
                f"{esc(since)} .. {esc(until)}</p>"
            ),
            (
                f"<p>Chain: {status} "
                f'(<span id="verified">{integ["verified"]}</span> of '
                f'<span id="records">{integ["records"]}</span> records verified; '
                f"checked: {esc(INTEGRITY_SCOPE)})</p>"
            ),
        ]
        if integ["unverified"] or integ["chain"]:
            body.append(
                "<ul>"
                + "".join(
                    f'<li class="fail">record #{esc(u["seq"])}: {esc(u["reason"])}</li>'
                    for u in integ["unverified"]
                )
                + "".join(f'<li class="fail">{esc(c)}</li>' for c in integ["chain"])
                + "</ul>"
            )
        for title, rows in (("accepted", self.accepted), ("rejected", self.rejected)):
            body.append(
                f"<h2>Deliveries {esc(title)} "
                f'(<span id="{esc(title)}">{len(rows)}</span>)</h2>'
            )
            body.append(_delivery_table(rows))
        body.append("<h2>Requirements</h2>")
        body.append(
            table(
                ("requirement", "confidence", "checks", "passed", "failed", "n/a"),
                (
                    (
                        (
                            f"<code>{esc(row.requirement.id)}</code> "
                            f"{esc(row.requirement.title)}"
                        ),
                        esc(row.requirement.confidence.value),
                        esc(", ".join(row.checks) or row.requirement.evidence),
                        esc(" ".join(f"#{s}" for s in row.passed)),
                        esc(" ".join(f"#{s} ({', '.join(c)})" for s, c in row.failed)),
                        esc(len(row.not_applicable)),
                    )
                    for row in self.requirements
                ),
                cls="requirements",
            )
        )
        return page("vendorproof compliance report", "".join(body))


def _integrity(view: StoreView) -> dict[str, Any]:
    return {
        "records": view.total,
        "verified": view.verified,
        "unverified": [{"seq": s, "reason": why} for s, why in view.unverified],
        "chain": list(view.chain),
        "intact": view.intact,
        "scope": INTEGRITY_SCOPE,
    }


def _failed_checks(r: RecordView) -> list[str]:
    return sorted({c.check for c in r.checks if c.outcome in _FAILING})


def _delivery(r: RecordView) -> dict[str, Any]:
    return {
        "seq": r.seq,
        "recordId": r.record_id,
        "digest": r.digest,
        "timeVerified": r.time_verified,
        "verdict": r.verdict,
        "vendor": r.vendor or None,
        "vendorName": r.vendor_name or None,
        "declaredVendor": r.declared_vendor or None,
        "product": r.product,
        "version": r.version,
        "domain": r.domain or None,
        "networkFunction": r.network_function or None,
        "failedChecks": _failed_checks(r),
    }


def _who(r: RecordView) -> str:
    if r.vendor:
        return f"{r.vendor_name} ({r.vendor})"
    return f"no verified vendor (declares {r.declared_vendor or '-'})"


def _line(r: RecordView) -> str:
    failed = _failed_checks(r)
    why = f"; failed: {', '.join(failed)}" if failed else ""
    return (
        f"#{r.seq} {r.time_verified} {_who(r)} {r.product} {r.version} {r.verdict}{why}"
    )


def _seqs(seqs: Iterable[int]) -> str:
    listed = [f"#{s}" for s in seqs]
    return f" ({' '.join(listed)})" if listed else ""


def _delivery_table(rows: tuple[RecordView, ...]) -> str:
    return table(
        (
            "record",
            "verified at",
            "vendor",
            "product",
            "version",
            "verdict",
            "failed checks",
        ),
        (
            (
                esc(f"#{r.seq}"),
                esc(r.time_verified),
                esc(_who(r)),
                esc(r.product),
                esc(r.version),
                esc(r.verdict),
                esc(", ".join(_failed_checks(r))),
            )
            for r in rows
        ),
        cls="deliveries",
    )


def _served(cat: Catalogue, result: CheckResult, unknown: set[str]) -> set[str]:
    ids: set[str] = set()
    if result.check not in _SIGNER:
        ids.update(cat.checks.get(result.check, ()))
    for rid in result.requirements:
        req = cat.get(rid)
        if req is None:
            unknown.add(rid)
        else:
            ids.add(req.id)
    return ids


def _in_range(r: RecordView, since: datetime | None, until: datetime | None) -> bool:
    t = _fields.parse_time(r.time_verified, "timeVerified")
    return (since is None or t >= since) and (until is None or t <= until)


def compliance_report(
    view: StoreView,
    cat: Catalogue,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ComplianceReport:
    """The compliance report of the verified records in ``[since, until]``."""
    records = [r for r in view.records if _in_range(r, since, until)]
    passed: dict[str, list[int]] = {r.id: [] for r in cat.requirements}
    failed: dict[str, list[tuple[int, tuple[str, ...]]]] = {
        r.id: [] for r in cat.requirements
    }
    not_applicable: dict[str, list[int]] = {r.id: [] for r in cat.requirements}
    unknown_ids: list[tuple[int, str]] = []
    for rec in records:
        outcomes: dict[str, set[Outcome]] = {}
        failing: dict[str, set[str]] = {}
        unknown: set[str] = set()
        for result in rec.checks:
            for rid in _served(cat, result, unknown):
                outcomes.setdefault(rid, set()).add(result.outcome)
                if result.outcome in _FAILING:
                    failing.setdefault(rid, set()).add(result.check)
        unknown_ids += [(rec.seq, u) for u in sorted(unknown)]
        for rid, seen in outcomes.items():
            if rid in failing:
                failed[rid].append((rec.seq, tuple(sorted(failing[rid]))))
            elif seen & _EVIDENCING:
                passed[rid].append(rec.seq)
            else:
                not_applicable[rid].append(rec.seq)
    rows = tuple(
        RequirementRow(
            requirement=r,
            checks=cat.checks_for(r.id),
            passed=tuple(passed[r.id]),
            failed=tuple(failed[r.id]),
            not_applicable=tuple(not_applicable[r.id]),
        )
        for r in cat.requirements
    )
    return ComplianceReport(
        catalogue=cat,
        view=view,
        since=since,
        until=until,
        accepted=tuple(r for r in records if r.accepted),
        rejected=tuple(r for r in records if not r.accepted),
        requirements=rows,
        unknown_ids=tuple(unknown_ids),
    )
