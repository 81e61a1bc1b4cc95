"""The ledger: everything the rerun engine keeps in memory about live models and runs, in one object.

Nothing here is serialised (a Run loaded from a file has no entry, and cannot be rerun). There is one ledger per
process, :data:`LEDGER`; it is the only mutable state of :mod:`stallmagic.rerun`.

**Models**, keyed by ``id(model)``, for every model a rerun, restore or sweep touched:

* its *edits*: the in-place changes it carries now, ``[(obj, attr, old, new)]``, undone before the next rerun
  trains it as the user built it, and redone by ``restore``;
* its *holder*: the Run whose weights it holds since a rerun or restore last wrote them (while a model has no
  holder, its current weights are still the original run's final weights);
* its *compile*: the optimizer a rerun compiled it with (weakly) and the compile key, with the variable values of
  a newly built optimizer for that key, so the next rerun with the same key resets that optimizer in place
  instead of tracing a new train function;
* its *traced gradients*: the names TensorFlow registered, process-wide and for good, for the ``tf.custom_gradient``
  functions in the graphs reruns traced for it (:func:`~stallmagic._internal.keras_private.custom_gradient_names`).
  Each holds a whole traced graph, so they are dropped as soon as that graph is gone: when the engine compiles the
  model again (its train function is traced anew) and when the model is collected
  (:meth:`Ledger.drop_traced_gradients`).

A model's entry is added when the engine first touches it (:meth:`Ledger.track`) and dropped when the model is
garbage-collected (``weakref.finalize``; a model that cannot be weakly referenced keeps its small entry until the
process ends). The holder is held weakly, so an entry never keeps a rebuilt model (through its run) alive.
:meth:`Ledger.release` drops a model's holder when that is the released run.

**Runs**: one :class:`RunRecord` per run the engine read or made (what the run is in the chain of reruns, its
baseline, the final weights kept for ``restore``). It is added when the engine first asks about the run (a rerun
of it, ``final_weights(run)``, ``restore(run)``) and emptied by :meth:`Ledger.release` (which keeps only why, so a
later rerun or restore says the run was released rather than that it was never captured) or dropped with the Run.
The record is stored on the Run object, under one private attribute that only this module reads, rather than in
a table keyed by ``id(run)``: a baseline refers back to its run, so a table held by this module would keep every
run (its model, its data) alive for the whole session, while a record stored on the run is collected with it.

**The retention limit.** A rerun keeps what ``restore`` and a rerun of it need: its final weights, and the model
it trained with that model's compiled optimizer and traced train function (for a remedy that adds or resizes
layers, a whole rebuilt model: about 12 MiB each for a small MLP on TensorFlow). Kept for every rerun, that grows
without bound, so only the :attr:`Ledger.keep_reruns` most recently used reruns keep it (default
:data:`DEFAULT_KEEP_RERUNS`; :func:`set_keep_reruns`, or ``%config StallMagics.keep_reruns`` in a notebook). A
rerun is used when it is made, rerun or restored. Older ones are *released* (:meth:`Ledger.retire`): their Run
drops its model, data, fit call and weights, and their record its weights, edits and compile settings; their
records, curves and reports stay, and ``restore`` or a rerun of them raises one sentence that says why. Original
runs are not counted: the notebook's ``keep_cells`` bounds them. A sweep's runs are released as soon as they are
scored (a sweep keeps no weights).
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._internal.keras_private import compiled_with, forget_custom_gradients
from .._internal.text import safe_repr
from ..record import Run
from ..remedies.remedy import RemedyError
from .plan import Baseline

__all__ = [
    "DEFAULT_KEEP_RERUNS", "DEFAULT_RELEASE_REASON", "LEDGER", "Ledger", "ModelSnapshot", "RunRecord", "check_run",
    "final_weights", "release", "root_of", "set_keep_reruns",
]  # fmt: skip

#: What a rerun or restore of a released run says when whoever released it gave no reason.
DEFAULT_RELEASE_REASON = "its live state (model, data, weight snapshots) was released (stallmagic.rerun.release)"

#: How many of the most recently used reruns keep their model, weights and optimizer by default (see the module
#: docstring): enough to compare a few remedies and restore the best, while a rebuilt model costs memory each.
DEFAULT_KEEP_RERUNS = 5

#: The Run fields a released rerun drops: the live objects (its model, which may be a rebuilt one with its optimizer
#: and traced train function; its data, which remedies may have copied; the fit call, whose callbacks hold the
#: model; its weight snapshots). Its records (curves, fit and model records, report) and links stay.
_LIVE_FIELDS = ("keras_model", "data", "fit_call", "initial_weights", "final_weights")


@dataclass
class RunRecord:
    """What the engine keeps about one run (see the module docstring for its lifetime).

    Attributes:
        steps: ``[(Remedy | None, overrides)]`` that lead from the original run to this one; empty for an
            original run.
        final_weights: The weights the run ended with, when kept (for ``restore``).
        baseline: The :class:`~.plan.Baseline` of an original run, read once on its first rerun.
        edits: The in-place changes ``[(obj, attr, old, new)]`` this run's model carried (redone by ``restore``).
        compile: ``(optimizer_class, optimizer_config, compile args, optimizer type)`` to recompile on ``restore``.
        released: Why the run's live state was released (:meth:`Ledger.release`, or :meth:`Ledger.retire` to bound
            memory), in words that end the sentence "<run> cannot be rerun: ..."; ``None`` while it is kept.
    """

    steps: list = field(default_factory=list)
    final_weights: list | None = None
    baseline: Baseline | None = None
    edits: list = field(default_factory=list)
    compile: tuple | None = None
    released: str | None = None


class Ledger:
    """Live models and runs the rerun engine has touched, and their snapshots (see the module docstring)."""

    #: The Run attribute holding its :class:`RunRecord` (outside the Run's dataclass fields, never serialised).
    RUN_ATTR = "_stallmagic_rerun"

    def __init__(self, keep_reruns: int = DEFAULT_KEEP_RERUNS) -> None:
        self._edits: dict[int, list] = {}  # id(model) -> in-place edits it carries [(obj, attr, old, new)]
        self._holders: dict[int, weakref.ref] = {}  # id(model) -> (weakly) the Run whose weights it holds
        self._compiles: dict[int, tuple] = {}  # id(model) -> (weakref to the optimizer a rerun compiled, key)
        self._fresh_states: dict[int, dict] = {}  # id(model) -> {compile key: fresh optimizer variable values}
        self._gradients: dict[int, set] = {}  # id(model) -> names of the custom gradients its traced graphs registered
        self._live: list[weakref.ref] = []  # reruns that keep their live state, least recently used first
        self._keep_reruns = _checked_limit(keep_reruns)

    # ------------------------------------------------------------------ the retention limit

    @property
    def keep_reruns(self) -> int:
        """How many of the most recently used reruns keep their model, weights and optimizer (see the module
        docstring); setting it releases the ones beyond the new limit at once."""
        return self._keep_reruns

    @keep_reruns.setter
    def keep_reruns(self, value: int) -> None:
        self._keep_reruns = _checked_limit(value)
        self._trim()

    def live_reruns(self) -> list[Run]:
        """The reruns that keep their live state now, least recently used first."""
        runs = [ref() for ref in self._live]
        return [run for run in runs if run is not None]

    def retain(self, run: Run) -> None:
        """Count ``run`` (a rerun that keeps its live state) as the most recently used, and release the least
        recently used reruns beyond :attr:`keep_reruns`."""
        self._live = [ref for ref in self._live if ref() is not None and ref() is not run]
        self._live.append(weakref.ref(run))
        self._trim()

    def touch(self, run: Run) -> None:
        """``run`` is being used (rerun or restored): it becomes the most recently used, if it is one of the reruns
        kept (an original run is not counted)."""
        if any(ref() is run for ref in self._live):
            self.retain(run)

    def _trim(self) -> None:
        live = self.live_reruns()
        for run in live[: max(0, len(live) - self._keep_reruns)]:
            self.retire(
                run,
                f"it was released to bound memory (only the {self._keep_reruns} most recently used reruns keep their "
                "models and weights: stallmagic.rerun.set_keep_reruns(n), or %config StallMagics.keep_reruns = n in "
                "a notebook), so it can no longer be restored or rerun; its records and curves stay",
            )

    def retire(self, run: Run, reason: str) -> None:
        """Release what ``run`` keeps alive (see the module docstring), remembering ``reason``: words that end the
        sentence "<run> cannot be rerun: ..." which ``restore`` and a rerun of it raise. Its model's ledger entry
        goes when the model is collected."""
        self._live = [ref for ref in self._live if ref() is not None and ref() is not run]
        record = self.record(run)
        record.final_weights = None
        record.edits = []
        record.compile = None
        record.baseline = None
        record.released = reason
        for name in _LIVE_FIELDS:
            setattr(run, name, None)

    def check_live(self, run: Run, *, action: str = "rerun") -> None:
        """Raise :class:`RemedyError` saying why when ``run`` was released (before anything is touched): "<run>
        cannot be <action>: <the reason it was released>."."""
        record = run.__dict__.get(self.RUN_ATTR)
        if record is not None and record.released:
            raise RemedyError(f"{run.label} cannot be {action}: {record.released}.")

    # ------------------------------------------------------------------ runs

    def record(self, run: Run) -> RunRecord:
        """The run's record, added (empty) the first time it is asked for."""
        record = run.__dict__.get(self.RUN_ATTR)
        if record is None:
            record = run.__dict__[self.RUN_ATTR] = RunRecord()
        return record

    def release(self, run: Run, *, reason: str = DEFAULT_RELEASE_REASON) -> None:
        """Empty the run's record (its baseline, which holds the model and the fit arguments, its final weights and
        edits), keeping only ``reason``, and drop its model's holder entry when that is this run. The Run itself is
        left as it is."""
        run.__dict__[self.RUN_ATTR] = RunRecord(released=reason)
        self._live = [ref for ref in self._live if ref() is not None and ref() is not run]
        model = run.keras_model
        if model is not None and self.holder(model) is run:
            del self._holders[id(model)]

    def released(self, run: Run) -> str | None:
        """Why the run's live state was released (the ``reason`` given to :meth:`release`), or ``None``."""
        record = run.__dict__.get(self.RUN_ATTR)
        return record.released if record is not None else None

    def root_of(self, run: Run) -> Run:
        """The original run a chain of reruns started from."""
        seen = 0
        while run.parent is not None and self.RUN_ATTR in run.__dict__ and self.record(run).steps:
            run = run.parent
            seen += 1
            if seen > 10_000:  # pragma: no cover - a cycle would be a bug elsewhere
                break
        return run

    def baseline(self, root: Run) -> Baseline:
        """The baseline of an original run, read on first use and kept in its record.

        Raises:
            RemedyError: The run cannot be rerun; for a released run whose live state is gone, the message gives
                the reason it was released (not the guesses that fit a run loaded from a file).
        """
        record = self.record(root)
        if record.baseline is None:
            try:
                record.baseline = Baseline.of(root)
            except RemedyError:
                if record.released is None:
                    raise
                raise RemedyError(f"{root.label} cannot be rerun: {record.released}.") from None
        return record.baseline

    def final_weights(self, run: Run) -> list | None:
        """See :func:`final_weights`."""
        record = self.record(run)
        if record.final_weights is not None:
            return record.final_weights
        if run.final_weights is not None:  # recorded by the capture engine at the end of the fit
            return run.final_weights
        model = run.keras_model
        if model is None:
            return None
        if run.session is not None and run in run.session.runs:
            later = run.session.runs[run.session.runs.index(run) + 1 :]
            for nxt in later:
                if nxt.keras_model is model and not self.record(nxt).steps and nxt.initial_weights is not None:
                    record.final_weights = nxt.initial_weights
                    return record.final_weights
        if id(model) not in self._holders and run.finished:
            record.final_weights = model.get_weights()
            return record.final_weights
        return None

    # ------------------------------------------------------------------ models: edits and holders

    def track(self, model: Any) -> None:
        """Add the model's entry (no edits yet) unless it has one, to be dropped when the model is collected."""
        key = id(model)
        if key in self._edits:
            return
        self._edits[key] = []
        with contextlib.suppress(TypeError):  # not weak-referenceable: entries stay until the process ends (small)
            weakref.finalize(model, self._forget, key)

    def _forget(self, key: int) -> None:
        forget_custom_gradients(self._gradients.pop(key, ()))  # the model is gone, and with it its traced graphs
        for table in (self._edits, self._holders, self._compiles, self._fresh_states):
            table.pop(key, None)

    def edits(self, model: Any) -> list:
        """A copy of the in-place edits the model carries now."""
        return list(self._edits.get(id(model), []))

    def set_edits(self, model: Any, edits: list) -> None:
        """Record the in-place edits ``[(obj, attr, old, new)]`` a rerun just made on the model."""
        self._edits[id(model)] = edits

    def revert(self, model: Any) -> list:
        """Undo the in-place edits ``model`` carries; returns them (to redo)."""
        edits = self._edits.get(id(model), [])
        for obj, attr, old, _new in reversed(edits):
            setattr(obj, attr, old)
        self._edits[id(model)] = []
        return edits

    def redo(self, model: Any, edits: list) -> None:
        """Make ``model`` carry exactly ``edits`` (undoing the ones it carries now first)."""
        self.revert(model)
        for obj, attr, _old, new in edits:
            setattr(obj, attr, new)
        self.track(model)
        self._edits[id(model)] = list(edits)

    def holder(self, model: Any) -> Run | None:
        """The Run whose weights the model holds since a rerun or restore wrote them, or ``None`` (also when that
        Run was garbage-collected; the model then still holds weights other than the original run's)."""
        ref = self._holders.get(id(model))
        return ref() if ref is not None else None

    def hold(self, model: Any, run: Run | None) -> None:
        """Record that the model now holds ``run``'s weights (``None``: nobody's since the engine touched it).

        The run is referenced weakly: a rebuilt model's run holds the model, so a strong reference here would keep
        every rebuilt model alive for as long as the process."""
        if run is None:
            self._holders.pop(id(model), None)
        else:
            self._holders[id(model)] = weakref.ref(run)

    def snapshot(self, model: Any) -> ModelSnapshot:
        """The model's state now, to put back after a failed rerun or a sweep."""
        return ModelSnapshot.of(self, model)

    # ------------------------------------------------------------------ models: traced gradients

    def add_traced_gradients(self, model: Any, names: set) -> None:
        """Record that graphs traced for ``model`` (by a rerun, a restore) registered the custom gradients ``names``."""
        if names:
            self.track(model)
            self._gradients.setdefault(id(model), set()).update(names)

    def drop_traced_gradients(self, model: Any) -> None:
        """The model's traced graphs are gone (it is about to be compiled again): drop their custom gradients."""
        forget_custom_gradients(self._gradients.pop(id(model), ()))

    # ------------------------------------------------------------------ models: compiled optimizers

    def remember_compile(self, model: Any, optimizer: Any, key: str | None) -> None:
        """A rerun compiled ``model`` with ``optimizer`` (kept weakly) for compile key ``key`` (``None``: the traced
        graph must not be reused)."""
        self._compiles[id(model)] = (weakref.ref(optimizer), key)

    def compiled(self, model: Any) -> tuple | None:
        """``(weakref to the optimizer, compile key)`` of the model's last compile by a rerun, or ``None``."""
        return self._compiles.get(id(model))

    def fresh_optimizer_state(self, model: Any, key: str, build: Callable[[], list | None]) -> list | None:
        """The variable values of a newly built optimizer for ``model`` and compile key ``key``: built once with
        ``build()`` and kept (one key per model, the last one asked for)."""
        states = self._fresh_states.setdefault(id(model), {})
        if key not in states:
            states.clear()
            states[key] = build()
        return states[key]


@dataclass
class ModelSnapshot:
    """A model's weights, compiled optimizer and compile arguments, and its ledger entries, taken before a rerun
    or a sweep so they can be put back exactly (see :meth:`Ledger.snapshot`)."""

    ledger: Ledger
    model: Any
    weights: list
    optimizer: Any
    compile: dict | None
    edits: list
    holder: Run | None

    @classmethod
    def of(cls, ledger: Ledger, model: Any) -> ModelSnapshot:
        config = compiled_with(model)
        return cls(
            ledger=ledger,
            model=model,
            weights=model.get_weights(),
            optimizer=getattr(model, "optimizer", None),
            compile=dict(config) if isinstance(config, Mapping) else None,
            edits=ledger.edits(model),
            holder=ledger.holder(model),
        )

    def put_back(self) -> None:
        """Give the model its edits, weights and compile (with the same optimizer object) back."""
        model = self.model
        self.ledger.redo(model, self.edits)
        model.set_weights(self.weights)
        if self.compile is not None and self.optimizer is not None:
            args = {k: v for k, v in self.compile.items() if k != "optimizer"}
            self.ledger.drop_traced_gradients(model)  # compiling drops the train function they were traced for
            model.compile(optimizer=self.optimizer, **args)
        self.ledger.hold(model, self.holder)


