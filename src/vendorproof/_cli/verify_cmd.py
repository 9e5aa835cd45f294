"""Operator-side commands: verify, policy check, x509 verify."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach the operator-side commands to ``app``."""
    del app
