"""``vendorproof certify`` and ``vendorproof declare``: unsigned statements."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli.support import (
    assert_error,
    assert_ok,
    invoke,
    names,
    run_script,
)
from vendorproof._cli import ExitCode
from vendorproof.models import _fields
from vendorproof.models.certification import CERTIFICATION_PREDICATE, Certification
from vendorproof.models.declaration import DECLARATION_PREDICATE, TrustDeclaration
from vendorproof.models.documents import load_signed_document
from vendorproof.models.manifest import ComponentManifest
from vendorproof.models.statement import Statement

REPO = Path(__file__).resolve().parents[2]
ATTESTATIONS = REPO / "fixtures" / "deliveries" / "acme-gnb-24.1.3" / "attestations"
SIGNED_MANIFEST = ATTESTATIONS / "manifest.sigstore.json"
SHA256_A = hashlib.sha256(b"a").hexdigest()
SHA256_B = hashlib.sha256(b"b").hexdigest()


CERT_OPTS = [
    "--scheme", "NESAS", "--scheme-version", "2.1",
    "--certificate-id", "NESAS-ECB-2026-0042",
    "--body-name", "Example Certification Body GmbH", "--body-id", "example-cb",
    "--scope", "default hardened configuration",
    "--valid-from", "2026-01-15T00:00:00Z", "--valid-until", "2031-01-15T00:00:00Z",
]  # fmt: skip
#: What --from-manifest would otherwise supply.
HOLDER_OPTS = [
    "--holder-name", "Acme Radio Systems GmbH", "--holder-id", "acme",
    "--product", "AcmeRAN gNB", "--category", "gNB", "--product-version", "24.1.3",
]  # fmt: skip
DECL_OPTS = [
    "--vendor-name", "Acme Radio Systems GmbH", "--vendor-id", "acme",
    "--legal-entity", "Acme Radio Systems GmbH, HRB 000000",
    "--product", "AcmeRAN *", "--product", "AcmeCore *",
    "--valid-until", "2031-12-31T23:59:59Z",
    "--signatory-name", "Erika Mustermann",
    "--signatory-role", "Chief Product Security Officer",
    "--commitment", "No sabotage.", "--commitment", "Notify changes.",
    "--legal-basis", "§9b(3) BSIG (2021)",
]  # fmt: skip


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("VENDORPROOF_KEY_PASSPHRASE", "VENDORPROOF_DEBUG"):
        monkeypatch.delenv(var, raising=False)


def certification(path: Path) -> tuple[Statement, Certification]:
    statement = Statement.from_bytes(path.read_bytes())
    return statement, Certification.from_statement(statement)


def sample_manifest() -> ComponentManifest:
    doc = load_signed_document(SIGNED_MANIFEST.read_bytes(), file="manifest")
    return ComponentManifest.from_statement(doc.statement)


# --------------------------------------------------------------------------- certify


def test_certify_from_signed_manifest_with_component_filter(tmp_path: Path) -> None:
    chosen = ["images/gnb-du-24.1.3.img", "containers/oam-agent-24.1.3.tar"]
    out = tmp_path / "c.json"
    result = invoke(
        "certify", "--from-manifest", SIGNED_MANIFEST,
        *[a for c in chosen for a in ("--component", c)],
        *CERT_OPTS, "--facility-name", "Example Lab", "--facility-id", "example-lab",
        "--conformance", "3GPP TS 33.511 V17.4.0",
        "--report", f"evaluation-report:ETR-1:{SHA256_A}",
        "--status-url", "https://certification.example/status/1",
        "--assurance-level", "substantial", "-o", out,
    )  # fmt: skip
    assert_ok(result)
    assert "2 deliverables" in result.stdout
    statement, cert = certification(out)
    assert statement.predicate_type == CERTIFICATION_PREDICATE

    manifest = sample_manifest()
    by_path = {c.path: dict(c.digests) for c in manifest.components}
    # Only the chosen components, in manifest order, with the manifest's digests.
    assert [s.name for s in statement.subjects] == [
        c.path for c in manifest.components if c.path in chosen
    ]
    for s in statement.subjects:
        assert dict(s.digest) == by_path[s.name]
    # Holder, product, category and version come from the manifest.
    assert cert.holder.id == manifest.vendor.id == "acme"
    assert cert.holder.name == manifest.vendor.name
    assert cert.product == manifest.product == "AcmeRAN gNB"
    assert cert.category == manifest.network_function == "gNB"
    assert cert.versions == (manifest.version,)
    assert cert.scheme == "NESAS"
    assert cert.certificate_id == "NESAS-ECB-2026-0042"
    assert cert.evaluation_facility is not None
    assert cert.evaluation_facility.id == "example-lab"
    assert cert.conformance == ("3GPP TS 33.511 V17.4.0",)
    assert [(r.type, r.id, r.sha256) for r in cert.reports] == [
        ("evaluation-report", "ETR-1", SHA256_A)
    ]
    assert cert.status == "valid"
    assert cert.published_at == "https://certification.example/status/1"
    assert statement.predicate["status"] == {
        "value": "valid",
        "publishedAt": "https://certification.example/status/1",
    }
    assert cert.assurance_level == "substantial"
    assert cert.valid_from == datetime(2026, 1, 15, tzinfo=UTC)
    assert cert.valid_until == datetime(2031, 1, 15, tzinfo=UTC)


def test_certify_published_at_is_the_status_url(tmp_path: Path) -> None:
    # --published-at names the wire field (status.publishedAt); --status-url stays.
    out = tmp_path / "c.json"
    url = "https://certification.example/status/2"
    assert_ok(
        invoke(
            "certify",
            "--from-manifest",
            SIGNED_MANIFEST,
            *CERT_OPTS,
            "--published-at",
            url,
            "-o",
            out,
        )
    )
    statement, cert = certification(out)
    assert cert.published_at == url
    assert statement.predicate["status"]["publishedAt"] == url


def test_certify_from_manifest_without_filter_takes_all(tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    assert_ok(
        invoke("certify", "--from-manifest", SIGNED_MANIFEST, *CERT_OPTS, "-o", out)
    )
    statement, _ = certification(out)
    assert [s.name for s in statement.subjects] == [
        c.path for c in sample_manifest().components
    ]


def test_certify_from_unsigned_manifest_statement(tmp_path: Path) -> None:
    unsigned = tmp_path / "manifest.json"
    doc = load_signed_document(SIGNED_MANIFEST.read_bytes(), file="manifest")
    unsigned.write_bytes(doc.envelope.payload)
    out = tmp_path / "c.json"
    result = invoke(
        "certify", "--from-manifest", unsigned, "--component",
        "config/default-site.yaml", *CERT_OPTS, "-o", out,
    )  # fmt: skip
    assert_ok(result)
    statement, _ = certification(out)
    assert [s.name for s in statement.subjects] == ["config/default-site.yaml"]


def test_certify_with_subjects(tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    result = invoke(
        "certify", *CERT_OPTS, *HOLDER_OPTS,
        "--subject", f"images/a.img=sha256:{SHA256_A}",
        "--subject", f"images/b.img=sha256:{SHA256_B}", "-o", out,
    )  # fmt: skip
    assert_ok(result)
    statement, cert = certification(out)
    assert [(s.name, dict(s.digest)) for s in statement.subjects] == [
        ("images/a.img", {"sha256": SHA256_A}),
        ("images/b.img", {"sha256": SHA256_B}),
    ]
    assert cert.holder.id == "acme"
    assert cert.versions == ("24.1.3",)
    assert cert.evaluation_facility is None
    assert cert.reports == ()


def test_certify_console_script(tmp_path: Path) -> None:
    ok = run_script(
        "certify", "--from-manifest", SIGNED_MANIFEST, "--component",
        "images/gnb-cu-24.1.3.img", *CERT_OPTS, "-o", "c.json", cwd=tmp_path,
    )  # fmt: skip
    assert ok.returncode == ExitCode.OK, ok.stderr
    assert ok.stderr == ""
    statement, _ = certification(tmp_path / "c.json")
    assert [s.name for s in statement.subjects] == ["images/gnb-cu-24.1.3.img"]

    bad = run_script("certify", *CERT_OPTS, "-o", "c2.json", cwd=tmp_path)
    assert bad.returncode == ExitCode.INVALID_INPUT
    assert "Traceback" not in bad.stderr
    assert bad.stderr.count("\n") == 1
    assert bad.stderr.startswith("error: --subject: ")
    assert names(tmp_path) == {"c.json"}


def certify_fails(tmp_path: Path, *args: str | Path) -> str:
    """Run ``certify`` expecting exit 3; nothing may be written."""
    result = invoke("certify", *args, "-o", tmp_path / "c.json")
    line = assert_error(result, ExitCode.INVALID_INPUT)
    assert names(tmp_path) == set()
    return line


def test_certify_without_subjects(tmp_path: Path) -> None:
    line = certify_fails(tmp_path, *CERT_OPTS, *HOLDER_OPTS)
    assert "--subject" in line
    assert "--from-manifest" in line


def test_certify_component_not_in_manifest(tmp_path: Path) -> None:
    line = certify_fails(
        tmp_path, "--from-manifest", SIGNED_MANIFEST,
        "--component", "images/nope.img", *CERT_OPTS,
    )  # fmt: skip
    assert line.startswith(f"error: {SIGNED_MANIFEST}: ")
    assert "'images/nope.img'" in line


def test_certify_component_without_manifest(tmp_path: Path) -> None:
    line = certify_fails(
        tmp_path, "--component", "images/a.img", *CERT_OPTS, *HOLDER_OPTS
    )
    assert "--component" in line
    assert "--from-manifest" in line


def test_certify_from_manifest_that_is_not_a_manifest(tmp_path: Path) -> None:
    other = ATTESTATIONS / "declaration.sigstore.json"
    line = certify_fails(tmp_path, "--from-manifest", other, *CERT_OPTS)
    assert line.startswith(f"error: {other}: ")
    assert "predicateType" in line


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        pytest.param(b"not json", "invalid JSON", id="garbage"),
        pytest.param(b'{"_type": "x", "_type": "y"}', "duplicate key", id="dupkey"),
    ],
)
def test_certify_from_malformed_manifest(
    tmp_path: Path, content: bytes, needle: str
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    bad = src / "manifest.json"
    bad.write_bytes(content)
    out = tmp_path / "out"
    out.mkdir()
    result = invoke("certify", "--from-manifest", bad, *CERT_OPTS, "-o", out / "c.json")
    line = assert_error(result, ExitCode.INVALID_INPUT, needle)
    assert line.startswith(f"error: {bad}: ")
    assert names(out) == set()


def test_certify_missing_manifest_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sigstore.json"
    result = invoke(
        "certify", "--from-manifest", missing, *CERT_OPTS, "-o", tmp_path / "c.json"
    )
    line = assert_error(result, ExitCode.INVALID_INPUT, "cannot read")
    assert line.startswith(f"error: {missing}: ")
    assert names(tmp_path) == set()


@pytest.mark.parametrize("scheme", ["FOO", "nesas", ""])
def test_certify_unknown_scheme(tmp_path: Path, scheme: str) -> None:
    opts = [scheme if a == "NESAS" else a for a in CERT_OPTS]
    line = certify_fails(
        tmp_path, *opts, *HOLDER_OPTS, "--subject", f"a=sha256:{SHA256_A}"
    )
    assert "scheme.name" in line


@pytest.mark.parametrize(
    "until",
    ["2026-01-14T23:59:59Z", "2026-01-15T00:00:00Z", "2026-01-15T01:00:00+02:00"],
)
def test_certify_valid_until_not_after_valid_from(tmp_path: Path, until: str) -> None:
    line = certify_fails(
        tmp_path, *CERT_OPTS, *HOLDER_OPTS, "--subject", f"a=sha256:{SHA256_A}",
        "--valid-until", until,
    )  # fmt: skip
    assert "validUntil" in line
    assert "after validFrom" in line


def test_certify_bad_valid_from(tmp_path: Path) -> None:
    line = certify_fails(
        tmp_path, *CERT_OPTS, *HOLDER_OPTS, "--subject", f"a=sha256:{SHA256_A}",
        "--valid-from", "15.01.2026",
    )  # fmt: skip
    assert "--valid-from" in line
    assert "'15.01.2026'" in line


@pytest.mark.parametrize("report", ["foo", "a:b", "a:b:c:d"])
def test_certify_bad_report_syntax(tmp_path: Path, report: str) -> None:
    line = certify_fails(
        tmp_path, *CERT_OPTS, *HOLDER_OPTS, "--subject", f"a=sha256:{SHA256_A}",
        "--report", report,
    )  # fmt: skip
    assert "--report" in line
    assert repr(report) in line


def test_certify_bad_report_digest(tmp_path: Path) -> None:
    line = certify_fails(
        tmp_path, *CERT_OPTS, *HOLDER_OPTS, "--subject", f"a=sha256:{SHA256_A}",
        "--report", f"etr:ETR-1:{SHA256_A.upper()}",
    )  # fmt: skip
    assert "reports[0].sha256" in line


@pytest.mark.parametrize(
    "subject", ["a.img", "a.img=abc", "=sha256:" + "0" * 64, "a.img:sha256=abc"]
)
def test_certify_bad_subject_syntax(tmp_path: Path, subject: str) -> None:
    line = certify_fails(tmp_path, *CERT_OPTS, *HOLDER_OPTS, "--subject", subject)
    assert "--subject" in line
    assert repr(subject) in line


@pytest.mark.parametrize("digest", ["abc", SHA256_A.upper(), SHA256_A + "00"])
def test_certify_bad_subject_digest(tmp_path: Path, digest: str) -> None:
    line = certify_fails(
        tmp_path, *CERT_OPTS, *HOLDER_OPTS, "--subject", f"a.img=sha256:{digest}"
    )
    assert "digest.sha256" in line


def test_certify_bad_status(tmp_path: Path) -> None:
    line = certify_fails(
        tmp_path, *CERT_OPTS, *HOLDER_OPTS, "--subject", f"a=sha256:{SHA256_A}",
        "--status", "revoked",
    )  # fmt: skip
    assert "status.value" in line
    assert "'revoked'" in line


def test_certify_subjects_without_holder(tmp_path: Path) -> None:
    # Without --from-manifest the holder and product must be given explicitly.
    line = certify_fails(tmp_path, *CERT_OPTS, "--subject", f"a=sha256:{SHA256_A}")
    assert "product" in line


def test_certify_existing_output_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    out.write_bytes(b"precious\n")
    args: list[str | Path] = [
        *CERT_OPTS,
        *HOLDER_OPTS,
        "--subject",
        f"a=sha256:{SHA256_A}",
    ]
    args += ["-o", out]
    assert_error(invoke("certify", *args), ExitCode.INVALID_INPUT, str(out), "--force")
    assert out.read_bytes() == b"precious\n"
    assert names(tmp_path) == {"c.json"}
    assert_ok(invoke("certify", *args, "--force"))
    certification(out)
    assert names(tmp_path) == {"c.json"}


# --------------------------------------------------------------------------- declare


def test_declare(tmp_path: Path) -> None:
    out = tmp_path / "d.json"
    result = invoke(
        "declare", *DECL_OPTS, "--issued-at", "2026-01-02T00:00:00Z", "-o", out
    )
    assert_ok(result)
    assert "declaration of Acme Radio Systems GmbH" in result.stdout
    statement = Statement.from_bytes(out.read_bytes())
    assert statement.predicate_type == DECLARATION_PREDICATE
    decl = TrustDeclaration.from_statement(statement)
    assert decl.vendor.id == "acme"
    assert decl.products == ("AcmeRAN *", "AcmeCore *")
    assert decl.commitments == ("No sabotage.", "Notify changes.")
    assert decl.issued_at == datetime(2026, 1, 2, tzinfo=UTC)
    assert decl.valid_until == datetime(2031, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert decl.legal_basis == "§9b(3) BSIG (2021)"
    assert decl.covers("AcmeRAN gNB")
    # The subject is the declaration itself: SHA-256 of the canonical predicate JSON.
    (subject,) = statement.subjects
    assert subject.name == "trust-declaration:acme"
    canonical = json.dumps(
        dict(statement.predicate),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")
    assert dict(subject.digest) == {"sha256": hashlib.sha256(canonical).hexdigest()}


def test_declare_issued_at_defaults_to_now(tmp_path: Path) -> None:
    out = tmp_path / "d.json"
    before = datetime.now(UTC).replace(microsecond=0)
    assert_ok(invoke("declare", *DECL_OPTS, "-o", out))
    after = datetime.now(UTC) + timedelta(seconds=1)
    decl = TrustDeclaration.from_statement(Statement.from_bytes(out.read_bytes()))
    assert before <= decl.issued_at <= after


def declare_fails(tmp_path: Path, *args: str | Path) -> str:
    result = invoke("declare", *args, "-o", tmp_path / "d.json")
    line = assert_error(result, ExitCode.INVALID_INPUT)
    assert names(tmp_path) == set()
    return line


@pytest.mark.parametrize("value", ["tomorrow", "2026-01-02", "2026-01-02 00:00:00Z"])
def test_declare_bad_issued_at(tmp_path: Path, value: str) -> None:
    line = declare_fails(tmp_path, *DECL_OPTS, "--issued-at", value)
    assert "--issued-at" in line
    assert repr(value) in line


def test_declare_bad_valid_until(tmp_path: Path) -> None:
    opts = ["2031-12-31" if a == "2031-12-31T23:59:59Z" else a for a in DECL_OPTS]
    line = declare_fails(tmp_path, *opts)
    assert "--valid-until" in line
    assert "'2031-12-31'" in line


def test_declare_valid_until_before_issued_at(tmp_path: Path) -> None:
    line = declare_fails(tmp_path, *DECL_OPTS, "--issued-at", "2032-01-01T00:00:00Z")
    assert "validUntil" in line
    assert "after issuedAt" in line


def test_declare_empty_commitment(tmp_path: Path) -> None:
    line = declare_fails(tmp_path, *DECL_OPTS, "--commitment", "  ")
    assert "commitments[2]" in line


def test_declare_console_script(tmp_path: Path) -> None:
    ok = run_script(
        "declare", *DECL_OPTS, "--issued-at", "2026-01-02T00:00:00Z", "-o", "d.json",
        cwd=tmp_path,
    )  # fmt: skip
    assert ok.returncode == ExitCode.OK, ok.stderr
    assert ok.stderr == ""
    TrustDeclaration.from_statement(
        Statement.from_bytes((tmp_path / "d.json").read_bytes())
    )

    bad = run_script(
        "declare", *DECL_OPTS, "--issued-at", "yesterday", "-o", "d2.json", cwd=tmp_path
    )
    assert bad.returncode == ExitCode.INVALID_INPUT
    assert "Traceback" not in bad.stderr
    assert bad.stderr.count("\n") == 1
    assert bad.stderr.startswith("error: --issued-at: ")
    assert names(tmp_path) == {"d.json"}


def test_declare_existing_output_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "d.json"
    out.write_bytes(b"precious\n")
    args: list[str | Path] = [*DECL_OPTS, "--issued-at", "2026-01-02T00:00:00Z"]
    args += ["-o", out]
    assert_error(invoke("declare", *args), ExitCode.INVALID_INPUT, str(out), "--force")
    assert out.read_bytes() == b"precious\n"
    assert_ok(invoke("declare", *args, "--force"))
    TrustDeclaration.from_statement(Statement.from_bytes(out.read_bytes()))
    assert names(tmp_path) == {"d.json"}


def test_times_are_normalised_to_utc(tmp_path: Path) -> None:
    out = tmp_path / "d.json"
    assert_ok(
        invoke(
            "declare", *DECL_OPTS, "--issued-at", "2026-01-02T02:00:00+02:00", "-o", out
        )
    )
    data = json.loads(out.read_bytes())
    assert data["predicate"]["issuedAt"] == _fields.format_time(
        datetime(2026, 1, 2, tzinfo=UTC)
    )
