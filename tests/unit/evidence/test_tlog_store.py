"""The Merkle tree kept by the stores (SQLite and PostgreSQL): incremental at append,
built for records stored before schema version 5, append-only, proofs of any size."""

from __future__ import annotations

import hashlib
import json
from contextlib import closing

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.unit.evidence.support import Backend, builder, sha256
from vendorproof.errors import InvalidInputError
from vendorproof.evidence import _migrations, tlog
from vendorproof.evidence.checkpoint import Checkpoint, NoteVerifier
from vendorproof.evidence.store import EvidenceStore, _connect, open_store


def leaves(store: EvidenceStore) -> list[bytes]:
    return [tlog.record_leaf(r.digest) for r in store.records()]


def test_tree_grows_with_every_append(store: EvidenceStore) -> None:
    for i in range(1, 20):
        store.append(builder(f"r{i}"), {})
        assert store.tree_size() == i
    hashes = leaves(store)
    nodes = store.tree_nodes()
    for n in range(1, 20):
        want = tlog.root_from_leaves(hashes[:n])[1]
        assert tlog.root(n, nodes) == want
        for m in range(n):
            proof = tlog.inclusion_proof(m, n, nodes)
            tlog.verify_inclusion(hashes[m], m, n, proof, want)
        for m in range(1, n):
            proof = tlog.consistency_proof(m, n, nodes)
            tlog.verify_consistency(m, n, tlog.root(m, nodes), want, proof)


def test_the_leaf_is_the_record_digest(store: EvidenceStore) -> None:
    rec = store.append(builder("only"), {})
    assert tlog.root(1, store.tree_nodes()) == tlog.leaf_hash(bytes.fromhex(rec.digest))
    assert bytes.fromhex(rec.digest) == hashlib.sha256(rec.envelope).digest()


def test_tree_nodes_are_append_only(store: EvidenceStore, backend: Backend) -> None:
    for i in range(1, 5):
        store.append(builder(f"r{i}"), {})
    store.add_checkpoint(4, b"a note")
    with backend.raw() as raw:
        for sql in (
            "UPDATE tlog_nodes SET hash = hash",
            "DELETE FROM tlog_nodes WHERE level = 0",
            "DELETE FROM tlog_checkpoints",
            "UPDATE tlog_log SET origin = 'x'",
        ):
            with pytest.raises(backend.error, match="append-only"):
                raw.execute(sql)
        # A node for a record not stored yet, or a second copy of a node.
        for level, idx in ((0, 4), (2, 1), (3, 0), (0, 1)):
            with pytest.raises(backend.error):
                raw.execute(
                    "INSERT INTO tlog_nodes (level, idx, hash) VALUES (?, ?, ?)",
                    (level, idx, bytes(32)),
                )
        assert raw.scalar("SELECT count(*) FROM tlog_nodes") == 4 + 2 + 1


def test_records_stored_before_the_tree_get_it_at_migration(backend: Backend) -> None:
    db = _connect(backend.url)
    try:
        assert _migrations.migrate(db, target=4) == 4
    finally:
        db.close()
    envelopes = []
    with backend.raw() as raw:
        prev = None
        for seq in range(1, 1100):
            env = json.dumps({"seq": seq, "id": f"old{seq}"}).encode()
            raw.execute(
                "INSERT INTO records (seq, record_id, digest, prev_digest, created_at, "
                "vendor, product, version, security_version, verdict, envelope) VALUES "
                "(?, ?, ?, ?, '2025-06-01T00:00:00Z', 'acme', 'du', '0.9', 3, 'PASSED', ?)",
                (seq, f"old{seq}", sha256(env), prev, env),
            )
            prev = sha256(env)
            envelopes.append(env)
    with closing(open_store(backend.url)) as store:
        assert store.schema_version() == _migrations.LATEST
        assert store.tree_size() == 1099
        store.append(builder("new"), {})
        hashes = leaves(store)
        assert tlog.root(1100, store.tree_nodes()) == tlog.root_from_leaves(hashes)[1]
        assert store.log_origin().startswith("vendorproof.evidence/")


def test_a_store_without_its_nodes_fails_closed(store: EvidenceStore) -> None:
    store.append(builder("a"), {})
    with pytest.raises(InvalidInputError, match=r"lacks node \(level 1, index 0\)"):
        tlog.root(2, store.tree_nodes())


