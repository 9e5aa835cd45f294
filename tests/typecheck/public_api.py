"""What type checkers see through the public packages (checked by mypy --strict).

``vendorproof.verify``, ``vendorproof.models`` and ``vendorproof.evidence`` re-export
their names lazily at run time; these ``assert_type`` calls fail under mypy if a
re-exported name, or what calling it returns, degrades to ``Any``. The functions are
never called: mypy checks them, and ``test_exports.py`` imports this module so every
name used here also resolves at run time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, assert_type

from cryptography import x509

from vendorproof import evidence, models, verify
from vendorproof._internal import crypto
from vendorproof.models.documents import SignedDocument
from vendorproof.models.policy import Principal, RevocationMode
from vendorproof.models.summary import PartyRef


def verify_api(
    *,
    leaf: x509.Certificate,
    root: x509.Certificate,
    crl: x509.CertificateRevocationList,
    raw: bytes,
    policy: models.Policy,
    principals: tuple[Principal, ...],
    at: datetime,
) -> None:
    chain = verify.verify_chain(leaf, [], [root], at=at, eku=verify.Eku.CODE_SIGNING)
    assert_type(chain, verify.VerifiedChain)
    assert_type(chain.leaf, x509.Certificate)
    assert_type(
        verify.verify_revocation(
            chain, [crl], at=at, signed_at=None, mode=RevocationMode.REQUIRE
        ),
        str,
    )
    doc = verify.load_signed_document(raw, file="m.sigstore.json")
    assert_type(doc, verify.SignedDocument)
    signer = verify.check_signer(
        doc,
        principals,
        role="vendor",
        policy=policy,
        at=at,
        time_source="test",
        requirements=(),
    )
    assert_type(signer, verify.SignerCheck)
    assert_type(signer.ok, bool)
    check = signer.checks[0]
    assert_type(check, verify.CheckResult)
    assert_type(check.outcome, verify.Outcome)


def verify_report(report: verify.VerificationReport) -> None:
    assert_type(report.ok, bool)
    assert_type(report.checks, tuple[verify.CheckResult, ...])
    assert_type(report.to_dict(), dict[str, Any])
    assert_type(report.delivery, models.DeliverySummary)
    assert_type(report.delivery.security_version, int | None)
    assert_type(report.delivery.principal, PartyRef | None)


def delivery_api(delivery: models.Delivery, policy: models.Policy) -> None:
    assert_type(delivery.documents, tuple[SignedDocument, ...])
    assert_type(delivery.package_manifest, models.PackageManifest | None)
    assert_type(delivery.findings, tuple[models.CheckResult, ...])
    assert_type(models.Check.INTEGRITY.requirements, tuple[str, ...])
    report = verify.evaluate_delivery(
        delivery, policy, at=datetime.now(UTC), time_source="--at", hasher=_hasher
    )
    assert_type(report, verify.VerificationReport)


def _hasher(paths: Any, algorithms: Any) -> list[Any]:
    return []


def models_api(raw: bytes, resolve: Any) -> None:
    policy = models.Policy.from_yaml(raw, file="policy.yaml", resolve=resolve)
    assert_type(policy, models.Policy)
    statement = models.Statement.from_bytes(raw)
    assert_type(statement, models.Statement)
    assert_type(statement.subjects, tuple[models.Subject, ...])
    assert_type(statement.predicate, Mapping[str, Any])
    assert_type(
        models.ComponentManifest.from_statement(statement), models.ComponentManifest
    )
    assert_type(models.Certification.from_statement(statement), models.Certification)
    assert_type(
        models.TrustDeclaration.from_statement(statement), models.TrustDeclaration
    )
    assert_type(models.Bundle.from_bytes(raw), models.Bundle)
    envelope = models.Envelope.from_dict({})
    assert_type(envelope, models.Envelope)
    assert_type(envelope.signatures, tuple[models.Signature, ...])
    assert_type(models.pae(models.PAYLOAD_TYPE, raw), bytes)
    assert_type(models.STATEMENT_TYPE, str)
    assert_type(models.MANIFEST_PREDICATE, str)
    assert_type(models.CERTIFICATION_PREDICATE, str)
    assert_type(models.DECLARATION_PREDICATE, str)
    assert_type(models.ComponentKind("firmware"), models.ComponentKind)
    assert_type(models.Domain("RAN"), models.Domain)
    assert_type(models.BundleVersion(envelope.payload_type), models.BundleVersion)
    assert_type(models.Component, type[models.Component])
    assert_type(models.Party, type[models.Party])


def evidence_api(
    *,
    delivery: Path,
    policy: Path,
    key: crypto.SigningKey,
    keys: tuple[crypto.PublicKey, ...],
    at: datetime,
    out: Path,
) -> None:
    store = evidence.open_store(evidence.DEFAULT_STORE)
    assert_type(store, evidence.EvidenceStore)
    assert_type(evidence.open_read_only("sqlite:///tmp/e.db"), evidence.EvidenceStore)
    result = evidence.run_intake(
        delivery,
        policy,
        store=store,
        key=key,
        actor="intake desk",
        at=at,
        time_source="test",
    )
    assert_type(result, evidence.IntakeResult)
    assert_type(result.record, evidence.StoredRecord)
    assert_type(result.report, verify.VerificationReport)
    records = store.records(evidence.RecordFilter(vendor="acme"))
    assert_type(records, Iterator[evidence.StoredRecord])
    assert_type(
        evidence.EvidenceRecord.from_bytes(result.record.envelope),
        evidence.EvidenceRecord,
    )
    source = evidence.StoreSource(store)
    summary = evidence.replay_records(source, keys=keys)
    assert_type(summary, evidence.ReplaySummary)
    assert_type(summary.records, tuple[evidence.RecordReplay, ...])
    assert_type(summary.ok, bool)
    assert_type(
        evidence.replay_records(evidence.BundleSource(out), keys=keys, rerun=False),
        evidence.ReplaySummary,
    )
    assert_type(
        evidence.export_bundle(
            store, out, keys=keys, exported_at="2026-01-01T00:00:00Z"
        ),
        int,
    )
    assert_type(evidence.ChainHeadError("head"), evidence.ChainHeadError)


def evidence_source(source: evidence.RecordSource) -> None:
    assert_type(source.iter_records(), Iterator[evidence.StoredRecord])
