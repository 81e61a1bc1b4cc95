"""Keeping a fix edits the ``fit`` call that was captured, told by the call site the capture recorded, in a real
IPython shell: not a ``StandardScaler().fit(x)`` after it, not the other fit of a cell that fits twice, and the
fit inside a helper the cell defines. The kept fix's run is a record made by hand (a rerun would train again and
is not what is tested here)."""

from __future__ import annotations

import ast

import pytest

from stallmagic.record import Run
from stallmagic.remedies import Remedy

MODEL = (
    "model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation='relu'), "
    "keras.layers.Dense(10, activation='softmax')])\n"
    "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')\n"
)


@pytest.fixture(scope="module")
def ip(digits):
    """IPython's test shell with the extension loaded, text display, and digits as ``x``, ``y``."""
    from IPython.testing.globalipapp import get_ipython

    shell = get_ipython()
    shell.run_line_magic("load_ext", "stallmagic")
    magics = shell.magics_manager.registry["StallMagics"]
    old = magics.display
    magics.display = "text"
    shell.user_ns.update(x=digits[0][:200], y=digits[1][:200])
    shell.run_cell("import keras\nfrom sklearn.preprocessing import StandardScaler")
    yield shell
    magics.display = old
    shell.run_line_magic("unload_ext", "stallmagic")


def run_cell(ip, body: str):
    """Run ``body`` under ``%%diagnose_fit``; the cell's record."""
    result = ip.run_cell(f"%%diagnose_fit --quiet\n{body}")
    assert result.success, result.error_in_exec or result.error_before_exec
    return ip.magics_manager.registry["StallMagics"].cells[-1]


def kept(cell, run: Run, remedy: Remedy) -> str:
    """The cell as ``%stall keep`` writes it for a rerun of ``run`` with ``remedy`` (the magic's line left out)."""
    child = Run(index=len(cell.runs), label="fixed", fit=run.fit)
    child.parent, child.remedy = run, remedy
    source = cell.keep_source(child).split("\n", 1)[1]
    ast.parse(source)
    return source


def test_the_fix_goes_into_the_captured_fit_not_a_later_scikit_learn_fit(ip, capsys):
    body = (
        MODEL
        + "history = model.fit(x, y, validation_split=0.2, epochs=1, verbose=0)\nscaler = StandardScaler().fit(x)\n"
    )
    cell = run_cell(ip, body)
    (run,) = cell.runs
    source = kept(cell, run, Remedy("epochs", {"epochs": 3}))
    assert "history = model.fit(x, y, validation_split=0.2, epochs=3, verbose=0)\n" in source
    assert source.endswith("scaler = StandardScaler().fit(x)\n")
    source = kept(cell, run, Remedy("early_stopping", {"patience": 2}))
    assert (
        "StandardScaler().fit(x)\n" in source
        and "model.fit(x, y, validation_split=0.2, epochs=1, verbose=0, callbacks=[" in source
    )


def test_a_model_built_in_another_cell_is_rebuilt_under_its_own_name(ip, capsys):
    ip.run_cell(MODEL)
    cell = run_cell(
        ip, "model.fit(x, y, validation_split=0.2, epochs=1, verbose=0)\nscaler = StandardScaler().fit(x)\n"
    )
    source = kept(cell, cell.runs[0], Remedy("dropout", {"rate": 0.2}))
    assert "StandardScaler() =" not in source and "\nmodel = keras.Sequential([" in source


def test_each_of_two_fits_keeps_its_own_fix_and_a_fit_in_a_helper_is_found(ip, capsys):
    body = MODEL + (
        "def train(m, epochs):\n"
        "    return m.fit(x, y, validation_split=0.2, epochs=epochs, verbose=0)\n"
        "first = model.fit(x, y, validation_split=0.2, epochs=1, verbose=0); second = train(model, 1)\n"
    )
    cell = run_cell(ip, body)
    first, second = cell.runs
    source = kept(cell, first, Remedy("batch_size", {"batch_size": 16}))
    assert "first = model.fit(x, y, validation_split=0.2, epochs=1, verbose=0, batch_size=16);" in source
    assert "    return m.fit(x, y, validation_split=0.2, epochs=epochs, verbose=0)\n" in source
    source = kept(cell, second, Remedy("batch_size", {"batch_size": 16}))
    assert "    return m.fit(x, y, validation_split=0.2, epochs=epochs, verbose=0, batch_size=16)\n" in source
    assert "first = model.fit(x, y, validation_split=0.2, epochs=1, verbose=0);" in source


def test_a_chain_of_fixes_follows_the_fit_below_the_lines_the_first_one_inserts(ip, capsys):
    body = (
        "\n\n"
        + MODEL
        + "h = model.fit(x, y, validation_split=0.2, epochs=1, verbose=0)\nscaler = StandardScaler().fit(x)\n"
    )
    cell = run_cell(ip, body)
    run = cell.runs[0]
    middle = Run(index=1, label="split", fit=run.fit)
    middle.parent, middle.remedy = run, Remedy("stratified_split")
    source = kept(cell, middle, Remedy("epochs", {"epochs": 3}))
    assert "h = model.fit(x_train, y_train, epochs=3, verbose=0, validation_data=(x_val, y_val))\n" in source
    assert source.endswith("scaler = StandardScaler().fit(x)\n")


def test_stall_keep_says_in_one_line_when_it_cannot_tell_which_fit_it_was(ip, capsys):
    cell = run_cell(ip, MODEL + "model.fit(x, y, epochs=1, verbose=0)\nmodel.fit(x, y, epochs=1, verbose=0)\n")
    child = Run(index=2, label="fixed", fit=cell.runs[0].fit)
    child.parent, child.remedy = cell.runs[0], Remedy("epochs", {"epochs": 3})
    cell.code_file = None  # as for a cell whose call sites were not recorded: nothing tells the two fits apart
    ip.magics_manager.registry["StallMagics"].kept = (cell, child)
    capsys.readouterr()
    ip.run_line_magic("stall", "keep")
    out = capsys.readouterr().out.strip()
    assert out.count("\n") == 0 and "could not be written into your cell: this cell has 2 .fit(...) calls" in out
    assert ip.rl_next_input.split("\n")[1].startswith("# stallmagic: this cell has 2 .fit(...) calls (on lines 3, 4)")
