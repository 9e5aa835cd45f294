"""Classic in-toto verification of a delivery's ``in-toto/`` directory.

Every key, layout and link is generated here, in tmp_path, with the in-toto and
securesystemslib APIs: a layout signed by the vendor's owner key with one step
``build`` performed by a functionary, plain (Metablock) or DSSE.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from in_toto import runlib
from in_toto.models.layout import Inspection, Layout, Step
from in_toto.models.link import FILENAME_FORMAT, Link
from in_toto.models.metadata import Envelope, Metablock
from securesystemslib.signer import CryptoSigner, SSlibKey  # type: ignore[attr-defined]

from vendorproof.errors import (
    AlgorithmError,
    InvalidInputError,
    PolicyViolationError,
    SignatureError,
    VerificationError,
)
from vendorproof.limits import Limits
from vendorproof.verify import intoto
from vendorproof.verify.context import Timeouts
from vendorproof.verify.intoto import verify_in_toto

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

OWNER_KEY = ed25519.Ed25519PrivateKey.generate()
OTHER_KEY = ed25519.Ed25519PrivateKey.generate()
FUNCTIONARY_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)

FUTURE = (datetime.now(UTC) + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
PAST = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
FILES = {"app.bin": b"firmware v1\n", "docs/README.txt": b"read me\n"}
BUILD_PRODUCTS = [
    ["CREATE", "app.bin"],
    ["CREATE", "docs/README.txt"],
    ["DISALLOW", "*"],
]
FORMATS = ["metablock", "dsse"]


def signer_for(key: PrivateKey, scheme: str | None = None) -> Any:
    return CryptoSigner(key, SSlibKey.from_crypto(key.public_key(), scheme=scheme))


def pem(key: PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_dict(signer: Any) -> dict[str, Any]:
    d: dict[str, Any] = signer.public_key.to_dict()
    d["keyid"] = signer.public_key.keyid
    return d


OWNER = signer_for(OWNER_KEY)
FUNCTIONARY = signer_for(FUNCTIONARY_KEY)


def write_metadata(signable: Any, signer: Any, path: Path, fmt: str) -> None:
    metadata = (
        Envelope.from_signable(signable)
        if fmt == "dsse"
        else Metablock(signed=signable)
    )
    metadata.create_signature(signer)
    metadata.dump(str(path))


def link_path(root: Path, step: str, signer: Any) -> Path:
    name = str(FILENAME_FORMAT.format(step_name=step, keyid=signer.public_key.keyid))
    return root / "in-toto" / name


def digests(root: Path, names: list[str]) -> dict[str, dict[str, str]]:
    return {
        n: {"sha256": hashlib.sha256((root / n).read_bytes()).hexdigest()}
        for n in names
    }


def inspection(code: str, *, name: str = "check") -> Any:
    """An inspection running ``python -c code``; the delivered files must be the
    products of ``build``, nothing more."""
    return Inspection(
        name=name,
        run=[sys.executable, "-c", code],
        expected_materials=[
            ["MATCH", "*", "WITH", "PRODUCTS", "FROM", "build"],
            ["DISALLOW", "*"],
        ],
        expected_products=[["ALLOW", "*"]],
    )


def make_delivery(
    tmp_path: Path,
    *,
    fmt: str = "metablock",
    expires: str = FUTURE,
    inspect: tuple[Any, ...] = (),
    owner: Any = OWNER,
    link_signer: Any = FUNCTIONARY,
    products: list[str] | None = None,
    layout_name: str = "root.layout",
) -> Path:
    """A delivery whose in-toto/ holds a signed layout and the build link."""
    root = tmp_path / "delivery"
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "in-toto").mkdir()
    step = Step(
        name="build",
        pubkeys=[FUNCTIONARY.public_key.keyid],
        expected_command=["make"],
        expected_products=BUILD_PRODUCTS,
        threshold=1,
    )
    layout = Layout(
        steps=[step],
        inspect=list(inspect),
        keys={FUNCTIONARY.public_key.keyid: key_dict(FUNCTIONARY)},
        expires=expires,
    )
    write_metadata(layout, owner, root / "in-toto" / layout_name, fmt)
    if link_signer is not None:
        link = Link(
            name="build",
            products=digests(root, products or list(FILES)),
            command=["make"],
        )
        write_metadata(link, link_signer, link_path(root, "build", link_signer), fmt)
    return root


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# --- success ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_verifies_layout_and_link(tmp_path: Path, fmt: str) -> None:
    root = make_delivery(tmp_path, fmt=fmt)
    before = tree(root)
    cwd = Path.cwd()

    account = verify_in_toto(
        root, layout_keys=[pem(OWNER_KEY)], allow_inspections=False
    )

    assert "\n" not in account
    assert "in-toto/root.layout" in account
    assert ("DSSE" if fmt == "dsse" else "Metablock") in account
    assert f"expires {FUTURE}" in account
    assert "steps 'build'" in account
    assert "1 link(s) verified" in account
    assert "no inspections" in account
    assert tree(root) == before
    assert Path.cwd() == cwd


@pytest.mark.parametrize("fmt", FORMATS)
def test_link_recorded_with_runlib(tmp_path: Path, fmt: str) -> None:
    root = make_delivery(tmp_path, fmt=fmt, link_signer=None)
    with warnings.catch_warnings():
        # pathspec, used by in-toto's artifact recording, warns about its own API.
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        runlib.in_toto_run(
            "build",
            [],
            list(FILES),
            [],  # record only, run nothing
            signer=FUNCTIONARY,
            base_path=str(root),
            metadata_directory=str(root / "in-toto"),
            use_dsse=fmt == "dsse",
        )
    assert link_path(root, "build", FUNCTIONARY).is_file()

    account = verify_in_toto(
        root, layout_keys=[pem(OWNER_KEY)], allow_inspections=False
    )

    assert "1 link(s) verified" in account


@pytest.mark.parametrize(
    ("key", "scheme"),
    [
        pytest.param(ec.generate_private_key(ec.SECP256R1()), None, id="ecdsa-p256"),
        pytest.param(ec.generate_private_key(ec.SECP384R1()), None, id="ecdsa-p384"),
        pytest.param(RSA_KEY, None, id="rsa-pss"),
        pytest.param(RSA_KEY, "rsa-pkcs1v15-sha256", id="rsa-pkcs1v15"),
    ],
)
def test_layout_key_types_and_schemes(
    tmp_path: Path, key: PrivateKey, scheme: str | None
) -> None:
    root = make_delivery(tmp_path, owner=signer_for(key, scheme))
    account = verify_in_toto(root, layout_keys=[pem(key)], allow_inspections=False)
    assert "1 link(s) verified" in account


def test_layout_signed_under_a_custom_keyid(tmp_path: Path) -> None:
    """The keyid (in-toto wants hex) only labels a signature: the pinned key is
    matched to the signature by verifying it."""
    public = SSlibKey.from_crypto(OWNER_KEY.public_key(), keyid="ab" * 32)
    root = make_delivery(tmp_path, owner=CryptoSigner(OWNER_KEY, public))
    verify_in_toto(root, layout_keys=[pem(OWNER_KEY)], allow_inspections=False)


def test_custom_layout_name_and_duplicate_pins(tmp_path: Path) -> None:
    root = make_delivery(tmp_path, layout_name="vendor.layout")
    account = verify_in_toto(
        root,
        layout_keys=[pem(OWNER_KEY), pem(OWNER_KEY)],
        allow_inspections=False,
        layout_name="vendor.layout",
    )
    assert "in-toto/vendor.layout" in account
    assert account.count("...") == 1  # one key id shown


# --- signatures ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_layout_signed_by_another_key(tmp_path: Path, fmt: str) -> None:
    root = make_delivery(tmp_path, fmt=fmt, owner=signer_for(OTHER_KEY))
    with pytest.raises(SignatureError, match="signature does not verify"):
        verify_in_toto(root, layout_keys=[pem(OWNER_KEY)], allow_inspections=False)


@pytest.mark.parametrize("fmt", FORMATS)
def test_layout_modified_after_signing(tmp_path: Path, fmt: str) -> None:
    root = make_delivery(tmp_path, fmt=fmt)
    path = root / "in-toto" / "root.layout"
    doc = json.loads(path.read_text())
    if fmt == "dsse":
        payload = json.loads(base64.b64decode(doc["payload"]))
        payload["expires"] = "2099-01-01T00:00:00Z"
        doc["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    else:
        doc["signed"]["expires"] = "2099-01-01T00:00:00Z"
    path.write_text(json.dumps(doc))
    with pytest.raises(SignatureError):
        verify_in_toto(root, layout_keys=[pem(OWNER_KEY)], allow_inspections=False)


def test_every_pinned_key_must_sign(tmp_path: Path) -> None:
    """in-toto's semantics: each layout key passed must have signed the layout."""
    root = make_delivery(tmp_path)
    with pytest.raises(SignatureError):
        verify_in_toto(
            root, layout_keys=[pem(OWNER_KEY), pem(OTHER_KEY)], allow_inspections=False
        )


