"""Notation verification levels and overrides (``vendors[].notation``).

Each level and each override is run on an envelope that passes and on one whose
relaxed check fails: ``enforce`` fails the signature, ``log`` records a ``warn`` and
the vendor is established, ``skip`` (revocation only) does not run the check.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.builders import issued, policy_data, write_policy
from tests.oci import dumps, jws_envelope, rfc3339
from tests.tsa import LoopbackTSA, make_tsa_pki
from vendorproof.errors import InvalidInputError
from vendorproof.intake import load_policy
from vendorproof.models.policy import Action, Policy
from vendorproof.verify.notation import MEDIA_JWS, Target, verify_notation
from vendorproof.verify.result import Outcome
from vendorproof.verify.signer import SignerCheck

NOW = datetime.now(UTC).replace(microsecond=0)
TARGET: dict[str, Any] = {
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": "sha256:" + "ab" * 32,
    "size": 1234,
}
EXPIRY = ["io.cncf.notary.signingScheme", "io.cncf.notary.expiry"]


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    work = tmp_path_factory.mktemp("tsa")
    root, cert, key = make_tsa_pki(work)
    with LoopbackTSA(cert, key, None, work) as server:
        yield server.url, root


def make_policy(
    tmp_path: Path, notation: dict[str, Any] | None, **vendor: Any
) -> Policy:
    data = policy_data()
    data["revocation"]["mode"] = "require"
    if notation is not None:
        data["vendors"][0]["notation"] = notation
    data["vendors"][0].update(vendor)
    return load_policy(write_policy(tmp_path / "policy.yaml", data))


def chain_of(leaf_name: str) -> tuple[Any, list[Any]]:
    leaf = issued("vendor-a", leaf_name)
    return leaf.key, [
        leaf.cert,
        issued("vendor-a", "intermediate").cert,
        issued("vendor-a", "root").cert,
    ]


def envelope(leaf: str = "signing", **kw: Any) -> bytes:
    key, chain = chain_of(leaf)
    return jws_envelope(key, chain, TARGET, signed_at=NOW, **kw)


def expired_envelope() -> bytes:
    return envelope(
        protected={
            "crit": EXPIRY,
            "io.cncf.notary.expiry": rfc3339(NOW - timedelta(minutes=5)),
        }
    )


def verify(raw: bytes, policy: Policy, *, at: datetime = NOW) -> SignerCheck:
    return verify_notation(
        raw,
        MEDIA_JWS,
        file="sig",
        target=Target(
            media_type=TARGET["mediaType"],
            digest=TARGET["digest"],
            size=TARGET["size"],
        ),
        principals=policy.vendors,
        role="vendor",
        policy=policy,
        at=at,
        time_source="test",
        requirements=("R",),
    )


def outcome(result: SignerCheck, check: str) -> Outcome:
    found = [c.outcome for c in result.checks if c.check == check]
    assert found, (check, result.checks)
    return found[-1]


def reason(result: SignerCheck, check: str) -> str:
    return next(c.reason for c in reversed(result.checks) if c.check == check)


LEVELS = [None, {"level": "strict"}, {"level": "permissive"}, {"level": "audit"}]


@pytest.mark.parametrize("notation", LEVELS, ids=["default", *["s", "p", "a"]])
def test_every_level_passes_a_good_envelope(
    tmp_path: Path, notation: dict[str, Any] | None
) -> None:
    result = verify(envelope(), make_policy(tmp_path, notation))
    assert result.ok, result.checks
    assert {c.outcome for c in result.checks} <= {Outcome.PASS, Outcome.NOT_APPLICABLE}


# ------------------------------------------------------------------ revocation


@pytest.mark.parametrize(
    ("notation", "want"),
    [
        (None, Outcome.FAIL),
        ({"level": "strict"}, Outcome.FAIL),
        ({"level": "permissive"}, Outcome.WARN),
        ({"level": "audit"}, Outcome.WARN),
        ({"level": "permissive", "override": {"revocation": "enforce"}}, Outcome.FAIL),
        ({"level": "strict", "override": {"revocation": "log"}}, Outcome.WARN),
        ({"level": "strict", "override": {"revocation": "skip"}}, None),
    ],
    ids=["default", "strict", "permissive", "audit", "p-enforce", "s-log", "s-skip"],
)
def test_revocation_action(
    tmp_path: Path, notation: dict[str, Any] | None, want: Outcome | None
) -> None:
    result = verify(envelope("signing-revoked"), make_policy(tmp_path, notation))
    if want is None:
        assert outcome(result, "revocation") is Outcome.NOT_APPLICABLE
        assert "skips revocation" in reason(result, "revocation")
        assert result.ok
    else:
        assert outcome(result, "revocation") is want
        assert result.ok is (want is Outcome.WARN)
        assert "revoked" in reason(result, "revocation")
    if result.ok:
        assert result.principal is not None
        assert result.principal.id == "acme"
        assert outcome(result, "signer-identity") is Outcome.PASS


# ---------------------------------------------------------------------- expiry


@pytest.mark.parametrize(
    ("notation", "want"),
    [
        (None, Outcome.FAIL),
        ({"level": "permissive"}, Outcome.WARN),
        ({"level": "audit"}, Outcome.WARN),
        ({"level": "strict", "override": {"expiry": "log"}}, Outcome.WARN),
        ({"level": "audit", "override": {"expiry": "enforce"}}, Outcome.FAIL),
    ],
    ids=["strict", "permissive", "audit", "s-log", "a-enforce"],
)
def test_expiry_action(
    tmp_path: Path, notation: dict[str, Any] | None, want: Outcome
) -> None:
    policy = make_policy(tmp_path, notation)
    result = verify(expired_envelope(), policy)
    assert outcome(result, "expiry") is want
    assert result.ok is (want is Outcome.WARN)
    assert "expired" in reason(result, "expiry")
    # the same envelope before its expiry passes at every level
    early = verify(expired_envelope(), policy, at=NOW - timedelta(minutes=10))
    assert early.ok, early.checks
    assert outcome(early, "expiry") is Outcome.PASS


# ------------------------------------------------------- authentic timestamp


def swapped_token(url: str) -> bytes:
    """An envelope carrying a token over another signature's bytes."""
    key, chain = chain_of("signing")
    good = json.loads(jws_envelope(key, chain, TARGET, signed_at=NOW, tsa_url=url))
    other = json.loads(jws_envelope(key, chain, TARGET, signed_at=NOW))
    other["header"]["io.cncf.notary.timestampSignature"] = good["header"][
        "io.cncf.notary.timestampSignature"
    ]
    return dumps(other)


