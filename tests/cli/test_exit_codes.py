"""The exit-code contract holds for every command, Ctrl-C included (docs/cli.md)."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

from tests.cli.support import VENDORPROOF, names
from vendorproof._cli import ExitCode, app
from vendorproof._cli._errors import handles_errors

VENDOR_A = Path(__file__).resolve().parents[2] / "keys" / "vendor-a"


def _typer_commands(
    typer_app: typer.Typer, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], typer.models.CommandInfo]]:
    for info in typer_app.registered_commands:
        assert info.name is not None, info.callback
        yield (*prefix, info.name), info
    for group in typer_app.registered_groups:
        assert group.typer_instance is not None
        assert group.name is not None
        yield from _typer_commands(group.typer_instance, (*prefix, group.name))


def _click_commands(
    command: object, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    subcommands = getattr(command, "commands", None)  # a group (click's or typer's)
    if isinstance(subcommands, dict):
        for name, sub in subcommands.items():
            yield from _click_commands(sub, (*prefix, name))
    else:
        yield prefix


def test_every_registered_command_maps_errors_to_exit_codes() -> None:
    commands = dict(_typer_commands(app))
    unwrapped = [
        " ".join(path)
        for path, info in commands.items()
        if info.callback is None or not handles_errors(info.callback)
    ]
    assert not unwrapped, f"commands without the exit-code mapping: {unwrapped}"
    # The walk saw every command the command line offers, no fewer.
    offered = set(_click_commands(typer.main.get_command(app)))
    assert offered == set(commands)
    assert {("sign",), ("verify",), ("log", "witness"), ("audit", "replay")} <= offered


@pytest.fixture
def statement(tmp_path: Path) -> Path:
    digest = hashlib.sha256(b"du").hexdigest()
    path = tmp_path / "statement.json"
    path.write_text(
        '{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"du.img",'
        f'"digest":{{"sha256":"{digest}"}}}}],'
        '"predicateType":"https://example.test/p/v1","predicate":{}}'
    )
    return path


def test_ctrl_c_exits_130(statement: Path, tmp_path: Path) -> None:
    # A TSA that accepts the connection and never answers: the command waits in
    # the request until it is interrupted with SIGINT, as Ctrl-C on a terminal does.
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(60)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        env = {k: v for k, v in os.environ.items() if not k.startswith("VENDORPROOF_")}
        proc = subprocess.Popen(
            [
                str(VENDORPROOF),
                "sign",
                str(statement),
                "--key",
                str(VENDOR_A / "release.key"),
                "--tsa-url",
                url,
                "-o",
                str(out_dir / "s.sigstore.json"),
            ],
            env={**env, "no_proxy": "*"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            conn, _ = listener.accept()  # the command is now in its TSA request
            with conn:
                proc.send_signal(signal.SIGINT)
                stdout, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:  # pragma: no cover - only when the test fails
                proc.kill()
                proc.wait()
    assert proc.returncode == ExitCode.INTERRUPTED, (stdout, stderr)
    assert ExitCode.INTERRUPTED.value == 130
    assert stderr == "interrupted\n"
    assert stdout == ""
    assert names(out_dir) == set()
