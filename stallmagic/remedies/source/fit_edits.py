"""Edits to the ``fit`` call: set a keyword argument, add (or replace) a callback."""

from __future__ import annotations

import libcst as cst

from .cell import CellEditorCore
from .nodes import append_item, call_name, keyword_arg, node_code, with_keyword


class FitEdits(CellEditorCore):
    """The edits the ``fit`` specs (:mod:`stallmagic.remedies.specs.fit`) make."""

    def set_fit_kwarg(self, name: str, value: str, *, value_name: str | None = None) -> None:
        """Set ``name=value`` in the fit call; without one, a snippet binds ``value_name`` to it to pass on."""
        fit = self.fit
        if fit is None:
            var = value_name or name
            self.snippet(
                f"{var} = {value}\n# then: {self.model_var}.fit(..., {name}={var})",
                "the model.fit call is not in this cell",
            )
            return
        expr = cst.parse_expression(value)
        self._edit_call(fit, lambda c: with_keyword(c, name, expr))

    def add_fit_callback(self, code: str, *, replaces: str | None = None) -> None:
        """Add the callback ``code`` to the fit's ``callbacks``, replacing one of class ``replaces`` there."""
        fit = self.fit
        if fit is None:
            self.snippet(
                f"callback = {code}\n# then: {self.model_var}.fit(..., callbacks=[callback])",
                "the model.fit call is not in this cell",
            )
            return
        new = cst.parse_expression(code)

        def edit(call: cst.Call) -> cst.Call:
            arg = keyword_arg(call, "callbacks")
            if arg is None:
                return with_keyword(call, "callbacks", cst.List([cst.Element(new)]))
            value = arg.value
            if isinstance(value, cst.List):
                elements = list(value.elements)
                for i, el in enumerate(elements):
                    if replaces and isinstance(el.value, cst.Call) and call_name(el.value.func) == replaces:
                        elements[i] = el.with_changes(value=new)
                        return with_keyword(call, "callbacks", value.with_changes(elements=elements))
                elements = append_item(elements, cst.Element(new))
                return with_keyword(call, "callbacks", value.with_changes(elements=elements))
            merged = cst.parse_expression(f"[*{node_code(value)}, {code}]")
            return with_keyword(call, "callbacks", merged)

        self._edit_call(fit, edit)
