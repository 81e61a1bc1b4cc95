"""The runs table, whatever it is written in: its rows, its columns and the text of each cell.

The rows are the rerun engine's :class:`~stallmagic.rerun.Comparison` rows, so the panel, the exported page, the
markdown report and ``%stall compare`` all show one comparison. :mod:`.html` and :mod:`.export` only lay the cells
out (and escape them for their format).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .._internal.numbers import table_cell
from ..record import Run, Session
from ..rerun import compare

#: Columns of the runs table: (row key, header); the keys are those of ``Comparison.rows``.
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


def comparison_rows(session: Session | Sequence[Run], *, metric: str | None = None) -> list[dict]:
    """The runs table's rows: ``stallmagic.rerun.compare(session).rows``, copied so a caller may edit them.

    Args:
        session: A Session, or runs outside one (they are compared as one session, and are not moved into it).
        metric: The metric compared (default: the first accuracy-like metric the runs logged, else the loss).
    """
    if not isinstance(session, Session):
        runs = list(session)
        session = Session()
        session.runs = runs  # not Session.add: that would re-parent the caller's runs
    return [dict(r) for r in compare(session, metric=metric).rows]


def cell_text(key: str, value: Any) -> str:
    """The text of one cell: the best value to 4 decimals, signed deltas and gaps, the time to 0.1 s."""
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
    return table_cell(value)


def headers(rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """``[(key, header)]`` of the columns shown: "vs parent" only when some run has a parent to compare with, and
    the best column named after the compared metric."""
    metric = next((r.get("metric") for r in rows if r.get("metric")), None)
    out = []
    for key, header in COLUMNS:
        if key == "delta" and all(r.get("delta") is None for r in rows):
            continue
        out.append((key, f"best {metric}" if key == "best" and metric else header))
    return out
