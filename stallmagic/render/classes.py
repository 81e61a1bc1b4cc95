"""The per-class view of a classifier, drawn: recall per class (worst first) and the confusion matrix.

The panel shows the selected run's recall per class compactly (at most :data:`MAX_CLASSES` classes, worst
first, with a bar each, the rest counted) and its confusion matrix folded under it; the static twin shows the same
fragment (:func:`class_view_html`), the exported page both in full (:func:`class_section_html`), the terminal's
text view the recall as lines (:func:`recall_lines`); the markdown
export writes them as tables (:func:`stallmagic.render.export.class_markdown`, beside its other markdown). The numbers
come from :class:`~stallmagic.diagnosis.per_class.PerClass` on the run's report. Class names come from the user's
targets: every one goes through :func:`~.html.esc` (HTML) or :func:`md_escape` (markdown).
"""

from __future__ import annotations

from typing import Any

from .html import TEXT_STYLE, esc

#: Classes listed in the panel's recall table (the worst ones; the rest are counted).
MAX_CLASSES = 10
#: Classes up to which the confusion matrix is drawn (a larger one is in the JSON export).
MAX_MATRIX = 20

_CELL = "padding:1px 6px;text-align:right"


def recall_text(value: float | None) -> str:
    """A recall as a table shows it: ``0.93``, or ``–`` for a class without rows."""
    return "–" if value is None else f"{value:.2f}"


def _bar(value: float | None) -> str:
    """A thin bar as long as the recall (the text next to it says the number)."""
    width = 0.0 if value is None else 60.0 * max(0.0, min(1.0, value))
    return (
        '<span style="display:inline-block;width:60px;height:6px;background:rgba(127,127,127,0.2);'
        f'vertical-align:middle"><span style="display:block;height:6px;width:{width:.1f}px;'
        'background:currentColor;opacity:0.6"></span></span>'
    )


def recall_html(view: Any, *, limit: int | None = MAX_CLASSES) -> str:
    """Recall per class as a small table, the worst classes first: validation (with a bar) and training.

    Args:
        view: The run's :class:`~stallmagic.diagnosis.per_class.PerClass` (``None`` gives ``""``).
        limit: Classes listed (default :data:`MAX_CLASSES`; ``None``: all); the rest are counted.
    """
    if view is None or not view.classes:
        return ""
    order = view.worst_first()
    shown = order if limit is None else order[:limit]
    train = bool(view.train_recall)
    validation = view.split == "validation"
    head = "<th style='text-align:left;padding:1px 6px'>class</th>"
    head += f"<th style='{_CELL}'>validation</th>" if validation else ""
    head += f"<th style='{_CELL}'>training</th>" if train else ""
    body = []
    for i in shown:
        cells = f"<td style='padding:1px 6px'>{esc(view.classes[i])}</td>"
        if validation:
            cells += f"<td style='{_CELL}'>{_bar(view.val_recall[i])} {recall_text(view.val_recall[i])}</td>"
        if train:
            cells += f"<td style='{_CELL}'>{recall_text(view.train_recall[i])}</td>"
        body.append(f'<tr class="stallmagic-class-row">{cells}</tr>')
    rest = len(order) - len(shown)
    more = f"<div style='opacity:0.7'>and {rest} more class{'es' if rest != 1 else ''}</div>" if rest else ""
    return (
        f'<div class="stallmagic-recall" style="margin:4px 0;{TEXT_STYLE}"><b>Recall per class</b> '
        f'<span style="opacity:0.7">({rows_text(view)}; worst first)</span>'
        f'<table style="border-collapse:collapse;font-size:0.9em"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>{more}</div>"
    )


def recall_lines(view: Any, *, limit: int | None = MAX_CLASSES) -> list[str]:
    """Recall per class as lines of text for the terminal view, the worst classes first, as the panel lists them:
    ``  3: validation 0.41, training 0.97``; the classes past ``limit`` are counted. ``[]`` without a view."""
    if view is None or not view.classes:
        return []
    order = view.worst_first()
    shown = order if limit is None else order[:limit]
    lines = [f"Recall per class ({rows_text(view)}; worst first):"]
    for i in shown:
        parts = [f"validation {recall_text(view.val_recall[i])}"] if view.split == "validation" else []
        parts += [f"training {recall_text(view.train_recall[i])}"] if view.train_recall else []
        lines.append(f"  {view.classes[i]}: {', '.join(parts)}")
    rest = len(order) - len(shown)
    if rest:
        lines.append(f"  and {rest} more class{'es' if rest != 1 else ''}")
    return lines


def rows_text(view: Any) -> str:
    """Which rows the recalls are measured on: ``validation sample of 750 rows, training: 1000 rows``."""
    parts = [f"{view.split} sample of {view.rows} rows"]
    if view.train_recall and view.split == "validation":
        parts.append(f"training: {view.train_rows} rows")
    return ", ".join(parts)


def confusion_html(view: Any) -> str:
    """The confusion matrix as a table: a row per true class, a column per predicted class, the diagonal in bold;
    ``""`` without a view, a sentence when it has more than :data:`MAX_MATRIX` classes."""
    if view is None or not view.classes:
        return ""
    k = len(view.classes)
    if k > MAX_MATRIX:
        return f'<div style="opacity:0.7">{k} classes: the confusion matrix is in the JSON export.</div>'
    head = "".join(f"<th style='{_CELL}'>{esc(c)}</th>" for c in view.classes)
    body = []
    for i, row in enumerate(view.confusion):
        cells = "".join(
            f"<td style='{_CELL}{';font-weight:bold' if i == j else ''}'>{int(n)}</td>" for j, n in enumerate(row)
        )
        body.append(f"<tr><th style='text-align:left;padding:1px 6px'>{esc(view.classes[i])}</th>{cells}</tr>")
    return (
        f'<table class="stallmagic-confusion" style="border-collapse:collapse;font-size:0.9em">'
        f"<caption style='text-align:left;opacity:0.7'>Confusion matrix on the {esc(view.split)} sample "
        f"({view.rows} rows): a row per true class, a column per predicted class</caption>"
        f"<thead><tr><th></th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def class_view_html(view: Any) -> str:
    """What the panel and the static twin show for a run: recall per class, the confusion matrix folded under it."""
    if view is None or not view.classes:
        return ""
    return (
        f'<div class="stallmagic-classes">{recall_html(view)}'
        f"<details><summary>Confusion matrix</summary>{confusion_html(view)}</details></div>"
    )


def class_section_html(view: Any) -> str:
    """The exported page's section for a run: every class's recall and the confusion matrix, open."""
    if view is None or not view.classes:
        return ""
    return f'<div class="stallmagic-classes">{recall_html(view, limit=None)}{confusion_html(view)}</div>'


__all__ = ["MAX_CLASSES", "MAX_MATRIX", "class_section_html", "class_view_html", "confusion_html", "recall_html",
           "recall_text", "rows_text"]  # fmt: skip
