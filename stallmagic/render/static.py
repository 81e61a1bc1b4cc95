"""The panel's static twin: the same diagnosis as plain HTML and text, for frontends that cannot show the widgets.

A widget is only a reference to a model that lives in the kernel. A reloaded notebook whose kernel is gone shows
"Error displaying widget: model not found"; ``jupyter nbconvert --to html``, GitHub and nbviewer show the widget's
``text/plain``; VS Code may render nothing. So the panel displays, right after its widget, a second output that
holds the whole diagnosis as ``text/html`` (the title, how the selected run ended, the curves as inline SVG, the
findings with their evidence and remedies, a classifier's recall per class and confusion matrix, the runs table)
and a short ``text/plain`` (headline and findings), and updates it in place (``display_id``) when training ends
and after each rerun.

Why two outputs and not one bundle holding both the widget view and ``text/html``: JupyterLab 4's widget renderer
(jupyterlab_widgets 3.0) does not fall back to another mime type when the model is missing, it says "model not
found"; and nbconvert renders the widget view instead of the ``text/html`` beside it whenever the notebook holds
saved widget state (through a CDN script, which shows nothing offline). A separate output is always rendered.

Only one of the two should show: a stylesheet with two rules, scoped to one panel by its ``uid``, both plain CSS
(no script). :func:`live_css` is inside the live widget, so it exists on the page only where the widget renders,
and hides the static twin there. :func:`static_css` is inside the static twin, and hides the output just before
it (the widget's own output, adjacent since both are displayed together) unless that output holds the live panel:
"model not found" and the widget's ``text/plain`` then give way to the twin. The second rule names JupyterLab's
output classes (Notebook 7 and nbconvert's ``lab`` template use the same); elsewhere it simply does not apply.

Every string that comes from the user's code or data goes through :func:`~.html.esc` (the fragments of
:mod:`.html` already do); the ``uid`` is made by the panel and checked here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..record import Run
from .classes import class_view_html
from .html import (
    ENDINGS,
    curves_html,
    esc,
    finding_html,
    findings_head_html,
    gap_line,
    not_checked_html,
    note,
    runs_table_html,
    status_html,
    title_html,
)
from .per_run import applied_label, findings_title, other_runs
from .plot import curves, gap_state
from .table import comparison_rows

#: The class every static twin carries; with ``-<uid>`` it names one panel's twin.
STATIC_CLASS = "stallmagic-static"
#: The class of the live panel's root widget (what :func:`static_css` looks for in the output before the twin).
PANEL_CLASS = "stallmagic-panel"
#: Findings listed in the text/plain twin.
TEXT_FINDINGS = 6

#: What the twin says before the first epoch ends (the kernel may die before anything else is drawn).
_NOT_YET = "Training: the diagnosis appears here when the fit has ended."

_UID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _checked(uid: str) -> str:
    if not isinstance(uid, str) or not _UID.fullmatch(uid):
        raise ValueError(f"The 'uid' argument of a static twin must be 1-64 letters, digits, '-' or '_'. Got {uid!r}.")
    return uid


def live_css(uid: str) -> str:
    """The ``<style>`` the live panel carries: it hides the panel's static twin (and its output row in JupyterLab)."""
    twin = f".{STATIC_CLASS}-{_checked(uid)}"
    return f"<style>{twin}{{display:none!important}}.jp-OutputArea-child:has({twin}){{display:none!important}}</style>"


def static_css(uid: str) -> str:
    """The ``<style>`` inside the static twin: it hides the output just before the twin (the panel's widget) unless
    that output holds the live panel, so "model not found" or the widget's text gives way to the twin."""
    twin = f".{STATIC_CLASS}-{_checked(uid)}"
    return (
        f"<style>.jp-OutputArea-child:has(+ .jp-OutputArea-child {twin}):not(:has(.{PANEL_CLASS}))"
        "{display:none}</style>"
    )


