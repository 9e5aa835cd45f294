"""Public verification API: ``verify_*`` raise, ``evaluate_*``/``check_*`` report.

Names are re-exported lazily (importing the package stays cheap).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "evaluate_delivery": "delivery",
    "SignedDocument": "documents",
    "load_signed_document": "documents",
    "CheckResult": "result",
    "Outcome": "result",
    "VerificationReport": "result",
    "SignerCheck": "signer",
    "check_signer": "signer",
    "check_revocation": "revocation",
    "Eku": "x509",
    "VerifiedChain": "x509",
    "verify_chain": "x509",
}

__all__ = sorted(_EXPORTS)  # noqa: PLE0605 - names resolved lazily by __getattr__


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return __all__
