"""The IPython layer: ``%%diagnose_fit`` and ``%stall``, a thin shell around capture, diagnosis and reruns.

``%%diagnose_fit`` runs its cell the way IPython would run it without the magic (:mod:`.execute`), inside
:func:`stallmagic.capture`, and shows what happened: a live panel of ipywidgets in a notebook (:mod:`.panel`), a
text report in a terminal (:mod:`.text`). Everything the panel's buttons do goes through
:class:`~.cell.CellRuns`, which holds one cell's runs and knows nothing of widgets; ``%stall`` offers the same
actions as line commands, so a terminal session can do everything a notebook can.
"""

from __future__ import annotations

import keyword
import sys
import textwrap
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from IPython.core import magic_arguments
from IPython.core.displayhook import DisplayHook
from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.utils.process import arg_split
from traitlets import Enum, Int, default, observe

from .._internal.text import safe_str
from ..capture import capture
from ..capture.intercept import ERROR_MESSAGE_LIMIT
from ..record import Run
from ..remedies.remedy import RemedyError
from ..rerun import DEFAULT_KEEP_RERUNS, set_keep_reruns
from ..rerun.ledger import LEDGER
from .cell import CellRuns
from .execute import NotCompiled, fail_before_exec, parse_cell, run_parsed
from .new_cell import CellWriter
from .text import TextView, fix_lines, run_line

#: ``%stall help``, and the body of ``%stall?`` (one text, so the two cannot disagree).
STALL_USAGE = """\
%stall report [RUN]     the diagnosis of a run as text (default: the run the last panel shows)
%stall compare          the runs of the last %%diagnose_fit cell side by side
%stall runs             every run recorded by %%diagnose_fit in this session
%stall rerun N [RUN]    rerun with fix number N of the report (as listed by %stall report)
%stall keep [RUN]       replace this cell with the last cell's source, the kept fix written in
%stall sweep [RUN]      rerun over optimizers x learning rates and rank them, a live table of the trials
  --engine ray          ... as Ray Tune trials (pip install 'stallmagic[ray]'), and with it:
  --scheduler asha      stop the trials that fall behind (ASHA, each epoch a rung's step)
  --search optuna       let Optuna pick the configurations (--samples N of them; pip install optuna)
%stall export PATH      write the last cell's report: .html (self-contained), .json or .md
RUN is a number from %stall runs or a run's label."""


#: The most arguments each ``%stall`` command takes (``export`` checks its one path itself); extra words were
#: silently ignored, so ``%stall report 2 3`` reported run 2 without a word about the 3. Read-only: the module
#: holds no state of its own (the shell holds the StallMagics).
_STALL_ARGUMENTS = MappingProxyType(
    {"help": 0, "report": 1, "compare": 0, "runs": 0, "rerun": 2, "keep": 1, "sweep": 1}
)


def _documented_by_usage(func: Callable) -> Callable:
    """Give ``%stall`` its docstring from :data:`STALL_USAGE` (before ``magic_arguments`` turns it into help)."""
    func.__doc__ = "Work with the runs of ``%%diagnose_fit`` cells.\n\n" + textwrap.indent(STALL_USAGE, "    ")
    return func


def _unquote(text: str | None) -> str | None:
    """An argument without the quotes around it (IPython's magic argument splitting keeps them)."""
    if text is not None and len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _describe(exc: BaseException) -> str:
    """``"Type: message"`` of an exception, for a line of stallmagic's output; never raises (an exception is the
    user's object: its ``__str__`` may raise, and quoting it must not replace the exception being reported)."""
    return f"{type(exc).__name__}: {safe_str(exc, limit=ERROR_MESSAGE_LIMIT)}"


#: What a refusal of the Ray engine offers instead, in the magic's words.
MAGIC_IN_PROCESS = "run this sweep in process instead (%stall sweep without --engine ray)"

