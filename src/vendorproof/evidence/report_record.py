"""Concentration report records: a signed report in the evidence chain.

Besides intake records (``record.py``, one per delivery), the chain holds records of
the vendor concentration report (``docs/concentration.md``): an in-toto Statement
with vendorproof's own predicate type, signed by the operator's intake key in the same
DSSE envelope, linked into the chain like every record (sequence number and the
digest of the previous record), its inputs (the policy and the files it references,
the deployment inventory) stored content-addressed. The predicate holds the report's
numbers (its JSON without the store's location), the records it covers
(``through``: records 1 to that sequence number) and the time the deny-list was
evaluated at; ``audit replay`` recomputes the report from the stored inputs and the
records it covers and compares the numbers.

``verificationResult`` is PASSED when every record the report covers verified and
the chain had no break, FAILED otherwise: the report's own thresholds are warnings,
never a verdict.

:func:`parse_record` reads a stored record of either kind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from vendorproof._internal import crypto
from vendorproof.errors import InvalidInputError
from vendorproof.evidence.record import (
    EXTENSION,
    VERIFIER_ID,
    EvidenceRecord,
    hex64,
    inputs_of,
    open_statement,
    predicate_head,
    record_digest,
    verify_envelope,
    versions,
)
from vendorproof.models import _fields as f
from vendorproof.models.envelope import Envelope
from vendorproof.models.statement import Statement, build_statement
from vendorproof.models.statement import Subject as StatementSubject

__all__ = [
    "CONCENTRATION_PREDICATE",
    "INVENTORY_INPUT",
    "REPORT_SCHEMA_VERSION",
    "AnyRecord",
    "ConcentrationRecord",
    "build_concentration_record",
    "parse_record",
]

CONCENTRATION_PREDICATE = "https://vendorproof.dev/concentration-report/v1"
#: Input name of the deployment inventory.
INVENTORY_INPUT = "inventory"
REPORT_SCHEMA_VERSION = 1


def build_concentration_record(
    report: Mapping[str, Any],
    *,
    sequence: int,
    previous: str | None,
    record_id: str,
    created_at: datetime,
    as_of: datetime,
    as_of_source: str,
    actor: str,
    policy: Mapping[str, Any],
    inputs: Mapping[str, str],
    through: int,
) -> dict[str, Any]:
    """The statement of a concentration report record (sign it with ``sign_record``).

    Args:
        report: the report's JSON (``ConcentrationReport.to_dict``) without ``store``.
        sequence: this record's position in the chain.
        previous: the digest of record ``sequence - 1`` (None for the first).
        record_id: a unique id (UUID).
        created_at: when the record was made.
        as_of: the time the deny-list was evaluated at.
        as_of_source: where that time came from (``--at`` or ``clock``).
        actor: who made the report.
        policy: the policy summary (id, version, legal basis, digest).
        inputs: input name -> sha256 (the policy, its files, the inventory).
        through: the report covers records 1 to ``through``.
    """
    integrity = report.get("integrity", {})
    verdict = "PASSED" if integrity.get("intact") else "FAILED"
    predicate = {
        "verifier": {"id": VERIFIER_ID, "version": versions()},
        "timeVerified": f.format_time(created_at),
        "verificationResult": verdict,
        "policy": {
            "uri": f"urn:vendorproof:policy:{policy['id']}:{policy['version']}",
            "digest": dict(policy["digest"]),
        },
        EXTENSION: {
            "schemaVersion": REPORT_SCHEMA_VERSION,
            "recordId": record_id,
            "sequence": sequence,
            "previousRecord": None if previous is None else {"sha256": previous},
            "asOf": f.format_time(as_of),
            "asOfSource": as_of_source,
            "actor": actor,
            "policy": dict(policy),
            "inputs": dict(sorted(inputs.items())),
            "through": through,
            "report": dict(report),
        },
    }
    subjects = (
        StatementSubject(
            name=INVENTORY_INPUT,
            digest=MappingProxyType({"sha256": inputs[INVENTORY_INPUT]}),
        ),
    )
    return build_statement(subjects, CONCENTRATION_PREDICATE, predicate)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConcentrationRecord:
    """A parsed concentration report record (signature checked by the parser)."""

    envelope: Envelope
    raw: bytes = field(repr=False)
    file: str = ""
    authenticated: bool
    sequence: int
    previous: str | None
    record_id: str
    time_verified: str
    as_of: datetime
    as_of_source: str
    actor: str
    verdict: str
    policy: Mapping[str, Any]
    inputs: Mapping[str, str]
    through: int
    report: Mapping[str, Any] = field(repr=False)

    @property
    def statement(self) -> Statement:
        """The record's in-toto statement (parsed on use)."""
        return Statement.from_bytes(
            self.envelope.payload, authenticated=self.authenticated
        )

    @property
    def digest(self) -> str:
        """sha256 of the envelope bytes (what the next record links to)."""
        return record_digest(self.raw)

    @property
    def inventory_file(self) -> str:
        """The inventory's file name as the report recorded it."""
        inventory = self.report.get("inventory")
        name = inventory.get("file") if isinstance(inventory, Mapping) else None
        return name if isinstance(name, str) else INVENTORY_INPUT

    def index(self) -> tuple[str, str, str, str, int, str]:
        """The store's index columns of this record (no vendor, product or version)."""
        return (self.record_id, self.verdict, "", "", -1, "")

    def verify_signature(self, keys: Sequence[crypto.PublicKey]) -> str:
        """Verify the operator signature with one of ``keys``; return its key id.

        Raises:
            SignatureError: no signature verifies with any of the keys.
        """
        return verify_envelope(self.envelope, keys)

    @classmethod
    def from_predicate(
        cls,
        raw: bytes,
        env: Envelope,
        ptype: str,
        p: Mapping[str, Any],
        *,
        authenticated: bool,
        file: str,
    ) -> ConcentrationRecord:
        """The report record in a statement ``open_statement`` opened.

        Raises:
            InvalidInputError: a field is missing or of the wrong type (named).
        """
        verdict, time_verified, ext = predicate_head(
            ptype,
            p,
            expected=CONCENTRATION_PREDICATE,
            version=REPORT_SCHEMA_VERSION,
            what="report",
        )
        try:
            sequence = f.require(ext, "sequence", int)
            through = f.require(ext, "through", int)
            if sequence < 1 or not 0 <= through < sequence:
                raise InvalidInputError(
                    "must be 0 or more and below the record's sequence", path="through"
                )
            prev = f.get(ext, "previousRecord", dict)
            inputs = inputs_of(f.require_mapping(ext, "inputs"))
            if INVENTORY_INPUT not in inputs:
                raise InvalidInputError(
                    "the inventory is not among the inputs", path="inputs"
                )
            return cls(
                envelope=env,
                raw=raw,
                file=file,
                authenticated=authenticated,
                sequence=sequence,
                previous=None
                if prev is None
                else hex64(prev.get("sha256"), "previousRecord.sha256"),
                record_id=f.require_str(ext, "recordId"),
                time_verified=time_verified,
                as_of=f.require_time(ext, "asOf"),
                as_of_source=f.require_str(ext, "asOfSource"),
                actor=f.require_str(ext, "actor"),
                verdict=verdict,
                policy=MappingProxyType(dict(f.require_mapping(ext, "policy"))),
                inputs=MappingProxyType(inputs),
                through=through,
                report=MappingProxyType(dict(f.require_mapping(ext, "report"))),
            )
        except InvalidInputError as e:
            raise e.under(f"predicate.{EXTENSION}") from e


#: A stored record of either kind.
AnyRecord = EvidenceRecord | ConcentrationRecord


def parse_record(
    raw: bytes,
    *,
    keys: Sequence[crypto.PublicKey] | None = None,
    file: str = "",
) -> EvidenceRecord | ConcentrationRecord:
    """Parse a stored record of either kind (intake or concentration report).

    With ``keys`` the operator signature is verified before anything else is read.

    Raises:
        InvalidInputError: not a vendorproof record (naming ``file`` and the field).
        SignatureError: ``keys`` given and no signature verifies with them.
    """
    try:
        env, ptype, p = open_statement(raw, keys, file)
        kind = (
            ConcentrationRecord if ptype == CONCENTRATION_PREDICATE else EvidenceRecord
        )
        return kind.from_predicate(
            raw, env, ptype, p, authenticated=keys is not None, file=file
        )
    except InvalidInputError as e:
        if not file:
            raise
        raise e.in_file(file) from e
