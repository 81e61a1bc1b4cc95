"""The notebook panel: ipywidgets that show one ``%%diagnose_fit`` cell's runs and forward clicks.

The panel is a display. While a fit runs it is a session listener (epoch-level events only) that redraws one HTML
widget (status, an inline SVG of the curves and the gap) in place, throttled by :class:`~.throttle.Throttle` so
the live view costs about 1 % of the fit's wall time even with 50 ms epochs. After the fit it shows the curves (the
same theme-aware SVG), the findings with their remedies as buttons (the selected run's, and the other runs' in a
collapsed section: :mod:`.findings_view`), and the runs table; their HTML comes from :mod:`stallmagic.render.html`,
shared with the exported report.

Right after its widget the panel displays its static twin (:mod:`stallmagic.render.static`): the same diagnosis as
``text/html`` and ``text/plain``, for frontends without the live widgets (a reloaded notebook, nbconvert, GitHub,
VS Code), updated in place by its ``display_id`` whenever the panel is redrawn after a fit or an action. A
stylesheet in the widget hides the twin wherever the widget is live. When the kernel that trained the runs restarts,
dies or is shut down, :class:`~.connection.ConnectionWatch` (a child of the panel) says so and disables the buttons
in the page. Every button calls one method of
:class:`~.cell.CellRuns` (the engine calls live there) through :meth:`Panel._act`, which routes what the action
prints into the panel's own Output widget and shows errors in the panel, never in the log console.

Widget callbacks run between cell executions (the kernel handles clicks as comm messages), so a click cannot
interrupt a fit, and a click made while an action runs is queued; :meth:`Panel._act` ignores a click that was
queued on a button while it was already busy.
"""

from __future__ import annotations

import functools
import math
import time
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..record import Run
from ..render import html, static
from ..render.export import safe_filename, unused_path
from ..render.plot import curves, drawn, gap_state, svg
from ..render.table import comparison_rows
from .cell import REPAIR_BUDGET, CellRuns
from .connection import ConnectionWatch
from .displays import LiveView, StaticTwin
from .findings_view import FindingsView
from .new_cell import CellWriter
from .sweep_view import in_widget
from .throttle import Throttle

#: A click on a button within this many seconds after its own action finished was queued during the action.
DEBOUNCE_S = 0.5