#: ``%stall sweep``'s options (only that command takes them), by their ``argparse`` destination.
_SWEEP_OPTIONS = ("engine", "scheduler", "search", "samples")


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
    keep_reruns = Int(
        DEFAULT_KEEP_RERUNS,
        min=1,
        help="How many of the most recently used reruns keep their models, weights and optimizers, for restore and "
        "further reruns. Older reruns keep their records (curves, reports, %stall runs, export) but release the rest, "
        "so rerunning many times does not pile up rebuilt models. Process-wide (stallmagic.rerun.set_keep_reruns).",
    ).tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.cells: list[CellRuns] = []
        self.views: list[Any] = []
        self.kept: tuple[CellRuns, Run] | None = None
        self.cell_writer: CellWriter | None = None  # made with the first panel (widgets only)
        self.sweep_view: Any = None  # the live table of the last %stall sweep (notebook only)
        set_keep_reruns(self.keep_reruns)  # the engine's limit is the configured one (config may have set it)

    @default("keep_reruns")
    def _keep_reruns_default(self) -> int:
        """The engine's limit as it is (``stallmagic.rerun.set_keep_reruns`` may have set it before loading)."""
        return LEDGER.keep_reruns

    @observe("keep_reruns")
    def _keep_reruns_changed(self, change: dict) -> None:
        """``%config StallMagics.keep_reruns = n``: the rerun engine releases the reruns beyond ``n`` at once."""
        set_keep_reruns(change["new"])

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
    @cell_magic  # not output_can_be_silenced: IPython's check then fails on a cell that does not tokenize
    def diagnose_fit(self, line: str, body: str) -> Any:
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
        cell = CellRuns(
            number=self.shell.execution_count,
            line=line,
            source=body,
            label=args.name or None,
            metric=args.metric.strip() if args.metric else None,
        )
        try:
            parsed = parse_cell(self.shell, cell.header, body)
        except NotCompiled as failed:
            not_parsed = failed
        else:
            not_parsed = None
        if not_parsed is not None:  # nothing ran: shown as IPython shows it, and no cell is recorded or released
            return self._not_compiled(not_parsed, body)
        cell.ran_as(parsed.filename)  # the cell's frames' file name: tells a fit called in the cell from others
        self.cells.append(cell)
        self.kept = None  # "%stall keep" keeps a fix of the latest cell
        self._release_old_cells()
        view = self._view(cell, args)
        if view.listener is not None:
            cell.session.listeners.append(view.listener)
        value = error = not_compiled = None
        try:
            with capture(session=cell.session):
                value = run_parsed(self.shell, parsed)
        except NotCompiled as failed:  # a statement that parses but does not compile; the ones before it ran
            not_compiled = failed
            cell.raised = _describe(failed.error)
        except BaseException as exc:  # KeyboardInterrupt too: show the partial run first, then re-raise it
            error = exc
            cell.raised = _describe(exc)
        self._conclude(cell, view)
        if args.output is not None:
            self.shell.user_ns[args.output] = cell.last
        if not_compiled is not None:
            return self._not_compiled(not_compiled, body)
        if error is not None:
            raise error  # the user's own exception object, unchanged
        if DisplayHook.semicolon_at_end_of_expression(body):  # "...;" hides the value, as without the magic
            return None
        return value

    def _not_compiled(self, failed: NotCompiled, body: str) -> None:
        """A cell that does not compile fails as it does without the magic: IPython's two lines, no traceback."""
        if not fail_before_exec(self.shell, body, failed):
            raise failed.error

    def _release_old_cells(self) -> None:
        live = [c for c in self.cells if not c.released]
        keep_more = f"%config StallMagics.keep_cells = {self.keep_cells + 1} keeps more"
        reason = (
            f"its cell's models and data were released to save memory (%%diagnose_fit keeps those of the latest "
            f"{self.keep_cells} cell(s); {keep_more}); run the cell again to train it anew"
        )
        for cell in live[: max(0, len(live) - self.keep_cells)]:
            cell.release(reason=reason)
            for view in [v for v in self.views if v.cell is cell]:
                if hasattr(view, "detach"):
                    view.detach(
                        "This cell's models and data were released to save memory (StallMagics.keep_cells = "
                        f"{self.keep_cells}; {keep_more}); run the cell again to use its buttons."
                    )
                self.views.remove(view)

    def _view(self, cell: CellRuns, args: Any) -> Any:
        mode = "text" if args.text else self.display
        if mode == "auto":
            mode = "widgets" if _has_widget_frontend(self.shell) else "text"
        if mode == "text":
            view: Any = TextView(cell)
        else:
            from .panel import Panel

            live = "off" if args.quiet else "status" if args.no_live else "curves"
            view = Panel(cell, live=live, on_keep=self._on_keep, cell_writer=self._cell_writer())
        self.views.append(view)
        return view

    def _cell_writer(self) -> CellWriter:
        """The shell's one :class:`CellWriter`, made with the first panel (it must exist before any click)."""
        if self.cell_writer is None:
            self.cell_writer = CellWriter()
        return self.cell_writer

    def _on_keep(self, cell: CellRuns, run: Run) -> None:
        self.kept = (cell, run)

    def _conclude(self, cell: CellRuns, view: Any) -> None:
        """Diagnose the cell's last run and show it. Never lets a problem of stallmagic's hide the cell's outcome."""
        try:
            last = cell.last
            if last is not None:
                cell.selected = last
                try:
                    if hasattr(view, "diagnosing"):
                        view.diagnosing(last)
                    cell.diagnose(last)
                except KeyboardInterrupt:
                    cell.problems.append("The diagnosis was interrupted.")
            view.finish()
        except Exception as exc:
            print(f"[stallmagic] Could not show the diagnosis ({_describe(exc)}).", file=sys.stderr)

    # ------------------------------------------------------------------ %stall

    @magic_arguments.magic_arguments()
    @magic_arguments.argument(
        "command", nargs="?", default="help", help="report, compare, runs, rerun, keep, sweep, export or help"
    )
    @magic_arguments.argument("args", nargs="*", help="the command's arguments")
    @magic_arguments.argument(
        "--engine", choices=["process", "ray"], help="sweep: where the trials run (default: process)"
    )
    @magic_arguments.argument("--scheduler", choices=["asha"], help="sweep --engine ray: a Tune trial scheduler")
    @magic_arguments.argument("--search", choices=["optuna"], help="sweep --engine ray: a Tune search algorithm")
    @magic_arguments.argument("--samples", type=int, metavar="N", help="sweep --search: configurations to try")
    @line_magic
    @_documented_by_usage
    def stall(self, line: str) -> Any:  # its docstring is STALL_USAGE
        # options and the command's arguments in any order (%stall sweep --engine ray 2): argparse's intermixed
        # parsing, which IPython's parse_argstring does not use
        args = self.stall.parser.parse_intermixed_args(arg_split(line))
        args.args = [_unquote(a) for a in args.args]
        handler = getattr(self, f"_stall_{args.command}", None)
        if handler is None:
            raise UsageError(
                f"Unknown %stall command {args.command!r}. Use one of: report, compare, runs, rerun, keep, sweep, "
                "export, help."
            )
        given = [f"--{name}" for name in _SWEEP_OPTIONS if getattr(args, name) is not None]
        if given and args.command != "sweep":
            raise UsageError(f"{given[0]} is an option of %stall sweep only. Got %stall {args.command}.")
        most = _STALL_ARGUMENTS.get(args.command)
        if most is not None and len(args.args) > most:
            usage = [u.split("  ")[0] for u in STALL_USAGE.splitlines() if u.startswith(f"%stall {args.command}")]
            raise UsageError(
                f"%stall {args.command} takes at most {most} argument(s)"
                f"{': ' + usage[0] if usage else ''}. Got {len(args.args)}: {' '.join(args.args)}."
            )
        if args.command == "sweep":
            return self._stall_sweep(args.args, options=args)
        return handler(args.args)

    def _stall_help(self, rest: list[str]) -> None:
        print(STALL_USAGE)

    def _last_cell(self) -> CellRuns:
        for cell in reversed(self.cells):
            if cell.runs:
                return cell
        raise UsageError("No %%diagnose_fit cell has recorded a fit yet.")

    def _all_runs(self) -> list[tuple[CellRuns, Run]]:
        return [(c, r) for c in self.cells for r in c.runs]

    def _find(self, ref: str | None) -> tuple[CellRuns, Run]:
        """A run by its number in ``%stall runs`` or its label; default: the run the last cell's panel shows."""
        if ref is None:
            cell = self._last_cell()
            return cell, cell.selected or cell.last  # type: ignore[return-value]
        everything = self._all_runs()
        if ref.isdecimal():  # not isdigit(): int() refuses "²"
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
        for i, (cell, run) in enumerate(everything, 1):
            print(run_line(i, cell, run))

    def _stall_report(self, rest: list[str]) -> None:
        cell, run = self._find(rest[0] if rest else None)
        report = cell.diagnose(run)
        if report is None:
            raise UsageError(" ".join(cell.problems[-1:]) or f"{run.label} could not be diagnosed.")
        print(report)
        choices = cell.remedies(run)
        if choices:
            print("Fixes to try (%stall rerun N):")
            print("\n".join(fix_lines(choices)))

    def _stall_compare(self, rest: list[str]) -> None:
        cell = self._last_cell()
        print(cell.session.compare(metric=cell.metric))

    def _stall_rerun(self, rest: list[str]) -> None:
        if not rest or not rest[0].isdecimal():
            raise UsageError("%stall rerun needs the number of a fix, as listed by %stall report: %stall rerun 1.")
        cell, run = self._find(rest[1] if len(rest) > 1 else None)
        try:
            cell.check_live(run)  # before diagnosing: a released run's remedies could not run anyway
            cell.diagnose(run)
            choices = cell.remedies(run)
            n = int(rest[0])
            if not 1 <= n <= len(choices):
                raise UsageError(
                    f"{run.label} has {len(choices)} fix(es) to rerun; %stall report lists them. Got {n}."
                )
            new = cell.rerun(run, choices[n - 1][1])
        except RemedyError as exc:  # released, or the fix does not apply: one sentence, as %stall keep and sweep
            raise UsageError(str(exc)) from None
        self._refresh_views(cell)
        print(f"[stallmagic] {new.report.headline() if new.report is not None else new.summary()}")
        # Nothing returned: Out[n] would show the Run; the panel, %stall runs and -o VAR give it.

    def _stall_keep(self, rest: list[str]) -> None:
        if rest:
            cell, run = self._find(rest[0])
        elif self.kept is not None:
            cell, run = self.kept
        else:
            cell = self._last_cell()
            run = cell.selected or cell.last  # type: ignore[assignment]
        try:
            code = cell.keep_source(run)
        except Exception as exc:
            raise UsageError(f"Cannot keep {run.label}: {safe_str(exc, limit=ERROR_MESSAGE_LIMIT)}") from None
        self.shell.set_next_input(code, replace=True)
        if cell.keep_notes:  # the code says why in its first line; so does this one
            print(
                f"[stallmagic] The fix of {run.label} could not be written into your cell: {cell.keep_notes[0]}. "
                "The cell's input now holds code to run before it instead."
            )
            return
        print(
            f"[stallmagic] Kept the fix of {run.label}: the cell's input now holds your cell with the fix written in; "
            "run it to train with the fix."
        )

    def _stall_sweep(self, rest: list[str], options: Any = None) -> Any:
        engine = getattr(options, "engine", None) or "process"
        scheduler, search, samples = (getattr(options, name, None) for name in ("scheduler", "search", "samples"))
        ray_only = [f"--{n}" for n, v in (("scheduler", scheduler), ("search", search)) if v is not None]
        if ray_only and engine != "ray":
            raise UsageError(f"{ray_only[0]} of %stall sweep needs --engine ray (Ray Tune runs the trials).")
        if samples is not None and (search is None or samples < 1):
            raise UsageError(
                "--samples N of %stall sweep counts the configurations a search algorithm picks: an int >= 1, with "
                f"--search optuna. Got --samples {samples}{'' if search else ' without --search'}."
            )
        cell, run = self._find(rest[0] if rest else None)
        live = self._sweep_view(engine)
        if live is None:

            def progress(done: int, total: int, row: dict) -> None:
                print(f"[stallmagic] sweep {done}/{total}: {row.get('params')} -> {row.get('mean')}")

            on_epoch = None
        else:
            progress, on_epoch = live.progress, live.on_epoch
        try:
            return cell.sweep(
                run,
                progress=progress,
                on_epoch=on_epoch,
                engine_name=engine,
                scheduler=scheduler,
                search=search,
                samples=samples,
            )
        except Exception as exc:
            from ..rerun.sweep_ray import IN_PROCESS  # the API's words for the in-process engine: say the magic's

            why = safe_str(exc, limit=ERROR_MESSAGE_LIMIT).replace(IN_PROCESS, MAGIC_IN_PROCESS)
            raise UsageError(f"The sweep could not run: {why}") from None
        finally:
            if live is not None and live.draws:  # nothing was shown when the sweep was refused before training
                live.finish()

    def _sweep_view(self, engine: str) -> Any:
        """The live table of a sweep's trials (:mod:`.sweep_view`) where the cell's output is a Jupyter display
        (a kernel, or ``%config StallMagics.display = "widgets"``); ``None`` in a terminal, which gets one line per
        finished trial instead."""
        mode = self.display
        if mode == "auto":
            mode = "widgets" if getattr(self.shell, "kernel", None) is not None else "text"
        if mode == "text":
            return None
        from .sweep_view import in_output

        self.sweep_view = in_output(engine=engine)
        return self.sweep_view

    def _stall_export(self, rest: list[str]) -> None:
        if len(rest) != 1:
            raise UsageError("%stall export needs one file name ending in .html, .json or .md: %stall export run.html")
        cell = self._last_cell()
        try:
            written = cell.export(rest[0])
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        print("[stallmagic] Wrote " + ", ".join(str(p) for p in written))

    def _refresh_views(self, cell: CellRuns) -> None:
        for view in self.views:
            if getattr(view, "cell", None) is cell and hasattr(view, "refresh"):
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
        if self.cell_writer is not None:
            self.cell_writer.close()
            self.cell_writer = None