def test_the_origin_is_fixed_once(backend: Backend) -> None:
    with closing(open_store(backend.url)) as store:
        first = store.log_origin()
    with closing(open_store(backend.url)) as store:
        assert store.log_origin() == first  # fixed once
    assert len(first) == len("vendorproof.evidence/") + 32


def test_append_stores_the_signed_checkpoint_of_each_size(store: EvidenceStore) -> None:
    key = Ed25519PrivateKey.generate()
    origin = store.log_origin()
    log_key = NoteVerifier(origin, key.public_key())
    for i in range(1, 6):
        store.append(builder(f"r{i}"), {}, checkpoint_key=key)
    hashes = leaves(store)
    for size in range(1, 6):
        (note,) = store.checkpoints(size)
        cp, _, _ = Checkpoint.open(note, [log_key], origin=origin)
        assert (cp.size, cp.root) == (size, tlog.root_from_leaves(hashes[:size])[1])
    assert len(store.checkpoints()) == 5
    store.append(builder("unsigned"), {})
    assert store.checkpoints(6) == []


def _unguarded(backend: Backend, *statements: tuple[str, tuple[object, ...]]) -> None:
    """Run ``statements`` with the append-only triggers off (write access, no key)."""
    with backend.raw() as raw:
        if backend.name == "sqlite":
            triggers = raw.execute(
                "SELECT name FROM sqlite_master WHERE type='trigger'"
            )
            for (name,) in triggers:
                raw.execute(f'DROP TRIGGER "{name}"')
        else:
            for table in ("records", "record_inputs", "tlog_nodes"):
                raw.execute(f"ALTER TABLE {table} DISABLE TRIGGER ALL")  # FKs too
        for sql, params in statements:
            raw.execute(sql, params)


def test_append_refuses_a_store_with_a_record_deleted(
    store: EvidenceStore, backend: Backend
) -> None:
    for i in range(1, 4):
        store.append(builder(f"r{i}"), {})
    _unguarded(backend, ("DELETE FROM records WHERE seq = ?", (2,)))
    with pytest.raises(InvalidInputError, match="holds 2 records up to #3") as err:
        store.append(builder("r4"), {})
    assert "nothing was recorded" in str(err.value)
    assert store.last_seq() == 3
    assert store.tree_size() == 3


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            (
                "UPDATE tlog_nodes SET hash = ? WHERE level = 0 AND idx = 2",
                (b"x" * 32,),
            ),
            "its leaf 3 is not the leaf of record #3",
        ),
        (
            ("DELETE FROM tlog_nodes WHERE level = 0 AND idx = 2", ()),
            "it holds 2 leaves, the chain 3 records",
        ),
    ],
)
def test_append_refuses_a_tree_that_is_not_the_records(
    store: EvidenceStore,
    backend: Backend,
    statement: tuple[str, tuple[object, ...]],
    message: str,
) -> None:
    for i in range(1, 4):
        store.append(builder(f"r{i}"), {})
    _unguarded(backend, statement)
    with pytest.raises(InvalidInputError, match=message):
        store.append(builder("r4"), {})
    assert store.last_seq() == 3


def test_the_key_never_signs_a_tree_inconsistent_with_its_checkpoint(
    store: EvidenceStore, backend: Backend
) -> None:
    key = Ed25519PrivateKey.generate()
    for i in range(1, 5):
        store.append(builder(f"r{i}"), {}, checkpoint_key=key)
    size, note = store.sign_checkpoint(key)  # the same tree again: consistent
    assert size == 4
    assert store.checkpoints(4)[0] == note
    nodes = store.tree_nodes()
    first, right = (nodes([k])[k] for k in ((0, 0), (1, 1)))
    forged = tlog.record_leaf(sha256(b"forged"))
    left = tlog.node_hash(first, forged)
    update = "UPDATE tlog_nodes SET hash = ? WHERE level = ? AND idx = ?"
    _unguarded(
        backend,
        (update, (forged, 0, 1)),
        (update, (left, 1, 0)),
        (update, (tlog.node_hash(left, right), 2, 0)),
    )
    with pytest.raises(InvalidInputError, match="refusing to sign a checkpoint"):
        store.append(builder("r5"), {}, checkpoint_key=key)
    with pytest.raises(InvalidInputError, match="does not extend the checkpoint"):
        store.sign_checkpoint(key)
    assert store.last_seq() == 4
    assert store.checkpoints(4)[0] == note
    # Another key has signed nothing here: it may sign (its first checkpoint).
    other = Ed25519PrivateKey.generate()
    assert store.sign_checkpoint(other)[0] == 4
