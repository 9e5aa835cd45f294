"""Public verification API: ``verify_*`` raise, ``evaluate_*``/``check_*`` report."""

from vendorproof.verify.delivery import evaluate_delivery
from vendorproof.verify.documents import SignedDocument, load_signed_document
from vendorproof.verify.result import CheckResult, Outcome, VerificationReport
from vendorproof.verify.signer import SignerCheck, check_signer
from vendorproof.verify.x509 import Eku, VerifiedChain, verify_chain

__all__ = [
    "CheckResult",
    "Eku",
    "Outcome",
    "SignedDocument",
    "SignerCheck",
    "VerificationReport",
    "VerifiedChain",
    "check_signer",
    "evaluate_delivery",
    "load_signed_document",
    "verify_chain",
]
