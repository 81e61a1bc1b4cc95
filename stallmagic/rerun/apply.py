"""Apply remedies to a rerun: the :class:`Plan` they change, and how a Plan becomes a model, compile and fit call.

A rerun starts from a :class:`Baseline`, what the original run was given (its fit arguments, compiled loss and
metrics, the optimizer as recorded at the start of the fit, the starting weights), and builds a :class:`Plan`
from it. Each remedy changes the Plan (:meth:`Spec.apply <stallmagic.remedies.remedy.Spec.apply>`): a fit
argument, the optimizer's class or configuration, the loss, the data (without ever mutating the user's arrays),
or the model. Only then is anything done to Keras objects, so a remedy that does not fit the run fails before the
user's model is touched.

Changes to the model come in two sorts:

* **in place** on the model that is trained: an L2 penalty on the kernels (set on the kernel variables, which is
  how Keras 3 collects regularization losses), activations, dropout rates, re-initialized kernels (He). These work
  for Sequential, Functional and subclassed models alike; the rerun engine records how to undo them.
* **rebuilt**: inserted layers (Dropout, BatchNormalization, Normalization) and resized layers (wider, smaller,
  another number of outputs). Sequential and Functional models are rebuilt layer by layer (Functional through
  ``keras.models.clone_model``); every layer whose weights keep their shapes gets the original *starting*
  weights, new or resized layers are initialized fresh (seeded). Subclassed models build their layers in their
  own ``__init__``, so they cannot be rebuilt: such remedies raise :class:`RemedyError` saying so.

Keras is imported inside the functions that need it.
"""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._internal.optimizers import USUAL_LR
from ..record import Run
from ..remedies.remedy import RemedyError

#: Fit arguments a rerun override may set.
FIT_KEYS = (
    "x", "y", "batch_size", "epochs", "verbose", "callbacks", "validation_split", "validation_data", "shuffle",
    "class_weight", "sample_weight", "initial_epoch", "steps_per_epoch", "validation_steps", "validation_batch_size",
    "validation_freq",
)  # fmt: skip
#: Compile-side overrides.
COMPILE_KEYS = ("optimizer", "learning_rate", "loss", "metrics", "clipnorm", "momentum", "weight_decay")
#: Callbacks that write files: a rerun would overwrite the user's checkpoints and logs, so they are left out.
FILE_CALLBACKS = ("ModelCheckpoint", "BackupAndRestore", "CSVLogger", "TensorBoard")
#: Layers that carry a kernel a weight penalty or He initialization applies to.
KERNEL_LAYERS = (
    "Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
    "SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D", "DepthwiseConv2D",
)  # fmt: skip
#: Layers whose width (units / filters) the capacity remedies scale.
WIDTH_LAYERS = ("Dense", "Conv1D", "Conv2D", "Conv3D")
SATURATING = ("sigmoid", "tanh", "hard_sigmoid", "softsign")
#: Loss name -> Keras loss class, for losses rebuilt with ``from_logits``.
LOSS_CLASSES = {
    "binary_crossentropy": "BinaryCrossentropy",
    "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
    "binary_focal_crossentropy": "BinaryFocalCrossentropy",
    "categorical_focal_crossentropy": "CategoricalFocalCrossentropy",
}

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
        )


def recorded_seed(run: Run) -> int:
    """The seed the user had set when the run's fit started (recorded by the capture engine), else the one set
    now, else 0."""
    seed = run.extras.get("seed")
    return seed if isinstance(seed, int) else user_seed()


def user_seed() -> int:
    """The seed the user gave ``keras.utils.set_random_seed`` (reruns set it again), else 0."""
    try:
        from keras.src.utils.rng_utils import get_random_seed

        seed = get_random_seed()
    except Exception:  # older Keras: no way to read it back
        seed = None
    return int(seed) if isinstance(seed, int) else 0


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
    config = getattr(getattr(model, "_compile_config", None), "config", None)
    if isinstance(config, Mapping):
        out = {k: v for k, v in config.items() if k != "optimizer"}
    else:
        record = run.model
        out = {"loss": record.loss.name, "metrics": list(record.metrics) or None}
    return out


