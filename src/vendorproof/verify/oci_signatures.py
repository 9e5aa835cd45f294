"""The detached-signature verifier for OCI image layouts (kind ``oci``).

The OCI adapter (``formats/oci.py``) hands over every Notation and cosign signature
it found over the signed manifest as one ``DetachedSignature``; this verifier checks
them against the manifest bytes in hand: the target (media type, digest, size) is
computed from those bytes, never taken from the signature. Each signature is
verified by its own verifier (``verify.notation``, ``verify.cosign``); the first one
that establishes a trusted vendor decides. Signatures that do not verify beside it
are not held against the image (anyone with access to a registry can attach a
referrer); when none verifies, the checks of every attempt are reported.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from vendorproof._internal.jsonio import parse_json
from vendorproof.errors import InvalidInputError
from vendorproof.models.checks import Check, CheckResult, Outcome
from vendorproof.models.delivery import DetachedSignature
from vendorproof.models.policy import Policy, Principal
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


def _fail(file: str, reason: str, requirements: tuple[str, ...]) -> SignerCheck:
    bad = CheckResult.of(Check.SIGNATURE, file, Outcome.FAIL, reason, requirements)
    return SignerCheck(checks=(bad,), principal=None)


def _entries(signature: DetachedSignature) -> list[dict[str, Any]]:
    data = parse_json(signature.data, file=signature.file)
    entries = data.get("signatures") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        msg = "no signature list"
        raise InvalidInputError(msg, file=signature.file)
    return [e for e in entries if isinstance(e, dict)]


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
        entries = _entries(signature)
    except InvalidInputError as e:
        return _fail(signature.file, str(e), requirements)
    # What is signed is computed from the bytes in hand.
    data = parse_json(content, file=signature.target)
    media_type = data.get("mediaType") if isinstance(data, dict) else None
    target = Target(
        media_type=media_type
        if isinstance(media_type, str)
        else "application/vnd.oci.image.manifest.v1+json",
        digest="sha256:" + hashlib.sha256(content).hexdigest(),
        size=len(content),
    )
    attempts: list[CheckResult] = []
    for entry in entries:
        blob = str(entry.get("blob", signature.file))
        try:
            raw = base64.b64decode(str(entry.get("data", "")), validate=True)
        except (binascii.Error, ValueError):
            attempts.extend(_fail(blob, "not base64", requirements).checks)
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
        if kind in {MEDIA_JWS, MEDIA_COSE}:
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
            return result
        attempts.extend(result.checks)
    if not attempts:
        return _fail(signature.file, "no signature over the manifest", requirements)
    return SignerCheck(checks=tuple(attempts), principal=None)
