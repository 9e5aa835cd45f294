"""Filesystem entry points: load a policy and verify a delivery (any format).

The CLI is a thin layer over these; library users call them directly.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from vendorproof import formats
from vendorproof._internal.jsonio import read_document
from vendorproof.formats.base import ProgressFactory
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models.policy import Policy
from vendorproof.verify.delivery import Hasher, evaluate_delivery
from vendorproof.verify.result import VerificationReport

__all__ = ["ProgressFactory", "load_policy", "measure", "verify_delivery"]


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
    """Load the delivery at ``root`` (any format), measure it and run every check.

    Raises:
        InvalidInputError: ``root`` is no delivery in a known format, or cannot be
            read as one (malformed vendor documents are failed checks instead).
    """
    fmt = formats.detect(root)
    delivery = fmt.load(root, limits=limits)
    return evaluate_delivery(
        delivery,
        policy,
        at=at,
        time_source=time_source,
        hasher=fmt.measure(root, progress),
    )


def measure(root: Path, progress: ProgressFactory | None = None) -> Hasher:
    """A hasher for the components of the delivery at ``root`` (its format's)."""
    return formats.detect(root).measure(root, progress)