# ---------------------------------------------------------------------- the plan


@dataclass
class Plan:
    """Everything one rerun will do. Remedies change it; :func:`prepare_model` and friends carry it out.

    Attributes:
        fit: Fit arguments by name (the user's, then changed by remedies). ``verbose`` defaults to 0.
        optimizer_class / optimizer_config: The fresh optimizer to build.
        compile: ``loss``, ``metrics`` and the other compile arguments.
        callbacks: Callbacks the remedies add (the user's own are copied fresh separately).
        edits: Model changes in order, as ``(kind, params)``: ``l2``, ``dropout``, ``he_init``, ``batch_norm``,
            ``width``, ``output``, ``normalize``.
        notes: What the rerun did beyond the obvious (layers re-initialized, callbacks left out), for the record.
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
        from ..capture.describe import data_kind

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
        from ..capture.describe import n_rows
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
        from ..capture.describe import n_rows
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

    def override(self, overrides: Mapping[str, Any]) -> None:
        """Apply ``rerun(**overrides)``: fit arguments by name, and ``optimizer``, ``learning_rate``, ``loss``,
        ``metrics``, ``clipnorm``, ``momentum``, ``weight_decay``, ``seed``."""
        for key, value in overrides.items():
            if key in FIT_KEYS:
                self.fit[key] = value
                if key in ("x", "y", "validation_data", "validation_split", "sample_weight"):
                    self.data_changed = True
                if key == "validation_data" and value is not None:
                    self.fit["validation_split"] = 0.0
            elif key == "optimizer":
                self._override_optimizer(value)
            elif key == "learning_rate":
                self.set_learning_rate(_check_positive("learning_rate", value))
            elif key in ("clipnorm", "momentum", "weight_decay"):
                self.optimizer_config[key] = None if value is None else float(value)
                if key == "clipnorm":
                    self.optimizer_config.pop("clipvalue", None)
                    self.optimizer_config.pop("global_clipnorm", None)
            elif key in ("loss", "metrics"):
                self.compile[key] = value
            elif key == "seed":
                if not isinstance(value, int) or isinstance(value, bool):
                    raise RemedyError(f"The 'seed' argument of rerun must be an int. Got {value!r} instead.")
                self.seed = value
            else:
                raise RemedyError(
                    f"rerun() got an unexpected argument {key!r}. It accepts the fit arguments "
                    f"({', '.join(FIT_KEYS)}), {', '.join(COMPILE_KEYS)} and seed."
                )

    def _override_optimizer(self, value: Any) -> None:
        if isinstance(value, str):
            import keras

            try:
                opt = keras.optimizers.get(value)
            except ValueError:
                raise RemedyError(f"Unknown optimizer {value!r} (try 'adam', 'adamw', 'sgd', 'rmsprop').") from None
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
        else:
            raise RemedyError(
                f"The 'optimizer' argument of rerun must be a name, a config dict, an optimizer class or instance. "
                f"Got {value!r} instead."
            )


def _with_type(base: Baseline, optimizer_type: Any) -> Baseline:
    clone = copy.copy(base)
    clone.optimizer_type = optimizer_type
    return clone


def _check_positive(name: str, value: Any) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0 or not math.isfinite(value):
        raise RemedyError(f"The {name!r} argument of rerun must be a number > 0. Got {value!r} instead.")
    return float(value)


# ---------------------------------------------------------------------- data helpers (never mutate the user's)


def map_arrays(data: Any, fn: Any) -> Any:
    """Apply ``fn`` to every array of a (possibly nested) input structure, returning new arrays."""
    if data is None:
        return None
    if isinstance(data, Mapping):
        return {k: map_arrays(v, fn) for k, v in data.items()}
    if isinstance(data, (list, tuple)) and not hasattr(data, "shape"):
        return type(data)(map_arrays(v, fn) for v in data)
    return fn(np.asarray(data))


def take_rows(data: Any, rows: np.ndarray) -> Any:
    return map_arrays(data, lambda a: a[rows])


def class_index(y: Any) -> np.ndarray:
    """The class each row belongs to, as Keras's ``class_weight`` reads it (argmax of one-hot rows, else the
    rounded value)."""
    y = np.asarray(y)
    if y.ndim > 1 and y.shape[-1] > 1:
        return y.reshape(len(y), -1).argmax(axis=1)
    return np.round(y.reshape(len(y))).astype(np.int64)


def balanced_class_weight(y: Any) -> dict[int, float]:
    """scikit-learn's "balanced" weights, ``n_samples / (n_classes * np.bincount(y))``, for the classes present."""
    from sklearn.utils.class_weight import compute_class_weight

    idx = class_index(y)
    classes = np.unique(idx)
    weights = compute_class_weight("balanced", classes=classes, y=idx)
    return {int(c): round(float(w), 6) for c, w in zip(classes, weights)}


def standardize_stats(x: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation (1 where a feature is constant) of the training inputs."""
    a = np.asarray(x, dtype=np.float64)
    flat = a.reshape(len(a), -1)
    finite = np.where(np.isfinite(flat), flat, np.nan)
    mean = np.nan_to_num(np.nanmean(finite, axis=0))
    std = np.nan_to_num(np.nanstd(finite, axis=0))
    std = np.where(std > 1e-12, std, 1.0)
    return mean, std


# ---------------------------------------------------------------------- callbacks


def fresh_callbacks(plan: Plan, model: Any) -> list:
    """The user's callbacks for the rerun: fresh objects, never the ones the user holds (whose state after the
    original fit stays as it was).

    * Keras's own callbacks are deep-copied (model, optimizer and data shared, not copied); they reset themselves
      in ``on_train_begin`` (EarlyStopping, ReduceLROnPlateau, LearningRateScheduler, ...).
    * A user-defined callback is constructed anew, ``type(cb)(**args)``, when every argument of its ``__init__``
      can be read back from an attribute of the same name (``self.patience = patience``), which gives it the state
      of a new object. Otherwise it is deep-copied like Keras's, state included, and the rerun's notes say so.
    * Callbacks that write files (:data:`FILE_CALLBACKS`) are left out so a rerun never overwrites the user's
      checkpoints or logs; the notes say so.
    """
    out = []
    shared = _shared_memo(plan, model)
    for cb in plan.user_callbacks():
        name = type(cb).__name__
        if name in FILE_CALLBACKS:
            plan.notes.append(f"Your {name} was not run again, so the rerun does not overwrite its files.")
            continue
        if name in ("History", "ProgbarLogger", "Recorder"):
            continue  # fit makes its own; the Recorder is stallmagic's
        fresh = None if type(cb).__module__.startswith("keras") else _new_instance(cb)
        if fresh is None:
            try:
                fresh = copy.deepcopy(cb, dict(shared))
            except Exception:
                fresh = copy.copy(cb)
                plan.notes.append(f"Your {name} could not be copied deeply; a shallow copy ran again.")
            if not type(cb).__module__.startswith("keras"):
                plan.notes.append(
                    f"Your {name} ran again as a copy with its state from the original fit (its __init__ arguments "
                    "could not be read back); reset that state in on_train_begin if it matters."
                )
        out.append(fresh)
    return out + list(plan.callbacks)


def _new_instance(cb: Any) -> Any:
    """``type(cb)(**args)`` with each ``__init__`` argument read from ``cb``'s attribute of the same name, or None."""
    cls = type(cb)
    try:
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    except (TypeError, ValueError):
        return None
    args: dict = {}
    for param in params:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.kind == param.POSITIONAL_ONLY or not hasattr(cb, param.name):
            return None
        args[param.name] = getattr(cb, param.name)
    try:
        return cls(**args)
    except Exception:
        return None


def _shared_memo(plan: Plan, model: Any) -> dict:
    memo: dict = {}
    keep = [model, plan.baseline.model, getattr(plan.baseline.model, "optimizer", None)]
    for key in ("x", "y", "validation_data", "sample_weight"):
        keep.append(plan.fit.get(key))
        keep.append(plan.baseline.fit.get(key))
    for obj in keep:
        if obj is not None:
            memo[id(obj)] = obj
            if isinstance(obj, (list, tuple)):
                for item in obj:
                    memo[id(item)] = item
    return memo


# ---------------------------------------------------------------------- compile


def build_optimizer(plan: Plan) -> Any:
    """A fresh optimizer from the plan's class and configuration (no state carried over)."""
    import keras

    config = {k: v for k, v in plan.optimizer_config.items() if v is not None}
    errors = []
    base_type = plan.baseline.optimizer_type
    candidates = []
    if base_type is not None and base_type.__name__ == plan.optimizer_class:
        candidates.append(lambda: base_type.from_config(config))
    candidates.append(lambda: keras.optimizers.get({"class_name": plan.optimizer_class, "config": config}))
    for make in candidates:
        try:
            return make()
        except Exception as exc:  # try the next way, then report all
            errors.append(f"{type(exc).__name__}: {exc}")
    raise RemedyError(
        f"Could not build a fresh {plan.optimizer_class} optimizer from its recorded configuration "
        f"({'; '.join(errors)})."
    )


def build_loss(loss: Any) -> Any:
    """A loss from the plan: a ``{"name": ..., "from_logits": ...}`` dict becomes a Keras loss object."""
    if isinstance(loss, Mapping) and "name" in loss:
        import keras

        name = loss["name"]
        cls_name = LOSS_CLASSES.get(name)
        if cls_name is None:
            return name
        return getattr(keras.losses, cls_name)(from_logits=bool(loss.get("from_logits", False)))
    return loss


def fresh_metrics(metrics: Any) -> Any:
    """Metric objects rebuilt from their configuration (strings stay strings), so no state is shared."""
    if metrics is None or isinstance(metrics, str):
        return metrics
    if isinstance(metrics, Mapping):
        return {k: fresh_metrics(v) for k, v in metrics.items()}
    if isinstance(metrics, (list, tuple)):
        return type(metrics)(fresh_metrics(m) for m in metrics)
    get_config = getattr(metrics, "get_config", None)
    if callable(get_config):
        try:
            return type(metrics).from_config(get_config())
        except Exception:
            return metrics
    return metrics


def compile_model(model: Any, plan: Plan, *, optimizer: Any = None) -> Any:
    """Compile ``model`` with a fresh optimizer (or ``optimizer``) and the plan's loss and metrics."""
    args = dict(plan.compile)
    args["loss"] = build_loss(args.get("loss"))
    args["metrics"] = fresh_metrics(args.get("metrics"))
    args["weighted_metrics"] = fresh_metrics(args.get("weighted_metrics"))
    args = {k: v for k, v in args.items() if k in _COMPILE_PARAMS}
    optimizer = optimizer if optimizer is not None else build_optimizer(plan)
    model.compile(optimizer=optimizer, **args)
    return optimizer


def compile_key(plan: Plan) -> str:
    """What a compiled train function depends on besides the learning rate: optimizer class and settings, loss,
    metrics and the other compile arguments. Two plans with the same key can share one traced function."""
    config = {k: v for k, v in plan.optimizer_config.items() if k not in ("learning_rate", "name")}
    return repr((plan.optimizer_class, sorted(config.items(), key=lambda kv: kv[0]), sorted(plan.compile.items())))


def fresh_optimizer_state(plan: Plan, model: Any) -> list | None:
    """The variable values of a newly built optimizer of the plan's configuration for ``model`` (step count 0,
    zero or initial moments, the plan's learning rate), or None if it cannot be built here."""
    fresh = build_optimizer(plan)
    try:
        fresh.build(model.trainable_variables)
        return [np.asarray(v.numpy() if hasattr(v, "numpy") else v) for v in fresh.variables]
    except Exception:
        return None


def reset_optimizer(optimizer: Any, state: list | None, plan: Plan) -> bool:
    """Give ``optimizer`` the state ``state`` of a newly built one (see :func:`fresh_optimizer_state`), in place,
    with the plan's learning rate, so the model's traced train function can be used again. False if it cannot."""
    old = list(optimizer.variables)
    if state is None or len(old) != len(state) or any(tuple(a.shape) != b.shape for a, b in zip(old, state)):
        return False
    for variable, value in zip(old, state):
        variable.assign(value)
    lr = plan.learning_rate()
    if lr is not None and not isinstance(plan.optimizer_config.get("learning_rate"), Mapping):
        try:
            optimizer.learning_rate = lr
        except Exception:
            return False
    return True


_COMPILE_PARAMS = ("loss", "loss_weights", "metrics", "weighted_metrics", "run_eagerly", "steps_per_execution",
                   "jit_compile", "auto_scale_loss")  # fmt: skip


# ---------------------------------------------------------------------- the model


def needs_rebuild(plan: Plan) -> list[str]:
    """The edits of ``plan`` that need new or resized layers (empty: the model can be trained in place)."""
    model = plan.baseline.model
    out = []
    for kind, params in plan.edits:
        inserts = kind == "dropout" and bool(_dropout_insertions(model, plan.style))
        resizes = kind == "output" and params.get("units") is not None
        if kind in ("batch_norm", "width", "normalize") or inserts or resizes:
            out.append(kind)
    return out


@dataclass
class PreparedModel:
    """The model a rerun trains, and what was done to it (see :func:`prepare_model`)."""

    model: Any
    rebuilt: bool
    undo: list
    copied_layers: list = field(default_factory=list)
    fresh_layers: list = field(default_factory=list)


def check_model_edits(plan: Plan) -> None:
    """Raise :class:`RemedyError` now if the plan's model changes cannot be made (before anything is touched)."""
    rebuild = needs_rebuild(plan)
    if rebuild and plan.style == "subclassed":
        raise RemedyError(
            f"{', '.join(sorted(set(rebuild)))} needs new or resized layers, but {type(plan.baseline.model).__name__} "
            "is a subclassed model: its layers are created in its own __init__, so stallmagic cannot insert or "
            "resize them. Change the model's code (see the remedy's as_code()); in-place changes (L2, learning rate, "
            "optimizer, He initialization, activations, data) still work on it."
        )
    for kind, params in plan.edits:
        if kind == "output":
            _output_layer(plan.baseline.model, plan.style, check_activation=params.get("activation"))


def prepare_model(plan: Plan) -> PreparedModel:
    """The model to train, holding the starting weights, with the plan's model changes made.

    In-place changes on the user's model are returned as an undo list ``[(obj, attr, old), ...]``.
    """
    base = plan.baseline
    rebuild = needs_rebuild(plan)
    if rebuild:
        prepared = _rebuild(plan)
    else:
        base.model.set_weights(base.initial_weights)
        prepared = PreparedModel(base.model, rebuilt=False, undo=[])
    reset_seed_generators(prepared.model)
    try:
        for kind, params in plan.edits:
            _edit_in_place(prepared, plan, kind, params)
    except BaseException:
        undo(prepared.undo)  # leave no half-made change behind
        raise
    return prepared


def reset_seed_generators(model: Any) -> None:
    """Put every layer's random stream (dropout masks, noise) back to its start: ``[seed, 0]``."""
    for layer in _all_layers(model):
        for generator in getattr(layer, "_seed_generators", None) or []:
            try:
                state = np.asarray(generator.state.value).copy()
                state[1] = 0
                generator.state.assign(state)
            except Exception:  # a backend without an assignable state: nothing to reset
                continue


def _all_layers(model: Any) -> list:
    flatten = getattr(model, "_flatten_layers", None)
    if callable(flatten):
        try:
            return list(flatten(include_self=True, recursive=True))
        except TypeError:
            return list(flatten())
    return [model, *getattr(model, "layers", [])]


