"""Certified critical components (§165(4) TKG, EUCC Art. 9(2)(e)).

A certification statement is usable when the certification body the policy trusts for
its scheme signed it, it is valid at the validation time, its holder is the delivering
vendor (as verified) and it names the product and version. Coverage then asks, for
every component a policy rule requires to be certified, for a usable certification
naming the digests measured for it: certified = delivered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from vendorproof.models import _fields
from vendorproof.models.certification import Certification
from vendorproof.models.checks import Check, Outcome
from vendorproof.models.documents import SignedDocument
from vendorproof.models.manifest import Component, ComponentManifest
from vendorproof.models.policy import CertificationRule, Principal
from vendorproof.models.predicates import Malformed
from vendorproof.models.statement import Subject
from vendorproof.verify.delivery._evaluation import ComponentDigest, Evaluation

__all__ = ["check_certifications", "check_coverage"]


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


def check_certifications(
    ev: Evaluation, docs: Sequence[SignedDocument], manifest: ComponentManifest
) -> list[_Cert]:
    """Each certification statement: who signed it and whether it is usable here."""
    out: list[_Cert] = []
    for doc in docs:
        cert = doc.predicate
        if isinstance(cert, Malformed):
            ev.add(
                Check.CERTIFICATION,
                doc.file,
                Outcome.FAIL,
                f"malformed: {cert.error.in_file(doc.file)}",
            )
            continue
        if not isinstance(cert, Certification):  # pragma: no cover - sorted by type
            continue
        signer = ev.signer(
            doc,
            ev.policy.certification_bodies,
            "certification-body",
            "certification",
        )
        body = signer.principal
        problems = _certification_problems(cert, body, ev.vendor, manifest, ev.at)
        label = f"{cert.scheme} {cert.certificate_id}"
        if problems or body is None:
            ev.add(
                Check.CERTIFICATION,
                doc.file,
                Outcome.FAIL,
                f"{label}: {'; '.join(problems)}",
            )
        else:
            ev.add(
                Check.CERTIFICATION,
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


def _in_scope(rule: CertificationRule, m: ComponentManifest, c: Component) -> bool:
    """Whether ``rule`` requires ``c`` to be certified.

    A delivery format that does not declare the domain or network function (a
    SOL 004 package) is in scope of every rule that names one: fail closed.
    """
    return (
        (not rule.domains or m.domain is None or m.domain.value in rule.domains)
        and (
            not rule.network_functions
            or m.network_function is None
            or m.network_function in rule.network_functions
        )
        and (not rule.kinds or c.kind.value in rule.kinds)
    )


def check_coverage(
    ev: Evaluation,
    manifest: ComponentManifest,
    certs: Sequence[_Cert],
    measured: dict[str, ComponentDigest],
) -> None:
    """Each component a policy rule requires to be certified is, by its digests.

    Certified = delivered: a usable certification must name the measured digests.
    """
    for c in manifest.components:
        rules = [r for r in ev.policy.certification_rules if _in_scope(r, manifest, c)]
        if not rules:
            ev.add(
                Check.CERTIFICATION_COVERAGE,
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
                ev.add(
                    Check.CERTIFICATION_COVERAGE,
                    c.path,
                    Outcome.PASS,
                    f"certified = delivered: {ce.cert.scheme} {ce.cert.certificate_id} "
                    f"certifies sha256:{digests.get('sha256', '?')[:16]}...",
                )
                break
        else:
            detail = "; ".join(reasons) or "no certification statement delivered"
            ev.add(
                Check.CERTIFICATION_COVERAGE,
                c.path,
                Outcome.FAIL,
                f"needs a valid certification ({', '.join(sorted(schemes))}): {detail}",
            )
