"""Property tests: signed checkpoints, witness keys, proofs and tiles, as a verifier
meets them (a checkpoint file, a vkey on the command line, a proof document, an entry
bundle from a tiles directory).

Besides the contract of every parser (a result or a project error), a mutated
checkpoint that still opens must be the checkpoint that was signed: nothing altered
ever passes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given
from hypothesis import strategies as st

from tests.property import _seeds as seeds
from tests.property._harness import parses
from tests.property._mutate import byte_mutations, json_documents, mixed
from vendorproof.errors import Error
from vendorproof.evidence import tlog
from vendorproof.evidence.checkpoint import (
    Checkpoint,
    Cosigner,
    NoteVerifier,
    Witness,
    cosignatures,
)
from vendorproof.evidence.logcheck import (
    consistency_document,
    inclusion_document,
    open_checkpoint,
    verify_proof_document,
)
from vendorproof.evidence.tiles import entry_bundle, parse_entry_bundle

ORIGIN = "vendorproof.evidence/0123456789abcdef0123456789abcdef"
_WITNESS = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
_COSIGNER = Cosigner("regulator.example/w1", _WITNESS)
_DIGESTS = [hashlib.sha256(b"%d" % i).digest() for i in range(13)]
_TREE = tlog.MemoryTree(tlog.leaf_hash(d) for d in _DIGESTS)
_OLD = Checkpoint(ORIGIN, 7, _TREE.root(7))
_CP = Checkpoint(ORIGIN, 13, _TREE.root())


def _signed_note() -> bytes:
    key = seeds.OPERATOR_KEY
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    from vendorproof.evidence.checkpoint import NoteSigner

    note = _CP.sign([NoteSigner(ORIGIN, key)])
    return note + _COSIGNER.line(_CP.text(), 1_700_000_000).encode()


NOTE = _signed_note()


@st.composite
def _note_edits(draw: st.DrawFn, seed: bytes) -> bytes:
    """Line-level edits of a signed note: replace, duplicate, drop or swap lines."""
    lines = seed.split(b"\n")
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        edit = draw(st.sampled_from(["replace", "duplicate", "drop", "swap"]))
        if edit == "replace":
            lines[i] = draw(
                st.sampled_from(
                    [
                        b"",
                        b"0",
                        b"00013",
                        b"-1",
                        b"9" * 30,
                        b"\xe2\x80\x94 x AAAA",
                        b"\xe2\x80\x94 " + ORIGIN.encode() + b" AAAAAAA=",
                        b"\xe2\x80\x94  AAAAAAA=",
                        b"AAAA",
                        lines[i] + b" ",
                        lines[i].replace(b"+", b"-"),
                        ORIGIN.encode() + b"x",
                    ]
                )
            )
        elif edit == "duplicate":
            lines.insert(i, lines[i])
        elif edit == "drop" and len(lines) > 1:
            del lines[i]
        else:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


@given(mixed(NOTE, _note_edits))
def test_open_checkpoint(raw: bytes) -> None:
    result = parses(
        open_checkpoint, raw, [seeds.OPERATOR_PUB], file="cp", input_size=len(raw)
    )
    if not isinstance(result, Error):
        assert result == _CP  # whatever was edited, only the signed text opens


@given(mixed(NOTE, _note_edits))
def test_cosignatures(raw: bytes) -> None:
    result = parses(
        cosignatures, raw, [_COSIGNER.witness], file="cp", input_size=len(raw)
    )
    if not isinstance(result, Error) and result:
        assert result == {"regulator.example/w1": 1_700_000_000}
        assert raw.startswith(_CP.text().encode() + b"\n")


_VKEYS = (
    NoteVerifier(ORIGIN, _WITNESS.public_key()).vkey(),
    _COSIGNER.witness.vkey(),
)


@given(st.sampled_from(_VKEYS).flatmap(lambda v: byte_mutations(v.encode())))
def test_vkeys(raw: bytes) -> None:
    text = raw.decode("utf-8", "surrogateescape")
    for parse in (NoteVerifier.from_vkey, Witness.from_vkey):
        result = parses(parse, text, file="--witness", input_size=len(raw))
        if isinstance(result, NoteVerifier | Witness):
            assert result.vkey() == text.strip()


def _proof_docs() -> list[dict[str, Any]]:
    note = NOTE.decode()
    proof = tlog.inclusion_proof(4, 13, _TREE.nodes)
    inclusion = inclusion_document(NOTE, _CP, 5, _DIGESTS[4].hex(), proof)
    consistency = consistency_document(
        _OLD, NOTE, _CP, tlog.consistency_proof(7, 13, _TREE.nodes)
    )
    assert inclusion["checkpoint"] == consistency["checkpoint"] == note
    return [inclusion, consistency]


@given(
    st.sampled_from(_proof_docs()).flatmap(json_documents),
    st.sampled_from(["inclusion", "consistency"]),
)
def test_proof_documents(
    raw: bytes, expect: Literal["inclusion", "consistency"]
) -> None:
    old = _OLD if expect == "consistency" else None
    result = parses(
        verify_proof_document, raw, _CP, expect=expect, old=old, file="p.json",
        input_size=len(raw),
    )  # fmt: skip
    if not isinstance(result, Error):
        doc = json.loads(raw)
        proof = [bytes.fromhex(h.encode().hex()) for h in doc["proof"]]
        assert proof  # a passing proof has hashes (sizes 5 of 13, 7 to 13)


_BUNDLE = entry_bundle(_DIGESTS)


@given(mixed(_BUNDLE, byte_mutations), st.integers(0, 300))
def test_entry_bundles(raw: bytes, width: int) -> None:
    result = parses(parse_entry_bundle, raw, width, file="e", input_size=len(raw))
    if not isinstance(result, Error):
        assert len(result) == width
        assert all(len(e) == 32 for e in result)