def test_link_signed_by_unauthorized_key(tmp_path: Path) -> None:
    impostor = signer_for(OTHER_KEY)
    root = make_delivery(tmp_path)
    # The file carries the authorized functionary's name, the signature is another's.
    link = Link(name="build", products=digests(root, list(FILES)), command=["make"])
    metadata = Metablock(signed=link)
    metadata.create_signature(impostor)
    metadata.dump(str(link_path(root, "build", FUNCTIONARY)))
    with pytest.raises(VerificationError, match="threshold not met"):
        verify_in_toto(root, layout_keys=[pem(OWNER_KEY)], allow_inspections=False)


# --- layout and link content -----------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_expired_layout(tmp_path: Path, fmt: str) -> None:
    root = make_delivery(tmp_path, fmt=fmt, expires=PAST)
    with pytest.raises(VerificationError, match="layout expired") as info:
        verify_in_toto(root, layout_keys=[pem(OWNER_KEY)], allow_inspections=False)
    assert not isinstance(info.value, SignatureError)


def test_missing_link(tmp_path: Path) -> None:
    root = make_delivery(tmp_path, link_signer=None)
    with pytest.raises(VerificationError, match="link missing: Step 'build'"):
        verify_in_toto(root, layout_keys=[pem(OWNER_KEY)], allow_inspections=False)


