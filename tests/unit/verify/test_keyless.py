"""Offline Sigstore keyless verification against real public-good and staging bundles."""

from __future__ import annotations

import base64
import json
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from vendorproof.errors import InvalidInputError, SignatureError, VerificationError
from vendorproof.verify.keyless import (
    KeylessSigner,
    KeylessTrust,
    verify_artifact_bundle,
    verify_statement_bundle,
)

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "sigstore"
CASES: list[dict[str, Any]] = json.loads((ASSETS / "cases.json").read_text())
STAGING_ROOT = (ASSETS / "trust-roots" / "staging" / "trusted_root.json").read_bytes()

PUBLIC_GOOD = KeylessTrust(trusted_root=None, public_good=True)
STAGING = KeylessTrust(trusted_root=STAGING_ROOT)

# FAIL cases whose bundle is malformed or unsupported (not merely unverifiable).
INVALID_INPUT_CASES = {"bundle_invalid_version.txt"}

# The bundle.txt case, used for the targeted negative tests below.
BUNDLE_TXT = ASSETS / "bundles" / "bundle.txt"
BUNDLE_TXT_SIGSTORE = (ASSETS / "bundles" / "bundle.txt.sigstore").read_bytes()
BUNDLE_TXT_SIGNER = KeylessSigner(
    identity="a@tny.town", issuer="https://github.com/login/oauth"
)

DSSE_BUNDLE = (
    ASSETS / "bundles" / "a.dsse.staging-rekor-v2.txt.sigstore.json"
).read_bytes()
DSSE_SIGNER = KeylessSigner(
    identity="https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
    issuer="https://token.actions.githubusercontent.com",
)

WHL_BUNDLE = (ASSETS / "bundles" / "bundle_v3_github.whl.sigstore").read_bytes()
WHL_SIGNER = KeylessSigner(
    identity="https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2",
    issuer="https://token.actions.githubusercontent.com",
)


def _trust(case: dict[str, Any]) -> KeylessTrust:
    """The case's root of trust, as cases.json describes it."""
    root: str = case["trusted_root"]
    if root.startswith("public-good"):
        return PUBLIC_GOOD
    if root.startswith("staging trusted root plus"):
        # The staging root with the test TSA of bundles/tsa/ca.json added.
        document = json.loads(STAGING_ROOT)
        ca = json.loads((ASSETS / "bundles" / "tsa" / "ca.json").read_text())
        document["timestampAuthorities"] = [*document["timestampAuthorities"], ca]
        return KeylessTrust(trusted_root=json.dumps(document).encode())
    assert root == "trust-roots/staging/trusted_root.json"
    return KeylessTrust(trusted_root=(ASSETS / root).read_bytes())


def _signer(case: dict[str, Any]) -> KeylessSigner:
    # A case with no recorded identity fails before identity is checked.
    return KeylessSigner(
        identity=case["identity"] or "unknown@example.com",
        issuer=case["issuer"] or "https://issuer.example.com",
    )


def _verify_case(case: dict[str, Any]) -> str:
    """Verify one case in the form its bundle holds; return a short account."""
    bundle = (ASSETS / case["bundle"]).read_bytes()
    trust, signer = _trust(case), _signer(case)
    artifact: str = case["artifact"]
    if "dsseEnvelope" in json.loads(bundle):
        payload_type, payload = verify_statement_bundle(
            bundle, trust=trust, signer=signer
        )
        assert payload_type == "application/vnd.in-toto+json"
        statement = json.loads(payload)
        # The case's artifact is the statement's subject digest.
        algorithm, _, value = artifact.partition(":")
        assert algorithm == "sha256"
        assert [s["digest"]["sha256"] for s in statement["subject"]] == [value]
        return "statement"
    if artifact == "sha256:FROM_BUNDLE":
        # The artifact is not shipped; this bundle is rejected before the artifact
        # is looked at (see test_python_tgz_fails_on_the_bundle_itself).
        return verify_artifact_bundle(bundle, b"", trust=trust, signer=signer)
    return verify_artifact_bundle(bundle, ASSETS / artifact, trust=trust, signer=signer)


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_cases_json_outcome(case: dict[str, Any]) -> None:
    assert case["expected"] in {"PASS", "FAIL"}
    if case["expected"] == "PASS":
        account = _verify_case(case)
        if account != "statement":
            assert case["identity"] in account
            assert case["issuer"] in account
            assert "\n" not in account
        return
    expected: type[Exception] = (
        InvalidInputError if case["case"] in INVALID_INPUT_CASES else SignatureError
    )
    with pytest.raises(expected) as caught:
        _verify_case(case)
    assert "\n" not in str(caught.value)
    assert caught.value.__cause__ is not None  # the sigstore error is chained


