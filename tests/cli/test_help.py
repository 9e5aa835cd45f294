"""``--help`` lists option choices, real metavars and no ``--no-`` negations."""

from __future__ import annotations

import enum
import gc
import inspect
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tests.cli.support import assert_ok, invoke
from vendorproof._cli import (
    COMMAND_MODULES,
    OVERVIEW,
    _choices,
    app,
    build_app,
    main,
    modules_for,
    overview_app,
)
from vendorproof._internal import crypto
from vendorproof.evidence import record
from vendorproof.models.policy import RevocationMode
from vendorproof.reports import ReportFormat
from vendorproof.verify.x509 import Eku


def _commands(typer_app: typer.Typer, prefix: tuple[str, ...] = ()) -> Iterator[str]:
    for info in typer_app.registered_commands:
        assert info.name is not None
        yield " ".join((*prefix, info.name))
    for group in typer_app.registered_groups:
        assert group.typer_instance is not None
        assert group.name is not None
        yield " ".join((*prefix, group.name))
        yield from _commands(group.typer_instance, (*prefix, group.name))


COMMANDS = ["", *_commands(app)]


def _help(command: str) -> str:
    result = invoke(*command.split(), "--help")
    assert_ok(result)
    return result.stdout


def _options(text: str) -> list[str]:
    """The lines of the Options section."""
    return text.partition("\nOptions:\n")[2].splitlines()


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_real_metavars_and_no_negations(command: str) -> None:
    text = _help(command)
    usage = text.splitlines()[0]
    assert usage.startswith(f"Usage: vendorproof {command}".rstrip()), usage
    assert "{" not in usage, usage  # typer's "{delivery}"
    assert not re.search(r"\[[a-z_]+\]", usage.replace("[OPTIONS]", "")), usage
    assert " / --no-" not in text, text  # "--debug / --no-debug"
    options = "\n".join(_options(text))
    for typed in ("<str>", "<path>", "<int>", "<float>", "<list", "<bool>"):
        assert typed not in options, (typed, options)


def test_root_help_shows_plain_flags() -> None:
    options = _options(_help(""))
    assert any(line.split()[:1] == ["--debug"] for line in options), options
    assert any(line.split()[:1] == ["--version"] for line in options), options
    assert not any("no-debug" in line or "no-version" in line for line in options)


def test_usage_names_arguments_in_capitals() -> None:
    assert (
        _help("verify").splitlines()[0]
        == "Usage: vendorproof verify [OPTIONS] DELIVERY"
    )
    assert _help("manifest create").splitlines()[0].endswith("[OPTIONS] FILES...")
    assert _help("log consistency").splitlines()[0].endswith("OLD [NEW]")


@pytest.mark.parametrize(
    ("command", "option", "choices"),
    [
        ("verify", "--format", "text|json|sarif|junit"),
        ("intake", "--format", "text|json|sarif|junit"),
        ("gate", "--format", "text|json|sarif|junit"),
        ("x509 verify", "--eku", "code-signing|time-stamping|any"),
        ("x509 verify", "--revocation", "require|if-available|off"),
        ("evidence list", "--verdict", "passed|failed"),
        ("evidence export", "--verdict", "passed|failed"),
        ("evidence export", "--format", "jsonl|csv|vsa"),
        ("keys generate", "--type", "ed25519|ecdsa-p256|ecdsa-p384|rsa-3072"),
        ("manifest create", "--domain", "RAN|Core|Transport|OAM"),
    ],
)
def test_help_lists_the_choices(command: str, option: str, choices: str) -> None:
    lines = [line for line in _options(_help(command)) if line.split()[:1] == [option]]
    assert len(lines) == 1, lines
    assert choices in lines[0], lines[0]


@pytest.mark.parametrize(
    ("choice", "values"),
    [
        (_choices.KeyType, crypto.KEY_TYPES),
        (_choices.EkuChoice, tuple(e.value for e in Eku)),
        (_choices.RevocationChoice, tuple(m.value for m in RevocationMode)),
        (_choices.OutputFormat, ("text", *(f.value for f in ReportFormat))),
        (_choices.VerdictChoice, tuple(sorted(record._VERDICTS, reverse=True))),
    ],
)
def test_choices_mirror_the_library(
    choice: type[enum.StrEnum], values: tuple[str, ...]
) -> None:
    assert tuple(c.value for c in choice) == values


