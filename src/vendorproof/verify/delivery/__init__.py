"""Evaluate a delivery against an operator policy: every check, explained.

``evaluate_delivery`` never raises for a verification failure: it returns a
``VerificationReport`` whose ``ok`` is False when any check failed or none ran. It is
the same for every delivery format (``vendorproof.formats``): the format adapter has
already loaded the delivery into the neutral model.

One module per family of checks: ``integrity`` (the delivered bytes),
``components`` (signatures over single components), ``certification``, ``supplier``
(trust declaration, deny-list) and ``rollback``; ``_evaluation`` holds the state of
one evaluation and the signer steps.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType

from vendorproof.models.certification import CERTIFICATION_PREDICATE
from vendorproof.models.checks import DOCUMENT_REQUIREMENTS, Check, Outcome
from vendorproof.models.declaration import DECLARATION_PREDICATE
from vendorproof.models.delivery import Delivery, VendorClaim
from vendorproof.models.documents import SignedDocument
from vendorproof.models.manifest import MANIFEST_PREDICATE, ComponentManifest
from vendorproof.models.policy import Policy
from vendorproof.models.predicates import Malformed
from vendorproof.models.summary import (
    ComponentSummary,
    DeliverySummary,
    Listing,
    Measured,
    PartyRef,
)
from vendorproof.verify.context import VerificationContext
from vendorproof.verify.delivery._evaluation import (
    BUILTIN_VERIFIERS,
    DETACHED_VERIFIERS,
    ComponentDigest,
    DetachedVerifier,
    Evaluation,
    Hasher,
)
from vendorproof.verify.delivery.certification import (
    check_certifications,
    check_classification,
    check_coverage,
    check_records,
)
from vendorproof.verify.delivery.components import (
    check_detached,
    check_in_toto,
    check_keyless_components,
)
from vendorproof.verify.delivery.integrity import check_integrity, check_unlisted
from vendorproof.verify.delivery.package import check_package_signature
from vendorproof.verify.delivery.rollback import check_rollback
from vendorproof.verify.delivery.supplier import check_declaration, check_deny_list
from vendorproof.verify.result import VerificationReport
from vendorproof.verify.signer import SignerCheck

__all__ = [
    "BUILTIN_VERIFIERS",
    "DETACHED_VERIFIERS",
    "REQUIREMENTS",
    "Check",
    "ComponentDigest",
    "DetachedVerifier",
    "Hasher",
    "check_rollback",
    "evaluate_delivery",
    "listing_of",
]

#: Check name -> requirement ids (derived from :class:`Check`; kept for callers that
#: index by name). ``manifest`` is the ids the manifest's signer checks carry.
REQUIREMENTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        **{c.value: c.requirements for c in Check if not c.signer},
        "manifest": ("KAT-A2-4", "SCAS-PKG"),
    }
)

_KNOWN = (MANIFEST_PREDICATE, CERTIFICATION_PREDICATE, DECLARATION_PREDICATE)
_NO_RECORDS: Mapping[str, bytes] = MappingProxyType({})


def listing_of(delivery: Delivery) -> Listing:
    """What ``delivery`` held, as a record keeps it (payload and irregular, sorted)."""
    return Listing(
        payload=tuple(sorted(delivery.payload)),
        irregular=MappingProxyType(dict(sorted(delivery.irregular.items()))),
    )


def evaluate_delivery(
    delivery: Delivery,
    policy: Policy,
    *,
    at: datetime,
    time_source: str,
    hasher: Hasher,
    context: VerificationContext | None = None,
    records: Mapping[str, bytes] = _NO_RECORDS,
    statuses_at: datetime | None = None,
) -> VerificationReport:
    """Run every check of the intake verification on ``delivery``.

    Args:
        delivery: the delivery as its format adapter loaded it.
        policy: the operator policy.
        at: the validation time.
        time_source: where ``at`` came from (for the report).
        hasher: measures delivered files (the adapter's, or recorded measurements).
        context: limits, timeouts and memo tables (default: one at ``at`` with the
            process's shared memo tables); its time must be ``at``.
        records: the operator's certification register as evidence inputs
            (``certification-record:*``, ``certification-source:*``); those the
            decision used are added to the report's inputs.
        statuses_at: certificate status records count from their ``asOf`` up to
            this time (default ``at``; ``audit affected`` asks about now).

    Returns:
        The report; ``report.ok`` is the verdict.
    """
    ev = Evaluation(policy, at, time_source, context)
    summary = DeliverySummary(
        format=delivery.format,
        root=str(delivery.root),
        # What the delivery held, so that a replay can re-run the file checks.
        listing=listing_of(delivery),
    )
    # The digests of every original artefact the adapter read (evidence inputs).
    inputs = {
        name: hashlib.sha256(data).hexdigest()
        for name, data in sorted(delivery.inputs.items())
    }

    # 1. What the adapter found about the format itself (structure, malformed
    #    documents): recorded first, failures fail the delivery.
    ev.items.extend(delivery.findings)
    # 2. Every signed statement has a type we know (an unknown one is never ignored).
    by_type = _documents_by_type(ev, delivery.documents)
    # 3. Exactly one manifest: a signed statement, or the package format's own
    #    (with, for SOL 004 security option 2, the signature over the whole package).
    found = _manifest(ev, delivery, by_type, hasher)
    if found is None:
        return _report(ev, summary, inputs)
    manifest, manifest_file, signer, claim, outer = found
    # 4. The manifest's signer is the vendor it names, if it names one (KAT-A2-4); so
    #    is the package's signer, when it is not the one that vouched for the manifest.
    vendor = _check_vendor_binding(ev, manifest_file, manifest, signer, claim)
    if outer is not None and outer.signer is not signer:
        _check_vendor_binding(
            ev, outer.file, manifest, outer.signer, claim, what="package"
        )
    summary = _described(summary, manifest, manifest_file, signer, vendor)
    if delivery.package_manifest is not None:
        # A package format's release time claim (the image's created time).
        summary = replace(summary, released=delivery.package_manifest.released)
    # 5. Certified = delivered: every listed file measured against its digests.
    measured = check_integrity(ev, delivery, manifest, hasher)
    summary = _measured(
        summary, manifest, {**(outer.measured if outer else {}), **measured}
    )
    # 6. Signatures over single components, by the delivering vendor's rules.
    check_keyless_components(ev, delivery, manifest, measured)
    check_detached(ev, delivery, manifest, measured)
    check_in_toto(ev, delivery)
    # 7. Nothing delivered that the manifest does not list.
    check_unlisted(ev, delivery, manifest)
    # 8. Certification of critical components (§165(4) TKG, EUCC Art. 9(2)(e)).
    #    The operator's catalogue, keyed by the verified vendor and the product,
    #    decides what must be certified (the manifest may only add to it).
    classification = check_classification(ev, manifest)
    #    Body-signed statements in the delivery, then the operator-attested records
    #    of the register (their inputs become inputs of the report).
    certs = check_certifications(ev, by_type.get(CERTIFICATION_PREDICATE, []), manifest)
    attested, used = check_records(ev, records, manifest, statuses_at=statuses_at)
    inputs.update({n: hashlib.sha256(records[n]).hexdigest() for n in used})
    check_coverage(ev, manifest, [*certs, *attested], measured, classification)
    # 9. Supplier trustworthiness: declaration and deny-list (§41 BSIG).
    check_declaration(ev, by_type.get(DECLARATION_PREDICATE, []), manifest)
    check_deny_list(ev, manifest)
    return _report(ev, summary, inputs)


def _documents_by_type(
    ev: Evaluation, documents: Sequence[SignedDocument]
) -> dict[str, list[SignedDocument]]:
    by_type: dict[str, list[SignedDocument]] = {}
    for doc in documents:
        by_type.setdefault(doc.statement.predicate_type, []).append(doc)
    for ptype, docs in sorted(by_type.items()):
        if ptype not in _KNOWN:
            for d in docs:
                ev.add(
                    Check.ATTESTATIONS,
                    d.file,
                    Outcome.FAIL,
                    f"unrecognised predicate type {ptype}",
                )
    return by_type


@dataclass(frozen=True, slots=True)
class _Outer:
    """A package signature (SOL 004 option 2): its file, signer and measurement."""

    file: str
    signer: SignerCheck
    measured: dict[str, ComponentDigest]


def _manifest(
    ev: Evaluation,
    delivery: Delivery,
    by_type: dict[str, list[SignedDocument]],
    hasher: Hasher,
) -> tuple[ComponentManifest, str, SignerCheck, VendorClaim, _Outer | None] | None:
    """The one manifest, after its signer checks; None (recorded) when there is not."""
    docs = by_type.get(MANIFEST_PREDICATE, [])
    package = delivery.package_manifest
    count = len(docs) + (package is not None)
    where = "attestations/" if package is None else delivery.format
    if count != 1:
        ev.add(
            Check.ATTESTATIONS,
            where,
            Outcome.FAIL,
            f"exactly one component manifest is required, found {count}",
        )
        return None
    certifications = len(by_type.get(CERTIFICATION_PREDICATE, []))
    declarations = len(by_type.get(DECLARATION_PREDICATE, []))
    if package is not None:
        ev.add(
            Check.ATTESTATIONS,
            package.file,
            Outcome.PASS,
            f"1 {delivery.format} manifest, {certifications} certifications, "
            f"{declarations} declarations",
        )
        # The outer layer first: a signature over the package holding the manifest.
        found = check_package_signature(ev, delivery, package, hasher)
        outer = None
        if found is not None and package.package_signature is not None:
            outer = _Outer(package.package_signature.file, *found)
        if package.signature is None:
            signer = _unsigned_manifest(ev, package.file, outer)
        else:
            signer = ev.detached_signer(
                package.signature,
                content=package.content,
                measured=None,
                principals=ev.policy.vendors,
                role="vendor",
                kind="manifest",
            )
        return package.manifest, package.file, signer, package.vendor_claim, outer
    mdoc = docs[0]
    predicate = mdoc.predicate
    if isinstance(predicate, Malformed):
        ev.add(
            Check.ATTESTATIONS,
            mdoc.file,
            Outcome.FAIL,
            f"malformed: {predicate.error.in_file(mdoc.file)}",
        )
        return None
    if not isinstance(predicate, ComponentManifest):  # pragma: no cover - by type
        raise TypeError(type(predicate).__name__)
    ev.add(
        Check.ATTESTATIONS,
        "attestations/",
        Outcome.PASS,
        f"1 manifest, {certifications} certifications, {declarations} declarations",
    )
    signer = ev.signer(mdoc, ev.policy.vendors, "vendor", "manifest")
    return predicate, mdoc.file, signer, VendorClaim.POLICY_ID, None


def _unsigned_manifest(ev: Evaluation, file: str, outer: _Outer | None) -> SignerCheck:
    """The signer of a manifest without its own signature (SOL 004 option 1 absent).

    Only a package signature (option 2) the vendor's policy entry accepts alone
    (``sol004Option2Alone``) stands in for it; anything else fails.
    """
    requirements = DOCUMENT_REQUIREMENTS["manifest"]
    vendor = outer.signer.principal if outer is not None and outer.signer.ok else None
    if outer is None or vendor is None:
        why = (
            "the manifest is not signed"
            if outer is None
            else "the manifest is not signed, and the package signature "
            f"{outer.file} did not verify"
        )
        ev.add(Check.SIGNATURE, file, Outcome.FAIL, why, requirements)
        return SignerCheck(checks=(), principal=None)
    if not vendor.sol004_option2_alone:
        ev.add(
            Check.SIGNATURE,
            file,
            Outcome.FAIL,
            "the manifest is not signed (SOL 004 security option 1); the package "
            f"signature {outer.file} of vendor {vendor.id!r} does not stand in for "
            "it: the policy requires the manifest's own signature (sol004Option2Alone "
            "is false)",
            requirements,
        )
        return SignerCheck(checks=(), principal=None)
    ev.add(
        Check.SIGNATURE,
        file,
        Outcome.PASS,
        "the manifest has no signature of its own (SOL 004 security option 1); the "
        f"package signature {outer.file} of vendor {vendor.id!r} covers it, which the "
        "policy accepts alone for this vendor (sol004Option2Alone)",
        requirements,
    )
    ev.vendor = vendor
    return outer.signer


def _described(
    summary: DeliverySummary,
    manifest: ComponentManifest,
    file: str,
    signer: SignerCheck,
    vendor: PartyRef | None,
) -> DeliverySummary:
    """The summary with what the manifest declares and who verifiably signed it."""
    p = signer.principal
    return DeliverySummary(
        format=summary.format,
        root=summary.root,
        listing=summary.listing,
        vendor=vendor,
        # Who the delivery is from, as verified (the manifest's vendor is a claim).
        principal=None if p is None else PartyRef(id=p.id, name=p.name),
        product=manifest.product,
        version=manifest.version,
        security_version=manifest.security_version,
        network_function=manifest.network_function,
        domain=None if manifest.domain is None else manifest.domain.value,
        manifest=file,
    )


def _measured(
    summary: DeliverySummary,
    manifest: ComponentManifest,
    measured: Mapping[str, ComponentDigest],
) -> DeliverySummary:
    return replace(
        summary,
        components=tuple(
            ComponentSummary(
                path=c.path, kind=c.kind.value, size=c.size, digests=dict(c.digests)
            )
            for c in manifest.components
        ),
        measured=MappingProxyType(
            {
                path: Measured(size=m.size, digests=dict(sorted(m.digests.items())))
                for path, m in sorted(measured.items())
            }
        ),
    )


def _check_vendor_binding(
    ev: Evaluation,
    file: str,
    manifest: ComponentManifest,
    signer: SignerCheck,
    claim: VendorClaim,
    *,
    what: str = "manifest",
) -> PartyRef | None:
    """Check the manifest's vendor claim against the verified signer of ``file``.

    ``what`` is ``manifest`` (the manifest's own signature) or ``package`` (a
    signature over the whole package holding the manifest, SOL 004 option 2).
    Returns the vendor the report names: the claim as written for a policy-id
    claim (``verified_vendor`` compares it with the signer); the verified signer
    when a name claim matches it or there is no claim (the vendor is the principal
    whose anchor verified the signature); the claim as written when it does not.
    """
    p = signer.principal
    declared = PartyRef(id=manifest.vendor.id, name=manifest.vendor.name)
    if claim is VendorClaim.ABSENT:
        if p is None:
            ev.add(
                Check.VENDOR_BINDING,
                file,
                Outcome.FAIL,
                "no vendor named, and no trusted vendor signer was established",
            )
            return None
        ev.add(
            Check.VENDOR_BINDING,
            file,
            Outcome.PASS,
            f"no vendor named; the vendor is the verified signer {p.id!r} "
            f"({p.name}, per the policy)",
        )
        return PartyRef(id=p.id, name=p.name)
    named = (
        manifest.vendor.id if claim is VendorClaim.POLICY_ID else manifest.vendor.name
    )
    names = (
        "manifest names"
        if what == "manifest"
        else "the package signature covers a manifest that names"
    )
    if p is None:
        ev.add(
            Check.VENDOR_BINDING,
            file,
            Outcome.FAIL,
            f"{names} vendor {named!r} but no trusted vendor signer was established",
        )
        return declared
    by_name = claim is VendorClaim.NAME
    if named != p.id and not (by_name and named == p.name):
        also = (
            f" ({p.name}); an image's vendor annotation must be the signer's policy "
            "id or its name as the policy writes it"
            if by_name
            else ""
        )
        ev.add(
            Check.VENDOR_BINDING,
            file,
            Outcome.FAIL,
            f"{names} vendor {named!r} but is signed by vendor {p.id!r}{also}",
        )
        return declared
    as_named = f"{named!r} is " if by_name else ""
    it = "it" if what == "manifest" else f"the {what}"
    ev.add(
        Check.VENDOR_BINDING,
        file,
        Outcome.PASS,
        f"signed by the vendor {it} names: {as_named}{p.id!r} ({p.name}, per the "
        "policy)",
    )
    return PartyRef(id=p.id, name=p.name) if by_name else declared


def _report(
    ev: Evaluation, summary: DeliverySummary, inputs: dict[str, str]
) -> VerificationReport:
    if summary.manifest is not None:
        summary = replace(summary, trust_anchors=tuple(sorted(ev.anchors)))
    return VerificationReport(
        delivery=summary,
        policy=ev.policy.summary(),
        verified_at=ev.at,
        time_source=ev.time_source,
        checks=tuple(ev.items),
        inputs=inputs,
    )
