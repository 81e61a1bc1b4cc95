"""Find a fix: try the diagnosis's remedies as fair reruns, keep the ones that help, stack them, and stop when the
run reaches the cheap baseline or the budget is spent.

One remedy rarely un-stalls a program that carries two faults (unscaled inputs *and* a wrong loss). :func:`repair`
does what a careful practitioner does by hand: rerun the first remedy of the most likely cause; if the score
improves, keep it and diagnose the improved run again (its new findings come first); if not, try the next cause's
remedy; stop when the network reaches the quick baseline the diagnosis measured (within :data:`REACHED`) after a kept
remedy, when ``budget`` reruns (or ``seconds``) are spent, or when nothing is left to try. A run that already
scores like the baseline but still has alerts (a curve still rising, an oscillating loss) gets its remedies tried
all the same: the quick baseline is a floor, not a ceiling. Every rerun stays in the session, so
the runs table compares them, and the best run's chain of remedies is what "Keep this fix" writes, in one step.

Scores are the diagnosis's own (``report.summary["score"]``: the best validation accuracy, or the validation R²
of regression), so a remedy that changes the loss's scale (standardized targets) is judged fairly. A remedy is
kept when it raises the score by more than :data:`MARGIN`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..record import Run
from ..remedies import Remedy, RemedyError

#: A remedy is kept when it raises the score by more than this.
MARGIN = 0.01
#: The run counts as repaired when its score comes this close to the cheap baseline.
REACHED = 0.03
#: Reruns tried by default.
BUDGET = 6


@dataclass
class Attempt:
    """One remedy tried: the rerun it made (``None`` if refused), its score, whether it was kept, and why not."""

    remedy: Remedy
    run: Run | None
    score: float | None
    kept: bool
    note: str = ""


@dataclass
class RepairResult:
    """What :func:`repair` did.

    Attributes:
        start: The run it started from; ``best``: the best run found (``start`` when nothing helped).
        chain: The remedies that made ``best``, in order (empty when nothing helped).
        attempts: Every remedy tried, in order.
        start_score, best_score: The diagnosis's score of each (accuracy or R²), ``None`` where unmeasured.
        target: The cheap baseline's score the repair aimed at, or ``None``.
        reached: Whether ``best`` came within :data:`REACHED` of ``target``.
        stopped: Why it stopped: ``"reached the baseline"``, ``"budget spent"``, ``"time spent"``, ``"nothing left
            to try"`` or ``"interrupted"``.
    """

    start: Run
    best: Run
    chain: list[Remedy] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    start_score: float | None = None
    best_score: float | None = None
    target: float | None = None
    reached: bool = False
    stopped: str = ""

    @property
    def helped(self) -> bool:
        return bool(self.chain)

    def __str__(self) -> str:
        if not self.attempts and self.reached:
            return (
                f"{self.start.label} already reaches the quick baseline (score {_fmt(self.start_score)}, baseline "
                f"{_fmt(self.target)}): nothing to repair."
            )
        lines = [f"repair of {self.start.label}: {self.stopped}, {len(self.attempts)} rerun(s)"]
        for a in self.attempts:
            score = "-" if a.score is None else f"{a.score:.3g}"
            lines.append(
                f"  {'kept ' if a.kept else 'tried'} {a.remedy.title}: score {score}{' ' + a.note if a.note else ''}"
            )
        if self.helped:
            target = f" (baseline {self.target:.3g})" if self.target is not None else ""
            lines.append(
                f"best: {self.best.label}, score {_fmt(self.start_score)} -> {_fmt(self.best_score)}{target}, "
                f"with {' + '.join(r.title for r in self.chain)}"
            )
        else:
            lines.append(f"nothing helped: no remedy raised the score above {_fmt(self.start_score)}")
        return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _score(report: Any) -> float | None:
    value = report.summary.get("score")
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def candidates(report: Any) -> list[Remedy]:
    """The remedies to try, in order: the first one a rerun can apply of each finding (alerts first, in the
    report's order), then the second of each, and so on; a cause whose first remedy did not help gets its next
    chance after every cause has had its first."""
    ordered = [f for f in report.findings if f.alert] + [f for f in report.findings if not f.alert]
    options = [[r for r in finding.remedies if r.enabled] for finding in ordered]
    out = []
    for rank in range(max((len(o) for o in options), default=0)):
        out.extend(o[rank] for o in options if rank < len(o))
    return out


def repair(
    run: Run,
    budget: int = BUDGET,
    *,
    seconds: float | None = None,
    on_attempt: Callable[[Attempt, RepairResult], None] | None = None,
) -> RepairResult:
    """Find a fix for ``run`` (see the module docstring).

    Args:
        run: The run to repair (its report is computed when it has none).
        budget: Reruns to try at most (each one a full training).
        seconds: Stop starting new reruns after this many seconds (``None``: no limit).
        on_attempt: Called after each rerun with the attempt and the result so far (live progress).

    Returns:
        A :class:`RepairResult`; every rerun it made is in ``run.session``. A ``KeyboardInterrupt`` stops it and
        returns what was finished (the interrupted rerun is recorded as such).
    """
    if not isinstance(budget, int) or budget < 1:
        raise ValueError(f"The 'budget' argument of repair() must be a positive number of reruns. Got {budget!r}.")
    began = time.monotonic()
    report = run.report if run.report is not None else run.diagnose()
    result = RepairResult(start=run, best=run, start_score=_score(report), target=report.summary.get("baseline"))
    result.best_score = result.start_score
    queue = candidates(report)
    tried: set = set()
    while True:
        target, best = result.target, result.best_score
        if target is not None and best is not None and best >= target - REACHED:
            result.reached = True
            if result.chain or report.healthy:  # a flagged run at the baseline still gets its remedies tried
                result.stopped = "reached the baseline"
                break
        queue = [r for r in queue if r.key not in tried]
        if not queue:
            result.stopped = "nothing left to try"
            break
        if len(result.attempts) >= budget:
            result.stopped = "budget spent"
            break
        if seconds is not None and time.monotonic() - began > seconds:
            result.stopped = "time spent"
            break
        remedy = queue.pop(0)
        tried.add(remedy.key)
        try:
            attempt = _attempt(result, remedy)
        except KeyboardInterrupt:
            result.stopped = "interrupted"
            break
        result.attempts.append(attempt)
        if attempt.kept:
            result.best, result.best_score = attempt.run, attempt.score
            result.chain.append(remedy)
            queue = candidates(attempt.run.report) + queue  # the improved run's own findings come first
        if on_attempt is not None:
            on_attempt(attempt, result)
    return result


def _attempt(result: RepairResult, remedy: Remedy) -> Attempt:
    """Rerun ``remedy`` on top of the best run so far, diagnose it and say whether it helped."""
    try:
        new = result.best.rerun(remedy)
    except RemedyError as exc:
        return Attempt(remedy, None, None, False, f"(not applied: {exc})")
    if new.end in ("error", "nan"):
        return Attempt(remedy, new, None, False, f"(ended in {'an error' if new.end == 'error' else 'NaN'})")
    score = _score(new.diagnose())
    base = result.best_score
    kept = score is not None and (base is None or score > base + MARGIN)
    note = "" if kept or score is None or base is None else f"(no better than {base:.3g})"
    return Attempt(remedy, new, score, kept, note)


__all__ = ["Attempt", "RepairResult", "candidates", "repair"]
