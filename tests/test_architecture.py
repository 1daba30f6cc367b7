"""Dependencies point inward: the core imports no adapter, and the package's __init__ holds no logic."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "bot"
ADAPTERS = ("cli", "console", "telegram_bot", "__main__")
NAMED_CORE = ("knowledge", "language", "retrieval", "intents", "engine", "settings", "store", "evaluation")
# A new module is core unless it is declared an adapter above.
CORE = tuple(sorted({p.stem for p in PACKAGE.glob("*.py")} - {"__init__", *ADAPTERS} | set(NAMED_CORE)))
# Adapters and the libraries only adapters may use.
FORBIDDEN = ("telegram", "argparse", "bot.cli", "bot.console", "bot.telegram_bot")


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, anywhere in it (functions included), with relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # from . import cli / from .console import render
                base = ".".join(["bot", *filter(None, [base])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def is_forbidden(module: str) -> bool:
    return any(module == name or module.startswith(f"{name}.") for name in FORBIDDEN)


@pytest.mark.parametrize("name", CORE)
def test_core_module_imports_no_adapter(name: str) -> None:
    path = PACKAGE / f"{name}.py"
    assert path.exists(), f"core module bot/{name}.py is missing"
    offending = sorted(m for m in imported_modules(path) if is_forbidden(m))
    assert offending == [], f"bot/{name}.py imports {offending}"


def test_the_import_check_would_catch_an_adapter_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import argparse\nfrom telegram.ext import Application\nfrom . import console\n"
        "def later():\n    from bot.cli import main\n",
        encoding="utf-8",
    )
    found = {m for m in imported_modules(sample) if is_forbidden(m)}
    assert {"argparse", "telegram.ext", "bot.console", "bot.cli"} <= found


def test_importing_the_core_loads_no_adapter() -> None:
    """The same rule at run time, so an import hidden behind a helper module is caught too.

    argparse is left out here: third-party libraries the core uses import it themselves.
    """
    modules = ", ".join(f"bot.{name}" for name in CORE)
    adapters = ("bot.cli", "bot.console", "bot.telegram_bot")
    script = (
        f"import sys, {modules}\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] == 'telegram' or m in {adapters!r})\n"
        "print(bad)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_package_init_holds_no_logic() -> None:
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, (ast.Constant, ast.List, ast.Tuple)):
            values = node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) else [node.value]
            if all(isinstance(v, ast.Constant) for v in values):
                continue  # __version__ = "...", __all__ = [...]
        pytest.fail(f"bot/__init__.py line {node.lineno}: {ast.dump(node)[:80]} is logic; move it to a module")


@pytest.mark.parametrize("name", CORE)
def test_core_module_says_what_it_owns(name: str) -> None:
    docstring = ast.get_docstring(ast.parse((PACKAGE / f"{name}.py").read_text(encoding="utf-8")))
    assert docstring, f"bot/{name}.py has no module docstring"
