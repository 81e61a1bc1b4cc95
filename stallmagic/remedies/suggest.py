"""``suggest(finding, run, signals)``: the remedies for one finding, most promising first.

One small function per cause code reads the finding's evidence (defensively: ``.get``, since evidence keys are
the diagnosis's to tune) and the run's records, and chooses parameters from them: the learning rate to go to from
``lr_vs_usual``, the patience from the number of epochs, the class weights from the training labels, the rows to
drop from ``suspect_rows``. Then every remedy that cannot apply to this run (a subclassed model, a tf.data input,
no validation data, data from a Python generator that a rerun would have to read again, a fit on several worker
processes) is kept but disabled with
the reason, and sorted after the ones that can. Every cause gets at least one remedy that applies or a
recommendation. Pure: no Keras import.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._internal.numbers import finite_or_none
from .._internal.optimizers import USUAL_LR
from ..diagnosis.signals import REGRESSION_LOSSES
from ..record import Run
from .remedy import Remedy
from .specs.availability import one_shot_data, several_workers
from .specs.context import context_of

Builder = Callable[[dict, Run, Any], list[Remedy]]


def suggest(finding: Any, run: Run, signals: Any = None) -> list[Remedy]:
    """The remedies for ``finding`` on ``run``, most promising first.

    Args:
        finding: A :class:`~stallmagic.diagnosis.report.Finding`.
        run: The run it was found in.
        signals: The diagnosis's :class:`~stallmagic.diagnosis.signals.Signals` (labels, probe), or ``None``.

    Returns:
        Remedies that apply first (in order of promise), then recommendations, then the ones that do not apply
        here, each with its ``disabled_reason``. Never empty for a known cause.
    """
    evidence = dict(getattr(finding, "evidence", None) or {})
    builder = BUILDERS.get(finding.code)
    try:
        remedies = builder(evidence, run, signals) if builder is not None else []
    except Exception:  # evidence this builder did not expect: a diagnosis must never fail on its remedies
        remedies = []
    ctx = context_of(run)
    out: list[Remedy] = []
    seen: set = set()
    for remedy in remedies:
        if remedy.key in seen:
            continue
        seen.add(remedy.key)
        remedy.finding_code = finding.code
        remedy.context = {**ctx, **remedy.context}
        if remedy.kind == "rerun" and remedy.disabled_reason is None:
            remedy.disabled_reason = (
                one_shot_data(run)
                or several_workers(run)
                or remedy.spec.unavailable(remedy, run)
                or _blocked_by_output(remedy, run)
            )
        out.append(remedy)
    rank = {True: 0, False: 1}
    out.sort(key=lambda r: rank[r.enabled or r.kind == "advice"])  # stable: keeps the order of promise
    if not any(r.enabled or r.kind == "advice" for r in out):
        out.insert(0, _fallback_advice(finding))  # the finding's own advice, ahead of what cannot apply here
    return out


def _blocked_by_output(remedy: Remedy, run: Run) -> str | None:
    """Why no change but the output's can help this run: a softmax over a single unit outputs the constant 1.0
    whatever the weights, so the predictions and every metric computed from them stay exactly as they are.
    (With most losses nothing trains at all; TensorFlow's binary cross-entropy reads the softmax's logits and
    moves the weights, but the output stays 1.0.)"""
    model = run.model
    if model is None or remedy.code == "fix_loss":
        return None
    if model.output_activation == "softmax" and model.output_units == 1:
        return (
            "The output is a softmax over one unit, which predicts the constant 1.0 whatever the weights, so this "
            "change cannot move the predictions or the accuracy; fix the output layer first."
        )
    return None


def _fallback_advice(finding: Any) -> Remedy:
    """A recommendation in the finding's own words, when nothing in the catalogue applies to this run."""
    return Remedy(
        "fix_code",
        {"text": getattr(finding, "explanation", "")},
        evidence=dict(getattr(finding, "evidence", None) or {}),
        finding_code=finding.code,
    )


# ---------------------------------------------------------------------- helpers


def _lr(run: Run, evidence: dict) -> float | None:
    lr = finite_or_none(evidence.get("learning_rate"))
    if lr is None and run.learning_rates and run.learning_rates[0] is not None:
        lr = float(run.learning_rates[0])
    if lr is None and run.model is not None:
        lr = run.model.initial_learning_rate
    return lr


def _usual(run: Run) -> float:
    name = run.model.optimizer_name if run.model is not None else None
    return USUAL_LR.get(name or "", 1e-3)


def _round_lr(value: float) -> float:
    """A learning rate a person would type: 1, 2 or 5 times a power of ten."""
    exp = math.floor(math.log10(value))
    mant = value / 10**exp
    best = min((1, 2, 5, 10), key=lambda m: abs(math.log(mant / m)))
    return float(f"{best * 10**exp:.3g}")


def _patience(run: Run) -> int:
    """About a tenth of the epochs asked, between 3 and 10."""
    return int(min(10, max(3, round(run.fit.epochs_asked / 10) + 2)))


def _monitor(run: Run) -> str:
    return "val_loss" if run.fit.validation != "none" else "loss"


def _regularizers(run: Run) -> tuple[float | None, float]:
    """(largest L2 factor on any kernel, largest dropout rate) in the model."""
    l2 = None
    dropout = 0.0
    if run.model is None:
        return l2, dropout
    for layer in run.model.layers:
        reg = layer.kernel_regularizer or {}
        value = (reg.get("config") or {}).get("l2")
        if isinstance(value, (int, float)):
            l2 = max(l2 or 0.0, float(value))
        if layer.rate is not None and "Dropout" in layer.class_name:
            dropout = max(dropout, float(layer.rate))
    return l2, dropout


def _early_stopping(run: Run) -> Remedy:
    patience = _patience(run)
    basis = f"patience {patience}: about a tenth of the {run.fit.epochs_asked} epochs asked, plus 2, kept within 3-10"
    return Remedy("early_stopping", {"monitor": _monitor(run), "patience": patience}, evidence={"basis": basis})


def _class_weight_params(run: Run, signals: Any) -> dict:
    """Balanced weights keyed as Keras reads ``class_weight`` (label value, or one-hot column)."""
    labels = getattr(signals, "labels", None) if signals is not None else None
    if labels is None:
        return {}
    y = labels.train_all if labels.train_all is not None else labels.train
    if y is None:
        return {}
    y = np.asarray(y)
    y = y[y >= 0]
    if len(y) == 0:
        return {}
    counts = np.bincount(y, minlength=labels.k).astype(float)
    present = np.flatnonzero(counts)
    weights = len(y) / (len(present) * counts[present])  # sklearn's "balanced"
    keys = [int(c) if labels.fmt == "onehot" else labels.classes[c].item() for c in present]
    if not all(isinstance(k, int) for k in keys):
        return {}  # string labels: Keras needs indices, leave the computation to the rerun
    return {"class_weight": {k: round(float(w), 6) for k, w in zip(keys, weights)}}


# ---------------------------------------------------------------------- one builder per cause


def _class_imbalance(ev: dict, run: Run, s: Any) -> list[Remedy]:
    return [
        Remedy("class_weight", _class_weight_params(run, s)),
        Remedy("collect_minority", {"minority_classes": ev.get("minority_classes")}, evidence=ev),
    ]


def _overfitting(ev: dict, run: Run, s: Any) -> list[Remedy]:
    l2, dropout = _regularizers(run)
    gap = finite_or_none(ev.get("train_minus_val")) or 0.0
    out = [_early_stopping(run)]
    rate = round(min(0.6, dropout + 0.2), 2) if dropout else 0.3
    basis = (
        f"rate {rate}: 0.2 above the model's own {dropout:g}, at most 0.6"
        if dropout
        else "rate 0.3: the usual first try for a network without dropout"
    )
    out.append(Remedy("dropout", {"rate": rate}, evidence={"basis": basis}))
    factor = max(1e-3 if gap > 0.15 else 1e-4, (l2 or 0.0) * 10)
    usual = "1e-3 for a train/validation gap above 0.15" if gap > 0.15 else "1e-4, the usual first try"
    own = l2 and factor == l2 * 10
    basis = f"factor {factor:g}: " + (f"ten times the model's own {l2:g}" if own else usual)
    out.append(Remedy("l2", {"factor": factor}, evidence={"basis": basis}))
    params = run.model.trainable_params if run.model is not None else None
    if params and run.fit.n_train and params / run.fit.n_train > 10:
        out.append(Remedy("smaller_model", {"factor": 0.5}))
    return out


def _underfitting(ev: dict, run: Run, s: Any) -> list[Remedy]:
    l2, dropout = _regularizers(run)
    squeeze = ev.get("bottleneck")
    if squeeze:  # a layer narrower than the classes: doubling it is not enough, it must reach their number
        return [
            Remedy("wider_model", {"factor": 2.0, "min_units": int(squeeze["classes"])}, title="Widen the bottleneck"),
            Remedy("epochs", {"epochs": max(run.fit.epochs * 2, run.fit.epochs + 10)}),
        ]
    out = []
    if l2:
        out.append(Remedy("l2", {"factor": float(f"{l2 / 100:.3g}"), "current": l2}, title="Weaken the L2 penalty"))
    if dropout >= 0.2:
        out.append(Remedy("dropout", {"rate": round(dropout / 2, 2), "current": dropout}, title="Less dropout"))
    out.append(Remedy("wider_model", {"factor": 2.0}))
    if ev.get("converged") is False:
        out.append(Remedy("epochs", {"epochs": max(run.fit.epochs * 2, run.fit.epochs + 10)}))
    return out


def _lr_too_high(ev: dict, run: Run, s: Any) -> list[Remedy]:
    lr = _lr(run, ev)
    out = []
    if lr:
        target = min(_usual(run), lr / 10)
        out.append(Remedy("learning_rate", {"learning_rate": _round_lr(target), "factor": None, "measure": True}))
    else:
        out.append(Remedy("learning_rate", {"factor": 0.1}))
    out.append(Remedy("reduce_lr_on_plateau", {"monitor": _monitor(run), "patience": 2}))
    out.append(Remedy("gradient_clipping", {"clipnorm": 1.0}))
    return out


def _lr_too_low(ev: dict, run: Run, s: Any) -> list[Remedy]:
    lr = _lr(run, ev)
    out = []
    if lr:
        target = max(_usual(run), lr * 10)
        out.append(Remedy("learning_rate", {"learning_rate": _round_lr(min(target, lr * 100)), "measure": True}))
    else:
        out.append(Remedy("learning_rate", {"factor": 10.0}))
    out.append(Remedy("epochs", {"epochs": max(run.fit.epochs * 2, run.fit.epochs + 10)}))
    return out


def _batch_size(ev: dict, run: Run, s: Any) -> list[Remedy]:
    bs = finite_or_none(ev.get("batch_size")) or run.fit.batch_size
    n = finite_or_none(ev.get("n_train")) or run.fit.n_train
    if bs is not None and bs <= 4:
        new, basis = 32, f"batch 32: the usual size, instead of {int(bs)} rows whose gradients are mostly noise"
    elif not n:
        new, basis = 32, "batch 32: the usual size"
    else:
        new = int(min(128, max(16, 2 ** round(math.log2(max(16.0, n / 50))))))
        basis = f"batch {new}: the power of two nearest {int(n):,} training rows / 50 (about 50 steps an epoch), 16-128"
    replicas = run.fit.replicas
    if replicas > 1 and new % replicas:  # each batch is split evenly across the fit's devices
        new = max(replicas, round(new / replicas) * replicas)
        basis += f"; rounded to {new}, a multiple of the fit's {replicas} replicas"
    return [Remedy("batch_size", {"batch_size": int(new)}, evidence={"basis": basis})]


def _optimizer_choice(ev: dict, run: Run, s: Any) -> list[Remedy]:
    name = ev.get("optimizer") or (run.model.optimizer_name if run.model is not None else None)
    lr = _lr(run, ev)
    out = [Remedy("optimizer", {"optimizer": "Adam", "learning_rate": 1e-3})]
    if name == "SGD":
        out.append(Remedy("optimizer", {"optimizer": "SGD", "learning_rate": lr or 0.01, "momentum": 0.9}))
    out.append(Remedy("optimizer", {"optimizer": "RMSprop", "learning_rate": 1e-3}))
    return out


