"""Test helpers: OCI image layouts and Notation envelopes built from test keys.

Envelopes are assembled here by hand (JSON and CBOR bytes, signatures with
``cryptography``) so tests can bend every field; they are verified by the code under
test through joserfc and cbor2, and the real notation-go envelopes in
``tests/assets/notation`` check the verifier against an independent signer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tests.tsa import _children, _content
from vendorproof._internal.tsa import request_timestamp

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
NOTARY = "application/vnd.cncf.notary.signature"
PAYLOAD = "application/vnd.cncf.notary.payload.v1+json"
EMPTY = "application/vnd.oci.empty.v1+json"
ASSETS = Path(__file__).parent / "assets" / "notation"
REAL_LAYOUT = ASSETS / "oci-layout"
REAL_MANIFEST: dict[str, Any] = {
    "mediaType": MANIFEST,
    "digest": "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0",
    "size": 481,
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def descriptor(media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {
        "mediaType": media_type,
        "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
        "size": len(data),
        **extra,
    }


def put_blob(root: Path, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    path = root / "blobs" / "sha256" / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return f"sha256:{digest}"


def dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@dataclass
class Layout:
    """A layout directory being built; ``index`` is written by :meth:`save`."""

    root: Path
    manifests: list[dict[str, Any]]

    def save(self) -> Path:
        (self.root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
        index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": self.manifests}
        (self.root / "index.json").write_bytes(dumps(index))
        return self.root

    def add_image(
        self,
        layers: Sequence[bytes] = (b"layer one", b"layer two"),
        *,
        annotations: Mapping[str, str] | None = None,
        platform: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        config = dumps({"architecture": "amd64", "os": "linux"})
        put_blob(self.root, config)
        for layer in layers:
            put_blob(self.root, layer)
        manifest = dumps(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST,
                "config": descriptor(CONFIG, config),
                "layers": [descriptor(LAYER, x) for x in layers],
                "annotations": dict(annotations or {}),
            }
        )
        put_blob(self.root, manifest)
        desc = descriptor(MANIFEST, manifest)
        if platform:
            desc["platform"] = dict(platform)
        self.manifests.append(desc)
        self.save()
        return descriptor(MANIFEST, manifest)

    def add_referrer(
        self,
        subject: Mapping[str, Any],
        envelope: bytes,
        media_type: str,
        *,
        artifact_type: str = NOTARY,
    ) -> dict[str, Any]:
        put_blob(self.root, b"{}")
        put_blob(self.root, envelope)
        manifest = dumps(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST,
                "artifactType": artifact_type,
                "config": descriptor(EMPTY, b"{}"),
                "layers": [descriptor(media_type, envelope)],
                "subject": dict(subject),
            }
        )
        put_blob(self.root, manifest)
        desc = descriptor(MANIFEST, manifest, artifactType=artifact_type)
        self.manifests.append(desc)
        self.save()
        return desc


def new_layout(root: Path) -> Layout:
    root.mkdir(parents=True, exist_ok=True)
    layout = Layout(root, [])
    layout.save()
    return layout


def tar_layout(root: Path, tar_path: Path, *, prefix: str = "./") -> Path:
    with tarfile.open(tar_path, "w") as tar:
        if prefix == "./":  # as `tar -C root -cf x.tar .` writes it
            tar.add(root, arcname=".", recursive=False)
        for path in sorted(root.rglob("*")):
            tar.add(
                path,
                arcname=prefix + path.relative_to(root).as_posix(),
                recursive=False,
            )
    return tar_path


# ---------------------------------------------------------------- envelopes

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _hash_for(key: PrivateKey) -> hashes.HashAlgorithm:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {256: hashes.SHA256(), 384: hashes.SHA384()}.get(
            key.curve.key_size, hashes.SHA512()
        )
    return {2048: hashes.SHA256(), 3072: hashes.SHA384()}.get(
        key.key_size, hashes.SHA512()
    )


def alg_for(key: PrivateKey) -> str:
    bits = _hash_for(key).digest_size * 8
    return f"{'ES' if isinstance(key, ec.EllipticCurvePrivateKey) else 'PS'}{bits}"


def raw_sign(key: PrivateKey, data: bytes) -> bytes:
    """JWS/COSE signature bytes: ECDSA as r || s, RSA-PSS with salt = hash length."""
    h = _hash_for(key)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(h)))
        size = (key.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return key.sign(
        data, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h
    )


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def token_of(response: bytes) -> bytes:
    """The TimeStampToken inside a TimeStampResp (RFC 3161 §2.4.2)."""
    return _children(_content(response))[1]


def rfc3339(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def payload(target: Mapping[str, Any]) -> bytes:
    return dumps({"targetArtifact": dict(target)})


def jws_envelope(
    key: PrivateKey,
    chain: Sequence[x509.Certificate],
    target: Mapping[str, Any],
    *,
    signed_at: datetime,
    protected: Mapping[str, Any] | None = None,
    drop: Sequence[str] = (),
    header: Mapping[str, Any] | None = None,
    tsa_url: str | None = None,
    raw_protected: bytes | None = None,
    body: bytes | None = None,
) -> bytes:
    """A flattened JWS Notation envelope; ``protected`` adds or replaces headers."""
    prot: dict[str, Any] = {
        "alg": alg_for(key),
        "crit": ["io.cncf.notary.signingScheme"],
        "cty": PAYLOAD,
        "io.cncf.notary.signingScheme": "notary.x509",
        "io.cncf.notary.signingTime": rfc3339(signed_at),
    }
    prot.update(protected or {})
    for name in drop:
        prot.pop(name, None)
    encoded = b64url(raw_protected if raw_protected is not None else dumps(prot))
    body_b64 = b64url(body if body is not None else payload(target))
    sig = raw_sign(key, f"{encoded}.{body_b64}".encode())
    unprotected: dict[str, Any] = {
        "x5c": [base64.b64encode(der(c)).decode() for c in chain],
        "io.cncf.notary.signingAgent": "vendorproof-tests/1",
    }
    if tsa_url is not None:
        unprotected["io.cncf.notary.timestampSignature"] = base64.b64encode(
            token_of(request_timestamp(tsa_url, sig))
        ).decode()
    unprotected.update(header or {})
    return dumps(
        {
            "payload": body_b64,
            "protected": encoded,
            "header": unprotected,
            "signature": b64url(sig),
        }
    )


_COSE_ALG = {
    "PS256": -37,
    "PS384": -38,
    "PS512": -39,
    "ES256": -7,
    "ES384": -35,
    "ES512": -36,
}


def cbor_map(*pairs: tuple[Any, Any]) -> bytes:
    """A definite-length CBOR map of ``pairs`` as given: keys may repeat."""
    assert len(pairs) < 24  # one-byte map header (RFC 8949 §3.1)
    return bytes([0xA0 + len(pairs)]) + b"".join(
        cbor2.dumps(k) + cbor2.dumps(v) for k, v in pairs
    )


def cose_envelope(
    key: PrivateKey,
    chain: Sequence[x509.Certificate],
    target: Mapping[str, Any],
    *,
    signed_at: datetime,
    protected: Mapping[Any, Any] | None = None,
    unprotected: Mapping[Any, Any] | None = None,
    tsa_url: str | None = None,
    raw_protected: bytes | None = None,
) -> bytes:
    """A COSE_Sign1_Tagged Notation envelope (RFC 9052 §4.2); ``raw_protected``
    replaces the encoded protected header (signed as given)."""
    prot: dict[Any, Any] = {
        1: _COSE_ALG[alg_for(key)],
        2: ["io.cncf.notary.signingScheme"],
        3: PAYLOAD,
        "io.cncf.notary.signingScheme": "notary.x509",
        "io.cncf.notary.signingTime": cbor2.CBORTag(1, int(signed_at.timestamp())),
    }
    prot.update(protected or {})
    prot_raw = cbor2.dumps(prot) if raw_protected is None else raw_protected
    body = payload(target)
    sig = raw_sign(key, cbor2.dumps(["Signature1", prot_raw, b"", body]))
    unprot: dict[Any, Any] = {33: [der(c) for c in chain]}
    if tsa_url is not None:
        unprot["io.cncf.notary.timestampSignature"] = token_of(
            request_timestamp(tsa_url, sig)
        )
    unprot.update(unprotected or {})
    unprot = {k: v for k, v in unprot.items() if v is not None}
    return cbor2.dumps(cbor2.CBORTag(18, [prot_raw, unprot, body, sig]))


# ------------------------------------------------------- layouts for the CLI

VENDOR = "org.opencontainers.image.vendor"
TITLE = "org.opencontainers.image.title"


def real_layout(tmp_path: Path, *, referrer: bool = True) -> Layout:
    """The Notary Project's layout, writable; with its JWS signature as a referrer."""
    import shutil

    root = tmp_path / "layout"
    shutil.copytree(REAL_LAYOUT, root)
    for p in root.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    index = json.loads((root / "index.json").read_text())
    layout = Layout(root, index["manifests"])
    if referrer:
        layout.add_referrer(
            REAL_MANIFEST, (ASSETS / "jws_signature.sig").read_bytes(), JWS
        )
    return layout