def undo(changes: list) -> None:
    """Revert in-place changes, last first."""
    for obj, attr, old in reversed(changes):
        setattr(obj, attr, old)


def _set(prepared: PreparedModel, obj: Any, attr: str, value: Any) -> None:
    prepared.undo.append((obj, attr, getattr(obj, attr)))
    setattr(obj, attr, value)


def _leaf_layers(model: Any) -> list:
    """Layers in order, nested models flattened (their layers, not the model itself)."""
    out = []
    for layer in getattr(model, "layers", []):
        if hasattr(layer, "layers") and hasattr(layer, "fit"):
            out.extend(_leaf_layers(layer))
        else:
            out.append(layer)
    return out


def _output_ops(model: Any, style: str) -> set[int]:
    """ids of the layers that produce the model's outputs (the last layer for subclassed models)."""
    ids: set[int] = set()
    if style != "subclassed":
        try:
            for tensor in model.outputs:
                history = getattr(tensor, "_keras_history", None)
                op = getattr(history, "operation", None) if history is not None else None
                if op is not None:
                    ids.add(id(op))
        except (AttributeError, ValueError):
            pass
    if not ids:
        leaves = [layer for layer in _leaf_layers(model) if type(layer).__name__ not in ("InputLayer",)]
        if leaves:
            ids.add(id(leaves[-1]))
    return ids


def _hidden_kernel_layers(model: Any, style: str, classes: tuple = KERNEL_LAYERS) -> list:
    """Layers of the given classes that are not the output layer, and not the layer right before a pass-through
    output (``Dense(10)`` then ``Activation("softmax")``)."""
    leaves = _leaf_layers(model)
    out_ids = _output_ops(model, style)
    output = _output_layer(model, style, quiet=True)
    return [
        layer
        for layer in leaves
        if type(layer).__name__ in classes and id(layer) not in out_ids and layer is not output
    ]


def _output_layer(model: Any, style: str, *, check_activation: str | None = None, quiet: bool = False) -> Any:
    """The layer whose activation or width is the model's output: the last layer with an ``activation`` (or
    units), walking back over dropout and reshapes."""
    leaves = [layer for layer in _leaf_layers(model) if type(layer).__name__ != "InputLayer"]
    out_ids = _output_ops(model, style)
    idx = max((i for i, layer in enumerate(leaves) if id(layer) in out_ids), default=len(leaves) - 1)
    while idx >= 0:
        layer = leaves[idx]
        name = type(layer).__name__
        if name == "Softmax" and check_activation is not None and check_activation != "softmax" and not quiet:
            raise RemedyError(
                "The output activation is a Softmax layer, which cannot be switched in place; replace it with "
                f"Activation({check_activation!r}) in the model's code."
            )
        if hasattr(layer, "activation") or hasattr(layer, "units"):
            return layer
        idx -= 1
    if quiet:
        return None
    raise RemedyError("Could not find the model's output layer to change its activation.")


def _edit_in_place(prepared: PreparedModel, plan: Plan, kind: str, params: dict) -> None:
    import keras

    model = prepared.model
    style = "functional" if prepared.rebuilt and plan.style != "subclassed" else plan.style
    if kind == "l2":
        factor = float(params["factor"])
        reg = keras.regularizers.L2(factor) if factor > 0 else None
        for layer in _leaf_layers(model):
            if type(layer).__name__ in KERNEL_LAYERS and getattr(layer, "kernel", None) is not None:
                _set(prepared, layer, "kernel_regularizer", reg)
                _set(prepared, layer.kernel, "regularizer", reg)
    elif kind == "dropout":
        for layer in _leaf_layers(model):
            if type(layer).__name__ == "Dropout":
                _set(prepared, layer, "rate", float(params["rate"]))
    elif kind == "output":
        if params.get("activation") is not None:
            layer = _output_layer(model, style, check_activation=params["activation"])
            _set(prepared, layer, "activation", keras.activations.get(params["activation"]))
    elif kind == "he_init":
        _he_init(prepared, plan, style, params)


