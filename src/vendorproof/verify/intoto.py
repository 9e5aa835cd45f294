"""Classic in-toto verification of the ``in-toto/`` directory of a delivery.

A delivery may carry a root layout (``in-toto/root.layout``) and link metadata
(``in-toto/STEP.KEYID-PREFIX.link``), each either a classic ``Metablock`` or a DSSE
envelope. When the operator's policy pins the vendor's layout keys,
:func:`verify_in_toto` runs in-toto's own ``in_toto_verify`` on them.

What in-toto checks, and what it does not:

* the layout signatures (every pinned key must have signed the layout -- in-toto's
  semantics, not "any of"), the layout expiry, the link signatures and thresholds of
  every step, and the step artifact rules, which compare the links' recorded
  materials and products with one another;
* the *delivered files* are only looked at by **inspections**: commands the layout
  tells the verifier to run, recording every file of the working directory before and
  after. A layout without inspections proves that the supply chain ran as laid out,
  not that the files in the delivery are its products; bind them with the delivery's
  manifest (or with an inspection).

Inspections execute commands chosen by the vendor. They run only when the policy
allows them, only after the layout signatures verified, and only in a temporary copy
of the delivery's payload (every file except ``in-toto/`` and ``attestations/``),
never in the delivery itself. The metadata in-toto reads is itself a private snapshot
taken before anything runs, so the delivery cannot change under the verifier.

Process-global state: in-toto resolves artifact paths against the current working
directory (it even changes directory while hashing) and mutates module-level settings
while running inspections, and the working directory is process-global. Verification
with inspections therefore runs in a child Python process whose working directory is
the copy; the caller's working directory is never changed, so :func:`verify_in_toto`
is safe to call from several threads. Without inspections in-toto touches neither the
working directory nor global settings, and verification runs in-process.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from vendorproof._internal import crypto
from vendorproof._internal.jsonio import parse_json, read_document, show_key
from vendorproof._internal.text import SHORT_ID, shorten
from vendorproof.errors import (
    InvalidInputError,
    PolicyViolationError,
    SignatureError,
    VerificationError,
)
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models.delivery import RESERVED
from vendorproof.verify.context import DEFAULT_TIMEOUTS, Timeouts

__all__ = ["INTOTO_DIR", "verify_in_toto"]

#: The delivery directory holding the layout and the links.
INTOTO_DIR = "in-toto"
#: Deepest nesting of sublayouts followed.
MAX_SUBLAYOUT_DEPTH = 8
_MAX_MESSAGE = 300
_FORMAT_NAMES = {"Metablock": "Metablock", "Envelope": "DSSE"}
#: Signature schemes tried for a pinned key, default first. The keyid is a label that
#: only selects the signature to verify, so a pinned key is matched to a layout
#: signature by verifying it, whatever keyid (or, for RSA, padding) the vendor used.
_RSA_SCHEMES = (
    "rsassa-pss-sha256",
    "rsassa-pss-sha384",
    "rsassa-pss-sha512",
    "rsa-pkcs1v15-sha256",
    "rsa-pkcs1v15-sha384",
    "rsa-pkcs1v15-sha512",
)
#: Run by the child: take the request, use the parent's import path (absolute
#: entries only: the working directory is the untrusted copy), verify.
_CHILD_CODE = (
    "import json, sys\n"
    "request = json.loads(sys.stdin.read())\n"
    "sys.path[:] = request['sys_path']\n"
    "from vendorproof.verify.intoto import _child_main\n"
    "_child_main(request)\n"
)


@dataclass(slots=True)
class _Snapshot:
    """The metadata in-toto will read, copied into a private directory."""

    layout: Any  # in_toto Metadata (Metablock or Envelope) holding a Layout
    limits: Limits
    inspections: list[str] = field(default_factory=list)  # "name: command" of all
    files: int = 0


def verify_in_toto(
    delivery_root: Path,
    *,
    layout_keys: Sequence[bytes],
    allow_inspections: bool,
    layout_name: str = "root.layout",
    limits: Limits = DEFAULT_LIMITS,
    timeouts: Timeouts = DEFAULT_TIMEOUTS,
) -> str:
    """Verify the classic in-toto layout and links shipped in a delivery.

    Args:
        delivery_root: the delivery directory; metadata is read from its
            ``in-toto/`` subdirectory, which is never written to.
        layout_keys: PEM SubjectPublicKeyInfo public keys (Ed25519, ECDSA P-256/P-384,
            RSA >= 2048) pinned by the policy. Each must have signed the layout.
        allow_inspections: whether the layout's inspections (commands chosen by the
            vendor) may run. They run in a temporary copy of the delivery payload,
            in a child process, after the layout signatures verified.
        layout_name: the layout's file name inside ``in-toto/``.
        limits: the caller's bounds on untrusted input (layout signatures, metadata
            files, payload entries copied for inspections).
        timeouts: how long one inspection and the child process may run
            (``verify/context.py``: ``VerificationContext.timeouts``).

    Returns:
        A one-line account: layout, format and expiry, pinned key ids, steps, number
        of validly signed links, inspections run.

    Raises:
        InvalidInputError: no layout key, a key that is not a PEM public key, a
            missing or malformed layout or link file, a symbolic link among the
            metadata, or (when inspections run) a payload entry that is not a
            regular file or directory.
        AlgorithmError: a pinned key of an unsupported type or size.
        SignatureError: a pinned key did not sign the layout.
        PolicyViolationError: the layout (or a sublayout) has inspections and the
            policy does not allow running them; nothing was run.
        VerificationError: in-toto verification failed (expired layout, missing
            link, threshold not met, artifact rule violated, inspection failed).

    """
    if not layout_keys:
        raise InvalidInputError("no in-toto layout keys are pinned by the policy")
    # The same key pinned twice is one key: in-toto keys a dict by keyid.
    pinned = list(
        {
            crypto.key_id(k): k
            for k in (_load_pinned_key(pem, i) for i, pem in enumerate(layout_keys))
        }.values()
    )
    if not _is_file_name(layout_name):
        raise InvalidInputError(
            f"layout name {show_key(layout_name)} is not a file name"
        )
    layout_rel = f"{INTOTO_DIR}/{layout_name}"
    with tempfile.TemporaryDirectory(
        prefix="vendorproof-in-toto-", ignore_cleanup_errors=True
    ) as tmp:
        meta = Path(tmp) / "metadata"
        meta.mkdir()
        snap = _snapshot(delivery_root / INTOTO_DIR, layout_name, meta, limits)
        keys = _layout_key_dicts(snap.layout, pinned, layout_rel, limits)
        with _in_toto_errors():
            _verify_layout_signatures(snap.layout, keys)
        if snap.inspections and not allow_inspections:
            shown = "; ".join(snap.inspections[:3])
            extra = len(snap.inspections) - 3
            more = f" and {extra} more" if extra > 0 else ""
            raise PolicyViolationError(
                f"{layout_rel}: layout has inspections ({shown}{more}), which run "
                "commands; the policy does not allow running them"
            )
        if snap.inspections:
            work = Path(tmp) / "delivery"
            _copy_payload(delivery_root, work, limits)
            links = _verify_in_child(
                meta / layout_name,
                meta,
                keys,
                work,
                len(snap.inspections),
                timeouts=timeouts,
            )
        else:
            with _in_toto_errors():
                links = _run_in_toto(
                    snap.layout, keys, str(meta), timeouts.in_toto_inspection
                )
        return _account(snap, layout_rel, pinned, links)


# --- keys ------------------------------------------------------------------------


def _load_pinned_key(pem: bytes, index: int) -> crypto.PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm) as e:
        raise InvalidInputError(
            f"in-toto layout key {index} is not a PEM SubjectPublicKeyInfo public key"
        ) from e
    public = crypto.as_public_key(key)
    crypto.algorithm_name(public)  # AlgorithmError for weak RSA, other curves
    return public


def _candidates(public: crypto.PublicKey) -> list[dict[str, Any]]:
    """The key in securesystemslib form under each scheme a vendor may have used."""
    # Public API, but the package does not declare its re-exports.
    from securesystemslib.signer import SSlibKey  # type: ignore[attr-defined]

    base = SSlibKey.from_crypto(public)
    schemes = [base.scheme]
    if base.keytype == "rsa":
        schemes += [s for s in _RSA_SCHEMES if s != base.scheme]
    return [
        {
            "keyid": base.keyid,
            "keytype": base.keytype,
            "scheme": scheme,
            "keyval": dict(base.keyval),
        }
        for scheme in schemes
    ]


def _signature_keyids(metadata: Any, limits: Limits, file: str) -> list[str]:
    sigs = metadata.signatures
    if isinstance(sigs, dict):  # DSSE: keyid -> Signature
        keyids = [k for k in sigs if isinstance(k, str)]
    else:  # Metablock: list of signature dicts
        keyids = [
            s["keyid"]
            for s in sigs
            if isinstance(s, dict) and isinstance(s.get("keyid"), str)
        ]
    if len(keyids) > limits.max_signatures:
        raise InvalidInputError(
            f"more than {limits.max_signatures} layout signatures", file=file
        )
    return keyids


def _layout_key_dicts(
    metadata: Any, pinned: Sequence[crypto.PublicKey], file: str, limits: Limits
) -> dict[str, dict[str, Any]]:
    """in-toto key dicts for the pinned keys, labelled to meet their signatures.

    A pinned key that verifies none of the layout's signatures is passed under its
    default keyid, so that in-toto reports it as the key that did not sign.
    """
    sig_keyids = _signature_keyids(metadata, limits, file)
    keys: dict[str, dict[str, Any]] = {}
    for public in pinned:
        candidates = _candidates(public)
        chosen = candidates[0]
        for keyid in sig_keyids:
            for candidate in candidates:
                labelled = {**candidate, "keyid": keyid}
                if _verifies(metadata, labelled):
                    chosen = labelled
                    break
            else:
                continue
            break
        keys[chosen["keyid"]] = chosen
    return keys


def _library_errors() -> tuple[type[Exception], ...]:
    """What in-toto and securesystemslib raise for metadata they cannot accept.

    Their own ``securesystemslib.exceptions.Error`` tree, and the built-in types their
    parsers let through on malformed input (``KeyError`` for a missing field,
    ``TypeError`` / ``AttributeError`` for a field of the wrong type, ``ValueError``
    for bad encodings), and cryptography's for a key or signature it cannot use.
    Anything else is a bug and is not caught.
    """
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from securesystemslib.exceptions import Error

    return (
        Error,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        InvalidSignature,
        UnsupportedAlgorithm,
    )


def _verification_errors() -> tuple[type[Exception], ...]:
    """:func:`_library_errors`, and an inspection that timed out or could not run."""
    return (*_library_errors(), subprocess.TimeoutExpired, OSError)


def _verifies(metadata: Any, key: dict[str, Any]) -> bool:
    """Whether ``key`` verifies the layout signature labelled with its keyid."""
    try:
        metadata.verify_signature(key)
    except _library_errors():  # any of them means "not this key/scheme"
        return False
    return True


# --- metadata snapshot -----------------------------------------------------------


def _is_file_name(name: str) -> bool:
    return (
        bool(name)
        and name not in {".", ".."}
        and not any(c in name for c in ("/", "\\", "\x00"))
    )


def _read_metadata(path: Path, rel: str) -> tuple[bytes, Any] | None:
    """Read and parse one metadata file; None if there is no such file."""
    from in_toto.models.metadata import Metadata

    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    except OSError as e:
        raise InvalidInputError(f"cannot read: {e.strerror}", file=rel) from e
    if stat.S_ISLNK(mode):
        raise InvalidInputError("is a symbolic link", file=rel)
    try:
        raw = read_document(path)
    except InvalidInputError as e:
        raise InvalidInputError(e.message, file=rel) from e
    data = parse_json(raw, file=rel)
    if not isinstance(data, dict):
        raise InvalidInputError("not in-toto metadata: not a JSON object", file=rel)
    try:
        metadata = Metadata.from_dict(data)
        payload = metadata.get_payload()
    except _library_errors() as e:  # from KeyError to FormatError
        raise InvalidInputError(
            f"not in-toto metadata: {_first_line(e)}", file=rel
        ) from e
    if getattr(payload, "type_", None) not in {"layout", "link"}:
        raise InvalidInputError("not in-toto metadata", file=rel)
    return raw, metadata


def _snapshot(
    intoto_dir: Path, layout_name: str, dest: Path, limits: Limits
) -> _Snapshot:
    """Copy the layout and every link in-toto would load into ``dest``.

    Mirrors ``in_toto.verifylib.load_links_for_layout`` and the sublayout recursion:
    for each step, the file ``STEP.KEYID-PREFIX.link`` of each authorized key (and
    subkey); for a link that is a (sub)layout, its links in ``STEP.KEYID-PREFIX/``.
    Collects the inspections of the layout and of every sublayout.
    """
    rel = f"{INTOTO_DIR}/{layout_name}"
    read = _read_metadata(intoto_dir / layout_name, rel)
    if read is None:
        raise InvalidInputError("in-toto layout not found", file=rel)
    raw, metadata = read
    if metadata.get_payload().type_ != "layout":
        raise InvalidInputError("not an in-toto layout (it is a link)", file=rel)
    (dest / layout_name).write_bytes(raw)
    snap = _Snapshot(layout=metadata, limits=limits, files=1)
    _snapshot_links(
        metadata.get_payload(),
        snap,
        src=intoto_dir,
        dest=dest,
        rel_dir=INTOTO_DIR,
        layout_rel=rel,
        depth=0,
    )
    return snap


def _snapshot_links(
    layout: Any,
    snap: _Snapshot,
    *,
    src: Path,
    dest: Path,
    rel_dir: str,
    layout_rel: str,
    depth: int,
) -> None:
    from in_toto.models.layout import SUBLAYOUT_LINK_DIR_FORMAT
    from in_toto.models.link import FILENAME_FORMAT

    snap.inspections += [
        f"{show_key(i.name)}: {show_key(' '.join(map(str, i.run)))}"
        for i in layout.inspect
    ]
    for step in layout.steps:
        if not _is_file_name(step.name):
            raise InvalidInputError(
                f"step name {show_key(step.name)} is not a file name", file=layout_rel
            )
        for authorized in step.pubkeys:
            key = layout.keys.get(authorized, {})
            subkeys = key.get("subkeys", {}) if isinstance(key, dict) else {}
            for keyid in [authorized, *subkeys]:
                name = FILENAME_FORMAT.format(step_name=step.name, keyid=keyid)
                rel = f"{rel_dir}/{name}"
                read = _read_metadata(src / name, rel)
                if read is None:
                    continue
                snap.files += 1
                if snap.files > snap.limits.max_files:
                    raise InvalidInputError(
                        f"more than {snap.limits.max_files} in-toto metadata files",
                        file=INTOTO_DIR,
                    )
                raw, metadata = read
                (dest / name).write_bytes(raw)
                payload = metadata.get_payload()
                if payload.type_ != "layout":
                    continue
                if depth >= MAX_SUBLAYOUT_DEPTH:
                    raise InvalidInputError(
                        f"sublayouts nested deeper than {MAX_SUBLAYOUT_DEPTH}", file=rel
                    )
                sub = SUBLAYOUT_LINK_DIR_FORMAT.format(name=step.name, keyid=keyid)
                (dest / sub).mkdir(exist_ok=True)
                _snapshot_links(
                    payload,
                    snap,
                    src=src / sub,
                    dest=dest / sub,
                    rel_dir=f"{rel_dir}/{sub}",
                    layout_rel=rel,
                    depth=depth + 1,
                )


# --- payload copy for inspections ------------------------------------------------


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


def _copy_payload(root: Path, dest: Path, limits: Limits) -> None:
    """Copy regular files and directories of the payload; refuse anything else."""
    count = 0
    stack: list[tuple[Path, Path, str]] = [(root, dest, "")]
    while stack:
        src, dst, prefix = stack.pop()
        dst.mkdir()
        try:
            with os.scandir(src) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            raise InvalidInputError(f"cannot list: {e.strerror}", file=str(src)) from e
        for entry in entries:
            if not prefix and entry.name in RESERVED:
                continue
            rel = f"{prefix}{entry.name}"
            count += 1
            if count > limits.max_files:
                raise InvalidInputError(
                    f"more than {limits.max_files} entries", file=str(root)
                )
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISDIR(mode):
                stack.append((Path(entry.path), dst / entry.name, rel + "/"))
            elif stat.S_ISREG(mode):
                _copy_file(Path(entry.path), dst / entry.name, rel)
            else:
                raise InvalidInputError(
                    f"is {_kind(mode)}; in-toto inspections run on regular files only",
                    file=rel,
                )


def _copy_file(src: Path, dst: Path, rel: str) -> None:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(src, flags)
    except OSError as e:
        raise InvalidInputError(f"cannot read: {e.strerror}", file=rel) from e
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise InvalidInputError("not a regular file", file=rel)
        try:
            with dst.open("xb") as out:
                while chunk := f.read(1024 * 1024):
                    out.write(chunk)
        except OSError as e:
            raise InvalidInputError(f"cannot copy: {e.strerror}", file=rel) from e
    dst.chmod(stat.S_IMODE(info.st_mode) & 0o777)  # keep executable bits


# --- running in-toto -------------------------------------------------------------


def _verify_layout_signatures(metadata: Any, keys: dict[str, dict[str, Any]]) -> None:
    from in_toto.verifylib import verify_metadata_signatures

    verify_metadata_signatures(metadata, keys)


def _run_in_toto(
    metadata: Any, keys: dict[str, dict[str, Any]], link_dir: str, timeout: int
) -> int:
    """Run ``in_toto_verify``; return how many links are validly signed.

    Runs inspections (if any) in the current working directory.
    """
    from in_toto import verifylib

    verifylib.in_toto_verify(
        metadata,
        keys,
        link_dir_path=link_dir,
        persist_inspection_links=False,
        inspect_timeout=timeout,
    )
    layout = metadata.get_payload()
    valid = verifylib.verify_link_signature_thresholds(
        layout, verifylib.load_links_for_layout(layout, link_dir)
    )
    return sum(len(links) for links in valid.values())


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    line = text.splitlines()[0] if text else type(e).__name__
    return shorten(line, _MAX_MESSAGE)


def _classify(e: BaseException) -> tuple[str, str]:
    """(kind, one-line reason) for an exception raised while verifying."""
    from in_toto import exceptions as ie

    msg = _first_line(e)
    described: list[tuple[type[BaseException] | tuple[type[BaseException], ...], str]]
    described = [
        (ie.SignatureVerificationError, "in-toto layout signature does not verify"),
        (ie.LayoutExpiredError, "in-toto layout expired"),
        (ie.LinkNotFoundError, "in-toto link missing"),
        (ie.ThresholdVerificationError, "in-toto threshold not met"),
        (ie.RuleVerificationError, "in-toto artifact rule violated"),
        (ie.BadReturnValueError, "in-toto inspection failed"),
        (subprocess.TimeoutExpired, "in-toto inspection timed out"),
        (OSError, "in-toto inspection could not run"),
    ]
    kind = (
        "signature" if isinstance(e, ie.SignatureVerificationError) else "verification"
    )
    for types, what in described:
        if isinstance(e, types):
            return kind, f"{what}: {msg}"
    return kind, f"in-toto verification failed: {type(e).__name__}: {msg}"


def _error(kind: str, message: str) -> VerificationError:
    if kind == "signature":
        return SignatureError(message)
    return VerificationError(message)


@contextlib.contextmanager
def _in_toto_errors() -> Iterator[None]:
    """Turn a failure of in-toto into a one-line vendorproof error (fail closed)."""
    try:
        yield
    except _verification_errors() as e:
        kind, message = _classify(e)
        raise _error(kind, message) from e


def _python_path() -> list[str]:
    """The parent's import path, absolute entries only, vendorproof's first."""
    import vendorproof

    own = str(Path(vendorproof.__file__).resolve().parent.parent)
    return [own, *(p for p in sys.path if p and Path(p).is_absolute() and p != own)]


def _verify_in_child(
    layout_file: Path,
    link_dir: Path,
    keys: dict[str, dict[str, Any]],
    workdir: Path,
    inspections: int,
    *,
    timeouts: Timeouts,
) -> int:
    """Run the verification in a child process whose working directory is ``workdir``.

    ``-I`` isolates the child from the environment's Python settings and keeps the
    working directory (the vendor's files) off the import path.
    """
    request = json.dumps(
        {
            "sys_path": _python_path(),
            "layout": str(layout_file),
            "link_dir": str(link_dir),
            "keys": keys,
            "timeout": timeouts.in_toto_inspection,
        }
    )
    budget = timeouts.in_toto_inspection * (inspections + 1) + timeouts.in_toto_grace
    try:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-c", _CHILD_CODE],
            cwd=workdir,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    except OSError as e:
        raise VerificationError(f"cannot start in-toto verification: {e}") from e
    try:
        out, err = proc.communicate(request, timeout=budget)
    except subprocess.TimeoutExpired as e:
        _kill_group(proc)
        raise VerificationError(
            f"in-toto verification did not finish within {budget} s"
        ) from e
    result = _parse_child_output(out)
    if result is None:
        last = (
            err.strip().splitlines()[-1] if err.strip() else f"exit {proc.returncode}"
        )
        raise VerificationError(
            f"in-toto verification process failed: {last[:_MAX_MESSAGE]}"
        )
    if "error" in result:
        raise _error(str(result["error"]), str(result.get("message", "")))
    return int(result["links"])


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            proc.kill()
    except ProcessLookupError:  # pragma: no cover - already gone
        pass
    proc.communicate()


def _parse_child_output(out: str) -> dict[str, Any] | None:
    lines = out.strip().splitlines()
    if not lines:
        return None
    try:
        result = json.loads(lines[-1])
    except ValueError:
        return None
    return result if isinstance(result, dict) else None


def _child_main(request: dict[str, Any]) -> None:
    """Entry point of the child process: verify, write one JSON line to stdout."""
    import warnings

    # pathspec (used by in-toto's artifact recording) emits DeprecationWarnings.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from in_toto.models.metadata import Metadata

    try:
        metadata = Metadata.load(request["layout"])
        links = _run_in_toto(
            metadata, request["keys"], request["link_dir"], int(request["timeout"])
        )
        result: dict[str, Any] = {"links": links}
    except Exception as e:  # noqa: BLE001 - a process boundary (docs/design.md)
        kind, message = _classify(e)
        result = {"error": kind, "message": message}
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


# --- account ---------------------------------------------------------------------


def _account(
    snap: _Snapshot, layout_rel: str, pinned: Sequence[crypto.PublicKey], links: int
) -> str:
    layout = snap.layout.get_payload()
    fmt = _FORMAT_NAMES.get(type(snap.layout).__name__, type(snap.layout).__name__)
    steps = ", ".join(show_key(s.name) for s in layout.steps) or "none"
    key_ids = ", ".join(shorten(crypto.key_id(k), SHORT_ID) for k in pinned)
    inspections = (
        f"{len(snap.inspections)} inspection(s) run in a copy of the delivery"
        if snap.inspections
        else "no inspections"
    )
    return (
        f"in-toto {layout_rel} ({fmt}, expires {layout.expires}) verified with "
        f"layout key(s) {key_ids}: steps {steps}; {links} link(s) verified; "
        f"{inspections}"
    )
