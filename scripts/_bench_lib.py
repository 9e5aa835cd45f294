"""Helpers for ``scripts/bench``: inputs, child-process entry points, PostgreSQL.

Run as a script, this module is the child process that the benchmark times::

    python scripts/_bench_lib.py hash-file sha256 IMAGE
    python scripts/_bench_lib.py hash-files sha256,sha512 @LISTFILE
    python scripts/_bench_lib.py x509-inproc CALLS LEAF ROOT INTERMEDIATE
    python scripts/_bench_lib.py integrity STORE_URL OPERATOR_PUB REPEAT
    python scripts/_bench_lib.py pg-writer STORE_URL COUNT DELIVERY POLICY KEY [VARIANT]
    python scripts/_bench_lib.py append-ab DIR COUNT BLOCK DELIVERY POLICY VARIANTS
    python scripts/_bench_lib.py pg-ref-writer CONNINFO COUNT ENVELOPE_FILE
    python scripts/_bench_lib.py parse {json,yaml} {vendorproof,reference} FILE
    python scripts/_bench_lib.py tlog-proofs SIZE DB CALLS

Module-level imports are standard library only, so a timed child pays for what the
scenario uses (vendorproof, cryptography) and nothing else.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
KEYS = REPO / "keys"
OPERATOR_KEY = KEYS / "operator" / "intake.key"
OPERATOR_PUB = KEYS / "operator" / "intake.pub"
#: Validation time inside every validity window of the test PKI and statements.
AT_TEXT = "2026-06-01T00:00:00Z"
MIB = 1024 * 1024
_CHUNK = 16 * MIB


def _import_tests() -> None:
    """Make ``tests.builders`` (the repository's test builders) importable."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))


# --------------------------------------------------------------------------- files


def write_random_file(path: Path, size: int, *, seed: int) -> None:
    """Write ``size`` pseudo-random bytes (AES-256-CTR keystream), then fsync."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = seed.to_bytes(4, "big") * 8
    encryptor = Cipher(algorithms.AES(key), modes.CTR(bytes(16))).encryptor()
    zeros = bytes(_CHUNK)
    out = bytearray(_CHUNK + 16)
    with path.open("wb") as f:
        left = size
        while left > 0:
            n = min(left, _CHUNK)
            got = encryptor.update_into(zeros[:n], out)
            f.write(memoryview(out)[:got])
            left -= n
        f.flush()
        os.fsync(f.fileno())


def write_sparse_file(path: Path, size: int) -> None:
    """A file of ``size`` bytes that occupies no disk blocks (reads as zeros)."""
    with path.open("wb") as f:
        f.truncate(size)


# --------------------------------------------------------------------------- delivery


@dataclass(frozen=True)
class BuiltDelivery:
    """A signed delivery with many components, and its reference checksum files."""

    root: Path
    policy: Path
    components: tuple[str, ...]  # relative POSIX paths
    list_file: Path  # absolute component paths, one a line
    sha256sums: Path
    sha512sums: Path
    payload_bytes: int


def build_delivery(
    base: Path,
    *,
    components: int,
    statements: int,
    max_size: int,
    seed: int = 1,
) -> BuiltDelivery:
    """Build a delivery with ``tests/builders.py``: one signed manifest listing every
    component, ``statements`` certification statements (each certifying an equal
    share of the components) and a trust declaration; the sample policy beside it.
    """
    _import_tests()
    from tests import builders as b

    rng = random.Random(seed)  # noqa: S311 - sizes and contents, not secrets
    files: dict[str, bytes] = {}
    for i in range(components):
        size = rng.randint(min(1024, max_size), max_size)
        files[f"images/part-{i // 100:02d}/component-{i:05d}.img"] = rng.randbytes(size)
    root = base / "delivery"
    builder = b.DeliveryBuilder(root, files=files)
    builder.write_payload()
    builder.attest(
        "manifest.sigstore.json", b.vendor_a().sign(b.manifest_statement(files))
    )
    items = list(files.items())
    per = max(1, -(-len(items) // max(1, statements)))
    certbody = b.certbody()
    for k in range(statements):
        share = dict(items[k * per : (k + 1) * per])
        if not share:
            break
        statement = b.certification_statement(share)
        statement["predicate"]["certificateId"] = f"NESAS-BENCH-{k + 1:04d}"
        builder.attest(
            f"certification-{k + 1:03d}.sigstore.json", certbody.sign(statement)
        )
    builder.attest(
        "declaration.sigstore.json", b.vendor_a().sign(b.declaration_statement())
    )
    policy = b.write_policy(base / "policy.yaml")
    names = tuple(files)
    list_file = base / "components.txt"
    list_file.write_text("".join(f"{root / n}\n" for n in names), encoding="utf-8")
    sums = {}
    for alg in ("sha256", "sha512"):
        path = base / f"{alg.upper()}SUMS"
        path.write_text(
            "".join(f"{b.digests(files[n])[alg]}  {n}\n" for n in names),
            encoding="utf-8",
        )
        sums[alg] = path
    return BuiltDelivery(
        root=root,
        policy=policy,
        components=names,
        list_file=list_file,
        sha256sums=sums["sha256"],
        sha512sums=sums["sha512"],
        payload_bytes=sum(len(d) for d in files.values()),
    )


def write_small_files(base: Path, count: int, max_size: int, *, seed: int) -> Path:
    """Write ``count`` files of 0..``max_size`` random bytes under ``base``.

    Files go into directories of 1,000; returns a list file (absolute paths, one a
    line), as ``@LISTFILE`` of ``hash-files`` and as input of ``xargs``.
    """
    rng = random.Random(seed)  # noqa: S311 - benchmark input, not a secret
    paths = []
    for i in range(count):
        folder = base / f"{i // 1000:04d}"
        if i % 1000 == 0:
            folder.mkdir(parents=True)
        path = folder / f"f{i:06d}.bin"
        path.write_bytes(rng.randbytes(rng.randint(0, max_size)))
        paths.append(path)
    list_file = base / "files.txt"
    list_file.write_text("".join(f"{p}\n" for p in paths), encoding="utf-8")
    return list_file


def build_small_delivery(base: Path) -> tuple[Path, Path]:
    """The test suite's standard small delivery (3 files) and the sample policy."""
    _import_tests()
    from tests import builders as b

    root = base / "small-delivery"
    b.DeliveryBuilder(root).standard()
    return root, b.write_policy(base / "small-policy.yaml")


# --------------------------------------------------------------------------- SOL 004

_TOSCA_META = (
    "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: bench\n"
    "Entry-Definitions: Definitions/main.yaml\nETSI-Entry-Manifest: main.mf\n"
    "ETSI-Entry-Change-Log: Files/ChangeLog.txt\n"
)
_MF_HEAD = (
    "metadata:\n  vnf_provider_id: acme\n  vnf_product_name: bench\n"
    "  vnf_release_date_time: 2026-01-01T00:00:00+00:00\n"
    "  vnf_package_version: 1.0\n"
)


def build_csar(path: Path, files: Sequence[tuple[str, Path]], *, deflate: bool) -> Path:
    """A signed SOL 004 CSAR (TOSCA.meta, manifest with SHA-256 digests) of ``files``.

    ``files`` are (member name, source file); members are stored, or deflated at
    level 1. The manifest lists every file with its digest and ends with a CMS
    signature made by ``openssl cms -sign`` with the test PKI's vendor-a release
    signing key (security option 1), so ``vendorproof verify`` with
    :func:`write_csar_policy`'s policy passes on it.
    """
    import hashlib
    import subprocess
    import tempfile
    import zipfile

    small = {
        "TOSCA-Metadata/TOSCA.meta": _TOSCA_META.encode(),
        "Definitions/main.yaml": b"tosca_definitions_version: tosca_simple_yaml_1_3\n",
        "Files/ChangeLog.txt": b"1.0: first\n",
    }
    lines = [_MF_HEAD]
    for name, data in small.items():
        digest = hashlib.sha256(data).hexdigest()
        lines.append(f"\nSource: {name}\nAlgorithm: SHA-256\nHash: {digest}\n")
    for name, src in files:
        h = hashlib.sha256()
        with src.open("rb") as f:
            while chunk := f.read(1024 * 1024):
                h.update(chunk)
        lines.append(f"\nSource: {name}\nAlgorithm: SHA-256\nHash: {h.hexdigest()}\n")
    manifest = "".join(lines).encode()
    vendor = KEYS / "vendor-a"
    with tempfile.NamedTemporaryFile(suffix=".mf") as content:
        content.write(manifest)
        content.flush()
        argv = [
            "openssl", "cms", "-sign", "-binary", "-in", content.name,
            "-signer", str(vendor / "signing.pem"),
            "-inkey", str(vendor / "signing.key"),
            "-certfile", str(vendor / "intermediate.pem"), "-outform", "PEM",
        ]  # fmt: skip
        cms = subprocess.run(argv, check=True, capture_output=True, timeout=60).stdout
    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method, compresslevel=1 if deflate else None) as z:
        for name, data in small.items():
            z.writestr(name, data)
        z.writestr("main.mf", manifest + cms)
        for name, src in files:
            z.write(src, name)
    return path


