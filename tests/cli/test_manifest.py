"""``vendorproof manifest create``: digests, sizes, paths, kinds and bad inputs."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.cli.support import (
    assert_error,
    assert_ok,
    invoke,
    names,
    run_script,
)
from vendorproof._cli import ExitCode
from vendorproof.models.manifest import MANIFEST_PREDICATE, Component, ComponentManifest
from vendorproof.models.statement import STATEMENT_TYPE, Statement

MIB = 1024 * 1024


#: Options every valid invocation needs besides files, --root and -o.
META = [
    "--vendor", "Acme Radio Systems GmbH", "--vendor-id", "acme",
    "--product", "AcmeRAN gNB", "--version", "24.1.3", "--security-version", "7",
    "--network-function", "gNB", "--domain", "RAN",
    "--release-date", "2026-03-02T09:00:00Z",
]  # fmt: skip

FILES: dict[str, bytes] = {
    "images/gnb-du.img": b"\x7fELF du " * 5000,
    "containers/oam-agent.tar": b"ustar\x00" + bytes(range(256)) * 40,
    "config/site.yaml": b"cell:\n  band: n78\n",
    "sbom/gnb.cdx.json": b'{"bomFormat": "CycloneDX"}\n',
    "empty.bin": b"",
    "deep/er/still/blob": b"\x00\x01\x02",
}
EXPECTED_KINDS = {
    "images/gnb-du.img": "firmware",
    "containers/oam-agent.tar": "container-image",
    "config/site.yaml": "config",
    "sbom/gnb.cdx.json": "sbom",
    "empty.bin": "firmware",
    "deep/er/still/blob": "firmware",
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("VENDORPROOF_KEY_PASSPHRASE", "VENDORPROOF_DEBUG"):
        monkeypatch.delenv(var, raising=False)


def coreutils_digests(tool: str, root: Path, rels: list[str]) -> dict[str, str]:
    """``sha256sum``/``sha512sum`` of ``rels`` (run in ``root``), path -> hex."""
    proc = subprocess.run(
        [tool, "--", *rels], cwd=root, capture_output=True, text=True, check=True
    )
    out: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        digest, _, path = line.partition("  ")
        out[path] = digest
    return out


@pytest.fixture
def delivery(tmp_path: Path) -> Path:
    root = tmp_path / "delivery"
    for rel, data in FILES.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    (tmp_path / "out").mkdir()
    return root


def load_manifest(path: Path) -> tuple[Statement, ComponentManifest]:
    statement = Statement.from_bytes(path.read_bytes())
    return statement, ComponentManifest.from_statement(statement)


def components(path: Path) -> dict[str, Component]:
    _, manifest = load_manifest(path)
    return {c.path: c for c in manifest.components}


def test_digests_sizes_paths_and_kinds(
    delivery: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rels = list(FILES)
    out = tmp_path / "out" / "manifest.json"
    monkeypatch.chdir(delivery)  # relative paths, as scripts/make-fixtures runs it
    assert_ok(invoke("manifest", "create", *rels, "--root", ".", *META, "-o", out))

    statement, manifest = load_manifest(out)
    assert statement.predicate_type == MANIFEST_PREDICATE
    assert [c.path for c in manifest.components] == rels  # relative POSIX, in order
    sha256 = coreutils_digests("sha256sum", delivery, rels)
    sha512 = coreutils_digests("sha512sum", delivery, rels)
    for c in manifest.components:
        assert dict(c.digests) == {"sha256": sha256[c.path], "sha512": sha512[c.path]}
        assert c.size == (delivery / c.path).stat().st_size == len(FILES[c.path])
        assert c.kind.value == EXPECTED_KINDS[c.path], c.path
    # Subjects name the same files with the same digests.
    assert {s.name: dict(s.digest) for s in statement.subjects} == {
        c.path: dict(c.digests) for c in manifest.components
    }
    assert manifest.vendor.id == "acme"
    assert manifest.security_version == 7
    assert manifest.domain is not None
    assert manifest.domain.value == "RAN"
    assert statement.predicate["releaseDate"] == "2026-03-02T09:00:00Z"
    assert names(tmp_path / "out") == {"manifest.json"}


def test_raw_json_shape(delivery: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "m.json"
    result = invoke(
        "manifest", "create", delivery / "deep/er/still/blob", "--root", delivery,
        *META, "-o", out,
    )  # fmt: skip
    assert_ok(result)
    data = json.loads(out.read_bytes())
    assert data["_type"] == STATEMENT_TYPE
    assert data["subject"][0]["name"] == "deep/er/still/blob"
    assert "\\" not in out.read_text()


def test_empty_and_multi_mib_files(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    (root / "empty.img").write_bytes(b"")
    big = os.urandom(1024) * (5 * 1024) + b"tail"  # 5 MiB + 4 bytes: several chunks
    (root / "big.img").write_bytes(big)
    out = tmp_path / "m.json"
    result = invoke(
        "manifest", "create", root / "empty.img", root / "big.img", "--root", root,
        *META, "-o", out,
    )  # fmt: skip
    assert_ok(result)
    comps = components(out)
    rels = ["empty.img", "big.img"]
    sha256 = coreutils_digests("sha256sum", root, rels)
    sha512 = coreutils_digests("sha512sum", root, rels)
    assert comps["empty.img"].size == 0
    assert comps["empty.img"].digests["sha256"] == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert comps["big.img"].size == 5 * MIB + 4
    for rel in rels:
        assert comps[rel].digests["sha256"] == sha256[rel]
        assert comps[rel].digests["sha512"] == sha512[rel]


def test_kind_override(delivery: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "m.json"
    result = invoke(
        "manifest", "create", delivery / "images/gnb-du.img",
        delivery / "config/site.yaml", "--root", delivery, *META,
        "--kind", "images/gnb-du.img=other", "--kind", "config/site.yaml=sbom",
        "-o", out,
    )  # fmt: skip
    assert_ok(result)
    comps = components(out)
    assert comps["images/gnb-du.img"].kind.value == "other"
    assert comps["config/site.yaml"].kind.value == "sbom"


def test_console_script_success(delivery: Path, tmp_path: Path) -> None:
    proc = run_script(
        "manifest", "create", "config/site.yaml", "--root", ".", *META,
        "-o", tmp_path / "out" / "m.json", cwd=delivery,
    )  # fmt: skip
    assert proc.returncode == ExitCode.OK, proc.stderr
    assert proc.stderr == ""
    assert "1 components" in proc.stdout
    assert "config/site.yaml" in components(tmp_path / "out" / "m.json")


def test_console_script_outside_root(delivery: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"not part of the delivery")
    proc = run_script(
        "manifest", "create", outside, "--root", delivery, *META,
        "-o", tmp_path / "out" / "m.json", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == ExitCode.INVALID_INPUT
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(f"error: {outside}: ")
    assert "outside --root" in proc.stderr
    assert names(tmp_path / "out") == set()


# --------------------------------------------------------------------------- errors


def create_fails(
    tmp_path: Path, *args: str | Path, code: int = ExitCode.INVALID_INPUT
) -> str:
    """Run ``manifest create`` expecting failure; nothing may be left in out/."""
    out_dir = tmp_path / "out"
    before = names(out_dir)
    result = invoke("manifest", "create", *args, "-o", out_dir / "m.json")
    line = assert_error(result, code)
    assert names(out_dir) == before
    return line


def test_file_outside_root(delivery: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"x")
    line = create_fails(
        tmp_path, delivery / "empty.bin", outside, "--root", delivery, *META
    )
    assert line.startswith(f"error: {outside}: ")
    assert "outside --root" in line


def test_dotdot_escape_is_outside_root(delivery: Path, tmp_path: Path) -> None:
    (tmp_path / "sibling.bin").write_bytes(b"x")
    sneaky = delivery / ".." / "sibling.bin"
    line = create_fails(tmp_path, sneaky, "--root", delivery, *META)
    assert str(sneaky) in line
    assert "outside --root" in line


def test_symlink(delivery: Path, tmp_path: Path) -> None:
    link = delivery / "images" / "link.img"
    link.symlink_to("gnb-du.img")
    line = create_fails(tmp_path, link, "--root", delivery, *META)
    assert str(link) in line
    assert "symbolic link" in line


def test_directory_given_as_file(delivery: Path, tmp_path: Path) -> None:
    line = create_fails(tmp_path, delivery / "images", "--root", delivery, *META)
    assert str(delivery / "images") in line
    assert "not a regular file" in line


def test_missing_file(delivery: Path, tmp_path: Path) -> None:
    missing = delivery / "images" / "missing.img"
    line = create_fails(tmp_path, missing, "--root", delivery, *META)
    assert str(missing) in line


@pytest.mark.parametrize("kind", ["file", "missing"])
def test_root_not_a_directory(delivery: Path, tmp_path: Path, kind: str) -> None:
    root = delivery / "empty.bin" if kind == "file" else tmp_path / "no-such-root"
    line = create_fails(tmp_path, delivery / "empty.bin", "--root", root, *META)
    assert str(root) in line
    assert "--root" in line
    assert "not a directory" in line


def test_bad_domain(delivery: Path, tmp_path: Path) -> None:
    line = create_fails(
        tmp_path, delivery / "empty.bin", "--root", delivery, *META, "--domain", "Moon"
    )
    assert "domain" in line
    assert "'Moon'" in line
    assert "RAN" in line  # lists the allowed values


@pytest.mark.parametrize(
    "value",
    ["empty.bin", "empty.bin=bogus", "empty.bin=", "=firmware"],
)
def test_bad_kind_syntax(delivery: Path, tmp_path: Path, value: str) -> None:
    line = create_fails(
        tmp_path, delivery / "empty.bin", "--root", delivery, *META, "--kind", value
    )
    assert "--kind" in line


def test_kind_for_unlisted_file(delivery: Path, tmp_path: Path) -> None:
    line = create_fails(
        tmp_path, delivery / "empty.bin", "--root", delivery, *META,
        "--kind", "images/gnb-du.img=firmware",
    )  # fmt: skip
    assert "--kind" in line
    assert "images/gnb-du.img" in line


@pytest.mark.parametrize("vendor", ["", "   "])
def test_empty_vendor(delivery: Path, tmp_path: Path, vendor: str) -> None:
    line = create_fails(
        tmp_path, delivery / "empty.bin", "--root", delivery, *META, "--vendor", vendor
    )
    assert "vendor.name" in line
    assert "must not be empty" in line


def test_bad_release_date(delivery: Path, tmp_path: Path) -> None:
    line = create_fails(
        tmp_path, delivery / "empty.bin", "--root", delivery, *META,
        "--release-date", "2026-03-02",
    )  # fmt: skip
    assert "--release-date" in line


def test_duplicate_file(delivery: Path, tmp_path: Path) -> None:
    line = create_fails(
        tmp_path, delivery / "empty.bin", delivery / "empty.bin", "--root", delivery,
        *META,
    )  # fmt: skip
    assert "duplicate" in line
    assert "empty.bin" in line


def test_negative_security_version_is_usage_error(
    delivery: Path, tmp_path: Path
) -> None:
    result = invoke(
        "manifest", "create", delivery / "empty.bin", "--root", delivery, *META,
        "--security-version", "-1", "-o", tmp_path / "out" / "m.json",
    )  # fmt: skip
    assert result.exit_code == ExitCode.USAGE
    assert "--security-version" in result.stderr
    assert "Traceback" not in result.output
    assert names(tmp_path / "out") == set()


def test_existing_output_needs_force(delivery: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "m.json"
    out.write_bytes(b"precious\n")
    args = ["manifest", "create", str(delivery / "empty.bin"), "--root", str(delivery)]
    result = invoke(*args, *META, "-o", out)
    assert_error(result, ExitCode.INVALID_INPUT, str(out), "--force")
    assert out.read_bytes() == b"precious\n"
    assert names(tmp_path / "out") == {"m.json"}

    assert_ok(invoke(*args, *META, "-o", out, "--force"))
    assert "empty.bin" in components(out)
    assert names(tmp_path / "out") == {"m.json"}


def test_missing_output_directory(delivery: Path, tmp_path: Path) -> None:
    out = tmp_path / "no-such-dir" / "m.json"
    result = invoke(
        "manifest", "create", delivery / "empty.bin", "--root", delivery, *META,
        "-o", out,
    )  # fmt: skip
    assert_error(result, ExitCode.INVALID_INPUT, str(out), "cannot write")
