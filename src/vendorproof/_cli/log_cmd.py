"""The transparency log commands (docs/audit.md, "Checkpoints").

``log checkpoint``, ``log prove``, ``log consistency``, ``log export-tiles`` and
``audit verify-checkpoint`` (also from a tiles directory).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vendorproof._cli._common import echo, json_text, load_signing_key, safe_text
from vendorproof._cli._errors import ExitCode
from vendorproof._cli.evidence_cmd import Store, _open, _public_keys, audit_app
from vendorproof._internal.jsonio import read_document, write_atomic
from vendorproof.errors import InvalidInputError, VerificationError

if TYPE_CHECKING:
    from vendorproof.evidence.checkpoint import Checkpoint
    from vendorproof.evidence.store import EvidenceStore

log_app = typer.Typer(
    help="The Merkle log over the evidence: checkpoints and proofs.",
    no_args_is_help=True,
)

OperatorPub = Annotated[
    list[Path],
    typer.Option(
        "--operator-pub",
        help="The operator's Ed25519 public key(s) (PEM), pinned.",
        metavar="PATH",
    ),
]
Output = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", help="Write to FILE (default: stdout).", metavar="PATH"
    ),
]


def _emit(data: bytes, output: Path | None, *, force: bool = False) -> None:
    """Write ``data`` to ``output`` as it is, or print it line by line, escaped.

    Notes and proofs hold no control characters (a note with one does not parse),
    so the printed text is the same bytes unless something was smuggled in.
    """
    if output is not None:
        write_atomic(output, data, force=force)
        return
    for line in data.decode("utf-8", errors="replace").splitlines():
        typer.echo(safe_text(line))


def _current(s: EvidenceStore) -> bytes:
    """The newest stored checkpoint of the store's current size."""
    size = s.last_seq()
    notes = s.checkpoints(size)
    if not notes:
        raise InvalidInputError(
            f"no checkpoint of the current size {size} is stored: sign one with "
            "`vendorproof log checkpoint --key KEY`",
            file=s.url,
        )
    return notes[0]


@log_app.command("checkpoint")
def log_checkpoint(
    store: Store = None,
    key: Annotated[
        Path | None,
        typer.Option(
            "--key",
            help="Sign (and store) a new checkpoint with this Ed25519 key.",
            metavar="PATH",
        ),
    ] = None,
    add: Annotated[
        Path | None,
        typer.Option(
            "--add",
            help="Store this checkpoint (e.g. cosigned by witnesses) if it is of "
            "this log and its root is the store's root of its size.",
            metavar="PATH",
        ),
    ] = None,
    output: Output = None,
    force: Annotated[bool, typer.Option("--force")] = False,
) -> None:
    """Print the signed checkpoint of the log's current size (C2SP tlog-checkpoint).

    Without --key: the newest stored one (intake stores one at every append). With
    --key: a checkpoint signed now with that key under the log's origin, stored,
    only if the stored tree extends the newest checkpoint that key signed.
    """
    from cryptography.hazmat.primitives.asymmetric import ed25519

    if add is not None:
        _add_checkpoint(store, add)
        return
    if key is None:
        from vendorproof.evidence.checkpoint import parse_signed_note

        s = _open(store)
        try:
            note = _current(s)
            parse_signed_note(note, file=s.url)  # a note, nothing smuggled in
        finally:
            s.close()
        _emit(note, output, force=force)
        return
    signing = load_signing_key(key)
    if not isinstance(signing, ed25519.Ed25519PrivateKey):
        raise InvalidInputError(
            "checkpoints are signed with Ed25519 keys (c2sp.org/signed-note)",
            file=str(key),
        )
    s = _open(store, read_only=False)
    try:
        _, note = s.sign_checkpoint(signing)
    finally:
        s.close()
    _emit(note, output, force=force)


Witnesses = Annotated[
    list[str] | None,
    typer.Option(
        "--witness",
        help="A trusted witness key (name+keyid+base64, from `log vkey`); repeatable.",
        metavar="TEXT",
    ),
]
Quorum = Annotated[
    int | None,
    typer.Option(
        "--witnesses",
        min=0,
        help="Cosignatures by distinct trusted witnesses required (default: all "
        "--witness keys).",
        metavar="N",
    ),
]