def write_csar_policy(path: Path) -> Path:
    """The policy :func:`build_csar`'s packages pass: vendor ``acme`` pinned to the
    test PKI's vendor-a root, its CRLs required (strict code-signing profile)."""
    vendor = KEYS / "vendor-a"
    path.write_text(
        f"""policy:
  id: bench-csar
  version: "1"
  legalBasis: "ETSI GS NFV-SOL 004 §5"
  description: Benchmark packages signed with the test PKI.
algorithms:
  signatures: [ecdsa-p256-sha256, ecdsa-p384-sha384, rsa-pss-sha256, ed25519]
  digests: [sha256, sha512]
  minRsaBits: 3072
vendors:
  - id: acme
    name: Acme Radio Systems GmbH
    anchors: [{vendor / "root.pem"}]
    identities:
      - subject: >-
          CN=Acme Radio Systems Release Signing *,O=Acme Radio Systems GmbH,C=DE
certification:
  requirements: []
revocation:
  mode: require
  crls: [{vendor / "root.crl.pem"}, {vendor / "intermediate.crl.pem"}]
trustDeclaration: optional
unlistedFiles: fail
""",
        encoding="utf-8",
    )
    return path


# --------------------------------------------------------------------------- in-toto


def build_in_toto(base: Path, artifacts: Sequence[Path]) -> dict[str, Path]:
    """A minimal in-toto layout over ``artifacts``: one step (``release``, whose link
    records every artifact as a product) and one inspection that re-hashes the
    working directory and requires it to MATCH the release products.

    Returns the paths ``workdir`` (hard links of the artifacts), ``layout``,
    ``owner_pub`` and ``links``.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from in_toto import runlib
    from in_toto.models.layout import Inspection, Layout, Step
    from in_toto.models.metadata import Metablock
    from securesystemslib.signer import CryptoSigner

    work = base / "work"
    links = base / "links"
    work.mkdir(parents=True)
    links.mkdir()
    for i, src in enumerate(artifacts):
        dst = work / f"part-{i // 100:02d}" / f"artifact-{i:05d}.bin"
        dst.parent.mkdir(exist_ok=True)
        os.link(src, dst)
    owner_key = ed25519.Ed25519PrivateKey.generate()
    owner = CryptoSigner(owner_key)
    functionary = CryptoSigner(ed25519.Ed25519PrivateKey.generate())
    owner_pub = base / "owner.pub"
    owner_pub.write_bytes(
        owner_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    keyid = functionary.public_key.keyid
    key = functionary.public_key.to_dict()
    key["keyid"] = keyid
    layout = Layout()
    layout.set_relative_expiration(days=30)
    layout.keys = {keyid: key}
    match = [["MATCH", "*", "WITH", "PRODUCTS", "FROM", "release"], ["DISALLOW", "*"]]
    layout.steps = [
        Step(
            name="release",
            pubkeys=[keyid],
            expected_materials=[],
            expected_products=[["CREATE", "*"]],
            threshold=1,
        )
    ]
    layout.inspect = [
        Inspection(
            name="rehash",
            run=["true"],
            expected_materials=match,
            expected_products=match,
        )
    ]
    metablock = Metablock(signed=layout)
    metablock.create_signature(owner)
    layout_path = links / "root.layout"
    metablock.dump(str(layout_path))
    with contextlib.chdir(work):
        runlib.in_toto_run(
            "release", [], ["."], [], signer=functionary, metadata_directory=str(links)
        )
    # The same as a delivery: payload files beside an in-toto/ directory holding the
    # layout and the link (what vendorproof's verify_in_toto reads).
    delivery = base / "delivery"
    for src in work.rglob("*"):
        if src.is_file():
            dst = delivery / src.relative_to(work)
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.link(src, dst)
    shutil.copytree(links, delivery / "in-toto")
    return {
        "workdir": work,
        "layout": layout_path,
        "owner_pub": owner_pub,
        "links": links,
        "delivery": delivery,
    }


# --------------------------------------------------------------------------- records


@dataclass
class IntakeContext:
    """What ``run_intake`` computes before it locks the chain, computed once."""

    policy: Any
    report: Any
    blobs: dict[str, bytes] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)


def prepare_intake(delivery_root: Path, policy_path: Path) -> IntakeContext:
    """Verify a delivery once, as ``run_intake`` does before appending its record."""
    import hashlib
    from datetime import datetime

    from vendorproof.evidence.intake import POLICY_INPUT, POLICY_REF_PREFIX
    from vendorproof.formats.directory import load_delivery
    from vendorproof.intake import load_policy, measure
    from vendorproof.verify.delivery import evaluate_delivery

    policy = load_policy(policy_path)
    delivery = load_delivery(delivery_root)
    report = evaluate_delivery(
        delivery,
        policy,
        at=datetime.fromisoformat(AT_TEXT),
        time_source="--at",
        hasher=measure(delivery.root),
    )
    ctx = IntakeContext(policy=policy, report=report)

    def keep(name: str, data: bytes) -> None:
        digest = hashlib.sha256(data).hexdigest()
        ctx.blobs[digest] = data
        ctx.inputs[name] = digest

    keep(POLICY_INPUT, policy.raw)
    for ref, data in policy.referenced.items():
        if not ref.startswith("inline:"):
            keep(POLICY_REF_PREFIX + ref, data)
    for name, data in sorted(delivery.inputs.items()):
        keep(name, data)
    return ctx


def load_operator_key() -> Any:
    """The operator's record-signing key (test PKI)."""
    from vendorproof._internal import crypto

    return crypto.load_private_key(
        OPERATOR_KEY.read_bytes(), None, file=str(OPERATOR_KEY)
    )


