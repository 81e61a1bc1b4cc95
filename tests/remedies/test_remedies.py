"""The remedy catalogue: what each remedy offers (pure), and that each one reaches Keras as intended (real fits)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import stallmagic
from stallmagic.diagnosis import CAUSES, Finding
from stallmagic.record import FitRecord, LayerRecord, LossRecord, ModelRecord, Run
from stallmagic.remedies import CODES, Remedy, RemedyError, suggest

# ---------------------------------------------------------------- pure: records built by hand


def record_run(*, style="sequential", validation="split", data_kind="arrays", sample_weight=False, epochs=20):
    layers = [
        LayerRecord("dense", "Dense", units=64, activation="relu", kernel_initializer="GlorotUniform"),
        LayerRecord("dense_1", "Dense", units=10, activation="softmax"),
    ]
    model = ModelRecord(
        name="m", class_name="Sequential", style=style, layers=layers, params=4810, trainable_params=4810,
        output_activation="softmax", output_units=10,
        loss=LossRecord("sparse_categorical_crossentropy", False), metrics=["accuracy"],
        optimizer={"class_name": "Adam", "config": {"learning_rate": 0.3}},
    )  # fmt: skip
    fit = FitRecord(
        batch_size=32, epochs=epochs, validation=validation, validation_split=0.2 if validation == "split" else 0.0,
        data_kind=data_kind, sample_weight=sample_weight, n_train=400, steps_per_epoch=13,
    )  # fmt: skip
    return Run(index=0, label="r", fit=fit, model=model, learning_rates=[0.3])


EVIDENCE = {
    "insufficient_data": {"n_train": 400, "learning_curve": [[100, 0.7], [200, 0.8], [400, 0.86]],
                          "gain_last_doubling": 0.06, "probe_model": "logistic regression"},
    "class_imbalance": {"majority_share": 0.95, "minority_classes": [1], "minority_recall": 0.05},
    "label_noise": {"suspect_rows": [3, 17, 40], "rows_checked": 400, "estimated_noise_rate": 0.2},
    "data_quality": {"nonfinite_inputs": 12, "rows_with_nonfinite": 10},
    "data_leakage": {"shared_share": 0.8},
    "unscaled_inputs": {"max_feature_scale": 4000.0},
    "unshuffled_validation_split": {"validation_split": 0.2, "classes_only_in_validation": [9]},
    "overfitting": {"train_minus_val": 0.2, "val_loss_min_epoch": 5},
    "underfitting": {"converged": True, "regularized_layers": 0},
    "lr_too_high": {"learning_rate": 0.3, "lr_vs_usual": 300.0, "optimizer": "Adam"},
    "lr_too_low": {"learning_rate": 2e-5, "lr_vs_usual": 0.02, "optimizer": "Adam"},
    "batch_size": {"batch_size": 400, "steps_per_epoch": 1, "n_train": 400},
    "optimizer_choice": {"optimizer": "SGD", "learning_rate": 0.01},
    "loss_mismatch": {"loss": "binary_crossentropy", "from_logits": False, "output_activation": "softmax",
                      "output_units": 1},
    "vanishing_gradient": {"first_to_last_gradient_ratio": 1e-6, "saturating_layers": 9},
    "exploding_gradient": {"max_gradient_to_weight": 1e5},
    "dying_relu": {"dead_share_mean": 0.8},
    "unscaled_targets": {"target_scale": 4200.0, "network_r2": 0.02, "baseline_r2": 0.9},
    "distribution_shift": {"train_vs_val_auc": 0.99, "most_shifted_features": [3, 0, 7]},
    "train_longer": {"epochs": 8, "curve": "val_accuracy", "slope_per_epoch": 0.02},
}  # fmt: skip


def finding(code, **evidence):
    return Finding(code, code, "The finding's own advice.", {**EVIDENCE[code], **evidence}, 0.8)


def test_every_cause_gets_an_applicable_remedy_or_a_recommendation():
    assert set(EVIDENCE) == set(CAUSES)
    run = record_run()
    for code in CAUSES:
        remedies = suggest(finding(code), run, None)
        assert remedies, code
        assert remedies[0].enabled or remedies[0].kind == "advice", (code, remedies[0])
        for remedy in remedies:
            assert remedy.finding_code == code and remedy.code in CODES
            assert remedy.describe().endswith(".") and len(remedy.describe()) < 400
            assert remedy.as_code().strip()
            json.dumps(remedy.to_dict())


def test_even_on_a_subclassed_model_with_a_tf_data_input_every_cause_keeps_an_option():
    run = record_run(style="subclassed", data_kind="tf.data", validation="data")
    for code in CAUSES:
        remedies = suggest(finding(code), run, None)
        assert any(r.enabled or r.kind == "advice" for r in remedies), code
        disabled = [r for r in remedies if r.disabled_reason]
        assert all(r.disabled_reason.endswith(".") for r in disabled)
        first_disabled = next((i for i, r in enumerate(remedies) if r.disabled_reason), len(remedies))
        assert all(r.disabled_reason for r in remedies[first_disabled:])  # disabled ones come last


def test_parameters_are_chosen_from_the_evidence():
    run = record_run()
    high = suggest(finding("lr_too_high"), run, None)[0]
    assert high.code == "learning_rate" and high.params["learning_rate"] == pytest.approx(0.001)
    assert "instead of 0.3" in high.describe() and "overshooting" in high.describe()
    low = suggest(finding("lr_too_low"), record_run(), None)[0]
    assert low.params["learning_rate"] == pytest.approx(0.001)  # 2e-5 -> Adam's usual 1e-3 (at most 100x)
    batch = suggest(finding("batch_size"), run, None)[0]
    assert batch.params == {"batch_size": 16} and "updates per epoch instead of 13" in batch.describe()
    stop = suggest(finding("overfitting"), run, None)[0]
    assert stop.code == "early_stopping" and stop.params["patience"] == 4  # 20 epochs -> 4
    noise = suggest(finding("label_noise"), run, None)
    assert noise[0].params["rows"] == [3, 17, 40] and noise[1].kind == "advice"
    loss = suggest(finding("loss_mismatch"), run, None)[0]
    assert loss.params["output_activation"] == "sigmoid" and loss.params["loss"] == "binary_crossentropy"
    more = suggest(finding("insufficient_data"), run, None)[0]
    assert more.kind == "advice" and "800 rows" in more.describe() and "+0.060" in more.describe()


def test_remedies_that_do_not_apply_are_offered_disabled_with_the_reason():
    with_weights = suggest(finding("class_imbalance"), record_run(sample_weight=True), None)
    cw = next(r for r in with_weights if r.code == "class_weight")
    assert not cw.enabled and "sample_weight" in cw.disabled_reason
    no_val = suggest(finding("overfitting"), record_run(validation="none"), None)
    stop = next(r for r in no_val if r.code == "early_stopping")
    assert stop.enabled and stop.params["monitor"] == "loss"  # without validation it monitors the training loss
    subclassed = suggest(finding("vanishing_gradient"), record_run(style="subclassed"), None)
    bn = next(r for r in subclassed if r.code == "batch_norm")
    assert "subclassed" in bn.disabled_reason
    assert next(r for r in subclassed if r.code == "he_init").enabled  # in place: works on any model
    tfdata = suggest(finding("batch_size"), record_run(data_kind="tf.data"), None)
    assert tfdata[0].kind == "advice" and "rebatch" in tfdata[-1].disabled_reason  # advice first, then disabled


def test_parameter_mistakes_raise_one_clear_sentence():
    with pytest.raises(RemedyError, match=r"^The 'patience' parameter of the 'early_stopping' remedy must be an int "
                       r">= 1\. Got 0 instead\.$"):  # fmt: skip
        Remedy("early_stopping", {"patience": 0})
    with pytest.raises(RemedyError, match=r"must be a number >= 0 and <= 0\.95\. Got 1\.5 instead"):
        Remedy("dropout", {"rate": 1.5})
    with pytest.raises(RemedyError, match=r"Unknown remedy code 'dropouts'\. Known codes are: class_weight"):
        Remedy("dropouts")
    with pytest.raises(RemedyError, match="needs a 'learning_rate'"):
        Remedy("learning_rate")


def test_a_remedy_round_trips_through_json():
    remedy = suggest(finding("lr_too_high"), record_run(), None)[0]
    data = json.loads(json.dumps(remedy.to_dict()))
    back = Remedy.from_dict(data)
    assert (back.code, back.params, back.title, back.finding_code) == (
        remedy.code, remedy.params, remedy.title, remedy.finding_code,
    )  # fmt: skip
    assert back.as_code() == remedy.as_code()
    cw = Remedy.from_dict(json.loads(json.dumps(Remedy("class_weight", {"class_weight": {0: 1.0, 1: 4.0}}).to_dict())))
    assert cw.params["class_weight"] == {0: 1.0, 1: 4.0}


def test_the_package_and_suggest_run_without_keras():
    code = textwrap.dedent(
        """
        import sys
        sys.modules["keras"] = None
        sys.modules["tensorflow"] = None
        import stallmagic.remedies as r
        from stallmagic.diagnosis import Finding
        from stallmagic.record import Run
        out = r.suggest(Finding("overfitting", "t", "e", {}, 0.9), Run(index=0, label="x"), None)
        print(len(out), out[0].code, "keras" in sys.modules and sys.modules["keras"] is not None)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["3", "early_stopping", "False"]


# ---------------------------------------------------------------- Keras: each remedy reaches the training


@pytest.fixture(scope="module")
def digits_run():
    """One original run on 500 digits rows: a tanh MLP (no dropout), Adam, validation_split=0.2, 2 epochs."""
    from sklearn.datasets import load_digits

    keras.utils.set_random_seed(0)
    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))[:500]
    x, y = (x[order] / 16.0).astype("float32"), y[order]
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(16, activation="tanh", name="hidden"),
            keras.layers.Dense(10, activation="softmax", name="out"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    with stallmagic.capture(label="digits") as session:
        model.fit(x, y, validation_split=0.2, epochs=2, batch_size=32, verbose=0)
    return session.runs[0], x.copy(), y.copy()


def rerun(digits_run, remedy):
    run = digits_run[0]
    new = run.rerun(remedy)
    assert new.end == "completed", new.error
    assert new.remedy is remedy and new.parent is run
    kwargs = new.fit_call["kwargs"]
    return new, kwargs, new.keras_model


def callbacks_of(kwargs, name):
    return [cb for cb in kwargs["callbacks"] if type(cb).__name__ == name]


def test_class_weight_reaches_fit_as_balanced_dict(digits_run):
    from sklearn.utils.class_weight import compute_class_weight

    new, kwargs, _ = rerun(digits_run, Remedy("class_weight"))
    y_train = digits_run[2][:400]
    expected = compute_class_weight("balanced", classes=np.unique(y_train), y=y_train)
    assert kwargs["class_weight"] == pytest.approx(dict(enumerate(expected)), rel=1e-5)
    # The property behind "balanced": every class carries the same total weight.
    totals = [kwargs["class_weight"][c] * np.sum(y_train == c) for c in np.unique(y_train)]
    assert np.allclose(totals, totals[0])
    assert new.fit.class_weight is not None


def test_early_stopping_and_plateau_callbacks_reach_fit(digits_run):
    _, kwargs, _ = rerun(digits_run, Remedy("early_stopping", {"patience": 2}))
    (es,) = callbacks_of(kwargs, "EarlyStopping")
    assert (es.monitor, es.patience, es.restore_best_weights) == ("val_loss", 2, True)
    _, kwargs, _ = rerun(digits_run, Remedy("reduce_lr_on_plateau", {"factor": 0.2, "patience": 1}))
    (plateau,) = callbacks_of(kwargs, "ReduceLROnPlateau")
    assert (plateau.factor, plateau.patience) == (0.2, 1)


def test_learning_rate_optimizer_and_clipping_reach_the_compiled_optimizer(digits_run):
    new, _, model = rerun(digits_run, Remedy("learning_rate", {"factor": 0.1}))
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1e-4)
    assert new.learning_rates[0] == pytest.approx(1e-4)
    _, _, model = rerun(digits_run, Remedy("optimizer", {"optimizer": "SGD", "learning_rate": 0.05}))
    opt = model.optimizer
    assert type(opt).__name__ == "SGD" and float(opt.momentum) == pytest.approx(0.9) and opt.nesterov
    assert float(opt.learning_rate.numpy()) == pytest.approx(0.05)
    _, _, model = rerun(digits_run, Remedy("optimizer", {"optimizer": "AdamW"}))
    assert type(model.optimizer).__name__ == "AdamW" and model.optimizer.weight_decay == pytest.approx(0.004)
    _, _, model = rerun(digits_run, Remedy("gradient_clipping", {"clipnorm": 0.5}))
    assert type(model.optimizer).__name__ == "Adam" and model.optimizer.clipnorm == pytest.approx(0.5)