def test_every_case_is_covered() -> None:
    names = [c["case"] for c in CASES]
    assert len(names) == len(set(names)) >= 18
    assert INVALID_INPUT_CASES.issubset(names)


# --- accounts ------------------------------------------------------------------


def test_account_rekor_v1_reports_log_index_and_integrated_time() -> None:
    account = verify_artifact_bundle(
        BUNDLE_TXT_SIGSTORE, BUNDLE_TXT, trust=STAGING, signer=BUNDLE_TXT_SIGNER
    )
    entry = json.loads(BUNDLE_TXT_SIGSTORE)["verificationMaterial"]["tlogEntries"][0]
    assert f"Rekor log index {entry['logIndex']}" in account
    assert "integrated time 20" in account
    assert "a@tny.town" in account
    assert "https://github.com/login/oauth" in account
    assert "the policy's trusted root" in account


def test_account_rekor_v2_reports_the_rfc3161_time() -> None:
    account = verify_artifact_bundle(
        (ASSETS / "bundles" / "staging-rekor-v2.txt.sigstore.json").read_bytes(),
        ASSETS / "bundles" / "staging-rekor-v2.txt",
        trust=STAGING,
        signer=KeylessSigner(
            identity="jku@goto.fi", issuer="https://github.com/login/oauth"
        ),
    )
    assert "RFC 3161 timestamp 2025-06-09T11:57:38Z" in account
    assert "Rekor log index 645" in account


def test_public_good_account() -> None:
    account = verify_artifact_bundle(
        WHL_BUNDLE,
        ASSETS / "bundles" / "bundle_v3_github.whl",
        trust=PUBLIC_GOOD,
        signer=WHL_SIGNER,
    )
    assert "the embedded public-good trusted root" in account


def test_artifact_as_bytes_and_as_path_agree() -> None:
    as_bytes = verify_artifact_bundle(
        BUNDLE_TXT_SIGSTORE,
        BUNDLE_TXT.read_bytes(),
        trust=STAGING,
        signer=BUNDLE_TXT_SIGNER,
    )
    as_path = verify_artifact_bundle(
        BUNDLE_TXT_SIGSTORE, BUNDLE_TXT, trust=STAGING, signer=BUNDLE_TXT_SIGNER
    )
    assert as_bytes == as_path


# --- signer policy ---------------------------------------------------------------


def test_wrong_identity() -> None:
    signer = KeylessSigner(
        identity="mallory@tny.town", issuer="https://github.com/login/oauth"
    )
    with pytest.raises(SignatureError, match=r"SANs do not match mallory@tny\.town"):
        verify_artifact_bundle(
            BUNDLE_TXT_SIGSTORE, BUNDLE_TXT, trust=STAGING, signer=signer
        )


def test_identity_is_matched_exactly_not_as_prefix() -> None:
    signer = KeylessSigner(
        identity="a@tny.tow", issuer="https://github.com/login/oauth"
    )
    with pytest.raises(SignatureError, match="SANs do not match"):
        verify_artifact_bundle(
            BUNDLE_TXT_SIGSTORE, BUNDLE_TXT, trust=STAGING, signer=signer
        )


def test_wrong_issuer() -> None:
    signer = KeylessSigner(identity="a@tny.town", issuer="https://accounts.google.com")
    with pytest.raises(SignatureError, match="OIDCIssuer does not match"):
        verify_artifact_bundle(
            BUNDLE_TXT_SIGSTORE, BUNDLE_TXT, trust=STAGING, signer=signer
        )


def test_dsse_wrong_identity() -> None:
    signer = KeylessSigner(
        identity="https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main",
        issuer=DSSE_SIGNER.issuer,
    )
    with pytest.raises(SignatureError, match="SANs do not match"):
        verify_statement_bundle(DSSE_BUNDLE, trust=STAGING, signer=signer)


@pytest.mark.parametrize(
    ("identity", "issuer"),
    [("", "https://accounts.google.com"), ("a@tny.town", ""), ("a@tny.town", "  ")],
)
def test_empty_identity_or_issuer_is_refused(identity: str, issuer: str) -> None:
    # sigstore's Identity skips the issuer check when the issuer is empty.
    with pytest.raises(InvalidInputError, match="must not be empty"):
        KeylessSigner(identity=identity, issuer=issuer)


