"""Property tests: certificates, CRLs and RFC 3161 tokens.

``cryptography`` parses some certificate fields lazily, so a certificate that loads
may still fail when a field is first read. The targets therefore run every consumer
the project has for the loaded object (names, algorithms, path validation, identity
matching, revocation), not just the loader. Mutants of TBS structures are signed again
with the issuer's key, so they get past signature checks to the fields behind them.
"""

from __future__ import annotations

import base64
import functools
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import example, given
from hypothesis import strategies as st

from tests.builders import KEYS, SAMPLE_AT
from tests.property import _seeds as seeds
from tests.property._harness import parses
from tests.property._mutate import der_documents, mixed, resigned_der
from vendorproof._internal import crypto
from vendorproof._internal.pem import load_certificates, load_crl
from vendorproof._internal.tsa import parse_timestamp, verify_timestamp
from vendorproof.errors import VerificationError
from vendorproof.models.documents import load_signed_document
from vendorproof.models.policy import RevocationMode
from vendorproof.verify.revocation import verify_revocation
from vendorproof.verify.signer import check_signer
from vendorproof.verify.x509 import (
    VerifiedChain,
    describe,
    fingerprint,
    verify_certificate_algorithms,
    verify_chain,
)
from vendorproof.verify.x509_legacy import verify_legacy_chain


def _sign_as_intermediate(tbs: bytes) -> bytes:
    key = seeds.issuer_key("vendor-a", "intermediate")
    return key.sign(tbs, ec.ECDSA(hashes.SHA256()))


def _pem(der: bytes) -> bytes:
    body = base64.encodebytes(der).replace(b"\n", b"")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return (
        b"-----BEGIN CERTIFICATE-----\n"
        + b"\n".join(lines)
        + b"\n-----END CERTIFICATE-----\n"
    )


def _leaf_mutants() -> st.SearchStrategy[bytes]:
    leaf = seeds.certificate_chain()[0]
    return st.one_of(
        resigned_der(leaf, _sign_as_intermediate),
        resigned_der(leaf, _sign_as_intermediate),
        mixed(leaf, der_documents),
    )


def _certificate_inputs() -> st.SearchStrategy[bytes]:
    chain = seeds.certificate_chain()
    return st.one_of(
        _leaf_mutants(),
        st.sampled_from(chain[1:]).flatmap(lambda seed: mixed(seed, der_documents)),
        _leaf_mutants().map(_pem),
    )


def _use_certificates(raw: bytes) -> None:
    """Load, then read every field the project reads, then validate the path."""
    _, intermediate, root = seeds.certificate_chain()
    certs = load_certificates(raw, file="cert.pem")
    inter = x509.load_der_x509_certificate(intermediate)
    anchor = x509.load_der_x509_certificate(root)
    for cert in certs:
        describe(cert)
        fingerprint(cert)
        verify_certificate_algorithms(cert)
    verify_chain(certs[0], [*certs[1:], inter], [anchor], at=SAMPLE_AT)


# Known crash reproducers (issue 9 item 4), each the committed sample with one edit.
# The country name of the sample leaf as a BOOLEAN instead of a PrintableString:
# the certificate loads, and reading its subject raises ValueError.
_LEAF_BAD_NAME = seeds.certificate_chain()[0].replace(
    b"\x06\x03U\x04\x06\x13\x02DE", b"\x06\x03U\x04\x06\x01\x02DE"
)


def _use_certificates_legacy(raw: bytes) -> None:
    """Load, then validate under the legacy profile (SOL 004 signers), three ways."""
    _, intermediate, root = seeds.certificate_chain()
    certs = load_certificates(raw, file="cert.pem")
    inter = x509.load_der_x509_certificate(intermediate)
    anchor = x509.load_der_x509_certificate(root)
    for roots, pinned in (([anchor], ()), ([anchor], (inter,)), ([certs[0]], ())):
        try:
            verify_legacy_chain(
                certs[0],
                [*certs[1:], inter],
                roots,
                pinned_intermediates=pinned,
                at=SAMPLE_AT,
            )
        except VerificationError:
            continue  # a refusal is a result; the next way still runs


@given(_certificate_inputs())
@example(raw=_LEAF_BAD_NAME)
def test_legacy_chain(raw: bytes) -> None:
    parses(_use_certificates_legacy, raw, input_size=len(raw))


@given(_certificate_inputs())
@example(raw=_LEAF_BAD_NAME)
def test_certificate(raw: bytes) -> None:
    parses(_use_certificates, raw, input_size=len(raw))


