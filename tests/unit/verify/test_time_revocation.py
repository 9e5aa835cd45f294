"""Signing time from RFC 3161 timestamps, and CRL revocation, in delivery verification."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests import pki
from tests.builders import (
    FILES,
    KEYS,
    KINDS,
    DeliveryBuilder,
    Signer,
    issued,
    manifest_statement,
    policy_data,
    signer_from,
    write_policy,
)
from tests.tsa import LoopbackTSA, make_tsa_pki
from vendorproof.intake import check_delivery, load_policy
from vendorproof.verify.result import Outcome, VerificationReport

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    work = tmp_path_factory.mktemp("tsa")
    root, cert, key = make_tsa_pki(work)
    with LoopbackTSA(cert, key, None, work) as server:
        yield server.url, root


@pytest.fixture(scope="module")
def wide_tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A TSA whose tokens state an accuracy of two hours."""
    work = tmp_path_factory.mktemp("wide-tsa")
    root, cert, key = make_tsa_pki(work)
    with LoopbackTSA(cert, key, None, work, accuracy="secs:7200") as server:
        yield server.url, root


def short_lived_leaf(
    *, serial: int | None = None, not_after: datetime | None = None
) -> tuple[Signer, pki.Issued]:
    """A vendor-a code-signing leaf valid for two days around now."""
    inter = issued("vendor-a", "intermediate")
    leaf = pki.make_leaf(
        "Acme Radio Systems Release Signing short-lived",
        inter,
        org="Acme Radio Systems GmbH",
        not_before=NOW - timedelta(days=1),
        not_after=not_after or NOW + timedelta(days=1),
        serial=serial,
    )
    return signer_from(leaf, inter), inter


def policy(tmp_path: Path, tsa_root: Path | None, **changes: Any) -> Path:
    data = policy_data()
    data["trustDeclaration"] = "optional"
    data["certification"] = {"requirements": []}
    if tsa_root is None:
        data.pop("timestampAuthorities", None)
    else:
        data["timestampAuthorities"] = [
            {"id": "test-tsa", "name": "Test TSA", "anchors": [str(tsa_root)]}
        ]
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return write_policy(tmp_path / "policy.yaml", data)


def manifest_only(delivery: DeliveryBuilder, signer: Signer, **sign_kw: Any) -> None:
    delivery.write_payload()
    delivery.attest(
        "manifest.sigstore.json",
        signer.sign(manifest_statement(FILES, kinds=KINDS), **sign_kw),
    )


def run(root: Path, policy_path: Path, at: datetime) -> VerificationReport:
    return check_delivery(root, load_policy(policy_path), at=at, time_source="--at")


def check(report: VerificationReport, name: str) -> tuple[Outcome, str]:
    found = [c for c in report.checks if c.check == name]
    assert found, [c.to_dict() for c in report.checks]
    return found[0].outcome, found[0].reason


# -- RFC 3161 -----------------------------------------------------------------------


def test_expired_leaf_verifies_with_timestamp_of_signing_time(
    delivery: DeliveryBuilder, tmp_path: Path, tsa: tuple[str, Path]
) -> None:
    url, root = tsa
    signer, _ = short_lived_leaf()
    manifest_only(delivery, signer, tsa_url=url)
    later = NOW + timedelta(days=30)  # the leaf has expired by then
    report = run(delivery.root, policy(tmp_path, root), later)
    assert report.ok, [c.to_dict() for c in report.failures()]
    outcome, reason = check(report, "timestamp")
    assert outcome is Outcome.PASS
    assert "test-tsa" in reason
    _, chain = check(report, "certificate-chain")
    assert "RFC 3161 timestamp by test-tsa" in chain