def _add_checkpoint(store: str | None, path: Path) -> None:
    from vendorproof.evidence import tlog
    from vendorproof.evidence.checkpoint import Checkpoint, parse_signed_note

    note = read_document(path)
    text, _ = parse_signed_note(note, file=str(path))
    cp = Checkpoint.parse(text, file=str(path))
    s = _open(store, read_only=False)
    try:
        origin = s.log_origin()
        if cp.origin != origin:
            msg = f"{path}: a checkpoint of {cp.origin!r}, not of this log {origin!r}"
            raise VerificationError(msg)
        if cp.size > s.tree_size() or cp.root != tlog.root(cp.size, s.tree_nodes()):
            msg = f"{path}: not the store's tree of size {cp.size}"
            raise VerificationError(msg)
        s.add_checkpoint(cp.size, note)
    finally:
        s.close()
    echo(f"stored the checkpoint of size {cp.size} from {path}")


def _checkpoint_file(
    path: Path, keys: list[Path], *, origin: str | None
) -> tuple[bytes, Checkpoint]:
    from vendorproof.evidence.logcheck import open_checkpoint

    note = read_document(path)
    return note, open_checkpoint(
        note, _public_keys(keys), origin=origin, file=str(path)
    )


Tiles = Annotated[
    Path | None,
    typer.Option(
        "--tiles",
        help="Read the log from this tiles directory (`log export-tiles`) instead "
        "of a store.",
        metavar="PATH",
    ),
]


def _no_store_with_tiles(store: str | None, tiles: Path | None) -> None:
    if store is not None and tiles is not None:
        raise InvalidInputError(
            "read the log from a store or from tiles, not both", path="--tiles"
        )


@log_app.command("prove")
def log_prove(
    record: Annotated[
        int, typer.Option("--record", min=1, help="Sequence number.", metavar="N")
    ],
    operator_pub: OperatorPub,
    store: Store = None,
    tiles: Tiles = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            help="Prove against this checkpoint (default: the store's current one, "
            "or DIR/checkpoint with --tiles).",
            metavar="PATH",
        ),
    ] = None,
    output: Output = None,
    force: Annotated[bool, typer.Option("--force")] = False,
) -> None:
    """Inclusion proof of one record in a checkpoint (RFC 9162 §2.1.3), as JSON.

    From the store, or with --tiles from an exported tiles directory alone (the
    record's digest from its entry bundle, the proof from the hash tiles). The proof
    is verified before it is printed; `audit verify-checkpoint --proof` verifies it
    offline.
    """
    from vendorproof.evidence import tlog
    from vendorproof.evidence.logcheck import inclusion_document

    _no_store_with_tiles(store, tiles)
    if tiles is not None:
        note, cp, digest, proof = _prove_from_tiles(
            tiles, record, operator_pub, checkpoint
        )
        where = str(tiles)
    else:
        note, cp, digest, proof = _prove_from_store(
            store, record, operator_pub, checkpoint
        )
        where = "the store"
    try:
        tlog.verify_inclusion(
            tlog.record_leaf(digest), record - 1, cp.size, proof, cp.root
        )
    except tlog.ProofError as exc:
        msg = (
            f"record {record} of {where} is not in the checkpoint of size "
            f"{cp.size}: {exc} (the records or tree differ from what was signed)"
        )
        raise VerificationError(msg) from exc
    doc = inclusion_document(note, cp, record, digest, proof)
    _emit((json_text(doc, indent=2) + "\n").encode(), output, force=force)


def _in_checkpoint(record: int, cp: Checkpoint) -> None:
    if record > cp.size:
        raise InvalidInputError(
            f"record {record} is not in the checkpoint of size {cp.size}",
            path="--record",
        )


def _prove_from_store(
    store: str | None, record: int, keys: list[Path], checkpoint: Path | None
) -> tuple[bytes, Checkpoint, str, list[bytes]]:
    """The checkpoint, the record's digest and its inclusion proof, from a store."""
    from vendorproof.evidence import tlog
    from vendorproof.evidence.logcheck import open_checkpoint

    s = _open(store)
    try:
        origin = s.log_origin()
        if checkpoint is None:
            note = _current(s)
            cp = open_checkpoint(note, _public_keys(keys), origin=origin, file=s.url)
        else:
            note, cp = _checkpoint_file(checkpoint, keys, origin=origin)
        _in_checkpoint(record, cp)
        digest = tlog_digest(s.record(record).envelope)
        proof = tlog.inclusion_proof(record - 1, cp.size, s.tree_nodes())
    finally:
        s.close()
    return note, cp, digest, proof


