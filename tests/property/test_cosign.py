"""Property tests: cosign signatures over OCI manifests.

Three entry points meet a cosign signature (``verify/cosign.py``):

* ``verify_simple_signing``: the simple-signing payload edited as a JSON tree (and
  signed again, so the edit reaches the payload checks behind the signature), the
  layer annotations given base64 and PEM garbage, and the embedded certificate
  edited as a DER tree and signed again by its issuer (so the edit reaches the
  trust step behind the signature over the payload);
* ``verify_cosign_bundle``: a Sigstore bundle over the cosign statement, edited at
  the bundle level and at the statement (signed again by the vendor);
* the layout path (``check_delivery`` on an image with a simple-signing tag and a
  bundle referrer): the signature manifests and their index descriptors edited as
  JSON trees.

The result is a check list or a project error, never another exception.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from tests.builders import issued, statement, vendor_a, vendor_a_raw_key
from tests.oci import (
    MANIFEST,
    acme_image,
    add_simple_signature,
    cosign_bundle_referrer,
    dumps,
    oci_policy,
    simple_signing_payload,
)
from tests.property import _seeds as seeds
from tests.property._harness import parses
from tests.property._mutate import (
    byte_mutations,
    der_documents,
    edited_json,
    json_documents,
    mixed,
    resigned_der,
)
from vendorproof._internal import crypto
from vendorproof.intake import check_delivery, load_policy
from vendorproof.models.envelope import pae
from vendorproof.models.policy import Policy
from vendorproof.verify.cosign import (
    ANNOTATION_CERTIFICATE,
    ANNOTATION_CHAIN,
    ANNOTATION_SIGNATURE,
    COSIGN_PREDICATE,
    verify_cosign_bundle,
    verify_simple_signing,
)
from vendorproof.verify.notation import Target
from vendorproof.verify.signer import SignerCheck

_AT = datetime(2026, 1, 1, tzinfo=UTC)
_SIGNED_AT = datetime(2025, 12, 1, tzinfo=UTC)
_DIGEST = "sha256:" + "ab" * 32
_TARGET = Target(media_type=MANIFEST, digest=_DIGEST, size=99)
_PEM = serialization.Encoding.PEM


@functools.cache
def _policy() -> Policy:
    """The image policy: Acme's anchors and release key, the Notary signer."""
    return load_policy(oci_policy(seeds.scratch()))


def _pem(der: bytes) -> str:
    body = base64.encodebytes(der).decode("ascii")
    return f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n"


def _leaf_key() -> crypto.SigningKey:
    return crypto.as_signing_key(issued("vendor-a", "signing").key, file="test")


@functools.cache
def _sign(payload: bytes, by_key: bool) -> bytes:
    """A signature over ``payload`` by the release key or the signing leaf's key;
    the same for the same payload (later draws depend on its length)."""
    return crypto.sign(vendor_a_raw_key().key if by_key else _leaf_key(), payload)


def _sign_as_intermediate(tbs: bytes) -> bytes:
    key = seeds.issuer_key("vendor-a", "intermediate")
    # Deterministic (RFC 6979): Hypothesis replays an example and must draw the same.
    return key.sign(tbs, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))


# -- simple signing ------------------------------------------------------------------

_PAYLOAD = json.loads(simple_signing_payload(_DIGEST))
_ODD_ANNOTATIONS = st.sampled_from(
    [
        "",
        "!!",
        "AAAA",
        "A===",
        "=",
        " QUJD",
        "QUJD\n",
        "-----BEGIN CERTIFICATE-----",
        "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        "-----BEGIN CERTIFICATE-----\n" + "A" * 5000 + "\n-----END CERTIFICATE-----\n",
        "\x00",
        "\u202e",
        "\ufeff",
    ]
)
# No lone surrogate: annotations come from strict JSON, which refuses them.


