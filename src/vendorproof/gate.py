"""The update gate: whether a delivery may be rolled out over what is installed.

Everything ``verify`` checks, plus the update path (``docs/ci.md``):

* ``installed-product``: the vendor that verifiably signed the manifest (its policy id)
  and the manifest's product are those of the installed release;
* ``downgrade``: the delivery's ``securityVersion`` is not lower than the installed
  release's, unless a policy ``rollbackExceptions`` entry names exactly that vendor,
  product and ``securityVersion`` (then a warning, recorded in the report).

The installed release comes from a small state file (``load_installed``) or from the
last accepted delivery of the same vendor and product in an evidence store.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vendorproof._internal import crypto
from vendorproof._internal.jsonio import parse_json, read_document
from vendorproof._internal.yamlio import parse_yaml_mapping
from vendorproof.errors import InvalidInputError, VerificationError
from vendorproof.evidence.store import EvidenceStore, StoredRecord
from vendorproof.intake import ProgressFactory, check_delivery
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models import _fields as f
from vendorproof.models.checks import Check
from vendorproof.models.policy import Policy
from vendorproof.verify.result import CheckResult, Outcome, VerificationReport

if TYPE_CHECKING:
    from vendorproof.evidence.checkpoint import Checkpoint

__all__ = [
    "GateResult",
    "InstalledRelease",
    "InstalledSource",
    "check_update_path",
    "installed_from_store",
    "load_installed",
    "run_gate",
]

_STATE_KEYS = frozenset(
    {"vendor", "product", "version", "securityVersion", "target", "installedAt"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class InstalledRelease:
    """The release that runs on the target, and where that knowledge came from.

    Attributes:
        vendor: the vendor's policy id (as the policy names it, not a display name).
        product: the product name, as the vendor's manifests write it.
        version: the installed version.
        security_version: the installed ``securityVersion``.
        target: where it runs (free text, e.g. a cluster or site name).
        installed_at: when it was installed, if known (RFC 3339 text).
        source: the state file or evidence record it was read from.
    """

    vendor: str
    product: str
    version: str
    security_version: int
    target: str | None = None
    installed_at: str | None = None
    source: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, source: str) -> InstalledRelease:
        """Parse a state document (``schemas/installed-state.schema.json``).

        Raises:
            InvalidInputError: unknown or missing fields, wrong types, a negative
                ``securityVersion`` or a malformed ``installedAt``.
        """
        f.reject_unknown(d, _STATE_KEYS)
        sv = f.require(d, "securityVersion", int)
        if sv < 0:
            raise InvalidInputError("must not be negative", path="securityVersion")
        installed_at = f.optional_str(d, "installedAt", max_len=64)
        if installed_at is not None:
            f.parse_time(installed_at, "installedAt")
        return cls(
            vendor=f.require_str(d, "vendor", max_len=256),
            product=f.require_str(d, "product", max_len=256),
            version=f.require_str(d, "version", max_len=256),
            security_version=sv,
            target=f.optional_str(d, "target", max_len=256),
            installed_at=installed_at,
            source=source,
        )

    def to_dict(self) -> dict[str, Any]:
        """The release as it is named in the gate's reports (``installed``)."""
        data: dict[str, Any] = {
            "vendor": self.vendor,
            "product": self.product,
            "version": self.version,
            "securityVersion": self.security_version,
            "source": self.source,
        }
        if self.target is not None:
            data["target"] = self.target
        if self.installed_at is not None:
            data["installedAt"] = self.installed_at
        return data

    def describe(self) -> str:
        """One line naming the release, where it runs and where that came from."""
        where = f" on {self.target}" if self.target else ""
        return (
            f"{self.vendor} {self.product} {self.version} (securityVersion "
            f"{self.security_version}){where}, from {self.source}"
        )


def load_installed(path: Path, *, limits: Limits = DEFAULT_LIMITS) -> InstalledRelease:
    """Read a state file: JSON when its name ends in ``.json``, else YAML.

    Both go through the strict readers (duplicate keys, aliases, NaN, non-string keys
    and oversized or deeply nested documents are refused).

    Raises:
        InvalidInputError: naming the file and the field.
    """
    raw = read_document(path, limits=limits)
    file = str(path)
    if path.suffix.lower() == ".json":
        data = parse_json(raw, file=file, limits=limits)
        if not isinstance(data, dict):
            raise InvalidInputError("top level must be an object", file=file)
    else:
        data = parse_yaml_mapping(raw, file=file, limits=limits).data
    try:
        return InstalledRelease.from_dict(data, source=f"state file {path.name}")
    except InvalidInputError as e:
        raise e.in_file(file) from e