class Panel:
    """The widget view of one ``%%diagnose_fit`` cell.

    Args:
        cell: The cell's :class:`~.cell.CellRuns` (its runs and the actions on them).
        live: ``"curves"`` (status and curves while training, default), ``"status"`` (``--no-live``: epoch and
            ETA only) or ``"off"`` (``--quiet``: nothing until the cell ends). Reruns started from the panel
            always stream.
        on_keep: Called as ``on_keep(cell, run)`` when the user keeps a run's fix (``%stall keep`` uses it).
        cell_writer: Writes the kept cell below the training cell (:class:`~.new_cell.CellWriter`); without one,
            the kept code is shown to copy.
        display: How to show the widget and the static twin, called as IPython's ``display(obj)`` and
            ``display(twin, display_id=..., update=...)`` (default: ``IPython.display.display``).
        throttle: The redraw policy (default: :class:`Throttle` with its defaults).
    """

    def __init__(
        self,
        cell: CellRuns,
        *,
        live: str = "curves",
        on_keep: Callable[[CellRuns, Run], Any] | None = None,
        cell_writer: CellWriter | None = None,
        display: Callable[[Any], Any] | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        import ipywidgets as w

        if live not in ("curves", "status", "off"):
            raise ValueError(f"The 'live' argument of Panel must be 'curves', 'status' or 'off'. Got {live!r} instead.")
        self._w = w
        self.cell = cell
        self.live_mode = live
        self.on_keep = on_keep
        self.cell_writer = cell_writer
        self._display = display
        self.throttle = throttle or Throttle()
        self.displayed = False
        self.detached = False
        self.busy: str | None = None
        self.streaming = False  # an action (rerun) is running: stream whatever the live mode
        self.rerunning: tuple[Run, str] | None = None  # (parent, remedy title) while a rerun from a button runs
        self._drawn: tuple | None = None  # what the curves image shows, to redraw it only when that changes
        self._listed: tuple | None = None  # what the findings show
        self._done_at: dict[int, float] = {}
        self._picking = False
        self._finished = False  # finish() ran: the cell is over (a cell without fit says so only then)
        self.uid = uuid.uuid4().hex[:12]
        self.twin = StaticTwin(self.uid)
        self._build_views()
        self._build_runs_box()
        self._build_actions()
        self.root = w.VBox(
            [
                self.css,
                self.connection,
                self.title,
                self.live,
                self.message,
                self.gap,
                self.curves,
                self.findings,
                self.runs_box,
                self.code_box,
                self.sweep_box,
                self.actions,
                self.log,
            ],
            layout=w.Layout(border="1px solid var(--jp-border-color2, #ddd)", padding="4px 10px", margin="4px 0"),
        )
        self.root.add_class("stallmagic-panel")

    def _build_views(self) -> None:
        """The widgets that only show: title, live status, messages, curves, gap, findings, the log of actions."""
        w = self._w
        self.css = w.HTML(static.live_css(self.uid), layout=w.Layout(display="none"))  # hides the static twin
        self.connection = ConnectionWatch()  # says so, and disables the buttons, when the kernel is gone
        self.title = w.HTML()
        self.live = w.HTML(layout=w.Layout(display="none"))
        self.live.add_class("stallmagic-live")
        self.message = w.HTML()
        self.curves = w.HTML(layout=w.Layout(display="none"))
        self.gap = w.HTML()
        self.findings_view = FindingsView(w, self.cell, self._on_rerun)
        self.findings = self.findings_view.box
        self.code_box = w.HTML()
        self.sweep_box = w.VBox()
        self.log = w.Output(layout=w.Layout(max_height="220px", overflow="auto"))
        self.log.add_class("stallmagic-log")

    def _build_runs_box(self) -> None:
        """The runs table with its run picker and the buttons that act on the picked run (keep, restore)."""
        w = self._w
        self.runs_html = w.HTML()
        self.picker = w.Dropdown(description="Run:", layout=w.Layout(width="auto"))
        self.picker.observe(self._on_pick, names="value")
        self.keep_button = w.Button(
            description="Keep this fix",
            icon="check",
            tooltip="Write this run's fix into the cell's code",
            layout=w.Layout(width="auto"),
        )
        self.keep_button.add_class("stallmagic-keep")
        self.restore_button = w.Button(
            description="Use these weights",
            tooltip="Put this run's final weights back into the model (run.restore())",
            layout=w.Layout(width="auto"),
        )
        self.keep_button.on_click(lambda b: self._act(b, "Writing the fix into the cell", self._keep))
        self.restore_button.on_click(lambda b: self._act(b, "Restoring the weights", self._restore))
        self.runs_box = w.VBox(
            [w.HTML("<b>Runs</b>"), self.runs_html, w.HBox([self.picker, self.keep_button, self.restore_button])],
            layout=w.Layout(display="none"),
        )
        self.runs_box.add_class("stallmagic-runs-box")

    def _build_actions(self) -> None:
        """The buttons for the whole cell: find a fix, sweep the optimizers, export the report."""
        w = self._w
        self.sweep_button = w.Button(description="Sweep optimizers", icon="search", layout=w.Layout(width="auto"))
        self.sweep_button.add_class("stallmagic-sweep")
        self.sweep_button.on_click(lambda b: self._act(b, "Sweeping optimizers and learning rates", self._sweep))
        self.export_button = w.Button(description="Export report", icon="download", layout=w.Layout(width="auto"))
        self.export_button.add_class("stallmagic-export")
        self.export_button.on_click(lambda b: self._act(b, "Exporting the report", self._export))
        self.repair_button = w.Button(description="Find a fix", icon="magic", layout=w.Layout(width="auto"))
        self.repair_button.add_class("stallmagic-repair")
        self.repair_button.on_click(lambda b: self._act(b, "Finding a fix", self._repair))
        self.actions = w.HBox(
            [self.repair_button, self.sweep_button, self.export_button], layout=w.Layout(display="none")
        )

    # ------------------------------------------------------------------ display

    def show(self) -> None:
        """Display the panel (once) where the cell's output is, its static twin right after it."""
        if self.displayed:
            return
        self.displayed = True
        self._update_twin()
        show = self._show_function()
        show(LiveView(self.root))
        show(self.twin, display_id=self.twin.display_id)

    def _show_function(self) -> Callable[..., Any]:
        if self._display is not None:
            return self._display
        from IPython.display import display

        return display

    def _update_twin(self) -> None:
        """Redraw the static twin from the cell's state; once shown, send it only when it changed."""
        cell = self.cell
        runs = [r for r in cell.runs if r.epochs or r.finished]
        selected = cell.selected if cell.selected in runs else (runs[-1] if runs else None)
        name = cell.label or (cell.runs[0].label if cell.runs else "")
        empty = cell.no_fit_line() if not cell.runs and self._finished else None
        problems = [*cell.problems, *(f"The live view stopped: {e}" for e in cell.session.listener_errors)]
        page = static.twin_html(
            runs,
            uid=self.uid,
            selected=selected,
            metric=cell.metric,
            name=name,
            notes=problems,
            metric_note=cell.metric_note(selected) if selected is not None else None,
            empty_line=empty,
        )
        text = static.twin_text(runs, selected=selected, name=name, empty_line=empty)
        if (page, text) == (self.twin.html, self.twin.text):
            return
        self.twin.html, self.twin.text = page, text
        if self.displayed:
            self._show_function()(self.twin, display_id=self.twin.display_id, update=True)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(LiveView(self.root))

    def _title_html(self) -> str:
        return html.title_html(self.cell.label or (self.cell.runs[0].label if self.cell.runs else ""))

    # ------------------------------------------------------------------ live (session listener)

    def listener(self, event: str, run: Run) -> None:
        """Session listener: ``begin`` shows the panel, ``epoch`` redraws when :class:`Throttle` allows, ``end``
        draws the final state. Epoch-level only; its own time is measured and budgeted."""
        start = time.perf_counter()
        mode = self._mode()
        try:
            if event == "begin":
                self.throttle.start(start)
                if mode != "off":
                    self.show()
                    self.title.value = self._title_html()
                    self.live.layout.display = ""
                    self.live.value = html.status_html(run, label=self._live_label(run))
            elif event == "epoch" and mode != "off" and self.throttle.due(start):
                self._draw_live(run, mode)
                self.throttle.drew(start, time.perf_counter() - start)
            elif event == "end" and mode != "off":
                self._draw_live(run, mode)
        finally:
            self.throttle.spend(time.perf_counter() - start)

    def _mode(self) -> str:
        if self.streaming:
            return "status" if self.live_mode == "status" else "curves"
        return self.live_mode

    def _live_label(self, run: Run) -> str | None:
        """While a button's rerun trains, the engine names the Run only at its end: say what it is meanwhile."""
        if self.rerunning is not None:
            parent, title = self.rerunning
            return f"{parent.label} + {title}"
        return None

    def _draw_live(self, run: Run, mode: str) -> None:
        text = html.status_html(run, label=self._live_label(run))
        if mode == "curves" and run.epochs:
            parent = run.parent or (self.rerunning[0] if self.rerunning is not None else None)
            shown = [r for r in (parent, run) if r is not None and r.epochs]
            picture = svg(shown, metric=self.cell.metric, current=run)
            c = curves(run, metric=self.cell.metric)
            state = gap_state(c)
            text += picture + html.gap_line(c, state)
        self.live.value = text

    def diagnosing(self, run: Run) -> None:
        """The fit is over and the diagnosis starts (it takes about a second)."""
        if self.displayed:
            self.message.value = html.note(f"Diagnosing {run.label}…")

    # ------------------------------------------------------------------ after the cell

    def finish(self) -> None:
        """The cell ended: show its diagnosis, or the one line that says it had no fit."""
        self._finished = True
        if not self.cell.runs:
            self.title.value = html.no_fit_html(self.cell.no_fit_line())
            self.root.children = [self.css, self.title]  # no buttons: nothing to watch
            self.show()
            self._update_twin()
            return
        self.refresh()
        self.show()

    def refresh(self) -> None:
        """Redraw everything from the cell's state: curves, findings of the picked run, runs table, buttons."""
        cell = self.cell
        runs = [r for r in cell.runs if r.epochs or r.finished]
        selected = cell.selected if cell.selected in runs else (runs[-1] if runs else None)
        self.title.value = self._title_html()
        if not self.busy:
            self.live.layout.display = "none"
        plotted = drawn(runs)
        picture = (tuple((id(r), r.epochs_done, r.end) for r in plotted), id(selected), cell.metric)
        if plotted and picture != self._drawn:
            self.curves.value = html.curves_html(plotted, metric=cell.metric, highlight=selected)
            self.curves.layout.display = ""
            self._drawn = picture
        if selected is not None:
            self.gap.value = self._gap_html(selected)
            listed = (id(selected), tuple((id(r), id(r.report)) for r in cell.runs))  # any run's findings may show
            if listed != self._listed:
                self._render_findings(selected)
                self._listed = listed
        self._render_runs(runs, selected)
        problems = [*cell.problems, *(f"The live view stopped: {e}" for e in cell.session.listener_errors)]
        if not self.busy:
            self.message.value = "".join(html.note(p, error=True) for p in problems)
        self.actions.layout.display = ""
        if selected is not None:
            estimate = 6 * max(selected.wall_time, 0.1)
            self.sweep_button.tooltip = (
                f"Rerun {selected.label} with Adam, RMSprop and SGD at learning rates 1e-3 and 1e-2 (6 trainings, "
                f"about {html.duration(estimate)}) and rank them. Interrupt the kernel to stop; finished ones are kept."
            )
            self.repair_button.tooltip = (
                f"Try the findings' remedies on {selected.label} as reruns, keep and stack the ones that help, and "
                f"stop at the quick baseline (at most {REPAIR_BUDGET} trainings, about {html.duration(estimate)}). "
                "Interrupt the kernel to stop; finished reruns are kept."
            )
        self._set_enabled(not self.busy and not self.detached)
        self._update_twin()

    def _gap_html(self, run: Run) -> str:
        c = curves(run, metric=self.cell.metric)
        state = gap_state(c)
        return html.status_html(run) + html.gap_line(c, state, legend=False)

    # ------------------------------------------------------------------ findings

    @property
    def rerun_buttons(self) -> dict[tuple[int, str], Any]:
        """The Apply & rerun buttons on show, by (run index, remedy code): the selected run's and the other runs'."""
        return self.findings_view.buttons

    def _render_findings(self, run: Run) -> None:
        self.findings_view.show(run)

    # ------------------------------------------------------------------ runs table

    def _render_runs(self, runs: list[Run], selected: Run | None) -> None:
        if len(runs) < 2:
            self.runs_box.layout.display = "none"
            return
        rows = comparison_rows(self.cell.session, metric=self.cell.metric)
        index = runs.index(selected) if selected in runs else None
        self.runs_html.value = html.runs_table_html(
            rows, selected=index if index is not None and index < len(rows) else None
        )
        self._picking = True
        try:
            self.picker.options = [(r.label, i) for i, r in enumerate(self.cell.runs) if r in runs]
            if selected is not None:
                self.picker.value = self.cell.runs.index(selected)
        finally:
            self._picking = False
        self.keep_button.disabled = selected is None or selected.remedy is None
        self.runs_box.layout.display = ""

    def _picked(self) -> Run:
        value = self.picker.value
        if isinstance(value, int) and 0 <= value < len(self.cell.runs):
            return self.cell.runs[value]
        return self.cell.selected or self.cell.runs[-1]

    def _on_pick(self, change: dict) -> None:
        if self._picking or change.get("new") is None:
            return
        run = self.cell.runs[change["new"]]
        self._act(None, f"Diagnosing {run.label}", lambda: self._select(run))

    def _select(self, run: Run) -> None:
        self.cell.selected = run
        if run.report is None and run.end != "error":
            self.cell.diagnose(run)

    # ------------------------------------------------------------------ actions (one engine call each)

    def _act(self, button: Any, status: str, action: Callable[[], Any]) -> None:
        """Run ``action`` for a click: one at a time, its output into the panel's log, its errors in the panel."""
        if self.detached:
            return
        key = id(button)
        if button is not None and time.perf_counter() - self._done_at.get(key, -math.inf) < DEBOUNCE_S:
            return  # a second click queued while this button's action ran
        if self.busy:
            self.message.value = html.note(f"Please wait: {self.busy} is still running.")
            return
        self.busy = status
        self._set_enabled(False)
        self.message.value = html.note(status + "…")
        failure = None
        try:
            with self.log:  # what Keras and the engine print during the action goes into the panel
                try:
                    self.streaming = True
                    action()
                except Exception as exc:
                    failure = (exc, traceback.format_exc())
                except KeyboardInterrupt:
                    failure = (KeyboardInterrupt("interrupted"), "")
                finally:
                    self.streaming = False
        finally:
            self.busy = None
            self._done_at[key] = time.perf_counter()
        redraw_error = None
        try:
            self.refresh()
        except Exception as exc:
            redraw_error = html.note(f"Could not redraw the panel: {type(exc).__name__}: {exc}", error=True)
            self.log.append_stderr(traceback.format_exc())
        if failure is not None:
            exc, details = failure
            self.message.value += html.note(f"{status} failed: {type(exc).__name__}: {exc}", error=True)
            if details:
                self.log.append_stderr(details)
        if redraw_error:
            self.message.value += redraw_error

    def _on_rerun(self, run: Run, remedy: Any, button: Any = None) -> None:
        self._act(button, f"Rerunning {run.label} with {html.remedy_title(remedy)}", lambda: self._rerun(run, remedy))

    def _rerun(self, run: Run, remedy: Any) -> None:
        self.rerunning = (run, html.remedy_title(remedy))
        try:
            new = self.cell.rerun(run, remedy)
        finally:
            self.rerunning = None
        if new.end == "error" and new.error is not None:
            raise RuntimeError(
                f"the rerun {new.label} stopped with {new.error.type}: {new.error.message} (it is recorded; earlier "
                "runs are unchanged)"
            )

    def _keep(self) -> None:
        run = self._picked()
        code = self.cell.keep_source(run)
        if self.on_keep is not None:
            self.on_keep(self.cell, run)
        why_not = self.cell_writer.insert_below(code) if self.cell_writer is not None else ""
        self.code_box.value = html.keep_html(code, why_not_inserted=why_not)

    def _restore(self) -> None:
        run = self._picked()
        run.restore()
        self.code_box.value = html.note(f"The model now holds the final weights of {run.label}.")

    def _sweep(self) -> None:
        run = self._picked()
        table = self._w.HTML()
        self.sweep_box.children = [table]  # the trials live while they train, then the ranking below replaces it
        live = in_widget(table)

        def progress(done: int, total: int, row: dict) -> None:
            live.progress(done, total, row)
            self.message.value = html.note(f"Sweep: {done}/{total} configurations trained…")

        result = self.cell.sweep(run, progress=progress, on_epoch=live.on_epoch)
        w = self._w
        children: list[Any] = [w.HTML(html.sweep_result_html(result))]
        best = result.best_remedy()
        if best is not None:
            button = w.Button(description="Apply best & rerun", button_style="primary", layout=w.Layout(width="auto"))
            button.add_class("stallmagic-rerun")
            button.on_click(functools.partial(self._on_rerun, run, best))
            children.append(button)
        self.sweep_box.children = children

    def _repair(self) -> None:
        run = self._picked()
        self.rerunning = (run, "Find a fix")

        def progress(attempt: Any, so_far: Any) -> None:
            kept = " + ".join(r.title for r in so_far.chain) or "nothing yet"
            self.message.value = html.note(f"Find a fix: {len(so_far.attempts)}/{REPAIR_BUDGET} reruns; kept: {kept}…")
            self.refresh_runs()

        try:
            result = self.cell.repair(run, on_attempt=progress)
        finally:
            self.rerunning = None
        self.sweep_box.children = [self._w.HTML(html.repair_result_html(result))]

    def refresh_runs(self) -> None:
        """Redraw the runs table only (between the reruns of a longer action)."""
        runs = [r for r in self.cell.runs if r.epochs or r.finished]
        self._render_runs(runs, self.cell.selected if self.cell.selected in runs else None)

    def _export(self) -> None:
        name = self.cell.label or (self.cell.runs[0].label if self.cell.runs else "run")
        path = unused_path(Path.cwd() / f"stallmagic-{safe_filename(name)}.html")  # never over an existing file
        written = self.cell.export(path)
        self.code_box.value = html.note("Wrote " + ", ".join(str(p) for p in written) + " (open it in a browser).")

    # ------------------------------------------------------------------ state

    def _buttons(self) -> list[Any]:
        out = [self.keep_button, self.restore_button, self.repair_button, self.sweep_button, self.export_button]
        out += list(self.findings_view.all_buttons)
        out += [c for c in self.sweep_box.children if isinstance(c, self._w.Button)]
        return out

    def _set_enabled(self, enabled: bool) -> None:
        for button in self._buttons():
            reason = getattr(button, "_stallmagic_reason", None)
            if button is self.keep_button:
                picked = self._picked() if self.cell.runs else None
                button.disabled = not enabled or picked is None or picked.remedy is None
            else:
                button.disabled = not enabled or bool(reason)
        self.picker.disabled = not enabled

    def detach(self, reason: str = "stallmagic was unloaded: this panel no longer responds.") -> None:
        """The panel stays visible but no longer acts (the extension was unloaded, or the cell was released)."""
        self.detached = True
        self._set_enabled(False)
        self.message.value = html.note(reason)
