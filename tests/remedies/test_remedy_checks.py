"""The parameter checks on hand-built values: what each accepts and refuses, and the one message template."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stallmagic.remedies.checks import check_choice, check_number
from stallmagic.remedies.remedy import RemedyError


def refused(**kwargs) -> str:
    with pytest.raises(RemedyError) as info:
        check_number("early_stopping", "patience", **kwargs)
    return str(info.value)


@pytest.mark.parametrize("value", [1, 5, 5.0, 10**6])
def test_a_whole_number_passes_as_an_int(value):
    check_number("early_stopping", "patience", value, kind=int, low=1)


@pytest.mark.parametrize("value", [0, -3, 2.5, True, "5", None, float("nan"), float("inf"), np.int64(5), [5]])
def test_anything_else_is_refused_as_an_int(value):
    message = refused(value=value, kind=int, low=1)
    template = "The 'patience' parameter of the 'early_stopping' remedy must be an int >= 1. Got {!r} instead."
    assert message == template.format(value)


def test_the_message_template_for_numbers_names_every_bound():
    with pytest.raises(RemedyError) as info:
        check_number("dropout", "rate", 1.5, low=0.0, high=0.95)
    assert str(info.value) == (
        "The 'rate' parameter of the 'dropout' remedy must be a number >= 0 and <= 0.95. Got 1.5 instead."
    )
    with pytest.raises(RemedyError, match=r"must be a number > 0 and <= 1\. Got 0 instead\.$"):
        check_number("reduce_lr_on_plateau", "factor", 0, low=0.0, high=1.0, low_open=True)


@pytest.mark.parametrize(
    ("value", "bounds", "ok"),
    [
        (0.0, {"low": 0.0}, True),  # a closed lower bound includes itself
        (0.0, {"low": 0.0, "low_open": True}, False),  # an open one does not
        (1e-12, {"low": 0.0, "low_open": True}, True),
        (1.0, {"low": 0.0, "high": 1.0}, True),  # the upper bound is always included
        (1.0, {"low": 0.0, "high": 1.0, "low_open": True}, True),
        (1.0000001, {"low": 0.0, "high": 1.0}, False),
        (-1.0, {"high": 1.0}, True),  # no lower bound
        (1e300, {"low": 0.0}, True),  # no upper bound
        (np.float64(0.5), {"low": 0.0, "high": 1.0}, True),  # a numpy float64 is a float
        (np.float32(0.5), {"low": 0.0, "high": 1.0}, False),  # other numpy scalars are not stored as JSON numbers
        (-math.inf, {}, False),
        (False, {}, False),
    ],
)
def test_bounds(value, bounds, ok):
    if ok:
        check_number("dropout", "rate", value, **bounds)
    else:
        with pytest.raises(RemedyError, match=r"^The 'rate' parameter of the 'dropout' remedy must be a number"):
            check_number("dropout", "rate", value, **bounds)


def test_optional_accepts_none_and_nothing_else_changes():
    check_number("learning_rate", "factor", None, low=0.0, low_open=True, optional=True)
    with pytest.raises(RemedyError, match=r"must be a number > 0\. Got -1 instead\.$"):
        check_number("learning_rate", "factor", -1, low=0.0, low_open=True, optional=True)


def test_choices():
    check_choice("impute_inputs", "strategy", "mean", ("median", "mean"))
    check_choice("he_init", "activation", None, ("relu",), optional=True)
    with pytest.raises(RemedyError) as info:
        check_choice("impute_inputs", "strategy", "mode", ("median", "mean"))
    assert str(info.value) == (
        "The 'strategy' parameter of the 'impute_inputs' remedy must be one of 'median', 'mean'. Got 'mode' instead."
    )
    with pytest.raises(RemedyError, match="Got None instead"):
        check_choice("impute_inputs", "strategy", None, ("median", "mean"))
