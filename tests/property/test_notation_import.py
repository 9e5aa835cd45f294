"""Property tests: importing a Notation trust policy (``policy import-notation``).

Mutants of a valid ``trustpolicy.json`` (three statements: a ``ca`` store with a TSA,
a ``signingAuthority`` store with ``*``, a ``skip``), edited as a JSON tree and with
odd ``x509.subject`` DNs, and of its trust store directory (a certificate file's
bytes edited as DER, PEM or raw bytes, a file renamed, replaced by a directory, a
link or a FIFO, a store emptied or removed) go through ``import_notation_policy``, which reads
the store, writes the vendorproof policy and parses it back. The result is an
imported policy or a project error, never another exception.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from tests.builders import issued
from tests.oci import alpine_certificate
from tests.property import _seeds as seeds
from tests.property._harness import parses
from tests.property._mutate import (
    byte_mutations,
    der_documents,
    edited_json,
    json_documents,
    resigned_der,
)
from vendorproof.intake import import_notation_policy

_ALPINE_DN = "x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN=alpine"
_TRUST_POLICY: dict[str, Any] = {
    "version": "1.0",
    "trustPolicies": [
        {
            "name": "notary",
            "registryScopes": ["*"],
            "signatureVerification": {
                "level": "strict",
                "override": {"revocation": "log"},
            },
            "trustStores": ["ca:alpine", "tsa:acme-tsa"],
            "trustedIdentities": [_ALPINE_DN],
        },
        {
            "name": "acme",
            "registryScopes": ["localhost:5000/acme"],
            "signatureVerification": {
                "level": "audit",
                "verifyTimestamp": "afterCertExpiry",
            },
            "trustStores": ["signingAuthority:acme-sa", "tsa:acme-tsa"],
            "trustedIdentities": ["*"],
        },
        {
            "name": "unsigned",
            "registryScopes": ["localhost:5000/unsigned"],
            "signatureVerification": {"level": "skip"},
        },
    ],
}
#: (store directory under x509/, file name) -> DER of the certificate in it.
_STORE_FILES = {
    ("ca/alpine", "alpine.crt"): "der",
    ("signingAuthority/acme-sa", "root.pem"): "pem",
    ("tsa/acme-tsa", "tsa.cer"): "pem",
}


@functools.cache
def _certificates() -> dict[str, bytes]:
    """The DER of each store's certificate, by store directory."""
    root = issued("vendor-a", "root").cert.public_bytes(serialization.Encoding.DER)
    alpine = alpine_certificate().public_bytes(serialization.Encoding.DER)
    return {"ca/alpine": alpine, "signingAuthority/acme-sa": root, "tsa/acme-tsa": root}


def _sign_as_root(tbs: bytes) -> bytes:
    """Sign an edited TBS again with the vendor root's own key (self-signed)."""
    key = seeds.issuer_key("vendor-a", "root")
    # Deterministic (RFC 6979): Hypothesis replays an example and must draw the same.
    return key.sign(tbs, ec.ECDSA(hashes.SHA384(), deterministic_signing=True))


def _pem(der: bytes) -> bytes:
    body = base64.encodebytes(der)
    return b"-----BEGIN CERTIFICATE-----\n" + body + b"-----END CERTIFICATE-----\n"


def _store_files() -> dict[str, bytes]:
    """The trust store as relative path -> bytes."""
    out = {}
    for (where, name), form in _STORE_FILES.items():
        der = _certificates()[where]
        out[f"x509/{where}/{name}"] = der if form == "der" else _pem(der)
    return out


@dataclass(frozen=True)
class _Inputs:
    """A trust policy and its trust store; the repr lists the store edits."""

    trust_policy: bytes
    edits: tuple[str, ...]
    files: dict[str, bytes | None] = field(repr=False)  # None: a directory
    links: dict[str, str] = field(default_factory=dict)  # "": a FIFO


_ODD_DNS = st.sampled_from(
    [
        "x509.subject:",
        "x509.subject: ",
        "x509.subject: C=US",
        "x509.subject: C=US, ST=WA, O=Notary, CN=a+OU=b",
        "x509.subject: C=US, ST=WA, O=Notary, CN=*",
        "x509.subject: C=US, ST=WA, O=Notary, CN=alpine, CN=other",
        "x509.subject: C=US, ST=WA, O=Notary\\",
        "x509.subject: C=US, ST=WA, O=Notary, CN=\\",
        "x509.subject: C=US, ST=WA, O=Notary, CN=\\zz",
        "x509.subject: C=US, ST=WA, O=Notary, CN=#0403616263",
        "x509.subject: C=US, ST=WA, O=Notary, CN=#zz",
        "x509.subject: C=US, ST=WA, O=Notary, 2.5.4.3=alpine",
        "x509.subject: C=US, ST=WA, O=Notary, 1.2.3.4=#00",
        "x509.subject: C=US, ST=WA, O=Notary, BOGUS=x",
        "x509.subject: C=US, ST=WA, O=Notary, =x",
        "x509.subject: C=US, ST=WA, O=Notary, CN=",
        "x509.subject: C=US, ST=WA, O=Notary, CN=a\\, b",
        "x509.subject: C=US, ST=WA, O=Notary, CN=a\\2",
        "x509.subject: C=US, ST=WA, O=Notary, CN=\x00",
        "x509.subject: C=US, ST=WA, O=Notary, CN=\u202e",
        "x509.subject: C=US;ST=WA;O=Notary",
        "x509.subject: ,,,",
        "x509.subject: C=US, ST=WA, O=" + "N" * 5000,
        "x509.issuer: C=US",
        "*",
        "",
    ]
)


