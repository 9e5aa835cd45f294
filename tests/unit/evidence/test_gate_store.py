"""The gate's installed release from a store, on both backends (SQLite, PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.unit.evidence.support import Backend
from tests.unit.evidence.test_intake import OTHER, PUB, _insert_head, _signed, take
from vendorproof._internal import crypto
from vendorproof.errors import VerificationError
from vendorproof.evidence.store import EvidenceStore
from vendorproof.gate import installed_from_store

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
