"""The log as C2SP tlog-tiles: export, tiles checked against an independent RFC 9162
computation, proofs from tiles equal to the store's, and bad tiles never pass."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import Result

from tests.builders import KEYS
from tests.cli.support import assert_error, assert_ok, invoke
from tests.unit.evidence.support import builder
from vendorproof._cli import ExitCode
from vendorproof.errors import VerificationError
from vendorproof.evidence import tlog
from vendorproof.evidence.store import open_store
from vendorproof.evidence.tiles import (
    TileReader,
    encode_index,
    entries_path,
    export_tiles,
    hash_tiles,
    tile_path,
)

OP_KEY = KEYS / "operator" / "intake.key"
OP_PUB = KEYS / "operator" / "intake.pub"


def mth(data: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH over leaf data, by its recursive definition."""
    if not data:
        return hashlib.sha256(b"").digest()
    if len(data) == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1 << ((len(data) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(data[:k]) + mth(data[k:])).digest()


def append(db: Path, start: int, end: int) -> list[bytes]:
    s = open_store(str(db))
    try:
        for i in range(start, end):
            s.append(builder(f"r{i}"), {})
        return [bytes.fromhex(r.digest) for r in s.records()]
    finally:
        s.close()


def checkpoint(db: Path, out: Path) -> Path:
    assert_ok(invoke("log", "checkpoint", "--key", OP_KEY, "--store", db, "-o", out))
    return out


def export(db: Path, out: Path) -> None:
    assert_ok(invoke("log", "export-tiles", out, "--store", db))


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """600 records exported (after 300 were), the checkpoint kept at 300."""
    tmp = tmp_path_factory.mktemp("tiles")
    db = tmp / "evidence.db"
    append(db, 0, 300)
    cp300 = checkpoint(db, tmp / "size300.cp")
    out = tmp / "tiles"
    export(db, out)
    assert (out / "tile/0/001.p/44").is_file()
    full = (out / "tile/0/000").read_bytes()
    append(db, 300, 600)
    checkpoint(db, tmp / "size600.cp")
    export(db, out)
    assert (out / "tile/0/000").read_bytes() == full  # a full tile never changes
    return db, out, cp300


def test_paths_follow_the_spec() -> None:
    assert encode_index(0) == "000"
    assert encode_index(1234067) == "x001/x234/067"
    assert encode_index(1000) == "x001/000"
    assert tile_path(0, 1234067, 8) == "tile/0/x001/x234/067.p/8"
    assert tile_path(2, 5, 256) == "tile/2/005"
    assert entries_path(1234067, 256) == "tile/entries/x001/x234/067"
    assert list(hash_tiles(600)) == [(0, 0, 256), (0, 1, 256), (0, 2, 88), (1, 0, 2)]
    # Names are computed from integers only: never outside tile/.
    shape = re.compile(r"tile/(\d+|entries)/(x\d{3}/)*\d{3}(\.p/\d{1,3})?")
    for n in (0, 7, 999, 1000, 10**9, 2**40):
        assert shape.fullmatch(tile_path(63, n, 1))
        assert shape.fullmatch(entries_path(n, 256))
    for bad in (-1, True):
        with pytest.raises(ValueError, match="tile index"):
            encode_index(bad)
    with pytest.raises(ValueError, match="level"):
        tile_path(64, 0, 1)
    with pytest.raises(ValueError, match="hashes"):
        tile_path(0, 0, 0)


def test_tiles_are_the_rfc_9162_hashes(published: tuple[Path, Path, Path]) -> None:
    db, out, _ = published
    data = append(db, 0, 0)
    assert len(data) == 600
    leaf = [hashlib.sha256(b"\x00" + d).digest() for d in data]
    assert (out / "tile/0/000").read_bytes() == b"".join(leaf[:256])
    assert (out / "tile/0/001").read_bytes() == b"".join(leaf[256:512])
    assert (out / "tile/0/002.p/88").read_bytes() == b"".join(leaf[512:])
    level1 = [mth(data[:256]), mth(data[256:512])]
    assert (out / "tile/1/000.p/2").read_bytes() == b"".join(level1)
    bundle = b"".join(b"\x00\x20" + d for d in data[512:])
    assert (out / "tile/entries/002.p/88").read_bytes() == bundle
    assert (out / "tile/entries/000").read_bytes()[:34] == b"\x00\x20" + data[0]
    note = (out / "checkpoint").read_bytes()
    assert note.split(b"\n")[1:3] == [b"600", base64.b64encode(mth(data))]
    # The partial tiles of size 300 stay: a reader of the old checkpoint finds them.
    assert (out / "tile/0/001.p/44").read_bytes() == b"".join(leaf[256:300])


def test_proofs_from_tiles_are_the_stores(published: tuple[Path, Path, Path]) -> None:
    db, out, _ = published
    s = open_store(str(db), read_only=True)
    try:
        nodes = s.tree_nodes()
        for size in (1, 255, 256, 257, 300, 511, 512, 600):
            reader = TileReader(out, size)
            if size in {300, 600}:  # the partial tiles of other sizes are not there
                assert tlog.root(size, reader.nodes) == tlog.root(size, nodes)
                for m in (0, 1, 255, 256, size - 1):
                    proof = tlog.inclusion_proof(m, size, reader.nodes)
                    assert proof == tlog.inclusion_proof(m, size, nodes)
        reader = TileReader(out, 600)
        for old in (1, 7, 256, 299, 300, 513, 599):
            want = tlog.consistency_proof(old, 600, nodes)
            assert tlog.consistency_proof(old, 600, reader.nodes) == want
        assert reader.entry(0).hex() == s.record(1).digest
    finally:
        s.close()


def test_auditor_verifies_from_tiles(published: tuple[Path, Path, Path]) -> None:
    db, out, cp300 = published
    digest = append(db, 0, 0)[299].hex()
    result = invoke(
        "audit", "verify-checkpoint", "--tiles", out, "--operator-pub", OP_PUB,
        "--old", cp300, "--record", "300", "--digest", digest,
    )  # fmt: skip
    assert_ok(result)
    assert "consistent: size 300 is a prefix of size 600" in result.stdout
    assert f"included: record 300 (digest {digest})" in result.stdout
    result = invoke(
        "audit", "verify-checkpoint", "--tiles", out, "--operator-pub", OP_PUB,
        "--record", "1", "--digest", "00" * 32,
    )  # fmt: skip
    assert_error(result, ExitCode.VERIFICATION_FAILED, "record 1", "not 0000")


def verify(out: Path, cp300: Path, record: str) -> Result:
    return invoke(
        "audit", "verify-checkpoint", "--tiles", out, "--operator-pub", OP_PUB,
        "--old", cp300, "--record", record,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "record"),
    [
        ("tile/0/001", "300"),
        ("tile/1/000.p/2", "1"),
        ("tile/0/002.p/88", "600"),
        ("tile/entries/000", "5"),
    ],
)
def test_a_tampered_tile_fails(
    published: tuple[Path, Path, Path],
    tmp_path: Path,
    name: str,
    record: str,
) -> None:
    _, src, cp300 = published
    out = tmp_path / "t"
    shutil.copytree(src, out)
    path = out / name
    data = bytearray(path.read_bytes())
    # A hash tile: its second hash; the bundle: the digest of record 5.
    data[4 * 34 + 5 if "entries" in name else 40] ^= 1
    path.write_bytes(bytes(data))
    assert_error(
        verify(out, cp300, record), ExitCode.VERIFICATION_FAILED, "do not match"
    )