# --- tampering and trust ---------------------------------------------------------


def test_flipped_byte_in_artifact(tmp_path: Path) -> None:
    data = bytearray(BUNDLE_TXT.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered = tmp_path / "bundle.txt"
    tampered.write_bytes(bytes(data))
    for artifact in (tampered, bytes(data)):
        with pytest.raises(SignatureError, match="does not verify"):
            verify_artifact_bundle(
                BUNDLE_TXT_SIGSTORE, artifact, trust=STAGING, signer=BUNDLE_TXT_SIGNER
            )


def test_flipped_byte_in_rekor_v2_artifact() -> None:
    data = bytearray((ASSETS / "bundles" / "staging-rekor-v2.txt").read_bytes())
    data[0] ^= 0x01
    with pytest.raises(SignatureError, match="does not verify"):
        verify_artifact_bundle(
            (ASSETS / "bundles" / "staging-rekor-v2.txt.sigstore.json").read_bytes(),
            bytes(data),
            trust=STAGING,
            signer=KeylessSigner(
                identity="jku@goto.fi", issuer="https://github.com/login/oauth"
            ),
        )


def test_tampered_dsse_payload() -> None:
    document = json.loads(DSSE_BUNDLE)
    envelope = document["dsseEnvelope"]
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["subject"][0]["digest"]["sha256"] = "0" * 64
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    with pytest.raises(SignatureError, match="does not verify"):
        verify_statement_bundle(
            json.dumps(document).encode(), trust=STAGING, signer=DSSE_SIGNER
        )


def test_staging_bundle_against_public_good_root() -> None:
    with pytest.raises(SignatureError, match="certificate chain"):
        verify_artifact_bundle(
            BUNDLE_TXT_SIGSTORE, BUNDLE_TXT, trust=PUBLIC_GOOD, signer=BUNDLE_TXT_SIGNER
        )


def test_public_good_bundle_against_staging_root() -> None:
    with pytest.raises(SignatureError, match="certificate chain"):
        verify_artifact_bundle(
            WHL_BUNDLE,
            ASSETS / "bundles" / "bundle_v3_github.whl",
            trust=STAGING,
            signer=WHL_SIGNER,
        )


def test_root_without_the_rekor_key_fails() -> None:
    document = json.loads(STAGING_ROOT)
    # Keep only the Rekor v2 logs: the v1 entry's checkpoint and SET can't verify.
    document["tlogs"] = [t for t in document["tlogs"] if "log2025" in t["baseUrl"]]
    with pytest.raises(SignatureError, match="invalid log entry"):
        verify_artifact_bundle(
            BUNDLE_TXT_SIGSTORE,
            BUNDLE_TXT,
            trust=KeylessTrust(trusted_root=json.dumps(document).encode()),
            signer=BUNDLE_TXT_SIGNER,
        )


def test_tampered_inclusion_proof() -> None:
    document = json.loads((ASSETS / "bundles" / "bundle_v3.txt.sigstore").read_text())
    proof = document["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
    first = base64.b64decode(proof["hashes"][0])
    proof["hashes"][0] = base64.b64encode(bytes([first[0] ^ 1]) + first[1:]).decode()
    with pytest.raises(SignatureError, match="invalid log entry"):
        verify_artifact_bundle(
            json.dumps(document).encode(),
            ASSETS / "bundles" / "bundle_v3.txt",
            trust=STAGING,
            signer=KeylessSigner(
                identity="william@yossarian.net",
                issuer="https://github.com/login/oauth",
            ),
        )


# --- the two forms ---------------------------------------------------------------


def test_dsse_statement_bundle_returns_the_payload() -> None:
    payload_type, payload = verify_statement_bundle(
        DSSE_BUNDLE, trust=STAGING, signer=DSSE_SIGNER
    )
    assert payload_type == "application/vnd.in-toto+json"
    envelope = json.loads(DSSE_BUNDLE)["dsseEnvelope"]
    assert payload == base64.b64decode(envelope["payload"])
    statement = json.loads(payload)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["subject"][0]["digest"]["sha256"] == (
        "a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf"
    )


def test_dsse_bundle_is_not_an_artifact_signature() -> None:
    with pytest.raises(SignatureError, match="holds a DSSE statement"):
        verify_artifact_bundle(
            DSSE_BUNDLE, b"anything", trust=STAGING, signer=DSSE_SIGNER
        )


def test_message_bundle_is_not_a_statement() -> None:
    with pytest.raises(SignatureError, match="not a DSSE statement"):
        verify_statement_bundle(
            BUNDLE_TXT_SIGSTORE, trust=STAGING, signer=BUNDLE_TXT_SIGNER
        )


def test_python_tgz_fails_on_the_bundle_itself() -> None:
    bundle = (
        ASSETS / "bundles" / "integration" / "Python-3.12.5.tgz.sigstore"
    ).read_bytes()
    signer = KeylessSigner(
        identity="thomas@python.org", issuer="https://accounts.google.com"
    )
    with pytest.raises(SignatureError, match="checkpoint"):
        verify_artifact_bundle(bundle, b"", trust=PUBLIC_GOOD, signer=signer)


# --- malformed input -------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"not json",
        b"\xff\xfe\x00garbage",
        b"[]",
        b'"a string"',
        b"{}",
        b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}',
    ],
)
def test_garbage_bundle(garbage: bytes) -> None:
    with pytest.raises(InvalidInputError) as caught:
        verify_artifact_bundle(
            garbage, BUNDLE_TXT, trust=STAGING, signer=BUNDLE_TXT_SIGNER
        )
    assert "\n" not in str(caught.value)
    with pytest.raises(InvalidInputError):
        verify_statement_bundle(garbage, trust=STAGING, signer=DSSE_SIGNER)


