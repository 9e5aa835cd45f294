"""The state of one evaluation: the checks so far, the anchors used, the vendor."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import import_module
from types import MappingProxyType
from typing import Protocol, cast

from cryptography.hazmat.primitives.asymmetric import rsa

from vendorproof._internal import crypto
from vendorproof.errors import AlgorithmError
from vendorproof.models.checks import DOCUMENT_REQUIREMENTS, Check, CheckResult, Outcome
from vendorproof.models.delivery import DetachedSignature
from vendorproof.models.documents import SignedDocument
from vendorproof.models.policy import Policy, Principal, SignatureRequirement
from vendorproof.verify.context import VerificationContext, context_for
from vendorproof.verify.signer import SignerCheck, check_signer, pinned_signers

__all__ = [
    "BUILTIN_VERIFIERS",
    "DETACHED_VERIFIERS",
    "ComponentDigest",
    "DetachedVerifier",
    "Evaluation",
    "Hasher",
    "detached_verifier",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ComponentDigest:
    """What the verifier measured for one delivered file."""

    size: int
    digests: dict[str, str]


#: Hashes delivered files: (relative paths, algorithms) -> measurements in order.
Hasher = Callable[[Sequence[str], Sequence[str]], Sequence[ComponentDigest]]


class DetachedVerifier(Protocol):
    """Establishes the signer of a detached signature (one per signature kind).

    ``content`` is the signed bytes when they are small and in hand (a package
    manifest); otherwise ``measured`` holds the digests measured for the signed
    component, and the verifier compares the signature's message digest with them.
    """

    def __call__(
        self,
        signature: DetachedSignature,
        *,
        content: bytes | None,
        measured: Mapping[str, str] | None,
        principals: Sequence[Principal],
        role: str,
        policy: Policy,
        at: datetime,
        time_source: str,
        requirements: tuple[str, ...],
    ) -> SignerCheck: ...


#: Signature kind (``DetachedSignature.kind``) -> its verifier, for kinds beyond the
#: built-in ones (tests, extensions); an entry here takes precedence.
DETACHED_VERIFIERS: dict[str, DetachedVerifier] = {}

#: The built-in kinds: module and function of each verifier, imported when a
#: delivery first holds a signature of that kind (a delivery without CMS signatures
#: does not load the CMS stack).
BUILTIN_VERIFIERS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "cms": ("vendorproof.verify.cms_signer", "verify_detached_cms"),
        "oci": ("vendorproof.verify.oci_signatures", "verify_oci_signatures"),
    }
)


def detached_verifier(kind: str) -> DetachedVerifier | None:
    """The verifier of ``kind`` signatures, or None for an unknown kind."""
    verifier = DETACHED_VERIFIERS.get(kind)
    if verifier is None and kind in BUILTIN_VERIFIERS:
        module, name = BUILTIN_VERIFIERS[kind]
        verifier = cast("DetachedVerifier", getattr(import_module(module), name))
    return verifier


class Evaluation:
    """The checks of one evaluation, and the trust anchors they used."""

    def __init__(
        self,
        policy: Policy,
        at: datetime,
        time_source: str,
        context: VerificationContext | None = None,
    ) -> None:
        #: Validation time, limits, timeouts and memo tables for every check.
        self.context = context_for(at, context)
        self.items: list[CheckResult] = []
        self.anchors: set[str] = set()
        self.policy = policy
        self.at = at
        self.time_source = time_source
        #: The delivering vendor: the policy principal whose anchor or key verified
        #: the manifest's signature (None until then, or when none did). Every
        #: decision that names the vendor uses it, never the manifest's own words.
        self.vendor: Principal | None = None

    def add(
        self,
        check: Check,
        subject: str,
        outcome: Outcome,
        reason: str,
        requirements: tuple[str, ...] | None = None,
    ) -> None:
        """Record one check (with ``check``'s own requirement ids unless given)."""
        self.items.append(CheckResult.of(check, subject, outcome, reason, requirements))

    def signer(
        self, doc: SignedDocument, principals: Sequence[Principal], role: str, kind: str
    ) -> SignerCheck:
        """Who signed ``doc`` (a document of ``kind``: manifest, certification, ...)."""
        result = check_signer(
            doc,
            principals,
            role=role,
            policy=self.policy,
            at=self.at,
            time_source=self.time_source,
            requirements=DOCUMENT_REQUIREMENTS[kind],
            context=self.context,
        )
        self._signed(result, kind)
        policy_kind = "declaration" if kind == "trust-declaration" else kind
        requirements = self.policy.signature_requirements.get(policy_kind)
        if requirements:
            self._threshold(
                doc.file,
                lambda ps: self._allowed(pinned_signers(doc, ps), ps),
                role=role,
                primary=result,
                requirements=requirements,
                kind=kind,
            )
        return result

    def detached_signer(
        self,
        signature: DetachedSignature,
        *,
        content: bytes | None,
        measured: Mapping[str, str] | None,
        principals: Sequence[Principal],
        role: str,
        kind: str,
    ) -> SignerCheck:
        """Who made a detached signature, through the verifier of its kind."""
        requirements = DOCUMENT_REQUIREMENTS[kind]
        verifier = detached_verifier(signature.kind)
        if verifier is None:
            failed = CheckResult.of(
                Check.SIGNATURE,
                signature.file,
                Outcome.FAIL,
                f"no verifier for {signature.kind!r} signatures",
                requirements,
            )
            result = SignerCheck(checks=(failed,), principal=None)
        else:
            result = verifier(
                signature,
                content=content,
                measured=measured,
                principals=principals,
                role=role,
                policy=self.policy,
                at=self.at,
                time_source=self.time_source,
                requirements=requirements,
            )
        self._signed(result, kind)
        rules = self.policy.signature_requirements.get(kind)
        if rules:
            # Every signature that verified over the content counts, once per key.
            signers = dict(result.signers)
            self._threshold(
                signature.target,
                lambda ps: {
                    k: owner
                    for k, owner in signers.items()
                    if owner in {p.id for p in ps}
                },
                role=role,
                primary=result,
                requirements=rules,
                kind=kind,
            )
        return result

    def _signed(self, result: SignerCheck, kind: str) -> None:
        self.items.extend(result.checks)
        self.anchors.update(result.anchors)
        if kind == "manifest":
            self.vendor = result.principal

    def _threshold(
        self,
        subject: str,
        found: Callable[[Sequence[Principal]], dict[str, str]],
        *,
        role: str,
        primary: SignerCheck,
        requirements: Sequence[SignatureRequirement],
        kind: str,
    ) -> None:
        """k-of-n across roles: count distinct trusted keys per role.

        ``found`` gives, for the principals of a role, the trusted keys that signed
        (key id -> principal id) beside the primary signer.
        """
        counts: list[str] = []
        ok = True
        for r in requirements:
            principals = (
                self.policy.vendors
                if r.role == "vendor"
                else self.policy.certification_bodies
            )
            keys = found(principals)
            if r.role == role and primary.principal is not None and primary.key_id:
                keys[primary.key_id] = primary.principal.id
            note = ""
            if r.role == "vendor":
                # Vendor keys count only for the delivering vendor (the verified
                # signer of the manifest), on every kind of document.
                owner = self.vendor
                keys = {
                    k: v for k, v in keys.items() if owner is not None and v == owner.id
                }
                note = (
                    f" (keys of vendor {owner.id!r})"
                    if owner is not None
                    else " (no trusted vendor signed the manifest)"
                )
            ok = ok and len(keys) >= r.threshold
            counts.append(f"{r.role}: {len(keys)} of required {r.threshold}{note}")
        self.add(
            Check.SIGNATURE_THRESHOLD,
            subject,
            Outcome.PASS if ok else Outcome.FAIL,
            "distinct trusted keys: " + "; ".join(counts),
            DOCUMENT_REQUIREMENTS[kind],
        )

    def _allowed(
        self, keys: dict[str, str], principals: Sequence[Principal]
    ) -> dict[str, str]:
        """The pinned keys whose algorithm (and RSA size) the policy allows."""
        pinned = {kid: k for p in principals for kid, k in p.public_keys.items()}
        out: dict[str, str] = {}
        for kid, owner in keys.items():
            key = pinned.get(kid)
            try:
                name = crypto.algorithm_name(key) if key is not None else None
            except AlgorithmError:
                continue
            if name not in self.policy.signature_algorithms:
                continue
            if (
                isinstance(key, rsa.RSAPublicKey)
                and key.key_size < self.policy.min_rsa_bits
            ):
                continue
            out[kid] = owner
        return out
