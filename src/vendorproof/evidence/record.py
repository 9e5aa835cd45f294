"""Trustworthiness evidence records: an in-toto Statement with the SLSA VSA predicate.

A record is the signed account of one intake decision (domain brief §4): the verifier
and its library versions, the as-of time, the actor, the policy (id, version, legal
basis, digest), the delivery's subject (vendor, product, version, every component with
the digests measured), the digest of every input document (the bytes are stored
content-addressed next to the record), the trust anchors used, every check with its
requirement ids, the verdict, and the chain link (sequence number and the digest of the
previous record). It is signed by the operator's key in a DSSE envelope.

Note: "evidence record" here is vendorproof's own record, not RFC 4998 Evidence Record
Syntax (BSI TR-03125 long-term preservation).
"""

from __future__ import annotations

import functools
import hashlib
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from types import MappingProxyType
from typing import Any

from vendorproof import __version__
from vendorproof._internal import crypto
from vendorproof._internal.jsonio import canonical_json, parse_authenticated, parse_json
from vendorproof.errors import InvalidInputError, SignatureError
from vendorproof.models import _fields as f
from vendorproof.models.envelope import Envelope, Signature, pae
from vendorproof.models.statement import (
    PAYLOAD_TYPE,
    STATEMENT_TYPE,
    Statement,
    build_statement,
)
from vendorproof.models.statement import Subject as StatementSubject
from vendorproof.verify.result import CheckResult, Outcome, VerificationReport

__all__ = [
    "RECORD_SCHEMA_VERSION",
    "VERIFIER_ID",
    "VSA_PREDICATE",
    "EvidenceRecord",
    "build_record",
    "record_digest",
    "sign_record",
]

VSA_PREDICATE = "https://slsa.dev/verification_summary/v1"
VERIFIER_ID = "https://vendorproof.dev/verifier/v1"
EXTENSION = "vendorproof"
RECORD_SCHEMA_VERSION = 1


def record_digest(envelope: bytes) -> str:
    """The digest that chains records: sha256 of the stored envelope bytes."""
    return hashlib.sha256(envelope).hexdigest()


@functools.cache
def _installed_versions() -> tuple[tuple[str, str], ...]:
    return tuple(_read_versions().items())


def _versions() -> dict[str, str]:
    """The verifier's and its libraries' versions (read once per process)."""
    return dict(_installed_versions())


