"""The cell being edited: parsing it (IPython ``%magic`` and ``!shell`` lines set aside and put back), what it holds
(how it names Keras, the fit and compile calls, the model's variable), the queue of edits and the result.

Edits are queued against nodes of the parsed tree (by ``id``) and applied in one pass by :class:`ApplyEdits`, so
several edits to one call compose and every other character of the cell is kept. When the cell does not hold what
a remedy needs, :meth:`CellEditorCore.snippet` gives up on editing and the result is code to run before it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from .fit_args import FitArgumentError, bind_fit
from .fit_site import CallPosition, FitCandidate, FitSite, choose_fit
from .locate import CallCollector
from .nodes import call_name, node_code, parse_line

_MAGIC = re.compile(r"^(\s*)([%!].*)$")
_SNIPPET_HEAD = "# stallmagic:"


@dataclass
class SourceEdit:
    """The result of writing a remedy into a cell.

    Attributes:
        source: The cell with the change written in, or a snippet to run before the cell's code.
        rewritten: True when ``source`` is the edited cell; False when it is a snippet.
        note: Why a snippet was returned (None when the cell was edited).
        site: Where the captured fit stands in the edited cell, so that the next fix of a chain edits the same
            call although lines were inserted above it (None when unknown, or when no site was given).
    """

    source: str
    rewritten: bool
    note: str | None = None
    site: FitSite | None = None


class ApplyEdits(cst.CSTTransformer):
    """Apply the queued edits in one pass over the tree: calls and lists changed, lines inserted before and after
    statements, imports added at the top."""

    def __init__(self, editor: CellEditorCore) -> None:
        self.e = editor

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        for fn in self.e.call_edits.get(id(original), []):
            updated = fn(updated)
        if original is self.e.fit:
            self.e.fit_after = updated
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


@dataclass
class CellEditorCore:
    """What every cell edit needs: the parsed cell (IPython lines set aside), what it holds, the queue of edits,
    and the result. The ``*_edits`` modules add the edits themselves; :class:`~.editor.CellEditor` joins them.

    ``site`` tells which ``.fit(...)`` call was the captured fit (:mod:`.fit_site`); without it the only call
    that can be a Keras fit is edited, and with several none is.
    """

    source: str
    site: FitSite | None = field(default=None, kw_only=True)
    module: cst.Module | None = None
    info: CallCollector = field(default_factory=CallCollector)
    call_edits: dict[int, list[Callable]] = field(default_factory=dict)
    list_edits: dict[int, list[Callable]] = field(default_factory=dict)
    before: dict[int, list] = field(default_factory=dict)
    after: dict[int, list] = field(default_factory=dict)
    header: list[str] = field(default_factory=list)
    snippets: list[tuple[str, str]] = field(default_factory=list)
    fit_after: cst.Call | None = None  # the captured fit as it stands in the edited tree
    _magics: dict[str, str] = field(default_factory=dict)
    _fit_choice: tuple[cst.Call | None, str | None] | None = None

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
        """The ``.fit(...)`` call a remedy changes: the captured fit (see :mod:`.fit_site`); ``None`` when it is
        not in the cell or the cell does not tell which call it was (:attr:`no_fit_reason` says which)."""
        return self._choose_fit()[0]

    @property
    def no_fit_reason(self) -> str:
        """Why :attr:`fit` is ``None``, in one line: the note of the snippet given instead."""
        return self._choose_fit()[1] or "the model.fit call is not in this cell"

    def _choose_fit(self) -> tuple[cst.Call | None, str | None]:
        if self._fit_choice is None:
            fits = self.info.fits
            binds = [_binds(f) for f in fits]
            # positions cost a pass over the tree: only a recorded site or several candidates need them
            located = sum(binds) > 1 or (self.site is not None and bool(self.site.positions))
            ranges = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider) if located else {}
            candidates = [
                FitCandidate(
                    start=(ranges[f].start.line, ranges[f].start.column) if located else (0, 0),
                    end=(ranges[f].end.line, ranges[f].end.column) if located else (0, 0),
                    receiver=node_code(f.func.value),
                    binds=b,
                )
                for f, b in zip(fits, binds)
            ]
            index, why = choose_fit(candidates, self.site, keras_models=self._keras_model_names())
            self._fit_choice = (fits[index] if index is not None else None, why)
        return self._fit_choice

    def _keras_model_names(self) -> list[str]:
        """What the cell compiles or builds as a Keras model: the receivers of ``.compile(...)`` and the names
        assigned from ``Sequential(...)``/``Model(...)``."""
        names = [node_code(c.func.value) for c in self.info.compiles]
        names += [n for n, c in self.info.assigns.items() if call_name(c.func) in ("Sequential", "Model")]
        return names

    @property
    def model_var(self) -> str:
        """The model's variable, read from the fit (else the compile) call when it is something one can assign
        to; ``model`` otherwise (a fit on ``keras.Sequential([...])``, or neither call here)."""
        for call in (self.fit, self.compile):
            if call is not None and isinstance(call.func, cst.Attribute) and _assignable(call.func.value):
                return node_code(call.func.value)
        return "model"

    @property
    def compile(self) -> cst.Call | None:
        """The ``.compile(...)`` call of the model that is fitted (the last one, when none matches)."""
        if not self.info.compiles:
            return None
        if self.fit is not None:
            target = node_code(self.fit.func.value)
            same = [c for c in self.info.compiles if node_code(c.func.value) == target]
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
        self.before.setdefault(id(stmt), []).extend(parse_line(c) for c in codes)
        return True

    def _need(self, what: str) -> None:
        if what == "np" and "np" not in self.info.imports and "import numpy as np" not in self.header:
            self.header.append("import numpy as np")

    # ------------------------------------------------------------------ fallback

    def snippet(self, code: str, why: str) -> None:
        """Give up on editing the cell: the result is ``code`` to run before the fit, with a comment saying why."""
        self.snippets.append((code, why))

    def result(self) -> SourceEdit:
        """The edited cell, IPython lines put back; or the first snippet, headed by why the cell was not edited."""
        if self.snippets or self.module is None:
            code, why = self.snippets[0] if self.snippets else ("", "the cell could not be parsed")
            head = f"{_SNIPPET_HEAD} {why}; run this before it instead of editing the cell:"
            return SourceEdit(f"{head}\n{code}\n", rewritten=False, note=why)
        module = self.module.visit(ApplyEdits(self))
        new = module.code
        for key, magic in self._magics.items():
            new = new.replace(key, magic)
        return SourceEdit(new, rewritten=True, site=self._site_in(module))

    def _site_in(self, module: cst.Module) -> FitSite | None:
        """Where the captured fit stands in the edited ``module`` (IPython lines keep their line numbers); only
        asked for when a site was given (the next fix of a chain will need one too)."""
        if self.fit_after is None or self.site is None:
            return None
        where = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider).get(self.fit_after)
        if where is None:
            return None
        return FitSite(positions=(CallPosition(where.start.line, where.end.line, where.end.column),))


def _binds(call: cst.Call) -> bool:
    """Whether ``call``'s arguments bind to ``keras.Model.fit``'s parameters (scikit-learn's ``fit(X, y,
    eval_set=...)`` does not)."""
    try:
        bind_fit(call)
    except FitArgumentError:
        return False
    return True


def _assignable(node: cst.BaseExpression) -> bool:
    """Whether ``node`` can stand left of ``=``: a name, or an attribute or item of one (``self.model``)."""
    if isinstance(node, cst.Name):
        return True
    if isinstance(node, (cst.Attribute, cst.Subscript)):
        return _assignable(node.value)
    return False