def _prove_from_tiles(
    tiles: Path, record: int, keys: list[Path], checkpoint: Path | None
) -> tuple[bytes, Checkpoint, str, list[bytes]]:
    """The same from a tiles directory (the checkpoint's origin, pinned by its key)."""
    from vendorproof.evidence import tlog
    from vendorproof.evidence.tiles import CHECKPOINT, TileReader

    note, cp = _checkpoint_file(checkpoint or tiles / CHECKPOINT, keys, origin=None)
    _in_checkpoint(record, cp)
    reader = TileReader(tiles, cp.size)
    try:
        digest = reader.entry(record - 1).hex()
        proof = tlog.inclusion_proof(record - 1, cp.size, reader.nodes)
    except tlog.ProofError as exc:
        raise _tiles_differ(tiles, cp, exc) from exc
    return note, cp, digest, proof


def _tiles_differ(tiles: Path, cp: Checkpoint, exc: Exception) -> VerificationError:
    return VerificationError(
        f"{tiles}: the tiles do not match the checkpoint of size {cp.size}: {exc}"
    )


def tlog_digest(envelope: bytes) -> str:
    """The record digest (sha256 hex of the envelope bytes)."""
    import hashlib

    return hashlib.sha256(envelope).hexdigest()


@log_app.command("consistency")
def log_consistency(
    old: Annotated[Path, typer.Argument(help="The older checkpoint (kept earlier).")],
    operator_pub: OperatorPub,
    new: Annotated[
        Path | None,
        typer.Argument(
            help="The newer checkpoint (default: the store's current one, or "
            "DIR/checkpoint with --tiles)."
        ),
    ] = None,
    store: Store = None,
    tiles: Tiles = None,
    output: Output = None,
    force: Annotated[bool, typer.Option("--force")] = False,
) -> None:
    """Consistency proof that OLD's tree is a prefix of NEW's (RFC 9162 §2.1.4).

    From the store, or with --tiles from an exported tiles directory alone. Exit 1
    when the log shrank or was rewritten since OLD: the message names the size OLD
    saw and the size now.
    """
    from vendorproof.evidence import tlog
    from vendorproof.evidence.logcheck import consistency_document

    _no_store_with_tiles(store, tiles)
    if tiles is not None:
        old_cp, new_note, new_cp, proof = _consistency_from_tiles(
            tiles, old, new, operator_pub
        )
    else:
        old_cp, new_note, new_cp, proof = _consistency_from_store(
            store, old, new, operator_pub
        )
    try:
        tlog.verify_consistency(
            old_cp.size, new_cp.size, old_cp.root, new_cp.root, proof
        )
    except tlog.ProofError as exc:
        msg = (
            f"history rewritten: the log {new_cp.origin} of size {old_cp.size} that "
            f"{old} saw is not a prefix of the log of size {new_cp.size} now ({exc})"
        )
        raise VerificationError(msg) from exc
    doc = consistency_document(old_cp, new_note, new_cp, proof)
    _emit((json_text(doc, indent=2) + "\n").encode(), output, force=force)


def _not_truncated(old: Path, old_cp: Checkpoint, new_cp: Checkpoint) -> None:
    if old_cp.size > new_cp.size:
        msg = (
            f"history truncated: {old} saw the log {new_cp.origin} at size "
            f"{old_cp.size}, it has size {new_cp.size} now"
        )
        raise VerificationError(msg)


def _consistency_from_store(
    store: str | None, old: Path, new: Path | None, keys: list[Path]
) -> tuple[Checkpoint, bytes, Checkpoint, list[bytes]]:
    """Both checkpoints and the consistency proof between them, from a store."""
    from vendorproof.evidence import tlog
    from vendorproof.evidence.logcheck import open_checkpoint

    s = _open(store)
    try:
        origin = s.log_origin()
        _, old_cp = _checkpoint_file(old, keys, origin=origin)
        if new is None:
            new_note = _current(s)
            new_cp = open_checkpoint(
                new_note, _public_keys(keys), origin=origin, file=s.url
            )
        else:
            new_note, new_cp = _checkpoint_file(new, keys, origin=origin)
        _not_truncated(old, old_cp, new_cp)
        if new_cp.size > s.tree_size():
            raise InvalidInputError(
                f"the store's tree has {s.tree_size()} records, fewer than the "
                f"checkpoint's {new_cp.size}",
                file=s.url,
            )
        proof = tlog.consistency_proof(old_cp.size, new_cp.size, s.tree_nodes())
    finally:
        s.close()
    return old_cp, new_note, new_cp, proof


