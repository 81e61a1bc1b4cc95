"""A running sweep's trials drawn as a live table: one row per trial (its configuration, fold, epoch, the scored
metric's latest value, its state), as HTML for the notebook and as text for a frontend without HTML.

Draws a :class:`~stallmagic.rerun.sweep_progress.SweepBoard` (read only: its ``trials``, ``total``, ``done``,
``metric`` and ``engine``); every string from the user's grid is escaped here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._internal import numbers
from .html import TEXT_STYLE, esc

#: At most this many trials are listed (running ones first among the rest); the others are counted.
MAX_ROWS = 40

_ENGINES = {"ray": "on Ray Tune", "process": "in this process"}


def head_text(board: Any) -> str:
    """``Sweep on Ray Tune: 2/6 trials done, 2 running (val_accuracy)``."""
    running = sum(1 for t in board.trials.values() if t["state"] == "running")
    total = f"/{board.total}" if board.total else ""
    metric = f" ({board.metric})" if board.metric else ""
    return (
        f"Sweep {_ENGINES.get(board.engine, board.engine)}: {board.done}{total} trials done, "
        f"{running} running{metric}"
    )


def param_text(params: Mapping[str, Any]) -> str:
    """A configuration in one line: ``optimizer=adam, learning_rate=0.01`` (a remedy by its title)."""
    return ", ".join(f"{k}={_value(v)}" for k, v in params.items())


def _value(value: Any) -> str:
    if isinstance(value, Mapping) and "code" in value:  # a remedy, as params_json writes it
        return str(value.get("title") or value["code"])
    if isinstance(value, float):
        return numbers.num(value, 4)
    return str(value)


def cells(trial: Mapping[str, Any]) -> list[str]:
    """One trial's row: number, configuration, fold (from 1), epoch, the metric's latest value (an ended trial's
    score), state."""
    epochs = trial.get("epochs")
    epoch = f"{trial['epoch']}/{epochs}" if epochs else str(trial["epoch"] or "")
    fold = "" if trial.get("fold") is None else str(trial["fold"] + 1)
    value = trial.get("value")
    if trial["state"] != "running" and trial.get("score") is not None:
        value = trial["score"]  # an ended trial shows its score (the mean over folds)
    return [
        str(trial["trial"]) if trial["trial"] > 0 else "?",
        param_text(trial.get("params") or {}),
        fold,
        epoch,
        numbers.num(value, 4),
        trial["state"],
    ]


def _shown(board: Any) -> tuple[list[Mapping[str, Any]], int]:
    rows = board.rows()
    if len(rows) <= MAX_ROWS:
        return rows, 0
    running = [t for t in rows if t["state"] == "running"]
    rest = [t for t in rows if t["state"] != "running"][: max(0, MAX_ROWS - len(running))]
    shown = sorted(running + rest, key=lambda t: (t["trial"] < 0, abs(t["trial"])))
    return shown, len(rows) - len(shown)


def board_html(board: Any) -> str:
    """The board as an HTML table under its head line (every cell escaped)."""
    rows, hidden = _shown(board)
    titles = ["#", "configuration", "fold", "epoch", board.metric or "score", "state"]
    head = "".join(f'<th style="text-align:left;padding:2px 8px;white-space:nowrap">{esc(t)}</th>' for t in titles)
    body = []
    for trial in rows:
        weight = "font-weight:bold;" if trial["state"] == "running" else ""
        error = "; ".join(trial.get("errors") or [])
        title = f' title="{esc(error)}"' if error else ""
        tds = "".join(f'<td style="padding:2px 8px;{weight}">{esc(c)}</td>' for c in cells(trial))
        body.append(f'<tr class="stallmagic-trial"{title}>{tds}</tr>')
    more = f'<div style="opacity:0.7">… and {hidden} more trial(s)</div>' if hidden else ""
    return (
        f'<div class="stallmagic-sweep-board" style="{TEXT_STYLE}"><b>{esc(head_text(board))}</b>'
        f'<table style="border-collapse:collapse;font-size:0.92em;line-height:1.45">'
        f'<thead><tr style="border-bottom:1px solid #ccc">{head}</tr></thead><tbody>{"".join(body)}</tbody>'
        f"</table>{more}</div>"
    )


def board_text(board: Any) -> str:
    """The board as plain text: the head line, then one line per trial."""
    rows, hidden = _shown(board)
    lines = [head_text(board)]
    for trial in rows:
        number, params, fold, epoch, value, state = cells(trial)
        where = f"fold {fold}, " if fold else ""
        lines.append(f"  {number:>3}  {params}  ({where}epoch {epoch or '-'}, {value})  {state}")
    if hidden:
        lines.append(f"  ... and {hidden} more trial(s)")
    return "\n".join(lines)


__all__ = ["board_html", "board_text", "head_text", "param_text"]
