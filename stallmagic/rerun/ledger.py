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
  instead of tracing a new train function.

A model's entry is added when the engine first touches it (:meth:`Ledger.track`) and dropped when the model is
garbage-collected (``weakref.finalize``; a model that cannot be weakly referenced keeps its small entry until the
process ends). :meth:`Ledger.release` drops a model's holder when that is the released run.

**Runs**: one :class:`RunRecord` per run the engine read or made (what the run is in the chain of reruns, its
baseline, the final weights kept for ``restore``). It is added when the engine first asks about the run (a rerun
of it, ``final_weights(run)``, ``restore(run)``) and emptied by :meth:`Ledger.release` (which keeps only why, so a
later rerun or restore says the run was released rather than that it was never captured) or dropped with the Run.
The record is stored on the Run object, under one private attribute that only this module reads, rather than in
a table keyed by ``id(run)``: a baseline refers back to its run, so a table held by this module would keep every
run (its model, its data) alive for the whole session, while a record stored on the run is collected with it.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._internal.keras_private import compiled_with
from ..record import Run
from ..remedies.remedy import RemedyError
from .plan import Baseline

__all__ = [
    "DEFAULT_RELEASE_REASON",
    "LEDGER",
    "Ledger",
    "ModelSnapshot",
    "RunRecord",
    "final_weights",
    "release",
    "root_of",
]

#: What a rerun or restore of a released run says when whoever released it gave no reason.
DEFAULT_RELEASE_REASON = "its live state (model, data, weight snapshots) was released (stallmagic.rerun.release)"


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
        released: Why the run's live state was released (see :func:`release`), in words that end a sentence
            "<run> cannot be rerun: ..."; ``None`` while it is kept.
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

    def __init__(self) -> None:
        self._edits: dict[int, list] = {}  # id(model) -> in-place edits it carries [(obj, attr, old, new)]
        self._holders: dict[int, Run] = {}  # id(model) -> the Run whose weights it holds
        self._compiles: dict[int, tuple] = {}  # id(model) -> (weakref to the optimizer a rerun compiled, key)
        self._fresh_states: dict[int, dict] = {}  # id(model) -> {compile key: fresh optimizer variable values}

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
        model = run.keras_model
        if model is not None and self._holders.get(id(model)) is run:
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
        """The Run whose weights the model holds since a rerun or restore wrote them, or ``None``."""
        return self._holders.get(id(model))

    def hold(self, model: Any, run: Run | None) -> None:
        """Record that the model now holds ``run``'s weights (``None``: nobody's since the engine touched it)."""
        if run is None:
            self._holders.pop(id(model), None)
        else:
            self._holders[id(model)] = run

    def snapshot(self, model: Any) -> ModelSnapshot:
        """The model's state now, to put back after a failed rerun or a sweep."""
        return ModelSnapshot.of(self, model)

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
            model.compile(optimizer=self.optimizer, **args)
        self.ledger.hold(model, self.holder)


#: The process's one ledger (see the module docstring).
LEDGER = Ledger()


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
    LEDGER.release(run, reason=reason)


def root_of(run: Run) -> Run:
    """The original run a chain of reruns started from."""
    return LEDGER.root_of(run)


def final_weights(run: Run) -> list | None:
    """The weights ``run`` ended with, or ``None`` when they were not kept.

    Reruns keep theirs. For an original run: the starting weights of the next fit captured on the same model in
    the same session (its continuation), else the model's current weights as long as no rerun or restore has
    touched the model since (they are then kept).
    """
    return LEDGER.final_weights(run)