def _consistency_from_tiles(
    tiles: Path, old: Path, new: Path | None, keys: list[Path]
) -> tuple[Checkpoint, bytes, Checkpoint, list[bytes]]:
    """The same from a tiles directory; both checkpoints of OLD's origin."""
    from vendorproof.evidence import tlog
    from vendorproof.evidence.tiles import CHECKPOINT, TileReader

    _, old_cp = _checkpoint_file(old, keys, origin=None)
    new_note, new_cp = _checkpoint_file(
        new or tiles / CHECKPOINT, keys, origin=old_cp.origin
    )
    _not_truncated(old, old_cp, new_cp)
    reader = TileReader(tiles, new_cp.size)
    try:
        proof = tlog.consistency_proof(old_cp.size, new_cp.size, reader.nodes)
    except tlog.ProofError as exc:
        raise _tiles_differ(tiles, new_cp, exc) from exc
    return old_cp, new_note, new_cp, proof


@log_app.command("export-tiles")
def log_export_tiles(
    directory: Annotated[
        Path, typer.Argument(help="The directory to write (C2SP tlog-tiles layout).")
    ],
    store: Store = None,
) -> None:
    """Write the log as static tiles (c2sp.org/tlog-tiles) with its checkpoint.

    The current stored checkpoint, hash tiles and entry bundles (the record
    digests). Exporting again after appends adds the new tiles, rewrites the
    partial ones and the checkpoint; a full tile never changes.
    """
    from vendorproof.evidence import tlog
    from vendorproof.evidence.checkpoint import Checkpoint, parse_signed_note
    from vendorproof.evidence.tiles import export_tiles

    s = _open(store)
    try:
        note = _current(s)
        text, _ = parse_signed_note(note, file=s.url)
        cp = Checkpoint.parse(text, file=s.url)
        nodes = s.tree_nodes()
        if cp.size > s.tree_size() or cp.root != tlog.root(cp.size, nodes):
            msg = f"{s.url}: the stored checkpoint is not the store's tree"
            raise VerificationError(msg)
        digests = (bytes.fromhex(r.digest) for r in s.records())
        written = export_tiles(directory, cp.size, nodes, digests, note)
    finally:
        s.close()
    echo(
        f"exported the log {cp.origin} of size {cp.size} to {directory} "
        f"({written} files written)"
    )


