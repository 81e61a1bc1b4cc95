"""The :class:`CellEditor` the specs' ``rewrite`` methods write through, and :func:`rewrite`, which runs one."""

from __future__ import annotations

from typing import Any

from .cell import SourceEdit
from .compile_edits import CompileEdits
from .data_edits import DataEdits
from .fit_edits import FitEdits
from .fit_site import FitSite
from .layer_edits import LayerEdits


class CellEditor(FitEdits, CompileEdits, LayerEdits, DataEdits):
    """Collects edits to one cell, then applies them in one pass. The specs' ``rewrite`` methods call it.

    Its edits are grouped as the specs are, one module each: the ``fit`` call (:mod:`.fit_edits`), the ``compile``
    call and its optimizer (:mod:`.compile_edits`), the model's layers (:mod:`.layer_edits`) and the data the fit
    reads (:mod:`.data_edits`); all share the parsed cell and the queue of edits of
    :class:`~.cell.CellEditorCore`. ``CellEditor(cell_source)`` parses the cell; ``result()`` returns the edit.
    """


def rewrite(remedy: Any, cell_source: str, *, site: FitSite | None = None) -> SourceEdit:
    """Write ``remedy`` into ``cell_source`` (see :mod:`stallmagic.remedies.source`); ``site`` tells which
    ``.fit(...)`` call was the captured fit (:mod:`.fit_site`)."""
    editor = CellEditor(cell_source, site=site)
    if editor.module is None:
        editor.snippet(remedy.as_code(), "the cell could not be parsed as Python")
    else:
        remedy.spec.rewrite(editor, remedy)
    return editor.result()