@pytest.mark.parametrize(
    ("notation", "want"),
    [
        (None, Outcome.FAIL),
        ({"level": "permissive"}, Outcome.WARN),
        ({"level": "audit"}, Outcome.WARN),
        ({"level": "strict", "override": {"authenticTimestamp": "log"}}, Outcome.WARN),
        (
            {"level": "permissive", "override": {"authenticTimestamp": "enforce"}},
            Outcome.FAIL,
        ),
    ],
    ids=["strict", "permissive", "audit", "s-log", "p-enforce"],
)
def test_authentic_timestamp_action(
    tmp_path: Path,
    tsa: tuple[str, Path],
    notation: dict[str, Any] | None,
    want: Outcome,
) -> None:
    url, root = tsa
    data_policy = make_policy(tmp_path, notation)
    data = policy_data()
    data["revocation"]["mode"] = "require"
    data["timestampAuthorities"] = [
        {"id": "test-tsa", "name": "Test TSA", "anchors": [str(root)]}
    ]
    if notation is not None:
        data["vendors"][0]["notation"] = notation
    policy = load_policy(write_policy(tmp_path / "tsa-policy.yaml", data))
    assert data_policy.vendors[0].notation == policy.vendors[0].notation
    good_raw = jws_envelope(*chain_of("signing"), TARGET, signed_at=NOW, tsa_url=url)
    swapped = swapped_token(url)
    later = datetime.now(UTC) + timedelta(minutes=1)  # after the tokens' genTime
    good = verify(good_raw, policy, at=later)
    assert good.ok, good.checks
    assert outcome(good, "timestamp") is Outcome.PASS
    result = verify(swapped, policy, at=later)
    assert outcome(result, "timestamp") is want
    assert result.ok is (want is Outcome.WARN)
    # a required timestamp that is missing follows the same action
    required = make_policy(tmp_path, notation, requireTimestamp=True)
    missing = verify(envelope(), required)
    assert outcome(missing, "timestamp") is want
    assert missing.ok is (want is Outcome.WARN)


def test_logged_authentic_signing_time_falls_back_to_the_validation_time(
    tmp_path: Path,
) -> None:
    later = NOW + timedelta(hours=1)
    key, chain = chain_of("signing")
    raw = jws_envelope(
        key,
        chain,
        TARGET,
        signed_at=NOW,
        drop=["io.cncf.notary.signingTime"],
        protected={
            "io.cncf.notary.signingScheme": "notary.x509.signingAuthority",
            "io.cncf.notary.authenticSigningTime": rfc3339(later),
            "crit": [
                "io.cncf.notary.signingScheme",
                "io.cncf.notary.authenticSigningTime",
            ],
        },
    )
    authority = policy_data()["vendors"][0]["anchors"]
    rules: dict[str, Any] = {
        "schemes": ["notary.x509.signingAuthority"],
        "signingAuthorities": authority,
    }
    strict = verify(raw, make_policy(tmp_path, rules))
    assert outcome(strict, "signing-scheme") is Outcome.FAIL
    assert not strict.ok
    logged = verify(raw, make_policy(tmp_path, {**rules, "level": "permissive"}))
    assert outcome(logged, "signing-scheme") is Outcome.WARN
    assert logged.ok, logged.checks
    assert "(test)" in reason(logged, "certificate-chain")


# ----------------------------------------------------------------- authenticity