JWS = "application/jose+json"
COSE = "application/cose"


def alpine_certificate() -> x509.Certificate:
    """The signer of the real envelopes (self-signed, 2000-2123)."""
    jws = json.loads((ASSETS / "jws_signature.sig").read_text())
    return x509.load_der_x509_certificate(base64.b64decode(jws["header"]["x5c"][0]))


def oci_policy(tmp_path: Path) -> Path:
    """The sample policy for images: the Notary test signer pinned as ``notary``.

    No trust declaration or certification is required (an image carries neither),
    unlisted files warn (a layout holds blobs of other images).
    """
    from tests.builders import policy_data, write_policy

    pem = tmp_path / "alpine.pem"
    pem.write_bytes(alpine_certificate().public_bytes(serialization.Encoding.PEM))
    data = policy_data()
    data["algorithms"]["minRsaBits"] = 2048
    data["trustDeclaration"] = "optional"
    data["certification"] = {"requirements": []}
    data["unlistedFiles"] = "warn"
    data["vendors"].append(
        {
            "id": "notary",
            "name": "Notary Project test signer",
            "anchors": [str(pem)],
            "identities": [{"subject": "CN=alpine,O=Notary,L=Seattle,ST=WA,C=US"}],
        }
    )
    return write_policy(tmp_path / "policy.yaml", data)