def _loss_mismatch(ev: dict, run: Run, s: Any) -> list[Remedy]:
    """The fix for the configuration check that fired (``ev["check"]``, see
    :data:`stallmagic.diagnosis.rules.configuration.CHECKS`); checks with no fix a rerun can make (labels that need
    re-encoding) fall back to the finding's own advice."""
    loss = ev.get("loss") or (run.model.loss.name if run.model is not None else None)
    act, units, logits = ev.get("output_activation"), ev.get("output_units"), bool(ev.get("from_logits"))
    fmt, k = ev.get("label_format"), ev.get("n_classes")
    sparse_or_onehot = "categorical_crossentropy" if fmt == "onehot" else "sparse_categorical_crossentropy"
    fixes: dict[str, dict | None] = {
        "softmax_on_one_unit": (  # continuous targets keep their loss with a linear output; classes get sigmoid
            {"loss": loss, "output_activation": "linear"}
            if fmt == "continuous" or (fmt is None and loss in REGRESSION_LOSSES)
            else {"loss": "binary_crossentropy", "output_activation": "sigmoid"}
        ),
        "logits_on_probabilities": {"loss": loss, "from_logits": False},
        "cross_entropy_on_raw_output": (
            {"loss": loss, "output_activation": "softmax" if (units or 1) > 1 else "sigmoid"}
            if act == "relu"
            else {"loss": loss, "from_logits": True}
        ),
        "sparse_on_onehot": {"loss": "categorical_crossentropy", "from_logits": logits},
        "sparse_on_one_unit": {"loss": "binary_crossentropy", "output_activation": "sigmoid"},
        "categorical_on_integers": {"loss": "sparse_categorical_crossentropy", "from_logits": logits},
        "one_unit_for_many_classes": {
            "loss": "sparse_categorical_crossentropy",
            "output_activation": "softmax",
            **({"output_units": int(k)} if k and units != k else {}),
        },
        "binary_loss_on_one_label_classes": {"loss": sparse_or_onehot, "output_activation": "softmax"},
        "softmax_on_multihot": {"loss": "binary_crossentropy", "output_activation": "sigmoid"},
        "labels_beyond_output": (
            {"loss": loss, "output_units": int(ev["max_label"]) + 1} if ev.get("max_label") is not None else None
        ),
        "targets_out_of_range": ({"loss": loss, "output_activation": "linear"} if loss in REGRESSION_LOSSES else None),
        "regression_loss_on_classes": (
            {"loss": "binary_crossentropy"} if act == "sigmoid" else {"loss": sparse_or_onehot}
        ),
    }
    params = fixes.get(ev.get("check") or _check_from_evidence(ev))
    return [Remedy("fix_loss", params)] if params else []


def _check_from_evidence(ev: dict) -> str:
    """Which configuration check a finding's evidence describes, for evidence that does not name it (a report
    saved before checks were named, a finding built by hand): the table run again on the evidence alone."""
    from ..diagnosis.rules.configuration import CHECKS, Setup

    top = ev.get("max_label")
    setup = Setup(
        loss=str(ev.get("loss")),
        logits=bool(ev.get("from_logits")),
        act=ev.get("output_activation"),
        units=ev.get("output_units"),
        fmt=ev.get("label_format"),
        k=ev.get("n_classes"),
        classes=np.arange(int(top) + 1) if isinstance(top, (int, np.integer)) else None,
        y=None,
        backend=ev.get("backend"),
    )
    return next((check.__name__.lstrip("_") for check in CHECKS if check(setup) is not None), "")


def _vanishing_gradient(ev: dict, run: Run, s: Any) -> list[Remedy]:
    saturating = (finite_or_none(ev.get("saturating_layers")) or 0) > 0 or _has_saturating(run)
    out = [Remedy("he_init", {"activation": "relu" if saturating else None}), Remedy("batch_norm")]
    if run.model is not None and run.model.optimizer_name == "SGD":
        out.append(Remedy("optimizer", {"optimizer": "Adam", "learning_rate": 1e-3}))
    return out


def _has_saturating(run: Run) -> bool:
    if run.model is None:
        return False
    return any(layer.activation in ("sigmoid", "tanh") for layer in run.model.layers[:-1])


def _exploding_gradient(ev: dict, run: Run, s: Any) -> list[Remedy]:
    # The rule fires on gradients that are huge at the *starting* weights: the initialization is the root, so a
    # scaled initialization comes first; clipping only bounds each step.
    return [
        Remedy("he_init", {"activation": None}),
        Remedy("gradient_clipping", {"clipnorm": 1.0}),
        Remedy("batch_norm"),
        Remedy("learning_rate", {"factor": 0.1}),
    ]


