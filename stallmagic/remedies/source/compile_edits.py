"""Edits to the ``compile`` call and the optimizer it receives: the optimizer's class, its learning rate or another
argument (in its constructor, wherever the cell builds it), and the loss."""

from __future__ import annotations

from typing import Any

import libcst as cst

from ..specs.optimizer import OPTIMIZERS
from .cell import CellEditorCore
from .nodes import get_argument, set_argument, with_keyword


class CompileEdits(CellEditorCore):
    """The edits the optimizer specs (:mod:`stallmagic.remedies.specs.optimizer`) and the loss fix make."""

    def _compile_or_snippet(self, remedy: Any) -> cst.Call | None:
        call = self.compile
        if call is None:
            self.snippet(remedy.as_code(), "the model.compile call is not in this cell")
        return call

    def _optimizer_target(self, compile_call: cst.Call) -> tuple[str, Any]:
        """Where the optimizer is: ("call", Call) for ``Adam(...)`` written inline or assigned in the cell,
        ("string", node) for ``"adam"``, ("other", node) for anything else, ("missing", None)."""
        value = get_argument(compile_call, 0, "optimizer")
        if value is None:
            return "missing", None
        if isinstance(value, cst.Call):
            return "call", value
        if isinstance(value, cst.SimpleString):
            return "string", value
        if isinstance(value, cst.Name) and value.value in self.info.assigns:
            return "call", self.info.assigns[value.value]
        return "other", value

    def set_optimizer(self, code: str, remedy: Any) -> None:
        """Give ``compile`` the optimizer ``code`` (by position or keyword, as the call has it)."""
        call = self._compile_or_snippet(remedy)
        if call is None:
            return
        expr = cst.parse_expression(code)
        self._edit_call(call, lambda c: set_argument(c, 0, "optimizer", expr))

    def set_learning_rate(self, value: str, *, optimizer: str, remedy: Any) -> None:
        """Set the optimizer's learning rate (its first positional parameter) to ``value``."""
        self._set_optimizer_arg("learning_rate", value, optimizer=optimizer, position=0, remedy=remedy)

    def set_optimizer_kwarg(self, name: str, value: str, *, remedy: Any) -> None:
        """Set one keyword argument of the optimizer ``compile`` receives (``clipnorm``)."""
        optimizer = remedy.context.get("optimizer") or "Adam"
        self._set_optimizer_arg(name, value, optimizer=optimizer, position=None, remedy=remedy)

    def _set_optimizer_arg(self, name: str, value: str, *, optimizer: str, position: int | None, remedy: Any) -> None:
        """Set one argument of the optimizer ``compile`` receives: in its constructor call when the cell builds it
        there (``position``: where it may stand positionally), else by replacing a string or missing optimizer with
        the constructor of the same class; a snippet when the optimizer is built outside the cell."""
        call = self._compile_or_snippet(remedy)
        if call is None:
            return
        kind, node = self._optimizer_target(call)
        if kind == "call":
            expr = cst.parse_expression(value)
            if position is None:
                self._edit_call(node, lambda c: with_keyword(c, name, expr))
            else:
                self._edit_call(node, lambda c: set_argument(c, position, name, expr))
        elif kind in ("string", "missing"):
            opt = _string_optimizer(node, optimizer)
            expr = cst.parse_expression(f"{self.keras}.optimizers.{opt}({name}={value})")
            self._edit_call(call, lambda c: set_argument(c, 0, "optimizer", expr))
        else:
            self.snippet(remedy.as_code(), "the optimizer is built outside this cell")

    def set_compile_kwarg(self, name: str, value: str, *, remedy: Any) -> None:
        """Set one argument of ``compile`` (``loss``), where it stands by position or keyword."""
        call = self._compile_or_snippet(remedy)
        if call is None:
            return
        expr = cst.parse_expression(value)
        position = {"optimizer": 0, "loss": 1}.get(name, 99)
        self._edit_call(call, lambda c: set_argument(c, position, name, expr))


def _string_optimizer(node: Any, default: str) -> str:
    if isinstance(node, cst.SimpleString):
        text = node.evaluated_value.lower() if isinstance(node.evaluated_value, str) else ""
        for name in (*OPTIMIZERS, "Adagrad", "Adadelta", "Adamax", "Ftrl", "Lion"):
            if name.lower() == text:
                return name
    return default
