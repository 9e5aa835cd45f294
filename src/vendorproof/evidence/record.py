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
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from types import MappingProxyType
from typing import Any

from vendorproof import __version__
from vendorproof._internal import crypto
from vendorproof._internal.jsonio import (
    canonical_json,
    parse_authenticated,
    parse_json,
    show_key,
)
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
from vendorproof.models.summary import DeliverySummary
from vendorproof.verify.result import CheckResult, Outcome, VerificationReport

__all__ = [
    "RECORD_SCHEMA_VERSION",
    "VERIFIER_ID",
    "VSA_PREDICATE",
    "EvidenceRecord",
    "build_record",
    "hex64",
    "inputs_of",
    "open_statement",
    "record_digest",
    "sign_record",
    "verify_envelope",
    "versions",
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


def versions() -> dict[str, str]:
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
        StatementSubject(name=path, digest=MappingProxyType(dict(m.digests)))
        for path, m in sorted(report.delivery.measured.items())
    ]
    out += [
        StatementSubject(name=name, digest=MappingProxyType({"sha256": digest}))
        for name, digest in sorted(inputs.items())
        if name.startswith("attestations/")
    ]
    if not out:
        listing = canonical_json(report.delivery.listing.to_dict())
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
        "verifier": {"id": VERIFIER_ID, "version": versions()},
        "timeVerified": f.format_time(created_at),
        "resourceUri": (
            "urn:vendorproof:delivery:"
            f"{'-' if d.vendor is None else d.vendor.id}:"
            f"{d.product or '-'}:{d.version or '-'}"
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
            "delivery": d.to_dict(),
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
# What VerificationReport.ok accepts besides PASS (verify/result.py).
_ACCEPTABLE = frozenset({Outcome.PASS, Outcome.WARN, Outcome.NOT_APPLICABLE})
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


_VERDICTS = frozenset({"PASSED", "FAILED"})
_HEX64 = re.compile(r"[0-9a-f]{64}")


def predicate_head(
    ptype: str,
    p: Mapping[str, Any],
    *,
    expected: str,
    version: int,
    what: str,
) -> tuple[str, str, Mapping[str, Any]]:
    """What every record predicate starts with: verdict, ``timeVerified``, extension.

    Shared by the intake record and the concentration report record; ``what`` names
    the kind in the schema-version error.

    Raises:
        InvalidInputError: another predicate type, or a head field missing or
            malformed (naming it under ``predicate``).
    """
    if ptype != expected:
        raise InvalidInputError(
            f"expected predicate type {expected}", path="predicateType"
        )
    try:
        verdict = f.require(p, "verificationResult", str)
        if verdict not in _VERDICTS:
            raise InvalidInputError(
                "expected PASSED or FAILED", path="verificationResult"
            )
        time_verified = f.require(p, "timeVerified", str)
        ext = f.require_mapping(p, EXTENSION)
    except InvalidInputError as e:
        raise e.under("predicate") from e
    try:
        if f.require(ext, "schemaVersion", int) != version:
            raise InvalidInputError(
                f"unsupported {what} schema version", path="schemaVersion"
            )
    except InvalidInputError as e:
        raise e.under(f"predicate.{EXTENSION}") from e
    return verdict, time_verified, ext


def hex64(value: object, path: str) -> str:
    """``value`` if it is a lowercase hex sha256 (else an error at ``path``)."""
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise InvalidInputError("expected a lowercase hex sha256", path=path)
    return value


def inputs_of(value: Mapping[str, Any]) -> dict[str, str]:
    """A record's ``inputs`` (name -> sha256), each digest checked."""
    out = {}
    for name, digest in value.items():
        if not name:
            raise InvalidInputError("input name must not be empty", path="inputs")
        out[name] = hex64(digest, f"inputs[{show_key(name)}]")
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceRecord:
    """A parsed record. Signatures are checked by ``verify_signature``.

    Every field replay reads is type-checked when the record is parsed (the checks
    themselves when first used): a record of the wrong shape is an
    ``InvalidInputError`` naming the file and the field, never another exception.
    """

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
    delivery: DeliverySummary
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
            raise e.under(f"predicate.{EXTENSION}").in_file(self.file) from e

    def checks_verdict(self) -> str:
        """The verdict the recorded checks give, reading only their outcomes.

        The rule of ``VerificationReport.verdict``: PASSED only if a check passed and
        none failed or errored (cheaper than parsing every check for the integrity
        pass; the re-run compares the whole checks).

        Raises:
            InvalidInputError: a check is not an object or has an unknown outcome.
        """
        passed = False
        for i, value in enumerate(self.raw_checks):
            outcome = value.get("outcome") if isinstance(value, dict) else None
            result = _OUTCOMES.get(outcome) if isinstance(outcome, str) else None
            if result is None:
                raise InvalidInputError(
                    "unknown outcome",
                    path=f"predicate.{EXTENSION}.checks[{i}].outcome",
                    file=self.file or None,
                )
            if result not in _ACCEPTABLE:
                return "FAILED"
            passed = passed or result is Outcome.PASS
        return "PASSED" if passed else "FAILED"

    @property
    def digest(self) -> str:
        """sha256 of the envelope bytes (what the next record links to)."""
        return record_digest(self.raw)

    @classmethod
    def from_bytes(
        cls,
        raw: bytes,
        *,
        keys: Sequence[crypto.PublicKey] | None = None,
        file: str = "",
    ) -> EvidenceRecord:
        """Parse a stored record envelope.

        With ``keys``, the operator signature is verified first (over the envelope's
        PAE, only the envelope is parsed before) and the authenticated payload is
        then decoded without the strict pre-checks that guard unauthenticated input:
        verify, then parse. Every field is type-checked either way.

        Raises:
            InvalidInputError: not a vendorproof evidence record (naming ``file`` and
                the field).
            SignatureError: ``keys`` given and no signature verifies with them.
        """
        try:
            return cls._parse(raw, keys, file)
        except InvalidInputError as e:
            if not file:
                raise
            raise e.in_file(file) from e

    @classmethod
    def _parse(
        cls, raw: bytes, keys: Sequence[crypto.PublicKey] | None, file: str
    ) -> EvidenceRecord:
        env, ptype, p = open_statement(raw, keys, file)
        return cls.from_predicate(
            raw, env, ptype, p, authenticated=keys is not None, file=file
        )

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
    ) -> EvidenceRecord:
        """The intake record in a statement :func:`open_statement` opened.

        Raises:
            InvalidInputError: not an intake record (naming the field).
        """
        verdict, time_verified, ext = predicate_head(
            ptype,
            p,
            expected=VSA_PREDICATE,
            version=RECORD_SCHEMA_VERSION,
            what="record",
        )
        try:
            prev = f.get(ext, "previousRecord", dict)
            sequence = f.require(ext, "sequence", int)
            if sequence < 1:
                raise InvalidInputError("must be 1 or more", path="sequence")
            try:
                delivery = DeliverySummary.from_dict(f.require_mapping(ext, "delivery"))
            except InvalidInputError as e:
                raise e.under("delivery") from e
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
                delivery=delivery,
                inputs=MappingProxyType(inputs_of(f.require_mapping(ext, "inputs"))),
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


