"""Write a new cell below the training cell from a button click, through ipylab.

A widget click is not an execute request, so ``shell.set_next_input`` (what ``%stall keep`` uses) shows nothing
until some later cell runs. ipylab (a maintained jupyterlab-contrib package that ships a prebuilt extension for
JupyterLab 4 and Notebook 7) runs the frontend's own commands from the kernel: clicking a button in a cell's
output makes that cell the active one, so ``notebook:insert-cell-below`` then ``notebook:replace-selection`` put
the code right under the training cell, as the user would by hand (undo works).

Where no ipylab extension answers (VS Code, Colab, a notebook viewer) the frontend never reports its version, and
:meth:`CellWriter.insert_below` says so, so the panel falls back to the copyable box and ``%stall keep``.
"""

from __future__ import annotations

from typing import Any

from .._internal.text import safe_str

#: The frontend commands that insert a cell below the active one and fill it (JupyterLab 4, Notebook 7).
INSERT_BELOW = "notebook:insert-cell-below"
REPLACE_SELECTION = "notebook:replace-selection"


class CellWriter:
    """One handle on the frontend for a shell: created with the extension, before any click, so the frontend has
    answered (its version and commands) by the time the user keeps a fix.

    Args:
        frontend: An ``ipylab.JupyterFrontEnd`` (default: a new one; ``None`` when ipylab cannot start).
    """

    def __init__(self, frontend: Any = None) -> None:
        self.why_not: str | None = None
        self._frontend = frontend
        if frontend is None:
            try:
                import ipylab

                self._frontend = ipylab.JupyterFrontEnd()
            except Exception as exc:  # not installed, or no kernel to open a comm with
                self.why_not = f"ipylab could not start ({safe_str(exc)})"

    def insert_below(self, code: str) -> str | None:
        """Insert ``code`` as a new cell below the active cell; ``None`` when the frontend was asked to, else why not
        (in words that end a sentence starting "This frontend cannot insert the cell: ")."""
        frontend = self._frontend
        if frontend is None:
            return self.why_not
        if not getattr(frontend, "version", ""):
            return "no JupyterLab or Notebook 7 extension answered (VS Code, Colab and viewers cannot)"
        commands = set(frontend.commands.list_commands())
        missing = [name for name in (INSERT_BELOW, REPLACE_SELECTION) if name not in commands]
        if missing:
            return f"it has no {missing[0]} command"
        frontend.commands.execute(INSERT_BELOW)
        frontend.commands.execute(REPLACE_SELECTION, {"text": code})
        return None

    def close(self) -> None:
        """Close the frontend handle's widgets (``%unload_ext``)."""
        frontend, self._frontend = self._frontend, None
        if frontend is not None:
            for part in ("commands", "shell", "sessions", "menu", "toolbar"):
                widget = getattr(frontend, part, None)
                if widget is not None:
                    widget.close()
            frontend.close()
        self.why_not = "stallmagic was unloaded"
