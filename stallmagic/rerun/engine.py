"""Fair reruns: the same training with one change, from the same starting point, side by side.

``run.rerun(remedy)`` trains again through the same capture engine (``capture(session=run.session)``), so the new
Run is recorded, displayed and diagnosed like the original. What makes it fair:

* **Same start.** The model gets the weights it had at the start of the original fit (the capture's snapshot),
  and every layer's random stream (dropout masks) is put back to its start.
* **Same data and arguments.** The original fit arguments, the same array objects (never copied, never mutated;
  remedies that change data work on copies), only the remedy's change on top. ``verbose`` is 0 unless overridden.
* **Same seed.** ``keras.utils.set_random_seed`` is called before each rerun with the user's seed when one was
  set (``keras.utils.set_random_seed(...)`` earlier in the session), else 0, so shuffling repeats. This also
  seeds Python's and NumPy's global generators, as that function does.
* **Fresh optimizer.** Rebuilt from the configuration recorded at the start of the original fit (class,
  learning rate before any schedule or callback moved it), so no momentum or step count carries over.
* **Fresh callbacks.** The user's callbacks run again as copies (their original objects keep their state);
  Keras's callbacks reset themselves in ``on_train_begin``. Callbacks that write files (ModelCheckpoint,
  BackupAndRestore, CSVLogger, TensorBoard) are left out so a rerun never overwrites the user's files.

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

**Memory.** Each rerun keeps its final weights (for ``restore``); its starting-weight snapshot is shared with the
original's when they are equal, so ten reruns of a model hold about ten copies of its weights, nothing more.
"""

from __future__ import annotations

import contextlib
import itertools
import time
import warnings
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..record import ErrorRecord, Run, Session, jsonable
from ..remedies import Remedy, RemedyError

__all__ = ["Comparison", "RerunWarning", "SweepResult", "compare", "rerun", "restore", "sweep"]


class RerunWarning(UserWarning):
    """A rerun failed inside Keras; its Run records the error and the model was put back."""


# ---------------------------------------------------------------------- runtime bookkeeping (never serialised)


@dataclass
class _Meta:
    """What the engine keeps about a run in memory (stored on the Run object, outside its dataclass fields)."""

    steps: list = field(default_factory=list)  # [(Remedy | None, overrides)] from the original run
    final_weights: list | None = None
    baseline: Any = None  # plan.Baseline, on original runs only
    edits: list = field(default_factory=list)  # in-place changes [(obj, attr, old, new)] this run's model carries
    compile: Any = None  # (optimizer_class, optimizer_config, compile args, optimizer type) to recompile on restore


_META = "_stallmagic_rerun"
#: id(model) -> in-place edits the model currently carries [(obj, attr, old, new)].
_MODEL_EDITS: dict[int, list] = {}
#: id(model) -> the Run whose weights the model holds since a rerun or restore touched it.
_MODEL_HOLDS: dict[int, Run] = {}


def _meta(run: Run) -> _Meta:
    meta = run.__dict__.get(_META)
    if meta is None:
        meta = run.__dict__[_META] = _Meta()
    return meta


def _track(model: Any) -> None:
    key = id(model)
    if key in _MODEL_EDITS:
        return
    _MODEL_EDITS[key] = []
    with contextlib.suppress(TypeError):  # not weak-referenceable: entries stay until the process ends (small)
        weakref.finalize(model, _forget, key)


def _forget(key: int) -> None:
    for table in (_MODEL_EDITS, _MODEL_HOLDS, _OWN_COMPILES, _FRESH_STATES):
        table.pop(key, None)


def _revert(model: Any) -> list:
    """Undo the in-place edits ``model`` carries; returns them (to redo)."""
    edits = _MODEL_EDITS.get(id(model), [])
    for obj, attr, old, _new in reversed(edits):
        setattr(obj, attr, old)
    _MODEL_EDITS[id(model)] = []
    return edits


def _redo(model: Any, edits: list) -> None:
    _revert(model)
    for obj, attr, _old, new in edits:
        setattr(obj, attr, new)
    _track(model)
    _MODEL_EDITS[id(model)] = list(edits)


def release(run: Run) -> None:
    """Forget what the engine keeps in memory for ``run``: its baseline (which holds the model and the fit
    arguments), its final weights and its record of in-place edits. The Run's record stays. The notebook layer
    calls this when it drops an old cell's live state; the run can no longer be rerun or restored afterwards."""
    run.__dict__.pop(_META, None)
    model = run.keras_model
    if model is not None and _MODEL_HOLDS.get(id(model)) is run:
        del _MODEL_HOLDS[id(model)]


def root_of(run: Run) -> Run:
    """The original run a chain of reruns started from."""
    seen = 0
    while run.parent is not None and _META in run.__dict__ and _meta(run).steps:
        run = run.parent
        seen += 1
        if seen > 10_000:  # pragma: no cover - a cycle would be a bug elsewhere
            break
    return run


def _baseline(root: Run) -> Any:
    from .plan import Baseline

    meta = _meta(root)
    if meta.baseline is None:
        meta.baseline = Baseline.of(root)
    return meta.baseline


def final_weights(run: Run) -> list | None:
    """The weights ``run`` ended with, or ``None`` when they were not kept.

    Reruns keep theirs. For an original run: the starting weights of the next fit captured on the same model in
    the same session (its continuation), else the model's current weights as long as no rerun or restore has
    touched the model since (they are then kept).
    """
    meta = _meta(run)
    if meta.final_weights is not None:
        return meta.final_weights
    if run.final_weights is not None:  # recorded by the capture engine at the end of the fit
        return run.final_weights
    model = run.keras_model
    if model is None:
        return None
    if run.session is not None and run in run.session.runs:
        later = run.session.runs[run.session.runs.index(run) + 1 :]
        for nxt in later:
            if nxt.keras_model is model and not _meta(nxt).steps and nxt.initial_weights is not None:
                meta.final_weights = nxt.initial_weights
                return meta.final_weights
    if id(model) not in _MODEL_HOLDS and run.finished:
        meta.final_weights = model.get_weights()
        return meta.final_weights
    return None


# ---------------------------------------------------------------------- model state (for rollback)


@dataclass
class _ModelState:
    model: Any
    weights: list
    optimizer: Any
    compile: dict | None
    edits: list
    holds: Run | None

    @classmethod
    def of(cls, model: Any) -> _ModelState:
        config = getattr(getattr(model, "_compile_config", None), "config", None)
        return cls(
            model=model,
            weights=model.get_weights(),
            optimizer=getattr(model, "optimizer", None),
            compile=dict(config) if isinstance(config, Mapping) else None,
            edits=list(_MODEL_EDITS.get(id(model), [])),
            holds=_MODEL_HOLDS.get(id(model)),
        )

    def put_back(self) -> None:
        model = self.model
        _redo(model, self.edits)
        model.set_weights(self.weights)
        if self.compile is not None and self.optimizer is not None:
            args = {k: v for k, v in self.compile.items() if k != "optimizer"}
            model.compile(optimizer=self.optimizer, **args)
        if self.holds is None:
            _MODEL_HOLDS.pop(id(model), None)
        else:
            _MODEL_HOLDS[id(model)] = self.holds


# ---------------------------------------------------------------------- rerun


def _as_remedy(remedy: Remedy | str | None) -> Remedy | None:
    if remedy is None or isinstance(remedy, Remedy):
        return remedy
    if isinstance(remedy, str):
        return Remedy(remedy)
    raise RemedyError(f"rerun() takes a Remedy, a remedy code or None. Got {type(remedy).__name__} instead.")


def _build_plan(run: Run, steps: list) -> Any:
    from .plan import Plan
    from .surgery import check_model_edits

    root = root_of(run)
    plan = Plan.from_baseline(_baseline(root))
    for remedy, overrides in steps:
        if remedy is not None:
            remedy.spec.apply(plan, remedy)
        if overrides:
            plan.override(overrides)
    check_model_edits(plan)
    return plan


def _check_remedy(remedy: Remedy | None) -> None:
    if remedy is None:
        return
    if remedy.kind == "advice":
        raise RemedyError(f"{remedy.title!r} is a recommendation (advice), not a change a rerun can make.")
    if remedy.disabled_reason:
        raise RemedyError(f"{remedy.title!r} does not apply to this run: {remedy.disabled_reason}")


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
        RemedyError: The remedy does not apply here (disabled, advice, a rebuild of a subclassed model, ...);
            raised before anything changed.
        KeyboardInterrupt: Propagated after the interrupted run was recorded and the model put back.
    """
    return _rerun(run, _as_remedy(remedy), overrides)


def _rerun(
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
    _check_remedy(remedy)
    target = session if session is not None else run.session
    if target is None:
        raise RemedyError(f"{run.label} belongs to no session, so a rerun would have nowhere to be recorded.")
    steps = [*_meta(run).steps, (remedy, dict(overrides))]
    plan = _build_plan(run, steps)
    if fold_data is not None:
        plan.fit.update(fold_data)
        plan.fit["validation_split"] = 0.0
    root = root_of(run)
    final_weights(root)  # keep the original's final weights before anything overwrites them
    return _execute(run, plan, steps, target, remedy, overrides, keep_weights, label, list(extra_callbacks), put_back)


def _label(session: Session, run: Run, remedy: Remedy | None, overrides: Mapping[str, Any]) -> str:
    parts = []
    if remedy is not None:
        parts.append(remedy.title)
    parts.extend(f"{k}={_short(v)}" for k, v in overrides.items())
    base = f"{run.label} + {' + '.join(parts)}" if parts else f"{run.label} (rerun)"
    labels = {r.label for r in session.runs}
    if base not in labels:
        return base
    n = 2
    while f"{base} #{n}" in labels:
        n += 1
    return f"{base} #{n}"


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (int, str, bool)) or value is None:
        return str(value)
    if hasattr(value, "shape"):
        return f"array{tuple(value.shape)}"
    name = type(value).__name__
    return name if len(name) < 30 else name[:27] + "..."


def _execute(
    run: Run,
    plan: Any,
    steps: list,
    session: Session,
    remedy: Remedy | None,
    overrides: Mapping[str, Any],
    keep_weights: bool,
    label: str | None,
    extra_callbacks: list,
    put_back: bool = True,
) -> Run:
    import keras

    from ..capture import capture
    from . import surgery, training

    base = plan.baseline
    user_model = base.model
    _track(user_model)
    before = _ModelState.of(user_model)
    label = label or _label(session, run, remedy, overrides)
    count = len(session.runs)
    new: Run | None = None
    prepared = None
    try:
        keras.utils.set_random_seed(plan.seed)
        current = _revert(user_model)  # clone from / train the model as the user built it
        try:
            prepared = surgery.prepare_model(plan)
        finally:
            if prepared is None or prepared.rebuilt:
                _redo(user_model, current)  # a rebuilt model leaves the user's untouched
        model = prepared.model
        if not prepared.rebuilt:
            _MODEL_EDITS[id(model)] = [(o, a, old, getattr(o, a)) for o, a, old in prepared.undo]
        optimizer = _reuse_compiled(model, plan, prepared)
        if optimizer is None:
            optimizer = training.compile_model(model, plan)
            key = None if plan.edits else training.compile_key(plan)  # a graph traced with edits is not reused
            _OWN_COMPILES[id(model)] = (weakref.ref(optimizer), key)
            _track(model)
        callbacks = training.fresh_callbacks(plan, model) + extra_callbacks
        fit_args = {**plan.fit, "callbacks": callbacks}
        keras.utils.set_random_seed(plan.seed)  # the same shuffles as the original, whatever preparing drew
        with capture(session=session, run_attrs={"label": label, "parent": run, "remedy": remedy}):
            model.fit(**fit_args)
        new = _recorded(session, count)
    except KeyboardInterrupt:
        new = _recorded(session, count)
        _after_failure(before, prepared, new, run, remedy, plan, label, session, None)
        raise
    except RemedyError:
        before.put_back()
        raise
    except Exception as exc:
        new = _recorded(session, count)
        return _after_failure(before, prepared, new, run, remedy, plan, label, session, exc)
    _finish(new, run, remedy, plan, steps, label, prepared, optimizer, keep_weights)
    if not keep_weights and put_back:
        before.put_back()
    return new


#: id(model) -> (weakref to the optimizer a rerun compiled it with, compile key). A later rerun with the same key
#: resets that optimizer in place instead of compiling again: no new tracing of the train function, so reruns are
#: as quick as a second fit and do not accumulate TensorFlow graphs. The user's own optimizer is never reused.
_OWN_COMPILES: dict[int, tuple] = {}
#: id(model) -> {compile key: variable values of a newly built optimizer} (one entry per model).
_FRESH_STATES: dict[int, dict] = {}


def _reuse_compiled(model: Any, plan: Any, prepared: Any) -> Any:
    from . import training

    if prepared.rebuilt or plan.edits:  # in-place edits change the graph: trace again
        return None
    own = _OWN_COMPILES.get(id(model))
    if own is None:
        return None
    ref, key = own
    optimizer = ref()
    same = key is not None and key == training.compile_key(plan)
    if optimizer is None or getattr(model, "optimizer", None) is not optimizer or not same:
        return None
    if getattr(model, "train_function", None) is None:
        return None
    states = _FRESH_STATES.setdefault(id(model), {})
    if key not in states:  # one fresh optimizer per model and compile settings, kept as arrays
        states.clear()
        states[key] = training.fresh_optimizer_state(plan, model)
    return optimizer if training.reset_optimizer(optimizer, states[key], plan) else None


def _recorded(session: Session, count: int) -> Run | None:
    return session.runs[count] if len(session.runs) > count else None


def _extras(run: Run, parent: Run, remedy: Remedy | None, plan: Any, steps: list) -> dict:
    return {
        "parent": parent.label,
        "remedy": remedy.to_dict() if remedy is not None else None,
        "overrides": {k: _short(v) for k, v in (steps[-1][1] or {}).items()},
        "stacked": [r.code for r, _ in steps[:-1] if r is not None],
        "seed": plan.seed,
        "notes": list(dict.fromkeys(plan.notes)),
    }


def _finish(
    new: Run,
    parent: Run,
    remedy: Remedy | None,
    plan: Any,
    steps: list,
    label: str,
    prepared: Any,
    optimizer: Any,
    keep_weights: bool,
) -> None:
    new.parent = parent
    new.remedy = remedy
    new.label = label
    meta = _meta(new)
    meta.steps = steps
    base = plan.baseline
    new.extras["rerun"] = _extras(new, parent, remedy, plan, steps)
    new.extras["rerun"].update(copied_layers=prepared.copied_layers, fresh_layers=prepared.fresh_layers)
    same_start = _same(new.initial_weights, base.initial_weights)
    new.extras["rerun"]["same_starting_weights"] = same_start
    if same_start:
        new.initial_weights = base.initial_weights  # one copy for all reruns
    model = prepared.model
    meta.edits = list(_MODEL_EDITS.get(id(model), [])) if not prepared.rebuilt else []
    meta.compile = (plan.optimizer_class, dict(plan.optimizer_config), dict(plan.compile), base.optimizer_type)
    if keep_weights:
        meta.final_weights = model.get_weights()
        _MODEL_HOLDS[id(model)] = new
    plan.fit = {}  # drop references to (copied) data


def _same(a: list | None, b: list | None) -> bool:
    if a is None or b is None or len(a) != len(b):
        return False
    return all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a, b))


def _after_failure(
    before: _ModelState,
    prepared: Any,
    new: Run | None,
    parent: Run,
    remedy: Remedy | None,
    plan: Any,
    label: str,
    session: Session,
    exc: BaseException | None,
) -> Run:
    if new is None:  # failed before the fit started (compile, callbacks): record it all the same
        new = Run(index=len(session.runs), label=label, fit=parent.fit, model=parent.model)
        new.end = "error"
        new.error = (
            ErrorRecord(type(exc).__name__, str(exc)) if exc is not None else ErrorRecord("KeyboardInterrupt", "")
        )
        new.session = session
        session.runs.append(new)
        session.notify("end", new)
    new.parent = parent
    new.remedy = remedy
    new.label = label
    new.extras["rerun"] = _extras(new, parent, remedy, plan, [(remedy, {})])
    if prepared is not None and new.keras_model is not None:
        with contextlib.suppress(Exception):
            _meta(new).final_weights = new.keras_model.get_weights()
    try:
        before.put_back()
    except Exception as put_back_error:  # report, never hide the original error
        new.extras["rerun"]["put_back_error"] = f"{type(put_back_error).__name__}: {put_back_error}"
    plan.fit = {}
    if exc is not None:
        warnings.warn(
            f"The rerun {label!r} failed ({type(exc).__name__}: {exc}). It is recorded with end='error'; earlier "
            "runs are unchanged and the model was put back as it was before the rerun.",
            RerunWarning,
            stacklevel=5,
        )
    return new


# ---------------------------------------------------------------------- restore


def restore(run: Run) -> Run:
    """Put ``run``'s final weights back into the model that trained it, with that run's model changes and compile
    settings, so ``model.evaluate(...)`` reflects that run again.

    For the original run, the model is compiled again with the user's own optimizer object (its state intact). For
    a rerun, with a fresh optimizer of the rerun's configuration.

    Raises:
        RemedyError: The run's final weights were not kept (a sweep's runs, or a model retrained outside
            stallmagic before any rerun).
    """
    from .plan import Plan
    from .training import compile_model

    model = run.keras_model
    weights = final_weights(run)
    if model is None or weights is None:
        raise RemedyError(
            f"The final weights of {run.label} were not kept (a sweep's runs keep none, and an original run's are "
            "only known until its model is trained again outside stallmagic), so it cannot be restored."
        )
    meta = _meta(run)
    _track(model)
    _redo(model, meta.edits)
    model.set_weights(weights)
    if meta.steps and meta.compile is not None:
        root = root_of(run)
        plan = Plan.from_baseline(_baseline(root))
        plan.optimizer_class, plan.optimizer_config, plan.compile, opt_type = meta.compile
        if opt_type is not None:
            plan.baseline.optimizer_type = opt_type
        plan.fit = {}
        compile_model(model, plan)
    elif not meta.steps and id(model) in _MODEL_HOLDS:
        base = _baseline(run)
        if base.original_optimizer is not None:
            args = {k: v for k, v in base.compile.items() if k != "optimizer"}
            model.compile(optimizer=base.original_optimizer, **args)
    _MODEL_HOLDS[id(model)] = run
    return run


# ---------------------------------------------------------------------- compare


def _metric_for(runs: Sequence[Run], metric: str | None) -> tuple[str | None, str | None, bool]:
    from ..diagnosis.signals import resolve_metric

    for run in runs:
        if run.logs:
            choice = resolve_metric(run.logs, metric)
            return choice.train_key, choice.val_key, choice.higher_is_better
    return None, None, True


def _best(values: Sequence[float], higher: bool) -> tuple[float | None, int | None]:
    arr = np.asarray(values, dtype=float)
    finite = np.flatnonzero(np.isfinite(arr))
    if not len(finite):
        return None, None
    i = finite[np.argmax(arr[finite])] if higher else finite[np.argmin(arr[finite])]
    return float(arr[i]), int(i)


def _last(values: Sequence[float]) -> float | None:
    arr = np.asarray(values, dtype=float)
    finite = arr[np.isfinite(arr)]
    return float(finite[-1]) if len(finite) else None


@dataclass
class Comparison:
    """Runs side by side: best validation metric and its epoch, final train/validation gap, epochs, wall time.

    Attributes:
        metric: The validation key compared (``val_accuracy``, else ``val_loss``).
        higher_is_better: Whether a larger value of ``metric`` is better.
        rows: One dict per run: ``label``, ``remedy`` (title, ``None`` for an original or unchanged rerun),
            ``remedy_code``, ``parent``, ``metric``, ``best`` and ``best_epoch`` (1-based), ``delta`` (best minus
            the parent's best, signed so that positive is better), ``final_gap`` (how much better the training
            metric is than validation at the last epoch), ``epochs``, ``wall_time`` (s), ``end``, ``error``.
    """

    metric: str | None
    higher_is_better: bool
    rows: list[dict]

    def best(self) -> dict | None:
        """The row with the best validation metric."""
        scored = [r for r in self.rows if r["best"] is not None]
        if not scored:
            return None
        return (max if self.higher_is_better else min)(scored, key=lambda r: r["best"])

    def to_dict(self) -> dict:
        return {"metric": self.metric, "higher_is_better": self.higher_is_better, "rows": jsonable(self.rows)}

    def __str__(self) -> str:
        if not self.rows:
            return "No runs to compare."
        head = ["run", "remedy", f"best {self.metric}", "epoch", "vs parent", "gap", "epochs", "time", "end"]
        body = []
        for r in self.rows:
            body.append(
                [
                    r["label"],
                    r["remedy"] or "-",
                    "-" if r["best"] is None else f"{r['best']:.4f}",
                    "-" if r["best_epoch"] is None else str(r["best_epoch"]),
                    "" if r["delta"] is None else f"{r['delta']:+.4f}",
                    "-" if r["final_gap"] is None else f"{r['final_gap']:+.3f}",
                    str(r["epochs"]),
                    f"{r['wall_time']:.1f}s",
                    r["end"],
                ]
            )
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [head, *body]]
        lines.insert(1, "  ".join("-" * w for w in widths))
        best = self.best()
        if best is not None and len(self.rows) > 1:
            lines.append(f"Best: {best['label']} ({self.metric} {best['best']:.4f} at epoch {best['best_epoch']}).")
        return "\n".join(lines)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))


def compare(session: Session, *, metric: str | None = None) -> Comparison:
    """Compare the runs of ``session`` (see :class:`Comparison`).

    Args:
        session: The session whose runs to compare.
        metric: The metric to compare on (``"accuracy"``, ``"auc"``, ``"loss"``; default: the first accuracy-like
            metric the runs logged, else the loss). Its validation value is compared.
    """
    runs = list(session.runs)
    train_key, val_key, higher = _metric_for(runs, metric)
    rows: list[dict] = []
    best_of: dict[int, float | None] = {}
    for run in runs:
        values = run.logs.get(val_key, []) if val_key else []
        best, at = _best(values, higher)
        best_of[id(run)] = best
        gap = None
        if train_key and val_key and run.logs.get(train_key) and values:
            t, v = _last(run.logs[train_key]), _last(values)
            if t is not None and v is not None:
                gap = (t - v) if higher else (v - t)
        parent = run.parent
        delta = None
        if parent is not None and best is not None and best_of.get(id(parent)) is not None:
            delta = (best - best_of[id(parent)]) * (1 if higher else -1)
        epoch = None
        if at is not None:
            epoch = (run.epochs[at] + 1) if at < len(run.epochs) else at + 1
        remedy = run.remedy
        overrides = (run.extras.get("rerun") or {}).get("overrides") or {}
        title = remedy.title if isinstance(remedy, Remedy) else None
        if overrides:
            title = ", ".join([*([title] if title else []), *(f"{k}={v}" for k, v in overrides.items())])
        rows.append(
            {
                "label": run.label,
                "remedy": title,
                "remedy_code": remedy.code if isinstance(remedy, Remedy) else None,
                "parent": parent.label if parent is not None else None,
                "metric": val_key,
                "best": best,
                "best_epoch": epoch,
                "delta": delta,
                "final_gap": gap,
                "epochs": run.epochs_done,
                "wall_time": float(run.wall_time),
                "end": run.end,
                "error": f"{run.error.type}: {run.error.message}" if run.error is not None else None,
            }
        )
    return Comparison(metric=val_key, higher_is_better=higher, rows=rows)


# ---------------------------------------------------------------------- sweep


@dataclass
class SweepResult:
    """A grid of reruns, GridSearchCV-style: each configuration's validation score, mean +/- std over folds.

    Build it with :func:`sweep` (or ``SweepResult.prepare(run, grid, cv)`` then ``.run()`` to keep a handle for
    :meth:`stop` from another thread, e.g. a Stop button).

    Attributes:
        grid: The grid as given.
        cv: ``None`` (each configuration trained once, scored on the run's own validation data) or a description
            of the folds.
        metric: The validation key scored; ``higher_is_better`` says which way is better.
        rows: One dict per finished configuration: ``params``, ``scores`` (final-epoch validation value per fold),
            ``mean``, ``std``, ``best_scores`` (best epoch per fold), ``mean_best``, ``epochs``, ``wall_time``,
            ``errors``, ``rank`` (1 = best mean).
        total: Number of configurations in the grid.
        stopped: True when the sweep ended before the whole grid ran (``stop()`` or KeyboardInterrupt).
        runs: The Runs trained (kept in their own session, not the user's; their final weights are not kept).
    """

    grid: dict
    cv: str | None
    metric: str | None
    higher_is_better: bool
    total: int
    rows: list[dict] = field(default_factory=list)
    stopped: bool = False
    runs: list[Run] = field(default_factory=list)
    _source: Run | None = field(default=None, repr=False)
    _configs: list = field(default_factory=list, repr=False)
    _splits: Any = field(default=None, repr=False)
    _stop: bool = field(default=False, repr=False)

    # ------------------------------------------------------------------ results

    @property
    def best(self) -> dict | None:
        """The finished configuration with the best mean score."""
        scored = [r for r in self.rows if r["mean"] is not None]
        if not scored:
            return None
        return (max if self.higher_is_better else min)(scored, key=lambda r: r["mean"])

    @property
    def best_params(self) -> dict | None:
        best = self.best
        return dict(best["params"]) if best is not None else None

    @property
    def best_score(self) -> float | None:
        best = self.best
        return best["mean"] if best is not None else None

    def best_remedy(self) -> Remedy | None:
        """The best configuration as one remedy to rerun or keep, when it maps onto one (optimizer and/or
        learning rate, batch size, epochs); else ``None``."""
        params = self.best_params
        if not params:
            return None
        if isinstance(params.get("remedy"), Remedy) and len(params) == 1:
            return params["remedy"]
        if set(params) <= {"optimizer", "learning_rate"} and isinstance(params.get("optimizer"), str):
            from .._internal.optimizers import USUAL_LR

            name = _optimizer_class_name(params["optimizer"])
            lr = params.get("learning_rate") or USUAL_LR.get(name, 1e-3)
            return Remedy("optimizer", {"optimizer": name, "learning_rate": lr})
        if set(params) == {"learning_rate"}:
            return Remedy("learning_rate", {"learning_rate": params["learning_rate"]})
        if set(params) == {"batch_size"}:
            return Remedy("batch_size", {"batch_size": params["batch_size"]})
        if set(params) == {"epochs"}:
            return Remedy("epochs", {"epochs": params["epochs"]})
        return None

    def to_dict(self) -> dict:
        return {
            "grid": {
                k: [_short(v) if not isinstance(v, (int, float, str)) else v for v in vs] for k, vs in self.grid.items()
            },
            "cv": self.cv,
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "total": self.total,
            "done": len(self.rows),
            "stopped": self.stopped,
            "rows": [_row_json(r) for r in self.rows],
            "best_params": {k: _short(v) for k, v in (self.best_params or {}).items()},
            "best_score": self.best_score,
        }

    def __str__(self) -> str:
        head = (
            f"Sweep of {self.total} configuration(s) on {self.metric}"
            + (f", {self.cv}" if self.cv else ", scored on the run's validation data")
            + (f" (stopped after {len(self.rows)})" if self.stopped else "")
        )
        lines = [head]
        for r in sorted(self.rows, key=lambda r: r["rank"] or 10**9):
            score = "failed" if r["mean"] is None else f"{r['mean']:.4f}"
            if r["mean"] is not None and r["std"] is not None and len(r["scores"]) > 1:
                score += f" +/- {r['std']:.4f}"
            params = ", ".join(f"{k}={_short(v)}" for k, v in r["params"].items())
            lines.append(f"  {r['rank'] or '-':>3}  {score:<18} {params}")
        if self.best is not None:
            params = ", ".join(f"{k}={_short(v)}" for k, v in self.best["params"].items())
            lines.append(f"Best: {params} ({self.metric} {self.best['mean']:.4f}).")
        return "\n".join(lines)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    # ------------------------------------------------------------------ running

    def stop(self) -> None:
        """Stop after the epoch in progress; finished configurations are kept (the running one is dropped)."""
        self._stop = True

    @classmethod
    def prepare(
        cls, run: Run, grid: Mapping[str, Sequence[Any]], cv: Any = None, *, metric: str | None = None
    ) -> SweepResult:
        """Check the grid and the folds (raising :class:`RemedyError` on a mistake) without training anything."""
        configs, grid = _configs(grid)
        for config in configs:  # every configuration must build before anything trains
            remedy, overrides = _split_config(config)
            _build_plan(run, [*_meta(run).steps, (remedy, overrides)])
        train_key, val_key, higher = _metric_for([run], metric)
        if cv is not None and val_key is None and train_key is not None:
            val_key = f"val_{train_key}"
        splits, cv_text = _folds(run, cv)
        if val_key is None:
            raise RemedyError(
                f"{run.label} logged no validation metric, so a sweep without cv has nothing to score; pass cv=5."
            )
        return cls(
            grid=grid,
            cv=cv_text,
            metric=val_key,
            higher_is_better=higher,
            total=len(configs),
            _source=run,
            _configs=configs,
            _splits=splits,
        )

    def run(self, *, progress: Callable[[int, int, dict], Any] | None = None) -> SweepResult:
        """Train every configuration (every fold), calling ``progress(done, total, row)`` after each one."""
        source = self._source
        if source is None:
            raise RemedyError("This SweepResult was not prepared from a run; use stallmagic.sweep(run, grid).")
        session = Session(label=f"sweep of {source.label}", snapshot_weights=True)
        stopper = _StopCallback(self)
        model = _baseline(root_of(source)).model
        before = _ModelState.of(model)  # the sweep leaves the model as it found it
        try:
            for config in self._configs[len(self.rows) :]:
                if self._stop:
                    break
                row = self._run_config(config, session, stopper)
                if row is None:  # stopped mid-configuration
                    break
                self.rows.append(row)
                self._rank()
                if progress is not None:
                    progress(len(self.rows), self.total, _row_json(row))
        except KeyboardInterrupt:
            self._stop = True
        finally:
            before.put_back()
        self.stopped = len(self.rows) < self.total
        self._rank()
        return self

    def _run_config(self, config: dict, session: Session, stopper: Any) -> dict | None:
        remedy, overrides = _split_config(config)
        folds = self._splits if self._splits is not None else [None]
        scores, bests, epochs, errors = [], [], [], []
        start = time.perf_counter()
        for i, fold in enumerate(folds):
            label = f"sweep {', '.join(f'{k}={_short(v)}' for k, v in config.items())}"
            if fold is not None:
                label += f" fold {i + 1}"
            run = _rerun(
                self._source,
                remedy,
                overrides,
                session=session,
                keep_weights=False,
                label=label,
                extra_callbacks=[stopper],
                fold_data=fold,
                put_back=False,
            )
            if run.initial_weights is not _baseline(root_of(self._source)).initial_weights:
                run.initial_weights = None  # a sweep keeps no per-run snapshots (memory)
            self.runs.append(run)
            if self._stop:
                return None
            if run.error is not None:
                errors.append(f"{run.error.type}: {run.error.message}")
                continue
            values = run.logs.get(self.metric, [])
            final = _last(values)
            best, _ = _best(values, self.higher_is_better)
            if final is not None:
                scores.append(final)
                bests.append(best)
            epochs.append(run.epochs_done)
        mean = float(np.mean(scores)) if scores else None
        return {
            "params": dict(config),
            "scores": scores,
            "mean": mean,
            "std": float(np.std(scores)) if scores else None,
            "best_scores": bests,
            "mean_best": float(np.mean(bests)) if bests else None,
            "epochs": epochs,
            "wall_time": time.perf_counter() - start,
            "errors": errors,
            "rank": None,
        }

    def _rank(self) -> None:
        scored = [r for r in self.rows if r["mean"] is not None]
        scored.sort(key=lambda r: r["mean"], reverse=self.higher_is_better)
        for i, r in enumerate(scored, 1):
            r["rank"] = i


def _param_json(value: Any) -> Any:
    if isinstance(value, Remedy):
        return value.to_dict()
    return value if isinstance(value, (int, float, str)) or value is None else _short(value)


def _row_json(row: Mapping[str, Any]) -> dict:
    out = dict(row)
    out["params"] = {k: _param_json(v) for k, v in row["params"].items()}
    return jsonable(out)


def _StopCallback(result: SweepResult) -> Any:
    import keras

    class StopSweep(keras.callbacks.Callback):
        """Ends the fit at the end of the current epoch once the sweep was asked to stop (epoch hook only)."""

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if result._stop:
                self.model.stop_training = True

    return StopSweep()


def _optimizer_class_name(name: str) -> str:
    return {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD", "rmsprop": "RMSprop", "nadam": "Nadam"}.get(
        name.lower(), name
    )


def _configs(grid: Mapping[str, Sequence[Any]]) -> tuple[list[dict], dict]:
    if not isinstance(grid, Mapping) or not grid:
        raise RemedyError(
            "The 'grid' argument of sweep must be a non-empty dict such as {'optimizer': ['adam', 'sgd'], "
            f"'learning_rate': [1e-3, 1e-2]}}. Got {grid!r} instead."
        )
    clean: dict[str, list] = {}
    for key, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) == 0:
            raise RemedyError(
                f"The grid entry {key!r} of sweep must be a non-empty list of values. Got {values!r} instead."
            )
        clean[key] = list(values)
    keys = list(clean)
    configs = [dict(zip(keys, combo)) for combo in itertools.product(*(clean[k] for k in keys))]
    return configs, clean


def _split_config(config: Mapping[str, Any]) -> tuple[Remedy | None, dict]:
    overrides = dict(config)
    remedy = overrides.pop("remedy", None)
    if remedy is not None and not isinstance(remedy, Remedy):
        remedy = _as_remedy(remedy)
    if isinstance(overrides.get("optimizer"), str):
        overrides["optimizer"] = overrides["optimizer"]
    # a learning rate in the same configuration as an optimizer applies to that optimizer
    if "optimizer" in overrides and "learning_rate" in overrides:
        lr = overrides.pop("learning_rate")
        ordered = {"optimizer": overrides.pop("optimizer"), "learning_rate": lr}
        overrides = {**ordered, **overrides}
    return remedy, overrides


def _folds(run: Run, cv: Any) -> tuple[list | None, str | None]:
    """The fit arguments of each fold (training rows of the run only), and a description."""
    if cv is None:
        return None, None
    from sklearn.model_selection import KFold, StratifiedKFold

    from ..diagnosis.signals import class_values, label_format
    from .data import take_rows
    from .plan import Plan

    plan = Plan.from_baseline(_baseline(root_of(run)))
    plan.require_arrays("Cross-validation")
    x, y = plan.training_arrays()
    sw = plan.fit.get("sample_weight")
    if sw is not None and plan.fit.get("validation_split"):
        sw = sw[: len(np.asarray(y))]
    target = np.asarray(y if not isinstance(y, (list, tuple, Mapping)) else next(iter(
        y.values() if isinstance(y, Mapping) else y)))  # fmt: skip
    labels = None
    fmt = label_format(target)
    if fmt in ("sparse", "onehot"):
        labels = class_values(target, fmt)
    seed = plan.seed
    if isinstance(cv, bool) or (isinstance(cv, int) and cv < 2):
        raise RemedyError(
            f"The 'cv' argument of sweep must be an int >= 2 or a scikit-learn splitter. Got {cv!r} instead."
        )
    if isinstance(cv, int):
        if labels is not None and np.unique(labels, return_counts=True)[1].min() >= cv:
            splitter, text = StratifiedKFold(cv, shuffle=True, random_state=seed), f"{cv}-fold stratified CV"
        else:
            splitter, text = KFold(cv, shuffle=True, random_state=seed), f"{cv}-fold CV"
    elif hasattr(cv, "split"):
        splitter, text = cv, type(cv).__name__
    else:
        raise RemedyError(
            f"The 'cv' argument of sweep must be an int >= 2 or a scikit-learn splitter. Got {cv!r} instead."
        )
    n = len(target)
    folds = []
    for tr, va in splitter.split(np.zeros(n), labels if labels is not None else None):
        fold = {"x": take_rows(x, tr), "y": take_rows(y, tr), "validation_data": (take_rows(x, va), take_rows(y, va))}
        if sw is not None:
            fold["sample_weight"] = take_rows(sw, tr)
        folds.append(fold)
    return folds, f"{text} on the {n} training rows"


def sweep(
    run: Run,
    grid: Mapping[str, Sequence[Any]],
    cv: Any = None,
    *,
    progress: Callable[[int, int, dict], Any] | None = None,
    metric: str | None = None,
) -> SweepResult:
    """Rerun ``run`` over a grid of settings, GridSearchCV-style, and report mean +/- std and the best.

    The Keras 3 replacement for ``GridSearchCV(KerasClassifier(...))`` (``keras.wrappers.scikit_learn`` is gone):
    every configuration is a fair rerun (same starting weights, data, seed; fresh optimizer).

    Args:
        run: The run to sweep (its remedies, if it is a rerun, are kept).
        grid: Setting -> list of values, e.g. ``{"optimizer": ["adam", "sgd", "rmsprop"], "learning_rate": [1e-3,
            1e-2]}``. Keys: anything ``run.rerun(**overrides)`` accepts, and ``"remedy"`` (a list of Remedy or
            ``None``). A ``learning_rate`` applies to the ``optimizer`` of the same configuration.
        cv: ``None`` (each configuration trained once, scored on the run's validation data), an int k (k-fold on
            the run's *training* rows, stratified for class labels, shuffled with the run's seed), or a
            scikit-learn splitter with ``split(x, y)``.
        progress: Called as ``progress(done, total, row)`` after each configuration (``row`` as in ``rows``).
        metric: The metric to score (default: the first accuracy-like metric, else the loss); its validation
            value at the *last* epoch is the score (as GridSearchCV scores the fitted model), the best epoch's is
            reported too.

    Returns:
        A :class:`SweepResult`. Press Interrupt (KeyboardInterrupt) or call its ``stop()`` to end early: finished
        configurations are kept. The user's model is left as it was before the sweep.
    """
    return SweepResult.prepare(run, grid, cv, metric=metric).run(progress=progress)
