"""Certified critical components (§165(4) TKG, EUCC Art. 9(2)(e)).

What must be certified: with the operator's product catalogue, its classification of
the verified vendor's product (``check_classification``); the vendor's declarations
can only add certification rules.

A body-signed certification statement is usable when the certification body the
policy trusts for its scheme signed it, it is valid at the validation time, its holder
is the delivering vendor (as verified) and it names the product and version. An
operator-attested record (``check_records``) is usable when the operator role the
policy names signed it, its source document is in the register, it is valid and not
suspended or withdrawn at the validation time, and it names the verified vendor, the
product and the version. Coverage then asks, for every component a rule requires to be
certified, for a usable certification naming the digests measured for it: certified =
delivered (a record without digests covers by product and version only, as a ``warn``,
when the policy allows it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from vendorproof._internal.text import SHORT_ID, shorten
from vendorproof.errors import InvalidInputError, SignatureError
from vendorproof.models import _fields
from vendorproof.models.certification import Certification
from vendorproof.models.certification_record import (
    RECORD_INPUT_PREFIX,
    SOURCE_INPUT_PREFIX,
    STATUS_INPUT_PREFIX,
    CertificationRecord,
    StatusRecord,
    open_record,
    open_status,
    source_digest,
    source_input,
    version_covered,
)
from vendorproof.models.checks import Check, Outcome
from vendorproof.models.documents import SignedDocument
from vendorproof.models.manifest import Component, ComponentManifest
from vendorproof.models.policy import (
    CatalogueEntry,
    CertificationRule,
    OperatorAttestation,
    Principal,
    UnknownProduct,
    WithoutDigests,
)
from vendorproof.models.predicates import Malformed
from vendorproof.verify.delivery._evaluation import ComponentDigest, Evaluation

__all__ = [
    "Classification",
    "check_certifications",
    "check_classification",
    "check_coverage",
    "check_records",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Cert:
    """A certification that may cover components: body-signed or operator-attested."""

    file: str
    scheme: str
    certificate_id: str
    usable: bool
    why_not: str
    #: (algorithm, hex) -> digest sets naming that digest (built once per document).
    by_digest: Mapping[tuple[str, str], tuple[Mapping[str, str], ...]] = field(
        default_factory=dict
    )
    #: Who stands behind it, for coverage reasons (empty: a body-signed statement).
    attested: str = ""
    #: An operator-attested record without deliverable digests that the policy lets
    #: cover by product and version (the coverage is a ``warn``).
    by_product: bool = False

    @staticmethod
    def index(
        sets: Sequence[Mapping[str, str]],
    ) -> dict[tuple[str, str], tuple[Mapping[str, str], ...]]:
        out: dict[tuple[str, str], list[Mapping[str, str]]] = {}
        for digest in sets:
            for pair in digest.items():
                out.setdefault(pair, []).append(digest)
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
                file=doc.file,
                scheme=cert.scheme,
                certificate_id=cert.certificate_id,
                usable=not problems,
                why_not="; ".join(problems),
                by_digest=_Cert.index([s.digest for s in doc.statement.subjects]),
            )
        )
    return out


def check_records(
    ev: Evaluation,
    records: Mapping[str, bytes],
    manifest: ComponentManifest,
    *,
    statuses_at: datetime | None = None,
) -> tuple[list[_Cert], list[str]]:
    """Check the operator-attested certification records of the register.

    ``records`` are the register's evidence inputs (``certification-record:*`` and
    ``certification-source:*``). A record is verified with the keys the policy gives
    the operator role before anything in it is read; a record that does not verify or
    parse fails the delivery (the register is the operator's own: a bad record in it
    is an alarm). A verified record for another holder or product is not this
    delivery's and is left out; one for this holder (the verified vendor, never the
    manifest's words) and product is checked like a body-signed statement.

    Status records (``certification-status:*``, EUCC Art. 13, 14) are verified the
    same way; the latest one about a record whose ``asOf`` is not after
    ``statuses_at`` (default: the validation time) decides its status, and a
    suspended or withdrawn certificate fails ``certification``.

    Returns:
        The records that may cover components, and the input names the decision used
        (stored as evidence inputs by intake, re-read by replay).
    """
    envelopes = {n: d for n, d in records.items() if n.startswith(RECORD_INPUT_PREFIX)}
    sources = {
        n.removeprefix(SOURCE_INPUT_PREFIX): d
        for n, d in records.items()
        if n.startswith(SOURCE_INPUT_PREFIX)
    }
    out: list[_Cert] = []
    used: list[str] = []
    attestation = ev.policy.operator_attestation
    statuses = _statuses(ev, records, attestation, used)
    known_at = ev.at if statuses_at is None else statuses_at
    for name, raw in sorted(envelopes.items()):
        if attestation is None:
            used.append(name)
            ev.add(
                Check.CERTIFICATION,
                name,
                Outcome.FAIL,
                "the policy names no operator role that may attest certification "
                "records (certification.records)",
            )
            continue
        try:
            record, key_id = open_record(
                raw, tuple(attestation.public_keys.values()), file=name
            )
        except SignatureError:
            used.append(name)
            ev.add(
                Check.CERTIFICATION,
                name,
                Outcome.FAIL,
                "not signed by a key the policy gives operator role "
                f"{attestation.role!r}: not acted on",
            )
            continue
        except InvalidInputError as e:
            used.append(name)
            ev.add(Check.CERTIFICATION, name, Outcome.FAIL, f"malformed: {e}")
            continue
        vendor = ev.vendor
        if vendor is None or (record.holder, record.product) != (
            vendor.id,
            manifest.product,
        ):
            continue  # another holder's or product's certificate
        used.append(name)
        digest = source_digest(raw)
        about = sorted(
            (
                (status, status_name)
                for status, status_name in statuses
                if status.record_name == name
                and status.record_sha256 == digest
                and status.as_of <= known_at
            ),
            key=lambda pair: (pair[0].as_of, pair[1]),
        )
        used.extend(status_name for _, status_name in about)
        cert = _record(
            ev,
            name,
            status=about[-1] if about else None,
            record=record,
            key_id=key_id,
            attestation=attestation,
            sources=sources,
            manifest=manifest,
        )
        if record.source_sha256 in sources:
            used.append(source_input(record.source_sha256))
        out.append(cert)
    return out, used


def _statuses(
    ev: Evaluation,
    records: Mapping[str, bytes],
    attestation: OperatorAttestation | None,
    used: list[str],
) -> list[tuple[StatusRecord, str]]:
    """The status records that verify with the role's keys (the others fail)."""
    out: list[tuple[StatusRecord, str]] = []
    for name, raw in sorted(records.items()):
        if not name.startswith(STATUS_INPUT_PREFIX):
            continue
        why = ""
        if attestation is None:
            why = "the policy names no operator role that may attest certification "
            why += "records (certification.records)"
        else:
            try:
                status = open_status(
                    raw, tuple(attestation.public_keys.values()), file=name
                )
            except SignatureError:
                why = "not signed by a key the policy gives operator role "
                why += f"{attestation.role!r}: not acted on"
            except InvalidInputError as e:
                why = f"malformed: {e}"
            else:
                if status.role == attestation.role:
                    out.append((status, name))
                    continue
                why = (
                    f"says it is attested by role {status.role!r}, but its key is "
                    f"one of role {attestation.role!r}"
                )
        used.append(name)
        ev.add(Check.CERTIFICATION, name, Outcome.FAIL, why)
    return out


