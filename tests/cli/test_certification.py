"""``vendorproof certification``: the intake desk transcribes a certificate from its
PDF, intake accepts a delivery on it and stores the record and the PDF as evidence,
and ``audit replay`` re-runs the decision on those bytes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import Result

from tests import certs
from tests.builders import AT_TEXT, FILES, KEYS, DeliveryBuilder, digests
from tests.cli.support import assert_error, assert_ok, invoke
from vendorproof._cli import ExitCode
from vendorproof.verify import delivery as evaluation

OP_KEY = KEYS / "operator" / "intake.key"
OP_PUB = KEYS / "operator" / "intake.pub"


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    """A directory with the desk key, the policy naming the register, and the PDF."""
    certs.desk_key(tmp_path)
    certs.register_policy(tmp_path)
    (tmp_path / "nesas-report.pdf").write_bytes(certs.PDF)
    return tmp_path


def record_args(desk: Path, *extra: str) -> list[str | Path]:
    images = [
        f"--deliverable={p}=sha256:{digests(d)['sha256']}"
        for p, d in FILES.items()
        if p.startswith("images/")
    ]
    return [
        "certification",
        "record",
        desk / "register",
        "--key",
        desk / "desk.key",
        "--role",
        certs.ROLE,
        "--source",
        desk / "nesas-report.pdf",
        "--scheme",
        "NESAS",
        "--certificate-id",
        "NESAS-2026-0042",
        "--body",
        "Example Audit Lab GmbH",
        "--body-accreditation",
        "GSMA-NESAS-AL-0007",
        "--holder",
        "acme",
        "--product",
        "AcmeRAN gNB",
        "--version",
        "24.1.3",
        "--issued",
        "2026-01-10T00:00:00Z",
        "--valid-from",
        "2026-01-15T00:00:00Z",
        "--valid-until",
        "2031-01-15T00:00:00Z",
        *images,
        *extra,
    ]


def delivery(tmp_path: Path) -> Path:
    root = tmp_path / "delivery"
    DeliveryBuilder(root).standard()
    (root / "attestations" / "certification.sigstore.json").unlink()
    return root


def intake_result(desk: Path, root: Path, store: Path, key: Path = OP_KEY) -> Result:
    result = invoke(
        "intake",
        root,
        "--policy",
        desk / "policy.yaml",
        "--operator-key",
        key,
        "--store",
        store,
        "--actor",
        "desk",
        "--at",
        AT_TEXT,
    )
    assert "Traceback" not in result.output
    return result


def intake(desk: Path, root: Path, store: Path) -> int:
    return intake_result(desk, root, store).exit_code


def test_transcribe_intake_and_replay(desk: Path, tmp_path: Path) -> None:
    result = invoke(*record_args(desk))
    assert_ok(result)
    assert "attested by operator certification-desk, transcribed from" in result.stdout
    assert (desk / "register" / "records" / "NESAS-2026-0042.json").is_file()
    listed = invoke("certification", "list", "--policy", desk / "policy.yaml")
    assert_ok(listed)
    assert "NESAS NESAS-2026-0042 holder acme AcmeRAN gNB 24.1.3" in listed.stdout

    store = tmp_path / "evidence.db"
    assert intake(desk, delivery(tmp_path), store) == ExitCode.OK
    shown = invoke("evidence", "show", "1", "--store", store)
    assert_ok(shown)
    text = shown.stdout
    assert "certification-record:NESAS-2026-0042" in text
    assert f"certification-source:{certs.record().source_sha256}" in text
    assert "attested by operator certification-desk" in text

    # Replay re-runs the decision on the stored record and PDF, not the register.
    (desk / "register" / "records" / "NESAS-2026-0042.json").unlink()
    replayed = invoke("audit", "replay", "--store", store, "--operator-pub", OP_PUB)
    assert_ok(replayed)


def test_exists_without_force(desk: Path) -> None:
    assert_ok(invoke(*record_args(desk)))
    assert_error(invoke(*record_args(desk)), ExitCode.INVALID_INPUT, "exists")
    assert_ok(invoke(*record_args(desk, "--force")))


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (("--valid-until", "2025-01-01T00:00:00Z"), "ends before it starts"),
        (("--scheme", "ISO9001"), "unknown scheme"),
        (("--deliverable", "no-digest"), "--deliverable"),
        (("--deliverable", "a=sha256:xyz"), "--deliverable"),
        (("--holder", " "), "--holder"),
        (("--issued", "yesterday"), "--issued"),
        (
            ("--scheme", "EUCC", "--certificate-id", "EUCC-3090-2026-0000000042-00000"),
            "certificateId: 'EUCC-3090-2026-0000000042-00000' names no month",
        ),
        (
            ("--scheme", "EUCC", "--certificate-id", "EUCC-3090-2025-12-0042"),
            "names issuance in 2025-12, but the certificate was issued 2026-01-10",
        ),
    ],
)
def test_bad_transcriptions_are_refused(
    desk: Path, extra: tuple[str, str], needle: str
) -> None:
    assert_error(invoke(*record_args(desk, *extra)), ExitCode.INVALID_INPUT, needle)
    assert not (desk / "register" / "records" / "NESAS-2026-0042.json").exists()


def test_an_eucc_certificate_is_recorded_under_its_identification(desk: Path) -> None:
    result = invoke(
        *record_args(
            desk, "--scheme", "EUCC", "--certificate-id", "EUCC-3090-2026-01-0042"
        )
    )
    assert_ok(result)
    assert "recorded EUCC EUCC-3090-2026-01-0042" in result.stdout
    assert (desk / "register" / "records" / "EUCC-3090-2026-01-0042.json").is_file()


def test_list_shows_records_that_do_not_verify(desk: Path) -> None:
    assert_ok(invoke(*record_args(desk)))
    path = desk / "register" / "records" / "NESAS-2026-0042.json"
    envelope = json.loads(path.read_bytes())
    envelope["signatures"][0]["sig"] = "AAAA"
    path.write_text(json.dumps(envelope), encoding="utf-8")
    (desk / "register" / "records" / "junk.json").write_bytes(b"[]")
    listed = invoke("certification", "list", "--policy", desk / "policy.yaml")
    assert_ok(listed)
    assert "NOT signed by a key of role 'certification-desk'" in listed.stdout
    assert "certification-record:junk: malformed" in listed.stdout


def test_list_needs_a_register(tmp_path: Path) -> None:
    from tests.builders import write_policy

    policy = write_policy(tmp_path / "p.yaml")
    assert_error(
        invoke("certification", "list", "--policy", policy),
        ExitCode.INVALID_INPUT,
        "certification.records",
    )


CC_CSV = Path(__file__).resolve().parents[1] / "assets" / "cc-portal"


def test_record_from_a_cc_portal_row(desk: Path) -> None:
    result = invoke(
        "certification",
        "record",
        desk / "register",
        "--key",
        desk / "desk.key",
        "--role",
        certs.ROLE,
        "--source",
        desk / "nesas-report.pdf",
        "--holder",
        "acme",
        "--body-accreditation",
        "SE-CSEC",
        "--from-row",
        f"{CC_CSV / 'cc_products_active.csv'}:1",
        "--row-format",
        "cc-portal",
        "--certificate-id",
        "CSEC2019012",
        "--body",
        "CSEC",
        "--version",
        "4.7",
    )
    assert_ok(result)
    assert "from register row" in result.stdout
    listed = invoke("certification", "list", "--policy", desk / "policy.yaml")
    assert "CC CSEC2019012 holder acme NetIQ Identity Manager 4.7 4.7 valid until " in (
        listed.stdout
    )
    assert "2025-06-15" in listed.stdout


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("cc_products_active.csv:9", "row 9 asked for, the register has 4"),
        ("cc_products_active.csv:0", "expected FILE:N"),
        ("cc_products_active.csv", "expected FILE:N"),
    ],
)
def test_bad_rows(desk: Path, row: str, needle: str) -> None:
    spec = str(CC_CSV / row)
    result = invoke(*record_args(desk), "--from-row", spec, "--row-format", "cc-portal")
    assert_error(result, ExitCode.INVALID_INPUT, needle)


def test_row_without_what_the_record_needs(desk: Path) -> None:
    """The CC portal lists no certificate id: it must be given."""
    result = invoke(
        "certification",
        "record",
        desk / "register",
        "--key",
        desk / "desk.key",
        "--role",
        certs.ROLE,
        "--source",
        desk / "nesas-report.pdf",
        "--holder",
        "acme",
        "--body-accreditation",
        "SE-CSEC",
        "--from-row",
        f"{CC_CSV / 'cc_products_active.csv'}:1",
        "--row-format",
        "cc-portal",
    )
    assert_error(result, ExitCode.INVALID_INPUT, "--certificate-id")


def test_malformed_register_file(desk: Path) -> None:
    bad = desk / "nesas.csv"
    bad.write_text("scheme,certificateId\nNESAS,N-1\n", encoding="utf-8")
    result = invoke(*record_args(desk), "--from-row", f"{bad}:1")
    assert_error(result, ExitCode.INVALID_INPUT, "nesas.csv", "lacks column")


def status_args(desk: Path, cert: str, value: str, as_of: str) -> list[str | Path]:
    return [
        "certification",
        "status",
        cert,
        "--register",
        desk / "register",
        "--key",
        desk / "desk.key",
        "--role",
        certs.ROLE,
        "--status",
        value,
        "--as-of",
        as_of,
        "--source",
        "https://example.org/nesas/withdrawn",
    ]


def affected(desk: Path, store: Path, *extra: str) -> Result:
    return invoke(
        "audit",
        "affected",
        "--certificate",
        "NESAS-2026-0042",
        "--policy",
        desk / "policy.yaml",
        "--store",
        store,
        "--operator-pub",
        OP_PUB,
        *extra,
    )


def test_withdrawal_and_affected_deliveries(desk: Path, tmp_path: Path) -> None:
    assert_ok(invoke(*record_args(desk)))
    store = tmp_path / "evidence.db"
    root = delivery(tmp_path)
    assert intake(desk, root, store) == ExitCode.OK
    before = affected(desk, store)
    assert_ok(before)
    assert "PASSED -> PASSED" in before.stdout

    withdrawn = invoke(
        *status_args(desk, "NESAS-2026-0042", "withdrawn", "2026-05-01T00:00:00Z")
    )
    assert_ok(withdrawn)
    # From then on intake treats the certificate as withdrawn ...
    shown = invoke(
        "verify",
        root,
        "--policy",
        desk / "policy.yaml",
        "--at",
        AT_TEXT,
        "--format",
        "json",
    )
    assert shown.exit_code == ExitCode.VERIFICATION_FAILED
    report = json.loads(shown.stdout)
    reasons = [
        c["reason"]
        for c in report["checks"]
        if c["check"] == "certification" and c["outcome"] == "fail"
    ]
    assert any("withdrawn as of 2026-05-01T00:00:00Z" in r for r in reasons)
    # ... and audit affected names the delivery accepted before.
    after = affected(desk, store)
    assert after.exit_code == 1
    assert "#1 " in after.stdout
    assert "acme AcmeRAN gNB 24.1.3: PASSED -> FAILED" in after.stdout
    # Statuses known at an earlier time do not count.
    assert_ok(affected(desk, store, "--at", "2026-04-01T00:00:00Z"))
    # Valid again later: nothing fails now.
    assert_ok(
        invoke(*status_args(desk, "NESAS-2026-0042", "valid", "2026-05-20T00:00:00Z"))
    )
    assert_ok(affected(desk, store))
    # The recorded decision replays unchanged: statuses are evidence of their time.
    replayed = invoke("audit", "replay", "--store", store, "--operator-pub", OP_PUB)
    assert_ok(replayed)


def test_status_of_an_unknown_certificate(desk: Path) -> None:
    assert_ok(invoke(*record_args(desk)))
    assert_error(
        invoke(*status_args(desk, "NESAS-0000", "withdrawn", "2026-05-01T00:00:00Z")),
        ExitCode.INVALID_INPUT,
        "no record of certificate 'NESAS-0000'",
    )
    assert_error(
        invoke(
            *status_args(desk, "NESAS-2026-0042", "revoked", "2026-05-01T00:00:00Z")
        ),
        ExitCode.INVALID_INPUT,
        "--status",
    )
    args = status_args(desk, "NESAS-2026-0042", "suspended", "2026-05-01T00:00:00Z")
    assert_ok(invoke(*args))
    assert_error(invoke(*args), ExitCode.INVALID_INPUT, "exists already")


def test_missing_register_records_nothing(desk: Path, tmp_path: Path) -> None:
    store = tmp_path / "evidence.db"
    result = invoke(
        "intake",
        delivery(tmp_path),
        "--policy",
        desk / "policy.yaml",
        "--operator-key",
        OP_KEY,
        "--store",
        store,
        "--at",
        AT_TEXT,
    )
    assert_error(result, ExitCode.INVALID_INPUT, "has no records/ directory")
    listed = invoke("evidence", "list", "--store", store)
    assert "AcmeRAN" not in listed.stdout


def test_affected_skips_failed_deliveries_and_reports_unverified_records(
    desk: Path, tmp_path: Path
) -> None:
    assert_ok(invoke(*record_args(desk)))
    store = tmp_path / "evidence.db"
    root = delivery(tmp_path)
    (root / "images" / "du.img").write_bytes(b"tampered")
    assert intake(desk, root, store) == ExitCode.VERIFICATION_FAILED
    result = affected(desk, store)
    assert_ok(result)
    assert "0 accepted deliveries relied on NESAS-2026-0042" in result.stdout
    other = tmp_path / "other"
    other.mkdir()
    certs.desk_key(other)
    result = invoke(
        "audit",
        "affected",
        "--certificate",
        "NESAS-2026-0042",
        "--policy",
        desk / "policy.yaml",
        "--store",
        store,
        "--operator-pub",
        other / "desk.pub",
    )
    assert result.exit_code == 1
    assert "problem: record #1: its operator signature does not verify" in (
        result.stdout
    )


def test_intake_refuses_the_certification_desk_key(desk: Path, tmp_path: Path) -> None:
    assert_ok(invoke(*record_args(desk)))
    store = tmp_path / "evidence.db"
    result = intake_result(desk, delivery(tmp_path), store, key=desk / "desk.key")
    assert_error(
        result,
        ExitCode.INVALID_INPUT,
        "--operator-key",
        "certification records role 'certification-desk'",
    )
    # Nothing was recorded: the intake key's record is the first of the chain.
    good = intake_result(desk, delivery(tmp_path / "again"), store)
    assert_ok(good)
    assert "recorded as evidence #1 " in good.stdout


def test_a_verifier_failure_is_contained_to_its_record_in_affected(
    desk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure of the verifier while one record is re-run (simulated) is reported
    for that record: the listing of affected deliveries does not end there."""
    assert_ok(invoke(*record_args(desk)))
    store = tmp_path / "evidence.db"
    assert intake(desk, delivery(tmp_path), store) == ExitCode.OK

    def crafted(*_args: object, **_kwargs: object) -> None:
        raise KeyError("crafted")

    monkeypatch.setattr(evaluation, "check_integrity", crafted)
    result = affected(desk, store)
    assert "Traceback" not in result.output
    assert result.exit_code == 1, result.output
    assert "cannot re-run: KeyError: 'crafted' (a failure of vendorproof" in " ".join(
        result.stdout.split()
    )