def test_timestamp_accuracy_must_lie_inside_the_chain_validity(
    delivery: DeliveryBuilder,
    tmp_path: Path,
    tsa: tuple[str, Path],
    wide_tsa: tuple[str, Path],
) -> None:
    # The leaf expires two minutes after signing; verified three hours later.
    signed = datetime.now(UTC).replace(microsecond=0)
    signer, _ = short_lived_leaf(not_after=signed + timedelta(minutes=2))
    later = signed + timedelta(hours=3)
    url, root = tsa  # accuracy one second: inside the leaf's validity
    manifest_only(delivery, signer, tsa_url=url)
    report = run(delivery.root, policy(tmp_path, root), later)
    assert report.ok, [c.to_dict() for c in report.failures()]
    url, root = wide_tsa  # accuracy two hours: genTime + 2 h is after notAfter
    manifest_only(delivery, signer, tsa_url=url)
    report = run(delivery.root, policy(tmp_path, root), later)
    assert check(report, "timestamp")[0] is Outcome.PASS
    outcome, reason = check(report, "certificate-chain")
    assert outcome is Outcome.FAIL
    assert "is not valid over the whole time of the timestamp" in reason
    assert not report.ok


def test_expired_leaf_fails_without_timestamp(
    delivery: DeliveryBuilder, tmp_path: Path, tsa: tuple[str, Path]
) -> None:
    _, root = tsa
    signer, _ = short_lived_leaf()
    manifest_only(delivery, signer)
    report = run(delivery.root, policy(tmp_path, root), NOW + timedelta(days=30))
    assert check(report, "timestamp")[0] is Outcome.NOT_APPLICABLE
    outcome, reason = check(report, "certificate-chain")
    assert outcome is Outcome.FAIL
    assert "not valid at validation time" in reason
    assert not report.ok


def test_timestamp_from_untrusted_tsa_fails(
    delivery: DeliveryBuilder, tmp_path: Path, tsa: tuple[str, Path]
) -> None:
    url, _ = tsa
    other_root, _, _ = make_tsa_pki(tmp_path / "other")
    signer, _ = short_lived_leaf()
    manifest_only(delivery, signer, tsa_url=url)
    report = run(delivery.root, policy(tmp_path, other_root), NOW + timedelta(hours=1))
    outcome, _ = check(report, "timestamp")
    assert outcome is Outcome.FAIL
    assert not report.ok


def test_timestamp_over_other_signature_fails(
    delivery: DeliveryBuilder, tmp_path: Path, tsa: tuple[str, Path]
) -> None:
    import json

    url, root = tsa
    signer, _ = short_lived_leaf()
    manifest_only(delivery, signer, tsa_url=url)
    path = delivery.root / "attestations/manifest.sigstore.json"
    stamped = json.loads(path.read_bytes())
    # Re-sign (new ECDSA signature) and graft the old token onto the new bundle.
    manifest_only(delivery, signer)
    fresh = json.loads(path.read_bytes())
    fresh["verificationMaterial"]["timestampVerificationData"] = stamped[
        "verificationMaterial"
    ]["timestampVerificationData"]
    path.write_text(json.dumps(fresh))
    report = run(delivery.root, policy(tmp_path, root), NOW + timedelta(hours=1))
    outcome, reason = check(report, "timestamp")
    assert outcome is Outcome.FAIL
    assert "imprint" in reason or "does not" in reason


def test_timestamp_without_trusted_tsa_warns_and_uses_at(
    delivery: DeliveryBuilder, tmp_path: Path, tsa: tuple[str, Path]
) -> None:
    url, _ = tsa
    signer, _ = short_lived_leaf()
    manifest_only(delivery, signer, tsa_url=url)
    report = run(delivery.root, policy(tmp_path, None), NOW + timedelta(hours=1))
    assert check(report, "timestamp")[0] is Outcome.WARN
    assert report.ok


