"""Which blobs of an image layout are signature material, and which are payload.

Only a manifest of the shape its specification gives is a signature manifest
(Notary Project signature specification, "Storage"; cosign's Sigstore bundle
referrer and simple-signing tag): its blobs are not payload. A manifest that only
calls itself a signature (``artifactType``, simple-signing layer types) is a
document of another artifact, and what it references is reported like any other
unlisted file; so is every blob of a signature that does not verify beside one
that does.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from tests.builders import KEYS
from tests.oci import (
    ASSETS,
    CONFIG,
    COSE,
    EMPTY,
    JWS,
    LAYER,
    MANIFEST,
    NOTARY,
    REAL_MANIFEST,
    SIGSTORE_BUNDLE,
    SIMPLE_SIGNING,
    Layout,
    acme_image,
    acme_signer,
    add_simple_signature,
    cosign_bundle_referrer,
    descriptor,
    dumps,
    jws_envelope,
    new_layout,
    oci_policy,
    put_blob,
    real_layout,
)
from vendorproof._cli import ExitCode, app

runner = CliRunner()
AT = "2026-01-01T00:00:00Z"
SIGNED_AT = datetime(2025, 12, 1, tzinfo=UTC)
OP_KEY = KEYS / "operator" / "intake.key"
OP_PUB = KEYS / "operator" / "intake.pub"
EVIL_CONFIG = dumps(
    {"architecture": "amd64", "os": "linux", "config": {"Entrypoint": ["/evil"]}}
)
EVIL_LAYER = b"an unsigned image layer"


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def policy(tmp_path: Path, unlisted: str = "fail") -> Path:
    pol = oci_policy(tmp_path)
    data = yaml.safe_load(pol.read_text())
    data["unlistedFiles"] = unlisted
    pol.write_text(yaml.safe_dump(data))
    return pol


def verify(layout: Path, pol: Path) -> tuple[int, dict[str, Any]]:
    code, out, err = invoke(
        "verify", layout, "--policy", pol, "--at", AT, "--format", "json"
    )
    assert out.strip(), err
    report: dict[str, Any] = json.loads(out)
    return code, report


def unlisted(report: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """``unlisted-files`` checks by subject, the ``delivery`` pass left out."""
    return {
        c["subject"]: (c["outcome"], c["reason"])
        for c in report["checks"]
        if c["check"] == "unlisted-files" and c["subject"] != "delivery"
    }


def blob(data: bytes) -> str:
    return blob_path(descriptor("", data))


def add_manifest(layout: Layout, body: dict[str, Any], **entry: Any) -> str:
    """Put a manifest into the layout and list it in ``index.json``; its blob."""
    raw = dumps({"schemaVersion": 2, "mediaType": MANIFEST, **body})
    put_blob(layout.root, raw)
    layout.manifests.append(descriptor(MANIFEST, raw, **entry))
    layout.save()
    return blob(raw)


def acme(tmp_path: Path) -> tuple[Layout, dict[str, Any]]:
    return acme_image(tmp_path / "l", signed_at=SIGNED_AT)


def envelope(image: dict[str, Any]) -> bytes:
    key, chain = acme_signer()
    return jws_envelope(key, chain, image, signed_at=SIGNED_AT)


# ----------------------------------------------- manifests that only claim to sign


def _fake_referrer(
    layout: Layout, image: dict[str, Any], shape: str
) -> tuple[str, set[str]]:
    """A referrer labelled a signature but of another shape: (its blob, its blobs)."""
    env = envelope(image)
    contents = {blob(x): x for x in (EVIL_CONFIG, EVIL_LAYER, b"{}", env)}
    config, layers = descriptor(EMPTY, b"{}"), [descriptor(JWS, env)]
    artifact = NOTARY
    if shape == "image config":
        config = descriptor(CONFIG, EVIL_CONFIG)
    elif shape == "image layer":
        layers = [descriptor(LAYER, EVIL_LAYER)]
    elif shape == "envelope and image layer":
        layers.append(descriptor(LAYER, EVIL_LAYER))
    elif shape == "bundle with image config":
        artifact = SIGSTORE_BUNDLE
        config = descriptor(CONFIG, EVIL_CONFIG)
        layers = [descriptor(SIGSTORE_BUNDLE, EVIL_LAYER)]
    else:  # the empty descriptor's media type on other content
        config = descriptor(EMPTY, EVIL_CONFIG)
    body = {"artifactType": artifact, "config": config, "layers": layers}
    manifest = add_manifest(layout, {**body, "subject": image}, artifactType=artifact)
    named = {blob_path(d) for d in [config, *layers]}
    for name in named:
        put_blob(layout.root, contents[name])
    return manifest, {manifest, *named}


@pytest.mark.parametrize(
    "shape",
    [
        "image config",
        "image layer",
        "envelope and image layer",
        "bundle with image config",
        "non-empty empty descriptor",
    ],
)
def test_referrer_that_only_claims_to_be_a_signature_is_payload(
    tmp_path: Path, shape: str
) -> None:
    layout, image = acme(tmp_path)
    manifest, blobs = _fake_referrer(layout, image, shape)
    # The empty config is also the real signature's: that one stays exempt.
    blobs.discard(blob(b"{}"))
    code, report = verify(layout.root, policy(tmp_path))
    assert code == ExitCode.VERIFICATION_FAILED
    got = unlisted(report)
    assert set(got) == blobs
    assert {outcome for outcome, _ in got.values()} == {"fail"}
    (note,) = [
        c
        for c in report["checks"]
        if c["check"] == "attestations" and c["subject"] == manifest
    ]
    assert note["outcome"] == "warn"
    assert note["reason"].startswith("not a ")
    assert note["reason"].endswith("its blobs are payload")
    # The image's own signature still names its vendor.
    assert report["delivery"]["principal"]["id"] == "acme"
    # Under unlistedFiles: warn the same blobs are warnings and the image passes.
    code, report = verify(layout.root, policy(tmp_path, "warn"))
    assert code == ExitCode.OK, report
    assert {outcome for outcome, _ in unlisted(report).values()} == {"warn"}


def test_simple_signing_typed_layers_with_an_image_config_are_payload(
    tmp_path: Path,
) -> None:
    layout, _ = acme(tmp_path)
    for data in (EVIL_CONFIG, EVIL_LAYER):
        put_blob(layout.root, data)
    manifest = add_manifest(
        layout,
        {
            "config": descriptor(CONFIG, EVIL_CONFIG),
            "layers": [descriptor(SIMPLE_SIGNING, EVIL_LAYER)],
        },
    )
    code, report = verify(layout.root, policy(tmp_path))
    assert code == ExitCode.VERIFICATION_FAILED
    assert set(unlisted(report)) == {manifest, blob(EVIL_CONFIG), blob(EVIL_LAYER)}
    (note,) = [
        c
        for c in report["checks"]
        if c["check"] == "attestations" and c["subject"] == manifest
    ]
    assert note["reason"] == (
        "not a cosign simple-signing manifest: config is not the image config "
        "cosign writes for its signatures; its blobs are payload"
    )


# ------------------------------------------------------- genuine signature manifests


def notary_layout(tmp_path: Path) -> Layout:
    """The Notary Project's layout, unsigned, without its ``docker save`` leftover."""
    layout = real_layout(tmp_path, referrer=False)
    (layout.root / "manifest.json").unlink()
    return layout


