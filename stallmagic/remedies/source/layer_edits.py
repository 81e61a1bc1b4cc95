"""Edits to the model's layers where the cell builds them: in a ``Sequential([...])`` list, on ``model.add(...)``
lines, or on Functional ``h = Dense(...)(x)`` lines. Keyword arguments of the hidden or all kernel layers, their
units, the output layer, and layers inserted after every hidden one; a rebuild snippet when the layers are not in
the cell."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import libcst as cst

from ..._internal.keras_names import KERNEL_LAYERS, SATURATING
from .cell import CellEditorCore
from .nodes import call_name, get_argument, insert_item_after, node_code, parse_line, positional_args, set_argument
from .rebuild_snippet import rebuild_snippet


class LayerEdits(CellEditorCore):
    """The edits the model specs (:mod:`stallmagic.remedies.specs.model`) make."""

    def _next_statement(self, stmt: cst.SimpleStatementLine) -> cst.SimpleStatementLine | None:
        """The statement line after ``stmt`` in the cell, if any."""
        order = self.info.statements
        index = next((i for i, s in enumerate(order) if s is stmt), None)
        return order[index + 1] if index is not None and index + 1 < len(order) else None

    def _output_layer(self) -> cst.Call | None:
        return self.info.layers[-1] if self.info.layers else None

    def _hidden_layers(self, classes: tuple = KERNEL_LAYERS) -> list[cst.Call]:
        out = self._output_layer()
        return [c for c in self.info.layers if c is not out and call_name(c.func) in classes]

    def _model_or_snippet(self, remedy: Any) -> bool:
        if not self.info.layers:
            self.snippet(rebuild_snippet(remedy, self), "the model's layers are not defined in this cell")
            return False
        return True

    def set_layer_kwarg(self, name: str, value: str, *, which: str, remedy: Any) -> None:
        """Set ``name=value`` on the kernel layers: all (``"kernel"``), the hidden ones (``"hidden"``), or
        the hidden ones with a saturating activation (``"hidden-saturating"``)."""
        if not self._model_or_snippet(remedy):
            return
        targets = list(self.info.layers) if which == "kernel" else self._hidden_layers()
        if which == "hidden-saturating":
            targets = [c for c in targets if _activation(c) in SATURATING]
        expr = cst.parse_expression(value)
        position = 1 if name == "activation" else 99
        for call in targets:
            self._edit_call(call, lambda c: set_argument(c, position, name, expr))

    def scale_units(self, factor: float, *, min_units: int | None = None, remedy: Any) -> None:
        """Multiply the units or filters of every hidden Dense/Conv layer by ``factor`` (at least ``min_units``,
        else 1)."""
        least = min_units or 1
        if not self._model_or_snippet(remedy):
            return
        for call in self._hidden_layers(("Dense", "Conv1D", "Conv2D", "Conv3D")):
            key = "units" if call_name(call.func) == "Dense" else "filters"
            value = get_argument(call, 0, key)
            if value is None:
                continue
            if isinstance(value, cst.Integer):
                new = cst.Integer(str(max(least, round(int(value.value, 0) * factor))))
            else:
                new = cst.parse_expression(f"max({least}, round({node_code(value)} * {factor:g}))")
            self._edit_call(call, lambda c, k=key, n=new: set_argument(c, 0, k, n))

    def set_output_layer(self, *, activation: str | None, units: int | None, remedy: Any) -> None:
        """Change the output layer's activation and/or units (the last kernel layer in the cell)."""
        call = self._output_layer()
        if call is None:
            self.snippet(remedy.as_code(), "the model's output layer is not defined in this cell")
            return
        if activation is not None:
            expr = cst.parse_expression(f'"{activation}"')
            self._edit_call(call, lambda c: set_argument(c, 1, "activation", expr))
        if units is not None:
            key = "units" if call_name(call.func) == "Dense" else "filters"
            self._edit_call(call, lambda c: set_argument(c, 0, key, cst.Integer(str(units))))

    def insert_after_hidden(self, code: str, *, kind: str, remedy: Any, rate: str | None = None) -> None:
        """Insert ``code`` (a layer) after every hidden Dense/Conv layer: in a ``Sequential([...])`` list, after
        ``model.add(Dense(...))`` lines, or after Functional ``h = Dense(...)(x)`` lines. An existing layer of
        the same kind right after gets the new rate instead (dropout)."""
        if not self._model_or_snippet(remedy):
            return
        classes = ("Dense",) if kind == "Dropout" else KERNEL_LAYERS
        hidden = {id(c) for c in self._hidden_layers(classes)}
        done = False
        for lst in self.info.sequential_lists:
            targets = [i for i, el in enumerate(lst.elements) if id(el.value) in hidden]
            if targets:
                self._edit_list(lst, _list_inserter(targets, code, kind, rate))
                done = True
        for call in self.info.layers:
            if id(call) not in hidden or _in_list(self.info.sequential_lists, call):
                continue
            stmt = self._statement_of(call)
            if stmt is None:
                continue
            line = _after_line(stmt, call, code)
            if line is None:
                continue
            done = True
            existing = _layer_of(self._next_statement(stmt), kind)
            if existing is None:
                self.after.setdefault(id(stmt), []).append(parse_line(line))
            elif rate is not None:  # the layer is there already (a fix kept twice): it gets the new rate
                self._edit_call(existing, lambda c: set_argument(c, 0, "rate", cst.parse_expression(rate)))
        if not done:
            self.snippet(rebuild_snippet(remedy, self), "the hidden layers are not written in a form it can edit")