def _he_init(prepared: PreparedModel, plan: Plan, style: str, params: dict) -> None:
    """He initialization of every hidden kernel layer (zero biases), optionally with a ReLU-family activation in
    place of a saturating one. These layers start from new weights (seeded by the plan's seed)."""
    import keras

    activation = params.get("activation")
    layers = _hidden_kernel_layers(prepared.model, style)
    for i, layer in enumerate(layers):
        init = keras.initializers.get({"class_name": _initializer_class(params["initializer"]), "config": {}})
        seeded = type(init).from_config({**init.get_config(), "seed": plan.seed + 1000 + i})
        _set(prepared, layer, "kernel_initializer", seeded)
        layer.kernel.assign(seeded(tuple(layer.kernel.shape), dtype=layer.kernel.dtype))
        bias = getattr(layer, "bias", None)
        if bias is not None:
            _set(prepared, layer, "bias_initializer", keras.initializers.Zeros())
            bias.assign(np.zeros(tuple(bias.shape), dtype=np.float32))
        current = _activation_name(getattr(layer, "activation", None))
        swap = params.get("replace") == "all" or current in SATURATING
        if activation and current not in (None, "linear") and current != activation and swap:
            _set(prepared, layer, "activation", keras.activations.get(activation))
        if layer.name not in prepared.fresh_layers:
            prepared.fresh_layers.append(layer.name)


def _initializer_class(name: str) -> str:
    return {"he_normal": "HeNormal", "he_uniform": "HeUniform", "glorot_uniform": "GlorotUniform"}.get(name, name)


def _activation_name(fn: Any) -> str | None:
    from ..capture.describe import activation_name

    return activation_name(fn)


# ---------------------------------------------------------------------- rebuilding Sequential / Functional


def _dropout_insertions(model: Any, style: str) -> list:
    """Hidden Dense layers not already followed by a Dropout (where ``dropout`` inserts one)."""
    if style == "subclassed":  # no graph to read: rates of existing Dropout layers change in place, or nothing
        if any(type(layer).__name__ == "Dropout" for layer in _leaf_layers(model)):
            return []
        return _hidden_kernel_layers(model, style, ("Dense",))
    hidden = _hidden_kernel_layers(model, style, ("Dense",))
    out = []
    for layer in hidden:
        if not any(type(nxt).__name__ in ("Dropout", "AlphaDropout", "GaussianDropout") for nxt in _next(model, layer)):
            out.append(layer)
    return out


def _next(model: Any, layer: Any) -> list:
    """Layers that consume ``layer``'s output (the next one in a Sequential)."""
    if type(model).__name__ == "Sequential" or "Sequential" in {c.__name__ for c in type(model).__mro__}:
        layers = list(model.layers)
        if layer in layers:
            i = layers.index(layer)
            return layers[i + 1 : i + 2]
    out = []
    for node in getattr(layer, "_outbound_nodes", []) or []:
        op = getattr(node, "operation", None)
        if op is not None:
            out.append(op)
    return out