@pytest.mark.parametrize("name", ["jws_signature.sig", "cose_signature.sig"])
def test_real_notation_signatures_are_no_payload(tmp_path: Path, name: str) -> None:
    layout = notary_layout(tmp_path)
    media_type = JWS if name.startswith("jws") else COSE
    layout.add_referrer(REAL_MANIFEST, (ASSETS / name).read_bytes(), media_type)
    code, report = verify(layout.root, policy(tmp_path))
    assert code == ExitCode.OK, report
    assert unlisted(report) == {}


def test_notation_config_media_type_form_is_a_signature(tmp_path: Path) -> None:
    """The specification's example: config ``application/vnd.cncf.notary.signature``
    with ``{}``, no ``artifactType``."""
    layout = notary_layout(tmp_path)
    env = (ASSETS / "jws_signature.sig").read_bytes()
    put_blob(layout.root, b"{}")
    put_blob(layout.root, env)
    add_manifest(
        layout,
        {
            "config": descriptor(NOTARY, b"{}"),
            "layers": [descriptor(JWS, env)],
            "subject": REAL_MANIFEST,
        },
    )
    code, report = verify(layout.root, policy(tmp_path))
    assert code == ExitCode.OK, report
    assert unlisted(report) == {}


def _cosign_config(layers: list[bytes]) -> bytes:
    """The config cosign writes for a ``.sig`` image (an empty image's)."""
    return dumps(
        {
            "architecture": "",
            "created": "0001-01-01T00:00:00Z",
            "history": [{"created": "0001-01-01T00:00:00Z"}],
            "os": "",
            "rootfs": {
                "type": "layers",
                "diff_ids": [descriptor("", x)["digest"] for x in layers],
            },
            "config": {},
        }
    )


