"""Audit replay of tampered bundles: verify before parse, confined paths, claims.

Every bundle here is exported from a real store and then changed as an attacker
would (tests/unit/evidence/support.py): records re-signed with another key or with
the operator key (an insider), files replaced by links, directories or FIFOs, names
in MANIFEST.json pointing out of the bundle, records deleted with the manifest made
to agree.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.builders import KEYS, SAMPLE_AT, SAMPLE_DELIVERY, SAMPLE_POLICY, copy_sample
from tests.unit.evidence.support import (
    extension,
    manifest,
    relist,
    resign,
    sha256,
    write_manifest,
)
from vendorproof._internal import crypto
from vendorproof.errors import InvalidInputError
from vendorproof.evidence.bundle import BundleSource, export_bundle
from vendorproof.evidence.intake import run_intake
from vendorproof.evidence.replay import ReplaySummary, replay
from vendorproof.evidence.store import RecordFilter, open_store

KEY = crypto.load_private_key(
    (KEYS / "operator" / "intake.key").read_bytes(), None, file="intake.key"
)
PUB = crypto.as_public_key(KEY.public_key())
ATTACKER = ed25519.Ed25519PrivateKey.generate()
RECORD = "records/{:08d}.dsse.json"


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Three records: PASSED, FAILED (tampered image), PASSED."""
    tmp = tmp_path_factory.mktemp("tamper")
    bad = copy_sample(tmp / "bad")
    img = bad / "images/gnb-cu-24.1.3.img"
    img.write_bytes(b"\0" + img.read_bytes()[1:])
    url = str(tmp / "e.db")
    store = open_store(url)
    try:
        for delivery in (SAMPLE_DELIVERY, bad, SAMPLE_DELIVERY):
            run_intake(
                delivery,
                SAMPLE_POLICY,
                store=store,
                key=KEY,
                actor="test",
                at=SAMPLE_AT,
                time_source="--at",
                window=timedelta(0),  # the same delivery again, on purpose
            )
    finally:
        store.close()
    return url


def export(store_url: str, out: Path, flt: RecordFilter | None = None) -> Path:
    store = open_store(store_url)
    try:
        export_bundle(
            store, out, keys=[PUB], exported_at="2027-01-16T00:00:00Z", flt=flt
        )
    finally:
        store.close()
    return out


@pytest.fixture
def bundle(store_url: str, tmp_path: Path) -> Path:
    return export(store_url, tmp_path / "bundle")


def replayed(bundle: Path, **kwargs: Any) -> ReplaySummary:
    return replay(BundleSource(bundle), keys=kwargs.pop("keys", [PUB]), **kwargs)


def all_problems(summary: ReplaySummary) -> str:
    return "\n".join(
        [*summary.problems, *(p for r in summary.records for p in r.problems)]
    )


def change_record(
    bundle: Path, seq: int, mutate: Callable[[dict[str, Any]], None], key: Any = KEY
) -> None:
    path = bundle / RECORD.format(seq)
    path.write_bytes(resign(path.read_bytes(), mutate, key))
    relist(bundle)


def test_intact_bundle_replays(bundle: Path) -> None:
    summary = replayed(bundle)
    assert summary.ok, all_problems(summary)
    assert [r.verdict for r in summary.records] == ["PASSED", "FAILED", "PASSED"]
    assert replayed(bundle, rerun=False).ok


# --- verify, then parse ---------------------------------------------------------------


def escaping_input(target: Path) -> Callable[[dict[str, Any]], None]:
    """Add an in-toto input whose name walks out of replay's temporary directory."""
    name = "in-toto/" + "../" * 40 + str(target).lstrip("/")

    def mutate(statement: dict[str, Any]) -> None:
        extension(statement)["inputs"][name] = sha256(b"written by a bundle")

    return mutate


def add_blob(bundle: Path, data: bytes) -> None:
    (bundle / "blobs" / "sha256" / sha256(data)).write_bytes(data)