def _rebuild(plan: Plan) -> PreparedModel:
    import keras

    base = plan.baseline
    model = base.model
    keras.utils.set_random_seed(plan.seed)  # new layers' initial weights are seeded
    edits = dict(plan.edits)  # last of each kind wins
    initial = _initial_by_layer(model, base.initial_weights)
    width = edits.get("width")
    out_params = edits.get("output") or {}
    hidden = {id(layer) for layer in _hidden_kernel_layers(model, plan.style, WIDTH_LAYERS)}
    output = _output_layer(model, plan.style, quiet=True)
    insert_dropout = {id(layer) for layer in _dropout_insertions(model, plan.style)} if "dropout" in edits else set()
    insert_bn = {id(layer) for layer in _hidden_kernel_layers(model, plan.style)} if "batch_norm" in edits else set()
    mapping: dict[int, Any] = {}  # id(new layer) -> old layer

    def clone_layer(layer: Any) -> Any:
        config = layer.get_config()
        if width is not None and id(layer) in hidden:
            for key in ("units", "filters"):
                if isinstance(config.get(key), int):
                    config[key] = max(1, round(config[key] * float(width["factor"])))
        if layer is output and out_params.get("units") is not None:
            config["units"] = int(out_params["units"])
        new = type(layer).from_config(config)
        mapping[id(new)] = layer
        return new

    def after(old: Any) -> list:
        extra = []
        if id(old) in insert_bn:
            extra.append(keras.layers.BatchNormalization())
        if id(old) in insert_dropout:
            extra.append(keras.layers.Dropout(float(edits["dropout"]["rate"])))
        return extra

    normalize = edits.get("normalize")
    if plan.style == "sequential":
        new_layers = []
        for layer in model.layers:
            new_layers.append(clone_layer(layer))
            new_layers.extend(after(layer))
        input_shape = _input_shape(model, plan)
        head = [keras.Input(input_shape)]
        if normalize is not None:
            head.append(_normalization_layer(normalize, input_shape))
        new_model = keras.Sequential([*head, *new_layers], name=model.name)
    else:

        def call(layer: Any, *args: Any, **kwargs: Any) -> Any:
            out = layer(*args, **kwargs)
            old = mapping.get(id(layer))
            for extra in after(old) if old is not None else []:
                out = extra(out)
            return out

        new_model = keras.models.clone_model(model, clone_function=clone_layer, call_function=call)
        if normalize is not None:
            input_shape = _input_shape(model, plan)
            inputs = keras.Input(input_shape)
            outputs = new_model(_normalization_layer(normalize, input_shape)(inputs))
            new_model = keras.Model(inputs, outputs, name=model.name)
    prepared = PreparedModel(new_model, rebuilt=True, undo=[])
    for new in _all_layers(new_model):
        old = mapping.get(id(new))
        if old is None or not new.weights:
            if new.weights and new is not new_model and not hasattr(new, "fit"):
                prepared.fresh_layers.append(new.name)
            continue
        weights = initial.get(id(old))
        if weights is not None and [tuple(w.shape) for w in new.weights] == [w.shape for w in weights]:
            new.set_weights(weights)
            prepared.copied_layers.append(old.name)
        else:
            prepared.fresh_layers.append(new.name)
    if prepared.fresh_layers:
        plan.notes.append(
            f"New or resized layers start from fresh weights (seed {plan.seed}): {', '.join(prepared.fresh_layers)}; "
            f"the other layers start from the original starting weights."
        )
    return prepared


def _input_shape(model: Any, plan: Plan) -> tuple:
    try:
        return tuple(model.inputs[0].shape[1:])
    except (AttributeError, ValueError, IndexError, TypeError):
        shape = plan.run.model.input_shape if plan.run.model is not None else None
        if shape:
            return tuple(shape[1:])
    raise RemedyError("Could not read the model's input shape to rebuild it.")


def _normalization_layer(params: Mapping[str, Any], input_shape: tuple) -> Any:
    import keras

    mean = np.asarray(params["mean"], dtype="float32").reshape(input_shape)
    std = np.asarray(params["std"], dtype="float32").reshape(input_shape)
    axis = -1 if len(input_shape) == 1 else tuple(range(1, len(input_shape) + 1))  # one mean per feature
    return keras.layers.Normalization(axis=axis, mean=mean, variance=std**2)


def _initial_by_layer(model: Any, initial_weights: list) -> dict[int, list]:
    """The starting weights of each layer (nested models' layers too), by id of the layer."""
    index = {id(v): i for i, v in enumerate(model.weights)}
    out: dict[int, list] = {}
    for layer in _all_layers(model):
        if layer is model:
            continue
        ids = [index.get(id(v)) for v in layer.weights]
        if ids and all(i is not None and i < len(initial_weights) for i in ids):
            out[id(layer)] = [initial_weights[i] for i in ids]
    return out