def _read_versions() -> dict[str, str]:
    out = {"vendorproof": __version__, "python": platform.python_version()}
    for dist in ("cryptography", "PyYAML", "rfc3161-client"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:  # pragma: no cover - always installed
            out[dist] = "unknown"
    from cryptography.hazmat.backends.openssl.backend import backend

    out["openssl"] = backend.openssl_version_text()
    return out


def _subjects(
    report: VerificationReport, inputs: Mapping[str, str]
) -> list[StatementSubject]:
    out = [
        StatementSubject(name=path, digest=MappingProxyType(dict(m["digests"])))
        for path, m in sorted(report.delivery.get("measured", {}).items())
    ]
    out += [
        StatementSubject(name=name, digest=MappingProxyType({"sha256": digest}))
        for name, digest in sorted(inputs.items())
        if name.startswith("attestations/")
    ]
    if not out:
        listing = canonical_json(report.delivery.get("listing", {}))
        out.append(
            StatementSubject(
                name="delivery-listing",
                digest=MappingProxyType(
                    {"sha256": hashlib.sha256(listing).hexdigest()}
                ),
            )
        )
    return out


def build_record(
    report: VerificationReport,
    *,
    sequence: int,
    previous: str | None,
    record_id: str,
    created_at: datetime,
    actor: str,
    inputs: Mapping[str, str],
    intake: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The record statement for ``report`` (sign it with ``sign_record``).

    Args:
        report: the verification report (with every check).
        sequence: this record's position in the chain (1-based).
        previous: the digest of record ``sequence - 1`` (None for the first).
        record_id: a unique id (UUID).
        created_at: when the record was made (the as-of time is in the report).
        actor: who ran the intake.
        inputs: input name -> sha256 of every consumed document.
        intake: the intake's idempotency key and the digests it was derived from
            (``key``, ``delivery``, ``policy``), recorded as ``intake``.
    """
    d = report.delivery
    policy = report.policy
    predicate = {
        "verifier": {"id": VERIFIER_ID, "version": _versions()},
        "timeVerified": f.format_time(created_at),
        "resourceUri": (
            f"urn:vendorproof:delivery:{d.get('vendor', {}).get('id', '-')}:"
            f"{d.get('product', '-')}:{d.get('version', '-')}"
        ),
        "policy": {
            "uri": f"urn:vendorproof:policy:{policy['id']}:{policy['version']}",
            "digest": dict(policy["digest"]),
        },
        "inputAttestations": [
            {"uri": name, "digest": {"sha256": digest}}
            for name, digest in sorted(inputs.items())
            if name.startswith("attestations/")
        ],
        "verificationResult": report.verdict,
        "verifiedLevels": [],
        EXTENSION: {
            "schemaVersion": RECORD_SCHEMA_VERSION,
            "recordId": record_id,
            "sequence": sequence,
            "previousRecord": None if previous is None else {"sha256": previous},
            "asOf": f.format_time(report.verified_at),
            "asOfSource": report.time_source,
            "actor": actor,
            "policy": dict(policy),
            "delivery": dict(d),
            "inputs": dict(sorted(inputs.items())),
            "checks": [c.to_dict() for c in report.checks],
            **({"intake": dict(intake)} if intake is not None else {}),
        },
    }
    return build_statement(tuple(_subjects(report, inputs)), VSA_PREDICATE, predicate)


def sign_record(statement: Mapping[str, Any], key: crypto.SigningKey) -> bytes:
    """Sign a record statement; return the DSSE envelope as canonical JSON bytes."""
    payload = canonical_json(dict(statement))
    public = crypto.as_public_key(key.public_key())
    envelope = Envelope(
        payload_type=PAYLOAD_TYPE,
        payload=payload,
        signatures=(
            Signature(
                sig=crypto.sign(key, pae(PAYLOAD_TYPE, payload)),
                keyid=crypto.key_id(public),
            ),
        ),
    )
    return canonical_json(envelope.to_dict())


_OUTCOMES = {o.value: o for o in Outcome}
_CHECK_FIELDS = ("check", "subject", "requirements", "outcome", "reason")


def _check(value: Any) -> CheckResult:
    # Records hold one entry per check (thousands for large deliveries): validate
    # the five fields directly rather than through the generic accessors.
    if not isinstance(value, dict):
        raise InvalidInputError("expected object")
    for name in _CHECK_FIELDS:
        if name not in value:
            raise InvalidInputError("required field is missing", path=name)
    check, subject, reqs, outcome, reason = (value[n] for n in _CHECK_FIELDS)
    for name, item in (("check", check), ("subject", subject), ("reason", reason)):
        if not isinstance(item, str):
            raise InvalidInputError("expected string", path=name)
    if not isinstance(reqs, list) or not all(isinstance(r, str) for r in reqs):
        raise InvalidInputError("expected array of strings", path="requirements")
    result = _OUTCOMES.get(outcome) if isinstance(outcome, str) else None
    if result is None:
        raise InvalidInputError("unknown outcome", path="outcome")
    return CheckResult(
        check=check,
        subject=subject,
        requirements=tuple(reqs),
        outcome=result,
        reason=reason,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceRecord:
    """A parsed record. Signatures are checked by ``verify_signature``."""

    envelope: Envelope
    raw: bytes = field(repr=False)
    authenticated: bool
    sequence: int
    previous: str | None
    record_id: str
    as_of: datetime
    as_of_source: str
    actor: str
    verdict: str
    policy: Mapping[str, Any]
    delivery: Mapping[str, Any]
    inputs: Mapping[str, str]
    raw_checks: tuple[Any, ...] = field(repr=False)

    @property
    def statement(self) -> Statement:
        """The record's in-toto statement (parsed on use)."""
        return Statement.from_bytes(
            self.envelope.payload, authenticated=self.authenticated
        )

    @property
    def checks(self) -> tuple[CheckResult, ...]:
        """The recorded checks, parsed on use (integrity checks do not need them).

        Raises:
            InvalidInputError: a recorded check is malformed.
        """
        try:
            return f.parse_list({"checks": list(self.raw_checks)}, "checks", _check)
        except InvalidInputError as e:
            raise e.under(f"predicate.{EXTENSION}") from e

    @property
    def digest(self) -> str:
        """sha256 of the envelope bytes (what the next record links to)."""
        return record_digest(self.raw)

    @classmethod
    def from_bytes(
        cls, raw: bytes, *, keys: Sequence[crypto.PublicKey] | None = None
    ) -> EvidenceRecord:
        """Parse a stored record envelope.

        With ``keys``, the operator signature is verified first (over the envelope's
        PAE) and the authenticated payload is then decoded without the strict
        pre-checks that guard unauthenticated input: verify, then parse.

        Raises:
            InvalidInputError: not a vendorproof evidence record.
            SignatureError: ``keys`` given and no signature verifies with them.
        """
        env = Envelope.from_dict(f.check_type(parse_json(raw, file=""), dict, "record"))
        if env.payload_type != PAYLOAD_TYPE:
            raise InvalidInputError("unexpected payloadType", path="payloadType")
        if keys is not None:
            _verify_envelope(env, keys)
        if keys is None:
            strict = Statement.from_bytes(env.payload)  # the whole statement, strictly
            ptype, p = strict.predicate_type, strict.predicate
        else:
            # Authenticated: read the predicate; the subjects are parsed on use.
            d = f.check_type(parse_authenticated(env.payload), dict, "statement")
            if d.get("_type") != STATEMENT_TYPE:
                raise InvalidInputError("not an in-toto Statement v1", path="_type")
            ptype = f.require(d, "predicateType", str)
            p = f.require_mapping(d, "predicate")
        if ptype != VSA_PREDICATE:
            raise InvalidInputError(
                f"expected predicate type {VSA_PREDICATE}", path="predicateType"
            )
        ext = f.require_mapping(p, EXTENSION)
        try:
            if f.require(ext, "schemaVersion", int) != RECORD_SCHEMA_VERSION:
                raise InvalidInputError(
                    "unsupported record schema version", path="schemaVersion"
                )
            prev = f.get(ext, "previousRecord", dict)
            inputs = f.require_mapping(ext, "inputs")
            return cls(
                envelope=env,
                raw=raw,
                authenticated=keys is not None,
                sequence=f.require(ext, "sequence", int),
                previous=None if prev is None else f.require(prev, "sha256", str),
                record_id=f.require_str(ext, "recordId"),
                as_of=f.require_time(ext, "asOf"),
                as_of_source=f.require_str(ext, "asOfSource"),
                actor=f.require_str(ext, "actor"),
                verdict=f.require_str(p, "verificationResult"),
                policy=MappingProxyType(dict(f.require_mapping(ext, "policy"))),
                delivery=MappingProxyType(dict(f.require_mapping(ext, "delivery"))),
                inputs=MappingProxyType({str(k): str(v) for k, v in inputs.items()}),
                raw_checks=tuple(f.require(ext, "checks", list)),
            )
        except InvalidInputError as e:
            raise e.under(f"predicate.{EXTENSION}") from e

    def verify_signature(self, keys: Sequence[crypto.PublicKey]) -> str:
        """Verify the operator signature with one of ``keys``; return its key id.

        Raises:
            SignatureError: no signature verifies with any of the keys.
        """
        return _verify_envelope(self.envelope, keys)


def _verify_envelope(envelope: Envelope, keys: Sequence[crypto.PublicKey]) -> str:
    message = envelope.pae()
    for sig in envelope.signatures:
        for key in keys:
            try:
                crypto.verify(key, sig.sig, message)
            except SignatureError:
                continue
            return crypto.key_id(key)
    raise SignatureError("record signature does not verify with the operator key")