def test_required_timestamp_missing_fails(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    data = policy_data()
    data["vendors"][0]["requireTimestamp"] = True
    data["trustDeclaration"] = "optional"
    data["certification"] = {"requirements": []}
    signer, _ = short_lived_leaf()
    manifest_only(delivery, signer)
    report = run(delivery.root, write_policy(tmp_path / "p.yaml", data), NOW)
    outcome, reason = check(report, "timestamp")
    found = [
        c for c in report.checks if c.check == "timestamp" and c.outcome is Outcome.FAIL
    ]
    assert found, outcome
    assert "requires a trusted RFC 3161 timestamp" in found[0].reason
    assert reason


# -- revocation ------------------------------------------------------------------------


def revoked_leaf_signer() -> Signer:
    return signer_from(
        issued("vendor-a", "signing-revoked"), issued("vendor-a", "intermediate")
    )


def test_revoked_leaf_fails(delivery: DeliveryBuilder, tmp_path: Path) -> None:
    manifest_only(delivery, revoked_leaf_signer())
    # The committed revoked leaf is not an allowed identity in the sample; allow it.
    data = policy_data()
    data["trustDeclaration"] = "optional"
    data["certification"] = {"requirements": []}
    data["vendors"][0]["identities"].append(
        {"subject": "CN=Acme Radio Systems Release Signing 2025 (revoked)*"}
    )
    report = run(delivery.root, write_policy(tmp_path / "p.yaml", data), NOW)
    outcome, reason = check(report, "revocation")
    assert outcome is Outcome.FAIL
    assert "is revoked since 2025-06-01" in reason


def test_require_mode_without_crls_fails(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    signer, _ = short_lived_leaf()
    manifest_only(delivery, signer)
    report = run(
        delivery.root,
        policy(tmp_path, None, revocation={"mode": "require", "crls": []}),
        NOW,
    )
    outcome, reason = check(report, "revocation")
    assert outcome is Outcome.FAIL
    assert "no current CRL" in reason


def test_if_available_without_crls_passes_with_note(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    signer, _ = short_lived_leaf()
    manifest_only(delivery, signer)
    report = run(
        delivery.root,
        policy(tmp_path, None, revocation={"mode": "if-available", "crls": []}),
        NOW,
    )
    outcome, reason = check(report, "revocation")
    assert outcome is Outcome.PASS
    assert "no CRL for" in reason
    assert report.ok


def test_revocation_off_is_reported(delivery: DeliveryBuilder, tmp_path: Path) -> None:
    signer, _ = short_lived_leaf()
    manifest_only(delivery, signer)
    report = run(delivery.root, policy(tmp_path, None, revocation={"mode": "off"}), NOW)
    assert check(report, "revocation") == (
        Outcome.NOT_APPLICABLE,
        "revocation checking is off in the policy",
    )


def _crls(tmp_path: Path, revoked: list[pki.CrlEntry], **kw: Any) -> list[str]:
    inter = issued("vendor-a", "intermediate")
    crl = pki.make_crl(
        inter,
        revoked,
        last_update=kw.get("last_update", NOW - timedelta(hours=1)),
        next_update=kw.get("next_update", NOW + timedelta(days=7)),
    )
    path = tmp_path / "inter.crl.pem"
    path.write_bytes(pki.crl_pem(crl))
    return [str(path), str(KEYS / "vendor-a/root.crl.pem")]


def test_revocation_after_trusted_timestamp_keeps_signature_valid(
    delivery: DeliveryBuilder, tmp_path: Path, tsa: tuple[str, Path]
) -> None:
    url, root = tsa
    signer, _ = short_lived_leaf(serial=0x5EED)
    # The token's genTime is the TSA's clock when the test runs, which under a slow
    # suite can be far past the NOW of the module's import: time it from here.
    signed = datetime.now(UTC).replace(microsecond=0)
    manifest_only(delivery, signer, tsa_url=url)
    crls = _crls(tmp_path, [(0x5EED, signed + timedelta(minutes=30))])
    report = run(
        delivery.root,
        policy(tmp_path, root, revocation={"mode": "require", "crls": crls}),
        signed + timedelta(hours=1),
    )
    outcome, reason = check(report, "revocation")
    assert outcome is Outcome.PASS, reason
    assert "after the timestamped signing time" in reason
    assert report.ok


def test_revocation_within_the_timestamp_accuracy_fails(
    delivery: DeliveryBuilder, tmp_path: Path, wide_tsa: tuple[str, Path]
) -> None:
    # Revoked 30 minutes after genTime, but the token dates the signature only to
    # within two hours: it may have been made after the revocation.
    url, root = wide_tsa
    signer, _ = short_lived_leaf(serial=0x5EF0)
    signed = datetime.now(UTC).replace(microsecond=0)
    manifest_only(delivery, signer, tsa_url=url)
    crls = _crls(tmp_path, [(0x5EF0, signed + timedelta(minutes=30))])
    report = run(
        delivery.root,
        policy(tmp_path, root, revocation={"mode": "require", "crls": crls}),
        signed + timedelta(hours=3),
    )
    assert check(report, "timestamp")[0] is Outcome.PASS
    outcome, reason = check(report, "revocation")
    assert outcome is Outcome.FAIL
    assert "is not before" in reason
    assert not report.ok


def test_revocation_before_signing_fails_even_with_timestamp(
    delivery: DeliveryBuilder, tmp_path: Path, tsa: tuple[str, Path]
) -> None:
    url, root = tsa
    signer, _ = short_lived_leaf(serial=0x5EEE)
    manifest_only(delivery, signer, tsa_url=url)
    crls = _crls(tmp_path, [(0x5EEE, NOW - timedelta(minutes=30))])
    report = run(
        delivery.root,
        policy(tmp_path, root, revocation={"mode": "require", "crls": crls}),
        NOW + timedelta(hours=1),
    )
    outcome, reason = check(report, "revocation")
    assert outcome is Outcome.FAIL
    assert "is revoked since" in reason


def test_key_compromise_before_timestamp_fails_despite_later_revocation_date(
    delivery: DeliveryBuilder, tmp_path: Path, tsa: tuple[str, Path]
) -> None:
    from cryptography import x509

    url, root = tsa
    signer, _ = short_lived_leaf(serial=0x5EEF)
    manifest_only(delivery, signer, tsa_url=url)
    entry = pki.revoked_entry(
        0x5EEF,
        NOW + timedelta(minutes=30),  # revoked after the timestamped signing...
        reason=x509.ReasonFlags.key_compromise,
        invalidity=NOW - timedelta(days=1),  # ...but the key was compromised before
    )
    crls = _crls(tmp_path, [entry])
    report = run(
        delivery.root,
        policy(tmp_path, root, revocation={"mode": "require", "crls": crls}),
        NOW + timedelta(hours=1),
    )
    assert check(report, "timestamp")[0] is Outcome.PASS
    outcome, reason = check(report, "revocation")
    assert outcome is Outcome.FAIL
    assert "keyCompromise" in reason
    assert "invalid since" in reason
    assert not report.ok


def test_stale_crl_does_not_count(delivery: DeliveryBuilder, tmp_path: Path) -> None:
    signer, _ = short_lived_leaf()
    manifest_only(delivery, signer)
    crls = _crls(
        tmp_path,
        [],
        last_update=NOW - timedelta(days=10),
        next_update=NOW - timedelta(days=1),
    )
    report = run(
        delivery.root,
        policy(tmp_path, None, revocation={"mode": "require", "crls": crls}),
        NOW,
    )
    outcome, reason = check(report, "revocation")
    assert outcome is Outcome.FAIL
    assert "no current CRL" in reason


def test_crl_signed_by_another_key_does_not_count(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    signer, inter = short_lived_leaf()
    # Same issuer name, different key: a forged CRL "from" the intermediate.
    forged_issuer = pki.Issued(cert=inter.cert, key=pki.new_key("ecdsa-p384"))
    crl = pki.make_crl(
        forged_issuer,
        [],
        last_update=NOW - timedelta(hours=1),
        next_update=NOW + timedelta(days=1),
    )
    path = tmp_path / "forged.crl.pem"
    path.write_bytes(pki.crl_pem(crl))
    manifest_only(delivery, signer)
    report = run(
        delivery.root,
        policy(
            tmp_path,
            None,
            revocation={
                "mode": "require",
                "crls": [str(path), str(KEYS / "vendor-a/root.crl.pem")],
            },
        ),
        NOW,
    )
    outcome, reason = check(report, "revocation")
    assert outcome is Outcome.FAIL
    assert "no current CRL" in reason


def test_crl_not_yet_valid_does_not_count(
    delivery: DeliveryBuilder, tmp_path: Path
) -> None:
    signer, _ = short_lived_leaf()
    manifest_only(delivery, signer)
    crls = _crls(
        tmp_path,
        [],
        last_update=NOW + timedelta(days=1),
        next_update=NOW + timedelta(days=8),
    )
    report = run(
        delivery.root,
        policy(tmp_path, None, revocation={"mode": "require", "crls": crls}),
        NOW,
    )
    outcome, reason = check(report, "revocation")
    assert outcome is Outcome.FAIL
    assert "no current CRL" in reason


def test_revoked_intermediate_fails(delivery: DeliveryBuilder, tmp_path: Path) -> None:
    root = issued("vendor-a", "root")
    inter = pki.make_intermediate(
        "Acme Radio Systems Code Signing CA 2026", root, org="Acme Radio Systems GmbH"
    )
    leaf = pki.make_leaf(
        "Acme Radio Systems Release Signing 2026", inter, org="Acme Radio Systems GmbH"
    )
    manifest_only(delivery, signer_from(leaf, inter))
    root_crl = pki.make_crl(
        root,
        [(inter.cert.serial_number, NOW - timedelta(days=2))],
        last_update=NOW - timedelta(days=1),
        next_update=NOW + timedelta(days=7),
    )
    inter_crl = pki.make_crl(
        inter,
        [],
        last_update=NOW - timedelta(days=1),
        next_update=NOW + timedelta(days=7),
    )
    paths = []
    for name, crl in (("root", root_crl), ("inter", inter_crl)):
        p = tmp_path / f"{name}.crl.pem"
        p.write_bytes(pki.crl_pem(crl))
        paths.append(str(p))
    report = run(
        delivery.root,
        policy(tmp_path, None, revocation={"mode": "require", "crls": paths}),
        NOW,
    )
    outcome, reason = check(report, "revocation")
    assert outcome is Outcome.FAIL
    assert "Code Signing CA 2026" in reason
    assert "is revoked since" in reason


def test_too_many_timestamp_tokens_is_a_failed_check(
    delivery: DeliveryBuilder, tmp_path: Path, tsa: tuple[str, Path]
) -> None:
    import json

    from vendorproof.limits import DEFAULT_LIMITS

    url, root = tsa
    signer, _ = short_lived_leaf()
    manifest_only(delivery, signer, tsa_url=url)
    path = delivery.root / "attestations/manifest.sigstore.json"
    bundle = json.loads(path.read_bytes())
    tokens = bundle["verificationMaterial"]["timestampVerificationData"][
        "rfc3161Timestamps"
    ]
    tokens *= DEFAULT_LIMITS.max_signatures + 1
    path.write_text(json.dumps(bundle))
    report = run(delivery.root, policy(tmp_path, root), NOW)
    assert not report.ok
    (bad,) = [
        c
        for c in report.checks
        if c.outcome is Outcome.FAIL
        and c.subject == "attestations/manifest.sigstore.json"
    ]
    assert bad.check == "attestations"
    assert "more than 16" in bad.reason


# -- every token counts (issue 9, item 11) -------------------------------------------

_REJECTION = bytes.fromhex("30053003020102")  # TimeStampResp, PKIStatus rejection


def _tokens(
    delivery: DeliveryBuilder,
) -> tuple[Path, dict[str, Any], list[dict[str, str]]]:
    import json

    path = delivery.root / "attestations/manifest.sigstore.json"
    bundle = json.loads(path.read_bytes())
    material = bundle["verificationMaterial"].setdefault(
        "timestampVerificationData", {"rfc3161Timestamps": []}
    )
    return path, bundle, material["rfc3161Timestamps"]


def _foreign_token(delivery: DeliveryBuilder, signer: Signer, url: str) -> str:
    """A genuine token of the trusted TSA, over another signature of the manifest."""
    manifest_only(delivery, signer, tsa_url=url)
    _, _, tokens = _tokens(delivery)
    token: str = tokens[0]["signedTimestamp"]
    return token


def _b64(der: bytes) -> str:
    import base64

    return base64.b64encode(der).decode("ascii")


@pytest.mark.parametrize("bad_first", [False, True], ids=["bad-last", "bad-first"])
@pytest.mark.parametrize(
    "bad", ["foreign", "rejection", "garbage"], ids=lambda b: f"{b}-token"
)
def test_a_bad_token_beside_a_good_one_fails(
    delivery: DeliveryBuilder,
    tmp_path: Path,
    tsa: tuple[str, Path],
    bad: str,
    bad_first: bool,
) -> None:
    import json

    url, root = tsa
    signer, _ = short_lived_leaf()
    other = _foreign_token(delivery, signer, url)
    manifest_only(delivery, signer, tsa_url=url)
    path, bundle, tokens = _tokens(delivery)
    extra = {
        "foreign": other,
        "rejection": _b64(_REJECTION),
        "garbage": _b64(b"not DER at all"),
    }[bad]
    tokens.insert(0 if bad_first else 1, {"signedTimestamp": extra})
    path.write_text(json.dumps(bundle))
    report = run(delivery.root, policy(tmp_path, root), NOW + timedelta(hours=1))
    outcome, reason = check(report, "timestamp")
    assert outcome is Outcome.FAIL, reason
    assert f"token {0 if bad_first else 1}: test-tsa: " in reason
    assert "token 0: test-tsa" not in reason or bad_first
    assert not report.ok


def test_a_rejected_response_alone_fails_the_check(
    delivery: DeliveryBuilder, tmp_path: Path, tsa: tuple[str, Path]
) -> None:
    import json

    # Regression: a rejection status in a bundle exited 3 (malformed input) instead
    # of failing the timestamp check of that document.
    _, root = tsa
    signer, _ = short_lived_leaf()
    manifest_only(delivery, signer)
    path, bundle, tokens = _tokens(delivery)
    tokens.append({"signedTimestamp": _b64(_REJECTION)})
    path.write_text(json.dumps(bundle))
    report = run(delivery.root, policy(tmp_path, root), NOW + timedelta(hours=1))
    outcome, reason = check(report, "timestamp")
    assert outcome is Outcome.FAIL
    assert "status rejection" in reason
    assert not report.ok


def test_two_good_tokens_pass_with_the_earliest(
    delivery: DeliveryBuilder, tmp_path: Path, tsa: tuple[str, Path]
) -> None:
    import json

    url, root = tsa
    signer, _ = short_lived_leaf()
    manifest_only(delivery, signer, tsa_url=url)
    path, bundle, tokens = _tokens(delivery)
    tokens.append(dict(tokens[0]))
    path.write_text(json.dumps(bundle))
    report = run(delivery.root, policy(tmp_path, root), NOW + timedelta(hours=1))
    outcome, reason = check(report, "timestamp")
    assert outcome is Outcome.PASS, reason
    assert "all 2 tokens verified, the earliest counts" in reason
    assert report.ok, [c.to_dict() for c in report.failures()]
