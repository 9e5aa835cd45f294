"""OCI image layouts through the CLI: verify, intake and audit replay.

The layout is the Notary Project's (tests/assets/notation) with its real JWS
signature attached as an OCI 1.1 referrer; the policy pins the signer's certificate.
Images signed by Acme (the test PKI) check the vendor binding.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.builders import KEYS, policy_data, write_policy
from tests.oci import (
    INDEX,
    JWS,
    TITLE,
    VENDOR,
    acme_image,
    acme_signer,
    descriptor,
    dumps,
    jws_envelope,
    new_layout,
    oci_policy,
    put_blob,
    real_layout,
    tar_layout,
)
from vendorproof._cli import ExitCode, app

runner = CliRunner()
OP_KEY = KEYS / "operator" / "intake.key"
OP_PUB = KEYS / "operator" / "intake.pub"
AT = "2026-01-01T00:00:00Z"  # inside the signer's validity (2000-2123)
SIGNED_AT = datetime(2025, 12, 1, tzinfo=UTC)


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def signed_layout(tmp_path: Path) -> Path:
    return real_layout(tmp_path).root


def verify(
    layout: Path, pol: Path, *extra: str | Path
) -> tuple[int, dict[str, object]]:
    code, out, err = invoke(
        "verify", layout, "--policy", pol, "--at", AT, "--format", "json", *extra
    )
    return code, json.loads(out) if out.strip() else {"stderr": err}


def checks(report: dict[str, object]) -> dict[tuple[str, str], str]:
    found = report["checks"]
    assert isinstance(found, list)
    return {(c["check"], c["subject"]): c["outcome"] for c in found}


def binding(report: dict[str, object]) -> tuple[str, str]:
    found = report["checks"]
    assert isinstance(found, list)
    (only,) = [c for c in found if c["check"] == "vendor-binding"]
    return only["outcome"], only["reason"]


@pytest.mark.parametrize("as_tar", [False, True])
def test_signed_layout_verifies(tmp_path: Path, as_tar: bool) -> None:
    root = signed_layout(tmp_path)
    target = tar_layout(root, tmp_path / "image.tar") if as_tar else root
    code, report = verify(target, oci_policy(tmp_path))
    assert code == ExitCode.OK, report
    got = checks(report)
    layer = (
        "blobs/sha256/63b65145d645c1250c391b2d16ebe53b3747c295ca8ba2fcb6b0cf064a4dc21c"
    )
    assert got[("integrity", layer)] == "pass"
    assert "pass" in {v for (c, _), v in got.items() if c == "target-artifact"}
    delivery = report["delivery"]
    assert isinstance(delivery, dict)
    assert delivery["format"] == "oci"
    # The real image names no vendor: its vendor is the verified signer.
    assert delivery["vendor"] == {"id": "notary", "name": "Notary Project test signer"}
    assert delivery["principal"] == delivery["vendor"]


def test_tampered_layer_fails_integrity(tmp_path: Path) -> None:
    root = signed_layout(tmp_path)
    layer = (
        root
        / "blobs/sha256/63b65145d645c1250c391b2d16ebe53b3747c295ca8ba2fcb6b0cf064a4dc21c"
    )
    data = bytearray(layer.read_bytes())
    data[100] ^= 1
    layer.write_bytes(bytes(data))
    code, report = verify(root, oci_policy(tmp_path))
    assert code == ExitCode.VERIFICATION_FAILED
    assert "fail" in {
        v
        for (c, s), v in checks(report).items()
        if c == "integrity" and s.endswith("4dc21c")
    }


@pytest.mark.parametrize(("unlisted", "outcome"), [("warn", "warn"), ("fail", "fail")])
def test_unreferenced_blobs_are_reported_by_path(
    tmp_path: Path, unlisted: str, outcome: str
) -> None:
    layout = real_layout(tmp_path)
    orphans = sorted(
        "blobs/sha256/" + put_blob(layout.root, data)[7:]
        for data in (b"left behind", b"another leftover")
    )
    (layout.root / "manifest.json").write_text("[]")  # a docker-save leftover
    pol = oci_policy(tmp_path)
    data = yaml.safe_load(pol.read_text())
    data["unlistedFiles"] = unlisted
    pol.write_text(yaml.safe_dump(data))
    code, report = verify(layout.root, pol)
    found = report["checks"]
    assert isinstance(found, list)
    got = {
        c["subject"]: (c["outcome"], c["reason"])
        for c in found
        if c["check"] == "unlisted-files"
    }
    for orphan in orphans:
        reason = (
            "unreferenced blob not listed in the manifest "
            f"(policy: unlistedFiles={unlisted})"
        )
        assert got[orphan] == (outcome, reason)
    assert got["manifest.json"][1].startswith("file not listed")
    assert len(got) == 3
    expected = ExitCode.OK if unlisted == "warn" else ExitCode.VERIFICATION_FAILED
    assert code == expected, report
    delivery = report["delivery"]
    assert isinstance(delivery, dict)
    assert fits_the_schema("listing", delivery["listing"])
    assert delivery["listing"]["irregular"] == dict.fromkeys(
        orphans, "unreferenced blob"
    )
    # Recorded at intake and replayed with the same finding.
    store = tmp_path / "evidence.db"
    intake(layout.root, pol, store)
    replay(store)


def test_layout_signed_by_no_trusted_vendor_fails(tmp_path: Path) -> None:
    root = signed_layout(tmp_path)
    pol = oci_policy(tmp_path)
    other = write_policy(tmp_path / "other.yaml", policy_data())
    assert verify(root, pol)[0] == ExitCode.OK
    code, report = verify(root, other)
    assert code == ExitCode.VERIFICATION_FAILED
    outcome, reason = binding(report)
    assert outcome == "fail"
    assert "no trusted vendor signer" in reason


def test_index_json_annotations_are_no_vendor_claim(tmp_path: Path) -> None:
    """index.json is not signed: what it says about the image is never read."""
    layout = real_layout(tmp_path)
    layout.manifests[0]["annotations"][VENDOR] = "acme"
    layout.manifests[0]["annotations"][TITLE] = "not the signed title"
    layout.save()
    code, report = verify(layout.root, oci_policy(tmp_path))
    assert code == ExitCode.OK, report
    assert binding(report)[0] == "pass"
    delivery = report["delivery"]
    assert isinstance(delivery, dict)
    assert delivery["vendor"]["id"] == "notary"
    assert delivery.get("product") == ""


ACME_NAME = "Acme Radio Systems GmbH"


@pytest.mark.parametrize(
    ("claim", "outcome"),
    [
        pytest.param("acme", "pass", id="policy-id"),
        pytest.param(ACME_NAME, "pass", id="display-name"),
        pytest.param(None, "pass", id="no-claim"),
        pytest.param("Borealis Networks Oy", "fail", id="another-vendor"),
        pytest.param("borealis", "fail", id="another-vendor-id"),
        pytest.param(
            "acme radio systems gmbh", "fail", id="not-as-the-policy-writes-it"
        ),
    ],
)
def test_vendor_annotation_must_name_the_signer(
    tmp_path: Path, claim: str | None, outcome: str
) -> None:
    annotations = {TITLE: "AcmeCore UPF", "org.opencontainers.image.version": "3.1"}
    if claim is not None:
        annotations[VENDOR] = claim
    layout, _ = acme_image(tmp_path / "l", annotations=annotations, signed_at=SIGNED_AT)
    code, report = verify(layout.root, oci_policy(tmp_path))
    got, reason = binding(report)
    assert got == outcome, reason
    delivery = report["delivery"]
    assert isinstance(delivery, dict)
    assert delivery["principal"] == {"id": "acme", "name": ACME_NAME}
    assert delivery["product"] == "AcmeCore UPF"
    assert delivery["version"] == "3.1"
    if outcome == "pass":
        assert code == ExitCode.OK, report
        # The vendor of the report (and of the record) is the verified signer.
        assert delivery["vendor"] == {"id": "acme", "name": ACME_NAME}
    else:
        assert code == ExitCode.VERIFICATION_FAILED
        assert "signer's policy id or its name as the policy writes it" in reason
        assert delivery["vendor"] == {"id": claim, "name": claim}


def test_unsigned_image_without_a_claim_has_no_vendor(tmp_path: Path) -> None:
    layout, _ = acme_image(tmp_path / "l", signed_at=SIGNED_AT, sign=False)
    code, out, _ = invoke("verify", layout.root, "--policy", oci_policy(tmp_path))
    assert code == ExitCode.VERIFICATION_FAILED
    assert "vendor: none verified (no trusted vendor signed the manifest)" in out
    _, report = verify(layout.root, oci_policy(tmp_path))
    assert binding(report)[0] == "fail"
    delivery = report["delivery"]
    assert isinstance(delivery, dict)
    assert "vendor" not in delivery


def intake(root: Path, pol: Path, store: Path, *extra: str | Path) -> int:
    code, _, err = invoke(
        "intake",
        root,
        "--policy",
        pol,
        "--operator-key",
        OP_KEY,
        "--store",
        store,
        "--actor",
        "tester",
        "--at",
        AT,
        *extra,
    )
    assert code in {ExitCode.OK, ExitCode.VERIFICATION_FAILED}, err
    return code


def replay(store: Path) -> None:
    code, out, err = invoke(
        "audit", "replay", "--operator-pub", OP_PUB, "--store", store
    )
    assert code == ExitCode.OK, (out, err)


def test_intake_and_replay(tmp_path: Path) -> None:
    store = tmp_path / "evidence.db"
    assert intake(signed_layout(tmp_path), oci_policy(tmp_path), store) == 0
    replay(store)


def test_salvage_keeps_what_can_be_read(tmp_path: Path) -> None:
    from vendorproof.formats.oci import OciFormat

    fmt = OciFormat()
    root = signed_layout(tmp_path)
    saved = fmt.salvage(root)
    assert set(saved.inputs) == {"oci-layout", "index.json"}
    assert saved.errors == ()
    saved = fmt.salvage(tar_layout(root, tmp_path / "x.tar"))
    assert set(saved.inputs) == {"oci-layout", "index.json"}
    (tmp_path / "junk.tar").write_bytes(b"junk")
    assert fmt.salvage(tmp_path / "junk.tar").errors


def test_layout_that_is_no_layout_is_an_input_error(tmp_path: Path) -> None:
    root = signed_layout(tmp_path)
    (root / "index.json").unlink()
    code, _, err = invoke("verify", root, "--policy", oci_policy(tmp_path), "--at", AT)
    assert code == ExitCode.INVALID_INPUT
    assert "no index.json" in err


def fits_the_schema(name: str, value: object) -> bool:
    """Whether ``value`` fits the report schema's ``delivery.<name>`` (None: absent)."""
    from jsonschema import Draft202012Validator

    from vendorproof.schemas import load_schema

    schema = load_schema("report")
    prop = schema["properties"]["delivery"]["properties"][name]
    return value is None or Draft202012Validator(
        {**prop, "$defs": schema["$defs"]}
    ).is_valid(value)


