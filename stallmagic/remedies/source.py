"""Write a remedy into the user's cell, keeping their formatting and comments (libcst, a concrete syntax tree).

``rewrite(remedy, cell_source)`` finds what the remedy changes in the cell (the ``fit`` call, the ``compile``
call, the layer calls of a ``Sequential([...])`` list, ``model.add(...)`` lines or Functional ``h = Dense(...)(x)``
lines) and edits only those nodes; every other character of the cell is kept. It returns a :class:`SourceEdit`:
``rewritten`` is False when the cell does not hold what the remedy needs (the fit or the model is defined in
another cell), and ``source`` is then a snippet to run before that code, starting with a comment that says so.

IPython syntax (``%magic`` and ``!shell`` lines) is set aside before parsing and put back unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from ..rerun.apply import KERNEL_LAYERS, SATURATING

_MAGIC = re.compile(r"^(\s*)([%!].*)$")
_SNIPPET_HEAD = "# stallmagic:"


@dataclass
class SourceEdit:
    """The result of writing a remedy into a cell.

    Attributes:
        source: The cell with the change written in, or a snippet to run before the cell's code.
        rewritten: True when ``source`` is the edited cell; False when it is a snippet.
        note: Why a snippet was returned (None when the cell was edited).
    """

    source: str
    rewritten: bool
    note: str | None = None


def rewrite(remedy: Any, cell_source: str) -> SourceEdit:
    """Write ``remedy`` into ``cell_source`` (see the module docstring)."""
    editor = CellEditor(cell_source)
    if editor.module is None:
        editor.snippet(remedy.as_code(), "the cell could not be parsed as Python")
    else:
        remedy.spec.rewrite(editor, remedy)
    return editor.result()


# ---------------------------------------------------------------------- reading the cell


def _name(node: cst.BaseExpression) -> str | None:
    """The last name of a call's function: ``Dense`` for ``keras.layers.Dense``."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _kwarg(call: cst.Call, name: str) -> cst.Arg | None:
    return next((a for a in call.args if a.keyword is not None and a.keyword.value == name), None)


def _positional(call: cst.Call) -> list[cst.Arg]:
    return [a for a in call.args if a.keyword is None and not a.star]


class _Collector(cst.CSTVisitor):
    """One pass over the cell: calls of interest and the statement each one sits in."""

    def __init__(self) -> None:
        self.stmt: list[cst.SimpleStatementLine] = []
        self.call_stmt: dict[int, cst.SimpleStatementLine] = {}
        self.fits: list[cst.Call] = []
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

    def leave_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.stmt.pop()

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            bound = alias.asname.name.value if alias.asname else _code(alias.name).split(".")[0]
            self.imports.add(bound)
            if _code(alias.name) == "keras" and not alias.asname:
                self.imports.add("keras")

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            self.imports.add(alias.asname.name.value if alias.asname else _code(alias.name))

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name) and isinstance(node.value, cst.Call):
            self.assigns[node.targets[0].target.value] = node.value

    def visit_Call(self, node: cst.Call) -> None:
        if self.stmt:
            self.call_stmt[id(node)] = self.stmt[-1]
        name = _name(node.func)
        if name == "fit" and isinstance(node.func, cst.Attribute):
            self.fits.append(node)
        elif name == "compile" and isinstance(node.func, cst.Attribute):
            self.compiles.append(node)
        elif name in KERNEL_LAYERS:
            self.layers.append(node)
        elif name == "Sequential":
            self.sequential_calls.append(node)
            first = _positional(node)
            if first and isinstance(first[0].value, cst.List):
                self.sequential_lists.append(first[0].value)


# ---------------------------------------------------------------------- editing


