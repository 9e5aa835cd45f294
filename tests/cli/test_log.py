"""Checkpoints through the command line: intake writes them, bundles carry them,
replay checks them, and bad checkpoints never pass (one line, documented exit code)."""

from __future__ import annotations

import base64
import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import Result

from tests.builders import KEYS, SAMPLE_AT_TEXT, SAMPLE_DELIVERY, SAMPLE_POLICY
from tests.cli.support import assert_error, assert_ok, invoke
from tests.unit.evidence.support import manifest, relist
from vendorproof._cli import ExitCode
from vendorproof.evidence import tlog

OP_KEY = KEYS / "operator" / "intake.key"
OP_PUB = KEYS / "operator" / "intake.pub"


def intake(db: Path) -> None:
    assert_ok(
        invoke(
            "intake", SAMPLE_DELIVERY, "--policy", SAMPLE_POLICY,
            "--operator-key", OP_KEY, "--store", db, "--at", SAMPLE_AT_TEXT,
            "--dedupe-window", "0",
        )
    )  # fmt: skip


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A store of four records and the checkpoint an auditor kept at size 3."""
    tmp = tmp_path_factory.mktemp("log")
    db = tmp / "evidence.db"
    for _ in range(3):
        intake(db)
    old = tmp / "size3.cp"
    assert_ok(invoke("log", "checkpoint", "--store", db, "-o", old))
    intake(db)
    return db, old


def export(db: Path, out: Path, *args: str) -> Path:
    assert_ok(
        invoke(
            "evidence",
            "export",
            "--store",
            db,
            "--bundle",
            out,
            "--operator-pub",
            OP_PUB,
            *args,
        )
    )
    return out


def replay(*args: str | Path) -> tuple[int, str, str]:
    result = invoke(
        "audit", "replay", "--operator-pub", OP_PUB, "--integrity-only", *args
    )
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def test_intake_stores_a_checkpoint_per_record(logged: tuple[Path, Path]) -> None:
    db, old = logged
    text = old.read_text()
    origin, size, _root, blank, sig, end = text.split("\n")
    assert origin.startswith("vendorproof.evidence/")
    assert (size, blank, end) == ("3", "", "")
    assert sig.startswith(f"\u2014 {origin} ")
    assert_ok(invoke("audit", "verify-checkpoint", old, "--operator-pub", OP_PUB))
    result = invoke("log", "checkpoint", "--store", db)
    assert_ok(result)
    assert result.stdout.split("\n")[1] == "4"


def test_bundle_carries_the_checkpoint_and_replay_checks_it(
    logged: tuple[Path, Path], tmp_path: Path
) -> None:
    db, old = logged
    bundle = export(db, tmp_path / "b")
    assert manifest(bundle)["log"]["checkpoint"] == "log/checkpoint"
    code, out, _ = replay("--bundle", bundle, "--checkpoint", old)
    assert code == ExitCode.OK, out
    assert "matches the records" in out
    assert "consistent with the auditor's checkpoint of size 3" in out
    # A range from record 3 carries the tree edge before it: still checked.
    part = export(db, tmp_path / "part", "--from", "3")
    code, out, _ = replay("--bundle", part, "--checkpoint", old)
    assert code == ExitCode.OK, out
    assert "consistent with the auditor's checkpoint of size 3" in out


def test_a_bundle_cut_short_fails(logged: tuple[Path, Path], tmp_path: Path) -> None:
    db, old = logged
    bundle = export(db, tmp_path / "b")
    (bundle / "records" / "00000004.dsse.json").unlink()
    relist(bundle, count=3, last=3)
    code, out, _ = replay("--bundle", bundle)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "the records do not match the checkpoint (it says size 4" in out
    # With the checkpoint of size 3 put in (an old, genuine one), the auditor's
    # checkpoint of size 4 tells.
    kept = tmp_path / "size4.cp"
    kept.write_bytes((export(db, tmp_path / "c") / "log" / "checkpoint").read_bytes())
    shutil.copy(old, bundle / "log" / "checkpoint")
    relist(bundle, count=3, last=3)
    code, out, _ = replay("--bundle", bundle)
    assert code == ExitCode.OK, out
    code, out, _ = replay("--bundle", bundle, "--checkpoint", kept)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "history truncated" in out
    assert "at size 4, it has size 3 now" in out


def test_replay_of_a_store_checks_its_checkpoint(logged: tuple[Path, Path]) -> None:
    db, old = logged
    code, out, _ = replay("--store", db, "--checkpoint", old)
    assert code == ExitCode.OK, out
    assert "consistent with the auditor's checkpoint of size 3" in out


# --- bad checkpoints ------------------------------------------------------------------


def other_key(tmp_path: Path) -> tuple[Ed25519PrivateKey, Path]:
    key = Ed25519PrivateKey.generate()
    pub = tmp_path / "other.pub"
    pub.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key, pub


def test_bad_checkpoints_never_pass(logged: tuple[Path, Path], tmp_path: Path) -> None:
    _, old = logged
    text = old.read_text()
    origin = text.split("\n")[0]

    def check(name: str, content: str | bytes, *args: str | Path) -> tuple[int, str]:
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        result = invoke(
            "audit", "verify-checkpoint", path, "--operator-pub", OP_PUB, *args
        )
        assert result.exit_code != ExitCode.OK
        assert "Traceback" not in result.output
        return result.exit_code, result.stderr

    # Wrong origin: pinned, or relabelled (then the signature no longer verifies).
    code, msg = check("pinned.cp", text, "--origin", "example.com/other")
    assert code == ExitCode.VERIFICATION_FAILED
    assert "wrong origin" in msg
    relabelled = text.replace(origin, "example.com/other", 1)
    code, msg = check("relabelled.cp", relabelled)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "no signature by a trusted key" in msg
    # Bad signature: the size changed under the signature.
    code, msg = check("altered.cp", text.replace("\n3\n", "\n2\n", 1))
    assert code == ExitCode.VERIFICATION_FAILED
    assert "does not verify" in msg
    # Unknown key ID: the same name, another key.
    sig_line = text.split("\n")[4]
    blob = bytearray(base64.b64decode(sig_line.split(" ")[2]))
    blob[0] ^= 0xFF
    unknown = text.replace(
        sig_line.split(" ")[2], base64.b64encode(bytes(blob)).decode()
    )
    code, msg = check("unknown.cp", unknown)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "no signature by a trusted key" in msg
    # Signed by a key that is not pinned.
    _, other_pub = other_key(tmp_path)
    result = invoke("audit", "verify-checkpoint", old, "--operator-pub", other_pub)
    assert_error(result, ExitCode.VERIFICATION_FAILED, "no signature by a trusted key")
    # Not a checkpoint at all.
    code, msg = check("garbage.cp", b"\x00\x01\n")
    assert code == ExitCode.INVALID_INPUT
    assert "control character" in msg
    code, msg = check("nosig.cp", "o\n1\nAAAA\n")
    assert code == ExitCode.INVALID_INPUT
    assert "no blank line" in msg


# --- witnesses -----------------------------------------------------------------------


def witness_key(tmp_path: Path, name: str) -> tuple[Path, str]:
    path = tmp_path / f"{name.replace('/', '_')}.key"
    path.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    result = invoke("log", "vkey", "--key", path, "--name", name)
    assert_ok(result)
    return path, result.stdout.strip()


def test_a_witness_cosigns_only_consistent_checkpoints(
    logged: tuple[Path, Path], tmp_path: Path
) -> None:
    db, old = logged
    key, vkey = witness_key(tmp_path, "witness.example/w1")
    _, other_vkey = witness_key(tmp_path, "witness.example/w2")
    state = tmp_path / "w1.state"

    def witness(cp: Path, out: Path, *args: str | Path) -> Result:
        return invoke(
            "log", "witness", cp, "--key", key, "--name", "witness.example/w1",
            "--operator-pub", OP_PUB, "--state", state, "-o", out, *args,
        )  # fmt: skip

    assert_ok(witness(old, tmp_path / "cosigned3.cp"))  # a new state: first one
    now = tmp_path / "now.cp"
    assert_ok(invoke("log", "checkpoint", "--store", db, "-o", now))
    assert_error(
        witness(now, tmp_path / "x.cp"),
        ExitCode.INVALID_INPUT,
        "give --proof",
    )
    proof = tmp_path / "cons.json"
    assert_ok(
        invoke(
            "log", "consistency", old, now, "--store", db, "--operator-pub", OP_PUB,
            "-o", proof,
        )
    )  # fmt: skip
    cosigned = tmp_path / "cosigned4.cp"
    assert_ok(witness(now, cosigned, "--proof", proof))
    # Going back to a smaller tree is refused.
    assert_error(
        witness(old, tmp_path / "y.cp"),
        ExitCode.VERIFICATION_FAILED,
        "smaller tree size",
        "size 4",
        "size 3",
    )
    # The auditor pins the witness key and a quorum.
    result = invoke(
        "audit", "verify-checkpoint", cosigned, "--operator-pub", OP_PUB,
        "--witness", vkey,
    )  # fmt: skip
    assert_ok(result)
    assert "cosigned by: witness.example/w1" in result.stdout
    result = invoke(
        "audit", "verify-checkpoint", cosigned, "--operator-pub", OP_PUB,
        "--witness", vkey, "--witness", other_vkey, "--witnesses", "2",
    )  # fmt: skip
    assert_error(
        result, ExitCode.VERIFICATION_FAILED, "1 of the 2 witness cosignatures"
    )
    result = invoke(
        "audit", "verify-checkpoint", now, "--operator-pub", OP_PUB, "--witness", vkey
    )
    assert_error(result, ExitCode.VERIFICATION_FAILED, "0 of the 1")
    # Stored in the store, the cosigned checkpoint travels with bundles.
    assert_ok(invoke("log", "checkpoint", "--store", db, "--add", cosigned))
    bundle = export(db, tmp_path / "b")
    code, out, _ = replay("--bundle", bundle, "--witness", vkey)
    assert code == ExitCode.OK, out
    assert "cosigned by witnesses: witness.example/w1" in out
    code, out, _ = replay("--bundle", bundle, "--witness", other_vkey)
    assert code == ExitCode.VERIFICATION_FAILED
    assert "0 of the 1 witness cosignatures" in out


def test_bad_proofs_and_requests_are_one_line_errors(
    logged: tuple[Path, Path], tmp_path: Path
) -> None:
    db, old = logged
    for name, content, needle in (
        ("notjson.json", b"{", "not JSON"),
        ("list.json", b"[]", "expected a JSON object"),
        (
            "long.json",
            b'{"type": "inclusion", "proof": [' + b", ".join([b'"AAAA"'] * 65) + b"]}",
            "no proof is that long",
        ),
        (
            "kind.json",
            b'{"type": "other", "proof": []}',
            "expected type inclusion or consistency",
        ),
        (
            "noold.json",
            b'{"type": "consistency", "proof": []}',
            "needs the old checkpoint",
        ),
        (
            "nosize.json",
            b'{"type": "inclusion", "proof": [], "origin": "o"}',
            "treeSize: expected an integer",
        ),
        (
            "badroot.json",
            (
                b'{"type": "inclusion", "proof": [], "origin": "o", "treeSize": 3, '
                b'"rootHash": "!!"}'
            ),
            "rootHash",
        ),
    ):
        path = tmp_path / name
        path.write_bytes(content)
        result = invoke(
            "audit", "verify-checkpoint", old, "--operator-pub", OP_PUB, "--proof", path
        )
        assert_error(result, ExitCode.INVALID_INPUT, needle)
    result = invoke(
        "log", "prove", "--record", "9", "--store", db, "--operator-pub", OP_PUB
    )
    assert_error(
        result, ExitCode.INVALID_INPUT, "record 9 is not in the checkpoint of size 4"
    )
    result = invoke(
        "audit", "verify-checkpoint", old, "--operator-pub", OP_PUB,
        "--witness", "w+00000000+AAAA", "--witnesses", "1",
    )  # fmt: skip
    assert_error(result, ExitCode.INVALID_INPUT, "--witness")


@pytest.fixture(scope="module")
def forked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A log the operator forked at size 2: history A grows to size 3 (``kept3.cp``,
    what an auditor and a witness saw), B to size 4 and C to size 3 with another
    record 3 (``fork4.cp``, ``fork3.cp``); ``incl4.json``/``incl3.json`` prove record
    1 in B and C, ``cons3to4.json`` proves A's size 3 a prefix of A's size 4."""
    tmp = tmp_path_factory.mktemp("fork")
    a, b, c = tmp / "a.db", tmp / "b.db", tmp / "c.db"
    for _ in range(2):
        intake(a)
    shutil.copy(a, b)
    shutil.copy(a, c)
    for db, grow, cp in ((a, 1, "kept3"), (b, 2, "fork4"), (c, 1, "fork3")):
        for _ in range(grow):
            intake(db)
        assert_ok(invoke("log", "checkpoint", "--store", db, "-o", tmp / f"{cp}.cp"))
    for db, doc in ((b, "incl4.json"), (c, "incl3.json")):
        assert_ok(
            invoke(
                "log", "prove", "--record", "1", "--store", db,
                "--operator-pub", OP_PUB, "-o", tmp / doc,
            )
        )  # fmt: skip
    intake(a)
    assert_ok(
        invoke(
            "log", "consistency", tmp / "kept3.cp", "--store", a,
            "--operator-pub", OP_PUB, "-o", tmp / "cons3to4.json",
        )
    )  # fmt: skip
    return tmp


