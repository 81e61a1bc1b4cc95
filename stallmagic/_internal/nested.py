"""Walking the nested inputs ``fit`` accepts (dicts, lists and tuples of arrays), without Keras.

Why not ``keras.tree``: its ``flatten`` orders a dict by sorted key, where the package reports columns and outputs
in the order the user wrote them, and it descends into a list of plain numbers, which ``fit`` reads as one
column. Keras-side code that only rebuilds a structure of batches uses ``keras.tree.map_structure``; these two
walkers are for the rest, and for code that must not import Keras.

A leaf is anything that is not a structure: an array, a tensor, a DataFrame (anything with a ``shape`` is an
array even when it subclasses ``list``). ``None`` stands for "no input there" and is never handed to ``fn``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def is_structure(value: Any) -> bool:
    """Whether ``value`` is a dict, list or tuple of inputs rather than one input (an array has a ``shape``)."""
    return isinstance(value, Mapping) or (isinstance(value, (list, tuple)) and not hasattr(value, "shape"))


def map_arrays(fn: Callable[[Any], Any], data: Any, *, leaf: Callable[[Any], bool] | None = None) -> Any:
    """``data`` with ``fn`` applied to every leaf: dicts come back as dicts (keys in their order), lists and
    tuples as their own type, ``None`` as ``None``.

    Args:
        fn: Called once per leaf; its result takes the leaf's place.
        data: An input as ``fit`` takes it.
        leaf: Called on each structure before descending into it; ``True`` makes that structure one leaf (a
            caller that reads a list of plain numbers as one column says so here).
    """
    if data is None:
        return None
    if is_structure(data) and not (leaf is not None and leaf(data)):
        if isinstance(data, Mapping):
            return {k: map_arrays(fn, v, leaf=leaf) for k, v in data.items()}
        return type(data)(map_arrays(fn, v, leaf=leaf) for v in data)
    return fn(data)


def flatten(data: Any) -> list:
    """The leaves of ``data`` in the order written (dict values in key order as inserted), ``None`` left out."""
    if data is None:
        return []
    if isinstance(data, Mapping):
        return [v for vs in data.values() for v in flatten(vs)]
    if is_structure(data):
        return [v for vs in data for v in flatten(vs)]
    return [data]


def several_outputs(y: Any) -> bool:
    """Whether ``y`` holds the targets of several outputs (a dict, list or tuple of arrays), not one output's
    targets (an array, or a list of plain values)."""
    if not is_structure(y) or not y:
        return False
    first = next(iter(y.values())) if isinstance(y, Mapping) else y[0]
    return hasattr(first, "shape")


def judged_output(data: Any, name: str | None = None) -> Any:
    """The part of a per-output structure (targets, predictions, losses) that belongs to the judged output: under
    ``name`` in a dict (the first value when the dict has no such key), the first item of a list or tuple, and
    ``data`` itself when it is one output.

    Why by name: Keras orders a model's outputs by sorted key, a model called on inputs returns its dict in the order
    it was built, and users write their targets and losses in their own order; only the name is the same in all.
    Call it on a structure known to hold one entry per output (a list of plain labels is one output, not many).
    """
    if isinstance(data, Mapping):
        if name is not None and name in data:
            return data[name]
        return next(iter(data.values()), None)
    if isinstance(data, (list, tuple)) and not hasattr(data, "shape"):
        return data[0] if data else None
    return data

