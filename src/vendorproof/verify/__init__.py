"""Public verification API: ``verify_*`` raise, ``evaluate_*``/``check_*`` report.

Names are re-exported lazily (importing the package stays cheap); the
``TYPE_CHECKING`` block gives type checkers the same names with their real types
(``tests/typecheck/test_exports.py`` keeps it in step with ``_EXPORTS``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    "verify_revocation": "revocation",
    "Eku": "x509",
    "VerifiedChain": "x509",
    "verify_chain": "x509",
}

if TYPE_CHECKING:
    from vendorproof.verify.context import Timeouts as Timeouts
    from vendorproof.verify.context import VerificationCache as VerificationCache
    from vendorproof.verify.context import (
        VerificationContext as VerificationContext,
    )
    from vendorproof.verify.delivery import evaluate_delivery as evaluate_delivery
    from vendorproof.verify.documents import SignedDocument as SignedDocument
    from vendorproof.verify.documents import (
        load_signed_document as load_signed_document,
    )
    from vendorproof.verify.result import CheckResult as CheckResult
    from vendorproof.verify.result import Outcome as Outcome
    from vendorproof.verify.result import VerificationReport as VerificationReport
    from vendorproof.verify.revocation import verify_revocation as verify_revocation
    from vendorproof.verify.signer import SignerCheck as SignerCheck
    from vendorproof.verify.signer import check_signer as check_signer
    from vendorproof.verify.x509 import Eku as Eku
    from vendorproof.verify.x509 import VerifiedChain as VerifiedChain
    from vendorproof.verify.x509 import verify_chain as verify_chain

__all__, _getattr, _dir = lazy_exports(__name__, _EXPORTS)
if not TYPE_CHECKING:  # pragma: no branch - an unknown name is a type error, not Any
    __getattr__, __dir__ = _getattr, _dir
