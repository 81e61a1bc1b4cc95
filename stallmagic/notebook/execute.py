"""Running a cell body the way IPython's ``run_cell`` would, except that exceptions reach the caller.

``%%diagnose_fit`` must leave the cell's behaviour unchanged (same namespace, same printed output, the last
expression's value as ``Out``, the same exception) while it wraps the cell in a capture; IPython offers no call
that runs a cell and lets its exception through, so this module repeats the few steps of ``run_cell`` it needs.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any


def run_cell_body(shell: Any, header: str, body: str, *, compiled: Callable[[str], Any] | None = None) -> Any:
    """Execute ``body`` in the user's namespace; return the value the cell's ``Out`` should show (or ``None``).

    The code is registered with IPython's compiler cache under the cell's number with ``header`` (the magic's line)
    as line 1, so tracebacks show "Cell In[n], line k" with the lines the user sees. Node interactivity follows
    ``InteractiveShell.ast_node_interactivity``; the last expression's value is returned, like ``%%time`` does.
    ``compiled``, if given, is called with that file name before the code runs: the ``co_filename`` of the cell's
    frames, which tells a fit called in the cell from one called elsewhere.
    """
    __tracebackhide__ = True
    transformed = shell.transform_cell(body)
    filename = shell.compile.cache(f"{header}\n{transformed}", shell.execution_count, raw_code=f"{header}\n{body}")
    if compiled is not None:
        compiled(filename)
    tree = shell.compile.ast_parse("\n" + transformed, filename=filename)
    tree = shell.transform_ast(tree)
    nodes = list(tree.body) if tree is not None else []
    if not nodes:
        return None
    plain, interactive = _split_by_interactivity(nodes, shell.ast_node_interactivity)
    glob, loc = shell.user_global_ns, shell.user_ns
    if plain:
        exec(shell.compile(ast.Module(plain, type_ignores=[]), filename, "exec"), glob, loc)
    for node in interactive[:-1]:
        exec(shell.compile(ast.Interactive([node]), filename, "single"), glob, loc)
    if interactive:
        last = interactive[-1]
        if isinstance(last, ast.Expr):
            return eval(shell.compile(ast.Expression(last.value), filename, "eval"), glob, loc)
        exec(shell.compile(ast.Interactive([last]), filename, "single"), glob, loc)
    return None


def _split_by_interactivity(nodes: list[ast.stmt], mode: str) -> tuple[list[ast.stmt], list[ast.stmt]]:
    """``(plain, interactive)``: the statements run as a module, and those run one by one as IPython shows them
    (``mode`` is ``ast_node_interactivity``: ``last_expr``, ``last_expr_or_assign``, ``last``, ``all`` or ``none``).
    """
    if mode == "last_expr_or_assign":
        _show_last_assignment(nodes)
        mode = "last_expr"
    if mode == "last_expr":
        mode = "last" if isinstance(nodes[-1], ast.Expr) else "none"
    if mode == "none":
        return nodes, []
    if mode == "last":
        return nodes[:-1], nodes[-1:]
    return [], nodes  # "all"


def _show_last_assignment(nodes: list[ast.stmt]) -> None:
    """Append the assigned name after a final ``x = ...`` (or ``x += ...``, ``x: T = ...``), so it is shown."""
    last = nodes[-1]
    target = None
    if isinstance(last, ast.Assign) and len(last.targets) == 1:
        target = last.targets[0]
    elif isinstance(last, (ast.AugAssign, ast.AnnAssign)):
        target = last.target
    if isinstance(target, ast.Name):
        nodes.append(ast.fix_missing_locations(ast.copy_location(ast.Expr(ast.Name(target.id, ast.Load())), last)))
