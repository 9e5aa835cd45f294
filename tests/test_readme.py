"""Every README block marked ``<!-- readme-test -->`` runs and succeeds, in order."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import REPO

_BLOCK = re.compile(r"<!-- readme-test -->\s*```sh\n(.*?)```", re.DOTALL)


def readme_blocks() -> list[str]:
    return _BLOCK.findall((REPO / "README.md").read_text(encoding="utf-8"))


def test_readme_has_an_example_per_role() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    for role in (
        "Vendor release engineer",
        "Certification body",
        "Operator intake engineer",
        "CI pipeline",
        "Auditor",
    ):
        assert f"### {role}" in text
    assert len(readme_blocks()) >= 5


def test_readme_names_the_two_commands() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert "scripts/demo" in text
    assert "scripts/test" in text
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/test" in ci


@pytest.mark.slow
def test_readme_examples_run(tmp_path: Path) -> None:
    work = tmp_path / "repo"
    work.mkdir()
    for name in ("fixtures", "keys"):
        shutil.copytree(REPO / name, work / name)
    (work / "out").mkdir()
    bindir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    for i, block in enumerate(readme_blocks()):
        proc = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, (
            f"README block {i}:\n{block}\n{proc.stdout}\n{proc.stderr}"
        )
        assert "Traceback" not in proc.stderr
    assert (work / "out" / "certification.sigstore.json").is_file()
    assert (work / "out" / "evidence.db").is_file()
    assert (work / "out" / "audit-2026" / "MANIFEST.json").is_file()
    # The PKCS#11 example ran (CI installs softhsm2, as tests/cli/test_hsm.py needs).
    assert (work / "out" / "hsm.cp").is_file()
    assert not (work / "out" / "hsm-intake.key").exists()
    assert "PASSED" in (work / "out" / "report.json").read_text()
