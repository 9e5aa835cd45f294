"""Shared helpers for the CLI tests: invoke in process, run the console script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner, Result

from vendorproof._cli import ExitCode, app

VENDORPROOF = Path(sys.executable).with_name("vendorproof")
runner = CliRunner()


def invoke(*args: str | Path, env: dict[str, str | None] | None = None) -> Result:
    return runner.invoke(app, [str(a) for a in args], env=env)


def assert_ok(result: Result) -> None:
    assert result.exit_code == ExitCode.OK, (result.stdout, result.stderr)
    assert result.exception is None, result.exception
    assert "Traceback" not in result.output


def assert_error(result: Result, code: int, *needles: str) -> str:
    """Exit ``code`` with one error line on stderr that contains every needle."""
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def assert_usage_error(result: Result, *needles: str) -> str:
    """Exit 2 (Click's usage error): the error line names every needle.

    A value outside an option's choices is a usage error: ``--help`` lists them.
    """
    assert result.exit_code == ExitCode.USAGE, (result.stdout, result.stderr)
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if "Error" in line]
    assert len(errors) == 1, result.stderr
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    return errors[0]


def run_script(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed console script (stdin is not a terminal)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("VENDORPROOF_")}
    return subprocess.run(
        [str(VENDORPROOF), *map(str, args)],
        cwd=cwd,
        env={**base, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def names(directory: Path) -> set[str]:
    """Every entry of ``directory``, hidden temporary files included."""
    return {p.name for p in directory.iterdir()}
