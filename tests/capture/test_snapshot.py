"""``stallmagic.capture.snapshot`` on hand-built models and fit arguments: what each record holds.

The capture tests check the same records through real fits; these pin each function on inputs chosen to reach
its branches (every validation mode, every kind of data, losses given every way Keras accepts them).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from stallmagic.capture import activations, snapshot
from stallmagic.record import DataRefs, FitRecord, LossRecord

L = keras.layers


def _fit_args(**kwargs):
    """Bound ``fit`` arguments with Keras's defaults, as the interception hands them over."""
    args = {"x": None, "y": None, "batch_size": None, "epochs": 1, "verbose": "auto", "callbacks": None,
            "validation_split": 0.0, "validation_data": None, "shuffle": True, "class_weight": None,
            "sample_weight": None, "initial_epoch": 0, "validation_freq": 1}  # fmt: skip
    args.update(kwargs)
    return args


# ---------------------------------------------------------------------- the fit call


def test_a_validation_split_is_cut_where_keras_cuts_it():
    x, y = np.zeros((10, 3)), np.zeros(10)
    record, refs = snapshot.snapshot_fit(_fit_args(x=x, y=y, validation_split=0.25, epochs=4))
    assert isinstance(record, FitRecord) and isinstance(refs, DataRefs)
    assert (record.validation, record.split_at, record.n_train, record.n_val) == ("split", 7, 7, 3)
    assert record.batch_size == 32 and record.epochs == 4 and record.data_kind == "arrays"
    assert refs.x is x and refs.y is y and refs.split_at == 7  # references, never copies


def test_validation_data_wins_over_a_split_and_is_counted():
    x, xv = np.zeros((10, 3)), np.zeros((4, 3))
    record, refs = snapshot.snapshot_fit(
        _fit_args(x=x, y=np.zeros(10), validation_data=(xv, np.zeros(4)), validation_split=0.5)
    )
    assert (record.validation, record.split_at, record.n_train, record.n_val) == ("data", None, 10, 4)
    assert record.validation_kind == "arrays" and refs.validation_data[0] is xv


def test_datasets_have_no_row_counts_and_no_default_batch_size():
    def batches():
        yield np.zeros((2, 3)), np.zeros(2)

    record, _ = snapshot.snapshot_fit(_fit_args(x=batches()))
    assert (record.data_kind, record.n_train, record.batch_size, record.validation) == ("generator", None, None, "none")


def test_class_weights_callbacks_and_odd_arguments_are_recorded_plainly():
    callbacks = keras.callbacks.CallbackList([keras.callbacks.EarlyStopping(), keras.callbacks.History()])
    record, _ = snapshot.snapshot_fit(
        _fit_args(
            x=np.zeros((6, 2)),
            class_weight={np.int64(0): 1, np.int64(1): 3},
            sample_weight=np.ones(6),
            callbacks=callbacks,
            validation_freq=[1, 3],
            initial_epoch=None,
            batch_size=8,
        )
    )
    assert record.class_weight == {0: 1.0, 1: 3.0} and all(type(k) is int for k in record.class_weight)
    assert record.callbacks == ["EarlyStopping", "History"] and record.sample_weight
    assert record.validation_freq == 1 and record.initial_epoch == 0 and record.batch_size == 8


@pytest.mark.parametrize(
    ("data", "kind"),
    [(np.zeros(3), "arrays"), ([np.zeros(3)], "arrays"), ({"a": np.zeros(3)}, "arrays"), (None, None),
     ((i for i in range(2)), "generator"), (iter([1]), "generator"), (object(), "object")],
)  # fmt: skip
def test_data_kind(data, kind):
    assert snapshot.data_kind(data) == kind


def test_data_kind_of_keras_and_tensorflow_datasets():
    tf = pytest.importorskip("tensorflow")

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 1

        def __getitem__(self, i):
            return np.zeros((2, 3)), np.zeros(2)

    assert snapshot.data_kind(Batches()) == "pydataset"
    assert snapshot.data_kind(tf.data.Dataset.from_tensor_slices(np.zeros(4))) == "tf.data"


@pytest.mark.parametrize(
    ("data", "rows"),
    [(np.zeros((5, 2)), 5), ([np.zeros((4, 2)), np.zeros((4, 1))], 4), ({"a": np.zeros((3, 2))}, 3),
     ([1, 2, 3], 3), (np.float32(1.0), None), (None, None), ({}, None), ([], None)],
)  # fmt: skip
def test_n_rows_reads_the_first_input(data, rows):
    assert snapshot.n_rows(data) == rows


