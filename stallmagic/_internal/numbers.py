"""Every way the package writes a number, in one place: in a sentence, as a percentage, in a table cell, as
evidence, and as Python code. Pure (no Keras, no numpy needed)."""

from __future__ import annotations

import math
from typing import Any


def pct(x: float) -> str:
    """A share for a sentence: ``0.4567`` -> ``"46%"``."""
    return f"{100 * x:.0f}%"


def num(x: float | None, digits: int = 3) -> str:
    """A number for a sentence: ``digits`` significant digits, ``?`` when unknown or not finite."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "?"
    return f"{x:.{digits}g}"


def as_code(value: float) -> str:
    """A float as Python source: ``0.001``, ``1e-05``, ``0.5``, ``3.0``; 4 significant digits."""
    if value == 0:
        return "0.0"
    text = f"{value:.4g}"
    return text if ("." in text or "e" in text) else text + ".0"


def table_cell(value: Any) -> str:
    """A value for a table cell: 4 significant digits, integers with thousands separators, ``—`` for missing."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:.4g}"
    return str(value)


def evidence(value: Any) -> str:
    """A finding's evidence value: compact floats (3 decimals below 1, scientific when tiny or huge), the first
    eight items of a list."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.3g}"
        return f"{value:.4g}" if abs(value) >= 1 else f"{value:.3f}".rstrip("0").rstrip(".") or "0"
    if isinstance(value, (list, tuple)):
        shown = ", ".join(evidence(v) for v in list(value)[:8])
        return f"[{shown}{', ...' if len(value) > 8 else ''}]"
    return str(value)


def finite_or_none(value: Any) -> float | None:
    """``value`` as a float when it is a finite real number (not a bool), else ``None``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def maybe_int(key: Any) -> Any:
    """A key read back from JSON as an int where it is one (``"3"`` -> ``3``, as ``int()`` reads it); anything
    else unchanged."""
    try:
        return int(key)
    except (TypeError, ValueError):
        return key