def stored_delivery(store: Path) -> dict[str, object]:
    """``delivery`` of the last evidence record's statement."""
    import base64

    from vendorproof.evidence.store import open_store

    s = open_store(str(store), read_only=True)
    try:
        *_, last = s.records()
    finally:
        s.close()
    envelope = json.loads(last.envelope)
    statement = json.loads(base64.b64decode(envelope["payload"]))
    delivery: dict[str, object] = statement["predicate"]["vendorproof"]["delivery"]
    return delivery


@pytest.mark.parametrize(
    ("created", "released"),
    [
        ("2025-11-30T12:00:00+01:00", "2025-11-30T11:00:00Z"),
        (None, None),
        ("yesterday", None),  # not a time: no release time is claimed
    ],
)
def test_image_identity_reaches_the_report_and_the_record(
    tmp_path: Path, created: str | None, released: str | None
) -> None:
    annotations = {TITLE: "AcmeCore UPF", "org.opencontainers.image.version": "3.1"}
    if created is not None:
        annotations["org.opencontainers.image.created"] = created
    layout, image = acme_image(
        tmp_path / "l", annotations=annotations, signed_at=SIGNED_AT
    )
    pol = oci_policy(tmp_path)
    code, report = verify(layout.root, pol)
    assert code == ExitCode.OK, report
    delivery = report["delivery"]
    assert isinstance(delivery, dict)
    # The signed manifest, named by its digest, and what it says of itself.
    assert delivery["manifest"] == "blobs/sha256/" + image["digest"][7:]
    assert delivery.get("releaseDate") == released
    assert (delivery["product"], delivery["version"]) == ("AcmeCore UPF", "3.1")
    assert delivery["principal"] == {"id": "acme", "name": ACME_NAME}
    assert fits_the_schema("releaseDate", delivery.get("releaseDate"))
    store = tmp_path / "evidence.db"
    assert intake(layout.root, pol, store) == ExitCode.OK
    recorded = stored_delivery(store)
    assert recorded["manifest"] == delivery["manifest"]
    assert recorded.get("releaseDate") == released
    replay(store)


