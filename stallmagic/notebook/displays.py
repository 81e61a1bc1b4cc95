"""The two outputs a panel displays: its live widget with a short ``text/plain``, and its static twin.

A widget's own ``text/plain`` is its repr (``VBox(children=(HTML(value=...``), which nbconvert, GitHub and a
frontend without widgets print; :class:`LiveView` replaces it with one line. :class:`StaticTwin` is the panel's
static copy (:mod:`stallmagic.render.static`) as a display object, shown once under its ``display_id`` and updated
in place. Both are plain objects with ``_repr_mimebundle_``: IPython's ``display`` shows them, nothing else is needed.
"""

from __future__ import annotations

from typing import Any

#: The panel widget's text/plain (what a frontend without widgets would print instead of ``VBox(children=...``).
LIVE_TEXT = "stallmagic panel (live widgets; the static copy below shows the diagnosis)"


class LiveView:
    """The panel's root widget as displayed: its widget view with a short ``text/plain`` instead of the widget's
    repr, which nbconvert and GitHub would print as ``VBox(children=(HTML(value=...``."""

    def __init__(self, root: Any) -> None:
        self.root = root

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = dict(self.root._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = LIVE_TEXT
        return bundle


class StaticTwin:
    """The panel's static copy as a display: ``text/html`` and ``text/plain`` (:mod:`stallmagic.render.static`),
    shown once under ``display_id`` and updated in place."""

    def __init__(self, uid: str) -> None:
        self.display_id = f"stallmagic-{uid}"
        self.html = ""
        self.text = ""

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        return {"text/html": self.html, "text/plain": self.text}


__all__ = ["LIVE_TEXT", "LiveView", "StaticTwin"]
