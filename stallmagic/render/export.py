"""Reports a person can keep: a self-contained HTML page (plots embedded), JSON, and markdown.

The same HTML fragments (a finding, a runs table) are used by the notebook panel, so what the panel shows and what
the exported page shows cannot drift apart. Every string that can come from the user's code or data (run labels,
metric and log keys, layer names in evidence, exception messages, remedy code, file paths) goes through
:func:`esc` before it is put into HTML, and through :func:`md_escape` before it is put into markdown.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import math
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from ..record import Run, Session, jsonable

#: Readable text inside widgets (ipywidgets sets a 28 px line height for aligning with inputs) and long words wrapped.
TEXT_STYLE = "line-height:1.45;white-space:normal;overflow-wrap:anywhere"

#: What ``write_report`` can write, by file suffix.
FORMATS = {".html": "html", ".htm": "html", ".json": "json", ".md": "markdown", ".markdown": "markdown"}


def esc(value: Any) -> str:
    """``value`` as text safe inside HTML element content and quoted attribute values."""
    return escape(str(value), quote=True)


def md_escape(value: Any) -> str:
    """``value`` as literal markdown text: characters markdown reads as markup or HTML are backslash-escaped."""
    out = str(value)
    for ch in ("\\", "`", "*", "_", "[", "]", "<", ">", "|", "#"):
        out = out.replace(ch, "\\" + ch)
    return out.replace("\n", " ")


def fmt(value: Any) -> str:
    """A number for a table cell: 4 significant digits, integers as such, ``—`` for missing."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:.4g}"
    return str(value)


# ---------------------------------------------------------------------------------------------------- runs table


def remedy_title(remedy: Any) -> str:
    """A remedy's short name (``title``, else its ``describe()``, else ``str``); ``"baseline"`` for ``None``."""
    if remedy is None:
        return "baseline"
    title = getattr(remedy, "title", None)
    if title:
        return str(title)
    describe = getattr(remedy, "describe", None)
    return str(describe()) if callable(describe) else str(remedy)


#: Columns of the runs table: (row key, header). Rows come from ``session.compare().rows`` (the rerun engine's
#: :class:`~stallmagic.rerun.Comparison`) or, without it, from :func:`runs_rows`, which uses the same keys.
COLUMNS = (
    ("label", "run"),
    ("remedy", "remedy"),
    ("best", "best"),
    ("best_epoch", "epoch"),
    ("delta", "vs parent"),
    ("final_gap", "gap"),
    ("epochs", "epochs"),
    ("wall_time", "time (s)"),
    ("end", "end"),
)


def runs_rows(runs: Sequence[Run], *, metric: str | None = None) -> list[dict]:
    """One row per run with the keys of :data:`COLUMNS` (a stand-in for ``session.compare().rows``, for runs
    outside a session or an installation without the rerun engine)."""
    from .plot import curves

    rows = []
    for run in runs:
        c = curves(run, metric=metric)
        values = c.val if c.val is not None else c.train
        best = best_epoch = None
        if values is not None:
            finite = [(v, i) for i, v in enumerate(values.tolist()) if math.isfinite(v)]
            if finite:
                best, i = (max if c.higher_is_better else min)(finite)
                best_epoch = int(c.epochs[i])
        gaps = [g for g in (c.gap.tolist() if c.gap is not None else []) if math.isfinite(g)]
        key = ("val_" + c.metric if c.val is not None else c.metric) if c.metric else None
        rows.append(
            {
                "label": run.label,
                "remedy": None if run.remedy is None else remedy_title(run.remedy),
                "metric": key,
                "best": best,
                "best_epoch": best_epoch,
                "delta": None,
                "final_gap": gaps[-1] if gaps else None,
                "epochs": run.epochs_done,
                "wall_time": float(run.wall_time),
                "end": run.end,
                "error": f"{run.error.type}: {run.error.message}" if run.error is not None else None,
            }
        )
    return rows


