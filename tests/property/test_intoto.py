"""Property tests: classic in-toto layouts and links as a delivery carries them.

A delivery's ``in-toto/`` directory holds a root layout signed by the vendor's owner
key and the link of its one step signed by a functionary key, as Metablocks or as
DSSE envelopes (built with the in-toto API, as in ``tests/unit/verify/test_intoto.py``).
Mutants edit the signed layout or link as a JSON tree and sign it again with the
same key, so the edit passes the signature check and reaches in-toto's layout, step
and artifact-rule readers; others edit the file unsigned (at the JSON or byte level).
Everything goes through ``verify_in_toto``, the entry point a delivery's evaluation
uses; inspections are never allowed (a mutant that adds one is refused unrun). The
result is an account or a project error, never another exception.
"""

from __future__ import annotations

import functools
import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from hypothesis import given
from hypothesis import strategies as st
from in_toto.models.layout import Layout, Step
from in_toto.models.link import FILENAME_FORMAT, Link
from securesystemslib import dsse
from securesystemslib.formats import encode_canonical
from securesystemslib.signer import CryptoSigner, SSlibKey  # type: ignore[attr-defined]

from tests.property._harness import parses
from tests.property._mutate import byte_mutations, edited_json, json_documents
from vendorproof.verify.intoto import verify_in_toto

_OWNER_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
_FUNCTIONARY_KEY = ec.derive_private_key(0x5EED, ec.SECP256R1())
_OWNER = CryptoSigner(_OWNER_KEY, SSlibKey.from_crypto(_OWNER_KEY.public_key()))
_FUNCTIONARY = CryptoSigner(
    _FUNCTIONARY_KEY, SSlibKey.from_crypto(_FUNCTIONARY_KEY.public_key())
)
_OWNER_PEM = _OWNER_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)
_EXPIRES = (datetime.now(UTC) + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
_FILES = {"app.bin": b"firmware v1\n", "docs/README.txt": b"read me\n"}
_PAYLOAD_TYPE = "application/vnd.in-toto+json"
_LINK_NAME = str(
    FILENAME_FORMAT.format(step_name="build", keyid=_FUNCTIONARY.public_key.keyid)
)
_WORKDIR = tempfile.TemporaryDirectory(prefix="vendorproof-property-in-toto-")


def _key_dict(signer: Any) -> dict[str, Any]:
    d: dict[str, Any] = signer.public_key.to_dict()
    d["keyid"] = signer.public_key.keyid
    return d


@functools.cache
def _signables() -> tuple[dict[str, Any], dict[str, Any]]:
    """The layout's and the link's signed part, as JSON trees."""
    import hashlib

    layout = Layout(
        steps=[
            Step(
                name="build",
                pubkeys=[_FUNCTIONARY.public_key.keyid],
                expected_command=["make"],
                expected_products=[
                    ["CREATE", "app.bin"],
                    ["CREATE", "docs/README.txt"],
                    ["DISALLOW", "*"],
                ],
                threshold=1,
            )
        ],
        keys={_FUNCTIONARY.public_key.keyid: _key_dict(_FUNCTIONARY)},
        expires=_EXPIRES,
    )
    link = Link(
        name="build",
        products={
            n: {"sha256": hashlib.sha256(d).hexdigest()} for n, d in _FILES.items()
        },
        command=["make"],
    )
    # Canonical JSON keeps control characters (the PEM key's newlines) raw.
    return (
        json.loads(layout.signable_bytes, strict=False),
        json.loads(link.signable_bytes, strict=False),
    )


def _metablock(signed: Any, signer: Any) -> bytes:
    """``signed`` in a Metablock signed by ``signer`` (unsigned if it has no
    canonical form, e.g. a float)."""
    try:
        data = str(encode_canonical(signed)).encode("utf-8", "surrogatepass")
    except Exception:  # noqa: BLE001 - securesystemslib's FormatError among others
        signatures: list[Any] = []
    else:
        signatures = [signer.sign(data).to_dict()]
    return json.dumps({"signed": signed, "signatures": signatures}).encode(
        "utf-8", "surrogatepass"
    )


def _dsse(signed: Any, signer: Any) -> bytes:
    """``signed`` in a DSSE envelope signed by ``signer``."""
    payload = json.dumps(signed).encode("utf-8", "surrogatepass")
    envelope = dsse.Envelope(payload=payload, payload_type=_PAYLOAD_TYPE, signatures={})
    envelope.sign(signer)
    return json.dumps(envelope.to_dict()).encode()


_WRAP = {"metablock": _metablock, "dsse": _dsse}


@functools.cache
def _seed_file(fmt: str, target: str) -> bytes:
    """The unedited layout or link file, signed once per process: an ECDSA
    signature differs on every signing, and the mutants must not depend on that."""
    layout_signed, link_signed = _signables()
    if target == "layout":
        return _WRAP[fmt](layout_signed, _OWNER)
    return _WRAP[fmt](link_signed, _FUNCTIONARY)


@st.composite
def _deliveries(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """(layout file, link file): one of them edited, most often signed again."""
    fmt = draw(st.sampled_from(sorted(_WRAP)))
    wrap = _WRAP[fmt]
    layout_signed, link_signed = _signables()
    target = draw(st.sampled_from(["layout", "link"]))
    how = draw(
        st.sampled_from(["resigned", "resigned", "resigned", "json", "bytes", "nested"])
    )
    seed, signer = (
        (layout_signed, _OWNER) if target == "layout" else (link_signed, _FUNCTIONARY)
    )
    if how == "nested":
        # The step's link is a (sub)layout signed by the functionary, or the layout
        # gains an inspection: in-toto's sublayout recursion, and the refusal to run
        # an inspection the policy does not allow.
        if target == "link":
            edited = wrap(draw(edited_json(layout_signed, max_edits=1)), signer)
        else:
            inspection = {
                "_type": "inspection",
                "name": "check",
                "run": draw(st.sampled_from([["true"], [], ["sh", "-c", "exit 1"]])),
                "expected_materials": [],
                "expected_products": [],
            }
            inspected = {**layout_signed, "inspect": [inspection]}
            edited = wrap(draw(edited_json(inspected, max_edits=1)), signer)
    elif how == "resigned":
        edited = wrap(draw(edited_json(seed)), signer)
    elif how == "json":
        edited = draw(json_documents(json.loads(_seed_file(fmt, target))))
    else:
        edited = draw(byte_mutations(_seed_file(fmt, target)))
    layout = edited if target == "layout" else _seed_file(fmt, "layout")
    link = edited if target == "link" else _seed_file(fmt, "link")
    return layout, link


def _verify(layout: bytes, link: bytes) -> None:
    root = Path(tempfile.mkdtemp(dir=_WORKDIR.name))
    for name, data in _FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "in-toto").mkdir()
    (root / "in-toto" / "root.layout").write_bytes(layout)
    (root / "in-toto" / _LINK_NAME).write_bytes(link)
    account = verify_in_toto(root, layout_keys=[_OWNER_PEM], allow_inspections=False)
    assert "\n" not in account


def test_seed_verifies() -> None:
    """The unedited seeds verify, so every mutant starts from a passing delivery."""
    layout_signed, link_signed = _signables()
    for wrap in _WRAP.values():
        _verify(wrap(layout_signed, _OWNER), wrap(link_signed, _FUNCTIONARY))


@given(_deliveries())
def test_in_toto_metadata(case: tuple[bytes, bytes]) -> None:
    layout, link = case
    parses(_verify, layout, link, input_size=len(layout) + len(link))