def record_builder(ctx: IntakeContext, key: Any, actor: str) -> Callable[[Any], Any]:
    """``run_intake``'s append callback (rollback check, link, sign) for ``ctx``."""
    from vendorproof.evidence.intake import record_builder as builder

    return builder(ctx.report, ctx.policy, ctx.inputs, key=key, actor=actor)


#: What an append writes besides the record (rows ``append-*``):
#: ``none``   the record only, as before the Merkle tree (issue 16): the tree's
#:            ``append_leaf`` replaced by a no-op in the benchmark process, for
#:            comparison only (such a store has no tree and fails replay's check);
#: ``tree``   the record and its tree nodes (an operator key that is not Ed25519);
#: ``checkpoint`` also a checkpoint of the new size signed with the operator's
#:            Ed25519 key, in the same transaction (what ``vendorproof intake`` does).
VARIANTS = ("none", "tree", "checkpoint")


#: Seconds spent inside the tree's and the checkpoint's steps of an append, summed
#: (:func:`append_variant` with ``timed``): ``tree`` is ``_tlogdb.append_leaf``
#: (read the siblings, insert the nodes), ``checkpoint`` the root, the signature and
#: the INSERT of the checkpoint. The commit is not in either.
SPENT: dict[str, float] = {"tree": 0.0, "checkpoint": 0.0}


