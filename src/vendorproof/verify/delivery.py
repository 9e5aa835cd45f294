"""Evaluate a delivery against an operator policy: every check, explained.

``evaluate_delivery`` never raises for a verification failure; it returns a
``VerificationReport`` whose ``ok`` is False when any check failed or none ran.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import rsa

from vendorproof._internal import crypto
from vendorproof.errors import AlgorithmError, InvalidInputError, VerificationError
from vendorproof.models import _fields
from vendorproof.models.certification import (
    CERTIFICATION_PREDICATE,
    Certification,
)
from vendorproof.models.declaration import DECLARATION_PREDICATE, TrustDeclaration
from vendorproof.models.documents import SignedDocument
from vendorproof.models.manifest import MANIFEST_PREDICATE, Component, ComponentManifest
from vendorproof.models.policy import (
    REFUSED_DIGESTS,
    KeylessRule,
    Policy,
    Principal,
    SignatureRequirement,
    UnlistedFiles,
)
from vendorproof.models.statement import Subject
from vendorproof.verify.result import CheckResult, Outcome, VerificationReport
from vendorproof.verify.signer import SignerCheck, check_signer, pinned_signers

if TYPE_CHECKING:
    from vendorproof.models.delivery import Delivery

__all__ = ["REQUIREMENTS", "check_rollback", "evaluate_delivery"]

#: Requirement ids (domain brief §2) each check provides evidence for.
REQUIREMENTS: dict[str, tuple[str, ...]] = {
    "attestations": ("KAT-A2-4",),
    "manifest": ("KAT-A2-4", "SCAS-PKG"),
    "vendor-binding": ("KAT-A2-4", "SCAS-PKG"),
    "digest-algorithms": ("KAT-A2-4", "SCAS-PKG"),
    "integrity": ("KAT-A2-4", "EUCC-9-2e"),
    "unlisted-files": ("KAT-A2-4",),
    "certification": ("KAT-A2-2", "TKG-165-4"),
    "certification-coverage": ("KAT-A2-2", "TKG-165-4", "EUCC-9-2e"),
    "trust-declaration": ("KAT-A2-3",),
    "deny-list": ("BSIG-41",),
    "rollback": ("KAT-A2-4",),
    "keyless-signature": ("KAT-A2-4", "SCAS-PKG"),
    "in-toto": ("KAT-A2-4", "SCAS-PKG"),
    # Intake only: the delivery could not be verified at all (evidence.intake).
    "error": ("KAT-A2-4",),
    # Added by the update gate (vendorproof.gate).
    "installed-product": ("KAT-A2-4",),
    "downgrade": ("KAT-A2-4",),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ComponentDigest:
    """What the verifier measured for one delivered file."""

    size: int
    digests: dict[str, str]


#: Hashes delivered files: (relative paths, algorithms) -> measurements in order.
Hasher = Callable[[Sequence[str], Sequence[str]], Sequence[ComponentDigest]]


class _Checks:
    """The checks of one evaluation, and the trust anchors they used."""

    def __init__(self, policy: Policy, at: datetime, time_source: str) -> None:
        self.items: list[CheckResult] = []
        self.anchors: set[str] = set()
        self.policy = policy
        self.at = at
        self.time_source = time_source
        #: The delivering vendor: the policy principal whose anchor or key verified
        #: the manifest's signature (None until then, or when none did). Every
        #: decision that names the vendor uses it, never the manifest's own words.
        self.vendor: Principal | None = None

    def signer(
        self, doc: SignedDocument, principals: Sequence[Principal], role: str, req: str
    ) -> SignerCheck:
        result = check_signer(
            doc,
            principals,
            role=role,
            policy=self.policy,
            at=self.at,
            time_source=self.time_source,
            requirements=REQUIREMENTS[req],
        )
        self.items.extend(result.checks)
        self.anchors.update(result.anchors)
        if req == "manifest":
            self.vendor = result.principal
        kind = {"manifest": "manifest", "certification": "certification"}.get(
            req, "declaration"
        )
        requirements = self.policy.signature_requirements.get(kind)
        if requirements:
            self._threshold(doc, role, result, requirements, REQUIREMENTS[req])
        return result

    def _threshold(
        self,
        doc: SignedDocument,
        role: str,
        primary: SignerCheck,
        requirements: Sequence[SignatureRequirement],
        req_ids: tuple[str, ...],
    ) -> None:
        """k-of-n across roles: count distinct trusted keys per role."""
        counts: list[str] = []
        ok = True
        for r in requirements:
            principals = (
                self.policy.vendors
                if r.role == "vendor"
                else self.policy.certification_bodies
            )
            keys = self._allowed(pinned_signers(doc, principals), principals)
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
        self.items.append(
            CheckResult(
                check="signature-threshold",
                subject=doc.file,
                requirements=req_ids,
                outcome=Outcome.PASS if ok else Outcome.FAIL,
                reason="distinct trusted keys: " + "; ".join(counts),
            )
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

    def add(
        self,
        check: str,
        subject: str,
        outcome: Outcome,
        reason: str,
        req: str | None = None,
    ) -> None:
        self.items.append(
            CheckResult(
                check=check,
                subject=subject,
                requirements=REQUIREMENTS[req or check],
                outcome=outcome,
                reason=reason,
            )
        )


def _doc_digest(doc: SignedDocument) -> str:
    return hashlib.sha256(doc.raw).hexdigest()


def evaluate_delivery(
    delivery: Delivery,
    policy: Policy,
    *,
    at: datetime,
    time_source: str,
    hasher: Hasher,
) -> VerificationReport:
    """Run every check of the intake verification on ``delivery``.

    Args:
        delivery: the scanned delivery.
        policy: the operator policy.
        at: the validation time.
        time_source: where ``at`` came from (for the report).
        hasher: measures delivered files (the parallel hashing engine in production).

    Returns:
        The report; ``report.ok`` is the verdict.
    """
    checks = _Checks(policy, at, time_source)
    by_type: dict[str, list[SignedDocument]] = {}
    for doc in delivery.documents:
        by_type.setdefault(doc.statement.predicate_type, []).append(doc)
    inputs = {d.file: _doc_digest(d) for d in delivery.documents}
    for ptype, docs in sorted(by_type.items()):
        if ptype not in (
            MANIFEST_PREDICATE,
            CERTIFICATION_PREDICATE,
            DECLARATION_PREDICATE,
        ):
            for d in docs:
                checks.add(
                    "attestations",
                    d.file,
                    Outcome.FAIL,
                    f"unrecognised predicate type {ptype}",
                )
    manifests = by_type.get(MANIFEST_PREDICATE, [])
    summary: dict[str, Any] = {
        "root": str(delivery.root),
        # What was on disk, so that a replay can re-run the file checks offline.
        "listing": {
            "payload": sorted(delivery.payload),
            "irregular": dict(sorted(delivery.irregular.items())),
        },
    }
    if len(manifests) != 1:
        checks.add(
            "attestations",
            "attestations/",
            Outcome.FAIL,
            f"exactly one component manifest is required, found {len(manifests)}",
        )
        return _report(checks, summary, inputs)
    mdoc = manifests[0]
    try:
        manifest = ComponentManifest.from_statement(mdoc.statement)
    except InvalidInputError as e:
        raise e.in_file(mdoc.file) from e
    summary.update(
        {
            "vendor": manifest.vendor.to_dict(),
            "product": manifest.product,
            "version": manifest.version,
            "securityVersion": manifest.security_version,
            "networkFunction": manifest.network_function,
            "domain": manifest.domain.value,
            "manifest": mdoc.file,
        }
    )
    checks.add(
        "attestations",
        "attestations/",
        Outcome.PASS,
        f"1 manifest, {len(by_type.get(CERTIFICATION_PREDICATE, []))} certifications, "
        f"{len(by_type.get(DECLARATION_PREDICATE, []))} declarations",
    )
    signer = checks.signer(mdoc, policy.vendors, "vendor", "manifest")
    if signer.principal is not None:
        # Who the delivery is from, as verified (the manifest's vendor is a claim).
        summary["principal"] = {
            "id": signer.principal.id,
            "name": signer.principal.name,
        }
    _check_vendor_binding(checks, mdoc, manifest, signer)
    measured = _check_integrity(checks, delivery, manifest, policy, hasher)
    summary["components"] = [
        {
            "path": c.path,
            "kind": c.kind.value,
            "size": c.size,
            "digests": dict(c.digests),
        }
        for c in manifest.components
    ]
    summary["measured"] = {
        path: {"size": m.size, "digests": dict(sorted(m.digests.items()))}
        for path, m in sorted(measured.items())
    }
    _check_keyless_components(checks, delivery, manifest, measured)
    _check_in_toto(checks, delivery)
    _check_unlisted(checks, delivery, manifest, policy)
    certs = _check_certifications(
        checks, by_type.get(CERTIFICATION_PREDICATE, []), manifest
    )
    _check_coverage(checks, manifest, certs, measured)
    _check_declaration(checks, by_type.get(DECLARATION_PREDICATE, []), manifest)
    _check_deny_list(checks, manifest)
    summary["trustAnchors"] = sorted(checks.anchors)
    return _report(checks, summary, inputs)


def _report(
    checks: _Checks, summary: dict[str, Any], inputs: dict[str, str]
) -> VerificationReport:
    return VerificationReport(
        delivery=summary,
        policy=checks.policy.summary(),
        verified_at=checks.at,
        time_source=checks.time_source,
        checks=tuple(checks.items),
        inputs=inputs,
    )


def _check_vendor_binding(
    checks: _Checks,
    mdoc: SignedDocument,
    manifest: ComponentManifest,
    signer: SignerCheck,
) -> None:
    if signer.principal is None:
        checks.add(
            "vendor-binding",
            mdoc.file,
            Outcome.FAIL,
            f"manifest names vendor {manifest.vendor.id!r} but no trusted vendor "
            "signer "
            "was established",
        )
    elif signer.principal.id != manifest.vendor.id:
        checks.add(
            "vendor-binding",
            mdoc.file,
            Outcome.FAIL,
            f"manifest names vendor {manifest.vendor.id!r} but is signed by vendor "
            f"{signer.principal.id!r}",
        )
    else:
        checks.add(
            "vendor-binding",
            mdoc.file,
            Outcome.PASS,
            f"signed by the vendor it names: {signer.principal.id!r} "
            f"({signer.principal.name}, per the policy)",
        )


def _check_integrity(
    checks: _Checks,
    delivery: Delivery,
    manifest: ComponentManifest,
    policy: Policy,
    hasher: Hasher,
) -> dict[str, ComponentDigest]:
    """Re-hash every listed component; return the measurements of those hashed."""
    to_hash: list[Component] = []
    for c in manifest.components:
        algs = set(c.digests)
        refused = sorted(algs & REFUSED_DIGESTS)
        not_allowed = sorted(algs - policy.digest_algorithms - REFUSED_DIGESTS)
        if refused or not_allowed:
            bad = ", ".join(refused + not_allowed)
            checks.add(
                "digest-algorithms",
                c.path,
                Outcome.FAIL,
                f"digest algorithm(s) {bad} refused "
                f"(policy allows {', '.join(sorted(policy.digest_algorithms))})",
            )
            continue
        if c.path in delivery.irregular:
            checks.add(
                "integrity",
                c.path,
                Outcome.FAIL,
                f"{delivery.irregular[c.path]}, not a regular file inside the delivery",
            )
            continue
        if c.path not in delivery.payload:
            checks.add(
                "integrity", c.path, Outcome.FAIL, "listed in the manifest but missing"
            )
            continue
        to_hash.append(c)
    algorithms = sorted({a for c in to_hash for a in c.digests})
    measured: dict[str, ComponentDigest] = {}
    if to_hash:
        results = hasher([c.path for c in to_hash], algorithms)
        for c, m in zip(to_hash, results, strict=True):
            measured[c.path] = m
            if m.size != c.size:
                checks.add(
                    "integrity",
                    c.path,
                    Outcome.FAIL,
                    f"size {m.size} differs from the manifest's {c.size}",
                )
                continue
            wrong = [a for a in sorted(c.digests) if m.digests[a] != c.digests[a]]
            if wrong:
                checks.add(
                    "integrity",
                    c.path,
                    Outcome.FAIL,
                    f"{', '.join(wrong)} digest differs from the manifest "
                    f"(measured {wrong[0]}:{m.digests[wrong[0]][:16]}...)",
                )
                continue
            checks.add(
                "integrity",
                c.path,
                Outcome.PASS,
                f"{c.size} bytes, {', '.join(sorted(c.digests))} match the manifest",
            )
    return measured


def _check_keyless_components(
    checks: _Checks,
    delivery: Delivery,
    manifest: ComponentManifest,
    measured: dict[str, ComponentDigest],
) -> None:
    """Sigstore bundles over delivered files (cosign sign-blob / sigstore sign).

    The keyless rules are those of the delivering vendor as verified (the manifest's
    signer), never of the vendor the manifest names.
    """
    vendor = checks.vendor
    if vendor is None:
        for path in sorted(delivery.artifact_bundles):
            checks.add(
                "keyless-signature",
                path,
                Outcome.FAIL,
                "Sigstore bundle not evaluated: no trusted vendor signed the "
                "manifest, so no vendor's keyless signers apply",
            )
        return
    rules = vendor.keyless
    for c in manifest.components:
        required = [
            r
            for r in rules
            if any(fnmatch.fnmatchcase(c.path, p) for p in r.components)
        ]
        bundle = delivery.artifact_bundles.get(c.path)
        if bundle is None:
            if required:
                who = ", ".join(r.identity for r in required)
                checks.add(
                    "keyless-signature",
                    c.path,
                    Outcome.FAIL,
                    f"the policy requires a Sigstore bundle by {who}; none delivered "
                    f"(attestations/keyless/{c.path}.sigstore.json)",
                )
            continue
        candidates = required or list(rules)
        if not candidates:
            checks.add(
                "keyless-signature",
                c.path,
                Outcome.WARN,
                "Sigstore bundle delivered but the policy names no keyless signer for "
                f"vendor {vendor.id!r}: not evaluated",
            )
            continue
        m = measured.get(c.path)
        if m is None or "sha256" not in m.digests:
            checks.add(
                "keyless-signature",
                c.path,
                Outcome.FAIL,
                "file was not measured (sha256)",
            )
            continue
        checks.add(
            *_verify_keyless_component(checks.policy, bundle, m, candidates, c.path)
        )


def _verify_keyless_component(
    policy: Policy,
    bundle: bytes,
    measured: ComponentDigest,
    candidates: Sequence[KeylessRule],
    path: str,
) -> tuple[str, str, Outcome, str]:
    from vendorproof.verify.keyless import (
        ArtifactDigest,
        KeylessSigner,
        verify_artifact_bundle,
    )
    from vendorproof.verify.signer import keyless_trust

    errors: list[str] = []
    try:
        trust = keyless_trust(policy)
        for rule in candidates:
            try:
                account = verify_artifact_bundle(
                    bundle,
                    ArtifactDigest(measured.digests["sha256"]),
                    trust=trust,
                    signer=KeylessSigner(identity=rule.identity, issuer=rule.issuer),
                )
            except VerificationError as e:
                errors.append(str(e))
                continue
            return ("keyless-signature", path, Outcome.PASS, account)
    except VerificationError as e:
        errors.append(str(e))
    except InvalidInputError as e:
        errors.append(f"malformed Sigstore bundle: {e}")
    return ("keyless-signature", path, Outcome.FAIL, "; ".join(errors))


def _check_in_toto(checks: _Checks, delivery: Delivery) -> None:
    """Classic in-toto supply-chain layouts shipped under ``in-toto/``.

    The layout keys are those of the delivering vendor as verified.
    """
    vendor = checks.vendor
    if vendor is None:
        if delivery.in_toto:
            checks.add(
                "in-toto",
                "in-toto/",
                Outcome.FAIL,
                "in-toto metadata not evaluated: no trusted vendor signed the "
                "manifest, so no vendor's layout keys apply",
            )
        return
    rule = vendor.in_toto
    if rule is None:
        if delivery.in_toto:
            checks.add(
                "in-toto",
                "in-toto/",
                Outcome.NOT_APPLICABLE,
                "in-toto metadata delivered but the policy pins no layout key for "
                f"vendor {vendor.id!r}: not evaluated",
            )
        return
    if f"in-toto/{rule.layout}" not in delivery.in_toto:
        checks.add(
            "in-toto",
            "in-toto/",
            Outcome.FAIL,
            f"the policy requires in-toto/{rule.layout}",
        )
        return
    from vendorproof.verify.intoto import verify_in_toto

    try:
        account = verify_in_toto(
            delivery.root,
            layout_keys=rule.layout_keys,
            allow_inspections=rule.allow_inspections,
            layout_name=rule.layout,
        )
    except VerificationError as e:
        checks.add("in-toto", f"in-toto/{rule.layout}", Outcome.FAIL, str(e))
        return
    checks.add("in-toto", f"in-toto/{rule.layout}", Outcome.PASS, account)


def _check_unlisted(
    checks: _Checks, delivery: Delivery, manifest: ComponentManifest, policy: Policy
) -> None:
    listed = {c.path for c in manifest.components}
    extra = sorted((set(delivery.payload) | set(delivery.irregular)) - listed)
    if not extra:
        checks.add(
            "unlisted-files", "delivery", Outcome.PASS, "every payload file is listed"
        )
        return
    outcome = (
        Outcome.WARN if policy.unlisted_files is UnlistedFiles.WARN else Outcome.FAIL
    )
    for path in extra:
        kind = delivery.irregular.get(path, "file")
        checks.add(
            "unlisted-files",
            path,
            outcome,
            f"{kind} not listed in the manifest "
            f"(policy: unlistedFiles={policy.unlisted_files.value})",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Cert:
    doc: SignedDocument
    cert: Certification
    usable: bool
    why_not: str
    #: (algorithm, hex) -> subjects naming that digest (built once per statement).
    by_digest: Mapping[tuple[str, str], tuple[Subject, ...]] = field(
        default_factory=dict
    )

    @staticmethod
    def index(doc: SignedDocument) -> dict[tuple[str, str], tuple[Subject, ...]]:
        out: dict[tuple[str, str], list[Subject]] = {}
        for s in doc.statement.subjects:
            for pair in s.digest.items():
                out.setdefault(pair, []).append(s)
        return {k: tuple(v) for k, v in out.items()}


def _certification_problems(
    cert: Certification,
    body: Principal | None,
    vendor: Principal | None,
    manifest: ComponentManifest,
    at: datetime,
) -> list[str]:
    """Why a certification is not usable for this delivery (empty: usable).

    ``body`` is the verified signer of the certification and ``vendor`` the verified
    signer of the manifest: the statement's own body and holder ids are claims that
    must name them.
    """
    problems: list[str] = []
    if body is None:
        problems.append("not signed by a trusted certification body")
    else:
        if body.id != cert.certification_body.id:
            problems.append(
                f"names certification body {cert.certification_body.id!r} but is "
                f"signed by {body.id!r}"
            )
        if cert.scheme not in body.schemes:
            problems.append(
                f"certification body {body.id!r} is not allowed to certify "
                f"scheme {cert.scheme}"
            )
    if not cert.valid_from <= at <= cert.valid_until:
        problems.append(
            f"not valid at {at.isoformat()} (valid {cert.valid_from.isoformat()} .. "
            f"{cert.valid_until.isoformat()})"
        )
    if cert.status != "valid":
        problems.append(f"status is {cert.status}")
    if vendor is None:
        problems.append("no trusted vendor signed the manifest to be the holder")
    elif cert.holder.id != vendor.id:
        problems.append(
            f"holder {cert.holder.id!r} is not the delivering vendor {vendor.id!r}"
        )
    if cert.product != manifest.product:
        problems.append(f"certifies product {cert.product!r}, not {manifest.product!r}")
    if manifest.version not in cert.versions:
        problems.append(
            f"certifies version(s) {', '.join(cert.versions)}, not {manifest.version}"
        )
    return problems


def _check_certifications(
    checks: _Checks, docs: Sequence[SignedDocument], manifest: ComponentManifest
) -> list[_Cert]:
    out: list[_Cert] = []
    for doc in docs:
        try:
            cert = Certification.from_statement(doc.statement)
        except InvalidInputError as e:
            raise e.in_file(doc.file) from e
        signer = checks.signer(
            doc,
            checks.policy.certification_bodies,
            "certification-body",
            "certification",
        )
        body = signer.principal
        problems = _certification_problems(
            cert, body, checks.vendor, manifest, checks.at
        )
        label = f"{cert.scheme} {cert.certificate_id}"
        if problems or body is None:
            checks.add(
                "certification",
                doc.file,
                Outcome.FAIL,
                f"{label}: {'; '.join(problems)}",
            )
        else:
            checks.add(
                "certification",
                doc.file,
                Outcome.PASS,
                f"{label} by certification body {body.id!r} ({body.name}), valid until "
                f"{_fields.format_time(cert.valid_until)}, covers "
                f"{manifest.product} {manifest.version}",
            )
        out.append(
            _Cert(
                doc=doc,
                cert=cert,
                usable=not problems,
                why_not="; ".join(problems),
                by_digest=_Cert.index(doc),
            )
        )
    return out


def _covers(ce: _Cert, digests: dict[str, str]) -> bool:
    """A subject agrees with ``digests`` on every algorithm both name (at least one)."""
    for alg, value in digests.items():
        for s in ce.by_digest.get((alg, value), ()):
            if all(s.digest[a] == digests[a] for a in set(s.digest) & set(digests)):
                return True
    return False


def _check_coverage(
    checks: _Checks,
    manifest: ComponentManifest,
    certs: Sequence[_Cert],
    measured: dict[str, ComponentDigest],
) -> None:
    for c in manifest.components:
        rules = [
            r
            for r in checks.policy.certification_rules
            if r.matches(
                domain=manifest.domain.value,
                network_function=manifest.network_function,
                kind=c.kind.value,
            )
        ]
        if not rules:
            checks.add(
                "certification-coverage",
                c.path,
                Outcome.NOT_APPLICABLE,
                "no policy rule requires certification for this component",
            )
            continue
        schemes = frozenset.intersection(*(r.schemes for r in rules))
        m = measured.get(c.path)
        # The delivered bytes, when measured, are what must be certified.
        digests = dict(m.digests) if m is not None else dict(c.digests)
        reasons: list[str] = []
        for ce in certs:
            if ce.cert.scheme not in schemes:
                reasons.append(
                    f"{ce.doc.file}: scheme {ce.cert.scheme} not accepted here"
                )
            elif not ce.usable:
                reasons.append(f"{ce.doc.file}: {ce.why_not}")
            elif not _covers(ce, digests):
                reasons.append(f"{ce.doc.file}: does not certify these digests")
            else:
                checks.add(
                    "certification-coverage",
                    c.path,
                    Outcome.PASS,
                    f"certified = delivered: {ce.cert.scheme} {ce.cert.certificate_id} "
                    f"certifies sha256:{digests.get('sha256', '?')[:16]}...",
                )
                break
        else:
            detail = "; ".join(reasons) or "no certification statement delivered"
            checks.add(
                "certification-coverage",
                c.path,
                Outcome.FAIL,
                f"needs a valid certification ({', '.join(sorted(schemes))}): {detail}",
            )


def _check_declaration(
    checks: _Checks, docs: Sequence[SignedDocument], manifest: ComponentManifest
) -> None:
    at = checks.at
    required = checks.policy.trust_declaration_required
    if not docs:
        checks.add(
            "trust-declaration",
            "attestations/",
            Outcome.FAIL if required else Outcome.NOT_APPLICABLE,
            "no trust declaration delivered"
            + (
                " (required by the policy)" if required else " (optional in the policy)"
            ),
        )
        return
    reasons: list[str] = []
    for doc in docs:
        try:
            decl = TrustDeclaration.from_statement(doc.statement)
        except InvalidInputError as e:
            raise e.in_file(doc.file) from e
        signer = checks.signer(
            doc, checks.policy.vendors, "vendor", "trust-declaration"
        )
        # The declaring vendor is the verified signer, and it must be the verified
        # signer of the manifest; the declaration's own vendor id is a claim that
        # must name it.
        problems = []
        vendor, declarer = checks.vendor, signer.principal
        if declarer is None:
            problems.append("not signed by a trusted vendor")
        elif vendor is None:
            problems.append("no trusted vendor signed the manifest")
        elif declarer.id != vendor.id:
            problems.append(
                f"signed by vendor {declarer.id!r}, not the delivering vendor "
                f"{vendor.id!r}"
            )
        if declarer is not None and decl.vendor.id != declarer.id:
            problems.append(
                f"declares for vendor {decl.vendor.id!r} but is signed by "
                f"{declarer.id!r}"
            )
        if not decl.covers(manifest.product):
            problems.append(f"does not cover product {manifest.product!r}")
        if not decl.issued_at <= at <= decl.valid_until:
            problems.append(
                f"not valid at {at.isoformat()} (valid {decl.issued_at.isoformat()} .. "
                f"{decl.valid_until.isoformat()})"
            )
        if not problems and declarer is not None:
            checks.add(
                "trust-declaration",
                doc.file,
                Outcome.PASS,
                f"vendor {declarer.id!r} ({declarer.name}) declares trustworthiness "
                f"for {manifest.product} (declared legal entity: {decl.legal_entity}; "
                f"{decl.legal_basis}), valid until "
                f"{_fields.format_time(decl.valid_until)}",
            )
            return
        reasons.append(f"{doc.file}: {'; '.join(problems)}")
    checks.add("trust-declaration", "attestations/", Outcome.FAIL, "; ".join(reasons))


def _check_deny_list(checks: _Checks, manifest: ComponentManifest) -> None:
    """Deny-list entries match the verified vendor's policy id and policy name.

    The vendor name and id a manifest writes about itself are never matched: a
    prohibited supplier would pass by writing another name.
    """
    policy, at, vendor = checks.policy, checks.at, checks.vendor
    subject = _vendor_subject(vendor, manifest)
    if vendor is None:
        checks.add(
            "deny-list",
            subject,
            Outcome.FAIL,
            "no trusted vendor signed the manifest: the deny-list is matched against "
            "the verified vendor only, so the delivery cannot be cleared",
        )
        return
    for entry in policy.deny_list:
        if entry.matches(
            vendor_id=vendor.id,
            vendor_name=vendor.name,
            product=manifest.product,
            at=at,
        ):
            checks.add(
                "deny-list",
                subject,
                Outcome.FAIL,
                f"vendor {vendor.id!r} ({vendor.name}) prohibited since "
                f"{_fields.format_time(entry.effective)}: {entry.reason}",
            )
            return
    checks.add(
        "deny-list",
        subject,
        Outcome.PASS,
        f"no deny-list entry in force matches vendor {vendor.id!r} ({vendor.name}) "
        f"({len(policy.deny_list)} entries)",
    )


def _vendor_subject(vendor: Principal | None, manifest: ComponentManifest) -> str:
    """``<vendor id>/<product>``: the verified vendor's id when there is one."""
    return (
        f"{vendor.id if vendor is not None else manifest.vendor.id}/{manifest.product}"
    )


