"""Detached CMS signatures as vendors make them (``openssl cms -sign``), and policies.

Shared by the CMS signer and SOL 004 tests: signing with the openssl CLI, adding an
RFC 3161 signature timestamp token as an unsigned attribute, and a minimal
:class:`~vendorproof.models.policy.Policy` built in code.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from asn1crypto import cms as asn1_cms
from cryptography import x509

from vendorproof._internal import crypto
from vendorproof.models.policy import (
    CertificateProfile,
    Identity,
    Policy,
    Principal,
    RevocationMode,
    UnlistedFiles,
)

_TIMEOUT = 60


def openssl_cms_sign(
    tmp: Path,
    content: bytes,
    cert: Path,
    key: Path,
    *args: str,
    outform: str = "PEM",
) -> bytes:
    """``openssl cms -sign -binary`` over ``content`` (detached), as SOL 004 shows."""
    src = tmp / "signed-content.bin"
    src.write_bytes(content)
    cmd = [
        "openssl", "cms", "-sign", "-binary", "-in", str(src), "-outform", outform,
        "-signer", str(cert), "-inkey", str(key), *args,
    ]  # fmt: skip
    return subprocess.run(cmd, check=True, capture_output=True, timeout=_TIMEOUT).stdout


def _der(cms: bytes) -> bytes:
    text = cms.strip()
    if not text.startswith(b"-----BEGIN"):
        return cms
    import base64

    body = b"".join(line for line in text.splitlines() if not line.startswith(b"-----"))
    return base64.b64decode(body)


def signature_value(cms: bytes) -> bytes:
    """The SignerInfo's signature value (what a signature timestamp covers)."""
    info = asn1_cms.ContentInfo.load(_der(cms))
    return bytes(info["content"]["signer_infos"][0]["signature"].native)


def with_timestamp(cms: bytes, responses: Sequence[bytes]) -> bytes:
    """``cms`` (DER) with id-aa-signatureTimeStampToken attributes (RFC 3161 App. A).

    ``responses`` are DER ``TimeStampResp``; their tokens become the values.
    """
    from asn1crypto import tsp

    info = asn1_cms.ContentInfo.load(_der(cms))
    signer = info["content"]["signer_infos"][0]
    tokens = [tsp.TimeStampResp.load(r)["time_stamp_token"] for r in responses]
    signer["unsigned_attrs"] = asn1_cms.CMSAttributes(
        [{"type": "signature_time_stamp_token", "values": tokens}]
    )
    der: bytes = info.dump(force=False)
    return der


def principal(
    anchors: Sequence[x509.Certificate],
    *,
    subject: str,
    pid: str = "vendor-1",
    role: str = "vendor",
    intermediates: Sequence[x509.Certificate] = (),
    profile: CertificateProfile = CertificateProfile.STRICT,
    require_timestamp: bool = False,
    detached: Sequence[str] = (),
) -> Principal:
    """A principal pinning ``anchors``, signers allowed by the DN pattern ``subject``."""
    return Principal(
        role=role,
        id=pid,
        name=pid.title(),
        anchors=tuple(anchors),
        intermediates=tuple(intermediates),
        identities=(Identity(subject=subject, san=None),),
        public_keys={},
        require_timestamp=require_timestamp,
        certificate_profile=profile,
        detached_signatures=tuple(detached),
    )


def policy(
    vendors: Sequence[Principal],
    *,
    tsas: Sequence[Principal] = (),
    crls: Sequence[x509.CertificateRevocationList] = (),
    mode: RevocationMode = RevocationMode.IF_AVAILABLE,
    min_rsa_bits: int = crypto.MIN_RSA_BITS,
) -> Policy:
    """A policy with these vendors, TSAs and CRLs (other sections empty)."""
    return Policy(
        id="cms-test",
        version="1",
        legal_basis="test",
        description="",
        signature_algorithms=crypto.SIGNATURE_ALGORITHMS,
        digest_algorithms=frozenset({"sha256", "sha512"}),
        min_rsa_bits=min_rsa_bits,
        vendors=tuple(vendors),
        certification_bodies=(),
        certification_rules=(),
        trust_declaration_required=False,
        unlisted_files=UnlistedFiles.FAIL,
        deny_list=(),
        timestamp_authorities=tuple(tsas),
        revocation_mode=mode,
        crls=tuple(crls),
        raw=b"policy",
        referenced={},
    )
