"""Writing Keras calls as source text: the optimizer, the rest of a ``compile`` call, a loss, a callback.

``as_code`` and the cell rewrites (:mod:`stallmagic.remedies.source`) both write these, so a remedy's code reads
the same in the panel and in the user's cell. ``keras`` is how the code names Keras (``keras`` or ``tf.keras``:
a rewrite follows the cell's own imports). Numbers are written by :func:`stallmagic._internal.numbers.as_code`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._internal.numbers import as_code


def loss_code(name: str | None, from_logits: bool, keras: str = "keras") -> str:
    """The ``loss=`` argument: a string, or the loss class with ``from_logits=True`` (a string cannot say it)."""
    from ..._internal.keras_names import LOSS_CLASSES

    if name is None:
        return "..."
    if from_logits and name in LOSS_CLASSES:
        return f"{keras}.losses.{LOSS_CLASSES[name]}(from_logits=True)"
    return repr(name).replace("'", '"')


def compile_rest(ctx: Mapping[str, Any], *, loss: str | None = None, keras: str = "keras") -> str:
    """``loss=..., metrics=[...]`` for a compile call written out in full."""
    parts = [f"loss={loss or loss_code(ctx.get('loss'), bool(ctx.get('from_logits')), keras)}"]
    metrics = ctx.get("metrics")
    if metrics:
        parts.append("metrics=[" + ", ".join(f'"{m}"' for m in metrics) + "]")
    return ", ".join(parts)


def optimizer_code(name: str, config: Mapping[str, Any], keras: str = "keras") -> str:
    """``keras.optimizers.Name(learning_rate=..., ...)`` with the arguments of ``config`` that are set (momentum 0
    and ``nesterov=False`` are Keras's defaults, so they are left out)."""
    args = []
    order = ("learning_rate", "momentum", "nesterov", "weight_decay", "clipnorm")
    for key in order:
        value = config.get(key)
        if value is None or value is False or (key == "momentum" and not value):
            continue
        args.append(f"{key}={value!r}" if isinstance(value, bool) else f"{key}={as_code(float(value))}")
    return f"{keras}.optimizers.{name}({', '.join(args)})"


def callback_code(name: str, params: Mapping[str, Any], keys: tuple, keras: str = "keras") -> str:
    """``keras.callbacks.Name(key=value, ...)`` for the ``keys`` of ``params`` that are set, in that order."""
    args = []
    for key in keys:
        value = params.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            args.append(f'{key}="{value}"')
        elif isinstance(value, (bool, int)):
            args.append(f"{key}={value!r}")
        else:
            args.append(f"{key}={as_code(float(value))}")
    return f"{keras}.callbacks.{name}({', '.join(args)})"