def test_unsupported_bundle_media_type() -> None:
    bundle = (ASSETS / "bundles" / "bundle_invalid_version.txt.sigstore").read_bytes()
    with pytest.raises(InvalidInputError, match="malformed Sigstore bundle: mediaType"):
        verify_artifact_bundle(
            bundle, BUNDLE_TXT, trust=STAGING, signer=BUNDLE_TXT_SIGNER
        )


def test_bad_certificate_bytes_are_malformed_input() -> None:
    document = json.loads(DSSE_BUNDLE)
    document["verificationMaterial"]["certificate"]["rawBytes"] = base64.b64encode(
        b"not a certificate"
    ).decode()
    with pytest.raises(InvalidInputError):
        verify_statement_bundle(
            json.dumps(document).encode(), trust=STAGING, signer=DSSE_SIGNER
        )


@pytest.mark.parametrize(
    "root",
    [b"", b"not json", b"{}", b'{"mediaType": "application/x-nope"}'],
)
def test_malformed_trusted_root(root: bytes) -> None:
    with pytest.raises(InvalidInputError, match="unusable Sigstore trusted root"):
        verify_artifact_bundle(
            BUNDLE_TXT_SIGSTORE,
            BUNDLE_TXT,
            trust=KeylessTrust(trusted_root=root),
            signer=BUNDLE_TXT_SIGNER,
        )


def test_missing_artifact_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.bin"
    with pytest.raises(InvalidInputError, match="cannot read artifact") as caught:
        verify_artifact_bundle(
            BUNDLE_TXT_SIGSTORE, missing, trust=STAGING, signer=BUNDLE_TXT_SIGNER
        )
    assert caught.value.file == str(missing)


@pytest.mark.parametrize(
    ("trusted_root", "public_good"),
    [(None, False), (STAGING_ROOT, True)],
    ids=["neither", "both"],
)
def test_trust_needs_exactly_one_source(
    trusted_root: bytes | None, public_good: bool
) -> None:
    with pytest.raises(InvalidInputError, match="exactly one"):
        KeylessTrust(trusted_root=trusted_root, public_good=public_good)


def test_errors_are_vendorproof_errors() -> None:
    assert issubclass(SignatureError, VerificationError)


# --- offline and cheap -----------------------------------------------------------


