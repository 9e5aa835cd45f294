"""Property tests: bundles, DSSE envelopes, statements and every predicate.

Each mutant of a sample document goes through the parser a delivery meets it with;
the result is a parsed document or a project error, never another exception.
"""

from __future__ import annotations

import base64
import functools
import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.builders import SAMPLE_AT, SAMPLE_DELIVERY
from tests.property import _seeds as seeds
from tests.property._harness import parses
from tests.property._mutate import (
    der_documents,
    json_documents,
    mixed,
    payload_documents,
)
from vendorproof._internal.jsonio import parse_json
from vendorproof.formats.directory import load_delivery
from vendorproof.intake import measure
from vendorproof.models.bundle import Bundle
from vendorproof.models.certification import Certification
from vendorproof.models.declaration import TrustDeclaration
from vendorproof.models.documents import load_signed_document
from vendorproof.models.envelope import Envelope
from vendorproof.models.manifest import ComponentManifest
from vendorproof.models.statement import Statement
from vendorproof.verify.delivery import ComponentDigest, Hasher, evaluate_delivery
from vendorproof.verify.keyless import (
    KeylessSigner,
    KeylessTrust,
    verify_artifact_bundle,
    verify_statement_bundle,
)

_DOCUMENT = st.sampled_from(seeds.BUNDLE_FILES)


def _with_timestamp(name: str, der: bytes) -> bytes:
    """The bundle ``name`` with its RFC 3161 response replaced by ``der``."""
    doc = json.loads(json.dumps(seeds.bundle(name)))
    stamp = {"signedTimestamp": base64.b64encode(der).decode()}
    material = doc["verificationMaterial"]
    material["timestampVerificationData"] = {"rfc3161Timestamps": [stamp]}
    return json.dumps(doc).encode()


def _bundle_mutants(name: str) -> st.SearchStrategy[bytes]:
    doc = seeds.bundle(name)
    return mixed(
        seeds.bundle_bytes(name),
        lambda _: st.one_of(
            json_documents(doc),
            payload_documents(doc, ("dsseEnvelope", "payload"), seeds.statement(name)),
            der_documents(seeds.timestamp_der()).map(
                lambda der: _with_timestamp(name, der)
            ),
        ),
    )


_BUNDLES = _DOCUMENT.flatmap(_bundle_mutants)


def _load_bundle(raw: bytes) -> None:
    bundle = Bundle.from_bytes(raw)
    for cert in bundle.certificates:
        cert.subject.rfc4514_string()


@pytest.mark.slow
@given(_BUNDLES)
def test_bundle(raw: bytes) -> None:
    parses(_load_bundle, raw, input_size=len(raw))
    parses(load_signed_document, raw, file="a.sigstore.json", input_size=len(raw))


def _load_envelope(raw: bytes) -> None:
    data = parse_json(raw, file="a.dsse.json")
    if isinstance(data, dict):
        Envelope.from_dict(data).pae()


@given(
    mixed(
        json.dumps(seeds.bare_envelope()).encode(),
        lambda _: st.one_of(
            json_documents(seeds.bare_envelope()),
            payload_documents(
                seeds.bare_envelope(),
                ("payload",),
                seeds.statement(seeds.BUNDLE_FILES[0]),
            ),
        ),
    )
)
def test_envelope(raw: bytes) -> None:
    parses(_load_envelope, raw, input_size=len(raw))
    parses(load_signed_document, raw, file="a.dsse.json", input_size=len(raw))


def _parse_statement(raw: bytes) -> None:
    statement = Statement.from_bytes(raw)
    ComponentManifest.from_statement(statement)
    Certification.from_statement(statement)
    TrustDeclaration.from_statement(statement)


@given(
    _DOCUMENT.flatmap(
        lambda name: mixed(
            json.dumps(seeds.statement(name)).encode(),
            lambda _: json_documents(seeds.statement(name), max_edits=4),
        )
    )
)
def test_statement_and_predicates(raw: bytes) -> None:
    parses(_parse_statement, raw, input_size=len(raw))


# -- a whole delivery with one mutated attestation -------------------------------


