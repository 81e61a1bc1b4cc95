"""Writing remedies into cells with libcst: exact edits, formatting and comments kept, snippets when the code lives
elsewhere, and rewritten cells that run."""

from __future__ import annotations

import ast
import difflib
import textwrap

import pytest

from stallmagic.remedies import Remedy
from stallmagic.remedies.source import rewrite

CTX = {
    "optimizer": "Adam",
    "learning_rate": 0.001,
    "loss": "sparse_categorical_crossentropy",
    "metrics": ["accuracy"],
    "output_activation": "softmax",
    "output_units": 10,
}

CELL = textwrap.dedent(
    """\
    %matplotlib inline
    import keras
    import numpy as np

    # a small MLP
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(64, activation="tanh"),  # hidden
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        x, y,
        validation_split=0.2,
        epochs=20,  # enough
        batch_size=32,
    )
    """
)


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """(removed, added) lines of a line diff."""
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    return [d[2:] for d in diff if d.startswith("- ")], [d[2:] for d in diff if d.startswith("+ ")]


def edit(remedy: Remedy, cell: str = CELL) -> tuple[list[str], list[str], str]:
    result = rewrite(remedy, cell)
    assert result.rewritten, result.note
    assert result.source == remedy.apply_to_source(cell)
    ast.parse(result.source.replace("%matplotlib inline", "pass"))
    removed, added = changed_lines(cell, result.source)
    return removed, added, result.source


def test_fit_arguments_are_added_in_the_calls_own_style_and_its_comments_stay():
    removed, added, source = edit(Remedy("class_weight", {"class_weight": {0: 1.0, 1: 2.5}}))
    assert removed == [] and added == ["    class_weight={0: 1.0, 1: 2.5},"]
    assert "    epochs=20,  # enough\n    batch_size=32,\n    class_weight" in source
    assert source.startswith("%matplotlib inline\n")  # IPython lines come back unchanged
    removed, added, _ = edit(Remedy("batch_size", {"batch_size": 64}))
    assert (removed, added) == (["    batch_size=32,"], ["    batch_size=64,"])
    removed, added, _ = edit(Remedy("epochs", {"epochs": 40}))
    assert (removed, added) == (["    epochs=20,  # enough"], ["    epochs=40,  # enough"])


def test_single_line_calls_stay_on_one_line():
    cell = "model.fit(x_train, y_train, epochs=5)  # go\n"
    result = rewrite(Remedy("class_weight", {"class_weight": {0: 1.0}}), cell)
    assert result.source == "model.fit(x_train, y_train, epochs=5, class_weight={0: 1.0})  # go\n"


def test_early_stopping_is_added_to_or_replaces_in_the_callbacks():
    _, added, _ = edit(Remedy("early_stopping", {"patience": 3}))
    assert added == [
        '    callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)],'
    ]
    cell = "model.fit(x, y, callbacks=[logger, keras.callbacks.EarlyStopping(patience=50)])\n"
    out = rewrite(Remedy("early_stopping", {"patience": 3}), cell).source
    assert out.count("EarlyStopping") == 1 and "[logger, keras.callbacks.EarlyStopping(monitor=" in out
    out = rewrite(Remedy("reduce_lr_on_plateau"), "model.fit(x, y, callbacks=my_callbacks)\n").source
    assert "callbacks=[*my_callbacks, keras.callbacks.ReduceLROnPlateau(" in out


def test_optimizer_changes_go_into_compile():
    _, added, _ = edit(Remedy("learning_rate", {"learning_rate": 0.01}, context=CTX))
    assert added == [
        'model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy", '
        'metrics=["accuracy"])'
    ]
    cell = "opt = keras.optimizers.SGD(0.3, momentum=0.9)\nmodel.compile(optimizer=opt, loss='mse')\n"
    out = rewrite(Remedy("learning_rate", {"learning_rate": 0.03}, context=CTX), cell).source
    assert out.splitlines()[0] == "opt = keras.optimizers.SGD(0.03, momentum=0.9)"
    out = rewrite(Remedy("gradient_clipping", context=CTX), cell).source
    assert out.splitlines()[0] == "opt = keras.optimizers.SGD(0.3, momentum=0.9, clipnorm=1.0)"
    _, added, _ = edit(Remedy("optimizer", {"optimizer": "SGD"}, context=CTX))
    assert "optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True)" in added[0]


def test_layer_remedies_edit_the_sequential_list():
    removed, added, _ = edit(Remedy("dropout", {"rate": 0.4}))
    assert removed == [] and added == ["    keras.layers.Dropout(0.4),"]
    _, added, source = edit(Remedy("batch_norm"))
    assert added == ["    keras.layers.BatchNormalization(),"]
    assert '"tanh"),  # hidden\n    keras.layers.BatchNormalization(),\n' in source
    _, added, _ = edit(Remedy("l2", {"factor": 1e-3}))
    assert added == [
        '    keras.layers.Dense(64, activation="tanh", kernel_regularizer=keras.regularizers.L2(0.001)),  # hidden',
        '    keras.layers.Dense(10, activation="softmax", kernel_regularizer=keras.regularizers.L2(0.001)),',
    ]
    _, added, _ = edit(Remedy("he_init", {"activation": "relu"}))
    assert added == [
        '    keras.layers.Dense(64, activation="relu", kernel_initializer="he_normal", bias_initializer="zeros"),'
        "  # hidden"
    ]
    _, added, _ = edit(Remedy("wider_model"))
    assert added == ['    keras.layers.Dense(128, activation="tanh"),  # hidden']
    _, added, _ = edit(Remedy("wider_model", {"factor": 1.5, "min_units": 100}))  # a bottleneck's floor
    assert added == ['    keras.layers.Dense(100, activation="tanh"),  # hidden']
    _, added, _ = edit(Remedy("fix_loss", {"loss": "sparse_categorical_crossentropy", "from_logits": True,
                                           "output_activation": "linear"}, context=CTX))  # fmt: skip
    assert '    keras.layers.Dense(10, activation="linear"),' in added
    assert any("loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)" in line for line in added)


