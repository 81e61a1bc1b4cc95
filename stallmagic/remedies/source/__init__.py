"""Write a remedy into the user's cell, keeping their formatting and comments (libcst, a concrete syntax tree).

``rewrite(remedy, cell_source)`` finds what the remedy changes in the cell (the ``fit`` call, the ``compile``
call, the layer calls of a ``Sequential([...])`` list, ``model.add(...)`` lines or Functional ``h = Dense(...)(x)``
lines) and edits only those nodes; every other character of the cell is kept. It returns a :class:`SourceEdit`:
``rewritten`` is False when the cell does not hold what the remedy needs (the fit or the model is defined in
another cell), and ``source`` is then a snippet to run before that code, starting with a comment that says so.

A cell can hold several ``.fit(`` calls (``StandardScaler().fit(x)`` next to ``model.fit(...)``): a fix goes into
the one that was captured, told by the call site the capture recorded (:class:`FitSite`, :mod:`.fit_site`); when
nothing tells which it was, no call is edited and the snippet's first line says so.

IPython syntax (``%magic`` and ``!shell`` lines) is set aside before parsing and put back unchanged.

The work is split by what it does: :mod:`.locate` finds the calls of interest in the parsed cell, :mod:`.nodes`
edits libcst nodes in the user's style, :mod:`.cell` holds the parsed cell and applies the queued edits, the
``*_edits`` modules make the edits each family of specs needs (:mod:`.fit_edits`, :mod:`.compile_edits`,
:mod:`.layer_edits`, :mod:`.data_edits`), :mod:`.fit_args` binds a ``fit`` call to ``keras.Model.fit``'s parameters
so an argument given by position or through ``**kw`` is edited where it is, never passed twice, and
:mod:`.rebuild_snippet` writes the code that rebuilds a model defined elsewhere. :class:`CellEditor` joins them.
"""

from __future__ import annotations

from .cell import SourceEdit
from .editor import CellEditor, rewrite
from .fit_site import CallPosition, FitSite

__all__ = ["CallPosition", "CellEditor", "FitSite", "SourceEdit", "rewrite"]