@pytest.mark.parametrize(
    ("fork", "proof"), [("fork4.cp", "incl4.json"), ("fork3.cp", "incl3.json")]
)
def test_an_inclusion_proof_does_not_prove_a_kept_checkpoint(
    forked: Path, fork: str, proof: str
) -> None:
    # The inclusion proof itself is sound (record 1 is in the fork) ...
    result = invoke(
        "audit", "verify-checkpoint", forked / fork, "--operator-pub", OP_PUB,
        "--proof", forked / proof,
    )  # fmt: skip
    assert_ok(result)
    assert "record 1" in result.stdout
    # ... but it says nothing about the checkpoint the auditor kept.
    result = invoke(
        "audit", "verify-checkpoint", forked / fork, "--operator-pub", OP_PUB,
        "--old", forked / "kept3.cp", "--proof", forked / proof,
    )  # fmt: skip
    assert_error(
        result,
        ExitCode.VERIFICATION_FAILED,
        "the proof is of type inclusion; a consistency proof (size 3 to size",
    )


def test_a_consistency_proof_of_another_tree_is_named(forked: Path) -> None:
    # A genuine proof from A's size 3 to A's size 4 shown for B's size 4.
    result = invoke(
        "audit", "verify-checkpoint", forked / "fork4.cp", "--operator-pub", OP_PUB,
        "--old", forked / "kept3.cp", "--proof", forked / "cons3to4.json",
    )  # fmt: skip
    assert_error(
        result,
        ExitCode.VERIFICATION_FAILED,
        "rootHash is not the checkpoint's",
        "the proof is about another tree",
    )
    # For the checkpoint of size 3, the proof's sizes name another tree.
    result = invoke(
        "audit", "verify-checkpoint", forked / "fork3.cp", "--operator-pub", OP_PUB,
        "--old", forked / "kept3.cp", "--proof", forked / "cons3to4.json",
    )  # fmt: skip
    assert_error(result, ExitCode.VERIFICATION_FAILED, "treeSize is not")