def _sign_with_leaf(der: bytes) -> None:
    """The sample manifest bundle, its signing certificate replaced by ``der``."""
    name = seeds.BUNDLE_FILES[0]
    doc = json.loads(json.dumps(seeds.bundle(name)))
    chain = doc["verificationMaterial"]["x509CertificateChain"]["certificates"]
    chain[0]["rawBytes"] = base64.b64encode(der).decode()
    signed = load_signed_document(json.dumps(doc).encode(), file=name)
    policy = seeds.policy()
    check = check_signer(
        signed,
        policy.vendors,
        role="vendor",
        policy=policy,
        at=SAMPLE_AT,
        time_source="--at",
        requirements=(),
    )
    for result in check.checks:
        result.to_dict()


@given(_leaf_mutants())
@example(der=_LEAF_BAD_NAME)
def test_signer_certificate_in_a_bundle(der: bytes) -> None:
    parses(_sign_with_leaf, der, input_size=len(der))


# -- CRLs ---------------------------------------------------------------------------


@functools.cache
def _sample_chain() -> VerifiedChain:
    leaf, intermediate, root = (
        x509.load_der_x509_certificate(d) for d in seeds.certificate_chain()
    )
    return verify_chain(leaf, [intermediate], [root], at=SAMPLE_AT)


def _revocation(raw: bytes) -> None:
    crl = load_crl(raw, file="crl.pem")
    for mode in (RevocationMode.REQUIRE, RevocationMode.IF_AVAILABLE):
        for signed_at in (None, SAMPLE_AT):
            verify_revocation(
                _sample_chain(), [crl], at=SAMPLE_AT, signed_at=signed_at, mode=mode
            )


def _crl_inputs() -> st.SearchStrategy[bytes]:
    seed = seeds.crl_der()
    pem = x509.load_der_x509_crl(seed).public_bytes(serialization.Encoding.PEM)
    return st.one_of(
        resigned_der(seed, _sign_as_intermediate),
        resigned_der(seed, _sign_as_intermediate),
        mixed(seed, der_documents),
        mixed(pem, lambda _: st.nothing()),
    )


def warm_up() -> None:
    """Pay one-time costs (policy, sample chain) outside the deadline."""
    _sample_chain()
    seeds.policy()
    _sign_with_leaf(seeds.certificate_chain()[0])


# The sample CRL with version 0 (v1 is absent, v2 is 1) instead of v2: the loader
# raises cryptography's InvalidVersion, which is not a ValueError.
_CRL_VERSION_0 = seeds.crl_der().replace(b"\x02\x01\x01", b"\x02\x01\x00", 1)


@given(_crl_inputs())
@example(raw=_CRL_VERSION_0)
def test_crl(raw: bytes) -> None:
    parses(_revocation, raw, input_size=len(raw))


# -- RFC 3161 ---------------------------------------------------------------------


def _timestamp(raw: bytes) -> None:
    parse_timestamp(raw)
    tsa_root = seeds.policy().timestamp_authorities[0].anchors
    verify_timestamp(raw, seeds.timestamped_signature(), roots=tsa_root)


@given(mixed(seeds.timestamp_der(), der_documents))
@example(raw=seeds.timestamp_with_boolean_signer_cn())
def test_timestamp(raw: bytes) -> None:
    parses(_timestamp, raw, input_size=len(raw))


@pytest.fixture(autouse=True, scope="module")
def _warm_up() -> None:
    warm_up()


# -- keys (policy publicKeys, operator keys in an audit bundle) ----------------------


def _public_pem(der: bytes) -> bytes:
    body = base64.encodebytes(der)
    return b"-----BEGIN PUBLIC KEY-----\n" + body + b"-----END PUBLIC KEY-----\n"


def _use_public_key(raw: bytes) -> None:
    key = crypto.load_public_key(raw, file="key.pub")
    crypto.algorithm_name(key)
    crypto.key_id(key)
    crypto.verify(key, b"\x30\x06\x02\x01\x01\x02\x01\x01", b"data")


def _public_key_inputs() -> st.SearchStrategy[bytes]:
    pem = (KEYS / "vendor-a" / "release.pub").read_bytes()
    der = serialization.load_pem_public_key(pem).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return st.one_of(
        der_documents(der).map(_public_pem),
        der_documents(der).map(_public_pem),
        mixed(pem, lambda _: st.nothing()),
    )


@given(_public_key_inputs())
def test_public_key(raw: bytes) -> None:
    parses(_use_public_key, raw, input_size=len(raw))
