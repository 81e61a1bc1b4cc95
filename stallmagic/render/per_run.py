"""Which runs' findings a view lists beside the selected run's, and which of a run's fixes were already tried.

After Apply & rerun the panel selects the new run; the run it came from still has findings and fixes the user may
want to try next. The live panel (a collapsed Accordion, :mod:`stallmagic.notebook.findings_view`) and the static
twin (closed ``<details>``, :mod:`.static`) both list the other runs' findings, in the order and under the titles
given here, so the two read the same. Pure: records only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..record import Run

#: Other runs whose findings are listed under the selected run's (the rest are reached with the Run picker).
MAX_OTHER_RUNS = 5


def applied_rerun(runs: Sequence[Run], parent: Run, remedy: Any) -> Run | None:
    """The latest rerun of ``parent`` with this very remedy (same code and parameters), if one was made."""
    code, params = getattr(remedy, "code", None), getattr(remedy, "params", None)
    for r in reversed(runs):
        same = getattr(r.remedy, "code", None) == code and getattr(r.remedy, "params", None) == params
        if r.parent is parent and r.remedy is not None and same:
            return r
    return None


def applied_label(runs: Sequence[Run], parent: Run) -> Callable[[Any], str | None]:
    """remedy -> the label of ``parent``'s rerun that applied it (:func:`applied_rerun`), or ``None``: what the
    static views (the twin, the exported report) write where the panel greys out an "Applied" button."""

    def label(remedy: Any) -> str | None:
        rerun = applied_rerun(runs, parent, remedy)
        return rerun.label if rerun is not None else None

    return label


def fixes_left(runs: Sequence[Run], run: Run) -> int:
    """How many of ``run``'s fixes can still be applied: rerun remedies, not disabled, not yet rerun."""
    report = run.report
    if report is None:
        return 0
    return sum(
        1
        for finding in report.findings
        for remedy in finding.remedies
        if getattr(remedy, "kind", "rerun") == "rerun"
        and not getattr(remedy, "disabled_reason", None)
        and applied_rerun(runs, run, remedy) is None
    )


def other_runs(runs: Sequence[Run], selected: Run | None, *, limit: int | None = MAX_OTHER_RUNS) -> list[Run]:
    """The diagnosed runs other than ``selected`` whose findings are listed below it: the runs it descends from
    first (the baseline before its reruns), then the others, newest first; at most ``limit`` (default
    :data:`MAX_OTHER_RUNS`: the panel reaches the rest with its Run picker; ``None``: all, as the static twin,
    which has no picker, lists them)."""
    chain: list[Run] = []
    parent = selected.parent if selected is not None else None
    while parent is not None:
        chain.insert(0, parent)
        parent = parent.parent
    rest = [r for r in reversed(runs) if r not in chain]
    ordered = [r for r in chain + rest if r is not selected and r.report is not None and r in runs]
    return ordered if limit is None else ordered[:limit]


def findings_title(runs: Sequence[Run], run: Run) -> str:
    """The title of a run's findings listed under the selected run's: ``Findings of <label>: 3 findings, 2 fixes
    not tried``. Plain text (escape it for HTML)."""
    report = run.report
    n = len(report.findings) if report is not None else 0
    left = fixes_left(runs, run)
    found = f"{n} finding{'s' if n != 1 else ''}" if n else "no finding"
    fixes = f", {left} fix{'es' if left != 1 else ''} not tried" if left else ""
    return f"Findings of {run.label}: {found}{fixes}"


__all__ = ["MAX_OTHER_RUNS", "applied_label", "applied_rerun", "findings_title", "fixes_left", "other_runs"]
