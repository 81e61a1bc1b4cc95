"""``stallmagic._internal``: the shared helpers every layer uses, checked against the Keras they describe."""

from __future__ import annotations

import inspect
import math

import pytest

from stallmagic._internal import numbers
from stallmagic._internal.optimizers import USUAL_LR


def test_every_keras_optimizer_has_a_usual_rate():
    keras = pytest.importorskip("keras")
    wrappers = {"Optimizer", "MultiOptimizer"}
    classes = [
        name
        for name, obj in vars(keras.optimizers).items()
        if inspect.isclass(obj) and issubclass(obj, keras.optimizers.Optimizer) and name not in wrappers
    ]
    assert classes, "no optimizer classes found"
    missing = sorted(set(classes) - set(USUAL_LR))
    assert not missing, f"USUAL_LR lacks {missing}"


def test_usual_rate_is_keras_default_unless_documented():
    """Where the table departs from Keras 3's default, the module docstring names the optimizer and the reason."""
    keras = pytest.importorskip("keras")
    from stallmagic._internal import optimizers

    for name, rate in USUAL_LR.items():
        param = inspect.signature(getattr(keras.optimizers, name).__init__).parameters.get("learning_rate")
        if param is None or param.default is inspect.Parameter.empty or param.default == rate:
            continue
        assert name in optimizers.__doc__, f"{name}: {rate} vs Keras {param.default}, undocumented"


@pytest.mark.parametrize(
    ("value", "code"), [(0.001, "0.001"), (1e-5, "1e-05"), (3, "3.0"), (0, "0.0"), (0.123456, "0.1235")]
)
def test_as_code_is_a_python_float_literal(value, code):
    assert numbers.as_code(value) == code
    assert isinstance(eval(code), float)  # the point: it parses as a float


def test_sentence_numbers_and_missing_values():
    assert numbers.pct(0.4567) == "46%"
    assert numbers.num(None) == "?" and numbers.num(math.nan) == "?"
    assert numbers.num(1234.5678) == "1.23e+03"
    assert numbers.table_cell(None) == "—" and numbers.table_cell(12345) == "12,345"
    assert numbers.evidence(list(range(10))).endswith(", ...]")
    assert numbers.finite_or_none(True) is None and numbers.finite_or_none(math.inf) is None
    assert numbers.maybe_int("3") == 3 and numbers.maybe_int("x") == "x"


def test_leaf_layers_flatten_nested_models():
    keras = pytest.importorskip("keras")
    from stallmagic._internal.layers import is_nested_model, leaf_layers

    inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, name="a"), keras.layers.Dense(2, name="b")])
    outer = keras.Sequential([keras.Input((3,)), inner, keras.layers.Dense(1, name="c")])
    assert is_nested_model(inner) and not is_nested_model(inner.layers[0])
    assert [layer.name for layer in leaf_layers(outer)] == ["a", "b", "c"]


def test_quotes_of_user_objects_never_raise_and_stay_on_one_line():
    from stallmagic._internal.text import safe_repr, safe_str

    class Hostile:
        def __str__(self):
            raise RuntimeError("str")

        def __repr__(self):
            raise RuntimeError("repr")

    assert safe_repr(Hostile()) == safe_str(Hostile()) == "<Hostile object>"
    assert safe_repr("a\nb") == "'a\\nb'" and safe_str("a\n  b") == "a b"
    long = safe_repr(list(range(1000)), limit=20)
    assert len(long) == 20 and long.endswith("...")
