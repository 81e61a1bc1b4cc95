"""A cell's ``fit`` call bound to ``keras.Model.fit``'s parameters, and one parameter edited wherever the call gives it.

A rewrite that only looked for ``epochs=`` would add a second ``epochs`` to ``model.fit(x, y, 32, 2)`` (a
``SyntaxError``-free call that raises ``TypeError``) or to ``model.fit(x, y, **kw)`` when ``kw`` holds one. So the
call is first bound as Python would bind it (:data:`~stallmagic._internal.keras_names.FIT_PARAMETERS`, all
positional-or-keyword), and a parameter is then changed where it stands:

* given by keyword, by position, or as a string key of a ``**{...}`` dict literal: its value is replaced there;
* possibly inside a ``**kw`` mapping the rewrite cannot read: merged into it, ``**{**kw, "epochs": 4}``, which runs
  whatever ``kw`` holds (the key written last wins) and which a second rewrite finds as a dict key;
* possibly inside ``*args``: not written at all; :class:`FitArgumentError` says why (a keyword could repeat it);
* not given: added as a keyword in the call's own style.

Pure libcst: no Keras import.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import libcst as cst

from ..._internal.keras_names import FIT_PARAMETERS
from .nodes import append_item, node_code, with_keyword, without_keyword

#: How a parameter left at Keras's default is written back, for the parameters a rewrite takes away.
FIT_DEFAULT_CODE = {"validation_split": "0.0", "validation_data": "None", "class_weight": "None"}


class FitArgumentError(ValueError):
    """A ``fit`` call whose arguments cannot be bound or edited safely; the message says why, in one sentence."""


@dataclass(frozen=True)
class Given:
    """Where a call gives one parameter.

    Attributes:
        how: ``"position"``, ``"keyword"`` or ``"dict"`` (a string key of a ``**{...}`` literal).
        arg: The index of the argument in ``call.args``.
        element: For ``"dict"``, the index of the key in the literal's elements.
    """

    how: str
    arg: int
    element: int | None = None


@dataclass
class FitBinding:
    """A ``fit`` call's arguments bound to :data:`FIT_PARAMETERS`.

    Attributes:
        given: Parameter name -> where the call gives it explicitly.
        star_from: The index (in :data:`FIT_PARAMETERS`) of the first parameter a ``*args`` may fill; ``None``
            when the call has no ``*args``.
        mappings: Indices in ``call.args`` of the ``**`` arguments that may hold keys the rewrite cannot read
            (``**kw``, or a dict literal with ``**kw`` or a computed key inside).
    """

    given: dict[str, Given] = field(default_factory=dict)
    star_from: int | None = None
    mappings: list[int] = field(default_factory=list)

    def value(self, call: cst.Call, name: str) -> cst.BaseExpression | None:
        """The expression the call gives for ``name``, or ``None`` when it does not give it explicitly."""
        where = self.given.get(name)
        if where is None:
            return None
        arg = call.args[where.arg]
        if where.how == "dict":
            return arg.value.elements[where.element].value  # type: ignore[attr-defined]
        return arg.value

    def in_star(self, name: str) -> bool:
        """Whether ``*args`` may hold ``name`` (it is not given explicitly and its position is not before it)."""
        return name not in self.given and self.star_from is not None and FIT_PARAMETERS.index(name) >= self.star_from

    def may_hide(self, name: str) -> bool:
        """Whether ``name`` may be passed without the rewrite seeing it (in ``*args`` or a ``**`` mapping)."""
        return name not in self.given and (self.in_star(name) or bool(self.mappings))


def bind_fit(call: cst.Call) -> FitBinding:
    """Bind ``call``'s arguments to ``keras.Model.fit``'s parameters as Python would.

    Raises:
        FitArgumentError: The call cannot bind (too many positional arguments, an unknown or repeated keyword):
            it is not a Keras ``fit`` call, or it raises ``TypeError`` as written.
    """
    binding = FitBinding()
    positional = 0
    for i, arg in enumerate(call.args):
        if arg.star == "*":
            if binding.star_from is None:
                binding.star_from = positional
        elif arg.star == "**":
            _bind_mapping(binding, i, arg.value)
        elif arg.keyword is not None:
            _bind_name(binding, arg.keyword.value, Given("keyword", i))
        elif binding.star_from is None:
            if positional >= len(FIT_PARAMETERS):
                raise FitArgumentError(
                    f"The call passes more than {len(FIT_PARAMETERS)} arguments by position; keras.Model.fit takes "
                    f"{len(FIT_PARAMETERS)}."
                )
            _bind_name(binding, FIT_PARAMETERS[positional], Given("position", i))
            positional += 1
    return binding


def _bind_mapping(binding: FitBinding, index: int, value: cst.BaseExpression) -> None:
    if not isinstance(value, cst.Dict):
        binding.mappings.append(index)
        return
    opaque = False
    for j, element in enumerate(value.elements):
        key = getattr(element, "key", None)
        if isinstance(key, cst.SimpleString) and isinstance(key.evaluated_value, str):
            _bind_name(binding, key.evaluated_value, Given("dict", index, j))
        else:  # ``**kw`` inside the literal, or a key computed at run time
            opaque = True
    if opaque:
        binding.mappings.append(index)


def _bind_name(binding: FitBinding, name: str, where: Given) -> None:
    if name not in FIT_PARAMETERS:
        raise FitArgumentError(f"keras.Model.fit has no parameter {name!r}.")
    if name in binding.given:
        raise FitArgumentError(f"The call gives {name!r} twice.")
    binding.given[name] = where


def edit_problem(call: cst.Call, name: str) -> str | None:
    """Why :func:`set_fit_argument` cannot write ``name`` into ``call`` (one sentence), or ``None``."""
    try:
        binding = bind_fit(call)
    except FitArgumentError as exc:
        return str(exc)
    if binding.in_star(name):
        return (
            f"the fit call passes arguments through *{node_code(_star_arg(call).value)}, which may already hold "
            f"{name}, so adding {name}= could pass it twice"
        )
    return None


def fit_argument(call: cst.Call, name: str) -> cst.BaseExpression | None:
    """The expression ``call`` gives for parameter ``name`` (by position, keyword or dict key), or ``None``."""
    try:
        return bind_fit(call).value(call, name)
    except FitArgumentError:
        return None


def set_fit_argument(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    """``call`` with parameter ``name`` set to ``value``, wherever the call gives it (see the module docstring).

    Raises:
        FitArgumentError: The call does not bind, or ``*args`` may already hold ``name``.
    """
    problem = edit_problem(call, name)
    if problem is not None:
        raise FitArgumentError(problem)
    binding = bind_fit(call)
    where = binding.given.get(name)
    args = list(call.args)
    if where is not None:
        arg = args[where.arg]
        if where.how == "dict":
            elements = list(arg.value.elements)  # type: ignore[attr-defined]
            elements[where.element] = elements[where.element].with_changes(value=value)
            args[where.arg] = arg.with_changes(value=arg.value.with_changes(elements=elements))
        else:
            args[where.arg] = arg.with_changes(value=value)
        return call.with_changes(args=args)
    if binding.mappings:
        return _merge_into_mappings(call, binding, name, value)
    return with_keyword(call, name, value)


def unset_fit_argument(call: cst.Call, name: str) -> cst.Call:
    """``call`` without parameter ``name``: a keyword is removed; a value given by position, as a dict key, or
    possibly inside ``**kw`` is set to Keras's default (:data:`FIT_DEFAULT_CODE`), which keeps the other
    positions and ``kw`` as they are."""
    binding = bind_fit(call)
    where = binding.given.get(name)
    if where is not None and where.how == "keyword":
        return without_keyword(call, name)
    if where is None and not binding.may_hide(name):
        return call
    return set_fit_argument(call, name, cst.parse_expression(FIT_DEFAULT_CODE[name]))


def mapping_code(call: cst.Call) -> str | None:
    """One expression for what the call's ``**`` arguments may hold that the rewrite cannot read (``kw``, or
    ``{**a, **b}``), or ``None`` when there is nothing such: what ``.get("callbacks")`` reads the current value
    from. The string keys of a ``**{...}`` literal are left out (they are read as given)."""
    binding = bind_fit(call)
    codes = []
    for i in binding.mappings:
        value = call.args[i].value
        if isinstance(value, cst.Dict) and all(
            isinstance(e, cst.StarredDictElement) or isinstance(e.key, cst.SimpleString) for e in value.elements
        ):
            codes += [node_code(e.value) for e in value.elements if isinstance(e, cst.StarredDictElement)]
        else:
            codes.append(node_code(value))
    if not codes:
        return None
    return codes[0] if len(codes) == 1 else "{" + ", ".join(f"**{c}" for c in codes) + "}"


def _merge_into_mappings(call: cst.Call, binding: FitBinding, name: str, value: cst.BaseExpression) -> cst.Call:
    """Write ``name: value`` into the call's last ``**`` mapping; with several, they become one dict literal in
    the place of the last (Python refused any key the mappings shared, so merging them changes nothing)."""
    args = list(call.args)
    last = binding.mappings[-1]
    key = cst.SimpleString(json.dumps(name))
    if len(binding.mappings) == 1 and isinstance(args[last].value, cst.Dict):
        literal = args[last].value
        element = cst.DictElement(key, value, whitespace_before_colon=cst.SimpleWhitespace(""))
        elements = append_item(list(literal.elements), element)
        args[last] = args[last].with_changes(value=literal.with_changes(elements=elements))
        return call.with_changes(args=args)
    sources = ", ".join(f"**{node_code(args[i].value)}" for i in binding.mappings)
    merged = cst.parse_expression("{" + sources + f", {key.value}: {node_code(value)}" + "}")
    args[last] = args[last].with_changes(value=merged)
    return call.with_changes(args=[a for i, a in enumerate(args) if i not in binding.mappings[:-1]])


def _star_arg(call: cst.Call) -> cst.Arg:
    return next(a for a in call.args if a.star == "*")