def _top_level(typer_app: typer.Typer) -> dict[str, set[str]]:
    """Each top-level command -> its commands (groups: every subcommand path)."""
    out: dict[str, set[str]] = {}
    for path in _commands(typer_app):
        out.setdefault(path.split()[0], set()).add(path)
    return out


#: Builds one top-level command as main() does and prints its command paths (no
#: import of this module: it builds the full command line at import).
_BUILT_ALONE = """
import json, sys
from vendorproof._cli import COMMAND_MODULES, build_app

def paths(app, prefix):
    for info in app.registered_commands:
        yield " ".join((*prefix, info.name))
    for group in app.registered_groups:
        yield " ".join((*prefix, group.name))
        yield from paths(group.typer_instance, (*prefix, group.name))

name = sys.argv[1]
built = build_app(COMMAND_MODULES[name])
print(json.dumps(sorted(p for p in paths(built, ()) if p.split()[0] == name)))
"""


@pytest.mark.parametrize("name", sorted(COMMAND_MODULES))
def test_the_command_table_names_every_command_and_its_modules(name: str) -> None:
    # main() builds only the modules COMMAND_MODULES names for the invoked command,
    # in a fresh process: a module that adds a subcommand to another module's group
    # (log_cmd and certification_cmd add to `audit`) must be listed, which only a
    # fresh interpreter shows (here the full app has already been built).
    full = _top_level(app)
    assert set(COMMAND_MODULES) == set(full)
    built = subprocess.run(
        [sys.executable, "-c", _BUILT_ALONE, name],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert json.loads(built.stdout) == sorted(full[name])


@pytest.mark.parametrize(
    ("argv", "modules"),
    [
        (["verify", "D", "--policy", "P"], ("verify_cmd",)),
        (
            ["--debug", "audit", "affected"],
            ("evidence_cmd", "log_cmd", "certification_cmd"),
        ),
        ([], None),
        (["--help"], None),
        (["--version"], None),
        (["--debug"], None),
        (["no-such-command"], None),
    ],
)
def test_main_builds_the_invoked_command_only(
    argv: list[str], modules: tuple[str, ...] | None
) -> None:
    assert modules_for(argv) == modules
    if modules is not None:
        built = set(_top_level(build_app(modules)))
        assert built == {
            n for n, m in COMMAND_MODULES.items() if set(m) <= set(modules)
        }


@pytest.mark.parametrize(
    "argv",
    [[], ["--help"], ["--debug", "--help"], ["--version"], ["--debug"], ["nosuch"]],
)
def test_the_overview_answers_as_the_full_command_line(argv: list[str]) -> None:
    # Without a command, main() builds the root from OVERVIEW alone: its help, its
    # version and its errors must be those of the full command line.
    runner = CliRunner()
    full = runner.invoke(app, argv, prog_name="vendorproof")
    overview = runner.invoke(overview_app(), argv, prog_name="vendorproof")
    assert (overview.exit_code, overview.output) == (full.exit_code, full.output)
    assert full.output  # help, version or an error: never silence


def test_the_overview_lists_every_command_with_its_own_summary() -> None:
    def entries(typer_app: typer.Typer) -> list[tuple[str, bool, str]]:
        out = []
        for info in typer_app.registered_commands:
            text = info.help or inspect.getdoc(info.callback) or ""
            out.append((str(info.name), False, text.split("\n\n")[0]))
        for group in typer_app.registered_groups:
            assert group.typer_instance is not None
            out.append((str(group.name), True, str(group.typer_instance.info.help)))
        return out

    assert entries(app) == list(OVERVIEW)


def test_main_runs_a_command_and_lists_every_command_in_help(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["vendorproof", "--help"])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 0
    listed = capsys.readouterr().out
    for name in COMMAND_MODULES:
        assert f" {name} " in listed, name
    monkeypatch.setattr("sys.argv", ["vendorproof", "x509", "--help"])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 0
    assert "Usage: vendorproof x509" in capsys.readouterr().out
    gc.unfreeze()


def test_main_freezes_the_heap_when_the_command_ends(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The shutdown of a process need not trace the whole heap (docs/performance.md):
    # main() leaves every object in the permanent generation, also after an error.
    for argv, code in ((["--version"], 0), (["verify", "/nonexistent"], 2)):
        gc.unfreeze()
        assert gc.get_freeze_count() == 0
        monkeypatch.setattr("sys.argv", ["vendorproof", *argv])
        try:
            with pytest.raises(SystemExit) as exc:
                main()
            assert exc.value.code == code
            assert gc.get_freeze_count() > 0
        finally:
            gc.unfreeze()
    capsys.readouterr()
