"""Lazy re-exports for package ``__init__`` modules (keeps imports cheap).

A package lists its public names in an ``_EXPORTS`` table (public name -> the submodule
that defines it, or ``"submodule:attribute"`` when the public name differs from the
name in the submodule) and, under ``if TYPE_CHECKING:``, imports the same names
explicitly (``from pkg.sub import Name as Name``) so type checkers see their real
types. At run time only the table is used; ``tests/typecheck/test_exports.py`` keeps the
two in step.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """Return ``__all__``, ``__getattr__`` and ``__dir__`` for ``package``.

    Args:
        package: the package name (``__name__``).
        exports: public name -> submodule defining it, or ``"submodule:attribute"``.
    """
    names = sorted(exports)

    def getattr_(name: str) -> Any:
        target = exports.get(name)
        if target is None:
            msg = f"module {package!r} has no attribute {name!r}"
            raise AttributeError(msg)
        module, _, attribute = target.partition(":")
        return getattr(
            importlib.import_module(f"{package}.{module}"), attribute or name
        )

    def dir_() -> list[str]:
        return names

    return names, getattr_, dir_
