"""Malformed documents inside an OCI image layout are failed checks, not exit 3.

Each case spoils one document of the real signed layout (``oci-layout``,
``index.json``, a manifest, a nested index, a referrer) and requires a failed
``attestations`` check naming the blob and the field, a FAILED intake record
holding the refused bytes, and a replay of that record that agrees.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.builders import KEYS
from tests.oci import (
    EMPTY,
    INDEX,
    MANIFEST,
    NOTARY,
    REAL_MANIFEST,
    Layout,
    descriptor,
    dumps,
    oci_policy,
    put_blob,
    real_layout,
    tar_layout,
)
from vendorproof._cli import ExitCode, app
from vendorproof.limits import DEFAULT_LIMITS

runner = CliRunner()
AT = "2026-01-01T00:00:00Z"


def blob_of(data: bytes) -> str:
    digest: str = descriptor("x", data)["digest"]
    return "blobs/sha256/" + digest[7:]


def listed(layout: Layout, raw: bytes, media_type: str = MANIFEST) -> str:
    """Put ``raw`` in the layout and name it in index.json; its blob path."""
    put_blob(layout.root, raw)
    layout.manifests.append(descriptor(media_type, raw))
    layout.save()
    return blob_of(raw)


def index_json(layout: Layout) -> str:
    (layout.root / "index.json").write_bytes(b'{"schemaVersion": 2, "manifests": [')
    return "index.json"


def layout_version(layout: Layout) -> str:
    (layout.root / "oci-layout").write_bytes(b'{"imageLayoutVersion": "2.0.0"}')
    return "oci-layout"


def invalid_json(layout: Layout) -> str:
    return listed(layout, b'{"schemaVersion": 2, "config": ')


def wrong_schema(layout: Layout) -> str:
    return listed(layout, dumps({"schemaVersion": 1, "config": {}, "layers": []}))


def duplicate_keys(layout: Layout) -> str:
    return listed(layout, b'{"schemaVersion": 2, "schemaVersion": 2, "layers": []}')


def deep_json(layout: Layout) -> str:
    return listed(layout, b"[" * 5000 + b"]" * 5000)


def bad_config(layout: Layout) -> str:
    config = {"mediaType": "x", "digest": "sha256:../../etc/passwd", "size": 1}
    return listed(layout, dumps({"schemaVersion": 2, "config": config, "layers": []}))


def huge(layout: Layout) -> str:
    d = {
        "mediaType": MANIFEST,
        "digest": "sha256:" + "ab" * 32,
        "size": DEFAULT_LIMITS.max_document_bytes + 1,
    }
    layout.manifests.append(d)
    layout.save()
    return "blobs/sha256/" + "ab" * 32


def changed(layout: Layout) -> str:
    raw = dumps({"schemaVersion": 2, "config": {}, "layers": []})
    blob = listed(layout, raw)
    (layout.root / blob).write_bytes(raw.replace(b"2", b"3"))
    return blob


def missing(layout: Layout) -> str:
    blob = listed(layout, dumps({"schemaVersion": 2, "layers": ["gone"]}))
    (layout.root / blob).unlink()
    return blob


def unknown_media_type(layout: Layout) -> str:
    return listed(layout, b"{}", "application/x-unknown-manifest")


def deep_nesting(layout: Layout) -> str:
    child = dict(REAL_MANIFEST)
    chain = []
    for _ in range(DEFAULT_LIMITS.max_index_depth + 2):
        raw = dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": [child]})
        put_blob(layout.root, raw)
        chain.append(raw)
        child = descriptor(INDEX, raw)
    layout.manifests.append(child)
    layout.save()
    # index.json names the outermost; the innermost is one level too deep.
    return blob_of(chain[0])


def bad_referrer(layout: Layout) -> str:
    raw = dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "artifactType": NOTARY,
            "config": descriptor(EMPTY, b"{}"),
            "layers": "not a list",
            "subject": REAL_MANIFEST,
        }
    )
    return listed(layout, raw)


CASES: list[tuple[Callable[[Layout], str], str]] = [
    (index_json, "invalid JSON"),
    (layout_version, "imageLayoutVersion: imageLayoutVersion must be 1.0.0"),
    (invalid_json, "invalid JSON"),
    (wrong_schema, "schemaVersion: schemaVersion must be 2"),
    (duplicate_keys, "duplicate"),
    (deep_json, "nesting deeper than"),
    (bad_config, "config.digest: digest must be"),
    (huge, "above the limit"),
    (changed, "does not match its digest"),
    (missing, "missing from the layout"),
    (unknown_media_type, "unknown manifest media type"),
    (deep_nesting, "nested deeper than"),
    (bad_referrer, "layers: must be an array of descriptors"),
]


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def failed_checks(report: dict[str, object]) -> dict[str, str]:
    found = report["checks"]
    assert isinstance(found, list)
    return {
        c["subject"]: c["reason"]
        for c in found
        if c["check"] == "attestations" and c["outcome"] == "fail"
    }


@pytest.mark.parametrize(
    ("spoil", "reason"), CASES, ids=[spoil.__name__ for spoil, _ in CASES]
)
def test_malformed_document_is_a_failed_check_and_recorded(
    tmp_path: Path, spoil: Callable[[Layout], str], reason: str
) -> None:
    layout = real_layout(tmp_path)
    subject = spoil(layout)
    pol = oci_policy(tmp_path)
    code, out, err = invoke(
        "verify", layout.root, "--policy", pol, "--at", AT, "--format", "json"
    )
    assert code == ExitCode.VERIFICATION_FAILED, err
    report = json.loads(out)
    failed = failed_checks(report)
    assert subject in failed, failed
    assert reason in failed[subject]
    store = tmp_path / "evidence.db"
    code, _, err = invoke(
        "intake",
        layout.root,
        "--policy",
        pol,
        "--operator-key",
        KEYS / "operator" / "intake.key",
        "--store",
        store,
        "--actor",
        "tester",
        "--at",
        AT,
        "--format",
        "json",
    )
    assert code == ExitCode.VERIFICATION_FAILED, err
    code, out, err = invoke(
        "audit",
        "replay",
        "--operator-pub",
        KEYS / "operator" / "intake.pub",
        "--store",
        store,
    )
    assert code == ExitCode.OK, (out, err)


def test_refused_bytes_are_evidence_inputs(tmp_path: Path) -> None:
    layout = real_layout(tmp_path)
    blob = invalid_json(layout)
    code, out, _ = invoke(
        "verify",
        layout.root,
        "--policy",
        oci_policy(tmp_path),
        "--at",
        AT,
        "--format",
        "json",
    )
    assert code == ExitCode.VERIFICATION_FAILED
    inputs = json.loads(out)["inputs"]
    assert blob in inputs
    assert "index.json" in inputs


def test_malformed_document_in_a_tar(tmp_path: Path) -> None:
    layout = real_layout(tmp_path)
    subject = wrong_schema(layout)
    tar = tar_layout(layout.root, tmp_path / "image.tar")
    code, out, _ = invoke(
        "verify", tar, "--policy", oci_policy(tmp_path), "--at", AT, "--format", "json"
    )
    assert code == ExitCode.VERIFICATION_FAILED
    assert "schemaVersion must be 2" in failed_checks(json.loads(out))[subject]


def test_a_refused_layout_directory_replays_from_a_copy(tmp_path: Path) -> None:
    """A layout refused when loaded (a symbolic link where a blob should be) is
    recorded FAILED; replayed with a copy of it at another path (an auditor's
    copy), the copy raises the same refusal, named inside the copy: it stands."""
    layout = real_layout(tmp_path)
    blob = next((layout.root / "blobs" / "sha256").iterdir())
    target = tmp_path / "elsewhere"
    target.write_bytes(blob.read_bytes())
    blob.unlink()
    blob.symlink_to(target)
    store = tmp_path / "evidence.db"
    code, out, err = invoke(
        "intake", layout.root, "--policy", oci_policy(tmp_path),
        "--operator-key", KEYS / "operator" / "intake.key", "--store", store,
        "--at", AT,
    )  # fmt: skip
    assert code == ExitCode.VERIFICATION_FAILED, (out, err)
    assert "symbolic link" in " ".join(out.split())
    copy = tmp_path / "audit" / "layout-copy"
    shutil.copytree(layout.root, copy, symlinks=True)
    for images in (layout.root, copy):
        code, out, err = invoke(
            "audit", "replay", "--operator-pub", KEYS / "operator" / "intake.pub",
            "--store", store, "--images", images, "--json",
        )  # fmt: skip
        assert code == ExitCode.OK, (out, err)
        (record,) = json.loads(out)["records"]
        assert (record["recorded"], record["replayed"]) == ("FAILED", "FAILED")
