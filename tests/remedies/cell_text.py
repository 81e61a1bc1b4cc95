"""The Python of a notebook cell: IPython's ``%magic`` and ``!shell`` lines turned into comments, as the rewrites
set them aside, so a test can parse or compile what Python will see."""

from __future__ import annotations

import re

_IPYTHON_LINE = re.compile(r"^([ \t]*)[%!].*?(\r?)$", re.MULTILINE)


def python_of(source: str) -> str:
    """``source`` with every ``%magic`` and ``!shell`` line a comment of the same indentation (line count kept)."""
    return _IPYTHON_LINE.sub(r"\1# ipython line\2", source)