def test_a_witness_does_not_cosign_a_fork_shown_an_inclusion_proof(
    forked: Path, tmp_path: Path
) -> None:
    key, vkey = witness_key(tmp_path, "witness.example/w1")
    state = tmp_path / "w.state"

    def witness(cp: str, *args: str | Path) -> Result:
        return invoke(
            "log", "witness", forked / cp, "--key", key, "--name",
            "witness.example/w1", "--operator-pub", OP_PUB, "--state", state,
            "-o", tmp_path / f"{cp}.cosigned", *args,
        )  # fmt: skip

    assert_ok(witness("kept3.cp"))
    kept_state = state.read_bytes()
    assert_error(
        witness("fork4.cp", "--proof", forked / "incl4.json"),
        ExitCode.VERIFICATION_FAILED,
        "the proof is of type inclusion; a consistency proof (size 3 to size 4)",
    )
    assert state.read_bytes() == kept_state
    assert not (tmp_path / "fork4.cp.cosigned").exists()
    result = invoke(
        "audit", "verify-checkpoint", forked / "fork4.cp", "--operator-pub", OP_PUB,
        "--witness", vkey,
    )  # fmt: skip
    assert_error(result, ExitCode.VERIFICATION_FAILED, "0 of the 1")


def _tamper_tree(db: Path, nodes: dict[tuple[int, int], bytes]) -> None:
    """Replace tree nodes (the records stay): what write access without the key does."""
    con = sqlite3.connect(db)
    try:
        triggers = con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        for (name,) in triggers.fetchall():
            con.execute(f"DROP TRIGGER {name}")
        for (level, idx), value in nodes.items():
            con.execute(
                "UPDATE tlog_nodes SET hash = ? WHERE level = ? AND idx = ?",
                (value, level, idx),
            )
        con.commit()
    finally:
        con.close()