def test_an_existing_dropout_gets_the_new_rate_instead_of_a_second_layer():
    cell = "model = keras.Sequential([keras.layers.Dense(8), keras.layers.Dropout(0.1), keras.layers.Dense(1)])\n"
    out = rewrite(Remedy("dropout", {"rate": 0.5}), cell).source
    assert (
        out == "model = keras.Sequential([keras.layers.Dense(8), keras.layers.Dropout(0.5), keras.layers.Dense(1)])\n"
    )


def test_functional_and_add_style_models_get_lines_inserted():
    cell = textwrap.dedent(
        """\
        import tensorflow as tf
        inputs = tf.keras.Input((30,))
        h = tf.keras.layers.Dense(16, activation="relu")(inputs)
        outputs = tf.keras.layers.Dense(1, activation="sigmoid")(h)
        """
    )
    out = rewrite(Remedy("dropout", {"rate": 0.3}), cell).source
    assert 'h = tf.keras.layers.Dense(16, activation="relu")(inputs)\nh = tf.keras.layers.Dropout(0.3)(h)\n' in out
    cell = "net = keras.Sequential()\nnet.add(keras.layers.Dense(16))\nnet.add(keras.layers.Dense(3))\n"
    out = rewrite(Remedy("batch_norm"), cell).source
    assert out.splitlines()[2] == "net.add(keras.layers.BatchNormalization())"


def test_data_remedies_insert_lines_before_the_fit():
    _, added, source = edit(Remedy("stratified_split", {"seed": 1}))
    assert "x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.2, stratify=y, random_state=1)" in added
    assert "validation_split" not in source and "    validation_data=(x_val, y_val)," in added
    _, added, source = edit(Remedy("drop_suspect_labels", {"rows": [3, 7]}))
    assert "keep = np.setdiff1d(np.arange(split_at), suspect)" in added
    assert "    x[keep], y[keep]," in added and "    validation_data=(x[split_at:], y[split_at:])," in added
    _, added, source = edit(Remedy("normalize_inputs"))
    assert "normalizer = keras.layers.Normalization()" in added and "    normalizer," in added
    assert "normalizer.adapt(x[: int(len(x) * (1 - 0.2))])  # mean and variance of the training rows" in added


def test_a_snippet_comes_back_when_the_code_lives_in_another_cell():
    result = rewrite(Remedy("class_weight", {"class_weight": {0: 1.0, 1: 3.0}}), "model.summary()\n")
    assert not result.rewritten and "model.fit call is not in this cell" in result.note
    assert result.source.startswith("# stallmagic: the model.fit call is not in this cell; run this before it")
    assert "class_weight = {0: 1.0, 1: 3.0}" in result.source
    result = rewrite(Remedy("l2", {"factor": 1e-4}, context=CTX), "history = model.fit(x, y, epochs=3)\n")
    assert not result.rewritten and "clone_model" in result.source
    ast.parse(result.source)
    result = rewrite(Remedy("more_data", {"learning_curve": [[100, 0.7], [200, 0.8]]}), CELL)
    assert not result.rewritten and "100 rows -> 0.700" in result.source


def test_an_unparsable_cell_gets_the_remedys_code():
    result = rewrite(Remedy("epochs", {"epochs": 9}), "model.fit(x, y,\n")
    assert not result.rewritten and "could not be parsed" in result.note and "epochs=9" in result.source


@pytest.mark.parametrize(
    "remedy",
    [
        Remedy("class_weight", {"class_weight": dict.fromkeys(range(10), 1.0)}),
        Remedy("early_stopping", {"patience": 1}),
        Remedy("learning_rate", {"learning_rate": 0.01}, context=CTX),
        Remedy("dropout"),
        Remedy("l2"),
        Remedy("he_init", {"activation": "relu"}),
        Remedy("stratified_split"),
        Remedy("drop_suspect_labels", {"rows": [1, 2]}),
        Remedy("normalize_inputs"),
    ],
    ids=lambda r: r.code,
)
def test_rewritten_cells_run(remedy, digits, seed):
    x, y = digits
    cell = CELL.replace("%matplotlib inline\n", "").replace("epochs=20", "epochs=1")
    source = remedy.apply_to_source(cell)
    namespace = {"x": x[:300], "y": y[:300]}
    exec(compile(source, "<cell>", "exec"), namespace)
    assert len(namespace["history"].history["loss"]) == 1
