"""Test builders: signers from the committed test PKI, statements, deliveries, policies.

Tests build deliveries with the library API (fast) and mutate copies of the committed
sample; every signer and policy here mirrors the sample policy in ``fixtures/``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests import pki
from vendorproof._internal import crypto
from vendorproof._internal.jsonio import dump_json
from vendorproof.models.certification import CERTIFICATION_PREDICATE
from vendorproof.models.declaration import DECLARATION_PREDICATE
from vendorproof.models.manifest import MANIFEST_PREDICATE
from vendorproof.models.statement import STATEMENT_TYPE
from vendorproof.sign import sign_statement

REPO = Path(__file__).resolve().parents[1]
KEYS = REPO / "keys"
SAMPLE_DELIVERY = REPO / "fixtures" / "deliveries" / "acme-gnb-24.1.3"
SAMPLE_POLICY = REPO / "fixtures" / "policies" / "de-5g-catalogue-2020.yaml"
#: A validation time inside every validity window of the sample.
AT = datetime(2026, 6, 1, tzinfo=UTC)
AT_TEXT = "2026-06-01T00:00:00Z"
#: A validation time for the committed sample: after its RFC 3161 timestamp (made when
#: scripts/make-fixtures ran) and inside every validity window.
SAMPLE_AT = datetime(2027, 1, 15, tzinfo=UTC)
SAMPLE_AT_TEXT = "2027-01-15T00:00:00Z"


@dataclass(frozen=True)
class Signer:
    """A signing key with its certificate and shipped intermediates (maybe none)."""

    key: crypto.SigningKey
    cert: x509.Certificate | None = None
    chain: tuple[x509.Certificate, ...] = ()
    co_signers: tuple[crypto.SigningKey, ...] = ()

    def sign(self, statement: Mapping[str, Any] | bytes, **kw: Any) -> bytes:
        raw = statement if isinstance(statement, bytes) else dump_json(statement)
        certs = ((self.cert, *self.chain)) if self.cert is not None else ()
        return dump_json(
            sign_statement(
                raw, self.key, certificates=certs, co_signers=self.co_signers, **kw
            )
        )


def issued(org_dir: str, name: str) -> pki.Issued:
    return pki.load_issued(
        KEYS / org_dir / f"{name}.pem", KEYS / org_dir / f"{name}.key"
    )


def signer_from(leaf: pki.Issued, *chain: pki.Issued) -> Signer:
    key = leaf.key
    assert not isinstance(key, str)
    return Signer(
        key=crypto.as_signing_key(key, file="test"),
        cert=leaf.cert,
        chain=tuple(c.cert for c in chain),
    )


def vendor_a() -> Signer:
    return signer_from(
        issued("vendor-a", "signing"), issued("vendor-a", "intermediate")
    )


def vendor_b() -> Signer:
    return signer_from(
        issued("vendor-b", "signing"), issued("vendor-b", "intermediate")
    )


def certbody() -> Signer:
    return signer_from(issued("certbody", "signing"))


def vendor_a_raw_key() -> Signer:
    data = (KEYS / "vendor-a" / "release.key").read_bytes()
    return Signer(key=crypto.load_private_key(data, None, file="release.key"))


def digests(data: bytes) -> dict[str, str]:
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "sha512": hashlib.sha512(data).hexdigest(),
    }


def statement(
    subjects: Sequence[Mapping[str, Any]], ptype: str, predicate: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "_type": STATEMENT_TYPE,
        "subject": [dict(s) for s in subjects],
        "predicateType": ptype,
        "predicate": dict(predicate),
    }


def manifest_statement(
    files: Mapping[str, bytes],
    *,
    vendor_id: str = "acme",
    vendor_name: str = "Acme Radio Systems GmbH",
    product: str = "AcmeRAN gNB",
    version: str = "24.1.3",
    network_function: str = "gNB",
    domain: str = "RAN",
    kinds: Mapping[str, str] | None = None,
    digest_override: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    comps = []
    for path, data in files.items():
        d = dict((digest_override or {}).get(path) or digests(data))
        comps.append(
            {
                "path": path,
                "kind": (kinds or {}).get(path, "firmware"),
                "size": len(data),
                "digests": d,
            }
        )
    return statement(
        [{"name": c["path"], "digest": c["digests"]} for c in comps],
        MANIFEST_PREDICATE,
        {
            "vendor": {"name": vendor_name, "id": vendor_id},
            "product": product,
            "version": version,
            "securityVersion": 7,
            "networkFunction": network_function,
            "domain": domain,
            "releaseDate": "2026-03-02T09:00:00Z",
            "components": comps,
        },
    )


def certification_statement(
    files: Mapping[str, bytes],
    *,
    scheme: str = "NESAS",
    body_id: str = "example-cb",
    holder_id: str = "acme",
    product: str = "AcmeRAN gNB",
    versions: Sequence[str] = ("24.1.3",),
    valid_from: str = "2026-01-15T00:00:00Z",
    valid_until: str = "2031-01-15T00:00:00Z",
    status: str = "valid",
) -> dict[str, Any]:
    # EUCC ids have a prescribed structure (Art. 11(3)(b) of (EU) 2024/482).
    certificate_id = "EUCC-3090-2026-01-0001" if scheme == "EUCC" else "NESAS-TEST-0001"
    return statement(
        [{"name": p, "digest": digests(d)} for p, d in files.items()],
        CERTIFICATION_PREDICATE,
        {
            "scheme": {"name": scheme, "version": "2.1"},
            "certificateId": certificate_id,
            "certificationBody": {
                "name": "Example Certification Body GmbH",
                "id": body_id,
            },
            "holder": {"name": "Acme Radio Systems GmbH", "id": holder_id},
            "product": {"name": product, "category": "gNB", "versions": list(versions)},
            "scope": "default configuration",
            "conformance": ["3GPP TS 33.511"],
            "reports": [],
            "validFrom": valid_from,
            "validUntil": valid_until,
            "status": {"value": status},
        },
    )


def declaration_statement(
    *,
    vendor_id: str = "acme",
    products: Sequence[str] = ("AcmeRAN *",),
    issued_at: str = "2026-01-02T00:00:00Z",
    valid_until: str = "2031-12-31T23:59:59Z",
) -> dict[str, Any]:
    predicate = {
        "vendor": {"name": "Acme Radio Systems GmbH", "id": vendor_id},
        "legalEntity": "Acme Radio Systems GmbH",
        "products": list(products),
        "issuedAt": issued_at,
        "validUntil": valid_until,
        "signatory": {"name": "E. Mustermann", "role": "CPSO"},
        "commitments": ["no sabotage"],
        "legalBasis": "§9b BSIG (2021)",
    }
    return statement(
        [{"name": f"trust-declaration:{vendor_id}", "digest": {"sha256": "0" * 64}}],
        DECLARATION_PREDICATE,
        predicate,
    )


#: Payload of a small delivery used by most verification tests.
FILES: dict[str, bytes] = {
    "images/du.img": b"\x7fELF du image " * 4096,
    "images/cu.img": b"\x7fELF cu image " * 3000,
    "config/site.yaml": b"cell: {band: n78}\n",
}
KINDS = {"config/site.yaml": "config"}


@dataclass
class DeliveryBuilder:
    """A delivery directory under construction (good by default)."""

    root: Path
    files: dict[str, bytes] = field(default_factory=lambda: dict(FILES))

    def write_payload(self) -> None:
        for rel, data in self.files.items():
            p = self.root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)

    def attest(self, name: str, data: bytes) -> Path:
        p = self.root / "attestations" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        return p

    def standard(
        self,
        *,
        manifest_signer: Signer | None = None,
        manifest: Mapping[str, Any] | None = None,
        certification: Mapping[str, Any] | None = None,
        cert_signer: Signer | None = None,
        declaration: Mapping[str, Any] | None = None,
        declaration_signer: Signer | None = None,
    ) -> DeliveryBuilder:
        """Write payload, signed manifest, certification and declaration."""
        self.write_payload()
        certified = {k: v for k, v in self.files.items() if k.startswith("images/")}
        self.attest(
            "manifest.sigstore.json",
            (manifest_signer or vendor_a()).sign(
                manifest or manifest_statement(self.files, kinds=KINDS)
            ),
        )
        self.attest(
            "certification.sigstore.json",
            (cert_signer or certbody()).sign(
                certification or certification_statement(certified)
            ),
        )
        self.attest(
            "declaration.sigstore.json",
            (declaration_signer or vendor_a()).sign(
                declaration or declaration_statement()
            ),
        )
        return self


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def policy_data() -> dict[str, Any]:
    """The sample policy as data, with absolute key paths (for rewriting in tests)."""
    data: dict[str, Any] = yaml.safe_load(SAMPLE_POLICY.read_text(encoding="utf-8"))
    base = SAMPLE_POLICY.parent

    def fix(refs: list[str]) -> list[str]:
        return [str((base / r).resolve()) for r in refs]

    for section in ("vendors", "certificationBodies", "timestampAuthorities"):
        for p in data.get(section) or []:
            for k in ("anchors", "intermediates", "publicKeys"):
                if k in p:
                    p[k] = fix(p[k])
    if "revocation" in data:
        data["revocation"]["crls"] = fix(data["revocation"]["crls"])
    data["denyList"][0]["effective"] = "2026-01-01T00:00:00Z"
    return data


def write_policy(path: Path, data: Mapping[str, Any] | None = None) -> Path:
    path.write_text(
        yaml.safe_dump(dict(data or policy_data()), sort_keys=False), encoding="utf-8"
    )
    return path


def copy_sample(dest: Path) -> Path:
    shutil.copytree(SAMPLE_DELIVERY, dest)
    return dest


def bundle_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_bytes())
    return data
