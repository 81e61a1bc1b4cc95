"""The notebook panel: ipywidgets that show one ``%%diagnose_fit`` cell's runs and forward clicks.

The panel is a display. While a fit runs it is a session listener (epoch-level events only) that redraws one HTML
widget (status, an inline SVG of the curves and the gap) in place, throttled by :class:`Throttle` so the live
view costs about 1 % of the fit's wall time even with 50 ms epochs. After the fit it shows the matplotlib curves,
the findings with their remedies as buttons, and the runs table. Every button calls one method of
:class:`~stallmagic.notebook.magic.CellRecord` (the engine calls live there) through :meth:`Panel._act`, which
routes what the action prints into the panel's own Output widget and shows errors in the panel, never in the log
console.

Widget callbacks run between cell executions (the kernel handles clicks as comm messages), so a click cannot
interrupt a fit, and a click made while an action runs is queued; :meth:`Panel._act` ignores a click that was
queued on a button while it was already busy.
"""

from __future__ import annotations

import functools
import math
import statistics
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..record import Run
from ..render.export import (
    TEXT_STYLE,
    comparison_rows,
    confidence_badge,
    esc,
    finding_html,
    remedy_title,
    runs_table_html,
    safe_filename,
)
from ..render.plot import PALETTE, curves, figure_png, gap_state, svg

if TYPE_CHECKING:
    from .magic import CellRecord

#: Findings shown in full; the rest are listed by title.
MAX_FINDINGS = 6
#: A click on a button within this many seconds after its own action finished was queued during the action.
DEBOUNCE_S = 0.5


class Throttle:
    """Decides when the live view may redraw, so that its cost stays a small share of the fit's time.

    A redraw is due when at least ``min_interval`` seconds passed since the last one and the time spent so far
    plus the expected cost of one more redraw (the average of the last ones) stays within ``share`` of the time
    elapsed since the fit began. Short fits therefore redraw less often; long epochs redraw every epoch.

    Args:
        share: The fraction of the fit's wall time the live view may use (default 0.01: half of the 2 % budget,
            the rest left for the recorder and the kernel's messaging).
        min_interval: Seconds between two redraws at least (default 0.2: no more than 5 per second).
    """

    def __init__(self, *, share: float = 0.01, min_interval: float = 0.2) -> None:
        self.share = share
        self.min_interval = min_interval
        self.start(time.perf_counter())

    def start(self, now: float) -> None:
        """A new fit began at ``now``."""
        self.t0 = now
        self.spent = 0.0
        self.last = -math.inf
        self.cost = 0.0
        self.draws = 0

    def due(self, now: float) -> bool:
        return now - self.last >= self.min_interval and self.spent + self.cost <= self.share * (now - self.t0)

    def drew(self, now: float, seconds: float) -> None:
        """A redraw started at ``now`` took ``seconds``."""
        self.last = now
        self.cost = seconds if not self.draws else 0.5 * (self.cost + seconds)
        self.draws += 1

    def spend(self, seconds: float) -> None:
        """Time spent in the panel's listener (redraws and bookkeeping)."""
        self.spent += seconds


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


_ENDINGS = {
    "completed": "completed",
    "early_stopped": "stopped early",
    "interrupted": "interrupted",
    "error": "ended with an error",
    "nan": "stopped: the loss became NaN",
}