def _record(
    ev: Evaluation,
    name: str,
    *,
    status: tuple[StatusRecord, str] | None,
    record: CertificationRecord,
    key_id: str,
    attestation: OperatorAttestation,
    sources: Mapping[str, bytes],
    manifest: ComponentManifest,
) -> _Cert:
    """Check one verified record of this delivery's holder and product."""
    label = f"{record.scheme} {record.certificate_id}"
    problems: list[str] = []
    if record.role != attestation.role:
        problems.append(
            f"says it is attested by role {record.role!r}, but its key is one of "
            f"role {attestation.role!r}"
        )
    if record.scheme not in attestation.schemes:
        problems.append(
            f"scheme {record.scheme} may not be operator-attested under this policy "
            "(certification.records.schemes)"
        )
    source = sources.get(record.source_sha256)
    if source is None:
        problems.append(
            f"its source document sha256:{record.source_sha256} is not in the register"
        )
    elif source_digest(source) != record.source_sha256:
        problems.append("its source document does not hash to the recorded digest")
    unusable = _applicability(record, manifest, ev)
    if not problems and status is not None and status[0].status != "valid":
        s, status_name = status
        said = (
            f"{s.status} as of {_fields.format_time(s.as_of)} ({status_name}, "
            f"source: {s.source})"
        )
        # A suspended or withdrawn certificate of this very version fails; one of
        # another version or period is only not applicable.
        (unusable or problems).append(said)
    if problems:
        ev.add(
            Check.CERTIFICATION, name, Outcome.FAIL, f"{label}: {'; '.join(problems)}"
        )
        return _Cert(
            file=name,
            scheme=record.scheme,
            certificate_id=record.certificate_id,
            usable=False,
            why_not="; ".join(problems),
        )
    digests = [d.digest for d in record.deliverables]
    if (
        not unusable
        and not digests
        and attestation.without_digests is WithoutDigests.FAIL
    ):
        unusable.append(
            "lists no deliverable digests (certification.records.withoutDigests: fail)"
        )
    if unusable:
        # A record of another version or validity period of this product: not a
        # failure by itself; coverage fails when nothing else covers.
        ev.add(
            Check.CERTIFICATION,
            name,
            Outcome.NOT_APPLICABLE,
            f"{label} ({record.attested_by}): {'; '.join(unusable)}",
        )
    else:
        scope = (
            f"{len(digests)} deliverable digest(s)"
            if digests
            else "no deliverable digests"
        )
        ev.add(
            Check.CERTIFICATION,
            name,
            Outcome.PASS,
            f"{label} {record.attested_by} with key {key_id[:16]} (certification "
            f"body {record.body_name}, accreditation {record.body_accreditation}), "
            f"valid until {_fields.format_time(record.valid_until)}, covers "
            f"{manifest.product} {manifest.version}, lists {scope}",
        )
    return _Cert(
        file=name,
        scheme=record.scheme,
        certificate_id=record.certificate_id,
        usable=not unusable and bool(digests),
        why_not="; ".join(unusable),
        by_digest=_Cert.index(digests),
        attested=record.attested_by,
        by_product=not unusable and not digests,
    )


