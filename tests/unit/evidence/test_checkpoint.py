"""Signed notes (c2sp.org/signed-note) and checkpoints (c2sp.org/tlog-checkpoint),
against the published golang.org/x/mod/sumdb/note example."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from vendorproof.errors import InvalidInputError, SignatureError, VerificationError
from vendorproof.evidence import tlog
from vendorproof.evidence.checkpoint import (
    Checkpoint,
    Cosigner,
    NoteSigner,
    NoteVerifier,
    Witness,
    cosignatures,
    open_note,
    parse_signed_note,
    sign_note,
)

# golang.org/x/mod/sumdb/note (note.go's example and note_test.go).
GO_SKEY = (
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
)
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUg"
    "YN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
).encode()


def go_signer() -> NoteSigner:
    name, _, material = GO_SKEY.removeprefix("PRIVATE+KEY+").split("+", 2)
    seed = base64.b64decode(material)
    assert seed[0] == 1
    return NoteSigner(name, ed25519.Ed25519PrivateKey.from_private_bytes(seed[1:]))


def test_signing_reproduces_the_go_note_byte_for_byte() -> None:
    signer = go_signer()
    assert signer.verifier.key_id == 0xC74F20A3
    assert signer.verifier.vkey() == GO_VKEY
    assert sign_note(GO_TEXT, [signer]) == GO_NOTE


def test_the_go_note_opens_with_its_verifier_key() -> None:
    text, verified, sigs = open_note(GO_NOTE, [NoteVerifier.from_vkey(GO_VKEY)])
    assert text == GO_TEXT
    assert [v.name for v in verified] == ["PeterNeumann"]
    assert len(sigs) == 1


def test_an_altered_note_fails() -> None:
    bad = GO_NOTE.replace(b"cryptography", b"cryptographY")
    with pytest.raises(
        SignatureError, match=r"PeterNeumann \(key ID c74f20a3\) does not verify"
    ):
        open_note(bad, [NoteVerifier.from_vkey(GO_VKEY)])


def test_unknown_keys_are_ignored_and_none_known_fails() -> None:
    other = NoteSigner("PeterNeumann", ed25519.Ed25519PrivateKey.generate())
    # Same name, another key (another key ID): ignored, so nothing trusted signed it.
    note = sign_note(GO_TEXT, [other])
    with pytest.raises(SignatureError, match="no signature by a trusted key"):
        open_note(note, [NoteVerifier.from_vkey(GO_VKEY)])
    # An unknown signature next to a good one is ignored.
    both = sign_note(GO_TEXT, [other, go_signer()])
    _, verified, sigs = open_note(both, [NoteVerifier.from_vkey(GO_VKEY)])
    assert [v.name for v in verified] == ["PeterNeumann"]
    assert len(sigs) == 2


@pytest.mark.parametrize(
    ("note", "message"),
    [
        (GO_TEXT.encode(), "no blank line"),
        (GO_NOTE.replace(b"\xe2\x80\x94 ", b"-- "), "signature line"),
        (GO_NOTE.replace(b"AM=\n", b"AM\n"), "base64"),
        (GO_NOTE.replace(b"x08go", b"x08g_"), "standard alphabet"),
        (GO_NOTE.replace(b"\n", b"\r\n", 1), "control character"),
        (GO_NOTE + b"\xff\n", "UTF-8"),
        (GO_NOTE[:-1], "end with a newline"),
        (GO_TEXT.encode() + b"\n\xe2\x80\x94 P AAAA\n", "at least one byte"),
        (GO_TEXT.encode() + b"\n", "no signature line"),
    ],
)
def test_malformed_notes_are_refused(note: bytes, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_signed_note(note, file="cp")


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+AhpjQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW=",
        "PeterNeumann+c74f20a3",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        # Not UTF-8 (a command-line argument with a surrogate escape).
        "\udc80eterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_bad_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(InvalidInputError):
        NoteVerifier.from_vkey(vkey, file="key")


ROOT = bytes(range(32))


def test_checkpoint_round_trip_and_format() -> None:
    key = NoteSigner("example.com/log", ed25519.Ed25519PrivateKey.generate())
    cp = Checkpoint("example.com/log", 20852163, ROOT, ("ext one",))
    note = cp.sign([key])
    text = note.decode()
    assert text.startswith(
        "example.com/log\n20852163\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\next one\n"
        "\n\u2014 example.com/log "
    )
    got, verified, _ = Checkpoint.open(note, [key.verifier], origin="example.com/log")
    assert got == cp
    assert verified == [key.verifier]
    with pytest.raises(VerificationError, match="wrong origin"):
        Checkpoint.open(note, [key.verifier], origin="example.com/other")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("o\n012\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", "leading zeroes"),
        ("o\n-1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", "decimal"),
        (
            "o\n9223372036854775808\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
            "larger than 2\\^63-1",
        ),
        (
            "o\n" + "9" * 5000 + "\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
            "2\\^63",
        ),
        # RFC 9162 §2.1.1: size 0 has the root SHA-256("") and no other.
        ("o\n0\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", "size 0 has the root"),
        ("o\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n", "31 bytes"),
        ("o\n1\n", "three non-empty lines"),
        ("o\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "three non-empty"),
    ],
)
def test_malformed_checkpoints_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        Checkpoint.parse(text, file="cp")


def test_the_empty_tree_checkpoint_parses() -> None:
    empty = base64.b64encode(hashlib.sha256(b"").digest()).decode()
    cp = Checkpoint.parse(f"o\n0\n{empty}\n", file="cp")
    assert (cp.size, cp.root) == (0, tlog.EMPTY_ROOT)


# --- witness cosignatures (c2sp.org/tlog-cosignature) ----------------------------------

# A published checkpoint of a Certificate Transparency log and its witness
# cosignatures (transparency-dev staging log; remora.n621.de is a public witness).
REAL_TEXT = (
    "arche2025h1.staging.ct.transparency.dev\n"
    "1432088532\n"
    "U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n"
)
REAL_NOTE = (
    REAL_TEXT + "\n"
    "\u2014 arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9p"
    "vsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=\n"
    "\u2014 remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DE"
    "ZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==\n"
).encode()
REMORA = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"


def test_a_published_witness_cosignature_verifies() -> None:
    witness = Witness.from_vkey(REMORA)
    assert witness.vkey() == REMORA  # the key ID is computed as the spec says
    stamps = cosignatures(REAL_NOTE, [witness])
    assert list(stamps) == ["remora.n621.de"]
    assert stamps["remora.n621.de"] > 1_700_000_000
    with pytest.raises(SignatureError, match=r"remora\.n621\.de"):
        cosignatures(REAL_NOTE.replace(b"1432088532", b"1432088533"), [witness])


def test_cosign_and_verify_round_trip() -> None:
    cosigner = Cosigner("witness.example/w1", ed25519.Ed25519PrivateKey.generate())
    log = NoteSigner("example.com/log", ed25519.Ed25519PrivateKey.generate())
    note = Checkpoint("example.com/log", 5, ROOT).sign([log])
    text, _ = parse_signed_note(note)
    cosigned = note + cosigner.line(text, 1_700_000_000).encode()
    assert cosignatures(cosigned, [cosigner.witness]) == {
        "witness.example/w1": 1_700_000_000
    }
    # The log key does not count as a witness, nor a witness as the log.
    assert cosignatures(note, [cosigner.witness]) == {}
    with pytest.raises(SignatureError):
        open_note(
            cosigned.replace(note, note),
            [NoteVerifier(cosigner.name, cosigner.private.public_key())],
        )