def acme_signer() -> tuple[PrivateKey, list[x509.Certificate]]:
    """Acme's release-signing key and chain (leaf first, ending with its root)."""
    from tests.builders import issued

    leaf = issued("vendor-a", "signing")
    key = leaf.key
    assert isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
    chain = [leaf.cert, issued("vendor-a", "intermediate").cert]
    chain.append(issued("vendor-a", "root").cert)
    return key, chain


def acme_image(
    root: Path,
    *,
    annotations: Mapping[str, str] | None = None,
    signed_at: datetime,
    sign: bool = True,
) -> tuple[Layout, dict[str, Any]]:
    """A layout with one image signed by Acme with Notation (JWS referrer)."""
    layout = new_layout(root)
    image = layout.add_image(annotations=annotations)
    if sign:
        key, chain = acme_signer()
        layout.add_referrer(
            image, jws_envelope(key, chain, image, signed_at=signed_at), JWS
        )
    return layout, image


def second_acme_signer() -> tuple[PrivateKey, list[x509.Certificate]]:
    """A second Acme code-signing certificate (another key) under the same CA."""
    from tests import pki
    from tests.builders import issued

    inter = issued("vendor-a", "intermediate")
    leaf = pki.make_leaf(
        "Acme Radio Systems Release Signing 2", inter, org="Acme Radio Systems GmbH"
    )
    key = leaf.key
    assert isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
    return key, [leaf.cert, inter.cert, issued("vendor-a", "root").cert]


SIGSTORE_BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json"
SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"