def _dying_relu(ev: dict, run: Run, s: Any) -> list[Remedy]:
    out = [Remedy("he_init", {"activation": None})]
    lr = _lr(run, ev)
    if lr and lr > 3 * _usual(run):
        out.append(Remedy("learning_rate", {"learning_rate": _round_lr(_usual(run))}))
    out.append(Remedy("batch_norm"))
    return out


def _data_quality(ev: dict, run: Run, s: Any) -> list[Remedy]:
    out = []
    if (finite_or_none(ev.get("nonfinite_inputs")) or 0) > 0:
        out.append(Remedy("impute_inputs"))
    out.append(Remedy("clean_data", evidence=ev))
    return out


def _data_leakage(ev: dict, run: Run, s: Any) -> list[Remedy]:
    return [
        Remedy("deduplicate_validation", evidence=ev),
        Remedy("deduplicate", {"shared_share": finite_or_none(ev.get("shared_share"))}, evidence=ev),
    ]


def _unshuffled_validation_split(ev: dict, run: Run, s: Any) -> list[Remedy]:
    split = finite_or_none(ev.get("validation_split")) or run.fit.validation_split or None
    return [Remedy("stratified_split", {"validation_split": split, "seed": 0})]


def _unscaled_inputs(ev: dict, run: Run, s: Any) -> list[Remedy]:
    style = run.model.style if run.model is not None else None
    method = "arrays" if style == "subclassed" else "layer"
    return [Remedy("normalize_inputs", {"method": method})]


def _insufficient_data(ev: dict, run: Run, s: Any) -> list[Remedy]:
    n = finite_or_none(ev.get("n_train")) or run.fit.n_train
    params = {
        "n_train": int(n) if n else None,
        "suggested_rows": int(2 * n) if n else None,
        "gain_last_doubling": finite_or_none(ev.get("gain_last_doubling")),
        "learning_curve": ev.get("learning_curve") or [],
        "probe_model": ev.get("probe_model"),
    }
    _, dropout = _regularizers(run)
    return [
        Remedy("more_data", params, evidence=ev),
        Remedy("dropout", {"rate": round(min(0.6, dropout + 0.2), 2) if dropout else 0.3}),
        _early_stopping(run),
    ]


def _label_noise(ev: dict, run: Run, s: Any) -> list[Remedy]:
    rows = [int(r) for r in (ev.get("suspect_rows") or []) if isinstance(r, (int, np.integer))]
    checked = ev.get("rows_checked")
    return [
        Remedy("drop_suspect_labels", {"rows": rows, "rows_checked": checked}),
        Remedy("relabel", {"rows": rows}, evidence={k: v for k, v in ev.items() if k != "suspect_rows"}),
    ]


def _train_longer(ev: dict, run: Run, s: Any) -> list[Remedy]:
    return [
        Remedy("epochs", {"epochs": max(run.fit.epochs * 2, run.fit.epochs + 10)}),
        _early_stopping(run),
    ]


def _unscaled_targets(ev: dict, run: Run, s: Any) -> list[Remedy]:
    return [Remedy("scale_targets", {"target_scale": finite_or_none(ev.get("target_scale"))}, evidence=ev)]


def _distribution_shift(ev: dict, run: Run, s: Any) -> list[Remedy]:
    return [Remedy("same_preprocessing", {"features": ev.get("most_shifted_features")}, evidence=ev)]


BUILDERS: dict[str, Builder] = {
    "train_longer": _train_longer,
    "unscaled_targets": _unscaled_targets,
    "distribution_shift": _distribution_shift,
    "class_imbalance": _class_imbalance,
    "overfitting": _overfitting,
    "underfitting": _underfitting,
    "lr_too_high": _lr_too_high,
    "lr_too_low": _lr_too_low,
    "batch_size": _batch_size,
    "optimizer_choice": _optimizer_choice,
    "loss_mismatch": _loss_mismatch,
    "vanishing_gradient": _vanishing_gradient,
    "exploding_gradient": _exploding_gradient,
    "dying_relu": _dying_relu,
    "data_quality": _data_quality,
    "data_leakage": _data_leakage,
    "unshuffled_validation_split": _unshuffled_validation_split,
    "unscaled_inputs": _unscaled_inputs,
    "insufficient_data": _insufficient_data,
    "label_noise": _label_noise,
}
