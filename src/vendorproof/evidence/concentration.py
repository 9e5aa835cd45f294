"""The concentration report as evidence: record it, and recompute it in replay.

``record_concentration`` computes the report over the records the operator keys
verify, then appends it to the chain under the chain lock (the head must verify, as
for intake), signed with the operator's intake key, with the policy, the files it
references and the inventory stored as inputs (``report_record.py``).
``recompute`` is replay's step 6 for such a record: the policy and the inventory
from the stored inputs (each checked against its digest), the records 1 to
``through`` from the source verified with the auditor's pinned keys, the report
computed again at the recorded deny-list time, and every number compared.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from vendorproof._internal import crypto
from vendorproof._internal.jsonio import show_key
from vendorproof.evidence.intake import POLICY_INPUT, POLICY_REF_PREFIX, verify_head
from vendorproof.evidence.readout import records_view
from vendorproof.evidence.record import sign_record
from vendorproof.evidence.report_record import (
    INVENTORY_INPUT,
    ConcentrationRecord,
    build_concentration_record,
)
from vendorproof.evidence.store import (
    ChainHead,
    EvidenceStore,
    PreparedRecord,
    StoredRecord,
)
from vendorproof.models import _fields as f
from vendorproof.models.inventory import parse_inventory
from vendorproof.models.policy import Policy
from vendorproof.reports.concentration import ConcentrationReport, concentration_report

__all__ = ["recompute", "record_concentration", "recorded_numbers"]

#: At most this many differences are listed for one record.
_MAX_DIFFS = 5


def recorded_numbers(report: ConcentrationReport) -> dict[str, Any]:
    """What a record keeps of a report: its JSON without the store's location.

    Records are canonical JSON, which has no floats: every number of the report
    (rounded to 6 decimals) is kept as its shortest decimal string (``"0.52"``).
    """
    data = report.to_dict()
    data.pop("store", None)
    return {k: _decimal_strings(v) for k, v in data.items()}


def _decimal_strings(value: Any) -> Any:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {k: _decimal_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimal_strings(v) for v in value]
    return value


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_concentration(
    store: EvidenceStore,
    policy: Policy,
    inventory: bytes,
    *,
    inventory_file: str,
    key: crypto.SigningKey,
    actor: str,
    at: datetime,
    time_source: str,
    trusted: Sequence[crypto.PublicKey] = (),
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> tuple[StoredRecord, ConcentrationReport]:
    """Compute the concentration report and append it to ``store`` as a record.

    The report covers the records the store holds when it is read (verified with
    the signing key's public key and ``trusted``); the record names the last of them
    (``through``).

    Raises:
        InvalidInputError: the inventory is malformed, or the head of the chain does
            not verify (``ChainHeadError``); nothing is recorded.
        OutputError: the store failed (nothing recorded).
    """
    keys = [crypto.as_public_key(key.public_key()), *trusted]
    parsed = parse_inventory(inventory, file=inventory_file)
    view = records_view(store.url, store.records(), keys)
    report = concentration_report(
        parsed, view, inventory_file=inventory_file, policy=policy, at=at
    )
    blobs: dict[str, bytes] = {}
    inputs: dict[str, str] = {}

    def keep(name: str, data: bytes) -> None:
        blobs[_sha256(data)] = data
        inputs[name] = _sha256(data)

    keep(POLICY_INPUT, policy.raw)
    for ref, data in policy.referenced.items():
        if not ref.startswith("inline:"):
            keep(POLICY_REF_PREFIX + ref, data)
    keep(INVENTORY_INPUT, inventory)
    numbers = recorded_numbers(report)

    def build(head: ChainHead) -> PreparedRecord:
        verify_head(head, keys, store.url)
        record_id = str(uuid.uuid4())
        created = clock()
        statement = build_concentration_record(
            numbers,
            sequence=head.seq + 1,
            previous=head.digest,
            record_id=record_id,
            created_at=created,
            as_of=at,
            as_of_source=time_source,
            actor=actor,
            policy=policy.summary(),
            inputs=inputs,
            through=view.last,
        )
        return PreparedRecord(
            record_id=record_id,
            created_at=f.format_time(created),
            vendor="",
            product="",
            version="",
            security_version=-1,
            verdict=statement["predicate"]["verificationResult"],
            envelope=sign_record(statement, key),
            inputs=dict(inputs),
        )

    stored = store.append(
        build,
        blobs,
        checkpoint_key=key if isinstance(key, ed25519.Ed25519PrivateKey) else None,
    )
    return stored, report


def recompute(
    rec: ConcentrationRecord,
    *,
    policy: Policy,
    inventory: bytes,
    rows: Iterator[StoredRecord],
    keys: Sequence[crypto.PublicKey],
    url: str,
    derived: bool,
) -> list[str]:
    """The differences between the recorded report and the one computed again.

    ``rows``: the source's records from the first on (read up to ``rec.through``).

    Raises:
        InvalidInputError: the stored inventory does not parse.
    """
    view = records_view(url, rows, keys, derived=derived, through=rec.through)
    diffs: list[str] = []
    if view.last != rec.through:
        held = f"the source holds them only up to {view.last}"
        return [f"the report covers records 1 to {rec.through}; {held}"]
    report = concentration_report(
        parse_inventory(inventory, file=f"record {rec.sequence}: {INVENTORY_INPUT}"),
        view,
        inventory_file=rec.inventory_file,
        policy=policy,
        at=rec.as_of,
    )
    _diff("report", dict(rec.report), recorded_numbers(report), diffs)
    verdict = "PASSED" if view.intact else "FAILED"
    if verdict != rec.verdict:
        diffs.append(f"verdict: recorded {rec.verdict}, replayed {verdict}")
    return diffs


def _diff(where: str, recorded: Any, replayed: Any, out: list[str]) -> None:
    """Append where ``recorded`` and ``replayed`` differ (at most a few places)."""
    if len(out) >= _MAX_DIFFS or recorded == replayed:
        return
    if isinstance(recorded, Mapping) and isinstance(replayed, Mapping):
        for name in sorted(set(recorded) | set(replayed), key=str):
            _diff(
                f"{where}.{name}",
                recorded.get(name),
                replayed.get(name),
                out,
            )
        return
    if (
        isinstance(recorded, list)
        and isinstance(replayed, list)
        and len(recorded) == len(replayed)
    ):
        for i, (a, b) in enumerate(zip(recorded, replayed, strict=True)):
            _diff(f"{where}[{i}]", a, b, out)
        return
    out.append(
        f"{where}: recorded {show_key(_short(recorded))}, "
        f"replayed {show_key(_short(replayed))}"
    )


def _short(value: Any) -> object:
    if isinstance(value, list):
        return f"{len(value)} entries"
    if isinstance(value, Mapping):
        return f"{len(value)} fields"
    return value
