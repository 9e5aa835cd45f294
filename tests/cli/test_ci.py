"""The CI integrations: the entry point, the GitHub Action and the GitLab component.

Their YAML is validated against the platforms' published schemas, and the very
commands they run are run here against the sample delivery, passing and tampered.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from junitparser import Failure, JUnitXml

from tests.builders import REPO, SAMPLE_AT_TEXT, SAMPLE_DELIVERY, SAMPLE_POLICY
from tests.cli.test_report_formats import TAMPERED, tampered
from tests.unit.reports.support import ASSETS, sarif_validator
from vendorproof import ci

ACTION = REPO / "ci" / "github" / "action.yml"
WORKFLOW = REPO / "ci" / "github" / "example-workflow.yml"
COMPONENT = REPO / "templates" / "vendorproof-gate.yml"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def _schema(name: str) -> jsonschema.Draft7Validator:
    schema = json.loads((ASSETS / name).read_text("utf-8"))
    return jsonschema.Draft7Validator(schema)


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text("utf-8"))


def _installed(tmp_path: Path, sv: int = 6) -> Path:
    path = tmp_path / "installed.yaml"
    path.write_text(
        f"vendor: acme\nproduct: AcmeRAN gNB\nversion: '24.1.2'\nsecurityVersion: {sv}\n"
    )
    return path


def _env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("VENDORPROOF_")}
    path = f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', '')}"
    return {**base, "PATH": path, **extra}


# -- schemas and pins ------------------------------------------------------------------


def test_action_validates_against_schemastore_github_action() -> None:
    _schema("github-actions.json").validate(_yaml(ACTION))


def test_example_workflow_validates_and_grants_minimal_permissions() -> None:
    data = _yaml(WORKFLOW)
    _schema("github-workflows.json").validate(data)
    assert data["permissions"] == {}
    assert data["jobs"]["gate"]["permissions"] == {
        "contents": "read",
        "security-events": "write",
    }


def test_component_validates_against_the_gitlab_ci_schema() -> None:
    spec, jobs = yaml.safe_load_all(COMPONENT.read_text("utf-8"))
    validator = _schema("gitlab-ci.json")
    validator.validate(spec)
    validator.validate(jobs)
    job = jobs["vendorproof-gate"]
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["junit"].endswith("/report.junit.xml")
    used = set(re.findall(r"\$\[\[ inputs\.([\w-]+) \]\]", COMPONENT.read_text()))
    assert used == set(spec["spec"]["inputs"])


def test_every_action_is_pinned_by_commit_with_its_version() -> None:
    text = ACTION.read_text("utf-8") + WORKFLOW.read_text("utf-8")
    uses = re.findall(r"uses: (\S+)(.*)", text)
    remote = [(u, rest) for u, rest in uses if not u.startswith("./")]
    assert {u.split("@")[0] for u, _ in remote} >= {
        "actions/setup-python",
        "github/codeql-action/upload-sarif",
        "actions/upload-artifact",
    }
    for u, rest in remote:
        assert PINNED.match(u), u
        assert re.match(r"^ # v\d+\.\d+\.\d+$", rest), (u, rest)


def test_action_passes_inputs_through_the_environment_only() -> None:
    # ${{ }} inside run: would be template injection; inputs go through env.
    for step in _yaml(ACTION)["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step["name"]


def test_action_installs_from_the_hash_pinned_lock() -> None:
    steps = _yaml(ACTION)["runs"]["steps"]
    install = next(s for s in steps if s["name"].startswith("Install vendorproof"))
    run = install["run"]
    assert "--require-hashes --no-deps" in run
    assert '"$ACTION_PATH/../../requirements/runtime.lock"' in run
    assert "--no-deps --no-build-isolation" in run
    lock = (REPO / "requirements" / "runtime.lock").read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", lock, re.MULTILINE))
    names = {n.lower().replace("_", "-") for n in pins}
    assert {"cryptography", "sigstore", "in-toto", "typer", "pyyaml"} <= names
    assert {"setuptools"} <= names  # the build backend, for --no-build-isolation
    # Every pinned requirement carries at least one hash.
    blocks = re.split(r"^(?=[A-Za-z0-9_.-]+==)", lock, flags=re.MULTILINE)[1:]
    assert len(blocks) == len(pins)
    assert all("--hash=sha256:" in b for b in blocks)


# -- the entry point -------------------------------------------------------------------


def _entry(
    tmp_path: Path, delivery: Path, *extra: str
) -> tuple[int, Path, dict[str, str]]:
    out = tmp_path / "out"
    gho = tmp_path / "github-output"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "vendorproof.ci",
            "--delivery",
            str(delivery),
            "--policy",
            str(SAMPLE_POLICY),
            "--at",
            SAMPLE_AT_TEXT,
            "--out",
            str(out),
            *extra,
        ],
        env=_env(GITHUB_OUTPUT=str(gho)),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert "Traceback" not in proc.stderr
    outputs = dict(line.split("=", 1) for line in gho.read_text().splitlines())
    return proc.returncode, out, outputs


def test_entry_accepts_the_sample_update(tmp_path: Path) -> None:
    code, out, outputs = _entry(
        tmp_path, SAMPLE_DELIVERY, "--installed", str(_installed(tmp_path))
    )
    assert code == 0
    assert outputs["verdict"] == "accepted"
    assert outputs["exit-code"] == "0"
    assert (
        json.loads((out / "report.json").read_text())["installed"]["version"]
        == "24.1.2"
    )
    sarif_validator().validate(json.loads(Path(outputs["sarif"]).read_text()))
    assert Path(outputs["junit"]).is_file()


def test_entry_rejects_a_tampered_delivery_and_defers_the_exit(tmp_path: Path) -> None:
    code, out, outputs = _entry(
        tmp_path,
        tampered(tmp_path),
        "--installed",
        str(_installed(tmp_path)),
        "--defer-exit",
    )
    assert code == 0
    assert (outputs["verdict"], outputs["exit-code"]) == ("rejected", "1")
    assert (out / "exit-code").read_text() == "1\n"
    log = json.loads((out / "report.sarif").read_text())
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
        if r["kind"] == "fail"
    }
    assert uris == {TAMPERED}


def test_entry_could_not_decide_leaves_no_stale_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.sarif").write_text("stale")
    code, _, outputs = _entry(
        tmp_path, SAMPLE_DELIVERY, "--installed", str(tmp_path / "none.yaml")
    )
    assert code == 3
    assert outputs["verdict"] == "undecided"
    assert outputs["sarif"] == ""
    assert not (out / "report.sarif").exists()


def test_entry_without_installed_runs_verify(tmp_path: Path) -> None:
    args = ci._parser().parse_args(["--delivery", "d", "--policy", "p"])
    assert ci.command(args, tmp_path)[3] == "verify"
    code, _, outputs = _entry(tmp_path, SAMPLE_DELIVERY)
    assert (code, outputs["verdict"]) == (0, "accepted")


# -- the GitHub Action's and the GitLab component's own commands -----------------------


def _expand(text: str, values: dict[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        return values[m.group(1)]

    return re.sub(r"\$\{\{ ([\w.-]+) \}\}", sub, text)


def _run_action_steps(
    tmp_path: Path, delivery: Path, installed: Path | None, **inputs: str
) -> tuple[int, dict[str, str]]:
    """Run the action's gate step and its final step as a runner would."""
    action = _yaml(ACTION)
    steps = {s.get("id", s["name"]): s for s in action["runs"]["steps"]}
    values = {
        **{
            f"inputs.{k}": str(v.get("default", ""))
            for k, v in action["inputs"].items()
        },
        **{f"inputs.{k.replace('_', '-')}": v for k, v in inputs.items()},
        "inputs.delivery": str(delivery),
        "inputs.policy": str(SAMPLE_POLICY),
        "inputs.installed": "" if installed is None else str(installed),
        "inputs.at": SAMPLE_AT_TEXT,
        "runner.temp": str(tmp_path),
    }
    gho = tmp_path / "github-output"
    gate = steps["gate"]
    env = {k: _expand(v, values) for k, v in gate["env"].items()}
    run = subprocess.run(
        ["bash", "-e", "-c", gate["run"]],
        env=_env(GITHUB_OUTPUT=str(gho), **env),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    outputs = dict(line.split("=", 1) for line in gho.read_text().splitlines())
    final = steps["Fail unless the update was accepted"]
    values |= {f"steps.gate.outputs.{k}": v for k, v in outputs.items()}
    env = {k: _expand(v, values) for k, v in final["env"].items()}
    done = subprocess.run(
        ["bash", "-e", "-c", final["run"]], env=_env(**env), check=False
    )
    return done.returncode, outputs


def test_action_steps_pass_the_sample_and_fail_the_tampered(tmp_path: Path) -> None:
    installed = _installed(tmp_path)
    good = tmp_path / "good"
    good.mkdir()
    code, outputs = _run_action_steps(good, SAMPLE_DELIVERY, installed)
    assert code == 0
    assert outputs["sarif"] == str(good / "vendorproof-report" / "report.sarif")
    assert outputs["evidence"] == ""
    bad = tmp_path / "bad"
    bad.mkdir()
    code, outputs = _run_action_steps(bad, tampered(bad), installed)
    assert code == 1
    sarif_validator().validate(json.loads(Path(outputs["sarif"]).read_text()))


def _run_component(tmp_path: Path, delivery: Path, installed: Path) -> tuple[int, Path]:
    spec, jobs = yaml.safe_load_all(COMPONENT.read_text("utf-8"))
    inputs = {k: v.get("default", "") for k, v in spec["spec"]["inputs"].items()}
    inputs |= {
        "delivery": str(delivery),
        "policy": str(SAMPLE_POLICY),
        "installed": str(installed),
        "at": SAMPLE_AT_TEXT,
    }
    job = jobs["vendorproof-gate"]
    script = "\n".join(job["script"])
    script = re.sub(
        r"\$\[\[ inputs\.([\w-]+) \]\]", lambda m: inputs[m.group(1)], script
    )
    run = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert "Traceback" not in run.stderr
    junit = job["artifacts"]["reports"]["junit"].replace(
        "$[[ inputs.output-dir ]]", inputs["output-dir"]
    )
    return run.returncode, tmp_path / junit


def test_component_script_passes_the_sample_and_fails_the_tampered(
    tmp_path: Path,
) -> None:
    installed = _installed(tmp_path)
    good = tmp_path / "good"
    good.mkdir()
    code, junit = _run_component(good, SAMPLE_DELIVERY, installed)
    assert code == 0
    assert not [
        x
        for case in next(iter(JUnitXml.fromfile(str(junit))))
        for x in case.result
        if isinstance(x, Failure)
    ]
    bad = tmp_path / "bad"
    bad.mkdir()
    code, junit = _run_component(bad, tampered(bad), installed)
    assert code == 1
    failed = [
        case.name
        for case in next(iter(JUnitXml.fromfile(str(junit))))
        if any(isinstance(x, Failure) for x in case.result)
    ]
    assert f"integrity [{TAMPERED}]" in failed


@pytest.mark.parametrize("sv", [8])
def test_component_refuses_a_downgrade(tmp_path: Path, sv: int) -> None:
    code, junit = _run_component(tmp_path, SAMPLE_DELIVERY, _installed(tmp_path, sv))
    assert code == 1
    failed = [
        case.name
        for case in next(iter(JUnitXml.fromfile(str(junit))))
        if any(isinstance(x, Failure) for x in case.result)
    ]
    assert failed == ["downgrade [acme/AcmeRAN gNB]"]


# -- evidence, and the later stage of docs/ci.md ---------------------------------------

OP_KEY = REPO / "keys" / "operator" / "intake.key"
OP_PUB = REPO / "keys" / "operator" / "intake.pub"


def _later_stage(tmp_path: Path, evidence: str, delivery: Path) -> int:
    text = (REPO / "docs" / "ci.md").read_text("utf-8")
    (block,) = re.findall(r"<!-- ci-test -->\s*```sh\n(.*?)```", text, re.DOTALL)
    work = tmp_path / "later"
    work.mkdir(exist_ok=True)
    env = _env(EVIDENCE=evidence, DELIVERY=str(delivery), OPERATOR_PUB=str(OP_PUB))
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert "Traceback" not in run.stderr
    return run.returncode


def test_action_records_evidence_that_a_later_stage_verifies(tmp_path: Path) -> None:
    store = tmp_path / "evidence.db"
    env = _env()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "vendorproof",
            "evidence",
            "migrate",
            "--store",
            str(store),
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    inputs = {
        "store": str(store),
        "operator_pub": str(OP_PUB),
        "operator_key": str(OP_KEY),
    }
    good = tmp_path / "good"
    good.mkdir()
    code, outputs = _run_action_steps(good, SAMPLE_DELIVERY, None, **inputs)
    assert code == 0
    assert outputs["evidence"]
    intake = json.loads((Path(outputs["json"]).parent / "intake.json").read_text())
    assert intake["verdict"] == "PASSED"
    assert _later_stage(tmp_path, outputs["evidence"], SAMPLE_DELIVERY) == 0
    # Other bytes than the ones the evidence is about: refused.
    swapped = tampered(tmp_path / "swapped")
    assert _later_stage(tmp_path, outputs["evidence"], swapped) != 0
    # A rejected update leaves evidence too (FAILED), which the later stage refuses.
    bad = tmp_path / "bad"
    bad.mkdir()
    code, outputs = _run_action_steps(bad, swapped, None, **inputs)
    assert code == 1
    assert outputs["evidence"]
    assert _later_stage(tmp_path, outputs["evidence"], swapped) != 0
