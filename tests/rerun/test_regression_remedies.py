"""Remedies for regression: targets on a large scale, trained again on standardized targets whose inverse stays
inside the model (predictions in the targets' units). Real fits on scikit-learn's diabetes data."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import stallmagic
from stallmagic.remedies import Remedy


@pytest.fixture(scope="module")
def diabetes_large():
    from sklearn.datasets import load_diabetes

    x, y = load_diabetes(return_X_y=True)
    x = ((x - x.mean(axis=0)) / x.std(axis=0)).astype("float32")
    return x, (y * 1000.0 + 20000.0).astype("float32")  # targets around 10^5


def r2(model, x, y):
    pred = np.asarray(model.predict(x, verbose=0)).reshape(-1)
    return 1.0 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)


def fitted(x, y, *, style, loss="mse"):
    keras.utils.set_random_seed(0)
    if style == "sequential":
        model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)])
    else:
        inputs = keras.Input((10,))
        model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Dense(32, activation="relu")(inputs)))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, metrics=["mae"])
    with stallmagic.capture() as session:
        model.fit(x[:300], y[:300], validation_data=(x[300:], y[300:]), epochs=15, batch_size=32, verbose=0)
    return model, session.runs[-1]


@pytest.mark.parametrize(("style", "loss"), [("sequential", "mse"), ("functional", "mae")])
def test_scaled_targets_repair_a_regression_on_large_targets(diabetes_large, style, loss, seed):
    x, y = diabetes_large
    model, run = fitted(x, y, style=style, loss=loss)
    before = r2(model, x[300:], y[300:])
    assert before < 0  # Adam at 1e-3 cannot move outputs to 10^5 in 15 epochs

    remedy = Remedy("scale_targets")
    assert remedy.kind == "rerun" and remedy.spec.unavailable(remedy, run) is None
    new = run.rerun(remedy)
    assert new.end == "completed"
    after = r2(new.keras_model, x[300:], y[300:])  # predictions in the targets' units
    assert after > 0.3, after
    assert min(new.logs["val_mae"]) < 0.5 * min(run.logs["val_mae"])  # metrics stay in the targets' units
    assert r2(model, x[300:], y[300:]) == pytest.approx(before)  # the user's model is untouched
    code = remedy.as_code()
    compile(code, "<kept>", "exec")
    assert "Normalization(invert=True" in code


def test_scale_targets_is_disabled_where_the_output_cannot_produce_standardized_values(diabetes_large, seed):
    x, y = diabetes_large
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1, activation="relu")])  # fmt: skip
    model.compile(optimizer="adam", loss="mse")
    with stallmagic.capture() as session:
        model.fit(x[:200], y[:200], epochs=1, verbose=0)
    remedy = Remedy("scale_targets")
    assert "make the output linear first" in remedy.spec.unavailable(remedy, session.runs[-1])


def test_targets_out_of_reach_are_the_first_fix_when_inputs_are_raw_too(seed):
    # The premise of ranking unscaled targets above unscaled inputs when the predictions never reached the
    # targets' size: standardizing the inputs alone leaves the error where it was, standardizing the targets cuts it
    from scenarios import SCENARIOS, train

    run = train(SCENARIOS["unscaled_inputs_and_targets"])
    report = run.diagnose()
    assert report.findings[0].code == "unscaled_targets" and report.get("unscaled_inputs") is not None
    base = min(run.logs["val_mae"])
    inputs_only = run.rerun(Remedy("normalize_inputs"))
    targets = run.rerun(Remedy("scale_targets"))
    assert min(inputs_only.logs["val_mae"]) > 0.9 * base
    assert min(targets.logs["val_mae"]) < 0.8 * base


def test_a_bottleneck_is_widened_to_the_number_of_classes_and_the_rerun_climbs(seed):
    # Doubling every layer leaves a one-unit bottleneck two units wide for ten classes; the underfitting finding's
    # first remedy raises it to the class count, and from the same starting weights elsewhere the run climbs
    from scenarios import SCENARIOS, train

    run = train(SCENARIOS["underfitting_narrow_layer"])
    finding = run.diagnose().findings[0]
    assert finding.code == "underfitting" and finding.evidence["bottleneck"]["units"] == 1
    first = finding.remedies[0]
    assert (first.code, first.params["min_units"]) == ("wider_model", 10)
    assert "at least 10" in first.spec.describe(first)
    wider = run.rerun(first)
    assert wider.end == "completed", wider.error
    assert [layer.units for layer in wider.keras_model.layers if hasattr(layer, "units")] == [96, 10, 10]
    doubled = run.rerun(Remedy("wider_model", {"factor": 2.0}))
    assert max(wider.logs["val_accuracy"]) > max(doubled.logs["val_accuracy"]) + 0.1
    assert max(wider.logs["val_accuracy"]) > max(run.logs["val_accuracy"]) + 0.2