def test_a_missing_or_malformed_tile_fails(
    published: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, src, cp300 = published
    out = tmp_path / "t"
    shutil.copytree(src, out)
    (out / "tile/1/000.p/2").unlink()
    result = verify(out, cp300, "1")
    assert_error(result, ExitCode.INVALID_INPUT, "tile/1/000.p/2", "missing")
    shutil.rmtree(out)
    shutil.copytree(src, out)
    (out / "tile/0/000").write_bytes(b"\x00" * 100)
    assert_error(
        verify(out, cp300, "2"), ExitCode.INVALID_INPUT, "tile/0/000", "100 bytes"
    )
    (out / "checkpoint").unlink()
    assert_error(verify(out, cp300, "2"), ExitCode.INVALID_INPUT, "checkpoint")


def test_exporting_over_another_log_fails(
    published: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, src, _ = published
    db = tmp_path / "other.db"
    append(db, 1000, 1300)
    checkpoint(db, tmp_path / "cp")
    out = tmp_path / "t"
    shutil.copytree(src, out)
    result = invoke("log", "export-tiles", out, "--store", db)
    assert_error(result, ExitCode.VERIFICATION_FAILED, "tile/0/000", "another log")


def test_export_refuses_records_that_are_not_the_trees_leaves(tmp_path: Path) -> None:
    digests = [hashlib.sha256(b"%d" % i).digest() for i in range(300)]
    tree = tlog.MemoryTree(tlog.leaf_hash(d) for d in digests)
    note = b"a checkpoint"
    assert export_tiles(tmp_path / "ok", 300, tree.nodes, digests, note) == 6
    bad = [*digests[:299], bytes(32)]
    with pytest.raises(VerificationError, match="record 300: its digest is not"):
        export_tiles(tmp_path / "bad", 300, tree.nodes, bad, note)
    with pytest.raises(VerificationError, match="fewer records"):
        export_tiles(tmp_path / "short", 300, tree.nodes, digests[:299], note)
    assert not (tmp_path / "bad" / "checkpoint").exists()


def test_bad_tiles_requests_are_one_line_errors(
    published: tuple[Path, Path, Path],
) -> None:
    _, out, cp300 = published
    cp = out / "checkpoint"
    for args, needle in (
        ((), "give a CHECKPOINT or --tiles DIR"),
        ((cp, "--record", "1"), "--record and --digest need --tiles"),
        (("--tiles", out, "--digest", "00"), "--digest needs --record"),
        (("--tiles", out, "--record", "601"), "not in the checkpoint of size 600"),
    ):
        result = invoke("audit", "verify-checkpoint", "--operator-pub", OP_PUB, *args)
        assert_error(result, ExitCode.INVALID_INPUT, needle)
    # An older checkpoint is still served: its partial tiles stay in the directory.
    result = invoke(
        "audit", "verify-checkpoint", cp300, "--tiles", out, "--operator-pub", OP_PUB,
        "--record", "300",
    )  # fmt: skip
    assert_ok(result)
    assert "included: record 300" in result.stdout


def test_log_prove_and_consistency_from_tiles_alone(
    published: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    db, src, cp300 = published
    out = tmp_path / "t"
    shutil.copytree(src, out)
    # The same proofs as from the store, with no database at all.
    for name, where in (("store", ("--store", db)), ("tiles", ("--tiles", out))):
        prove = ("log", "prove", "--record", "300", "--operator-pub", OP_PUB, *where)
        assert_ok(invoke(*prove, "-o", tmp_path / f"prove-{name}.json"))
        consistency = ("log", "consistency", cp300, "--operator-pub", OP_PUB, *where)
        assert_ok(invoke(*consistency, "-o", tmp_path / f"cons-{name}.json"))
    for kind in ("prove", "cons"):
        tiles = (tmp_path / f"{kind}-tiles.json").read_bytes()
        assert tiles == (tmp_path / f"{kind}-store.json").read_bytes()
    # ... which verify offline against the tiles' checkpoint.
    for proof, old in (("prove-tiles.json", ()), ("cons-tiles.json", ("--old", cp300))):
        result = invoke(
            "audit", "verify-checkpoint", out / "checkpoint", "--operator-pub", OP_PUB,
            "--proof", tmp_path / proof, *old,
        )  # fmt: skip
        assert_ok(result)
    # Against an older checkpoint: its partial tiles are still there.
    older = tmp_path / "older.json"
    prove = ("log", "prove", "--record", "2", "--checkpoint", cp300, "--tiles", out)
    assert_ok(invoke(*prove, "--operator-pub", OP_PUB, "-o", older))
    assert '"treeSize": 300' in older.read_text()
    # A tampered tile or entry is never a proof.
    bundle = out / "tile/entries/001"
    data = bytearray(bundle.read_bytes())
    data[40] ^= 1
    bundle.write_bytes(bytes(data))
    result = invoke(
        "log", "prove", "--record", "258", "--tiles", out, "--operator-pub", OP_PUB
    )
    assert_error(result, ExitCode.VERIFICATION_FAILED, "record 258", "not in the")
    level1 = out / "tile/1/000.p/2"
    level1.write_bytes(bytes(64))
    result = invoke(
        "log", "consistency", cp300, "--tiles", out, "--operator-pub", OP_PUB
    )
    assert_error(result, ExitCode.VERIFICATION_FAILED, "history rewritten", "300")


def test_tiles_proof_requests_are_one_line_errors(
    published: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    db, out, cp300 = published
    pin = ("--operator-pub", OP_PUB)
    for args, code, needle in (
        (("prove", "--record", "1", "--tiles", out, "--store", db), 3, "not both"),
        (("consistency", cp300, "--tiles", out, "--store", db), 3, "not both"),
        (("prove", "--record", "601", "--tiles", out), 3, "not in the checkpoint"),
        (("prove", "--record", "1", "--tiles", tmp_path), 3, "checkpoint"),
        # The newer checkpoint is older than the kept one: truncated.
        (("consistency", out / "checkpoint", cp300, "--tiles", out), 1, "truncated"),
    ):
        result = invoke("log", *args, *pin)
        assert_error(result, ExitCode(code), needle)
    # A tiles directory that lacks the tiles of the checkpoint's size.
    empty = tmp_path / "empty"
    empty.mkdir()
    shutil.copy(out / "checkpoint", empty / "checkpoint")
    result = invoke("log", "prove", "--record", "1", "--tiles", empty, *pin)
    assert_error(result, ExitCode.INVALID_INPUT, "missing from the tiles directory")
