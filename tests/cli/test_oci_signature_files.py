"""Notation envelopes given as files beside an OCI image layout (``--signature``).

The real notation-go envelopes (JWS and COSE) over the real layout, given as files
to ``verify`` and ``intake``: they verify, a tampered one or one for another
manifest does not, and a replay re-verifies the stored envelope.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.builders import KEYS, SAMPLE_DELIVERY
from tests.oci import (
    ASSETS,
    acme_image,
    acme_signer,
    jws_envelope,
    oci_policy,
    real_layout,
)
from vendorproof._cli import ExitCode, app

runner = CliRunner()
AT = "2026-01-01T00:00:00Z"
SIGNED_AT = datetime(2025, 1, 2, tzinfo=UTC)
JWS_FILE = ASSETS / "jws_signature.sig"
COSE_FILE = ASSETS / "cose_signature.sig"


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def verify(root: Path, pol: Path, *signatures: Path) -> tuple[int, dict[str, object]]:
    extra: list[str | Path] = []
    for s in signatures:
        extra += ["--signature", s]
    code, out, err = invoke(
        "verify", root, "--policy", pol, "--at", AT, "--format", "json", *extra
    )
    return code, json.loads(out) if out.strip() else {"stderr": err}


def outcomes(report: dict[str, object], subject: str) -> dict[str, str]:
    found = report["checks"]
    assert isinstance(found, list)
    return {c["check"]: c["outcome"] for c in found if c["subject"] == subject}


@pytest.mark.parametrize("envelope", [JWS_FILE, COSE_FILE], ids=["jws", "cose"])
def test_envelope_file_verifies(tmp_path: Path, envelope: Path) -> None:
    root = real_layout(tmp_path, referrer=False).root
    pol = oci_policy(tmp_path)
    code, report = verify(root, pol)
    assert code == ExitCode.VERIFICATION_FAILED  # no signature in the layout
    code, report = verify(root, pol, envelope)
    assert code == ExitCode.OK, report
    subject = f"signature:{envelope.name}"
    got = outcomes(report, subject)
    assert got["target-artifact"] == "pass"
    assert got["signer-identity"] == "pass"
    inputs = report["inputs"]
    assert isinstance(inputs, dict)
    assert subject in inputs


def test_tampered_envelope_file_fails(tmp_path: Path) -> None:
    root = real_layout(tmp_path, referrer=False).root
    jws = json.loads(JWS_FILE.read_text())
    sig = bytearray(jws["signature"].encode())
    sig[10] = ord("A") if sig[10] != ord("A") else ord("B")
    jws["signature"] = sig.decode()
    tampered = tmp_path / "tampered.sig"
    tampered.write_text(json.dumps(jws))
    code, report = verify(root, oci_policy(tmp_path), tampered)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "fail" in outcomes(report, "signature:tampered.sig").values()


def test_envelope_for_another_manifest_fails(tmp_path: Path) -> None:
    """Acme's valid envelope over another image does not sign this one."""
    _, other = acme_image(tmp_path / "other", signed_at=SIGNED_AT, sign=False)
    key, chain = acme_signer()
    envelope = tmp_path / "acme.sig"
    envelope.write_bytes(jws_envelope(key, chain, other, signed_at=SIGNED_AT))
    root = real_layout(tmp_path, referrer=False).root
    code, report = verify(root, oci_policy(tmp_path), envelope)
    assert code == ExitCode.VERIFICATION_FAILED
    assert outcomes(report, "signature:acme.sig")["target-artifact"] == "fail"


def test_file_that_is_no_envelope_fails(tmp_path: Path) -> None:
    root = real_layout(tmp_path, referrer=False).root
    junk = tmp_path / "junk.sig"
    junk.write_bytes(b"\x00not an envelope")
    code, report = verify(root, oci_policy(tmp_path), junk)
    assert code == ExitCode.VERIFICATION_FAILED
    found = report["checks"]
    assert isinstance(found, list)
    (check,) = [c for c in found if c["subject"] == "signature:junk.sig"]
    assert check["outcome"] == "fail"
    assert "neither a JWS JSON" in check["reason"]


def test_signature_files_are_refused_for_other_formats(tmp_path: Path) -> None:
    code, _, err = invoke(
        "verify",
        SAMPLE_DELIVERY,
        "--policy",
        oci_policy(tmp_path),
        "--signature",
        JWS_FILE,
    )
    assert code == ExitCode.INVALID_INPUT
    assert "--signature" in err
    assert "OCI image layouts only" in err
    # At intake an operator error: nothing is recorded.
    store = tmp_path / "evidence.db"
    code, _, err = invoke(
        "intake",
        SAMPLE_DELIVERY,
        "--policy",
        oci_policy(tmp_path),
        "--signature",
        JWS_FILE,
        "--operator-key",
        KEYS / "operator" / "intake.key",
        "--store",
        store,
        "--actor",
        "tester",
    )
    assert code == ExitCode.INVALID_INPUT
    assert "OCI image layouts only" in err
    if store.exists():
        from vendorproof.evidence import open_read_only

        opened = open_read_only(str(store))
        try:
            assert opened.last_seq() == 0
        finally:
            opened.close()


def test_two_signature_files_of_one_name_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    copy = tmp_path / "a" / JWS_FILE.name
    copy.write_bytes(JWS_FILE.read_bytes())
    root = real_layout(tmp_path, referrer=False).root
    code, _, err = invoke(
        "verify",
        root,
        "--policy",
        oci_policy(tmp_path),
        "--signature",
        JWS_FILE,
        "--signature",
        copy,
    )
    assert code == ExitCode.INVALID_INPUT
    assert "two signature files are named" in err


def test_intake_with_an_envelope_file_replays(tmp_path: Path) -> None:
    root = real_layout(tmp_path, referrer=False).root
    store = tmp_path / "evidence.db"
    code, out, err = invoke(
        "intake",
        root,
        "--policy",
        oci_policy(tmp_path),
        "--signature",
        COSE_FILE,
        "--operator-key",
        KEYS / "operator" / "intake.key",
        "--store",
        store,
        "--actor",
        "tester",
        "--at",
        AT,
        "--format",
        "json",
    )
    assert code == ExitCode.OK, (out, err)
    assert "signature:cose_signature.sig" in json.loads(out)["inputs"]
    code, out, err = invoke(
        "audit",
        "replay",
        "--operator-pub",
        KEYS / "operator" / "intake.pub",
        "--store",
        store,
    )
    assert code == ExitCode.OK, (out, err)


def test_intake_of_an_unreadable_layout_keeps_the_envelope(tmp_path: Path) -> None:
    """A layout that cannot be walked is recorded with the envelope given."""
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (bad / "index.json").write_text('{"schemaVersion":2,"manifests":[]}')
    (bad / "blobs").write_text("a file where a directory belongs")
    store = tmp_path / "evidence.db"
    code, out, err = invoke(
        "intake",
        bad,
        "--policy",
        oci_policy(tmp_path),
        "--signature",
        JWS_FILE,
        "--operator-key",
        KEYS / "operator" / "intake.key",
        "--store",
        store,
        "--actor",
        "tester",
        "--format",
        "json",
    )
    assert code == ExitCode.VERIFICATION_FAILED, (out, err)
    record = json.loads(out)
    assert "signature:jws_signature.sig" in record["inputs"]