def _with_arg(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    """``call`` with keyword ``name`` set to ``value``: replaced in place, or appended in the call's own style."""
    args = list(call.args)
    for i, arg in enumerate(args):
        if arg.keyword is not None and arg.keyword.value == name:
            args[i] = arg.with_changes(value=value)
            return call.with_changes(args=args)
    new = cst.Arg(
        value=value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )
    return call.with_changes(args=_append(args, new))


def _clean(comma: Any) -> Any:
    """A copy of a separator without the comment or blank lines that follow it (they belong to the line above)."""
    if not isinstance(comma, cst.Comma):
        return comma
    after = comma.whitespace_after
    if isinstance(after, cst.ParenthesizedWhitespace):
        after = after.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
    return comma.with_changes(whitespace_after=after)


def _append(items: list, new: Any) -> list:
    """Append ``new`` to call args or list elements, copying the separator and closing whitespace in use."""
    if not items:
        return [new]
    between = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    if len(items) >= 2 and isinstance(items[-2].comma, cst.Comma):
        between = _clean(items[-2].comma)
    last = items[-1]
    if isinstance(last.comma, cst.Comma):  # a trailing comma: it carries the whitespace before the bracket
        keep_comment = last.comma.whitespace_after
        new = new.with_changes(comma=_clean(last.comma))
        if isinstance(keep_comment, cst.ParenthesizedWhitespace) and isinstance(
            between.whitespace_after, cst.ParenthesizedWhitespace
        ):
            between = between.with_changes(
                whitespace_after=between.whitespace_after.with_changes(first_line=keep_comment.first_line)
            )
        last = last.with_changes(comma=between)
    else:
        tail = getattr(last, "whitespace_after_arg", None)
        if tail is not None:
            new = new.with_changes(whitespace_after_arg=tail)
            last = last.with_changes(comma=between, whitespace_after_arg=cst.SimpleWhitespace(""))
        else:
            last = last.with_changes(comma=between)
    return [*items[:-1], last, new]


def _insert_after(items: list, index: int, new: Any) -> list:
    """Insert ``new`` after ``items[index]`` using the separator that follows it."""
    if index == len(items) - 1:
        return _append(items, new)
    sep = items[index].comma
    new = new.with_changes(comma=_clean(sep) if isinstance(sep, cst.Comma) else cst.Comma(cst.SimpleWhitespace(" ")))
    return [*items[: index + 1], new, *items[index + 1 :]]


def _without_arg(call: cst.Call, name: str) -> cst.Call:
    args = [a for a in call.args if not (a.keyword is not None and a.keyword.value == name)]
    if (
        args
        and len(args) < len(call.args)
        and call.args[-1].keyword is not None
        and call.args[-1].keyword.value == name
    ):
        last = call.args[-1]
        args[-1] = args[-1].with_changes(
            comma=last.comma, whitespace_after_arg=getattr(last, "whitespace_after_arg", args[-1].whitespace_after_arg)
        )
    return call.with_changes(args=args)


def _set_positional_or_kw(call: cst.Call, position: int, name: str, value: cst.BaseExpression) -> cst.Call:
    """Replace a parameter given by position (``Dense(64, "relu")``) or by keyword, or add it as a keyword."""
    positional = _positional(call)
    if _kwarg(call, name) is None and len(positional) > position:
        target = positional[position]
        return call.with_changes(args=[a.with_changes(value=value) if a is target else a for a in call.args])
    return _with_arg(call, name, value)


def _get_param(call: cst.Call, position: int, name: str) -> cst.BaseExpression | None:
    kw = _kwarg(call, name)
    if kw is not None:
        return kw.value
    positional = _positional(call)
    return positional[position].value if len(positional) > position else None


class _Transformer(cst.CSTTransformer):
    def __init__(self, editor: CellEditor) -> None:
        self.e = editor

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        for fn in self.e.call_edits.get(id(original), []):
            updated = fn(updated)
        return updated

    def leave_List(self, original: cst.List, updated: cst.List) -> cst.BaseExpression:
        for fn in self.e.list_edits.get(id(original), []):
            updated = fn(updated)
        return updated

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine) -> Any:
        before = self.e.before.get(id(original), [])
        after = self.e.after.get(id(original), [])
        if not before and not after:
            return updated
        if before:  # the comment lines above a statement stay above the inserted lines
            first = before[0].with_changes(leading_lines=updated.leading_lines)
            before = [first, *before[1:]]
            updated = updated.with_changes(leading_lines=[])
        return cst.FlattenSentinel([*before, updated, *after])

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        if self.e.header:
            lines = [cst.parse_statement(code) for code in self.e.header]
            return updated.with_changes(body=[*lines, *updated.body])
        return updated


def _stmt(code: str) -> cst.SimpleStatementLine:
    node = cst.parse_statement(code)
    if not isinstance(node, cst.SimpleStatementLine):  # pragma: no cover - we only insert simple statements
        raise ValueError(code)
    return node


