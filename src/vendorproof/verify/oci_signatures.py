"""The detached-signature verifier for OCI image layouts (kind ``oci``).

The OCI adapter (``formats/oci/``) hands over every Notation and cosign signature
it found over the signed manifest as one ``DetachedSignature``; this verifier checks
them against the manifest bytes in hand: the target (media type, digest, size) is
computed from those bytes, never taken from the signature. Each signature is
verified by its own verifier (``verify.notation``, ``verify.cosign``), and every one
that verifies counts: the first establishes the vendor, and each distinct key of a
verified signature is handed to the k-of-n rule (``SignerCheck.signers``,
``signatureRequirements.manifest``). A signature of a kind its signer may not use
(the vendor's ``imageSignatures``) does not count and is reported as a warning.
Signatures that do not verify beside a verified one are not held against the image
(anyone with access to a registry can attach a referrer), but the layout blobs they
consist of (entry ``files``), which the adapter took out of the payload as signature
material, are then unaccounted for: each is an ``unlisted-files`` check, ``warn`` or
``fail`` as the policy's ``unlistedFiles`` says. When none verifies, the checks of
every attempt are reported.

The target is computed from the manifest bytes in hand (digest, size); its media
type is the document's own ``mediaType``, else (the field is only a SHOULD in the
image specification) that of the descriptor naming it in ``index.json``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from vendorproof._internal.jsonio import parse_json
from vendorproof._internal.text import shorten
from vendorproof.errors import InvalidInputError
from vendorproof.models.checks import Check, CheckResult, Outcome
from vendorproof.models.delivery import DetachedSignature
from vendorproof.models.policy import Policy, Principal, UnlistedFiles
from vendorproof.verify.cosign import verify_cosign_bundle, verify_simple_signing
from vendorproof.verify.notation import (
    MEDIA_COSE,
    MEDIA_JWS,
    Target,
    verify_notation,
)
from vendorproof.verify.signer import SignerCheck

__all__ = ["verify_oci_signatures"]

_BUNDLE_TYPES = frozenset(
    {
        "application/vnd.dev.sigstore.bundle.v0.3+json",
        "application/vnd.dev.sigstore.bundle+json;version=0.3",
    }
)
_SIMPLE = "application/vnd.dev.cosign.simplesigning.v1+json"
_NOTATION = "notation"  # the signature kinds of ``imageSignatures``
_COSIGN = "cosign"


def _fail(file: str, reason: str, requirements: tuple[str, ...]) -> SignerCheck:
    bad = CheckResult.of(Check.SIGNATURE, file, Outcome.FAIL, reason, requirements)
    return SignerCheck(checks=(bad,), principal=None)


def _entries(signature: DetachedSignature) -> tuple[list[dict[str, Any]], object]:
    """The signature entries, and the media type of the signed document's descriptor."""
    data = parse_json(signature.data, file=signature.file)
    entries = data.get("signatures") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        msg = "no signature list"
        raise InvalidInputError(msg, file=signature.file)
    target = data.get("target")
    given = target.get("mediaType") if isinstance(target, dict) else None
    return [e for e in entries if isinstance(e, dict)], given


def _media_type(content: bytes, file: str, given: object) -> str:
    """The media type that is signed: the one of the descriptor naming the document.

    An image manifest or index SHOULD carry its own ``mediaType`` (image-spec
    ``manifest.md``, ``image-index.md``), so it may be absent: the descriptor in
    ``index.json`` gives it, and Notation signs that descriptor. When the document
    has the field, it must agree.

    Raises:
        InvalidInputError: neither gives a media type, or they differ.
    """
    data = parse_json(content, file=file)
    own = data.get("mediaType") if isinstance(data, dict) else None
    if own is not None and given is not None and own != given:
        msg = f"mediaType {own!r} differs from its descriptor's {given!r}"
        raise InvalidInputError(msg, file=file, path="mediaType")
    media_type = own if own is not None else given
    if not isinstance(media_type, str) or not media_type:
        msg = "no media type: neither the document nor its descriptor gives one"
        raise InvalidInputError(msg, file=file, path="mediaType")
    return media_type


