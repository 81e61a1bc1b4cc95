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

from .locate import CallCollector
from .nodes import node_code, parse_line

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


class ApplyEdits(cst.CSTTransformer):
    """Apply the queued edits in one pass over the tree: calls and lists changed, lines inserted before and after
    statements, imports added at the top."""

    def __init__(self, editor: CellEditorCore) -> None:
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


@dataclass
class CellEditorCore:
    """What every cell edit needs: the parsed cell (IPython lines set aside), what it holds, the queue of edits,
    and the result. The ``*_edits`` modules add the edits themselves; :class:`~.editor.CellEditor` joins them."""

    source: str
    module: cst.Module | None = None
    info: CallCollector = field(default_factory=CallCollector)
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
        """The last ``.fit(...)`` call in the cell: the one a remedy changes."""
        return self.info.fits[-1] if self.info.fits else None

    @property
    def no_fit_reason(self) -> str:
        """Why :attr:`fit` is ``None``, as the note of a snippet."""
        return "the model.fit call is not in this cell"

    @property
    def model_var(self) -> str:
        """The model's variable, read from the fit (else the compile) call; ``model`` when neither is here."""
        fit = self.fit or (self.info.compiles[-1] if self.info.compiles else None)
        if fit is not None and isinstance(fit.func, cst.Attribute):
            return node_code(fit.func.value)
        return "model"

    @property
    def compile(self) -> cst.Call | None:
        """The ``.compile(...)`` call of the model that is fitted (the last one, when none matches)."""
        if not self.info.compiles:
            return None
        if self.fit is not None:
            target = self.model_var
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
        new = self.module.visit(ApplyEdits(self)).code
        for key, magic in self._magics.items():
            new = new.replace(key, magic)
        return SourceEdit(new, rewritten=True)