def test_record_with_a_bad_signature_is_never_parsed_or_rerun(
    bundle: Path, tmp_path: Path
) -> None:
    target = tmp_path / "escaped"
    add_blob(bundle, b"written by a bundle")
    change_record(bundle, 1, escaping_input(target), key=ATTACKER)
    summary = replayed(bundle)
    first = summary.records[0]
    assert any("does not verify" in p for p in first.problems), first.problems
    assert first.replayed_verdict is None  # not re-run
    assert first.verdict == "?"  # nothing read from it is shown
    assert not target.exists()
    assert summary.first_bad == 1


def test_input_name_signed_by_the_operator_stays_in_the_temporary_directory(
    bundle: Path, tmp_path: Path
) -> None:
    target = tmp_path / "escaped"
    add_blob(bundle, b"written by a bundle")
    change_record(bundle, 1, escaping_input(target))
    summary = replayed(bundle)
    first = summary.records[0]
    assert any("cannot re-run" in p and "'..'" in p for p in first.problems), (
        first.problems
    )
    assert not target.exists()


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        pytest.param(
            lambda s: extension(s)["delivery"].update(measured=[]),
            "delivery.measured",
            id="measured-list",
        ),
        pytest.param(
            lambda s: next(iter(extension(s)["delivery"]["measured"].values())).update(
                size="big"
            ),
            ".size",
            id="size-string",
        ),
        pytest.param(
            lambda s: extension(s)["delivery"]["listing"].update(payload="x"),
            "delivery.listing.payload",
            id="payload-string",
        ),
        pytest.param(
            lambda s: extension(s)["delivery"]["listing"].update(irregular={"a": 1}),
            "delivery.listing.irregular",
            id="irregular-int",
        ),
        pytest.param(
            lambda s: extension(s)["delivery"].update(vendor={"id": 5}),
            "delivery.vendor.id",
            id="vendor-id-int",
        ),
        pytest.param(
            lambda s: extension(s)["delivery"].update(securityVersion="7"),
            "delivery.securityVersion",
            id="security-version-string",
        ),
        pytest.param(
            lambda s: extension(s).update(delivery=[]),
            "delivery",
            id="delivery-list",
        ),
        pytest.param(
            lambda s: extension(s)["inputs"].update(policy=5),
            "inputs",
            id="input-digest-int",
        ),
        pytest.param(
            lambda s: extension(s).update(sequence="2"),
            "sequence",
            id="sequence-string",
        ),
        pytest.param(
            lambda s: extension(s).update(previousRecord={"sha256": 1}),
            "previousRecord.sha256",
            id="previous-int",
        ),
        pytest.param(
            lambda s: s["predicate"].update(verificationResult=True),
            "verificationResult",
            id="verdict-bool",
        ),
        pytest.param(
            lambda s: s["predicate"].update(verificationResult="MAYBE"),
            "verificationResult",
            id="verdict-unknown",
        ),
        pytest.param(
            lambda s: extension(s)["checks"][0].update(outcome=3),
            "outcome",
            id="check-outcome-int",
        ),
    ],
)
@pytest.mark.parametrize("rerun", [True, False], ids=["rerun", "integrity-only"])
def test_record_field_of_the_wrong_type_is_an_error_naming_file_and_field(
    bundle: Path, mutate: Callable[[dict[str, Any]], None], field: str, *, rerun: bool
) -> None:
    change_record(bundle, 2, mutate)
    summary = replayed(bundle, rerun=rerun)
    second = summary.records[1]
    assert second.seq == 2
    found = [p for p in second.problems if "00000002.dsse.json" in p and field in p]
    assert found, second.problems


# --- the verdict ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seq", "signed", "replayed_as"), [(1, "FAILED", "PASSED"), (2, "PASSED", "FAILED")]
)
def test_signed_verdict_must_match_the_checks(
    bundle: Path, seq: int, signed: str, replayed_as: str
) -> None:
    change_record(
        bundle, seq, lambda s: s["predicate"].update(verificationResult=signed)
    )
    summary = replayed(bundle)
    record = summary.records[seq - 1]
    assert f"verdict: recorded {signed}, replayed {replayed_as}" in record.problems
    assert not summary.ok
    integrity = replayed(bundle, rerun=False).records[seq - 1]
    assert any(
        f"recorded {signed}, but its recorded checks give {replayed_as}" in p
        for p in integrity.problems
    )


