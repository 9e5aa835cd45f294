"""What an auditor checks with checkpoints (docs/audit.md).

The records against the signed tree head, and a checkpoint kept earlier against the
one presented now.

The log's key signs under the log's origin (c2sp.org/tlog-checkpoint), so the
trusted note keys are the pinned operator keys (Ed25519 only), named by the origin.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from cryptography.hazmat.primitives.asymmetric import ed25519

from vendorproof._internal import crypto
from vendorproof.errors import InvalidInputError, VerificationError
from vendorproof.evidence import tlog
from vendorproof.evidence.checkpoint import Checkpoint, NoteVerifier, parse_signed_note

if TYPE_CHECKING:
    from vendorproof.evidence.bundle import BundleSource, StoreSource
    from vendorproof.evidence.store import StoredRecord

__all__ = [
    "LogCheck",
    "ProofKind",
    "check_log",
    "check_source",
    "consistency_document",
    "inclusion_document",
    "log_verifiers",
    "open_checkpoint",
    "require_cosignatures",
    "verify_proof_document",
]


ProofKind = Literal["inclusion", "consistency"]


def log_verifiers(keys: Iterable[crypto.PublicKey], origin: str) -> list[NoteVerifier]:
    """The note verifiers of the log ``origin``: its Ed25519 operator keys."""
    return [
        NoteVerifier(origin, k) for k in keys if isinstance(k, ed25519.Ed25519PublicKey)
    ]


def open_checkpoint(
    note: bytes,
    keys: Sequence[crypto.PublicKey],
    *,
    origin: str | None = None,
    file: str | None = None,
) -> Checkpoint:
    """Verify a checkpoint signed by one of the operator ``keys``.

    The origin is the one given (the auditor's, or the store's) or, without one, the
    checkpoint's own first line: the signature then proves which log the operator
    named, and a later check compares origins.

    Raises:
        InvalidInputError: not a signed checkpoint, or no Ed25519 operator key.
        SignatureError: not signed by an operator key (or a bad signature by one).
        VerificationError: the checkpoint names another origin.
    """
    text, _ = parse_signed_note(note, file=file)
    claimed = Checkpoint.parse(text, file=file).origin
    if origin is not None and claimed != origin:
        where = f"{file}: " if file else ""
        msg = (
            f"{where}the checkpoint is of the log {claimed!r}, not of {origin!r} "
            "(wrong origin)"
        )
        raise VerificationError(msg)
    name = origin if origin is not None else claimed
    verifiers = log_verifiers(keys, name)
    if not verifiers:
        raise InvalidInputError(
            "checkpoints are Ed25519 signed notes: give the operator's Ed25519 "
            "public key",
            path="--operator-pub",
        )
    cp, _, _ = Checkpoint.open(note, verifiers, origin=name, file=file)
    return cp


@dataclass(slots=True)
class LogCheck:
    """The outcome of :func:`check_log`: what was established, what failed."""

    checkpoint: Checkpoint | None = None
    #: The signed note of the presented checkpoint (None: none presented).
    presented: bytes | None = None
    facts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problem found."""
        return not self.problems


