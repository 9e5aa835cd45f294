"""The CI entry point shared by the GitHub Action and the GitLab CI/CD component.

``python -m vendorproof.ci --delivery D --policy P [--installed STATE | --store URL
--operator-pub PUB] [--operator-key KEY] [--out DIR]`` runs ``vendorproof gate`` (or
``verify`` without an installed release) once, printing the table and writing every
artefact into ``DIR``: ``report.json``, ``report.sarif`` and ``report.junit.xml``.
With ``--operator-key`` the decision is then recorded by ``vendorproof intake`` in
the store (``DIR/intake.json``) and that one signed record is exported as an audit
bundle (``DIR/evidence/``) that a later stage verifies with ``vendorproof audit
replay``. It exits with vendorproof's own code (0 accepted, 1 rejected, 3 could not
decide, 4 bug), or 0 with ``--defer-exit`` so that the platform can upload the
artefacts of a rejected update before the job fails (the code is then in
``DIR/exit-code`` and in ``$GITHUB_OUTPUT`` as ``exit-code``). See ``docs/ci.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["ARTEFACTS", "VERDICTS", "main"]

#: Artefact kind -> (file name in the output directory, CLI option that writes it).
ARTEFACTS: dict[str, tuple[str, str]] = {
    "json": ("report.json", "--output-json"),
    "sarif": ("report.sarif", "--output-sarif"),
    "junit": ("report.junit.xml", "--output-junit"),
}

#: Exit code -> the verdict a pipeline reads.
VERDICTS = {0: "accepted", 1: "rejected", 2: "undecided", 3: "undecided"}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m vendorproof.ci",
        description="Gate an update in CI: one vendorproof run, every report.",
    )
    p.add_argument("--delivery", required=True, help="Delivery directory.")
    p.add_argument("--policy", required=True, help="Operator policy YAML.")
    p.add_argument("--installed", default="", help="Installed-release state file.")
    p.add_argument("--store", default="", help="Evidence store URL.")
    p.add_argument(
        "--operator-pub",
        action="append",
        default=[],
        help="Operator public key the store's records verify with (repeatable).",
    )
    p.add_argument(
        "--operator-key",
        default="",
        help="Record the decision in --store with this key and export the record.",
    )
    p.add_argument("--at", default="", help="Validation time, RFC 3339.")
    p.add_argument("--out", default="vendorproof-report", help="Output directory.")
    p.add_argument(
        "--defer-exit",
        action="store_true",
        help="Exit 0 and leave the code in OUT/exit-code and $GITHUB_OUTPUT.",
    )
    return p


_VENDORPROOF = [sys.executable, "-m", "vendorproof"]


def _keys(args: argparse.Namespace) -> list[str]:
    return [a for pub in args.operator_pub for a in ("--operator-pub", pub)]


def command(args: argparse.Namespace, out: Path) -> list[str]:
    """The vendorproof command line of the decision."""
    cmd = list(_VENDORPROOF)
    if args.installed:
        cmd += ["gate", args.delivery, "--policy", args.policy]
        cmd += ["--installed", args.installed]
    elif args.store:
        cmd += ["gate", args.delivery, "--policy", args.policy]
        cmd += ["--store", args.store, *_keys(args)]
    else:
        cmd += ["verify", args.delivery, "--policy", args.policy]
    if args.at:
        cmd += ["--at", args.at]
    for name, option in ARTEFACTS.values():
        cmd += [option, str(out / name)]
    return [*cmd, "--force"]


def _record(args: argparse.Namespace, out: Path) -> int:
    """Record the decision with intake and export that record as an audit bundle."""
    if not args.store or not args.operator_pub:
        print("--operator-key needs --store and --operator-pub", file=sys.stderr)  # noqa: T201
        return 3
    intake = [
        *_VENDORPROOF,
        "intake",
        args.delivery,
        "--policy",
        args.policy,
        "--operator-key",
        args.operator_key,
        "--store",
        args.store,
        "--actor",
        os.environ.get("GITHUB_WORKFLOW_REF") or os.environ.get("CI_JOB_URL") or "ci",
        "--format",
        "json",
        "--output-json",
        str(out / "intake.json"),
        "--force",
        *_keys(args),
    ]
    if args.at:
        intake += ["--at", args.at]
    code = subprocess.run(intake, stdout=subprocess.DEVNULL, check=False).returncode
    summary = out / "intake.json"
    if code not in (0, 1) or not summary.is_file():
        return code or 4
    seq = str(json.loads(summary.read_text(encoding="utf-8"))["record"]["seq"])
    export = [
        *_VENDORPROOF,
        "evidence",
        "export",
        "--store",
        args.store,
        "--bundle",
        str(out / "evidence"),
        "--from",
        seq,
        "--to",
        seq,
        *_keys(args),
    ]
    exported = subprocess.run(export, check=False).returncode
    return exported or code


def _github_output(values: dict[str, str]) -> None:
    target = os.environ.get("GITHUB_OUTPUT")
    if not target:
        return
    with Path(target).open("a", encoding="utf-8") as f:
        # One line per value: a line break in a path must not start another output.
        f.writelines(
            f"{key}={value.replace(chr(13), ' ').replace(chr(10), ' ')}\n"
            for key, value in values.items()
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the gate; return the process exit code."""
    args = _parser().parse_args(argv)
    # Platforms pass every input, empty when unset.
    args.operator_pub = [pub for pub in args.operator_pub if pub]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in [*(n for n, _ in ARTEFACTS.values()), "intake.json"]:
        (out / name).unlink(missing_ok=True)  # never upload a stale report
    shutil.rmtree(out / "evidence", ignore_errors=True)
    code = subprocess.run(command(args, out), check=False).returncode
    if args.operator_key and code in (0, 1):
        recorded = _record(args, out)
        code = code or recorded
    verdict = VERDICTS.get(code, "error")
    (out / "exit-code").write_text(f"{code}\n", encoding="ascii")
    outputs = {"exit-code": str(code), "verdict": verdict}
    for kind, (name, _) in ARTEFACTS.items():
        path = out / name
        outputs[kind] = str(path) if path.is_file() else ""
    evidence = out / "evidence" / "MANIFEST.json"
    outputs["evidence"] = str(evidence.parent) if evidence.is_file() else ""
    _github_output(outputs)
    print(f"vendorproof: update {verdict} (exit {code})", file=sys.stderr)  # noqa: T201
    return 0 if args.defer_exit else code


if __name__ == "__main__":  # pragma: no cover - exercised through subprocess tests
    sys.exit(main())
