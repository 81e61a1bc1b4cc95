"""Imports point down the layer table of ``docs/architecture.md``, at module and at function level.

The one documented exception is the ``Run``/``Session`` facades in ``record.py``: each a method whose body is its
lazy import and one call. Read from the source (``ast``), so an import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "stallmagic"

#: The layers, lowest first (``docs/architecture.md``); a module may import only its own layer and lower ones.
LAYERS = ["_internal", "record", "capture", "diagnosis", "remedies", "rerun", "render", "notebook"]


def _layer(parts: list[str]) -> str | None:
    return parts[0] if parts and parts[0] in LAYERS else None


def _imported(module: tuple[str, ...], node: ast.AST) -> list[list[str]]:
    """The package-relative paths (``["remedies", "suggest"]``) that an import node of ``module`` names."""
    if isinstance(node, ast.Import):
        return [a.name.split(".")[1:] for a in node.names if a.name.split(".")[0] == "stallmagic"]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level == 0:
        parts = (node.module or "").split(".")
        return [parts[1:]] if parts[0] == "stallmagic" else []
    package = list(module[:-1])
    base = package[: len(package) - (node.level - 1)]
    if node.module:
        return [base + node.module.split(".")]
    return [[*base, a.name] for a in node.names]


def _upward_imports() -> list[tuple[str, int, str, ast.AST]]:
    """``(file, line, imported module, the function holding it or None)`` for each import of a higher layer."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE).with_suffix("").parts
        mine = _layer(list(module))
        if mine is None:  # the package's __init__, __main__ and demo sit above every layer
            continue
        tree = ast.parse(path.read_text())
        holders = {}
        for func in ast.walk(tree):
            if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(func):
                    holders[inner] = func  # ast.walk goes outermost first, so the innermost function wins
        for node in ast.walk(tree):
            for target in _imported(module, node):
                other = _layer(target)
                if other is not None and LAYERS.index(other) > LAYERS.index(mine):
                    found.append((str(path.relative_to(PACKAGE)), node.lineno, ".".join(target), holders.get(node)))
    return found


def _is_facade(func: ast.AST | None) -> bool:
    """A method whose body is a docstring, one import and one ``return`` of a call."""
    if not isinstance(func, ast.FunctionDef):
        return False
    body = func.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return (
        len(body) == 2
        and isinstance(body[0], ast.ImportFrom)
        and isinstance(body[1], ast.Return)
        and isinstance(body[1].value, ast.Call)
    )


def test_only_the_record_facades_import_a_higher_layer():
    upward = _upward_imports()
    outside = [(f, line, target) for f, line, target, func in upward if f != "record.py" or not _is_facade(func)]
    assert outside == []
    assert {target.split(".")[0] for f, _, target, _ in upward} <= {"remedies", "rerun"}


def test_relative_imports_are_resolved_from_the_importing_package():
    node = ast.parse("from ..remedies import suggest").body[0]
    assert _imported(("diagnosis", "__init__"), node) == [["remedies"]]
    assert _imported(("diagnosis", "rules", "data"), node) == [["diagnosis", "remedies"]]
    assert _imported(("record",), ast.parse("from .rerun import rerun").body[0]) == [["rerun"]]
    assert _imported(("capture", "intercept"), ast.parse("from . import recorder").body[0]) == [["capture", "recorder"]]
