"""``vendorproof verify``, ``policy check`` and ``x509 verify``: exit codes and output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.builders import (
    KEYS,
    SAMPLE_AT_TEXT,
    SAMPLE_DELIVERY,
    SAMPLE_POLICY,
    DeliveryBuilder,
    copy_sample,
)
from vendorproof._cli import ExitCode, app

runner = CliRunner()


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_sample_delivery_verifies() -> None:
    code, out, err = invoke(
        "verify", SAMPLE_DELIVERY, "--policy", SAMPLE_POLICY, "--at", SAMPLE_AT_TEXT
    )
    assert code == ExitCode.OK, out + err
    assert "verdict: PASSED" in out
    assert "certified = delivered" in out


def test_json_report_schema(tmp_path: Path) -> None:
    out_file = tmp_path / "report.json"
    code, out, _ = invoke(
        "verify",
        SAMPLE_DELIVERY,
        "--policy",
        SAMPLE_POLICY,
        "--at",
        SAMPLE_AT_TEXT,
        "--format",
        "json",
        "-o",
        out_file,
    )
    assert code == ExitCode.OK
    data = json.loads(out)
    assert data == json.loads(out_file.read_text())
    assert data["verdict"] == "PASSED"
    assert data["validationTime"] == SAMPLE_AT_TEXT
    assert data["validationTimeSource"] == "--at"
    assert data["policy"]["id"] == "de-5g-intake-2020"
    assert len(data["policy"]["digest"]["sha256"]) == 64
    assert data["delivery"]["product"] == "AcmeRAN gNB"
    for check in data["checks"]:
        assert set(check) == {"check", "subject", "requirements", "outcome", "reason"}
        assert check["requirements"]


def test_report_output_is_not_overwritten_without_force(tmp_path: Path) -> None:
    out_file = tmp_path / "report.json"
    out_file.write_text("keep")
    code, _, err = invoke(
        "verify",
        SAMPLE_DELIVERY,
        "--policy",
        SAMPLE_POLICY,
        "--at",
        SAMPLE_AT_TEXT,
        "-o",
        out_file,
    )
    assert code == ExitCode.INVALID_INPUT
    assert "exists" in err
    assert out_file.read_text() == "keep"


def test_tampered_delivery_exits_1(tmp_path: Path) -> None:
    root = copy_sample(tmp_path / "d")
    img = root / "images/gnb-du-24.1.3.img"
    data = bytearray(img.read_bytes())
    data[0] ^= 0xFF
    img.write_bytes(bytes(data))
    code, out, _ = invoke(
        "verify", root, "--policy", SAMPLE_POLICY, "--at", SAMPLE_AT_TEXT
    )
    assert code == ExitCode.VERIFICATION_FAILED
    assert "verdict: FAILED" in out
    assert "images/gnb-du-24.1.3.img" in out


def test_expired_everything_at_far_future_exits_1() -> None:
    code, out, _ = invoke(
        "verify",
        SAMPLE_DELIVERY,
        "--policy",
        SAMPLE_POLICY,
        "--at",
        "2041-01-01T00:00:00Z",
    )
    assert code == ExitCode.VERIFICATION_FAILED
    assert "not valid" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"{not json", "invalid JSON", id="non-json"),
        pytest.param(b'{"mediaType": "x"', "invalid JSON", id="truncated"),
        pytest.param(b'{"a": 1, "a": 2}', "duplicate key", id="duplicate-key"),
        pytest.param(b"[" * 100000 + b"]" * 100000, "nest", id="deep"),
        pytest.param(
            b'{"payload": "!!!", "payloadType": "application/vnd.in-toto+json",'
            b' "signatures": [{"sig": "AAAA"}]}',
            "base64",
            id="base64-garbage",
        ),
        pytest.param(
            b'{"payload": "e30=", "payloadType": "text/plain",'
            b' "signatures": [{"sig": "AAAA"}]}',
            "payloadType",
            id="wrong-payload-type",
        ),
    ],
)
def test_malformed_attestation_fails_the_delivery(
    delivery: DeliveryBuilder, policy_file: Path, content: bytes, message: str
) -> None:
    # A malformed vendor document is a failed check naming the file and the field
    # (design.md, "Malformed vendor documents"), never an exit 3 or a traceback.
    delivery.standard()
    delivery.attest("broken.sigstore.json", content)
    code, out, err = invoke(
        "verify",
        delivery.root,
        "--policy",
        policy_file,
        "--at",
        SAMPLE_AT_TEXT,
        "--format",
        "json",
    )
    assert code == ExitCode.VERIFICATION_FAILED, err
    assert "Traceback" not in err
    failed = [
        c
        for c in json.loads(out)["checks"]
        if c["outcome"] == "fail"
        and c["subject"] == "attestations/broken.sigstore.json"
    ]
    assert [c["check"] for c in failed] == ["attestations"]
    assert failed[0]["reason"].startswith(
        "malformed: attestations/broken.sigstore.json"
    )
    assert message in failed[0]["reason"]


def test_huge_attestation_fails_the_delivery(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    delivery.standard()
    delivery.attest("huge.sigstore.json", b" " * (17 * 1024 * 1024))
    code, out, err = invoke(
        "verify",
        delivery.root,
        "--policy",
        policy_file,
        "--at",
        SAMPLE_AT_TEXT,
        "--format",
        "json",
    )
    assert code == ExitCode.VERIFICATION_FAILED, err
    (failed,) = [
        c
        for c in json.loads(out)["checks"]
        if c["subject"] == "attestations/huge.sigstore.json"
    ]
    assert failed["check"] == "attestations"
    assert "too large" in failed["reason"] or "larger" in failed["reason"]


def test_policy_error_names_file_line_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    text = SAMPLE_POLICY.read_text().replace(
        "unlistedFiles: fail", "unlistedFile: fail"
    )
    bad.write_text(text.replace("../../keys", str(KEYS)))
    code, _, err = invoke(
        "verify", SAMPLE_DELIVERY, "--policy", bad, "--at", SAMPLE_AT_TEXT
    )
    assert code == ExitCode.INVALID_INPUT
    assert str(bad) in err
    assert "unknown key 'unlistedFile'" in err
    assert "(line " in err


def test_yaml_alias_bomb_policy_exits_3(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    bomb.write_text("\n".join(lines) + "\n")
    code, _, err = invoke("policy", "check", bomb)
    assert code == ExitCode.INVALID_INPUT
    assert "alias" in err


def test_policy_check_ok() -> None:
    code, out, _ = invoke("policy", "check", SAMPLE_POLICY)
    assert code == ExitCode.OK
    assert "de-5g-intake-2020" in out


def test_missing_policy_option_is_usage_error() -> None:
    code, _, _ = invoke("verify", SAMPLE_DELIVERY)
    assert code == ExitCode.USAGE


def test_bad_at_exits_3() -> None:
    code, _, err = invoke(
        "verify", SAMPLE_DELIVERY, "--policy", SAMPLE_POLICY, "--at", "tomorrow"
    )
    assert code == ExitCode.INVALID_INPUT
    assert "--at" in err


def test_bad_format_is_a_usage_error() -> None:
    code, _, err = invoke(
        "verify", SAMPLE_DELIVERY, "--policy", SAMPLE_POLICY, "--format", "xml"
    )
    assert code == ExitCode.USAGE
    assert "--format" in err
    assert "'xml'" in err


def test_internal_error_exits_4_and_debug_shows_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import vendorproof.intake

    def boom(*_a: object, **_k: object) -> None:
        msg = "simulated bug"
        raise RuntimeError(msg)

    monkeypatch.setattr(vendorproof.intake, "check_delivery", boom)
    code, _, err = invoke("verify", SAMPLE_DELIVERY, "--policy", SAMPLE_POLICY)
    assert code == ExitCode.INTERNAL_ERROR
    assert "internal error: RuntimeError: simulated bug" in err
    assert "report" in err
    assert "Traceback" not in err
    result = runner.invoke(
        app, ["--debug", "verify", str(SAMPLE_DELIVERY), "--policy", str(SAMPLE_POLICY)]
    )
    assert isinstance(result.exception, RuntimeError)


def test_console_script_has_no_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "vendorproof",
            "verify",
            str(tmp_path / "missing"),
            "--policy",
            str(SAMPLE_POLICY),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == ExitCode.INVALID_INPUT
    assert "Traceback" not in proc.stderr
    assert "missing" in proc.stderr


# -- x509 verify -------------------------------------------------------------------

VA = KEYS / "vendor-a"


def test_x509_verify_valid_chain() -> None:
    code, out, _ = invoke(
        "x509",
        "verify",
        VA / "signing.pem",
        "--roots",
        VA / "root.pem",
        "--intermediates",
        VA / "intermediate.pem",
        "--at",
        SAMPLE_AT_TEXT,
    )
    assert code == ExitCode.OK
    assert out.startswith("VALID: CN=Acme Radio Systems Release Signing 2025")


def test_x509_verify_json() -> None:
    code, out, _ = invoke(
        "x509",
        "verify",
        VA / "signing.pem",
        "--roots",
        VA / "root.pem",
        "--intermediates",
        VA / "intermediate.pem",
        "--at",
        SAMPLE_AT_TEXT,
        "--json",
    )
    assert code == ExitCode.OK
    data = json.loads(out)
    assert data["valid"] is True
    assert len(data["chain"]) == 3


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        pytest.param(
            ["--roots", KEYS / "vendor-b/root.pem"], "no valid chain", id="other-root"
        ),
        pytest.param(
            ["--roots", VA / "root.pem"], "no valid chain", id="missing-intermediate"
        ),
        pytest.param(
            [
                "--roots",
                VA / "root.pem",
                "--intermediates",
                VA / "intermediate.pem",
                "--at",
                "2041-01-01T00:00:00Z",
            ],
            "not valid at validation time",
            id="expired",
        ),
        pytest.param(
            [
                "--roots",
                VA / "root.pem",
                "--intermediates",
                VA / "intermediate.pem",
                "--eku",
                "time-stamping",
            ],
            "incorrect criticality",
            id="wrong-eku",
        ),
    ],
)
def test_x509_verify_invalid_exits_1(args: list[str | Path], reason: str) -> None:
    code, _, err = invoke("x509", "verify", VA / "signing.pem", *args)
    assert code == ExitCode.VERIFICATION_FAILED
    assert reason in err


def test_x509_verify_garbage_certificate_exits_3(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    code, _, err = invoke("x509", "verify", junk, "--roots", VA / "root.pem")
    assert code == ExitCode.INVALID_INPUT
    assert str(junk) in err


def test_x509_verify_tsa_certificate() -> None:
    code, out, _ = invoke(
        "x509",
        "verify",
        KEYS / "tsa/tsa.pem",
        "--roots",
        KEYS / "tsa/root.pem",
        "--eku",
        "time-stamping",
        "--at",
        SAMPLE_AT_TEXT,
    )
    assert code == ExitCode.OK, out


def test_x509_verify_revoked_leaf_exits_1() -> None:
    code, _, err = invoke(
        "x509",
        "verify",
        VA / "signing-revoked.pem",
        "--roots",
        VA / "root.pem",
        "--intermediates",
        VA / "intermediate.pem",
        "--at",
        SAMPLE_AT_TEXT,
        "--crl",
        VA / "intermediate.crl.pem",
        "--crl",
        VA / "root.crl.pem",
        "--revocation",
        "require",
    )
    assert code == ExitCode.VERIFICATION_FAILED
    assert "is revoked since 2025-06-01T00:00:00Z" in err


def test_x509_verify_unprovable_revocation_exits_1() -> None:
    code, _, err = invoke(
        "x509",
        "verify",
        VA / "signing.pem",
        "--roots",
        VA / "root.pem",
        "--intermediates",
        VA / "intermediate.pem",
        "--at",
        SAMPLE_AT_TEXT,
        "--revocation",
        "require",
    )
    assert code == ExitCode.VERIFICATION_FAILED
    assert "no current CRL" in err


def test_x509_verify_with_crls_passes() -> None:
    code, out, _ = invoke(
        "x509",
        "verify",
        VA / "signing.pem",
        "--roots",
        VA / "root.pem",
        "--intermediates",
        VA / "intermediate.pem",
        "--at",
        SAMPLE_AT_TEXT,
        "--crl",
        VA / "intermediate.crl.pem",
        "--crl",
        VA / "root.crl.pem",
        "--revocation",
        "require",
    )
    assert code == ExitCode.OK
    assert "not revoked" in out


def test_x509_verify_bad_revocation_mode_is_a_usage_error() -> None:
    code, _, err = invoke(
        "x509",
        "verify",
        VA / "signing.pem",
        "--roots",
        VA / "root.pem",
        "--revocation",
        "maybe",
    )
    assert code == ExitCode.USAGE
    assert "--revocation" in err
    assert "'maybe'" in err


def test_large_reports_group_passing_checks(
    delivery: DeliveryBuilder, policy_file: Path
) -> None:
    from tests.builders import declaration_statement, manifest_statement, vendor_a

    delivery.files = {f"fw/part{i:03d}.bin": b"x%d" % i for i in range(80)}
    delivery.write_payload()
    # A transport component: no certification rule applies to it.
    stmt = manifest_statement(
        delivery.files, domain="Transport", network_function="router"
    )
    delivery.attest("manifest.sigstore.json", vendor_a().sign(stmt))
    delivery.attest(
        "declaration.sigstore.json", vendor_a().sign(declaration_statement())
    )
    (delivery.root / "fw/part000.bin").write_bytes(b"tampered")
    code, out, _ = invoke(
        "verify", delivery.root, "--policy", policy_file, "--at", SAMPLE_AT_TEXT
    )
    assert code == ExitCode.VERIFICATION_FAILED
    assert "79 subjects" in out  # the passing integrity checks, grouped
    assert "fw/part000.bin" in out  # the failure, in full
    assert "fw/part001.bin" not in out
    _, out_all, _ = invoke(
        "verify",
        delivery.root,
        "--policy",
        policy_file,
        "--at",
        SAMPLE_AT_TEXT,
        "--all",
    )
    assert "fw/part001.bin" in out_all


_FIXTURES = SAMPLE_POLICY.parent.parent


@pytest.mark.parametrize(
    ("delivery", "policy", "extra"),
    [
        pytest.param(
            "packages/onap-sol004/csar-cert-in-cms-valid.csar",
            "policies/onap-sol004.yaml",
            ("--at", "2020-09-25T00:00:00Z"),
            id="sol004-csar",
        ),
        pytest.param(
            "packages/acme-upf-oci", "policies/acme-cnf.yaml", (), id="oci-layout"
        ),
        pytest.param(
            "packages/acme-upf-oci.tar",
            "policies/acme-cnf.yaml",
            ("--signature", str(_FIXTURES / "packages/acme-upf-oci.cose.sig")),
            id="oci-tar-with-signature-file",
        ),
    ],
)
def test_json_report_of_every_format_follows_the_schema(
    delivery: str, policy: str, extra: tuple[str, ...]
) -> None:
    from jsonschema import Draft202012Validator

    from vendorproof.schemas import load_schema

    code, out, err = invoke(
        "verify",
        _FIXTURES / delivery,
        "--policy",
        _FIXTURES / policy,
        *extra,
        "--format",
        "json",
    )
    assert code == ExitCode.OK, out + err
    report = json.loads(out)
    assert report["inputs"], "the report names the documents it read"
    Draft202012Validator(load_schema("report")).validate(report)