@functools.cache
def _sample_digests() -> Hasher:
    measured = measure(SAMPLE_DELIVERY)
    cache: dict[tuple[str, tuple[str, ...]], ComponentDigest] = {}

    def hasher(paths: list[str], algorithms: list[str]) -> list[ComponentDigest]:
        missing = [p for p in paths if (p, tuple(algorithms)) not in cache]
        for p, d in zip(missing, measured(missing, algorithms), strict=True):
            cache[p, tuple(algorithms)] = d
        return [cache[p, tuple(algorithms)] for p in paths]

    return hasher  # type: ignore[return-value]


def _evaluate(name: str, raw: bytes) -> None:
    delivery = load_delivery(SAMPLE_DELIVERY)
    mutant = load_signed_document(raw, file=f"attestations/{name}")
    documents = tuple(
        mutant if d.file == f"attestations/{name}" else d for d in delivery.documents
    )
    report = evaluate_delivery(
        replace(delivery, documents=documents),
        seeds.policy(),
        at=SAMPLE_AT,
        time_source="--at",
        hasher=_sample_digests(),
    )
    report.to_dict()


@given(_DOCUMENT.flatmap(lambda n: _bundle_mutants(n).map(lambda raw: (n, raw))))
@example(
    mutant=(
        seeds.BUNDLE_FILES[0],
        _with_timestamp(
            seeds.BUNDLE_FILES[0], seeds.timestamp_with_boolean_signer_cn()
        ),
    )
)
def test_delivery_with_a_mutated_attestation(mutant: tuple[str, bytes]) -> None:
    name, raw = mutant
    parses(_evaluate, name, raw, input_size=len(raw))


# -- Sigstore keyless bundles (parsed by sigstore-models, verified by sigstore) ----

_ASSETS = Path(__file__).resolve().parents[1] / "assets" / "sigstore"
_STAGING = KeylessTrust(
    trusted_root=(
        _ASSETS / "trust-roots" / "staging" / "trusted_root.json"
    ).read_bytes()
)
_ARTIFACT = _ASSETS / "bundles" / "bundle.txt"
_ARTIFACT_BUNDLE = (_ASSETS / "bundles" / "bundle.txt.sigstore").read_bytes()
_DSSE_BUNDLE = (
    _ASSETS / "bundles" / "a.dsse.staging-rekor-v2.txt.sigstore.json"
).read_bytes()
_ARTIFACT_SIGNER = KeylessSigner(
    identity="a@tny.town", issuer="https://github.com/login/oauth"
)
_DSSE_SIGNER = KeylessSigner(
    identity="https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
    issuer="https://token.actions.githubusercontent.com",
)


def warm_up() -> None:
    """Pay one-time costs (imports, trusted-root parsing) outside the deadline."""
    _evaluate(seeds.BUNDLE_FILES[0], seeds.bundle_bytes(seeds.BUNDLE_FILES[0]))
    for raw, verify in (
        (_ARTIFACT_BUNDLE, _verify_artifact),
        (_DSSE_BUNDLE, _verify_statement),
    ):
        parses(verify, raw)


def _keyless_mutants(raw: bytes) -> st.SearchStrategy[bytes]:
    return mixed(raw, lambda _: json_documents(json.loads(raw)))


def _verify_artifact(raw: bytes) -> None:
    verify_artifact_bundle(
        raw, _ARTIFACT.read_bytes(), trust=_STAGING, signer=_ARTIFACT_SIGNER
    )


def _verify_statement(raw: bytes) -> None:
    verify_statement_bundle(raw, trust=_STAGING, signer=_DSSE_SIGNER)


@given(_keyless_mutants(_ARTIFACT_BUNDLE))
def test_keyless_artifact_bundle(raw: bytes) -> None:
    parses(_verify_artifact, raw, input_size=len(raw))


@given(_keyless_mutants(_DSSE_BUNDLE))
def test_keyless_statement_bundle(raw: bytes) -> None:
    parses(_verify_statement, raw, input_size=len(raw))


@pytest.fixture(autouse=True, scope="module")
def _warm_up() -> None:
    warm_up()