@audit_app.command("verify-checkpoint")
def audit_verify_checkpoint(
    operator_pub: OperatorPub,
    checkpoint: Annotated[
        Path | None,
        typer.Argument(help="A signed checkpoint (default with --tiles: DIR's)."),
    ] = None,
    origin: Annotated[
        str | None,
        typer.Option("--origin", help="The log's origin, pinned.", metavar="TEXT"),
    ] = None,
    old: Annotated[
        Path | None,
        typer.Option(
            "--old", help="A checkpoint of the same log kept earlier.", metavar="PATH"
        ),
    ] = None,
    proof: Annotated[
        Path | None,
        typer.Option(
            "--proof",
            help="An inclusion or consistency proof (from `log prove`/"
            "`log consistency`) to check against the checkpoint.",
            metavar="PATH",
        ),
    ] = None,
    witness: Witnesses = None,
    quorum: Quorum = None,
    tiles: Annotated[
        Path | None,
        typer.Option(
            "--tiles",
            help="A tiles directory (`log export-tiles`): check --old and --record "
            "with proofs computed from its tiles.",
            metavar="PATH",
        ),
    ] = None,
    record: Annotated[
        int | None,
        typer.Option(
            "--record", min=1, help="With --tiles: prove this record.", metavar="N"
        ),
    ] = None,
    digest: Annotated[
        str | None,
        typer.Option(
            "--digest", help="With --record: the record's digest (hex).", metavar="TEXT"
        ),
    ] = None,
) -> None:
    """Verify a checkpoint offline: signature, origin, and optionally a proof.

    Exit 0: the checkpoint is signed by a pinned operator key (and the proof, if
    given, verifies against it). Exit 1: it is not, or the proof fails, or it is
    smaller than --old. Exit 3: a file is not a checkpoint or proof, or a tile is
    missing or malformed.
    """
    from vendorproof.evidence.logcheck import ProofKind, verify_proof_document

    if checkpoint is None:
        if tiles is None:
            raise InvalidInputError(
                "give a CHECKPOINT or --tiles DIR", path="CHECKPOINT"
            )
        from vendorproof.evidence.tiles import CHECKPOINT

        checkpoint = tiles / CHECKPOINT
    if tiles is None and (record is not None or digest is not None):
        raise InvalidInputError("--record and --digest need --tiles", path="--record")
    if digest is not None and record is None:
        raise InvalidInputError("--digest needs --record", path="--digest")
    old_cp = None
    if old is not None:
        _, old_cp = _checkpoint_file(old, operator_pub, origin=origin)
        origin = old_cp.origin
    _, cp = _checkpoint_file(checkpoint, operator_pub, origin=origin)
    if old_cp is not None and old_cp.size > cp.size:
        msg = (
            f"history truncated: {old} saw the log {cp.origin} at size {old_cp.size}, "
            f"{checkpoint} has size {cp.size}"
        )
        raise VerificationError(msg)
    echo(f"checkpoint: {cp.origin} size {cp.size} (signed by the operator)")
    from vendorproof.evidence.logcheck import require_cosignatures

    cosigned = require_cosignatures(
        read_document(checkpoint), witness or [], quorum, file=str(checkpoint)
    )
    if cosigned:
        echo(f"cosigned by: {', '.join(cosigned)}")
    if tiles is not None:
        _check_tiles(tiles, cp, old_cp, record, digest)
    if proof is not None:
        data = read_document(proof)
        # With --old, only a consistency proof shows KEPT is a prefix of CP.
        expect: ProofKind = "inclusion" if old_cp is None else "consistency"
        echo(
            verify_proof_document(data, cp, expect=expect, old=old_cp, file=str(proof))
        )
    elif tiles is None and old_cp is not None and old_cp.root != cp.root:
        # Equal sizes need equal roots; other sizes need a consistency proof.
        if old_cp.size == cp.size:
            msg = f"two different logs of size {cp.size}: {old} and {checkpoint}"
        else:
            msg = (
                f"consistency of {old} (size {old_cp.size}) with size {cp.size} is "
                "not proven: give --proof from `vendorproof log consistency`"
            )
        raise VerificationError(msg)
    raise typer.Exit(ExitCode.OK)


def _check_tiles(
    tiles: Path,
    cp: Checkpoint,
    old_cp: Checkpoint | None,
    record: int | None,
    digest: str | None,
) -> None:
    """Consistency with ``old_cp`` and inclusion of ``record``, from tiles only."""
    from vendorproof.evidence import tlog
    from vendorproof.evidence.tiles import TileReader

    reader = TileReader(tiles, cp.size)
    try:
        if old_cp is not None:
            proof = tlog.consistency_proof(old_cp.size, cp.size, reader.nodes)
            tlog.verify_consistency(old_cp.size, cp.size, old_cp.root, cp.root, proof)
            echo(
                f"consistent: size {old_cp.size} is a prefix of size {cp.size} "
                f"({len(proof)} hashes from {tiles})"
            )
        if record is not None:
            if record > cp.size:
                raise InvalidInputError(
                    f"record {record} is not in the checkpoint of size {cp.size}",
                    path="--record",
                )
            entry = reader.entry(record - 1)
            if digest is not None and entry.hex() != digest.lower():
                msg = (
                    f"record {record} in {tiles} has the digest {entry.hex()}, "
                    f"not {digest}"
                )
                raise VerificationError(msg)
            proof = tlog.inclusion_proof(record - 1, cp.size, reader.nodes)
            tlog.verify_inclusion(
                tlog.leaf_hash(entry), record - 1, cp.size, proof, cp.root
            )
            echo(
                f"included: record {record} (digest {entry.hex()}) in size "
                f"{cp.size} ({len(proof)} hashes from {tiles})"
            )
    except tlog.ProofError as exc:
        msg = f"{tiles}: the tiles do not match the checkpoint of size {cp.size}: {exc}"
        raise VerificationError(msg) from exc


WITNESS_STATE = "vendorproof-witness-state/v1"