def _layer_of(stmt: cst.SimpleStatementLine | None, kind: str) -> cst.Call | None:
    """The ``kind(...)`` layer call of a ``model.add(kind(...))`` or ``h = kind(...)(h)`` line, else ``None``."""
    small = stmt.body[0] if stmt is not None and len(stmt.body) == 1 else None
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and call_name(small.value.func) == "add":
        first = positional_args(small.value)
        layer = first[0].value if first else None
    elif isinstance(small, cst.Assign) and isinstance(small.value, cst.Call):
        layer = small.value.func
    else:
        return None
    return layer if isinstance(layer, cst.Call) and call_name(layer.func) == kind else None


def _activation(call: cst.Call) -> str | None:
    value = get_argument(call, 1, "activation")
    if isinstance(value, cst.SimpleString) and isinstance(value.evaluated_value, str):
        return value.evaluated_value
    return None


def _in_list(lists: list[cst.List], call: cst.Call) -> bool:
    return any(el.value is call for lst in lists for el in lst.elements)


def _list_inserter(targets: list[int], code: str, kind: str, rate: str | None) -> Callable[[cst.List], cst.List]:
    def edit(node: cst.List) -> cst.List:
        elements = list(node.elements)
        for i in sorted(targets, reverse=True):
            nxt = elements[i + 1].value if i + 1 < len(elements) else None
            if isinstance(nxt, cst.Call) and call_name(nxt.func) == kind:
                if rate is not None:
                    new_call = set_argument(nxt, 0, "rate", cst.parse_expression(rate))
                    elements[i + 1] = elements[i + 1].with_changes(value=new_call)
                continue
            elements = insert_item_after(elements, i, cst.Element(cst.parse_expression(code)))
        return node.with_changes(elements=elements)

    return edit


def _after_line(stmt: cst.SimpleStatementLine, call: cst.Call, code: str) -> str | None:
    """The line to insert after ``model.add(Dense(...))`` or ``h = Dense(...)(x)``; None for other shapes."""
    small = stmt.body[0] if len(stmt.body) == 1 else None
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        outer = small.value
        adds = call_name(outer.func) == "add" and isinstance(outer.func, cst.Attribute) and positional_args(outer)
        if adds and positional_args(outer)[0].value is call:
            return f"{node_code(outer.func.value)}.add({code})"
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
        value = small.value
        if isinstance(value, cst.Call) and value.func is call:
            name = small.targets[0].target.value
            return f"{name} = {code}({name})"
    return None
