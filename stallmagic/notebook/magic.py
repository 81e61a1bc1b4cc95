"""The IPython layer: ``%%diagnose_fit`` and ``%stall``, a thin shell around capture, diagnosis and reruns.

``%%diagnose_fit`` runs its cell the way IPython would run it without the magic (same namespace, same printed
output, the last expression's value as the cell's ``Out``, the same exception), inside
:func:`stallmagic.capture`, and shows what happened: a live panel of ipywidgets in a notebook
(:mod:`stallmagic.notebook.panel`), a text report in a terminal. Everything the panel's buttons do goes through
:class:`CellRecord`, which holds one cell's runs and knows nothing of widgets; ``%stall`` offers the same actions
as line commands, so a terminal session can do everything a notebook can.
"""

from __future__ import annotations

import ast
import dataclasses
import keyword
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from IPython.core import magic_arguments
from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class, output_can_be_silenced
from traitlets import Enum, Int

from ..capture import capture
from ..record import Run, Session

#: The optimizer search behind the panel's sweep button and ``%stall sweep`` (the seed's Example 3).
SWEEP_GRID: dict[str, list] = {"optimizer": ["adam", "rmsprop", "sgd"], "learning_rate": [1e-3, 1e-2]}

_STALL_USAGE = """\
%stall report [RUN]     the diagnosis of a run as text (default: the run the last panel shows)
%stall compare          the runs of the last %%diagnose_fit cell side by side
%stall runs             every run recorded by %%diagnose_fit in this session
%stall rerun N [RUN]    rerun with fix number N of the report (as listed by %stall report)
%stall keep [RUN]       replace this cell with the last cell's source, the kept fix written in
%stall sweep [RUN]      rerun over optimizers x learning rates and rank them
%stall export PATH      write the last cell's report: .html (self-contained), .json or .md
RUN is a number from %stall runs or a run's label."""


class CellRecord:
    """One ``%%diagnose_fit`` cell: its source and options, the Session of its runs, and what can be done with them.

    The panel's buttons and the ``%stall`` commands call these methods; they hold the engine calls, so the panel
    stays a display. The class uses neither IPython nor ipywidgets.

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
        self.problems: list[str] = []  # what went wrong inside stallmagic (never the user's code)
        self.released = False

    @property
    def runs(self) -> list[Run]:
        return self.session.runs

    def release(self) -> None:
        """Drop the live references of this cell's runs (model, data, weight snapshots); the records stay.

        The rerun engine's own per-run state is released through ``stallmagic.rerun.release(run)`` when the engine
        provides it.
        """
        try:
            from .. import rerun as engine
        except ImportError:
            engine = None
        engine_release = getattr(engine, "release", None)
        kept = {"session", "parent", "remedy", "report"}  # links between records, not heavy state
        heavy = [f.name for f in dataclasses.fields(Run) if f.metadata.get("runtime") and f.name not in kept]
        for run in self.runs:
            if callable(engine_release):
                engine_release(run)
            for name in heavy:  # the model, the data, weight snapshots (initial and final), the fit call
                setattr(run, name, None)
        self.session.listeners.clear()
        self.released = True

    @property
    def last(self) -> Run | None:
        return self.session.last

    @property
    def header(self) -> str:
        """The cell's first line: ``%%diagnose_fit`` and its options."""
        return f"%%diagnose_fit {self.line}".rstrip()

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
            self.problems.append(f"The diagnosis of {run.label} failed ({type(exc).__name__}: {exc}).")
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
        """Rerun ``run`` with ``remedy`` (the rerun engine's ``run.rerun``), diagnose it and select it."""
        if self.released:
            raise RuntimeError(
                "This cell's models and data were released to save memory (StallMagics.keep_cells); run the cell "
                "again to rerun it."
            )
        rerun = getattr(run, "rerun", None)
        if not callable(rerun):
            raise RuntimeError("Reruns need stallmagic's rerun engine (stallmagic.rerun), which is not installed here.")
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*`shuffle=True` was passed.*")
            new = rerun(remedy)
        if new not in self.session.runs:  # the run belonged to a capture() block the user opened in the cell
            self.session.runs.append(new)
        if new.end != "error":
            self.diagnose(new)
        self.selected = new
        return new

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
        source = self.source
        for remedy in reversed(chain):
            apply = getattr(remedy, "apply_to_source", None)
            if not callable(apply):
                raise ValueError(f"The fix {remedy!s} cannot write itself into the cell.")
            source = apply(source)
        self.kept = run
        return f"{self.header}\n{source}"

    def sweep(self, run: Run, *, progress: Callable[[int, int, dict], Any] | None = None) -> Any:
        """Rerun ``run`` over :data:`SWEEP_GRID` (``stallmagic.sweep``); the result is kept as ``sweep_result``."""
        if self.released:
            raise RuntimeError("This cell's models and data were released to save memory; run the cell again.")
        try:
            from ..rerun import sweep
        except ImportError as exc:
            raise RuntimeError("The sweep needs stallmagic's rerun engine, which is not installed here.") from exc
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.sweep_result = sweep(run, SWEEP_GRID, progress=progress)
        return self.sweep_result

    def export(self, path: str | Path) -> list[Path]:
        """Write this cell's report to ``path`` (``.html``, ``.json`` or ``.md``); returns the files written."""
        from ..render.export import esc, write_report

        extra = None
        if self.sweep_result is not None:
            extra = f"<h2>Sweep</h2><pre>{esc(self.sweep_result)}</pre>"
        kept = None
        if self.kept is not None:
            try:
                kept = self.keep_source(self.kept)
            except Exception:
                kept = None
        source = f"{self.header}\n{self.source}"
        return write_report(path, self.session, metric=self.metric, source=source, kept=kept, extra_html=extra)