@log_app.command("witness")
def log_witness(
    checkpoint: Annotated[Path, typer.Argument(help="The log's signed checkpoint.")],
    key: Annotated[
        Path, typer.Option("--key", help="The witness's Ed25519 key.", metavar="PATH")
    ],
    name: Annotated[
        str,
        typer.Option(
            "--name", help="The witness's key name (e.g. a URL).", metavar="TEXT"
        ),
    ],
    operator_pub: OperatorPub,
    state: Annotated[
        Path,
        typer.Option(
            "--state",
            help="The witness's state file (the last checkpoint it cosigned).",
            metavar="PATH",
        ),
    ],
    proof: Annotated[
        Path | None,
        typer.Option(
            "--proof",
            help="Consistency proof from the last cosigned checkpoint "
            "(`vendorproof log consistency`).",
            metavar="PATH",
        ),
    ] = None,
    output: Output = None,
    force: Annotated[bool, typer.Option("--force")] = False,
) -> None:
    """Cosign a checkpoint as a witness (C2SP tlog-cosignature, Ed25519).

    The witness cosigns only a checkpoint signed by the operator key, of the same
    log as the last one it cosigned (its state file), not smaller, and proven
    consistent with it (--proof). A missing state file starts a new one.
    """
    import time

    from cryptography.hazmat.primitives.asymmetric import ed25519

    from vendorproof.evidence.checkpoint import Cosigner, parse_signed_note
    from vendorproof.evidence.logcheck import verify_proof_document

    signing = load_signing_key(key)
    if not isinstance(signing, ed25519.Ed25519PrivateKey):
        raise InvalidInputError("a witness key is an Ed25519 key", file=str(key))
    cosigner = Cosigner(name, signing)
    last = _witness_state(state)
    note, cp = _checkpoint_file(
        checkpoint, operator_pub, origin=None if last is None else last.origin
    )
    if last is not None:
        if cp.size < last.size:
            msg = (
                f"smaller tree size: the witness cosigned the log {cp.origin} at size "
                f"{last.size}, {checkpoint} has size {cp.size}"
            )
            raise VerificationError(msg)
        if cp.size == last.size and cp.root != last.root:
            msg = f"two different logs of size {cp.size}: {checkpoint} and {state}"
            raise VerificationError(msg)
        if cp.size > last.size:
            if proof is None:
                raise InvalidInputError(
                    f"the witness cosigned size {last.size}: give --proof, the "
                    f"consistency proof to size {cp.size}",
                    path="--proof",
                )
            verify_proof_document(
                read_document(proof),
                cp,
                expect="consistency",
                old=last,
                file=str(proof),
            )
    text, _ = parse_signed_note(note, file=str(checkpoint))
    cosigned = note + cosigner.line(text, int(time.time())).encode()
    # The state first: a cosignature is never given for a checkpoint not recorded.
    record = {
        "format": WITNESS_STATE,
        "witness": cosigner.witness.vkey(),
        "checkpoint": note.decode("utf-8"),
    }
    write_atomic(state, (json_text(record, indent=2) + "\n").encode(), force=True)
    _emit(cosigned, output, force=force)


def _witness_state(path: Path) -> Checkpoint | None:
    """The last checkpoint the witness cosigned (None: no state file yet)."""
    import json

    from vendorproof.evidence.checkpoint import Checkpoint, parse_signed_note

    if not path.exists():
        return None
    data = read_document(path)
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise InvalidInputError(f"not JSON: {exc}", file=str(path)) from exc
    if not isinstance(doc, dict) or doc.get("format") != WITNESS_STATE:
        raise InvalidInputError(
            f"not a {WITNESS_STATE} file", path="format", file=str(path)
        )
    note = doc.get("checkpoint")
    if not isinstance(note, str):
        raise InvalidInputError("expected a note", path="checkpoint", file=str(path))
    # The witness's own record: it verified the signature when it cosigned.
    text, _ = parse_signed_note(note.encode(), file=str(path))
    return Checkpoint.parse(text, file=str(path))


@log_app.command("vkey")
def log_vkey(
    key: Annotated[
        Path, typer.Option("--key", help="An Ed25519 key (PEM).", metavar="PATH")
    ],
    name: Annotated[str, typer.Option("--name", help="The key name.", metavar="TEXT")],
) -> None:
    """Print the witness verifier key (name+keyid+base64) that auditors pin."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from vendorproof.evidence.checkpoint import Cosigner

    signing = load_signing_key(key)
    if not isinstance(signing, ed25519.Ed25519PrivateKey):
        raise InvalidInputError("a witness key is an Ed25519 key", file=str(key))
    echo(Cosigner(name, signing).witness.vkey())


def register(app: typer.Typer) -> None:
    """Attach the log commands to ``app``."""
    app.add_typer(log_app, name="log")
