"""The tree keeps the design: one import direction, no cycles, no import dodging one, and
no production module so large it holds several jobs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PACKAGES = ("workflows", "activities", "starter", "workers")
MAX_LINES = 600

# What each part may import of Touchpoint's own code (by dotted prefix).
ALLOWED = {
    "workflows": ("workflows",),
    "activities": ("workflows",),
    "activities.common": ("workflows", "activities.common"),
    "activities.stores": ("workflows", "activities.common", "activities.stores"),
    "activities.content": ("workflows", "activities.common", "activities.content"),
    "activities.windows": ("workflows", "activities.common", "activities.windows"),
    "activities.delivery": (
        "workflows",
        "activities.common",
        "activities.stores",
        "activities.content",
        "activities.privacy",
        "activities.delivery",
    ),
    "activities.privacy": ("workflows", "activities.common", "activities.stores", "activities.privacy"),
    "activities.inbound": ("workflows", "activities.common", "activities.stores", "activities.inbound"),
    "activities.registry": ("workflows", "activities"),
    "starter": ("workflows", "activities", "starter"),
    "workers": ("workflows", "activities", "starter", "workers"),
}


def modules() -> list[tuple[str, Path]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found.append((".".join(p for p in parts if p != "__init__"), path))
    return found


def rule_for(module: str) -> tuple[str, ...]:
    owner = max((key for key in ALLOWED if module == key or module.startswith(key + ".")), key=len)
    return ALLOWED[owner]


def first_party_imports(tree: ast.AST) -> list[tuple[str, ast.stmt]]:
    imports = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports += [(alias.name, node) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imports.append((node.module, node))
    return [(name, node) for name, node in imports if name.split(".")[0] in PACKAGES]


MODULES = modules()


@pytest.mark.parametrize(("module", "path"), MODULES, ids=[m for m, _ in MODULES])
def test_imports_go_one_way(module: str, path: Path) -> None:
    allowed = rule_for(module)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    wrong = [
        f"line {node.lineno}: {name}"
        for name, node in first_party_imports(tree)
        if not any(name == prefix or name.startswith(prefix + ".") for prefix in allowed)
    ]
    assert wrong == [], f"{module} may import only {', '.join(allowed)}"


@pytest.mark.parametrize(("module", "path"), MODULES, ids=[m for m, _ in MODULES])
def test_no_first_party_import_hides_inside_a_function(module: str, path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden = [
        f"line {inner.lineno}: {name}"
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for name, inner in first_party_imports(function)
    ]
    assert hidden == []


@pytest.mark.parametrize(("module", "path"), MODULES, ids=[m for m, _ in MODULES])
def test_no_production_module_is_over_600_lines(module: str, path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES
