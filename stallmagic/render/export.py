"""Reports a person can keep: a self-contained HTML page (curves as inline SVG), JSON, and markdown (a PNG embedded).

The page is built from the same HTML fragments as the notebook panel (:mod:`.html`), and every table comes from one
comparison (:mod:`.table`), so the panel and the files cannot drift apart. Every string that can come from the
user's code or data goes through :func:`~.html.esc` before it is put into HTML, and through :func:`md_escape` before
it is put into markdown.

A report is one file, the one the user named: writing it may replace that file (as ``savefig`` does), and nothing
else is created next to it. Whatever stops the write (a bad name, a folder of that name, no permission, a full disk)
is one :class:`ExportError` sentence naming the path and the reason.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._internal.text import safe_repr, safe_str
from ..record import Run, Session, jsonable
from .classes import MAX_MATRIX, class_section_html, recall_text, rows_text
from .html import curves_html, esc, report_html, runs_table_html
from .per_run import applied_label
from .plot import figure_png
from .table import cell_text, comparison_rows, headers

#: What ``write_report`` can write, by file suffix.
FORMATS = {".html": "html", ".htm": "html", ".json": "json", ".md": "markdown", ".markdown": "markdown"}


class ExportError(OSError, ValueError):
    """A report could not be written to the path given; the message is one sentence naming the path and the reason.

    Both an ``OSError`` and a ``ValueError`` (as :class:`io.UnsupportedOperation` is): a bad name was a ``ValueError``
    and a refused write an ``OSError`` before this class existed, so code catching either keeps working, and the
    ``%stall export`` magic, which turns a ``ValueError`` into a ``UsageError``, shows every case as one line.
    """


def md_escape(value: Any) -> str:
    """``value`` as literal markdown text: characters markdown reads as markup or HTML are backslash-escaped."""
    out = str(value)
    for ch in ("\\", "`", "*", "_", "[", "]", "<", ">", "|", "#"):
        out = out.replace(ch, "\\" + ch)
    return out.replace("\n", " ")


def runs_table_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    """The runs as a markdown table (cells escaped)."""
    if not rows:
        return ""
    shown = headers(rows)
    lines = ["| " + " | ".join(md_escape(h) for _, h in shown) + " |", "|" + "---|" * len(shown)]
    lines += ["| " + " | ".join(md_escape(cell_text(k, row.get(k))) for k, _ in shown) + " |" for row in rows]
    return "\n".join(lines)


def class_markdown(view: Any) -> list[str]:
    """Recall per class and the confusion matrix as markdown tables (class names escaped)."""
    if view is None or not view.classes:
        return []
    validation, train = view.split == "validation", bool(view.train_recall)
    head = ["class"] + (["validation recall"] if validation else []) + (["training recall"] if train else [])
    lines = [f"### Recall per class ({rows_text(view)})", "", "| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for i in view.worst_first():
        cells = [md_escape(view.classes[i])]
        cells += [recall_text(view.val_recall[i])] if validation else []
        cells += [recall_text(view.train_recall[i])] if train else []
        lines.append("| " + " | ".join(cells) + " |")
    if len(view.classes) > MAX_MATRIX:
        return [*lines, "", f"{len(view.classes)} classes: the confusion matrix is in the JSON export.", ""]
    names = [md_escape(c) for c in view.classes]
    lines += ["", f"### Confusion matrix ({view.split} sample, {view.rows} rows; rows: true class, columns: predicted)"]
    lines += ["", "| true / predicted | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    lines += [f"| {names[i]} | " + " | ".join(str(int(n)) for n in row) + " |" for i, row in enumerate(view.confusion)]
    return [*lines, ""]


# ---------------------------------------------------------------------------------------------------- documents


def _runs_of(session: Session | Sequence[Run]) -> list[Run]:
    """The runs of a Session or a list of Runs; anything else is one TypeError sentence, not an AttributeError
    from deep inside a table (a str would otherwise be read as a list of one-letter "runs")."""
    if isinstance(session, Session):
        return list(session.runs)
    if isinstance(session, Sequence) and not isinstance(session, (str, bytes)):
        runs = list(session)
        if all(isinstance(run, Run) for run in runs):
            return runs
    raise TypeError(
        f"The 'session' argument of a stallmagic report must be a Session or a list of Runs. Got {safe_repr(session)} "
        "instead."
    )


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
    """A self-contained HTML page: the curves as inline SVG (the panel's, in the page's text colour), the runs
    table, each run's diagnosis.

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
        parts.append(curves_html(runs, metric=metric))
        parts.append("<h2>Runs</h2>")
        parts.append(runs_table_html(comparison_rows(session, metric=metric)))
    for run in runs:
        parts.append(f"<h2>{esc(run.label)}</h2>")
        parts.append(f"<pre>{esc(run.summary())}</pre>")
        if run.report is not None:
            parts.append(report_html(run.report, applied=applied_label(runs, run)))
            parts.append(class_section_html(run.report.per_class))
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
) -> str:
    """The report as markdown, one self-contained file: the curves are embedded as a PNG data URI.

    The curves are embedded rather than written next to the report so that exporting never creates, or replaces, a
    file the user did not name (JupyterLab, VS Code and most markdown viewers show data URIs; GitHub does not).
    """
    runs = _runs_of(session)
    lines = [f"# {md_escape(_title(runs, title))}", ""]
    if runs and any(r.epochs for r in runs):
        png = base64.b64encode(figure_png(runs, metric=metric)).decode("ascii")
        lines += [f"![training curves](data:image/png;base64,{png})", ""]
    if runs:
        lines += ["## Runs", "", runs_table_markdown(comparison_rows(session, metric=metric)), ""]
    for run in runs:
        if run.report is not None:
            lines += [run.report.to_markdown(), "", *class_markdown(run.report.per_class)]
    if source:
        lines += ["## Cell", "", *md_code_block(source), ""]
    if kept:
        lines += ["## Kept fix", "", *md_code_block(kept), ""]
    return "\n".join(lines).rstrip() + "\n"