@st.composite
def _trust_policies(draw: st.DrawFn) -> bytes:
    doc = json.loads(json.dumps(_TRUST_POLICY))
    if draw(st.booleans()):
        statement = draw(st.sampled_from(doc["trustPolicies"][:2]))
        identities = draw(st.lists(_ODD_DNS, min_size=1, max_size=3))
        statement["trustedIdentities"] = draw(
            st.sampled_from([identities, [_ALPINE_DN, *identities]])
        )
    if draw(st.booleans()):
        doc = draw(edited_json(doc, max_edits=3))
    return json.dumps(doc).encode("utf-8", "surrogatepass")


@st.composite
def _inputs(draw: st.DrawFn) -> _Inputs:
    trust_policy = draw(
        st.one_of(
            _trust_policies(),
            _trust_policies(),
            json_documents(_TRUST_POLICY, max_edits=3),
            byte_mutations(json.dumps(_TRUST_POLICY).encode()),
        )
    )
    files: dict[str, bytes | None] = dict(_store_files())
    links: dict[str, str] = {}
    edits: list[str] = []
    for _ in range(draw(st.integers(0, 2))):
        (where, name), form = draw(st.sampled_from(sorted(_STORE_FILES.items())))
        path = f"x509/{where}/{name}"
        edit = draw(
            st.sampled_from(
                [
                    "der",
                    "pem",
                    "bytes",
                    "rename",
                    "dir",
                    "link",
                    "fifo",
                    "extra",
                    "empty",
                ]
            )
        )
        der = _certificates()[where]
        if edit == "der":
            resign = where != "ca/alpine" and draw(st.booleans())  # root key known
            new = draw(
                resigned_der(der, _sign_as_root) if resign else der_documents(der)
            )
            files[path] = new if form == "der" else _pem(new)
        elif edit == "pem":
            files[path] = draw(
                st.sampled_from(
                    [
                        b"",
                        b"-----BEGIN CERTIFICATE-----\n",
                        b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
                        _pem(der) + b"-----BEGIN CERTIFICATE-----\nAAAA",
                        _pem(der) * 3,
                        _pem(b"\x30\x00"),
                        _pem(der).replace(b"CERTIFICATE", b"PUBLIC KEY"),
                        b"\xff\xfe" + _pem(der),
                    ]
                )
            )
        elif edit == "bytes":
            files[path] = draw(byte_mutations(files.get(path) or der))
        elif edit == "rename":
            new_name = draw(
                st.sampled_from(["x.PEM", "x.Crt", "x.txt", ".pem", "x.pem.bak"])
            )
            files[f"x509/{where}/{new_name}"] = files.pop(path, None)
        elif edit == "dir":
            files[path] = None
        elif edit == "link":
            files.pop(path, None)
            links[path] = draw(st.sampled_from(["/etc/passwd", "../alpine", "x"]))
        elif edit == "fifo":
            files.pop(path, None)
            links[path] = ""  # an empty link target: a FIFO
        elif edit == "extra":
            files[f"x509/{where}/{draw(st.sampled_from(['sub/x.pem', 'y.cer']))}"] = (
                draw(st.binary(max_size=64))
            )
        else:
            for p in [p for p in files if p.startswith(f"x509/{where}/")]:
                del files[p]
            files[f"x509/{where}"] = None
        edits.append(f"{edit} {path}")
    return _Inputs(trust_policy, tuple(edits), files, links)


def _import(inputs: _Inputs) -> None:
    with tempfile.TemporaryDirectory() as work:
        trust_policy = Path(work) / "trustpolicy.json"
        trust_policy.write_bytes(inputs.trust_policy)
        store = Path(work) / "trust-store"
        store.mkdir()
        for rel, data in sorted(inputs.files.items(), key=lambda i: i[0]):
            path = store / rel
            if data is None:
                shutil.rmtree(path, ignore_errors=True)
                path.unlink(missing_ok=True) if path.is_symlink() else None
                path.mkdir(parents=True, exist_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.is_dir():
                path.write_bytes(data)
        for rel, target in inputs.links.items():
            path = store / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists() or path.is_symlink():
                continue
            if target:
                path.symlink_to(target)
            else:
                os.mkfifo(path)
        result = import_notation_policy(
            trust_policy, store, policy_id="imported", legal_basis="test"
        )
        assert result.vendors


@given(_inputs())
def test_notation_import(inputs: _Inputs) -> None:
    size = len(inputs.trust_policy) + sum(len(d or b"") for d in inputs.files.values())
    parses(_import, inputs, input_size=size)


def test_the_unedited_trust_policy_imports() -> None:
    """The seed imports, so the mutants start from a trust policy that does."""
    inputs = _Inputs(json.dumps(_TRUST_POLICY).encode(), (), dict(_store_files()))
    _import(inputs)
    assert seeds.scratch().is_dir()