@pytest.mark.parametrize("tampered", ["inner", "head leaf"])
def test_the_key_never_signs_a_tree_inconsistent_with_its_checkpoints(
    logged: tuple[Path, Path], tmp_path: Path, tampered: str
) -> None:
    db = tmp_path / "t.db"
    shutil.copy(logged[0], db)  # four records, a checkpoint of each size
    con = sqlite3.connect(db)
    node = "SELECT hash FROM tlog_nodes WHERE level = ? AND idx = ?"
    first, right = (con.execute(node, key).fetchone()[0] for key in ((0, 0), (1, 1)))
    con.close()
    forged = tlog.record_leaf(hashlib.sha256(b"forged").hexdigest())
    if tampered == "inner":  # record 2's leaf and the nodes above it, consistently
        left = tlog.node_hash(first, forged)
        _tamper_tree(
            db, {(0, 1): forged, (1, 0): left, (2, 0): tlog.node_hash(left, right)}
        )
        needles = ["refusing to sign a checkpoint inconsistent", "size 4"]
    else:
        _tamper_tree(db, {(0, 3): forged})
        needles = ["its leaf 4 is not the leaf of record #4", "nothing was recorded"]
    before = invoke("log", "checkpoint", "--store", db).stdout
    result = invoke(
        "intake", SAMPLE_DELIVERY, "--policy", SAMPLE_POLICY, "--operator-key", OP_KEY,
        "--store", db, "--at", SAMPLE_AT_TEXT, "--dedupe-window", "0",
    )  # fmt: skip
    assert_error(result, ExitCode.INVALID_INPUT, *needles)
    result = invoke("log", "checkpoint", "--store", db, "--key", OP_KEY)
    assert_error(result, ExitCode.INVALID_INPUT, "nothing was recorded")
    # Nothing stored: the newest checkpoint is still the genuine one of size 4.
    assert invoke("log", "checkpoint", "--store", db).stdout == before
    # The untouched store: `log checkpoint --key` signs the same tree again.
    copy = tmp_path / "ok.db"
    shutil.copy(logged[0], copy)
    assert_ok(invoke("log", "checkpoint", "--store", copy, "--key", OP_KEY))


def test_an_altered_checkpoint_in_a_bundle_is_a_finding(
    logged: tuple[Path, Path], tmp_path: Path
) -> None:
    bundle = export(logged[0], tmp_path / "b")
    with (bundle / "log" / "checkpoint").open("ab") as note:
        note.write(b"x")
    code, out, err = replay("--bundle", bundle)
    assert code == ExitCode.VERIFICATION_FAILED, err
    assert "log/checkpoint: altered (sha256 differs from MANIFEST.json)" in out
