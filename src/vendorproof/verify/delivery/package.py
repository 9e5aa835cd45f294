"""A signature over the whole package that holds the manifest (SOL 004 option 2).

ETSI GS NFV-SOL 004 §5.1 and §5.3, security option 2: the vendor delivers a ZIP
holding the CSAR, a CMS signature over the CSAR's exact bytes and the signer's
certificate. The format adapter gives that signature as the package manifest's
``package_signature``; this module measures its target (streaming, through the
adapter's hasher, with the digest algorithm the signature declares) and runs the
verifier of its kind against the policy's vendors, like any signer. Who it makes
the delivering vendor is decided by the caller (``evaluate_delivery``): the
manifest's own signature when there is one, else the package signature only where
the vendor's policy entry allows it (``sol004Option2Alone``).
"""

from __future__ import annotations

from vendorproof.models.checks import DOCUMENT_REQUIREMENTS, Check, Outcome
from vendorproof.models.delivery import Delivery, PackageManifest
from vendorproof.verify.delivery._evaluation import ComponentDigest, Evaluation, Hasher
from vendorproof.verify.signer import SignerCheck

__all__ = ["check_package_signature"]


def check_package_signature(
    ev: Evaluation, delivery: Delivery, package: PackageManifest, hasher: Hasher
) -> tuple[SignerCheck, dict[str, ComponentDigest]] | None:
    """The signer of ``package.package_signature`` and the measurement it used.

    Returns None when the package carries no such signature. The signer checks are
    recorded on the signature file; a target that was not delivered is a failed
    ``signature`` check. The measurement goes into the report (replay re-checks the
    signature from it).
    """
    sig = package.package_signature
    if sig is None:
        return None
    requirements = DOCUMENT_REQUIREMENTS["package"]
    if sig.target not in delivery.payload:
        ev.add(
            Check.SIGNATURE,
            sig.file,
            Outcome.FAIL,
            f"signs {sig.target!r}, which is not delivered",
            requirements,
        )
        return SignerCheck(checks=(), principal=None), {}
    measured: dict[str, ComponentDigest] = {}
    digests: dict[str, str] = {}
    if sig.algorithms:
        (m,) = hasher([sig.target], list(sig.algorithms))
        measured[sig.target] = m
        digests = dict(m.digests)
    result = ev.detached_signer(
        sig,
        content=None,
        measured=digests,
        principals=ev.policy.vendors,
        role="vendor",
        kind="package",
    )
    return result, measured