def _applicability(
    record: CertificationRecord, manifest: ComponentManifest, ev: Evaluation
) -> list[str]:
    out: list[str] = []
    if not record.valid_from <= ev.at <= record.valid_until:
        out.append(
            f"not valid at {ev.at.isoformat()} (valid "
            f"{record.valid_from.isoformat()} .. {record.valid_until.isoformat()})"
        )
    if not version_covered(record.versions, manifest.version):
        out.append(
            f"certifies version(s) {', '.join(record.versions)}, not {manifest.version}"
        )
    return out


def _covers(ce: _Cert, digests: dict[str, str]) -> bool:
    """A subject agrees with ``digests`` on every algorithm both name (at least one)."""
    for alg, value in digests.items():
        for s in ce.by_digest.get((alg, value), ()):
            if all(s[a] == digests[a] for a in set(s) & set(digests)):
                return True
    return False


@dataclass(frozen=True, slots=True, kw_only=True)
class Classification:
    """What decides certification scope for one delivery.

    ``active``: the policy has a catalogue (then the operator's classification
    decides, and the vendor's declarations can only add rules); ``entry``: the
    catalogue entry of the verified vendor's product (None with ``active``: unknown,
    and every rule applies: fail closed).
    """

    active: bool = False
    entry: CatalogueEntry | None = None


