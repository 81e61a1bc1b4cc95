"""What a rerun starts from and what it will do: the :class:`Baseline` of the original run and the :class:`Plan`
remedies change.

A rerun starts from a :class:`Baseline`, what the original run was given (its fit arguments, compiled loss and
metrics, the optimizer as recorded at the start of the fit, the starting weights), and builds a :class:`Plan`
from it. Each remedy changes the Plan (:meth:`Spec.apply <stallmagic.remedies.remedy.Spec.apply>`): a fit
argument, the optimizer's class or configuration, the loss, the data (without ever mutating the user's arrays),
or the model. Only then is anything done to Keras objects (:mod:`.surgery`, :mod:`.training`), so a remedy that
does not fit the run fails before the user's model is touched.

Keras is imported inside the functions that need it.
"""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._internal.keras_names import FIT_PARAMETERS
from .._internal.keras_private import compiled_with, user_random_seed
from .._internal.optimizers import USUAL_LR
from .._internal.text import safe_repr
from ..record import Run
from ..remedies.remedy import RemedyError
from .overrides import check_override

#: Fit arguments a rerun override may set: every parameter of ``keras.Model.fit``.
FIT_KEYS = FIT_PARAMETERS
#: Compile-side overrides.
COMPILE_KEYS = ("optimizer", "learning_rate", "loss", "metrics", "clipnorm", "momentum", "weight_decay")

# ---------------------------------------------------------------------- the baseline


@dataclass
class Baseline:
    """What the original run was given, kept once per original run so every rerun starts from the same place.

    Attributes:
        run: The original (root) run.
        model: The user's model object.
        style: ``"sequential"``, ``"functional"`` or ``"subclassed"``.
        initial_weights: The weights at the start of the original fit.
        fit: The original fit arguments by name, as given (``x``, ``y``, ``epochs``, ...).
        optimizer_class: The optimizer's class name, from the run's record (start of the fit).
        optimizer_config: The optimizer's configuration at the start of the fit (learning rate before any schedule
            or callback changed it).
        optimizer_type: The optimizer class itself (so custom optimizers rebuild too).
        original_optimizer: The optimizer object the user compiled with (kept to put back on ``restore``).
        compile: ``loss``, ``metrics``, ``loss_weights``, ``weighted_metrics``, ``run_eagerly``,
            ``steps_per_execution``, ``jit_compile`` as given to ``compile``.
        seed: The seed reruns set (the user's Keras seed when one was set, else 0).
        distribution: The ``tf.distribute`` strategy or Keras distribution the original fit ran under (``None``:
            one device); a rerun builds and trains inside its scope (:mod:`.devices`).
    """

    run: Run
    model: Any
    style: str
    initial_weights: list
    fit: dict
    optimizer_class: str
    optimizer_config: dict
    optimizer_type: Any
    original_optimizer: Any
    compile: dict
    seed: int
    distribution: Any = None

    @classmethod
    def of(cls, run: Run) -> Baseline:
        """Read the baseline of an original run (raises :class:`RemedyError` when it cannot be rerun)."""
        model = run.keras_model
        if model is None or run.fit_call is None:
            raise RemedyError(
                f"{run.label} holds no live model or fit call (it was loaded from a file, or not captured in this "
                "process), so it cannot be rerun."
            )
        if run.initial_weights is None:
            why = run.extras.get("initial_weights", "the capture kept no starting weights (snapshot_weights=False)")
            raise RemedyError(f"{run.label} cannot be rerun fairly: {why}.")
        if run.model is None:
            raise RemedyError(f"{run.label} has no model record (its fit failed before Keras built the model).")
        fit = bind_fit_arguments(run.fit_call)
        record = run.model.optimizer or {}
        live = getattr(model, "optimizer", None)
        name = record.get("class_name") or (type(live).__name__ if live is not None else "Adam")
        optimizer_type = type(live) if live is not None and type(live).__name__ == name else None
        return cls(
            run=run,
            model=model,
            style=run.model.style,
            initial_weights=run.initial_weights,
            fit=fit,
            optimizer_class=name,
            optimizer_config=dict(record.get("config") or {}),
            optimizer_type=optimizer_type,
            original_optimizer=live,
            compile=compile_arguments(model, run),
            seed=recorded_seed(run),
            distribution=run.distribution,
        )