def cosign_bundle_referrer(
    layout: Layout,
    image: Mapping[str, Any],
    *,
    signed_digest: str | None = None,
    predicate_type: str | None = None,
    predicate: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A cosign 3 signature: a Sigstore bundle referrer by Acme's release signer
    (over ``signed_digest``, by default the image's); with ``predicate_type``, an
    attestation of that type instead (what ``cosign attest`` attaches)."""
    from tests.builders import statement, vendor_a
    from vendorproof.verify.cosign import COSIGN_PREDICATE

    digest = signed_digest or image["digest"]
    body = statement(
        [{"name": "registry.example/upf", "digest": {"sha256": digest[7:]}}],
        predicate_type or COSIGN_PREDICATE,
        predicate or {},
    )
    raw = vendor_a().sign(dumps(body))
    return layout.add_referrer(
        image, raw, SIGSTORE_BUNDLE, artifact_type=SIGSTORE_BUNDLE
    )


def simple_signing_payload(digest: str) -> bytes:
    return dumps(
        {
            "critical": {
                "identity": {"docker-reference": "registry.example/upf"},
                "image": {"docker-manifest-digest": digest},
                "type": "cosign container image signature",
            },
            "optional": None,
        }
    )


def add_simple_signature(
    layout: Layout, image: Mapping[str, Any], *, signed_digest: str | None = None
) -> dict[str, Any]:
    """The older cosign form: a ``sha256-<digest>.sig`` tag manifest whose layer
    is the simple-signing payload, signed by Acme's certificate (annotations)."""
    from tests.builders import issued
    from vendorproof._internal import crypto
    from vendorproof.verify.cosign import (
        ANNOTATION_CERTIFICATE,
        ANNOTATION_CHAIN,
        ANNOTATION_SIGNATURE,
    )

    body = simple_signing_payload(signed_digest or image["digest"])
    leaf = issued("vendor-a", "signing")
    key = crypto.as_signing_key(leaf.key, file="test")
    pem = serialization.Encoding.PEM
    annotations = {
        ANNOTATION_SIGNATURE: base64.b64encode(crypto.sign(key, body)).decode(),
        ANNOTATION_CERTIFICATE: leaf.cert.public_bytes(pem).decode(),
        ANNOTATION_CHAIN: issued("vendor-a", "intermediate")
        .cert.public_bytes(pem)
        .decode(),
    }
    config = dumps({})
    put_blob(layout.root, config)
    put_blob(layout.root, body)
    manifest = dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": descriptor(CONFIG, config),
            "layers": [descriptor(SIMPLE_SIGNING, body, annotations=annotations)],
        }
    )
    put_blob(layout.root, manifest)
    tag = f"sha256-{image['digest'][7:]}.sig"
    desc = descriptor(
        MANIFEST, manifest, annotations={"org.opencontainers.image.ref.name": tag}
    )
    layout.manifests.append(desc)
    layout.save()
    return desc


def cosign_key_bundle(
    work: Path,
    body: bytes,
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey,
    *,
    digest: str = "sha256",
    pss: bool = False,
) -> bytes:
    """A Sigstore bundle over the in-toto statement ``body`` as ``cosign sign --key``
    (cosign 3, new bundle format) writes it: the DSSE signature over the PAE in the
    key's default scheme (PKCS #1 v1.5 for RSA, ECDSA over ``digest``, pure Ed25519;
    ``digest="none"`` for Ed25519), made by ``openssl`` independently of vendorproof;
    no ``keyid``; the ``publicKey.hint`` cosign derives from the key (standard base64
    of the SHA-256 of its PKIX DER). ``pss``: RSASSA-PSS instead, which cosign never
    writes. ``work`` holds openssl's input files."""
    from tests.pki import private_key_pem

    payload_type = "application/vnd.in-toto+json"
    pae = b"DSSEv1 %d %b %d %b" % (
        len(payload_type),
        payload_type.encode(),
        len(body),
        body,
    )
    key_file, data_file = work / "cosign.key", work / "pae.bin"
    key_file.write_bytes(private_key_pem(key))
    data_file.write_bytes(pae)
    if digest == "none":
        cmd = ["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", str(key_file)]
        cmd += ["-in", str(data_file)]
    else:
        cmd = ["openssl", "dgst", f"-{digest}", "-sign", str(key_file)]
        if pss:
            cmd += ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"]
        cmd.append(str(data_file))
    sig = subprocess.run(cmd, capture_output=True, check=True).stdout
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    hint = base64.b64encode(hashlib.sha256(spki).digest()).decode()
    bundle = {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": hint}, "tlogEntries": []},
        "dsseEnvelope": {
            "payload": base64.b64encode(body).decode(),
            "payloadType": payload_type,
            "signatures": [{"sig": base64.b64encode(sig).decode()}],
        },
    }
    return json.dumps(bundle).encode()