def test_link_products_break_artifact_rules(tmp_path: Path) -> None:
    root = make_delivery(tmp_path)
    (root / "backdoor.sh").write_bytes(b"#!/bin/sh\n")
    link = Link(
        name="build", products=digests(root, [*FILES, "backdoor.sh"]), command=["make"]
    )
    write_metadata(
        link, FUNCTIONARY, link_path(root, "build", FUNCTIONARY), "metablock"
    )
    with pytest.raises(
        VerificationError, match=r"artifact rule violated: 'DISALLOW \*'"
    ):
        verify_in_toto(root, layout_keys=[pem(OWNER_KEY)], allow_inspections=False)


def test_without_inspections_delivered_files_are_not_examined(tmp_path: Path) -> None:
    """in-toto compares links with one another; only inspections read the delivered
    files. A tampered file passes here: the delivery manifest must bind the files."""
    root = make_delivery(tmp_path)
    (root / "app.bin").write_bytes(b"tampered")
    verify_in_toto(root, layout_keys=[pem(OWNER_KEY)], allow_inspections=False)


# --- inspections -----------------------------------------------------------------


def marker_code(marker: Path) -> str:
    """Inspection code: leave a file in its working directory, report that directory."""
    return (
        "import os, pathlib; pathlib.Path('inspected.txt').write_text('x'); "
        f"pathlib.Path({str(marker)!r}).write_text(os.getcwd())"
    )


