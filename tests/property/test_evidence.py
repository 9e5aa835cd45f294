"""Property tests: evidence records and audit bundles, as an auditor meets them.

A tampered record is either unsigned garbage (any byte or field edit) or, for an
insider holding the operator key, a well-signed statement with malformed content;
both must end in a project error or a replay summary that lists the problem.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.property import _seeds as seeds
from tests.property._harness import parses
from tests.property._mutate import edited_json, json_documents, mixed
from vendorproof._internal import crypto
from vendorproof.evidence.bundle import BundleSource
from vendorproof.evidence.record import EvidenceRecord
from vendorproof.evidence.replay import replay
from vendorproof.evidence.report_record import ConcentrationRecord, parse_record
from vendorproof.models.envelope import Envelope, Signature, pae
from vendorproof.models.statement import PAYLOAD_TYPE


def _record_statement(index: int) -> dict[str, Any]:
    envelope = json.loads(seeds.records()[index])
    data: dict[str, Any] = json.loads(base64.b64decode(envelope["payload"]))
    return data


def _sign(statement: Any) -> bytes:
    """A record envelope over ``statement`` signed with the operator key.

    The payload is the statement's JSON as is (any value, not only the canonical
    mappings :func:`vendorproof.evidence.record.sign_record` writes).
    """
    payload = json.dumps(statement).encode("utf-8", "surrogatepass")
    key = seeds.OPERATOR_KEY
    envelope = Envelope(
        payload_type=PAYLOAD_TYPE,
        payload=payload,
        signatures=(
            Signature(
                sig=crypto.sign(key, pae(PAYLOAD_TYPE, payload)),
                keyid=crypto.key_id(seeds.OPERATOR_PUB),
            ),
        ),
    )
    return json.dumps(envelope.to_dict()).encode()


def _signed_records() -> st.SearchStrategy[bytes]:
    """Records an operator-key holder could write: signed, with edited content."""
    return (
        st.sampled_from([0, 1, 2])
        .flatmap(lambda i: edited_json(_record_statement(i), max_edits=4))
        .map(_sign)
    )


def _unsigned_records() -> st.SearchStrategy[bytes]:
    raw = seeds.records()[0]
    return mixed(raw, lambda _: json_documents(json.loads(raw)))


@given(st.one_of(_signed_records(), _unsigned_records()))
def test_record(raw: bytes) -> None:
    parses(EvidenceRecord.from_bytes, raw, input_size=len(raw))
    parses(
        EvidenceRecord.from_bytes, raw, keys=[seeds.OPERATOR_PUB], input_size=len(raw)
    )
    parses(parse_record, raw, input_size=len(raw))
    parses(parse_record, raw, keys=[seeds.OPERATOR_PUB], input_size=len(raw))
    parses(_read_record_fully, raw, input_size=len(raw))


def _read_record_fully(raw: bytes) -> None:
    record = parse_record(raw, keys=[seeds.OPERATOR_PUB])
    if isinstance(record, ConcentrationRecord):
        record.inventory_file  # noqa: B018 - read on use
    else:
        record.checks  # noqa: B018 - parsed on use
    record.statement  # noqa: B018


# -- audit bundles ----------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _relist(root: Path, rel: str, data: bytes) -> None:
    """Update MANIFEST.json for ``rel`` (a tamperer who rewrites the manifest)."""
    manifest_path = root / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_bytes())
    manifest["files"][rel] = _sha256(data)
    manifest_path.write_text(json.dumps(manifest))


@st.composite
def _tampering(draw: st.DrawFn) -> tuple[str, str, bytes]:
    """(what, file, data): one change to an exported bundle."""
    root = seeds.audit_bundle()
    record_files = sorted(str(p.relative_to(root)) for p in root.glob("records/*"))
    what = draw(
        st.sampled_from(
            [
                "manifest",
                "signed-record",
                "record-bytes",
                "remove",
                "directory",
                "extra",
            ]
        )
    )
    if what == "manifest":
        manifest = json.loads((root / "MANIFEST.json").read_bytes())
        return what, "MANIFEST.json", draw(json_documents(manifest, max_edits=4))
    target = draw(st.sampled_from(record_files))
    if what == "signed-record":
        return what, target, draw(_signed_records())
    if what == "record-bytes":
        return what, target, draw(_unsigned_records())
    if what == "extra":
        name = draw(
            st.sampled_from(
                ["records/00000004.dsse.json", "records/0.dsse.json", "blobs/sha256/x"]
            )
        )
        return what, name, draw(_signed_records())
    listed = sorted(json.loads((root / "MANIFEST.json").read_bytes())["files"])
    return what, draw(st.sampled_from([*record_files, *listed])), b""


def _replay_tampered(work: Path, change: tuple[str, str, bytes]) -> None:
    what, rel, data = change
    path = work / rel
    if what == "remove":
        path.unlink(missing_ok=True)
    elif what == "directory":
        path.unlink(missing_ok=True)
        path.mkdir(parents=True, exist_ok=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if what in ("signed-record", "extra"):
            _relist(work, rel, data)
    source = BundleSource(work)
    replay(source, keys=[seeds.OPERATOR_PUB])


def warm_up() -> None:
    """Pay one-time costs (the sample intakes, the export) outside the deadline."""
    name = "records/00000001.dsse.json"
    unchanged = ("record-bytes", name, (seeds.audit_bundle() / name).read_bytes())
    parses(_replay_tampered, _copy_bundle(), unchanged)


def _copy_bundle() -> Path:
    work = seeds.scratch() / "bundle"
    shutil.copytree(seeds.audit_bundle(), work)
    return work


def _signed_record_with_measured(value: object) -> tuple[str, str, bytes]:
    """Record 1, its ``delivery.measured`` replaced by ``value`` and signed again."""
    statement = _record_statement(0)
    statement["predicate"]["vendorproof"]["delivery"]["measured"] = value
    return ("signed-record", "records/00000001.dsse.json", _sign(statement))


@pytest.mark.slow
@given(_tampering())
@example(change=("directory", "records/00000001.dsse.json", b""))
@example(change=_signed_record_with_measured(["not", "a", "mapping"]))
def test_audit_bundle(change: tuple[str, str, bytes]) -> None:
    work = _copy_bundle()
    try:
        parses(_replay_tampered, work, change, input_size=len(change[2]))
    finally:
        shutil.rmtree(work.parent)


@pytest.fixture(autouse=True, scope="module")
def _warm_up() -> None:
    warm_up()
