"""Signatures over single components: Sigstore bundles, in-toto, detached signatures.

Each uses the rules of the delivering vendor as verified (the manifest's signer),
never of the vendor the manifest names.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from vendorproof.errors import InvalidInputError, VerificationError
from vendorproof.models.checks import Check, Outcome
from vendorproof.models.delivery import Delivery
from vendorproof.models.manifest import ComponentManifest
from vendorproof.models.policy import KeylessRule, Policy
from vendorproof.verify.delivery._evaluation import ComponentDigest, Evaluation

__all__ = ["check_detached", "check_in_toto", "check_keyless_components"]


def check_keyless_components(
    ev: Evaluation,
    delivery: Delivery,
    manifest: ComponentManifest,
    measured: dict[str, ComponentDigest],
) -> None:
    """Sigstore bundles over delivered files (cosign sign-blob / sigstore sign)."""
    vendor = ev.vendor
    if vendor is None:
        for path in sorted(delivery.artifact_bundles):
            ev.add(
                Check.KEYLESS_SIGNATURE,
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
                ev.add(
                    Check.KEYLESS_SIGNATURE,
                    c.path,
                    Outcome.FAIL,
                    f"the policy requires a Sigstore bundle by {who}; none delivered "
                    f"(attestations/keyless/{c.path}.sigstore.json)",
                )
            continue
        candidates = required or list(rules)
        if not candidates:
            ev.add(
                Check.KEYLESS_SIGNATURE,
                c.path,
                Outcome.WARN,
                "Sigstore bundle delivered but the policy names no keyless signer for "
                f"vendor {vendor.id!r}: not evaluated",
            )
            continue
        m = measured.get(c.path)
        if m is None or "sha256" not in m.digests:
            ev.add(
                Check.KEYLESS_SIGNATURE,
                c.path,
                Outcome.FAIL,
                "file was not measured (sha256)",
            )
            continue
        ok, reason = _check_keyless_component(ev.policy, bundle, m, candidates)
        ev.add(
            Check.KEYLESS_SIGNATURE,
            c.path,
            Outcome.PASS if ok else Outcome.FAIL,
            reason,
        )


def _check_keyless_component(
    policy: Policy,
    bundle: bytes,
    measured: ComponentDigest,
    candidates: Sequence[KeylessRule],
) -> tuple[bool, str]:
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
            return True, account
    except VerificationError as e:
        errors.append(str(e))
    except InvalidInputError as e:
        errors.append(f"malformed Sigstore bundle: {e}")
    return False, "; ".join(errors)


def check_in_toto(ev: Evaluation, delivery: Delivery) -> None:
    """Classic in-toto supply-chain layouts shipped under ``in-toto/``."""
    vendor = ev.vendor
    if vendor is None:
        if delivery.in_toto:
            ev.add(
                Check.IN_TOTO,
                "in-toto/",
                Outcome.FAIL,
                "in-toto metadata not evaluated: no trusted vendor signed the "
                "manifest, so no vendor's layout keys apply",
            )
        return
    rule = vendor.in_toto
    if rule is None:
        if delivery.in_toto:
            ev.add(
                Check.IN_TOTO,
                "in-toto/",
                Outcome.NOT_APPLICABLE,
                "in-toto metadata delivered but the policy pins no layout key for "
                f"vendor {vendor.id!r}: not evaluated",
            )
        return
    subject = f"in-toto/{rule.layout}"
    if subject not in delivery.in_toto:
        ev.add(
            Check.IN_TOTO, "in-toto/", Outcome.FAIL, f"the policy requires {subject}"
        )
        return
    from vendorproof.verify.intoto import verify_in_toto

    try:
        account = verify_in_toto(
            delivery.root,
            layout_keys=rule.layout_keys,
            allow_inspections=rule.allow_inspections,
            layout_name=rule.layout,
            limits=ev.context.limits,
            timeouts=ev.context.timeouts,
        )
    except VerificationError as e:
        ev.add(Check.IN_TOTO, subject, Outcome.FAIL, str(e))
        return
    except InvalidInputError as e:
        # Malformed vendor metadata is a failed check of the delivery.
        ev.add(Check.IN_TOTO, subject, Outcome.FAIL, f"malformed: {e}")
        return
    ev.add(Check.IN_TOTO, subject, Outcome.PASS, account)


def check_detached(
    ev: Evaluation,
    delivery: Delivery,
    manifest: ComponentManifest,
    measured: dict[str, ComponentDigest],
) -> None:
    """Detached signatures over components (e.g. a CMS ``.p7s`` beside a file).

    Each must be made by the delivering vendor (the manifest's verified signer) and
    cover the bytes measured for its component.
    """
    listed = {c.path for c in manifest.components}
    signed = {sig.target for sig in delivery.signatures}
    if ev.vendor is not None and ev.vendor.detached_signatures:
        from vendorproof.verify.cms_signer import detached_signature_required

        # The vendor's detachedSignatures rule: these files need a signature.
        for c in manifest.components:
            if c.path not in signed and detached_signature_required(ev.vendor, c.path):
                ev.add(
                    Check.DETACHED_SIGNATURE,
                    c.path,
                    Outcome.FAIL,
                    f"the policy requires a detached CMS signature by vendor "
                    f"{ev.vendor.id!r} on this file; none delivered",
                )
    for sig in delivery.signatures:
        if sig.target not in listed:
            ev.add(
                Check.DETACHED_SIGNATURE,
                sig.file,
                Outcome.FAIL,
                f"signs {sig.target!r}, which the manifest does not list",
            )
            continue
        vendor = ev.vendor
        if vendor is None:
            ev.add(
                Check.DETACHED_SIGNATURE,
                sig.target,
                Outcome.FAIL,
                f"{sig.file} not evaluated: no trusted vendor signed the manifest",
            )
            continue
        m = measured.get(sig.target)
        if m is None:
            ev.add(
                Check.DETACHED_SIGNATURE,
                sig.target,
                Outcome.FAIL,
                f"{sig.file}: the signed file was not measured",
            )
            continue
        result = ev.detached_signer(
            sig,
            content=None,
            measured=m.digests,
            principals=[vendor],
            role="vendor",
            kind="component-signature",
        )
        ok = result.ok and result.principal is not None
        ev.add(
            Check.DETACHED_SIGNATURE,
            sig.target,
            Outcome.PASS if ok else Outcome.FAIL,
            f"{sig.file}: signed by vendor {vendor.id!r}"
            if ok
            else f"{sig.file}: not a valid signature of vendor {vendor.id!r}",
            Check.DETACHED_SIGNATURE.requirements,
        )
