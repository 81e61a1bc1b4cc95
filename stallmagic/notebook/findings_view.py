"""The panel's findings: the selected run's in full with their Apply & rerun buttons, the other runs' one click away.

After Apply & rerun the panel selects the new run, but the run it came from (the baseline) still holds findings and
fixes the user compares against. So below the selected run's findings, a collapsed Accordion lists the other
diagnosed runs' findings (:func:`~stallmagic.render.per_run.other_runs`: the baseline first), each section with its
own working buttons; a section the user opened stays open when the panel is redrawn after a rerun started from it.
A fix already rerun from a run is a disabled button that names the rerun ("applied: <run>"). Under the selected
run's findings, a classifier's recall per class (worst classes first) and its confusion matrix, folded
(:mod:`stallmagic.render.classes`), so a class-imbalance finding can be seen. The static twin lists
the same runs under the same titles in closed ``<details>``.

The widgets only show and forward clicks: a button calls ``on_rerun(run, remedy, button)``, which the panel routes
through its one action path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..record import Run
from ..render import html
from ..render.classes import class_view_html
from ..render.per_run import applied_rerun, findings_title, other_runs
from .cell import CellRuns

#: Findings shown in full per run; the rest are listed by title.
MAX_FINDINGS = 6


def close_widgets(widgets: Any) -> None:
    """Close replaced widgets (and their children) so their comms and frontend models go away."""
    for widget in widgets:
        close_widgets(getattr(widget, "children", ()) or ())
        widget.close()


class FindingsView:
    """The findings area of a :class:`~.panel.Panel`.

    Args:
        widgets: The ``ipywidgets`` module.
        cell: The cell whose runs are shown.
        on_rerun: Called as ``on_rerun(run, remedy, button)`` when an Apply & rerun button is clicked.
    """

    def __init__(self, widgets: Any, cell: CellRuns, on_rerun: Callable[[Run, Any, Any], Any]) -> None:
        self._w = widgets
        self.cell = cell
        self.on_rerun = on_rerun
        self.box = widgets.VBox()
        self.box.add_class("stallmagic-findings")
        #: The Apply & rerun buttons on show, by (run index, remedy code): the selected run's and the other runs'.
        self.buttons: dict[tuple[int, str], Any] = {}
        #: Every Apply & rerun button on show (two findings of a run may offer a remedy of the same code).
        self.all_buttons: list[Any] = []
        self.others: Any = None  # the Accordion of the other runs' findings, when there are any
        self._others_shown: list[Run] = []
        self._open: Run | None = None  # the other run whose section the user opened

    def show(self, selected: Run) -> None:
        """Redraw for ``selected``: its findings and (a classifier) its recall per class, then the other runs'."""
        self.buttons, self.all_buttons = {}, []
        children = self._run_widgets(selected, primary=True)
        others = other_runs(self.cell.runs, selected)
        self.others = self._accordion(others) if others else None
        if self.others is not None:
            children.append(self.others)
        old, self.box.children = self.box.children, children
        close_widgets(old)

    def _accordion(self, runs: list[Run]) -> Any:
        """The other runs' findings, one closed section each (the one the user had opened stays open)."""
        w = self._w
        sections = [w.VBox(self._run_widgets(run, primary=False)) for run in runs]  # as the static twin folds them
        titles = [findings_title(self.cell.runs, run) for run in runs]
        accordion = w.Accordion(children=sections, titles=titles)
        accordion.selected_index = runs.index(self._open) if self._open in runs else None
        accordion.add_class("stallmagic-other-findings")
        self._others_shown = runs
        accordion.observe(self._on_open, names="selected_index")
        return accordion

    def _on_open(self, change: dict) -> None:
        index = change.get("new")
        self._open = self._others_shown[index] if isinstance(index, int) else None

    def _run_widgets(self, run: Run, *, primary: bool) -> list[Any]:
        """One run's findings: the head line, each finding with its remedies as rows, the rest by title, a
        classifier's recall per class, what was not checked (the order of the static twin)."""
        w = self._w
        report = run.report
        if report is None:
            return [w.HTML(html.note(f"{run.label} has no diagnosis.", error=True))]
        children: list[Any] = [w.HTML(html.findings_head_html(run, report, metric_note=self.cell.metric_note(run)))]
        for i, finding in enumerate(report.findings[:MAX_FINDINGS]):
            card = w.HTML(html.finding_html(finding, remedies=False))
            rows = [
                self._remedy_row(run, remedy, primary=primary and i == 0 and j == 0)
                for j, remedy in enumerate(finding.remedies)
            ]
            box = w.VBox(
                [card, *rows], layout=w.Layout(border_left="3px solid #ddd", padding="2px 8px", margin="4px 0")
            )
            box.add_class("stallmagic-finding-box")
            children.append(box)
        rest = report.findings[MAX_FINDINGS:]
        if rest:
            children.append(w.HTML(html.more_findings_html(rest)))
        classes = class_view_html(getattr(report, "per_class", None))
        if classes:
            children.append(w.HTML(classes))
        if report.notes:
            children.append(w.HTML(html.not_checked_html(report.notes)))
        return children

    def _remedy_row(self, run: Run, remedy: Any, *, primary: bool) -> Any:
        """A remedy as a row: its Apply & rerun button and its sentence (advice is a line of text)."""
        w = self._w
        if getattr(remedy, "kind", "rerun") == "advice":
            return w.HTML(html.advice_html(remedy))
        title, sentence = html.remedy_title(remedy), html.remedy_sentence(remedy)
        applied = applied_rerun(self.cell.runs, run, remedy)
        reason = getattr(remedy, "disabled_reason", None) or (f"applied: {applied.label}" if applied else None)
        button = w.Button(
            description="Applied" if applied else "Apply & rerun",
            button_style="primary" if primary and not reason else "",
            tooltip=f"Already rerun as {applied.label}: pick it in Run to see it" if applied else sentence or title,
            disabled=bool(reason),
            layout=w.Layout(width="auto", min_width="120px"),
        )
        button.add_class("stallmagic-rerun")
        button.add_class(f"stallmagic-remedy-{html.css_class(getattr(remedy, 'code', 'remedy'))}")
        button.on_click(functools.partial(self._clicked, run, remedy))
        button._stallmagic_reason = reason  # kept disabled by the panel's _set_enabled
        self.buttons[(run.index, str(getattr(remedy, "code", title)))] = button
        self.all_buttons.append(button)
        text = html.remedy_row_html(
            remedy, reason=getattr(remedy, "disabled_reason", None), applied=applied.label if applied else None
        )
        return w.HBox([button, w.HTML(text)], layout=w.Layout(align_items="center"))

    def _clicked(self, run: Run, remedy: Any, button: Any) -> None:
        self.on_rerun(run, remedy, button)


__all__ = ["MAX_FINDINGS", "FindingsView", "close_widgets"]
