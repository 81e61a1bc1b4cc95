"""Every remedy a rerun applies changes the training, whatever style the model is written in, or is offered
disabled with its reason: activations inside ``Dense`` or as their own ``Activation`` layers; Sequential,
Functional and subclassed models. Real fits on 300 digits rows (a few tenths of a second each)."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

import stallmagic
from stallmagic.diagnosis import Finding
from stallmagic.remedies import Remedy, suggest
from stallmagic.rerun import trained_alike

L = keras.layers


def seq_inline():
    return keras.Sequential([
        keras.Input((64,)),
        L.Dense(16, activation="sigmoid"), L.Dense(16, activation="sigmoid"), L.Dense(10, activation="softmax"),
    ])  # fmt: skip


def seq_separate():
    return keras.Sequential([
        keras.Input((64,)),
        L.Dense(16), L.Activation("sigmoid"), L.Dense(16), L.Activation("sigmoid"),
        L.Dense(10), L.Activation("softmax"),
    ])  # fmt: skip


def functional_separate():
    inputs = keras.Input((64,))
    h = L.Activation("sigmoid")(L.Dense(16)(inputs))
    h = L.Activation("sigmoid")(L.Dense(16)(h))
    return keras.Model(inputs, L.Activation("softmax")(L.Dense(10)(h)))


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = L.Dense(16)
        self.act = L.Activation("sigmoid")
        self.out = L.Dense(10, activation="softmax")

    def call(self, x):
        return self.out(self.act(self.hidden(x)))


STYLES = {
    "sequential-inline": seq_inline,
    "sequential-separate": seq_separate,
    "functional-separate": functional_separate,
    "subclassed": Subclassed,
}
#: One remedy of every class that changes the model, the optimizer or the fit, with parameters that change
#: something on these runs. (A sigmoid output under a sparse cross-entropy would not do for ``fix_loss``: on
#: TensorFlow the loss reads the logits under a sigmoid or softmax output, whatever ``from_logits`` says, so
#: switching one for the other trains identically; softplus outputs are read as they are.)
REMEDIES = [
    Remedy("l2", {"factor": 1e-2}),
    Remedy("dropout", {"rate": 0.3}),
    Remedy("batch_norm"),
    Remedy("he_init", {"activation": "relu"}),
    Remedy("he_init", {"activation": None}),
    Remedy("wider_model"),
    Remedy("smaller_model"),
    Remedy("fix_loss", {"output_activation": "softplus"}),
    Remedy("fix_loss", {"output_units": 12, "output_activation": "softmax"}),
    Remedy("learning_rate", {"factor": 0.1}),
    Remedy("optimizer", {"optimizer": "SGD"}),
    Remedy("gradient_clipping", {"clipnorm": 0.01}),
    Remedy("class_weight"),
    Remedy("batch_size", {"batch_size": 8}),
    Remedy("epochs", {"epochs": 3}),
    Remedy("normalize_inputs"),
    Remedy("normalize_inputs", {"method": "arrays"}),
]


@pytest.fixture(scope="module")
def rows():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))[:300]
    return (x[order] * 4).astype("float32"), y[order]  # unscaled (0-64), so normalizing changes the inputs


def captured(style, rows, **fit):
    keras.utils.set_random_seed(0)
    model = STYLES[style]()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = rows
    with stallmagic.capture(label="orig") as session:
        model.fit(x, y, validation_split=0.25, epochs=2, batch_size=32, verbose=0, **fit)
    return session.runs[-1]


def hidden_activations(run):
    acts = [layer.activation for layer in run.model.layers if layer.activation not in (None, "linear")]
    return acts[:-1]  # the output's own activation is the loss's business


@pytest.mark.parametrize("style", list(STYLES))
def test_every_remedy_changes_the_training_or_says_why_not(style, rows, seed):
    run = captured(style, rows)
    for template in REMEDIES:
        remedy = Remedy(template.code, dict(template.params))
        reason = remedy.spec.unavailable(remedy, run)
        if reason:
            assert style == "subclassed", (remedy.code, reason)
            assert "subclassed" in reason
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            new = run.rerun(remedy)
        assert new.end == "completed", (remedy.code, remedy.params, new.error)
        assert not trained_alike(run, new), f"{remedy.code} {remedy.params} left the training unchanged ({style})"
        units = remedy.params.get("output_units") or 10
        assert new.model.output_units == units, (remedy.code, new.model.output_units)
        if remedy.code == "he_init" and remedy.params["activation"] == "relu":
            assert "sigmoid" not in hidden_activations(new), (style, hidden_activations(new))
    assert hidden_activations(run) and set(hidden_activations(run)) == {"sigmoid"}  # the user's model is as it was
    assert run.model is not None and run.session.runs[0] is run


def test_rebuilt_output_keeps_the_width_of_a_dense_followed_by_an_activation_layer(rows, seed):
    """``Dense(10)`` then ``Activation``: the Dense is the output layer; wider/smaller models leave it alone and a
    new output width goes into it (not into the Activation layer, which has no ``units``)."""
    run = captured("functional-separate", rows)
    for remedy in (Remedy("smaller_model"), Remedy("wider_model")):
        new = run.rerun(remedy)
        assert new.end == "completed" and new.model.output_units == 10
        widths = [layer.units for layer in new.model.layers if layer.units]
        factor = remedy.params["factor"]
        assert widths == [round(16 * factor), round(16 * factor), 10]


# ---------------------------------------------------------------- callbacks that would not act


def overfitting_rows():
    from sklearn.datasets import make_classification

    x, y = make_classification(120, 40, n_informative=3, flip_y=0.2, random_state=0)
    return x.astype("float32"), y


@pytest.mark.parametrize("code", ["early_stopping", "reduce_lr_on_plateau"])
def test_a_monitor_callback_is_disabled_exactly_when_the_rerun_would_not_change(code, rows, seed):
    """The replay of the callback's rule on the baseline's curve predicts the rerun: disabled where the val_loss
    never stalls for ``patience`` epochs (and a rerun really is identical), enabled where it does (and the rerun
    really differs)."""
    steady = captured("sequential-inline", rows)  # two epochs of a falling val_loss
    remedy = Remedy(code, {"patience": 1})
    reason = remedy.spec.unavailable(remedy, steady)
    assert reason and "would not have acted" in reason
    assert trained_alike(steady, steady.rerun(remedy))  # the prediction holds

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((40,)), L.Dense(256, activation="relu"), L.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    x, y = overfitting_rows()
    with stallmagic.capture() as session:
        model.fit(x, y, validation_split=0.3, epochs=12, batch_size=16, verbose=0)
    overfit = session.runs[-1]
    assert np.argmin(overfit.logs["val_loss"]) < 9  # val_loss turns up well before the end
    remedy = Remedy(code, {"patience": 2})
    assert remedy.spec.unavailable(remedy, overfit) is None
    assert not trained_alike(overfit, overfit.rerun(remedy))


def test_an_optimizer_or_learning_rate_the_run_already_has_is_offered_disabled(rows, seed):
    run = captured("sequential-inline", rows)
    same = Remedy("optimizer", {"optimizer": "Adam", "learning_rate": 1e-3})
    assert "already trains with Adam" in same.spec.unavailable(same, run)
    other = Remedy("optimizer", {"optimizer": "Adam", "learning_rate": 1e-2})
    assert other.spec.unavailable(other, run) is None
    rate = Remedy("learning_rate", {"learning_rate": 0.001})
    assert "already starts at learning rate" in rate.spec.unavailable(rate, run)


def test_class_weight_is_disabled_for_labels_per_step(seed):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 6, 4)).astype("float32")
    y = (rng.random((200, 6)) < 0.1).astype("int64") + (x[..., 0] > 1.5)  # a rare class per step, padding-like 0
    model = keras.Sequential([keras.Input((6, 4)), L.Dense(8, activation="relu"), L.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    with stallmagic.capture() as session:
        model.fit(x, y, validation_split=0.25, epochs=1, verbose=0)
    run = session.runs[-1]
    remedy = Remedy("class_weight")
    assert "per step" in remedy.spec.unavailable(remedy, run)
    finding = Finding("class_imbalance", "Imbalanced", "", {"majority_share": 0.8, "minority_classes": [2]}, 0.9)
    offered = [r for r in suggest(finding, run) if r.code == "class_weight"]
    assert all(r.disabled_reason for r in offered)


@pytest.mark.parametrize("loss", ["mse", "binary_crossentropy"])
def test_with_a_softmax_on_one_unit_only_the_output_fix_is_offered(cancer, loss, seed):
    """Softmax over one unit predicts the constant 1.0: every other remedy is offered disabled with the reason,
    and indeed a rerun with one of them predicts exactly as before (MSE: nothing trains at all; TensorFlow's
    binary cross-entropy reads the softmax's logits and moves the weights, but the output stays 1.0)."""
    x, y = cancer
    model = keras.Sequential(
        [keras.Input((30,)), L.Dense(16), L.Activation("relu"), L.Dense(1), L.Activation("softmax")]
    )
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with stallmagic.capture() as session:
            model.fit(x, y.astype("float32"), validation_split=0.25, epochs=3, verbose=0)
    run = session.runs[-1]
    report = run.diagnose()
    assert report.findings[0].code == "loss_mismatch"
    assert report.findings[0].remedies[0].code == "fix_loss" and report.findings[0].remedies[0].enabled
    others = [r for f in report.findings[1:] for r in f.remedies if r.kind == "rerun"]
    assert others and all("softmax over one unit" in (r.disabled_reason or "") for r in others)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        new = run.rerun(Remedy("learning_rate", {"factor": 10.0}))
    assert new.logs["val_accuracy"] == run.logs["val_accuracy"]
    if loss == "mse":
        assert trained_alike(run, new)
