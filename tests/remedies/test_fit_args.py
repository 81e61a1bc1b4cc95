"""Fit arguments given by position, through ``**kw`` or ``*args``: a rewrite binds the call to ``keras.Model.fit``'s
parameters first, so it never passes a parameter twice; where it cannot know, it says why instead of guessing."""

from __future__ import annotations

import inspect

import pytest
from fit_binding import bind_fit_call, fit_calls

from stallmagic._internal.keras_names import FIT_PARAMETERS
from stallmagic.remedies import Remedy
from stallmagic.remedies.source import rewrite


def test_fit_parameters_are_keras_own_in_order():
    import keras

    params = list(inspect.signature(keras.Model.fit).parameters.values())[1:]  # after self
    assert tuple(p.name for p in params) == FIT_PARAMETERS
    assert all(p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in params)  # each may stand by position


def rewritten_call(remedy: Remedy, cell: str) -> str:
    result = rewrite(remedy, cell)
    assert result.rewritten, result.note
    (call,) = fit_calls(result.source)
    again = rewrite(remedy, result.source)
    assert again.source == result.source, "a second rewrite changed the cell again"
    return call


@pytest.mark.parametrize(
    ("remedy", "name", "value"),
    [
        (Remedy("epochs", {"epochs": 4}), "epochs", 4),
        (Remedy("batch_size", {"batch_size": 64}), "batch_size", 64),
        (Remedy("class_weight", {"class_weight": {0: 1.0, 1: 2.0}}), "class_weight", {0: 1.0, 1: 2.0}),
    ],
    ids=lambda v: v.code if isinstance(v, Remedy) else None,
)
def test_an_argument_inside_kw_is_merged_into_it_and_the_call_runs(remedy, name, value):
    call = rewritten_call(remedy, "model.fit(x, y, **kw)\n")
    assert call.startswith("model.fit(x, y, **{**kw, ")
    kw = {"epochs": 2, "batch_size": 8, "class_weight": None, "verbose": 0}  # kw holds the parameter already
    bound = bind_fit_call(call, kw=kw).arguments
    assert bound[name] == value and bound["verbose"] == 0


def test_several_mappings_become_one_so_no_key_is_passed_twice():
    call = rewritten_call(Remedy("epochs", {"epochs": 4}), "model.fit(x, y, **a, verbose=0, **b)\n")
    assert call == 'model.fit(x, y, verbose=0, **{**a, **b, "epochs": 4})'
    assert bind_fit_call(call, a={"epochs": 1}, b={"shuffle": False}).arguments["epochs"] == 4


def test_callbacks_inside_kw_are_kept_and_the_new_one_added():
    call = rewritten_call(Remedy("early_stopping", {"patience": 2}), "model.fit(x, y, **kw)\n")
    bound = bind_fit_call(call, kw={"callbacks": ["logger"], "epochs": 3}).arguments
    assert bound["callbacks"][0] == "logger" and len(bound["callbacks"]) == 2 and bound["epochs"] == 3
    bound = bind_fit_call(call, kw={}).arguments
    assert len(bound["callbacks"]) == 1


def test_arguments_given_by_position_are_edited_in_place():
    cell = "model.fit(x, y, 32, 2, 0, None, 0.2)\n"
    assert rewritten_call(Remedy("epochs", {"epochs": 4}), cell) == "model.fit(x, y, 32, 4, 0, None, 0.2)"
    assert rewritten_call(Remedy("batch_size", {"batch_size": 64}), cell) == "model.fit(x, y, 64, 2, 0, None, 0.2)"
    call = rewritten_call(Remedy("early_stopping"), cell)
    assert call.startswith("model.fit(x, y, 32, 2, 0, [keras.callbacks.EarlyStopping(") and call.endswith("], 0.2)")
    call = rewritten_call(Remedy("stratified_split"), cell)
    assert call == "model.fit(x_train, y_train, 32, 2, 0, None, 0.0, validation_data=(x_val, y_val))"
    for remedy in (Remedy("epochs", {"epochs": 4}), Remedy("early_stopping"), Remedy("stratified_split")):
        bind_fit_call(rewritten_call(remedy, cell))  # no parameter given twice


def test_arguments_that_may_be_inside_star_args_are_not_guessed():
    result = rewrite(Remedy("epochs", {"epochs": 4}), "history = model.fit(*data)\n")
    assert not result.rewritten and "*data" in result.note and "epochs" in result.note
    assert result.source.startswith("# stallmagic: the fit call passes arguments through *data")
    # a parameter placed before the *args is known: it is edited
    call = rewritten_call(Remedy("epochs", {"epochs": 4}), "model.fit(x, y, 32, 2, *rest)\n")
    assert call == "model.fit(x, y, 32, 4, *rest)"


@pytest.mark.parametrize(
    "where",
    [
        "[model.fit(x, y, validation_split=0.2, epochs=e) for e in (1, 2)]",
        "(lambda: model.fit(x, y, validation_split=0.2))()",
    ],
)
def test_data_fixes_refuse_a_fit_inside_a_comprehension_or_a_lambda(where):
    # the lines that prepare the data cannot go before a fit that has no line of its own
    result = rewrite(Remedy("stratified_split"), f"histories = {where}\n")
    assert not result.rewritten and "lambda or a comprehension" in result.note