#: Looks up the installed release for the verified (vendor id, product); a state
#: file ignores the key (the ``installed-product`` check compares it), a store
#: answers None when it has no accepted release of that vendor and product.
InstalledSource = Callable[[str, str], InstalledRelease | None]


def check_update_path(  # noqa: PLR0911 - one return per way the path can end
    report: VerificationReport,
    policy: Policy,
    installed_for: InstalledSource,
) -> tuple[CheckResult, ...]:
    """The ``installed-product`` and ``downgrade`` checks for ``report``'s delivery.

    The delivery's vendor is the verified signer of the manifest
    (``delivery.principal``) when the manifest names that same vendor; a manifest
    no trusted vendor signed has no release line to compare with, and fails.
    """
    d = report.delivery
    sv = d.security_version
    verified = d.verified_vendor
    product = d.product
    subject = f"{d.vendor_id}/{product}"

    def result(check: str, outcome: Outcome, reason: str) -> CheckResult:
        return CheckResult.of(Check(check), subject, outcome, reason)

    if verified is None or product is None or sv is None:
        why = (
            "no manifest signed by the vendor it names: the update path is unknown"
            if verified is None or product is None
            else f"the {d.format} delivery declares no securityVersion: the update "
            "path is unknown"
        )
        return (
            result("installed-product", Outcome.FAIL, why),
            result("downgrade", Outcome.NOT_APPLICABLE, why),
        )
    try:
        installed = installed_for(verified, product)
    except VerificationError as e:
        why = f"installed release unknown: {e}"
        return (
            result("installed-product", Outcome.FAIL, why),
            result("downgrade", Outcome.NOT_APPLICABLE, why),
        )
    if installed is None:
        first = (
            f"no accepted release of {verified}/{product} is installed: first rollout"
        )
        return (
            result("installed-product", Outcome.PASS, first),
            result("downgrade", Outcome.PASS, first),
        )
    name = installed.describe()
    if installed.vendor != verified or installed.product != product:
        why = (
            f"update is {product!r} signed by vendor {verified!r}; installed is "
            f"{installed.product!r} of vendor {installed.vendor!r} ({name})"
        )
        return (
            result("installed-product", Outcome.FAIL, why),
            result("downgrade", Outcome.NOT_APPLICABLE, "different product: " + why),
        )
    same = result("installed-product", Outcome.PASS, f"updates {name}")
    if sv >= installed.security_version:
        return same, result(
            "downgrade",
            Outcome.PASS,
            f"securityVersion {sv} >= {installed.security_version} of the installed "
            f"release {installed.version}",
        )
    for exc in policy.rollback_exceptions:
        if exc.matches(vendor_id=verified, product=product, security_version=sv):
            return same, result(
                "downgrade",
                Outcome.WARN,
                f"securityVersion {sv} < {installed.security_version} of the "
                f"installed release {installed.version}, allowed by policy "
                f"exception: {exc.reason}",
            )
    return same, result(
        "downgrade",
        Outcome.FAIL,
        f"downgrade: securityVersion {sv} is lower than "
        f"{installed.security_version} of the installed release "
        f"{installed.version}, and no policy rollbackExceptions entry names "
        f"securityVersion {sv}",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class GateResult:
    """The report (verify's checks plus the update path) and the installed release."""

    report: VerificationReport
    installed: InstalledRelease | None

    @property
    def accepted(self) -> bool:
        """True only when the report is ``ok`` (fail closed)."""
        return self.report.ok


def run_gate(
    delivery_root: Path,
    policy: Policy,
    *,
    installed_for: InstalledSource,
    at: datetime,
    time_source: str,
    progress: ProgressFactory | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> GateResult:
    """Verify ``delivery_root`` and check the update path from the installed release.

    Raises:
        InvalidInputError: the delivery or one of its statements is malformed.
    """
    report = check_delivery(
        delivery_root,
        policy,
        at=at,
        time_source=time_source,
        progress=progress,
        limits=limits,
    )
    seen: list[InstalledRelease | None] = []

    def lookup(vendor: str, product: str) -> InstalledRelease | None:
        seen.append(installed_for(vendor, product))
        return seen[-1]

    update = check_update_path(report, policy, lookup)
    full = dataclasses.replace(report, checks=(*report.checks, *update))
    return GateResult(report=full, installed=seen[-1] if seen else None)


def installed_from_store(
    store: EvidenceStore, keys: Sequence[crypto.PublicKey]
) -> InstalledSource:
    """The installed release is the last accepted delivery recorded in ``store``.

    Every record is read and only its signed content counts: a record whose operator
    signature (with ``keys``), digest, chain position or index columns do not verify
    is never used, and makes the lookup fail (``VerificationError``), since a record
    the gate cannot read might be the newest accepted release. For the same reason
    the records must form the whole chain: sequence numbers without a gap, each
    record linked to the one before, as many as the stored tree holds, and (with an
    Ed25519 operator key) giving the root of the newest checkpoint that key signed.
    The last record (by sequence) that is signed PASSED for the vendor's policy id
    and the product is the installed release.
    """
    from vendorproof.evidence.intake import verified_record
    from vendorproof.evidence.report_record import ConcentrationRecord

    def lookup(vendor: str, product: str) -> InstalledRelease | None:
        found: InstalledRelease | None = None
        broken: list[str] = []
        chain = _ChainWalk(store, keys)
        for stored in store.records():
            chain.add(stored)
            rec, why = verified_record(stored, keys)
            if rec is None:
                broken.append(f"#{stored.seq} ({why})")
                continue
            if isinstance(rec, ConcentrationRecord):
                continue  # a report record: no delivery was installed
            d = rec.delivery
            sv = d.security_version
            if (
                rec.verdict == "PASSED"
                and d.verified_vendor == vendor
                and d.product == product
                and sv is not None
            ):
                found = InstalledRelease(
                    vendor=vendor,
                    product=product,
                    version=d.version or "",
                    security_version=sv,
                    installed_at=rec.time_verified,
                    source=(
                        f"evidence record #{stored.seq} ({rec.record_id}, sha256 "
                        f"{stored.digest}) in {store.url}"
                    ),
                )
        if broken:
            shown = ", ".join(broken[:5]) + (" ..." if len(broken) > 5 else "")
            raise VerificationError(
                f"{len(broken)} evidence record(s) do not verify with the operator "
                f"key(s): {shown}; the installed release cannot be established "
                "(check the chain with `vendorproof audit replay`)"
            )
        chain.finish()
        return found

    return lookup


class _ChainWalk:
    """The records of a store, in order, checked to be its whole chain."""

    def __init__(self, store: EvidenceStore, keys: Sequence[crypto.PublicKey]) -> None:
        from vendorproof.evidence import tlog

        self._store = store
        self._signed = _newest_signed(store, keys)
        self._edge = tlog.Edge(0, [])
        self._root: bytes | None = None
        if self._signed is not None and self._signed.size == 0:
            self._root = self._edge.root()
        self._last = 0
        self._previous: str | None = None
        self._problem: str | None = None

    def add(self, stored: StoredRecord) -> None:
        from vendorproof.evidence import tlog

        if self._problem is None and stored.seq != self._last + 1:
            self._problem = (
                f"record #{self._last + 1} is missing (the next one is "
                f"#{stored.seq}): records were deleted"
            )
        elif self._problem is None and stored.prev_digest != self._previous:
            self._problem = (
                f"record #{stored.seq} is not linked to record #{self._last}"
            )
        self._last, self._previous = stored.seq, stored.digest
        self._edge.append(tlog.record_leaf(stored.digest))
        if self._signed is not None and self._edge.size == self._signed.size:
            self._root = self._edge.root()

    def finish(self) -> None:
        """Raise ``VerificationError`` unless the records were the whole chain."""
        problem = self._problem
        size = self._store.tree_size()
        signed = self._signed
        if problem is None and size != self._last:
            problem = f"the store's tree holds {size} records, the chain {self._last}"
        if problem is None and signed is not None:
            if signed.size > self._last:
                problem = (
                    f"the operator key signed a checkpoint of size {signed.size}, "
                    f"the store holds {self._last} records: records were deleted"
                )
            elif self._root != signed.root:
                problem = (
                    "the records do not give the root of the checkpoint of size "
                    f"{signed.size} the operator key signed"
                )
        if problem is not None:
            msg = (
                f"{self._store.url}: {problem}; the installed release cannot be "
                "established (check the chain with `vendorproof audit replay`)"
            )
            raise VerificationError(msg)


def _newest_signed(
    store: EvidenceStore, keys: Sequence[crypto.PublicKey]
) -> Checkpoint | None:
    """The newest stored checkpoint an Ed25519 operator key signed, if any."""
    from vendorproof.errors import Error
    from vendorproof.evidence.logcheck import log_verifiers, open_checkpoint

    origin = store.log_origin()
    if not log_verifiers(keys, origin):
        return None  # no Ed25519 operator key: the store has no checkpoints of it
    for note in store.checkpoints():
        try:
            return open_checkpoint(note, keys, origin=origin, file=store.url)
        except Error:
            continue  # another key's, or not a checkpoint
    return None