def _timed(kind: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args)
        finally:
            SPENT[kind] += time.perf_counter() - start

    return run


@contextlib.contextmanager
def append_variant(variant: str, *, timed: bool = False) -> Iterator[Any]:
    """Set up ``variant`` (see :data:`VARIANTS`); yield the ``checkpoint_key``."""
    from vendorproof.evidence import _tlogdb, store

    if variant not in VARIANTS:
        msg = f"unknown append variant {variant!r} (known: {', '.join(VARIANTS)})"
        raise SystemExit(msg)
    leaf, stored = _tlogdb.append_leaf, _tlogdb.store_checkpoint
    signed = store._Store._signed  # noqa: SLF001
    if variant == "none":
        _tlogdb.append_leaf = lambda *_args: None  # type: ignore[assignment]
    elif timed:
        _tlogdb.append_leaf = _timed("tree", leaf)  # type: ignore[assignment]
        _tlogdb.store_checkpoint = _timed("checkpoint", stored)  # type: ignore[assignment]
        store._Store._signed = _timed("checkpoint", signed)  # type: ignore[method-assign]  # noqa: SLF001
    try:
        yield load_operator_key() if variant == "checkpoint" else None
    finally:
        _tlogdb.append_leaf, _tlogdb.store_checkpoint = leaf, stored
        store._Store._signed = signed  # type: ignore[method-assign]  # noqa: SLF001


def append_records(
    store: Any,
    ctx: IntakeContext,
    count: int,
    *,
    actor: str = "bench",
    progress: Callable[[int], None] | None = None,
    every: int = 1000,
    checkpoint_key: Any = None,
) -> None:
    """Append ``count`` records to ``store``, each built and signed under the lock.

    ``progress`` is called with the number appended after every ``every`` records;
    with ``checkpoint_key`` every append also stores a signed checkpoint.
    """
    build = record_builder(ctx, load_operator_key(), actor)
    for i in range(count):
        store.append(build, ctx.blobs, checkpoint_key=checkpoint_key)
        if progress is not None and (i + 1) % every == 0:
            progress(i + 1)


def integrity_pass(
    source: Any, keys: Sequence[Any], *, last: int, workers: int = 1
) -> list[str]:
    """Replay's integrity pass over records 1..``last`` of ``source``, via ``replay``.

    ``first`` past the last record: every record's digest, operator signature, parse,
    sequence and links are checked, and no decision is re-run. Returns the problems.
    """
    import inspect

    from vendorproof.evidence.replay import replay

    extra = {}
    if workers > 1:
        if "workers" not in inspect.signature(replay).parameters:
            msg = "this vendorproof's replay has no workers parameter"
            raise TypeError(msg)
        extra["workers"] = workers
    if "rerun" in inspect.signature(replay).parameters:
        summary = replay(source, keys=keys, last=last, rerun=False, **extra)
    else:
        summary = replay(source, keys=keys, first=last + 1, **extra)
    return [f"#{r.seq}: {p}" for r in summary.records for p in r.problems]


def check_chain(store: Any) -> tuple[int, list[str]]:
    """Every record: contiguous sequence numbers, every link, every signature.

    Returns the number of records and the problems found (empty: one linear chain).
    """
    from vendorproof._internal import crypto
    from vendorproof.evidence.bundle import StoreSource

    keys = [crypto.load_public_key(OPERATOR_PUB.read_bytes(), file="intake.pub")]
    source = StoreSource(store)
    count = sum(1 for _ in source.iter_records())
    return count, integrity_pass(source, keys, last=count)


# --------------------------------------------------------------------------- PostgreSQL