def test_inspection_refused_when_not_allowed(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    root = make_delivery(tmp_path, inspect=(inspection(marker_code(marker)),))
    with pytest.raises(
        PolicyViolationError, match=r"layout has inspections \('check': "
    ) as info:
        verify_in_toto(root, layout_keys=[pem(OWNER_KEY)], allow_inspections=False)
    assert "does not allow running them" in str(info.value)
    assert not marker.exists()


def test_forged_layout_with_inspection_is_a_signature_error(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    root = make_delivery(
        tmp_path,
        owner=signer_for(OTHER_KEY),
        inspect=(inspection(marker_code(marker)),),
    )
    with pytest.raises(SignatureError):
        verify_in_toto(root, layout_keys=[pem(OWNER_KEY)], allow_inspections=True)
    assert not marker.exists()


def test_inspection_runs_in_a_copy_of_the_delivery(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    root = make_delivery(tmp_path, inspect=(inspection(marker_code(marker)),))
    before = tree(root)
    cwd = Path.cwd()

    account = verify_in_toto(root, layout_keys=[pem(OWNER_KEY)], allow_inspections=True)

    assert "1 inspection(s) run in a copy of the delivery" in account
    ran_in = Path(marker.read_text())
    assert ran_in.resolve() != root.resolve()
    assert not ran_in.resolve().is_relative_to(root.resolve())
    assert not ran_in.exists()  # the temporary copy is gone
    assert tree(root) == before  # no inspected.txt in the delivery
    assert Path.cwd() == cwd


def test_tampered_file_fails_the_inspection(tmp_path: Path) -> None:
    root = make_delivery(tmp_path, inspect=(inspection("pass"),))
    (root / "app.bin").write_bytes(b"tampered")
    with pytest.raises(
        VerificationError,
        match=r"artifact rule violated: 'DISALLOW \*' matched .*app\.bin",
    ):
        verify_in_toto(root, layout_keys=[pem(OWNER_KEY)], allow_inspections=True)


def test_failing_inspection(tmp_path: Path) -> None:
    root = make_delivery(tmp_path, inspect=(inspection("raise SystemExit(3)"),))
    with pytest.raises(
        VerificationError, match="inspection failed: Got non-zero return value '3'"
    ):
        verify_in_toto(root, layout_keys=[pem(OWNER_KEY)], allow_inspections=True)


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        pytest.param(
            Limits(max_files=1), r"more than 1 in-toto metadata files", id="files"
        ),
        pytest.param(
            Limits(max_signatures=0), r"more than 0 layout signatures", id="signatures"
        ),
    ],
)
def test_the_callers_limits_bound_the_metadata(
    tmp_path: Path, limits: Limits, message: str
) -> None:
    root = make_delivery(tmp_path)
    verify_in_toto(root, layout_keys=[pem(OWNER_KEY)], allow_inspections=False)
    with pytest.raises(InvalidInputError, match=message):
        verify_in_toto(
            root, layout_keys=[pem(OWNER_KEY)], allow_inspections=False, limits=limits
        )


def test_the_callers_limits_bound_the_payload_copied_for_inspections(
    tmp_path: Path,
) -> None:
    root = make_delivery(tmp_path, inspect=(inspection("pass"),))
    with pytest.raises(InvalidInputError, match=r"more than 2 entries"):
        verify_in_toto(
            root,
            layout_keys=[pem(OWNER_KEY)],
            allow_inspections=True,
            limits=Limits(max_files=2),
        )


def test_inspection_timeout(tmp_path: Path) -> None:
    root = make_delivery(tmp_path, inspect=(inspection("import time; time.sleep(30)"),))
    with pytest.raises(VerificationError, match="inspection timed out"):
        verify_in_toto(
            root,
            layout_keys=[pem(OWNER_KEY)],
            allow_inspections=True,
            timeouts=Timeouts(in_toto_inspection=1),
        )


def test_verification_process_killed_after_its_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(intoto, "_CHILD_CODE", "import time; time.sleep(30)")
    root = make_delivery(tmp_path, inspect=(inspection("pass"),))
    with pytest.raises(VerificationError, match="did not finish within 1 s"):
        verify_in_toto(
            root,
            layout_keys=[pem(OWNER_KEY)],
            allow_inspections=True,
            timeouts=Timeouts(in_toto_inspection=0, in_toto_grace=1),
        )


def test_verification_process_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(intoto, "_CHILD_CODE", "import sys; sys.exit('boom')")
    root = make_delivery(tmp_path, inspect=(inspection("pass"),))
    with pytest.raises(VerificationError, match="verification process failed: boom"):
        verify_in_toto(root, layout_keys=[pem(OWNER_KEY)], allow_inspections=True)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_inspections_refuse_a_symlink_in_the_payload(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    root = make_delivery(tmp_path, inspect=(inspection(marker_code(marker)),))
    (root / "docs" / "passwd").symlink_to("/etc/passwd")
    with pytest.raises(InvalidInputError, match="symbolic link") as info:
        verify_in_toto(root, layout_keys=[pem(OWNER_KEY)], allow_inspections=True)
    assert info.value.file == "docs/passwd"
    assert not marker.exists()


def test_sublayout_inspection_refused(tmp_path: Path) -> None:
    """A step delegated to a sublayout: its inspections count too."""
    marker = tmp_path / "ran"
    root = make_delivery(tmp_path, link_signer=None)
    sublayout = Layout(
        steps=[], inspect=[inspection(marker_code(marker))], keys={}, expires=FUTURE
    )
    write_metadata(
        sublayout, FUNCTIONARY, link_path(root, "build", FUNCTIONARY), "metablock"
    )
    with pytest.raises(PolicyViolationError, match="'check'"):
        verify_in_toto(root, layout_keys=[pem(OWNER_KEY)], allow_inspections=False)
    assert not marker.exists()


# --- malformed input -------------------------------------------------------------


def test_missing_layout(tmp_path: Path) -> None:
    root = make_delivery(tmp_path)
    (root / "in-toto" / "root.layout").unlink()
    with pytest.raises(InvalidInputError, match="layout not found") as info:
        verify_in_toto(root, layout_keys=[pem(OWNER_KEY)], allow_inspections=False)
    assert info.value.file == "in-toto/root.layout"


def test_no_in_toto_directory(tmp_path: Path) -> None:
    (tmp_path / "delivery").mkdir()
    with pytest.raises(InvalidInputError) as info:
        verify_in_toto(
            tmp_path / "delivery", layout_keys=[pem(OWNER_KEY)], allow_inspections=False
        )
    assert info.value.file == "in-toto/root.layout"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json", "invalid JSON"),
        (b"[]", "not a JSON object"),
        (b'{"signed": {"_type": "layout"}, "signatures": []}', "not in-toto metadata"),
        (
            b'{"payload": "e30=", "payloadType": "text/plain", "signatures": []}',
            "not in-toto metadata",
        ),
        (b'{"a": 1, "a": 2}', "duplicate key"),
    ],
)
def test_malformed_layout(tmp_path: Path, content: bytes, message: str) -> None:
    root = make_delivery(tmp_path)
    (root / "in-toto" / "root.layout").write_bytes(content)
    with pytest.raises(InvalidInputError, match=message) as info:
        verify_in_toto(root, layout_keys=[pem(OWNER_KEY)], allow_inspections=False)
    assert info.value.file == "in-toto/root.layout"


