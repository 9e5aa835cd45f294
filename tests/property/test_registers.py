"""Property tests: certification registers and the operator's certification records.

Public register exports (the Common Criteria portal's CSV, the project's own CSV and
JSON) are edited as tables and as JSON trees; the operator's certification and status
records are edited as statements and signed again with the operator key, so every
mutant passes the signature check and reaches the record's fields (what an insider
holding the role key could write). The result is rows, a record or a project error,
never another exception.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests import certs
from tests.builders import AT, KEYS, DeliveryBuilder
from tests.property import _seeds as seeds
from tests.property._harness import parses
from tests.property._mutate import csv_documents, edited_json, json_documents, mixed
from vendorproof._internal import crypto
from vendorproof.intake import check_delivery, load_policy
from vendorproof.models.certification_record import (
    RECORD_PAYLOAD_TYPE,
    STATUS_INPUT_PREFIX,
    StatusRecord,
    open_record,
    open_status,
    record_input,
    seal_record,
    seal_status,
    source_digest,
    source_input,
    version_covered,
)
from vendorproof.models.envelope import Envelope, Signature, pae
from vendorproof.models.policy import Policy
from vendorproof.models.registers import _OWN as _OWN_COLUMNS  # the reader's columns
from vendorproof.models.registers import read_register
from vendorproof.verify.result import VerificationReport

_CC_PORTAL = (
    Path(__file__).resolve().parents[1]
    / "assets"
    / "cc-portal"
    / "cc_products_active.csv"
).read_bytes()

_OWN_ROWS: list[dict[str, Any]] = [
    {
        "scheme": "NESAS",
        "certificateId": "NESAS-2026-0042",
        "certificationBody": "Example Audit Lab GmbH",
        "holder": "Acme",
        "product": "AcmeRAN gNB",
        "versions": ["24.1.3", ">=24.1,<25"],
        "validFrom": "2026-01-15T00:00:00Z",
        "validUntil": "2031-01-15T00:00:00Z",
    },
    {
        "scheme": "EUCC",
        "certificateId": "EUCC-3090-2025-10-0004",
        "holder": "Acme",
        "product": "AcmeCore UPF",
        "versions": ["2.0"],
        "assuranceLevel": "substantial",
        "issued": "2025-10-06T00:00:00Z",
        "validFrom": "2025-10-06T00:00:00Z",
        "validUntil": "2030-10-06T00:00:00Z",
        "statusUrl": "https://certification.enisa.europa.eu/",
    },
]


def _cell(value: object) -> str:
    return ";".join(value) if isinstance(value, list) else str(value or "")


_OWN_CSV = (
    "\r\n".join(
        [
            ",".join(_OWN_COLUMNS),
            *(",".join(_cell(r.get(c)) for c in _OWN_COLUMNS) for r in _OWN_ROWS),
        ]
    )
    + "\r\n"
).encode()

#: Cell values that reach the fields behind the CSV syntax.
_CELLS = st.sampled_from(
    [
        "02/30/2020",
        "13/01/2020",
        "00/00/0000",
        "1/1/1",
        "01/01/0001",
        "12/31/9999",
        " 06/15/2020 ",
        "2026-01-15T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "0001-01-01T05:00:00+06:00",
        "9999-12-31T23:59:59Z",
        "9999-12-31T20:00:00-05:00",
        "2026-02-30T00:00:00Z",
        "2026-01-15T00:00:00.1234567890123Z",
        "EUCC",
        "BSI-NESAS-CCS-GI",
        "CC",
        "BSZ",
        "None",
        "EUCC-3090-2025-10-0004",
        "EUCC-3090-0001-01-0004",
        "EUCC-3090-9999-12-0004",
        "EUCC-3090-2025-13-0004",
        "EUCC-3090-2025-0000000004-00002",
        "EUCC-3090-2025-" + "9" * 40 + "-1",
        "&#x2f;",
        "&#0;",
        "&#xd800;",
        "&#1114112;",
        "&#99999999999999999999;",
        "&amp;",
        '=HYPERLINK("http://x")',
        ";",
        ";;24.1.3;",
        ">=24.1,<25",
        ">=" + "9" * 50,
        "a\r\nb",
        '"',
    ]
)


@given(mixed(_CC_PORTAL, lambda seed: csv_documents(seed, _CELLS)))
def test_cc_portal_register(raw: bytes) -> None:
    parses(
        read_register,
        raw,
        fmt="cc-portal",
        file="cc_products_active.csv",
        input_size=len(raw),
    )


def _own_json_edits(seed: bytes) -> st.SearchStrategy[bytes]:
    return json_documents(json.loads(seed))


@given(
    st.one_of(
        mixed(_OWN_CSV, lambda seed: csv_documents(seed, _CELLS)),
        mixed(json.dumps(_OWN_ROWS).encode(), _own_json_edits),
        # One or two fields of a valid row replaced by odd register values.
        st.tuples(
            st.sampled_from(_OWN_ROWS),
            st.dictionaries(st.sampled_from(_OWN_COLUMNS), _CELLS, max_size=2),
        ).map(lambda rc: json.dumps([{**rc[0], **rc[1]}]).encode()),
        # Odd register values in the JSON form, where they are typed.
        st.lists(
            st.fixed_dictionaries(
                {},
                optional={c: st.one_of(_CELLS, st.just([])) for c in _OWN_COLUMNS},
            ),
            max_size=3,
        ).map(lambda rows: json.dumps(rows).encode()),
    )
)
def test_own_register(raw: bytes) -> None:
    parses(read_register, raw, fmt="vendorproof", file="register", input_size=len(raw))


# -- the operator's records, signed again after every edit --------------------------


@functools.cache
def _record_statement() -> dict[str, Any]:
    return certs.record().statement()


@functools.cache
def _eucc_statement() -> dict[str, Any]:
    """A record of an EUCC certificate (its id names the month of issuance)."""
    return certs.record(
        scheme="EUCC", certificate_id="EUCC-3090-2026-01-0042"
    ).statement()


@functools.cache
def _status_record() -> StatusRecord:
    """A suspension of the sample record (its subject: that record's envelope)."""
    raw = seal_record(certs.record(), seeds.OPERATOR_KEY)
    return StatusRecord(
        role=certs.ROLE,
        certificate_id="NESAS-2026-0042",
        status="suspended",
        as_of=certs.record().valid_from,
        source="https://www.gsma.com/security/nesas-certificates/",
        record_name="certification-record:NESAS-2026-0042",
        record_sha256=hashlib.sha256(raw).hexdigest(),
    )


def _signed(statement: Any) -> bytes:
    """``statement`` in a DSSE envelope signed with the operator key."""
    payload = json.dumps(statement).encode("utf-8", "surrogatepass")
    key = seeds.OPERATOR_KEY
    envelope = Envelope(
        payload_type=RECORD_PAYLOAD_TYPE,
        payload=payload,
        signatures=(
            Signature(
                sig=crypto.sign(key, pae(RECORD_PAYLOAD_TYPE, payload)),
                keyid=crypto.key_id(seeds.OPERATOR_PUB),
            ),
        ),
    )
    return json.dumps(envelope.to_dict()).encode()


def _resigned(seed: dict[str, Any]) -> st.SearchStrategy[bytes]:
    """Edits of the statement, of its predicate, and of the odd register values."""
    predicate = seed["predicate"]

    def with_predicate(p: Any) -> dict[str, Any]:
        return {**seed, "predicate": p}

    def with_field(item: tuple[str, str]) -> dict[str, Any]:
        return with_predicate({**predicate, item[0]: item[1]})

    return st.one_of(
        edited_json(seed),
        edited_json(predicate).map(with_predicate),
        st.tuples(st.sampled_from(sorted(predicate)), _CELLS).map(with_field),
    ).map(_signed)


def _open_record(raw: bytes) -> None:
    record, _ = open_record(raw, [seeds.OPERATOR_PUB], file="record.json")
    record.statement()
    version_covered(record.versions, "24.1.3")
    version_covered(record.versions, "x")
    assert record.attested_by


@given(
    st.one_of(
        _resigned(_record_statement()),
        _resigned(_eucc_statement()),
        mixed(
            seal_record(certs.record(), seeds.OPERATOR_KEY),
            lambda seed: json_documents(json.loads(seed)),
        ),
    )
)
def test_certification_record(raw: bytes) -> None:
    parses(_open_record, raw, input_size=len(raw))


def _open_status(raw: bytes) -> None:
    status = open_status(raw, [seeds.OPERATOR_PUB], file="status.json")
    status.statement()


@given(
    st.one_of(
        _resigned(_status_record().statement()),
        mixed(
            seal_status(_status_record(), seeds.OPERATOR_KEY),
            lambda seed: json_documents(json.loads(seed)),
        ),
    )
)
def test_certification_status(raw: bytes) -> None:
    parses(_open_status, raw, input_size=len(raw))


# -- the records as a delivery's evaluation reads them ------------------------------


@functools.cache
def _register() -> tuple[Path, Policy]:
    """A delivery without a body-signed certification, and a policy naming a
    register whose role key is the operator key."""
    work = seeds.scratch()
    shutil.copy(KEYS / "operator" / "intake.pub", work / "desk.pub")
    policy = load_policy(certs.register_policy(work))
    root = work / "delivery"
    DeliveryBuilder(root).standard()
    (root / "attestations" / "certification.sigstore.json").unlink()
    return root, policy


def _evaluate(record: bytes, status: bytes | None) -> VerificationReport:
    root, policy = _register()
    records = {
        record_input("NESAS-2026-0042"): record,
        source_input(source_digest(certs.PDF)): certs.PDF,
    }
    if status is not None:
        records[STATUS_INPUT_PREFIX + "NESAS-2026-0042-1"] = status
    report = check_delivery(root, policy, at=AT, time_source="test", records=records)
    assert report.checks
    json.dumps(report.to_dict())
    return report


def test_register_seed_passes() -> None:
    """The unedited record passes, so every mutant starts from an accepted delivery."""
    report = _evaluate(seal_record(certs.record(), seeds.OPERATOR_KEY), None)
    assert report.ok
    assert any(
        c.check == "certification" and c.outcome.value == "pass" for c in report.checks
    )


@given(
    st.one_of(
        st.tuples(_resigned(_record_statement()), st.none()),
        st.tuples(
            st.just(seal_record(certs.record(), seeds.OPERATOR_KEY)),
            _resigned(_status_record().statement()),
        ),
    )
)
def test_certification_evaluation(case: tuple[bytes, bytes | None]) -> None:
    record, status = case
    parses(_evaluate, record, status, input_size=len(record) + len(status or b""))
