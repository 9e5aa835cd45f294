"""The parts of an operator policy: principals, rules and modes (no parsing here).

``parser.py`` builds them from the policy file; ``model.py`` holds the ``Policy`` that
carries them.
"""

from __future__ import annotations

import enum
import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

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
    by RDN (``_internal/dn_pattern.py``); ``san`` a ``*`` glob on one email, DNS or
    URI subjectAltName.
    """

    subject: str | None
    san: str | None

    def describe(self) -> str:
        """Human form for reports."""
        parts = [
            f"subject={self.subject}" if self.subject else "",
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
    #: A SOL 004 package signed only as a whole (security option 2, no option 1
    #: manifest signature) may pass on that signature (``sol004Option2Alone``).
    sol004_option2_alone: bool = False


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