def test_no_network_and_no_tuf_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    # sigstore's TUF client would write under these; the embedded root must not.
    for variable in ("HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(variable, str(tmp_path / variable))

    verify_artifact_bundle(
        WHL_BUNDLE,
        ASSETS / "bundles" / "bundle_v3_github.whl",
        trust=PUBLIC_GOOD,
        signer=WHL_SIGNER,
    )
    verify_artifact_bundle(
        (ASSETS / "bundles" / "staging-rekor-v2.txt.sigstore.json").read_bytes(),
        ASSETS / "bundles" / "staging-rekor-v2.txt",
        trust=STAGING,
        signer=KeylessSigner(
            identity="jku@goto.fi", issuer="https://github.com/login/oauth"
        ),
    )
    verify_statement_bundle(DSSE_BUNDLE, trust=STAGING, signer=DSSE_SIGNER)
    with pytest.raises(SignatureError):
        verify_artifact_bundle(
            BUNDLE_TXT_SIGSTORE, b"tampered", trust=STAGING, signer=BUNDLE_TXT_SIGNER
        )
    assert list(tmp_path.iterdir()) == []


def test_path_artifact_is_hashed_streaming(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Whole-file reads are refused: a Path artifact must be hashed in chunks.
    def refuse(self: Path, *args: object, **kwargs: object) -> bytes:
        raise AssertionError(f"whole-file read of {self}")

    big = tmp_path / "big.bin"
    with big.open("wb") as f:
        for _ in range(8):
            f.write(b"\x5a" * (1 << 20))
    monkeypatch.setattr(Path, "read_bytes", refuse)
    monkeypatch.setattr(Path, "read_text", refuse)
    verify_artifact_bundle(
        BUNDLE_TXT_SIGSTORE, BUNDLE_TXT, trust=STAGING, signer=BUNDLE_TXT_SIGNER
    )
    with pytest.raises(SignatureError, match="does not verify"):
        verify_artifact_bundle(
            BUNDLE_TXT_SIGSTORE, big, trust=STAGING, signer=BUNDLE_TXT_SIGNER
        )


def test_importing_the_module_does_not_import_sigstore() -> None:
    code = (
        "import sys, vendorproof.verify.keyless\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'sigstore')\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_snake_case_bundle_fields_are_read_as_sigstore_reads_them() -> None:
    # Protobuf JSON allows the original field names; sigstore accepts them, and
    # the form check and the account must agree with what sigstore verified.
    snake = (
        BUNDLE_TXT_SIGSTORE.replace(b'"messageSignature"', b'"message_signature"')
        .replace(b'"verificationMaterial"', b'"verification_material"')
        .replace(b'"tlogEntries"', b'"tlog_entries"')
        .replace(b'"logIndex"', b'"log_index"')
    )
    account = verify_artifact_bundle(
        snake, BUNDLE_TXT, trust=STAGING, signer=BUNDLE_TXT_SIGNER
    )
    assert "Rekor log index 7390977, integrated time 2023-04-26T00:21:09Z" in account
    with pytest.raises(SignatureError, match="not a DSSE statement"):
        verify_statement_bundle(snake, trust=STAGING, signer=BUNDLE_TXT_SIGNER)


# -- strict reading of the bundle (issue 9, items 4 and 11) ------------------------

REKOR_V2_BUNDLE = (
    ASSETS / "bundles" / "staging-rekor-v2.txt.sigstore.json"
).read_bytes()
REKOR_V2_ARTIFACT = ASSETS / "bundles" / "staging-rekor-v2.txt"
REKOR_V2_SIGNER = KeylessSigner(
    identity="jku@goto.fi", issuer="https://github.com/login/oauth"
)


def _edited(raw: bytes, edit: Any) -> bytes:
    document = json.loads(raw)
    edit(document)
    return json.dumps(document).encode()


def _material(document: dict[str, Any]) -> dict[str, Any]:
    material: dict[str, Any] = document["verificationMaterial"]
    return material


def _set_token(der: bytes) -> Any:
    def edit(document: dict[str, Any]) -> None:
        stamps = _material(document)["timestampVerificationData"]["rfc3161Timestamps"]
        stamps[0]["signedTimestamp"] = base64.b64encode(der).decode()

    return edit


def _set(path: tuple[str | int, ...], value: object) -> Any:
    def edit(document: dict[str, Any]) -> None:
        target: Any = document
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return edit


_ENTRY = ("verificationMaterial", "tlogEntries", 0)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(
            _set((*_ENTRY, "logIndex"), "1_000"),
            r"tlogEntries\[0\]\.logIndex: not a uint64 in decimal digits: '1_000'",
            id="u64-underscore",
        ),
        pytest.param(
            _set((*_ENTRY, "integratedTime"), "\u0663"),
            r"tlogEntries\[0\]\.integratedTime: not a uint64",
            id="u64-arabic-digit",
        ),
        pytest.param(
            _set((*_ENTRY, "integratedTime"), " 17"),
            r"integratedTime: not a uint64",
            id="u64-space",
        ),
        pytest.param(
            _set(("verificationMaterial", "certificate", "rawBytes"), "MIIC!!!A"),
            r"certificate\.rawBytes: invalid base64",
            id="garbage-base64",
        ),
        pytest.param(
            _set((*_ENTRY, "canonicalizedBody"), "e30"),
            r"canonicalizedBody: invalid base64: length 3 .*missing or excess padding",
            id="missing-padding",
        ),
        pytest.param(
            _set((*_ENTRY, "inclusionProof", "hashes", 0), "QQ==="),
            r"inclusionProof\.hashes\[0\]: invalid base64: length 5",
            id="excess-padding-in-list",
        ),
        pytest.param(
            _set((*_ENTRY, "logId", "keyId"), "QR=="),
            r"logId\.keyId: invalid base64: not the canonical encoding",
            id="non-zero-trailing-bits",
        ),
        pytest.param(
            _set_token(b"0\x03\x02\x01\x00"),
            r"^malformed Sigstore bundle: Invalid Timestamp Response$",
            id="token-granted-without-token",
        ),
        pytest.param(
            _set_token(b"not DER"),
            r"^malformed Sigstore bundle: Invalid Timestamp Response$",
            id="token-garbage",
        ),
    ],
)
def test_malformed_fields_of_a_keyless_bundle(edit: Any, message: str) -> None:
    # Regression: garbage base64 and uint64 strings were accepted (sigstore-models
    # decodes leniently) and an undecodable RFC 3161 token escaped as sigstore's
    # VerificationError (exit 4).
    bundle = _edited(REKOR_V2_BUNDLE, edit)
    with pytest.raises(InvalidInputError) as info:
        verify_artifact_bundle(
            bundle, REKOR_V2_ARTIFACT, trust=STAGING, signer=REKOR_V2_SIGNER
        )
    assert re.search(message, str(info.value)), str(info.value)
    assert "\n" not in str(info.value)


def test_a_rejected_token_fails_verification() -> None:
    bundle = _edited(REKOR_V2_BUNDLE, _set_token(bytes.fromhex("30053003020102")))
    with pytest.raises(SignatureError, match=r"does not verify: .*Missing SignedData"):
        verify_artifact_bundle(
            bundle, REKOR_V2_ARTIFACT, trust=STAGING, signer=REKOR_V2_SIGNER
        )


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(
            REKOR_V2_BUNDLE.replace(
                b'"mediaType"', b'"mediaType": "x", "mediaType"', 1
            ),
            id="top-level",
        ),
        pytest.param(
            REKOR_V2_BUNDLE.replace(b'"logIndex"', b'"logIndex": "1", "logIndex"', 1),
            id="in-a-tlog-entry",
        ),
    ],
)
def test_duplicate_keys_in_a_keyless_bundle(raw: bytes) -> None:
    assert raw != REKOR_V2_BUNDLE
    with pytest.raises(InvalidInputError, match="duplicate key"):
        verify_artifact_bundle(
            raw, REKOR_V2_ARTIFACT, trust=STAGING, signer=REKOR_V2_SIGNER
        )
    with pytest.raises(InvalidInputError, match="duplicate key"):
        verify_statement_bundle(raw, trust=STAGING, signer=DSSE_SIGNER)