def _simple_with_config(layout: Layout, image: dict[str, Any], config: bytes) -> str:
    """``add_simple_signature``'s manifest with ``config`` instead of ``{}``."""
    add_simple_signature(layout, image)
    entry = layout.manifests[-1]
    old_blob = layout.root / blob_path(entry)
    old = json.loads(old_blob.read_bytes())
    old_blob.unlink()
    put_blob(layout.root, config)
    old["config"] = descriptor(CONFIG, config)
    layout.manifests.pop()
    return add_manifest(
        layout,
        {k: v for k, v in old.items() if k not in {"schemaVersion", "mediaType"}},
        annotations=entry["annotations"],
    )


def blob_path(d: dict[str, Any]) -> str:
    digest: str = d["digest"]
    return "blobs/" + digest.replace(":", "/")


@pytest.mark.parametrize("cosign_config", [False, True])
def test_cosign_signatures_are_no_payload(tmp_path: Path, cosign_config: bool) -> None:
    layout = new_layout(tmp_path / "l")
    image = layout.add_image()
    cosign_bundle_referrer(layout, image)
    if cosign_config:
        from tests.oci import simple_signing_payload

        body = simple_signing_payload(image["digest"])
        _simple_with_config(layout, image, _cosign_config([body]))
    else:
        add_simple_signature(layout, image)
    code, report = verify(layout.root, policy(tmp_path))
    assert code == ExitCode.OK, report
    assert unlisted(report) == {}
    verified = {
        c["subject"] for c in report["checks"] if c["check"] == "target-artifact"
    }
    assert len(verified) == 2  # the bundle and the simple signature


@pytest.mark.parametrize(
    "change",
    [
        {"config": {"Entrypoint": ["/evil"]}},
        {"rootfs": {"type": "layers", "diff_ids": []}},
        {"container_config": {}},
        {"history": [{"created_by": "RUN /evil"}]},
    ],
)
def test_cosign_config_describing_more_is_payload(
    tmp_path: Path, change: dict[str, Any]
) -> None:
    from tests.oci import simple_signing_payload

    layout = new_layout(tmp_path / "l")
    image = layout.add_image()
    cosign_bundle_referrer(layout, image)
    body = simple_signing_payload(image["digest"])
    config = {**json.loads(_cosign_config([body])), **change}
    manifest = _simple_with_config(layout, image, dumps(config))
    code, report = verify(layout.root, policy(tmp_path))
    assert code == ExitCode.VERIFICATION_FAILED
    assert set(unlisted(report)) == {manifest, blob(dumps(config)), blob(body)}


# -------------------------------------- signatures that do not verify beside one


@pytest.mark.parametrize("unlisted_files", ["warn", "fail"])
def test_blobs_of_a_signature_that_did_not_verify_are_unlisted(
    tmp_path: Path, unlisted_files: str
) -> None:
    layout, image = acme(tmp_path)
    junk = b'{"not": "an envelope", "padding": "' + b"x" * 4096 + b'"}'
    referrer = layout.add_referrer(image, junk, JWS)
    code, report = verify(layout.root, policy(tmp_path, unlisted_files))
    got = unlisted(report)
    # The manifest and the envelope; the empty config is also the good one's.
    assert set(got) == {blob_path(referrer), blob(junk)}
    for outcome, reason in got.values():
        assert outcome == unlisted_files
        assert reason.startswith("blob of a signature that did not verify (")
        assert reason.endswith(
            f"not listed in the manifest (policy: unlistedFiles={unlisted_files})"
        )
    expected = ExitCode.OK if unlisted_files == "warn" else ExitCode.VERIFICATION_FAILED
    assert code == expected, report
    assert report["delivery"]["principal"]["id"] == "acme"
    # Recorded at intake and replayed to the same verdict.
    store = tmp_path / "evidence.db"
    pol = policy(tmp_path, unlisted_files)
    code, _, err = invoke(
        "intake", layout.root, "--policy", pol, "--operator-key", OP_KEY,
        "--store", store, "--actor", "tester", "--at", AT,
    )  # fmt: skip
    assert code == expected, err
    code, out, err = invoke(
        "audit", "replay", "--operator-pub", OP_PUB, "--store", store
    )
    assert code == ExitCode.OK, (out, err)


def test_signature_files_given_beside_are_no_layout_files(tmp_path: Path) -> None:
    layout, _ = acme(tmp_path)
    given = tmp_path / "junk.sig"
    given.write_bytes(b"{}")
    code, out, err = invoke(
        "verify", layout.root, "--policy", policy(tmp_path), "--at", AT,
        "--format", "json", "--signature", given,
    )  # fmt: skip
    assert code == ExitCode.OK, (out, err)
    assert unlisted(json.loads(out)) == {}