# ---------------------------------------------------------------------- the loss


def test_a_loss_given_every_way_keras_takes_it():
    assert snapshot.snapshot_loss(None) == LossRecord()
    assert snapshot.snapshot_loss("mse") == LossRecord(name="mse", from_logits=False, config={})
    logits = snapshot.snapshot_loss(keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert logits.name == "sparse_categorical_crossentropy" and logits.from_logits is True
    fn = snapshot.snapshot_loss(keras.losses.binary_crossentropy)
    assert (fn.name, fn.from_logits) == ("binary_crossentropy", None)

    def MyLoss(y_true, y_pred):  # a CamelCase function name is snake-cased
        return y_pred

    assert snapshot.snapshot_loss(MyLoss).name == "my_loss"


def test_a_loss_per_output_reads_the_first_and_names_them_all():
    record = snapshot.snapshot_loss({"a": "mse", "b": keras.losses.MeanAbsoluteError()})
    assert record.name == "mse" and record.config == {"per_output": ["mse", "mean_absolute_error"]}
    assert snapshot.snapshot_loss([]) == LossRecord(config={"per_output": []})


# ---------------------------------------------------------------------- the model and its layers


def test_nested_layers_are_flattened_with_their_path():
    inner = keras.Sequential([keras.Input((8,)), L.Dense(3, name="head"), L.Softmax(name="probs")], name="inner")
    model = keras.Sequential([keras.Input((4,)), L.Dense(8, activation="relu", name="hidden"),
                              L.Dropout(0.25, name="drop"), inner])  # fmt: skip
    layers = snapshot.snapshot_layers(model)
    assert [layer.path for layer in layers] == ["hidden", "drop", "inner/head", "inner/probs"]
    hidden, drop, head, probs = layers
    assert (hidden.units, hidden.activation, hidden.params, hidden.output_shape) == (8, "relu", 40, [None, 8])
    assert hidden.kernel_initializer == "GlorotUniform" and hidden.use_bias is True and hidden.trainable
    assert (drop.rate, drop.activation, drop.params) == (0.25, None, 0)
    assert (head.activation, probs.activation) == ("linear", "softmax")


def test_a_kernel_regularizer_is_kept_as_its_config():
    model = keras.Sequential([keras.Input((2,)), L.Dense(1, kernel_regularizer=keras.regularizers.L2(0.01))])
    (layer,) = snapshot.snapshot_layers(model)
    assert layer.kernel_regularizer["class_name"] == "L2"
    assert layer.kernel_regularizer["config"]["l2"] == pytest.approx(0.01)


def test_a_compiled_functional_model():
    inputs = keras.Input((5,))
    model = keras.Model(inputs, L.Dense(3, activation="sigmoid")(L.Dense(4)(inputs)), name="net")
    model.layers[1].trainable = False
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy", metrics=["auc", "accuracy"])
    record = snapshot.snapshot_model(model)
    assert (record.name, record.class_name, record.style) == ("net", "Functional", "functional")
    assert (record.params, record.trainable_params) == (24 + 15, 15)
    assert (record.input_shape, record.output_shape) == ([None, 5], [None, 3])
    assert (record.output_activation, record.output_units) == ("sigmoid", 3)
    assert record.optimizer["class_name"] == "SGD" and record.initial_learning_rate == pytest.approx(0.1)
    assert record.loss.name == "binary_crossentropy" and record.metrics == ["auc", "accuracy"]
    assert record.backend == keras.backend.backend()


def test_an_uncompiled_subclassed_model_before_it_is_built():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = L.Dense(2)

        def call(self, x):
            return self.dense(x)

    record = snapshot.snapshot_model(Net())
    assert record.style == "subclassed" and record.params == 0 and record.trainable_params == 0
    assert record.input_shape is None and record.output_shape is None
    assert record.loss == LossRecord() and record.optimizer == {} and record.metrics == []


# ---------------------------------------------------------------------- activations and the old names


def test_layer_activation_and_activation_name():
    assert activations.layer_activation(L.ReLU()) == "relu" and activations.layer_activation(L.Dropout(0.1)) is None
    assert activations.layer_activation(L.Dense(2, activation="tanh")) == "tanh"
    assert activations.activation_name(None) is None and activations.activation_name("elu") == "elu"
    assert activations.activation_name(keras.activations.gelu) == "gelu"

