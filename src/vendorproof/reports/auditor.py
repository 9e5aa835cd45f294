"""The auditor's page: one self-contained HTML file over a whole evidence store.

Sections: the chain's integrity status, deliveries over time (inline SVG, accepted
and rejected per day), the verdicts, per-requirement coverage (from the compliance
report), vendor concentration per domain as bar charts (from the concentration
report, when an inventory is given) and a drill-down to every record's checks
(``<details>``). The numbers carry stable ids and classes (``#records``,
``#accepted``, ``tr[data-requirement]``, ``section.partition .hhi``) so a browser
test can compare them with the JSON reports. Every string from a record, the
inventory or the policy is escaped; the page has no scripts and its
Content-Security-Policy forbids any network access (``_html.py``).
"""

from __future__ import annotations

from collections import Counter

from vendorproof.reports._html import esc, page, table
from vendorproof.reports._records import RecordView
from vendorproof.reports.compliance import INTEGRITY_SCOPE, ComplianceReport
from vendorproof.reports.concentration import ConcentrationReport, html_partitions

__all__ = ["auditor_page"]


def _timeline(records: tuple[RecordView, ...]) -> str:
    """Inline SVG: accepted (green) over rejected (red) deliveries per day."""
    days: Counter[tuple[str, bool]] = Counter(
        (r.time_verified[:10], r.accepted) for r in records
    )
    dates = sorted({d for d, _ in days})
    if not dates:
        return '<p class="muted">No verified delivery in this range.</p>'
    peak = max(days.values())
    width = max(40 * len(dates), 200)
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="150" '
            'role="img" aria-label="deliveries per day">'
        )
    ]
    for i, day in enumerate(dates):
        x = 40 * i + 5
        ok, bad = days[(day, True)], days[(day, False)]
        h_ok = round(100 * ok / peak)
        h_bad = round(100 * bad / peak)
        parts.append(
            f'<rect x="{x}" y="{110 - h_ok}" width="14" height="{h_ok}" '
            f'fill="#0a6b2d"><title>{esc(day)}: {ok} accepted</title></rect>'
            f'<rect x="{x + 15}" y="{110 - h_bad}" width="14" height="{h_bad}" '
            f'fill="#a30d0d"><title>{esc(day)}: {bad} rejected</title></rect>'
            f'<text x="{x}" y="125" font-size="9">{esc(day[5:])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _drilldown(records: tuple[RecordView, ...]) -> str:
    out = []
    for r in records:
        verdict = "pass" if r.accepted else "fail"
        who = f"{r.vendor_name} ({r.vendor})" if r.vendor else "no verified vendor"
        out.append(
            f'<details class="record" data-seq="{r.seq}">'
            f"<summary>#{r.seq} {esc(r.time_verified)} {esc(who)} {esc(r.product)} "
            f'{esc(r.version)} <span class="{verdict}">{esc(r.verdict)}</span>'
            "</summary>"
            f"<p>record {esc(r.record_id)}, sha256 <code>{esc(r.digest)}</code>; "
            f"replay with <code>vendorproof audit replay --from {r.seq} --to {r.seq}"
            "</code></p>"
            + table(
                ("check", "subject", "requirements", "outcome", "reason"),
                (
                    (
                        esc(c.check),
                        esc(c.subject),
                        esc(", ".join(c.requirements)),
                        (
                            f'<span class="{esc(c.outcome.value)}">'
                            f"{esc(c.outcome.value)}</span>"
                        ),
                        esc(c.reason),
                    )
                    for c in r.checks
                ),
                cls="checks",
            )
            + "</details>"
        )
    return "".join(out)


def auditor_page(
    compliance: ComplianceReport, concentration: ConcentrationReport | None
) -> str:
    """The page (a complete HTML document)."""
    view = compliance.view
    records = (*compliance.accepted, *compliance.rejected)
    records = tuple(sorted(records, key=lambda r: r.seq))
    status = (
        '<strong class="pass" id="intact">intact</strong>'
        if view.intact
        else '<strong class="fail" id="intact">NOT INTACT</strong>'
    )
    body = [
        "<h1>vendorproof audit report</h1>",
        (
            f"<p>Store <code>{esc(view.url)}</code>; requirement catalogue "
            f"{esc(compliance.catalogue.name)} {esc(compliance.catalogue.version)}.</p>"
        ),
        "<h2>Chain integrity</h2>",
        (
            f'<p>{status}: <span id="verified">{view.verified}</span> of '
            f'<span id="records">{view.total}</span> records verified with the pinned '
            f"operator key(s); checked: {esc(INTEGRITY_SCOPE)}.</p>"
        ),
    ]
    problems = [f"record #{s}: {why}" for s, why in view.unverified] + list(view.chain)
    if problems:
        body.append(
            '<ul class="problems">'
            + "".join(f'<li class="fail">{esc(p)}</li>' for p in problems)
            + "</ul>"
        )
    body += [
        "<h2>Deliveries over time</h2>",
        (
            f'<p><span id="accepted">{len(compliance.accepted)}</span> accepted, '
            f'<span id="rejected">{len(compliance.rejected)}</span> rejected.</p>'
        ),
        _timeline(records),
        "<h2>Requirement coverage</h2>",
        table(
            ("requirement", "confidence", "checks", "passed", "failed"),
            (
                (
                    (
                        f"<code>{esc(row.requirement.id)}</code> "
                        f"{esc(row.requirement.title)}"
                    ),
                    esc(row.requirement.confidence.value),
                    esc(", ".join(row.checks) or row.requirement.evidence),
                    f'<span class="passed">{len(row.passed)}</span>',
                    f'<span class="failed">{len(row.failed)}</span>',
                )
                for row in compliance.requirements
            ),
            cls="coverage",
            row_attr="data-requirement",
        ),
    ]
    if concentration is not None:
        body.append(html_partitions(concentration.domains, "Vendor concentration"))
    else:
        body.append(
            '<h2>Vendor concentration</h2><p class="muted">No inventory given '
            "(<code>--inventory</code>).</p>"
        )
    body += ["<h2>Records</h2>", _drilldown(records)]
    return page("vendorproof audit report", "".join(body))