def test_url_safe_base64_is_refused_in_keyless_bundles() -> None:
    # sigstore-models decodes with base64.b64decode(validate=False), which drops
    # '-' and '_': what sigstore would read is not what the bundle says.
    def url_safe(document: dict[str, Any]) -> None:
        cert = _material(document)["certificate"]
        cert["rawBytes"] = cert["rawBytes"].replace("+", "-").replace("/", "_")

    bundle = _edited(REKOR_V2_BUNDLE, url_safe)
    assert bundle != REKOR_V2_BUNDLE
    with pytest.raises(InvalidInputError, match="URL-safe alphabet is not read"):
        verify_artifact_bundle(
            bundle, REKOR_V2_ARTIFACT, trust=STAGING, signer=REKOR_V2_SIGNER
        )


def test_a_rust_panic_while_parsing_is_malformed_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sigstore.models import Bundle

    panic = type("PanicException", (BaseException,), {"__module__": "pyo3_runtime"})

    def from_json(_raw: bytes) -> object:
        msg = "called `Result::unwrap()` on an `Err` value"
        raise panic(msg)

    monkeypatch.setattr(Bundle, "from_json", from_json)
    with pytest.raises(InvalidInputError, match="malformed Sigstore bundle: Panic"):
        verify_artifact_bundle(
            REKOR_V2_BUNDLE, REKOR_V2_ARTIFACT, trust=STAGING, signer=REKOR_V2_SIGNER
        )
