"""The verification context: passed down, its memo tables used and never shared by
accident, a remembered result reused only where it is still the same result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests import builders, pki
from vendorproof._internal.memo import Memo
from vendorproof.errors import CertificateChainError
from vendorproof.intake import load_policy
from vendorproof.limits import Limits
from vendorproof.models.documents import load_signed_document
from vendorproof.models.policy import Policy, RevocationMode
from vendorproof.verify.context import (
    VerificationCache,
    VerificationContext,
    context_for,
    shared_cache,
)
from vendorproof.verify.revocation import verify_revocation
from vendorproof.verify.signer import SignerCheck, check_signer
from vendorproof.verify.x509 import verify_chain

AT = builders.SAMPLE_AT


def test_memo_is_bounded_and_emptied_when_full() -> None:
    memo: Memo[int, str] = Memo(limit=2)
    memo.put(1, "a")
    memo.put(2, "b")
    memo.put(2, "B")  # an existing key does not count twice
    assert (len(memo), memo.get(2)) == (2, "B")
    memo.put(3, "c")
    assert (len(memo), memo.get(1), memo.get(3), 3 in memo) == (1, None, "c", True)
    with pytest.raises(ValueError, match="room for one entry"):
        Memo(limit=0)


def test_context_needs_an_aware_validation_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        VerificationContext(at=datetime(2027, 1, 15))  # noqa: DTZ001 - under test


def test_context_for_a_call() -> None:
    default = context_for(AT, None)
    assert (default.at, default.cache) == (AT, shared_cache())
    own = VerificationContext(at=AT)
    assert own.cache is not shared_cache()
    assert context_for(AT, own) is own
    with pytest.raises(ValueError, match="the call for"):
        context_for(AT + timedelta(seconds=1), own)


def _manifest_check(policy: Policy, context: VerificationContext | None) -> SignerCheck:
    raw = builders.vendor_a().sign(builders.manifest_statement({"a.bin": b"a"}))
    doc = load_signed_document(raw, file="manifest.sigstore.json")
    return check_signer(
        doc,
        policy.vendors,
        role="vendor",
        policy=policy,
        at=AT,
        time_source="--at",
        requirements=(),
        context=context,
    )


def test_check_signer_uses_the_callers_context() -> None:
    policy = load_policy(builders.SAMPLE_POLICY)
    assert policy.revocation_mode is RevocationMode.REQUIRE
    context = VerificationContext(at=AT)
    shared = (len(shared_cache().validated_paths), len(shared_cache().crl_signatures))
    first = _manifest_check(policy, context)
    assert first.ok, first.checks
    cache = context.cache
    assert len(cache.validated_paths) == 1
    assert len(cache.crl_signatures) >= 1
    assert (
        len(shared_cache().validated_paths),
        len(shared_cache().crl_signatures),
    ) == shared
    again = _manifest_check(policy, context)
    assert [c.to_dict() for c in again.checks] == [c.to_dict() for c in first.checks]
    assert len(cache.validated_paths) == 1


def test_check_signer_passes_the_contexts_limits_down() -> None:
    policy = load_policy(builders.SAMPLE_POLICY)
    tight = VerificationContext(at=AT, limits=Limits(max_chain_depth=0))
    result = _manifest_check(policy, tight)
    assert not result.ok
    chain = next(c for c in result.checks if c.check == "certificate-chain")
    assert "does not chain" in chain.reason
    assert len(tight.cache.validated_paths) == 0


def test_check_signer_refuses_a_context_for_another_time() -> None:
    policy = load_policy(builders.SAMPLE_POLICY)
    with pytest.raises(ValueError, match="the call for"):
        _manifest_check(policy, VerificationContext(at=AT - timedelta(days=1)))


def test_a_remembered_path_is_reused_only_inside_every_validity_period() -> None:
    org = "Context Test"
    root = pki.make_root("Context Test Root", org=org)
    inter = pki.make_intermediate("Context Test CA", root, org=org)
    leaf = pki.make_leaf(
        "Context Test Signing", inter, org=org, not_after=AT + timedelta(1)
    )
    cache = VerificationCache()
    verify_chain(leaf.cert, [inter.cert], [root.cert], at=AT, cache=cache)
    assert len(cache.validated_paths) == 1
    verify_chain(leaf.cert, [inter.cert], [root.cert], at=AT, cache=cache)
    with pytest.raises(CertificateChainError, match="no valid chain"):
        verify_chain(
            leaf.cert, [inter.cert], [root.cert], at=AT + timedelta(2), cache=cache
        )


def test_crl_signature_checks_are_remembered_in_the_callers_cache() -> None:
    policy = load_policy(builders.SAMPLE_POLICY)
    signing = builders.vendor_a()
    assert signing.cert is not None
    chain = verify_chain(
        signing.cert,
        signing.chain,
        policy.vendors[0].anchors,
        at=AT,
        cache=VerificationCache(),
    )
    cache = VerificationCache()
    for _ in range(2):
        detail = verify_revocation(
            chain,
            policy.crls,
            at=AT,
            signed_at=None,
            mode=RevocationMode.REQUIRE,
            cache=cache,
        )
        assert "not revoked" in detail
    assert len(cache.crl_signatures) == len(chain.chain) - 1


def test_fresh_caches_share_nothing() -> None:
    a, b = VerificationCache(), VerificationCache()
    a.crl_signatures.put((b"c", b"i"), True)  # noqa: FBT003 - the table's value
    assert b.crl_signatures.get((b"c", b"i")) is None
    assert VerificationContext(at=AT).at == AT.astimezone(UTC)
