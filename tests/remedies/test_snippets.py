"""Every piece of code shown to a user parses: each remedy's ``as_code``, the snippet a rewrite falls back to, and
the rewritten cell, for every registered remedy, with and without a run's context. The snippets that spell out a
``fit`` call also run on a real (tiny) model."""

from __future__ import annotations

import textwrap

import pytest
from cell_text import python_of
from remedy_examples import PARAMS, every_remedy

from stallmagic.remedies import Remedy
from stallmagic.remedies.remedy import SPECS
from stallmagic.remedies.source import rewrite

CONTEXTS = {
    "no-context": {},
    "full-context": {
        "model_var": "net",
        "optimizer": "SGD",
        "learning_rate": 0.1,
        "momentum": 0.9,
        "nesterov": True,
        "loss": "sparse_categorical_crossentropy",
        "metrics": ["accuracy"],
        "output_activation": "softmax",
        "output_units": 10,
        "validation_split": 0.25,
        "epochs": 20,
        "batch_size": 32,
        "n_train": 1000,
    },
}

CELLS = {
    "nothing-to-edit": "model.summary()\n",
    "fit-only": "history = model.fit(x, y, epochs=3)\n",
    "unparsable": "model.fit(x, y,\n",
    "whole-cell": textwrap.dedent(
        """\
        %matplotlib inline
        import keras
        model = keras.Sequential([
            keras.Input((64,)),
            keras.layers.Dense(64, activation="tanh"),  # hidden
            keras.layers.Dense(10, activation="softmax"),
        ])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        !echo training
        history = model.fit(x, y, validation_split=0.2, epochs=20, batch_size=32)
        """
    ),
}


def test_the_table_covers_every_registered_remedy():
    assert len(every_remedy({})) == len(SPECS) >= 20


@pytest.mark.parametrize("context", list(CONTEXTS), ids=str)
def test_every_remedys_code_parses(context):
    for remedy in every_remedy(CONTEXTS[context]):
        compile(remedy.as_code(), f"<{remedy.code}.as_code>", "exec")


@pytest.mark.parametrize("cell", list(CELLS), ids=str)
@pytest.mark.parametrize("context", list(CONTEXTS), ids=str)
def test_every_rewrite_parses_snippet_or_cell(cell, context):
    for remedy in every_remedy(CONTEXTS[context]):
        result = rewrite(remedy, CELLS[cell])
        where = f"<{remedy.code} on {cell}: {'cell' if result.rewritten else 'snippet'}>"
        compile(python_of(result.source), where, "exec")
        if not result.rewritten:
            assert result.source.startswith("# stallmagic: ") and result.note


def test_the_snippets_that_call_fit_run(digits, seed):
    import keras
    import numpy as np

    x, y = digits[0][:200], digits[1][:200]
    for code in ("stratified_split", "drop_suspect_labels"):
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        namespace = {"np": np, "model": model, "x": x, "y": y, "x_train": x[:150], "y_train": y[:150],
                     "x_val": x[150:], "y_val": y[150:]}  # fmt: skip
        exec(compile(Remedy(code, PARAMS.get(code, {})).as_code(), f"<{code}>", "exec"), namespace)
        assert len(model.history.history["val_loss"]) == 1
