"""How ``--help`` names arguments: the usage line shows ``DELIVERY``, ``[FILE]...``.

typer renders a required argument as ``{delivery}`` in the usage line; the command
class set here on every registered command keeps Click's conventional form (upper
case, optional ones in brackets, ``...`` for several). Option metavars are written
where each option is declared (``--at TIME``, ``--store URL``); an option with fixed
choices is an enum (``_choices.py``), and ``--help`` lists them.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand

#: Metavars by Click parameter type name, for options declared without one.
_METAVARS = {"path": "PATH", "text": "TEXT", "integer": "N", "float": "X"}


class PlainUsageCommand(TyperCommand):
    """A typer command whose usage line names arguments the way Click does.

    An option declared without a metavar gets the conventional one of its type
    (``PATH``, ``TEXT``, ``N``) rather than typer's ``<path>``/``<str>``.
    """

    def get_params(self, ctx: Any) -> list[Any]:
        """The parameters, each option with a conventional metavar."""
        params: list[Any] = super().get_params(ctx)
        for param in params:
            if param.param_type_name == "option" and param.metavar is None:
                name = getattr(getattr(param, "type", None), "name", "")
                if name in _METAVARS and not getattr(param, "is_flag", False):
                    param.metavar = _METAVARS[name]
        return params

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """``[OPTIONS]`` and the arguments, as ``NAME``, ``[NAME]`` or ``NAME...``."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name != "argument":
                continue
            name = (param.metavar or param.name or "").upper()
            if not param.required:
                name = f"[{name}]"
            if param.nargs != 1:
                name += "..."
            pieces.append(name)
        return pieces


def use_plain_usage(app: typer.Typer) -> None:
    """Give every command registered on ``app`` and its sub-apps that usage line."""
    for info in app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = PlainUsageCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            use_plain_usage(group.typer_instance)