@pytest.mark.parametrize(
    ("notation", "want"),
    [
        (None, Outcome.FAIL),
        ({"level": "permissive"}, Outcome.FAIL),
        ({"level": "audit"}, Outcome.WARN),
        ({"level": "strict", "override": {"authenticity": "log"}}, Outcome.WARN),
        ({"level": "audit", "override": {"authenticity": "enforce"}}, Outcome.FAIL),
    ],
    ids=["strict", "permissive", "audit", "s-log", "a-enforce"],
)
def test_trusted_identity_action(
    tmp_path: Path, notation: dict[str, Any] | None, want: Outcome
) -> None:
    policy = make_policy(
        tmp_path, notation, identities=[{"subject": "CN=Someone else,O=X,C=DE"}]
    )
    result = verify(envelope(), policy)
    assert outcome(result, "signer-identity") is want
    assert result.ok is (want is Outcome.WARN)
    if result.ok:
        # the chain to acme's anchors names the vendor; the identity is logged
        assert result.principal is not None
        assert result.principal.id == "acme"
        assert outcome(result, "revocation") is Outcome.PASS


@pytest.mark.parametrize("level", ["strict", "permissive", "audit"])
def test_no_level_relaxes_integrity_or_the_trust_store(
    tmp_path: Path, level: str
) -> None:
    policy = make_policy(tmp_path, {"level": level})
    data = json.loads(envelope())
    data["signature"] = data["signature"][:-4] + "AAAA"
    tampered = verify(dumps(data), policy)
    assert outcome(tampered, "signature") is Outcome.FAIL
    assert not tampered.ok
    key, chain = chain_of("signing")
    other_root = issued("vendor-b", "root").cert
    unpinned = verify(
        jws_envelope(key, [chain[0], chain[1], other_root], TARGET, signed_at=NOW),
        policy,
    )
    assert outcome(unpinned, "certificate-chain") is Outcome.FAIL
    assert not unpinned.ok


# ------------------------------------------------------------------ policy load


@pytest.mark.parametrize(
    ("notation", "message"),
    [
        ({"level": "skip"}, "level 'skip' is refused"),
        ({"level": "lenient"}, "is not one of"),
        ({"override": {"integrity": "log"}}, "integrity is always enforced"),
        ({"override": {"expiry": "skip"}}, "'skip' is not one of: enforce, log"),
        ({"override": {"authenticity": "skip"}}, "is not one of: enforce, log"),
        ({"override": {"revocation": "never"}}, "is not one of: enforce, log, skip"),
        ({"override": {"plugins": "log"}}, "unknown"),
        ({"schemes": ["notary.x509.signingAuthority"]}, "needs signingAuthorities"),
        ({"schemes": ["notary.cose"]}, "is not one of"),
        ({"colour": "blue"}, "unknown"),
    ],
)
def test_policy_refuses_bad_notation_rules(
    tmp_path: Path, notation: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught:
        make_policy(tmp_path, notation)
    assert "vendors[0].notation" in str(caught.value)


def test_signing_authorities_need_their_scheme(tmp_path: Path) -> None:
    anchors = policy_data()["vendors"][0]["anchors"]
    with pytest.raises(InvalidInputError, match="need that scheme"):
        make_policy(tmp_path, {"signingAuthorities": anchors})


def test_policy_reads_levels_and_overrides(tmp_path: Path) -> None:
    rules = (
        make_policy(
            tmp_path, {"level": "permissive", "override": {"revocation": "skip"}}
        )
        .vendors[0]
        .notation
    )
    assert rules.level == "permissive"
    assert rules.authenticity is Action.ENFORCE
    assert rules.authentic_timestamp is Action.LOG
    assert rules.expiry is Action.LOG
    assert rules.revocation is Action.SKIP
    assert rules.schemes == frozenset({"notary.x509"})


# ------------------------------------------------- Notation-form identities


@pytest.mark.parametrize(
    ("pattern", "ok"),
    [
        ("C=DE,O=Acme Radio Systems GmbH", True),
        ("O=Acme Radio Systems GmbH,C=DE", True),
        ("CN=Acme Radio Systems Release Signing *,C=DE", True),
        ("C=DE,O=Acme Radio Systems", False),
        ("C=DE,O=Acme Radio Systems GmbH,OU=Radio", False),
    ],
)
def test_subject_includes_matches_attribute_by_attribute(
    tmp_path: Path, pattern: str, *, ok: bool
) -> None:
    policy = make_policy(tmp_path, None, identities=[{"subjectIncludes": pattern}])
    result = verify(envelope(), policy)
    assert result.ok is ok, result.checks
    assert outcome(result, "signer-identity") is (Outcome.PASS if ok else Outcome.FAIL)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("C=DE+O=Acme", "multi-valued RDNs"),
        ("O=A,O=B,C=DE", "is repeated"),
        ("C=DE,,", "expected type=value"),
    ],
)
def test_subject_includes_must_be_an_attribute_set(
    tmp_path: Path, pattern: str, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        make_policy(tmp_path, None, identities=[{"subjectIncludes": pattern}])