def check_log(  # noqa: PLR0912 - the steps of one check
    leaves: Iterable[bytes],
    *,
    keys: Sequence[crypto.PublicKey],
    carried: bytes | None,
    carried_file: str,
    last: int,
    start_size: int = 0,
    start_edge: Sequence[bytes] = (),
    old: bytes | None = None,
    old_file: str | None = None,
) -> LogCheck:
    """Check the records (as leaf hashes, from ``start_size``) against checkpoints.

    ``carried`` is the checkpoint the store or bundle presents for its last record
    ``last``; ``old`` one the auditor kept from an earlier audit. The records must
    give exactly the carried checkpoint's root; the old checkpoint must be of the
    same log, not larger, and its root must be the root of the records' prefix of
    its size (the records themselves are the consistency proof).

    Raises:
        InvalidInputError: a checkpoint is not a signed checkpoint.
    """
    result = LogCheck()
    if carried is None:
        if old is not None:
            result.problems.append(
                f"{carried_file}: no checkpoint to compare the auditor's checkpoint "
                "with (export the bundle from a store with checkpoints)"
            )
        else:
            result.facts.append(
                "no checkpoint: the records were not checked against one"
            )
        return result
    old_cp: Checkpoint | None = None
    try:
        if old is not None:
            old_cp = open_checkpoint(old, keys, file=old_file)
        cp = open_checkpoint(
            carried,
            keys,
            origin=None if old_cp is None else old_cp.origin,
            file=carried_file,
        )
    except VerificationError as exc:
        result.problems.append(str(exc))
        return result
    result.checkpoint = cp
    result.presented = carried
    if old_cp is not None and old_cp.size > cp.size:
        result.problems.append(
            f"history truncated: the auditor saw the log {cp.origin} at size "
            f"{old_cp.size}, it has size {cp.size} now"
        )
    try:
        edge = tlog.Edge(start_size, start_edge)
    except tlog.ProofError as exc:
        result.problems.append(f"{carried_file}: {exc}")
        return result
    old_root: bytes | None = None
    if old_cp is not None and old_cp.size == edge.size:
        old_root = edge.root()
    for leaf in leaves:
        edge.append(leaf)
        if old_cp is not None and edge.size == old_cp.size:
            old_root = edge.root()
    # A missing record (a gap the chain check reports too) leaves fewer leaves than
    # the last sequence number: the tree is then not the log's, whatever its root.
    if cp.size != last or edge.size != last or cp.root != edge.root():
        result.problems.append(
            f"{carried_file}: the records do not match the checkpoint (it says size "
            f"{cp.size}, root {_b64(cp.root)}; the {edge.size} records up to "
            f"#{last} give root {_b64(edge.root())})"
        )
    else:
        result.facts.append(
            f"checkpoint of {cp.origin}: size {cp.size}, root {_b64(cp.root)} "
            "matches the records"
        )
    if old_cp is not None and old_cp.size <= cp.size:
        if old_root is None:
            result.problems.append(
                f"{old_file}: the auditor's checkpoint of size {old_cp.size} precedes "
                f"the records given (from {start_size + 1}); export from record 1"
            )
        elif old_root != old_cp.root:
            result.problems.append(
                f"history rewritten: the log {cp.origin} at size {old_cp.size} that "
                f"the auditor saw is not a prefix of the log of size {cp.size} now "
                "(the roots of that size differ)"
            )
        else:
            result.facts.append(
                f"consistent with the auditor's checkpoint of size {old_cp.size}"
            )
    return result


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def inclusion_document(
    cp_note: bytes, cp: Checkpoint, seq: int, digest: str, proof: Sequence[bytes]
) -> dict[str, Any]:
    """The JSON an auditor checks offline with ``audit verify-checkpoint --proof``."""
    return {
        "type": "inclusion",
        "origin": cp.origin,
        "treeSize": cp.size,
        "rootHash": _b64(cp.root),
        "seq": seq,
        "leafIndex": seq - 1,
        "recordSha256": digest,
        "proof": [_b64(h) for h in proof],
        "checkpoint": cp_note.decode("utf-8"),
    }


def consistency_document(
    old: Checkpoint, new_note: bytes, new: Checkpoint, proof: Sequence[bytes]
) -> dict[str, Any]:
    """A consistency proof between two checkpoints, as JSON."""
    return {
        "type": "consistency",
        "origin": new.origin,
        "oldSize": old.size,
        "oldRootHash": _b64(old.root),
        "treeSize": new.size,
        "rootHash": _b64(new.root),
        "proof": [_b64(h) for h in proof],
        "checkpoint": new_note.decode("utf-8"),
    }


def _hashes(doc: dict[str, Any], file: str) -> list[bytes]:
    from vendorproof.models._fields import b64decode

    proof = doc.get("proof")
    if not isinstance(proof, list) or not all(isinstance(h, str) for h in proof):
        raise InvalidInputError(
            "expected a list of base64 hashes", path="proof", file=file
        )
    if len(proof) > 64:
        raise InvalidInputError(
            f"{len(proof)} hashes: no proof is that long", path="proof", file=file
        )
    return [b64decode(h, f"proof[{i}]") for i, h in enumerate(proof)]


def verify_proof_document(
    data: bytes,
    cp: Checkpoint,
    *,
    expect: ProofKind,
    old: Checkpoint | None,
    file: str,
) -> str:
    """Verify a proof document (``log prove`` / ``log consistency``) against ``cp``.

    The caller says which proof it needs (``expect``), never the document: where an
    older checkpoint ``old`` must be proven a prefix of ``cp``, only a consistency
    proof between the two does that (RFC 9162 §2.1.4); an inclusion proof says
    nothing about ``old``. The document's origin, sizes and roots must be those of
    the checkpoints it is verified against.

    Returns a one-line description of what it proved.

    Raises:
        InvalidInputError: not a proof document.
        VerificationError: the proof is of another type than required, is about
            other checkpoints, or does not verify against the checkpoint(s).
    """
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise InvalidInputError(f"not JSON: {exc}", file=file) from exc
    if not isinstance(doc, dict):
        raise InvalidInputError("expected a JSON object", file=file)
    kind = doc.get("type")
    if kind not in ("inclusion", "consistency"):
        raise InvalidInputError(
            "expected type inclusion or consistency", path="type", file=file
        )
    if kind == "consistency" and old is None:
        raise InvalidInputError(
            "a consistency proof needs the old checkpoint (--old)", file=file
        )
    if kind != expect:
        what = "" if old is None else f" (size {old.size} to size {cp.size})"
        msg = f"{file}: the proof is of type {kind}; a {expect} proof{what} is needed"
        raise VerificationError(msg)
    hashes = _hashes(doc, file)
    _same_tree(doc, ("origin", "treeSize", "rootHash"), cp, file)
    try:
        if kind == "inclusion":
            seq, digest = doc.get("seq"), doc.get("recordSha256")
            if type(seq) is not int or not isinstance(digest, str):
                raise InvalidInputError("needs seq and recordSha256", file=file)
            try:
                leaf = tlog.record_leaf(digest)
            except ValueError as exc:
                raise InvalidInputError(
                    f"not a hex sha256: {exc}", path="recordSha256", file=file
                ) from exc
            tlog.verify_inclusion(leaf, seq - 1, cp.size, hashes, cp.root)
            return f"record {seq} (sha256 {digest}) is in the log of size {cp.size}"
        assert old is not None  # noqa: S101 - checked above
        _same_tree(doc, ("", "oldSize", "oldRootHash"), old, file)
        tlog.verify_consistency(old.size, cp.size, old.root, cp.root, hashes)
    except tlog.ProofError as exc:
        msg = f"{file}: {exc}"
        raise VerificationError(msg) from exc
    return f"the log of size {old.size} is a prefix of the log of size {cp.size}"


