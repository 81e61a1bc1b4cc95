"""The snippet for a model remedy when the model is defined in another cell: plain Keras that rebuilds it with the
change (``clone_model`` with a changed layer config, or a new Sequential), then compiles it again as recorded."""

from __future__ import annotations

from typing import Any

from ..._internal.keras_names import SATURATING
from ..specs.keras_code import compile_rest, optimizer_code


def rebuild_snippet(remedy: Any, editor: Any) -> str:
    """Plain Keras that applies a model remedy to a model defined elsewhere: ``clone_model`` with a changed config
    (weights of unchanged layers copied), then compile again."""
    model = editor.model_var
    code = remedy.code
    k = "keras"
    lines = ["def _changed(layer):", "    config = layer.get_config()"]
    if code == "l2":
        factor = remedy.params["factor"]
        lines.append(
            "    if 'kernel_regularizer' in config:\n"
            f"        config['kernel_regularizer'] = {k}.regularizers.L2({factor!r})"
        )
    elif code == "he_init":
        lines.append(
            f"    if 'kernel_initializer' in config and layer is not {model}.layers[-1]:\n"
            f"        config.update(kernel_initializer='{remedy.params['initializer']}', bias_initializer='zeros')"
        )
        if remedy.params.get("activation"):
            lines.append(
                f"        if config.get('activation') in {SATURATING!r}:\n"
                f"            config['activation'] = '{remedy.params['activation']}'"
            )
    elif code in ("wider_model", "smaller_model"):
        f, least = float(remedy.params["factor"]), int(remedy.params.get("min_units") or 1)
        lines.append(
            f"    if 'units' in config and layer is not {model}.layers[-1]:\n"
            f"        config['units'] = max({least}, round(config['units'] * {f:g}))"
        )
    elif code in ("dropout", "batch_norm"):
        rate = remedy.params.get("rate", 0.3)
        new = f"{k}.layers.Dropout({rate!r})" if code == "dropout" else f"{k}.layers.BatchNormalization()"
        return (
            f"layers = []\nfor layer in {model}.layers:\n"
            "    layers.append(layer.__class__.from_config(layer.get_config()))\n"
            f"    if layer.__class__.__name__ == 'Dense' and layer is not {model}.layers[-1]:\n"
            f"        layers.append({new})\n"
            f"{model} = {k}.Sequential([{k}.Input({model}.input_shape[1:]), *layers])\n"
            f"{compile_line(remedy, model)}  # a rebuilt model must be compiled again"
        )
    else:
        return remedy.as_code()
    lines.append("    return layer.__class__.from_config(config)")
    lines.append(f"{model} = {k}.models.clone_model({model}, clone_function=_changed)")
    lines.append(f"{compile_line(remedy, model)}  # clone_model returns an uncompiled model")
    return "\n".join(lines)


def compile_line(remedy: Any, model: str) -> str:
    """The model's compile call as recorded (optimizer, learning rate, loss, metrics)."""
    ctx = remedy.context
    config = {
        "learning_rate": ctx.get("learning_rate"),
        "momentum": ctx.get("momentum"),
        "nesterov": ctx.get("nesterov"),
    }
    return f"{model}.compile(optimizer={optimizer_code(ctx.get('optimizer') or 'Adam', config)}, {compile_rest(ctx)})"
