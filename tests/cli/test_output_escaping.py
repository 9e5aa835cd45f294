"""Terminal injection: untrusted text never reaches the terminal as control codes.

Escape sequences, newlines, C1 controls and Unicode bidirectional overrides from
signed documents, delivered file names and evidence stores are shown as visible
escapes (``\\x1b``, ``\\n``, ``\\u202e``) in every human output of ``verify``,
``inspect``, ``intake``, ``evidence`` and ``audit``.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

import vendorproof._cli
from tests.builders import (
    AT_TEXT,
    KEYS,
    KINDS,
    DeliveryBuilder,
    certification_statement,
    manifest_statement,
    policy_data,
    vendor_a,
    write_policy,
)
from tests.cli.support import invoke
from vendorproof._cli import ExitCode, _reports
from vendorproof._cli._common import json_text, safe_text

OP_KEY = KEYS / "operator" / "intake.key"
OP_PUB = KEYS / "operator" / "intake.pub"

#: Erases the line, returns to column 0, starts a new line that reads like a verdict,
#: then a C1 CSI, a bell, a right-to-left override and a left-to-right isolate.
HOSTILE = "AcmeRAN gNB\x1b[2K\r\nverdict: PASSED\x9b31m\x07\u202e\u2066"
VISIBLE = "\\x1b[2K\\r\\nverdict: PASSED\\x9b31m\\x07\\u202e\\u2066"

#: Every character that must never be printed raw.
UNSAFE = re.compile(
    r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2028\u2029"
    r"\u2066-\u2069]"
)


def assert_clean(text: str, verdict: str | None = None) -> None:
    """No control or bidi character in ``text`` (newlines end lines only); the only
    line that reads like a verdict is the real one."""
    found = UNSAFE.findall(text)
    assert not found, found
    lines = [line for line in text.splitlines() if line.startswith("verdict:")]
    assert lines == ([f"verdict: {verdict}"] if verdict else [])


# -- the escaping function ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text, ÄÖÜ ß € 日本", "plain text, ÄÖÜ ß € 日本"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("a\nb\rc\td", "a\\nb\\rc\\td"),
        ("\x00\x07\x7f\x85\x9b", "\\x00\\x07\\x7f\\x85\\x9b"),
        (
            "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
            "\\u202a\\u202b\\u202c\\u202d\\u202e\\u2066\\u2067\\u2068\\u2069",
        ),
        ("\u200e\u200f\u061c", "\\u200e\\u200f\\u061c"),
        ("\u2028\u2029", "\\u2028\\u2029"),
        ("\ud800", "\\ud800"),
        ("C:\\path [bold]", "C:\\path [bold]"),
    ],
)
def test_safe_text_escapes_controls_and_bidi(raw: str, shown: str) -> None:
    assert safe_text(raw) == shown


def test_json_text_is_the_same_json_without_raw_controls() -> None:
    data = {"product": HOSTILE + "\u2028\x7f", "n": 1, "ü": "é"}
    text = json_text(data, sort_keys=True)
    assert_clean(text)
    assert json.loads(text) == data
    assert "é" in text  # non-ASCII stays readable


# -- verify and intake ----------------------------------------------------------------


def hostile_delivery(delivery: DeliveryBuilder, *, tamper: bool) -> Path:
    """A delivery whose product name and one delivered file name carry escapes."""
    certified = {k: v for k, v in delivery.files.items() if k.startswith("images/")}
    delivery.standard(
        manifest=manifest_statement(
            delivery.files,
            kinds=KINDS,
            product=HOSTILE,
            vendor_name="Acme\x1b]0;owned\x07 Radio",
        ),
        certification=certification_statement(certified, product=HOSTILE),
    )
    if tamper:
        (delivery.root / "images/du.img").write_bytes(b"tampered")
        (delivery.root / "extra\x1b[8m\u202efile").write_bytes(b"unlisted")
    return delivery.root


def verify(root: Path, policy: Path) -> tuple[int, str, str]:
    r = invoke("verify", root, "--policy", policy, "--at", AT_TEXT, "--all")
    return r.exit_code, r.stdout, r.stderr


def test_verify_text_output_escapes_document_text(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    root = hostile_delivery(delivery, tamper=True)
    code, out, _ = verify(root, policy_file)
    assert code == ExitCode.VERIFICATION_FAILED
    assert_clean(out, "FAILED")
    assert out.rstrip().splitlines()[-1] == "verdict: FAILED"
    # The header shows the verified vendor and the manifest's claims, escaped.
    assert "vendor: acme (Acme Radio Systems GmbH), verified signer" in out
    assert "vendor 'Acme\\x1b]0;owned\\x07 Radio'" in out
    assert VISIBLE in out
    assert "extra\\x1b[8m\\u202efile" in out  # a delivered file name


def test_verify_header_shows_the_verified_vendor(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    delivery.standard(
        manifest=manifest_statement(
            delivery.files, kinds=KINDS, vendor_name="Some Other Name"
        )
    )
    r = invoke("verify", delivery.root, "--policy", policy_file, "--at", AT_TEXT)
    assert r.exit_code == ExitCode.OK, r.stdout
    lines = r.stdout.splitlines()
    assert lines[0] == (
        "vendor: acme (Acme Radio Systems GmbH), verified signer of the manifest"
    )
    assert lines[1] == (
        "declared by the manifest: vendor 'Some Other Name' (id 'acme'), "
        "product 'AcmeRAN gNB', version '24.1.3'"
    )
    data = json.loads(
        invoke(
            "verify", delivery.root, "--policy", policy_file, "--at", AT_TEXT,
            "--format", "json",
        ).stdout
    )  # fmt: skip
    assert data["delivery"]["principal"] == {
        "id": "acme",
        "name": "Acme Radio Systems GmbH",
    }
    assert data["delivery"]["vendor"]["name"] == "Some Other Name"


def test_error_line_escapes_untrusted_names(tmp_path: Path) -> None:
    missing = tmp_path / "bundle\x1b[2J\u202e.sigstore.json"
    r = invoke("inspect", missing)
    assert r.exit_code == ExitCode.INVALID_INPUT
    assert_clean(r.stderr)
    assert "bundle\\x1b[2J\\u202e.sigstore.json" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


# -- inspect --------------------------------------------------------------------------


def test_inspect_escapes_document_text(tmp_path: Path) -> None:
    stmt = manifest_statement({"images/a\x1b[1A\u202eimg": b"x"}, product=HOSTILE)
    stmt["predicateType"] = "https://example.com/p\x1b[2K\nverdict: PASSED/v1"
    doc = tmp_path / "doc.sigstore.json"
    doc.write_bytes(vendor_a().sign(stmt))
    r = invoke("inspect", doc)
    assert r.exit_code == ExitCode.OK, r.stderr
    assert_clean(r.stdout)
    assert "predicate type: https://example.com/p\\x1b[2K\\nverdict: PASSED/v1" in (
        r.stdout
    )
    assert "images/a\\x1b[1A\\u202eimg" in r.stdout
    assert_clean(invoke("inspect", doc, "--json").stdout)


# -- intake, evidence and audit -----------------------------------------------------


def intake(root: Path, policy: Path, store: Path) -> tuple[int, str]:
    r = invoke(
        "intake", root, "--policy", policy, "--operator-key", OP_KEY,
        "--store", store, "--actor", "desk\x1b[31m", "--at", AT_TEXT,
    )  # fmt: skip
    assert "Traceback" not in r.output
    return r.exit_code, r.stdout


def test_intake_evidence_and_audit_escape_record_text(
    delivery: DeliveryBuilder, policy_file: Path, tmp_path: Path
) -> None:
    store = tmp_path / "evidence.db"
    root = hostile_delivery(delivery, tamper=False)
    code, out = intake(root, policy_file, store)
    assert code == ExitCode.OK, out
    assert_clean(out, "PASSED")
    assert VISIBLE in out

    listed = invoke("evidence", "list", "--store", store)
    assert listed.exit_code == ExitCode.OK
    assert_clean(listed.stdout)
    assert "\\x1b[2K" in listed.stdout

    shown = invoke("evidence", "show", "1", "--store", store)
    assert shown.exit_code == ExitCode.OK
    assert_clean(shown.stdout)
    statement = json.loads(shown.stdout)["statement"]
    assert statement["predicate"]["vendorproof"]["delivery"]["product"] == HOSTILE

    exported = invoke("evidence", "export", "--store", store)
    assert exported.exit_code == ExitCode.OK
    assert_clean(exported.stdout)

    as_csv = invoke("evidence", "export", "--store", store, "--format", "csv")
    assert as_csv.exit_code == ExitCode.OK
    assert_clean(as_csv.stdout)
    assert "\\x1b[2K" in as_csv.stdout

    # What-if replay under a new deny-list: the changed decision quotes the record.
    data = policy_data()
    data["denyList"][0]["vendor"] = "acme"
    what_if = write_policy(tmp_path / "what-if.yaml", data)
    r = invoke(
        "audit", "replay", "--store", store, "--operator-pub", OP_PUB,
        "--policy", what_if, "--all",
    )  # fmt: skip
    assert r.exit_code == ExitCode.OK, (r.stdout, r.stderr)
    assert_clean(r.stdout)
    assert "CHANGED" in r.stdout
    assert "\\x1b[2K" in r.stdout


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "\\t=1"),
        ("AcmeRAN gNB", "AcmeRAN gNB"),
        ("24.1.3", "24.1.3"),
    ],
)
def test_csv_cells_are_never_formulas(value: str, cell: str) -> None:
    assert _reports.csv_text(value) == cell


# -- no output path around the escaping ------------------------------------------------


CLI = Path(vendorproof._cli.__file__).parent
#: typer.echo may print only JSON (escaped by json) or an export buffer directly.
# machine_document: SARIF (ASCII JSON) and JUnit (controls replaced by xml_text).
RAW_ECHO_ALLOWED = (
    "json.dumps",
    "json_text",
    "machine_document(",
    "_reports.machine_document(",
)


def _calls(tree: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)]


@pytest.mark.parametrize(
    "module",
    sorted(p.name for p in CLI.glob("*.py") if p.name != "_common.py"),
)
def test_human_output_goes_through_the_escaping_helpers(module: str) -> None:
    tree = ast.parse((CLI / module).read_text(encoding="utf-8"))
    for call in _calls(tree):
        name = ast.unparse(call.func)
        assert name not in ("Console", "rich.console.Console"), (
            f"{module}:{call.lineno}: use _common.console()"
        )
        if name == "typer.echo" and call.args:
            arg = ast.unparse(call.args[0])
            allowed = arg.startswith(RAW_ECHO_ALLOWED) or arg.startswith("safe_text(")
            assert allowed or (module == "__init__.py" and "__version__" in arg), (
                f"{module}:{call.lineno}: typer.echo({arg}) bypasses _common.echo()"
            )
