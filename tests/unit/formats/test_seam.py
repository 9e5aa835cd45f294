"""The delivery-format seam: detection, the neutral model, package manifests and
detached signatures evaluated through the verifier registered for their kind."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from tests.builders import AT, vendor_a_raw_key
from vendorproof import formats
from vendorproof._internal import crypto
from vendorproof.errors import InvalidInputError, SignatureError
from vendorproof.evidence._replay_steps import _error_now_finding
from vendorproof.evidence.record import EvidenceRecord
from vendorproof.formats.directory import DirectoryFormat
from vendorproof.models.checks import Check, CheckResult, Outcome
from vendorproof.models.delivery import Delivery, DetachedSignature, PackageManifest
from vendorproof.models.manifest import (
    Component,
    ComponentKind,
    ComponentManifest,
    Party,
)
from vendorproof.models.policy import Policy, Principal
from vendorproof.models.summary import DeliverySummary
from vendorproof.verify.delivery import (
    BUILTIN_VERIFIERS,
    DETACHED_VERIFIERS,
    ComponentDigest,
    evaluate_delivery,
)
from vendorproof.verify.result import VerificationReport
from vendorproof.verify.signer import SignerCheck

IMAGE = b"firmware image bytes"
KIND = "ed25519-test"


def _verifier(
    signature: DetachedSignature,
    *,
    content: bytes | None,
    measured: Mapping[str, str] | None,
    principals: Sequence[Principal],
    role: str,
    policy: Policy,
    at: datetime,
    time_source: str,
    requirements: tuple[str, ...],
) -> SignerCheck:
    """A detached Ed25519 signature over the content (or over its sha256 digest)."""
    del role, policy, at, time_source
    message = content
    if message is None:
        assert measured is not None
        message = bytes.fromhex(measured["sha256"])
    for p in principals:
        for kid, key in p.public_keys.items():
            try:
                crypto.verify(key, signature.data, message)
            except SignatureError:
                continue
            ok = CheckResult.of(
                Check.SIGNATURE, signature.file, Outcome.PASS, kid, requirements
            )
            return SignerCheck(checks=(ok,), principal=p, anchors=(f"key:{kid}",))
    bad = CheckResult.of(
        Check.SIGNATURE, signature.file, Outcome.FAIL, "no pinned key", requirements
    )
    return SignerCheck(checks=(bad,), principal=None)


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(DETACHED_VERIFIERS, KIND, _verifier)


def _manifest(vendor: str = "acme") -> ComponentManifest:
    return ComponentManifest(
        vendor=Party(id=vendor, name="Declared Name"),
        product="AcmeRAN gNB",
        version="24.1.3",
        security_version=None,
        network_function=None,
        domain=None,
        release_date=datetime(2026, 1, 1, tzinfo=UTC),
        components=(
            Component(
                path="images/du.img",
                kind=ComponentKind.FIRMWARE,
                size=None,
                digests={"sha256": hashlib.sha256(IMAGE).hexdigest()},
            ),
        ),
    )


def _sign(data: bytes) -> bytes:
    key = vendor_a_raw_key().key
    assert key is not None
    return crypto.sign(key, data)


def _delivery(
    *,
    content: bytes = b"the package manifest",
    signed: bytes | None = None,
    kind: str = KIND,
    unsigned: bool = False,
    component_signature: bytes | None = None,
    vendor: str = "acme",
) -> Delivery:
    signature = None
    if not unsigned:
        signature = DetachedSignature(
            kind=kind,
            file="package.mf.sig",
            target="package.mf",
            data=_sign(content if signed is None else signed),
        )
    sigs: tuple[DetachedSignature, ...] = ()
    if component_signature is not None:
        sigs = (
            DetachedSignature(
                kind=KIND,
                file="images/du.img.sig",
                target="images/du.img",
                data=component_signature,
            ),
        )
    return Delivery(
        format="toy",
        root=Path("/nowhere/package.toy"),
        payload=frozenset({"images/du.img"}),
        package_manifest=PackageManifest(
            file="package.mf",
            manifest=_manifest(vendor),
            content=content,
            signature=signature,
        ),
        signatures=sigs,
        findings=(
            CheckResult.of(
                Check.ATTESTATIONS, "package.meta", Outcome.PASS, "structure ok"
            ),
        ),
        inputs={"package.mf": content},
    )


def _hasher(paths: Sequence[str], algorithms: Sequence[str]) -> list[ComponentDigest]:
    assert list(paths) == ["images/du.img"]
    return [
        ComponentDigest(
            size=len(IMAGE),
            digests={a: hashlib.new(a, IMAGE).hexdigest() for a in algorithms},
        )
    ]


def _evaluate(policy: Policy, delivery: Delivery) -> VerificationReport:
    return evaluate_delivery(
        delivery, policy, at=AT, time_source="--at", hasher=_hasher
    )


def _outcome(report: VerificationReport, check: str, subject: str) -> Outcome:
    (c,) = [c for c in report.checks if c.check == check and c.subject == subject]
    return c.outcome


@pytest.fixture
def policy(policy_file: Path) -> Policy:
    from vendorproof.intake import load_policy

    return load_policy(policy_file)


def test_a_package_manifest_signed_by_its_vendor_is_evaluated_like_any_other(
    registered: None, policy: Policy
) -> None:
    sig = _sign(bytes.fromhex(hashlib.sha256(IMAGE).hexdigest()))
    report = _evaluate(policy, _delivery(component_signature=sig))
    assert report.checks[0].subject == "package.meta"  # the adapter's findings first
    assert _outcome(report, "signature", "package.mf.sig") is Outcome.PASS
    assert _outcome(report, "vendor-binding", "package.mf") is Outcome.PASS
    assert _outcome(report, "integrity", "images/du.img") is Outcome.PASS
    assert _outcome(report, "detached-signature", "images/du.img") is Outcome.PASS
    d = report.delivery
    assert d.format == "toy"
    assert d.principal is not None
    assert d.principal.id == "acme"
    assert d.security_version is None
    assert d.manifest == "package.mf"
    assert any(a.startswith("key:") for a in d.trust_anchors)
    # The summary round-trips, and a size the format does not declare is left out.
    assert DeliverySummary.from_dict(d.to_dict()) == d
    assert "size" not in d.to_dict()["components"][0]
    assert report.inputs == {
        "package.mf": hashlib.sha256(b"the package manifest").hexdigest()
    }


def test_a_package_manifest_signature_over_other_bytes_fails(
    registered: None, policy: Policy
) -> None:
    report = _evaluate(policy, _delivery(signed=b"another manifest"))
    assert _outcome(report, "signature", "package.mf.sig") is Outcome.FAIL
    assert _outcome(report, "vendor-binding", "package.mf") is Outcome.FAIL
    assert not report.ok


def test_an_unsigned_package_manifest_fails(registered: None, policy: Policy) -> None:
    report = _evaluate(policy, _delivery(unsigned=True))
    assert _outcome(report, "signature", "package.mf") is Outcome.FAIL
    assert _outcome(report, "vendor-binding", "package.mf") is Outcome.FAIL
    assert not report.ok


def test_a_signature_kind_without_a_verifier_fails(policy: Policy) -> None:
    report = _evaluate(policy, _delivery(kind="unknown-kind"))
    c = next(c for c in report.checks if c.check == "signature")
    assert c.outcome is Outcome.FAIL
    assert "no verifier for 'unknown-kind' signatures" in c.reason
    assert not report.ok


def test_a_package_naming_another_vendor_fails_vendor_binding(
    registered: None, policy: Policy
) -> None:
    report = _evaluate(policy, _delivery(vendor="borealis"))
    assert _outcome(report, "vendor-binding", "package.mf") is Outcome.FAIL
    assert report.delivery.verified_vendor is None


def test_a_detached_component_signature_that_does_not_verify_fails(
    registered: None, policy: Policy
) -> None:
    report = _evaluate(policy, _delivery(component_signature=_sign(b"other")))
    assert _outcome(report, "detached-signature", "images/du.img") is Outcome.FAIL
    assert not report.ok


def test_undeclared_domain_is_in_scope_of_every_certification_rule(
    registered: None, policy: Policy
) -> None:
    # The sample policy requires certification of RAN firmware; a package that does
    # not declare its domain cannot escape the rule.
    report = _evaluate(policy, _delivery())
    assert _outcome(report, "certification-coverage", "images/du.img") is Outcome.FAIL


# -- detection ----------------------------------------------------------------------


def test_detect_picks_the_directory_format_and_refuses_anything_else(
    tmp_path: Path,
) -> None:
    assert isinstance(formats.detect(tmp_path), DirectoryFormat)
    assert formats.by_name("directory").name == "directory"
    other = tmp_path / "package.bin"
    other.write_bytes(b"\x00" * 16)
    with pytest.raises(InvalidInputError, match="not a delivery in a known format"):
        formats.detect(other)
    with pytest.raises(InvalidInputError, match="cannot read"):
        formats.detect(tmp_path / "missing")
    with pytest.raises(InvalidInputError) as info:
        formats.by_name("no-such-format")
    assert info.value.path == "delivery.format"


def test_the_adapter_table_names_each_adapter_by_its_format_name() -> None:
    # Adapters are imported lazily from formats.ADAPTERS: the table's key must be
    # the name the adapter writes into reports and records (by_name finds it).
    assert [f.name for f in formats.all_formats()] == list(formats.ADAPTERS)
    for name in formats.ADAPTERS:
        assert formats.by_name(name) is formats.adapter(name)


def test_built_in_signature_kinds_resolve_to_their_verifiers() -> None:
    from vendorproof.formats import oci
    from vendorproof.verify.cms_signer import verify_detached_cms
    from vendorproof.verify.delivery._evaluation import detached_verifier
    from vendorproof.verify.oci_signatures import verify_oci_signatures

    assert set(BUILTIN_VERIFIERS) == {"cms", oci.SIGNATURE_KIND}
    assert detached_verifier("cms") is verify_detached_cms
    assert detached_verifier(oci.SIGNATURE_KIND) is verify_oci_signatures
    assert detached_verifier("no-such-kind") is None


# -- records from before malformed documents became checks -------------------------


def _rec(verdict: str, *checks: CheckResult) -> EvidenceRecord:
    return cast("EvidenceRecord", SimpleNamespace(verdict=verdict, checks=checks))


def _replayed(*checks: CheckResult) -> VerificationReport:
    return VerificationReport(
        delivery=DeliverySummary(root="d"),
        policy={},
        verified_at=AT,
        time_source="--at",
        checks=checks,
    )


def test_a_recorded_error_that_is_now_a_failed_check_replays() -> None:
    error = CheckResult.of(Check.ERROR, "a.json", Outcome.ERROR, "a.json: bad")
    rollback = CheckResult.of(Check.ROLLBACK, "x/y", Outcome.NOT_APPLICABLE, "-")
    now = CheckResult.of(
        Check.ATTESTATIONS, "a.json", Outcome.FAIL, "malformed: a.json: bad"
    )
    other = CheckResult.of(Check.ATTESTATIONS, "b.json", Outcome.FAIL, "other")
    assert _error_now_finding(_rec("FAILED", error, rollback), _replayed(now))
    assert not _error_now_finding(_rec("FAILED", error, rollback), _replayed(other))
    assert not _error_now_finding(_rec("FAILED", rollback), _replayed(now))
    assert not _error_now_finding(_rec("PASSED", error), _replayed(now))


def test_adapter_reload_gives_the_loaded_delivery(tmp_path: Path) -> None:
    from tests.builders import SAMPLE_DELIVERY

    fmt = formats.detect(SAMPLE_DELIVERY)
    loaded = fmt.load(SAMPLE_DELIVERY)
    summary = DeliverySummary(
        root=str(SAMPLE_DELIVERY),
        listing=_listing(loaded),
    )
    again = fmt.reload(loaded.inputs, summary, workdir=tmp_path, images=None)
    assert [d.raw for d in again.documents] == [d.raw for d in loaded.documents]
    assert again.payload == loaded.payload
    assert dict(again.inputs) == dict(loaded.inputs)


def _listing(delivery: Delivery) -> Any:
    from vendorproof.models.summary import Listing

    return Listing(payload=tuple(delivery.payload), irregular=dict(delivery.irregular))


def _with_package_signature(
    delivery: Delivery, *, delivered: bool, algorithms: tuple[str, ...] = ("sha256",)
) -> Delivery:
    """``delivery`` wrapped as a package signed as a whole (SOL 004 option 2)."""
    assert delivery.package_manifest is not None
    outer = DetachedSignature(
        kind=KIND,
        file="2:package.sig",
        target="images/du.img",
        data=_sign(bytes.fromhex(hashlib.sha256(IMAGE).hexdigest())),
        algorithms=algorithms,
    )
    payload = delivery.payload if delivered else frozenset()
    return replace(
        delivery,
        payload=payload,
        package_manifest=replace(delivery.package_manifest, package_signature=outer),
    )


def test_a_package_signature_over_a_file_not_delivered_fails(
    registered: None, policy: Policy
) -> None:
    report = _evaluate(policy, _with_package_signature(_delivery(), delivered=False))
    c = next(c for c in report.checks if c.subject == "2:package.sig")
    assert (c.check, c.outcome) == ("signature", Outcome.FAIL)
    assert "not delivered" in c.reason
    assert _outcome(report, "vendor-binding", "2:package.sig") is Outcome.FAIL
    assert not report.ok


def test_a_package_signature_is_checked_before_the_manifest_signature(
    registered: None, policy: Policy
) -> None:
    report = _evaluate(policy, _with_package_signature(_delivery(), delivered=True))
    subjects = [c.subject for c in report.checks if c.check == "signature"]
    assert subjects[:2] == ["2:package.sig", "package.mf.sig"]
    assert _outcome(report, "vendor-binding", "2:package.sig") is Outcome.PASS
    assert _outcome(report, "vendor-binding", "package.mf") is Outcome.PASS
    # The measurement the package signature used is in the record.
    assert "images/du.img" in report.delivery.measured
