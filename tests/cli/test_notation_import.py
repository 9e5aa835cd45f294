"""``vendorproof policy import-notation``: Notation trust policies as vendorproof policies.

The imported policy must load with the policy parser and verify the real Notation
layout and signature (tests/assets/notation) when the signer's certificate is in the
trust store; every malformed input is a one-line error with exit 3.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.builders import issued
from tests.cli.support import assert_error, assert_ok, invoke
from tests.oci import ASSETS, REAL_LAYOUT, REAL_MANIFEST, Layout
from vendorproof._cli import ExitCode
from vendorproof.intake import load_policy
from vendorproof.models.policy import Action

AT = "2026-01-01T00:00:00Z"  # inside the alpine certificate (2000-2123)
ALPINE_DN = "x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN=alpine"


def alpine() -> x509.Certificate:
    jws = json.loads((ASSETS / "jws_signature.sig").read_text())
    return x509.load_der_x509_certificate(base64.b64decode(jws["header"]["x5c"][0]))


def trust_store(tmp_path: Path) -> Path:
    root = tmp_path / "trust-store"
    ca = root / "x509" / "ca" / "alpine"
    ca.mkdir(parents=True)
    (ca / "alpine.crt").write_bytes(alpine().public_bytes(serialization.Encoding.DER))
    sa = root / "x509" / "signingAuthority" / "acme-sa"
    sa.mkdir(parents=True)
    pem = issued("vendor-a", "root").cert.public_bytes(serialization.Encoding.PEM)
    (sa / "root.pem").write_bytes(pem)
    tsa = root / "x509" / "tsa" / "acme-tsa"
    tsa.mkdir(parents=True)
    (tsa / "tsa.cer").write_bytes(pem)
    return root


def statement(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "notary",
        "registryScopes": ["localhost:5000/net-monitor"],
        "signatureVerification": {"level": "strict"},
        "trustStores": ["ca:alpine"],
        "trustedIdentities": [ALPINE_DN],
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def policy_doc(*statements: Any) -> dict[str, Any]:
    """A Notation trust policy document (version 1.0) of ``statements``."""
    return {"version": "1.0", "trustPolicies": list(statements)}


def write_trust_policy(tmp_path: Path, *statements: dict[str, Any]) -> Path:
    path = tmp_path / "trustpolicy.json"
    doc = policy_doc(*(statements or [statement()]))
    path.write_text(json.dumps(doc))
    return path


def run_import(tmp_path: Path, trust_policy: Path, *extra: str) -> Any:
    return invoke(
        "policy",
        "import-notation",
        trust_policy,
        "--trust-store",
        trust_store(tmp_path)
        if not (tmp_path / "trust-store").exists()
        else tmp_path / "trust-store",
        "-o",
        tmp_path / "policy.yaml",
        *extra,
    )


def signed_layout(tmp_path: Path) -> Path:
    root = tmp_path / "layout"
    shutil.copytree(REAL_LAYOUT, root)
    for p in root.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    index = json.loads((root / "index.json").read_text())
    annotations = index["manifests"][0]["annotations"]
    annotations["org.opencontainers.image.vendor"] = "notary"
    annotations["org.opencontainers.image.title"] = "alpine"
    Layout(root, index["manifests"]).add_referrer(
        REAL_MANIFEST,
        (ASSETS / "jws_signature.sig").read_bytes(),
        "application/jose+json",
    )
    return root


def verify_imported(tmp_path: Path) -> Any:
    """``verify --format json`` of the signed real layout with the imported policy."""
    return invoke(
        "verify",
        signed_layout(tmp_path),
        "--policy",
        tmp_path / "policy.yaml",
        "--at",
        AT,
        "--format",
        "json",
    )


@pytest.mark.parametrize("level", ["strict", "permissive", "audit"])
def test_imported_policy_verifies_the_real_notation_layout(
    tmp_path: Path, level: str
) -> None:
    trust_policy = write_trust_policy(
        tmp_path,
        statement(signatureVerification={"level": level}),
        statement(
            name="unsigned",
            registryScopes=["localhost:5000/unsigned"],
            signatureVerification={"level": "skip"},
            trustStores=None,
            trustedIdentities=None,
        ),
    )
    result = run_import(tmp_path, trust_policy)
    assert_ok(result)
    assert "OK:" in result.stdout
    assert "registryScopes localhost:5000/net-monitor do not apply" in result.stderr
    assert "unsigned: level 'skip'" in result.stderr
    text = (tmp_path / "policy.yaml").read_text()
    assert text.startswith("# vendorproof policy imported")
    assert "# - unsigned: level 'skip'" in text
    policy = load_policy(tmp_path / "policy.yaml")
    (vendor,) = policy.vendors
    assert vendor.id == "notary"
    assert vendor.notation.level == level
    assert vendor.identities[0].subject_includes == (
        "C=US,ST=WA,L=Seattle,O=Notary,CN=alpine"
    )
    verified = verify_imported(tmp_path)
    assert verified.exit_code == ExitCode.OK, verified.stdout
    report = json.loads(verified.stdout)
    assert report["delivery"]["principal"]["id"] == "notary"


def test_state_written_s_is_imported_as_st(tmp_path: Path) -> None:
    """Notary Project v1.1.0 allows ``S`` for the state or province: the identity
    is the same as with ``ST`` and still matches the alpine certificate."""
    dn = "x509.subject: C=US, S=WA, L=Seattle, O=Notary, CN=alpine"
    trust_policy = write_trust_policy(tmp_path, statement(trustedIdentities=[dn]))
    assert_ok(run_import(tmp_path, trust_policy))
    (vendor,) = load_policy(tmp_path / "policy.yaml").vendors
    assert vendor.identities[0].subject_includes == (
        "C=US,ST=WA,L=Seattle,O=Notary,CN=alpine"
    )
    verified = verify_imported(tmp_path)
    assert verified.exit_code == ExitCode.OK, verified.stdout


def test_imported_policy_refuses_a_layout_signed_by_someone_else(
    tmp_path: Path,
) -> None:
    other = statement(trustedIdentities=["x509.subject: C=US, ST=WA, O=Someone"])
    assert_ok(run_import(tmp_path, write_trust_policy(tmp_path, other)))
    verified = verify_imported(tmp_path)
    assert verified.exit_code == ExitCode.VERIFICATION_FAILED
    checks = {
        c["check"]: c["outcome"]
        for c in json.loads(verified.stdout)["checks"]
        if c["check"] == "signer-identity"
    }
    assert checks == {"signer-identity": "fail"}


def test_every_store_kind_and_override_is_mapped(tmp_path: Path) -> None:
    st = statement(
        signatureVerification={
            "level": "permissive",
            "override": {"revocation": "skip", "authenticity": "enforce"},
        },
        trustStores=["ca:alpine", "signingAuthority:acme-sa", "tsa:acme-tsa"],
        trustedIdentities=["*"],
        registryScopes=["*"],
    )
    assert_ok(run_import(tmp_path, write_trust_policy(tmp_path, st)))
    data = yaml.safe_load((tmp_path / "policy.yaml").read_text())
    vendor = data["vendors"][0]
    assert vendor["identities"] == [{"anySigner": True}]
    assert vendor["requireTimestamp"] is True
    assert vendor["imageSignatures"] == ["notation"]
    assert vendor["notation"]["schemes"] == [
        "notary.x509",
        "notary.x509.signingAuthority",
    ]
    assert data["timestampAuthorities"][0]["id"] == "tsa-acme-tsa"
    policy = load_policy(tmp_path / "policy.yaml")
    assert policy.vendors[0].image_signatures == {"notation"}
    rules = policy.vendors[0].notation
    assert rules.revocation is Action.SKIP
    assert rules.authenticity is Action.ENFORCE
    assert rules.expiry is Action.LOG
    assert len(rules.signing_authority_anchors) == 1
    assert policy.vendors[0].identities[0].any_signer


def test_after_cert_expiry_does_not_require_a_timestamp(tmp_path: Path) -> None:
    st = statement(
        signatureVerification={"level": "strict", "verifyTimestamp": "afterCertExpiry"},
        trustStores=["ca:alpine", "tsa:acme-tsa"],
    )
    result = run_import(tmp_path, write_trust_policy(tmp_path, st))
    assert_ok(result)
    assert "afterCertExpiry" in result.stderr
    assert not load_policy(tmp_path / "policy.yaml").vendors[0].require_timestamp


def test_subdirectories_of_a_store_are_ignored_and_noted(tmp_path: Path) -> None:
    store = trust_store(tmp_path)
    sub = store / "x509" / "ca" / "alpine" / "old"
    sub.mkdir()
    (sub / "x.pem").write_text("junk")
    result = run_import(tmp_path, write_trust_policy(tmp_path))
    assert_ok(result)
    assert "sub-directory 'old' ignored" in result.stderr


def test_existing_output_needs_force(tmp_path: Path) -> None:
    trust_policy = write_trust_policy(tmp_path)
    assert_ok(run_import(tmp_path, trust_policy))
    assert_error(run_import(tmp_path, trust_policy), ExitCode.INVALID_INPUT, "exists")
    assert_ok(run_import(tmp_path, trust_policy, "--force"))


BAD: list[Any] = [
    pytest.param("{", "not a JSON trust policy", id="malformed-json"),
    pytest.param(
        {"version": "2.0", "trustPolicies": [statement()]},
        "version",
        id="unknown-version",
    ),
    pytest.param(policy_doc(), "non-empty array", id="no-statements"),
    pytest.param(
        policy_doc(statement(), statement()),
        "duplicate trust policy name",
        id="duplicate-names",
    ),
    pytest.param(
        policy_doc(statement(trustStores=["ca:missing"])),
        "missing",
        id="missing-store",
    ),
    pytest.param(
        policy_doc(statement(trustStores=["ca"])),
        "is not <type>:<name>",
        id="store-without-type",
    ),
    pytest.param(
        policy_doc(statement(trustStores=["x:y"])),
        "unknown trust store type",
        id="unknown-store-type",
    ),
    pytest.param(
        policy_doc(statement(trustStores=["ca:../x"])),
        "is not [a-zA-Z0-9_.-]+",
        id="store-name-with-slash",
    ),
    pytest.param(
        policy_doc(statement(trustStores=["ca:.."])),
        "names no store",
        id="store-name-parent",
    ),
    pytest.param(
        policy_doc(statement(trustStores=["signingAuthority:."])),
        "names no store",
        id="store-name-dot",
    ),
    pytest.param(
        policy_doc(statement(trustStores=["tsa:acme-tsa"])),
        "needs a ca or signingAuthority",
        id="tsa-only",
    ),
    pytest.param(
        policy_doc(statement(trustedIdentities=["x509.subject: C=US, O=Notary"])),
        "does not parse: it must contain C, ST (or S) and O (missing ST)",
        id="dn-without-st",
    ),
    pytest.param(
        policy_doc(
            statement(trustedIdentities=["x509.subject: C=US, S=WA, ST=WA, O=N"])
        ),
        "attribute type 2.5.4.8 is repeated",
        id="dn-state-twice-as-s-and-st",
    ),
    pytest.param(
        policy_doc(statement(trustedIdentities=["x509.subject: C=US, ST=WA, O"])),
        "does not parse",
        id="dn-unparsable",
    ),
    pytest.param(
        policy_doc(statement(trustedIdentities=["x509.subject: C=US+ST=WA, O=N"])),
        "multi-valued",
        id="dn-multi-valued",
    ),
    pytest.param(
        policy_doc(
            statement(trustedIdentities=["x509.subject: C=US, ST=WA, O=N, O=M"])
        ),
        "is repeated",
        id="dn-repeated-attribute",
    ),
    pytest.param(
        policy_doc(statement(trustedIdentities=["*", ALPINE_DN])),
        "'*' cannot be combined",
        id="wildcard-mixed",
    ),
    pytest.param(
        policy_doc(
            statement(
                trustedIdentities=[ALPINE_DN, "x509.subject: C=US, ST=WA, O=Notary"]
            )
        ),
        "overlaps with",
        id="overlapping-identities",
    ),
    pytest.param(
        policy_doc(statement(trustedIdentities=["email: a@example.com"])),
        "is not supported",
        id="unknown-identity-type",
    ),
    pytest.param(
        policy_doc(statement(trustedIdentities=["CN=x"])),
        "has no type prefix",
        id="identity-without-prefix",
    ),
    pytest.param(
        policy_doc(statement(signatureVerification={"level": "lenient"})),
        "is not one of: strict, permissive, audit, skip",
        id="unknown-level",
    ),
    pytest.param(
        policy_doc(
            statement(
                signatureVerification={
                    "level": "strict",
                    "override": {"integrity": "log"},
                }
            )
        ),
        "integrity cannot be overridden",
        id="override-integrity",
    ),
    pytest.param(
        policy_doc(
            statement(
                signatureVerification={
                    "level": "strict",
                    "override": {"expiry": "skip"},
                }
            )
        ),
        "is not one of: enforce, log",
        id="skip-expiry",
    ),
    pytest.param(
        policy_doc(
            statement(
                signatureVerification={
                    "level": "skip",
                    "override": {"revocation": "log"},
                },
                trustStores=None,
                trustedIdentities=None,
            )
        ),
        "cannot be customised",
        id="skip-customised",
    ),
    pytest.param(
        policy_doc(statement(signatureVerification={"level": "skip"})),
        "with trust stores or trusted identities",
        id="skip-with-stores",
    ),
    pytest.param(
        policy_doc(
            statement(
                signatureVerification={"level": "skip"},
                trustStores=None,
                trustedIdentities=None,
            )
        ),
        "all are 'skip'",
        id="nothing-verifies",
    ),
    pytest.param(
        policy_doc(statement(trustedIdentities=None)),
        "needs trustStores and trustedIdentities",
        id="no-identities",
    ),
    pytest.param(
        policy_doc(statement(registryScopes=["*", "a/b"])),
        "cannot be combined with other scopes",
        id="global-scope-mixed",
    ),
    pytest.param(
        policy_doc(statement(), statement(name="other")),
        "is also in",
        id="scope-in-two-statements",
    ),
    pytest.param(
        policy_doc(
            statement(
                signatureVerification={
                    "level": "strict",
                    "verifyTimestamp": "never",
                }
            )
        ),
        "always, afterCertExpiry",
        id="unknown-verify-timestamp",
    ),
]


BAD += [
    pytest.param([], "must be a JSON object", id="not-an-object"),
    pytest.param(
        policy_doc("x"),
        "must be an object",
        id="statement-not-an-object",
    ),
    pytest.param(
        policy_doc(statement(name="")),
        "non-empty string",
        id="empty-name",
    ),
    pytest.param(
        policy_doc(statement(registryScopes="*")),
        "array of strings",
        id="scopes-not-a-list",
    ),
    pytest.param(
        policy_doc(statement(registryScopes=[])),
        "needs at least one scope",
        id="no-scopes",
    ),
    pytest.param(
        policy_doc(statement(signatureVerification="strict")),
        "must be an object",
        id="verification-not-an-object",
    ),
    pytest.param(
        policy_doc(
            statement(signatureVerification={"level": "strict", "override": ["expiry"]})
        ),
        "must be an object",
        id="override-not-an-object",
    ),
    pytest.param(
        policy_doc(
            statement(
                signatureVerification={
                    "level": "strict",
                    "override": {"plugin": "log"},
                }
            )
        ),
        "unknown validation type",
        id="override-unknown-type",
    ),
]


def test_unknown_fields_are_named_and_dn_escapes_kept(tmp_path: Path) -> None:
    st = statement(
        trustedIdentities=[r"x509.subject: C=US, ST=WA, O=Notary\, Inc\ , CN=a*b"],
        plugins=["x"],
    )
    doc = {"version": "1.0", "trustPolicies": [st], "comment": "x"}
    path = tmp_path / "trustpolicy.json"
    path.write_text(json.dumps(doc))
    result = run_import(tmp_path, path)
    assert_ok(result)
    assert "top-level field(s) not imported: comment" in result.stderr
    assert "notary: field(s) not imported: plugins" in result.stderr
    identity = load_policy(tmp_path / "policy.yaml").vendors[0].identities[0]
    assert identity.subject_includes == r"C=US,ST=WA,O=Notary\, Inc\ ,CN=a\2Ab"


@pytest.mark.parametrize(("doc", "message"), BAD)
def test_bad_trust_policies_are_one_line_errors(
    tmp_path: Path, doc: Any, message: str
) -> None:
    path = tmp_path / "trustpolicy.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    err = assert_error(run_import(tmp_path, path), ExitCode.INVALID_INPUT, message)
    assert len(err.strip().splitlines()) == 1, err
    assert "trustpolicy.json" in err or "trust store" in err
    assert not (tmp_path / "policy.yaml").exists()


def test_bad_trust_stores_are_one_line_errors(tmp_path: Path) -> None:
    trust_policy = write_trust_policy(tmp_path)
    store = trust_store(tmp_path)
    ca = store / "x509" / "ca" / "alpine"
    (ca / "alpine.crt").write_text("not a certificate")
    assert_error(
        run_import(tmp_path, trust_policy), ExitCode.INVALID_INPUT, "alpine.crt"
    )
    (ca / "alpine.crt").unlink()
    assert_error(
        run_import(tmp_path, trust_policy), ExitCode.INVALID_INPUT, "no certificate"
    )
    (ca / "link.pem").symlink_to(store / "x509" / "tsa" / "acme-tsa" / "tsa.cer")
    assert_error(
        run_import(tmp_path, trust_policy), ExitCode.INVALID_INPUT, "symbolic link"
    )
    (ca / "link.pem").unlink()
    shutil.rmtree(ca)
    ca.symlink_to(store / "x509" / "tsa" / "acme-tsa")
    assert_error(
        run_import(tmp_path, trust_policy), ExitCode.INVALID_INPUT, "symbolic link"
    )
    ca.unlink()
    ca.write_text("a file")
    assert_error(
        run_import(tmp_path, trust_policy), ExitCode.INVALID_INPUT, "not a directory"
    )


def test_unreadable_trust_store_is_a_one_line_error(tmp_path: Path) -> None:
    """A named store that cannot be listed (no read permission) is exit 3 naming it.

    Run as a separate process; as root, without the capabilities that bypass file
    permissions (``setpriv`` drops them from the bounding set before the exec)."""
    trust_policy = write_trust_policy(tmp_path)
    ca = trust_store(tmp_path) / "x509" / "ca" / "alpine"
    drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    command = [
        *(drop if os.geteuid() == 0 else []),
        sys.executable,
        "-m",
        "vendorproof",
        "policy",
        "import-notation",
        str(trust_policy),
        "--trust-store",
        str(tmp_path / "trust-store"),
        "-o",
        str(tmp_path / "policy.yaml"),
    ]
    ca.chmod(0)
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=60, check=False
        )
    finally:
        ca.chmod(0o755)
    assert done.returncode == ExitCode.INVALID_INPUT, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"trust store {ca} cannot be listed: Permission denied" in lines[0]
    assert not (tmp_path / "policy.yaml").exists()
    # Readable again, the same store imports.
    assert_ok(run_import(tmp_path, trust_policy))
