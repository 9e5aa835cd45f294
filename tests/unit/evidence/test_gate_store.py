"""The gate's installed release from a store, on both backends (SQLite, PostgreSQL)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.evidence.support import Backend
from tests.unit.evidence.test_intake import (
    KEY,
    OTHER,
    PUB,
    _insert_head,
    _report,
    _signed,
    take,
)
from tests.unit.evidence.test_tlog_store import _unguarded
from vendorproof._internal import crypto
from vendorproof.errors import VerificationError
from vendorproof.evidence.record import build_record, sign_record
from vendorproof.evidence.store import EvidenceStore
from vendorproof.gate import installed_from_store
from vendorproof.models.summary import DeliverySummary

PRODUCT = ("acme", "AcmeRAN gNB")


def test_last_signed_accepted_release(store: EvidenceStore) -> None:
    assert installed_from_store(store, [PUB])(*PRODUCT) is None
    take(store)
    release = installed_from_store(store, [PUB])(*PRODUCT)
    assert release is not None
    assert (release.version, release.security_version) == ("24.1.3", 7)
    assert release.source.startswith("evidence record #1 (")
    assert installed_from_store(store, [PUB])("acme", "Other") is None
    assert installed_from_store(store, [PUB])("other", "AcmeRAN gNB") is None


@pytest.mark.parametrize("kind", ["foreign key", "index lies"])
def test_a_record_that_does_not_verify_stops_the_lookup(
    store: EvidenceStore, backend: Backend, kind: str
) -> None:
    take(store)
    if kind == "foreign key":
        envelope = _signed(store, sv=99, key=OTHER)
    else:
        envelope = _signed(store, sv=7)  # signed 7, the index says 99
    _insert_head(backend, store, envelope)
    with pytest.raises(VerificationError, match="#2"):
        installed_from_store(store, [PUB])(*PRODUCT)


def test_only_the_pinned_operator_key_counts(store: EvidenceStore) -> None:
    take(store)
    other = crypto.as_public_key(OTHER.public_key())
    with pytest.raises(VerificationError, match="do not verify"):
        installed_from_store(store, [other])(*PRODUCT)


@pytest.mark.parametrize(
    ("count", "message"),
    [
        (2, "the records do not give the root of the checkpoint of size 2"),
        (3, "record #3 is not linked to record #2"),
    ],
)
def test_a_record_replaced_by_another_signed_one_stops_the_lookup(
    store: EvidenceStore, backend: Backend, count: int, message: str
) -> None:
    take(store)
    for _ in range(count - 1):
        take(store, window=timedelta(0))
    # A genuinely signed record #2 of another history replaces record #2: it
    # verifies on its own (its columns match what it signs), but is not the one the
    # checkpoint of size 2 holds, and #3 does not follow it.
    first = store.record(1)
    report = _report()
    report = dataclasses.replace(
        report,
        delivery=DeliverySummary.from_dict(
            report.delivery.to_dict() | {"securityVersion": 99}
        ),
    )
    envelope = sign_record(
        build_record(
            report,
            sequence=2,
            previous=first.digest,
            record_id="forged-2",
            created_at=datetime(2027, 1, 15, tzinfo=UTC),
            actor="insider",
            inputs={},
        ),
        KEY,
    )
    _unguarded(
        backend,
        ("DELETE FROM record_inputs WHERE seq = ?", (2,)),
        ("DELETE FROM records WHERE seq = ?", (2,)),
    )
    _insert_head(
        backend,
        store,
        envelope,
        seq=2,
        record_id="forged-2",
        prev_digest=first.digest,
        version="24.1.3",
    )
    with pytest.raises(VerificationError, match=message):
        installed_from_store(store, [PUB])(*PRODUCT)
