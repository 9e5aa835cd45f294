"""Valid documents the property tests start from (built once per process).

Everything comes from the committed sample delivery and policy under ``fixtures/``
and the committed test PKI under ``keys/``; the evidence record and the audit bundle
are made by a real intake of the sample into a temporary SQLite store.
"""

from __future__ import annotations

import base64
import functools
import json
import tempfile
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.builders import (
    KEYS,
    REPO,
    SAMPLE_AT,
    SAMPLE_DELIVERY,
    SAMPLE_POLICY,
    issued,
    vendor_a_raw_key,
)
from vendorproof._internal import crypto
from vendorproof.intake import load_policy
from vendorproof.models.policy import Policy

ATTESTATIONS = SAMPLE_DELIVERY / "attestations"
BUNDLE_FILES = (
    "manifest.sigstore.json",
    "certification-nesas.sigstore.json",
    "declaration.sigstore.json",
)

OPERATOR_KEY = crypto.load_private_key(
    (KEYS / "operator" / "intake.key").read_bytes(), None, file="intake.key"
)
OPERATOR_PUB = crypto.as_public_key(OPERATOR_KEY.public_key())

# Kept for the life of the process: the record store and the exported bundle.
_WORKDIR = tempfile.TemporaryDirectory(prefix="vendorproof-property-")


def bundle_bytes(name: str) -> bytes:
    """A sample Sigstore bundle, as delivered."""
    return (ATTESTATIONS / name).read_bytes()


@functools.cache
def bundle(name: str) -> dict[str, Any]:
    """A sample Sigstore bundle, parsed."""
    data: dict[str, Any] = json.loads(bundle_bytes(name))
    return data


@functools.cache
def statement(name: str) -> dict[str, Any]:
    """The in-toto statement inside a sample bundle."""
    payload = base64.b64decode(bundle(name)["dsseEnvelope"]["payload"])
    data: dict[str, Any] = json.loads(payload)
    return data


@functools.cache
def bare_envelope() -> dict[str, Any]:
    """A bare DSSE envelope over the sample manifest, signed with a raw key."""
    raw = base64.b64decode(bundle(BUNDLE_FILES[0])["dsseEnvelope"]["payload"])
    signed: dict[str, Any] = json.loads(vendor_a_raw_key().sign(raw))
    envelope: dict[str, Any] = signed["dsseEnvelope"]
    return envelope


@functools.cache
def policy() -> Policy:
    """The sample policy, loaded as ``verify`` loads it."""
    return load_policy(SAMPLE_POLICY)


def policy_yaml() -> bytes:
    """The sample policy text."""
    return SAMPLE_POLICY.read_bytes()


def der(cert: x509.Certificate) -> bytes:
    """A certificate's DER encoding."""
    return cert.public_bytes(serialization.Encoding.DER)


@functools.cache
def certificate_chain() -> tuple[bytes, bytes, bytes]:
    """DER of the sample vendor's signing leaf, intermediate and root."""
    return (
        der(issued("vendor-a", "signing").cert),
        der(issued("vendor-a", "intermediate").cert),
        der(issued("vendor-a", "root").cert),
    )


def issuer_key(org: str, name: str) -> ec.EllipticCurvePrivateKey:
    """A test CA's private key (every test CA key is ECDSA)."""
    key = issued(org, name).key
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


@functools.cache
def crl_der() -> bytes:
    """DER of the sample vendor intermediate's CRL."""
    pem = (KEYS / "vendor-a" / "intermediate.crl.pem").read_bytes()
    return x509.load_pem_x509_crl(pem).public_bytes(serialization.Encoding.DER)


@functools.cache
def timestamp_der() -> bytes:
    """The RFC 3161 response in the sample manifest bundle."""
    stamps = bundle(BUNDLE_FILES[0])["verificationMaterial"][
        "timestampVerificationData"
    ]
    return base64.b64decode(stamps["rfc3161Timestamps"][0]["signedTimestamp"])


def timestamp_with_boolean_signer_cn() -> bytes:
    """The sample token, the CN of its SignerInfo's issuer a BOOLEAN, not a string.

    A known crash (issue 9 item 4): reading the name raises ``KeyError``.
    """
    raw = timestamp_der()
    cn = b"\x06\x03U\x04\x03\x0c,Example Time Stamping Authority Root CA 2025"
    at = raw.rindex(cn) + 5
    return raw[:at] + b"\x01" + raw[at + 1 :]


def timestamped_signature() -> bytes:
    """The signature the sample manifest's timestamp covers."""
    sig = bundle(BUNDLE_FILES[0])["dsseEnvelope"]["signatures"][0]["sig"]
    return base64.b64decode(sig)


@functools.cache
def store_url() -> str:
    """A SQLite store: two intakes of the sample (PASSED, then FAILED), a report.

    Record 3 is a concentration report record over the first two.
    """
    import shutil

    from vendorproof.evidence.intake import run_intake
    from vendorproof.evidence.store import open_store

    work = Path(_WORKDIR.name)
    bad = work / "bad-delivery"
    shutil.copytree(SAMPLE_DELIVERY, bad)
    image = bad / "images" / "gnb-cu-24.1.3.img"
    image.write_bytes(b"\0" + image.read_bytes()[1:])
    url = str(work / "evidence.db")
    store = open_store(url)
    try:
        for delivery in (SAMPLE_DELIVERY, bad):
            run_intake(
                delivery,
                SAMPLE_POLICY,
                store=store,
                key=OPERATOR_KEY,
                actor="property-test",
                at=SAMPLE_AT,
                time_source="--at",
            )
        from vendorproof.evidence.concentration import record_concentration

        record_concentration(
            store,
            load_policy(SAMPLE_POLICY),
            (REPO / "fixtures" / "inventories" / "operator-inventory.csv").read_bytes(),
            inventory_file="operator-inventory.csv",
            key=OPERATOR_KEY,
            actor="property-test",
            at=SAMPLE_AT,
            time_source="--at",
        )
    finally:
        store.close()
    return url


@functools.cache
def records() -> tuple[bytes, ...]:
    """The signed record envelopes of :func:`store_url`, in chain order."""
    from vendorproof.evidence.store import open_store

    store = open_store(store_url())
    try:
        return tuple(r.envelope for r in store.records())
    finally:
        store.close()


@functools.cache
def audit_bundle() -> Path:
    """An audit bundle exported from :func:`store_url` (never modified)."""
    from vendorproof.evidence.bundle import export_bundle
    from vendorproof.evidence.store import open_store

    out = Path(_WORKDIR.name) / "audit-bundle"
    store = open_store(store_url())
    try:
        export_bundle(
            store, out, keys=[OPERATOR_PUB], exported_at="2027-01-15T00:00:00Z"
        )
    finally:
        store.close()
    return out


def scratch() -> Path:
    """A fresh empty directory under the process's work directory."""
    return Path(tempfile.mkdtemp(dir=_WORKDIR.name))
