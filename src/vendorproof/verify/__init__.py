"""Public verification API: ``verify_*`` raise, ``evaluate_*``/``check_*`` report.

Names are re-exported lazily (importing the package stays cheap).
"""

from __future__ import annotations

from vendorproof._internal.lazy import lazy_exports

_EXPORTS = {
    "Timeouts": "context",
    "VerificationCache": "context",
    "VerificationContext": "context",
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

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