def _pg_bindir() -> Path | None:
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    for path in reversed(candidates):
        if (path / "pg_ctl").exists() and (path / "initdb").exists():
            return path
    found = shutil.which("pg_ctl")
    return Path(found).resolve().parent if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (trust auth), removed by ``stop``.

    As root, the server runs as the ``postgres`` user (``runuser -u postgres --``).
    """

    def __init__(self, base: Path) -> None:
        bindir = _pg_bindir()
        if bindir is None:
            msg = "no PostgreSQL server binaries (initdb, pg_ctl) found"
            raise RuntimeError(msg)
        self.bindir = bindir
        self.base = base
        self.data = base / "data"
        self.port = _free_port()
        self.started = False
        self._as: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                msg = "running as root and runuser is missing"
                raise RuntimeError(msg)
            self._as = [runuser, "-u", "postgres", "--"]

    def _run(self, *argv: str) -> None:
        subprocess.run(
            [*self._as, *argv],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self.base,
        )

    def version(self) -> str:
        out = subprocess.run(
            [str(self.bindir / "postgres"), "--version"],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def start(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        if self._as:
            shutil.chown(self.base, user="postgres", group="postgres")
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.base} "
            "-c max_connections=40"
        )
        self.started = True
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.base / "server.log"),
            "-o",
            options,
            "-w",
            "start",
        )

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.conninfo(name)

    def stop(self) -> None:
        if self.started:
            with contextlib.suppress(subprocess.CalledProcessError, OSError):
                self._run(
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                )
            self.started = False
        shutil.rmtree(self.base, ignore_errors=True)


# --------------------------------------------------------------------------- children


def _paths(args: Sequence[str]) -> list[Path]:
    out: list[Path] = []
    for a in args:
        if a.startswith("@"):
            text = Path(a[1:]).read_text(encoding="utf-8")
            out += [Path(line) for line in text.splitlines() if line]
        else:
            out.append(Path(a))
    return out


def child_hash_file(args: Sequence[str]) -> None:
    """``hash_file(path, algorithms)``; prints ``alg hex`` lines."""
    from vendorproof._internal.hashing import hash_file

    result = hash_file(Path(args[1]), args[0].split(","))
    for alg, digest in result.digests.items():
        print(alg, digest)


def child_hash_files(args: Sequence[str]) -> None:
    """``hash_files(paths, algorithms)``; prints ``alg hex path`` lines."""
    from vendorproof._internal.hashing import hash_files

    paths = _paths(args[1:])
    results = hash_files(paths, args[0].split(","))
    out = [
        f"{alg} {digest} {path}\n"
        for path, result in zip(paths, results, strict=True)
        for alg, digest in result.digests.items()
    ]
    sys.stdout.write("".join(out))


def write_oci_layout(root: Path, layers: int, total: int, *, seed: int) -> list[Path]:
    """An OCI image layout with ``layers`` random layers of ``total`` bytes in all.

    Returns every blob's path (layers, config, manifest).
    """
    import hashlib
    import json

    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def put(data: bytes) -> dict[str, object]:
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return {"digest": f"sha256:{digest}", "size": len(data)}

    descriptors = []
    for i in range(layers):
        tmp = root / f"layer-{i}.tmp"
        write_random_file(tmp, total // layers, seed=seed + i)
        h = hashlib.sha256()
        with tmp.open("rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
        tmp.rename(blobs / h.hexdigest())
        descriptors.append(
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": f"sha256:{h.hexdigest()}",
                "size": total // layers,
            }
        )
    config = put(b'{"architecture":"amd64","os":"linux"}')
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
        "layers": descriptors,
    }
    desc = put(json.dumps(manifest).encode())
    index = {
        "schemaVersion": 2,
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", **desc}
        ],
    }
    (root / "index.json").write_text(json.dumps(index), encoding="utf-8")
    (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}', encoding="utf-8")
    return sorted(blobs.iterdir())


def sign_oci_layout(root: Path) -> list[Path]:
    """Sign the image of :func:`write_oci_layout` with Notation, as Acme would.

    A JWS envelope by the test PKI's vendor-a release key (chain leaf to root) is
    added as an OCI 1.1 referrer of the image's manifest, so ``vendorproof verify``
    with ``fixtures/policies/acme-cnf.yaml`` passes. Returns every blob's path.
    """
    import json
    from datetime import UTC, datetime

    _import_tests()
    from tests import oci

    index = json.loads((root / "index.json").read_bytes())
    image = dict(index["manifests"][0])
    layout = oci.Layout(root, list(index["manifests"]))
    key, chain = oci.acme_signer()
    when = datetime.fromisoformat(AT_TEXT).astimezone(UTC)
    layout.add_referrer(
        image, oci.jws_envelope(key, chain, image, signed_at=when), oci.JWS
    )
    return sorted((root / "blobs" / "sha256").iterdir())


def child_x509_inproc(args: Sequence[str]) -> None:
    """Time ``verify_chain`` in process: prints JSON with seconds per call."""
    from datetime import datetime

    from vendorproof._internal.pem import load_certificates
    from vendorproof.verify.x509 import Eku, verify_chain

    calls = int(args[0])
    leaf, root, inter = (
        load_certificates(Path(p).read_bytes(), file=p) for p in args[1:4]
    )
    at = datetime.fromisoformat(AT_TEXT)
    verify_chain(leaf[0], inter, root, at=at, eku=Eku("code-signing"))
    times = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            verify_chain(leaf[0], inter, root, at=at, eku=Eku("code-signing"))
        times.append((time.perf_counter() - start) / calls)
    print(json.dumps({"per_call": times}))


def _raw_pairs(envelopes: Sequence[bytes]) -> list[tuple[bytes, bytes]]:
    """(signature, PAE message) of each DSSE envelope, parsed with plain json."""
    import base64

    from vendorproof.models.envelope import pae

    pairs = []
    for raw in envelopes:
        env = json.loads(raw)
        payload = base64.b64decode(env["payload"])
        sig = base64.b64decode(env["signatures"][0]["sig"])
        pairs.append((sig, pae(env["payloadType"], payload)))
    return pairs


def child_integrity(args: Sequence[str]) -> None:
    """Replay's integrity pass over every record vs raw Ed25519 verifies, interleaved.

    Prints JSON: seconds per pass of each (and of the pass on every CPU, when
    ``replay`` takes ``workers``), the record count and problems found.
    """
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from vendorproof._internal import crypto
    from vendorproof.evidence.bundle import StoreSource
    from vendorproof.evidence.store import open_store

    url, pub, repeat = args[0], Path(args[1]), int(args[2])
    key = crypto.load_public_key(pub.read_bytes(), file=str(pub))
    if not isinstance(key, ed25519.Ed25519PublicKey):
        msg = "the operator key is not Ed25519"
        raise SystemExit(msg)
    store = open_store(url)
    source = StoreSource(store)
    envelopes = [s.envelope for s in source.iter_records()]
    pairs = _raw_pairs(envelopes)
    verify = key.verify

    def raw() -> None:
        for sig, message in pairs:
            verify(sig, message)

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    last = max(s.seq for s in source.iter_records())
    problems = integrity_pass(source, [key], last=last)  # warm-up, page cache
    raw()
    out: dict[str, Any] = {
        "records": len(envelopes),
        "bad": len(problems),
        "problems": problems[:3],
        "integrity": [],
        "raw": [],
        "parallel": [],
        "workers": cpus,
    }
    parallel = cpus > 1
    for _ in range(repeat):
        start = time.perf_counter()
        integrity_pass(source, [key], last=last)
        out["integrity"].append(time.perf_counter() - start)
        start = time.perf_counter()
        raw()
        out["raw"].append(time.perf_counter() - start)
        if parallel:
            start = time.perf_counter()
            try:
                integrity_pass(source, [key], last=last, workers=cpus)
            except TypeError:
                parallel = False
            else:
                out["parallel"].append(time.perf_counter() - start)
    store.close()
    print(json.dumps(out))


def _wait_for_go() -> float:
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        raise SystemExit(1)
    return time.monotonic()


def child_pg_writer(args: Sequence[str]) -> None:
    """Append COUNT records through ``open_store(URL)``, after the parent says go."""
    from vendorproof.evidence.store import open_store

    url, count = args[0], int(args[1])
    variant = args[5] if len(args) > 5 else "tree"
    ctx = prepare_intake(Path(args[2]), Path(args[3]))
    build = record_builder(ctx, load_operator_key(), f"writer-{os.getpid()}")
    store = open_store(url)
    with append_variant(variant) as key:
        start = _wait_for_go()
        cpu = time.process_time()
        for _ in range(count):
            store.append(build, ctx.blobs, checkpoint_key=key)
        end = time.monotonic()
        cpu = time.process_time() - cpu
    store.close()
    done = {"start": start, "end": end, "count": count, "cpu": cpu}
    print(json.dumps(done), flush=True)


def child_append_ab(args: Sequence[str]) -> None:
    """COUNT appends per variant into one SQLite store per variant, in blocks.

    The variants take turns block by block (the order rotating), so load from other
    work on the machine falls on all of them alike; prints each variant's block rates
    and the CPU time (of this process) per append of each block.
    """
    from vendorproof.evidence.store import open_store

    base, count, block = Path(args[0]), int(args[1]), int(args[2])
    ctx = prepare_intake(Path(args[3]), Path(args[4]))
    variants = args[5].split(",")
    stores = {v: open_store(str(base / f"append-{v}.db")) for v in variants}
    rates: dict[str, list[float]] = {v: [] for v in variants}
    cpu: dict[str, list[float]] = {v: [] for v in variants}
    # Per block: the share of the appends' wall time spent in the tree's and the
    # checkpoint's steps (measured in the same appends, so the load cancels out).
    share: dict[str, list[list[float]]] = {v: [] for v in variants}
    try:
        for i in range(count // block):
            turn = variants[i % len(variants) :] + variants[: i % len(variants)]
            for v in turn:
                with append_variant(v, timed=True) as key:
                    SPENT.update(tree=0.0, checkpoint=0.0)
                    start, used = time.perf_counter(), time.process_time()
                    append_records(stores[v], ctx, block, actor=v, checkpoint_key=key)
                    wall = time.perf_counter() - start
                    rates[v].append(block / wall)
                    cpu[v].append((time.process_time() - used) / block)
                    share[v].append([SPENT["tree"] / wall, SPENT["checkpoint"] / wall])
    finally:
        for store in stores.values():
            store.close()
    print(json.dumps({"rates": rates, "cpu": cpu, "share": share}), flush=True)


REF_SCHEMA = """
CREATE TABLE IF NOT EXISTS head (id int PRIMARY KEY, seq bigint, digest text);
CREATE TABLE IF NOT EXISTS rec (
  seq bigint PRIMARY KEY, prev text, digest text NOT NULL, envelope bytea NOT NULL);