def _same_tree(
    doc: dict[str, Any], fields: tuple[str, str, str], cp: Checkpoint, file: str
) -> None:
    """The document's origin, size and root ``fields`` name the checkpoint ``cp``.

    An empty origin field name skips the origin (a consistency proof names one).

    Raises:
        InvalidInputError: a field is missing or of the wrong type.
        VerificationError: the document is about another tree.
    """
    from vendorproof.models._fields import b64decode

    origin, size, root = fields
    if origin and not isinstance(doc.get(origin), str):
        raise InvalidInputError("expected a string", path=origin, file=file)
    if type(doc.get(size)) is not int:
        raise InvalidInputError("expected an integer", path=size, file=file)
    if not isinstance(doc.get(root), str):
        raise InvalidInputError("expected a base64 hash", path=root, file=file)
    try:
        claimed_root = b64decode(doc[root], root)
    except InvalidInputError as e:
        raise e.in_file(file) from e
    mismatch = [
        (name, shown)
        for name, same, shown in (
            (origin, not origin or doc[origin] == cp.origin, cp.origin),
            (size, doc[size] == cp.size, str(cp.size)),
            (root, claimed_root == cp.root, _b64(cp.root)),
        )
        if not same
    ]
    if mismatch:
        name, shown = mismatch[0]
        msg = (
            f"{file}: {name} is not the checkpoint's ({shown}): the proof is about "
            "another tree"
        )
        raise VerificationError(msg)


def check_source(
    source: StoreSource | BundleSource,
    keys: Sequence[crypto.PublicKey],
    *,
    old: bytes | None = None,
    old_file: str | None = None,
) -> LogCheck:
    """:func:`check_log` for a store (all its records) or an audit bundle.

    A store presents its newest checkpoint of its last record; a bundle the one it
    carries, with the tree edge before its first record.

    Raises:
        InvalidInputError: a checkpoint or the bundle's log entry is malformed.
    """
    from vendorproof.evidence.bundle import StoreSource

    if isinstance(source, StoreSource):
        store = source.store
        last = store.last_seq()
        notes = store.checkpoints(last)
        records: Iterable[StoredRecord] = store.records()
        carried = notes[0] if notes else None
        start, edge = 0, list[bytes]()
        where = store.url
    else:
        try:
            carried, start, edge = source.log()
        except VerificationError as exc:
            return LogCheck(problems=[str(exc)])
        last = source.last_seq()
        records = source.iter_range(start + 1, last)
        where = str(source.root)
    leaves = (tlog.leaf_hash(hashlib.sha256(r.envelope).digest()) for r in records)
    return check_log(
        leaves,
        keys=keys,
        carried=carried,
        carried_file=where,
        last=last,
        start_size=start,
        start_edge=edge,
        old=old,
        old_file=old_file,
    )


def require_cosignatures(
    note: bytes, vkeys: list[str], quorum: int | None, *, file: str
) -> list[str]:
    """The trusted witnesses that cosigned ``note``; fewer than the quorum fails.

    Raises:
        InvalidInputError: a witness key is malformed, or the quorum is more than
            the witnesses given.
        VerificationError: too few cosignatures, or a bad one by a trusted witness.
    """
    from vendorproof.evidence.checkpoint import Witness, cosignatures

    trusted = [Witness.from_vkey(v, file="--witness") for v in vkeys]
    need = len(trusted) if quorum is None else quorum
    if need > len(trusted):
        raise InvalidInputError(
            f"{need} cosignatures required but {len(trusted)} witness keys given",
            path="--witnesses",
        )
    found = cosignatures(note, trusted, file=file)
    if len(found) < need:
        names = ", ".join(found) or "none"
        msg = (
            f"{file}: {len(found)} of the {need} witness cosignatures required "
            f"(cosigned by: {names})"
        )
        raise VerificationError(msg)
    return list(found)
