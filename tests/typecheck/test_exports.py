"""The public packages' lazy export tables, their typed view, and mypy's verdict.

``vendorproof.verify``, ``vendorproof.models`` and ``vendorproof.evidence`` resolve
their names lazily from an ``_EXPORTS`` table at run time and import the same names
under ``if TYPE_CHECKING:`` for type checkers. These tests keep the two in step (a
name added to one only fails here), prove every name resolves at run time, and prove
mypy types calls through the packages (a wrong-typed call or a misspelt name is an
error, not ``Any``).
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("vendorproof.verify", "vendorproof.models", "vendorproof.evidence")


def _source(package: str) -> ast.Module:
    module = importlib.import_module(package)
    assert module.__file__ is not None
    return ast.parse(Path(module.__file__).read_text(encoding="utf-8"))


def _exports_table(tree: ast.Module) -> dict[str, str]:
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and [getattr(t, "id", None) for t in node.targets] == ["_EXPORTS"]
            and isinstance(node.value, ast.Dict)
        ):
            return {
                ast.literal_eval(k): ast.literal_eval(v)
                for k, v in zip(node.value.keys, node.value.values, strict=True)
                if k is not None
            }
    raise AssertionError("no _EXPORTS = {...} literal")


def _type_checking_block(tree: ast.Module) -> list[ast.stmt]:
    for node in tree.body:
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Name)
            and node.test.id == "TYPE_CHECKING"
        ):
            return node.body
    raise AssertionError("no `if TYPE_CHECKING:` block")


def _typed_exports(package: str, block: list[ast.stmt]) -> dict[str, str]:
    """Public name -> ``module`` or ``module:attribute``, as the block imports it.

    ``from pkg.mod import Name as Name`` re-exports ``Name``; a name bound under
    another name is imported privately (``from pkg.mod import f as _f``) and assigned
    (``public = _f``), since mypy re-exports only ``X as X`` imports.
    """
    private: dict[str, str] = {}
    public: dict[str, str] = {}
    for node in block:
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, "absolute imports only"
            assert node.module is not None
            prefix = f"{package}."
            assert node.module.startswith(prefix), node.module
            module = node.module.removeprefix(prefix)
            for alias in node.names:
                bound = alias.asname or alias.name
                target = module if bound == alias.name else f"{module}:{alias.name}"
                if bound == alias.name:
                    assert alias.asname == alias.name, (
                        f"{alias.name}: import it as `{alias.name} as {alias.name}` "
                        "(mypy re-exports only explicit aliases)"
                    )
                    public[bound] = target
                else:
                    assert bound.startswith("_"), f"{bound}: bind it privately"
                    private[bound] = target
        elif isinstance(node, ast.Assign):
            (target_node,) = node.targets
            assert isinstance(target_node, ast.Name)
            assert isinstance(node.value, ast.Name)
            public[target_node.id] = private.pop(node.value.id)
        else:
            pytest.fail(f"unexpected statement: {ast.unparse(node)}")
    assert not private, f"imported but not re-exported: {sorted(private)}"
    return public


@pytest.mark.parametrize("package", PACKAGES)
def test_type_checking_block_matches_the_lazy_table(package: str) -> None:
    tree = _source(package)
    table = _exports_table(tree)
    typed = _typed_exports(package, _type_checking_block(tree))
    assert typed == table


@pytest.mark.parametrize("package", PACKAGES)
def test_every_export_resolves_to_its_definition(package: str) -> None:
    pkg = importlib.import_module(package)
    table = _exports_table(_source(package))
    assert pkg.__all__ == sorted(table)
    assert sorted(dir(pkg)) == sorted(table)
    for name, target in table.items():
        module, _, attribute = target.partition(":")
        defining: ModuleType = importlib.import_module(f"{package}.{module}")
        assert getattr(pkg, name) is getattr(defining, attribute or name), name


@pytest.mark.parametrize("package", PACKAGES)
def test_unknown_name_is_an_attribute_error(package: str) -> None:
    pkg = importlib.import_module(package)
    with pytest.raises(AttributeError, match=r"has no attribute 'no_such_name'"):
        _ = pkg.no_such_name


def test_replay_records_survives_the_replay_submodule_import() -> None:
    # The import system binds `vendorproof.evidence.replay` to the submodule; the
    # function keeps a name of its own.
    import vendorproof.evidence
    import vendorproof.evidence.replay

    assert vendorproof.evidence.replay_records is vendorproof.evidence.replay.replay


def test_typing_module_imports() -> None:
    module = importlib.import_module("tests.typecheck.public_api")
    assert callable(module.verify_api)


@pytest.mark.slow
def test_mypy_reports_wrong_typed_calls_through_the_packages(tmp_path: Path) -> None:
    snippet = tmp_path / "snippet.py"
    snippet.write_text(
        textwrap.dedent(
            """\
            from datetime import datetime

            from vendorproof import evidence, models, verify

            verify.verify_chain(b"leaf", [], [], at=datetime.now())
            models.pae("in-toto", "not bytes")
            evidence.open_store(42)
            store = evidence.open_store("sqlite:///e.db")
            summary: int = evidence.replay_records(evidence.StoreSource(store), keys=())
            from vendorproof.verify import verify_chian
            """
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(REPO / "pyproject.toml"),
            "--no-error-summary",
            "--show-error-codes",
            # A cache of its own: the checkout's cache remembers module `snippet`
            # at an earlier run's path, and reports that path instead.
            "--cache-dir",
            str(tmp_path / "mypy-cache"),
            str(snippet),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    errors: dict[int, str] = {}
    for line in result.stdout.splitlines():
        if line.startswith(str(snippet)) and ": error: " in line:
            number = int(line.split(":")[1])
            errors[number] = errors.get(number, "") + line
    assert result.returncode == 1, result.stdout + result.stderr
    assert sorted(errors) == [5, 6, 7, 9, 10], result.stdout
    assert '"verify_chain" has incompatible type "bytes"' in errors[5]
    assert "[arg-type]" in errors[5]
    assert '"pae" has incompatible type "str"; expected "bytes"' in errors[6]
    assert '"open_store" has incompatible type "int"; expected "str"' in errors[7]
    assert '"ReplaySummary", variable has type "int"' in errors[9]
    assert 'has no attribute "verify_chian"' in errors[10]
