"""The verification context: validation time, limits, timeouts and memo tables.

Everything a verification depends on besides its inputs is in one frozen value that
the caller passes down (``check_signer`` -> ``verify_chain``, ``verify_revocation``,
``verify_timestamp``; ``verify_in_toto`` takes its limits and timeouts), instead of
module constants and module-global caches that tests had to patch.

The memo tables of ``VerificationCache`` hold results that are pure functions of the
bytes they are keyed by, so sharing them never changes a verdict, only its cost:

- ``validated_paths``: a certification path cryptography validated, keyed by the
  fingerprints of leaf, intermediates and anchors, the EKU and the depth limit. A
  path valid at one time is valid at any other time inside every one of its
  certificates' validity periods (signatures and extensions do not depend on the
  time), so a hit is used only at such times; revocation is checked on every use.
- ``crl_signatures``: whether a CRL (by the sha256 of its DER) is signed by an
  issuer certificate (by the sha256 of its DER).
- ``timestamp_tokens``: RFC 3161 tokens (by the sha256 of the TimeStampResp) whose
  CMS signature, TSA chain at genTime and profile verified against a set of TSA
  certificates (their fingerprints); the message imprint is compared on every use.

Parsed delivery documents are kept by the format adapters' ``DocumentCache``
(``formats/base.py``), which replay passes to ``reload``.

Replaying many records checks the same vendor chains, CRLs and tokens again and again;
the tables are what keeps replay and bulk verification fast (``performance.md``,
rows 5 and 14). Each table is bounded (``Memo``: emptied when full).

A call that gets no context uses one at its validation time with the default limits
and timeouts and the process's shared cache (``shared_cache``), which behaves as the
module caches did; a caller that wants isolation (a test, a long-lived service that
rotates its policy) passes a context with a ``VerificationCache()`` of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from vendorproof._internal.memo import Memo
from vendorproof.limits import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from cryptography import x509

__all__ = [
    "DEFAULT_TIMEOUTS",
    "Timeouts",
    "VerificationCache",
    "VerificationContext",
    "context_for",
    "shared_cache",
]

#: Entries per memo table (each table is emptied when it is full).
CACHE_LIMIT = 4096
#: Parsed signed documents kept by replay.


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeouts:
    """How long the steps of a verification that run other code may take.

    Attributes:
        in_toto_inspection: seconds one in-toto inspection command may run before it
            is killed.
        in_toto_grace: extra seconds the in-toto child process gets beyond its
            inspections' budget (``in_toto_inspection x (inspections + 1)``).
    """

    in_toto_inspection: int = 120
    in_toto_grace: int = 60


DEFAULT_TIMEOUTS = Timeouts()


class VerificationCache:
    """The memo tables of verification results (see the module documentation)."""

    __slots__ = ("crl_signatures", "timestamp_tokens", "validated_paths")

    def __init__(
        self,
        limit: int = CACHE_LIMIT,
    ) -> None:
        self.validated_paths: Memo[tuple[object, ...], tuple[x509.Certificate, ...]] = (
            Memo(limit)
        )
        self.crl_signatures: Memo[tuple[bytes, bytes], bool] = Memo(limit)
        self.timestamp_tokens: Memo[tuple[bytes, tuple[bytes, ...]], bool] = Memo(limit)


_SHARED = VerificationCache()


def shared_cache() -> VerificationCache:
    """The cache of calls that get no context (one per process)."""
    return _SHARED


@dataclass(frozen=True, slots=True, kw_only=True)
class VerificationContext:
    """What a verification depends on besides its inputs.

    Attributes:
        at: the validation time (never an implicit "now": ``design.md``).
        limits: bounds on untrusted input.
        timeouts: bounds on steps that run other code.
        cache: memo tables of results that are pure functions of their bytes.
    """

    at: datetime
    limits: Limits = DEFAULT_LIMITS
    timeouts: Timeouts = DEFAULT_TIMEOUTS
    cache: VerificationCache = field(default_factory=VerificationCache, repr=False)

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            msg = "the validation time must be timezone-aware"
            raise ValueError(msg)


def context_for(
    at: datetime, context: VerificationContext | None
) -> VerificationContext:
    """The caller's context, or the default one at ``at`` (shared cache).

    Raises:
        ValueError: the caller's context is for another validation time than ``at``
            (a programming error: one call, one validation time).
    """
    if context is None:
        return VerificationContext(at=at, cache=_SHARED)
    if context.at != at:
        msg = (
            f"the verification context is for {context.at.isoformat()}, "
            f"the call for {at.isoformat()}"
        )
        raise ValueError(msg)
    return context
