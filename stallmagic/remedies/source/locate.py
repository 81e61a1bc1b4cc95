"""Locating what a remedy edits in a cell: one pass over the parsed cell records the ``fit`` and ``compile`` calls,
the kernel-layer calls, ``Sequential([...])`` lists, names assigned from calls, the imports, and the statement each
call sits in. The editors (:mod:`.cell` and the ``*_edits`` modules) decide from this record, then edit nodes."""

from __future__ import annotations

import libcst as cst

from ..._internal.keras_names import KERNEL_LAYERS
from .nodes import call_name, node_code, positional_args

#: Expressions that hold code no statement can be inserted before (a fit inside them has no line of its own).
_EXPRESSION_SCOPES = (cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


class CallCollector(cst.CSTVisitor):
    """One pass over the cell: calls of interest and the statement each one sits in."""

    def __init__(self) -> None:
        self.stmt: list[cst.SimpleStatementLine] = []
        self.statements: list[cst.SimpleStatementLine] = []  # every statement line, in source order
        self.call_stmt: dict[int, cst.SimpleStatementLine] = {}
        self.fits: list[cst.Call] = []
        self.nested_fits: set[int] = set()  # ids of fits inside a lambda or a comprehension (no line can go before)
        self._expression_scopes = 0
        self.compiles: list[cst.Call] = []
        self.layers: list[cst.Call] = []  # kernel-layer constructor calls, in source order
        self.sequential_lists: list[cst.List] = []
        self.sequential_calls: list[cst.Call] = []
        self.assigns: dict[str, cst.Call] = {}  # name = Call(...) (last one)
        self.imports: set[str] = set()
        self.names: set[str] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name):  # the root of ``keras.layers.Dense``: a module the cell uses
            self.names.add(node.value.value)

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.stmt.append(node)
        self.statements.append(node)

    def leave_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.stmt.pop()

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, _EXPRESSION_SCOPES):
            self._expression_scopes += 1
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        super().on_leave(original_node)
        if isinstance(original_node, _EXPRESSION_SCOPES):
            self._expression_scopes -= 1

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            bound = alias.asname.name.value if alias.asname else node_code(alias.name).split(".")[0]
            self.imports.add(bound)
            if node_code(alias.name) == "keras" and not alias.asname:
                self.imports.add("keras")

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            self.imports.add(alias.asname.name.value if alias.asname else node_code(alias.name))

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name) and isinstance(node.value, cst.Call):
            self.assigns[node.targets[0].target.value] = node.value

    def visit_Call(self, node: cst.Call) -> None:
        if self.stmt:
            self.call_stmt[id(node)] = self.stmt[-1]
        name = call_name(node.func)
        if name == "fit" and isinstance(node.func, cst.Attribute):
            self.fits.append(node)
            if self._expression_scopes:
                self.nested_fits.add(id(node))
        elif name == "compile" and isinstance(node.func, cst.Attribute):
            self.compiles.append(node)
        elif name in KERNEL_LAYERS:
            self.layers.append(node)
        elif name == "Sequential":
            self.sequential_calls.append(node)
            first = positional_args(node)
            if first and isinstance(first[0].value, cst.List):
                self.sequential_lists.append(first[0].value)
