"""Running a cell body the way IPython's ``run_cell`` would, except that exceptions reach the caller.

``%%diagnose_fit`` must leave the cell's behaviour unchanged (same namespace, same printed output, the last
expression's value as ``Out``, the same exception) while it wraps the cell in a capture; IPython offers no call
that runs a cell and lets its exception through, so this module repeats the few steps of ``run_cell`` it needs:
parse the whole cell first (:func:`parse_cell`), then compile and run one statement at a time
(:func:`run_parsed`), as ``run_ast_nodes`` does.

A cell that does not compile is not an exception of the user's code: IPython shows it in two lines, without a
traceback, and records it as the cell's error *before execution*. Both steps raise :class:`NotCompiled` for it, and
:func:`fail_before_exec` reports it the same way, so the magic's own frames and IPython's compiler never show.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from IPython.core.error import InputRejected

#: What IPython's ``run_cell`` shows as a syntax error when a cell does not parse (its own list).
PARSE_ERRORS = (OverflowError, SyntaxError, ValueError, TypeError, MemoryError)


class NotCompiled(Exception):
    """The cell body did not get as far as running: IPython reports this as an error before execution.

    Args:
        error: The exception IPython would show, unchanged (a ``SyntaxError`` from parsing or compiling, an
            ``InputRejected`` from an AST transformer, ...).
        stage: ``"parse"`` (IPython shows it with ``showsyntaxerror``, or ``showindentationerror``), or
            ``"compile"``/``"transform"`` (IPython shows it with ``showtraceback``).
    """

    def __init__(self, error: BaseException, stage: str) -> None:
        super().__init__(stage, error)
        self.error = error
        self.stage = stage

    def show(self, shell: Any) -> None:
        """Display the error exactly as IPython does for a cell that does not compile (two lines for a syntax
        error: its place in the cell and the message; no traceback)."""
        try:
            raise self.error  # IPython's display methods read the exception being handled
        except BaseException:
            if self.stage == "parse" and isinstance(self.error, IndentationError):
                shell.showindentationerror()
            elif self.stage == "parse":
                shell.showsyntaxerror()
            else:
                shell.showtraceback()


@dataclass
class ParsedCell:
    """A cell body parsed and transformed as IPython would, not yet compiled.

    Attributes:
        filename: The name the body is cached under (tracebacks say "Cell In[n], line k").
        nodes: The top-level statements, after IPython's AST transformers.
    """

    filename: str
    nodes: list[ast.stmt]


def parse_cell(shell: Any, header: str, body: str) -> ParsedCell:
    """Parse ``body`` as IPython's ``run_cell`` parses a cell, before anything of it runs.

    The code is registered with IPython's compiler cache under the cell's number with ``header`` (the magic's line)
    as line 1, so tracebacks show "Cell In[n], line k" with the lines the user sees.

    Raises:
        NotCompiled: The body does not parse, or an input or AST transformer rejected it (nothing ran).
    """
    __tracebackhide__ = True
    try:
        transformed = shell.transform_cell(body)
    except Exception as exc:
        raise NotCompiled(exc, "transform") from None
    filename = shell.compile.cache(f"{header}\n{transformed}", shell.execution_count, raw_code=f"{header}\n{body}")
    try:
        tree = shell.compile.ast_parse("\n" + transformed, filename=filename)
    except PARSE_ERRORS as exc:
        raise NotCompiled(exc, "parse") from None
    try:
        tree = shell.transform_ast(tree)
    except InputRejected as exc:
        raise NotCompiled(exc, "transform") from None
    return ParsedCell(filename, list(tree.body) if tree is not None else [])


def run_parsed(shell: Any, cell: ParsedCell) -> Any:
    """Run a parsed cell in the user's namespace; return the value the cell's ``Out`` should show (or ``None``).

    Each statement is compiled just before it runs, as IPython's ``run_ast_nodes`` does (so a statement that
    parses but does not compile, such as ``return`` outside a function, stops the cell after the ones before it
    ran, and ``from __future__`` may follow other statements). Node interactivity follows
    ``InteractiveShell.ast_node_interactivity``; the last expression's value is returned, like ``%%time`` does.

    Raises:
        NotCompiled: A statement did not compile (the statements before it ran).
        BaseException: Whatever the user's code raised, unchanged.
    """
    __tracebackhide__ = True
    nodes, filename = list(cell.nodes), cell.filename
    if not nodes:
        return None
    plain, interactive = _split_by_interactivity(nodes, shell.ast_node_interactivity)
    glob, loc = shell.user_global_ns, shell.user_ns
    for node in plain:
        exec(_compile(shell, ast.Module([node], type_ignores=[]), filename, "exec"), glob, loc)
    for node in interactive[:-1]:
        exec(_compile(shell, ast.Interactive([node]), filename, "single"), glob, loc)
    if interactive:
        last = interactive[-1]
        if isinstance(last, ast.Expr):
            return eval(_compile(shell, ast.Expression(last.value), filename, "eval"), glob, loc)
        exec(_compile(shell, ast.Interactive([last]), filename, "single"), glob, loc)
    return None


def fail_before_exec(shell: Any, body: str, failed: NotCompiled) -> bool:
    """Report ``failed`` as IPython reports a cell that does not compile, when the magic is the whole running cell.

    IPython shows the error in two lines and records it as the cell's ``error_before_exec``, so the cell fails
    (``result.success`` is false, a kernel replies "error" and a Run All stops) without a traceback of the magic's
    frames. Here the same happens: shown the same way, recorded on the running cell's ``ExecutionResult`` (the one
    IPython gives its display hook while the cell runs), and ``last_execution_succeeded`` made false once the cell
    ends (IPython sets it after the magic returns). Returns ``False`` and does nothing when the magic was called
    some other way (``run_cell_magic`` inside a cell of code): the caller then raises the error.
    """
    result = getattr(getattr(shell, "displayhook", None), "exec_result", None)
    if result is None or not _is_the_whole_cell(shell, getattr(result.info, "raw_cell", None), body):
        return False
    failed.show(shell)
    result.error_before_exec = failed.error

    def mark_failed() -> None:
        shell.last_execution_succeeded = False
        shell.events.unregister("post_execute", mark_failed)

    shell.events.register("post_execute", mark_failed)
    return True


def _is_the_whole_cell(shell: Any, raw_cell: Any, body: str) -> bool:
    """Whether the running cell is this cell magic and nothing else (IPython turns it into one statement,
    ``get_ipython().run_cell_magic(name, line, body)``): then nothing of the cell follows the magic's return."""
    if not isinstance(raw_cell, str):
        return False
    try:
        tree = ast.parse(shell.transform_cell(raw_cell))
    except Exception:
        return False
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return False
    call = tree.body[0].value
    return (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "run_cell_magic"
        and len(call.args) == 3
        and isinstance(call.args[2], ast.Constant)
        and call.args[2].value == body
    )


def _compile(shell: Any, node: ast.mod, filename: str, mode: str) -> Any:
    """One statement compiled with IPython's compiler (its ``__future__`` flags carry over); a failure is
    :class:`NotCompiled`, as ``run_ast_nodes`` reports it before running the statement."""
    try:
        return shell.compile(node, filename, mode)
    except Exception as exc:
        raise NotCompiled(exc, "compile") from None


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