def _loaded_magics(ipython: Any) -> StallMagics | None:
    """The shell's StallMagics, if the extension is loaded: IPython's own registry of magics instances
    (``magics_manager.registry``, keyed by class name) holds it, so the shell owns it and nothing here outlives it."""
    magics = ipython.magics_manager.registry.get(StallMagics.__name__)
    return magics if isinstance(magics, StallMagics) else None


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext stallmagic``: register ``%%diagnose_fit`` and ``%stall`` (and ``%config StallMagics``)."""
    if _loaded_magics(ipython) is not None:
        return
    magics = StallMagics(ipython)
    ipython.register_magics(magics)
    if magics not in ipython.configurables:
        ipython.configurables.append(magics)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext stallmagic``: remove the magics, detach the panels, leave nothing behind."""
    magics = _loaded_magics(ipython)
    if magics is None:
        return
    magics.close()
    manager = ipython.magics_manager
    for kind, name in (("cell", "diagnose_fit"), ("line", "stall")):
        registered = manager.magics[kind].get(name)
        if getattr(registered, "__self__", None) is magics:
            del manager.magics[kind][name]
    del manager.registry[type(magics).__name__]
    if magics in ipython.configurables:
        ipython.configurables.remove(magics)


__all__ = ["STALL_USAGE", "StallMagics", "load_ipython_extension", "unload_ipython_extension"]
