"""The capture engine on real Keras training: what a Run records, and that the user's fit is unchanged."""

from __future__ import annotations

import json
import math
import traceback

import keras
import numpy as np
import pytest

import stallmagic
from stallmagic import capture
from stallmagic.capture import is_patched, original_fit
from stallmagic.record import Run

ORIGINAL_FIT = keras.Model.fit


def mlp(n_in=64, n_out=10, hidden=16, activation="softmax"):
    model = keras.Sequential(
        [
            keras.Input((n_in,)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dropout(0.1),
            keras.layers.Dense(n_out, activation=activation),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def functional(n_in=64, n_out=10):
    inputs = keras.Input((n_in,), name="pixels")
    h = keras.layers.Dense(16, activation="tanh", kernel_regularizer=keras.regularizers.L2(1e-3))(inputs)
    outputs = keras.layers.Dense(n_out, name="logits")(h)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["sparse_categorical_accuracy"],
    )
    return model


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(16, activation="relu")
        self.out = keras.layers.Dense(1, activation="sigmoid")

    def call(self, x):
        return self.out(self.hidden(x))


def assert_restored():
    assert keras.Model.fit is ORIGINAL_FIT
    assert not is_patched()


# ---------------------------------------------------------------- model styles and what is recorded


def test_sequential_run_records_logs_fit_model_and_data(digits, seed):
    x, y = digits
    x_before = x.copy()
    model = mlp()
    with capture() as session:
        history = model.fit(x, y, validation_split=0.25, epochs=3, batch_size=64, verbose=0)
    assert_restored()
    assert len(session.runs) == 1
    run = session.runs[0]
    assert run.end == "completed" and run.epochs_done == 3 and run.epochs == [0, 1, 2]
    # The same History object, and the logs are exactly what Keras reported.
    assert history is model.history
    assert set(run.logs) == set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    for key, values in history.history.items():
        np.testing.assert_allclose(run.logs[key], values, rtol=1e-6)
    assert len(run.epoch_times) == 3 and all(t > 0 for t in run.epoch_times)
    assert run.learning_rates == pytest.approx([0.001] * 3)
    # Fit arguments as Keras interpreted them.
    fit = run.fit
    assert (fit.batch_size, fit.epochs, fit.epochs_asked, fit.validation) == (64, 3, 3, "split")
    n = len(x)
    split_at = math.floor(n * 0.75)
    assert (fit.split_at, fit.n_train, fit.n_val) == (split_at, split_at, n - split_at)
    assert fit.steps_per_epoch == math.ceil(split_at / 64)
    assert fit.shuffle is True and fit.class_weight is None and fit.sample_weight is False
    # The model.
    m = run.model
    assert m.style == "sequential" and m.output_activation == "softmax" and m.output_units == 10
    assert m.params == model.count_params()
    assert [layer.class_name for layer in m.layers] == ["Dense", "Dropout", "Dense"]
    assert m.layers[0].units == 16 and m.layers[0].activation == "relu"
    assert m.layers[0].kernel_initializer == "GlorotUniform" and m.layers[1].rate == pytest.approx(0.1)
    assert m.loss.name == "sparse_categorical_crossentropy" and m.loss.from_logits is False
    assert m.optimizer["class_name"] == "Adam"
    assert m.optimizer["config"]["learning_rate"] == pytest.approx(0.001)
    assert "accuracy" in m.metrics
    # Data: references, not copies; the split rows are views of the user's array, which is unchanged.
    assert run.data.x is x and run.data.y is y
    x_train, _ = run.data.train()
    x_val, _ = run.data.validation()
    assert len(x_train) == split_at and len(x_val) == n - split_at
    assert np.shares_memory(x_train, x) and np.shares_memory(x_val, x)
    np.testing.assert_array_equal(x_val, x[split_at:])
    np.testing.assert_array_equal(x, x_before)


def test_initial_weights_are_the_weights_before_any_update(digits, seed):
    x, y = digits
    model = mlp()
    before = [w.copy() for w in model.get_weights()]
    with capture() as session:
        model.fit(x[:200], y[:200], epochs=1, verbose=0)
    run = session.runs[0]
    assert len(run.initial_weights) == len(before)
    for snap, w in zip(run.initial_weights, before):
        np.testing.assert_array_equal(snap, w)
    assert any(not np.array_equal(a, b) for a, b in zip(model.get_weights(), before))
    assert run.keras_model is model


def test_unbuilt_model_gets_its_weights_snapshotted_once_keras_builds_it(digits, seed):
    x, y = digits
    model = keras.Sequential([keras.layers.Dense(8, activation="relu"), keras.layers.Dense(10, "softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    assert not model.built
    with capture() as session:
        model.fit(x[:100], y[:100], epochs=1, verbose=0)
    run = session.runs[0]
    assert [w.shape for w in run.initial_weights] == [w.shape for w in model.get_weights()]
    assert run.model.params == model.count_params() > 0


def test_functional_model_with_logits_regularizer_and_validation_data(digits, seed):
    x, y = digits
    model = functional()
    with capture() as session:
        model.fit(x[:1200], y[:1200], validation_data=(x[1200:], y[1200:]), epochs=2, verbose=0)
    assert_restored()
    run = session.runs[0]
    m = run.model
    assert m.style == "functional"
    assert m.output_activation == "linear" and m.output_units == 10
    assert m.loss.name == "sparse_categorical_crossentropy" and m.loss.from_logits is True
    assert m.optimizer["class_name"] == "SGD" and m.optimizer["config"]["momentum"] == pytest.approx(0.9)
    dense = [layer for layer in m.layers if layer.class_name == "Dense"]
    assert dense[0].kernel_regularizer["class_name"] == "L2"
    assert dense[0].kernel_regularizer["config"]["l2"] == pytest.approx(1e-3)
    assert run.fit.validation == "data" and run.fit.n_val == len(x) - 1200 and run.fit.split_at is None
    assert {"val_loss", "val_sparse_categorical_accuracy"} <= set(run.logs)
    vx, _ = run.data.validation()
    assert vx.base is x or np.shares_memory(vx, x)


def test_subclassed_model_and_fit_inside_a_nested_helper(cancer, seed):
    x, y = cancer

    def train(model, **kwargs):
        def inner():
            return model.fit(x, y, **kwargs)

        return inner()

    model = Subclassed()
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    with capture() as session:
        train(model, epochs=2, batch_size=128, verbose=0)
    run = session.runs[0]
    assert run.model.style == "subclassed" and run.model.output_activation == "sigmoid"
    assert run.model.output_units == 1
    assert run.fit.validation == "none" and run.fit.steps_per_epoch == math.ceil(len(x) / 128)
    assert set(run.logs) == {"loss", "accuracy"}


def test_tf_keras_models_are_captured_too(digits, seed):
    import tensorflow as tf

    x, y = digits
    model = tf.keras.Sequential([tf.keras.Input((64,)), tf.keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=tf.keras.optimizers.RMSprop(0.01), loss="sparse_categorical_crossentropy")
    with capture() as session:
        model.fit(x[:300], y[:300], epochs=1, verbose=0)
    assert_restored()
    assert len(session.runs) == 1 and session.runs[0].model.optimizer["class_name"] == "RMSprop"


def test_two_fits_in_one_block_are_two_runs_in_order(digits, seed):
    x, y = digits
    first, second = mlp(), functional()
    with capture(label="exp") as session:
        first.fit(x[:300], y[:300], epochs=1, verbose=0)
        second.fit(x[:300], y[:300], epochs=2, verbose=0, initial_epoch=0)
    assert [r.label for r in session.runs] == ["exp", "exp #2"]
    assert [r.index for r in session.runs] == [0, 1]
    assert [r.keras_model for r in session.runs] == [first, second]
    assert [r.epochs_done for r in session.runs] == [1, 2]


def test_initial_epoch_counts_only_the_epochs_this_call_runs(digits, seed):
    x, y = digits
    model = mlp()
    with capture() as session:
        model.fit(x[:300], y[:300], epochs=5, initial_epoch=3, verbose=0)
    run = session.runs[0]
    assert run.fit.epochs_asked == 2 and run.epochs == [3, 4] and run.end == "completed"


# ---------------------------------------------------------------- data given in other forms


def test_tf_data_dataset(digits, seed):
    import tensorflow as tf

    x, y = digits
    train = tf.data.Dataset.from_tensor_slices((x[:1000], y[:1000])).batch(50)
    val = tf.data.Dataset.from_tensor_slices((x[1000:], y[1000:])).batch(100)
    model = mlp()
    with capture() as session:
        model.fit(train, validation_data=val, epochs=2, verbose=0)
    run = session.runs[0]
    assert run.fit.data_kind == "tf.data" and run.fit.validation_kind == "tf.data"
    assert run.fit.validation == "data" and run.fit.steps_per_epoch == 20
    assert run.fit.batch_size is None and run.fit.n_train is None
    assert run.data.x is train and run.data.validation() is None
    assert "val_accuracy" in run.logs


def test_pydataset_and_generator_inputs(digits, seed):
    x, y = digits

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return x[i * 50 : (i + 1) * 50], y[i * 50 : (i + 1) * 50]

    def generator():
        while True:
            for i in range(6):
                yield x[i * 50 : (i + 1) * 50], y[i * 50 : (i + 1) * 50]

    model = mlp()
    with capture() as session:
        model.fit(Batches(), epochs=1, verbose=0)
        model.fit(generator(), steps_per_epoch=6, epochs=1, verbose=0)
    kinds = [r.fit.data_kind for r in session.runs]
    assert kinds == ["pydataset", "generator"]
    assert [r.fit.steps_per_epoch for r in session.runs] == [6, 6]


def test_class_weight_sample_weight_and_callbacks_are_recorded(cancer, seed):
    x, y = cancer
    model = keras.Sequential([keras.Input((30,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    stop = keras.callbacks.EarlyStopping(patience=50)
    user_callbacks = [stop]
    with capture() as session:
        model.fit(
            x, y, epochs=1, verbose=0, class_weight={np.int64(0): 2.0, 1: 1.0}, callbacks=user_callbacks, shuffle=False
        )
        model.fit(x, y, epochs=1, verbose=0, sample_weight=np.ones(len(y)))
    first, second = session.runs
    assert first.fit.class_weight == {0: 2.0, 1: 1.0}
    assert first.fit.callbacks == ["EarlyStopping"] and first.fit.shuffle is False
    assert user_callbacks == [stop]  # the user's list is not modified
    assert second.fit.sample_weight is True and second.fit.class_weight is None


# ---------------------------------------------------------------- the user's fit behaves as before


def test_user_callbacks_run_and_see_the_same_logs(digits, seed):
    x, y = digits
    seen = []

    class Spy(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(dict(logs))
            logs["spy_metric"] = float(epoch)  # a user callback may add keys; they are recorded too

    model = mlp()
    with capture() as session:
        model.fit(x[:300], y[:300], epochs=2, verbose=0, callbacks=[Spy()])
    assert len(seen) == 2
    run = session.runs[0]
    assert run.logs["spy_metric"] == [0.0, 1.0]
    assert run.logs["loss"] == pytest.approx([s["loss"] for s in seen])


@pytest.mark.parametrize("verbose", [0, 2])
def test_verbose_is_honoured(digits, seed, capfd, verbose):
    x, y = digits
    model = mlp()
    capfd.readouterr()
    with capture():
        model.fit(x[:200], y[:200], epochs=2, verbose=verbose)
    out = capfd.readouterr().out
    assert ("Epoch 2/2" in out) == (verbose == 2)


def test_same_training_result_with_and_without_capture(digits):
    x, y = digits

    def train():
        keras.utils.set_random_seed(3)
        model = mlp()
        return model.fit(x[:400], y[:400], epochs=2, batch_size=40, verbose=0, shuffle=False).history

    bare = train()
    with capture():
        captured = train()
    for key in bare:
        np.testing.assert_allclose(captured[key], bare[key], rtol=1e-5)


# ---------------------------------------------------------------- how fits end


def test_early_stopping_is_recorded_as_early_stopped(digits, seed):
    x, y = digits

    class StopAtTwo(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    model = mlp()
    with capture() as session:
        model.fit(x[:300], y[:300], epochs=10, verbose=0, callbacks=[StopAtTwo()])
        model.fit(
            x[:300],
            y[:300],
            validation_split=0.3,
            epochs=30,
            verbose=0,
            callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=0, min_delta=10.0)],
        )
    assert [r.end for r in session.runs] == ["early_stopped", "early_stopped"]
    assert session.runs[0].epochs_done == 2 and session.runs[1].epochs_done < 30


def test_learning_rate_schedule_and_callback_changes_are_recorded(digits, seed):
    x, y = digits
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=5, decay_rate=0.5)
    model = mlp()
    model.compile(optimizer=keras.optimizers.SGD(schedule), loss="sparse_categorical_crossentropy")
    halve = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.01 / (2**epoch))
    other = mlp()
    with capture() as session:
        model.fit(x[:200], y[:200], batch_size=40, epochs=3, verbose=0)  # 5 steps per epoch
        other.fit(x[:200], y[:200], epochs=3, verbose=0, callbacks=[halve])
    scheduled, stepped = session.runs
    assert scheduled.learning_rates == pytest.approx([0.1, 0.05, 0.025], rel=1e-5)
    assert stepped.learning_rates == pytest.approx([0.01, 0.005, 0.0025], rel=1e-5)
    assert scheduled.model.optimizer["config"]["learning_rate"]["class_name"] == "ExponentialDecay"


def test_exception_from_a_user_callback_keeps_the_partial_run_and_propagates_unchanged(digits, seed):
    x, y = digits

    class Boom(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise ValueError("boom at epoch 1")

    def fit_bare():
        keras.utils.set_random_seed(0)
        mlp().fit(x[:200], y[:200], epochs=5, verbose=0, callbacks=[Boom()])

    with pytest.raises(ValueError, match="boom at epoch 1") as bare:
        fit_bare()
    with pytest.raises(ValueError, match="boom at epoch 1") as captured, capture() as session:
        fit_bare()
    assert_restored()
    run = session.runs[0]
    assert run.end == "error" and run.error.type == "ValueError" and run.error.message == "boom at epoch 1"
    assert run.epochs_done == 1  # epoch 0 recorded; epoch 1's end raised in a callback before ours ran
    # Same traceback head (this test, then the helper) and the same frame raising at the end.
    bare_frames = [f.name for f in traceback.extract_tb(bare.tb)]
    captured_frames = [f.name for f in traceback.extract_tb(captured.tb)]
    assert captured_frames[:2] == bare_frames[:2] == [bare_frames[0], "fit_bare"]
    assert captured_frames[-1] == bare_frames[-1] == "on_epoch_end"
    assert traceback.format_exception_only(captured.value) == traceback.format_exception_only(bare.value)


def test_keyboard_interrupt_mid_fit_is_recorded_as_interrupted(digits, seed):
    x, y = digits

    class CtrlC(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise KeyboardInterrupt

    model = mlp()
    with pytest.raises(KeyboardInterrupt), capture() as session:
        model.fit(x[:200], y[:200], epochs=5, verbose=0, callbacks=[CtrlC()])
    assert_restored()
    run = session.runs[0]
    assert run.end == "interrupted" and run.epochs_done == 2 and run.error.type == "KeyboardInterrupt"


def test_nan_loss_is_recorded_as_nan(digits, seed):
    x, y = digits
    target = y[:200].astype("float32")
    target[5] = np.nan
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    with capture() as session:
        model.fit(x[:200], target, epochs=3, verbose=0, callbacks=[keras.callbacks.TerminateOnNaN()])
        model.fit(x[:200], target, epochs=2, verbose=0)
    stopped, plain = session.runs
    assert stopped.end == "nan" and math.isnan(stopped.logs["loss"][-1]) and stopped.epochs_done == 1
    assert plain.end == "nan" and plain.epochs_done == 2


def test_error_before_training_starts_keeps_a_run(digits, seed):
    x, y = digits
    model = mlp(n_in=64)
    with pytest.raises(ValueError), capture() as session:
        model.fit(x[:50, :10], y[:50], epochs=1, verbose=0)  # wrong input width
    assert_restored()
    assert session.runs[0].end == "error" and session.runs[0].epochs_done == 0


# ---------------------------------------------------------------- scoping of the patch


def test_patch_is_scoped_and_nested_blocks_restore_on_the_outermost_exit(digits, seed):
    x, y = digits
    model = mlp()
    assert_restored()
    with capture() as outer:
        assert is_patched() and original_fit() is ORIGINAL_FIT
        with capture() as inner:
            model.fit(x[:100], y[:100], epochs=1, verbose=0)
        assert is_patched()
        model.fit(x[:100], y[:100], epochs=1, verbose=0)
    assert_restored()
    assert len(inner.runs) == 1 and len(outer.runs) == 2
    assert inner.runs[0] is outer.runs[0]
    model.fit(x[:100], y[:100], epochs=1, verbose=0)  # no capture open: nothing recorded
    assert len(outer.runs) == 2


def test_patch_is_restored_after_exceptions_in_the_block(digits):
    with pytest.raises(RuntimeError), capture():
        raise RuntimeError("user code failed")
    assert_restored()
    with pytest.raises(KeyboardInterrupt), capture(), capture():
        raise KeyboardInterrupt
    assert_restored()


def test_fit_reentered_on_the_same_model_is_one_run(digits, seed):
    """A subclass that overrides fit and calls super().fit goes through the wrapper once, not twice."""
    x, y = digits

    class Wrapped(keras.Sequential):
        def fit(self, *args, **kwargs):
            return super().fit(*args, **kwargs)

    model = Wrapped([keras.Input((64,)), keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    with capture() as session:
        model.fit(x[:100], y[:100], epochs=1, verbose=0)
    assert len(session.runs) == 1


# ---------------------------------------------------------------- serialisation


def test_run_round_trips_through_json(digits, seed):
    x, y = digits
    bad = x[:100].copy()
    bad[0, 0] = np.inf
    model = mlp()
    with capture() as session:
        model.fit(x[:300], y[:300], validation_split=0.2, epochs=2, verbose=0, class_weight={i: 1.0 for i in range(10)})
        model.fit(bad, y[:100], epochs=1, verbose=0)
    for run in session.runs:
        data = json.loads(json.dumps(run.to_dict(), allow_nan=False))
        again = Run.from_dict(data)
        assert again.to_dict() == data
        assert again.fit == run.fit and again.model == run.model
        assert again.keras_model is None and again.initial_weights is None
    restored = stallmagic.Session.from_dict(json.loads(json.dumps(session.to_dict())))
    assert [r.label for r in restored.runs] == [r.label for r in session.runs]
    assert math.isnan(restored.runs[1].logs["loss"][0])


def test_final_weights_and_the_users_seed_are_recorded(digits):
    x, y = digits
    keras.utils.set_random_seed(1234)
    model = mlp()
    with capture() as session:
        model.fit(x[:200], y[:200], epochs=2, verbose=0)
    run = session.runs[0]
    assert run.extras["seed"] == 1234
    for kept, now in zip(run.final_weights, model.get_weights()):
        np.testing.assert_array_equal(kept, now)
    assert any(not np.array_equal(a, b) for a, b in zip(run.final_weights, run.initial_weights))
    with capture(snapshot_weights=False) as light:
        model.fit(x[:200], y[:200], epochs=1, verbose=0)
    assert light.runs[0].initial_weights is None and light.runs[0].final_weights is None


def test_run_attrs_name_a_run_before_listeners_see_it_and_a_session_opened_twice_records_once(digits, seed):
    x, y = digits
    model = mlp()
    seen = []
    with capture() as session:
        session.listeners.append(lambda event, run: seen.append((event, run.label)))
        with capture(session=session, run_attrs={"label": "named"}):
            model.fit(x[:100], y[:100], epochs=2, verbose=0)
    assert [r.label for r in session.runs] == ["named"]
    assert seen == [("begin", "named"), ("epoch", "named"), ("epoch", "named"), ("end", "named")]
    with (
        pytest.raises(ValueError, match="run_attrs accepts 'label', 'parent' and 'remedy'"),
        capture(run_attrs={"colour": "red"}),
    ):
        pass
