"""The checks on what ``run.rerun(**overrides)`` and a sweep's grid may set, declared once.

A rerun's overrides reach Keras only after the plan is built, the model prepared and compiled: a value Keras
refuses then fails inside the fit (an ``error`` run), and one Keras accepts but that makes no sense (``epochs=-1``,
``epochs=0``) trains nothing and is recorded as a "completed" run of 0 epochs. So every override is checked here,
before anything is built or trained, and a mistake is one :class:`~stallmagic.remedies.RemedyError` sentence in
the template of the remedies' parameter checks: "The 'epochs' argument of rerun must be an int >= 1. Got -1
instead." ``stallmagic.sweep`` checks every value of its grid with the same table (:data:`CHECKS`), so a grid
cannot train what a rerun would refuse; only the words differ ("The 'epochs' value in the grid of sweep ...").

What is checked is what a value must be to mean something to ``fit`` or ``compile`` (its type and range); whether
the data fit the model (shapes, lengths) is Keras's to say. Keras is imported only to check a loss's name and a
callback's class.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .._internal.text import safe_repr
from ..remedies.remedy import RemedyError

__all__ = ["CHECKS", "Check", "check_epochs", "check_override", "check_overrides", "checked_learning_rate"]


# ---------------------------------------------------------------------- what a value may be


def _integer(value: Any) -> bool:
    """A whole number: a Python or numpy int (not a bool; ``3.0`` is not an int here: Keras counts with it)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _real(value: Any) -> bool:
    """A finite real number (a Python or numpy int or float, not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return math.isfinite(float(value))


def _int_from(low: int) -> Callable[[Any], bool]:
    return lambda value: _integer(value) and value >= low


def _optional(test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: value is None or test(value)


def _data_kind(value: Any) -> str | None:
    from ..capture.snapshot import data_kind

    return data_kind(value)


#: What ``fit`` reads as its data: in-memory arrays (and nested lists/dicts of them), a tf.data pipeline, a
#: PyDataset, a Python generator, a torch DataLoader.
_DATA_KINDS = ("arrays", "tf.data", "pydataset", "generator", "dataloader")


def _training_data(value: Any) -> bool:
    return _data_kind(value) in _DATA_KINDS


def _arrays(value: Any) -> bool:
    return value is None or _data_kind(value) == "arrays"


def _validation_data(value: Any) -> bool:
    """``None``, ``(x_val, y_val)`` or ``(x_val, y_val, sample_weight)``, or a dataset, PyDataset or generator."""
    if value is None:
        return True
    if isinstance(value, (list, tuple)):
        return len(value) in (2, 3) and all(_arrays(part) or _training_data(part) for part in value)
    return _training_data(value)


def _class_weight(value: Any) -> bool:
    """``None`` or a non-empty dict class -> weight >= 0."""
    if value is None:
        return True
    return isinstance(value, Mapping) and bool(value) and all(_real(w) and w >= 0 for w in value.values())


def _callbacks(value: Any) -> bool:
    """``None``, or a list or tuple of Keras callbacks (a ``CallbackList`` too, as ``fit`` takes one)."""
    if value is None:
        return True
    import keras

    if isinstance(value, keras.callbacks.CallbackList):
        return True
    return isinstance(value, (list, tuple)) and all(isinstance(cb, keras.callbacks.Callback) for cb in value)


def _loss(value: Any) -> bool:
    """A loss Keras knows by name, a callable (a loss object or function), or a list/dict of them per output."""
    if isinstance(value, str):
        import keras

        if value.lower() in ("crossentropy", "ce"):  # compile picks the cross-entropy from the labels
            return True
        try:
            keras.losses.get(value)
        except (ValueError, TypeError):
            return False
        return True
    if isinstance(value, Mapping):
        return bool(value) and all(_loss(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return bool(value) and all(_loss(v) for v in value)
    return callable(value)


def _metrics(value: Any) -> bool:
    """``None``, or a list, tuple or dict of metrics (``compile`` refuses a bare name: ``metrics="accuracy"``)."""
    return value is None or isinstance(value, (list, tuple, Mapping))


def _optimizer(value: Any) -> bool:
    """A name, ``{"class_name": ..., "config": {...}}``, an optimizer class or instance (the name itself is looked
    up when the plan builds the optimizer, which says which names exist)."""
    if isinstance(value, str):
        return bool(value)
    if isinstance(value, Mapping):
        return isinstance(value.get("class_name"), str) and isinstance(value.get("config", {}), (Mapping, type(None)))
    return isinstance(value, type) or hasattr(value, "get_config")


@dataclass(frozen=True)
class Check:
    """One override's check: ``test(value)`` says whether the value is allowed; ``allowed`` says what is, in the
    words of the message ("must be {allowed}")."""

    test: Callable[[Any], bool]
    allowed: str


#: Every override a rerun or a sweep's grid may set, with what it may be. The keys are the fit arguments
#: (``plan.FIT_KEYS``), the compile-side settings (``plan.COMPILE_KEYS``) and ``seed``.
CHECKS: dict[str, Check] = {
    "x": Check(_training_data, "arrays, a tf.data.Dataset, a keras.utils.PyDataset or a generator"),
    "y": Check(_arrays, "arrays or None"),
    "sample_weight": Check(_arrays, "an array or None"),
    "validation_data": Check(
        _validation_data, "None, (x_val, y_val[, sample_weight]) arrays, a tf.data.Dataset, a PyDataset or a generator"
    ),
    "batch_size": Check(_optional(_int_from(1)), "an int >= 1 or None"),
    "epochs": Check(_int_from(1), "an int >= 1"),
    "initial_epoch": Check(_int_from(0), "an int >= 0"),
    "verbose": Check(lambda v: v == "auto" or (_integer(v) and v in (0, 1, 2)), "'auto', 0, 1 or 2"),
    "callbacks": Check(_callbacks, "a list of keras.callbacks.Callback or None"),
    "validation_split": Check(lambda v: _real(v) and 0 <= v < 1, "a number >= 0 and < 1"),
    "shuffle": Check(lambda v: isinstance(v, bool) or v == "batch", "True, False or 'batch'"),
    "class_weight": Check(_class_weight, "a non-empty dict class -> weight >= 0, or None"),
    "steps_per_epoch": Check(_optional(_int_from(1)), "an int >= 1 or None"),
    "validation_steps": Check(_optional(_int_from(1)), "an int >= 1 or None"),
    "validation_batch_size": Check(_optional(_int_from(1)), "an int >= 1 or None"),
    "validation_freq": Check(_int_from(1), "an int >= 1"),
    "optimizer": Check(_optimizer, "a name, a config dict with a 'class_name', an optimizer class or instance"),
    "learning_rate": Check(lambda v: _real(v) and v > 0, "a number > 0"),
    "loss": Check(_loss, "a loss name Keras knows, a loss object or function, or a list or dict of them"),
    "metrics": Check(_metrics, "a list or dict of metrics, or None"),
    "clipnorm": Check(_optional(lambda v: _real(v) and v > 0), "a number > 0 or None"),
    "momentum": Check(_optional(lambda v: _real(v) and v >= 0), "a number >= 0 or None"),
    "weight_decay": Check(_optional(lambda v: _real(v) and v >= 0), "a number >= 0 or None"),
    "seed": Check(lambda v: _integer(v) and 0 <= v < 2**32, "an int from 0 to 2**32 - 1"),
}


# ---------------------------------------------------------------------- the checks


def _where(name: str, caller: str) -> str:
    """How the message names the value: an argument of ``rerun``, or a value in the grid of ``sweep``."""
    return f"The {name!r} value in the grid of sweep" if caller == "sweep" else f"The {name!r} argument of {caller}"


def check_override(name: Any, value: Any, *, caller: str = "rerun") -> None:
    """Raise :class:`RemedyError` unless ``name`` is an override a rerun accepts and ``value`` is allowed for it.

    Args:
        name: The override (``"epochs"``).
        value: What it was given.
        caller: ``"rerun"`` or ``"sweep"`` (the grid's values), for the message.

    Raises:
        RemedyError: "The 'epochs' argument of rerun must be an int >= 1. Got -1 instead."; an unknown name lists the
            accepted ones.
    """
    check = CHECKS.get(name) if isinstance(name, str) else None
    if check is None:
        what = "rerun() got an unexpected argument" if caller != "sweep" else "The grid of sweep has an unknown setting"
        raise RemedyError(
            f"{what} {safe_repr(name)}. It accepts the fit arguments and compile settings "
            f"({', '.join(k for k in CHECKS if k != 'seed')}) and seed"
            + (", and 'remedy'." if caller == "sweep" else ".")
        )
    try:
        allowed = bool(check.test(value))
    except Exception:  # a value whose comparisons raise (an array for a number): not allowed
        allowed = False
    if not allowed:
        raise RemedyError(f"{_where(name, caller)} must be {check.allowed}. Got {safe_repr(value)} instead.")


def check_overrides(overrides: Mapping[str, Any], *, caller: str = "rerun") -> None:
    """:func:`check_override` for each override, in order (the first mistake is the one reported)."""
    for name, value in overrides.items():
        check_override(name, value, caller=caller)


def checked_learning_rate(value: Any, *, caller: str = "rerun") -> float:
    """``value`` as a float once :func:`check_override` accepted it as a ``learning_rate``."""
    check_override("learning_rate", value, caller=caller)
    return float(value)


def check_epochs(fit: Mapping[str, Any], *, caller: str = "rerun") -> None:
    """Raise :class:`RemedyError` when the fit would train no epoch: ``initial_epoch`` at or beyond ``epochs`` (Keras
    then returns at once, and the run would read as completed)."""
    epochs, initial = fit.get("epochs", 1), fit.get("initial_epoch") or 0
    if _integer(epochs) and _integer(initial) and initial >= epochs:
        raise RemedyError(
            f"The rerun would train no epoch: {_where('initial_epoch', caller)} ({initial}) must be below epochs "
            f"({epochs})."
        )
