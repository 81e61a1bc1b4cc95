"""The rerun engine on real Keras training: fair reruns, restore, errors, compare, and the seed's three examples.

Every test trains tiny models on scikit-learn data for a few epochs (about a second per fit on 2 CPU cores).
"""

from __future__ import annotations

import json
import warnings

import keras
import numpy as np
import pytest

import stallmagic
from stallmagic.remedies import Remedy, RemedyError
from stallmagic.rerun import RerunWarning, SweepResult, final_weights
from stallmagic.rerun.file_callbacks import run_tag


def mlp(n_in=64, n_out=10, hidden=16, *, dropout=0.2, out="softmax", optimizer="adam", loss=None):
    layers = [keras.Input((n_in,)), keras.layers.Dense(hidden, activation="relu")]
    if dropout:
        layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(n_out, activation=out))
    model = keras.Sequential(layers)
    model.compile(
        optimizer=optimizer,
        loss=loss or ("sparse_categorical_crossentropy" if n_out > 1 else "binary_crossentropy"),
        metrics=["accuracy"],
    )
    return model


@pytest.fixture()
def small_digits(digits):
    """600 shuffled digits rows (seeded), so a fit takes about a second."""
    x, y = digits
    order = np.random.default_rng(0).permutation(len(y))[:600]
    return x[order], y[order]


def captured(model, **fit_kwargs):
    with stallmagic.capture(label="orig") as session:
        model.fit(verbose=0, **fit_kwargs)
    return session.runs[-1]


