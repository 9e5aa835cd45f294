"""Tests for DSSE envelopes, Sigstore bundles and reading signed documents."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from sigstore_models.bundle.v1 import Bundle as SigstoreBundle

from tests import builders
from tests.unit.models._support import (
    DELETE,
    Edit,
    check_error,
    mutated,
)
from vendorproof._internal import crypto
from vendorproof._internal.jsonio import dump_json
from vendorproof.errors import InvalidInputError
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models.bundle import Bundle, BundleVersion, build_bundle
from vendorproof.models.documents import load_signed_document
from vendorproof.models.envelope import Envelope, Signature, pae
from vendorproof.models.manifest import MANIFEST_PREDICATE
from vendorproof.models.statement import PAYLOAD_TYPE

ATTESTATIONS = builders.SAMPLE_DELIVERY / "attestations"
MANIFEST_BUNDLE = ATTESTATIONS / "manifest.sigstore.json"  # v0.2, chain
CERTIFICATION_BUNDLE = ATTESTATIONS / "certification-nesas.sigstore.json"  # v0.3
DECLARATION_BUNDLE = ATTESTATIONS / "declaration.sigstore.json"  # v0.2, chain
SIGSTORE_BUNDLES = (
    Path(__file__).resolve().parents[2] / "assets" / "sigstore" / "bundles"
)

V02 = "application/vnd.dev.sigstore.bundle+json;version=0.2"
V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _json(path: Path) -> dict[str, Any]:
    return builders.bundle_json(path)


def _raw(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode("utf-8")


def _manifest() -> dict[str, Any]:
    return builders.manifest_statement(builders.FILES, kinds=builders.KINDS)


# ---------------------------------------------------------------------------- PAE


def test_pae_matches_the_dsse_spec_vector() -> None:
    # DSSE protocol.md test vector.
    assert (
        pae("http://example.com/HelloWorld", b"hello world")
        == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


@pytest.mark.parametrize(
    ("payload_type", "payload", "expected"),
    [
        pytest.param("", b"", b"DSSEv1 0  0 ", id="empty"),
        # Lengths count UTF-8 bytes, not characters.
        pytest.param("\u00e4", b"x", b"DSSEv1 2 \xc3\xa4 1 x", id="utf8-type-length"),
        pytest.param(
            "t", b"a b\n\x00c", b"DSSEv1 1 t 6 a b\n\x00c", id="binary-payload"
        ),
        pytest.param(
            PAYLOAD_TYPE,
            b"{}",
            b"DSSEv1 28 application/vnd.in-toto+json 2 {}",
            id="in-toto",
        ),
    ],
)
def test_pae_encodes_lengths_in_bytes(
    payload_type: str, payload: bytes, expected: bytes
) -> None:
    assert pae(payload_type, payload) == expected


def test_envelope_pae_covers_payload_type_and_payload() -> None:
    envelope = Envelope(
        payload_type="http://example.com/HelloWorld",
        payload=b"hello world",
        signatures=(Signature(sig=b"s"),),
    )
    assert envelope.pae() == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"


# ----------------------------------------------------------------------- Envelope

ENVELOPE: dict[str, Any] = {
    "payload": _b64(b'{"hello": "world"}'),
    "payloadType": PAYLOAD_TYPE,
    "signatures": [{"sig": _b64(b"\x30\x44signature"), "keyid": "key-1"}],
}


def test_envelope_parses_and_round_trips() -> None:
    envelope = Envelope.from_dict(ENVELOPE)
    assert envelope.payload == b'{"hello": "world"}'
    assert envelope.payload_type == PAYLOAD_TYPE
    assert envelope.signatures == (Signature(sig=b"\x30\x44signature", keyid="key-1"),)
    assert envelope.to_dict() == ENVELOPE


def test_envelope_keyid_is_optional() -> None:
    doc = mutated(ENVELOPE, (("signatures", 0, "keyid"), DELETE))
    envelope = Envelope.from_dict(doc)
    assert envelope.signatures[0].keyid == ""
    assert envelope.to_dict() == doc


def test_envelope_accepts_url_safe_base64() -> None:
    # protobuf JSON (Sigstore bundles) and DSSE allow the URL-safe alphabet.
    payload = b"\xfb\xff\xfe payload"
    url_safe = base64.urlsafe_b64encode(payload).decode()
    assert "-" in url_safe or "_" in url_safe
    envelope = Envelope.from_dict(mutated(ENVELOPE, (("payload",), url_safe)))
    assert envelope.payload == payload


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("QQ", r"length 2 is not a multiple of 4", id="missing-padding"),
        pytest.param("QQ=", r"length 3 is not a multiple of 4", id="short-padding"),
        pytest.param("QQ===", r"length 5 is not a multiple of 4", id="excess-padding"),
        pytest.param("QQ==QQ==", r"^invalid base64: ", id="inner-padding"),
        pytest.param("QUJD====", r"not the canonical encoding", id="padding-block"),
        pytest.param("QR==", r"not the canonical encoding", id="trailing-bits"),
        pytest.param("QUJ=", r"not the canonical encoding", id="trailing-bits-one"),
        pytest.param("+_8=", r"mixes two alphabets", id="mixed-alphabets"),
        pytest.param("QUJD\n", r"length 5", id="newline"),
        pytest.param("QU JD", r"length 5", id="space"),
        pytest.param("QU\u00e9D", r"invalid base64", id="non-ascii"),
        pytest.param("QUJ.", r"invalid base64", id="bad-character"),
        pytest.param("-_8", r"length 3", id="url-safe-unpadded"),
    ],
)
def test_envelope_refuses_non_canonical_base64(text: str, message: str) -> None:
    # Regression (issue 9, item 11): padding was added or ignored, so one payload
    # had many accepted spellings.
    with pytest.raises(InvalidInputError) as info:
        Envelope.from_dict(mutated(ENVELOPE, (("payload",), text)))
    assert info.value.path == "payload"
    assert re.search(message, info.value.message), info.value.message


def test_envelope_ignores_unknown_fields() -> None:
    doc = mutated(ENVELOPE, (("extension",), {"x": 1}))
    assert Envelope.from_dict(doc).payload == b'{"hello": "world"}'


def test_envelope_accepts_exactly_max_signatures() -> None:
    sigs = [{"sig": _b64(b"one")}, {"sig": _b64(b"two")}]
    envelope = Envelope.from_dict(
        mutated(ENVELOPE, (("signatures",), sigs)), limits=Limits(max_signatures=2)
    )
    assert [s.sig for s in envelope.signatures] == [b"one", b"two"]


@pytest.mark.parametrize(
    ("edits", "limits", "path", "message"),
    [
        pytest.param(
            [(("payload",), DELETE)],
            None,
            "payload",
            r"^required field is missing$",
            id="payload-missing",
        ),
        pytest.param(
            [(("payload",), 12)],
            None,
            "payload",
            r"^expected string, got integer$",
            id="payload-not-a-string",
        ),
        pytest.param(
            [(("payload",), "not base64!")],
            None,
            "payload",
            r"^invalid base64",
            id="payload-garbage",
        ),
        pytest.param(
            [(("payload",), "aGVsbG8gd29y\nbGQ=")],
            None,
            "payload",
            r"^invalid base64",
            id="payload-embedded-newline",
        ),
        pytest.param(
            [(("payload",), "a")],
            None,
            "payload",
            r"^invalid base64",
            id="payload-impossible-length",
        ),
        pytest.param(
            [(("payloadType",), DELETE)],
            None,
            "payloadType",
            r"^required field is missing$",
            id="payload-type-missing",
        ),
        pytest.param(
            [(("payloadType",), "")],
            None,
            "payloadType",
            r"^must not be empty$",
            id="payload-type-empty",
        ),
        pytest.param(
            [(("signatures",), DELETE)],
            None,
            "signatures",
            r"^required field is missing$",
            id="signatures-missing",
        ),
        pytest.param(
            [(("signatures",), [])],
            None,
            "signatures",
            r"^must not be empty$",
            id="signatures-empty",
        ),
        pytest.param(
            [(("signatures",), {"sig": _b64(b"s")})],
            None,
            "signatures",
            r"^expected array, got object$",
            id="signatures-not-a-list",
        ),
        pytest.param(
            [(("signatures", 1), {"sig": _b64(b"s")})],
            Limits(max_signatures=1),
            "signatures",
            r"^more than 1 entries$",
            id="too-many-signatures",
        ),
        pytest.param(
            [(("signatures", 0), _b64(b"s"))],
            None,
            "signatures[0]",
            r"^expected object, got string$",
            id="signature-not-an-object",
        ),
        pytest.param(
            [(("signatures", 0, "sig"), DELETE)],
            None,
            "signatures[0].sig",
            r"^required field is missing$",
            id="sig-missing",
        ),
        pytest.param(
            [(("signatures", 0, "sig"), "")],
            None,
            "signatures[0].sig",
            r"^empty signature$",
            id="sig-empty",
        ),
        pytest.param(
            [(("signatures", 0, "sig"), "%%%%")],
            None,
            "signatures[0].sig",
            r"^invalid base64",
            id="sig-garbage",
        ),
        pytest.param(
            [(("signatures", 1), {"sig": "@@"})],
            None,
            "signatures[1].sig",
            r"^invalid base64",
            id="second-sig-garbage",
        ),
        pytest.param(
            [(("signatures", 0, "keyid"), 7)],
            None,
            "signatures[0].keyid",
            r"^expected string, got integer$",
            id="keyid-not-a-string",
        ),
    ],
)
def test_envelope_rejects(
    edits: list[Edit], limits: Limits | None, path: str, message: str
) -> None:
    doc = mutated(ENVELOPE, *edits)
    with pytest.raises(InvalidInputError) as excinfo:
        Envelope.from_dict(doc, limits=limits or DEFAULT_LIMITS)
    check_error(excinfo.value, path=path, message=message)


# --------------------------------------------------------------- Bundle: accepted


def test_bundle_v02_with_chain() -> None:
    raw = MANIFEST_BUNDLE.read_bytes()
    bundle = Bundle.from_bytes(raw)
    assert bundle.version is BundleVersion.V0_2
    assert bundle.raw == raw
    assert bundle.leaf == builders.issued("vendor-a", "signing").cert
    assert bundle.intermediates == (builders.issued("vendor-a", "intermediate").cert,)
    assert bundle.public_key_hint is None
    assert len(bundle.timestamps) == 1  # the sample manifest is timestamped
    assert bundle.tlog_entries == ()
    assert bundle.message_signature is None
    assert bundle.envelope is not None
    assert bundle.envelope.payload_type == PAYLOAD_TYPE
    assert len(bundle.envelope.signatures) == 1


def test_bundle_v03_with_certificate() -> None:
    bundle = Bundle.from_bytes(CERTIFICATION_BUNDLE.read_bytes())
    assert bundle.version is BundleVersion.V0_3
    assert bundle.certificates == (builders.issued("certbody", "signing").cert,)
    assert bundle.intermediates == ()
    assert bundle.public_key_hint is None
    assert bundle.envelope is not None


def test_bundle_v03_with_public_key_hint() -> None:
    signer = builders.vendor_a_raw_key()
    bundle = Bundle.from_bytes(signer.sign(_manifest()))
    assert bundle.version is BundleVersion.V0_3
    assert bundle.certificates == ()
    assert bundle.leaf is None
    assert bundle.intermediates == ()
    assert bundle.public_key_hint == crypto.key_id(
        crypto.as_public_key(signer.key.public_key())
    )


def test_bundle_public_key_without_hint_gives_empty_hint() -> None:
    doc = _json(CERTIFICATION_BUNDLE)
    doc["verificationMaterial"].pop("certificate")
    doc["verificationMaterial"]["publicKey"] = {}
    assert Bundle.from_bytes(_raw(doc)).public_key_hint == ""


def test_bundle_accepts_legacy_v03_media_type() -> None:
    doc = mutated(
        _json(CERTIFICATION_BUNDLE),
        (("mediaType",), "application/vnd.dev.sigstore.bundle+json;version=0.3"),
    )
    assert Bundle.from_bytes(_raw(doc)).version is BundleVersion.V0_3


def test_bundle_null_material_counts_as_absent() -> None:
    # protobuf JSON: null is the default value, i.e. the field is not set.
    doc = mutated(
        _json(MANIFEST_BUNDLE),
        (("verificationMaterial", "certificate"), None),
        (("verificationMaterial", "publicKey"), None),
    )
    assert len(Bundle.from_bytes(_raw(doc)).certificates) == 2


def test_bundle_ignores_unknown_fields() -> None:
    doc = mutated(
        _json(MANIFEST_BUNDLE),
        (("futureField",), [1, 2]),
        (("verificationMaterial", "futureMaterial"), {"a": 1}),
    )
    assert Bundle.from_bytes(_raw(doc)).version is BundleVersion.V0_2


def test_bundle_parses_timestamps_and_tlog_entries() -> None:
    doc = mutated(
        _json(CERTIFICATION_BUNDLE),
        (
            ("verificationMaterial", "timestampVerificationData"),
            {"rfc3161Timestamps": [{"signedTimestamp": _b64(b"\x30\x03tsr")}]},
        ),
        (("verificationMaterial", "tlogEntries"), [{"logIndex": "1"}]),
    )
    bundle = Bundle.from_bytes(_raw(doc))
    assert bundle.timestamps == (b"\x30\x03tsr",)
    assert bundle.tlog_entries == ({"logIndex": "1"},)


def test_bundle_timestamp_verification_data_may_be_empty() -> None:
    doc = mutated(
        _json(CERTIFICATION_BUNDLE),
        (("verificationMaterial", "timestampVerificationData"), {}),
    )
    assert Bundle.from_bytes(_raw(doc)).timestamps == ()


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(MANIFEST_BUNDLE, id="v0.2-chain"),
        pytest.param(CERTIFICATION_BUNDLE, id="v0.3-certificate"),
        pytest.param(DECLARATION_BUNDLE, id="v0.2-declaration"),
    ],
)
def test_build_bundle_reproduces_fixture_bundles(path: Path) -> None:
    bundle = Bundle.from_bytes(path.read_bytes())
    assert bundle.envelope is not None
    rebuilt = build_bundle(
        bundle.envelope,
        certificates=bundle.certificates,
        public_key_hint=bundle.public_key_hint,
        timestamps=bundle.timestamps,
    )
    assert rebuilt == _json(path)


# --------------------------------------------------------------- Bundle: rejected


_JUNK = _b64(b"this is definitely not a DER certificate")
_PEM_AS_DER = _b64(
    builders.issued("vendor-a", "signing").cert.public_bytes(Encoding.PEM)
)
_TVD = ("verificationMaterial", "timestampVerificationData")


@pytest.mark.parametrize(
    ("source", "edits", "limits", "path", "message"),
    [
        pytest.param(
            MANIFEST_BUNDLE,
            [(("mediaType",), "application/vnd.dev.sigstore.bundle+json;version=0.1")],
            None,
            "mediaType",
            r"^unsupported bundle media type "
            r"'application/vnd.dev.sigstore.bundle\+json;version=0.1'$",
            id="media-type-v0.1",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [(("mediaType",), "application/json")],
            None,
            "mediaType",
            r"^unsupported bundle media type 'application/json'$",
            id="media-type-unknown",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [(("mediaType",), DELETE)],
            None,
            "mediaType",
            r"^required field is missing$",
            id="media-type-missing",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [(("mediaType",), 3)],
            None,
            "mediaType",
            r"^expected string, got integer$",
            id="media-type-not-a-string",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [(("mediaType",), V03)],
            None,
            "verificationMaterial.x509CertificateChain",
            r"^bundle v0.3 must not carry x509CertificateChain \(use v0.2\)$",
            id="v0.3-with-chain",
        ),
        pytest.param(
            CERTIFICATION_BUNDLE,
            [(("mediaType",), V02)],
            None,
            "verificationMaterial.certificate",
            r"^a single 'certificate' requires bundle v0.3$",
            id="v0.2-with-certificate",
        ),
        pytest.param(
            CERTIFICATION_BUNDLE,
            [(("verificationMaterial", "publicKey"), {"hint": "k"})],
            None,
            "verificationMaterial",
            r"^exactly one of publicKey, x509CertificateChain or certificate "
            r"is required, found 2$",
            id="public-key-and-certificate",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [(("verificationMaterial", "publicKey"), {"hint": "k"})],
            None,
            "verificationMaterial",
            r"^exactly one of .* is required, found 2$",
            id="public-key-and-chain",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [
                (
                    ("verificationMaterial", "certificate"),
                    {"rawBytes": "AAAA"},
                ),
            ],
            None,
            "verificationMaterial",
            r"^exactly one of .* is required, found 2$",
            id="certificate-and-chain",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [
                (("verificationMaterial", "publicKey"), {"hint": "k"}),
                (("verificationMaterial", "certificate"), {"rawBytes": "AAAA"}),
            ],
            None,
            "verificationMaterial",
            r"^exactly one of .* is required, found 3$",
            id="all-three-materials",
        ),
        pytest.param(
            CERTIFICATION_BUNDLE,
            [(("verificationMaterial", "certificate"), DELETE)],
            None,
            "verificationMaterial",
            r"^exactly one of publicKey, x509CertificateChain or certificate "
            r"is required, found 0$",
            id="no-material",
        ),
        pytest.param(
            CERTIFICATION_BUNDLE,
            [(("verificationMaterial",), DELETE)],
            None,
            "verificationMaterial",
            r"^required field is missing$",
            id="verification-material-missing",
        ),
        pytest.param(
            CERTIFICATION_BUNDLE,
            [(("verificationMaterial",), [])],
            None,
            "verificationMaterial",
            r"^expected object, got array$",
            id="verification-material-not-an-object",
        ),
        pytest.param(
            CERTIFICATION_BUNDLE,
            [
                (("verificationMaterial", "certificate"), DELETE),
                (("verificationMaterial", "publicKey"), {"hint": 5}),
            ],
            None,
            "verificationMaterial.publicKey.hint",
            r"^expected string, got integer$",
            id="public-key-hint-not-a-string",
        ),
        pytest.param(
            CERTIFICATION_BUNDLE,
            [
                (("verificationMaterial", "certificate"), DELETE),
                (("verificationMaterial", "publicKey"), "k"),
            ],
            None,
            "verificationMaterial.publicKey",
            r"^expected object, got string$",
            id="public-key-not-an-object",
        ),
        pytest.param(
            CERTIFICATION_BUNDLE,
            [(("verificationMaterial", "certificate", "rawBytes"), "***not base64***")],
            None,
            "verificationMaterial.certificate.rawBytes",
            r"^invalid base64",
            id="certificate-garbage-base64",
        ),
        pytest.param(
            CERTIFICATION_BUNDLE,
            [(("verificationMaterial", "certificate", "rawBytes"), _JUNK)],
            None,
            "verificationMaterial.certificate.rawBytes",
            r"^not a DER X.509 certificate",
            id="certificate-not-der",
        ),
        pytest.param(
            CERTIFICATION_BUNDLE,
            [(("verificationMaterial", "certificate", "rawBytes"), _PEM_AS_DER)],
            None,
            "verificationMaterial.certificate.rawBytes",
            r"^not a DER X.509 certificate",
            id="certificate-pem-not-der",
        ),
        pytest.param(
            CERTIFICATION_BUNDLE,
            [(("verificationMaterial", "certificate", "rawBytes"), "")],
            None,
            "verificationMaterial.certificate.rawBytes",
            r"^not a DER X.509 certificate",
            id="certificate-empty",
        ),
        pytest.param(
            CERTIFICATION_BUNDLE,
            [(("verificationMaterial", "certificate", "rawBytes"), DELETE)],
            None,
            "verificationMaterial.certificate.rawBytes",
            r"^required field is missing$",
            id="certificate-raw-bytes-missing",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [
                (
                    ("verificationMaterial", "x509CertificateChain", "certificates", 1),
                    {"rawBytes": _JUNK},
                ),
            ],
            None,
            "verificationMaterial.x509CertificateChain.certificates[1].rawBytes",
            r"^not a DER X.509 certificate",
            id="chain-entry-not-der",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [
                (
                    ("verificationMaterial", "x509CertificateChain", "certificates"),
                    [],
                ),
            ],
            None,
            "verificationMaterial.x509CertificateChain.certificates",
            r"^must not be empty$",
            id="chain-empty",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [],
            Limits(max_certificates=1),
            "verificationMaterial.x509CertificateChain.certificates",
            r"^more than 1 entries$",
            id="chain-too-long",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [(("verificationMaterial", "x509CertificateChain"), [])],
            None,
            "verificationMaterial.x509CertificateChain",
            r"^expected object, got array$",
            id="chain-not-an-object",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [(("messageSignature",), {"signature": _b64(b"sig")})],
            None,
            "bundle",
            r"^exactly one of dsseEnvelope or messageSignature is required$",
            id="dsse-and-message-signature",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [(("dsseEnvelope",), DELETE)],
            None,
            "bundle",
            r"^exactly one of dsseEnvelope or messageSignature is required$",
            id="neither-dsse-nor-message-signature",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [(("dsseEnvelope",), "envelope")],
            None,
            "dsseEnvelope",
            r"^expected object, got string$",
            id="dsse-not-an-object",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [(("dsseEnvelope", "payload"), "!!")],
            None,
            "dsseEnvelope.payload",
            r"^invalid base64",
            id="dsse-payload-garbage",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [(("dsseEnvelope", "signatures"), [])],
            None,
            "dsseEnvelope.signatures",
            r"^must not be empty$",
            id="dsse-no-signatures",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [(("dsseEnvelope", "signatures", 0, "sig"), "")],
            None,
            "dsseEnvelope.signatures[0].sig",
            r"^empty signature$",
            id="dsse-empty-sig",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [(("messageSignature",), []), (("dsseEnvelope",), DELETE)],
            None,
            "messageSignature",
            r"^expected object, got array$",
            id="message-signature-not-an-object",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [(_TVD, {"rfc3161Timestamps": [{"signedTimestamp": ""}]})],
            None,
            "verificationMaterial.timestampVerificationData."
            "rfc3161Timestamps[0].signedTimestamp",
            r"^empty timestamp$",
            id="timestamp-empty",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [(_TVD, {"rfc3161Timestamps": [{"signedTimestamp": "MII~garbage"}]})],
            None,
            "verificationMaterial.timestampVerificationData."
            "rfc3161Timestamps[0].signedTimestamp",
            r"^invalid base64",
            id="timestamp-garbage",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [(_TVD, {"rfc3161Timestamps": [{}]})],
            None,
            "verificationMaterial.timestampVerificationData."
            "rfc3161Timestamps[0].signedTimestamp",
            r"^required field is missing$",
            id="timestamp-missing",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [(_TVD, {"rfc3161Timestamps": {"signedTimestamp": "AAAA"}})],
            None,
            "verificationMaterial.timestampVerificationData.rfc3161Timestamps",
            r"^expected array, got object$",
            id="timestamps-not-a-list",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [(_TVD, [])],
            None,
            "verificationMaterial.timestampVerificationData",
            r"^expected object, got array$",
            id="timestamp-data-not-an-object",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [
                (
                    _TVD,
                    {
                        "rfc3161Timestamps": [
                            {"signedTimestamp": "AAAA"},
                            {"signedTimestamp": "AAAA"},
                        ]
                    },
                ),
            ],
            Limits(max_signatures=1),
            "verificationMaterial.timestampVerificationData.rfc3161Timestamps",
            r"^more than 1 entries$",
            id="too-many-timestamps",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [(("verificationMaterial", "tlogEntries"), {})],
            None,
            "verificationMaterial.tlogEntries",
            r"^expected array, got object$",
            id="tlog-entries-not-a-list",
        ),
        pytest.param(
            MANIFEST_BUNDLE,
            [(("verificationMaterial", "tlogEntries"), ["entry"])],
            None,
            "verificationMaterial.tlogEntries[0]",
            r"^expected object, got string$",
            id="tlog-entry-not-an-object",
        ),
    ],
)
def test_bundle_rejects(
    source: Path,
    edits: list[Edit],
    limits: Limits | None,
    path: str,
    message: str,
) -> None:
    raw = _raw(mutated(_json(source), *edits))
    with pytest.raises(InvalidInputError) as excinfo:
        Bundle.from_bytes(raw, limits=limits or DEFAULT_LIMITS)
    check_error(excinfo.value, path=path, message=message)


@pytest.mark.parametrize(
    ("raw", "path", "message"),
    [
        pytest.param(b"[]", "bundle", r"^expected object, got array$", id="array"),
        pytest.param(b"{", None, r"^invalid JSON", id="truncated"),
        pytest.param(b"\x00", None, r"^invalid JSON", id="binary"),
        pytest.param(b"[" * 10**5, None, r"^nesting deeper than", id="deep"),
    ],
)
def test_bundle_rejects_malformed_json(
    raw: bytes, path: str | None, message: str
) -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        Bundle.from_bytes(raw)
    check_error(excinfo.value, path=path, message=message)


def test_bundle_rejects_oversized_document() -> None:
    raw = MANIFEST_BUNDLE.read_bytes()
    with pytest.raises(InvalidInputError) as excinfo:
        Bundle.from_bytes(raw, limits=Limits(max_document_bytes=len(raw) - 1))
    check_error(excinfo.value, path=None, message=r"^document too large")


# ------------------------------------------------------ interop: sigstore-models

_Sign = Callable[[], builders.Signer]


@pytest.mark.parametrize(
    ("signer", "media_type", "certificates", "has_hint"),
    [
        pytest.param(builders.vendor_a, V02, 2, False, id="v0.2-chain"),
        pytest.param(builders.certbody, V03, 1, False, id="v0.3-certificate"),
        pytest.param(builders.vendor_a_raw_key, V03, 0, True, id="v0.3-public-key"),
    ],
)
def test_signed_bundles_parse_with_sigstore_models(
    signer: _Sign, media_type: str, certificates: int, has_hint: bool
) -> None:
    raw = signer().sign(_manifest())
    theirs = SigstoreBundle.from_json(raw)
    ours = Bundle.from_bytes(raw)
    assert theirs.media_type == media_type
    assert ours.version.value == media_type
    assert theirs.dsse_envelope is not None
    assert ours.envelope is not None
    assert theirs.dsse_envelope.payload == ours.envelope.payload
    assert theirs.dsse_envelope.payload_type == ours.envelope.payload_type
    assert [s.sig for s in theirs.dsse_envelope.signatures] == [
        s.sig for s in ours.envelope.signatures
    ]
    material = theirs.verification_material
    assert material.tlog_entries == []
    ders = [c.public_bytes(Encoding.DER) for c in ours.certificates]
    assert len(ders) == certificates
    if certificates > 1:
        assert material.x509_certificate_chain is not None
        assert [
            c.raw_bytes for c in material.x509_certificate_chain.certificates
        ] == ders
        assert material.certificate is None
    elif certificates == 1:
        assert material.certificate is not None
        assert [material.certificate.raw_bytes] == ders
        assert material.x509_certificate_chain is None
    if has_hint:
        assert material.public_key is not None
        assert material.public_key.hint == ours.public_key_hint
    else:
        assert material.public_key is None


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(MANIFEST_BUNDLE, id="v0.2-chain"),
        pytest.param(CERTIFICATION_BUNDLE, id="v0.3-certificate"),
    ],
)
def test_rebuilt_bundles_with_timestamps_parse_with_sigstore_models(
    path: Path,
) -> None:
    bundle = Bundle.from_bytes(path.read_bytes())
    assert bundle.envelope is not None
    stamps = (b"\x30\x82first", b"\x30\x82second")
    raw = dump_json(
        build_bundle(
            bundle.envelope, certificates=bundle.certificates, timestamps=stamps
        )
    )
    theirs = SigstoreBundle.from_json(raw)
    tvd = theirs.verification_material.timestamp_verification_data
    assert tvd is not None
    assert [t.signed_timestamp for t in tvd.rfc3161_timestamps] == list(stamps)
    assert Bundle.from_bytes(raw).timestamps == stamps


def test_fixture_bundles_parse_with_sigstore_models() -> None:
    for path in (MANIFEST_BUNDLE, CERTIFICATION_BUNDLE, DECLARATION_BUNDLE):
        theirs = SigstoreBundle.from_json(path.read_bytes())
        assert theirs.dsse_envelope is not None
        assert theirs.dsse_envelope.payload_type == PAYLOAD_TYPE


# ------------------------------------------------------- interop: sigstore-python


def _sigstore_asset(name: str) -> bytes:
    path = SIGSTORE_BUNDLES / name
    return path.read_bytes()


@pytest.mark.parametrize(
    ("name", "version", "dsse", "timestamps"),
    [
        pytest.param(
            "a.dsse.staging-rekor-v2.txt.sigstore.json",
            BundleVersion.V0_3,
            True,
            1,
            id="dsse-staging-rekor-v2",
        ),
        pytest.param(
            "staging-rekor-v2.txt.sigstore.json",
            BundleVersion.V0_3,
            False,
            1,
            id="message-staging-rekor-v2",
        ),
        pytest.param(
            "bundle_v3_no_signed_time.txt.sigstore.json",
            BundleVersion.V0_3,
            False,
            0,
            id="v0.3-no-signed-time",
        ),
        pytest.param("bundle_v3.txt.sigstore", BundleVersion.V0_3, False, 0, id="v0.3"),
        pytest.param(
            "bundle_v3_alt.txt.sigstore",
            BundleVersion.V0_3,
            False,
            0,
            id="v0.3-legacy-media-type",
        ),
        pytest.param(
            "bundle_v3_github.whl.sigstore",
            BundleVersion.V0_2,
            False,
            0,
            id="v0.2-github",
        ),
        pytest.param(
            "tsa/bundle.txt.sigstore", BundleVersion.V0_3, False, 2, id="tsa-v0.3"
        ),
    ],
)
def test_sigstore_python_bundles_parse(
    name: str, version: BundleVersion, dsse: bool, timestamps: int
) -> None:
    raw = _sigstore_asset(name)
    bundle = Bundle.from_bytes(raw)
    theirs = SigstoreBundle.from_json(raw)
    assert bundle.version is version
    assert bundle.raw == raw
    assert bundle.leaf is not None  # keyless: a Fulcio certificate
    assert len(bundle.tlog_entries) == len(theirs.verification_material.tlog_entries)
    assert len(bundle.tlog_entries) >= 1
    assert len(bundle.timestamps) == timestamps
    assert (bundle.envelope is not None) is dsse
    assert (bundle.message_signature is not None) is (not dsse)
    if theirs.verification_material.certificate is not None:
        leaf_der = theirs.verification_material.certificate.raw_bytes
    else:
        chain = theirs.verification_material.x509_certificate_chain
        assert chain is not None
        leaf_der = chain.certificates[0].raw_bytes
    assert bundle.leaf.public_bytes(Encoding.DER) == leaf_der


def test_sigstore_python_dsse_bundle_loads_as_signed_document() -> None:
    name = "a.dsse.staging-rekor-v2.txt.sigstore.json"
    doc = load_signed_document(_sigstore_asset(name), file=name)
    assert doc.statement.predicate_type == "https://slsa.dev/provenance/v1"
    assert len(doc.certificates) == 1
    assert len(doc.timestamps) == 1


@pytest.mark.parametrize(
    ("name", "path", "message"),
    [
        pytest.param(
            "bundle.txt.sigstore",
            "mediaType",
            r"^unsupported bundle media type "
            r"'application/vnd.dev.sigstore.bundle\+json;version=0.1'$",
            id="v0.1",
        ),
        pytest.param(
            "bundle_invalid_version.txt.sigstore",
            "mediaType",
            r"^unsupported bundle media type 'this is completely wrong'$",
            id="invalid-version",
        ),
        pytest.param(
            "tsa/bundle.many_timestamp.sigstore",
            "verificationMaterial.timestampVerificationData.rfc3161Timestamps",
            r"^more than 16 entries$",
            id="many-timestamps",
        ),
    ],
)
def test_sigstore_python_bundles_rejected(name: str, path: str, message: str) -> None:
    raw = _sigstore_asset(name)
    with pytest.raises(InvalidInputError) as excinfo:
        Bundle.from_bytes(raw)
    check_error(excinfo.value, path=path, message=message)


# ------------------------------------------------------------ load_signed_document


def test_load_signed_document_reads_a_bundle() -> None:
    raw = MANIFEST_BUNDLE.read_bytes()
    doc = load_signed_document(raw, file="manifest.sigstore.json")
    assert doc.file == "manifest.sigstore.json"
    assert doc.raw == raw
    assert doc.statement.predicate_type == MANIFEST_PREDICATE
    assert doc.statement.raw == doc.envelope.payload
    assert len(doc.certificates) == 2
    assert doc.public_key_hint is None
    assert len(doc.timestamps) == 1


def test_load_signed_document_reads_a_bare_dsse_envelope() -> None:
    bundle = _json(MANIFEST_BUNDLE)
    raw = dump_json(bundle["dsseEnvelope"])
    doc = load_signed_document(raw, file="manifest.dsse.json")
    assert doc.statement.predicate_type == MANIFEST_PREDICATE
    assert doc.certificates == ()
    assert doc.public_key_hint is None
    assert doc.timestamps == ()
    assert doc.envelope.to_dict() == bundle["dsseEnvelope"]


def test_load_signed_document_keeps_public_key_hint() -> None:
    signer = builders.vendor_a_raw_key()
    doc = load_signed_document(signer.sign(_manifest()), file="m.sigstore.json")
    assert doc.public_key_hint
    assert doc.certificates == ()


def _payload(statement: bytes) -> str:
    return _b64(statement)


_MANIFEST_JSON = _json(MANIFEST_BUNDLE)
_ENVELOPE_JSON: dict[str, Any] = _MANIFEST_JSON["dsseEnvelope"]
_STATEMENT = json.loads(base64.b64decode(_ENVELOPE_JSON["payload"]))


@pytest.mark.parametrize(
    ("doc", "path", "message"),
    [
        pytest.param(
            mutated(_MANIFEST_JSON, (("dsseEnvelope", "payloadType"), "text/plain")),
            "dsseEnvelope.payloadType",
            r"^unsupported payloadType 'text/plain' "
            r"\(expected application/vnd.in-toto\+json\)$",
            id="bundle-wrong-payload-type",
        ),
        pytest.param(
            mutated(_ENVELOPE_JSON, (("payloadType",), "application/json")),
            "payloadType",
            r"^unsupported payloadType 'application/json'",
            id="dsse-wrong-payload-type",
        ),
        pytest.param(
            {"payload": "e30=", "signatures": []},
            None,
            r"^neither a Sigstore bundle \(mediaType\) nor a DSSE envelope "
            r"\(payloadType\)$",
            id="neither",
        ),
        pytest.param(
            {"_type": "https://in-toto.io/Statement/v1"},
            None,
            r"^neither a Sigstore bundle",
            id="plain-statement",
        ),
        pytest.param(
            mutated(
                _MANIFEST_JSON,
                (("dsseEnvelope", "payload"), _payload(b"plain text, not JSON")),
            ),
            "dsseEnvelope.payload",
            r"^invalid JSON",
            id="bundle-payload-not-json",
        ),
        pytest.param(
            mutated(
                _MANIFEST_JSON,
                (
                    ("dsseEnvelope", "payload"),
                    _payload(
                        json.dumps(mutated(_STATEMENT, (("_type",), "x"))).encode()
                    ),
                ),
            ),
            "dsseEnvelope.payload._type",
            r"^unsupported statement type 'x'",
            id="bundle-payload-wrong-statement-type",
        ),
        pytest.param(
            mutated(
                _MANIFEST_JSON,
                (
                    ("dsseEnvelope", "payload"),
                    _payload(
                        json.dumps(
                            mutated(
                                _STATEMENT, (("subject", 0, "digest", "sha256"), "X")
                            )
                        ).encode()
                    ),
                ),
            ),
            "dsseEnvelope.payload.subject[0].digest.sha256",
            r"^not lowercase hexadecimal$",
            id="bundle-payload-bad-digest",
        ),
        pytest.param(
            mutated(_MANIFEST_JSON, (("dsseEnvelope", "payload"), _payload(b"[1]"))),
            "dsseEnvelope.payload.statement",
            r"^expected object, got array$",
            id="bundle-payload-array",
        ),
        pytest.param(
            mutated(_ENVELOPE_JSON, (("payload",), _payload(b"{}"))),
            "payload._type",
            r"^required field is missing$",
            id="dsse-payload-empty-object",
        ),
        pytest.param(
            mutated(_ENVELOPE_JSON, (("payload",), "")),
            "payload",
            r"^invalid JSON",
            id="dsse-payload-empty",
        ),
        pytest.param(
            mutated(_ENVELOPE_JSON, (("signatures",), [])),
            "signatures",
            r"^must not be empty$",
            id="dsse-no-signatures",
        ),
        pytest.param(
            mutated(_MANIFEST_JSON, (("mediaType",), "bogus")),
            "mediaType",
            r"^unsupported bundle media type 'bogus'$",
            id="bundle-bad-media-type",
        ),
        pytest.param(
            mutated(
                _MANIFEST_JSON,
                (("dsseEnvelope",), DELETE),
                (("messageSignature",), {"signature": _b64(b"sig")}),
            ),
            "messageSignature",
            r"^bundle holds a message signature, not a DSSE statement$",
            id="message-signature-bundle",
        ),
    ],
)
def test_load_signed_document_rejects(
    doc: dict[str, Any], path: str | None, message: str
) -> None:
    file = "attestations/x.sigstore.json"
    with pytest.raises(InvalidInputError) as excinfo:
        load_signed_document(_raw(doc), file=file)
    check_error(excinfo.value, path=path, message=message, file=file)


@pytest.mark.parametrize(
    ("raw", "path", "message"),
    [
        pytest.param(b"[]", "document", r"^expected object, got array$", id="array"),
        pytest.param(b"{", None, r"^invalid JSON", id="truncated"),
        pytest.param(b"", None, r"^invalid JSON", id="empty"),
    ],
)
def test_load_signed_document_rejects_malformed_json(
    raw: bytes, path: str | None, message: str
) -> None:
    file = "attestations/x.dsse.json"
    with pytest.raises(InvalidInputError) as excinfo:
        load_signed_document(raw, file=file)
    check_error(excinfo.value, path=path, message=message, file=file)


def test_load_signed_document_applies_limits_to_the_payload() -> None:
    raw = MANIFEST_BUNDLE.read_bytes()
    with pytest.raises(InvalidInputError) as excinfo:
        load_signed_document(raw, file="m.json", limits=Limits(max_subjects=1))
    check_error(
        excinfo.value,
        path="dsseEnvelope.payload.subject",
        message=r"^more than 1 entries$",
        file="m.json",
    )