def check_run(run: Any, caller: str = "rerun") -> None:
    """Raise :class:`RemedyError` unless ``run`` is a :class:`~stallmagic.record.Run` (a str or a Session would
    otherwise fail deep inside the engine with an AttributeError); ``caller`` names the function in the message."""
    if not isinstance(run, Run):
        raise RemedyError(
            f"The 'run' argument of {caller} must be a Run (a fit captured by %%diagnose_fit or stallmagic.capture()). "
            f"Got {safe_repr(run)} instead."
        )


def _checked_limit(value: Any) -> int:
    """``value`` as the retention limit: an int >= 1 (one sentence otherwise, in the remedies' template)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"The 'keep_reruns' limit must be an int >= 1. Got {safe_repr(value)} instead.")
    return value


#: The process's one ledger (see the module docstring).
LEDGER = Ledger()


def set_keep_reruns(n: int) -> int:
    """Keep the live state (model, weights, optimizer) of the ``n`` most recently used reruns; release the others.

    The default, :data:`DEFAULT_KEEP_RERUNS`, bounds the memory reruns hold (a rerun that rebuilds the model holds a
    whole model); a larger ``n`` keeps more runs restorable. Released runs keep their records and curves. In a
    notebook, ``%config StallMagics.keep_reruns = n`` calls this.

    Returns:
        The previous limit.

    Raises:
        ValueError: ``n`` is not an int >= 1.
    """
    previous = LEDGER.keep_reruns
    LEDGER.keep_reruns = n
    return previous


def release(run: Run, *, reason: str = DEFAULT_RELEASE_REASON) -> None:
    """Forget what the engine keeps in memory for ``run``: its baseline (which holds the model and the fit
    arguments), its final weights and its record of in-place edits. The Run itself stays. The notebook layer
    calls this when it drops an old cell's live state; the run can no longer be rerun or restored afterwards.

    Args:
        run: The run to release.
        reason: Why, in words that end the sentence "<run> cannot be rerun: ..." which a later rerun or restore
            raises once the run's model is gone (default: :data:`DEFAULT_RELEASE_REASON`). The notebook layer says
            which setting keeps more.
    """
    check_run(run, "release")
    LEDGER.release(run, reason=reason)


def root_of(run: Run) -> Run:
    """The original run a chain of reruns started from."""
    check_run(run, "root_of")
    return LEDGER.root_of(run)


def final_weights(run: Run) -> list | None:
    """The weights ``run`` ended with, or ``None`` when they were not kept.

    Reruns keep theirs. For an original run: the starting weights of the next fit captured on the same model in
    the same session (its continuation), else the model's current weights as long as no rerun or restore has
    touched the model since (they are then kept).
    """
    check_run(run, "final_weights")
    return LEDGER.final_weights(run)
