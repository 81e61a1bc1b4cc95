"""Does a ``fit`` call, as written in a cell, bind to ``keras.Model.fit``'s parameters? Checked without Keras.

The call's arguments are evaluated with stand-in values (the names given, else a :class:`StandIn` that tolerates
indexing, attributes, calls and iteration) and bound to a signature built from
:data:`~stallmagic._internal.keras_names.FIT_PARAMETERS`, which ``test_fit_args.py`` checks against the installed
Keras. Binding raises ``TypeError`` exactly where Python would: a parameter given twice, too many positions, an
unknown keyword.
"""

from __future__ import annotations

import ast
import inspect
from typing import Any

from stallmagic._internal.keras_names import FIT_PARAMETERS

FIT_SIGNATURE = inspect.Signature(
    [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None) for name in FIT_PARAMETERS]
)


class StandIn:
    """A value for a name the test did not give: indexing, attributes and calls give another; it iterates empty."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __getitem__(self, key: Any) -> StandIn:
        return StandIn(f"{self.name}[...]")

    def __getattr__(self, name: str) -> StandIn:
        return StandIn(f"{self.name}.{name}")

    def __call__(self, *args: Any, **kwargs: Any) -> StandIn:
        return StandIn(f"{self.name}(...)")

    def __iter__(self) -> Any:
        return iter(())

    def __repr__(self) -> str:
        return f"<{self.name}>"


class _Names(dict):
    def __missing__(self, key: str) -> Any:
        return StandIn(key)


def bind_fit_call(call_code: str, **names: Any) -> inspect.BoundArguments:
    """Bind the ``something.fit(...)`` call ``call_code`` to ``keras.Model.fit``'s parameters.

    Args:
        call_code: The source of one call whose function is an attribute named ``fit``.
        **names: Values for the names its arguments read (``kw={"epochs": 2}``); others are stand-ins.

    Raises:
        TypeError: Where Python would, calling ``keras.Model.fit`` with these arguments.
    """
    call = ast.parse(call_code.strip(), mode="eval").body
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "fit"):
        raise ValueError(f"Not a .fit(...) call: {call_code!r}")
    call.func = ast.Name("__fit__", ast.Load())
    code = compile(ast.fix_missing_locations(ast.Expression(call)), "<fit call>", "eval")
    return eval(code, {}, _Names(names, __fit__=FIT_SIGNATURE.bind))


def fit_calls(source: str) -> list[str]:
    """The source of every ``<something>.fit(...)`` call in ``source`` (plain Python), in order."""
    tree = ast.parse(source)
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "fit"
    ]
    calls.sort(key=lambda n: (n.lineno, n.col_offset))
    return [ast.get_source_segment(source, node) for node in calls]
