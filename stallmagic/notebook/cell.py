"""One ``%%diagnose_fit`` cell's runs and every action on them, with neither IPython nor widgets.

The panel's buttons and the ``%stall`` commands both call :class:`CellRuns`, so the notebook and a terminal do the
same things the same way, and the views (:mod:`.panel`, :mod:`.text`) stay displays. The engine calls live here:
diagnosing (:meth:`Run.diagnose`), rerunning (:mod:`stallmagic.rerun`), keeping a fix (the remedies' source
rewrite) and exporting (:mod:`stallmagic.render.export`).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import rerun as engine
from .._internal.text import safe_str
from ..capture.intercept import ERROR_MESSAGE_LIMIT
from ..record import Run, Session
from ..remedies.remedy import RemedyError
from ..rerun.repair import BUDGET as REPAIR_BUDGET

if TYPE_CHECKING:
    from ..remedies.source import FitSite

#: Why a released cell's runs cannot be rerun, when whoever released it gave no reason (see :meth:`CellRuns.release`).
RELEASED = "its cell's models and data were released to save memory; run the cell again to train it anew"

#: The optimizer search behind the panel's sweep button and ``%stall sweep`` (the seed's Example 3).
SWEEP_GRID: dict[str, list] = {"optimizer": ["adam", "rmsprop", "sgd"], "learning_rate": [1e-3, 1e-2]}


class CellRuns:
    """One ``%%diagnose_fit`` cell: its source and options, the Session of its runs, and what can be done with them.

    Args:
        number: The cell's execution count.
        line: The magic's argument line as typed (kept for the kept-fix cell).
        source: The cell body (what follows the ``%%diagnose_fit`` line).
        label: ``--name``, or ``None``.
        metric: ``--metric``, or ``None``.
    """

    def __init__(self, *, number: int, line: str, source: str, label: str | None, metric: str | None) -> None:
        self.number = number
        self.line = line
        self.source = source
        self.label = label
        self.metric = metric
        self.session = Session(label=label)
        self.raised: str | None = None  # "Type: message" of the exception the cell raised
        self.selected: Run | None = None
        self.kept: Run | None = None
        self.sweep_result: Any = None
        self.repair_result: Any = None
        self.problems: list[str] = []  # what went wrong inside stallmagic (never the user's code)
        self.released = False
        self.code_file: str | None = None  # the file name the cell's code ran under (its frames' co_filename)
        self.keep_notes: list[str] = []  # why the last kept fixes could not be written into the cell, if so
        self.released_because: str | None = None  # the reason given to release(), quoted when a rerun is refused

    @property
    def runs(self) -> list[Run]:
        return self.session.runs

    @property
    def last(self) -> Run | None:
        return self.session.last

    @property
    def header(self) -> str:
        """The cell's first line: ``%%diagnose_fit`` and its options."""
        return f"%%diagnose_fit {self.line}".rstrip()

    def ran_as(self, filename: str) -> None:
        """Record the file name the cell's code runs under (IPython's name for the cell), before it runs."""
        self.code_file = filename

    def fit_site(self, run: Run) -> FitSite | None:
        """Which ``.fit(...)`` call of this cell made ``run`` (its original run, for a rerun), read from the call
        sites the capture recorded; ``None`` when nothing was recorded."""
        root = run
        while root.parent is not None:
            root = root.parent
        if self.code_file is None:
            return None
        from ..remedies.source import FitSite

        # IPython drops a cell's leading blank lines before compiling; the magic's line is line 1 of the code
        blank = len(self.source) - len(self.source.lstrip("\r\n\t "))
        skipped = self.source[:blank].count("\n")
        return FitSite.from_frames(
            root.extras.get("call_sites"), file=self.code_file, source=self.source, first_line=2 - skipped
        )

    def release(self, *, reason: str = RELEASED) -> None:
        """Drop the live references of this cell's runs (model, data, weight snapshots); the records stay.

        Older cells release what reruns need so that re-running cells does not pile up copies of the model's
        weights; the rerun engine drops its own per-run state in ``stallmagic.rerun.release(run)``.

        Args:
            reason: Why, in words that end the sentence "<run> cannot be rerun: ...", raised by a later rerun,
                repair, sweep or restore of these runs (whoever releases knows which setting keeps more; default
                :data:`RELEASED`).
        """
        kept = {"session", "parent", "remedy", "report"}  # links between records, not heavy state
        heavy = [f.name for f in dataclasses.fields(Run) if f.metadata.get("runtime") and f.name not in kept]
        self.released_because = reason
        for run in self.runs:
            engine.release(run, reason=reason)
            for name in heavy:  # the model, the data, weight snapshots (initial and final), the fit call
                setattr(run, name, None)
        self.session.listeners.clear()
        self.released = True

    def diagnose(self, run: Run) -> Any:
        """The Report of ``run`` (computed once, then kept as ``run.report``); ``None`` if the diagnosis failed,
        with the reason in :attr:`problems`. Warnings from the probes (scikit-learn convergence, ...) are kept out
        of the cell's output."""
        if run.report is not None:
            return run.report
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return run.diagnose(metric=self.metric)
        except Exception as exc:
            message = safe_str(exc, limit=ERROR_MESSAGE_LIMIT)
            self.problems.append(f"The diagnosis of {run.label} failed ({type(exc).__name__}: {message}).")
            return None

    def metric_note(self, run: Run) -> str | None:
        """Why ``--metric`` could not be used for ``run`` (it was not logged; the note lists what was), or ``None``."""
        if self.metric is None:
            return None
        from ..diagnosis.signals import resolve_metric

        return resolve_metric(run.logs, self.metric).note

    def remedies(self, run: Run) -> list[tuple[Any, Any]]:
        """``[(finding, remedy)]`` of every remedy a rerun can apply, in report order (``%stall rerun N`` numbers)."""
        report = run.report
        if report is None:
            return []
        return [
            (f, r)
            for f in report.findings
            for r in f.remedies
            if getattr(r, "kind", "rerun") == "rerun" and not getattr(r, "disabled_reason", None)
        ]

    def rerun(self, run: Run, remedy: Any) -> Run:
        """Rerun ``run`` with ``remedy`` (the rerun engine's ``run.rerun``), diagnose it and select it.

        Raises:
            RemedyError: The cell was released (:meth:`check_live`), or the remedy does not apply to the run.
        """
        self.check_live(run)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*`shuffle=True` was passed.*")
            new = run.rerun(remedy)
        if new not in self.session.runs:  # the run belonged to a capture() block the user opened in the cell
            self.session.runs.append(new)
        if new.end != "error":
            self.diagnose(new)
        self.selected = new
        return new

    def check_live(self, run: Run) -> None:
        """Raise :class:`~stallmagic.remedies.RemedyError` when this cell was released: its runs cannot be rerun,
        repaired or swept, and the message says why and what keeps more cells (the same sentence ``run.rerun()``
        raises for such a run)."""
        if self.released:
            raise RemedyError(f"{run.label} cannot be rerun: {self.released_because or RELEASED}.")

    def repair(self, run: Run, *, budget: int = REPAIR_BUDGET, on_attempt: Callable[..., Any] | None = None) -> Any:
        """Find a fix for ``run`` (``run.repair``): its reruns join the cell's runs, the best one is selected and
        diagnosed; the result is kept as ``repair_result``."""
        self.check_live(run)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = run.repair(budget, on_attempt=on_attempt)
        for attempt in result.attempts:
            if attempt.run is not None and attempt.run not in self.session.runs:
                self.session.runs.append(attempt.run)
        self.selected = result.best
        self.repair_result = result
        return result

    def keep_source(self, run: Run) -> str:
        """The cell as it would be with ``run``'s fixes written in (each remedy of its chain, in order)."""
        chain = []
        r: Run | None = run
        while r is not None:  # a rerun of a rerun stacks the remedies (an unchanged rerun adds none)
            if r.remedy is not None:
                chain.append(r.remedy)
            r = r.parent
        if not chain:
            raise ValueError(f"{run.label} is the cell's own run: there is no fix to keep.")
        from ..remedies.source import rewrite

        source, site, notes = self.source, self.fit_site(run), []
        for remedy in reversed(chain):
            if not callable(getattr(remedy, "apply_to_source", None)):
                raise ValueError(f"The fix {remedy!s} cannot write itself into the cell.")
            edit = rewrite(remedy, source, site=site)  # the fit that was captured, where it stands after the last fix
            source, site = edit.source, edit.site
            if edit.note:
                notes.append(edit.note)
        self.kept, self.keep_notes = run, notes
        return f"{self.header}\n{source}"

    def sweep(
        self,
        run: Run,
        *,
        progress: Callable[[int, int, dict], Any] | None = None,
        on_epoch: Callable[[Any], Any] | None = None,
        engine_name: str = "process",
        scheduler: str | None = None,
        search: str | None = None,
        samples: int | None = None,
    ) -> Any:
        """Rerun ``run`` over :data:`SWEEP_GRID` (``stallmagic.sweep``); the result is kept as ``sweep_result``.

        Args:
            run: The run to sweep.
            progress: ``progress(done, total, row)`` as each configuration ends.
            on_epoch: ``on_epoch(update)`` after each epoch of each configuration (``TrialEpoch``).
            engine_name: ``"process"`` (default) or ``"ray"`` (Ray Tune trials).
            scheduler: With Ray, a scheduler by name (``"asha"``), see ``stallmagic.rerun.ray_options``.
            search: With Ray, a search algorithm by name (``"optuna"``).
            samples: With ``search``, how many configurations it suggests (default: the grid's size).

        Raises:
            RemedyError: The cell was released, Ray (or Optuna) is missing, or the run cannot be trained on Ray.
        """
        self.check_live(run)
        options: dict[str, Any] = {}
        if scheduler is not None or search is not None:
            from ..rerun.ray_options import named_ray_options

            options = named_ray_options(run, scheduler=scheduler, search=search, samples=samples)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.sweep_result = engine.sweep(
                run, SWEEP_GRID, progress=progress, on_epoch=on_epoch, engine=engine_name, **options
            )
        return self.sweep_result

    def export(self, path: str | Path) -> list[Path]:
        """Write this cell's report to ``path`` (``.html``, ``.json`` or ``.md``); returns the files written."""
        from ..render.export import write_report
        from ..render.html import sweep_section_html

        extra = sweep_section_html(self.sweep_result) if self.sweep_result is not None else None
        kept = None
        if self.kept is not None:
            try:
                kept = self.keep_source(self.kept)
            except Exception:
                kept = None
        source = f"{self.header}\n{self.source}"
        return write_report(path, self.session, metric=self.metric, source=source, kept=kept, extra_html=extra)

    def no_fit_line(self) -> str:
        """The one line a cell without a Keras fit gets (both views show it)."""
        if self.raised is not None:
            return "[stallmagic] The cell raised before any Keras fit ran: nothing to diagnose."
        return "[stallmagic] This cell called no Keras fit: nothing to diagnose."