@st.composite
def _simple_inputs(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    """A simple-signing payload and its layer annotations, one part edited."""
    leaf, inter, _ = seeds.certificate_chain()
    part = draw(st.sampled_from(["payload", "annotation", "certificate", "chain"]))
    payload = simple_signing_payload(_DIGEST)
    cert, chain = _pem(leaf), _pem(inter)
    by_key = draw(st.booleans())
    if part == "payload":
        payload = draw(json_documents(_PAYLOAD, max_edits=3))
    elif part == "certificate":
        der = draw(
            st.one_of(
                resigned_der(leaf, _sign_as_intermediate),
                resigned_der(leaf, _sign_as_intermediate),
                mixed(leaf, der_documents),
            )
        )
        cert = draw(st.sampled_from([_pem(der), _pem(der) + chain]))
        by_key = False
    elif part == "chain":
        der = draw(mixed(inter, der_documents))
        chain = draw(st.sampled_from([_pem(der), _pem(der) + _pem(der), ""]))
        by_key = False
    text = {ANNOTATION_SIGNATURE: base64.b64encode(_sign(payload, by_key)).decode()}
    if not by_key:
        text[ANNOTATION_CERTIFICATE] = cert
        text[ANNOTATION_CHAIN] = chain
    if part == "annotation":
        name = draw(st.sampled_from(sorted(text)))
        if draw(st.booleans()):
            text[name] = draw(_ODD_ANNOTATIONS)
        elif draw(st.booleans()):
            del text[name]
        else:
            raw = draw(byte_mutations(text[name].encode()))
            text[name] = raw.decode("utf-8", "replace")
    return payload, text


def _simple(payload: bytes, annotations: dict[str, str]) -> SignerCheck:
    policy = _policy()
    return verify_simple_signing(
        payload,
        annotations,
        file="sha256-ab.sig",
        target=_TARGET,
        principals=policy.vendors,
        role="vendor",
        policy=policy,
        at=_AT,
        time_source="test",
        requirements=(),
    )


def _verify_simple(payload: bytes, annotations: dict[str, str]) -> None:
    result = _simple(payload, annotations)
    assert result.checks
    for check in result.checks:
        check.to_dict()


@given(_simple_inputs())
def test_cosign_simple_signing(inputs: tuple[bytes, dict[str, str]]) -> None:
    payload, annotations = inputs
    size = len(payload) + sum(len(v) for v in annotations.values())
    parses(_verify_simple, payload, annotations, input_size=size)


# -- Sigstore bundles ----------------------------------------------------------------


@functools.cache
def _statement() -> dict[str, Any]:
    data: dict[str, Any] = statement(
        [{"name": "registry.example/gnb", "digest": {"sha256": _DIGEST[7:]}}],
        COSIGN_PREDICATE,
        {},
    )
    return data


@functools.cache
def _bundle() -> bytes:
    return vendor_a().sign(dumps(_statement()))


def _resigned_statements() -> st.SearchStrategy[bytes]:
    """The bundle over an edited statement, its DSSE signature made again."""

    def sign(doc: Any) -> bytes:
        raw = json.dumps(doc).encode("utf-8", "surrogatepass")
        bundle = json.loads(_bundle())
        envelope = bundle["dsseEnvelope"]
        envelope["payload"] = base64.b64encode(raw).decode()
        sig = crypto.sign(_leaf_key(), pae(envelope["payloadType"], raw))
        envelope["signatures"][0]["sig"] = base64.b64encode(sig).decode()
        return json.dumps(bundle).encode()

    return st.builds(sign, edited_json(_statement(), max_edits=3))


def _cosign_bundle(raw: bytes) -> SignerCheck:
    policy = _policy()
    return verify_cosign_bundle(
        raw,
        file="sig.sigstore.json",
        target=_TARGET,
        principals=policy.vendors,
        role="vendor",
        policy=policy,
        at=_AT,
        time_source="test",
        requirements=(),
    )


def _verify_bundle(raw: bytes) -> None:
    result = _cosign_bundle(raw)
    assert result.checks
    for check in result.checks:
        check.to_dict()


@given(
    st.one_of(
        _resigned_statements(),
        mixed(_bundle(), lambda seed: json_documents(json.loads(seed), max_edits=3)),
    )
)
def test_cosign_bundle(raw: bytes) -> None:
    parses(_verify_bundle, raw, input_size=len(raw))


# -- the layout path -----------------------------------------------------------------


@functools.cache
def _layout() -> tuple[Path, dict[str, Any]]:
    """An Acme image with a simple-signing tag and a cosign bundle referrer."""
    work = seeds.scratch()
    layout, image = acme_image(work / "layout", signed_at=_SIGNED_AT, sign=False)
    add_simple_signature(layout, image)
    cosign_bundle_referrer(layout, image)
    index: dict[str, Any] = json.loads((layout.root / "index.json").read_bytes())
    return layout.root, index


def _blob(root: Path, digest: str) -> bytes:
    return (root / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes()


@st.composite
def _layout_edits(draw: st.DrawFn) -> tuple[int, bytes | None, bytes]:
    """(index entry, its new manifest or None, the new index.json)."""
    root, index = _layout()
    pos = draw(st.sampled_from([1, 2]))  # the two signature manifests
    index = json.loads(json.dumps(index))
    manifest = None
    if draw(st.integers(0, 3)) > 0:
        seed = json.loads(_blob(root, index["manifests"][pos]["digest"]))
        manifest = draw(json_documents(seed, max_edits=3))
        index["manifests"][pos]["digest"] = (
            "sha256:" + hashlib.sha256(manifest).hexdigest()
        )
        index["manifests"][pos]["size"] = len(manifest)
    else:
        index["manifests"][pos] = draw(edited_json(index["manifests"][pos], 3))
    raw = json.dumps(index).encode("utf-8", "surrogatepass")
    return pos, manifest, raw


def _check_layout(manifest: bytes | None, index: bytes) -> None:
    root, _ = _layout()
    with tempfile.TemporaryDirectory() as work:
        copy = Path(work) / "layout"
        shutil.copytree(root, copy)
        if manifest is not None:
            digest = hashlib.sha256(manifest).hexdigest()
            (copy / "blobs" / "sha256" / digest).write_bytes(manifest)
        (copy / "index.json").write_bytes(index)
        report = check_delivery(copy, _policy(), at=_AT, time_source="test", records={})
        assert report.checks


@given(_layout_edits())
def test_cosign_in_a_layout(edit: tuple[int, bytes | None, bytes]) -> None:
    _, manifest, index = edit
    size = len(index) + len(manifest or b"")
    parses(_check_layout, manifest, index, input_size=size)


def warm_up() -> None:
    """Pay one-time costs (policy, layout, bundle) outside the deadline."""
    _policy()
    _layout()
    _bundle()


def test_the_unedited_signatures_verify() -> None:
    """The seeds pass, so the mutants start from signatures every check accepts."""
    payload = simple_signing_payload(_DIGEST)
    leaf, inter, _ = seeds.certificate_chain()
    for key, extra in (
        (vendor_a_raw_key().key, {}),
        (
            _leaf_key(),
            {ANNOTATION_CERTIFICATE: _pem(leaf), ANNOTATION_CHAIN: _pem(inter)},
        ),
    ):
        sig = base64.b64encode(crypto.sign(key, payload)).decode()
        result = _simple(payload, {ANNOTATION_SIGNATURE: sig, **extra})
        assert result.ok, result.checks
    bundle = _cosign_bundle(_bundle())
    assert bundle.ok, bundle.checks
    root, _ = _layout()
    report = check_delivery(root, _policy(), at=_AT, time_source="test", records={})
    kinds = {c.check for c in report.checks if c.outcome.value == "pass"}
    assert "target-artifact" in kinds, report.checks