# --- paths named by the bundle ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "why"),
    [
        pytest.param("../outside", "'..'", id="dot-dot"),
        pytest.param("blobs/../../outside", "'..'", id="dot-dot-inside"),
        pytest.param("ABSOLUTE", "absolute", id="absolute"),
        pytest.param("x" * 300, "longer than 255", id="long-component"),
        pytest.param("/".join(["d" * 200] * 8), "longer than 1024", id="long-path"),
        pytest.param("blobs\\x", "backslash", id="backslash"),
        pytest.param("blobs/\x00x", "control character", id="nul"),
    ],
)
def test_manifest_names_are_confined_to_the_bundle(
    bundle: Path, tmp_path: Path, name: str, why: str
) -> None:
    outside = tmp_path / "outside"
    outside.write_bytes(b"a file the bundle must not read")
    if name == "ABSOLUTE":
        name = str(outside)
    data = manifest(bundle)
    data["files"][name] = sha256(outside.read_bytes())
    write_manifest(bundle, data)
    summary = replayed(bundle)
    assert not summary.ok
    assert any(why in p for p in summary.problems), summary.problems


def test_blob_replaced_by_a_link_is_refused(bundle: Path, tmp_path: Path) -> None:
    blob = min((bundle / "blobs" / "sha256").iterdir())
    copy = tmp_path / "copy"
    copy.write_bytes(blob.read_bytes())  # same bytes, outside the bundle
    blob.unlink()
    blob.symlink_to(copy)
    summary = replayed(bundle)
    assert not summary.ok
    text = all_problems(summary)
    assert "symbolic link" in text


def test_records_directory_replaced_by_a_link_is_refused(
    bundle: Path, store_url: str, tmp_path: Path
) -> None:
    other = export(store_url, tmp_path / "other")
    shutil.rmtree(bundle / "records")
    (bundle / "records").symlink_to(other / "records")
    with pytest.raises(InvalidInputError, match="symbolic link"):
        replayed(bundle)


@pytest.mark.parametrize("kind", ["directory", "fifo", "link"])
def test_record_that_is_not_a_regular_file_is_an_input_error(
    bundle: Path, tmp_path: Path, kind: str
) -> None:
    path = bundle / RECORD.format(3)
    saved = tmp_path / "saved"
    path.rename(saved)
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to(saved)
    with pytest.raises(InvalidInputError) as info:
        replayed(bundle)
    assert "00000003.dsse.json" in str(info.value)


def test_operator_key_link_is_refused(bundle: Path, tmp_path: Path) -> None:
    (key,) = (bundle / "operator-keys").iterdir()
    copy = tmp_path / "key.pub"
    copy.write_bytes(key.read_bytes())
    key.unlink()
    key.symlink_to(copy)
    with pytest.raises(InvalidInputError, match="symbolic link"):
        BundleSource(bundle).keys()


# --- what the manifest declares -----------------------------------------------------------


def test_deleted_last_record_is_detected_with_the_manifest_relisted(
    bundle: Path,
) -> None:
    (bundle / RECORD.format(3)).unlink()
    relist(bundle)  # the files list agrees; the declared count and range do not
    summary = replayed(bundle)
    assert not summary.ok
    text = "\n".join(summary.problems)
    assert "holds 2 records, MANIFEST.json declares 3" in text
    assert "#1 to #2, MANIFEST.json declares #1 to #3" in text


def test_deleted_last_record_is_detected(bundle: Path) -> None:
    (bundle / RECORD.format(3)).unlink()
    summary = replayed(bundle)
    assert not summary.ok
    assert any("missing from the bundle" in p for p in summary.problems)


def test_deleted_first_record_is_detected(bundle: Path) -> None:
    (bundle / RECORD.format(1)).unlink()
    relist(bundle, count=2, first=2)
    summary = replayed(bundle)
    assert not summary.ok
    assert summary.first_bad == 2
    # Declared to start at 2, the bundle must name the record before it.
    assert any("chain broken" in p for p in summary.records[0].problems)
    assert any("does not name the record before it" in p for p in summary.problems)


