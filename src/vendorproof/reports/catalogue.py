"""What each check verifies, for renderers that describe checks (SARIF rules, JUnit).

The texts follow the check table of ``docs/formats.md`` §6; requirement ids are those
of ``vendorproof.verify.delivery.REQUIREMENTS`` (signer checks carry the ids of the
document they ran on, so their catalogue entry lists the ids of every document kind).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CHECKS", "CheckInfo", "check_info"]

_SIGNER_REQUIREMENTS = ("KAT-A2-2", "KAT-A2-3", "KAT-A2-4", "SCAS-PKG", "TKG-165-4")


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckInfo:
    """A check's one-line summary, its longer help and the requirements it serves."""

    summary: str
    help: str
    requirements: tuple[str, ...]


def _signer(summary: str, help_text: str) -> CheckInfo:
    return CheckInfo(
        summary=summary,
        help=help_text + " Carries the requirement ids of the document it ran on "
        "(manifest KAT-A2-4, SCAS-PKG; certification KAT-A2-2, TKG-165-4; trust "
        "declaration KAT-A2-3).",
        requirements=_SIGNER_REQUIREMENTS,
    )


CHECKS: dict[str, CheckInfo] = {
    "attestations": CheckInfo(
        summary="The delivery carries exactly one manifest and only known statements.",
        help="Passes when attestations/ holds exactly one component manifest and every "
        "signed statement has a predicate type vendorproof knows.",
        requirements=("KAT-A2-4",),
    ),
    "algorithms": _signer(
        "Key and certificate algorithms are allowed by the policy.",
        "Passes when the signer's key and every certificate of its chain use "
        "algorithms the policy allows (algorithms.signatures, minRsaBits).",
    ),
    "signature": _signer(
        "A DSSE signature verifies with the signer's key.",
        "Passes when a DSSE signature over the pre-authentication encoding verifies "
        "with the leaf certificate's key or a key the policy pins.",
    ),
    "timestamp": _signer(
        "An RFC 3161 timestamp from a trusted TSA covers the signature.",
        "Passes when a token from a timestamping authority of the policy covers the "
        "signature; not applicable without tokens, a failure when the principal "
        "requires one and none verifies.",
    ),
    "certificate-chain": _signer(
        "The signer's certificate chains to a pinned anchor.",
        "Passes when the leaf chains to a pinned anchor of the role at the validation "
        "(or timestamped signing) time under the code-signing profile.",
    ),
    "revocation": _signer(
        "No certificate of the chain is revoked.",
        "Passes when no certificate of the chain is revoked according to the "
        "policy's CRLs (not applicable with revocation mode off).",
    ),
    "signer-identity": _signer(
        "The signer is an identity the policy allows.",
        "Passes when the leaf matches an allowed identity of the principal, or the "
        "key is pinned for it.",
    ),
    "signature-threshold": _signer(
        "Enough distinct trusted keys signed the document.",
        "Passes when at least k distinct trusted keys per role of the policy's "
        "signatureRequirements signed the document (an image: every verified "
        "Notation or cosign signature of a kind the vendor may use, once per key).",
    ),
    "notation-envelope": _signer(
        "A Notation envelope follows the Notary Project rules.",
        "Passes when the JWS or COSE envelope is well formed, its alg is allowed, "
        "every critical header is understood and present, and the content type and "
        "signing scheme are the Notary Project's.",
    ),
    "cosign-bundle": _signer(
        "A cosign Sigstore bundle parses.",
        "Passes when the bundle attached to the image is a readable Sigstore bundle; "
        "its signer is then checked as any statement bundle's.",
    ),
    "target-artifact": _signer(
        "The signature is over the manifest verified.",
        "Passes when the artifact the signature names (Notation targetArtifact, the "
        "cosign statement subject or docker-manifest-digest) is the manifest, by "
        "media type, digest and size where given.",
    ),
    "signing-scheme": _signer(
        "The Notation signing scheme is supported.",
        "Passes for notary.x509, and for notary.x509.signingAuthority with an "
        "authentic signing time not after the validation time.",
    ),
    "expiry": _signer(
        "The Notation signature has not expired.",
        "Passes when the validation time is before io.cncf.notary.expiry.",
    ),
    "vendor-binding": CheckInfo(
        summary="The manifest names the vendor that signed it.",
        help="Passes when the manifest's vendor.id is the policy id of the vendor "
        "whose anchor or key verified it; for an image, when its vendor annotation "
        "is that vendor's policy id or policy name, or it names none; on a package "
        "signature (an ETSI SOL 004 option 2 .cms), of the vendor that signed the "
        "package.",
        requirements=("KAT-A2-4", "SCAS-PKG"),
    ),
    "digest-algorithms": CheckInfo(
        summary="The component's digests use allowed algorithms.",
        help="Passes when every digest listed for the component uses an algorithm "
        "the policy allows (sha1 and md5 never are).",
        requirements=("KAT-A2-4", "SCAS-PKG"),
    ),
    "integrity": CheckInfo(
        summary="The delivered file is exactly the one the vendor listed.",
        help="Passes when the file is a regular file with the size and every digest "
        "the signed manifest lists for it. A failure means the file was changed, "
        "replaced or is missing.",
        requirements=("KAT-A2-4", "EUCC-9-2e"),
    ),
    "unlisted-files": CheckInfo(
        summary="Every delivered payload file is listed in the manifest.",
        help="Passes when every payload file is listed in the signed manifest "
        "(detached signature files and the CSAR a package signature covers need not "
        "be); an unlisted file is a warning or a failure as the policy says "
        "(unlistedFiles).",
        requirements=("KAT-A2-4",),
    ),
    "certification": CheckInfo(
        summary="The certification is usable for this delivery.",
        help="Passes when a trusted certification body under a scheme it may certify "
        "issued it, it is valid and in status valid at the validation time, its "
        "holder is the vendor that signed the manifest and product and version match.",
        requirements=("KAT-A2-2", "TKG-165-4"),
    ),
    "certification-coverage": CheckInfo(
        summary="A usable certification certifies the delivered digests.",
        help="Passes when a usable certification under a scheme every matching "
        "policy rule accepts certifies the measured digests of the component "
        "(not applicable when no rule applies).",
        requirements=("KAT-A2-2", "TKG-165-4", "EUCC-9-2e"),
    ),
    "trust-declaration": CheckInfo(
        summary="A valid trust declaration of the signing vendor covers the product.",
        help="Passes when a trust declaration signed by the vendor that signed the "
        "manifest covers the product and is valid (not applicable when absent and "
        "optional).",
        requirements=("KAT-A2-3",),
    ),
    "deny-list": CheckInfo(
        summary="No prohibition in force matches the vendor and product.",
        help="Passes when no deny-list entry in force matches the verified vendor "
        "(policy id or name) and the product; fails when no trusted vendor signed "
        "the manifest.",
        requirements=("BSIG-41",),
    ),
    "keyless-signature": CheckInfo(
        summary="A Sigstore keyless bundle over the file verifies.",
        help="Passes when a Sigstore bundle over the delivered file verifies offline "
        "with a keyless identity of the vendor that signed the manifest.",
        requirements=("KAT-A2-4", "SCAS-PKG"),
    ),
    "in-toto": CheckInfo(
        summary="The in-toto layout and links verify.",
        help="Passes when the in-toto layout and links verify against the layout keys "
        "pinned for the vendor that signed the manifest (not applicable when the "
        "policy pins none).",
        requirements=("KAT-A2-4", "SCAS-PKG"),
    ),
    "rollback": CheckInfo(
        summary="The securityVersion is not below the highest already accepted.",
        help="Added by the evidence intake: passes when the delivery's "
        "securityVersion is at least the highest accepted for the vendor and "
        "product; a warning under a policy rollback exception.",
        requirements=("KAT-A2-4",),
    ),
    "error": CheckInfo(
        summary="The delivery could be verified at all.",
        help="Recorded by the evidence intake when a document does not parse or "
        "verification raised; the reason names the file. Always a failure of the "
        "record (fail closed).",
        requirements=("KAT-A2-4",),
    ),
    "installed-product": CheckInfo(
        summary="The update is for the installed vendor and product.",
        help="Added by the gate: passes when the vendor that verifiably signed the "
        "manifest and the manifest's product are the vendor and product of the "
        "installed release.",
        requirements=("KAT-A2-4",),
    ),
    "downgrade": CheckInfo(
        summary="The update does not lower the installed securityVersion.",
        help="Added by the gate: passes when the delivery's securityVersion is at "
        "least the installed release's; a lower one is refused unless a policy "
        "rollbackExceptions entry names exactly that vendor, product and "
        "securityVersion (then a warning).",
        requirements=("KAT-A2-4",),
    ),
}


def check_info(check: str) -> CheckInfo:
    """The catalogue entry of ``check`` (a generic one for a check not listed)."""
    info = CHECKS.get(check)
    if info is not None:
        return info
    return CheckInfo(
        summary=f"The {check} check.",
        help=f"The {check} check of vendorproof (see docs/formats.md).",
        requirements=(),
    )
