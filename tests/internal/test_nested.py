"""``stallmagic._internal.nested``: the walker over ``fit``'s nested inputs, on structures built by hand (no Keras)."""

from __future__ import annotations

import numpy as np

from stallmagic._internal.nested import flatten, is_structure, map_arrays


class ArrayList(list):
    """A list that is also an array (has a ``shape``), like some array-likes: one leaf, not a structure."""

    shape = (2,)


def test_a_structure_is_a_dict_list_or_tuple_without_a_shape():
    assert is_structure({"a": 1}) and is_structure([1]) and is_structure((1,)) and is_structure([])
    assert not is_structure(np.zeros(3)) and not is_structure(ArrayList([1, 2])) and not is_structure("ab")
    assert not is_structure(None) and not is_structure(3)


def test_map_arrays_keeps_the_structure_its_types_and_the_order_of_the_keys():
    data = {"z": np.arange(3), "a": (np.arange(2), [np.arange(1)])}
    out = map_arrays(lambda a: a * 10, data)
    assert list(out) == ["z", "a"]
    assert isinstance(out["a"], tuple) and isinstance(out["a"][1], list)
    np.testing.assert_array_equal(out["z"], [0, 10, 20])
    np.testing.assert_array_equal(out["a"][1][0], [0])


def test_map_arrays_leaves_none_as_none_without_calling_fn():
    calls = []
    assert map_arrays(calls.append, None) is None
    assert map_arrays(lambda a: a + 1, [np.zeros(1), None])[1] is None
    assert calls == []


def test_map_arrays_treats_a_shaped_list_and_what_leaf_marks_as_one_leaf():
    values = ArrayList([1, 2])
    assert map_arrays(lambda a: ("leaf", a), values) == ("leaf", values)
    column = [1.0, 2.0, 3.0]
    out = map_arrays(np.asarray, {"x": column}, leaf=lambda s: isinstance(s, list) and not hasattr(s[0], "shape"))
    np.testing.assert_array_equal(out["x"], column)
    assert map_arrays(lambda v: v * 2, [1, 2]) == [2, 4]  # without ``leaf``, a list is walked into


def test_flatten_gives_the_leaves_in_the_order_written_and_drops_none():
    a, b, c = np.zeros(1), np.ones(1), np.full(1, 2.0)
    leaves = flatten({"z": a, "a": [b, None, (c,)]})
    assert len(leaves) == 3 and leaves[0] is a and leaves[1] is b and leaves[2] is c
    assert flatten(None) == [] and flatten([]) == [] and flatten("acc") == ["acc"]
    assert flatten({"o1": ["acc", None], "o2": "mae"}) == ["acc", "mae"]  # a compile config's metrics
