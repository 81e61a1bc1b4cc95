"""``stallmagic.diagnosis.measure``: what the Keras side hands the pure rules, checked against the model it measured,
then each part on inputs built by hand."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import stallmagic
from stallmagic.diagnosis import measure as M
from stallmagic.diagnosis.measure import measure
from stallmagic.record import DataRefs, FitRecord, LossRecord, ModelRecord, Run

L = keras.layers


def test_the_probe_reads_the_final_weights_at_the_end_and_leaves_them_in_place(digits, seed):
    x, y = digits
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32), keras.layers.Activation("relu"),
                              keras.layers.Dense(10, activation="softmax")])  # fmt: skip
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    with stallmagic.capture() as session:
        model.fit(x, y, epochs=3, validation_split=0.2, verbose=0)
    run = session.runs[-1]
    final = [w.copy() for w in model.get_weights()]
    probe = measure(run).gradients
    kernels_end = [np.linalg.norm(final[0]), np.linalg.norm(final[2])]
    kernels_start = [np.linalg.norm(run.initial_weights[0]), np.linalg.norm(run.initial_weights[2])]
    np.testing.assert_allclose(probe.weight_norms["end"], kernels_end, rtol=1e-5)
    np.testing.assert_allclose(probe.weight_norms["start"], kernels_start, rtol=1e-5)
    assert probe.dead_relu["end"] is not probe.dead_relu["start"]
    assert all(change > 0 for change in probe.weight_change)
    for before, after in zip(final, model.get_weights(), strict=True):  # the user's weights are untouched
        np.testing.assert_array_equal(before, after)


def test_a_fit_without_validation_gets_predictions_on_its_training_rows(cancer, seed):
    x, y = cancer
    model = keras.Sequential([keras.Input((30,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    with stallmagic.capture() as session:
        model.fit(x, y, epochs=2, verbose=0)
    m = measure(session.runs[-1], gradients=False)
    assert m.val_pred is None and m.train_pred is not None and len(m.train_pred) == len(m.train.y)


def _two_headed(names=("cls", "reg")):
    """A Functional model with a softmax head and a regression head on one shared hidden layer."""
    inputs = keras.Input((8,), name="x")
    hidden = L.Dense(16, activation="relu", name="shared")(inputs)
    return inputs, [L.Dense(2, activation="softmax", name=names[0])(hidden), L.Dense(1, name=names[1])(hidden)]


def _two_targets(rows=200):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 8)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64"), x[:, 1:2] * 2.0


def test_a_multi_output_model_is_probed_on_the_loss_it_trains_on(seed):
    """Issue 12, item 16: on a multi-output model the probe compared the first output's targets with every output
    and failed, and the report's notes showed Keras's internal ValueError. Now the probe differentiates the loss fit
    minimizes (every head's term), so it equals Keras's own evaluation of that batch and reaches both heads."""
    x, y_cls, y_reg = _two_targets()
    inputs, outputs = _two_headed()
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss=["sparse_categorical_crossentropy", "mse"], metrics=[["accuracy"], []])
    with stallmagic.capture() as session:
        model.fit(x, [y_cls, y_reg], epochs=2, validation_split=0.2, verbose=0)
    m = measure(session.runs[-1])
    probe = m.gradients
    assert probe is not None and not [n for n in m.notes if "gradient" in n.lower()], m.notes
    assert probe.layers == ["shared", "cls", "reg"] and all(g > 0 for g in probe.grad_norms["end"])
    rows = 160  # the probe's batch: every training row (fewer than PROBE_ROWS), in order
    total = model.evaluate(x[:rows], [y_cls[:rows], y_reg[:rows]], batch_size=rows, verbose=0, return_dict=True)
    assert probe.batch_rows == rows and probe.loss["end"] == pytest.approx(total["loss"], rel=1e-4)
    assert m.val.y.shape == (40,)  # the rest of the diagnosis still reads the first output
    report = session.runs[-1].diagnose()
    assert not [n for n in report.notes if "gradient" in n.lower()], report.notes


def test_a_multi_output_model_fed_by_dicts_and_tf_data_is_probed_too(seed):
    import tensorflow as tf

    x, y_cls, y_reg = _two_targets()
    inputs, outputs = _two_headed()
    model = keras.Model(inputs, {"cls": outputs[0], "reg": outputs[1]})
    model.compile(optimizer="adam", loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"})
    data = tf.data.Dataset.from_tensor_slices((x, {"reg": y_reg, "cls": y_cls})).batch(50)
    with stallmagic.capture() as session:
        model.fit(data, epochs=1, verbose=0)
    m = measure(session.runs[-1])
    assert m.gradients is not None and all(g > 0 for g in m.gradients.grad_norms["end"]), m.notes
    assert m.gradients.batch_rows == 200 and m.train.n_total is None  # every row of the (few) batches


class RefusesToBeProbed(keras.Model):
    """A real model whose loss cannot be computed after training (``refuse`` set): the probe must say so plainly."""

    refuse = False

    def compute_loss(self, *args, **kwargs):
        if self.refuse:
            raise ValueError("y_true and y_pred have different structures (internal detail)")
        return super().compute_loss(*args, **kwargs)


def test_a_probe_that_cannot_run_says_so_in_plain_words(seed):
    x, y_cls, _ = _two_targets()
    inputs = keras.Input((8,))
    model = RefusesToBeProbed(inputs, L.Dense(2, activation="softmax")(L.Dense(4)(inputs)))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with stallmagic.capture() as session:
        model.fit(x, y_cls, epochs=1, verbose=0)
    model.refuse = True
    before = [w.copy() for w in model.get_weights()]
    m = measure(session.runs[-1])
    assert m.gradients is None
    assert m.notes == [
        "The gradient probe could not run on this model (ValueError): gradients and dead ReLUs were not measured."
    ]
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


# ---------------------------------------------------------------------- the parts, on hand-built inputs


def test_a_run_without_its_data_is_measured_as_nothing_and_says_why():
    m = measure(Run(index=0, label="loaded"))
    assert m.train is None and m.val is None and m.gradients is None
    assert "no reference to its data" in m.notes[0]


def test_take_copies_the_rows_of_every_input_whatever_the_structure():
    import pandas as pd

    rows = np.array([0, 2])
    a = np.arange(8).reshape(4, 2)
    taken = M._take({"z": a, "b": (pd.DataFrame(a), [1, 2, 3, 4]), "none": None}, rows)
    assert list(taken) == ["z", "b", "none"] and isinstance(taken["b"], tuple) and taken["none"] is None
    np.testing.assert_array_equal(taken["z"], [[0, 1], [4, 5]])
    np.testing.assert_array_equal(taken["b"][0], [[0, 1], [4, 5]])  # a DataFrame comes back as numpy
    np.testing.assert_array_equal(taken["b"][1], [1, 3])  # a list of values is one column
    np.testing.assert_array_equal(M._take(keras.ops.convert_to_tensor(a), rows), [[0, 1], [4, 5]])


def test_flatten_numeric_joins_the_numeric_inputs_in_the_order_written():
    x = {"z": np.ones((3, 2, 2)), "text": np.array(["a", "b", "c"]), "a": np.zeros(3)}
    flat = M._flatten_numeric(x)
    assert flat.shape == (3, 5) and flat.dtype == np.float64
    np.testing.assert_array_equal(flat[:, :4], 1.0)  # "z" first, as written, not sorted
    np.testing.assert_array_equal(flat[:, 4], 0.0)
    assert M._flatten_numeric(np.array(["a", "b"])) is None
    assert M._flatten_numeric([np.zeros((2, 1)), [np.ones((2, 1))]]).shape == (2, 2)  # nested a level deeper


def test_a_sample_of_arrays_is_bounded_sorted_and_keeps_every_label():
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10) % 2
    sample, x_rows, targets = M._sample_arrays(x, y, 4, np.random.default_rng(0))
    assert len(sample.rows) == 4 and np.all(np.diff(sample.rows) > 0) and sample.n_total == 10
    np.testing.assert_array_equal(x_rows, x[sample.rows])
    np.testing.assert_array_equal(sample.y, y[sample.rows])
    np.testing.assert_array_equal(sample.y_all, y)
    assert targets is sample.y  # one output: the probe's targets are the sample's
    assert M._sample_arrays(np.zeros((0, 2)), np.zeros(0), 4, np.random.default_rng(0)) == (None, None, None)


def test_a_sample_of_batches_reads_only_the_first_batches():
    import tensorflow as tf

    x = {"a": np.arange(20.0).reshape(10, 2), "b": np.ones((10, 1))}
    data = tf.data.Dataset.from_tensor_slices((x, np.arange(10))).batch(3)
    notes: list[str] = []
    sample, struct, targets = M._sample_batches(data, "tf.data", 5, "training", notes)
    assert notes == [] and len(sample.y) == 6 and sample.n_total is None  # two batches reach 5 rows
    assert list(struct) == ["a", "b"] and isinstance(struct["a"], np.ndarray) and struct["a"].shape == (6, 2)
    assert sample.x.shape == (6, 3) and targets is sample.y


def test_a_sample_of_a_pydataset_and_what_cannot_be_sampled():
    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return np.full((4, 2), float(i)), np.full(4, i)

    notes: list[str] = []
    sample, struct, _ = M._sample_batches(Batches(), "pydataset", 100, "validation", notes)
    assert len(sample.y) == 8 and struct.shape == (8, 2) and notes == []
    assert M._sample_batches(iter([]), "generator", 10, "training", notes) == (None, None, None)
    assert "cannot be read again" in notes[-1]

    class NoTargets(Batches):
        def __getitem__(self, i):
            return np.zeros((4, 2))

    assert M._sample_batches(NoTargets(), "pydataset", 10, "training", notes) == (None, None, None)
    assert "hold no targets" in notes[-1]


def test_kernel_layers_reach_into_nested_models_but_relu_layers_stay_at_the_top():
    inner = keras.Sequential([keras.Input((4,)), L.Dense(4, activation="relu", name="inner_relu")], name="inner")
    model = keras.Sequential([keras.Input((3,)), L.Dense(4, name="first"), L.ReLU(name="relu"), inner,
                              L.Dropout(0.1), L.Dense(1, name="out")])  # fmt: skip
    model.get_layer("out").trainable = False
    assert [layer.name for layer in M._kernel_layers(model)] == ["first", "inner_relu"]
    assert [layer.name for layer in M._relu_layers(model)] == ["relu"]


def _run_with_loss(from_logits):
    model = ModelRecord(name="m", class_name="Sequential", style="sequential", loss=LossRecord(from_logits=from_logits))
    return Run(index=0, label="r", model=model, fit=FitRecord(), data=DataRefs())


def test_probabilities_apply_softmax_or_sigmoid_only_to_logits():
    logits = np.array([[0.0, np.log(3.0)]])
    np.testing.assert_allclose(M._probabilities(_run_with_loss(True), logits), [[0.25, 0.75]])
    np.testing.assert_allclose(M._probabilities(_run_with_loss(True), [np.array([[0.0]])]), [[0.5]])
    np.testing.assert_array_equal(M._probabilities(_run_with_loss(False), {"o": logits}), logits)


def test_predict_reads_the_first_output_in_chunks():
    inputs = keras.Input((2,))
    model = keras.Model(inputs, [L.Dense(3, name="first")(inputs), L.Dense(1, name="second")(inputs)])
    out = M._predict(model, np.ones((5, 2), dtype="float32"), None, batch=2)
    assert out.shape == (5, 3)


def test_dead_share_counts_units_that_never_fire():
    out = np.array([[[0.0, 1.0, 0.0]], [[0.0, 0.0, -1.0]]])  # (rows, positions, units)
    assert M._dead_share(out) == pytest.approx(2 / 3)