@dataclass
class CellEditor:
    """Collects edits to one cell, then applies them in one pass. The specs' ``rewrite`` methods call it."""

    source: str
    module: cst.Module | None = None
    info: _Collector = field(default_factory=_Collector)
    call_edits: dict[int, list[Callable]] = field(default_factory=dict)
    list_edits: dict[int, list[Callable]] = field(default_factory=dict)
    before: dict[int, list] = field(default_factory=dict)
    after: dict[int, list] = field(default_factory=dict)
    header: list[str] = field(default_factory=list)
    snippets: list[tuple[str, str]] = field(default_factory=list)
    _magics: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        lines = []
        for i, line in enumerate(self.source.splitlines(keepends=True)):
            m = _MAGIC.match(line.rstrip("\r\n"))
            if m:
                key = f"#__stallmagic_magic_{i}__"
                self._magics[key] = m.group(2)
                ending = line[len(line.rstrip("\r\n")) :]
                line = f"{m.group(1)}{key}{ending}"
            lines.append(line)
        try:
            self.module = cst.parse_module("".join(lines))
        except cst.ParserSyntaxError:
            self.module = None
            return
        self.module.visit(self.info)

    # ------------------------------------------------------------------ what the cell holds

    @property
    def keras(self) -> str:
        """How the cell names Keras (``keras`` or ``tf.keras``); ``import keras`` is added when it uses neither."""
        if "keras" in self.info.imports or "keras" in self.info.names:
            return "keras"
        if "tf" in self.info.imports or "tf" in self.info.names:
            return "tf.keras"
        if "import keras" not in self.header:
            self.header.append("import keras")
        return "keras"

    @property
    def fit(self) -> cst.Call | None:
        return self.info.fits[-1] if self.info.fits else None

    @property
    def model_var(self) -> str:
        fit = self.fit or (self.info.compiles[-1] if self.info.compiles else None)
        if fit is not None and isinstance(fit.func, cst.Attribute):
            return _code(fit.func.value)
        return "model"

    @property
    def compile(self) -> cst.Call | None:
        if not self.info.compiles:
            return None
        if self.fit is not None:
            target = self.model_var
            same = [c for c in self.info.compiles if _code(c.func.value) == target]
            if same:
                return same[-1]
        return self.info.compiles[-1]

    def _edit_call(self, call: cst.Call, fn: Callable[[cst.Call], cst.Call]) -> None:
        self.call_edits.setdefault(id(call), []).append(fn)

    def _edit_list(self, node: cst.List, fn: Callable[[cst.List], cst.List]) -> None:
        self.list_edits.setdefault(id(node), []).append(fn)

    def _statement_of(self, call: cst.Call) -> cst.SimpleStatementLine | None:
        return self.info.call_stmt.get(id(call))

    def _insert_before(self, call: cst.Call, codes: list[str]) -> bool:
        stmt = self._statement_of(call)
        if stmt is None:
            return False
        self.before.setdefault(id(stmt), []).extend(_stmt(c) for c in codes)
        return True

    def _need(self, what: str) -> None:
        if what == "np" and "np" not in self.info.imports and "import numpy as np" not in self.header:
            self.header.append("import numpy as np")

    # ------------------------------------------------------------------ fallback

    def snippet(self, code: str, why: str) -> None:
        """Give up on editing the cell: the result is ``code`` to run before the fit, with a comment saying why."""
        self.snippets.append((code, why))

    def result(self) -> SourceEdit:
        if self.snippets or self.module is None:
            code, why = self.snippets[0] if self.snippets else ("", "the cell could not be parsed")
            head = f"{_SNIPPET_HEAD} {why}; run this before it instead of editing the cell:"
            return SourceEdit(f"{head}\n{code}\n", rewritten=False, note=why)
        new = self.module.visit(_Transformer(self)).code
        for key, magic in self._magics.items():
            new = new.replace(key, magic)
        return SourceEdit(new, rewritten=True)

    # ------------------------------------------------------------------ fit

    def set_fit_kwarg(self, name: str, value: str, *, value_name: str | None = None) -> None:
        fit = self.fit
        if fit is None:
            var = value_name or name
            self.snippet(
                f"{var} = {value}\n# then: {self.model_var}.fit(..., {name}={var})",
                "the model.fit call is not in this cell",
            )
            return
        expr = cst.parse_expression(value)
        self._edit_call(fit, lambda c: _with_arg(c, name, expr))

    def add_fit_callback(self, code: str, *, replaces: str | None = None) -> None:
        fit = self.fit
        if fit is None:
            self.snippet(
                f"callback = {code}\n# then: {self.model_var}.fit(..., callbacks=[callback])",
                "the model.fit call is not in this cell",
            )
            return
        new = cst.parse_expression(code)

        def edit(call: cst.Call) -> cst.Call:
            arg = _kwarg(call, "callbacks")
            if arg is None:
                return _with_arg(call, "callbacks", cst.List([cst.Element(new)]))
            value = arg.value
            if isinstance(value, cst.List):
                elements = list(value.elements)
                for i, el in enumerate(elements):
                    if replaces and isinstance(el.value, cst.Call) and _name(el.value.func) == replaces:
                        elements[i] = el.with_changes(value=new)
                        return _with_arg(call, "callbacks", value.with_changes(elements=elements))
                return _with_arg(call, "callbacks", value.with_changes(elements=_append(elements, cst.Element(new))))
            merged = cst.parse_expression(f"[*{_code(value)}, {code}]")
            return _with_arg(call, "callbacks", merged)

        self._edit_call(fit, edit)

    def _fit_data(self) -> tuple[str, str] | None:
        fit = self.fit
        if fit is None:
            return None
        x, y = _get_param(fit, 0, "x"), _get_param(fit, 1, "y")
        if x is None or y is None:
            return None
        return _code(x), _code(y)

    def _replace_fit_data(self, x: str, y: str, *, validation: str | None) -> None:
        fit = self.fit
        xe, ye = cst.parse_expression(x), cst.parse_expression(y)

        def edit(call: cst.Call) -> cst.Call:
            call = _set_positional_or_kw(call, 0, "x", xe)
            call = _set_positional_or_kw(call, 1, "y", ye)
            if validation is not None:
                call = _without_arg(call, "validation_split")
                call = _with_arg(call, "validation_data", cst.parse_expression(validation))
            return call

        self._edit_call(fit, edit)

    def _validation_split(self) -> str | None:
        arg = _kwarg(self.fit, "validation_split") if self.fit is not None else None
        return _code(arg.value) if arg is not None else None

    def stratified_split(self, remedy: Any) -> None:
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

    # ------------------------------------------------------------------ compile and optimizer

    def _compile_or_snippet(self, remedy: Any) -> cst.Call | None:
        call = self.compile
        if call is None:
            self.snippet(remedy.as_code(), "the model.compile call is not in this cell")
        return call

    def _optimizer_target(self, compile_call: cst.Call) -> tuple[str, Any]:
        """Where the optimizer is: ("call", Call) for ``Adam(...)`` written inline or assigned in the cell,
        ("string", node) for ``"adam"``, ("other", node) for anything else, ("missing", None)."""
        value = _get_param(compile_call, 0, "optimizer")
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
        call = self._compile_or_snippet(remedy)
        if call is None:
            return
        expr = cst.parse_expression(code)
        self._edit_call(call, lambda c: _set_positional_or_kw(c, 0, "optimizer", expr))

    def set_learning_rate(self, value: str, *, optimizer: str, remedy: Any) -> None:
        self._set_optimizer_arg("learning_rate", value, optimizer=optimizer, position=0, remedy=remedy)

    def set_optimizer_kwarg(self, name: str, value: str, *, remedy: Any) -> None:
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
                self._edit_call(node, lambda c: _with_arg(c, name, expr))
            else:
                self._edit_call(node, lambda c: _set_positional_or_kw(c, position, name, expr))
        elif kind in ("string", "missing"):
            opt = _string_optimizer(node, optimizer)
            expr = cst.parse_expression(f"{self.keras}.optimizers.{opt}({name}={value})")
            self._edit_call(call, lambda c: _set_positional_or_kw(c, 0, "optimizer", expr))
        else:
            self.snippet(remedy.as_code(), "the optimizer is built outside this cell")

    def set_compile_kwarg(self, name: str, value: str, *, remedy: Any) -> None:
        call = self._compile_or_snippet(remedy)
        if call is None:
            return
        expr = cst.parse_expression(value)
        position = {"optimizer": 0, "loss": 1}.get(name, 99)
        self._edit_call(call, lambda c: _set_positional_or_kw(c, position, name, expr))

    # ------------------------------------------------------------------ layers

    def _output_layer(self) -> cst.Call | None:
        return self.info.layers[-1] if self.info.layers else None

    def _hidden_layers(self, classes: tuple = KERNEL_LAYERS) -> list[cst.Call]:
        out = self._output_layer()
        return [c for c in self.info.layers if c is not out and _name(c.func) in classes]

    def _model_or_snippet(self, remedy: Any) -> bool:
        if not self.info.layers:
            self.snippet(_rebuild_snippet(remedy, self), "the model's layers are not defined in this cell")
            return False
        return True

    def set_layer_kwarg(self, name: str, value: str, *, which: str, remedy: Any) -> None:
        if not self._model_or_snippet(remedy):
            return
        targets = list(self.info.layers) if which == "kernel" else self._hidden_layers()
        if which == "hidden-saturating":
            targets = [c for c in targets if _activation(c) in SATURATING]
        expr = cst.parse_expression(value)
        position = 1 if name == "activation" else 99
        for call in targets:
            self._edit_call(call, lambda c: _set_positional_or_kw(c, position, name, expr))

    def scale_units(self, factor: float, *, remedy: Any) -> None:
        if not self._model_or_snippet(remedy):
            return
        for call in self._hidden_layers(("Dense", "Conv1D", "Conv2D", "Conv3D")):
            key = "units" if _name(call.func) == "Dense" else "filters"
            value = _get_param(call, 0, key)
            if value is None:
                continue
            if isinstance(value, cst.Integer):
                new = cst.Integer(str(max(1, round(int(value.value, 0) * factor))))
            else:
                new = cst.parse_expression(f"max(1, round({_code(value)} * {factor:g}))")
            self._edit_call(call, lambda c, k=key, n=new: _set_positional_or_kw(c, 0, k, n))

    def set_output_layer(self, *, activation: str | None, units: int | None, remedy: Any) -> None:
        call = self._output_layer()
        if call is None:
            self.snippet(remedy.as_code(), "the model's output layer is not defined in this cell")
            return
        if activation is not None:
            expr = cst.parse_expression(f'"{activation}"')
            self._edit_call(call, lambda c: _set_positional_or_kw(c, 1, "activation", expr))
        if units is not None:
            key = "units" if _name(call.func) == "Dense" else "filters"
            self._edit_call(call, lambda c: _set_positional_or_kw(c, 0, key, cst.Integer(str(units))))

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
            if line is not None:
                self.after.setdefault(id(stmt), []).append(_stmt(line))
                done = True
        if not done:
            self.snippet(_rebuild_snippet(remedy, self), "the hidden layers are not written in a form it can edit")

    def normalize_inputs(self, remedy: Any) -> None:
        data = self._fit_data()
        lists = self.info.sequential_lists
        if remedy.params.get("method") != "layer" or data is None or len(lists) != 1:
            self.snippet(remedy.as_code(), "the cell holds no Sequential([...]) model and model.fit(x, y) call to edit")
            return
        x, _ = data
        split = self._validation_split()
        rows = f"{x}[: int(len({x}) * (1 - {split}))]" if split is not None else x
        lst = lists[0]
        seq_call = next(c for c in self.info.sequential_calls if _positional(c) and _positional(c)[0].value is lst)
        self._insert_before(seq_call, [f"normalizer = {self.keras}.layers.Normalization()"])
        self._insert_before(self.fit, [f"normalizer.adapt({rows})  # mean and variance of the training rows"])

        def edit(node: cst.List) -> cst.List:
            elements = list(node.elements)
            first_input = next(
                (i for i, el in enumerate(elements) if isinstance(el.value, cst.Call) and _name(el.value.func) in
                 ("Input", "InputLayer")),
                None,
            )  # fmt: skip
            new = cst.Element(cst.Name("normalizer"))
            if first_input is not None:
                return node.with_changes(elements=_insert_after(elements, first_input, new))
            sep = elements[0].comma if elements and isinstance(elements[0].comma, cst.Comma) else None
            new = new.with_changes(comma=sep or cst.Comma(cst.SimpleWhitespace(" ")))
            return node.with_changes(elements=[new, *elements])

        self._edit_list(lst, edit)