class TextView:
    """What ``%%diagnose_fit`` shows without a widget frontend (a terminal, or ``--text``): a text report."""

    listener = None

    def __init__(self, cell: CellRecord, *, write: Callable[[str], Any] = print) -> None:
        self.cell = cell
        self.write = write

    def finish(self) -> None:
        cell = self.cell
        if not cell.runs:
            self.write(no_fit_line(cell))
            return
        lines = []
        for run in cell.runs[:-1]:
            lines.append(f"[stallmagic] {run.summary().splitlines()[0]}")
        run = cell.selected or cell.last
        report = run.report
        lines.append(f"[stallmagic] {run.summary().splitlines()[0]}")
        if run.error is not None:
            lines.append(
                f"[stallmagic] It ended with {run.error.type}: {run.error.message}; below, the epochs it completed."
            )
        note = cell.metric_note(run)
        if note:
            lines.append(f"[stallmagic] {note}")
        if report is not None:
            lines.append("[stallmagic] " + str(report))
            choices = cell.remedies(run)
            if choices:
                lines.append("Fixes to try (rerun one with %stall rerun N, then keep it with %stall keep):")
                for i, (finding, remedy) in enumerate(choices, 1):
                    lines.append(f"  [{i}] {remedy.title}: {remedy.describe()} (for: {finding.title})")
        lines.extend(f"[stallmagic] {p}" for p in cell.problems)
        lines.extend(f"[stallmagic] The live view stopped: {e}" for e in cell.session.listener_errors)
        self.write("\n".join(lines))


def no_fit_line(cell: CellRecord) -> str:
    """The one line a cell without a Keras fit gets."""
    if cell.raised is not None:
        return "[stallmagic] The cell raised before any Keras fit ran: nothing to diagnose."
    return "[stallmagic] This cell called no Keras fit: nothing to diagnose."


def _unquote(text: str | None) -> str | None:
    """An argument without the quotes around it (IPython's magic argument splitting keeps them)."""
    if text is not None and len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _has_widget_frontend(shell: Any) -> bool:
    """Whether displays reach a Jupyter frontend that can show widgets (a kernel, not a terminal)."""
    if getattr(shell, "kernel", None) is None:
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


