"""Every HTML fragment stallmagic shows: the panel's lines, a finding, a remedy, a report, the runs table.

The live panel and the exported page build their HTML here, so what the panel shows and what the exported page
shows cannot drift apart, and there is one place to check the escaping: every string that can come from the user's
code or data (run labels, metric and log keys, layer names in evidence, exception messages, remedy code) goes
through :func:`esc` before it is put into HTML.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import Any

from .._internal import numbers
from ..record import Run
from .marks import marks
from .plot import PALETTE, Curves, GapState, colour_of, curves, drawn, svg
from .table import cell_text, headers

#: Readable text inside widgets (ipywidgets sets a 28 px line height for aligning with inputs) and long words wrapped.
TEXT_STYLE = "line-height:1.45;white-space:normal;overflow-wrap:anywhere"

#: How a finished run ended, as the end of a sentence (by ``Run.end``).
ENDINGS = {
    "completed": "completed",
    "early_stopped": "stopped early",
    "interrupted": "interrupted",
    "error": "ended with an error",
    "nan": "stopped: the loss became NaN",
}

_MUTED = '<span style="opacity:0.7">{}</span>'


def esc(value: Any) -> str:
    """``value`` as text safe inside HTML element content and quoted attribute values."""
    return escape(str(value), quote=True)


def css_class(code: str) -> str:
    """``code`` reduced to the characters a CSS class name may hold (a remedy code becomes a button's class)."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in str(code))


def note(text: str, *, error: bool = False) -> str:
    """A line of the panel's own messages (red for errors); ``text`` is escaped."""
    colour = "#c62828" if error else "inherit"
    return f'<div style="color:{colour};{TEXT_STYLE}">{esc(text)}</div>'


# ---------------------------------------------------------------------------------------------------- status


def duration(seconds: float) -> str:
    """``12.3 s``, ``4 min 05 s`` or ``1 h 02 min``: as precise as a person reading an ETA wants."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def title_html(name: str = "", extra: str = "") -> str:
    """The panel's title line: "stallmagic", the cell's name (escaped) and ``extra`` (already HTML)."""
    head = "<b>stallmagic</b>" + (f" · {esc(name)}" if name else "")
    return f'<div class="stallmagic-title" style="{TEXT_STYLE}">{head}{extra}</div>'


def no_fit_html(line: str) -> str:
    """The whole panel of a cell that ran no fit: its one line."""
    return f'<div class="stallmagic-title">{esc(line)}</div>'


def status_html(run: Run, *, now: float | None = None, label: str | None = None) -> str:
    """One line about a run: epoch i/N, elapsed, ETA and a thin progress bar; or how it ended."""
    fit = run.fit
    done = run.epochs[-1] + 1 if run.epochs else fit.initial_epoch
    name = f"<b>{esc(label or run.label)}</b>"
    text = _ended(run, name, done) if run.finished else _progress(run, name, done, now)
    last = _last_values(run)
    if last:
        text += '<br><span style="opacity:0.8">' + " · ".join(last) + "</span>"
    return f'<div class="stallmagic-status" style="{TEXT_STYLE}">{text}{_progress_bar(run, done)}</div>'


def _ended(run: Run, name: str, done: int) -> str:
    ending = ENDINGS.get(run.end, esc(run.end))
    text = f"{name} · {ending} after {done}/{run.fit.epochs} epochs in {duration(run.wall_time)}"
    if run.error is not None:
        text += f" ({esc(run.error.type)}: {esc(run.error.message)})"
    return text


def _progress(run: Run, name: str, done: int, now: float | None) -> str:
    """Epoch, elapsed time and the time left (the median of the last epochs, the first one left out: it traces)."""
    fit = run.fit
    elapsed = max(0.0, (time.time() - run.started_at) if now is None else now - run.started_at)
    text = f"{name} · epoch {done}/{fit.epochs} · {duration(elapsed)} elapsed"
    times = run.epoch_times[1:] if len(run.epoch_times) > 1 else run.epoch_times
    if times:
        left = (fit.epochs - done) * statistics.median(times[-5:])
        text += f" · about {duration(left)} left"
    return text


def _last_values(run: Run) -> list[str]:
    """``key value`` of the latest epoch, for the loss and the metric read as accuracy (train and validation)."""
    if not run.logs:
        return []
    c = curves(run)
    keys = ["loss", "val_loss"]
    if c.metric and c.metric != "loss":
        keys += [c.metric, f"val_{c.metric}"]
    out = []
    for key in (k for k in keys if k in run.logs):
        values = run.logs[key]
        if values and math.isfinite(values[-1]):
            out.append(f"{esc(key)} {numbers.num(values[-1], 4)}")
    return out


def _progress_bar(run: Run, done: int) -> str:
    width = 100.0 * min(1.0, done / max(run.fit.epochs, 1))
    colour = PALETTE[0] if run.end in ("running", "completed", "early_stopped") else "#c62828"
    return (
        '<div style="height:3px;background:rgba(127,127,127,0.2);margin:3px 0">'
        f'<div style="height:3px;width:{width:.1f}%;background:{colour}"></div></div>'
    )


def gap_line(c: Curves, state: GapState | None, *, legend: bool = True) -> str:
    """The gap now and its trend, in words; with ``legend`` the line styles of the curves too."""
    parts = [esc(state.text(c.gap_name))] if state is not None else []
    if legend:
        parts.append(_MUTED.format("dashed: train · solid: validation"))
    return f'<div class="stallmagic-gap" style="{TEXT_STYLE}">{" · ".join(parts)}</div>' if parts else ""


def curves_html(runs: Sequence[Run], *, metric: str | None = None, highlight: Run | None = None) -> str:
    """The final curves of ``runs`` as the panel, its static copy and the exported page show them: the inline SVG
    of :func:`~.plot.svg` (theme-aware) with the highlighted run's findings marked on it (:mod:`.marks`), one line
    naming each run's colour (labels escaped) and the line styles, and the marks numbered in words. ``""`` when
    no run has an epoch."""
    shown = drawn(runs)
    focus = highlight if highlight in shown else (shown[-1] if shown else None)
    marked = marks(focus) if focus is not None else []
    picture = svg(shown, metric=metric, highlight=focus, marks=marked)
    if not picture:
        return ""
    swatches = " ".join(
        f'<span style="white-space:nowrap"><span style="display:inline-block;width:14px;height:3px;'
        f'vertical-align:middle;background:{colour_of(i)}"></span> {esc(r.label)}</span>'
        for i, r in enumerate(shown)
    )
    legend = f"{swatches} · " + _MUTED.format("dashed: train · solid: validation")
    if marked:
        listed = " · ".join(f"<b>{n}</b> {esc(m.sentence())}" for n, m in enumerate(marked, 1))
        legend += f'<div class="stallmagic-marks">Marked on {esc(focus.label)}: {listed}</div>'
    return (
        f'<div class="stallmagic-curves">{picture}'
        f'<div class="stallmagic-legend" style="font-size:0.9em;{TEXT_STYLE}">{legend}</div></div>'
    )


# ---------------------------------------------------------------------------------------------------- remedies


def remedy_title(remedy: Any) -> str:
    """A remedy's short name (``title``, else its ``describe()``, else ``str``); ``"baseline"`` for ``None``."""
    if remedy is None:
        return "baseline"
    title = getattr(remedy, "title", None)
    if title:
        return str(title)
    describe = getattr(remedy, "describe", None)
    return str(describe()) if callable(describe) else str(remedy)


def remedy_sentence(remedy: Any) -> str:
    """The remedy's one sentence (its ``describe()``), ``""`` when it has none."""
    describe = getattr(remedy, "describe", None)
    return describe() if callable(describe) else ""


def remedy_summary_html(remedy: Any) -> str:
    """``<b>title</b>: sentence`` (the sentence left out when it only repeats the title)."""
    title, sentence = remedy_title(remedy), remedy_sentence(remedy)
    return f"<b>{esc(title)}</b>" + (f": {esc(sentence)}" if sentence and sentence != title else "")


def not_applicable_html(reason: str) -> str:
    """Why a remedy cannot be applied to this run, after its summary."""
    return " " + _MUTED.format(f"(not applicable here: {esc(reason)})")


def advice_html(remedy: Any) -> str:
    """A remedy that is a recommendation (nothing to rerun), as the panel lists it."""
    return f'<div class="stallmagic-advice" style="{TEXT_STYLE}">Recommendation: {remedy_summary_html(remedy)}</div>'


def remedy_row_html(remedy: Any, *, reason: str | None = None, applied: str | None = None) -> str:
    """The text beside a remedy's rerun button: its summary, why it is disabled, the rerun that applied it."""
    text = remedy_summary_html(remedy)
    if reason:
        text += not_applicable_html(reason)
    if applied:
        text += " " + _MUTED.format(f"(applied: {esc(applied)})")
    return f'<div style="{TEXT_STYLE}">{text}</div>'


def remedy_html(remedy: Any) -> str:
    """A remedy as text: its title, one sentence, why it is disabled if it is, and its code."""
    out = remedy_summary_html(remedy)
    if getattr(remedy, "kind", "rerun") == "advice":
        out += " <i>(recommendation)</i>"
    reason = getattr(remedy, "disabled_reason", None)
    if reason:
        out += not_applicable_html(reason)
    as_code = getattr(remedy, "as_code", None)
    code = as_code() if callable(as_code) else None
    if code:
        out += f'<pre style="margin:2px 0;padding:4px;background:rgba(127,127,127,0.1)">{esc(code)}</pre>'
    return out


def keep_html(code: str, *, why_not_inserted: str | None = "") -> str:
    """The kept cell in a copyable box, with how to put it into a cell (``%stall keep``).

    ``why_not_inserted``: ``None`` when the cell was written below the training cell; else why the frontend could
    not (said before the copy instructions), or ``""`` to say nothing about it.
    """
    copy = (
        "navigator.clipboard.writeText(this.closest('.stallmagic-keep-box').querySelector('pre').innerText)"
        ".then(() => { this.textContent = 'Copied'; })"
    )
    return (
        f'<div class="stallmagic-keep-box" style="margin-top:6px;{TEXT_STYLE}">'
        f"<div>{_keep_head(why_not_inserted)}"
        f'<button class="stallmagic-copy" onclick="{esc(copy)}">Copy</button></div>'
        '<pre class="stallmagic-code" style="user-select:text;white-space:pre-wrap;padding:6px;'
        f'background:rgba(127,127,127,0.1);border-radius:4px">{esc(code)}</pre></div>'
    )


def _keep_head(why_not_inserted: str | None) -> str:
    """The line above the kept code: where it went, or how to put it into a cell."""
    if why_not_inserted is None:
        return "Your cell with this fix is in a new cell below the training cell. Or copy it: "
    why = f"This frontend cannot insert the cell: {esc(why_not_inserted)}. " if why_not_inserted else ""
    return (
        f"Your cell with this fix. {why}Run <code>%stall keep</code> in a new cell and it becomes this code, "
        "or copy it: "
    )


def sweep_result_html(result: Any) -> str:
    """A sweep's ranking as the panel shows it (the result's text, escaped)."""
    return f'<pre class="stallmagic-sweep-result">{esc(result)}</pre>'


def repair_result_html(result: Any) -> str:
    """What "Find a fix" did, as the panel shows it (the result's text, escaped)."""
    if getattr(result, "helped", False):
        head = "Found a fix"
    elif getattr(result, "reached", False) and not getattr(result, "attempts", None):
        head = "Nothing to repair"
    else:
        head = "No fix found"
    return f'<b>{head}</b><pre class="stallmagic-repair-result">{esc(result)}</pre>'


def sweep_section_html(result: Any) -> str:
    """A sweep's ranking as a section of the exported page."""
    return f"<h2>Sweep</h2><pre>{esc(result)}</pre>"


# ---------------------------------------------------------------------------------------------------- findings


def confidence_badge(confidence: float) -> str:
    """A small coloured pill with the confidence (red from 0.75, orange from 0.5, grey below)."""
    colour = "#c62828" if confidence >= 0.75 else "#b45309" if confidence >= 0.5 else "#757575"
    return (
        f'<span style="background:{colour};color:white;border-radius:8px;padding:0 6px;font-size:0.85em">'
        f"confidence {confidence:.2f}</span>"
    )


def evidence_html(evidence: Mapping[str, Any]) -> str:
    """The finding's numbers as a compact definition list (keys and values escaped)."""
    if not evidence:
        return ""
    items = " ".join(
        f'<span style="margin-right:10px;white-space:nowrap"><code>{esc(k)}</code> = {esc(numbers.evidence(v))}</span>'
        for k, v in evidence.items()
    )
    return f'<div class="stallmagic-evidence" style="font-size:0.9em;opacity:0.85">Evidence: {items}</div>'


def finding_html(
    finding: Any, *, remedies: bool = True, applied: Callable[[Any], str | None] | None = None
) -> str:
    """One finding: title, confidence, explanation, evidence, what it is a symptom of, and (optionally) its
    remedies as text. The panel passes ``remedies=False`` and draws them as buttons instead; the static twin
    passes ``applied`` (a remedy -> the label of the rerun that applied it, or ``None``), so a saved notebook says
    which fixes were already tried, as the panel's greyed-out "Applied" buttons do."""
    parts = [
        f'<div class="stallmagic-finding" data-code="{esc(finding.code)}" style="{TEXT_STYLE}">',
        f"<b>{esc(finding.title)}</b> {confidence_badge(finding.confidence)} "
        f'<code style="opacity:0.7">{esc(finding.code)}</code>',
        f'<div style="margin:2px 0">{esc(finding.explanation)}</div>',
    ]
    if finding.explained_by:
        parts.append(
            f"<div><i>Likely a consequence of <code>{esc(finding.explained_by)}</code>; fix that first.</i></div>"
        )
    parts.append(evidence_html(finding.evidence))
    if remedies and finding.remedies:
        items = "".join(f"<li>{remedy_html(r)}{_applied_note(applied, r)}</li>" for r in finding.remedies)
        parts.append(f'<ul style="margin:2px 0">{items}</ul>')
    parts.append("</div>")
    return "".join(parts)


def _applied_note(applied: Callable[[Any], str | None] | None, remedy: Any) -> str:
    label = applied(remedy) if applied is not None else None
    return " " + _MUTED.format(f"(applied: {esc(label)})") if label else ""


def findings_head_html(run: Run, report: Any, *, metric_note: str | None = None) -> str:
    """What the panel says above the findings: the question and the headline, how the run ended when that limits
    the diagnosis, why ``--metric`` was not used, and "no problem found" for a healthy run."""
    head = f'<div style="{TEXT_STYLE}"><b>Why is validation accuracy stuck?</b> {esc(report.headline())}</div>'
    if run.end in ("error", "interrupted"):
        head += note(f"{run.label} {ENDINGS[run.end]}; this diagnoses the epochs it completed.")
    if metric_note:
        head += note(metric_note, error=True)
    if report.healthy:
        head += f'<div style="{TEXT_STYLE}">No problem found: {esc(report.summary.get("healthy_text", ""))}</div>'
    return head


def more_findings_html(findings: Sequence[Any]) -> str:
    """The findings beyond those shown in full, by title and confidence."""
    return "<div>Also: " + "; ".join(f"{esc(f.title)} {confidence_badge(f.confidence)}" for f in findings) + "</div>"


def not_checked_html(notes: Sequence[str]) -> str:
    """What the diagnosis could not check, as the panel shows it."""
    return f'<div style="opacity:0.7;font-size:0.9em">Not checked: {esc(" ".join(notes))}</div>'


def report_html(report: Any, *, applied: Callable[[Any], str | None] | None = None) -> str:
    """A diagnosis as HTML: headline, findings most likely first (a remedy already rerun marked, see
    :func:`finding_html`), what was not checked."""
    parts = [f'<div class="stallmagic-report" style="{TEXT_STYLE}"><p><b>{esc(report.headline())}</b></p>']
    if report.healthy:
        parts.append(f"<p>No problem found: {esc(report.summary.get('healthy_text', ''))}</p>")
    for finding in report.findings:
        parts.append(finding_html(finding, applied=applied))
    if report.notes:
        parts.append(f'<p style="opacity:0.75;font-size:0.9em">Not checked: {esc(" ".join(report.notes))}</p>')
    parts.append("</div>")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------------- runs table


def runs_table_html(rows: Sequence[Mapping[str, Any]], *, selected: int | None = None) -> str:
    """The runs as an HTML table (every cell escaped); ``selected`` (a row index) is shown in bold, and a run
    that failed carries its error as a tooltip."""
    if not rows:
        return ""
    shown = headers(rows)
    head = "".join(f'<th style="text-align:left;padding:2px 8px;white-space:nowrap">{esc(h)}</th>' for _, h in shown)
    body = []
    for i, row in enumerate(rows):
        weight = "font-weight:bold;" if i == selected else ""
        error = row.get("error")
        title = f' title="{esc(error)}"' if error else ""
        cells = "".join(f'<td style="padding:2px 8px;{weight}">{esc(cell_text(k, row.get(k)))}</td>' for k, _ in shown)
        body.append(f'<tr class="stallmagic-run-row"{title}>{cells}</tr>')
    return (
        f'<table class="stallmagic-runs" style="border-collapse:collapse;font-size:0.92em;line-height:1.45">'
        f'<thead><tr style="border-bottom:1px solid #ccc">{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )
