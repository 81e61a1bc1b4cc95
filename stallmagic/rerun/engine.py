"""Fair reruns: the same training with one change, from the same starting point, side by side.

``run.rerun(remedy)`` trains again through the same capture engine (``capture(session=run.session)``), so the new
Run is recorded, displayed and diagnosed like the original. What makes it fair:

* **Same start.** The model gets the weights it had at the start of the original fit (the capture's snapshot),
  and every layer's random stream (dropout masks) is put back to its start.
* **Same data and arguments.** The original fit arguments, the same array objects (never copied, never mutated;
  remedies that change data work on copies), only the remedy's change on top. ``verbose`` is 0 unless overridden.
  Data a rerun cannot read again, a Python generator (it yields each batch once), is refused before it is touched;
  arrays, tf.data pipelines and PyDatasets are read again from their start.
* **Same seed.** ``keras.utils.set_random_seed`` is called before each rerun with the user's seed when one was
  set (``keras.utils.set_random_seed(...)`` earlier in the session), else 0, so shuffling repeats. This also
  seeds Python's and NumPy's global generators, as that function does.
* **Fresh optimizer.** Rebuilt from the configuration recorded at the start of the original fit (class,
  learning rate before any schedule or callback moved it), so no momentum or step count carries over.
* **Fresh callbacks.** The user's callbacks run again as copies (their original objects keep their state);
  Keras's callbacks reset themselves in ``on_train_begin``. Callbacks that write files (ModelCheckpoint,
  BackupAndRestore, CSVLogger, TensorBoard) write next to the user's files, never over them
  (:mod:`.file_callbacks`).

A rerun of a rerun stacks the remedies: ``r2 = r1.rerun(b)`` applies r1's remedy and then ``b``, from the original
starting weights.

**The user's model after a rerun.** When the remedy needs no new layers, the rerun trains the user's own model
object, which then holds the rerun's trained weights and its changes (loss, activations, L2, optimizer): the next
``model.evaluate(...)`` reflects the last rerun. ``run.restore()`` puts any run's final weights (and its model
changes and compile settings) back; the original run's restore compiles with the user's own optimizer object again.
Remedies that insert or resize layers (dropout, batch norm, normalization, wider/smaller) train a rebuilt model,
``new_run.keras_model``; the user's model object is left exactly as it was.

**Failures.** A remedy that cannot apply raises :class:`~stallmagic.remedies.RemedyError` before anything is
touched. An exception inside the rerun's compile or fit is recorded as a Run with ``end == "error"`` (appended to
the session like any run), a :class:`RerunWarning` says what happened, and the user's model is put back as it was
before the rerun; earlier runs are never changed. A KeyboardInterrupt does the same, then propagates.

**Memory.** Each rerun keeps its final weights (for ``restore``; one copy, shared with the Run's own), and a rerun
that rebuilt the model keeps that model, its optimizer and its traced train function; its starting-weight snapshot
is shared with the original's when they are equal. Only the most recently used reruns keep this (the ledger's
retention limit, ``set_keep_reruns``, default 5); older ones are released, keep their records and curves, and can
no longer be restored or rerun, which :func:`restore` and :func:`rerun` say in one sentence. Memory stays flat
once the limit is reached (``bench/rerun.py``).

What the engine keeps in memory between reruns (starting points, final weights, edits a model carries) is in
the :mod:`.ledger`; this module carries out one rerun (:class:`_RerunJob`) and ``restore``.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._internal.keras_private import custom_gradient_names
from .._internal.numbers import num
from .._internal.text import safe_repr, safe_str
from ..capture.intercept import ERROR_MESSAGE_LIMIT
from ..record import ErrorRecord, Run, Session
from ..remedies import Remedy, RemedyError
from . import devices, file_callbacks, lr_range, surgery, training
from .ledger import LEDGER, ModelSnapshot, check_run, final_weights, root_of
from .overrides import check_epochs, check_overrides
from .plan import Plan, check_rereadable
from .surgery import PreparedModel

__all__ = ["RerunWarning", "rerun", "restore"]


class RerunWarning(UserWarning):
    """A rerun failed inside Keras; its Run records the error and the model was put back."""


# ---------------------------------------------------------------------- rerun


def rerun(run: Run, remedy: Remedy | str | None = None, **overrides: Any) -> Run:
    """Train ``run`` again with one change, fairly (see the module docstring), and record it in its session.

    Args:
        run: The run to start from (an original run or a rerun; a rerun's own remedies are kept).
        remedy: The change (a :class:`~stallmagic.remedies.Remedy` or its code), or ``None`` to rerun unchanged.
        **overrides: Fit arguments (``epochs=30``, ``batch_size=64``, ``verbose=1``), ``optimizer`` (a name,
            class, instance or config), ``learning_rate``, ``loss``, ``metrics``, ``clipnorm``, ``momentum``,
            ``weight_decay``, or ``seed``, applied after the remedy.

    Returns:
        The new Run, appended to ``run.session``, with ``remedy`` and ``parent`` set; ``end == "error"`` and
        ``error`` set when Keras raised (a :class:`RerunWarning` is issued and earlier runs are untouched).

    Raises:
        RemedyError: The remedy does not apply here (disabled, advice, a rebuild of a subclassed model, ...), or an
            override is not one ``fit``/``compile`` can use (``epochs=-1``, ``batch_size=0``: one sentence naming the
            argument and what it allows, see :mod:`.overrides`); raised before anything is built or trained.
        KeyboardInterrupt: Propagated after the interrupted run was recorded and the model put back.
    """
    return train_rerun(run, as_remedy(remedy), overrides)


def train_rerun(
    run: Run,
    remedy: Remedy | None,
    overrides: Mapping[str, Any],
    *,
    session: Session | None = None,
    keep_weights: bool = True,
    label: str | None = None,
    extra_callbacks: Sequence[Any] = (),
    fold_data: Mapping[str, Any] | None = None,
    put_back: bool = True,
) -> Run:
    """:func:`rerun` with the knobs a sweep needs.

    Args:
        run: The run to start from.
        remedy: The change, or ``None``.
        overrides: As ``rerun(**overrides)``.
        session: Where the new Run is recorded (default: ``run.session``; a sweep keeps its own).
        keep_weights: Keep the final weights (for ``restore``) and leave them in the model.
        label: The new Run's label (default: the parent's label and the change).
        extra_callbacks: Callbacks added to the fit (a sweep's Stop).
        fold_data: Fit arguments of one cross-validation fold, replacing the data.
        put_back: With ``keep_weights=False``, put the model back as it was after the fit (a sweep puts it back
            once, at its end).
    """
    check_run(run)
    LEDGER.check_live(run)  # a released rerun says so, in one sentence
    check_overrides(overrides)  # before anything is read or built: a mistyped override costs nothing
    check_remedy(remedy)
    target = session if session is not None else run.session
    if target is None:
        raise RemedyError(f"{run.label} belongs to no session, so a rerun would have nowhere to be recorded.")
    steps = [*LEDGER.record(run).steps, (remedy, dict(overrides))]
    plan = build_plan(run, steps)
    if fold_data is not None:
        plan.fit.update(fold_data)
        plan.fit["validation_split"] = 0.0
    root = root_of(run)
    final_weights(root)  # keep the original's final weights before anything overwrites them
    LEDGER.touch(run)  # rerunning a rerun uses it: it is released after the ones used less recently
    job = _RerunJob(
        parent=run,
        plan=plan,
        steps=steps,
        session=target,
        remedy=remedy,
        overrides=overrides,
        label=label,
        keep_weights=keep_weights,
        extra_callbacks=list(extra_callbacks),
        put_back=put_back,
    )
    return job.execute()


def as_remedy(remedy: Remedy | str | None) -> Remedy | None:
    """A Remedy from what ``rerun`` accepts (a Remedy, its code, or ``None``)."""
    if remedy is None or isinstance(remedy, Remedy):
        return remedy
    if isinstance(remedy, str):
        return Remedy(remedy)
    raise RemedyError(f"rerun() takes a Remedy, a remedy code or None. Got {type(remedy).__name__} instead.")


def check_remedy(remedy: Remedy | None) -> None:
    """Raise :class:`RemedyError` for advice and for a remedy disabled on this run (nothing touched yet)."""
    if remedy is None:
        return
    if remedy.kind == "advice":
        raise RemedyError(f"{safe_repr(remedy.title)} is a recommendation (advice), not a change a rerun can make.")
    if remedy.disabled_reason:
        raise RemedyError(f"{safe_repr(remedy.title)} does not apply to this run: {safe_str(remedy.disabled_reason)}")


def build_plan(run: Run, steps: list, *, caller: str = "rerun") -> Plan:
    """The plan of a rerun: the original run's baseline with every step's remedy and overrides applied in order.

    Raises :class:`RemedyError` when a step does not fit the run, the plan would train no epoch or read a Python
    generator again (:func:`.plan.check_rereadable`), before any Keras object or the data are touched; ``caller``
    (``"rerun"`` or ``"sweep"``) words the messages about overrides.
    """
    root = root_of(run)
    devices.check_one_worker(root)  # a fit on several worker processes: no rerun can start on them all from here
    plan = Plan.from_baseline(LEDGER.baseline(root))
    check_rereadable(plan.baseline, steps)  # before a remedy reads the data: a generator is never touched
    for remedy, overrides in steps:
        if remedy is not None:
            remedy.spec.apply(plan, remedy)
        if overrides:
            plan.override(overrides, caller=caller)
    check_epochs(plan.fit, caller=caller)
    devices.check_batch_divides(plan)  # a fit on several devices splits each batch among them
    surgery.check_model_edits(plan)
    return plan


def short_text(value: Any) -> str:
    """A value as it reads in a run's label or a sweep's table: numbers as ``%g``, arrays by shape, other
    objects by class name (cut to 30 characters)."""
    if isinstance(value, float):
        return num(value, 6) if math.isfinite(value) else str(value)  # num writes "?" for nan and inf
    if isinstance(value, (int, str, bool)) or value is None:
        return str(value)
    if hasattr(value, "shape"):
        return f"array{tuple(value.shape)}"
    name = type(value).__name__
    return name if len(name) < 30 else name[:27] + "..."


def _label(session: Session, run: Run, remedy: Remedy | None, overrides: Mapping[str, Any]) -> str:
    """``"<parent> + <remedy> + key=value"``, numbered ``#2``, ``#3`` when the session has that label already."""
    parts = []
    if remedy is not None:
        parts.append(remedy.title)
    parts.extend(f"{k}={short_text(v)}" for k, v in overrides.items())
    base = f"{run.label} + {' + '.join(parts)}" if parts else f"{run.label} (rerun)"
    labels = {r.label for r in session.runs}
    if base not in labels:
        return base
    n = 2
    while f"{base} #{n}" in labels:
        n += 1
    return f"{base} #{n}"


def _extras(parent: Run, remedy: Remedy | None, plan: Plan, steps: list) -> dict:
    """What the new Run's ``extras["rerun"]`` records about how it was made."""
    return {
        "parent": parent.label,
        "remedy": remedy.to_dict() if remedy is not None else None,
        "overrides": {k: short_text(v) for k, v in (steps[-1][1] or {}).items()},
        "stacked": [r.code for r, _ in steps[:-1] if r is not None],
        "seed": plan.seed,
        "notes": list(dict.fromkeys(plan.notes)),
    }


def _error_record(exc: BaseException | None) -> ErrorRecord:
    """The record of what ended a failed rerun (``None``: a KeyboardInterrupt), its message through ``safe_str``
    (an exception's ``__str__`` is the user's code and may raise)."""
    if exc is None:
        return ErrorRecord("KeyboardInterrupt", "")
    return ErrorRecord(type(exc).__name__, safe_str(exc, limit=ERROR_MESSAGE_LIMIT))


def _outside_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning issued by the caller of this function point at the first frame
    outside the stallmagic package: the user's ``run.rerun(...)`` line, whichever facade or cell action led there
    (a fixed number pointed at ``record.py`` when the call came through ``Run.rerun``)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    frame = sys._getframe(1)  # the function that calls warnings.warn: stacklevel 1
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame = frame.f_back
        level += 1
    return level


def _same(a: list | None, b: list | None) -> bool:
    if a is None or b is None or len(a) != len(b):
        return False
    return all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a, b))