def _string_optimizer(node: Any, default: str) -> str:
    from .specs.optimizer import OPTIMIZERS

    if isinstance(node, cst.SimpleString):
        text = node.evaluated_value.lower() if isinstance(node.evaluated_value, str) else ""
        for name in (*OPTIMIZERS, "Adagrad", "Adadelta", "Adamax", "Ftrl", "Lion"):
            if name.lower() == text:
                return name
    return default


def _activation(call: cst.Call) -> str | None:
    value = _get_param(call, 1, "activation")
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
            if isinstance(nxt, cst.Call) and _name(nxt.func) == kind:
                if rate is not None:
                    new_call = _set_positional_or_kw(nxt, 0, "rate", cst.parse_expression(rate))
                    elements[i + 1] = elements[i + 1].with_changes(value=new_call)
                continue
            elements = _insert_after(elements, i, cst.Element(cst.parse_expression(code)))
        return node.with_changes(elements=elements)

    return edit


def _after_line(stmt: cst.SimpleStatementLine, call: cst.Call, code: str) -> str | None:
    """The line to insert after ``model.add(Dense(...))`` or ``h = Dense(...)(x)``; None for other shapes."""
    small = stmt.body[0] if len(stmt.body) == 1 else None
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        outer = small.value
        adds = _name(outer.func) == "add" and isinstance(outer.func, cst.Attribute) and _positional(outer)
        if adds and _positional(outer)[0].value is call:
            return f"{_code(outer.func.value)}.add({code})"
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
        value = small.value
        if isinstance(value, cst.Call) and value.func is call:
            name = small.targets[0].target.value
            return f"{name} = {code}({name})"
    return None


