"""The parts of an operator policy: principals, rules and modes (no parsing here).

``parser.py`` builds them from the policy file; ``model.py`` holds the ``Policy`` that
carries them.
"""

from __future__ import annotations

import enum
import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType

from cryptography import x509

from vendorproof._internal import crypto

#: Reads a file a policy references (path relative to the policy file).
Resolver = Callable[[str], bytes]

DIGEST_ALGORITHMS = frozenset({"sha256", "sha384", "sha512"})
REFUSED_DIGESTS = frozenset({"sha1", "md5"})


class RevocationMode(enum.Enum):
    """How missing revocation data is treated."""

    REQUIRE = "require"  # every certificate needs current revocation data
    IF_AVAILABLE = "if-available"  # check what is there
    OFF = "off"  # do not check (the report says so)


class CertificateProfile(enum.Enum):
    """Which X.509 rules a principal's signer chains follow (docs/trust-rules.md)."""

    STRICT = "strict"  # the code-signing profile (verify/x509.py)
    LEGACY = "legacy"  # v1 / extension-less certificates, every relaxation a warning


class UnlistedFiles(enum.Enum):
    """What to do with payload files the manifest does not list."""

    FAIL = "fail"
    WARN = "warn"


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """An allowed signer identity: patterns on the subject DN and/or a SAN.

    ``subject`` is an RFC 4514 DN whose values may hold ``*`` wildcards, matched RDN
    by RDN (``_internal/dn_pattern.py``); ``subject_includes`` the same syntax,
    matched attribute by attribute as Notation's ``x509.subject`` identities are;
    ``san`` a ``*`` glob on one email, DNS or URI subjectAltName. All given must
    match. ``any_signer`` (alone) matches every certificate, as Notation's ``*``.
    """

    subject: str | None
    san: str | None
    #: Notation's ``x509.subject`` form: these attributes, in any order, among others
    subject_includes: str | None = None
    #: Notation's ``*`` trusted identity: any signer the anchors vouch for
    any_signer: bool = False

    def describe(self) -> str:
        """Human form for reports."""
        if self.any_signer:
            return "any signer certificate of the anchors"
        parts = [
            f"subject={self.subject}" if self.subject else "",
            f"subject includes {self.subject_includes}"
            if self.subject_includes
            else "",
            f"san={self.san}" if self.san else "",
        ]
        return ", ".join(p for p in parts if p)


@dataclass(frozen=True, slots=True, kw_only=True)
class KeylessRule:
    """A Sigstore keyless signer (certificate identity + OIDC issuer) of a principal.

    ``components`` are path patterns of delivered files that must carry a Sigstore
    bundle from this signer (``attestations/keyless/<path>.sigstore.json``).
    """

    identity: str
    issuer: str
    components: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class InTotoRule:
    """A vendor's pinned in-toto layout keys (PEM) and whether inspections may run."""

    layout_keys: tuple[bytes, ...]
    layout: str = "root.layout"
    allow_inspections: bool = False


class Action(enum.Enum):
    """What a failed validation does (Notary Project trust policy, "override")."""

    ENFORCE = "enforce"  # the check fails, and with it the signature
    LOG = "log"  # the check is recorded as ``warn`` and verification goes on
    SKIP = "skip"  # the check is not run (recorded as not applicable)


#: The Notary Project signing schemes (``specs/signing-scheme.md``).
SCHEME_X509 = "notary.x509"
SCHEME_SIGNING_AUTHORITY = "notary.x509.signingAuthority"
NOTATION_SCHEMES = (SCHEME_X509, SCHEME_SIGNING_AUTHORITY)

#: The Notary Project verification levels vendorproof accepts and their actions
#: (trust-store-trust-policy.md, "Signature Verification details"); ``skip`` is
#: refused when the policy is read: a signature that is not verified cannot vouch.
NOTATION_LEVELS: Mapping[str, Mapping[str, Action]] = {
    "strict": {
        "authenticity": Action.ENFORCE,
        "authenticTimestamp": Action.ENFORCE,
        "expiry": Action.ENFORCE,
        "revocation": Action.ENFORCE,
    },
    "permissive": {
        "authenticity": Action.ENFORCE,
        "authenticTimestamp": Action.LOG,
        "expiry": Action.LOG,
        "revocation": Action.LOG,
    },
    "audit": {
        "authenticity": Action.LOG,
        "authenticTimestamp": Action.LOG,
        "expiry": Action.LOG,
        "revocation": Action.LOG,
    },
}


