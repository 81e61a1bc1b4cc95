"""Checks on a remedy's parameters, all raising :class:`~stallmagic.remedies.remedy.RemedyError` with one message
template: "The 'patience' parameter of the 'early_stopping' remedy must be an int >= 1. Got 0 instead."

The user builds remedies by hand (``Remedy("dropout", {"rate": 1.5})``), so a mistake must read as one sentence
naming the remedy, the parameter, what it accepts and what it got. The bounds themselves are checked by
scikit-learn's :func:`~sklearn.utils.validation.check_scalar`; its own messages name neither the remedy nor the
parameter the way a user wrote them, so they are replaced by the template.
"""

from __future__ import annotations

import math
from typing import Any

from .remedy import RemedyError


def check_number(
    code: str,
    name: str,
    value: Any,
    *,
    kind: type = float,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    optional: bool = False,
) -> None:
    """Raise ``RemedyError`` unless ``value`` is a finite number within the bounds.

    Args:
        code: The remedy code, for the message.
        name: The parameter's name, for the message.
        value: What the remedy was given. A bool is not a number here, and numpy scalars other than ``float64``
            are refused (parameters are stored as plain JSON numbers).
        kind: ``int`` to ask for a whole number (``3`` or ``3.0``), ``float`` for any real number.
        low: The least value allowed (``None``: no lower bound).
        high: The largest value allowed, always included (``None``: no upper bound).
        low_open: Whether ``low`` itself is refused (``> low`` rather than ``>= low``).
        optional: Whether ``None`` is accepted (the spec then picks or computes the value).

    Raises:
        RemedyError: "The {name!r} parameter of the {code!r} remedy must be ... Got {value!r} instead."
    """
    if value is None and optional:
        return
    if _is_number(value, kind=kind) and _within(value, low=low, high=high, low_open=low_open):
        return
    raise RemedyError(_number_message(code, name, value, kind=kind, low=low, high=high, low_open=low_open))


def check_choice(code: str, name: str, value: Any, choices: tuple, *, optional: bool = False) -> None:
    """Raise ``RemedyError`` unless ``value`` is one of ``choices`` (or ``None`` when ``optional``)."""
    if value is None and optional:
        return
    if value not in choices:
        raise RemedyError(
            f"The {name!r} parameter of the {code!r} remedy must be one of {', '.join(map(repr, choices))}. "
            f"Got {value!r} instead."
        )


def _is_number(value: Any, *, kind: type) -> bool:
    """A plain int or float (not a bool), finite when a float, and whole when ``kind`` is ``int``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if kind is int and not float(value).is_integer():
        return False
    return not (isinstance(value, float) and not math.isfinite(value))


def _within(value: float, *, low: float | None, high: float | None, low_open: bool) -> bool:
    """Whether ``value`` lies in the bounds, as scikit-learn's ``check_scalar`` reads them.

    Imported here, not at the top: ``import stallmagic`` stays free of scikit-learn (seconds to load) until a
    remedy is first built.
    """
    from sklearn.utils.validation import check_scalar

    try:
        check_scalar(
            value,
            "value",
            (int, float),
            min_val=low,
            max_val=high,
            include_boundaries=_boundaries(low_open=low_open, has_high=high is not None),
        )
    except (TypeError, ValueError):
        return False
    return True


def _boundaries(*, low_open: bool, has_high: bool) -> str:
    """``check_scalar``'s ``include_boundaries`` for an interval whose upper bound, when there is one, is included.

    ``check_scalar`` refuses ``"right"`` without a ``max_val``; with no upper bound ``"neither"`` says the same
    (only the lower bound is compared).
    """
    if not low_open:
        return "both"
    return "right" if has_high else "neither"


def _number_message(
    code: str, name: str, value: Any, *, kind: type, low: float | None, high: float | None, low_open: bool
) -> str:
    bounds = []
    if low is not None:
        bounds.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        bounds.append(f"<= {high:g}")
    what = "an int" if kind is int else "a number"
    return (
        f"The {name!r} parameter of the {code!r} remedy must be {what} {' and '.join(bounds)}. Got {value!r} instead."
    )