@pytest.mark.parametrize(
    ("flt", "seqs", "selection"),
    [
        pytest.param(RecordFilter(first=2), [2, 3], False, id="from-2"),
        pytest.param(RecordFilter(first=2, last=2), [2], False, id="from-2-to-2"),
        pytest.param(RecordFilter(verdict="PASSED"), [1, 3], True, id="passed"),
        pytest.param(RecordFilter(verdict="FAILED"), [2], True, id="failed"),
    ],
)
@pytest.mark.parametrize("workers", [1, 2])
def test_filtered_bundle_replays_what_it_declares(
    store_url: str,
    tmp_path: Path,
    flt: RecordFilter,
    seqs: list[int],
    *,
    selection: bool,
    workers: int,
) -> None:
    bundle = export(store_url, tmp_path / "b", flt)
    claims = manifest(bundle)["records"]
    assert (claims["first"], claims["last"], claims["count"]) == (
        seqs[0],
        seqs[-1],
        len(seqs),
    )
    assert (claims["previous"] is None) == (seqs[0] == 1)
    assert any(k in claims["filter"] for k in ("verdict",)) == selection
    summary = replayed(bundle, workers=workers)
    assert summary.ok, all_problems(summary)
    assert [r.seq for r in summary.records] == seqs
    # Deleting the last declared record is detected, with the manifest relisted.
    (bundle / RECORD.format(seqs[-1])).unlink()
    relist(bundle)
    assert not replayed(bundle, workers=workers).ok


def test_filtered_bundle_checks_the_link_before_its_first_record(
    store_url: str, tmp_path: Path
) -> None:
    bundle = export(store_url, tmp_path / "b", RecordFilter(first=2))
    relist(bundle, previous=sha256(b"another record"))
    summary = replayed(bundle)
    assert summary.first_bad == 2
    assert any("chain broken" in p for p in summary.records[0].problems)


def test_range_bundle_with_a_deleted_record_inside(
    store_url: str, tmp_path: Path
) -> None:
    bundle = export(store_url, tmp_path / "b", RecordFilter(first=1, last=3))
    (bundle / RECORD.format(2)).unlink()
    relist(bundle, count=2)
    summary = replayed(bundle)
    assert summary.first_bad == 3
    assert any("sequence gap" in p for p in summary.records[1].problems)


# --- --integrity-only ----------------------------------------------------------------------


def test_integrity_only_checks_the_input_blobs(bundle: Path) -> None:
    blob = min((bundle / "blobs" / "sha256").iterdir())
    blob.write_bytes(b"not the recorded input")
    relist(bundle)  # the manifest agrees; only the digest in the records does not
    summary = replayed(bundle, rerun=False)
    assert not summary.ok
    assert "was altered" in all_problems(summary)
    blob.unlink()
    relist(bundle)
    assert "is missing" in all_problems(replayed(bundle, rerun=False))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param(
            lambda m: m["records"].update(count="3"), "records.count", id="count"
        ),
        pytest.param(lambda m: m["records"].update(last=-1), "records.last", id="last"),
        pytest.param(lambda m: m["records"].pop("first"), "records.first", id="first"),
        pytest.param(
            lambda m: m["records"].update(previous=5), "records.previous", id="previous"
        ),
        pytest.param(
            lambda m: m["records"].update(filter=[]), "records.filter", id="filter"
        ),
        pytest.param(lambda m: m.update(files=[]), "files", id="files"),
        pytest.param(
            lambda m: m["files"].update({"x": None}), "files['x']", id="file-digest"
        ),
        pytest.param(lambda m: m.update(records=None), "records", id="records"),
    ],
)
def test_manifest_of_the_wrong_shape_is_an_error_naming_the_field(
    bundle: Path, change: Callable[[dict[str, Any]], None], field: str
) -> None:
    data = manifest(bundle)
    change(data)
    write_manifest(bundle, data)
    with pytest.raises(InvalidInputError) as info:
        BundleSource(bundle)
    assert info.value.file == str(bundle / "MANIFEST.json")
    assert info.value.path == field


def test_blob_replaced_by_a_directory_is_reported(bundle: Path) -> None:
    blob = min((bundle / "blobs" / "sha256").iterdir())
    blob.unlink()
    blob.mkdir()
    for rerun in (True, False):
        text = all_problems(replayed(bundle, rerun=rerun))
        assert "is missing: is a directory" in text
