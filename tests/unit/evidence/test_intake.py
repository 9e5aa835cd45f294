"""Intake under bad input and a hostile store, on both backends (SQLite, PostgreSQL).

Every delivery intake was asked to take in leaves a record; the chain is extended
only from a head that verifies; the rollback floor comes from signed records; a
retried intake reports its earlier record instead of writing a second one.
"""

from __future__ import annotations

import dataclasses
import re
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.builders import KEYS, SAMPLE_AT, SAMPLE_DELIVERY, SAMPLE_POLICY, copy_sample
from tests.unit.evidence.support import Backend, sha256
from vendorproof._internal import crypto
from vendorproof.errors import InvalidInputError
from vendorproof.evidence import intake as intake_module
from vendorproof.evidence.bundle import StoreSource
from vendorproof.evidence.intake import (
    ERROR_CHECK,
    POLICY_INPUT,
    ChainHeadError,
    IntakeResult,
    run_intake,
)
from vendorproof.evidence.record import build_record, sign_record
from vendorproof.evidence.replay import replay
from vendorproof.evidence.store import (
    ChainHead,
    EvidenceStore,
    PreparedRecord,
    open_read_only,
    open_store,
)
from vendorproof.intake import check_delivery, load_policy
from vendorproof.models.summary import DeliverySummary
from vendorproof.verify.result import Outcome, VerificationReport

KEY = crypto.load_private_key(
    (KEYS / "operator" / "intake.key").read_bytes(), None, file="intake.key"
)
OTHER = crypto.load_private_key(
    (KEYS / "vendor-a" / "release.key").read_bytes(), None, file="release.key"
)
PUB = crypto.as_public_key(KEY.public_key())
MANIFEST = "attestations/manifest.sigstore.json"
CERTIFICATION = "attestations/certification-nesas.sigstore.json"
DECLARATION = "attestations/declaration.sigstore.json"


def take(
    store: EvidenceStore, delivery: Path = SAMPLE_DELIVERY, **kw: object
) -> IntakeResult:
    return run_intake(
        delivery,
        SAMPLE_POLICY,
        store=store,
        key=KEY,
        actor="test",
        at=SAMPLE_AT,
        time_source="--at",
        **kw,  # type: ignore[arg-type]
    )


def replays(store: EvidenceStore) -> bool:
    summary = replay(StoreSource(store), keys=[PUB])
    assert summary.ok, [r.problems for r in summary.records]
    return summary.ok


# --- item 5: a FAILED record for every delivery ---------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (MANIFEST, b'{"mediaType": "application/vnd.dev.sigstore.bundle'),
        (CERTIFICATION, b"\xff\xfe not json at all"),
        (DECLARATION, b'{"dsseEnvelope": 5}'),
    ],
)
def test_malformed_attestation_is_recorded_as_failed(
    store: EvidenceStore, tmp_path: Path, name: str, content: bytes
) -> None:
    delivery = copy_sample(tmp_path / "d")
    (delivery / name).write_bytes(content)
    result = take(store)  # a first, good record
    result = take(store, delivery)
    assert not result.duplicate
    assert result.record.verdict == "FAILED" == result.report.verdict
    # A malformed vendor document is a failed check of the delivery (design.md).
    assert not [c for c in result.report.checks if c.check == ERROR_CHECK]
    failed = [
        c
        for c in result.report.checks
        if c.check == "attestations" and c.outcome is Outcome.FAIL
    ]
    assert failed, result.report.checks
    assert failed[0].subject == name
    assert failed[0].reason.startswith(f"malformed: {name}: ")
    # Every input that could be read is stored, the malformed one included.
    inputs = store.inputs(result.record.seq)
    assert {POLICY_INPUT, MANIFEST, CERTIFICATION, DECLARATION} <= set(inputs)
    assert store.blob(inputs[name]) == content
    # The failed intake replays: re-running it fails with the same check.
    assert replays(store)


