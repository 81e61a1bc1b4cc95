"""Edits to the data a cell's ``fit`` reads: lines inserted before the fit that split, filter or normalize the
arrays, and the fit's ``x``, ``y`` and validation arguments changed to use them."""

from __future__ import annotations

from typing import Any

import libcst as cst

from .cell import CellEditorCore
from .fit_args import bind_fit, edit_problem, fit_argument, set_fit_argument, unset_fit_argument
from .nodes import call_name, insert_item_after, node_code, positional_args


class DataEdits(CellEditorCore):
    """The edits the data specs (:mod:`stallmagic.remedies.specs.data`) make."""

    def _fit_data(self) -> tuple[str, str] | None:
        """The code of the fit's ``x`` and ``y`` (by position or keyword), or ``None`` when the cell does not
        spell them out (no fit here, or data inside ``**kw``)."""
        fit = self.fit
        if fit is None:
            return None
        x, y = fit_argument(fit, "x"), fit_argument(fit, "y")
        if x is None or y is None:
            return None
        return node_code(x), node_code(y)

    def _data_edit_problem(self, *, validation: bool) -> str | None:
        """Why lines cannot go before the fit and its data arguments cannot be rewritten, or ``None``: no fit
        here, a fit that is not a statement of its own, or ``*args`` that may hold the data."""
        fit = self.fit
        if fit is None:
            return self.no_fit_reason
        if self._statement_of(fit) is None or id(fit) in self.info.nested_fits:
            return (
                "the fit call is not a statement of its own line (it is in a one-line block, a lambda or a "
                "comprehension), so the lines that prepare its data cannot go before it"
            )
        names = ("x", "y", "validation_split", "validation_data") if validation else ("x", "y")
        return next((p for p in (edit_problem(fit, n) for n in names) if p), None)

    def _replace_fit_data(self, x: str, y: str, *, validation: str | None) -> None:
        fit = self.fit
        xe, ye = cst.parse_expression(x), cst.parse_expression(y)

        def edit(call: cst.Call) -> cst.Call:
            call = set_fit_argument(call, "x", xe)
            call = set_fit_argument(call, "y", ye)
            if validation is not None:
                call = unset_fit_argument(call, "validation_split")
                call = set_fit_argument(call, "validation_data", cst.parse_expression(validation))
            return call

        self._edit_call(fit, edit)

    def _validation_split(self) -> str | None:
        """The code of the fit's ``validation_split``; ``None`` when it is not given or is a literal zero (no
        split: what a rewrite that replaced the split writes back where the split stood by position)."""
        value = fit_argument(self.fit, "validation_split") if self.fit is not None else None
        if value is None or (isinstance(value, (cst.Integer, cst.Float)) and float(value.value) == 0.0):
            return None
        return node_code(value)

    def stratified_split(self, remedy: Any) -> None:
        """Replace ``validation_split`` by a shuffled, stratified ``train_test_split`` before the fit. A fit that
        already trains on ``x_train, y_train`` and validates on ``(x_val, y_val)`` is left as it is."""
        data = self._fit_data()
        split = self._validation_split()
        validation = fit_argument(self.fit, "validation_data") if self.fit is not None else None
        done = validation is not None and node_code(validation).replace(" ", "") == "(x_val,y_val)"
        if split is None and data == ("x_train", "y_train") and done:
            return  # written in already
        if data is None or split is None:
            why = "the cell holds no model.fit(x, y, validation_split=...) call" if self.fit is not None else None
            self.snippet(remedy.as_code(), why or self.no_fit_reason)
            return
        problem = self._data_edit_problem(validation=True)
        if problem is not None:
            self.snippet(remedy.as_code(), problem)
            return
        x, y = data
        stratify = f", stratify={y}" if remedy.params.get("stratify", True) else ""
        seed = int(remedy.params.get("seed") or 0)
        self._insert_before(
            self.fit,
            [
                "from sklearn.model_selection import train_test_split",
                f"x_train, x_val, y_train, y_val = train_test_split({x}, {y}, test_size={split}{stratify}, "
                f"random_state={seed})",
            ],
        )
        self._replace_fit_data("x_train", "y_train", validation="(x_val, y_val)")

    def drop_rows(self, remedy: Any) -> None:
        """Fit on the training rows minus the suspect ones; validation rows stay as Keras split them. A fit that
        already trains on ``x[keep]`` gets the new rows in its ``suspect = np.array([...])`` line instead."""
        rows = list(remedy.params["rows"])
        data = self._fit_data()
        suspect = self.info.assigns.get("suspect")
        if data is not None and data[0].endswith("[keep]") and suspect is not None and positional_args(suspect):
            listed = cst.parse_expression(repr(rows))
            self._edit_call(suspect, lambda c: c.with_changes(args=[c.args[0].with_changes(value=listed), *c.args[1:]]))
            return
        if data is None:
            why = "the model.fit(x, y, ...) call is not in this cell" if self.fit is not None else None
            self.snippet(remedy.as_code(), why or self.no_fit_reason)
            return
        split = self._validation_split()
        problem = self._data_edit_problem(validation=split is not None)
        if problem is None and split is None and bind_fit(self.fit).may_hide("validation_split"):
            problem = (
                "the fit may take validation_split from its ** arguments, so which rows are training rows "
                "is not known here"
            )
        if problem is not None:
            self.snippet(remedy.as_code(), problem)
            return
        self._need("np")
        x, y = data
        lines = [f"suspect = np.array({rows!r})  # training rows whose labels confident learning flags"]
        if split is not None:
            lines += [
                f"split_at = int(len({x}) * (1 - {split}))  # Keras validates on rows [split_at:]",
                "keep = np.setdiff1d(np.arange(split_at), suspect)",
            ]
            self._insert_before(self.fit, lines)
            self._replace_fit_data(f"{x}[keep]", f"{y}[keep]", validation=f"({x}[split_at:], {y}[split_at:])")
        else:
            lines.append(f"keep = np.setdiff1d(np.arange(len({x})), suspect)")
            self._insert_before(self.fit, lines)
            self._replace_fit_data(f"{x}[keep]", f"{y}[keep]", validation=None)

    def normalize_inputs(self, remedy: Any) -> None:
        """Put a ``Normalization`` layer, adapted on the training rows, first in the Sequential list."""
        data = self._fit_data()
        lists = self.info.sequential_lists
        if remedy.params.get("method") != "layer" or data is None or len(lists) != 1:
            self.snippet(remedy.as_code(), "the cell holds no Sequential([...]) model and model.fit(x, y) call to edit")
            return
        lst = lists[0]
        if any(isinstance(el.value, cst.Name) and el.value.value == "normalizer" for el in lst.elements):
            return  # written in already
        seq_call = next(
            c for c in self.info.sequential_calls if positional_args(c) and positional_args(c)[0].value is lst
        )
        problem = self._data_edit_problem(validation=False)
        if problem is None and self._statement_of(seq_call) is None:
            problem = "the Sequential([...]) call is not a statement of its own line"
        if problem is not None:
            self.snippet(remedy.as_code(), problem)
            return
        x, _ = data
        split = self._validation_split()
        rows = f"{x}[: int(len({x}) * (1 - {split}))]" if split is not None else x
        self._insert_before(seq_call, [f"normalizer = {self.keras}.layers.Normalization()"])
        self._insert_before(self.fit, [f"normalizer.adapt({rows})  # mean and variance of the training rows"])

        def edit(node: cst.List) -> cst.List:
            elements = list(node.elements)
            first_input = next(
                (i for i, el in enumerate(elements) if isinstance(el.value, cst.Call) and call_name(el.value.func) in
                 ("Input", "InputLayer")),
                None,
            )  # fmt: skip
            new = cst.Element(cst.Name("normalizer"))
            if first_input is not None:
                return node.with_changes(elements=insert_item_after(elements, first_input, new))
            sep = elements[0].comma if elements and isinstance(elements[0].comma, cst.Comma) else None
            new = new.with_changes(comma=sep or cst.Comma(cst.SimpleWhitespace(" ")))
            return node.with_changes(elements=[new, *elements])

        self._edit_list(lst, edit)
