"""Test builders for the operator's certification register: a source PDF, an
operator role key, records, and a policy that names the register."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests import pki
from tests.builders import FILES, digests, policy_data, write_policy
from vendorproof._internal import crypto
from vendorproof.intake import add_record
from vendorproof.models.certification_record import (
    CertificationRecord,
    Deliverable,
    source_digest,
)

ROLE = "certification-desk"


def sample_pdf(text: str) -> bytes:
    """A small, well-formed PDF 1.4 page showing ``text`` (ISO 32000-1 §7.5)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
        ),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


PDF = sample_pdf("NESAS evaluation report NESAS-2026-0042: AcmeRAN gNB 24.1.3")


def desk_key(directory: Path, kind: pki.KeyKind = "ecdsa-p256") -> crypto.SigningKey:
    """A new operator role key; its public half is ``directory/desk.pub``."""
    key = pki.new_key(kind)
    pki.write_pem(directory / "desk.pub", pki.public_key_pem(key))
    pki.write_pem(directory / "desk.key", pki.private_key_pem(key))
    assert not isinstance(key, str)
    return crypto.as_signing_key(key, file="desk.key")


def record(**kw: Any) -> CertificationRecord:
    """A record of the NESAS certificate of the test delivery's images."""
    fields: dict[str, Any] = {
        "role": ROLE,
        "scheme": "NESAS",
        "certificate_id": "NESAS-2026-0042",
        "body_name": "Example Audit Lab GmbH",
        "body_accreditation": "GSMA-NESAS-AL-0007",
        "holder": "acme",
        "product": "AcmeRAN gNB",
        "versions": ("24.1.3",),
        "assurance_level": None,
        "issued": datetime(2026, 1, 10, tzinfo=UTC),
        "valid_from": datetime(2026, 1, 15, tzinfo=UTC),
        "valid_until": datetime(2031, 1, 15, tzinfo=UTC),
        "status_url": None,
        "deliverables": tuple(
            Deliverable(name=p, digest=digests(d))
            for p, d in FILES.items()
            if p.startswith("images/")
        ),
        "source_name": "nesas-report.pdf",
        "source_sha256": source_digest(PDF),
    }
    fields.update(kw)
    return CertificationRecord(**fields)


def register_policy(directory: Path, *, records: dict[str, Any] | None = None) -> Path:
    """The sample policy with a certification register under ``directory``."""
    data = policy_data()
    data["certification"]["records"] = {
        "role": ROLE,
        "publicKeys": [str(directory / "desk.pub")],
        "schemes": ["NESAS", "CC"],
        "register": "register",
        **(records or {}),
    }
    return write_policy(directory / "policy.yaml", data)


def add(
    directory: Path,
    key: crypto.SigningKey,
    rec: CertificationRecord | None = None,
    source: bytes = PDF,
) -> Path:
    """Add ``rec`` (default: :func:`record`) to the register under ``directory``."""
    rec = rec or record()
    if source is not PDF:
        rec = dataclasses.replace(rec, source_sha256=source_digest(source))
    return add_record(directory / "register", rec, source, key, force=True)