def test_l2_sets_a_penalty_on_every_kernel(digits_run):
    _, _, model = rerun(digits_run, Remedy("l2", {"factor": 1e-3}))
    for layer in model.layers:
        assert layer.kernel.regularizer.get_config()["l2"] == pytest.approx(1e-3)
        assert layer.get_config()["kernel_regularizer"]["config"]["l2"] == pytest.approx(1e-3)
    expected = 1e-3 * sum(float(np.sum(layer.kernel.numpy() ** 2)) for layer in model.layers)
    assert float(sum(keras.ops.convert_to_numpy(v) for v in model.losses)) == pytest.approx(expected, rel=1e-4)


def test_dropout_and_batch_norm_rebuild_the_model_around_the_same_weights(digits_run):
    run = digits_run[0]
    new, _, model = rerun(digits_run, Remedy("dropout", {"rate": 0.25}))
    assert model is not run.keras_model
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Dropout", "Dense"]
    assert model.layers[1].rate == pytest.approx(0.25)
    assert all(np.array_equal(a, b) for a, b in zip(new.initial_weights, run.initial_weights))
    new, _, model = rerun(digits_run, Remedy("batch_norm"))
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "BatchNormalization", "Dense"]
    assert new.extras["rerun"]["fresh_layers"] == ["batch_normalization"]
    assert np.array_equal(model.layers[0].get_weights()[0], run.initial_weights[0]) is False  # trained since
    assert np.array_equal(new.initial_weights[0], run.initial_weights[0])  # but started from the same kernel


def test_capacity_remedies_resize_the_hidden_layers(digits_run):
    new, _, model = rerun(digits_run, Remedy("wider_model", {"factor": 2.0}))
    assert [layer.units for layer in model.layers] == [32, 10]
    assert set(new.extras["rerun"]["fresh_layers"]) == {"hidden", "out"}  # both kernels changed shape
    _, _, model = rerun(digits_run, Remedy("smaller_model", {"factor": 0.5}))
    assert [layer.units for layer in model.layers] == [8, 10]


def test_he_init_reinitializes_hidden_kernels_and_swaps_saturating_activations(digits_run):
    run = digits_run[0]
    new, _, model = rerun(digits_run, Remedy("he_init", {"activation": "relu"}))
    hidden, out = model.layers
    assert type(hidden.kernel_initializer).__name__ == "HeNormal"
    assert hidden.activation is keras.activations.relu and out.activation is keras.activations.softmax
    start = new.initial_weights[0]
    assert not np.array_equal(start, run.initial_weights[0])  # a new start for the hidden layer, by design
    assert start.std() == pytest.approx(math.sqrt(2 / 64), rel=0.2)
    assert np.array_equal(new.initial_weights[2], run.initial_weights[2])  # the output layer kept its start
    run.restore()
    assert hidden.activation is keras.activations.tanh  # restore puts the original's activation back


def test_batch_size_and_epochs_reach_fit(digits_run):
    new, kwargs, _ = rerun(digits_run, Remedy("batch_size", {"batch_size": 100}))
    assert kwargs["batch_size"] == 100 and new.fit.steps_per_epoch == 4
    new, kwargs, _ = rerun(digits_run, Remedy("epochs", {"epochs": 3}))
    assert kwargs["epochs"] == 3 and new.epochs_done == 3


