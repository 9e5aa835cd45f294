"""Supplier trustworthiness: the vendor's trust declaration and the deny-list.

Both name the vendor as verified (the manifest's signer), never as the manifest
declares itself: a prohibited supplier would pass by writing another name.
"""

from __future__ import annotations

from collections.abc import Sequence

from vendorproof.models import _fields
from vendorproof.models.checks import Check, Outcome
from vendorproof.models.declaration import TrustDeclaration
from vendorproof.models.documents import SignedDocument
from vendorproof.models.manifest import ComponentManifest
from vendorproof.models.policy import Principal
from vendorproof.models.predicates import Malformed
from vendorproof.verify.delivery._evaluation import Evaluation

__all__ = ["check_declaration", "check_deny_list"]


def check_declaration(
    ev: Evaluation, docs: Sequence[SignedDocument], manifest: ComponentManifest
) -> None:
    """The trust declaration: by the delivering vendor, for this product, valid."""
    at = ev.at
    required = ev.policy.trust_declaration_required
    if not docs:
        ev.add(
            Check.TRUST_DECLARATION,
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
        decl = doc.predicate
        if isinstance(decl, Malformed):
            reasons.append(f"malformed: {decl.error.in_file(doc.file)}")
            continue
        if not isinstance(decl, TrustDeclaration):  # pragma: no cover - sorted by type
            continue
        signer = ev.signer(doc, ev.policy.vendors, "vendor", "trust-declaration")
        # The declaring vendor is the verified signer, and it must be the verified
        # signer of the manifest; the declaration's own vendor id is a claim that
        # must name it.
        problems = []
        vendor, declarer = ev.vendor, signer.principal
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
            ev.add(
                Check.TRUST_DECLARATION,
                doc.file,
                Outcome.PASS,
                f"vendor {declarer.id!r} ({declarer.name}) declares trustworthiness "
                f"for {manifest.product} (declared legal entity: {decl.legal_entity}; "
                f"{decl.legal_basis}), valid until "
                f"{_fields.format_time(decl.valid_until)}",
            )
            return
        reasons.append(f"{doc.file}: {'; '.join(problems)}")
    ev.add(Check.TRUST_DECLARATION, "attestations/", Outcome.FAIL, "; ".join(reasons))


def check_deny_list(ev: Evaluation, manifest: ComponentManifest) -> None:
    """Deny-list entries match the verified vendor's policy id and policy name.

    The vendor name and id a manifest writes about itself are never matched: a
    prohibited supplier would pass by writing another name.
    """
    policy, at, vendor = ev.policy, ev.at, ev.vendor
    subject = _vendor_subject(vendor, manifest)
    if vendor is None:
        ev.add(
            Check.DENY_LIST,
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
            ev.add(
                Check.DENY_LIST,
                subject,
                Outcome.FAIL,
                f"vendor {vendor.id!r} ({vendor.name}) prohibited since "
                f"{_fields.format_time(entry.effective)}: {entry.reason}",
            )
            return
    ev.add(
        Check.DENY_LIST,
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
