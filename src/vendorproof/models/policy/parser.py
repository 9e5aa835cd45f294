"""Reading an operator policy (our YAML schema: strict, unknown keys rejected).

A policy names its legal basis and version (rules move: domain brief §1), the trusted
vendors and certification bodies with their anchors, allowed algorithms, which
components need which certification, the trust-declaration rule, what to do with
unlisted files, and a deny-list. Certificate and key files are referenced relative to
the policy file (or given inline as PEM) and their bytes are kept for evidence.

Every field is read with the accessors of ``models/_fields.py`` and every error located
the same way as in the predicates (a field path), plus the YAML line (``YamlDoc``).
The reading primitives are in ``_reader.py``, the sections in ``_trust.py`` (principals,
identities, Notation rules), ``_certification.py`` (certification rules, records,
catalogue, signature requirements) and ``_supply_chain.py`` (deny-list,
concentration, rollback exceptions); this module reads the top level.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TypedDict

from cryptography import x509

from vendorproof._internal import crypto
from vendorproof._internal.yamlio import parse_yaml_mapping
from vendorproof.limits import Limits
from vendorproof.models.crl import CrlIndex
from vendorproof.models.policy._certification import CertificationSections
from vendorproof.models.policy._reader import _or_empty
from vendorproof.models.policy._supply_chain import SupplyChainSections
from vendorproof.models.policy._trust import TrustSections
from vendorproof.models.policy.parts import (
    DIGEST_ALGORITHMS,
    Catalogue,
    CertificationRule,
    ConcentrationPolicy,
    DenyEntry,
    OperatorAttestation,
    Principal,
    Resolver,
    RevocationMode,
    RollbackAllowance,
    SignatureRequirement,
    UnlistedFiles,
)

__all__ = ["PolicyFields", "read_policy"]


class PolicyFields(TypedDict):
    """Every field of a ``Policy``, as read from its file (``Policy(**fields)``)."""

    id: str
    version: str
    legal_basis: str
    description: str
    signature_algorithms: frozenset[str]
    digest_algorithms: frozenset[str]
    min_rsa_bits: int
    vendors: tuple[Principal, ...]
    certification_bodies: tuple[Principal, ...]
    certification_rules: tuple[CertificationRule, ...]
    trust_declaration_required: bool
    unlisted_files: UnlistedFiles
    deny_list: tuple[DenyEntry, ...]
    rollback_exceptions: tuple[RollbackAllowance, ...]
    timestamp_authorities: tuple[Principal, ...]
    revocation_mode: RevocationMode
    crls: tuple[x509.CertificateRevocationList, ...]
    crl_index: CrlIndex
    signature_requirements: Mapping[str, tuple[SignatureRequirement, ...]]
    sigstore_trusted_root: bytes | None
    sigstore_public_good: bool
    operator_attestation: OperatorAttestation | None
    catalogue: Catalogue | None
    concentration: ConcentrationPolicy
    raw: bytes
    referenced: Mapping[str, bytes]


def read_policy(
    raw: bytes, *, file: str, resolve: Resolver, limits: Limits
) -> PolicyFields:
    """Parse and validate a policy file into the fields of a ``Policy``.

    Raises:
        InvalidInputError: naming file, field path and line.
    """
    doc = parse_yaml_mapping(raw, file=file, limits=limits)
    return _Parser(doc, resolve, limits).policy(raw)


class _Parser(TrustSections, CertificationSections, SupplyChainSections):
    def policy(self, raw: bytes) -> PolicyFields:
        top = self.mapping(
            self.doc.data,
            (),
            known=frozenset(
                {
                    "policy",
                    "algorithms",
                    "vendors",
                    "certificationBodies",
                    "certification",
                    "trustDeclaration",
                    "unlistedFiles",
                    "denyList",
                    "rollbackExceptions",
                    "timestampAuthorities",
                    "revocation",
                    "signatureRequirements",
                    "sigstore",
                    "catalogue",
                    "concentration",
                }
            ),
            required=frozenset({"policy", "vendors"}),
        )
        meta = self.mapping(
            top["policy"],
            ("policy",),
            known=frozenset({"id", "version", "legalBasis", "description"}),
            required=frozenset({"id", "version", "legalBasis"}),
        )
        algs = self.mapping(
            _or_empty(top.get("algorithms")),
            ("algorithms",),
            known=frozenset({"signatures", "digests", "minRsaBits"}),
        )
        sig_algs = self.strings(
            algs.get("signatures"),
            ("algorithms", "signatures"),
            allowed=crypto.SIGNATURE_ALGORITHMS,
        ) or frozenset(crypto.SIGNATURE_ALGORITHMS)
        digests = self.strings(
            algs.get("digests"), ("algorithms", "digests"), allowed=DIGEST_ALGORITHMS
        ) or frozenset({"sha256", "sha512"})
        min_rsa = self.integer(
            algs.get("minRsaBits", crypto.MIN_RSA_BITS),
            ("algorithms", "minRsaBits"),
            minimum=crypto.MIN_RSA_BITS,
        )
        cert_section = self.mapping(
            _or_empty(top.get("certification")),
            ("certification",),
            known=frozenset({"requirements", "records"}),
        )
        vendors = self.principals(top["vendors"], ("vendors",), "vendor")
        rev = self.mapping(
            _or_empty(top.get("revocation")),
            ("revocation",),
            known=frozenset({"mode", "crls"}),
        )
        modes = tuple(m.value for m in RevocationMode)
        trusted_root, public_good = self.sigstore(top.get("sigstore"), ("sigstore",))
        crls = self.crl_list(rev.get("crls"), ("revocation", "crls"))
        if not vendors:
            raise self.fail("at least one trusted vendor is required", ("vendors",))
        version = meta["version"]
        if isinstance(version, float):
            # YAML reads 1.10 as the float 1.1: a version must keep its text.
            raise self.fail(
                "expected a non-empty version string or an integer; quote a "
                f"version such as {str(version)!r}",
                ("policy", "version"),
            )
        if (
            not isinstance(version, str | int)
            or isinstance(version, bool)
            or not str(version).strip()
        ):
            raise self.fail(
                "expected a non-empty version string or an integer",
                ("policy", "version"),
            )
        return PolicyFields(
            id=self.string(meta["id"], ("policy", "id")),
            version=str(version),
            legal_basis=self.string(meta["legalBasis"], ("policy", "legalBasis")),
            description=self.optional_text(
                meta.get("description"), ("policy", "description")
            ),
            signature_algorithms=sig_algs,
            digest_algorithms=digests,
            min_rsa_bits=min_rsa,
            vendors=vendors,
            certification_bodies=self.principals(
                top.get("certificationBodies"),
                ("certificationBodies",),
                "certification-body",
            ),
            certification_rules=self.rules(
                cert_section.get("requirements"), ("certification", "requirements")
            ),
            trust_declaration_required=self.enum_value(
                top.get("trustDeclaration"),
                ("trustDeclaration",),
                ("required", "optional"),
                "optional",
            )
            == "required",
            unlisted_files=UnlistedFiles(
                self.enum_value(
                    top.get("unlistedFiles"),
                    ("unlistedFiles",),
                    ("fail", "warn"),
                    "fail",
                )
            ),
            deny_list=self.deny(top.get("denyList"), ("denyList",)),
            rollback_exceptions=self.rollback(
                top.get("rollbackExceptions"), ("rollbackExceptions",)
            ),
            timestamp_authorities=self.principals(
                top.get("timestampAuthorities"),
                ("timestampAuthorities",),
                "timestamp-authority",
            ),
            revocation_mode=RevocationMode(
                self.enum_value(
                    rev.get("mode"), ("revocation", "mode"), modes, "if-available"
                )
            ),
            crls=crls,
            crl_index=CrlIndex(crls),
            signature_requirements=self.requirements(
                top.get("signatureRequirements"), ("signatureRequirements",)
            ),
            sigstore_trusted_root=trusted_root,
            sigstore_public_good=public_good,
            operator_attestation=self.operator_attestation(
                cert_section.get("records"), ("certification", "records")
            ),
            catalogue=self.catalogue(top.get("catalogue"), ("catalogue",)),
            concentration=self.concentration(
                top.get("concentration"), ("concentration",), vendors
            ),
            raw=raw,
            referenced=MappingProxyType(dict(self.referenced)),
        )