def test_link_given_as_layout(tmp_path: Path) -> None:
    root = make_delivery(tmp_path)
    link = link_path(root, "build", FUNCTIONARY)
    with pytest.raises(InvalidInputError, match="not an in-toto layout"):
        verify_in_toto(
            root,
            layout_keys=[pem(OWNER_KEY)],
            allow_inspections=False,
            layout_name=link.name,
        )


def test_malformed_link(tmp_path: Path) -> None:
    root = make_delivery(tmp_path)
    link = link_path(root, "build", FUNCTIONARY)
    link.write_bytes(b"{")
    with pytest.raises(InvalidInputError, match="invalid JSON") as info:
        verify_in_toto(root, layout_keys=[pem(OWNER_KEY)], allow_inspections=False)
    assert info.value.file == f"in-toto/{link.name}"


def test_no_layout_keys(tmp_path: Path) -> None:
    root = make_delivery(tmp_path)
    with pytest.raises(InvalidInputError, match="no in-toto layout keys"):
        verify_in_toto(root, layout_keys=[], allow_inspections=False)


def test_layout_key_not_pem(tmp_path: Path) -> None:
    root = make_delivery(tmp_path)
    with pytest.raises(InvalidInputError, match="layout key 1 is not a PEM"):
        verify_in_toto(
            root, layout_keys=[pem(OWNER_KEY), b"junk"], allow_inspections=False
        )


def test_layout_key_too_weak(tmp_path: Path) -> None:
    root = make_delivery(tmp_path)
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the point
    with pytest.raises(AlgorithmError):
        verify_in_toto(root, layout_keys=[pem(weak)], allow_inspections=False)


@pytest.mark.parametrize("name", ["../root.layout", "", "..", "a/b"])
def test_layout_name_must_be_a_file_name(tmp_path: Path, name: str) -> None:
    root = make_delivery(tmp_path)
    with pytest.raises(InvalidInputError, match="not a file name"):
        verify_in_toto(
            root,
            layout_keys=[pem(OWNER_KEY)],
            allow_inspections=False,
            layout_name=name,
        )