def _rebuild_snippet(remedy: Any, editor: CellEditor) -> str:
    """Plain Keras that applies a model remedy to a model defined elsewhere: ``clone_model`` with a changed config
    (weights of unchanged layers copied), then compile again."""
    model = editor.model_var
    code = remedy.code
    k = "keras"
    lines = ["def _changed(layer):", "    config = layer.get_config()"]
    if code == "l2":
        factor = remedy.params["factor"]
        lines.append(
            "    if 'kernel_regularizer' in config:\n"
            f"        config['kernel_regularizer'] = {k}.regularizers.L2({factor!r})"
        )
    elif code == "he_init":
        lines.append(
            f"    if 'kernel_initializer' in config and layer is not {model}.layers[-1]:\n"
            f"        config.update(kernel_initializer='{remedy.params['initializer']}', bias_initializer='zeros')"
        )
        if remedy.params.get("activation"):
            lines.append(
                f"        if config.get('activation') in {SATURATING!r}:\n"
                f"            config['activation'] = '{remedy.params['activation']}'"
            )
    elif code in ("wider_model", "smaller_model"):
        f = float(remedy.params["factor"])
        lines.append(
            f"    if 'units' in config and layer is not {model}.layers[-1]:\n"
            f"        config['units'] = max(1, round(config['units'] * {f:g}))"
        )
    elif code in ("dropout", "batch_norm"):
        rate = remedy.params.get("rate", 0.3)
        new = f"{k}.layers.Dropout({rate!r})" if code == "dropout" else f"{k}.layers.BatchNormalization()"
        return (
            f"layers = []\nfor layer in {model}.layers:\n"
            "    layers.append(layer.__class__.from_config(layer.get_config()))\n"
            f"    if layer.__class__.__name__ == 'Dense' and layer is not {model}.layers[-1]:\n"
            f"        layers.append({new})\n"
            f"{model} = {k}.Sequential([{k}.Input({model}.input_shape[1:]), *layers])\n"
            f"{_compile_line(remedy, model)}  # a rebuilt model must be compiled again"
        )
    else:
        return remedy.as_code()
    lines.append("    return layer.__class__.from_config(config)")
    lines.append(f"{model} = {k}.models.clone_model({model}, clone_function=_changed)")
    lines.append(f"{_compile_line(remedy, model)}  # clone_model returns an uncompiled model")
    return "\n".join(lines)


def _compile_line(remedy: Any, model: str) -> str:
    """The model's compile call as recorded (optimizer, learning rate, loss, metrics)."""
    from .specs.keras_code import compile_rest, optimizer_code

    ctx = remedy.context
    config = {
        "learning_rate": ctx.get("learning_rate"),
        "momentum": ctx.get("momentum"),
        "nesterov": ctx.get("nesterov"),
    }
    return f"{model}.compile(optimizer={optimizer_code(ctx.get('optimizer') or 'Adam', config)}, {compile_rest(ctx)})"