def status_html(run: Run, *, now: float | None = None, label: str | None = None) -> str:
    """One line about a run: epoch i/N, elapsed, ETA and a thin progress bar; or how it ended."""
    fit = run.fit
    total = max(fit.epochs, 1)
    done = run.epochs[-1] + 1 if run.epochs else fit.initial_epoch
    label = f"<b>{esc(label or run.label)}</b>"
    if run.finished:
        ending = _ENDINGS.get(run.end, esc(run.end))
        text = f"{label} · {ending} after {done}/{fit.epochs} epochs in {_duration(run.wall_time)}"
        if run.error is not None:
            text += f" ({esc(run.error.type)}: {esc(run.error.message)})"
    else:
        elapsed = max(0.0, (time.time() - run.started_at) if now is None else now - run.started_at)
        text = f"{label} · epoch {done}/{fit.epochs} · {_duration(elapsed)} elapsed"
        times = run.epoch_times[1:] if len(run.epoch_times) > 1 else run.epoch_times  # the first one traces
        if times:
            left = (fit.epochs - done) * statistics.median(times[-5:])
            text += f" · about {_duration(left)} left"
    last = []
    for key in _shown_keys(run) if run.logs else []:
        values = run.logs[key]
        if values and math.isfinite(values[-1]):
            last.append(f"{esc(key)} {values[-1]:.4g}")
    if last:
        text += '<br><span style="opacity:0.8">' + " · ".join(last) + "</span>"
    width = 100.0 * min(1.0, done / total)
    colour = PALETTE[0] if run.end in ("running", "completed", "early_stopped") else "#c62828"
    bar = (
        '<div style="height:3px;background:rgba(127,127,127,0.2);margin:3px 0">'
        f'<div style="height:3px;width:{width:.1f}%;background:{colour}"></div></div>'
    )
    return f'<div class="stallmagic-status" style="{TEXT_STYLE}">{text}{bar}</div>'


def _shown_keys(run: Run) -> list[str]:
    c = curves(run)
    keys = ["loss", "val_loss"]
    if c.metric and c.metric != "loss":
        keys += [c.metric, f"val_{c.metric}"]
    return [k for k in keys if k in run.logs]


def gap_line(c: Any, state: Any, *, legend: bool = True) -> str:
    """The gap now and its trend, in words; with ``legend`` the line styles of the curves too."""
    parts = [esc(state.text(c.gap_name))] if state is not None else []
    if legend:
        parts.append('<span style="opacity:0.7">dashed: train · solid: validation</span>')
    return f'<div class="stallmagic-gap" style="{TEXT_STYLE}">{" · ".join(parts)}</div>' if parts else ""


def keep_html(code: str) -> str:
    """The kept cell in a copyable box, with how to put it into a cell (``%stall keep``)."""
    copy = (
        "navigator.clipboard.writeText(this.closest('.stallmagic-keep-box').querySelector('pre').innerText)"
        ".then(() => { this.textContent = 'Copied'; })"
    )
    return (
        f'<div class="stallmagic-keep-box" style="margin-top:6px;{TEXT_STYLE}">'
        "<div>Your cell with this fix. Run <code>%stall keep</code> in a new cell and it becomes this code, or "
        f'copy it: <button class="stallmagic-copy" onclick="{esc(copy)}">Copy</button></div>'
        '<pre class="stallmagic-code" style="user-select:text;white-space:pre-wrap;padding:6px;'
        f'background:rgba(127,127,127,0.1);border-radius:4px">{esc(code)}</pre></div>'
    )


def _close(widgets: Any) -> None:
    """Close replaced widgets (and their children) so their comms and frontend models go away."""
    for widget in widgets:
        _close(getattr(widget, "children", ()) or ())
        widget.close()


def _css(code: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in str(code))