@dataclass(frozen=True, slots=True, kw_only=True)
class NotationRules:
    """How a vendor's Notation signatures are verified (``vendors[].notation``).

    ``level`` and the four actions follow the Notary Project trust policy
    (integrity is always enforced); ``schemes`` are the signing schemes accepted;
    ``signing_authority_anchors`` the roots trusted for
    ``notary.x509.signingAuthority`` signatures only (Notation's
    ``signingAuthority`` trust store): never the vendor's ``anchors``, whose
    signers could otherwise claim any authentic signing time.
    """

    level: str = "strict"
    authenticity: Action = Action.ENFORCE
    authentic_timestamp: Action = Action.ENFORCE
    expiry: Action = Action.ENFORCE
    revocation: Action = Action.ENFORCE
    schemes: frozenset[str] = frozenset({SCHEME_X509})
    signing_authority_anchors: tuple[x509.Certificate, ...] = ()


#: The rules of a vendor whose policy entry has no ``notation`` section.
STRICT_NOTATION = NotationRules()

#: The kinds of image signature a vendor may use (``imageSignatures``): Notation
#: (Notary Project JWS/COSE envelopes) and cosign (Sigstore bundle, simple signing).
IMAGE_SIGNATURE_KINDS = frozenset({"notation", "cosign"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """A trusted vendor or certification body and the keys that speak for it."""

    role: str  # "vendor" or "certification-body"
    id: str
    name: str
    anchors: tuple[x509.Certificate, ...]
    intermediates: tuple[x509.Certificate, ...]
    identities: tuple[Identity, ...]
    public_keys: Mapping[str, crypto.PublicKey]  # key id -> key
    schemes: frozenset[str] = frozenset()
    require_timestamp: bool = False
    keyless: tuple[KeylessRule, ...] = ()
    in_toto: InTotoRule | None = None
    certificate_profile: CertificateProfile = CertificateProfile.STRICT
    detached_signatures: tuple[str, ...] = ()  # globs of files needing <file>.cms/.p7s
    notation: NotationRules = STRICT_NOTATION
    #: A SOL 004 package signed only as a whole (security option 2, no option 1
    #: manifest signature) may pass on that signature (``sol004Option2Alone``).
    sol004_option2_alone: bool = False
    #: The signature kinds this vendor may sign images with (``imageSignatures``).
    image_signatures: frozenset[str] = IMAGE_SIGNATURE_KINDS


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificationRule:
    """Components matching (domains, network functions, kinds) need these schemes."""

    description: str
    domains: frozenset[str]
    network_functions: frozenset[str]
    kinds: frozenset[str]
    schemes: frozenset[str]

    def matches(self, *, domain: str, network_function: str, kind: str) -> bool:
        """Whether a component falls under this rule (empty sets match everything)."""
        return (
            (not self.domains or domain in self.domains)
            and (
                not self.network_functions or network_function in self.network_functions
            )
            and (not self.kinds or kind in self.kinds)
        )


class WithoutDigests(enum.Enum):
    """Whether an operator-attested record that lists no deliverable digests covers."""

    FAIL = "fail"  # it covers nothing: certified = delivered cannot be shown
    WARN = "warn"  # it covers by product and version only, and the check says so


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorAttestation:
    """The operator role that may transcribe certificates (``certification.records``).

    Its keys are its own (never the intake key); ``schemes`` are the schemes whose
    certificates it may attest; ``register`` is the directory of its signed records,
    relative to the policy file.
    """

    role: str
    public_keys: Mapping[str, crypto.PublicKey]  # key id -> key
    schemes: frozenset[str]
    without_digests: WithoutDigests
    register: str
    #: ``register`` resolved against the policy file's directory (set when the
    #: policy is loaded from a file: ``vendorproof.intake.load_policy``).
    directory: Path | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogueEntry:
    """How the operator classifies a vendor's product (``catalogue.products``).

    ``vendor`` is a policy vendor id (matched against the verified signer of the
    manifest, never the manifest's words), ``product`` a ``*`` glob on the product
    name; ``domain``, ``network_functions`` and ``category`` are the operator's (e.g.
    the BNetzA list of critical functions, BSI TR-03163 categories); ``components``
    assigns component kinds by path glob (first match wins).
    """

    vendor: str
    product: str
    domain: str
    network_functions: frozenset[str]
    category: str
    components: tuple[tuple[str, str], ...] = ()

    def matches(self, *, vendor_id: str, product: str) -> bool:
        """Whether this entry classifies ``product`` of the verified vendor."""
        return vendor_id == self.vendor and fnmatch.fnmatchcase(product, self.product)

    def kind_of(self, path: str) -> str | None:
        """The kind the operator assigns to a component path (None: unclassified)."""
        return next(
            (kind for glob, kind in self.components if fnmatch.fnmatchcase(path, glob)),
            None,
        )


class UnknownProduct(enum.Enum):
    """What to do with a delivered product the catalogue does not classify."""

    FAIL = "fail"
    WARN = "warn"


@dataclass(frozen=True, slots=True, kw_only=True)
class Catalogue:
    """The operator's product catalogue: it decides what is critical, not the vendor."""

    products: tuple[CatalogueEntry, ...]
    unknown_product: UnknownProduct = UnknownProduct.FAIL

    def entry(self, *, vendor_id: str, product: str) -> CatalogueEntry | None:
        """The first entry that classifies the product (None: unknown)."""
        return next(
            (
                e
                for e in self.products
                if e.matches(vendor_id=vendor_id, product=product)
            ),
            None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DenyEntry:
    """A prohibited vendor/product (e.g. under §41 BSIG), from ``effective`` on."""

    vendor: str
    product: str
    effective: datetime
    reason: str

    def matches(
        self, *, vendor_id: str, vendor_name: str, product: str, at: datetime
    ) -> bool:
        """Whether the entry is in force at ``at`` and matches the delivery."""
        return (
            at >= self.effective
            and (
                fnmatch.fnmatchcase(vendor_id, self.vendor)
                or fnmatch.fnmatchcase(vendor_name, self.vendor)
            )
            and fnmatch.fnmatchcase(product, self.product)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RollbackAllowance:
    """An explicit, recorded permission to accept a lower securityVersion."""

    vendor: str
    product: str
    security_version: int
    reason: str

    def matches(self, *, vendor_id: str, product: str, security_version: int) -> bool:
        """Whether this exception covers the delivery."""
        return (
            fnmatch.fnmatchcase(vendor_id, self.vendor)
            and fnmatch.fnmatchcase(product, self.product)
            and security_version == self.security_version
        )


ROLES = ("vendor", "certification-body")
DOCUMENT_KINDS = ("manifest", "certification", "declaration")


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureRequirement:
    """At least ``threshold`` distinct trusted keys of ``role`` must sign a document."""

    role: str
    threshold: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ConcentrationThresholds:
    """Warning thresholds of the concentration report (never a verdict).

    ``max_share``: warn when the largest vendor's share is above it; ``max_hhi``:
    warn when the Herfindahl-Hirschman index is above it (both 0..1, exact).
    """

    max_share: Fraction | None = None
    max_hhi: Fraction | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConcentrationPolicy:
    """The policy's ``concentration`` section (``docs/concentration.md``).

    ``high_risk``: ids of policy vendors the operator assesses as high-risk (a vendor
    outside the policy is marked through the deny-list instead); ``thresholds``: the
    global warning thresholds; ``domains``: per domain, thresholds that replace the
    global ones field by field.
    """

    high_risk: tuple[str, ...] = ()
    thresholds: ConcentrationThresholds = field(default_factory=ConcentrationThresholds)
    domains: Mapping[str, ConcentrationThresholds] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def thresholds_for(self, domain: str) -> ConcentrationThresholds:
        """The thresholds in force for ``domain`` (its own, else the global ones)."""
        own = self.domains.get(domain)
        if own is None:
            return self.thresholds
        return ConcentrationThresholds(
            max_share=self.thresholds.max_share
            if own.max_share is None
            else own.max_share,
            max_hhi=self.thresholds.max_hhi if own.max_hhi is None else own.max_hhi,
        )
