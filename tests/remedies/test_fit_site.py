"""Which ``.fit(...)`` call of a cell a fix goes into: the one the capture recorded, told from the cell's other fits
(scikit-learn's, a second Keras fit, ``super().fit`` in an override); when nothing tells, no call is edited and the
snippet's first line says why. Pure: no Keras."""

from __future__ import annotations

import ast
import textwrap

from stallmagic.remedies import Remedy
from stallmagic.remedies.source import CallPosition, FitSite, rewrite

EPOCHS = Remedy("epochs", {"epochs": 4})


def at(line: int, end_line: int, end_col: int) -> FitSite:
    return FitSite(positions=(CallPosition(line, end_line, end_col),))


def test_a_scikit_learn_fit_after_the_model_fit_is_left_alone():
    cell = "history = model.fit(x, y, epochs=3)\nscaler = StandardScaler().fit(x)\n"
    out = rewrite(EPOCHS, cell, site=at(1, 1, 35)).source
    assert out == "history = model.fit(x, y, epochs=4)\nscaler = StandardScaler().fit(x)\n"
    # nothing recorded, but the cell compiles ``model``: that is the Keras model
    compiled = "model.compile(loss='mse')\n" + cell
    assert rewrite(EPOCHS, compiled).source == compiled.replace("epochs=3", "epochs=4")


def test_a_rebuilt_model_is_assigned_to_the_models_name_not_to_the_last_receiver():
    cell = "model.fit(x, y)\nscaler = StandardScaler().fit(x)\n"
    for site in (at(1, 1, 15), None):
        result = rewrite(Remedy("dropout", {"rate": 0.2}), cell, site=site)
        ast.parse(result.source)
        assert "StandardScaler() =" not in result.source and "\nmodel = keras.Sequential(" in result.source
    result = rewrite(Remedy("dropout"), "keras.Sequential([keras.layers.Dense(3)]).fit(x, y)\n")
    ast.parse(result.source)  # a fit on a call: the rebuilt model gets a name


def test_when_nothing_tells_which_fit_no_call_is_edited_and_one_line_says_why():
    cell = "a.fit(x, y, epochs=1)\nb.fit(x, y, epochs=1)\n"
    result = rewrite(EPOCHS, cell)
    assert not result.rewritten
    assert result.note == (
        "this cell has 2 .fit(...) calls (on lines 1, 2) and nothing recorded says which one was the captured fit"
    )
    head, _ = result.source.split("\n", 1)
    assert head.startswith("# stallmagic: this cell has 2 .fit(...) calls")
    # the names bound to the captured model tell
    assert (
        rewrite(EPOCHS, cell, site=FitSite(receivers=("b",))).source == "a.fit(x, y, epochs=1)\nb.fit(x, y, epochs=4)\n"
    )


def test_a_call_that_cannot_be_keras_fit_is_not_a_candidate():
    cell = "model.fit(x, y)\nbooster = XGBClassifier().fit(x, y, eval_set=[(xv, yv)])\n"
    assert rewrite(EPOCHS, cell).source.startswith("model.fit(x, y, epochs=4)\n")


def test_the_column_tells_two_fits_on_one_line_apart_counted_in_characters():
    cell = "é = 'ü'; a.fit(x, 'ß'); b.fit(x, 'ß')\n"
    python_end = len(cell.rstrip("\n").encode("utf-8"))  # Python counts columns in UTF-8 bytes
    frames = [{"file": "<cell>", "line": 2, "col": 0, "end_line": 2, "end_col": python_end}]
    site = FitSite.from_frames(frames, file="<cell>", source=cell, first_line=2)
    assert site == at(1, 1, len(cell.rstrip("\n")))
    assert rewrite(EPOCHS, cell, site=site).source == "é = 'ü'; a.fit(x, 'ß'); b.fit(x, 'ß', epochs=4)\n"
    first = FitSite(positions=(CallPosition(1, 1, cell.index(";", 10)),))
    assert rewrite(EPOCHS, cell, site=first).source == "é = 'ü'; a.fit(x, 'ß', epochs=4); b.fit(x, 'ß')\n"


def test_the_fit_in_a_helper_or_behind_an_overridden_fit_is_found_from_its_frames():
    cell = textwrap.dedent(
        """\
        class Logged(keras.Model):
            def fit(self, *args, **kwargs):
                return super().fit(*args, **kwargs)

        def train(m):
            return m.fit(x, y, verbose=0)

        model.fit(x, y)
        train(model)
        """
    )
    inner = {"file": "<cell>", "line": 3}  # super().fit(...) in the override: the user's call is further out
    outer = {"file": "<cell>", "line": 8}
    site = FitSite.from_frames([inner, outer], file="<cell>", source=cell)
    assert "model.fit(x, y, epochs=4)\n" in rewrite(EPOCHS, cell, site=site).source
    helper = FitSite.from_frames([{"file": "<cell>", "line": 6}, {"file": "<cell>", "line": 9}], file="<cell>",
                                 source=cell)  # fmt: skip
    assert "    return m.fit(x, y, verbose=0, epochs=4)\n" in rewrite(EPOCHS, cell, site=helper).source


def test_a_fit_called_from_elsewhere_or_from_a_magic_line_is_not_edited():
    cell = "%time model.fit(x, y)\nmodel.fit(x, y)\n"
    elsewhere = FitSite.from_frames([{"file": "/lib/train.py", "line": 12}], file="<cell>", source=cell)
    result = rewrite(EPOCHS, cell, site=elsewhere)
    assert not result.rewritten and "called from code outside this cell" in result.note
    result = rewrite(EPOCHS, cell, site=FitSite(positions=(CallPosition(1),)))
    assert not result.rewritten and "line 1 of this cell, where no .fit(...) call can be edited" in result.note
    assert FitSite.from_frames([], file="<cell>", source=cell) is None  # nothing recorded (a rerun, a file)


def test_the_edited_cell_says_where_its_fit_now_stands():
    cell = "model.fit(x, y)  # train\nscaler = StandardScaler().fit(x)\n"
    first = rewrite(Remedy("drop_suspect_labels", {"rows": [1]}), cell, site=at(1, 1, 15))
    assert first.source.splitlines()[3] == "model.fit(x[keep], y[keep])  # train"  # below an import and 2 lines
    assert first.site == at(4, 4, len("model.fit(x[keep], y[keep])"))
    second = rewrite(EPOCHS, first.source, site=first.site)
    assert second.source.splitlines()[3] == "model.fit(x[keep], y[keep], epochs=4)  # train"