def check_rollback(
    report: VerificationReport, policy: Policy, max_accepted: int | None
) -> CheckResult:
    """Rollback protection against the highest securityVersion already accepted.

    Args:
        report: the delivery's report (its summary names vendor, product and version).
        policy: the policy (it may grant explicit, recorded exceptions).
        max_accepted: the highest securityVersion of an earlier PASSED record for the
            same vendor and product, or None.

    The vendor is the verified signer of the manifest (``delivery.principal``); a
    delivery whose manifest names another vendor, or that no trusted vendor signed,
    has no verified release line to compare with.
    """
    d = report.delivery
    sv = d.get("securityVersion")
    principal = d.get("principal")
    declared = d.get("vendor", {}).get("id")
    verified = principal.get("id") if isinstance(principal, Mapping) else None
    vendor = verified if verified == declared else None
    product = d.get("product")

    def result(outcome: Outcome, reason: str) -> CheckResult:
        return CheckResult(
            check="rollback",
            subject=f"{verified or declared}/{product}",
            requirements=REQUIREMENTS["rollback"],
            outcome=outcome,
            reason=reason,
        )

    if not isinstance(sv, int) or vendor is None or product is None:
        return result(
            Outcome.NOT_APPLICABLE,
            "no manifest signed by the vendor it names: nothing to compare",
        )
    if max_accepted is None:
        return result(Outcome.PASS, f"securityVersion {sv}: first accepted release")
    if sv >= max_accepted:
        return result(
            Outcome.PASS,
            f"securityVersion {sv} >= highest accepted {max_accepted}",
        )
    for exc in policy.rollback_exceptions:
        if exc.matches(vendor_id=vendor, product=product, security_version=sv):
            return result(
                Outcome.WARN,
                f"securityVersion {sv} < highest accepted {max_accepted}, allowed by "
                f"policy exception: {exc.reason}",
            )
    return result(
        Outcome.FAIL,
        f"rollback: securityVersion {sv} is lower than {max_accepted}, the highest "
        "already accepted for this vendor and product",
    )