def verify_oci_signatures(
    signature: DetachedSignature,
    *,
    content: bytes | None,
    measured: Mapping[str, str] | None,  # noqa: ARG001 - manifests come as content
    principals: Sequence[Principal],
    role: str,
    policy: Policy,
    at: datetime,
    time_source: str,
    requirements: tuple[str, ...],
) -> SignerCheck:
    """Verify the signatures over the manifest ``content``; see the module doc."""
    if content is None:
        return _fail(signature.file, "no manifest bytes to verify", requirements)
    try:
        entries, given = _entries(signature)
        media_type = _media_type(content, signature.target, given)
    except InvalidInputError as e:
        return _fail(signature.file, str(e), requirements)
    # What is signed is computed from the bytes in hand.
    target = Target(
        media_type=media_type,
        digest="sha256:" + hashlib.sha256(content).hexdigest(),
        size=len(content),
    )
    attempts: list[CheckResult] = []
    verified: list[tuple[str, str, SignerCheck]] = []  # (blob, kind, result)
    files = _Files()
    for entry in entries:
        blob = str(entry.get("blob", signature.file))
        try:
            raw = base64.b64decode(str(entry.get("data", "")), validate=True)
        except (binascii.Error, ValueError):
            attempts.extend(_fail(blob, "not base64", requirements).checks)
            files.failed(entry, "not base64")
            continue
        kind = entry.get("mediaType")
        common: dict[str, Any] = {
            "file": blob,
            "target": target,
            "principals": principals,
            "role": role,
            "policy": policy,
            "at": at,
            "time_source": time_source,
            "requirements": requirements,
        }
        family = _COSIGN
        if kind in {MEDIA_JWS, MEDIA_COSE}:
            family = _NOTATION
            result = verify_notation(raw, str(kind), **common)
        elif kind in _BUNDLE_TYPES:
            result = verify_cosign_bundle(raw, **common)
        elif kind == _SIMPLE:
            annotations = entry.get("annotations")
            result = verify_simple_signing(
                raw,
                annotations if isinstance(annotations, dict) else {},
                **common,
            )
        elif kind is None:
            result = _fail(
                blob,
                "neither a JWS JSON (application/jose+json) nor a COSE_Sign1 "
                "(application/cose) Notation envelope",
                requirements,
            )
        else:
            result = _fail(blob, f"unknown signature media type {kind!r}", requirements)
        if result.ok:
            verified.append((blob, family, result))
            files.verified(entry)
        else:
            attempts.extend(result.checks)
            files.failed(entry, _first_failure(result))
    counted = _counted(signature.file, verified, attempts, requirements)
    if counted.principal is None:
        return counted
    # Beside a counted signature the others are not held against the image, but
    # their blobs were taken out of the payload as signature material: one that
    # did not verify is no more accounted for than any other unlisted file.
    return replace(counted, checks=(*counted.checks, *files.unlisted(policy)))


def _first_failure(result: SignerCheck) -> str:
    return next(
        (c.reason for c in result.checks if c.outcome is Outcome.FAIL), "not verified"
    )


class _Files:
    """The layout blobs of each signature (entry ``files``): verified or not."""

    def __init__(self) -> None:
        self.good: set[str] = set()
        self.bad: dict[str, str] = {}  # blob -> why its signature did not verify

    def verified(self, entry: Mapping[str, Any]) -> None:
        self.good.update(_files(entry))

    def failed(self, entry: Mapping[str, Any], why: str) -> None:
        for name in _files(entry):
            self.bad.setdefault(name, why)

    def unlisted(self, policy: Policy) -> list[CheckResult]:
        """An ``unlisted-files`` check per blob only of signatures that failed."""
        outcome = (
            Outcome.WARN
            if policy.unlisted_files is UnlistedFiles.WARN
            else Outcome.FAIL
        )
        return [
            CheckResult.of(
                Check.UNLISTED_FILES,
                name,
                outcome,
                f"blob of a signature that did not verify "
                f"({shorten(why, _REASON_CHARS)}), not listed in the manifest "
                f"(policy: unlistedFiles={policy.unlisted_files.value})",
            )
            for name, why in sorted(self.bad.items())
            if name not in self.good
        ]


_REASON_CHARS = 120


def _files(entry: Mapping[str, Any]) -> list[str]:
    """The layout blobs an entry's signature consists of (none for a given file)."""
    files = entry.get("files")
    if not isinstance(files, list):
        return []
    return [f for f in files if isinstance(f, str)]


def _counted(
    file: str,
    verified: Sequence[tuple[str, str, SignerCheck]],
    attempts: Sequence[CheckResult],
    requirements: tuple[str, ...],
) -> SignerCheck:
    """The image's signer: every verified signature of a kind its signer may use."""
    counted: list[SignerCheck] = []
    refused: list[CheckResult] = []
    for blob, family, result in verified:
        p = result.principal
        if p is None:  # pragma: no cover - ok implies a principal
            continue
        if family in p.image_signatures:
            counted.append(result)
            continue
        allowed = ", ".join(sorted(p.image_signatures))
        refused.append(
            CheckResult.of(
                Check.SIGNATURE,
                blob,
                Outcome.WARN,
                f"a {family} signature of vendor {p.id!r}, which may sign images "
                f"only with {allowed} (imageSignatures): not counted",
                requirements,
            )
        )
    if not counted:
        bad = [replace(c, outcome=Outcome.FAIL) for c in refused]
        if not attempts and not bad:
            return _fail(file, "no signature over the manifest", requirements)
        return SignerCheck(checks=(*attempts, *bad), principal=None)
    primary = counted[0]
    signers = {(r.key_id, r.principal.id) for r in counted if r.key_id and r.principal}
    return SignerCheck(
        checks=(*(c for r in counted for c in r.checks), *refused),
        principal=primary.principal,
        anchors=tuple(dict.fromkeys(a for r in counted for a in r.anchors)),
        key_id=primary.key_id,
        signers=tuple(sorted(signers)),
    )