def _recorded(session: Session, count: int) -> Run | None:
    """The Run the capture appended after the first ``count`` runs, if it got that far."""
    return session.runs[count] if len(session.runs) > count else None


@dataclass
class _RerunJob:
    """One rerun being carried out: prepare the model, compile, fit under capture, then record the new Run and
    keep what ``restore`` needs (:meth:`finish`), or, when Keras raised, record the failure and put the user's
    model back (:meth:`after_failure`).

    ``before`` is the user's model as it was before the rerun; ``prepared`` the model being trained (``None``
    until the plan's model changes were made); ``optimizer`` the one it was compiled or reset with.
    """

    parent: Run
    plan: Plan
    steps: list
    session: Session
    remedy: Remedy | None
    overrides: Mapping[str, Any]
    label: str | None
    keep_weights: bool
    extra_callbacks: list
    put_back: bool = True
    before: ModelSnapshot | None = None
    prepared: PreparedModel | None = None
    optimizer: Any = None

    def execute(self) -> Run:
        """Train and record the rerun; on a failure record it and put the model back (see the module docstring).

        A failure's :class:`RerunWarning` points at the first frame outside stallmagic: the user's call.
        """
        user_model = self.plan.baseline.model
        LEDGER.track(user_model)
        self.before = LEDGER.snapshot(user_model)
        self.label = self.label or _label(self.session, self.parent, self.remedy, self.overrides)
        count = len(self.session.runs)
        new: Run | None = None
        traced_before = custom_gradient_names()
        try:
            try:  # in the original fit's strategy scope or distribution: the same devices build and train
                with devices.rerun_scope(self.plan):
                    model = self._prepare()
                    self._measure_rate(model)
                    self._compile(model)
                    self._fit(model)
                new = _recorded(self.session, count)
            finally:  # what TensorFlow registered for good while tracing goes when this model's graphs do
                trained = self.prepared.model if self.prepared is not None else user_model
                LEDGER.add_traced_gradients(trained, custom_gradient_names() - traced_before)
        except KeyboardInterrupt:
            new = _recorded(self.session, count)
            self.after_failure(new, None)
            raise
        except RemedyError:
            self.before.put_back()
            raise
        except Exception as exc:
            new = _recorded(self.session, count)
            return self.after_failure(new, exc)
        self.finish(new)
        if not self.keep_weights and self.put_back:
            self.before.put_back()
        return new

    def _prepare(self) -> Any:
        """The model to train with the plan's changes made: the user's own model as the user built it (its earlier
        in-place edits undone first), or a rebuilt one (which leaves the user's model untouched)."""
        import keras

        plan = self.plan
        user_model = plan.baseline.model
        keras.utils.set_random_seed(plan.seed)
        current = LEDGER.revert(user_model)  # clone from / train the model as the user built it
        try:
            self.prepared = surgery.prepare_model(plan)
        finally:
            if self.prepared is None or self.prepared.rebuilt:
                LEDGER.redo(user_model, current)  # a rebuilt model leaves the user's untouched
        model = self.prepared.model
        if not self.prepared.rebuilt:
            LEDGER.set_edits(model, [(o, a, old, getattr(o, a)) for o, a, old in self.prepared.undo])
        return model

    def _measure_rate(self, model: Any) -> None:
        """Run the plan's learning-rate range test (if a remedy asked for one) and train at the rate it chose; the
        measurement is kept in the remedy's evidence, so its words and its kept code give the measured rate."""
        search = self.plan.lr_search
        if not search:
            return
        result = lr_range.range_test(model, self.plan, search["center"], search["current"], self.parent.wall_time)
        surgery.reset_seed_generators(model)
        self.plan.set_learning_rate(result["chosen"])
        search["remedy"].evidence["range_test"] = result
        if result.get("skipped"):
            self.plan.notes.append(f"No learning-rate range test: {result['skipped']}; trained at the suggested rate.")
        else:
            self.plan.notes.append(
                f"Learning-rate range test: {len(result['rates'])} rates x {result['steps']} steps on "
                f"{result['rows']} rows in {result['seconds']:.2f} s; chose {result['chosen']:g}."
            )

    def _compile(self, model: Any) -> None:
        """Reset the optimizer of this model's last rerun in place when nothing it was traced with changed (no new
        train function to trace, no TensorFlow graphs piling up); else compile with a fresh optimizer."""
        self.optimizer = self._reused_optimizer(model)
        if self.optimizer is None:
            LEDGER.drop_traced_gradients(model)  # the train function traced before is dropped by this compile
            self.optimizer = training.compile_model(model, self.plan)
            key = None if self.plan.edits else training.compile_key(self.plan)  # a graph traced with edits: no reuse
            LEDGER.remember_compile(model, self.optimizer, key)
            LEDGER.track(model)

    def _reused_optimizer(self, model: Any) -> Any:
        """The optimizer a previous rerun compiled ``model`` with, reset to a fresh state, when the model still
        uses it with the same compile key and a traced train function; else ``None``. The user's own optimizer
        is never reused (the ledger only knows the ones reruns built)."""
        plan = self.plan
        if self.prepared.rebuilt or plan.edits:  # in-place edits change the graph: trace again
            return None
        own = LEDGER.compiled(model)
        if own is None:
            return None
        ref, key = own
        optimizer = ref()
        same = key is not None and key == training.compile_key(plan)
        if optimizer is None or getattr(model, "optimizer", None) is not optimizer or not same:
            return None
        if getattr(model, "train_function", None) is None:
            return None
        state = LEDGER.fresh_optimizer_state(model, key, lambda: training.fresh_optimizer_state(plan, model))
        return optimizer if training.reset_optimizer(optimizer, state, plan) else None

    def _fit(self, model: Any) -> None:
        """Fit under a capture into the session, with fresh callbacks and the same shuffles as the original."""
        import keras

        from ..capture import capture

        tag = file_callbacks.run_tag(self.label, self.parent.label)
        callbacks = training.fresh_callbacks(self.plan, model, tag) + self.extra_callbacks
        fit_args = {**self.plan.fit, "callbacks": callbacks}
        keras.utils.set_random_seed(self.plan.seed)  # the same shuffles as the original, whatever preparing drew
        attrs = {"label": self.label, "parent": self.parent, "remedy": self.remedy}
        with capture(session=self.session, run_attrs=attrs):
            model.fit(**fit_args)

    def finish(self, new: Run) -> None:
        """Link the new Run to its parent and remedy, record how it was made, and keep what ``restore`` needs."""
        plan, prepared = self.plan, self.prepared
        new.parent = self.parent
        new.remedy = self.remedy
        new.label = self.label
        record = LEDGER.record(new)
        record.steps = self.steps
        base = plan.baseline
        new.extras["rerun"] = _extras(self.parent, self.remedy, plan, self.steps)
        new.extras["rerun"].update(copied_layers=prepared.copied_layers, fresh_layers=prepared.fresh_layers)
        same_start = _same(new.initial_weights, base.initial_weights)
        new.extras["rerun"]["same_starting_weights"] = same_start
        if same_start:
            new.initial_weights = base.initial_weights  # one copy for all reruns
        model = prepared.model
        record.edits = LEDGER.edits(model) if not prepared.rebuilt else []
        record.compile = (plan.optimizer_class, dict(plan.optimizer_config), dict(plan.compile), base.optimizer_type)
        if self.keep_weights:
            # the capture kept them at the end of the fit: one copy, shared (not a second model.get_weights())
            record.final_weights = new.final_weights if new.final_weights is not None else model.get_weights()
            LEDGER.hold(model, new)
            LEDGER.retain(new)  # the least recently used reruns beyond the limit are released
        plan.fit = {}  # drop references to (copied) data

    def after_failure(self, new: Run | None, exc: BaseException | None) -> Run:
        """Record the failed rerun (``exc`` is ``None`` for a KeyboardInterrupt), put the model back and warn."""
        if new is None:  # failed before the fit started (compile, callbacks): record it all the same
            new = self._error_run(exc)
        elif not new.finished:  # the capture could not close it (it stays "running"): a failed rerun is an error
            new.end = "error" if exc is not None else "interrupted"
            new.error = new.error or _error_record(exc)
        new.parent = self.parent
        new.remedy = self.remedy
        new.label = self.label
        new.extras["rerun"] = _extras(self.parent, self.remedy, self.plan, [(self.remedy, {})])
        if self.prepared is not None and new.keras_model is not None:
            with contextlib.suppress(Exception):
                LEDGER.record(new).final_weights = new.keras_model.get_weights()
        if self.keep_weights:
            LEDGER.retain(new)  # a failed rerun holds its model too: it counts against the limit
        put_back = "the model was put back as it was before the rerun"
        try:
            self.before.put_back()
        except Exception as put_back_error:  # report, never hide the original error
            failed = f"{type(put_back_error).__name__}: {safe_str(put_back_error)}"
            new.extras["rerun"]["put_back_error"] = failed
            put_back = f"putting the model back failed too ({failed})"
        self.plan.fit = {}
        if exc is not None:  # the user's exception is quoted through safe_str: its __str__ may raise
            warnings.warn(
                f"The rerun {safe_repr(self.label)} failed ({type(exc).__name__}: {safe_str(exc)}). It is recorded "
                f"with end='error'; earlier runs are unchanged and {put_back}.",
                RerunWarning,
                stacklevel=_outside_stacklevel(),
            )
        return new

    def _error_run(self, exc: BaseException | None) -> Run:
        """A Run with ``end == "error"`` for a rerun that failed before its fit was captured, added to the
        session (listeners told) like any run."""
        session, parent = self.session, self.parent
        new = Run(index=len(session.runs), label=self.label, fit=parent.fit, model=parent.model)
        new.end = "error"
        new.error = _error_record(exc)
        new.session = session
        session.runs.append(new)
        session.notify("end", new)
        return new


