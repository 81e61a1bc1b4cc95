"""The plain-text view: what ``%%diagnose_fit`` prints without a widget frontend, and what ``%stall`` prints.

A terminal session (or ``--text``) gets the same diagnosis, fixes and runs as the panel shows, as lines of text;
the magics in :mod:`.magic` only pick which of these to print.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..record import Run
from ..render.classes import recall_lines
from .cell import CellRuns


def fix_lines(choices: Sequence[tuple[Any, Any]]) -> list[str]:
    """The fixes a rerun can apply, numbered as ``%stall rerun N`` takes them: ``  [1] title: sentence (for: ...)``."""
    return [
        f"  [{i}] {remedy.title}: {remedy.describe()} (for: {finding.title})"
        for i, (finding, remedy) in enumerate(choices, 1)
    ]


def run_line(number: int, cell: CellRuns, run: Run) -> str:
    """One line of ``%stall runs``: its number, the cell, the diagnosis headline (else the summary), remedy, end."""
    remedy = f", remedy: {run.remedy.title}" if getattr(run.remedy, "title", None) else ""
    head = run.report.headline() if run.report is not None else run.summary().splitlines()[0]
    return f"{number:>3}  In[{cell.number}]  {head}{remedy} ({run.end})"


class TextView:
    """What ``%%diagnose_fit`` shows without a widget frontend (a terminal, or ``--text``): a text report.

    Args:
        cell: The cell whose runs to report.
        write: Where the report goes (default: ``print``, so it lands in the cell's output).
    """

    listener = None  # nothing live: the report is printed when the cell ends

    def __init__(self, cell: CellRuns, *, write: Callable[[str], Any] = print) -> None:
        self.cell = cell
        self.write = write

    def finish(self) -> None:
        """The cell ended: print each run's summary, then the shown run's diagnosis and the fixes to try."""
        cell = self.cell
        if not cell.runs:
            self.write(cell.no_fit_line())
            return
        lines = [f"[stallmagic] {run.summary().splitlines()[0]}" for run in cell.runs[:-1]]
        run = cell.selected or cell.last
        lines.append(f"[stallmagic] {run.summary().splitlines()[0]}")
        if run.error is not None:
            lines.append(
                f"[stallmagic] It ended with {run.error.type}: {run.error.message}; below, the epochs it completed."
            )
        note = cell.metric_note(run)
        if note:
            lines.append(f"[stallmagic] {note}")
        if run.report is not None:
            lines.append("[stallmagic] " + str(run.report))
            lines.extend(recall_lines(getattr(run.report, "per_class", None)))
            choices = cell.remedies(run)
            if choices:
                lines.append("Fixes to try (rerun one with %stall rerun N, then keep it with %stall keep):")
                lines.extend(fix_lines(choices))
        lines.extend(f"[stallmagic] {p}" for p in cell.problems)
        lines.extend(f"[stallmagic] The live view stopped: {e}" for e in cell.session.listener_errors)
        self.write("\n".join(lines))
