"""The layers are a contract, not a hope: import-linter enforces them, and these tests show it would notice."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support import REPO

APPS = ("common", "config", "core", "registry", "governance", "reports")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# A function-level import is for the data stack, kept off django.setup(): these modules load pandas,
# sdmetrics, matplotlib or reportlab when imported. Anything else is imported at the top of the module.
HEAVY = ("registry.evaluation", "registry.tables.reading", "reports.exports.pdf")


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
    )


def test_the_layers_contract_holds():
    result = _lint(REPO)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_the_layers_contract_notices_an_import_of_an_upper_layer_even_inside_a_function(tmp_path):
    for app in APPS:
        shutil.copytree(REPO / app, tmp_path / app, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / "core" / "roles.py").open("a") as module:
        module.write("\n\ndef _shortcut():\n    from governance import workflow  # noqa\n")
    result = _lint(tmp_path)
    assert result.returncode == 1
    assert "Contracts: 2 kept, 1 broken." in result.stdout
    assert "core.roles -> governance.workflow" in result.stdout


def _function_level_imports(path: Path) -> list[tuple[str, str]]:
    module = ".".join(path.relative_to(REPO).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    found = []
    for function in ast.walk(ast.parse(path.read_text())):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    target = ".".join([*base, node.module] if node.module else base)
                else:
                    target = node.module or ""
                names = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            found += [(f"{module}.{function.name}", name) for name in names if name.split(".")[0] in APPS]
    return found


def test_function_level_imports_of_project_code_are_only_for_the_data_stack_or_app_ready():
    offending = []
    for app in APPS:
        for path in sorted((REPO / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for where, target in _function_level_imports(path):
                # AppConfig.ready() is where Django allows an app to import its own and lower apps' models.
                if where.endswith(".apps.ready") or target.startswith(HEAVY):
                    continue
                offending.append(f"{where} imports {target}")
    assert offending == []