def check_rereadable(base: Baseline, steps: Sequence[tuple[Any, Mapping[str, Any]]]) -> None:
    """Raise :class:`RemedyError` when the rerun would read a Python generator again, before anything reads it.

    A generator yields each batch once: the original fit (or an earlier rerun given it as an override) consumed
    it, so a rerun would advance an infinite one (other batches: not the same data) or find a finite one
    exhausted (an ``error`` run). Only a generator given to this very rerun (the last step's ``x=`` or
    ``validation_data=``) is fresh. Arrays, tf.data pipelines and PyDatasets are read again from their start.
    """
    from ..capture.snapshot import data_kind
    from ..remedies.specs.availability import one_shot_reason

    for key, what in (("x", "training data"), ("validation_data", "validation data")):
        value, fresh = base.fit.get(key), False
        for i, (_remedy, overrides) in enumerate(steps):
            if overrides and key in overrides:
                value, fresh = overrides[key], i == len(steps) - 1
        if not fresh and data_kind(value) == "generator":
            raise RemedyError(
                f"{base.run.label} cannot be rerun: {one_shot_reason(what)} (or give the rerun a new generator: "
                f"{key}=...)."
            )


def recorded_seed(run: Run) -> int:
    """The seed the user had set when the run's fit started (recorded by the capture engine), else the one set
    now, else 0."""
    seed = run.extras.get("seed")
    return seed if isinstance(seed, int) else user_seed()


def user_seed() -> int:
    """The seed the user gave ``keras.utils.set_random_seed`` (reruns set it again), else 0.

    0 when none was set or this Keras cannot say, so a rerun is still seeded and repeats itself.
    """
    seed = user_random_seed()
    return seed if seed is not None else 0


def bind_fit_arguments(fit_call: Mapping[str, Any]) -> dict:
    """The fit call's arguments by name (positional ``x``, ``y`` named), exactly as given, defaults left out."""
    from ..capture import original_fit

    signature = inspect.signature(original_fit())
    bound = signature.bind(None, *fit_call.get("args", ()), **fit_call.get("kwargs", {}))
    arguments = dict(bound.arguments)
    arguments.pop(next(iter(signature.parameters)), None)  # self
    extra = arguments.pop("kwargs", None)
    if extra:
        arguments.update(extra)
    return arguments


def compile_arguments(model: Any, run: Run) -> dict:
    """What the model was compiled with (the objects themselves), from Keras's compile config.

    Falls back on the recorded loss name and metric names when Keras keeps no compile config (a model compiled
    by a custom ``compile`` override).
    """
    config = compiled_with(model)
    if config is not None:
        out = {k: v for k, v in config.items() if k != "optimizer"}
    else:
        record = run.model
        out = {"loss": record.loss.name, "metrics": list(record.metrics) or None}
    return out


# ---------------------------------------------------------------------- the plan


@dataclass
class Plan:
    """Everything one rerun will do. Remedies change it; :func:`.surgery.prepare_model` and :mod:`.training`
    carry it out.

    Attributes:
        fit: Fit arguments by name (the user's, then changed by remedies). ``verbose`` defaults to 0.
        optimizer_class / optimizer_config: The fresh optimizer to build.
        compile: ``loss``, ``metrics`` and the other compile arguments.
        callbacks: Callbacks the remedies add (the user's own are copied fresh separately).
        edits: Model changes in order, as ``(kind, params)``: ``l2``, ``dropout``, ``he_init``, ``batch_norm``,
            ``width``, ``output``, ``normalize``, ``scale_targets``.
        notes: What the rerun did beyond the obvious (layers re-initialized, callbacks left out), for the record.
        lr_search: A learning-rate range test to run before the fit (``center``, ``current``, ``remedy``), set by a
            learning-rate remedy that measures its rate (:mod:`.lr_range`); ``None`` otherwise.
        seed: The seed set before the rerun.
    """

    baseline: Baseline
    fit: dict
    optimizer_class: str
    optimizer_config: dict
    compile: dict
    seed: int
    callbacks: list = field(default_factory=list)
    edits: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    data_changed: bool = False
    lr_search: dict | None = None

    @classmethod
    def from_baseline(cls, base: Baseline) -> Plan:
        fit = dict(base.fit)
        fit["verbose"] = 0
        return cls(
            baseline=base,
            fit=fit,
            optimizer_class=base.optimizer_class,
            optimizer_config=copy.deepcopy(base.optimizer_config),
            compile=dict(base.compile),
            seed=base.seed,
        )

    # ------------------------------------------------------------------ reading the run

    @property
    def run(self) -> Run:
        return self.baseline.run

    @property
    def style(self) -> str:
        return self.baseline.style

    @property
    def data_kind(self) -> str:
        from ..capture.snapshot import data_kind

        return data_kind(self.fit.get("x")) or "none"

    def require_arrays(self, what: str) -> None:
        """Raise unless the training data are in-memory arrays (a tf.data pipeline cannot be re-split here)."""
        kind = self.data_kind
        if kind != "arrays":
            raise RemedyError(
                f"{what} needs the training data as arrays, but this fit reads them from a {kind} input; apply the "
                "change where the pipeline is built."
            )
        vd = self.fit.get("validation_data")
        if vd is not None and not isinstance(vd, (list, tuple)):
            raise RemedyError(f"{what} needs validation_data as arrays (x, y), not a {type(vd).__name__}.")

    def split(self) -> None:
        """Turn ``validation_split`` into explicit ``validation_data`` (the same rows Keras would take).

        Keras trains on rows ``[0, split_at)`` and validates on ``[split_at, n)``, split_at =
        floor(n x (1 - validation_split)), before any shuffling; the arrays here are views of the user's.
        """
        fraction = float(self.fit.get("validation_split") or 0.0)
        if not fraction:
            return
        from ..capture.snapshot import n_rows
        from ..record import _slice_rows

        x, y, sw = self.fit.get("x"), self.fit.get("y"), self.fit.get("sample_weight")
        n = n_rows(x)
        at = math.floor(n * (1.0 - fraction))
        val = (_slice_rows(x, at, None), _slice_rows(y, at, None))
        if sw is not None:
            val = (*val, _slice_rows(sw, at, None))
        self.fit.update(
            x=_slice_rows(x, 0, at),
            y=_slice_rows(y, 0, at),
            validation_data=val,
            validation_split=0.0,
        )
        if sw is not None:
            self.fit["sample_weight"] = _slice_rows(sw, 0, at)

    def training_arrays(self) -> tuple[Any, Any]:
        """``(x, y)`` of the rows the rerun trains on (views while nothing changed them)."""
        from ..capture.snapshot import n_rows
        from ..record import _slice_rows

        x, y = self.fit.get("x"), self.fit.get("y")
        fraction = float(self.fit.get("validation_split") or 0.0)
        if fraction:
            at = math.floor(n_rows(x) * (1.0 - fraction))
            return _slice_rows(x, 0, at), _slice_rows(y, 0, at)
        return x, y

    def user_callbacks(self) -> list:
        cbs = self.fit.get("callbacks") or []
        return list(getattr(cbs, "callbacks", cbs))

    # ------------------------------------------------------------------ changes

    def set_learning_rate(self, value: float) -> None:
        """Set the starting learning rate; a schedule keeps its shape, scaled to start at ``value``."""
        lr = self.optimizer_config.get("learning_rate")
        if isinstance(lr, Mapping):
            inner = dict(lr.get("config") or {})
            if inner.get("initial_learning_rate"):
                inner["initial_learning_rate"] = float(value)
                self.optimizer_config["learning_rate"] = {**lr, "config": inner}
                return
            self.notes.append("The learning-rate schedule was replaced by a constant rate.")
        self.optimizer_config["learning_rate"] = float(value)

    def learning_rate(self) -> float | None:
        lr = self.optimizer_config.get("learning_rate")
        if isinstance(lr, Mapping):
            lr = (lr.get("config") or {}).get("initial_learning_rate")
        return float(lr) if isinstance(lr, (int, float)) else None

    def set_optimizer(self, name: str, config: Mapping[str, Any] | None = None) -> None:
        """Switch to a fresh optimizer of another class; gradient clipping settings carry over."""
        clipping = ("clipnorm", "clipvalue", "global_clipnorm")
        keep = {k: self.optimizer_config[k] for k in clipping if self.optimizer_config.get(k) is not None}
        self.optimizer_class = name
        self.optimizer_config = {**keep, **dict(config or {})}

    def add_callback(self, callback: Any, *, replaces: str | None = None) -> None:
        """Add a callback; ``replaces`` drops the user's callbacks of that class name (e.g. an older EarlyStopping)."""
        if replaces:
            kept = [cb for cb in self.user_callbacks() if type(cb).__name__ != replaces]
            if len(kept) != len(self.user_callbacks()):
                self.notes.append(f"Your {replaces} was replaced by the remedy's.")
                self.fit["callbacks"] = kept
            self.callbacks = [cb for cb in self.callbacks if type(cb).__name__ != replaces]
        self.callbacks.append(callback)

    def override(self, overrides: Mapping[str, Any], *, caller: str = "rerun") -> None:
        """Apply ``rerun(**overrides)``: fit arguments by name, and ``optimizer``, ``learning_rate``, ``loss``,
        ``metrics``, ``clipnorm``, ``momentum``, ``weight_decay``, ``seed``.

        Each value is checked first (:mod:`.overrides`, the one table ``rerun`` and ``sweep`` share), so a value
        that would train nothing or fail inside Keras is one :class:`RemedyError` sentence before anything is built;
        ``caller`` (``"rerun"`` or ``"sweep"``) words it."""
        for key, value in overrides.items():
            check_override(key, value, caller=caller)
            if key in FIT_KEYS:
                self.fit[key] = value
                if key in ("x", "y", "validation_data", "validation_split", "sample_weight"):
                    self.data_changed = True
                if key == "validation_data" and value is not None:
                    self.fit["validation_split"] = 0.0
            elif key == "optimizer":
                self._override_optimizer(value)
            elif key == "learning_rate":
                self.set_learning_rate(float(value))
            elif key in ("clipnorm", "momentum", "weight_decay"):
                self.optimizer_config[key] = None if value is None else float(value)
                if key == "clipnorm":
                    self.optimizer_config.pop("clipvalue", None)
                    self.optimizer_config.pop("global_clipnorm", None)
            elif key in ("loss", "metrics"):
                self.compile[key] = value
            elif key == "seed":
                self.seed = int(value)

    def _override_optimizer(self, value: Any) -> None:
        if isinstance(value, str):
            import keras

            try:
                opt = keras.optimizers.get(value)
            except ValueError:
                raise RemedyError(
                    f"Unknown optimizer {safe_repr(value)} (try 'adam', 'adamw', 'sgd', 'rmsprop')."
                ) from None
            name = type(opt).__name__
            self.set_optimizer(name, {"learning_rate": USUAL_LR.get(name, self.learning_rate() or 1e-3)})
        elif isinstance(value, Mapping):
            self.set_optimizer(str(value["class_name"]), dict(value.get("config") or {}))
        elif isinstance(value, type):
            self.optimizer_class = value.__name__
            self.optimizer_config = {}
            self.baseline = _with_type(self.baseline, value)
        elif hasattr(value, "get_config"):  # an optimizer instance: a fresh one of its class and configuration
            self.optimizer_class = type(value).__name__
            self.optimizer_config = dict(value.get_config())
            self.baseline = _with_type(self.baseline, type(value))


def _with_type(base: Baseline, optimizer_type: Any) -> Baseline:
    clone = copy.copy(base)
    clone.optimizer_type = optimizer_type
    return clone
