"""Reading and editing libcst nodes in the style the user wrote them: a call's arguments (by position or keyword),
and the items of a call or a list, with their separators, comments and closing whitespace kept.

Every edit in :mod:`stallmagic.remedies.source` goes through these, so an added argument follows the call's own
layout (one per line, or all on one) and a comment after an item stays on its line.
"""

from __future__ import annotations

from typing import Any

import libcst as cst


def call_name(node: cst.BaseExpression) -> str | None:
    """The last name of a call's function: ``Dense`` for ``keras.layers.Dense``."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def node_code(node: cst.CSTNode) -> str:
    """The source text of ``node``, as the user wrote it."""
    return cst.Module(body=[]).code_for_node(node)


def keyword_arg(call: cst.Call, name: str) -> cst.Arg | None:
    """The ``name=...`` argument of ``call``, or ``None``."""
    return next((a for a in call.args if a.keyword is not None and a.keyword.value == name), None)


def positional_args(call: cst.Call) -> list[cst.Arg]:
    """The arguments of ``call`` given by position (``*args`` left out)."""
    return [a for a in call.args if a.keyword is None and not a.star]


def with_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    """``call`` with keyword ``name`` set to ``value``: replaced in place, or appended in the call's own style."""
    args = list(call.args)
    for i, arg in enumerate(args):
        if arg.keyword is not None and arg.keyword.value == name:
            args[i] = arg.with_changes(value=value)
            return call.with_changes(args=args)
    new = cst.Arg(
        value=value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )
    return call.with_changes(args=append_item(args, new))


def separator_alone(comma: Any) -> Any:
    """A copy of a separator without the comment or blank lines that follow it (they belong to the line above)."""
    if not isinstance(comma, cst.Comma):
        return comma
    after = comma.whitespace_after
    if isinstance(after, cst.ParenthesizedWhitespace):
        after = after.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
    return comma.with_changes(whitespace_after=after)


def append_item(items: list, new: Any) -> list:
    """Append ``new`` to call args or list elements, copying the separator and closing whitespace in use."""
    if not items:
        return [new]
    between = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    if len(items) >= 2 and isinstance(items[-2].comma, cst.Comma):
        between = separator_alone(items[-2].comma)
    last = items[-1]
    if isinstance(last.comma, cst.Comma):  # a trailing comma: it carries the whitespace before the bracket
        keep_comment = last.comma.whitespace_after
        new = new.with_changes(comma=separator_alone(last.comma))
        if isinstance(keep_comment, cst.ParenthesizedWhitespace) and isinstance(
            between.whitespace_after, cst.ParenthesizedWhitespace
        ):
            between = between.with_changes(
                whitespace_after=between.whitespace_after.with_changes(first_line=keep_comment.first_line)
            )
        last = last.with_changes(comma=between)
    else:
        tail = getattr(last, "whitespace_after_arg", None)
        if tail is not None:
            new = new.with_changes(whitespace_after_arg=tail)
            last = last.with_changes(comma=between, whitespace_after_arg=cst.SimpleWhitespace(""))
        else:
            last = last.with_changes(comma=between)
    return [*items[:-1], last, new]


def insert_item_after(items: list, index: int, new: Any) -> list:
    """Insert ``new`` after ``items[index]`` using the separator that follows it."""
    if index == len(items) - 1:
        return append_item(items, new)
    sep = items[index].comma
    comma = separator_alone(sep) if isinstance(sep, cst.Comma) else cst.Comma(cst.SimpleWhitespace(" "))
    new = new.with_changes(comma=comma)
    return [*items[: index + 1], new, *items[index + 1 :]]


def without_keyword(call: cst.Call, name: str) -> cst.Call:
    """``call`` without keyword ``name``; when it was the last argument, the new last one takes its
    separator and closing whitespace, so the call keeps its layout."""
    args = [a for a in call.args if not (a.keyword is not None and a.keyword.value == name)]
    if (
        args
        and len(args) < len(call.args)
        and call.args[-1].keyword is not None
        and call.args[-1].keyword.value == name
    ):
        last = call.args[-1]
        args[-1] = args[-1].with_changes(
            comma=last.comma, whitespace_after_arg=getattr(last, "whitespace_after_arg", args[-1].whitespace_after_arg)
        )
    return call.with_changes(args=args)


def set_argument(call: cst.Call, position: int, name: str, value: cst.BaseExpression) -> cst.Call:
    """Replace a parameter given by position (``Dense(64, "relu")``) or by keyword, or add it as a keyword."""
    positional = positional_args(call)
    if keyword_arg(call, name) is None and len(positional) > position:
        target = positional[position]
        return call.with_changes(args=[a.with_changes(value=value) if a is target else a for a in call.args])
    return with_keyword(call, name, value)


def get_argument(call: cst.Call, position: int, name: str) -> cst.BaseExpression | None:
    """The value of a parameter given by keyword or at ``position``, or ``None`` when not given."""
    kw = keyword_arg(call, name)
    if kw is not None:
        return kw.value
    positional = positional_args(call)
    return positional[position].value if len(positional) > position else None


def parse_line(code: str) -> cst.SimpleStatementLine:
    """One simple statement (a line to insert) parsed from ``code``."""
    node = cst.parse_statement(code)
    if not isinstance(node, cst.SimpleStatementLine):  # pragma: no cover - we only insert simple statements
        raise ValueError(code)
    return node