INSERT INTO head VALUES (1, 0, NULL) ON CONFLICT DO NOTHING;
"""


def child_pg_ref_writer(args: Sequence[str]) -> None:
    """The floor: lock a head row, insert the same envelope bytes, update the head.

    Plain psycopg, one transaction per record, no vendorproof code: what a serialised
    hash chain costs in PostgreSQL itself on this machine.
    """
    import hashlib

    import psycopg

    conninfo, count = args[0], int(args[1])
    envelope = Path(args[2]).read_bytes()
    with psycopg.connect(conninfo) as conn:
        start = _wait_for_go()
        for _ in range(count):
            with conn.transaction():
                row = conn.execute(
                    "SELECT seq, digest FROM head WHERE id = 1 FOR UPDATE"
                ).fetchone()
                assert row is not None  # noqa: S101 - created by the parent
                seq = int(row[0]) + 1
                digest = hashlib.sha256(envelope + str(seq).encode()).hexdigest()
                conn.execute(
                    "INSERT INTO rec VALUES (%s, %s, %s, %s)",
                    (seq, row[1], digest, envelope),
                )
                conn.execute(
                    "UPDATE head SET seq = %s, digest = %s WHERE id = 1", (seq, digest)
                )
        end = time.monotonic()
    print(json.dumps({"start": start, "end": end, "count": count}), flush=True)


def pg_ref_setup(conninfo: str) -> None:
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(REF_SCHEMA)  # type: ignore[arg-type]


def pg_ref_check(conninfo: str) -> tuple[int, list[str]]:
    """Sequence 1..N without gaps, each ``prev`` the digest before it."""
    import psycopg

    problems: list[str] = []
    count = 0
    previous = None
    with psycopg.connect(conninfo) as conn:
        for seq, prev, digest in conn.execute(
            "SELECT seq, prev, digest FROM rec ORDER BY seq"
        ):
            count += 1
            if seq != count or prev != previous:
                problems.append(f"#{seq}: not linked")
            previous = digest
    return count, problems


def child_keyless(args: Sequence[str]) -> None:
    """``verify_artifact_bundle`` offline against a trusted_root.json."""
    from vendorproof.verify.keyless import (
        KeylessSigner,
        KeylessTrust,
        verify_artifact_bundle,
    )

    bundle, artifact, root, identity, issuer = args[:5]
    print(
        verify_artifact_bundle(
            Path(bundle).read_bytes(),
            Path(artifact),
            trust=KeylessTrust(trusted_root=Path(root).read_bytes()),
            signer=KeylessSigner(identity=identity, issuer=issuer),
        )
    )


def child_in_toto(args: Sequence[str]) -> None:
    """``verify_in_toto`` on a delivery's in-toto/ directory, inspections allowed."""
    from vendorproof.verify.intoto import verify_in_toto

    print(
        verify_in_toto(
            Path(args[0]),
            layout_keys=[Path(args[1]).read_bytes()],
            allow_inspections=True,
        )
    )


