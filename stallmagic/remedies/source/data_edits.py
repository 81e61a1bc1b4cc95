"""Edits to the data a cell's ``fit`` reads: lines inserted before the fit that split, filter or normalize the
arrays, and the fit's ``x``, ``y`` and validation arguments changed to use them."""

from __future__ import annotations

from typing import Any

import libcst as cst

from .cell import CellEditorCore
from .nodes import (
    call_name,
    get_argument,
    insert_item_after,
    keyword_arg,
    node_code,
    positional_args,
    set_argument,
    with_keyword,
    without_keyword,
)


class DataEdits(CellEditorCore):
    """The edits the data specs (:mod:`stallmagic.remedies.specs.data`) make."""

    def _fit_data(self) -> tuple[str, str] | None:
        fit = self.fit
        if fit is None:
            return None
        x, y = get_argument(fit, 0, "x"), get_argument(fit, 1, "y")
        if x is None or y is None:
            return None
        return node_code(x), node_code(y)

    def _replace_fit_data(self, x: str, y: str, *, validation: str | None) -> None:
        fit = self.fit
        xe, ye = cst.parse_expression(x), cst.parse_expression(y)

        def edit(call: cst.Call) -> cst.Call:
            call = set_argument(call, 0, "x", xe)
            call = set_argument(call, 1, "y", ye)
            if validation is not None:
                call = without_keyword(call, "validation_split")
                call = with_keyword(call, "validation_data", cst.parse_expression(validation))
            return call

        self._edit_call(fit, edit)

    def _validation_split(self) -> str | None:
        arg = keyword_arg(self.fit, "validation_split") if self.fit is not None else None
        return node_code(arg.value) if arg is not None else None

    def stratified_split(self, remedy: Any) -> None:
        """Replace ``validation_split`` by a shuffled, stratified ``train_test_split`` before the fit."""
        data = self._fit_data()
        split = self._validation_split()
        if data is None or split is None:
            self.snippet(remedy.as_code(), "the cell holds no model.fit(x, y, validation_split=...) call")
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
        """Fit on the training rows minus the suspect ones; validation rows stay as Keras split them."""
        data = self._fit_data()
        if data is None:
            self.snippet(remedy.as_code(), "the model.fit(x, y, ...) call is not in this cell")
            return
        self._need("np")
        x, y = data
        rows = list(remedy.params["rows"])
        split = self._validation_split()
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
        x, _ = data
        split = self._validation_split()
        rows = f"{x}[: int(len({x}) * (1 - {split}))]" if split is not None else x
        lst = lists[0]
        seq_call = next(
            c for c in self.info.sequential_calls if positional_args(c) and positional_args(c)[0].value is lst
        )
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