@magics_class
class StallMagics(Magics):
    """``%%diagnose_fit`` and ``%stall``. Configure with ``%config StallMagics.display = "text"``."""

    display = Enum(
        ["auto", "widgets", "text"],
        default_value="auto",
        help="How %%diagnose_fit shows its results: the widget panel, a text report, or auto (the panel when the "
        "shell is a Jupyter kernel, else text).",
    ).tag(config=True)
    keep_cells = Int(
        3,
        min=1,
        help="How many of the latest %%diagnose_fit cells keep their models, data and weight snapshots for reruns. "
        "Older cells keep their records (curves, reports, %stall runs, export) but release the rest, so re-running "
        "cells does not pile up copies of the model's weights.",
    ).tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.cells: list[CellRecord] = []
        self.views: list[Any] = []
        self.kept: tuple[CellRecord, Run] | None = None

    # ------------------------------------------------------------------ %%diagnose_fit

    @magic_arguments.magic_arguments()
    @magic_arguments.argument(
        "--no-live", action="store_true", help="Show only the epoch count and ETA while training; curves at the end."
    )
    @magic_arguments.argument(
        "--metric",
        metavar="NAME",
        help="What 'accuracy' means for this run (default: the first accuracy-like metric, else the loss).",
    )
    @magic_arguments.argument("--quiet", action="store_true", help="Show nothing while training; the panel at the end.")
    @magic_arguments.argument("--name", metavar="LABEL", help="A label for the cell's runs (default: 'run 1', ...).")
    @magic_arguments.argument("--text", action="store_true", help="Print a text report instead of the panel.")
    @magic_arguments.argument(
        "-o", "--output", metavar="VAR", help="Store the cell's last Run in the variable VAR (with .report, .rerun())."
    )
    @output_can_be_silenced
    @cell_magic
    def diagnose_fit(self, line: str, cell: str) -> Any:
        """Run the cell, record every Keras fit in it, show the train/validation gap live and explain the result.

        The cell runs exactly as it would without the magic; its last expression's value is the cell's output.
        In a notebook a panel shows the train/validation gap live, then the findings with Apply & rerun buttons;
        in a terminal (or with --text, or %config StallMagics.display = "text") a text report is printed.
        ``%stall`` works with the recorded runs afterwards.
        """
        __tracebackhide__ = True
        args = magic_arguments.parse_argstring(self.diagnose_fit, line)
        args.name, args.metric, args.output = _unquote(args.name), _unquote(args.metric), _unquote(args.output)
        if args.output is not None and (not args.output.isidentifier() or keyword.iskeyword(args.output)):
            raise UsageError(f"The -o argument of %%diagnose_fit must be a Python variable name. Got {args.output!r}.")
        if args.metric is not None and not args.metric.strip():
            raise UsageError("The --metric argument of %%diagnose_fit must name a metric, such as accuracy or auc.")
        record = CellRecord(
            number=self.shell.execution_count,
            line=line,
            source=cell,
            label=args.name or None,
            metric=args.metric.strip() if args.metric else None,
        )
        self.cells.append(record)
        self.kept = None  # "%stall keep" keeps a fix of the latest cell
        self._release_old_cells()
        view = self._view(record, args)
        if view.listener is not None:
            record.session.listeners.append(view.listener)
        value = error = None
        try:
            with capture(session=record.session):
                value = self._run_body(line, cell)
        except BaseException as exc:  # KeyboardInterrupt too: show the partial run first, then re-raise it
            error = exc
            try:
                record.raised = f"{type(exc).__name__}: {exc}"
            except Exception:  # an exception whose str() fails
                record.raised = type(exc).__name__
        self._conclude(record, view)
        if args.output is not None:
            self.shell.user_ns[args.output] = record.last
        if error is not None:
            raise error
        return value

    def _release_old_cells(self) -> None:
        live = [c for c in self.cells if not c.released]
        for record in live[: max(0, len(live) - self.keep_cells)]:
            record.release()
            for view in [v for v in self.views if v.cell is record]:
                if hasattr(view, "detach"):
                    view.detach(
                        "This cell's models and data were released to save memory (StallMagics.keep_cells = "
                        f"{self.keep_cells}); run the cell again to use its buttons."
                    )
                self.views.remove(view)

    def _view(self, record: CellRecord, args: Any) -> Any:
        mode = "text" if args.text else self.display
        if mode == "auto":
            mode = "widgets" if _has_widget_frontend(self.shell) else "text"
        if mode == "text":
            view: Any = TextView(record)
        else:
            from .panel import Panel

            live = "off" if args.quiet else "status" if args.no_live else "curves"
            view = Panel(record, live=live, on_keep=self._on_keep)
        self.views.append(view)
        return view

    def _on_keep(self, record: CellRecord, run: Run) -> None:
        self.kept = (record, run)

    def _conclude(self, record: CellRecord, view: Any) -> None:
        """Diagnose the cell's last run and show it. Never lets a problem of stallmagic's hide the cell's outcome."""
        try:
            last = record.last
            if last is not None:
                record.selected = last
                try:
                    if hasattr(view, "diagnosing"):
                        view.diagnosing(last)
                    record.diagnose(last)
                except KeyboardInterrupt:
                    record.problems.append("The diagnosis was interrupted.")
            view.finish()
        except Exception as exc:
            print(f"[stallmagic] Could not show the diagnosis ({type(exc).__name__}: {exc}).", file=sys.stderr)

    def _run_body(self, line: str, cell: str) -> Any:
        """Execute ``cell`` in the user's namespace as IPython's ``run_cell`` would, but let exceptions propagate.

        The cell's code is registered with IPython's compiler cache under the cell's number, with the magic's line
        as line 1, so tracebacks show "Cell In[n], line k" with the lines the user sees. Node interactivity follows
        ``InteractiveShell.ast_node_interactivity``; the last expression's value is returned and becomes the cell's
        output (and ``_``), like ``%%time`` does.
        """
        __tracebackhide__ = True
        shell = self.shell
        transformed = shell.transform_cell(cell)
        header = f"%%diagnose_fit {line}".rstrip()
        filename = shell.compile.cache(f"{header}\n{transformed}", shell.execution_count, raw_code=f"{header}\n{cell}")
        tree = shell.compile.ast_parse("\n" + transformed, filename=filename)
        tree = shell.transform_ast(tree)
        nodes = list(tree.body) if tree is not None else []
        if not nodes:
            return None
        mode = shell.ast_node_interactivity
        if mode == "last_expr_or_assign":
            last = nodes[-1]
            target = None
            if isinstance(last, ast.Assign) and len(last.targets) == 1:
                target = last.targets[0]
            elif isinstance(last, (ast.AugAssign, ast.AnnAssign)):
                target = last.target
            if isinstance(target, ast.Name):
                nodes.append(
                    ast.fix_missing_locations(ast.copy_location(ast.Expr(ast.Name(target.id, ast.Load())), last))
                )
            mode = "last_expr"
        if mode == "last_expr":
            mode = "last" if isinstance(nodes[-1], ast.Expr) else "none"
        if mode == "none":
            plain, interactive = nodes, []
        elif mode == "last":
            plain, interactive = nodes[:-1], nodes[-1:]
        else:  # "all"
            plain, interactive = [], nodes
        glob, loc = shell.user_global_ns, shell.user_ns
        if plain:
            exec(shell.compile(ast.Module(plain, type_ignores=[]), filename, "exec"), glob, loc)
        for node in interactive[:-1]:
            exec(shell.compile(ast.Interactive([node]), filename, "single"), glob, loc)
        if interactive:
            last = interactive[-1]
            if isinstance(last, ast.Expr):
                return eval(shell.compile(ast.Expression(last.value), filename, "eval"), glob, loc)
            exec(shell.compile(ast.Interactive([last]), filename, "single"), glob, loc)
        return None

    # ------------------------------------------------------------------ %stall

    @magic_arguments.magic_arguments()
    @magic_arguments.argument(
        "command", nargs="?", default="help", help="report, compare, runs, rerun, keep, sweep, export or help"
    )
    @magic_arguments.argument("args", nargs="*", help="the command's arguments")
    @line_magic
    def stall(self, line: str) -> Any:
        """Work with the runs of ``%%diagnose_fit`` cells.

        %stall report [RUN]     the diagnosis of a run as text
        %stall compare          the runs of the last %%diagnose_fit cell side by side
        %stall runs             every run recorded in this session
        %stall rerun N [RUN]    rerun with fix number N of the report
        %stall keep [RUN]       replace this cell with the cell's source, the fix written in
        %stall sweep [RUN]      rerun over optimizers x learning rates
        %stall export PATH      write a report: .html (self-contained), .json or .md
        """
        args = magic_arguments.parse_argstring(self.stall, line)
        args.args = [_unquote(a) for a in args.args]
        handler = getattr(self, f"_stall_{args.command}", None)
        if handler is None:
            raise UsageError(
                f"Unknown %stall command {args.command!r}. Use one of: report, compare, runs, rerun, keep, sweep, "
                "export, help."
            )
        return handler(args.args)

    def _stall_help(self, rest: list[str]) -> None:
        print(_STALL_USAGE)

    def _last_cell(self) -> CellRecord:
        for record in reversed(self.cells):
            if record.runs:
                return record
        raise UsageError("No %%diagnose_fit cell has recorded a fit yet.")

    def _all_runs(self) -> list[tuple[CellRecord, Run]]:
        return [(c, r) for c in self.cells for r in c.runs]

    def _find(self, ref: str | None) -> tuple[CellRecord, Run]:
        """A run by its number in ``%stall runs`` or its label; default: the run the last cell's panel shows."""
        if ref is None:
            record = self._last_cell()
            return record, record.selected or record.last  # type: ignore[return-value]
        everything = self._all_runs()
        if ref.isdigit():
            i = int(ref)
            if 1 <= i <= len(everything):
                return everything[i - 1]
            raise UsageError(f"There is no run {i}: %stall runs lists {len(everything)} run(s).")
        matches = [(c, r) for c, r in everything if r.label == ref]
        if matches:
            return matches[-1]
        raise UsageError(f"No run is labelled {ref!r}. Use a number or a label from %stall runs.")

    def _stall_runs(self, rest: list[str]) -> None:
        everything = self._all_runs()
        if not everything:
            print("No %%diagnose_fit cell has recorded a fit yet.")
            return
        for i, (record, run) in enumerate(everything, 1):
            remedy = f", remedy: {run.remedy.title}" if getattr(run.remedy, "title", None) else ""
            head = run.report.headline() if run.report is not None else run.summary().splitlines()[0]
            print(f"{i:>3}  In[{record.number}]  {head}{remedy} ({run.end})")

    def _stall_report(self, rest: list[str]) -> None:
        record, run = self._find(rest[0] if rest else None)
        report = record.diagnose(run)
        if report is None:
            raise UsageError(" ".join(record.problems[-1:]) or f"{run.label} could not be diagnosed.")
        print(report)
        choices = record.remedies(run)
        if choices:
            print("Fixes to try (%stall rerun N):")
            for i, (finding, remedy) in enumerate(choices, 1):
                print(f"  [{i}] {remedy.title}: {remedy.describe()} (for: {finding.title})")

    def _stall_compare(self, rest: list[str]) -> None:
        record = self._last_cell()
        compare = getattr(record.session, "compare", None)
        if callable(compare):
            print(compare(metric=record.metric))
            return
        from ..render.export import comparison_rows, runs_table_markdown

        print(runs_table_markdown(comparison_rows(record.session, metric=record.metric)))

    def _stall_rerun(self, rest: list[str]) -> Run:
        if not rest or not rest[0].isdigit():
            raise UsageError("%stall rerun needs the number of a fix, as listed by %stall report: %stall rerun 1.")
        record, run = self._find(rest[1] if len(rest) > 1 else None)
        record.diagnose(run)
        choices = record.remedies(run)
        n = int(rest[0])
        if not 1 <= n <= len(choices):
            raise UsageError(f"{run.label} has {len(choices)} fix(es) to rerun; %stall report lists them. Got {n}.")
        new = record.rerun(run, choices[n - 1][1])
        self._refresh_views(record)
        print(f"[stallmagic] {new.report.headline() if new.report is not None else new.summary()}")
        return new

    def _stall_keep(self, rest: list[str]) -> None:
        if rest:
            record, run = self._find(rest[0])
        elif self.kept is not None:
            record, run = self.kept
        else:
            record = self._last_cell()
            run = record.selected or record.last  # type: ignore[assignment]
        try:
            code = record.keep_source(run)
        except Exception as exc:
            raise UsageError(f"Cannot keep {run.label}: {exc}") from None
        self.shell.set_next_input(code, replace=True)
        print(
            f"[stallmagic] Kept the fix of {run.label}: the cell's input now holds your cell with the fix written in; "
            "run it to train with the fix."
        )

    def _stall_sweep(self, rest: list[str]) -> Any:
        record, run = self._find(rest[0] if rest else None)

        def progress(done: int, total: int, row: dict) -> None:
            print(f"[stallmagic] sweep {done}/{total}: {row.get('params')} -> {row.get('mean')}")

        try:
            return record.sweep(run, progress=progress)
        except Exception as exc:
            raise UsageError(f"The sweep could not run: {exc}") from None

    def _stall_export(self, rest: list[str]) -> None:
        if len(rest) != 1:
            raise UsageError("%stall export needs one file name ending in .html, .json or .md: %stall export run.html")
        record = self._last_cell()
        try:
            written = record.export(rest[0])
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        print("[stallmagic] Wrote " + ", ".join(str(p) for p in written))

    def _refresh_views(self, record: CellRecord) -> None:
        for view in self.views:
            if getattr(view, "cell", None) is record and hasattr(view, "refresh"):
                view.refresh()

    # ------------------------------------------------------------------ unloading

    def close(self) -> None:
        """Detach every panel from its session and disable its buttons (``%unload_ext``)."""
        for view in self.views:
            if view.listener is not None and view.listener in view.cell.session.listeners:
                view.cell.session.listeners.remove(view.listener)
            if hasattr(view, "detach"):
                view.detach()
        self.views.clear()


_loaded: dict[int, StallMagics] = {}


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext stallmagic``: register ``%%diagnose_fit`` and ``%stall`` (and ``%config StallMagics``)."""
    if id(ipython) in _loaded:
        return
    magics = StallMagics(ipython)
    ipython.register_magics(magics)
    if magics not in ipython.configurables:
        ipython.configurables.append(magics)
    _loaded[id(ipython)] = magics


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext stallmagic``: remove the magics, detach the panels, leave nothing behind."""
    magics = _loaded.pop(id(ipython), None)
    if magics is None:
        return
    magics.close()
    manager = ipython.magics_manager
    for kind, name in (("cell", "diagnose_fit"), ("line", "stall")):
        registered = manager.magics[kind].get(name)
        if getattr(registered, "__self__", None) is magics:
            del manager.magics[kind][name]
    if manager.registry.get(type(magics).__name__) is magics:
        del manager.registry[type(magics).__name__]
    if magics in ipython.configurables:
        ipython.configurables.remove(magics)


__all__ = [
    "SWEEP_GRID", "CellRecord", "StallMagics", "TextView", "load_ipython_extension", "unload_ipython_extension",
]  # fmt: skip