# ---------------------------------------------------------------------- restore


def restore(run: Run) -> Run:
    """Put ``run``'s final weights back into the model that trained it, with that run's model changes and compile
    settings, so ``model.evaluate(...)`` reflects that run again.

    For the original run, the model is compiled again with the user's own optimizer object (its state intact). For
    a rerun, with a fresh optimizer of the rerun's configuration.

    Raises:
        RemedyError: The run was released (a rerun beyond the retention limit, ``set_keep_reruns``, or a sweep's
            run) or its final weights were not kept (a model retrained outside stallmagic before any rerun); one
            sentence that says which.
    """
    check_run(run, "restore")
    LEDGER.check_live(run, action="restored")
    model = run.keras_model
    weights = final_weights(run)
    if (model is None or weights is None) and LEDGER.released(run) is not None:
        raise RemedyError(f"{run.label} cannot be restored: {LEDGER.released(run)}.")
    if model is None or weights is None:
        raise RemedyError(
            f"The final weights of {run.label} were not kept (a sweep's runs keep none, and an original run's are "
            "only known until its model is trained again outside stallmagic), so it cannot be restored."
        )
    record = LEDGER.record(run)
    LEDGER.track(model)
    LEDGER.redo(model, record.edits)
    model.set_weights(weights)
    if record.steps and record.compile is not None:
        plan = Plan.from_baseline(LEDGER.baseline(root_of(run)))
        plan.optimizer_class, plan.optimizer_config, plan.compile, opt_type = record.compile
        if opt_type is not None:
            plan.baseline.optimizer_type = opt_type
        plan.fit = {}
        LEDGER.drop_traced_gradients(model)  # compiling drops the train function they were traced for
        with devices.rerun_scope(plan):  # the fresh optimizer on the original fit's devices
            training.compile_model(model, plan)
    elif not record.steps and LEDGER.holder(model) is not None:
        base = LEDGER.baseline(run)
        if base.original_optimizer is not None:
            args = {k: v for k, v in base.compile.items() if k != "optimizer"}
            LEDGER.drop_traced_gradients(model)
            model.compile(optimizer=base.original_optimizer, **args)
    LEDGER.hold(model, run)
    LEDGER.touch(run)
    return run
