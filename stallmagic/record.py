"""Plain records of what a captured ``fit`` did: ``Run``, ``Session`` and their parts.

Everything downstream of capture (diagnosis, remedies, the panel, exports) reads these records, never Keras
objects, so the records are plain dataclasses of numbers and strings. A few fields hold live references that
cannot be serialised (the model, the data as given to ``fit``, the starting weights); they are marked
``runtime`` and left out of ``to_dict()``. This module imports neither Keras nor IPython.

The records sit at the bottom of the package: every other layer imports them, and they import nothing above them
at load time. ``Run.diagnose``, ``Run.rerun``, ``Run.repair``, ``Run.restore`` and ``Session.compare`` are
one-line facades, for a notebook user who holds a Run, onto :mod:`stallmagic.remedies.attach` (the diagnosis with
its remedies) and :mod:`stallmagic.rerun`; each imports its layer when called, so importing the records never drags
in the layers above (nor, through them, Keras).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._internal.nested import map_arrays
from ._internal.numbers import maybe_int, num
from ._internal.text import safe_repr, safe_str

#: How a fit can end. ``running`` only while the fit is in progress.
END_REASONS = ("running", "completed", "early_stopped", "interrupted", "error", "nan")

#: How validation was given to fit.
VALIDATION_MODES = ("none", "split", "data")


def _runtime(default: Any = None) -> Any:
    """A field that lives only in memory: a live reference, never serialised."""
    return field(default=default, repr=False, compare=False, metadata={"runtime": True})


def jsonable(value: Any) -> Any:
    """Return ``value`` as JSON-ready data: numpy scalars to Python, tuples to lists, floats kept finite.

    Non-finite floats become the strings ``"nan"``, ``"inf"`` and ``"-inf"`` (strict JSON has no NaN);
    :func:`unjson_float` turns them back. Objects with no JSON form become their ``repr``.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _encode_float(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalars and 0-d arrays
    if callable(item) and getattr(value, "ndim", 1) == 0:
        return jsonable(item())
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return jsonable(tolist())
    return safe_repr(value)  # a user object (a callback, a custom loss) whose repr is the user's code


def _encode_float(value: float) -> float | str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return float(value)


def unjson_float(value: Any) -> float | None:
    """Inverse of the float encoding in :func:`jsonable`; ``None`` stays ``None``."""
    if value is None:
        return None
    return float(value)  # a number, or "nan", "inf", "-inf", which float() parses as such


@dataclass
class LayerRecord:
    """One layer as diagnosis needs it. ``path`` names nested layers ``outer/inner``."""

    name: str
    class_name: str
    path: str = ""
    units: int | None = None
    filters: int | None = None
    activation: str | None = None
    rate: float | None = None
    kernel_regularizer: dict | None = None
    kernel_initializer: str | None = None
    use_bias: bool | None = None
    trainable: bool = True
    params: int = 0
    output_shape: list | None = None


@dataclass
class LossRecord:
    """The compiled loss: ``name`` is Keras's name for it (``"sparse_categorical_crossentropy"``)."""

    name: str | None = None
    from_logits: bool | None = None
    config: dict = field(default_factory=dict)


@dataclass
class ModelRecord:
    """The model at the start of the fit: its layers, size, output, loss and optimizer.

    A model with several outputs is judged on one: the first of ``output_names`` (Keras's own order, which sorts a
    dict's keys), whose activation, width and loss these fields hold; targets and predictions given as a dict are
    read under that name (:func:`stallmagic._internal.nested.judged_output`), never by position.
    """

    name: str
    class_name: str
    style: str  # "sequential", "functional" or "subclassed"
    layers: list[LayerRecord] = field(default_factory=list)
    params: int = 0
    trainable_params: int = 0
    input_shape: list | None = None
    output_shape: list | None = None
    output_activation: str | None = None
    output_units: int | None = None
    output_names: list[str] = field(default_factory=list)  # Keras's order; the first one is judged
    loss: LossRecord = field(default_factory=LossRecord)
    optimizer: dict = field(default_factory=dict)  # {"class_name": ..., "config": {...}}
    metrics: list[str] = field(default_factory=list)
    backend: str | None = None

    @property
    def optimizer_name(self) -> str | None:
        return self.optimizer.get("class_name")

    @property
    def initial_learning_rate(self) -> float | None:
        lr = self.optimizer.get("config", {}).get("learning_rate")
        return float(lr) if isinstance(lr, (int, float)) else None


@dataclass
class FitRecord:
    """The arguments of the fit call that matter for diagnosis, as Keras interpreted them.

    ``n_train``/``n_val`` count samples when the data are arrays (``None`` for datasets and generators).
    With ``validation_split`` Keras takes the *last* ``split`` fraction of the rows, before any shuffling:
    rows ``[0, split_at)`` train and ``[split_at, n)`` validate.
    """

    batch_size: int | None = None
    steps_per_epoch: int | None = None
    epochs: int = 1
    initial_epoch: int = 0
    validation: str = "none"
    validation_split: float = 0.0
    split_at: int | None = None
    validation_freq: int = 1
    class_weight: dict | None = None
    sample_weight: bool = False
    shuffle: bool | str = True
    callbacks: list[str] = field(default_factory=list)
    verbose: int | str = "auto"
    data_kind: str = "arrays"
    validation_kind: str | None = None
    n_train: int | None = None
    n_val: int | None = None
    distribution: str | None = None  # the tf.distribute strategy or Keras distribution's class; None: one device
    replicas: int = 1  # how many ways each batch is split across devices (in all workers)
    workers: int = 1  # how many processes train together (a MultiWorkerMirroredStrategy's cluster); 1: this one

    @property
    def epochs_asked(self) -> int:
        """Epochs this call was asked to run (``epochs - initial_epoch``)."""
        return max(0, self.epochs - self.initial_epoch)


@dataclass
class ErrorRecord:
    """An exception that ended a fit, as text: its type and message."""

    type: str
    message: str


def _slice_rows(data: Any, start: int, stop: int | None) -> Any:
    """Rows ``[start, stop)`` of an array or a nested structure of arrays, as views where numpy allows."""
    return map_arrays(lambda a: a[start:stop], data)


@dataclass
class DataRefs:
    """References to the data exactly as the user gave them to ``fit``: nothing is copied.

    ``x``/``y``/``sample_weight`` are the training arguments before Keras split them; ``validation_data`` is
    what the user passed (``None`` with ``validation_split``). Use :meth:`train` and :meth:`validation` to get
    the rows Keras actually trained and validated on.
    """

    x: Any = None
    y: Any = None
    sample_weight: Any = None
    validation_data: Any = None
    split_at: int | None = None

    def train(self) -> tuple[Any, Any]:
        """``(x, y)`` of the training rows (views into the user's arrays with ``validation_split``)."""
        if self.split_at is None:
            return self.x, self.y
        return _slice_rows(self.x, 0, self.split_at), _slice_rows(self.y, 0, self.split_at)

    def validation(self) -> tuple[Any, Any] | None:
        """``(x, y)`` of the validation rows, or ``None`` when the fit had no validation arrays."""
        if self.split_at is not None:
            return _slice_rows(self.x, self.split_at, None), _slice_rows(self.y, self.split_at, None)
        vd = self.validation_data
        if isinstance(vd, (list, tuple)) and len(vd) >= 2:
            return vd[0], vd[1]
        return None


@dataclass
class Run:
    """One ``fit`` call: what was asked, what the model was, and what happened each epoch.

    ``logs`` maps every metric Keras reported (``loss``, ``accuracy``, ``val_loss``, ...) to one value per
    epoch done; an epoch without validation (``validation_freq``) has ``nan`` for the ``val_`` keys.
    ``learning_rates`` holds the optimizer's learning rate at the start of each epoch, schedules included.
    ``extras["seed"]`` is the seed given to ``keras.utils.set_random_seed`` before the fit, if any (reruns reuse it).
    ``extras["call_sites"]`` is where the user's code called ``fit`` (file, line, column of each calling frame,
    innermost first; empty for a rerun): "Keep this fix" edits that call (``stallmagic/_internal/call_site.py``).
    """

    index: int
    label: str
    fit: FitRecord = field(default_factory=FitRecord)
    model: ModelRecord | None = None
    logs: dict[str, list[float]] = field(default_factory=dict)
    epochs: list[int] = field(default_factory=list)
    epoch_times: list[float] = field(default_factory=list)
    learning_rates: list[float | None] = field(default_factory=list)
    end: str = "running"
    error: ErrorRecord | None = None
    started_at: float = 0.0
    wall_time: float = 0.0
    extras: dict = field(default_factory=dict)  # probes and later stages add serialisable results here

    # Live references, never serialised.
    keras_model: Any = _runtime()
    data: DataRefs | None = _runtime()
    initial_weights: list | None = _runtime()
    final_weights: list | None = _runtime()  # the weights at the end of the fit (restore() puts them back)
    fit_call: dict | None = _runtime()  # {"args": (...), "kwargs": {...}} exactly as the user called fit
    distribution: Any = _runtime()  # the live tf.distribute strategy or keras.distribution the fit ran under
    session: Session | None = _runtime()
    parent: Run | None = _runtime()
    remedy: Any = _runtime()
    report: Any = _runtime()  # the last Report from diagnose()

    @property
    def epochs_done(self) -> int:
        return len(self.epochs)

    @property
    def finished(self) -> bool:
        return self.end != "running"

    @property
    def judged_output(self) -> str | None:
        """The name of the output a model with several is judged on (see :class:`ModelRecord`); ``None`` for one."""
        names = self.model.output_names if self.model is not None else []
        return names[0] if len(names) > 1 else None

    def metric_names(self) -> list[str]:
        """Training metric names (without ``val_``), in the order Keras logged them."""
        return [k for k in self.logs if not k.startswith("val_")]

    def history(self, key: str) -> list[float]:
        """The per-epoch values of ``key``; a clear ``KeyError`` that lists what was logged otherwise."""
        try:
            return self.logs[key]
        except KeyError:
            raise KeyError(
                f"This run did not log {key!r}. Available metrics are: {', '.join(self.logs) or 'none'}."
            ) from None

    def diagnose(self, *, metric: str | None = None, gradients: bool = True) -> Any:
        """Why is validation accuracy stuck? Measure the model and data, then rank the causes.

        Args:
            metric: What "accuracy" means for this run (default: the first accuracy-like metric, else the loss).
            gradients: Run the gradient/dead-ReLU probe (default ``True``; TensorFlow, JAX and torch backends).

        Returns:
            A :class:`~stallmagic.diagnosis.report.Report`, also kept as ``run.report``.
        """
        from .remedies.attach import diagnose_run  # lazy: a facade onto the layer above (see the module docstring)

        return diagnose_run(self, metric=metric, gradients=gradients)

    def rerun(self, remedy: Any = None, **overrides: Any) -> Run:
        """Train again from this run's starting weights with one change, and record it in the same session.

        Same starting weights, data, fit arguments and seed; a fresh optimizer; the user's callbacks afresh. The
        new Run has ``remedy`` and ``parent`` set. Afterwards the user's model holds the rerun's weights (unless
        the remedy rebuilt the model: then ``new_run.keras_model``); :meth:`restore` puts any run back. See
        :func:`stallmagic.rerun.rerun` for the arguments and what happens on errors.
        """
        from .rerun import rerun  # lazy: a facade onto the layer above (see the module docstring)

        return rerun(self, remedy, **overrides)

    def repair(self, budget: int = 6, *, seconds: float | None = None, on_attempt: Any = None) -> Any:
        """Find a fix: try the diagnosis's remedies as fair reruns, keep and stack the ones that help, and stop at
        the cheap baseline or after ``budget`` reruns. See :func:`stallmagic.rerun.repair`."""
        from .rerun import repair  # lazy: a facade onto the layer above (see the module docstring)

        return repair(self, budget, seconds=seconds, on_attempt=on_attempt)

    def restore(self) -> Run:
        """Put this run's final weights (and its model and compile settings) back into its model.

        See :func:`stallmagic.rerun.restore`.
        """
        from .rerun import restore  # lazy: a facade onto the layer above (see the module docstring)

        return restore(self)

    def summary(self) -> str:
        """A few lines that say what this run was and how it ended."""
        fit, model = self.fit, self.model
        lines = [
            f"{self.label}: {self.end} after {self.epochs_done}/{fit.epochs_asked} epochs in {self.wall_time:.1f} s"
        ]
        if model is not None:
            lines.append(
                f"  model {model.name} ({model.style}, {model.params:,} params, output "
                f"{model.output_activation or '?'}), loss {model.loss.name}, optimizer {model.optimizer_name}"
            )
        data = f"{fit.n_train} training rows" if fit.n_train is not None else f"{fit.data_kind} input"
        val = {
            "none": "no validation",
            "split": f"validation_split={fit.validation_split:g}",
            "data": "validation_data",
        }[fit.validation]
        if fit.n_val is not None:
            val += f" ({fit.n_val} rows)"
        lines.append(f"  data: {data}, {val}, batch size {fit.batch_size}, {fit.steps_per_epoch} steps/epoch")
        if self.epochs:
            last = ", ".join(f"{k} {v[-1]:.4g}" for k, v in self.logs.items())
            lines.append(f"  last epoch: {last}")
        if self.error is not None:
            lines.append(f"  ended by {self.error.type}: {self.error.message}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        """One line: label, epochs, the best validation value and how the run ended.

        The dataclass's own repr printed every field (logs, model record, callbacks...): thousands of characters
        in ``Out[n]``. The best value is the diagnosis's metric when the run was diagnosed (``report.summary``),
        else the lowest ``val_loss``; the label is quoted with ``repr`` so the line stays one line.
        """
        best = self._best_validation()
        return (
            f"<Run {safe_repr(self.label)}: {self.epochs_done}/{self.fit.epochs_asked} epochs"
            f"{', ' + best if best else ''}, {self.end}>"
        )

    def _best_validation(self) -> str:
        """``"best val_accuracy 0.913 (epoch 8)"``, or ``""`` when there is no finite validation value."""
        summary = getattr(self.report, "summary", None)
        if isinstance(summary, Mapping) and summary.get("best_val") is not None:
            key, epoch = summary.get("val_key", "validation"), summary.get("best_epoch")
            where = f" (epoch {epoch})" if epoch is not None else ""
            return f"best {safe_str(key, limit=40)} {num(summary['best_val'], 4)}{where}"
        values = [(v, i) for i, v in enumerate(self.logs.get("val_loss", [])) if math.isfinite(v)]
        if not values:
            return ""
        value, i = min(values)
        return f"best val_loss {num(value, 4)} (epoch {i + 1})"  # counted in this run, as the report's headline

    def to_dict(self) -> dict:
        """A JSON-serialisable summary (no arrays, no live objects); :meth:`from_dict` rebuilds the Run."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.metadata.get("runtime"):
                continue
            value = getattr(self, f.name)
            if dataclasses.is_dataclass(value):
                value = dataclasses.asdict(value)
            out[f.name] = jsonable(value)
        out["parent_index"] = self.parent.index if self.parent is not None else None
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Run:
        """Rebuild a Run from :meth:`to_dict` output; the live references come back as ``None``."""
        model = None
        if data.get("model") is not None:
            m = dict(data["model"])
            m["layers"] = [LayerRecord(**layer) for layer in m.get("layers", [])]
            m["loss"] = LossRecord(**m.get("loss", {}))
            model = ModelRecord(**m)
        fit = dict(data.get("fit", {}))
        if fit.get("class_weight") is not None:
            fit["class_weight"] = {maybe_int(k): float(v) for k, v in fit["class_weight"].items()}
        return cls(
            index=int(data["index"]),
            label=str(data["label"]),
            fit=FitRecord(**fit),
            model=model,
            logs={k: [unjson_float(v) for v in vs] for k, vs in data.get("logs", {}).items()},
            epochs=[int(e) for e in data.get("epochs", [])],
            epoch_times=[float(t) for t in data.get("epoch_times", [])],
            learning_rates=[unjson_float(v) for v in data.get("learning_rates", [])],
            end=str(data.get("end", "completed")),
            error=ErrorRecord(**data["error"]) if data.get("error") else None,
            started_at=float(data.get("started_at", 0.0)),
            wall_time=float(data.get("wall_time", 0.0)),
            extras=dict(data.get("extras", {})),
        )


Listener = Callable[[str, "Run"], None]


class Session:
    """The runs captured by one ``capture()`` block (or one ``%%diagnose_fit`` cell), in call order.

    Listeners are called as ``listener(event, run)`` with ``event`` one of ``"begin"``, ``"epoch"``,
    ``"end"``; the live panel is one. A listener that raises is reported once and removed, so a display
    problem never stops the user's training.
    """

    def __init__(self, label: str | None = None, *, snapshot_weights: bool = True) -> None:
        self.label = label
        self.snapshot_weights = snapshot_weights
        self.runs: list[Run] = []
        self.listeners: list[Listener] = []
        self.listener_errors: list[str] = []

    def __repr__(self) -> str:
        return f"<Session {self.label or ''} with {len(self.runs)} run(s)>"

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self) -> Iterator[Run]:
        return iter(self.runs)

    def __getitem__(self, i: int) -> Run:
        return self.runs[i]

    @property
    def last(self) -> Run | None:
        return self.runs[-1] if self.runs else None

    def new_label(self, base: str | None = None) -> str:
        """A label for the next run: ``base`` (numbered after the first) or ``run N``."""
        n = len(self.runs) + 1
        if base:
            return base if n == 1 else f"{base} #{n}"
        return f"run {n}"

    def add(self, run: Run) -> Run:
        run.session = self
        self.runs.append(run)
        return run

    def notify(self, event: str, run: Run) -> None:
        for listener in list(self.listeners):
            try:
                listener(event, run)
            except Exception as exc:  # a broken display must never break the user's fit
                self.listeners.remove(listener)
                self.listener_errors.append(f"{type(exc).__name__}: {safe_str(exc)}")

    def compare(self, *, metric: str | None = None) -> Any:
        """The runs side by side: best validation metric and its epoch, final gap, epochs, wall time, remedy.

        Returns a :class:`stallmagic.rerun.Comparison` (printable, ``to_dict()``, ``.rows``).
        """
        from .rerun import compare  # lazy: a facade onto the layer above (see the module docstring)

        return compare(self, metric=metric)

    def to_dict(self) -> dict:
        return {"label": self.label, "runs": [r.to_dict() for r in self.runs]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Session:
        session = cls(label=data.get("label"))
        runs = [Run.from_dict(r) for r in data.get("runs", [])]
        by_index = {r.index: r for r in runs}
        for raw, run in zip(data.get("runs", []), runs):
            session.add(run)
            parent = raw.get("parent_index")
            if parent is not None:
                run.parent = by_index.get(parent)
        return session