def open_statement(
    raw: bytes, keys: Sequence[crypto.PublicKey] | None, file: str
) -> tuple[Envelope, str, Mapping[str, Any]]:
    """The envelope, predicate type and predicate of a stored record of any kind.

    With ``keys`` the operator signature is verified before the payload is read
    (verify, then parse); without, the whole statement is parsed strictly.

    Raises:
        InvalidInputError: not a DSSE envelope over an in-toto Statement v1.
        SignatureError: ``keys`` given and no signature verifies with them.
    """
    env = Envelope.from_dict(f.check_type(parse_json(raw, file=file), dict, "record"))
    if env.payload_type != PAYLOAD_TYPE:
        raise InvalidInputError("unexpected payloadType", path="payloadType")
    if keys is None:
        strict = Statement.from_bytes(env.payload)  # the whole statement, strictly
        return env, strict.predicate_type, strict.predicate
    _verify_envelope(env, keys)
    # Authenticated: read the predicate; the subjects are parsed on use.
    d = f.check_type(parse_authenticated(env.payload), dict, "statement")
    if d.get("_type") != STATEMENT_TYPE:
        raise InvalidInputError("not an in-toto Statement v1", path="_type")
    return env, f.require(d, "predicateType", str), f.require_mapping(d, "predicate")


def verify_envelope(envelope: Envelope, keys: Sequence[crypto.PublicKey]) -> str:
    """Verify a record envelope's operator signature; return the key id.

    Raises:
        SignatureError: no signature verifies with any of ``keys``.
    """
    return _verify_envelope(envelope, keys)


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
