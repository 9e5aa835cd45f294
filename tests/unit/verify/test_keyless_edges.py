"""``verify/keyless.py`` edges: measured digests, the embedded root, failures of the
libraries while verifying (a Rust panic is a failed verification, an interrupt is not).

The panics are raised through pyo3's exception type as ``test_keyless.py`` does for
parsing: a ``BaseException`` named ``pyo3_runtime.PanicException``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from vendorproof.errors import InvalidInputError, SignatureError
from vendorproof.verify import keyless
from vendorproof.verify.keyless import (
    ArtifactDigest,
    KeylessSigner,
    KeylessTrust,
    verify_artifact_bundle,
    verify_statement_bundle,
)

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "sigstore"
STAGING = KeylessTrust(
    trusted_root=(ASSETS / "trust-roots" / "staging" / "trusted_root.json").read_bytes()
)
PUBLIC_GOOD = KeylessTrust(trusted_root=None, public_good=True)
ARTIFACT = ASSETS / "bundles" / "bundle.txt"
BUNDLE = (ASSETS / "bundles" / "bundle.txt.sigstore").read_bytes()
SIGNER = KeylessSigner(identity="a@tny.town", issuer="https://github.com/login/oauth")
DSSE = (ASSETS / "bundles" / "a.dsse.staging-rekor-v2.txt.sigstore.json").read_bytes()
DSSE_SIGNER = KeylessSigner(
    identity="https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
    issuer="https://token.actions.githubusercontent.com",
)
WHL = ASSETS / "bundles" / "bundle_v3_github.whl"
WHL_BUNDLE = (ASSETS / "bundles" / "bundle_v3_github.whl.sigstore").read_bytes()
WHL_SIGNER = KeylessSigner(
    identity="https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2",
    issuer="https://token.actions.githubusercontent.com",
)

PANIC = type("PanicException", (BaseException,), {"__module__": "pyo3_runtime"})


def _raise(exc: BaseException) -> object:
    def fail(*_args: object, **_kw: object) -> object:
        raise exc

    return fail


# -- an artifact measured elsewhere (ArtifactDigest) ---------------------------------


def test_measured_digest_verifies_like_the_bytes() -> None:
    digest = ArtifactDigest(sha256=hashlib.sha256(ARTIFACT.read_bytes()).hexdigest())
    account = verify_artifact_bundle(BUNDLE, digest, trust=STAGING, signer=SIGNER)
    assert account == verify_artifact_bundle(
        BUNDLE, ARTIFACT.read_bytes(), trust=STAGING, signer=SIGNER
    )


@pytest.mark.parametrize(
    ("sha256", "message"),
    [
        pytest.param("zz" * 32, "artifact digest is not hex", id="not-hex"),
        pytest.param("ab" * 20, "artifact digest is not a sha256 digest", id="short"),
    ],
)
def test_malformed_measured_digest_is_invalid_input(sha256: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=rf"^{message}$"):
        verify_artifact_bundle(
            BUNDLE, ArtifactDigest(sha256=sha256), trust=STAGING, signer=SIGNER
        )


# -- the embedded public-good root ---------------------------------------------------


def test_public_good_root_is_read_from_the_sigstore_package() -> None:
    account = verify_artifact_bundle(
        WHL_BUNDLE, WHL, trust=PUBLIC_GOOD, signer=WHL_SIGNER
    )
    assert account.endswith(
        "verified offline against the embedded public-good trusted root"
    )


def test_sigstore_package_without_the_embedded_root_is_invalid_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(keyless, "_PUBLIC_GOOD_DIR", "no-such-tuf-repository")
    with pytest.raises(
        InvalidInputError,
        match=r"^the sigstore package has no embedded public-good root: ",
    ):
        verify_artifact_bundle(WHL_BUNDLE, WHL, trust=PUBLIC_GOOD, signer=WHL_SIGNER)


# -- failures inside the libraries ---------------------------------------------------


def test_panic_while_verifying_an_artifact_fails_verification(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sigstore.verify import Verifier

    monkeypatch.setattr(Verifier, "verify_artifact", _raise(PANIC("unwrap on Err")))
    with pytest.raises(
        SignatureError,
        match=r"^Sigstore bundle does not verify: PanicException: unwrap on Err$",
    ):
        verify_artifact_bundle(BUNDLE, ARTIFACT, trust=STAGING, signer=SIGNER)


def test_panic_while_verifying_a_statement_fails_verification(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sigstore.verify import Verifier

    assert verify_statement_bundle(DSSE, trust=STAGING, signer=DSSE_SIGNER)
    monkeypatch.setattr(Verifier, "verify_dsse", _raise(PANIC("unwrap on Err")))
    with pytest.raises(
        SignatureError,
        match=r"^Sigstore DSSE bundle does not verify: PanicException: unwrap on Err$",
    ):
        verify_statement_bundle(DSSE, trust=STAGING, signer=DSSE_SIGNER)


def test_panic_while_loading_the_trusted_root_is_invalid_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sigstore.models import TrustedRoot

    monkeypatch.setattr(TrustedRoot, "__init__", _raise(PANIC("bad key")))
    with pytest.raises(
        InvalidInputError,
        match=r"^unusable Sigstore trusted root \(the policy's trusted root\): "
        "PanicException: bad key$",
    ):
        verify_artifact_bundle(BUNDLE, ARTIFACT, trust=STAGING, signer=SIGNER)


@pytest.mark.parametrize(
    ("target", "attribute"),
    [
        pytest.param("sigstore.models.Bundle", "from_json", id="parsing"),
        pytest.param("sigstore.models.TrustedRoot", "__init__", id="trusted-root"),
        pytest.param("sigstore.verify.Verifier", "verify_artifact", id="verifying"),
    ],
)
def test_an_interrupt_is_never_taken_for_bad_input(
    monkeypatch: pytest.MonkeyPatch, target: str, attribute: str
) -> None:
    # Only a panic is converted; Ctrl-C (or SystemExit) inside the libraries goes on.
    import importlib

    module, _, name = target.rpartition(".")
    owner = getattr(importlib.import_module(module), name)
    monkeypatch.setattr(owner, attribute, _raise(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        verify_artifact_bundle(BUNDLE, ARTIFACT, trust=STAGING, signer=SIGNER)


def test_statement_verification_lets_an_interrupt_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sigstore.verify import Verifier

    monkeypatch.setattr(Verifier, "verify_dsse", _raise(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        verify_statement_bundle(DSSE, trust=STAGING, signer=DSSE_SIGNER)


# -- strict encodings ----------------------------------------------------------------


def test_non_string_in_a_bytes_list_is_left_to_the_schema() -> None:
    # _check_encodings checks the strings of a list of base64 values; a number there is
    # a schema error of the bundle, which sigstore-models reports.
    bundle = json.loads(BUNDLE)
    proof = bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
    proof["hashes"] = [7, *proof["hashes"]]
    with pytest.raises(InvalidInputError, match=r"^malformed Sigstore bundle: "):
        verify_artifact_bundle(
            json.dumps(bundle).encode(), ARTIFACT, trust=STAGING, signer=SIGNER
        )


def test_log_entry_of_an_unsupported_kind_version_is_invalid_input() -> None:
    assert verify_artifact_bundle(BUNDLE, ARTIFACT, trust=STAGING, signer=SIGNER)
    bundle = json.loads(BUNDLE)
    entry = bundle["verificationMaterial"]["tlogEntries"][0]
    entry["kindVersion"]["version"] = "0.0.9"
    with pytest.raises(
        InvalidInputError,
        match=r"^unsupported Sigstore bundle: Expected log entry version 0\.0\.1 - "
        r"0\.0\.2, got 0\.0\.9$",
    ):
        verify_artifact_bundle(
            json.dumps(bundle).encode(), ARTIFACT, trust=STAGING, signer=SIGNER
        )