def md_code_block(code: str, *, language: str = "python") -> list[str]:
    """``code`` as the lines of a fenced markdown code block whose fence no line of ``code`` can close.

    A fence closes at a line of as many backticks or more (CommonMark), so the fence is one backtick longer than the
    longest run of backticks anywhere in ``code``, and at least three: a cell holding a line of four backticks
    cannot end the block early and have the rest read as markdown (or raw HTML).
    """
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{language}", code, fence]


def check_report_path(path: str | os.PathLike[str]) -> tuple[Path, str]:
    """The report's path (``~`` expanded) and its format (``"html"``, ``"json"`` or ``"md"``), checked before
    anything is built or trained, so a mistyped folder or suffix costs nothing.

    Raises:
        ExportError: As :func:`write_report` says.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ExportError(
            f"The 'path' argument of write_report must be a file name (str or os.PathLike). Got {safe_repr(path)} "
            "instead."
        )
    try:
        path = Path(path).expanduser()
    except RuntimeError as exc:  # "~name/..." where no user has that name
        raise ExportError(f"Cannot export to {safe_repr(os.fspath(path))}: {safe_str(exc).rstrip('.')}.") from None
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ExportError(
            f"Cannot export to {str(path)!r}: the file name must end in .html, .json or .md "
            f"(got {path.suffix or 'no suffix'!r})."
        )
    with _refused(path):  # before the report is built: a mistyped folder costs nothing
        if not path.parent.exists():
            raise ExportError(f"Cannot export to {str(path)!r}: the folder {str(path.parent)!r} does not exist.")
        if not path.parent.is_dir():
            raise ExportError(f"Cannot export to {str(path)!r}: {str(path.parent)!r} is a file, not a folder.")
    return path, kind


def unused_path(path: Path) -> Path:
    """``path`` when nothing is there, else the first free ``<stem>-2<suffix>``, ``<stem>-3<suffix>``...: a file
    name stallmagic chose for the user (the panel's Export button) never replaces a file, neither a report exported
    earlier nor one of theirs. A name the user gives :func:`write_report` is theirs to replace."""
    if not os.path.lexists(path):
        return path
    n = 2
    while os.path.lexists(candidate := path.with_name(f"{path.stem}-{n}{path.suffix}")):
        n += 1
    return candidate


def write_report(
    path: str | os.PathLike[str],
    session: Session | Sequence[Run],
    *,
    metric: str | None = None,
    source: str | None = None,
    kept: str | None = None,
    extra_html: str | None = None,
) -> list[Path]:
    """Write a report whose format follows the suffix: ``.html``, ``.json`` or ``.md``, each one self-contained file.

    The folder is checked before the report is built, and the report is built in full before the file is opened, so
    a report that cannot be built leaves no file behind.
    ``path`` is replaced if it exists (as ``savefig`` does); no other file is written.

    Returns:
        The files written: ``[path]`` (a list, so that a caller can show every file written).

    Raises:
        ExportError: For a suffix other than those of :data:`FORMATS`, a folder that does not exist, or a write the
            operating system refused (a folder named like the file, no permission, a full disk...), in one sentence
            naming the path and the reason.
    """
    path, kind = check_report_path(path)
    if kind == "html":
        text = html_document(session, metric=metric, source=source, kept=kept, extra=extra_html)
    elif kind == "json":
        text = json.dumps(json_document(session, metric=metric, source=source, kept=kept), indent=1, allow_nan=False)
    else:
        text = markdown_document(session, metric=metric, source=source, kept=kept)
    data = text.encode("utf-8", errors="backslashreplace")  # a lone surrogate in a user string cannot fail the write
    with _refused(path):
        path.write_bytes(data)
    return [path]


@contextlib.contextmanager
def _refused(path: Path) -> Iterator[None]:
    """Turn what the operating system raises while ``path`` is checked or written into one :class:`ExportError`
    sentence: its reason in words, and the path it names when that is not the report's own (a folder above it)."""
    try:
        yield
    except ExportError:
        raise
    except OSError as exc:
        reason = "a folder of that name is in the way" if isinstance(exc, IsADirectoryError) else exc.strerror
        reason = safe_str(reason).rstrip(".") if reason else type(exc).__name__
        if exc.filename is not None and Path(os.fsdecode(exc.filename)) != path:
            reason += f" ({os.fsdecode(exc.filename)!r})"
        raise ExportError(f"Cannot export to {str(path)!r}: {reason}.") from exc
    except ValueError as exc:  # a file name the operating system cannot take (an embedded NUL)
        raise ExportError(f"Cannot export to {str(path)!r}: {safe_str(exc).rstrip('.')}.") from exc


def safe_filename(text: str, *, default: str = "run") -> str:
    """``text`` reduced to a file-name-safe slug (letters, digits, ``-``, ``_``), at most 60 characters."""
    slug = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(text)).strip("_")
    while "__" in slug:
        slug = slug.replace("__", "_")
    return slug[:60] or default
