"""Edits to the ``fit`` call: set an argument, add (or replace) a callback, wherever the call gives them (by
keyword, by position or through ``**kw``: see :mod:`.fit_args`)."""

from __future__ import annotations

import libcst as cst

from .cell import CellEditorCore
from .fit_args import edit_problem, fit_argument, mapping_code, set_fit_argument
from .nodes import append_item, call_name, node_code


class FitEdits(CellEditorCore):
    """The edits the ``fit`` specs (:mod:`stallmagic.remedies.specs.fit`) make."""

    def _fit_or_snippet(self, name: str, snippet: str) -> cst.Call | None:
        """The fit call when ``name`` can be written into it; else ``None``, with ``snippet`` as the result and
        the reason as its note."""
        fit = self.fit
        if fit is None:
            self.snippet(snippet, self.no_fit_reason)
            return None
        problem = edit_problem(fit, name)
        if problem is not None:
            self.snippet(snippet, problem)
            return None
        return fit

    def set_fit_kwarg(self, name: str, value: str, *, value_name: str | None = None) -> None:
        """Set ``name=value`` in the fit call; without one, a snippet binds ``value_name`` to it to pass on."""
        var = value_name or name
        fit = self._fit_or_snippet(name, f"{var} = {value}\n# then: {self.model_var}.fit(..., {name}={var})")
        if fit is None:
            return
        expr = cst.parse_expression(value)
        self._edit_call(fit, lambda c: set_fit_argument(c, name, expr))

    def add_fit_callback(self, code: str, *, replaces: str | None = None) -> None:
        """Add the callback ``code`` to the fit's ``callbacks``, replacing one of class ``replaces`` there.

        A ``callbacks`` the cell passes as a variable becomes ``[*callbacks, new]``; one that may be inside
        ``**kw`` is read from there: ``[*(kw.get("callbacks") or []), new]``."""
        fit = self._fit_or_snippet(
            "callbacks", f"callback = {code}\n# then: {self.model_var}.fit(..., callbacks=[callback])"
        )
        if fit is None:
            return
        new = cst.parse_expression(code)

        def edit(call: cst.Call) -> cst.Call:
            value = fit_argument(call, "callbacks")
            if isinstance(value, cst.Name) and value.value == "None":
                return set_fit_argument(call, "callbacks", cst.List([cst.Element(new)]))
            if value is None:
                source = mapping_code(call)
                if source is None:
                    return set_fit_argument(call, "callbacks", cst.List([cst.Element(new)]))
                merged = f'[*({source}.get("callbacks") or []), {code}]'
                return set_fit_argument(call, "callbacks", cst.parse_expression(merged))
            if isinstance(value, cst.List):
                elements = list(value.elements)
                for i, el in enumerate(elements):
                    if replaces and isinstance(el.value, cst.Call) and call_name(el.value.func) == replaces:
                        elements[i] = el.with_changes(value=new)
                        return set_fit_argument(call, "callbacks", value.with_changes(elements=elements))
                elements = append_item(elements, cst.Element(new))
                return set_fit_argument(call, "callbacks", value.with_changes(elements=elements))
            return set_fit_argument(call, "callbacks", cst.parse_expression(f"[*{node_code(value)}, {code}]"))

        self._edit_call(fit, edit)