def test_unexpected_verification_failure_is_recorded(
    store: EvidenceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> object:
        msg = "a bug"
        raise RuntimeError(msg)

    monkeypatch.setattr(intake_module, "evaluate_delivery", broken)
    result = take(store)
    assert result.record.verdict == "FAILED"
    (error,) = (c for c in result.report.checks if c.check == ERROR_CHECK)
    assert "internal error: RuntimeError: a bug" in error.reason
    assert error.subject == str(SAMPLE_DELIVERY)
    assert MANIFEST in store.inputs(result.record.seq)


def test_no_delivery_records_nothing(store: EvidenceStore, tmp_path: Path) -> None:
    for missing in (tmp_path / "missing", SAMPLE_POLICY):
        with pytest.raises(InvalidInputError) as err:
            take(store, missing)
        assert str(missing) in str(err.value)
    assert store.last_seq() == 0


# --- item 10: a head that does not verify is not extended -----------------------------


def _insert_head(
    backend: Backend, store: EvidenceStore, envelope: bytes, **c: object
) -> int:
    """Insert a row at the head as a role that may append would (raw SQL)."""
    head = store.record(store.last_seq())
    seq = head.seq + 1
    cols = {
        "seq": seq,
        "record_id": f"forged-{seq}",
        "digest": sha256(envelope),
        "prev_digest": head.digest,
        "created_at": "2027-01-15T00:00:00Z",
        "vendor": "acme",
        "product": "AcmeRAN gNB",
        "version": "99",
        "security_version": 99,
        "verdict": "PASSED",
        "envelope": envelope,
    } | c
    names = ", ".join(cols)
    marks = ", ".join("?" * len(cols))
    with backend.raw() as raw:
        raw.execute(
            f"INSERT INTO records ({names}) VALUES ({marks})",  # noqa: S608
            list(cols.values()),
        )
    return seq


def _signed(
    store: EvidenceStore,
    *,
    sv: int,
    seq: int | None = None,
    key: crypto.SigningKey = KEY,
) -> bytes:
    """A record signed by ``key`` on top of the head, claiming ``sv``."""
    head = store.record(store.last_seq())
    report = _report()
    report = dataclasses.replace(
        report,
        delivery=DeliverySummary.from_dict(
            report.delivery.to_dict() | {"securityVersion": sv}
        ),
    )
    statement = build_record(
        report,
        sequence=head.seq + 1 if seq is None else seq,
        previous=head.digest,
        record_id=f"forged-{head.seq + 1}",
        created_at=datetime(2027, 1, 15, tzinfo=UTC),
        actor="insider",
        inputs={},
    )
    return sign_record(statement, key)


def _report() -> VerificationReport:
    return check_delivery(
        SAMPLE_DELIVERY, load_policy(SAMPLE_POLICY), at=SAMPLE_AT, time_source="--at"
    )


@pytest.mark.parametrize("kind", ["garbage", "foreign key", "wrong link", "index lies"])
def test_head_that_does_not_verify_is_not_extended(
    store: EvidenceStore, backend: Backend, kind: str
) -> None:
    take(store)
    if kind == "garbage":
        envelope = b'{"not": "a record"}'
    elif kind == "foreign key":
        envelope = _signed(store, sv=99, key=OTHER)
    elif kind == "wrong link":
        envelope = _signed(store, sv=7, seq=5)
    else:
        envelope = _signed(store, sv=7)  # signed 7, the index says 99
    seq = _insert_head(backend, store, envelope)
    with pytest.raises(ChainHeadError) as err:
        take(store, window=timedelta(0))
    message = str(err.value)
    assert f"evidence record #{seq} at the head of the chain does not verify" in message
    assert "audit replay" in message
    assert "\n" not in message
    assert store.last_seq() == seq  # nothing appended


def test_rollback_floor_comes_from_signed_records(
    store: EvidenceStore, backend: Backend
) -> None:
    take(store)  # securityVersion 7, PASSED, signed
    keys = [PUB]
    # A row whose record says securityVersion 99, signed by a key that is not the
    # operator's.
    _insert_head(backend, store, _signed(store, sv=99, key=OTHER))
    floors: list[tuple[int | None, list[str]]] = []

    def probe(head: ChainHead) -> PreparedRecord:
        floors.append(intake_module._floor(head, keys, "acme", "AcmeRAN gNB"))
        raise LookupError

    with pytest.raises(LookupError):
        store.append(probe, {})
    ((floor, ignored),) = floors
    assert floor == 7
    assert len(ignored) == 1
    assert "#2" in ignored[0]
    assert "signature does not verify" in ignored[0]


def test_rollback_floor_ignores_index_that_lies(
    store: EvidenceStore, backend: Backend
) -> None:
    take(store)
    _insert_head(backend, store, _signed(store, sv=7), security_version=99)
    floors: list[tuple[int | None, list[str]]] = []

    def probe(head: ChainHead) -> PreparedRecord:
        floors.append(intake_module._floor(head, [PUB], "acme", "AcmeRAN gNB"))
        raise LookupError

    with pytest.raises(LookupError):
        store.append(probe, {})
    ((floor, ignored),) = floors
    assert floor == 7
    assert "index columns differ" in ignored[0]


# --- item 12: idempotent intake -------------------------------------------------------


def test_retried_intake_reports_the_earlier_record(store: EvidenceStore) -> None:
    first = take(store)
    again = take(store)
    assert again.duplicate
    assert again.record == first.record
    assert again.report.verdict == first.report.verdict
    assert [c.outcome for c in again.report.checks] == [
        c.outcome for c in first.report.checks
    ]
    assert store.last_seq() == 1
    # Outside the window (or with none) the same delivery is recorded again.
    later = take(store, clock=lambda: datetime.now(UTC) + timedelta(hours=2))
    assert (later.duplicate, later.record.seq) == (False, 2)
    assert take(store, window=timedelta(0)).record.seq == 3
    assert replays(store)


def test_explicit_intake_id(store: EvidenceStore, tmp_path: Path) -> None:
    first = take(store, intake_id="CHG-1", window=timedelta(0))
    again = take(store, intake_id="CHG-1", window=timedelta(0))
    assert again.duplicate
    assert again.record.seq == first.record.seq
    other = copy_sample(tmp_path / "other")
    (other / "config/default-site.yaml").write_bytes(b"changed: true\n")
    with pytest.raises(InvalidInputError, match="'CHG-1' was already used by evidence"):
        take(store, other, intake_id="CHG-1")
    with pytest.raises(InvalidInputError, match="intake id"):
        take(store, intake_id="")
    assert store.last_seq() == 1


def test_forged_row_with_the_intake_key_is_not_believed(
    store: EvidenceStore, backend: Backend
) -> None:
    first = take(store)
    key = first.record.intake_key
    assert key is not None
    assert key.startswith("auto:")
    _insert_head(backend, store, b'{"forged": 1}', intake_key=key)
    # The forged head is refused; it never stands in for the delivery's record.
    with pytest.raises(ChainHeadError):
        take(store, intake_id=None)


def test_key_rotation_needs_the_earlier_key(backend: Backend) -> None:
    old = OTHER
    with closing(open_store(backend.url)) as store:
        run_intake(
            SAMPLE_DELIVERY,
            SAMPLE_POLICY,
            store=store,
            key=old,
            actor="t",
            at=SAMPLE_AT,
            time_source="--at",
        )
        with pytest.raises(ChainHeadError, match="--operator-pub"):
            take(store, window=timedelta(0))
        old_pub = crypto.as_public_key(old.public_key())
        assert take(store, window=timedelta(0), trusted=[old_pub]).record.seq == 2


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_intake_as_the_writer_role(backend: Backend) -> None:
    # The documented writer grants are enough for everything intake reads under the
    # lock (head, rollback candidates, intake key) and for a read-only open.
    doc = (Path(__file__).parents[3] / "docs" / "evidence-store.md").read_text()
    grants = re.search(r"<!-- writer-role -->\s*```sql\n(.*?)```", doc, re.DOTALL)
    assert grants is not None
    open_store(backend.url).close()  # the owner creates the schema
    with backend.raw() as raw:
        if not raw.scalar(
            "SELECT count(*) FROM pg_roles WHERE rolname = 'vendorproof_writer'"
        ):
            raw.execute("CREATE ROLE vendorproof_writer LOGIN")
        db = backend.url.rsplit("/", 1)[1]
        raw.execute(grants.group(1).replace("DATABASE evidence", f"DATABASE {db}"))
    url = backend.url.replace("postgres@", "vendorproof_writer@")
    with closing(open_store(url)) as store:
        assert take(store).record.seq == 1
        assert take(store).duplicate
        assert take(store, window=timedelta(0)).record.seq == 2
    with closing(open_read_only(url)) as store:
        assert replays(store)