def check_classification(ev: Evaluation, manifest: ComponentManifest) -> Classification:
    """The operator's classification of the delivered product, against the manifest.

    The catalogue entry is found by the verified vendor (the policy principal that
    signed the manifest) and the product; a declared domain, network function or
    component kind that contradicts it fails ``classification``; a product the
    catalogue does not know fails (or warns, by policy).
    """
    catalogue = ev.policy.catalogue
    if catalogue is None:
        return Classification()
    vendor = ev.vendor
    entry = (
        None
        if vendor is None
        else catalogue.entry(vendor_id=vendor.id, product=manifest.product)
    )
    if entry is None:
        who = "no trusted vendor" if vendor is None else f"vendor {vendor.id!r}"
        unknown = catalogue.unknown_product is UnknownProduct.WARN
        ev.add(
            Check.CLASSIFICATION,
            manifest.product,
            Outcome.WARN if unknown else Outcome.FAIL,
            f"the operator's catalogue does not classify product "
            f"{manifest.product!r} of {who}: every certification rule applies to "
            "every component (catalogue.unknownProduct: "
            f"{catalogue.unknown_product.value})",
        )
        return Classification(active=True)
    contradictions = []
    if manifest.domain is not None and manifest.domain.value != entry.domain:
        declared = manifest.domain.value
        contradictions.append(
            f"declares domain {declared}, the catalogue says {entry.domain}"
        )
    if (
        manifest.network_function is not None
        and entry.network_functions
        and manifest.network_function not in entry.network_functions
    ):
        contradictions.append(
            f"declares network function {manifest.network_function}, the catalogue "
            f"says {', '.join(sorted(entry.network_functions))}"
        )
    for c in manifest.components:
        kind = entry.kind_of(c.path)
        if kind is not None and kind != c.kind.value:
            contradictions.append(
                f"declares {c.path} as {c.kind.value}, the catalogue says {kind}"
            )
    label = (
        f"catalogue: {entry.vendor} {entry.product} -> domain {entry.domain}, "
        f"network functions {', '.join(sorted(entry.network_functions)) or '-'}, "
        f"category {entry.category}"
    )
    if contradictions:
        ev.add(
            Check.CLASSIFICATION,
            manifest.product,
            Outcome.FAIL,
            f"the manifest contradicts the operator's classification ({label}): "
            + "; ".join(contradictions),
        )
    else:
        ev.add(
            Check.CLASSIFICATION,
            manifest.product,
            Outcome.PASS,
            f"classified by the operator ({label}); certification rules match on it",
        )
    return Classification(active=True, entry=entry)


def _operator_scope(
    rule: CertificationRule, entry: CatalogueEntry | None, c: Component
) -> bool:
    """Whether ``rule`` requires ``c`` by the operator's classification.

    An unknown product, or a component whose kind the catalogue does not assign, is
    in scope of every rule the classification cannot exclude: fail closed.
    """
    if entry is None:
        return True
    kind = entry.kind_of(c.path)
    return (
        (not rule.domains or entry.domain in rule.domains)
        and (
            not rule.network_functions
            or not entry.network_functions
            or bool(rule.network_functions & entry.network_functions)
        )
        and (not rule.kinds or kind is None or kind in rule.kinds)
    )


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
    classification: Classification | None = None,
) -> None:
    """Each component a policy rule requires to be certified is, by its digests.

    Certified = delivered: a usable certification must name the measured digests.
    With the operator's catalogue, a rule applies when the operator's classification
    or the vendor's declaration matches it (declarations add rules, never remove).
    """
    scope = classification or Classification()
    for c in manifest.components:
        rules = [
            r
            for r in ev.policy.certification_rules
            if _in_scope(r, manifest, c)
            or (scope.active and _operator_scope(r, scope.entry, c))
        ]
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
        # Certified = delivered (by digest) first; coverage by product and version
        # alone only when nothing names the digests and the policy allows it.
        fallback: _Cert | None = None
        for ce in certs:
            if ce.scheme not in schemes:
                reasons.append(f"{ce.file}: scheme {ce.scheme} not accepted here")
            elif ce.by_product:
                fallback = fallback or ce
            elif not ce.usable:
                reasons.append(f"{ce.file}: {ce.why_not}")
            elif not _covers(ce, digests):
                reasons.append(f"{ce.file}: does not certify these digests")
            else:
                by = f" ({ce.attested})" if ce.attested else ""
                ev.add(
                    Check.CERTIFICATION_COVERAGE,
                    c.path,
                    Outcome.PASS,
                    f"certified = delivered: {ce.scheme} {ce.certificate_id}{by} "
                    f"certifies sha256:{shorten(digests.get('sha256', '?'), SHORT_ID)}",
                )
                break
        else:
            if fallback is not None:
                ev.add(
                    Check.CERTIFICATION_COVERAGE,
                    c.path,
                    Outcome.WARN,
                    f"covered by product and version only: {fallback.scheme} "
                    f"{fallback.certificate_id} ({fallback.attested}) lists no "
                    "deliverable digests, so certified = delivered is not shown "
                    "(certification.records.withoutDigests: warn)",
                )
                continue
            detail = "; ".join(reasons) or (
                "no certification statement delivered and no operator-attested record"
            )
            ev.add(
                Check.CERTIFICATION_COVERAGE,
                c.path,
                Outcome.FAIL,
                f"needs a valid certification ({', '.join(sorted(schemes))}): {detail}",
            )
