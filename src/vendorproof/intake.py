"""Filesystem entry points: load a policy and verify a delivery directory.

The CLI is a thin layer over these; library users call them directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path

from vendorproof._internal.jsonio import read_document
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models.delivery import load_delivery
from vendorproof.models.policy import Policy
from vendorproof.verify.delivery import ComponentDigest, Hasher, evaluate_delivery
from vendorproof.verify.result import VerificationReport

__all__ = ["load_policy", "measure", "verify_delivery"]

#: Called with the total byte count; a context giving a per-chunk callback (or None).
ProgressFactory = Callable[[int], AbstractContextManager[Callable[[int], None] | None]]


def load_policy(path: Path, *, limits: Limits = DEFAULT_LIMITS) -> Policy:
    """Read and validate a policy; files it references are relative to it."""
    base = path.resolve().parent
    return Policy.from_yaml(
        read_document(path, limits=limits),
        file=str(path),
        resolve=lambda ref: read_document(base / ref, limits=limits),
        limits=limits,
    )


def verify_delivery(
    root: Path,
    policy: Policy,
    *,
    at: datetime,
    time_source: str,
    progress: ProgressFactory | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> VerificationReport:
    """Scan ``root``, re-hash its payload in parallel and evaluate every check.

    Raises:
        InvalidInputError: the delivery or one of its statements is malformed.
    """
    delivery = load_delivery(root, limits=limits)
    return evaluate_delivery(
        delivery,
        policy,
        at=at,
        time_source=time_source,
        hasher=measure(delivery.root, progress),
    )


def measure(root: Path, progress: ProgressFactory | None = None) -> Hasher:
    """A hasher for files under ``root`` using the parallel hashing engine."""

    def hasher(
        paths: Sequence[str], algorithms: Sequence[str]
    ) -> list[ComponentDigest]:
        from vendorproof._internal.hashing import hash_files

        files = [root / p for p in paths]
        if progress is None:
            results = hash_files(files, algorithms)
        else:
            with progress(sum(f.stat().st_size for f in files)) as on_progress:
                results = hash_files(files, algorithms, on_progress=on_progress)
        return [ComponentDigest(size=r.size, digests=dict(r.digests)) for r in results]

    return hasher
