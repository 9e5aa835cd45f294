"""Checkpoints against truncated and rewritten history, on SQLite and PostgreSQL.

Whoever owns the database can delete the newest records (and their tree nodes and
checkpoints): the chain that remains is valid, so only a checkpoint kept from an
earlier audit can tell. These tests do exactly that, with the triggers bypassed.
"""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.cli.support import assert_error, assert_ok, invoke
from tests.unit.evidence.support import Backend, builder
from vendorproof._cli import ExitCode
from vendorproof.evidence.bundle import StoreSource
from vendorproof.evidence.logcheck import check_source
from vendorproof.evidence.store import EvidenceStore

KEY = Ed25519PrivateKey.generate()
PUB = KEY.public_key()


def append(store: EvidenceStore, *ids: str) -> None:
    for record_id in ids:
        store.append(builder(record_id), {}, checkpoint_key=KEY)


def truncate(backend: Backend, keep: int) -> None:
    """Delete every record after ``keep``, its tree nodes and its checkpoints."""
    with backend.raw() as raw:
        if backend.name == "sqlite":
            for table in ("records", "record_inputs", "tlog_nodes", "tlog_checkpoints"):
                raw.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        else:
            raw.execute("SET session_replication_role = replica")
        raw.execute("DELETE FROM record_inputs WHERE seq > ?", (keep,))
        raw.execute("DELETE FROM records WHERE seq > ?", (keep,))
        raw.execute("DELETE FROM tlog_nodes WHERE ((idx + 1) << level) > ?", (keep,))
        raw.execute("DELETE FROM tlog_checkpoints WHERE size > ?", (keep,))


def kept(store: EvidenceStore, tmp_path: Path, name: str) -> Path:
    """The checkpoint an auditor keeps: the store's current one, in a file."""
    path = tmp_path / name
    path.write_bytes(store.checkpoints(store.last_seq())[0])
    return path


def pub_file(tmp_path: Path) -> Path:
    path = tmp_path / "log.pub"
    path.write_bytes(
        PUB.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


def test_an_extended_log_is_consistent(store: EvidenceStore, tmp_path: Path) -> None:
    append(store, "a", "b", "c", "d", "e")
    old = kept(store, tmp_path, "old.cp")
    append(store, "f", "g")
    check = check_source(
        StoreSource(store), [PUB], old=old.read_bytes(), old_file=str(old)
    )
    assert check.ok, check.problems
    assert "consistent with the auditor's checkpoint of size 5" in check.facts
    assert any("size 7" in f and "matches the records" in f for f in check.facts)


def test_deleting_the_last_records_is_detected(
    store: EvidenceStore, backend: Backend, tmp_path: Path
) -> None:
    append(store, "a", "b", "c", "d", "e", "f", "g")
    old = kept(store, tmp_path, "old.cp")
    truncate(backend, 5)
    assert store.last_seq() == 5
    # Alone, the truncated store is a valid chain with a valid checkpoint...
    alone = check_source(StoreSource(store), [PUB])
    assert alone.ok, alone.problems
    # ...the auditor's checkpoint of size 7 is what tells.
    check = check_source(
        StoreSource(store), [PUB], old=old.read_bytes(), old_file=str(old)
    )
    assert any(
        "history truncated" in p and "at size 7, it has size 5 now" in p
        for p in check.problems
    ), check.problems
    result = invoke(
        "log",
        "consistency",
        old,
        "--store",
        backend.url,
        "--operator-pub",
        pub_file(tmp_path),
    )
    assert_error(
        result, ExitCode.VERIFICATION_FAILED, "history truncated", "size 7", "size 5"
    )


def test_a_rewritten_history_is_detected(
    store: EvidenceStore, backend: Backend, tmp_path: Path
) -> None:
    append(store, "a", "b", "c", "d", "e")
    first = kept(store, tmp_path, "first-auditor.cp")
    # The owner rewrites records 4 and 5 and goes on: a second auditor gets a log
    # that is valid on its own, of a larger size.
    truncate(backend, 3)
    append(store, "d2", "e2", "f2")
    second = kept(store, tmp_path, "second-auditor.cp")
    assert check_source(StoreSource(store), [PUB]).ok
    check = check_source(
        StoreSource(store), [PUB], old=first.read_bytes(), old_file=str(first)
    )
    assert any(
        "history rewritten" in p and "size 5" in p and "size 6" in p
        for p in check.problems
    ), check.problems
    pub = pub_file(tmp_path)
    result = invoke(
        "log",
        "consistency",
        first,
        second,
        "--store",
        backend.url,
        "--operator-pub",
        pub,
    )
    assert_error(
        result, ExitCode.VERIFICATION_FAILED, "history rewritten", "size 5", "size 6"
    )
    # The two auditors compare their checkpoints offline: no proof links them.
    result = invoke(
        "audit", "verify-checkpoint", second, "--old", first, "--operator-pub", pub
    )
    assert_error(result, ExitCode.VERIFICATION_FAILED, "not proven")


def test_proofs_from_the_store_verify_offline(
    store: EvidenceStore, backend: Backend, tmp_path: Path
) -> None:
    append(store, "a", "b", "c")
    old = kept(store, tmp_path, "old.cp")
    append(store, "d", "e", "f", "g", "h")
    pub = pub_file(tmp_path)
    cp = tmp_path / "now.cp"
    assert_ok(invoke("log", "checkpoint", "--store", backend.url, "-o", cp))
    incl = tmp_path / "incl.json"
    assert_ok(
        invoke(
            "log", "prove", "--record", "2", "--store", backend.url,
            "--operator-pub", pub, "--checkpoint", cp, "-o", incl,
        )
    )  # fmt: skip
    doc = json.loads(incl.read_text())
    assert (doc["seq"], doc["treeSize"], len(doc["proof"])) == (2, 8, 3)
    cons = tmp_path / "cons.json"
    assert_ok(
        invoke(
            "log", "consistency", old, cp, "--store", backend.url,
            "--operator-pub", pub, "-o", cons,
        )
    )  # fmt: skip
    result = invoke(
        "audit", "verify-checkpoint", cp, "--operator-pub", pub, "--proof", incl
    )
    assert_ok(result)
    assert "record 2" in result.stdout
    result = invoke(
        "audit",
        "verify-checkpoint",
        cp,
        "--old",
        old,
        "--operator-pub",
        pub,
        "--proof",
        cons,
    )
    assert_ok(result)
    assert "size 3 is a prefix of the log of size 8" in result.stdout
    # A proof of the wrong length, or for another record, fails.
    short = dict(doc, proof=doc["proof"][:-1])
    (tmp_path / "short.json").write_text(json.dumps(short))
    result = invoke(
        "audit", "verify-checkpoint", cp, "--operator-pub", pub,
        "--proof", tmp_path / "short.json",
    )  # fmt: skip
    assert_error(result, ExitCode.VERIFICATION_FAILED, "fewer than the tree needs")
    other = dict(doc, seq=3)
    (tmp_path / "other.json").write_text(json.dumps(other))
    result = invoke(
        "audit", "verify-checkpoint", cp, "--operator-pub", pub,
        "--proof", tmp_path / "other.json",
    )  # fmt: skip
    assert_error(result, ExitCode.VERIFICATION_FAILED, "does not lead to the root")
    # A smaller checkpoint than the one kept fails.
    result = invoke(
        "audit", "verify-checkpoint", old, "--old", cp, "--operator-pub", pub
    )
    assert_error(result, ExitCode.VERIFICATION_FAILED, "size 8", "size 3")
