"""Operator-attested certification records: a delivery without a body-signed
statement passes on a record the policy's operator role signed, and fails on every
way the record or the register can be wrong."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests import certs, pki
from tests.builders import DeliveryBuilder, Signer, digests, policy_data, write_policy
from vendorproof._internal import crypto
from vendorproof._internal.jsonio import canonical_json
from vendorproof.errors import InvalidInputError
from vendorproof.intake import add_status, check_delivery, load_policy, load_records
from vendorproof.models.certification_record import (
    CertificationRecord,
    Deliverable,
    StatusRecord,
    seal_record,
    seal_status,
)
from vendorproof.models.envelope import pae
from vendorproof.verify.result import Outcome, VerificationReport

AT = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def delivery(tmp_path: Path) -> Path:
    """The test delivery with no body-signed certification statement."""
    root = tmp_path / "delivery"
    DeliveryBuilder(root).standard()
    (root / "attestations" / "certification.sigstore.json").unlink()
    return root


@pytest.fixture
def key(tmp_path: Path) -> crypto.SigningKey:
    return certs.desk_key(tmp_path)


def run(root: Path, policy: Path) -> VerificationReport:
    return check_delivery(root, load_policy(policy), at=AT, time_source="--at")


def checks(report: VerificationReport, check: str) -> dict[str, tuple[Outcome, str]]:
    return {c.subject: (c.outcome, c.reason) for c in report.checks if c.check == check}


RECORD = "certification-record:NESAS-2026-0042"


def test_record_with_deliverable_digests_covers(
    tmp_path: Path, delivery: Path, key: crypto.SigningKey
) -> None:
    policy = certs.register_policy(tmp_path)
    certs.add(tmp_path, key)
    report = run(delivery, policy)
    assert report.ok, [c.to_dict() for c in report.failures()]
    outcome, reason = checks(report, "certification")[RECORD]
    assert outcome is Outcome.PASS
    assert "attested by operator certification-desk, transcribed from sha256:" in reason
    assert "Example Audit Lab GmbH, accreditation GSMA-NESAS-AL-0007" in reason
    coverage = checks(report, "certification-coverage")
    assert coverage["images/du.img"][0] is Outcome.PASS
    assert "attested by operator certification-desk" in coverage["images/du.img"][1]
    # The record and its source document are inputs of the report (evidence).
    assert RECORD in report.inputs
    assert f"certification-source:{certs.record().source_sha256}" in report.inputs


def test_without_a_record_coverage_fails(tmp_path: Path, delivery: Path) -> None:
    policy = certs.register_policy(tmp_path)
    (tmp_path / "register" / "records").mkdir(parents=True)
    certs.desk_key(tmp_path)
    report = run(delivery, policy)
    outcome, reason = checks(report, "certification-coverage")["images/du.img"]
    assert outcome is Outcome.FAIL
    assert "no certification statement delivered and no operator-attested" in reason


def test_record_without_digests_warns_when_the_policy_allows(
    tmp_path: Path, delivery: Path, key: crypto.SigningKey
) -> None:
    policy = certs.register_policy(tmp_path, records={"withoutDigests": "warn"})
    certs.add(tmp_path, key, certs.record(deliverables=()))
    report = run(delivery, policy)
    assert report.ok
    outcome, reason = checks(report, "certification-coverage")["images/du.img"]
    assert outcome is Outcome.WARN
    assert "covered by product and version only" in reason
    assert "attested by operator certification-desk" in reason


def test_record_without_digests_does_not_cover_by_default(
    tmp_path: Path, delivery: Path, key: crypto.SigningKey
) -> None:
    policy = certs.register_policy(tmp_path)
    certs.add(tmp_path, key, certs.record(deliverables=()))
    report = run(delivery, policy)
    assert not report.ok
    assert checks(report, "certification")[RECORD][0] is Outcome.NOT_APPLICABLE
    outcome, reason = checks(report, "certification-coverage")["images/du.img"]
    assert outcome is Outcome.FAIL
    assert "lists no deliverable digests" in reason


def test_record_with_other_digests_does_not_cover(
    tmp_path: Path, delivery: Path, key: crypto.SigningKey
) -> None:
    policy = certs.register_policy(tmp_path)
    other = (Deliverable(name="images/du.img", digest=digests(b"another image")),)
    certs.add(tmp_path, key, certs.record(deliverables=other))
    report = run(delivery, policy)
    reason = checks(report, "certification-coverage")["images/du.img"][1]
    assert "does not certify these digests" in reason
    assert not report.ok


def test_record_signed_by_a_key_the_policy_does_not_give_the_role(
    tmp_path: Path, delivery: Path, key: crypto.SigningKey
) -> None:
    policy = certs.register_policy(tmp_path)
    new = pki.new_key("ed25519")
    assert not isinstance(new, str)
    other = crypto.as_signing_key(new, file="other")
    certs.add(tmp_path, other)
    report = run(delivery, policy)
    outcome, reason = checks(report, "certification")[RECORD]
    assert outcome is Outcome.FAIL
    assert "not signed by a key the policy gives operator role" in reason
    assert not report.ok
    # The record was kept as an input: replay sees the same bytes.
    assert RECORD in report.inputs
    del key


def test_record_claiming_to_be_body_signed_fails(
    tmp_path: Path, delivery: Path, key: crypto.SigningKey
) -> None:
    policy = certs.register_policy(tmp_path)
    path = certs.add(tmp_path, key)
    envelope = json.loads(path.read_bytes())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["attestation"] = {"by": "certification-body", "role": "x"}
    forged = _sealed(statement, key)
    path.write_bytes(forged)
    report = run(delivery, policy)
    outcome, reason = checks(report, "certification")[RECORD]
    assert outcome is Outcome.FAIL
    assert "attested by the operator, not by 'certification-body'" in reason


def _sealed(statement: dict[str, object], key: crypto.SigningKey) -> bytes:
    payload = canonical_json(statement)
    sig = crypto.sign(key, pae("application/vnd.in-toto+json", payload))
    return canonical_json(
        {
            "payload": base64.b64encode(payload).decode(),
            "payloadType": "application/vnd.in-toto+json",
            "signatures": [{"sig": base64.b64encode(sig).decode()}],
        }
    )


def test_record_of_a_scheme_the_policy_does_not_let_the_operator_attest(
    tmp_path: Path, delivery: Path, key: crypto.SigningKey
) -> None:
    policy = certs.register_policy(tmp_path, records={"schemes": ["CC"]})
    certs.add(tmp_path, key)
    reason = checks(run(delivery, policy), "certification")[RECORD][1]
    assert "scheme NESAS may not be operator-attested" in reason


def test_record_of_another_role_fails(
    tmp_path: Path, delivery: Path, key: crypto.SigningKey
) -> None:
    policy = certs.register_policy(tmp_path)
    certs.add(tmp_path, key, certs.record(role="someone-else"))
    outcome, reason = checks(run(delivery, policy), "certification")[RECORD]
    assert outcome is Outcome.FAIL
    assert "attested by role 'someone-else'" in reason


def test_missing_or_altered_source_document_fails(
    tmp_path: Path, delivery: Path, key: crypto.SigningKey
) -> None:
    policy = certs.register_policy(tmp_path)
    certs.add(tmp_path, key)
    source = tmp_path / "register" / "sources" / certs.record().source_sha256
    source.write_bytes(b"%PDF-1.4 another document")
    reason = checks(run(delivery, policy), "certification")[RECORD][1]
    assert "does not hash to the recorded digest" in reason
    source.unlink()
    reason = checks(run(delivery, policy), "certification")[RECORD][1]
    assert "is not in the register" in reason


def test_expired_or_other_version_record_does_not_cover(
    tmp_path: Path, delivery: Path, key: crypto.SigningKey
) -> None:
    policy = certs.register_policy(tmp_path)
    certs.add(
        tmp_path,
        key,
        certs.record(
            issued=datetime(2020, 1, 1, tzinfo=UTC),
            valid_from=datetime(2020, 1, 1, tzinfo=UTC),
            valid_until=datetime(2025, 1, 1, tzinfo=UTC),
            versions=("23.0",),
        ),
    )
    report = run(delivery, policy)
    outcome, reason = checks(report, "certification")[RECORD]
    assert outcome is Outcome.NOT_APPLICABLE
    assert "not valid at" in reason
    assert "certifies version(s) 23.0, not 24.1.3" in reason
    assert checks(report, "certification-coverage")["images/du.img"][0] is Outcome.FAIL


def test_records_of_other_holders_or_products_are_left_out(
    tmp_path: Path, delivery: Path, key: crypto.SigningKey
) -> None:
    policy = certs.register_policy(tmp_path)
    certs.add(tmp_path, key, certs.record(holder="borealis", certificate_id="B-1"))
    certs.add(tmp_path, key, certs.record(product="AcmeCore", certificate_id="C-1"))
    report = run(delivery, policy)
    assert checks(report, "certification") == {}
    assert not any(n.startswith("certification-") for n in report.inputs)


def test_holder_is_the_verified_vendor_not_the_manifest(
    tmp_path: Path, delivery: Path, key: crypto.SigningKey
) -> None:
    """A record held by 'acme' does not cover a delivery 'acme' did not sign."""
    from tests.builders import manifest_statement, vendor_b

    policy = certs.register_policy(tmp_path)
    certs.add(tmp_path, key)
    forged: Signer = vendor_b()
    DeliveryBuilder(delivery).attest(
        "manifest.sigstore.json",
        forged.sign(manifest_statement(DeliveryBuilder(delivery).files)),
    )
    report = run(delivery, policy)
    assert RECORD not in checks(report, "certification")
    assert checks(report, "certification-coverage")["images/du.img"][0] is Outcome.FAIL


def test_records_without_a_policy_section_fail(
    tmp_path: Path, delivery: Path, key: crypto.SigningKey
) -> None:
    raw = seal_record(certs.record(), key)
    policy = load_policy(write_policy(tmp_path / "plain.yaml", policy_data()))
    report = check_delivery(
        delivery, policy, at=AT, time_source="--at", records={RECORD: raw}
    )
    outcome, reason = checks(report, "certification")[RECORD]
    assert outcome is Outcome.FAIL
    assert "names no operator role" in reason


def test_malformed_record_is_a_failed_check(
    tmp_path: Path, delivery: Path, key: crypto.SigningKey
) -> None:
    policy = load_policy(certs.register_policy(tmp_path))
    report = check_delivery(
        delivery, policy, at=AT, time_source="--at", records={RECORD: b"{not json"}
    )
    outcome, reason = checks(report, "certification")[RECORD]
    assert outcome is Outcome.FAIL
    assert reason.startswith("malformed: ")
    del key


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"valid_until": datetime(2025, 1, 1, tzinfo=UTC)},
            "the validity window ends before it starts",
        ),
        ({"scheme": "ISO9001"}, "unknown scheme 'ISO9001'"),
        ({"versions": ()}, "at least one version"),
        ({"source_sha256": "ABC"}, "not a lowercase sha256"),
    ],
)
def test_impossible_records_are_refused(
    change: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        certs.record(**change)


def test_record_round_trips(key: crypto.SigningKey) -> None:
    rec = certs.record(assurance_level="EAL4+", status_url="https://example.org/c")
    assert CertificationRecord.from_predicate(rec.to_predicate()) == rec
    rec2 = dataclasses.replace(rec, deliverables=())
    assert CertificationRecord.from_predicate(rec2.to_predicate()) == rec2
    del key


def test_register_must_exist(tmp_path: Path) -> None:
    certs.desk_key(tmp_path)
    policy = load_policy(certs.register_policy(tmp_path))
    with pytest.raises(InvalidInputError, match="has no records/ directory"):
        load_records(policy)


def test_policy_section_is_validated(tmp_path: Path) -> None:
    certs.desk_key(tmp_path)
    for records, message in (
        ({"schemes": []}, "needs at least one scheme"),
        ({"schemes": ["ISO9001"]}, "ISO9001"),
        ({"publicKeys": []}, "needs at least one key"),
        ({"withoutDigests": "maybe"}, "maybe"),
    ):
        with pytest.raises(InvalidInputError, match=message):
            load_policy(certs.register_policy(tmp_path, records=records))


def _status(
    tmp_path: Path, key: crypto.SigningKey, value: str, as_of: datetime, **kw: str
) -> Path:
    return add_status(
        tmp_path / "register",
        kw.get("cert", "NESAS-2026-0042"),
        status=value,
        as_of=as_of,
        source="register page",
        role=kw.get("role", certs.ROLE),
        key=key,
    )


def test_suspended_certificate_fails_from_its_as_of(
    tmp_path: Path, delivery: Path, key: crypto.SigningKey
) -> None:
    policy = certs.register_policy(tmp_path)
    certs.add(tmp_path, key)
    name = _status(tmp_path, key, "suspended", datetime(2026, 7, 1, tzinfo=UTC)).stem
    # Not yet at the validation time.
    report = run(delivery, policy)
    assert report.ok
    assert f"certification-status:{name}" not in report.inputs
    _status(tmp_path, key, "suspended", datetime(2026, 5, 1, tzinfo=UTC))
    report = run(delivery, policy)
    outcome, reason = checks(report, "certification")[RECORD]
    assert outcome is Outcome.FAIL
    assert "suspended as of 2026-05-01T00:00:00Z" in reason
    assert not report.ok
    assert any(n.startswith("certification-status:") for n in report.inputs)


def test_withdrawn_certificate_of_another_version_is_only_not_applicable(
    tmp_path: Path, delivery: Path, key: crypto.SigningKey
) -> None:
    policy = certs.register_policy(tmp_path)
    certs.add(tmp_path, key)
    certs.add(tmp_path, key, certs.record(certificate_id="OLD-1", versions=("23.0",)))
    _status(tmp_path, key, "withdrawn", datetime(2026, 5, 1, tzinfo=UTC), cert="OLD-1")
    report = run(delivery, policy)
    assert report.ok
    outcome, reason = checks(report, "certification")["certification-record:OLD-1"]
    assert outcome is Outcome.NOT_APPLICABLE
    assert "withdrawn as of" in reason


def test_status_records_that_do_not_verify_fail(
    tmp_path: Path, delivery: Path, key: crypto.SigningKey
) -> None:
    policy = certs.register_policy(tmp_path)
    certs.add(tmp_path, key)
    path = _status(tmp_path, key, "valid", datetime(2026, 5, 1, tzinfo=UTC))
    path.write_bytes(b"{}")
    other = _status(
        tmp_path, key, "valid", datetime(2026, 5, 2, tzinfo=UTC), role="other-role"
    )
    report = run(delivery, policy)
    found = checks(report, "certification")
    assert found[f"certification-status:{path.stem}"][1].startswith("malformed")
    assert (
        "says it is attested by role 'other-role'"
        in (found[f"certification-status:{other.stem}"][1])
    )
    assert not report.ok
    new = pki.new_key("ed25519")
    assert not isinstance(new, str)
    foreign = crypto.as_signing_key(new, file="other")
    raw = (tmp_path / "register" / "records" / "NESAS-2026-0042.json").read_bytes()
    policy_value = load_policy(policy)
    forged = seal_status(
        StatusRecord(
            role=certs.ROLE,
            certificate_id="NESAS-2026-0042",
            status="valid",
            as_of=datetime(2026, 5, 3, tzinfo=UTC),
            source="x",
            record_name=RECORD,
            record_sha256=hashlib.sha256(raw).hexdigest(),
        ),
        foreign,
    )
    report = check_delivery(
        delivery,
        policy_value,
        at=AT,
        time_source="--at",
        records={"certification-status:forged": forged},
    )
    assert (
        "not signed by a key the policy gives"
        in (checks(report, "certification")["certification-status:forged"][1])
    )
    plain = load_policy(write_policy(tmp_path / "plain.yaml", policy_data()))
    report = check_delivery(
        delivery,
        plain,
        at=AT,
        time_source="--at",
        records={"certification-status:forged": forged},
    )
    assert (
        "names no operator role"
        in (checks(report, "certification")["certification-status:forged"][1])
    )


def test_record_with_a_version_range_covers_versions_inside_it(
    tmp_path: Path, delivery: Path, key: crypto.SigningKey
) -> None:
    policy = certs.register_policy(tmp_path)
    certs.add(tmp_path, key, certs.record(versions=(">=24.1,<25",)))
    assert run(delivery, policy).ok
    certs.add(tmp_path, key, certs.record(versions=(">=24.2,<25",)))
    report = run(delivery, policy)
    reason = checks(report, "certification")[RECORD][1]
    assert "certifies version(s) >=24.2,<25, not 24.1.3" in reason
    assert not report.ok
