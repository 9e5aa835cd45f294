"""Self-contained HTML for the auditor reports: escaped text, no external assets.

Every string that reaches a page goes through :func:`esc` (``html.escape`` with
quotes), element by element; nothing is built from a record's text without it. The
page carries a Content-Security-Policy that allows no scripts, no network and no
frames (``default-src 'none'``), so even markup that got through could neither run
nor load anything; styles are inline in the page.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

__all__ = ["esc", "page", "table"]

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:80em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}.pass{color:#0a6b2d}.fail{color:#a30d0d;font-weight:bold}
.muted{color:#777}code{font-size:.9em}details{margin:.25em 0}
"""


def esc(value: object) -> str:
    """``value`` as HTML text: ``&``, ``<``, ``>``, ``"`` and ``'`` escaped."""
    return html.escape(str(value), quote=True)


def table(
    head: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    cls: str = "",
    row_attr: str = "",
) -> str:
    """A table; ``head`` is escaped here, every cell must already be HTML.

    ``row_attr`` (a fixed attribute such as ``data-requirement``) marks every body row.
    """
    klass = f' class="{esc(cls)}"' if cls else ""
    out = [f"<table{klass}><thead><tr>"]
    out += [f"<th>{esc(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for row in rows:
        attr = f" {row_attr}" if row_attr else ""
        out.append(f"<tr{attr}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def page(title: str, body: str) -> str:
    """A complete HTML5 document around ``body`` (already HTML)."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )
