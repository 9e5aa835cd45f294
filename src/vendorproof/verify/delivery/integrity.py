"""Certified = delivered: every listed file is delivered, unaltered, and nothing else.

The manifest's digests are the vendor's signed claim; the verifier measures the
delivered bytes itself (through the adapter's hasher) and compares.
"""

from __future__ import annotations

from vendorproof._internal.text import SHORT_ID, shorten
from vendorproof.models.checks import Check, Outcome
from vendorproof.models.delivery import Delivery
from vendorproof.models.manifest import Component, ComponentManifest
from vendorproof.models.policy import REFUSED_DIGESTS, UnlistedFiles
from vendorproof.verify.delivery._evaluation import ComponentDigest, Evaluation, Hasher

__all__ = ["check_integrity", "check_unlisted"]


def _hashable(ev: Evaluation, delivery: Delivery, c: Component) -> bool:
    """Whether ``c`` can be measured; records why not when it cannot."""
    policy = ev.policy
    algs = set(c.digests)
    refused = sorted(algs & REFUSED_DIGESTS)
    not_allowed = sorted(algs - policy.digest_algorithms - REFUSED_DIGESTS)
    if refused or not_allowed:
        bad = ", ".join(refused + not_allowed)
        ev.add(
            Check.DIGEST_ALGORITHMS,
            c.path,
            Outcome.FAIL,
            f"digest algorithm(s) {bad} refused "
            f"(policy allows {', '.join(sorted(policy.digest_algorithms))})",
        )
        return False
    if c.path in delivery.irregular:
        ev.add(
            Check.INTEGRITY,
            c.path,
            Outcome.FAIL,
            f"{delivery.irregular[c.path]}, not a regular file inside the delivery",
        )
        return False
    if c.path not in delivery.payload:
        ev.add(
            Check.INTEGRITY, c.path, Outcome.FAIL, "listed in the manifest but missing"
        )
        return False
    return True


def check_integrity(
    ev: Evaluation, delivery: Delivery, manifest: ComponentManifest, hasher: Hasher
) -> dict[str, ComponentDigest]:
    """Re-hash every listed component; return the measurements of those hashed.

    A component is measured with the manifest's digest algorithms and with those its
    detached signatures declare (a ``.p7s`` may use SHA-512 over a file the manifest
    lists with SHA-256); only the manifest's are compared here.
    """
    to_hash = [c for c in manifest.components if _hashable(ev, delivery, c)]
    hashed = {c.path for c in to_hash}
    algorithms = sorted(
        {a for c in to_hash for a in c.digests}
        | {a for s in delivery.signatures if s.target in hashed for a in s.algorithms}
    )
    measured: dict[str, ComponentDigest] = {}
    if not to_hash:
        return measured
    results = hasher([c.path for c in to_hash], algorithms)
    for c, m in zip(to_hash, results, strict=True):
        measured[c.path] = m
        if c.size is not None and m.size != c.size:
            ev.add(
                Check.INTEGRITY,
                c.path,
                Outcome.FAIL,
                f"size {m.size} differs from the manifest's {c.size}",
            )
            continue
        wrong = [a for a in sorted(c.digests) if m.digests[a] != c.digests[a]]
        if wrong:
            ev.add(
                Check.INTEGRITY,
                c.path,
                Outcome.FAIL,
                f"{', '.join(wrong)} digest differs from the manifest "
                f"(measured {wrong[0]}:{shorten(m.digests[wrong[0]], SHORT_ID)})",
            )
            continue
        what = f"{c.size} bytes" if c.size is not None else f"{m.size} bytes measured"
        ev.add(
            Check.INTEGRITY,
            c.path,
            Outcome.PASS,
            f"{what}, {', '.join(sorted(c.digests))} match the manifest",
        )
    return measured


def check_unlisted(
    ev: Evaluation, delivery: Delivery, manifest: ComponentManifest
) -> None:
    """Every payload file (and irregular entry) must be listed in the manifest.

    A detached signature file (``<file>.cms`` beside ``<file>``) need not be: the
    ``detached-signature`` check verifies it, and it must sign a listed file. Nor
    need the file a package signature covers (SOL 004 security option 2: the CSAR
    that holds the manifest).
    """
    policy = ev.policy
    listed = {c.path for c in manifest.components}
    listed.update(s.file for s in delivery.signatures)
    package = delivery.package_manifest
    if package is not None and package.package_signature is not None:
        listed.add(package.package_signature.target)
    extra = sorted((set(delivery.payload) | set(delivery.irregular)) - listed)
    if not extra:
        ev.add(
            Check.UNLISTED_FILES,
            "delivery",
            Outcome.PASS,
            "every payload file is listed",
        )
        return
    outcome = (
        Outcome.WARN if policy.unlisted_files is UnlistedFiles.WARN else Outcome.FAIL
    )
    for path in extra:
        kind = delivery.irregular.get(path, "file")
        ev.add(
            Check.UNLISTED_FILES,
            path,
            outcome,
            f"{kind} not listed in the manifest "
            f"(policy: unlistedFiles={policy.unlisted_files.value})",
        )