def twin_html(
    runs: Sequence[Run],
    *,
    uid: str,
    selected: Run | None = None,
    metric: str | None = None,
    name: str = "",
    notes: Sequence[str] = (),
    metric_note: str | None = None,
    empty_line: str | None = None,
) -> str:
    """The static twin of a panel as one HTML fragment.

    Args:
        runs: The cell's runs, baseline first (those with neither an epoch nor an end are left out).
        uid: The panel's id: the twin's class ``stallmagic-static-<uid>`` (letters, digits, ``-``, ``_``).
        selected: The run whose findings are shown open (default: the last run); the other runs' findings are in
            closed ``<details>``, so nothing of a baseline is lost after a rerun.
        metric: The metric read as "accuracy" (default: per run).
        name: The cell's name for the title line.
        notes: The panel's own messages (problems), shown in red.
        metric_note: Why ``--metric`` was not used, if it was not.
        empty_line: The one line of a cell that ran no fit (then nothing else is shown). Without it, no run to
            show means the first epoch has not ended yet.

    Returns:
        ``<div class="stallmagic-static stallmagic-static-<uid>">...</div>`` with its stylesheet; every user string
        escaped.
    """
    runs = [r for r in runs if r.epochs or r.finished]
    parts = [f'<div class="{STATIC_CLASS} {STATIC_CLASS}-{_checked(uid)}">', static_css(uid)]
    if empty_line is not None or not runs:
        parts += [title_html(name), note(empty_line or _NOT_YET), "</div>"]
        return "".join(parts)
    selected = selected if selected in runs else runs[-1]
    parts.append(title_html(name))
    parts.append(_status(selected, metric))
    parts.append(curves_html(runs, metric=metric, highlight=selected))
    parts.append(_findings(selected, metric_note, runs))
    if len(runs) >= 2:
        rows = comparison_rows(runs, metric=metric)
        index = runs.index(selected)
        parts.append("<div><b>Runs</b></div>" + runs_table_html(rows, selected=index if index < len(rows) else None))
    for run in other_runs(runs, selected, limit=None):  # as the panel's collapsed section lists them
        folded = _findings(run, None, runs)
        parts.append(f"<details><summary>{esc(findings_title(runs, run))}</summary>{folded}</details>")
    parts += [note(p, error=True) for p in notes]
    parts.append(
        '<div style="opacity:0.7;font-size:0.9em">A static copy of the stallmagic panel: run the cell in a live '
        "kernel for Apply &amp; rerun.</div></div>"
    )
    return "".join(parts)


def _status(run: Run, metric: str | None) -> str:
    c = curves(run, metric=metric)
    return status_html(run) + gap_line(c, gap_state(c), legend=False) if run.epochs else status_html(run)


def _findings(run: Run, metric_note: str | None, runs: Sequence[Run]) -> str:
    report = run.report
    if report is None:
        return note(f"{run.label} has no diagnosis.")
    parts = [findings_head_html(run, report, metric_note=metric_note)]
    applied = applied_label(runs, run)
    parts += [finding_html(finding, applied=applied) for finding in report.findings]
    parts.append(class_view_html(getattr(report, "per_class", None)))
    if report.notes:
        parts.append(not_checked_html(report.notes))
    return '<div class="stallmagic-findings">' + "".join(parts) + "</div>"


def twin_text(
    runs: Sequence[Run], *, selected: Run | None = None, name: str = "", empty_line: str | None = None
) -> str:
    """The static twin's ``text/plain``: the title, how the selected run ended, the headline and the findings by
    title and confidence (what a terminal-only viewer or a text diff of the notebook shows)."""
    head = "stallmagic" + (f" · {name}" if name else "")
    runs = [r for r in runs if r.epochs or r.finished]
    if empty_line is not None or not runs:
        return f"{head}: {empty_line or _NOT_YET}"
    selected = selected if selected in runs else runs[-1]
    ending = ENDINGS.get(selected.end, "training") if selected.finished else "training"
    lines = [f"{head}: {selected.label} {ending} after {selected.epochs_done}/{selected.fit.epochs} epochs"]
    report: Any = selected.report
    if report is not None:
        lines.append(report.headline())
        lines += [
            f"  {i}. {f.title} (confidence {f.confidence:.2f})"
            for i, f in enumerate(report.findings[:TEXT_FINDINGS], 1)
        ]
        if len(report.findings) > TEXT_FINDINGS:
            lines.append(f"  ... and {len(report.findings) - TEXT_FINDINGS} more")
    if len(runs) >= 2:
        lines.append(f"{len(runs)} runs: " + ", ".join(r.label for r in runs))
    return "\n".join(lines)


__all__ = ["live_css", "static_css", "twin_html", "twin_text"]