class Panel:
    """The widget view of one ``%%diagnose_fit`` cell.

    Args:
        cell: The cell's :class:`~stallmagic.notebook.magic.CellRecord` (its runs and the actions on them).
        live: ``"curves"`` (status and curves while training, default), ``"status"`` (``--no-live``: epoch and
            ETA only) or ``"off"`` (``--quiet``: nothing until the cell ends). Reruns started from the panel
            always stream.
        on_keep: Called as ``on_keep(cell, run)`` when the user keeps a run's fix (``%stall keep`` uses it).
        display: How to show the root widget (default: ``IPython.display.display``).
        throttle: The redraw policy (default: :class:`Throttle` with its defaults).
    """

    def __init__(
        self,
        cell: CellRecord,
        *,
        live: str = "curves",
        on_keep: Callable[[CellRecord, Run], Any] | None = None,
        display: Callable[[Any], Any] | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        import ipywidgets as w

        if live not in ("curves", "status", "off"):
            raise ValueError(f"The 'live' argument of Panel must be 'curves', 'status' or 'off'. Got {live!r} instead.")
        self.cell = cell
        self.live_mode = live
        self.on_keep = on_keep
        self._display = display
        self.throttle = throttle or Throttle()
        self.displayed = False
        self.detached = False
        self.busy: str | None = None
        self.streaming = False  # an action (rerun) is running: stream whatever the live mode
        self.rerunning: tuple[Run, str] | None = None  # (parent, remedy title) while a rerun from a button runs
        self._drawn: tuple | None = None  # what the curves image shows, to redraw it only when that changes
        self._listed: tuple | None = None  # what the findings show
        self.rerun_buttons: dict[tuple[int, str], Any] = {}
        self._done_at: dict[int, float] = {}
        self._picking = False

        self.title = w.HTML()
        self.live = w.HTML(layout=w.Layout(display="none"))
        self.live.add_class("stallmagic-live")
        self.message = w.HTML()
        self.image = w.Image(format="png", layout=w.Layout(display="none", max_width="100%", height="auto"))
        self.image.add_class("stallmagic-curves")
        self.gap = w.HTML()
        self.findings = w.VBox()
        self.findings.add_class("stallmagic-findings")
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
        self.code_box = w.HTML()
        self.sweep_box = w.VBox()
        self.sweep_button = w.Button(description="Sweep optimizers", icon="search", layout=w.Layout(width="auto"))
        self.sweep_button.add_class("stallmagic-sweep")
        self.sweep_button.on_click(lambda b: self._act(b, "Sweeping optimizers and learning rates", self._sweep))
        self.export_button = w.Button(description="Export report", icon="download", layout=w.Layout(width="auto"))
        self.export_button.add_class("stallmagic-export")
        self.export_button.on_click(lambda b: self._act(b, "Exporting the report", self._export))
        self.actions = w.HBox([self.sweep_button, self.export_button], layout=w.Layout(display="none"))
        self.log = w.Output(layout=w.Layout(max_height="220px", overflow="auto"))
        self.log.add_class("stallmagic-log")
        self.root = w.VBox(
            [
                self.title,
                self.live,
                self.message,
                self.gap,
                self.image,
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
        self._w = w

    # ------------------------------------------------------------------ display

    def show(self) -> None:
        """Display the panel (once) where the cell's output is."""
        if self.displayed:
            return
        self.displayed = True
        if self._display is not None:
            self._display(self.root)
        else:
            from IPython.display import display

            display(self.root)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.root)

    def _title_html(self, extra: str = "") -> str:
        name = self.cell.label or (self.cell.runs[0].label if self.cell.runs else "")
        head = "<b>stallmagic</b>" + (f" · {esc(name)}" if name else "")
        return f'<div class="stallmagic-title" style="{TEXT_STYLE}">{head}{extra}</div>'

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
                    self.live.value = status_html(run, label=self._live_label(run))
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
        html = status_html(run, label=self._live_label(run))
        if mode == "curves" and run.epochs:
            parent = run.parent or (self.rerunning[0] if self.rerunning is not None else None)
            shown = [r for r in (parent, run) if r is not None and r.epochs]
            picture = svg(shown, metric=self.cell.metric, current=run)
            c = curves(run, metric=self.cell.metric)
            state = gap_state(c)
            html += picture + gap_line(c, state)
        self.live.value = html

    def diagnosing(self, run: Run) -> None:
        """The fit is over and the diagnosis starts (it takes about a second)."""
        if self.displayed:
            self.message.value = self._note(f"Diagnosing {run.label}…")

    # ------------------------------------------------------------------ after the cell

    def finish(self) -> None:
        """The cell ended: show its diagnosis, or the one line that says it had no fit."""
        from .magic import no_fit_line

        if not self.cell.runs:
            self.title.value = f'<div class="stallmagic-title">{esc(no_fit_line(self.cell))}</div>'
            self.root.children = [self.title]
            self.show()
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
        plotted = [r for r in runs if r.epochs]
        if len(plotted) > len(PALETTE):
            plotted = [plotted[0], *plotted[-(len(PALETTE) - 1) :]]
        drawn = (tuple((id(r), r.epochs_done, r.end) for r in plotted), id(selected), cell.metric)
        if plotted and drawn != self._drawn:
            self.image.value = figure_png(plotted, metric=cell.metric, highlight=selected)
            self.image.layout.display = ""
            self._drawn = drawn
        if selected is not None:
            self.gap.value = self._gap_html(selected)
            listed = (id(selected), id(selected.report), len(cell.runs))
            if listed != self._listed:
                self._render_findings(selected)
                self._listed = listed
        self._render_runs(runs, selected)
        problems = [*cell.problems, *(f"The live view stopped: {e}" for e in cell.session.listener_errors)]
        if not self.busy:
            self.message.value = "".join(self._note(p, error=True) for p in problems)
        self.actions.layout.display = ""
        if selected is not None:
            estimate = 6 * max(selected.wall_time, 0.1)
            self.sweep_button.tooltip = (
                f"Rerun {selected.label} with Adam, RMSprop and SGD at learning rates 1e-3 and 1e-2 (6 trainings, "
                f"about {_duration(estimate)}) and rank them. Interrupt the kernel to stop; finished ones are kept."
            )
        self._set_enabled(not self.busy and not self.detached)

    def _gap_html(self, run: Run) -> str:
        c = curves(run, metric=self.cell.metric)
        state = gap_state(c)
        return status_html(run) + gap_line(c, state, legend=False)

    def _note(self, text: str, *, error: bool = False) -> str:
        colour = "#c62828" if error else "inherit"
        return f'<div style="color:{colour};{TEXT_STYLE}">{esc(text)}</div>'

    # ------------------------------------------------------------------ findings

    def _render_findings(self, run: Run) -> None:
        w = self._w
        report = run.report
        children: list[Any] = []
        if report is None:
            children.append(w.HTML(self._note(f"{run.label} has no diagnosis.", error=True)))
            old, self.findings.children = self.findings.children, children
            _close(old)
            return
        head = f'<div style="{TEXT_STYLE}"><b>Why is validation accuracy stuck?</b> {esc(report.headline())}</div>'
        if run.end in ("error", "interrupted"):
            head += self._note(f"{run.label} {_ENDINGS[run.end]}; this diagnoses the epochs it completed.")
        note = self.cell.metric_note(run)
        if note:
            head += self._note(note, error=True)
        if report.healthy:
            head += f'<div style="{TEXT_STYLE}">No problem found: {esc(report.summary.get("healthy_text", ""))}</div>'
        children.append(w.HTML(head))
        self.rerun_buttons = {}  # the buttons of the findings on show, by (run index, remedy code)
        for i, finding in enumerate(report.findings[:MAX_FINDINGS]):
            card = w.HTML(finding_html(finding, remedies=False))
            rows = [
                self._remedy_row(run, finding, remedy, primary=(i == 0 and j == 0))
                for j, remedy in enumerate(finding.remedies)
            ]
            box = w.VBox(
                [card, *rows], layout=w.Layout(border_left="3px solid #ddd", padding="2px 8px", margin="4px 0")
            )
            box.add_class("stallmagic-finding-box")
            children.append(box)
        rest = report.findings[MAX_FINDINGS:]
        if rest:
            children.append(
                w.HTML(
                    "<div>Also: "
                    + "; ".join(f"{esc(f.title)} {confidence_badge(f.confidence)}" for f in rest)
                    + "</div>"
                )
            )
        if report.notes:
            children.append(
                w.HTML(f'<div style="opacity:0.7;font-size:0.9em">Not checked: {esc(" ".join(report.notes))}</div>')
            )
        old, self.findings.children = self.findings.children, children
        _close(old)

    def _remedy_row(self, run: Run, finding: Any, remedy: Any, *, primary: bool) -> Any:
        w = self._w
        title = remedy_title(remedy)
        describe = getattr(remedy, "describe", None)
        sentence = describe() if callable(describe) else ""
        text = f"<b>{esc(title)}</b>" + (f": {esc(sentence)}" if sentence and sentence != title else "")
        if getattr(remedy, "kind", "rerun") == "advice":
            return w.HTML(f'<div class="stallmagic-advice" style="{TEXT_STYLE}">Recommendation: {text}</div>')
        reason = getattr(remedy, "disabled_reason", None)
        applied = self._applied(run, remedy)
        button = w.Button(
            description="Rerun again" if applied else "Apply & rerun",
            button_style="primary" if primary and not applied else "",
            tooltip=sentence or title,
            disabled=bool(reason),
            layout=w.Layout(width="auto", min_width="120px"),
        )
        button.add_class("stallmagic-rerun")
        button.add_class(f"stallmagic-remedy-{_css(getattr(remedy, 'code', 'remedy'))}")
        button.on_click(functools.partial(self._on_rerun, run, remedy))
        button._stallmagic_reason = reason  # kept disabled by _set_enabled
        self.rerun_buttons[(run.index, str(getattr(remedy, "code", title)))] = button
        if reason:
            text += f' <span style="opacity:0.7">(not applicable here: {esc(reason)})</span>'
        if applied:
            text += f' <span style="opacity:0.7">(applied: {esc(applied.label)})</span>'
        return w.HBox(
            [button, w.HTML(f'<div style="{TEXT_STYLE}">{text}</div>')], layout=w.Layout(align_items="center")
        )

    def _applied(self, run: Run, remedy: Any) -> Run | None:
        """The latest rerun of ``run`` with this very remedy, if the user already applied it."""
        code, params = getattr(remedy, "code", None), getattr(remedy, "params", None)
        for r in reversed(self.cell.runs):
            same = getattr(r.remedy, "code", None) == code and getattr(r.remedy, "params", None) == params
            if r.parent is run and r.remedy is not None and same:
                return r
        return None

    # ------------------------------------------------------------------ runs table

    def _render_runs(self, runs: list[Run], selected: Run | None) -> None:
        if len(runs) < 2:
            self.runs_box.layout.display = "none"
            return
        rows = comparison_rows(self.cell.session, metric=self.cell.metric)
        index = runs.index(selected) if selected in runs else None
        self.runs_html.value = runs_table_html(
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
            self.message.value = self._note(f"Please wait: {self.busy} is still running.")
            return
        self.busy = status
        self._set_enabled(False)
        self.message.value = self._note(status + "…")
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
            redraw_error = self._note(f"Could not redraw the panel: {type(exc).__name__}: {exc}", error=True)
            self.log.append_stderr(traceback.format_exc())
        if failure is not None:
            exc, details = failure
            self.message.value += self._note(f"{status} failed: {type(exc).__name__}: {exc}", error=True)
            if details:
                self.log.append_stderr(details)
        if redraw_error:
            self.message.value += redraw_error

    def _on_rerun(self, run: Run, remedy: Any, button: Any = None) -> None:
        self._act(button, f"Rerunning {run.label} with {remedy_title(remedy)}", lambda: self._rerun(run, remedy))

    def _rerun(self, run: Run, remedy: Any) -> None:
        self.rerunning = (run, remedy_title(remedy))
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
        self.code_box.value = keep_html(code)

    def _restore(self) -> None:
        run = self._picked()
        run.restore()
        self.code_box.value = self._note(f"The model now holds the final weights of {run.label}.")

    def _sweep(self) -> None:
        run = self._picked()

        def progress(done: int, total: int, row: dict) -> None:
            self.message.value = self._note(f"Sweep: {done}/{total} configurations trained…")

        result = self.cell.sweep(run, progress=progress)
        w = self._w
        children: list[Any] = [w.HTML(f'<pre class="stallmagic-sweep-result">{esc(result)}</pre>')]
        best = result.best_remedy() if hasattr(result, "best_remedy") else None
        if best is not None:
            button = w.Button(description="Apply best & rerun", button_style="primary", layout=w.Layout(width="auto"))
            button.add_class("stallmagic-rerun")
            button.on_click(functools.partial(self._on_rerun, run, best))
            children.append(button)
        self.sweep_box.children = children

    def _export(self) -> None:
        name = self.cell.label or (self.cell.runs[0].label if self.cell.runs else "run")
        path = Path.cwd() / f"stallmagic-{safe_filename(name)}.html"
        written = self.cell.export(path)
        self.code_box.value = self._note("Wrote " + ", ".join(str(p) for p in written) + " (open it in a browser).")

    # ------------------------------------------------------------------ state

    def _buttons(self) -> list[Any]:
        out = [self.keep_button, self.restore_button, self.sweep_button, self.export_button]
        out += list(self.rerun_buttons.values())
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
        self.message.value = self._note(reason)