def test_data_remedies_change_copies_never_the_users_arrays(digits_run):
    run, x, y = digits_run
    user_x = run.fit_call["args"][0] if run.fit_call["args"] else run.fit_call["kwargs"]["x"]
    _, kwargs, model = rerun(digits_run, Remedy("normalize_inputs", {"method": "layer"}))
    norm = model.layers[0]
    assert type(norm).__name__ == "Normalization"
    np.testing.assert_allclose(np.asarray(norm.mean).reshape(-1), x[:400].mean(axis=0), atol=1e-5)
    _, kwargs, _ = rerun(digits_run, Remedy("normalize_inputs", {"method": "arrays"}))
    assert abs(kwargs["x"][:400].mean()) < 1e-5 and kwargs["x"] is not user_x
    _, kwargs, _ = rerun(digits_run, Remedy("stratified_split"))
    assert kwargs["validation_split"] == 0.0 and len(kwargs["validation_data"][1]) == 100
    val_share = np.bincount(kwargs["validation_data"][1], minlength=10) / 100
    assert np.abs(val_share - np.bincount(y, minlength=10) / 500).max() < 0.02  # stratified
    _, kwargs, _ = rerun(digits_run, Remedy("drop_suspect_labels", {"rows": [0, 5, 399]}))
    assert len(kwargs["y"]) == 397 and np.array_equal(kwargs["validation_data"][1], y[400:])
    assert np.array_equal(kwargs["y"][:4], y[[1, 2, 3, 4]])
    np.testing.assert_array_equal(user_x, x)  # the user's arrays are untouched by all of the above


def test_impute_and_deduplicate_work_on_copies(digits_run):
    run = digits_run[0]
    _, kwargs, _ = rerun(digits_run, Remedy("impute_inputs"))
    assert np.isfinite(kwargs["x"]).all() and kwargs["validation_data"][0].shape == (100, 64)
    _, kwargs, _ = rerun(digits_run, Remedy("deduplicate_validation"))
    assert len(kwargs["validation_data"][0]) <= 100
    with pytest.raises(RemedyError, match="Row 999 is beyond the 400 training rows"):
        run.rerun(Remedy("drop_suspect_labels", {"rows": [999]}))


def test_fix_loss_reaches_the_compiled_loss_and_the_output_layer(digits_run):
    remedy = Remedy("fix_loss", {"loss": "sparse_categorical_crossentropy", "from_logits": True,
                                 "output_activation": "linear"})  # fmt: skip
    _, _, model = rerun(digits_run, remedy)
    assert type(model.loss).__name__ == "SparseCategoricalCrossentropy" and model.loss.get_config()["from_logits"]
    assert model.layers[-1].activation is keras.activations.linear
    remedy = Remedy("fix_loss", {"loss": "sparse_categorical_crossentropy", "output_units": 12})
    new, _, model = rerun(digits_run, remedy)
    assert model.layers[-1].units == 12 and new.extras["rerun"]["fresh_layers"] == ["out"]


@pytest.mark.parametrize(
    ("loss", "fmt", "activation", "fixed_loss"),
    [
        ("mse", "continuous", "linear", "mse"),
        ("mse", "sparse", "sigmoid", "binary_crossentropy"),  # MSE on 0/1 classes: the loss is part of the fault
        ("binary_crossentropy", "sparse", "sigmoid", "binary_crossentropy"),
    ],
)
def test_softmax_on_one_unit_is_fixed_with_the_output_the_targets_need(loss, fmt, activation, fixed_loss):
    """Continuous targets whose one output unit is a softmax keep their loss and get a linear output (a sigmoid
    could not reach them); classes get a sigmoid and binary cross-entropy, whatever loss the program used."""
    run = record_run()
    ev = {"check": "softmax_on_one_unit", "loss": loss, "output_activation": "softmax", "output_units": 1,
          "label_format": fmt}  # fmt: skip
    fix = next(r for r in suggest(Finding("loss_mismatch", "t", "x.", ev, 0.9), run, None) if r.code == "fix_loss")
    assert fix.params["output_activation"] == activation and fix.params["loss"] == fixed_loss


def test_tuned_values_say_what_they_are_based_on():
    run = record_run(epochs=40)
    overfit = {r.code: r for r in suggest(finding("overfitting"), run, None)}
    assert "patience 6: about a tenth of the 40 epochs" in overfit["early_stopping"].describe()
    assert "rate 0.3" in overfit["dropout"].describe() and "Why this value" in overfit["l2"].describe()
    batch = suggest(finding("batch_size"), run, None)[0]
    assert batch.code == "batch_size" and "400 training rows / 50" in batch.describe()
    assert all(r.describe().endswith(".") for r in [*overfit.values(), batch])