def comparison_rows(session: Session | Sequence[Run], *, metric: str | None = None) -> list[dict]:
    """The runs table: ``session.compare().rows`` when the rerun engine provides it, else :func:`runs_rows`.

    A comparison that fails is not allowed to hide the runs: the local table is used instead.
    """
    compare = getattr(session, "compare", None)
    if callable(compare):
        try:
            return [dict(r) for r in compare(metric=metric).rows]
        except Exception:
            pass
    runs = session.runs if isinstance(session, Session) else list(session)
    return runs_rows(runs, metric=metric)


def _cell(key: str, value: Any) -> str:
    if key == "remedy" and value is None:
        return "baseline"
    if key == "wall_time" and isinstance(value, (int, float)):
        return f"{value:.1f}"
    if key == "delta" and isinstance(value, (int, float)) and math.isfinite(value):
        return f"{value:+.4f}"
    if key == "final_gap" and isinstance(value, (int, float)) and math.isfinite(value):
        return f"{value:+.3f}"
    if key == "best" and isinstance(value, (int, float)) and math.isfinite(value):
        return f"{value:.4f}"
    return fmt(value)


def _headers(rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    metric = next((r.get("metric") for r in rows if r.get("metric")), None)
    out = []
    for key, header in COLUMNS:
        if key == "delta" and all(r.get("delta") is None for r in rows):
            continue
        out.append((key, f"best {metric}" if key == "best" and metric else header))
    return out


def runs_table_html(rows: Sequence[Mapping[str, Any]], *, selected: int | None = None) -> str:
    """The runs as an HTML table (every cell escaped); ``selected`` (a row index) is shown in bold, and a run
    that failed carries its error as a tooltip."""
    if not rows:
        return ""
    headers = _headers(rows)
    head = "".join(f'<th style="text-align:left;padding:2px 8px;white-space:nowrap">{esc(h)}</th>' for _, h in headers)
    body = []
    for i, row in enumerate(rows):
        weight = "font-weight:bold;" if i == selected else ""
        error = row.get("error")
        title = f' title="{esc(error)}"' if error else ""
        cells = "".join(f'<td style="padding:2px 8px;{weight}">{esc(_cell(k, row.get(k)))}</td>' for k, _ in headers)
        body.append(f'<tr class="stallmagic-run-row"{title}>{cells}</tr>')
    return (
        f'<table class="stallmagic-runs" style="border-collapse:collapse;font-size:0.92em;line-height:1.45">'
        f'<thead><tr style="border-bottom:1px solid #ccc">{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def runs_table_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    """The runs as a markdown table (cells escaped)."""
    if not rows:
        return ""
    headers = _headers(rows)
    lines = ["| " + " | ".join(md_escape(h) for _, h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(md_escape(_cell(k, row.get(k))) for k, _ in headers) + " |" for row in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------- findings


def confidence_badge(confidence: float) -> str:
    """A small coloured pill with the confidence (red from 0.75, orange from 0.5, grey below)."""
    colour = "#c62828" if confidence >= 0.75 else "#ef6c00" if confidence >= 0.5 else "#757575"
    return (
        f'<span style="background:{colour};color:white;border-radius:8px;padding:0 6px;font-size:0.85em">'
        f"confidence {confidence:.2f}</span>"
    )


def evidence_value(value: Any) -> str:
    """An evidence value for reading: floats to 3-4 significant digits, long lists shortened."""
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.3g}" if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5) else f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        shown = ", ".join(evidence_value(v) for v in list(value)[:8])
        return f"[{shown}{', ...' if len(value) > 8 else ''}]"
    return str(value)


def evidence_html(evidence: Mapping[str, Any]) -> str:
    """The finding's numbers as a compact definition list (keys and values escaped)."""
    if not evidence:
        return ""
    items = " ".join(
        f'<span style="margin-right:10px;white-space:nowrap"><code>{esc(k)}</code> = {esc(evidence_value(v))}</span>'
        for k, v in evidence.items()
    )
    return f'<div class="stallmagic-evidence" style="font-size:0.9em;opacity:0.85">Evidence: {items}</div>'


def finding_html(finding: Any, *, remedies: bool = True) -> str:
    """One finding: title, confidence, explanation, evidence, what it is a symptom of, and (optionally) its
    remedies as text. The panel passes ``remedies=False`` and draws them as buttons instead."""
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
        items = "".join(f"<li>{remedy_html(r)}</li>" for r in finding.remedies)
        parts.append(f'<ul style="margin:2px 0">{items}</ul>')
    parts.append("</div>")
    return "".join(parts)


def remedy_html(remedy: Any) -> str:
    """A remedy as text: its title, one sentence, why it is disabled if it is, and its code."""
    describe = getattr(remedy, "describe", None)
    sentence = describe() if callable(describe) else ""
    out = f"<b>{esc(remedy_title(remedy))}</b>"
    if sentence and sentence != remedy_title(remedy):
        out += f": {esc(sentence)}"
    if getattr(remedy, "kind", "rerun") == "advice":
        out += " <i>(recommendation)</i>"
    reason = getattr(remedy, "disabled_reason", None)
    if reason:
        out += f' <span style="opacity:0.7">(not applicable here: {esc(reason)})</span>'
    as_code = getattr(remedy, "as_code", None)
    code = as_code() if callable(as_code) else None
    if code:
        out += f'<pre style="margin:2px 0;padding:4px;background:rgba(127,127,127,0.1)">{esc(code)}</pre>'
    return out


def report_html(report: Any) -> str:
    """A diagnosis as HTML: headline, findings most likely first, what was not checked."""
    parts = [f'<div class="stallmagic-report" style="{TEXT_STYLE}"><p><b>{esc(report.headline())}</b></p>']
    if report.healthy:
        parts.append(f"<p>No problem found: {esc(report.summary.get('healthy_text', ''))}</p>")
    for finding in report.findings:
        parts.append(finding_html(finding))
    if report.notes:
        parts.append(f'<p style="opacity:0.75;font-size:0.9em">Not checked: {esc(" ".join(report.notes))}</p>')
    parts.append("</div>")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------------- documents


def _runs_of(session: Session | Sequence[Run]) -> list[Run]:
    return list(session.runs) if isinstance(session, Session) else list(session)


def _title(runs: Sequence[Run], title: str | None) -> str:
    if title:
        return title
    return f"stallmagic report: {runs[0].label}" if runs else "stallmagic report"


def html_document(
    session: Session | Sequence[Run],
    *,
    metric: str | None = None,
    title: str | None = None,
    source: str | None = None,
    kept: str | None = None,
    extra: str | None = None,
) -> str:
    """A self-contained HTML page: the curves as an embedded PNG, the runs table, each run's diagnosis.

    Args:
        session: The runs (a Session, or a list of Runs).
        metric: The metric read as "accuracy" (default: per run, the first accuracy-like metric).
        title: Page title (default: "stallmagic report: <first run's label>").
        source: The cell's source, shown as code.
        kept: A patched source the user chose to keep, shown as code.
        extra: Already-escaped HTML to append (e.g. a sweep's results).

    Returns:
        The page as a string; it references no file and no network resource.
    """
    from .. import __version__
    from .plot import figure_png

    runs = _runs_of(session)
    page_title = _title(runs, title)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(page_title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.4}"
        "pre{white-space:pre-wrap;background:#f5f5f5;padding:8px;border-radius:4px}"
        ".stallmagic-finding{border-left:3px solid #ddd;padding:4px 10px;margin:8px 0}</style>",
        "</head><body>",
        f"<h1>{esc(page_title)}</h1>",
        f"<p>Generated {esc(_dt.datetime.now().isoformat(timespec='seconds'))} by stallmagic {esc(__version__)}.</p>",
    ]
    if runs:
        data = base64.b64encode(figure_png(runs, metric=metric)).decode("ascii")
        parts.append(f'<img alt="training curves" src="data:image/png;base64,{data}" style="max-width:100%">')
        parts.append("<h2>Runs</h2>")
        parts.append(runs_table_html(comparison_rows(session, metric=metric)))
    for run in runs:
        parts.append(f"<h2>{esc(run.label)}</h2>")
        parts.append(f"<pre>{esc(run.summary())}</pre>")
        if run.report is not None:
            parts.append(report_html(run.report))
    if source:
        parts.append(f"<h2>Cell</h2><pre>{esc(source)}</pre>")
    if kept:
        parts.append(f"<h2>Kept fix</h2><pre>{esc(kept)}</pre>")
    if extra:
        parts.append(extra)
    parts.append("</body></html>")
    return "\n".join(parts)


def json_document(
    session: Session | Sequence[Run],
    *,
    metric: str | None = None,
    source: str | None = None,
    kept: str | None = None,
) -> dict:
    """The runs, their diagnoses and the comparison as JSON-ready data (strict JSON: no NaN)."""
    from .. import __version__

    runs = _runs_of(session)
    return {
        "stallmagic": __version__,
        "runs": [r.to_dict() for r in runs],
        "reports": {str(r.index): r.report.to_dict() for r in runs if r.report is not None},
        "comparison": jsonable(comparison_rows(session, metric=metric)),
        "source": source,
        "kept": kept,
    }


def markdown_document(
    session: Session | Sequence[Run],
    *,
    metric: str | None = None,
    title: str | None = None,
    source: str | None = None,
    kept: str | None = None,
    image: str | None = None,
) -> str:
    """The report as markdown; ``image`` is a relative path to the curves PNG written next to it."""
    runs = _runs_of(session)
    lines = [f"# {md_escape(_title(runs, title))}", ""]
    if image:
        lines += [f"![training curves]({image})", ""]
    if runs:
        lines += ["## Runs", "", runs_table_markdown(comparison_rows(session, metric=metric)), ""]
    for run in runs:
        if run.report is not None:
            lines += [run.report.to_markdown(), ""]
    fence = "````"
    if source:
        lines += ["## Cell", "", f"{fence}python", source, fence, ""]
    if kept:
        lines += ["## Kept fix", "", f"{fence}python", kept, fence, ""]
    return "\n".join(lines).rstrip() + "\n"


def write_report(
    path: str | Path,
    session: Session | Sequence[Run],
    *,
    metric: str | None = None,
    source: str | None = None,
    kept: str | None = None,
    extra_html: str | None = None,
) -> list[Path]:
    """Write a report whose format follows the suffix: ``.html`` (self-contained), ``.json`` or ``.md``.

    Returns:
        The files written: the report, and for markdown the curves PNG next to it (``<stem>_curves.png``).

    Raises:
        ValueError: For another suffix, saying which are supported.
    """
    path = Path(path).expanduser()
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ValueError(
            f"Cannot export to {str(path)!r}: the file name must end in .html, .json or .md "
            f"(got {path.suffix or 'no suffix'!r})."
        )
    if path.parent and not path.parent.exists():
        raise ValueError(f"Cannot export to {str(path)!r}: the folder {str(path.parent)!r} does not exist.")
    written = [path]
    if kind == "html":
        path.write_text(
            html_document(session, metric=metric, source=source, kept=kept, extra=extra_html), encoding="utf-8"
        )
    elif kind == "json":
        doc = json_document(session, metric=metric, source=source, kept=kept)
        path.write_text(json.dumps(doc, indent=1, allow_nan=False), encoding="utf-8")
    else:
        image = None
        runs = _runs_of(session)
        if runs and any(r.epochs for r in runs):
            from .plot import figure_png

            png_path = path.with_name(f"{path.stem}_curves.png")
            png_path.write_bytes(figure_png(runs, metric=metric))
            image = png_path.name
            written.append(png_path)
        path.write_text(
            markdown_document(session, metric=metric, source=source, kept=kept, image=image), encoding="utf-8"
        )
    return written


def safe_filename(text: str, *, default: str = "run") -> str:
    """``text`` reduced to a file-name-safe slug (letters, digits, ``-``, ``_``), at most 60 characters."""
    slug = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(text)).strip("_")
    while "__" in slug:
        slug = slug.replace("__", "_")
    return slug[:60] or default