# ---------------------------------------------------- index.json and media types


def test_image_listed_under_two_tags_is_one_image(tmp_path: Path) -> None:
    """``skopeo copy`` or ``oras`` list one digest once per tag."""
    layout, _ = acme_image(tmp_path / "l", signed_at=SIGNED_AT)
    first = layout.manifests[0]
    ref = "org.opencontainers.image.ref.name"
    layout.manifests[0] = {**first, "annotations": {ref: "3.1"}}
    layout.manifests.append({**first, "annotations": {ref: "latest"}})
    layout.save()
    code, report = verify(layout.root, oci_policy(tmp_path))
    assert code == ExitCode.OK, report
    delivery = report["delivery"]
    assert isinstance(delivery, dict)
    assert delivery["principal"]["id"] == "acme"


def test_two_images_are_still_refused(tmp_path: Path) -> None:
    layout, _ = acme_image(tmp_path / "l", signed_at=SIGNED_AT)
    layout.add_image([b"another image"])
    code, report = verify(layout.root, oci_policy(tmp_path))
    assert code == ExitCode.VERIFICATION_FAILED
    found = report["checks"]
    assert isinstance(found, list)
    assert any(
        c["subject"] == "index.json" and c["reason"].endswith("found 2") for c in found
    )


@pytest.mark.parametrize("own", [None, INDEX])
def test_signed_index_media_type_comes_from_its_descriptor(
    tmp_path: Path, own: str | None
) -> None:
    """image-index.md: ``mediaType`` SHOULD be used, so a signed index may omit it;
    Notation signs its descriptor's media type."""
    layout = new_layout(tmp_path / "l")
    image = layout.add_image()
    layout.manifests.clear()
    body: dict[str, object] = {"schemaVersion": 2, "manifests": [image]}
    if own is not None:
        body["mediaType"] = own
    raw = dumps(body)
    put_blob(layout.root, raw)
    index = descriptor(INDEX, raw)
    layout.manifests.append(index)
    layout.save()
    key, chain = acme_signer()
    envelope = jws_envelope(key, chain, index, signed_at=SIGNED_AT)
    layout.add_referrer(index, envelope, JWS)
    code, report = verify(layout.root, oci_policy(tmp_path))
    assert code == ExitCode.OK, report
    found = report["checks"]
    assert isinstance(found, list)
    (target,) = [c for c in found if c["check"] == "target-artifact"]
    assert INDEX in target["reason"]