# --------------------------------------------------------------------------- parsers


def write_json_escapes(path: Path, size: int) -> None:
    """The input that made the old JSON nesting pre-scan quadratic, ``size`` bytes.

    An unterminated string made of escaped quotes, then more brackets than the
    nesting limit: every escaped quote was a new start for the old string pattern.
    """
    tail = b"[" * 40
    count = (size - 2 - len(tail)) // 2
    path.write_bytes(b'["' + b'\\"' * count + tail)


def write_json_worst(path: Path, size: int) -> None:
    """The slowest valid JSON per byte for the strict parser, ``size`` bytes.

    Arrays nested 31 deep, side by side in one top-level array: every byte is a
    bracket, so the nesting pre-scan counts every byte and the decoder builds one
    list per two bytes (found by measuring candidates: empty arrays, one-key
    objects, integers, floats, escaped strings; see docs/performance.md).
    """
    unit = b"[" * 31 + b"]" * 31
    count = (size - 2 + 1) // (len(unit) + 1)
    path.write_bytes(b"[" + b",".join([unit] * count) + b"]")


def write_yaml_worst(path: Path, size: int, nodes: int) -> None:
    """The slowest policy-shaped YAML for the strict reader: ``nodes`` nodes, ``size``.

    As many nodes as the node limit allows, each an RFC 3339 timestamp with a
    fraction and an offset (the most expensive safe constructor: a regular
    expression and a timezone-aware datetime), each line padded with a comment so
    that the document also reaches the size limit (the scanner reads every byte).
    """
    items = nodes - 3  # the top-level mapping, its key and the sequence
    line = b"- 2026-06-01T12:34:56.123456789+02:00"
    pad = max(0, size // items - len(line) - 1)
    comment = (b"  #" + b"x" * (pad - 3)) if pad >= 4 else b""
    body = (line + comment + b"\n") * items
    path.write_bytes((b"items:\n" + body)[:size])


def child_parse(args: Sequence[str]) -> None:
    """Parse FILE once in process; print JSON with the seconds and the outcome.

    ``vendorproof``: ``parse_json`` / ``parse_yaml_mapping`` (strict, limits
    enforced); ``reference``: ``json.loads`` / ``yaml.load(CSafeLoader)`` of the same
    bytes. Only the parse is timed (not the imports or the read).
    """
    kind, side, file = args[:3]
    raw = Path(file).read_bytes()
    if side == "vendorproof":
        from vendorproof._internal.jsonio import parse_json
        from vendorproof._internal.yamlio import parse_yaml_mapping

        def parse() -> object:
            if kind == "json":
                return parse_json(raw, file=file)
            return parse_yaml_mapping(raw, file=file)

    else:
        import yaml

        def parse() -> object:
            if kind == "json":
                return json.loads(raw)
            return yaml.load(raw, Loader=yaml.CSafeLoader)

    start = time.perf_counter()
    try:
        parse()
        outcome = "parsed"
    except Exception as e:  # noqa: BLE001 - the outcome is reported, not raised
        outcome = f"refused: {type(e).__name__}: {' '.join(str(e).split())[:120]}"
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "outcome": outcome}))


