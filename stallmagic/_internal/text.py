"""User objects as one line of text, never raising: for the messages and notes that quote what a user passed.

A message that quotes a user's object calls its ``__str__`` or ``__repr__``, which is the user's code: it can raise,
print pages (a large array) or span lines. An error message that itself raises replaces the user's mistake with a
confusing traceback, so every quote of a user object goes through :func:`safe_repr` or :func:`safe_str`. Pure (no
Keras, no numpy needed).
"""

from __future__ import annotations

from typing import Any

#: Longest quote of a user object in a message, in characters (longer ones end with "...").
QUOTE_LIMIT = 200


def safe_repr(value: Any, *, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` on one line and at most ``limit`` characters; ``<Type object>`` when its ``repr`` raises."""
    try:
        text = repr(value)
    except Exception:
        return _unprintable(value)
    return _one_line(text, limit)


def safe_str(value: Any, *, limit: int = QUOTE_LIMIT) -> str:
    """``str(value)`` on one line and at most ``limit`` characters; ``<Type object>`` when its ``str`` raises."""
    try:
        text = str(value)
    except Exception:
        return _unprintable(value)
    return _one_line(text, limit)


def _unprintable(value: Any) -> str:
    """What a quote says when the object cannot say itself: its class name (read from the type, not the object)."""
    return f"<{type(value).__name__} object>"


def _one_line(text: str, limit: int) -> str:
    """``text`` with every run of whitespace (newlines included) made one space, cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: max(limit - 3, 0)] + "..."
