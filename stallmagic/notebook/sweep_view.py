"""A running sweep's live table of trials in the notebook: where ``%stall sweep`` and the panel's sweep button show
what every trial is doing (its configuration, fold, epoch and latest score) while the sweep runs, on either engine.

A thin shell: :class:`~stallmagic.rerun.sweep_progress.SweepBoard` keeps the trials' state from the sweep's two
hooks, :mod:`stallmagic.render.sweep_board` draws it, and :class:`SweepView` only decides when to redraw (per-epoch
updates through :class:`~.throttle.Throttle`, as the live curves are; a trial's end and the sweep's end always) and
hands the drawing to ``show``. Two places to show it: a display output updated in place by its ``display_id``
(:func:`in_output`, for ``%stall sweep``: plain ``text/html`` and ``text/plain``, so a saved notebook, nbconvert and
frontends without widgets keep the last table), or an HTML widget (:func:`in_widget`, inside the panel).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from ..render.sweep_board import board_html, board_text
from ..rerun.sweep_progress import SweepBoard, TrialEpoch
from .displays import StaticTwin
from .throttle import Throttle


class SweepView:
    """Draws a sweep's board while it runs: pass :meth:`on_epoch` and :meth:`progress` to the sweep, call
    :meth:`finish` after it.

    Args:
        show: Called as ``show(html, text)`` with the table to put on screen.
        engine: ``"process"`` or ``"ray"`` (the table's head names it).
        throttle: The redraw policy for per-epoch updates (default: :class:`Throttle` with its defaults).
        clock: Seconds, for the throttle (default ``time.perf_counter``; tests pass a virtual clock).
    """

    def __init__(
        self,
        show: Callable[[str, str], Any],
        *,
        engine: str = "process",
        throttle: Throttle | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.show = show
        self.board = SweepBoard(engine=engine)
        self.clock = clock
        self.throttle = throttle or Throttle()
        self.throttle.start(clock())
        self.draws = 0
        self.output: StaticTwin | None = None  # the display object, when shown as a cell output (in_output)

    def on_epoch(self, update: TrialEpoch) -> None:
        """A trial's epoch: kept, and drawn when the throttle allows."""
        start = self.clock()
        self.board.epoch(update)
        if self.throttle.due(start):
            self.draw()
            self.throttle.drew(start, self.clock() - start)
        self.throttle.spend(self.clock() - start)

    def progress(self, done: int, total: int, row: dict) -> None:
        """A trial ended: always drawn (a sweep has few)."""
        start = self.clock()
        self.board.ended(done, total, row)
        self.draw()
        self.throttle.spend(self.clock() - start)

    def finish(self) -> None:
        """The sweep returned (or was stopped): trials still running are marked interrupted, and drawn."""
        self.board.close()
        self.draw()

    def draw(self) -> None:
        self.show(board_html(self.board), board_text(self.board))
        self.draws += 1


def in_output(*, engine: str = "process", display: Callable[..., Any] | None = None) -> SweepView:
    """A view shown as a display output of the running cell, replaced in place at each redraw (by its
    ``display_id``). ``display`` is IPython's ``display`` (default) or a stand-in taking the same arguments."""
    if display is None:
        from IPython.display import display

    out = StaticTwin(f"sweep-{uuid.uuid4().hex[:12]}")
    shown = False

    def show(html: str, text: str) -> None:
        nonlocal shown
        out.html, out.text = html, text
        display(out, display_id=out.display_id, update=shown)  # type: ignore[misc]
        shown = True

    view = SweepView(show, engine=engine)
    view.output = out
    return view


def in_widget(widget: Any, *, engine: str = "process") -> SweepView:
    """A view drawn into an ipywidgets ``HTML`` widget (its ``value``)."""

    def show(html: str, text: str) -> None:
        widget.value = html

    return SweepView(show, engine=engine)


__all__ = ["SweepView", "in_output", "in_widget"]