class _NodeDb:
    """The two members of a store ``Database`` that reading tree nodes uses."""

    def __init__(self, conn: Any, where: str) -> None:
        import sqlite3

        self.conn = conn
        self.where = where
        self.error = sqlite3.Error

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return list(self.conn.execute(sql, params).fetchall())


def child_tlog_proofs(args: Sequence[str]) -> None:
    """Build a SIZE-leaf tree's stored nodes once (a SQLite tlog_nodes table as the
    store keeps it), then time inclusion and consistency proofs read from it,
    each generated and verified: prints JSON with seconds per proof."""
    import hashlib
    import random
    import sqlite3

    from vendorproof.evidence import _tlogdb, tlog

    size, db_path, calls = int(args[0]), args[1], int(args[2])
    conn = sqlite3.connect(db_path)
    if not conn.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'tlog_nodes'"
    ).fetchall():
        conn.execute(
            "CREATE TABLE tlog_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, "
            "hash BLOB NOT NULL, PRIMARY KEY (level, idx)) STRICT, WITHOUT ROWID"
        )
        edge: list[bytes] = []
        batch: list[tuple[int, int, bytes]] = []
        for i in range(size):
            leaf = tlog.leaf_hash(hashlib.sha256(i.to_bytes(8, "big")).digest())
            siblings = {}
            level, at = 0, i
            while at & 1:
                siblings[(level, at - 1)] = edge.pop()
                level += 1
                at >>= 1
            made = tlog.new_nodes(i, leaf, siblings)
            edge.append(made[-1][2])
            batch.extend(made)
            if len(batch) > 100_000:
                conn.executemany("INSERT INTO tlog_nodes VALUES (?, ?, ?)", batch)
                batch = []
        conn.executemany("INSERT INTO tlog_nodes VALUES (?, ?, ?)", batch)
        conn.commit()
    nodes = _tlogdb.node_source(_NodeDb(conn, db_path))  # type: ignore[arg-type]
    root = tlog.root(size, nodes)
    rng = random.Random(1)  # noqa: S311 - reproducible picks, not secrets
    inclusion, consistency = [], []
    for _ in range(5):
        picks = [rng.randrange(size) for _ in range(calls)]
        start = time.perf_counter()
        for i in picks:
            proof = tlog.inclusion_proof(i, size, nodes)
            leaf = nodes([(0, i)])[(0, i)]
            tlog.verify_inclusion(leaf, i, size, proof, root)
        inclusion.append((time.perf_counter() - start) / calls)
        olds = [rng.randrange(1, size) for _ in range(calls)]
        start = time.perf_counter()
        for old in olds:
            proof = tlog.consistency_proof(old, size, nodes)
            tlog.verify_consistency(old, size, tlog.root(old, nodes), root, proof)
        consistency.append((time.perf_counter() - start) / calls)
    print(json.dumps({"inclusion": inclusion, "consistency": consistency}))


CHILDREN: Mapping[str, Callable[[Sequence[str]], None]] = {
    "tlog-proofs": child_tlog_proofs,
    "parse": child_parse,
    "keyless": child_keyless,
    "in-toto": child_in_toto,
    "hash-file": child_hash_file,
    "hash-files": child_hash_files,
    "x509-inproc": child_x509_inproc,
    "integrity": child_integrity,
    "pg-writer": child_pg_writer,
    "append-ab": child_append_ab,
    "pg-ref-writer": child_pg_ref_writer,
}


def iter_lines(text: str) -> Iterator[list[str]]:
    for line in text.splitlines():
        if line.strip():
            yield line.split()


def main(argv: Sequence[str]) -> None:
    if not argv or argv[0] not in CHILDREN:
        print(f"usage: _bench_lib.py {{{','.join(CHILDREN)}}} ARGS...", file=sys.stderr)
        raise SystemExit(2)
    CHILDREN[argv[0]](argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