def weights_equal(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


# ---------------------------------------------------------------- fairness


def test_baseline_rerun_reproduces_the_curves_from_the_same_starting_weights(small_digits, seed):
    x, y = small_digits
    model = mlp(dropout=0.3)  # dropout masks must repeat too
    run = captured(model, x=x, y=y, validation_split=0.25, epochs=3, batch_size=32)
    again = run.rerun()
    assert again.session is run.session and run.session.runs == [run, again]
    assert again.parent is run and again.remedy is None and again.end == "completed"
    # The Recorder snapshotted the rerun's weights at its start: identical to the original snapshot, and shared.
    assert again.extras["rerun"]["same_starting_weights"] is True
    assert again.initial_weights is run.initial_weights
    for key in run.logs:
        np.testing.assert_allclose(again.logs[key], run.logs[key], rtol=1e-5, atol=1e-6)
    # The user's model now holds the rerun's trained weights.
    assert weights_equal(model.get_weights(), final_weights(again))
    # A second rerun reuses the rerun's compiled function, its optimizer reset in place: the same curves again.
    optimizer = model.optimizer
    third = run.rerun()
    assert model.optimizer is optimizer and int(optimizer.iterations.numpy()) == 3 * run.fit.steps_per_epoch
    for key in run.logs:
        np.testing.assert_allclose(third.logs[key], run.logs[key], rtol=1e-5, atol=1e-6)


def test_rerun_trains_with_a_fresh_optimizer_and_fresh_user_callbacks(small_digits, seed, tmp_path):
    x, y = small_digits

    class CountEpochs(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epochs = []

        def on_epoch_end(self, epoch, logs=None):
            self.epochs.append(epoch)

    counter = CountEpochs()
    checkpoint = keras.callbacks.ModelCheckpoint(str(tmp_path / "never-written.keras"))
    model = mlp(optimizer=keras.optimizers.SGD(0.05, momentum=0.9))
    run = captured(model, x=x, y=y, validation_split=0.25, epochs=2, batch_size=50, callbacks=[counter])
    original_optimizer = model.optimizer
    steps = run.fit.steps_per_epoch
    # A checkpoint callback in the overrides writes next to its path, never to it, with a note.
    again = run.rerun(None, callbacks=[counter, checkpoint])
    assert again.end == "completed", again.error
    optimizer = model.optimizer
    assert optimizer is not original_optimizer and type(optimizer).__name__ == "SGD"
    assert int(optimizer.iterations.numpy()) == 2 * steps  # not 4 * steps: no state carried over
    assert float(optimizer.learning_rate.numpy()) == pytest.approx(0.05)
    assert float(optimizer.momentum) == pytest.approx(0.9)
    assert counter.epochs == [0, 1]  # the user's object kept its state ...
    copies = again.fit_call["kwargs"]["callbacks"]
    copy = next(cb for cb in copies if type(cb).__name__ == "CountEpochs")
    assert copy is not counter and copy.epochs == [0, 1]  # ... a fresh copy ran again
    moved = next(cb for cb in copies if type(cb).__name__ == "ModelCheckpoint")
    beside = f"never-written-{run_tag(again.label, run.label)}.keras"
    assert moved is not checkpoint and moved.filepath == str(tmp_path / beside)
    assert sorted(p.name for p in tmp_path.iterdir()) == [beside]
    assert any("ModelCheckpoint wrote to" in note for note in again.extras["rerun"]["notes"])


def test_learning_rate_recorded_at_the_start_is_the_one_reruns_start_from(small_digits, seed):
    x, y = small_digits
    model = mlp(dropout=0, optimizer=keras.optimizers.Adam(0.01))
    plateau = keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.1, patience=0, min_delta=10.0)
    run = captured(model, x=x, y=y, validation_split=0.25, epochs=3, batch_size=50, callbacks=[plateau])
    assert run.learning_rates[-1] == pytest.approx(0.001)  # the callback lowered it during the original fit
    again = run.rerun(None, epochs=1)
    assert again.learning_rates[0] == pytest.approx(0.01)


def test_restore_puts_back_any_runs_final_weights_and_the_users_optimizer(small_digits, seed):
    x, y = small_digits
    model = mlp()
    run = captured(model, x=x, y=y, validation_split=0.25, epochs=2, batch_size=50)
    original_final = model.get_weights()
    original_optimizer = model.optimizer
    lower = run.rerun(Remedy("learning_rate", {"factor": 0.1}))
    assert not weights_equal(model.get_weights(), original_final)
    run.restore()
    assert weights_equal(model.get_weights(), original_final)
    assert model.optimizer is original_optimizer
    x_val, y_val = x[450:], y[450:]
    loss = model.evaluate(x_val, y_val, verbose=0)[0]
    assert loss == pytest.approx(run.logs["val_loss"][-1], rel=1e-4)
    lower.restore()
    assert weights_equal(model.get_weights(), final_weights(lower))
    assert model.evaluate(x_val, y_val, verbose=0)[0] == pytest.approx(lower.logs["val_loss"][-1], rel=1e-4)


def test_reruns_stack_and_keep_one_copy_of_the_starting_weights(small_digits, seed):
    x, y = small_digits
    model = mlp(dropout=0)
    run = captured(model, x=x, y=y, validation_split=0.25, epochs=2, batch_size=50)
    first = run.rerun(Remedy("batch_size", {"batch_size": 25}))
    second = first.rerun(Remedy("early_stopping", {"patience": 1}))
    assert second.parent is first and second.remedy.code == "early_stopping"
    assert second.fit.batch_size == 25 and "EarlyStopping" in second.fit.callbacks  # both changes applied
    assert second.extras["rerun"]["stacked"] == ["batch_size"]
    assert first.initial_weights is run.initial_weights and second.initial_weights is run.initial_weights


def test_structural_rerun_trains_a_rebuilt_model_and_leaves_the_users_model_alone(cancer, seed):
    x, y = cancer
    inputs = keras.Input((30,))
    h = keras.layers.Dense(8, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="out")(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    run = captured(model, x=x, y=y, validation_split=0.25, epochs=2, batch_size=64)
    before = model.get_weights()
    new = run.rerun(Remedy("dropout", {"rate": 0.4}))
    assert new.end == "completed", new.error
    rebuilt = new.keras_model
    assert rebuilt is not model and weights_equal(model.get_weights(), before)
    classes = [type(layer).__name__ for layer in rebuilt.layers]
    assert classes == ["InputLayer", "Dense", "Dropout", "Dense"]
    dropout = rebuilt.layers[2]
    assert dropout.rate == pytest.approx(0.4)
    # Unchanged layers started from the original starting weights (no new weights were needed).
    assert new.extras["rerun"]["same_starting_weights"] is True
    assert set(new.extras["rerun"]["copied_layers"]) == {"hidden", "out"}


def test_subclassed_models_get_in_place_changes_and_a_clear_refusal_for_new_layers(seed):
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True)
    x = ((x - x.mean(0)) / x.std(0)).astype("float32")

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = keras.layers.Dense(8, activation="relu")
            self.out = keras.layers.Dense(3, activation="softmax")

        def call(self, inputs):
            return self.out(self.hidden(inputs))

    model = Net()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    order = np.random.default_rng(0).permutation(len(y))
    run = captured(model, x=x[order], y=y[order], validation_split=0.3, epochs=2, batch_size=16)
    with pytest.raises(RemedyError, match="subclassed model"):
        run.rerun(Remedy("batch_norm"))
    assert len(run.session.runs) == 1  # nothing recorded, nothing changed
    l2 = run.rerun(Remedy("l2", {"factor": 0.01}))
    assert l2.end == "completed"
    assert model.hidden.kernel.regularizer is not None and model.losses  # the penalty reached Keras
    run.restore()
    assert model.hidden.kernel.regularizer is None and not model.losses  # and leaves with the original's state


# ---------------------------------------------------------------- failures


def test_a_rerun_that_raises_keeps_earlier_runs_and_puts_the_model_back(small_digits, seed):
    x, y = small_digits
    model = mlp()
    run = captured(model, x=x, y=y, validation_split=0.25, epochs=2, batch_size=50)
    ok = run.rerun(Remedy("batch_size", {"batch_size": 25}))
    logs_before = json.dumps(run.to_dict()["logs"]), json.dumps(ok.to_dict()["logs"])
    weights_before = model.get_weights()

    class Boom(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise RuntimeError("disk full")

    with pytest.warns(RerunWarning, match="disk full"):
        failed = run.rerun(None, callbacks=[Boom()])
    assert failed.end == "error" and failed.error.type == "RuntimeError" and failed.parent is run
    assert run.session.runs == [run, ok, failed]
    assert (json.dumps(run.to_dict()["logs"]), json.dumps(ok.to_dict()["logs"])) == logs_before
    assert weights_equal(model.get_weights(), weights_before)
    # The session still works: the next rerun runs normally.
    assert run.rerun(None, epochs=1).end == "completed"


def test_a_rerun_that_raises_an_unprintable_exception_is_recorded_with_a_safe_description(small_digits, seed):
    """Beyond the list (issue 12): a rerun's failure was quoted with str(exc) in its warning and its ErrorRecord, so
    an exception whose __str__ raises made rerun() itself raise a RuntimeError instead of returning the error run."""
    x, y = small_digits
    run = captured(mlp(), x=x, y=y, validation_split=0.25, epochs=1, batch_size=50)

    class Unprintable(Exception):
        def __str__(self):
            raise RuntimeError("this exception cannot be printed")

    class Boom(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise Unprintable()

    with pytest.warns(RerunWarning, match=r"failed \(Unprintable: <Unprintable object>\)"):
        failed = run.rerun(None, callbacks=[Boom()])
    assert failed.end == "error" and failed.error.type == "Unprintable"
    assert failed.error.message == "<Unprintable object>" and failed.parent is run


def test_refused_remedies_raise_before_anything_changes(small_digits, seed):
    x, y = small_digits
    model = mlp()
    run = captured(model, x=x, y=y, epochs=1, batch_size=50)  # no validation data
    weights = model.get_weights()
    with pytest.raises(RemedyError, match="no validation data"):
        run.rerun(Remedy("early_stopping"))
    with pytest.raises(RemedyError, match="recommendation"):
        run.rerun(Remedy("more_data"))
    disabled = Remedy("class_weight", disabled_reason="The fit already passes sample_weight.")
    with pytest.raises(RemedyError, match="sample_weight"):
        run.rerun(disabled)
    with pytest.raises(RemedyError, match="unexpected argument 'epoch'"):
        run.rerun(None, epoch=3)
    assert run.session.runs == [run] and weights_equal(model.get_weights(), weights)


def test_a_run_without_a_snapshot_cannot_be_rerun(small_digits, seed):
    x, y = small_digits
    model = mlp()
    with stallmagic.capture(snapshot_weights=False) as session:
        model.fit(x, y, epochs=1, verbose=0)
    with pytest.raises(RemedyError, match="cannot be rerun fairly"):
        session.runs[0].rerun()


# ---------------------------------------------------------------- compare


def test_compare_lists_every_run_with_its_best_epoch_gap_and_remedy(small_digits, seed):
    x, y = small_digits
    model = mlp()
    run = captured(model, x=x, y=y, validation_split=0.25, epochs=3, batch_size=50)
    remedy = Remedy("learning_rate", {"learning_rate": 0.01})
    run.rerun(remedy)
    comparison = run.session.compare()
    assert comparison.metric == "val_accuracy" and comparison.higher_is_better
    first, second = comparison.rows
    assert first["label"] == "orig" and first["remedy"] is None and first["parent"] is None
    best = max(run.logs["val_accuracy"])
    assert first["best"] == pytest.approx(best)
    assert first["best_epoch"] == int(np.argmax(run.logs["val_accuracy"])) + 1
    assert first["final_gap"] == pytest.approx(run.logs["accuracy"][-1] - run.logs["val_accuracy"][-1])
    # The row names the remedy by its specific title, so several learning rates stay apart in one table.
    assert second["remedy"] == remedy.title and "0.01" in remedy.title and second["parent"] == "orig"
    assert second["delta"] == pytest.approx(second["best"] - first["best"])
    assert set(first) >= {"label", "remedy", "best", "best_epoch", "final_gap", "epochs", "wall_time", "end"}
    json.dumps(comparison.to_dict())
    text = str(comparison)
    assert f"orig + {remedy.title}" in text and "Best:" in text
    assert run.session.compare(metric="loss").metric == "val_loss"


# ---------------------------------------------------------------- the seed's three examples


def test_class_weights_lift_minority_recall_on_an_imbalanced_scenario(seed):
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=2000, n_features=10, n_informative=3, weights=[0.95, 0.05], class_sep=0.5, flip_y=0.0,
        random_state=1,
    )  # fmt: skip
    x = x.astype("float32")
    model = mlp(10, 1, 16, dropout=0, out="sigmoid")
    run = captured(model, x=x, y=y, validation_split=0.25, epochs=6, batch_size=64)
    report = run.diagnose(gradients=False)
    finding = report.get("class_imbalance")
    assert finding is not None
    remedy = next(r for r in finding.remedies if r.code == "class_weight")
    weights = remedy.params["class_weight"]
    assert weights[1] > 5 * weights[0]  # balanced weights from the training labels
    weighted = run.rerun(remedy)
    assert weighted.fit.class_weight == pytest.approx(weights)

    x_val, y_val = x[1500:], y[1500:]

    def minority_recall(r):
        r.restore()
        pred = (model.predict(x_val, verbose=0)[:, 0] > 0.5).astype(int)
        return float(np.mean(pred[y_val == 1] == 1))

    base, fixed = minority_recall(run), minority_recall(weighted)
    assert fixed >= base + 0.25, (base, fixed)


def test_early_stopping_restores_the_best_val_loss_epoch_on_an_overfitting_scenario(cancer, seed):
    x, y = cancer
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    x, y = x[order][:300], y[order][:300].copy()
    flip = rng.random(len(y)) < 0.15  # noisy labels: a wide network memorizes them and validation loss rises
    y[flip] = 1 - y[flip]
    model = mlp(30, 1, 128, dropout=0, out="sigmoid")
    run = captured(model, x=x, y=y, validation_split=0.3, epochs=30, batch_size=16)
    assert run.logs["val_loss"][-1] > 1.1 * min(run.logs["val_loss"])  # the scenario overfits
    finding = run.diagnose(gradients=False).get("overfitting")
    assert finding is not None and finding.remedies[0].code == "early_stopping"
    stopped = run.rerun(finding.remedies[0])
    assert stopped.end == "early_stopped" and stopped.epochs_done < 30
    x_val, y_val = x[210:], y[210:]
    val_loss_kept = model.evaluate(x_val, y_val, verbose=0)[0]
    # The weights kept are those of the best epoch, not the last one ...
    assert val_loss_kept == pytest.approx(min(stopped.logs["val_loss"]), rel=1e-4)
    assert val_loss_kept < 0.95 * run.logs["val_loss"][-1]
    # ... and, from the same start, that best epoch is the original run's best epoch.
    np.testing.assert_allclose(stopped.logs["val_loss"], run.logs["val_loss"][: stopped.epochs_done], rtol=1e-5)
    assert int(np.argmin(stopped.logs["val_loss"])) == int(np.argmin(run.logs["val_loss"]))


def test_sweep_over_optimizers_finds_adam_beats_plain_sgd_with_cross_validation(small_digits, seed):
    x, y = small_digits
    model = mlp(dropout=0, optimizer=keras.optimizers.SGD(0.01))
    run = captured(model, x=x, y=y, validation_split=0.25, epochs=3, batch_size=32)
    before = model.get_weights()
    seen = []
    result = stallmagic.sweep(
        run,
        {"optimizer": ["sgd", "adam"], "epochs": [8]},
        cv=3,
        progress=lambda done, total, row: seen.append((done, total, row)),
    )
    assert [s[:2] for s in seen] == [(1, 2), (2, 2)]
    assert result.cv.startswith("3-fold stratified CV on the 450 training rows")
    assert result.best_params == {"optimizer": "adam", "epochs": 8}
    adam = next(r for r in result.rows if r["params"]["optimizer"] == "adam")
    sgd = next(r for r in result.rows if r["params"]["optimizer"] == "sgd")
    assert len(adam["scores"]) == 3 and adam["mean"] > sgd["mean"] + 0.1
    assert adam["std"] == pytest.approx(np.std(adam["scores"]))
    assert weights_equal(model.get_weights(), before)  # the sweep leaves the model as it found it
    assert run.session.runs == [run]  # and keeps its runs out of the user's session
    json.dumps(result.to_dict())
    assert "Best: optimizer=adam, epochs=8" in str(result)


def test_a_stopped_sweep_keeps_its_finished_configurations(small_digits, seed):
    x, y = small_digits
    model = mlp(dropout=0)
    run = captured(model, x=x, y=y, validation_split=0.25, epochs=1, batch_size=50)
    result = SweepResult.prepare(run, {"learning_rate": [1e-3, 1e-2, 1e-1]})
    result.run(progress=lambda done, total, row: result.stop())
    assert result.stopped and len(result.rows) == 1 and result.total == 3
    assert result.rows[0]["params"] == {"learning_rate": 1e-3}

    class Interrupt(keras.callbacks.Callback):
        calls = 0

        def on_epoch_end(self, epoch, logs=None):
            Interrupt.calls += 1
            if Interrupt.calls == 2:
                raise KeyboardInterrupt

    interrupted = stallmagic.sweep(run, {"learning_rate": [1e-3, 1e-2, 1e-1], "callbacks": [[Interrupt()]]})
    assert interrupted.stopped and len(interrupted.rows) == 1


def test_sweep_checks_its_grid_before_training(small_digits, seed):
    x, y = small_digits
    run = captured(mlp(), x=x, y=y, validation_split=0.25, epochs=1, batch_size=50)
    with pytest.raises(RemedyError, match="non-empty list"):
        stallmagic.sweep(run, {"optimizer": "adam"})
    with pytest.raises(RemedyError, match="Unknown optimizer 'adamm'"):
        stallmagic.sweep(run, {"optimizer": ["adam", "adamm"]})
    with pytest.raises(RemedyError, match="int >= 2"):
        stallmagic.sweep(run, {"optimizer": ["adam"]}, cv=1)
    assert len(run.session.runs) == 1


def test_rerun_warns_nothing_on_success(small_digits, seed):
    x, y = small_digits
    run = captured(mlp(), x=x, y=y, validation_split=0.25, epochs=1, batch_size=50)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RerunWarning)
        assert run.rerun(None).end == "completed"
