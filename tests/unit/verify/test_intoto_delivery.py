"""in-toto layouts in deliveries: the policy pins the layout keys; replay re-runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.builders import (
    AT,
    KEYS,
    manifest_statement,
    policy_data,
    vendor_a,
    write_policy,
)
from tests.unit.verify.test_intoto import (
    FILES,
    OTHER_KEY,
    OWNER_KEY,
    make_delivery,
    pem,
)
from vendorproof._internal import crypto
from vendorproof.evidence.bundle import StoreSource
from vendorproof.evidence.intake import run_intake
from vendorproof.evidence.replay import replay
from vendorproof.evidence.store import open_store
from vendorproof.intake import check_delivery, load_policy
from vendorproof.verify.result import Outcome, VerificationReport


def delivery_with_layout(tmp_path: Path) -> Path:
    root = make_delivery(tmp_path)
    (root / "attestations").mkdir()
    stmt = manifest_statement(FILES)
    (root / "attestations" / "manifest.sigstore.json").write_bytes(
        vendor_a().sign(stmt)
    )
    return root


def policy_pinning(tmp_path: Path, key: Any) -> Path:
    data: dict[str, Any] = policy_data()
    data["trustDeclaration"] = "optional"
    data["certification"] = {"requirements": []}
    key_file = tmp_path / "layout-owner.pub"
    key_file.write_bytes(pem(key))
    data["vendors"][0]["inToto"] = {"layoutKeys": [str(key_file)]}
    return write_policy(tmp_path / "policy.yaml", data)


def in_toto(report: VerificationReport) -> tuple[Outcome, str]:
    found = [c for c in report.checks if c.check == "in-toto"]
    assert len(found) == 1, [c.to_dict() for c in report.checks]
    return found[0].outcome, found[0].reason


def run(root: Path, policy: Path) -> VerificationReport:
    return check_delivery(root, load_policy(policy), at=AT, time_source="--at")


def test_pinned_layout_verifies(tmp_path: Path) -> None:
    root = delivery_with_layout(tmp_path)
    report = run(root, policy_pinning(tmp_path, OWNER_KEY))
    outcome, reason = in_toto(report)
    assert outcome is Outcome.PASS, reason
    assert report.ok, [c.to_dict() for c in report.failures()]
    # in-toto/ holds metadata, not payload: nothing is unlisted.
    assert all(
        c.outcome is Outcome.PASS for c in report.checks if c.check == "unlisted-files"
    )


def test_layout_by_another_key_fails(tmp_path: Path) -> None:
    root = delivery_with_layout(tmp_path)
    outcome, _ = in_toto(run(root, policy_pinning(tmp_path, OTHER_KEY)))
    assert outcome is Outcome.FAIL


def test_required_layout_missing_fails(tmp_path: Path) -> None:
    root = delivery_with_layout(tmp_path)
    (root / "in-toto" / "root.layout").unlink()
    outcome, reason = in_toto(run(root, policy_pinning(tmp_path, OWNER_KEY)))
    assert outcome is Outcome.FAIL
    assert "requires in-toto/root.layout" in reason


def test_unpinned_layout_is_not_evaluated(tmp_path: Path) -> None:
    root = delivery_with_layout(tmp_path)
    data = policy_data()
    data["trustDeclaration"] = "optional"
    data["certification"] = {"requirements": []}
    report = run(root, write_policy(tmp_path / "p.yaml", data))
    assert in_toto(report)[0] is Outcome.NOT_APPLICABLE


def test_intake_stores_in_toto_metadata_and_replay_reruns_it(tmp_path: Path) -> None:
    root = delivery_with_layout(tmp_path)
    policy = policy_pinning(tmp_path, OWNER_KEY)
    key = crypto.load_private_key(
        (KEYS / "operator" / "intake.key").read_bytes(), None, file="intake.key"
    )
    store = open_store(str(tmp_path / "e.db"))
    try:
        result = run_intake(
            root, policy, store=store, key=key, actor="t", at=AT, time_source="--at"
        )
        assert result.report.ok
        assert any(n.startswith("in-toto/") for n in store.inputs(result.record.seq))
        pub = crypto.as_public_key(key.public_key())
        summary = replay(StoreSource(store), keys=[pub])
    finally:
        store.close()
    assert summary.ok, [r.problems for r in summary.records]
